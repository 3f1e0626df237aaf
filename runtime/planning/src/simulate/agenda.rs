//! What the simulated people will do next, in time order: the simulation's own event list,
//! beside the engine's timers. Ties go to what was scheduled first, so a run never depends
//! on anything but its inputs.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use switchboard_bytecode::types::Channel;

/// One thing a customer or an agent does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happening {
    /// The next customer arrives on a channel.
    Arrival { channel: Channel },
    /// A customer answers the `heard`th prompt of `session`, if nothing newer came since.
    Answer { session: u64, heard: u32 },
    /// A customer's patience runs out: they hang up unless an agent has them.
    GiveUp { contact: u64 },
    /// A caller offered a callback while waiting takes it.
    TakeCallback { contact: u64 },
    /// An agent picks up the offer ringing for a contact.
    PickUp { contact: u64, agent: String },
    /// An agent is done with a contact.
    Finish { contact: u64 },
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    at: i64,
    seq: u64,
    what: Happening,
}

impl Ord for Entry {
    /// Reversed, so that the heap's greatest entry is the earliest.
    fn cmp(&self, other: &Entry) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Happenings by time (ms since the start of the run).
#[derive(Debug, Default)]
pub struct Agenda {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
}

impl Agenda {
    pub fn add(&mut self, at: i64, what: Happening) {
        self.heap.push(Entry { at, seq: self.next_seq, what });
        self.next_seq += 1;
    }

    /// When the earliest happening is due.
    pub fn next_at(&self) -> Option<i64> {
        self.heap.peek().map(|e| e.at)
    }

    /// The earliest happening due at or before `now`.
    pub fn pop_due(&mut self, now: i64) -> Option<Happening> {
        if self.next_at()? > now {
            return None;
        }
        self.heap.pop().map(|e| e.what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_the_order_added() {
        let mut agenda = Agenda::default();
        agenda.add(50, Happening::Finish { contact: 1 });
        agenda.add(10, Happening::Finish { contact: 2 });
        agenda.add(50, Happening::Finish { contact: 3 });
        agenda.add(10, Happening::Finish { contact: 4 });
        assert_eq!(agenda.next_at(), Some(10));
        assert_eq!(agenda.pop_due(5), None);
        let mut order = Vec::new();
        while let Some(Happening::Finish { contact }) = agenda.pop_due(100) {
            order.push(contact);
        }
        assert_eq!(order, [2, 4, 1, 3]);
    }
}
