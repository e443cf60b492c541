//! End-to-end: `gridtwin grids diff` and `grids redraw`: what a redrawn grid set
//! moves, full and incremental.

#[path = "testkit.rs"]
mod testkit;
use testkit::{ok, repo};

#[test]
fn grids_diff_after_a_split_moves_exactly_the_expected_components() {
    let tmp = tempfile::tempdir().unwrap();
    // redraw: grid 99010100100105 split at its middle meridian; the east half becomes ...99
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let features = fc["features"].as_array_mut().unwrap();
    let i = features
        .iter()
        .position(|f| f["properties"]["code"] == "99010100100105")
        .unwrap();
    let ring: Vec<(f64, f64)> = features[i]["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let (x0, x1) = (
        ring.iter().map(|p| p.0).fold(f64::MAX, f64::min),
        ring.iter().map(|p| p.0).fold(f64::MIN, f64::max),
    );
    let (y0, y1) = (
        ring.iter().map(|p| p.1).fold(f64::MAX, f64::min),
        ring.iter().map(|p| p.1).fold(f64::MIN, f64::max),
    );
    let mid = (x0 + x1) / 2.0;
    let rect = |a: f64, b: f64| serde_json::json!({"type": "MultiPolygon", "coordinates": [[[[a, y0], [b, y0], [b, y1], [a, y1], [a, y0]]]]});
    features[i]["geometry"] = rect(x0, mid);
    let mut east = features[i].clone();
    east["geometry"] = rect(mid, x1);
    east["properties"]["code"] = serde_json::json!("99010100100199");
    east["properties"]["name"] = serde_json::json!("split east half");
    features.push(east);
    let new = tmp.path().join("new.geojson");
    std::fs::write(&new, serde_json::to_string(&fc).unwrap()).unwrap();

    // expected, independently: components of grid 05 at or east of the split line
    let assigned = tmp.path().join("old.csv");
    ok(&[
        "assign",
        "--grids",
        "data/helsinki/city",
        "--points",
        "data/helsinki/city/components.csv",
        "--out",
        assigned.to_str().unwrap(),
    ]);
    let mut r = csv::Reader::from_path(&assigned).unwrap();
    let mut expected: Vec<String> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[7] == "99010100100105" && x[5].parse::<f64>().unwrap() >= mid)
        .map(|x| x[0].to_string())
        .collect();
    expected.sort();
    assert!(!expected.is_empty());

    let inc = tmp.path().join("inc");
    let full = tmp.path().join("full");
    let out = ok(&[
        "grids",
        "diff",
        "data/helsinki/city",
        new.to_str().unwrap(),
        "--components",
        "data/helsinki/city/components.csv",
        "--out",
        inc.to_str().unwrap(),
    ]);
    assert!(out.contains("2 changed grids; 2145 components"), "{out}");
    ok(&[
        "grids",
        "diff",
        "data/helsinki/city",
        new.to_str().unwrap(),
        "--components",
        "data/helsinki/city/components.csv",
        "--out",
        full.to_str().unwrap(),
        "--full",
    ]);
    let moves = std::fs::read_to_string(inc.join("moves.csv")).unwrap();
    assert_eq!(
        moves,
        std::fs::read_to_string(full.join("moves.csv")).unwrap(),
        "incremental and full agree"
    );
    let mut got: Vec<String> = moves
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(moves
        .lines()
        .skip(1)
        .all(|l| l.ends_with(",99010100100105,99010100100199")));
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(inc.join("diff.json")).unwrap()).unwrap();
    assert!(
        d["retested"].as_u64().unwrap() < 200,
        "only components near the changed grid are re-tested: {}",
        d["retested"]
    );
    // an id holding a comma and a quote comes back whole (moves.csv is quoted CSV)
    let odd = tmp.path().join("odd.csv");
    let (x, y) = ((mid + x1) / 2.0, (y0 + y1) / 2.0);
    std::fs::write(
        &odd,
        format!("id,lon,lat\n\"lamp \"\"A\"\", north\",{x},{y}\n"),
    )
    .unwrap();
    let odd_out = tmp.path().join("odd");
    ok(&[
        "grids",
        "diff",
        "data/helsinki/city",
        new.to_str().unwrap(),
        "--components",
        odd.to_str().unwrap(),
        "--out",
        odd_out.to_str().unwrap(),
    ]);
    let mut r = csv::Reader::from_path(odd_out.join("moves.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], "lamp \"A\", north");
    assert_eq!(&rows[0][3], "99010100100199");
}

#[test]
fn grids_diff_incremental_equals_full_on_a_synthetic_megacity_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let city = tmp.path().join("city");
    ok(&[
        "synth",
        "--grids",
        "400",
        "--components",
        "20000",
        "--incidents",
        "0",
        "--seed",
        "8",
        "--out",
        city.to_str().unwrap(),
    ]);
    // redraw: new 2 km² grids inside the synthetic communities (a different tiling;
    // the sample city is coarse: 400 grids over 2,100 km²)
    let new = tmp.path().join("new.fgb");
    let out = ok(&[
        "grids",
        "generate",
        "--communities",
        city.to_str().unwrap(),
        "--target-area-m2",
        "2000000",
        "--out",
        new.to_str().unwrap(),
    ]);
    assert!(out.contains("grids in"), "{out}");
    let (inc, full) = (tmp.path().join("inc"), tmp.path().join("full"));
    let comps = city.join("components.csv");
    ok(&[
        "grids",
        "diff",
        city.to_str().unwrap(),
        new.to_str().unwrap(),
        "--components",
        comps.to_str().unwrap(),
        "--out",
        inc.to_str().unwrap(),
    ]);
    ok(&[
        "grids",
        "diff",
        city.to_str().unwrap(),
        new.to_str().unwrap(),
        "--components",
        comps.to_str().unwrap(),
        "--out",
        full.to_str().unwrap(),
        "--full",
    ]);
    let a = std::fs::read_to_string(inc.join("moves.csv")).unwrap();
    assert_eq!(a, std::fs::read_to_string(full.join("moves.csv")).unwrap());
    assert!(
        a.lines().count() > 1000,
        "a real redraw moves many components"
    );
}

#[test]
fn grids_redraw_gives_a_valid_file_and_its_delta() {
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("redrawn.geojson");
    let delta = tmp.path().join("delta");
    let out = ok(&[
        "grids",
        "redraw",
        "data/helsinki/city",
        "--split-over-m2",
        "6000",
        "--merge-under-m2",
        "3000",
        "--renumber",
        "--out",
        new.to_str().unwrap(),
        "--components",
        "data/helsinki/city/components.csv",
        "--delta",
        delta.to_str().unwrap(),
    ]);
    assert!(out.contains("192 grids → 384 grids"), "{out}");
    let v = tmp.path().join("v");
    let s = ok(&[
        "grids",
        "validate",
        new.to_str().unwrap(),
        "--parents",
        "data/helsinki/city",
        "--min-area-m2",
        "1000",
        "--out",
        v.to_str().unwrap(),
        "--strict",
    ]);
    assert!(s.contains("384 grids, 16 parents: 0 problem(s)"), "{s}");
    // the delta equals a full re-assignment against the redrawn grids
    let full = tmp.path().join("full");
    ok(&[
        "grids",
        "diff",
        "data/helsinki/city",
        new.to_str().unwrap(),
        "--components",
        "data/helsinki/city/components.csv",
        "--out",
        full.to_str().unwrap(),
        "--full",
    ]);
    assert_eq!(
        std::fs::read(delta.join("moves.csv")).unwrap(),
        std::fs::read(full.join("moves.csv")).unwrap()
    );
}

#[test]
fn a_parquet_component_layer_is_streamed_to_the_same_delta_as_its_csv() {
    // issue 19: a GeoParquet component layer is read a batch at a time and its rows
    // re-tested in parallel; the delta is the CSV layer's, byte for byte
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    ok(&[
        "grids",
        "redraw",
        "--grids",
        "data/helsinki/city",
        "--split-over-m2",
        "8000",
        "--out",
        &p("new.fgb"),
    ]);
    for ext in ["csv", "parquet"] {
        ok(&[
            "assign",
            "--grids",
            "data/helsinki/city",
            "--points",
            "data/helsinki/city/components.csv",
            "--out",
            &p(&format!("old.{ext}")),
        ]);
        ok(&[
            "grids",
            "diff",
            "data/helsinki/city",
            &p("new.fgb"),
            "--components",
            &p(&format!("old.{ext}")),
            "--out",
            &p(&format!("delta_{ext}")),
        ]);
    }
    let moves = std::fs::read_to_string(tmp.path().join("delta_csv/moves.csv")).unwrap();
    assert!(moves.lines().count() > 10, "the redraw moves components");
    for f in ["moves.csv", "diff.json"] {
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("delta_parquet").join(f)).unwrap(),
            std::fs::read_to_string(tmp.path().join("delta_csv").join(f)).unwrap(),
            "{f}"
        );
    }
}
