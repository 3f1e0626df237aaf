//! Where "now" comes from: the system clock when serving, a virtual clock in tests.
//!
//! Shells ask a `Clock` and tell the engine the time with each step; the engine and the VM
//! never read a clock. This is the one place outside the binary's edge that reads the host's.

use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex, PoisonError};

pub use switchboard_calendar::TEST_START;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Timestamp {
        switchboard_calendar::parse_local(text, "UTC").expect("a UTC time")
    }

    #[test]
    fn the_test_clock_starts_at_test_start() {
        assert_eq!(VirtualClock::default().now(), TEST_START);
    }

    #[test]
    fn virtual_clock_handles_share_one_time() {
        let clock = VirtualClock::default();
        let engine: Box<dyn Clock> = Box::new(clock.clone());
        assert_eq!(clock.advance(SignedDuration::from_secs(10)), utc("2026-01-05 12:00:10"));
        assert_eq!(engine.now(), utc("2026-01-05 12:00:10"));
        clock.set(utc("2026-11-23 10:00"));
        assert_eq!(engine.now(), utc("2026-11-23 10:00"));
        clock.set(Timestamp::MAX);
        assert_eq!(clock.advance(SignedDuration::from_secs(1)), Timestamp::MAX);
    }

    #[test]
    fn the_system_clock_is_after_the_test_start() {
        assert!(SystemClock.now() > TEST_START);
    }
}
