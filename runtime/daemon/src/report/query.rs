//! A report as someone asks for it, in words (the CLI's flags, the managers' page's query
//! string): read from a store, checked, and computed. One place, so that `switchboard
//! report` and `GET /reports` answer the same question the same way.

use super::{By, Interval, Options, Report, Targets};
use crate::store::Reader;
use switchboard_bytecode::bytecode::Bundle;

/// What is asked. Times are RFC 3339, or a date with an optional time and zone
/// (`2026-11-23`, `2026-11-23 08:00 Europe/London`; no zone is UTC).
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub from: Option<String>,
    pub to: Option<String>,
    pub tz: Option<String>,
    pub interval: Option<Interval>,
    pub by: By,
    pub segment: Option<String>,
    pub fcr_window_ms: i64,
}

impl Query {
    /// The report over `reader`'s store, and how many stored events could not be read.
    /// `flag` names a parameter in errors as the asker wrote it (`--from`, `from`).
    pub fn run(&self, reader: &Reader, flag: &dyn Fn(&str) -> String) -> Result<(Report, u64), String> {
        let zone_arg = self
            .tz
            .as_deref()
            .map(|name| {
                jiff::tz::TimeZone::get(name).map_err(|_| format!("{}: `{name}` is not a time zone", flag("tz")))
            })
            .transpose()?;
        let from = self.from.as_deref().map(|t| parse_time(&flag("from"), t)).transpose()?;
        let to = self.to.as_deref().map(|t| parse_time(&flag("to"), t)).transpose()?;
        if let (Some(from), Some(to)) = (&from, &to) {
            if from.timestamp() >= to.timestamp() {
                return Err(format!(
                    "{} ({}) must be before {} ({})",
                    flag("from"),
                    from.strftime("%Y-%m-%d %H:%M %Q"),
                    flag("to"),
                    to.strftime("%Y-%m-%d %H:%M %Q")
                ));
            }
        }
        let zone = zone_arg
            .or_else(|| from.as_ref().or(to.as_ref()).map(|z| z.time_zone().clone()))
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let mut targets = Targets::default();
        for (hash, bytes) in reader.bundle_bytes().map_err(|e| e.to_string())? {
            let bundle = Bundle::from_bytes(&bytes)
                .map_err(|e| format!("the store's bundle {} cannot be read: {e}", &hash[..12.min(hash.len())]))?;
            targets.add(&bundle);
        }
        let from_ms = from.as_ref().map(|z| z.timestamp().as_millisecond());
        let (events, unread) = reader.events_since(from_ms).map_err(|e| e.to_string())?;
        let reviews = reader.reviews().map_err(|e| e.to_string())?;
        let reviews = reviews.into_iter().map(|r| (r.contact, r.agent, r.score)).collect();
        let options = Options {
            reviews,
            from_ms,
            to_ms: to.as_ref().map(|z| z.timestamp().as_millisecond()),
            interval: self.interval,
            zone,
            by: self.by,
            segment: self.segment.clone(),
            fcr_window_ms: self.fcr_window_ms,
            targets,
        };
        Ok((Report::compute(&events, &options), unread))
    }
}

/// RFC 3339, or `2026-11-23[ 08:00][ Europe/London]`.
pub fn parse_time(flag: &str, text: &str) -> Result<jiff::Zoned, String> {
    let text = text.trim();
    let bad = |why: String| {
        format!(
            "{flag}: expected a time like `2026-11-23T08:00:00Z`, `2026-11-23` or `2026-11-23 08:00 Europe/London`: {why}"
        )
    };
    if text.contains('T') && !text.contains(' ') {
        let at: jiff::Timestamp = text.parse().map_err(|e| bad(format!("`{text}` is not an RFC 3339 time ({e})")))?;
        return Ok(at.to_zoned(jiff::tz::TimeZone::UTC));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let with_time = match words[..] {
        [date] => format!("{date} 00:00"),
        [date, second] if !second.contains(':') => format!("{date} 00:00 {second}"),
        _ => text.to_string(),
    };
    switchboard_calendar::parse_at(&with_time).map_err(bad)
}

impl By {
    pub fn parse(text: &str) -> Option<By> {
        Some(match text {
            "queue" => By::Queue,
            "channel" => By::Channel,
            "flow" => By::Flow,
            "waypoint" => By::Waypoint,
            "agent" => By::Agent,
            _ => return None,
        })
    }
}
