//! Paired comparison of two scenarios run on the same seeds: replication i of A and of
//! B share their arriving incidents (common random numbers), so the difference is
//! estimated from the per-replication differences — a much tighter interval than
//! comparing two independent means.
//!
//! A comparison looks at many indicators at once; at 95 % each, one in twenty would be
//! starred by chance alone. Each difference therefore carries its paired t-test p-value
//! and a Holm–Bonferroni adjusted one (family-wise error 5 % over every indicator
//! compared), and only the adjusted p-value stars it.

use std::collections::BTreeMap;

use crate::kpi::Estimate;

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

/// Two-sided p-value of the paired t-test of the differences `d`: 0 when every
/// difference is the same non-zero number, 1 when every one is zero.
pub fn paired_t_p(d: &[f64]) -> f64 {
    let d: Vec<f64> = d.iter().copied().filter(|x| x.is_finite()).collect();
    let n = d.len();
    if n < 2 {
        return f64::NAN;
    }
    let m = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    if var <= 0.0 || var.sqrt() <= 1e-12 * m.abs() {
        return if m == 0.0 { 1.0 } else { 0.0 };
    }
    let t = m / (var / n as f64).sqrt();
    student_t_two_sided(t, (n - 1) as f64)
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    incomplete_beta(x, df / 2.0, 0.5)
}

/// ln Γ(x), Lanczos approximation (g = 7, 9 terms; relative error below 1e-13).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction
/// (modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where it
/// converges faster.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(1.0 - x, b, a);
    }
    const TINY: f64 = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..=300 {
        let m = m as f64;
        // even step
        let num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 + num * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + num / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        f *= c * d;
        // odd step
        let num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 + num * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + num / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f / a
}

/// Holm's step-down adjustment of p-values (NaN ones are left out of the family and
/// stay NaN): the i-th smallest of m becomes max over j ≤ i of min(1, (m − j + 1) p_j).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let m = order.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (j, &i) in order.iter().enumerate() {
        running = running.max(((m - j) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_removes_shared_noise() {
        // A and B share a large per-replication noise; B is A + 1 exactly.
        let noise = [10.0, -7.0, 3.0, 22.0, -15.0];
        let mk = |shift: f64| -> BTreeMap<u64, BTreeMap<String, f64>> {
            noise
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        i as u64,
                        BTreeMap::from([("x".to_string(), 100.0 + n + shift)]),
                    )
                })
                .collect()
        };
        let d = &compare(&mk(0.0), &mk(1.0))[0];
        assert_eq!(d.diff.mean, 1.0);
        assert_eq!(d.diff.half_width, 0.0);
        assert!(d.a.half_width > 10.0); // unpaired, the shift would drown
        assert!(d.significant());
    }

    #[test]
    fn t_test_p_values_match_tables() {
        // two-sided 5 % critical values of Student's t (the table in kpi::t95)
        for (t, df) in [(12.706, 1.0), (2.228, 10.0), (2.042, 30.0), (4.303, 2.0)] {
            let p = student_t_two_sided(t, df);
            assert!((p - 0.05).abs() < 2e-4, "t={t}, df={df}: p={p}");
        }
        // df = 1 is Cauchy: P(|T| ≥ 1) = 1/2 exactly; t = 0 gives 1
        assert!((student_t_two_sided(1.0, 1.0) - 0.5).abs() < 1e-12);
        assert!((student_t_two_sided(0.0, 7.0) - 1.0).abs() < 1e-12);
        // large df tends to the normal: P(|Z| ≥ 1.959964) = 0.05
        assert!((student_t_two_sided(1.959_964, 1e7) - 0.05).abs() < 1e-5);
        // ln Γ at known points
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-10);
    }

    #[test]
    fn holm_by_hand() {
        // m = 4: sorted 0.01, 0.02, 0.03, 0.5 → 0.04, max(0.04, 0.06), max(.., 0.06), 0.5
        let a = holm(&[0.03, 0.5, 0.01, f64::NAN, 0.02]);
        let want = [0.06, 0.5, 0.04, f64::NAN, 0.06];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-12 || (x.is_nan() && y.is_nan()), "{a:?}");
        }
    }

    #[test]
    fn a_no_op_over_many_noisy_indicators_stars_nothing_after_adjustment() {
        // 40 indicators of pure noise (B − A has mean zero), 20 replications: unadjusted,
        // about two would be starred; Holm keeps the family-wise error at 5 %.
        let mut s = 17u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut runs = 0;
        let mut raw_stars = 0;
        for _ in 0..50 {
            let mut a = BTreeMap::new();
            let mut b = BTreeMap::new();
            for r in 0..20u64 {
                let mut ma = BTreeMap::new();
                let mut mb = BTreeMap::new();
                for i in 0..40 {
                    let base = rnd() * 10.0;
                    ma.insert(format!("k{i:02}"), base);
                    mb.insert(format!("k{i:02}"), base + rnd());
                }
                a.insert(r, ma);
                b.insert(r, mb);
            }
            let d = compare(&a, &b);
            raw_stars += d.iter().filter(|d| d.p_value < 0.05).count();
            runs += d.iter().any(|d| d.significant()) as usize;
        }
        // raw: about 5 % of 2000 tests; adjusted: a study with any star about 5 % of 50
        assert!((50..=150).contains(&raw_stars), "{raw_stars}");
        assert!(
            runs <= 8,
            "{runs} of 50 no-op comparisons starred something"
        );
    }
}
