//! Scenario files: every parameter of a simulation, as TOML in `scenes/`.
//!
//! A what-if is an overlay: a file with `base = "baseline.toml"` and only the keys it
//! changes; tables merge key by key, anything else replaces. Each file is checked on
//! its own first (unknown keys and wrong types are errors naming the file, line and
//! key), then the merged scenario is checked for impossible values (errors naming the
//! key and the files that make up the scenario).
//!
//! This file holds the whole [`Scenario`] and what loading returns; each part of it
//! lives in a file of its own ([`Duration`], arrivals, discovery, the loop's steps,
//! staff, travel, hazards), and so do reading the files (`load`), the per-file key
//! check (`file_check`), the check of the merged values (`check`) and the size
//! [`limits`].

mod arrivals;
mod check;
mod discovery;
mod duration;
mod file_check;
mod hazards;
pub mod limits;
mod load;
mod staff;
mod steps;
mod travel;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use arrivals::{Arrivals, CategoryArrivals, ComponentFailures, Recurrence};
pub use discovery::{CallCentre, Discovery, DiscoveryMode, GridWorkers};
pub use duration::Duration;
pub use hazards::{FireHazard, FloodHazard};
pub use load::{PathPolicy, MAX_SCENARIO_BYTES};
pub use staff::{parse_shift, CentreStaff, CrewPool};
pub use steps::{Dispatch, LadderStage, Steps};
pub use travel::{Closure, SignalPriority, Travel, TravelMode};

/// Why a scenario could not be loaded.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{files}: `{key}`: {message}")]
    Value {
        files: String,
        key: String,
        message: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// City directory, relative to the scenario file.
    pub city: PathBuf,
    /// Working-hour calendar, relative to the scenario file.
    pub calendar: PathBuf,
    /// Start, RFC 3339 (e.g. `2025-03-03T00:00:00+08:00`).
    pub start: String,
    pub days: f64,
    /// Backlog sampling interval for outputs, minutes.
    #[serde(default = "default_sample")]
    pub sample_minutes: f64,
    pub arrivals: Arrivals,
    pub discovery: Discovery,
    pub steps: Steps,
    pub dispatch: Dispatch,
    pub crews: BTreeMap<String, CrewPool>,
    #[serde(default)]
    pub escalation: BTreeMap<String, Vec<LadderStage>>,
    pub travel: Travel,
    /// Timed road closures.
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// A rainstorm whose flooding closes roads and raises incidents during the run.
    #[serde(default)]
    pub flood: Option<FloodHazard>,
    /// A fire that closes roads while it burns and raises incidents.
    #[serde(default)]
    pub fire: Option<FireHazard>,
    /// Signal priority for emergency vehicles, and its contention rule.
    #[serde(default)]
    pub signals: Option<SignalPriority>,
    /// Radius (m) and window (hours) within which a same-category incident is a repeat.
    #[serde(default = "default_repeat_m")]
    pub repeat_radius_m: f64,
    #[serde(default = "default_repeat_h")]
    pub repeat_window_hours: f64,
    /// Days simulated before `start` and discarded: the loop starts empty, so the first
    /// days' backlog is low; indicators count from `start`. Choose it from the run's
    /// `welch.csv` (README, planner section).
    #[serde(default)]
    pub warmup_days: f64,
    /// Fraction of a case's time limit after which it shows amber (黄灯) if still open.
    #[serde(default = "default_amber")]
    pub amber_fraction: f64,
    /// Weights of the composite index (综合指标值): rate indicator → weight (see
    /// [`crate::kpi::COMPOSITE_RATES`]). Empty: no composite.
    #[serde(default)]
    pub composite: BTreeMap<String, f64>,
    /// Problems that come back: unset, repeats are chance alone.
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Response targets, minutes from intake to a crew on site, by arrival priority
    /// (`"0"` routine, `"2"` a hazard's emergency, `"3"` life-threatening): the share
    /// reached in time is `response_within_target:p<N>`.
    #[serde(default)]
    pub response_target_minutes: BTreeMap<String, f64>,
    /// The centre's staff as queues: unset, registration and dispatch are delays.
    #[serde(default)]
    pub centre: Option<CentreStaff>,
    /// Start from a case history's state at `start` (`gridtwin simulate` reads it):
    /// the cases open then enter at the step they had reached.
    #[serde(default)]
    pub start_state: Option<StartFrom>,
}

/// Where a warm start's history is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartFrom {
    /// A case history (a timeline, or any history `gridtwin calibrate` reads).
    pub history: PathBuf,
}

fn default_amber() -> f64 {
    0.8
}

fn default_sample() -> f64 {
    60.0
}
fn default_repeat_m() -> f64 {
    50.0
}
fn default_repeat_h() -> f64 {
    72.0
}

/// A loaded scenario and the files it came from (overlay first, base last).
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    pub files: Vec<PathBuf>,
    /// The merged TOML, as written to the output directory.
    pub merged: toml::Table,
}
