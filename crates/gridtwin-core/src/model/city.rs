//! The city: its area hierarchy, components, incidents, buildings and roads.

use std::collections::{BTreeMap, HashMap};

use geo::{BoundingRect, Rect};
use serde::Serialize;

use crate::area::Area;
use crate::building::{Building, Road};
use crate::category::{CategoryKey, CategoryTable};
use crate::code::{AreaCode, CodeRule, Level};
use crate::component::Component;
use crate::incident::Incident;

/// A whole city model.
#[derive(Debug, Clone)]
pub struct City {
    pub name: String,
    pub rule: CodeRule,
    /// Areas of every level, in any order.
    pub areas: Vec<Area>,
    pub components: Vec<Component>,
    pub incidents: Vec<Incident>,
    pub buildings: Vec<Building>,
    pub roads: Vec<Road>,
}

/// A defect in the nesting of a city's areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchyProblem {
    pub code: String,
    pub message: String,
}

impl City {
    pub fn new(name: impl Into<String>, rule: CodeRule) -> Self {
        City {
            name: name.into(),
            rule,
            areas: Vec::new(),
            components: Vec::new(),
            incidents: Vec::new(),
            buildings: Vec::new(),
            roads: Vec::new(),
        }
    }

    /// Areas of one level.
    pub fn areas_at(&self, level: Level) -> impl Iterator<Item = &Area> {
        self.areas.iter().filter(move |a| a.level() == level)
    }

    /// Checks the codes nest: every area's code is unique, and every area below the
    /// top level present has its parent present (a child's code extends its parent's
    /// by construction of [`AreaCode::parent`]).
    pub fn check_hierarchy(&self) -> Vec<HierarchyProblem> {
        let mut problems = Vec::new();
        let mut seen: HashMap<AreaCode, usize> = HashMap::new();
        for (i, a) in self.areas.iter().enumerate() {
            if seen.insert(a.code, i).is_some() {
                problems.push(HierarchyProblem {
                    code: a.code.to_string(),
                    message: "duplicate area code".into(),
                });
            }
        }
        let top = self.areas.iter().map(|a| a.level()).min();
        for a in &self.areas {
            if Some(a.level()) == top {
                continue;
            }
            if let Some(p) = a.code.parent(&self.rule) {
                if !seen.contains_key(&p) {
                    problems.push(HierarchyProblem {
                        code: a.code.to_string(),
                        message: format!("parent {} `{p}` is missing", p.level()),
                    });
                }
            }
        }
        problems
    }

    /// Bounding box of everything in the city.
    pub fn extent(&self) -> Option<Rect<f64>> {
        use rayon::prelude::*;
        let union = |a: Rect<f64>, b: Rect<f64>| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        };
        let join = |a: Option<Rect<f64>>, b: Option<Rect<f64>>| match (a, b) {
            (Some(a), Some(b)) => Some(union(a, b)),
            (a, b) => a.or(b),
        };
        // (folded, not gathered: a megacity has 12 M component points)
        let points = |p: geo::Point<f64>| Some(Rect::new(p.0, p.0));
        let shapes = self
            .areas
            .iter()
            .filter_map(|a| a.bbox())
            .chain(
                self.buildings
                    .iter()
                    .filter_map(|b| b.footprint.bounding_rect()),
            )
            .chain(self.roads.iter().filter_map(|r| r.line.bounding_rect()))
            .map(Some)
            .fold(None, join);
        let components = self
            .components
            .par_iter()
            .map(|c| points(c.location))
            .reduce(|| None, join);
        let incidents = self
            .incidents
            .par_iter()
            .map(|i| points(i.location))
            .reduce(|| None, join);
        join(join(shapes, components), incidents)
    }

    /// Counts for `gridtwin info`.
    pub fn summary(&self, table: &CategoryTable) -> CitySummary {
        let mut areas = BTreeMap::new();
        for level in Level::ALL {
            let n = self.areas_at(level).count();
            if n > 0 {
                areas.insert(level.name().to_string(), n);
            }
        }
        let name = |k: &CategoryKey| {
            let code = k.class_code(&self.rule);
            match table.get(k) {
                Some(c) => format!("{code} {} ({})", c.minor_en, c.minor_zh),
                None => format!("{code} (not in category table)"),
            }
        };
        // counted by class first, each class named once (a megacity has 12 M
        // components and a few dozen classes)
        let by_name = |by_key: BTreeMap<CategoryKey, usize>| {
            let mut named: BTreeMap<String, usize> = BTreeMap::new();
            for (k, n) in by_key {
                *named.entry(name(&k)).or_default() += n;
            }
            named
        };
        let components = by_name(count_components_by_class(&self.components));
        let incidents = by_name(count_in_parallel(&self.incidents, |i| i.category));
        let grid_area_m2: f64 = self.areas_at(Level::Grid).map(|a| a.area_m2()).sum();
        let grids = self.areas_at(Level::Grid).count();
        CitySummary {
            name: self.name.clone(),
            extent: self
                .extent()
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
            areas,
            mean_grid_area_m2: (grids > 0).then(|| grid_area_m2 / grids as f64),
            components_total: self.components.len(),
            components,
            incidents_total: self.incidents.len(),
            incidents,
            buildings: self.buildings.len(),
            buildings_by_height_source: count_by(
                self.buildings.iter().map(|b| b.height_source.name()),
            ),
            roads: self.roads.len(),
            roads_by_speed_source: count_by(self.roads.iter().map(|r| r.speed_source.name())),
            road_length_km: self
                .roads
                .iter()
                .map(|r| {
                    r.line
                        .lines()
                        .map(|l| crate::coord::haversine_m(l.start.x, l.start.y, l.end.x, l.end.y))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / 1000.0,
        }
    }
}

/// How many components each category has: counted on all threads by the code's
/// class prefix (one division a component, a hash of a few hundred entries), each
/// prefix's category read once (a megacity has 12 M components; a `BTreeMap` entry
/// and four divisions a component were most of `gridtwin info`'s summary).
fn count_components_by_class(components: &[crate::Component]) -> BTreeMap<CategoryKey, usize> {
    use rayon::prelude::*;
    type ByPrefix =
        rustc_hash::FxHashMap<(u64, crate::code::ComponentLayout), (usize, CategoryKey)>;
    let by_prefix = components
        .par_iter()
        .fold(ByPrefix::default, |mut m, c| {
            m.entry(c.code.class_prefix())
                .or_insert_with(|| (0, c.category()))
                .0 += 1;
            m
        })
        .reduce(ByPrefix::default, |mut a, b| {
            for (prefix, (n, key)) in b {
                a.entry(prefix).or_insert((0, key)).0 += n;
            }
            a
        });
    let mut out = BTreeMap::new();
    for (n, key) in by_prefix.into_values() {
        *out.entry(key).or_default() += n;
    }
    out
}

/// How many of `items` have each key (counted on all threads, merged in key order).
fn count_in_parallel<T: Sync, K: Ord + Send>(
    items: &[T],
    key: impl Fn(&T) -> K + Sync,
) -> BTreeMap<K, usize> {
    use rayon::prelude::*;
    items
        .par_iter()
        .fold(BTreeMap::new, |mut m, t| {
            *m.entry(key(t)).or_default() += 1;
            m
        })
        .reduce(BTreeMap::new, |mut a, b| {
            for (k, n) in b {
                *a.entry(k).or_default() += n;
            }
            a
        })
}

fn count_by<'a>(it: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k.to_string()).or_default() += 1;
    }
    m
}

/// What `gridtwin info` prints and writes.
#[derive(Debug, Clone, Serialize)]
pub struct CitySummary {
    pub name: String,
    /// [min lon, min lat, max lon, max lat]
    pub extent: Option<[f64; 4]>,
    pub areas: BTreeMap<String, usize>,
    pub mean_grid_area_m2: Option<f64>,
    pub components_total: usize,
    pub components: BTreeMap<String, usize>,
    pub incidents_total: usize,
    pub incidents: BTreeMap<String, usize>,
    pub buildings: usize,
    pub buildings_by_height_source: BTreeMap<String, usize>,
    pub roads: usize,
    pub roads_by_speed_source: BTreeMap<String, usize>,
    pub road_length_km: f64,
}

impl std::fmt::Display for CitySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "city: {}", self.name)?;
        if let Some([a, b, c, d]) = self.extent {
            writeln!(f, "extent: {a:.5},{b:.5} .. {c:.5},{d:.5} (lon,lat WGS-84)")?;
        }
        writeln!(f, "areas:")?;
        for level in Level::ALL {
            if let Some(n) = self.areas.get(level.name()) {
                writeln!(f, "  {:<10} {n}", level.name())?;
            }
        }
        if let Some(m) = self.mean_grid_area_m2 {
            writeln!(f, "  mean unit-grid area: {m:.0} m²")?;
        }
        writeln!(f, "components: {}", self.components_total)?;
        for (k, n) in &self.components {
            writeln!(f, "  {k}: {n}")?;
        }
        writeln!(f, "incidents: {}", self.incidents_total)?;
        for (k, n) in &self.incidents {
            writeln!(f, "  {k}: {n}")?;
        }
        writeln!(
            f,
            "buildings: {} (height from {:?})",
            self.buildings, self.buildings_by_height_source
        )?;
        write!(
            f,
            "roads: {} ({:.1} km; speed from {:?})",
            self.roads, self.road_length_km, self.roads_by_speed_source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::{CodeRule, Level};
    use crate::{Component, ComponentStatus};

    /// The count by class prefix against the plain count by category, over seeded
    /// components of several districts, classes and serials.
    #[test]
    fn components_counted_by_class_prefix_equal_a_count_by_category() {
        let rule = CodeRule::national();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let districts =
            ["310101", "310104", "110101"].map(|d| rule.parse_area(Level::District, d).unwrap());
        let components: Vec<Component> = (0..20_000)
            .map(|_| {
                let d = &districts[next(3) as usize];
                let (major, minor) = (1 + next(12) as u32, 1 + next(9) as u32);
                Component {
                    code: rule.component_code(d, major, minor, 1 + next(999)).unwrap(),
                    location: geo::Point::new(121.4, 31.2),
                    department: "Roads".into(),
                    status: ComponentStatus::InService,
                    source_id: Default::default(),
                }
            })
            .collect();
        let by_prefix = count_components_by_class(&components);
        assert_eq!(by_prefix, count_in_parallel(&components, |c| c.category()));
        assert!(by_prefix.len() > 90, "{}", by_prefix.len());
        assert_eq!(by_prefix.values().sum::<usize>(), components.len());
    }
}
