//! gridtwin-core: the city model of gridtwin.
//!
//! The area hierarchy (city → district → street → community → unit grid) with codes
//! under a data-driven [`code::CodeRule`], category tables loaded from files, city
//! components, incidents, buildings and roads, the data-quality ledger that accounts
//! for every input record, and the spatial index of grids.
//!
//! This crate never depends on readers, the simulation, the viewer or the CLI.

pub mod aggregate;
pub mod area;
pub mod assign;
pub mod autocode;
pub mod building;
pub mod category;
pub mod city;
pub mod code;
pub mod component;
pub mod coord;
pub mod dem;
pub mod fire;
pub mod flood;
pub mod flood_impact;
pub mod frame;
pub mod grid_check;
pub mod grid_diff;
pub mod grid_gen;
pub mod hexcell;
pub mod incident;
pub mod int_hash;
pub mod locate;
pub mod partition;
pub mod prepared;
pub mod quality;
pub mod synth;
pub mod validity;

pub use area::Area;
pub use building::{Building, HeightSource, Road, SpeedSource};
pub use category::{
    Category, CategoryKey, CategoryKind, CategoryTable, Routing, StageLimits, TimeBasis,
};
pub use city::City;
pub use code::{AreaCode, CodeRule, ComponentCode, Level};
pub use component::{Component, ComponentStatus};
pub use incident::{CaseStep, CaseTimeline, Incident, IntakeSource};
pub use quality::{QualityReport, RejectReason, Rejection};
