//! gridtwin-viewer: the city in 3D with Bevy for presenters — extruded buildings
//! coloured by height, roads, unit-grid and community boundaries, component markers
//! coloured by category (instanced), a simulated day played back as incident markers
//! by case state and H3 heat columns — in a window ([`app`]) or as headless stills
//! ([`render::render_png`]).
//!
//! Layers: the model ([`scene`] geometry, [`basemap`], [`playback`], [`pick`],
//! [`camera`]) is plain data, built and tested without a GPU; [`render`] draws it as a
//! Bevy plugin, [`overlay`] puts the legend, title, clock, scale bar and place names
//! over it (window and stills alike) and [`app`] adds the window's controls and panels.

pub mod app;
pub mod basemap;
pub mod camera;
pub mod instancing;
pub mod overlay;
pub mod pick;
pub mod playback;
pub mod render;
pub mod scene;
