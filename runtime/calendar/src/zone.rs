//! Time zones from the bundled database, and how a local (wall-clock) time becomes an instant.
//!
//! **DST policy.** Every helper in `calendar` reads a local time as *the moment the zone's wall
//! clock reaches it*:
//! - a local time that happens once is that instant;
//! - a local time that happens twice (clocks go back) is its *first* occurrence, as in jiff's
//!   `compatible` disambiguation;
//! - a local time that never happens (clocks go forward over it) is the instant the clock jumps
//!   over it, that is the transition itself: `01:30` on 2026-03-29 in Europe/London is
//!   01:00 UTC, when the clock goes from 00:59:59 GMT to 02:00 BST. (jiff's `compatible` would
//!   give 02:30 BST instead; we take the jump so that "open from 01:30" and "quiet until
//!   01:30" agree with what a wall clock shows: at 02:00 BST it is already past 01:30.)

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Timestamp};
use std::sync::LazyLock;

/// The IANA database compiled into the binary, so results never depend on the host.
static BUNDLED: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// Minutes in a day: `24:00`.
pub const DAY_MINUTES: u32 = 24 * 60;

/// Looks up an IANA time zone (`"Europe/London"`, `"UTC"`) in the bundled database.
///
/// The look-up ignores ASCII case, as the database does.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("expected a time zone like `Europe/London`, found nothing".to_string());
    }
    BUNDLED.get(name).map_err(|_| format!("unknown time zone `{name}`"))
}

/// The first instant at which the zone's wall clock shows `local` (see the module's DST policy).
///
/// Saturates at the ends of the supported range (years -9999 and 9999).
pub fn resolve_local(zone: &TimeZone, local: DateTime) -> Timestamp {
    occurrences(zone, local)[0]
}

/// Every instant at which the wall clock shows `local`, earliest first: one, or two when the
/// clocks go back over it; for a skipped time, the instant of the jump.
pub(crate) fn occurrences(zone: &TimeZone, local: DateTime) -> Vec<Timestamp> {
    match zone.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => vec![saturate(offset.to_timestamp(local), local)],
        AmbiguousOffset::Fold { before, after } => {
            vec![saturate(before.to_timestamp(local), local), saturate(after.to_timestamp(local), local)]
        }
        AmbiguousOffset::Gap { before, after } => {
            // Read with the later offset, `local` lies just before the transition that skips it.
            let early = saturate(after.to_timestamp(local), local);
            let jump = zone.following(early).take(4).find(|t| t.offset() == after).map(|t| t.timestamp());
            vec![jump.unwrap_or_else(|| saturate(before.to_timestamp(local), local))]
        }
    }
}

fn saturate(result: Result<Timestamp, jiff::Error>, local: DateTime) -> Timestamp {
    result.unwrap_or(if local.date().year() < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

/// The wall-clock date and time `minutes` after the start of `day` (`24:00` is the next midnight).
pub(crate) fn wall(day: Date, minutes: u32) -> Option<DateTime> {
    day.to_datetime(Time::midnight()).checked_add(SignedDuration::from_mins(i64::from(minutes))).ok()
}

/// Seconds since local midnight of a wall-clock time.
pub(crate) fn second_of_day(local: DateTime) -> u32 {
    let time = local.time();
    // Hours, minutes and seconds of a civil time are never negative.
    (time.hour() as u32) * 3600 + (time.minute() as u32) * 60 + time.second() as u32
}

/// Days since Monday: 0 for Monday, 6 for Sunday.
pub(crate) fn weekday_index(day: Date) -> usize {
    day.weekday().to_monday_zero_offset() as usize
}

/// Finds the first instant `≥ from` that a wall-clock search accepts, walking the zone's
/// stretches of constant UTC offset in order. Within one stretch the wall clock runs evenly, so
/// `search(start, end)` is asked for the first acceptable wall time in `[start, end)`; a stretch
/// ends at the next transition or at the end of `last_day`, beyond which nothing is searched.
pub(crate) fn first_instant(
    zone: &TimeZone,
    from: Timestamp,
    last_day: Date,
    mut search: impl FnMut(DateTime, DateTime) -> Option<DateTime>,
) -> Option<Timestamp> {
    let horizon = last_day.tomorrow().ok()?.to_datetime(Time::midnight());
    let mut start = from;
    loop {
        let offset = zone.to_offset(start);
        let wall_start = offset.to_datetime(start);
        if wall_start >= horizon {
            return None;
        }
        let transition = zone.following(start).next().map(|t| t.timestamp());
        let wall_end = transition.map_or(horizon, |t| offset.to_datetime(t).min(horizon));
        if let Some(found) = search(wall_start, wall_end) {
            return offset.to_timestamp(found).ok();
        }
        start = transition?;
    }
}
