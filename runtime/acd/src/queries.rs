//! Questions about the state: where a contact stands and how long it may wait, queue
//! lengths, statistics, agent states and occupancy. Nothing here changes the engine.

use super::agent::AgentState;
use super::ids::{AgentId, OfferId};
use super::stats::ChannelStats;
use super::waiting::{Kind, Status};
use super::Acd;
use serde::{Deserialize, Serialize};
use switchboard_bytecode::types::Channel;

/// Who waits in one queue on one channel ([`Acd::waiting_now`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingNow {
    pub queue: String,
    pub channel: Channel,
    /// Customers waiting in person (callbacks that keep a place not counted).
    pub waiting: usize,
    pub longest_wait_ms: i64,
    /// Callbacks keeping a place in the queue.
    pub callbacks: usize,
}

/// Where a contact is, as the caller sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactState {
    /// In its queue (a callback placeholder included), or kept for a preferred agent.
    Waiting,
    Offered {
        offer: OfferId,
        agent: AgentId,
    },
    InProgress {
        agent: AgentId,
    },
    /// Outbound work not handed out yet.
    OutboundPending,
}

impl Acd {
    /// Where a contact is; none once it has finished or abandoned.
    pub fn contact_state(&self, contact: &str) -> Option<ContactState> {
        let found = self.contact(*self.contact_index.get(contact)?);
        Some(match found.status {
            Status::Waiting { .. } | Status::Preferred { .. } | Status::Moving => ContactState::Waiting,
            Status::Offered { offer, agent } => {
                ContactState::Offered { offer: OfferId(offer), agent: self.agents[agent as usize].id.clone() }
            }
            Status::InProgress { agent, .. } => {
                ContactState::InProgress { agent: self.agents[agent as usize].id.clone() }
            }
            Status::Outbound { .. } => ContactState::OutboundPending,
        })
    }

    /// A waiting contact's place in its queue, from 1: one more than the contacts waiting in
    /// the same queue on the same channel that rank ahead of it and that an agent who can take
    /// it could take too (same language, or no language). Contacts kept for a preferred agent
    /// are not counted ahead of others.
    pub fn position(&self, contact: &str) -> Option<usize> {
        let found = self.contact(*self.contact_index.get(contact)?);
        if !found.is_waiting() {
            return None;
        }
        let (queue, channel) = (found.queue, found.channel as u8);
        let groups = self.group_index.range((queue, channel, None, 0)..=(queue, channel, Some(u8::MAX), u64::MAX));
        let ahead: usize = groups
            .map(|(_, &group)| &self.groups[group as usize])
            .filter(|group| group.language.is_none() || group.language == found.language)
            .map(|group| group.waiting.count_before(&found.rank))
            .sum();
        Some(ahead + 1)
    }

    /// Expected wait of a waiting contact, in ms:
    /// `position × recent average handle time ÷ slots`, where slots is the capacity on the
    /// contact's channel of the logged-in agents who could take it, and the handle time is
    /// the mean of the queue and channel's last `handle_window` contacts (accept to finish,
    /// plus wrap-up), or `default_handle_ms` before any. None when no agent who could take
    /// it is logged in.
    pub fn expected_wait_ms(&self, contact: &str) -> Option<i64> {
        let position = self.position(contact)?;
        let found = self.contact(*self.contact_index.get(contact)?);
        let needs = self.needs(found.queue, found.extra);
        let slots = self.staffed_slots(needs, found.language, found.channel);
        if slots == 0 {
            return None;
        }
        let handle_ms = self.stats[found.queue as usize][found.channel as usize]
            .recent_handle_ms()
            .unwrap_or(self.config.default_handle_ms as f64);
        Some((position as f64 * handle_ms / slots as f64).ceil() as i64)
    }

    /// The score of a waiting contact at `now` (see the queue-order formula).
    pub fn score(&self, contact: &str, now: i64) -> Option<f64> {
        let found = self.contact(*self.contact_index.get(contact)?);
        found.is_waiting().then(|| found.rank.score(now, self.aging(found.channel)))
    }

    /// Inbound contacts waiting in a queue, on one channel or all.
    pub fn queue_length(&self, queue: &str, channel: Option<Channel>) -> Option<usize> {
        let counts = &self.waiting_count[*self.queue_index.get(queue)? as usize];
        Some(match channel {
            Some(channel) => counts[channel as usize] as usize,
            None => counts.iter().map(|&count| count as usize).sum(),
        })
    }

    /// Every queue and channel with someone waiting: how many wait in person, how long the
    /// one waiting longest has waited at `now` (from their first enqueue, through overflow),
    /// and how many callbacks keep a place. One pass over the contacts.
    pub fn waiting_now(&self, now: i64) -> Vec<WaitingNow> {
        let mut out: std::collections::BTreeMap<(u16, u8), WaitingNow> = std::collections::BTreeMap::new();
        for c in self.contacts.iter().filter(|c| c.is_waiting()) {
            let entry = out.entry((c.queue, c.channel as u8)).or_insert_with(|| WaitingNow {
                queue: self.queues[c.queue as usize].name.as_str().to_string(),
                channel: c.channel,
                waiting: 0,
                longest_wait_ms: 0,
                callbacks: 0,
            });
            match c.kind {
                Kind::Live => {
                    entry.waiting += 1;
                    entry.longest_wait_ms = entry.longest_wait_ms.max(now - c.enqueued_at);
                }
                Kind::Callback { .. } => entry.callbacks += 1,
                Kind::Outbound { .. } | Kind::Dialled { .. } => {}
            }
        }
        out.into_values().collect()
    }

    /// Outbound work not handed out yet.
    pub fn outbound_waiting(&self) -> usize {
        self.outbound_waiting
    }

    pub fn stats(&self, queue: &str, channel: Channel) -> Option<&ChannelStats> {
        Some(&self.stats[*self.queue_index.get(queue)? as usize][channel as usize])
    }

    /// The queues, in the order they were declared.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.queues.iter().map(|q| q.name.as_str())
    }

    /// Every agent who has logged in, with their state.
    pub fn agent_states(&self) -> impl Iterator<Item = (&str, AgentState)> + '_ {
        self.agents.iter().map(|a| (a.id.as_str(), a.state()))
    }

    pub fn agent_state(&self, agent: &str) -> Option<AgentState> {
        Some(self.agents[*self.agent_index.get(agent)? as usize].state())
    }

    /// Occupancy up to `now`: time holding work (contacts in progress, wrap-up) over time
    /// staffed (available, or holding work). None before any staffed time.
    pub fn occupancy(&self, agent: &str, now: i64) -> Option<f64> {
        self.agents[*self.agent_index.get(agent)? as usize].occupancy_at(now)
    }
}
