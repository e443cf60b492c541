//! Key performance indicators, computed from the case timeline alone — never from
//! counters kept beside it — and their spread across replications.
//!
//! One concern per file: what a case offers the indicators ([`CaseTimes`]), the
//! indicators of one replication (`indicators`, and the repeat search beside it in
//! `repeats`), the composite index and response targets (`composite`), backlog
//! series and Welch's warm-up (`series`), and quantiles and confidence intervals
//! (`stats`).

mod case_times;
mod composite;
mod indicators;
mod repeats;
mod series;
mod stats;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::timeline::CrewRecord;

pub use case_times::CaseTimes;
pub use composite::{composite, response_within_target, COMPOSITE_RATES};
pub use repeats::repeats;
pub use series::{backlog_series, welch};
pub use stats::{quantile, quantiles, t95, Estimate};

use indicators::indicators;

/// Settings the KPIs need besides the timeline.
#[derive(Debug, Clone, Copy)]
pub struct KpiSettings {
    pub start: i64,
    pub end: i64,
    pub sample_secs: i64,
    pub repeat_radius_m: f64,
    pub repeat_window_secs: i64,
}

/// One replication's indicators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    /// Scalar indicators by name (stable order).
    pub values: BTreeMap<String, f64>,
    /// Open cases at each sample time: (time, count).
    pub backlog: Vec<(i64, u32)>,
    /// Open cases at each sample time of the discarded warm-up (empty without one):
    /// with `backlog`, the series a Welch plot averages.
    pub warmup_backlog: Vec<(i64, u32)>,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Computes the indicators of one replication.
pub fn compute<C: CaseTimes + Sync>(cases: &[C], crews: &[CrewRecord], s: KpiSettings) -> Kpis {
    // The repeat search is the longest part on a large timeline: beside the rest.
    let (repeat_n, mut out) = rayon::join(
        || repeats(cases, s.repeat_radius_m, s.repeat_window_secs),
        || indicators(cases, crews, s),
    );
    out.values
        .insert("repeat_incidents".into(), repeat_n as f64);
    out
}

/// A share `n / of`, NaN when nothing was due.
fn rate(n: usize, of: usize) -> f64 {
    if of > 0 {
        n as f64 / of as f64
    } else {
        f64::NAN
    }
}
