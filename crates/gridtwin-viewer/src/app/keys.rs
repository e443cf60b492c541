//! The keyboard: one small system per key or key family — quit, layers, legend,
//! screenshot, bookmarks, overview, fly to the picked thing, tour, and the playback
//! clock (play, speed, step, start, a bookmark's time) — run in a fixed order so that
//! keys pressed in the same frame act as they always have.

use bevy::input::common_conditions::input_just_pressed;
use bevy::prelude::*;
use bevy::render::view::screenshot::{save_to_disk, Screenshot};
use bevy::window::PrimaryWindow;

use super::panels::LegendPanel;
use super::{ControlSet, Presenter};
use crate::camera::Orbit;
use crate::overlay::window_view;
use crate::pick::Picked;
use crate::render::{Clock, Layer, Layers, ViewerData};
use crate::scene::{parse_at, Bookmark};

/// The keyboard's systems, in the order they run.
pub(super) struct KeysPlugin;

impl Plugin for KeysPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            (
                quit.run_if(input_just_pressed(KeyCode::Escape)),
                toggle_layers,
                toggle_legend.run_if(input_just_pressed(KeyCode::KeyL)),
                save_screenshot.run_if(input_just_pressed(KeyCode::KeyP)),
                fly_to_bookmark,
                fly_to_overview.run_if(input_just_pressed(KeyCode::Digit0)),
                fly_to_picked.run_if(input_just_pressed(KeyCode::KeyF)),
                toggle_tour.run_if(input_just_pressed(KeyCode::KeyT)),
                toggle_playback.run_if(input_just_pressed(KeyCode::Space)),
                change_speed,
                step_time,
                jump_to_start.run_if(input_just_pressed(KeyCode::Home)),
                jump_to_bookmark_time,
            )
                .chain()
                .in_set(ControlSet::Keys),
        );
    }
}

/// How far `,` and `.` step the clock.
const STEP_S: i64 = 15 * 60;

/// Esc: closes the viewer.
fn quit(mut exit: MessageWriter<AppExit>) {
    exit.write(AppExit::Success);
}

/// B G R C I H: shows or hides buildings, grids, roads, components, incidents, heat.
fn toggle_layers(keys: Res<ButtonInput<KeyCode>>, mut layers: ResMut<Layers>) {
    for (key, layer) in [
        (KeyCode::KeyB, Layer::Buildings),
        (KeyCode::KeyG, Layer::Grids),
        (KeyCode::KeyR, Layer::Roads),
        (KeyCode::KeyC, Layer::Components),
        (KeyCode::KeyI, Layer::Incidents),
        (KeyCode::KeyH, Layer::Heat),
    ] {
        if keys.just_pressed(key) {
            layers.toggle(layer);
        }
    }
}

/// L: shows or hides the legend panel.
fn toggle_legend(mut legend: Query<&mut Visibility, With<LegendPanel>>) {
    for mut v in &mut legend {
        v.toggle_visible_hidden();
    }
}

/// P: saves the window as `gridtwin-view-NNN.png` in the working directory, numbered
/// from 001.
fn save_screenshot(mut shots: Local<u32>, mut commands: Commands) {
    *shots += 1;
    let path = format!("gridtwin-view-{:03}.png", *shots);
    info!("screenshot {path}");
    commands
        .spawn(Screenshot::primary_window())
        .observe(save_to_disk(path));
}

/// The digit keys 1–9, bookmark by bookmark.
const BOOKMARK_KEYS: [KeyCode; 9] = [
    KeyCode::Digit1,
    KeyCode::Digit2,
    KeyCode::Digit3,
    KeyCode::Digit4,
    KeyCode::Digit5,
    KeyCode::Digit6,
    KeyCode::Digit7,
    KeyCode::Digit8,
    KeyCode::Digit9,
];

/// The bookmark a digit key chose this frame: the last one of those pressed that
/// has a bookmark.
fn chosen_bookmark<'a>(
    keys: &ButtonInput<KeyCode>,
    bookmarks: &'a [Bookmark],
) -> Option<&'a Bookmark> {
    BOOKMARK_KEYS
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, k)| keys.just_pressed(**k))
        .find_map(|(i, _)| bookmarks.get(i))
}

/// 1–9: ends the tour and flies to the bookmark (its time is
/// [`jump_to_bookmark_time`]'s).
fn fly_to_bookmark(
    keys: Res<ButtonInput<KeyCode>>,
    data: Res<ViewerData>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut p: ResMut<Presenter>,
) {
    let Some(b) = chosen_bookmark(&keys, &p.bookmarks).cloned() else {
        return;
    };
    p.tour = None;
    let view = window_view(window.width(), window.height());
    p.fly_to(Orbit::from_bookmark(&b, &data.0.scene).centred_in(view));
}

/// 0: ends the tour and flies to the overview of the whole city.
fn fly_to_overview(
    data: Res<ViewerData>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut p: ResMut<Presenter>,
) {
    p.tour = None;
    let view = window_view(window.width(), window.height());
    p.fly_to(Orbit::overview(&data.0.scene, view));
}

/// F: ends the tour and flies to the picked thing, no farther than 400 m from it.
fn fly_to_picked(data: Res<ViewerData>, mut p: ResMut<Presenter>) {
    if let Some(target) = p.picked.and_then(|x| focus_of(x, &data)) {
        let mut to = p.orbit;
        to.focus = target;
        to.distance = to.distance.min(400.0);
        p.tour = None;
        p.fly_to(to);
    }
}

/// Where the camera should look to show a picked thing (local coordinates).
fn focus_of(p: Picked, data: &ViewerData) -> Option<[f32; 3]> {
    let m = &data.0;
    let lonlat = match p {
        Picked::Component(i) => {
            let c = &m.city.components.get(i)?.location;
            (c.x(), c.y())
        }
        Picked::Incident(i) => {
            let c = m.playback.as_ref()?.cases.get(i)?;
            (c.lon, c.lat)
        }
        Picked::Building(i) => {
            let c = geo::Centroid::centroid(&m.city.buildings.get(i)?.footprint)?;
            (c.x(), c.y())
        }
        Picked::Grid(i) => {
            let c = geo::Centroid::centroid(&m.city.areas.get(i)?.boundary)?;
            (c.x(), c.y())
        }
    };
    Some(m.scene.local(lonlat.0, lonlat.1, 0.0))
}

/// T: starts the tour of the bookmarks (from the clock's time now), or ends it; either
/// way the current flight stops.
fn toggle_tour(mut p: ResMut<Presenter>, clock: Option<Res<Clock>>) {
    p.tour = match p.tour {
        Some(_) => None,
        None if !p.bookmarks.is_empty() => Some((0.0, None, clock.as_ref().map_or(0, |c| c.t))),
        None => None,
    };
    p.flight = None;
}

/// Space: plays or pauses the playback.
fn toggle_playback(data: Res<ViewerData>, clock: Option<ResMut<Clock>>) {
    let (Some(mut clock), Some(_)) = (clock, &data.0.playback) else {
        return;
    };
    clock.playing = !clock.playing;
}

/// `+` (`=`, `]`) doubles the playback speed, up to a day a second; `-` (`[`) halves
/// it, down to real time.
fn change_speed(
    keys: Res<ButtonInput<KeyCode>>,
    data: Res<ViewerData>,
    clock: Option<ResMut<Clock>>,
) {
    let (Some(mut clock), Some(_)) = (clock, &data.0.playback) else {
        return;
    };
    if keys.any_just_pressed([KeyCode::Equal, KeyCode::NumpadAdd, KeyCode::BracketRight]) {
        clock.speed = (clock.speed * 2.0).min(86_400.0);
    }
    if keys.any_just_pressed([
        KeyCode::Minus,
        KeyCode::NumpadSubtract,
        KeyCode::BracketLeft,
    ]) {
        clock.speed = (clock.speed / 2.0).max(1.0);
    }
}

/// `.` steps the clock 15 minutes on, `,` 15 minutes back, within the playback.
fn step_time(keys: Res<ButtonInput<KeyCode>>, data: Res<ViewerData>, clock: Option<ResMut<Clock>>) {
    let (Some(mut clock), Some(pb)) = (clock, &data.0.playback) else {
        return;
    };
    if keys.just_pressed(KeyCode::Period) {
        clock.t = (clock.t + STEP_S).min(pb.end);
    }
    if keys.just_pressed(KeyCode::Comma) {
        clock.t = (clock.t - STEP_S).max(pb.start);
    }
}

/// Home: the clock back to the start of the playback.
fn jump_to_start(data: Res<ViewerData>, clock: Option<ResMut<Clock>>) {
    let (Some(mut clock), Some(pb)) = (clock, &data.0.playback) else {
        return;
    };
    clock.t = pb.start;
}

/// 1–9: the clock to the chosen bookmark's time, when it has one.
fn jump_to_bookmark_time(
    keys: Res<ButtonInput<KeyCode>>,
    data: Res<ViewerData>,
    p: Res<Presenter>,
    clock: Option<ResMut<Clock>>,
) {
    let (Some(mut clock), Some(pb)) = (clock, &data.0.playback) else {
        return;
    };
    let jump_to = chosen_bookmark(&keys, &p.bookmarks)
        .and_then(|b| b.at.as_deref())
        .and_then(|a| parse_at(a).ok());
    if let Some(off) = jump_to {
        clock.t = (pb.start + off).min(pb.end);
    }
}
