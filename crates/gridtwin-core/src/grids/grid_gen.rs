//! Generating unit grids inside communities: a lattice of squares of about the target
//! area laid over each community and clipped to it, so the grids tile the community
//! exactly (no gaps, no overlaps, nothing outside). Edge pieces smaller than a quarter
//! of the target are merged into their largest lattice neighbour. Grids are numbered
//! west→east within rows taken north→south; a community needing more serials than the
//! code rule allows is an error.

use geo::{Area as _, BooleanOps, BoundingRect, Coord, MultiPolygon, Rect};

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
            out.push(Area {
                source_id: String::new(),
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
    fn h3_grids_tile_a_community_exactly() {
        let rule = CodeRule::national();
        let c = rule.parse_area(Level::Community, "310101001001").unwrap();
        let b = MultiPolygon(vec![Rect::new(
            Coord {
                x: 121.40,
                y: 31.20,
            },
            Coord {
                x: 121.405,
                y: 31.204,
            },
        )
        .to_polygon()]);
        // resolution 10: cells of about 15,000 m²
        let g = grids_for_h3(&rule, &c, &b, h3o::Resolution::Ten).unwrap();
        assert!(g.len() > 10);
        let cell = h3o::Resolution::Ten.area_m2();
        assert!(
            g.iter().all(|x| x.area_m2() >= 0.25 * cell * 0.99),
            "slivers are merged"
        );
        let f = LocalFrame::new(121.4025, 31.202);
        let sum: f64 = g
            .iter()
            .map(|x| f.to_local_multipolygon(&x.boundary).unsigned_area())
            .sum();
        let whole = f.to_local_multipolygon(&b).unsigned_area();
        assert!((sum - whole).abs() / whole < 1e-6, "{sum} vs {whole}");
        let raw: Vec<RawArea> = g
            .iter()
            .enumerate()
            .map(|(i, a)| RawArea {
                record: i as u64 + 1,
                code: a.code.to_string(),
                boundary: a.boundary.clone(),
            })
            .collect();
        let parent = vec![RawArea {
            record: 1,
            code: c.to_string(),
            boundary: b.clone(),
        }];
        let p = check(
            &raw,
            Some(&parent),
            &rule,
            CheckOptions {
                min_area_m2: 0.0,
                max_area_m2: 1e9,
                tolerance_m2: 0.01,
            },
        );
        assert!(p.is_empty(), "{p:#?}");
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
        // about 2 km × 2.2 km in 1-ha grids: ~490, more than the 99 a community
        // numbers; refused before the lattice is built, with the target that fits
        let e = grids_for(&rule, &c, &b, 10_000.0).unwrap_err();
        assert!(
            matches!(e, CodeError::TooManyChildren { max: 99, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("at least"), "{e}");
        // issue 14: a target of 0.001 m² is refused at once, not 10^12 lattice cells
        assert!(matches!(
            grids_for(&rule, &c, &b, 0.001),
            Err(CodeError::TooManyChildren { .. })
        ));
    }
}

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
        out.push(Area {
            source_id: String::new(),
            code,
            name: format!("Grid {code}"),
            boundary,
        });
    }
    let cell_m2 = h3o::Resolution::area_m2(resolution);
    let merged = redraw::merge_under(rule, &out, 0.25 * cell_m2);
    redraw::renumber(rule, &merged)
}

/// Redraw edits of a grid set, for what-ifs: split grids over a size, merge small
/// grids into a neighbour, renumber. Each keeps the tiling exact (pieces come from
/// clipping and unions of the grids themselves).
pub mod redraw {
    use std::collections::BTreeMap;

    use geo::{Area as _, BooleanOps, BoundingRect, Centroid, Coord, MultiPolygon, Rect};

    use crate::area::Area;
    use crate::code::{AreaCode, CodeError, CodeRule, Level};
    use crate::frame::LocalFrame;

    fn frame_of(a: &Area) -> LocalFrame {
        let c = a
            .bbox()
            .map(|b| b.center())
            .unwrap_or(Coord { x: 0.0, y: 0.0 });
        LocalFrame::new(c.x, c.y)
    }

    /// Splits every grid larger than `max_m2` into equal-width vertical strips of at
    /// most `max_m2` each. New pieces get codes after the community's highest serial.
    pub fn split_over(
        rule: &CodeRule,
        grids: &[Area],
        max_m2: f64,
    ) -> Result<Vec<Area>, CodeError> {
        let mut next: BTreeMap<AreaCode, u64> = BTreeMap::new();
        for g in grids {
            if let Some(p) = g.code.parent(rule) {
                let s = next.entry(p).or_insert(0);
                *s = (*s).max(g.code.serial(rule));
            }
        }
        let mut out = Vec::new();
        for g in grids {
            let f = frame_of(g);
            let local = f.to_local_multipolygon(&g.boundary);
            let area = local.unsigned_area();
            if area <= max_m2 {
                out.push(g.clone());
                continue;
            }
            let k = (area / max_m2).ceil() as usize;
            let b = local.bounding_rect().expect("a grid has a boundary");
            let w = b.width() / k as f64;
            for i in 0..k {
                let x0 = b.min().x + i as f64 * w;
                let x1 = if i + 1 == k { b.max().x } else { x0 + w };
                let strip = MultiPolygon(vec![Rect::new(
                    Coord {
                        x: x0,
                        y: b.min().y,
                    },
                    Coord {
                        x: x1,
                        y: b.max().y,
                    },
                )
                .to_polygon()]);
                let piece = local.intersection(&strip);
                if piece.unsigned_area() <= 0.0 {
                    continue;
                }
                let code = if i == 0 {
                    g.code
                } else {
                    let parent = g.code.parent(rule).ok_or(CodeError::NoChildLevel)?;
                    let s = next.entry(parent).or_insert(0);
                    *s += 1;
                    rule.child(&parent, *s)?
                };
                let boundary = f.to_lon_lat_multipolygon(&piece);
                out.push(Area {
                    source_id: String::new(),
                    code,
                    name: format!("Grid {code}"),
                    boundary,
                });
            }
        }
        Ok(out)
    }

    /// Merges every grid under `min_m2` into the neighbour of the same community with
    /// which it shares the longest boundary (the merged grid keeps the neighbour's code).
    pub fn merge_under(rule: &CodeRule, grids: &[Area], min_m2: f64) -> Vec<Area> {
        let mut out: Vec<Option<Area>> = grids.iter().cloned().map(Some).collect();
        let mut order: Vec<usize> = (0..grids.len()).collect();
        order.sort_by_key(|&i| grids[i].code);
        for i in order {
            let Some(g) = out[i].clone() else { continue };
            let f = frame_of(&g);
            if f.to_local_multipolygon(&g.boundary).unsigned_area() >= min_m2 {
                continue;
            }
            let parent = g.code.parent(rule);
            // shared boundary length ≈ area of the intersection of slightly grown shapes;
            // simpler and exact for tilings: perimeter of the union drop.
            let mut best: Option<(f64, usize)> = None;
            for (j, o) in out.iter().enumerate() {
                let Some(o) = o else { continue };
                if j == i || o.code.parent(rule) != parent {
                    continue;
                }
                let shared = shared_length(
                    &f.to_local_multipolygon(&g.boundary),
                    &f.to_local_multipolygon(&o.boundary),
                );
                if shared > 1e-6
                    && best.is_none_or(|(b, bj)| {
                        shared > b
                            || (shared == b && o.code < out[bj].as_ref().expect("present").code)
                    })
                {
                    best = Some((shared, j));
                }
            }
            if let Some((_, j)) = best {
                let target = out[j].take().expect("present");
                let merged = target.boundary.union(&g.boundary);
                out[j] = Some(Area {
                    source_id: String::new(),
                    boundary: merged,
                    ..target
                });
                out[i] = None;
            }
        }
        out.into_iter().flatten().collect()
    }

    /// Length of boundary two polygons share, in the frame's metres: the edges of `a`
    /// whose ends and middle lie within 1 cm of `b`'s boundary. Tolerant, because
    /// neighbours computed separately (H3 cells) meet only to rounding.
    fn shared_length(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
        let lines = |m: &MultiPolygon<f64>| -> Vec<geo::Line<f64>> {
            m.iter()
                .flat_map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .flat_map(|r| r.lines())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let near = |p: Coord<f64>, l: &geo::Line<f64>| {
            let (dx, dy) = (l.end.x - l.start.x, l.end.y - l.start.y);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (((p.x - l.start.x) * dx + (p.y - l.start.y) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (qx, qy) = (l.start.x + t * dx, l.start.y + t * dy);
            ((p.x - qx).powi(2) + (p.y - qy).powi(2)).sqrt() < 0.01
        };
        let lb = lines(b);
        lines(a)
            .iter()
            .filter(|e| {
                let mid = Coord {
                    x: (e.start.x + e.end.x) / 2.0,
                    y: (e.start.y + e.end.y) / 2.0,
                };
                [e.start, mid, e.end]
                    .iter()
                    .all(|p| lb.iter().any(|l| near(*p, l)))
            })
            .map(|e| ((e.end.x - e.start.x).powi(2) + (e.end.y - e.start.y).powi(2)).sqrt())
            .sum()
    }

    /// Renumbers the grids of each community north→south, then west→east, from 1.
    pub fn renumber(rule: &CodeRule, grids: &[Area]) -> Result<Vec<Area>, CodeError> {
        let mut by_parent: BTreeMap<AreaCode, Vec<&Area>> = BTreeMap::new();
        for g in grids {
            if g.level() == Level::Grid {
                by_parent
                    .entry(g.code.parent(rule).ok_or(CodeError::NoChildLevel)?)
                    .or_default()
                    .push(g);
            }
        }
        let mut out = Vec::new();
        for (parent, mut kids) in by_parent {
            let key = |a: &Area| {
                a.boundary
                    .centroid()
                    .map(|p| (-p.y(), p.x()))
                    .unwrap_or((0.0, 0.0))
            };
            kids.sort_by(|a, b| {
                key(a)
                    .partial_cmp(&key(b))
                    .expect("finite")
                    .then(a.code.cmp(&b.code))
            });
            for (i, k) in kids.into_iter().enumerate() {
                let code = rule.child(&parent, i as u64 + 1)?;
                out.push(Area {
                    source_id: String::new(),
                    code,
                    name: format!("Grid {code}"),
                    boundary: k.boundary.clone(),
                });
            }
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::grid_check::{check, CheckOptions, RawArea};
        use crate::partition::{partition, PartitionPlan};

        #[test]
        fn split_merge_renumber_keep_a_valid_tiling() {
            let rule = CodeRule::national();
            let plan = PartitionPlan {
                district: rule.parse_area(Level::District, "990101").unwrap(),
                district_name: "d".into(),
                streets: (1, 1),
                communities: (2, 1),
                target_grid_m2: 10_000.0,
            };
            let areas = partition(
                &rule,
                &plan,
                Rect::new(
                    Coord {
                        x: 24.935,
                        y: 60.164,
                    },
                    Coord {
                        x: 24.945,
                        y: 60.170,
                    },
                ),
            )
            .unwrap();
            let grids: Vec<Area> = areas
                .iter()
                .filter(|a| a.level() == Level::Grid)
                .cloned()
                .collect();
            let parents: Vec<&Area> = areas
                .iter()
                .filter(|a| a.level() == Level::Community)
                .collect();
            let raw = |v: &[Area]| {
                v.iter()
                    .enumerate()
                    .map(|(i, a)| RawArea {
                        record: i as u64 + 1,
                        code: a.code.to_string(),
                        boundary: a.boundary.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            let praw: Vec<RawArea> = parents
                .iter()
                .enumerate()
                .map(|(i, a)| RawArea {
                    record: i as u64 + 1,
                    code: a.code.to_string(),
                    boundary: a.boundary.clone(),
                })
                .collect();
            let opts = CheckOptions {
                min_area_m2: 1.0,
                max_area_m2: 1e9,
                tolerance_m2: 0.01,
            };
            let split = split_over(&rule, &grids, 6_000.0).unwrap();
            assert!(split.len() > grids.len());
            assert!(split.iter().all(|g| g.area_m2() <= 6_000.0 * 1.001));
            assert!(check(&raw(&split), Some(&praw), &rule, opts).is_empty());
            let merged = merge_under(&rule, &split, 5_000.0);
            assert!(merged.len() < split.len());
            assert!(check(&raw(&merged), Some(&praw), &rule, opts).is_empty());
            let renum = renumber(&rule, &merged).unwrap();
            assert!(check(&raw(&renum), Some(&praw), &rule, opts).is_empty());
            // serials are 1..n per community, north-west first
            let first = renum.iter().filter(|g| g.code.serial(&rule) == 1).count();
            assert_eq!(first, 2);
        }
    }
}
