//! FlatGeobuf reader and writer.
//!
//! Files are written without the optional packed R-tree: the index would reorder
//! features along a Hilbert curve, and analysts need row order (record numbers) kept.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;

use flatgeobuf::{
    ColumnType, FallibleStreamingIterator, FeatureProperties, FgbCrs, FgbReader, FgbWriter,
    FgbWriterOptions, GeometryType,
};
use geozero::{ColumnValue, PropertyProcessor, ToGeo};
use gridtwin_core::{RejectReason, Rejection};

use crate::error::IoError;
use crate::isolate::isolate;
use crate::record::{FieldType, Record, Table, Value};

struct Props(Vec<(String, Value)>);

impl PropertyProcessor for Props {
    fn property(&mut self, _i: usize, name: &str, v: &ColumnValue) -> geozero::error::Result<bool> {
        let value = match v {
            ColumnValue::Byte(x) => Value::Int(*x as i64),
            ColumnValue::UByte(x) => Value::Int(*x as i64),
            ColumnValue::Short(x) => Value::Int(*x as i64),
            ColumnValue::UShort(x) => Value::Int(*x as i64),
            ColumnValue::Int(x) => Value::Int(*x as i64),
            ColumnValue::UInt(x) => Value::Int(*x as i64),
            ColumnValue::Long(x) => Value::Int(*x),
            ColumnValue::ULong(x) => i64::try_from(*x)
                .map(Value::Int)
                .unwrap_or(Value::Float(*x as f64)),
            ColumnValue::Float(x) => Value::Float(*x as f64),
            ColumnValue::Double(x) => Value::Float(*x),
            ColumnValue::Bool(x) => Value::Bool(*x),
            ColumnValue::String(s) | ColumnValue::Json(s) | ColumnValue::DateTime(s) => {
                Value::Text(s.to_string())
            }
            ColumnValue::Binary(b) => Value::Text(format!("<{} bytes>", b.len())),
        };
        self.0.push((name.to_string(), value));
        Ok(false)
    }
}

/// Walks a FlatGeobuf file's structure before any decoder sees it: the header and
/// every feature's size prefix must fit in the file (a corrupt length near 4 GB made
/// the decoder reserve that much), and the features found must be as many as the
/// header declares (a file cut at a feature boundary loaded as complete). Returns the
/// count found.
fn check_structure(path: &Path, file: &str) -> Result<u64, IoError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).map_err(|e| IoError::read(file, e))?;
    let len = f.metadata().map_err(|e| IoError::read(file, e))?.len();
    let mut head = [0u8; 12];
    f.read_exact(&mut head)
        .map_err(|_| IoError::read(file, format!("{len} bytes: too short for a FlatGeobuf")))?;
    if &head[..3] != b"fgb" {
        return Err(IoError::read(
            file,
            "not a FlatGeobuf (no `fgb` magic bytes)",
        ));
    }
    let header_size = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as u64;
    if 12 + header_size > len {
        return Err(IoError::read(
            file,
            format!("its header claims {header_size} bytes, more than the file's {len}: truncated or corrupt"),
        ));
    }
    // (with its length prefix, as the decoder reads it: offsets are aligned from there)
    let mut header = vec![0u8; 4 + header_size as usize];
    header[..4].copy_from_slice(&head[8..12]);
    f.read_exact(&mut header[4..])
        .map_err(|e| IoError::read(file, e))?;
    let h = flatgeobuf::size_prefixed_root_as_header(&header)
        .map_err(|e| IoError::read(file, format!("corrupt header: {e}")))?;
    let (declared, node_size) = (h.features_count(), h.index_node_size());
    let mut at = 12 + header_size;
    if node_size > 0 && declared > 0 {
        if declared > len {
            return Err(IoError::read(
                file,
                format!(
                    "its header declares {declared} features, more than its {len} bytes can hold"
                ),
            ));
        }
        let index = isolate(|| {
            flatgeobuf::packed_r_tree::PackedRTree::index_size(declared as usize, node_size.max(2))
        })
        .map_err(|e| IoError::read(file, format!("spatial index: {e}")))?;
        at += index as u64;
    }
    let mut found = 0u64;
    while at < len {
        if at + 4 > len {
            return Err(IoError::read(
                file,
                format!("cut inside feature {}: truncated", found + 1),
            ));
        }
        f.seek(SeekFrom::Start(at))
            .map_err(|e| IoError::read(file, e))?;
        let mut size = [0u8; 4];
        f.read_exact(&mut size)
            .map_err(|e| IoError::read(file, e))?;
        let size = u32::from_le_bytes(size) as u64;
        if at + 4 + size > len {
            return Err(IoError::read(
                file,
                format!(
                    "feature {} claims {size} bytes, more than the file holds: truncated or corrupt",
                    found + 1
                ),
            ));
        }
        at += 4 + size;
        found += 1;
    }
    if declared > 0 && found != declared {
        return Err(IoError::read(
            file,
            format!("its header declares {declared} features, the file holds {found}: truncated"),
        ));
    }
    Ok(found)
}

/// Reads every feature of a FlatGeobuf file (its feature count checked against the
/// in-memory limit first). See [`open`].
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let mut stream = open(path)?;
    crate::limits::check_rows(&stream.file, stream.count)?;
    let mut out = Vec::with_capacity(stream.count.min(1 << 20) as usize);
    while let Some(record) = stream.next_record()? {
        out.push(record);
    }
    Ok(out)
}

/// A FlatGeobuf file read feature by feature: memory is bounded by one feature,
/// whatever the file's size.
pub struct FgbRecords {
    file: String,
    /// Features the file holds (its structure walked).
    pub count: u64,
    names: Vec<String>,
    features: flatgeobuf::FeatureIter<BufReader<File>, flatgeobuf::Seekable>,
    number: u64,
}

/// Opens a FlatGeobuf file for [`FgbRecords::next_record`]. The structure is checked
/// first (see `check_structure`: every feature's size fits in the file, the count
/// agrees with the header); the decoder then runs isolated, so a corrupt feature is a
/// rejection with its record number, not a crash. A CRS other than WGS-84 is refused.
pub fn open(path: &Path) -> Result<FgbRecords, IoError> {
    let file = path.display().to_string();
    let count = check_structure(path, &file)?;
    let reader = BufReader::new(File::open(path).map_err(|e| IoError::read(&file, e))?);
    let fgb = isolate(|| FgbReader::open(reader))
        .map_err(|e| IoError::read(&file, e))?
        .map_err(|e| IoError::read(&file, e))?;
    if let Some(crs) = fgb.header().crs() {
        let code = crs.code();
        let org = crs.org().unwrap_or("EPSG");
        if !(code == 4326 || (code == 0 && crs.wkt().is_none())) {
            return Err(IoError::ForeignCrs {
                file,
                crs: format!("{org}:{code}"),
            });
        }
    }
    let names = fgb
        .header()
        .columns()
        .map(|cols| cols.iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default();
    let features = fgb.select_all().map_err(|e| IoError::read(&file, e))?;
    Ok(FgbRecords {
        file,
        count,
        names,
        features,
        number: 0,
    })
}

impl FgbRecords {
    /// The property columns the header declares, in its order.
    pub fn field_names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The next feature as a record (a corrupt one as its rejection), `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<Result<Record, Rejection>>, IoError> {
        let (file, number) = (&self.file, self.number);
        let features = &mut self.features;
        let feature = match isolate(|| features.next().map(|f| f.is_some())) {
            Ok(Ok(true)) => features.get().expect("a feature was read"),
            Ok(Ok(false)) => return Ok(None),
            Ok(Err(e)) => return Err(IoError::read(file, format!("after record {number}: {e}"))),
            Err(e) => return Err(IoError::read(file, format!("after record {number}: {e}"))),
        };
        self.number += 1;
        let number = self.number;
        let geometry = match isolate(|| feature.to_geo()) {
            Ok(g) => g.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        }
        .map_err(|e| Rejection::new(file, number, RejectReason::InvalidGeometry, e));
        let mut props = Props(Vec::new());
        let record = geometry.and_then(|g| {
            match isolate(|| feature.process_properties(&mut props)) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    return Err(Rejection::new(
                        file,
                        number,
                        RejectReason::Unparsable,
                        e.to_string(),
                    ))
                }
                Err(e) => return Err(Rejection::new(file, number, RejectReason::Unparsable, e)),
            }
            Ok(Record {
                number,
                geometry: Some(g),
                fields: std::mem::take(&mut props.0),
            })
        });
        Ok(Some(record))
    }

    /// Up to `n` next records, `None` at the end.
    pub fn next_batch(
        &mut self,
        n: usize,
    ) -> Result<Option<Vec<Result<Record, Rejection>>>, IoError> {
        let mut out = Vec::with_capacity(n.min(1 << 16));
        while out.len() < n {
            match self.next_record()? {
                Some(r) => out.push(r),
                None => break,
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// Writes a table as FlatGeobuf (EPSG:4326, rows in table order).
pub fn write<W: Write>(table: &Table, name: &str, w: &mut W) -> Result<(), String> {
    let opts = FgbWriterOptions {
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        write_index: false,
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(name, GeometryType::Unknown, opts)
        .map_err(|e| e.to_string())?;
    for (n, t) in &table.schema {
        let ct = match t {
            FieldType::Bool => ColumnType::Bool,
            FieldType::Int => ColumnType::Long,
            FieldType::Float => ColumnType::Double,
            FieldType::Text => ColumnType::String,
        };
        fgb.add_column(n, ct, |_, col| col.nullable = true);
    }
    for (i, (geometry, values)) in table.rows.iter().enumerate() {
        let g = geometry
            .clone()
            .ok_or_else(|| format!("row {} has no geometry; FlatGeobuf needs one", i + 1))?;
        let mut failure = None;
        fgb.add_feature_geom(g, |feat| {
            for (col, ((n, _), v)) in table.schema.iter().zip(values).enumerate() {
                let r = match v {
                    Value::Null => Ok(false),
                    Value::Bool(b) => feat.property(col, n, &ColumnValue::Bool(*b)),
                    Value::Int(x) => feat.property(col, n, &ColumnValue::Long(*x)),
                    Value::Float(x) => feat.property(col, n, &ColumnValue::Double(*x)),
                    Value::Text(s) => feat.property(col, n, &ColumnValue::String(s)),
                };
                if let Err(e) = r {
                    failure = Some(e.to_string());
                }
            }
        })
        .map_err(|e| e.to_string())?;
        if let Some(e) = failure {
            return Err(e);
        }
    }
    fgb.write(w).map_err(|e| e.to_string())
}
