//! Duration distributions: sampling by inverse CDF (one uniform per draw, so common
//! random numbers hold across scenarios), and fitting by maximum likelihood with AIC
//! and the Kolmogorov–Smirnov statistic, for calibration from a case history.
//!
//! ```
//! use gridtwin_sim::dist::{fit_best, Family};
//! // lognormal minutes: the family and its parameters come back
//! let xs: Vec<f64> = (1..2000)
//!     .map(|i| (2.0 + 0.5 * gridtwin_sim::dist::norm_quantile(i as f64 / 2000.0)).exp())
//!     .collect();
//! let best = fit_best(&xs).unwrap();
//! assert_eq!(best.family, Family::Lognormal);
//! assert!((best.params[0] - 2.0).abs() < 0.01 && (best.params[1] - 0.5).abs() < 0.01);
//! ```

use crate::compare::ln_gamma;

/// A family of durations fitted to data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Fixed,
    Exp,
    Uniform,
    Lognormal,
    Gamma,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Fixed => "fixed",
            Family::Exp => "exp",
            Family::Uniform => "uniform",
            Family::Lognormal => "lognormal",
            Family::Gamma => "gamma",
        }
    }
}

/// One family fitted to a sample (minutes): parameters, log-likelihood, AIC, KS.
///
/// Parameters: fixed `[minutes]`; exp `[mean]`; uniform `[min, max]`; lognormal
/// `[mu, sigma]` of ln(minutes); gamma `[shape, mean]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub family: Family,
    pub params: Vec<f64>,
    pub n: usize,
    pub log_likelihood: f64,
    pub aic: f64,
    /// Kolmogorov–Smirnov distance between the sample and the fitted CDF.
    pub ks: f64,
}

impl Fit {
    /// The fitted CDF at `x` minutes.
    pub fn cdf(&self, x: f64) -> f64 {
        cdf(self.family, &self.params, x)
    }

    /// The fitted mean, minutes.
    pub fn mean(&self) -> f64 {
        match self.family {
            Family::Fixed | Family::Exp => self.params[0],
            Family::Uniform => (self.params[0] + self.params[1]) / 2.0,
            Family::Lognormal => (self.params[0] + self.params[1].powi(2) / 2.0).exp(),
            Family::Gamma => self.params[1],
        }
    }

    /// The same shape on a sample of its own scale: the family and shape kept, the
    /// mean moved to the sample's (a small group's own law where its few values
    /// cannot choose a family: handling of a rare category, trips of a department
    /// with few crews); `n` and `ks` are the sample's, `aic` is not comparable (NaN).
    ///
    /// ```
    /// use gridtwin_sim::dist::{fit_all, Family};
    /// let pooled = &fit_all(&[10.0, 20.0, 30.0, 40.0, 25.0, 15.0])[0];
    /// let own = pooled.rescaled_to(&[100.0, 140.0, 120.0]);
    /// assert_eq!(own.family, pooled.family);
    /// assert!((own.mean() - 120.0).abs() < 1e-9);
    /// assert_eq!(own.n, 3);
    /// ```
    pub fn rescaled_to(&self, xs: &[f64]) -> Fit {
        let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let r = if self.mean() > 0.0 {
            mean / self.mean()
        } else {
            1.0
        };
        let p = &self.params;
        let params = match self.family {
            Family::Fixed | Family::Exp => vec![mean],
            Family::Uniform => vec![p[0] * r, p[1] * r],
            Family::Lognormal => vec![p[0] + r.ln(), p[1]],
            Family::Gamma => vec![p[0], mean],
        };
        let mut sorted: Vec<f64> = xs.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let ks = ks_distance(&sorted, |x| cdf(self.family, &params, x));
        Fit {
            family: self.family,
            params,
            n: xs.len(),
            log_likelihood: f64::NAN,
            aic: f64::NAN,
            ks,
        }
    }
}

/// The CDF of a family at `x` minutes.
pub fn cdf(family: Family, p: &[f64], x: f64) -> f64 {
    match family {
        Family::Fixed => (x >= p[0]) as u8 as f64,
        Family::Exp => {
            if x <= 0.0 {
                0.0
            } else {
                1.0 - (-x / p[0]).exp()
            }
        }
        Family::Uniform => ((x - p[0]) / (p[1] - p[0]).max(1e-12)).clamp(0.0, 1.0),
        Family::Lognormal => {
            if x <= 0.0 {
                0.0
            } else {
                norm_cdf((x.ln() - p[0]) / p[1])
            }
        }
        Family::Gamma => {
            if x <= 0.0 {
                0.0
            } else {
                gamma_p(p[0], x * p[0] / p[1])
            }
        }
    }
}

/// Fits every family that can describe the sample and returns them best first (lowest
/// AIC). All equal values are `fixed` only. Values must be finite and ≥ 0; zeros are
/// set to a second (1/60 min) for the families on (0, ∞).
pub fn fit_all(xs: &[f64]) -> Vec<Fit> {
    let xs: Vec<f64> = xs
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .collect();
    let n = xs.len();
    if n == 0 {
        return Vec::new();
    }
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if hi - lo < 1e-9 || n < 2 {
        return vec![Fit {
            family: Family::Fixed,
            params: vec![lo],
            n,
            log_likelihood: 0.0,
            aic: 2.0,
            ks: 0.0,
        }];
    }
    let pos: Vec<f64> = xs.iter().map(|&x| x.max(1.0 / 60.0)).collect();
    let nf = n as f64;
    let mean = pos.iter().sum::<f64>() / nf;
    // (each logarithm once: a megacity year's steps are millions of values)
    let lns: Vec<f64> = pos.iter().map(|x| x.ln()).collect();
    let mean_ln = lns.iter().sum::<f64>() / nf;
    let mut fits = Vec::new();
    // exponential
    let ll = -nf * mean.ln() - pos.iter().sum::<f64>() / mean;
    fits.push((Family::Exp, vec![mean], ll, 1));
    // uniform on [min, max]
    fits.push((Family::Uniform, vec![lo, hi], -nf * (hi - lo).ln(), 2));
    // lognormal
    let var_ln = lns.iter().map(|l| (l - mean_ln).powi(2)).sum::<f64>() / nf;
    let sigma = var_ln.sqrt().max(1e-9);
    let ll = lns
        .iter()
        .map(|l| {
            let z = (l - mean_ln) / sigma;
            -l - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5 * z * z
        })
        .sum::<f64>();
    fits.push((Family::Lognormal, vec![mean_ln, sigma], ll, 2));
    // gamma: Minka's start, then Newton on the shape
    let s = (mean.ln() - mean_ln).max(1e-12);
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..50 {
        let step = (k.ln() - digamma(k) - s) / (1.0 / k - trigamma(k));
        let next = (k - step).max(k / 10.0);
        if (next - k).abs() < 1e-12 * k {
            k = next;
            break;
        }
        k = next;
    }
    let theta = mean / k;
    let ll = (k - 1.0) * lns.iter().sum::<f64>()
        - pos.iter().sum::<f64>() / theta
        - nf * (k * theta.ln() + ln_gamma(k));
    fits.push((Family::Gamma, vec![k, mean], ll, 2));

    let mut sorted = xs.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let mut out: Vec<Fit> = fits
        .into_iter()
        .filter(|(_, p, ll, _)| ll.is_finite() && p.iter().all(|v| v.is_finite()))
        .map(|(family, params, ll, k)| {
            let ks = ks_distance(&sorted, |x| cdf(family, &params, x));
            Fit {
                family,
                params,
                n,
                log_likelihood: ll,
                aic: 2.0 * k as f64 - 2.0 * ll,
                ks,
            }
        })
        .collect();
    out.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    out
}

/// The best family by AIC.
pub fn fit_best(xs: &[f64]) -> Option<Fit> {
    fit_all(xs).into_iter().next()
}

/// The Kolmogorov–Smirnov distance of a sorted sample from a CDF.
pub fn ks_distance(sorted: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    // (a history's times are whole seconds: millions of durations take a few thousand
    // values, and the CDF is evaluated once per value)
    let (mut last, mut fx) = (f64::NAN, 0.0);
    for (i, &x) in sorted.iter().enumerate() {
        if x != last {
            fx = f(x);
            last = x;
        }
        d = d.max((i + 1) as f64 / n - fx).max(fx - i as f64 / n);
    }
    d
}

/// Draws minutes from a family by inverse CDF at `u` ∈ [0, 1).
pub fn quantile(family: Family, p: &[f64], u: f64) -> f64 {
    let u = u.clamp(1e-12, 1.0 - 1e-12);
    match family {
        Family::Fixed => p[0],
        Family::Exp => -p[0] * (1.0 - u).ln(),
        Family::Uniform => p[0] + (p[1] - p[0]) * u,
        Family::Lognormal => (p[0] + p[1] * norm_quantile(u)).exp(),
        Family::Gamma => gamma_quantile(p[0], u) * p[1] / p[0],
    }
}

/// The standard normal CDF.
pub fn norm_cdf(z: f64) -> f64 {
    let p = gamma_p(0.5, z * z / 2.0) / 2.0;
    if z >= 0.0 {
        0.5 + p
    } else {
        0.5 - p
    }
}

/// The standard normal quantile (Acklam's rational approximation, polished by two
/// Newton steps on [`norm_cdf`]).
pub fn norm_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let mut x = if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    for _ in 0..2 {
        let e = norm_cdf(x) - p;
        let pdf = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        if pdf > 1e-300 {
            x -= e / pdf;
        }
    }
    x
}

/// The regularised lower incomplete gamma function P(a, x) (series below a + 1, the
/// continued fraction above, as in Numerical Recipes).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let lg = ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (sum.ln() - x + a * x.ln() - lg).exp().min(1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (1.0 - (-x + a * x.ln() - lg).exp() * h).clamp(0.0, 1.0)
    }
}

/// The quantile of the unit-scale gamma with shape `a`: the x with P(a, x) = p (Newton
/// from the Wilson–Hilferty guess, kept in a bisection bracket).
pub fn gamma_quantile(a: f64, p: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    let z = norm_quantile(p);
    let g = 1.0 / (9.0 * a);
    let mut x = (a * (1.0 - g + z * g.sqrt()).powi(3)).max(1e-8);
    let (mut lo, mut hi) = (0.0, f64::INFINITY);
    for _ in 0..200 {
        let f = gamma_p(a, x) - p;
        if f.abs() < 1e-14 {
            break;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let pdf = ((a - 1.0) * x.ln() - x - ln_gamma(a)).exp();
        let mut next = if pdf > 0.0 { x - f / pdf } else { f64::NAN };
        if !(next > lo && next < hi && next.is_finite()) {
            next = if hi.is_finite() {
                (lo + hi) / 2.0
            } else {
                x * 2.0
            };
        }
        if (next - x).abs() <= 1e-15 * x.max(1e-300) {
            x = next;
            break;
        }
        x = next;
    }
    x
}

/// ψ(x), the digamma function (recurrence to x ≥ 10, then the asymptotic series).
pub fn digamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 10.0 {
        r -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + x.ln() - 0.5 / x - f * (1.0 / 12.0 - f * (1.0 / 120.0 - f * (1.0 / 252.0 - f / 240.0)))
}

/// ψ'(x), the trigamma function.
pub fn trigamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 10.0 {
        r += 1.0 / (x * x);
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + 1.0 / x + f / 2.0 + f / x * (1.0 / 6.0 - f * (1.0 / 30.0 - f / 42.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(family: Family, p: &[f64], n: usize) -> Vec<f64> {
        // a stratified sample: the quantiles of n evenly spaced probabilities
        (0..n)
            .map(|i| quantile(family, p, (i as f64 + 0.5) / n as f64))
            .collect()
    }

    #[test]
    fn special_functions_match_known_values() {
        assert!((norm_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
        assert!((norm_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((norm_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-6);
        // P(1, x) = 1 − e^−x; P(3, 2) = 0.3233235838169366
        assert!((gamma_p(1.0, 0.7) - (1.0 - (-0.7f64).exp())).abs() < 1e-14);
        assert!((gamma_p(3.0, 2.0) - 0.323_323_583_816_936_6).abs() < 1e-13);
        assert!((gamma_p(50.0, 60.0) - 0.915_593_318_906_286).abs() < 1e-9);
        // P(1/2, 2) = erf(√2)
        assert!((gamma_p(0.5, 2.0) - 0.954_499_736_103_640_8).abs() < 1e-12);
        for a in [0.3, 1.0, 2.5, 40.0] {
            for p in [0.001, 0.3, 0.5, 0.975] {
                let x = gamma_quantile(a, p);
                assert!((gamma_p(a, x) - p).abs() < 1e-10, "a {a} p {p}");
            }
        }
        // ψ(1) = −γ, ψ'(1) = π²/6
        assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-11);
        assert!((trigamma(1.0) - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-10);
    }

    #[test]
    fn each_family_is_recovered_from_its_own_sample() {
        let cases: [(Family, Vec<f64>); 4] = [
            (Family::Exp, vec![40.0]),
            (Family::Uniform, vec![5.0, 20.0]),
            (Family::Lognormal, vec![3.0, 0.8]),
            (Family::Gamma, vec![2.5, 60.0]),
        ];
        for (family, p) in cases {
            let xs = sample(family, &p, 4000);
            let fits = fit_all(&xs);
            assert_eq!(fits[0].family, family, "{fits:?}");
            for (got, want) in fits[0].params.iter().zip(&p) {
                assert!(
                    (got - want).abs() < 0.03 * want.abs().max(1.0),
                    "{family:?} {got} {want}"
                );
            }
            assert!(fits[0].ks < 0.02, "{:?}", fits[0]);
        }
        let fixed = fit_all(&[7.0; 30]);
        assert_eq!((fixed[0].family, fixed[0].params[0]), (Family::Fixed, 7.0));
        assert!(fit_all(&[]).is_empty());
    }
}
