//! A radix heap of timed events: the heap behind [`EventQueue`](super::EventQueue).
//!
//! A simulation schedules nothing before the time it has reached, so the queue is
//! *monotone*, and a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) fits it: an
//! entry waits in the bucket named by the highest bit in which its time differs from
//! the last minimum taken out, and is moved at most once per bit as the minimum
//! advances. A push is an append and a pop is mostly a pop from the front of one
//! list, where a binary heap sifts through ~log₂ n scattered entries on every pop.
//!
//! Equal times keep scheduling order without comparing sequence numbers: every
//! bucket holds its entries in sequence order (a push appends the newest; a bucket is
//! only ever redistributed into buckets that are empty), so the front bucket — the
//! entries at the minimum time — is first in, first out.
//!
//! An entry earlier than that minimum (a queue may be handed one: the lanes of
//! [`EventQueue`](super::EventQueue) run ahead of or behind the heap) goes to a
//! small binary heap beside it, and the earlier of the two fronts pops: the order is
//! always exactly (time, sequence).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::Entry;

/// Bits of a time: bucket `b` (1..=64) holds times whose highest bit differing from
/// the minimum's is bit `b − 1`.
const BUCKETS: usize = 65;

pub(super) struct RadixHeap<E> {
    /// The time (as an order-preserving `u64`) of the entries in `front`; every entry
    /// in `buckets` is later.
    last: u64,
    /// The entries at time `last`, in sequence order. Never empty while `buckets`
    /// holds anything.
    front: VecDeque<Entry<E>>,
    /// Bucket 0 is unused (those entries are in `front`).
    buckets: Vec<Vec<Entry<E>>>,
    /// Entries in the buckets (not counting `front`).
    in_buckets: usize,
    /// Entries scheduled before `last`.
    early: BinaryHeap<Reverse<Entry<E>>>,
}

/// A time as an unsigned number in the same order.
fn key(time: i64) -> u64 {
    (time as u64) ^ (1 << 63)
}

/// The bucket of `k` against the minimum `last` (`k` > `last`).
fn bucket(k: u64, last: u64) -> usize {
    64 - (k ^ last).leading_zeros() as usize
}

impl<E> RadixHeap<E> {
    pub(super) fn new() -> Self {
        RadixHeap {
            last: 0,
            front: VecDeque::new(),
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            in_buckets: 0,
            early: BinaryHeap::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.front.len() + self.in_buckets + self.early.len()
    }

    pub(super) fn push(&mut self, e: Entry<E>) {
        let k = key(e.time);
        if self.front.is_empty() {
            // (then the buckets are empty too: the minimum starts here)
            self.last = k;
            self.front.push_back(e);
        } else if k == self.last {
            self.front.push_back(e);
        } else if k > self.last {
            self.buckets[bucket(k, self.last)].push(e);
            self.in_buckets += 1;
        } else {
            self.early.push(Reverse(e));
        }
    }

    /// The first entry: the earlier of the front and the early heap's top (at equal
    /// times the earlier scheduled).
    pub(super) fn peek(&self) -> Option<&Entry<E>> {
        match (self.front.front(), self.early.peek()) {
            (Some(f), Some(Reverse(e))) => Some(if e < f { e } else { f }),
            (f, e) => f.or(e.map(|Reverse(e)| e)),
        }
    }

    pub(super) fn pop(&mut self) -> Option<Entry<E>> {
        let early_first = match (self.front.front(), self.early.peek()) {
            (Some(f), Some(Reverse(e))) => e < f,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if early_first {
            return self.early.pop().map(|Reverse(e)| e);
        }
        let e = self.front.pop_front()?;
        if self.front.is_empty() && self.in_buckets > 0 {
            self.refill();
        }
        Some(e)
    }

    /// Moves the earliest bucket's entries down, around its minimum time: those at the
    /// minimum fill `front` (in the bucket's order, which is sequence order), the rest
    /// go to lower buckets, all empty now.
    fn refill(&mut self) {
        let j = (1..BUCKETS)
            .find(|&j| !self.buckets[j].is_empty())
            .expect("entries in the buckets");
        let mut moving = std::mem::take(&mut self.buckets[j]);
        let min = moving
            .iter()
            .map(|e| key(e.time))
            .min()
            .expect("a non-empty bucket");
        self.last = min;
        self.in_buckets -= moving.len();
        for e in moving.drain(..) {
            let k = key(e.time);
            if k == min {
                self.front.push_back(e);
            } else {
                self.buckets[bucket(k, min)].push(e);
                self.in_buckets += 1;
            }
        }
        // (the emptied list keeps its room for the bucket's next entries)
        self.buckets[j] = moving;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time: i64, seq: u64) -> Entry<u64> {
        Entry {
            time,
            seq,
            event: seq,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Against a binary heap of (time, sequence), the obviously right queue: any
        /// interleaving of pushes (after the last pop, at it, before it, at times far
        /// apart) and pops gives the same entries in the same order.
        #[test]
        fn pops_like_a_binary_heap(
            ops in proptest::collection::vec((0u8..10, 0i64..2000, 0u32..64), 1..600),
        ) {
            let mut radix = RadixHeap::new();
            let mut oracle = BinaryHeap::new();
            let mut now = 0i64;
            for (seq, &(op, dt, shift)) in ops.iter().enumerate() {
                let seq = seq as u64;
                let t = match op {
                    0..=3 => {
                        let got = radix.pop().map(|e| (e.time, e.seq));
                        let want = oracle.pop().map(|Reverse(e): Reverse<Entry<u64>>| (e.time, e.seq));
                        if let Some((t, _)) = want {
                            now = t;
                        }
                        proptest::prop_assert_eq!(got, want);
                        continue;
                    }
                    4..=6 => now.saturating_add(dt % 50),
                    7 => now,
                    8 => now.saturating_sub(dt % 30),
                    _ => now.saturating_add(dt << (shift % 40)),
                };
                radix.push(entry(t, seq));
                oracle.push(Reverse(entry(t, seq)));
                proptest::prop_assert_eq!(radix.len(), oracle.len());
                proptest::prop_assert_eq!(
                    radix.peek().map(|e| (e.time, e.seq)),
                    oracle.peek().map(|Reverse(e)| (e.time, e.seq))
                );
            }
            let rest: Vec<_> = std::iter::from_fn(|| radix.pop()).map(|e| (e.time, e.seq)).collect();
            let want: Vec<_> = std::iter::from_fn(|| oracle.pop()).map(|Reverse(e)| (e.time, e.seq)).collect();
            proptest::prop_assert_eq!(rest, want);
        }
    }

    #[test]
    fn the_extremes_of_time_pop_in_order() {
        let mut radix = RadixHeap::new();
        let times = [0, i64::MAX, i64::MIN, -1, 1, i64::MAX, i64::MIN + 1, 0];
        for (s, &t) in times.iter().enumerate() {
            radix.push(entry(t, s as u64));
        }
        let mut want: Vec<(i64, u64)> = times.iter().copied().zip(0..).collect();
        want.sort();
        let got: Vec<_> = std::iter::from_fn(|| radix.pop())
            .map(|e| (e.time, e.seq))
            .collect();
        assert_eq!(got, want);
    }
}
