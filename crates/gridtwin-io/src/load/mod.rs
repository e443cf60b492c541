//! Loading records into the city model, validating each: every record ends loaded or
//! rejected with its file, record number and reason in the [`QualityReport`].

mod areas;
mod built;
mod code_set;
mod columnar;
mod components;
mod geometry;
mod incidents;

use std::cell::RefCell;
use std::collections::HashSet;

use geo::Point;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::{
    CategoryTable, CodeRule, ComponentStatus, QualityReport, RejectReason, Rejection,
};

use crate::record::Record;

pub use incidents::{format_time, parse_time};

/// Turns records into model objects under one code rule and category table.
pub struct Loader<'a> {
    pub rule: &'a CodeRule,
    pub table: &'a CategoryTable,
    /// The system input lon/lat are in; converted to WGS-84 on load.
    pub coords: LonLatSystem,
    /// The coordinate system the geometries are in, where not WGS-84 lon/lat (a
    /// projected layer: `--crs EPSG:NNNN` or its `.prj`): reprojected on load.
    pub source_crs: Option<std::sync::Arc<crate::dem_crs::Crs>>,
    /// Default building height in metres when neither height nor levels are given.
    pub default_height_m: f64,
    pub metres_per_level: f64,
    /// Speeds by road class, for roads that carry a class and no speed.
    pub road_speeds: Option<&'a crate::osm::RoadSpeeds>,
    /// The areas' code and name fields, where not `code` and `name` (a boundary layer's
    /// own: `GEOCODE`, `N03_007`, …).
    pub code_field: Option<String>,
    pub name_field: Option<String>,
    /// Repair invalid polygons (self-intersections, bow-ties) instead of rejecting them;
    /// each repair is logged in `repairs`.
    pub make_valid: bool,
    pub repairs: RefCell<Vec<Repair>>,
    /// The repair of the record being read (problem, area given, area after), logged
    /// with its id once the record loads.
    pending_repair: RefCell<Option<geometry::PendingRepair>>,
    /// Codes and ids loaded so far, over every file this loader reads (a duplicate
    /// in a second file is as much a duplicate as one in the first).
    seen: RefCell<Seen>,
    /// Components read without a code, coded once the areas are known.
    uncoded: RefCell<Vec<UncodedComponent>>,
    /// Department names read so far, each stored once and shared by its components.
    departments: RefCell<rustc_hash::FxHashMap<Box<str>, std::sync::Arc<str>>>,
}

/// A component read without a code: its class and place, coded later.
struct UncodedComponent {
    file: String,
    record: u64,
    key: gridtwin_core::CategoryKey,
    location: Point<f64>,
    department: std::sync::Arc<str>,
    status: ComponentStatus,
    source_id: gridtwin_core::SmolStr,
}

#[derive(Default)]
struct Seen {
    /// (bitmaps of code runs: 12 M codes in a hash set were most of the ordered pass
    /// of a megacity's load)
    components: code_set::CodeSet,
    incidents: HashSet<String>,
    areas: HashSet<gridtwin_core::AreaCode>,
}

type Check<T> = Result<T, (RejectReason, String)>;

/// A polygon repaired on load (`make_valid`): where, what was wrong, and the area as
/// given (the shoelace area of the rings as drawn: a bow-tie's halves cancel) and after.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Repair {
    pub file: String,
    pub record: u64,
    pub id: String,
    pub problem: String,
    pub area_given_m2: f64,
    pub area_repaired_m2: f64,
}

fn required(r: &Record, names: &[&str]) -> Check<String> {
    r.text(names).ok_or((
        RejectReason::MissingField,
        format!("`{}` is missing or empty", names[0]),
    ))
}

impl<'a> Loader<'a> {
    pub fn new(rule: &'a CodeRule, table: &'a CategoryTable) -> Self {
        Loader {
            rule,
            table,
            coords: LonLatSystem::Wgs84,
            source_crs: None,
            default_height_m: 9.0,
            metres_per_level: 3.0,
            road_speeds: None,
            code_field: None,
            name_field: None,
            make_valid: false,
            repairs: RefCell::default(),
            pending_repair: RefCell::default(),
            seen: RefCell::default(),
            uncoded: RefCell::default(),
            departments: RefCell::default(),
        }
    }

    /// The shared text of department `name` (one allocation per department, not per
    /// component).
    pub(crate) fn department(&self, name: &str) -> std::sync::Arc<str> {
        let mut known = self.departments.borrow_mut();
        if let Some(d) = known.get(name) {
            return d.clone();
        }
        let d: std::sync::Arc<str> = name.into();
        known.insert(name.into(), d.clone());
        d
    }

    fn run<T>(
        &self,
        layer: &str,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
        mut convert: impl FnMut(&Record) -> Check<T>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for rec in records {
            match rec {
                Err(rejection) => quality.rejected(layer, rejection),
                Ok(r) => match convert(&r) {
                    Ok(t) => {
                        quality.loaded(file, layer);
                        out.push(t);
                    }
                    Err((reason, detail)) => {
                        quality.rejected(layer, Rejection::new(file, r.number, reason, detail))
                    }
                },
            }
        }
        out
    }
}

/// A positive finite number, optionally followed by a unit `m` (`"12"`, `"12.5 m"`).
pub fn parse_measure(s: &str) -> Option<f64> {
    let t = s.trim().trim_end_matches('m').trim();
    t.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0)
}
