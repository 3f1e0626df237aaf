//! What goes into the engine (`Input`) and what comes out of one step (`Output`): numbered
//! commands for the shell to perform, events for the transcript, and the sessions touched.

use crate::answers::Reply;
use crate::events::{Event, Text};
use crate::ids::{AgentId, BundleHash, CommandId, ContactId, OfferId, RetryRunId, SessionId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_bytecode::bytecode::{AskId, ChoiceId, Medium, MenuId, SourceId};
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::{Record, Value};
use switchboard_vm::AgentView;

/// Everything that can happen to the engine. Every step first moves time on to the `now`
/// it is given (due timers fire, in order), then applies its input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Input {
    /// Only time moved on.
    Tick,
    /// A contact arrives on `channel` from `from`, addressed to `to`: the flow of the entry
    /// for that address runs until it waits.
    Arrive(Arrival),
    /// The customer (or, for a script, the agent) answers what the session waits for: keys,
    /// text or a typed value.
    Reply { session: SessionId, reply: Reply },
    /// The shell performed a command: this is how it went.
    Completed { command: CommandId, result: Completion },
    /// Something an agent did.
    Agent(AgentAction),
    /// The customer hung up (or the conversation closed).
    HangUp { contact: ContactId },
    /// A bundle was deployed (it is in the `World` already): new contacts start on it; the
    /// sessions running keep the bundle they started on.
    Deploy { bundle: BundleHash },
    /// An agent's screen opens script `script` (of the contact's bundle) for `contact`.
    StartScript { contact: ContactId, script: String, agent: Box<AgentView> },
    /// Survey `survey` runs for `contact` now.
    StartSurvey { contact: ContactId, survey: String },
    /// Retry strategy `retry` starts for `subject`.
    StartRetry { retry: String, subject: Value },
    /// An outcome (`no_answer`, `opted_out`, `reply` …) for a retry run that no pending
    /// command carries: for `run`, or for the newest run waiting on a call.
    RetryEvent { run: Option<RetryRunId>, event: String },
}

/// A contact as it arrives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arrival {
    pub channel: Channel,
    pub from: Arc<str>,
    pub to: Option<Arc<str>>,
    pub subject: Arc<str>,
    pub text: Arc<str>,
    /// What the channel knew before the flow ran (a web chat's pre-chat fields): the
    /// contact's `contact.attributes`.
    #[serde(default)]
    pub attributes: Vec<(Arc<str>, Arc<str>)>,
}

/// What became of a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Completion {
    /// The rows of a look-up.
    Lookup(LookupResult),
    /// A message or prompt reached the customer.
    Delivered,
    /// It could not be done (a send that bounced, a dial that could not be placed).
    Failed(String),
    /// A dialled call was answered.
    Answered,
    NoAnswer,
    Busy,
    /// The customer has opted out of this channel (`STOP`, an unsubscribe).
    OptedOut,
    /// A card payment was taken (the channel's secure form keeps the card).
    PaymentCaptured,
    PaymentDeclined,
}

impl Completion {
    /// The name a retry strategy's `on …` handler has for it.
    pub fn outcome(&self) -> Option<&'static str> {
        Some(match self {
            Completion::Answered => "answered",
            Completion::NoAnswer => "no_answer",
            Completion::Busy => "busy",
            Completion::OptedOut => "opted_out",
            Completion::Failed(_) => "failed",
            Completion::Delivered => "delivered",
            _ => return None,
        })
    }

    /// A retry outcome by its name.
    pub fn from_outcome(name: &str) -> Option<Completion> {
        Some(match name {
            "answered" => Completion::Answered,
            "no_answer" => Completion::NoAnswer,
            "busy" => Completion::Busy,
            "opted_out" => Completion::OptedOut,
            "delivered" => Completion::Delivered,
            _ => return None,
        })
    }
}

/// What a look-up found. Only `Found` gives the flow a record; the others give it none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LookupResult {
    Found(Arc<Record>),
    Missed,
    TimedOut,
    Failed(String),
}

impl LookupResult {
    pub(crate) fn described(&self) -> Text {
        match self {
            LookupResult::Found(_) => Text::fixed("found"),
            LookupResult::Missed => Text::fixed("no match"),
            LookupResult::TimedOut => Text::fixed("timed out"),
            LookupResult::Failed(why) => format!("failed: {why}").into(),
        }
    }

    /// The record found, field by field as text (none fields left out), for the event.
    pub(crate) fn fields(&self) -> Option<std::collections::BTreeMap<String, String>> {
        match self {
            LookupResult::Found(record) => Some(
                record
                    .fields
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::None))
                    .map(|(name, v)| (name.to_string(), v.display()))
                    .collect(),
            ),
            _ => None,
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self {
            LookupResult::Found(record) => Value::Record(record),
            _ => Value::None,
        }
    }
}

/// An agent logging in: who they are, as scripts see them, and how they take work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogIn {
    pub view: AgentView,
    /// Proficiency from 1 to 10, by skill; a skill of `view.skills` not named here counts
    /// as 5. Routing offers a contact to the most proficient free agent first.
    #[serde(default)]
    pub proficiency: Vec<(String, u8)>,
    /// Contacts at once, by channel (0: never offered that channel). Channels not named
    /// keep the routing defaults: one of each, with a call taken alone.
    #[serde(default)]
    pub capacity: Vec<(Channel, u8)>,
}

impl From<AgentView> for LogIn {
    fn from(view: AgentView) -> LogIn {
        LogIn { view, proficiency: Vec::new(), capacity: Vec::new() }
    }
}

/// What an agent does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AgentAction {
    /// The agent logs in (with their skills, languages and capacity) and is available.
    LogIn(Box<LogIn>),
    Presence {
        agent: AgentId,
        presence: Presence,
    },
    /// The agent takes the offer: the contact is connected (a callback is dialled).
    Accept {
        offer: OfferId,
    },
    /// The agent turns the offer down: the contact keeps its place.
    Reject {
        offer: OfferId,
    },
    /// The agent is done with the contact; wrap-up follows.
    Finish {
        contact: ContactId,
    },
    /// The agent's wrap-up disposition for the contact.
    Outcome {
        contact: ContactId,
        outcome: String,
    },
    /// The agent hands a contact connected to them to another queue: they wrap up, and the
    /// contact waits there (keeping the time it has waited for its service level).
    Transfer {
        contact: ContactId,
        queue: String,
    },
    /// The agent answers a script's `ask` or picks one of its `choose` options.
    Script {
        session: SessionId,
        reply: Reply,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    Available,
    Away,
    Offline,
}

/// What one step did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// What the shell must perform, in order.
    pub commands: Vec<Command>,
    /// The transcript of what happened, in order.
    pub events: Vec<Event>,
    /// Every session the step ran or changed, once each, in the order first touched.
    pub touched: Vec<SessionId>,
    /// What the input started, if it started something.
    pub started: Option<Started>,
    /// The sessions in `touched`, to keep it once each in a step that touches many (a
    /// tick firing thousands of timers) without searching it for each.
    seen: std::collections::BTreeSet<SessionId>,
}

impl Output {
    /// Empties it, keeping its room, for the next step.
    pub fn clear(&mut self) {
        self.commands.clear();
        self.events.clear();
        self.touched.clear();
        self.started = None;
        self.seen.clear();
    }

    pub(crate) fn touch(&mut self, session: SessionId) {
        if session.0 == 0 {
            return;
        }
        if self.seen.len() != self.touched.len() {
            // `touched` was changed from outside (a shell cleared it): start again from it.
            self.seen = self.touched.iter().copied().collect();
        }
        if self.seen.insert(session) {
            self.touched.push(session);
        }
    }
}

/// What an input started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Started {
    Contact(ContactId),
    Session(SessionId),
    Retry(RetryRunId),
}

/// Something that leaves the process, with the id its answer (and any resend) names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub id: CommandId,
    pub kind: CommandKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CommandKind {
    /// Say `text` to whoever the session speaks to, and, with `gather`, wait for input.
    Prompt { to: Audience, text: Text, gather: Option<Gather> },
    /// A script's hint on the agent's screen.
    Note { contact: Option<ContactId>, text: Text },
    /// Send an SMS or an email (answered `Delivered`, `Failed` or `OptedOut`).
    Send { medium: Medium, to: Text, text: Text },
    /// Hand the contact to another number or address.
    Transfer { contact: ContactId, to: Text },
    /// Place a call (answered `Answered`, `NoAnswer`, `Busy` or `Failed`): a retry
    /// strategy's `call`, or a callback that kept its place.
    Dial { to: Text, queue: Text, run: Option<RetryRunId> },
    /// Look `key` up in the session's bundle's source (answered `Lookup`).
    Lookup { bundle: BundleHash, source: SourceId, name: Text, key: Value },
    /// Ring an agent with a contact (the agent answers with `Accept` or `Reject`).
    Offer { offer: OfferId, contact: Option<ContactId>, agent: AgentId, channel: Channel },
    /// Take a card payment through the channel's secure form (answered
    /// `PaymentCaptured` or `PaymentDeclined`). Only the amount leaves; digits never enter.
    CapturePayment { contact: ContactId, amount: Text },
    /// The flow ended the contact: hang up, close the conversation.
    Disconnect { contact: ContactId },
}

/// Who a prompt is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// The customer, on their channel.
    Customer { contact: ContactId, channel: Channel },
    /// The agent running a script for the contact.
    Agent { contact: ContactId },
    /// No one is on the line (a retry strategy's own step).
    Nobody,
}

/// What a prompt waits for (look the ids up in the session's bundle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gather {
    Ask {
        ask: AskId,
        timeout_ms: Option<i64>,
    },
    Menu {
        menu: MenuId,
        timeout_ms: i64,
    },
    Choice {
        choice: ChoiceId,
    },
    /// A flow's `offer callback`: keys (or a word) for yes or no, then a phone number.
    Callback {
        timeout_ms: i64,
    },
}
