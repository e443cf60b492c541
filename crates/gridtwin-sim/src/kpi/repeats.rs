//! Repeat incidents: cases of a category that follow an earlier one close by in space
//! and time, found through a grid of lon/lat cells.

use std::collections::HashMap;

use gridtwin_core::coord::haversine_m;

use super::CaseTimes;

/// Cases that repeat an earlier case of the same category within `radius_m` and
/// `window_secs` (duplicate reports of one problem, or a problem that came back);
/// "earlier" is by time of occurrence, then by place in the timeline.
///
/// Cases are bucketed by category and a lon/lat cell at least `2 × radius_m` wide at
/// the highest latitude present, so a repeat can only lie in the 2 × 2 cells nearest a
/// case (its own and the neighbours on the sides of the half-cell it sits in: four
/// lookups where a cell of `radius_m` needs nine — the lookups into a map of millions
/// of cells are most of the time); categories are searched in parallel (the count is
/// a sum, the same at any thread count).
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
    let cell_lat = (2.0 * radius_m / 111_000.0).max(1e-9);
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
                let (fx, fy) = (lon / cell_lon, lat / cell_lat);
                let (bx, by) = (fx.floor() as i64, fy.floor() as i64);
                // A repeat lies within half a cell across: in this cell or the
                // neighbour on the side of the half the case sits in, each way.
                let x0 = if fx - (bx as f64) < 0.5 { -1 } else { 0 };
                let y0 = if fy - (by as f64) < 0.5 { -1 } else { 0 };
                let mut found = false;
                'search: for dx in x0..=x0 + 1 {
                    for dy in y0..=y0 + 1 {
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
