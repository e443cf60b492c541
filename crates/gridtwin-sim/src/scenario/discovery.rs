//! How incidents are found: patrols (or grid workers walking their beats), the
//! hotline and its call centre, cameras and sensors.

use serde::{Deserialize, Serialize};

use super::staff::default_shift;
use super::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    /// `channels`: patrol, hotline and sensors race; `immediate`: found when it occurs
    /// (for analytic tests).
    #[serde(default)]
    pub mode: DiscoveryMode,
    /// Each grid is patrolled every this many hours.
    pub patrol_interval_hours: f64,
    /// Chance a patrol passing sees the incident.
    pub patrol_detect_probability: f64,
    /// Chance a citizen reports an incident to the hotline.
    pub hotline_probability: f64,
    pub hotline_delay: Duration,
    /// Grids with cameras/sensors, by code.
    #[serde(default)]
    pub camera_grids: Vec<String>,
    /// Also cameras in this many grids with the highest hotspot factor.
    #[serde(default)]
    pub camera_top_grids: usize,
    pub sensor_delay: Duration,
    /// The 12345 hotline as a call centre (Erlang-A: agents, call handling, callers'
    /// patience): a citizen's call (after `hotline_delay`) waits for a free agent and
    /// hangs up when its patience runs out — that report is lost. Unset: every call is
    /// taken at once.
    #[serde(default)]
    pub call_centre: Option<CallCentre>,
    /// Grid workers (监督员) as people: unset, patrols pass every
    /// `patrol_interval_hours` at no cost.
    #[serde(default)]
    pub grid_workers: Option<GridWorkers>,
}

/// Grid workers walking their beats: the grids cut into `count` runs in code order,
/// each walked in a cycle, `minutes_per_grid` in each (a grid's incidents are seen with
/// `patrol_detect_probability` as the worker leaves it). On shift only. Reports from
/// the hotline or a camera are verified on the spot by the grid's worker, and every
/// check is a worker's visit: these tasks come before the next grid of the route, so
/// they slow the patrol.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridWorkers {
    pub count: u32,
    #[serde(default = "default_shift")]
    pub shift: String,
    pub minutes_per_grid: f64,
    pub verify_visit: Duration,
    pub check_visit: Duration,
}

/// The hotline's call centre.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCentre {
    pub agents: u32,
    /// Time an agent spends on a call (the report is registered when it ends).
    pub handle: Duration,
    /// How long a caller waits before hanging up.
    pub patience: Duration,
}

/// How incidents are found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryMode {
    /// Patrol, hotline and sensors race.
    #[default]
    Channels,
    /// Found when it occurs (analytic tests, calibrated scenarios).
    Immediate,
}
