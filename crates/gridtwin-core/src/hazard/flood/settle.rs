//! Fill, spill and merge on the merge tree: lakes overflow at their rims into the
//! basin beyond (or off the raster) and merge when both sides are full; then each
//! lake's water level.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use std::sync::atomic::Ordering::Acquire;

use super::merge_tree::{root, MergeTree, SWEPT, WAITING};
use super::raster::SweptCell;
use super::{NONE, OCEAN};

/// The lakes once the water has settled: which tree nodes hold water together, and
/// which overflow.
pub(super) struct Lakes {
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
pub(super) struct Settling {
    pub(super) lakes: Lakes,
    /// The next inner node whose rim is to be settled.
    next: usize,
    /// Lakes that gained water after their rim was passed, by rim.
    again: BinaryHeap<Reverse<(u32, u32)>>,
    chain: Vec<u32>,
    /// Water that left the raster.
    pub(super) outflow: f64,
}

impl Settling {
    /// Before any rim: each basin holds its rain (`water`, one per basin); `outflow`
    /// has left already.
    pub(super) fn new(tree: &MergeTree, mut water: Vec<f64>, outflow: f64) -> Settling {
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
    pub(super) fn advance(&mut self, tree: &MergeTree, made: usize) {
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
    pub(super) fn follow(&mut self, tree: &MergeTree) {
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
    pub(super) fn levels(mut self, tree: &MergeTree, order: &[SweptCell]) -> Vec<f64> {
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
