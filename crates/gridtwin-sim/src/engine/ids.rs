//! The run's typed numbers: a case, a crew and a unit grid by index, and a moment
//! that may not have come yet.
//!
//! A bare `u32` could be any of the three, and the loop once marked "none" with
//! `u32::MAX` and "not yet" with `i64::MIN`; the types say which is which, and
//! `Option` says "none" — at no cost in memory where a megacity year keeps millions
//! of cases (`Option<Moment>` is 8 bytes, like the `i64` it replaced).

use std::num::NonZeroU64;

macro_rules! index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(u32);

        impl $name {
            /// The item at position `i` (the engine's tables hold fewer than 2³² of
            /// anything: a run's cases are counted in `u32` since wave 1).
            pub(crate) fn new(i: usize) -> Self {
                debug_assert!(i <= u32::MAX as usize);
                Self(i as u32)
            }

            /// Its position in its table.
            pub(crate) fn ix(self) -> usize {
                self.0 as usize
            }

            /// Its number as the queue and the records keep it.
            pub(crate) fn get(self) -> u32 {
                self.0
            }
        }
    };
}

index!(
    /// A case of the run: its place in the run's case table (the timeline's
    /// `C0000001` is case 0).
    CaseId
);
index!(
    /// A crew of the world: its place in the world's crew table.
    CrewId
);
index!(
    /// A unit grid of the world: its place in the world's grid table.
    GridIx
);

/// A moment of the run, in seconds since the Unix epoch. `Option<Moment>` is a step's
/// time, `None` until the step is reached, in 8 bytes: the seconds are kept with the
/// sign bit flipped, which keeps their order and makes `i64::MIN` (never a time of a
/// run) the zero that `NonZeroU64` leaves free for `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Moment(NonZeroU64);

const SIGN: u64 = 1 << 63;

impl Moment {
    /// The moment `secs` seconds after the epoch.
    pub(crate) fn at(secs: i64) -> Self {
        Moment(NonZeroU64::new(secs as u64 ^ SIGN).expect("i64::MIN is not a time of a run"))
    }

    /// Its seconds since the epoch.
    pub(crate) fn secs(self) -> i64 {
        (self.0.get() ^ SIGN) as i64
    }
}

/// A step reached at `secs`.
pub(crate) fn at(secs: i64) -> Option<Moment> {
    Some(Moment::at(secs))
}

/// A step's time in seconds, if it was reached.
pub(crate) fn secs(m: Option<Moment>) -> Option<i64> {
    m.map(Moment::secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_moment_costs_no_more_than_the_seconds() {
        assert_eq!(std::mem::size_of::<Option<Moment>>(), 8);
    }

    #[test]
    fn moments_keep_their_seconds_and_their_order() {
        let times = [i64::MIN + 1, -86_400, -1, 0, 1, 1_700_000_000, i64::MAX];
        for &a in &times {
            assert_eq!(Moment::at(a).secs(), a);
            for &b in &times {
                assert_eq!(Moment::at(a).cmp(&Moment::at(b)), a.cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn random_moments_keep_their_order() {
        // a seeded walk over the whole range, against i64's own order (the oracle)
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x as i64).max(i64::MIN + 1)
        };
        for _ in 0..10_000 {
            let (a, b) = (next(), next());
            assert_eq!(Moment::at(a).secs(), a);
            assert_eq!(Moment::at(a) < Moment::at(b), a < b, "{a} vs {b}");
        }
    }
}
