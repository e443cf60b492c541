//! Generating unit grids inside communities: a lattice of squares of about the target
//! area laid over each community and clipped to it, so the grids tile the community
//! exactly (no gaps, no overlaps, nothing outside). Edge pieces smaller than a quarter
//! of the target are merged into their largest lattice neighbour. Grids are numbered
//! west→east within rows taken north→south; a community needing more serials than the
//! code rule allows is an error.
//!
//! Files by concern: the square lattice is here, `h3` grids a community with H3
//! cells instead, [`redraw`] edits a grid set for what-ifs.

use geo::{Area as _, BooleanOps, BoundingRect, Coord, MultiPolygon, Rect};

use crate::area::Area;
use crate::code::{AreaCode, CodeError, CodeRule, Level};
use crate::frame::LocalFrame;

mod h3;
pub mod redraw;
#[cfg(test)]
mod tests;

pub use h3::grids_for_h3;

/// Grids for one community.
pub fn grids_for(
    rule: &CodeRule,
    community: &AreaCode,
    boundary: &MultiPolygon<f64>,
    target_m2: f64,
) -> Result<Vec<Area>, CodeError> {
    if community.level() != Level::Community {
        return Err(CodeError::NotExtendingParent {
            child: "grid".into(),
            parent: community.to_string(),
        });
    }
    let Some(bb) = boundary.bounding_rect() else {
        return Ok(Vec::new());
    };
    let frame = LocalFrame::new(bb.center().x, bb.center().y);
    let local = frame.to_local_multipolygon(boundary);
    let lb = local.bounding_rect().expect("non-empty");
    let side = target_m2.sqrt();
    let (fx, fy) = ((lb.width() / side).round(), (lb.height() / side).round());
    // (checked before the lattice is built: a target of 0.001 m² made 10^8 cells)
    let max = rule.max_children(Level::Grid);
    let area = local.unsigned_area();
    if fx * fy > (4 * max) as f64 && area / target_m2 > max as f64 {
        return Err(CodeError::TooManyChildren {
            parent: community.to_string(),
            level: "grid",
            wanted: (area / target_m2).round() as u64,
            max,
            hint: format!(
                "a target area of at least {:.0} m² fits this community",
                (area / max as f64).ceil()
            ),
        });
    }
    let nx = (fx as usize).max(1);
    let ny = (fy as usize).max(1);
    let (w, h) = (lb.width() / nx as f64, lb.height() / ny as f64);
    // pieces[r][c]: the community's part in lattice cell (row from north, column from west)
    let mut pieces: Vec<Vec<MultiPolygon<f64>>> = Vec::with_capacity(ny);
    for r in 0..ny {
        let mut row = Vec::with_capacity(nx);
        let (y1, y0) = (
            lb.max().y - r as f64 * h,
            if r + 1 == ny {
                lb.min().y
            } else {
                lb.max().y - (r + 1) as f64 * h
            },
        );
        for c in 0..nx {
            let (x0, x1) = (
                lb.min().x + c as f64 * w,
                if c + 1 == nx {
                    lb.max().x
                } else {
                    lb.min().x + (c + 1) as f64 * w
                },
            );
            let cell = MultiPolygon(vec![Rect::new(
                Coord { x: x0, y: y0 },
                Coord { x: x1, y: y1 },
            )
            .to_polygon()]);
            row.push(local.intersection(&cell));
        }
        pieces.push(row);
    }
    // Merge small edge pieces into their largest 4-neighbour (in lattice order, so the
    // result is deterministic).
    let small = 0.25 * target_m2;
    for r in 0..ny {
        for c in 0..nx {
            let a = pieces[r][c].unsigned_area();
            if a == 0.0 || a >= small {
                continue;
            }
            let mut best: Option<(f64, usize, usize)> = None;
            for (dr, dc) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                if rr < 0 || cc < 0 || rr >= ny as i64 || cc >= nx as i64 {
                    continue;
                }
                let na = pieces[rr as usize][cc as usize].unsigned_area();
                if na > 0.0 && best.is_none_or(|(ba, _, _)| na > ba) {
                    best = Some((na, rr as usize, cc as usize));
                }
            }
            if let Some((_, rr, cc)) = best {
                let merged = pieces[rr][cc].union(&pieces[r][c]);
                pieces[rr][cc] = merged;
                pieces[r][c] = MultiPolygon(vec![]);
            }
        }
    }
    let mut out = Vec::new();
    let mut serial = 0u64;
    for row in pieces {
        for piece in row {
            if piece.unsigned_area() <= 0.0 {
                continue;
            }
            serial += 1;
            let code = rule.child(community, serial)?;
            let boundary = frame.to_lon_lat_multipolygon(&piece);
            out.push(Area::made_grid(code, boundary));
        }
    }
    Ok(out)
}
