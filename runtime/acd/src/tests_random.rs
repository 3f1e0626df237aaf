//! Randomised tests with a seeded PRNG: invariants that hold whatever happens, determinism
//! and persistence, and a naive reference evaluator that indexed routing must agree with.

use super::*;
use std::collections::{BTreeMap, BTreeSet};
use switchboard_bytecode::types::Channel::{Chat, Email, Voice};

const S: i64 = 1_000;
const SKILLS: [&str; 6] = ["s0", "s1", "s2", "s3", "s4", "s5"];

fn pick<'a, T>(rng: &mut fastrand::Rng, items: impl IntoIterator<Item = &'a T>) -> Option<&'a T> {
    let items: Vec<&T> = items.into_iter().collect();
    (!items.is_empty()).then(|| items[rng.usize(..items.len())])
}

/// What the test knows from the calls it made and the events it saw.
#[derive(Default)]
struct Ledger {
    open_offers: BTreeMap<OfferId, (String, String, Channel)>,
    in_progress: BTreeMap<String, (String, Channel)>,
    /// Wrap-up slots: agent, channel, until.
    held: Vec<(String, Channel, i64)>,
    arrived: BTreeSet<String>,
    outbound: BTreeSet<String>,
    answered: BTreeSet<String>,
    abandoned: BTreeSet<String>,
}

impl Ledger {
    fn record(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::Offered { offer, contact, agent, channel, .. } => {
                    self.assert_free(contact.as_str());
                    self.open_offers.insert(*offer, (contact.to_string(), agent.to_string(), *channel));
                }
                Event::CallbackDue { offer, contact, agent, .. } => {
                    self.assert_free(contact.as_str());
                    self.open_offers.insert(*offer, (contact.to_string(), agent.to_string(), Voice));
                }
                Event::OutboundAssigned { contact, agent, channel, .. } => {
                    self.assert_free(contact.as_str());
                    self.in_progress.insert(contact.to_string(), (agent.to_string(), *channel));
                }
                Event::OfferTimedOut { offer, .. } | Event::OfferWithdrawn { offer, .. } => {
                    assert!(self.open_offers.remove(offer).is_some(), "{offer} closed twice");
                }
                _ => {}
            }
        }
    }

    /// No contact is offered to two agents, nor offered while in progress.
    fn assert_free(&self, contact: &str) {
        assert!(!self.open_offers.values().any(|(open, ..)| open == contact), "`{contact}` offered twice");
        assert!(!self.in_progress.contains_key(contact), "`{contact}` offered while in progress");
    }
}

struct World {
    acd: Acd,
    rng: fastrand::Rng,
    now: i64,
    ledger: Ledger,
    agents: Vec<AgentSpec>,
    queues: Vec<QueueSpec>,
    next_id: usize,
    log: Vec<Event>,
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = fastrand::Rng::with_seed(seed);
        let queues = vec![
            QueueSpec::new("q0").skill("s0").priority(Voice, 5).overflow(90 * S, "q1").target(Voice, 80, 20 * S),
            QueueSpec::new("q1").skill("s1").priority(Chat, 3).wrap_up(5 * S),
            QueueSpec::new("q2").skill("s0").skill("s2").priority(Email, 2),
        ];
        let config =
            Config { offer_timeout_ms: 12 * S, skip_after_reject_ms: 20 * S, blend_below: 2, ..Config::default() };
        let mut acd = Acd::new(config, &SKILLS, &queues).unwrap();
        let mut agents = Vec::new();
        for n in 0..8 {
            let mut spec = AgentSpec::new(&format!("a{n}"), "agent").language("en");
            for skill in SKILLS {
                if rng.u8(..3) == 0 {
                    spec = spec.skill_at(skill, rng.u8(1..=10));
                }
            }
            if rng.bool() {
                spec = spec.language("es");
            }
            if rng.u8(..3) == 0 {
                spec = spec.capacity(Capacity::none().with(Chat, rng.u8(1..4)).with(Email, rng.u8(0..3)));
            }
            if rng.u8(..4) == 0 {
                spec = spec.wrap_up(rng.i64(0..8) * S);
            }
            acd.add_agent(&spec, 0).unwrap();
            agents.push(spec);
        }
        World { acd, rng, now: 0, ledger: Ledger::default(), agents, queues, next_id: 0, log: Vec::new() }
    }

    fn wrap_up_ms(&self, agent: &str, queue: &str) -> i64 {
        let spec = self.agents.iter().find(|spec| spec.id == agent).unwrap();
        let queue = self.queues.iter().find(|spec| spec.name == queue).unwrap();
        spec.wrap_up_ms.or(queue.wrap_up_ms).unwrap_or(0)
    }

    fn apply(&mut self, events: Vec<Event>) {
        self.ledger.record(&events);
        self.log.extend(events);
        self.check_capacity();
    }

    /// One random step: time passes, then one call.
    fn step(&mut self) {
        self.now += self.rng.i64(0..6) * S;
        let events = self.acd.tick(self.now);
        self.ledger.held.retain(|&(_, _, until)| until > self.now);
        self.apply(events);
        let now = self.now;
        let roll = self.rng.u8(..100);
        let events = match roll {
            0..30 => self.arrive(),
            30..48 => self.accept(),
            48..52 => self.reject(),
            52..68 => self.finish(),
            68..74 => self.abandon(),
            74..76 => self.keep_place(),
            76..84 => {
                let agent = pick(&mut self.rng, &self.agents).unwrap().id.clone();
                self.acd.set_available(&agent, now).unwrap()
            }
            84..87 => {
                let agent = pick(&mut self.rng, &self.agents).unwrap().id.clone();
                self.acd.set_away(&agent, now).unwrap()
            }
            87..88 => {
                let agent = pick(&mut self.rng, &self.agents).unwrap().id.clone();
                self.acd.log_out(&agent, now).unwrap()
            }
            _ => self.add_outbound(),
        };
        self.apply(events);
    }

    fn arrive(&mut self) -> Vec<Event> {
        self.next_id += 1;
        let id = format!("c{}", self.next_id);
        let queue = pick(&mut self.rng, &["q0", "q1", "q2"]).unwrap();
        let channel = *pick(&mut self.rng, &[Voice, Voice, Chat, Email]).unwrap();
        let mut arrival = Arrival::new(&id, queue, channel);
        match self.rng.u8(..10) {
            0 => arrival = arrival.language("es"),
            1 => arrival = arrival.language("en"),
            _ => {}
        }
        if self.rng.u8(..10) == 0 {
            arrival = arrival.boost(self.rng.i32(-2..6));
        }
        if self.rng.u8(..30) == 0 {
            arrival = arrival.vip();
        }
        if self.rng.u8(..20) == 0 {
            let agent = pick(&mut self.rng, &self.agents).unwrap().id.clone();
            arrival = arrival.prefer(&agent, 30 * S);
        }
        if self.rng.u8(..20) == 0 {
            arrival = arrival.require("s3");
        }
        self.ledger.arrived.insert(id);
        self.acd.arrive(&arrival, self.now).unwrap()
    }

    fn accept(&mut self) -> Vec<Event> {
        let Some(&offer) = pick(&mut self.rng, self.ledger.open_offers.keys()) else { return Vec::new() };
        let events = self.acd.accept(offer, self.now).unwrap();
        let (contact, agent, channel) = self.ledger.open_offers.remove(&offer).unwrap();
        self.ledger.answered.insert(contact.clone());
        self.ledger.in_progress.insert(contact, (agent, channel));
        events
    }

    fn reject(&mut self) -> Vec<Event> {
        let Some(&offer) = pick(&mut self.rng, self.ledger.open_offers.keys()) else { return Vec::new() };
        self.ledger.open_offers.remove(&offer);
        self.acd.reject(offer, self.now).unwrap()
    }

    fn finish(&mut self) -> Vec<Event> {
        let Some(contact) = pick(&mut self.rng, self.ledger.in_progress.keys()).cloned() else { return Vec::new() };
        let (agent, channel) = self.ledger.in_progress.remove(&contact).unwrap();
        let queue = self.queue_of(&contact);
        let wrap_up_ms = self.wrap_up_ms(&agent, &queue);
        if wrap_up_ms > 0 {
            self.ledger.held.push((agent, channel, self.now + wrap_up_ms));
        }
        self.acd.finish(&contact, self.now).unwrap()
    }

    /// The queue a contact ends in: the one it was last offered or assigned from.
    fn queue_of(&self, contact: &str) -> String {
        let queue = self.log.iter().rev().find_map(|event| match event {
            Event::Offered { contact: id, queue, .. }
            | Event::CallbackDue { contact: id, queue, .. }
            | Event::OutboundAssigned { contact: id, queue, .. }
                if id.as_str() == contact =>
            {
                Some(queue.to_string())
            }
            _ => None,
        });
        queue.expect("a contact in progress was offered or assigned")
    }

    fn abandon(&mut self) -> Vec<Event> {
        let candidates: Vec<String> = self
            .ledger
            .arrived
            .iter()
            .filter(|id| {
                matches!(self.acd.contact_state(id), Some(ContactState::Waiting | ContactState::Offered { .. }))
            })
            .cloned()
            .collect();
        let Some(contact) = pick(&mut self.rng, &candidates).cloned() else { return Vec::new() };
        self.ledger.abandoned.insert(contact.clone());
        self.acd.abandon(&contact, self.now).unwrap()
    }

    fn keep_place(&mut self) -> Vec<Event> {
        let waiting: Vec<String> = self
            .ledger
            .arrived
            .iter()
            .filter(|id| self.acd.contact_state(id) == Some(ContactState::Waiting))
            .cloned()
            .collect();
        let Some(contact) = pick(&mut self.rng, &waiting).cloned() else { return Vec::new() };
        // A contact already a placeholder refuses; either answer is fine here.
        self.acd.keep_place(&contact, "+447700900000", self.now).unwrap_or_default()
    }

    fn add_outbound(&mut self) -> Vec<Event> {
        self.next_id += 1;
        let id = format!("o{}", self.next_id);
        let queue = pick(&mut self.rng, &["q0", "q1"]).unwrap();
        self.ledger.outbound.insert(id.clone());
        self.acd.add_outbound(&OutboundWork::new(&id, queue, Voice, "+15550000"), self.now).unwrap()
    }

    /// Capacity is never exceeded: offers, work in progress and wrap-up together fit every
    /// agent's capacity per channel, and voice (exclusive) is never shared.
    fn check_capacity(&self) {
        for spec in &self.agents {
            let mut load = [0u8; 5];
            let ledger = &self.ledger;
            let offers = ledger.open_offers.values().map(|(_, agent, channel)| (agent, *channel));
            let work = ledger.in_progress.values().map(|(agent, channel)| (agent, *channel));
            let held = ledger.held.iter().map(|(agent, channel, _)| (agent, *channel));
            for (_, channel) in offers.chain(work).chain(held).filter(|(agent, _)| **agent == spec.id) {
                load[channel as usize] += 1;
            }
            for channel in Channel::ALL {
                assert!(
                    load[channel as usize] <= spec.capacity.per_channel[channel as usize],
                    "{} over capacity",
                    spec.id
                );
            }
            let total: u8 = load.iter().sum();
            assert!(load[Voice as usize] == 0 || total == 1, "{} shares a call with other work", spec.id);
        }
    }

    /// Every contact is answered, abandoned or still waiting (or ringing); the statistics
    /// agree with the ledger.
    fn check_accounts(&self) {
        let mut waiting = 0;
        for contact in &self.ledger.arrived {
            let state = self.acd.contact_state(contact);
            let answered = self.ledger.answered.contains(contact);
            let abandoned = self.ledger.abandoned.contains(contact);
            let open = matches!(state, Some(ContactState::Waiting | ContactState::Offered { .. }));
            assert_eq!([answered, abandoned, open].iter().filter(|&&yes| yes).count(), 1, "`{contact}`: {state:?}");
            if state == Some(ContactState::Waiting) {
                waiting += 1;
            }
        }
        let (mut offered, mut overflowed, mut answered, mut abandoned, mut length) = (0, 0, 0, 0, 0);
        for queue in ["q0", "q1", "q2"] {
            for channel in Channel::ALL {
                let stats = self.acd.stats(queue, channel).unwrap();
                offered += stats.offered;
                overflowed += stats.overflowed_out;
                answered += stats.answered;
                abandoned += stats.abandoned;
            }
            length += self.acd.queue_length(queue, None).unwrap();
        }
        assert_eq!(offered - overflowed, self.ledger.arrived.len() as u64);
        assert_eq!(answered, self.ledger.answered.len() as u64);
        assert_eq!(abandoned, self.ledger.abandoned.len() as u64);
        assert_eq!(length, waiting);
        let pending =
            self.ledger.outbound.iter().filter(|id| self.acd.contact_state(id) == Some(ContactState::OutboundPending));
        assert_eq!(pending.count(), self.acd.outbound_waiting());
    }
}

#[test]
fn random_traffic_keeps_the_invariants() {
    for seed in 0..40 {
        let mut world = World::new(seed);
        for _ in 0..600 {
            world.step();
            world.check_accounts();
        }
        assert!(!world.ledger.answered.is_empty(), "seed {seed}: nothing was ever answered");
    }
}

#[test]
fn the_same_calls_give_the_same_events_and_a_restored_engine_carries_on_alike() {
    for seed in [3, 17, 99] {
        let mut first = World::new(seed);
        let mut second = World::new(seed);
        for _ in 0..300 {
            first.step();
            second.step();
        }
        assert_eq!(first.log, second.log);
        // Persist one half-way and swap the restored engine in: nothing changes.
        let json = serde_json::to_string(&second.acd).unwrap();
        second.acd = serde_json::from_str(&json).unwrap();
        for _ in 0..300 {
            first.step();
            second.step();
        }
        assert_eq!(first.log, second.log);
    }
}

/// The reference evaluator: voice-only agents with one call each, no wrap-up, no prefer and
/// no rejects, so that "free" and "eligible" are plain to see from outside. Every offer the
/// engine makes must be the one a linear scan by the documented rules picks, and no
/// contact may wait while a free agent could take it.
#[test]
fn routing_agrees_with_a_naive_scan() {
    #[derive(Clone)]
    struct Waiting {
        id: String,
        needs: BTreeSet<String>,
        language: Option<String>,
        vip: bool,
        points: i64,
        enqueued_at: i64,
        seq: usize,
    }
    struct Staff {
        spec: AgentSpec,
        busy: Option<String>,
        idle_since: i64,
    }
    fn can_serve(staff: &Staff, contact: &Waiting) -> bool {
        let skills: BTreeSet<&str> = staff.spec.skills.iter().map(|(skill, _)| skill.as_str()).collect();
        contact.needs.iter().all(|skill| skills.contains(skill.as_str()))
            && contact.language.as_ref().is_none_or(|language| staff.spec.languages.contains(language))
    }
    fn proficiency(staff: &Staff, contact: &Waiting) -> u32 {
        let level =
            |skill: &String| staff.spec.skills.iter().find(|(s, _)| s == skill).and_then(|(_, l)| *l).unwrap_or(5);
        contact.needs.iter().map(|skill| level(skill) as u32).sum()
    }
    let aging = Config::default().aging_ms[Voice as usize];
    // Higher is served first: VIP, then score (in units of 1/aging points), then earlier arrival.
    let order = |contact: &Waiting, now: i64| {
        (contact.vip, contact.points * aging + (now - contact.enqueued_at), -contact.enqueued_at, -(contact.seq as i64))
    };

    for seed in 0..30u64 {
        let mut rng = fastrand::Rng::with_seed(1_000 + seed);
        let mut queues = Vec::new();
        for n in 0..4 {
            let mut queue = QueueSpec::new(&format!("q{n}")).priority(Voice, rng.i32(0..10));
            for skill in SKILLS {
                if rng.u8(..4) == 0 {
                    queue = queue.skill(skill);
                }
            }
            queues.push(queue);
        }
        let config = Config { offer_timeout_ms: i64::MAX / 4, ..Config::default() };
        let mut acd = Acd::new(config, &SKILLS, &queues).unwrap();
        let mut staff = Vec::new();
        for n in 0..12 {
            let mut spec =
                AgentSpec::new(&format!("a{n}"), "agent").capacity(Capacity::none().with(Voice, 1)).language("en");
            for skill in SKILLS {
                if rng.bool() {
                    spec = spec.skill_at(skill, rng.u8(1..=10));
                }
            }
            if rng.u8(..3) == 0 {
                spec = spec.language("es");
            }
            acd.add_agent(&spec, 0).unwrap();
            staff.push(Staff { spec, busy: None, idle_since: 0 });
        }
        let mut waiting: Vec<Waiting> = Vec::new();
        let mut now = 0;
        let mut seq = 0;
        let mut available = 0;

        for _ in 0..800 {
            now += rng.i64(0..4) * S;
            let (events, freed) = match rng.u8(..10) {
                0..5 => {
                    seq += 1;
                    let queue = &queues[rng.usize(..queues.len())];
                    let mut arrival = Arrival::new(format!("c{seq}"), &queue.name, Voice);
                    let mut contact = Waiting {
                        id: arrival.id.as_str().to_string(),
                        needs: queue.skills.iter().cloned().collect(),
                        language: None,
                        vip: false,
                        points: queue.priority[Voice as usize] as i64,
                        enqueued_at: now,
                        seq,
                    };
                    if rng.u8(..4) == 0 {
                        arrival = arrival.language("es");
                        contact.language = Some("es".to_string());
                    }
                    if rng.u8(..6) == 0 {
                        let boost = rng.i32(-3..8);
                        arrival = arrival.boost(boost);
                        contact.points += boost as i64;
                    }
                    if rng.u8(..25) == 0 {
                        arrival = arrival.vip();
                        contact.vip = true;
                    }
                    if rng.u8(..8) == 0 {
                        arrival = arrival.require("s5");
                        contact.needs.insert("s5".to_string());
                    }
                    waiting.push(contact);
                    (acd.arrive(&arrival, now).unwrap(), None)
                }
                5..8 => {
                    let busy: Vec<usize> = (0..staff.len()).filter(|&n| staff[n].busy.is_some()).collect();
                    match pick(&mut rng, &busy).copied() {
                        Some(n) => {
                            let contact = staff[n].busy.take().unwrap();
                            staff[n].idle_since = now;
                            (acd.finish(&contact, now).unwrap(), Some(n))
                        }
                        None => (Vec::new(), None),
                    }
                }
                8 if available < staff.len() => {
                    let n = available;
                    available += 1;
                    staff[n].idle_since = now;
                    (acd.set_available(&staff[n].spec.id, now).unwrap(), Some(n))
                }
                _ => match pick(&mut rng, &waiting).cloned() {
                    Some(contact) => {
                        waiting.retain(|other| other.id != contact.id);
                        (acd.abandon(&contact.id, now).unwrap(), None)
                    }
                    None => (Vec::new(), None),
                },
            };
            for event in events {
                let Event::Offered { offer, contact, agent, .. } = event else { panic!("unexpected {event:?}") };
                let n = staff.iter().position(|s| agent == s.spec.id.as_str()).unwrap();
                let position = waiting.iter().position(|w| contact == w.id.as_str()).unwrap();
                match freed {
                    // An agent freed up: they take the best contact they may.
                    Some(freed) => {
                        assert_eq!(n, freed, "seed {seed}: offer to an agent who did not free up");
                        let best =
                            waiting.iter().filter(|w| can_serve(&staff[n], w)).max_by_key(|w| order(w, now)).unwrap();
                        assert_eq!(contact.as_str(), best.id, "seed {seed}: {agent} took the wrong contact");
                    }
                    // A contact arrived: the best free agent takes it.
                    None => {
                        let contact = &waiting[position];
                        let best = (0..available)
                            .filter(|&m| staff[m].busy.is_none() && can_serve(&staff[m], contact))
                            .max_by_key(|&m| (proficiency(&staff[m], contact), -staff[m].idle_since, -(m as i64)))
                            .unwrap();
                        assert_eq!(n, best, "seed {seed}: {} went to the wrong agent", contact.id);
                    }
                }
                acd.accept(offer, now).unwrap();
                staff[n].busy = Some(contact.to_string());
                staff[n].idle_since = now;
                waiting.remove(position);
            }
            // Work-conserving: nothing waits that a free agent could take.
            for contact in &waiting {
                let free = (0..available).find(|&m| staff[m].busy.is_none() && can_serve(&staff[m], contact));
                assert_eq!(free, None, "seed {seed}: {} waits while an agent is free", contact.id);
            }
        }
    }
}
