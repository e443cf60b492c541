//! The mouse: left-drag orbits, right- or middle-drag pans, the wheel zooms, a left
//! click picks, and a left press on the time bar scrubs it. The pointer's state (the
//! drag under way, how far the cursor moved) is the [`Pointer`] resource the systems
//! share; they run in a fixed order each frame.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::panels::{bar_fraction, on_bar};
use super::{ControlSet, MainCamera, Presenter};
use crate::pick::Ray;
use crate::render::{Clock, ViewerData};

/// The mouse's systems, in the order they run.
pub(super) struct MousePlugin;

impl Plugin for MousePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Pointer>().add_systems(
            Update,
            (
                follow_cursor,
                start_drag,
                orbit_camera,
                pan_camera,
                scrub_time_bar,
                zoom_camera,
                pick_on_click,
                end_drag,
            )
                .chain()
                .in_set(ControlSet::Mouse),
        );
    }
}

/// What the mouse is doing since the button went down.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Drag {
    #[default]
    None,
    Orbit,
    Pan,
    Scrub,
}

/// The pointer, as the mouse's systems share it.
#[derive(Resource, Default)]
struct Pointer {
    drag: Drag,
    /// How far the cursor moved since the last press: a click moves less than 4 px.
    moved_px: f32,
    /// Cursor position last frame: drags follow the cursor (raw device motion is not
    /// delivered everywhere, e.g. remote desktops and Xvfb).
    last_cursor: Option<Vec2>,
    /// How far the cursor moved this frame (logical pixels).
    delta: Vec2,
}

/// Measures this frame's cursor movement: from the cursor's position where there is
/// one, else from the raw device motion.
fn follow_cursor(
    motion: Res<AccumulatedMouseMotion>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut ptr: ResMut<Pointer>,
) {
    let cursor = window.cursor_position();
    ptr.delta = match (cursor, ptr.last_cursor) {
        (Some(c), Some(l)) => c - l,
        _ => motion.delta,
    };
    ptr.last_cursor = cursor;
    let moved = ptr.delta.length();
    ptr.moved_px += moved;
}

/// A press starts a drag: left scrubs on the time bar (with a playback) and orbits
/// elsewhere, right or middle pans; the movement counts from the press.
fn start_drag(
    buttons: Res<ButtonInput<MouseButton>>,
    window: Single<&Window, With<PrimaryWindow>>,
    clock: Option<Res<Clock>>,
    mut ptr: ResMut<Pointer>,
) {
    // movement before the press (a warp onto the spot, say) does not make it a drag
    if buttons.any_just_pressed([MouseButton::Left, MouseButton::Right, MouseButton::Middle]) {
        ptr.moved_px = 0.0;
    }
    if buttons.just_pressed(MouseButton::Left) {
        let bar = window.cursor_position().is_some_and(|c| on_bar(&window, c));
        ptr.drag = if bar && clock.is_some() {
            Drag::Scrub
        } else {
            Drag::Orbit
        };
    } else if buttons.any_just_pressed([MouseButton::Right, MouseButton::Middle]) {
        ptr.drag = Drag::Pan;
    }
}

/// Left-drag: turns the camera around its focus; the presenter takes over from a
/// flight or the tour.
fn orbit_camera(
    buttons: Res<ButtonInput<MouseButton>>,
    ptr: Res<Pointer>,
    mut p: ResMut<Presenter>,
) {
    let d = ptr.delta;
    if ptr.drag == Drag::Orbit && buttons.pressed(MouseButton::Left) && d != Vec2::ZERO {
        p.orbit.rotate(d.x * 0.005, d.y * 0.005);
        p.take_over();
    }
}

/// Right- or middle-drag: moves the focus with the cursor; the presenter takes over
/// from a flight or the tour.
fn pan_camera(buttons: Res<ButtonInput<MouseButton>>, ptr: Res<Pointer>, mut p: ResMut<Presenter>) {
    let d = ptr.delta;
    if ptr.drag == Drag::Pan
        && buttons.any_pressed([MouseButton::Right, MouseButton::Middle])
        && d != Vec2::ZERO
    {
        // metres per pixel at the focus, so the ground follows the cursor
        let k = p.orbit.distance * 0.0015;
        p.orbit.pan(-d.x * k, d.y * k);
        p.take_over();
    }
}

/// Left-drag on the time bar: the clock to the time under the cursor.
fn scrub_time_bar(
    buttons: Res<ButtonInput<MouseButton>>,
    window: Single<&Window, With<PrimaryWindow>>,
    data: Res<ViewerData>,
    ptr: Res<Pointer>,
    clock: Option<ResMut<Clock>>,
) {
    if ptr.drag != Drag::Scrub || !buttons.pressed(MouseButton::Left) {
        return;
    }
    if let (Some(f), Some(mut c), Some(pb)) = (
        window.cursor_position().map(|c| bar_fraction(&window, c.x)),
        clock,
        &data.0.playback,
    ) {
        c.t = pb.start + (f as f64 * pb.duration() as f64).round() as i64;
    }
}

/// The wheel: zooms in and out; the presenter takes over from a flight or the tour.
fn zoom_camera(scroll: Res<AccumulatedMouseScroll>, mut p: ResMut<Presenter>) {
    let wheel = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y,
        MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
    };
    if wheel != 0.0 {
        p.orbit.zoom(0.85f32.powf(wheel));
        p.take_over();
    }
}

/// A click (left press and release without moving) picks the building, grid,
/// component or incident under the cursor, or nothing.
fn pick_on_click(
    buttons: Res<ButtonInput<MouseButton>>,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Camera, &GlobalTransform), With<MainCamera>>,
    data: Res<ViewerData>,
    ptr: Res<Pointer>,
    clock: Option<Res<Clock>>,
    mut p: ResMut<Presenter>,
) {
    if !(buttons.just_released(MouseButton::Left) && ptr.drag == Drag::Orbit && ptr.moved_px < 4.0)
    {
        return;
    }
    let model = &data.0;
    let (cam, tf) = *camera;
    if let Some(ray) = window
        .cursor_position()
        .and_then(|c| cam.viewport_to_world(tf, c).ok())
    {
        let t = clock.as_ref().map_or(0, |c| c.t);
        let visible: Vec<(usize, [f32; 3])> = model
            .playback
            .as_ref()
            .map(|pb| {
                pb.visible_at(t)
                    .into_iter()
                    .map(|(i, _)| (i, pb.positions[i]))
                    .collect()
            })
            .unwrap_or_default();
        p.picked = model.picker.pick(
            Ray {
                origin: ray.origin.to_array(),
                dir: ray.direction.as_vec3().to_array(),
            },
            &model.scene,
            &visible,
            model.style.marker_size_m,
            model.style.cases.marker_size_m,
        );
    }
}

/// A release ends the drag.
fn end_drag(buttons: Res<ButtonInput<MouseButton>>, mut ptr: ResMut<Pointer>) {
    if buttons.any_just_released([MouseButton::Left, MouseButton::Right, MouseButton::Middle]) {
        ptr.drag = Drag::None;
    }
}
