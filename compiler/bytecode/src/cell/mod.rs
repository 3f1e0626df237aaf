//! The one reader of data cells: how the text of a CSV cell (or of a database column) becomes
//! a typed value. `switchboard check` and the runtime's sources both read cells here, so a
//! file that checks is a file that loads, and the same cell gets the same message from both.
//!
//! Every cell is trimmed first. What each type accepts:
//!
//! | type | cell |
//! | --- | --- |
//! | `text`, `agent` | anything (an agent is its id) |
//! | `number` | `42`, `-3.5`, `1e3`; not `NaN` or infinity |
//! | `bool` | `true`/`false`, `yes`/`no`, `1`/`0`, any case |
//! | `money` | `250`, `250.00`, `1,250.50`, `£250`, `-£5`, `250 GBP`, `GBP 250`: the project's currency, two decimals at most |
//! | `phone` | international form, normalized to E.164 (`+44 7700 900001`, `0044…`) |
//! | `email` | an address, lower-cased |
//! | `date` | `YYYY-MM-DD` |
//! | `time` | `HH:MM` or `H:MM`, 24-hour |
//! | `datetime` | RFC 3339 with an offset, `2026-01-05T12:00:00Z` |
//! | `duration` | `500ms`, `30s`, `5m`, `2h`, `1d`, or several: `1h 30m` |
//! | `channel` | `voice`, `chat`, `email`, `sms`, `social`, any case |
//! | enum | a declared variant, any case (`Gold` reads as `gold`) |
//! | `[T]` | items separated by `;` (`billing; support`), each read as a `T` |
//!
//! **An empty cell** (nothing, or only spaces) means, by the field's type:
//!
//! - `T?` (any optional field): none;
//! - `text`: the empty text, because spreadsheets export a blank cell that way;
//! - `[T]`: the empty list (a list with no items is written as nothing);
//! - every other type (`number`, `bool`, `money`, `phone`, `email`, `date`, `time`,
//!   `datetime`, `duration`, `channel`, `agent`, enums): an error, reported with the row and
//!   the column, because no value of the type is written as nothing.
//!
//! An item of a list may not be empty (`a;;b` is an error). Money assumes two decimal places
//! of minor units, as [`Money`]'s own formatting does.
//!
//! [`rows`] matches a file's columns to a record's fields and reads whole rows and CSV files.

pub mod rows;
#[cfg(test)]
mod tests;

use crate::normalize;
use crate::types::{Channel, Type};
use crate::value::{Currency, Money, Value};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use rows::{read_csv, ReadError, Refused, RowReader};

/// A record type as a data file sees it: its fields in declaration order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordSchema {
    pub name: String,
    pub fields: Vec<FieldSchema>,
}

/// One field of a record type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSchema {
    pub name: String,
    pub ty: Type,
    /// The declared variants when the field's type is an enum (or an optional or list of
    /// one); `None` otherwise.
    pub enum_variants: Option<Vec<String>>,
}

impl RecordSchema {
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Checks that rows of this schema can be read from cells: field names are distinct,
    /// every field's type is one a cell can hold, and every enum field knows its variants.
    pub fn check(&self) -> Result<(), String> {
        for (i, field) in self.fields.iter().enumerate() {
            if self.fields[..i].iter().any(|f| f.name == field.name) {
                return Err(format!("`{}` has two fields named `{}`", self.name, field.name));
            }
            if let Err(why) = cell_type(&field.ty) {
                return Err(format!("field `{}` is {why}, which a data cell cannot hold", field.name));
            }
            if matches!(base_type(&field.ty), Type::Enum(_)) {
                match &field.enum_variants {
                    Some(variants) if !variants.is_empty() => {}
                    _ => return Err(format!("field `{}` is an enum but its variants are not given", field.name)),
                }
            }
        }
        Ok(())
    }
}

impl FieldSchema {
    /// Whether a row may leave this field empty and have it read as none.
    pub fn is_optional(&self) -> bool {
        self.ty.is_optional()
    }
}

/// The type a cell holds once optional and list are taken off: `[phone]?` → `phone`.
pub fn base_type(ty: &Type) -> &Type {
    match ty {
        Type::Optional(inner) | Type::List(inner) => base_type(inner),
        other => other,
    }
}

/// `Ok` when a cell can hold a value of `ty`; otherwise what `ty` is, for the message.
fn cell_type(ty: &Type) -> Result<(), String> {
    match ty {
        Type::Optional(inner) => cell_type(inner),
        Type::List(inner) if matches!(**inner, Type::List(_)) || matches!(**inner, Type::Optional(_)) => {
            Err(format!("a list of `{inner}`"))
        }
        Type::List(inner) => cell_type(inner),
        Type::Record(name) => Err(format!("the record type `{name}`")),
        Type::None | Type::Regex | Type::Hours | Type::Error => Err(format!("of type `{ty}`")),
        Type::Text
        | Type::Number
        | Type::Bool
        | Type::Duration
        | Type::Time
        | Type::Date
        | Type::DateTime
        | Type::Money
        | Type::Phone
        | Type::Email
        | Type::Channel
        | Type::Agent
        | Type::Enum(_) => Ok(()),
    }
}

/// The value of one cell for a field, or a message saying why the cell does not fit. The
/// rules are in the module's documentation.
pub fn parse_cell(field: &FieldSchema, cell: &str, currency: Currency) -> Result<Value, String> {
    let cell = cell.trim();
    match &field.ty {
        Type::Optional(_) if cell.is_empty() => Ok(Value::None),
        Type::Optional(inner) => parse_typed(inner, field, cell, currency),
        ty => parse_typed(ty, field, cell, currency),
    }
}

fn parse_typed(ty: &Type, field: &FieldSchema, cell: &str, currency: Currency) -> Result<Value, String> {
    if let Type::List(item) = ty {
        if cell.is_empty() {
            return Ok(Value::List(Arc::from(Vec::new())));
        }
        let mut items = Vec::new();
        for (i, part) in cell.split(';').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("item {} of the list is empty", i + 1));
            }
            let value = parse_scalar(item, field, part, currency).map_err(|why| format!("item {}: {why}", i + 1))?;
            items.push(value);
        }
        return Ok(Value::List(Arc::from(items)));
    }
    if cell.is_empty() {
        return match ty {
            Type::Text => Ok(Value::text("")),
            _ => Err(format!("empty, but `{}` must have a value", field.name)),
        };
    }
    parse_scalar(ty, field, cell, currency)
}

fn parse_scalar(ty: &Type, field: &FieldSchema, cell: &str, currency: Currency) -> Result<Value, String> {
    let value = match ty {
        Type::Text => Value::text(cell),
        Type::Agent => Value::Agent(Arc::from(cell)),
        Type::Number => Value::Number(parse_number(cell).ok_or_else(|| format!("`{cell}` is not a number"))?),
        Type::Bool => Value::Bool(parse_bool(cell).ok_or_else(|| format!("`{cell}` is not yes or no"))?),
        Type::Money => Value::Money(parse_money(cell, currency)?),
        Type::Phone => match normalize::normalize_phone(cell, None) {
            Some(phone) => Value::Phone(Arc::from(phone)),
            None => return Err(format!("`{cell}` is not a phone number in international form, like +447700900001")),
        },
        Type::Email => match normalize::normalize_email(cell) {
            Some(email) => Value::Email(Arc::from(email)),
            None => return Err(format!("`{cell}` is not an email address")),
        },
        Type::Date => Value::Date(parse_date(cell).ok_or_else(|| format!("`{cell}` is not a date like 2026-12-25"))?),
        Type::Time => Value::Time(parse_time(cell).ok_or_else(|| format!("`{cell}` is not a time of day like 14:00"))?),
        Type::DateTime => match cell.parse::<jiff::Timestamp>() {
            Ok(at) => Value::DateTime(at),
            Err(_) => return Err(format!("`{cell}` is not a date and time like 2026-01-05T12:00:00Z")),
        },
        Type::Duration => Value::Duration(
            parse_duration(cell).ok_or_else(|| format!("`{cell}` is not a duration like 30s or 1h 30m"))?,
        ),
        Type::Channel => match Channel::parse(&cell.to_ascii_lowercase()) {
            Some(channel) => Value::Channel(channel),
            None => return Err(format!("`{cell}` is not a channel (voice, chat, email, sms or social)")),
        },
        Type::Enum(name) => {
            let variants = field.enum_variants.as_deref().unwrap_or_default();
            let found =
                variants.iter().find(|v| *v == cell).or_else(|| variants.iter().find(|v| v.eq_ignore_ascii_case(cell)));
            match found {
                Some(variant) => Value::Enum(Arc::from(variant.as_str())),
                None => {
                    return Err(format!("`{cell}` is not a `{name}`; expected one of {}", variants.join(", ")));
                }
            }
        }
        Type::Optional(_) | Type::List(_) | Type::Record(_) | Type::None | Type::Regex | Type::Hours | Type::Error => {
            return Err(format!("a cell cannot hold a value of type `{ty}`"));
        }
    };
    Ok(value)
}

pub fn parse_number(cell: &str) -> Option<f64> {
    // Rust also reads `inf` and `NaN`; a spreadsheet number is neither.
    cell.parse::<f64>().ok().filter(|n| n.is_finite())
}

pub fn parse_bool(cell: &str) -> Option<bool> {
    const YES: [&str; 3] = ["true", "yes", "1"];
    const NO: [&str; 3] = ["false", "no", "0"];
    if YES.iter().any(|y| y.eq_ignore_ascii_case(cell)) {
        Some(true)
    } else if NO.iter().any(|n| n.eq_ignore_ascii_case(cell)) {
        Some(false)
    } else {
        None
    }
}

/// `250`, `250.5`, `1,250.00`, `£250`, `-£5`, `£-5`, `GBP 250`, `250 GBP` → minor units.
pub fn parse_money(cell: &str, currency: Currency) -> Result<Money, String> {
    let not_money = || format!("`{cell}` is not an amount of money");
    let wrong_currency = |other: Currency| {
        format!("`{cell}` is in {}, but the project's currency is {}", other.as_str(), currency.as_str())
    };
    let mut rest = cell.trim();
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r.trim_start();
    }
    if let Some(symbol) = rest.chars().next().filter(|c| !c.is_ascii_alphanumeric() && *c != '.') {
        let named = Currency::from_symbol(symbol).ok_or_else(not_money)?;
        if named != currency {
            return Err(wrong_currency(named));
        }
        rest = rest[symbol.len_utf8()..].trim_start();
    }
    let is_code = |code: &str| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
    if let Some((code, amount)) = rest.split_once(' ').filter(|(code, _)| is_code(code)) {
        let named = Currency::parse(code).ok_or_else(not_money)?;
        if named != currency {
            return Err(wrong_currency(named));
        }
        rest = amount.trim_start();
    } else if let Some((amount, code)) = rest.rsplit_once(' ') {
        let named = Currency::parse(code).ok_or_else(not_money)?;
        if named != currency {
            return Err(wrong_currency(named));
        }
        rest = amount.trim_end();
    }
    if !negative {
        if let Some(r) = rest.strip_prefix('-') {
            negative = true;
            rest = r;
        }
    }
    let (units, cents) = match rest.split_once('.') {
        Some((units, cents)) => (units, cents),
        None => (rest, ""),
    };
    if !cents.bytes().all(|b| b.is_ascii_digit()) || (units.is_empty() && cents.is_empty()) {
        return Err(not_money());
    }
    if cents.len() > 2 {
        return Err(format!("`{cell}` has more than two decimal places"));
    }
    let units = ungroup(units).ok_or_else(not_money)?;
    let too_large = || format!("`{cell}` is too large an amount");
    let whole: i64 = if units.is_empty() { 0 } else { units.parse().map_err(|_| too_large())? };
    let fraction: i64 = match cents.len() {
        0 => 0,
        1 => cents.parse::<i64>().map_err(|_| not_money())? * 10,
        _ => cents.parse().map_err(|_| not_money())?,
    };
    let minor = whole.checked_mul(100).and_then(|m| m.checked_add(fraction)).ok_or_else(too_large)?;
    Ok(Money { minor: if negative { -minor } else { minor }, currency })
}

/// `1,250` → `1250`; commas must separate groups of three digits.
fn ungroup(units: &str) -> Option<String> {
    if !units.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return None;
    }
    if !units.contains(',') {
        return Some(units.to_string());
    }
    let mut groups = units.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    let mut out = first.to_string();
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// `YYYY-MM-DD` and nothing else (jiff alone would also take other ISO 8601 forms).
pub fn parse_date(cell: &str) -> Option<jiff::civil::Date> {
    let b = cell.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    cell.parse().ok()
}

/// `HH:MM` (or `H:MM`), 24-hour, as minutes after midnight.
pub fn parse_time(cell: &str) -> Option<u32> {
    let (hours, minutes) = cell.split_once(':')?;
    let digits =
        |s: &str, len: std::ops::RangeInclusive<usize>| len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours, 1..=2) || !digits(minutes, 2..=2) {
        return None;
    }
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// `500ms`, `30s`, `5m`, `2h`, `1d`, and sums of them (`1h 30m`, `1h30m`), in milliseconds.
pub fn parse_duration(cell: &str) -> Option<i64> {
    let mut rest = cell.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let amount: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let size = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(amount.checked_mul(size)?)?;
        rest = rest[unit_len..].trim_start();
    }
    Some(total)
}
