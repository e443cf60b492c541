//! Limits on a scenario's size, checked before anything is built; the defaults hold
//! five megacity years. The command line lifts them (`simulate --max-days`,
//! `--max-cases`, `--max-crews`) through [`set`].

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
