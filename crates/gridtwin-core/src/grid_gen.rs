//! Generating unit grids inside communities: a lattice of squares of about the target
//! area laid over each community and clipped to it, so the grids tile the community
//! exactly (no gaps, no overlaps, nothing outside). Edge pieces smaller than a quarter
//! of the target are merged into their largest lattice neighbour. Grids are numbered
//! west→east within rows taken north→south; a community needing more serials than the
//! code rule allows is an error.

use geo::{Area as _, BooleanOps, BoundingRect, Coord, MapCoords, MultiPolygon, Rect};

use crate::area::Area;
use crate::code::{AreaCode, CodeError, CodeRule, Level};
use crate::frame::LocalFrame;

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
    let nx = ((lb.width() / side).round() as usize).max(1);
    let ny = ((lb.height() / side).round() as usize).max(1);
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
            let boundary = piece.map_coords(|c| {
                let (x, y) = frame.to_lon_lat(c.x, c.y);
                Coord { x, y }
            });
            out.push(Area {
                code,
                name: format!("Grid {code}"),
                boundary,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid_check::{check, CheckOptions, RawArea};
    use crate::synth::{MegaCity, SynthParams};

    #[test]
    fn irregular_communities_are_tiled_exactly_and_validate_clean() {
        let rule = CodeRule::national();
        let districts = vec![(
            rule.parse_area(Level::District, "310101").unwrap(),
            "d".to_string(),
        )];
        // 60 Voronoi grids → ~10 irregular communities (unions of cells)
        let p = SynthParams {
            grids: 60,
            ..SynthParams::shanghai(4, 60, districts)
        };
        let p = SynthParams {
            extent: Rect::new(
                Coord {
                    x: 121.40,
                    y: 31.20,
                },
                Coord {
                    x: 121.42,
                    y: 31.22,
                },
            ),
            ..p
        };
        let city = MegaCity::generate(&rule, &p).unwrap();
        let communities: Vec<&Area> = city
            .areas
            .iter()
            .filter(|a| a.level() == Level::Community)
            .collect();
        assert!(communities.len() > 3);
        let mut grids = Vec::new();
        for c in &communities {
            let g = grids_for(&rule, &c.code, &c.boundary, 10_000.0).unwrap();
            // measured on one frame (each area's own frame would differ by ~1e-5)
            let f = LocalFrame::new(c.bbox().unwrap().center().x, c.bbox().unwrap().center().y);
            let sum: f64 = g
                .iter()
                .map(|x| f.to_local_multipolygon(&x.boundary).unsigned_area())
                .sum();
            let whole = f.to_local_multipolygon(&c.boundary).unsigned_area();
            assert!((sum - whole).abs() / whole < 1e-6, "{sum} vs {whole}");
            grids.extend(g);
        }
        let raw = |v: &[&Area]| {
            v.iter()
                .enumerate()
                .map(|(i, a)| RawArea {
                    record: i as u64 + 1,
                    code: a.code.to_string(),
                    boundary: a.boundary.clone(),
                })
                .collect::<Vec<_>>()
        };
        let gr: Vec<&Area> = grids.iter().collect();
        let problems = check(
            &raw(&gr),
            Some(&raw(&communities)),
            &rule,
            CheckOptions {
                min_area_m2: 2_000.0,
                max_area_m2: 25_000.0,
                tolerance_m2: 0.01,
            },
        );
        assert!(problems.is_empty(), "{problems:#?}");
        // deterministic
        let again = grids_for(
            &rule,
            &communities[0].code,
            &communities[0].boundary,
            10_000.0,
        )
        .unwrap();
        assert_eq!(
            again,
            grids
                .iter()
                .filter(|g| g.code.extends(&communities[0].code))
                .cloned()
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn too_many_grids_is_an_error() {
        let rule = CodeRule::national();
        let c = rule.parse_area(Level::Community, "310101001001").unwrap();
        let b = MultiPolygon(vec![Rect::new(
            Coord { x: 121.4, y: 31.2 },
            Coord {
                x: 121.42,
                y: 31.22,
            },
        )
        .to_polygon()]);
        assert!(matches!(
            grids_for(&rule, &c, &b, 10_000.0),
            Err(CodeError::SerialOverflow { .. })
        ));
    }
}
