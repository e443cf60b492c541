//! Prepared polygons: point-in-polygon under gridtwin's boundary rule, fast enough to
//! run on the grid-edge cells of a batch assignment.
//!
//! **Boundary rule (half-open).** A point is inside a polygon when a ray from it
//! towards +x crosses the boundary an odd number of times, an edge counting when
//! `y_lo <= y < y_hi` and the point lies strictly west of it. Each edge is stored
//! once in a canonical orientation (lower end first), so two grids sharing an edge
//! compute the very same crossing. In a tiling this gives every point exactly one
//! grid: a point on an edge shared by two grids goes to the grid east of a
//! north–south edge and north of an east–west edge. A point on the outer boundary of
//! the grid set, which no grid takes by this rule, is handled by
//! [`PreparedPolygon::on_boundary`] (see [`crate::locate`]).
//!
//! ```
//! use geo::{polygon, MultiPolygon};
//! use gridtwin_core::prepared::PreparedPolygon;
//! let west = PreparedPolygon::new(&MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)]]));
//! let east = PreparedPolygon::new(&MultiPolygon(vec![polygon![(x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.)]]));
//! assert!(west.contains(0.5, 0.5));
//! // on the shared edge x = 1: the east grid takes it, the west one does not
//! assert!(east.contains(1.0, 0.5) && !west.contains(1.0, 0.5));
//! assert!(west.on_boundary(1.0, 0.5));
//! ```

use geo::{BoundingRect, MultiPolygon, Rect};

use crate::frame::EARTH_RADIUS_M;

/// An edge with its lower end first: (x_lo, y_lo, x_hi, y_hi), y_lo <= y_hi.
type Edge = [f64; 4];

/// A polygon (with holes, possibly multi-part) prepared for point tests.
#[derive(Debug, Clone)]
pub struct PreparedPolygon {
    /// Non-horizontal edges, for the crossing test.
    edges: Vec<Edge>,
    /// All edges, horizontal ones included, for boundary and distance tests.
    all: Vec<Edge>,
    bbox: Option<Rect<f64>>,
    /// Edge index: `bands` horizontal bands over the bbox, each listing the edges
    /// (indices into `edges`) that overlap it. Empty for small polygons.
    bands: Vec<Vec<u32>>,
    band_y0: f64,
    band_inv_h: f64,
}

/// Polygons with more edges than this get a band index.
const INDEX_FROM_EDGES: usize = 32;

/// Exact sign of the orientation of (edge start, edge end, point): > 0 left, 0 on.
#[inline]
fn orient(e: &Edge, x: f64, y: f64) -> f64 {
    robust::orient2d(
        robust::Coord { x: e[0], y: e[1] },
        robust::Coord { x: e[2], y: e[3] },
        robust::Coord { x, y },
    )
}

fn canonical(a: geo::Coord<f64>, b: geo::Coord<f64>) -> Edge {
    if (a.y, a.x) <= (b.y, b.x) {
        [a.x, a.y, b.x, b.y]
    } else {
        [b.x, b.y, a.x, a.y]
    }
}

impl PreparedPolygon {
    pub fn new(mp: &MultiPolygon<f64>) -> Self {
        let mut all = Vec::new();
        for p in mp {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    if l.start != l.end {
                        all.push(canonical(l.start, l.end));
                    }
                }
            }
        }
        let edges: Vec<Edge> = all.iter().copied().filter(|e| e[1] < e[3]).collect();
        let bbox = mp.bounding_rect();
        let mut prepared = PreparedPolygon {
            edges,
            all,
            bbox,
            bands: Vec::new(),
            band_y0: 0.0,
            band_inv_h: 0.0,
        };
        if let (Some(b), true) = (bbox, prepared.edges.len() > INDEX_FROM_EDGES) {
            let n = (prepared.edges.len() / 4).clamp(1, 256);
            let h = b.height() / n as f64;
            if h > 0.0 {
                prepared.band_y0 = b.min().y;
                prepared.band_inv_h = 1.0 / h;
                let mut bands = vec![Vec::new(); n];
                for (i, e) in prepared.edges.iter().enumerate() {
                    let lo = prepared.band_of(e[1]).min(n - 1);
                    let hi = prepared.band_of(e[3]).min(n - 1);
                    for band in &mut bands[lo..=hi] {
                        band.push(i as u32);
                    }
                }
                prepared.bands = bands;
            }
        }
        prepared
    }

    fn band_of(&self, y: f64) -> usize {
        ((y - self.band_y0) * self.band_inv_h).max(0.0) as usize
    }

    /// Bounding box of the polygon.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.bbox
    }

    /// Crossing edges (non-horizontal), canonical; the locator keeps them contiguous.
    pub(crate) fn crossing_edges(&self) -> &[Edge] {
        &self.edges
    }

    /// True when [`PreparedPolygon::contains`] uses the band index (many edges).
    pub(crate) fn is_banded(&self) -> bool {
        !self.bands.is_empty()
    }

    /// The half-open test over a slice of crossing edges.
    #[inline]
    pub(crate) fn contains_edges(edges: &[Edge], x: f64, y: f64) -> bool {
        let mut inside = false;
        for e in edges {
            inside ^= Self::crosses(e, x, y);
        }
        inside
    }

    /// The edge counts when it spans `y` (half-open) and the point is strictly west of
    /// it: strictly left of the upward edge, by Shewchuk's exact orientation predicate —
    /// so a point a hair's breadth off a boundary is decided exactly, not by rounding.
    #[inline]
    fn crosses(e: &Edge, x: f64, y: f64) -> bool {
        e[1] <= y && y < e[3] && orient(e, x, y) > 0.0
    }

    /// Inside under the half-open rule (see the module documentation).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let Some(b) = self.bbox else { return false };
        if x < b.min().x || x > b.max().x || y < b.min().y || y > b.max().y {
            return false;
        }
        let mut inside = false;
        if self.bands.is_empty() {
            for e in &self.edges {
                inside ^= Self::crosses(e, x, y);
            }
        } else {
            let band = self.band_of(y).min(self.bands.len() - 1);
            for &i in &self.bands[band] {
                inside ^= Self::crosses(&self.edges[i as usize], x, y);
            }
        }
        inside
    }

    /// True when the point lies exactly on the polygon's boundary.
    pub fn on_boundary(&self, x: f64, y: f64) -> bool {
        self.all.iter().any(|e| {
            let (minx, maxx) = (e[0].min(e[2]), e[0].max(e[2]));
            x >= minx
                && x <= maxx
                && y >= e[1]
                && y <= e[3]
                && (e[2] - e[0]) * (y - e[1]) == (e[3] - e[1]) * (x - e[0])
        })
    }

    /// Intersections of the horizontal line at `y` with the polygon's crossing edges,
    /// as x values (unsorted): between consecutive sorted pairs lies the inside.
    pub(crate) fn crossings_at(&self, y: f64, out: &mut Vec<f64>) {
        out.clear();
        for e in &self.edges {
            if e[1] <= y && y < e[3] {
                out.push(e[0] + (y - e[1]) * (e[2] - e[0]) / (e[3] - e[1]));
            }
        }
    }

    /// All edges (for rasterising the boundary).
    pub(crate) fn boundary_edges(&self) -> &[Edge] {
        &self.all
    }

    /// Distance in metres from a lon/lat point to the polygon (0 inside or on it),
    /// on a local equirectangular frame at the point — exact enough at the tens to
    /// hundreds of metres a nearest-grid search allows.
    pub fn distance_m(&self, lon: f64, lat: f64) -> f64 {
        if self.contains(lon, lat) || self.on_boundary(lon, lat) {
            return 0.0;
        }
        let ky = EARTH_RADIUS_M.to_radians();
        let kx = ky * lat.to_radians().cos();
        let mut best = f64::INFINITY;
        for e in &self.all {
            let (ax, ay) = ((e[0] - lon) * kx, (e[1] - lat) * ky);
            let (bx, by) = ((e[2] - lon) * kx, (e[3] - lat) * ky);
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (px, py) = (ax + t * dx, ay + t * dy);
            best = best.min((px * px + py * py).sqrt());
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, MultiPolygon};
    use proptest::prelude::*;

    fn star() -> MultiPolygon<f64> {
        // a concave polygon with a hole and many edges (so the band index is used)
        let n = 80;
        let outer: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 2 == 0 { 10.0 } else { 4.0 };
                (r * a.cos(), r * a.sin())
            })
            .collect();
        let hole = vec![(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
        MultiPolygon(vec![geo::Polygon::new(outer.into(), vec![hole.into()])])
    }

    proptest! {
        #[test]
        fn agrees_with_geo_off_the_boundary(x in -11.0f64..11.0, y in -11.0f64..11.0) {
            let mp = star();
            let p = PreparedPolygon::new(&mp);
            prop_assert!(!p.bands.is_empty());
            let pt = geo::Point::new(x, y);
            if !p.on_boundary(x, y) {
                prop_assert_eq!(p.contains(x, y), mp.contains(&pt));
            }
        }
    }

    #[test]
    fn distance_in_metres() {
        // a 0.01° square at the equator; a point 0.001° east of it is ~111 m away
        let sq = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 0.01, y: 0.), (x: 0.01, y: 0.01), (x: 0., y: 0.01)],
        ]);
        let p = PreparedPolygon::new(&sq);
        let d = p.distance_m(0.011, 0.005);
        assert!((d - 111.2).abs() < 0.5, "{d}");
        assert_eq!(p.distance_m(0.005, 0.005), 0.0);
        assert_eq!(p.distance_m(0.01, 0.005), 0.0);
    }
}
