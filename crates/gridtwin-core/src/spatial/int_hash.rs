//! A fast hasher for integer keys (FxHash's multiply–rotate), for hash maps that take
//! tens of millions of lookups on small integer keys — a flood's rim table, a
//! megacity's repeat-incident buckets — where the standard SipHash dominated the run.
//! Not for keys an adversary chooses.
//!
//! ```
//! use std::collections::HashMap;
//! use gridtwin_core::int_hash::IntMap;
//! let mut m: IntMap<(i64, i64), u32> = IntMap::default();
//! m.insert((3, -4), 7);
//! assert_eq!(m[&(3, -4)], 7);
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply–rotate hasher for integers.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`IntHasher`].
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
