//! Unit tests of the comparison: pairing, t-test p-values against tables, Holm by
//! hand, no stars by chance after adjustment, the indicator table, formatting and
//! verdicts.

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
