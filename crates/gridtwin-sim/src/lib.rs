//! gridtwin-sim: discrete-event simulation of the closed case loop.
//!
//! intake → verify → dispatch → handle → feedback → check → close, with crews on
//! the road network, working-hour time limits, overdue escalation and graded
//! escalation ladders; scenarios and what-if overlays are TOML files in `scenes/`.
//! Layers: [`scenario`] (parameters), [`engine`] (the world built once from a
//! scenario, and a replication as a `Run` whose `step` hands each event to a method
//! named for it; a folder with one concern per file), [`timeline`] (the
//! case record every metric comes from), [`kpi`] (indicators and confidence
//! intervals), [`compare`] (paired comparison of two scenarios). Depends on the city
//! model only.

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
pub mod timeline;
pub mod vitals;

pub use calendar::WorkingCalendar;
pub use queue::EventQueue;
