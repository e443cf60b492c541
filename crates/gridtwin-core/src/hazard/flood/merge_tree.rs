//! The depression hierarchy of fill–spill–merge: the sweep over the cells in
//! (elevation, index) order joins basins at their lowest rims with a union–find, and
//! each join is a node of the merge tree, with the volume each side holds up to it.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize};

use rayon::prelude::*;

use super::raster::{Raster, SweptCell};
use super::NONE;

/// The depression hierarchy: leaves are basins (0 the ocean, 1.. the pits), each inner
/// node the join of two groups of basins at their lowest rim, numbered in the order
/// the rims were met (so by rising level). The sweep grows it while the settling reads
/// the nodes made so far (hence atomics; on x86 their loads and stores are plain ones).
pub(super) struct MergeTree {
    /// Basins, the ocean included: nodes `0..leaves` are the leaves.
    pub(super) leaves: usize,
    /// Nodes made so far, leaves included (published by the sweep block by block).
    made: AtomicUsize,
    /// `WAITING`, `SWEEPING` or `SWEPT`.
    pub(super) state: AtomicU8,
    /// Node each node joins (NONE for the root).
    pub(super) up: Vec<AtomicU32>,
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

pub(super) const WAITING: u8 = 0;
const SWEEPING: u8 = 1;
pub(super) const SWEPT: u8 = 2;

impl MergeTree {
    /// Room for the leaves and the at most `leaves - 1` joins.
    pub(super) fn new(pits: u32) -> MergeTree {
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
    pub(super) fn nodes(&self) -> usize {
        self.made.load(Acquire)
    }

    pub(super) fn up(&self, x: u32) -> u32 {
        self.up[x as usize].load(Relaxed)
    }

    pub(super) fn sibling(&self, x: u32) -> u32 {
        self.sibling[x as usize].load(Relaxed)
    }

    pub(super) fn rim(&self, x: u32) -> f64 {
        f64::from_bits(self.rim[x as usize].load(Relaxed))
    }

    pub(super) fn capacity(&self, x: u32) -> f64 {
        f64::from_bits(self.capacity[x as usize].load(Relaxed))
    }

    pub(super) fn spills_into(&self, x: u32) -> u32 {
        self.spills_into[x as usize].load(Relaxed)
    }

    pub(super) fn kids(&self, p: u32) -> [u32; 2] {
        let k = &self.kids[p as usize - self.leaves];
        [k[0].load(Relaxed), k[1].load(Relaxed)]
    }

    /// Joins basins in sweep order; `blocks` bring the cells in that order.
    pub(super) fn sweep<'o>(
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
pub(super) fn root(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}
