//! Voronoi cells of the grid sites clipped to the box, with every shared vertex
//! computed once in a fixed order so neighbouring grids share their edges bit for bit.

use geo::{Coord, LineString, Polygon, Rect};
use spade::{DelaunayTriangulation, HasPosition, Point2, Triangulation};

use super::SynthError;

#[derive(Clone, Copy)]
struct Site {
    p: Point2<f64>,
    id: usize,
}

impl HasPosition for Site {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        self.p
    }
}

/// Circumcentre of a triangle, from its corners sorted by site id so that every
/// cell sharing the triangle gets the very same bits.
fn circumcenter(mut t: [Site; 3]) -> Coord<f64> {
    t.sort_by_key(|s| s.id);
    let (a, b, c) = (t[0].p, t[1].p, t[2].p);
    let (bx, by) = (b.x - a.x, b.y - a.y);
    let (cx, cy) = (c.x - a.x, c.y - a.y);
    let d = 2.0 * (bx * cy - by * cx);
    let b2 = bx * bx + by * by;
    let c2 = cx * cx + cy * cy;
    Coord {
        x: a.x + (cy * b2 - by * c2) / d,
        y: a.y + (bx * c2 - cx * b2) / d,
    }
}

/// Point where segment a–b crosses an axis-aligned line, computed from the endpoints
/// in a canonical order so both cells sharing the segment get identical bits.
fn cross(a: Coord<f64>, b: Coord<f64>, vertical: bool, at: f64) -> Coord<f64> {
    let (p, q) = if (a.x, a.y) <= (b.x, b.y) {
        (a, b)
    } else {
        (b, a)
    };
    if vertical {
        Coord {
            x: at,
            y: p.y + (at - p.x) * (q.y - p.y) / (q.x - p.x),
        }
    } else {
        Coord {
            x: p.x + (at - p.y) * (q.x - p.x) / (q.y - p.y),
            y: at,
        }
    }
}

/// Sutherland–Hodgman clip of a convex ring to a rectangle.
fn clip(ring: Vec<Coord<f64>>, r: Rect<f64>) -> Vec<Coord<f64>> {
    let planes: [(bool, f64, bool); 4] = [
        (true, r.min().x, true),   // keep x >= min
        (true, r.max().x, false),  // keep x <= max
        (false, r.min().y, true),  // keep y >= min
        (false, r.max().y, false), // keep y <= max
    ];
    let mut pts = ring;
    for (vertical, at, keep_above) in planes {
        if pts.is_empty() {
            break;
        }
        let inside = |c: &Coord<f64>| {
            let v = if vertical { c.x } else { c.y };
            if keep_above {
                v >= at
            } else {
                v <= at
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 2);
        for i in 0..pts.len() {
            let cur = pts[i];
            let prev = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur, vertical, at)),
                (false, true) => {
                    out.push(cross(prev, cur, vertical, at));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        out.dedup();
        pts = out;
    }
    pts
}

/// Voronoi cells of `sites` clipped to `r`, one per site in input order.
pub(super) fn voronoi(sites: &[[f64; 2]], r: Rect<f64>) -> Result<Vec<Polygon<f64>>, SynthError> {
    let n = sites.len();
    let mut all: Vec<Site> = sites
        .iter()
        .enumerate()
        .map(|(id, s)| Site {
            p: Point2::new(s[0], s[1]),
            id,
        })
        .collect();
    // A ring of far sites makes every real site interior, so every real cell is bounded.
    let (cx, cy) = (r.center().x, r.center().y);
    let (w, h) = (r.width() * 3.0, r.height() * 3.0);
    for (k, (dx, dy)) in [
        (-1., -1.),
        (0., -1.),
        (1., -1.),
        (1., 0.),
        (1., 1.),
        (0., 1.),
        (-1., 1.),
        (-1., 0.),
    ]
    .into_iter()
    .enumerate()
    {
        all.push(Site {
            p: Point2::new(cx + dx * w, cy + dy * h),
            id: n + k,
        });
    }
    let t = DelaunayTriangulation::<Site>::bulk_load(all)
        .map_err(|e| SynthError::Triangulation(format!("{e:?}")))?;
    let mut cells = vec![Polygon::new(LineString::new(vec![]), vec![]); n];
    for v in t.vertices() {
        let id = v.data().id;
        if id >= n {
            continue;
        }
        let mut ring: Vec<Coord<f64>> = Vec::new();
        for e in v.out_edges() {
            if let Some(face) = e.face().as_inner() {
                let vs = face.vertices();
                ring.push(circumcenter([*vs[0].data(), *vs[1].data(), *vs[2].data()]));
            }
        }
        ring.dedup();
        let mut ring = clip(ring, r);
        if let Some(&first) = ring.first() {
            ring.push(first);
        }
        cells[id] = Polygon::new(LineString::new(ring), vec![]);
    }
    Ok(cells)
}
