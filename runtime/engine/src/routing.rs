//! Contacts a flow has queued: handing them to the routing engine (ACD), the queue's
//! `while waiting` lines (announcements, callbacks that keep their place), offers to
//! agents, answers, hang-ups, and outbound work for blending.
//!
//! What routing does comes back as typed `acd::Event`s; each becomes a transcript event
//! and, where someone must act (an agent's phone rings, a callback is due), a command.

use crate::core::Core;
use crate::error::EngineError;
use crate::events::{EventKind, RoutingEvent, Text};
use crate::ids::{AgentId, ContactId, OfferId, RetryRunId, SessionId};
use crate::io::{AgentAction, CommandKind, Presence};
use crate::state::{BundleRef, Pending, Timer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_acd::{self as acd, Acd, AgentSpec, Arrival, ContactState, OutboundWork, QueueSpec};
use switchboard_bytecode::bytecode::{Bundle, QueueId, SourceSpan, WaitingAction};
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::Value;
use switchboard_calendar::Timers;
use switchboard_vm::{text_cow, AgentView, Contact, Host};

/// A contact in routing: waiting, ringing an agent, or with one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub contact: ContactId,
    /// The bundle its `queue` ran on (its queue ids are that bundle's).
    pub bundle: BundleRef,
    pub queue: QueueId,
    pub channel: Channel,
    /// Where to call back (the caller's number), when a callback is offered.
    pub callback_to: Option<Arc<str>>,
    /// A callback has been offered and not yet taken.
    pub callback_offered: bool,
    /// The customer took a callback: they left, a placeholder keeps their place.
    pub callback_taken: bool,
    pub origin: Option<SourceSpan>,
    /// The retry strategy whose `call` this is: the call's outcome is that run's.
    pub run: Option<RetryRunId>,
}

/// A flow's `queue` statement, as the VM yielded it.
pub(crate) struct Request<'r> {
    pub queue: QueueId,
    pub priority: i32,
    pub prefer: Option<(Value, i64)>,
    pub require: &'r [Arc<str>],
    pub vip: bool,
    pub origin: Option<SourceSpan>,
    /// The callback the caller took in the flow (`offer callback`): it queues in their stead.
    pub callback: Option<crate::state::Callback>,
}

fn queue_specs(bundle: &Bundle) -> Vec<QueueSpec> {
    bundle
        .queues
        .iter()
        .map(|q| {
            let mut spec = QueueSpec::new(&q.name);
            for s in &q.skills {
                spec = spec.skill(s);
            }
            for (ch, points) in &q.priorities {
                spec = spec.priority(*ch, *points);
            }
            for (ch, fraction, within) in &q.targets {
                spec = spec.target(*ch, (fraction * 100.0).round() as u8, *within);
            }
            if let Some((after, to)) = q.overflow {
                spec = spec.overflow(after, &bundle.queues[to.index()].name);
            }
            spec
        })
        .collect()
}

/// The routing engine for a bundle's queues and skills.
pub fn new_acd(bundle: &Bundle) -> Result<Acd, EngineError> {
    Acd::new(acd::Config::default(), &bundle.skills, &queue_specs(bundle))
        .map_err(|e| EngineError::Bundle(format!("routing cannot take this bundle: {e}")))
}

/// A newly deployed bundle's queues and skills join routing; those routing has keep their
/// waiting contacts.
pub fn extend_acd(acd: &mut Acd, bundle: &Bundle) -> Result<(), EngineError> {
    acd.extend(&bundle.skills, &queue_specs(bundle))
        .map_err(|e| EngineError::Bundle(format!("routing cannot take this bundle: {e}")))
}

fn offer_error(offer: OfferId, e: acd::AcdError) -> EngineError {
    match e {
        acd::AcdError::UnknownOffer(_) => EngineError::UnknownOffer(offer),
        other => EngineError::Routing(other.to_string()),
    }
}

/// The id routing knows a contact by: `c` and the engine's number.
pub(crate) fn routing_key(contact: ContactId) -> String {
    contact.to_string()
}

impl Core<'_> {
    fn ms(&self) -> i64 {
        self.now.as_millisecond()
    }

    /// The contact in routing that routing knows as `key`.
    fn queued_at(&self, key: &str) -> Option<&Queued> {
        self.queued.get(&crate::contact_id(key)?)
    }

    fn queued_at_mut(&mut self, key: &str) -> Option<&mut Queued> {
        let id = crate::contact_id(key)?;
        self.queued.get_mut(&id)
    }

    /// The session of the contact routing knows as `key` (`s0` when it is not a contact).
    fn session_of(&self, key: &str) -> SessionId {
        self.queued_at(key).map_or(SessionId(0), |q| q.contact.session())
    }

    /// A flow's `queue`: hands the contact to routing and starts its `while waiting` lines.
    pub(crate) fn enqueue(&mut self, bundle_ref: BundleRef, contact: ContactId, c: &Contact, r: Request<'_>) {
        let bundle = &*self.prepared(bundle_ref).bundle;
        let info = &bundle.queues[r.queue.index()];
        let mut arrival = Arrival::new(&c.id, &info.name, c.channel).boost(r.priority).language(&c.language);
        if r.vip {
            arrival = arrival.vip();
        }
        // A preferred agent routing has never seen (not logged in today) is no preference.
        if let Some((agent, ms)) = r.prefer.filter(|(a, _)| self.agents.contains_key(&*text_cow(a))) {
            arrival = arrival.prefer(&text_cow(&agent), ms);
        }
        for s in r.require {
            arrival = arrival.require(s);
        }
        let callback_to = match (&r.callback, &c.from) {
            (Some(cb), _) => Some(cb.to.clone()),
            (None, Value::Phone(p)) => Some(p.clone()),
            _ => None,
        };
        self.queued.insert(
            contact,
            Queued {
                contact,
                bundle: bundle_ref,
                queue: r.queue,
                channel: c.channel,
                callback_to,
                callback_offered: false,
                callback_taken: r.callback.is_some(),
                origin: r.origin,
                run: None,
            },
        );
        if let Some(cb) = &r.callback {
            self.queue_callback(contact, &arrival, cb, &info.name, r.origin);
            return;
        }
        let now = self.ms();
        match self.acd.arrive(&arrival, now) {
            Ok(events) => self.routed(events),
            Err(e) => self.emit(
                contact.session(),
                EventKind::Error { message: format!("routing refused the contact: {e}").into() },
                r.origin,
            ),
        }
        self.start_waiting_lines(bundle, contact, r.queue, c.channel);
        self.schedule_acd_tick();
    }

    /// A caller who took a flow's `offer callback` reaches its `queue`: they leave (the call
    /// ends) and the callback queues in their stead — in their place with `keep place`, else
    /// as work for the next free agent, after the callers on the line.
    fn queue_callback(
        &mut self,
        contact: ContactId,
        arrival: &Arrival<'_>,
        cb: &crate::state::Callback,
        queue: &str,
        origin: Option<SourceSpan>,
    ) {
        let session = contact.session();
        let to = Text::from(cb.to.clone());
        self.command(session, CommandKind::Disconnect { contact });
        let now = self.ms();
        let routed = if cb.keep_place {
            self.routing_note(session, RoutingEvent::CallbackKept { to });
            self.acd.arrive(&arrival.clone().callback(&cb.to), now)
        } else {
            self.routing_note(session, RoutingEvent::CallbackWaiting { to });
            let work = OutboundWork::new(arrival.id.as_str(), queue, Channel::Voice, &cb.to);
            self.acd.add_outbound(&work, now)
        };
        match routed {
            Ok(events) => self.routed(events),
            Err(e) => self.emit(
                session,
                EventKind::Error { message: format!("routing refused the callback: {e}").into() },
                origin,
            ),
        }
        self.schedule_acd_tick();
    }

    /// `while waiting`: announcements reach voice and chat; callbacks are offered on voice.
    fn start_waiting_lines(&mut self, bundle: &Bundle, contact: ContactId, queue: QueueId, channel: Channel) {
        for (line, w) in bundle.queues[queue.index()].waiting.iter().enumerate() {
            let reaches = match w.action {
                WaitingAction::Say(_) => matches!(channel, Channel::Voice | Channel::Chat),
                WaitingAction::OfferCallback { .. } => channel == Channel::Voice,
            };
            if reaches {
                self.schedule_in(w.delay_ms, Timer::Waiting { contact, queue, line });
            }
        }
    }

    /// One `while waiting` line comes due for a contact still waiting.
    pub(crate) fn waiting_line(&mut self, contact: ContactId, queue: QueueId, line: usize) {
        let Some(q) = self.queued.get(&contact).cloned() else { return };
        let key = routing_key(contact);
        if q.queue != queue || q.callback_taken || !matches!(self.acd.contact_state(&key), Some(ContactState::Waiting))
        {
            return;
        }
        let prepared = self.prepared(q.bundle);
        let info = &prepared.bundle.queues[q.queue.index()];
        let Some(w) = info.waiting.get(line) else { return };
        let session = q.contact.session();
        match &w.action {
            WaitingAction::Say(func) => {
                let host = Host {
                    queue_position: self.acd.position(&key).unwrap_or(1) as f64,
                    queue_ewt_ms: self.acd.expected_wait_ms(&key).unwrap_or(0),
                    tables: &prepared.tables,
                };
                match self.evaluate(prepared, *func, Vec::new(), &host) {
                    Ok(text) => {
                        let text = Text::from(text.display());
                        self.emit(session, EventKind::Say { text: text.clone() }, None);
                        let to = crate::io::Audience::Customer { contact, channel: q.channel };
                        self.command(session, CommandKind::Prompt { to, text, gather: None });
                    }
                    Err(why) => self.emit(session, EventKind::Error { message: why.into() }, None),
                }
            }
            WaitingAction::OfferCallback { keep_place } => {
                if q.callback_to.is_some() && !q.callback_offered {
                    self.emit(session, EventKind::Callback { keep_place: *keep_place }, None);
                    if let Some(q) = self.queued.get_mut(&contact) {
                        q.callback_offered = true;
                    }
                }
            }
        }
        if w.repeat {
            self.schedule_in(w.delay_ms, Timer::Waiting { contact, queue, line });
        }
    }

    /// A key or word from a customer waiting in a queue: `1` takes an offered callback.
    pub(crate) fn queue_input(&mut self, contact: ContactId, text: &str) -> Result<(), EngineError> {
        let session = contact.session();
        let not_waiting = |why: &str| EngineError::NotWaiting { session, why: why.to_string() };
        let q = self.queued.get(&contact).cloned().ok_or_else(|| not_waiting("nothing is waiting for an answer"))?;
        if !q.callback_offered || q.callback_taken {
            return Err(not_waiting("the caller is waiting in the queue; nothing asks for an answer"));
        }
        if !matches!(text.trim().to_ascii_lowercase().as_str(), "1" | "yes" | "callback") {
            return Err(not_waiting("press 1 to take the callback"));
        }
        let to = q.callback_to.as_deref().unwrap_or_default();
        let now = self.ms();
        let events =
            self.acd.keep_place(&routing_key(contact), to, now).map_err(|e| EngineError::Routing(e.to_string()))?;
        if let Some(q) = self.queued.get_mut(&contact) {
            q.callback_taken = true;
        }
        self.emit(session, EventKind::Routing(RoutingEvent::CallbackKept { to: Text::from(to) }), None);
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// What an agent did.
    pub(crate) fn agent(&mut self, action: AgentAction) -> Result<(), EngineError> {
        match action {
            AgentAction::LogIn(login) => self.add_agent(*login),
            AgentAction::Presence { agent, presence } => {
                let now = self.ms();
                let events = match presence {
                    Presence::Available => self.acd.set_available(agent.as_str(), now),
                    Presence::Away => self.acd.set_away(agent.as_str(), now),
                    Presence::Offline => self.acd.log_out(agent.as_str(), now),
                }
                .map_err(|e| EngineError::Routing(e.to_string()))?;
                self.routed(events);
                self.schedule_acd_tick();
                Ok(())
            }
            AgentAction::Accept { offer } => self.accept(offer),
            AgentAction::Reject { offer } => self.reject(offer),
            AgentAction::Finish { contact } => self.finish(contact),
            AgentAction::Transfer { contact, queue } => self.transfer(contact, &queue),
            AgentAction::Outcome { contact, outcome } => {
                if self.find_contact(contact).is_none() {
                    return Err(EngineError::UnknownContact(contact));
                }
                self.emit(contact.session(), EventKind::Outcome { name: outcome.into() }, None);
                Ok(())
            }
            AgentAction::Script { session, reply } => {
                let is_script =
                    self.sessions.get(&session).map(|s| matches!(s.kind, crate::state::SessionKind::Script(_)));
                match is_script {
                    None => Err(EngineError::UnknownSession(session)),
                    Some(false) => {
                        Err(EngineError::NotWaiting { session, why: "that session is not a script".to_string() })
                    }
                    Some(true) => self.apply(crate::io::Input::Reply { session, reply }),
                }
            }
        }
    }

    /// Adds an agent and makes them available (tests, the simulator, the desktop's log-in).
    fn add_agent(&mut self, login: crate::io::LogIn) -> Result<(), EngineError> {
        let agent = login.view;
        let mut spec = AgentSpec::new(&agent.id, &agent.name);
        for s in &agent.skills {
            spec = match login.proficiency.iter().find(|(name, _)| name == s) {
                Some(&(_, level)) => spec.skill_at(s, level),
                None => spec.skill(s),
            };
        }
        let mut capacity = acd::Capacity::default();
        for &(channel, at_once) in &login.capacity {
            capacity = capacity.with(channel, at_once);
        }
        spec = spec.capacity(capacity);
        let languages = if agent.languages.is_empty() { vec!["en".to_string()] } else { agent.languages.clone() };
        for l in &languages {
            spec = spec.language(l);
        }
        let now = self.ms();
        let routing = |e: acd::AcdError| EngineError::Routing(e.to_string());
        self.acd.add_agent(&spec, now).map_err(routing)?;
        self.agents.insert(agent.id.clone(), AgentView { languages, ..agent.clone() });
        let events = self.acd.set_available(&agent.id, now).map_err(routing)?;
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// The agent takes the offer: the contact is connected (a callback is dialled).
    fn accept(&mut self, offer: OfferId) -> Result<(), EngineError> {
        let now = self.ms();
        let events = self.acd.accept(offer, now).map_err(|e| offer_error(offer, e))?;
        if let Some(i) = self.ringing.iter().position(|(o, _, _)| *o == offer) {
            let (_, contact, agent) = self.ringing.remove(i);
            let (session, callback) = match self.queued_at(contact.as_str()) {
                Some(q) => (q.contact.session(), q.callback_taken.then(|| q.callback_to.clone()).flatten()),
                None => (SessionId(0), None),
            };
            self.emit(session, EventKind::Answered { agent: agent.as_str().into() }, None);
            if let (Some(to), Some(q)) = (callback, self.queued_at(contact.as_str()).cloned()) {
                let queue = self.prepared(q.bundle).names.queues[q.queue.index()].clone();
                let to = Text::from(to);
                // A strategy's call said `call` when the strategy reached it.
                if q.run.is_none() {
                    self.emit(session, EventKind::Call { to: to.clone(), queue: queue.clone() }, None);
                }
                let command = self.command(session, CommandKind::Dial { to, queue, run: q.run });
                self.pending.insert(command, Pending::Dial { run: q.run });
            }
        }
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// The agent turns the offer down: the contact keeps its place.
    fn reject(&mut self, offer: OfferId) -> Result<(), EngineError> {
        let now = self.ms();
        let events = self.acd.reject(offer, now).map_err(|e| offer_error(offer, e))?;
        self.ringing.retain(|(o, _, _)| *o != offer);
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// The customer hangs up: a waiting contact is abandoned; a connected one finishes.
    pub(crate) fn hang_up(&mut self, contact: ContactId) -> Result<(), EngineError> {
        if self.find_contact(contact).is_none() {
            return Err(EngineError::UnknownContact(contact));
        }
        let key = routing_key(contact);
        let session = contact.session();
        let now = self.ms();
        // A caller who took a callback has already left; their placeholder keeps the place
        // until an agent takes it and the call is placed.
        let connected = matches!(self.acd.contact_state(&key), Some(ContactState::InProgress { .. }));
        if self.queued.get(&contact).is_some_and(|q| q.callback_taken) && !connected {
            self.end_session(session);
            self.emit(session, EventKind::HangUp, None);
            return Ok(());
        }
        self.hang_up_line(contact);
        let events = match self.acd.contact_state(&key) {
            Some(ContactState::InProgress { .. }) => self.acd.finish(&key, now),
            Some(_) => self.acd.abandon(&key, now),
            None => Ok(Vec::new()),
        }
        .map_err(|e| EngineError::Routing(e.to_string()))?;
        self.end_session(session);
        self.ringing.retain(|(_, c, _)| **c != *key);
        self.emit(session, EventKind::HangUp, None);
        self.queued.remove(&contact);
        self.routed(events);
        self.schedule_acd_tick();
        self.contact_ended(contact, crate::core::Ending::HungUp);
        Ok(())
    }

    /// The caller hangs up during the surveys the flow's `end` held the line for: they stop,
    /// and there is no call left to hang up.
    fn hang_up_line(&mut self, contact: ContactId) {
        let line = match self.state_mut().contacts.get_mut(&contact) {
            Some(kept) => std::mem::take(&mut kept.line),
            None => return,
        };
        for session in line {
            let Some(s) = self.state_mut().sessions.remove(&session) else { continue };
            if let crate::state::Wait::Command(command) = s.wait {
                self.pending.remove(&command);
            }
            if let Some(kept) = self.state_mut().contacts.get_mut(&contact) {
                kept.sessions = kept.sessions.saturating_sub(1);
            }
            let survey = match s.kind {
                crate::state::SessionKind::Survey(id) => {
                    Text::from(self.prepared(s.bundle).bundle.surveys[id.index()].name.as_str())
                }
                _ => Text::fixed("survey"),
            };
            let why = Text::fixed("the caller hung up during the survey");
            self.emit(session, EventKind::SurveySkipped { survey, why }, None);
        }
    }

    /// A contact's flow session ends before its flow did (the customer left): what it waits
    /// for is no longer pending, and the contact is kept as the flow left it.
    fn end_session(&mut self, session: SessionId) {
        let Some(s) = self.sessions.remove(&session) else { return };
        if let crate::state::Wait::Command(command) = s.wait {
            self.pending.remove(&command);
        }
        if let Some(kept) = s.contact.and_then(|c| self.state_mut().contacts.get_mut(&c)) {
            if kept.contact.is_none() {
                kept.contact = Some(s.vm.contact);
            }
        }
    }

    /// The agent finished with the contact (wrap-up follows).
    fn finish(&mut self, contact: ContactId) -> Result<(), EngineError> {
        if self.find_contact(contact).is_none() {
            return Err(EngineError::UnknownContact(contact));
        }
        let now = self.ms();
        let key = routing_key(contact);
        let agent = match self.acd.contact_state(&key) {
            Some(ContactState::InProgress { agent }) => Some(Text::from(agent.as_str())),
            _ => None,
        };
        let events = self.acd.finish(&key, now).map_err(|e| EngineError::Routing(e.to_string()))?;
        if let Some(agent) = agent {
            self.routing_note(contact.session(), RoutingEvent::Finished { agent });
        }
        self.queued.remove(&contact);
        self.routed(events);
        self.schedule_acd_tick();
        self.contact_ended(contact, crate::core::Ending::Finished);
        Ok(())
    }

    /// The agent hands the contact to `queue`: their part ends (wrap-up follows), and the
    /// contact is queued there as a flow's `queue` would, with no priority added.
    fn transfer(&mut self, contact: ContactId, queue: &str) -> Result<(), EngineError> {
        let q = self.queued.get(&contact).cloned().ok_or(EngineError::UnknownContact(contact))?;
        let bundle = self.prepared(q.bundle).bundle.clone();
        let target =
            bundle.queue(queue).ok_or_else(|| EngineError::UnknownName { kind: "queue", name: queue.to_string() })?;
        let c = self.find_contact(contact).cloned().ok_or(EngineError::UnknownContact(contact))?;
        let now = self.ms();
        let events = self.acd.finish(&routing_key(contact), now).map_err(|e| EngineError::Routing(e.to_string()))?;
        self.queued.remove(&contact);
        self.routed(events);
        let name = self.prepared(q.bundle).names.queues[target.index()].clone();
        self.emit(contact.session(), EventKind::Transfer { to: name }, None);
        let request = Request {
            queue: target,
            priority: 0,
            prefer: None,
            require: &[],
            vip: false,
            origin: None,
            callback: None,
        };
        self.enqueue(q.bundle, contact, &c, request);
        Ok(())
    }

    /// A retry strategy's `call TO queue Q [script S]`: a contact stands for the call, and
    /// waits in `Q` as a callback that keeps its place does, offered to its agents like any
    /// call. The agent who takes it is connected to the customer by a `Dial` placed then
    /// (its outcome is the strategy's `answered`, `no_answer` or `busy`), so no one is
    /// called before someone is there to talk to them; the call's handling time, wrap-up
    /// and transcript are that contact's, and `S` is the script its agent is shown.
    pub(crate) fn outbound_call(&mut self, run: RetryRunId, queue: QueueId, to: &str, script: Option<String>) {
        let Some(r) = self.retries.get(&run) else { return };
        let bundle_ref = r.bundle;
        let prepared = self.prepared(bundle_ref);
        let strategy = prepared.bundle.retries[r.retry.index()].name.clone();
        let queue_name = prepared.names.queues[queue.index()].clone();
        let (empty, english) = (prepared.empty.clone(), prepared.english.clone());
        let id = ContactId(self.id());
        let mut attributes = std::collections::BTreeMap::from([("retry".to_string(), strategy.clone())]);
        attributes.extend(script.map(|s| ("script".to_string(), s)));
        let number: Arc<str> = Arc::from(to);
        let contact = Box::new(Contact {
            id: crate::contact_key(id),
            channel: Channel::Voice,
            from: Value::Phone(number.clone()),
            to: empty.clone(),
            text: empty.clone(),
            subject: empty,
            language: english,
            country: Arc::from(crate::country_of(to)),
            started_at: self.now,
            attributes,
        });
        let event = EventKind::Contact {
            channel: Text::fixed("voice"),
            from: Text::from(to),
            to: queue_name.clone(),
            flow: Text::from(strategy.as_str()),
        };
        self.emit(id.session(), event, None);
        self.state_mut().contacts.insert(id, crate::state::Kept::new(Some(contact), bundle_ref, Vec::new()));
        self.queued.insert(
            id,
            Queued {
                contact: id,
                bundle: bundle_ref,
                queue,
                channel: Channel::Voice,
                callback_to: Some(number),
                callback_offered: false,
                callback_taken: true,
                origin: None,
                run: Some(run),
            },
        );
        let key = routing_key(id);
        let arrival = Arrival::new(&key, &queue_name, Channel::Voice).dialled(to);
        let now = self.ms();
        match self.acd.arrive(&arrival, now) {
            Ok(events) => self.routed(events),
            Err(e) => {
                let message = format!("routing refused the strategy's call: {e}").into();
                self.emit(id.session(), EventKind::Error { message }, None);
            }
        }
        self.schedule_acd_tick();
    }

    /// A strategy that stops takes back its calls no agent has taken yet.
    // The calls are sorted before anything is done with them.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn withdraw_calls(&mut self, run: RetryRunId) {
        let mut waiting: Vec<ContactId> = self
            .queued
            .iter()
            .filter(|(_, q)| q.run == Some(run))
            .map(|(c, _)| *c)
            .filter(|c| !matches!(self.acd.contact_state(&routing_key(*c)), Some(ContactState::InProgress { .. })))
            .collect();
        // In the order they were made, whatever the map's.
        waiting.sort_unstable();
        for contact in waiting {
            let now = self.ms();
            let key = routing_key(contact);
            let events = self.acd.abandon(&key, now).unwrap_or_default();
            self.ringing.retain(|(_, c, _)| **c != *key);
            self.queued.remove(&contact);
            self.emit(contact.session(), EventKind::End, None);
            self.routed(events);
            self.contact_ended(contact, crate::core::Ending::Finished);
        }
        self.schedule_acd_tick();
    }

    pub(crate) fn acd_tick(&mut self) {
        self.acd_tick_timer = None;
        let now = self.ms();
        let events = self.acd.tick(now);
        self.routed(events);
        self.schedule_acd_tick();
    }

    fn schedule_acd_tick(&mut self) {
        let Some(deadline) = self.acd.next_deadline() else { return };
        let due = jiff::Timestamp::from_millisecond(deadline).unwrap_or(self.now).max(self.now);
        if let Some((id, at)) = self.acd_tick_timer {
            if at == due {
                return;
            }
            self.timers.cancel(id);
        }
        let id = self.timers.schedule(due, Timer::AcdTick);
        self.acd_tick_timer = Some((id, due));
    }

    fn routing_note(&mut self, session: SessionId, what: RoutingEvent) {
        self.emit(session, EventKind::Routing(what), None);
    }

    /// Records what routing did, and rings the agents it chose.
    fn routed(&mut self, events: Vec<acd::Event>) {
        for e in events {
            match e {
                acd::Event::Offered { offer, contact, agent, channel, .. } => {
                    let session = self.session_of(contact.as_str());
                    let words = Text::fixed(channel.as_str());
                    self.emit(session, EventKind::Offer { agent: agent.as_str().into(), channel: words }, None);
                    self.ring(session, offer, contact.as_str(), agent.as_str(), channel);
                }
                acd::Event::CallbackDue { offer, contact, customer, agent, .. } => {
                    let session = self.session_of(contact.as_str());
                    let offer_event = EventKind::Offer { agent: agent.as_str().into(), channel: Text::fixed("voice") };
                    self.emit(session, offer_event, None);
                    self.routing_note(session, RoutingEvent::CallbackDue { to: Text::from(customer.as_str()) });
                    self.ring(session, offer, contact.as_str(), agent.as_str(), Channel::Voice);
                }
                acd::Event::OfferTimedOut { offer, agent, .. } => {
                    self.ringing.retain(|(o, _, _)| *o != offer);
                    self.routing_note(SessionId(0), RoutingEvent::Missed { agent: agent.as_str().into() });
                }
                acd::Event::OfferWithdrawn { offer, agent, .. } => {
                    self.ringing.retain(|(o, _, _)| *o != offer);
                    self.routing_note(SessionId(0), RoutingEvent::Withdrawn { agent: agent.as_str().into() });
                }
                acd::Event::AgentAway { agent, .. } => {
                    self.routing_note(SessionId(0), RoutingEvent::AgentAway { agent: agent.as_str().into() })
                }
                acd::Event::WrapUpEnded { agent } => {
                    self.routing_note(SessionId(0), RoutingEvent::WrapUpEnded { agent: agent.as_str().into() })
                }
                acd::Event::PreferEnded { contact, agent } => {
                    let session = self.session_of(contact.as_str());
                    self.routing_note(session, RoutingEvent::PreferEnded { agent: agent.as_str().into() })
                }
                acd::Event::Overflowed { contact, from, to } => {
                    let session = self.session_of(contact.as_str());
                    let mut moved = None;
                    if let Some(q) = self.queued_at(contact.as_str()).cloned() {
                        let bundle = &*self.prepared(q.bundle).bundle;
                        if let Some(new) = bundle.queue(to.as_str()) {
                            if let Some(q) = self.queued_at_mut(contact.as_str()) {
                                q.queue = new;
                            }
                            moved = Some((bundle, q.contact, new, q.channel));
                        }
                    }
                    // The new queue's own `while waiting` lines take over.
                    if let Some((bundle, id, new, channel)) = moved {
                        self.start_waiting_lines(bundle, id, new, channel);
                    }
                    let (from, to) = (from.as_str().into(), to.as_str().into());
                    self.routing_note(session, RoutingEvent::Overflowed { from, to });
                }
                // A callback taken without `keep place`: the agent has it; call the customer.
                acd::Event::OutboundAssigned { contact, agent, customer, queue, .. }
                    if self.queued_at(contact.as_str()).is_some_and(|q| q.callback_taken) =>
                {
                    let session = self.session_of(contact.as_str());
                    let offer = EventKind::Offer { agent: agent.as_str().into(), channel: Text::fixed("voice") };
                    self.emit(session, offer, None);
                    let to = Text::from(customer.as_str());
                    self.routing_note(session, RoutingEvent::CallbackDue { to: to.clone() });
                    let queue = Text::from(queue.as_str());
                    self.emit(session, EventKind::Call { to: to.clone(), queue: queue.clone() }, None);
                    let command = self.command(session, CommandKind::Dial { to, queue, run: None });
                    self.pending.insert(command, Pending::Dial { run: None });
                }
                acd::Event::OutboundAssigned { agent, customer, channel, .. } => {
                    let words = Text::fixed(channel.as_str());
                    self.emit(SessionId(0), EventKind::Offer { agent: agent.as_str().into(), channel: words }, None);
                    let (agent, to) = (agent.as_str().into(), Text::from(customer.as_str()));
                    self.routing_note(SessionId(0), RoutingEvent::OutboundAssigned { agent, to });
                }
            }
        }
    }

    /// An agent's phone rings with a contact: they answer with `Accept` or `Reject`.
    fn ring(&mut self, session: SessionId, offer: OfferId, contact: &str, agent: &str, channel: Channel) {
        self.ringing.push((offer, contact.to_string(), agent.to_string()));
        let contact = crate::contact_id(contact);
        let kind = CommandKind::Offer { offer, contact, agent: AgentId::new(agent), channel };
        self.command(session, kind);
    }
}
