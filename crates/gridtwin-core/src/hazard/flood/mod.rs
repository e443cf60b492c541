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
//! Files by step: `raster` (1, and the cells put in sweep order), `merge_tree` (2),
//! `settle` (3 and 4); this file runs them, sorting and settling beside the sweep.
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

use rayon::prelude::*;

use crate::dem::Dem;

mod merge_tree;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod props;
mod raster;
mod settle;
#[cfg(test)]
mod tests;

use merge_tree::MergeTree;
use raster::{sort_bins, Bins, Raster};
use settle::Settling;

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

/// Rows handed to one parallel task.
const ROWS_PER_TASK: usize = 32;

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
