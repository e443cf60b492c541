//! The first fill–spill–merge implementation, kept as an independent oracle for the
//! tests: a priority flood from every pit labels cells and fills a table of the lowest
//! rim between each pair of depressions; lakes keep their cells' elevations in heaps.
//! (Its queue is an exact heap by (level, cell), so cells drain to their lowest
//! neighbour as in the fast implementation.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::dem::{Dem, NEIGHBOURS_8};

use super::Flood;

const UNSET: u32 = u32::MAX;
const OUTLET: u32 = 0;

use super::sweep_key as key;

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
    rims: BinaryHeap<Reverse<(Rim, u32)>>,
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

/// A rim between two depressions: (elevation key, cell) of its higher cell, then of
/// the lower cell across.
type Rim = (u64, u64, u64, u64);

fn unkey(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Cells by (flood level, index).
#[derive(Default)]
struct FloodQueue(BinaryHeap<Reverse<(u64, u32)>>);

impl FloodQueue {
    fn push(&mut self, i: u32, level: f64) {
        self.0.push(Reverse((key(level), i)));
    }

    fn pop(&mut self) -> Option<u32> {
        self.0.pop().map(|Reverse((_, i))| i)
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
    let mut heap = FloodQueue::default();
    // flood level of each queued cell: max(its elevation, its flooder's level)
    let mut level_of = vec![0.0f64; n];
    let push = |heap: &mut FloodQueue, level_of: &mut [f64], i: usize, level: f64| {
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
    // Pits: cells with no lower neighbour in (elevation, index) order, the order that
    // settles ties on flats (as the fast implementation documents it: a flat drains
    // toward its lowest-numbered cells, and a flat floor is a pit at its first cell
    // plus cells that meet it at their own level). Found by direct comparison here.
    let mut next_label = 1u32;
    let before = |k: usize, i: usize| (key(z[k]), k) < (key(z[i]), i);
    for i in 0..n {
        if label[i] != UNSET {
            continue;
        }
        if neighbours(i).any(|(r, c)| before(r as usize * cols + c as usize, i)) {
            continue;
        }
        label[i] = next_label;
        push(&mut heap, &mut level_of, i, z[i]);
        next_label += 1;
    }
    let depressions = (next_label - 1) as usize;
    // Flood: each cell joins the first depression (or outlet) to reach it; rims are
    // the lowest max(z) over neighbouring cells of two different labels.
    // (tens of millions of lookups on a large DEM: a fast integer hasher)
    // (ties at one level go by the rim cell, then by its neighbour across, both in
    // (elevation, index) order: the rim order the fast implementation documents)
    let mut rim: crate::int_hash::IntMap<u64, Rim> = Default::default();
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
                let (hi, lo) = if (key(z[i]), i) > (key(z[k]), k) {
                    (i, k)
                } else {
                    (k, i)
                };
                let h = (key(z[hi]), hi as u64, key(z[lo]), lo as u64);
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
        lakes[a as usize].rims.push(Reverse((h, b)));
        lakes[b as usize].rims.push(Reverse((h, a)));
    }

    // Fill, spill and merge in order of rims.
    let mut parent: Vec<u32> = (0..nl as u32).collect();
    let mut work: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let lowest_rim = |lakes: &mut [Lake], parent: &mut [u32], l: u32| -> Option<(f64, u32)> {
        let lake = &mut lakes[l as usize];
        // drop rims that now lie inside the lake
        while let Some(&Reverse(((h, ..), o))) = lake.rims.peek() {
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
