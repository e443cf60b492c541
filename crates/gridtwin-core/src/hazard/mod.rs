//! Hazards: elevation models, flooding by fill–spill–merge and what the water reaches
//! (the storm loop), and fire spread on H3 cells.

pub mod dem;
pub mod fire;
pub mod flood;
pub mod flood_impact;
