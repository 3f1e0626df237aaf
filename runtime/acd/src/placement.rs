//! Where a waiting contact sits: putting it in its line and taking it out, moving it on
//! overflow or when a prefer window closes, and letting it go when it leaves the engine.

use super::agent::Presence;
use super::event::Event;
use super::score::{self, Rank};
use super::timers::Timer;
use super::waiting::{Contact, Group, Kind, Status, Waiter};
use super::Acd;
use switchboard_bytecode::types::Channel;

impl Acd {
    /// The group for a queue, channel, language and extra skills, made on first use and
    /// added to the lists of the agents who may serve it.
    pub(super) fn group_for(&mut self, queue: u16, channel: Channel, language: Option<u8>, extra: u64) -> u32 {
        let key = (queue, channel as u8, language, extra);
        if let Some(&group) = self.group_index.get(&key) {
            return group;
        }
        let needs = self.queues[queue as usize].skills.union(super::ids::SkillSet(extra));
        let group = self.groups.len() as u32;
        self.groups.push(Group::new(queue, channel, language, needs));
        self.group_index.insert(key, group);
        for agent in &mut self.agents {
            if agent.capacity[channel as usize] > 0 && agent.can_serve(needs, language) {
                agent.groups.push(group);
            }
        }
        group
    }

    /// Puts a contact that is between places into its line: the preferred agent's list
    /// while that window is open and the agent logged in, else its group.
    pub(super) fn attach(&mut self, slot: u32, now: i64) {
        let contact = self.contact(slot);
        let (queue, channel, language, extra) = (contact.queue, contact.channel, contact.language, contact.extra.0);
        let points = self.queues[queue as usize].priority[channel as usize] as i64 + contact.boost as i64;
        let rank = Rank::new(contact.vip, contact.enqueued_at, points, self.aging(channel), contact.seq);
        let skips = !contact.skipped.is_empty();
        let prefer = contact
            .prefer
            .filter(|prefer| prefer.until > now && self.agents[prefer.agent as usize].presence != Presence::Offline);
        let status = match prefer {
            Some(prefer) => {
                self.agents[prefer.agent as usize].preferred.insert(rank, slot);
                Status::Preferred { agent: prefer.agent }
            }
            None => {
                let group = self.group_for(queue, channel, language, extra);
                self.groups[group as usize].insert(rank, Waiter { slot, skips });
                Status::Waiting { group }
            }
        };
        let contact = self.contact_mut(slot);
        contact.prefer = prefer;
        contact.rank = rank;
        contact.status = status;
        self.waiting_count[queue as usize][channel as usize] += 1;
    }

    /// Takes a contact out of its line (group, preferred list or outbound list); the caller
    /// gives it its next status.
    pub(super) fn detach(&mut self, slot: u32) {
        let contact = self.contact(slot);
        let (rank, queue, channel, seq) = (contact.rank, contact.queue, contact.channel, contact.seq);
        match contact.status {
            Status::Waiting { group } => self.groups[group as usize].remove(rank),
            Status::Preferred { agent } => {
                self.agents[agent as usize].preferred.remove(&rank);
            }
            Status::Outbound { list } => {
                if let Some(outbound) = self.outbound.get_mut(&list) {
                    outbound.remove(&seq);
                }
                self.outbound_waiting -= 1;
            }
            Status::Moving | Status::Offered { .. } | Status::InProgress { .. } => return,
        }
        if self.contact(slot).is_waiting() {
            self.waiting_count[queue as usize][channel as usize] -= 1;
        }
        self.contact_mut(slot).status = Status::Moving;
    }

    /// Puts contacts back after their offers ended, best first, each offered at once if an
    /// agent can take it; a contact whose overflow fell due meanwhile overflows now.
    pub(super) fn requeue(&mut self, mut slots: Vec<u32>, now: i64, events: &mut Vec<Event>) {
        slots.sort_by(|&a, &b| {
            let (a, b) = (self.contact(a), self.contact(b));
            score::compare(now, a.rank, self.aging(a.channel), b.rank, self.aging(b.channel))
        });
        for slot in slots {
            let contact = self.contact(slot);
            let overflow = self.queues[contact.queue as usize].overflow;
            if overflow.is_some_and(|(after_ms, _)| now >= contact.queued_here_at.saturating_add(after_ms)) {
                self.overflow(slot, now, events);
                continue;
            }
            self.attach(slot, now);
            self.route_contact(slot, now, events);
        }
    }

    /// Sets the overflow timer of a contact that just entered its queue.
    pub(super) fn arm_overflow(&mut self, slot: u32, now: i64) {
        let contact = self.contact(slot);
        let seq = contact.seq;
        if let Some((after_ms, _)) = self.queues[contact.queue as usize].overflow {
            let timer = self.timers.set(now.saturating_add(after_ms), Timer::Overflow { slot, seq });
            self.contact_mut(slot).overflow_timer = Some(timer);
        }
    }

    pub(super) fn overflow_due(&mut self, slot: u32, seq: u64, now: i64, events: &mut Vec<Event>) {
        let Some(contact) = self.contacts.get_seq(slot, seq) else { return };
        // An offered contact overflows when it comes back, if it still has to (`requeue`).
        if contact.is_waiting() {
            self.contact_mut(slot).overflow_timer = None;
            self.overflow(slot, now, events);
        }
    }

    /// Moves a waiting (or returning) contact to its queue's overflow queue, keeping its
    /// original enqueue time, and offers it there if an agent can take it.
    fn overflow(&mut self, slot: u32, now: i64, events: &mut Vec<Event>) {
        let contact = self.contact(slot);
        let (from, channel, counted) = (contact.queue, contact.channel, !matches!(contact.kind, Kind::Dialled { .. }));
        let Some((_, to)) = self.queues[from as usize].overflow else { return };
        self.detach(slot);
        if counted {
            self.stats[from as usize][channel as usize].overflowed_out += 1;
            self.stats[to as usize][channel as usize].offered += 1;
        }
        let contact = self.contact_mut(slot);
        contact.queue = to;
        contact.queued_here_at = now;
        contact.prefer = None;
        let timers = [contact.prefer_timer.take(), contact.overflow_timer.take()];
        for timer in timers.into_iter().flatten() {
            self.timers.cancel(timer);
        }
        let contact = self.contact(slot);
        events.push(Event::Overflowed {
            contact: contact.id.clone(),
            from: self.queues[from as usize].name.clone(),
            to: self.queues[to as usize].name.clone(),
        });
        self.arm_overflow(slot, now);
        self.attach(slot, now);
        self.route_contact(slot, now, events);
    }

    pub(super) fn prefer_ends(&mut self, slot: u32, seq: u64, now: i64, events: &mut Vec<Event>) {
        let Some(contact) = self.contacts.get_seq(slot, seq) else { return };
        let Some(prefer) = contact.prefer else { return };
        let waiting = contact.is_waiting();
        let contact = self.contact_mut(slot);
        contact.prefer = None;
        contact.prefer_timer = None;
        let id = contact.id.clone();
        events.push(Event::PreferEnded { contact: id, agent: self.agents[prefer.agent as usize].id.clone() });
        // A contact ringing at the preferred agent stays there; if it comes back, it comes
        // back to everyone.
        if waiting {
            self.detach(slot);
            self.attach(slot, now);
            self.route_contact(slot, now, events);
        }
    }

    /// Opens every contact kept for `agent` to everyone (the agent logged out); the caller
    /// puts them back with `requeue`.
    pub(super) fn release_preferred(&mut self, agent: u32, events: &mut Vec<Event>) -> Vec<u32> {
        let slots: Vec<u32> = self.agents[agent as usize].preferred.values().copied().collect();
        for &slot in &slots {
            self.detach(slot);
            let contact = self.contact_mut(slot);
            contact.prefer = None;
            let timer = contact.prefer_timer.take();
            let id = contact.id.clone();
            if let Some(timer) = timer {
                self.timers.cancel(timer);
            }
            events.push(Event::PreferEnded { contact: id, agent: self.agents[agent as usize].id.clone() });
        }
        slots
    }

    /// Takes a contact out of the engine for good, with its timers.
    pub(super) fn remove_contact(&mut self, slot: u32) -> Contact {
        let contact = self.contacts.remove(slot).expect("a slot the engine holds names a contact");
        self.contact_index.remove(contact.id.as_str());
        for timer in [contact.overflow_timer, contact.prefer_timer].into_iter().flatten() {
            self.timers.cancel(timer);
        }
        contact
    }
}
