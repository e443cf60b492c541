//! End-to-end tests of `gridtwin assign` and its files: the fast path against quoted
//! rows, a reader's reasons in the rejected file, outputs refused before anything is
//! written, line endings, interrupted runs, re-assignment, and memory limits.

use std::process::Command;

#[path = "testkit.rs"]
mod testkit;
use testkit::{csv_rows as rows, gridtwin_env, ok, repo, s, two_by_two};

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
    // issue 14: a small file declaring 40 million rows was materialised whole. A
    // GeoJSON is still read whole, so its count is checked first.
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    let mut text = String::from("id,lon,lat\n");
    for i in 0..50 {
        text.push_str(&format!("{i},121.005,31.005\n"));
    }
    std::fs::write(&points, text).unwrap();
    let fgb = tmp.path().join("p.geojson");
    ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&fgb),
    ]);
    let o = gridtwin_env(
        &[
            "--max-rows-in-memory",
            "10",
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&fgb),
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
fn geoparquet_and_flatgeobuf_inputs_are_streamed_past_the_in_memory_limit() {
    // issue 19: GeoParquet and FlatGeobuf points are read a batch at a time, so no row
    // limit applies; the output is the CSV input's
    let tmp = tempfile::tempdir().unwrap();
    let grids = two_by_two(tmp.path());
    let points = tmp.path().join("p.csv");
    let mut text = String::from("id,lon,lat\n");
    for i in 0..200_000 {
        let (x, y) = (
            121.0 + (i % 997) as f64 * 2e-5,
            31.0 + (i % 991) as f64 * 2e-5,
        );
        text.push_str(&format!("{i},{x},{y}\n"));
    }
    std::fs::write(&points, text).unwrap();
    let from_csv = tmp.path().join("a.csv");
    ok(&[
        "assign",
        "--grids",
        s(&grids),
        "--points",
        s(&points),
        "--out",
        s(&from_csv),
    ]);
    // the same rows, ids and grids (the layer holds the earlier codes as prev_…)
    let rows = |p: &std::path::Path| {
        testkit::csv_maps(p)
            .into_iter()
            .map(|r| (r["id"].clone(), r["grid_code"].clone()))
            .collect::<Vec<_>>()
    };
    let a = rows(&from_csv);
    assert_eq!(a.len(), 200_000);
    for ext in ["parquet", "fgb"] {
        let layer = tmp.path().join(format!("p.{ext}"));
        ok(&[
            "assign",
            "--grids",
            s(&grids),
            "--points",
            s(&points),
            "--out",
            s(&layer),
        ]);
        let out = tmp.path().join(format!("from_{ext}.csv"));
        let o = gridtwin_env(
            &[
                "--max-rows-in-memory",
                "10",
                "assign",
                "--grids",
                s(&grids),
                "--points",
                s(&layer),
                "--out",
                s(&out),
            ],
            None,
        );
        assert!(
            o.status.success(),
            "{ext}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(rows(&out), a, "{ext}");
    }
}
