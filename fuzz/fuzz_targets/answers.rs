//! Arbitrary answers to an `ask` of every answer type, in an arbitrary country, through the
//! engine's answer parser (`switchboard_engine::answers::validate`), as keys, typed text or
//! a text value. Nothing may panic; an accepted answer must be of the type asked, and where
//! its stored form is what a flow prints (`{x}`), that form must be accepted again, giving
//! the same value (numbers: the same to the six decimals a flow prints).
//!
//! The first byte picks the type, the second the country, the third how the answer
//! arrives; the rest is the answer's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_bytecode::bytecode::AnswerKind;
use switchboard_bytecode::value::{Currency, Value};
use switchboard_engine::answers::{validate, Locale, Reply};

/// Countries of both date orders, of both phone plans, unknown, malformed, lower case.
const COUNTRIES: &[&str] =
    &["", "GB", "US", "CA", "FR", "DE", "IT", "AU", "JP", "IN", "BR", "CH", "uk", "us", "XX", "001", "G", "ZZZZ"];

fn kind(byte: u8, arg: u8) -> AnswerKind {
    match byte % 12 {
        0 => AnswerKind::Digits(u32::from(arg % 20)),
        1 => AnswerKind::YesNo,
        2 => AnswerKind::Range(f64::from(arg % 4), f64::from(arg % 4) + f64::from(arg / 4 % 11)),
        3 => AnswerKind::Number,
        4 => AnswerKind::Text,
        5 => AnswerKind::Date,
        6 => AnswerKind::Money,
        7 => AnswerKind::Phone,
        8 => AnswerKind::Email,
        9 => AnswerKind::Time,
        10 => AnswerKind::Enum(vec!["red".into(), "blue".into(), "Grün".into()]),
        _ => AnswerKind::Enum(Vec::new()),
    }
}

fn of_its_type(kind: &AnswerKind, value: &Value) -> bool {
    matches!(
        (kind, value),
        (AnswerKind::Digits(_) | AnswerKind::Text, Value::Text(_))
            | (AnswerKind::YesNo, Value::Bool(_))
            | (AnswerKind::Range(..) | AnswerKind::Number, Value::Number(_))
            | (AnswerKind::Date, Value::Date(_))
            | (AnswerKind::Money, Value::Money(_))
            | (AnswerKind::Phone, Value::Phone(_))
            | (AnswerKind::Email, Value::Email(_))
            | (AnswerKind::Time, Value::Time(_))
            | (AnswerKind::Enum(_), Value::Enum(_))
    )
}

fuzz_target!(|data: &[u8]| {
    let [k, arg, c, form, rest @ ..] = data else { return };
    let kind = kind(*k, *arg);
    let country = COUNTRIES[usize::from(*c) % COUNTRIES.len()];
    let currency = [Currency::GBP, Currency::USD, Currency::EUR, Currency(*b"CHF")][usize::from(*c / 32) % 4];
    let locale = Locale { currency, country: (*c & 1 == 0 || !country.is_empty()).then_some(country) };
    let text = String::from_utf8_lossy(rest).into_owned();
    let reply = match form % 3 {
        0 => Reply::Keys(text),
        1 => Reply::Text(text),
        _ => Reply::Value(Value::Text(text.into())),
    };
    let Some(value) = validate(&kind, &reply, locale) else { return };
    assert!(of_its_type(&kind, &value), "{kind:?} gave {value:?} for {reply:?}");

    let stored = value.display();
    let again = validate(&kind, &Reply::Text(stored.clone()), locale);
    match (&value, &again) {
        (Value::Number(n), Some(Value::Number(m))) => {
            assert!((n - m).abs() <= 1e-6 * n.abs().max(1.0), "{kind:?}: {n} printed as {stored:?} reads as {m}")
        }
        _ => assert_eq!(again.as_ref(), Some(&value), "{kind:?} in {locale:?}: {reply:?} stored as {stored:?}"),
    }
});
