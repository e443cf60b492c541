//! gridtwin-sim: discrete-event simulation of the closed case loop.
//!
//! intake → verify → dispatch → handle → feedback → check → close, with crews on
//! the road network, working-hour time limits, overdue escalation and graded
//! escalation ladders; scenarios and what-if overlays are TOML files in `scenes/`.
//! Layers:
//! - parameters: [`scenario`] (a folder, a file per section), [`calendar`] (working
//!   hours), [`dist`] (duration families, their fits);
//! - the simulation: [`engine`] (the world built once from a scenario, and a
//!   replication as a `Run` whose `step` hands each event to a method named for it; a
//!   folder with one concern per file), on [`queue`], [`free_crews`], [`network`]
//!   (roads) and [`rng`] (keyed random numbers); [`study`] runs replications in
//!   parallel;
//! - what comes out: [`timeline`] (the case record every metric comes from), [`kpi`]
//!   (indicators and confidence intervals), [`compare`] (paired comparison of two
//!   scenarios), [`vitals`] (area indicators and warnings), [`hotspot`] (Gi*);
//! - fitting to a city's history: [`calibrate`] (a scenario from a case history),
//!   [`local_time`] (times in the city's zone).
//!
//! Depends on the city model and, for a scenario's DEM, on `gridtwin-io`.

pub mod calendar;
pub mod calibrate;
pub mod compare;
pub mod dist;
pub mod engine;
pub mod free_crews;
pub mod hotspot;
pub mod kpi;
pub mod local_time;
pub mod network;
pub mod queue;
pub mod rng;
pub mod scenario;
pub mod study;
pub mod study_tables;
pub mod timeline;
pub mod vitals;

pub use calendar::WorkingCalendar;
pub use queue::EventQueue;
