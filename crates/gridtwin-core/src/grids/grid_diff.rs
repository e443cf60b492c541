//! What a redraw changes: the grids added, removed or redrawn between two grid sets,
//! and, for a place, its grid before and after — re-testing only places inside the
//! changed grids' extents (elsewhere nothing can have moved).
//!
//! ```
//! use geo::{polygon, MultiPolygon};
//! use gridtwin_core::{grid_diff::GridDiff, Area, CodeRule};
//!
//! let rule = CodeRule::national();
//! let square = |code: &str, x: f64, w: f64| Area {
//!     code: rule.parse_area_any(code).unwrap(),
//!     name: String::new(),
//!     source_id: String::new(),
//!     boundary: MultiPolygon(vec![polygon![
//!         (x: x, y: 0.0), (x: x + w, y: 0.0), (x: x + w, y: 0.001), (x: x, y: 0.001)]]),
//! };
//! let old = vec![square("99010100100101", 0.0, 0.002)];
//! // split: the east half becomes grid 02
//! let new = vec![square("99010100100101", 0.0, 0.001), square("99010100100102", 0.001, 0.001)];
//! let d = GridDiff::new(&old, &new, &rule, false);
//! assert_eq!(d.changed, vec!["99010100100101", "99010100100102"]);
//! assert_eq!(d.old_grid(0.0015, 0.0005), "99010100100101");
//! assert_eq!(d.retest(0.0015, 0.0005).as_deref(), Some("99010100100102"));
//! assert_eq!(d.retest(5.0, 5.0), None); // outside every changed extent
//! ```

use std::collections::BTreeMap;

use geo::{BoundingRect, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::assign::Assigner;
use crate::locate::{Location, LocatorOptions};
use crate::{Area, CodeRule};

/// The difference between two grid sets.
pub struct GridDiff {
    /// Codes of the grids added, removed or redrawn, sorted.
    pub changed: Vec<String>,
    /// The old and new extents of the changed grids.
    region: Region,
    old: Assigner,
    new: Assigner,
    /// Re-test every place, not only those in the changed region.
    full: bool,
}

impl GridDiff {
    pub fn new(old: &[Area], new: &[Area], rule: &CodeRule, full: bool) -> Self {
        let by = |grids: &[Area]| -> BTreeMap<String, MultiPolygon<f64>> {
            grids
                .iter()
                .map(|g| (g.code.to_string(), g.boundary.clone()))
                .collect()
        };
        let (old_by, new_by) = (by(old), by(new));
        let mut changed: Vec<String> = old_by
            .keys()
            .chain(new_by.keys())
            .filter(|c| old_by.get(*c) != new_by.get(*c))
            .cloned()
            .collect();
        changed.sort();
        changed.dedup();
        let boxes: Vec<_> = changed
            .iter()
            .flat_map(|c| [old_by.get(c), new_by.get(c)])
            .flatten()
            .filter_map(|m| m.bounding_rect())
            .map(|r| {
                GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    (),
                )
            })
            .collect();
        // (the two locators are built side by side)
        let (old, new) = rayon::join(
            || Assigner::new(old, rule, LocatorOptions::default()),
            || Assigner::new(new, rule, LocatorOptions::default()),
        );
        GridDiff {
            changed,
            region: Region::new(boxes, RASTER_SIDE),
            old,
            new,
            full,
        }
    }

    /// The old grid of a place (empty: outside every old grid).
    pub fn old_grid(&self, x: f64, y: f64) -> String {
        code_of(&self.old, x, y)
    }

    /// The new grid of a place in the changed region (empty: outside every new grid);
    /// `None` for a place outside it, which keeps its grid.
    pub fn retest(&self, x: f64, y: f64) -> Option<String> {
        let inside = self.full || self.region.contains(x, y);
        inside.then(|| code_of(&self.new, x, y))
    }
}

type Extent = GeomWithData<Rectangle<[f64; 2]>, ()>;

/// The changed region: the old and new extents (closed boxes) of the changed grids.
/// A raster over their joint extent answers most places with one lookup — a cell no
/// extent touches is outside, a cell inside an extent is inside — and only places in
/// cells an extent's edge crosses are asked of the R-tree (a megacity's 12 M
/// components, 1 % of grids changed: the R-tree query was a fifth of `grids diff`).
struct Region {
    extents: RTree<Extent>,
    raster: Option<Raster>,
}

struct Raster {
    min: [f64; 2],
    max: [f64; 2],
    cell: [f64; 2],
    n: [usize; 2],
    /// A bit per cell: some extent touches it (most places fall in untouched cells,
    /// so this is the bitmap every place reads: 128 KB, where a byte per cell missed
    /// the cache on most of 12 M components),
    touched: Vec<u64>,
    /// and: it lies inside an extent.
    inside: Vec<u64>,
}

const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const EDGE: u8 = 2;
/// Cells per side of the raster at most.
const RASTER_SIDE: usize = 1024;

impl Region {
    /// The region of `extents`, with a raster of at most `side` × `side` cells.
    fn new(extents: Vec<Extent>, side: usize) -> Self {
        let raster = Raster::new(&extents, side.max(1));
        Region {
            extents: RTree::bulk_load(extents),
            raster,
        }
    }

    /// Whether (x, y) lies in a changed extent (its boundary included).
    fn contains(&self, x: f64, y: f64) -> bool {
        if let Some(r) = &self.raster {
            match r.at(x, y) {
                OUTSIDE => return false,
                INSIDE => return true,
                _ => {}
            }
        }
        self.extents
            .locate_in_envelope_intersecting(&AABB::from_point([x, y]))
            .next()
            .is_some()
    }
}

impl Raster {
    fn new(extents: &[Extent], side: usize) -> Option<Self> {
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        for e in extents {
            let (lo, hi) = (e.geom().lower(), e.geom().upper());
            for k in 0..2 {
                min[k] = min[k].min(lo[k]);
                max[k] = max[k].max(hi[k]);
            }
        }
        if !(0..2).all(|k| min[k].is_finite() && max[k].is_finite() && max[k] > min[k]) {
            return None;
        }
        let n = [side; 2];
        let cell = [0, 1].map(|k| (max[k] - min[k]) / n[k] as f64);
        let mut r = Raster {
            min,
            max,
            cell,
            n,
            touched: vec![0; (n[0] * n[1]).div_ceil(64)],
            inside: vec![0; (n[0] * n[1]).div_ceil(64)],
        };
        // A margin of a millionth of a cell on every test: a place's cell, computed
        // with rounding, always holds the place within it, so a cell marked outside
        // holds no place of an extent and one marked inside no place outside it.
        let tol = [0, 1].map(|k| cell[k] * 1e-6);
        for e in extents {
            let (lo, hi) = (e.geom().lower(), e.geom().upper());
            let first = [0, 1].map(|k| r.index(k, lo[k] - tol[k]));
            let last = [0, 1].map(|k| r.index(k, hi[k] + tol[k]));
            for j in first[1]..=last[1] {
                for i in first[0]..=last[0] {
                    let c0 = [i, j].map(|v| v as f64);
                    let inside = (0..2).all(|k| {
                        let a = min[k] + c0[k] * cell[k];
                        lo[k] <= a - tol[k] && a + cell[k] + tol[k] <= hi[k]
                    });
                    let c = j * n[0] + i;
                    r.touched[c / 64] |= 1 << (c % 64);
                    if inside {
                        r.inside[c / 64] |= 1 << (c % 64);
                    }
                }
            }
        }
        Some(r)
    }

    /// The cell column (k = 0) or row (k = 1) of coordinate `v`, clamped to the raster.
    fn index(&self, k: usize, v: f64) -> usize {
        let f = ((v - self.min[k]) / self.cell[k]).floor();
        (f.max(0.0) as usize).min(self.n[k] - 1)
    }

    /// What the raster knows of (x, y): outside the joint extent is outside.
    fn at(&self, x: f64, y: f64) -> u8 {
        if !(x >= self.min[0] && x <= self.max[0] && y >= self.min[1] && y <= self.max[1]) {
            // (NaN included: the R-tree decides)
            return if x.is_nan() || y.is_nan() {
                EDGE
            } else {
                OUTSIDE
            };
        }
        let c = self.index(1, y) * self.n[0] + self.index(0, x);
        if self.touched[c / 64] & (1 << (c % 64)) == 0 {
            OUTSIDE
        } else if self.inside[c / 64] & (1 << (c % 64)) != 0 {
            INSIDE
        } else {
            EDGE
        }
    }
}

fn code_of(asg: &Assigner, x: f64, y: f64) -> String {
    match asg.assign(x, y, None) {
        Location::Inside(g) => asg.codes(g).grid.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn extent(x: f64, y: f64, w: f64, h: f64) -> Extent {
        GeomWithData::new(Rectangle::from_corners([x, y], [x + w, y + h]), ())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// The raster answers as the R-tree alone does, for places anywhere: inside,
        /// outside, on an extent's edges and corners, just off them.
        #[test]
        fn the_raster_answers_as_the_extents_do(
            boxes in proptest::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.0f64..0.3, 0.0f64..0.3), 1..12),
            places in proptest::collection::vec((-0.1f64..1.4, -0.1f64..1.4, 0u8..6, 0usize..12), 1..200),
            b_side in 0u8..100,
        ) {
            let extents: Vec<Extent> = boxes.iter().map(|&(x, y, w, h)| extent(121.0 + x, 31.0 + y, w, h)).collect();
            let plain = RTree::bulk_load(extents.clone());
            // (a coarse raster: the same logic, quicker to build a thousand times)
            let region = Region::new(extents, 1 + b_side as usize);
            for &(x, y, snap, b) in &places {
                // snap to an edge, a corner, or the next float beside an edge
                let (bx, by, bw, bh) = boxes[b % boxes.len()];
                let (ex, ey) = (121.0 + bx + bw, 31.0 + by + bh);
                let (x, y) = match snap {
                    0 => (121.0 + bx, 31.0 + y),
                    1 => (ex, ey),
                    2 => (f64::from_bits(ex.to_bits() + 1), 31.0 + by),
                    3 => (121.0 + x, f64::from_bits((31.0 + by).to_bits() - 1)),
                    _ => (121.0 + x, 31.0 + y),
                };
                let want = plain.locate_in_envelope_intersecting(&AABB::from_point([x, y])).next().is_some();
                prop_assert_eq!(region.contains(x, y), want, "({}, {})", x, y);
            }
        }
    }

    #[test]
    fn the_raster_answers_most_places_alone() {
        // (the property above would hold with every cell an edge)
        let extents: Vec<Extent> = (0..100)
            .map(|i| {
                extent(
                    121.0 + (i % 10) as f64 * 0.1,
                    31.0 + (i / 10) as f64 * 0.1,
                    0.03,
                    0.03,
                )
            })
            .collect();
        let r = Region::new(extents, RASTER_SIDE).raster.unwrap();
        let ones = |v: &[u64]| v.iter().map(|w| w.count_ones() as usize).sum::<usize>();
        let (touched, inside) = (ones(&r.touched), ones(&r.inside));
        let edge = touched - inside;
        assert!(
            edge * 10 < r.n[0] * r.n[1] && inside > 0,
            "{edge} edge, {inside} inside"
        );
    }
}
