//! An agent as the engine sees them: skills, languages, capacity per channel, presence, the
//! work they hold, and the time they have spent staffed and busy.

use super::ids::{AgentId, LangSet, SkillSet};
use super::score::Rank;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchboard_bytecode::types::{Channel, ChannelSet};

/// The presence an agent (or a supervisor, or the engine) chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Presence {
    Offline,
    Available,
    Away,
}

/// What an agent is doing, as a supervisor's board shows it.
///
/// Derived: an agent holding work is `Available` while they can still take a contact on
/// some channel, else `Busy` — or `WrapUp` when all they hold is wrap-up. An agent holding no
/// work shows their presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentState {
    Offline,
    Away,
    Available,
    Busy,
    WrapUp { until: i64 },
}

/// A slot held by wrap-up after a contact on `channel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Wrap {
    pub channel: Channel,
    pub until: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Agent {
    pub id: AgentId,
    pub name: String,
    pub skills: SkillSet,
    pub languages: LangSet,
    pub capacity: [u8; 5],
    pub exclusive: ChannelSet,
    pub wrap_up_ms: Option<i64>,
    pub presence: Presence,
    /// Contacts offered to or in progress with the agent, per channel.
    pub live: [u8; 5],
    /// Slots held by wrap-up, per channel.
    pub held: [u8; 5],
    /// Contacts in progress (accepted or assigned), all channels.
    pub handling: u32,
    pub wraps: Vec<Wrap>,
    /// Offers ringing at the agent.
    pub offers: Vec<u64>,
    /// The waiting groups whose contacts the agent may take.
    pub groups: Vec<u32>,
    /// The queues whose skills the agent has: where their outbound work comes from.
    pub queues: Vec<u16>,
    /// Contacts kept for this agent (`prefer agent X for D`) while the window is open.
    #[serde(with = "super::persist")]
    pub preferred: BTreeMap<Rank, u32>,
    pub occupancy: Occupancy,
}

impl Agent {
    pub fn load(&self, channel: Channel) -> u8 {
        self.live[channel as usize] + self.held[channel as usize]
    }

    /// Whether a contact on `channel` may be offered to the agent now: available, a free
    /// slot on the channel, and no clash with an exclusive channel.
    pub fn can_take(&self, channel: Channel) -> bool {
        if self.presence != Presence::Available || self.load(channel) >= self.capacity[channel as usize] {
            return false;
        }
        let mut total = 0u32;
        let mut exclusive = 0u32;
        for other in Channel::ALL {
            let load = self.load(other) as u32;
            total += load;
            if self.exclusive.contains(other) {
                exclusive += load;
            }
        }
        total == 0 || (!self.exclusive.contains(channel) && exclusive == 0)
    }

    /// Skills and language: whether the agent may ever take a contact that needs these.
    pub fn can_serve(&self, needs: SkillSet, language: Option<u8>) -> bool {
        self.skills.contains_all(needs) && language.is_none_or(|language| self.languages.contains(language))
    }

    pub fn working(&self) -> bool {
        self.handling > 0 || !self.wraps.is_empty()
    }

    /// Brings the staffed and busy clocks up to `now`; call before anything they depend on
    /// (presence, work in progress, wrap-up) changes.
    pub fn account(&mut self, now: i64) {
        let elapsed = (now - self.occupancy.since).max(0);
        if self.presence == Presence::Available || self.working() {
            self.occupancy.staffed_ms += elapsed;
        }
        if self.working() {
            self.occupancy.busy_ms += elapsed;
        }
        self.occupancy.since = self.occupancy.since.max(now);
    }

    /// Busy time over staffed time up to `now`; none before any staffed time.
    pub fn occupancy_at(&self, now: i64) -> Option<f64> {
        let elapsed = (now - self.occupancy.since).max(0);
        let working = self.working();
        let staffed =
            self.occupancy.staffed_ms + if self.presence == Presence::Available || working { elapsed } else { 0 };
        let busy = self.occupancy.busy_ms + if working { elapsed } else { 0 };
        (staffed > 0).then(|| busy as f64 / staffed as f64)
    }

    pub fn state(&self) -> AgentState {
        if !self.working() {
            return match self.presence {
                Presence::Offline => AgentState::Offline,
                Presence::Away => AgentState::Away,
                Presence::Available if Channel::ALL.into_iter().any(|channel| self.can_take(channel)) => {
                    AgentState::Available
                }
                // Every slot is reserved by ringing offers.
                Presence::Available => AgentState::Busy,
            };
        }
        if Channel::ALL.into_iter().any(|channel| self.can_take(channel)) {
            AgentState::Available
        } else if self.handling > 0 {
            AgentState::Busy
        } else {
            let until = self.wraps.iter().map(|wrap| wrap.until).max().unwrap_or_default();
            AgentState::WrapUp { until }
        }
    }
}

/// Time staffed (available, or holding work) and time busy (holding work: a contact in
/// progress or wrap-up), for occupancy = busy / staffed. Away time without work counts in
/// neither; ringing offers are not work.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(super) struct Occupancy {
    pub since: i64,
    pub staffed_ms: i64,
    pub busy_ms: i64,
}
