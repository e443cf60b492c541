//! gridtwin-core: the city model of gridtwin.
//!
//! The area hierarchy (city → district → street → community → unit grid) with codes
//! under a data-driven [`code::CodeRule`], category tables loaded from files, city
//! components, incidents, buildings and roads, the data-quality ledger that accounts
//! for every input record, and the spatial index of grids.
//!
//! This crate never depends on readers, the simulation, the viewer or the CLI.
//!
//! Folders by concern:
//! - [`model`]: codes ([`code::CodeRule`]), categories, areas, components, incidents,
//!   buildings and roads, [`City`], the data-quality ledger ([`QualityReport`]);
//! - [`spatial`]: coordinates (GCJ-02/BD-09), the local metric frame, exact
//!   point-in-polygon with its boundary rule, the grid locator, assignment, aggregation;
//! - [`grids`]: grid generation, validation (and OGC validity), redraw diffs,
//!   autocoding a layer, the demo partition, the synthetic megacity;
//! - [`hazard`]: DEMs, fill–spill–merge flooding and its inventory, fire spread;
//! - [`causes`]: an error with its cause chain as one line.

pub mod causes;
pub mod grids;
pub mod hazard;
pub mod model;
pub mod spatial;

// The public paths stay flat (`gridtwin_core::area::Area`, `gridtwin_core::flood`):
// the folders group the crate by concern, the re-exports keep every caller working.
pub use grids::{autocode, grid_check, grid_diff, grid_gen, partition, synth, validity};
pub use hazard::{dem, fire, flood, flood_impact};
pub use model::{area, building, category, city, code, component, incident, parse, quality};
pub use spatial::{aggregate, assign, coord, frame, hexcell, int_hash, locate, prepared};

pub use area::Area;
pub use building::{Building, HeightSource, Road, SpeedSource};
pub use category::{
    Category, CategoryKey, CategoryKind, CategoryTable, Routing, StageLimits, TimeBasis,
};
pub use city::City;
pub use code::{AreaCode, CodeRule, ComponentCode, Level};
pub use component::{Component, ComponentStatus, SmolStr};
pub use incident::{CaseStep, CaseTimeline, Incident, IntakeSource};
pub use parse::ParseEnumError;
pub use quality::{QualityReport, RejectReason, Rejection};
