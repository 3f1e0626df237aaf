//! What happened to contacts: the transcript tests assert on and reports count.
//!
//! Card digits never appear here: `collect payment` records only the amount.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use switchboard_bytecode::bytecode::SourceSpan;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    /// The session (contact, script, survey or retry run) it belongs to; `s0` for
    /// routing's own events.
    pub session: crate::ids::SessionId,
    /// The contact it concerns: the session's own, or the one a script or survey runs for
    /// (`None` for routing's own events and retry runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::ids::ContactId>,
    pub kind: EventKind,
    /// The statement that caused it.
    pub origin: Option<SourceSpan>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Contact {
        channel: Text,
        from: Text,
        to: Text,
        flow: Text,
    },
    Say {
        text: Text,
    },
    Note {
        text: Text,
    },
    Choice {
        prompt: Text,
        options: Vec<String>,
    },
    Waypoint {
        name: Text,
    },
    /// A look-up answered. A record found is kept with it, field by field as text (a none
    /// field left out), so reports can tell customers apart (`id`) and segment them (`tier`).
    Lookup {
        source: Text,
        outcome: Text,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<BTreeMap<String, String>>,
    },
    Queue {
        queue: Text,
        priority: i32,
    },
    Offer {
        agent: Text,
        channel: Text,
    },
    Answered {
        agent: Text,
    },
    Transfer {
        to: Text,
    },
    /// A callback is offered: by a flow's `offer callback` (the caller is asked), or by a
    /// queue's `while waiting` line (1 takes it).
    Callback {
        keep_place: bool,
    },
    /// The caller took a flow's `offer callback` and gave the number to call.
    CallbackTaken {
        to: Text,
    },
    /// The caller stays on the line: they said no, said nothing, or gave no number we can call.
    CallbackDeclined {
        why: Text,
    },
    Payment {
        amount: Text,
    },
    Send {
        medium: Text,
        to: Text,
        text: Text,
    },
    Call {
        to: Text,
        queue: Text,
    },
    Outcome {
        name: Text,
    },
    Stop,
    End,
    Error {
        message: Text,
    },
    Input {
        text: Text,
    },
    /// What routing did besides offers and answers (misses, overflow, wrap-up …).
    Routing(RoutingEvent),
    /// The customer hung up.
    HangUp,
    /// A survey the contact's flow asked for did not run.
    SurveySkipped {
        survey: Text,
        why: Text,
    },
    /// A survey starts for a contact: the first event of the survey's own session.
    Survey {
        survey: Text,
        contact: crate::ids::ContactId,
    },
    /// An `ask` took an answer that fits its type: the question's name and the value, as
    /// text (`5`, `yes`, `+447700900123`).
    Answer {
        name: Text,
        value: Text,
    },
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
            EventKind::CallbackTaken { .. } => "callback_taken",
            EventKind::CallbackDeclined { .. } => "callback_declined",
            EventKind::Payment { .. } => "payment",
            EventKind::Send { .. } => "send",
            EventKind::Call { .. } => "call",
            EventKind::Outcome { .. } => "outcome",
            EventKind::Stop => "stop",
            EventKind::End => "end",
            EventKind::Error { .. } => "error",
            EventKind::Input { .. } => "input",
            EventKind::Routing(_) => "routing",
            EventKind::HangUp => "hang_up",
            EventKind::SurveySkipped { .. } => "survey_skipped",
            EventKind::Survey { .. } => "survey",
            EventKind::Answer { .. } => "answer",
        }
    }

    /// The name a test may give after the word (`expect no waypoint vip`).
    pub fn name(&self) -> Option<&str> {
        match self {
            EventKind::Waypoint { name } | EventKind::Outcome { name } => Some(name.as_str()),
            EventKind::Queue { queue, .. } => Some(queue.as_str()),
            EventKind::Offer { agent, .. } => Some(agent.as_str()),
            EventKind::Call { queue, .. } => Some(queue.as_str()),
            EventKind::SurveySkipped { survey, .. } | EventKind::Survey { survey, .. } => Some(survey.as_str()),
            EventKind::Answer { name, .. } => Some(name.as_str()),
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
            EventKind::Lookup { source, outcome, .. } => write!(f, "lookup {source}: {outcome}"),
            EventKind::Queue { queue, priority } if *priority != 0 => write!(f, "queue {queue} priority {priority:+}"),
            EventKind::Queue { queue, .. } => write!(f, "queue {queue}"),
            EventKind::Offer { agent, channel } => write!(f, "offer {agent} ({channel})"),
            EventKind::Answered { agent } => write!(f, "answered by {agent}"),
            EventKind::Transfer { to } => write!(f, "transfer to {to}"),
            EventKind::Callback { keep_place } => {
                write!(f, "offer callback{}", if *keep_place { " keep place" } else { "" })
            }
            EventKind::CallbackTaken { to } => write!(f, "callback taken: call {to}"),
            EventKind::CallbackDeclined { why } => write!(f, "callback declined: {why}"),
            EventKind::Payment { amount } => write!(f, "collect payment {amount}"),
            EventKind::Send { medium, to, text } => write!(f, "send {medium} to {to} {text:?}"),
            EventKind::Call { to, queue } => write!(f, "call {to} queue {queue}"),
            EventKind::Outcome { name } => write!(f, "outcome {name}"),
            EventKind::Stop => f.write_str("stop"),
            EventKind::End => f.write_str("end"),
            EventKind::Error { message } => write!(f, "error: {message}"),
            EventKind::Input { text } => write!(f, "input {text:?}"),
            EventKind::Routing(what) => write!(f, "routing: {what}"),
            EventKind::HangUp => f.write_str("hang up"),
            EventKind::SurveySkipped { survey, why } => write!(f, "survey {survey} skipped: {why}"),
            EventKind::Survey { survey, contact } => write!(f, "survey {survey} for {contact}"),
            EventKind::Answer { name, value } => write!(f, "answer {name}: {value}"),
        }
    }
}

/// What routing did, typed. (Offers and answers are `EventKind::Offer` and `Answered`.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum RoutingEvent {
    /// The agent did not answer in time; the contact keeps its place.
    Missed {
        agent: Text,
    },
    /// The offer was taken back (the customer left, or another agent was chosen).
    Withdrawn {
        agent: Text,
    },
    /// The agent was set away (after missed offers).
    AgentAway {
        agent: Text,
    },
    WrapUpEnded {
        agent: Text,
    },
    /// The time the contact waited for its preferred agent is over.
    PreferEnded {
        agent: Text,
    },
    Overflowed {
        from: Text,
        to: Text,
    },
    /// The caller took a callback: they left, and a placeholder keeps their place.
    CallbackKept {
        to: Text,
    },
    /// A callback taken without `keep place` waits for the next free agent (it gives way to
    /// callers on the line).
    CallbackWaiting {
        to: Text,
    },
    /// The placeholder reached an agent: call the customer back.
    CallbackDue {
        to: Text,
    },
    /// A retry strategy's call was handed to an agent (blending).
    OutboundAssigned {
        agent: Text,
        to: Text,
    },
    /// The agent is done with the contact (`finish`): their talk time ends, wrap-up starts.
    Finished {
        agent: Text,
    },
}

impl fmt::Display for RoutingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutingEvent::Missed { agent } => write!(f, "{agent} did not answer"),
            RoutingEvent::Withdrawn { agent } => write!(f, "offer to {agent} withdrawn"),
            RoutingEvent::AgentAway { agent } => write!(f, "{agent} is away"),
            RoutingEvent::WrapUpEnded { agent } => write!(f, "{agent} finished wrap-up"),
            RoutingEvent::PreferEnded { agent } => write!(f, "no longer kept for {agent}"),
            RoutingEvent::Overflowed { from, to } => write!(f, "overflow from {from} to {to}"),
            RoutingEvent::CallbackKept { to } => write!(f, "callback kept the place of {to}"),
            RoutingEvent::CallbackWaiting { to } => write!(f, "callback waits for a free agent: call {to}"),
            RoutingEvent::CallbackDue { to } => write!(f, "callback due: call {to}"),
            RoutingEvent::OutboundAssigned { to, .. } => write!(f, "outbound call to {to}"),
            RoutingEvent::Finished { agent } => write!(f, "{agent} finished with the contact"),
        }
    }
}

/// A text of the transcript. What the VM says and the bundle's names are shared, not
/// copied, and fixed words cost nothing; it reads, compares and serializes as a string.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Fixed(&'static str),
    Shared(Arc<str>),
}

impl Text {
    /// A word the engine writes itself (`found`, `sms`).
    pub const fn fixed(text: &'static str) -> Text {
        Text(Repr::Fixed(text))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Fixed(text) => text,
            Repr::Shared(text) => text,
        }
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Text {
        Text(Repr::Shared(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(Repr::Shared(Arc::from(text)))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text(Repr::Shared(Arc::from(text)))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        Arc::<str>::deserialize(deserializer).map(Text::from)
    }
}
