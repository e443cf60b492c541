//! Random numbers keyed by what they are for, so that scenarios share them (common
//! random numbers): a case's handling time depends only on (seed, replication, case,
//! purpose), never on how many draws other parts of the model made before it. A policy
//! change therefore moves results only through the policy, not through reshuffled luck.

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) for (seed, replication, subject, purpose, draw).
#[inline]
pub fn uniform(seed: u64, rep: u64, subject: u64, purpose: u64, draw: u64) -> f64 {
    let h = mix(mix(mix(mix(seed ^ 0x5eed) ^ rep) ^ subject)
        ^ purpose.wrapping_mul(0x100_0000_01b3)
        ^ draw);
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A stable 64-bit id for a text (FNV-1a), for streams named by category code.
pub fn text_id(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// A seeded sequential stream (for arrival processes).
pub struct Stream {
    state: u64,
}

impl Stream {
    pub fn new(seed: u64, rep: u64, purpose: u64) -> Self {
        Stream {
            state: mix(mix(seed ^ 0xa11) ^ rep) ^ mix(purpose),
        }
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        (mix(self.state) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniforms_are_uniform_and_keyed() {
        let n = 200_000;
        let mean: f64 = (0..n).map(|i| uniform(1, 0, i, 7, 0)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        assert_eq!(uniform(1, 2, 3, 4, 5), uniform(1, 2, 3, 4, 5));
        assert_ne!(uniform(1, 2, 3, 4, 5), uniform(1, 2, 3, 4, 6));
        let mut s = Stream::new(1, 0, 9);
        let m: f64 = (0..n).map(|_| s.next_f64()).sum::<f64>() / n as f64;
        assert!((m - 0.5).abs() < 0.005);
    }
}
