//! Buildings and roads: the physical city the twin shows and routes over.

use geo::{LineString, MultiPolygon};
use serde::{Deserialize, Serialize};

/// Where a building's height came from, so a viewer or analyst can tell measured
/// from assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeightSource {
    /// A `height` value in the data.
    Tagged,
    /// Number of levels × metres per level.
    Levels,
    /// The documented default.
    Default,
}

impl HeightSource {
    pub fn name(self) -> &'static str {
        match self {
            HeightSource::Tagged => "tagged",
            HeightSource::Levels => "levels",
            HeightSource::Default => "default",
        }
    }
}

/// A building footprint with a height.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    pub id: String,
    pub footprint: MultiPolygon<f64>,
    pub height_m: f64,
    pub height_source: HeightSource,
}

/// Where a road's speed came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedSource {
    /// A `maxspeed` value in the data.
    Tagged,
    /// The default speed of the road class.
    Class,
}

impl SpeedSource {
    pub fn name(self) -> &'static str {
        match self {
            SpeedSource::Tagged => "tagged",
            SpeedSource::Class => "class",
        }
    }
}

/// A road centreline with its class and speed.
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    pub id: String,
    pub line: LineString<f64>,
    /// Road class (OSM `highway` value, e.g. `primary`, `residential`).
    pub class: String,
    pub speed_kmh: f64,
    pub speed_source: SpeedSource,
    pub oneway: bool,
}
