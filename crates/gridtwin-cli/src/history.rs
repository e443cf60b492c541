//! Case histories as users hold them: a `simulate` timeline, or any CSV/Parquet/
//! GeoJSON with a case id, category and intake time, read leniently (columns it lacks
//! take their defaults; a row that cannot be used is counted with its reason).
//!
//! A CSV history is streamed row by row (a megacity year is millions of cases); the
//! other formats come through the geo readers.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Context, Result};
use gridtwin_core::assign::Assigner;
use gridtwin_core::locate::Location;
use gridtwin_io::record::Record;
use gridtwin_sim::local_time;
use gridtwin_sim::timeline::CaseRecord;

/// What reading a history needs from its city.
pub struct Reading<'a> {
    /// Locates rows that have a place and no grid code.
    pub assigner: &'a Assigner,
    /// Category names (`exposed garbage`, `暴露垃圾`) become class codes by it; a
    /// category it does not hold is left out, counted.
    pub table: &'a gridtwin_core::CategoryTable,
    /// The city's zone: a time written without an offset (`2025-03-01 08:30:00`, as
    /// most exports have it) is a local time there.
    pub utc_offset_s: i64,
}

/// Reads a whole history into memory (for a warm start or a backtest).
pub fn read_history(
    path: &Path,
    reading: &Reading,
) -> Result<(Vec<CaseRecord>, BTreeMap<String, u64>)> {
    let mut cases = Vec::new();
    let unreadable = stream_history(path, reading, &mut |c| cases.push(c))?;
    Ok((cases, unreadable))
}

/// Hands every usable case of a history to `take`, in file order; returns the rows
/// left out, by reason. An error if no row is usable.
pub fn stream_history(
    path: &Path,
    reading: &Reading,
    take: &mut dyn FnMut(CaseRecord),
) -> Result<BTreeMap<String, u64>> {
    let mut unreadable: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_error: Option<String> = None;
    let mut used = 0u64;
    let mut handle = |n: u64, r: Result<CaseRecord, String>| match r {
        Ok(c) => {
            used += 1;
            take(c)
        }
        Err(why) => {
            first_error.get_or_insert_with(|| format!("record {n}: {why}"));
            *unreadable.entry(why).or_default() += 1;
        }
    };
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        // (a CSV history may have no coordinates at all: read as plain rows)
        let file = path.display().to_string();
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("reading {file}"))?;
        let columns: HashMap<String, usize> = r
            .headers()
            .with_context(|| format!("reading {file}"))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
                (h, i)
            })
            .collect();
        let width = columns.len();
        let mut row = csv::StringRecord::new();
        let mut n = 0u64;
        loop {
            match r.read_record(&mut row) {
                Ok(false) => break,
                Ok(true) => {
                    n += 1;
                    if row.len() != width {
                        handle(
                            n,
                            Err(format!(
                                "unreadable row (a row of {} fields, the header has {width})",
                                row.len()
                            )),
                        );
                        continue;
                    }
                    let view = CsvRow {
                        columns: &columns,
                        row: &row,
                    };
                    handle(n, case_of(&view, reading));
                }
                Err(e) => {
                    n += 1;
                    // a broken row (bad UTF-8, a quote never closed) is counted
                    handle(n, Err(format!("unreadable row ({})", kind_of(&e))));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return Err(e).with_context(|| format!("reading {file}"));
                    }
                }
            }
        }
    } else {
        let records = gridtwin_io::read_records(path)
            .with_context(|| format!("reading {}", path.display()))?;
        for rec in records {
            match rec {
                Ok(r) => {
                    let n = r.number;
                    handle(n, case_of(&RecordRow(&r), reading));
                }
                Err(rej) => handle(rej.record, Err(format!("unreadable row ({})", rej.reason))),
            }
        }
    }
    if used == 0 {
        bail!(
            "{}: no usable case{}",
            path.display(),
            first_error.map(|e| format!(" ({e})")).unwrap_or_default()
        );
    }
    Ok(unreadable)
}

fn kind_of(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields",
        _ => "malformed CSV",
    }
}

/// A history row, whatever its format.
trait Row {
    /// The first of `names` present and not empty.
    fn text(&self, names: &[&str]) -> Option<Cow<'_, str>>;
    /// The row's point geometry, if it has one.
    fn point(&self) -> Option<(f64, f64)>;
}

struct CsvRow<'a> {
    columns: &'a HashMap<String, usize>,
    row: &'a csv::StringRecord,
}

impl Row for CsvRow<'_> {
    fn text(&self, names: &[&str]) -> Option<Cow<'_, str>> {
        names.iter().find_map(|n| {
            let v = self.row.get(*self.columns.get(*n)?)?.trim();
            (!v.is_empty()).then_some(Cow::Borrowed(v))
        })
    }
    fn point(&self) -> Option<(f64, f64)> {
        None
    }
}

struct RecordRow<'a>(&'a Record);

impl Row for RecordRow<'_> {
    fn text(&self, names: &[&str]) -> Option<Cow<'_, str>> {
        self.0.text(names).map(Cow::Owned)
    }
    fn point(&self) -> Option<(f64, f64)> {
        match &self.0.geometry {
            Some(geo::Geometry::Point(p)) => Some((p.x(), p.y())),
            _ => None,
        }
    }
}

/// A time as histories write it: ISO 8601 with an offset, Unix seconds, or a local
/// date and time without an offset (`2025-03-01 08:30[:00]`, `2025/3/1 8:30`), taken in
/// the city's zone.
pub fn parse_history_time(s: &str, utc_offset_s: i64) -> Option<i64> {
    if let Ok(t) = local_time::parse(s) {
        return Some(t);
    }
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let d: Vec<&str> = date.split(['-', '/', '.']).collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || !(2..=3).contains(&t.len()) {
        return None;
    }
    let num = |x: &str| x.trim().parse::<i64>().ok();
    let (y, mo, da) = (num(d[0])?, num(d[1])?, num(d[2])?);
    let (h, mi) = (num(t[0])?, num(t[1])?);
    // (fractional seconds are cut)
    let se = match t.get(2) {
        Some(x) => x.split('.').next().and_then(num)?,
        None => 0,
    };
    let local = format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{se:02}Z");
    local_time::parse(&local).ok().map(|t| t - utc_offset_s)
}

fn case_of(r: &dyn Row, reading: &Reading) -> Result<CaseRecord, String> {
    let assigner = reading.assigner;
    let text = |names: &[&str]| r.text(names).map(|c| c.into_owned()).unwrap_or_default();
    let time = |names: &[&str]| -> Result<Option<i64>, String> {
        match r.text(names) {
            None => Ok(None),
            Some(s) => parse_history_time(&s, reading.utc_offset_s)
                .map(Some)
                .ok_or_else(|| format!("`{}` is not a time", names[0])),
        }
    };
    let number = |names: &[&str]| -> Option<f64> { r.text(names)?.parse().ok() };
    let given = r.text(&["category"]).ok_or("no category")?;
    let given_kind = r.text(&["kind"]);
    // the class code, by code or by name, in the kind the row says (events first)
    let kinds: &[gridtwin_core::CategoryKind] = match given_kind.as_deref() {
        Some("component") => &[gridtwin_core::CategoryKind::Component],
        Some("event") => &[gridtwin_core::CategoryKind::Event],
        _ => &[
            gridtwin_core::CategoryKind::Event,
            gridtwin_core::CategoryKind::Component,
        ],
    };
    let found = kinds
        .iter()
        .find_map(|k| reading.table.find(*k, &given))
        .ok_or("category not in the category table")?;
    let category = format!("{:02}{:02}", found.key.major, found.key.minor);
    let category_kind = found.key.kind.name().to_string();
    let intake_at = time(&["intake_at", "time", "reported_at"])?.ok_or("no intake time")?;
    let (lon, lat) = match r.point() {
        Some((x, y)) => (Some(x), Some(y)),
        None => (
            number(&["lon", "lng", "longitude"]),
            number(&["lat", "latitude"]),
        ),
    };
    let mut grid = text(&["grid_code"]);
    if grid.is_empty() {
        if let (Some(x), Some(y)) = (lon, lat) {
            if let Location::Inside(i) = assigner.assign(x, y, None) {
                grid = assigner.codes(i).grid.clone();
            }
        }
    }
    let kind = category_kind;
    let flag = |names: &[&str]| matches!(r.text(names).as_deref(), Some("true" | "1"));
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
        deadline: time(&["deadline"])?,
        extended: flag(&["extended"]),
        forwarded: flag(&["forwarded"]),
        returns: number(&["returns"]).unwrap_or(0.0) as u32,
        rework: number(&["rework"]).unwrap_or(0.0) as u32,
        passes: number(&["passes"]).unwrap_or(1.0) as u32,
        preempted: number(&["preempted"]).unwrap_or(0.0) as u32,
        first_arrived_at: time(&["first_arrived_at"])?,
        ..CaseRecord::default()
    })
}
