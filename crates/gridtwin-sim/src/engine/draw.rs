//! Durations drawn from a scenario's laws by inverse CDF, keyed random numbers in.

use super::*;

/// Draws a duration in seconds.
pub(super) fn draw(d: &Duration, u: f64) -> i64 {
    let minutes = match *d {
        Duration::Fixed { minutes } => minutes,
        Duration::Exp { mean } => -mean * (1.0 - u).ln(),
        Duration::Uniform { min, max } => min + (max - min) * u,
        Duration::Lognormal { mu, sigma } => {
            crate::dist::quantile(crate::dist::Family::Lognormal, &[mu, sigma], u)
        }
        Duration::Gamma { shape, mean } => {
            crate::dist::quantile(crate::dist::Family::Gamma, &[shape, mean], u)
        }
    };
    // (a heavy tail is cut at a year: a duration, not an overflow)
    (minutes.min(525_600.0) * 60.0).round() as i64
}

/// Draws the rest of a duration already `spent_s` seconds old: the law conditioned on
/// lasting longer than that (u mapped onto (F(spent), 1)), less the time spent.
pub(super) fn draw_after(d: &Duration, spent_s: i64, u: f64) -> i64 {
    use crate::dist::{cdf, quantile, Family};
    let spent = spent_s.max(0) as f64 / 60.0;
    let (family, p): (Family, Vec<f64>) = match *d {
        Duration::Fixed { minutes } => (Family::Fixed, vec![minutes]),
        // memoryless: the rest is a fresh draw
        Duration::Exp { .. } => return draw(d, u),
        Duration::Uniform { min, max } => (Family::Uniform, vec![min, max]),
        Duration::Lognormal { mu, sigma } => (Family::Lognormal, vec![mu, sigma]),
        Duration::Gamma { shape, mean } => (Family::Gamma, vec![shape, mean]),
    };
    if family == Family::Fixed {
        return ((p[0] - spent).max(0.0) * 60.0).round() as i64;
    }
    let f0 = cdf(family, &p, spent);
    if f0 >= 1.0 - 1e-12 {
        return 0; // overdue past the law's end: it happens now
    }
    let minutes = quantile(family, &p, f0 + u * (1.0 - f0)) - spent;
    (minutes.clamp(0.0, 525_600.0) * 60.0).round() as i64
}
