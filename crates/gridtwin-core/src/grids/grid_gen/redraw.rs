//! Redraw edits of a grid set, for what-ifs: split grids over a size, merge small
//! grids into a neighbour, renumber. Each keeps the tiling exact (pieces come from
//! clipping and unions of the grids themselves).

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
pub fn split_over(rule: &CodeRule, grids: &[Area], max_m2: f64) -> Result<Vec<Area>, CodeError> {
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
            out.push(Area::made_grid(code, boundary));
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
                    shared > b || (shared == b && o.code < out[bj].as_ref().expect("present").code)
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
            out.push(Area::made_grid(code, k.boundary.clone()));
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
        let raw = |v: &[Area]| RawArea::numbered(v);
        let praw = RawArea::numbered(parents.iter().copied());
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
