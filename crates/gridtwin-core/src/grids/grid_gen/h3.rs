//! Unit grids from H3 cells: the hexagons covering a community, clipped to it.

use geo::{Area as _, BooleanOps, BoundingRect, MultiPolygon};

use super::redraw;
use crate::area::Area;
use crate::code::{AreaCode, CodeError, CodeRule};
use crate::frame::LocalFrame;

/// Grids for one community from H3 cells at `resolution`: every cell covering the
/// community, clipped to it (so the grids still tile the community exactly); clipped
/// slivers under a quarter of a cell are merged into a neighbour, then grids are
/// numbered north→south, west→east.
pub fn grids_for_h3(
    rule: &CodeRule,
    community: &AreaCode,
    boundary: &MultiPolygon<f64>,
    resolution: h3o::Resolution,
) -> Result<Vec<Area>, CodeError> {
    use geo::Centroid;
    use h3o::geom::{ContainmentMode, TilerBuilder};
    let Some(bb) = boundary.bounding_rect() else {
        return Ok(Vec::new());
    };
    let frame = LocalFrame::new(bb.center().x, bb.center().y);
    let local = frame.to_local_multipolygon(boundary);
    let mut tiler = TilerBuilder::new(resolution)
        .containment_mode(ContainmentMode::Covers)
        .build();
    for p in boundary {
        // An invalid ring would have been refused on load; nothing to tile then.
        if tiler.add(p.clone()).is_err() {
            return Ok(Vec::new());
        }
    }
    let mut pieces: Vec<(f64, f64, MultiPolygon<f64>)> = Vec::new();
    for cell in tiler.into_coverage() {
        let hex = crate::hexcell::hexagon(cell);
        let piece = local.intersection(&frame.to_local_multipolygon(&hex));
        if piece.unsigned_area() <= 0.0 {
            continue;
        }
        let c = piece
            .centroid()
            .map(|p| (p.x(), p.y()))
            .unwrap_or((0.0, 0.0));
        pieces.push((-c.1, c.0, piece));
    }
    pieces.sort_by(|a, b| {
        (a.0, a.1)
            .partial_cmp(&(b.0, b.1))
            .expect("finite centroids")
    });
    let mut out = Vec::new();
    for (i, (_, _, piece)) in pieces.into_iter().enumerate() {
        let code = rule.child(community, i as u64 + 1)?;
        let boundary = frame.to_lon_lat_multipolygon(&piece);
        out.push(Area::made_grid(code, boundary));
    }
    let cell_m2 = h3o::Resolution::area_m2(resolution);
    let merged = redraw::merge_under(rule, &out, 0.25 * cell_m2);
    redraw::renumber(rule, &merged)
}
