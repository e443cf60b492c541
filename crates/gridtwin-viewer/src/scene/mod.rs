//! The city as renderable geometry, independent of any GPU: extruded buildings,
//! grid and community boundaries, component markers. Everything is placed relative to
//! a local origin (f64 source coordinates → f32 metre offsets), so there is no jitter
//! at city scale. Axes: x east, y up, z south (Bevy's right-handed, y-up frame).
//!
//! The scene file and its style are read in `file` and `style`, vertex data is
//! `mesh`'s [`MeshData`]; this module builds the [`CityScene`] from a city.

mod file;
mod mesh;
mod style;

use std::collections::BTreeMap;

use geo::{Area as _, TriangulateEarcut};
use gridtwin_core::frame::LocalFrame;
use gridtwin_core::{City, Level};

pub use file::{parse_at, Bookmark, PlaybackSpec, SceneFile, TourSpec};
pub use mesh::MeshData;
pub use style::{CaseStyle, HeatStyle, Style};

/// The renderable city.
pub struct CityScene {
    pub frame: LocalFrame,
    /// Half-extent of the city in metres (x, z), for camera placement.
    pub half_extent: (f32, f32),
    /// Height of the tallest building (m): the top of the box a view must frame.
    pub top_m: f32,
    pub ground: MeshData,
    pub buildings: MeshData,
    pub grid_lines: MeshData,
    pub community_lines: MeshData,
    pub roads: MeshData,
    /// Component markers, drawn instanced: one shared box per class.
    pub components: Vec<ComponentMarker>,
    /// Marker classes: label and colour, in the order `ComponentMarker::class` indexes.
    pub component_classes: Vec<(String, [f32; 3])>,
}

/// One component's marker: where, and which class (index into `component_classes`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentMarker {
    pub position: [f32; 3],
    pub class: u16,
}

impl CityScene {
    /// Local coordinates (x east, z south) of a lon/lat point at height `h`.
    pub fn local(&self, lon: f64, lat: f64, h: f32) -> [f32; 3] {
        local(&self.frame, lon, lat, h)
    }
}

/// `frame`'s local coordinates of a lon/lat point at height `h`: x east, y up, z south.
fn local(frame: &LocalFrame, lon: f64, lat: f64, h: f32) -> [f32; 3] {
    let (e, n) = frame.to_local(lon, lat);
    [e as f32, h, -n as f32]
}

fn rgba(c: [f32; 3]) -> [f32; 4] {
    [c[0], c[1], c[2], 1.0]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 4] {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
        1.0,
    ]
}

/// Builds the scene around the centre of the city's extent.
pub fn build(city: &City, style: &Style) -> CityScene {
    let ext = city
        .extent()
        .unwrap_or_else(|| geo::Rect::new((0.0, 0.0), (0.0, 0.0)));
    let frame = LocalFrame::new(ext.center().x, ext.center().y);
    let to = |x: f64, y: f64, h: f32| local(&frame, x, y, h);
    let (x0, z0) = (
        to(ext.min().x, ext.min().y, 0.0),
        to(ext.max().x, ext.max().y, 0.0),
    );
    let half_extent = (((z0[0] - x0[0]) / 2.0).abs(), ((z0[2] - x0[2]) / 2.0).abs());

    let mut ground = MeshData::default();
    let g = rgba(style.ground);
    ground.push_quad(
        [
            to(ext.min().x, ext.min().y, -0.1),
            to(ext.max().x, ext.min().y, -0.1),
            to(ext.max().x, ext.max().y, -0.1),
            to(ext.min().x, ext.max().y, -0.1),
        ],
        [0.0, 1.0, 0.0],
        g,
    );

    let mut buildings = MeshData::default();
    for b in &city.buildings {
        let h = b.height_m as f32;
        let c = mix(
            style.building_low,
            style.building_high,
            h / style.building_high_m,
        );
        for poly in &b.footprint {
            // Roof: earcut in lon/lat is fine (the frame is linear per axis).
            let base = buildings.positions.len() as u32;
            for t in poly.earcut_triangles_iter() {
                let k = buildings.positions.len() as u32;
                // keep the roof facing up: earcut's winding follows the ring; flip to CCW seen from above
                let (v1, v2, v3) = (t.v1(), t.v2(), t.v3());
                let pts = [to(v1.x, v1.y, h), to(v2.x, v2.y, h), to(v3.x, v3.y, h)];
                let cross = (pts[1][0] - pts[0][0]) * (pts[2][2] - pts[0][2])
                    - (pts[1][2] - pts[0][2]) * (pts[2][0] - pts[0][0]);
                let order = if cross < 0.0 { [0, 1, 2] } else { [0, 2, 1] };
                for i in order {
                    buildings.positions.push(pts[i]);
                    buildings.normals.push([0.0, 1.0, 0.0]);
                    buildings.colors.push(c);
                }
                buildings.indices.extend_from_slice(&[k, k + 1, k + 2]);
            }
            let _ = base;
            // Walls: one quad per ring edge, facing outward (rings of any orientation).
            let ccw = poly.signed_area() > 0.0;
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for l in ring.lines() {
                    let (a, b2) = (to(l.start.x, l.start.y, 0.0), to(l.end.x, l.end.y, 0.0));
                    let (dx, dz) = (b2[0] - a[0], b2[2] - a[2]);
                    let len = (dx * dx + dz * dz).sqrt().max(1e-6);
                    // outward normal for a CCW (lon/lat) exterior; flipped when clockwise
                    let s = if ccw { 1.0 } else { -1.0 };
                    let n = [s * -dz / len, 0.0, s * dx / len];
                    let (n, q) = if ccw {
                        (n, [a, b2, [b2[0], h, b2[2]], [a[0], h, a[2]]])
                    } else {
                        (n, [b2, a, [a[0], h, a[2]], [b2[0], h, b2[2]]])
                    };
                    buildings.push_quad(q, n, c);
                }
            }
        }
    }

    let mut grid_lines = MeshData::default();
    let mut community_lines = MeshData::default();
    for a in &city.areas {
        let (target, color, lift) = match a.level() {
            Level::Grid => (&mut grid_lines, rgba(style.grid_line), 0.3),
            Level::Community | Level::Street | Level::District => {
                (&mut community_lines, rgba(style.community_line), 0.6)
            }
            Level::City => continue,
        };
        for poly in &a.boundary {
            for l in poly.exterior().lines() {
                target.push_line(
                    to(l.start.x, l.start.y, lift),
                    to(l.end.x, l.end.y, lift),
                    color,
                );
            }
        }
    }

    let mut roads = MeshData::default();
    for r in &city.roads {
        for l in r.line.lines() {
            roads.push_line(
                to(l.start.x, l.start.y, 0.15),
                to(l.end.x, l.end.y, 0.15),
                rgba(style.road_line),
            );
        }
    }

    // One class per major code present, in code order, so a class is one draw batch.
    let majors: std::collections::BTreeSet<u32> =
        city.components.iter().map(|c| c.code.major()).collect();
    let component_classes: Vec<(String, [f32; 3])> = majors
        .iter()
        .map(|m| {
            let key = format!("{m:02}");
            let color = style
                .components
                .get(&key)
                .copied()
                .unwrap_or(style.component_default);
            (key, color)
        })
        .collect();
    let class_of: BTreeMap<u32, u16> = majors
        .iter()
        .enumerate()
        .map(|(i, m)| (*m, i as u16))
        .collect();
    let s = style.marker_size_m / 2.0;
    let components = city
        .components
        .iter()
        .map(|c| ComponentMarker {
            position: to(c.location.x(), c.location.y(), s),
            class: class_of[&c.code.major()],
        })
        .collect();
    let top_m = city
        .buildings
        .iter()
        .map(|b| b.height_m as f32)
        .filter(|h| h.is_finite())
        .fold(0.0, f32::max);
    CityScene {
        frame,
        half_extent,
        top_m,
        ground,
        buildings,
        grid_lines,
        community_lines,
        roads,
        components,
        component_classes,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn styles_are_validated() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/demo.toml");
        let file = SceneFile::load(&demo).unwrap();
        assert!(file.style.validate().is_ok());
        assert!(Style::default().validate().is_ok());
        // issue "Not slide-ready": one orange for two legend entries
        let mut s = Style::default();
        s.components.insert("01".into(), s.cases.dispatched);
        let e = s.validate().unwrap_err();
        assert!(
            e.contains("components.\"01\"") && e.contains("cases.dispatched"),
            "{e}"
        );
        let s = Style {
            water: [1.2, 0.0, 0.0],
            ..Style::default()
        };
        assert!(s.validate().unwrap_err().contains("water"));
        let mut s = Style::default();
        s.components.insert("x1".into(), [0.9, 0.1, 0.9]);
        assert!(s.validate().unwrap_err().contains("x1"));
        let mut s = Style::default();
        s.heat.opacity = 2.0;
        assert!(s.validate().unwrap_err().contains("opacity"));
        // through the file: the error names it
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.toml");
        let text = "city = \"c\"\n[style]\npark = [0.53, 0.80, 0.93]\n\
                    [style.components]\n\"01\" = [0.53, 0.80, 0.93]\n";
        std::fs::write(&f, text).unwrap();
        let e = SceneFile::load(&f).unwrap_err();
        assert!(e.contains("s.toml") && e.contains("park"), "{e}");
    }

    #[test]
    fn demo_city_scene_is_local_and_complete() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let scene = SceneFile::load(&repo.join("scenes/demo.toml")).unwrap();
        let (city, _, _) = gridtwin_io::city_dir::load_city(&scene.city).unwrap();
        let s = build(&city, &scene.style);
        // every vertex within a few km of the origin: f32 keeps centimetres there
        for p in s
            .buildings
            .positions
            .iter()
            .chain(&s.grid_lines.positions)
            .chain(&s.roads.positions)
        {
            assert!(
                p[0].abs() < 3_000.0 && p[2].abs() < 3_000.0 && p[1] > -1.0 && p[1] < 400.0,
                "{p:?}"
            );
        }
        assert_eq!(s.components.len(), city.components.len());
        for m in &s.components {
            assert!(m.position[0].abs() < 3_000.0 && m.position[2].abs() < 3_000.0);
            assert!((m.class as usize) < s.component_classes.len());
        }
        assert!(!s.roads.is_empty());
        // 192 grids × 4 edges, each a line of 2 indices
        assert_eq!(s.grid_lines.indices.len(), 192 * 4 * 2);
        assert!(s.buildings.indices.len() > city.buildings.len() * 12);
        // the tallest building reaches its height
        let top = s
            .buildings
            .positions
            .iter()
            .map(|p| p[1])
            .fold(0.0, f32::max);
        let tallest = city
            .buildings
            .iter()
            .map(|b| b.height_m)
            .fold(0.0, f64::max) as f32;
        assert!((top - tallest).abs() < 1e-3);
        // a 1 mm step at the origin's scale survives f32
        let (e, _) = s
            .frame
            .to_local(s.frame.origin().0 + 1e-8, s.frame.origin().1);
        assert!((e as f32) > 0.0);
    }
}
