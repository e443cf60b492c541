//! Loading incidents (cases): category, intake time and source, place, and the times
//! of the steps taken; and the times they are given in.

use std::str::FromStr;

use gridtwin_core::{
    CaseStep, CaseTimeline, CategoryKind, Incident, IntakeSource, QualityReport, RejectReason,
    Rejection,
};

use super::{required, Loader};
use crate::record::{Record, Value};

/// Parses a time: Unix seconds, RFC 3339 (`2025-03-01T08:30:00+08:00`), or a civil
/// date-time without offset (`2025-03-01 08:30:00`), taken as UTC.
pub fn parse_time(v: &Value) -> Result<i64, String> {
    if let Value::Int(i) = v {
        return Ok(*i);
    }
    let s = v.as_text().ok_or("empty time")?;
    if let Ok(i) = s.parse::<i64>() {
        return Ok(i);
    }
    if let Ok(t) = jiff::Timestamp::from_str(&s) {
        return Ok(t.as_second());
    }
    jiff::civil::DateTime::from_str(&s)
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_second())
        .ok_or_else(|| {
            format!("`{s}` is not a time (RFC 3339, `YYYY-MM-DD HH:MM:SS` or Unix seconds)")
        })
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn format_time(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.to_string())
        .unwrap_or_else(|_| t.to_string())
}

impl Loader<'_> {
    /// Loads incidents: `id`, `category` (class code such as `0501`, or its name),
    /// `time`, `source` (patrol/hotline/sensor), a point, and optional step times
    /// (`verified_at` … `closed_at`).
    pub fn incidents(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Incident> {
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.incidents;
        self.run("incidents", file, records, quality, |r| {
            let id = required(r, &["id"])?;
            let cat = required(r, &["category"])?;
            let category = self
                .table
                .find(CategoryKind::Event, &cat)
                .ok_or_else(|| {
                    (
                        RejectReason::UnknownCategory,
                        format!("event category `{cat}` is not in the category table"),
                    )
                })?
                .key;
            let time_v = r.get("time").ok_or((
                RejectReason::MissingField,
                "`time` is missing or empty".to_string(),
            ))?;
            let time =
                parse_time(time_v).map_err(|e| (RejectReason::BadValue, format!("time: {e}")))?;
            let source: IntakeSource =
                required(r, &["source"])?
                    .parse()
                    .map_err(|e: gridtwin_core::ParseEnumError| {
                        (RejectReason::BadValue, e.to_string())
                    })?;
            let mut timeline = CaseTimeline::default();
            let mut any = false;
            for step in CaseStep::ALL {
                if let Some(v) = r.get(step.column()) {
                    let t = parse_time(v)
                        .map_err(|e| (RejectReason::BadValue, format!("{}: {e}", step.column())))?;
                    timeline.steps[step as usize] = Some(t);
                    any = true;
                }
            }
            if any {
                timeline
                    .check(time)
                    .map_err(|e| (RejectReason::BadValue, e))?;
            }
            let location = self.point(r)?;
            if !seen.insert(id.clone()) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("id `{id}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            Ok(Incident {
                id,
                category,
                location,
                time,
                source,
                timeline: any.then_some(timeline),
            })
        })
    }
}
