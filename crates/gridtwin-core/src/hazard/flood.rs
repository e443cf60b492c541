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
//! How (after Barnes, Callaghan & Wickert 2020, "Computing water flow through complex
//! landscapes", parts 2 and 3, reorganised so that no step needs a per-pair table or a
//! per-lake sort):
//! 1. **Basins.** Cells are ordered by (elevation, index), so there are no flats: every
//!    cell has a lowest lower neighbour to drain to, or is a pit. Following those steps
//!    labels each cell with its pit; cells on the border or next to no-data belong to
//!    the *ocean*. (A flat floor becomes one pit, or several that meet at their own
//!    level with no room between them, which is the same lake.)
//! 2. **Depression hierarchy.** One sweep over the cells in (elevation, index) order joins
//!    basins with a union–find: a cell next to a lower cell of another basin is a rim
//!    between the two, and the first such cell between two groups of basins is their
//!    lowest rim (Kruskal's order). Each join is a node of a merge tree, and because
//!    each group counts its cells and sums their elevations as the sweep passes them,
//!    the volume each side holds up to that rim is `n·h − Σz`, exact and O(1).
//! 3. **Fill, spill, merge** on that tree: a group whose water exceeds its volume at
//!    its rim overflows into the basin on the far side of the rim (or the ocean), and
//!    when both sides of a rim are full they become one lake.
//! 4. **Levels.** A lake that spills stands at its rim; one that does not stands where
//!    its cells, taken in the sweep's order, hold exactly its water.
//!
//! Rain is cumulative depth: the state after a storm's first hour is
//! `fill_spill_merge(dem, rain of that hour)` (no infiltration or drainage). Outputs do
//! not depend on the number of threads.
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

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize};

use rayon::prelude::*;

use crate::dem::{Dem, NEIGHBOURS_8};

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod props;

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
    /// Number of depressions (pits, a flat floor counted once per lowest cell) found.
    pub depressions: usize,
}

const NONE: u32 = u32::MAX;
/// Marks a pit's label in the descent pointers.
const PIT: u32 = 1 << 31;
/// The basin of cells that drain off the raster, and the merge-tree leaf standing for
/// everything beyond the raster's edge.
const OCEAN: u32 = 0;
/// Elevations as unsigned integers in the same order (`f64::total_cmp`'s), so that
/// comparisons are integer ones.
#[inline]
pub(crate) fn sweep_key(z: f64) -> u64 {
    let b = z.to_bits();
    b ^ (((b as i64 >> 63) as u64) | 1 << 63)
}

/// Bits of a digit of the elevation bucket: the top digit picks a bin of the sort, the
/// low one orders cells within it.
const RADIX_BITS: u32 = 12;
const RADIX: usize = 1 << RADIX_BITS;

/// Rows handed to one parallel task.
const ROWS_PER_TASK: usize = 32;
/// Elevation buckets that the counting sorts order by (two digits); cells sharing a
/// bucket are then put in exact order (a bucket is a 16-millionth of the relief).
const BUCKETS: usize = 1 << (2 * RADIX_BITS);
/// Cells the sort hands to the sweep at a time (at least).
const BLOCK: usize = 1 << 15;

/// Settles `rain` (m of water per cell, row-major as the DEM) on `dem`, whose cells
/// each cover `cell_area_m2`. Volumes are in m³.
pub fn fill_spill_merge(dem: &Dem, rain: &[f64], cell_area_m2: f64) -> Flood {
    let n = dem.cols() * dem.rows();
    assert_eq!(rain.len(), n, "one rain depth per cell");
    assert!(n < PIT as usize, "a DEM of at most 2 billion cells");
    let z = dem.elevations();
    let raster = Raster::new(dem);
    let (label, pits, scratch) = raster.basins();
    let across = raster.rims(&label, scratch);
    let Bins { mut cells, start } = raster.bins(&label, &across);
    drop(across);
    // The sweep is sequential. The other core puts the bins in exact order one after
    // another, a block ahead of the sweep, runs the rain into basins (rain on the
    // ocean's cells leaves at once), then settles the water on the merge tree as the
    // sweep grows it. The sorting side runs first: on one thread it finishes before
    // the sweep starts, and the settling waits for the sweep only while it runs.
    let tree = MergeTree::new(pits);
    let (blocks, sweep_blocks) = std::sync::mpsc::channel();
    let ((mut settling, rain_total), ()) = rayon::join(
        || {
            sort_bins(&mut cells, &start, blocks);
            let mut water = vec![0.0; pits as usize + 1];
            let (mut rain_total, mut outflow) = (0.0, 0.0);
            for (i, &l) in label.iter().enumerate() {
                if z[i].is_nan() {
                    continue;
                }
                let w = rain[i].max(0.0);
                rain_total += w;
                if l == OCEAN {
                    outflow += w;
                } else {
                    water[l as usize] += w;
                }
            }
            let mut settling = Settling::new(&tree, water, outflow);
            settling.follow(&tree);
            (settling, rain_total)
        },
        || tree.sweep(&raster, &label, sweep_blocks),
    );
    settling.advance(&tree, tree.nodes());
    let outflow = settling.outflow;
    let lakes = settling.lakes;
    let level = lakes.levels(&tree, &cells);

    let mut depth = vec![0.0; n];
    let stored: f64 = depth
        .par_chunks_mut(raster.cols * ROWS_PER_TASK)
        .enumerate()
        .map(|(t, chunk)| {
            let start = t * raster.cols * ROWS_PER_TASK;
            let mut sum = 0.0;
            for (j, d) in chunk.iter_mut().enumerate() {
                let i = start + j;
                let l = label[i];
                if l == OCEAN || l == NONE {
                    continue;
                }
                *d = (level[l as usize] - z[i]).max(0.0);
                sum += *d;
            }
            sum
        })
        .collect::<Vec<f64>>()
        .into_iter()
        .sum();
    Flood {
        depth,
        rain_m3: rain_total * cell_area_m2,
        stored_m3: stored * cell_area_m2,
        outflow_m3: outflow * cell_area_m2,
        depressions: pits as usize,
    }
}

/// The DEM's cells with the (elevation, index) order that breaks ties.
struct Raster<'a> {
    z: &'a [f64],
    cols: usize,
    rows: usize,
    /// Index step to each of the 8 neighbours, in `NEIGHBOURS_8` order.
    step: [isize; 8],
}

impl<'a> Raster<'a> {
    fn new(dem: &'a Dem) -> Self {
        let cols = dem.cols();
        Raster {
            z: dem.elevations(),
            cols,
            rows: dem.rows(),
            step: NEIGHBOURS_8.map(|(dr, dc)| dr * cols as isize + dc),
        }
    }

    /// Runs `f(i, row, col, slot)` for every cell, a band of rows per parallel task;
    /// `slot` is the cell's element of `out`.
    fn par_cells<T: Send>(&self, out: &mut [T], f: impl Fn(usize, usize, usize, &mut T) + Sync) {
        let band = self.cols * ROWS_PER_TASK;
        out.par_chunks_mut(band).enumerate().for_each(|(t, chunk)| {
            for (dr, row) in chunk.chunks_mut(self.cols).enumerate() {
                let r = t * ROWS_PER_TASK + dr;
                for (c, slot) in row.iter_mut().enumerate() {
                    f(r * self.cols + c, r, c, slot);
                }
            }
        });
    }

    fn interior(&self, r: usize, c: usize) -> bool {
        r > 0 && c > 0 && r + 1 < self.rows && c + 1 < self.cols
    }

    /// Each cell's basin: `OCEAN` for cells that drain off the raster, pits numbered
    /// 1.. in cell order, `NONE` for no-data; and the number of pits. Also returns a
    /// scratch buffer of one `u32` per cell, for the next pass to reuse (fresh memory
    /// costs page faults).
    fn basins(&self) -> (Vec<u32>, u32, Vec<u32>) {
        let n = self.z.len();
        // where each cell drains: its lowest earlier neighbour, itself (a pit), or NONE
        // (an outlet or no data)
        let mut down = vec![NONE; n];
        self.par_cells(&mut down, |i, r, c, d| {
            if self.z[i].is_nan() || !self.interior(r, c) {
                return;
            }
            // The lowest neighbour in sweep order, as the minimum of (elevation key,
            // cell) pairs: integer compares the compiler makes branch-free (on rough
            // terrain each comparison is a coin toss), three rounds deep.
            let at = |k: usize| (sweep_key(self.z[k]) as u128) << 64 | k as u128;
            let nb = self.step.map(|s| at((i as isize + s) as usize));
            let nodata = self
                .step
                .iter()
                .any(|&s| self.z[(i as isize + s) as usize].is_nan());
            let low = (nb[0].min(nb[1]).min(nb[2].min(nb[3])))
                .min(nb[4].min(nb[5]).min(nb[6].min(nb[7])));
            let best = low.min(at(i)) as u64 as usize;
            // next to no data: an outlet
            *d = if nodata { NONE } else { best as u32 };
        });
        // Pits numbered in cell order (counted per band, then numbered in parallel) and
        // marked in `down` as PIT | label.
        let band = self.cols * ROWS_PER_TASK;
        let mut first: Vec<u32> = down
            .par_chunks(band)
            .enumerate()
            .map(|(t, chunk)| {
                let start = t * band;
                (0..chunk.len())
                    .filter(|&j| chunk[j] == (start + j) as u32)
                    .count() as u32
            })
            .collect();
        let mut pits = 0;
        for f in first.iter_mut() {
            (*f, pits) = (pits + 1, pits + *f);
        }
        down.par_chunks_mut(band)
            .zip(&first)
            .enumerate()
            .for_each(|(t, (chunk, &first))| {
                let mut pit = first;
                for (j, d) in chunk.iter_mut().enumerate() {
                    if *d == (t * band + j) as u32 {
                        *d = PIT | pit;
                        pit += 1;
                    }
                }
            });
        // Every cell takes the label at the end of its descent. A band labels its own
        // cells, remembering them on the way; a descent that leaves the band follows
        // `down` alone.
        let mut label = vec![NONE; n];
        let descent = &down;
        label
            .par_chunks_mut(band)
            .enumerate()
            .for_each(|(t, chunk)| {
                let start = t * band;
                let own = start..start + chunk.len();
                let mut path = Vec::new();
                for j in 0..chunk.len() {
                    if chunk[j] != NONE || self.z[start + j].is_nan() {
                        continue;
                    }
                    let mut k = start + j;
                    let l = loop {
                        let d = descent[k];
                        if d == NONE {
                            break OCEAN;
                        }
                        if d & PIT != 0 {
                            break d & !PIT;
                        }
                        if own.contains(&k) {
                            let known = chunk[k - start];
                            if known != NONE {
                                break known;
                            }
                            path.push(k - start);
                        }
                        k = d as usize;
                    };
                    if own.contains(&k) {
                        chunk[k - start] = l;
                    }
                    for &p in &path {
                        chunk[p] = l;
                    }
                    path.clear();
                }
            });
        (label, pits, down)
    }

    /// For each cell, the rims it forms to other basins (see `rims_of`).
    fn rims(&self, label: &[u32], mut across: Vec<u32>) -> Vec<u32> {
        self.par_cells(&mut across, |i, r, c, out| {
            *out = if self.z[i].is_nan() {
                0
            } else {
                self.rims_of(label, i, r, c)
            };
        });
        across
    }

    /// The rims cell `i` (at row `r`, column `c`) forms to other basins: its
    /// neighbours that come before it in the sweep and drain elsewhere, lowest first,
    /// one per basin. Packed as a count (low 4 bits) and 3-bit directions into
    /// `NEIGHBOURS_8`.
    #[inline]
    fn rims_of(&self, label: &[u32], i: usize, r: usize, c: usize) -> u32 {
        let (zi, li) = (self.z[i], label[i]);
        // which neighbours are rims
        let mut rims = 0u32;
        if self.interior(r, c) {
            // (integer compares, no branches: on rough terrain each is a coin toss;
            // the first four neighbours have smaller indices, so ties count)
            let kz = sweep_key(zi);
            for (b, &s) in self.step.iter().enumerate() {
                let k = (i as isize + s) as usize;
                let zk = self.z[k];
                let earlier = if b < 4 {
                    sweep_key(zk) <= kz
                } else {
                    sweep_key(zk) < kz
                };
                let rim = earlier & !zk.is_nan() & (label[k] != li);
                rims |= (rim as u32) << b;
            }
        } else {
            for (b, &(dr, dc)) in NEIGHBOURS_8.iter().enumerate() {
                let (r2, c2) = (r as isize + dr, c as isize + dc);
                if r2 < 0 || c2 < 0 || r2 >= self.rows as isize || c2 >= self.cols as isize {
                    continue;
                }
                let k = (i as isize + self.step[b]) as usize;
                let zk = self.z[k];
                let earlier = (zk.total_cmp(&zi).then(k.cmp(&i))).is_lt();
                rims |= ((earlier & !zk.is_nan() & (label[k] != li)) as u32) << b;
            }
        }
        if rims == 0 {
            return 0;
        }
        // the rims in sweep order, one per basin
        let mut found = [0u128; 8];
        let mut count = 0;
        while rims != 0 {
            let b = rims.trailing_zeros();
            rims &= rims - 1;
            let k = (i as isize + self.step[b as usize]) as usize;
            // (elevation key, cell, direction)
            found[count] = (sweep_key(self.z[k]) as u128) << 64 | (k as u128) << 3 | b as u128;
            count += 1;
        }
        let found = &mut found[..count];
        match count {
            1 => {}
            2 => {
                let (a, b) = (found[0], found[1]);
                (found[0], found[1]) = (a.min(b), a.max(b));
            }
            _ => found.sort_unstable(),
        }
        let mut packed = 0u32;
        let mut kept = 0;
        for n in 0..count {
            let k = (found[n] as u64 >> 3) as usize;
            if found[..n]
                .iter()
                .any(|&f| label[(f as u64 >> 3) as usize] == label[k])
            {
                continue;
            }
            packed |= (found[n] as u32 & 7) << (4 + 3 * kept);
            kept += 1;
        }
        packed | kept
    }

    /// The cells with data, with their basins and rims (`across`), binned by the top digit of
    /// their elevation bucket (a parallel counting sort over the raster in cell order;
    /// within a bin, cells stay in index order).
    fn bins(&self, label: &[u32], across: &[u32]) -> Bins {
        let (lo, hi) = self
            .z
            .par_chunks(1 << 16)
            .map(|c| {
                c.iter()
                    .filter(|v| !v.is_nan())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    })
            })
            .reduce(
                || (f64::INFINITY, f64::NEG_INFINITY),
                |(a, b), (c, d)| (a.min(c), b.max(d)),
            );
        let top = (BUCKETS - 1) as f64;
        let scale = if hi > lo { top / (hi - lo) } else { 0.0 };
        let bin = |v: f64| bucket(v, lo, scale) >> RADIX_BITS;
        let part = self
            .z
            .len()
            .div_ceil(rayon::current_num_threads().max(1) * 4)
            .max(1 << 14);
        let counts: Vec<Vec<u32>> = self
            .z
            .par_chunks(part)
            .map(|c| {
                let mut count = vec![0u32; RADIX];
                for &v in c.iter().filter(|v| !v.is_nan()) {
                    count[bin(v)] += 1;
                }
                count
            })
            .collect();
        let total = counts.iter().flatten().map(|&c| c as usize).sum();
        let mut cells = vec![SweptCell::default(); total];
        // each bin's cells, split by input slice in order (so the result is unique,
        // whatever the threads)
        let mut start = vec![0; RADIX + 1];
        let mut runs: Vec<Vec<&mut [SweptCell]>> =
            counts.iter().map(|_| Vec::with_capacity(RADIX)).collect();
        let mut rest: &mut [SweptCell] = &mut cells;
        let mut at = 0;
        for (d, first) in start.iter_mut().enumerate().take(RADIX) {
            *first = at;
            for (t, count) in counts.iter().enumerate() {
                let (run, tail) = rest.split_at_mut(count[d] as usize);
                runs[t].push(run);
                rest = tail;
                at += count[d] as usize;
            }
        }
        start[RADIX] = at;
        self.z
            .par_chunks(part)
            .zip(runs)
            .enumerate()
            .for_each(|(t, (c, mut runs))| {
                let mut next = vec![0usize; RADIX];
                let first = t * part;
                for (j, &v) in c.iter().enumerate() {
                    if !v.is_nan() {
                        let i = first + j;
                        let k = bucket(v, lo, scale);
                        let d = k >> RADIX_BITS;
                        runs[d][next[d]] = SweptCell {
                            z_bits: v.to_bits(),
                            basin_cell: (label[i] as u64) << 32 | i as u64,
                            rims: across[i],
                            low: (k & (RADIX - 1)) as u32,
                        };
                        next[d] += 1;
                    }
                }
            });
        Bins { cells, start }
    }
}

/// The cell's elevation bucket, `0..BUCKETS` (monotone in elevation).
#[inline]
fn bucket(z: f64, lo: f64, scale: f64) -> usize {
    (((z - lo) * scale) as usize).min(BUCKETS - 1)
}

/// A cell with data as the sweep takes it.
#[derive(Clone, Copy, Default)]
#[repr(C, packed(4))]
struct SweptCell {
    /// Elevation (`f64` bits).
    z_bits: u64,
    /// `basin << 32 | cell`.
    basin_cell: u64,
    /// Its rims, as `Raster::rims_of` packs them.
    rims: u32,
    /// The low digit of its elevation bucket.
    low: u32,
}

impl SweptCell {
    #[inline]
    fn z(&self) -> f64 {
        f64::from_bits(self.z_bits)
    }

    #[inline]
    fn basin(&self) -> u32 {
        (self.basin_cell >> 32) as u32
    }

    #[inline]
    fn cell(&self) -> u32 {
        self.basin_cell as u32
    }

    /// Whether `self` comes before `other` in the sweep: (elevation, index) order.
    #[inline]
    fn before(&self, other: &SweptCell) -> bool {
        self.z()
            .total_cmp(&other.z())
            .then(self.cell().cmp(&other.cell()))
            .is_lt()
    }
}

/// Cells with data binned by the top digit of their elevation bucket.
struct Bins {
    /// Bin after bin.
    cells: Vec<SweptCell>,
    /// Where each bin starts in `cells`, and where the last ends.
    start: Vec<usize>,
}

/// Puts each bin in exact sweep order (a counting sort by the bucket's low digit, then
/// an insertion sort, as cells are out of order only within a bucket), bin after bin,
/// handing each finished block of at least `BLOCK` cells to `sweep`.
fn sort_bins<'o>(
    mut cells: &'o mut [SweptCell],
    start: &[usize],
    sweep: std::sync::mpsc::Sender<&'o [SweptCell]>,
) {
    let mut count = vec![0u32; RADIX];
    let mut sorted = Vec::new();
    let mut filled = 0;
    for d in 0..RADIX {
        let m = start[d + 1] - start[d];
        let bin = &mut cells[filled..filled + m];
        // (a small bin is cheaper to insertion-sort alone than to count)
        if m > 64 {
            // by the low digit (stable: index order within a bucket)
            count.fill(0);
            for c in bin.iter() {
                count[c.low as usize] += 1;
            }
            let mut at = 0;
            for n in count.iter_mut() {
                (*n, at) = (at, at + *n);
            }
            sorted.clear();
            sorted.resize(m, SweptCell::default());
            for c in bin.iter() {
                let l = c.low as usize;
                sorted[count[l] as usize] = *c;
                count[l] += 1;
            }
            insertion_sort(&mut sorted);
            bin.copy_from_slice(&sorted);
        } else {
            insertion_sort(bin);
        }
        filled += m;
        if filled >= BLOCK || (d == RADIX - 1 && filled > 0) {
            let (block, rest) = std::mem::take(&mut cells).split_at_mut(filled);
            cells = rest;
            filled = 0;
            if sweep.send(block).is_err() {
                return; // the sweep has stopped (it panicked)
            }
        }
    }
}

/// Insertion sort into sweep order (fast when cells are nearly in order).
fn insertion_sort(cells: &mut [SweptCell]) {
    for j in 1..cells.len() {
        let c = cells[j];
        let mut at = j;
        while at > 0 && c.before(&cells[at - 1]) {
            cells[at] = cells[at - 1];
            at -= 1;
        }
        cells[at] = c;
    }
}

/// The depression hierarchy: leaves are basins (0 the ocean, 1.. the pits), each inner
/// node the join of two groups of basins at their lowest rim, numbered in the order
/// the rims were met (so by rising level). The sweep grows it while the settling reads
/// the nodes made so far (hence atomics; on x86 their loads and stores are plain ones).
struct MergeTree {
    /// Basins, the ocean included: nodes `0..leaves` are the leaves.
    leaves: usize,
    /// Nodes made so far, leaves included (published by the sweep block by block).
    made: AtomicUsize,
    /// `WAITING`, `SWEEPING` or `SWEPT`.
    state: AtomicU8,
    /// Node each node joins (NONE for the root).
    up: Vec<AtomicU32>,
    /// The other node joined with it there.
    sibling: Vec<AtomicU32>,
    /// For an inner node: the level of the rim where its two children met (`f64` bits).
    rim: Vec<AtomicU64>,
    /// Volume a node holds up to the rim where it joins its sibling (m of depth × cells,
    /// `f64` bits).
    capacity: Vec<AtomicU64>,
    /// The basin that a node's overflow runs into: the far side of its rim.
    spills_into: Vec<AtomicU32>,
    /// The two nodes each inner node joins (inner node `leaves + j` at `kids[j]`).
    kids: Vec<[AtomicU32; 2]>,
}

const WAITING: u8 = 0;
const SWEEPING: u8 = 1;
const SWEPT: u8 = 2;

impl MergeTree {
    /// Room for the leaves and the at most `leaves - 1` joins.
    fn new(pits: u32) -> MergeTree {
        let leaves = pits as usize + 1;
        let most = 2 * leaves;
        let u32s = |v: u32| {
            (0..most)
                .into_par_iter()
                .map(|_| AtomicU32::new(v))
                .collect()
        };
        let f64s = |v: f64| {
            (0..most)
                .into_par_iter()
                .map(|_| AtomicU64::new(v.to_bits()))
                .collect()
        };
        MergeTree {
            leaves,
            made: AtomicUsize::new(leaves),
            state: AtomicU8::new(WAITING),
            up: u32s(NONE),
            sibling: u32s(NONE),
            rim: f64s(f64::NAN),
            capacity: f64s(0.0),
            spills_into: u32s(NONE),
            kids: (0..leaves)
                .into_par_iter()
                .map(|_| [AtomicU32::new(NONE), AtomicU32::new(NONE)])
                .collect(),
        }
    }

    /// Nodes made so far.
    fn nodes(&self) -> usize {
        self.made.load(Acquire)
    }

    fn up(&self, x: u32) -> u32 {
        self.up[x as usize].load(Relaxed)
    }

    fn sibling(&self, x: u32) -> u32 {
        self.sibling[x as usize].load(Relaxed)
    }

    fn rim(&self, x: u32) -> f64 {
        f64::from_bits(self.rim[x as usize].load(Relaxed))
    }

    fn capacity(&self, x: u32) -> f64 {
        f64::from_bits(self.capacity[x as usize].load(Relaxed))
    }

    fn spills_into(&self, x: u32) -> u32 {
        self.spills_into[x as usize].load(Relaxed)
    }

    fn kids(&self, p: u32) -> [u32; 2] {
        let k = &self.kids[p as usize - self.leaves];
        [k[0].load(Relaxed), k[1].load(Relaxed)]
    }

    /// Joins basins in sweep order; `blocks` bring the cells in that order.
    fn sweep<'o>(
        &self,
        raster: &Raster,
        label: &[u32],
        blocks: impl IntoIterator<Item = &'o [SweptCell]>,
    ) {
        self.state.store(SWEEPING, Release);
        let leaves = self.leaves;
        let mut made = leaves;
        // union–find over basins (the parent links alone, small enough to stay in
        // cache); at each group's root, its tree node and the cells passed so far
        let mut parent: Vec<u32> = (0..leaves as u32).collect();
        let mut node: Vec<u32> = parent.clone();
        let mut passed = vec![Passed::default(); leaves];
        let cols = raster.cols;
        const AHEAD: usize = 24;
        for block in blocks {
            for (j, c) in block.iter().enumerate() {
                if let Some(c) = block.get(j + 2 * AHEAD) {
                    prefetch(&parent[c.basin() as usize]);
                }
                if let Some(c) = block.get(j + AHEAD) {
                    // its group's counters, and the labels around it if it is a rim
                    prefetch(&passed[parent[c.basin() as usize] as usize]);
                    if c.rims != 0 {
                        let k = c.cell() as usize;
                        prefetch(&label[k - cols.min(k)]);
                        prefetch(&label[k]);
                        prefetch(&label[(k + cols).min(label.len() - 1)]);
                    }
                }
                let (cell, li, rims, zi) = (c.cell(), c.basin(), c.rims, c.z());
                let mut ra = root(&mut parent, li);
                for n in 0..rims & 0xf {
                    let b = ((rims >> (4 + 3 * n)) & 7) as usize;
                    let lk = label[(cell as isize + raster.step[b]) as usize];
                    let rb = root(&mut parent, lk);
                    if ra == rb {
                        continue;
                    }
                    // a new node joining the group of `li` (a) and the group of `lk` (b)
                    // at zi
                    let (pa, pb) = (passed[ra as usize], passed[rb as usize]);
                    let (na, nb) = (node[ra as usize], node[rb as usize]);
                    let p = made as u32;
                    made += 1;
                    for (x, y, g, into) in [(na, nb, pa, lk), (nb, na, pb, li)] {
                        let x = x as usize;
                        self.up[x].store(p, Relaxed);
                        self.sibling[x].store(y, Relaxed);
                        let capacity = g.cells as f64 * zi - g.sum_z;
                        self.capacity[x].store(capacity.to_bits(), Relaxed);
                        self.spills_into[x].store(into, Relaxed);
                    }
                    self.rim[p as usize].store(zi.to_bits(), Relaxed);
                    let kids = &self.kids[p as usize - leaves];
                    kids[0].store(na, Relaxed);
                    kids[1].store(nb, Relaxed);
                    // union by number of cells passed
                    let (big, small) = if pa.cells >= pb.cells {
                        (ra, rb)
                    } else {
                        (rb, ra)
                    };
                    parent[small as usize] = big;
                    passed[big as usize] = Passed {
                        cells: pa.cells + pb.cells,
                        sum_z: pa.sum_z + pb.sum_z,
                    };
                    node[big as usize] = p;
                    ra = big;
                }
                passed[ra as usize].cells += 1;
                passed[ra as usize].sum_z += zi;
            }
            self.made.store(made, Release);
        }
        self.made.store(made, Release);
        self.state.store(SWEPT, Release);
    }
}

/// Cells a group of basins has passed in the sweep, and the sum of their elevations.
#[derive(Clone, Copy, Default)]
struct Passed {
    cells: u32,
    sum_z: f64,
}

/// Asks the CPU to start loading `x` (the sweep visits groups in no spatial order).
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            x as *const T as *const i8,
        )
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Root of `x` in a union–find of parent links, halving the path on the way.
fn root(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

/// The lakes once the water has settled: which tree nodes hold water together, and
/// which overflow.
struct Lakes {
    /// Water in a lake (a node whose children have merged, or a basin).
    water: Vec<f64>,
    /// Union–find toward the lake a node has merged into.
    merged: Vec<u32>,
    /// Whether the node is a lake of its own (a basin, or both children merged).
    formed: Vec<bool>,
    /// Where a full lake's overflow goes: a basin (follow `merged` from it), or `OCEAN`.
    spill: Vec<u32>,
}

/// Fill, spill and merge in order of rims, resumable: it can follow the sweep.
struct Settling {
    lakes: Lakes,
    /// The next inner node whose rim is to be settled.
    next: usize,
    /// Lakes that gained water after their rim was passed, by rim.
    again: BinaryHeap<Reverse<(u32, u32)>>,
    chain: Vec<u32>,
    /// Water that left the raster.
    outflow: f64,
}

impl Settling {
    /// Before any rim: each basin holds its rain (`water`, one per basin); `outflow`
    /// has left already.
    fn new(tree: &MergeTree, mut water: Vec<f64>, outflow: f64) -> Settling {
        let (most, leaves) = (tree.up.len(), tree.leaves);
        water.resize(most, 0.0);
        Settling {
            lakes: Lakes {
                water,
                merged: (0..most as u32).collect(),
                formed: (0..most)
                    .map(|x| x < leaves && x != OCEAN as usize)
                    .collect(),
                spill: vec![NONE; most],
            },
            next: leaves,
            again: BinaryHeap::new(),
            chain: Vec::new(),
            outflow,
        }
    }

    /// Settles the rims of inner nodes up to `made` (exclusive), in the order the sweep
    /// met them; a lake that gains water after its rim was passed is looked at again
    /// before the next rim.
    fn advance(&mut self, tree: &MergeTree, made: usize) {
        for p in self.next as u32..made as u32 {
            for x in tree.kids(p) {
                let (lakes, again, chain) = (&mut self.lakes, &mut self.again, &mut self.chain);
                lakes.look(tree, (x, p), p, &mut self.outflow, again, chain);
                while let Some(&Reverse((q, y))) = again.peek() {
                    if q > p {
                        break;
                    }
                    again.pop();
                    lakes.look(tree, (y, q), p, &mut self.outflow, again, chain);
                }
            }
        }
        self.next = self.next.max(made);
    }

    /// Settles the nodes as the sweep makes them, if the sweep is running on another
    /// thread; if it has not started, leaves them for later (waiting for a sweep that
    /// may be queued behind this very task would never end).
    fn follow(&mut self, tree: &MergeTree) {
        if tree.state.load(Acquire) == WAITING {
            return;
        }
        loop {
            let swept = tree.state.load(Acquire) == SWEPT;
            let made = tree.nodes();
            if made > self.next {
                self.advance(tree, made);
            } else if swept {
                return;
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

impl Lakes {
    /// Looks at lake `x` at its rim `p` (the node it joins there): if it holds more
    /// than it can, it merges with the other side or spills into it. `now` is the
    /// rim the settling has reached: a lake whose rim lies behind it that gains water
    /// goes into `again`.
    fn look(
        &mut self,
        tree: &MergeTree,
        (x, p): (u32, u32),
        now: u32,
        outflow: &mut f64,
        again: &mut BinaryHeap<Reverse<(u32, u32)>>,
        chain: &mut Vec<u32>,
    ) {
        let tol = |v: f64| 1e-12 * v.abs().max(1.0);
        let xu = x as usize;
        if !self.formed[xu] || self.merged[xu] != x || self.spill[xu] != NONE {
            return;
        }
        let cap = tree.capacity(x);
        if self.water[xu] <= cap + tol(cap) {
            return; // not full: waits for more water
        }
        let excess = self.water[xu] - cap;
        let s = tree.sibling(x) as usize;
        // (the ocean's side is never a lake: the leaf is not one, nor is a join with it)
        let sibling_full = self.formed[s]
            && self.merged[s] == s as u32
            && (self.spill[s] != NONE || {
                let cap = tree.capacity(s as u32);
                self.water[s] >= cap - tol(cap)
            });
        if sibling_full {
            // both stand at the rim: one lake from now on, looked at when the settling
            // reaches its own rim — or at once, if the settling is already past that
            // rim (a lake formed from `again`, behind `now`: it would never be looked
            // at and stand above its spill point)
            self.merged[xu] = p;
            self.merged[s] = p;
            self.formed[p as usize] = true;
            self.water[p as usize] = self.water[xu] + self.water[s];
            let up = tree.up(p);
            if up != NONE && up <= now {
                again.push(Reverse((up, p)));
            }
            return;
        }
        // over the rim, and on down the spill chain to the first lake that is not
        // full (or off the raster)
        self.water[xu] = cap;
        let mut t = tree.spills_into(x);
        chain.clear();
        loop {
            t = root(&mut self.merged, t);
            if t == OCEAN || self.spill[t as usize] == OCEAN {
                *outflow += excess;
                t = OCEAN;
                break;
            }
            match self.spill[t as usize] {
                NONE => {
                    self.water[t as usize] += excess;
                    let up = tree.up(t);
                    if up != NONE && up <= now {
                        again.push(Reverse((up, t)));
                    }
                    break;
                }
                next => {
                    chain.push(t);
                    t = next;
                }
            }
        }
        // Shortcut the chain: every full lake on it passes water straight to the
        // end (a full lake that later merges does so exactly at its rim, still
        // passing everything on — so the shortcut stays true).
        for &c in chain.iter() {
            self.spill[c as usize] = t;
        }
        self.spill[xu] = if chain.is_empty() && t != OCEAN {
            tree.spills_into(x)
        } else {
            t
        };
    }

    /// Water level of each basin's lake. A full lake stands at its rim; the others
    /// where their cells, taken lowest first, hold their water.
    fn levels(mut self, tree: &MergeTree, order: &[SweptCell]) -> Vec<f64> {
        let mut lake_of = vec![NONE; tree.leaves];
        let mut level = vec![f64::NAN; tree.nodes()];
        for (b, slot) in lake_of.iter_mut().enumerate().skip(1) {
            let r = root(&mut self.merged, b as u32);
            *slot = r;
            let ru = r as usize;
            if self.spill[ru] != NONE {
                level[ru] = tree.rim(tree.up(r));
            }
        }
        // A lake that does not spill stands no higher than its rim: cells above the
        // highest such rim need no look (on gentle terrain, most of them).
        let mut highest = f64::NEG_INFINITY;
        for &r in &lake_of[1..] {
            if level[r as usize].is_nan() {
                let up = tree.up(r);
                highest = highest.max(if up == NONE {
                    f64::INFINITY
                } else {
                    tree.rim(up)
                });
            }
        }
        let mut cells = vec![0u32; tree.nodes()];
        let mut sum_z = vec![0.0f64; tree.nodes()];
        for c in order {
            if c.z() > highest {
                break;
            }
            let b = c.basin();
            if b == OCEAN {
                continue;
            }
            let r = lake_of[b as usize] as usize;
            if !level[r].is_nan() {
                continue;
            }
            let (zi, k, w) = (c.z(), cells[r] as f64, self.water[r]);
            if k * zi - sum_z[r] >= w {
                // the water stands below this cell
                level[r] = if cells[r] == 0 {
                    zi
                } else {
                    (w + sum_z[r]) / k
                };
                continue;
            }
            cells[r] += 1;
            sum_z[r] += zi;
        }
        for r in 0..tree.nodes() {
            if level[r].is_nan() && cells[r] > 0 {
                level[r] = (self.water[r] + sum_z[r]) / cells[r] as f64;
            }
        }
        lake_of
            .iter()
            .map(|&r| {
                if r == NONE {
                    f64::NAN
                } else {
                    level[r as usize]
                }
            })
            .collect()
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

    /// Rough terrain with many nested depressions (seeded).
    fn rough(cols: usize, rows: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..cols * rows)
            .map(|i| {
                let (r, c) = ((i / cols) as f64, (i % cols) as f64);
                (r / 5.0).sin() * 3.0 + (c / 7.0).cos() * 3.0 + rnd() * 2.0
            })
            .collect()
    }

    #[test]
    fn nested_basins_and_a_chain_of_spills_conserve_volume() {
        // Volume is conserved and the water is at rest.
        let (cols, rows) = (60, 50);
        let z = rough(cols, rows, 3);
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

    #[test]
    fn agrees_with_the_priority_flood_implementation() {
        // The first implementation (a priority flood from every pit with a table of
        // rims between each pair of depressions, lakes with per-lake heaps of cells) is
        // kept as an independent oracle: a different labelling and a different way to
        // find rims and volumes must give the same water, cell by cell.
        // (the last terrain has one 5 km spike: the rest of the relief falls in a few
        // bins of the sort, which then order many cells by their low digit)
        for (seed, cols, rows) in [(3u64, 60, 50), (7, 41, 97), (11, 128, 64), (13, 90, 70)] {
            let mut z = rough(cols, rows, seed);
            if seed == 13 {
                z[cols * 5 + 5] = 5000.0;
            }
            // a few holes of no data, and a flat terrace
            for i in (seed as usize..z.len()).step_by(397) {
                z[i] = f64::NAN;
            }
            for v in z.iter_mut().skip(cols * 3).take(cols / 2) {
                *v = 1.25;
            }
            let d = Dem::new(cols, rows, 0.0, rows as f64, 1.0, z.clone());
            for rain in [0.005, 0.05, 0.5, 3.0] {
                let rain: Vec<f64> = (0..z.len()).map(|i| rain * (1 + i % 3) as f64).collect();
                let f = fill_spill_merge(&d, &rain, 2.0);
                let o = oracle::fill_spill_merge(&d, &rain, 2.0);
                conserved(&f);
                assert!((f.rain_m3 - o.rain_m3).abs() < 1e-9 * o.rain_m3);
                assert!(
                    (f.outflow_m3 - o.outflow_m3).abs() < 1e-9 * o.rain_m3,
                    "seed {seed}: out {} vs {}",
                    f.outflow_m3,
                    o.outflow_m3
                );
                for i in 0..z.len() {
                    assert!(
                        (f.depth[i] - o.depth[i]).abs() < 1e-9,
                        "seed {seed} cell {i}: {} vs {}",
                        f.depth[i],
                        o.depth[i]
                    );
                }
            }
        }
    }

    #[test]
    fn a_lake_formed_late_still_spills_into_its_neighbour() {
        // Issue 15's smallest case: the two pits at 2.229 and 3.418 merge while the
        // settling is already past the rim at 6.42 that joins them to the pit at
        // 5.938; the merged lake must still be looked at there. Every interior cell
        // drains into the lake: 16 m³ over the cells at 2.229, 3.418, 5.938, 6.42 and
        // 0.26 (sum 18.265) stand at (16 + 18.265) / 5 = 6.853 m.
        let text = "ncols 6\nnrows 6\nxllcorner -34.9\nyllcorner -8.0\ncellsize 0.0001\n\
                    NODATA_value -9999\n\
                    19.978 19.978 19.978 19.978 19.978 19.978\n\
                    19.978 2.229 19.978 19.978 19.978 19.978\n\
                    19.978 3.418 19.978 5.938 19.978 19.978\n\
                    19.978 19.978 6.42 19.978 19.978 19.978\n\
                    19.978 19.978 0.26 19.978 19.978 19.978\n\
                    19.978 19.978 19.978 19.978 19.978 19.978\n";
        let d = Dem::from_asc(text, "issue15.asc").unwrap();
        let f = fill_spill_merge(&d, &[1.0; 36], 1.0);
        conserved(&f);
        let z = d.elevations();
        for (i, &zi) in z.iter().enumerate() {
            let want = if zi < 6.853 { 6.853 - zi } else { 0.0 };
            assert!(
                (f.depth[i] - want).abs() < 1e-9,
                "cell {i}: {} not {want}",
                f.depth[i]
            );
        }
        assert!((f.stored_m3 - 16.0).abs() < 1e-9);
    }

    #[test]
    fn thread_count_does_not_change_the_water() {
        let (cols, rows) = (300, 200);
        let d = Dem::new(cols, rows, 0.0, rows as f64, 1.0, rough(cols, rows, 5));
        let rain = vec![0.2; cols * rows];
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fill_spill_merge(&d, &rain, 1.0))
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.depth, b.depth);
        assert_eq!(a.stored_m3.to_bits(), b.stored_m3.to_bits());
        assert_eq!(a.outflow_m3.to_bits(), b.outflow_m3.to_bits());
    }
}
