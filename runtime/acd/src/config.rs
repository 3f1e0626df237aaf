//! What the engine is told: its settings, the queues, the agents, and each arriving contact.
//! Plain data with builder methods, so a test reads like the `.flow` declaration it mirrors.

use super::ids::ContactId;
use serde::{Deserialize, Serialize};
use switchboard_bytecode::types::{Channel, ChannelSet};

/// Engine-wide settings. Durations are milliseconds on the caller's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// How long an offer rings before it times out. Default 20 s.
    pub offer_timeout_ms: i64,
    /// How long an agent who rejected or missed a contact is skipped for that contact.
    /// Default 60 s.
    pub skip_after_reject_ms: i64,
    /// Whether an agent who lets an offer ring out is made away. Default yes.
    pub away_on_missed_offer: bool,
    /// Wrap-up after each contact when neither the agent nor the queue sets one. Default 0.
    pub wrap_up_ms: i64,
    /// Aging, per channel (indexed by `Channel as usize`): one point per this many ms
    /// waited. Default 10 s for voice and chat, 60 s for SMS and social, 10 min for email.
    pub aging_ms: [i64; 5],
    /// The handle time expected wait assumes before any contact of a queue and channel has
    /// been handled. Default 5 min.
    pub default_handle_ms: i64,
    /// How many recent handle times the expected wait averages. Default 20.
    pub handle_window: usize,
    /// Blending: an available agent is given outbound work first while fewer than this many
    /// inbound contacts wait for them. Default 1 (outbound only when nothing inbound waits).
    pub blend_below: usize,
}

impl Default for Config {
    fn default() -> Config {
        let mut aging_ms = [0; 5];
        for channel in Channel::ALL {
            aging_ms[channel as usize] = match channel {
                Channel::Voice | Channel::Chat => 10_000,
                Channel::Sms | Channel::Social => 60_000,
                Channel::Email => 600_000,
            };
        }
        Config {
            offer_timeout_ms: 20_000,
            skip_after_reject_ms: 60_000,
            away_on_missed_offer: true,
            wrap_up_ms: 0,
            aging_ms,
            default_handle_ms: 300_000,
            handle_window: 20,
            blend_below: 1,
        }
    }
}

/// `target voice 80% in 20s`: the share of contacts answered within a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub percent: u8,
    pub within_ms: i64,
}

/// `overflow after 10m to support`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overflow {
    pub after_ms: i64,
    pub to: String,
}

/// A `queue` declaration, as far as routing cares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSpec {
    pub name: String,
    /// Skills every agent taking its contacts must have.
    pub skills: Vec<String>,
    /// Channel buckets (`priority voice 10, chat 10, social 7, email 5`), by `Channel as usize`.
    pub priority: [i32; 5],
    /// Service-level targets, by `Channel as usize`.
    pub targets: [Option<Target>; 5],
    pub overflow: Option<Overflow>,
    /// Wrap-up after its contacts, unless the agent sets their own.
    pub wrap_up_ms: Option<i64>,
}

impl QueueSpec {
    pub fn new(name: &str) -> QueueSpec {
        QueueSpec {
            name: name.to_string(),
            skills: Vec::new(),
            priority: [0; 5],
            targets: [None; 5],
            overflow: None,
            wrap_up_ms: None,
        }
    }

    pub fn skill(mut self, skill: &str) -> QueueSpec {
        self.skills.push(skill.to_string());
        self
    }

    pub fn priority(mut self, channel: Channel, points: i32) -> QueueSpec {
        self.priority[channel as usize] = points;
        self
    }

    pub fn target(mut self, channel: Channel, percent: u8, within_ms: i64) -> QueueSpec {
        self.targets[channel as usize] = Some(Target { percent, within_ms });
        self
    }

    pub fn overflow(mut self, after_ms: i64, to: &str) -> QueueSpec {
        self.overflow = Some(Overflow { after_ms, to: to.to_string() });
        self
    }

    pub fn wrap_up(mut self, ms: i64) -> QueueSpec {
        self.wrap_up_ms = Some(ms);
        self
    }
}

/// How much work an agent takes at once.
///
/// Default: one contact on each channel, with voice exclusive — an agent on a call takes
/// nothing else, and an agent with any other work is not offered a call. So "1 voice, or 3
/// chats + 5 emails at once" is `Capacity::default().with(Chat, 3).with(Email, 5)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    /// Contacts at once, by `Channel as usize`; 0 means the agent does not take the channel.
    pub per_channel: [u8; 5],
    /// Channels whose contacts are handled alone.
    pub exclusive: ChannelSet,
}

impl Default for Capacity {
    fn default() -> Capacity {
        Capacity { per_channel: [1; 5], exclusive: ChannelSet::only(Channel::Voice) }
    }
}

impl Capacity {
    /// No channel at all; add them with `with`.
    pub fn none() -> Capacity {
        Capacity { per_channel: [0; 5], exclusive: ChannelSet::only(Channel::Voice) }
    }

    pub fn with(mut self, channel: Channel, at_once: u8) -> Capacity {
        self.per_channel[channel as usize] = at_once;
        self
    }

    pub fn exclusive(mut self, channels: ChannelSet) -> Capacity {
        self.exclusive = channels;
        self
    }
}

/// An agent as the staffing system describes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSpec {
    pub id: String,
    pub name: String,
    /// Skills with an optional proficiency 1–10; none given counts as 5.
    pub skills: Vec<(String, Option<u8>)>,
    /// Languages spoken. A contact with a language goes only to agents who list it.
    pub languages: Vec<String>,
    pub capacity: Capacity,
    /// Wrap-up after each contact; overrides the queue's.
    pub wrap_up_ms: Option<i64>,
}

impl AgentSpec {
    pub fn new(id: &str, name: &str) -> AgentSpec {
        AgentSpec {
            id: id.to_string(),
            name: name.to_string(),
            skills: Vec::new(),
            languages: Vec::new(),
            capacity: Capacity::default(),
            wrap_up_ms: None,
        }
    }

    pub fn skill(mut self, skill: &str) -> AgentSpec {
        self.skills.push((skill.to_string(), None));
        self
    }

    pub fn skill_at(mut self, skill: &str, proficiency: u8) -> AgentSpec {
        self.skills.push((skill.to_string(), Some(proficiency)));
        self
    }

    pub fn language(mut self, language: &str) -> AgentSpec {
        self.languages.push(language.to_string());
        self
    }

    pub fn capacity(mut self, capacity: Capacity) -> AgentSpec {
        self.capacity = capacity;
        self
    }

    pub fn wrap_up(mut self, ms: i64) -> AgentSpec {
        self.wrap_up_ms = Some(ms);
        self
    }
}

/// `prefer agent X for D`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefer {
    pub agent: String,
    pub for_ms: i64,
}

/// A contact handed to routing by a flow's `queue` statement. It borrows its texts and takes
/// the contact's id as routing keeps it, so handing a contact over copies no text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival<'a> {
    pub id: ContactId,
    pub queue: &'a str,
    pub channel: Channel,
    pub language: Option<&'a str>,
    /// `queue billing priority +5`: points added to the channel bucket.
    pub boost: i32,
    /// Beats every non-VIP contact, whatever its bucket.
    pub vip: bool,
    pub prefer: Option<Prefer>,
    /// `require skill s`: skills beyond the queue's.
    pub require: Vec<String>,
    /// A caller who took a flow's `offer callback keep place` before queuing: they have
    /// left, and the contact arrives as the placeholder that keeps their place (voice only).
    pub callback: Option<&'a str>,
    /// With `callback`: not a caller's placeholder but a call to make (a retry strategy's),
    /// counted apart from the queue's callers.
    pub dialled: bool,
}

impl<'a> Arrival<'a> {
    /// `id` is a `&str` (copied once) or the contact's shared `Arc<str>` (not copied).
    pub fn new(id: impl Into<ContactId>, queue: &'a str, channel: Channel) -> Arrival<'a> {
        Arrival {
            id: id.into(),
            queue,
            channel,
            language: None,
            boost: 0,
            vip: false,
            prefer: None,
            require: Vec::new(),
            callback: None,
            dialled: false,
        }
    }

    /// Arrives as a callback placeholder: call `customer` back when it reaches an agent.
    pub fn callback(mut self, customer: &'a str) -> Arrival<'a> {
        self.callback = Some(customer);
        self
    }

    /// A call to make to `customer` for the agent who takes it: a retry strategy's. It is
    /// offered as a kept callback is, and counts in none of the queue's figures for callers
    /// (offered, answered, abandoned, waiting); an agent's handling of it counts as outbound.
    pub fn dialled(mut self, customer: &'a str) -> Arrival<'a> {
        self.callback = Some(customer);
        self.dialled = true;
        self
    }

    pub fn language(mut self, language: &'a str) -> Arrival<'a> {
        self.language = Some(language);
        self
    }

    pub fn boost(mut self, points: i32) -> Arrival<'a> {
        self.boost = points;
        self
    }

    pub fn vip(mut self) -> Arrival<'a> {
        self.vip = true;
        self
    }

    pub fn prefer(mut self, agent: &str, for_ms: i64) -> Arrival<'a> {
        self.prefer = Some(Prefer { agent: agent.to_string(), for_ms });
        self
    }

    pub fn require(mut self, skill: &str) -> Arrival<'a> {
        self.require.push(skill.to_string());
        self
    }
}

/// Outbound work: a retry strategy's call, or a callback to make. It needs the queue's skills
/// and a free slot on its channel, and is handed out first-come first-served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundWork {
    pub id: String,
    pub queue: String,
    pub channel: Channel,
    /// Who to reach: a number or an address.
    pub customer: String,
}

impl OutboundWork {
    pub fn new(id: &str, queue: &str, channel: Channel, customer: &str) -> OutboundWork {
        OutboundWork { id: id.to_string(), queue: queue.to_string(), channel, customer: customer.to_string() }
    }
}
