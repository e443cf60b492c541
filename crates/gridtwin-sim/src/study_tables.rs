//! A study's tables of replications, `kpis` and `backlog`, as Parquet (the default) or
//! CSV: the same values either way, so `compare` and the charts read both and give
//! the same answers.
//!
//! - `kpis`: `rep`, `seed`, then one column per indicator (an indicator a replication
//!   lacks is empty in the CSV, null in Parquet). Values are the CSV's six decimals in
//!   both formats.
//! - `backlog`: `rep`, `time` (Unix seconds), `open`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};

/// Per-replication indicators: the columns' names after `rep` and `seed`, and a row per
/// replication.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KpiTable {
    pub names: Vec<String>,
    pub rows: Vec<KpiRow>,
}

/// One replication's indicators, in [`KpiTable::names`] order (`None`: it has none).
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    pub rep: u64,
    pub seed: u64,
    pub values: Vec<Option<f64>>,
}

/// Open cases at one sample time of one replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogRow {
    pub rep: u64,
    /// Unix seconds.
    pub time: i64,
    pub open: u32,
}

/// A number as the study's CSV tables write it: six decimals, empty when not finite.
pub fn six_decimals(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

/// An indicator's value as both formats hold it (the CSV's six decimals).
pub fn kpi_value(x: f64) -> Option<f64> {
    six_decimals(x).parse().ok()
}

/// The file of table `name` (`kpis`, `backlog`) in a `simulate` folder: `NAME.parquet`
/// or `NAME.csv`, whichever is there (Parquet when both are).
pub fn table_in(dir: &Path, name: &str) -> PathBuf {
    let parquet = dir.join(format!("{name}.parquet"));
    if parquet.exists() {
        parquet
    } else {
        dir.join(format!("{name}.csv"))
    }
}

fn parquet_bytes(batch: RecordBatch) -> Result<Vec<u8>, String> {
    let fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    let mut out = Vec::new();
    crate::timeline::write_parquet_batches(&fields, [Ok(batch)], &mut out)?;
    Ok(out)
}

impl KpiTable {
    /// The table as CSV.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut h = vec!["rep".to_string(), "seed".to_string()];
        h.extend(self.names.iter().cloned());
        out.write_record(&h)?;
        for r in &self.rows {
            let mut row = vec![r.rep.to_string(), r.seed.to_string()];
            row.extend(
                r.values
                    .iter()
                    .map(|v| v.map_or(String::new(), six_decimals)),
            );
            out.write_record(&row)?;
        }
        out.into_inner().map_err(|e| e.into_error().into())
    }

    /// The table as Parquet: `rep` and `seed` integers, indicators doubles.
    pub fn to_parquet(&self) -> Result<Vec<u8>, String> {
        // signed where the seed fits (as a CSV reader types them); a seed above
        // i64::MAX is kept whole as unsigned
        let big_seed = self.rows.iter().any(|r| i64::try_from(r.seed).is_err());
        let mut fields = vec![
            Field::new("rep", DataType::Int64, false),
            Field::new(
                "seed",
                if big_seed {
                    DataType::UInt64
                } else {
                    DataType::Int64
                },
                false,
            ),
        ];
        fields.extend(
            self.names
                .iter()
                .map(|n| Field::new(n, DataType::Float64, true)),
        );
        let seeds = self.rows.iter().map(|r| r.seed);
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                self.rows.iter().map(|r| r.rep as i64),
            )),
            if big_seed {
                Arc::new(UInt64Array::from_iter_values(seeds))
            } else {
                Arc::new(Int64Array::from_iter_values(seeds.map(|s| s as i64)))
            },
        ];
        for i in 0..self.names.len() {
            columns.push(Arc::new(Float64Array::from_iter(
                self.rows
                    .iter()
                    .map(|r| r.values.get(i).copied().flatten().and_then(kpi_value)),
            )));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| format!("kpis to Arrow: {e}"))?;
        parquet_bytes(batch)
    }

    /// Reads `kpis.parquet` or `kpis.csv` (by extension).
    pub fn read(path: &Path) -> Result<KpiTable, String> {
        let name = path.display();
        let (names, rows) = if crate::timeline::is_parquet(path) {
            read_parquet_columns(path)?
        } else {
            read_csv_columns(path)?
        };
        if names.len() < 2 || names[0] != "rep" || names[1] != "seed" {
            return Err(format!(
                "{name}: the columns must start with rep, seed (is this a `simulate` output?)"
            ));
        }
        let mut table = KpiTable {
            names: names[2..].to_vec(),
            rows: Vec::with_capacity(rows.len()),
        };
        for (i, row) in rows.into_iter().enumerate() {
            let whole = |k: usize, what: &str| match row[k] {
                Cell::Int(v) if v >= 0 => Ok(v as u64),
                Cell::Big(v) => Ok(v),
                _ => Err(format!("{name}: record {}: {what} is not a count", i + 1)),
            };
            table.rows.push(KpiRow {
                rep: whole(0, "rep")?,
                seed: whole(1, "seed")?,
                values: row[2..].iter().map(Cell::number).collect(),
            });
        }
        Ok(table)
    }
}

/// The backlog table as CSV (`rep,time,open`).
pub fn backlog_csv(rows: &[BacklogRow]) -> Vec<u8> {
    let mut s = String::from("rep,time,open\n");
    for r in rows {
        s.push_str(&format!("{},{},{}\n", r.rep, r.time, r.open));
    }
    s.into_bytes()
}

/// The backlog table as Parquet: `rep`, `time` (Unix seconds) and `open`, integers.
pub fn backlog_parquet(rows: &[BacklogRow]) -> Result<Vec<u8>, String> {
    let schema = Schema::new(vec![
        Field::new("rep", DataType::Int64, false),
        Field::new("time", DataType::Int64, false),
        Field::new("open", DataType::Int64, false),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.rep as i64),
            )),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.time))),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.open as i64),
            )),
        ],
    )
    .map_err(|e| format!("backlog to Arrow: {e}"))?;
    parquet_bytes(batch)
}

/// Reads `backlog.parquet` or `backlog.csv` (by extension; CSV times may be Unix
/// seconds or ISO 8601).
pub fn read_backlog(path: &Path) -> Result<Vec<BacklogRow>, String> {
    let name = path.display();
    let (names, rows) = if crate::timeline::is_parquet(path) {
        read_parquet_columns(path)?
    } else {
        read_csv_columns(path)?
    };
    if names != ["rep", "time", "open"] {
        return Err(format!("{name}: the columns must be rep, time, open"));
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let bad = |what: &str| format!("{name}: record {}: {what}", i + 1);
            let rep = match row[0] {
                Cell::Int(v) if v >= 0 => v as u64,
                _ => return Err(bad("rep is not a count")),
            };
            let time = match &row[1] {
                Cell::Int(v) => *v,
                Cell::Text(t) => {
                    crate::local_time::parse(t).map_err(|e| bad(&format!("time {e}")))?
                }
                _ => return Err(bad("time is not a time")),
            };
            let open = match row[2] {
                Cell::Int(v) if (0..=u32::MAX as i64).contains(&v) => v as u32,
                _ => return Err(bad("open is not a count")),
            };
            Ok(BacklogRow { rep, time, open })
        })
        .collect()
}

/// One value of a table read from either format.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Empty,
    Int(i64),
    /// An unsigned integer above `i64::MAX` (a seed).
    Big(u64),
    Number(f64),
    Text(String),
}

impl Cell {
    fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(v) => Some(*v as f64),
            Cell::Big(v) => Some(*v as f64),
            Cell::Number(x) => Some(*x),
            Cell::Empty | Cell::Text(_) => None,
        }
    }

    fn of_text(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Empty
        } else if let Ok(v) = s.parse::<i64>() {
            Cell::Int(v)
        } else if let Ok(v) = s.parse::<u64>() {
            Cell::Big(v)
        } else if let Ok(x) = s.parse::<f64>() {
            Cell::Number(x)
        } else {
            Cell::Text(s.to_string())
        }
    }
}

type Columns = (Vec<String>, Vec<Vec<Cell>>);

fn read_csv_columns(path: &Path) -> Result<Columns, String> {
    let name = path.display();
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{name}: {e}"))?;
    let names = r
        .headers()
        .map_err(|e| format!("{name}: {e}"))?
        .iter()
        .map(String::from)
        .collect::<Vec<_>>();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("{name}: record {}: {e}", i + 1))?;
        rows.push(rec.iter().map(Cell::of_text).collect());
    }
    Ok((names, rows))
}

fn read_parquet_columns(path: &Path) -> Result<Columns, String> {
    use arrow_array::RecordBatchReader;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| format!("{name}: {e}"))?;
    let names: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| format!("{name}: {e}"))?;
        let first = rows.len();
        rows.extend((0..batch.num_rows()).map(|_| Vec::with_capacity(names.len())));
        for (c, col) in batch.columns().iter().enumerate() {
            for (i, row) in rows[first..].iter_mut().enumerate() {
                row.push(cell(col, i).map_err(|e| format!("{name}: column {}: {e}", names[c]))?);
            }
        }
    }
    Ok((names, rows))
}

/// Row `i` of an Arrow column: gridtwin-io's value conversion (any integer width,
/// floats, text, timestamps), then read as a CSV cell would be where it is text.
fn cell(col: &ArrayRef, i: usize) -> Result<Cell, String> {
    use gridtwin_io::Value;
    Ok(match gridtwin_io::parquet_io::cell(col, i)? {
        Value::Null => Cell::Empty,
        Value::Int(v) => Cell::Int(v),
        Value::Float(x) => Cell::Number(x),
        // (a u64 above i64::MAX comes as its exact text)
        Value::Text(s) => Cell::of_text(&s),
        Value::Bool(b) => Cell::Text(b.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpis() -> KpiTable {
        KpiTable {
            names: vec!["on_time_rate".into(), "roads, \"east\" on_time".into()],
            rows: (0..5)
                .map(|rep| KpiRow {
                    rep,
                    seed: u64::MAX - 3,
                    values: vec![
                        Some(0.1234567 * rep as f64),
                        (rep % 2 == 0).then_some(-3.0 / 7.0),
                    ],
                })
                .collect(),
        }
    }

    /// Both formats read back as the same table, holding the CSV's six decimals.
    #[test]
    fn kpis_read_back_the_same_from_either_format() {
        let dir = tempfile::tempdir().unwrap();
        let t = kpis();
        let csv_path = dir.path().join("kpis.csv");
        let pq_path = dir.path().join("kpis.parquet");
        std::fs::write(&csv_path, t.to_csv().unwrap()).unwrap();
        std::fs::write(&pq_path, t.to_parquet().unwrap()).unwrap();
        let from_csv = KpiTable::read(&csv_path).unwrap();
        let from_pq = KpiTable::read(&pq_path).unwrap();
        assert_eq!(from_csv, from_pq);
        assert_eq!(from_pq.names, t.names);
        assert_eq!(from_pq.rows[3].values, vec![Some(0.370370), None]);
        assert_eq!(from_pq.rows[2].values[1], Some(-0.428571));
        assert_eq!(table_in(dir.path(), "kpis"), pq_path);
    }

    #[test]
    fn backlog_reads_back_the_same_from_either_format_and_csv_takes_iso_times() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<BacklogRow> = (0..300)
            .map(|i| BacklogRow {
                rep: i / 100,
                time: 1_748_827_800 + (i as i64 % 100) * 900,
                open: (i * 37 % 101) as u32,
            })
            .collect();
        let csv_path = dir.path().join("backlog.csv");
        let pq_path = dir.path().join("backlog.parquet");
        std::fs::write(&csv_path, backlog_csv(&rows)).unwrap();
        std::fs::write(&pq_path, backlog_parquet(&rows).unwrap()).unwrap();
        assert_eq!(read_backlog(&csv_path).unwrap(), rows);
        assert_eq!(read_backlog(&pq_path).unwrap(), rows);
        std::fs::write(&csv_path, "rep,time,open\n0,2025-06-02T09:30:00+08:00,4\n").unwrap();
        assert_eq!(
            read_backlog(&csv_path).unwrap(),
            vec![BacklogRow {
                rep: 0,
                time: 1_748_827_800,
                open: 4
            }]
        );
        std::fs::write(&csv_path, "rep,time,open\n0,1,-4\n").unwrap();
        let e = read_backlog(&csv_path).unwrap_err();
        assert!(e.contains("record 1: open"), "{e}");
    }

    /// A truncated Parquet table is an error naming the file, not a shorter table.
    #[test]
    fn a_truncated_kpis_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kpis.parquet");
        let bytes = kpis().to_parquet().unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 20]).unwrap();
        let e = KpiTable::read(&p).unwrap_err();
        assert!(e.contains("kpis.parquet"), "{e}");
    }
}
