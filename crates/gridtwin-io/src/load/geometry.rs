//! The geometry of a record, checked and converted on load: reprojected to WGS-84
//! lon/lat, every coordinate in range, of the kind the layer holds (point, polygon,
//! line), and an invalid polygon repaired when asked.

use geo::{Coord, CoordsIter, Geometry, LineString, MapCoords, MultiPolygon, Point};
use gridtwin_core::coord::{check_lon_lat, LonLatProblem, LonLatSystem};
use gridtwin_core::RejectReason;

use super::{Check, Loader};
use crate::csv_io::{LAT_NAMES, LON_NAMES};
use crate::record::Record;

/// The rules a geometry is converted under, apart from the loader's bookkeeping:
/// shared by the threads that check an area layer's polygons side by side.
#[derive(Clone, Copy)]
pub(super) struct GeometryRules<'a> {
    source_crs: Option<&'a crate::dem_crs::Crs>,
    coords: LonLatSystem,
    make_valid: bool,
}

/// A polygon's repair (problem, area given, area after), logged once its record loads.
pub(super) type PendingRepair = (String, f64, f64);

impl Loader<'_> {
    pub(super) fn geometry_rules(&self) -> GeometryRules<'_> {
        GeometryRules {
            source_crs: self.source_crs.as_deref(),
            coords: self.coords,
            make_valid: self.make_valid,
        }
    }

    pub(super) fn point(&self, r: &Record) -> Check<Point<f64>> {
        self.geometry_rules().point(r)
    }

    pub(super) fn line(&self, r: &Record) -> Check<LineString<f64>> {
        self.geometry_rules().line(r)
    }

    /// The record's polygons; a repair made is kept to be logged once the record
    /// loads.
    pub(super) fn polygons(&self, r: &Record) -> Check<MultiPolygon<f64>> {
        let (checked, repair) = self.geometry_rules().polygons(r);
        self.pending_repair.replace(repair);
        checked
    }
}

impl GeometryRules<'_> {
    /// Converts to WGS-84 and checks every coordinate of a geometry.
    pub(super) fn geometry(&self, g: Geometry<f64>) -> Check<Geometry<f64>> {
        let g = match self.source_crs.filter(|c| !c.is_lon_lat()) {
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

    pub(super) fn point(&self, r: &Record) -> Check<Point<f64>> {
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

    /// The record's polygons, checked under OGC's rules (and repaired, with the
    /// repair to log, where `make_valid`).
    pub(super) fn polygons(&self, r: &Record) -> (Check<MultiPolygon<f64>>, Option<PendingRepair>) {
        let mut repair = None;
        let checked = self.checked_polygons(r, &mut repair);
        (checked, repair)
    }

    fn checked_polygons(
        &self,
        r: &Record,
        repair: &mut Option<PendingRepair>,
    ) -> Check<MultiPolygon<f64>> {
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
                    *repair = Some((e.to_string(), area_m2(&mp), area_m2(&fixed)));
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

    pub(super) fn line(&self, r: &Record) -> Check<LineString<f64>> {
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
