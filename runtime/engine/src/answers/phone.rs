//! Phone numbers as customers give them: `+44 7700 900123`, `0044 7700 900123`, or a
//! national number in their country (`07700 900123` in GB, `(206) 555-0188` or
//! `2065550188` in the US), typed on a keypad or in a chat. The answer is stored in E.164.
//!
//! Parsing is libphonenumber's (the `phonenumber` crate and its metadata): each country's
//! trunk prefix, international prefixes (`00`, `011`, `0011` …) and numbering plan. A
//! number is accepted when libphonenumber finds it valid, or when it has the length and
//! leading digits its country's plan allows for some number (the plan's general pattern):
//! strict validity also refuses the ranges kept free for drama and tests, such as
//! `+44 7700 900xxx`, which are real numbers' shape and which customers of a test
//! project give.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::PhoneNumber;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};
use switchboard_bytecode::normalize::is_e164;

/// Longer than any number written with spaces and brackets; a longer answer is not one,
/// and is not worth the parser's time.
const MAX_CHARS: usize = 40;

/// The E.164 form of the number `text` gives, read in `country` (ISO 3166 alpha-2) when it
/// has no international prefix; `None` when it is not a possible number.
pub fn parse(text: &str, country: Option<&str>) -> Option<String> {
    let text = text.trim();
    let text = match text.get(..4) {
        Some(tel) if tel.eq_ignore_ascii_case("tel:") => text[4..].trim_start(),
        _ => text,
    };
    // A keypad answer may end with the `#` that closes it.
    let text = text.strip_suffix('#').unwrap_or(text);
    if text.is_empty() || text.chars().count() > MAX_CHARS || !written_as_number(text) {
        return None;
    }
    // `+44 (0)20 …`: the bracketed trunk prefix is a UK habit, never dialled from abroad.
    let without_trunk;
    let text = if text.starts_with(['+', '0']) && text.contains("(0)") {
        without_trunk = text.replacen("(0)", "", 1);
        &without_trunk
    } else {
        text
    };
    let region = country.and_then(region);
    let read = |text: &str| {
        let number = phonenumber::parse(region, text).ok()?;
        if number.extension().is_some() || !possible(&number) {
            return None;
        }
        // Written by hand: the crate's formatter fails (and `to_string` would panic) on a
        // calling code it has no metadata for.
        let e164 = format!("+{}{}", number.code().value(), number.national());
        is_e164(&e164).then_some(e164)
    };
    let found = if region.is_some() || text.starts_with('+') { read(text) } else { None };
    // `00` is the international prefix a keypad has for `+`, wherever the caller is (the
    // country's own, `011` or `0011`, is the parser's business).
    let after_00 = text.trim_start_matches(|c: char| !c.is_ascii_digit()).strip_prefix("00");
    found.or_else(|| read(&format!("+{}", after_00?)))
}

/// Digits, with the separators people write between them; `+` only in front. Letters
/// (vanity numbers, `ext 2`) are refused: an extension cannot be stored in E.164.
fn written_as_number(text: &str) -> bool {
    let body = text.strip_prefix('+').unwrap_or(text);
    body.chars().any(|c| c.is_ascii_digit())
        && body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' | '\t'))
}

/// The libphonenumber region for an ISO 3166 code, any case; `UK` is taken for `GB`.
fn region(code: &str) -> Option<Id> {
    let code = code.trim().to_ascii_uppercase();
    let code = if code == "UK" { "GB".to_string() } else { code };
    if code.len() != 2 || DATABASE.by_id(code.as_str()).is_none() {
        return None;
    }
    code.parse().ok()
}

/// Valid, or shaped like a number of its country's plan (see the module's documentation).
fn possible(number: &PhoneNumber) -> bool {
    if number.is_valid() {
        return true;
    }
    let national = number.national().to_string();
    let Some(regions) = DATABASE.by_code(&number.code().value()) else { return false };
    regions.iter().any(|meta| {
        let general = meta.descriptors().general();
        let lengths = general.possible_length();
        let length_fits = lengths.is_empty() || lengths.contains(&(national.len() as u16));
        length_fits && whole_match(general.national_number().as_str(), &national)
    })
}

/// Whether the whole of `text` matches `pattern` (the metadata's patterns are not anchored,
/// and a match of the first digits is not a match of the number; they are laid out over
/// lines, so white space in them is not part of them). Each pattern is compiled once.
fn whole_match(pattern: &str, text: &str) -> bool {
    static ANCHORED: LazyLock<Mutex<BTreeMap<String, Option<Arc<regex::Regex>>>>> = LazyLock::new(Default::default);
    let regex = {
        let mut cache = ANCHORED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(&format!("^(?x:{pattern})$")).ok().map(Arc::new))
            .clone()
    };
    regex.is_some_and(|r| r.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_us_caller_keys_a_national_number() {
        assert_eq!(parse("2065550188", Some("US")).as_deref(), Some("+12065550188"));
        assert_eq!(parse("12065550188", Some("US")).as_deref(), Some("+12065550188"));
        assert_eq!(parse("2065550188#", Some("US")).as_deref(), Some("+12065550188"));
    }

    #[test]
    fn a_uk_caller_keys_a_national_number_with_its_trunk_zero() {
        assert_eq!(parse("07700900123", Some("GB")).as_deref(), Some("+447700900123"));
        assert_eq!(parse("07700 900123", Some("gb")).as_deref(), Some("+447700900123"));
        assert_eq!(parse("07700900123", Some("UK")).as_deref(), Some("+447700900123"));
        assert_eq!(parse("020 7946 0000", Some("GB")).as_deref(), Some("+442079460000"));
    }

    #[test]
    fn a_us_number_typed_with_brackets_on_chat() {
        assert_eq!(parse("(206) 555-0188", Some("US")).as_deref(), Some("+12065550188"));
        assert_eq!(parse("206-555-0188", Some("US")).as_deref(), Some("+12065550188"));
        assert_eq!(parse("206.555.0188", Some("US")).as_deref(), Some("+12065550188"));
        assert_eq!(parse("1 (206) 555-0188", Some("US")).as_deref(), Some("+12065550188"));
    }

    #[test]
    fn international_forms_need_no_country() {
        for (text, country) in [
            ("+447700900123", None),
            ("+44 7700 900123", None),
            ("+44 (0)7700 900123", None),
            ("0044 7700 900123", None),
            ("00447700900123", Some("US")),
            ("011 44 7700 900123", Some("US")),
            ("tel:+447700900123", None),
            ("+44 7700 900123", Some("FR")),
        ] {
            assert_eq!(parse(text, country).as_deref(), Some("+447700900123"), "{text:?} in {country:?}");
        }
        assert_eq!(parse("+1 206 555 0188", Some("GB")).as_deref(), Some("+12065550188"));
    }

    #[test]
    fn national_numbers_of_other_countries() {
        for (text, country, e164) in [
            ("01 23 45 67 89", "FR", "+33123456789"),
            ("0612345678", "NL", "+31612345678"),
            ("612 345 678", "ES", "+34612345678"),
            ("06 1234 5678", "IT", "+390612345678"),
            ("070-123 45 67", "SE", "+46701234567"),
            ("0412 345 678", "AU", "+61412345678"),
            ("0011 44 7700 900123", "AU", "+447700900123"),
            ("087 123 4567", "IE", "+353871234567"),
            ("030 123456", "DE", "+4930123456"),
        ] {
            assert_eq!(parse(text, Some(country)).as_deref(), Some(e164), "{text:?} in {country}");
        }
    }

    #[test]
    fn a_number_of_the_wrong_length_for_the_country_is_refused() {
        for (text, country) in [
            ("206555018", "US"),
            ("20655501888", "US"),
            ("555-0188", "US"),
            ("0770090012", "GB"),
            ("077009001234", "GB"),
            ("+4477009001", "GB"),
            ("+1206555018", "GB"),
            ("06123456", "NL"),
        ] {
            assert_eq!(parse(text, Some(country)), None, "{text:?} in {country}");
        }
    }

    #[test]
    fn a_national_number_with_no_country_is_refused() {
        assert_eq!(parse("07700900123", None), None);
        assert_eq!(parse("07700900123", Some("")), None);
        assert_eq!(parse("07700900123", Some("XX")), None);
        assert_eq!(parse("07700900123", Some("GBR")), None);
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for text in [
            "",
            "   ",
            "+",
            "#",
            "call me",
            "+44 7700 900123 ext 2",
            "+44 7700 900123 x2",
            "1-800-FLOWERS",
            "++447700900123",
            "+44+7700900123",
            "+0447700900123",
            "+999 1234 5678",
            "ann@example.com",
            "+44 7700 900123 +44 7700 900123 +44 7700 900123",
        ] {
            assert_eq!(parse(text, Some("GB")), None, "{text:?}");
        }
    }
}
