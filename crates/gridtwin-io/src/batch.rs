//! Batch assignment, file to file: every input row ends assigned, nearest,
//! unassigned (with the reason) or rejected (with record number and reason).
//!
//! CSV input is streamed: a reader thread parses chunks of rows while the previous
//! chunk is located in parallel and written, so memory stays bounded by a few chunks
//! whatever the file size. Coordinates are parsed straight from the row's bytes; no
//! geometry object is built per point. Other input formats are read whole, then go
//! through the same path. Output rows keep the input's columns and order and add
//! `grid_code, community_code, street_code, district_code, outcome, distance_m`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use csv::ByteRecord;
use geo::{Geometry, Point};
use geozero::{wkt::Wkt, ToGeo};
use gridtwin_core::assign::{Assigner, GridCodes};
use gridtwin_core::coord::{check_lon_lat, LonLatProblem, LonLatSystem};
use gridtwin_core::locate::Location;
use gridtwin_core::{CategoryKind, CategoryTable, RejectReason};
use serde::Serialize;

use crate::csv_io::{LAT_NAMES, LON_NAMES, WKT_NAMES};
use crate::error::IoError;
use crate::format::{read_records, Format};
use crate::record::{FieldType, Table, Value};
use crate::sink::TableSink;

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

/// Columns added to every output row.
pub const ADDED: [&str; 6] = [
    "grid_code",
    "community_code",
    "street_code",
    "district_code",
    "outcome",
    "distance_m",
];

enum Chunk {
    /// Rows parsed by the csv crate (or converted from another format).
    Records {
        /// (record number, fields)
        rows: Vec<(u64, ByteRecord)>,
        /// Geometry-format rows carry their point here (CSV rows parse theirs from fields).
        points: Vec<Option<Point<f64>>>,
        bytes_done: u64,
    },
    /// Fast path: a block of whole, quote-free CSV lines, passed through byte for byte.
    Lines {
        block: Vec<u8>,
        /// (start, end) of each non-empty line, without its line ending.
        lines: Vec<(u32, u32)>,
        first_number: u64,
        bytes_done: u64,
    },
}

/// One slice of a fast-path block, processed on one thread.
#[derive(Default)]
struct Part {
    out: Vec<u8>,
    rejections: Vec<(u64, RejectReason, String)>,
    assigned: u64,
    nearest: u64,
    unassigned: u64,
}

/// Splits a block of whole lines into non-empty line ranges (line endings stripped).
fn line_ranges(block: &[u8]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(block.len() / 32);
    let mut start = 0usize;
    for end in memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len())) {
        let mut e = end;
        if e > start && block[e - 1] == b'\r' {
            e -= 1;
        }
        if e > start {
            out.push((start as u32, e as u32));
        }
        start = end + 1;
    }
    out
}

/// Reads the CSV at `path` in quote-free blocks of whole lines; at the first block
/// holding a quote character it hands over to the csv crate, seeking to that block's
/// start — a line boundary, since everything before it is quote-free.
fn read_csv_blocks(
    path: &Path,
    mut offset: u64,
    chunk_rows: usize,
    block_bytes: usize,
    tx: std::sync::mpsc::SyncSender<Result<Chunk, IoError>>,
) {
    use std::io::{Read, Seek, SeekFrom};
    let name = path.display().to_string();
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Err(IoError::read(&name, e)));
            return;
        }
    };
    if let Err(e) = file.seek(SeekFrom::Start(offset)) {
        let _ = tx.send(Err(IoError::read(&name, e)));
        return;
    }
    let mut number = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut block = std::mem::take(&mut carry);
        block.reserve(block_bytes.max(1));
        let n = match (&mut file)
            .take(block_bytes.max(1) as u64)
            .read_to_end(&mut block)
        {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(IoError::read(&name, e)));
                return;
            }
        };
        let eof = n == 0;
        if block.is_empty() {
            return;
        }
        // A bare `\r` ends a line too (Excel's "CSV (Macintosh)"): the csv crate
        // takes such a file from here, as it takes quotes, so both paths split lines
        // alike (a file of bare `\r` would otherwise be one rejected row here).
        let bare_cr = memchr::memchr_iter(b'\r', &block).any(|i| {
            block.get(i + 1).is_some_and(|&b| b != b'\n') || (eof && i + 1 == block.len())
        });
        if bare_cr {
            read_csv_records(path, offset, number, chunk_rows, b',', tx);
            return;
        }
        // Keep the partial last line for the next block.
        if !eof {
            match memchr::memrchr(b'\n', &block) {
                Some(i) => carry = block.split_off(i + 1),
                None => {
                    carry = block;
                    continue;
                }
            }
        }
        if memchr::memchr(b'"', &block).is_some() {
            read_csv_records(path, offset, number, chunk_rows, b',', tx);
            return;
        }
        offset += block.len() as u64;
        let lines = line_ranges(&block);
        let first_number = number + 1;
        number += lines.len() as u64;
        if tx
            .send(Ok(Chunk::Lines {
                block,
                lines,
                first_number,
                bytes_done: offset,
            }))
            .is_err()
            || eof
        {
            return;
        }
    }
}

/// Reads CSV records with the csv crate from byte `offset` (a record boundary), the
/// first record being number `after + 1`.
fn read_csv_records(
    path: &Path,
    offset: u64,
    after: u64,
    chunk_rows: usize,
    delimiter: u8,
    tx: std::sync::mpsc::SyncSender<Result<Chunk, IoError>>,
) {
    use std::io::{Seek, SeekFrom};
    let name = path.display().to_string();
    let file = File::open(path).and_then(|mut f| f.seek(SeekFrom::Start(offset)).map(|_| f));
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Err(IoError::read(&name, e)));
            return;
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut number = after;
    loop {
        let mut rows = Vec::with_capacity(chunk_rows);
        let mut rec = ByteRecord::new();
        while rows.len() < chunk_rows {
            match reader.read_byte_record(&mut rec) {
                Ok(true) => {
                    number += 1;
                    rows.push((number, std::mem::take(&mut rec)));
                }
                Ok(false) => break,
                Err(e) => {
                    // A broken row (e.g. bad quoting) is rejected, not fatal.
                    number += 1;
                    let mut r = ByteRecord::new();
                    r.push_field(format!("\u{0}unparsable: {e}").as_bytes());
                    rows.push((number, r));
                }
            }
        }
        let done = rows.is_empty();
        let n = rows.len();
        let bytes_done = offset + reader.position().byte();
        if done
            || tx
                .send(Ok(Chunk::Records {
                    rows,
                    points: vec![None; n],
                    bytes_done,
                }))
                .is_err()
        {
            return;
        }
    }
}

/// Where coordinates are in a row.
enum Geo {
    LonLat(usize, usize),
    Wkt(usize),
    Point,
}

fn find(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

type RowResult = Result<(f64, f64), (RejectReason, String)>;

fn parse_row(
    rec: &[&[u8]],
    pt: Option<Point<f64>>,
    width: usize,
    geo: &Geo,
    category: Option<(usize, &CategoryTable)>,
    coords: LonLatSystem,
    crs: Option<&crate::dem_crs::Crs>,
) -> RowResult {
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

enum Out {
    Csv(CsvOut),
    Stream(TableSink),
    Whole(Table),
}

/// CSV output written by its own thread, so formatting the next chunk overlaps with
/// writing this one. Rows are formatted into byte buffers on the caller's side.
struct CsvOut {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    handle: Option<std::thread::JoinHandle<Result<(), IoError>>>,
    fmt: csv::Writer<Vec<u8>>,
    tmp: Option<crate::atomic::Staged>,
    path: PathBuf,
}

fn byte_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(1 << 20))
}

impl CsvOut {
    fn create(path: &Path) -> Result<Self, IoError> {
        let name = path.display().to_string();
        let (tmp, file) = crate::atomic::Staged::create(path)?;
        let (tx, rx) = sync_channel::<Vec<u8>>(4);
        let handle = std::thread::spawn(move || {
            let mut w = BufWriter::with_capacity(1 << 20, file);
            for buf in rx {
                w.write_all(&buf).map_err(|e| IoError::write(&name, e))?;
            }
            let f = w
                .into_inner()
                .map_err(|e| IoError::write(&name, e.error()))?;
            f.sync_all().map_err(|e| IoError::write(&name, e))
        });
        Ok(CsvOut {
            tx: Some(tx),
            handle: Some(handle),
            fmt: byte_writer(),
            tmp: Some(tmp),
            path: path.to_path_buf(),
        })
    }

    fn failed(&mut self) -> IoError {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(Err(e))) => e,
            _ => IoError::write(&self.path.display().to_string(), "the writer stopped"),
        }
    }

    /// Sends bytes already formatted as CSV lines.
    fn send(&mut self, bytes: Vec<u8>) -> Result<(), IoError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send(bytes).is_ok())
            .unwrap_or(false);
        if sent {
            Ok(())
        } else {
            Err(self.failed())
        }
    }

    /// Formats one record (quoting as needed).
    fn record<R: AsRef<[u8]>>(
        &mut self,
        fields: impl IntoIterator<Item = R>,
    ) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        self.fmt
            .write_record(fields)
            .map_err(|e| IoError::write(&name, e))
    }

    /// Sends what [`CsvOut::record`] formatted so far.
    fn flush_records(&mut self) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        let bytes = std::mem::replace(&mut self.fmt, byte_writer())
            .into_inner()
            .map_err(|e| IoError::write(&name, e.error()))?;
        self.send(bytes)
    }

    fn finish(mut self) -> Result<(), IoError> {
        self.flush_records()?;
        self.tx = None;
        let name = self.path.display().to_string();
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r?,
            _ => return Err(IoError::write(&name, "the writer thread panicked")),
        }
        match self.tmp.take() {
            Some(t) => t.publish(),
            None => Err(IoError::write(&name, "published twice")),
        }
    }
}

fn csv_to_tmp(
    path: &Path,
) -> Result<(csv::Writer<BufWriter<File>>, crate::atomic::Staged), IoError> {
    let (tmp, f) = crate::atomic::Staged::create(path)?;
    Ok((
        csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f)),
        tmp,
    ))
}

fn finish_csv(
    w: csv::Writer<BufWriter<File>>,
    tmp: crate::atomic::Staged,
    path: &Path,
) -> Result<(), IoError> {
    let name = path.display().to_string();
    let f = w
        .into_inner()
        .map_err(|e| IoError::write(&name, e.error()))?
        .into_inner()
        .map_err(|e| IoError::write(&name, e.error()))?;
    f.sync_all().map_err(|e| IoError::write(&name, e))?;
    drop(f);
    tmp.publish()
}

/// Counts a rejected row and writes it to the rejected-rows file.
fn reject(
    report: &mut AssignReport,
    w: &mut csv::Writer<BufWriter<File>>,
    input: &str,
    rejected_file: &str,
    number: u64,
    reason: RejectReason,
    detail: &str,
) -> Result<(), IoError> {
    report.rejected += 1;
    *report
        .rejected_by_reason
        .entry(reason.name().to_string())
        .or_default() += 1;
    w.write_record([input, &number.to_string(), reason.name(), detail])
        .map_err(|e| IoError::write(rejected_file, e))
}

/// Appends `,grid,community,street,district,outcome,distance` and a newline.
fn push_codes(out: &mut Vec<u8>, c: &GridCodes, outcome: &str, distance: Option<f64>) {
    for code in [&c.grid, &c.community, &c.street, &c.district] {
        out.push(b',');
        out.extend_from_slice(code.as_bytes());
    }
    out.push(b',');
    out.extend_from_slice(outcome.as_bytes());
    out.push(b',');
    if let Some(d) = distance {
        out.extend_from_slice(format!("{d:.3}").as_bytes());
    }
    out.push(b'\n');
}

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
    let (header, geo, receiver, reader_thread);
    if format == Format::Csv {
        // The header, read by the csv crate; its byte length says where rows begin.
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(opts.delimiter)
            .from_path(input)
            .map_err(|e| IoError::read(&in_name, e))?;
        header = reader
            .headers()
            .map_err(|e| IoError::read(&in_name, e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect::<Vec<String>>();
        let body_start = reader.position().byte();
        let named = |given: &Option<String>,
                     usual: &[&str],
                     what: &str|
         -> Result<Option<usize>, IoError> {
            match given {
                Some(n) => header.iter().position(|h| h == n).map(Some).ok_or_else(|| {
                    IoError::read(
                        &in_name,
                        format!(
                            "no {what} column `{n}`; the columns are {}",
                            header.join(",")
                        ),
                    )
                }),
                None => Ok(find(&header, usual)),
            }
        };
        let (lon, lat) = (
            named(&opts.lon_col, &LON_NAMES, "longitude")?,
            named(&opts.lat_col, &LAT_NAMES, "latitude")?,
        );
        if header.len() == 1 && opts.delimiter == b',' && header[0].contains(';') {
            return Err(IoError::read(&in_name, "one column whose name holds `;`: is the file separated by semicolons? (--delimiter ';')"));
        }
        geo = match (lon, lat, find(&header, &WKT_NAMES)) {
            (Some(i), Some(j), _) => Geo::LonLat(i, j),
            (_, _, Some(w)) => Geo::Wkt(w),
            _ => return Err(IoError::read(&in_name, format!("no geometry columns: need lon and lat (or lng/longitude/x, latitude/y) or wkt; found {}", header.join(",")))),
        };
        let (tx, rx) = sync_channel::<Result<Chunk, IoError>>(2);
        let path = input.to_path_buf();
        let block_bytes = opts.block_bytes;
        // Quote-free lines pass through byte for byte when the output is CSV too.
        let fast =
            out_format == Format::Csv && matches!(geo, Geo::LonLat(..)) && opts.delimiter == b',';
        let delimiter = opts.delimiter;
        reader_thread = Some(std::thread::spawn(move || {
            if fast {
                read_csv_blocks(&path, body_start, chunk_rows, block_bytes, tx)
            } else {
                read_csv_records(&path, body_start, 0, chunk_rows, delimiter, tx)
            }
        }));
        receiver = rx;
    } else {
        let records = read_records(input)?;
        let all: Vec<_> = records.collect();
        let mut names: Vec<String> = Vec::new();
        for r in all.iter().flatten() {
            for (n, _) in &r.fields {
                if !names.iter().any(|m| m == n) {
                    names.push(n.clone());
                }
            }
        }
        // Geometry-format rows: their fields become text columns; the point comes from
        // the geometry, or from lon/lat fields when there is none.
        let lonlat = (find(&names, &LON_NAMES), find(&names, &LAT_NAMES));
        header = names.clone();
        geo = match lonlat {
            (Some(i), Some(j)) if all.iter().flatten().all(|r| r.geometry.is_none()) => {
                Geo::LonLat(i, j)
            }
            _ => Geo::Point,
        };
        let (tx, rx) = sync_channel::<Result<Chunk, IoError>>(2);
        reader_thread = Some(std::thread::spawn(move || {
            let mut it = all.into_iter().enumerate().peekable();
            while it.peek().is_some() {
                let mut rows = Vec::with_capacity(chunk_rows);
                let mut points = Vec::with_capacity(chunk_rows);
                for (i, r) in it.by_ref().take(chunk_rows) {
                    match r {
                        Ok(rec) => {
                            let mut b = ByteRecord::new();
                            for n in &names {
                                let v = rec
                                    .fields
                                    .iter()
                                    .find(|(k, _)| k == n)
                                    .and_then(|(_, v)| v.as_text())
                                    .unwrap_or_default();
                                b.push_field(v.as_bytes());
                            }
                            let p = match rec.geometry {
                                Some(Geometry::Point(p)) => Some(p),
                                Some(Geometry::MultiPoint(mp)) if mp.0.len() == 1 => Some(mp.0[0]),
                                Some(_) => {
                                    b = ByteRecord::new();
                                    b.push_field(b"\x00wrong geometry type: expected a point");
                                    None
                                }
                                None => None,
                            };
                            rows.push((rec.number, b));
                            points.push(p);
                        }
                        Err(rej) => {
                            let mut b = ByteRecord::new();
                            b.push_field(format!("\u{0}{}: {}", rej.reason, rej.detail).as_bytes());
                            rows.push((rej.record.max(i as u64 + 1), b));
                            points.push(None);
                        }
                    }
                }
                let bytes_done = rows.last().map(|r| r.0).unwrap_or(0);
                if tx
                    .send(Ok(Chunk::Records {
                        rows,
                        points,
                        bytes_done,
                    }))
                    .is_err()
                {
                    break;
                }
            }
        }));
        receiver = rx;
    }
    let width = header.len();
    let category = find(&header, &["category"]).and_then(|i| table.map(|t| (i, t)));
    let add_lonlat = !matches!(geo, Geo::LonLat(..)) && out_format == Format::Csv;

    // Output. An input that is itself an assignment (re-assigned after a redraw)
    // keeps its earlier codes under `prev_…` names: the new block is the only
    // `grid_code…distance_m` (a second one made `aggregate --by grid` read the stale
    // codes and Parquet carry duplicate field names).
    let header: Vec<String> = {
        let mut names: Vec<String> = header.clone();
        for i in 0..names.len() {
            if ADDED.iter().any(|a| names[i].eq_ignore_ascii_case(a)) {
                let mut k = 1;
                let renamed = loop {
                    let cand = if k == 1 {
                        format!("prev_{}", names[i])
                    } else {
                        format!("prev{k}_{}", names[i])
                    };
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(&cand)) {
                        break cand;
                    }
                    k += 1;
                };
                names[i] = renamed;
            }
        }
        names
    };
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
            Out::Csv(w)
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
        boundary_rule: "half-open: a point on an edge shared by two grids goes to the grid east of a north-south edge and north of an east-west edge; a point on the outer boundary of the grid set goes to the lowest-coded grid whose boundary holds it".into(),
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
            Chunk::Lines {
                block,
                lines,
                first_number,
                bytes_done,
            } => {
                use rayon::prelude::*;
                const SLICE: usize = 8192;
                let parts: Vec<Part> = lines
                    .par_chunks(SLICE)
                    .enumerate()
                    .map(|(ci, slice)| {
                        let mut part = Part {
                            out: Vec::with_capacity(slice.len() * 96),
                            ..Default::default()
                        };
                        let mut fields: Vec<&[u8]> = Vec::with_capacity(width);
                        // Parse every line, locate all points together, then format.
                        let mut ok: Vec<(usize, (f64, f64))> = Vec::with_capacity(slice.len());
                        for (k, &(a, b)) in slice.iter().enumerate() {
                            let line = &block[a as usize..b as usize];
                            fields.clear();
                            fields.extend(line.split(|&c| c == b','));
                            match parse_row(
                                &fields,
                                None,
                                width,
                                &geo,
                                category,
                                opts.coords,
                                opts.crs.as_deref(),
                            ) {
                                Err((reason, detail)) => {
                                    let number = first_number + (ci * SLICE + k) as u64;
                                    part.rejections.push((number, reason, detail));
                                }
                                Ok(p) => ok.push((k, p)),
                            }
                        }
                        let points: Vec<(f64, f64)> = ok.iter().map(|&(_, p)| p).collect();
                        let located = assigner.assign_many(&points, opts.nearest_m);
                        for (&(k, _), loc) in ok.iter().zip(located) {
                            let (a, b) = slice[k];
                            part.out.extend_from_slice(&block[a as usize..b as usize]);
                            match loc {
                                Location::Inside(g) => {
                                    part.assigned += 1;
                                    push_codes(&mut part.out, assigner.codes(g), "assigned", None);
                                }
                                Location::Nearest(g, d) => {
                                    part.nearest += 1;
                                    push_codes(
                                        &mut part.out,
                                        assigner.codes(g),
                                        "nearest",
                                        Some(d),
                                    );
                                }
                                Location::Outside => {
                                    part.unassigned += 1;
                                    part.out.extend_from_slice(b",,,,,unassigned,\n");
                                }
                            }
                        }
                        part
                    })
                    .collect();
                let Out::Csv(w) = &mut out else {
                    unreachable!("the fast path writes CSV")
                };
                w.flush_records()?;
                let mut counted = Vec::with_capacity(parts.len());
                for mut part in parts {
                    w.send(std::mem::take(&mut part.out))?;
                    counted.push(part);
                }
                let parts = counted;
                for part in parts {
                    report.assigned += part.assigned;
                    report.nearest += part.nearest;
                    report.unassigned += part.unassigned;
                    report.rows += part.assigned
                        + part.nearest
                        + part.unassigned
                        + part.rejections.len() as u64;
                    if part.unassigned > 0 {
                        *report
                            .unassigned_by_reason
                            .entry(unassigned_why.clone())
                            .or_default() += part.unassigned;
                    }
                    for (number, reason, detail) in part.rejections {
                        reject(
                            &mut report,
                            &mut rej_w,
                            &in_name,
                            &rej_name,
                            number,
                            reason,
                            &detail,
                        )?;
                    }
                }
                progress(bytes_done);
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
                .map(|((_, rec), pt)| {
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
                    parse_row(
                        &fields,
                        *pt,
                        width,
                        &geo,
                        category,
                        opts.coords,
                        opts.crs.as_deref(),
                    )
                })
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
        Out::Csv(w) => w.finish()?,
        Out::Stream(s) => s.finish()?,
        Out::Whole(t) => crate::format::write_table(output, &t)?,
    }
    finish_csv(rej_w, rej_tmp, rejected)?;
    Ok(report)
}
