//! End-to-end tests of `gridtwin assign`: accounting, boundary rule, nearest grid,
//! formats, and determinism across thread counts. (Its files — large inputs, output
//! safety — are in `assign_files`; `gridtwin aggregate` in `assign_aggregate`.)

#[path = "testkit.rs"]
mod testkit;
use testkit::{csv_rows as rows, gridtwin_env, ok, s, two_by_two};

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
