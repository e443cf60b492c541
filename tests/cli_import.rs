//! End-to-end: `gridtwin import` of layers as users hold them — their field names,
//! separators, coordinate systems, formats, and components without codes.

use std::path::Path;

#[path = "testkit.rs"]
mod testkit;
use testkit::{ok, repo, run as gridtwin};

#[test]
fn layer_import_accounts_for_every_row_and_strict_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("components.csv");
    std::fs::write(
        &csv,
        "code,department,lon,lat\n\
         3101010107000001,Lighting,121.4,31.2\n\
         3101010107000002,Lighting,121.4,nope\n\
         3101019999000003,Lighting,121.4,31.2\n",
    )
    .unwrap();
    let out = tmp.path().join("city");
    let args = [
        "import",
        "--components",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let stdout = ok(&args);
    assert!(stdout.contains("read 3, loaded 1, rejected 2"), "{stdout}");
    let q: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("quality.json")).unwrap()).unwrap();
    let f = q["files"].as_object().unwrap().values().next().unwrap();
    assert_eq!(f["reasons"]["bad_coordinate"]["examples"][0]["record"], 2);
    assert_eq!(f["reasons"]["unknown_category"]["examples"][0]["record"], 3);
    let mut strict = args.to_vec();
    strict.push("--strict");
    let o = gridtwin(&strict);
    assert_eq!(o.status.code(), Some(1));
    // quality.json keeps five examples of a reason and says so; --rejected lists all
    let mut text = String::from("code,department,lon,lat\n3101010107000001,Lighting,121.4,31.2\n");
    for i in 2..=9 {
        text.push_str(&format!("310101010700000{i},Lighting,121.4,nope\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let all = tmp.path().join("rejected.csv");
    let stdout = ok(&[
        "import",
        "--components",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--rejected",
        all.to_str().unwrap(),
    ]);
    assert!(stdout.contains("8 rejected records"), "{stdout}");
    let q: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("quality.json")).unwrap()).unwrap();
    let f = q["files"].as_object().unwrap().values().next().unwrap();
    assert_eq!(f["reasons"]["bad_coordinate"]["count"], 8);
    assert_eq!(
        f["reasons"]["bad_coordinate"]["examples"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let rows = std::fs::read_to_string(&all).unwrap();
    assert_eq!(
        rows.lines()
            .filter(|l| l.contains("bad_coordinate"))
            .count(),
        8,
        "{rows}"
    );
    let stdout = ok(&args);
    assert!(
        stdout.contains("--rejected FILE lists every rejected record"),
        "{stdout}"
    );
}

#[test]
fn gcj02_flag_moves_points_back_to_wgs84() {
    let tmp = tempfile::tempdir().unwrap();
    let (lon, lat) = (121.4737, 31.2304);
    let (g, h) = gridtwin_core::coord::wgs84_to_gcj02(lon, lat);
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, format!("code,lon,lat\n3101010107000001,{g},{h}\n")).unwrap();
    let out = tmp.path().join("city");
    ok(&[
        "import",
        "--components",
        csv.to_str().unwrap(),
        "--coords",
        "gcj02",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(out.join("components.csv")).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let (x, y): (f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap());
    assert!(gridtwin_core::coord::haversine_m(lon, lat, x, y) < 1.0);
}

#[test]
fn semicolon_csv_named_columns_and_swapped_lon_lat_get_a_hint() {
    // The demo components as a European CSV: `;`-separated, coordinates in columns of
    // their own names. Then lon and lat swapped: every point misses every grid — a
    // warning naming the grids' extent, and --strict fails.
    let tmp = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo().join("data/helsinki/city/components.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(src.as_bytes());
    let h = rows.headers().unwrap().clone();
    let (lon, lat) = (
        h.iter().position(|x| x == "lon").unwrap(),
        h.iter().position(|x| x == "lat").unwrap(),
    );
    let (mut semi, mut swapped) = (String::from("ost;nord;kind\n"), String::from("lon,lat\n"));
    let mut n = 0;
    for r in rows.records() {
        let r = r.unwrap();
        semi.push_str(&format!("{};{};c\n", &r[lon], &r[lat]));
        swapped.push_str(&format!("{},{}\n", &r[lat], &r[lon]));
        n += 1;
    }
    let p = tmp.path();
    std::fs::write(p.join("semi.csv"), semi).unwrap();
    std::fs::write(p.join("swapped.csv"), swapped).unwrap();
    let city = repo().join("data/helsinki/city");
    let s = |x: &Path| x.to_str().unwrap().to_string();
    let out = ok(&[
        "assign",
        "--grids",
        &s(&city),
        "--points",
        &s(&p.join("semi.csv")),
        "--out",
        &s(&p.join("semi_out.csv")),
        "--delimiter",
        ";",
        "--lon-col",
        "ost",
        "--lat-col",
        "nord",
    ]);
    assert!(out.contains(&format!("{n} rows: {n} assigned")), "{out}");
    // without the flags: a clear error, not a silent miss
    let e = gridtwin(&[
        "assign",
        "--grids",
        &s(&city),
        "--points",
        &s(&p.join("semi.csv")),
        "--out",
        &s(&p.join("x.csv")),
    ]);
    assert!(!e.status.success());
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("--delimiter"),
        "{}",
        String::from_utf8_lossy(&e.stderr)
    );
    // swapped: a warning with the grids' extent; --strict exits 1
    let sw = gridtwin(&[
        "assign",
        "--grids",
        &s(&city),
        "--points",
        &s(&p.join("swapped.csv")),
        "--out",
        &s(&p.join("sw.csv")),
    ]);
    assert!(sw.status.success());
    let err = String::from_utf8_lossy(&sw.stderr);
    assert!(
        err.contains("none of the") && err.contains("swapped"),
        "{err}"
    );
    let strict = gridtwin(&[
        "assign",
        "--grids",
        &s(&city),
        "--points",
        &s(&p.join("swapped.csv")),
        "--out",
        &s(&p.join("sw2.csv")),
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn a_boundary_layer_with_its_own_field_names_and_roads_with_classes_only() {
    // The demo grids as a layer whose code and name sit in GEOCODE and NAME_EN, and
    // roads with a class and no speed: the speed comes from road_speeds.csv; a class
    // it does not list is rejected, naming the table.
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let n = fc["features"].as_array().unwrap().len();
    for f in fc["features"].as_array_mut().unwrap() {
        let p = f["properties"].as_object_mut().unwrap();
        let code = p.remove("code").unwrap();
        let name = p.remove("name").unwrap_or(serde_json::json!(""));
        p.insert("GEOCODE".into(), code);
        p.insert("NAME_EN".into(), name);
    }
    let areas = tmp.path().join("wards.geojson");
    std::fs::write(&areas, serde_json::to_string(&fc).unwrap()).unwrap();
    let roads = tmp.path().join("roads.geojson");
    std::fs::write(
        &roads,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"a","class":"residential"},"geometry":{"type":"LineString","coordinates":[[24.94,60.17],[24.941,60.17]]}},
{"type":"Feature","properties":{"id":"b","class":"starship_lane"},"geometry":{"type":"LineString","coordinates":[[24.94,60.17],[24.941,60.171]]}},
{"type":"Feature","properties":{"id":"c","speed_kmh":30},"geometry":{"type":"LineString","coordinates":[[24.94,60.17],[24.942,60.17]]}}]}"#,
    )
    .unwrap();
    let out = tmp.path().join("city");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let stdout = ok(&[
        "import",
        "--areas",
        &s(&areas),
        "--roads",
        &s(&roads),
        "--code-field",
        "GEOCODE",
        "--name-field",
        "NAME_EN",
        "--out",
        &s(&out),
    ]);
    assert!(
        stdout.contains(&format!("read {n}, loaded {n}, rejected 0")),
        "{stdout}"
    );
    assert!(stdout.contains("read 3, loaded 2, rejected 1"), "{stdout}");
    let q = std::fs::read_to_string(out.join("quality.json")).unwrap();
    assert!(
        q.contains("starship_lane") && q.contains("road_speeds.csv"),
        "{q}"
    );
    // without --code-field: every area rejected for its missing `code`, not silently
    let o = gridtwin(&[
        "import",
        "--areas",
        &s(&areas),
        "--out",
        &s(&tmp.path().join("c2")),
    ]);
    let all = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        all.contains(&format!("rejected {n}")) && all.contains("`code` is missing"),
        "{all}"
    );
}

#[test]
fn a_projected_layer_is_reprojected_on_import_by_crs_or_prj() {
    // The demo areas in UTM zone 35N (metres), once with --crs and a GeoJSON `crs`
    // member, once with a .prj beside the file: both import as the lon/lat original, and
    // the components land in the same grids.
    let tmp = tempfile::tempdir().unwrap();
    let utm = gridtwin_io::dem_crs::Crs::parse("EPSG:32635").unwrap();
    let text = std::fs::read_to_string(repo().join("data/helsinki/city/areas.geojson")).unwrap();
    let mut fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn project(v: &mut serde_json::Value, crs: &gridtwin_io::dem_crs::Crs) {
        match v {
            serde_json::Value::Array(a) if a.len() == 2 && a[0].is_number() => {
                let (x, y) = crs
                    .from_lon_lat(a[0].as_f64().unwrap(), a[1].as_f64().unwrap())
                    .unwrap();
                assert!(x > 100_000.0 && y > 6_000_000.0, "metres: {x} {y}");
                *v = serde_json::json!([x, y]);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| project(x, crs)),
            _ => {}
        }
    }
    for f in fc["features"].as_array_mut().unwrap() {
        project(&mut f["geometry"]["coordinates"], &utm);
    }
    let plain = fc.clone();
    fc["crs"] =
        serde_json::json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32635"}});
    let with_member = tmp.path().join("member.geojson");
    std::fs::write(&with_member, serde_json::to_string(&fc).unwrap()).unwrap();
    let with_prj = tmp.path().join("prj.geojson");
    std::fs::write(&with_prj, serde_json::to_string(&plain).unwrap()).unwrap();
    std::fs::write(with_prj.with_extension("prj"), &utm.wkt).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let comps = repo().join("data/helsinki/city/components.csv");
    let mut assigned = Vec::new();
    for (file, crs) in [(&with_member, Some("EPSG:32635")), (&with_prj, None)] {
        let out = tmp.path().join(format!(
            "city_{}",
            file.file_stem().unwrap().to_str().unwrap()
        ));
        let mut args = vec![
            "import".to_string(),
            "--areas".into(),
            s(file),
            "--out".into(),
            s(&out),
        ];
        if let Some(c) = crs {
            args.extend(["--crs".to_string(), c.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        let stdout = ok(&args);
        assert!(stdout.contains("rejected 0"), "{stdout}");
        let res = out.join("assigned.csv");
        let a = ok(&[
            "assign",
            "--grids",
            &s(&out),
            "--points",
            &s(&comps),
            "--out",
            &s(&res),
        ]);
        assert!(a.contains("2145 rows: 2145 assigned"), "{a}");
        assigned.push(std::fs::read_to_string(&res).unwrap());
    }
    let lonlat = tmp.path().join("lonlat.csv");
    ok(&[
        "assign",
        "--grids",
        "data/helsinki/city",
        "--points",
        &s(&comps),
        "--out",
        &s(&lonlat),
    ]);
    let want = std::fs::read_to_string(&lonlat).unwrap();
    assert_eq!(assigned[0], want);
    assert_eq!(assigned[1], want);
    // without --crs, the GeoJSON's own `crs` member is still a clear refusal
    let o = gridtwin(&[
        "import",
        "--areas",
        &s(&with_member),
        "--out",
        &s(&tmp.path().join("x")),
    ]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn shapefiles_and_geopackages_are_written_and_read_in_the_default_build() {
    // Generated grids written as a Shapefile (.shp/.shx/.dbf/.prj) and as GeoJSON: the
    // demo components assign the same way through either.
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (shp, gj) = (
        tmp.path().join("grids.shp"),
        tmp.path().join("grids.geojson"),
    );
    for out in [&shp, &gj] {
        ok(&[
            "grids",
            "generate",
            "--communities",
            "data/helsinki/city",
            "--target-area-m2",
            "10000",
            "--out",
            &s(out),
        ]);
    }
    for ext in ["shx", "dbf", "prj"] {
        assert!(shp.with_extension(ext).is_file(), "{ext}");
    }
    let comps = "data/helsinki/city/components.csv";
    let (a, b) = (tmp.path().join("a.csv"), tmp.path().join("b.csv"));
    let out_a = ok(&[
        "assign",
        "--grids",
        &s(&shp),
        "--points",
        comps,
        "--out",
        &s(&a),
    ]);
    ok(&[
        "assign",
        "--grids",
        &s(&gj),
        "--points",
        comps,
        "--out",
        &s(&b),
    ]);
    assert!(out_a.contains("2145 assigned"), "{out_a}");
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // and imported as a layer (its .prj says WGS-84)
    let city = tmp.path().join("city");
    let imp = ok(&["import", "--areas", &s(&shp), "--out", &s(&city)]);
    assert!(imp.contains("rejected 0"), "{imp}");
    // GeoPackage the same way, in the default build (a GDAL build reads .gpkg through
    // GDAL, whose own SQLite cannot share the process with the compiled-in one)
    let gpkg = tmp.path().join("grids.gpkg");
    if gridtwin_io::format::Format::from_path(&gpkg).ok()
        != Some(gridtwin_io::format::Format::GeoPackage)
    {
        return;
    }
    ok(&[
        "grids",
        "generate",
        "--communities",
        "data/helsinki/city",
        "--target-area-m2",
        "10000",
        "--out",
        &s(&gpkg),
    ]);
    let c = tmp.path().join("c.csv");
    ok(&[
        "assign",
        "--grids",
        &s(&gpkg),
        "--points",
        comps,
        "--out",
        &s(&c),
    ]);
    assert_eq!(std::fs::read(&c).unwrap(), std::fs::read(&b).unwrap());
    let imp = ok(&[
        "import",
        "--areas",
        &s(&gpkg),
        "--out",
        &s(&tmp.path().join("city2")),
    ]);
    assert!(imp.contains("rejected 0"), "{imp}");
}

/// Components without codes are coded as the OSM import codes its own: district of
/// their place + class + serial, after the highest serial already used.
#[test]
fn components_without_codes_get_codes_from_their_district() {
    let tmp = tempfile::tempdir().unwrap();
    let comps = tmp.path().join("lamps.csv");
    std::fs::write(
        &comps,
        "code,category,lon,lat,source_id\n\
         ,0101,24.9410,60.1690,lamp-a\n\
         ,0101,24.9420,60.1695,lamp-b\n\
         ,,24.9420,60.1695,no-class\n\
         ,0101,10.0,10.0,far-away\n",
    )
    .unwrap();
    let out = tmp.path().join("city");
    let o = gridtwin(&[
        "import",
        "--areas",
        "data/helsinki/city/areas.geojson",
        "--components",
        "data/helsinki/city/components.csv",
        "--components",
        comps.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("coded 2 component(s)"), "{stdout}");
    let text = std::fs::read_to_string(out.join("components.csv")).unwrap();
    let code_of = |sid: &str| {
        text.lines()
            .find(|l| l.contains(sid))
            .map(|l| l.split(',').next().unwrap().to_string())
    };
    let (a, b) = (code_of("lamp-a").unwrap(), code_of("lamp-b").unwrap());
    // the demo city's highest 0101 serial in its district, then the next two
    let district = &a[..6];
    let max_before = std::fs::read_to_string(repo().join("data/helsinki/city/components.csv"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 16 && c.starts_with(district) && &c[6..10] == "0101")
        .map(|c| c[10..].parse::<u64>().unwrap())
        .max()
        .unwrap_or(0);
    assert_eq!(&a[6..10], "0101");
    assert_eq!(a[10..].parse::<u64>().unwrap(), max_before + 1);
    assert_eq!(b[10..].parse::<u64>().unwrap(), max_before + 2);
    assert!(code_of("no-class").is_none() && code_of("far-away").is_none());
    let q = std::fs::read_to_string(out.join("quality.json")).unwrap();
    assert!(
        q.contains("missing_field") && q.contains("malformed_code"),
        "{q}"
    );
}
