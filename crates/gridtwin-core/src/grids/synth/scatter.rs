//! What the megacity holds besides its areas: components, buildings and incidents
//! scattered uniformly over its box, deterministic by seed.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{MegaCity, SynthError};
use crate::building::{Building, HeightSource};
use crate::category::{CategoryKey, CategoryKind, CategoryTable};
use crate::code::{AreaCode, Level};
use crate::component::{Component, ComponentStatus};
use crate::incident::{Incident, IntakeSource};

impl MegaCity {
    /// `n` components, uniform over the box, with codes from their grid's district
    /// and a category drawn from the table's component categories.
    pub fn components<'a>(
        &'a self,
        table: &'a CategoryTable,
        n: usize,
        seed: u64,
    ) -> Result<impl Iterator<Item = Component> + 'a, SynthError> {
        let cats: Vec<(CategoryKey, std::sync::Arc<str>)> = table
            .iter()
            .filter(|c| c.key.kind == CategoryKind::Component)
            .map(|c| (c.key, c.department.as_str().into()))
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
                source_id: crate::component::SmolStr::from(format!("synth:{i}")),
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
