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
//!
//! Files by concern: the city's areas are built here from `sites` (seeded sites and
//! their nesting) and `voronoi` (the clipped cells); `scatter` places components,
//! buildings and incidents over the box.

use std::collections::{BTreeMap, HashMap};

use geo::{BooleanOps, Coord, MultiPolygon, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::{primitives::GeomWithData, RTree};

use crate::area::Area;
use crate::code::{AreaCode, CodeError, CodeRule, Level};

mod scatter;
mod sites;
#[cfg(test)]
mod tests;
mod voronoi;

use sites::{nearest_parent, random_sites, serials};
use voronoi::voronoi;

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

/// A generated megacity: its areas, and what is needed to place points in grids.
pub struct MegaCity {
    pub rule: CodeRule,
    /// Every area (city, districts, streets, communities, grids), sorted by code.
    pub areas: Vec<Area>,
    grid_codes: Vec<AreaCode>,
    site_tree: RTree<GeomWithData<[f64; 2], usize>>,
    extent: Rect<f64>,
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
            .map(|(cell, code)| Area::made_grid(*code, MultiPolygon(vec![cell])))
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
}
