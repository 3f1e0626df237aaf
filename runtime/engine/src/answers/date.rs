//! Dates as customers type or say them, with the year in full:
//!
//! - `2026-12-01`, `2026/12/01`, `2026.12.01`: year first, then month and day, anywhere;
//! - `1/12/2026` or `1-12-2026`: read by the contact's country, month first in the US
//!   (and the territories that write dates its way), day first in the rest of the world;
//!   where the country is not known, or writes both ways (Canada), only when one reading
//!   is a date (`25/12/2026`, `12/25/2026`, `1/1/2026`) and refused when both are;
//! - `1.12.2026`: day first everywhere (no one writes month first with dots);
//! - `1 Dec 2026`, `1 December 2026`, `1st of December 2026`, `Dec 1 2026`,
//!   `December 1st, 2026`, `1-Dec-2026`, in English, with an optional weekday in front
//!   that must be the date's (`Tuesday 1 December 2026`).
//!
//! A date the calendar does not have (`31/2/2026`) is refused, as is a two-digit year.

use jiff::civil::{Date, Weekday};

/// Longer than any date written out in words.
const MAX_CHARS: usize = 48;

/// Countries that write numeric dates month first.
const MONTH_FIRST: &[&str] = &["US", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"];
/// Countries where both orders are common, so a numeric date is read only when one order
/// makes a date.
const EITHER_ORDER: &[&str] = &["CA"];

/// How a country writes `d/m/y`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Order {
    DayFirst,
    MonthFirst,
    /// Not known, or both: only a date that reads one way.
    Unknown,
}

fn order(country: Option<&str>) -> Order {
    let Some(code) = country.map(str::trim).filter(|c| !c.is_empty()) else { return Order::Unknown };
    let code = code.to_ascii_uppercase();
    if MONTH_FIRST.contains(&code.as_str()) {
        Order::MonthFirst
    } else if EITHER_ORDER.contains(&code.as_str()) {
        Order::Unknown
    } else {
        Order::DayFirst
    }
}

/// The date `text` gives, numeric forms read as `country` writes them; `None` when it is
/// not a date, not a date the calendar has, or could be two dates.
pub fn parse(text: &str, country: Option<&str>) -> Option<Date> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_CHARS {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'.')) {
        numeric(text, order(country))
    } else {
        in_words(&text.to_lowercase())
    }
}

/// `y-m-d`, `d/m/y`, `m/d/y`, `d.m.y`: three numbers between one kind of separator.
fn numeric(text: &str, order: Order) -> Option<Date> {
    let separator = text.chars().find(|c| !c.is_ascii_digit())?;
    let parts: Vec<&str> = text.split(separator).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let short = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let year = |p: &str| p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit());
    if year(a) && short(b) && short(c) {
        return date(a, b, c);
    }
    if !(short(a) && short(b) && year(c)) {
        return None;
    }
    let day_first = date(c, b, a);
    let month_first = date(c, a, b);
    match (separator, order) {
        ('.', _) | (_, Order::DayFirst) => day_first,
        (_, Order::MonthFirst) => month_first,
        (_, Order::Unknown) => match (day_first, month_first) {
            (Some(d), Some(m)) => (d == m).then_some(d),
            (one, other) => one.or(other),
        },
    }
}

fn date(year: &str, month: &str, day: &str) -> Option<Date> {
    Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()
}

/// `1 Dec 2026`, `Dec 1 2026` and their kin: a day, a month's name and a year, in either
/// order of day and month, after an optional weekday.
fn in_words(lower: &str) -> Option<Date> {
    let mut words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '/' | '.'))
        .filter(|w| !w.is_empty() && !matches!(*w, "of" | "the"))
        .collect();
    let weekday = match words.first().and_then(|w| weekday(w)) {
        Some(w) => {
            words.remove(0);
            Some(w)
        }
        None => None,
    };
    let (day, month, year) = match words.as_slice() {
        [d, m, y] if month(m).is_some() => (day(d)?, month(m)?, year(y)?),
        [m, d, y] if month(m).is_some() => (day(d)?, month(m)?, year(y)?),
        _ => return None,
    };
    let found = Date::new(year, month, day).ok()?;
    weekday.is_none_or(|w| found.weekday() == w).then_some(found)
}

/// `1`, `01`, `1st`, `2nd`, `3rd`, `4th`, `21st` …, with the suffix English gives the number.
fn day(word: &str) -> Option<i8> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !(1..=2).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i8 = digits.parse().ok()?;
    let proper = match (n % 10, n / 10 % 10) {
        (_, 1) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    (suffix.is_empty() || suffix == proper).then_some(n)
}

fn year(word: &str) -> Option<i16> {
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit())).then(|| word.parse().ok()).flatten()
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month by its English name or the name's first three letters (`sept` too).
fn month(word: &str) -> Option<i8> {
    let at = MONTHS.iter().position(|m| {
        *m == word || (word.len() == 3 && m.starts_with(word)) || (word == "sept" && *m == "september")
    })?;
    Some(at as i8 + 1)
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// A weekday by its English name or the name's first three letters.
fn weekday(word: &str) -> Option<Weekday> {
    WEEKDAYS.iter().find(|(name, _)| *name == word || (word.len() == 3 && name.starts_with(word))).map(|(_, w)| *w)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use jiff::civil::{date, Date};

    const DEC_1: Date = date(2026, 12, 1);

    #[test]
    fn a_numeric_date_is_read_day_first_in_the_uk() {
        assert_eq!(parse("1/12/2026", Some("GB")), Some(DEC_1));
        assert_eq!(parse("01/12/2026", Some("GB")), Some(DEC_1));
        assert_eq!(parse("1-12-2026", Some("FR")), Some(DEC_1));
        assert_eq!(parse("25/12/2026", Some("GB")), Some(date(2026, 12, 25)));
        assert_eq!(parse("12/25/2026", Some("GB")), None, "there is no 25th month");
    }

    #[test]
    fn a_numeric_date_is_read_month_first_in_the_us() {
        assert_eq!(parse("12/1/2026", Some("US")), Some(DEC_1));
        assert_eq!(parse("12-01-2026", Some("us")), Some(DEC_1));
        assert_eq!(parse("1/12/2026", Some("US")), Some(date(2026, 1, 12)));
        assert_eq!(parse("25/12/2026", Some("US")), None, "there is no 25th month");
    }

    #[test]
    fn a_numeric_date_that_reads_two_ways_is_refused_where_the_country_is_unknown() {
        for country in [None, Some(""), Some("CA")] {
            assert_eq!(parse("1/12/2026", country), None, "{country:?}");
            assert_eq!(parse("12/1/2026", country), None, "{country:?}");
            assert_eq!(parse("25/12/2026", country), Some(date(2026, 12, 25)), "{country:?}");
            assert_eq!(parse("12/25/2026", country), Some(date(2026, 12, 25)), "{country:?}");
            assert_eq!(parse("3/3/2026", country), Some(date(2026, 3, 3)), "{country:?}");
            assert_eq!(parse("2026-12-01", country), Some(DEC_1), "{country:?}");
            assert_eq!(parse("1.12.2026", country), Some(DEC_1), "{country:?}");
        }
    }

    #[test]
    fn year_first_dates_are_read_anywhere() {
        for country in [None, Some("GB"), Some("US")] {
            assert_eq!(parse("2026-12-01", country), Some(DEC_1));
            assert_eq!(parse("2026/12/01", country), Some(DEC_1));
            assert_eq!(parse("2026.12.1", country), Some(DEC_1));
            assert_eq!(parse(" 2026-12-01 ", country), Some(DEC_1));
        }
    }

    #[test]
    fn a_dotted_date_is_day_first_even_in_the_us() {
        assert_eq!(parse("1.12.2026", Some("DE")), Some(DEC_1));
        assert_eq!(parse("1.12.2026", Some("US")), Some(DEC_1));
    }

    #[test]
    fn dates_in_words() {
        for text in [
            "1 Dec 2026",
            "1 dec 2026",
            "Dec 1 2026",
            "Dec 1, 2026",
            "Dec. 1, 2026",
            "1 December 2026",
            "December 1 2026",
            "December 1st, 2026",
            "1st December 2026",
            "1st of December 2026",
            "the 1st of December, 2026",
            "01 DEC 2026",
            "1-Dec-2026",
            "Tuesday 1 December 2026",
            "Tue, 1 Dec 2026",
        ] {
            for country in [None, Some("GB"), Some("US")] {
                assert_eq!(parse(text, country), Some(DEC_1), "{text:?} in {country:?}");
            }
        }
        assert_eq!(parse("22nd Sept 2026", None), Some(date(2026, 9, 22)));
        assert_eq!(parse("11th May 2026", None), Some(date(2026, 5, 11)));
        assert_eq!(parse("May 3rd 2026", None), Some(date(2026, 5, 3)));
    }

    #[test]
    fn a_date_the_calendar_does_not_have_is_refused() {
        for (text, country) in [
            ("31/2/2026", Some("GB")),
            ("2/31/2026", Some("US")),
            ("29/2/2026", Some("GB")),
            ("2026-02-30", None),
            ("2026-13-01", None),
            ("0/12/2026", Some("GB")),
            ("31 April 2026", None),
            ("Feb 29 2026", None),
            ("32 Dec 2026", None),
        ] {
            assert_eq!(parse(text, country), None, "{text:?} in {country:?}");
        }
        assert_eq!(parse("29/2/2028", Some("GB")), Some(date(2028, 2, 29)), "a leap year has it");
    }

    #[test]
    fn what_is_not_a_whole_date_is_refused() {
        for text in [
            "",
            "tomorrow",
            "1/12/26",
            "1/12",
            "1 Dec",
            "Dec 2026",
            "1/12-2026",
            "1//12/2026",
            "1/12/2026/1",
            "123/1/2026",
            "1 Dec 26",
            "1 Dex 2026",
            "1 De 2026",
            "1nd Dec 2026",
            "Monday 1 December 2026",
            "1 Dec 2026 Dec",
            "2026-12-01T10:00",
            "٠١/١٢/٢٠٢٦",
        ] {
            assert_eq!(parse(text, Some("GB")), None, "{text:?}");
        }
    }
}
