//! City vital signs 城市体征: indicators per area and time bucket, computed from the
//! case timeline alone; threshold warnings; Getis-Ord Gi* hotspots.
//!
//! Formulas, for an area A and a bucket [t0, t1):
//! - `inflow` = cases of A taken in (intake) during the bucket;
//! - `closed` = cases of A closed during the bucket;
//! - `backlog` = cases of A open at t1: intake < t1 and not closed before t1;
//! - `overdue` = cases of A open at t1 whose deadline is before t1;
//!   `overdue_rate` = overdue / backlog (empty when the backlog is 0);
//! - `on_time_rate` = of the cases of A due in the bucket (deadline in [t0, t1), not
//!   declined at registration), those closed by their deadline — the due basis
//!   (应结案): a case still open past its deadline counts against the rate;
//! - `median_response_min` = median of (crew on site − intake) over the bucket's
//!   intake with a crew on site; `median_handling_min` = median of (handled − on site)
//!   over cases handled in the bucket;
//! - `repeats` = cases taken in during the bucket that repeat an earlier case of the
//!   same category within the repeat radius and window (see [`crate::kpi::repeats`]);
//! - `satisfaction_mean` = mean satisfaction of cases closed in the bucket that carry
//!   one (history files; empty when none does).
//!
//! Only aggregates leave this module: no case, crew or reporter appears in its output.

use std::collections::{BTreeMap, HashMap, HashSet};

use gridtwin_core::coord::haversine_m;

use crate::timeline::CaseRecord;

/// How cases are grouped into areas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AreaLevel {
    /// The first `digits` of the grid code (14: grid, 12: community, 9: street, 6: district).
    CodePrefix(usize),
    /// H3 cell at a resolution.
    H3(h3o::Resolution),
}

impl AreaLevel {
    /// The area a case falls in at this level (`None`: no code, or no valid place).
    pub fn key(&self, c: &CaseRecord) -> Option<String> {
        match self {
            AreaLevel::CodePrefix(n) => c
                .grid_code
                .get(..*n)
                .map(str::to_string)
                .filter(|s| !s.is_empty()),
            AreaLevel::H3(r) => h3o::LatLng::new(c.lat, c.lon)
                .ok()
                .map(|ll| ll.to_cell(*r).to_string()),
        }
    }
}

/// The indicators of one area in one bucket.
pub const INDICATORS: [&str; 10] = [
    "inflow",
    "closed",
    "backlog",
    "overdue",
    "overdue_rate",
    "on_time_rate",
    "median_response_min",
    "median_handling_min",
    "repeats",
    "satisfaction_mean",
];

/// One row: area, bucket start, indicator values (NaN where undefined).
#[derive(Debug, Clone, PartialEq)]
pub struct VitalsRow {
    pub area: String,
    pub bucket: i64,
    pub values: [f64; 10],
    /// `satisfaction_mean` withheld: fewer than the minimum group of answers (a mean
    /// of one or two answers is a person's answer).
    pub suppressed: bool,
}

/// The smallest group whose person-derived values (satisfaction) are shown, by
/// default: k-anonymity of 5.
pub const MIN_GROUP: usize = 5;

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

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Repeat flags per case id.
fn repeat_ids(cases: &[CaseRecord], radius_m: f64, window_secs: i64) -> HashSet<String> {
    let mut order: Vec<&CaseRecord> = cases.iter().collect();
    order.sort_by_key(|c| (c.occurred_at, c.case_id.clone()));
    let mut seen: HashMap<&str, Vec<&CaseRecord>> = HashMap::new();
    let mut out = HashSet::new();
    for c in order {
        let earlier = seen.entry(&*c.category).or_default();
        if earlier
            .iter()
            .rev()
            .take_while(|e| c.occurred_at - e.occurred_at <= window_secs)
            .any(|e| haversine_m(e.lon, e.lat, c.lon, c.lat) <= radius_m)
        {
            out.insert(c.case_id.clone());
        }
        earlier.push(c);
    }
    out
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

/// Computes the indicators for every area with cases and every bucket of
/// `bucket_secs` from `start` to `end`; a satisfaction mean of fewer than
/// `min_group` answers is withheld (`suppressed`).
#[allow(clippy::too_many_arguments)]
pub fn vitals(
    cases: &[CaseRecord],
    level: AreaLevel,
    start: i64,
    end: i64,
    bucket_secs: i64,
    repeat_radius_m: f64,
    repeat_window_secs: i64,
    min_group: usize,
) -> Vec<VitalsRow> {
    let repeats = repeat_ids(cases, repeat_radius_m, repeat_window_secs);
    let mut by_area: BTreeMap<String, Vec<&CaseRecord>> = BTreeMap::new();
    for c in cases.iter().filter(|c| c.intake_at.is_some()) {
        if let Some(k) = level.key(c) {
            by_area.entry(k).or_default().push(c);
        }
    }
    let mut rows = Vec::new();
    for (area, cs) in by_area {
        let mut t0 = start;
        while t0 < end {
            let t1 = (t0 + bucket_secs).min(end);
            let within = |t: Option<i64>| t.is_some_and(|t| t0 <= t && t < t1);
            let inflow = cs.iter().filter(|c| within(c.intake_at)).count() as f64;
            let closed_here: Vec<&&CaseRecord> =
                cs.iter().filter(|c| within(c.closed_at)).collect();
            let open: Vec<&&CaseRecord> = cs
                .iter()
                .filter(|c| {
                    c.intake_at.is_some_and(|i| i < t1) && c.closed_at.is_none_or(|x| x >= t1)
                })
                .collect();
            let overdue = open
                .iter()
                .filter(|c| c.deadline.is_some_and(|d| d < t1))
                .count() as f64;
            let due: Vec<&&CaseRecord> = cs
                .iter()
                .filter(|c| within(c.deadline) && &*c.closed_by != "not_registered")
                .collect();
            let on_time = due
                .iter()
                .filter(|c| matches!((c.closed_at, c.deadline), (Some(x), Some(d)) if x <= d))
                .count() as f64;
            let due = due.len() as f64;
            let response = median(
                cs.iter()
                    .filter(|c| within(c.intake_at))
                    .filter_map(|c| Some((c.arrived_at? - c.intake_at?) as f64 / 60.0))
                    .collect(),
            );
            let handling = median(
                cs.iter()
                    .filter(|c| within(c.handled_at))
                    .filter_map(|c| Some((c.handled_at? - c.arrived_at?) as f64 / 60.0))
                    .collect(),
            );
            let reps = cs
                .iter()
                .filter(|c| within(c.intake_at) && repeats.contains(&c.case_id))
                .count() as f64;
            let backlog = open.len() as f64;
            let closed = closed_here.len() as f64;
            let rated: Vec<f64> = closed_here
                .iter()
                .filter_map(|c| c.satisfaction)
                .filter(|v| v.is_finite())
                .collect();
            let suppressed = !rated.is_empty() && rated.len() < min_group;
            let satisfaction = if rated.is_empty() || suppressed {
                f64::NAN
            } else {
                rated.iter().sum::<f64>() / rated.len() as f64
            };
            rows.push(VitalsRow {
                area: area.clone(),
                bucket: t0,
                values: [
                    inflow,
                    closed,
                    backlog,
                    overdue,
                    if backlog > 0.0 {
                        overdue / backlog
                    } else {
                        f64::NAN
                    },
                    if due > 0.0 { on_time / due } else { f64::NAN },
                    response,
                    handling,
                    reps,
                    satisfaction,
                ],
                suppressed,
            });
            t0 = t1;
        }
    }
    rows
}

/// A threshold on one indicator at one level: a warning fires when the value
/// reaches it (`>=`) or falls to it (`<=`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub indicator: String,
    pub level: String,
    pub op: String,
    pub threshold: f64,
    pub severity: String,
}

/// An early warning.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Warning {
    pub area: String,
    pub bucket: i64,
    pub indicator: String,
    pub value: f64,
    pub op: String,
    pub threshold: f64,
    pub severity: String,
}

/// Loads thresholds from CSV (`indicator,level,op,threshold,severity`), checking
/// indicator names and operators; errors name the line.
pub fn load_thresholds(path: &std::path::Path) -> Result<Vec<Threshold>, String> {
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, t) in r.deserialize::<Threshold>().enumerate() {
        let t = t.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = i + 2;
        if !INDICATORS.contains(&t.indicator.as_str()) {
            return Err(format!(
                "{}: line {line}: unknown indicator `{}` (known: {})",
                path.display(),
                t.indicator,
                INDICATORS.join(", ")
            ));
        }
        if t.op != ">=" && t.op != "<=" {
            return Err(format!(
                "{}: line {line}: op must be >= or <=, not `{}`",
                path.display(),
                t.op
            ));
        }
        if !t.threshold.is_finite() {
            return Err(format!(
                "{}: line {line}: threshold must be a number",
                path.display()
            ));
        }
        out.push(t);
    }
    Ok(out)
}

/// Warnings for rows of one level against the thresholds of that level.
pub fn warnings(rows: &[VitalsRow], level: &str, thresholds: &[Threshold]) -> Vec<Warning> {
    let mut out = Vec::new();
    for row in rows {
        for t in thresholds.iter().filter(|t| t.level == level) {
            let i = INDICATORS
                .iter()
                .position(|n| *n == t.indicator)
                .expect("checked on load");
            let v = row.values[i];
            let fires = v.is_finite()
                && if t.op == ">=" {
                    v >= t.threshold
                } else {
                    v <= t.threshold
                };
            if fires {
                out.push(Warning {
                    area: row.area.clone(),
                    bucket: row.bucket,
                    indicator: t.indicator.clone(),
                    value: v,
                    op: t.op.clone(),
                    threshold: t.threshold,
                    severity: t.severity.clone(),
                });
            }
        }
    }
    out
}

/// Standard normal upper tail, by the complementary error function (W. J. Cody's
/// rational approximation via `erfc`, relative error below 1e-7 over the range used).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    // Numerical Recipes' erfcc (Chebyshev fit), fractional error < 1.2e-7.
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

pub use crate::hotspot::{getis_ord_star, Hotspot};

#[cfg(test)]
mod tests {
    use super::*;

    fn case(
        id: &str,
        grid: &str,
        intake: i64,
        arrived: Option<i64>,
        handled: Option<i64>,
        closed: Option<i64>,
        deadline: i64,
    ) -> CaseRecord {
        CaseRecord {
            case_id: id.into(),
            category: "0501".into(),
            grid_code: grid.into(),
            occurred_at: intake,
            intake_at: Some(intake),
            arrived_at: arrived,
            handled_at: handled,
            closed_at: closed,
            deadline: Some(deadline),
            lon: 24.94,
            lat: 60.17,
            ..Default::default()
        }
    }

    const G1: &str = "99010100100101";
    const G2: &str = "99010100100102";
    const H: i64 = 3600;

    #[test]
    fn hand_computed_indicators() {
        // Two hours, one-hour buckets, two grids of one community.
        let cases = vec![
            case("a", G1, 0, Some(600), Some(1800), Some(1800), 3600), // on time, bucket 0
            case("b", G1, 1200, Some(2400), Some(4000), Some(4200), 3600), // closed late in bucket 1
            case("c", G1, 3000, None, None, None, 5000),                   // open, overdue by 7200
            case("d", G2, 4000, Some(4600), Some(5000), Some(5000), 9000), // bucket 1, on time
        ];
        let mut cases = cases;
        cases[0].satisfaction = Some(0.8);
        cases[1].satisfaction = Some(0.4);
        let rows = vitals(
            &cases,
            AreaLevel::CodePrefix(14),
            0,
            2 * H,
            H,
            50.0,
            3600,
            1,
        );
        let get = |area: &str, b: i64, ind: &str| {
            let r = rows
                .iter()
                .find(|r| r.area == area && r.bucket == b * H)
                .unwrap();
            r.values[INDICATORS.iter().position(|n| *n == ind).unwrap()]
        };
        assert_eq!(get(G1, 0, "inflow"), 3.0);
        assert_eq!(get(G1, 0, "closed"), 1.0);
        assert_eq!(get(G1, 0, "backlog"), 2.0); // b and c open at 3600
        assert_eq!(get(G1, 0, "overdue"), 0.0); // b's deadline 3600 is not before 3600
                                                // due basis: nothing fell due in bucket 0 (a's and b's deadlines are 3600)
        assert!(get(G1, 0, "on_time_rate").is_nan());
        assert_eq!(get(G1, 0, "median_response_min"), 15.0); // a: 10 min, b: 20 min, c none: median 15
        assert_eq!(get(G1, 1, "inflow"), 0.0);
        assert_eq!(get(G1, 1, "closed"), 1.0);
        // a on time, b late, c open past its deadline: 1/3 (closed cases only: 1/2)
        assert_eq!(get(G1, 1, "on_time_rate"), 1.0 / 3.0);
        assert_eq!(get(G1, 1, "backlog"), 1.0); // c
        assert_eq!(get(G1, 1, "overdue"), 1.0); // c's deadline 5000 < 7200
        assert_eq!(get(G1, 1, "overdue_rate"), 1.0);
        assert_eq!(get(G1, 1, "median_handling_min"), 1600.0 / 60.0); // b: 4000 − 2400
        assert_eq!(get(G1, 0, "repeats"), 2.0); // b and c repeat a (same place, within an hour)
        assert_eq!(get(G1, 0, "satisfaction_mean"), 0.8); // a closed in bucket 0
        assert_eq!(get(G1, 1, "satisfaction_mean"), 0.4); // b closed in bucket 1
        assert!(get(G2, 1, "satisfaction_mean").is_nan()); // d not rated
        assert_eq!(get(G2, 1, "inflow"), 1.0);
        assert_eq!(get(G2, 1, "median_response_min"), 10.0);
        // community level sums the two grids
        let comm = vitals(
            &cases,
            AreaLevel::CodePrefix(12),
            0,
            2 * H,
            H,
            50.0,
            3600,
            1,
        );
        assert_eq!(comm.len(), 2);
        assert_eq!(comm[1].values[0], 1.0);
    }

    #[test]
    fn a_satisfaction_mean_of_fewer_answers_than_the_minimum_group_is_withheld() {
        // issue 14: 630 of 636 grid-hour means came from one case, one person's answer
        let mut cases: Vec<CaseRecord> = (0..7)
            .map(|i| {
                case(
                    &format!("s{i}"),
                    if i < 5 { G1 } else { G2 },
                    100,
                    Some(200),
                    Some(300),
                    Some(400),
                    9000,
                )
            })
            .collect();
        for (i, c) in cases.iter_mut().enumerate() {
            c.satisfaction = Some(0.1 * i as f64);
        }
        let rows = vitals(
            &cases,
            AreaLevel::CodePrefix(14),
            0,
            H,
            H,
            50.0,
            3600,
            MIN_GROUP,
        );
        let at = |g: &str| rows.iter().find(|r| r.area == g).unwrap();
        // five answers in G1: shown (mean of 0, .1, .2, .3, .4); two in G2: withheld
        assert!((at(G1).values[9] - 0.2).abs() < 1e-12 && !at(G1).suppressed);
        assert!(at(G2).values[9].is_nan() && at(G2).suppressed);
    }

    #[test]
    fn cases_that_cannot_enter_are_counted_with_their_reason() {
        // issue 14: a closing time of i64::MAX wrapped to "0 areas"; an empty grid code
        // or a NaN lon dropped the case silently; lon 500 landed in a real cell; a
        // timeline without intake_at gave "2 cases, 0 areas"
        let good = case("ok", G1, 100, None, None, None, 9000);
        let mut max = good.clone();
        max.case_id = "max".into();
        max.closed_at = Some(i64::MAX);
        let mut far = good.clone();
        far.case_id = "far".into();
        far.closed_at = Some(100_000_000_000);
        let mut nocode = good.clone();
        nocode.case_id = "nocode".into();
        nocode.grid_code = "".into();
        let mut nointake = good.clone();
        nointake.case_id = "nointake".into();
        nointake.intake_at = None;
        let mut badlon = good.clone();
        badlon.case_id = "badlon".into();
        badlon.lon = 500.0;
        let mut nanlat = good.clone();
        nanlat.case_id = "nanlat".into();
        nanlat.lat = f64::NAN;
        let all = vec![good, max, far, nocode, nointake, badlon, nanlat];
        let (ok, out) = screen(all.clone(), AreaLevel::CodePrefix(14));
        assert_eq!(ok.len() + out.len(), all.len());
        let ids: Vec<&str> = out.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(ids, ["max", "far", "nocode", "nointake"]);
        assert_eq!(out[0].0, 2, "record numbers as read");
        let h3 = AreaLevel::H3(h3o::Resolution::Nine);
        let (ok, out) = screen(all.clone(), h3);
        let ids: Vec<&str> = out.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(ids, ["max", "far", "nointake", "badlon", "nanlat"]);
        assert_eq!(ok.len(), 2);
        // the span of what is left is bounded
        let (start, end) = span(&ok, H, 0);
        assert!(end - start < 10 * H);
    }

    #[test]
    fn warnings_fire_at_the_threshold_not_before() {
        let rows = vec![
            VitalsRow {
                area: "x".into(),
                bucket: 0,
                values: [4.0, 0.0, 0.0, 0.0, f64::NAN, 0.5, 0.0, 0.0, 0.0, f64::NAN],
                suppressed: false,
            },
            VitalsRow {
                area: "y".into(),
                bucket: 0,
                values: [5.0, 0.0, 0.0, 0.0, f64::NAN, 0.8, 0.0, 0.0, 0.0, f64::NAN],
                suppressed: false,
            },
            VitalsRow {
                area: "z".into(),
                bucket: 0,
                values: [
                    4.999,
                    0.0,
                    0.0,
                    0.0,
                    f64::NAN,
                    0.81,
                    0.0,
                    0.0,
                    0.0,
                    f64::NAN,
                ],
                suppressed: false,
            },
        ];
        let t = vec![
            Threshold {
                indicator: "inflow".into(),
                level: "grid".into(),
                op: ">=".into(),
                threshold: 5.0,
                severity: "amber".into(),
            },
            Threshold {
                indicator: "on_time_rate".into(),
                level: "grid".into(),
                op: "<=".into(),
                threshold: 0.8,
                severity: "red".into(),
            },
            Threshold {
                indicator: "overdue_rate".into(),
                level: "grid".into(),
                op: ">=".into(),
                threshold: 0.0,
                severity: "red".into(),
            },
        ];
        let w = warnings(&rows, "grid", &t);
        let got: Vec<(&str, &str)> = w
            .iter()
            .map(|w| (w.area.as_str(), w.indicator.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x", "on_time_rate"),
                ("y", "inflow"),
                ("y", "on_time_rate")
            ]
        );
        assert!(warnings(&rows, "community", &t).is_empty());
    }

    #[test]
    fn normal_tail() {
        assert!((normal_sf(1.959_963_985) - 0.025).abs() < 1e-7);
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_sf(-1.0) - 0.841_344_746).abs() < 1e-7);
    }
}
