//! Output of a batch assignment: CSV written by its own thread, GeoParquet streamed,
//! GeoJSON and FlatGeobuf gathered whole; the rejected rows in a CSV of their own.
//! Every file is staged and published atomically.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use gridtwin_core::RejectReason;

use super::{AssignReport, ADDED};
use crate::error::IoError;
use crate::record::Table;
use crate::sink::TableSink;

pub(super) enum Out {
    Csv(Box<CsvOut>),
    Stream(TableSink),
    Whole(Table),
}

/// CSV output written by its own thread, so formatting the next chunk overlaps with
/// writing this one. Rows are formatted into byte buffers on the caller's side.
pub(super) struct CsvOut {
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
    pub(super) fn create(path: &Path) -> Result<Self, IoError> {
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
    pub(super) fn send(&mut self, bytes: Vec<u8>) -> Result<(), IoError> {
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
    pub(super) fn record<R: AsRef<[u8]>>(
        &mut self,
        fields: impl IntoIterator<Item = R>,
    ) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        self.fmt
            .write_record(fields)
            .map_err(|e| IoError::write(&name, e))
    }

    /// Sends what [`CsvOut::record`] formatted so far.
    pub(super) fn flush_records(&mut self) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        let bytes = std::mem::replace(&mut self.fmt, byte_writer())
            .into_inner()
            .map_err(|e| IoError::write(&name, e.error()))?;
        self.send(bytes)
    }

    pub(super) fn finish(mut self) -> Result<(), IoError> {
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

pub(super) fn csv_to_tmp(
    path: &Path,
) -> Result<(csv::Writer<BufWriter<File>>, crate::atomic::Staged), IoError> {
    let (tmp, f) = crate::atomic::Staged::create(path)?;
    Ok((
        csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f)),
        tmp,
    ))
}

pub(super) fn finish_csv(
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
pub(super) fn reject(
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

/// The input's header with any column of an earlier assignment renamed `prev_…`.
///
/// An input that is itself an assignment (re-assigned after a redraw) keeps its
/// earlier codes under `prev_…` names: the new block is the only
/// `grid_code…distance_m` (a second one made `aggregate --by grid` read the stale
/// codes and Parquet carry duplicate field names).
pub(super) fn prev_names(header: &[String]) -> Vec<String> {
    let mut names: Vec<String> = header.to_vec();
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
}
