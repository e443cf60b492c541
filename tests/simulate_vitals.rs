//! End-to-end: `gridtwin vitals` on a simulated timeline: planted hotspots found and
//! warned of, every case accounted for, small satisfaction groups withheld.

use std::path::Path;
use std::process::Command;

#[path = "testkit.rs"]
mod testkit;
use testkit::{files, ok, repo};

/// `simulate` writes its timelines, kpis and backlog as Parquet by default and as CSV
/// with `--format csv` (`--timeline-format`, its older name, still works): the same
/// values, and what reads them (`vitals`, `report`, `compare`) gives the same outputs
/// from either.
#[test]
fn parquet_timelines_give_the_same_vitals_report_and_comparison_as_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let sim = |format: &str, scene: &str| {
        let out = tmp.path().join(format!("{format}_{scene}"));
        ok(&[
            "simulate",
            &format!("scenes/{scene}.toml"),
            "--replications",
            "2",
            "--seed",
            "3",
            if format == "csv" {
                "--format"
            } else {
                "--timeline-format"
            },
            format,
            "--out",
            &s(&out),
        ]);
        out
    };
    let (csv_a, pq_a) = (sim("csv", "baseline"), sim("parquet", "baseline"));
    let (csv_b, pq_b) = (
        sim("csv", "whatif_double_patrol"),
        sim("parquet", "whatif_double_patrol"),
    );
    assert!(pq_a.join("rep_001/timeline.parquet").exists());
    assert!(!pq_a.join("rep_001/timeline.csv").exists());
    // the other outputs of the run are the same files; the manifest names the
    // Parquet timeline (with its own size and digest)
    let but_tables = |dir: &Path| {
        let mut v = files(dir);
        v.retain(|(name, _)| {
            name != "manifest.json"
                && !["timeline.", "kpis.", "backlog."]
                    .iter()
                    .any(|t| name.rsplit('/').next().unwrap().starts_with(t))
        });
        v
    };
    assert_eq!(but_tables(&csv_a), but_tables(&pq_a));
    use gridtwin_sim::study_tables::{read_backlog, KpiTable};
    use gridtwin_sim::timeline::{read_records, CaseRecord};
    assert_eq!(
        KpiTable::read(&csv_a.join("kpis.csv")).unwrap(),
        KpiTable::read(&pq_a.join("kpis.parquet")).unwrap()
    );
    assert_eq!(
        read_backlog(&csv_a.join("backlog.csv")).unwrap(),
        read_backlog(&pq_a.join("backlog.parquet")).unwrap()
    );
    for rep in ["rep_000", "rep_001"] {
        let from_csv: Vec<CaseRecord> =
            read_records(&csv_a.join(rep).join("timeline.csv")).unwrap();
        let from_parquet: Vec<CaseRecord> =
            read_records(&pq_a.join(rep).join("timeline.parquet")).unwrap();
        assert!(from_csv.len() > 100);
        assert!(from_csv == from_parquet, "{rep}: the timelines differ");
    }
    let manifest = std::fs::read_to_string(pq_a.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("rep_001/timeline.parquet") && !manifest.contains("timeline.csv"),
        "{manifest}"
    );
    for (tool, extra) in [
        ("vitals", vec!["--city", "data/helsinki/city"]),
        ("report", vec![]),
    ] {
        let out = |run: &Path, name: &str| {
            let file = if run == csv_a.as_path() {
                "rep_000/timeline.csv"
            } else {
                "rep_000/timeline.parquet"
            };
            let out = tmp.path().join(format!("{tool}_{name}"));
            let mut args = vec![tool.to_string(), s(&run.join(file))];
            args.extend(extra.iter().map(|a| a.to_string()));
            args.extend(["--out".to_string(), s(&out)]);
            ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
            // (the report names its input: the one difference allowed)
            let named = s(&run.join(file));
            files(&out)
                .into_iter()
                .map(|(name, bytes)| match String::from_utf8(bytes) {
                    Ok(text) => (name, text.replace(&named, "TIMELINE").into_bytes()),
                    Err(e) => (name, e.into_bytes()),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(out(&csv_a, "csv"), out(&pq_a, "parquet"), "{tool}");
    }
    let compare = |a: &Path, b: &Path, name: &str| {
        let out = tmp.path().join(name);
        ok(&["compare", &s(a), &s(b), "--out", &s(&out)]);
        files(&out)
    };
    assert_eq!(
        compare(&csv_a, &csv_b, "cmp_csv"),
        compare(&pq_a, &pq_b, "cmp_parquet")
    );
}

#[test]
fn vitals_find_the_planted_hotspots_and_warn() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let sim = tmp.path().join("hot");
    ok(&[
        "simulate",
        "scenes/whatif_hotspots.toml",
        "--replications",
        "1",
        "--seed",
        "2",
        "--out",
        &s(&sim),
    ]);
    let out = tmp.path().join("vitals");
    let stdout = ok(&[
        "vitals",
        &s(&sim.join("rep_000/timeline.parquet")),
        "--city",
        "data/helsinki/city",
        "--out",
        &s(&out),
    ]);
    assert!(stdout.contains("hot spots"), "{stdout}");
    let geo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("hotspots.geojson")).unwrap())
            .unwrap();
    let hot: Vec<String> = geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["class"] == "hot")
        .map(|f| f["properties"]["area"].as_str().unwrap().to_string())
        .collect();
    // the hotspot what-if triples the rate in grids of communities 001001 and 001002
    assert!(
        !hot.is_empty()
            && hot
                .iter()
                .all(|g| g.starts_with("99010100100") || g.starts_with("99010100200")),
        "{hot:?}"
    );
    // every warning meets its threshold
    let mut r = csv::Reader::from_path(out.join("warnings.csv")).unwrap();
    for w in r.records() {
        let w = w.unwrap();
        let (v, op, t): (f64, &str, f64) = (w[3].parse().unwrap(), &w[4], w[5].parse().unwrap());
        assert!(if op == ">=" { v >= t } else { v <= t });
    }
    // at an H3 level the study area (the city, by default with --city) enters the
    // weights cell by cell, zero-count cells included; k-ring weights (issue 15)
    let h3out = tmp.path().join("vitals_h3");
    let stdout = ok(&[
        "vitals",
        &s(&sim.join("rep_000/timeline.parquet")),
        "--city",
        "data/helsinki/city",
        "--level",
        "h3:10",
        "--hotspot-weights",
        "kring:1",
        "--out",
        &s(&h3out),
    ]);
    let geo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(h3out.join("hotspots.geojson")).unwrap())
            .unwrap();
    let feats = geo["features"].as_array().unwrap();
    let zero = feats
        .iter()
        .filter(|f| f["properties"]["inflow"].as_f64() == Some(0.0))
        .count();
    assert!(
        zero > 0 && zero < feats.len(),
        "{zero} of {}: {stdout}",
        feats.len()
    );
    // queen weights at an H3 level are refused, naming the flag
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .current_dir(repo())
        .args([
            "vitals",
            &s(&sim.join("rep_000/timeline.parquet")),
            "--level",
            "h3:9",
            "--hotspot-weights",
            "queen",
            "--out",
            &s(&tmp.path().join("bad_w")),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--hotspot-weights"));
    // a neighbourhood distance that is no distance, or takes in every area, is an
    // error, not a map of z = 0 (issue 15)
    for bad in ["-5", "NaN", "1e9", "0"] {
        let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
            .current_dir(repo())
            .args([
                "vitals",
                &s(&sim.join("rep_000/timeline.parquet")),
                "--city",
                "data/helsinki/city",
                "--out",
                &s(&tmp.path().join("bad")),
                &format!("--hotspot-distance-m={bad}"),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("--hotspot-distance-m"),
            "{bad}: {err}"
        );
        assert!(!tmp.path().join("bad").exists(), "{bad}: nothing written");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .current_dir(repo())
        .args([
            "vitals",
            &s(&sim.join("rep_000/timeline.parquet")),
            "--city",
            "data/helsinki/city",
            "--out",
            &s(&tmp.path().join("wide")),
            "--hotspot-distance-m=50000",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("Gi* is undefined"),
        "{err}"
    );
    // no person-level or case-level field reaches the outputs
    let text = std::fs::read_to_string(out.join("vitals.csv")).unwrap();
    assert!(!text.contains("C0000") && !text.contains("crew"));
    // the report: one self-contained HTML page and PNG charts
    let rep = tmp.path().join("report");
    ok(&[
        "report",
        &s(&sim.join("rep_000/timeline.parquet")),
        "--out",
        &s(&rep),
    ]);
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(
        html.contains("<svg")
            && html.contains("on_time_closure_rate")
            && html.contains("Early warnings")
    );
    // human names with the machine name kept, a direction per indicator, counts as
    // integers and rates as percentages
    assert!(
        html.contains(">On-time closure rate<")
            && html.contains("<th>better is</th>")
            && html.contains("title=\"on_time_closure_rate\""),
        "indicator names"
    );
    let mut text = html.clone();
    while let (Some(a), Some(b)) = (text.find("<svg"), text.find("</svg>")) {
        text.replace_range(a..b + 6, "");
    }
    assert!(!text.contains(".000"), "no `642.000` counts");
    assert!(
        !text.contains("<th>on time rate</th>"),
        "no snake_case headers"
    );
    let cases_taken_in = text
        .split("<tr>")
        .find(|r| r.contains(">cases_taken_in<"))
        .unwrap();
    assert!(
        cases_taken_in.contains("↑") || cases_taken_in.contains("–"),
        "{cases_taken_in}"
    );
    let on_time = text
        .split("<tr>")
        .find(|r| r.contains(">on_time_closure_rate<"))
        .unwrap();
    assert!(
        on_time.contains(" %</td>") && on_time.contains("↑ higher"),
        "{on_time}"
    );
    assert!(
        !html.contains("C0000") && !html.contains("enforcement-0"),
        "no case ids or crew names in a presentation output"
    );
    assert!(std::fs::read(rep.join("inflow.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));
}

#[test]
fn vitals_account_for_every_case_and_withhold_small_satisfaction_groups() {
    // issue 14: a closing time of i64::MAX gave "0 areas", a case without a grid code
    // vanished, a mean of one satisfaction answer was shown, a far-off date built an
    // area × bucket matrix over centuries
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let sim = tmp.path().join("sim");
    ok(&[
        "simulate",
        "scenes/baseline.toml",
        "--replications",
        "1",
        "--seed",
        "5",
        "--out",
        &s(&sim),
        "--format",
        "csv",
    ]);
    let mut r = csv::Reader::from_path(sim.join("rep_000/timeline.csv")).unwrap();
    let header = r.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let set = |row: &mut csv::StringRecord, c: usize, v: &str| {
        let mut f: Vec<String> = row.iter().map(str::to_string).collect();
        f[c] = v.to_string();
        *row = csv::StringRecord::from(f);
    };
    set(&mut rows[0], col("closed_at"), "9223372036854775807");
    set(&mut rows[1], col("grid_code"), "");
    set(&mut rows[2], col("intake_at"), "");
    // every closed case answers the satisfaction survey
    for row in rows.iter_mut().skip(3) {
        if !row[col("closed_at")].is_empty() {
            set(row, col("satisfaction"), "0.6");
        }
    }
    let hist = tmp.path().join("history.csv");
    let mut w = csv::Writer::from_path(&hist).unwrap();
    w.write_record(&header).unwrap();
    for row in &rows {
        w.write_record(row).unwrap();
    }
    w.flush().unwrap();
    let out = tmp.path().join("v");
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .current_dir(repo())
        .args([
            "vitals",
            &s(&hist),
            "--city",
            "data/helsinki/city",
            "--out",
            &s(&out),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the three bad cases are counted out, by record and reason
    let rejected = std::fs::read_to_string(out.join("rejected.csv")).unwrap();
    let lines: Vec<&str> = rejected.lines().skip(1).collect();
    // (cases a run ends before anyone reported have no intake either: counted too)
    let unreported = rows
        .iter()
        .filter(|r| r[col("intake_at")].is_empty())
        .count();
    assert_eq!(lines.len(), 2 + unreported, "{rejected}");
    assert!(lines[3..].iter().all(|l| l.ends_with("\"no intake_at\"")));
    assert!(
        lines[0].starts_with("1,") && lines[0].contains("closed_at"),
        "{rejected}"
    );
    assert!(
        lines[1].starts_with("2,") && lines[1].contains("grid_code"),
        "{rejected}"
    );
    assert!(
        lines[2].starts_with("3,") && lines[2].contains("intake_at"),
        "{rejected}"
    );
    // grid-hours with answers from fewer than five cases show no mean, marked so
    let mut v = csv::Reader::from_path(out.join("vitals.csv")).unwrap();
    let vh = v.headers().unwrap().clone();
    let (sat, sup) = (
        vh.iter().position(|h| h == "satisfaction_mean").unwrap(),
        vh.iter().position(|h| h == "suppressed").unwrap(),
    );
    let (mut shown, mut withheld) = (0, 0);
    for row in v.records() {
        let row = row.unwrap();
        if row[sup].is_empty() {
            shown += !row[sat].is_empty() as usize;
        } else {
            assert_eq!(&row[sup], "satisfaction_mean");
            assert!(row[sat].is_empty(), "a withheld mean is not written");
            withheld += 1;
        }
    }
    assert!(withheld > 0, "{shown} shown");
    // too many area × bucket rows for the limit: an error naming the flag
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .current_dir(repo())
        .args([
            "vitals",
            &s(&hist),
            "--level",
            "h3:15",
            "--bucket",
            "1m",
            "--max-rows",
            "100000",
            "--out",
            &s(&tmp.path().join("big")),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--max-rows"), "{err}");
}
