//! Time-based changes waiting to happen (offer timeouts, wrap-up ends, prefer windows,
//! overflows, skips ending), in the order they fall due; ties in the order they were set.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One time-based change. Contact timers carry the contact's sequence number, so a timer
/// left behind by a contact that has gone never touches the slot's next occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Timer {
    OfferTimeout { offer: u64 },
    WrapUpEnds { agent: u32 },
    PreferEnds { slot: u32, seq: u64 },
    Overflow { slot: u32, seq: u64 },
    SkipEnds { agent: u32 },
}

/// Where a timer sits, to cancel it.
pub(super) type TimerKey = (i64, u64);

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Timers {
    next: u64,
    #[serde(with = "super::persist")]
    due: BTreeMap<TimerKey, Timer>,
}

impl Timers {
    pub fn set(&mut self, at: i64, timer: Timer) -> TimerKey {
        let key = (at, self.next);
        self.next += 1;
        self.due.insert(key, timer);
        key
    }

    pub fn cancel(&mut self, key: TimerKey) {
        self.due.remove(&key);
    }

    /// The earliest timer due at or before `now`, taken off the list.
    pub fn pop_due(&mut self, now: i64) -> Option<Timer> {
        let entry = self.due.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        Some(entry.remove())
    }

    pub fn next_deadline(&self) -> Option<i64> {
        self.due.first_key_value().map(|(key, _)| key.0)
    }
}
