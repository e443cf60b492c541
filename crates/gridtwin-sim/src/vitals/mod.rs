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
//!
//! One concern per file: which cases may enter and the time they cover (`screen`),
//! the indicators per area and bucket (`indicators`), threshold warnings
//! (`thresholds`), and the normal tail for the hotspots (`normal`).

mod indicators;
mod normal;
mod screen;
#[cfg(test)]
mod tests;
mod thresholds;

use crate::timeline::CaseRecord;

pub use crate::hotspot::{getis_ord_star, Hotspot};
pub use indicators::vitals;
pub use normal::normal_sf;
pub use screen::{screen, span, unusable, TIME_RANGE};
pub use thresholds::{load_thresholds, warnings, Op, Threshold, Warning};

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
