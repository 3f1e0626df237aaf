//! Hash maps for the hot paths of routing and the engine, kept deterministic: their hashers
//! have no random seed, the maps are only looked up (never iterated: `clippy.toml` bans it),
//! and they are serialized sorted by key, so the same state always writes the same bytes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// Hashes ids the engine hands out one after another (never chosen by a caller) with one
/// multiplication.
pub type ById = BuildHasherDefault<IdHasher>;

/// Hashes short texts (routing's contact ids) a word at a time, as rustc's FxHash does.
/// Keys come from the engine, not from callers, so no seed is needed against collisions.
pub type ByText = BuildHasherDefault<TextHasher>;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(K);
    }
}

#[derive(Default)]
pub struct TextHasher(u64);

impl TextHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for TextHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }

    fn write_usize(&mut self, word: usize) {
        self.add(word as u64);
    }
}

/// `#[serde(with = "keyed::sorted")]`: a hash map written as its pairs sorted by key.
pub mod sorted {
    use super::*;

    pub fn serialize<K, V, H, S>(map: &HashMap<K, V, H>, serializer: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize + Ord,
        V: Serialize,
        S: Serializer,
    {
        // The one place these maps are iterated, and its order is sorted away at once.
        #[allow(clippy::disallowed_methods)]
        let mut pairs: Vec<(&K, &V)> = map.iter().collect();
        pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_seq(pairs)
    }

    pub fn deserialize<'de, K, V, H, D>(deserializer: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let pairs: Vec<(K, V)> = Vec::deserialize(deserializer)?;
        let mut map = HashMap::with_capacity_and_hasher(pairs.len(), H::default());
        map.extend(pairs);
        Ok(map)
    }
}
