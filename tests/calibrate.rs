//! `gridtwin calibrate` against known truths: a scenario simulated for eight weeks
//! (its rates, profiles, step laws and crews recovered), and a history built outside
//! gridtwin (tests/history/make_history.py: lognormal and gamma steps, a
//! non-homogeneous arrival rate). The paired comparison of fitted scenarios is in
//! `calibrate_paired`; warm starts and backtests in `calibrate_warm`.

use std::collections::HashMap;
use std::process::Command;

use gridtwin_sim::calibrate::poisson_interval_at;

#[path = "testkit.rs"]
mod testkit;
use testkit::{csv_maps as rows, ok_in as gridtwin, repo};

/// The chosen fit of a step: family and parameters.
fn chosen(fits: &[HashMap<String, String>], step: &str) -> (String, Vec<f64>) {
    let f = fits
        .iter()
        .find(|f| f["step"] == step && f["chosen"] == "true")
        .unwrap_or_else(|| panic!("no fit of {step}"));
    (
        f["family"].clone(),
        f["params"].split(' ').map(|p| p.parse().unwrap()).collect(),
    )
}

/// Pearson correlation of two profiles.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// The fitted hour weights of a category, from the scenario text.
fn hour_weights(toml: &str, class: &str) -> Vec<f64> {
    let at = toml
        .find(&format!("[arrivals.events.\"{class}\"]"))
        .unwrap();
    let line = toml[at..]
        .lines()
        .find(|l| l.starts_with("hour_weights"))
        .unwrap();
    line[line.find('[').unwrap() + 1..line.find(']').unwrap()]
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect()
}

/// The rate's count and days, checked against the truth at 99.9 % (seven categories
/// at 95 % each would miss one in three runs by chance).
fn assert_rate(
    rates: &[HashMap<String, String>],
    kind: &str,
    class: &str,
    truth_per_day: f64,
    days: f64,
) {
    let r = rates
        .iter()
        .find(|r| r["kind"] == kind && r["category"] == class)
        .unwrap_or_else(|| panic!("no rate for {kind}:{class}"));
    let n: u64 = r["cases"].parse().unwrap();
    let (lo, hi) = poisson_interval_at(n, 0.999);
    let (lo, hi) = (lo / days, hi / days);
    assert!(
        lo <= truth_per_day && truth_per_day <= hi,
        "{kind}:{class}: truth {truth_per_day}/day outside [{lo}, {hi}] ({n} cases)"
    );
}

#[test]
fn eight_weeks_of_a_known_scenario_are_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // the baseline, eight weeks, every case found the moment it occurs (so the intake
    // profile is the arrival profile)
    std::fs::write(
        dir.join("known.toml"),
        format!(
            "base = \"{}\"\ndays = 56\nwarmup_days = 0\n[discovery]\nmode = \"immediate\"\n",
            repo().join("scenes/baseline.toml").display()
        ),
    )
    .unwrap();
    gridtwin(
        dir,
        &[
            "simulate",
            "known.toml",
            "--replications",
            "1",
            "--seed",
            "11",
            "--out",
            "sim",
        ],
    );
    let city = repo().join("data/helsinki/city");
    let out = gridtwin(
        dir,
        &[
            "calibrate",
            "sim/rep_000/timeline.parquet",
            "--city",
            city.to_str().unwrap(),
            "--out",
            "fit/fitted.toml",
            "--report",
            "fit/report",
        ],
    );
    assert!(out.contains("fitted 56.0 days"), "{out}");
    let rates = rows(&dir.join("fit/report/rates.csv"));
    for (class, per_day) in [
        ("0101", 20.0),
        ("0501", 12.0),
        ("0502", 25.0),
        ("0103", 8.0),
        ("0401", 1.0),
        ("0104", 10.0),
        ("0201", 15.0),
    ] {
        assert_rate(&rates, "event", class, per_day, 56.0);
    }
    // street lamps: 586 components × 0.5 a year
    assert_rate(&rates, "component", "0107", 586.0 * 0.5 / 365.0, 56.0);
    // the hour profile of street vending
    let toml = std::fs::read_to_string(dir.join("fit/fitted.toml")).unwrap();
    let truth = [
        0., 0., 0., 0., 0., 0., 1., 3., 5., 5., 6., 8., 8., 6., 5., 5., 6., 8., 10., 10., 8., 5.,
        2., 0.,
    ];
    let r = correlation(&hour_weights(&toml, "0501"), &truth);
    assert!(r > 0.95, "hour profile correlation {r}");
    // step laws: verify uniform 5–20, feedback uniform 5–15, check exp 60, and the
    // handling of exposed garbage exp 40 (a gamma of shape ≈ 1 is the same law)
    let fits = rows(&dir.join("fit/report/fits.csv"));
    let (fam, p) = chosen(&fits, "verify");
    assert_eq!(fam, "uniform");
    assert!(
        (p[0] - 5.0).abs() < 0.1 && (p[1] - 20.0).abs() < 0.1,
        "{p:?}"
    );
    let (fam, p) = chosen(&fits, "feedback");
    assert_eq!(fam, "uniform");
    assert!(
        (p[0] - 5.0).abs() < 0.1 && (p[1] - 15.0).abs() < 0.1,
        "{p:?}"
    );
    let (fam, p) = chosen(&fits, "check");
    assert!(
        fam == "exp" || (fam == "gamma" && (p[0] - 1.0).abs() < 0.1),
        "{fam} {p:?}"
    );
    assert!((p[p.len() - 1] - 60.0).abs() < 60.0 * 0.08, "{p:?}");
    let (fam, p) = chosen(&fits, "handle event:0101");
    assert!(
        fam == "exp" || (fam == "gamma" && (p[0] - 1.0).abs() < 0.1),
        "{fam} {p:?}"
    );
    assert!((p[p.len() - 1] - 40.0).abs() < 40.0 * 0.1, "{p:?}");
    // crews, as the baseline has them (a department's pools on different hours
    // added up: a quiet department's crews show on fewer hours)
    for (dept, n) in [
        ("City Management Bureau", 5),
        ("Sanitation Department", 4),
        ("Traffic Police", 3),
        ("Drainage Authority", 2),
        ("Street Lighting Office", 1),
        ("Water Supply Company", 1),
    ] {
        let key = format!("department = \"{dept}\"");
        let total: u32 = toml
            .match_indices(&key)
            .map(|(at, _)| {
                let count = toml[at..].lines().nth(1).unwrap();
                count["count = ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .parse::<u32>()
                    .unwrap()
            })
            .sum();
        assert_eq!(total, n, "{dept}");
    }
    // a busy department's shift, recovered to the hour
    assert!(toml.contains("department = \"City Management Bureau\"\ncount = 5   # from crew ids by hour\nshift = \"08:00-20:00\""), "{toml}");
    // every value says what it rests on
    assert!(toml.contains("cases; 95 % CI"));
    // shares: checks failed 8 % (a failed check is a rework, a passed one a closure:
    // crew work and compliance alike), reports declined 5 %, limits extended 3 %
    for (key, truth) in [
        ("check_failure", 0.08),
        ("not_registered", 0.05),
        ("extension", 0.03),
    ] {
        let line = toml
            .lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap();
        let ci = line.split("95 % CI ").nth(1).unwrap();
        let (lo, hi) = ci.split_once('–').unwrap();
        let (lo, hi): (f64, f64) = (lo.trim().parse().unwrap(), hi.trim().parse().unwrap());
        assert!(lo - 0.005 <= truth && truth <= hi + 0.005, "{line}");
    }
    // the escalation ladder of street vending: compliance 0.45 at notify, 0.5 at visit
    let ladder: Vec<(String, f64, f64)> = toml
        .split("[[escalation.\"event:0501\"]]")
        .skip(1)
        .map(|block| {
            let line = block.lines().find(|l| l.starts_with("compliance")).unwrap();
            let action = block.lines().find(|l| l.starts_with("action")).unwrap();
            let ci = line.split("95 % CI ").nth(1).unwrap();
            let (lo, hi) = ci.split_once('–').unwrap();
            (
                action.to_string(),
                lo.trim().parse().unwrap(),
                hi.trim().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(ladder.len(), 2, "{toml}");
    for ((action, lo, hi), (want_action, truth)) in
        ladder.iter().zip([("notify", 0.45), ("visit", 0.5)])
    {
        assert!(action.contains(want_action), "{action}");
        // a 95 % interval, widened a little for the two checks
        assert!(
            lo - 0.03 <= truth && truth <= hi + 0.03,
            "{action}: {truth} not in [{lo}, {hi}]"
        );
    }
    // and the fitted scenario runs the same eight weeks (travel drawn from the trip
    // times, the source drove on roads) with the source's indicators, within 10 %
    std::fs::write(
        dir.join("fit/long.toml"),
        "base = \"fitted.toml\"\ndays = 56\n",
    )
    .unwrap();
    gridtwin(
        dir,
        &[
            "simulate",
            "fit/long.toml",
            "--allow-outside-paths",
            "--replications",
            "1",
            "--seed",
            "11",
            "--out",
            "refit",
        ],
    );
    let kpi = |p: &str, k: &str| -> f64 {
        rows(&dir.join(p))
            .iter()
            .find(|r| r["kpi"] == k)
            .unwrap_or_else(|| panic!("no {k}"))["mean"]
            .parse()
            .unwrap()
    };
    for k in [
        "arrival_rate_per_h",
        "backlog_mean",
        "close_time_p50_h",
        "response_p50_min",
        "response_p90_min",
        "crew_utilisation",
        "time_in_system_mean_h",
    ] {
        let (a, b) = (kpi("sim/summary.csv", k), kpi("refit/summary.csv", k));
        assert!(
            (a - b).abs() <= 0.1 * a.abs(),
            "{k}: source {a}, fitted {b}"
        );
    }
    let (a, b) = (
        kpi("sim/summary.csv", "on_time_closure_rate"),
        kpi("refit/summary.csv", "on_time_closure_rate"),
    );
    assert!(
        (a - b).abs() < 0.01,
        "on-time closure: source {a}, fitted {b}"
    );
}

#[test]
fn a_history_made_outside_gridtwin_is_fitted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // the held-out history, plus two rows that cannot be used
    let mut text = std::fs::read_to_string(repo().join("tests/history/held_out.csv")).unwrap();
    text.push_str("BAD1,,2025-03-05T10:00:00+08:00,24.94,60.17,,,,,,,,\n");
    text.push_str("BAD2,0101,yesterday,24.94,60.17,,,,,,,,\n");
    std::fs::write(dir.join("history.csv"), text).unwrap();
    let city = repo().join("data/helsinki/city");
    let out = gridtwin(
        dir,
        &[
            "calibrate",
            "history.csv",
            "--city",
            city.to_str().unwrap(),
            "--out",
            "fitted.toml",
            "--report",
            "report",
        ],
    );
    assert!(out.contains("not used: 1 rows, no category"), "{out}");
    assert!(
        out.contains("not used: 1 rows, `intake_at` is not a time"),
        "{out}"
    );
    assert!(out.contains("kept steps.feedback"), "{out}");
    let rates = rows(&dir.join("report/rates.csv"));
    assert_rate(&rates, "event", "0101", 30.0, 42.0);
    assert_rate(&rates, "event", "0502", 18.0, 42.0);
    let fits = rows(&dir.join("report/fits.csv"));
    let (fam, p) = chosen(&fits, "verify");
    assert_eq!(fam, "gamma");
    assert!(
        (p[0] - 3.0).abs() < 0.3 && (p[1] - 12.0).abs() < 0.8,
        "{p:?}"
    );
    let (fam, p) = chosen(&fits, "handle");
    assert_eq!(fam, "lognormal");
    assert!(
        (p[0] - 3.5).abs() < 0.05 && (p[1] - 0.6).abs() < 0.04,
        "{p:?}"
    );
    let (fam, p) = chosen(&fits, "check");
    assert!(
        fam == "exp" || (fam == "gamma" && (p[0] - 1.0).abs() < 0.1),
        "{fam} {p:?}"
    );
    assert!((p[p.len() - 1] - 30.0).abs() < 2.5, "{p:?}");
    let toml = std::fs::read_to_string(dir.join("fitted.toml")).unwrap();
    let profile = [
        0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1.0, 1.8, 2.0, 1.8, 1.5, 1.4, 1.4, 1.5, 1.5, 1.6, 1.6, 1.5,
        1.2, 1.0, 0.8, 0.5, 0.3, 0.2,
    ];
    let r = correlation(&hour_weights(&toml, "0101"), &profile);
    assert!(r > 0.95, "hour profile correlation {r}");
    // three crews by their ids
    assert!(toml.contains("count = 3   # from crew ids"), "{toml}");
}

#[test]
fn a_history_with_nothing_usable_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("h.csv"), "id,category\n1,0101\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args(["calibrate", "h.csv", "--city"])
        .arg(repo().join("data/helsinki/city"))
        .args(["--out", "f.toml"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("h.csv") && err.contains("no intake time"),
        "{err}"
    );
    assert!(!tmp.path().join("f.toml").exists());
}

/// A history as an export holds it: local times without an offset (`2025-03-03
/// 03:10:57`, in the city's zone), category names instead of codes, one category the
/// table does not know. Fitted exactly as the same history in gridtwin's own form.
#[test]
fn an_export_with_local_times_and_category_names_fits_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = std::fs::read_to_string(repo().join("tests/history/held_out.csv")).unwrap();
    let mut export = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            export.push_str(line);
        } else {
            let fields: Vec<String> = line
                .split(',')
                .map(|f| match f {
                    "0101" => "Exposed garbage".to_string(),
                    "0502" => "违章停车".to_string(),
                    f if f.ends_with("+08:00") => f.trim_end_matches("+08:00").replace('T', " "),
                    f => f.to_string(),
                })
                .collect();
            export.push_str(&fields.join(","));
        }
        export.push('\n');
    }
    export.push_str("X1,UFO sighting,2025-03-05 10:00:00,24.94,60.17,,,,,,,,\n");
    std::fs::write(dir.join("export.csv"), export).unwrap();
    let city = repo().join("data/helsinki/city");
    let city = city.to_str().unwrap();
    gridtwin(
        dir,
        &[
            "calibrate",
            &repo()
                .join("tests/history/held_out.csv")
                .display()
                .to_string(),
            "--city",
            city,
            "--out",
            "a/fitted.toml",
            "--report",
            "a/report",
        ],
    );
    let out = gridtwin(
        dir,
        &[
            "calibrate",
            "export.csv",
            "--city",
            city,
            "--out",
            "b/fitted.toml",
            "--report",
            "b/report",
        ],
    );
    assert!(
        out.contains("not used: 1 rows, category not in the category table"),
        "{out}"
    );
    for f in ["report/fits.csv", "report/rates.csv"] {
        assert_eq!(
            std::fs::read_to_string(dir.join("a").join(f)).unwrap(),
            std::fs::read_to_string(dir.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
}

/// A Parquet timeline (`simulate --timeline-format parquet`) fits exactly as the same
/// run's CSV timeline: the same scenario, the same fit report, only the name differs.
#[test]
fn a_parquet_timeline_fits_as_its_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let scene = repo().join("scenes/baseline.toml");
    let city = repo().join("data/helsinki/city");
    let (scene, city) = (scene.to_str().unwrap(), city.to_str().unwrap());
    for (out, format) in [("csv", "csv"), ("pq", "parquet")] {
        gridtwin(
            d,
            &[
                "simulate",
                scene,
                "--replications",
                "1",
                "--seed",
                "3",
                "--out",
                out,
                "--timeline-format",
                format,
            ],
        );
    }
    gridtwin(
        d,
        &[
            "calibrate",
            "csv/rep_000/timeline.csv",
            "--city",
            city,
            "--out",
            "a/fitted.toml",
            "--report",
            "a/fit",
        ],
    );
    gridtwin(
        d,
        &[
            "calibrate",
            "pq/rep_000/timeline.parquet",
            "--city",
            city,
            "--out",
            "b/fitted.toml",
            "--report",
            "b/fit",
        ],
    );
    let read = |p: &str| std::fs::read_to_string(d.join(p)).unwrap();
    assert_eq!(
        read("a/fitted.toml").replace("timeline.csv", "timeline.X"),
        read("b/fitted.toml").replace("timeline.parquet", "timeline.X")
    );
    let (fa, fb) = (read("a/fit/fits.csv"), read("b/fit/fits.csv"));
    assert!(fa.lines().count() > 5);
    assert_eq!(fa, fb);
}
