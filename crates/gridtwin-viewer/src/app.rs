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

use anyhow::Result;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::render::view::screenshot::{save_to_disk, Screenshot};
use bevy::window::{PrimaryWindow, WindowResolution};

use crate::camera::{tour_at, Flight, Orbit};
use crate::overlay::{
    legend, spawn_legend, text, window_view, MapOverlayPlugin, OverlayPanel, ViewCamera, HEADING,
    PANEL_BG,
};
use crate::pick::{describe, Picked, Ray};
use crate::playback::CaseState;
use crate::render::{
    orbit_transform, view_projection, CityPlugin, Clock, Layer, Layers, Still, ViewerData,
};
use crate::scene::{parse_at, Bookmark, SceneFile, TourSpec};

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
        drag: Drag::None,
        moved_px: 0.0,
        last_cursor: None,
        shots: 0,
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

/// What the mouse is doing since the button went down.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Drag {
    None,
    Orbit,
    Pan,
    Scrub,
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
    drag: Drag,
    moved_px: f32,
    /// Cursor position last frame: drags follow the cursor (raw device motion is not
    /// delivered everywhere, e.g. remote desktops and Xvfb).
    last_cursor: Option<Vec2>,
    shots: u32,
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
}

/// Camera, keys, playback, picking and the tour.
pub struct ControlsPlugin;

impl Plugin for ControlsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_camera).add_systems(
            Update,
            (keys, mouse, advance_clock, tour, fly, place_camera).chain(),
        );
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

const STEP_S: i64 = 15 * 60;

#[allow(clippy::too_many_arguments)]
fn keys(
    keys: Res<ButtonInput<KeyCode>>,
    data: Res<ViewerData>,
    mut p: ResMut<Presenter>,
    mut layers: ResMut<Layers>,
    clock: Option<ResMut<Clock>>,
    mut legend: Query<&mut Visibility, With<LegendPanel>>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut commands: Commands,
    mut exit: MessageWriter<AppExit>,
) {
    let model = &data.0;
    if keys.just_pressed(KeyCode::Escape) {
        exit.write(AppExit::Success);
    }
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
    if keys.just_pressed(KeyCode::KeyL) {
        for mut v in &mut legend {
            v.toggle_visible_hidden();
        }
    }
    if keys.just_pressed(KeyCode::KeyP) {
        p.shots += 1;
        let path = format!("gridtwin-view-{:03}.png", p.shots);
        info!("screenshot {path}");
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(path));
    }
    let digits = [
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
    let mut jump_to: Option<i64> = None;
    for (i, k) in digits.iter().enumerate() {
        if keys.just_pressed(*k) {
            if let Some(b) = p.bookmarks.get(i).cloned() {
                p.tour = None;
                let view = window_view(window.width(), window.height());
                p.fly_to(Orbit::from_bookmark(&b, &model.scene).centred_in(view));
                jump_to = b.at.as_deref().and_then(|a| parse_at(a).ok());
            }
        }
    }
    if keys.just_pressed(KeyCode::Digit0) {
        p.tour = None;
        let view = window_view(window.width(), window.height());
        p.fly_to(Orbit::overview(&model.scene, view));
    }
    if keys.just_pressed(KeyCode::KeyF) {
        if let Some(target) = p.picked.and_then(|x| focus_of(x, &data)) {
            let mut to = p.orbit;
            to.focus = target;
            to.distance = to.distance.min(400.0);
            p.tour = None;
            p.fly_to(to);
        }
    }
    if keys.just_pressed(KeyCode::KeyT) {
        p.tour = match p.tour {
            Some(_) => None,
            None if !p.bookmarks.is_empty() => Some((0.0, None, clock.as_ref().map_or(0, |c| c.t))),
            None => None,
        };
        p.flight = None;
    }
    let Some(mut clock) = clock else {
        return;
    };
    let Some(pb) = &model.playback else {
        return;
    };
    if keys.just_pressed(KeyCode::Space) {
        clock.playing = !clock.playing;
    }
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
    if keys.just_pressed(KeyCode::Period) {
        clock.t = (clock.t + STEP_S).min(pb.end);
    }
    if keys.just_pressed(KeyCode::Comma) {
        clock.t = (clock.t - STEP_S).max(pb.start);
    }
    if keys.just_pressed(KeyCode::Home) {
        clock.t = pb.start;
    }
    if let Some(off) = jump_to {
        clock.t = (pb.start + off).min(pb.end);
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

/// Time-bar geometry (logical pixels from the window's bottom-left).
const BAR_MARGIN: f32 = 14.0;
const BAR_BOTTOM: f32 = 12.0;
const BAR_HEIGHT: f32 = 16.0;

/// Whether the cursor is over the time bar (a little slack above and below).
fn on_bar(window: &Window, cursor: Vec2) -> bool {
    let h = window.height();
    cursor.y >= h - BAR_BOTTOM - BAR_HEIGHT - 4.0 && cursor.y <= h - BAR_BOTTOM + 4.0
}

/// The playback fraction (0..1) at horizontal cursor position `x` along the bar.
fn bar_fraction(window: &Window, x: f32) -> f32 {
    ((x - BAR_MARGIN) / (window.width() - 2.0 * BAR_MARGIN)).clamp(0.0, 1.0)
}

#[allow(clippy::too_many_arguments)]
fn mouse(
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Camera, &GlobalTransform), With<MainCamera>>,
    data: Res<ViewerData>,
    mut p: ResMut<Presenter>,
    clock: Option<ResMut<Clock>>,
) {
    let model = &data.0;
    let cursor = window.cursor_position();
    let mut clock = clock;
    let bar = cursor.is_some_and(|c| on_bar(&window, c));
    let d = match (cursor, p.last_cursor) {
        (Some(c), Some(l)) => c - l,
        _ => motion.delta,
    };
    p.last_cursor = cursor;
    // movement before the press (a warp onto the spot, say) does not make it a drag
    p.moved_px += d.length();
    if buttons.any_just_pressed([MouseButton::Left, MouseButton::Right, MouseButton::Middle]) {
        p.moved_px = 0.0;
    }
    if buttons.just_pressed(MouseButton::Left) {
        p.drag = if bar && clock.is_some() {
            Drag::Scrub
        } else {
            Drag::Orbit
        };
    } else if buttons.any_just_pressed([MouseButton::Right, MouseButton::Middle]) {
        p.drag = Drag::Pan;
    }
    let manual = match p.drag {
        Drag::Orbit if buttons.pressed(MouseButton::Left) && d != Vec2::ZERO => {
            p.orbit.rotate(d.x * 0.005, d.y * 0.005);
            true
        }
        Drag::Pan
            if buttons.any_pressed([MouseButton::Right, MouseButton::Middle])
                && d != Vec2::ZERO =>
        {
            // metres per pixel at the focus, so the ground follows the cursor
            let k = p.orbit.distance * 0.0015;
            p.orbit.pan(-d.x * k, d.y * k);
            true
        }
        _ => false,
    };
    if p.drag == Drag::Scrub && buttons.pressed(MouseButton::Left) {
        if let (Some(f), Some(c), Some(pb)) = (
            cursor.map(|c| bar_fraction(&window, c.x)),
            clock.as_mut(),
            &model.playback,
        ) {
            c.t = pb.start + (f as f64 * pb.duration() as f64).round() as i64;
        }
    }
    let wheel = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y,
        MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
    };
    if wheel != 0.0 {
        p.orbit.zoom(0.85f32.powf(wheel));
    }
    if manual || wheel != 0.0 {
        p.flight = None;
        p.tour = None;
    }
    // A click (press and release without moving) picks.
    if buttons.just_released(MouseButton::Left) && p.drag == Drag::Orbit && p.moved_px < 4.0 {
        let (cam, tf) = *camera;
        if let Some(ray) = cursor.and_then(|c| cam.viewport_to_world(tf, c).ok()) {
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
    if buttons.just_released(MouseButton::Left)
        || buttons.just_released(MouseButton::Right)
        || buttons.just_released(MouseButton::Middle)
    {
        p.drag = Drag::None;
    }
}

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

fn fly(time: Res<Time>, mut p: ResMut<Presenter>) {
    let Some(mut f) = p.flight else {
        return;
    };
    let (pose, done) = f.step(time.delta_secs());
    p.orbit = pose;
    p.flight = if done { None } else { Some(f) };
}

fn place_camera(p: Res<Presenter>, mut cam: Query<&mut Transform, With<MainCamera>>) {
    if !p.is_changed() {
        return;
    }
    for mut t in &mut cam {
        *t = orbit_transform(&p.orbit);
    }
}

/// Legend, time bar and info panel.
pub struct PanelsPlugin;

impl Plugin for PanelsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_panels)
            .add_systems(Update, update_panels);
    }
}

#[derive(Component)]
struct LegendPanel;
#[derive(Component)]
struct LayerLine(Layer);
#[derive(Component)]
struct TimeText;
#[derive(Component)]
struct TimeFill;
#[derive(Component)]
struct InfoText;
#[derive(Component)]
struct InfoPanel;

fn spawn_panels(mut commands: Commands, data: Res<ViewerData>) {
    let model = &data.0;
    let panel_bg = BackgroundColor(PANEL_BG);
    // Legend (top left)
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: Val::Px(10.0),
                left: Val::Px(10.0),
                padding: UiRect::all(Val::Px(8.0)),
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(3.0),
                ..default()
            },
            panel_bg,
            LegendPanel,
            OverlayPanel,
        ))
        .with_children(|p| {
            p.spawn(text(model.city.name.clone(), 15.0, Color::WHITE));
            p.spawn(text("Layers (key)", 13.0, HEADING));
            for l in Layer::ALL {
                p.spawn((text("", 13.0, Color::WHITE), LayerLine(l)));
            }
            // the same legend as the stills', every layer (the lines above say which are on)
            spawn_legend(p, &legend(model, &Layers::default()));
            p.spawn(text(
                "drag orbit | right-drag pan | wheel zoom\n\
                 click pick | F fly to | 0 overview\n\
                 space play | +/- speed | ,/. step\n\
                 1-9 bookmarks | T tour | L legend\n\
                 P screenshot | Esc quit",
                11.0,
                Color::srgb(0.75, 0.75, 0.75),
            ));
        });
    // Info panel (top right)
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: Val::Px(10.0),
                right: Val::Px(10.0),
                padding: UiRect::all(Val::Px(8.0)),
                max_width: Val::Px(420.0),
                ..default()
            },
            panel_bg,
            Visibility::Hidden,
            InfoPanel,
            OverlayPanel,
        ))
        .with_children(|p| {
            p.spawn((text("", 13.0, Color::WHITE), InfoText));
        });
    // Time bar (bottom)
    if model.playback.is_some() {
        commands.spawn((
            Node {
                position_type: PositionType::Absolute,
                bottom: Val::Px(BAR_BOTTOM + BAR_HEIGHT + 6.0),
                left: Val::Px(BAR_MARGIN),
                padding: UiRect::axes(Val::Px(6.0), Val::Px(2.0)),
                ..default()
            },
            panel_bg,
            OverlayPanel,
            children![(text("", 14.0, Color::WHITE), TimeText)],
        ));
        commands.spawn((
            Node {
                position_type: PositionType::Absolute,
                bottom: Val::Px(BAR_BOTTOM),
                left: Val::Px(BAR_MARGIN),
                right: Val::Px(BAR_MARGIN),
                height: Val::Px(BAR_HEIGHT),
                ..default()
            },
            BackgroundColor(Color::srgba(0.1, 0.1, 0.12, 0.8)),
            OverlayPanel,
            children![(
                Node {
                    width: Val::Percent(0.0),
                    height: Val::Percent(100.0),
                    ..default()
                },
                BackgroundColor(Color::srgb(0.25, 0.55, 0.95)),
                TimeFill,
            )],
        ));
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn update_panels(
    data: Res<ViewerData>,
    layers: Res<Layers>,
    p: Res<Presenter>,
    clock: Option<Res<Clock>>,
    mut lines: Query<(&LayerLine, &mut Text), (Without<TimeText>, Without<InfoText>)>,
    mut time_text: Query<&mut Text, (With<TimeText>, Without<LayerLine>, Without<InfoText>)>,
    mut fill: Query<&mut Node, With<TimeFill>>,
    mut info: Query<&mut Text, (With<InfoText>, Without<LayerLine>, Without<TimeText>)>,
    mut info_panel: Query<&mut Visibility, With<InfoPanel>>,
    mut described: Local<Option<(Option<Picked>, i64)>>,
    mut open_cases: Local<Option<(i64, usize)>>,
) {
    let model = &data.0;
    if layers.is_changed() {
        for (l, mut t) in &mut lines {
            let key = match l.0 {
                Layer::Buildings => 'B',
                Layer::Grids => 'G',
                Layer::Roads => 'R',
                Layer::Components => 'C',
                Layer::Incidents => 'I',
                Layer::Heat => 'H',
            };
            let mark = if layers.shown(l.0) { "[x]" } else { "[ ]" };
            t.0 = format!("{mark} {} ({key})", l.0.name());
        }
    }
    let now = clock.as_ref().map_or(0, |c| c.t);
    if let (Some(c), Some(pb)) = (&clock, &model.playback) {
        // counted once per playback minute, not every frame
        let minute = c.t.div_euclid(60);
        let open = match *open_cases {
            Some((m, n)) if m == minute => n,
            _ => {
                let n = pb
                    .visible_at(minute * 60)
                    .iter()
                    .filter(|(_, s)| *s != CaseState::Closed)
                    .count();
                *open_cases = Some((minute, n));
                n
            }
        };
        let tour = if p.tour.is_some() { "  TOUR" } else { "" };
        let s = format!(
            "{}  {}  x{:.0}  {} open cases{}",
            pb.clock(c.t),
            if c.playing { "playing" } else { "paused" },
            c.speed,
            open,
            tour
        );
        for mut t in &mut time_text {
            if t.0 != s {
                t.0 = s.clone();
            }
        }
        let f = if pb.duration() > 0 {
            (c.t - pb.start) as f32 / pb.duration() as f32 * 100.0
        } else {
            0.0
        };
        for mut n in &mut fill {
            n.width = Val::Percent(f.clamp(0.0, 100.0));
        }
    }
    // describe again only when the pick or the minute changes (a grid counts its components)
    let key = (p.picked, now.div_euclid(60));
    if *described != Some(key) {
        *described = Some(key);
        let lines = p
            .picked
            .map(|x| describe(x, &model.city, &model.table, model.playback.as_ref(), now))
            .unwrap_or_default();
        for mut v in &mut info_panel {
            *v = if lines.is_empty() {
                Visibility::Hidden
            } else {
                Visibility::Inherited
            };
        }
        let s = lines.join("\n");
        for mut t in &mut info {
            if t.0 != s {
                t.0 = s.clone();
            }
        }
    }
}
