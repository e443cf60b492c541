//! Time series: the open cases at each sample time, and Welch's method for choosing
//! the warm-up from them.

use super::CaseTimes;

/// Open cases (taken in, not yet closed) at each sample time `from, from + step, …`
/// before `to`, by a sweep over intakes and closures in time order.
pub fn backlog_series<C: CaseTimes>(cases: &[C], from: i64, to: i64, step: i64) -> Vec<(i64, u32)> {
    let mut changes: Vec<(i64, i32)> = Vec::with_capacity(cases.len() * 2);
    for c in cases {
        if let Some(i) = c.intake_at() {
            changes.push((i, 1));
            if let Some(x) = c.closed_at() {
                changes.push((x, -1));
            }
        }
    }
    // (ten million changes in a megacity year; equal entries are equal values, so an
    // unstable parallel sort gives the one order)
    rayon::slice::ParallelSliceMut::par_sort_unstable(&mut changes[..]);
    let mut out = Vec::new();
    let (mut open, mut next) = (0i64, 0usize);
    let mut t = from;
    while t < to {
        // open at t: intake <= t and (closed > t)
        while next < changes.len() && changes[next].0 <= t {
            open += changes[next].1 as i64;
            next += 1;
        }
        out.push((t, open.max(0) as u32));
        t += step.max(1);
    }
    out
}

/// Welch's method for the warm-up: the mean over replications of each sample, and its
/// centred moving average over `2w + 1` samples (shrinking to `2i + 1` for the first
/// samples, as Welch does): (sample index, mean, moving average).
pub fn welch(series: &[Vec<u32>], w: usize) -> Vec<(usize, f64, f64)> {
    let n = series.iter().map(|s| s.len()).min().unwrap_or(0);
    let reps = series.len().max(1) as f64;
    let mean: Vec<f64> = (0..n)
        .map(|i| series.iter().map(|s| s[i] as f64).sum::<f64>() / reps)
        .collect();
    (0..n)
        .map(|i| {
            let h = i.min(w).min(n - 1 - i);
            let m = mean[i - h..=i + h].iter().sum::<f64>() / (2 * h + 1) as f64;
            (i, mean[i], m)
        })
        .collect()
}
