//! The event queue: events pop in (time, sequence) order, so two events at the same
//! second always come out in the order they were scheduled — a simulation's result
//! never depends on a heap's internal layout.
//!
//! ```
//! use gridtwin_sim::EventQueue;
//! let mut q = EventQueue::new();
//! q.schedule(10, "b");
//! q.schedule(5, "a");
//! q.schedule(10, "c");
//! assert_eq!(q.pop(), Some((5, "a")));
//! assert_eq!(q.pop(), Some((10, "b")));
//! assert_eq!(q.pop(), Some((10, "c")));
//! assert_eq!(q.pop(), None);
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

mod radix;
use radix::RadixHeap;

struct Entry<E> {
    time: i64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(o.time, o.seq))
    }
}

/// A min-queue of events by (time in seconds, scheduling sequence).
///
/// Besides the heap it keeps *lanes*: FIFO lists for event kinds that are scheduled in
/// non-decreasing time order (deadlines of one time limit, intakes sorted up front).
/// Such events pop from the front of their lane in O(1) instead of sitting in the
/// heap; every entry still carries its sequence number and the queue always pops the
/// least (time, sequence) over the heap and all lane fronts, so the order is exactly
/// that of a single heap. An event scheduled into a lane earlier than the lane's last
/// entry goes to the heap instead.
pub struct EventQueue<E> {
    /// Events in no lane (a radix heap: see `radix.rs`).
    heap: RadixHeap<E>,
    lanes: Vec<VecDeque<Entry<E>>>,
    /// The front of every lane that holds events: (time, sequence, lane). A lane's
    /// front changes only when it is popped or first filled, so the next lane is found
    /// here, not by looking at every lane on every pop (a city has dozens of
    /// categories, each a deadline lane, most of them empty).
    fronts: BinaryHeap<Reverse<(i64, u64, usize)>>,
    next_seq: u64,
    /// The lane the last event popped from (`None`: the heap).
    last_lane: Option<usize>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: RadixHeap::new(),
            lanes: Vec::new(),
            fronts: BinaryHeap::new(),
            next_seq: 0,
            last_lane: None,
        }
    }

    /// An event queue with `n` lanes (see the type's documentation).
    pub fn with_lanes(n: usize) -> Self {
        let mut q = Self::new();
        q.lanes = (0..n).map(|_| VecDeque::new()).collect();
        q
    }

    /// Reserves room for `n` more events in lane `lane` (a lane filled up front, like
    /// a year of intakes, then never reallocates).
    pub fn reserve_lane(&mut self, lane: usize, n: usize) {
        self.lanes[lane].reserve(n);
    }

    /// Schedules `event` at `time` in lane `lane`, where events are expected in
    /// non-decreasing time order (falls back to the heap when one is not).
    pub fn schedule_in_lane(&mut self, lane: usize, time: i64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let l = &mut self.lanes[lane];
        if l.is_empty() {
            self.fronts.push(Reverse((time, seq, lane)));
            l.push_back(Entry { time, seq, event });
        } else if l.back().is_some_and(|b| b.time <= time) {
            l.push_back(Entry { time, seq, event });
        } else {
            self.heap.push(Entry { time, seq, event });
        }
    }

    /// The lane whose front comes first, if it comes before the heap's top.
    fn first_lane(&self) -> Option<usize> {
        let &Reverse((t, s, i)) = self.fronts.peek()?;
        match self.heap.peek() {
            Some(h) if (h.time, h.seq) < (t, s) => None,
            _ => Some(i),
        }
    }

    /// Schedules `event` at `time`.
    pub fn schedule(&mut self, time: i64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// The earliest event (first scheduled among equal times).
    pub fn pop(&mut self) -> Option<(i64, E)> {
        if let Some(i) = self.first_lane() {
            self.last_lane = Some(i);
            let lane = &mut self.lanes[i];
            let e = lane
                .pop_front()
                .expect("a lane among the fronts holds events");
            // the lane's next event is its new front (it was the least of the fronts)
            let mut top = self.fronts.peek_mut().expect("the lane's front");
            match lane.front() {
                Some(next) => *top = Reverse((next.time, next.seq, i)),
                None => {
                    std::collections::binary_heap::PeekMut::pop(top);
                }
            }
            return Some((e.time, e.event));
        }
        self.last_lane = None;
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// Events known to come later, without popping them: the `k`-th (from 0) still
    /// waiting in the lane the last event popped from, and the heap's first. A lane
    /// holds its events in time order, so a loop can start loading what they will
    /// touch before it gets to them (the order of events is not changed).
    pub fn ahead(&self, k: usize) -> (Option<&E>, Option<&E>) {
        let lane = self
            .last_lane
            .and_then(|i| self.lanes[i].get(k))
            .map(|e| &e.event);
        (lane, self.heap.peek().map(|e| &e.event))
    }

    /// Time of the next event.
    pub fn peek_time(&self) -> Option<i64> {
        match self.first_lane() {
            Some(i) => self.lanes[i].front().map(|e| e.time),
            None => self.heap.peek().map(|e| e.time),
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_pop_in_scheduling_order_at_any_size() {
        let mut q = EventQueue::new();
        // many events on few distinct times, scheduled in a scrambled order
        let mut expected: Vec<(i64, u32)> = Vec::new();
        for i in 0..10_000u32 {
            let t = ((i as i64) * 7919) % 13;
            q.schedule(t, i);
            expected.push((t, i));
        }
        expected.sort_by_key(|&(t, i)| (t, i));
        let got: Vec<(i64, u32)> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn lanes_pop_exactly_like_one_heap() {
        // The same schedule into a plain queue and into one with lanes (including
        // out-of-order lane entries that must fall back to the heap) pops identically.
        let mut plain = EventQueue::new();
        let mut laned = EventQueue::with_lanes(3);
        let mut t = [0i64; 3];
        for i in 0..20_000u32 {
            let r = (i as i64).wrapping_mul(2_654_435_761) % 1000;
            let lane = (i % 4) as usize;
            if lane == 3 {
                plain.schedule(r, i);
                laned.schedule(r, i);
            } else {
                // mostly increasing, sometimes stepping back
                t[lane] += if r % 17 == 0 { -5 } else { r % 7 };
                plain.schedule(t[lane], i);
                laned.schedule_in_lane(lane, t[lane], i);
            }
            if i % 3 == 0 {
                assert_eq!(plain.pop(), laned.pop());
            }
        }
        assert_eq!(plain.len(), laned.len());
        let a: Vec<_> = std::iter::from_fn(|| plain.pop()).collect();
        let b: Vec<_> = std::iter::from_fn(|| laned.pop()).collect();
        assert_eq!(a, b);
    }
    #[test]
    fn ahead_shows_what_pops_later() {
        let mut q = EventQueue::with_lanes(1);
        for (t, e) in [(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')] {
            q.schedule_in_lane(0, t, e);
        }
        q.schedule(0, 'h');
        assert_eq!(q.pop(), Some((0, 'h')));
        assert_eq!(q.ahead(1), (None, None)); // from the heap, now empty
        assert_eq!(q.pop(), Some((1, 'a')));
        assert_eq!(q.ahead(0), (Some(&'b'), None));
        assert_eq!(q.ahead(2), (Some(&'d'), None));
        assert_eq!(q.ahead(3), (None, None));
        q.schedule(9, 'x');
        assert_eq!(q.ahead(1), (Some(&'c'), Some(&'x')));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any interleaving of schedules (into the heap or lanes, at any time, before the
        /// last popped one too) and pops gives exactly the order of a sorted map of
        /// (time, sequence): the obviously right queue.
        #[test]
        fn pops_in_time_then_scheduling_order_like_a_sorted_map(
            ops in proptest::collection::vec((0u8..8, -50i64..50, 0usize..12), 1..400),
        ) {
            // twelve lanes, some never used (as most categories' deadline lanes)
            let mut q = EventQueue::with_lanes(12);
            let mut oracle = std::collections::BTreeMap::new();
            let mut seq = 0u64;
            let mut now = 0i64;
            for (i, &(op, dt, lane)) in ops.iter().enumerate() {
                match op {
                    0..=2 => {
                        proptest::prop_assert_eq!(q.peek_time(), oracle.keys().next().map(|k: &(i64, u64)| k.0));
                        let got = q.pop();
                        let want = oracle.pop_first().map(|((t, _), v)| (t, v));
                        if let Some((t, _)) = want {
                            now = t;
                        }
                        proptest::prop_assert_eq!(got, want);
                    }
                    // mostly at or after the last popped time, as a simulation schedules
                    3..=5 => {
                        q.schedule(now + dt.abs(), i);
                        oracle.insert((now + dt.abs(), seq), i);
                        seq += 1;
                    }
                    6 => {
                        q.schedule(now + dt, i);
                        oracle.insert((now + dt, seq), i);
                        seq += 1;
                    }
                    _ => {
                        q.schedule_in_lane(lane, now + dt, i);
                        oracle.insert((now + dt, seq), i);
                        seq += 1;
                    }
                }
                proptest::prop_assert_eq!(q.len(), oracle.len());
            }
            let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
            let want: Vec<_> = oracle.into_iter().map(|((t, _), v)| (t, v)).collect();
            proptest::prop_assert_eq!(rest, want);
        }
    }

    #[test]
    fn times_far_apart_and_negative_pop_in_order() {
        let mut q = EventQueue::new();
        let times = [i64::MAX, -1, 0, i64::MIN, 1 << 40, -(1 << 40), 7, 7, -1];
        for (i, &t) in times.iter().enumerate() {
            q.schedule(t, i);
        }
        let mut want: Vec<(i64, usize)> = times.iter().copied().zip(0..).collect();
        want.sort();
        let got: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, want);
    }
}
