//! Which cases may enter the vitals (a record with a time outside any plausible date
//! or no place at the level is set aside with its reason) and the time they cover.

use super::AreaLevel;
use crate::timeline::CaseRecord;

/// The times a timeline may hold: 1970-01-01 to 2200-01-01 (Unix s). Outside, a value
/// is a corrupt record, not a date (an i64::MAX closing time wrapped to "0 areas"; a
/// closing time of 1e11 spans 3,000 years of buckets).
pub const TIME_RANGE: (i64, i64) = (0, 7_258_118_400);

/// Why case `c` cannot enter the vitals at `level`, if it cannot.
pub fn unusable(c: &CaseRecord, level: AreaLevel) -> Option<String> {
    let Some(_) = c.intake_at else {
        return Some("no intake_at".into());
    };
    let times = [
        ("occurred_at", Some(c.occurred_at)),
        ("intake_at", c.intake_at),
        ("verified_at", c.verified_at),
        ("dispatched_at", c.dispatched_at),
        ("assigned_at", c.assigned_at),
        ("arrived_at", c.arrived_at),
        ("handled_at", c.handled_at),
        ("feedback_at", c.feedback_at),
        ("checked_at", c.checked_at),
        ("closed_at", c.closed_at),
        ("deadline", c.deadline),
    ];
    for (name, t) in times {
        if let Some(t) = t {
            if !(TIME_RANGE.0..=TIME_RANGE.1).contains(&t) {
                return Some(format!("{name} {t} is not a time between 1970 and 2200"));
            }
        }
    }
    match level {
        AreaLevel::CodePrefix(n) => {
            if c.grid_code.len() < n || !c.grid_code.bytes().all(|b| b.is_ascii_digit()) {
                return Some(format!(
                    "grid_code `{}` has no {n}-digit area code",
                    c.grid_code
                ));
            }
        }
        AreaLevel::H3(_) => {
            if !(c.lon.is_finite()
                && c.lat.is_finite()
                && (-180.0..=180.0).contains(&c.lon)
                && (-90.0..=90.0).contains(&c.lat))
            {
                return Some(format!("lon/lat ({}, {}) out of range", c.lon, c.lat));
            }
        }
    }
    None
}

/// The cases that can enter the vitals at `level`, and for the others their record
/// number (1-based, as read), case id and reason: nothing is dropped unaccounted.
pub fn screen(
    cases: Vec<CaseRecord>,
    level: AreaLevel,
) -> (Vec<CaseRecord>, Vec<(u64, String, String)>) {
    let mut ok = Vec::with_capacity(cases.len());
    let mut rejected = Vec::new();
    for (i, c) in cases.into_iter().enumerate() {
        match unusable(&c, level) {
            None => ok.push(c),
            Some(why) => rejected.push((i as u64 + 1, c.case_id.to_string(), why)),
        }
    }
    (ok, rejected)
}

/// The time a timeline covers: from its first intake, rounded down to `align_secs` on
/// the local clock (`utc_offset_s` east of UTC),
/// to one second after its last intake or closure.
pub fn span(cases: &[CaseRecord], align_secs: i64, utc_offset_s: i64) -> (i64, i64) {
    // aligned on the city's clock: a day bucket starts at local midnight
    let start = (cases.iter().filter_map(|c| c.intake_at).min().unwrap_or(0) + utc_offset_s)
        .div_euclid(align_secs)
        * align_secs
        - utc_offset_s;
    let end = cases
        .iter()
        .flat_map(|c| [c.intake_at, c.closed_at])
        .flatten()
        .max()
        .unwrap_or(start)
        .saturating_add(1);
    (start, end)
}
