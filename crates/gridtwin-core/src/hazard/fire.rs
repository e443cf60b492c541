//! Urban fire spread as a seeded cellular automaton on H3 cells.
//!
//! Fuel is building cover: each H3 cell's share of area under building footprints.
//! A cell with cover below `min_cover` does not burn (streets, squares, water), so
//! fire stops there. At each step every burning cell tries to ignite each neighbour
//! that can burn, with probability
//!
//! `p = base_spread × (0.5 + 0.5 × cover) × (1 + wind_strength × cos θ)`, clamped to
//! [0, 1], θ the angle between the direction to the neighbour and the direction the
//! wind blows *to*;
//!
//! cells burn for `burn_steps` steps, then are burnt out. Updates are synchronous
//! (all ignitions of a step take effect at the next), and every draw is keyed by
//! (seed, step, burning cell, neighbour), so a run depends only on its seed — never
//! on iteration order or thread count.
//!
//! ```
//! use std::collections::BTreeMap;
//! use gridtwin_core::fire::{spread, FireParams};
//! use h3o::{LatLng, Resolution};
//! let start = LatLng::new(60.17, 24.94).unwrap().to_cell(Resolution::Twelve);
//! // a fully built-up disk of radius 3: with certain spread, the fire reaches each
//! // cell after as many steps as it is rings away
//! let fuel: BTreeMap<_, f64> = start.grid_disk::<Vec<_>>(3).into_iter().map(|c| (c, 1.0)).collect();
//! let p = FireParams { base_spread: 1.0, wind_strength: 0.0, ..FireParams::default() };
//! let run = spread(&fuel, &[start], &p, 1);
//! let far = start.grid_disk::<Vec<_>>(3).into_iter().find(|c| start.grid_distance(*c) == Ok(3)).unwrap();
//! assert_eq!(run.ignited_at[&far], 3);
//! assert_eq!(run.ignited_at.len(), fuel.len());
//! ```

use std::collections::BTreeMap;

use geo::{Area as _, BooleanOps, BoundingRect};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Serialize};

use crate::frame::LocalFrame;
use crate::Building;

/// Spread parameters (a fire scene's `[fire]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FireParams {
    /// Steps to simulate.
    pub steps: u32,
    /// Minutes per step (for reporting times).
    pub step_minutes: f64,
    pub base_spread: f64,
    /// Where the wind comes from, degrees clockwise from north (meteorological).
    pub wind_from_deg: f64,
    /// 0 (calm) to 1 (spread downwind doubled, upwind stopped).
    pub wind_strength: f64,
    pub burn_steps: u32,
    /// Building cover below which a cell does not burn.
    pub min_cover: f64,
}

impl Default for FireParams {
    fn default() -> Self {
        FireParams {
            steps: 36,
            step_minutes: 5.0,
            base_spread: 0.35,
            wind_from_deg: 225.0,
            wind_strength: 0.5,
            burn_steps: 6,
            min_cover: 0.05,
        }
    }
}

impl FireParams {
    /// Impossible values, as (key, message).
    pub fn check(&self) -> Result<(), (String, String)> {
        let unit = |k: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err((k.to_string(), format!("must be between 0 and 1, not {v}")))
            }
        };
        unit("base_spread", self.base_spread)?;
        unit("wind_strength", self.wind_strength)?;
        unit("min_cover", self.min_cover)?;
        if self.burn_steps == 0 {
            return Err(("burn_steps".into(), "must be at least 1".into()));
        }
        // (4e9 steps ran for ever; a fire of 100,000 steps outlasts any scenario)
        if self.steps > 100_000 || self.burn_steps > 100_000 {
            return Err((
                "steps".into(),
                format!(
                    "{} steps, burning {}: at most 100,000 each",
                    self.steps, self.burn_steps
                ),
            ));
        }
        if !(self.step_minutes.is_finite() && self.step_minutes > 0.0) {
            return Err(("step_minutes".into(), "must be positive".into()));
        }
        if !self.wind_from_deg.is_finite() {
            return Err(("wind_from_deg".into(), "must be a number".into()));
        }
        Ok(())
    }
}

/// A fire run: when each cell caught fire (step), and counts per step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FireRun {
    pub ignited_at: BTreeMap<CellIndex, u32>,
    /// Burning cells at the end of each step 0..=steps.
    pub burning: Vec<usize>,
    /// Burnt-out cells at the end of each step.
    pub burnt: Vec<usize>,
    pub burn_steps: u32,
}

impl FireRun {
    /// Whether `cell` is burning at step `s`.
    pub fn burning_at(&self, cell: CellIndex, s: u32) -> bool {
        self.ignited_at
            .get(&cell)
            .is_some_and(|&i| i <= s && s < i + self.burn_steps)
    }
}

/// Building cover (0–1) of every H3 cell at `resolution` that a footprint touches.
pub fn building_cover(buildings: &[Building], resolution: Resolution) -> BTreeMap<CellIndex, f64> {
    let mut cover: BTreeMap<CellIndex, f64> = BTreeMap::new();
    for b in buildings {
        let Some(bb) = b.footprint.bounding_rect() else {
            continue;
        };
        let frame = LocalFrame::new(bb.center().x, bb.center().y);
        let local = frame.to_local_multipolygon(&b.footprint);
        let mut tiler = TilerBuilder::new(resolution)
            .containment_mode(ContainmentMode::Covers)
            .build();
        if b.footprint.iter().any(|p| tiler.add(p.clone()).is_err()) {
            continue;
        }
        for cell in tiler.into_coverage() {
            let hex = hexagon(cell);
            let hex_local = frame.to_local_multipolygon(&hex);
            let share = local.intersection(&hex_local).unsigned_area() / hex_local.unsigned_area();
            if share > 0.0 {
                *cover.entry(cell).or_default() += share;
            }
        }
    }
    for v in cover.values_mut() {
        *v = v.min(1.0);
    }
    cover
}

pub use crate::hexcell::hexagon;

/// The H3 cells a road passes through (its vertices and points about every 5 m).
pub fn road_cells(road: &crate::Road, resolution: Resolution) -> Vec<CellIndex> {
    let mut cells: Vec<CellIndex> = road
        .line
        .points()
        .filter_map(|pt| h3o::LatLng::new(pt.y(), pt.x()).ok())
        .map(|ll| ll.to_cell(resolution))
        .collect();
    for l in road.line.lines() {
        let n = (crate::coord::haversine_m(l.start.x, l.start.y, l.end.x, l.end.y) / 5.0).ceil()
            as usize;
        for k in 1..n {
            let t = k as f64 / n as f64;
            if let Ok(ll) = h3o::LatLng::new(
                l.start.y + (l.end.y - l.start.y) * t,
                l.start.x + (l.end.x - l.start.x) * t,
            ) {
                cells.push(ll.to_cell(resolution));
            }
        }
    }
    cells.sort();
    cells.dedup();
    cells
}

/// Steps during which a road is closed because a cell under it burns: the first and
/// last burning step, if any (a road is closed from its first burning step through
/// its last; gaps between two burning cells are ignored).
pub fn road_closure(run: &FireRun, cells: &[CellIndex], steps: u32) -> Option<(u32, u32)> {
    let burning: Vec<u32> = (0..=steps)
        .filter(|&s| cells.iter().any(|&c| run.burning_at(c, s)))
        .collect();
    Some((*burning.first()?, *burning.last()?))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn keyed_uniform(seed: u64, step: u32, from: CellIndex, to: CellIndex) -> f64 {
    let h = mix(mix(mix(seed ^ 0xf1e) ^ step as u64) ^ u64::from(from)) ^ u64::from(to);
    (mix(h) >> 11) as f64 / (1u64 << 53) as f64
}

/// Spreads fire from `ignitions` over the burnable cells of `cover`.
pub fn spread(
    cover: &BTreeMap<CellIndex, f64>,
    ignitions: &[CellIndex],
    p: &FireParams,
    seed: u64,
) -> FireRun {
    let mut run = FireRun {
        burn_steps: p.burn_steps,
        ..Default::default()
    };
    let burnable = |c: &CellIndex| cover.get(c).is_some_and(|&v| v >= p.min_cover);
    for &c in ignitions {
        run.ignited_at.insert(c, 0);
    }
    // the direction the wind blows to, as a unit vector (east, north)
    let to = (p.wind_from_deg + 180.0).to_radians();
    let wind = (to.sin(), to.cos());
    let count = |run: &FireRun, s: u32| {
        let burning = run
            .ignited_at
            .keys()
            .filter(|&&c| run.burning_at(c, s))
            .count();
        let burnt = run
            .ignited_at
            .values()
            .filter(|&&i| s >= i + p.burn_steps)
            .count();
        (burning, burnt)
    };
    let (b, x) = count(&run, 0);
    run.burning.push(b);
    run.burnt.push(x);
    for s in 0..p.steps {
        let mut new: BTreeMap<CellIndex, u32> = BTreeMap::new();
        for (&c, _) in run.ignited_at.iter().filter(|(&c, _)| run.burning_at(c, s)) {
            let here = h3o::LatLng::from(c);
            let frame = LocalFrame::new(here.lng(), here.lat());
            for n in c.grid_disk::<Vec<_>>(1) {
                if n == c
                    || run.ignited_at.contains_key(&n)
                    || new.contains_key(&n)
                    || !burnable(&n)
                {
                    continue;
                }
                let there = h3o::LatLng::from(n);
                let (dx, dy) = frame.to_local(there.lng(), there.lat());
                let len = dx.hypot(dy).max(1e-9);
                let cos = (dx * wind.0 + dy * wind.1) / len;
                let prob =
                    (p.base_spread * (0.5 + 0.5 * cover[&n]) * (1.0 + p.wind_strength * cos))
                        .clamp(0.0, 1.0);
                if keyed_uniform(seed, s, c, n) < prob {
                    new.insert(n, s + 1);
                }
            }
        }
        run.ignited_at.extend(new);
        let (b, x) = count(&run, s + 1);
        run.burning.push(b);
        run.burnt.push(x);
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::LatLng;

    fn disk(c: CellIndex, k: u32) -> Vec<CellIndex> {
        c.grid_disk::<Vec<_>>(k)
    }

    #[test]
    fn certain_spread_reaches_each_cell_at_its_ring_and_stops_at_a_firebreak() {
        let o = LatLng::new(60.17, 24.94)
            .unwrap()
            .to_cell(Resolution::Twelve);
        // fuel everywhere within 6 rings except ring 3, which is a street
        let fuel: BTreeMap<CellIndex, f64> = disk(o, 6)
            .into_iter()
            .map(|c| {
                (
                    c,
                    if o.grid_distance(c) == Ok(3) {
                        0.0
                    } else {
                        1.0
                    },
                )
            })
            .collect();
        let p = FireParams {
            base_spread: 1.0,
            wind_strength: 0.0,
            steps: 20,
            ..FireParams::default()
        };
        let run = spread(&fuel, &[o], &p, 9);
        for (c, &s) in &run.ignited_at {
            let d = o.grid_distance(*c).unwrap();
            assert!(d < 3, "fire crossed the firebreak to ring {d}");
            assert_eq!(s as i32, d, "ring {d} should catch at step {d}");
        }
        assert_eq!(run.ignited_at.len(), disk(o, 2).len());
        // all burnt out by the end; burning + burnt never exceeds what caught
        assert_eq!(*run.burnt.last().unwrap(), run.ignited_at.len());
        assert!(run
            .burning
            .iter()
            .zip(&run.burnt)
            .all(|(b, x)| b + x <= run.ignited_at.len()));
    }

    #[test]
    fn deterministic_by_seed_and_the_wind_pushes_it_downwind() {
        let o = LatLng::new(60.17, 24.94)
            .unwrap()
            .to_cell(Resolution::Twelve);
        let fuel: BTreeMap<CellIndex, f64> = disk(o, 25).into_iter().map(|c| (c, 0.8)).collect();
        let p = FireParams {
            base_spread: 0.3,
            wind_from_deg: 270.0, // from the west: spreads east
            wind_strength: 0.9,
            steps: 20,
            ..FireParams::default()
        };
        let a = spread(&fuel, &[o], &p, 5);
        assert_eq!(a, spread(&fuel, &[o], &p, 5));
        assert_ne!(a.ignited_at, spread(&fuel, &[o], &p, 6).ignited_at);
        let here = LatLng::from(o);
        let frame = LocalFrame::new(here.lng(), here.lat());
        let (mut east, mut west) = (0, 0);
        for c in a.ignited_at.keys() {
            let ll = LatLng::from(*c);
            let (x, _) = frame.to_local(ll.lng(), ll.lat());
            if x > 20.0 {
                east += 1;
            } else if x < -20.0 {
                west += 1;
            }
        }
        assert!(east > 3 * west.max(1), "east {east}, west {west}");
        assert!(FireParams {
            base_spread: 2.0,
            ..FireParams::default()
        }
        .check()
        .is_err());
    }

    #[test]
    fn a_fire_of_billions_of_steps_is_refused() {
        // issue 14: `fire.spread.steps = 4e9` ran for ever
        let p = FireParams {
            steps: 4_000_000_000,
            ..FireParams::default()
        };
        let (key, msg) = p.check().unwrap_err();
        assert_eq!(key, "steps", "{msg}");
    }
}
