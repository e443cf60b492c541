//! CSV reader and writer. Geometry comes from lon/lat columns (`lon`/`lng`/
//! `longitude`/`x` and `lat`/`latitude`/`y`) or a WKT column (`wkt`/`geometry`/`geom`).
//!
//! Rows are streamed. Coordinates are kept as text fields here and checked by the
//! loaders, so a bad number is rejected with its row and column, not dropped.

use std::io::Write;
use std::path::Path;

use geozero::{wkt::Wkt, ToGeo, ToWkt};
use gridtwin_core::{RejectReason, Rejection};

use crate::error::IoError;
use crate::record::{Record, Table, Value};

pub const LON_NAMES: [&str; 4] = ["lon", "lng", "longitude", "x"];
pub const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];
pub const WKT_NAMES: [&str; 3] = ["wkt", "geometry", "geom"];

/// Streams the records of a CSV file. Each record's fields are text; a `wkt` column,
/// if present, is parsed into the geometry (a bad WKT rejects the row).
pub fn read(path: &Path) -> Result<impl Iterator<Item = Result<Record, Rejection>>, IoError> {
    let file = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| IoError::read(&file, e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| IoError::read(&file, e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let wkt_col = headers
        .iter()
        .position(|h| WKT_NAMES.iter().any(|n| h.eq_ignore_ascii_case(n)));
    let has_lon_lat = [&LON_NAMES[..], &LAT_NAMES[..]].iter().all(|names| {
        headers
            .iter()
            .any(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    });
    if wkt_col.is_none() && !has_lon_lat {
        return Err(IoError::read(
            &file,
            format!(
                "no geometry columns: need lon and lat (or lng/longitude/x, latitude/y) or wkt; found {}",
                headers.join(",")
            ),
        ));
    }
    let mut number = 0u64;
    Ok(reader.into_records().map(move |row| {
        number += 1;
        let row = row
            .map_err(|e| Rejection::new(&file, number, RejectReason::Unparsable, e.to_string()))?;
        if row.len() != headers.len() {
            return Err(Rejection::new(
                &file,
                number,
                RejectReason::Unparsable,
                format!("{} fields, header has {}", row.len(), headers.len()),
            ));
        }
        let mut geometry = None;
        let mut fields = Vec::with_capacity(headers.len());
        for (i, (h, v)) in headers.iter().zip(row.iter()).enumerate() {
            if Some(i) == wkt_col {
                if !v.is_empty() {
                    geometry = Some(Wkt(v).to_geo().map_err(|e| {
                        Rejection::new(
                            &file,
                            number,
                            RejectReason::InvalidGeometry,
                            format!("WKT: {e}"),
                        )
                    })?);
                }
            } else {
                fields.push((h.clone(), Value::Text(v.to_string())));
            }
        }
        Ok(Record {
            number,
            geometry,
            fields,
        })
    }))
}

/// Header of a written CSV: the schema's columns, then `lon,lat` or `wkt`.
pub(crate) fn header(table: &Table, points: bool) -> Vec<String> {
    let mut header: Vec<String> = table.schema.iter().map(|(n, _)| n.clone()).collect();
    if points {
        header.extend(["lon".to_string(), "lat".to_string()]);
    } else {
        header.push("wkt".to_string());
    }
    header
}

/// True when every geometry of the table is a point (or absent).
pub(crate) fn all_points(table: &Table) -> bool {
    table
        .rows
        .iter()
        .all(|(g, _)| matches!(g, None | Some(geo::Geometry::Point(_))))
}

/// Writes the table's rows (no header).
pub(crate) fn write_rows<W: Write>(
    out: &mut csv::Writer<W>,
    table: &Table,
    points: bool,
) -> Result<(), csv::Error> {
    let mut cells: Vec<String> = Vec::with_capacity(table.schema.len() + 2);
    for (geometry, values) in &table.rows {
        cells.clear();
        cells.extend(values.iter().map(|v| v.as_text().unwrap_or_default()));
        match (points, geometry) {
            (true, Some(geo::Geometry::Point(p))) => {
                cells.push(p.x().to_string());
                cells.push(p.y().to_string());
            }
            (true, _) => cells.extend([String::new(), String::new()]),
            (false, Some(g)) => cells.push(g.to_wkt().unwrap_or_default()),
            (false, None) => cells.push(String::new()),
        }
        out.write_record(&cells)?;
    }
    Ok(())
}

/// Writes a table as CSV: point geometries as `lon,lat` columns, others as a `wkt` column.
pub fn write<W: Write>(table: &Table, w: &mut W) -> Result<(), csv::Error> {
    let points = all_points(table);
    let mut out = csv::Writer::from_writer(w);
    out.write_record(header(table, points))?;
    write_rows(&mut out, table, points)?;
    out.flush()?;
    Ok(())
}
