//! The agent index that routing scans when a contact arrives: bit sets of the agents free on
//! each channel, of the agents with each skill and each language, and flat tables of
//! proficiency and idle time. ANDing the sets a word at a time leaves only the agents who
//! may take a contact, so a scan of 1,000 agents touches a few hundred bytes.

use super::ids::{LangSet, SkillSet};
use serde::{Deserialize, Serialize};
use switchboard_bytecode::types::Channel;

/// A set of agents by number.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct AgentBits(Vec<u64>);

impl AgentBits {
    pub fn set(&mut self, agent: u32, on: bool) {
        let word = agent as usize / 64;
        if word >= self.0.len() {
            if !on {
                return;
            }
            self.0.resize(word + 1, 0);
        }
        let bit = 1u64 << (agent % 64);
        if on {
            self.0[word] |= bit;
        } else {
            self.0[word] &= !bit;
        }
    }

    fn word(&self, word: usize) -> u64 {
        self.0.get(word).copied().unwrap_or(0)
    }
}

/// The agent numbers of the set bits of word number `word`.
fn ones(word: usize, mut bits: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        if bits == 0 {
            return None;
        }
        let bit = bits.trailing_zeros();
        bits &= bits - 1;
        Some(word as u32 * 64 + bit)
    })
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Roster {
    /// Per channel, the agents who can take a contact on it now.
    free: [AgentBits; 5],
    /// Per skill number, the agents who have it.
    skills: Vec<AgentBits>,
    /// Per language number, the agents who speak it.
    languages: Vec<AgentBits>,
    /// Proficiency by agent and skill: `agent * skill_count + skill`, 0 without the skill.
    proficiency: Vec<u8>,
    skill_count: usize,
    /// When each agent last became available, received work, or finished a piece of work.
    pub idle_since: Vec<i64>,
}

impl Roster {
    pub fn new(skill_count: usize) -> Roster {
        Roster { skills: vec![AgentBits::default(); skill_count], skill_count, ..Roster::default() }
    }

    /// Makes room for skills added after agents were entered: they have none of them.
    pub fn grow_skills(&mut self, skill_count: usize) {
        if skill_count <= self.skill_count {
            return;
        }
        let agents = self.idle_since.len();
        let mut proficiency = Vec::with_capacity(agents * skill_count);
        for agent in 0..agents {
            proficiency.extend_from_slice(&self.proficiency[agent * self.skill_count..][..self.skill_count]);
            proficiency.resize((agent + 1) * skill_count, 0);
        }
        self.proficiency = proficiency;
        self.skills.resize(skill_count, AgentBits::default());
        self.skill_count = skill_count;
    }

    /// Enters agent number `agent` (the next number), whose proficiency is given by skill.
    pub fn add(&mut self, agent: u32, skills: SkillSet, languages: LangSet, proficiency: &[u8], now: i64) {
        for skill in skills.iter() {
            self.skills[skill as usize].set(agent, true);
        }
        for language in (0..64).filter(|&language| languages.contains(language)) {
            if self.languages.len() <= language as usize {
                self.languages.resize(language as usize + 1, AgentBits::default());
            }
            self.languages[language as usize].set(agent, true);
        }
        self.proficiency.extend_from_slice(&proficiency[..self.skill_count]);
        self.idle_since.push(now);
    }

    pub fn set_free(&mut self, agent: u32, channel: Channel, free: bool) {
        self.free[channel as usize].set(agent, free);
    }

    /// The agents free on `channel` now with every skill of `needs` and, if given, the
    /// language; lowest number first.
    pub fn candidates(
        &self,
        channel: Channel,
        needs: SkillSet,
        language: Option<u8>,
    ) -> impl Iterator<Item = u32> + '_ {
        let free = &self.free[channel as usize].0;
        free.iter().enumerate().flat_map(move |(word, &bits)| {
            let mut bits = bits;
            for skill in needs.iter() {
                bits &= self.skills[skill as usize].word(word);
            }
            if let Some(language) = language {
                bits &= self.languages.get(language as usize).map_or(0, |speakers| speakers.word(word));
            }
            ones(word, bits)
        })
    }

    /// An agent's proficiency for a contact: the sum over the skills it needs.
    pub fn proficiency_for(&self, agent: u32, needs: SkillSet) -> u32 {
        let row = &self.proficiency[agent as usize * self.skill_count..][..self.skill_count];
        needs.iter().map(|skill| row[skill as usize] as u32).sum()
    }
}
