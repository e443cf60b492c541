//! Generating a nested area hierarchy by regular partition of a rectangle.
//!
//! The demo city has no usable administrative boundaries in its OpenStreetMap extract,
//! so its hierarchy is generated, deterministically: the district is the extent; it is
//! cut into `streets.0 × streets.1` equal street blocks, each street into
//! `communities.0 × communities.1` community blocks, and each community into unit grids
//! of about `target_grid_m2` (columns and rows chosen from the block's size in metres).
//! Every level is numbered west→east within rows taken north→south. Shared edges are
//! computed once from the parent's edges, so there are no gaps and no overlaps.

use geo::{Coord, MultiPolygon, Rect};

use crate::area::Area;
use crate::code::{AreaCode, CodeError, CodeRule};
use crate::frame::LocalFrame;

/// How to cut a rectangle into streets, communities and grids.
#[derive(Debug, Clone)]
pub struct PartitionPlan {
    /// The district's code (its parent city code is derived from it).
    pub district: AreaCode,
    pub district_name: String,
    pub streets: (u32, u32),
    pub communities: (u32, u32),
    pub target_grid_m2: f64,
}

/// Splits `r` into `nx × ny` rectangles, rows north→south, west→east within a row.
/// Outer edges are exactly `r`'s; inner edges are computed once and shared.
pub fn split_rect(r: Rect<f64>, nx: u32, ny: u32) -> Vec<Rect<f64>> {
    let xs: Vec<f64> = (0..=nx)
        .map(|i| match i {
            0 => r.min().x,
            i if i == nx => r.max().x,
            i => r.min().x + r.width() * i as f64 / nx as f64,
        })
        .collect();
    // y from north (max) to south (min)
    let ys: Vec<f64> = (0..=ny)
        .map(|j| match j {
            0 => r.max().y,
            j if j == ny => r.min().y,
            j => r.max().y - r.height() * j as f64 / ny as f64,
        })
        .collect();
    let mut out = Vec::with_capacity((nx * ny) as usize);
    for j in 0..ny as usize {
        for i in 0..nx as usize {
            out.push(Rect::new(
                Coord {
                    x: xs[i],
                    y: ys[j + 1],
                },
                Coord {
                    x: xs[i + 1],
                    y: ys[j],
                },
            ));
        }
    }
    out
}

fn area_of(code: AreaCode, name: String, r: Rect<f64>) -> Area {
    Area {
        source_id: String::new(),
        code,
        name,
        boundary: MultiPolygon(vec![r.to_polygon()]),
    }
}

/// Generates city, district, streets, communities and unit grids covering `extent`.
pub fn partition(
    rule: &CodeRule,
    plan: &PartitionPlan,
    extent: Rect<f64>,
) -> Result<Vec<Area>, CodeError> {
    let frame = LocalFrame::new(extent.center().x, extent.center().y);
    let city = plan
        .district
        .parent(rule)
        .ok_or_else(|| CodeError::NotADistrict(plan.district.to_string()))?;
    let mut areas = vec![
        area_of(city, format!("{} (city)", plan.district_name), extent),
        area_of(plan.district, plan.district_name.clone(), extent),
    ];
    let streets = split_rect(extent, plan.streets.0, plan.streets.1);
    for (s, street_rect) in streets.into_iter().enumerate() {
        let street = rule.child(&plan.district, s as u64 + 1)?;
        areas.push(area_of(street, format!("Street {}", s + 1), street_rect));
        let communities = split_rect(street_rect, plan.communities.0, plan.communities.1);
        for (c, comm_rect) in communities.into_iter().enumerate() {
            let community = rule.child(&street, c as u64 + 1)?;
            areas.push(area_of(
                community,
                format!("Community {}-{}", s + 1, c + 1),
                comm_rect,
            ));
            let (w, h) = {
                let (x0, y0) = frame.to_local(comm_rect.min().x, comm_rect.min().y);
                let (x1, y1) = frame.to_local(comm_rect.max().x, comm_rect.max().y);
                (x1 - x0, y1 - y0)
            };
            let side = plan.target_grid_m2.sqrt();
            let nx = ((w / side).round() as u32).max(1);
            let ny = ((h / side).round() as u32).max(1);
            for (g, grid_rect) in split_rect(comm_rect, nx, ny).into_iter().enumerate() {
                let grid = rule.child(&community, g as u64 + 1)?;
                areas.push(area_of(
                    grid,
                    format!("Grid {}-{}-{}", s + 1, c + 1, g + 1),
                    grid_rect,
                ));
            }
        }
    }
    Ok(areas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Level;
    use geo::Area as _;

    #[test]
    fn nested_cover_without_gaps_and_codes_extend_parents() {
        let rule = CodeRule::national();
        let plan = PartitionPlan {
            district: rule.parse_area(Level::District, "990101").unwrap(),
            district_name: "Demo".into(),
            streets: (2, 2),
            communities: (2, 2),
            target_grid_m2: 10_000.0,
        };
        let extent = Rect::new(
            Coord {
                x: 24.935,
                y: 60.164,
            },
            Coord {
                x: 24.953,
                y: 60.179,
            },
        );
        let areas = partition(&rule, &plan, extent).unwrap();
        let by_level = |l| areas.iter().filter(move |a: &&Area| a.level() == l);
        assert_eq!(by_level(Level::Street).count(), 4);
        assert_eq!(by_level(Level::Community).count(), 16);
        let grids: Vec<&Area> = by_level(Level::Grid).collect();
        // every grid's code extends a community present, and areas sum exactly
        for g in &grids {
            let parent = g.code.parent(&rule).unwrap();
            assert!(areas.iter().any(|a| a.code == parent));
        }
        let sum: f64 = grids.iter().map(|g| g.boundary.unsigned_area()).sum();
        let total = extent.to_polygon().unsigned_area();
        assert!((sum - total).abs() / total < 1e-12, "{sum} vs {total}");
        let mean = grids.iter().map(|g| g.area_m2()).sum::<f64>() / grids.len() as f64;
        assert!((7_000.0..14_000.0).contains(&mean), "mean grid {mean} m²");
        // numbering west→east, north→south: serial 1 is the north-west grid
        let first = grids[0].bbox().unwrap();
        let second = grids[1].bbox().unwrap();
        assert!(
            second.min().x >= first.max().x - 1e-12
                && (second.max().y - first.max().y).abs() < 1e-12
        );
    }

    #[test]
    fn too_many_grids_is_an_error_not_an_overflow() {
        let rule = CodeRule::national();
        let plan = PartitionPlan {
            district: rule.parse_area(Level::District, "990101").unwrap(),
            district_name: "Demo".into(),
            streets: (1, 1),
            communities: (1, 1),
            target_grid_m2: 100.0, // 10 m grids: thousands per community
        };
        let extent = Rect::new(
            Coord {
                x: 24.935,
                y: 60.164,
            },
            Coord {
                x: 24.953,
                y: 60.179,
            },
        );
        assert!(matches!(
            partition(&rule, &plan, extent),
            Err(CodeError::SerialOverflow { max: 99, .. })
        ));
    }
}
