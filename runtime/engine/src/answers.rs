//! Validating what a customer (or an agent) answers, by the type the `ask` collects.
//!
//! Phone numbers (`phone`) and dates (`date`) are read as the contact's country writes
//! them; [`Locale`] carries it, with the project's currency for `money`.

mod date;
mod phone;

use std::sync::Arc;
use switchboard_bytecode::bytecode::AnswerKind;
use switchboard_bytecode::normalize;
use switchboard_bytecode::value::{Currency, Money, Value};
use switchboard_vm::Contact;

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

/// What an answer is read by, besides its type.
#[derive(Clone, Copy, Debug)]
pub struct Locale<'a> {
    /// The project's currency, for money written without a symbol.
    pub currency: Currency,
    /// The contact's country (ISO 3166 alpha-2), for national phone numbers and numeric
    /// dates; `None` when it is not known.
    pub country: Option<&'a str>,
}

/// The country a contact's answers are read in: the contact's (`contact.country`, which the
/// entry's number gives), else that of the number the contact called from, else the one
/// the engine infers for the entry (`entry`: for a web chat, the country of the numbers
/// that reach the same flow).
pub fn country_of<'c>(contact: &'c Contact, entry: Option<&'c str>) -> Option<&'c str> {
    if !contact.country.is_empty() {
        return Some(&contact.country);
    }
    let calling = match &contact.from {
        Value::Phone(p) => crate::country_of(p),
        _ => "",
    };
    if calling.is_empty() {
        entry
    } else {
        Some(calling)
    }
}

/// The answer as the flow's value, or `None` when it does not fit (the question is asked again).
pub fn validate(kind: &AnswerKind, reply: &Reply, locale: Locale<'_>) -> Option<Value> {
    if let Reply::Value(v) = reply {
        if let Some(ok) = validate_value(kind, v) {
            return Some(ok);
        }
    }
    // Typed or not, white space around an answer is not part of it.
    let text = reply.as_text();
    let text = text.trim();
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
        AnswerKind::Text => (!text.is_empty()).then(|| Value::text(text)),
        AnswerKind::Date => date::parse(text, locale.country).map(Value::Date),
        AnswerKind::Money => parse_money(text, locale.currency).map(Value::Money),
        AnswerKind::Phone => phone::parse(text, locale.country).map(|p| Value::Phone(Arc::from(p))),
        AnswerKind::Email => normalize::normalize_email(text).map(|e| Value::Email(Arc::from(e))),
        AnswerKind::Time => {
            let (h, m) = text.split_once(':')?;
            let (h, m): (u32, u32) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
            (h < 24 && m < 60).then(|| Value::Time(h * 60 + m))
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

/// `30`, `30.5`, `1,250.50`, `£30`, `30 GBP` or `GBP 30`: an amount in the project's
/// currency (or the one its symbol names), never negative, at most two decimals.
fn parse_money(text: &str, currency: Currency) -> Option<Money> {
    let trimmed = text.trim();
    let code = currency.as_str();
    let trimmed = match (trimmed.get(trimmed.len().saturating_sub(3)..), trimmed.get(..3)) {
        (Some(end), _) if end.eq_ignore_ascii_case(code) => trimmed[..trimmed.len() - 3].trim_end(),
        (_, Some(start)) if start.eq_ignore_ascii_case(code) => trimmed[3..].trim_start(),
        _ => trimmed,
    };
    let (currency, digits) = match trimmed.chars().next() {
        Some(c) if Currency::from_symbol(c).is_some() => (Currency::from_symbol(c)?, &trimmed[c.len_utf8()..]),
        _ => (currency, trimmed),
    };
    let digits = digits.replace(',', "");
    let (units, cents) = digits.split_once('.').unwrap_or((&digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if cents.len() > 2 || units.is_empty() || !all_digits(units) || !all_digits(cents) {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = if cents.is_empty() { 0 } else { format!("{cents:0<2}").parse().ok()? };
    Some(Money { minor: units.checked_mul(100)?.checked_add(cents)?, currency })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn text(s: &str) -> Reply {
        Reply::Text(s.to_string())
    }

    fn keys(s: &str) -> Reply {
        Reply::Keys(s.to_string())
    }

    const GB: Locale<'static> = Locale { currency: Currency::GBP, country: Some("GB") };
    const US: Locale<'static> = Locale { currency: Currency::USD, country: Some("US") };
    const NOWHERE: Locale<'static> = Locale { currency: Currency::GBP, country: None };

    fn phone(e164: &str) -> Option<Value> {
        Some(Value::Phone(Arc::from(e164)))
    }

    #[test]
    fn answers_by_type() {
        let gbp = Currency::GBP;
        assert_eq!(validate(&AnswerKind::YesNo, &keys("1"), GB), Some(Value::Bool(true)));
        assert_eq!(validate(&AnswerKind::YesNo, &text("No"), GB), Some(Value::Bool(false)));
        assert_eq!(validate(&AnswerKind::YesNo, &text("maybe"), GB), None);
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &text("5"), GB), Some(Value::Number(5.0)));
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &text("6"), GB), None);
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &text("2.5"), GB), None);
        assert_eq!(validate(&AnswerKind::Digits(4), &keys("1234"), GB), Some(Value::text("1234")));
        assert_eq!(validate(&AnswerKind::Digits(4), &keys("123"), GB), None);
        assert_eq!(
            validate(&AnswerKind::Money, &text("£30"), GB),
            Some(Value::Money(Money { minor: 3000, currency: gbp }))
        );
        assert_eq!(validate(&AnswerKind::Money, &text("12.345"), GB), None);
        assert_eq!(validate(&AnswerKind::Date, &text("25/12/2026"), GB), Some(Value::Date(date(2026, 12, 25))));
        assert_eq!(validate(&AnswerKind::Text, &text("  "), GB), None);
        assert_eq!(validate(&AnswerKind::Range(1.0, 5.0), &Reply::Value(Value::Number(9.0)), GB), None);
    }

    #[test]
    fn ask_phone_on_voice_takes_a_national_number_keyed_in_the_contacts_country() {
        assert_eq!(validate(&AnswerKind::Phone, &keys("2065550188"), US), phone("+12065550188"));
        assert_eq!(validate(&AnswerKind::Phone, &keys("07700900123"), GB), phone("+447700900123"));
        assert_eq!(validate(&AnswerKind::Phone, &keys("00447700900123"), US), phone("+447700900123"));
        assert_eq!(validate(&AnswerKind::Phone, &keys("07700900123"), NOWHERE), None);
    }

    #[test]
    fn ask_phone_on_chat_takes_a_number_written_with_brackets() {
        assert_eq!(validate(&AnswerKind::Phone, &text("(206) 555-0188"), US), phone("+12065550188"));
        assert_eq!(validate(&AnswerKind::Phone, &text(" +44 7700 900123 "), US), phone("+447700900123"));
        assert_eq!(validate(&AnswerKind::Phone, &text("(206) 555-018"), US), None);
    }

    #[test]
    fn ask_date_takes_the_forms_people_type() {
        let dec_1 = Some(Value::Date(date(2026, 12, 1)));
        for form in ["1/12/2026", "1 Dec 2026", "Dec 1 2026", "1 December 2026", "2026-12-01", "1.12.2026"] {
            assert_eq!(validate(&AnswerKind::Date, &text(form), GB), dec_1, "{form:?} in GB");
        }
        for form in ["12/1/2026", "1 Dec 2026", "Dec 1 2026", "1 December 2026", "2026-12-01", "1.12.2026"] {
            assert_eq!(validate(&AnswerKind::Date, &text(form), US), dec_1, "{form:?} in US");
        }
        assert_eq!(validate(&AnswerKind::Date, &text("31/2/2026"), GB), None);
        assert_eq!(validate(&AnswerKind::Date, &text("1/12/2026"), NOWHERE), None);
        assert_eq!(validate(&AnswerKind::Date, &Reply::Value(Value::text("1 Dec 2026")), GB), dec_1);
    }

    /// Found by the `answers` fuzz target: a blank text given as a value (`answer "\n"`)
    /// or as keys was taken as an answer, though typed it was refused.
    #[test]
    fn a_blank_text_answer_is_refused_however_it_arrives() {
        for reply in [text("\n"), keys(" "), Reply::Value(Value::text("\n")), Reply::Value(Value::text(" \t "))] {
            assert_eq!(validate(&AnswerKind::Text, &reply, GB), None, "{reply:?}");
        }
        assert_eq!(validate(&AnswerKind::Text, &Reply::Value(Value::text(" hi ")), GB), Some(Value::text("hi")));
        assert_eq!(validate(&AnswerKind::Enum(vec!["red".into()]), &keys(" red"), GB), Some(Value::Enum("red".into())));
    }

    /// Found by the `answers` fuzz target: an email answer whose seventh byte falls inside
    /// a character panicked.
    #[test]
    fn an_email_answer_of_wide_characters_is_refused_not_a_panic() {
        let reply = text("\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd} £30");
        assert_eq!(validate(&AnswerKind::Email, &reply, GB), None);
    }

    /// Found by the `answers` fuzz target: an hour past `u32::MAX / 60` overflowed before
    /// it was found out of range.
    #[test]
    fn a_time_answer_with_a_huge_hour_is_refused_not_an_overflow() {
        assert_eq!(validate(&AnswerKind::Time, &text("4294967295:00"), GB), None);
        assert_eq!(validate(&AnswerKind::Time, &text("71582789:00"), GB), None);
        assert_eq!(validate(&AnswerKind::Time, &text("14:30"), GB), Some(Value::Time(14 * 60 + 30)));
    }

    #[test]
    fn money_is_never_negative_and_takes_its_code() {
        let gbp = |minor| Some(Value::Money(Money { minor, currency: Currency::GBP }));
        assert_eq!(validate(&AnswerKind::Money, &text("-5.50"), GB), None, "was read as -4.50");
        assert_eq!(validate(&AnswerKind::Money, &text("+5"), GB), None);
        assert_eq!(validate(&AnswerKind::Money, &text("5.-"), GB), None, "was read as 5.00");
        assert_eq!(validate(&AnswerKind::Money, &text("1,250.50"), GB), gbp(125_050));
        assert_eq!(validate(&AnswerKind::Money, &text("30 GBP"), GB), gbp(3000));
        assert_eq!(validate(&AnswerKind::Money, &text("gbp 30.5"), GB), gbp(3050));
        let chf = Money { minor: 1250, currency: Currency::parse("CHF").expect("a currency") };
        let locale = Locale { currency: chf.currency, country: Some("CH") };
        assert_eq!(validate(&AnswerKind::Money, &text(&chf.to_string()), locale), Some(Value::Money(chf)));
    }

    #[test]
    fn the_country_is_the_contacts_then_the_callers_then_the_entrys() {
        let contact = |country: &str, from: Value| Contact {
            id: Arc::from("c1"),
            channel: switchboard_bytecode::types::Channel::Chat,
            from,
            to: Arc::from("web"),
            text: Arc::from(""),
            subject: Arc::from(""),
            language: Arc::from("en"),
            country: Arc::from(country),
            started_at: jiff::Timestamp::UNIX_EPOCH,
            attributes: Default::default(),
        };
        let caller = Value::Phone(Arc::from("+447700900123"));
        assert_eq!(country_of(&contact("US", caller.clone()), Some("FR")), Some("US"));
        assert_eq!(country_of(&contact("", caller), Some("FR")), Some("GB"));
        assert_eq!(country_of(&contact("", Value::text("visitor-1")), Some("FR")), Some("FR"));
        assert_eq!(country_of(&contact("", Value::text("visitor-1")), None), None);
    }
}
