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
use std::collections::BinaryHeap;

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
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    pub fn schedule(&mut self, time: i64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { time, seq, event }));
    }

    /// The earliest event (first scheduled among equal times).
    pub fn pop(&mut self) -> Option<(i64, E)> {
        self.heap.pop().map(|Reverse(e)| (e.time, e.event))
    }

    /// Time of the next event.
    pub fn peek_time(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
