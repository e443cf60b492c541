//! gridtwin's assignment against an independent oracle: GeoPandas
//! `sjoin(predicate="within")`, precomputed by `tests/oracle/make_fixtures.py` on
//! committed inputs (seeded Voronoi grids with random and boundary points, and the
//! demo city's real components in its grids).
//!
//! Where GeoPandas puts a point in a grid, gridtwin must put it in the same grid.
//! Where it puts it in none (`within` excludes boundaries), gridtwin must either
//! leave it unassigned or have taken it by its boundary rule — then the point lies on
//! the boundary of the grid it was given.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gridtwin_core::prepared::PreparedPolygon;
use gridtwin_io::city_dir::DataTables;
use gridtwin_io::{read_records, Loader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn table(path: &Path, key: &str, value: &str) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let (k, v) = (
        h.iter().position(|x| x == key).unwrap(),
        h.iter().position(|x| x == value).unwrap(),
    );
    r.records()
        .map(|x| x.unwrap())
        .map(|x| (x[k].to_string(), x[v].to_string()))
        .collect()
}

fn check(grids: &str, points: &str, id: &str, expected: &str) -> (usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args([
            "assign",
            "--grids",
            grids,
            "--points",
            points,
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours: HashMap<String, String> = table(&out, id, "grid_code").into_iter().collect();
    let theirs = table(&repo().join(expected), "id", "grid_code");
    let coords: HashMap<String, (f64, f64)> = {
        let lon = table(&repo().join(points), id, "lon");
        let lat: HashMap<String, String> =
            table(&repo().join(points), id, "lat").into_iter().collect();
        lon.into_iter()
            .map(|(k, x)| (k.clone(), (x.parse().unwrap(), lat[&k].parse().unwrap())))
            .collect()
    };
    // our grids, to check the boundary rule where GeoPandas has no answer
    let tables = DataTables::load(&repo().join("data")).unwrap();
    let loader = Loader::new(&tables.rule, &tables.table);
    let gpath = repo().join(grids);
    let gfile = if gpath.is_dir() {
        gpath.join("areas.geojson")
    } else {
        gpath
    };
    let mut q = gridtwin_core::QualityReport::new();
    let polys: HashMap<String, PreparedPolygon> = loader
        .areas("g", read_records(&gfile).unwrap(), &mut q)
        .into_iter()
        .map(|a| (a.code.to_string(), PreparedPolygon::new(&a.boundary)))
        .collect();
    let (mut same, mut boundary) = (0, 0);
    assert_eq!(ours.len(), theirs.len(), "every point is in the output");
    for (pid, want) in &theirs {
        let got = &ours[pid];
        if !want.is_empty() {
            assert_eq!(got, want, "point {pid} {:?}", coords[pid]);
            same += 1;
        } else if !got.is_empty() {
            let (x, y) = coords[pid];
            assert!(polys[got].on_boundary(x, y), "point {pid} ({x}, {y}) given {got} but within no grid by GeoPandas and not on {got}'s boundary");
            boundary += 1;
        }
    }
    (same, boundary)
}

#[test]
fn voronoi_grids_match_geopandas_within() {
    let (same, boundary) = check(
        "tests/oracle/voronoi_grids.fgb",
        "tests/oracle/points.csv",
        "id",
        "tests/oracle/expected_voronoi.csv",
    );
    assert!(same > 20_000, "{same}");
    assert!(boundary > 1_000, "boundary cases exercised: {boundary}");
}

#[test]
fn demo_city_matches_geopandas_within() {
    let (same, _) = check(
        "data/helsinki/city",
        "data/helsinki/city/components.csv",
        "code",
        "tests/oracle/expected_helsinki.csv",
    );
    assert_eq!(same, 2145);
}
