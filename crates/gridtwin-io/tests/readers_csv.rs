//! The CSV reader on malformed input: each bad row rejected with its record number and
//! reason, a file without geometry columns a clear error; WKT columns; GCJ-02 input.

mod common;
use common::{data, load_components, rejections, write};

use gridtwin_core::coord::{haversine_m, wgs84_to_gcj02, LonLatSystem};
use gridtwin_core::{QualityReport, RejectReason};
use gridtwin_io::{read_records, Loader};

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
