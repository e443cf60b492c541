//! The composite index (综合指标值) over weighted rates, and the share of cases
//! reached within their priority's response target.

use std::collections::BTreeMap;

use super::{rate, CaseTimes};

/// The rates the composite index (综合指标值) may weigh, and whether higher is better
/// (a lower-is-better rate enters as 1 − rate).
pub const COMPOSITE_RATES: &[(&str, bool)] = &[
    ("registration_rate", true),
    ("verify_on_time_rate", true),
    ("dispatch_on_time_rate", true),
    ("handle_on_time_rate", true),
    ("check_on_time_rate", true),
    ("on_time_closure_rate", true),
    ("emergency_on_time_rate", true),
    ("rework_rate", false),
];

/// The composite index: Σ wᵢ·scoreᵢ / Σ wᵢ over the weighted rates that have a value
/// (a rate with nothing due drops out and the rest are renormalised; NaN if none has).
pub fn composite(values: &BTreeMap<String, f64>, weights: &BTreeMap<String, f64>) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (name, &w) in weights {
        let Some(&(_, higher)) = COMPOSITE_RATES.iter().find(|r| r.0 == name) else {
            continue;
        };
        let Some(&v) = values.get(name).filter(|v| v.is_finite()) else {
            continue;
        };
        num += w * if higher { v } else { 1.0 - v };
        den += w;
    }
    if den > 0.0 {
        num / den
    } else {
        f64::NAN
    }
}

/// Share of cases of each arrival priority reached on site within the priority's
/// target (minutes from intake), on the due basis: of the registered, unladdered cases
/// whose target time fell inside the window, those a crew reached by then — a case
/// not reached at all counts as a miss, not as a missing value. (priority, share).
pub fn response_within_target<C: CaseTimes>(
    cases: &[C],
    start: i64,
    end: i64,
    targets: &BTreeMap<u8, f64>,
) -> Vec<(u8, f64)> {
    targets
        .iter()
        .map(|(&p, &minutes)| {
            let (mut n, mut ok) = (0usize, 0usize);
            for c in cases {
                if c.arrival_priority() != p || c.not_registered() || c.laddered() {
                    continue;
                }
                let Some(i) = c.intake_at() else { continue };
                let due = i + (minutes * 60.0).round() as i64;
                if due < start || due >= end || c.closed_by_compliance() {
                    continue;
                }
                n += 1;
                ok += c.first_arrived_at().is_some_and(|a| a <= due) as usize;
            }
            (p, rate(ok, n))
        })
        .collect()
}
