//! Operators and built-in functions on run-time values. Types were checked at compile
//! time, so a mismatch here is an internal error reported as a failure, never a panic.

use super::limits;
use super::Tables;
use jiff::Timestamp;
use std::borrow::Cow;
use std::sync::Arc;
use switchboard_bytecode::bytecode::{Builtin, Bundle, HoursId};
use switchboard_bytecode::span::BinaryOp;
use switchboard_bytecode::value::{Money, Record, Value};
use switchboard_calendar as calendar;

pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// The field `name` of a record; `index` is where codegen expects it (checked first).
pub fn field(r: &Record, name: &Value, index: Option<u16>) -> Result<Value, String> {
    let Value::Text(name) = name else { return Err("bad field name".into()) };
    if let Some((n, v)) = index.and_then(|i| r.fields.get(usize::from(i))) {
        if **n == **name {
            return Ok(v.clone());
        }
    }
    r.get(name).cloned().ok_or_else(|| format!("`{}` has no field `{name}`", r.type_name))
}

pub fn negate(v: Value) -> Result<Value, String> {
    Ok(match v {
        Value::Number(n) => Value::Number(-n),
        Value::Duration(d) => Value::Duration(d.checked_neg().ok_or("a duration grew too large")?),
        Value::Money(m) => Value::Money(Money { minor: m.minor.checked_neg().ok_or("an amount grew too large")?, ..m }),
        other => return Err(format!("cannot negate `{other}`")),
    })
}

/// Texts, phones, emails, agents and enum values compare by their text.
fn text_of(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) | Value::Phone(s) | Value::Agent(s) | Value::Enum(s) => Some(s),
        Value::Email(s) => Some(s),
        _ => None,
    }
}

pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Email(x), y) | (y, Value::Email(x)) if text_of(y).is_some() => {
            x.eq_ignore_ascii_case(text_of(y).unwrap_or_default())
        }
        (x, y) if text_of(x).is_some() && text_of(y).is_some() => text_of(x) == text_of(y),
        (Value::Number(x), Value::Number(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    use std::cmp::Ordering;
    let o = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Money(x), Value::Money(y)) if x.currency == y.currency => x.minor.cmp(&y.minor),
        (Value::Duration(x), Value::Duration(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        _ => return Err(format!("`{a}` and `{b}` cannot be compared")),
    };
    Ok(o)
}

pub fn binary(op: BinaryOp, a: Value, b: Value) -> Result<Value, String> {
    use BinaryOp::*;
    Ok(match op {
        Eq => Value::Bool(equal(&a, &b)),
        Ne => Value::Bool(!equal(&a, &b)),
        Lt => Value::Bool(order(&a, &b)?.is_lt()),
        Le => Value::Bool(order(&a, &b)?.is_le()),
        Gt => Value::Bool(order(&a, &b)?.is_gt()),
        Ge => Value::Bool(order(&a, &b)?.is_ge()),
        Contains => Value::Bool(match &a {
            Value::List(items) => items.iter().any(|i| equal(i, &b)),
            _ => bounded_text(&a)?.contains(&*bounded_text(&b)?),
        }),
        ContainsAny => {
            let text = bounded_text(&a)?;
            let Value::List(items) = b else { return Err("`contains any` takes a list".into()) };
            let mut any = false;
            for item in items.iter() {
                if text.contains(&*bounded_text(item)?) {
                    any = true;
                    break;
                }
            }
            Value::Bool(any)
        }
        In => {
            let Value::List(items) = b else { return Err("`in` takes a list".into()) };
            Value::Bool(items.iter().any(|i| equal(&a, i)))
        }
        And => Value::Bool(truthy(&a) && truthy(&b)),
        Or => Value::Bool(truthy(&a) || truthy(&b)),
        Coalesce => {
            if a.is_none() {
                b
            } else {
                a
            }
        }
        Matches => Value::Bool(matches(&bounded_text(&a)?, &bounded_text(&b)?)?),
        Add | Sub | Mul | Div => arithmetic(op, a, b)?,
    })
}

/// `+ - * /`. A number that would be infinite or no number fails, and so does money or a
/// duration that would not fit, instead of saturating; so does a text past the limit.
fn arithmetic(op: BinaryOp, a: Value, b: Value) -> Result<Value, String> {
    use BinaryOp::*;
    let overflow = || "a number grew too large".to_string();
    Ok(match (op, &a, &b) {
        (Add, Value::Number(x), Value::Number(y)) => Value::Number(limits::number(x + y)?),
        (Sub, Value::Number(x), Value::Number(y)) => Value::Number(limits::number(x - y)?),
        (Mul, Value::Number(x), Value::Number(y)) => Value::Number(limits::number(x * y)?),
        (Div, Value::Number(_), Value::Number(y)) if *y == 0.0 => return Err("division by zero".into()),
        (Div, Value::Number(x), Value::Number(y)) => Value::Number(limits::number(x / y)?),
        (Add | Sub, Value::Money(x), Value::Money(y)) => {
            if x.currency != y.currency {
                return Err("money of two currencies never mixes".into());
            }
            let minor = if op == Add { x.minor.checked_add(y.minor) } else { x.minor.checked_sub(y.minor) };
            Value::Money(Money { minor: minor.ok_or_else(overflow)?, currency: x.currency })
        }
        (Mul, Value::Money(m), Value::Number(n)) | (Mul, Value::Number(n), Value::Money(m)) => {
            Value::Money(Money { minor: limits::whole(m.minor as f64 * n)?, currency: m.currency })
        }
        (Div, Value::Money(_), Value::Number(n)) if *n == 0.0 => return Err("division by zero".into()),
        (Div, Value::Money(m), Value::Number(n)) => {
            Value::Money(Money { minor: limits::whole(m.minor as f64 / n)?, currency: m.currency })
        }
        (Add, Value::Duration(x), Value::Duration(y)) => Value::Duration(x.checked_add(*y).ok_or_else(overflow)?),
        (Sub, Value::Duration(x), Value::Duration(y)) => Value::Duration(x.checked_sub(*y).ok_or_else(overflow)?),
        (Mul, Value::Duration(d), Value::Number(n)) => Value::Duration(limits::whole((*d as f64 * n).trunc())?),
        (Div, Value::Duration(_), Value::Number(n)) if *n == 0.0 => return Err("division by zero".into()),
        (Div, Value::Duration(d), Value::Number(n)) => Value::Duration(limits::whole((*d as f64 / n).trunc())?),
        (Add | Sub, Value::DateTime(t), Value::Duration(d)) => {
            let span = jiff::SignedDuration::from_millis(if op == Add { *d } else { -*d });
            Value::DateTime(t.checked_add(span).map_err(|e| e.to_string())?)
        }
        (Sub, Value::DateTime(x), Value::DateTime(y)) => Value::Duration(x.duration_since(*y).as_millis() as i64),
        (Add | Sub, Value::Time(t), Value::Duration(d)) => {
            let minutes = d / 60_000;
            let delta = if op == Add { minutes } else { -minutes };
            Value::Time((*t as i64 + delta).rem_euclid(24 * 60) as u32)
        }
        (Add, x, y) if text_of(x).is_some() || text_of(y).is_some() => {
            let mut out = String::new();
            limits::push_value(&mut out, x)?;
            limits::push_value(&mut out, y)?;
            Value::Text(Arc::from(out))
        }
        _ => return Err(format!("`{}` does not work on `{a}` and `{b}`", op.as_str())),
    })
}

/// A `matches` pattern, compiled (patterns were checked at compile time).
pub fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().map_err(|e| e.to_string())
}

/// Whether `text` matches a pattern the tables do not hold (compiled for this use only).
pub fn matches(text: &str, pattern: &str) -> Result<bool, String> {
    Ok(regex(pattern)?.is_match(text))
}

/// The text of a value: borrowed when it is one, its display otherwise, refused when that
/// display would pass the text limit.
fn bounded_text(v: &Value) -> Result<Cow<'_, str>, String> {
    Ok(match text_of(v) {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(limits::display(v)?),
    })
}

/// The text of a value: borrowed when it is one, its display otherwise.
pub fn text_cow(v: &Value) -> Cow<'_, str> {
    match text_of(v) {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(v.display()),
    }
}

/// The index of the text for `language` in `languages` (`en` matches `en_gb`); 0 otherwise.
pub fn pick_language(language: &str, languages: &[Value]) -> usize {
    let lang = language.to_ascii_lowercase().replace('-', "_");
    let base = lang.split('_').next().unwrap_or("");
    languages
        .iter()
        .position(|l| l.display().eq_ignore_ascii_case(&lang))
        .or_else(|| languages.iter().position(|l| l.display().split('_').next() == Some(base)))
        .unwrap_or(0)
}

/// `open(hours)` at `now`: from the tables, or built for this use when they lack them.
fn open(bundle: &Bundle, tables: &Tables, id: HoursId, now: Timestamp) -> Result<bool, String> {
    if let Some(open) = tables.is_open(id, now) {
        return open;
    }
    let info = bundle.hours.get(id.index()).ok_or("unknown hours")?;
    Ok(calendar::Hours::new(&info.zone, info.weekly.clone(), info.closed.clone())?.is_open(now))
}

/// A built-in's argument as text (its display when it is no text), within the limit.
fn text(v: &Value) -> Result<Cow<'_, str>, String> {
    bounded_text(v)
}

fn number(v: &Value) -> Result<f64, String> {
    v.as_number().ok_or_else(|| format!("`{v}` is not a number"))
}

fn date(v: &Value) -> Result<jiff::civil::Date, String> {
    match v {
        Value::Date(d) => Ok(*d),
        other => Err(format!("`{other}` is not a date")),
    }
}

pub fn builtin(
    bundle: &Bundle,
    tables: &Tables,
    b: Builtin,
    args: Vec<Value>,
    now: Timestamp,
) -> Result<Value, String> {
    const NONE: &Value = &Value::None;
    let arg = |i: usize| args.get(i).unwrap_or(NONE);
    // Built-ins that make a text make it whole (`upper` and `lower` may lengthen one), and
    // check it; `replace` is checked before it makes anything.
    let t = limits::text;
    Ok(match b {
        Builtin::Open(h) => Value::Bool(open(bundle, tables, h, now)?),
        Builtin::Lower => t(text(arg(0))?.to_lowercase())?,
        Builtin::Upper => t(text(arg(0))?.to_uppercase())?,
        Builtin::Trim => t(text(arg(0))?.trim().to_string())?,
        Builtin::Len => match arg(0) {
            Value::List(items) => Value::Number(items.len() as f64),
            other => Value::Number(text(other)?.chars().count() as f64),
        },
        Builtin::Left => {
            let n = number(arg(1))?.max(0.0) as usize;
            t(text(arg(0))?.chars().take(n).collect())?
        }
        Builtin::Right => {
            let s = text(arg(0))?;
            let n = number(arg(1))?.max(0.0) as usize;
            let count = s.chars().count();
            t(s.chars().skip(count.saturating_sub(n)).collect())?
        }
        Builtin::StartsWith => Value::Bool(text(arg(0))?.starts_with(&*text(arg(1))?)),
        Builtin::EndsWith => Value::Bool(text(arg(0))?.ends_with(&*text(arg(1))?)),
        Builtin::Replace => {
            let from = text(arg(1))?;
            if from.is_empty() {
                arg(0).clone()
            } else {
                let (s, to) = (text(arg(0))?, text(arg(2))?);
                // Each match of `from` becomes `to`: the length it will have, before making it.
                let matches = s.matches(&*from).count();
                let len = (s.len() - matches * from.len()).saturating_add(matches.saturating_mul(to.len()));
                if len > limits::MAX_TEXT_BYTES {
                    return Err(limits::text_too_long());
                }
                t(s.replace(&*from, &to))?
            }
        }
        Builtin::Round => Value::Number(number(arg(0))?.round()),
        Builtin::Floor => Value::Number(number(arg(0))?.floor()),
        Builtin::Ceil => Value::Number(number(arg(0))?.ceil()),
        Builtin::Abs => Value::Number(number(arg(0))?.abs()),
        Builtin::Min => Value::Number(number(arg(0))?.min(number(arg(1))?)),
        Builtin::Max => Value::Number(number(arg(0))?.max(number(arg(1))?)),
        Builtin::LocalTime | Builtin::LocalDate => {
            let Value::DateTime(at) = *arg(0) else { return Err("not a datetime".into()) };
            let zone = calendar::time_zone(&text(arg(1))?)?;
            let local = at.to_zoned(zone).datetime();
            if b == Builtin::LocalTime {
                Value::Time(local.hour() as u32 * 60 + local.minute() as u32)
            } else {
                Value::Date(local.date())
            }
        }
        Builtin::Weekday => {
            let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            let d = date(arg(0))?;
            Value::text(names[d.weekday().to_monday_zero_offset() as usize])
        }
        Builtin::DaysBetween => {
            let (a, b) = (date(arg(0))?, date(arg(1))?);
            let days = b.since(a).map_err(|e| e.to_string())?.get_days();
            Value::Number(days as f64)
        }
        Builtin::AddDays => {
            let d = date(arg(0))?;
            let n = number(arg(1))? as i64;
            Value::Date(
                d.checked_add(jiff::Span::new().try_days(n).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?,
            )
        }
        Builtin::Minutes => match arg(0) {
            Value::Duration(ms) => Value::Number(*ms as f64 / 60_000.0),
            other => return Err(format!("`{other}` is not a duration")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_found_where_codegen_expects_it_or_by_name() {
        let r = Record {
            type_name: Arc::from("Customer"),
            fields: vec![(Arc::from("id"), Value::text("c1")), (Arc::from("tier"), Value::Enum(Arc::from("gold")))],
        };
        let tier = Value::text("tier");
        let gold = Ok(Value::Enum(Arc::from("gold")));
        assert_eq!(field(&r, &tier, Some(1)), gold);
        assert_eq!(field(&r, &tier, Some(0)), gold, "a record laid out otherwise");
        assert_eq!(field(&r, &tier, Some(9)), gold);
        assert_eq!(field(&r, &tier, None), gold);
        assert!(field(&r, &Value::text("name"), Some(1)).is_err());
    }
}
