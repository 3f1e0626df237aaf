//! The queue order: a contact's score, and the static key that keeps waiting lines sorted.
//!
//! `score(now) = bucket + boost + (now − enqueued_at) / aging`, VIP first. Rewritten as
//! `(now − virtual_arrival) / aging` with `virtual_arrival = enqueued_at − (bucket + boost) × aging`,
//! the order of two contacts that age at the same rate never changes as time passes: a line
//! sorted by `virtual_arrival` stays sorted. Contacts on channels that age at different rates
//! are compared at `now`, exactly, in integers.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Where a waiting contact stands; smaller is served first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(super) struct Rank {
    /// 0 for VIP contacts, 1 for everyone else: a VIP beats every non-VIP.
    pub tier: u8,
    /// The arrival time at which a contact with no points would rank equal.
    pub virtual_arrival: i64,
    /// Ties: the contact that has waited longer.
    pub enqueued_at: i64,
    /// Last tie: arrival order. Unique, so no two ranks are equal.
    pub seq: u64,
}

impl Rank {
    pub fn new(vip: bool, enqueued_at: i64, points: i64, aging_ms: i64, seq: u64) -> Rank {
        Rank {
            tier: if vip { 0 } else { 1 },
            virtual_arrival: enqueued_at.saturating_sub(points.saturating_mul(aging_ms)),
            enqueued_at,
            seq,
        }
    }

    /// The score at `now`: points plus one point per `aging_ms` waited.
    pub fn score(&self, now: i64, aging_ms: i64) -> f64 {
        (now as f64 - self.virtual_arrival as f64) / aging_ms as f64
    }
}

/// The order at `now` of `a` (aging one point per `aging_a` ms) and `b` (per `aging_b`):
/// `Less` when `a` is served first. Agrees with `Rank`'s own order when the rates are equal.
pub(super) fn compare(now: i64, a: Rank, aging_a: i64, b: Rank, aging_b: i64) -> Ordering {
    a.tier
        .cmp(&b.tier)
        .then_with(|| {
            // (now − va_a) / aging_a > (now − va_b) / aging_b, without dividing.
            let score_a = (now as i128 - a.virtual_arrival as i128) * aging_b as i128;
            let score_b = (now as i128 - b.virtual_arrival as i128) * aging_a as i128;
            score_b.cmp(&score_a)
        })
        .then(a.enqueued_at.cmp(&b.enqueued_at))
        .then(a.seq.cmp(&b.seq))
}
