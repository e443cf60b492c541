//! What moves each frame by itself: the clock while playing, the tour from stop to
//! stop, camera flights, and the camera following the presenter's pose.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::{ControlSet, MainCamera, Presenter};
use crate::camera::{tour_at, Flight, Orbit};
use crate::overlay::window_view;
use crate::render::{orbit_transform, Clock, ViewerData};

/// The clock, the tour, flights and the camera, in that order after the input.
pub(super) struct MotionPlugin;

impl Plugin for MotionPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            (advance_clock, tour, fly, place_camera)
                .chain()
                .in_set(ControlSet::Motion),
        );
    }
}

/// Plays the clock: playback seconds at its speed, stopping at the end.
fn advance_clock(time: Res<Time>, data: Res<ViewerData>, clock: Option<ResMut<Clock>>) {
    let (Some(mut c), Some(pb)) = (clock, &data.0.playback) else {
        return;
    };
    if !c.playing {
        return;
    }
    c.carry += time.delta_secs() * c.speed;
    let whole = c.carry.floor();
    c.carry -= whole;
    c.t = (c.t + whole as i64).min(pb.end);
    if c.t >= pb.end {
        c.playing = false;
    }
}

/// Runs the tour: a flight to each stop in turn, the clock moving with it to the
/// stop's time.
fn tour(
    time: Res<Time>,
    data: Res<ViewerData>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut p: ResMut<Presenter>,
    clock: Option<ResMut<Clock>>,
) {
    let Some((elapsed, last, from_t)) = p.tour else {
        return;
    };
    let elapsed = elapsed + time.delta_secs();
    let Some((i, f, at)) = tour_at(&p.bookmarks, &p.tour_spec, elapsed) else {
        p.tour = None;
        return;
    };
    let mut from_t = from_t;
    if last != Some(i) {
        // a new leg: fly from where the camera is now
        p.flight = Some(Flight {
            from: p.orbit,
            to: Orbit::from_bookmark(&p.bookmarks[i], &data.0.scene)
                .centred_in(window_view(window.width(), window.height())),
            secs: p.tour_spec.flight_s,
            elapsed: 0.0,
        });
        if let Some(c) = &clock {
            from_t = c.t;
        }
    }
    // the playback time moves with the flight to the stop's time
    if let (Some(mut c), Some(pb), Some(at)) = (clock, &data.0.playback, at) {
        let to_t = (pb.start + at).min(pb.end);
        c.t = from_t + ((to_t - from_t) as f64 * f as f64).round() as i64;
        c.playing = false;
    }
    p.tour = Some((elapsed, Some(i), from_t));
}

/// Moves the pose along the current flight.
fn fly(time: Res<Time>, mut p: ResMut<Presenter>) {
    let Some(mut f) = p.flight else {
        return;
    };
    let (pose, done) = f.step(time.delta_secs());
    p.orbit = pose;
    p.flight = if done { None } else { Some(f) };
}

/// Puts the camera where the presenter's pose says, when it changed.
fn place_camera(p: Res<Presenter>, mut cam: Query<&mut Transform, With<MainCamera>>) {
    if !p.is_changed() {
        return;
    }
    for mut t in &mut cam {
        *t = orbit_transform(&p.orbit);
    }
}
