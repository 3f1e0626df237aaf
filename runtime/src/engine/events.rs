//! What happened to contacts: the transcript tests assert on and reports count.
//!
//! Card digits never appear here: `collect payment` records only the amount.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use switchboard_compiler::bytecode::SourceSpan;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    /// The session (contact, script, survey or retry run) it belongs to.
    pub session: u64,
    pub kind: EventKind,
    /// The statement that caused it.
    pub origin: Option<SourceSpan>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Contact {
        channel: String,
        from: String,
        to: String,
        flow: String,
    },
    Say {
        text: String,
    },
    Note {
        text: String,
    },
    Choice {
        prompt: String,
        options: Vec<String>,
    },
    Waypoint {
        name: String,
    },
    Lookup {
        source: String,
        outcome: String,
    },
    Queue {
        queue: String,
        priority: i32,
    },
    Offer {
        agent: String,
        channel: String,
    },
    Answered {
        agent: String,
    },
    Transfer {
        to: String,
    },
    Callback {
        keep_place: bool,
    },
    Payment {
        amount: String,
    },
    Send {
        medium: String,
        to: String,
        text: String,
    },
    Call {
        to: String,
        queue: String,
    },
    Outcome {
        name: String,
    },
    Stop,
    End,
    Error {
        message: String,
    },
    Input {
        text: String,
    },
    /// What routing did that no test line names (timeouts, overflow, wrap-up …).
    Routing {
        what: String,
    },
    /// The customer hung up.
    HangUp,
}

impl EventKind {
    /// The word tests use for it (`expect waypoint …`, `expect no call`).
    pub fn word(&self) -> &'static str {
        match self {
            EventKind::Contact { .. } => "contact",
            EventKind::Say { .. } => "say",
            EventKind::Note { .. } => "note",
            EventKind::Choice { .. } => "choice",
            EventKind::Waypoint { .. } => "waypoint",
            EventKind::Lookup { .. } => "lookup",
            EventKind::Queue { .. } => "queue",
            EventKind::Offer { .. } => "offer",
            EventKind::Answered { .. } => "answered",
            EventKind::Transfer { .. } => "transfer",
            EventKind::Callback { .. } => "callback",
            EventKind::Payment { .. } => "payment",
            EventKind::Send { .. } => "send",
            EventKind::Call { .. } => "call",
            EventKind::Outcome { .. } => "outcome",
            EventKind::Stop => "stop",
            EventKind::End => "end",
            EventKind::Error { .. } => "error",
            EventKind::Input { .. } => "input",
            EventKind::Routing { .. } => "routing",
            EventKind::HangUp => "hang_up",
        }
    }

    /// The name a test may give after the word (`expect no waypoint vip`).
    pub fn name(&self) -> Option<&str> {
        match self {
            EventKind::Waypoint { name } | EventKind::Outcome { name } => Some(name),
            EventKind::Queue { queue, .. } => Some(queue),
            EventKind::Offer { agent, .. } => Some(agent),
            EventKind::Call { queue, .. } => Some(queue),
            _ => None,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventKind::Contact { channel, from, to, flow } => {
                write!(f, "contact {channel} from {from} to {to} → flow {flow}")
            }
            EventKind::Say { text } => write!(f, "say {text:?}"),
            EventKind::Note { text } => write!(f, "note {text:?}"),
            EventKind::Choice { prompt, options } => write!(f, "choose {prompt:?} {options:?}"),
            EventKind::Waypoint { name } => write!(f, "waypoint {name}"),
            EventKind::Lookup { source, outcome } => write!(f, "lookup {source}: {outcome}"),
            EventKind::Queue { queue, priority } if *priority != 0 => write!(f, "queue {queue} priority {priority:+}"),
            EventKind::Queue { queue, .. } => write!(f, "queue {queue}"),
            EventKind::Offer { agent, channel } => write!(f, "offer {agent} ({channel})"),
            EventKind::Answered { agent } => write!(f, "answered by {agent}"),
            EventKind::Transfer { to } => write!(f, "transfer to {to}"),
            EventKind::Callback { keep_place } => {
                write!(f, "offer callback{}", if *keep_place { " keep place" } else { "" })
            }
            EventKind::Payment { amount } => write!(f, "collect payment {amount}"),
            EventKind::Send { medium, to, text } => write!(f, "send {medium} to {to} {text:?}"),
            EventKind::Call { to, queue } => write!(f, "call {to} queue {queue}"),
            EventKind::Outcome { name } => write!(f, "outcome {name}"),
            EventKind::Stop => f.write_str("stop"),
            EventKind::End => f.write_str("end"),
            EventKind::Error { message } => write!(f, "error: {message}"),
            EventKind::Input { text } => write!(f, "input {text:?}"),
            EventKind::Routing { what } => write!(f, "routing: {what}"),
            EventKind::HangUp => f.write_str("hang up"),
        }
    }
}
