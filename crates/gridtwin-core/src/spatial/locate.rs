//! Locating points in unit grids: a lattice cell cache over prepared polygons.
//!
//! The grid set's bounding box is covered by a regular lattice of cells (square in
//! metres, about [`LocatorOptions::cells_per_grid`] per grid). Each cell is
//! classified once, when the locator is built:
//! - **inside** one grid — no grid boundary touches the closed cell: any point there
//!   is answered with that grid, no polygon test;
//! - **empty** — no grid touches it: the point is outside every grid;
//! - **edge** — a boundary touches it: the few candidate grids are tested exactly
//!   with [`PreparedPolygon::contains`].
//!
//! Boundary cells are found by rasterising every edge conservatively (a cell is
//! marked when its closed extent may touch the edge), interiors by scanlines through
//! cell centres. Grids are prepared and rasterised in parallel and merged in grid
//! order, so the locator is the same at any thread count.
//!
//! The assignment rule: the half-open rule of [`crate::prepared`] decides; a point on a
//! boundary that no grid takes by it (the outer edge of the grid set) goes to the
//! first grid, in the order given, whose boundary holds it. Give grids sorted by code
//! and that is the lowest code.

use rayon::prelude::*;
use rstar::{primitives::GeomWithData, RTree, AABB};

use crate::area::Area;
use crate::frame::EARTH_RADIUS_M;
use crate::prepared::PreparedPolygon;

/// Tuning of the cell cache.
#[derive(Debug, Clone, Copy)]
pub struct LocatorOptions {
    /// Lattice cells per grid (more: fewer exact tests, more memory).
    pub cells_per_grid: f64,
    /// Upper bound on lattice cells (4 bytes each, plus candidate lists).
    pub max_cells: usize,
}

impl Default for LocatorOptions {
    fn default() -> Self {
        LocatorOptions {
            cells_per_grid: 64.0,
            max_cells: 32 << 20,
        }
    }
}

const EDGE: u32 = 0x8000_0000;

/// Finds the grid holding a point.
pub struct GridLocator {
    polygons: Vec<PreparedPolygon>,
    x0: f64,
    y0: f64,
    inv_w: f64,
    inv_h: f64,
    nx: usize,
    ny: usize,
    /// 0 = empty; 1..EDGE = inside grid (value − 1); EDGE | i = edge cell with list i.
    cells: Vec<u32>,
    list_start: Vec<u32>,
    lists: Vec<u32>,
    envelopes: RTree<GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, u32>>,
    /// Crossing edges of all small polygons, contiguous per grid: the exact test on an
    /// edge cell reads one short run of memory instead of chasing per-polygon
    /// allocations. `u32::MAX` marks a banded (large) polygon, tested through its index.
    flat_edges: Vec<[f64; 4]>,
    flat_start: Vec<u32>,
}

/// How a point was located.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Location {
    /// In grid `i` (index into the grids given).
    Inside(u32),
    /// Outside every grid; with a nearest search, the nearest grid and its distance.
    Nearest(u32, f64),
    Outside,
}

/// Cells touched by an edge, conservatively: rows its y-range covers, and in each
/// row the x-range of the edge clipped to the row's closed slab.
fn edge_cells(e: &[f64; 4], l: &Lattice, out: &mut Vec<u32>) {
    // Widen by a small fraction of a cell so cells whose border the edge runs along are
    // included on both sides.
    const EPS: f64 = 1e-6;
    let (ax, ay, bx, by) = (
        (e[0] - l.x0) * l.inv_w,
        (e[1] - l.y0) * l.inv_h,
        (e[2] - l.x0) * l.inv_w,
        (e[3] - l.y0) * l.inv_h,
    );
    let (ylo, yhi) = (ay.min(by), ay.max(by));
    let r0 = (ylo - EPS).floor().max(0.0) as usize;
    let r1 = ((yhi + EPS).floor() as usize).min(l.ny - 1);
    for r in r0..=r1 {
        let (s0, s1) = ((r as f64).max(ylo), ((r + 1) as f64).min(yhi));
        let x_at = |y: f64| {
            if by == ay {
                ax
            } else {
                ax + (y - ay) * (bx - ax) / (by - ay)
            }
        };
        let (xa, xb) = if by == ay {
            (ax.min(bx), ax.max(bx))
        } else {
            (x_at(s0).min(x_at(s1)), x_at(s0).max(x_at(s1)))
        };
        let c0 = (xa - EPS).floor().max(0.0) as usize;
        let c1 = ((xb + EPS).floor() as usize).min(l.nx - 1);
        for c in c0..=c1 {
            out.push((r * l.nx + c) as u32);
        }
    }
}

#[derive(Clone, Copy)]
struct Lattice {
    x0: f64,
    y0: f64,
    inv_w: f64,
    inv_h: f64,
    nx: usize,
    ny: usize,
}

/// Cells of one grid: boundary cells and interior cells.
fn rasterise(p: &PreparedPolygon, l: &Lattice) -> (Vec<u32>, Vec<u32>) {
    let mut edge = Vec::new();
    for e in p.boundary_edges() {
        edge_cells(e, l, &mut edge);
    }
    edge.sort_unstable();
    edge.dedup();
    let mut inside = Vec::new();
    let Some(b) = p.bbox() else {
        return (edge, inside);
    };
    let r0 = (((b.min().y - l.y0) * l.inv_h).floor().max(0.0)) as usize;
    let r1 = ((((b.max().y - l.y0) * l.inv_h).floor()) as usize).min(l.ny - 1);
    let mut xs = Vec::new();
    for r in r0..=r1 {
        let yc = l.y0 + (r as f64 + 0.5) / l.inv_h;
        p.crossings_at(yc, &mut xs);
        xs.sort_by(|a, b| a.total_cmp(b));
        for pair in xs.chunks_exact(2) {
            // cells whose centre lies in [pair0, pair1)
            let c0 = ((pair[0] - l.x0) * l.inv_w - 0.5).ceil().max(0.0) as usize;
            let c1 = (((pair[1] - l.x0) * l.inv_w - 0.5).ceil() as isize).min(l.nx as isize);
            for c in c0..c1.max(0) as usize {
                let cell = (r * l.nx + c) as u32;
                if edge.binary_search(&cell).is_err() {
                    inside.push(cell);
                }
            }
        }
    }
    (edge, inside)
}

fn flatten(polygons: &[PreparedPolygon]) -> (Vec<[f64; 4]>, Vec<u32>) {
    let mut edges = Vec::new();
    let mut start = Vec::with_capacity(polygons.len() + 1);
    for p in polygons {
        start.push(edges.len() as u32);
        if !p.is_banded() {
            edges.extend_from_slice(p.crossing_edges());
        }
    }
    start.push(edges.len() as u32);
    (edges, start)
}

impl GridLocator {
    /// Half-open test of grid `g`, on the contiguous edges when it has few.
    #[inline]
    fn contains(&self, g: u32, x: f64, y: f64) -> bool {
        let (a, b) = (
            self.flat_start[g as usize] as usize,
            self.flat_start[g as usize + 1] as usize,
        );
        if a == b {
            return self.polygons[g as usize].contains(x, y);
        }
        PreparedPolygon::contains_edges(&self.flat_edges[a..b], x, y)
    }

    /// Builds the locator over `grids`; their order decides outer-boundary ties.
    pub fn new(grids: &[Area], options: LocatorOptions) -> Self {
        let polygons: Vec<PreparedPolygon> = grids
            .par_iter()
            .map(|a| PreparedPolygon::new(&a.boundary))
            .collect();
        let bbox = polygons.iter().filter_map(|p| p.bbox()).reduce(|a, b| {
            geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
        let envelopes = RTree::bulk_load(
            polygons
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let b = p.bbox()?;
                    Some(GeomWithData::new(
                        rstar::primitives::Rectangle::from_corners(
                            [b.min().x, b.min().y],
                            [b.max().x, b.max().y],
                        ),
                        i as u32,
                    ))
                })
                .collect(),
        );
        let (flat_edges, flat_start) = flatten(&polygons);
        let Some(b) = bbox else {
            return GridLocator {
                flat_edges,
                flat_start,
                polygons,
                x0: 0.0,
                y0: 0.0,
                inv_w: 0.0,
                inv_h: 0.0,
                nx: 0,
                ny: 0,
                cells: Vec::new(),
                list_start: vec![0],
                lists: Vec::new(),
                envelopes,
            };
        };
        // Square cells in metres.
        let kx = b.center().y.to_radians().cos().max(1e-6);
        let (w_m, h_m) = (b.width() * kx, b.height());
        let target =
            (polygons.len() as f64 * options.cells_per_grid).clamp(1.0, options.max_cells as f64);
        let side = ((w_m * h_m) / target).sqrt().max(1e-12);
        let nx = ((w_m / side).ceil() as usize).max(1);
        let ny = ((h_m / side).ceil() as usize).max(1);
        let l = Lattice {
            x0: b.min().x,
            y0: b.min().y,
            inv_w: nx as f64 / b.width().max(1e-300),
            inv_h: ny as f64 / b.height().max(1e-300),
            nx,
            ny,
        };
        let per_grid: Vec<(Vec<u32>, Vec<u32>)> =
            polygons.par_iter().map(|p| rasterise(p, &l)).collect();

        // Merge in grid order: deterministic whatever the thread count. A cell touched
        // by exactly one grid's interior and no boundary answers directly; any other
        // touched cell lists its grids, in grid order.
        let n = nx * ny;
        let mut count = vec![0u32; n];
        let mut boundary = vec![false; n];
        let mut cells = vec![0u32; n];
        for (g, (edge, inside)) in per_grid.iter().enumerate() {
            for &c in edge {
                count[c as usize] += 1;
                boundary[c as usize] = true;
            }
            for &c in inside {
                count[c as usize] += 1;
                cells[c as usize] = g as u32 + 1;
            }
        }
        let mut list_start = vec![0u32];
        for c in 0..n {
            if count[c] > 1 || boundary[c] {
                cells[c] = EDGE | (list_start.len() as u32 - 1);
                list_start.push(list_start.last().expect("non-empty") + count[c]);
            }
        }
        let mut lists = vec![0u32; *list_start.last().expect("non-empty") as usize];
        let mut filled = vec![0u32; list_start.len() - 1];
        for (g, (edge, inside)) in per_grid.iter().enumerate() {
            for &c in edge.iter().chain(inside) {
                let v = cells[c as usize];
                if v & EDGE != 0 {
                    let i = (v & !EDGE) as usize;
                    lists[(list_start[i] + filled[i]) as usize] = g as u32;
                    filled[i] += 1;
                }
            }
        }
        GridLocator {
            flat_edges,
            flat_start,
            polygons,
            x0: l.x0,
            y0: l.y0,
            inv_w: l.inv_w,
            inv_h: l.inv_h,
            nx,
            ny,
            cells,
            list_start,
            lists,
            envelopes,
        }
    }

    /// Number of grids.
    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// Lattice size and the share of cells that answer without a polygon test.
    pub fn cache_stats(&self) -> (usize, usize, f64) {
        let direct = self.cells.iter().filter(|&&c| c & EDGE == 0).count();
        (
            self.nx,
            self.ny,
            direct as f64 / self.cells.len().max(1) as f64,
        )
    }

    /// The lattice cell holding a point, if any.
    #[inline]
    fn cell_of(&self, x: f64, y: f64) -> Option<usize> {
        let fx = (x - self.x0) * self.inv_w;
        let fy = (y - self.y0) * self.inv_h;
        if !(fx >= 0.0 && fy >= 0.0) {
            return None; // also NaN
        }
        let (cx, cy) = (fx as usize, fy as usize);
        // The bbox's own max edge falls one past the last cell: clamp it in.
        let cx = if cx == self.nx && x <= self.x0 + self.nx as f64 / self.inv_w {
            cx - 1
        } else {
            cx
        };
        let cy = if cy == self.ny && y <= self.y0 + self.ny as f64 / self.inv_h {
            cy - 1
        } else {
            cy
        };
        (cx < self.nx && cy < self.ny).then_some(cy * self.nx + cx)
    }

    /// The grid for a point given its cell's value.
    #[inline]
    fn resolve(&self, v: u32, x: f64, y: f64) -> Option<u32> {
        if v & EDGE == 0 {
            return v.checked_sub(1);
        }
        let i = (v & !EDGE) as usize;
        let candidates = &self.lists[self.list_start[i] as usize..self.list_start[i + 1] as usize];
        candidates
            .iter()
            .copied()
            .find(|&g| self.contains(g, x, y))
            .or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .find(|&g| self.polygons[g as usize].on_boundary(x, y))
            })
    }

    /// The grid holding the point, by the assignment rule.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Option<u32> {
        let c = self.cell_of(x, y)?;
        self.resolve(self.cells[c], x, y)
    }

    /// [`GridLocator::locate`] for many points. Cell values are gathered in a first
    /// tight pass, so the memory system overlaps their cache misses, then resolved.
    pub fn locate_many(&self, points: &[(f64, f64)], out: &mut Vec<Option<u32>>) {
        let values: Vec<u32> = points
            .iter()
            .map(|&(x, y)| self.cell_of(x, y).map_or(0, |c| self.cells[c]))
            .collect();
        out.clear();
        out.extend(
            points
                .iter()
                .zip(&values)
                .map(|(&(x, y), &v)| self.resolve(v, x, y)),
        );
    }

    /// Locates, and for points outside every grid finds the nearest grid within
    /// `max_m` metres (ties: the first in grid order).
    pub fn locate_or_nearest(&self, x: f64, y: f64, max_m: Option<f64>) -> Location {
        if let Some(g) = self.locate(x, y) {
            return Location::Inside(g);
        }
        let Some(max_m) = max_m else {
            return Location::Outside;
        };
        let dlat = (max_m / EARTH_RADIUS_M).to_degrees();
        let dlon = dlat / y.to_radians().cos().max(1e-6);
        let env = AABB::from_corners([x - dlon, y - dlat], [x + dlon, y + dlat]);
        let mut best: Option<(u32, f64)> = None;
        for e in self.envelopes.locate_in_envelope_intersecting(&env) {
            let d = self.polygons[e.data as usize].distance_m(x, y);
            if d <= max_m && best.is_none_or(|(g, bd)| d < bd || (d == bd && e.data < g)) {
                best = Some((e.data, d));
            }
        }
        match best {
            Some((g, d)) => Location::Nearest(g, d),
            None => Location::Outside,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::{CodeRule, Level};
    use crate::synth::{MegaCity, SynthParams};
    use geo::{polygon, MultiPolygon};
    use rand::{Rng, SeedableRng};

    fn square(code: &str, x0: f64, y0: f64, s: f64) -> Area {
        let r = CodeRule::national();
        Area {
            source_id: String::new(),
            code: r.parse_area(Level::Grid, code).unwrap(),
            name: code.into(),
            boundary: MultiPolygon(vec![
                polygon![(x: x0, y: y0), (x: x0 + s, y: y0), (x: x0 + s, y: y0 + s), (x: x0, y: y0 + s)],
            ]),
        }
    }

    fn two_by_two() -> Vec<Area> {
        vec![
            square("31010100100101", 0.0, 1.0, 1.0), // NW
            square("31010100100102", 1.0, 1.0, 1.0), // NE
            square("31010100100103", 0.0, 0.0, 1.0), // SW
            square("31010100100104", 1.0, 0.0, 1.0), // SE
        ]
    }

    #[test]
    fn shared_edges_and_vertices_go_to_exactly_one_grid() {
        let grids = two_by_two();
        let loc = GridLocator::new(&grids, LocatorOptions::default());
        // interior
        assert_eq!(loc.locate(0.5, 0.5), Some(2));
        // shared vertical edge x=1: east grid
        assert_eq!(loc.locate(1.0, 0.5), Some(3));
        assert_eq!(loc.locate(1.0, 1.5), Some(1));
        // shared horizontal edge y=1: north grid
        assert_eq!(loc.locate(0.5, 1.0), Some(0));
        // the centre vertex shared by four grids: north-east
        assert_eq!(loc.locate(1.0, 1.0), Some(1));
        // outer boundary is inside: lowest code among grids whose boundary holds it
        assert_eq!(loc.locate(2.0, 0.5), Some(3));
        assert_eq!(loc.locate(0.5, 2.0), Some(0));
        assert_eq!(loc.locate(2.0, 2.0), Some(1));
        assert_eq!(loc.locate(0.0, 0.0), Some(2));
        assert_eq!(loc.locate(2.0, 1.0), Some(1)); // east outer edge at a shared vertex
                                                   // outside
        assert_eq!(loc.locate(2.0001, 0.5), None);
        assert_eq!(loc.locate(-0.1, 0.5), None);
        assert_eq!(loc.locate(f64::NAN, 0.5), None);
    }

    #[test]
    fn every_point_of_a_partition_gets_exactly_one_grid_and_matches_brute_force() {
        let rule = CodeRule::national();
        let districts = vec![(
            rule.parse_area(Level::District, "310101").unwrap(),
            "d".to_string(),
        )];
        let p = SynthParams {
            with_parent_boundaries: false,
            ..SynthParams::shanghai(11, 800, districts)
        };
        let city = MegaCity::generate(&rule, &p).unwrap();
        let grids: Vec<Area> = city.grids().cloned().collect();
        let loc = GridLocator::new(&grids, LocatorOptions::default());
        let prepared: Vec<PreparedPolygon> = grids
            .iter()
            .map(|g| PreparedPolygon::new(&g.boundary))
            .collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut points: Vec<(f64, f64)> = (0..20_000)
            .map(|_| {
                (
                    121.2 + rng.random::<f64>() * 0.5,
                    31.0 + rng.random::<f64>() * 0.4,
                )
            })
            .collect();
        // plus every grid vertex and edge midpoint: the hard cases
        for g in &grids {
            for l in g.boundary.0[0].exterior().lines() {
                points.push((l.start.x, l.start.y));
                points.push(((l.start.x + l.end.x) / 2.0, (l.start.y + l.end.y) / 2.0));
            }
        }
        for (x, y) in points {
            let brute: Vec<u32> = (0..grids.len() as u32)
                .filter(|&g| prepared[g as usize].contains(x, y))
                .collect();
            let got = loc.locate(x, y);
            assert!(
                brute.len() <= 1,
                "half-open rule gave {brute:?} at ({x}, {y})"
            );
            match brute.first() {
                Some(&g) => assert_eq!(got, Some(g), "({x}, {y})"),
                None => {
                    // only the outer boundary of the box may be unclaimed by the rule
                    let on =
                        (0..grids.len() as u32).find(|&g| prepared[g as usize].on_boundary(x, y));
                    assert_eq!(got, on, "({x}, {y})");
                    assert!(on.is_some(), "point ({x}, {y}) of the box left unassigned");
                }
            }
        }
        let (_, _, direct) = loc.cache_stats();
        assert!(
            direct > 0.5,
            "most cells answer without a polygon test: {direct}"
        );
    }

    #[test]
    fn nearest_within_a_distance() {
        let grids = vec![square("31010100100101", 0.0, 0.0, 0.01)];
        let loc = GridLocator::new(&grids, LocatorOptions::default());
        assert_eq!(loc.locate_or_nearest(0.011, 0.005, None), Location::Outside);
        match loc.locate_or_nearest(0.011, 0.005, Some(200.0)) {
            Location::Nearest(0, d) => assert!((d - 111.2).abs() < 0.5),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            loc.locate_or_nearest(0.011, 0.005, Some(100.0)),
            Location::Outside
        );
    }
}
