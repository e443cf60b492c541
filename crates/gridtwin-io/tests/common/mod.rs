//! What the reader tests share: the repository's data tables, a sample city, loading
//! components from a file, the rejections of a quality report, writing a fixture file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use geo::Point;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::{City, Component, QualityReport, RejectReason};
use gridtwin_io::city_dir::DataTables;
use gridtwin_io::{read_records, Loader};

pub fn data() -> DataTables {
    DataTables::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")).unwrap()
}

pub fn sample_city(t: &DataTables) -> City {
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
            department: format!("Dept {i}").into(),
            status: gridtwin_core::ComponentStatus::InService,
            source_id: format!("s{i}").into(),
        });
    }
    city
}

pub fn load_components(
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

pub fn rejections(q: &QualityReport) -> Vec<(u64, RejectReason)> {
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

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
