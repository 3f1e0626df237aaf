//! Why the engine refused an input. A refused input changes nothing (time may still have
//! moved on before it, firing timers). Each kind says what a server answers: `NotFound` for
//! what does not exist, `Conflict` for what exists but cannot take this now.

use crate::ids::{BundleHash, CommandId, ContactId, OfferId, SessionId};
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum EngineError {
    /// No session has that id (it never ran, or it is over).
    UnknownSession(SessionId),
    UnknownContact(ContactId),
    /// No offer with that id is ringing.
    UnknownOffer(OfferId),
    /// The session runs, but waits for no answer (or for another kind of answer).
    NotWaiting {
        session: SessionId,
        why: String,
    },
    /// An answer to a command that is not pending: it was answered already, or never given.
    StaleAnswer(CommandId),
    /// An answer that does not fit its command (rows for a send, say).
    WrongAnswer {
        command: CommandId,
        why: String,
    },
    /// A script, survey, retry strategy or agent the bundle does not have.
    UnknownName {
        kind: &'static str,
        name: String,
    },
    /// The bundle is not in the world (deploy it there first).
    UnknownBundle(BundleHash),
    /// The bundle cannot be run: its tables do not fit the routing engine, say.
    Bundle(String),
    /// No entry answers the contact's address.
    NoEntry(String),
    /// Routing refused it (an unknown agent, an agent already logged in …).
    Routing(String),
}

/// How a server maps an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    NotFound,
    Conflict,
    Invalid,
}

impl EngineError {
    pub fn class(&self) -> ErrorClass {
        match self {
            EngineError::UnknownSession(_)
            | EngineError::UnknownContact(_)
            | EngineError::UnknownOffer(_)
            | EngineError::UnknownName { .. }
            | EngineError::UnknownBundle(_)
            | EngineError::NoEntry(_) => ErrorClass::NotFound,
            EngineError::NotWaiting { .. } | EngineError::StaleAnswer(_) | EngineError::Routing(_) => {
                ErrorClass::Conflict
            }
            EngineError::WrongAnswer { .. } | EngineError::Bundle(_) => ErrorClass::Invalid,
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::UnknownSession(s) => write!(f, "no session {s} is running"),
            EngineError::UnknownContact(c) => write!(f, "no such contact {c}"),
            EngineError::UnknownOffer(o) => write!(f, "no offer {} is ringing", o.0),
            EngineError::NotWaiting { why, .. } => f.write_str(why),
            EngineError::StaleAnswer(c) => write!(f, "command {c} is not waiting for an answer"),
            EngineError::WrongAnswer { command, why } => write!(f, "command {command}: {why}"),
            EngineError::UnknownName { kind, name } => write!(f, "no such {kind} `{name}`"),
            EngineError::UnknownBundle(b) => write!(f, "bundle {} is not deployed", b.short()),
            EngineError::Bundle(why) => f.write_str(why),
            EngineError::NoEntry(why) => f.write_str(why),
            EngineError::Routing(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<EngineError> for String {
    fn from(e: EngineError) -> String {
        e.to_string()
    }
}
