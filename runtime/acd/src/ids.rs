//! Names and handles: agent, contact and queue names, offer numbers, and the skill and
//! language bit sets the engine matches with.

use super::event::AcdError;
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

macro_rules! name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(name: &str) -> Self {
                $name(Arc::from(name))
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name!(
    /// An agent's id, as the staffing system knows them.
    AgentId
);
name!(
    /// A contact's id (a call, chat, email, message, or outbound work item).
    ContactId
);
name!(
    /// A queue's name, as declared in the project (`queue billing { … }`).
    QueueName
);

/// One offer of one contact to one agent; the agent answers it with `accept` or `reject`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OfferId(pub u64);

impl fmt::Display for OfferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offer {}", self.0)
    }
}

/// A set of skills, one bit per name on the project's `skills` line (at most 64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct SkillSet(pub u64);

impl SkillSet {
    pub fn with(self, skill: u8) -> SkillSet {
        SkillSet(self.0 | 1 << skill)
    }

    pub fn union(self, other: SkillSet) -> SkillSet {
        SkillSet(self.0 | other.0)
    }

    pub fn contains_all(self, other: SkillSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The skill numbers in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let skill = bits.trailing_zeros() as u8;
            bits &= bits - 1;
            Some(skill)
        })
    }
}

/// The languages an agent speaks, one bit per language the engine has seen (at most 64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct LangSet(pub u64);

impl LangSet {
    pub fn with(self, language: u8) -> LangSet {
        LangSet(self.0 | 1 << language)
    }

    pub fn contains(self, language: u8) -> bool {
        self.0 & 1 << language != 0
    }
}

/// The skill and language names the engine knows, each with its bit number.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Vocabulary {
    skills: Vec<Arc<str>>,
    languages: Vec<Arc<str>>,
}

impl Vocabulary {
    pub fn new<S: AsRef<str>>(skills: &[S]) -> Result<Vocabulary, AcdError> {
        let mut vocabulary = Vocabulary::default();
        vocabulary.add_skills(skills)?;
        Ok(vocabulary)
    }

    /// Adds the skills it does not know yet (at most 64 in all).
    pub fn add_skills<S: AsRef<str>>(&mut self, skills: &[S]) -> Result<(), AcdError> {
        for skill in skills {
            let skill = skill.as_ref();
            if self.skills.iter().any(|known| &**known == skill) {
                continue;
            }
            if self.skills.len() == 64 {
                return Err(AcdError::TooManySkills);
            }
            self.skills.push(Arc::from(skill));
        }
        Ok(())
    }

    pub fn skill_count(&self) -> usize {
        self.skills.len()
    }

    pub fn skill(&self, name: &str) -> Result<u8, AcdError> {
        match self.skills.iter().position(|known| &**known == name) {
            Some(bit) => Ok(bit as u8),
            None => Err(AcdError::UnknownSkill(name.to_string())),
        }
    }

    pub fn skills(&self, names: &[String]) -> Result<SkillSet, AcdError> {
        names.iter().try_fold(SkillSet::default(), |set, name| Ok(set.with(self.skill(name)?)))
    }

    /// The bit of a language, given one on first sight.
    pub fn language(&mut self, name: &str) -> Result<u8, AcdError> {
        if let Some(bit) = self.languages.iter().position(|known| &**known == name) {
            return Ok(bit as u8);
        }
        if self.languages.len() == 64 {
            return Err(AcdError::TooManyLanguages);
        }
        self.languages.push(Arc::from(name));
        Ok(self.languages.len() as u8 - 1)
    }
}
