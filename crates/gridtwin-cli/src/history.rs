//! Case histories as users hold them: a `simulate` timeline, or any CSV/Parquet/
//! GeoJSON with a case id, category and intake time, read leniently (columns it lacks
//! take their defaults; a row that cannot be used is counted with its reason).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use gridtwin_core::assign::Assigner;
use gridtwin_core::locate::Location;
use gridtwin_io::record::Record;
use gridtwin_sim::local_time;
use gridtwin_sim::timeline::CaseRecord;

/// Reads a history of any supported format into case records, leniently: columns
/// it lacks take their defaults; a row without a category or intake time is counted
/// as unreadable with its reason.
pub fn read_history(
    path: &Path,
    assigner: &Assigner,
) -> Result<(Vec<CaseRecord>, BTreeMap<String, u64>)> {
    // (a CSV history may have no coordinates at all: read it as plain rows; other
    // formats through the geo readers)
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let records: Box<dyn Iterator<Item = Result<Record, gridtwin_core::Rejection>>> = if is_csv {
        Box::new(csv_rows(path)?.into_iter())
    } else {
        Box::new(
            gridtwin_io::read_records(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
    };
    let mut cases = Vec::new();
    let mut unreadable: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_error: Option<String> = None;
    for rec in records {
        let r = match rec {
            Ok(r) => r,
            Err(rej) => {
                *unreadable
                    .entry(format!("unreadable row ({})", rej.reason))
                    .or_default() += 1;
                continue;
            }
        };
        match case_of(&r, assigner) {
            Ok(c) => cases.push(c),
            Err(why) => {
                first_error.get_or_insert_with(|| format!("record {}: {why}", r.number));
                *unreadable.entry(why).or_default() += 1;
            }
        }
    }
    if cases.is_empty() {
        bail!(
            "{}: no usable case{}",
            path.display(),
            first_error.map(|e| format!(" ({e})")).unwrap_or_default()
        );
    }
    Ok((cases, unreadable))
}

/// The rows of a CSV as records of text fields (empty cells are null).
fn csv_rows(path: &Path) -> Result<Vec<Result<Record, gridtwin_core::Rejection>>> {
    use gridtwin_io::record::Value;
    let file = path.display().to_string();
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {file}"))?;
    let header: Vec<String> = r
        .headers()
        .with_context(|| format!("reading {file}"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let mut out = Vec::new();
    for (i, row) in r.records().enumerate() {
        let number = i as u64 + 1;
        out.push(match row {
            Ok(row) if row.len() == header.len() => Ok(Record {
                number,
                geometry: None,
                fields: header
                    .iter()
                    .zip(row.iter())
                    .map(|(h, v)| {
                        let v = v.trim();
                        let v = if v.is_empty() {
                            Value::Null
                        } else {
                            Value::Text(v.to_string())
                        };
                        (h.clone(), v)
                    })
                    .collect(),
            }),
            Ok(row) => Err(gridtwin_core::Rejection::new(
                &file,
                number,
                gridtwin_core::RejectReason::Unparsable,
                format!("{} fields, header has {}", row.len(), header.len()),
            )),
            Err(e) => Err(gridtwin_core::Rejection::new(
                &file,
                number,
                gridtwin_core::RejectReason::Unparsable,
                e.to_string(),
            )),
        });
    }
    Ok(out)
}

fn case_of(r: &Record, assigner: &Assigner) -> Result<CaseRecord, String> {
    let text = |names: &[&str]| r.text(names).unwrap_or_default();
    let time = |names: &[&str]| -> Result<Option<i64>, String> {
        match r.text(names) {
            None => Ok(None),
            Some(s) => local_time::parse(&s)
                .map(Some)
                .map_err(|_| format!("`{}` is not a time", names[0])),
        }
    };
    let category = r.text(&["category"]).ok_or("no category")?.to_string();
    let intake_at = time(&["intake_at", "time", "reported_at"])?.ok_or("no intake time")?;
    let lon = r.get("lon").and_then(|v| v.as_f64().ok().flatten());
    let lat = r.get("lat").and_then(|v| v.as_f64().ok().flatten());
    let (lon, lat) = match (&r.geometry, lon, lat) {
        (Some(geo::Geometry::Point(p)), _, _) => (Some(p.x()), Some(p.y())),
        (_, a, b) => (a, b),
    };
    let mut grid = text(&["grid_code"]);
    if grid.is_empty() {
        if let (Some(x), Some(y)) = (lon, lat) {
            if let Location::Inside(i) = assigner.assign(x, y, None) {
                grid = assigner.codes(i).grid.clone();
            }
        }
    }
    let kind = match text(&["kind"]).as_str() {
        "" => "event".to_string(),
        k => k.to_string(),
    };
    Ok(CaseRecord {
        case_id: text(&["case_id", "id"]),
        kind: kind.into(),
        category: category.into(),
        department: text(&["department"]).into(),
        grid_code: grid.into(),
        lon: lon.unwrap_or(f64::NAN),
        lat: lat.unwrap_or(f64::NAN),
        occurred_at: time(&["occurred_at"])?.unwrap_or(intake_at),
        intake_at: Some(intake_at),
        source: text(&["source"]).into(),
        verified_at: time(&["verified_at"])?,
        ladder: text(&["ladder"]).into(),
        dispatched_at: time(&["dispatched_at"])?,
        crew: text(&["crew"]).into(),
        assigned_at: time(&["assigned_at"])?,
        arrived_at: time(&["arrived_at"])?,
        handled_at: time(&["handled_at"])?,
        feedback_at: time(&["feedback_at"])?,
        checked_at: time(&["checked_at"])?,
        closed_at: time(&["closed_at"])?,
        closed_by: text(&["closed_by"]).into(),
        extended: matches!(text(&["extended"]).as_str(), "true" | "1"),
        forwarded: matches!(text(&["forwarded"]).as_str(), "true" | "1"),
        returns: text(&["returns"]).parse().unwrap_or(0),
        rework: text(&["rework"]).parse().unwrap_or(0),
        passes: text(&["passes"]).parse().unwrap_or(1),
        preempted: text(&["preempted"]).parse().unwrap_or(0),
        ..CaseRecord::default()
    })
}
