//! Run-time values: what the constant pool holds and what the VM computes with.
//!
//! Values are plain serde data so that a whole session can be persisted and resumed.

use crate::types::Channel;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    None,
    Bool(bool),
    Number(f64),
    Text(Arc<str>),
    /// Milliseconds.
    Duration(i64),
    /// Minutes after midnight.
    Time(u32),
    Date(jiff::civil::Date),
    DateTime(jiff::Timestamp),
    Money(Money),
    /// E.164, `+` and digits.
    Phone(Arc<str>),
    /// Lower-cased address.
    Email(Arc<str>),
    Channel(Channel),
    /// An agent's id.
    Agent(Arc<str>),
    /// An enum variant's name.
    Enum(Arc<str>),
    Record(Arc<Record>),
    List(Arc<[Value]>),
}

/// A record: its fields in declaration order, so the compiler resolves a field to an index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub type_name: Arc<str>,
    pub fields: Vec<(Arc<str>, Value)>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }
}

/// An amount of money in minor units (pence, cents) of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// An ISO 4217 code, three ASCII capitals.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Currency(pub [u8; 3]);

impl Currency {
    pub const GBP: Currency = Currency(*b"GBP");
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(code: &str) -> Option<Currency> {
        let bytes = code.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase) {
            Some(Currency([bytes[0], bytes[1], bytes[2]]))
        } else {
            None
        }
    }

    pub fn from_symbol(symbol: char) -> Option<Currency> {
        match symbol {
            '£' => Some(Currency::GBP),
            '$' => Some(Currency::USD),
            '€' => Some(Currency::EUR),
            _ => None,
        }
    }

    pub fn symbol(self) -> Option<char> {
        match &self.0 {
            b"GBP" => Some('£'),
            b"USD" => Some('$'),
            b"EUR" => Some('€'),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let (units, cents) = (abs / 100, abs % 100);
        match self.currency.symbol() {
            Some(symbol) if cents == 0 => write!(f, "{sign}{symbol}{units}"),
            Some(symbol) => write!(f, "{sign}{symbol}{units}.{cents:02}"),
            None => write!(f, "{sign}{units}.{cents:02} {}", self.currency.as_str()),
        }
    }
}

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The text form a customer reads or hears: what `{…}` interpolation prints.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

/// Formats a number the way a person writes it: `3`, `3.5`, never `3.0`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Formats a duration as the language writes it: `90s` → `1m 30s`.
pub fn format_duration(millis: i64) -> String {
    if millis == 0 {
        return "0s".to_string();
    }
    let sign = if millis < 0 { "-" } else { "" };
    let mut rest = millis.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400_000u64), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    format!("{sign}{}", parts.join(" "))
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Bool(true) => f.write_str("yes"),
            Value::Bool(false) => f.write_str("no"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::Text(s) | Value::Phone(s) | Value::Email(s) | Value::Agent(s) | Value::Enum(s) => f.write_str(s),
            Value::Duration(ms) => f.write_str(&format_duration(*ms)),
            Value::Time(m) => write!(f, "{:02}:{:02}", m / 60, m % 60),
            Value::Date(d) => write!(f, "{d}"),
            Value::DateTime(t) => write!(f, "{t}"),
            Value::Money(m) => write!(f, "{m}"),
            Value::Channel(c) => write!(f, "{c}"),
            Value::Record(r) => {
                f.write_str("{ ")?;
                for (i, (name, value)) in r.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {value}")?;
                }
                f.write_str(" }")
            }
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}
