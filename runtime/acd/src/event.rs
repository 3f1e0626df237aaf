//! What the engine reports: the events a call caused, and the errors of calls it refused.

use super::ids::{AgentId, ContactId, OfferId, QueueName};
use serde::{Deserialize, Serialize};
use std::fmt;
use switchboard_bytecode::types::Channel;

/// Something the caller must act on or record; every call returns the events it caused, in
/// the order they happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A live contact is offered to an agent, who answers with `accept` or `reject`.
    Offered { offer: OfferId, contact: ContactId, agent: AgentId, queue: QueueName, channel: Channel },
    /// Callback due: call `customer` for `agent`. A callback placeholder that kept the
    /// customer's place reached the front; answered like an offer.
    CallbackDue { offer: OfferId, contact: ContactId, customer: String, agent: AgentId, queue: QueueName },
    /// The agent let an offer ring out; the contact is back in its place.
    OfferTimedOut { offer: OfferId, contact: ContactId, agent: AgentId },
    /// An offer taken back before the agent answered it.
    OfferWithdrawn { offer: OfferId, contact: ContactId, agent: AgentId, reason: Withdrawal },
    /// The engine made an agent away.
    AgentAway { agent: AgentId, reason: AwayReason },
    /// An agent's wrap-up ended and the slot it held is free.
    WrapUpEnded { agent: AgentId },
    /// A contact kept for one agent (`prefer agent X for D`) is now open to every agent.
    PreferEnded { contact: ContactId, agent: AgentId },
    /// `overflow after D to Q`: the contact moved, keeping the time it has waited.
    Overflowed { contact: ContactId, from: QueueName, to: QueueName },
    /// Outbound work (a retry call, a callback) handed to an agent; it is theirs now.
    OutboundAssigned { contact: ContactId, agent: AgentId, customer: String, queue: QueueName, channel: Channel },
}

/// Why an offer was taken back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawal {
    /// The customer hung up while the offer rang.
    Abandoned,
    /// The agent went away.
    AgentAway,
    /// The agent logged out.
    AgentOffline,
}

/// Why the engine made an agent away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwayReason {
    /// The agent let an offer ring out (redirect on no answer).
    MissedOffer,
}

/// A call the engine refused; the state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcdError {
    UnknownQueue(String),
    UnknownSkill(String),
    UnknownAgent(String),
    UnknownContact(String),
    UnknownOffer(OfferId),
    DuplicateQueue(String),
    DuplicateAgent(String),
    DuplicateContact(String),
    TooManySkills,
    TooManyLanguages,
    /// A value out of range: the message says which.
    InvalidValue(String),
    /// The contact is not waiting (it is offered, in progress, or outbound work).
    NotWaiting(String),
    /// The contact is not in progress with an agent.
    NotInProgress(String),
}

impl fmt::Display for AcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcdError::UnknownQueue(name) => write!(f, "unknown queue `{name}`"),
            AcdError::UnknownSkill(name) => write!(f, "unknown skill `{name}`"),
            AcdError::UnknownAgent(id) => write!(f, "unknown agent `{id}`"),
            AcdError::UnknownContact(id) => write!(f, "unknown contact `{id}`"),
            AcdError::UnknownOffer(offer) => write!(f, "{offer} is not open"),
            AcdError::DuplicateQueue(name) => write!(f, "queue `{name}` is declared twice"),
            AcdError::DuplicateAgent(id) => write!(f, "agent `{id}` is already known"),
            AcdError::DuplicateContact(id) => write!(f, "contact `{id}` is already known"),
            AcdError::TooManySkills => f.write_str("more than 64 skills"),
            AcdError::TooManyLanguages => f.write_str("more than 64 languages"),
            AcdError::InvalidValue(what) => f.write_str(what),
            AcdError::NotWaiting(id) => write!(f, "contact `{id}` is not waiting"),
            AcdError::NotInProgress(id) => write!(f, "contact `{id}` is not in progress"),
        }
    }
}

impl std::error::Error for AcdError {}
