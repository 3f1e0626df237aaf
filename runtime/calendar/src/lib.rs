//! Time for the runtime: clocks, time zones, business hours, quiet hours, retry timelines and
//! durable timers.
//!
//! **Architecture Invariant:** nothing here reads the host's clock except `SystemClock`, and
//! every time zone comes from the IANA database bundled into the binary (`time_zone`), so the
//! same inputs give the same instants on every machine. The VM never calls into this module for
//! "now"; the engine does, and tells the VM.
//!
//! Local times are read on the wall clock of a zone; how a local time that the clocks skip or
//! repeat becomes an instant is the one DST policy in `zone`.
//!
//! - `zone`: `time_zone`, `resolve_local` and the DST policy
//! - `clock`: `Clock`, `SystemClock`, `VirtualClock`
//! - `hours`: `Hours` (`is_open`, `next_open`, `next_close`)
//! - `quiet`: `Quiet` (`contains`, `release`)
//! - `timeline`: retry steps (`next_at`, `after`, `again`, `hold`)
//! - `timers`: `Timers`, `InMemoryTimers`
//! - `parse`: `parse_local`, `parse_at`

mod clock;
mod hours;
mod parse;
mod quiet;
mod timeline;
mod timers;
mod zone;

#[cfg(test)]
mod tests;

pub use clock::{Clock, SystemClock, VirtualClock, TEST_START};
pub use hours::{Hours, HoursSpec};
pub use parse::{parse_at, parse_local};
pub use quiet::Quiet;
pub use timeline::{after, again, hold, next_at};
pub use timers::{InMemoryTimers, Pending, TimerId, Timers};
pub use zone::{resolve_local, time_zone, DAY_MINUTES};
