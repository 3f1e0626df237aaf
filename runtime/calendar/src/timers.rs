//! Durable timers: waits, menu time-outs, queue announcements and retry steps, all fired by
//! one scheduler.
//!
//! **The entry type.** `Timers<T>` is generic over what a timer carries, so the engine keeps
//! its own typed enum (which session, which step) instead of untyped JSON. A store that persists
//! timers implements `Timers<T>` for `T: Serialize + DeserializeOwned`; `InMemoryTimers<T>`
//! serializes whenever `T` does.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Names one scheduled timer. Ids are handed out in order and never reused, so they double as
/// the insertion sequence that breaks ties between timers due at the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimerId(pub u64);

/// A set of timers that fire in a deterministic order: by due time, then by scheduling order.
pub trait Timers<T> {
    /// Schedules `timer` to fire at `due`.
    fn schedule(&mut self, due: Timestamp, timer: T) -> TimerId;
    /// Cancels a timer; `false` when it is unknown or has already fired.
    fn cancel(&mut self, id: TimerId) -> bool;
    /// When the earliest pending timer is due.
    fn next_due(&self) -> Option<Timestamp>;
    /// Removes and returns every timer due at or before `now`, in firing order.
    fn pop_due(&mut self, now: Timestamp) -> Vec<(TimerId, T)>;
}

/// Timers held in memory: the test runner's store, and the reference for durable ones.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "TimerState<T>", bound(deserialize = "T: Deserialize<'de>"))]
pub struct InMemoryTimers<T> {
    next_id: u64,
    pending: BTreeMap<TimerId, Pending<T>>,
    /// Firing order; rebuilt from `pending` when deserialized.
    #[serde(skip_serializing)]
    order: BTreeSet<(Timestamp, TimerId)>,
}

/// One pending timer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending<T> {
    pub due: Timestamp,
    pub timer: T,
}

/// What `InMemoryTimers` is deserialized from.
#[derive(Deserialize)]
struct TimerState<T> {
    next_id: u64,
    pending: BTreeMap<TimerId, Pending<T>>,
}

impl<T> From<TimerState<T>> for InMemoryTimers<T> {
    fn from(state: TimerState<T>) -> InMemoryTimers<T> {
        let order = state.pending.iter().map(|(&id, pending)| (pending.due, id)).collect();
        // Never hand out an id that is already taken, even from hand-edited state.
        let next_id =
            state.pending.keys().next_back().map_or(state.next_id, |last| state.next_id.max(last.0.saturating_add(1)));
        InMemoryTimers { next_id, pending: state.pending, order }
    }
}

impl<T> InMemoryTimers<T> {
    pub fn new() -> InMemoryTimers<T> {
        InMemoryTimers { next_id: 0, pending: BTreeMap::new(), order: BTreeSet::new() }
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// A pending timer.
    pub fn get(&self, id: TimerId) -> Option<&Pending<T>> {
        self.pending.get(&id)
    }

    /// The pending timers in firing order.
    pub fn iter(&self) -> impl Iterator<Item = (TimerId, &Pending<T>)> {
        self.order.iter().filter_map(|(_, id)| self.pending.get(id).map(|pending| (*id, pending)))
    }
}

impl<T> Default for InMemoryTimers<T> {
    fn default() -> InMemoryTimers<T> {
        InMemoryTimers::new()
    }
}

impl<T> Timers<T> for InMemoryTimers<T> {
    fn schedule(&mut self, due: Timestamp, timer: T) -> TimerId {
        let id = TimerId(self.next_id);
        self.next_id += 1;
        self.pending.insert(id, Pending { due, timer });
        self.order.insert((due, id));
        id
    }

    fn cancel(&mut self, id: TimerId) -> bool {
        match self.pending.remove(&id) {
            Some(pending) => self.order.remove(&(pending.due, id)),
            None => false,
        }
    }

    fn next_due(&self) -> Option<Timestamp> {
        self.order.first().map(|&(due, _)| due)
    }

    fn pop_due(&mut self, now: Timestamp) -> Vec<(TimerId, T)> {
        let mut fired = Vec::new();
        while let Some(&(due, id)) = self.order.first() {
            if due > now {
                break;
            }
            self.order.pop_first();
            if let Some(pending) = self.pending.remove(&id) {
                fired.push((id, pending.timer));
            }
        }
        fired
    }
}
