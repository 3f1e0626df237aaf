//! Routing decisions with 10,000 waiting contacts and 1,000 agents over 20 skills, beside a
//! naive linear scan over the same data, so the ratio shows in one run:
//!
//! - `agent_frees_up`: an agent finishes a call and takes the best waiting contact they may
//!   (`_cold`: the same on a fresh copy of the engine, caches cold).
//! - `contact_arrives_all_busy`: a contact arrives while 10,000 wait and no agent is free.
//! - `contact_arrives_idle_agents`: a contact arrives and the best of 1,000 idle agents is
//!   chosen (`_cold`: on a fresh copy of the engine).
//!
//! Each `_naive` twin is a plain linear scan over plain structs, with the same rules.
//!
//! `cargo bench -p switchboard-acd --bench acd`

use divan::Bencher;
use std::cell::RefCell;
use std::sync::LazyLock;
use switchboard_acd::{Acd, AgentSpec, Arrival, Capacity, Config, ContactState, Event, QueueSpec};
use switchboard_bytecode::types::Channel;

fn main() {
    divan::main();
}

const SKILLS: usize = 20;
const AGENTS: usize = 1_000;
const WAITING: usize = 10_000;
const SEED: u64 = 20_260_105;

/// A contact as the naive scan sees it.
#[derive(Clone)]
struct Plain {
    needs: u32,
    spanish: bool,
    channel: usize,
    vip: bool,
    points: i64,
    enqueued_at: i64,
}

/// An agent as the naive scan sees it.
#[derive(Clone)]
struct PlainAgent {
    skills: u32,
    proficiency: [u8; SKILLS],
    spanish: bool,
    capacity: [u8; 5],
    load: [u8; 5],
    idle_since: i64,
    available: bool,
}

impl PlainAgent {
    fn can_take(&self, channel: usize) -> bool {
        let total: u8 = self.load.iter().sum();
        let voice = Channel::Voice as usize;
        self.available
            && self.load[channel] < self.capacity[channel]
            && (total == 0 || (channel != voice && self.load[voice] == 0))
    }
}

/// The baseline when an agent frees up: score every waiting contact, keep the best they may take.
fn naive_best_contact(contacts: &[Plain], agent: &PlainAgent, now: i64, aging: &[i64; 5]) -> Option<usize> {
    let mut best: Option<(usize, bool, f64, i64)> = None;
    for (index, contact) in contacts.iter().enumerate() {
        if contact.needs & !agent.skills != 0 || (contact.spanish && !agent.spanish) || !agent.can_take(contact.channel)
        {
            continue;
        }
        let score = contact.points as f64 + (now - contact.enqueued_at) as f64 / aging[contact.channel] as f64;
        let better = match best {
            None => true,
            Some((_, vip, best_score, enqueued_at)) => {
                (contact.vip, score, -contact.enqueued_at) > (vip, best_score, -enqueued_at)
            }
        };
        if better {
            best = Some((index, contact.vip, score, contact.enqueued_at));
        }
    }
    best.map(|(index, ..)| index)
}

/// The baseline when a contact arrives: every agent, the most proficient idle one who may take it.
fn naive_best_agent(agents: &[PlainAgent], contact: &Plain) -> Option<usize> {
    let mut best: Option<(usize, u32, i64)> = None;
    for (index, agent) in agents.iter().enumerate() {
        if contact.needs & !agent.skills != 0 || (contact.spanish && !agent.spanish) || !agent.can_take(contact.channel)
        {
            continue;
        }
        let proficiency: u32 = (0..SKILLS)
            .filter(|skill| contact.needs & 1 << skill != 0)
            .map(|skill| agent.proficiency[skill] as u32)
            .sum();
        if best.is_none_or(|(_, p, idle)| proficiency > p || (proficiency == p && agent.idle_since < idle)) {
            best = Some((index, proficiency, agent.idle_since));
        }
    }
    best.map(|(index, ..)| index)
}

struct Setup {
    acd: Acd,
    now: i64,
    /// Contacts in progress, with their agent and channel.
    in_progress: Vec<(String, usize, usize)>,
    waiting: Vec<Plain>,
    agents: Vec<PlainAgent>,
    queues: Vec<QueueSpec>,
}

/// Random contacts for the queues: 60% calls, 25% chats, 15% emails; 10% Spanish, 10%
/// boosted, 1% VIP, 3% requiring an extra skill.
struct Arrivals {
    rng: fastrand::Rng,
    /// Leaked once per run: arrivals borrow their queue names from them.
    queues: &'static [QueueSpec],
    next: usize,
}

impl Arrivals {
    fn next(&mut self, now: i64) -> (Arrival<'static>, Plain) {
        self.next += 1;
        let rng = &mut self.rng;
        let queue = rng.usize(..SKILLS);
        let channel = match rng.u8(..100) {
            0..60 => Channel::Voice,
            60..85 => Channel::Chat,
            _ => Channel::Email,
        };
        let spec = &self.queues[queue];
        let name: &'static str = &spec.name;
        let mut needs =
            (0..SKILLS).filter(|&n| spec.skills.contains(&format!("s{n}"))).fold(0u32, |set, n| set | 1 << n);
        let mut arrival = Arrival::new(format!("c{}", self.next), name, channel);
        let mut points = spec.priority[channel as usize] as i64;
        let spanish = rng.u8(..10) == 0;
        if spanish {
            arrival = arrival.language("es");
        }
        if rng.u8(..10) == 0 {
            let boost = rng.i32(1..6);
            arrival = arrival.boost(boost);
            points += boost as i64;
        }
        let vip = rng.u8(..100) == 0;
        if vip {
            arrival = arrival.vip();
        }
        if rng.u8(..100) < 3 {
            let extra = rng.usize(..SKILLS);
            arrival = arrival.require(&format!("s{extra}"));
            needs |= 1 << extra;
        }
        (arrival, Plain { needs, spanish, channel: channel as usize, vip, points, enqueued_at: now })
    }

    /// Further arrivals for the benchmarks, apart from the setup's.
    fn after(setup: &Setup) -> Arrivals {
        Arrivals { rng: fastrand::Rng::with_seed(SEED + 1), queues: Vec::leak(setup.queues.clone()), next: 1_000_000 }
    }
}

impl Setup {
    /// 20 queues over 20 skills, 1,000 agents with 4 skills each (30% blended digital agents
    /// taking 3 chats and 2 emails), and contacts arriving every 100 ms — each offer accepted
    /// at once — until `waiting` contacts wait. With `waiting == 0`, agents stay idle.
    fn new(waiting: usize) -> Setup {
        let mut rng = fastrand::Rng::with_seed(SEED);
        let skills: Vec<String> = (0..SKILLS).map(|n| format!("s{n}")).collect();
        let queues: Vec<QueueSpec> = (0..SKILLS)
            .map(|n| {
                let mut queue = QueueSpec::new(&format!("q{n}")).skill(&skills[n]);
                if n % 4 == 0 {
                    queue = queue.skill(&skills[(n + 1) % SKILLS]);
                }
                queue
                    .priority(Channel::Voice, rng.i32(0..10))
                    .priority(Channel::Chat, rng.i32(0..8))
                    .priority(Channel::Email, 2)
            })
            .collect();
        let mut acd = Acd::new(Config::default(), &skills, &queues).unwrap();
        let mut agents = Vec::with_capacity(AGENTS);
        for n in 0..AGENTS {
            let mut spec = AgentSpec::new(&format!("a{n}"), "agent").language("en");
            let mut plain = PlainAgent {
                skills: 0,
                proficiency: [0; SKILLS],
                spanish: false,
                capacity: [1; 5],
                load: [0; 5],
                idle_since: 0,
                available: true,
            };
            while plain.skills.count_ones() < 4 {
                let skill = rng.usize(..SKILLS);
                if plain.skills & 1 << skill == 0 {
                    let level = rng.u8(1..=10);
                    spec = spec.skill_at(&skills[skill], level);
                    plain.skills |= 1 << skill;
                    plain.proficiency[skill] = level;
                }
            }
            if rng.u8(..5) == 0 {
                spec = spec.language("es");
                plain.spanish = true;
            }
            if rng.u8(..10) < 3 {
                let capacity = Capacity::none().with(Channel::Chat, 3).with(Channel::Email, 2);
                spec = spec.capacity(capacity);
                plain.capacity = capacity.per_channel;
            }
            acd.add_agent(&spec, 0).unwrap();
            acd.set_available(&spec.id, 0).unwrap();
            agents.push(plain);
        }
        let mut arrivals = Arrivals { rng, queues: Vec::leak(queues.clone()), next: 0 };
        let mut setup = Setup { acd, now: 0, in_progress: Vec::new(), waiting: Vec::new(), agents, queues };
        if waiting > 0 {
            while setup.waiting.len() < waiting {
                setup.now += 100;
                let (arrival, plain) = arrivals.next(setup.now);
                let events = setup.acd.arrive(&arrival, setup.now).unwrap();
                match events.first() {
                    Some(Event::Offered { offer, agent, channel, .. }) => {
                        let agent: usize = agent.as_str()[1..].parse().unwrap();
                        setup.acd.accept(*offer, setup.now).unwrap();
                        setup.agents[agent].load[*channel as usize] += 1;
                        setup.agents[agent].idle_since = setup.now;
                        setup.in_progress.push((arrival.id.as_str().to_string(), agent, *channel as usize));
                    }
                    Some(other) => panic!("unexpected {other:?}"),
                    None => setup.waiting.push(plain),
                }
            }
        } else {
            setup.make_every_group();
        }
        setup
    }

    /// A running engine has a waiting group for every queue, channel, language and extra
    /// skill it has seen; make them all now, so the first arrival of a kind does not pay for
    /// it inside the measurement.
    fn make_every_group(&mut self) {
        let mut n = 0;
        for queue in &self.queues {
            for channel in [Channel::Voice, Channel::Chat, Channel::Email] {
                for spanish in [false, true] {
                    for extra in (0..=SKILLS).map(|skill| (skill < SKILLS).then(|| format!("s{skill}"))) {
                        n += 1;
                        let id = format!("warm{n}");
                        let mut arrival = Arrival::new(&id, &queue.name, channel);
                        if spanish {
                            arrival = arrival.language("es");
                        }
                        if let Some(extra) = extra {
                            arrival = arrival.require(&extra);
                        }
                        self.acd.arrive(&arrival, 0).unwrap();
                        self.acd.abandon(&id, 0).unwrap();
                    }
                }
            }
        }
    }
}

static BUSY: LazyLock<Setup> = LazyLock::new(|| Setup::new(WAITING));
static IDLE: LazyLock<Setup> = LazyLock::new(|| Setup::new(0));

const SAMPLES: u32 = 100;
const PER_SAMPLE: u32 = 10;
/// Every sequential benchmark runs this many decisions on one engine.
const DECISIONS: usize = (SAMPLES * PER_SAMPLE) as usize;

/// (a) Agents finish a call (no wrap-up) one after another, on one running engine, and each
/// takes the best waiting contact they may. The 1,000 decisions leave about 9,000 waiting.
#[divan::bench(sample_count = SAMPLES, sample_size = PER_SAMPLE)]
fn agent_frees_up(bencher: Bencher) {
    let setup = &*BUSY;
    assert!(setup.in_progress.len() >= DECISIONS, "too few contacts in progress");
    let mut acd = setup.acd.clone();
    let mut turn = 0;
    bencher.bench_local(|| {
        let (contact, ..) = &setup.in_progress[turn % setup.in_progress.len()];
        turn += 1;
        acd.finish(contact, setup.now + 1)
    });
}

/// (a) baseline: the same agents each scan all 10,000 waiting contacts.
#[divan::bench(sample_count = SAMPLES, sample_size = PER_SAMPLE)]
fn agent_frees_up_naive(bencher: Bencher) {
    let setup = &*BUSY;
    let aging = Config::default().aging_ms;
    let mut turn = 0;
    bencher
        .with_inputs(|| {
            let (_, agent, channel) = setup.in_progress[turn % setup.in_progress.len()];
            turn += 1;
            let mut agent = setup.agents[agent].clone();
            agent.load[channel] -= 1;
            agent
        })
        .bench_local_refs(|agent| naive_best_contact(&setup.waiting, agent, setup.now + 1, &aging));
}

/// (a) cold: each decision on a fresh copy of the engine, so its memory is not in cache.
#[divan::bench(sample_count = SAMPLES, sample_size = 2)]
fn agent_frees_up_cold(bencher: Bencher) {
    let setup = &*BUSY;
    let mut turn = 0;
    bencher
        .with_inputs(|| {
            turn = (turn + 7) % setup.in_progress.len();
            (setup.acd.clone(), setup.in_progress[turn].0.clone())
        })
        .bench_local_refs(|(acd, contact)| acd.finish(contact, setup.now + 1).unwrap());
}

/// (b) Contacts arrive one after another while 10,000 (and more) wait and every agent who
/// could take them is busy.
#[divan::bench(sample_count = SAMPLES, sample_size = PER_SAMPLE)]
fn contact_arrives_all_busy(bencher: Bencher) {
    let setup = &*BUSY;
    let mut acd = setup.acd.clone();
    let mut arrivals = Arrivals::after(setup);
    bencher
        .with_inputs(|| arrivals.next(setup.now + 1).0)
        .bench_local_refs(|arrival| acd.arrive(arrival, setup.now + 1).unwrap());
}

/// (b) baseline: scan all 1,000 agents for one free to take it.
#[divan::bench(sample_count = SAMPLES, sample_size = PER_SAMPLE)]
fn contact_arrives_all_busy_naive(bencher: Bencher) {
    let setup = &*BUSY;
    let mut arrivals = Arrivals::after(setup);
    bencher
        .with_inputs(|| arrivals.next(setup.now + 1).1)
        .bench_local_refs(|contact| naive_best_agent(&setup.agents, contact));
}

/// (b) A contact arrives and the best of 1,000 idle agents takes it, on one running engine:
/// between measurements (untimed) the previous contact hangs up, so every agent is idle again.
#[divan::bench(sample_count = 1_000, sample_size = 1)]
fn contact_arrives_idle_agents(bencher: Bencher) {
    let setup = &*IDLE;
    let acd = RefCell::new(setup.acd.clone());
    let mut arrivals = Arrivals::after(setup);
    let mut previous: Option<String> = None;
    bencher
        .with_inputs(|| {
            if let Some(id) = previous.take() {
                let mut acd = acd.borrow_mut();
                let offered = matches!(acd.contact_state(&id), Some(ContactState::Offered { .. }));
                assert!(offered, "every arrival finds an idle agent");
                acd.abandon(&id, setup.now + 1).unwrap();
            }
            let (arrival, _) = arrivals.next(setup.now + 1);
            previous = Some(arrival.id.as_str().to_string());
            arrival
        })
        .bench_local_refs(|arrival| acd.borrow_mut().arrive(arrival, setup.now + 1).unwrap());
}

/// (b) cold: the same on a fresh copy of the idle engine each time.
#[divan::bench(sample_count = SAMPLES, sample_size = PER_SAMPLE)]
fn contact_arrives_idle_agents_cold(bencher: Bencher) {
    let setup = &*IDLE;
    let mut arrivals = Arrivals::after(setup);
    bencher
        .with_inputs(|| (setup.acd.clone(), arrivals.next(setup.now + 1).0))
        .bench_local_refs(|(acd, arrival)| acd.arrive(arrival, setup.now + 1).unwrap());
}

/// (b) baseline: scan all 1,000 idle agents.
#[divan::bench(sample_count = SAMPLES, sample_size = PER_SAMPLE)]
fn contact_arrives_idle_agents_naive(bencher: Bencher) {
    let setup = &*IDLE;
    let mut arrivals = Arrivals::after(setup);
    bencher
        .with_inputs(|| arrivals.next(setup.now + 1).1)
        .bench_local_refs(|contact| naive_best_agent(&setup.agents, contact));
}
