//! Time for the runtime: clocks, time zones, business hours, quiet hours, retry timelines and
//! durable timers.
//!
//! **Architecture Invariant:** nothing here reads the host's clock (`clippy.toml`), and every
//! time zone comes from the IANA database bundled into the binary (`time_zone`), so the same
//! inputs give the same instants on every machine. Callers pass "now" in; the shells' clocks
//! live in `switchboard-shell`.
//!
//! Local times are read on the wall clock of a zone; how a local time that the clocks skip or
//! repeat becomes an instant is the one DST policy in `zone`.
//!
//! - `zone`: `time_zone`, `resolve_local` and the DST policy
//! - `hours`: `Hours` (`is_open`, `next_open`, `next_close`)
//! - `quiet`: `Quiet` (`contains`, `release`)
//! - `timeline`: retry steps (`next_at`, `after`, `again`, `hold`)
//! - `timers`: `Timers`, `InMemoryTimers`
//! - `parse`: `parse_local`, `parse_at`

mod hours;
mod parse;
mod quiet;
mod timeline;
mod timers;
mod zone;

#[cfg(test)]
mod tests;

/// Monday 2026-01-05 12:00 UTC: where a test's virtual clock starts without an `at` line.
pub const TEST_START: jiff::Timestamp = jiff::Timestamp::constant(1_767_614_400, 0);

pub use hours::{Hours, HoursSpec};
pub use parse::{parse_at, parse_local};
pub use quiet::Quiet;
pub use timeline::{after, again, hold, next_at};
pub use timers::{InMemoryTimers, Pending, TimerId, Timers};
pub use zone::{resolve_local, time_zone, DAY_MINUTES};
