//! Polygon validity as OGC and GEOS judge it.
//!
//! `geo`'s [`Validation`] checks rings (enough points, simple, no crossing, holes
//! inside the shell, rings meeting only at points) and multipolygon elements (no
//! overlap, no shared edge). Two OGC rules it leaves out are checked here:
//! - **degenerate rings**: a ring whose points all lie on one line encloses no area
//!   (`POLYGON ((0 0, 10 0, 20 0, 0 0))`); a grid of zero area is not a grid;
//! - **connected interior**: rings may touch, but only so that the polygon's interior
//!   stays one piece. A hole touching the shell at two points, or a chain of holes
//!   touching from shell to shell (or around an area), cuts the interior in two; a
//!   grid like that is two areas under one code.
//!
//! The semantics are OGC's, as GEOS implements them: a ring that touches itself is
//! invalid (an "inverted" shell that pinches off a hole, valid in ESRI's model, is not
//! valid here: the hole must be a hole ring); rings may touch one another at points;
//! any number of rings may meet at one point.
//!
//! ```
//! use geo::{polygon, MultiPolygon};
//! use gridtwin_core::validity::{check_area, InvalidKind};
//! // a square whose triangular hole touches the shell at (0, 40) and along (60, 20):
//! // the triangle between them is cut off from the rest
//! let p = polygon![
//!     exterior: [(x: 0., y: 60.), (x: 0., y: 0.), (x: 60., y: 0.), (x: 60., y: 60.)],
//!     interiors: [[(x: 0., y: 40.), (x: 20., y: 20.), (x: 60., y: 20.)]],
//! ];
//! let e = check_area(&MultiPolygon(vec![p])).unwrap_err();
//! assert_eq!(e.kind, InvalidKind::DisconnectedInterior);
//! assert_eq!(e.location, Some((60.0, 20.0)));
//! ```

use std::collections::BTreeMap;

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use rstar::{primitives::GeomWithData, RTree, AABB};

/// Why an area is invalid, as a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvalidKind {
    /// No polygon, or a polygon without rings.
    Empty,
    /// What `geo`'s validation finds: too few points, a ring crossing or touching
    /// itself, rings crossing or sharing an edge, a hole outside its shell,
    /// overlapping elements, non-finite coordinates.
    Ring,
    /// A ring whose points all lie on one line: it encloses no area.
    DegenerateRing,
    /// Rings touch so that the interior falls into separate pieces.
    DisconnectedInterior,
}

/// Why an area is invalid, with the place where one is known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidArea {
    pub kind: InvalidKind,
    /// A point of the problem (x, y as in the input): the touch that closes the cut
    /// for a disconnected interior, a point of a degenerate ring.
    pub location: Option<(f64, f64)>,
    pub message: String,
}

/// Checks an area (a polygon or multipolygon) under OGC's rules.
pub fn check_area(area: &MultiPolygon<f64>) -> Result<(), InvalidArea> {
    if area.0.is_empty() {
        return Err(InvalidArea {
            kind: InvalidKind::Empty,
            location: None,
            message: "empty polygon".into(),
        });
    }
    // A single strictly convex ring, the usual unit grid (a Voronoi cell, a square),
    // is valid by construction; the full check is for the rest.
    if let [p] = area.0.as_slice() {
        if p.interiors().is_empty() && strictly_convex(p.exterior()) {
            return Ok(());
        }
    }
    check_area_fully(area)
}

/// [`check_area`] without its convex shortcut (the shortcut's oracle in the tests).
fn check_area_fully(area: &MultiPolygon<f64>) -> Result<(), InvalidArea> {
    // Degenerate rings first: geo reports some of them as something else, or not at all.
    for (j, p) in area.iter().enumerate() {
        let rings = std::iter::once(p.exterior()).chain(p.interiors());
        for (k, ring) in rings.enumerate() {
            if let Some(at) = degenerate(ring) {
                let which = if k == 0 {
                    "exterior ring".to_string()
                } else {
                    format!("interior ring {}", k - 1)
                };
                return Err(InvalidArea {
                    kind: InvalidKind::DegenerateRing,
                    location: Some((at.x, at.y)),
                    message: format!(
                        "polygon {j}: {which} encloses no area (its points lie on one line)"
                    ),
                });
            }
        }
    }
    if let Err(e) = area.check_validation() {
        return Err(InvalidArea {
            kind: InvalidKind::Ring,
            location: None,
            message: e.to_string(),
        });
    }
    for (j, p) in area.iter().enumerate() {
        if let Some(at) = interior_cut(p) {
            return Err(InvalidArea {
                kind: InvalidKind::DisconnectedInterior,
                location: Some((at.x, at.y)),
                message: format!(
                    "polygon {j}: its rings touch so that the interior is split in pieces \
                     (the cut closes at ({}, {}))",
                    at.x, at.y
                ),
            });
        }
    }
    Ok(())
}

/// Whether `ring` is a closed ring of finite points that turns the same way, strictly,
/// at every vertex and winds once: a simple convex polygon of positive area, valid
/// under every OGC rule (issue 19: 40,000 grid cells of a megacity each went through
/// the full check, most of loading its areas).
///
/// Every turn is judged by the exact orientation predicate, so no rounding can pass
/// a reflex or straight vertex; a ring that turns one way throughout but winds more
/// than once (a pentagram) reverses its x and y directions more than twice each, and
/// is left to the full check, as is any ring with a repeated point.
fn strictly_convex(ring: &LineString<f64>) -> bool {
    let c = &ring.0;
    // closed, at least a triangle
    if c.len() < 4 || c.first() != c.last() || !c.iter().all(|p| p.x.is_finite() && p.y.is_finite())
    {
        return false;
    }
    let n = c.len() - 1; // distinct vertices (the last repeats the first)
    let mut sign = 0.0f64;
    let (mut x_turns, mut y_turns) = (0, 0);
    let (mut last_dx, mut last_dy) = (0.0f64, 0.0f64);
    for i in 0..n {
        let (a, b, d) = (c[i], c[i + 1], c[(i + 2) % n]);
        let o = robust::orient2d(pt(a), pt(b), pt(d));
        if o == 0.0 || (sign != 0.0 && o.signum() != sign) {
            return false;
        }
        sign = o.signum();
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        if dx != 0.0 {
            if last_dx != 0.0 && dx.signum() != last_dx.signum() {
                x_turns += 1;
            }
            last_dx = dx;
        }
        if dy != 0.0 {
            if last_dy != 0.0 && dy.signum() != last_dy.signum() {
                y_turns += 1;
            }
            last_dy = dy;
        }
    }
    // the direction changes across the closing vertex, back to the first edge
    let (dx, dy) = first_nonzero(c);
    if dx != 0.0 && last_dx != 0.0 && dx.signum() != last_dx.signum() {
        x_turns += 1;
    }
    if dy != 0.0 && last_dy != 0.0 && dy.signum() != last_dy.signum() {
        y_turns += 1;
    }
    x_turns <= 2 && y_turns <= 2
}

/// The first non-zero step in x and the first in y along a closed ring.
fn first_nonzero(c: &[Coord<f64>]) -> (f64, f64) {
    let steps = || c.windows(2).map(|w| (w[1].x - w[0].x, w[1].y - w[0].y));
    (
        steps().map(|s| s.0).find(|&d| d != 0.0).unwrap_or(0.0),
        steps().map(|s| s.1).find(|&d| d != 0.0).unwrap_or(0.0),
    )
}

/// A point of `ring` if all its points lie on one line (or it has fewer than three
/// distinct points), so that it encloses no area.
fn degenerate(ring: &LineString<f64>) -> Option<Coord<f64>> {
    let first = *ring.0.first()?;
    let Some(&second) = ring.0.iter().find(|c| **c != first) else {
        return Some(first);
    };
    let collinear = ring
        .0
        .iter()
        .all(|&c| robust::orient2d(pt(first), pt(second), pt(c)) == 0.0);
    collinear.then_some(first)
}

fn pt(c: Coord<f64>) -> robust::Coord<f64> {
    robust::Coord { x: c.x, y: c.y }
}

/// Whether `c` lies on the segment `a`–`b` (exactly, by the orientation predicate).
fn on_segment(c: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> bool {
    c.x >= a.x.min(b.x)
        && c.x <= a.x.max(b.x)
        && c.y >= a.y.min(b.y)
        && c.y <= a.y.max(b.y)
        && robust::orient2d(pt(a), pt(b), pt(c)) == 0.0
}

type Segment =
    GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, (usize, Coord<f64>, Coord<f64>)>;

/// Where a polygon that `geo` finds valid (no crossings, no shared edges, no
/// self-touching ring) has its interior cut: the rings form a graph whose edges are
/// the points where rings touch; the interior is split exactly when that graph has a
/// cycle. Several rings meeting at one point touch once there (a star, not a cycle):
/// the interior passes around that point.
///
/// Because the rings neither cross nor share edges, every touch is a vertex of one
/// ring lying on the other, so it is found by testing each vertex against the other
/// rings' segments near it.
fn interior_cut(p: &Polygon<f64>) -> Option<Coord<f64>> {
    if p.interiors().is_empty() {
        return None;
    }
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
    let segments: Vec<Segment> = rings
        .iter()
        .enumerate()
        .flat_map(|(r, ring)| {
            ring.lines().filter(|l| l.start != l.end).map(move |l| {
                let env = rstar::primitives::Rectangle::from_corners(
                    [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
                    [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
                );
                GeomWithData::new(env, (r, l.start, l.end))
            })
        })
        .collect();
    let tree = RTree::bulk_load(segments);
    // touch point → the rings that meet there (ordered, so the result is the same
    // whatever the input order of vertices)
    let mut touches: BTreeMap<(u64, u64), (Coord<f64>, Vec<usize>)> = BTreeMap::new();
    for (r, ring) in rings.iter().enumerate() {
        for &v in &ring.0 {
            let here = AABB::from_point([v.x, v.y]);
            for s in tree.locate_in_envelope_intersecting(&here) {
                let (other, a, b) = s.data;
                if other != r && on_segment(v, a, b) {
                    let key = (ordered_bits(v.x), ordered_bits(v.y));
                    let entry = touches.entry(key).or_insert((v, Vec::new()));
                    entry.1.push(r);
                    entry.1.push(other);
                }
            }
        }
    }
    let mut parent: Vec<usize> = (0..rings.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (_, (at, mut met)) in touches {
        met.sort_unstable();
        met.dedup();
        for &other in &met[1..] {
            let (a, b) = (root(&mut parent, met[0]), root(&mut parent, other));
            if a == b {
                return Some(at);
            }
            parent[b] = a;
        }
    }
    None
}

/// Bits of `x` ordered as the numbers are (the flood's sweep key), with -0 and 0 one
/// place, so a `BTreeMap` walks points in x, y order.
fn ordered_bits(x: f64) -> u64 {
    crate::flood::sweep_key(if x == 0.0 { 0.0 } else { x })
}

/// Repairs an invalid area the way `make_valid` tools do for self-intersections and
/// bow-ties: the rings are re-noded and re-assembled by an overlay (a union of the
/// area with nothing, which keeps every loop whichever way it winds), so a bow-tie
/// becomes its two triangles and a figure-eight its two loops, as GEOS's `MakeValid`
/// gives. (A unary union would drop the loop wound against the other: one triangle.)
/// `None` when the result is still not valid or is empty.
///
/// ```
/// use geo::{polygon, MultiPolygon};
/// use gridtwin_core::validity::{check_area, make_valid};
/// // a bow-tie: (0,0) → (1,1) → (1,0) → (0,1) crosses itself at (0.5, 0.5)
/// let bow = MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 1., y: 0.), (x: 0., y: 1.)]]);
/// assert!(check_area(&bow).is_err());
/// let fixed = make_valid(&bow).unwrap();
/// assert!(check_area(&fixed).is_ok());
/// assert_eq!(fixed.0.len(), 2); // two triangles
/// assert!((geo::Area::unsigned_area(&fixed) - 0.5).abs() < 1e-12);
/// ```
pub fn make_valid(area: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    let fixed = geo::BooleanOps::union(area, &MultiPolygon::<f64>(vec![]));
    (!fixed.0.is_empty() && check_area(&fixed).is_ok()).then_some(fixed)
}

#[cfg(test)]
mod tests;
