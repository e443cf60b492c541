//! The presenter's window: [`CityPlugin`] plus camera controls, playback, picking,
//! bookmarks and the tour ([`ControlsPlugin`]), and the legend, time bar and info
//! panel ([`PanelsPlugin`]).
//!
//! Mouse: left-drag orbits, right- or middle-drag pans, the wheel zooms, a left click
//! picks a building, grid, component or incident; click or drag on the time bar to
//! jump. Keys: Space play/pause, `+`/`-` speed, `,`/`.` step 15 minutes, Home to the
//! start; 1–9 bookmarks, T tour, F fly to the picked thing, 0 overview; B G R C I H
//! toggle buildings, grids, roads, components, incidents, heat; L legend; P
//! screenshot; Esc quit.
//!
//! The controls are small systems, each named for what it does, grouped as plugins
//! by what drives them: `keys` (the keyboard), `mouse` (orbit, pan, zoom, pick,
//! scrub) and `motion` (the clock, tour, flights and camera), run in that order each
//! frame; `panels` holds the legend, info panel and time bar.

mod keys;
mod motion;
mod mouse;
mod panels;

use anyhow::Result;
use bevy::prelude::*;
use bevy::window::WindowResolution;

use crate::camera::{Flight, Orbit};
use crate::overlay::{MapOverlayPlugin, ViewCamera};
use crate::pick::Picked;
use crate::render::{orbit_transform, view_projection, CityPlugin, Clock, Still, ViewerData};
use crate::scene::{Bookmark, SceneFile, TourSpec};
use panels::{BAR_BOTTOM, BAR_HEIGHT};

pub use panels::PanelsPlugin;

/// Opens the window on the model and runs until it is closed.
pub fn run(data: ViewerData, file: SceneFile, still: Still) -> Result<()> {
    // winit panics without a display; say what to do instead
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        anyhow::bail!(
            "no display to open a window on (DISPLAY is not set): run it in a desktop session \
             or under Xvfb, or render a still with --screenshot FILE.png"
        );
    }
    let title = format!("gridtwin - {}", data.0.city.name);
    let clock = data.0.playback.as_ref().map(|pb| Clock {
        t: still.at.unwrap_or(pb.start),
        playing: false,
        speed: 600.0,
        carry: 0.0,
    });
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title,
            resolution: WindowResolution::new(still.size.0, still.size.1),
            ..default()
        }),
        ..default()
    }))
    .insert_resource(data)
    .insert_resource(still.layers)
    .insert_resource(Presenter {
        orbit: still.pose,
        flight: None,
        tour: None,
        bookmarks: file.bookmarks,
        tour_spec: file.tour,
        picked: None,
    })
    .add_plugins((
        CityPlugin,
        ControlsPlugin,
        PanelsPlugin,
        MapOverlayPlugin {
            scale_bar_bottom: BAR_BOTTOM + BAR_HEIGHT + 6.0,
            scale_bar_left: false,
        },
    ));
    if let Some(c) = clock {
        app.insert_resource(c);
    }
    app.run();
    Ok(())
}

/// The presenter's state: camera pose, flight, tour, what is picked.
#[derive(Resource)]
pub struct Presenter {
    pub orbit: Orbit,
    flight: Option<Flight>,
    /// Seconds since the tour began, and the stop it last flew to.
    tour: Option<(f32, Option<usize>, i64)>,
    bookmarks: Vec<Bookmark>,
    tour_spec: TourSpec,
    pub picked: Option<Picked>,
}

impl Presenter {
    fn fly_to(&mut self, to: Orbit) {
        self.flight = Some(Flight {
            from: self.orbit,
            to,
            secs: 1.5,
            elapsed: 0.0,
        });
    }

    /// The presenter's hand moves the camera: no flight, no tour.
    fn take_over(&mut self) {
        self.flight = None;
        self.tour = None;
    }
}

/// Camera, keys, playback, picking and the tour.
pub struct ControlsPlugin;

/// The order the controls run in each frame: the keys, then the mouse, then what
/// moves by itself.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
enum ControlSet {
    Keys,
    Mouse,
    Motion,
}

impl Plugin for ControlsPlugin {
    fn build(&self, app: &mut App) {
        app.configure_sets(
            Update,
            (ControlSet::Keys, ControlSet::Mouse, ControlSet::Motion).chain(),
        )
        .add_plugins((keys::KeysPlugin, mouse::MousePlugin, motion::MotionPlugin))
        .add_systems(Startup, spawn_camera);
    }
}

#[derive(Component)]
struct MainCamera;

fn spawn_camera(mut commands: Commands, data: Res<ViewerData>, p: Res<Presenter>) {
    let bg = data.0.style.background;
    commands.spawn((
        Camera3d::default(),
        Camera {
            clear_color: ClearColorConfig::Custom(Color::srgb(bg[0], bg[1], bg[2])),
            ..default()
        },
        view_projection(),
        orbit_transform(&p.orbit),
        // component markers are drawn instanced with direct draws
        bevy::render::view::NoIndirectDrawing,
        MainCamera,
        ViewCamera,
    ));
}
