//! Validating unit grids: broken rings (with where they cross), rings of no area,
//! interiors split by touching rings (OGC's rules, see [`crate::validity`]), overlaps (pair and
//! area), gaps inside a parent, grids crossing their parent, grids outside the size
//! rule, and duplicate, malformed or non-nesting codes.
//!
//! Areas are measured on a local metric frame; pieces under
//! [`CheckOptions::tolerance_m2`] are float noise along shared edges, not problems.

use std::collections::{BTreeMap, HashMap};

use geo::{Area as _, BooleanOps, BoundingRect, Centroid, Coord, Line, MultiPolygon};
use rstar::{primitives::GeomWithData, RTree, AABB};
use serde::Serialize;

use crate::code::{CodeRule, Level};
use crate::frame::LocalFrame;
use crate::validity::{check_area, InvalidKind};

/// A grid or parent as read, before any validity check.
#[derive(Debug, Clone)]
pub struct RawArea {
    /// Record number in the source file.
    pub record: u64,
    pub code: String,
    /// Boundary in lon/lat.
    pub boundary: MultiPolygon<f64>,
}

impl RawArea {
    /// Areas already in memory (generated, redrawn) as a file would hold them: record
    /// numbers from 1 in the order given, codes as text.
    pub fn numbered<'a>(areas: impl IntoIterator<Item = &'a crate::area::Area>) -> Vec<RawArea> {
        areas
            .into_iter()
            .enumerate()
            .map(|(i, a)| RawArea {
                record: i as u64 + 1,
                code: a.code.to_string(),
                boundary: a.boundary.clone(),
            })
            .collect()
    }
}

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A ring crosses or touches itself or another ring, has too few points, or a
    /// hole lies outside its shell (what `geo` judges).
    InvalidRing,
    /// A ring whose points lie on one line: the grid has no area.
    DegenerateRing,
    /// Rings touch so that the grid's interior is split in pieces: two areas under
    /// one code.
    DisconnectedInterior,
    Overlap,
    Gap,
    CrossesParent,
    Oversize,
    Undersize,
    DuplicateCode,
    MalformedCode,
    CodeNotExtendingParent,
}

/// One problem, with where it is.
#[derive(Debug, Clone, Serialize)]
pub struct GridProblem {
    pub kind: ProblemKind,
    /// Grid codes involved (two for an overlap; the parent's for a gap).
    pub codes: Vec<String>,
    pub area_m2: Option<f64>,
    /// lon, lat of the problem (crossing point, centroid of the overlap/gap/outside part).
    pub location: (f64, f64),
    pub detail: String,
    /// The problem geometry in lon/lat, where it has one.
    #[serde(skip)]
    pub geometry: Option<MultiPolygon<f64>>,
}

/// Size rule and tolerance.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    pub min_area_m2: f64,
    pub max_area_m2: f64,
    pub tolerance_m2: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        // Around the classic 10,000 m² unit grid.
        CheckOptions {
            min_area_m2: 2_000.0,
            max_area_m2: 40_000.0,
            tolerance_m2: 0.01,
        }
    }
}

/// Where a ring crosses itself, if it does: the first crossing of two non-adjacent edges.
fn self_crossing(ring: &geo::LineString<f64>) -> Option<Coord<f64>> {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let n = lines.len();
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // the closing edges share the first point
            }
            if let Some(x) = geo::line_intersection::line_intersection(lines[i], lines[j]) {
                return Some(match x {
                    geo::line_intersection::LineIntersection::SinglePoint {
                        intersection, ..
                    } => intersection,
                    geo::line_intersection::LineIntersection::Collinear { intersection } => {
                        intersection.start
                    }
                });
            }
        }
    }
    None
}

/// Checks grids (and, with parents, their nesting and coverage).
pub fn check(
    grids: &[RawArea],
    parents: Option<&[RawArea]>,
    rule: &CodeRule,
    opts: CheckOptions,
) -> Vec<GridProblem> {
    let mut problems = Vec::new();
    let all: Vec<&RawArea> = grids.iter().chain(parents.unwrap_or(&[])).collect();
    let centre = all
        .iter()
        .filter_map(|a| a.boundary.bounding_rect())
        .map(|r| r.center())
        .next()
        .unwrap_or(Coord { x: 0.0, y: 0.0 });
    let frame = LocalFrame::new(centre.x, centre.y);
    let local = |m: &MultiPolygon<f64>| frame.to_local_multipolygon(m);
    let back = |c: Coord<f64>| frame.to_lon_lat(c.x, c.y);
    let to_lon_lat = |m: &MultiPolygon<f64>| frame.to_lon_lat_multipolygon(m);
    let centroid_of = |m: &MultiPolygon<f64>| m.centroid().map(|p| back(p.0)).unwrap_or((0.0, 0.0));

    // Codes.
    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut codes = Vec::with_capacity(grids.len());
    for g in grids {
        let at = centroid_of(&local(&g.boundary));
        let code = rule.parse_area(Level::Grid, &g.code);
        if let Err(e) = &code {
            problems.push(GridProblem {
                kind: ProblemKind::MalformedCode,
                codes: vec![g.code.clone()],
                area_m2: None,
                location: at,
                detail: format!("record {}: {e}", g.record),
                geometry: None,
            });
        }
        if let Some(first) = seen.insert(&g.code, g.record) {
            problems.push(GridProblem {
                kind: ProblemKind::DuplicateCode,
                codes: vec![g.code.clone()],
                area_m2: None,
                location: at,
                detail: format!("record {} repeats record {first}", g.record),
                geometry: None,
            });
        }
        codes.push(code.ok());
    }

    // Rings, then sizes of the valid ones.
    let locals: Vec<MultiPolygon<f64>> = grids.iter().map(|g| local(&g.boundary)).collect();
    let mut valid = vec![true; grids.len()];
    for (i, g) in grids.iter().enumerate() {
        let invalid = match check_area(&g.boundary) {
            Ok(()) => continue,
            Err(e) => e,
        };
        valid[i] = false;
        let kind = match invalid.kind {
            InvalidKind::DegenerateRing => ProblemKind::DegenerateRing,
            InvalidKind::DisconnectedInterior => ProblemKind::DisconnectedInterior,
            InvalidKind::Empty | InvalidKind::Ring => ProblemKind::InvalidRing,
        };
        let crossing = g
            .boundary
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .find_map(self_crossing);
        let (location, detail) = match (invalid.location, crossing) {
            (Some(at), _) => (
                at,
                format!(
                    "record {}: {} at ({:.7}, {:.7})",
                    g.record, invalid.message, at.0, at.1
                ),
            ),
            (None, Some(c)) => (
                (c.x, c.y),
                format!(
                    "record {}: ring crosses itself at ({:.7}, {:.7})",
                    g.record, c.x, c.y
                ),
            ),
            (None, None) => (
                centroid_of(&locals[i]),
                format!("record {}: {}", g.record, invalid.message),
            ),
        };
        problems.push(GridProblem {
            kind,
            codes: vec![g.code.clone()],
            area_m2: None,
            location,
            detail,
            geometry: None,
        });
    }
    for (i, g) in grids.iter().enumerate().filter(|(i, _)| valid[*i]) {
        let a = locals[i].unsigned_area();
        let kind = if a > opts.max_area_m2 {
            ProblemKind::Oversize
        } else if a < opts.min_area_m2 {
            ProblemKind::Undersize
        } else {
            continue;
        };
        problems.push(GridProblem {
            kind,
            codes: vec![g.code.clone()],
            area_m2: Some(a),
            location: centroid_of(&locals[i]),
            detail: format!(
                "{a:.0} m² outside {}..{} m²",
                opts.min_area_m2, opts.max_area_m2
            ),
            geometry: None,
        });
    }

    // Overlaps between valid grids whose boxes meet.
    let tree = RTree::bulk_load(
        (0..grids.len())
            .filter(|&i| valid[i])
            .filter_map(|i| {
                let b = locals[i].bounding_rect()?;
                Some(GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [b.min().x, b.min().y],
                        [b.max().x, b.max().y],
                    ),
                    i,
                ))
            })
            .collect(),
    );
    for i in (0..grids.len()).filter(|&i| valid[i]) {
        let Some(b) = locals[i].bounding_rect() else {
            continue;
        };
        let mut others: Vec<usize> = tree
            .locate_in_envelope_intersecting(&AABB::from_corners(
                [b.min().x, b.min().y],
                [b.max().x, b.max().y],
            ))
            .map(|e| e.data)
            .filter(|&j| j > i)
            .collect();
        others.sort_unstable();
        for j in others {
            let inter = locals[i].intersection(&locals[j]);
            let a = inter.unsigned_area();
            if a > opts.tolerance_m2 {
                problems.push(GridProblem {
                    kind: ProblemKind::Overlap,
                    codes: vec![grids[i].code.clone(), grids[j].code.clone()],
                    area_m2: Some(a),
                    location: centroid_of(&inter),
                    detail: format!(
                        "{} and {} overlap by {a:.2} m²",
                        grids[i].code, grids[j].code
                    ),
                    geometry: Some(to_lon_lat(&inter)),
                });
            }
        }
    }

    // Parents: nesting, crossing, gaps.
    if let Some(parents) = parents {
        let parent_local: BTreeMap<&str, MultiPolygon<f64>> = parents
            .iter()
            .map(|p| (p.code.as_str(), local(&p.boundary)))
            .collect();
        let mut children: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, g) in grids.iter().enumerate() {
            let Some(code) = codes[i] else { continue };
            let parent = code
                .ancestor(rule, Level::Community)
                .map(|c| c.to_string())
                .unwrap_or_default();
            let Some((pcode, pl)) = parent_local.get_key_value(parent.as_str()) else {
                problems.push(GridProblem {
                    kind: ProblemKind::CodeNotExtendingParent,
                    codes: vec![g.code.clone()],
                    area_m2: None,
                    location: centroid_of(&locals[i]),
                    detail: format!("no parent community `{parent}` among the parents"),
                    geometry: None,
                });
                continue;
            };
            if !valid[i] {
                continue;
            }
            children.entry(pcode).or_default().push(i);
            let outside = locals[i].difference(pl);
            let a = outside.unsigned_area();
            if a > opts.tolerance_m2 {
                problems.push(GridProblem {
                    kind: ProblemKind::CrossesParent,
                    codes: vec![g.code.clone(), parent.clone()],
                    area_m2: Some(a),
                    location: centroid_of(&outside),
                    detail: format!("{a:.2} m² of {} lies outside community {parent}", g.code),
                    geometry: Some(to_lon_lat(&outside)),
                });
            }
        }
        for (pcode, pl) in &parent_local {
            let kids: Vec<&MultiPolygon<f64>> = children
                .get(pcode)
                .map(|v| v.iter().map(|&i| &locals[i]).collect())
                .unwrap_or_default();
            let covered = geo::algorithm::bool_ops::unary_union(kids.iter().copied());
            let gap = pl.difference(&covered);
            for piece in gap.0 {
                let piece = MultiPolygon(vec![piece]);
                let a = piece.unsigned_area();
                if a > opts.tolerance_m2 {
                    problems.push(GridProblem {
                        kind: ProblemKind::Gap,
                        codes: vec![pcode.to_string()],
                        area_m2: Some(a),
                        location: centroid_of(&piece),
                        detail: format!("{a:.2} m² of community {pcode} is in no grid"),
                        geometry: Some(to_lon_lat(&piece)),
                    });
                }
            }
        }
    }
    problems.sort_by(|a, b| {
        (a.kind, &a.codes)
            .cmp(&(b.kind, &b.codes))
            .then(a.location.0.total_cmp(&b.location.0))
    });
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::haversine_m;
    use crate::partition::{partition, PartitionPlan};
    use geo::{polygon, Rect};

    fn demo() -> (CodeRule, Vec<RawArea>, Vec<RawArea>) {
        let rule = CodeRule::national();
        let plan = PartitionPlan {
            district: rule.parse_area(Level::District, "990101").unwrap(),
            district_name: "d".into(),
            streets: (2, 2),
            communities: (2, 2),
            target_grid_m2: 10_000.0,
        };
        let areas = partition(&rule, &plan, Rect::new((24.935, 60.164), (24.954, 60.180))).unwrap();
        let raw = |l: Level| RawArea::numbered(areas.iter().filter(|a| a.level() == l));
        (rule, raw(Level::Grid), raw(Level::Community))
    }

    fn bbox(a: &RawArea) -> Rect<f64> {
        a.boundary.bounding_rect().unwrap()
    }

    fn rect(r: Rect<f64>) -> MultiPolygon<f64> {
        MultiPolygon(vec![r.to_polygon()])
    }

    #[test]
    fn generated_grids_are_clean() {
        let (rule, grids, parents) = demo();
        let p = check(&grids, Some(&parents), &rule, CheckOptions::default());
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn planted_defects_are_found_with_kind_and_place() {
        let (rule, mut grids, parents) = demo();
        let deg_per_m_lat = 1.0 / 111_195.0;
        let deg_per_m_lon = deg_per_m_lat / 60.17f64.to_radians().cos();
        // grids 0..n in north-west → south-east order; pick interior ones of community 1-1
        let find =
            |grids: &Vec<RawArea>, code: &str| grids.iter().position(|g| g.code == code).unwrap();
        // 1) overlap: grid 02 of community 1-1 extended 5 m east into grid 03
        let i = find(&grids, "99010100100102");
        let b = bbox(&grids[i]);
        grids[i].boundary = rect(Rect::new(
            b.min(),
            Coord {
                x: b.max().x + 5.0 * deg_per_m_lon,
                y: b.max().y,
            },
        ));
        // 2) gap: grid 06 shrunk 5 m from its west side
        let j = find(&grids, "99010100100106");
        let b = bbox(&grids[j]);
        grids[j].boundary = rect(Rect::new(
            Coord {
                x: b.min().x + 5.0 * deg_per_m_lon,
                y: b.min().y,
            },
            b.max(),
        ));
        // 3) sliver: grid 10 extended 0.2 m north into grid 05's row
        let k = find(&grids, "99010100100110");
        let bk = bbox(&grids[k]);
        grids[k].boundary = rect(Rect::new(
            bk.min(),
            Coord {
                x: bk.max().x,
                y: bk.max().y + 0.2 * deg_per_m_lat,
            },
        ));
        // 4) bow-tie ring
        let m = find(&grids, "99010100100108");
        let b = bbox(&grids[m]);
        grids[m].boundary = MultiPolygon(vec![
            polygon![(x: b.min().x, y: b.min().y), (x: b.max().x, y: b.max().y), (x: b.max().x, y: b.min().y), (x: b.min().x, y: b.max().y)],
        ]);
        // 5) crossing the parent: grid 01 (north-west corner of the district) pushed 10 m north
        let c = find(&grids, "99010100100101");
        let bc = bbox(&grids[c]);
        grids[c].boundary = rect(Rect::new(
            bc.min(),
            Coord {
                x: bc.max().x,
                y: bc.max().y + 10.0 * deg_per_m_lat,
            },
        ));
        // 6) a bad code
        let bad = find(&grids, "99010100100112");
        grids[bad].code = "9901010010011X".into();

        let p = check(&grids, Some(&parents), &rule, CheckOptions::default());
        let of = |k: ProblemKind| p.iter().filter(|x| x.kind == k).collect::<Vec<_>>();
        let overlaps = of(ProblemKind::Overlap);
        let big = overlaps
            .iter()
            .find(|o| o.codes == ["99010100100102", "99010100100103"])
            .expect("overlap 02/03");
        let h = haversine_m(
            bbox(&grids[i]).min().x,
            bbox(&grids[i]).min().y,
            bbox(&grids[i]).min().x,
            bbox(&grids[i]).max().y,
        );
        assert!(
            (big.area_m2.unwrap() - 5.0 * h).abs() / (5.0 * h) < 0.01,
            "{big:?}"
        );
        let sliver = overlaps
            .iter()
            .find(|o| o.codes.contains(&"99010100100110".to_string()))
            .expect("sliver");
        assert!(
            sliver.area_m2.unwrap() < 30.0 && sliver.area_m2.unwrap() > 5.0,
            "{sliver:?}"
        );
        // the planted 5 m gap, plus the areas of the two grids that cannot count as
        // cover (the bow-tie and the one with a malformed code)
        let gap = of(ProblemKind::Gap);
        assert_eq!(gap.len(), 3, "{gap:?}");
        let planted = gap
            .iter()
            .find(|g| (g.area_m2.unwrap() - 5.0 * h).abs() / (5.0 * h) < 0.01)
            .expect("the 5 m gap");
        assert!(
            planted.location.0 < bbox(&grids[j]).min().x
                && planted.location.0 > bbox(&grids[j]).min().x - 5.0 * deg_per_m_lon
        );
        let bow = of(ProblemKind::InvalidRing);
        assert_eq!(bow.len(), 1);
        let bm = bbox(&grids[m]);
        assert!(
            haversine_m(
                bow[0].location.0,
                bow[0].location.1,
                bm.center().x,
                bm.center().y
            ) < 0.5,
            "{:?}",
            bow[0]
        );
        let cross = of(ProblemKind::CrossesParent);
        assert_eq!(cross.len(), 1);
        assert_eq!(cross[0].codes[0], "99010100100101");
        assert!(
            (cross[0].area_m2.unwrap()
                / (10.0 * haversine_m(bc.min().x, bc.min().y, bc.max().x, bc.min().y))
                - 1.0)
                .abs()
                < 0.01
        );
        assert_eq!(of(ProblemKind::MalformedCode).len(), 1);
        assert!(of(ProblemKind::Oversize).is_empty());
    }
}
