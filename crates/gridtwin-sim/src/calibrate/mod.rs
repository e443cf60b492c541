//! Calibration: a scenario fitted to a city's own case history.
//!
//! From a timeline (`simulate`'s, or a history with the same columns) it fits, per
//! category, the arrival rate (Poisson, with its exact 95 % interval) with hour-of-day
//! and weekday profiles and a linear trend (reported); where incidents happen (a
//! hotspot factor per grid, shrunk toward 1 by empirical Bayes: a Poisson–gamma model
//! whose between-grid variance is estimated by the method of moments, so a grid with
//! few cases keeps a factor near the city-wide rate while a busy grid's own rate shows
//! through); the step durations, choosing each step's family among exponential,
//! uniform, lognormal and gamma by AIC, with the KS distance of the fit; the shares of
//! reports not registered, checks failed and time limits extended; and crews per
//! department from the crew ids (else from the most cases worked at once).
//!
//! The fitted scenario starts each case at its intake (`discovery.mode = "immediate"`):
//! a history records when a problem was reported, rarely when it began, so discovery
//! is described (channel shares, intake delays) and not fitted.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Write as _;

use gridtwin_core::Routing;

use crate::dist::{fit_all, gamma_quantile, Fit};
use crate::timeline::{CaseRecord, Text};

/// What calibration needs besides the history.
pub struct CalibrateInput<'a> {
    pub cases: &'a [CaseRecord],
    /// Unit grids: code and area (m²), for the hotspot factors (incidents are placed
    /// in proportion to area × factor).
    pub grids: Vec<(String, f64)>,
    /// Components per class code (`MMmm`), for failure rates per component.
    pub components_per_class: BTreeMap<String, u64>,
    /// The department of each category (`kind:MMmm`), from the category table: a
    /// department with cases and no crews in the history still needs a crew to run.
    pub departments: BTreeMap<String, String>,
    /// The routing rule of each category (`kind:MMmm`), from the category table: the
    /// centre's delay is fitted per rule, and the hand-overs where the rule has them.
    pub routing: BTreeMap<String, Routing>,
    /// The window fitted, Unix seconds `[from, to)`; `None`: whole local days around the
    /// history's intakes.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub utc_offset_s: i64,
}

/// A rate with its 95 % interval, per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub count: u64,
    pub per_day: f64,
    pub low: f64,
    pub high: f64,
}

/// One category's arrivals.
#[derive(Debug, Clone)]
pub struct CategoryFit {
    pub kind: String,
    pub class: String,
    pub rate: Rate,
    pub hour_weights: [f64; 24],
    pub weekday_weights: [f64; 7],
    /// Change of the daily count per day (least squares), with its 95 % interval.
    pub trend_per_day: (f64, f64, f64),
    /// Intakes by channel.
    pub sources: BTreeMap<String, u64>,
}

/// One step's fits (best first).
#[derive(Debug, Clone)]
pub struct StepFit {
    pub step: String,
    pub fits: Vec<Fit>,
    /// Mean of the sample, minutes, with its 95 % interval (normal approximation).
    pub mean: (f64, f64, f64),
}

/// A share (count of total) with its 95 % interval (Wilson).
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub hits: u64,
    pub of: u64,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A department's crews as the history shows them.
#[derive(Debug, Clone)]
pub struct CrewFit {
    pub department: String,
    pub count: u32,
    /// How the count was found: `crew ids by hour` or `most at work at once`.
    pub from: &'static str,
    /// Local hours in which its crews took cases (first..last), `None`: round the clock.
    pub shift: Option<(u32, u32)>,
}

/// Everything fitted, and why some rows could not be used.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub from: i64,
    pub to: i64,
    pub days: f64,
    pub categories: Vec<CategoryFit>,
    /// Grid code → hotspot factor (posterior mean), only where it differs from 1.
    pub hotspots: BTreeMap<String, f64>,
    /// The estimated between-grid variance of the rate ratio (0: no hotspots).
    pub hotspot_variance: f64,
    pub steps: Vec<StepFit>,
    /// Handling time per category where a category has enough cases (≥ 30).
    pub handle_by_category: Vec<(String, Fit)>,
    pub not_registered: Share,
    pub check_failure: Share,
    pub extension: Share,
    pub crews: Vec<CrewFit>,
    /// Rows left out, by reason.
    pub unused: BTreeMap<String, u64>,
    /// Parameters the history could not give, with the value kept.
    pub kept: Vec<(String, String)>,
    /// Components per class code, for failure rates per component.
    pub components_per_class: BTreeMap<String, u64>,
    /// The city's time zone (seconds east of UTC), for the times written.
    pub utc_offset_s: i64,
    /// Escalation ladders the history shows: per category (`kind:MMmm`), each stage's
    /// action and the share of cases reaching it that complied there.
    pub ladders: Vec<(String, Vec<(String, Share)>)>,
    /// Intake delay (occurrence to intake) by channel, where the history records
    /// occurrence apart from intake: minutes, best fit.
    pub intake_delays: Vec<(String, Fit)>,
    /// The centre's delay before dispatch per routing rule, where the rule has enough
    /// cases; else the pooled `dispatch` step serves.
    pub dispatch_by_routing: Vec<(Routing, StepFit)>,
    /// The hand-overs (属地 forwarding, 退单 returns, 指定 designation).
    pub hand_overs: HandOvers,
    /// Each ladder stage's delay (mean minutes, cases it rests on), where compliance
    /// closures show it: per category, in stage order.
    pub ladder_delays: BTreeMap<String, Vec<Option<(f64, u64)>>>,
    /// Crews' trip times per department with enough trips (≥ 30): a department with
    /// few crews drives farther than the city's pooled trip says.
    pub travel_by_department: Vec<(String, StepFit)>,
}

/// The hand-overs a history shows.
#[derive(Debug, Clone, Default)]
pub struct HandOvers {
    /// Territorial categories: (category key, cases forwarded, cases sent); a category
    /// the street forwards in most of its cases is not street-capable.
    pub forwarded: Vec<(String, u64, u64)>,
    /// Returns per send-and-return trial (truncated geometric MLE), over owner-routed
    /// and forwarded cases.
    pub return_probability: Option<Share>,
    /// Returns before the centre designates: the most seen, at least the default 2.
    pub designate_after: u32,
    /// One hand-over's time: a family fitted on single forwards, else the mean of all
    /// hops as an exponential (`fits` empty then; the mean in `mean`).
    pub hop: Option<StepFit>,
    /// Designation's own time after the last return: mean minutes, cases.
    pub designated: Option<(f64, u64)>,
}

const DAY: i64 = 86_400;
/// The fewest observations a per-category handling fit needs to choose its own family.
const MIN_PER_CATEGORY: usize = 30;
/// The fewest a small group needs for its own mean on the pooled shape.
const MIN_OWN_SCALE: usize = 5;

/// Fits the history (all of it in memory; [`Calibrator`] takes it case by case).
pub fn calibrate(input: &CalibrateInput) -> Result<Calibration, String> {
    let mut acc = Calibrator::new(input);
    for c in input.cases {
        acc.add(c);
    }
    acc.finish()
}

mod accumulate;
mod fit;
mod write;

pub use accumulate::Calibrator;
#[allow(unused_imports)]
use accumulate::*;
#[allow(unused_imports)]
use fit::*;
pub use fit::{poisson_interval, poisson_interval_at};
pub use write::duration;
#[allow(unused_imports)]
use write::*;

#[cfg(test)]
mod tests {
    use super::*;

    /// Three crews round the clock and five more by day (08–20): the crews on shift
    /// per hour come back as two pools.
    #[test]
    fn crews_per_hour_become_pools() {
        let mut cases = Vec::new();
        let t0 = 1_740_787_200; // 2025-03-01T00:00:00Z
        for day in 0..14i64 {
            for h in 0..24i64 {
                let crews: Vec<String> = (1..=3)
                    .map(|i| format!("N{i}"))
                    .chain(
                        (1..=5)
                            .filter(|_| (8..20).contains(&h))
                            .map(|i| format!("D{i}")),
                    )
                    .collect();
                for crew in crews {
                    let t = t0 + day * DAY + h * 3600 + 60;
                    cases.push(CaseRecord {
                        case_id: format!("{day}-{h}-{crew}"),
                        kind: "event".into(),
                        category: "0101".into(),
                        department: "Sanitation Department".into(),
                        intake_at: Some(t),
                        occurred_at: t,
                        assigned_at: Some(t),
                        arrived_at: Some(t + 60),
                        handled_at: Some(t + 600),
                        crew: crew.into(),
                        passes: 1,
                        ..CaseRecord::default()
                    });
                }
            }
        }
        let input = CalibrateInput {
            cases: &cases,
            grids: vec![],
            components_per_class: BTreeMap::new(),
            departments: BTreeMap::new(),
            routing: BTreeMap::new(),
            from: None,
            to: None,
            utc_offset_s: 0,
        };
        let fit = calibrate(&input).unwrap();
        let mut pools: Vec<(u32, Option<(u32, u32)>)> =
            fit.crews.iter().map(|c| (c.count, c.shift)).collect();
        pools.sort();
        assert_eq!(pools, vec![(3, None), (5, Some((8, 20)))]);
    }
}
