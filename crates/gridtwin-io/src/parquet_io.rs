//! GeoParquet (1.1, WKB geometry) reader and writer.
//!
//! The `geo` file metadata names the geometry column and its CRS; an absent CRS means
//! OGC:CRS84 (lon/lat WGS-84) by the specification. Anything else is a file-level
//! error. A Parquet file without `geo` metadata is read as a table whose geometry
//! comes from lon/lat columns, like CSV.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array,
    LargeBinaryArray, LargeStringArray, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use geozero::{wkb::Wkb, CoordDimensions, ToGeo, ToWkb};
use gridtwin_core::{RejectReason, Rejection};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::Value as Json;

use crate::error::IoError;
use crate::isolate::isolate;
use crate::record::{FieldType, Record, Table, Value};

/// Rows per written row group / read batch.
const BATCH: usize = 65_536;

fn geometry_column(file: &str, meta: Option<&str>) -> Result<Option<String>, IoError> {
    let Some(text) = meta else { return Ok(None) };
    let geo: Json = serde_json::from_str(text)
        .map_err(|e| IoError::read(file, format!("bad `geo` metadata: {e}")))?;
    let primary = geo
        .get("primary_column")
        .and_then(|p| p.as_str())
        .unwrap_or("geometry")
        .to_string();
    let col = geo.get("columns").and_then(|c| c.get(&primary));
    if let Some(enc) = col.and_then(|c| c.get("encoding")).and_then(|e| e.as_str()) {
        if !enc.eq_ignore_ascii_case("WKB") {
            return Err(IoError::read(
                file,
                format!("geometry encoding `{enc}` is not supported (WKB is)"),
            ));
        }
    }
    match col.and_then(|c| c.get("crs")) {
        None | Some(Json::Null) => {}
        Some(crs) => {
            let id = crs.get("id");
            let authority = id
                .and_then(|i| i.get("authority"))
                .and_then(|a| a.as_str())
                .unwrap_or("");
            let code = id
                .and_then(|i| i.get("code"))
                .map(|c| c.to_string().trim_matches('"').to_string())
                .unwrap_or_default();
            let ok =
                (authority == "EPSG" && code == "4326") || (authority == "OGC" && code == "CRS84");
            if !ok {
                let name = crs
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("a non-WGS-84 CRS");
                return Err(IoError::ForeignCrs {
                    file: file.to_string(),
                    crs: format!("{name} ({authority}:{code})"),
                });
            }
        }
    }
    Ok(Some(primary))
}

/// Row `row` of an Arrow column as a [`Value`]: text, any integer width (an unsigned
/// one beyond `i64` as its exact text), floats, booleans, and timestamps of any unit
/// and zone as Unix seconds; null as [`Value::Null`].
pub fn cell(array: &ArrayRef, row: usize) -> Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    // A dictionary column (pandas' categoricals, or a text column gridtwin reads as
    // one): the value its key points to.
    if let Some(d) = array.as_any_dictionary_opt() {
        let key = dictionary_key(d.keys(), row).ok_or("unreadable dictionary key")?;
        if key >= d.values().len() {
            return Err(format!("dictionary key {key} is past the dictionary's end"));
        }
        return cell(d.values(), key);
    }
    let a = array.as_any();
    macro_rules! try_as {
        ($t:ty, $f:expr) => {
            if let Some(x) = a.downcast_ref::<$t>() {
                return Ok($f(x.value(row)));
            }
        };
    }
    try_as!(StringArray, |s: &str| Value::Text(s.to_string()));
    try_as!(LargeStringArray, |s: &str| Value::Text(s.to_string()));
    // (string views: what Polars writes)
    try_as!(arrow_array::StringViewArray, |s: &str| Value::Text(
        s.to_string()
    ));
    try_as!(Int64Array, Value::Int);
    try_as!(Int32Array, |x: i32| Value::Int(x as i64));
    // (narrower and unsigned integers: what other writers use for counts and flags,
    // and what gridtwin's own timelines hold)
    try_as!(arrow_array::Int16Array, |x: i16| Value::Int(x as i64));
    try_as!(arrow_array::Int8Array, |x: i8| Value::Int(x as i64));
    try_as!(arrow_array::UInt32Array, |x: u32| Value::Int(x as i64));
    try_as!(arrow_array::UInt16Array, |x: u16| Value::Int(x as i64));
    try_as!(arrow_array::UInt8Array, |x: u8| Value::Int(x as i64));
    if let Some(x) = a.downcast_ref::<arrow_array::UInt64Array>() {
        // beyond i64 a count is no count: text keeps it exact
        let v = x.value(row);
        return Ok(i64::try_from(v).map_or_else(|_| Value::Text(v.to_string()), Value::Int));
    }
    try_as!(Float64Array, Value::Float);
    try_as!(Float32Array, |x: f32| Value::Float(x as f64));
    try_as!(BooleanArray, Value::Bool);
    if let DataType::Timestamp(unit, _) = array.data_type() {
        let raw = array
            .as_any()
            .downcast_ref::<arrow_array::PrimitiveArray<arrow_array::types::TimestampSecondType>>()
            .map(|x| x.value(row))
            .or_else(|| {
                a.downcast_ref::<arrow_array::TimestampMillisecondArray>()
                    .map(|x| x.value(row))
            })
            .or_else(|| {
                a.downcast_ref::<arrow_array::TimestampMicrosecondArray>()
                    .map(|x| x.value(row))
            })
            .or_else(|| {
                a.downcast_ref::<arrow_array::TimestampNanosecondArray>()
                    .map(|x| x.value(row))
            })
            .ok_or("unreadable timestamp")?;
        let secs = match unit {
            TimeUnit::Second => raw,
            TimeUnit::Millisecond => raw.div_euclid(1_000),
            TimeUnit::Microsecond => raw.div_euclid(1_000_000),
            TimeUnit::Nanosecond => raw.div_euclid(1_000_000_000),
        };
        return Ok(Value::Int(secs));
    }
    Err(format!(
        "column type {} is not supported",
        array.data_type()
    ))
}

/// Row `row` of a dictionary's keys (any integer type), `None` when null or negative.
pub(crate) fn dictionary_key(keys: &dyn Array, row: usize) -> Option<usize> {
    use arrow_array::types::*;
    use arrow_array::PrimitiveArray;
    if keys.is_null(row) {
        return None;
    }
    let a = keys.as_any();
    macro_rules! key_as {
        ($($t:ty),*) => {$(
            if let Some(k) = a.downcast_ref::<PrimitiveArray<$t>>() {
                return usize::try_from(k.value(row)).ok();
            }
        )*};
    }
    key_as!(
        Int32Type, Int8Type, Int16Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    );
    None
}

/// Reads every row of a (Geo)Parquet file (its declared row count checked against
/// the in-memory limit first).
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let mut stream = open(path)?;
    crate::limits::check_rows(&stream.file, stream.rows)?;
    let mut out = Vec::new();
    while let Some(batch) = stream.next_batch()? {
        out.extend(batch);
    }
    Ok(out)
}

/// A (Geo)Parquet file read a record batch at a time: memory is bounded by a batch
/// (65,536 rows), whatever the file's size.
pub struct ParquetRecords {
    file: String,
    /// Rows the file declares.
    pub rows: u64,
    schema: Arc<Schema>,
    geom_col: Option<String>,
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    number: u64,
}

/// Opens a (Geo)Parquet file for [`ParquetRecords::next_batch`]: its metadata read
/// (isolated: the decoder panics on some corrupt footers), every column's type
/// checked, the geometry column found from the `geo` metadata.
pub fn open(path: &Path) -> Result<ParquetRecords, IoError> {
    open_columns(path, |_| true)
}

/// [`open`], reading only the columns whose names `keep` takes (and the geometry):
/// the records and batches then hold those alone.
pub fn open_columns(path: &Path, keep: impl Fn(&str) -> bool) -> Result<ParquetRecords, IoError> {
    open_columns_as(path, keep, |_| false)
}

/// [`open`], decoding the text columns whose names `as_dictionary` takes as
/// dictionary arrays (`Dictionary(Int32, Utf8)`): a column of a few distinct values
/// (a category, a department, a status) is then read as its Parquet dictionary and
/// keys, with no string per row (issue 19: a megacity's 12 M components).
pub fn open_as_dictionaries(
    path: &Path,
    as_dictionary: impl Fn(&str) -> bool,
) -> Result<ParquetRecords, IoError> {
    open_columns_as(path, |_| true, as_dictionary)
}

fn open_columns_as(
    path: &Path,
    keep: impl Fn(&str) -> bool,
    as_dictionary: impl Fn(&str) -> bool,
) -> Result<ParquetRecords, IoError> {
    let file = path.display().to_string();
    let f = File::open(path).map_err(|e| IoError::read(&file, e))?;
    let again = f.try_clone().map_err(|e| IoError::read(&file, e))?;
    let builder = isolate(|| ParquetRecordBatchReaderBuilder::try_new(f))
        .map_err(|e| IoError::read(&file, format!("corrupt metadata: {e}")))?
        .map_err(|e| IoError::read(&file, e))?;
    let geo_meta = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| {
            kv.iter()
                .find(|k| k.key == "geo")
                .and_then(|k| k.value.clone())
        });
    let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let geom_col = geometry_column(&file, geo_meta.as_deref())?;
    let schema = builder.schema().clone();
    for f in schema.fields() {
        let supported = matches!(
            f.data_type(),
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Int64
                | DataType::Int32
                | DataType::Int16
                | DataType::Int8
                | DataType::UInt64
                | DataType::UInt32
                | DataType::UInt16
                | DataType::UInt8
                | DataType::Float64
                | DataType::Float32
                | DataType::Boolean
                | DataType::Timestamp(_, _)
        ) || matches!(f.data_type(), DataType::Dictionary(k, v)
                if k.is_integer() && matches!(**v, DataType::Utf8 | DataType::LargeUtf8))
            || (Some(f.name()) == geom_col.as_ref()
                && matches!(f.data_type(), DataType::Binary | DataType::LargeBinary));
        if !supported {
            return Err(IoError::read(
                &file,
                format!(
                    "column `{}` has type {}, which gridtwin does not read",
                    f.name(),
                    f.data_type()
                ),
            ));
        }
    }
    let dictionaries: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| {
            let f = schema.field(i);
            // (a dictionary column of other keys, pandas' categoricals, is read with
            // Int32 keys, the one kind the columnar readers take)
            let text = match f.data_type() {
                DataType::Utf8 => true,
                DataType::Dictionary(k, v) => **k != DataType::Int32 && **v == DataType::Utf8,
                _ => false,
            };
            text && as_dictionary(f.name())
        })
        .collect();
    let (builder, schema) = if dictionaries.is_empty() {
        (builder, schema)
    } else {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = f.as_ref().clone();
                if dictionaries.contains(&i) {
                    f.with_data_type(DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(DataType::Utf8),
                    ))
                } else {
                    f
                }
            })
            .collect();
        let supplied = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let options =
            parquet::arrow::arrow_reader::ArrowReaderOptions::new().with_schema(supplied.clone());
        let meta = parquet::arrow::arrow_reader::ArrowReaderMetadata::try_new(
            builder.metadata().clone(),
            options,
        )
        .map_err(|e| IoError::read(&file, e))?;
        (
            ParquetRecordBatchReaderBuilder::new_with_metadata(again, meta),
            supplied,
        )
    };
    let kept: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| {
            let name = schema.field(i).name();
            Some(name) == geom_col.as_ref() || keep(name)
        })
        .collect();
    let (builder, schema) = if kept.len() == schema.fields().len() {
        (builder, schema)
    } else {
        let mask =
            parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), kept.iter().copied());
        let projected = Arc::new(schema.project(&kept).map_err(|e| IoError::read(&file, e))?);
        (builder.with_projection(mask), projected)
    };
    let reader = builder
        .with_batch_size(BATCH)
        .build()
        .map_err(|e| IoError::read(&file, e))?;
    Ok(ParquetRecords {
        file,
        rows,
        schema,
        geom_col,
        reader,
        number: 0,
    })
}

impl ParquetRecords {
    /// The names of the columns other than the geometry, in file order.
    pub fn field_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| Some(n) != self.geom_col.as_ref())
            .collect()
    }

    /// Whether every column has its own name (a columnar reader picks columns by
    /// position, the record path by name: they agree only then).
    pub fn distinct_names(&self) -> bool {
        let mut seen = std::collections::HashSet::new();
        self.schema.fields().iter().all(|f| seen.insert(f.name()))
    }

    /// Whether the file has a geometry column.
    pub fn has_geometry(&self) -> bool {
        self.geom_col.is_some()
    }

    /// The next record batch as decoded, with the number of its first record, `None`
    /// at the end; a file that ends early is an error naming the last record read.
    /// (Columnar readers take this; [`ParquetRecords::next_batch`] makes records.)
    pub fn next_record_batch(&mut self) -> Result<Option<(RecordBatch, u64)>, IoError> {
        let (file, number) = (&self.file, self.number);
        let Some(batch) = isolate(|| self.reader.next())
            .map_err(|e| IoError::read(file, format!("after record {number}: {e}")))?
        else {
            return Ok(None);
        };
        let batch: RecordBatch =
            batch.map_err(|e| IoError::read(file, format!("after record {number}: {e}")))?;
        self.number += batch.num_rows() as u64;
        Ok(Some((batch, number + 1)))
    }

    /// The index of the geometry column in a record batch, if there is one.
    pub fn geometry_index(&self) -> Option<usize> {
        let g = self.geom_col.as_ref()?;
        self.schema.fields().iter().position(|f| f.name() == g)
    }

    /// The next batch's records (a bad row as its rejection), `None` at the end; a
    /// file that ends early is an error naming the last record read.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Result<Record, Rejection>>>, IoError> {
        let Some((batch, first)) = self.next_record_batch()? else {
            return Ok(None);
        };
        let rows = self.row_reader();
        let out = (0..batch.num_rows())
            .map(|row| rows.record_of(&batch, row, first + row as u64))
            .collect();
        Ok(Some(out))
    }

    /// What turns a batch's rows into records, apart from the file's reader (so one
    /// thread can decode batches while another reads their rows).
    pub fn row_reader(&self) -> RowReader {
        RowReader {
            file: self.file.clone(),
            schema: self.schema.clone(),
            geom_col: self.geom_col.clone(),
        }
    }
}

/// Turns rows of a Parquet layer's record batches into records (see
/// [`ParquetRecords::row_reader`]).
#[derive(Clone)]
pub struct RowReader {
    file: String,
    schema: Arc<Schema>,
    geom_col: Option<String>,
}

impl RowReader {
    /// Row `row` of `batch` (record `number`) as a record, or its rejection: the
    /// record path of every reader of a Parquet layer.
    pub fn record_of(
        &self,
        batch: &RecordBatch,
        row: usize,
        number: u64,
    ) -> Result<Record, Rejection> {
        let file = &self.file;
        let (schema, geom_col) = (&self.schema, &self.geom_col);
        let mut geometry = None;
        let mut fields = Vec::with_capacity(batch.num_columns());
        let mut problem = None;
        for (f, col) in schema.fields().iter().zip(batch.columns()) {
            if Some(f.name()) == geom_col.as_ref() {
                if col.is_null(row) {
                    continue;
                }
                let bytes: &[u8] = if let Some(b) = col.as_any().downcast_ref::<BinaryArray>() {
                    b.value(row)
                } else if let Some(b) = col.as_any().downcast_ref::<LargeBinaryArray>() {
                    b.value(row)
                } else {
                    &[]
                };
                // the declared counts must fit in the bytes (the decoder reserves
                // what a count claims), and the decoder runs isolated
                let decoded = match plain_point(bytes) {
                    Some(p) => Ok(geo::Geometry::Point(p)),
                    None => wkb_fits(bytes)
                        .and_then(|()| isolate(|| Wkb(bytes).to_geo()))
                        .and_then(|g| g.map_err(|e| e.to_string())),
                };
                match decoded {
                    Ok(g) => geometry = Some(g),
                    Err(e) => problem = Some((RejectReason::InvalidGeometry, format!("WKB: {e}"))),
                }
            } else {
                match cell(col, row) {
                    Ok(v) => fields.push((f.name().clone(), v)),
                    Err(e) => {
                        problem = Some((RejectReason::BadValue, format!("{}: {e}", f.name())))
                    }
                }
            }
        }
        match problem {
            Some((reason, detail)) => Err(Rejection::new(file, number, reason, detail)),
            None => Ok(Record {
                number,
                geometry,
                fields,
            }),
        }
    }
}

/// A Parquet layer's record batches decoded on a thread of their own while the caller
/// works on the previous one (see [`ParquetRecords::decode_on_thread`]). A reader that
/// stops before the end of the file is an error, never a short layer.
pub struct DecodedBatches {
    file: String,
    rx: std::sync::mpsc::Receiver<Result<Option<(RecordBatch, u64)>, IoError>>,
    done: bool,
}

impl Iterator for DecodedBatches {
    type Item = Result<(RecordBatch, u64), IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = match self.rx.recv() {
            Ok(Ok(Some(batch))) => return Some(Ok(batch)),
            Ok(Ok(None)) => None,
            Ok(Err(e)) => Some(Err(e)),
            Err(_) => Some(Err(IoError::read(
                &self.file,
                "the reader stopped before the end of the file",
            ))),
        };
        self.done = true;
        next
    }
}

impl ParquetRecords {
    /// The remaining batches, decoded on a thread of their own (one batch ahead).
    pub fn decode_on_thread(mut self) -> DecodedBatches {
        let file = self.file.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || loop {
            let next = self.next_record_batch();
            let end = !matches!(next, Ok(Some(_)));
            if tx.send(next).is_err() || end {
                return;
            }
        });
        DecodedBatches {
            file,
            rx,
            done: false,
        }
    }
}

/// A record batch of a point layer, as [`for_each_point_batch`] hands it on: each
/// row's point read in place, the text of the named columns, and the row as a record
/// for anything else.
pub struct PointBatch<'a> {
    /// The number of the batch's first record.
    pub first: u64,
    batch: &'a RecordBatch,
    rows: &'a RowReader,
    wkb: Option<&'a dyn Array>,
    lonlat: Option<(&'a Float64Array, &'a Float64Array)>,
    texts: Vec<Option<&'a dyn Array>>,
}

impl PointBatch<'_> {
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    /// The row's point when it is a plain valid point (a WKB point, or Float64
    /// `lon`/`lat` columns where the layer has no geometry); `None` otherwise: read
    /// the row with [`PointBatch::record`].
    pub fn point(&self, row: usize) -> Option<(f64, f64)> {
        if let Some(c) = self.wkb {
            if c.is_null(row) {
                return None;
            }
            let any = c.as_any();
            let bytes = match any.downcast_ref::<BinaryArray>() {
                Some(b) => b.value(row),
                None => any.downcast_ref::<LargeBinaryArray>()?.value(row),
            };
            return plain_point(bytes).map(|p| (p.x(), p.y()));
        }
        let (x, y) = self.lonlat?;
        (!x.is_null(row) && !y.is_null(row)).then(|| (x.value(row), y.value(row)))
    }

    /// The trimmed text of the `k`-th named column (`Some(None)` when null, blank or
    /// absent); `None` when that column is not text (read the row as a record).
    pub fn text(&self, k: usize, row: usize) -> Option<Option<&str>> {
        let Some(c) = self.texts.get(k).copied().flatten() else {
            return Some(None);
        };
        let any = c.as_any();
        let s = if let Some(a) = any.downcast_ref::<StringArray>() {
            (!a.is_null(row)).then(|| a.value(row))
        } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
            (!a.is_null(row)).then(|| a.value(row))
        } else if let Some(a) = any.downcast_ref::<arrow_array::StringViewArray>() {
            (!a.is_null(row)).then(|| a.value(row))
        } else {
            return None;
        };
        Some(s.map(str::trim).filter(|s| !s.is_empty()))
    }

    /// The row as a record (or its rejection), as every other reader makes it.
    pub fn record(&self, row: usize) -> Result<Record, Rejection> {
        self.rows
            .record_of(self.batch, row, self.first + row as u64)
    }
}

/// Streams a (Geo)Parquet point layer a record batch at a time (decoded on a thread
/// of its own; only its point, `lon`/`lat` and `names` columns, so a row read as a
/// record holds those alone), handing `each` a [`PointBatch`] with the text of the columns `names`
/// (found as [`Record::get`] finds a field: the first column of that name, any case).
/// Memory is bounded by a few batches, whatever the file's size.
pub fn for_each_point_batch(
    path: &Path,
    names: &[&str],
    mut each: impl FnMut(&PointBatch) -> Result<(), IoError>,
) -> Result<(), IoError> {
    // only the point and the named columns are decoded
    let stream = open_columns(path, |c| {
        ["lon", "lat"]
            .iter()
            .chain(names)
            .any(|n| c.eq_ignore_ascii_case(n))
    })?;
    let geometry = stream.geometry_index();
    let rows = stream.row_reader();
    for next in stream.decode_on_thread() {
        let (batch, first) = next?;
        let schema = batch.schema();
        let column = |name: &str| {
            (0..batch.num_columns())
                .find(|&i| Some(i) != geometry && schema.field(i).name().eq_ignore_ascii_case(name))
                .map(|i| batch.column(i).as_ref())
        };
        let float =
            |name: &str| column(name).and_then(|c| c.as_any().downcast_ref::<Float64Array>());
        let lonlat = match geometry {
            Some(_) => None,
            None => float("lon").zip(float("lat")),
        };
        let points = PointBatch {
            first,
            batch: &batch,
            rows: &rows,
            wkb: geometry.map(|g| batch.column(g).as_ref()),
            lonlat,
            texts: names.iter().map(|n| column(n)).collect(),
        };
        each(&points)?;
    }
    Ok(())
}

/// Reads one text column of a Parquet file and nothing else (a projection: a 12 M-row
/// component layer's codes without its geometries), handing each value in row order
/// to `take` (`None` for a null). Returns the rows read; a file without the column is
/// an error naming it.
pub fn for_each_text(
    path: &Path,
    column: &str,
    mut take: impl FnMut(Option<&str>),
) -> Result<u64, IoError> {
    let file = path.display().to_string();
    let f = File::open(path).map_err(|e| IoError::read(&file, e))?;
    let builder = isolate(|| ParquetRecordBatchReaderBuilder::try_new(f))
        .map_err(|e| IoError::read(&file, format!("corrupt metadata: {e}")))?
        .map_err(|e| IoError::read(&file, e))?;
    crate::limits::check_rows(
        &file,
        builder.metadata().file_metadata().num_rows().max(0) as u64,
    )?;
    let schema = builder.parquet_schema();
    let Some(leaf) = (0..schema.num_columns()).find(|&i| schema.column(i).name() == column) else {
        return Err(IoError::read(&file, format!("no `{column}` column")));
    };
    let mask = parquet::arrow::ProjectionMask::leaves(schema, [leaf]);
    let mut reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH)
        .build()
        .map_err(|e| IoError::read(&file, e))?;
    let mut number = 0u64;
    while let Some(batch) = isolate(|| reader.next())
        .map_err(|e| IoError::read(&file, format!("after record {number}: {e}")))?
    {
        let batch =
            batch.map_err(|e| IoError::read(&file, format!("after record {number}: {e}")))?;
        let col = batch.column(0);
        let any = col.as_any();
        if let Some(a) = any.downcast_ref::<StringArray>() {
            for i in 0..a.len() {
                take((!a.is_null(i)).then(|| a.value(i)));
            }
        } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
            for i in 0..a.len() {
                take((!a.is_null(i)).then(|| a.value(i)));
            }
        } else if let Some(a) = any.downcast_ref::<arrow_array::StringViewArray>() {
            for i in 0..a.len() {
                take((!a.is_null(i)).then(|| a.value(i)));
            }
        } else {
            return Err(IoError::read(
                &file,
                format!("column `{column}` has type {}, not text", col.data_type()),
            ));
        }
        number += batch.num_rows() as u64;
    }
    Ok(number)
}

/// A finite point in the common WKB encodings, read in place (the decoder is slow and
/// does not read big-endian EWKB with Z): byte order, type 1 (2-D), 1001 or
/// 0x8000_0001 (with Z, ignored), then the coordinates.
pub(crate) fn plain_point(b: &[u8]) -> Option<geo::Point<f64>> {
    let little = match b.first()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let u32_at = |i: usize| -> Option<u32> {
        let w: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let f64_at = |i: usize| -> Option<f64> {
        let w: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
        Some(if little {
            f64::from_le_bytes(w)
        } else {
            f64::from_be_bytes(w)
        })
    };
    let len = match u32_at(1)? {
        1 => 21,
        1001 | 0x8000_0001 => 29,
        _ => return None,
    };
    if b.len() != len {
        return None;
    }
    let (x, y) = (f64_at(5)?, f64_at(13)?);
    (x.is_finite() && y.is_finite()).then(|| geo::Point::new(x, y))
}

/// Whether a WKB (ISO or EWKB) geometry's declared counts fit in its bytes: a point
/// takes 8 bytes per coordinate, a ring or line 4 bytes for its count, and so on.
/// Walks the structure without allocating (a count claiming 2^31 points in a 1 kB
/// file made the decoder reserve them all).
pub(crate) fn wkb_fits(bytes: &[u8]) -> Result<(), String> {
    fn walk(b: &[u8], at: &mut usize, depth: u32) -> Result<(), String> {
        if depth > 32 {
            return Err("geometry nested more than 32 deep".into());
        }
        let need = |at: usize, n: usize| {
            if at.checked_add(n).is_some_and(|e| e <= b.len()) {
                Ok(())
            } else {
                Err(format!("truncated: {n} more bytes needed at byte {at}"))
            }
        };
        need(*at, 5)?;
        let little = match b[*at] {
            0 => false,
            1 => true,
            x => return Err(format!("byte order {x} at byte {at}")),
        };
        let u32_at = |i: usize| {
            let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
            if little {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        let raw = u32_at(*at + 1);
        *at += 5;
        // EWKB flags, then ISO's thousands for Z / M / ZM
        let mut dims = 2 + (raw & 0x8000_0000 != 0) as usize + (raw & 0x4000_0000 != 0) as usize;
        if raw & 0x2000_0000 != 0 {
            need(*at, 4)?; // SRID
            *at += 4;
        }
        let iso = raw & 0x0FFF_FFFF;
        dims += match iso / 1000 {
            0 => 0,
            1 | 2 => 1,
            3 => 2,
            _ => return Err(format!("geometry type {raw}")),
        };
        let point = 8 * dims;
        let count = |at: &mut usize| -> Result<usize, String> {
            need(*at, 4)?;
            let n = u32_at(*at) as usize;
            *at += 4;
            Ok(n)
        };
        match iso % 1000 {
            1 => {
                need(*at, point)?;
                *at += point;
            }
            2 => {
                let n = count(at)?;
                need(*at, n.saturating_mul(point))?;
                *at += n * point;
            }
            3 => {
                let rings = count(at)?;
                need(*at, rings.saturating_mul(4))?;
                for _ in 0..rings {
                    let n = count(at)?;
                    need(*at, n.saturating_mul(point))?;
                    *at += n * point;
                }
            }
            4..=7 => {
                let n = count(at)?;
                // each part takes at least a 5-byte header
                need(*at, n.saturating_mul(5))?;
                for _ in 0..n {
                    walk(b, at, depth + 1)?;
                }
            }
            t => return Err(format!("geometry type {t}")),
        }
        Ok(())
    }
    let mut at = 0;
    walk(bytes, &mut at, 0)
}

pub(crate) fn geometry_type_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "LineString",
        geo::Geometry::Polygon(_) | geo::Geometry::Rect(_) | geo::Geometry::Triangle(_) => {
            "Polygon"
        }
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::MultiPolygon(_) => "MultiPolygon",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

fn column(t: FieldType, values: Vec<&Value>) -> ArrayRef {
    match t {
        FieldType::Bool => Arc::new(BooleanArray::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        FieldType::Int => Arc::new(Int64Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        FieldType::Float => Arc::new(Float64Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Float(f) => Some(*f),
                    Value::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        FieldType::Text => Arc::new(StringArray::from(
            values.iter().map(|v| v.as_text()).collect::<Vec<_>>(),
        )),
    }
}

pub(crate) fn arrow_schema(table: &Table) -> Arc<Schema> {
    let mut fields: Vec<Field> = table
        .schema
        .iter()
        .map(|(n, t)| {
            let dt = match t {
                FieldType::Bool => DataType::Boolean,
                FieldType::Int => DataType::Int64,
                FieldType::Float => DataType::Float64,
                FieldType::Text => DataType::Utf8,
            };
            Field::new(n, dt, true)
        })
        .collect();
    fields.push(Field::new("geometry", DataType::Binary, true));
    Arc::new(Schema::new_with_metadata(fields, HashMap::new()))
}

/// Writer properties carrying the GeoParquet `geo` metadata.
pub(crate) fn properties(types: &[&str], bbox: Option<geo::Rect<f64>>) -> WriterProperties {
    let mut col = serde_json::json!({"encoding": "WKB", "geometry_types": types});
    if let Some(b) = bbox {
        col["bbox"] = serde_json::json!([b.min().x, b.min().y, b.max().x, b.max().y]);
    }
    let geo_meta = serde_json::json!({"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": col}});
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(BATCH))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "geo".to_string(),
            geo_meta.to_string(),
        )]))
        .build()
}

/// One Arrow batch of rows.
pub(crate) fn batch(
    table: &Table,
    schema: &Arc<Schema>,
    rows: &[(Option<geo::Geometry<f64>>, Vec<Value>)],
) -> Result<RecordBatch, String> {
    let mut arrays: Vec<ArrayRef> = (0..table.schema.len())
        .map(|c| column(table.schema[c].1, rows.iter().map(|(_, v)| &v[c]).collect()))
        .collect();
    let wkb: Vec<Option<Vec<u8>>> = rows
        .iter()
        .map(|(g, _)| {
            g.as_ref()
                .map(|g| g.to_wkb(CoordDimensions::xy()))
                .transpose()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    arrays.push(Arc::new(BinaryArray::from(
        wkb.iter().map(|b| b.as_deref()).collect::<Vec<_>>(),
    )));
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())
}

/// A table as Arrow record batches of the GeoParquet writer's columns (one per field,
/// then the WKB `geometry`), for an Arrow consumer in the same process (the Python
/// package hands them over through the C stream interface).
pub fn record_batches(table: &Table) -> Result<(Arc<Schema>, Vec<RecordBatch>), String> {
    let schema = arrow_schema(table);
    let batches = table
        .rows
        .chunks(BATCH)
        .map(|chunk| batch(table, &schema, chunk))
        .collect::<Result<_, _>>()?;
    Ok((schema, batches))
}

/// Writes a table as GeoParquet 1.1 (WKB `geometry` column, CRS OGC:CRS84, snappy).
pub fn write<W: Write + Send>(table: &Table, w: W) -> Result<(), String> {
    let schema = arrow_schema(table);
    let mut types: Vec<&str> = table
        .rows
        .iter()
        .filter_map(|(g, _)| g.as_ref().map(geometry_type_name))
        .collect();
    types.sort_unstable();
    types.dedup();
    let bbox = table
        .rows
        .iter()
        .filter_map(|(g, _)| g.as_ref().and_then(geo::BoundingRect::bounding_rect))
        .reduce(|a, b| {
            geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
    let mut writer = ArrowWriter::try_new(w, schema.clone(), Some(properties(&types, bbox)))
        .map_err(|e| e.to_string())?;
    for chunk in table.rows.chunks(BATCH) {
        writer
            .write(&batch(table, &schema, chunk)?)
            .map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod wkb_tests {
    use super::wkb_fits;

    fn point(x: f64, y: f64) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
        b
    }

    #[test]
    fn well_formed_wkb_fits_and_a_count_claiming_billions_does_not() {
        assert_eq!(wkb_fits(&point(24.9, 60.1)), Ok(()));
        // a polygon with one ring of four points
        let mut poly = vec![1u8];
        poly.extend_from_slice(&3u32.to_le_bytes());
        poly.extend_from_slice(&1u32.to_le_bytes());
        poly.extend_from_slice(&4u32.to_le_bytes());
        for (x, y) in [(0.0f64, 0.0f64), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)] {
            poly.extend_from_slice(&x.to_le_bytes());
            poly.extend_from_slice(&y.to_le_bytes());
        }
        assert_eq!(wkb_fits(&poly), Ok(()));
        // a multipoint of two points, big-endian header
        let mut multi = vec![0u8];
        multi.extend_from_slice(&4u32.to_be_bytes());
        multi.extend_from_slice(&2u32.to_be_bytes());
        multi.extend(point(1.0, 2.0));
        multi.extend(point(3.0, 4.0));
        assert_eq!(wkb_fits(&multi), Ok(()));
        // issue 14: a line claiming 2^31 points in a few bytes
        let mut line = vec![1u8];
        line.extend_from_slice(&2u32.to_le_bytes());
        line.extend_from_slice(&(1u32 << 31).to_le_bytes());
        line.extend_from_slice(&[0u8; 32]);
        assert!(wkb_fits(&line).unwrap_err().contains("truncated"));
        // cut short, bad byte order, unknown type
        assert!(wkb_fits(&poly[..poly.len() - 1]).is_err());
        assert!(wkb_fits(&[7, 1, 0, 0, 0]).is_err());
        assert!(wkb_fits(&[1, 99, 0, 0, 0]).is_err());
        // and a deep nest of collections is refused, not a stack overflow
        let mut nest = Vec::new();
        for _ in 0..100 {
            nest.push(1u8);
            nest.extend_from_slice(&7u32.to_le_bytes());
            nest.extend_from_slice(&1u32.to_le_bytes());
        }
        assert!(wkb_fits(&nest).is_err());
    }
}
