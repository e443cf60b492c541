//! Repeat incidents: cases of a category that follow an earlier one close by in space
//! and time, found through a grid of lon/lat cells.

use std::collections::HashMap;

use gridtwin_core::coord::haversine_m;

use super::CaseTimes;

/// Cases that repeat an earlier case of the same category within `radius_m` and
/// `window_secs` (duplicate reports of one problem, or a problem that came back);
/// "earlier" is by time of occurrence, then by place in the timeline.
///
/// Cases are bucketed by category and a lon/lat cell at least `radius_m` wide at the
/// highest latitude present, so a repeat can only lie in the 3 × 3 cells around a
/// case; categories are searched in parallel (the count is a sum, the same at any
/// thread count).
pub fn repeats<C: CaseTimes + Sync>(cases: &[C], radius_m: f64, window_secs: i64) -> usize {
    use rayon::prelude::*;
    // Cases in timeline order per category; equal times keep that order.
    let mut by_category: HashMap<&str, Vec<&C>> = HashMap::new();
    for c in cases {
        by_category.entry(c.category()).or_default().push(c);
    }
    let max_lat = cases
        .iter()
        .map(|c| c.lon_lat().1.abs())
        .fold(0.0f64, f64::max)
        .min(89.0);
    // 111,000 m per degree is below the sphere's 111,195: cells come out a little wide.
    let cell_lat = (radius_m / 111_000.0).max(1e-9);
    let cell_lon = (cell_lat / (max_lat + 0.01).to_radians().cos()).max(1e-9);
    let groups: Vec<Vec<&C>> = by_category.into_values().collect();
    groups
        .into_par_iter()
        .map(|mut group| {
            group.sort_by_key(|c| c.occurred_at());
            // (cell x, cell y) → latest earlier case there; `next` chains older ones.
            let mut heads: gridtwin_core::int_hash::IntMap<(i64, i64), u32> = Default::default();
            let mut entries: Vec<(i64, f64, f64, u32)> = Vec::with_capacity(group.len());
            let mut n = 0usize;
            for c in group {
                let (lon, lat) = c.lon_lat();
                let occurred = c.occurred_at();
                let (bx, by) = (
                    (lon / cell_lon).floor() as i64,
                    (lat / cell_lat).floor() as i64,
                );
                let mut found = false;
                'search: for dx in -1..=1 {
                    for dy in -1..=1 {
                        let mut at = heads.get(&(bx + dx, by + dy)).copied().unwrap_or(u32::MAX);
                        while at != u32::MAX {
                            let (t, x, y, next) = entries[at as usize];
                            if occurred - t > window_secs {
                                // older entries further down the chain are older still
                                break;
                            }
                            if haversine_m(x, y, lon, lat) <= radius_m {
                                found = true;
                                break 'search;
                            }
                            at = next;
                        }
                    }
                }
                n += found as usize;
                let head = heads.entry((bx, by)).or_insert(u32::MAX);
                entries.push((occurred, lon, lat, *head));
                *head = (entries.len() - 1) as u32;
            }
            n
        })
        .sum()
}
