//! Matching: the best agent for a contact that arrives or comes back, and the best work for
//! an agent who frees up — inbound by the queue order, outbound by blending.

use super::event::Event;
use super::ids::{OfferId, SkillSet};
use super::score::{self, Rank};
use super::timers::Timer;
use super::waiting::{Kind, Status};
use super::{Acd, Offer};
use switchboard_bytecode::types::Channel;

impl Acd {
    /// Brings the free-agent sets up to date after anything about `agent` changed.
    pub(super) fn refresh(&mut self, agent: u32) {
        let found = &self.agents[agent as usize];
        for channel in Channel::ALL {
            self.roster.set_free(agent, channel, found.can_take(channel));
        }
    }

    /// Offers a waiting contact to the best agent who can take it now, if there is one.
    pub(super) fn route_contact(&mut self, slot: u32, now: i64, events: &mut Vec<Event>) {
        let contact = self.contact(slot);
        let agent = match contact.status {
            Status::Waiting { .. } => self.best_agent_for(slot, now),
            Status::Preferred { agent } => self.agents[agent as usize].can_take(contact.channel).then_some(agent),
            _ => None,
        };
        if let Some(agent) = agent {
            self.offer(slot, agent, now, events);
        }
    }

    /// Among the agents free on the contact's channel who may take it: the highest
    /// proficiency, then the longest idle, then the agent added first.
    pub(super) fn best_agent_for(&self, slot: u32, now: i64) -> Option<u32> {
        let contact = self.contact(slot);
        let needs = self.needs(contact.queue, contact.extra);
        let mut best: Option<(u32, i64, u32)> = None;
        for agent in self.roster.candidates(contact.channel, needs, contact.language) {
            if contact.skips(agent, now) {
                continue;
            }
            let proficiency = self.roster.proficiency_for(agent, needs);
            let idle_since = self.roster.idle_since[agent as usize];
            let better = match best {
                None => true,
                Some((best_proficiency, best_idle, _)) => {
                    proficiency > best_proficiency || (proficiency == best_proficiency && idle_since < best_idle)
                }
            };
            if better {
                best = Some((proficiency, idle_since, agent));
            }
        }
        best.map(|(_, _, agent)| agent)
    }

    /// Gives an agent work while they can take more: the best inbound contact for them, or
    /// outbound work when nothing inbound can go to them or, blending, when fewer than
    /// `blend_below` inbound contacts wait for them.
    pub(super) fn route_agent(&mut self, agent: u32, now: i64, events: &mut Vec<Event>) {
        loop {
            let inbound = self.best_contact_for(agent, now);
            let outbound = if self.outbound_waiting > 0 { self.best_outbound_for(agent) } else { None };
            match (inbound, outbound) {
                (Some(_), Some(work)) if self.inbound_waiting_for(agent) < self.config.blend_below => {
                    self.assign_outbound(work, agent, now, events)
                }
                (Some(slot), _) => self.offer(slot, agent, now, events),
                (None, Some(work)) => self.assign_outbound(work, agent, now, events),
                (None, None) => return,
            }
        }
    }

    /// The best waiting contact `agent` can take now: a contact kept for them, else the best
    /// across their groups.
    pub(super) fn best_contact_for(&self, agent: u32, now: i64) -> Option<u32> {
        let found = &self.agents[agent as usize];
        let open = Channel::ALL.map(|channel| found.can_take(channel));
        if !open.contains(&true) {
            return None;
        }
        let mut best: Option<(Rank, Channel, u32)> = None;
        let beats = |best: &Option<(Rank, Channel, u32)>, rank: Rank, channel: Channel| match *best {
            None => true,
            Some((best_rank, best_channel, _)) => {
                score::compare(now, rank, self.aging(channel), best_rank, self.aging(best_channel)).is_lt()
            }
        };
        // Contacts kept for this agent come first: they wait for no one else.
        for (&rank, &slot) in &found.preferred {
            let channel = self.contact(slot).channel;
            if open[channel as usize] && beats(&best, rank, channel) {
                best = Some((rank, channel, slot));
            }
        }
        if best.is_some() {
            return best.map(|(_, _, slot)| slot);
        }
        for &group in &found.groups {
            let group = &self.groups[group as usize];
            let Some((rank, waiter)) = group.head else { continue };
            let channel = group.channel;
            if !open[channel as usize] || !beats(&best, rank, channel) {
                continue;
            }
            if !waiter.skips || !self.contact(waiter.slot).skips(agent, now) {
                best = Some((rank, channel, waiter.slot));
                continue;
            }
            // The head skips this agent after a reject: look further down the line.
            for (&rank, waiter) in group.waiting.after(&rank) {
                if !beats(&best, rank, channel) {
                    break;
                }
                if !waiter.skips || !self.contact(waiter.slot).skips(agent, now) {
                    best = Some((rank, channel, waiter.slot));
                    break;
                }
            }
        }
        best.map(|(_, _, slot)| slot)
    }

    /// The oldest outbound work `agent` can take now, from the queues they have skills for.
    fn best_outbound_for(&self, agent: u32) -> Option<u32> {
        let found = &self.agents[agent as usize];
        let mut best: Option<(u64, u32)> = None;
        for &queue in &found.queues {
            for channel in Channel::ALL {
                if !found.can_take(channel) {
                    continue;
                }
                let list = queue as u32 * 5 + channel as u32;
                let Some((&seq, &slot)) = self.outbound.get(&list).and_then(|work| work.first_key_value()) else {
                    continue;
                };
                if best.is_none_or(|(best_seq, _)| seq < best_seq) {
                    best = Some((seq, slot));
                }
            }
        }
        best.map(|(_, slot)| slot)
    }

    /// Inbound contacts waiting that `agent` may take (on any channel they work).
    pub(super) fn inbound_waiting_for(&self, agent: u32) -> usize {
        let found = &self.agents[agent as usize];
        found.preferred.len()
            + found.groups.iter().map(|&group| self.groups[group as usize].waiting.len()).sum::<usize>()
    }

    pub(super) fn needs(&self, queue: u16, extra: SkillSet) -> SkillSet {
        self.queues[queue as usize].skills.union(extra)
    }

    /// Offers a waiting contact to an agent, reserving a slot until they answer.
    fn offer(&mut self, slot: u32, agent: u32, now: i64, events: &mut Vec<Event>) {
        self.detach(slot);
        let offer = self.next_offer;
        self.next_offer += 1;
        let timer = self.timers.set(now.saturating_add(self.config.offer_timeout_ms), Timer::OfferTimeout { offer });
        self.offers.insert(offer, Offer { slot, agent, timer });
        let contact = self.contacts.get_mut(slot).expect("a slot the engine holds names a contact");
        contact.status = Status::Offered { offer, agent };
        let worker = &mut self.agents[agent as usize];
        worker.live[contact.channel as usize] += 1;
        worker.offers.push(offer);
        self.roster.idle_since[agent as usize] = now;
        let queue = self.queues[contact.queue as usize].name.clone();
        events.push(match &contact.kind {
            Kind::Callback { customer } | Kind::Dialled { customer } => Event::CallbackDue {
                offer: OfferId(offer),
                contact: contact.id.clone(),
                customer: customer.clone(),
                agent: worker.id.clone(),
                queue,
            },
            Kind::Live | Kind::Outbound { .. } => Event::Offered {
                offer: OfferId(offer),
                contact: contact.id.clone(),
                agent: worker.id.clone(),
                queue,
                channel: contact.channel,
            },
        });
        self.refresh(agent);
    }

    /// Hands outbound work to an agent; it is theirs at once, no offer.
    fn assign_outbound(&mut self, slot: u32, agent: u32, now: i64, events: &mut Vec<Event>) {
        self.detach(slot);
        let contact = self.contacts.get_mut(slot).expect("a slot the engine holds names a contact");
        contact.status = Status::InProgress { agent, since: now };
        let worker = &mut self.agents[agent as usize];
        worker.account(now);
        worker.live[contact.channel as usize] += 1;
        worker.handling += 1;
        self.roster.idle_since[agent as usize] = now;
        let Kind::Outbound { customer } = &contact.kind else { unreachable!("outbound lists hold outbound work") };
        events.push(Event::OutboundAssigned {
            contact: contact.id.clone(),
            agent: worker.id.clone(),
            customer: customer.clone(),
            queue: self.queues[contact.queue as usize].name.clone(),
            channel: contact.channel,
        });
        self.refresh(agent);
    }
}
