//! The indicators of every area and time bucket, by the formulas in the module's
//! documentation.

use std::collections::{BTreeMap, HashMap, HashSet};

use gridtwin_core::coord::haversine_m;

use super::{AreaLevel, VitalsRow};
use crate::timeline::CaseRecord;

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
