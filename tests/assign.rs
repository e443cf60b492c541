//! End-to-end tests of `gridtwin assign`: accounting, boundary rule, nearest grid,
//! formats, and determinism across thread counts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn gridtwin_env(args: &[&str], threads: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gridtwin"));
    c.args(args).current_dir(repo());
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    c.output().expect("runs")
}

fn ok(args: &[&str]) -> String {
    let out = gridtwin_env(args, None);
    assert!(
        out.status.success(),
        "gridtwin {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// 2×2 unit grids of 0.01° in one community, codes NW=01, NE=02, SW=03, SE=04.
fn two_by_two(dir: &Path) -> PathBuf {
    let sq = |x: f64, y: f64| {
        format!(
            "\"POLYGON(({x} {y},{} {y},{} {},{x} {},{x} {y}))\"",
            x + 0.01,
            x + 0.01,
            y + 0.01,
            y + 0.01
        )
    };
    let text = format!(
        "code,wkt\n31010100100101,{}\n31010100100102,{}\n31010100100103,{}\n31010100100104,{}\n",
        sq(121.0, 31.01),
        sq(121.01, 31.01),
        sq(121.0, 31.0),
        sq(121.01, 31.0)
    );
    let p = dir.join("grids.csv");
    std::fs::write(&p, text).unwrap();
    p
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(|f| f.to_string()).collect())
        .collect()
}

#[test]
fn every_row_is_accounted_for_and_each_rejection_names_its_row() {
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("points.csv");
    std::fs::write(
        &points,
        "id,category,lon,lat\n\
         a,0107,121.005,31.005\n\
         b,0107,abc,31.005\n\
         c,0107,NaN,31.005\n\
         d,0107,121.005,95\n\
         e,0107,121.005\n\
         f,9999,121.005,31.005\n\
         g,占道经营,121.015,31.015\n\
         h,0107,122.5,31.005\n\
         i,0107,,\n",
    )
    .unwrap();
    let out = tmp.path().join("out.csv");
    let stdout = ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&out),
    ]);
    assert!(
        stdout.contains("9 rows: 2 assigned, 0 nearest, 1 unassigned, 6 rejected"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out.report.json")).unwrap())
            .unwrap();
    let a = &report["assignment"];
    assert_eq!(a["rows"], 9);
    assert_eq!(
        a["assigned"].as_u64().unwrap()
            + a["nearest"].as_u64().unwrap()
            + a["unassigned"].as_u64().unwrap()
            + a["rejected"].as_u64().unwrap(),
        9
    );
    let rejected = rows(&tmp.path().join("out.rejected.csv"));
    let got: Vec<(String, String)> = rejected
        .iter()
        .map(|r| (r[1].clone(), r[2].clone()))
        .collect();
    let want = [
        ("2", "bad_coordinate"),
        ("3", "bad_coordinate"),
        ("4", "out_of_range"),
        ("5", "unparsable"),
        ("6", "unknown_category"),
        ("9", "missing_coordinate"),
    ];
    assert_eq!(
        got,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let out_rows = rows(&out);
    assert_eq!(out_rows.len(), 3); // assigned + unassigned rows, in input order
    assert_eq!(out_rows[0][0], "a");
    assert_eq!(
        &out_rows[0][4..9],
        [
            "31010100100103",
            "310101001001",
            "310101001",
            "310101",
            "assigned"
        ]
    );
    assert_eq!(out_rows[1][4], "31010100100102");
    assert_eq!(
        (out_rows[2][0].as_str(), out_rows[2][8].as_str()),
        ("h", "unassigned")
    );
    // --strict fails on any rejection
    let o = gridtwin_env(
        &[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&out),
            "--strict",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn boundary_points_follow_the_stated_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("edge.csv");
    // (lon, lat, expected grid serial)
    let cases = [
        (121.01, 31.005, "04"), // shared N-S edge between SW and SE: east
        (121.005, 31.01, "01"), // shared E-W edge between SW and NW: north
        (121.01, 31.01, "02"),  // vertex shared by all four: north-east
        (121.02, 31.005, "04"), // outer east edge: inside, the grid whose boundary holds it
        (121.005, 31.02, "01"), // outer north edge
        (121.0, 31.0, "03"),    // outer south-west corner
        (121.02, 31.02, "02"),  // outer north-east corner
        (121.02, 31.01, "02"),  // outer east edge at a shared vertex: lowest code of 02, 04
    ];
    let mut text = String::from("lon,lat\n");
    for (x, y, _) in cases {
        text.push_str(&format!("{x},{y}\n"));
    }
    std::fs::write(&points, text).unwrap();
    let out = tmp.path().join("out.csv");
    ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&out),
    ]);
    let got = rows(&out);
    for (row, (x, y, want)) in got.iter().zip(cases) {
        assert_eq!(row[2], format!("310101001001{want}"), "point ({x}, {y})");
    }
}

#[test]
fn nearest_grid_within_a_distance_with_the_distance_written() {
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    // 0.0005° of lon east of the grid set at 31°N ≈ 47.6 m; 0.01° ≈ 952 m
    std::fs::write(&points, "lon,lat\n121.0205,31.005\n121.03,31.005\n").unwrap();
    let out = tmp.path().join("out.csv");
    let stdout = ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&out),
        "--nearest-m",
        "100",
    ]);
    assert!(
        stdout.contains("2 rows: 0 assigned, 1 nearest, 1 unassigned"),
        "{stdout}"
    );
    let r = rows(&out);
    assert_eq!(
        (r[0][2].as_str(), r[0][6].as_str()),
        ("31010100100104", "nearest")
    );
    let d: f64 = r[0][7].parse().unwrap();
    assert!((d - 47.65).abs() < 0.2, "{d}");
    assert_eq!((r[1][2].as_str(), r[1][6].as_str()), ("", "unassigned"));
}

#[test]
fn same_bytes_at_one_and_two_threads_and_demo_components_all_assigned() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |threads: &str, name: &str| {
        let out = tmp.path().join(name);
        let o = gridtwin_env(
            &[
                "assign",
                "--grids",
                "data/helsinki/city",
                "--points",
                "data/helsinki/city/components.csv",
                "--out",
                s(&out),
                "--chunk-rows",
                "300",
            ],
            Some(threads),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            std::fs::read(&out).unwrap(),
            String::from_utf8(o.stdout).unwrap(),
        )
    };
    let (one, stdout) = run("1", "one.csv");
    let (two, _) = run("2", "two.csv");
    assert!(one == two, "output differs between 1 and 2 threads");
    // every real component of the demo city lies inside its generated grids
    assert!(
        stdout.contains("2145 rows: 2145 assigned, 0 nearest, 0 unassigned, 0 rejected"),
        "{stdout}"
    );
}

#[test]
fn other_formats_in_and_out() {
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.geojson");
    std::fs::write(
        &points,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[121.005,31.005]},"properties":{"id":"a"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[121.005,31.005],[121.006,31.006]]},"properties":{"id":"b"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[121.015,31.015]},"properties":{"id":"c"}}]}"#,
    )
    .unwrap();
    for ext in ["csv", "parquet", "geojson", "fgb"] {
        let out = tmp.path().join(format!("out.{ext}"));
        let stdout = ok(&[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&out),
        ]);
        assert!(
            stdout.contains("3 rows: 2 assigned, 0 nearest, 0 unassigned, 1 rejected"),
            "{ext}: {stdout}"
        );
        // the output reads back through gridtwin's own readers (as QGIS would)
        let back: Vec<_> = gridtwin_io::read_records(&out)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(back.len(), 2, "{ext}");
        let code = back[1].text(&["grid_code"]).unwrap();
        assert_eq!(code, "31010100100102", "{ext}");
    }
}

#[test]
fn fast_path_and_quoted_rows_agree_across_blocks() {
    // Quote-free lines pass through byte for byte; from the first block holding a quote
    // the csv parser takes over. Small blocks force several blocks and the hand-over;
    // record numbers and bytes must match the parser-only path.
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let mut text = String::from("id,note,lon,lat\r\n");
    for i in 0..200 {
        let x = 121.0 + (i % 20) as f64 * 0.001;
        let y = 31.0 + (i / 20) as f64 * 0.002;
        match i {
            57 => text.push_str("57,bad,xx,31.0\r\n"),
            120 => text.push_str("120,\"a, quoted\nnote\",121.005,31.005\r\n"),
            150 => text.push_str("\r\n"),
            _ => text.push_str(&format!("{i},n{i},{x},{y}\r\n")),
        }
    }
    let points = tmp.path().join("p.csv");
    std::fs::write(&points, text).unwrap();
    let run = |name: &str, block: &str, out_ext: &str| {
        let out = tmp.path().join(format!("{name}.{out_ext}"));
        ok(&[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&out),
            "--block-bytes",
            block,
        ]);
        (
            out.clone(),
            std::fs::read_to_string(tmp.path().join(format!("{name}.rejected.csv"))).unwrap(),
        )
    };
    let (small, rej_small) = run("small", "300", "csv");
    let (big, rej_big) = run("big", "8388608", "csv");
    assert_eq!(std::fs::read(&small).unwrap(), std::fs::read(&big).unwrap());
    assert_eq!(rej_small, rej_big);
    assert!(rej_small.contains(",58,bad_coordinate,"), "{rej_small}"); // header not counted
                                                                       // the quoted multi-line note survives as one field
    let r = rows(&small);
    let quoted = r.iter().find(|row| row[0] == "120").unwrap();
    assert_eq!(quoted[1], "a, quoted\nnote");
    assert_eq!(quoted[4], "31010100100103");
    // 200 lines, one blank (not a record): 199 records, one rejected
    assert_eq!(r.len(), 198);
}

#[test]
fn aggregate_counts_by_grid_category_window_and_h3() {
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("inc.csv");
    std::fs::write(
        &points,
        "id,category,time,lon,lat\n\
         1,0501,2025-03-01T08:10:00Z,121.005,31.005\n\
         2,0501,2025-03-01T08:50:00Z,121.006,31.004\n\
         3,0502,2025-03-01T08:20:00Z,121.006,31.004\n\
         4,0501,2025-03-01T09:05:00Z,121.005,31.005\n\
         5,0501,2025-03-01T08:15:00Z,121.015,31.015\n\
         6,0501,2025-03-01T08:15:00Z,13.405,52.52\n",
    )
    .unwrap();
    let assigned = tmp.path().join("assigned.csv");
    ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&assigned),
    ]);
    let counts = tmp.path().join("counts.csv");
    let stdout = ok(&[
        "aggregate",
        "--points",
        s(&assigned),
        "--by",
        "grid",
        "--category",
        "--window",
        "1h",
        "--out",
        s(&counts),
    ]);
    assert!(
        stdout.contains("6 rows: 6 counted in 5 groups, 0 rejected"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&counts).unwrap();
    assert_eq!(
        text,
        "grid_code,category,window_start,count\n\
         ,0501,2025-03-01T08:00:00Z,1\n\
         31010100100102,0501,2025-03-01T08:00:00Z,1\n\
         31010100100103,0501,2025-03-01T08:00:00Z,2\n\
         31010100100103,0501,2025-03-01T09:00:00Z,1\n\
         31010100100103,0502,2025-03-01T08:00:00Z,1\n"
    );
    // straight from points, grouped by community and H3 resolution 9
    let by_h3 = tmp.path().join("h3.csv");
    ok(&[
        "aggregate",
        "--points",
        s(&points),
        "--grids",
        s(&grids),
        "--by",
        "community",
        "--by",
        "h3:9",
        "--out",
        s(&by_h3),
    ]);
    let rows = rows(&by_h3);
    // the h3o check value, outside every grid; the cell again as kepler.gl's hex_id
    assert_eq!(rows[0], ["", "891f1d48947ffff", "1", "891f1d48947ffff"]);
    let header = std::fs::read_to_string(&by_h3).unwrap();
    assert!(
        header.starts_with("community_code,h3_r9,count,hex_id\n"),
        "{header}"
    );
    // column types beside it for QGIS: codes are text
    assert_eq!(
        std::fs::read_to_string(by_h3.with_extension("csvt")).unwrap(),
        "\"String\",\"String\",\"Integer\",\"String\"\n"
    );
    let total: u64 = rows.iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 6);
    assert!(rows[1..].iter().all(|r| r[0] == "310101001001"));
}

#[test]
fn a_reader_s_own_reason_reaches_the_rejected_file() {
    // issue 14: reader rejections were relabelled `unparsable` in assign's rejected
    // file; a GeoJSON line with a one-number position is `invalid_geometry`, as read
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.geojson");
    std::fs::write(
        &points,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[121.005,31.005]},"properties":{"id":"a"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[121.005],[121.006,31.0]]},"properties":{"id":"b"}}]}"#,
    )
    .unwrap();
    let out = tmp.path().join("out.csv");
    let stdout = ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&out),
    ]);
    assert!(
        stdout.contains("2 rows: 1 assigned, 0 nearest, 0 unassigned, 1 rejected"),
        "{stdout}"
    );
    let rejected = std::fs::read_to_string(tmp.path().join("out.rejected.csv")).unwrap();
    assert!(rejected.contains(",2,invalid_geometry,"), "{rejected}");
}

#[test]
fn rejected_or_out_over_another_file_is_an_error_before_anything_is_written() {
    // issue 14: --rejected equal to --out garbled the output
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    std::fs::write(&points, "id,lon,lat\na,121.005,31.005\n").unwrap();
    let out = tmp.path().join("out.csv");
    for extra in [vec!["--rejected", s(&out)], vec!["--report", s(&points)]] {
        let mut args = vec![
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&out),
        ];
        args.extend(extra.iter());
        let o = gridtwin_env(&args, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("same file"), "{err}");
        assert!(!out.exists(), "nothing written");
    }
    // an output over the input, through another spelling of its path
    let same = tmp.path().join(".").join("p.csv");
    let o = gridtwin_env(
        &[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&same),
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("same file"));
    assert_eq!(
        std::fs::read_to_string(&points).unwrap(),
        "id,lon,lat\na,121.005,31.005\n"
    );
}

#[test]
fn aggregate_reads_every_lon_lat_alias_and_rejects_bad_points() {
    // issue 14: with `lng`/`longitude`/`x` every point went under the empty key;
    // NaN, infinite and out-of-range rows were counted as unassigned
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    for (lon, lat) in [("lng", "lat"), ("longitude", "latitude"), ("x", "y")] {
        let points = tmp.path().join(format!("{lon}.csv"));
        std::fs::write(
            &points,
            format!(
                "id,{lon},{lat}\na,121.005,31.005\nb,121.015,31.015\nc,NaN,31.0\nd,inf,31.0\ne,500,31.0\nf,121.5,31.5\n"
            ),
        )
        .unwrap();
        let counts = tmp.path().join(format!("{lon}_counts.csv"));
        let stdout = ok(&[
            "aggregate",
            "--points",
            s(&points),
            "--grids",
            s(&grids),
            "--by",
            "grid",
            "--out",
            s(&counts),
        ]);
        // a and b in their grids, f outside every grid (unassigned), c d e rejected
        assert!(
            stdout.contains("6 rows: 3 counted in 3 groups, 3 rejected"),
            "{lon}: {stdout}"
        );
        assert!(stdout.contains("record 3: bad_coordinate"), "{stdout}");
        assert!(stdout.contains("record 5: out_of_range"), "{stdout}");
        let text = std::fs::read_to_string(&counts).unwrap();
        assert_eq!(
            text, "grid_code,count\n,1\n31010100100102,1\n31010100100103,1\n",
            "{lon}"
        );
    }
}

#[test]
fn bare_carriage_returns_end_lines_as_on_the_csv_crate_path() {
    // issue 14: a CSV with bare `\r` line ends (Excel "CSV (Macintosh)") became one
    // rejected row on the fast path
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let mut text = String::from("id,lon,lat\r");
    for i in 0..50 {
        text.push_str(&format!("{i},121.005,31.005\r"));
    }
    let points = tmp.path().join("mac.csv");
    std::fs::write(&points, text).unwrap();
    let out = tmp.path().join("out.csv");
    for block in ["64", "8388608"] {
        let stdout = ok(&[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&out),
            "--block-bytes",
            block,
        ]);
        assert!(stdout.contains("50 rows: 50 assigned"), "{block}: {stdout}");
    }
}

#[test]
fn an_interrupted_run_leaves_no_temporary_files_and_a_later_run_sweeps_old_ones() {
    // issue 14: interrupted runs left `.NAME.tmp-PID` files of up to 245 MB
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    let mut text = String::from("id,lon,lat\n");
    for i in 0..400_000 {
        text.push_str(&format!(
            "{i},121.0{:02},31.0{:02}\n",
            i % 20,
            (i / 20) % 20
        ));
    }
    std::fs::write(&points, text).unwrap();
    let out = tmp.path().join("out.csv");
    // a leftover of a run killed outright (a process that no longer exists)
    let stale = tmp.path().join(".out.csv.tmp-4000000");
    std::fs::write(&stale, "half").unwrap();
    let temps = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.contains(".tmp-"))
            .collect::<Vec<_>>()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args([
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&out),
            "--block-bytes",
            "4096",
        ])
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // interrupt it while its output is being written
    let t0 = std::time::Instant::now();
    while temps().iter().all(|n| n.ends_with("4000000")) && t0.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let interrupted = child.try_wait().unwrap().is_none();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    if interrupted {
        assert_eq!(status.code(), Some(130));
        assert!(!out.exists(), "no output from an interrupted run");
    }
    assert!(temps().is_empty(), "{:?}", temps());
    assert!(!stale.exists(), "the dead run's leftover was swept");
}

#[test]
fn assigning_an_assignment_again_keeps_one_block_and_the_earlier_codes_as_prev() {
    // issue 14: re-assigning an assign output appended a second grid_code…distance_m
    // block; aggregate --by grid then read the stale one and Parquet got duplicate
    // field names
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    std::fs::write(&points, "id,lon,lat\na,121.005,31.005\nb,121.015,31.015\n").unwrap();
    let first = tmp.path().join("first.csv");
    ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&first),
    ]);
    for ext in ["csv", "parquet"] {
        let again = tmp.path().join(format!("again.{ext}"));
        ok(&[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&first),
            "--out",
            s(&again),
        ]);
        let back: Vec<_> = gridtwin_io::read_records(&again)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let names: Vec<&str> = back[0].fields.iter().map(|(n, _)| n.as_str()).collect();
        let count = |n: &str| names.iter().filter(|x| x.eq_ignore_ascii_case(n)).count();
        assert_eq!(count("grid_code"), 1, "{ext}: {names:?}");
        assert_eq!(count("prev_grid_code"), 1, "{ext}: {names:?}");
        assert_eq!(count("distance_m"), 1, "{ext}: {names:?}");
    }
    // aggregate reads the fresh codes
    let counts = tmp.path().join("counts.csv");
    ok(&[
        "aggregate",
        "--points",
        s(&tmp.path().join("again.csv")),
        "--by",
        "grid",
        "--out",
        s(&counts),
    ]);
    let text = std::fs::read_to_string(&counts).unwrap();
    assert!(!text.contains("\n,"), "every point under its grid: {text}");
}

#[test]
fn an_input_declaring_more_rows_than_memory_holds_is_refused_naming_the_flag() {
    // issue 14: a small Parquet declaring 40 million rows was materialised whole
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    let mut text = String::from("id,lon,lat\n");
    for i in 0..50 {
        text.push_str(&format!("{i},121.005,31.005\n"));
    }
    std::fs::write(&points, text).unwrap();
    let pq = tmp.path().join("p.parquet");
    ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&pq),
    ]);
    let o = gridtwin_env(
        &[
            "--max-rows-in-memory",
            "10",
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&pq),
            "--out",
            s(&tmp.path().join("o.csv")),
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--max-rows-in-memory") && err.contains("50 rows"),
        "{err}"
    );
}

#[test]
fn aggregate_to_a_file_that_is_neither_csv_nor_geojson_is_refused() {
    // issue 16: `aggregate --out x.geojson` wrote CSV text into the file (it now draws
    // a map: tests/cli.rs); any other name is refused before anything is written
    let tmp = tempfile::tempdir().unwrap();
    let points = tmp.path().join("p.csv");
    std::fs::write(
        &points,
        "id,lon,lat,grid_code\na,121.005,31.005,31010100100102\n",
    )
    .unwrap();
    let out = tmp.path().join("x.xlsx");
    let o = gridtwin_env(
        &[
            "aggregate",
            "--points",
            s(&points),
            "--by",
            "grid",
            "--out",
            s(&out),
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(".csv"), "{err}");
    assert!(!out.exists());
}
