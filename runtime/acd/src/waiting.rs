//! The contacts the engine holds, and the waiting lines they sit in.
//!
//! A waiting contact sits in exactly one place: the group for its queue, channel, language
//! and extra skills (a line sorted by `Rank`), the preferred list of one agent (`prefer agent
//! X for D`, while the window is open), or — outbound work — its queue's outbound list.
//! Grouping by everything that narrows who may take a contact means that the head of a group
//! is the best contact in it for every agent who may take any of it; only agents skipped
//! after a reject need to look past the head.

use super::ids::{ContactId, SkillSet};
use super::line::Line;
use super::score::Rank;
use super::timers::TimerKey;
use serde::{Deserialize, Serialize};
use switchboard_bytecode::types::Channel;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Kind {
    /// The customer is on the line (or in the chat, or the email is in).
    Live,
    /// `offer callback keep place`: the customer left; this keeps their place.
    Callback { customer: String },
    /// Outbound work from the outbound list.
    Outbound { customer: String },
    /// A retry strategy's call: offered as a kept callback is (the agent who takes it is
    /// connected to `customer`), and counted apart from the queue's callers.
    Dialled { customer: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Status {
    /// Between places, within one call: just arrived, or back from an offer.
    Moving,
    Waiting {
        group: u32,
    },
    Preferred {
        agent: u32,
    },
    Offered {
        offer: u64,
        agent: u32,
    },
    InProgress {
        agent: u32,
        since: i64,
    },
    /// Outbound work not handed out yet, in outbound list `list`.
    Outbound {
        list: u32,
    },
}

/// `prefer agent X for D`: the contact is kept for `agent` until `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Prefer {
    pub agent: u32,
    pub until: i64,
}

/// An agent who rejected or missed the contact, skipped for it until `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Skip {
    pub agent: u32,
    pub until: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Contact {
    pub id: ContactId,
    /// Unique for the engine's life; timers name contacts by it.
    pub seq: u64,
    pub queue: u16,
    pub channel: Channel,
    pub language: Option<u8>,
    pub boost: i32,
    pub vip: bool,
    /// `require skill s`, beyond the queue's skills.
    pub extra: SkillSet,
    pub prefer: Option<Prefer>,
    /// When the contact first queued; kept through overflow, rejects and callbacks.
    pub enqueued_at: i64,
    /// When the contact entered its current queue (overflow counts from here).
    pub queued_here_at: i64,
    pub kind: Kind,
    pub status: Status,
    /// The contact's place while it waits.
    pub rank: Rank,
    pub skipped: Vec<Skip>,
    pub overflow_timer: Option<TimerKey>,
    pub prefer_timer: Option<TimerKey>,
}

impl Contact {
    pub fn skips(&self, agent: u32, now: i64) -> bool {
        self.skipped.iter().any(|skip| skip.agent == agent && skip.until > now)
    }

    pub fn is_waiting(&self) -> bool {
        matches!(self.status, Status::Waiting { .. } | Status::Preferred { .. })
    }
}

/// A contact in a group's line; `skips` says whether some agent is skipped for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Waiter {
    pub slot: u32,
    pub skips: bool,
}

/// The contacts waiting in one queue, on one channel, with one language (or none) and one
/// set of extra skills.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Group {
    pub queue: u16,
    pub channel: Channel,
    pub language: Option<u8>,
    /// The queue's skills and the extra skills together.
    pub needs: SkillSet,
    pub waiting: Line,
    /// The first of `waiting`, kept at hand: routing reads it for every group an agent serves.
    pub head: Option<(Rank, Waiter)>,
}

impl Group {
    pub fn new(queue: u16, channel: Channel, language: Option<u8>, needs: SkillSet) -> Group {
        Group { queue, channel, language, needs, waiting: Line::default(), head: None }
    }

    pub fn insert(&mut self, rank: Rank, waiter: Waiter) {
        self.waiting.insert(rank, waiter);
        if self.head.is_none_or(|(head, _)| rank < head) {
            self.head = Some((rank, waiter));
        }
    }

    pub fn remove(&mut self, rank: Rank) {
        self.waiting.remove(&rank);
        if self.head.is_some_and(|(head, _)| head == rank) {
            self.head = self.waiting.first();
        }
    }
}

/// Contacts by slot number; freed slots are reused.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Slab {
    items: Vec<Option<Contact>>,
    free: Vec<u32>,
}

impl Slab {
    pub fn insert(&mut self, contact: Contact) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.items[slot as usize] = Some(contact);
                slot
            }
            None => {
                self.items.push(Some(contact));
                self.items.len() as u32 - 1
            }
        }
    }

    pub fn remove(&mut self, slot: u32) -> Option<Contact> {
        let contact = self.items.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(contact)
    }

    pub fn get(&self, slot: u32) -> Option<&Contact> {
        self.items.get(slot as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Contact> {
        self.items.get_mut(slot as usize)?.as_mut()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Contact> + '_ {
        self.items.iter().flatten()
    }

    /// The contact in `slot` if it is still the one numbered `seq`.
    pub fn get_seq(&self, slot: u32, seq: u64) -> Option<&Contact> {
        self.get(slot).filter(|contact| contact.seq == seq)
    }
}

/// The key of a group: queue, channel, language, extra skills.
pub(super) type GroupKey = (u16, u8, Option<u8>, u64);
