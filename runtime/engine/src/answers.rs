//! Validating what a customer (or an agent) answers, by the type the `ask` collects.

use std::sync::Arc;
use switchboard_bytecode::bytecode::AnswerKind;
use switchboard_bytecode::normalize;
use switchboard_bytecode::value::{Currency, Money, Value};

/// What arrived: keys pressed, text typed or spoken, or a typed value (tests, agents' forms).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Reply {
    Keys(String),
    Text(String),
    Value(Value),
}

impl Reply {
    pub fn as_text(&self) -> String {
        match self {
            Reply::Keys(k) => k.clone(),
            Reply::Text(t) => t.trim().to_string(),
            Reply::Value(v) => v.display(),
        }
    }
}

/// The answer as the flow's value, or `None` when it does not fit (the question is asked again).
pub fn validate(kind: &AnswerKind, reply: &Reply, currency: Currency) -> Option<Value> {
    if let Reply::Value(v) = reply {
        if let Some(ok) = validate_value(kind, v) {
            return Some(ok);
        }
    }
    let text = reply.as_text();
    let lower = text.to_lowercase();
    match kind {
        AnswerKind::YesNo => match lower.as_str() {
            "1" | "y" | "yes" | "yeah" | "yep" | "true" | "si" | "sí" | "oui" => Some(Value::Bool(true)),
            "2" | "n" | "no" | "nope" | "false" | "non" => Some(Value::Bool(false)),
            _ => None,
        },
        AnswerKind::Range(lo, hi) => {
            let n: f64 = lower.parse().ok()?;
            (n.fract() == 0.0 && n >= *lo && n <= *hi).then_some(Value::Number(n))
        }
        AnswerKind::Digits(n) => {
            let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            (digits.len() == *n as usize && digits.chars().all(|c| c.is_ascii_digit())).then(|| Value::text(&digits))
        }
        AnswerKind::Number => lower.replace(',', "").parse::<f64>().ok().filter(|n| n.is_finite()).map(Value::Number),
        AnswerKind::Text => (!text.is_empty()).then(|| Value::text(&text)),
        AnswerKind::Date => parse_date(&text).map(Value::Date),
        AnswerKind::Money => parse_money(&text, currency).map(Value::Money),
        AnswerKind::Phone => normalize::normalize_phone(&text, None).map(|p| Value::Phone(Arc::from(p))),
        AnswerKind::Email => normalize::normalize_email(&text).map(|e| Value::Email(Arc::from(e))),
        AnswerKind::Time => {
            let (h, m) = text.split_once(':')?;
            let (h, m): (u32, u32) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
            (h < 24 && m < 60).then_some(Value::Time(h * 60 + m))
        }
        AnswerKind::Enum(variants) => {
            variants.iter().find(|v| v.eq_ignore_ascii_case(&lower)).map(|v| Value::Enum(Arc::from(v.as_str())))
        }
    }
}

fn validate_value(kind: &AnswerKind, v: &Value) -> Option<Value> {
    match (kind, v) {
        (AnswerKind::YesNo, Value::Bool(_)) => Some(v.clone()),
        (AnswerKind::Range(lo, hi), Value::Number(n)) => (n.fract() == 0.0 && n >= lo && n <= hi).then(|| v.clone()),
        (AnswerKind::Number, Value::Number(_)) => Some(v.clone()),
        (AnswerKind::Money, Value::Money(_)) => Some(v.clone()),
        (AnswerKind::Date, Value::Date(_)) => Some(v.clone()),
        (AnswerKind::Time, Value::Time(_)) => Some(v.clone()),
        (AnswerKind::Phone, Value::Phone(_)) => Some(v.clone()),
        (AnswerKind::Email, Value::Email(_)) => Some(v.clone()),
        (AnswerKind::Enum(variants), Value::Enum(name)) => variants.iter().any(|x| **x == **name).then(|| v.clone()),
        _ => None,
    }
}

fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return Some(d);
    }
    // 25/12/2026 (day first, as most of the world writes it).
    let parts: Vec<&str> = text.split(['/', '.', '-']).collect();
    if let [d, m, y] = parts.as_slice() {
        let (d, m, y): (i8, i8, i16) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
        return jiff::civil::Date::new(y, m, d).ok();
    }
    None
}

fn parse_money(text: &str, currency: Currency) -> Option<Money> {
    let trimmed = text.trim();
    let (currency, digits) = match trimmed.chars().next() {
        Some(c) if Currency::from_symbol(c).is_some() => (Currency::from_symbol(c)?, &trimmed[c.len_utf8()..]),
        _ => (currency, trimmed),
    };
    let digits = digits.replace(',', "");
    let (units, cents) = digits.split_once('.').unwrap_or((&digits, ""));
    if cents.len() > 2 || units.is_empty() {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = if cents.is_empty() { 0 } else { format!("{cents:0<2}").parse().ok()? };
    Some(Money { minor: units.checked_mul(100)?.checked_add(cents)?, currency })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Reply {
        Reply::Text(s.to_string())
    }

    #[test]
    fn answers_by_type() {
        let gbp = Currency::GBP;
        assert_eq!(validate(&AnswerKind::YesNo, &Reply::Keys("1".into()), gbp), Some(Value::Bool(true)));
        assert_eq!(validate(&AnswerKind::YesNo, &text("No"), gbp), Some(Value::Bool(false)));
        assert_eq!(validate(&AnswerKind::YesNo, &text("maybe"), gbp), None);
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &text("5"), gbp), Some(Value::Number(5.0)));
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &text("6"), gbp), None);
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &text("2.5"), gbp), None);
        assert_eq!(validate(&AnswerKind::Digits(4), &Reply::Keys("1234".into()), gbp), Some(Value::text("1234")));
        assert_eq!(validate(&AnswerKind::Digits(4), &Reply::Keys("123".into()), gbp), None);
        assert_eq!(
            validate(&AnswerKind::Money, &text("£30"), gbp),
            Some(Value::Money(Money { minor: 3000, currency: gbp }))
        );
        assert_eq!(validate(&AnswerKind::Money, &text("12.345"), gbp), None);
        assert_eq!(
            validate(&AnswerKind::Date, &text("25/12/2026"), gbp),
            Some(Value::Date(jiff::civil::date(2026, 12, 25)))
        );
        assert_eq!(validate(&AnswerKind::Text, &text("  "), gbp), None);
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &Reply::Value(Value::Number(9.0)), gbp), None);
    }
}
