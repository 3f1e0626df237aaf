//! Reading dates and times as the CLI and `test` blocks write them: `2026-11-23 10:00`,
//! `2026-11-23 10:00:30`, optionally followed by a zone (`Europe/London`, quotes allowed).

use super::zone::{resolve_local, time_zone};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

const EXAMPLE: &str = "2026-11-23 10:00";

/// Reads `2026-11-23 10:00` (or `10:00:30`) as a local time in `zone`.
///
/// A local time the clocks skip or repeat follows the DST policy of `calendar::zone`.
pub fn parse_local(text: &str, zone: &str) -> Result<Timestamp, String> {
    let zone = time_zone(zone)?;
    let mut words = text.split_whitespace();
    let (Some(date), Some(time), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!("expected a date and time like `{EXAMPLE}`, found `{}`", text.trim()));
    };
    instant(&zone, DateTime::from_parts(parse_date(date)?, parse_time(time)?))
}

/// Reads `2026-11-23 10:00 Europe/London` (seconds optional; the zone may be quoted, and without
/// one the time is UTC). Returns the instant together with its zone, so later local times (an
/// `advance to` line) can be read in the same zone.
pub fn parse_at(text: &str) -> Result<Zoned, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (date, time, zone) = match words[..] {
        [date, time] => (date, time, "UTC"),
        [date, time, zone] => (date, time, unquote(zone)),
        _ => {
            return Err(format!(
                "expected a date and time like `{EXAMPLE}`, optionally followed by a time zone like `Europe/London`, found `{}`",
                text.trim()
            ))
        }
    };
    let zone = time_zone(zone)?;
    let local = DateTime::from_parts(parse_date(date)?, parse_time(time)?);
    Ok(instant(&zone, local)?.to_zoned(zone))
}

/// The instant of a local time, or an error at the very ends of the supported range.
fn instant(zone: &TimeZone, local: DateTime) -> Result<Timestamp, String> {
    zone.to_timestamp(local)
        .map_err(|_| format!("`{}` is outside the supported range of years", local.strftime("%Y-%m-%d %H:%M")))?;
    Ok(resolve_local(zone, local))
}

fn unquote(word: &str) -> &str {
    word.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(word)
}

/// `YYYY-MM-DD`.
fn parse_date(word: &str) -> Result<Date, String> {
    let bad = || format!("expected a date like `2026-11-23`, found `{word}`");
    let parts: Vec<&str> = word.split('-').collect();
    let [year, month, day] = parts[..] else { return Err(bad()) };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(bad());
    }
    let (year, month, day) =
        (number(year).ok_or_else(bad)?, number(month).ok_or_else(bad)?, number(day).ok_or_else(bad)?);
    // Four digits keep the year within jiff's range.
    Date::new(year as i16, month as i8, day as i8).map_err(|_| format!("`{word}` is not a date"))
}

/// `HH:MM` or `HH:MM:SS`.
fn parse_time(word: &str) -> Result<Time, String> {
    let bad = || format!("expected a time like `10:00` or `10:00:30`, found `{word}`");
    let parts: Vec<&str> = word.split(':').collect();
    let (hour, minute, second) = match parts[..] {
        [hour, minute] => (hour, minute, "00"),
        [hour, minute, second] => (hour, minute, second),
        _ => return Err(bad()),
    };
    if [hour, minute, second].iter().any(|part| part.len() != 2) {
        return Err(bad());
    }
    let (hour, minute, second) =
        (number(hour).ok_or_else(bad)?, number(minute).ok_or_else(bad)?, number(second).ok_or_else(bad)?);
    // Two digits each: at most 99, which `Time::new` rejects when out of range.
    Time::new(hour as i8, minute as i8, second as i8, 0).map_err(|_| format!("`{word}` is not a time of day"))
}

/// A run of ASCII digits (no sign, no spaces).
fn number(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
