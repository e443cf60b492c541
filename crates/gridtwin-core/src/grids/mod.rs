//! Grid management: generating, validating, redrawing and diffing unit grids;
//! numbering a layer with its own ids; the demo partition and the synthetic megacity.

pub mod autocode;
pub mod grid_check;
pub mod grid_diff;
pub mod grid_gen;
pub mod partition;
pub mod synth;
pub mod validity;
