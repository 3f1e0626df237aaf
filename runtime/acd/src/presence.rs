//! Agents coming and going: joining the engine, becoming available, going away, logging
//! out, and coming out of wrap-up.

use super::agent::{Agent, Occupancy, Presence};
use super::config::AgentSpec;
use super::event::{AcdError, Event, Withdrawal};
use super::ids::{AgentId, LangSet, SkillSet};
use super::Acd;
use std::collections::BTreeMap;
use switchboard_bytecode::types::Channel;

impl Acd {
    /// A new agent, offline until `set_available`.
    pub fn add_agent(&mut self, spec: &AgentSpec, now: i64) -> Result<(), AcdError> {
        if self.agent_index.contains_key(spec.id.as_str()) {
            return Err(AcdError::DuplicateAgent(spec.id.clone()));
        }
        let mut skills = SkillSet::default();
        let mut proficiency = vec![0; self.vocabulary.skill_count()];
        for (skill, level) in &spec.skills {
            let level = level.unwrap_or(5);
            if !(1..=10).contains(&level) {
                return Err(AcdError::InvalidValue(format!("proficiency {level} is not between 1 and 10")));
            }
            let bit = self.vocabulary.skill(skill)?;
            skills = skills.with(bit);
            proficiency[bit as usize] = level;
        }
        let mut languages = LangSet::default();
        for language in &spec.languages {
            languages = languages.with(self.vocabulary.language(language)?);
        }
        let number = self.agents.len() as u32;
        let mut agent = Agent {
            id: AgentId::from(spec.id.as_str()),
            name: spec.name.clone(),
            skills,
            languages,
            capacity: spec.capacity.per_channel,
            exclusive: spec.capacity.exclusive,
            wrap_up_ms: spec.wrap_up_ms,
            presence: Presence::Offline,
            live: [0; 5],
            held: [0; 5],
            handling: 0,
            wraps: Vec::new(),
            offers: Vec::new(),
            groups: Vec::new(),
            queues: Vec::new(),
            preferred: BTreeMap::new(),
            occupancy: Occupancy { since: now, staffed_ms: 0, busy_ms: 0 },
        };
        agent.groups = (0..self.groups.len() as u32)
            .filter(|&group| {
                let group = &self.groups[group as usize];
                agent.capacity[group.channel as usize] > 0 && agent.can_serve(group.needs, group.language)
            })
            .collect();
        agent.queues = (0..self.queues.len() as u16)
            .filter(|&queue| skills.contains_all(self.queues[queue as usize].skills))
            .collect();
        self.roster.add(number, skills, languages, &proficiency, now);
        self.agent_index.insert(agent.id.clone(), number);
        self.agents.push(agent);
        Ok(())
    }

    /// The agent is ready for work (logging in, or back from away): they take the best
    /// waiting work at once.
    pub fn set_available(&mut self, agent: &str, now: i64) -> Result<Vec<Event>, AcdError> {
        let agent = self.agent_number(agent)?;
        let worker = &mut self.agents[agent as usize];
        worker.account(now);
        if worker.presence != Presence::Available {
            worker.presence = Presence::Available;
            self.roster.idle_since[agent as usize] = now;
        }
        self.refresh(agent);
        let mut events = Vec::new();
        self.route_agent(agent, now, &mut events);
        Ok(events)
    }

    /// The agent steps away: no new offers; offers ringing at them are withdrawn. Work in
    /// progress stays theirs, and contacts kept for them (`prefer`) stay kept.
    pub fn set_away(&mut self, agent: &str, now: i64) -> Result<Vec<Event>, AcdError> {
        let agent = self.agent_number(agent)?;
        let mut events = Vec::new();
        let returning = self.leave(agent, Presence::Away, Withdrawal::AgentAway, now, &mut events);
        self.requeue(returning, now, &mut events);
        Ok(events)
    }

    /// The agent logs out: as away, and contacts kept for them open to everyone.
    pub fn log_out(&mut self, agent: &str, now: i64) -> Result<Vec<Event>, AcdError> {
        let agent = self.agent_number(agent)?;
        let mut events = Vec::new();
        let mut returning = self.leave(agent, Presence::Offline, Withdrawal::AgentOffline, now, &mut events);
        returning.extend(self.release_preferred(agent, &mut events));
        self.requeue(returning, now, &mut events);
        Ok(events)
    }

    /// Sets an away or offline presence and withdraws the agent's ringing offers, returning
    /// the contacts for `requeue`.
    pub(super) fn leave(
        &mut self,
        agent: u32,
        presence: Presence,
        reason: Withdrawal,
        now: i64,
        events: &mut Vec<Event>,
    ) -> Vec<u32> {
        let worker = &mut self.agents[agent as usize];
        worker.account(now);
        worker.presence = presence;
        self.refresh(agent);
        self.withdraw_offers(agent, reason, events)
    }

    /// Frees the slots whose wrap-up has ended, and lets the agent take work.
    pub(super) fn end_wrap_up(&mut self, agent: u32, now: i64, events: &mut Vec<Event>) {
        let worker = &mut self.agents[agent as usize];
        worker.account(now);
        let before = worker.wraps.len();
        let mut held = [0u8; 5];
        worker.wraps.retain(|wrap| wrap.until > now);
        for wrap in &worker.wraps {
            held[wrap.channel as usize] += 1;
        }
        if worker.wraps.len() == before {
            return;
        }
        worker.held = held;
        events.push(Event::WrapUpEnded { agent: worker.id.clone() });
        self.roster.idle_since[agent as usize] = now;
        self.refresh(agent);
        self.route_agent(agent, now, events);
    }

    /// Channels an agent could ever take, for expected-wait estimates.
    pub(super) fn staffed_slots(&self, needs: SkillSet, language: Option<u8>, channel: Channel) -> u64 {
        self.agents
            .iter()
            .filter(|agent| agent.presence != Presence::Offline && agent.can_serve(needs, language))
            .map(|agent| agent.capacity[channel as usize] as u64)
            .sum()
    }
}
