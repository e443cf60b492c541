//! Where cases come from: event and component-failure rates, hotspots, and problems
//! that come back after a closure by compliance.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Duration;

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

/// A problem closed by the party's compliance (the escalation ladder) that was not
/// really solved comes back: with `after_compliance` probability, the same category
/// occurs again at the same place `delay` after the closure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    pub after_compliance: f64,
    pub delay: Duration,
}
