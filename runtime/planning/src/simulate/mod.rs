//! `switchboard simulate`: a discrete-event simulation of a contact center's day on the
//! real engine and routing engine, with a virtual clock. There is no model of routing
//! here: flows run on the engine, contacts queue and are offered by the ACD exactly as in
//! production; only the people (customers and agents) are simulated.
//!
//! # The people
//!
//! - **Arrivals**: on each channel a Poisson process (exponential gaps between customers,
//!   at the rate `--arrivals` gives), to the project's entry for that channel (one of them
//!   at random when there are several), from an address nobody in the project's data has
//!   (`+447911…`, `customer7@example.net`, `visitor-7`): every customer is a stranger.
//! - **Customers in a flow** answer every `menu` with one of its options (equal chances)
//!   and every `ask` with a valid value of its type, after thinking 1–4 s on the phone or
//!   2–8 s in writing (a flow with shorter time-outs sees silence). Heard the same prompt
//!   [`customer::MAX_ANSWERS_TO_ONE_PROMPT`] times in a row, they fall silent and the flow's
//!   time-out takes over. Post-contact surveys are answered the same way.
//! - **Customers in a queue** on voice and chat hang up when their patience runs out
//!   (exponential, mean `--patience`; without it nobody hangs up). Email, SMS and social
//!   contacts wait until answered. A caller offered a callback while waiting takes it with
//!   probability [`customer::CALLBACK_TAKE`], and leaves: the callback keeps their place.
//! - **Agents** from the agents file are all logged in and available from start to end, with
//!   routing's default capacity (one contact per channel at once, voice alone). They pick up
//!   an offer after `--ring` (uniform, default 2–5 s) and finish the contact after its
//!   handling time, drawn when the customer arrives: exponential around `--aht` (Erlang C's
//!   assumption), or lognormal with `--handle-times lognormal`.
//! - **People a retry strategy calls** (once an agent takes the call) answer with
//!   probability [`customer::OUTBOUND_ANSWER`]; the agent spends a voice handling time on
//!   an answered call and is free at once after one that is not.
//!
//! Each channel's arrivals are their own random stream, and each customer's choices,
//! patience and handling time come from a stream of their own: with the same seed the same
//! customers arrive, whatever the agents do.
//!
//! # Time
//!
//! Two event lists run side by side: the engine's own timers (menu time-outs, `while
//! waiting` lines, routing's deadlines) and the simulation's [`agenda::Agenda`] of what
//! people do next. The loop advances the engine to the earliest of the next happening,
//! routing's next deadline and one second on, then reads the events that brought: so
//! people react to what the engine did at the time it did it, within 1 s for reactions
//! shorter than 1 s to a menu time-out, exactly otherwise. The run stops at `--hours`:
//! contacts still waiting then are counted as waiting.
//!
//! **Architecture Invariant:** a run depends only on the bundle, the project's data, the
//! scenario and the seed. Nothing reads a clock; every collection is ordered.

mod agenda;
mod customer;
mod random;
mod report;
mod scenario;

pub use report::{ChannelReport, QueueChannel, QueueReport, Report, Target};
pub use scenario::{
    parse_agents, parse_arrivals, parse_handle_times, parse_patience, parse_ring, Scenario, Spread, LOGNORMAL_CV,
};

use agenda::{Agenda, Happening};
use customer::{Prompt, Prompts};
use jiff::Timestamp;
use random::Stream;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use switchboard_acd::ContactState;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::Channel;
use switchboard_engine::{Completion, ContactId, Event, EventKind, Reply, SessionId};
use switchboard_shell::{LocalShell, Options};

/// The longest the engine runs before the simulated people look at what it did.
const STEP_MS: i64 = 1_000;
const HOUR_MS: f64 = 3_600_000.0;

/// Simulates `scenario` on `bundle` (whose CSV and SQLite sources are read from `root`).
/// `progress` is told the simulated time (ms since the start) about once a simulated
/// minute.
pub fn run(
    bundle: Arc<Bundle>,
    root: &Path,
    scenario: &Scenario,
    progress: &mut dyn FnMut(i64),
) -> Result<Report, String> {
    run_recording(bundle, root, scenario, progress, &mut |_| Ok(()))
}

/// As [`run`], and hands `record` every event of the day (contacts, surveys and routing's
/// own) as the engine gives them, in order: what a daemon would have stored. An error from
/// `record` stops the run.
pub fn run_recording(
    bundle: Arc<Bundle>,
    root: &Path,
    scenario: &Scenario,
    progress: &mut dyn FnMut(i64),
    record: &mut dyn FnMut(&[Event]) -> Result<(), String>,
) -> Result<Report, String> {
    scenario.validate()?;
    let mut sim = Simulation::new(bundle, root, scenario, Options::default())?;
    sim.play_recording(progress, record)?;
    Ok(sim.report())
}

struct Simulation<'a> {
    engine: LocalShell,
    bundle: Arc<Bundle>,
    scenario: &'a Scenario,
    prompts: Prompts,
    agenda: Agenda,
    start_ms: i64,
    /// Simulated time, ms since the start.
    now: i64,
    end: i64,
    arrivals: Vec<Arrivals>,
    customers: BTreeMap<u64, Customer>,
    /// Sessions (contacts and surveys) that asked something, by session.
    listening: BTreeMap<u64, Listening>,
    /// Choices for sessions that are no customer's own (surveys).
    others: Stream,
    channels: Vec<ChannelReport>,
    waypoints: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    /// Retry strategies' calls waiting for an agent or with one: their handling time.
    outbound: BTreeMap<u64, i64>,
    /// The people those calls reach: whether they answer, how long the agent takes.
    outbound_rng: Stream,
    outbound_calls: u64,
    outbound_answered: u64,
}

/// One channel's stream of customers.
struct Arrivals {
    channel: Channel,
    /// Mean gap between customers, ms.
    gap_ms: f64,
    /// The addresses customers contact: the channel's entries.
    entries: Vec<String>,
    rng: Stream,
    count: u64,
}

struct Customer {
    channel: Channel,
    rng: Stream,
    patience_ms: Option<i64>,
    handle_ms: i64,
    queued: bool,
    /// Hung up or took a callback: no longer waiting in person.
    left: bool,
}

/// What a session last asked, and whether the customer still answers.
#[derive(Default)]
struct Listening {
    /// Prompts heard so far.
    heard: u32,
    pending: Option<Asked>,
    /// The prompt heard last (its span), and how many times in a row.
    last: Option<(u32, u32, u32)>,
    repeats: u32,
}

enum Asked {
    Prompt(Prompt),
    Choice(Vec<String>),
}

impl<'a> Simulation<'a> {
    fn new(
        bundle: Arc<Bundle>,
        root: &Path,
        scenario: &'a Scenario,
        options: Options,
    ) -> Result<Simulation<'a>, String> {
        let start_ms = scenario.start.timestamp().as_millisecond();
        let mut engine = LocalShell::for_project(bundle.clone(), root, options, scenario.start.timestamp())?;
        for agent in &scenario.agents {
            if let Some(skill) = agent.skills.iter().find(|s| !bundle.skills.contains(s)) {
                return Err(format!(
                    "agent `{}` has the skill `{skill}`, which the project does not declare (its skills: {})",
                    agent.id,
                    bundle.skills.join(", ")
                ));
            }
            engine.add_agent(agent.clone()).map_err(|e| format!("agent `{}`: {e}", agent.id))?;
        }
        let mut arrivals = Vec::new();
        for (stream, &(channel, per_hour)) in scenario.arrivals.iter().enumerate() {
            let entries: Vec<String> =
                bundle.entries.iter().filter(|e| e.channel == channel).map(|e| e.address.clone()).collect();
            if entries.is_empty() {
                return Err(format!("the project has no {channel} entry for --arrivals {channel}=… to reach"));
            }
            if per_hour > 0.0 {
                let rng = Stream::new(scenario.seed, stream as u64 + 1);
                arrivals.push(Arrivals { channel, gap_ms: HOUR_MS / per_hour, entries, rng, count: 0 });
            }
        }
        engine.take_events();
        Ok(Simulation {
            prompts: Prompts::of(&bundle),
            engine,
            bundle,
            scenario,
            agenda: Agenda::default(),
            start_ms,
            now: 0,
            end: (scenario.hours * HOUR_MS).round() as i64,
            arrivals,
            customers: BTreeMap::new(),
            listening: BTreeMap::new(),
            others: Stream::new(scenario.seed, 0),
            channels: Channel::ALL.into_iter().map(ChannelReport::new).collect(),
            waypoints: BTreeMap::new(),
            errors: BTreeMap::new(),
            outbound: BTreeMap::new(),
            outbound_rng: Stream::new(scenario.seed, u64::MAX),
            outbound_calls: 0,
            outbound_answered: 0,
        })
    }

    #[cfg(test)]
    fn play(&mut self, progress: &mut dyn FnMut(i64)) -> Result<(), String> {
        self.play_recording(progress, &mut |_| Ok(()))
    }

    fn play_recording(
        &mut self,
        progress: &mut dyn FnMut(i64),
        record: &mut dyn FnMut(&[Event]) -> Result<(), String>,
    ) -> Result<(), String> {
        for i in 0..self.arrivals.len() {
            self.next_arrival(i);
        }
        let mut minute = -1;
        loop {
            while let Some(happening) = self.agenda.pop_due(self.now) {
                self.perform(happening)?;
                self.absorb(record)?;
            }
            if self.now >= self.end {
                break;
            }
            let mut target = (self.now + STEP_MS).min(self.end);
            if let Some(at) = self.agenda.next_at() {
                target = target.min(at);
            }
            if let Some(deadline) = self.engine.state().acd().next_deadline() {
                let deadline = deadline - self.start_ms;
                if deadline > self.now {
                    target = target.min(deadline);
                }
            }
            self.now = target;
            self.engine.advance(self.timestamp(target));
            self.absorb(record)?;
            if self.now / 60_000 != minute {
                minute = self.now / 60_000;
                progress(self.now);
            }
        }
        progress(self.end);
        Ok(())
    }

    fn timestamp(&self, ms: i64) -> Timestamp {
        Timestamp::from_millisecond(self.start_ms + ms).unwrap_or(self.scenario.start.timestamp())
    }

    /// Adds a happening, never in the past.
    fn schedule(&mut self, at: i64, what: Happening) {
        self.agenda.add(at.max(self.now), what);
    }

    fn next_arrival(&mut self, i: usize) {
        let a = &mut self.arrivals[i];
        let at = self.now + a.rng.exponential(a.gap_ms).round() as i64;
        let channel = a.channel;
        if at < self.end {
            self.schedule(at, Happening::Arrival { channel });
        }
    }

    fn perform(&mut self, happening: Happening) -> Result<(), String> {
        match happening {
            Happening::Arrival { channel } => self.arrive(channel)?,
            Happening::Answer { session, heard } => self.answer(session, heard),
            Happening::GiveUp { contact } => {
                if self.waiting_in_person(contact) {
                    self.engine.hang_up(ContactId(contact)).map_err(|e| refused("hang up", contact, e))?;
                    self.left(contact);
                    self.channel(contact).abandoned += 1;
                }
            }
            Happening::TakeCallback { contact } => {
                if self.waiting_in_person(contact)
                    && self.engine.input(SessionId(contact), Reply::Keys("1".into())).is_ok()
                {
                    self.left(contact);
                    self.channel(contact).callbacks += 1;
                }
            }
            Happening::PickUp { contact, agent } => {
                let offer = match self.engine.state().acd().contact_state(&engine_id(contact)) {
                    Some(ContactState::Offered { offer, agent: ringing }) if ringing.as_str() == agent => offer,
                    // The customer hung up while it rang.
                    _ => return Ok(()),
                };
                self.engine.accept(offer).map_err(|e| refused("pick up", contact, e))?;
                if let Some(handle_ms) = self.outbound.get(&contact).copied() {
                    // A strategy's call: the customer is dialled now, and answers or not.
                    return self.dialled(contact, handle_ms);
                }
                let handle_ms = self.customers.get(&contact).map_or(0, |c| c.handle_ms);
                self.schedule(self.now + handle_ms, Happening::Finish { contact });
            }
            Happening::Finish { contact } => {
                self.engine.finish(ContactId(contact)).map_err(|e| refused("finish", contact, e))?;
                self.customers.remove(&contact);
                self.listening.remove(&contact);
                self.outbound.remove(&contact);
            }
        }
        Ok(())
    }

    /// The agent took a strategy's call and the customer is dialled: they answer with
    /// probability [`customer::OUTBOUND_ANSWER`], and the strategy hears how it went. An
    /// unanswered call ends the agent's part at once.
    fn dialled(&mut self, contact: u64, handle_ms: i64) -> Result<(), String> {
        self.outbound_calls += 1;
        let state = self.engine.state();
        let dial = state.pending_commands().filter(|c| c.session == SessionId(contact)).last();
        let Some(command) = dial else { return Ok(()) };
        let answered = self.outbound_rng.chance(customer::OUTBOUND_ANSWER);
        let result = if answered { Completion::Answered } else { Completion::NoAnswer };
        self.engine.complete(command, result).map_err(|e| refused("dial", contact, e))?;
        if answered {
            self.outbound_answered += 1;
            self.schedule(self.now + handle_ms, Happening::Finish { contact });
        } else {
            self.outbound.remove(&contact);
        }
        Ok(())
    }

    fn arrive(&mut self, channel: Channel) -> Result<(), String> {
        let i = self.arrivals.iter().position(|a| a.channel == channel).expect("arrivals come from a stream");
        let a = &mut self.arrivals[i];
        a.count += 1;
        let from = customer::address(channel, a.count);
        let to = a.entries[a.rng.index(a.entries.len())].clone();
        let mut rng = a.rng.fork();
        let patience_ms = self
            .scenario
            .patience_ms
            .filter(|_| customer::can_abandon(channel))
            .map(|mean| rng.exponential(mean).round() as i64);
        let mean = self.scenario.handle_mean(channel).expect("validated: every channel has a handling time");
        let handle = match self.scenario.spread {
            Spread::Exponential => rng.exponential(mean),
            Spread::Lognormal => rng.lognormal(mean, LOGNORMAL_CV),
        };
        let (subject, text) = customer::opening(channel);
        let id = self.engine.contact(channel, &from, Some(&to), subject, text)?.0;
        let handle_ms = (handle.round() as i64).max(1);
        self.customers.insert(id, Customer { channel, rng, patience_ms, handle_ms, queued: false, left: false });
        self.channels[channel as usize].arrived += 1;
        self.next_arrival(i);
        Ok(())
    }

    /// The customer answers what they heard, unless the flow has asked something newer,
    /// moved on to a queue, or they have stopped answering.
    fn answer(&mut self, session: u64, heard: u32) {
        let Some(listening) = self.listening.get_mut(&session) else { return };
        if listening.heard != heard {
            return;
        }
        let Some(asked) = listening.pending.take() else { return };
        let (channel, rng) = match self.customers.get_mut(&session) {
            Some(c) if c.queued || c.left => return,
            Some(c) => (c.channel, &mut c.rng),
            // A survey: answered in writing, which every prompt takes.
            None => (Channel::Chat, &mut self.others),
        };
        let reply = match asked {
            Asked::Prompt(prompt) => customer::answer(&self.bundle, prompt, channel, rng),
            Asked::Choice(options) => customer::choose(&options, rng),
        };
        // The flow may have timed out in the meantime: then nothing takes the answer.
        let _ = self.engine.input(SessionId(session), reply);
    }

    /// A session asked something: the customer will answer after thinking it over.
    fn heard(&mut self, session: u64, asked: Asked, span: Option<(u32, u32, u32)>, at: i64) {
        let listening = self.listening.entry(session).or_default();
        listening.heard += 1;
        if span.is_some() && span == listening.last {
            listening.repeats += 1;
        } else {
            listening.last = span;
            listening.repeats = 1;
        }
        if listening.repeats > customer::MAX_ANSWERS_TO_ONE_PROMPT {
            listening.pending = None;
            return;
        }
        listening.pending = Some(asked);
        let heard = listening.heard;
        let think = match self.customers.get_mut(&session) {
            Some(c) => customer::think_ms(c.channel, &mut c.rng),
            None => customer::think_ms(Channel::Chat, &mut self.others),
        };
        self.schedule(at + think, Happening::Answer { session, heard });
    }

    /// Reads what the engine did and lets the people react.
    fn absorb(&mut self, record: &mut dyn FnMut(&[Event]) -> Result<(), String>) -> Result<(), String> {
        let events = self.engine.take_events();
        record(&events)?;
        for event in events {
            let at = event.at.as_millisecond() - self.start_ms;
            let session = event.session.0;
            let customer = self.customers.contains_key(&session);
            match event.kind {
                EventKind::Say { .. } => {
                    if let Some(prompt) = self.prompts.asked_at(event.origin) {
                        let span = event.origin.map(|o| (o.file.0, o.span.start, o.span.end));
                        self.heard(session, Asked::Prompt(prompt), span, at);
                    }
                }
                EventKind::Choice { options, .. } => self.heard(session, Asked::Choice(options), None, at),
                EventKind::Waypoint { name } => *self.waypoints.entry(name.to_string()).or_default() += 1,
                EventKind::Queue { .. } if customer => {
                    self.channel(session).queued += 1;
                    let c = self.customers.get_mut(&session).expect("a customer");
                    c.queued = true;
                    if let Some(patience) = c.patience_ms {
                        self.schedule(at + patience, Happening::GiveUp { contact: session });
                    }
                }
                EventKind::Offer { agent, .. } if customer => {
                    let (low, high) = self.scenario.ring_ms;
                    let ring = self.customers.get_mut(&session).map_or(low, |c| c.rng.between(low, high));
                    self.schedule(at + ring, Happening::PickUp { contact: session, agent: agent.to_string() });
                }
                EventKind::Answered { .. } if customer => self.channel(session).answered += 1,
                // Offered by a queue's `while waiting` (a flow's own `offer callback` has an origin).
                EventKind::Callback { .. } if customer && event.origin.is_none() => {
                    let c = self.customers.get_mut(&session).expect("a customer");
                    if c.rng.chance(customer::CALLBACK_TAKE) {
                        let think = customer::think_ms(c.channel, &mut c.rng);
                        self.schedule(at + think, Happening::TakeCallback { contact: session });
                    }
                }
                EventKind::Transfer { .. } if customer => self.channel(session).transferred += 1,
                EventKind::End if customer => self.channel(session).ended_in_flow += 1,
                EventKind::Error { message } => {
                    *self.errors.entry(message.to_string()).or_default() += 1;
                    if customer {
                        self.channel(session).errors += 1;
                    }
                }
                // A retry strategy's call waits for an agent as a contact of its own.
                EventKind::Contact { .. } if !customer && self.is_outbound(session) => {
                    let mean = self.scenario.handle_mean(Channel::Voice).unwrap_or(customer::OUTBOUND_HANDLE_MS);
                    let handle_ms = (self.outbound_rng.exponential(mean).round() as i64).max(1);
                    self.outbound.insert(session, handle_ms);
                }
                EventKind::Offer { agent, .. } if self.outbound.contains_key(&session) => {
                    let (low, high) = self.scenario.ring_ms;
                    let ring = self.outbound_rng.between(low, high);
                    self.schedule(at + ring, Happening::PickUp { contact: session, agent: agent.to_string() });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether `session` is a contact standing for a retry strategy's call.
    fn is_outbound(&self, session: u64) -> bool {
        let contact = self.engine.state().contact(ContactId(session));
        contact.is_some_and(|c| c.contact.attributes.contains_key("retry"))
    }

    /// The customer is still there and no agent has them yet (waiting, or ringing).
    fn waiting_in_person(&self, contact: u64) -> bool {
        self.customers.get(&contact).is_some_and(|c| !c.left)
            && matches!(
                self.engine.state().acd().contact_state(&engine_id(contact)),
                Some(ContactState::Waiting | ContactState::Offered { .. })
            )
    }

    fn left(&mut self, contact: u64) {
        if let Some(c) = self.customers.get_mut(&contact) {
            c.left = true;
        }
    }

    /// The counts of a customer's channel.
    fn channel(&mut self, contact: u64) -> &mut ChannelReport {
        let channel = self.customers.get(&contact).map_or(Channel::Voice, |c| c.channel);
        &mut self.channels[channel as usize]
    }

    fn report(&self) -> Report {
        let acd = self.engine.state().acd();
        let end = self.start_ms + self.end;
        let queues = self
            .bundle
            .queues
            .iter()
            .map(|q| {
                let agents: Vec<&str> = self
                    .scenario
                    .agents
                    .iter()
                    .filter(|a| q.skills.iter().all(|s| a.skills.contains(s)))
                    .map(|a| a.id.as_str())
                    .collect();
                let busy: Vec<f64> = agents.iter().filter_map(|a| acd.occupancy(a, end)).collect();
                let occupancy = (!busy.is_empty()).then(|| busy.iter().sum::<f64>() / busy.len() as f64);
                let channels = Channel::ALL
                    .into_iter()
                    .filter_map(|channel| {
                        let stats = acd.stats(&q.name, channel)?;
                        if stats.offered == 0 && stats.target.is_none() {
                            return None;
                        }
                        Some(QueueChannel {
                            channel,
                            offered: stats.offered,
                            answered: stats.answered,
                            abandoned: stats.abandoned,
                            overflowed_out: stats.overflowed_out,
                            waiting: acd.queue_length(&q.name, Some(channel)).unwrap_or(0) as u64,
                            target: stats
                                .target
                                .map(|t| Target { percent: t.percent, within_seconds: t.within_ms as f64 / 1000.0 }),
                            service_level: stats.service_level(),
                            asa_seconds: stats.average_speed_of_answer_ms().map(|ms| ms / 1000.0),
                            aht_seconds: stats.average_handle_ms().map(|ms| ms / 1000.0),
                        })
                    })
                    .collect();
                QueueReport { queue: q.name.clone(), agents: agents.len(), occupancy, channels }
            })
            .collect();
        let used: Vec<Channel> = self.scenario.arrivals.iter().map(|(c, _)| *c).collect();
        Report {
            start: self.scenario.start.strftime("%Y-%m-%d %H:%M %Q").to_string(),
            hours: self.scenario.hours,
            seed: self.scenario.seed,
            agents: self.scenario.agents.len(),
            queues,
            channels: self.channels.iter().filter(|c| used.contains(&c.channel)).cloned().collect(),
            waypoints: self.waypoints.clone(),
            errors: self.errors.clone(),
            outbound_calls: self.outbound_calls,
            outbound_answered: self.outbound_answered,
        }
    }
}

/// An engine call the simulated people make that the engine refuses is a bug in the
/// simulator or the engine: the run stops and says which.
fn refused(what: &str, contact: u64, why: switchboard_engine::EngineError) -> String {
    format!("the engine refused to {what} contact {} in the simulation: {why}", engine_id(contact))
}

/// The routing engine's name for the engine's contact `id` (`ContactId`'s display).
fn engine_id(contact: u64) -> String {
    ContactId(contact).to_string()
}

#[cfg(test)]
mod tests;
