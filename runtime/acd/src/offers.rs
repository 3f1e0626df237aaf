//! Answers to offers: accept, reject, and the offer that rings out; and offers taken back
//! when the customer hangs up or the agent leaves.

use super::event::{AcdError, AwayReason, Event, Withdrawal};
use super::ids::OfferId;
use super::timers::Timer;
use super::waiting::{Kind, Skip, Status};
use super::{Acd, Offer};

impl Acd {
    /// The agent took the contact: it is in progress with them, and counts as answered.
    pub fn accept(&mut self, offer: OfferId, now: i64) -> Result<Vec<Event>, AcdError> {
        let Offer { slot, agent, timer } = self.offers.remove(&offer.0).ok_or(AcdError::UnknownOffer(offer))?;
        self.timers.cancel(timer);
        let worker = &mut self.agents[agent as usize];
        worker.account(now);
        worker.handling += 1;
        worker.offers.retain(|&open| open != offer.0);
        let contact = self.contacts.get_mut(slot).expect("an open offer names a contact");
        contact.status = Status::InProgress { agent, since: now };
        contact.prefer = None;
        let timers = [contact.overflow_timer.take(), contact.prefer_timer.take()];
        let (queue, channel, waited_ms) = (contact.queue, contact.channel, now - contact.enqueued_at);
        let outbound = matches!(contact.kind, Kind::Outbound { .. } | Kind::Dialled { .. });
        for timer in timers.into_iter().flatten() {
            self.timers.cancel(timer);
        }
        if !outbound {
            self.stats[queue as usize][channel as usize].record_answer(waited_ms);
        }
        Ok(Vec::new())
    }

    /// The agent declined: the contact goes back to its place, skipping this agent for a
    /// while, and the agent takes other work.
    pub fn reject(&mut self, offer: OfferId, now: i64) -> Result<Vec<Event>, AcdError> {
        let Offer { slot, agent, .. } = self.take_offer(offer.0).ok_or(AcdError::UnknownOffer(offer))?;
        self.pass_over(slot, agent, now);
        let mut events = Vec::new();
        self.requeue(vec![slot], now, &mut events);
        self.route_agent(agent, now, &mut events);
        Ok(events)
    }

    /// An offer rang out: the contact goes back to its place, skipping this agent for a
    /// while, and (by default) the agent is made away.
    pub(super) fn offer_timed_out(&mut self, offer: u64, now: i64, events: &mut Vec<Event>) {
        let Some(Offer { slot, agent, .. }) = self.take_offer(offer) else { return };
        events.push(Event::OfferTimedOut {
            offer: OfferId(offer),
            contact: self.contact(slot).id.clone(),
            agent: self.agents[agent as usize].id.clone(),
        });
        self.pass_over(slot, agent, now);
        let mut returning = vec![slot];
        if self.config.away_on_missed_offer {
            events.push(Event::AgentAway {
                agent: self.agents[agent as usize].id.clone(),
                reason: AwayReason::MissedOffer,
            });
            returning.extend(self.leave(agent, super::agent::Presence::Away, Withdrawal::AgentAway, now, events));
        }
        self.requeue(returning, now, events);
        self.route_agent(agent, now, events);
    }

    /// Closes an open offer and frees the slot it reserved; the contact is left between
    /// places for the caller to put back or let go.
    pub(super) fn take_offer(&mut self, offer: u64) -> Option<Offer> {
        let taken = self.offers.remove(&offer)?;
        self.timers.cancel(taken.timer);
        let channel = self.contact(taken.slot).channel;
        let worker = &mut self.agents[taken.agent as usize];
        worker.live[channel as usize] -= 1;
        worker.offers.retain(|&open| open != offer);
        self.contact_mut(taken.slot).status = Status::Moving;
        self.refresh(taken.agent);
        Some(taken)
    }

    /// Withdraws every offer ringing at `agent`, returning the contacts for `requeue`.
    pub(super) fn withdraw_offers(&mut self, agent: u32, reason: Withdrawal, events: &mut Vec<Event>) -> Vec<u32> {
        let open = self.agents[agent as usize].offers.clone();
        let mut slots = Vec::with_capacity(open.len());
        for offer in open {
            let Some(Offer { slot, .. }) = self.take_offer(offer) else { continue };
            events.push(Event::OfferWithdrawn {
                offer: OfferId(offer),
                contact: self.contact(slot).id.clone(),
                agent: self.agents[agent as usize].id.clone(),
                reason,
            });
            slots.push(slot);
        }
        slots
    }

    /// After a reject or a missed offer: skip the agent for this contact for a while, and
    /// end any prefer window (the preferred agent has had their chance).
    fn pass_over(&mut self, slot: u32, agent: u32, now: i64) {
        let until = now.saturating_add(self.config.skip_after_reject_ms);
        let contact = self.contact_mut(slot);
        contact.skipped.retain(|skip| skip.until > now && skip.agent != agent);
        if until > now {
            contact.skipped.push(Skip { agent, until });
        }
        contact.prefer = None;
        if let Some(timer) = contact.prefer_timer.take() {
            self.timers.cancel(timer);
        }
        if until > now {
            self.timers.set(until, Timer::SkipEnds { agent });
        }
    }
}
