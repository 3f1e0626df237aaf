//! Contacts a flow has queued: handing them to the routing engine (ACD), the queue's
//! `while waiting` lines (announcements, callbacks that keep their place), offers to
//! agents, answers, hang-ups, and outbound work for blending.

use super::events::{EventKind, Text};
use super::{Engine, Timer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_acd::{self as acd, Acd, AgentSpec, Arrival, ContactState, OfferId, OutboundWork, QueueSpec};
use switchboard_bytecode::bytecode::{Bundle, QueueId, SourceSpan, WaitingAction};
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::Value;
use switchboard_vm::{text_cow, AgentView, Contact, Host};

/// A contact in routing: waiting, ringing an agent, or with one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    /// The engine's id of the contact.
    pub contact: u64,
    pub queue: QueueId,
    pub channel: Channel,
    /// Where to call back (the caller's number), when a callback is offered.
    pub callback_to: Option<Arc<str>>,
    /// A callback has been offered and not yet taken.
    pub callback_offered: bool,
    /// The customer took a callback: they left, a placeholder keeps their place.
    pub callback_taken: bool,
    pub origin: Option<SourceSpan>,
}

/// The routing engine for a bundle's queues and skills.
pub fn new_acd(bundle: &Bundle) -> Result<Acd, String> {
    let queues: Vec<QueueSpec> = bundle
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
        .collect();
    Acd::new(acd::Config::default(), &bundle.skills, &queues).map_err(|e| e.to_string())
}

impl Engine {
    fn ms(&self) -> i64 {
        self.now.as_millisecond()
    }

    /// The contact in routing that routing knows as `key`.
    fn queued_at(&self, key: &str) -> Option<&Queued> {
        self.queued.get(&super::contact_id(key)?)
    }

    fn queued_at_mut(&mut self, key: &str) -> Option<&mut Queued> {
        self.queued.get_mut(&super::contact_id(key)?)
    }

    /// The routing engine, for reports and the simulator.
    pub fn acd(&self) -> &Acd {
        &self.acd
    }

    /// A flow's `queue`: hands the contact to routing and starts its `while waiting` lines.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn enqueue(
        &mut self,
        bundle: &Bundle,
        contact: u64,
        c: &Contact,
        queue: QueueId,
        priority: i32,
        prefer: Option<(Value, i64)>,
        require: &[Arc<str>],
        vip: bool,
        origin: Option<SourceSpan>,
    ) {
        let info = &bundle.queues[queue.index()];
        let mut arrival = Arrival::new(&c.id, &info.name, c.channel).boost(priority).language(&c.language);
        if vip {
            arrival = arrival.vip();
        }
        // A preferred agent routing has never seen (not logged in today) is no preference.
        if let Some((agent, ms)) = prefer.filter(|(a, _)| self.agents.contains_key(&*text_cow(a))) {
            arrival = arrival.prefer(&text_cow(&agent), ms);
        }
        for s in require {
            arrival = arrival.require(s);
        }
        let callback_to = match &c.from {
            Value::Phone(p) => Some(p.clone()),
            _ => None,
        };
        self.queued.insert(
            contact,
            Queued {
                contact,
                queue,
                channel: c.channel,
                callback_to,
                callback_offered: false,
                callback_taken: false,
                origin,
            },
        );
        match self.acd.arrive(&arrival, self.ms()) {
            Ok(events) => self.routed(events),
            Err(e) => self.emit(
                contact,
                EventKind::Error { message: format!("routing refused the contact: {e}").into() },
                origin,
            ),
        }
        self.start_waiting_lines(c.id.to_string(), queue, c.channel);
        self.schedule_acd_tick();
    }

    /// `while waiting`: announcements reach voice and chat; callbacks are offered on voice.
    fn start_waiting_lines(&mut self, contact: String, queue: QueueId, channel: Channel) {
        let lines = self.bundle.queues[queue.index()].waiting.clone();
        for (line, w) in lines.iter().enumerate() {
            let reaches = match w.action {
                WaitingAction::Say(_) => matches!(channel, Channel::Voice | Channel::Chat),
                WaitingAction::OfferCallback { .. } => channel == Channel::Voice,
            };
            if reaches {
                self.schedule_in(w.delay_ms, Timer::Waiting { contact: contact.clone(), queue, line });
            }
        }
    }

    /// One `while waiting` line comes due for a contact still waiting.
    pub(super) fn waiting_line(&mut self, contact: String, queue: QueueId, line: usize) {
        let Some(q) = self.queued_at(contact.as_str()).cloned() else { return };
        if q.queue != queue
            || q.callback_taken
            || !matches!(self.acd.contact_state(&contact), Some(ContactState::Waiting))
        {
            return;
        }
        let info = self.bundle.queues[q.queue.index()].clone();
        let Some(w) = info.waiting.get(line) else { return };
        match &w.action {
            WaitingAction::Say(func) => {
                let host = Host {
                    queue_position: self.acd.position(&contact).unwrap_or(1) as f64,
                    queue_ewt_ms: self.acd.expected_wait_ms(&contact).unwrap_or(0),
                    tables: &self.prepared.tables,
                };
                match self.evaluate(*func, Vec::new(), &host) {
                    Ok(text) => self.emit(q.contact, EventKind::Say { text: text.display().into() }, None),
                    Err(why) => self.emit(q.contact, EventKind::Error { message: why.into() }, None),
                }
            }
            WaitingAction::OfferCallback { keep_place } => {
                if q.callback_to.is_some() && !q.callback_offered {
                    self.emit(q.contact, EventKind::Callback { keep_place: *keep_place }, None);
                    if let Some(q) = self.queued_at_mut(contact.as_str()) {
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
    pub(super) fn queue_input(&mut self, contact: &str, text: &str) -> Result<(), String> {
        let q = self.queued_at(contact).cloned().ok_or("nothing is waiting for an answer")?;
        if !q.callback_offered || q.callback_taken {
            return Err("the caller is waiting in the queue; nothing asks for an answer".to_string());
        }
        if !matches!(text.trim().to_ascii_lowercase().as_str(), "1" | "yes" | "callback") {
            return Err("press 1 to take the callback".to_string());
        }
        let to = q.callback_to.as_deref().unwrap_or_default();
        let events = self.acd.keep_place(contact, to, self.ms()).map_err(|e| e.to_string())?;
        if let Some(q) = self.queued_at_mut(contact) {
            q.callback_taken = true;
        }
        self.emit(q.contact, EventKind::Routing { what: format!("callback kept the place of {to}").into() }, None);
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// Adds an agent and makes them available (tests, the simulator, the desktop's log-in).
    pub fn add_agent(&mut self, agent: AgentView) -> Result<(), String> {
        let mut spec = AgentSpec::new(&agent.id, &agent.name);
        for s in &agent.skills {
            spec = spec.skill(s);
        }
        let languages = if agent.languages.is_empty() { vec!["en".to_string()] } else { agent.languages.clone() };
        for l in &languages {
            spec = spec.language(l);
        }
        self.acd.add_agent(&spec, self.ms()).map_err(|e| e.to_string())?;
        self.agents.insert(agent.id.clone(), AgentView { languages, ..agent.clone() });
        let events = self.acd.set_available(&agent.id, self.ms()).map_err(|e| e.to_string())?;
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// The newest offer still ringing, if any.
    pub fn ringing_offer(&self) -> Option<OfferId> {
        self.ringing.last().map(|(o, _, _)| *o)
    }

    /// The agent takes the offer: the contact is connected (a callback is dialled).
    pub fn accept(&mut self, offer: OfferId) -> Result<(), String> {
        let events = self.acd.accept(offer, self.ms()).map_err(|e| e.to_string())?;
        if let Some(i) = self.ringing.iter().position(|(o, _, _)| *o == offer) {
            let (_, contact, agent) = self.ringing.remove(i);
            let (session, callback) = match self.queued_at(contact.as_str()) {
                Some(q) => (q.contact, q.callback_taken.then(|| q.callback_to.clone()).flatten()),
                None => (0, None),
            };
            self.emit(session, EventKind::Answered { agent: agent.as_str().into() }, None);
            if let (Some(to), Some(q)) = (callback, self.queued_at(contact.as_str())) {
                let queue = self.prepared.names.queues[q.queue.index()].clone();
                self.emit(session, EventKind::Call { to: to.into(), queue }, None);
            }
        }
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// The agent turns the offer down: the contact keeps its place.
    pub fn reject(&mut self, offer: OfferId) -> Result<(), String> {
        self.ringing.retain(|(o, _, _)| *o != offer);
        let events = self.acd.reject(offer, self.ms()).map_err(|e| e.to_string())?;
        self.routed(events);
        self.schedule_acd_tick();
        Ok(())
    }

    /// The customer hangs up: a waiting contact is abandoned; a connected one finishes.
    pub fn hang_up(&mut self, contact: u64) -> Result<(), String> {
        let id = self.find_contact(contact).map(|c| c.id.clone()).ok_or("no such contact")?;
        self.sessions.remove(&contact);
        // A caller who took a callback has already left; their placeholder keeps the place.
        if self.queued.get(&contact).is_some_and(|q| q.callback_taken) {
            self.emit(contact, EventKind::HangUp, None);
            return Ok(());
        }
        let state = self.acd.contact_state(&id);
        let events = match state {
            Some(ContactState::InProgress { .. }) => self.acd.finish(&id, self.ms()),
            Some(_) => self.acd.abandon(&id, self.ms()),
            None => Ok(Vec::new()),
        }
        .map_err(|e| e.to_string())?;
        self.ringing.retain(|(_, c, _)| **c != *id);
        self.emit(contact, EventKind::HangUp, None);
        self.queued.remove(&contact);
        self.routed(events);
        self.schedule_acd_tick();
        self.contact_ended(contact);
        Ok(())
    }

    /// The agent finished with the contact (wrap-up follows).
    pub fn finish(&mut self, contact: u64) -> Result<(), String> {
        let id = self.find_contact(contact).map(|c| c.id.clone()).ok_or("no such contact")?;
        let events = self.acd.finish(&id, self.ms()).map_err(|e| e.to_string())?;
        self.queued.remove(&contact);
        self.routed(events);
        self.schedule_acd_tick();
        self.contact_ended(contact);
        Ok(())
    }

    /// A retry strategy's call goes to routing as outbound work (blending).
    pub(super) fn outbound(&mut self, run: u64, queue: QueueId, to: &str) {
        let work_id = format!("out{}-{}", run, self.next_id);
        self.next_id += 1;
        let queue = self.bundle.queues[queue.index()].name.clone();
        let work = OutboundWork::new(&work_id, &queue, Channel::Voice, to);
        if let Ok(events) = self.acd.add_outbound(&work, self.ms()) {
            self.routed(events);
            self.schedule_acd_tick();
        }
    }

    pub(super) fn acd_tick(&mut self) {
        self.acd_tick_timer = None;
        let events = self.acd.tick(self.ms());
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
            use switchboard_calendar::Timers;
            self.timers.cancel(id);
        }
        use switchboard_calendar::Timers;
        let id = self.timers.schedule(due, Timer::AcdTick);
        self.acd_tick_timer = Some((id, due));
    }

    /// Records what routing did.
    fn routed(&mut self, events: Vec<acd::Event>) {
        for e in events {
            match e {
                acd::Event::Offered { offer, contact, agent, channel, .. } => {
                    let session = self.queued_at(contact.as_str()).map_or(0, |q| q.contact);
                    let channel = Text::fixed(channel.as_str());
                    self.emit(session, EventKind::Offer { agent: agent.as_str().into(), channel }, None);
                    self.ringing.push((offer, contact.as_str().to_string(), agent.as_str().to_string()));
                }
                acd::Event::CallbackDue { offer, contact, customer, agent, .. } => {
                    let session = self.queued_at(contact.as_str()).map_or(0, |q| q.contact);
                    let offer_event = EventKind::Offer { agent: agent.as_str().into(), channel: Text::fixed("voice") };
                    self.emit(session, offer_event, None);
                    self.emit(
                        session,
                        EventKind::Routing { what: format!("callback due: call {customer}").into() },
                        None,
                    );
                    self.ringing.push((offer, contact.as_str().to_string(), agent.as_str().to_string()));
                }
                acd::Event::OfferTimedOut { offer, agent, .. } => {
                    self.ringing.retain(|(o, _, _)| *o != offer);
                    self.emit(
                        0,
                        EventKind::Routing { what: format!("{} did not answer", agent.as_str()).into() },
                        None,
                    );
                }
                acd::Event::OfferWithdrawn { offer, agent, .. } => {
                    self.ringing.retain(|(o, _, _)| *o != offer);
                    self.emit(
                        0,
                        EventKind::Routing { what: format!("offer to {} withdrawn", agent.as_str()).into() },
                        None,
                    );
                }
                acd::Event::AgentAway { agent, .. } => {
                    self.emit(0, EventKind::Routing { what: format!("{} is away", agent.as_str()).into() }, None)
                }
                acd::Event::WrapUpEnded { agent } => self.emit(
                    0,
                    EventKind::Routing { what: format!("{} finished wrap-up", agent.as_str()).into() },
                    None,
                ),
                acd::Event::PreferEnded { contact, agent } => {
                    let session = self.queued_at(contact.as_str()).map_or(0, |q| q.contact);
                    self.emit(
                        session,
                        EventKind::Routing { what: format!("no longer kept for {}", agent.as_str()).into() },
                        None,
                    )
                }
                acd::Event::Overflowed { contact, from, to } => {
                    let session = self.queued_at(contact.as_str()).map_or(0, |q| q.contact);
                    let new = self.bundle.queue(to.as_str());
                    let mut moved = None;
                    if let (Some(q), Some(new)) = (self.queued_at_mut(contact.as_str()), new) {
                        q.queue = new;
                        moved = Some((new, q.channel));
                    }
                    // The new queue's own `while waiting` lines take over.
                    if let Some((new, channel)) = moved {
                        self.start_waiting_lines(contact.as_str().to_string(), new, channel);
                    }
                    self.emit(
                        session,
                        EventKind::Routing {
                            what: format!("overflow from {} to {}", from.as_str(), to.as_str()).into(),
                        },
                        None,
                    );
                }
                acd::Event::OutboundAssigned { agent, customer, channel, .. } => {
                    let channel = Text::fixed(channel.as_str());
                    self.emit(0, EventKind::Offer { agent: agent.as_str().into(), channel }, None);
                    self.emit(0, EventKind::Routing { what: format!("outbound call to {customer}").into() }, None);
                }
            }
        }
    }
}
