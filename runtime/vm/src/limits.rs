//! The bounds on what a flow may build at run time: how long one text may grow, how many
//! items one list may hold, and that every number stays finite. A flow that passes one
//! fails, through the VM's ordinary failure path (its `on error` route, or an `error`
//! event), like an `extern fn` that errs: never an abort, a panic or a spoken `inf`.
//!
//! Texts are bounded while they are built, not after: a text that would pass the limit
//! stops growing at it, so no step allocates much more than the limit, however large the
//! values it joins.

use std::fmt::{self, Write as _};
use switchboard_bytecode::value::Value;

/// The most bytes one text may hold (1 MiB): far more than anything a contact hears or
/// reads, far less than what would take a process down.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The most items one list may hold.
pub const MAX_LIST_ITEMS: usize = 100_000;

/// Why a text was refused.
pub fn text_too_long() -> String {
    format!("a text grew longer than {} KiB, the most one text may hold", MAX_TEXT_BYTES / 1024)
}

/// Why a list was refused.
pub fn list_too_long(len: usize) -> String {
    format!("a list of {len} items is longer than {MAX_LIST_ITEMS}, the most one list may hold")
}

/// Appends `s` to `out`, unless the text would grow past the limit.
pub fn push_str(out: &mut String, s: &str) -> Result<(), String> {
    if out.len().saturating_add(s.len()) > MAX_TEXT_BYTES {
        return Err(text_too_long());
    }
    out.push_str(s);
    Ok(())
}

/// Appends what `v` displays as to `out`, unless the text would grow past the limit.
pub fn push_value(out: &mut String, v: &Value) -> Result<(), String> {
    match v {
        Value::Text(s) | Value::Phone(s) | Value::Email(s) | Value::Agent(s) | Value::Enum(s) => push_str(out, s),
        other => write!(Bounded(out), "{other}").map_err(|_| text_too_long()),
    }
}

/// What `v` displays as, unless that is longer than the limit.
pub fn display(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    push_value(&mut out, v)?;
    Ok(out)
}

/// A text that was made whole (by a built-in), checked against the limit.
pub fn text(s: String) -> Result<Value, String> {
    if s.len() > MAX_TEXT_BYTES {
        return Err(text_too_long());
    }
    Ok(Value::Text(s.into()))
}

/// A number an operation gave: refused when it is infinite or not a number at all.
pub fn number(n: f64) -> Result<f64, String> {
    if n.is_finite() {
        Ok(n)
    } else if n.is_nan() {
        Err("a calculation gave no number (such as zero divided by zero)".to_string())
    } else {
        Err("a number grew too large".to_string())
    }
}

/// A whole count (of minor units of money, of milliseconds) computed in floating point:
/// refused when it is not finite or does not fit, instead of saturating.
pub fn whole(n: f64) -> Result<i64, String> {
    // `i64::MAX as f64` rounds up to 2^63, which does not fit: the bound is exclusive.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let n = number(n)?.round();
    if (-LIMIT..LIMIT).contains(&n) {
        Ok(n as i64)
    } else {
        Err("a number grew too large".to_string())
    }
}

/// A value that came from outside the VM (an `extern fn`'s result): every text, list and
/// number in it within the bounds.
pub fn check(v: &Value) -> Result<(), String> {
    match v {
        Value::Text(s) | Value::Phone(s) | Value::Email(s) | Value::Agent(s) | Value::Enum(s) => {
            if s.len() > MAX_TEXT_BYTES {
                return Err(text_too_long());
            }
        }
        Value::Number(n) => {
            number(*n)?;
        }
        Value::List(items) => {
            if items.len() > MAX_LIST_ITEMS {
                return Err(list_too_long(items.len()));
            }
            items.iter().try_for_each(check)?;
        }
        Value::Record(r) => r.fields.iter().try_for_each(|(_, v)| check(v))?,
        Value::None
        | Value::Bool(_)
        | Value::Duration(_)
        | Value::Time(_)
        | Value::Date(_)
        | Value::DateTime(_)
        | Value::Money(_)
        | Value::Channel(_) => {}
    }
    Ok(())
}

/// A `fmt::Write` into a text that refuses to grow past the limit.
struct Bounded<'a>(&'a mut String);

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_str(self.0, s).map_err(|_| fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_list_of_one_shared_big_text_displays_only_up_to_the_limit() {
        // 1,000 references to one 1 KiB-short-of-the-limit text: a gigabyte if displayed whole.
        let big: Arc<str> = "x".repeat(MAX_TEXT_BYTES - 1024).into();
        let list = Value::List((0..1000).map(|_| Value::Text(big.clone())).collect());
        assert_eq!(display(&list), Err(text_too_long()));
        let mut out = String::new();
        assert!(push_value(&mut out, &list).is_err());
        assert!(out.len() <= MAX_TEXT_BYTES, "it stopped growing at the limit: {}", out.len());
    }

    #[test]
    fn numbers_must_stay_finite_and_whole_counts_must_fit() {
        assert_eq!(number(1e308), Ok(1e308));
        assert!(number(f64::INFINITY).unwrap_err().contains("too large"));
        assert!(number(f64::NEG_INFINITY).unwrap_err().contains("too large"));
        assert!(number(f64::NAN).unwrap_err().contains("no number"));
        assert_eq!(whole(2.5), Ok(3));
        assert_eq!(whole(-9.0e18), Ok(-9_000_000_000_000_000_000));
        assert!(whole(9.3e18).is_err(), "past i64, instead of saturating");
        assert!(whole(-9.3e18).is_err());
    }

    #[test]
    fn an_outside_value_is_checked_all_the_way_down() {
        let big = Value::Text("x".repeat(MAX_TEXT_BYTES + 1).into());
        let nested = Value::List(vec![Value::List(vec![big].into())].into());
        assert_eq!(check(&nested), Err(text_too_long()));
        let long = Value::List(vec![Value::None; MAX_LIST_ITEMS + 1].into());
        assert!(check(&long).unwrap_err().contains("most one list may hold"));
        assert!(check(&Value::Number(f64::NAN)).is_err());
        assert_eq!(check(&Value::List(vec![Value::text("ok"); 3].into())), Ok(()));
    }
}
