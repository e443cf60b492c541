//! The window's panels: the legend with its layer lines (top left), the info panel on
//! the picked thing (top right) and the time bar with its clock (bottom), and the
//! time bar's geometry that the mouse scrubs on.

use bevy::prelude::*;

use super::Presenter;
use crate::overlay::{legend, spawn_legend, text, OverlayPanel, HEADING, PANEL_BG};
use crate::pick::{describe, Picked};
use crate::playback::CaseState;
use crate::render::{Clock, Layer, Layers, ViewerData};

/// Time-bar geometry (logical pixels from the window's bottom-left).
pub(super) const BAR_MARGIN: f32 = 14.0;
pub(super) const BAR_BOTTOM: f32 = 12.0;
pub(super) const BAR_HEIGHT: f32 = 16.0;

/// Whether the cursor is over the time bar (a little slack above and below).
pub(super) fn on_bar(window: &Window, cursor: Vec2) -> bool {
    let h = window.height();
    cursor.y >= h - BAR_BOTTOM - BAR_HEIGHT - 4.0 && cursor.y <= h - BAR_BOTTOM + 4.0
}

/// The playback fraction (0..1) at horizontal cursor position `x` along the bar.
pub(super) fn bar_fraction(window: &Window, x: f32) -> f32 {
    ((x - BAR_MARGIN) / (window.width() - 2.0 * BAR_MARGIN)).clamp(0.0, 1.0)
}

/// Legend, time bar and info panel.
pub struct PanelsPlugin;

impl Plugin for PanelsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_panels)
            .add_systems(Update, update_panels);
    }
}

/// The legend panel (L shows and hides it).
#[derive(Component)]
pub(super) struct LegendPanel;
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
