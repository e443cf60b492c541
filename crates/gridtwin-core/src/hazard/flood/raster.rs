//! The raster side of fill–spill–merge: each cell's basin (steepest descent to a pit
//! or off the raster), the rims it forms to other basins, and the cells put in sweep
//! order — (elevation, index) — by a two-digit counting sort of elevation buckets.

use rayon::prelude::*;

use super::{sweep_key, NONE, OCEAN, PIT, ROWS_PER_TASK};
use crate::dem::{Dem, NEIGHBOURS_8};

/// Bits of a digit of the elevation bucket: the top digit picks a bin of the sort, the
/// low one orders cells within it.
const RADIX_BITS: u32 = 12;
const RADIX: usize = 1 << RADIX_BITS;

/// Elevation buckets that the counting sorts order by (two digits); cells sharing a
/// bucket are then put in exact order (a bucket is a 16-millionth of the relief).
const BUCKETS: usize = 1 << (2 * RADIX_BITS);
/// Cells the sort hands to the sweep at a time (at least).
const BLOCK: usize = 1 << 15;

/// The DEM's cells with the (elevation, index) order that breaks ties.
pub(super) struct Raster<'a> {
    z: &'a [f64],
    pub(super) cols: usize,
    rows: usize,
    /// Index step to each of the 8 neighbours, in `NEIGHBOURS_8` order.
    pub(super) step: [isize; 8],
}

impl<'a> Raster<'a> {
    pub(super) fn new(dem: &'a Dem) -> Self {
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
    pub(super) fn basins(&self) -> (Vec<u32>, u32, Vec<u32>) {
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
    pub(super) fn rims(&self, label: &[u32], mut across: Vec<u32>) -> Vec<u32> {
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
    pub(super) fn bins(&self, label: &[u32], across: &[u32]) -> Bins {
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
pub(super) struct SweptCell {
    /// Elevation (`f64` bits).
    z_bits: u64,
    /// `basin << 32 | cell`.
    basin_cell: u64,
    /// Its rims, as `Raster::rims_of` packs them.
    pub(super) rims: u32,
    /// The low digit of its elevation bucket.
    low: u32,
}

impl SweptCell {
    #[inline]
    pub(super) fn z(&self) -> f64 {
        f64::from_bits(self.z_bits)
    }

    #[inline]
    pub(super) fn basin(&self) -> u32 {
        (self.basin_cell >> 32) as u32
    }

    #[inline]
    pub(super) fn cell(&self) -> u32 {
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
pub(super) struct Bins {
    /// Bin after bin.
    pub(super) cells: Vec<SweptCell>,
    /// Where each bin starts in `cells`, and where the last ends.
    pub(super) start: Vec<usize>,
}

/// Puts each bin in exact sweep order (a counting sort by the bucket's low digit, then
/// an insertion sort, as cells are out of order only within a bucket), bin after bin,
/// handing each finished block of at least `BLOCK` cells to `sweep`.
pub(super) fn sort_bins<'o>(
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
