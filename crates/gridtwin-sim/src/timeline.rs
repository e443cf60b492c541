//! The case timeline: every case's step times, crew and grid codes — the one record
//! all metrics are computed from.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One case, as written to `timeline.csv`. Times are Unix seconds (UTC); a step not
/// reached by the end of the run is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub case_id: String,
    /// `event` or `component`.
    pub kind: String,
    pub category: String,
    pub grid_code: String,
    pub community_code: String,
    pub street_code: String,
    pub district_code: String,
    pub lon: f64,
    pub lat: f64,
    /// When it happened (before anyone knew).
    pub occurred_at: i64,
    /// Intake: when it was found or reported.
    pub intake_at: Option<i64>,
    /// `patrol`, `hotline` or `sensor`.
    pub source: String,
    pub verified_at: Option<i64>,
    /// Graded escalation stages passed, `notify>visit`.
    pub ladder: String,
    pub dispatched_at: Option<i64>,
    pub crew: String,
    /// When a crew took the case (the queue wait ends).
    pub assigned_at: Option<i64>,
    /// When the crew reached the place.
    pub arrived_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub feedback_at: Option<i64>,
    pub checked_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// `crew`, `compliance:<stage>`, or empty while open.
    pub closed_by: String,
    /// Working-hour deadline from the category's time limit.
    pub deadline: Option<i64>,
    /// Passed its deadline while open.
    pub escalated: bool,
    /// Evaluation 综合评价 by the public, 0–1, where a history file records it (the
    /// simulation leaves it empty).
    #[serde(default)]
    pub satisfaction: Option<f64>,
}

/// A crew's time on duty and at work.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrewRecord {
    pub crew: String,
    pub department: String,
    pub on_shift_secs: i64,
    pub busy_secs: i64,
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
