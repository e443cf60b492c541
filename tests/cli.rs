//! End-to-end tests of the `gridtwin` command line on the demo city and on synthetic
//! megacities. They run the real binary from the repository root.

use std::path::Path;
use std::process::Command;

#[path = "testkit.rs"]
mod testkit;
use testkit::{files, ok, repo, run as gridtwin};

#[test]
fn demo_city_import_is_deterministic_and_matches_the_committed_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("helsinki");
    let stdout = ok(&[
        "import",
        "data/helsinki/city.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("street lamp") || stdout.contains("Street lamp"),
        "{stdout}"
    );
    let committed = files(&repo().join("data/helsinki/city"));
    let fresh = files(&out);
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fresh), names(&committed));
    for ((name, a), (_, b)) in fresh.iter().zip(&committed) {
        assert!(a == b, "{name} differs from data/helsinki/city/{name}: regenerate with `gridtwin import data/helsinki/city.toml --out data/helsinki/city`");
    }
}

#[test]
fn info_on_the_demo_city_reads_everything_back() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("info.json");
    let stdout = ok(&[
        "info",
        "data/helsinki/city",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert!(stdout.contains("grid       192"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let s = &v["summary"];
    assert_eq!(s["areas"]["grid"], 192);
    assert_eq!(s["areas"]["community"], 16);
    assert_eq!(s["components"]["0107 Street lamp (路灯)"], 586);
    assert_eq!(s["components"]["0106 Fire hydrant (消防栓)"], 37);
    // Reading the city directory back rejects nothing: what import wrote is valid.
    for f in v["quality"]["files"].as_object().unwrap().values() {
        assert_eq!(f["rejected"], 0, "{f}");
        assert_eq!(f["read"], f["loaded"]);
    }
}

#[test]
fn bad_input_is_an_error_naming_the_place_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("grids.geojson");
    std::fs::write(&bad, "{ not json").unwrap();
    let o = gridtwin(&[
        "import",
        "--areas",
        bad.to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    // an input error: exit 3 (2 is for usage errors)
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("grids.geojson") && !err.contains("panicked"),
        "{err}"
    );
    let o = gridtwin(&["info", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("city.toml"));
    // a flag's value refused, and a flag clap does not know: usage errors, exit 2
    let o = gridtwin(&[
        "assign",
        "--grids",
        "x",
        "--points",
        "y.csv",
        "--out",
        "z.csv",
        "--nearest-m",
        "-5",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = gridtwin(&["assign", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn synth_is_deterministic_and_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, format: &str| {
        let out = tmp.path().join(name);
        ok(&[
            "synth",
            "--grids",
            "300",
            "--components",
            "5000",
            "--incidents",
            "2000",
            "--seed",
            "5",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ]);
        out
    };
    let a = run("a", "csv");
    let b = run("b", "csv");
    assert_eq!(files(&a), files(&b), "same seed, same bytes");
    let stdout = ok(&["info", a.to_str().unwrap()]);
    assert!(stdout.contains("grid       300"), "{stdout}");
    assert!(stdout.contains("components: 5000"), "{stdout}");
    assert!(stdout.contains("incidents: 2000"), "{stdout}");
    let p = run("p", "parquet");
    let stdout = ok(&["info", p.to_str().unwrap()]);
    assert!(stdout.contains("components: 5000"), "{stdout}");
    assert!(!stdout.contains("hierarchy problem"), "{stdout}");
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // issue 14: `gridtwin info | head` panicked on the broken pipe
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args(["info", "data/helsinki/city"])
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the first line
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_quickstart_runs_from_any_folder_with_the_built_in_tables() {
    // An "installed" binary (a copy outside the repository), run in an empty working
    // folder with its own cache: no ./data, no --data — the built-in tables serve.
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin/gridtwin");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_gridtwin"), &bin).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let cache = tmp.path().join("cache");
    let r = repo();
    let city = r.join("data/helsinki/city");
    let city = city.to_str().unwrap();
    let points = r.join("data/helsinki/city/components.csv");
    let points = points.to_str().unwrap();
    let run = |args: &[&str]| -> String {
        let out = Command::new(&bin)
            .args(args)
            .current_dir(&work)
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gridtwin {args:?} from {}:\n{}\n{}",
            work.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    run(&["info", city]);
    let a = run(&[
        "assign",
        "--grids",
        city,
        "--points",
        points,
        "--out",
        "out/assigned.csv",
    ]);
    assert!(a.contains("2145 assigned"), "{a}");
    run(&[
        "aggregate",
        "--points",
        "out/assigned.csv",
        "--by",
        "community",
        "--category",
        "--out",
        "out/counts.csv",
    ]);
    assert!(work.join("out/counts.csv").is_file());
    let scenes = r.join("scenes");
    for (scene, out) in [
        ("baseline.toml", "out/sim/a"),
        ("whatif_double_patrol.toml", "out/sim/b"),
    ] {
        run(&[
            "simulate",
            scenes.join(scene).to_str().unwrap(),
            "--replications",
            "2",
            "--seed",
            "1",
            "--out",
            out,
        ]);
    }
    run(&["compare", "out/sim/a", "out/sim/b"]);
    assert!(work.join("out/sim/b/backlog.png").is_file());
    run(&[
        "vitals",
        "out/sim/a/rep_000/timeline.parquet",
        "--out",
        "out/vitals",
    ]);
    run(&[
        "report",
        "out/sim/a/rep_000/timeline.parquet",
        "--out",
        "out/report",
    ]);
    assert!(work.join("out/report").read_dir().unwrap().count() > 0);
    // the tables were written once, under the cache given
    let written: Vec<_> = std::fs::read_dir(cache.join("gridtwin"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(!work.join("data").exists());
}

#[test]
fn every_command_s_help_has_an_example_and_every_flag_a_description() {
    for top in [
        "assign",
        "aggregate",
        "grids",
        "import",
        "info",
        "simulate",
        "compare",
        "vitals",
        "report",
        "synth",
        "flood",
        "fire",
        "dem",
        "view",
    ] {
        let help = ok(&[top, "--help"]);
        assert!(help.contains("Example:\n  gridtwin "), "{top}:\n{help}");
    }
    for cmd in [
        vec!["assign"],
        vec!["aggregate"],
        vec!["grids", "validate"],
        vec!["grids", "generate"],
        vec!["grids", "diff"],
        vec!["grids", "redraw"],
        vec!["import"],
        vec!["info"],
        vec!["simulate"],
        vec!["compare"],
        vec!["vitals"],
        vec!["report"],
        vec!["synth"],
        vec!["flood"],
        vec!["fire"],
        vec!["dem", "synth"],
        vec!["view"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let help = ok(&args);
        let lines: Vec<&str> = help.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            // a flag line ("  -x, --flag <V>" or "      --flag <V>") is followed by its
            // description, indented deeper
            let t = l.trim_start();
            if t.starts_with("--")
                || (t.starts_with('-')
                    && t.len() > 1
                    && t.as_bytes()[1] != b'-'
                    && t.contains(", --"))
            {
                let next = lines.get(i + 1).copied().unwrap_or("");
                let indent = |s: &str| s.len() - s.trim_start().len();
                assert!(
                    !next.trim().is_empty() && indent(next) > indent(l),
                    "{cmd:?}: `{}` has no description",
                    t
                );
            }
        }
    }
}

/// Timelines carry ISO 8601 times in the city's zone (+08:00 by data/calendar.toml);
/// vitals days start at local midnight; a timeline in Unix seconds (an older file, a
/// history) gives the same vitals.
#[test]
fn timelines_and_vitals_are_in_the_citys_local_time() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = tmp.path().join("sim");
    ok(&[
        "simulate",
        "scenes/baseline.toml",
        "--replications",
        "1",
        "--seed",
        "3",
        "--out",
        sim.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let timeline = sim.join("rep_000/timeline.csv");
    let mut rdr = csv::Reader::from_path(&timeline).unwrap();
    let h = rdr.headers().unwrap().clone();
    let intake = h.iter().position(|c| c == "intake_at").unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert!(rows
        .iter()
        .all(|r| r[intake].is_empty() || r[intake].ends_with("+08:00")));
    // the same timeline in Unix seconds
    let time_cols: Vec<usize> = h
        .iter()
        .enumerate()
        .filter(|(_, c)| c.ends_with("_at") || c.ends_with("_due") || *c == "deadline")
        .map(|(i, _)| i)
        .collect();
    let unix = tmp.path().join("unix.csv");
    let mut w = csv::Writer::from_path(&unix).unwrap();
    w.write_record(&h).unwrap();
    for r in &rows {
        let rec: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, v)| match (time_cols.contains(&i), v.is_empty()) {
                (true, false) => gridtwin_sim::local_time::parse(v).unwrap().to_string(),
                _ => v.to_string(),
            })
            .collect();
        w.write_record(&rec).unwrap();
    }
    w.flush().unwrap();
    let vitals = |t: &Path, out: &str, extra: &[&str]| {
        let o = tmp.path().join(out);
        let mut args = vec![
            "vitals",
            t.to_str().unwrap(),
            "--bucket",
            "1d",
            "--level",
            "street",
            "--out",
            o.to_str().unwrap(),
        ];
        args.extend(extra);
        ok(&args);
        std::fs::read_to_string(o.join("vitals.csv")).unwrap()
    };
    let iso = vitals(&timeline, "v_iso", &[]);
    assert_eq!(iso, vitals(&unix, "v_unix", &[]));
    let starts: Vec<&str> = iso
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert!(!starts.is_empty());
    assert!(
        starts.iter().all(|s| s.ends_with("T00:00:00+08:00")),
        "{starts:?}"
    );
    // at UTC the days start at UTC midnight
    let utc = vitals(&timeline, "v_utc", &["--utc-offset-hours", "0"]);
    assert!(utc
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(2).unwrap().ends_with("T00:00:00Z")));
}
