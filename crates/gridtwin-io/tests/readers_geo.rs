//! The geometry formats (GeoJSON, FlatGeobuf, GeoParquet) on malformed input: bad
//! features rejected one by one, never a panic; a foreign coordinate system a clear
//! error.

mod common;
use common::{data, load_components, rejections, write};

use geo::Point;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::RejectReason;
use gridtwin_io::{read_records, IoError};

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
