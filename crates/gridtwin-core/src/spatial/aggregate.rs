//! Counting assigned points: per grid or any level above, per H3 cell at any
//! resolution, per category and per time window.
//!
//! Every row counted lands in exactly one group; a row lacking a key part (an
//! unassigned point has no grid, a row may have no time) is counted under an empty
//! value for that part, so the counts always sum to the rows given.
//!
//! ```
//! use gridtwin_core::aggregate::{Aggregator, GroupBy};
//! use gridtwin_core::code::{CodeRule, Level};
//! let rule = CodeRule::national();
//! let mut agg = Aggregator::new(rule, vec![GroupBy::Level(Level::Community)], false, Some(3600));
//! let g = rule.parse_area(Level::Grid, "31010100100101").unwrap();
//! agg.add(Some(g), Some((121.4, 31.2)), None, Some(7200 + 59)).unwrap();
//! agg.add(Some(g), Some((121.4, 31.2)), None, Some(7200 + 3599)).unwrap();
//! agg.add(None, Some((121.4, 31.2)), None, Some(0)).unwrap();
//! let rows: Vec<_> = agg.rows().collect();
//! assert_eq!(rows[0], (vec!["".to_string(), "0".into()], 1));
//! assert_eq!(rows[1], (vec!["310101001001".to_string(), "7200".into()], 2));
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use thiserror::Error;

use crate::code::{AreaCode, CodeError, CodeRule, Level};

/// One part of a group key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The area at a level of the hierarchy (from the point's grid code).
    Level(Level),
    /// The H3 cell at a resolution (0–15) holding the point.
    H3(h3o::Resolution),
}

/// Why a part of a group key did not parse.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GroupByError {
    /// `h3:` followed by no number 0–255.
    #[error("`{0}` is not an H3 resolution 0..15")]
    NotAResolution(String),
    /// A number past H3's finest resolution, 15.
    #[error(transparent)]
    Resolution(#[from] h3o::error::InvalidResolution),
    /// Neither `h3:RES` nor a level of the hierarchy.
    #[error(transparent)]
    Level(#[from] CodeError),
}

impl FromStr for GroupBy {
    type Err = GroupByError;
    /// `grid`, `community`, `street`, `district`, `city`, or `h3:RES`.
    fn from_str(s: &str) -> Result<Self, GroupByError> {
        if let Some(r) = s.strip_prefix("h3:") {
            let n: u8 = r
                .parse()
                .map_err(|_| GroupByError::NotAResolution(r.to_string()))?;
            return Ok(GroupBy::H3(h3o::Resolution::try_from(n)?));
        }
        Ok(GroupBy::Level(s.parse::<Level>()?))
    }
}

/// Callers that collect messages as `String`s keep using `?`.
impl From<GroupByError> for String {
    fn from(e: GroupByError) -> String {
        e.to_string()
    }
}

/// Why a row could not be counted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AggregateError {
    /// H3 cannot index the point (not a finite lon/lat).
    #[error("({lon}, {lat}): {reason}")]
    Coordinate {
        lon: f64,
        lat: f64,
        reason: h3o::error::InvalidLatLng,
    },
}

impl GroupBy {
    /// Column name in the output.
    pub fn column(&self) -> String {
        match self {
            GroupBy::Level(l) => format!("{}_code", l.name()),
            GroupBy::H3(r) => format!("h3_r{}", u8::from(*r)),
        }
    }
}

/// Counts rows per group.
pub struct Aggregator {
    rule: CodeRule,
    by: Vec<GroupBy>,
    by_category: bool,
    window_s: Option<i64>,
    counts: BTreeMap<Vec<String>, u64>,
}

impl Aggregator {
    pub fn new(rule: CodeRule, by: Vec<GroupBy>, by_category: bool, window_s: Option<i64>) -> Self {
        Aggregator {
            rule,
            by,
            by_category,
            window_s,
            counts: BTreeMap::new(),
        }
    }

    /// Output column names, in key order, then `count`.
    pub fn columns(&self) -> Vec<String> {
        let mut c: Vec<String> = self.by.iter().map(|b| b.column()).collect();
        if self.by_category {
            c.push("category".into());
        }
        if self.window_s.is_some() {
            c.push("window_start".into());
        }
        c.push("count".into());
        c
    }

    /// Counts one row. Errors (a coordinate H3 cannot index) leave the row uncounted.
    pub fn add(
        &mut self,
        grid: Option<AreaCode>,
        lon_lat: Option<(f64, f64)>,
        category: Option<&str>,
        time: Option<i64>,
    ) -> Result<(), AggregateError> {
        let mut key = Vec::with_capacity(self.by.len() + 2);
        for b in &self.by {
            key.push(match b {
                GroupBy::Level(l) => grid
                    .and_then(|g| g.ancestor(&self.rule, *l))
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                GroupBy::H3(r) => match lon_lat {
                    Some((lon, lat)) => {
                        let ll = h3o::LatLng::new(lat, lon)
                            .map_err(|reason| AggregateError::Coordinate { lon, lat, reason })?;
                        ll.to_cell(*r).to_string()
                    }
                    None => String::new(),
                },
            });
        }
        if self.by_category {
            key.push(category.unwrap_or("").to_string());
        }
        if let Some(w) = self.window_s {
            key.push(
                time.map(|t| (t.div_euclid(w) * w).to_string())
                    .unwrap_or_default(),
            );
        }
        *self.counts.entry(key).or_default() += 1;
        Ok(())
    }

    /// Groups and counts, sorted by key.
    pub fn rows(&self) -> impl Iterator<Item = (Vec<String>, u64)> + '_ {
        self.counts.iter().map(|(k, v)| (k.clone(), *v))
    }

    /// Total rows counted.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Whether keys carry a time window (its values are Unix seconds of the start).
    pub fn window(&self) -> Option<i64> {
        self.window_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h3_cells_and_levels() {
        let rule = CodeRule::national();
        let by = vec!["district".parse().unwrap(), "h3:9".parse().unwrap()];
        let mut agg = Aggregator::new(rule, by, true, None);
        let g = rule.parse_area(Level::Grid, "31010100100101").unwrap();
        // the documented h3o check value: lon 13.405, lat 52.52 at resolution 9
        agg.add(Some(g), Some((13.405, 52.52)), Some("0107"), None)
            .unwrap();
        agg.add(Some(g), Some((13.405, 52.52)), Some("0107"), None)
            .unwrap();
        agg.add(Some(g), Some((13.405, 52.52)), Some("0106"), None)
            .unwrap();
        let rows: Vec<_> = agg.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            (
                vec!["310101".into(), "891f1d48947ffff".into(), "0107".into()],
                2
            )
        );
        assert_eq!(agg.total(), 3);
        assert_eq!(
            agg.columns(),
            ["district_code", "h3_r9", "category", "count"]
        );
        assert!("h3:16".parse::<GroupBy>().is_err());
        assert!("block".parse::<GroupBy>().is_err());
        assert_eq!(
            "h3:x".parse::<GroupBy>().unwrap_err().to_string(),
            "`x` is not an H3 resolution 0..15"
        );
        assert_eq!(
            "block".parse::<GroupBy>().unwrap_err().to_string(),
            "unknown level `block` (expected city, district, street, community or grid)"
        );
    }
}
