//! The synthetic megacity: grids, components and incidents at a city's real scale,
//! deterministic by seed, for benchmarks and scale tests.
//!
//! Unit grids are the Voronoi tessellation of seeded random sites over a lon/lat box
//! (Shanghai's 121.2–121.7 E, 31.0–31.4 N by default), clipped to the box. Cell
//! vertices are Delaunay circumcentres computed once per triangle from its sites in a
//! fixed order, so neighbouring grids share their edges bit for bit: no gaps, no
//! overlaps. Grids are grouped into communities, communities into streets and streets
//! into districts by nearest seeded site at each level, so the codes nest; parent
//! boundaries are the unions of their children.
//!
//! A component or incident is placed uniformly in the box; its grid is the nearest
//! grid site (the defining property of a Voronoi cell), which gives its district code.

use std::collections::{BTreeMap, HashMap};

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Point, Polygon, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::{primitives::GeomWithData, RTree};
use spade::{DelaunayTriangulation, HasPosition, Point2, Triangulation};

use crate::area::Area;
use crate::building::{Building, HeightSource};
use crate::category::{CategoryKey, CategoryKind, CategoryTable};
use crate::code::{AreaCode, CodeError, CodeRule, Level};
use crate::component::{Component, ComponentStatus};
use crate::incident::{Incident, IntakeSource};

/// Parameters of a synthetic megacity.
#[derive(Debug, Clone)]
pub struct SynthParams {
    pub seed: u64,
    /// Number of unit grids (Shanghai reports about 40,000).
    pub grids: usize,
    pub extent: Rect<f64>,
    /// District codes and names (the first `districts` are used).
    pub districts: Vec<(AreaCode, String)>,
    /// Streets and communities per 40,000 grids (Shanghai: 234 and 6,509), scaled to `grids`.
    pub streets_per_40k: usize,
    pub communities_per_40k: usize,
    /// Also build street/community/district boundaries as unions of their grids.
    pub with_parent_boundaries: bool,
}

impl SynthParams {
    /// Shanghai's scale over the default box, with the given district list.
    pub fn shanghai(seed: u64, grids: usize, districts: Vec<(AreaCode, String)>) -> Self {
        SynthParams {
            seed,
            grids,
            extent: Rect::new(Coord { x: 121.2, y: 31.0 }, Coord { x: 121.7, y: 31.4 }),
            districts,
            streets_per_40k: 234,
            communities_per_40k: 6_509,
            with_parent_boundaries: true,
        }
    }
}

/// Why a megacity could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("a megacity needs at least one grid and one district")]
    Empty,
    #[error("{0}")]
    Code(#[from] CodeError),
    #[error("triangulation failed: {0}")]
    Triangulation(String),
    #[error("the category table has no {0} categories")]
    NoCategories(&'static str),
}

#[derive(Clone, Copy)]
struct Site {
    p: Point2<f64>,
    id: usize,
}

impl HasPosition for Site {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        self.p
    }
}

/// A generated megacity: its areas, and what is needed to place points in grids.
pub struct MegaCity {
    pub rule: CodeRule,
    /// Every area (city, districts, streets, communities, grids), sorted by code.
    pub areas: Vec<Area>,
    grid_codes: Vec<AreaCode>,
    site_tree: RTree<GeomWithData<[f64; 2], usize>>,
    extent: Rect<f64>,
}

fn random_sites(rng: &mut ChaCha8Rng, n: usize, r: Rect<f64>) -> Vec<[f64; 2]> {
    (0..n)
        .map(|_| {
            [
                r.min().x + rng.random::<f64>() * r.width(),
                r.min().y + rng.random::<f64>() * r.height(),
            ]
        })
        .collect()
}

/// Circumcentre of a triangle, from its corners sorted by site id so that every
/// cell sharing the triangle gets the very same bits.
fn circumcenter(mut t: [Site; 3]) -> Coord<f64> {
    t.sort_by_key(|s| s.id);
    let (a, b, c) = (t[0].p, t[1].p, t[2].p);
    let (bx, by) = (b.x - a.x, b.y - a.y);
    let (cx, cy) = (c.x - a.x, c.y - a.y);
    let d = 2.0 * (bx * cy - by * cx);
    let b2 = bx * bx + by * by;
    let c2 = cx * cx + cy * cy;
    Coord {
        x: a.x + (cy * b2 - by * c2) / d,
        y: a.y + (bx * c2 - cx * b2) / d,
    }
}

/// Point where segment a–b crosses an axis-aligned line, computed from the endpoints
/// in a canonical order so both cells sharing the segment get identical bits.
fn cross(a: Coord<f64>, b: Coord<f64>, vertical: bool, at: f64) -> Coord<f64> {
    let (p, q) = if (a.x, a.y) <= (b.x, b.y) {
        (a, b)
    } else {
        (b, a)
    };
    if vertical {
        Coord {
            x: at,
            y: p.y + (at - p.x) * (q.y - p.y) / (q.x - p.x),
        }
    } else {
        Coord {
            x: p.x + (at - p.y) * (q.x - p.x) / (q.y - p.y),
            y: at,
        }
    }
}

/// Sutherland–Hodgman clip of a convex ring to a rectangle.
fn clip(ring: Vec<Coord<f64>>, r: Rect<f64>) -> Vec<Coord<f64>> {
    let planes: [(bool, f64, bool); 4] = [
        (true, r.min().x, true),   // keep x >= min
        (true, r.max().x, false),  // keep x <= max
        (false, r.min().y, true),  // keep y >= min
        (false, r.max().y, false), // keep y <= max
    ];
    let mut pts = ring;
    for (vertical, at, keep_above) in planes {
        if pts.is_empty() {
            break;
        }
        let inside = |c: &Coord<f64>| {
            let v = if vertical { c.x } else { c.y };
            if keep_above {
                v >= at
            } else {
                v <= at
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 2);
        for i in 0..pts.len() {
            let cur = pts[i];
            let prev = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur, vertical, at)),
                (false, true) => {
                    out.push(cross(prev, cur, vertical, at));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        out.dedup();
        pts = out;
    }
    pts
}

/// Voronoi cells of `sites` clipped to `r`, one per site in input order.
fn voronoi(sites: &[[f64; 2]], r: Rect<f64>) -> Result<Vec<Polygon<f64>>, SynthError> {
    let n = sites.len();
    let mut all: Vec<Site> = sites
        .iter()
        .enumerate()
        .map(|(id, s)| Site {
            p: Point2::new(s[0], s[1]),
            id,
        })
        .collect();
    // A ring of far sites makes every real site interior, so every real cell is bounded.
    let (cx, cy) = (r.center().x, r.center().y);
    let (w, h) = (r.width() * 3.0, r.height() * 3.0);
    for (k, (dx, dy)) in [
        (-1., -1.),
        (0., -1.),
        (1., -1.),
        (1., 0.),
        (1., 1.),
        (0., 1.),
        (-1., 1.),
        (-1., 0.),
    ]
    .into_iter()
    .enumerate()
    {
        all.push(Site {
            p: Point2::new(cx + dx * w, cy + dy * h),
            id: n + k,
        });
    }
    let t = DelaunayTriangulation::<Site>::bulk_load(all)
        .map_err(|e| SynthError::Triangulation(format!("{e:?}")))?;
    let mut cells = vec![Polygon::new(LineString::new(vec![]), vec![]); n];
    for v in t.vertices() {
        let id = v.data().id;
        if id >= n {
            continue;
        }
        let mut ring: Vec<Coord<f64>> = Vec::new();
        for e in v.out_edges() {
            if let Some(face) = e.face().as_inner() {
                let vs = face.vertices();
                ring.push(circumcenter([*vs[0].data(), *vs[1].data(), *vs[2].data()]));
            }
        }
        ring.dedup();
        let mut ring = clip(ring, r);
        if let Some(&first) = ring.first() {
            ring.push(first);
        }
        cells[id] = Polygon::new(LineString::new(ring), vec![]);
    }
    Ok(cells)
}

/// Groups `children` (site per child) under the nearest of `parents` sites.
fn nearest_parent(children: &[[f64; 2]], parents: &[[f64; 2]]) -> Vec<usize> {
    let tree = RTree::bulk_load(
        parents
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new(*p, i))
            .collect(),
    );
    children
        .iter()
        .map(|c| tree.nearest_neighbor(c).map(|e| e.data).unwrap_or(0))
        .collect()
}

/// Serials within each parent: children ordered north→south, then west→east.
fn serials(parent_of: &[usize], sites: &[[f64; 2]]) -> Vec<u64> {
    let mut order: Vec<usize> = (0..parent_of.len()).collect();
    order.sort_by(|&a, &b| {
        (parent_of[a], -sites[a][1], sites[a][0])
            .partial_cmp(&(parent_of[b], -sites[b][1], sites[b][0]))
            .expect("finite sites")
    });
    let mut serial = vec![0u64; parent_of.len()];
    let mut next: HashMap<usize, u64> = HashMap::new();
    for i in order {
        let s = next.entry(parent_of[i]).or_insert(0);
        *s += 1;
        serial[i] = *s;
    }
    serial
}

impl MegaCity {
    /// Generates the areas of a megacity.
    pub fn generate(rule: &CodeRule, p: &SynthParams) -> Result<Self, SynthError> {
        if p.grids == 0 || p.districts.is_empty() {
            return Err(SynthError::Empty);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let scale =
            |per40k: usize| ((p.grids * per40k) as f64 / 40_000.0).round().max(1.0) as usize;
        let n_districts = p.districts.len().min(p.grids);
        let grid_sites = random_sites(&mut rng, p.grids, p.extent);
        let street_sites = random_sites(&mut rng, scale(p.streets_per_40k), p.extent);
        let comm_sites = random_sites(&mut rng, scale(p.communities_per_40k), p.extent);
        let district_sites = random_sites(&mut rng, n_districts, p.extent);

        let street_district = nearest_parent(&street_sites, &district_sites);
        let comm_street = nearest_parent(&comm_sites, &street_sites);
        let grid_comm = nearest_parent(&grid_sites, &comm_sites);

        // Only parents with children get codes; serials follow site order.
        let street_serial = serials(&street_district, &street_sites);
        let comm_serial = serials(&comm_street, &comm_sites);
        let grid_serial = serials(&grid_comm, &grid_sites);
        let street_code: Vec<AreaCode> = (0..street_sites.len())
            .map(|s| rule.child(&p.districts[street_district[s]].0, street_serial[s]))
            .collect::<Result<_, _>>()?;
        let comm_code: Vec<AreaCode> = (0..comm_sites.len())
            .map(|c| rule.child(&street_code[comm_street[c]], comm_serial[c]))
            .collect::<Result<_, _>>()?;
        let grid_codes: Vec<AreaCode> = (0..grid_sites.len())
            .map(|g| rule.child(&comm_code[grid_comm[g]], grid_serial[g]))
            .collect::<Result<_, _>>()?;

        let cells = voronoi(&grid_sites, p.extent)?;
        let mut areas: Vec<Area> = cells
            .into_iter()
            .zip(&grid_codes)
            .map(|(cell, code)| Area {
                source_id: String::new(),
                code: *code,
                name: format!("Grid {code}"),
                boundary: MultiPolygon(vec![cell]),
            })
            .collect();
        if p.with_parent_boundaries {
            let names: HashMap<AreaCode, String> =
                p.districts.iter().map(|(c, n)| (*c, n.clone())).collect();
            let mut level_areas: Vec<Area> = areas.clone();
            for level in [
                Level::Community,
                Level::Street,
                Level::District,
                Level::City,
            ] {
                let mut groups: BTreeMap<AreaCode, Vec<&Area>> = BTreeMap::new();
                for a in &level_areas {
                    if let Some(parent) = a.code.ancestor(rule, level) {
                        groups.entry(parent).or_default().push(a);
                    }
                }
                let parents: Vec<Area> = groups
                    .into_iter()
                    .map(|(code, children)| {
                        let boundary = children
                            .iter()
                            .map(|c| c.boundary.clone())
                            .reduce(|a, b| a.union(&b))
                            .unwrap_or_else(|| MultiPolygon(vec![]));
                        let name = names
                            .get(&code)
                            .cloned()
                            .unwrap_or_else(|| format!("{} {code}", level.name()));
                        Area {
                            source_id: String::new(),
                            code,
                            name,
                            boundary,
                        }
                    })
                    .collect();
                areas.extend(parents.iter().cloned());
                level_areas = parents;
            }
        }
        areas.sort_by_key(|a| a.code);
        Ok(MegaCity {
            rule: *rule,
            areas,
            grid_codes,
            site_tree: RTree::bulk_load(
                grid_sites
                    .iter()
                    .enumerate()
                    .map(|(i, s)| GeomWithData::new(*s, i))
                    .collect(),
            ),
            extent: p.extent,
        })
    }

    /// Unit grids only, sorted by code.
    pub fn grids(&self) -> impl Iterator<Item = &Area> {
        self.areas.iter().filter(|a| a.level() == Level::Grid)
    }

    /// The grid holding a point of the box (nearest grid site).
    pub fn grid_of(&self, lon: f64, lat: f64) -> AreaCode {
        let i = self
            .site_tree
            .nearest_neighbor(&[lon, lat])
            .map(|e| e.data)
            .unwrap_or(0);
        self.grid_codes[i]
    }

    fn random_point(&self, rng: &mut ChaCha8Rng) -> (f64, f64) {
        let r = self.extent;
        (
            r.min().x + rng.random::<f64>() * r.width(),
            r.min().y + rng.random::<f64>() * r.height(),
        )
    }

    /// `n` components, uniform over the box, with codes from their grid's district
    /// and a category drawn from the table's component categories.
    pub fn components<'a>(
        &'a self,
        table: &'a CategoryTable,
        n: usize,
        seed: u64,
    ) -> Result<impl Iterator<Item = Component> + 'a, SynthError> {
        let cats: Vec<(CategoryKey, String)> = table
            .iter()
            .filter(|c| c.key.kind == CategoryKind::Component)
            .map(|c| (c.key, c.department.clone()))
            .collect();
        if cats.is_empty() {
            return Err(SynthError::NoCategories("component"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x636f_6d70);
        let mut serial: HashMap<(AreaCode, CategoryKey), u64> = HashMap::new();
        let max_serial = 10u64.pow(self.rule.component().serial as u32) - 1;
        Ok((0..n).filter_map(move |i| {
            let (lon, lat) = self.random_point(&mut rng);
            let (key, dept) = &cats[rng.random_range(0..cats.len())];
            let damaged = rng.random::<f64>() < 0.02;
            let district = self
                .grid_of(lon, lat)
                .ancestor(&self.rule, Level::District)?;
            let s = serial.entry((district, *key)).or_insert(0);
            *s += 1;
            // Past the serial width a class is full in that district: skip, counted by caller.
            if *s > max_serial {
                return None;
            }
            let code = self
                .rule
                .component_code(&district, key.major, key.minor, *s)
                .ok()?;
            Some(Component {
                code,
                location: Point::new(lon, lat),
                department: dept.clone(),
                status: if damaged {
                    ComponentStatus::Damaged
                } else {
                    ComponentStatus::InService
                },
                source_id: format!("synth:{i}"),
            })
        }))
    }

    /// `n` buildings, uniform over the box: axis-aligned rectangles 10–40 m a side,
    /// heights skewed to low-rise (3–8 storeys mostly, a few towers up to ~150 m).
    /// For the viewer's performance scene; they do not avoid each other.
    pub fn buildings(&self, n: usize, seed: u64) -> impl Iterator<Item = Building> + '_ {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6275_696c);
        let m_per_deg_lat = 111_320.0;
        (0..n).map(move |i| {
            let (lon, lat) = self.random_point(&mut rng);
            let m_per_deg_lon = m_per_deg_lat * lat.to_radians().cos();
            let w = 10.0 + rng.random::<f64>() * 30.0;
            let d = 10.0 + rng.random::<f64>() * 30.0;
            let (dx, dy) = (w / 2.0 / m_per_deg_lon, d / 2.0 / m_per_deg_lat);
            // storeys: 3 + an exponential tail, 3 m each, capped at 50 storeys
            let storeys = (3.0 - 6.0 * (1.0 - rng.random::<f64>()).ln()).min(50.0);
            let ring = vec![
                Coord {
                    x: lon - dx,
                    y: lat - dy,
                },
                Coord {
                    x: lon + dx,
                    y: lat - dy,
                },
                Coord {
                    x: lon + dx,
                    y: lat + dy,
                },
                Coord {
                    x: lon - dx,
                    y: lat + dy,
                },
                Coord {
                    x: lon - dx,
                    y: lat - dy,
                },
            ];
            Building {
                id: format!("synth-b{i}"),
                footprint: MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]),
                height_m: (storeys * 3.0).round(),
                height_source: HeightSource::Levels,
            }
        })
    }

    /// `n` incidents over one year from `start` (Unix seconds), uniform over the box,
    /// event categories and sources drawn at random.
    pub fn incidents<'a>(
        &'a self,
        table: &'a CategoryTable,
        n: usize,
        seed: u64,
        start: i64,
    ) -> Result<impl Iterator<Item = Incident> + 'a, SynthError> {
        let cats: Vec<CategoryKey> = table
            .iter()
            .filter(|c| c.key.kind == CategoryKind::Event)
            .map(|c| c.key)
            .collect();
        if cats.is_empty() {
            return Err(SynthError::NoCategories("event"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x696e_6369);
        Ok((0..n).map(move |i| {
            let (lon, lat) = self.random_point(&mut rng);
            let category = cats[rng.random_range(0..cats.len())];
            let time = start + rng.random_range(0..365 * 86_400);
            let u = rng.random::<f64>();
            let source = if u < 0.5 {
                IntakeSource::Patrol
            } else if u < 0.85 {
                IntakeSource::Hotline
            } else {
                IntakeSource::Sensor
            };
            Incident {
                id: format!("S{i:09}"),
                category,
                location: Point::new(lon, lat),
                time,
                source,
                timeline: None,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area as _, Contains};

    fn districts(rule: &CodeRule) -> Vec<(AreaCode, String)> {
        ["310101", "310104", "310105"]
            .iter()
            .map(|c| (rule.parse_area(Level::District, c).unwrap(), c.to_string()))
            .collect()
    }

    #[test]
    fn voronoi_grids_tile_the_box_and_nest() {
        let rule = CodeRule::national();
        let p = SynthParams::shanghai(7, 500, districts(&rule));
        let city = MegaCity::generate(&rule, &p).unwrap();
        let grids: Vec<&Area> = city.grids().collect();
        assert_eq!(grids.len(), 500);
        let total: f64 = grids.iter().map(|g| g.boundary.unsigned_area()).sum();
        let boxed = p.extent.to_polygon().unsigned_area();
        assert!((total - boxed).abs() / boxed < 1e-9, "{total} vs {boxed}");
        // every grid's code extends an area present one level up
        let codes: std::collections::HashSet<AreaCode> =
            city.areas.iter().map(|a| a.code).collect();
        for g in &grids {
            assert!(codes.contains(&g.code.parent(&rule).unwrap()));
        }
        // a point's grid by nearest site is the Voronoi cell that contains it
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..500 {
            let (x, y) = city.random_point(&mut rng);
            let code = city.grid_of(x, y);
            let cell = grids.iter().find(|g| g.code == code).unwrap();
            assert!(
                cell.boundary.contains(&Point::new(x, y))
                    || geo::Intersects::intersects(&cell.boundary, &Point::new(x, y))
            );
        }
        // deterministic by seed
        let again = MegaCity::generate(&rule, &p).unwrap();
        assert_eq!(again.areas, city.areas);
    }

    #[test]
    fn components_carry_their_district_and_category() {
        let rule = CodeRule::national();
        let p = SynthParams {
            with_parent_boundaries: false,
            ..SynthParams::shanghai(3, 200, districts(&rule))
        };
        let city = MegaCity::generate(&rule, &p).unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/categories.csv");
        let table = CategoryTable::load(&path, &rule).unwrap();
        let comps: Vec<Component> = city.components(&table, 2000, 9).unwrap().collect();
        assert_eq!(comps.len(), 2000);
        for c in &comps {
            let grid = city.grid_of(c.location.x(), c.location.y());
            assert!(grid.extends(&c.code.district(&rule)));
            assert!(table.get(&c.category()).is_some());
        }
        let codes: std::collections::HashSet<u64> = comps.iter().map(|c| c.code.value()).collect();
        assert_eq!(codes.len(), comps.len(), "component codes are unique");
        let again: Vec<Component> = city.components(&table, 2000, 9).unwrap().collect();
        assert_eq!(again, comps);
    }

    #[test]
    fn buildings_lie_in_the_box_with_sane_sizes() {
        use geo::{BoundingRect, Contains};
        let rule = CodeRule::national();
        let p = SynthParams {
            with_parent_boundaries: false,
            ..SynthParams::shanghai(3, 50, districts(&rule))
        };
        let city = MegaCity::generate(&rule, &p).unwrap();
        let b: Vec<Building> = city.buildings(500, 4).collect();
        assert_eq!(b.len(), 500);
        for x in &b {
            let r = x.footprint.bounding_rect().unwrap();
            assert!(p.extent.contains(&r.center()));
            // 10..40 m a side, in degrees at this latitude
            let lat = r.center().y.to_radians().cos();
            let w = r.width() * 111_320.0 * lat;
            let h = r.height() * 111_320.0;
            assert!(
                (9.99..=40.01).contains(&w) && (9.99..=40.01).contains(&h),
                "{w} {h}"
            );
            assert!((9.0..=150.0).contains(&x.height_m));
        }
        assert_eq!(city.buildings(500, 4).collect::<Vec<_>>(), b);
        assert!(b.iter().any(|x| x.height_m > 30.0));
    }
}
