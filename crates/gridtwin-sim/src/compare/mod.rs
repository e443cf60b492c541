//! Paired comparison of two scenarios run on the same seeds: replication i of A and of
//! B share their arriving incidents (common random numbers), so the difference is
//! estimated from the per-replication differences — a much tighter interval than
//! comparing two independent means.
//!
//! A comparison looks at many indicators at once; at 95 % each, one in twenty would be
//! starred by chance alone. Each difference therefore carries its paired t-test p-value
//! and a Holm–Bonferroni adjusted one (family-wise error 5 % over every indicator
//! compared), and only the adjusted p-value stars it.
//!
//! One concern per file: the paired t-test and Holm's adjustment (`ttest`), units
//! and directions (`units`), the indicator table (`indicators`), and the verdict on
//! one indicator (`verdict`).

mod indicators;
#[cfg(test)]
mod tests;
mod ttest;
mod units;
mod verdict;

use std::collections::BTreeMap;

use crate::kpi::Estimate;

pub use indicators::{Described, Indicators};
pub(crate) use ttest::ln_gamma;
pub use ttest::{holm, paired_t_p, student_t_two_sided};
pub use units::{thousands, Better, Unit};
pub use verdict::Verdict;

/// One indicator compared.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiDifference {
    pub kpi: String,
    pub a: Estimate,
    pub b: Estimate,
    /// B − A, paired.
    pub diff: Estimate,
    /// Two-sided paired t-test p-value of B − A = 0 (NaN when it cannot be computed).
    pub p_value: f64,
    /// The p-value after Holm's adjustment over every indicator of the comparison.
    pub p_adjusted: f64,
}

impl KpiDifference {
    /// True when B differs from A at 5 % family-wise error (Holm-adjusted p < 0.05).
    pub fn significant(&self) -> bool {
        self.p_adjusted < 0.05
    }
}

/// Compares per-replication indicator values (`rep → kpi → value`) of A and B,
/// pairing replications present in both.
pub fn compare(
    a: &BTreeMap<u64, BTreeMap<String, f64>>,
    b: &BTreeMap<u64, BTreeMap<String, f64>>,
) -> Vec<KpiDifference> {
    let reps: Vec<u64> = a.keys().filter(|r| b.contains_key(r)).copied().collect();
    // every indicator either run has (a missing value is NaN and leaves the pair out)
    let names: std::collections::BTreeSet<String> = a
        .values()
        .chain(b.values())
        .flat_map(|m| m.keys().cloned())
        .collect();
    let mut out: Vec<KpiDifference> = names
        .into_iter()
        .map(|kpi| {
            let get = |m: &BTreeMap<u64, BTreeMap<String, f64>>, r: u64| {
                m[&r].get(&kpi).copied().unwrap_or(f64::NAN)
            };
            let va: Vec<f64> = reps.iter().map(|&r| get(a, r)).collect();
            let vb: Vec<f64> = reps.iter().map(|&r| get(b, r)).collect();
            let d: Vec<f64> = va.iter().zip(&vb).map(|(x, y)| y - x).collect();
            KpiDifference {
                kpi,
                a: Estimate::of(&va),
                b: Estimate::of(&vb),
                diff: Estimate::of(&d),
                p_value: paired_t_p(&d),
                p_adjusted: f64::NAN,
            }
        })
        .collect();
    let adjusted = holm(&out.iter().map(|d| d.p_value).collect::<Vec<_>>());
    for (d, p) in out.iter_mut().zip(adjusted) {
        d.p_adjusted = p;
    }
    out
}
