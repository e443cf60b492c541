//! Loading records into the model: good records round-trip through every format;
//! codes are checked against their parents and for duplicates across files; a city
//! plan is checked before it is cut.

mod common;
use common::{data, load_components, rejections, sample_city, write};

use std::path::Path;

use geo::Point;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::{City, QualityReport, RejectReason};
use gridtwin_io::city_dir::{component_table, incident_table};
use gridtwin_io::{read_records, write_table, Loader};

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
    let e = gridtwin_io::city_dir::OsmImportConfig::load(&p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`streets`") && e.contains("at most"), "{e}");
}

/// Issue 19: an area layer's polygons are checked side by side, a chunk of 1,024
/// records at a time, and everything else in file order: over 3,000 grids, with
/// trouble planted at the chunks' edges, each record ends as it would one at a time
/// (the code's problem before the polygon's, a duplicate after a repair) and each
/// repair is logged under its own record.
#[test]
fn areas_checked_in_parallel_chunks_keep_file_order_and_reasons() {
    let t = data();
    let dir = tempfile::tempdir().unwrap();
    let square = |i: usize| {
        let (x, y) = (
            121.0 + (i % 60) as f64 * 0.001,
            31.0 + (i / 60) as f64 * 0.001,
        );
        format!(
            "POLYGON(({x} {y},{a} {y},{a} {b},{x} {b},{x} {y}))",
            a = x + 0.001,
            b = y + 0.001
        )
    };
    let bow_tie = "POLYGON((121 31,121.001 31.001,121.001 31,121 31.001,121 31))";
    let code = |i: usize| format!("310101001{:03}{:02}", 1 + i / 90, 1 + i % 90);
    let mut text = String::from("code,wkt\n");
    for n in 1..=3000usize {
        let row = match n {
            1024 | 2049 => format!("{},\"{bow_tie}\"", code(n)),
            1025 => format!("{},\"{}\"", code(1), square(n)),
            1500 => format!(",\"{bow_tie}\""),
            2048 => format!("31010100x,\"{bow_tie}\""),
            2050 => format!("{},", code(n)),
            _ => format!("{},\"{}\"", code(n), square(n)),
        };
        text.push_str(&row);
        text.push('\n');
    }
    let p = write(dir.path(), "grids.csv", &text);
    for make_valid in [false, true] {
        let mut loader = Loader::new(&t.rule, &t.table);
        loader.make_valid = make_valid;
        let mut q = QualityReport::new();
        let areas = loader.areas("grids.csv", read_records(&p).unwrap(), &mut q);
        let mut expected = vec![
            (1025, RejectReason::DuplicateId),
            (1500, RejectReason::MissingField),
            (2048, RejectReason::MalformedCode),
            (2050, RejectReason::MissingCoordinate),
        ];
        if !make_valid {
            expected.extend([
                (1024, RejectReason::InvalidGeometry),
                (2049, RejectReason::InvalidGeometry),
            ]);
            expected.sort();
        }
        assert_eq!(rejections(&q), expected, "make_valid {make_valid}");
        assert_eq!(areas.len() + expected.len(), 3000);
        // in file order, each with its own code
        let codes: Vec<String> = areas.iter().map(|a| a.code.to_string()).collect();
        let want: Vec<String> = (1..=3000usize)
            .filter(|n| !expected.iter().any(|(r, _)| *r == *n as u64))
            .map(code)
            .collect();
        assert_eq!(codes, want);
        let repairs: Vec<(u64, String)> = loader
            .repairs
            .borrow()
            .iter()
            .map(|r| (r.record, r.id.clone()))
            .collect();
        if make_valid {
            assert_eq!(repairs, vec![(1024, code(1024)), (2049, code(2049))]);
        } else {
            assert!(repairs.is_empty());
        }
    }
}
