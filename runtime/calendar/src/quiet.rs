//! Quiet hours: the part of each day in which a retry strategy may not call or text.

use super::hours::clock_time;
use super::zone::{first_instant, second_of_day, wall, DAY_MINUTES};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

/// `quiet 21:00-08:00`: from `from` until `to`, in minutes from local midnight, every day.
///
/// The range may wrap midnight (`21:00-08:00`); `to` may be `24:00`. `from == to` means no
/// quiet hours at all (`Quiet::NONE`, the default). Read on the wall clock of the strategy's
/// time zone, so quiet hours keep their local times across DST changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quiet {
    pub from: u32,
    pub to: u32,
}

impl Quiet {
    /// No quiet hours.
    pub const NONE: Quiet = Quiet { from: 0, to: 0 };

    /// Checked quiet hours: both ends within `00:00-24:00`, and not the whole day.
    pub fn new(from: u32, to: u32) -> Result<Quiet, String> {
        if from > DAY_MINUTES || to > DAY_MINUTES {
            return Err(format!("quiet {}-{}: times must lie within 00:00-24:00", clock_time(from), clock_time(to)));
        }
        if from % DAY_MINUTES == to % DAY_MINUTES && from != to {
            return Err(format!(
                "quiet {}-{}: quiet hours may not cover the whole day",
                clock_time(from),
                clock_time(to)
            ));
        }
        Ok(Quiet { from, to })
    }

    /// Whether there are quiet hours at all.
    pub fn is_none(self) -> bool {
        self.from % DAY_MINUTES == self.to % DAY_MINUTES
    }

    /// Whether `at` falls inside quiet hours, read in `zone`.
    pub fn contains(self, zone: &TimeZone, at: Timestamp) -> bool {
        self.covers(zone.to_datetime(at))
    }

    /// When a call or SMS due at `at` may go: `at` itself outside quiet hours, else the end of
    /// the quiet period it falls in, that is the first instant at which the wall clock shows a
    /// time outside it (DST-aware: `08:00` is 08:00 local on either side of a change).
    pub fn release(self, zone: &TimeZone, at: Timestamp) -> Timestamp {
        if !self.contains(zone, at) {
            return at;
        }
        let today = zone.to_datetime(at).date();
        let last_day = today.checked_add(Span::new().days(3)).unwrap_or(jiff::civil::Date::MAX);
        first_instant(zone, at, last_day, |from, until| self.first_loud(from).filter(|&end| end < until)).unwrap_or(at)
    }

    /// Whether a wall-clock time falls inside quiet hours.
    fn covers(self, local: DateTime) -> bool {
        if self.is_none() {
            return false;
        }
        let second = second_of_day(local);
        let (from, to) = (self.from % DAY_MINUTES * 60, self.to % DAY_MINUTES * 60);
        if from < to {
            from <= second && second < to
        } else {
            second >= from || second < to
        }
    }

    /// The first wall-clock time at or after `local` outside quiet hours.
    fn first_loud(self, local: DateTime) -> Option<DateTime> {
        if !self.covers(local) {
            return Some(local);
        }
        let to = self.to % DAY_MINUTES;
        let day = local.date();
        // Inside a wrapping range, before midnight, the quiet period ends tomorrow morning.
        if to * 60 <= second_of_day(local) {
            wall(day.tomorrow().ok()?, to)
        } else {
            wall(day, to)
        }
    }
}
