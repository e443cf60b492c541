//! gridtwin-viewer: the city in 3D with Bevy — extruded buildings coloured by height,
//! unit-grid and community boundaries, component markers coloured by category — and
//! headless screenshots. Scene geometry ([`scene`]) is plain data, built and tested
//! without a GPU; [`render`] draws it.

pub mod render;
pub mod scene;
