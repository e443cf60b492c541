//! Loading records into the city model, validating each: every record ends loaded or
//! rejected with its file, record number and reason in the [`QualityReport`].

use std::cell::RefCell;
use std::collections::HashSet;
use std::str::FromStr;

use geo::{Coord, CoordsIter, Geometry, LineString, MapCoords, MultiPolygon, Point};
use gridtwin_core::coord::{check_lon_lat, LonLatProblem, LonLatSystem};
use gridtwin_core::{
    Area, Building, CaseStep, CaseTimeline, CategoryKind, CategoryTable, CodeRule, Component,
    ComponentStatus, HeightSource, Incident, IntakeSource, Level, QualityReport, RejectReason,
    Rejection, Road, SpeedSource,
};

use crate::csv_io::{LAT_NAMES, LON_NAMES};
use crate::record::{Record, Value};

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
    pending_repair: RefCell<Option<(String, f64, f64)>>,
    /// Codes and ids loaded so far, over every file this loader reads (a duplicate
    /// in a second file is as much a duplicate as one in the first).
    seen: RefCell<Seen>,
    /// Components read without a code, coded once the areas are known.
    uncoded: RefCell<Vec<UncodedComponent>>,
}

/// A component read without a code: its class and place, coded later.
struct UncodedComponent {
    file: String,
    record: u64,
    key: gridtwin_core::CategoryKey,
    location: Point<f64>,
    department: String,
    status: ComponentStatus,
    source_id: String,
}

#[derive(Default)]
struct Seen {
    components: HashSet<u64>,
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

/// The area of lon/lat polygons in m² (a local frame at their centre).
fn area_m2(mp: &MultiPolygon<f64>) -> f64 {
    use geo::{Area as _, BoundingRect};
    let Some(b) = mp.bounding_rect() else {
        return 0.0;
    };
    let frame = gridtwin_core::frame::LocalFrame::new(b.center().x, b.center().y);
    let local = mp.map_coords(|c| {
        let (x, y) = frame.to_local(c.x, c.y);
        Coord { x, y }
    });
    local.0.iter().map(|p| p.signed_area().abs()).sum()
}

fn required(r: &Record, names: &[&str]) -> Check<String> {
    r.text(names).ok_or((
        RejectReason::MissingField,
        format!("`{}` is missing or empty", names[0]),
    ))
}

/// Parses a time: Unix seconds, RFC 3339 (`2025-03-01T08:30:00+08:00`), or a civil
/// date-time without offset (`2025-03-01 08:30:00`), taken as UTC.
pub fn parse_time(v: &Value) -> Result<i64, String> {
    if let Value::Int(i) = v {
        return Ok(*i);
    }
    let s = v.as_text().ok_or("empty time")?;
    if let Ok(i) = s.parse::<i64>() {
        return Ok(i);
    }
    if let Ok(t) = jiff::Timestamp::from_str(&s) {
        return Ok(t.as_second());
    }
    jiff::civil::DateTime::from_str(&s)
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_second())
        .ok_or_else(|| {
            format!("`{s}` is not a time (RFC 3339, `YYYY-MM-DD HH:MM:SS` or Unix seconds)")
        })
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn format_time(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.to_string())
        .unwrap_or_else(|_| t.to_string())
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
        }
    }

    /// Converts to WGS-84 and checks every coordinate of a geometry.
    fn geometry(&self, g: Geometry<f64>) -> Check<Geometry<f64>> {
        let g = match self.source_crs.as_deref().filter(|c| !c.is_lon_lat()) {
            Some(crs) => {
                for c in g.coords_iter() {
                    if !(c.x.is_finite() && c.y.is_finite()) {
                        return Err((
                            RejectReason::BadCoordinate,
                            format!("coordinate ({}, {}) is not finite", c.x, c.y),
                        ));
                    }
                }
                // (every point checked first: map_coords takes no failure)
                if let Some(c) = g.coords_iter().find(|c| crs.to_lon_lat(c.x, c.y).is_none()) {
                    return Err((
                        RejectReason::BadCoordinate,
                        format!("({}, {}) cannot be reprojected from {}", c.x, c.y, crs.name),
                    ));
                }
                g.map_coords(|c| {
                    let (x, y) = crs.to_lon_lat(c.x, c.y).unwrap_or((f64::NAN, f64::NAN));
                    Coord { x, y }
                })
            }
            None => g,
        };
        for c in g.coords_iter() {
            check_coord(c.x, c.y)?;
        }
        if self.coords == LonLatSystem::Wgs84 {
            return Ok(g);
        }
        Ok(g.map_coords(|c| {
            let (x, y) = self.coords.to_wgs84(c.x, c.y);
            Coord { x, y }
        }))
    }

    fn point(&self, r: &Record) -> Check<Point<f64>> {
        let g = match &r.geometry {
            Some(g) => g.clone(),
            None => {
                let lon = r.text(&LON_NAMES);
                let lat = r.text(&LAT_NAMES);
                let (Some(lon), Some(lat)) = (lon, lat) else {
                    return Err((
                        RejectReason::MissingCoordinate,
                        "no geometry and no lon/lat".into(),
                    ));
                };
                let num = |s: &str, what: &str| {
                    s.parse::<f64>().map_err(|_| {
                        (
                            RejectReason::BadCoordinate,
                            format!("{what} `{s}` is not a number"),
                        )
                    })
                };
                Geometry::Point(Point::new(num(&lon, "lon")?, num(&lat, "lat")?))
            }
        };
        match self.geometry(g)? {
            Geometry::Point(p) => Ok(p),
            Geometry::MultiPoint(mp) if mp.0.len() == 1 => Ok(mp.0[0]),
            other => Err((
                RejectReason::WrongGeometryType,
                format!("expected a point, found {}", kind(&other)),
            )),
        }
    }

    fn polygons(&self, r: &Record) -> Check<MultiPolygon<f64>> {
        self.pending_repair.replace(None);
        let g = r
            .geometry
            .clone()
            .ok_or((RejectReason::MissingCoordinate, "no geometry".to_string()))?;
        let mp = match self.geometry(g)? {
            Geometry::Polygon(p) => MultiPolygon(vec![p]),
            Geometry::MultiPolygon(mp) => mp,
            Geometry::Rect(r) => MultiPolygon(vec![r.to_polygon()]),
            other => {
                return Err((
                    RejectReason::WrongGeometryType,
                    format!("expected a polygon, found {}", kind(&other)),
                ))
            }
        };
        // OGC's rules as GEOS applies them: geo's validation plus rings of no area and
        // interiors split by touching rings (two areas under one code)
        if let Err(e) = gridtwin_core::validity::check_area(&mp) {
            if self.make_valid {
                if let Some(fixed) = gridtwin_core::validity::make_valid(&mp) {
                    self.pending_repair.replace(Some((
                        e.to_string(),
                        area_m2(&mp),
                        area_m2(&fixed),
                    )));
                    return Ok(fixed);
                }
                return Err((
                    RejectReason::InvalidGeometry,
                    format!("{e} (and --make-valid could not repair it)"),
                ));
            }
            return Err((RejectReason::InvalidGeometry, e.to_string()));
        }
        Ok(mp)
    }

    fn line(&self, r: &Record) -> Check<LineString<f64>> {
        let g = r
            .geometry
            .clone()
            .ok_or((RejectReason::MissingCoordinate, "no geometry".to_string()))?;
        match self.geometry(g)? {
            Geometry::LineString(l) if l.0.len() >= 2 => Ok(l),
            Geometry::MultiLineString(m) if m.0.len() == 1 && m.0[0].0.len() >= 2 => {
                Ok(m.0[0].clone())
            }
            Geometry::LineString(_) => Err((
                RejectReason::InvalidGeometry,
                "a line needs two points".into(),
            )),
            other => Err((
                RejectReason::WrongGeometryType,
                format!("expected a line, found {}", kind(&other)),
            )),
        }
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

    /// Loads components: `code` (16 digits by the national rule), optional
    /// `department` (default: the category's) and `status`, and a point.
    pub fn components(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Component> {
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.components;
        let mut uncoded = self.uncoded.borrow_mut();
        let rows = self.run("components", file, records, quality, |r| {
            let Some(text) = r.text(&["code"]) else {
                // No code: coded later, as the OSM import codes its own, once the
                // district of its place is known (`code_uncoded`).
                let Some(cat) = r.text(&["category", "class"]) else {
                    return Err((
                        RejectReason::MissingField,
                        "`code` is missing or empty, and there is no `category` to code it by"
                            .into(),
                    ));
                };
                let category = self
                    .table
                    .find(CategoryKind::Component, &cat)
                    .ok_or_else(|| {
                        (
                            RejectReason::UnknownCategory,
                            format!("component category `{cat}` is not in the category table"),
                        )
                    })?;
                let status = match r.text(&["status"]) {
                    None => ComponentStatus::InService,
                    Some(s) => s.parse().map_err(|e: gridtwin_core::ParseEnumError| {
                        (RejectReason::BadValue, e.to_string())
                    })?,
                };
                let location = self.point(r)?;
                uncoded.push(UncodedComponent {
                    file: file.to_string(),
                    record: r.number,
                    key: category.key,
                    location,
                    department: r
                        .text(&["department", "owner"])
                        .unwrap_or_else(|| category.department.clone()),
                    status,
                    source_id: r
                        .text(&["source_id", "id"])
                        .unwrap_or_else(|| format!("{file}:{}", r.number)),
                });
                return Ok(None);
            };
            let code = self
                .rule
                .parse_component(&text)
                .map_err(|e| (RejectReason::MalformedCode, e.to_string()))?;
            let component = Component {
                code,
                location: Point::new(0.0, 0.0),
                department: String::new(),
                status: ComponentStatus::InService,
                source_id: r.text(&["source_id"]).unwrap_or_default(),
            };
            let category = self.table.get(&component.category()).ok_or_else(|| {
                (
                    RejectReason::UnknownCategory,
                    format!(
                        "component class {:02}{:02} of `{text}` is not in the category table",
                        code.major(),
                        code.minor()
                    ),
                )
            })?;
            let status = match r.text(&["status"]) {
                None => ComponentStatus::InService,
                Some(s) => s.parse().map_err(|e: gridtwin_core::ParseEnumError| {
                    (RejectReason::BadValue, e.to_string())
                })?,
            };
            let location = self.point(r)?;
            if !seen.insert(code.value()) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("code `{text}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            Ok(Some(Component {
                location,
                department: r
                    .text(&["department", "owner"])
                    .unwrap_or_else(|| category.department.clone()),
                status,
                ..component
            }))
        });
        rows.into_iter().flatten().collect()
    }

    /// Codes the components read without a code (see [`Loader::components`]) as the
    /// OSM import does: district of their place + class + serial, the serials going on
    /// from the highest already used for that district and class, in read order. A
    /// component in no district's grids is rejected (it was counted loaded; it is
    /// counted again as rejected, not twice).
    pub fn code_uncoded(
        &self,
        areas: &[Area],
        coded: &[Component],
        quality: &mut QualityReport,
    ) -> Vec<Component> {
        use geo::{BoundingRect, Contains};
        let pending = std::mem::take(&mut *self.uncoded.borrow_mut());
        if pending.is_empty() {
            return Vec::new();
        }
        // the deepest areas hold the point most tightly; any level names its district
        let mut by_depth: Vec<&Area> = areas.iter().collect();
        by_depth.sort_by_key(|a| std::cmp::Reverse(a.level()));
        let boxes: Vec<_> = by_depth
            .iter()
            .map(|a| a.boundary.bounding_rect())
            .collect();
        let mut next: std::collections::HashMap<(u64, gridtwin_core::CategoryKey), u64> =
            std::collections::HashMap::new();
        for c in coded {
            let k = (c.code.district(self.rule).value(), c.category());
            let e = next.entry(k).or_insert(0);
            *e = (*e).max(c.code.serial());
        }
        let mut out = Vec::new();
        for u in pending {
            let p = u.location;
            let district = by_depth
                .iter()
                .zip(&boxes)
                .filter(|(_, b)| {
                    b.is_some_and(|r| {
                        r.min().x <= p.x()
                            && p.x() <= r.max().x
                            && r.min().y <= p.y()
                            && p.y() <= r.max().y
                    })
                })
                .find(|(a, _)| a.level() >= Level::District && a.boundary.contains(&p))
                .and_then(|(a, _)| a.code.ancestor(self.rule, Level::District));
            let coded = district.ok_or_else(|| {
                "it has no code and lies in no district's area, so no code can be made".to_string()
            });
            let result = coded.and_then(|d| {
                let s = next.entry((d.value(), u.key)).or_insert(0);
                *s += 1;
                self.rule
                    .component_code(&d, u.key.major, u.key.minor, *s)
                    .map_err(|e| e.to_string())
            });
            match result {
                Ok(code) => out.push(Component {
                    code,
                    location: u.location,
                    department: u.department,
                    status: u.status,
                    source_id: u.source_id,
                }),
                Err(detail) => {
                    quality.retract_loaded(&u.file, "components");
                    quality.rejected(
                        "components",
                        Rejection::new(&u.file, u.record, RejectReason::MalformedCode, detail),
                    );
                }
            }
        }
        out
    }

    /// Loads incidents: `id`, `category` (class code such as `0501`, or its name),
    /// `time`, `source` (patrol/hotline/sensor), a point, and optional step times
    /// (`verified_at` … `closed_at`).
    pub fn incidents(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Incident> {
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.incidents;
        self.run("incidents", file, records, quality, |r| {
            let id = required(r, &["id"])?;
            let cat = required(r, &["category"])?;
            let category = self
                .table
                .find(CategoryKind::Event, &cat)
                .ok_or_else(|| {
                    (
                        RejectReason::UnknownCategory,
                        format!("event category `{cat}` is not in the category table"),
                    )
                })?
                .key;
            let time_v = r.get("time").ok_or((
                RejectReason::MissingField,
                "`time` is missing or empty".to_string(),
            ))?;
            let time =
                parse_time(time_v).map_err(|e| (RejectReason::BadValue, format!("time: {e}")))?;
            let source: IntakeSource =
                required(r, &["source"])?
                    .parse()
                    .map_err(|e: gridtwin_core::ParseEnumError| {
                        (RejectReason::BadValue, e.to_string())
                    })?;
            let mut timeline = CaseTimeline::default();
            let mut any = false;
            for step in CaseStep::ALL {
                if let Some(v) = r.get(step.column()) {
                    let t = parse_time(v)
                        .map_err(|e| (RejectReason::BadValue, format!("{}: {e}", step.column())))?;
                    timeline.steps[step as usize] = Some(t);
                    any = true;
                }
            }
            if any {
                timeline
                    .check(time)
                    .map_err(|e| (RejectReason::BadValue, e))?;
            }
            let location = self.point(r)?;
            if !seen.insert(id.clone()) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("id `{id}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            Ok(Incident {
                id,
                category,
                location,
                time,
                source,
                timeline: any.then_some(timeline),
            })
        })
    }

    /// Loads areas of any level: `code` (level told by its length, or by `level`),
    /// optional `name` and `parent` (which the code must extend), and a polygon.
    pub fn areas(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Area> {
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.areas;
        let code_field = self.code_field.as_deref().unwrap_or("code");
        let name_field = self.name_field.as_deref().unwrap_or("name");
        self.run("areas", file, records, quality, |r| {
            let text = required(r, &[code_field])?;
            let code = match r.text(&["level"]) {
                Some(l) => {
                    let level: Level = l.parse().map_err(|e: gridtwin_core::code::CodeError| {
                        (RejectReason::BadValue, e.to_string())
                    })?;
                    self.rule.parse_area(level, &text)
                }
                None => self.rule.parse_area_any(&text),
            }
            .map_err(|e| (RejectReason::MalformedCode, e.to_string()))?;
            if let Some(parent) = r.text(&["parent"]) {
                let p = self
                    .rule
                    .parse_area_any(&parent)
                    .map_err(|e| (RejectReason::MalformedCode, format!("parent: {e}")))?;
                if !code.extends(&p) || code.parent(self.rule) != Some(p) {
                    return Err((
                        RejectReason::CodeNotExtendingParent,
                        format!("code `{code}` does not extend its parent's code `{p}`"),
                    ));
                }
            }
            let boundary = self.polygons(r)?;
            if !seen.insert(code) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("code `{code}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            if let Some((problem, given, fixed)) = self.pending_repair.take() {
                self.repairs.borrow_mut().push(Repair {
                    file: file.to_string(),
                    record: r.number,
                    id: code.to_string(),
                    problem,
                    area_given_m2: given,
                    area_repaired_m2: fixed,
                });
            }
            Ok(Area {
                code,
                name: r.text(&[name_field]).unwrap_or_default(),
                source_id: r.text(&["source_id"]).unwrap_or_default(),
                boundary,
            })
        })
    }

    /// Reads areas that carry their own ids instead of codes, for numbering
    /// (`--autocode`): the id field (`--code-field`, else `id` or `code`, else the
    /// record number), the name, the parent field's value if `parent_field` is given,
    /// and the polygon. Nothing is counted as loaded here: the records count once they
    /// are placed (or are rejected) by [`gridtwin_core::autocode::autocode`].
    pub fn source_areas(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        parent_field: Option<&str>,
        quality: &mut QualityReport,
    ) -> Vec<gridtwin_core::autocode::SourceArea> {
        let id_fields: Vec<&str> = match self.code_field.as_deref() {
            Some(f) => vec![f],
            None => vec!["id", "code"],
        };
        let name_field = self.name_field.as_deref().unwrap_or("name");
        let mut out = Vec::new();
        for rec in records {
            let r = match rec {
                Ok(r) => r,
                Err(rejection) => {
                    quality.rejected("areas", rejection);
                    continue;
                }
            };
            let read = (|| {
                let source_id = match r.text(&id_fields) {
                    Some(id) => id,
                    None if self.code_field.is_some() => required(&r, &id_fields)?,
                    None => r.number.to_string(),
                };
                let parent_ref = match parent_field {
                    Some(f) => Some(required(&r, &[f])?),
                    None => None,
                };
                let boundary = self.polygons(&r)?;
                if let Some((problem, given, fixed)) = self.pending_repair.take() {
                    self.repairs.borrow_mut().push(Repair {
                        file: file.to_string(),
                        record: r.number,
                        id: source_id.clone(),
                        problem,
                        area_given_m2: given,
                        area_repaired_m2: fixed,
                    });
                }
                Ok(gridtwin_core::autocode::SourceArea {
                    source_id,
                    name: r.text(&[name_field]).unwrap_or_default(),
                    parent_ref,
                    boundary,
                    file: file.to_string(),
                    record: r.number,
                })
            })();
            match read {
                Ok(a) => out.push(a),
                Err((reason, detail)) => {
                    quality.rejected("areas", Rejection::new(file, r.number, reason, detail))
                }
            }
        }
        out
    }

    /// Loads buildings: optional `id`, `height` (m) or `levels`, and a polygon.
    pub fn buildings(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Building> {
        self.run("buildings", file, records, quality, |r| {
            let footprint = self.polygons(r)?;
            if let Some((problem, given, fixed)) = self.pending_repair.take() {
                self.repairs.borrow_mut().push(Repair {
                    file: file.to_string(),
                    record: r.number,
                    id: r.text(&["id"]).unwrap_or_default(),
                    problem,
                    area_given_m2: given,
                    area_repaired_m2: fixed,
                });
            }
            let (height_m, mut height_source) = self.height(
                r.text(&["height", "height_m"]).as_deref(),
                r.text(&["levels", "building:levels"]).as_deref(),
            )?;
            // A city directory records where each height came from; keep it.
            height_source = match r.text(&["height_source"]).as_deref() {
                Some("levels") => HeightSource::Levels,
                Some("default") => HeightSource::Default,
                _ => height_source,
            };
            Ok(Building {
                id: r
                    .text(&["id"])
                    .unwrap_or_else(|| format!("{file}#{}", r.number)),
                footprint,
                height_m,
                height_source,
            })
        })
    }

    /// Height from a `height` value, else `levels` × metres per level, else the default.
    pub fn height(&self, height: Option<&str>, levels: Option<&str>) -> Check<(f64, HeightSource)> {
        if let Some(h) = height {
            let v = parse_measure(h).ok_or((
                RejectReason::BadValue,
                format!("height `{h}` is not a length in metres"),
            ))?;
            return Ok((v, HeightSource::Tagged));
        }
        if let Some(l) = levels {
            let v = parse_measure(l).ok_or((
                RejectReason::BadValue,
                format!("levels `{l}` is not a number"),
            ))?;
            return Ok((v * self.metres_per_level, HeightSource::Levels));
        }
        Ok((self.default_height_m, HeightSource::Default))
    }

    /// Loads roads: optional `id`, `class`, `speed_kmh` (else the class's speed from
    /// the road-speed table), `oneway`, and a line.
    pub fn roads(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Road> {
        self.run("roads", file, records, quality, |r| {
            let line = self.line(r)?;
            let class = r.text(&["class", "highway"]);
            let by_class = class
                .as_deref()
                .and_then(|c| self.road_speeds.and_then(|s| s.get(c)));
            let (speed_kmh, from_class) = match (r.text(&["speed_kmh", "speed", "maxspeed"]), by_class) {
                (Some(speed), _) => (
                    parse_measure(&speed).ok_or((
                        RejectReason::BadValue,
                        format!("speed `{speed}` is not a positive number"),
                    ))?,
                    false,
                ),
                (None, Some(v)) => (v, true),
                (None, None) => {
                    return Err((
                        RejectReason::MissingField,
                        match class {
                            Some(c) => format!(
                                "`speed_kmh` is missing and class `{c}` is not in road_speeds.csv"
                            ),
                            None => "`speed_kmh` is missing, and no `class` to take a speed from (road_speeds.csv)".into(),
                        },
                    ))
                }
            };
            Ok(Road {
                id: r
                    .text(&["id"])
                    .unwrap_or_else(|| format!("{file}#{}", r.number)),
                line,
                class: r
                    .text(&["class", "highway"])
                    .unwrap_or_else(|| "road".into()),
                speed_kmh,
                speed_source: match r.text(&["speed_source"]).as_deref() {
                    _ if from_class => SpeedSource::Class,
                    Some("class") => SpeedSource::Class,
                    _ => SpeedSource::Tagged,
                },
                oneway: matches!(r.text(&["oneway"]).as_deref(), Some("true" | "yes" | "1")),
            })
        })
    }
}

/// A positive finite number, optionally followed by a unit `m` (`"12"`, `"12.5 m"`).
pub fn parse_measure(s: &str) -> Option<f64> {
    let t = s.trim().trim_end_matches('m').trim();
    t.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0)
}

fn check_coord(x: f64, y: f64) -> Check<()> {
    check_lon_lat(x, y).map_err(|p| match p {
        LonLatProblem::NotFinite => (RejectReason::BadCoordinate, format!("coordinate ({x}, {y}) is not finite")),
        LonLatProblem::OutOfRange => (
            RejectReason::OutOfRange,
            format!("coordinate ({x}, {y}) is outside lon −180..180 / lat −90..90 (projected data? reproject to WGS-84)"),
        ),
    })
}

fn kind(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "a point",
        Geometry::Line(_) | Geometry::LineString(_) => "a line",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "a polygon",
        Geometry::MultiPoint(_) => "a multipoint",
        Geometry::MultiLineString(_) => "a multiline",
        Geometry::MultiPolygon(_) => "a multipolygon",
        Geometry::GeometryCollection(_) => "a geometry collection",
    }
}
