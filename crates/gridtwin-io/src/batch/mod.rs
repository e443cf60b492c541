//! Batch assignment, file to file: every input row ends assigned, nearest,
//! unassigned (with the reason) or rejected (with record number and reason).
//!
//! CSV input is streamed: a reader thread parses chunks of rows while the previous
//! chunk is located in parallel and written, so memory stays bounded by a few chunks
//! whatever the file size. Coordinates are parsed straight from the row's bytes; no
//! geometry object is built per point. GeoParquet and FlatGeobuf are streamed too, a
//! record batch at a time; GeoJSON is read whole; all go through the same path. Output rows keep the input's columns and order and add
//! `grid_code, community_code, street_code, district_code, outcome, distance_m`.

mod columns;
mod fast;
mod parse;
mod read;
mod write;

use std::collections::BTreeMap;
use std::path::Path;

use csv::ByteRecord;
use geo::{Geometry, Point};
use gridtwin_core::assign::Assigner;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::locate::Location;
use gridtwin_core::CategoryTable;
use serde::Serialize;

use crate::error::IoError;
use crate::format::Format;
use crate::record::{FieldType, Table, Value};
use crate::sink::TableSink;
use parse::{find, Geo, RowParser, RowResult};
use read::Chunk;
use write::{csv_to_tmp, finish_csv, reject, CsvOut, Out};

/// Options of a batch assignment.
#[derive(Debug, Clone)]
pub struct AssignOptions {
    /// Give points outside every grid the nearest grid within this many metres.
    pub nearest_m: Option<f64>,
    /// Coordinate system of the input lon/lat.
    pub coords: LonLatSystem,
    /// Rows per chunk (memory ≈ 3 chunks of rows).
    pub chunk_rows: usize,
    /// Bytes per block on the CSV fast path (memory ≈ 3 blocks plus their output).
    pub block_bytes: usize,
    /// Names of the longitude and latitude columns, where not one of the usual names
    /// (`lon`/`lng`/`longitude`/`x`, `lat`/`latitude`/`y`).
    pub lon_col: Option<String>,
    pub lat_col: Option<String>,
    /// Field delimiter of a CSV input (`,` by default; `;` in much of Europe).
    pub delimiter: u8,
    /// The points' coordinate system where not lon/lat (x, y in a projected system:
    /// `--crs`, or the `.prj` beside the file): reprojected to WGS-84 on read.
    pub crs: Option<std::sync::Arc<crate::dem_crs::Crs>>,
}

impl Default for AssignOptions {
    fn default() -> Self {
        AssignOptions {
            nearest_m: None,
            coords: LonLatSystem::Wgs84,
            chunk_rows: 1 << 17,
            block_bytes: 8 << 20,
            lon_col: None,
            lat_col: None,
            delimiter: b',',
            crs: None,
        }
    }
}

/// What a batch assignment did, row by row accounted: rows = assigned + nearest +
/// unassigned + rejected.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AssignReport {
    pub input: String,
    pub output: String,
    pub rejected_file: String,
    pub grids: usize,
    pub rows: u64,
    pub assigned: u64,
    pub nearest: u64,
    pub unassigned: u64,
    pub rejected: u64,
    pub unassigned_by_reason: BTreeMap<String, u64>,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub boundary_rule: String,
}

/// Which grid a point on a boundary goes to, as every report states it.
pub const BOUNDARY_RULE: &str = "half-open: a point on an edge shared by two grids goes to the grid east of a north-south edge and north of an east-west edge; a point on the outer boundary of the grid set goes to the lowest-coded grid whose boundary holds it";

/// Columns added to every output row.
pub const ADDED: [&str; 6] = [
    "grid_code",
    "community_code",
    "street_code",
    "district_code",
    "outcome",
    "distance_m",
];

/// Assigns every row of `input`, writing `output` and the rejected rows to `rejected`.
/// `progress` is told how many input bytes (CSV) or records (other formats) are done.
pub fn assign_file(
    assigner: &Assigner,
    table: Option<&CategoryTable>,
    input: &Path,
    output: &Path,
    rejected: &Path,
    opts: &AssignOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<AssignReport, IoError> {
    let in_name = input.display().to_string();
    let chunk_rows = opts.chunk_rows.max(1);
    let format = Format::from_path(input)?;
    let out_format = Format::from_path(output)?;

    // Header and the chunk source.
    let read::Input {
        header,
        geo,
        receiver,
        reader_thread,
    } = read::open(input, format, out_format, opts, chunk_rows)?;
    let width = header.len();
    let category = find(&header, &["category"]).and_then(|i| table.map(|t| (i, t)));
    let add_lonlat = !matches!(geo, Geo::LonLat(..)) && out_format == Format::Csv;
    let parser = RowParser {
        width,
        geo,
        category,
        coords: opts.coords,
        crs: opts.crs.as_deref(),
    };
    // Output: earlier codes in the input renamed `prev_…` (see [`write::prev_names`]).
    let header: Vec<String> = write::prev_names(&header);
    let mut out_header: Vec<String> = header.clone();
    if add_lonlat {
        out_header.extend(["lon".to_string(), "lat".to_string()]);
    }
    out_header.extend(ADDED.iter().map(|s| s.to_string()));
    let schema: Vec<(&str, FieldType)> = header
        .iter()
        .map(|h| (h.as_str(), FieldType::Text))
        .chain(ADDED[..5].iter().map(|a| (*a, FieldType::Text)))
        .chain(std::iter::once(("distance_m", FieldType::Float)))
        .collect();
    let mut out = match out_format {
        Format::Csv => {
            let mut w = CsvOut::create(output)?;
            w.record(&out_header)?;
            Out::Csv(Box::new(w))
        }
        Format::GeoParquet => Out::Stream(TableSink::create(output, &Table::new(&schema))?),
        Format::GeoJson | Format::FlatGeobuf => Out::Whole(Table::new(&schema)),
        _ => {
            return Err(IoError::write(
                &output.display().to_string(),
                "assign writes .csv, .parquet, .geojson or .fgb",
            ))
        }
    };
    let (mut rej_w, rej_tmp) = csv_to_tmp(rejected)?;
    let rej_name = rejected.display().to_string();
    rej_w
        .write_record(["file", "record", "reason", "detail"])
        .map_err(|e| IoError::write(&rej_name, e))?;

    let mut report = AssignReport {
        input: in_name.clone(),
        output: output.display().to_string(),
        rejected_file: rej_name.clone(),
        grids: assigner.grids(),
        boundary_rule: BOUNDARY_RULE.into(),
        ..Default::default()
    };
    let unassigned_why = match opts.nearest_m {
        Some(m) => format!("no grid within {m} m"),
        None => "outside every grid".to_string(),
    };
    let mut line = ByteRecord::new();
    for chunk in receiver {
        struct Records {
            rows: Vec<(u64, ByteRecord)>,
            points: Vec<Option<Point<f64>>>,
            bytes_done: u64,
        }
        let chunk = match chunk? {
            Chunk::Records {
                rows,
                points,
                bytes_done,
            } => Records {
                rows,
                points,
                bytes_done,
            },
            // The parallel paths (CSV lines, GeoParquet batches) come back as parts.
            parallel => {
                let (parts, done) = match parallel {
                    Chunk::Lines {
                        block,
                        lines,
                        first_number,
                        bytes_done,
                    } => {
                        let parse_line = |fields: &[&[u8]]| parser.row(fields, None);
                        let parts = fast::locate_lines(
                            assigner,
                            opts.nearest_m,
                            parse_line,
                            width,
                            &block,
                            &lines,
                            first_number,
                        );
                        (parts, bytes_done)
                    }
                    Chunk::Batch {
                        batch,
                        geometry,
                        first_number,
                    } => {
                        let shape = match out {
                            Out::Csv(_) => columns::Shape::Csv { add_lonlat },
                            _ => columns::Shape::Arrow,
                        };
                        let parts = columns::locate_batch(
                            assigner,
                            opts.nearest_m,
                            &parser,
                            &batch,
                            geometry,
                            shape,
                            first_number,
                        );
                        (parts, first_number + batch.num_rows() as u64 - 1)
                    }
                    Chunk::Records { .. } => unreachable!("matched above"),
                };
                let mut counted = Counted {
                    report: &mut report,
                    rejected: &mut rej_w,
                    input: &in_name,
                    rejected_file: &rej_name,
                    unassigned_why: &unassigned_why,
                };
                counted.write(parts, &mut out)?;
                progress(done);
                continue;
            }
        };
        let parsed: Vec<RowResult> = {
            use rayon::prelude::*;
            chunk
                .rows
                .par_iter()
                .zip(chunk.points.par_iter())
                .with_min_len(4096)
                .map(|((_, rec), pt)| parser.record(rec, *pt))
                .collect()
        };
        let coords: Vec<Option<(f64, f64)>> =
            parsed.iter().map(|r| r.as_ref().ok().copied()).collect();
        let located = assigner.assign_batch(&coords, opts.nearest_m);
        let mut chunk_table = Table::new(&schema);
        for (((number, rec), result), loc) in chunk.rows.iter().zip(&parsed).zip(&located) {
            report.rows += 1;
            let (x, y) = match result {
                Err((reason, detail)) => {
                    reject(
                        &mut report,
                        &mut rej_w,
                        &in_name,
                        &rej_name,
                        *number,
                        *reason,
                        detail,
                    )?;
                    continue;
                }
                Ok(p) => *p,
            };
            let (codes, outcome, distance) = match loc.expect("parsed rows are located") {
                Location::Inside(g) => {
                    report.assigned += 1;
                    (Some(assigner.codes(g)), "assigned", None)
                }
                Location::Nearest(g, d) => {
                    report.nearest += 1;
                    (Some(assigner.codes(g)), "nearest", Some(d))
                }
                Location::Outside => {
                    report.unassigned += 1;
                    *report
                        .unassigned_by_reason
                        .entry(unassigned_why.clone())
                        .or_default() += 1;
                    (None, "unassigned", None)
                }
            };
            let code_fields = |c: Option<&gridtwin_core::assign::GridCodes>| -> [String; 4] {
                match c {
                    Some(c) => [
                        c.grid.clone(),
                        c.community.clone(),
                        c.street.clone(),
                        c.district.clone(),
                    ],
                    None => Default::default(),
                }
            };
            match &mut out {
                Out::Csv(w) => {
                    line.clear();
                    for f in rec.iter() {
                        line.push_field(f);
                    }
                    if add_lonlat {
                        line.push_field(x.to_string().as_bytes());
                        line.push_field(y.to_string().as_bytes());
                    }
                    match codes {
                        Some(c) => {
                            for s in [&c.grid, &c.community, &c.street, &c.district] {
                                line.push_field(s.as_bytes());
                            }
                        }
                        None => {
                            for _ in 0..4 {
                                line.push_field(b"");
                            }
                        }
                    }
                    line.push_field(outcome.as_bytes());
                    match distance {
                        Some(d) => line.push_field(format!("{d:.3}").as_bytes()),
                        None => line.push_field(b""),
                    }
                    w.record(&line)?;
                }
                Out::Stream(_) | Out::Whole(_) => {
                    let mut values: Vec<Value> = rec
                        .iter()
                        .map(|f| Value::Text(String::from_utf8_lossy(f).to_string()))
                        .collect();
                    values.extend(code_fields(codes).into_iter().map(|s| {
                        if s.is_empty() {
                            Value::Null
                        } else {
                            Value::Text(s)
                        }
                    }));
                    values.push(Value::Text(outcome.to_string()));
                    values.push(
                        distance
                            .map(|d| Value::Float((d * 1000.0).round() / 1000.0))
                            .unwrap_or(Value::Null),
                    );
                    chunk_table
                        .rows
                        .push((Some(Geometry::Point(Point::new(x, y))), values));
                }
            }
        }
        match &mut out {
            Out::Stream(s) => s.write(&chunk_table)?,
            Out::Whole(t) => t.rows.append(&mut chunk_table.rows),
            Out::Csv(w) => w.flush_records()?,
        }
        progress(chunk.bytes_done);
    }
    if let Some(t) = reader_thread {
        let _ = t.join();
    }
    match out {
        Out::Csv(w) => (*w).finish()?,
        Out::Stream(s) => s.finish()?,
        Out::Whole(t) => crate::format::write_table(output, &t)?,
    }
    finish_csv(rej_w, rej_tmp, rejected)?;
    Ok(report)
}

/// Where the parts of a parallel path are counted and their rejections written.
struct Counted<'a> {
    report: &'a mut AssignReport,
    rejected: &'a mut csv::Writer<std::io::BufWriter<std::fs::File>>,
    input: &'a str,
    rejected_file: &'a str,
    unassigned_why: &'a str,
}

impl Counted<'_> {
    /// Sends the parts' CSV lines (or Arrow columns) to `out` in order, counts their
    /// rows and writes their rejections.
    fn write(&mut self, parts: Vec<fast::Part>, out: &mut Out) -> Result<(), IoError> {
        if let Out::Csv(w) = out {
            w.flush_records()?;
        }
        for mut part in parts {
            match out {
                Out::Csv(w) => w.send(std::mem::take(&mut part.out))?,
                Out::Stream(s) => {
                    if let Some(columns) = part.columns.take() {
                        s.write_columns(columns)?;
                    }
                }
                Out::Whole(_) => unreachable!("the parallel paths write CSV or GeoParquet"),
            }
            let report = &mut *self.report;
            report.assigned += part.assigned;
            report.nearest += part.nearest;
            report.unassigned += part.unassigned;
            report.rows +=
                part.assigned + part.nearest + part.unassigned + part.rejections.len() as u64;
            if part.unassigned > 0 {
                *report
                    .unassigned_by_reason
                    .entry(self.unassigned_why.to_string())
                    .or_default() += part.unassigned;
            }
            for (number, reason, detail) in part.rejections {
                reject(
                    report,
                    self.rejected,
                    self.input,
                    self.rejected_file,
                    number,
                    reason,
                    &detail,
                )?;
            }
        }
        Ok(())
    }
}
