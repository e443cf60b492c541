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
pub(crate) fn ln_gamma(x: f64) -> f64 {
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

/// Which way an indicator is better (`data/indicators.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// A demand or a trade-off: a change is neither better nor worse.
    Neither,
}

impl Better {
    pub fn as_str(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
            Better::Neither => "neither",
        }
    }
}

/// What an indicator's value is, for showing it: counts as integers, shares as
/// percentages, durations with their unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Share,
    Minutes,
    Hours,
    PerHour,
    Index,
    Score,
}

impl Unit {
    const ALL: [(&'static str, Unit); 7] = [
        ("count", Unit::Count),
        ("share", Unit::Share),
        ("min", Unit::Minutes),
        ("h", Unit::Hours),
        ("per_h", Unit::PerHour),
        ("index", Unit::Index),
        ("score", Unit::Score),
    ];

    /// The unit as a column header shows it (`min`, `%`), None for plain numbers.
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            Unit::Share => Some("%"),
            Unit::Minutes => Some("min"),
            Unit::Hours => Some("h"),
            Unit::PerHour => Some("per h"),
            Unit::Count | Unit::Index | Unit::Score => None,
        }
    }

    /// [`Unit::format`] without the unit, for a column whose header carries it.
    pub fn format_bare(self, v: f64) -> String {
        let s = self.format(v);
        match self.suffix() {
            Some(u) => s
                .strip_suffix(u)
                .map_or(s.clone(), |n| n.trim_end().to_string()),
            None => s,
        }
    }

    /// The value as a person reads it: `642`, `98.2 %`, `27.7 min`, `3.51 h`; `–` when
    /// it has none (NaN: nothing was due).
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "–".into();
        }
        match self {
            // a count from one timeline is whole; a mean over replications keeps a decimal
            Unit::Count if v.fract() == 0.0 => thousands(v as i64),
            Unit::Count => format!("{v:.1}"),
            Unit::Share => format!("{:.1} %", v * 100.0),
            Unit::Minutes if v.abs() >= 100.0 => format!("{} min", thousands(v.round() as i64)),
            Unit::Minutes => format!("{v:.1} min"),
            Unit::Hours if v.abs() >= 10.0 => format!("{v:.1} h"),
            Unit::Hours => format!("{v:.2} h"),
            Unit::PerHour => format!("{v:.2} per h"),
            Unit::Index => format!("{v:.3}"),
            Unit::Score => format!("{v:.2}"),
        }
    }
}

/// An integer with thousands separators: `6,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One indicator described: its human name, unit and direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub name: String,
    pub unit: Unit,
    pub better: Better,
    /// The row's place in the table (related indicators sit together there), for
    /// listing indicators in that order; `usize::MAX` for one the table lacks.
    pub rank: usize,
}

/// The indicator table (`data/indicators.csv`): exact names, and prefixes (a name
/// ending in `*`) for the indicators named at run time (`crew_utilisation:<dept>`,
/// `response_within_target:p<N>`).
#[derive(Debug, Clone, Default)]
pub struct Indicators {
    exact: BTreeMap<String, Described>,
    /// (prefix, name template with `{}`, unit, direction), longest prefix first.
    prefixes: Vec<(String, Described)>,
}

impl Indicators {
    /// Loads and checks the table; errors name the file and line.
    pub fn load(path: &std::path::Path) -> Result<Indicators, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Indicators::parse(&text, &path.display().to_string())
    }

    /// Parses the table from bytes; `file` names it in errors.
    pub fn parse(text: &[u8], file: &str) -> Result<Indicators, String> {
        let mut r = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text);
        let header = r.headers().map_err(|e| format!("{file}: {e}"))?.clone();
        const COLUMNS: [&str; 4] = ["indicator", "name", "unit", "better"];
        if header.iter().collect::<Vec<_>>() != COLUMNS {
            return Err(format!(
                "{file}: the header must be `{}`, not `{}`",
                COLUMNS.join(","),
                header.iter().collect::<Vec<_>>().join(",")
            ));
        }
        let mut out = Indicators::default();
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| format!("{file}: {e}"))?;
            let line = rec.position().map_or(0, |p| p.line());
            let bad = |what: String| format!("{file}: line {line}: {what}");
            if rec.len() != COLUMNS.len() {
                return Err(bad(format!(
                    "{} fields, expected {} ({}; quote a name that holds a comma)",
                    rec.len(),
                    COLUMNS.len(),
                    COLUMNS.join(",")
                )));
            }
            let (indicator, name, unit, better) = (&rec[0], &rec[1], &rec[2], &rec[3]);
            let stem = indicator.strip_suffix('*');
            let key = stem.unwrap_or(indicator);
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:".contains(c))
            {
                return Err(bad(format!(
                    "indicator `{indicator}`: lower-case letters, digits, `_` and `:`, \
                     optionally ending in `*`"
                )));
            }
            if let Some(first) = seen.insert(indicator.to_string(), line) {
                return Err(bad(format!(
                    "indicator `{indicator}` again (first on line {first})"
                )));
            }
            if name.is_empty() {
                return Err(bad(format!("indicator `{indicator}` has no name")));
            }
            if stem.is_some() != name.contains("{}") {
                return Err(bad(format!(
                    "name `{name}`: a prefix (`…*`) needs `{{}}` in its name for the rest of \
                     the indicator, and only a prefix has one"
                )));
            }
            let unit = Unit::ALL
                .iter()
                .find(|u| u.0 == unit)
                .map(|u| u.1)
                .ok_or_else(|| {
                    bad(format!(
                        "unit must be one of {}, not `{unit}`",
                        Unit::ALL.map(|u| u.0).join(", ")
                    ))
                })?;
            let better = match better {
                "higher" => Better::Higher,
                "lower" => Better::Lower,
                "neither" => Better::Neither,
                other => {
                    return Err(bad(format!(
                        "better must be higher, lower or neither, not `{other}`"
                    )))
                }
            };
            let d = Described {
                name: name.to_string(),
                unit,
                better,
                rank: seen.len(),
            };
            match stem {
                Some(p) => out.prefixes.push((p.to_string(), d)),
                None => {
                    out.exact.insert(key.to_string(), d);
                }
            }
        }
        // the most specific prefix wins, whatever the file's order
        out.prefixes
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The description of `kpi`: its exact row, else the longest prefix it extends.
    pub fn get(&self, kpi: &str) -> Option<Described> {
        if let Some(d) = self.exact.get(kpi) {
            return Some(d.clone());
        }
        self.prefixes.iter().find_map(|(p, d)| {
            let rest = kpi.strip_prefix(p.as_str()).filter(|r| !r.is_empty())?;
            Some(Described {
                name: d.name.replace("{}", rest),
                ..d.clone()
            })
        })
    }

    /// As [`Indicators::get`], or the machine name, a plain number and no direction
    /// for an indicator the table does not know (the caller says which).
    pub fn describe(&self, kpi: &str) -> Described {
        self.get(kpi).unwrap_or_else(|| Described {
            name: kpi.to_string(),
            unit: Unit::Index,
            better: Better::Neither,
            rank: usize::MAX,
        })
    }
}

/// How B stands against A on one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Significantly different, in the better direction.
    Better,
    Worse,
    /// Significantly different, on an indicator with no better direction.
    Differs,
    /// Not significantly different (or not testable).
    NoDifference,
}

impl Verdict {
    /// The value in `compare.csv`'s `verdict` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "b_better",
            Verdict::Worse => "b_worse",
            Verdict::Differs => "b_differs",
            Verdict::NoDifference => "",
        }
    }
}

impl KpiDifference {
    /// B against A given which way is better; only a significant difference counts.
    pub fn verdict(&self, better: Better) -> Verdict {
        if !self.significant() || !self.diff.mean.is_finite() || self.diff.mean == 0.0 {
            return Verdict::NoDifference;
        }
        match (better, self.diff.mean > 0.0) {
            (Better::Neither, _) => Verdict::Differs,
            (Better::Higher, true) | (Better::Lower, false) => Verdict::Better,
            _ => Verdict::Worse,
        }
    }
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
    const TABLE: &str = "# comment\nindicator,name,unit,better\n\
        on_time_closure_rate,On-time closure rate,share,higher\n\
        crew_utilisation,Crew utilisation,share,neither\n\
        crew_utilisation:*,Crew utilisation: {},share,neither\n\
        response_within_target:p*,\"Within target, priority {}\",share,higher\n\
        response_*,Response {},min,lower\n";

    #[test]
    fn indicators_match_exactly_then_by_the_longest_prefix() {
        let t = Indicators::parse(TABLE.as_bytes(), "t.csv").unwrap();
        let d = t.get("on_time_closure_rate").unwrap();
        assert_eq!(
            (d.name.as_str(), d.better),
            ("On-time closure rate", Better::Higher)
        );
        let d = t.get("crew_utilisation:Traffic Police").unwrap();
        assert_eq!(d.name, "Crew utilisation: Traffic Police");
        assert_eq!(d.better, Better::Neither);
        let d = t.get("response_within_target:p3").unwrap();
        assert_eq!(
            (d.name.as_str(), d.better),
            ("Within target, priority 3", Better::Higher)
        );
        assert_eq!(t.get("response_p90_min").unwrap().better, Better::Lower);
        // a prefix alone is not an indicator it describes
        assert!(t.get("crew_utilisation:").is_none());
        assert!(t.get("unknown").is_none());
        assert_eq!(t.describe("unknown").better, Better::Neither);
    }

    #[test]
    fn a_malformed_indicator_row_names_the_file_and_line() {
        for (row, says) in [
            (
                "backlog_mean,Open cases,count,up",
                "better must be higher, lower or neither, not `up`",
            ),
            (
                "backlog_mean,Open cases,pieces,lower",
                "unit must be one of",
            ),
            ("backlog_mean,Open cases,count", "3 fields, expected 4"),
            (
                "Backlog Mean,Open cases,count,lower",
                "indicator `Backlog Mean`",
            ),
            ("backlog_*,Open cases,count,lower", "needs `{}`"),
            (
                "on_time_closure_rate,Again,share,higher",
                "again (first on line 3)",
            ),
            ("backlog_mean,,count,lower", "has no name"),
        ] {
            let text = format!("{TABLE}{row}\n");
            let e = Indicators::parse(text.as_bytes(), "data/indicators.csv").unwrap_err();
            assert!(
                e.starts_with("data/indicators.csv: line 8: ") && e.contains(says),
                "{row}: {e}"
            );
        }
        let e = Indicators::parse(b"kpi,name,unit,better\n", "x.csv").unwrap_err();
        assert!(e.contains("x.csv: the header must be"), "{e}");
    }

    #[test]
    fn values_read_as_people_read_them() {
        assert_eq!(Unit::Count.format(642.0), "642");
        assert_eq!(Unit::Count.format(6000.0), "6,000");
        assert_eq!(Unit::Count.format(643.2), "643.2");
        assert_eq!(Unit::Share.format(0.9821), "98.2 %");
        assert_eq!(Unit::Minutes.format(27.66), "27.7 min");
        assert_eq!(Unit::Minutes.format(6012.4), "6,012 min");
        assert_eq!(Unit::Hours.format(3.505), "3.50 h");
        assert_eq!(Unit::Share.format(f64::NAN), "–");
        assert_eq!(Unit::Share.format_bare(0.9821), "98.2");
        assert_eq!(Unit::Minutes.format_bare(6012.4), "6,012");
        assert_eq!(Unit::Count.format_bare(6000.0), "6,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn verdicts_follow_the_direction_and_need_significance() {
        let mk = |shift: f64| -> BTreeMap<u64, BTreeMap<String, f64>> {
            [3.0, -2.0, 5.0, 1.0]
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        i as u64,
                        BTreeMap::from([("x".to_string(), 10.0 + n + shift)]),
                    )
                })
                .collect()
        };
        let up = &compare(&mk(0.0), &mk(1.0))[0];
        assert_eq!(up.verdict(Better::Higher), Verdict::Better);
        assert_eq!(up.verdict(Better::Lower), Verdict::Worse);
        assert_eq!(up.verdict(Better::Neither), Verdict::Differs);
        let same = &compare(&mk(0.0), &mk(0.0))[0];
        assert_eq!(same.verdict(Better::Higher), Verdict::NoDifference);
    }
}
