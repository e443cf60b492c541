//! The scene file's `[style]`: colours and sizes of every layer, their defaults and
//! the checks that keep a legend readable.

use std::collections::BTreeMap;

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
