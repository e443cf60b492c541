//! Input of a batch assignment: the header, where the coordinates are, and the rows in
//! chunks sent by a reader thread. CSV is streamed (quote-free blocks of whole lines
//! passed on byte for byte, the csv crate from the first quote on); GeoParquet a record
//! batch at a time, FlatGeobuf a chunk of features at a time; GeoJSON is read whole; all
//! are converted to the same chunks.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use csv::ByteRecord;
use geo::{Geometry, Point};
use gridtwin_core::Rejection;

use super::parse::{find, Geo};
use super::AssignOptions;
use crate::csv_io::{LAT_NAMES, LON_NAMES, WKT_NAMES};
use crate::error::IoError;
use crate::format::{read_records, Format};
use crate::record::Record;

pub(super) enum Chunk {
    /// Rows parsed by the csv crate (or converted from another format).
    Records {
        /// (record number, fields)
        rows: Vec<(u64, ByteRecord)>,
        /// Geometry-format rows carry their point here (CSV rows parse theirs from fields).
        points: Vec<Option<Point<f64>>>,
        bytes_done: u64,
    },
    /// Columnar path: a GeoParquet record batch as decoded, for a CSV or GeoParquet
    /// output.
    Batch {
        batch: arrow_array::RecordBatch,
        /// The WKB geometry column's index, if the file has one.
        geometry: Option<usize>,
        first_number: u64,
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
    tx: SyncSender<Result<Chunk, IoError>>,
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
    tx: SyncSender<Result<Chunk, IoError>>,
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

/// A point layer read in batches.
enum Streamed {
    Parquet(crate::parquet_io::ParquetRecords),
    Fgb(crate::fgb_io::FgbRecords),
}

/// The input opened: its header, where its coordinates are, and the chunks its reader
/// thread sends.
pub(super) struct Input {
    pub(super) header: Vec<String>,
    pub(super) geo: Geo,
    pub(super) receiver: Receiver<Result<Chunk, IoError>>,
    pub(super) reader_thread: Option<JoinHandle<()>>,
}

/// Opens `input` (of `format`), finds its coordinate columns and starts the thread
/// reading it in chunks of `chunk_rows`.
pub(super) fn open(
    input: &Path,
    format: Format,
    out_format: Format,
    opts: &AssignOptions,
    chunk_rows: usize,
) -> Result<Input, IoError> {
    let in_name = input.display().to_string();
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
    } else if matches!(format, Format::GeoParquet | Format::FlatGeobuf) {
        // Streamed a record batch at a time: memory stays bounded by a few batches
        // whatever the file's size (no in-memory row limit applies).
        let stream = match format {
            Format::GeoParquet => Streamed::Parquet(crate::parquet_io::open(input)?),
            _ => Streamed::Fgb(crate::fgb_io::open(input)?),
        };
        let (names, has_geometry) = match &stream {
            Streamed::Parquet(p) => (p.field_names(), p.has_geometry()),
            Streamed::Fgb(f) => (f.field_names(), true),
        };
        header = names.clone();
        geo = match (find(&names, &LON_NAMES), find(&names, &LAT_NAMES)) {
            (Some(i), Some(j)) if !has_geometry => Geo::LonLat(i, j),
            _ => Geo::Point,
        };
        let (tx, rx) = sync_channel::<Result<Chunk, IoError>>(2);
        // A GeoParquet file to CSV or GeoParquet takes the columnar path
        // (batch/columns.rs): the record batch as decoded, located and formatted in
        // parallel (unless two columns share a name: the record path's fields are by
        // name).
        let columnar_out = matches!(out_format, Format::Csv | Format::GeoParquet);
        let mut stream = match stream {
            Streamed::Parquet(mut p) if columnar_out && p.distinct_names() => {
                let geometry = p.geometry_index();
                let reader = std::thread::spawn(move || loop {
                    let sent = match p.next_record_batch() {
                        Ok(Some((batch, first_number))) => tx.send(Ok(Chunk::Batch {
                            batch,
                            geometry,
                            first_number,
                        })),
                        Ok(None) => return,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    if sent.is_err() {
                        return;
                    }
                });
                return Ok(Input {
                    header,
                    geo,
                    receiver: rx,
                    reader_thread: Some(reader),
                });
            }
            other => other,
        };
        reader_thread = Some(std::thread::spawn(move || loop {
            let next = match &mut stream {
                Streamed::Parquet(p) => p.next_batch(),
                Streamed::Fgb(f) => f.next_batch(chunk_rows),
            };
            match next {
                Ok(Some(records)) => {
                    if !send_records(records, &names, chunk_rows, &tx) {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
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
            send_records(all, &names, chunk_rows, &tx);
        }));
        receiver = rx;
    }
    Ok(Input {
        header,
        geo,
        receiver,
        reader_thread,
    })
}

/// Sends the records of a geometry format as chunks: their fields become text
/// columns (named `names`), their point geometry travels beside them. False when the
/// receiver has gone (the run stopped).
fn send_records(
    all: Vec<Result<Record, Rejection>>,
    names: &[String],
    chunk_rows: usize,
    tx: &SyncSender<Result<Chunk, IoError>>,
) -> bool {
    let mut it = all.into_iter().enumerate().peekable();
    while it.peek().is_some() {
        let mut rows = Vec::with_capacity(chunk_rows);
        let mut points = Vec::with_capacity(chunk_rows);
        for (i, r) in it.by_ref().take(chunk_rows) {
            match r {
                Ok(rec) => {
                    let mut b = ByteRecord::new();
                    for n in names {
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
            return false;
        }
    }
    true
}
