//! Statistics of samples: nearest-rank quantiles, Student's t, and the mean with its
//! 95 % confidence half-width across replications.

use super::mean;

/// Nearest-rank quantile of sorted values (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Nearest-rank quantiles of unsorted values by selection (O(n), the same values as
/// [`quantile`] of the sorted values); `qs` ascending.
pub fn quantiles(v: &mut [f64], qs: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut out = Vec::with_capacity(qs.len());
    let mut from = 0;
    for &q in qs {
        if n == 0 {
            out.push(f64::NAN);
            continue;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        // earlier selections left everything below `from` no greater than v[from..]
        let rank_in = rank.max(from);
        let (_, x, _) = v[from..].select_nth_unstable_by(rank_in - from, |a, b| a.total_cmp(b));
        out.push(*x);
        from = rank_in;
    }
    out
}

/// Student's t quantile for a two-sided 95 % interval with `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        _ => 1.960 + 2.4 / df as f64,
    }
}

/// Mean and 95 % confidence half-width of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub half_width: f64,
    pub n: usize,
}

impl Estimate {
    pub fn of(v: &[f64]) -> Estimate {
        let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        let m = mean(&v);
        let sd = if n > 1 {
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            f64::NAN
        };
        Estimate {
            mean: m,
            half_width: t95(n.saturating_sub(1)) * sd / (n as f64).sqrt(),
            n,
        }
    }

    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}
