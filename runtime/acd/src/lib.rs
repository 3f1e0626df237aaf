//! The routing engine (ACD): which waiting contact goes to which agent, as a pure data
//! structure.
//!
//! **Architecture Invariant:** the engine reads no clock, does no I/O and spawns nothing.
//! Every call takes `now` (milliseconds on whatever clock the caller keeps) and returns the
//! events it caused. The engine that runs flows drives it with the wall clock; a
//! discrete-event simulator drives it with a virtual one, calling `tick` at `next_deadline`.
//!
//! **Architecture Invariant:** results never depend on hash order. State lives in `Vec`s
//! indexed by number and in `BTreeMap`s; ties are broken by explicit rules, so the same
//! calls give the same events. All state is `Serialize`/`Deserialize` (JSON included).
//!
//! # Model
//!
//! - **Agents** have skills (proficiency 1–10, 5 when not given), languages, a capacity per
//!   channel ([`Capacity`]: by default one contact per channel, voice exclusive), and a
//!   presence: offline, available or away. Busy and wrap-up are derived from the work they
//!   hold ([`AgentState`]). Agents start offline.
//! - **Queues** ([`QueueSpec`]) need skills and give each channel a priority bucket, a
//!   service-level target, and optionally `overflow after D to Q` and a wrap-up time.
//! - **Contacts** ([`Arrival`]) wait in one queue on one channel, with an optional language,
//!   a priority boost, a VIP flag, `prefer agent X for D`, and `require skill s`.
//!
//! # Queue order
//!
//! ```text
//! score(contact, now) = bucket(queue, channel) + boost + (now − enqueued_at) / aging(channel)
//! ```
//!
//! VIP contacts come before every non-VIP; within each tier the higher score goes first;
//! ties go to the earlier `enqueued_at`, then to the earlier arrival. `aging` is
//! [`Config::aging_ms`]: one point per 10 s waited on voice and chat, per minute on SMS and
//! social, per 10 minutes on email. Aging has no cap, so every contact's score overtakes any
//! newcomer's in time and nothing starves (VIPs aside, which come first by definition).
//! Aging is continuous (fractional points), which makes the order of two contacts on one
//! channel fixed from the moment they queue: lines stay sorted without re-sorting (see
//! `score`). `enqueued_at` is kept through overflow, rejects, missed offers and callbacks.
//!
//! # Matching
//!
//! - **A contact arrives or returns**: among agents who can take it now — skills ⊇ queue
//!   skills ∪ required skills, the contact's language (if it has one) among theirs, a free
//!   slot on its channel, not skipped for it — the highest proficiency (summed over the
//!   skills it needs) wins, then the longest idle (idle since they last became available,
//!   received work or finished work), then the agent added first.
//! - **An agent frees up** (becomes available, finishes a contact, ends wrap-up, is
//!   rejected-from): they take the best waiting contact, by the queue order above, that they
//!   may take, across every queue and channel they have skills and free slots for — and
//!   repeat while slots remain (a chat agent fills up to their chat capacity).
//! - **Offers** ring for [`Config::offer_timeout_ms`]. A reject or a missed offer puts the
//!   contact back in its place (its rank is unchanged) and skips that agent for that
//!   contact for [`Config::skip_after_reject_ms`]; a missed offer also makes the agent away
//!   ([`Config::away_on_missed_offer`]), withdrawing their other ringing offers.
//! - **`prefer agent X for D`**: the contact is offered only to X while the window is open
//!   and X is logged in and could ever take it (skills, language, capacity); else, after D,
//!   when X logs out, or when X rejects or misses it, it goes to anyone. X takes contacts
//!   kept for them before any other.
//! - **Callbacks** (`offer callback keep place`, [`Acd::keep_place`]): the customer leaves,
//!   the contact becomes a placeholder with the same place; when an agent is found the event
//!   is [`Event::CallbackDue`]: call the customer for that agent. A caller who took the
//!   offer in a flow, before queuing, arrives as the placeholder ([`Arrival::callback`]).
//! - **Overflow** moves a contact that has waited D in its queue (counted from when it
//!   entered that queue) to Q, keeping its original `enqueued_at`.
//! - **Wrap-up** after `finish` holds the contact's slot for the agent's wrap-up time, else
//!   the queue's, else [`Config::wrap_up_ms`].
//! - **Blending**: outbound work ([`OutboundWork`]) goes to an agent with free capacity when
//!   no inbound contact can go to them, or first when fewer than [`Config::blend_below`]
//!   inbound contacts wait for them.
//!
//! # Speed
//!
//! Skills and languages are `u64` bit sets. Waiting contacts sit in groups — one per queue,
//! channel, language and set of extra skills — each an ordered tree whose head every agent
//! who may take any of it would take first; each agent keeps the list of groups they may
//! serve. An agent freeing up compares the heads of their groups (dozens, not thousands of
//! contacts). A contact arriving ANDs, 64 agents to a word, the set of agents free on its
//! channel with the sets of agents having each skill it needs and its language (`roster`),
//! and weighs only the agents left. With 10,000 waiting contacts and 1,000 agents over 20
//! skills either decision takes about 1–2 µs (`benches/acd.rs`).
//!
//! # Queries
//!
//! Position, expected wait, queue lengths, statistics ([`ChannelStats`]: service level is
//! answered-within-target / (answered + abandoned-after-target)) and occupancy (busy time /
//! staffed time): see `queries`.

mod agent;
mod config;
mod event;
mod ids;
pub mod keyed;
mod line;
mod offers;
mod persist;
mod placement;
mod presence;
mod queries;
mod roster;
mod routing;
mod score;
mod stats;
mod timers;
mod waiting;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_random;

pub use agent::AgentState;
pub use config::{AgentSpec, Arrival, Capacity, Config, OutboundWork, Overflow, Prefer, QueueSpec, Target};
pub use event::{AcdError, AwayReason, Event, Withdrawal};
pub use ids::{AgentId, ContactId, OfferId, QueueName};
pub use queries::{ContactState, WaitingNow};
pub use stats::ChannelStats;

use agent::Agent;
use ids::{SkillSet, Vocabulary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchboard_bytecode::types::Channel;
use timers::{Timer, TimerKey, Timers};
use waiting::{Contact, Group, GroupKey, Kind, Slab, Status};

/// The routing engine. See the module documentation for the rules it follows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Acd {
    config: Config,
    vocabulary: Vocabulary,
    queues: Vec<Queue>,
    queue_index: BTreeMap<QueueName, u16>,
    agents: Vec<Agent>,
    agent_index: BTreeMap<AgentId, u32>,
    roster: roster::Roster,
    contacts: Slab,
    /// Looked up on every call about a contact: hashed, never iterated.
    #[serde(with = "keyed::sorted")]
    contact_index: std::collections::HashMap<ContactId, u32, keyed::ByText>,
    groups: Vec<Group>,
    #[serde(with = "persist")]
    group_index: BTreeMap<GroupKey, u32>,
    /// Outbound work not handed out yet, per queue and channel (`queue * 5 + channel`), in
    /// the order it was added.
    #[serde(with = "persist")]
    outbound: BTreeMap<u32, BTreeMap<u64, u32>>,
    outbound_waiting: usize,
    #[serde(with = "persist")]
    offers: BTreeMap<u64, Offer>,
    timers: Timers,
    stats: Vec<[ChannelStats; 5]>,
    /// Waiting inbound contacts per queue and channel.
    waiting_count: Vec<[u32; 5]>,
    next_seq: u64,
    next_offer: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Queue {
    name: QueueName,
    skills: SkillSet,
    priority: [i32; 5],
    /// After how long, to which queue.
    overflow: Option<(i64, u16)>,
    wrap_up_ms: Option<i64>,
}

/// An offer ringing at an agent.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Offer {
    slot: u32,
    agent: u32,
    timer: TimerKey,
}

impl Acd {
    /// An engine for a project's `skills` line and `queue` declarations, with no agents and
    /// no contacts.
    pub fn new<S: AsRef<str>>(config: Config, skills: &[S], queues: &[QueueSpec]) -> Result<Acd, AcdError> {
        if config.offer_timeout_ms <= 0 {
            return Err(AcdError::InvalidValue("the offer timeout must be positive".to_string()));
        }
        if config.aging_ms.iter().any(|&aging| aging <= 0) {
            return Err(AcdError::InvalidValue("aging must be positive on every channel".to_string()));
        }
        let vocabulary = Vocabulary::new(skills)?;
        let mut queue_index = BTreeMap::new();
        for (number, spec) in queues.iter().enumerate() {
            if queue_index.insert(QueueName::from(spec.name.as_str()), number as u16).is_some() {
                return Err(AcdError::DuplicateQueue(spec.name.clone()));
            }
        }
        let built =
            queues.iter().map(|spec| build_queue(spec, &queue_index, &vocabulary)).collect::<Result<Vec<_>, _>>()?;
        let stats = queues.iter().map(|spec| spec.targets.map(ChannelStats::new)).collect();
        let outbound = BTreeMap::new();
        let roster = roster::Roster::new(vocabulary.skill_count());
        Ok(Acd {
            config,
            vocabulary,
            waiting_count: vec![[0; 5]; built.len()],
            queues: built,
            queue_index,
            agents: Vec::new(),
            agent_index: BTreeMap::new(),
            roster,
            contacts: Slab::default(),
            contact_index: Default::default(),
            groups: Vec::new(),
            group_index: BTreeMap::new(),
            outbound,
            outbound_waiting: 0,
            offers: BTreeMap::new(),
            timers: Timers::default(),
            stats,
            next_seq: 0,
            next_offer: 0,
        })
    }

    /// Takes on a newly deployed project's skills and queues. Skills and queues routing has
    /// not seen are added (agents have none of the new skills until they log in again with
    /// them); the queues it has keep their settings and their waiting contacts, so that
    /// nothing already placed changes under it. The whole extension is checked before
    /// anything changes.
    pub fn extend<S: AsRef<str>>(&mut self, skills: &[S], queues: &[QueueSpec]) -> Result<(), AcdError> {
        let mut vocabulary = self.vocabulary.clone();
        vocabulary.add_skills(skills)?;
        let mut index = self.queue_index.clone();
        let mut added = Vec::new();
        for spec in queues {
            let name = QueueName::from(spec.name.as_str());
            if !index.contains_key(&name) {
                if index.len() >= u16::MAX as usize {
                    return Err(AcdError::InvalidValue("too many queues".to_string()));
                }
                index.insert(name, index.len() as u16);
                added.push(spec);
            }
        }
        let built = added.iter().map(|spec| build_queue(spec, &index, &vocabulary)).collect::<Result<Vec<_>, _>>()?;
        self.roster.grow_skills(vocabulary.skill_count());
        self.vocabulary = vocabulary;
        self.queue_index = index;
        for (queue, spec) in built.into_iter().zip(added) {
            self.queues.push(queue);
            self.stats.push(spec.targets.map(ChannelStats::new));
            self.waiting_count.push([0; 5]);
        }
        Ok(())
    }

    /// A contact handed over by a flow's `queue` statement: offered at once to the best agent
    /// who can take it, or left waiting in its place.
    pub fn arrive(&mut self, arrival: &Arrival, now: i64) -> Result<Vec<Event>, AcdError> {
        if self.contact_index.contains_key(arrival.id.as_str()) {
            return Err(AcdError::DuplicateContact(arrival.id.as_str().to_string()));
        }
        let queue = self.queue_number(arrival.queue)?;
        let extra = self.vocabulary.skills(&arrival.require)?;
        let prefer = match &arrival.prefer {
            None => None,
            Some(prefer) if prefer.for_ms < 0 => {
                return Err(AcdError::InvalidValue("a prefer window cannot be negative".to_string()))
            }
            Some(prefer) => Some((self.agent_number(&prefer.agent)?, prefer.for_ms)),
        };
        let language = arrival.language.map(|language| self.vocabulary.language(language)).transpose()?;

        let channel = arrival.channel;
        let kind = match arrival.callback {
            None => Kind::Live,
            Some(_) if channel != Channel::Voice => {
                return Err(AcdError::InvalidValue(format!(
                    "`{}` is not a call: callbacks are offered on voice",
                    arrival.id.as_str()
                )))
            }
            Some(customer) if arrival.dialled => Kind::Dialled { customer: customer.to_string() },
            Some(customer) => Kind::Callback { customer: customer.to_string() },
        };
        let counted = !matches!(kind, Kind::Dialled { .. });
        let needs = self.queues[queue as usize].skills.union(extra);
        let prefer = prefer
            .filter(|&(agent, for_ms)| {
                let agent = &self.agents[agent as usize];
                for_ms > 0
                    && agent.presence != agent::Presence::Offline
                    && agent.capacity[channel as usize] > 0
                    && agent.can_serve(needs, language)
            })
            .map(|(agent, for_ms)| waiting::Prefer { agent, until: now.saturating_add(for_ms) });
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = arrival.id.clone();
        let slot = self.contacts.insert(Contact {
            id: id.clone(),
            seq,
            queue,
            channel,
            language,
            boost: arrival.boost,
            vip: arrival.vip,
            extra,
            prefer,
            enqueued_at: now,
            queued_here_at: now,
            kind,
            status: Status::Moving,
            rank: score::Rank::new(arrival.vip, now, 0, 1, seq),
            skipped: Vec::new(),
            overflow_timer: None,
            prefer_timer: None,
        });
        self.contact_index.insert(id, slot);
        if counted {
            self.stats[queue as usize][channel as usize].offered += 1;
        }
        self.arm_overflow(slot, now);
        if let Some(prefer) = prefer {
            let timer = self.timers.set(prefer.until, Timer::PreferEnds { slot, seq });
            self.contact_mut(slot).prefer_timer = Some(timer);
        }
        self.attach(slot, now);
        let mut events = Vec::new();
        self.route_contact(slot, now, &mut events);
        Ok(events)
    }

    /// `offer callback keep place`: the caller leaves and the call becomes a placeholder that
    /// keeps their place; when it reaches an agent the event is `CallbackDue`. Voice only.
    pub fn keep_place(&mut self, contact: &str, customer: &str, _now: i64) -> Result<Vec<Event>, AcdError> {
        let slot = self.slot_of(contact)?;
        let found = self.contact_mut(slot);
        if !found.is_waiting() || found.kind != Kind::Live {
            return Err(AcdError::NotWaiting(contact.to_string()));
        }
        if found.channel != Channel::Voice {
            return Err(AcdError::InvalidValue(format!("`{contact}` is not a call: callbacks are offered on voice")));
        }
        found.kind = Kind::Callback { customer: customer.to_string() };
        Ok(Vec::new())
    }

    /// The agent is done with a contact: its slot is held for wrap-up, or freed at once, and
    /// the agent takes their next contact.
    pub fn finish(&mut self, contact: &str, now: i64) -> Result<Vec<Event>, AcdError> {
        let slot = self.slot_of(contact)?;
        let found = self.contact(slot);
        let Status::InProgress { agent, since } = found.status else {
            return Err(AcdError::NotInProgress(contact.to_string()));
        };
        let outbound = matches!(found.kind, Kind::Outbound { .. } | Kind::Dialled { .. });
        let (queue, channel) = (found.queue, found.channel);
        let wrap_up_ms = self.agents[agent as usize]
            .wrap_up_ms
            .or(self.queues[queue as usize].wrap_up_ms)
            .unwrap_or(self.config.wrap_up_ms)
            .max(0);
        let worker = &mut self.agents[agent as usize];
        worker.account(now);
        worker.handling -= 1;
        worker.live[channel as usize] -= 1;
        if wrap_up_ms > 0 {
            let until = now.saturating_add(wrap_up_ms);
            worker.wraps.push(agent::Wrap { channel, until });
            worker.held[channel as usize] += 1;
            self.timers.set(until, Timer::WrapUpEnds { agent });
        } else {
            self.roster.idle_since[agent as usize] = now;
        }
        let stats = &mut self.stats[queue as usize][channel as usize];
        if outbound {
            stats.outbound_handled += 1;
        } else {
            stats.record_handle(now - since + wrap_up_ms, self.config.handle_window);
        }
        self.remove_contact(slot);
        self.refresh(agent);
        let mut events = Vec::new();
        self.route_agent(agent, now, &mut events);
        Ok(events)
    }

    /// The customer hung up (or the callback or outbound work was cancelled) before an agent
    /// took the contact. Counted as abandoned, unless it was outbound work.
    pub fn abandon(&mut self, contact: &str, now: i64) -> Result<Vec<Event>, AcdError> {
        let slot = self.slot_of(contact)?;
        let found = self.contact(slot);
        let mut events = Vec::new();
        let mut freed = None;
        match found.status {
            Status::Waiting { .. } | Status::Preferred { .. } | Status::Outbound { .. } => self.detach(slot),
            Status::Offered { offer, agent } => {
                let id = found.id.clone();
                self.take_offer(offer);
                let agent_id = self.agents[agent as usize].id.clone();
                events.push(Event::OfferWithdrawn {
                    offer: OfferId(offer),
                    contact: id,
                    agent: agent_id,
                    reason: Withdrawal::Abandoned,
                });
                freed = Some(agent);
            }
            Status::InProgress { .. } | Status::Moving => return Err(AcdError::NotWaiting(contact.to_string())),
        }
        let removed = self.remove_contact(slot);
        if !matches!(removed.kind, Kind::Outbound { .. } | Kind::Dialled { .. }) {
            self.stats[removed.queue as usize][removed.channel as usize].record_abandon(now - removed.enqueued_at);
        }
        if let Some(agent) = freed {
            self.route_agent(agent, now, &mut events);
        }
        Ok(events)
    }

    /// Outbound work for the agents of `queue`: handed at once to an agent who has nothing
    /// inbound to take (or to whom fewer than `blend_below` inbound contacts wait), else kept.
    pub fn add_outbound(&mut self, work: &OutboundWork, now: i64) -> Result<Vec<Event>, AcdError> {
        if self.contact_index.contains_key(work.id.as_str()) {
            return Err(AcdError::DuplicateContact(work.id.clone()));
        }
        let queue = self.queue_number(&work.queue)?;
        let channel = work.channel;
        let seq = self.next_seq;
        self.next_seq += 1;
        let list = queue as u32 * 5 + channel as u32;
        let id = ContactId::from(work.id.as_str());
        let slot = self.contacts.insert(Contact {
            id: id.clone(),
            seq,
            queue,
            channel,
            language: None,
            boost: 0,
            vip: false,
            extra: SkillSet::default(),
            prefer: None,
            enqueued_at: now,
            queued_here_at: now,
            kind: Kind::Outbound { customer: work.customer.clone() },
            status: Status::Outbound { list },
            rank: score::Rank::new(false, now, 0, 1, seq),
            skipped: Vec::new(),
            overflow_timer: None,
            prefer_timer: None,
        });
        self.contact_index.insert(id, slot);
        self.outbound.entry(list).or_default().insert(seq, slot);
        self.outbound_waiting += 1;

        let needs = self.queues[queue as usize].skills;
        let mut idle: Vec<u32> = self.roster.candidates(channel, needs, None).collect();
        idle.sort_by_key(|&agent| (self.roster.idle_since[agent as usize], agent));
        let mut events = Vec::new();
        for agent in idle {
            if !matches!(self.contact(slot).status, Status::Outbound { .. }) {
                break;
            }
            self.route_agent(agent, now, &mut events);
        }
        Ok(events)
    }

    /// Fires every time-based change due at or before `now`, in the order they fell due:
    /// offer timeouts, wrap-up ends, prefer windows closing, overflows, skips ending.
    pub fn tick(&mut self, now: i64) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::OfferTimeout { offer } => self.offer_timed_out(offer, now, &mut events),
                Timer::WrapUpEnds { agent } => self.end_wrap_up(agent, now, &mut events),
                Timer::PreferEnds { slot, seq } => self.prefer_ends(slot, seq, now, &mut events),
                Timer::Overflow { slot, seq } => self.overflow_due(slot, seq, now, &mut events),
                Timer::SkipEnds { agent } => self.route_agent(agent, now, &mut events),
            }
        }
        events
    }

    /// When `tick` next has something to do; a simulator advances its clock to here.
    pub fn next_deadline(&self) -> Option<i64> {
        self.timers.next_deadline()
    }

    fn queue_number(&self, name: &str) -> Result<u16, AcdError> {
        self.queue_index.get(name).copied().ok_or_else(|| AcdError::UnknownQueue(name.to_string()))
    }

    fn agent_number(&self, id: &str) -> Result<u32, AcdError> {
        self.agent_index.get(id).copied().ok_or_else(|| AcdError::UnknownAgent(id.to_string()))
    }

    fn slot_of(&self, id: &str) -> Result<u32, AcdError> {
        self.contact_index.get(id).copied().ok_or_else(|| AcdError::UnknownContact(id.to_string()))
    }

    fn contact(&self, slot: u32) -> &Contact {
        self.contacts.get(slot).expect("a slot the engine holds names a contact")
    }

    fn contact_mut(&mut self, slot: u32) -> &mut Contact {
        self.contacts.get_mut(slot).expect("a slot the engine holds names a contact")
    }

    /// How fast a channel ages: ms per point.
    fn aging(&self, channel: Channel) -> i64 {
        self.config.aging_ms[channel as usize]
    }
}

/// A queue as routing keeps it, from its spec (`index` names every queue, for overflow).
fn build_queue(spec: &QueueSpec, index: &BTreeMap<QueueName, u16>, vocabulary: &Vocabulary) -> Result<Queue, AcdError> {
    if let Some(target) = spec.targets.iter().flatten().find(|target| target.percent > 100) {
        return Err(AcdError::InvalidValue(format!("target {}% is over 100%", target.percent)));
    }
    let overflow = match &spec.overflow {
        None => None,
        Some(overflow) => {
            let to = *index.get(overflow.to.as_str()).ok_or(AcdError::UnknownQueue(overflow.to.clone()))?;
            if overflow.after_ms <= 0 || overflow.to == spec.name {
                return Err(AcdError::InvalidValue(format!(
                    "queue `{}` must overflow after a positive time to another queue",
                    spec.name
                )));
            }
            Some((overflow.after_ms, to))
        }
    };
    Ok(Queue {
        name: QueueName::from(spec.name.as_str()),
        skills: vocabulary.skills(&spec.skills)?,
        priority: spec.priority,
        overflow,
        wrap_up_ms: spec.wrap_up_ms,
    })
}
