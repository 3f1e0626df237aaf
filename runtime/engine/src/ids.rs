//! The engine's ids. Each is its own type, so a session id cannot be passed where a contact
//! id is wanted. Ids are handed out from counters in `State`, one after another, so the
//! same inputs give the same ids.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use switchboard_acd::OfferId;

macro_rules! number_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

number_id!(
    /// A contact: one customer on one channel, from arrival to its end.
    ContactId,
    "c"
);
number_id!(
    /// One run of the VM: a contact's flow, a script on an agent's screen, a survey, or a
    /// step or handler of a retry strategy. A contact's flow session has the contact's number.
    SessionId,
    "s"
);
number_id!(
    /// One run of a retry strategy for one subject (a lead, a customer).
    RetryRunId,
    "r"
);

impl ContactId {
    /// The session of the contact's own flow (it shares the contact's number).
    pub fn session(self) -> SessionId {
        SessionId(self.0)
    }
}

/// An agent, by the id they log in with.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentId(pub String);

impl AgentId {
    pub fn new(id: impl Into<String>) -> AgentId {
        AgentId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A command's stable id: the session it is for and its place in the engine's sequence of
/// commands. Receivers use it as an idempotency key; the answer to a command names it.
/// Commands that belong to no session (routing's own) have session `s0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CommandId {
    pub session: SessionId,
    pub seq: u64,
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.session, self.seq)
    }
}

/// A deployed bundle's content hash: SHA-256 of its bytes. Sessions are pinned to it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BundleHash(pub [u8; 32]);

impl BundleHash {
    /// The hash of a bundle's bytes (as `Bundle::to_bytes` writes them).
    pub fn of(bytes: &[u8]) -> BundleHash {
        use sha2::Digest;
        BundleHash(sha2::Sha256::digest(bytes).into())
    }

    /// The first 12 hex digits, as people are shown it.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl fmt::Display for BundleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BundleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BundleHash({})", self.short())
    }
}
