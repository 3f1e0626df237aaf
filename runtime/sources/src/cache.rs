//! `cache 5m`: answers a source gave, kept for a while, keyed by the normalized key.
//!
//! - Time is passed in (`now_ms`), never read, so a test's virtual clock drives expiry.
//!   An answer stored at `t` serves look-ups at `t <= now < t + ttl`; a clock that went
//!   back before `t` sees it as stale.
//! - Misses are kept too: a customer who is not in the CRM is not looked up again on every
//!   message of a chat. The price is that a row added to the data is found only once the
//!   miss expires — at most one TTL later. Errors and time-outs are never kept, so the next
//!   look-up tries the source again.
//! - Keys are the normal forms a key gives (see `matching`): `+447700900001` with or
//!   without spaces around it shares an entry, and so does a phone key with the same text
//!   key only if they match the same fields — they do not, as a text key may also match
//!   text fields. A key that gives none (`none`) is not cached.
//! - The cache holds at most `capacity` answers; when full, the least recently used one
//!   goes (expired answers go as soon as they are seen).
//! - A hit only stamps its entry with the time of use. The eviction order is brought up to
//!   date lazily: an entry whose stamp is newer than its place in the order is put back at
//!   its stamp when it comes up, so the one evicted is still the least recently used.

use super::matching::{key_probes, with_key_probes, Probe};
use super::{Source, SourceError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use switchboard_bytecode::value::{Record, Value};

/// How many answers a cache holds unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// What a look-up found: a row, or nothing.
pub type Answer = Option<Arc<Record>>;

/// The kept answers of one source.
#[derive(Debug)]
pub struct Cache {
    ttl_ms: i64,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Vec<Probe>, Entry>,
    /// Place → key, oldest first: the eviction order, as of each entry's `place`.
    by_use: BTreeMap<u64, Vec<Probe>>,
    uses: u64,
}

#[derive(Debug)]
struct Entry {
    stored_at: i64,
    answer: Answer,
    /// When it was last used.
    last_use: u64,
    /// Its key in `by_use`: its last use when it was last put in order (not newer).
    place: u64,
}

impl Cache {
    /// A cache keeping answers for `ttl_ms`, at most `capacity` of them (at least one).
    pub fn new(ttl_ms: i64, capacity: usize) -> Cache {
        Cache { ttl_ms, capacity: capacity.max(1), state: Mutex::default() }
    }

    /// The kept answer for `key` at `now_ms`: `Some(answer)` on a hit (the answer itself
    /// may be a miss), `None` when the source must be asked.
    pub fn get(&self, key: &Value, now_ms: i64) -> Option<Answer> {
        with_key_probes(key, |probes| self.get_probes(probes, now_ms))
    }

    /// Keeps what the source answered for `key` at `now_ms`.
    pub fn put(&self, key: &Value, now_ms: i64, answer: Answer) {
        self.put_probes(key_probes(key), now_ms, answer);
    }

    /// How many answers are kept, fresh or not yet seen to be stale.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get_probes(&self, probes: &[Probe], now_ms: i64) -> Option<Answer> {
        if probes.is_empty() {
            return None;
        }
        let mut state = self.lock();
        let state = &mut *state;
        let entry = state.entries.get_mut(probes)?;
        let fresh = entry.stored_at <= now_ms && now_ms < entry.stored_at.saturating_add(self.ttl_ms);
        if !fresh {
            let place = entry.place;
            state.entries.remove(probes);
            state.by_use.remove(&place);
            return None;
        }
        state.uses += 1;
        entry.last_use = state.uses;
        Some(entry.answer.clone())
    }

    fn put_probes(&self, probes: Vec<Probe>, now_ms: i64, answer: Answer) {
        if probes.is_empty() || self.ttl_ms <= 0 {
            return;
        }
        let mut state = self.lock();
        let state = &mut *state;
        if let Some(old) = state.entries.remove(&probes) {
            state.by_use.remove(&old.place);
        }
        while state.entries.len() >= self.capacity {
            let Some((place, oldest)) = state.by_use.pop_first() else { break };
            match state.entries.get_mut(&oldest) {
                // Used since it was put in order: it takes its place as of that use.
                Some(entry) if entry.last_use != place => {
                    entry.place = entry.last_use;
                    state.by_use.insert(entry.last_use, oldest);
                }
                _ => {
                    state.entries.remove(&oldest);
                }
            }
        }
        state.uses += 1;
        state.by_use.insert(state.uses, probes.clone());
        let uses = state.uses;
        state.entries.insert(probes, Entry { stored_at: now_ms, answer, last_use: uses, place: uses });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement a panic could interrupt.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A source with a cache in front of it.
#[derive(Debug)]
pub struct Cached<S> {
    inner: S,
    cache: Cache,
}

impl<S: Source> Cached<S> {
    /// Keeps answers for `ttl_ms`, at most [`DEFAULT_CAPACITY`] of them.
    pub fn new(inner: S, ttl_ms: i64) -> Cached<S> {
        Cached::with_capacity(inner, ttl_ms, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(inner: S, ttl_ms: i64, capacity: usize) -> Cached<S> {
        Cached { inner, cache: Cache::new(ttl_ms, capacity) }
    }

    /// The answer for `key` at `now_ms`: kept if fresh, else asked of the source and kept.
    pub fn lookup_at(&self, key: &Value, now_ms: i64) -> Result<Answer, SourceError> {
        if let Some(answer) = self.cache.get(key, now_ms) {
            return Ok(answer);
        }
        let answer = self.inner.lookup(key)?;
        self.cache.put(key, now_ms, answer.clone());
        Ok(answer)
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::crm;
    use crate::MemorySource;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts how often it is asked; answers from a real in-memory source.
    struct Counting {
        inner: MemorySource,
        asked: AtomicUsize,
        fail: bool,
    }

    impl Source for Counting {
        fn lookup(&self, key: &Value) -> Result<Answer, SourceError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(SourceError::Unavailable { source: "crm".into(), message: "down".into() });
            }
            self.inner.lookup(key)
        }
    }

    fn ann() -> Arc<Record> {
        Arc::new(Record {
            type_name: Arc::from("Customer"),
            fields: vec![
                (Arc::from("id"), Value::text("c1")),
                (Arc::from("phone"), Value::Phone(Arc::from("+447700900001"))),
            ],
        })
    }

    fn counting(fail: bool) -> Counting {
        Counting { inner: MemorySource::new(&crm(), vec![ann()]), asked: AtomicUsize::new(0), fail }
    }

    const FIVE_MINUTES: i64 = 300_000;

    #[test]
    fn a_hit_is_served_until_it_expires() {
        let cached = Cached::new(counting(false), FIVE_MINUTES);
        let key = Value::Phone(Arc::from("+447700900001"));
        let asked = || cached.inner().asked.load(Ordering::SeqCst);
        assert_eq!(cached.lookup_at(&key, 1_000).unwrap(), Some(ann()));
        assert_eq!(asked(), 1);
        assert_eq!(cached.lookup_at(&key, 1_000 + FIVE_MINUTES - 1).unwrap(), Some(ann()));
        assert_eq!(asked(), 1, "served from the cache");
        assert_eq!(cached.lookup_at(&key, 1_000 + FIVE_MINUTES).unwrap(), Some(ann()));
        assert_eq!(asked(), 2, "expired, asked again");
        assert_eq!(cached.lookup_at(&key, 999).unwrap(), Some(ann()));
        assert_eq!(asked(), 3, "a clock that went back sees the answer as stale");
    }

    #[test]
    fn keys_share_an_entry_by_their_normal_form() {
        let cached = Cached::new(counting(false), FIVE_MINUTES);
        let asked = || cached.inner().asked.load(Ordering::SeqCst);
        assert!(cached.lookup_at(&Value::text(" +447700900001 "), 0).unwrap().is_some());
        assert!(cached.lookup_at(&Value::text("+447700900001"), 1).unwrap().is_some());
        assert_eq!(asked(), 1);
        assert!(cached.lookup_at(&Value::text("+44 7700 900001"), 1).unwrap().is_some());
        assert_eq!(asked(), 2, "spaces inside are kept for exact text fields");
        assert!(cached.lookup_at(&Value::Phone(Arc::from("+447700900001")), 2).unwrap().is_some());
        assert_eq!(asked(), 3, "a phone key is not a text key: it matches fewer fields");
    }

    #[test]
    fn misses_are_kept_and_errors_are_not() {
        let cached = Cached::new(counting(false), FIVE_MINUTES);
        let nobody = Value::Phone(Arc::from("+447700900099"));
        assert_eq!(cached.lookup_at(&nobody, 0).unwrap(), None);
        assert_eq!(cached.lookup_at(&nobody, 10).unwrap(), None);
        assert_eq!(cached.inner().asked.load(Ordering::SeqCst), 1);

        let failing = Cached::new(counting(true), FIVE_MINUTES);
        assert!(failing.lookup_at(&nobody, 0).is_err());
        assert!(failing.lookup_at(&nobody, 10).is_err());
        assert_eq!(failing.inner().asked.load(Ordering::SeqCst), 2);
        assert!(failing.cache().is_empty());
    }

    #[test]
    fn a_none_key_is_never_cached() {
        let cached = Cached::new(counting(false), FIVE_MINUTES);
        assert_eq!(cached.lookup_at(&Value::None, 0).unwrap(), None);
        assert_eq!(cached.lookup_at(&Value::None, 0).unwrap(), None);
        assert_eq!(cached.inner().asked.load(Ordering::SeqCst), 2);
        assert!(cached.cache().is_empty());
    }

    #[test]
    fn the_least_recently_used_answer_goes_first() {
        let cache = Cache::new(FIVE_MINUTES, 2);
        let key = |n: u32| Value::Phone(Arc::from(format!("+4477009000{n:02}")));
        cache.put(&key(1), 0, None);
        cache.put(&key(2), 0, None);
        assert_eq!(cache.get(&key(1), 1), Some(None), "1 is now the more recently used");
        cache.put(&key(3), 2, Some(ann()));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&key(2), 3), None, "2 was evicted");
        assert_eq!(cache.get(&key(1), 3), Some(None));
        assert_eq!(cache.get(&key(3), 3), Some(Some(ann())));
        cache.put(&key(3), 4, None);
        assert_eq!(cache.len(), 2, "storing again replaces");
        assert_eq!(cache.get(&key(3), 5), Some(None));
    }

    #[test]
    fn eviction_follows_use_not_storing() {
        let cache = Cache::new(FIVE_MINUTES, 3);
        let key = |n: u32| Value::Phone(Arc::from(format!("+4477009000{n:02}")));
        for n in 1..=3 {
            cache.put(&key(n), 0, None);
        }
        // Used in the order 1, 3, 1, 2: 3 is now the least recently used.
        for n in [1, 3, 1, 2] {
            assert_eq!(cache.get(&key(n), 1), Some(None));
        }
        cache.put(&key(4), 2, None);
        assert_eq!(cache.get(&key(3), 3), None, "3 was evicted");
        cache.put(&key(5), 4, None);
        assert_eq!(cache.get(&key(1), 5), None, "then 1");
        for n in [2, 4, 5] {
            assert_eq!(cache.get(&key(n), 6), Some(None), "{n} is kept");
        }
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn expired_answers_leave_when_seen() {
        let cache = Cache::new(1_000, 10);
        let key = Value::text("@annb");
        cache.put(&key, 0, None);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&key, 1_000), None);
        assert!(cache.is_empty());
    }
}
