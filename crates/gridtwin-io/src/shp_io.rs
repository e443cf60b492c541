//! ESRI Shapefiles (`.shp` with its `.shx` and `.dbf`), read and written in pure Rust
//! (the `shapefile` and `dbase` crates): the boundary format analysts hold most.
//!
//! Reading: every shape with its attribute row, in file order; the attributes keep the
//! `.dbf`'s column order. A `.prj` beside the file names its coordinate system; the
//! layer readers reproject from it (see `gridtwin import`). The decoders are isolated
//! (a panic inside is an error naming the file) and the declared shape count is
//! checked against `--max-rows-in-memory` before anything is read.
//!
//! Writing: `.shp`, `.shx`, `.dbf` and a WGS-84 `.prj`. dBase limits field names to 10
//! characters and text to 254 bytes: longer names are cut (and made unique), longer
//! texts are an error rather than a silent cut.

use std::path::Path;

use geo::Geometry;
use gridtwin_core::{RejectReason, Rejection};

use crate::error::IoError;
use crate::isolate::isolate;
use crate::record::{FieldType, Record, Table, Value};

/// Checks what the `.shp` and `.dbf` declare against their real sizes before the
/// decoders see them: the decoders allocate by the declared counts (a mutated point
/// count asked for 8 GB), so every count must fit in the bytes that hold it.
fn check_structure(path: &Path) -> Result<(), String> {
    let shp = std::fs::read(path).map_err(|e| e.to_string())?;
    let be = |b: &[u8], i: usize| i32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let le = |b: &[u8], i: usize| i32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    if shp.len() < 100 || be(&shp, 0) != 9994 {
        return Err("not a Shapefile (.shp header missing or wrong)".into());
    }
    let declared = be(&shp, 24) as i64 * 2;
    if declared != shp.len() as i64 {
        return Err(format!(
            "the .shp header says {declared} bytes, the file has {}: truncated or damaged",
            shp.len()
        ));
    }
    let mut at = 100usize;
    let mut n = 0u64;
    while at < shp.len() {
        n += 1;
        if at + 8 > shp.len() {
            return Err(format!(
                "record {n}: its header runs past the end of the file"
            ));
        }
        let words = be(&shp, at + 4);
        let len = (words as i64) * 2;
        if len < 4 || at as i64 + 8 + len > shp.len() as i64 {
            return Err(format!(
                "record {n}: declares {len} bytes, past the end of the file"
            ));
        }
        let c = &shp[at + 8..at + 8 + len as usize];
        let kind = le(c, 0);
        // bytes the declared parts and points need, per shape type
        let need: i64 = match kind {
            0 => 4,
            1 => 20,
            11 => 36,
            21 => 28,
            3 | 5 | 13 | 15 | 23 | 25 | 31 => {
                if c.len() < 44 {
                    return Err(format!("record {n}: too short for its shape"));
                }
                let (parts, points) = (le(c, 36) as i64, le(c, 40) as i64);
                if parts < 0 || points < 0 {
                    return Err(format!("record {n}: negative part or point count"));
                }
                // at least x and y per point (z and m, where present, come on top: the
                // bound only has to keep the decoder's allocations within the file)
                let part_types = if kind == 31 { 4 * parts } else { 0 };
                44 + 4 * parts + part_types + 16 * points
            }
            8 | 18 | 28 => {
                if c.len() < 40 {
                    return Err(format!("record {n}: too short for its shape"));
                }
                let points = le(c, 36) as i64;
                if points < 0 {
                    return Err(format!("record {n}: negative point count"));
                }
                40 + 16 * points
            }
            other => return Err(format!("record {n}: unknown shape type {other}")),
        };
        if need > len {
            return Err(format!(
                "record {n}: its parts and points need {need} bytes, the record has {len}"
            ));
        }
        at += 8 + len as usize;
    }
    let dbf = std::fs::read(path.with_extension("dbf"))
        .map_err(|e| format!("{}: {e}", path.with_extension("dbf").display()))?;
    if dbf.len() < 32 {
        return Err("the .dbf is too short for its header".into());
    }
    let records = u32::from_le_bytes(dbf[4..8].try_into().expect("4 bytes")) as u64;
    let header = u16::from_le_bytes(dbf[8..10].try_into().expect("2 bytes")) as u64;
    let record_len = u16::from_le_bytes(dbf[10..12].try_into().expect("2 bytes")) as u64;
    if header < 33 || header + records * record_len > dbf.len() as u64 {
        return Err(format!(
            "the .dbf declares {records} records of {record_len} bytes after a {header}-byte header: more than its {} bytes",
            dbf.len()
        ));
    }
    if records != n {
        return Err(format!(
            "the .shp has {n} shapes and the .dbf {records} rows"
        ));
    }
    Ok(())
}

/// Reads every shape and its attributes.
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let file = path.display().to_string();
    let err = |e: String| IoError::read(&file, e);
    check_structure(path).map_err(&err)?;
    // column order from the .dbf header (a record is a map)
    let dbf = path.with_extension("dbf");
    let names: Vec<String> = match isolate(|| shapefile::dbase::Reader::from_path(&dbf)) {
        Ok(Ok(r)) => r.fields().iter().map(|f| f.name().to_string()).collect(),
        Ok(Err(e)) => return Err(err(format!("{}: {e}", dbf.display()))),
        Err(e) => return Err(err(format!("{}: {e}", dbf.display()))),
    };
    let mut reader = isolate(|| shapefile::Reader::from_path(path))
        .map_err(&err)?
        .map_err(|e| err(e.to_string()))?;
    if let Ok(Ok(n)) = isolate(|| reader.shape_count()) {
        crate::limits::check_rows(&file, n as u64)?;
    }
    let pairs = isolate(|| reader.read())
        .map_err(&err)?
        .map_err(|e| err(e.to_string()))?;
    let mut out = Vec::with_capacity(pairs.len());
    for (i, (shape, record)) in pairs.into_iter().enumerate() {
        let number = i as u64 + 1;
        let geometry = match shape {
            shapefile::Shape::NullShape => None,
            s => match isolate(|| Geometry::<f64>::try_from(s)) {
                Ok(Ok(g)) => Some(g),
                Ok(Err(e)) => {
                    out.push(Err(Rejection::new(
                        &file,
                        number,
                        RejectReason::InvalidGeometry,
                        e.to_string(),
                    )));
                    continue;
                }
                Err(e) => {
                    out.push(Err(Rejection::new(
                        &file,
                        number,
                        RejectReason::InvalidGeometry,
                        e,
                    )));
                    continue;
                }
            },
        };
        let mut map: std::collections::HashMap<String, shapefile::dbase::FieldValue> =
            record.into();
        let fields = names
            .iter()
            .map(|n| (n.clone(), value(map.remove(n))))
            .collect();
        out.push(Ok(Record {
            number,
            geometry,
            fields,
        }));
    }
    Ok(out)
}

fn value(v: Option<shapefile::dbase::FieldValue>) -> Value {
    use shapefile::dbase::FieldValue as F;
    match v {
        Some(F::Character(Some(s))) | Some(F::Memo(s)) => Value::Text(s.trim_end().to_string()),
        Some(F::Numeric(Some(x))) | Some(F::Double(x)) | Some(F::Currency(x)) => {
            if x.fract() == 0.0 && x.abs() < 9e15 {
                Value::Int(x as i64)
            } else {
                Value::Float(x)
            }
        }
        Some(F::Float(Some(x))) => Value::Float(x as f64),
        Some(F::Integer(x)) => Value::Int(x as i64),
        Some(F::Logical(Some(b))) => Value::Bool(b),
        Some(F::Date(Some(d))) => {
            Value::Text(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        _ => Value::Null,
    }
}

/// dBase field names: at most 10 bytes, unique.
fn dbf_names(table: &Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, _) in &table.schema {
        let base: String = name.chars().filter(|c| c.is_ascii()).take(10).collect();
        let mut n = if base.is_empty() {
            "field".to_string()
        } else {
            base
        };
        let mut k = 1;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            let suffix = format!("_{k}");
            n = format!(
                "{}{suffix}",
                &n.chars().take(10 - suffix.len()).collect::<String>()
            );
            k += 1;
        }
        out.push(n);
    }
    out
}

/// Writes a table as a Shapefile at `path` (its `.shx`, `.dbf` and a WGS-84 `.prj`
/// beside). One geometry kind per file, as the format requires.
pub fn write(table: &Table, path: &Path) -> Result<(), String> {
    use shapefile::dbase::{FieldName, FieldValue, TableWriterBuilder};
    let names = dbf_names(table);
    let mut builder = TableWriterBuilder::new();
    for ((_, ty), n) in table.schema.iter().zip(&names) {
        let fname = FieldName::try_from(n.as_str()).map_err(|e| format!("field `{n}`: {e:?}"))?;
        builder = match ty {
            FieldType::Int => builder.add_numeric_field(fname, 18, 0),
            FieldType::Float => builder.add_numeric_field(fname, 24, 10),
            FieldType::Bool => builder.add_logical_field(fname),
            _ => builder.add_character_field(fname, 254),
        };
    }
    let polygons: Vec<geo::MultiPolygon<f64>> = table
        .rows
        .iter()
        .map(|(g, _)| match g {
            Some(Geometry::Polygon(p)) => Ok(geo::MultiPolygon(vec![p.clone()])),
            Some(Geometry::MultiPolygon(m)) => Ok(m.clone()),
            Some(_) => Err("only polygon layers are written as Shapefiles".to_string()),
            None => Err("a row without a geometry cannot be written to a Shapefile".to_string()),
        })
        .collect::<Result<_, _>>()?;
    let mut w = shapefile::Writer::from_path(path, builder).map_err(|e| e.to_string())?;
    for (mp, (_, values)) in polygons.iter().zip(&table.rows) {
        let shape = shapefile::Polygon::from(mp.clone());
        let mut rec = shapefile::dbase::Record::default();
        for (((_, ty), n), v) in table.schema.iter().zip(&names).zip(values) {
            let fv = match (ty, v) {
                (FieldType::Int, Value::Int(x)) => FieldValue::Numeric(Some(*x as f64)),
                (FieldType::Float, Value::Float(x)) => FieldValue::Numeric(Some(*x)),
                (FieldType::Float, Value::Int(x)) => FieldValue::Numeric(Some(*x as f64)),
                (FieldType::Int | FieldType::Float, _) => FieldValue::Numeric(None),
                (FieldType::Bool, Value::Bool(b)) => FieldValue::Logical(Some(*b)),
                (FieldType::Bool, _) => FieldValue::Logical(None),
                (_, v) => {
                    let t = v.as_text();
                    if t.as_ref().is_some_and(|t| t.len() > 254) {
                        return Err(format!(
                            "field `{n}`: a text of over 254 bytes, which dBase cannot hold"
                        ));
                    }
                    FieldValue::Character(t)
                }
            };
            rec.insert(n.clone(), fv);
        }
        w.write_shape_and_record(&shape, &rec)
            .map_err(|e| e.to_string())?;
    }
    drop(w);
    std::fs::write(path.with_extension("prj"), crate::dem_crs::WGS84_PRJ).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn a_polygon_layer_round_trips_with_its_attributes_in_order() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("wards.shp");
        let mut t = Table::new(&[
            ("code", FieldType::Text),
            ("population_total", FieldType::Int),
            ("population_tot2", FieldType::Float),
        ]);
        let sq = |x: f64| {
            Geometry::Polygon(
                polygon![(x: x, y: 0.), (x: x + 1., y: 0.), (x: x + 1., y: 1.), (x: x, y: 1.)],
            )
        };
        t.push(
            Some(sq(0.0)),
            vec![
                Value::Text("0101".into()),
                Value::Int(12),
                Value::Float(1.5),
            ],
        );
        t.push(
            Some(sq(2.0)),
            vec![
                Value::Text("0102".into()),
                Value::Int(7),
                Value::Float(0.25),
            ],
        );
        write(&t, &p).unwrap();
        assert!(p.with_extension("prj").is_file() && p.with_extension("dbf").is_file());
        let back = read(&p).unwrap();
        assert_eq!(back.len(), 2);
        let r = back[1].as_ref().unwrap();
        let names: Vec<&str> = r.fields.iter().map(|f| f.0.as_str()).collect();
        // dBase's 10-character names, cut and made unique, in the written order
        assert_eq!(names, ["code", "population", "populati_1"]);
        assert_eq!(r.fields[0].1, Value::Text("0102".into()));
        assert_eq!(r.fields[1].1, Value::Int(7));
        assert_eq!(r.fields[2].1, Value::Float(0.25));
        let a = geo::Area::unsigned_area(r.geometry.as_ref().unwrap());
        assert!((a - 1.0).abs() < 1e-12, "{a}");
    }

    #[test]
    fn a_truncated_shapefile_is_an_error_naming_it_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.shp");
        let mut t = Table::new(&[("code", FieldType::Text)]);
        t.push(
            Some(Geometry::Polygon(
                polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)],
            )),
            vec![Value::Text("x".into())],
        );
        write(&t, &p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        for cut in [10, 60, 100, bytes.len() - 8] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            match read(&p) {
                Err(e) => assert!(e.to_string().contains("a.shp"), "{e}"),
                Ok(v) => assert!(v.iter().all(|r| r.is_err()) || v.is_empty(), "cut {cut}"),
            }
        }
    }
}
