//! The city as renderable geometry, independent of any GPU: extruded buildings,
//! grid and community boundaries, component markers. Everything is placed relative to
//! a local origin (f64 source coordinates → f32 metre offsets), so there is no jitter
//! at city scale. Axes: x east, y up, z south (Bevy's right-handed, y-up frame).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::{Area as _, TriangulateEarcut};
use gridtwin_core::frame::LocalFrame;
use gridtwin_core::{City, Level};
use serde::Deserialize;

/// Colours and sizes, from the scene file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Style {
    pub background: [f32; 3],
    pub ground: [f32; 3],
    pub building_low: [f32; 3],
    pub building_high: [f32; 3],
    pub building_high_m: f32,
    pub grid_line: [f32; 3],
    pub community_line: [f32; 3],
    pub marker_size_m: f32,
    pub component_default: [f32; 3],
    /// Marker colour by component major class (`"01"` …).
    #[serde(default)]
    pub components: BTreeMap<String, [f32; 3]>,
}

/// A scene file: the city to show and its style.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneFile {
    pub city: PathBuf,
    pub style: Style,
}

impl SceneFile {
    /// Loads a scene file; the city path is relative to it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut s: SceneFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        s.city = path.parent().unwrap_or(Path::new(".")).join(&s.city);
        Ok(s)
    }
}

/// Vertex data of one mesh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshData {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub colors: Vec<[f32; 4]>,
    pub indices: Vec<u32>,
}

impl MeshData {
    fn push_quad(&mut self, p: [[f32; 3]; 4], n: [f32; 3], c: [f32; 4]) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&p);
        self.normals.extend_from_slice(&[n; 4]);
        self.colors.extend_from_slice(&[c; 4]);
        self.indices
            .extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    fn push_line(&mut self, a: [f32; 3], b: [f32; 3], c: [f32; 4]) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&[a, b]);
        self.normals.extend_from_slice(&[[0.0, 1.0, 0.0]; 2]);
        self.colors.extend_from_slice(&[c; 2]);
        self.indices.extend_from_slice(&[base, base + 1]);
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// The renderable city.
pub struct CityScene {
    pub frame: LocalFrame,
    /// Half-extent of the city in metres (x, z), for camera placement.
    pub half_extent: (f32, f32),
    pub ground: MeshData,
    pub buildings: MeshData,
    pub grid_lines: MeshData,
    pub community_lines: MeshData,
    pub components: MeshData,
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
    let to = |x: f64, y: f64, h: f32| -> [f32; 3] {
        let (e, n) = frame.to_local(x, y);
        [e as f32, h, -n as f32]
    };
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

    let mut components = MeshData::default();
    let s = style.marker_size_m / 2.0;
    for c in &city.components {
        let major = format!("{:02}", c.code.major());
        let color = rgba(
            style
                .components
                .get(&major)
                .copied()
                .unwrap_or(style.component_default),
        );
        let p = to(c.location.x(), c.location.y(), s);
        // a small box: five visible faces (no bottom)
        let (x, y, z) = (p[0], p[1], p[2]);
        let v = |dx: f32, dy: f32, dz: f32| [x + dx * s, y + dy * s, z + dz * s];
        components.push_quad(
            [
                v(-1., 1., 1.),
                v(1., 1., 1.),
                v(1., 1., -1.),
                v(-1., 1., -1.),
            ],
            [0., 1., 0.],
            color,
        );
        components.push_quad(
            [
                v(-1., -1., 1.),
                v(1., -1., 1.),
                v(1., 1., 1.),
                v(-1., 1., 1.),
            ],
            [0., 0., 1.],
            color,
        );
        components.push_quad(
            [
                v(1., -1., -1.),
                v(-1., -1., -1.),
                v(-1., 1., -1.),
                v(1., 1., -1.),
            ],
            [0., 0., -1.],
            color,
        );
        components.push_quad(
            [
                v(1., -1., 1.),
                v(1., -1., -1.),
                v(1., 1., -1.),
                v(1., 1., 1.),
            ],
            [1., 0., 0.],
            color,
        );
        components.push_quad(
            [
                v(-1., -1., -1.),
                v(-1., -1., 1.),
                v(-1., 1., 1.),
                v(-1., 1., -1.),
            ],
            [-1., 0., 0.],
            color,
        );
    }
    CityScene {
        frame,
        half_extent,
        ground,
        buildings,
        grid_lines,
        community_lines,
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            .chain(&s.components.positions)
        {
            assert!(
                p[0].abs() < 3_000.0 && p[2].abs() < 3_000.0 && p[1] > -1.0 && p[1] < 400.0,
                "{p:?}"
            );
        }
        assert_eq!(s.components.indices.len(), city.components.len() * 5 * 6);
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
