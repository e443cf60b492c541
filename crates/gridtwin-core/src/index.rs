//! Spatial index of unit grids: which grid holds a point.
//!
//! An R-tree over grid envelopes narrows a point to a few candidates; an exact
//! point-in-polygon test decides. Boundary rule: a point on a boundary belongs to the
//! first candidate in code order that covers it (interior or boundary), so a point on
//! an edge shared by two grids goes to exactly one, deterministically.

use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rstar::{primitives::GeomWithData, RTree, AABB};

use crate::area::Area;

type Entry = GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>;

/// An index of polygons (usually unit grids) for point location.
pub struct GridIndex {
    tree: RTree<Entry>,
    polygons: Vec<MultiPolygon<f64>>,
}

impl GridIndex {
    /// Builds the index; `areas` order (sort by code first) decides boundary ties.
    pub fn new(areas: &[Area]) -> Self {
        let polygons: Vec<MultiPolygon<f64>> = areas.iter().map(|a| a.boundary.clone()).collect();
        let entries = polygons
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let r = p.bounding_rect()?;
                Some(GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [r.min().x, r.min().y],
                        [r.max().x, r.max().y],
                    ),
                    i,
                ))
            })
            .collect();
        GridIndex {
            tree: RTree::bulk_load(entries),
            polygons,
        }
    }

    /// Index (into the slice given to [`GridIndex::new`]) of the area holding the point.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Point::new(lon, lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .map(|e| e.data)
            .filter(|&i| self.polygons[i].intersects(&p))
            .min()
    }

    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::{CodeRule, Level};
    use geo::{polygon, MultiPolygon};

    fn square(code: &str, x0: f64, y0: f64) -> Area {
        let r = CodeRule::national();
        Area {
            code: r.parse_area(Level::Grid, code).unwrap(),
            name: code.into(),
            boundary: MultiPolygon(vec![polygon![
                (x: x0, y: y0), (x: x0 + 1.0, y: y0), (x: x0 + 1.0, y: y0 + 1.0), (x: x0, y: y0 + 1.0)
            ]]),
        }
    }

    #[test]
    fn locates_interior_edges_and_outside() {
        let grids = vec![
            square("31010100100101", 0.0, 0.0),
            square("31010100100102", 1.0, 0.0),
        ];
        let idx = GridIndex::new(&grids);
        assert_eq!(idx.locate(0.5, 0.5), Some(0));
        assert_eq!(idx.locate(1.5, 0.5), Some(1));
        assert_eq!(idx.locate(1.0, 0.5), Some(0)); // shared edge: first in order
        assert_eq!(idx.locate(2.0, 0.5), Some(1)); // outer boundary is inside
        assert_eq!(idx.locate(2.5, 0.5), None);
    }
}
