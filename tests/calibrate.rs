//! `gridtwin calibrate` against known truths: a scenario simulated for eight weeks
//! (its rates, profiles, step laws and crews recovered), and a history built outside
//! gridtwin (tests/history/make_history.py: lognormal and gamma steps, a
//! non-homogeneous arrival rate).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gridtwin_sim::calibrate::poisson_interval_at;

#[path = "testkit.rs"]
mod testkit;
use testkit::repo;

fn gridtwin(dir: &Path, args: &[&str]) -> String {
    testkit::ok_in(dir, args)
}

/// rows of a CSV as maps
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            h.iter()
                .zip(x.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

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
            "sim/rep_000/timeline.csv",
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

/// Per-replication indicators of a `simulate` run (`kpis.csv`): rep → kpi → value.
fn kpis(path: &Path) -> std::collections::BTreeMap<u64, std::collections::BTreeMap<String, f64>> {
    rows(path)
        .into_iter()
        .map(|r| {
            let rep = r["rep"].parse().unwrap();
            let m = r
                .into_iter()
                .filter(|(k, _)| k != "rep" && k != "seed")
                .map(|(k, v)| (k, v.parse().unwrap_or(f64::NAN)))
                .collect();
            (rep, m)
        })
        .collect()
}

/// The paired criterion, with the estimation error inside the pairs: six independent
/// four-week histories of a known scenario, each fitted and its fitted scenario run
/// once; pair i is (history i, the run of the scenario fitted to it). A calibration
/// that reproduces its histories has paired differences of mean zero: no indicator
/// differs at 5 % family-wise (paired t, Holm, as `gridtwin compare` judges). Before
/// a rare category kept its own handling mean and a department its own trips, this
/// failed on the drainage crews' utilisation and the handling on-time rate (seeds
/// 1–6 and 21 pass now).
#[test]
fn fitted_scenarios_match_their_histories_in_a_paired_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let baseline = repo().join("scenes/baseline.toml");
    let policy = std::fs::read_to_string(&baseline).unwrap();
    // what a city scores by (targets, composite weights) is policy, not fitted: the
    // planner's overlay carries it onto each fitted scenario
    let section = |name: &str| -> String {
        let at = policy.find(name).unwrap();
        let rest = &policy[at..];
        let end = rest[1..].find("\n[").map_or(rest.len(), |e| e + 1);
        rest[..end].to_string()
    };
    let scoring = format!(
        "{}\n{}",
        section("[response_target_minutes]"),
        section("[composite]")
    );
    // the fitted scenario starts where its history ends (a forecast); paired with
    // the history it runs the history's own weeks (the calendar's holidays move
    // deadlines)
    let start = policy
        .lines()
        .find(|l| l.starts_with("start = "))
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .trim();
    let days = 28;
    std::fs::write(
        dir.join("known.toml"),
        format!(
            "base = \"{}\"\ndays = {days}\nwarmup_days = 0\n[discovery]\nmode = \"immediate\"\n",
            baseline.display()
        ),
    )
    .unwrap();
    let reps = 6;
    gridtwin(
        dir,
        &[
            "simulate",
            "known.toml",
            "--replications",
            &reps.to_string(),
            "--seed",
            "21",
            "--out",
            "src",
        ],
    );
    let histories = kpis(&dir.join("src/kpis.csv"));
    let mut refits = std::collections::BTreeMap::new();
    for i in 0..reps {
        let fit = format!("fit{i}");
        gridtwin(
            dir,
            &[
                "calibrate",
                &format!("src/rep_{i:03}/timeline.csv"),
                "--city",
                repo().join("data/helsinki/city").to_str().unwrap(),
                "--out",
                &format!("{fit}/fitted.toml"),
            ],
        );
        std::fs::write(
            dir.join(&fit).join("run.toml"),
            format!("base = \"fitted.toml\"\n{start}\ndays = {days}\n{scoring}"),
        )
        .unwrap();
        gridtwin(
            dir,
            &[
                "simulate",
                &format!("{fit}/run.toml"),
                "--allow-outside-paths",
                "--replications",
                "1",
                "--seed",
                &(100 + i).to_string(),
                "--out",
                &format!("{fit}/run"),
            ],
        );
        let k = kpis(&dir.join(&fit).join("run/kpis.csv"));
        refits.insert(i as u64, k[&0].clone());
    }
    let diffs = gridtwin_sim::compare::compare(&histories, &refits);
    let compared = diffs.iter().filter(|d| !d.p_adjusted.is_nan()).count();
    assert!(compared >= 35, "only {compared} indicators compared");
    println!("{compared} indicators compared");
    let differ: Vec<String> = diffs
        .iter()
        .filter(|d| d.significant())
        .map(|d| {
            format!(
                "{}: histories {:.3}, fitted {:.3} (p_holm {:.4})",
                d.kpi, d.a.mean, d.b.mean, d.p_adjusted
            )
        })
        .collect();
    assert!(differ.is_empty(), "{differ:#?}");
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

/// A history for the warm-start and backtest tests: the baseline, found at once,
/// `days` long, from seed 5; with `overlay` (TOML) on top.
fn history(dir: &Path, name: &str, days: u32, overlay: &str) -> PathBuf {
    std::fs::write(
        dir.join(format!("{name}.toml")),
        format!(
            "base = \"{}\"\ndays = {days}\nwarmup_days = 0\n[discovery]\nmode = \"immediate\"\n{overlay}",
            repo().join("scenes/baseline.toml").display()
        ),
    )
    .unwrap();
    gridtwin(
        dir,
        &[
            "simulate",
            &format!("{name}.toml"),
            "--replications",
            "1",
            "--seed",
            "5",
            "--out",
            name,
        ],
    );
    dir.join(name).join("rep_000/timeline.csv")
}

/// Steps reached by the cases open at `t`, counted from the history itself:
/// (awaiting verification, awaiting dispatch, with the department, awaiting the check).
fn open_by_step(rows: &[HashMap<String, String>], t: i64) -> (usize, usize, usize, usize) {
    let at = |r: &HashMap<String, String>, k: &str| -> Option<i64> {
        let v = &r[k];
        (!v.is_empty()).then(|| gridtwin_sim::local_time::parse(v).unwrap())
    };
    let mut n = (0, 0, 0, 0);
    for r in rows {
        let Some(i) = at(r, "intake_at") else {
            continue;
        };
        if i >= t || at(r, "closed_at").is_some_and(|c| c <= t) {
            continue;
        }
        let by = |k: &str| at(r, k).is_some_and(|x| x <= t);
        if by("handled_at") {
            n.3 += 1;
        } else if by("dispatched_at") {
            n.2 += 1;
        } else if by("verified_at") {
            n.1 += 1;
        } else {
            n.0 += 1;
        }
    }
    n
}

#[test]
fn a_warm_start_brings_in_the_history_s_open_cases_step_by_step() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let h = history(dir, "h", 10, "");
    // a busy moment: Thursday noon of the second week
    let t = "2025-03-13T12:00:00+08:00";
    let t_s = gridtwin_sim::local_time::parse(t).unwrap();
    let want = open_by_step(&rows(&h), t_s);
    let total = want.0 + want.1 + want.2 + want.3;
    assert!(total > 5, "{want:?}");
    std::fs::write(
        dir.join("next.toml"),
        format!(
            "base = \"{}\"\nstart = \"{t}\"\ndays = 7\nwarmup_days = 0\n[discovery]\nmode = \"immediate\"\n",
            repo().join("scenes/baseline.toml").display()
        ),
    )
    .unwrap();
    let out = gridtwin(
        dir,
        &[
            "simulate",
            "next.toml",
            "--start-from",
            h.to_str().unwrap(),
            "--replications",
            "3",
            "--out",
            "next",
        ],
    );
    let line = format!(
        "{total} open cases ({} awaiting verification, {} awaiting dispatch, {} with their department, {} awaiting the check)",
        want.0, want.1, want.2, want.3
    );
    assert!(out.contains(&line), "{out}\nwanted: {line}");
    // the run's timeline: exactly those cases from before the start, and every case
    // either closed or open at the end (nothing lost)
    let sim = rows(&dir.join("next/rep_000/timeline.csv"));
    let before = sim
        .iter()
        .filter(|r| gridtwin_sim::local_time::parse(&r["intake_at"]).is_ok_and(|i| i < t_s))
        .count();
    assert_eq!(before, total);
    // and they are worked off: most of them close within the week
    let closed_before = sim
        .iter()
        .filter(|r| gridtwin_sim::local_time::parse(&r["intake_at"]).is_ok_and(|i| i < t_s))
        .filter(|r| !r["closed_at"].is_empty())
        .count();
    assert!(closed_before * 2 > total, "{closed_before} of {total}");
    // the backlog starts where the history was
    let backlog = rows(&dir.join("next/backlog.csv"));
    let first: f64 = backlog[0]
        .iter()
        .find(|(k, _)| k.contains("open") || k.contains("backlog"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert!(
        (first - total as f64).abs() <= 2.0,
        "backlog {first} vs {total}"
    );
    // the run's own bookkeeping still holds with the history's cases in it: cases taken
    // in = closed + open at the end, and Little's law L = λW
    let kpi = |k: &str| -> f64 {
        rows(&dir.join("next/summary.csv"))
            .iter()
            .find(|r| r["kpi"] == k)
            .unwrap()["mean"]
            .parse()
            .unwrap()
    };
    let (taken, closed, open) = (
        kpi("cases_taken_in"),
        kpi("cases_closed"),
        kpi("cases_open_at_end"),
    );
    assert!(
        (taken - closed - open).abs() < 1e-6,
        "{taken} ≠ {closed} + {open}"
    );
    let (l, lambda, w) = (
        kpi("backlog_mean"),
        kpi("arrival_rate_per_h"),
        kpi("time_in_system_mean_h"),
    );
    assert!(
        (l - lambda * w).abs() < 0.05 * l,
        "L {l} vs λW {}",
        lambda * w
    );
}

/// Escalation state carries over: street vending (a category with a ladder: notify,
/// then visit) made busy, and the cases verified but not yet dispatched at the start
/// (on the ladder) re-enter the ladder in the run — without the carry-over they went
/// straight to dispatch and never showed a stage.
#[test]
fn a_case_on_the_escalation_ladder_at_the_start_stays_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let h = history(dir, "h", 4, "[arrivals.events.\"0501\"]\nper_day = 150\n");
    let t = "2025-03-05T18:00:00+08:00";
    let t_s = gridtwin_sim::local_time::parse(t).unwrap();
    let at = |r: &HashMap<String, String>, k: &str| -> Option<i64> {
        let v = &r[k];
        (!v.is_empty()).then(|| gridtwin_sim::local_time::parse(v).unwrap())
    };
    // the history's cases on the ladder at T: verified, not dispatched, not closed
    let on_ladder: Vec<(String, String)> = rows(&h)
        .iter()
        .filter(|r| r["category"] == "0501")
        .filter(|r| at(r, "verified_at").is_some_and(|v| v <= t_s))
        .filter(|r| at(r, "dispatched_at").is_none_or(|d| d > t_s))
        .filter(|r| at(r, "closed_at").is_none_or(|c| c > t_s))
        .map(|r| (r["intake_at"].clone(), r["grid_code"].clone()))
        .collect();
    assert!(
        on_ladder.len() >= 5,
        "only {} on the ladder",
        on_ladder.len()
    );
    std::fs::write(
        dir.join("next.toml"),
        format!(
            "base = \"{}\"\nstart = \"{t}\"\ndays = 2\nwarmup_days = 0\n[discovery]\nmode = \"immediate\"\n",
            repo().join("scenes/baseline.toml").display()
        ),
    )
    .unwrap();
    gridtwin(
        dir,
        &[
            "simulate",
            "next.toml",
            "--start-from",
            h.to_str().unwrap(),
            "--replications",
            "1",
            "--out",
            "next",
        ],
    );
    let sim = rows(&dir.join("next/rep_000/timeline.csv"));
    let staged = on_ladder
        .iter()
        .filter(|(intake, grid)| {
            sim.iter().any(|r| {
                &r["intake_at"] == intake && &r["grid_code"] == grid && !r["ladder"].is_empty()
            })
        })
        .count();
    assert_eq!(
        staged,
        on_ladder.len(),
        "{staged} of {} on the ladder",
        on_ladder.len()
    );
}

/// A backtest that can fail: the same history with the crews cut after T (the same
/// incidents arrive: common random numbers) must score worse than the unchanged one.
#[test]
fn a_backtest_sees_a_regime_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let same = history(dir, "same", 42, "");
    let cut = history(
        dir,
        "cut",
        42,
        "[crews.enforcement]\ncount = 2\n[crews.sanitation]\ncount = 1\n[crews.traffic]\ncount = 1\n",
    );
    let t = "2025-04-07T00:00:00+08:00";
    let t_s = gridtwin_sim::local_time::parse(t).unwrap();
    // the changed history: as before until T, then the cut crews' cases
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    let (a, b) = (text(&same), text(&cut));
    let header = a.lines().next().unwrap();
    let intake = header.split(',').position(|c| c == "intake_at").unwrap();
    let when = |l: &str| gridtwin_sim::local_time::parse(l.split(',').nth(intake).unwrap()).ok();
    let mut changed = String::from(header);
    changed.push('\n');
    for l in a
        .lines()
        .skip(1)
        .filter(|l| when(l).is_some_and(|i| i < t_s))
    {
        changed.push_str(l);
        changed.push('\n');
    }
    for l in b
        .lines()
        .skip(1)
        .filter(|l| when(l).is_some_and(|i| i >= t_s))
    {
        changed.push_str(l);
        changed.push('\n');
    }
    std::fs::write(dir.join("changed.csv"), changed).unwrap();
    let city = repo().join("data/helsinki/city");
    let backtest = |h: &str, out: &str| -> HashMap<String, (f64, String)> {
        gridtwin(
            dir,
            &[
                "backtest",
                h,
                "--city",
                city.to_str().unwrap(),
                "--train-until",
                t,
                "--days",
                "7",
                "--replications",
                "20",
                "--out",
                out,
            ],
        );
        assert!(dir.join(out).join("report.html").exists());
        assert!(dir.join(out).join("backlog.png").exists());
        rows(&dir.join(out).join("verdicts.csv"))
            .into_iter()
            .map(|r| {
                (
                    r["indicator"].clone(),
                    (r["value"].parse().unwrap(), r["verdict"].clone()),
                )
            })
            .collect()
    };
    let good = backtest(same.to_str().unwrap(), "bt_same");
    let bad = backtest("changed.csv", "bt_changed");
    let cov = |v: &HashMap<String, (f64, String)>| v["backlog at day end"].0;
    let ks = |v: &HashMap<String, (f64, String)>| v["response time"].0;
    // the values, as measured (seed 5): 0.857 and 0.000; KS 0.120 and 0.627
    assert!(cov(&good) >= 0.7, "{good:?}");
    assert!(cov(&bad) < cov(&good) - 0.4, "{bad:?}");
    assert_eq!(bad["backlog at day end"].1, "poor");
    assert!(ks(&bad) > ks(&good) + 0.2, "{good:?} {bad:?}");
    // the arrivals did not change: inflow is still covered
    assert!(bad["daily inflow"].0 >= 0.7, "{bad:?}");
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
