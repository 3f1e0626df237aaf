//! What the VM computes with that is built once per bundle instead of on every use: the
//! bundle's business hours and the regexes of its `matches` conditions. The engine builds
//! the tables when it starts and lends them to every run through [`Host`](super::Host);
//! they are never part of a VM's state.
//!
//! Each hours table remembers its answer for the last second it was asked about (a busy
//! line asks `open(office)` about the same second many times); the answer depends on
//! nothing but the instant, so this changes no result.

use super::ops;
use jiff::Timestamp;
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_bytecode::bytecode::{Bundle, ConstId, HoursId, Instr};
use switchboard_calendar::Hours;

#[derive(Debug, Default)]
pub struct Tables {
    /// By `HoursId`; hours that cannot be built (an unknown zone) keep why.
    hours: Vec<Result<OpenHours, String>>,
    /// By `ConstId`: the regex of each pattern a `Matches` instruction names.
    regexes: Vec<Option<Result<regex::Regex, String>>>,
}

/// Business hours and their last answer.
#[derive(Debug)]
struct OpenHours {
    hours: Hours,
    /// The last second asked about and the answer: `(second + EPOCH_SHIFT) << 1 | open`,
    /// or `NOT_ASKED`.
    last: AtomicU64,
}

/// Makes every second a timestamp can hold (±2^39) non-negative.
const EPOCH_SHIFT: i64 = 1 << 40;
const NOT_ASKED: u64 = u64::MAX;

impl OpenHours {
    fn is_open(&self, at: Timestamp) -> bool {
        // The whole second `at` falls in (rounded down, also before 1970).
        let second = at.as_second() - i64::from(at.subsec_nanosecond() < 0);
        let key = ((second + EPOCH_SHIFT) as u64) << 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != NOT_ASKED && last >> 1 == key >> 1 {
            return last & 1 == 1;
        }
        let open = self.hours.is_open(at);
        self.last.store(key | u64::from(open), Ordering::Relaxed);
        open
    }
}

impl Tables {
    pub fn new(bundle: &Bundle) -> Tables {
        let hours = bundle
            .hours
            .iter()
            .map(|h| {
                let hours = Hours::new(&h.zone, h.weekly.clone(), h.closed.clone())?;
                Ok(OpenHours { hours, last: AtomicU64::new(NOT_ASKED) })
            })
            .collect();
        let mut regexes: Vec<Option<Result<regex::Regex, String>>> = Vec::new();
        for instr in bundle.functions.iter().flat_map(|f| &f.code) {
            let Instr::Matches { regex } = instr else { continue };
            if regexes.len() <= regex.index() {
                regexes.resize_with(regex.index() + 1, || None);
            }
            let slot = &mut regexes[regex.index()];
            if slot.is_none() {
                *slot = Some(ops::regex(&bundle.constant(*regex).display()));
            }
        }
        Tables { hours, regexes }
    }

    /// Whether the hours `id` are open at `at`, if the tables hold them.
    pub fn is_open(&self, id: HoursId, at: Timestamp) -> Option<Result<bool, String>> {
        self.hours.get(id.index()).map(|h| h.as_ref().map(|h| h.is_open(at)).map_err(Clone::clone))
    }

    /// The regex of the pattern constant `id`, if the tables hold it.
    pub fn regex(&self, id: ConstId) -> Option<Result<&regex::Regex, String>> {
        self.regexes.get(id.index())?.as_ref().map(|r| r.as_ref().map_err(Clone::clone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_bytecode::bytecode::HoursInfo;

    fn at(text: &str) -> Timestamp {
        switchboard_calendar::parse_local(text, "Europe/London").unwrap()
    }

    #[test]
    fn hours_answer_the_same_remembered_or_not() {
        let weekday = vec![(8 * 60, 18 * 60)];
        let weekly = [weekday.clone(), weekday.clone(), weekday.clone(), weekday.clone(), weekday, vec![], vec![]];
        let office = HoursInfo { name: "office".into(), zone: "Europe/London".into(), weekly, closed: vec![] };
        let bundle = Bundle { hours: vec![office], ..Bundle::default() };
        let tables = Tables::new(&bundle);
        let office = HoursId(0);
        let open = |t: Timestamp| tables.is_open(office, t).unwrap().unwrap();
        let monday_ten = at("2026-11-23 10:00");
        assert!(open(monday_ten));
        assert!(open(monday_ten), "remembered");
        assert!(!open(at("2026-11-23 17:59:59") + jiff::SignedDuration::from_millis(1500)), "18:00:00.5");
        assert!(open(at("2026-11-23 17:59:59") + jiff::SignedDuration::from_millis(999)), "17:59:59.999");
        assert!(!open(at("2026-11-22 10:00")), "Sunday");
        assert!(open(monday_ten));
        assert!(!open(Timestamp::new(-1, -500_000_000).unwrap()), "before 1970: a Wednesday night");
        assert!(tables.is_open(HoursId(1), monday_ten).is_none());
    }
}
