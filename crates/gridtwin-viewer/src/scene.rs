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

/// Colours and sizes, from the scene file's `[style]`; anything left out takes the
/// default below. The defaults give each legend family its own hue family and stay
/// apart for colour-blind viewers (Paul Tol's muted and vibrant schemes): components
/// in cyan, sand, olive, green, teal and dark grey; incident states in warm reds and
/// magentas; heat in a single purple ramp; grids in blues; the basemap pale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
    pub components: BTreeMap<String, [f32; 3]>,
    pub road_line: [f32; 3],
    /// Basemap water and parks (drawn only when the city has a `basemap.geojson`).
    pub water: [f32; 3],
    pub park: [f32; 3],
    /// Place names of the basemap.
    pub place_label: [f32; 3],
    /// Incident marker colours by case state.
    pub cases: CaseStyle,
    /// Incident heat columns.
    pub heat: HeatStyle,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            background: [0.95, 0.96, 0.97],
            ground: [0.86, 0.87, 0.85],
            building_low: [0.90, 0.88, 0.84],
            building_high: [0.60, 0.57, 0.54],
            building_high_m: 30.0,
            grid_line: [0.27, 0.47, 0.67],
            community_line: [0.13, 0.20, 0.40],
            marker_size_m: 4.0,
            component_default: [0.50, 0.50, 0.50],
            components: BTreeMap::new(),
            road_line: [0.55, 0.55, 0.58],
            water: [0.62, 0.77, 0.89],
            park: [0.66, 0.82, 0.60],
            place_label: [0.12, 0.14, 0.18],
            cases: CaseStyle::default(),
            heat: HeatStyle::default(),
        }
    }
}

/// Two legend colours closer than this (Euclidean, sRGB 0..1) read as the same colour.
const SAME_COLOUR: f32 = 0.06;

impl Style {
    /// Checks the style can be drawn and read: colour channels within 0..1, sizes
    /// positive, component keys two-digit major codes, and no two legend entries in
    /// (nearly) the same colour — a legend that shows one colour for two things
    /// cannot be read.
    pub fn validate(&self) -> Result<(), String> {
        let entries = self.legend_colours();
        for (name, c) in entries.iter().chain(
            [
                ("background".to_string(), self.background),
                ("ground".to_string(), self.ground),
                ("building_low".to_string(), self.building_low),
                ("building_high".to_string(), self.building_high),
                ("road_line".to_string(), self.road_line),
                ("place_label".to_string(), self.place_label),
            ]
            .iter(),
        ) {
            if c.iter().any(|v| !v.is_finite() || !(0.0..=1.0).contains(v)) {
                return Err(format!(
                    "[style] {name} = {c:?}: colour channels must be within 0..1"
                ));
            }
        }
        for (name, v) in [
            ("building_high_m", self.building_high_m),
            ("marker_size_m", self.marker_size_m),
            ("cases.marker_size_m", self.cases.marker_size_m),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err(format!("[style] {name} = {v}: must be > 0"));
            }
        }
        let h = &self.heat;
        if !h.m_per_incident.is_finite() || h.m_per_incident < 0.0 {
            return Err(format!(
                "[style] heat.m_per_incident = {}: must be >= 0",
                h.m_per_incident
            ));
        }
        if !(0.0..=1.0).contains(&h.opacity) {
            return Err(format!(
                "[style] heat.opacity = {}: must be within 0..1",
                h.opacity
            ));
        }
        for key in self.components.keys() {
            if key.len() != 2 || !key.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "[style.components] `{key}`: keys are two-digit major classes (\"01\" …)"
                ));
            }
        }
        for (i, (a, ca)) in entries.iter().enumerate() {
            for (b, cb) in &entries[i + 1..] {
                let d = ca
                    .iter()
                    .zip(cb)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f32>()
                    .sqrt();
                if d < SAME_COLOUR {
                    return Err(format!(
                        "[style] {a} {ca:?} and {b} {cb:?} are the same colour in the legend; \
                         give each its own"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every colour the legend may show, named as in the scene file.
    fn legend_colours(&self) -> Vec<(String, [f32; 3])> {
        let mut v: Vec<(String, [f32; 3])> = self
            .components
            .iter()
            .map(|(k, c)| (format!("components.\"{k}\""), *c))
            .collect();
        v.push(("component_default".into(), self.component_default));
        let c = &self.cases;
        for (n, col) in [
            ("reported", c.reported),
            ("dispatched", c.dispatched),
            ("handling", c.handling),
            ("checking", c.checking),
            ("closed", c.closed),
        ] {
            v.push((format!("cases.{n}"), col));
        }
        v.push(("heat.low".into(), self.heat.low));
        v.push(("heat.high".into(), self.heat.high));
        v.push(("grid_line".into(), self.grid_line));
        v.push(("community_line".into(), self.community_line));
        v.push(("water".into(), self.water));
        v.push(("park".into(), self.park));
        v
    }
}

/// Incident marker colour for each case state, and marker size. The states run in
/// warm reds and magentas (Tol's vibrant scheme), closed ones fade to grey.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaseStyle {
    pub reported: [f32; 3],
    pub dispatched: [f32; 3],
    pub handling: [f32; 3],
    pub checking: [f32; 3],
    pub closed: [f32; 3],
    pub marker_size_m: f32,
}

impl Default for CaseStyle {
    fn default() -> Self {
        CaseStyle {
            reported: [0.80, 0.20, 0.07],
            dispatched: [0.93, 0.47, 0.20],
            handling: [0.93, 0.20, 0.47],
            checking: [0.53, 0.13, 0.33],
            closed: [0.73, 0.73, 0.73],
            marker_size_m: 16.0,
        }
    }
}

/// Heat columns: colour from `low` to `high` with the count (one hue, so more reads as
/// darker for every viewer), `m_per_incident` metres of height per incident in the window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeatStyle {
    pub low: [f32; 3],
    pub high: [f32; 3],
    pub m_per_incident: f32,
    pub opacity: f32,
}

impl Default for HeatStyle {
    fn default() -> Self {
        HeatStyle {
            low: [0.76, 0.65, 0.87],
            high: [0.33, 0.18, 0.55],
            m_per_incident: 30.0,
            opacity: 0.55,
        }
    }
}

/// What to play: a scenario simulated in-process (deterministic by seed), or the
/// timeline CSV of a `gridtwin simulate` replication.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybackSpec {
    /// Scenario file (relative to the scene file), simulated when the viewer starts.
    pub scenario: Option<PathBuf>,
    /// Or a replication's `timeline.csv` (relative to the scene file).
    pub timeline: Option<PathBuf>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulate only this many days of the scenario (a presenter's "day").
    pub days: Option<f64>,
    /// H3 resolution of the heat columns.
    #[serde(default = "default_heat_resolution")]
    pub heat_resolution: u8,
    /// A heat column counts the incidents reported in this many hours before now.
    #[serde(default = "default_heat_window")]
    pub heat_window_hours: f64,
    /// Closed cases stay visible (green) this long.
    #[serde(default = "default_closed_visible")]
    pub closed_visible_hours: f64,
}

fn default_seed() -> u64 {
    1
}
fn default_heat_resolution() -> u8 {
    9
}
fn default_heat_window() -> f64 {
    3.0
}
fn default_closed_visible() -> f64 {
    1.0
}

/// A named camera view: looking at `center` (lon, lat) from `distance_m` away,
/// `yaw_deg` clockwise from north, `pitch_deg` above the horizon; `at` is the
/// playback time a tour shows there (`HH:MM` since the start, or hours).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bookmark {
    pub name: String,
    pub center: [f64; 2],
    pub distance_m: f32,
    #[serde(default)]
    pub yaw_deg: f32,
    #[serde(default = "default_pitch")]
    pub pitch_deg: f32,
    pub at: Option<String>,
}

fn default_pitch() -> f32 {
    45.0
}

/// Tour mode: fly from bookmark to bookmark.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TourSpec {
    /// Seconds spent at each stop (after the flight).
    #[serde(default = "default_dwell")]
    pub dwell_s: f32,
    /// Seconds of flight between stops.
    #[serde(default = "default_flight")]
    pub flight_s: f32,
}

impl Default for TourSpec {
    fn default() -> Self {
        TourSpec {
            dwell_s: default_dwell(),
            flight_s: default_flight(),
        }
    }
}

fn default_dwell() -> f32 {
    6.0
}
fn default_flight() -> f32 {
    3.0
}

/// Parses a playback time: `HH:MM` (hours may exceed 24) or decimal hours, both
/// counted from the start of the playback. Returns seconds.
///
/// ```
/// use gridtwin_viewer::scene::parse_at;
/// assert_eq!(parse_at("09:30"), Ok(34_200));
/// assert_eq!(parse_at("26:00"), Ok(93_600));
/// assert_eq!(parse_at("1.5"), Ok(5_400));
/// assert!(parse_at("9:75").is_err());
/// ```
pub fn parse_at(text: &str) -> Result<i64, String> {
    let bad = || format!("time `{text}`: expected HH:MM or hours since the start");
    let t = text.trim();
    if let Some((h, m)) = t.split_once(':') {
        let h: i64 = h.parse().map_err(|_| bad())?;
        let m: i64 = m.parse().map_err(|_| bad())?;
        if h < 0 || !(0..60).contains(&m) {
            return Err(bad());
        }
        Ok(h * 3600 + m * 60)
    } else {
        let h: f64 = t.parse().map_err(|_| bad())?;
        if !h.is_finite() || h < 0.0 {
            return Err(bad());
        }
        Ok((h * 3600.0).round() as i64)
    }
}

/// A scene file: the city to show and its style.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneFile {
    pub city: PathBuf,
    #[serde(default)]
    pub style: Style,
    pub playback: Option<PlaybackSpec>,
    #[serde(default)]
    pub bookmarks: Vec<Bookmark>,
    #[serde(default)]
    pub tour: TourSpec,
}

impl SceneFile {
    /// Loads a scene file; the city path is relative to it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut s: SceneFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        s.city = dir.join(&s.city);
        s.style
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(p) = &mut s.playback {
            match (&p.scenario, &p.timeline) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(format!(
                        "{}: [playback] needs exactly one of `scenario` or `timeline`",
                        path.display()
                    ))
                }
                _ => {}
            }
            p.scenario = p.scenario.as_ref().map(|f| dir.join(f));
            p.timeline = p.timeline.as_ref().map(|f| dir.join(f));
            if h3o::Resolution::try_from(p.heat_resolution).is_err() {
                return Err(format!(
                    "{}: [playback] heat_resolution {} is not an H3 resolution (0..=15)",
                    path.display(),
                    p.heat_resolution
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for b in &s.bookmarks {
            if !names.insert(b.name.as_str()) {
                return Err(format!(
                    "{}: bookmark `{}` is named twice",
                    path.display(),
                    b.name
                ));
            }
            if let Some(at) = &b.at {
                parse_at(at)
                    .map_err(|e| format!("{}: bookmark `{}`: {e}", path.display(), b.name))?;
            }
            if b.distance_m.is_nan() || b.distance_m <= 0.0 || !(1.0..=89.9).contains(&b.pitch_deg)
            {
                return Err(format!(
                    "{}: bookmark `{}`: distance_m must be > 0 and pitch_deg within 1..89.9",
                    path.display(),
                    b.name
                ));
            }
        }
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

    /// An axis-aligned box of half-size `half` around `c`: five visible faces (no bottom).
    pub fn push_box(&mut self, c: [f32; 3], half: [f32; 3], color: [f32; 4]) {
        let v = |dx: f32, dy: f32, dz: f32| {
            [
                c[0] + dx * half[0],
                c[1] + dy * half[1],
                c[2] + dz * half[2],
            ]
        };
        let faces: [([[f32; 3]; 4], [f32; 3]); 5] = [
            (
                [
                    v(-1., 1., 1.),
                    v(1., 1., 1.),
                    v(1., 1., -1.),
                    v(-1., 1., -1.),
                ],
                [0., 1., 0.],
            ),
            (
                [
                    v(-1., -1., 1.),
                    v(1., -1., 1.),
                    v(1., 1., 1.),
                    v(-1., 1., 1.),
                ],
                [0., 0., 1.],
            ),
            (
                [
                    v(1., -1., -1.),
                    v(-1., -1., -1.),
                    v(-1., 1., -1.),
                    v(1., 1., -1.),
                ],
                [0., 0., -1.],
            ),
            (
                [
                    v(1., -1., 1.),
                    v(1., -1., -1.),
                    v(1., 1., -1.),
                    v(1., 1., 1.),
                ],
                [1., 0., 0.],
            ),
            (
                [
                    v(-1., -1., -1.),
                    v(-1., -1., 1.),
                    v(-1., 1., 1.),
                    v(-1., 1., -1.),
                ],
                [-1., 0., 0.],
            ),
        ];
        for (q, n) in faces {
            self.push_quad(q, n, color);
        }
    }

    /// A vertical prism over the polygon `ring` (x, z pairs, any orientation) from the
    /// ground to `h`: a fan-triangulated top (the ring must be convex) and walls.
    pub fn push_prism(&mut self, ring: &[[f32; 2]], h: f32, color: [f32; 4]) {
        if ring.len() < 3 {
            return;
        }
        let area2: f32 = (0..ring.len())
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        // Seen from above (y up, z south) a ring is counter-clockwise when area2 < 0.
        let ccw = area2 < 0.0;
        let base = self.positions.len() as u32;
        for p in ring {
            self.positions.push([p[0], h, p[1]]);
            self.normals.push([0.0, 1.0, 0.0]);
            self.colors.push(color);
        }
        for i in 1..ring.len() as u32 - 1 {
            if ccw {
                self.indices
                    .extend_from_slice(&[base, base + i, base + i + 1]);
            } else {
                self.indices
                    .extend_from_slice(&[base, base + i + 1, base + i]);
            }
        }
        for i in 0..ring.len() {
            let (a, b) = if ccw {
                (ring[i], ring[(i + 1) % ring.len()])
            } else {
                (ring[(i + 1) % ring.len()], ring[i])
            };
            let (dx, dz) = (b[0] - a[0], b[1] - a[1]);
            let len = (dx * dx + dz * dz).sqrt().max(1e-6);
            self.push_quad(
                [
                    [a[0], 0.0, a[1]],
                    [b[0], 0.0, b[1]],
                    [b[0], h, b[1]],
                    [a[0], h, a[1]],
                ],
                [-dz / len, 0.0, dx / len],
                color,
            );
        }
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
