//! Numbering a boundary layer that carries its own ids (`GEOCODE`, FIPS, ward names)
//! under the city's code rule (`gridtwin import --autocode`).
//!
//! The layers come top-down, one level each, the last being the unit grids: one layer
//! is grids, two are communities and grids, up to four (districts … grids). A child
//! finds its parent in the layer above by a parent field (the parent's own id) or, when
//! there is none, by spatial nesting: the parent whose boundary holds the child's
//! interior point. Children are numbered 1, 2, … under their parent in the natural
//! order of their own ids (numeric where every id is a number), so the codes do not
//! depend on the order of the file.
//!
//! Levels above the top layer do not exist as areas: their codes are made up, serial
//! 1 each, except the top layer's direct parent level, which takes as many serials as
//! the top layer needs (262 wards make grids under communities 001, 002 and 003 of
//! one street when a community numbers at most 99 grids).
//!
//! ```
//! use geo::{polygon, MultiPolygon};
//! use gridtwin_core::autocode::{autocode, SourceArea};
//! use gridtwin_core::CodeRule;
//!
//! let square = |x: f64, y: f64| MultiPolygon(vec![polygon![
//!     (x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)]]);
//! let ward = |id: &str, x: f64| SourceArea {
//!     source_id: id.into(), name: format!("ward {id}"), parent_ref: None,
//!     boundary: square(x, 0.0), file: "wards.shp".into(), record: 1,
//! };
//! let rule = CodeRule::national();
//! let city = rule.city("1301").unwrap();
//! let coded = autocode(&rule, &city, vec![vec![ward("13102", 1.0), ward("13101", 0.0)]]).unwrap();
//! // numbered in the order of their own ids, as unit grids of made-up parents
//! assert_eq!(coded.areas[0].code.to_string(), "13010100100101");
//! assert_eq!(coded.areas[0].source_id, "13101");
//! assert_eq!(coded.areas[1].code.to_string(), "13010100100102");
//! ```

use std::cmp::Ordering;
use std::collections::HashMap;

use geo::{BoundingRect, Contains, InteriorPoint, MultiPolygon, Rect};

use crate::area::Area;
use crate::code::{AreaCode, CodeError, CodeRule, Level};
use crate::quality::{RejectReason, Rejection};

/// One area of a layer as read, before it has a code.
#[derive(Debug, Clone)]
pub struct SourceArea {
    /// Its own id in the layer (kept as the coded area's `source_id`).
    pub source_id: String,
    pub name: String,
    /// The parent's own id, from the parent field; `None` = find it spatially.
    pub parent_ref: Option<String>,
    pub boundary: MultiPolygon<f64>,
    /// Where it was read, for rejections.
    pub file: String,
    pub record: u64,
}

/// The coded areas, and the records that could not be placed.
#[derive(Debug, Default)]
pub struct Coded {
    pub areas: Vec<Area>,
    /// How many areas each file gave (for the quality report).
    pub placed_per_file: std::collections::BTreeMap<String, u64>,
    pub rejected: Vec<Rejection>,
}

/// Why a layer set cannot be numbered at all.
#[derive(Debug, thiserror::Error)]
pub enum AutocodeError {
    #[error("--autocode numbers 1 to 4 area layers (districts, streets, communities, unit grids; the last is the grids); {0} were given")]
    LayerCount(usize),
    #[error("{file}: {count} {level}s under one parent (`{parent}`), but the code rule numbers at most {max} at that level: give the layer above, split the layer, or widen `{level}` in code_rule.toml")]
    TooManyChildren {
        file: String,
        level: &'static str,
        parent: String,
        count: usize,
        max: u64,
    },
    #[error(transparent)]
    Code(#[from] CodeError),
}

/// A coded area as the layer below looks for it: own id, code, boundary and its box.
type Placed = (String, AreaCode, MultiPolygon<f64>, Option<Rect<f64>>);

/// Numbers `layers` (top-down, the last unit grids) under `city`.
pub fn autocode(
    rule: &CodeRule,
    city: &AreaCode,
    layers: Vec<Vec<SourceArea>>,
) -> Result<Coded, AutocodeError> {
    let n = layers.len();
    if n == 0 || n > 4 {
        return Err(AutocodeError::LayerCount(n));
    }
    let mut out = Coded::default();
    // codes of the layer above, by its own ids, with boundaries for spatial nesting
    let mut above: Vec<Placed> = Vec::new();
    for (k, layer) in layers.into_iter().enumerate() {
        let level = Level::ALL[5 - n + k];
        // drop duplicate ids (the first stands) and find each area's parent
        let mut seen: HashMap<String, ()> = HashMap::new();
        let mut groups: HashMap<AreaCode, Vec<SourceArea>> = HashMap::new();
        let mut top: Vec<SourceArea> = Vec::new();
        for a in layer {
            if seen.insert(a.source_id.clone(), ()).is_some() {
                let detail = format!("id `{}` appeared earlier in this layer", a.source_id);
                out.rejected.push(Rejection::new(
                    &a.file,
                    a.record,
                    RejectReason::DuplicateId,
                    detail,
                ));
                continue;
            }
            if k == 0 {
                top.push(a);
                continue;
            }
            match parent_of(&a, &above) {
                Ok(p) => groups.entry(p).or_default().push(a),
                Err(detail) => out.rejected.push(Rejection::new(
                    &a.file,
                    a.record,
                    RejectReason::NoParent,
                    detail,
                )),
            }
        }
        let mut next = Vec::new();
        if k == 0 {
            top.sort_by(|a, b| natural(&a.source_id, &b.source_id));
            // the made-up ancestors: serial 1 down to the direct parent's level
            let parent_level = level.parent().expect("a layer level is below the city");
            let mut chain = *city;
            while chain.level() < parent_level {
                if chain.level().child() == Some(parent_level) {
                    break;
                }
                chain = rule.child(&chain, 1)?;
            }
            let per_parent = rule.max_children(level) as usize;
            let parents_needed = top.len().div_ceil(per_parent.max(1));
            if chain.level() == parent_level {
                // the parent is the city itself: one parent, nothing made up
                if top.len() > per_parent {
                    return Err(AutocodeError::TooManyChildren {
                        file: top[0].file.clone(),
                        level: level.name(),
                        parent: chain.to_string(),
                        count: top.len(),
                        max: per_parent as u64,
                    });
                }
            } else if parents_needed as u64 > rule.max_children(parent_level) {
                return Err(AutocodeError::TooManyChildren {
                    file: top[0].file.clone(),
                    level: level.name(),
                    parent: chain.to_string(),
                    count: top.len(),
                    max: per_parent as u64 * rule.max_children(parent_level),
                });
            }
            for (i, a) in top.into_iter().enumerate() {
                let parent = if chain.level() == parent_level {
                    chain
                } else {
                    rule.child(&chain, (i / per_parent) as u64 + 1)?
                };
                let code = rule.child(&parent, (i % per_parent) as u64 + 1)?;
                next.push(place(&mut out, a, code));
            }
        } else {
            let mut parents: Vec<AreaCode> = groups.keys().copied().collect();
            parents.sort();
            for p in parents {
                let mut children = groups.remove(&p).unwrap_or_default();
                children.sort_by(|a, b| natural(&a.source_id, &b.source_id));
                let max = rule.max_children(level);
                if children.len() as u64 > max {
                    return Err(AutocodeError::TooManyChildren {
                        file: children[0].file.clone(),
                        level: level.name(),
                        parent: p.to_string(),
                        count: children.len(),
                        max,
                    });
                }
                for (i, a) in children.into_iter().enumerate() {
                    let code = rule.child(&p, i as u64 + 1)?;
                    next.push(place(&mut out, a, code));
                }
            }
        }
        above = next;
    }
    out.areas.sort_by_key(|a| a.code);
    Ok(out)
}

/// Adds the coded area; returns what the layer below needs to find it.
fn place(out: &mut Coded, a: SourceArea, code: AreaCode) -> Placed {
    let bbox = a.boundary.bounding_rect();
    *out.placed_per_file.entry(a.file.clone()).or_insert(0) += 1;
    out.areas.push(Area {
        code,
        name: a.name,
        source_id: a.source_id.clone(),
        boundary: a.boundary.clone(),
    });
    (a.source_id, code, a.boundary, bbox)
}

/// The parent in the layer above: by the parent field, else the first (in code order)
/// whose boundary holds the child's interior point.
fn parent_of(a: &SourceArea, above: &[Placed]) -> Result<AreaCode, String> {
    if let Some(r) = &a.parent_ref {
        return above
            .iter()
            .find(|(id, ..)| id == r)
            .map(|(_, c, ..)| *c)
            .ok_or_else(|| format!("parent `{r}` is not among the areas of the layer above"));
    }
    let Some(p) = a.boundary.interior_point() else {
        return Err("an empty boundary has no place in the layer above".into());
    };
    let mut hits: Vec<AreaCode> = above
        .iter()
        .filter(|(_, _, b, bb)| {
            bb.is_some_and(|r| {
                r.min().x <= p.x() && p.x() <= r.max().x && r.min().y <= p.y() && p.y() <= r.max().y
            }) && b.contains(&p)
        })
        .map(|(_, c, ..)| *c)
        .collect();
    hits.sort();
    hits.first().copied().ok_or_else(|| {
        format!(
            "its interior point ({:.6}, {:.6}) lies in no area of the layer above (give a parent field)",
            p.x(),
            p.y()
        )
    })
}

/// Natural order of ids: numerically when both are integers, else as text.
fn natural(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<i128>(), b.trim().parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)
        ]])
    }

    fn src(id: &str, parent: Option<&str>, b: MultiPolygon<f64>, record: u64) -> SourceArea {
        SourceArea {
            source_id: id.into(),
            name: id.into(),
            parent_ref: parent.map(Into::into),
            boundary: b,
            file: "f".into(),
            record,
        }
    }

    #[test]
    fn two_layers_nest_spatially_and_by_field() {
        let rule = CodeRule::national();
        let city = rule.city("4401").unwrap();
        let communities = vec![
            src("B", None, rect(1.0, 0.0, 2.0, 1.0), 1),
            src("A", None, rect(0.0, 0.0, 1.0, 1.0), 2),
        ];
        let grids = vec![
            // spatial: inside A
            src("10", None, rect(0.1, 0.1, 0.4, 0.4), 1),
            src("9", None, rect(0.5, 0.5, 0.9, 0.9), 2),
            // by field: B, although drawn inside A
            src("3", Some("B"), rect(0.2, 0.6, 0.3, 0.7), 3),
            // nowhere
            src("7", None, rect(5.0, 5.0, 6.0, 6.0), 4),
            // duplicate id
            src("9", None, rect(1.1, 0.1, 1.2, 0.2), 5),
            // a parent field naming nothing
            src("8", Some("Z"), rect(1.1, 0.1, 1.2, 0.2), 6),
        ];
        let c = autocode(&rule, &city, vec![communities, grids]).unwrap();
        let by_id: HashMap<&str, String> = c
            .areas
            .iter()
            .map(|a| (a.source_id.as_str(), a.code.to_string()))
            .collect();
        assert_eq!(by_id["A"], "440101001001");
        assert_eq!(by_id["B"], "440101001002");
        // numeric order under A: 9 before 10
        assert_eq!(by_id["9"], "44010100100101");
        assert_eq!(by_id["10"], "44010100100102");
        assert_eq!(by_id["3"], "44010100100201");
        let mut reasons: Vec<(u64, RejectReason)> =
            c.rejected.iter().map(|r| (r.record, r.reason)).collect();
        reasons.sort_by_key(|r| r.0);
        assert_eq!(
            reasons,
            vec![
                (4, RejectReason::NoParent),
                (5, RejectReason::DuplicateId),
                (6, RejectReason::NoParent)
            ]
        );
    }

    #[test]
    fn a_large_top_layer_spills_into_made_up_parents() {
        let rule = CodeRule::national();
        let city = rule.city("1300").unwrap();
        let wards: Vec<SourceArea> = (0..262)
            .map(|i| {
                src(
                    &format!("{}", 13101 + i),
                    None,
                    rect(i as f64, 0.0, i as f64 + 1.0, 1.0),
                    i,
                )
            })
            .collect();
        let c = autocode(&rule, &city, vec![wards]).unwrap();
        assert_eq!(c.areas.len(), 262);
        assert_eq!(c.areas[0].code.to_string(), "13000100100101");
        assert_eq!(c.areas[98].code.to_string(), "13000100100199");
        assert_eq!(c.areas[99].code.to_string(), "13000100100201");
        assert_eq!(c.areas[261].code.to_string(), "13000100100364");
        assert_eq!(c.areas[261].source_id, "13362");
    }

    #[test]
    fn too_many_children_under_a_real_parent_is_explained() {
        let rule = CodeRule::national();
        let city = rule.city("1300").unwrap();
        let parent = vec![src("P", None, rect(0.0, 0.0, 200.0, 1.0), 1)];
        let kids: Vec<SourceArea> = (0..100)
            .map(|i| {
                src(
                    &i.to_string(),
                    Some("P"),
                    rect(i as f64, 0.0, i as f64 + 1.0, 1.0),
                    i,
                )
            })
            .collect();
        let e = autocode(&rule, &city, vec![parent, kids]).unwrap_err();
        assert!(e.to_string().contains("at most 99"), "{e}");
        assert!(autocode(&rule, &city, vec![]).is_err());
    }
}
