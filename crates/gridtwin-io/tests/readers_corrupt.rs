//! Broken and corrupt files (issue 14): an error naming the file, or a rejection
//! naming the place — never a panic or a huge allocation.

mod common;
use common::{data, sample_city, write};

use geo::Point;
use gridtwin_io::city_dir::component_table;
use gridtwin_io::{read_records, write_table};

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
