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
    region: RTree<GeomWithData<Rectangle<[f64; 2]>, ()>>,
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
        let boxes = changed
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
        GridDiff {
            changed,
            region: RTree::bulk_load(boxes),
            old: Assigner::new(old, rule, LocatorOptions::default()),
            new: Assigner::new(new, rule, LocatorOptions::default()),
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
        let inside = self.full
            || self
                .region
                .locate_in_envelope_intersecting(&AABB::from_point([x, y]))
                .next()
                .is_some();
        inside.then(|| code_of(&self.new, x, y))
    }
}

fn code_of(asg: &Assigner, x: f64, y: f64) -> String {
    match asg.assign(x, y, None) {
        Location::Inside(g) => asg.codes(g).grid.clone(),
        _ => String::new(),
    }
}
