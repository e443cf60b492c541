//! End-to-end tests of `gridtwin aggregate`: counts by grid, category, window and H3
//! cell, the lon/lat aliases it reads, and the outputs it refuses.

#[path = "testkit.rs"]
mod testkit;
use testkit::{csv_rows as rows, gridtwin_env, ok, s, two_by_two};

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
