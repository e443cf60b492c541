//! The case timeline: every case's step times, crew and grid codes — the one record
//! all metrics are computed from.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Shared text: the same category, code or crew name appears on many cases, so it is
/// stored once and shared (a megacity year has millions of cases).
pub type Text = Arc<str>;

/// One case, as written to `timeline.csv`. Times are Unix seconds in memory and ISO
/// 8601 in the city's time zone in the file (`2025-06-02T09:30:00+08:00`; Unix seconds
/// are read too); a step not reached by the end of the run is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub case_id: String,
    /// `event` or `component`.
    pub kind: Text,
    pub category: Text,
    /// The department the category's cases go to (empty where a history lacks it).
    #[serde(default)]
    pub department: Text,
    pub grid_code: Text,
    pub community_code: Text,
    pub street_code: Text,
    pub district_code: Text,
    pub lon: f64,
    pub lat: f64,
    /// When it happened (before anyone knew).
    #[serde(with = "crate::local_time::required")]
    pub occurred_at: i64,
    /// Intake: when it was found or reported.
    #[serde(with = "crate::local_time::optional")]
    pub intake_at: Option<i64>,
    /// `patrol`, `hotline` or `sensor`.
    pub source: Text,
    #[serde(with = "crate::local_time::optional")]
    pub verified_at: Option<i64>,
    /// Graded escalation stages passed, `notify>visit`.
    pub ladder: Text,
    #[serde(with = "crate::local_time::optional")]
    pub dispatched_at: Option<i64>,
    pub crew: Text,
    /// When a crew took the case (the queue wait ends).
    #[serde(with = "crate::local_time::optional")]
    pub assigned_at: Option<i64>,
    /// When the crew reached the place.
    #[serde(with = "crate::local_time::optional")]
    pub arrived_at: Option<i64>,
    #[serde(with = "crate::local_time::optional")]
    pub handled_at: Option<i64>,
    #[serde(with = "crate::local_time::optional")]
    pub feedback_at: Option<i64>,
    #[serde(with = "crate::local_time::optional")]
    pub checked_at: Option<i64>,
    #[serde(with = "crate::local_time::optional")]
    pub closed_at: Option<i64>,
    /// `crew`, `compliance:<stage>`, `not_registered` (不予立案), or empty while open.
    pub closed_by: Text,
    /// Deadline from the category's time limit, counted from intake on its basis.
    #[serde(with = "crate::local_time::optional")]
    pub deadline: Option<i64>,
    /// `working` or `natural`: how the case's time limits are counted.
    #[serde(default)]
    pub time_basis: Text,
    /// When the case turns amber (黄灯): the scenario's `amber_fraction` of its limit.
    #[serde(default, with = "crate::local_time::optional")]
    pub amber_at: Option<i64>,
    /// Step deadlines (the category's step limits): verification from intake,
    /// dispatch from verification (categories without an escalation ladder), handling
    /// from dispatch, the check from the last feedback.
    #[serde(default, with = "crate::local_time::optional")]
    pub verify_due: Option<i64>,
    #[serde(default, with = "crate::local_time::optional")]
    pub dispatch_due: Option<i64>,
    #[serde(default, with = "crate::local_time::optional")]
    pub handle_due: Option<i64>,
    #[serde(default, with = "crate::local_time::optional")]
    pub check_due: Option<i64>,
    /// The hotline call about it (with a `call_centre`): when it came in, and when an
    /// agent answered it or the caller hung up (the report then lost).
    #[serde(default, with = "crate::local_time::optional")]
    pub call_at: Option<i64>,
    #[serde(default, with = "crate::local_time::optional")]
    pub call_answered_at: Option<i64>,
    #[serde(default, with = "crate::local_time::optional")]
    pub call_hung_up_at: Option<i64>,
    /// The department was granted more time (延期): `deadline` is the extended one.
    #[serde(default)]
    pub extended: bool,
    /// The case whose compliance closure this problem came back after (empty: none).
    #[serde(default)]
    pub recurrence_of: String,
    /// Forwarded by the street (属地) to the owner department (转派).
    #[serde(default)]
    pub forwarded: bool,
    /// Times a department returned the case as not its own (退单) before it was taken
    /// (or designated, 指定).
    #[serde(default)]
    pub returns: u32,
    /// Seconds the hand-overs (forwarding, returns, designation) took.
    #[serde(default)]
    pub dispute_s: i64,
    /// Checks that found the problem not solved (返工): handling passes − 1.
    #[serde(default)]
    pub rework: u32,
    /// When a crew first reached the place (`arrived_at` is the last time: a reworked
    /// or pre-empted case is reached again); empty in a history: `arrived_at` serves.
    #[serde(default, with = "crate::local_time::optional")]
    pub first_arrived_at: Option<i64>,
    /// Times a crew took the case from its department's queue.
    #[serde(default)]
    pub passes: u32,
    /// Seconds waited for a crew in the department's queue, over every pass (empty in
    /// a history that does not record it).
    #[serde(default)]
    pub queue_wait_s: Option<i64>,
    /// Priority at arrival: 0 routine, 2 a hazard's emergency, 3 life-threatening.
    #[serde(default)]
    pub priority: u8,
    /// Passed its deadline while open.
    pub escalated: bool,
    /// Times a crew was taken off this case for an emergency.
    #[serde(default)]
    pub preempted: u32,
    /// Seconds the crew's trip lost at signals to another emergency vehicle.
    #[serde(default)]
    pub signal_delay_s: i64,
    /// Seconds the crew waited, before setting off, for a road to reopen to a place
    /// that closures had cut off.
    #[serde(default)]
    pub cut_off_s: i64,
    /// Evaluation 综合评价 by the public, 0–1, where a history file records it (the
    /// simulation leaves it empty).
    #[serde(default)]
    pub satisfaction: Option<f64>,
}

/// One signal-priority decision: two emergency trips at one signal within the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentionRecord {
    /// When the later-scheduled trip reaches the signal (Unix s).
    pub at: i64,
    /// Road network node of the signal, and the signal's component code.
    pub node: u32,
    pub signal: String,
    pub winner_case: String,
    pub winner_priority: u8,
    pub winner_departed: i64,
    pub loser_case: String,
    pub loser_priority: u8,
    pub loser_departed: i64,
    pub delay_s: i64,
    /// Each trip's time at the signal (Unix s), after the waits it had at signals
    /// before this one on its path.
    #[serde(default)]
    pub winner_at: i64,
    #[serde(default)]
    pub loser_at: i64,
}

/// A crew's time on duty and at work.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrewRecord {
    pub crew: Text,
    pub department: String,
    pub on_shift_secs: i64,
    /// Busy inside the window, on shift or not.
    pub busy_secs: i64,
    /// The part of `busy_secs` outside the crew's shift: work carried on past its end
    /// (a crew finishes the case it is on) — overtime, not utilisation of the shift.
    #[serde(default)]
    pub overtime_secs: i64,
}

/// Writes records as CSV (header from the record's fields).
pub fn write_csv<T: Serialize, W: Write>(rows: &[T], w: W) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(w);
    for r in rows {
        out.serialize(r)?;
    }
    out.flush()?;
    Ok(())
}

/// Reads records from a CSV file.
pub fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    r.deserialize()
        .enumerate()
        .map(|(i, x)| x.map_err(|e| format!("{}: record {}: {e}", path.display(), i + 1)))
        .collect()
}

/// Rows per Parquet row group (and per block a replication formats in parallel).
pub const PARQUET_ROWS: usize = 1 << 16;

/// A record type written as Parquet: a sample with every optional field present,
/// from which the columns' types are traced (a real timeline may lack a value in a
/// whole column, and the schema must not depend on the data).
pub trait Columns: Serialize + for<'de> Deserialize<'de> {
    fn sample() -> Self;
}

impl Columns for CaseRecord {
    fn sample() -> Self {
        let t = Some(0);
        CaseRecord {
            intake_at: t,
            verified_at: t,
            dispatched_at: t,
            assigned_at: t,
            arrived_at: t,
            handled_at: t,
            feedback_at: t,
            checked_at: t,
            closed_at: t,
            deadline: t,
            amber_at: t,
            verify_due: t,
            dispatch_due: t,
            handle_due: t,
            check_due: t,
            call_at: t,
            call_answered_at: t,
            call_hung_up_at: t,
            first_arrived_at: t,
            queue_wait_s: t,
            satisfaction: Some(0.0),
            ..CaseRecord::default()
        }
    }
}

impl Columns for CrewRecord {
    fn sample() -> Self {
        CrewRecord::default()
    }
}

impl Columns for ContentionRecord {
    fn sample() -> Self {
        ContentionRecord::default()
    }
}

/// The Arrow fields of a record type, traced from its sample (times as the same ISO
/// 8601 text the CSV holds, texts as UTF-8, every column nullable; Parquet
/// dictionary-encodes repeated
/// values such as codes and categories column by column).
pub fn arrow_fields<T: Columns>() -> Result<Vec<arrow_schema::FieldRef>, String> {
    use serde_arrow::schema::{SchemaLike, TracingOptions};
    let traced =
        Vec::<arrow_schema::FieldRef>::from_samples(&[T::sample()], TracingOptions::default())
            .map_err(|e| format!("timeline schema: {e}"))?;
    // every column nullable: an optional time is written as text or as nothing, which
    // the tracer cannot tell from the sample alone
    Ok(traced
        .into_iter()
        .map(|f| Arc::new(f.as_ref().clone().with_nullable(true)))
        .collect())
}

/// Records as one Arrow batch of the given fields.
pub fn record_batch<T: Serialize>(
    fields: &[arrow_schema::FieldRef],
    rows: &[T],
) -> Result<arrow_array::RecordBatch, String> {
    serde_arrow::to_record_batch(fields, &rows).map_err(|e| format!("timeline to Arrow: {e}"))
}

/// Writes Arrow batches as one Parquet file (Snappy), a row group per batch.
pub fn write_parquet_batches<W: Write + Send>(
    fields: &[arrow_schema::FieldRef],
    batches: impl IntoIterator<Item = Result<arrow_array::RecordBatch, String>>,
    w: W,
) -> Result<(), String> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let schema = Arc::new(arrow_schema::Schema::new(fields.to_vec()));
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(PARQUET_ROWS));
    // Codes, categories, departments, crews are dictionary-encoded (the default);
    // times and ids are unique per row, where a dictionary is only built to be dropped.
    for f in fields {
        let n = f.name();
        if n.ends_with("_at") || n.ends_with("_due") || n == "case_id" || n == "recurrence_of" {
            props = props.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(n.as_str()),
                false,
            );
        }
    }
    let props = props.build();
    let mut out = ArrowWriter::try_new(w, schema, Some(props)).map_err(|e| e.to_string())?;
    for batch in batches {
        out.write(&batch?).map_err(|e| e.to_string())?;
    }
    out.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes records as Parquet (columns from the record's fields, as the CSV header).
pub fn write_parquet<T: Columns, W: Write + Send>(rows: &[T], w: W) -> Result<(), String> {
    let fields = arrow_fields::<T>()?;
    let batches = rows
        .chunks(PARQUET_ROWS)
        .map(|block| record_batch(&fields, block));
    write_parquet_batches(&fields, batches, w)
}

/// Reads records from a Parquet file written by [`write_parquet`] (or by anyone, with
/// the same column names).
pub fn read_parquet<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| format!("{name}: {e}"))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| format!("{name}: {e}"))?;
        let first = rows.len() + 1;
        let block: Vec<T> = serde_arrow::from_record_batch(&batch)
            .map_err(|e| format!("{name}: records from {first}: {e}"))?;
        rows.extend(block);
    }
    Ok(rows)
}

/// Reads a timeline (or crews) file in either format: Parquet by its `.parquet`
/// extension, CSV otherwise.
pub fn read_records<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, String> {
    if is_parquet(path) {
        read_parquet(path)
    } else {
        read_csv(path)
    }
}

/// Whether a path names a Parquet file (by extension, any case).
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// The timeline file in a replication directory: `timeline.parquet` or
/// `timeline.csv`, whichever `simulate` wrote (Parquet when both are there).
pub fn timeline_in(dir: &Path) -> std::path::PathBuf {
    let parquet = dir.join("timeline.parquet");
    if parquet.exists() {
        parquet
    } else {
        dir.join("timeline.csv")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records over several row groups, with empty and present optional fields, read
    /// back equal; a truncated file is an error naming it, not a shorter timeline.
    #[test]
    fn parquet_round_trip_over_row_groups_and_a_truncated_file_is_an_error() {
        let rows: Vec<CrewRecord> = (0..PARQUET_ROWS as i64 * 2 + 17)
            .map(|i| CrewRecord {
                crew: format!("crew {}", i % 97).into(),
                department: if i % 3 == 0 {
                    String::new()
                } else {
                    "roads, \"east\"".into()
                },
                on_shift_secs: i * 7,
                busy_secs: -i,
                overtime_secs: i64::MAX - i,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crews.parquet");
        let mut bytes = Vec::new();
        write_parquet(&rows, &mut bytes).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let back: Vec<CrewRecord> = read_records(&path).unwrap();
        assert_eq!(back, rows);
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = read_records::<CrewRecord>(&path).unwrap_err();
        assert!(e.contains("crews.parquet"), "{e}");
    }
}
