//! The engine: runs sessions of the VM for contacts, scripts, surveys and retry
//! strategies, performs the effects they yield, and keeps the transcript of events.
//!
//! One engine serves `switchboard test` (virtual time, in-memory sources), `run` and the
//! simulator: there is no second interpreter. Time only moves when the engine is told
//! (`advance`), so the same inputs always give the same transcript.
//!
//! A long-running engine does not grow with every contact it has seen: a contact is kept
//! while its flow runs, it is in routing, surveys wait for its end, or a script or survey
//! runs for it; then it is let go (the last `RECENTLY_ENDED` stay addressable). What the
//! bundle gives every run (entries, names, hours, regexes) is built once, in `prepared`.

pub mod answers;
pub mod events;
mod prepared;
mod retry;
mod routing;
#[cfg(test)]
mod tests;

use answers::Reply;
use events::{Event, EventKind, Text};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{hash_map, BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use switchboard_bytecode::bytecode::*;
use switchboard_bytecode::types::{Channel, Type};
use switchboard_bytecode::value::{Currency, Record, Value};
use switchboard_calendar::{InMemoryTimers, TimerId, Timers};
use switchboard_sandbox::{self as sandbox, Sandbox};
use switchboard_sources::{self as sources, LiveSource, LookupOutcome, MemorySource, Source, SourceSpec};

use prepared::Prepared;
pub use switchboard_vm::{AgentView, Contact};
use switchboard_vm::{Effect, Host, Resume, Spare, Step, Vm};

/// How much one session may compute before the engine checks on it.
const FUEL: u32 = 10_000;
/// A session that computes this much without waiting for anyone has a runaway loop.
const MAX_INSTRUCTIONS: u64 = 10_000_000;
/// How many contacts that nothing refers to any more stay addressable (a test starts a
/// survey or a script on a contact just after its flow ended).
const RECENTLY_ENDED: usize = 64;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Serialize and restore every VM at every suspension (proves sessions are durable).
    pub roundtrip: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    Flow(FlowId),
    Script(ScriptId),
    Survey(SurveyId),
    /// A retry strategy's step (`step`) or its handler for an outcome (`None`).
    Retry {
        run: u64,
        step: Option<usize>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Wait {
    Nothing,
    Ask { ask: AskId, prompt: Arc<str>, tries: u32, timer: Option<TimerId> },
    Menu { menu: MenuId, prompt: Arc<str>, tries: u32, timer: Option<TimerId> },
    Choose { choice: ChoiceId },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Session {
    id: u64,
    kind: SessionKind,
    /// The engine's id of the contact it runs for (a retry run has none).
    contact: Option<u64>,
    vm: Vm,
    wait: Wait,
    /// Surveys to run for this contact once it has ended.
    surveys: Vec<SurveyId>,
}

impl Session {
    fn new(id: u64, kind: SessionKind, contact: Option<u64>, vm: Vm) -> Session {
        Session { id, kind, contact, vm, wait: Wait::Nothing, surveys: Vec::new() }
    }
}

/// A contact the engine still answers for: its flow runs, it is in routing, surveys wait
/// for its end, or a script or survey runs for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Kept {
    /// As its flow last left it (`contact.language = …` outlives the flow).
    contact: Box<Contact>,
    /// Scripts and surveys running for it (its flow's own session is `sessions[id]`).
    sessions: u32,
    /// Surveys its flow asked for, run once the contact ends.
    surveys: Vec<SurveyId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Timer {
    /// An `ask` or `menu` heard nothing in time.
    Silence {
        session: u64,
    },
    RetryStep {
        run: u64,
        step: usize,
    },
    RetryRepeat {
        run: u64,
        step: usize,
    },
    HeldSend {
        run: u64,
        medium: Medium,
        to: Value,
        text: String,
    },
    /// A queue's `while waiting` line for a waiting contact.
    Waiting {
        contact: String,
        /// The queue whose line it is: after an overflow, the old queue's lines stop.
        queue: QueueId,
        line: usize,
    },
    /// The routing engine's next deadline (offer time-outs, overflow, wrap-up).
    AcdTick,
}

/// Runs compiled flows for contacts.
pub struct Engine {
    pub bundle: Arc<Bundle>,
    options: Options,
    now: Timestamp,
    sources: Vec<LiveSource>,
    sandbox: Sandbox,
    scripts: Vec<Option<sandbox::ScriptId>>,
    timers: InMemoryTimers<Timer>,
    sessions: BTreeMap<u64, Session>,
    retries: BTreeMap<u64, retry::RetryRun>,
    /// Contacts something still refers to, by id (scripts and surveys run for them later).
    contacts: HashMap<u64, Kept, ById>,
    /// Contacts let go of, newest last, at most `RECENTLY_ENDED`.
    ended: VecDeque<(u64, Box<Contact>)>,
    events: Vec<Event>,
    next_id: u64,
    acd: switchboard_acd::Acd,
    /// Contacts in routing, by their id.
    queued: HashMap<u64, routing::Queued, ById>,
    agents: BTreeMap<String, AgentView>,
    /// Offers ringing: offer, contact id, agent id.
    ringing: Vec<(switchboard_acd::OfferId, String, String)>,
    acd_tick_timer: Option<(TimerId, Timestamp)>,
    /// The bundle and what is derived from it once, shared by every run.
    prepared: Arc<Prepared>,
    /// The room the last finished VM left, for the next one.
    spare: Option<Spare>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("now", &self.now).field("sessions", &self.sessions.len()).finish_non_exhaustive()
    }
}

/// The schema of a bundle's source, for the data-source layer.
pub fn source_spec(bundle: &Bundle, info: &SourceInfo) -> SourceSpec {
    let record = &bundle.records[info.record.index()];
    let fields = record
        .fields
        .iter()
        .map(|(name, ty)| sources::FieldSchema {
            name: name.clone(),
            ty: ty.clone(),
            enum_variants: match ty.unwrap_optional() {
                Type::Enum(e) => bundle.enums.iter().find(|x| *x.name == **e).map(|x| x.variants.clone()),
                _ => None,
            },
        })
        .collect();
    SourceSpec {
        name: info.name.clone(),
        schema: sources::RecordSchema { name: record.name.clone(), fields },
        keys: info.keys.clone(),
        timeout_ms: info.timeout_ms,
        cache_ms: info.cache_ms,
        currency: bundle.currency.unwrap_or(Currency::GBP),
    }
}

/// A source that is declared but cannot be reached from here (HTTP, SQL): every look-up
/// fails, which flows see as none and reports see as a `lookup … failed` event.
struct Unreachable(String);

impl Source for Unreachable {
    fn lookup(&self, _key: &Value) -> Result<Option<Arc<Record>>, sources::SourceError> {
        Err(sources::SourceError::Unavailable { source: String::new(), message: self.0.clone() })
    }
}

impl Engine {
    /// An engine over `bundle` whose sources are the project's own files (`root` is the
    /// project folder, for SQLite databases).
    pub fn new(bundle: Arc<Bundle>, root: &Path, options: Options, now: Timestamp) -> Result<Engine, String> {
        let mut live = Vec::new();
        for info in &bundle.sources {
            let spec = source_spec(&bundle, info);
            let source: Arc<dyn Source> = match &info.location {
                SourceLocation::Csv { contents, .. } => {
                    Arc::new(sources::CsvSource::load(&spec, contents).map_err(|e| e.to_string())?)
                }
                SourceLocation::Sqlite { path, table } => {
                    Arc::new(sources::SqliteSource::open(&spec, root.join(path), table).map_err(|e| e.to_string())?)
                }
                SourceLocation::Http { url } => Arc::new(Unreachable(format!("http source {url} is not configured"))),
                SourceLocation::Sql { .. } => Arc::new(Unreachable("sql source is not configured".to_string())),
            };
            live.push(LiveSource::new(&spec, source));
        }
        Engine::with_sources(bundle, live, options, now)
    }

    /// An engine whose sources hold exactly `rows` (by source index): what tests use.
    pub fn with_rows(
        bundle: Arc<Bundle>,
        rows: Vec<Vec<Arc<Record>>>,
        options: Options,
        now: Timestamp,
    ) -> Result<Engine, String> {
        let mut live = Vec::new();
        for (i, info) in bundle.sources.iter().enumerate() {
            let spec = source_spec(&bundle, info);
            let source = MemorySource::new(&spec, rows.get(i).cloned().unwrap_or_default());
            live.push(LiveSource::new(&spec, Arc::new(source)));
        }
        Engine::with_sources(bundle, live, options, now)
    }

    fn with_sources(
        bundle: Arc<Bundle>,
        sources: Vec<LiveSource>,
        options: Options,
        now: Timestamp,
    ) -> Result<Engine, String> {
        let mut sandbox = Sandbox::new(sandbox::Limits::default());
        sandbox.set_currency(bundle.currency.unwrap_or(Currency::GBP));
        for info in &bundle.sources {
            sandbox.declare_record(source_spec(&bundle, info).schema);
        }
        for e in &bundle.enums {
            sandbox.declare_enum(&e.name, e.variants.clone());
        }
        let scripts = bundle.externs.iter().map(|x| sandbox.load(&x.path, &x.script).ok()).collect();
        let acd = routing::new_acd(&bundle)?;
        Ok(Engine {
            acd,
            queued: HashMap::default(),
            agents: BTreeMap::new(),
            ringing: Vec::new(),
            acd_tick_timer: None,
            prepared: Arc::new(Prepared::new(bundle.clone())),
            spare: None,
            bundle,
            options,
            now,
            sources,
            sandbox,
            scripts,
            timers: InMemoryTimers::new(),
            sessions: BTreeMap::new(),
            retries: BTreeMap::new(),
            contacts: HashMap::default(),
            ended: VecDeque::new(),
            events: Vec::new(),
            next_id: 1,
        })
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Hands over the events so far (a long-running engine drains them to its store). The
    /// next events go into room for as many as were taken.
    pub fn take_events(&mut self) -> Vec<Event> {
        let room = self.events.len();
        std::mem::replace(&mut self.events, Vec::with_capacity(room))
    }

    /// Moves the events so far to the end of `into`; the engine keeps its room for more.
    pub fn drain_events_into(&mut self, into: &mut Vec<Event>) {
        into.append(&mut self.events);
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn emit(&mut self, session: u64, kind: EventKind, origin: Option<SourceSpan>) {
        self.events.push(Event { at: self.now, session, kind, origin });
    }

    /// A contact arrives on `channel` from `from`, addressed to `to`: the flow of the
    /// entry for that address runs until it waits. Returns the contact's id. With no
    /// entry for the channel at all, the contact is kept without a flow (for scripts and
    /// surveys run on it).
    pub fn contact(
        &mut self,
        channel: Channel,
        from: &str,
        to: Option<&str>,
        subject: &str,
        text: &str,
    ) -> Result<u64, String> {
        let prepared = self.prepared.clone();
        let bundle = &*prepared.bundle;
        let entry = prepared.entries.find(channel, to)?;
        let flow = entry.map(|e| e.flow);
        let from_value = match channel {
            Channel::Voice | Channel::Sms if sources::normalize::is_e164(from) => Value::Phone(Arc::from(from)),
            Channel::Voice | Channel::Sms => match sources::normalize::normalize_phone(from, None) {
                Some(p) => Value::Phone(Arc::from(p)),
                None => Value::text(from),
            },
            Channel::Email => Value::Email(Arc::from(from.trim().to_lowercase())),
            _ => Value::text(from),
        };
        // The entry's own texts when the contact is addressed as the entry is written.
        let (to_text, country) = match (to, entry) {
            (Some(to), Some(e)) if *e.address == *to => (e.address.clone(), e.country.clone()),
            (Some(to), _) => (Arc::from(to), Arc::from(country_of(to))),
            (None, Some(e)) => (e.address.clone(), e.country.clone()),
            (None, None) => (prepared.empty.clone(), prepared.empty.clone()),
        };
        let shared = |text: &str| if text.is_empty() { prepared.empty.clone() } else { Arc::from(text) };
        let (text, subject) = (shared(text), shared(subject));
        let id = self.id();
        let contact = Box::new(Contact {
            id: contact_key(id),
            channel,
            from: from_value,
            country,
            to: to_text.clone(),
            text,
            subject,
            language: prepared.english.clone(),
            started_at: self.now,
            attributes: BTreeMap::new(),
        });
        let Some(flow) = flow else {
            self.contacts.insert(id, Kept { contact, sessions: 0, surveys: Vec::new() });
            self.settle(id);
            return Ok(id);
        };
        let info = &bundle.flows[flow.index()];
        let from = match &contact.from {
            Value::Phone(p) if **p == *from => Text::from(p.clone()),
            _ => Text::from(from),
        };
        let flow_name = prepared.names.flows[flow.index()].clone();
        let event =
            EventKind::Contact { channel: Text::fixed(channel.as_str()), from, to: to_text.into(), flow: flow_name };
        self.emit(id, event, None);
        let spare = self.spare.take().unwrap_or_default();
        let vm = Vm::reusing(spare, bundle, info.body, contact, Vec::new(), info.on_error);
        self.run(Session::new(id, SessionKind::Flow(flow), Some(id), vm), &prepared);
        Ok(id)
    }

    /// Starts script `script` on an agent's screen for `contact`. Returns the session.
    pub fn start_script(&mut self, contact: u64, script: ScriptId, agent: AgentView) -> Result<u64, String> {
        let kept = self.revive(contact).ok_or("no such contact")?;
        kept.sessions += 1;
        let c = kept.contact.clone();
        let info = &self.bundle.scripts[script.index()];
        let mut vm = Vm::new(&self.bundle, info.prelude, c, vec![Value::None; info.globals as usize], None);
        vm.agent = Some(Box::new(agent));
        let id = self.id();
        self.run(Session::new(id, SessionKind::Script(script), Some(contact), vm), &self.prepared.clone());
        Ok(id)
    }

    /// Runs survey `survey` for `contact` now (production runs it once the contact ends).
    pub fn start_survey(&mut self, contact: u64, survey: SurveyId) -> Result<u64, String> {
        let kept = self.revive(contact).ok_or("no such contact")?;
        kept.sessions += 1;
        let mut c = kept.contact.clone();
        let info = &self.bundle.surveys[survey.index()];
        match info.via {
            SurveyVia::Sms => c.channel = Channel::Sms,
            SurveyVia::Email => c.channel = Channel::Email,
            SurveyVia::SameChannel => {}
        }
        let vm = Vm::new(&self.bundle, info.body, c, Vec::new(), None);
        let id = self.id();
        self.run(Session::new(id, SessionKind::Survey(survey), Some(contact), vm), &self.prepared.clone());
        Ok(id)
    }

    /// Whether a session is still running (waiting for someone or something).
    pub fn is_live(&self, session: u64) -> bool {
        self.sessions.contains_key(&session) || self.queued.contains_key(&session)
    }

    /// How many contacts the engine holds because something still refers to them.
    pub fn contacts_kept(&self) -> usize {
        self.contacts.len()
    }

    /// A contact by its id, whether something still refers to it or it ended recently.
    fn find_contact(&self, id: u64) -> Option<&Contact> {
        match self.contacts.get(&id) {
            Some(k) => Some(&*k.contact),
            None => self.ended.iter().rev().find(|(e, _)| *e == id).map(|(_, c)| &**c),
        }
    }

    /// The entry of a contact, brought back if it ended recently (a script or survey is
    /// about to run for it).
    fn revive(&mut self, id: u64) -> Option<&mut Kept> {
        if !self.contacts.contains_key(&id) {
            let at = self.ended.iter().position(|(e, _)| *e == id)?;
            let (_, contact) = self.ended.remove(at)?;
            self.contacts.insert(id, Kept { contact, sessions: 0, surveys: Vec::new() });
        }
        self.contacts.get_mut(&id)
    }

    /// Lets go of a contact nothing refers to any more: its flow is over, it is not in
    /// routing, no survey waits for its end, and no script or survey runs for it.
    fn settle(&mut self, id: u64) {
        let Some(k) = self.contacts.get(&id) else { return };
        if k.sessions > 0 || !k.surveys.is_empty() || self.sessions.contains_key(&id) || self.queued.contains_key(&id) {
            return;
        }
        if let Some(k) = self.contacts.remove(&id) {
            self.let_go(id, k.contact);
        }
    }

    /// Moves a contact to the recently ended ones.
    fn let_go(&mut self, id: u64, contact: Box<Contact>) {
        if self.ended.len() == RECENTLY_ENDED {
            self.ended.pop_front();
        }
        self.ended.push_back((id, contact));
    }

    /// Delivers keys, text or a value to what `session` waits for.
    pub fn input(&mut self, session: u64, reply: Reply) -> Result<(), String> {
        let Some(s) = self.sessions.get(&session) else {
            // A customer waiting in a queue may take a callback.
            let id = self.find_contact(session).map(|c| c.id.clone()).ok_or("nothing is running to take that")?;
            self.emit(session, EventKind::Input { text: reply.as_text().into() }, None);
            return self.queue_input(&id, &reply.as_text());
        };
        let wait = s.wait.clone();
        self.emit(session, EventKind::Input { text: reply.as_text().into() }, None);
        match wait {
            Wait::Nothing => Err("nothing is waiting for an answer".to_string()),
            Wait::Ask { ask, timer, .. } => {
                let info = &self.bundle.asks[ask.index()];
                match answers::validate(&info.kind, &reply, self.bundle.currency.unwrap_or(Currency::GBP)) {
                    Some(v) => {
                        self.cancel(timer);
                        self.answer(session, Resume::Value(v));
                    }
                    None => self.unanswered(session),
                }
                Ok(())
            }
            Wait::Menu { menu, timer, .. } => {
                let info = &self.bundle.menus[menu.index()];
                let text = reply.as_text();
                let by_label = !matches!(reply, Reply::Keys(_));
                let chosen = info.options.iter().position(|(key, label)| {
                    *key == text || (by_label && label.as_ref().is_some_and(|l| l.eq_ignore_ascii_case(&text)))
                });
                match chosen {
                    Some(i) => {
                        self.cancel(timer);
                        self.answer(session, Resume::Value(Value::Number(i as f64)));
                    }
                    None => self.unanswered(session),
                }
                Ok(())
            }
            Wait::Choose { choice } => {
                let text = reply.as_text();
                let info = &self.bundle.choices[choice.index()];
                let i = info
                    .options
                    .iter()
                    .position(|o| o.eq_ignore_ascii_case(&text))
                    .ok_or_else(|| format!("\"{text}\" is not one of the options: {}", info.options.join(", ")))?;
                self.answer(session, Resume::Value(Value::Number(i as f64)));
                Ok(())
            }
        }
    }

    /// The session currently waiting for input, most recent first.
    pub fn waiting_session(&self) -> Option<u64> {
        self.sessions.values().rev().find(|s| s.wait != Wait::Nothing).map(|s| s.id)
    }

    fn cancel(&mut self, timer: Option<TimerId>) {
        if let Some(t) = timer {
            self.timers.cancel(t);
        }
    }

    fn answer(&mut self, session: u64, resume: Resume) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.wait = Wait::Nothing;
            s.vm.resume(&self.bundle, resume);
        }
        self.drive(session);
    }

    /// Silence or an answer that does not fit: ask again, or give up after the retries.
    fn unanswered(&mut self, session: u64) {
        let Some(s) = self.sessions.get(&session) else { return };
        let channel = s.vm.contact.channel;
        let script = matches!(s.kind, SessionKind::Script(_));
        match s.wait.clone() {
            Wait::Ask { ask, prompt, tries, timer } => {
                self.cancel(timer);
                let info = &self.bundle.asks[ask.index()];
                if tries + 1 > info.retries.unwrap_or(2) {
                    self.answer(session, Resume::Value(Value::None));
                } else {
                    let timeout = ask_timeout(info, channel, script);
                    let origin = self.sessions[&session].vm.position(&self.bundle);
                    self.emit(session, EventKind::Say { text: prompt.clone().into() }, origin);
                    let timer = timeout.map(|ms| self.schedule_in(ms, Timer::Silence { session }));
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.wait = Wait::Ask { ask, prompt, tries: tries + 1, timer };
                    }
                }
            }
            Wait::Menu { menu, prompt, tries, timer } => {
                self.cancel(timer);
                let info = &self.bundle.menus[menu.index()];
                if tries + 1 > info.retries {
                    let route = info.options.len();
                    self.answer(session, Resume::Value(Value::Number(route as f64)));
                } else {
                    let ms = info.timeout_ms;
                    let origin = self.sessions[&session].vm.position(&self.bundle);
                    self.emit(session, EventKind::Say { text: prompt.clone().into() }, origin);
                    let timer = Some(self.schedule_in(ms, Timer::Silence { session }));
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.wait = Wait::Menu { menu, prompt, tries: tries + 1, timer };
                    }
                }
            }
            _ => {}
        }
    }

    fn schedule_in(&mut self, ms: i64, timer: Timer) -> TimerId {
        let due = self.now.checked_add(jiff::SignedDuration::from_millis(ms)).unwrap_or(self.now);
        self.timers.schedule(due, timer)
    }

    /// Moves time forward to `to`, firing every timer due on the way, in order.
    pub fn advance(&mut self, to: Timestamp) {
        while let Some(due) = self.timers.next_due() {
            if due > to {
                break;
            }
            if due > self.now {
                self.now = due;
            }
            for (_, timer) in self.timers.pop_due(due) {
                self.fire(timer);
            }
        }
        if to > self.now {
            self.now = to;
        }
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Silence { session } => self.unanswered(session),
            Timer::RetryStep { run, step } => self.retry_step(run, step, false),
            Timer::RetryRepeat { run, step } => self.retry_step(run, step, true),
            Timer::HeldSend { run, medium, to, text } => {
                if self.retries.get(&run).is_some_and(|r| !r.stopped) {
                    self.emit_send(run, medium, &to, &text, None);
                }
            }
            Timer::Waiting { contact, queue, line } => self.waiting_line(contact, queue, line),
            Timer::AcdTick => self.acd_tick(),
        }
    }

    /// Runs a waiting session on, until it waits again, ends or fails.
    fn drive(&mut self, id: u64) {
        if let Some(s) = self.sessions.remove(&id) {
            self.run(s, &self.prepared.clone());
        }
    }

    /// Runs a session until it waits (it is kept), ends or fails.
    fn run(&mut self, mut s: Session, prepared: &Prepared) {
        let id = s.id;
        let bundle = &*prepared.bundle;
        let host = Host::new(&prepared.tables);
        let mut spent: u64 = 0;
        loop {
            let mut fuel = FUEL;
            let step = s.vm.run(bundle, &host, self.now, &mut fuel);
            spent += u64::from(FUEL - fuel);
            match step {
                Step::Running if s.wait == Wait::Nothing && spent < MAX_INSTRUCTIONS => continue,
                Step::Running if s.wait == Wait::Nothing => {
                    self.emit(
                        id,
                        EventKind::Error { message: Text::fixed("the flow computed too long without waiting") },
                        None,
                    );
                    self.over(s, false);
                    return;
                }
                Step::Running => break,
                Step::Yield(effect) => {
                    let origin = s.vm.position(bundle);
                    let done = effect.is_final();
                    let resume = self.perform(prepared, &mut s, effect, origin);
                    if self.options.roundtrip && !done {
                        s.vm = roundtrip(&s.vm);
                    }
                    match resume {
                        Some(r) => s.vm.resume(bundle, r),
                        None => break,
                    }
                }
                Step::Done => {
                    self.over(s, true);
                    return;
                }
                Step::Failed(message) => {
                    let origin = s.vm.position(bundle);
                    self.emit(id, EventKind::Error { message: message.into() }, origin);
                    self.over(s, true);
                    return;
                }
            }
        }
        if let (SessionKind::Flow(_), Some(contact)) = (s.kind, s.contact) {
            self.keep(contact, s.vm.contact.clone());
        }
        self.sessions.insert(id, s);
    }

    /// Keeps a contact as its flow left it.
    fn keep(&mut self, id: u64, contact: Box<Contact>) -> &mut Kept {
        match self.contacts.entry(id) {
            hash_map::Entry::Occupied(e) => {
                let kept = e.into_mut();
                kept.contact = contact;
                kept
            }
            hash_map::Entry::Vacant(e) => e.insert(Kept { contact, sessions: 0, surveys: Vec::new() }),
        }
    }

    /// The contact is over: the surveys its flow asked for run now.
    fn contact_ended(&mut self, contact: u64) {
        let surveys = self.contacts.get_mut(&contact).map(|k| std::mem::take(&mut k.surveys)).unwrap_or_default();
        for survey in surveys {
            let _ = self.start_survey(contact, survey);
        }
        self.settle(contact);
    }

    /// A session will not run again. `finished`: it ran to its end (or failed), so the
    /// surveys a flow asked for wait for its contact's end and a retry step is done.
    fn over(&mut self, s: Session, finished: bool) {
        let Session { kind, contact, vm, surveys, .. } = s;
        let (left, spare) = vm.finish();
        self.spare = Some(spare);
        if let Some(contact) = contact {
            let surveys = if finished { surveys } else { Vec::new() };
            match (kind, self.contacts.entry(contact)) {
                (SessionKind::Flow(_), hash_map::Entry::Occupied(e)) => {
                    let kept = e.into_mut();
                    kept.contact = left;
                    if kept.surveys.is_empty() {
                        kept.surveys = surveys;
                    } else {
                        kept.surveys.extend(surveys);
                    }
                    self.settle(contact);
                }
                // Seen for the first time: kept only if routing has it or surveys wait.
                (SessionKind::Flow(_), hash_map::Entry::Vacant(e)) => {
                    if surveys.is_empty() && !self.queued.contains_key(&contact) {
                        self.let_go(contact, left);
                    } else {
                        e.insert(Kept { contact: left, sessions: 0, surveys });
                    }
                }
                // A script's or a survey's own surveys are never run.
                (_, hash_map::Entry::Occupied(e)) => {
                    let kept = e.into_mut();
                    kept.sessions = kept.sessions.saturating_sub(1);
                    self.settle(contact);
                }
                (_, hash_map::Entry::Vacant(_)) => {}
            }
        }
        if let (true, SessionKind::Retry { run, step: Some(step) }) = (finished, kind) {
            self.retry_step_done(run, step);
        }
    }

    /// Performs one effect. `Some` resumes the VM at once; `None` leaves it waiting.
    fn perform(
        &mut self,
        prepared: &Prepared,
        s: &mut Session,
        effect: Effect,
        origin: Option<SourceSpan>,
    ) -> Option<Resume> {
        let id = s.id;
        let bundle = &*prepared.bundle;
        match effect {
            Effect::Say(text) => self.emit(id, EventKind::Say { text: text.into() }, origin),
            Effect::Note(text) => self.emit(id, EventKind::Note { text: text.into() }, origin),
            Effect::Waypoint(name) => self.emit(id, EventKind::Waypoint { name: name.into() }, origin),
            Effect::Ask { ask, prompt } => {
                self.emit(id, EventKind::Say { text: prompt.clone().into() }, origin);
                let info = &bundle.asks[ask.index()];
                let timeout = ask_timeout(info, s.vm.contact.channel, matches!(s.kind, SessionKind::Script(_)));
                let timer = timeout.map(|ms| self.schedule_in(ms, Timer::Silence { session: id }));
                s.wait = Wait::Ask { ask, prompt, tries: 0, timer };
                return None;
            }
            Effect::Menu { menu, prompt } => {
                self.emit(id, EventKind::Say { text: prompt.clone().into() }, origin);
                let timer =
                    Some(self.schedule_in(bundle.menus[menu.index()].timeout_ms, Timer::Silence { session: id }));
                s.wait = Wait::Menu { menu, prompt, tries: 0, timer };
                return None;
            }
            Effect::Choose { choice, prompt } => {
                let options = bundle.choices[choice.index()].options.clone();
                self.emit(id, EventKind::Choice { prompt: prompt.into(), options }, origin);
                s.wait = Wait::Choose { choice };
                return None;
            }
            Effect::Lookup { source, key } => {
                let live = &self.sources[source.index()];
                let outcome = live.lookup(&key, self.now.as_millisecond());
                let described = match &outcome {
                    LookupOutcome::Found(_) => Text::fixed("found"),
                    LookupOutcome::Missed => Text::fixed("no match"),
                    LookupOutcome::TimedOut => Text::fixed("timed out"),
                    LookupOutcome::Failed(why) => format!("failed: {why}").into(),
                };
                let name = prepared.names.sources[source.index()].clone();
                self.emit(id, EventKind::Lookup { source: name, outcome: described }, origin);
                return Some(Resume::Value(outcome.into_value()));
            }
            Effect::Queue { queue, priority, prefer, require, vip } => {
                let name = prepared.names.queues[queue.index()].clone();
                self.emit(id, EventKind::Queue { queue: name, priority }, origin);
                match (s.kind, s.contact) {
                    // Its surveys go with the contact once the flow is over, right after this.
                    (SessionKind::Flow(_), Some(contact)) => {
                        self.enqueue(bundle, contact, &s.vm.contact, queue, priority, prefer, &require, vip, origin)
                    }
                    (_, Some(contact)) => {
                        if let Some(kept) = self.contacts.get_mut(&contact) {
                            kept.surveys.append(&mut s.surveys);
                            let c = kept.contact.clone();
                            self.enqueue(bundle, contact, &c, queue, priority, prefer, &require, vip, origin);
                        }
                    }
                    (_, None) => {}
                }
            }
            Effect::Transfer { to } => self.emit(id, EventKind::Transfer { to: to.display().into() }, origin),
            Effect::OfferCallback { keep_place } => self.emit(id, EventKind::Callback { keep_place }, origin),
            Effect::CollectPayment { amount } => {
                // The card is captured by the channel's secure form; only the amount is kept.
                self.emit(id, EventKind::Payment { amount: amount.display().into() }, origin)
            }
            Effect::Send { medium, to, text } => {
                if let SessionKind::Retry { run, step: None } = s.kind {
                    if self.held(run, medium) {
                        let due = self.release(run);
                        self.timers.schedule(due, Timer::HeldSend { run, medium, to, text: text.to_string() });
                        return Some(Resume::Unit);
                    }
                }
                self.emit_send(id, medium, &to, &text, origin);
            }
            Effect::StartRetry { retry, subject } => {
                self.start_retry(retry, subject);
            }
            Effect::Survey { survey } => s.surveys.push(survey),
            Effect::End => self.emit(id, EventKind::End, origin),
            Effect::Outcome(name) => self.emit(id, EventKind::Outcome { name: name.into() }, origin),
            Effect::Call { to, queue, .. } => {
                let name = prepared.names.queues[queue.index()].clone();
                self.emit(id, EventKind::Call { to: to.display().into(), queue: name }, origin);
                if let SessionKind::Retry { run, step } = s.kind {
                    self.outbound(run, queue, &to.display());
                    if let Some(r) = self.retries.get_mut(&run) {
                        r.pending_call = step.or(r.pending_call);
                    }
                }
            }
            Effect::Again { delay_ms, at_minutes, max } => {
                if let SessionKind::Retry { run, .. } = s.kind {
                    self.again(run, delay_ms, at_minutes, max);
                }
            }
            Effect::Stop => {
                self.emit(id, EventKind::Stop, origin);
                if let SessionKind::Retry { run, .. } = s.kind {
                    self.stop_retry(run);
                }
            }
            Effect::Extern { func, args } => {
                let info = &bundle.externs[func.index()];
                let Some(script) = self.scripts[func.index()] else {
                    return Some(Resume::Failed(format!("`{}` could not be loaded", info.path)));
                };
                return Some(match self.sandbox.call(script, &info.name, &args, &info.ret) {
                    Ok(v) => Resume::Value(v),
                    Err(e) => Resume::Failed(format!("`{}` failed: {e}", info.name)),
                });
            }
        }
        Some(Resume::Unit)
    }

    fn emit_send(&mut self, session: u64, medium: Medium, to: &Value, text: &str, origin: Option<SourceSpan>) {
        let medium = match medium {
            Medium::Sms => "sms",
            Medium::Email => "email",
        };
        self.emit(
            session,
            EventKind::Send { medium: Text::fixed(medium), to: to.display().into(), text: text.into() },
            origin,
        );
    }

    /// Runs a computing function (a `fn`, a time zone, an announcement) to its value.
    fn evaluate(&self, func: FuncId, globals: Vec<Value>, host: &Host<'_>) -> Result<Value, String> {
        let contact = Box::new(self.prepared.nobody(self.prepared.empty.clone(), self.now));
        let mut vm = Vm::new(&self.bundle, func, contact, globals, None);
        let mut fuel = FUEL;
        match vm.run(&self.bundle, host, self.now, &mut fuel) {
            Step::Done => Ok(vm.result().cloned().unwrap_or(Value::None)),
            Step::Failed(why) => Err(why),
            _ => Err("it did not finish".to_string()),
        }
    }
}

fn roundtrip(vm: &Vm) -> Vm {
    let bytes = postcard::to_allocvec(vm).expect("a VM always serializes");
    postcard::from_bytes(&bytes).expect("a VM always deserializes")
}

/// How long an `ask` waits: as written, else 10 s on a call and 5 minutes in writing.
/// Agents answering a script are never timed out.
fn ask_timeout(info: &AskInfo, channel: Channel, script: bool) -> Option<i64> {
    if script {
        return None;
    }
    Some(info.timeout_ms.unwrap_or(match channel {
        Channel::Voice => 10_000,
        _ => 300_000,
    }))
}

/// An address as entries store it.
pub fn address_key(channel: Channel, address: &str) -> String {
    prepared::address_key(channel, address).into_owned()
}

/// The id routing knows a contact by: `c` and the engine's id (written in place, so the
/// only allocation is the text itself).
fn contact_key(id: u64) -> Arc<str> {
    use std::io::Write as _;
    let mut key = [0u8; 21];
    let mut cursor = std::io::Cursor::new(&mut key[..]);
    let _ = write!(cursor, "c{id}");
    let len = cursor.position() as usize;
    Arc::from(std::str::from_utf8(&key[..len]).unwrap_or_default())
}

/// Hashes the engine's own ids (numbers it hands out one after another, never chosen by a
/// caller) with one multiplication instead of SipHash.
type ById = std::hash::BuildHasherDefault<IdHasher>;

#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The engine's id of the contact routing knows as `key` (see `contact_key`).
fn contact_id(key: &str) -> Option<u64> {
    let digits = key.strip_prefix('c')?;
    let canonical = digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
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
