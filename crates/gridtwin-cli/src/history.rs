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
use gridtwin_sim::timeline::{CaseRecord, Text};

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
    /// Every column (a warm start and a backtest keep the cases); `false`: only what
    /// fitting reads — the id, place (where the grid code is given), closure time and
    /// deadline are left unparsed (a megacity year is millions of rows).
    pub whole: bool,
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
        let header: HashMap<String, usize> = r
            .headers()
            .with_context(|| format!("reading {file}"))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
                (h, i)
            })
            .collect();
        let width = header.len();
        let columns: [Vec<usize>; COLS] = Col::ALL.map(|c| {
            c.names()
                .iter()
                .filter_map(|n| header.get(*n).copied())
                .collect()
        });
        // A pipeline: one thread reads rows in batches; the batch before it is turned
        // into cases on every core (a row's times and texts are most of the work) and
        // handed on in file order. Buffers go back to the reader for the next batch.
        use rayon::prelude::*;
        use std::sync::mpsc;
        const BATCH: usize = 8192;
        /// A batch: the records, per row its record's place or why it is broken, and
        /// the I/O error that ended the file early.
        type Batch = (
            Vec<csv::StringRecord>,
            Vec<Result<usize, String>>,
            Option<csv::Error>,
        );
        let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(2);
        let (empty_tx, empty_rx) =
            mpsc::channel::<(Vec<csv::StringRecord>, Vec<Result<usize, String>>)>();
        let mut io_error = None;
        let mut n = 0u64;
        std::thread::scope(|scope| {
            scope.spawn(move || loop {
                let (mut rows, mut slots) = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| (Vec::new(), Vec::with_capacity(BATCH)));
                slots.clear();
                let mut filled = 0;
                let mut end = false;
                let mut error = None;
                while slots.len() < BATCH {
                    if filled == rows.len() {
                        rows.push(csv::StringRecord::new());
                    }
                    match r.read_record(&mut rows[filled]) {
                        Ok(false) => {
                            end = true;
                            break;
                        }
                        Ok(true) => {
                            slots.push(Ok(filled));
                            filled += 1;
                        }
                        Err(e) => {
                            // a broken row (bad UTF-8, a quote never closed) is counted
                            slots.push(Err(format!("unreadable row ({})", kind_of(&e))));
                            if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                                error = Some(e);
                                end = true;
                                break;
                            }
                        }
                    }
                }
                if full_tx.send((rows, slots, error)).is_err() || end {
                    return;
                }
            });
            let mut cases: Vec<Result<CaseRecord, String>> = Vec::with_capacity(BATCH);
            for (rows, slots, error) in full_rx {
                slots
                    .par_iter()
                    .map(|slot| {
                        let row = &rows[*slot.as_ref().map_err(|e| e.clone())?];
                        if row.len() != width {
                            return Err(format!(
                                "unreadable row (a row of {} fields, the header has {width})",
                                row.len()
                            ));
                        }
                        case_of(
                            &CsvRow {
                                columns: &columns,
                                row,
                            },
                            reading,
                        )
                    })
                    .collect_into_vec(&mut cases);
                let _ = empty_tx.send((rows, slots));
                for c in cases.drain(..) {
                    n += 1;
                    handle(n, c);
                }
                if error.is_some() {
                    io_error = error;
                }
            }
        });
        if let Some(e) = io_error {
            return Err(e).with_context(|| format!("reading {file}"));
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

/// The columns a history row is read by (each with the names it goes by, first
/// found wins): resolved once against a CSV header, not looked up per row.
#[derive(Debug, Clone, Copy)]
enum Col {
    CaseId,
    Category,
    Kind,
    Intake,
    Lon,
    Lat,
    Grid,
    Department,
    Occurred,
    Source,
    Verified,
    Ladder,
    Dispatched,
    Crew,
    Assigned,
    Arrived,
    Handled,
    Feedback,
    Checked,
    Closed,
    ClosedBy,
    Deadline,
    Extended,
    Forwarded,
    Returns,
    Dispute,
    Rework,
    Passes,
    Preempted,
    FirstArrived,
}

const COLS: usize = 30;

impl Col {
    const ALL: [Col; COLS] = [
        Col::CaseId,
        Col::Category,
        Col::Kind,
        Col::Intake,
        Col::Lon,
        Col::Lat,
        Col::Grid,
        Col::Department,
        Col::Occurred,
        Col::Source,
        Col::Verified,
        Col::Ladder,
        Col::Dispatched,
        Col::Crew,
        Col::Assigned,
        Col::Arrived,
        Col::Handled,
        Col::Feedback,
        Col::Checked,
        Col::Closed,
        Col::ClosedBy,
        Col::Deadline,
        Col::Extended,
        Col::Forwarded,
        Col::Returns,
        Col::Dispute,
        Col::Rework,
        Col::Passes,
        Col::Preempted,
        Col::FirstArrived,
    ];

    fn names(self) -> &'static [&'static str] {
        match self {
            Col::CaseId => &["case_id", "id"],
            Col::Category => &["category"],
            Col::Kind => &["kind"],
            Col::Intake => &["intake_at", "time", "reported_at"],
            Col::Lon => &["lon", "lng", "longitude"],
            Col::Lat => &["lat", "latitude"],
            Col::Grid => &["grid_code"],
            Col::Department => &["department"],
            Col::Occurred => &["occurred_at"],
            Col::Source => &["source"],
            Col::Verified => &["verified_at"],
            Col::Ladder => &["ladder"],
            Col::Dispatched => &["dispatched_at"],
            Col::Crew => &["crew"],
            Col::Assigned => &["assigned_at"],
            Col::Arrived => &["arrived_at"],
            Col::Handled => &["handled_at"],
            Col::Feedback => &["feedback_at"],
            Col::Checked => &["checked_at"],
            Col::Closed => &["closed_at"],
            Col::ClosedBy => &["closed_by"],
            Col::Deadline => &["deadline"],
            Col::Extended => &["extended"],
            Col::Forwarded => &["forwarded"],
            Col::Returns => &["returns"],
            Col::Dispute => &["dispute_s"],
            Col::Rework => &["rework"],
            Col::Passes => &["passes"],
            Col::Preempted => &["preempted"],
            Col::FirstArrived => &["first_arrived_at"],
        }
    }
}

/// `v` without surrounding white space (the common case, printable ASCII at both
/// ends, without the Unicode tables: a history's times and codes are millions of them).
fn trim(v: &str) -> &str {
    let b = v.as_bytes();
    let plain = |c: u8| c > b' ' && c < 0x7f;
    match (b.first(), b.last()) {
        (Some(&a), Some(&z)) if plain(a) && plain(z) => v,
        _ => v.trim(),
    }
}

/// A history row, whatever its format.
trait Row {
    /// The column's value, if present and not empty.
    fn text(&self, col: Col) -> Option<Cow<'_, str>>;
    /// The row's point geometry, if it has one.
    fn point(&self) -> Option<(f64, f64)>;
}

struct CsvRow<'a> {
    /// Each column's positions in the header (of the names it goes by, in order).
    columns: &'a [Vec<usize>; COLS],
    row: &'a csv::StringRecord,
}

impl Row for CsvRow<'_> {
    fn text(&self, col: Col) -> Option<Cow<'_, str>> {
        self.columns[col as usize].iter().find_map(|&i| {
            let v = trim(self.row.get(i)?);
            (!v.is_empty()).then_some(Cow::Borrowed(v))
        })
    }
    fn point(&self) -> Option<(f64, f64)> {
        None
    }
}

struct RecordRow<'a>(&'a Record);

impl Row for RecordRow<'_> {
    fn text(&self, col: Col) -> Option<Cow<'_, str>> {
        self.0.text(col.names()).map(Cow::Owned)
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

/// Distinct texts kept per thread before new ones are no longer shared (a column of
/// unique values must not grow the table to the history's size).
const SHARED_MAX: usize = 1 << 17;

thread_local! {
    static SHARED: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, Text>> =
        std::cell::RefCell::new(Default::default());
}

/// `s` as a shared text: the thread's copy where it has one.
fn shared(s: &str) -> Text {
    SHARED.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(t) = m.get(s) {
            return t.clone();
        }
        let t = Text::from(s);
        if m.len() < SHARED_MAX {
            m.insert(Box::from(s), t.clone());
        }
        t
    })
}

fn case_of(r: &dyn Row, reading: &Reading) -> Result<CaseRecord, String> {
    let assigner = reading.assigner;
    // (the texts a history repeats — kinds, departments, channels, crews, grids — are
    // shared, not allocated a row)
    let text = |col: Col| -> Text { shared(r.text(col).as_deref().unwrap_or("")) };
    let time = |col: Col| -> Result<Option<i64>, String> {
        match r.text(col) {
            None => Ok(None),
            Some(s) => parse_history_time(&s, reading.utc_offset_s)
                .map(Some)
                .ok_or_else(|| format!("`{}` is not a time", col.names()[0])),
        }
    };
    let number = |col: Col| -> Option<f64> { r.text(col)?.parse().ok() };
    let given = r.text(Col::Category).ok_or("no category")?;
    let given_kind = r.text(Col::Kind);
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
    let intake_at = time(Col::Intake)?.ok_or("no intake time")?;
    let mut grid = text(Col::Grid);
    let (lon, lat) = match r.point() {
        Some((x, y)) => (Some(x), Some(y)),
        None if reading.whole || grid.is_empty() => (number(Col::Lon), number(Col::Lat)),
        None => (None, None),
    };
    if grid.is_empty() {
        if let (Some(x), Some(y)) = (lon, lat) {
            if let Location::Inside(i) = assigner.assign(x, y, None) {
                grid = shared(&assigner.codes(i).grid);
            }
        }
    }
    let kind = category_kind;
    let flag = |col: Col| matches!(r.text(col).as_deref(), Some("true" | "1"));
    Ok(CaseRecord {
        case_id: if reading.whole {
            r.text(Col::CaseId)
                .map(|c| c.into_owned())
                .unwrap_or_default()
        } else {
            String::new()
        },
        kind: shared(&kind),
        category: shared(&category),
        department: text(Col::Department),
        grid_code: grid,
        lon: lon.unwrap_or(f64::NAN),
        lat: lat.unwrap_or(f64::NAN),
        occurred_at: time(Col::Occurred)?.unwrap_or(intake_at),
        intake_at: Some(intake_at),
        source: text(Col::Source),
        verified_at: time(Col::Verified)?,
        ladder: text(Col::Ladder),
        dispatched_at: time(Col::Dispatched)?,
        crew: text(Col::Crew),
        assigned_at: time(Col::Assigned)?,
        arrived_at: time(Col::Arrived)?,
        handled_at: time(Col::Handled)?,
        feedback_at: time(Col::Feedback)?,
        checked_at: time(Col::Checked)?,
        closed_at: if reading.whole {
            time(Col::Closed)?
        } else {
            None
        },
        closed_by: text(Col::ClosedBy),
        deadline: if reading.whole {
            time(Col::Deadline)?
        } else {
            None
        },
        extended: flag(Col::Extended),
        forwarded: flag(Col::Forwarded),
        returns: number(Col::Returns).unwrap_or(0.0) as u32,
        dispute_s: number(Col::Dispute).unwrap_or(0.0) as i64,
        rework: number(Col::Rework).unwrap_or(0.0) as u32,
        passes: number(Col::Passes).unwrap_or(1.0) as u32,
        preempted: number(Col::Preempted).unwrap_or(0.0) as u32,
        first_arrived_at: if reading.whole {
            time(Col::FirstArrived)?
        } else {
            None
        },
        ..CaseRecord::default()
    })
}
