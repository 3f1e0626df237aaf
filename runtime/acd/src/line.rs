//! A waiting line: waiters sorted by rank, that also says in O(log n) how many stand ahead
//! of a rank. A caller's place in the queue (`queue.position`, `queue.ewt`) is asked for
//! every waiting contact at every `while waiting` announcement, so counting the line walk by
//! walk made a day with many callers waiting quadratic.
//!
//! It is a treap: a binary search tree by rank whose nodes are also heap-ordered by a
//! priority, which keeps its depth logarithmic in expectation; each node knows the size of
//! its subtree. The priority is a hash of the rank's unique `seq`, so the shape, like
//! everything in routing, depends only on what happened. Nodes live in one `Vec`, their
//! links are indices, and freed nodes are reused.
//!
//! It is written out as the sorted list of (rank, waiter) pairs a `BTreeMap` would be.

use super::score::Rank;
use super::waiting::Waiter;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// No node.
const NIL: u32 = u32::MAX;

#[derive(Clone)]
struct Node {
    rank: Rank,
    waiter: Waiter,
    priority: u64,
    /// Nodes in the subtree rooted here, this one included.
    size: u32,
    left: u32,
    right: u32,
}

#[derive(Clone)]
pub(super) struct Line {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
}

impl Default for Line {
    fn default() -> Line {
        Line { nodes: Vec::new(), free: Vec::new(), root: NIL }
    }
}

/// SplitMix64's finaliser: a well-spread priority from a contact's sequence number.
fn priority(rank: &Rank) -> u64 {
    let mut z = rank.seq.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Line {
    pub fn len(&self) -> usize {
        self.size(self.root) as usize
    }

    /// The waiter at `rank`, replaced when there was one.
    pub fn insert(&mut self, rank: Rank, waiter: Waiter) {
        if let Some(at) = self.find(&rank) {
            self.nodes[at as usize].waiter = waiter;
            return;
        }
        let node = Node { rank, waiter, priority: priority(&rank), size: 1, left: NIL, right: NIL };
        let at = match self.free.pop() {
            Some(at) => {
                self.nodes[at as usize] = node;
                at
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() as u32 - 1
            }
        };
        let (before, after) = self.split(self.root, &rank, false);
        let joined = self.merge(before, at);
        self.root = self.merge(joined, after);
    }

    /// Takes the waiter at `rank` out of the line, if there is one.
    pub fn remove(&mut self, rank: &Rank) -> Option<Waiter> {
        let (before, rest) = self.split(self.root, rank, false);
        let (found, after) = self.split(rest, rank, true);
        self.root = self.merge(before, after);
        if found == NIL {
            return None;
        }
        self.free.push(found);
        Some(self.nodes[found as usize].waiter)
    }

    /// The first of the line.
    pub fn first(&self) -> Option<(Rank, Waiter)> {
        let mut at = self.root;
        if at == NIL {
            return None;
        }
        while self.nodes[at as usize].left != NIL {
            at = self.nodes[at as usize].left;
        }
        let node = &self.nodes[at as usize];
        Some((node.rank, node.waiter))
    }

    /// How many waiters rank ahead of `rank`.
    pub fn count_before(&self, rank: &Rank) -> usize {
        let (mut at, mut count) = (self.root, 0);
        while at != NIL {
            let node = &self.nodes[at as usize];
            if node.rank < *rank {
                count += self.size(node.left) as usize + 1;
                at = node.right;
            } else {
                at = node.left;
            }
        }
        count
    }

    /// The waiters behind `rank`, in order.
    pub fn after(&self, rank: &Rank) -> Iter<'_> {
        let behind = self.len() - self.count_before(rank) - usize::from(self.find(rank).is_some());
        let mut iter = Iter { line: self, stack: Vec::new(), remaining: behind };
        let mut at = self.root;
        while at != NIL {
            let node = &self.nodes[at as usize];
            if node.rank > *rank {
                iter.stack.push(at);
                at = node.left;
            } else {
                at = node.right;
            }
        }
        iter
    }

    /// Every waiter, in order.
    pub fn iter(&self) -> Iter<'_> {
        let mut iter = Iter { line: self, stack: Vec::new(), remaining: self.len() };
        iter.descend(self.root);
        iter
    }

    fn size(&self, at: u32) -> u32 {
        if at == NIL {
            0
        } else {
            self.nodes[at as usize].size
        }
    }

    fn find(&self, rank: &Rank) -> Option<u32> {
        let mut at = self.root;
        while at != NIL {
            let node = &self.nodes[at as usize];
            at = match rank.cmp(&node.rank) {
                Ordering::Less => node.left,
                Ordering::Greater => node.right,
                Ordering::Equal => return Some(at),
            };
        }
        None
    }

    fn resize(&mut self, at: u32) {
        let node = &self.nodes[at as usize];
        let size = 1 + self.size(node.left) + self.size(node.right);
        self.nodes[at as usize].size = size;
    }

    /// Splits the subtree at `at` into the ranks before `rank` and the rest, or, with
    /// `through`, into the ranks up to `rank` included and the rest.
    fn split(&mut self, at: u32, rank: &Rank, through: bool) -> (u32, u32) {
        if at == NIL {
            return (NIL, NIL);
        }
        let node_rank = self.nodes[at as usize].rank;
        let goes_left = if through { node_rank <= *rank } else { node_rank < *rank };
        if goes_left {
            let (middle, right) = self.split(self.nodes[at as usize].right, rank, through);
            self.nodes[at as usize].right = middle;
            self.resize(at);
            (at, right)
        } else {
            let (left, middle) = self.split(self.nodes[at as usize].left, rank, through);
            self.nodes[at as usize].left = middle;
            self.resize(at);
            (left, at)
        }
    }

    /// Joins two subtrees, every rank of `left` before every rank of `right`.
    fn merge(&mut self, left: u32, right: u32) -> u32 {
        if left == NIL {
            return right;
        }
        if right == NIL {
            return left;
        }
        if self.nodes[left as usize].priority > self.nodes[right as usize].priority {
            let merged = self.merge(self.nodes[left as usize].right, right);
            self.nodes[left as usize].right = merged;
            self.resize(left);
            left
        } else {
            let merged = self.merge(left, self.nodes[right as usize].left);
            self.nodes[right as usize].left = merged;
            self.resize(right);
            right
        }
    }
}

/// Waiters in rank order: the stack holds the nodes still to yield, nearest on top.
pub(super) struct Iter<'a> {
    line: &'a Line,
    stack: Vec<u32>,
    /// How many are still to come (serde formats such as postcard want a list's length).
    remaining: usize,
}

impl Iter<'_> {
    fn descend(&mut self, mut at: u32) {
        while at != NIL {
            self.stack.push(at);
            at = self.line.nodes[at as usize].left;
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Rank, &'a Waiter);

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.stack.pop()?;
        let node = &self.line.nodes[at as usize];
        self.descend(node.right);
        self.remaining -= 1;
        Some((&node.rank, &node.waiter))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Line {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Line, D::Error> {
        let pairs: Vec<(Rank, Waiter)> = Vec::deserialize(deserializer)?;
        let mut line = Line::default();
        for (rank, waiter) in pairs {
            line.insert(rank, waiter);
        }
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rank(rng: &mut fastrand::Rng, seq: u64) -> Rank {
        // Few distinct arrival times, so ties on them are decided further down the key.
        Rank { tier: rng.u8(0..2), virtual_arrival: rng.i64(0..50), enqueued_at: rng.i64(0..5), seq }
    }

    fn waiter(slot: u32) -> Waiter {
        Waiter { slot, skips: slot % 3 == 1 }
    }

    #[test]
    fn a_line_agrees_with_a_sorted_map_through_random_inserts_and_removals() {
        let mut rng = fastrand::Rng::with_seed(7);
        let (mut line, mut model) = (Line::default(), BTreeMap::new());
        let mut ranks = Vec::new();
        for step in 0..20_000u32 {
            if rng.u8(0..10) < 6 || ranks.is_empty() {
                let r = rank(&mut rng, u64::from(step));
                line.insert(r, waiter(step));
                model.insert(r, waiter(step));
                ranks.push(r);
            } else {
                let r = ranks.swap_remove(rng.usize(..ranks.len()));
                assert_eq!(line.remove(&r), model.remove(&r));
                assert_eq!(line.remove(&r), None, "already gone");
            }
            assert_eq!(line.len(), model.len());
            assert_eq!(line.first(), model.first_key_value().map(|(r, w)| (*r, *w)));
            if step % 97 == 0 {
                let seq = rng.u64(0..u64::from(step) + 2);
                let probe = rank(&mut rng, seq);
                assert_eq!(line.count_before(&probe), model.range(..probe).count());
                assert_eq!(line.after(&probe).len(), line.after(&probe).count(), "it knows its length");
                let after: Vec<_> = line.after(&probe).collect();
                let expected: Vec<_> =
                    model.range((std::ops::Bound::Excluded(probe), std::ops::Bound::Unbounded)).collect();
                assert_eq!(after, expected);
            }
        }
        assert!(line.iter().eq(model.iter()));
        assert_eq!(line.iter().len(), model.len());
        for r in &ranks {
            assert_eq!(
                line.after(r).len(),
                model.range((std::ops::Bound::Excluded(*r), std::ops::Bound::Unbounded)).count()
            );
            assert_eq!(line.count_before(r), model.range(..*r).count());
        }
    }

    #[test]
    fn inserting_a_rank_again_replaces_its_waiter() {
        let r = Rank { tier: 1, virtual_arrival: 5, enqueued_at: 5, seq: 1 };
        let mut line = Line::default();
        line.insert(r, waiter(1));
        line.insert(r, waiter(2));
        assert_eq!(line.len(), 1);
        assert_eq!(line.first(), Some((r, waiter(2))));
    }

    #[test]
    fn a_line_is_written_out_as_a_sorted_list_of_pairs_and_read_back() {
        let mut rng = fastrand::Rng::with_seed(3);
        let (mut line, mut model) = (Line::default(), BTreeMap::new());
        for seq in 0..200 {
            let r = rank(&mut rng, seq);
            line.insert(r, waiter(seq as u32));
            model.insert(r, waiter(seq as u32));
        }
        let written = serde_json::to_string(&line).expect("a line serializes");
        let pairs: Vec<(Rank, Waiter)> = model.into_iter().collect();
        assert_eq!(written, serde_json::to_string(&pairs).expect("pairs serialize"));
        let read: Line = serde_json::from_str(&written).expect("and reads back");
        assert!(read.iter().eq(line.iter()));
    }

    #[test]
    fn a_long_line_stays_shallow() {
        // Arrivals in order, the worst case for an unbalanced tree.
        let mut line = Line::default();
        for seq in 0..100_000u64 {
            line.insert(Rank { tier: 1, virtual_arrival: seq as i64, enqueued_at: seq as i64, seq }, waiter(0));
        }
        fn depth(line: &Line, at: u32) -> usize {
            if at == NIL {
                return 0;
            }
            let node = &line.nodes[at as usize];
            1 + depth(line, node.left).max(depth(line, node.right))
        }
        assert!(depth(&line, line.root) < 60, "depth {}", depth(&line, line.root));
    }
}
