//! End-to-end: `gridtwin aggregate` maps, assignment of a real boundary layer (the
//! Tokyo wards, against GeoPandas), and `gridtwin view` stills.

use std::path::Path;

#[path = "testkit.rs"]
mod testkit;
use testkit::{ok, ok_in, repo, run as gridtwin};

#[test]
fn aggregate_draws_a_map_of_areas_or_h3_cells_in_any_geo_format() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let pts = "data/helsinki/city/components.csv";
    let (csv, map) = (tmp.path().join("c.csv"), tmp.path().join("c.geojson"));
    for out in [&csv, &map] {
        ok(&[
            "aggregate",
            "--points",
            pts,
            "--grids",
            "data/helsinki/city",
            "--by",
            "community",
            "--out",
            &s(out),
        ]);
    }
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map).unwrap()).unwrap();
    let features = fc["features"].as_array().unwrap();
    let mut from_csv = csv::Reader::from_path(&csv).unwrap();
    let rows: Vec<csv::StringRecord> = from_csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(features.len(), rows.len());
    let mut total = 0;
    for (f, r) in features.iter().zip(&rows) {
        assert_eq!(f["properties"]["community_code"], r[0].to_string());
        assert_eq!(
            f["properties"]["count"].as_u64().unwrap().to_string(),
            r[1].to_string()
        );
        assert_eq!(f["geometry"]["type"], "MultiPolygon", "{}", &r[0]);
        total += f["properties"]["count"].as_u64().unwrap();
    }
    assert_eq!(total, 2145);
    // H3 cells: hexagons (6 corners, closed) with kepler.gl's hex_id
    let h3 = tmp.path().join("h3.geojson");
    ok(&[
        "aggregate",
        "--points",
        pts,
        "--grids",
        "data/helsinki/city",
        "--by",
        "h3:9",
        "--out",
        &s(&h3),
    ]);
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&h3).unwrap()).unwrap();
    let mut total = 0;
    for f in fc["features"].as_array().unwrap() {
        assert_eq!(f["properties"]["hex_id"], f["properties"]["h3_r9"]);
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.len(), 7);
        assert_eq!(ring[0], ring[6]);
        total += f["properties"]["count"].as_u64().unwrap();
    }
    assert_eq!(total, 2145);
    // the same map as GeoParquet, FlatGeobuf and GeoPackage: read back, the same
    // groups, counts and areas
    for ext in ["parquet", "fgb", "gpkg"] {
        let out = tmp.path().join(format!("c.{ext}"));
        // (a GDAL build reads .gpkg through GDAL and writes none)
        if ext == "gpkg"
            && gridtwin_io::format::Format::from_path(&out).ok()
                != Some(gridtwin_io::format::Format::GeoPackage)
        {
            continue;
        }
        ok(&[
            "aggregate",
            "--points",
            pts,
            "--grids",
            "data/helsinki/city",
            "--by",
            "community",
            "--out",
            &s(&out),
        ]);
        let back: Vec<_> = gridtwin_io::read_records(&out)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(back.len(), features.len(), "{ext}");
        for (r, f) in back.iter().zip(features) {
            assert_eq!(
                r.text(&["community_code"]).unwrap(),
                f["properties"]["community_code"].as_str().unwrap()
            );
            let count = match r.get("count") {
                Some(gridtwin_io::record::Value::Int(i)) => i.to_string(),
                v => v.and_then(|v| v.as_text()).unwrap_or_default(),
            };
            assert_eq!(
                count,
                f["properties"]["count"].as_u64().unwrap().to_string(),
                "{ext}"
            );
            match &r.geometry {
                Some(geo::Geometry::MultiPolygon(_)) | Some(geo::Geometry::Polygon(_)) => {}
                g => panic!("{ext}: {g:?}"),
            }
        }
    }
    // a level map without the areas' polygons is refused, naming --grids
    let o = gridtwin(&[
        "aggregate",
        "--points",
        pts,
        "--by",
        "grid",
        "--out",
        &s(&tmp.path().join("g.geojson")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--grids"));
}

/// A folder outside the repository holding the Tokyo wards (`wards.shp` …) and the
/// oracle's points in the wards' own metres (`points.csv` with `points.prj`).
fn tokyo_folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = repo().join("tests/tokyo");
    for ext in ["shp", "shx", "dbf", "prj"] {
        std::fs::copy(
            src.join(format!("tokyomet262.{ext}")),
            tmp.path().join(format!("wards.{ext}")),
        )
        .unwrap();
    }
    std::fs::copy(src.join("points.csv"), tmp.path().join("points.csv")).unwrap();
    std::fs::copy(src.join("tokyomet262.prj"), tmp.path().join("points.prj")).unwrap();
    tmp
}

/// A real boundary layer as an analyst holds it: 262 Tokyo municipalities (libpysal's
/// example Shapefile, Japan zone 6 on the Tokyo datum, its own `GEOCODE` ids, 10 wards
/// with self-intersecting rings). Imported with `--autocode --make-valid` from a folder
/// outside the repository, then 7,000 points in the layer's own metres (a `.prj` beside
/// them) are assigned; each must land in the ward GeoPandas puts it in
/// (`sjoin(predicate="within")` after `make_valid`, tests/oracle/tokyo_fixture.py).
#[test]
fn tokyo_wards_autocoded_repaired_and_assigned_like_geopandas() {
    let (tmp, src) = (tokyo_folder(), repo().join("tests/tokyo"));
    let run = |args: &[&str]| ok_in(tmp.path(), args);
    // without repair the 10 invalid wards are rejected, named by record
    let plain = run(&[
        "import",
        "--areas",
        "wards.shp",
        "--autocode",
        "--code-field",
        "GEOCODE",
        "--out",
        "plain",
    ]);
    assert!(plain.contains("loaded 252, rejected 10"), "{plain}");
    let out = run(&[
        "import",
        "--areas",
        "wards.shp",
        "--autocode",
        "--make-valid",
        "--code-field",
        "GEOCODE",
        "--name-field",
        "AREANAME",
        "--city-code",
        "1300",
        "--out",
        "city",
    ]);
    assert!(out.contains("loaded 262, rejected 0"), "{out}");
    assert!(out.contains("repaired 10 invalid polygon(s)"), "{out}");
    let repairs = std::fs::read_to_string(tmp.path().join("city/repairs.csv")).unwrap();
    for id in [
        "08208", "08441", "08521", "11239", "12204", "12213", "12217", "12230", "12324", "12407",
    ] {
        assert!(
            repairs.contains(&format!(",{id},")),
            "{id} not in\n{repairs}"
        );
    }
    // codes under the rule, the ward's own id kept
    let areas: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("city/areas.geojson")).unwrap())
            .unwrap();
    let mut source_of = std::collections::HashMap::new();
    for f in areas["features"].as_array().unwrap() {
        let p = &f["properties"];
        let code = p["code"].as_str().unwrap().to_string();
        assert_eq!(code.len(), 14);
        assert!(code.starts_with("1300"));
        source_of.insert(code, p["source_id"].as_str().unwrap().to_string());
    }
    assert_eq!(source_of.len(), 262);
    // the lowest GEOCODE (08203) first; 99 grids per made-up community, then the next
    assert_eq!(source_of["13000100100101"], "08203");
    assert!(source_of.contains_key("13000100100364"));
    assert!(!source_of.contains_key("13000100100365"));
    run(&[
        "assign",
        "--grids",
        "city",
        "--points",
        "points.csv",
        "--lon-col",
        "x",
        "--lat-col",
        "y",
        "--out",
        "assigned.csv",
        "--strict",
    ]);
    let expected: std::collections::HashMap<String, String> =
        csv::Reader::from_path(src.join("expected_sjoin.csv"))
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_string(), r[1].to_string())
            })
            .collect();
    let mut rdr = csv::Reader::from_path(tmp.path().join("assigned.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (id, grid) = (col("id"), col("grid_code"));
    let (mut rows, mut inside, mut in_repaired) = (0, 0, 0);
    for r in rdr.records() {
        let r = r.unwrap();
        let got = match &r[grid] {
            "" => "",
            g => source_of[g].as_str(),
        };
        assert_eq!(got, expected[&r[id]], "point {}", &r[id]);
        rows += 1;
        if !got.is_empty() {
            inside += 1;
            if repairs.contains(&format!(",{got},")) {
                in_repaired += 1;
            }
        }
    }
    assert_eq!(rows, 7000);
    assert_eq!(inside, 4557);
    assert!(in_repaired > 100, "{in_repaired} points in repaired wards");
}

/// aggregate reads points in a projected system (a `.prj` beside them) and counts them
/// in the same wards as `assign` does.
#[test]
fn aggregate_reprojects_points_like_assign() {
    let tmp = tokyo_folder();
    let run = |args: &[&str]| ok_in(tmp.path(), args);
    run(&[
        "import",
        "--areas",
        "wards.shp",
        "--autocode",
        "--make-valid",
        "--code-field",
        "GEOCODE",
        "--out",
        "city",
    ]);
    run(&[
        "aggregate",
        "--points",
        "points.csv",
        "--grids",
        "city",
        "--by",
        "grid",
        "--out",
        "n.csv",
    ]);
    let text = std::fs::read_to_string(tmp.path().join("n.csv")).unwrap();
    let counted: u64 = text
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with(','))
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    // the 4557 points GeoPandas puts in a ward (tests/tokyo/expected_sjoin.csv)
    assert_eq!(counted, 4557, "{text}");
}

/// `gridtwin view` runs the viewer beside it (building it when missing) and passes
/// its arguments through: here a headless still of the demo at noon.
#[test]
fn view_renders_a_still_through_the_viewer() {
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("still.png");
    ok(&[
        "view",
        "--scene",
        "scenes/demo.toml",
        "--screenshot",
        png.to_str().unwrap(),
        "--size",
        "160x100",
        "--at",
        "12:00",
    ]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (160, 100));
    // the viewer's own errors come back as this command's exit status
    let out = gridtwin(&["view", "--scene", "scenes/demo.toml", "--hide", "trees"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--hide `trees`"));
}
