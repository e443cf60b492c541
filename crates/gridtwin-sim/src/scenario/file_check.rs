//! The per-file check: every key of a scenario file optional, unknown keys and wrong
//! types refused, so an error names the file, line and key before any merging.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    CallCentre, CategoryArrivals, CentreStaff, Closure, ComponentFailures, Duration, GridWorkers,
    LadderStage, Recurrence, StartFrom,
};

/// Checks one file's keys and types: every field optional, unknown keys refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct FileCheck {
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
