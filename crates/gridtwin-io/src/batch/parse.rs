//! Parsing one row of a batch assignment into a lon/lat point, or the reason it is
//! rejected; the coordinates come from lon/lat columns, a WKT column or the record's
//! own point geometry.

use geo::{Geometry, Point};
use geozero::{wkt::Wkt, ToGeo};
use gridtwin_core::coord::{check_lon_lat, LonLatProblem, LonLatSystem};
use gridtwin_core::{CategoryKind, CategoryTable, RejectReason};

/// Where coordinates are in a row.
pub(super) enum Geo {
    LonLat(usize, usize),
    Wkt(usize),
    Point,
}

pub(super) fn find(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

pub(super) type RowResult = Result<(f64, f64), (RejectReason, String)>;

/// What every row of one input is read by: its width, where its coordinates are, the
/// category column to check (with the table), and the coordinates' system and CRS.
pub(super) struct RowParser<'a> {
    pub(super) width: usize,
    pub(super) geo: Geo,
    pub(super) category: Option<(usize, &'a CategoryTable)>,
    pub(super) coords: LonLatSystem,
    pub(super) crs: Option<&'a crate::dem_crs::Crs>,
}

impl RowParser<'_> {
    /// Parses a row from its fields (`pt`: the record's own point geometry, if any).
    pub(super) fn row(&self, rec: &[&[u8]], pt: Option<Point<f64>>) -> RowResult {
        parse_row(rec, pt, self)
    }

    /// Parses a row of a chunk of records: a row the reader already marked unreadable
    /// (a single field starting with NUL) keeps the reader's reason.
    pub(super) fn record(&self, rec: &csv::ByteRecord, pt: Option<Point<f64>>) -> RowResult {
        parse_record(rec, pt, self)
    }
}

fn parse_row(rec: &[&[u8]], pt: Option<Point<f64>>, p: &RowParser<'_>) -> RowResult {
    let RowParser {
        width,
        geo,
        category,
        coords,
        crs,
    } = p;
    let (width, category, coords, crs) = (*width, *category, *coords, *crs);
    if rec.len() != width {
        return Err((
            RejectReason::Unparsable,
            format!("{} fields, header has {width}", rec.len()),
        ));
    }
    let num = |i: usize, what: &str| -> Result<f64, (RejectReason, String)> {
        let s = std::str::from_utf8(rec[i]).unwrap_or("").trim();
        if s.is_empty() {
            return Err((RejectReason::MissingCoordinate, format!("{what} is empty")));
        }
        s.parse::<f64>().map_err(|_| {
            (
                RejectReason::BadCoordinate,
                format!("{what} `{s}` is not a number"),
            )
        })
    };
    let (x, y) = match geo {
        Geo::LonLat(i, j) => (num(*i, "lon")?, num(*j, "lat")?),
        Geo::Wkt(i) => {
            let s = std::str::from_utf8(rec[*i]).unwrap_or("");
            if s.trim().is_empty() {
                return Err((RejectReason::MissingCoordinate, "empty WKT".into()));
            }
            match Wkt(s).to_geo() {
                Ok(Geometry::Point(p)) => (p.x(), p.y()),
                Ok(_) => return Err((RejectReason::WrongGeometryType, "expected a point".into())),
                Err(e) => return Err((RejectReason::InvalidGeometry, format!("WKT: {e}"))),
            }
        }
        Geo::Point => match pt {
            Some(p) => (p.x(), p.y()),
            None => return Err((RejectReason::MissingCoordinate, "no point geometry".into())),
        },
    };
    let (x, y) = match crs.filter(|c| !c.is_lon_lat()) {
        None => (x, y),
        Some(c) => c.to_lon_lat(x, y).ok_or_else(|| {
            (
                RejectReason::BadCoordinate,
                format!(
                    "({x}, {y}) cannot be reprojected from {} to lon/lat",
                    c.name
                ),
            )
        })?,
    };
    match check_lon_lat(x, y) {
        Ok(()) => {}
        Err(LonLatProblem::NotFinite) => {
            return Err((
                RejectReason::BadCoordinate,
                format!("coordinate ({x}, {y}) is not finite"),
            ))
        }
        Err(LonLatProblem::OutOfRange) => {
            return Err((
                RejectReason::OutOfRange,
                format!("coordinate ({x}, {y}) is outside lon −180..180 / lat −90..90"),
            ))
        }
    }
    if let Some((i, table)) = category {
        let s = std::str::from_utf8(rec[i]).unwrap_or("").trim();
        if table.find(CategoryKind::Component, s).is_none()
            && table.find(CategoryKind::Event, s).is_none()
        {
            return Err((
                RejectReason::UnknownCategory,
                format!("category `{s}` is not in the category table"),
            ));
        }
    }
    Ok(coords.to_wgs84(x, y))
}

fn parse_record(rec: &csv::ByteRecord, pt: Option<Point<f64>>, p: &RowParser<'_>) -> RowResult {
    if rec.len() == 1 && rec[0].first() == Some(&0) {
        let msg = String::from_utf8_lossy(&rec[0][1..]).to_string();
        // the reader's own reason (`reason: detail`) is kept
        if let Some((name, detail)) = msg.split_once(": ") {
            if let Some(reason) = RejectReason::from_name(name) {
                return Err((reason, detail.to_string()));
            }
        }
        let reason = if msg.starts_with("wrong geometry") {
            RejectReason::WrongGeometryType
        } else {
            RejectReason::Unparsable
        };
        return Err((reason, msg));
    }
    let fields: Vec<&[u8]> = rec.iter().collect();
    parse_row(&fields, pt, p)
}
