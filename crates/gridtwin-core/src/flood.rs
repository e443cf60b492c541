//! Pluvial flooding by fill–spill–merge: where rain that fell on a DEM comes to rest.
//!
//! Rain runs downhill into depressions. A depression fills to the level of its lowest
//! rim cell (its *spill* level); water above that spills over into the neighbouring
//! depression, which fills in turn, or off the raster (edges and no-data cells are
//! outlets). When two neighbouring depressions both fill to the rim between them they
//! merge into one lake that rises together. The result is the water depth of every
//! cell once the water has settled, with volume conserved exactly:
//! rain = water stored + water that left the raster.
//!
//! How: one priority flood from the raster's outlets and from every pit labels each
//! cell with the depression it drains to (watershed by flooding, 8 neighbours) and
//! finds the lowest rim between each pair of neighbouring depressions. Depressions
//! then fill, spill and merge in order of their rims, each keeping its cells'
//! elevations sorted so the level holding a volume is found by binary search.
//! Rain is cumulative depth: the state after a storm's first hour is
//! `fill_spill_merge(dem, rain of that hour)` (no infiltration or drainage).
//!
//! ```
//! use gridtwin_core::dem::Dem;
//! use gridtwin_core::flood::fill_spill_merge;
//! // a 5 × 5 bowl: rim at 10 m, floor at 0 m, lowest rim cell 5 m
//! let mut z = vec![10.0; 25];
//! for r in 1..4 { for c in 1..4 { z[r * 5 + c] = 0.0; } }
//! z[2 * 5 + 4] = 5.0;
//! let dem = Dem::new(5, 5, 0.0, 5.0, 1.0, z);
//! // 1 m of rain: the 9 m³ on the floor stay (it holds 45 m³ below the notch); the
//! // raster's border cells are outlets, so the 16 m³ that fell there leave
//! let f = fill_spill_merge(&dem, &vec![1.0; 25], 1.0);
//! assert!((f.depth[12] - 1.0).abs() < 1e-9);
//! assert!((f.outflow_m3 - 16.0).abs() < 1e-9);
//! // 8 m of rain: 72 m³ on the floor; it stands at the notch, 5 m, and 27 m³ spill
//! let f = fill_spill_merge(&dem, &vec![8.0; 25], 1.0);
//! assert!((f.depth[12] - 5.0).abs() < 1e-9);
//! assert!((f.stored_m3 + f.outflow_m3 - 200.0).abs() < 1e-9);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::dem::{Dem, NEIGHBOURS_8};

/// Where the water came to rest.
#[derive(Debug, Clone)]
pub struct Flood {
    /// Water depth per cell (m), row-major as the DEM; 0 on no-data cells.
    pub depth: Vec<f64>,
    /// Rain that fell on the raster (m³).
    pub rain_m3: f64,
    /// Water standing on the raster (m³).
    pub stored_m3: f64,
    /// Water that left over an edge or into a no-data cell (m³).
    pub outflow_m3: f64,
    /// Number of depressions (pits or flat pit regions) found.
    pub depressions: usize,
}

const UNSET: u32 = u32::MAX;
const OUTLET: u32 = 0;

/// Total order on f64 as an unsigned key.
fn key(z: f64) -> u64 {
    let b = z.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

struct Lake {
    /// Cells below `theta` are summed into (`below_n`, `below_sum`); the others wait
    /// in a min-heap of elevation keys. A lake is only ever asked its volume at its
    /// lowest rim, which never falls, so cells move from the heap to the sums once.
    theta: f64,
    below_n: usize,
    below_sum: f64,
    above: BinaryHeap<Reverse<u64>>,
    cells: usize,
    water: f64,
    /// Rims to neighbouring depressions, lowest first: (elevation key, their label);
    /// entries that now lie inside the lake are dropped when they surface.
    rims: BinaryHeap<Reverse<(u64, u32)>>,
    /// Once full to a rim below which a neighbour sits: where more water goes, and
    /// the level it stands at.
    spill: Option<u32>,
    spill_level: f64,
}

impl Lake {
    fn empty() -> Lake {
        Lake {
            theta: f64::NEG_INFINITY,
            below_n: 0,
            below_sum: 0.0,
            above: BinaryHeap::new(),
            cells: 0,
            water: 0.0,
            rims: BinaryHeap::new(),
            spill: None,
            spill_level: f64::NAN,
        }
    }

    /// Moves cells below `h` into the sums (`h` at least the last one asked).
    fn advance(&mut self, h: f64) {
        debug_assert!(h >= self.theta, "lake volumes are asked at rising levels");
        while let Some(&Reverse(k)) = self.above.peek() {
            let z = unkey(k);
            if z >= h {
                break;
            }
            self.above.pop();
            self.below_n += 1;
            self.below_sum += z;
        }
        self.theta = self.theta.max(h);
    }

    /// Volume held below level `h`.
    fn volume(&mut self, h: f64) -> f64 {
        self.advance(h);
        self.below_n as f64 * h - self.below_sum
    }
}

fn unkey(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// A monotone bucket queue of cells by flood level (levels popped never decrease in a
/// priority flood, since a cell's level is at least its flooder's): O(1) per cell
/// instead of a heap's O(log n). Buckets are about a millionth of the elevation range
/// wide; within one, cells come out first in, first out.
struct BucketQueue {
    zmin: f64,
    width: f64,
    buckets: Vec<Vec<u32>>,
    cur: usize,
    pos: usize,
}

impl BucketQueue {
    fn new(zmin: f64, zmax: f64) -> Self {
        let range = (zmax - zmin).max(0.0);
        let width = (range / (1u64 << 20) as f64).max(1e-9);
        let n = ((range / width) as usize + 2).min((1 << 20) + 2);
        BucketQueue {
            zmin,
            width,
            buckets: vec![Vec::new(); n],
            cur: 0,
            pos: 0,
        }
    }

    fn push(&mut self, i: u32, level: f64) {
        let b =
            (((level - self.zmin) / self.width) as usize).clamp(self.cur, self.buckets.len() - 1);
        self.buckets[b].push(i);
    }

    fn pop(&mut self) -> Option<u32> {
        while self.cur < self.buckets.len() {
            if let Some(&i) = self.buckets[self.cur].get(self.pos) {
                self.pos += 1;
                return Some(i);
            }
            self.buckets[self.cur] = Vec::new();
            self.cur += 1;
            self.pos = 0;
        }
        None
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

/// Settles `rain` (m of water per cell, row-major as the DEM) on `dem`, whose cells
/// each cover `cell_area_m2`. Volumes are in m³.
pub fn fill_spill_merge(dem: &Dem, rain: &[f64], cell_area_m2: f64) -> Flood {
    let (cols, rows) = (dem.cols(), dem.rows());
    let z = dem.elevations();
    let n = cols * rows;
    assert_eq!(rain.len(), n, "one rain depth per cell");
    let nodata = |i: usize| z[i].is_nan();
    let neighbours = |i: usize| {
        let (r, c) = ((i / cols) as isize, (i % cols) as isize);
        NEIGHBOURS_8
            .into_iter()
            .map(move |(dr, dc)| (r + dr, c + dc))
    };
    let inside =
        |(r, c): (isize, isize)| r >= 0 && c >= 0 && r < rows as isize && c < cols as isize;

    let mut label = vec![UNSET; n];
    let (zmin, zmax) = z
        .iter()
        .filter(|v| !v.is_nan())
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let mut heap = BucketQueue::new(zmin, zmax);
    // flood level of each queued cell: max(its elevation, its flooder's level)
    let mut level_of = vec![0.0f64; n];
    let push = |heap: &mut BucketQueue, level_of: &mut [f64], i: usize, level: f64| {
        level_of[i] = level;
        heap.push(i as u32, level);
    };
    // Outlets: cells on the border or next to no-data drain off the raster.
    #[allow(clippy::needless_range_loop)] // i is a cell, used beyond indexing
    for i in 0..n {
        if nodata(i) {
            label[i] = OUTLET;
            continue;
        }
        let edge = neighbours(i).any(|p| !inside(p) || nodata(p.0 as usize * cols + p.1 as usize));
        if edge {
            label[i] = OUTLET;
            push(&mut heap, &mut level_of, i, z[i]);
        }
    }
    // Pits: cells with no lower neighbour; a flat pit region is one depression.
    let mut next_label = 1u32;
    let mut stack = Vec::new();
    // flat cells already found to drain (so a large plateau is walked once)
    let mut drains = vec![false; n];
    for i in 0..n {
        if label[i] != UNSET || drains[i] {
            continue;
        }
        let lower = neighbours(i).any(|(r, c)| z[r as usize * cols + c as usize] < z[i]);
        if lower {
            continue;
        }
        // grow the flat region of equal cells with no lower neighbour
        let l = next_label;
        let mut region_ok = true;
        let mut members = vec![i];
        label[i] = l;
        stack.push(i);
        while let Some(j) = stack.pop() {
            for (r, c) in neighbours(j) {
                let k = r as usize * cols + c as usize;
                if z[k] == z[j] && label[k] == UNSET {
                    let k_lower = neighbours(k).any(|(r2, c2)| {
                        !inside((r2, c2)) || z[r2 as usize * cols + c2 as usize] < z[k]
                    });
                    if k_lower {
                        // the flat drains: not a pit region after all
                        region_ok = false;
                        continue;
                    }
                    label[k] = l;
                    members.push(k);
                    stack.push(k);
                }
            }
        }
        if region_ok {
            for &m in &members {
                push(&mut heap, &mut level_of, m, z[m]);
            }
            next_label += 1;
        } else {
            for &m in &members {
                label[m] = UNSET;
                drains[m] = true;
            }
        }
    }
    let depressions = (next_label - 1) as usize;
    // Flood: each cell joins the first depression (or outlet) to reach it; rims are
    // the lowest max(z) over neighbouring cells of two different labels.
    // (tens of millions of lookups on a large DEM: a fast integer hasher)
    let mut rim: crate::int_hash::IntMap<u64, f64> = Default::default();
    while let Some(i) = heap.pop() {
        let i = i as usize;
        let l = label[i];
        let here = level_of[i];
        for p in neighbours(i) {
            if !inside(p) {
                continue;
            }
            let k = p.0 as usize * cols + p.1 as usize;
            if nodata(k) {
                continue;
            }
            let lk = label[k];
            if lk == UNSET {
                label[k] = l;
                push(&mut heap, &mut level_of, k, z[k].max(here));
            } else if lk != l {
                let (a, b) = if l < lk { (l, lk) } else { (lk, l) };
                let h = z[i].max(z[k]);
                let e = rim.entry((a as u64) << 32 | b as u64).or_insert(h);
                if h < *e {
                    *e = h;
                }
            }
        }
    }
    // Cells that no flood reached (a region walled in by no-data) drain nowhere:
    // treat them as outlets so no water is lost from the ledger.
    for l in label.iter_mut() {
        if *l == UNSET {
            *l = OUTLET;
        }
    }

    // Lakes: cells' elevations sorted per depression, and rain.
    let nl = next_label as usize;
    let mut counts = vec![0usize; nl];
    for &l in &label {
        counts[l as usize] += 1;
    }
    let mut keys: Vec<Vec<Reverse<u64>>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    let mut lakes: Vec<Lake> = (0..nl).map(|_| Lake::empty()).collect();
    let mut rain_total = 0.0;
    let mut outflow = 0.0;
    for i in 0..n {
        if nodata(i) {
            continue;
        }
        let w = rain[i].max(0.0);
        rain_total += w;
        let l = label[i] as usize;
        if l == OUTLET as usize {
            outflow += w;
        } else {
            keys[l].push(Reverse(key(z[i])));
            lakes[l].water += w;
        }
    }
    for (lake, k) in lakes.iter_mut().zip(keys) {
        lake.cells = k.len();
        lake.above = BinaryHeap::from(k);
    }
    for (k, h) in rim {
        let (a, b) = ((k >> 32) as u32, k as u32);
        lakes[a as usize].rims.push(Reverse((key(h), b)));
        lakes[b as usize].rims.push(Reverse((key(h), a)));
    }

    // Fill, spill and merge in order of rims.
    let mut parent: Vec<u32> = (0..nl as u32).collect();
    let mut work: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let lowest_rim = |lakes: &mut [Lake], parent: &mut [u32], l: u32| -> Option<(f64, u32)> {
        let lake = &mut lakes[l as usize];
        // drop rims that now lie inside the lake
        while let Some(&Reverse((h, o))) = lake.rims.peek() {
            let ro = find(parent, o);
            if ro == l {
                lake.rims.pop();
                continue;
            }
            return Some((unkey(h), ro));
        }
        None
    };
    for l in 1..nl as u32 {
        if let Some((h, _)) = lowest_rim(&mut lakes, &mut parent, l) {
            work.push(Reverse((key(h), l)));
        }
    }
    let tol = |v: f64| 1e-12 * v.abs().max(1.0);
    let mut chain: Vec<u32> = Vec::new();
    while let Some(Reverse((_, l))) = work.pop() {
        if find(&mut parent, l) != l || lakes[l as usize].spill.is_some() {
            continue;
        }
        let Some((h, other)) = lowest_rim(&mut lakes, &mut parent, l) else {
            continue;
        };
        let cap = lakes[l as usize].volume(h);
        if lakes[l as usize].water <= cap + tol(cap) {
            continue; // not full: waits for more water
        }
        let excess = lakes[l as usize].water - cap;
        if other == OUTLET {
            outflow += excess;
            lakes[l as usize].water = cap;
            lakes[l as usize].spill = Some(OUTLET);
            lakes[l as usize].spill_level = h;
            continue;
        }
        let o = other as usize;
        let other_full = {
            if lakes[o].spill.is_some() {
                lakes[o].spill_level >= h - 1e-9
            } else {
                // Not spilling, its level is at most its own lowest rim: full at `h`
                // only if that rim is `h` itself (asked there, volumes stay monotone).
                match lowest_rim(&mut lakes, &mut parent, other) {
                    Some((ho, _)) if ho >= h => {
                        let c = lakes[o].volume(h);
                        lakes[o].water >= c - tol(c)
                    }
                    _ => false,
                }
            }
        };
        if other_full {
            // Both stand at the rim: one lake from now on.
            let (a, b) = if l < other { (l, other) } else { (other, l) };
            let mut lb = std::mem::replace(&mut lakes[b as usize], Lake::empty());
            let theta = lakes[a as usize].theta.max(lb.theta);
            lb.advance(theta);
            let la = &mut lakes[a as usize];
            la.advance(theta);
            la.below_n += lb.below_n;
            la.below_sum += lb.below_sum;
            la.cells += lb.cells;
            la.above.append(&mut lb.above);
            la.water += lb.water;
            la.rims.append(&mut lb.rims);
            la.spill = None;
            parent[b as usize] = a;
            if let Some((h2, _)) = lowest_rim(&mut lakes, &mut parent, a) {
                work.push(Reverse((key(h2), a)));
            }
        } else {
            // Over the rim into the neighbour, and on down its spill chain to the first
            // lake that is not full (or off the raster).
            lakes[l as usize].water = cap;
            lakes[l as usize].spill = Some(other);
            let mut t = other;
            chain.clear();
            loop {
                t = find(&mut parent, t);
                if t == OUTLET {
                    outflow += excess;
                    break;
                }
                match lakes[t as usize].spill {
                    Some(next) => {
                        chain.push(t);
                        t = next;
                    }
                    None => {
                        lakes[t as usize].water += excess;
                        if let Some((h2, _)) = lowest_rim(&mut lakes, &mut parent, t) {
                            work.push(Reverse((key(h2), t)));
                        }
                        break;
                    }
                }
            }
            // Shortcut the chain: every full lake on it passes water straight to the
            // end (a full lake that later merges does so exactly at its spill level,
            // still passing everything on — so the shortcut stays true).
            for &c in &chain {
                lakes[c as usize].spill = Some(t);
            }
            lakes[l as usize].spill = Some(if chain.is_empty() { other } else { t });
            lakes[l as usize].spill_level = h;
        }
    }

    // Levels: a full lake stands at its spill level; any other holds its water
    // below the last rim it was asked about, so only its cells below that rim are
    // sorted to find the level.
    let mut level = vec![f64::NAN; nl];
    let mut bound = vec![f64::NAN; nl];
    for l in 1..nl as u32 {
        if find(&mut parent, l) == l && lakes[l as usize].cells > 0 {
            let lake = &lakes[l as usize];
            if lake.spill.is_some() {
                level[l as usize] = lake.spill_level;
            } else if lake.rims.is_empty() && lake.theta == f64::NEG_INFINITY {
                bound[l as usize] = f64::INFINITY;
            } else {
                bound[l as usize] = lake.theta;
            }
        }
    }
    let mut pond: Vec<Vec<f64>> = vec![Vec::new(); nl];
    for i in 0..n {
        let l = label[i];
        if l == OUTLET || nodata(i) {
            continue;
        }
        let r = find(&mut parent, l) as usize;
        if z[i] < bound[r] || (bound[r].is_nan() && level[r].is_nan()) {
            pond[r].push(z[i]);
        }
    }
    for (r, mut zs) in pond.into_iter().enumerate() {
        if !level[r].is_nan() || zs.is_empty() {
            continue;
        }
        zs.sort_unstable_by(|a, b| a.total_cmp(b));
        let w = lakes[r].water;
        if w <= 0.0 {
            level[r] = zs[0];
            continue;
        }
        // smallest k with w < volume up to zs[k]; level = (w + Σ zs[..k]) / k
        let (mut k, mut sum) = (1usize, zs[0]);
        while k < zs.len() && w >= k as f64 * zs[k] - sum {
            sum += zs[k];
            k += 1;
        }
        level[r] = (w + sum) / k as f64;
    }
    let mut depth = vec![0.0; n];
    let mut stored = 0.0;
    for i in 0..n {
        let l = label[i];
        if l == OUTLET || nodata(i) {
            continue;
        }
        let r = find(&mut parent, l) as usize;
        let d = (level[r] - z[i]).max(0.0);
        depth[i] = d;
        stored += d;
    }
    Flood {
        depth,
        rain_m3: rain_total * cell_area_m2,
        stored_m3: stored * cell_area_m2,
        outflow_m3: outflow * cell_area_m2,
        depressions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dem(rows: &[&[f64]]) -> Dem {
        let cols = rows[0].len();
        let z: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Dem::new(cols, rows.len(), 0.0, rows.len() as f64, 1.0, z)
    }

    fn conserved(f: &Flood) {
        assert!(
            (f.stored_m3 + f.outflow_m3 - f.rain_m3).abs() <= 1e-9 * f.rain_m3.max(1.0),
            "rain {} = stored {} + out {}",
            f.rain_m3,
            f.stored_m3,
            f.outflow_m3
        );
    }

    #[test]
    fn a_bowl_fills_to_its_spill_level_and_no_higher() {
        // 3 × 3 floor at 0 inside a rim of 10 with one notch at 4
        let d = dem(&[
            &[10., 10., 10., 10., 10.],
            &[10., 0., 0., 0., 10.],
            &[10., 0., 0., 0., 4.],
            &[10., 0., 0., 0., 10.],
            &[10., 10., 10., 10., 10.],
        ]);
        // little rain: the 9 m³ that fell on the floor stay there
        let f = fill_spill_merge(&d, &[1.0; 25], 1.0);
        conserved(&f);
        assert_eq!(f.depressions, 1);
        assert!((f.depth[6] - 1.0).abs() < 1e-12);
        // the rim cells (outlets) hold nothing; their rain left
        assert_eq!(f.depth[0], 0.0);
        assert!((f.outflow_m3 - 16.0).abs() < 1e-12);
        // lots of rain: the floor stands exactly at the notch (4 m), the rest spills
        let f = fill_spill_merge(&d, &[10.0; 25], 1.0);
        conserved(&f);
        for i in [6, 7, 8, 11, 12, 13, 16, 17, 18] {
            assert!((f.depth[i] - 4.0).abs() < 1e-12, "{}", f.depth[i]);
        }
        assert!((f.stored_m3 - 36.0).abs() < 1e-9);
    }

    #[test]
    fn two_basins_merge_after_overflow() {
        // west basin floor 0 (2 cells), east basin floor 2 (2 cells), rim between at 3,
        // outer walls 10: rain only on the west basin.
        let d = dem(&[
            &[10., 10., 10., 10., 10., 10., 10.],
            &[10., 0., 0., 3., 2., 2., 10.],
            &[10., 10., 10., 10., 10., 10., 10.],
        ]);
        let mut rain = vec![0.0; 21];
        // 4 m³: fills west to 2 m... (2 cells) and no spill yet
        rain[8] = 2.0;
        rain[9] = 2.0;
        let f = fill_spill_merge(&d, &rain, 1.0);
        conserved(&f);
        assert_eq!(f.depressions, 2);
        assert!((f.depth[8] - 2.0).abs() < 1e-12 && f.depth[11] == 0.0);
        // 10 m³: west fills to 3 (6 m³), 4 m³ spill east: east (floor 2) holds 2 m³ to
        // the rim at 3 and is then full too: they merge; 2 m³ more over 5 cells
        // (west 2 + rim cell + east 2) → level 3 + 2/5 = 3.4
        rain[8] = 5.0;
        rain[9] = 5.0;
        let f = fill_spill_merge(&d, &rain, 1.0);
        conserved(&f);
        assert!((f.depth[8] - 3.4).abs() < 1e-12, "{}", f.depth[8]);
        assert!((f.depth[10] - 0.4).abs() < 1e-12, "{}", f.depth[10]);
        assert!((f.depth[11] - 1.4).abs() < 1e-12, "{}", f.depth[11]);
        assert_eq!(f.outflow_m3, 0.0);
        // 5 m³: west full to 3 (6 m³ needed — not yet), east dry
        rain[8] = 2.5;
        rain[9] = 2.5;
        let f = fill_spill_merge(&d, &rain, 1.0);
        assert!((f.depth[8] - 2.5).abs() < 1e-12 && f.depth[11] == 0.0);
        // 7 m³: west full at 3 with 6, 1 m³ to the east: 0.5 m over its floor
        rain[8] = 3.5;
        rain[9] = 3.5;
        let f = fill_spill_merge(&d, &rain, 1.0);
        conserved(&f);
        assert!((f.depth[8] - 3.0).abs() < 1e-12);
        assert!((f.depth[11] - 0.5).abs() < 1e-12 && (f.depth[12] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_plateau_drains() {
        // A flat plateau at 5 whose east side falls to the edge: nothing stays on it.
        let d = dem(&[
            &[9., 9., 9., 9., 9., 9.],
            &[9., 5., 5., 5., 5., 1.],
            &[9., 5., 5., 5., 5., 1.],
            &[9., 5., 5., 5., 5., 1.],
            &[9., 9., 9., 9., 9., 9.],
        ]);
        let f = fill_spill_merge(&d, &[0.3; 30], 1.0);
        conserved(&f);
        assert!(f.depth.iter().all(|&x| x == 0.0), "{:?}", f.depth);
        assert!((f.outflow_m3 - 9.0).abs() < 1e-9);
    }

    #[test]
    fn a_flat_pit_is_one_depression_and_fills_evenly() {
        let d = dem(&[
            &[9., 9., 9., 9.],
            &[9., 2., 2., 9.],
            &[9., 2., 2., 9.],
            &[9., 9., 9., 9.],
        ]);
        let mut rain = vec![0.0; 16];
        rain[5] = 4.0; // 4 m³ on one cell of the 2 × 2 flat floor
        let f = fill_spill_merge(&d, &rain, 2.0);
        conserved(&f);
        assert_eq!(f.depressions, 1);
        for i in [5, 6, 9, 10] {
            assert!((f.depth[i] - 1.0).abs() < 1e-12);
        }
        assert!((f.stored_m3 - 8.0).abs() < 1e-12); // 2 m² cells
    }

    #[test]
    fn nested_basins_and_a_chain_of_spills_conserve_volume() {
        // Random rough terrain with many nested depressions: volume is conserved and the
        // water is at rest.
        let (cols, rows) = (60, 50);
        let mut s = 3u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let z: Vec<f64> = (0..cols * rows)
            .map(|i| {
                let (r, c) = ((i / cols) as f64, (i % cols) as f64);
                (r / 5.0).sin() * 3.0 + (c / 7.0).cos() * 3.0 + rnd() * 2.0
            })
            .collect();
        let top = z.iter().cloned().fold(f64::MIN, f64::max);
        let d = Dem::new(cols, rows, 0.0, rows as f64, 1.0, z.clone());
        for rain in [0.01, 0.1, 1.0, 5.0] {
            let f = fill_spill_merge(&d, &vec![rain; cols * rows], 1.0);
            conserved(&f);
            assert!(f.depressions > 10);
            // Settled: no wet cell's surface stands above a neighbour's surface (water
            // would still flow there).
            let surface = |i: usize| z[i] + f.depth[i];
            let mut wet = 0;
            for i in 0..cols * rows {
                assert!(f.depth[i] >= 0.0 && surface(i) <= top + 1e-9);
                // (a rim cell may carry a rounding-sized film)
                if f.depth[i] < 1e-9 {
                    continue;
                }
                wet += 1;
                for k in d.neighbours(i) {
                    assert!(
                        surface(k) >= surface(i) - 1e-9,
                        "rain {rain}: water at {i} stands {} above {k}",
                        surface(i) - surface(k)
                    );
                }
            }
            assert!(wet > 0);
        }
    }
}
