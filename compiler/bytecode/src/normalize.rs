//! Normal forms for the keys customers arrive with: phone numbers, email addresses and
//! social handles, so that `lookup crm by contact.from` finds the row however it was typed.
//!
//! Phone numbers become E.164 (`+` and 7 to 15 digits). Written forms that are accepted:
//!
//! - international: `+44 7700 900001`, `+44 (0)7700 900001`, `0044 7700 900001`,
//!   `tel:+447700900001`; spaces, dashes, dots and parentheses are dropped;
//! - national, only with a default region: the region's trunk prefix is dropped and its
//!   country code put in front (`07700 900001` in `GB` → `+447700900001`;
//!   `(202) 555-0100` or `1-202-555-0100` in `US` → `+12025550100`); in `US` and `CA` the
//!   international prefix `011` is understood as well as `00`.
//!
//! The regions known for national numbers are in [`REGIONS`]; a national number with no
//! region, or with a region not in the table, has no normal form. This is deliberately not
//! a full numbering plan: it checks lengths, not which ranges are allocated.

/// A region whose national numbers can be turned into E.164.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    /// ISO 3166 alpha-2 code, upper case.
    pub code: &'static str,
    /// The country calling code, digits only.
    pub country_code: &'static str,
    /// The trunk prefix dialled before national numbers, dropped in E.164.
    pub trunk_prefix: Option<&'static str>,
    /// How many digits a national significant number (without trunk prefix) may have.
    pub national_digits: (usize, usize),
}

/// Regions whose national numbers [`normalize_phone`] understands. Italy keeps its leading
/// `0` (it is part of the number there, not a trunk prefix); NANP numbers (`US`, `CA`) may be
/// written with their leading `1`.
pub const REGIONS: &[Region] = &[
    Region { code: "GB", country_code: "44", trunk_prefix: Some("0"), national_digits: (9, 10) },
    Region { code: "US", country_code: "1", trunk_prefix: Some("1"), national_digits: (10, 10) },
    Region { code: "CA", country_code: "1", trunk_prefix: Some("1"), national_digits: (10, 10) },
    Region { code: "IE", country_code: "353", trunk_prefix: Some("0"), national_digits: (7, 9) },
    Region { code: "FR", country_code: "33", trunk_prefix: Some("0"), national_digits: (9, 9) },
    Region { code: "DE", country_code: "49", trunk_prefix: Some("0"), national_digits: (6, 13) },
    Region { code: "ES", country_code: "34", trunk_prefix: None, national_digits: (9, 9) },
    Region { code: "IT", country_code: "39", trunk_prefix: None, national_digits: (6, 11) },
    Region { code: "PT", country_code: "351", trunk_prefix: None, national_digits: (9, 9) },
    Region { code: "NL", country_code: "31", trunk_prefix: Some("0"), national_digits: (9, 9) },
    Region { code: "BE", country_code: "32", trunk_prefix: Some("0"), national_digits: (8, 9) },
    Region { code: "CH", country_code: "41", trunk_prefix: Some("0"), national_digits: (9, 9) },
    Region { code: "AT", country_code: "43", trunk_prefix: Some("0"), national_digits: (4, 13) },
    Region { code: "SE", country_code: "46", trunk_prefix: Some("0"), national_digits: (7, 9) },
    Region { code: "NO", country_code: "47", trunk_prefix: None, national_digits: (8, 8) },
    Region { code: "DK", country_code: "45", trunk_prefix: None, national_digits: (8, 8) },
    Region { code: "FI", country_code: "358", trunk_prefix: Some("0"), national_digits: (5, 12) },
    Region { code: "PL", country_code: "48", trunk_prefix: None, national_digits: (9, 9) },
    Region { code: "AU", country_code: "61", trunk_prefix: Some("0"), national_digits: (9, 9) },
    Region { code: "NZ", country_code: "64", trunk_prefix: Some("0"), national_digits: (8, 10) },
    Region { code: "IN", country_code: "91", trunk_prefix: Some("0"), national_digits: (10, 10) },
    Region { code: "SG", country_code: "65", trunk_prefix: None, national_digits: (8, 8) },
    Region { code: "ZA", country_code: "27", trunk_prefix: Some("0"), national_digits: (9, 9) },
    Region { code: "JP", country_code: "81", trunk_prefix: Some("0"), national_digits: (9, 10) },
    Region { code: "MX", country_code: "52", trunk_prefix: None, national_digits: (10, 10) },
];

/// The region for an ISO 3166 code, any case; `UK` is taken for `GB`.
pub fn region(code: &str) -> Option<&'static Region> {
    let code = code.trim();
    let code = if code.eq_ignore_ascii_case("UK") { "GB" } else { code };
    REGIONS.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// E.164 allows at most 15 digits; fewer than 7 is no one's real number.
const E164_DIGITS: (usize, usize) = (7, 15);

/// Whether `text` is already the E.164 form [`normalize_phone`] gives: `+`, then 7 to 15
/// digits, the first not `0`.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else { return false };
    let (min, max) = E164_DIGITS;
    (min..=max).contains(&digits.len()) && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The E.164 form of a phone number (`+447700900001`), or `None` when `raw` is not one.
///
/// `default_region` (an ISO 3166 code such as `GB`) is used only for numbers written without
/// an international prefix; see the module documentation for the accepted forms.
pub fn normalize_phone(raw: &str, default_region: Option<&str>) -> Option<String> {
    if is_e164(raw) {
        return Some(raw.to_string());
    }
    let mut text = raw.trim();
    if text.get(..4).is_some_and(|tel| tel.eq_ignore_ascii_case("tel:")) {
        text = text[4..].trim_start();
    }
    // `+44 (0)20 …`: the bracketed trunk prefix is a UK habit that must not be dialled.
    let international = text.starts_with('+') || text.starts_with("00");
    let without_trunk;
    if international && text.contains("(0)") {
        without_trunk = text.replacen("(0)", "", 1);
        text = &without_trunk;
    }
    let (plus, body) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '\t' => {}
            _ => return None,
        }
    }
    let region = default_region.and_then(region);
    let international_digits = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let (Some(rest), Some("1")) = (digits.strip_prefix("011"), region.map(|r| r.country_code)) {
        rest.to_string()
    } else {
        national_to_international(&digits, region?)?
    };
    let (min, max) = E164_DIGITS;
    let len = international_digits.len();
    if !(min..=max).contains(&len) || international_digits.starts_with('0') {
        return None;
    }
    Some(format!("+{international_digits}"))
}

fn national_to_international(digits: &str, region: &Region) -> Option<String> {
    let (min, max) = region.national_digits;
    let significant = match region.trunk_prefix {
        // NANP: the `1` is optional, so a ten-digit number stands as it is.
        Some(prefix) if region.country_code == "1" => {
            if digits.len() == max + prefix.len() {
                digits.strip_prefix(prefix)?
            } else {
                digits
            }
        }
        Some(prefix) => digits.strip_prefix(prefix)?,
        None => digits,
    };
    if !(min..=max).contains(&significant.len()) {
        return None;
    }
    // NANP area codes never start with 0 or 1.
    if region.country_code == "1" && significant.starts_with(['0', '1']) {
        return None;
    }
    Some(format!("{}{significant}", region.country_code))
}

/// The lower-cased form of an email address, or `None` when `raw` is not one: it must have
/// exactly one `@`, something before it, and a domain of dot-separated non-empty labels
/// with at least one dot. A leading `mailto:` is dropped.
pub fn normalize_email(raw: &str) -> Option<String> {
    let mut text = raw.trim();
    if text.get(..7).is_some_and(|mailto| mailto.eq_ignore_ascii_case("mailto:")) {
        text = &text[7..];
    }
    let lower = text.to_lowercase();
    let (local, domain) = lower.split_once('@')?;
    if local.is_empty() || domain.contains('@') || lower.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return None;
    }
    Some(lower)
}

/// The lower-cased form of a social handle with its leading `@` (`AnnB` → `@annb`), or
/// `None` when it is empty or holds white space.
pub fn normalize_handle(raw: &str) -> Option<String> {
    let text = raw.trim();
    let name = text.strip_prefix('@').unwrap_or(text);
    if name.is_empty() || name.starts_with('@') || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some(format!("@{}", name.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_is_its_own_normal_form() {
        for text in ["+447700900001", "+12025550100", "+1234567", "+123456789012345"] {
            assert!(is_e164(text), "{text}");
            assert_eq!(normalize_phone(text, None).as_deref(), Some(text));
        }
        for text in
            [" +447700900001", "+44 7700 900001", "+123456", "+1234567890123456", "+0447700900001", "447700900001"]
        {
            assert!(!is_e164(text), "{text}");
        }
        assert!(!is_e164("+44770090000\u{661}"), "digits are ASCII digits");
    }

    #[test]
    fn phones() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            // International forms need no region.
            ("+447700900001", None, Some("+447700900001")),
            ("+44 7700 900001", None, Some("+447700900001")),
            ("+44 (0)7700 900001", None, Some("+447700900001")),
            ("+44-7700-900-001", None, Some("+447700900001")),
            ("+1 (202) 555-0100", None, Some("+12025550100")),
            ("+1.202.555.0100", None, Some("+12025550100")),
            ("  +46 70 090 0002  ", None, Some("+46700900002")),
            ("0044 7700 900001", None, Some("+447700900001")),
            ("0046700900002", Some("GB"), Some("+46700900002")),
            ("tel:+447700900001", None, Some("+447700900001")),
            ("TEL: +44 7700 900001", None, Some("+447700900001")),
            ("+44 7700 900001", Some("US"), Some("+447700900001")),
            // National forms, with a region.
            ("07700 900001", Some("GB"), Some("+447700900001")),
            ("07700900001", Some("gb"), Some("+447700900001")),
            ("07700900001", Some("UK"), Some("+447700900001")),
            ("(020) 7946 0000", Some("GB"), Some("+442079460000")),
            ("(202) 555-0100", Some("US"), Some("+12025550100")),
            ("202-555-0100", Some("US"), Some("+12025550100")),
            ("1-202-555-0100", Some("US"), Some("+12025550100")),
            ("416 555 0199", Some("CA"), Some("+14165550199")),
            ("011 44 7700 900001", Some("US"), Some("+447700900001")),
            ("01 23 45 67 89", Some("FR"), Some("+33123456789")),
            ("0612345678", Some("NL"), Some("+31612345678")),
            ("612 345 678", Some("ES"), Some("+34612345678")),
            ("06 1234 5678", Some("IT"), Some("+390612345678")),
            ("070-090 0002", Some("SE"), Some("+46700900002")),
            ("0412 345 678", Some("AU"), Some("+61412345678")),
            ("087 123 4567", Some("IE"), Some("+353871234567")),
            // Not numbers, or not numbers we can place.
            ("", None, None),
            ("   ", Some("GB"), None),
            ("+", None, None),
            ("07700 900001", None, None),
            ("07700 900001", Some("XX"), None),
            ("+44 7700 900001", Some("XX"), Some("+447700900001")),
            ("7700 900001", Some("GB"), None),
            ("077009000011234", Some("GB"), None),
            ("555-0100", Some("US"), None),
            ("(102) 555-0100", Some("US"), None),
            ("+44 7700 9000x1", None, None),
            ("+44 7700 900001 ext 2", None, None),
            ("call me", Some("GB"), None),
            ("++447700900001", None, None),
            ("+123456", None, None),
            ("+1234567890123456", None, None),
            ("+0447700900001", None, None),
            ("ann@example.com", Some("GB"), None),
        ];
        for (raw, region, expected) in cases {
            assert_eq!(normalize_phone(raw, *region).as_deref(), *expected, "{raw:?} in {region:?}");
        }
    }

    #[test]
    fn seven_and_fifteen_digits_are_the_bounds() {
        assert_eq!(normalize_phone("+1234567", None).as_deref(), Some("+1234567"));
        assert_eq!(normalize_phone("+123456789012345", None).as_deref(), Some("+123456789012345"));
    }

    #[test]
    fn every_region_is_reachable_by_its_code() {
        for r in REGIONS {
            assert_eq!(region(&r.code.to_lowercase()).map(|found| found.code), Some(r.code));
            assert!(r.national_digits.0 <= r.national_digits.1, "{}", r.code);
        }
    }

    #[test]
    fn emails() {
        let cases: &[(&str, Option<&str>)] = &[
            ("ann@example.com", Some("ann@example.com")),
            ("  Ann@Example.COM ", Some("ann@example.com")),
            ("mailto:Bo@example.com", Some("bo@example.com")),
            ("first.last+tag@mail.example.co.uk", Some("first.last+tag@mail.example.co.uk")),
            ("", None),
            ("ann", None),
            ("ann@", None),
            ("@example.com", None),
            ("ann@example", None),
            ("ann@@example.com", None),
            ("ann@bo@example.com", None),
            ("ann@example..com", None),
            ("ann@.example.com", None),
            ("ann@example.com.", None),
            ("ann b@example.com", None),
            ("+447700900001", None),
            ("@annb", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_email(raw).as_deref(), *expected, "{raw:?}");
        }
    }

    /// Found by the `answers` fuzz target: a text whose fourth or seventh byte falls
    /// inside a character panicked where `tel:` and `mailto:` were looked for.
    #[test]
    fn a_text_with_wide_characters_at_the_front_is_no_panic() {
        assert_eq!(normalize_email("\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd} £30"), None);
        assert_eq!(normalize_email("ab\u{e9}@example.com").as_deref(), Some("ab\u{e9}@example.com"));
        assert_eq!(normalize_phone("ab\u{20ac}", Some("GB")), None);
        assert_eq!(normalize_phone("+4\u{20ac}", None), None);
    }

    #[test]
    fn handles() {
        let cases: &[(&str, Option<&str>)] = &[
            ("@annb", Some("@annb")),
            ("@AnnB", Some("@annb")),
            ("  @Raj_K ", Some("@raj_k")),
            ("annb", Some("@annb")),
            ("", None),
            ("@", None),
            ("  @ ", None),
            ("@@annb", None),
            ("@ann b", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_handle(raw).as_deref(), *expected, "{raw:?}");
        }
    }
}
