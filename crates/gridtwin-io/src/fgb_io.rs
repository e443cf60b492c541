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

/// Reads every feature of a FlatGeobuf file.
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let file = path.display().to_string();
    let mut reader = BufReader::new(File::open(path).map_err(|e| IoError::read(&file, e))?);
    let fgb = FgbReader::open(&mut reader).map_err(|e| IoError::read(&file, e))?;
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
    let mut features = fgb.select_all().map_err(|e| IoError::read(&file, e))?;
    let mut out = Vec::new();
    let mut number = 0u64;
    loop {
        let feature = match features.next() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(IoError::read(&file, format!("after record {number}: {e}"))),
        };
        number += 1;
        let geometry = feature.to_geo().map_err(|e| {
            Rejection::new(&file, number, RejectReason::InvalidGeometry, e.to_string())
        });
        let mut props = Props(Vec::new());
        let record = geometry.and_then(|g| {
            feature.process_properties(&mut props).map_err(|e| {
                Rejection::new(&file, number, RejectReason::Unparsable, e.to_string())
            })?;
            Ok(Record {
                number,
                geometry: Some(g),
                fields: std::mem::take(&mut props.0),
            })
        });
        out.push(record);
    }
    Ok(out)
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
