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

/// A case's name in a timeline: a history's own id, or the number of a simulated
/// case (`C0000042` for case 41), written without making a string per case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaseName<'a> {
    Text(&'a str),
    /// Case `n` (from 0) of a replication, named `C` and `n + 1` in seven digits.
    Number(usize),
}

impl CaseName<'_> {
    /// The name as the timeline writes it.
    pub fn write_to(self, buf: &mut String) -> &str {
        use std::fmt::Write as _;
        buf.clear();
        match self {
            CaseName::Text(t) => buf.push_str(t),
            CaseName::Number(n) => {
                let _ = write!(buf, "C{:07}", n + 1);
            }
        }
        buf
    }
}

/// A timeline row borrowed from where the case is kept (a [`CaseRecord`], or a
/// replication's compact case and its world's shared texts): what a Parquet batch is
/// built from without a record of owned strings per case. The fields are
/// [`CaseRecord`]'s; [`CaseRow::to_record`] makes the record.
#[derive(Debug, Clone, Copy)]
pub struct CaseRow<'a> {
    pub case_id: CaseName<'a>,
    pub kind: &'a Text,
    pub category: &'a Text,
    pub department: &'a Text,
    pub grid_code: &'a Text,
    pub community_code: &'a Text,
    pub street_code: &'a Text,
    pub district_code: &'a Text,
    pub lon: f64,
    pub lat: f64,
    pub occurred_at: i64,
    pub intake_at: Option<i64>,
    pub source: &'a Text,
    pub verified_at: Option<i64>,
    pub ladder: &'a Text,
    pub dispatched_at: Option<i64>,
    pub crew: &'a Text,
    pub assigned_at: Option<i64>,
    pub arrived_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub feedback_at: Option<i64>,
    pub checked_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub closed_by: &'a Text,
    pub deadline: Option<i64>,
    pub time_basis: &'a Text,
    pub amber_at: Option<i64>,
    pub verify_due: Option<i64>,
    pub dispatch_due: Option<i64>,
    pub handle_due: Option<i64>,
    pub check_due: Option<i64>,
    pub call_at: Option<i64>,
    pub call_answered_at: Option<i64>,
    pub call_hung_up_at: Option<i64>,
    pub extended: bool,
    /// `None`: not a recurrence (an empty cell).
    pub recurrence_of: Option<CaseName<'a>>,
    pub forwarded: bool,
    pub returns: u32,
    pub dispute_s: i64,
    pub rework: u32,
    pub first_arrived_at: Option<i64>,
    pub passes: u32,
    pub queue_wait_s: Option<i64>,
    pub priority: u8,
    pub escalated: bool,
    pub preempted: u32,
    pub signal_delay_s: i64,
    pub cut_off_s: i64,
    pub satisfaction: Option<f64>,
}

impl CaseRecord {
    /// The record as a borrowed row.
    pub fn row(&self) -> CaseRow<'_> {
        CaseRow {
            case_id: CaseName::Text(&self.case_id),
            kind: &self.kind,
            category: &self.category,
            department: &self.department,
            grid_code: &self.grid_code,
            community_code: &self.community_code,
            street_code: &self.street_code,
            district_code: &self.district_code,
            lon: self.lon,
            lat: self.lat,
            occurred_at: self.occurred_at,
            intake_at: self.intake_at,
            source: &self.source,
            verified_at: self.verified_at,
            ladder: &self.ladder,
            dispatched_at: self.dispatched_at,
            crew: &self.crew,
            assigned_at: self.assigned_at,
            arrived_at: self.arrived_at,
            handled_at: self.handled_at,
            feedback_at: self.feedback_at,
            checked_at: self.checked_at,
            closed_at: self.closed_at,
            closed_by: &self.closed_by,
            deadline: self.deadline,
            time_basis: &self.time_basis,
            amber_at: self.amber_at,
            verify_due: self.verify_due,
            dispatch_due: self.dispatch_due,
            handle_due: self.handle_due,
            check_due: self.check_due,
            call_at: self.call_at,
            call_answered_at: self.call_answered_at,
            call_hung_up_at: self.call_hung_up_at,
            extended: self.extended,
            recurrence_of: Some(CaseName::Text(&self.recurrence_of)),
            forwarded: self.forwarded,
            returns: self.returns,
            dispute_s: self.dispute_s,
            rework: self.rework,
            first_arrived_at: self.first_arrived_at,
            passes: self.passes,
            queue_wait_s: self.queue_wait_s,
            priority: self.priority,
            escalated: self.escalated,
            preempted: self.preempted,
            signal_delay_s: self.signal_delay_s,
            cut_off_s: self.cut_off_s,
            satisfaction: self.satisfaction,
        }
    }
}

impl CaseRow<'_> {
    /// The row as an owned record (texts shared, not copied).
    pub fn to_record(&self) -> CaseRecord {
        let mut buf = String::new();
        CaseRecord {
            case_id: self.case_id.write_to(&mut buf).to_string(),
            kind: self.kind.clone(),
            category: self.category.clone(),
            department: self.department.clone(),
            grid_code: self.grid_code.clone(),
            community_code: self.community_code.clone(),
            street_code: self.street_code.clone(),
            district_code: self.district_code.clone(),
            lon: self.lon,
            lat: self.lat,
            occurred_at: self.occurred_at,
            intake_at: self.intake_at,
            source: self.source.clone(),
            verified_at: self.verified_at,
            ladder: self.ladder.clone(),
            dispatched_at: self.dispatched_at,
            crew: self.crew.clone(),
            assigned_at: self.assigned_at,
            arrived_at: self.arrived_at,
            handled_at: self.handled_at,
            feedback_at: self.feedback_at,
            checked_at: self.checked_at,
            closed_at: self.closed_at,
            closed_by: self.closed_by.clone(),
            deadline: self.deadline,
            time_basis: self.time_basis.clone(),
            amber_at: self.amber_at,
            verify_due: self.verify_due,
            dispatch_due: self.dispatch_due,
            handle_due: self.handle_due,
            check_due: self.check_due,
            call_at: self.call_at,
            call_answered_at: self.call_answered_at,
            call_hung_up_at: self.call_hung_up_at,
            extended: self.extended,
            recurrence_of: self
                .recurrence_of
                .map_or_else(String::new, |r| r.write_to(&mut buf).to_string()),
            forwarded: self.forwarded,
            returns: self.returns,
            dispute_s: self.dispute_s,
            rework: self.rework,
            first_arrived_at: self.first_arrived_at,
            passes: self.passes,
            queue_wait_s: self.queue_wait_s,
            priority: self.priority,
            escalated: self.escalated,
            preempted: self.preempted,
            signal_delay_s: self.signal_delay_s,
            cut_off_s: self.cut_off_s,
            satisfaction: self.satisfaction,
        }
    }
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

/// The timeline's time columns: Unix seconds in memory, ISO 8601 text in the city's
/// zone in CSV, and in Parquet timestamps (milliseconds, with the city's offset as
/// the column's time zone), which pandas, DuckDB and Spark read as times.
pub const TIME_COLUMNS: [&str; 20] = [
    "occurred_at",
    "intake_at",
    "verified_at",
    "dispatched_at",
    "assigned_at",
    "arrived_at",
    "handled_at",
    "feedback_at",
    "checked_at",
    "closed_at",
    "deadline",
    "amber_at",
    "verify_due",
    "dispatch_due",
    "handle_due",
    "check_due",
    "call_at",
    "call_answered_at",
    "call_hung_up_at",
    "first_arrived_at",
];

/// An offset east of UTC as an Arrow time zone (`+08:00`, `-05:30`, `+00:00`).
pub fn arrow_zone(offset_s: i64) -> Arc<str> {
    let sign = if offset_s < 0 { '-' } else { '+' };
    let a = offset_s.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60).into()
}

/// The Arrow fields of a Parquet timeline written at `offset_s` seconds east of UTC:
/// [`arrow_fields::<CaseRecord>`], with the [`TIME_COLUMNS`] as timestamps in that
/// zone (in milliseconds, whole seconds).
pub fn case_fields(offset_s: i64) -> Result<Vec<arrow_schema::FieldRef>, String> {
    use arrow_schema::{DataType, Field, TimeUnit};
    let zone = arrow_zone(offset_s);
    Ok(arrow_fields::<CaseRecord>()?
        .into_iter()
        .map(|f| {
            if TIME_COLUMNS.contains(&f.name().as_str()) {
                let t = DataType::Timestamp(TimeUnit::Millisecond, Some(zone.clone()));
                Arc::new(Field::new(f.name(), t, true))
            } else {
                f
            }
        })
        .collect())
}

/// Records as one Arrow batch of the given fields.
pub fn record_batch<T: Serialize>(
    fields: &[arrow_schema::FieldRef],
    rows: &[T],
) -> Result<arrow_array::RecordBatch, String> {
    serde_arrow::to_record_batch(fields, &rows).map_err(|e| format!("timeline to Arrow: {e}"))
}

/// Case rows as one Arrow batch of [`case_fields`]`(offset_s)`, built column by
/// column (a megacity timeline has 5 M cases of 49 columns): [`record_batch`]'s batch
/// with the times as timestamps (`offset_s` seconds east of UTC) where it has text.
pub fn case_batch<'a>(
    fields: &[arrow_schema::FieldRef],
    rows: &[CaseRow<'a>],
    offset_s: i64,
) -> Result<arrow_array::RecordBatch, String> {
    use arrow_array::builder::LargeStringBuilder;
    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, UInt32Array, UInt8Array};
    let n = rows.len();
    // names of simulated cases are written from their numbers (a megacity year has
    // 5 M of them): into one buffer, not a string per case
    let name = |f: &dyn Fn(&CaseRow<'a>) -> Option<CaseName<'a>>| -> ArrayRef {
        let mut b = LargeStringBuilder::with_capacity(n, n * 8);
        let mut buf = String::new();
        for r in rows {
            b.append_value(f(r).map_or("", |c| c.write_to(&mut buf)));
        }
        Arc::new(b.finish())
    };
    let text = |f: &dyn Fn(&CaseRow<'a>) -> &'a str| -> ArrayRef {
        let bytes = rows.iter().map(|r| f(r).len()).sum();
        let mut b = LargeStringBuilder::with_capacity(n, bytes);
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    };
    let zone = arrow_zone(offset_s);
    // (milliseconds: Parquet has no timestamp type in seconds, and a column of
    // seconds would be read by other tools as plain integers)
    let time = |f: &dyn Fn(&CaseRow) -> Option<i64>| -> Result<ArrayRef, String> {
        let ms = rows
            .iter()
            .map(|r| match f(r) {
                None => Ok(None),
                Some(t) => t.checked_mul(1000).map(Some).ok_or_else(|| {
                    let mut buf = String::new();
                    let case = r.case_id.write_to(&mut buf);
                    format!("case {case}: time {t} is out of the range of a timestamp")
                }),
            })
            .collect::<Result<arrow_array::TimestampMillisecondArray, String>>()?;
        Ok(Arc::new(ms.with_timezone(zone.clone())))
    };
    let flag = |f: &dyn Fn(&CaseRow) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(f(r)))))
    };
    let count = |f: &dyn Fn(&CaseRow) -> u32| -> ArrayRef {
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(f)))
    };
    let secs = |f: &dyn Fn(&CaseRow) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    // in the order of CaseRecord's fields (the traced schema's)
    let columns: Vec<ArrayRef> = vec![
        name(&|r| Some(r.case_id)),
        text(&|r| r.kind),
        text(&|r| r.category),
        text(&|r| r.department),
        text(&|r| r.grid_code),
        text(&|r| r.community_code),
        text(&|r| r.street_code),
        text(&|r| r.district_code),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.lon))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.lat))),
        time(&|r| Some(r.occurred_at))?,
        time(&|r| r.intake_at)?,
        text(&|r| r.source),
        time(&|r| r.verified_at)?,
        text(&|r| r.ladder),
        time(&|r| r.dispatched_at)?,
        text(&|r| r.crew),
        time(&|r| r.assigned_at)?,
        time(&|r| r.arrived_at)?,
        time(&|r| r.handled_at)?,
        time(&|r| r.feedback_at)?,
        time(&|r| r.checked_at)?,
        time(&|r| r.closed_at)?,
        text(&|r| r.closed_by),
        time(&|r| r.deadline)?,
        text(&|r| r.time_basis),
        time(&|r| r.amber_at)?,
        time(&|r| r.verify_due)?,
        time(&|r| r.dispatch_due)?,
        time(&|r| r.handle_due)?,
        time(&|r| r.check_due)?,
        time(&|r| r.call_at)?,
        time(&|r| r.call_answered_at)?,
        time(&|r| r.call_hung_up_at)?,
        flag(&|r| r.extended),
        name(&|r| r.recurrence_of),
        flag(&|r| r.forwarded),
        count(&|r| r.returns),
        secs(&|r| r.dispute_s),
        count(&|r| r.rework),
        time(&|r| r.first_arrived_at)?,
        count(&|r| r.passes),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.queue_wait_s))),
        Arc::new(UInt8Array::from_iter_values(
            rows.iter().map(|r| r.priority),
        )),
        flag(&|r| r.escalated),
        count(&|r| r.preempted),
        secs(&|r| r.signal_delay_s),
        secs(&|r| r.cut_off_s),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.satisfaction))),
    ];
    let schema = Arc::new(arrow_schema::Schema::new(fields.to_vec()));
    arrow_array::RecordBatch::try_new(schema, columns)
        .map_err(|e| format!("timeline to Arrow: {e}"))
}

/// The Parquet properties of gridtwin's tables: Snappy, a row group per
/// [`PARQUET_ROWS`], and no dictionary for columns unique per row.
pub fn writer_properties(
    fields: &[arrow_schema::FieldRef],
) -> parquet::file::properties::WriterProperties {
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(PARQUET_ROWS));
    // Codes, categories, departments, crews are dictionary-encoded (the default);
    // times and ids are unique per row, where a dictionary is only built to be dropped.
    for f in fields {
        let n = f.name();
        if n.ends_with("_at")
            || n.ends_with("_due")
            || ["case_id", "recurrence_of", "deadline"].contains(&n.as_str())
        {
            props = props.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(n.as_str()),
                false,
            );
        }
        // Timestamps as differences from the row before (a timeline comes in time
        // order: most differences are minutes, a few bytes where plain takes eight).
        if matches!(f.data_type(), arrow_schema::DataType::Timestamp(..)) {
            props = props.set_column_encoding(
                parquet::schema::types::ColumnPath::from(n.as_str()),
                parquet::basic::Encoding::DELTA_BINARY_PACKED,
            );
        }
    }
    props.build()
}

/// Writes Arrow batches as one Parquet file (Snappy), a row group per batch.
pub fn write_parquet_batches<W: Write + Send>(
    fields: &[arrow_schema::FieldRef],
    batches: impl IntoIterator<Item = Result<arrow_array::RecordBatch, String>>,
    w: W,
) -> Result<(), String> {
    use parquet::arrow::arrow_writer::compute_leaves;
    use parquet::arrow::ArrowWriter;
    use parquet::errors::ParquetError;
    let schema = Arc::new(arrow_schema::Schema::new(fields.to_vec()));
    let props = writer_properties(fields);
    // The row groups are encoded as `ArrowWriter::write` encodes them, but a row
    // group's columns are encoded on several threads at once (each column on its own:
    // the same bytes at any thread count; a megacity timeline has 49 columns of 5 M
    // rows).
    let (mut file, row_groups) = ArrowWriter::try_new(w, schema.clone(), Some(props))
        .and_then(|w| w.into_serialized_writer())
        .map_err(|e| e.to_string())?;
    let threads = rayon::current_num_threads().clamp(1, 8);
    let mut index = 0;
    for batch in batches {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        let writers = row_groups
            .create_column_writers(index)
            .map_err(|e| e.to_string())?;
        index += 1;
        // one leaf column per field: the tables written here are flat
        if writers.len() != batch.num_columns() {
            return Err("nested columns are not written here".into());
        }
        // columns dealt round-robin to the threads (their sizes are alike)
        let mut shares: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
        for (k, job) in writers
            .into_iter()
            .zip(schema.fields().iter().zip(batch.columns()))
            .enumerate()
        {
            shares[k % threads].push((k, job));
        }
        let encoded = std::thread::scope(|s| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    s.spawn(move || {
                        share
                            .into_iter()
                            .map(|(i, (mut writer, (field, array)))| {
                                for leaf in compute_leaves(field, array)? {
                                    writer.write(&leaf)?;
                                }
                                Ok((i, writer.close()?))
                            })
                            .collect::<Result<Vec<_>, ParquetError>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(ParquetError::General("a column encoder failed".into()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| e.to_string())?;
        let mut chunks: Vec<_> = encoded.into_iter().flatten().collect();
        chunks.sort_by_key(|c| c.0);
        let mut group = file.next_row_group().map_err(|e| e.to_string())?;
        for (_, chunk) in chunks {
            chunk
                .append_to_row_group(&mut group)
                .map_err(|e| e.to_string())?;
        }
        group.close().map_err(|e| e.to_string())?;
    }
    file.close().map_err(|e| e.to_string())?;
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
        let batch = seconds_for_timestamps(batch.map_err(|e| format!("{name}: {e}"))?)
            .map_err(|e| format!("{name}: {e}"))?;
        let first = rows.len() + 1;
        let block: Vec<T> = serde_arrow::from_record_batch(&batch)
            .map_err(|e| format!("{name}: records from {first}: {e}"))?;
        rows.extend(block);
    }
    Ok(rows)
}

/// Timestamp columns (a file written by pandas, DuckDB or Spark, in any unit and time
/// zone) as integer Unix seconds, which the time fields read.
fn seconds_for_timestamps(
    batch: arrow_array::RecordBatch,
) -> Result<arrow_array::RecordBatch, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::{Array, ArrayRef, Int64Array};
    use arrow_schema::{DataType, Field, TimeUnit};
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Timestamp(..)))
    {
        return Ok(batch);
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
        let DataType::Timestamp(unit, _) = f.data_type() else {
            fields.push(f.clone());
            columns.push(col.clone());
            continue;
        };
        let per_second: i64 = match unit {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        };
        let raw: Vec<Option<i64>> = match unit {
            TimeUnit::Second => col.as_primitive::<TimestampSecondType>().iter().collect(),
            TimeUnit::Millisecond => col
                .as_primitive::<TimestampMillisecondType>()
                .iter()
                .collect(),
            TimeUnit::Microsecond => col
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .collect(),
            TimeUnit::Nanosecond => col
                .as_primitive::<TimestampNanosecondType>()
                .iter()
                .collect(),
        };
        let secs: Int64Array = raw
            .into_iter()
            .map(|t| t.map(|t| t.div_euclid(per_second)))
            .collect();
        debug_assert_eq!(secs.len(), col.len());
        fields.push(Arc::new(Field::new(f.name(), DataType::Int64, true)));
        columns.push(Arc::new(secs));
    }
    arrow_array::RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns)
        .map_err(|e| e.to_string())
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

    /// Random case records: every optional field present or not, texts with commas,
    /// quotes and non-ASCII, times from sentinels to far years.
    fn random_cases(seed: u64, n: usize) -> Vec<CaseRecord> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let texts = ["", "0501", "roads, \"east\"", "街道", "crew_7", "C0000012"];
        (0..n)
            .map(|_| {
                let mut t = || -> Option<i64> {
                    match next() % 6 {
                        0 => None,
                        // (any time a timestamp in milliseconds holds)
                        1 => Some((next() as i64) >> 10),
                        2 => Some(-62_135_596_800 - (next() % 1000) as i64),
                        _ => Some(1_700_000_000 + (next() % 100_000_000) as i64),
                    }
                };
                let mut c = CaseRecord::sample();
                for slot in [
                    &mut c.intake_at,
                    &mut c.verified_at,
                    &mut c.dispatched_at,
                    &mut c.assigned_at,
                    &mut c.arrived_at,
                    &mut c.handled_at,
                    &mut c.feedback_at,
                    &mut c.checked_at,
                    &mut c.closed_at,
                    &mut c.deadline,
                    &mut c.amber_at,
                    &mut c.verify_due,
                    &mut c.dispatch_due,
                    &mut c.handle_due,
                    &mut c.check_due,
                    &mut c.call_at,
                    &mut c.call_answered_at,
                    &mut c.call_hung_up_at,
                    &mut c.first_arrived_at,
                    &mut c.queue_wait_s,
                ] {
                    *slot = t();
                }
                c.occurred_at = t().unwrap_or(0);
                let mut s = || texts[(next() % texts.len() as u64) as usize];
                c.case_id = s().to_string();
                c.kind = s().into();
                c.category = s().into();
                c.department = s().into();
                c.grid_code = s().into();
                c.community_code = s().into();
                c.street_code = s().into();
                c.district_code = s().into();
                c.source = s().into();
                c.ladder = s().into();
                c.crew = s().into();
                c.closed_by = s().into();
                c.time_basis = s().into();
                c.recurrence_of = s().to_string();
                c.lon = (next() % 360_000) as f64 / 1000.0 - 180.0;
                c.lat = f64::from_bits(next() >> 2);
                c.extended = next() % 2 == 0;
                c.forwarded = next() % 2 == 0;
                c.escalated = next() % 2 == 0;
                c.returns = next() as u32;
                c.rework = next() as u32;
                c.passes = next() as u32;
                c.preempted = next() as u32;
                c.priority = next() as u8;
                c.dispute_s = next() as i64;
                c.signal_delay_s = next() as i64;
                c.cut_off_s = next() as i64;
                c.satisfaction = (next() % 3 != 0).then(|| (next() % 1000) as f64 / 999.0);
                c
            })
            .collect()
    }

    /// The column-by-column batch is the serde batch, value for value, except that its
    /// times are timestamps in the offset's zone where serde's are the CSV's text; and
    /// its Parquet file reads back as the records: over 300 seeded random timelines at
    /// several offsets.
    #[test]
    fn case_batches_are_the_serde_batches_with_timestamps() {
        use arrow_array::cast::AsArray;
        use arrow_array::types::TimestampMillisecondType;
        use arrow_array::Array;
        let traced = arrow_fields::<CaseRecord>().unwrap();
        let dir = tempfile::tempdir().unwrap();
        for seed in 0..300u64 {
            let rows = random_cases(seed, (seed % 40) as usize);
            let offset = [0, 8 * 3600, -(5 * 3600 + 30 * 60), 345 * 60][seed as usize % 4];
            let fields = case_fields(offset).unwrap();
            let by_serde =
                crate::local_time::with_offset(offset, || record_batch(&traced, &rows)).unwrap();
            let views: Vec<CaseRow> = rows.iter().map(CaseRecord::row).collect();
            let by_column = case_batch(&fields, &views, offset).unwrap();
            assert_eq!(by_column.num_columns(), by_serde.num_columns());
            let mut times = 0;
            for (i, f) in fields.iter().enumerate() {
                let (ours, theirs) = (by_column.column(i), by_serde.column(i));
                if !TIME_COLUMNS.contains(&f.name().as_str()) {
                    assert_eq!(ours, theirs, "seed {seed}: {}", f.name());
                    continue;
                }
                times += 1;
                let zone = arrow_zone(offset);
                assert_eq!(
                    f.data_type(),
                    &arrow_schema::DataType::Timestamp(
                        arrow_schema::TimeUnit::Millisecond,
                        Some(zone)
                    )
                );
                let ours = ours.as_primitive::<TimestampMillisecondType>();
                let theirs = theirs.as_string::<i64>();
                for r in 0..rows.len() {
                    let text = (!theirs.is_null(r)).then(|| theirs.value(r).to_string());
                    let time = (!ours.is_null(r))
                        .then(|| crate::local_time::format(ours.value(r) / 1000, offset));
                    assert_eq!(time, text, "seed {seed}: {} row {r}", f.name());
                }
            }
            assert_eq!(times, TIME_COLUMNS.len());
            if seed % 10 == 0 {
                let path = dir.path().join("t.parquet");
                let mut bytes = Vec::new();
                write_parquet_batches(&fields, [Ok(by_column)], &mut bytes).unwrap();
                std::fs::write(&path, &bytes).unwrap();
                let back: Vec<CaseRecord> = read_records(&path).unwrap();
                assert_eq!(back, rows, "seed {seed}: read back");
                // a timestamp in the file itself (UTC-adjusted milliseconds), not an
                // integer that only gridtwin's own Arrow schema calls a time
                let file = parquet::file::reader::SerializedFileReader::new(
                    std::fs::File::open(&path).unwrap(),
                )
                .unwrap();
                use parquet::file::reader::FileReader;
                let schema = file.metadata().file_metadata().schema_descr_ptr();
                for c in schema.columns() {
                    let is_time = TIME_COLUMNS.contains(&c.name());
                    let stamp = c.logical_type_ref()
                        == Some(&parquet::basic::LogicalType::timestamp(
                            true,
                            parquet::basic::TimeUnit::MILLIS,
                        ));
                    assert_eq!(is_time, stamp, "{}: {:?}", c.name(), c.logical_type_ref());
                }
            }
        }
    }

    /// A time a millisecond timestamp cannot hold is an error naming the case, not a
    /// wrapped value.
    #[test]
    fn a_time_out_of_timestamp_range_is_an_error() {
        let mut rows = random_cases(1, 3);
        rows[2].case_id = "C0000003".into();
        rows[2].closed_at = Some(i64::MAX / 999);
        let batch = |rows: &[CaseRecord]| {
            let views: Vec<CaseRow> = rows.iter().map(CaseRecord::row).collect();
            case_batch(&case_fields(0).unwrap(), &views, 0)
        };
        let e = batch(&rows).unwrap_err();
        assert!(
            e.contains("C0000003") && e.contains("out of the range"),
            "{e}"
        );
        rows[2].closed_at = Some(i64::MAX / 1000);
        assert!(batch(&rows).is_ok());
    }

    /// The column-parallel writer writes the bytes `ArrowWriter` writes (same
    /// properties), over several row groups, at one thread and at four.
    #[test]
    fn the_parallel_writer_writes_arrow_writers_bytes() {
        use parquet::arrow::ArrowWriter;
        let fields = case_fields(8 * 3600).unwrap();
        let rows = random_cases(7, 2_500);
        let batches: Vec<_> = rows
            .chunks(1_000)
            .map(|b| {
                let views: Vec<CaseRow> = b.iter().map(CaseRecord::row).collect();
                case_batch(&fields, &views, 8 * 3600).unwrap()
            })
            .collect();
        let schema = Arc::new(arrow_schema::Schema::new(fields.clone()));
        // the reference: ArrowWriter itself with the properties write_parquet_batches
        // sets, a row group per batch
        let mut reference = Vec::new();
        let mut w =
            ArrowWriter::try_new(&mut reference, schema, Some(writer_properties(&fields))).unwrap();
        for b in &batches {
            w.write(b).unwrap();
            w.flush().unwrap();
        }
        w.close().unwrap();
        for threads in [1, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut ours = Vec::new();
            pool.install(|| {
                write_parquet_batches(&fields, batches.iter().cloned().map(Ok), &mut ours)
            })
            .unwrap();
            assert!(ours == reference, "{threads} threads");
        }
    }

    /// A Parquet timeline not written by gridtwin — times as timestamps (pandas'
    /// nanoseconds with the city's zone, milliseconds in UTC) or integer seconds,
    /// texts as plain or dictionary strings, some columns missing — reads as the same
    /// cases.
    #[test]
    fn a_timeline_written_by_another_tool_reads_back() {
        use arrow_array::types::Int32Type;
        use arrow_array::{
            ArrayRef, DictionaryArray, Float64Array, Int64Array, StringArray,
            TimestampMillisecondArray, TimestampNanosecondArray,
        };
        let t0 = 1_748_827_800i64;
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("case_id", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
            ("kind", Arc::new(StringArray::from(vec!["event"; 3]))),
            (
                "category",
                Arc::new(
                    vec!["0501", "0501", "0202"]
                        .into_iter()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            (
                "grid_code",
                Arc::new(StringArray::from(vec!["g1", "g2", ""])),
            ),
            ("community_code", Arc::new(StringArray::from(vec![""; 3]))),
            ("street_code", Arc::new(StringArray::from(vec![""; 3]))),
            ("district_code", Arc::new(StringArray::from(vec![""; 3]))),
            (
                "lon",
                Arc::new(Float64Array::from(vec![121.4, 121.5, 121.6])),
            ),
            ("lat", Arc::new(Float64Array::from(vec![31.2, 31.3, 31.1]))),
            (
                "occurred_at",
                Arc::new(
                    TimestampNanosecondArray::from(vec![
                        t0 * 1_000_000_000,
                        (t0 + 60) * 1_000_000_000 + 999,
                        t0 * 1_000_000_000 - 1,
                    ])
                    .with_timezone("+08:00"),
                ),
            ),
            (
                "intake_at",
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(t0 * 1000 + 500), None, Some(0)])
                        .with_timezone("UTC"),
                ),
            ),
            ("source", Arc::new(StringArray::from(vec!["hotline"; 3]))),
            ("ladder", Arc::new(StringArray::from(vec![""; 3]))),
            ("crew", Arc::new(StringArray::from(vec!["c1", "", "c2"]))),
            (
                "closed_at",
                Arc::new(Int64Array::from(vec![Some(t0 + 7200), None, None])),
            ),
            (
                "deadline",
                Arc::new(StringArray::from(vec![
                    Some("2025-06-02T10:30:00+08:00"),
                    None,
                    Some(""),
                ])),
            ),
            (
                "closed_by",
                Arc::new(StringArray::from(vec!["crew", "", ""])),
            ),
            (
                "escalated",
                Arc::new(arrow_array::BooleanArray::from(vec![false, true, false])),
            ),
        ];
        // the step times a file must have (a pandas export of a timeline), empty here
        let mut cols = cols;
        for step in [
            "verified_at",
            "dispatched_at",
            "assigned_at",
            "arrived_at",
            "handled_at",
            "feedback_at",
            "checked_at",
        ] {
            let none: Vec<Option<i64>> = vec![None; 3];
            cols.push((
                step,
                Arc::new(arrow_array::TimestampSecondArray::from(none).with_timezone("+08:00")),
            ));
        }
        let (names, arrays): (Vec<_>, Vec<_>) = cols.into_iter().unzip();
        let fields: Vec<_> = names
            .iter()
            .zip(&arrays)
            .map(|(n, a)| arrow_schema::Field::new(*n, a.data_type().clone(), true))
            .collect();
        let batch =
            arrow_array::RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), arrays)
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.parquet");
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let cases: Vec<CaseRecord> = read_records(&path).unwrap();
        assert_eq!(cases.len(), 3);
        assert_eq!(
            cases.iter().map(|c| c.occurred_at).collect::<Vec<_>>(),
            vec![t0, t0 + 60, t0 - 1]
        );
        assert_eq!(
            cases.iter().map(|c| c.intake_at).collect::<Vec<_>>(),
            vec![Some(t0), None, Some(0)]
        );
        assert_eq!(cases[0].closed_at, Some(t0 + 7200));
        assert_eq!(cases[0].deadline, Some(t0 + 3600));
        assert_eq!((cases[1].deadline, cases[2].deadline), (None, None));
        assert_eq!(&*cases[2].category, "0202");
        assert_eq!(&*cases[0].crew, "c1");
        assert!(cases[1].escalated && cases[0].verified_at.is_none());
    }

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
