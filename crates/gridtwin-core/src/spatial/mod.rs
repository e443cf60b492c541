//! Where things are: coordinates and frames, exact point-in-polygon, the grid
//! locator, assignment to grids and levels, aggregation (levels, H3).

pub mod aggregate;
pub mod assign;
pub mod coord;
pub mod frame;
pub mod hexcell;
pub mod int_hash;
pub mod locate;
pub mod prepared;
