//! End-to-end: `gridtwin simulate` and `gridtwin compare` on the demo city (the
//! vitals of a run are in `simulate_vitals`).

use std::path::Path;
use std::process::Command;

#[path = "testkit.rs"]
mod testkit;
use testkit::{ok, repo};

/// `gridtwin simulate SCENE --replications REPS --seed SEED --out OUT EXTRA...` from the
/// repository root; its standard output.
fn simulate(scene: &str, reps: &str, seed: &str, out: &Path, extra: &[&str]) -> String {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "simulate",
        scene,
        "--replications",
        reps,
        "--seed",
        seed,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

#[test]
fn simulate_baseline_and_what_if_then_compare() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let what = tmp.path().join("patrol");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = simulate("scenes/baseline.toml", "3", "4", &base, &[]);
    assert!(out.contains("on_time_closure_rate"), "{out}");
    simulate("scenes/whatif_double_patrol.toml", "3", "4", &what, &[]);
    // same seed, same scenario: same bytes
    let again = tmp.path().join("again");
    simulate("scenes/baseline.toml", "3", "4", &again, &[]);
    for f in [
        "kpis.parquet",
        "summary.csv",
        "backlog.parquet",
        "rep_002/timeline.parquet",
        "rep_000/crews.csv",
    ] {
        assert_eq!(
            std::fs::read(base.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    // the same run as CSV (`--format csv`): the same values, and `compare` reads either
    let base_csv = tmp.path().join("base_csv");
    simulate(
        "scenes/baseline.toml",
        "3",
        "4",
        &base_csv,
        &["--format", "csv"],
    );
    for t in ["kpis", "backlog"] {
        assert!(!base_csv.join(format!("{t}.parquet")).exists(), "{t}");
        assert!(!base.join(format!("{t}.csv")).exists(), "{t}");
    }
    use gridtwin_sim::study_tables::{read_backlog, KpiTable};
    let kpis = KpiTable::read(&base.join("kpis.parquet")).unwrap();
    assert_eq!(kpis, KpiTable::read(&base_csv.join("kpis.csv")).unwrap());
    assert_eq!(kpis.rows.len(), 3);
    assert!(kpis.names.iter().any(|n| n == "on_time_closure_rate"));
    let backlog = read_backlog(&base.join("backlog.parquet")).unwrap();
    assert_eq!(
        backlog,
        read_backlog(&base_csv.join("backlog.csv")).unwrap()
    );
    assert!(backlog.len() > 3);
    let mixed = tmp.path().join("mixed");
    ok(&["compare", &s(&base_csv), &s(&what), "--out", &s(&mixed)]);
    let table = ok(&["compare", &s(&base), &s(&what)]);
    assert_eq!(
        std::fs::read(mixed.join("compare.csv")).unwrap(),
        std::fs::read(what.join("compare.csv")).unwrap(),
        "compare reads a CSV run as it reads a Parquet one"
    );
    // patrolling twice as often must cut the mean discovery delay, significantly
    let line = table
        .lines()
        .find(|l| l.starts_with("discovery_delay_mean_min"))
        .unwrap();
    let cols: Vec<&str> = line.split_whitespace().collect();
    let diff: f64 = cols[3].parse().unwrap();
    assert!(diff < -30.0 && line.ends_with('*'), "{line}");
    assert!(line.ends_with("lower  B better *"), "{line}");
    let csv = std::fs::read_to_string(what.join("compare.csv")).unwrap();
    assert!(csv.lines().count() > 20);
    // which way is better, per indicator, from data/indicators.csv (prefixes included)
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let row = |kpi: &str| {
        rows.iter()
            .find(|r| &r[0] == kpi)
            .unwrap_or_else(|| panic!("{kpi} not in compare.csv"))
    };
    for (kpi, better) in [
        ("discovery_delay_mean_min", "lower"),
        ("on_time_closure_rate", "higher"),
        ("cases_occurred", "neither"),
        ("backlog_mean", "lower"),
    ] {
        assert_eq!(&row(kpi)[col("better")], better, "{kpi}");
    }
    assert_eq!(&row("discovery_delay_mean_min")[col("verdict")], "b_better");
    assert_eq!(
        &row("on_time_closure_rate")[col("name")],
        "On-time closure rate"
    );
    let by_prefix = |p: &'static str| rows.iter().filter(move |r| r[0].starts_with(p));
    assert!(by_prefix("crew_utilisation:").count() > 0);
    assert!(by_prefix("crew_utilisation:").all(|r| &r[col("better")] == "neither"));
    assert!(by_prefix("handle_on_time_rate:").all(|r| &r[col("better")] == "higher"));
    // every indicator a run makes has a direction (a new one belongs in the table)
    for r in &rows {
        assert!(
            ["higher", "lower", "neither"].contains(&&r[col("better")]),
            "{r:?}"
        );
        assert_ne!(&r[col("name")], &r[0], "{} has no human name", &r[0]);
    }
    // legends name the scenarios, not the folders; the tail is capped and says so
    let svg = std::fs::read_to_string(what.join("backlog.svg")).unwrap();
    assert!(
        svg.contains("A: Helsinki baseline") && !svg.contains(&s(&base)),
        "legend of backlog.svg"
    );
    assert!(svg.contains("local time (UTC+08:00)") && svg.contains("Mon 3 Mar"));
    let svg = std::fs::read_to_string(what.join("response.svg")).unwrap();
    assert!(svg.contains("99th percentile") && svg.contains("response time (min)"));
    for chart in ["backlog.png", "backlog.svg", "response.png", "response.svg"] {
        let bytes = std::fs::read(what.join(chart)).unwrap();
        assert!(bytes.len() > 5_000, "{chart} is {} bytes", bytes.len());
    }
    assert!(std::fs::read(what.join("backlog.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));
    // a different seed is refused for a paired comparison
    let other = tmp.path().join("other");
    simulate("scenes/baseline.toml", "2", "5", &other, &[]);
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args(["compare", &s(&base), &s(&other)])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("different seeds"));
}

#[test]
fn compare_refuses_a_run_that_did_not_finish_or_mixes_runs() {
    // issue 14: a killed `simulate` re-run mixed new timelines with the old kpis.csv
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (dir, reps) in [(&a, "3"), (&b, "2")] {
        simulate("scenes/baseline.toml", reps, "1", dir, &[]);
    }
    // the manifest lists every file with its size, written last
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"kpis.parquet") && files.contains(&"rep_002/timeline.parquet"),
        "{files:?}"
    );
    // a re-run with fewer replications leaves none of the earlier run's behind
    simulate("scenes/baseline.toml", "2", "1", &a, &[]);
    assert!(!a.join("rep_002").exists());
    ok(&[
        "compare",
        &s(&a),
        &s(&b),
        "--out",
        &s(&tmp.path().join("c1")),
    ]);
    // a file changed after the run, or the manifest gone (a killed run): refused
    std::fs::write(a.join("kpis.parquet"), "rep,seed\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .current_dir(repo())
        .args([
            "compare",
            &s(&a),
            &s(&b),
            "--out",
            &s(&tmp.path().join("c2")),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("mixes runs"), "{err}");
    std::fs::remove_file(b.join("manifest.json")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .current_dir(repo())
        .args([
            "compare",
            &s(&b),
            &s(&b),
            "--out",
            &s(&tmp.path().join("c3")),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("not a finished"),
        "{err}"
    );
}

#[test]
fn limits_are_named_with_the_flag_that_lifts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let long = tmp.path().join("long.toml");
    std::fs::write(
        &long,
        format!(
            "base = {:?}\ndays = 4000\n",
            repo().join("scenes/baseline.toml").display().to_string()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gridtwin"))
            .current_dir(repo())
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&[
        "simulate",
        &s(&long),
        "--replications",
        "1",
        "--out",
        &s(&tmp.path().join("a")),
    ]);
    let _ = std::fs::remove_file(&long);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--max-days"), "{err}");
    let o = run(&[
        "simulate",
        "scenes/baseline.toml",
        "--replications",
        "20000",
        "--out",
        &s(&tmp.path().join("b")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--max-replications"),
        "{err}"
    );
}

#[test]
fn compare_refuses_a_malformed_indicator_table_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let run = tmp.path().join("run");
    simulate("scenes/baseline.toml", "2", "3", &run, &[]);
    // a data folder of the repository's tables with one bad direction
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("fonts")).unwrap();
    for f in ["calendar.toml", "fonts/DejaVuSans.ttf"] {
        std::fs::copy(repo().join("data").join(f), data.join(f)).unwrap();
    }
    let table = std::fs::read_to_string(repo().join("data/indicators.csv")).unwrap();
    let bad_line = table.lines().count() + 1;
    std::fs::write(
        data.join("indicators.csv"),
        format!("{table}backlog_peak_h,Peak backlog,count,up\n"),
    )
    .unwrap();
    let out = tmp.path().join("cmp");
    std::fs::create_dir_all(&out).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args([
            "--data",
            &s(&data),
            "compare",
            &s(&run),
            &s(&run),
            "--out",
            &s(&out),
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains(&format!("indicators.csv: line {bad_line}: "))
            && err.contains("better must be higher, lower or neither, not `up`"),
        "{err}"
    );
    assert!(!out.join("compare.csv").exists(), "nothing written");
    // the repository's table compares the run with itself: nothing differs
    let table_out = ok(&["compare", &s(&run), &s(&run), "--out", &s(&out)]);
    assert!(!table_out.contains("B better") && !table_out.contains("B worse"));
}

/// A study run as slices (`--only-replications`, as `gridtwin.dask.simulate` spreads
/// it over machines) and gathered (`--gather`) is byte for byte the one-run study,
/// manifest included; a gather with a slice missing names what is missing.
#[test]
fn a_study_run_in_slices_and_gathered_is_the_one_run_study() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let scene = "scenes/baseline.toml";
    let study = [
        "--replications",
        "3",
        "--seed",
        "5",
        "--timeline-format",
        "parquet",
    ];
    let mut args = vec!["simulate", scene, "--out", testkit::s(&whole)];
    args.extend(study);
    ok(&args);
    for slice in ["2..3", "0..2"] {
        let mut args = vec![
            "simulate",
            scene,
            "--out",
            testkit::s(&parts),
            "--only-replications",
            slice,
        ];
        args.extend(study);
        ok(&args);
    }
    assert!(!parts.join("manifest.json").exists());
    let mut gather = vec!["simulate", scene, "--out", testkit::s(&parts), "--gather"];
    gather.extend(study);
    // a slice missing: refused, naming it
    let kept = std::fs::read(parts.join("part_000002_000003.json")).unwrap();
    std::fs::remove_file(parts.join("part_000002_000003.json")).unwrap();
    let o = testkit::run(&gather);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("replications 2 have no part file"));
    std::fs::write(parts.join("part_000002_000003.json"), kept).unwrap();
    ok(&gather);
    let all = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = Vec::new();
        for e in walk(d) {
            v.push((
                e.strip_prefix(d).unwrap().display().to_string(),
                std::fs::read(&e).unwrap(),
            ));
        }
        v.sort();
        v
    };
    let (a, b) = (all(&whole), all(&parts));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(a.iter().any(|f| f.0 == "rep_002/timeline.parquet"));
    for (x, y) in a.iter().zip(&b) {
        assert!(x.1 == y.1, "{} differs", x.0);
    }
    // a slice beyond the study is refused, as a flag's value (exit 2)
    let mut bad = vec![
        "simulate",
        scene,
        "--out",
        testkit::s(&parts),
        "--only-replications",
        "2..4",
    ];
    bad.extend(study);
    assert_eq!(testkit::run(&bad).status.code(), Some(2));
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
