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

mod columnar_assign {
    //! Issue 19: a GeoParquet input assigned to CSV or GeoParquet takes the columnar
    //! path (batch/columns.rs); any other output takes the record path. The record
    //! path is the oracle: over thousands of seeded random rows (text with commas,
    //! quotes, blanks and nulls, every column type the reader takes, points in every
    //! WKB encoding, broken and wrong geometries, points outside every grid and out of
    //! range, known and unknown categories) both give the same rows, values and
    //! rejections.

    use std::path::Path;
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BinaryArray, BooleanArray, Float64Array, Int16Array, Int64Array, RecordBatch,
        StringArray, TimestampMillisecondArray,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use geo::{polygon, MultiPolygon};
    use gridtwin_core::assign::Assigner;
    use gridtwin_core::locate::LocatorOptions;
    use gridtwin_core::{Area, Level};
    use gridtwin_io::batch::{assign_file, AssignOptions, AssignReport};
    use gridtwin_io::read_records;
    use gridtwin_io::record::Value;

    use super::common::data;

    /// splitmix64: a seeded stream without a dependency.
    pub(super) struct Draw(pub(super) u64);
    impl Draw {
        pub(super) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        pub(super) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn wkb(little: bool, kind: u32, extra: &[u8], coords: &[f64]) -> Vec<u8> {
        let mut b = vec![little as u8];
        let put32 = |b: &mut Vec<u8>, v: u32| {
            b.extend(if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            })
        };
        put32(&mut b, kind);
        b.extend(extra);
        for c in coords {
            b.extend(if little {
                c.to_le_bytes()
            } else {
                c.to_be_bytes()
            });
        }
        b
    }

    /// A geometry cell: mostly points near the 2×2 grids, and every kind of trouble.
    pub(super) fn geometry(d: &mut Draw) -> Option<Vec<u8>> {
        let (x, y) = (120.995 + d.unit() * 0.03, 30.995 + d.unit() * 0.03);
        let little = d.below(2) == 0;
        Some(match d.below(16) {
            0 => return None,
            1 => wkb(little, 1001, &[], &[x, y, 4.0]),
            2 => wkb(little, 0x8000_0001, &[], &[x, y, 4.0]),
            3 => wkb(little, 0x2000_0001, &4326u32.to_le_bytes(), &[x, y]),
            4 => {
                let mut b = wkb(little, 4, &[], &[]);
                let n = 1 + d.below(2) as u32;
                b.extend(if little {
                    n.to_le_bytes()
                } else {
                    n.to_be_bytes()
                });
                for _ in 0..n {
                    b.extend(wkb(little, 1, &[], &[x, y]));
                }
                b
            }
            5 => {
                let mut b = wkb(little, 2, &[], &[]);
                b.extend(if little {
                    2u32.to_le_bytes()
                } else {
                    2u32.to_be_bytes()
                });
                for c in [x, y, x + 0.001, y] {
                    b.extend(if little {
                        c.to_le_bytes()
                    } else {
                        c.to_be_bytes()
                    });
                }
                b
            }
            6 => wkb(little, 1, &[], &[x])[..=d.below(13) as usize].to_vec(),
            7 => wkb(little, 1, &[], &[f64::NAN, f64::NAN]),
            8 => wkb(little, 1, &[], &[500.0, y]),
            9 => vec![7, 1, 2],
            _ => wkb(little, 1, &[], &[x, y]),
        })
    }

    fn text(d: &mut Draw) -> Option<String> {
        const TEXT: [&str; 9] = [
            "a",
            " b ",
            "c,d",
            "e\"f",
            "",
            "  ",
            "line\nbreak",
            "名",
            "0.5",
        ];
        match d.below(10) {
            9 => None,
            i => Some(TEXT[i as usize].to_string()),
        }
    }

    fn category(d: &mut Draw) -> Option<String> {
        const CATEGORY: [&str; 5] = [
            "Water supply manhole cover",
            "0101",
            " 0102 ",
            "no such thing",
            "",
        ];
        match d.below(12) {
            11 => None,
            i => Some(CATEGORY[(i % 5) as usize].to_string()),
        }
    }

    /// A GeoParquet file of `rows` random rows, the geometry column at a random place;
    /// `lonlat`: no geometry, Float64 lon/lat columns instead.
    fn random_file(path: &Path, seed: u64, rows: usize, lonlat: bool) {
        let mut d = Draw(seed);
        let mut cols: Vec<(Field, ArrayRef)> = vec![
            (
                Field::new("id", DataType::Utf8, true),
                Arc::new((0..rows).map(|_| text(&mut d)).collect::<StringArray>()),
            ),
            (
                Field::new("category", DataType::Utf8, true),
                Arc::new((0..rows).map(|_| category(&mut d)).collect::<StringArray>()),
            ),
            (
                Field::new("n", DataType::Int64, true),
                Arc::new(
                    (0..rows)
                        .map(|_| (d.below(8) > 0).then(|| d.next() as i64))
                        .collect::<Int64Array>(),
                ),
            ),
            (
                Field::new("v", DataType::Float64, true),
                Arc::new(
                    (0..rows)
                        .map(|_| match d.below(8) {
                            0 => None,
                            1 => Some(f64::NAN),
                            2 => Some(-0.0),
                            3 => Some(1e21),
                            4 => Some(f64::INFINITY),
                            _ => Some(d.unit() * 1000.0 - 500.0),
                        })
                        .collect::<Float64Array>(),
                ),
            ),
            (
                Field::new("flag", DataType::Boolean, true),
                Arc::new(
                    (0..rows)
                        .map(|_| (d.below(5) > 0).then(|| d.below(2) == 0))
                        .collect::<BooleanArray>(),
                ),
            ),
            (
                Field::new("small", DataType::Int16, true),
                Arc::new(
                    (0..rows)
                        .map(|_| (d.below(5) > 0).then(|| d.next() as i16))
                        .collect::<Int16Array>(),
                ),
            ),
            (
                Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), true),
                Arc::new(
                    (0..rows)
                        .map(|_| (d.below(5) > 0).then(|| d.below(4_000_000_000_000) as i64))
                        .collect::<TimestampMillisecondArray>(),
                ),
            ),
        ];
        let mut meta_geo = None;
        if lonlat {
            for name in ["lon", "lat"] {
                let base = if name == "lon" { 120.995 } else { 30.995 };
                let values: Float64Array = (0..rows)
                    .map(|_| match d.below(20) {
                        0 => None,
                        1 => Some(f64::NAN),
                        2 => Some(-500.0),
                        _ => Some(base + d.unit() * 0.03),
                    })
                    .collect();
                let at = d.below(cols.len() as u64 + 1) as usize;
                cols.insert(
                    at,
                    (Field::new(name, DataType::Float64, true), Arc::new(values)),
                );
            }
        } else {
            let values: Vec<Option<Vec<u8>>> = (0..rows).map(|_| geometry(&mut d)).collect();
            let array: BinaryArray = values.iter().map(|v| v.as_deref()).collect();
            let at = d.below(cols.len() as u64 + 1) as usize;
            cols.insert(
                at,
                (
                    Field::new("geometry", DataType::Binary, true),
                    Arc::new(array),
                ),
            );
            meta_geo = Some(
                r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#.to_string(),
            );
        }
        let schema = Arc::new(Schema::new(
            cols.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())
                .unwrap();
        let f = std::fs::File::create(path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        if let Some(geo) = meta_geo {
            w.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                "geo".to_string(),
                geo,
            ));
        }
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn assigner() -> Assigner {
        let t = data();
        let sq = |x: f64, y: f64| {
            MultiPolygon(vec![
                polygon![(x: x, y: y), (x: x + 0.01, y: y), (x: x + 0.01, y: y + 0.01), (x: x, y: y + 0.01)],
            ])
        };
        let areas: Vec<Area> = [
            ("31010100100101", 121.0, 31.01),
            ("31010100100102", 121.01, 31.01),
            ("31010100100103", 121.0, 31.0),
            ("31010100100104", 121.01, 31.0),
        ]
        .iter()
        .map(|&(code, x, y)| {
            Area::made_grid(t.rule.parse_area(Level::Grid, code).unwrap(), sq(x, y))
        })
        .collect();
        Assigner::new(&areas, &t.rule, LocatorOptions::default())
    }

    fn run(a: &Assigner, input: &Path, out: &Path) -> (AssignReport, Vec<u8>) {
        let t = data();
        let rejected = out.with_extension("rejected.csv");
        let opts = AssignOptions {
            nearest_m: Some(300.0),
            ..AssignOptions::default()
        };
        let r = assign_file(a, Some(&t.table), input, out, &rejected, &opts, &|_| {}).unwrap();
        (r, std::fs::read(rejected).unwrap())
    }

    /// The rows of the columnar CSV output and of the record path's GeoJSON output as
    /// (fields as text, point); distances compared to the millimetre.
    fn same_rows(csv: &Path, geojson: &Path) {
        let mut r = csv::Reader::from_path(csv).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        let features: Vec<_> = read_records(geojson).unwrap().map(|x| x.unwrap()).collect();
        assert_eq!(rows.len(), features.len());
        for (row, f) in rows.iter().zip(&features) {
            let p = match f.geometry {
                Some(geo::Geometry::Point(p)) => p,
                ref g => panic!("{g:?}"),
            };
            for (name, cell) in header.iter().zip(row.iter()) {
                match name.as_str() {
                    "lon" => assert_eq!(cell.parse::<f64>().unwrap(), p.x()),
                    "lat" => assert_eq!(cell.parse::<f64>().unwrap(), p.y()),
                    _ => {
                        let value = f
                            .fields
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                            .unwrap_or(Value::Null);
                        if name == "distance_m" {
                            let (a, b) = (cell.parse::<f64>().ok(), value.as_f64().unwrap());
                            assert!(
                                a.zip(b).map_or(a == b, |(a, b)| (a - b).abs() < 1.5e-3),
                                "{a:?} {b:?}"
                            );
                        } else {
                            assert_eq!(cell, value.as_text().unwrap_or_default(), "{name}");
                        }
                    }
                }
            }
        }
    }

    /// The rows of the columnar GeoParquet output and of the record path's GeoJSON
    /// output: every field's value and every point the same.
    fn same_records(parquet: &Path, geojson: &Path) {
        let ours: Vec<_> = read_records(parquet).unwrap().map(|x| x.unwrap()).collect();
        let theirs: Vec<_> = read_records(geojson).unwrap().map(|x| x.unwrap()).collect();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a.geometry, b.geometry);
            let names: std::collections::BTreeSet<&String> =
                a.fields.iter().chain(&b.fields).map(|(k, _)| k).collect();
            for name in names {
                let value = |r: &gridtwin_io::record::Record| {
                    r.fields
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null)
                };
                let (x, y) = (value(a), value(b));
                if name == "distance_m" {
                    assert!(matches!(x, Value::Float(_) | Value::Null), "{x:?}");
                    assert_eq!(x.as_f64(), y.as_f64(), "{name}");
                } else {
                    assert_eq!(x.as_text(), y.as_text(), "{name}");
                }
            }
        }
    }

    /// The two rejected-row files, line for line (the first difference shown).
    fn same_lines(fast: &[u8], slow: &[u8], seed: u64) {
        let (a, b) = (String::from_utf8_lossy(fast), String::from_utf8_lossy(slow));
        for (x, y) in a.lines().zip(b.lines()) {
            assert_eq!(x, y, "seed {seed}");
        }
        assert_eq!(a.lines().count(), b.lines().count(), "seed {seed}");
    }

    #[test]
    fn the_columnar_path_gives_the_record_paths_rows_and_rejections() {
        let a = assigner();
        let dir = tempfile::tempdir().unwrap();
        let mut rejected = 0;
        for seed in 0..120u64 {
            let input = dir.path().join("p.parquet");
            random_file(&input, seed, 60, seed % 4 == 3);
            let (fast, fast_rej) = run(&a, &input, &dir.path().join("o.csv"));
            let (slow, slow_rej) = run(&a, &input, &dir.path().join("o.geojson"));
            same_lines(&fast_rej, &slow_rej, seed);
            let strip = |r: AssignReport| AssignReport {
                output: String::new(),
                rejected_file: String::new(),
                ..r
            };
            let (columns, columns_rej) = run(&a, &input, &dir.path().join("o.parquet"));
            same_lines(&columns_rej, &slow_rej, seed);
            rejected += fast.rejected;
            assert_eq!(strip(fast), strip(slow.clone()), "seed {seed}");
            assert_eq!(strip(columns), strip(slow), "seed {seed}");
            same_rows(&dir.path().join("o.csv"), &dir.path().join("o.geojson"));
            same_records(&dir.path().join("o.parquet"), &dir.path().join("o.geojson"));
        }
        // the draws reach every kind of row
        assert!(rejected > 1000, "{rejected}");
    }

    #[test]
    fn many_batches_and_slices_keep_their_order_and_numbers() {
        // 70,000 rows: two record batches (65,536) and several slices of 8,192
        let a = assigner();
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("p.parquet");
        random_file(&input, 7, 70_000, false);
        let (fast, fast_rej) = run(&a, &input, &dir.path().join("o.csv"));
        let (slow, slow_rej) = run(&a, &input, &dir.path().join("o.geojson"));
        same_lines(&fast_rej, &slow_rej, 7);
        assert_eq!(fast.rows, 70_000);
        assert_eq!(fast.assigned, slow.assigned);
        same_rows(&dir.path().join("o.csv"), &dir.path().join("o.geojson"));
        let (columns, columns_rej) = run(&a, &input, &dir.path().join("o.parquet"));
        same_lines(&columns_rej, &slow_rej, 7);
        assert_eq!(columns.assigned, slow.assigned);
        same_records(&dir.path().join("o.parquet"), &dir.path().join("o.geojson"));
    }
}

mod columnar_components {
    //! Issue 19: a GeoParquet component layer loads columnar
    //! (`Loader::components_parquet`). The record path (`Loader::components` on the
    //! file's records) is the oracle: over seeded random layers with duplicate,
    //! malformed and missing codes, unknown classes, bad statuses, broken geometries,
    //! `department`/`owner`/`Code` columns present or not, a code column of numbers or
    //! of string views, text columns as dictionaries,
    //! both give the same components and the same quality report, example for example.

    use std::path::Path;
    use std::sync::Arc;

    use arrow_array::{Array, ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use gridtwin_core::{Component, QualityReport, RejectReason};
    use gridtwin_io::{read_records, Loader};

    use super::columnar_assign::{geometry, Draw};
    use super::common::data;

    const GEO: &str = r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#;

    fn write(path: &Path, cols: Vec<(&str, ArrayRef)>) {
        let schema = Arc::new(Schema::new(
            cols.iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())
                .unwrap();
        let f = std::fs::File::create(path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
            "geo".to_string(),
            GEO.to_string(),
        ));
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn random_layer(path: &Path, seed: u64, rows: usize) {
        let t = data();
        let mut d = Draw(seed);
        let district = t
            .rule
            .parse_area(gridtwin_core::Level::District, "310101")
            .unwrap();
        let classes = [(1, 1), (1, 7), (4, 1), (99, 99)];
        let code = |d: &mut Draw| -> Option<String> {
            match d.below(14) {
                0 => None,
                1 => Some(" ".into()),
                2 => Some("31010x".into()),
                _ => {
                    let (maj, min) = classes[d.below(4) as usize];
                    let serial = 1 + d.below(40);
                    t.rule
                        .component_code(&district, maj, min, serial)
                        .ok()
                        .map(|c| {
                            if serial.is_multiple_of(3) {
                                c.value().to_string()
                            } else {
                                format!(" {} ", c.value())
                            }
                        })
                }
            }
        };
        let pick = |d: &mut Draw, of: &[&str]| -> Option<String> {
            let i = d.below(of.len() as u64 + 1) as usize;
            of.get(i).map(|s| s.to_string())
        };
        let codes: Vec<Option<String>> = (0..rows).map(|_| code(&mut d)).collect();
        let mut cols: Vec<(&str, ArrayRef)> = Vec::new();
        let name = if seed % 5 == 1 { "Code" } else { "code" };
        if seed % 7 == 3 {
            // a code column of numbers: the record path's text of them
            let n: Int64Array = codes
                .iter()
                .map(|c| c.as_ref().and_then(|c| c.trim().parse::<i64>().ok()))
                .collect();
            cols.push((name, Arc::new(n)));
        } else if seed % 4 == 1 {
            // string views, as Polars writes them
            cols.push((
                name,
                Arc::new(
                    codes
                        .iter()
                        .cloned()
                        .collect::<arrow_array::StringViewArray>(),
                ),
            ));
        } else {
            cols.push((
                name,
                Arc::new(codes.iter().cloned().collect::<StringArray>()),
            ));
        }
        let category: StringArray = (0..rows)
            .map(|_| pick(&mut d, &["0101", "Water supply manhole cover", "nope", ""]))
            .collect();
        // text columns stored as dictionaries (pandas' categoricals: Int8 keys, and
        // large-string values as pyarrow writes them), in a third of the layers
        let text = |a: StringArray| -> ArrayRef {
            if seed.is_multiple_of(3) {
                let d: arrow_array::DictionaryArray<arrow_array::types::Int8Type> =
                    a.iter().collect();
                assert_eq!(
                    d.data_type(),
                    &DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
                );
                if seed.is_multiple_of(2) {
                    let values: arrow_array::LargeStringArray = d
                        .values()
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .unwrap()
                        .iter()
                        .collect();
                    let large =
                        arrow_array::DictionaryArray::try_new(d.keys().clone(), Arc::new(values))
                            .unwrap();
                    return Arc::new(large);
                }
                Arc::new(d)
            } else {
                Arc::new(a)
            }
        };
        cols.push(("category", text(category)));
        if !seed.is_multiple_of(3) {
            let dept: StringArray = (0..rows)
                .map(|_| pick(&mut d, &["Dept A", " Dept B ", ""]))
                .collect();
            cols.push(("department", Arc::new(dept)));
        }
        if seed.is_multiple_of(4) {
            let owner: StringArray = (0..rows).map(|_| pick(&mut d, &["Owner X", ""])).collect();
            cols.push(("owner", Arc::new(owner)));
        }
        let status: StringArray = (0..rows)
            .map(|_| {
                pick(
                    &mut d,
                    &["in_service", "damaged", "broken", "", "in_service"],
                )
            })
            .collect();
        cols.push(("status", text(status)));
        if seed.is_multiple_of(2) {
            let ids: StringArray = (0..rows)
                .map(|i| (i % 9 != 0).then(|| format!("s{i}")))
                .collect();
            cols.push(("source_id", Arc::new(ids)));
        }
        let g: Vec<Option<Vec<u8>>> = (0..rows).map(|_| geometry(&mut d)).collect();
        let at = d.below(cols.len() as u64 + 1) as usize;
        cols.insert(
            at,
            (
                "geometry",
                Arc::new(g.iter().map(|v| v.as_deref()).collect::<BinaryArray>()),
            ),
        );
        write(path, cols);
    }

    fn both(
        path: &Path,
    ) -> (
        (Vec<Component>, QualityReport),
        (Vec<Component>, QualityReport),
    ) {
        let t = data();
        let file = path.display().to_string();
        let fast = {
            let loader = Loader::new(&t.rule, &t.table);
            let mut q = QualityReport::new();
            let mut c = loader.components_parquet(path, &mut q).unwrap();
            c.extend(loader.code_uncoded(&[], &c, &mut q));
            (c, q)
        };
        let slow = {
            let loader = Loader::new(&t.rule, &t.table);
            let mut q = QualityReport::new();
            let mut c = loader.components(&file, read_records(path).unwrap(), &mut q);
            c.extend(loader.code_uncoded(&[], &c, &mut q));
            (c, q)
        };
        (fast, slow)
    }

    #[test]
    fn the_columnar_load_gives_the_record_paths_components_and_report() {
        let dir = tempfile::tempdir().unwrap();
        let (mut loaded, mut rejected) = (0, 0);
        for seed in 0..150u64 {
            let path = dir.path().join("components.parquet");
            random_layer(&path, seed, 80);
            let (fast, slow) = both(&path);
            assert_eq!(fast.0, slow.0, "seed {seed}");
            assert_eq!(fast.1, slow.1, "seed {seed}");
            loaded += fast.0.len();
            rejected += fast.1.files.values().map(|f| f.rejected).sum::<u64>();
        }
        // the draws reach both sides
        assert!(loaded > 2000 && rejected > 4000, "{loaded} {rejected}");
    }

    #[test]
    fn record_numbers_and_duplicates_hold_across_batches() {
        // 70,000 rows: two record batches of 65,536, duplicates across them
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("components.parquet");
        random_layer(&path, 11, 70_000);
        let (fast, slow) = both(&path);
        assert_eq!(fast.0, slow.0);
        assert_eq!(fast.1, slow.1);
    }

    #[test]
    fn bad_rows_planted_in_a_parquet_city_are_each_reported() {
        // the Helsinki demo city with its components as GeoParquet, five bad rows
        // planted among them: the city loads the good ones, the report names the rest
        let t = data();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/helsinki/city");
        let dir = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap() != "components.csv" {
                std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
            }
        }
        let (good, _) = super::common::load_components(
            &t,
            &src.join("components.csv"),
            gridtwin_core::coord::LonLatSystem::Wgs84,
        );
        assert!(good.len() > 1000);
        let point = |x: f64, y: f64| {
            let mut b = vec![1u8];
            b.extend(1u32.to_le_bytes());
            b.extend(x.to_le_bytes());
            b.extend(y.to_le_bytes());
            b
        };
        let mut rows: Vec<(String, String, Option<Vec<u8>>)> = good
            .iter()
            .map(|c| {
                (
                    c.code.value().to_string(),
                    c.status.name().to_string(),
                    Some(point(c.location.x(), c.location.y())),
                )
            })
            .collect();
        let c0 = rows[0].clone();
        // unused codes of a known class
        let fresh = |k: u64| {
            let c = good[0].code;
            t.rule
                .component_code(&c.district(&t.rule), c.major(), c.minor(), 9_000 + k)
                .unwrap()
                .value()
                .to_string()
        };
        let planted = [
            (
                10,
                (c0.0.clone(), "in_service".into(), c0.2.clone()),
                RejectReason::DuplicateId,
            ),
            (
                20,
                ("31x".into(), "in_service".into(), c0.2.clone()),
                RejectReason::MalformedCode,
            ),
            (
                30,
                (fresh(1), "in_service".into(), None),
                RejectReason::MissingCoordinate,
            ),
            (
                40,
                (fresh(2), "in_service".into(), Some(point(500.0, 60.0))),
                RejectReason::OutOfRange,
            ),
            (
                50,
                (fresh(3), "melted".into(), c0.2.clone()),
                RejectReason::BadValue,
            ),
        ];
        for (at, row, _) in &planted {
            rows.insert(*at, row.clone());
        }
        write(
            &dir.path().join("components.parquet"),
            vec![
                (
                    "code",
                    Arc::new(
                        rows.iter()
                            .map(|r| Some(r.0.clone()))
                            .collect::<StringArray>(),
                    ),
                ),
                (
                    "status",
                    Arc::new(
                        rows.iter()
                            .map(|r| Some(r.1.clone()))
                            .collect::<StringArray>(),
                    ),
                ),
                (
                    "geometry",
                    Arc::new(rows.iter().map(|r| r.2.as_deref()).collect::<BinaryArray>()),
                ),
            ],
        );
        let (city, _, q) = gridtwin_io::city_dir::load_city(dir.path()).unwrap();
        assert_eq!(city.components.len(), good.len());
        for c in &good {
            assert!(city
                .components
                .iter()
                .any(|d| d.code == c.code && d.location == c.location));
        }
        let file = q.files.values().find(|f| f.layer == "components").unwrap();
        assert_eq!(file.rejected, 5);
        assert_eq!(file.read, rows.len() as u64);
        let got = super::common::rejections(&q);
        let mut want: Vec<(u64, RejectReason)> = planted
            .iter()
            .map(|(at, _, reason)| (*at as u64 + 1, *reason))
            .collect();
        want.sort();
        assert_eq!(got, want);
    }
}
