//! When the steps of a retry strategy fall due: `immediately`, `at 11:00`, `after 2h`,
//! `again in 1d at 14:00`, and quiet hours holding calls and SMS (never email).
//!
//! Every function reads local times in the strategy's zone and follows the DST policy of
//! `calendar::zone`. Results saturate at the ends of jiff's range instead of failing.

use super::quiet::Quiet;
use super::zone::{occurrences, resolve_local, wall};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// `at 11:00`: the first instant at or after `after` at which the local clock shows
/// `time_of_day` (minutes from midnight).
///
/// So the same day when the time is still to come (or is exactly now), else the next day. When
/// the clocks go back over the time, its second occurrence counts too; when they skip it, the
/// instant of the jump stands in for it.
pub fn next_at(zone: &TimeZone, after: Timestamp, time_of_day: u32) -> Timestamp {
    let today = zone.to_datetime(after).date();
    // Start a day early: where clocks go back over midnight, later instants can show yesterday.
    let mut day = today.yesterday().unwrap_or(today);
    for _ in 0..4 {
        let Some(local) = wall(day, time_of_day) else { break };
        if let Some(&found) = occurrences(zone, local).iter().find(|&&instant| instant >= after) {
            return found;
        }
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    Timestamp::MAX
}

/// `after 2h`: `delay` after `from`. A delay of whole days (`1d`, `48h`) counts calendar days
/// and keeps the local time across DST changes; any other delay is exact elapsed time.
pub fn after(zone: &TimeZone, from: Timestamp, delay: SignedDuration) -> Timestamp {
    let saturated = if delay.is_negative() { Timestamp::MIN } else { Timestamp::MAX };
    if delay.is_zero() {
        from
    } else if delay.as_nanos() % DAY.as_nanos() == 0 {
        match zone.to_datetime(from).checked_add(delay) {
            Ok(local) => resolve_local(zone, local),
            Err(_) => saturated,
        }
    } else {
        from.checked_add(delay).unwrap_or(saturated)
    }
}

/// `again in D [at T]`: the delay as `after` counts it, then, when `at` is given, that local time
/// on the date reached. Should that be earlier than `from` (a delay under a day with an `at`
/// already past), the next `at` after `from` instead.
pub fn again(zone: &TimeZone, from: Timestamp, delay: SignedDuration, at: Option<u32>) -> Timestamp {
    let due = after(zone, from, delay);
    let Some(time_of_day) = at else { return due };
    let date = zone.to_datetime(due).date();
    let moved = wall(date, time_of_day).map_or(due, |local| resolve_local(zone, local));
    if moved < from {
        next_at(zone, from, time_of_day)
    } else {
        moved
    }
}

/// When a step due at `due` may run: a held step (a call or an SMS, `held = true`) waits for the
/// end of quiet hours; an unheld one (email) runs when due.
pub fn hold(zone: &TimeZone, quiet: Quiet, due: Timestamp, held: bool) -> Timestamp {
    if held {
        quiet.release(zone, due)
    } else {
        due
    }
}
