//! Scenario files: every parameter of a simulation, as TOML in `scenes/`.
//!
//! A what-if is an overlay: a file with `base = "baseline.toml"` and only the keys it
//! changes; tables merge key by key, anything else replaces. Each file is checked on
//! its own first (unknown keys and wrong types are errors naming the file, line and
//! key), then the merged scenario is checked for impossible values (errors naming the
//! key and the files that make up the scenario).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

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

/// A random duration in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Duration {
    /// Always `minutes`.
    Fixed { minutes: f64 },
    /// Exponential with mean `mean` minutes.
    Exp { mean: f64 },
    /// Uniform between `min` and `max` minutes.
    Uniform { min: f64, max: f64 },
    /// Lognormal: ln(minutes) is normal with mean `mu` and standard deviation `sigma`
    /// (the median is e^mu minutes). Fitted by `gridtwin calibrate`.
    Lognormal { mu: f64, sigma: f64 },
    /// Gamma with `shape` and mean `mean` minutes.
    Gamma { shape: f64, mean: f64 },
}

impl Duration {
    /// The law's mean, minutes.
    pub fn mean_minutes(&self) -> f64 {
        match *self {
            Duration::Fixed { minutes } => minutes,
            Duration::Exp { mean } | Duration::Gamma { mean, .. } => mean,
            Duration::Uniform { min, max } => (min + max) / 2.0,
            Duration::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }

    fn check(&self) -> Result<(), String> {
        let ok = match *self {
            Duration::Fixed { minutes } => minutes.is_finite() && minutes >= 0.0,
            Duration::Exp { mean } => mean.is_finite() && mean > 0.0,
            Duration::Uniform { min, max } => {
                min.is_finite() && max.is_finite() && 0.0 <= min && min <= max
            }
            Duration::Lognormal { mu, sigma } => {
                mu.is_finite() && mu < 20.0 && sigma.is_finite() && sigma > 0.0 && sigma < 10.0
            }
            Duration::Gamma { shape, mean } => {
                shape.is_finite() && shape > 0.0 && mean.is_finite() && mean > 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("impossible duration {self:?}"))
        }
    }
}

/// Arrivals of one event category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryArrivals {
    /// Mean incidents per day over the whole city.
    pub per_day: f64,
    /// Relative rate per hour of the local day (24 values; default flat).
    #[serde(default)]
    pub hour_weights: Option<Vec<f64>>,
    /// Relative rate per weekday, Monday first (7 values; default flat).
    #[serde(default)]
    pub weekday_weights: Option<Vec<f64>>,
    /// Dispatch priority of these incidents: 0 routine; 2 and up emergencies
    /// (ambulance and fire calls), served first and, with
    /// `dispatch.preempt_at_priority`, taking a crew off lower-priority work.
    #[serde(default)]
    pub priority: u8,
}

/// Failures of one component category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentFailures {
    /// Expected failures per component per year.
    pub per_component_per_year: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// Event categories (class code `MMmm`) and their rates.
    #[serde(default)]
    pub events: BTreeMap<String, CategoryArrivals>,
    /// Component categories (class code) and their failure rates.
    #[serde(default)]
    pub failures: BTreeMap<String, ComponentFailures>,
    /// Rate multiplier per grid code (default 1): hotspots.
    #[serde(default)]
    pub hotspots: BTreeMap<String, f64>,
}

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

/// How crews reach a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TravelMode {
    /// Shortest paths on the city's roads.
    Roads,
    /// Straight-line distance × detour factor at a mean speed.
    Straight,
    /// Each trip's time drawn from `travel.time` (a history's trips).
    Drawn,
    /// Crews are there at once.
    None,
}

/// Durations of the loop's steps; `handle` may be overridden per category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    pub verify: Duration,
    pub handle: Duration,
    pub feedback: Duration,
    pub check: Duration,
    /// Category (`event:0101`, `component:0107`, or a bare code naming one kind
    /// only) → handling time.
    #[serde(default)]
    pub handle_by_category: BTreeMap<String, Duration>,
    /// Probability that the check — a grid worker's visit to the spot — finds the
    /// problem not solved (返工): the case goes back to its department's queue with its
    /// original deadline. Per department in `check_failure_by_department`.
    #[serde(default)]
    pub check_failure: f64,
    #[serde(default)]
    pub check_failure_by_department: BTreeMap<String, f64>,
    /// Probability that the centre declines to register a report (不予立案: not within
    /// its remit, or not a real problem), closing it at verification.
    #[serde(default)]
    pub not_registered: f64,
    /// Probability that the department, on receiving a case, applies for an extension
    /// of its time limit (延期) and is granted `extension_hours` more (on the
    /// category's basis).
    #[serde(default)]
    pub extension: f64,
    #[serde(default)]
    pub extension_hours: f64,
}

/// Dispatch delays per routing rule, and routing overrides per category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    pub owner_delay: Duration,
    pub territory_delay: Duration,
    pub negotiated_delay: Duration,
    pub designated_delay: Duration,
    /// Category class code → routing (`owner`, `territory`, `negotiated`, `designated`).
    #[serde(default)]
    pub routing: BTreeMap<String, String>,
    /// Cases of at least this priority that find no free crew take the nearest crew of
    /// their department busy with lower-priority work (pre-emption); that case goes
    /// back to the queue. Unset: no pre-emption.
    #[serde(default)]
    pub preempt_at_priority: Option<u8>,
    /// Categories the street (属地) handles itself when routed by territory: `kind:code`
    /// or a bare code. Any other territorial case is forwarded (转派) to its owner
    /// department. Unset: streets handle every territorial category.
    #[serde(default)]
    pub street_capable: Option<Vec<String>>,
    /// Probability that a department receiving a case returns it as not its own
    /// (退单) — owner (duty-list) and forwarded cases; each return is a hand-over
    /// back and forth. After `designate_after` returns the centre designates (指定)
    /// the department, which cannot return it.
    #[serde(default)]
    pub return_probability: f64,
    #[serde(default = "default_designate_after")]
    pub designate_after: u8,
    /// Time each hand-over takes (forwarding, a return and its re-sending).
    #[serde(default = "default_hop")]
    pub hop_delay: Duration,
}

fn default_designate_after() -> u8 {
    2
}

fn default_hop() -> Duration {
    Duration::Fixed { minutes: 0.0 }
}

/// A pool of crews.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrewPool {
    /// Department whose owner/duty-list cases it takes (as in the category table).
    pub department: String,
    pub count: u32,
    /// Also takes territorial cases (street/community level crews).
    #[serde(default)]
    pub territorial: bool,
    /// `centre`: all at the city centre; `spread`: one per grid, spread over the city.
    #[serde(default = "default_base")]
    pub base: String,
    /// Local hours on duty, `HH:MM-HH:MM` (`00:00-24:00`: always).
    #[serde(default = "default_shift")]
    pub shift: String,
}

fn default_base() -> String {
    "centre".into()
}
fn default_shift() -> String {
    "00:00-24:00".into()
}

/// One stage of a graded escalation ladder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderStage {
    /// What happens (`notify`, `visit`): for the timeline.
    pub action: String,
    pub delay: Duration,
    /// Chance the party complies at this stage, closing the case without a crew.
    pub compliance: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Travel {
    /// `roads`: shortest paths on the city's roads; `straight`: straight-line
    /// distance × `detour_factor` at `straight_speed_kmh` (for cities without a road
    /// network, e.g. `gridtwin synth` output); `drawn`: each trip's time drawn from
    /// `time`; `none`: crews are there at once.
    pub mode: TravelMode,
    /// Speed cap for crews, km/h (a road's speed above it is capped).
    #[serde(default = "default_speed_cap")]
    pub max_speed_kmh: f64,
    /// Mean door-to-door speed for `straight` travel, km/h.
    #[serde(default = "default_straight_speed")]
    pub straight_speed_kmh: f64,
    /// Road distance over straight-line distance for `straight` travel (≥ 1).
    #[serde(default = "default_detour")]
    pub detour_factor: f64,
    /// `drawn` travel: each trip's time, drawn (a history gives travel times, not
    /// where the crews were: `gridtwin calibrate` fits this).
    #[serde(default)]
    pub time: Option<Duration>,
    /// `drawn` travel per department (its crews' trips: a department with few crews
    /// drives farther); `time` serves the departments not listed.
    #[serde(default)]
    pub time_by_department: BTreeMap<String, Duration>,
}

fn default_speed_cap() -> f64 {
    50.0
}

fn default_straight_speed() -> f64 {
    20.0
}

fn default_detour() -> f64 {
    1.3
}

/// Roads closed from `at_hours` after the start (until `until_hours`, or to the end):
/// an accident, works, a parade. Road ids as in the city's roads layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub at_hours: f64,
    #[serde(default)]
    pub until_hours: Option<f64>,
    pub roads: Vec<String>,
}

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

/// Green-wave priority for emergency vehicles at signalised intersections (the
/// network nodes nearest the city's traffic-signal components, 0202). Two emergency
/// trips that reach one signal within `window_s` of each other conflict; the rule:
/// the higher case priority wins, then the trip that set off first, then the lower
/// case number; the loser waits `delay_s`. Every decision is logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalPriority {
    pub window_s: f64,
    pub delay_s: f64,
    /// Cases of at least this priority travel with green-wave priority.
    #[serde(default = "default_signal_priority")]
    pub priority_from: u8,
}

fn default_signal_priority() -> u8 {
    2
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

/// The command centre's staff: intake operators (受理员) register every report, one at a
/// time each — `registration` replaces `steps.verify` —, and dispatchers (派遣员) decide
/// where each case goes — `dispatching` comes before the routing rule's delay. Cases
/// wait for a free one in arrival order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentreStaff {
    pub intake_staff: u32,
    pub registration: Duration,
    pub dispatchers: u32,
    pub dispatching: Duration,
}

/// A problem closed by the party's compliance (the escalation ladder) that was not
/// really solved comes back: with `after_compliance` probability, the same category
/// occurs again at the same place `delay` after the closure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    pub after_compliance: f64,
    pub delay: Duration,
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

/// Checks one file's keys and types: every field optional, unknown keys refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FileCheck {
    base: Option<String>,
    name: Option<String>,
    city: Option<String>,
    calendar: Option<String>,
    start: Option<String>,
    days: Option<f64>,
    sample_minutes: Option<f64>,
    arrivals: Option<ArrivalsCheck>,
    discovery: Option<DiscoveryCheck>,
    steps: Option<StepsCheck>,
    dispatch: Option<DispatchCheck>,
    crews: Option<BTreeMap<String, CrewCheck>>,
    escalation: Option<BTreeMap<String, Vec<LadderStage>>>,
    travel: Option<TravelCheck>,
    closures: Option<Vec<Closure>>,
    flood: Option<FloodCheck>,
    fire: Option<FireCheck>,
    signals: Option<SignalsCheck>,
    repeat_radius_m: Option<f64>,
    repeat_window_hours: Option<f64>,
    warmup_days: Option<f64>,
    amber_fraction: Option<f64>,
    composite: Option<BTreeMap<String, f64>>,
    recurrence: Option<Recurrence>,
    response_target_minutes: Option<BTreeMap<String, f64>>,
    centre: Option<CentreStaff>,
    start_state: Option<StartFrom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SignalsCheck {
    window_s: Option<f64>,
    delay_s: Option<f64>,
    priority_from: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FireCheck {
    start_hours: Option<f64>,
    resolution: Option<u8>,
    ignitions: Option<Vec<[f64; 2]>>,
    seed: Option<u64>,
    incident_category: Option<String>,
    spread: Option<gridtwin_core::fire::FireParams>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FloodCheck {
    dem: Option<String>,
    start_hours: Option<f64>,
    rain_mm_per_hour: Option<f64>,
    hours: Option<u32>,
    threshold_m: Option<f64>,
    incident_category: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ArrivalsCheck {
    events: Option<BTreeMap<String, CategoryArrivals>>,
    failures: Option<BTreeMap<String, ComponentFailures>>,
    hotspots: Option<BTreeMap<String, f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DiscoveryCheck {
    mode: Option<String>,
    patrol_interval_hours: Option<f64>,
    patrol_detect_probability: Option<f64>,
    hotline_probability: Option<f64>,
    hotline_delay: Option<Duration>,
    camera_grids: Option<Vec<String>>,
    camera_top_grids: Option<usize>,
    sensor_delay: Option<Duration>,
    call_centre: Option<CallCentre>,
    grid_workers: Option<GridWorkers>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StepsCheck {
    verify: Option<Duration>,
    handle: Option<Duration>,
    feedback: Option<Duration>,
    check: Option<Duration>,
    handle_by_category: Option<BTreeMap<String, Duration>>,
    check_failure: Option<f64>,
    check_failure_by_department: Option<BTreeMap<String, f64>>,
    not_registered: Option<f64>,
    extension: Option<f64>,
    extension_hours: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DispatchCheck {
    owner_delay: Option<Duration>,
    territory_delay: Option<Duration>,
    negotiated_delay: Option<Duration>,
    designated_delay: Option<Duration>,
    routing: Option<BTreeMap<String, String>>,
    preempt_at_priority: Option<u8>,
    street_capable: Option<Vec<String>>,
    return_probability: Option<f64>,
    designate_after: Option<u8>,
    hop_delay: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CrewCheck {
    department: Option<String>,
    count: Option<u32>,
    territorial: Option<bool>,
    base: Option<String>,
    shift: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TravelCheck {
    mode: Option<String>,
    max_speed_kmh: Option<f64>,
    straight_speed_kmh: Option<f64>,
    detour_factor: Option<f64>,
    time: Option<Duration>,
    time_by_department: Option<BTreeMap<String, Duration>>,
}

/// Overlays `over` on `base` table by table; a distribution (a table with a `dist`
/// key) is one value and replaces the base's whole (`{dist = "fixed", minutes = 30}`
/// over an `exp` must not keep its `mean`).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) if !o.contains_key("dist") => {
                merge(b, o)
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Parses a crew shift `HH:MM-HH:MM` (the calendar's period syntax).
pub fn parse_shift(s: &str) -> Result<(i64, i64), String> {
    crate::calendar::parse_period(s)
}

/// Limits on a scenario's size, checked before anything is built; the defaults hold
/// five megacity years. The command line lifts them (`simulate --max-days`,
/// `--max-cases`, `--max-crews`) through [`limits::set`].
pub mod limits {
    use std::sync::RwLock;

    /// The limits in force.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Limits {
        /// The longest run, days.
        pub days: f64,
        /// The most cases the arrival streams may be expected to make over the run.
        pub cases: f64,
        /// The most crews over all pools.
        pub crews: u64,
        /// The longest storm, hours.
        pub flood_hours: u32,
    }

    /// Ten years, 5e7 cases, a million crews, a month of rain.
    pub const DEFAULT: Limits = Limits {
        days: 3660.0,
        cases: 5e7,
        crews: 1_000_000,
        flood_hours: 744,
    };

    static IN_FORCE: RwLock<Limits> = RwLock::new(DEFAULT);

    /// Sets the limits for this process.
    pub fn set(l: Limits) {
        *IN_FORCE.write().unwrap_or_else(|e| e.into_inner()) = l;
    }

    /// The limits in force.
    pub fn get() -> Limits {
        *IN_FORCE.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The largest scenario file read (a scenario is a few kB; `base = "/dev/zero"` read
/// until memory ran out).
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Where the files a scenario names (`base`, `city`, `calendar`, `flood.dem`) may lie.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PathPolicy {
    /// Under the scenario file's folder, or the folder above it (a project's
    /// `scenes/` beside its `data/`), or the working folder.
    #[default]
    NearScenario,
    /// Anywhere (`--allow-outside-paths`).
    Anywhere,
}

/// Reads a scenario file: a regular file of at most [`MAX_SCENARIO_BYTES`].
fn read_scenario_text(p: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(format!(
            "{} bytes: a scenario file is at most {MAX_SCENARIO_BYTES}",
            meta.len()
        ));
    }
    std::fs::read_to_string(p).map_err(|e| e.to_string())
}

/// A TOML error without the text it quotes (a file that is not TOML at all, such as
/// `/etc/passwd` named as a base, must not be echoed): the message and its place.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", e.message())
        }
        None => e.message().to_string(),
    }
}

/// Whether `target` lies where `policy` allows for a scenario at `scenario`.
fn allowed(target: &Path, scenario: &Path, policy: PathPolicy) -> bool {
    if policy == PathPolicy::Anywhere {
        return true;
    }
    // resolved as far as it exists (`..` and links), so `../../etc` is seen for what
    // it is
    let resolve = |p: &Path| {
        let mut existing = p.to_path_buf();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(n), Some(parent)) => {
                    rest.push(n.to_os_string());
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut r = std::fs::canonicalize(&existing).unwrap_or(existing);
        for n in rest.into_iter().rev() {
            r.push(n);
        }
        r
    };
    let t = resolve(target);
    let dir = resolve(scenario.parent().unwrap_or(Path::new(".")));
    let roots = [
        Some(dir.clone()),
        dir.parent().map(Path::to_path_buf),
        std::env::current_dir().ok().map(|c| resolve(&c)),
    ];
    roots.iter().flatten().any(|r| t.starts_with(r))
}

impl Scenario {
    /// Loads a scenario file and the chain of bases it overlays; the files it names
    /// must lie near it (see [`PathPolicy::NearScenario`]).
    pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
        Scenario::load_with(path, PathPolicy::default())
    }

    /// Loads a scenario file and its bases, with the files it names where `policy`
    /// allows.
    pub fn load_with(path: &Path, policy: PathPolicy) -> Result<LoadedScenario, ScenarioError> {
        let mut chain: Vec<(PathBuf, toml::Table)> = Vec::new();
        let mut next = Some(path.to_path_buf());
        while let Some(p) = next.take() {
            if chain.len() > 16 || chain.iter().any(|(q, _)| q == &p) {
                return Err(ScenarioError::File {
                    file: p.display().to_string(),
                    message: "overlay chain loops or is too long".into(),
                });
            }
            let file = p.display().to_string();
            let text = read_scenario_text(&p).map_err(|message| ScenarioError::File {
                file: file.clone(),
                message,
            })?;
            // (not TOML at all: say so without quoting it)
            let mut table: toml::Table =
                toml::from_str(&text).map_err(|e| ScenarioError::File {
                    file: file.clone(),
                    message: format!("not a scenario (TOML): {}", toml_error(&text, &e)),
                })?;
            toml::from_str::<FileCheck>(&text).map_err(|e| ScenarioError::File {
                file: file.clone(),
                message: e.to_string(),
            })?;
            if let Some(base) = table.remove("base") {
                let base = base.as_str().ok_or_else(|| ScenarioError::File {
                    file: file.clone(),
                    message: "`base` must be a file name".into(),
                })?;
                let b = p.parent().unwrap_or(Path::new(".")).join(base);
                if !allowed(&b, path, policy) {
                    return Err(ScenarioError::File {
                        file: file.clone(),
                        message: format!(
                            "`base` {base} lies outside the scenario's folders; \
                             allow it with --allow-outside-paths"
                        ),
                    });
                }
                next = Some(b);
            }
            // Paths in a file are relative to that file.
            let dir = p.parent().unwrap_or(Path::new(".")).to_path_buf();
            let outside = |key: &str, s: &str| ScenarioError::File {
                file: file.clone(),
                message: format!(
                    "`{key}` {s} lies outside the scenario's folders; allow it with \
                     --allow-outside-paths"
                ),
            };
            for key in ["city", "calendar"] {
                if let Some(toml::Value::String(s)) = table.get(key) {
                    let joined = dir.join(s);
                    if !allowed(&joined, path, policy) {
                        return Err(outside(key, s));
                    }
                    let joined = joined.display().to_string();
                    table.insert(key.into(), toml::Value::String(joined));
                }
            }
            if let Some(toml::Value::Table(f)) = table.get_mut("start_state") {
                if let Some(toml::Value::String(s)) = f.get("history") {
                    let joined = dir.join(s);
                    if !allowed(&joined, path, policy) {
                        return Err(outside("start_state.history", s));
                    }
                    let joined = joined.display().to_string();
                    f.insert("history".into(), toml::Value::String(joined));
                }
            }
            if let Some(toml::Value::Table(f)) = table.get_mut("flood") {
                if let Some(toml::Value::String(s)) = f.get("dem") {
                    let joined = dir.join(s);
                    if !allowed(&joined, path, policy) {
                        return Err(outside("flood.dem", s));
                    }
                    let joined = joined.display().to_string();
                    f.insert("dem".into(), toml::Value::String(joined));
                }
            }
            chain.push((p, table));
        }
        let files: Vec<PathBuf> = chain.iter().map(|(p, _)| p.clone()).collect();
        let names = files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" over ");
        let mut merged = toml::Table::new();
        for (_, t) in chain.into_iter().rev() {
            merge(&mut merged, t);
        }
        // (a mode is an enum: its key named here, where a parse error would not)
        for (table, key, allowed) in [
            (
                "travel",
                "mode",
                &["roads", "straight", "drawn", "none"][..],
            ),
            ("discovery", "mode", &["channels", "immediate"][..]),
        ] {
            let given = merged.get(table).and_then(|t| t.get(key));
            if let Some(v) = given.filter(|v| !v.as_str().is_some_and(|m| allowed.contains(&m))) {
                return Err(ScenarioError::Value {
                    files: names.clone(),
                    key: format!("{table}.{key}"),
                    message: format!("`{}`: expected {}", v, allowed.join(", ")),
                });
            }
        }
        let scenario: Scenario =
            toml::Value::Table(merged.clone())
                .try_into()
                .map_err(|e: toml::de::Error| ScenarioError::Value {
                    files: names.clone(),
                    key: "(scenario)".into(),
                    message: e.message().to_string(),
                })?;
        scenario
            .check()
            .map_err(|(key, message)| ScenarioError::Value {
                files: names.clone(),
                key,
                message,
            })?;
        Ok(LoadedScenario {
            scenario,
            files,
            merged,
        })
    }

    /// Impossible values, as (key, message).
    pub fn check(&self) -> Result<(), (String, String)> {
        let positive = |k: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err((k.to_string(), format!("must be positive, not {v}")))
            }
        };
        let probability = |k: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err((
                    k.to_string(),
                    format!("must be a probability 0..1, not {v}"),
                ))
            }
        };
        let duration = |k: &str, d: &Duration| d.check().map_err(|m| (k.to_string(), m));
        positive("days", self.days)?;
        positive("sample_minutes", self.sample_minutes)?;
        // Limits, checked before anything is built (1e9 days, 1e12 cases a day, 1e9
        // crews or a sample every nanosecond ran out of memory or time):
        let lim = limits::get();
        if self.days > lim.days {
            return Err((
                "days".into(),
                format!(
                    "{}: at most {} (raise it with --max-days)",
                    self.days, lim.days
                ),
            ));
        }
        if self.sample_minutes < 1.0 {
            return Err((
                "sample_minutes".into(),
                format!("{}: at least one minute", self.sample_minutes),
            ));
        }
        let expected: f64 = self
            .arrivals
            .events
            .values()
            .map(|a| a.per_day)
            .sum::<f64>()
            * self.days;
        if expected > lim.cases {
            return Err((
                "arrivals.events".into(),
                format!(
                    "{expected:.3e} cases expected over the run: at most {:.0e} (raise it with --max-cases)",
                    lim.cases
                ),
            ));
        }
        let crews: u64 = self.crews.values().map(|c| c.count as u64).sum();
        if crews > lim.crews {
            return Err((
                "crews".into(),
                format!(
                    "{crews} crews: at most {} (raise it with --max-crews)",
                    lim.crews
                ),
            ));
        }
        if let Some(f) = &self.flood {
            if f.hours > lim.flood_hours {
                return Err((
                    "flood.hours".into(),
                    format!("{}: at most {} (a month)", f.hours, lim.flood_hours),
                ));
            }
        }
        positive("repeat_radius_m", self.repeat_radius_m)?;
        if !(self.warmup_days.is_finite() && self.warmup_days >= 0.0) {
            return Err((
                "warmup_days".into(),
                format!("must be zero or positive, not {}", self.warmup_days),
            ));
        }
        if self.warmup_days > lim.days {
            return Err((
                "warmup_days".into(),
                format!(
                    "{}: at most {} (raise it with --max-days)",
                    self.warmup_days, lim.days
                ),
            ));
        }
        if !(self.amber_fraction > 0.0 && self.amber_fraction < 1.0) {
            return Err((
                "amber_fraction".into(),
                format!("must lie between 0 and 1, not {}", self.amber_fraction),
            ));
        }
        for (name, w) in &self.composite {
            if !crate::kpi::COMPOSITE_RATES.iter().any(|(n, _)| n == name) {
                return Err((
                    format!("composite.{name}"),
                    format!(
                        "not a rate the composite can weigh (one of {})",
                        crate::kpi::COMPOSITE_RATES
                            .iter()
                            .map(|r| r.0)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if !(w.is_finite() && *w >= 0.0) {
                return Err((
                    format!("composite.{name}"),
                    format!("a weight must be zero or positive, not {w}"),
                ));
            }
        }
        if !self.composite.is_empty() && self.composite.values().sum::<f64>() <= 0.0 {
            return Err(("composite".into(), "the weights sum to zero".into()));
        }
        for (p, m) in &self.response_target_minutes {
            if p.parse::<u8>().is_err() {
                return Err((
                    format!("response_target_minutes.{p}"),
                    "keys are priorities 0–255".into(),
                ));
            }
            positive(&format!("response_target_minutes.{p}"), *m)?;
        }
        if let Some(c) = &self.centre {
            for (k, n) in [
                ("centre.intake_staff", c.intake_staff),
                ("centre.dispatchers", c.dispatchers),
            ] {
                if n == 0 || n > 100_000 {
                    return Err((k.into(), format!("{n}: from 1 to 100000")));
                }
            }
            duration("centre.registration", &c.registration)?;
            duration("centre.dispatching", &c.dispatching)?;
        }
        if let Some(r) = &self.recurrence {
            probability("recurrence.after_compliance", r.after_compliance)?;
            duration("recurrence.delay", &r.delay)?;
        }
        probability("steps.check_failure", self.steps.check_failure)?;
        probability("steps.not_registered", self.steps.not_registered)?;
        probability("steps.extension", self.steps.extension)?;
        if !(self.steps.extension_hours.is_finite()
            && (0.0..=8760.0).contains(&self.steps.extension_hours))
        {
            return Err((
                "steps.extension_hours".into(),
                format!("{}: from 0 to a year of hours", self.steps.extension_hours),
            ));
        }
        for (d, r) in &self.steps.check_failure_by_department {
            probability(&format!("steps.check_failure_by_department.{d}"), *r)?;
            // a check that always fails would loop forever
        }
        for (k, r) in std::iter::once(("steps.check_failure".to_string(), self.steps.check_failure))
            .chain(
                self.steps
                    .check_failure_by_department
                    .iter()
                    .map(|(d, r)| (format!("steps.check_failure_by_department.{d}"), *r)),
            )
        {
            if r >= 1.0 {
                return Err((
                    k,
                    "must be below 1: a check that always fails never closes".into(),
                ));
            }
        }
        positive("repeat_window_hours", self.repeat_window_hours)?;
        for (c, a) in &self.arrivals.events {
            if !(a.per_day.is_finite() && a.per_day >= 0.0) {
                return Err((
                    format!("arrivals.events.{c}.per_day"),
                    format!("must be zero or positive, not {}", a.per_day),
                ));
            }
            for (name, w, n) in [
                ("hour_weights", &a.hour_weights, 24),
                ("weekday_weights", &a.weekday_weights, 7),
            ] {
                if let Some(w) = w {
                    if w.len() != n
                        || w.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                        || w.iter().all(|x| *x == 0.0)
                    {
                        return Err((
                            format!("arrivals.events.{c}.{name}"),
                            format!("needs {n} non-negative weights, not all zero"),
                        ));
                    }
                }
            }
        }
        for (c, f) in &self.arrivals.failures {
            if !(f.per_component_per_year.is_finite() && f.per_component_per_year >= 0.0) {
                return Err((
                    format!("arrivals.failures.{c}.per_component_per_year"),
                    "must be zero or positive".into(),
                ));
            }
        }
        for (g, f) in &self.arrivals.hotspots {
            if !(f.is_finite() && *f >= 0.0) {
                return Err((
                    format!("arrivals.hotspots.{g}"),
                    "must be zero or positive".into(),
                ));
            }
        }
        let d = &self.discovery;
        positive("discovery.patrol_interval_hours", d.patrol_interval_hours)?;
        // the engine counts patrol rounds in whole seconds: under one second it was 0
        // and divided by zero (issue 14); over a year no patrol is a patrol
        if !(1.0 / 3600.0..=8760.0).contains(&d.patrol_interval_hours) {
            return Err((
                "discovery.patrol_interval_hours".into(),
                format!(
                    "{}: must lie between one second (1/3600) and a year (8760)",
                    d.patrol_interval_hours
                ),
            ));
        }
        probability(
            "discovery.patrol_detect_probability",
            d.patrol_detect_probability,
        )?;
        if d.patrol_detect_probability == 0.0 && d.mode == DiscoveryMode::Channels {
            return Err((
                "discovery.patrol_detect_probability".into(),
                "must be above 0, or patrols never find anything".into(),
            ));
        }
        probability("discovery.hotline_probability", d.hotline_probability)?;
        if let Some(w) = &d.grid_workers {
            if w.count == 0 || w.count > 1_000_000 {
                return Err((
                    "discovery.grid_workers.count".into(),
                    format!("{}: from 1 to 1000000", w.count),
                ));
            }
            if !(w.minutes_per_grid.is_finite() && w.minutes_per_grid >= 1.0 / 60.0)
                || w.minutes_per_grid > 1440.0
            {
                return Err((
                    "discovery.grid_workers.minutes_per_grid".into(),
                    format!("{}: from one second to a day", w.minutes_per_grid),
                ));
            }
            parse_shift(&w.shift).map_err(|m| ("discovery.grid_workers.shift".to_string(), m))?;
            duration("discovery.grid_workers.verify_visit", &w.verify_visit)?;
            duration("discovery.grid_workers.check_visit", &w.check_visit)?;
        }
        if let Some(cc) = &d.call_centre {
            if cc.agents == 0 || cc.agents > 100_000 {
                return Err((
                    "discovery.call_centre.agents".into(),
                    format!("{}: from 1 to 100000", cc.agents),
                ));
            }
            duration("discovery.call_centre.handle", &cc.handle)?;
            duration("discovery.call_centre.patience", &cc.patience)?;
        }
        duration("discovery.hotline_delay", &d.hotline_delay)?;
        duration("discovery.sensor_delay", &d.sensor_delay)?;
        let s = &self.steps;
        for (k, v) in [
            ("steps.verify", &s.verify),
            ("steps.handle", &s.handle),
            ("steps.feedback", &s.feedback),
            ("steps.check", &s.check),
        ] {
            duration(k, v)?;
        }
        for (c, v) in &s.handle_by_category {
            duration(&format!("steps.handle_by_category.{c}"), v)?;
        }
        let p = &self.dispatch;
        for (k, v) in [
            ("dispatch.owner_delay", &p.owner_delay),
            ("dispatch.territory_delay", &p.territory_delay),
            ("dispatch.negotiated_delay", &p.negotiated_delay),
            ("dispatch.designated_delay", &p.designated_delay),
            ("dispatch.hop_delay", &p.hop_delay),
        ] {
            duration(k, v)?;
        }
        probability("dispatch.return_probability", p.return_probability)?;
        if p.designate_after > 20 {
            return Err((
                "dispatch.designate_after".into(),
                format!(
                    "{}: at most 20 returns before designation",
                    p.designate_after
                ),
            ));
        }
        for (c, r) in &p.routing {
            r.parse::<gridtwin_core::Routing>()
                .map_err(|m| (format!("dispatch.routing.{c}"), m.to_string()))?;
        }
        if self.crews.is_empty() {
            return Err((
                "crews".into(),
                "a scenario needs at least one crew pool".into(),
            ));
        }
        for (name, c) in &self.crews {
            if !["centre", "spread"].contains(&c.base.as_str()) {
                return Err((
                    format!("crews.{name}.base"),
                    format!("`{}`: expected centre or spread", c.base),
                ));
            }
            parse_shift(&c.shift).map_err(|m| (format!("crews.{name}.shift"), m))?;
        }
        for (c, stages) in &self.escalation {
            for (i, st) in stages.iter().enumerate() {
                duration(&format!("escalation.{c}[{i}].delay"), &st.delay)?;
                probability(&format!("escalation.{c}[{i}].compliance"), st.compliance)?;
            }
        }
        match (&self.travel.time, self.travel.mode) {
            (Some(d), _) => duration("travel.time", d)?,
            (None, TravelMode::Drawn) => {
                return Err((
                    "travel.time".into(),
                    "travel.mode = drawn needs a travel time (e.g. { dist = \"exp\", mean = 12 })"
                        .into(),
                ))
            }
            _ => {}
        }
        for (d, t) in &self.travel.time_by_department {
            duration(&format!("travel.time_by_department.{d}"), t)?;
        }
        positive("travel.max_speed_kmh", self.travel.max_speed_kmh)?;
        for (i, c) in self.closures.iter().enumerate() {
            let k = format!("closures[{i}]");
            if !(c.at_hours.is_finite() && c.at_hours >= 0.0) {
                return Err((format!("{k}.at_hours"), "must be 0 or more".into()));
            }
            if c.until_hours
                .is_some_and(|u| !(u.is_finite() && u > c.at_hours))
            {
                return Err((
                    format!("{k}.until_hours"),
                    "must come after at_hours".into(),
                ));
            }
            if c.roads.is_empty() {
                return Err((format!("{k}.roads"), "names no road".into()));
            }
        }
        if let Some(g) = &self.signals {
            positive("signals.window_s", g.window_s)?;
            positive("signals.delay_s", g.delay_s)?;
        }
        if let Some(f) = &self.fire {
            if !(f.start_hours.is_finite() && f.start_hours >= 0.0) {
                return Err(("fire.start_hours".into(), "must be 0 or more".into()));
            }
            f.spread
                .check()
                .map_err(|(k, m)| (format!("fire.spread.{k}"), m))?;
            if f.ignitions.is_empty() {
                return Err(("fire.ignitions".into(), "names no point".into()));
            }
        }
        if let Some(f) = &self.flood {
            if !(f.start_hours.is_finite() && f.start_hours >= 0.0) {
                return Err(("flood.start_hours".into(), "must be 0 or more".into()));
            }
            if !(f.rain_mm_per_hour.is_finite() && f.rain_mm_per_hour >= 0.0) {
                return Err(("flood.rain_mm_per_hour".into(), "must be 0 or more".into()));
            }
            positive("flood.threshold_m", f.threshold_m)?;
        }
        positive("travel.straight_speed_kmh", self.travel.straight_speed_kmh)?;
        if !(self.travel.detour_factor.is_finite() && self.travel.detour_factor >= 1.0) {
            return Err((
                "travel.detour_factor".into(),
                format!("{}: must be at least 1", self.travel.detour_factor),
            ));
        }
        Ok(())
    }
}
