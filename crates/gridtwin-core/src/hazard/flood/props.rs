//! Property tests of fill–spill–merge over thousands of seeded random DEMs, against
//! properties any correct answer has and against two slow, independent computations:
//! the first implementation (`oracle`) and a plain priority-flood fill.
//!
//! For every DEM (3 × 3 to 64 × 64; integer heights with many flats, decimal heights,
//! smooth terrain with noise; holes of no data) and rain (light, uniform or varied per
//! cell, or enough to fill every depression):
//! - **conservation**: rain = stored + outflow;
//! - **at rest**: no wet cell's surface stands above a neighbour that can take water
//!   (a lower surface, the raster's edge, or a no-data outlet);
//! - **never above the fill**: the surface is nowhere above the priority-flood filled
//!   DEM (water cannot stand higher than the lowest way out);
//! - **full fill**: with rain enough to fill everything, the surface equals it;
//! - **oracle**: depths equal the first implementation's, cell by cell.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{fill_spill_merge, oracle, sweep_key, Flood};
use crate::dem::Dem;

/// SplitMix64: a small seeded generator (no dependency, same stream everywhere).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The filled DEM: each cell's lowest level of a way out (priority flood from the
/// edge and the cells next to no data, which drain off the raster). Slow and plain.
pub(super) fn priority_flood_fill(dem: &Dem) -> Vec<f64> {
    let z = dem.elevations();
    let (cols, rows) = (dem.cols(), dem.rows());
    let mut fill = vec![f64::NAN; z.len()];
    let mut done = vec![false; z.len()];
    let mut heap = BinaryHeap::new();
    for i in 0..z.len() {
        if z[i].is_nan() {
            continue;
        }
        let (r, c) = (i / cols, i % cols);
        let edge = r == 0 || c == 0 || r + 1 == rows || c + 1 == cols;
        if edge || dem.neighbours(i).any(|k| z[k].is_nan()) {
            fill[i] = z[i];
            done[i] = true;
            heap.push(Reverse((sweep_key(z[i]), i)));
        }
    }
    while let Some(Reverse((_, i))) = heap.pop() {
        for k in dem.neighbours(i) {
            if done[k] || z[k].is_nan() {
                continue;
            }
            done[k] = true;
            fill[k] = z[k].max(fill[i]);
            heap.push(Reverse((sweep_key(fill[k]), k)));
        }
    }
    fill
}

/// A random terrain of one of three kinds, with a few no-data holes.
fn terrain(rng: &mut Rng, cols: usize, rows: usize) -> Vec<f64> {
    let n = cols * rows;
    let kind = rng.below(3);
    let mut z: Vec<f64> = match kind {
        // small integers: many flats and ties
        0 => {
            let top = 2 + rng.below(9);
            (0..n).map(|_| rng.below(top) as f64).collect()
        }
        // decimal heights, 3 decimals, as a DEM file holds them
        1 => (0..n)
            .map(|_| (rng.unit() * 20_000.0).round() / 1000.0)
            .collect(),
        // smooth relief plus noise: nested basins and long spill chains
        _ => {
            let (a, b) = (2.0 + rng.unit() * 6.0, 2.0 + rng.unit() * 6.0);
            let noise = rng.unit() * 3.0;
            (0..n)
                .map(|i| {
                    let (r, c) = ((i / cols) as f64, (i % cols) as f64);
                    (r / a).sin() * 3.0 + (c / b).cos() * 3.0 + rng.unit() * noise
                })
                .collect()
        }
    };
    if rng.below(4) == 0 {
        let holes = 1 + rng.below(1 + n as u64 / 40);
        for _ in 0..holes {
            z[rng.below(n as u64) as usize] = f64::NAN;
        }
    }
    z
}

/// Rain: light or heavy, uniform or varied per cell.
fn rain(rng: &mut Rng, n: usize) -> Vec<f64> {
    let depth = [0.001, 0.02, 0.3, 1.0, 4.0][rng.below(5) as usize] * (0.5 + rng.unit());
    if rng.below(2) == 0 {
        vec![depth; n]
    } else {
        (0..n).map(|_| depth * rng.unit() * 2.0).collect()
    }
}

/// What is wrong with `f` on `dem` under `rain`, if anything.
fn check(dem: &Dem, rain: &[f64], f: &Flood, full: bool) -> Result<(), String> {
    let z = dem.elevations();
    let top = z
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(1.0f64, |a, v| a.max(v.abs()));
    let tol = 1e-9 * top;
    let bal = (f.stored_m3 + f.outflow_m3 - f.rain_m3).abs();
    if bal > 1e-9 * f.rain_m3.max(1.0) {
        return Err(format!(
            "not conserved: rain {} stored {} out {}",
            f.rain_m3, f.stored_m3, f.outflow_m3
        ));
    }
    let fill = priority_flood_fill(dem);
    let surface = |i: usize| z[i] + f.depth[i];
    for i in 0..z.len() {
        if z[i].is_nan() {
            continue;
        }
        if f.depth[i] < 0.0 || f.depth[i].is_nan() {
            return Err(format!("cell {i}: depth {}", f.depth[i]));
        }
        if surface(i) > fill[i] + tol {
            return Err(format!(
                "cell {i}: surface {} above the filled DEM {}",
                surface(i),
                fill[i]
            ));
        }
        if full && surface(i) < fill[i] - tol {
            return Err(format!(
                "cell {i}: full fill leaves the surface {} below the filled DEM {}",
                surface(i),
                fill[i]
            ));
        }
        if f.depth[i] <= tol {
            continue;
        }
        let (r, c) = (i / dem.cols(), i % dem.cols());
        if r == 0 || c == 0 || r + 1 == dem.rows() || c + 1 == dem.cols() {
            return Err(format!("cell {i} on the edge holds {}", f.depth[i]));
        }
        for k in dem.neighbours(i) {
            if z[k].is_nan() {
                return Err(format!("cell {i} next to no data holds {}", f.depth[i]));
            }
            if surface(k) < surface(i) - tol {
                return Err(format!(
                    "not at rest: cell {i} stands {} above its neighbour {k}",
                    surface(i) - surface(k)
                ));
            }
        }
    }
    let o = oracle::fill_spill_merge(dem, rain, 1.0);
    for i in 0..z.len() {
        if (f.depth[i] - o.depth[i]).abs() > tol {
            return Err(format!(
                "cell {i}: depth {} where the oracle has {}",
                f.depth[i], o.depth[i]
            ));
        }
    }
    Ok(())
}

/// One seeded case: the DEM, its rain, and whether the rain fills everything.
fn case(seed: u64) -> (Dem, Vec<f64>, bool) {
    let mut rng = Rng(seed);
    // mostly small rasters (quick, and their failures are readable), some to 64 × 64
    let most = if rng.below(4) == 0 { 64 } else { 16 };
    let cols = 3 + rng.below(most - 2) as usize;
    let rows = 3 + rng.below(most - 2) as usize;
    let z = terrain(&mut rng, cols, rows);
    let full = rng.below(6) == 0;
    let rain = if full {
        // more than any cell can hold below the highest ground
        let (lo, hi) = z
            .iter()
            .filter(|v| !v.is_nan())
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        vec![(hi - lo).max(0.0) + 1.0; z.len()]
    } else {
        rain(&mut rng, z.len())
    };
    (Dem::new(cols, rows, 0.0, rows as f64, 1.0, z), rain, full)
}

#[test]
fn random_dems_settle_at_rest_conserve_and_match_both_oracles() {
    let mut failures = Vec::new();
    for seed in 0..3000u64 {
        let (dem, rain, full) = case(seed);
        let f = fill_spill_merge(&dem, &rain, 1.0);
        if let Err(e) = check(&dem, &rain, &f, full) {
            failures.push((dem.cols() * dem.rows(), seed, e));
        }
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of 3000 DEMs fail; smallest: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

#[test]
fn the_oracle_passes_the_same_checks() {
    // The oracle is itself checked against the properties (not only trusted).
    for seed in 0..1000u64 {
        let (dem, rain, full) = case(seed);
        let o = oracle::fill_spill_merge(&dem, &rain, 1.0);
        if let Err(e) = check(&dem, &rain, &o, full) {
            panic!("seed {seed}: {e}");
        }
    }
}

#[test]
fn the_smallest_cases_that_once_failed() {
    // Found by the property test above: 638, 935 and 836 left a lake above the filled
    // DEM and 1735 a lake not at rest (a lake formed from the re-check queue behind
    // the settling was never looked at again); 17 and 543 showed the oracle settling
    // ties on flats another way (flat pits, then rims at one level), now both follow
    // the (elevation, index) order.
    for seed in [17, 543, 638, 836, 935, 1735] {
        let (dem, rain, full) = case(seed);
        let f = fill_spill_merge(&dem, &rain, 1.0);
        if let Err(e) = check(&dem, &rain, &f, full) {
            panic!("seed {seed}: {e}");
        }
    }
}
