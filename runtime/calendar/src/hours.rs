//! Business hours: weekly opening ranges in a time zone, with closed dates.

use super::zone::{first_instant, second_of_day, time_zone, wall, weekday_index, DAY_MINUTES};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Days of the week as the errors name them, Monday first.
const DAY_NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// When a contact center is open, read on the wall clock of its time zone.
///
/// Built from plain data (what an `hours` declaration says) and serialized as that data.
///
/// - A range `(start, end)` is in minutes from local midnight; `end` may be `24:00` (1440).
/// - A range whose end is before its start runs overnight: `22:00-06:00` on Friday is open
///   Friday 22:00-24:00 and Saturday 00:00-06:00.
/// - Closed dates win: on a closed date nothing is open, including the morning part of an
///   overnight range that started the evening before.
/// - Opening and closing follow the wall clock through DST changes: on the night the clocks go
///   back an hour, `00:00-01:30` is open twice; a range that starts inside a skipped hour opens
///   when the clocks jump (see `calendar::zone` for the policy).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "HoursSpec", into = "HoursSpec")]
pub struct Hours {
    spec: HoursSpec,
    zone: TimeZone,
    /// Per weekday, Monday first: sorted, merged `[start, end)` minute ranges within the day,
    /// overnight ranges already split.
    days: [Vec<(u32, u32)>; 7],
    closed: BTreeSet<Date>,
}

/// The plain data an `Hours` is built from and serialized as.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoursSpec {
    pub zone: String,
    pub weekly: [Vec<(u32, u32)>; 7],
    pub closed: Vec<Date>,
}

impl Hours {
    /// Checks and builds business hours. `weekly` is Monday first; times are minutes from
    /// local midnight.
    pub fn new(zone: &str, weekly: [Vec<(u32, u32)>; 7], closed: Vec<Date>) -> Result<Hours, String> {
        Hours::try_from(HoursSpec { zone: zone.to_string(), weekly, closed })
    }

    /// The time zone the hours are read in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The data the hours were built from.
    pub fn spec(&self) -> &HoursSpec {
        &self.spec
    }

    /// Whether the hours are open at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = self.zone.to_datetime(at);
        let second = second_of_day(local);
        self.ranges_on(local.date()).iter().any(|&(start, end)| start * 60 <= second && second < end * 60)
    }

    /// The first instant at or after `after` at which the hours are open: `after` itself when
    /// they are open then, `None` when they never open again.
    pub fn next_open(&self, after: Timestamp) -> Option<Timestamp> {
        if self.days.iter().all(Vec::is_empty) {
            return None;
        }
        first_instant(&self.zone, after, self.last_day(after), |from, until| self.first_wall(from, until, true))
    }

    /// The first instant at or after `after` at which the hours are closed: `after` itself when
    /// they are closed then, `None` when they never close again (open all week, no closed date
    /// ahead).
    pub fn next_close(&self, after: Timestamp) -> Option<Timestamp> {
        first_instant(&self.zone, after, self.last_day(after), |from, until| self.first_wall(from, until, false))
    }

    /// The opening ranges of one local date.
    fn ranges_on(&self, day: Date) -> &[(u32, u32)] {
        if self.closed.contains(&day) {
            &[]
        } else {
            &self.days[weekday_index(day)]
        }
    }

    /// The last local date worth searching from `after`: a week past the later of `after` and the
    /// last closed date, since after that every week repeats.
    fn last_day(&self, after: Timestamp) -> Date {
        let today = self.zone.to_datetime(after).date();
        let from = self.closed.last().map_or(today, |&last| last.max(today));
        from.checked_add(jiff::Span::new().days(8)).unwrap_or(Date::MAX)
    }

    /// The first wall-clock time in `[from, until)` that is open (`want_open`) or closed.
    fn first_wall(&self, from: DateTime, until: DateTime, want_open: bool) -> Option<DateTime> {
        let mut day = from.date();
        while wall(day, 0)? < until {
            let ranges = self.ranges_on(day);
            let wanted: Vec<(u32, u32)> = if want_open { ranges.to_vec() } else { complement(ranges) };
            for (start, end) in wanted {
                let (start, end) = (wall(day, start)?, wall(day, end)?);
                if end > from && start < until {
                    return Some(start.max(from));
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }
}

/// The parts of a day not covered by sorted, disjoint ranges.
fn complement(ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut gaps = Vec::new();
    let mut at = 0;
    for &(start, end) in ranges {
        if start > at {
            gaps.push((at, start));
        }
        at = end;
    }
    if at < DAY_MINUTES {
        gaps.push((at, DAY_MINUTES));
    }
    gaps
}

impl TryFrom<HoursSpec> for Hours {
    type Error = String;

    fn try_from(spec: HoursSpec) -> Result<Hours, String> {
        let zone = time_zone(&spec.zone)?;
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for (index, ranges) in spec.weekly.iter().enumerate() {
            for &(start, end) in ranges {
                let day = DAY_NAMES[index];
                if start >= DAY_MINUTES || end > DAY_MINUTES {
                    return Err(format!(
                        "{day} {}-{}: a range must lie within 00:00-24:00",
                        clock_time(start),
                        clock_time(end)
                    ));
                }
                if start == end {
                    return Err(format!(
                        "{day} {}-{}: a range must not open and close at the same time (all day is 00:00-24:00)",
                        clock_time(start),
                        clock_time(end)
                    ));
                }
                if start < end {
                    days[index].push((start, end));
                } else {
                    days[index].push((start, DAY_MINUTES));
                    if end > 0 {
                        days[(index + 1) % 7].push((0, end));
                    }
                }
            }
        }
        for ranges in &mut days {
            *ranges = merge(std::mem::take(ranges));
        }
        let closed = spec.closed.iter().copied().collect();
        Ok(Hours { spec, zone, days, closed })
    }
}

impl From<Hours> for HoursSpec {
    fn from(hours: Hours) -> HoursSpec {
        hours.spec
    }
}

/// Sorts ranges and joins those that overlap or touch.
fn merge(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `HH:MM` for minutes from midnight, as the language writes times.
pub(crate) fn clock_time(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}
