//! Where "now" comes from: the system clock when serving, a virtual clock in tests.
//!
//! Only the engine asks a `Clock`; the VM never does (it is told the time).

use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex, PoisonError};

/// Monday 2026-01-05 12:00 UTC: where a test's virtual clock starts without an `at` line.
pub const TEST_START: Timestamp = Timestamp::constant(1_767_614_400, 0);

/// A source of the current instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The host's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to. Clones share one time, so the test runner can hold
/// one handle and the engine another.
#[derive(Clone, Debug)]
pub struct VirtualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl VirtualClock {
    pub fn new(start: Timestamp) -> VirtualClock {
        VirtualClock { now: Arc::new(Mutex::new(start)) }
    }

    /// Sets the time; it may move backwards; whether that makes sense is the caller's call.
    pub fn set(&self, now: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time by `by` (exact elapsed time), saturating at the ends of jiff's range, and
    /// returns the new time.
    pub fn advance(&self, by: SignedDuration) -> Timestamp {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        let saturated = if by.is_negative() { Timestamp::MIN } else { Timestamp::MAX };
        *now = now.checked_add(by).unwrap_or(saturated);
        *now
    }
}

impl Default for VirtualClock {
    /// A clock at `TEST_START`.
    fn default() -> VirtualClock {
        VirtualClock::new(TEST_START)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
