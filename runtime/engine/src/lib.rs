//! The engine: a pure state machine that runs sessions of the VM for contacts, scripts,
//! surveys and retry strategies.
//!
//! ```text
//! step(&mut State, &World, now, Input, &mut Output) -> Result<(), EngineError>
//! ```
//!
//! - [`Input`] is everything that happens to it: a contact arrives, a reply, a command
//!   completed, an agent's action, a hang-up, time passing, a deploy.
//! - [`Output`] holds the numbered [`Command`]s the shell must perform (prompt, send,
//!   transfer, dial, look up, offer, capture a payment), the transcript [`Event`]s, and the
//!   sessions touched. Each command's id, (session, sequence), is stable: it is the
//!   idempotency key of a delivery, and the answer to a command names it. An answer to a
//!   command that is no longer pending is refused as stale and changes nothing.
//! - [`State`] is plain serde data, whole. [`World`] is what is derived from the deployed
//!   bundles, plus each bundle's `extern fn`s (pure and capped, so they run inline).
//!
//! **Architecture Invariant:** the engine performs no I/O, reads no clock and iterates no
//! hash map: a step is a function of the state, the world, `now` and the input. Replaying
//! the same inputs at the same times on the same bundles gives the same outputs and the
//! same state, byte for byte (`clippy.toml` bans clocks, files, threads, the network and
//! hash-map iteration here; CI checks that no I/O crate is a dependency).
//!
//! A long-running engine does not grow with every contact it has seen: a contact is kept
//! while its flow runs, it is in routing, surveys wait for its end, or a script or survey
//! runs for it; then it is let go (the last few stay addressable). What the bundle gives
//! every run (entries, names, hours, regexes) is built once, in `prepared`.

pub mod answers;
mod callback;
pub mod cards;
mod core;
mod error;
pub mod events;
mod ids;
mod io;
mod prepared;
mod replies;
mod retry;
mod routing;
mod state;
#[cfg(test)]
mod tests;
mod world;

pub use answers::Reply;
pub use error::{EngineError, ErrorClass};
pub use events::{Event, EventKind, RoutingEvent, Text};
pub use ids::{AgentId, BundleHash, CommandId, ContactId, OfferId, RetryRunId, SessionId};
pub use io::{
    AgentAction, Arrival, Audience, Command, CommandKind, Completion, Gather, Input, LogIn, LookupResult, Output,
    Presence, Started,
};
pub use replies::{replies, RenderedReply};
pub use retry::RetryRun;
pub use state::{ContactView, SessionKind, State};
pub use switchboard_vm::{AgentView, Contact};
pub use world::{Deployed, Externs, NoExterns, World};

use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use switchboard_bytecode::normalize;
use switchboard_calendar::InMemoryTimers;

/// One step: time moves on to `now` (due timers fire, in order; it never goes back), then
/// `input` is applied. What happened is appended to `out` (clear it between steps to reuse
/// its room). A refused input changes nothing but what the time before it did.
pub fn step_into(
    state: &mut State,
    world: &World,
    now: Timestamp,
    input: Input,
    out: &mut Output,
) -> Result<(), EngineError> {
    let mut core = core::Core::new(state, world, out)?;
    core.advance(now);
    core.apply(input)
}

/// Like [`step_into`], into a new `Output`. The output is returned even when the input is
/// refused (the timers before it may have fired).
pub fn step(state: &mut State, world: &World, now: Timestamp, input: Input) -> (Output, Result<(), EngineError>) {
    let mut out = Output::default();
    let result = step_into(state, world, now, input, &mut out);
    (out, result)
}

impl State {
    /// A new engine at `now`, on `bundle` (deployed in `world` already), with no agents,
    /// contacts or sessions.
    pub fn new(world: &World, bundle: BundleHash, now: Timestamp) -> Result<State, EngineError> {
        let deployed = world.get(&bundle).ok_or(EngineError::UnknownBundle(bundle))?;
        let acd = routing::new_acd(deployed.bundle())?;
        Ok(State {
            now,
            bundles: vec![bundle],
            current: 0,
            next_id: 1,
            next_command: 1,
            sessions: BTreeMap::new(),
            retries: BTreeMap::new(),
            contacts: HashMap::default(),
            ended: VecDeque::new(),
            timers: InMemoryTimers::new(),
            acd,
            queued: HashMap::default(),
            agents: BTreeMap::new(),
            ringing: Vec::new(),
            acd_tick_timer: None,
            pending: BTreeMap::new(),
            stray_inputs: 0,
            spare: state::Scratch::default(),
        })
    }

    /// The state as bytes (postcard): what a snapshot stores.
    pub fn to_bytes(&self) -> Vec<u8> {
        match postcard::to_allocvec(self) {
            Ok(bytes) => bytes,
            Err(e) => unreachable!("a state is plain data and always serializes: {e}"),
        }
    }

    /// A state from `to_bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<State, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("not an engine state: {e}"))
    }
}

/// An address as entries store it.
pub fn address_key(channel: switchboard_bytecode::types::Channel, address: &str) -> String {
    prepared::address_key(channel, address).into_owned()
}

/// The id routing knows a contact by: `c` and the engine's number (written in place, so the
/// only allocation is the text itself).
fn contact_key(id: ContactId) -> Arc<str> {
    use std::io::Write as _;
    let mut key = [0u8; 21];
    let mut cursor = std::io::Cursor::new(&mut key[..]);
    let _ = write!(cursor, "c{}", id.0);
    let len = cursor.position() as usize;
    Arc::from(std::str::from_utf8(&key[..len]).unwrap_or_default())
}

/// The contact routing knows as `key` (see `contact_key`).
fn contact_id(key: &str) -> Option<ContactId> {
    let digits = key.strip_prefix('c')?;
    let canonical = digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok().map(ContactId)).flatten()
}

/// The country a dialled number belongs to: numbers in many countries give local presence.
pub fn country_of(number: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 12] = [
        ("+44", "GB"),
        ("+1", "US"),
        ("+353", "IE"),
        ("+33", "FR"),
        ("+34", "ES"),
        ("+49", "DE"),
        ("+46", "SE"),
        ("+39", "IT"),
        ("+31", "NL"),
        ("+61", "AU"),
        ("+81", "JP"),
        ("+91", "IN"),
    ];
    PREFIXES.iter().filter(|(p, _)| number.starts_with(p)).max_by_key(|(p, _)| p.len()).map_or("", |(_, c)| c)
}
