//! `State`: everything the engine knows, as plain serde data, whole. Serialize it, restore
//! it, and `step` goes on exactly as it would have: sessions (each pinned to its bundle),
//! contacts, retry runs, routing, timers, pending commands and the id counters.
//!
//! Nothing here is derived from a bundle (that is `World`), and nothing here holds a
//! service: a `State` is a value.

use crate::ids::{AgentId, BundleHash, CommandId, ContactId, OfferId, RetryRunId, SessionId};
use crate::retry::RetryRun;
use crate::routing::Queued;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use switchboard_acd::keyed::sorted;
use switchboard_acd::Acd;
use switchboard_bytecode::bytecode::{
    AskId, ChoiceId, FlowId, Medium, MenuId, QueueId, ScriptId, SourceId, SourceSpan, SurveyId,
};
use switchboard_bytecode::value::Value;
use switchboard_calendar::{InMemoryTimers, TimerId};
use switchboard_vm::{AgentView, Contact, Spare, Vm};

/// How many contacts that nothing refers to any more stay addressable (a test starts a
/// survey or a script on a contact just after its flow ended).
pub(crate) const RECENTLY_ENDED: usize = 64;

/// A bundle as sessions refer to it: its place in `State::bundles`.
pub(crate) type BundleRef = u32;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// The engine's clock: the `now` of the last step (it never goes back).
    pub(crate) now: Timestamp,
    /// Every bundle deployed, oldest first; sessions name theirs by its place here.
    pub(crate) bundles: Vec<BundleHash>,
    /// The newest: new contacts start on it.
    pub(crate) current: BundleRef,
    pub(crate) next_id: u64,
    pub(crate) next_command: u64,
    pub(crate) sessions: BTreeMap<SessionId, Session>,
    pub(crate) retries: BTreeMap<RetryRunId, RetryRun>,
    /// Contacts something still refers to (scripts and surveys run for them later).
    #[serde(with = "sorted")]
    pub(crate) contacts: HashMap<ContactId, Kept, ById>,
    /// Contacts let go of, newest last, at most `RECENTLY_ENDED`.
    pub(crate) ended: VecDeque<(ContactId, Box<Contact>)>,
    pub(crate) timers: InMemoryTimers<Timer>,
    pub(crate) acd: Acd,
    /// Contacts in routing.
    #[serde(with = "sorted")]
    pub(crate) queued: HashMap<ContactId, Queued, ById>,
    pub(crate) agents: BTreeMap<String, AgentView>,
    /// Offers ringing: offer, contact (as routing knows it), agent.
    pub(crate) ringing: Vec<(OfferId, String, String)>,
    pub(crate) acd_tick_timer: Option<(TimerId, Timestamp)>,
    /// Commands whose answer the engine waits for.
    pub(crate) pending: BTreeMap<CommandId, Pending>,
    /// Input that arrived while nothing waited for it, counted and not kept.
    pub(crate) stray_inputs: u64,
    /// The room the last finished VM left, for the next one: buffers, not state.
    #[serde(skip)]
    pub(crate) spare: Scratch,
}

/// The room the last finished VM left: reused, never compared, copied or stored.
#[derive(Debug, Default)]
pub(crate) struct Scratch(pub Option<Spare>);

impl Clone for Scratch {
    fn clone(&self) -> Scratch {
        Scratch(None)
    }
}

impl PartialEq for State {
    fn eq(&self, other: &State) -> bool {
        // Whole-state comparison by value, as it would be stored.
        postcard::to_allocvec(self).ok() == postcard::to_allocvec(other).ok()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    Flow(FlowId),
    Script(ScriptId),
    Survey(SurveyId),
    /// A retry strategy's step (`step`) or its handler for an outcome (`None`).
    Retry {
        run: RetryRunId,
        step: Option<usize>,
    },
}

/// What a session waits for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Wait {
    Nothing,
    Ask {
        ask: AskId,
        prompt: Arc<str>,
        tries: u32,
        timer: Option<TimerId>,
    },
    Menu {
        menu: MenuId,
        prompt: Arc<str>,
        tries: u32,
        timer: Option<TimerId>,
    },
    Choose {
        choice: ChoiceId,
    },
    /// The answer to a command (a look-up's rows, a payment's result).
    Command(CommandId),
    /// A flow's `offer callback`: the caller's answer to the offer, or the number to call.
    Callback {
        keep_place: bool,
        stage: CallbackStage,
        tries: u32,
        timer: Option<TimerId>,
    },
}

/// Where a caller is in a flow's `offer callback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CallbackStage {
    /// "To be called back, press 1": taken or declined.
    Offer,
    /// The number to call: the caller's own (confirmed with a key) or one they key in.
    Number,
}

/// A callback the caller took in their flow: the flow's `queue` leaves it in their place
/// (`keep place`) or hands it to the next free agent, and the call ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Callback {
    /// The number to call back, E.164.
    pub to: Arc<str>,
    pub keep_place: bool,
}

impl Wait {
    /// Whether it waits for the customer (or an agent) to answer.
    pub fn is_for_input(&self) -> bool {
        matches!(self, Wait::Ask { .. } | Wait::Menu { .. } | Wait::Choose { .. } | Wait::Callback { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub id: SessionId,
    pub kind: SessionKind,
    pub bundle: BundleRef,
    /// The contact it runs for (a retry run has none).
    pub contact: Option<ContactId>,
    pub vm: Vm,
    pub wait: Wait,
    /// Surveys to run for this contact once it has ended.
    pub surveys: Vec<SurveyId>,
    /// The flow ran `end`: once it is over, the contact ends (its surveys run, the call is
    /// hung up).
    pub ends_contact: bool,
    /// A callback the caller took (`offer callback`), for the flow's `queue` to place.
    pub callback: Option<Callback>,
}

impl Session {
    pub fn new(id: SessionId, kind: SessionKind, bundle: BundleRef, contact: Option<ContactId>, vm: Vm) -> Session {
        Session {
            id,
            kind,
            bundle,
            contact,
            vm,
            wait: Wait::Nothing,
            surveys: Vec::new(),
            ends_contact: false,
            callback: None,
        }
    }
}

/// A contact the engine still answers for: its flow runs, it is in routing, surveys wait
/// for its end, or a script or survey runs for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Kept {
    /// As its flow last left it (`contact.language = …` outlives the flow); `None` while its
    /// flow's session waits, whose VM holds the contact as it stands.
    pub contact: Option<Box<Contact>>,
    pub bundle: BundleRef,
    /// Scripts and surveys running for it (its flow's own session is `sessions[id]`).
    pub sessions: u32,
    /// Surveys its flow asked for, run once the contact ends.
    pub surveys: Vec<SurveyId>,
    /// Surveys `via same channel` playing on the line its flow's `end` holds open: the
    /// call is hung up when the last of them is over (or the caller hangs up first).
    pub line: Vec<SessionId>,
}

impl Kept {
    pub fn new(contact: Option<Box<Contact>>, bundle: BundleRef, surveys: Vec<SurveyId>) -> Kept {
        Kept { contact, bundle, sessions: 0, surveys, line: Vec::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Timer {
    /// An `ask` or `menu` heard nothing in time.
    Silence {
        session: SessionId,
    },
    RetryStep {
        run: RetryRunId,
        step: usize,
    },
    RetryRepeat {
        run: RetryRunId,
        step: usize,
    },
    HeldSend {
        run: RetryRunId,
        medium: Medium,
        to: Value,
        text: Arc<str>,
    },
    /// A queue's `while waiting` line for a waiting contact.
    Waiting {
        contact: ContactId,
        /// The queue whose line it is: after an overflow, the old queue's lines stop.
        queue: QueueId,
        line: usize,
    },
    /// The routing engine's next deadline (offer time-outs, overflow, wrap-up).
    AcdTick,
}

/// A command whose answer is awaited, and who waits for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Pending {
    /// A session waits for a look-up's rows.
    Lookup { session: SessionId, source: SourceId, origin: Option<SourceSpan> },
    /// A session waits for a payment's result.
    Payment { session: SessionId },
    /// A message on its way; a retry run hears how it went.
    Send { run: Option<RetryRunId> },
    /// A call being placed; a retry run hears how it went.
    Dial { run: Option<RetryRunId> },
}

/// What the engine knows of a contact, for screens and shells.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactView<'a> {
    pub id: ContactId,
    pub contact: &'a Contact,
    pub bundle: BundleHash,
}

impl State {
    /// The engine's clock.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The bundle new contacts start on.
    pub fn current_bundle(&self) -> BundleHash {
        self.bundles[self.current as usize]
    }

    /// Whether a session (or a contact's flow) still runs: waiting for someone or
    /// something, or in routing.
    pub fn is_live(&self, session: SessionId) -> bool {
        self.sessions.contains_key(&session) || self.queued.contains_key(&ContactId(session.0))
    }

    /// The session waiting for input, most recent first.
    pub fn waiting_session(&self) -> Option<SessionId> {
        self.sessions.values().rev().find(|s| s.wait.is_for_input()).map(|s| s.id)
    }

    /// The session the customer's next words answer: the contact's flow when it waits for
    /// them, else the newest of the contact's surveys that asks (a script's asks are the
    /// agent's, never the customer's).
    pub fn customer_session(&self, contact: ContactId) -> Option<SessionId> {
        let flow = contact.session();
        if self.waits_for_input(flow) {
            return Some(flow);
        }
        self.sessions
            .values()
            .rev()
            .find(|s| s.contact == Some(contact) && matches!(s.kind, SessionKind::Survey(_)) && s.wait.is_for_input())
            .map(|s| s.id)
    }

    /// What a session waits for, in words (`nothing`, `an answer`, `a command`).
    pub fn waits_for_input(&self, session: SessionId) -> bool {
        self.sessions.get(&session).is_some_and(|s| s.wait.is_for_input())
    }

    /// The contacts held, counted by channel (`Channel as usize`).
    // A count: the hash order cannot reach an output.
    #[allow(clippy::disallowed_methods)]
    pub fn contacts_by_channel(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        for id in self.contacts.keys() {
            if let Some(view) = self.contact(*id) {
                counts[view.contact.channel as usize] += 1;
            }
        }
        counts
    }

    /// Timers pending: flows' waits, routing's deadlines, retries' next steps.
    pub fn timers_pending(&self) -> usize {
        self.timers.len()
    }

    /// How many contacts the engine holds because something still refers to them.
    pub fn contacts_kept(&self) -> usize {
        self.contacts.len()
    }

    /// The newest offer still ringing, if any.
    pub fn ringing_offer(&self) -> Option<OfferId> {
        self.ringing.last().map(|(o, _, _)| *o)
    }

    /// The offers ringing now: offer, the contact's id in routing, agent.
    pub fn ringing(&self) -> impl Iterator<Item = (OfferId, &str, AgentId)> + '_ {
        self.ringing.iter().map(|(o, c, a)| (*o, c.as_str(), AgentId::new(a.as_str())))
    }

    /// The routing engine, for reports and the simulator.
    pub fn acd(&self) -> &Acd {
        &self.acd
    }

    /// The contact, whether something still refers to it or it ended recently.
    pub fn contact(&self, id: ContactId) -> Option<ContactView<'_>> {
        let contact = self.find_contact(id)?;
        let bundle = self.contacts.get(&id).map_or(self.current, |k| k.bundle);
        Some(ContactView { id, contact, bundle: self.bundles[bundle as usize] })
    }

    /// A contact as it stands: in its waiting flow's VM, kept, or recently ended.
    pub(crate) fn find_contact(&self, id: ContactId) -> Option<&Contact> {
        match self.contacts.get(&id) {
            Some(Kept { contact: Some(c), .. }) => Some(c),
            Some(Kept { contact: None, .. }) => self.sessions.get(&id.session()).map(|s| &*s.vm.contact),
            None => self.ended.iter().rev().find(|(e, _)| *e == id).map(|(_, c)| &**c),
        }
    }

    /// The bundle a session runs on.
    pub fn session_bundle(&self, session: SessionId) -> Option<BundleHash> {
        self.sessions.get(&session).map(|s| self.bundles[s.bundle as usize])
    }

    /// The commands whose answers the engine waits for, oldest first.
    pub fn pending_commands(&self) -> impl Iterator<Item = CommandId> + '_ {
        self.pending.keys().copied()
    }

    /// The newest call placed whose outcome has not come: of `run`, or of any run.
    pub fn pending_dial(&self, run: Option<RetryRunId>) -> Option<CommandId> {
        self.pending
            .iter()
            .rev()
            .find(|(_, p)| match p {
                Pending::Dial { run: Some(r) } => run.is_none_or(|want| want == *r),
                _ => false,
            })
            .map(|(id, _)| *id)
    }

    /// The newest payment being captured (the channel's secure form has the keypad).
    pub fn pending_payment(&self) -> Option<CommandId> {
        self.pending.iter().rev().find(|(_, p)| matches!(p, Pending::Payment { .. })).map(|(id, _)| *id)
    }

    /// The retry run an outcome with no run named goes to: the newest still running that
    /// placed a call, else the newest still running.
    pub fn newest_retry_run(&self) -> Option<RetryRunId> {
        self.retries
            .values()
            .rev()
            .find(|r| !r.stopped && r.pending_call.is_some())
            .or_else(|| self.retries.values().rev().find(|r| !r.stopped))
            .map(|r| r.id)
    }

    /// When the next timer is due: a shell steps the engine then (with `Input::Tick`).
    pub fn next_due(&self) -> Option<Timestamp> {
        use switchboard_calendar::Timers;
        self.timers.next_due()
    }

    /// How many inputs arrived while nothing waited for them (dropped, not recorded).
    pub fn stray_inputs(&self) -> u64 {
        self.stray_inputs
    }

    /// The agents logged in today, by id.
    pub fn agent(&self, id: &str) -> Option<&AgentView> {
        self.agents.get(id)
    }
}

/// The engine's id-hashed maps: looked up, never iterated, serialized sorted by key.
pub(crate) use switchboard_acd::keyed::ById;
