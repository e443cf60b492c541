//! Each reader on good and malformed input: good records round-trip through every
//! format; each bad record is rejected with its file, record number and reason.

use std::path::{Path, PathBuf};

use geo::Point;
use gridtwin_core::coord::{haversine_m, wgs84_to_gcj02, LonLatSystem};
use gridtwin_core::{City, Component, QualityReport, RejectReason};
use gridtwin_io::city_dir::{component_table, incident_table, DataTables};
use gridtwin_io::{read_records, write_table, IoError, Loader};

fn data() -> DataTables {
    DataTables::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")).unwrap()
}

fn sample_city(t: &DataTables) -> City {
    let mut city = City::new("t", t.rule);
    let district = t
        .rule
        .parse_area(gridtwin_core::Level::District, "310101")
        .unwrap();
    for (i, (maj, min)) in [(1, 1), (1, 7), (4, 1)].into_iter().enumerate() {
        city.components.push(Component {
            code: t
                .rule
                .component_code(&district, maj, min, i as u64 + 1)
                .unwrap(),
            location: Point::new(121.4 + i as f64 * 0.001, 31.2 + i as f64 * 0.0005),
            department: format!("Dept {i}"),
            status: gridtwin_core::ComponentStatus::InService,
            source_id: format!("s{i}"),
        });
    }
    city
}

fn load_components(
    t: &DataTables,
    path: &Path,
    coords: LonLatSystem,
) -> (Vec<Component>, QualityReport) {
    let mut loader = Loader::new(&t.rule, &t.table);
    loader.coords = coords;
    let mut q = QualityReport::new();
    let file = path.display().to_string();
    let c = loader.components(&file, read_records(path).unwrap(), &mut q);
    (c, q)
}

fn rejections(q: &QualityReport) -> Vec<(u64, RejectReason)> {
    let mut v: Vec<(u64, RejectReason)> = q
        .files
        .values()
        .flat_map(|f| {
            f.reasons
                .values()
                .flat_map(|r| r.examples.iter().map(|e| (e.record, e.reason)))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn components_round_trip_through_every_format() {
    let t = data();
    let city = sample_city(&t);
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "geojson", "fgb", "parquet"] {
        let path = dir.path().join(format!("components.{ext}"));
        write_table(&path, &component_table(&city)).unwrap();
        let (loaded, q) = load_components(&t, &path, LonLatSystem::Wgs84);
        assert_eq!(loaded, city.components, "{ext}");
        assert_eq!(q.totals(), (3, 3, 0), "{ext}");
    }
}

#[test]
fn incidents_round_trip_with_timeline() {
    let t = data();
    let mut city = City::new("t", t.rule);
    let mut timeline = gridtwin_core::CaseTimeline::default();
    timeline.steps[0] = Some(1_735_700_000);
    timeline.steps[5] = Some(1_735_710_000);
    city.incidents.push(gridtwin_core::Incident {
        id: "E1".into(),
        category: t
            .table
            .find(gridtwin_core::CategoryKind::Event, "占道经营")
            .unwrap()
            .key,
        location: Point::new(24.94, 60.17),
        time: 1_735_690_000,
        source: gridtwin_core::IntakeSource::Hotline,
        timeline: Some(timeline),
    });
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "geojson", "fgb", "parquet"] {
        let path = dir.path().join(format!("incidents.{ext}"));
        write_table(&path, &incident_table(&city)).unwrap();
        let loader = Loader::new(&t.rule, &t.table);
        let mut q = QualityReport::new();
        let got = loader.incidents("f", read_records(&path).unwrap(), &mut q);
        assert_eq!(got, city.incidents, "{ext}: {q}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn malformed_csv_rows_are_each_rejected_with_their_record_number() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "bad.csv",
        "code,lon,lat\n\
         3101010101000001,121.4,31.2\n\
         3101010101000002,abc,31.2\n\
         3101010101000003,NaN,31.2\n\
         3101010101000004,121.4,95\n\
         ,121.4,31.2\n\
         3101019901000006,121.4,31.2\n\
         31010101010000x7,121.4,31.2\n\
         3101010101000008,121.4\n\
         3101010101000001,121.5,31.3\n\
         3101010101000010,,\n",
    );
    let (loaded, q) = load_components(&t, &p, LonLatSystem::Wgs84);
    assert_eq!(loaded.len(), 1);
    assert_eq!(q.totals(), (10, 1, 9));
    assert!(q.balanced());
    assert_eq!(
        rejections(&q),
        vec![
            (2, RejectReason::BadCoordinate),
            (3, RejectReason::BadCoordinate),
            (4, RejectReason::OutOfRange),
            (5, RejectReason::MissingField),
            (6, RejectReason::UnknownCategory),
            (7, RejectReason::MalformedCode),
            (8, RejectReason::Unparsable),
            (9, RejectReason::DuplicateId),
            (10, RejectReason::MissingCoordinate),
        ]
    );
    let text = q.to_string();
    assert!(text.contains("bad.csv"), "{text}");
}

#[test]
fn csv_without_geometry_columns_is_a_clear_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "nogeo.csv", "code,x_coord\n1,2\n");
    let e = read_records(&p).err().unwrap().to_string();
    assert!(
        e.contains("nogeo.csv") && e.contains("no geometry columns"),
        "{e}"
    );
}

#[test]
fn wkt_csv_and_bad_wkt() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "areas.csv",
        "code,name,wkt\n\
         31010100100101,a,\"POLYGON((121 31,121.001 31,121.001 31.001,121 31.001,121 31))\"\n\
         31010100100102,bowtie,\"POLYGON((121 31,121.001 31.001,121.001 31,121 31.001,121 31))\"\n\
         31010100100103,broken,\"POLYGON((121 31,121.001\"\n\
         31010100100104,line,\"LINESTRING(121 31,121.001 31)\"\n\
         3101010010010,short,\"POLYGON((121 31,121.001 31,121.001 31.001,121 31.001,121 31))\"\n",
    );
    let loader = Loader::new(&t.rule, &t.table);
    let mut q = QualityReport::new();
    let areas = loader.areas("areas.csv", read_records(&p).unwrap(), &mut q);
    assert_eq!(areas.len(), 1);
    assert_eq!(
        rejections(&q),
        vec![
            (2, RejectReason::InvalidGeometry),
            (3, RejectReason::InvalidGeometry),
            (4, RejectReason::WrongGeometryType),
            (5, RejectReason::MalformedCode),
        ]
    );
}

#[test]
fn area_code_must_extend_its_parent() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let square = "POLYGON((121 31,121.001 31,121.001 31.001,121 31.001,121 31))";
    let p = write(
        dir.path(),
        "grids.csv",
        &format!("code,parent,wkt\n31010100100101,310101001001,\"{square}\"\n31010100100102,310101001002,\"{square}\"\n"),
    );
    let loader = Loader::new(&t.rule, &t.table);
    let mut q = QualityReport::new();
    let areas = loader.areas("grids.csv", read_records(&p).unwrap(), &mut q);
    assert_eq!(areas.len(), 1);
    assert_eq!(
        rejections(&q),
        vec![(2, RejectReason::CodeNotExtendingParent)]
    );
}

#[test]
fn malformed_geojson_features_are_rejected_one_by_one() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c.geojson",
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[121.4,31.2]},"properties":{"code":"3101010101000001"}},
        {"type":"Feature","geometry":{"type":"Pointy","coordinates":[121.4,31.2]},"properties":{"code":"3101010101000002"}},
        {"type":"Feature","geometry":null,"properties":{"code":"3101010101000003"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[500,31.2]},"properties":{"code":"3101010101000004"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[121.4,31.2],[121.5,31.2]]},"properties":{"code":"3101010101000005"}}
        ]}"#,
    );
    let (loaded, q) = load_components(&t, &p, LonLatSystem::Wgs84);
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        rejections(&q),
        vec![
            (2, RejectReason::Unparsable),
            (3, RejectReason::MissingCoordinate),
            (4, RejectReason::OutOfRange),
            (5, RejectReason::WrongGeometryType),
        ]
    );
}

#[test]
fn short_positions_open_rings_and_empty_polygons_are_rejected_not_panics() {
    // issue 14: `[[24.9]]` in a line or a polygon panicked inside geojson's
    // conversion; an open ring was closed silently; an empty polygon loaded
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "g.geojson",
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[24.9,60.1],[24.95,60.1],[24.95,60.15],[24.9,60.1]]]},"properties":{"code":"a"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[24.9],[24.95,60.1]]},"properties":{"code":"b"}},
        {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[24.9,60.1],[24.95],[24.95,60.15],[24.9,60.1]]]},"properties":{"code":"c"}},
        {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[24.9,60.1],[24.95,60.1],[24.95,60.15],[24.91,60.12]]]},"properties":{"code":"d"}},
        {"type":"Feature","geometry":{"type":"Polygon","coordinates":[]},"properties":{"code":"e"}},
        {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[24.9,60.1],[24.95,60.1],[24.9,60.1]]]]},"properties":{"code":"f"}}
        ]}"#,
    );
    let records: Vec<_> = read_records(&p).unwrap().collect();
    assert_eq!(records.len(), 6, "every feature is accounted for");
    assert!(records[0].is_ok());
    for (i, r) in records.iter().enumerate().skip(1) {
        let e = r
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("feature {} loaded", i + 1));
        assert_eq!(e.record, i as u64 + 1);
        assert_eq!(e.reason, RejectReason::InvalidGeometry, "{e:?}");
    }
    let why = |i: usize| records[i].as_ref().err().unwrap().detail.clone();
    assert!(why(1).contains("two coordinates"), "{}", why(1));
    assert!(why(3).contains("not closed"), "{}", why(3));
    assert!(why(4).contains("without rings"), "{}", why(4));
    assert!(why(5).contains("four"), "{}", why(5));
}

#[test]
fn broken_files_are_errors_naming_the_file_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let json = write(
        dir.path(),
        "broken.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[",
    );
    let fgb = write(dir.path(), "broken.fgb", "not a flatgeobuf at all");
    let parquet = write(dir.path(), "broken.parquet", "PAR1 truncated");
    for p in [json, fgb, parquet] {
        let e = read_records(&p).err().expect("an error").to_string();
        assert!(e.contains(&p.display().to_string()), "{e}");
    }
    // a truncated real file
    let t = data();
    let full = dir.path().join("full.fgb");
    write_table(&full, &component_table(&sample_city(&t))).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let cut = dir.path().join("cut.fgb");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    let r = read_records(&cut);
    assert!(r.is_err() || r.unwrap().any(|x| x.is_err()));
}

#[test]
fn foreign_crs_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "merc.geojson",
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}"#,
    );
    assert!(matches!(read_records(&p), Err(IoError::ForeignCrs { .. })));
    let ok = write(
        dir.path(),
        "wgs.geojson",
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[]}"#,
    );
    assert!(read_records(&ok).is_ok());
}

#[test]
fn gcj02_input_converts_to_wgs84_on_an_explicit_flag() {
    let t = data();
    let truth = [(121.4737, 31.2304), (121.5, 31.25)];
    let mut text = String::from("code,lon,lat\n");
    for (i, (lon, lat)) in truth.iter().enumerate() {
        let (g, h) = wgs84_to_gcj02(*lon, *lat);
        text.push_str(&format!("310101010100000{},{g},{h}\n", i + 1));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "gcj.csv", &text);
    let (as_is, _) = load_components(&t, &p, LonLatSystem::Wgs84);
    let (converted, _) = load_components(&t, &p, LonLatSystem::Gcj02);
    for (i, (lon, lat)) in truth.iter().enumerate() {
        let c = converted[i].location;
        assert!(haversine_m(*lon, *lat, c.x(), c.y()) < 1.0);
        let raw = as_is[i].location;
        assert!(
            haversine_m(*lon, *lat, raw.x(), raw.y()) > 100.0,
            "GCJ-02 offset is hundreds of metres"
        );
    }
}

#[test]
fn foreign_crs_in_flatgeobuf_and_geoparquet_is_a_clear_error() {
    use flatgeobuf::{FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
    let dir = tempfile::tempdir().unwrap();
    // FlatGeobuf in EPSG:3857
    let opts = FgbWriterOptions {
        crs: FgbCrs {
            code: 3857,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options("m", GeometryType::Point, opts).unwrap();
    fgb.add_feature_geom(
        geo::Geometry::Point(Point::new(13_500_000.0, 3_660_000.0)),
        |_| {},
    )
    .unwrap();
    let p = dir.path().join("merc.fgb");
    fgb.write(std::fs::File::create(&p).unwrap()).unwrap();
    let e = read_records(&p).err().unwrap();
    assert!(
        matches!(&e, IoError::ForeignCrs { crs, .. } if crs.contains("3857")),
        "{e}"
    );

    // GeoParquet whose `geo` metadata names EPSG:3857
    use std::sync::Arc;
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "geometry",
        arrow_schema::DataType::Binary,
        true,
    )]));
    let geo_meta = r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[],"crs":{"name":"WGS 84 / Pseudo-Mercator","id":{"authority":"EPSG","code":3857}}}}}"#;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "geo".into(),
            geo_meta.to_string(),
        )]))
        .build();
    let p = dir.path().join("merc.parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&p).unwrap(),
        schema.clone(),
        Some(props),
    )
    .unwrap();
    let col: arrow_array::ArrayRef = Arc::new(arrow_array::BinaryArray::from(vec![None::<&[u8]>]));
    w.write(&arrow_array::RecordBatch::try_new(schema, vec![col]).unwrap())
        .unwrap();
    w.close().unwrap();
    let e = read_records(&p).err().unwrap();
    assert!(
        matches!(&e, IoError::ForeignCrs { crs, .. } if crs.contains("3857")),
        "{e}"
    );
}

#[cfg(feature = "gdal")]
#[test]
fn gdal_reads_a_geopackage_and_reprojects_to_wgs84() {
    use gdal::spatial_ref::SpatialRef;
    use gdal::vector::{FieldValue, LayerAccess, LayerOptions, OGRFieldType};
    use gdal::DriverManager;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grids.gpkg");
    {
        let mut ds = DriverManager::get_driver_by_name("GPKG")
            .unwrap()
            .create_vector_only(&path)
            .unwrap();
        let srs = SpatialRef::from_epsg(3857).unwrap();
        let layer = ds
            .create_layer(LayerOptions {
                name: "components",
                srs: Some(&srs),
                ty: gdal::vector::OGRwkbGeometryType::wkbPoint,
                options: None,
            })
            .unwrap();
        layer
            .create_defn_fields(&[("code", OGRFieldType::OFTString)])
            .unwrap();
        // Web Mercator of lon 121.4737, lat 31.2304
        let g = gdal::vector::Geometry::from_wkt("POINT (13522390.4288 3662707.2571)").unwrap();
        let mut feature = gdal::vector::Feature::new(layer.defn()).unwrap();
        feature.set_geometry(g).unwrap();
        feature
            .set_field(0, &FieldValue::StringValue("3101010101000001".into()))
            .unwrap();
        feature.create(&layer).unwrap();
    }
    let t = data();
    let (loaded, q) = load_components(&t, &path, LonLatSystem::Wgs84);
    assert_eq!(q.totals(), (1, 1, 0), "{q}");
    let p = loaded[0].location;
    assert!(haversine_m(121.4737, 31.2304, p.x(), p.y()) < 1.0, "{p:?}");
}

/// A real DEM shipped in a Debian package (r-cran-terra's `ex/elev.tif`, Luxembourg,
/// 95 × 90 cells); `.ci/test` extracts it and sets GRIDTWIN_ELEV_TIF.
#[cfg(feature = "gdal")]
#[test]
fn a_real_geotiff_dem_floods_with_volume_conserved_and_water_at_rest() {
    let path = std::env::var("GRIDTWIN_ELEV_TIF").expect(
        "GRIDTWIN_ELEV_TIF must name terra's elev.tif (.ci/test extracts it from r-cran-terra)",
    );
    let dem = gridtwin_io::read_dem(std::path::Path::new(&path)).unwrap();
    assert_eq!((dem.cols(), dem.rows()), (95, 90));
    let z = dem.elevations();
    assert!(
        z.iter().any(|v| v.is_nan()),
        "Luxembourg's outline leaves no-data cells"
    );
    let area = gridtwin_core::flood_impact::lon_lat_cell_area_m2(&dem);
    let n = dem.cols() * dem.rows();
    for rain in [0.05, 1.0, 20.0] {
        let f = gridtwin_core::flood::fill_spill_merge(&dem, &vec![rain; n], area);
        assert!(
            (f.stored_m3 + f.outflow_m3 - f.rain_m3).abs() <= 1e-9 * f.rain_m3,
            "{f:?}"
        );
        // at rest: no wet cell stands above a neighbour's surface
        for i in 0..n {
            if f.depth[i] < 1e-9 || z[i].is_nan() {
                continue;
            }
            let s = z[i] + f.depth[i];
            for k in dem.neighbours(i) {
                if !z[k].is_nan() {
                    assert!(z[k] + f.depth[k] >= s - 1e-9, "rain {rain}: {i} above {k}");
                }
            }
        }
    }
}

/// A GeoTIFF in UTM (EPSG:32617) is read in its own system (issue 15): projected,
/// cells of cell² m², the city's lon/lat projected onto it.
#[cfg(feature = "gdal")]
#[test]
fn a_utm_geotiff_is_read_in_its_own_system() {
    use gdal::raster::Buffer;
    use gdal::spatial_ref::SpatialRef;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("utm.tif");
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type::<f64, _>(&path, 4, 3, 1)
            .unwrap();
        ds.set_geo_transform(&[209_000.0, 30.0, 0.0, 4_055_600.0, 0.0, -30.0])
            .unwrap();
        ds.set_spatial_ref(&SpatialRef::from_epsg(32617).unwrap())
            .unwrap();
        let mut band = ds.rasterband(1).unwrap();
        let mut buf = Buffer::new(
            (4, 3),
            vec![5.0, 5.0, 5.0, 5.0, 5.0, 1.0, 2.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        );
        band.write((0, 0), (4, 3), &mut buf).unwrap();
    }
    let placed = gridtwin_io::read_placed_dem(&path, None).unwrap();
    assert!(placed.is_projected(), "{}", placed.crs.name);
    assert_eq!(placed.crs.name, "EPSG:32617");
    assert_eq!(placed.cell_area_m2, 900.0);
    assert_eq!((placed.dem.cols(), placed.dem.rows()), (4, 3));
    // a point of the raster, given in lon/lat, lands in its cell
    let (lon, lat) = placed.crs.to_lon_lat(209_045.0, 4_055_555.0).unwrap();
    let (x, y) = placed.to_dem(lon, lat).unwrap();
    assert_eq!(placed.dem.cell_at(x, y), Some((1, 1)));
}

/// Issue 14: a FlatGeobuf cut at a feature boundary loaded as complete; a feature
/// length near 4 GB reserved that much; a corrupt property string length panicked in
/// the decoder. Each is now an error or a rejection naming the place.
#[test]
fn corrupt_flatgeobuf_files_are_errors_or_rejections_never_panics_or_huge_allocations() {
    use gridtwin_io::record::{FieldType, Table, Value};
    let dir = tempfile::tempdir().unwrap();
    let mut t = Table::new(&[("name", FieldType::Text)]);
    for (i, name) in ["first-aaaa", "second-bbbb", "third-cccc"]
        .iter()
        .enumerate()
    {
        t.push(
            Some(geo::Geometry::Point(Point::new(
                24.9 + i as f64 * 0.01,
                60.1,
            ))),
            vec![Value::Text(name.to_string())],
        );
    }
    let full = dir.path().join("full.fgb");
    write_table(&full, &t).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    assert_eq!(
        read_records(&full).unwrap().filter(|r| r.is_ok()).count(),
        3
    );
    // where the features start: after the magic, the header and its length
    let header = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let mut starts = vec![12 + header];
    while let Some(&s) = starts.last() {
        let size = u32::from_le_bytes(bytes[s..s + 4].try_into().unwrap()) as usize;
        if s + 4 + size >= bytes.len() {
            break;
        }
        starts.push(s + 4 + size);
    }
    assert_eq!(starts.len(), 3);
    // cut at the boundary before the third feature: the header still declares three
    let cut = dir.path().join("cut.fgb");
    std::fs::write(&cut, &bytes[..starts[2]]).unwrap();
    let e = read_records(&cut).err().expect("an error").to_string();
    assert!(
        e.contains("declares 3 features") && e.contains("holds 2"),
        "{e}"
    );
    // the second feature's length claims almost 4 GB
    let mut huge = bytes.clone();
    huge[starts[1]..starts[1] + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let p = dir.path().join("huge.fgb");
    std::fs::write(&p, &huge).unwrap();
    let e = read_records(&p).err().expect("an error").to_string();
    assert!(e.contains("feature 2 claims"), "{e}");
    // the second feature's string length corrupted: that record is rejected
    let mut bad = bytes.clone();
    let at = bad
        .windows(11)
        .position(|w| w == b"second-bbbb")
        .expect("the string is in the file");
    bad[at - 4..at].copy_from_slice(&0x7FFF_0000u32.to_le_bytes());
    let p = dir.path().join("badprop.fgb");
    std::fs::write(&p, &bad).unwrap();
    match read_records(&p) {
        Err(e) => assert!(e.to_string().contains("badprop.fgb"), "{e}"),
        Ok(records) => {
            let records: Vec<_> = records.collect();
            assert_eq!(records.len(), 3, "every feature accounted for");
            let e = records[1].as_ref().expect_err("feature 2 is rejected");
            assert_eq!(e.record, 2);
            assert!(records[0].is_ok() && records[2].is_ok());
        }
    }
}

/// Issue 14: corrupt Parquet metadata panicked in the decoder. Every single-byte
/// corruption of a real file's footer is an error naming the file, or loads — never
/// a panic.
#[test]
fn a_parquet_footer_corrupted_byte_by_byte_never_panics() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.parquet");
    write_table(&full, &component_table(&sample_city(&t))).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let p = dir.path().join("bad.parquet");
    let (mut errors, mut loaded) = (0, 0);
    for at in (n - 8 - footer..n - 8).step_by(3) {
        for flip in [0xFFu8, 0x80] {
            let mut b = bytes.clone();
            b[at] ^= flip;
            std::fs::write(&p, &b).unwrap();
            match read_records(&p) {
                Err(e) => {
                    assert!(e.to_string().contains("bad.parquet"), "{e}");
                    errors += 1;
                }
                Ok(records) => {
                    let _ = records.count();
                    loaded += 1;
                }
            }
        }
    }
    assert!(errors > 10, "{errors} errors, {loaded} loaded");
}

/// Issue 14: `duplicate_id` was checked only within one file; a code loaded from a
/// first file and again from a second is a duplicate too.
#[test]
fn a_duplicate_across_files_is_rejected() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.csv",
        "code,lon,lat\n3101010101000001,121.4,31.2\n3101010101000002,121.4,31.2\n",
    );
    let b = write(
        dir.path(),
        "b.csv",
        "code,lon,lat\n3101010101000003,121.4,31.2\n3101010101000001,121.5,31.3\n",
    );
    let loader = Loader::new(&t.rule, &t.table);
    let mut q = QualityReport::new();
    let first = loader.components("a.csv", read_records(&a).unwrap(), &mut q);
    let second = loader.components("b.csv", read_records(&b).unwrap(), &mut q);
    assert_eq!((first.len(), second.len()), (2, 1));
    assert_eq!(rejections(&q), vec![(2, RejectReason::DuplicateId)]);
}

/// Issue 14: `streets = [100000, 100000]` cut 10^10 rectangles before any check.
#[test]
fn an_osm_city_plan_with_absurd_street_counts_is_refused_before_cutting() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/helsinki/city.toml"),
    )
    .unwrap()
    .replace("streets = [2, 2]", "streets = [100000, 100000]");
    let p = write(dir.path(), "city.toml", &text);
    let e = gridtwin_io::city_dir::OsmImportConfig::load(&p).unwrap_err();
    assert!(e.contains("`streets`") && e.contains("at most"), "{e}");
}

/// Writes `tests/gpkg/gdal_wards.gpkg` with GDAL (run once by hand:
/// `GRIDTWIN_WRITE_GPKG_FIXTURE=1 cargo test -p gridtwin-io --features gdal --test readers
/// write_gdal_gpkg_fixture`): the default build's own GeoPackage reader is then tested
/// on a file an independent writer made.
#[cfg(feature = "gdal")]
#[test]
fn write_gdal_gpkg_fixture() {
    if std::env::var("GRIDTWIN_WRITE_GPKG_FIXTURE").is_err() {
        return;
    }
    use gdal::spatial_ref::SpatialRef;
    use gdal::vector::{FieldValue, LayerAccess, LayerOptions, OGRFieldType};
    use gdal::DriverManager;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/gpkg/gdal_wards.gpkg");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let mut ds = DriverManager::get_driver_by_name("GPKG")
        .unwrap()
        .create_vector_only(&path)
        .unwrap();
    let srs = SpatialRef::from_epsg(32635).unwrap();
    let layer = ds
        .create_layer(LayerOptions {
            name: "wards",
            srs: Some(&srs),
            ty: gdal::vector::OGRwkbGeometryType::wkbMultiPolygon,
            options: None,
        })
        .unwrap();
    layer
        .create_defn_fields(&[
            ("GEOCODE", OGRFieldType::OFTString),
            ("pop", OGRFieldType::OFTInteger),
        ])
        .unwrap();
    // two squares of 1 km in UTM 35N (Helsinki), a hole in the second
    for (i, (x, y)) in [(385_000.0, 6_670_000.0), (386_000.0, 6_670_000.0)]
        .iter()
        .enumerate()
    {
        let hole = if i == 1 {
            format!(
                ", ({} {}, {} {}, {} {}, {} {}, {} {})",
                x + 400.0,
                y + 400.0,
                x + 600.0,
                y + 400.0,
                x + 600.0,
                y + 600.0,
                x + 400.0,
                y + 600.0,
                x + 400.0,
                y + 400.0
            )
        } else {
            String::new()
        };
        let wkt = format!(
            "MULTIPOLYGON ((({x} {y}, {} {y}, {} {}, {x} {}, {x} {y}){hole}))",
            x + 1000.0,
            x + 1000.0,
            y + 1000.0,
            y + 1000.0
        );
        let g = gdal::vector::Geometry::from_wkt(&wkt).unwrap();
        let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
        f.set_geometry(g).unwrap();
        f.set_field(
            0,
            &FieldValue::StringValue(format!("99010100100{:03}", i + 1)),
        )
        .unwrap();
        f.set_field(1, &FieldValue::IntegerValue(1000 * (i as i32 + 1)))
            .unwrap();
        f.create(&layer).unwrap();
    }
}

/// A GeoPackage GDAL wrote (`tests/gpkg/gdal_wards.gpkg`, see `write_gdal_gpkg_fixture`:
/// two 1 km squares in UTM 35N, the second with a hole) read by the default build's own
/// reader: its metadata tables, GDAL's geometry blobs (with envelopes) and its system.
#[cfg(not(feature = "gdal"))]
#[test]
fn a_geopackage_written_by_gdal_reads_in_the_default_build() {
    use geo::{Area, BoundingRect};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/gpkg/gdal_wards.gpkg");
    let recs: Vec<_> = gridtwin_io::read_records(&path).unwrap().collect();
    assert_eq!(recs.len(), 2);
    let utm = gridtwin_io::dem_crs::Crs::parse("EPSG:32635").unwrap();
    for (i, r) in recs.iter().enumerate() {
        let r = r.as_ref().unwrap();
        let code = r.fields.iter().find(|f| f.0 == "GEOCODE").unwrap();
        assert_eq!(
            code.1,
            gridtwin_io::Value::Text(format!("99010100100{:03}", i + 1))
        );
        let g = r.geometry.as_ref().unwrap();
        // the first corner, as GDAL stored it in metres, comes back in lon/lat
        let first = geo::CoordsIter::coords_iter(g).next().unwrap();
        let (lon, lat) = utm
            .to_lon_lat(385_000.0 + 1000.0 * i as f64, 6_670_000.0)
            .unwrap();
        assert!(
            (first.x - lon).abs() < 1e-9 && (first.y - lat).abs() < 1e-9,
            "{first:?}"
        );
        assert!(g.bounding_rect().unwrap().width() < 0.02);
        // in lon/lat now: a square km in square degrees at 60°N; the hole takes 4 %
        // of the second
        let a = g.unsigned_area();
        let want = if i == 0 { 1.0 } else { 0.96 };
        let km2 = 1e6 / (111_320.0 * 111_320.0 * 60.155f64.to_radians().cos());
        assert!((a / km2 - want).abs() < 0.02, "{a} vs {km2}");
    }
}
