//! Streaming output for tables too large to hold at once (millions of components):
//! rows are written chunk by chunk to CSV or GeoParquet, into a temporary file that is
//! renamed over the target only when [`TableSink::finish`] succeeds. GeoParquet is
//! encoded on a thread of its own (dictionaries, Snappy), so the caller makes the
//! next chunk meanwhile.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;

use crate::error::IoError;
use crate::format::Format;
use crate::record::Table;

enum Inner {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Parquet(ParquetThread),
}

/// A GeoParquet writer on its own thread, fed record batches.
struct ParquetThread {
    tx: Option<SyncSender<RecordBatch>>,
    handle: Option<JoinHandle<Result<BufWriter<File>, String>>>,
    schema: Arc<Schema>,
}

impl ParquetThread {
    fn start(w: ArrowWriter<BufWriter<File>>, schema: Arc<Schema>) -> Self {
        let (tx, rx) = sync_channel::<RecordBatch>(2);
        let handle = std::thread::spawn(move || {
            let mut w = w;
            for batch in rx {
                w.write(&batch).map_err(|e| e.to_string())?;
            }
            w.into_inner().map_err(|e| e.to_string())
        });
        ParquetThread {
            tx: Some(tx),
            handle: Some(handle),
            schema,
        }
    }

    /// Hands a batch to the writer; its error if it has stopped.
    fn send(&mut self, batch: RecordBatch) -> Result<(), String> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if sent {
            return Ok(());
        }
        Err(self
            .finish()
            .err()
            .unwrap_or_else(|| "the writer stopped".into()))
    }

    /// Waits for every batch to be written; the file, or the writer's error.
    fn finish(&mut self) -> Result<BufWriter<File>, String> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the writer thread panicked".into()),
            None => Err("the writer stopped earlier".into()),
        }
    }
}

/// A point table written in chunks. Each chunk is a [`Table`] with the same schema.
pub struct TableSink {
    inner: Option<Inner>,
    tmp: Option<crate::atomic::Staged>,
    path: PathBuf,
}

impl TableSink {
    /// Opens a sink for point rows; the format follows the extension (`.csv` or `.parquet`).
    pub fn create(path: &Path, template: &Table) -> Result<Self, IoError> {
        let name = path.display().to_string();
        let (tmp, file) = crate::atomic::Staged::create(path)?;
        let file = BufWriter::with_capacity(1 << 20, file);
        let inner = match Format::from_path(path)? {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(file);
                w.write_record(crate::csv_io::header(template, true))
                    .map_err(|e| IoError::write(&name, e))?;
                Inner::Csv(Box::new(w))
            }
            Format::GeoParquet => {
                let schema = crate::parquet_io::arrow_schema(template);
                let w = ArrowWriter::try_new(
                    file,
                    schema.clone(),
                    Some(crate::parquet_io::properties(&["Point"], None)),
                )
                .map_err(|e| IoError::write(&name, e))?;
                Inner::Parquet(ParquetThread::start(w, schema))
            }
            _ => {
                return Err(IoError::write(
                    &name,
                    "streamed output is written as .csv or .parquet",
                ))
            }
        };
        Ok(TableSink {
            inner: Some(inner),
            tmp: Some(tmp),
            path: path.to_path_buf(),
        })
    }

    /// Appends a chunk of rows.
    pub fn write(&mut self, chunk: &Table) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        match self.inner.as_mut().expect("sink open") {
            Inner::Csv(w) => {
                crate::csv_io::write_rows(w, chunk, true).map_err(|e| IoError::write(&name, e))
            }
            Inner::Parquet(w) => {
                let batch = crate::parquet_io::batch(chunk, &w.schema, &chunk.rows)
                    .map_err(|e| IoError::write(&name, e))?;
                w.send(batch).map_err(|e| IoError::write(&name, e))
            }
        }
    }

    /// Appends rows given as the Arrow columns of a GeoParquet sink's schema (the
    /// template's fields, then the WKB geometry): the columnar paths build them
    /// without a row of [`crate::record::Value`]s.
    pub fn write_columns(&mut self, columns: Vec<arrow_array::ArrayRef>) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        match self.inner.as_mut().expect("sink open") {
            Inner::Parquet(w) => {
                let batch = RecordBatch::try_new(w.schema.clone(), columns)
                    .map_err(|e| IoError::write(&name, e))?;
                w.send(batch).map_err(|e| IoError::write(&name, e))
            }
            Inner::Csv(_) => Err(IoError::write(
                &name,
                "Arrow columns are written to a .parquet sink",
            )),
        }
    }

    /// Completes the file and moves it into place.
    pub fn finish(mut self) -> Result<(), IoError> {
        let name = self.path.display().to_string();
        let file = match self.inner.take().expect("sink open") {
            Inner::Csv(w) => (*w)
                .into_inner()
                .map_err(|e| IoError::write(&name, e.error()))?,
            Inner::Parquet(mut w) => w.finish().map_err(|e| IoError::write(&name, e))?,
        };
        let file = file
            .into_inner()
            .map_err(|e| IoError::write(&name, e.error()))?;
        file.sync_all().map_err(|e| IoError::write(&name, e))?;
        drop(file);
        match self.tmp.take() {
            Some(t) => t.publish(),
            None => Err(IoError::write(&name, "published twice")),
        }
    }
}
