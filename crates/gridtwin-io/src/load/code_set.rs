//! The set of component codes loaded so far, for the duplicate check.
//!
//! A city's codes come in runs: a district's class numbers its components 1, 2, 3, …
//! So the set keeps a bitmap per block of 4,096 consecutive code values: a megacity's
//! 12 M codes fill a few thousand blocks (a few megabytes, in cache), where a hash set
//! of 12 M values misses the cache on almost every insert (it was most of the ordered
//! pass of a megacity load). Codes that do not come in runs (fewer than 64 to a block
//! on average) turn the set into a plain hash set, so memory stays within a hash set's.

use rustc_hash::{FxHashMap, FxHashSet};

/// Code values per bitmap block.
const BLOCK_BITS: u32 = 12;
const WORDS: usize = 1 << (BLOCK_BITS - 6);

/// A set of component code values (see the module documentation).
#[derive(Default)]
pub struct CodeSet {
    blocks: FxHashMap<u64, Box<[u64; WORDS]>>,
    /// Set once the codes proved sparse; then it holds every value.
    sparse: Option<FxHashSet<u64>>,
    len: usize,
}

impl CodeSet {
    /// Adds `value`; false when it was already there.
    pub fn insert(&mut self, value: u64) -> bool {
        if let Some(set) = &mut self.sparse {
            let added = set.insert(value);
            self.len += added as usize;
            return added;
        }
        let (block, bit) = (value >> BLOCK_BITS, value & ((1 << BLOCK_BITS) - 1));
        // (one lookup for a block already there, the usual case)
        let words = match self.blocks.get_mut(&block) {
            Some(words) => words,
            None => {
                if self.blocks.len() >= self.len / 64 + 1024 {
                    // sparse codes: a bitmap block per few codes would outgrow a hash set
                    self.become_sparse();
                    return self.insert(value);
                }
                self.blocks
                    .entry(block)
                    .or_insert_with(|| Box::new([0; WORDS]))
            }
        };
        let (word, mask) = ((bit >> 6) as usize, 1u64 << (bit & 63));
        if words[word] & mask != 0 {
            return false;
        }
        words[word] |= mask;
        self.len += 1;
        true
    }

    /// How many values the set holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    fn become_sparse(&mut self) {
        let mut set = FxHashSet::default();
        set.reserve(self.len);
        for (block, words) in self.blocks.drain() {
            for (w, &word) in words.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let b = bits.trailing_zeros() as u64;
                    set.insert((block << BLOCK_BITS) | ((w as u64) << 6) | b);
                    bits &= bits - 1;
                }
            }
        }
        self.blocks = FxHashMap::default();
        self.sparse = Some(set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The set answers as a hash set does (the obviously right oracle), over runs
        /// of consecutive codes, repeats, and scattered codes that turn it sparse.
        #[test]
        fn answers_as_a_hash_set(
            runs in proptest::collection::vec(
                (any::<u64>(), 1u64..3_000, 0u8..4), 1..40),
        ) {
            let mut set = CodeSet::default();
            let mut oracle = std::collections::HashSet::new();
            for (start, n, how) in runs {
                for i in 0..n {
                    let v = match how {
                        // a run of consecutive 16-digit codes
                        0 => start.wrapping_add(i) % 10_000_000_000_000_000,
                        // runs in a small range, overlapping one another (repeats)
                        1 => start % 5_000 + i,
                        // scattered codes
                        2 => start.wrapping_mul(i.wrapping_add(0x9E37_79B9)).rotate_left(17),
                        // near the top of the range
                        _ => u64::MAX - (i % 97),
                    };
                    prop_assert_eq!(set.insert(v), oracle.insert(v), "value {}", v);
                }
            }
            prop_assert_eq!(set.len(), oracle.len());
        }
    }

    /// Dense runs stay in bitmaps; scattered codes switch to the hash set and keep
    /// every value already seen.
    #[test]
    fn runs_stay_dense_and_scatter_turns_sparse() {
        let mut set = CodeSet::default();
        for v in 3_101_200_403_000_001u64..3_101_200_403_200_000 {
            assert!(set.insert(v));
        }
        assert!(set.sparse.is_none() && set.blocks.len() < 60);
        assert!(!set.insert(3_101_200_403_000_001));
        for i in 0..2_000_000u64 {
            set.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        assert!(set.sparse.is_some());
        assert!(!set.insert(3_101_200_403_150_000));
        assert!(!set.insert(0));
    }
}
