//! End-to-end: `gridtwin grids validate` and `grids generate` (and `--make-valid`)
//! on the demo city and planted defects.

use std::path::Path;

#[path = "testkit.rs"]
mod testkit;
use testkit::{ok, repo, run as gridtwin};

#[test]
fn grids_validate_is_clean_on_the_demo_city_and_finds_planted_defects() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("v");
    let stdout = ok(&[
        "grids",
        "validate",
        "data/helsinki/city",
        "--out",
        out.to_str().unwrap(),
        "--strict",
    ]);
    assert!(
        stdout.contains("192 grids, 16 parents: 0 problem(s)"),
        "{stdout}"
    );
    // plant: a bow-tie in one grid, a copy of a grid under a bad code
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let features = fc["features"].as_array_mut().unwrap();
    let i = features
        .iter()
        .position(|f| f["properties"]["code"] == "99010100100105")
        .unwrap();
    let ring = features[i]["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .clone();
    // swap two corners: (a, b, c, d) -> (a, c, b, d) crosses itself
    let bow = serde_json::json!([[ring[0], ring[2], ring[1], ring[3], ring[0]]]);
    features[i]["geometry"] = serde_json::json!({"type": "MultiPolygon", "coordinates": [bow]});
    let mut dup = features[i + 1].clone();
    dup["properties"]["code"] = serde_json::json!("9901010010010X");
    features.push(dup);
    let bad = tmp.path().join("areas.geojson");
    std::fs::write(&bad, serde_json::to_string(&fc).unwrap()).unwrap();
    let o = gridtwin(&[
        "grids",
        "validate",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("validation.json")).unwrap())
            .unwrap();
    let k = &v["problems_by_kind"];
    assert_eq!(k["invalid_ring"], 1, "{k}");
    assert_eq!(k["malformed_code"], 1, "{k}");
    assert!(
        k["overlap"].as_u64().unwrap() >= 1,
        "the duplicate geometry overlaps its original: {k}"
    );
    let geo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("problems.geojson")).unwrap())
            .unwrap();
    assert!(geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["properties"]["kind"] == "invalid_ring" && f["geometry"]["type"] == "Point"));
}

#[test]
fn grids_validate_reports_split_interiors_and_zero_area_grids_as_geos_would() {
    // Issue 22: in the demo city's real grid file, one grid gets a triangular hole
    // touching its shell at two opposite corners (its interior falls in two), another
    // a ring of three points on one line (no area). Both are found with kind, code and
    // place, and --strict fails.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("v");
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let features = fc["features"].as_array_mut().unwrap();
    let at = |features: &Vec<serde_json::Value>, code: &str| {
        features
            .iter()
            .position(|f| f["properties"]["code"] == code)
            .unwrap()
    };
    let split = at(features, "99010100100105");
    let ring: Vec<[f64; 2]> =
        serde_json::from_value(features[split]["geometry"]["coordinates"][0][0].clone()).unwrap();
    let (a, b, c) = (ring[0], ring[1], ring[2]);
    // inside, on b's side of the diagonal a–c
    let p = [(a[0] + b[0] + c[0]) / 3.0, (a[1] + b[1] + c[1]) / 3.0];
    let hole = serde_json::json!([a, p, c, a]);
    features[split]["geometry"] = serde_json::json!({
        "type": "Polygon",
        "coordinates": [ring, hole],
    });
    let flat = at(features, "99010100100107");
    let ring: Vec<[f64; 2]> =
        serde_json::from_value(features[flat]["geometry"]["coordinates"][0][0].clone()).unwrap();
    let (x, y) = (ring[0][0], ring[0][1]);
    let line = serde_json::json!([[[x, y], [x, y + 0.001], [x, y + 0.002], [x, y]]]);
    features[flat]["geometry"] = serde_json::json!({"type": "Polygon", "coordinates": line});
    let bad = tmp.path().join("areas.geojson");
    std::fs::write(&bad, serde_json::to_string(&fc).unwrap()).unwrap();
    let o = gridtwin(&[
        "grids",
        "validate",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("validation.json")).unwrap())
            .unwrap();
    let k = &v["problems_by_kind"];
    assert_eq!(k["disconnected_interior"], 1, "{k}");
    assert_eq!(k["degenerate_ring"], 1, "{k}");
    let problems = v["problems"].as_array().unwrap();
    let find = |kind: &str| {
        problems
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let d = find("disconnected_interior");
    assert_eq!(d["codes"], serde_json::json!(["99010100100105"]));
    let loc: [f64; 2] = serde_json::from_value(d["location"].clone()).unwrap();
    assert!(loc == a || loc == c, "the cut closes at a touch: {loc:?}");
    let z = find("degenerate_ring");
    assert_eq!(z["codes"], serde_json::json!(["99010100100107"]));
    assert_eq!(
        serde_json::from_value::<[f64; 2]>(z["location"].clone()).unwrap(),
        [x, y]
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("DisconnectedInterior 99010100100105"),
        "{stdout}"
    );
}

#[test]
fn grids_validate_of_areas_without_codes_is_an_error_not_zero_problems() {
    // issue 14: a polygon file without `code` fields gave "0 grids: 0 problems", exit 0
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("nocode.geojson");
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[24.94,60.17],[24.945,60.17],[24.945,60.172],[24.94,60.17]]]},"properties":{"name":"x"}}
        ]}"#,
    )
    .unwrap();
    let out = tmp.path().join("v");
    let o = gridtwin(&[
        "grids",
        "validate",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--strict",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("no `code`") && err.contains("records 1"),
        "{err}"
    );
}

#[test]
fn grids_generate_tiles_the_communities_validates_clean_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.geojson");
    let b = tmp.path().join("b.geojson");
    let out = ok(&[
        "grids",
        "generate",
        "--communities",
        "data/helsinki/city",
        "--target-area-m2",
        "8000",
        "--out",
        a.to_str().unwrap(),
    ]);
    assert!(out.contains("in 16 communities"), "{out}");
    ok(&[
        "grids",
        "generate",
        "--communities",
        "data/helsinki/city",
        "--target-area-m2",
        "8000",
        "--out",
        b.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same input, same bytes"
    );
    let v = tmp.path().join("v");
    let stdout = ok(&[
        "grids",
        "validate",
        a.to_str().unwrap(),
        "--parents",
        "data/helsinki/city",
        "--out",
        v.to_str().unwrap(),
        "--strict",
    ]);
    assert!(stdout.contains(": 0 problem(s)"), "{stdout}");
    // the new grids assign every demo component
    let assigned = tmp.path().join("assigned.csv");
    let s = ok(&[
        "assign",
        "--grids",
        a.to_str().unwrap(),
        "--points",
        "data/helsinki/city/components.csv",
        "--out",
        assigned.to_str().unwrap(),
    ]);
    assert!(s.contains("2145 rows: 2145 assigned"), "{s}");
}

#[test]
fn grids_generate_from_h3_cells_validates_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path().join("h3.geojson");
    ok(&[
        "grids",
        "generate",
        "--communities",
        "data/helsinki/city",
        "--h3",
        "10",
        "--out",
        g.to_str().unwrap(),
    ]);
    let v = tmp.path().join("v");
    let s = ok(&[
        "grids",
        "validate",
        g.to_str().unwrap(),
        "--parents",
        "data/helsinki/city",
        "--min-area-m2",
        "1000",
        "--out",
        v.to_str().unwrap(),
        "--strict",
    ]);
    assert!(s.contains("16 parents: 0 problem(s)"), "{s}");
}

#[test]
fn grids_validate_tolerates_slivers_up_to_the_tolerance() {
    // One demo grid moved 0.2 m east: a sliver overlap with its neighbour and a sliver
    // gap behind it, each of some ten m². Problems at the default tolerance; none at
    // --tolerance-m2 100.
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let features = fc["features"].as_array_mut().unwrap();
    let i = features
        .iter()
        .position(|f| f["properties"]["code"] == "99010100100105")
        .unwrap();
    let dx = 0.2 / (111_320.0 * 60.17f64.to_radians().cos());
    let mut g = features[i]["geometry"].clone();
    fn shift(v: &mut serde_json::Value, dx: f64) {
        match v {
            serde_json::Value::Array(a) if a.len() == 2 && a[0].is_number() => {
                a[0] = serde_json::json!(a[0].as_f64().unwrap() + dx);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| shift(x, dx)),
            _ => {}
        }
    }
    shift(&mut g["coordinates"], dx);
    features[i]["geometry"] = g;
    let moved = tmp.path().join("areas.geojson");
    std::fs::write(&moved, serde_json::to_string(&fc).unwrap()).unwrap();
    let m = moved.to_str().unwrap();
    let out = tmp.path().join("v");
    let o = out.to_str().unwrap();
    let strict = gridtwin(&["grids", "validate", m, "--out", o, "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("validation.json")).unwrap())
            .unwrap();
    let largest = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["area_m2"].as_f64())
        .fold(0.0f64, f64::max);
    assert!(
        v["problems_by_kind"]["overlap"].as_u64().unwrap() >= 1,
        "{}",
        v["problems_by_kind"]
    );
    assert!(largest > 1.0 && largest < 100.0, "{largest}");
    let stdout = ok(&[
        "grids",
        "validate",
        m,
        "--out",
        o,
        "--strict",
        "--tolerance-m2",
        "100",
    ]);
    assert!(stdout.contains(": 0 problem(s)"), "{stdout}");
}

#[test]
fn make_valid_repairs_a_bow_tie_and_says_what_changed() {
    // One demo grid drawn as a bow-tie (two corners swapped): rejected as invalid by
    // default; with --make-valid it loads as its two triangles and repairs.csv names
    // it with the area as drawn (the halves cancel) and after.
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let n = fc["features"].as_array().unwrap().len();
    let features = fc["features"].as_array_mut().unwrap();
    let i = features
        .iter()
        .position(|f| f["properties"]["code"] == "99010100100105")
        .unwrap();
    let ring = features[i]["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .clone();
    let bow = serde_json::json!([[ring[0], ring[2], ring[1], ring[3], ring[0]]]);
    features[i]["geometry"] = serde_json::json!({"type": "MultiPolygon", "coordinates": [bow]});
    let bad = tmp.path().join("areas.geojson");
    std::fs::write(&bad, serde_json::to_string(&fc).unwrap()).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let plain = ok(&[
        "import",
        "--areas",
        &s(&bad),
        "--out",
        &s(&tmp.path().join("a")),
    ]);
    assert!(
        plain.contains(&format!("read {n}, loaded {}, rejected 1", n - 1)),
        "{plain}"
    );
    let out = tmp.path().join("b");
    let fixed = ok(&[
        "import",
        "--areas",
        &s(&bad),
        "--make-valid",
        "--out",
        &s(&out),
    ]);
    assert!(
        fixed.contains(&format!("read {n}, loaded {n}, rejected 0")),
        "{fixed}"
    );
    assert!(fixed.contains("repaired 1"), "{fixed}");
    let mut r = csv::Reader::from_path(out.join("repairs.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][2], "99010100100105");
    let (given, after): (f64, f64) = (rows[0][4].parse().unwrap(), rows[0][5].parse().unwrap());
    assert!(
        after > 100.0 && after > given,
        "given {given} m², repaired {after} m²"
    );
    // the repaired grid is valid: grids validate finds no broken ring in it
    let v = gridtwin(&[
        "grids",
        "validate",
        &s(&out),
        "--out",
        &s(&tmp.path().join("v")),
    ]);
    let vj: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("v/validation.json")).unwrap(),
    )
    .unwrap();
    assert!(
        vj["problems_by_kind"].get("invalid_ring").is_none(),
        "{}",
        vj["problems_by_kind"]
    );
    let _ = v;
    // assign repairs the grid file itself with --make-valid, and says so
    let comps = repo().join("data/helsinki/city/components.csv");
    let o = gridtwin(&[
        "assign",
        "--grids",
        &s(&bad),
        "--points",
        &s(&comps),
        "--out",
        &s(&tmp.path().join("as.csv")),
        "--make-valid",
        "--strict",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("repaired 99010100100105"));
    let strict = gridtwin(&[
        "assign",
        "--grids",
        &s(&bad),
        "--points",
        &s(&comps),
        "--out",
        &s(&tmp.path().join("as2.csv")),
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
}
