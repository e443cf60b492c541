//! How crews reach a place: the travel mode and its speeds, timed road closures, and
//! signal priority for emergency vehicles.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Duration;

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
