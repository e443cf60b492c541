//! Picking: which building, component, incident or grid a ray from the camera hits,
//! and what the info panel says about it. GPU-free: a ray in local coordinates in,
//! a domain object out.

use geo::{BoundingRect, ChamberlainDuquetteArea, Contains, Point};
use gridtwin_core::{CategoryKind, CategoryTable, City, Level};

use crate::playback::{CaseState, Playback};
use crate::scene::CityScene;

/// What a click picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picked {
    /// Index into `City::buildings`.
    Building(usize),
    /// Index into `City::components`.
    Component(usize),
    /// Index into `Playback::cases`.
    Incident(usize),
    /// Index into `City::areas` (a unit grid).
    Grid(usize),
}

/// Spatial lookups for picking, built once per scene.
pub struct Picker {
    /// Building footprints in local metres (x east, y north), bbox and height.
    buildings: Vec<(geo::MultiPolygon<f64>, geo::Rect<f64>, f32)>,
    /// Unit grids in local metres, with their index into `City::areas`.
    grids: Vec<(usize, geo::MultiPolygon<f64>)>,
}

/// A ray in local coordinates (x east, y up, z south); `dir` need not be unit length.
#[derive(Debug, Clone, Copy)]
pub struct Ray {
    pub origin: [f32; 3],
    pub dir: [f32; 3],
}

impl Ray {
    fn at(&self, t: f32) -> [f32; 3] {
        [
            self.origin[0] + self.dir[0] * t,
            self.origin[1] + self.dir[1] * t,
            self.origin[2] + self.dir[2] * t,
        ]
    }

    /// Ray parameter where the ray crosses height `h`, if ahead.
    fn at_height(&self, h: f32) -> Option<f32> {
        if self.dir[1].abs() < 1e-9 {
            return None;
        }
        let t = (h - self.origin[1]) / self.dir[1];
        (t > 0.0).then_some(t)
    }

    /// (ray parameter, distance) of the closest approach to `p`.
    fn closest(&self, p: [f32; 3]) -> (f32, f32) {
        let d2: f32 = self.dir.iter().map(|d| d * d).sum::<f32>().max(1e-12);
        let w = [
            p[0] - self.origin[0],
            p[1] - self.origin[1],
            p[2] - self.origin[2],
        ];
        let t = (w[0] * self.dir[0] + w[1] * self.dir[1] + w[2] * self.dir[2]) / d2;
        let q = self.at(t);
        let dist = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2) + (q[2] - p[2]).powi(2)).sqrt();
        (t * d2.sqrt(), dist)
    }
}

impl Picker {
    pub fn new(city: &City, scene: &CityScene) -> Self {
        let buildings = city
            .buildings
            .iter()
            .map(|b| {
                let local = scene.frame.to_local_multipolygon(&b.footprint);
                let bbox = local
                    .bounding_rect()
                    .unwrap_or_else(|| geo::Rect::new((0.0, 0.0), (0.0, 0.0)));
                (local, bbox, b.height_m as f32)
            })
            .collect();
        let grids = city
            .areas
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level() == Level::Grid)
            .map(|(i, a)| (i, scene.frame.to_local_multipolygon(&a.boundary)))
            .collect();
        Picker { buildings, grids }
    }

    /// The nearest thing along the ray: a marker (incident, then component) within a
    /// tolerance that widens with distance, a building roof, else the grid under the
    /// ground point. `incidents` are the visible cases (index into the playback).
    pub fn pick(
        &self,
        ray: Ray,
        scene: &CityScene,
        incidents: &[(usize, [f32; 3])],
        marker_m: f32,
        incident_m: f32,
    ) -> Option<Picked> {
        let len = ray.dir.iter().map(|d| d * d).sum::<f32>().sqrt().max(1e-12);
        let mut best: Option<(f32, Picked)> = None;
        let mut offer = |t: f32, p: Picked| {
            if t > 0.0 && best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, p));
            }
        };
        // about half a degree of slack around small markers
        let tol = |t: f32, size: f32| size.max(t * 0.008);
        for &(i, p) in incidents {
            let c = [p[0], incident_m * 0.75, p[2]];
            let (t, d) = ray.closest(c);
            if d <= tol(t, incident_m) {
                offer(t, Picked::Incident(i));
            }
        }
        for (i, m) in scene.components.iter().enumerate() {
            let (t, d) = ray.closest(m.position);
            if d <= tol(t, marker_m) {
                offer(t, Picked::Component(i));
            }
        }
        for (i, (poly, bbox, h)) in self.buildings.iter().enumerate() {
            if let Some(t) = ray.at_height(*h) {
                let q = ray.at(t);
                let p = Point::new(q[0] as f64, -q[2] as f64);
                if bbox.contains(&p) && poly.contains(&p) {
                    offer(t * len, Picked::Building(i));
                }
            }
        }
        if let Some((_, p)) = best {
            return Some(p);
        }
        let q = ray.at(ray.at_height(0.0)?);
        let p = Point::new(q[0] as f64, -q[2] as f64);
        self.grids
            .iter()
            .find(|(_, g)| g.contains(&p))
            .map(|(i, _)| Picked::Grid(*i))
    }
}

/// Lines for the info panel. Nothing person-level: cases show their channel, codes,
/// times and the crew (a team), never a reporter or a satisfaction answer.
pub fn describe(
    picked: Picked,
    city: &City,
    table: &CategoryTable,
    playback: Option<&Playback>,
    now: i64,
) -> Vec<String> {
    let category_name = |kind: CategoryKind, code: &str| {
        table
            .find(kind, code)
            .map(|c| format!("{} / {}", c.major_en, c.minor_en))
    };
    match picked {
        Picked::Building(i) => {
            let b = &city.buildings[i];
            let area = b.footprint.chamberlain_duquette_unsigned_area();
            vec![
                format!("Building {}", b.id),
                format!("height {:.1} m ({})", b.height_m, b.height_source.name()),
                format!("footprint {:.0} m2", area),
            ]
        }
        Picked::Component(i) => {
            let c = &city.components[i];
            let code = format!("{:02}{:02}", c.code.major(), c.code.minor());
            let grid = grid_of(city, c.location);
            vec![
                format!("Component {}", c.code),
                format!(
                    "category {code}: {}",
                    category_name(CategoryKind::Component, &code)
                        .unwrap_or_else(|| "(not in the category table)".into())
                ),
                format!("owner {}", c.department),
                format!("status {}", c.status.name()),
                format!(
                    "grid {}",
                    grid.unwrap_or_else(|| "(outside every grid)".into())
                ),
            ]
        }
        Picked::Incident(i) => {
            let Some(pb) = playback else {
                return vec![];
            };
            let c = &pb.cases[i];
            let t = |s: Option<i64>| s.map(|s| pb.clock(s)).unwrap_or_else(|| "-".into());
            let state = CaseState::at(c, now, pb.closed_visible_s)
                .map(|s| s.name())
                .unwrap_or("not on the map");
            let mut lines = vec![
                format!("Case {} ({})", c.case_id, state),
                format!(
                    "category {}: {}",
                    c.category,
                    category_name(CategoryKind::Event, &c.category).unwrap_or_default()
                ),
                format!("grid {}  district {}", c.grid_code, c.district_code),
                format!("source {}  crew {}", c.source, c.crew),
                format!("occurred {}", t(Some(c.occurred_at))),
                format!("intake   {}", t(c.intake_at)),
                format!("verified {}", t(c.verified_at)),
                format!("dispatch {}", t(c.dispatched_at)),
                format!("on site  {}", t(c.arrived_at)),
                format!("handled  {}", t(c.handled_at)),
                format!("checked  {}", t(c.checked_at)),
                format!("closed   {}", t(c.closed_at)),
            ];
            if let Some(d) = c.deadline {
                lines.push(format!(
                    "deadline {}{}",
                    pb.clock(d),
                    if c.escalated { "  ESCALATED" } else { "" }
                ));
            }
            lines
        }
        Picked::Grid(i) => {
            let a = &city.areas[i];
            let inside = city
                .components
                .iter()
                .filter(|c| a.boundary.contains(&c.location))
                .count();
            let mut lines = vec![format!("Grid {} {}", a.code, a.name)];
            for level in [Level::Community, Level::Street, Level::District] {
                if let Some(p) = a.code.ancestor(&city.rule, level) {
                    lines.push(format!("{} {}", level.name(), p));
                }
            }
            let area = a.boundary.chamberlain_duquette_unsigned_area();
            lines.push(format!("area {:.3} km2", area / 1e6));
            lines.push(format!("{inside} components"));
            lines
        }
    }
}

fn grid_of(city: &City, p: Point<f64>) -> Option<String> {
    city.areas
        .iter()
        .find(|a| a.level() == Level::Grid && a.boundary.contains(&p))
        .map(|a| a.code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{build, SceneFile};
    use geo::InteriorPoint;
    use std::path::Path;

    fn demo() -> (City, CategoryTable, CityScene, SceneFile) {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let file = SceneFile::load(&repo.join("scenes/demo.toml")).unwrap();
        let (city, table, _) = gridtwin_io::city_dir::load_city(&file.city).unwrap();
        let scene = build(&city, &file.style);
        (city, table, scene, file)
    }

    fn down(p: [f32; 3]) -> Ray {
        Ray {
            origin: [p[0], 500.0, p[2]],
            dir: [0.0, -1.0, 0.0],
        }
    }

    #[test]
    fn rays_pick_what_they_hit() {
        let (city, table, scene, file) = demo();
        let picker = Picker::new(&city, &scene);
        let marker = file.style.marker_size_m;
        // a component straight below is picked, unless a roof above it is nearer
        let mut components = 0;
        for (i, m) in scene.components.iter().enumerate().step_by(97) {
            match picker.pick(down(m.position), &scene, &[], marker, 12.0) {
                Some(Picked::Component(j)) => {
                    let d = ((scene.components[j].position[0] - m.position[0]).powi(2)
                        + (scene.components[j].position[2] - m.position[2]).powi(2))
                    .sqrt();
                    assert!(d <= marker, "component {i}: picked {j} {d} m away");
                    components += 1;
                }
                Some(Picked::Building(b)) => {
                    // a vertical ray meets the roof right above the component
                    let p = city.components[i].location;
                    assert!(
                        city.buildings[b].footprint.contains(&p),
                        "component {i} under {b}?"
                    );
                }
                other => panic!("component {i}: picked {other:?}"),
            }
        }
        assert!(components > 5, "{components}");
        // a building roof is picked from above, with its height
        let (bi, b) = city
            .buildings
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.height_m.total_cmp(&b.1.height_m))
            .unwrap();
        let ip = b.footprint.interior_point().unwrap();
        let p = scene.local(ip.x(), ip.y(), 0.0);
        let no_components = CityScene {
            components: vec![],
            ..build(&city, &file.style)
        };
        assert_eq!(
            picker.pick(down(p), &no_components, &[], marker, 12.0),
            Some(Picked::Building(bi))
        );
        // open ground inside a grid: the grid
        let grid = city
            .areas
            .iter()
            .position(|a| {
                a.level() == Level::Grid && {
                    let c = a.boundary.interior_point().unwrap();
                    !city.buildings.iter().any(|b| b.footprint.contains(&c))
                }
            })
            .unwrap();
        let c = city.areas[grid].boundary.interior_point().unwrap();
        assert_eq!(
            picker.pick(
                down(scene.local(c.x(), c.y(), 0.0)),
                &no_components,
                &[],
                marker,
                12.0
            ),
            Some(Picked::Grid(grid))
        );
        // an incident marker wins over the ground below it
        let q = scene.local(c.x(), c.y(), 0.0);
        assert_eq!(
            picker.pick(down(q), &no_components, &[(7, q)], marker, 12.0),
            Some(Picked::Incident(7))
        );
        // nothing out in the void
        assert_eq!(
            picker.pick(
                down([50_000.0, 0.0, 50_000.0]),
                &no_components,
                &[],
                marker,
                12.0
            ),
            None
        );
        // an oblique ray: from the south at 45°, aimed at the roof centre, hits it
        let h = b.height_m as f32;
        let ray = Ray {
            origin: [p[0], h + 300.0, p[2] + 300.0],
            dir: [0.0, -1.0, -1.0],
        };
        assert_eq!(
            picker.pick(ray, &no_components, &[], marker, 12.0),
            Some(Picked::Building(bi))
        );
        // the info panel names the grid's parents and counts its components
        let lines = describe(Picked::Grid(grid), &city, &table, None, 0);
        assert!(lines[0].contains(&city.areas[grid].code.to_string()));
        let n = city
            .components
            .iter()
            .filter(|c| city.areas[grid].boundary.contains(&c.location))
            .count();
        assert!(
            lines.iter().any(|l| l == &format!("{n} components")),
            "{lines:?}"
        );
        let lines = describe(Picked::Component(0), &city, &table, None, 0);
        assert!(lines[0].contains(&city.components[0].code.to_string()));
        assert!(lines
            .iter()
            .any(|l| l.contains(&*city.components[0].department)));
    }
}
