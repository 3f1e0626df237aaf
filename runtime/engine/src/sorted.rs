//! Maps hashed by id are written out sorted by key, so the same state always serializes to
//! the same bytes (its hash is a fingerprint), whatever the hash order.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

pub(crate) fn serialize<K, V, H, S>(map: &HashMap<K, V, H>, serializer: S) -> Result<S::Ok, S::Error>
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

pub(crate) fn deserialize<'de, K, V, H, D>(deserializer: D) -> Result<HashMap<K, V, H>, D::Error>
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
