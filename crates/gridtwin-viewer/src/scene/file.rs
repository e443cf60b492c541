//! The scene file itself: what city, playback, bookmarks and tour it names, how it
//! is read and checked, and the playback times (`HH:MM`) it and the command line use.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Style;

/// What to play: a scenario simulated in-process (deterministic by seed), or the
/// timeline (Parquet or CSV) of a `gridtwin simulate` replication.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybackSpec {
    /// Scenario file (relative to the scene file), simulated when the viewer starts.
    pub scenario: Option<PathBuf>,
    /// Or a replication's `timeline.parquet` or `timeline.csv` (relative to the scene
    /// file).
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
