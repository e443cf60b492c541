//! Hazards during a run: a rainstorm's flooding and a fire, each closing roads and
//! raising emergency incidents.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A rainstorm over a DEM during the run: every hour the flood state is settled
/// (fill–spill–merge), roads under `threshold_m` of water close from then on, and
/// each newly closed road segment raises an emergency-priority incident of
/// `incident_category` (default 0401 waterlogging) at its midpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodHazard {
    /// DEM, relative to the scenario file: what `gridtwin flood` reads (.asc with its
    /// .prj, GeoTIFF with the `gdal` feature), lon/lat or projected in metres.
    pub dem: PathBuf,
    pub start_hours: f64,
    pub rain_mm_per_hour: f64,
    pub hours: u32,
    #[serde(default = "default_flood_threshold")]
    pub threshold_m: f64,
    #[serde(default = "default_flood_category")]
    pub incident_category: String,
}

fn default_flood_threshold() -> f64 {
    0.15
}

fn default_flood_category() -> String {
    "0401".into()
}

/// A fire during the run (the same fire in every replication, from its own seed):
/// roads through burning cells close while they burn and reopen after, and each
/// ignition raises an emergency-priority incident of `incident_category` (default
/// 0402 fire). Spread parameters as in a fire scene (`gridtwin fire`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FireHazard {
    pub start_hours: f64,
    /// H3 resolution of the fire's cells.
    pub resolution: u8,
    /// [lon, lat] of each ignition.
    pub ignitions: Vec<[f64; 2]>,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_fire_category")]
    pub incident_category: String,
    #[serde(default)]
    pub spread: gridtwin_core::fire::FireParams,
}

fn default_fire_category() -> String {
    "0402".into()
}
