//! One step of the engine: `Core` borrows the state, the world and the output for the
//! length of one input, and does what the input asks — runs sessions of the VM until they
//! wait, turns their effects into commands and events, and fires due timers.
//!
//! `Core` derefs to `State`, so the logic reads as if it owned the state; it only borrows.

use crate::answers::{self, Reply};
use crate::error::EngineError;
use crate::events::{Event, EventKind, Text};
use crate::ids::{BundleHash, CommandId, ContactId, SessionId};
use crate::io::{Arrival, Audience, Command, CommandKind, Completion, Gather, Input, Output, Started};
use crate::prepared::Prepared;
use crate::state::{BundleRef, Kept, Pending, Session, SessionKind, State, Timer, Wait, RECENTLY_ENDED};
use crate::world::{Deployed, World};
use jiff::Timestamp;
use std::collections::hash_map;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use switchboard_bytecode::bytecode::*;
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::{Currency, Value};
use switchboard_calendar::{TimerId, Timers};
use switchboard_vm::{AgentView, Contact, Effect, Host, Resume, Step, Vm};

/// How much one session may compute before the engine checks on it.
const FUEL: u32 = 10_000;
/// A session that computes this much without waiting for anyone has a runaway loop.
const MAX_INSTRUCTIONS: u64 = 10_000_000;

pub(crate) struct Core<'a> {
    state: &'a mut State,
    pub world: &'a World,
    pub out: &'a mut Output,
    /// The first bundles the state names, looked up in the world once per step.
    cached: [Option<&'a Deployed>; CACHED],
    /// The session running now and its contact (a running session is out of the state's
    /// map), for the events it gives.
    running: Option<(SessionId, Option<ContactId>)>,
}

/// How many bundles a step looks up once (more are looked up on each use).
const CACHED: usize = 8;

impl Deref for Core<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        self.state
    }
}

impl DerefMut for Core<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.state
    }
}

impl<'a> Core<'a> {
    /// A step over `state`, once every bundle it names is known to be in `world`.
    pub fn new(state: &'a mut State, world: &'a World, out: &'a mut Output) -> Result<Core<'a>, EngineError> {
        let mut cached = [None; CACHED];
        for (i, hash) in state.bundles.iter().enumerate() {
            let deployed = world.get(hash).ok_or(EngineError::UnknownBundle(*hash))?;
            if let Some(slot) = cached.get_mut(i) {
                *slot = Some(deployed);
            }
        }
        Ok(Core { state, world, out, cached, running: None })
    }

    /// A bundle the state names (all of them are in the world: `new` checked).
    pub fn deployed(&self, bundle: BundleRef) -> &'a Deployed {
        if let Some(Some(d)) = self.cached.get(bundle as usize) {
            return d;
        }
        let world: &'a World = self.world;
        let hash = self.state.bundles[bundle as usize];
        match world.get(&hash) {
            Some(d) => d,
            None => unreachable!("Core::new checked that bundle {hash:?} is deployed"),
        }
    }

    pub fn state_mut(&mut self) -> &mut State {
        self.state
    }

    pub fn prepared(&self, bundle: BundleRef) -> &'a Prepared {
        &self.deployed(bundle).prepared
    }

    /// Applies one input (time has been moved on already).
    pub fn apply(&mut self, input: Input) -> Result<(), EngineError> {
        match input {
            Input::Tick => Ok(()),
            Input::Arrive(arrival) => {
                let id = self.arrive(arrival)?;
                self.out.started = Some(Started::Contact(id));
                Ok(())
            }
            Input::Reply { session, reply } => self.input(session, reply),
            Input::Completed { command, result } => self.completed(command, result),
            Input::Agent(action) => self.agent(action),
            Input::HangUp { contact } => self.hang_up(contact),
            Input::Deploy { bundle } => self.deploy(bundle),
            Input::StartScript { contact, script, agent } => {
                let bundle = self.contact_bundle(contact)?;
                let id = self.prepared(bundle).bundle.script(&script);
                let id = id.ok_or(EngineError::UnknownName { kind: "script", name: script })?;
                let session = self.start_script(contact, id, *agent)?;
                self.out.started = Some(Started::Session(session));
                Ok(())
            }
            Input::StartSurvey { contact, survey } => {
                let bundle = self.contact_bundle(contact)?;
                let id = self.prepared(bundle).bundle.survey(&survey);
                let id = id.ok_or(EngineError::UnknownName { kind: "survey", name: survey })?;
                let session = self.start_survey(contact, id)?;
                self.out.started = Some(Started::Session(session));
                Ok(())
            }
            Input::StartRetry { retry, subject } => {
                let id = self.prepared(self.current).bundle.retry(&retry);
                let id = id.ok_or(EngineError::UnknownName { kind: "retry strategy", name: retry })?;
                let run = self.start_retry(self.current, id, subject);
                self.out.started = Some(Started::Retry(run));
                Ok(())
            }
            Input::RetryEvent { run, event } => self.call_outcome(run, &event),
        }
    }

    pub fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn emit(&mut self, session: SessionId, kind: EventKind, origin: Option<SourceSpan>) {
        let at = self.now;
        let contact = match self.running {
            Some((running, contact)) if running == session => contact,
            _ => match self.state.sessions.get(&session) {
                Some(s) => s.contact,
                None => self.state.contacts.contains_key(&ContactId(session.0)).then_some(ContactId(session.0)),
            },
        };
        self.out.events.push(Event { at, session, contact, kind, origin });
        self.out.touch(session);
    }

    /// Hands the shell a command; returns its id.
    pub fn command(&mut self, session: SessionId, kind: CommandKind) -> CommandId {
        let id = CommandId { session, seq: self.next_command };
        self.next_command += 1;
        self.out.commands.push(Command { id, kind });
        self.out.touch(session);
        id
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
                    self.send(SessionId(run.0), Some(run), medium, &to, text, None);
                }
            }
            Timer::Waiting { contact, queue, line } => self.waiting_line(contact, queue, line),
            Timer::AcdTick => self.acd_tick(),
        }
    }

    pub fn schedule_in(&mut self, ms: i64, timer: Timer) -> TimerId {
        let due = self.now.checked_add(jiff::SignedDuration::from_millis(ms)).unwrap_or(self.now);
        self.timers.schedule(due, timer)
    }

    pub fn cancel(&mut self, timer: Option<TimerId>) {
        if let Some(t) = timer {
            self.timers.cancel(t);
        }
    }

    /// A contact arrives: the flow of the entry for its address runs until it waits. With
    /// no entry for the channel at all, the contact is kept without a flow (for scripts and
    /// surveys run on it).
    fn arrive(&mut self, arrival: Arrival) -> Result<ContactId, EngineError> {
        let Arrival { channel, from, to, subject, text, attributes } = arrival;
        let bundle_ref = self.current;
        let prepared = self.prepared(bundle_ref);
        let bundle = &*prepared.bundle;
        let entry = prepared.entries.find(channel, to.as_deref()).map_err(EngineError::NoEntry)?;
        let flow = entry.map(|e| e.flow);
        let from_value = match channel {
            Channel::Voice | Channel::Sms if crate::normalize::is_e164(&from) => Value::Phone(from.clone()),
            Channel::Voice | Channel::Sms => match crate::normalize::normalize_phone(&from, None) {
                Some(p) => Value::Phone(Arc::from(p)),
                None => Value::Text(from.clone()),
            },
            Channel::Email => Value::Email(Arc::from(from.trim().to_lowercase())),
            _ => Value::Text(from.clone()),
        };
        // The entry's own texts when the contact is addressed as the entry is written.
        let (to_text, country) = match (to, entry) {
            (Some(to), Some(e)) if *e.address == *to => (e.address.clone(), e.country.clone()),
            (Some(to), _) => {
                let country = Arc::from(crate::country_of(&to));
                (to, country)
            }
            (None, Some(e)) => (e.address.clone(), e.country.clone()),
            (None, None) => (prepared.empty.clone(), prepared.empty.clone()),
        };
        let shared = |text: Arc<str>| if text.is_empty() { prepared.empty.clone() } else { text };
        let (text, subject) = (shared(text), shared(subject));
        let id = ContactId(self.id());
        let contact = Box::new(Contact {
            id: crate::contact_key(id),
            channel,
            from: from_value,
            country,
            to: to_text.clone(),
            text,
            subject,
            language: prepared.english.clone(),
            started_at: self.now,
            attributes: attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        });
        let Some(flow) = flow else {
            self.contacts.insert(id, Kept::new(Some(contact), bundle_ref, Vec::new()));
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
        self.emit(id.session(), event, None);
        let spare = self.spare.0.take().unwrap_or_default();
        let vm = Vm::reusing(spare, bundle, info.body, contact, Vec::new(), info.on_error);
        self.run(Session::new(id.session(), SessionKind::Flow(flow), bundle_ref, Some(id), vm));
        Ok(id)
    }

    fn contact_bundle(&self, contact: ContactId) -> Result<BundleRef, EngineError> {
        match self.contacts.get(&contact) {
            Some(k) => Ok(k.bundle),
            None if self.ended.iter().any(|(e, _)| *e == contact) => Ok(self.current),
            None => Err(EngineError::UnknownContact(contact)),
        }
    }

    /// Starts script `script` on an agent's screen for `contact`. Returns the session.
    fn start_script(
        &mut self,
        contact: ContactId,
        script: ScriptId,
        agent: AgentView,
    ) -> Result<SessionId, EngineError> {
        let (c, bundle_ref) = self.open_for(contact)?;
        let bundle = &*self.prepared(bundle_ref).bundle;
        let info = &bundle.scripts[script.index()];
        let mut vm = Vm::new(bundle, info.prelude, c, vec![Value::None; info.globals as usize], None);
        vm.agent = Some(Box::new(agent));
        let id = SessionId(self.id());
        self.run(Session::new(id, SessionKind::Script(script), bundle_ref, Some(contact), vm));
        Ok(id)
    }

    /// Runs survey `survey` for `contact` now (production runs it once the contact ends).
    pub fn start_survey(&mut self, contact: ContactId, survey: SurveyId) -> Result<SessionId, EngineError> {
        let (mut c, bundle_ref) = self.open_for(contact)?;
        let bundle = &*self.prepared(bundle_ref).bundle;
        let info = &bundle.surveys[survey.index()];
        match info.via {
            SurveyVia::Sms => c.channel = Channel::Sms,
            SurveyVia::Email => c.channel = Channel::Email,
            SurveyVia::SameChannel => {}
        }
        let vm = Vm::new(bundle, info.body, c, Vec::new(), None);
        let id = SessionId(self.id());
        self.emit(id, EventKind::Survey { survey: info.name.as_str().into(), contact }, None);
        self.run(Session::new(id, SessionKind::Survey(survey), bundle_ref, Some(contact), vm));
        Ok(id)
    }

    /// A contact by its id, whether something still refers to it or it ended recently.
    pub fn find_contact(&self, id: ContactId) -> Option<&Contact> {
        self.state.find_contact(id)
    }

    /// A script or survey opens for `contact`: it is kept while that runs. Gives a copy of
    /// the contact as it stands, and its bundle.
    fn open_for(&mut self, contact: ContactId) -> Result<(Box<Contact>, BundleRef), EngineError> {
        let kept = self.revive(contact).ok_or(EngineError::UnknownContact(contact))?;
        kept.sessions += 1;
        let bundle = kept.bundle;
        let c = self.find_contact(contact).ok_or(EngineError::UnknownContact(contact))?;
        Ok((Box::new(c.clone()), bundle))
    }

    /// The entry of a contact, brought back if it ended recently (a script or survey is
    /// about to run for it).
    fn revive(&mut self, id: ContactId) -> Option<&mut Kept> {
        if !self.contacts.contains_key(&id) {
            let at = self.ended.iter().position(|(e, _)| *e == id)?;
            let (_, contact) = self.ended.remove(at)?;
            let bundle = self.current;
            self.contacts.insert(id, Kept::new(Some(contact), bundle, Vec::new()));
        }
        self.contacts.get_mut(&id)
    }

    /// Lets go of a contact nothing refers to any more: its flow is over, it is not in
    /// routing, no survey waits for its end, and no script or survey runs for it.
    pub fn settle(&mut self, id: ContactId) {
        let Some(k) = self.contacts.get(&id) else { return };
        if k.sessions > 0
            || !k.surveys.is_empty()
            || self.sessions.contains_key(&id.session())
            || self.queued.contains_key(&id)
        {
            return;
        }
        if let Some(Kept { contact: Some(contact), .. }) = self.contacts.remove(&id) {
            self.let_go(id, contact);
        }
    }

    /// Moves a contact to the recently ended ones.
    fn let_go(&mut self, id: ContactId, contact: Box<Contact>) {
        if self.ended.len() == RECENTLY_ENDED {
            self.ended.pop_front();
        }
        self.ended.push_back((id, contact));
    }

    /// Delivers keys, text or a value to what `session` waits for. Input nothing waits for
    /// is stray: it is counted and dropped, never recorded (keys pressed after a payment
    /// prompt must not reach the transcript).
    fn input(&mut self, session: SessionId, reply: Reply) -> Result<(), EngineError> {
        let Some(s) = self.sessions.get(&session) else {
            // A customer waiting in a queue may take an offered callback.
            let contact = ContactId(session.0);
            let offered = self.queued.get(&contact).is_some_and(|q| q.callback_offered && !q.callback_taken);
            if !offered {
                return Err(self.stray(session, "nothing is waiting for an answer"));
            }
            self.emit(session, EventKind::Input { text: reply.as_text().into() }, None);
            return self.queue_input(contact, &reply.as_text());
        };
        let (wait, bundle_ref) = (s.wait.clone(), s.bundle);
        let prepared = self.prepared(bundle_ref);
        let bundle = &*prepared.bundle;
        let contact = &s.vm.contact;
        let entry_country = prepared.entries.answers_country(contact.channel, &contact.to);
        let country = answers::country_of(contact, entry_country).map(str::to_owned);
        match wait {
            Wait::Nothing => return Err(self.stray(session, "nothing is waiting for an answer")),
            Wait::Command(_) => return Err(self.stray(session, "the session is waiting for the shell, not for input")),
            _ => {}
        }
        self.emit(session, EventKind::Input { text: reply.as_text().into() }, None);
        match wait {
            // Refused as stray above.
            Wait::Nothing | Wait::Command(_) => Ok(()),
            Wait::Ask { ask, timer, .. } => {
                let info = &bundle.asks[ask.index()];
                let locale =
                    answers::Locale { currency: bundle.currency.unwrap_or(Currency::GBP), country: country.as_deref() };
                match answers::validate(&info.kind, &reply, locale) {
                    Some(v) => {
                        self.cancel(timer);
                        let answer = EventKind::Answer { name: info.name.as_str().into(), value: v.display().into() };
                        self.emit(session, answer, None);
                        self.answer(session, Resume::Value(v));
                    }
                    None => self.unanswered(session),
                }
                Ok(())
            }
            Wait::Menu { menu, timer, .. } => {
                let info = &bundle.menus[menu.index()];
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
            Wait::Callback { .. } => {
                self.callback_reply(session, &reply);
                Ok(())
            }
            Wait::Choose { choice } => {
                let text = reply.as_text();
                let info = &bundle.choices[choice.index()];
                let i = info.options.iter().position(|o| o.eq_ignore_ascii_case(&text)).ok_or_else(|| {
                    EngineError::NotWaiting {
                        session,
                        why: format!("\"{text}\" is not one of the options: {}", info.options.join(", ")),
                    }
                })?;
                self.answer(session, Resume::Value(Value::Number(i as f64)));
                Ok(())
            }
        }
    }

    /// Counts input that nothing waits for, and says why it was dropped.
    fn stray(&mut self, session: SessionId, why: &str) -> EngineError {
        self.stray_inputs += 1;
        EngineError::NotWaiting { session, why: why.to_string() }
    }

    /// The shell says how a command went.
    fn completed(&mut self, command: CommandId, result: Completion) -> Result<(), EngineError> {
        let pending = self.pending.get(&command).cloned().ok_or(EngineError::StaleAnswer(command))?;
        let wrong = |why: &str| Err(EngineError::WrongAnswer { command, why: why.to_string() });
        match (pending, result) {
            (Pending::Lookup { session, source, origin }, Completion::Lookup(rows)) => {
                let Some(s) = self.sessions.get(&session).filter(|s| s.wait == Wait::Command(command)) else {
                    self.pending.remove(&command);
                    return Err(EngineError::StaleAnswer(command));
                };
                let source = self.prepared(s.bundle).names.sources[source.index()].clone();
                self.pending.remove(&command);
                let record = rows.fields();
                self.emit(session, EventKind::Lookup { source, outcome: rows.described(), record }, origin);
                self.answer(session, Resume::Value(rows.into_value()));
                Ok(())
            }
            (Pending::Lookup { .. }, _) => wrong("a look-up is answered with its rows"),
            (Pending::Payment { session }, Completion::PaymentCaptured | Completion::PaymentDeclined) => {
                self.pending.remove(&command);
                if self.sessions.get(&session).is_some_and(|s| s.wait == Wait::Command(command)) {
                    self.answer(session, Resume::Unit);
                }
                Ok(())
            }
            (Pending::Payment { .. }, _) => wrong("a payment is answered captured or declined"),
            (
                Pending::Send { run },
                result @ (Completion::Delivered | Completion::Failed(_) | Completion::OptedOut),
            ) => {
                self.pending.remove(&command);
                if let Completion::Failed(why) = &result {
                    let message = format!("a message could not be sent: {why}");
                    self.emit(command.session, EventKind::Error { message: message.into() }, None);
                }
                match (run, result.outcome()) {
                    (Some(run), Some(outcome)) if self.retries.contains_key(&run) => {
                        self.call_outcome(Some(run), outcome)
                    }
                    _ => Ok(()),
                }
            }
            (Pending::Send { .. }, _) => wrong("a message is answered delivered, failed or opted out"),
            (
                Pending::Dial { run },
                result @ (Completion::Answered
                | Completion::NoAnswer
                | Completion::Busy
                | Completion::OptedOut
                | Completion::Failed(_)),
            ) => {
                self.pending.remove(&command);
                // A call placed for an agent who has taken it (a callback, a strategy's call)
                // that no one answered: the agent's part is over, wrap-up follows.
                let contact = ContactId(command.session.0);
                if result != Completion::Answered && self.queued.contains_key(&contact) {
                    self.hang_up(contact)?;
                }
                match (run, result.outcome()) {
                    (Some(run), Some(outcome)) if self.retries.contains_key(&run) => {
                        self.call_outcome(Some(run), outcome)
                    }
                    _ => Ok(()),
                }
            }
            (Pending::Dial { .. }, _) => wrong("a call is answered answered, no answer, busy, opted out or failed"),
        }
    }

    pub(crate) fn answer(&mut self, session: SessionId, resume: Resume) {
        let world = self.world;
        if let Some(s) = self.state.sessions.get_mut(&session) {
            s.wait = Wait::Nothing;
            if let Some(d) = world.get(&self.state.bundles[s.bundle as usize]) {
                s.vm.resume(&d.prepared.bundle, resume);
            }
        }
        self.drive(session);
    }

    /// Silence or an answer that does not fit: ask again, or give up after the retries.
    pub fn unanswered(&mut self, session: SessionId) {
        let Some(s) = self.sessions.get(&session) else { return };
        let channel = s.vm.contact.channel;
        let script = matches!(s.kind, SessionKind::Script(_));
        let (bundle_ref, contact) = (s.bundle, s.contact);
        let bundle = &*self.prepared(bundle_ref).bundle;
        match s.wait.clone() {
            Wait::Ask { ask, prompt, tries, timer } => {
                self.cancel(timer);
                let info = &bundle.asks[ask.index()];
                if tries + 1 > info.retries.unwrap_or(2) {
                    self.answer(session, Resume::Value(Value::None));
                } else {
                    let timeout = ask_timeout(info, channel, script);
                    let origin = self.sessions[&session].vm.position(bundle);
                    self.emit(session, EventKind::Say { text: prompt.clone().into() }, origin);
                    let to = audience(contact, channel, script);
                    let gather = Some(Gather::Ask { ask, timeout_ms: timeout });
                    self.command(session, CommandKind::Prompt { to, text: prompt.clone().into(), gather });
                    let timer = timeout.map(|ms| self.schedule_in(ms, Timer::Silence { session }));
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.wait = Wait::Ask { ask, prompt, tries: tries + 1, timer };
                    }
                }
            }
            Wait::Menu { menu, prompt, tries, timer } => {
                self.cancel(timer);
                let info = &bundle.menus[menu.index()];
                if tries + 1 > info.retries {
                    let route = info.options.len();
                    self.answer(session, Resume::Value(Value::Number(route as f64)));
                } else {
                    let ms = info.timeout_ms;
                    let origin = self.sessions[&session].vm.position(bundle);
                    self.emit(session, EventKind::Say { text: prompt.clone().into() }, origin);
                    let to = audience(contact, channel, script);
                    let gather = Some(Gather::Menu { menu, timeout_ms: ms });
                    self.command(session, CommandKind::Prompt { to, text: prompt.clone().into(), gather });
                    let timer = Some(self.schedule_in(ms, Timer::Silence { session }));
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.wait = Wait::Menu { menu, prompt, tries: tries + 1, timer };
                    }
                }
            }
            Wait::Callback { .. } => self.callback_silence(session),
            _ => {}
        }
    }

    /// Runs a waiting session on, until it waits again, ends or fails.
    pub fn drive(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.remove(&id) {
            self.run(s);
        }
    }

    /// Runs a session until it waits (it is kept), ends or fails.
    pub fn run(&mut self, s: Session) {
        let outer = self.running.replace((s.id, s.contact));
        self.run_session(s);
        self.running = outer;
    }

    fn run_session(&mut self, mut s: Session) {
        let id = s.id;
        let deployed = self.deployed(s.bundle);
        let prepared = &deployed.prepared;
        let bundle = &*prepared.bundle;
        let host = Host::new(&prepared.tables);
        let mut spent: u64 = 0;
        self.out.touch(id);
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
                    match self.perform(deployed, &mut s, effect, origin) {
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
            self.keep(contact, s.bundle);
        }
        self.sessions.insert(id, s);
    }

    /// Keeps a contact whose flow waits: its VM holds the contact as it stands, so no copy
    /// is kept beside it (`State::find_contact` reads the VM's).
    fn keep(&mut self, id: ContactId, bundle: BundleRef) {
        match self.state.contacts.entry(id) {
            hash_map::Entry::Occupied(e) => e.into_mut().contact = None,
            hash_map::Entry::Vacant(e) => {
                e.insert(Kept::new(None, bundle, Vec::new()));
            }
        }
    }

    /// The contact is over: the surveys its flow asked for run now. A survey `via same
    /// channel` is not played to a caller who hung up (an event says so); after the flow's
    /// `end`, such surveys play on the line first, and the call is hung up once they are over.
    pub fn contact_ended(&mut self, contact: ContactId, how: Ending) {
        let (surveys, bundle) = match self.contacts.get_mut(&contact) {
            Some(k) => (std::mem::take(&mut k.surveys), k.bundle),
            None => (Vec::new(), self.current),
        };
        let channel = self.find_contact(contact).map(|c| c.channel);
        let prepared = self.prepared(bundle);
        let mut line = Vec::new();
        for survey in surveys {
            let same_channel = prepared.bundle.surveys[survey.index()].via == SurveyVia::SameChannel;
            if same_channel && how == Ending::HungUp && channel == Some(Channel::Voice) {
                let name = Text::from(prepared.bundle.surveys[survey.index()].name.as_str());
                let why = Text::fixed("the caller hung up, so a survey on the call cannot be played");
                self.emit(contact.session(), EventKind::SurveySkipped { survey: name, why }, None);
                continue;
            }
            if let Ok(session) = self.start_survey(contact, survey) {
                if same_channel && how == Ending::Flow && self.sessions.contains_key(&session) {
                    line.push(session);
                }
            }
        }
        if how == Ending::Flow {
            match self.state.contacts.get_mut(&contact) {
                Some(kept) if !line.is_empty() => kept.line = line,
                _ => {
                    self.command(contact.session(), CommandKind::Disconnect { contact });
                }
            }
        }
        self.settle(contact);
    }

    /// A session will not run again. `finished`: it ran to its end (or failed), so the
    /// surveys a flow asked for wait for its contact's end and a retry step is done.
    fn over(&mut self, s: Session, finished: bool) {
        let Session { id, kind, contact, vm, surveys, bundle, ends_contact, .. } = s;
        let (left, spare) = vm.finish();
        self.spare.0 = Some(spare);
        if let Some(contact) = contact {
            let surveys = if finished { surveys } else { Vec::new() };
            let queued = self.queued.contains_key(&contact);
            match (kind, self.state.contacts.entry(contact)) {
                (SessionKind::Flow(_), hash_map::Entry::Occupied(e)) => {
                    let kept = e.into_mut();
                    kept.contact = Some(left);
                    if kept.surveys.is_empty() {
                        kept.surveys = surveys;
                    } else {
                        kept.surveys.extend(surveys);
                    }
                    self.settle(contact);
                }
                // Seen for the first time: kept only if routing has it or surveys wait.
                (SessionKind::Flow(_), hash_map::Entry::Vacant(e)) => {
                    if surveys.is_empty() && !queued {
                        self.let_go(contact, left);
                    } else {
                        e.insert(Kept::new(Some(left), bundle, surveys));
                    }
                }
                // A script's or a survey's own surveys are never run.
                (_, hash_map::Entry::Occupied(e)) => {
                    let kept = e.into_mut();
                    kept.sessions = kept.sessions.saturating_sub(1);
                    // The last survey the flow's `end` held the line for: now hang up.
                    let held = kept.line.len();
                    kept.line.retain(|l| *l != id);
                    if held > 0 && kept.line.is_empty() {
                        self.command(contact.session(), CommandKind::Disconnect { contact });
                    }
                    self.settle(contact);
                }
                (_, hash_map::Entry::Vacant(_)) => {}
            }
        }
        if let (true, SessionKind::Retry { run, step: Some(step) }) = (finished, kind) {
            self.retry_step_done(run, step);
        }
        if let (true, SessionKind::Flow(_), Some(contact)) = (ends_contact, kind, contact) {
            self.contact_ended(contact, Ending::Flow);
        }
    }

    /// Performs one effect. `Some` resumes the VM at once; `None` leaves it waiting.
    fn perform(
        &mut self,
        deployed: &Deployed,
        s: &mut Session,
        effect: Effect,
        origin: Option<SourceSpan>,
    ) -> Option<Resume> {
        let id = s.id;
        let prepared = &deployed.prepared;
        let bundle = &*prepared.bundle;
        let script = matches!(s.kind, SessionKind::Script(_));
        let to = audience(s.contact, s.vm.contact.channel, script);
        match effect {
            Effect::Say(text) => {
                self.emit(id, EventKind::Say { text: text.clone().into() }, origin);
                self.command(id, CommandKind::Prompt { to, text: text.into(), gather: None });
            }
            Effect::Note(text) => {
                self.emit(id, EventKind::Note { text: text.clone().into() }, origin);
                self.command(id, CommandKind::Note { contact: s.contact, text: text.into() });
            }
            Effect::Waypoint(name) => self.emit(id, EventKind::Waypoint { name: name.into() }, origin),
            Effect::Ask { ask, prompt } => {
                self.emit(id, EventKind::Say { text: prompt.clone().into() }, origin);
                let info = &bundle.asks[ask.index()];
                let timeout = ask_timeout(info, s.vm.contact.channel, script);
                let gather = Some(Gather::Ask { ask, timeout_ms: timeout });
                self.command(id, CommandKind::Prompt { to, text: prompt.clone().into(), gather });
                let timer = timeout.map(|ms| self.schedule_in(ms, Timer::Silence { session: id }));
                s.wait = Wait::Ask { ask, prompt, tries: 0, timer };
                return None;
            }
            Effect::Menu { menu, prompt } => {
                self.emit(id, EventKind::Say { text: prompt.clone().into() }, origin);
                let ms = bundle.menus[menu.index()].timeout_ms;
                let gather = Some(Gather::Menu { menu, timeout_ms: ms });
                self.command(id, CommandKind::Prompt { to, text: prompt.clone().into(), gather });
                let timer = Some(self.schedule_in(ms, Timer::Silence { session: id }));
                s.wait = Wait::Menu { menu, prompt, tries: 0, timer };
                return None;
            }
            Effect::Choose { choice, prompt } => {
                let options = bundle.choices[choice.index()].options.clone();
                self.emit(id, EventKind::Choice { prompt: prompt.clone().into(), options }, origin);
                let gather = Some(Gather::Choice { choice });
                self.command(id, CommandKind::Prompt { to, text: prompt.into(), gather });
                s.wait = Wait::Choose { choice };
                return None;
            }
            Effect::Lookup { source, key } => {
                let name = prepared.names.sources[source.index()].clone();
                let kind = CommandKind::Lookup { bundle: deployed.hash, source, name, key };
                let command = self.command(id, kind);
                self.pending.insert(command, Pending::Lookup { session: id, source, origin });
                s.wait = Wait::Command(command);
                return None;
            }
            Effect::Queue { queue, priority, prefer, require, vip } => {
                let name = prepared.names.queues[queue.index()].clone();
                self.emit(id, EventKind::Queue { queue: name, priority }, origin);
                let callback = s.callback.take();
                let request =
                    crate::routing::Request { queue, priority, prefer, require: &require, vip, origin, callback: None };
                match (s.kind, s.contact) {
                    // Its surveys go with the contact once the flow is over, right after this.
                    (SessionKind::Flow(_), Some(contact)) => {
                        self.enqueue(s.bundle, contact, &s.vm.contact, crate::routing::Request { callback, ..request })
                    }
                    (_, Some(contact)) => {
                        if let Some(kept) = self.state.contacts.get_mut(&contact) {
                            kept.surveys.append(&mut s.surveys);
                            if let Some(c) = self.find_contact(contact).cloned() {
                                self.enqueue(s.bundle, contact, &c, request);
                            }
                        }
                    }
                    (_, None) => {}
                }
            }
            Effect::Transfer { to } => {
                let to = Text::from(to.display());
                self.emit(id, EventKind::Transfer { to: to.clone() }, origin);
                if let Some(contact) = s.contact {
                    self.command(id, CommandKind::Transfer { contact, to });
                }
            }
            Effect::OfferCallback { keep_place } => {
                self.emit(id, EventKind::Callback { keep_place }, origin);
                if self.offer_callback(s, keep_place, origin) {
                    return None;
                }
            }
            Effect::CollectPayment { amount } => {
                // The card is captured by the channel's secure form; only the amount is kept.
                let amount = Text::from(amount.display());
                self.emit(id, EventKind::Payment { amount: amount.clone() }, origin);
                if let Some(contact) = s.contact {
                    let command = self.command(id, CommandKind::CapturePayment { contact, amount });
                    self.pending.insert(command, Pending::Payment { session: id });
                    s.wait = Wait::Command(command);
                    return None;
                }
            }
            Effect::Send { medium, to, text } => {
                let run = match s.kind {
                    SessionKind::Retry { run, .. } => Some(run),
                    _ => None,
                };
                if let SessionKind::Retry { run, step: None } = s.kind {
                    if self.held(run, medium) {
                        let due = self.release(run);
                        self.timers.schedule(due, Timer::HeldSend { run, medium, to, text });
                        return Some(Resume::Unit);
                    }
                }
                self.send(id, run, medium, &to, text, origin);
            }
            Effect::StartRetry { retry, subject } => {
                self.start_retry(s.bundle, retry, subject);
            }
            Effect::Survey { survey } => s.surveys.push(survey),
            Effect::End => {
                self.emit(id, EventKind::End, origin);
                if let (SessionKind::Flow(_), Some(_)) = (s.kind, s.contact) {
                    // The contact ends once the flow is over: its surveys run, then it is hung up.
                    s.ends_contact = true;
                    if s.callback.take().is_some() {
                        let message =
                            Text::fixed("the flow ended before a `queue` could place the callback the caller took");
                        self.emit(id, EventKind::Error { message }, origin);
                    }
                }
            }
            Effect::Outcome(name) => self.emit(id, EventKind::Outcome { name: name.into() }, origin),
            Effect::Call { to, queue, script } => {
                let name = prepared.names.queues[queue.index()].clone();
                let number = Text::from(to.display());
                self.emit(id, EventKind::Call { to: number.clone(), queue: name.clone() }, origin);
                if let SessionKind::Retry { run, step } = s.kind {
                    let script = script.map(|s| bundle.scripts[s.index()].name.clone());
                    self.outbound_call(run, queue, &to.display(), script);
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
                return Some(match deployed.externs.call(func, &args) {
                    Ok(v) => Resume::Value(v),
                    Err(e) => Resume::Failed(format!("`{}` failed: {e}", bundle.externs[func.index()].name)),
                });
            }
        }
        Some(Resume::Unit)
    }

    /// An SMS or email leaves (a retry run hears how it went).
    pub fn send(
        &mut self,
        session: SessionId,
        run: Option<crate::ids::RetryRunId>,
        medium: Medium,
        to: &Value,
        text: Arc<str>,
        origin: Option<SourceSpan>,
    ) {
        let word = match medium {
            Medium::Sms => "sms",
            Medium::Email => "email",
        };
        let to = Text::from(to.display());
        let text = Text::from(text);
        self.emit(session, EventKind::Send { medium: Text::fixed(word), to: to.clone(), text: text.clone() }, origin);
        let command = self.command(session, CommandKind::Send { medium, to, text });
        self.pending.insert(command, Pending::Send { run });
    }

    /// Runs a computing function (a `fn`, a time zone, an announcement) to its value.
    pub fn evaluate(
        &self,
        prepared: &Prepared,
        func: FuncId,
        globals: Vec<Value>,
        host: &Host<'_>,
    ) -> Result<Value, String> {
        let bundle = &*prepared.bundle;
        let contact = Box::new(prepared.nobody(prepared.empty.clone(), self.now));
        let mut vm = Vm::new(bundle, func, contact, globals, None);
        let mut fuel = FUEL;
        match vm.run(bundle, host, self.now, &mut fuel) {
            Step::Done => Ok(vm.result().cloned().unwrap_or(Value::None)),
            Step::Failed(why) => Err(why),
            _ => Err("it did not finish".to_string()),
        }
    }

    /// A new bundle: new contacts start on it (a bundle deployed before is rolled back to).
    fn deploy(&mut self, hash: BundleHash) -> Result<(), EngineError> {
        let deployed = self.world.get(&hash).ok_or(EngineError::UnknownBundle(hash))?;
        let bundle = deployed.bundle().clone();
        crate::routing::extend_acd(&mut self.state.acd, &bundle)?;
        match self.bundles.iter().position(|h| *h == hash) {
            Some(at) => self.current = at as BundleRef,
            None => {
                self.bundles.push(hash);
                let at = self.bundles.len() - 1;
                self.current = at as BundleRef;
                if let Some(slot) = self.cached.get_mut(at) {
                    *slot = Some(deployed);
                }
            }
        }
        Ok(())
    }
}

/// How a contact ended, which decides what its surveys can still do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Its flow ran `end`: the contact center ends it, so a survey on the same channel is
    /// played before the call is hung up.
    Flow,
    /// The customer hung up: a survey on the call cannot be played.
    HungUp,
    /// The agent finished with it.
    Finished,
}

/// Who a session's prompts are for.
fn audience(contact: Option<ContactId>, channel: Channel, script: bool) -> Audience {
    match (contact, script) {
        (Some(contact), true) => Audience::Agent { contact },
        (Some(contact), false) => Audience::Customer { contact, channel },
        (None, _) => Audience::Nobody,
    }
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
