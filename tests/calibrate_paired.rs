//! `gridtwin calibrate` judged as `gridtwin compare` judges: histories of a known
//! scenario against runs of the scenarios fitted to them, paired.

use std::path::Path;

#[path = "testkit.rs"]
mod testkit;
use testkit::{csv_maps as rows, ok_in as gridtwin, repo};

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
            "--format",
            "csv",
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
                "--format",
                "csv",
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
