//! What a picture says besides the city: the legend (the layer families drawn and
//! their colours), the title and clock of a still, the scale bar and the basemap's
//! place names. Bevy UI, drawn over whichever camera shows the city — the window's
//! or the still's image — so the window and the stills read the same.

use bevy::prelude::*;

use crate::camera::{metres_per_px, View};
use crate::playback::CaseState;
use crate::render::{Clock, Layer, Layers, ViewerData, ViewerModel};
use crate::scene::SceneFile;

/// Marks the camera that shows the city: place names are projected with it and the
/// scale bar measured from it.
#[derive(Component)]
pub struct ViewCamera;

/// A panel over the map (legend, title, info): place names keep clear of it.
#[derive(Component)]
pub struct OverlayPanel;

/// Width of a still's side panel (title, clock, legend) in UI pixels, and its margin.
pub const PANEL_WIDTH: f32 = 290.0;
pub const PANEL_MARGIN: f32 = 12.0;
/// A still's UI is laid out for this image height and scaled with it, so text keeps
/// its share of the picture at any `--size`.
pub const STILL_UI_HEIGHT: f32 = 720.0;

/// The part of a `width` × `height` picture left to the city beside a side panel
/// (none when `panel` is false) of [`PANEL_WIDTH`] at `ui_scale`.
pub fn framed_view(width: f32, height: f32, panel: bool, ui_scale: f32) -> View {
    let mut v = View::new(width, height);
    if panel {
        v.panel = (PANEL_WIDTH + 2.0 * PANEL_MARGIN) * ui_scale / width.max(1.0);
    }
    v
}

/// The window's overview leaves room for its legend only where the legend takes
/// under this share of the width; a narrower window frames the whole picture (the
/// legend toggles with L).
const WINDOW_PANEL_MAX: f32 = 0.3;

/// The part of a `width` × `height` window left to the city by its legend.
pub fn window_view(width: f32, height: f32) -> View {
    let v = framed_view(width, height, true, 1.0);
    if v.panel > WINDOW_PANEL_MAX {
        View::new(width, height)
    } else {
        v
    }
}

/// Panel colours (dark, so light map colours and white text both read).
pub const PANEL_BG: Color = Color::srgba(0.05, 0.07, 0.10, 0.95);
pub const HEADING: Color = Color::srgb(0.70, 0.80, 1.0);
const MUTED: Color = Color::srgb(0.75, 0.77, 0.80);
/// Edge of every swatch, so dark colours (community lines, "other") show on the panel.
const SWATCH_EDGE: Color = Color::srgb(0.70, 0.72, 0.75);

/// How a legend entry's colour is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A filled square: markers, surfaces.
    Fill([f32; 3]),
    /// A thin bar: lines (grids, roads).
    Line([f32; 3]),
    /// A ramp from one colour to another: buildings by height, heat by count.
    Ramp([f32; 3], [f32; 3]),
}

/// One line of the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendRow {
    pub swatch: Swatch,
    pub label: String,
}

/// A heading and its rows (one layer family).
#[derive(Debug, Clone, PartialEq)]
pub struct LegendSection {
    pub title: String,
    pub rows: Vec<LegendRow>,
}

/// The legend of what `layers` draws of the model: only families that are shown and
/// have something to show, each entry in the colour it is drawn in.
pub fn legend(model: &ViewerModel, layers: &Layers) -> Vec<LegendSection> {
    let style = &model.style;
    let row = |swatch, label: String| LegendRow { swatch, label };
    let mut out = Vec::new();
    let mut map = Vec::new();
    if layers.shown(Layer::Buildings) && !model.scene.buildings.is_empty() {
        map.push(row(
            Swatch::Ramp(style.building_low, style.building_high),
            format!("buildings by height, 0-{:.0} m", style.building_high_m),
        ));
    }
    if layers.shown(Layer::Grids) {
        if !model.scene.grid_lines.is_empty() {
            map.push(row(Swatch::Line(style.grid_line), "unit grids".into()));
        }
        if !model.scene.community_lines.is_empty() {
            map.push(row(
                Swatch::Line(style.community_line),
                "communities and above".into(),
            ));
        }
    }
    if layers.shown(Layer::Roads) && !model.scene.roads.is_empty() {
        map.push(row(Swatch::Line(style.road_line), "roads".into()));
    }
    if let Some(b) = &model.basemap {
        if !b.water.is_empty() {
            map.push(row(Swatch::Fill(style.water), "water".into()));
        }
        if !b.parks.is_empty() {
            map.push(row(Swatch::Fill(style.park), "parks".into()));
        }
    }
    if !map.is_empty() {
        out.push(LegendSection {
            title: "Map".into(),
            rows: map,
        });
    }
    if layers.shown(Layer::Components) && !model.scene.component_classes.is_empty() {
        out.push(LegendSection {
            title: "Components by class".into(),
            rows: model
                .scene
                .component_classes
                .iter()
                .map(|(code, color)| {
                    let name = model
                        .table
                        .iter()
                        .find(|c| {
                            c.key.kind == gridtwin_core::CategoryKind::Component
                                && format!("{:02}", c.key.major) == *code
                        })
                        .map(|c| c.major_en.clone())
                        .unwrap_or_default();
                    row(Swatch::Fill(*color), format!("{code} {name}"))
                })
                .collect(),
        });
    }
    if let Some(pb) = &model.playback {
        if layers.shown(Layer::Incidents) {
            out.push(LegendSection {
                title: "Incidents by case state".into(),
                rows: CaseState::ALL
                    .iter()
                    .map(|s| row(Swatch::Fill(s.color(style)), s.name().to_string()))
                    .collect(),
            });
        }
        if layers.shown(Layer::Heat) {
            let window_h = pb.heat_window_s as f64 / 3600.0;
            out.push(LegendSection {
                title: "Incident heat".into(),
                rows: vec![row(
                    Swatch::Ramp(style.heat.low, style.heat.high),
                    format!("intakes per H3 cell, last {window_h} h"),
                )],
            });
        }
    }
    out
}

/// The still's title and the line under it: the city, and what is played on it.
#[derive(Debug, Clone, PartialEq, Resource)]
pub struct Caption {
    pub title: String,
    pub subtitle: String,
}

impl Caption {
    /// The city's name; the scenario (or timeline) and seed played, and the
    /// bookmark the view is from, if any.
    pub fn new(model: &ViewerModel, file: &SceneFile, bookmark: Option<&str>) -> Caption {
        let stem = |p: &std::path::Path| {
            p.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let mut parts = Vec::new();
        if let Some(spec) = &file.playback {
            if let Some(s) = &spec.scenario {
                parts.push(format!("scenario {}, seed {}", stem(s), spec.seed));
            } else if let Some(t) = &spec.timeline {
                let run = t.parent().map(stem).unwrap_or_default();
                parts.push(format!("timeline {run}"));
            }
        }
        if let Some(b) = bookmark {
            parts.push(format!("view {b}"));
        }
        Caption {
            title: model.city.name.clone(),
            subtitle: parts.join("\n"),
        }
    }
}

/// A round scale-bar length for `m_per_px` metres per pixel: the longest of 1, 2 or
/// 5 × 10ⁿ metres whose bar is at most `max_px` long. Returns (metres, pixels).
///
/// ```
/// use gridtwin_viewer::overlay::scale_bar;
/// assert_eq!(scale_bar(4.0, 160.0), (500.0, 125.0));
/// assert_eq!(scale_bar(1.0, 160.0), (100.0, 100.0));
/// ```
pub fn scale_bar(m_per_px: f32, max_px: f32) -> (f32, f32) {
    if !(m_per_px.is_finite() && m_per_px > 0.0 && max_px > 0.0) {
        return (0.0, 0.0);
    }
    let max_m = (m_per_px * max_px) as f64;
    let decade = 10f64.powf(max_m.log10().floor());
    let m = [5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * decade)
        .find(|m| *m <= max_m * (1.0 + 1e-9))
        .unwrap_or(decade);
    (m as f32, (m / m_per_px as f64) as f32)
}

/// `500 m`, `2 km`, `1.5 km`.
pub fn distance_label(m: f32) -> String {
    if m >= 1000.0 {
        let km = m / 1000.0;
        if (km - km.round()).abs() < 1e-3 {
            format!("{km:.0} km")
        } else {
            format!("{km:.1} km")
        }
    } else if m >= 1.0 {
        format!("{m:.0} m")
    } else {
        format!("{m:.2} m")
    }
}

/// A text bundle.
pub fn text(s: impl Into<String>, size: f32, color: Color) -> (Text, TextFont, TextColor) {
    (
        Text::new(s),
        TextFont {
            font_size: FontSize::Px(size),
            ..default()
        },
        TextColor(color),
    )
}

fn srgb(c: [f32; 3]) -> Color {
    Color::srgb(c[0], c[1], c[2])
}

/// Spawns the legend's sections as children of a panel.
pub fn spawn_legend(p: &mut ChildSpawnerCommands, sections: &[LegendSection]) {
    let edge = Outline::new(Val::Px(1.0), Val::ZERO, SWATCH_EDGE);
    for s in sections {
        p.spawn(text(s.title.clone(), 13.0, HEADING));
        for r in &s.rows {
            p.spawn(Node {
                flex_direction: FlexDirection::Row,
                column_gap: Val::Px(6.0),
                align_items: AlignItems::Center,
                ..default()
            })
            .with_children(|row| {
                // every swatch takes the same width, so the labels line up
                row.spawn(Node {
                    width: Val::Px(24.0),
                    height: Val::Px(12.0),
                    flex_direction: FlexDirection::Row,
                    align_items: AlignItems::Center,
                    ..default()
                })
                .with_children(|sw| match r.swatch {
                    Swatch::Fill(c) => {
                        sw.spawn((
                            Node {
                                width: Val::Px(12.0),
                                height: Val::Px(12.0),
                                ..default()
                            },
                            BackgroundColor(srgb(c)),
                            edge,
                        ));
                    }
                    Swatch::Line(c) => {
                        sw.spawn((
                            Node {
                                width: Val::Px(24.0),
                                height: Val::Px(4.0),
                                ..default()
                            },
                            BackgroundColor(srgb(c)),
                            edge,
                        ));
                    }
                    Swatch::Ramp(a, b) => {
                        sw.spawn((
                            Node {
                                position_type: PositionType::Absolute,
                                width: Val::Px(24.0),
                                height: Val::Px(12.0),
                                ..default()
                            },
                            edge,
                        ));
                        for k in 0..4 {
                            let f = k as f32 / 3.0;
                            let c = std::array::from_fn(|i| a[i] + (b[i] - a[i]) * f);
                            sw.spawn((
                                Node {
                                    width: Val::Px(6.0),
                                    height: Val::Px(12.0),
                                    ..default()
                                },
                                BackgroundColor(srgb(c)),
                            ));
                        }
                    }
                });
                row.spawn(text(r.label.clone(), 13.0, Color::WHITE));
            });
        }
    }
}

/// Draws the scale bar and the place names over the view camera; with
/// [`StillPanelPlugin`] for stills, beside the window's own panels.
pub struct MapOverlayPlugin {
    /// Distance of the scale bar from the bottom edge (UI pixels): the window keeps
    /// its time bar there.
    pub scale_bar_bottom: f32,
    /// The scale bar in the bottom-left corner (a still's, under its side panel,
    /// where the framing leaves no city) rather than the bottom-right.
    pub scale_bar_left: bool,
}

impl Plugin for MapOverlayPlugin {
    fn build(&self, app: &mut App) {
        let (bottom, left) = (self.scale_bar_bottom, self.scale_bar_left);
        app.add_systems(Startup, move |commands: Commands, data: Res<ViewerData>| {
            spawn_map_overlay(commands, data, bottom, left)
        })
        .add_systems(PostUpdate, (update_scale_bar, place_labels));
    }
}

#[derive(Component)]
struct ScaleBar;
#[derive(Component)]
struct ScaleText;
#[derive(Component)]
struct PlaceLabel(Vec3);

fn spawn_map_overlay(mut commands: Commands, data: Res<ViewerData>, bottom: f32, left: bool) {
    let (left, right) = if left {
        (Val::Px(PANEL_MARGIN), Val::Auto)
    } else {
        (Val::Auto, Val::Px(PANEL_MARGIN))
    };
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                bottom: Val::Px(bottom),
                left,
                right,
                padding: UiRect::axes(Val::Px(8.0), Val::Px(5.0)),
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Start,
                row_gap: Val::Px(3.0),
                ..default()
            },
            BackgroundColor(PANEL_BG),
            OverlayPanel,
        ))
        .with_children(|p| {
            p.spawn((text("", 13.0, Color::WHITE), ScaleText));
            p.spawn((
                Node {
                    width: Val::Px(0.0),
                    height: Val::Px(4.0),
                    ..default()
                },
                BackgroundColor(Color::WHITE),
                ScaleBar,
            ));
        });
    let style = &data.0.style;
    if let Some(b) = &data.0.basemap {
        for (name, at) in &b.places {
            commands.spawn((
                Node {
                    position_type: PositionType::Absolute,
                    padding: UiRect::axes(Val::Px(4.0), Val::Px(1.0)),
                    ..default()
                },
                BackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.65)),
                Visibility::Hidden,
                PlaceLabel(Vec3::from_array(*at)),
                children![text(name.clone(), 13.0, srgb(style.place_label))],
            ));
        }
    }
}

/// The longest scale bar, in UI pixels.
const SCALE_BAR_MAX: f32 = 160.0;

/// Measures the scale at the middle of the picture: the ground point the camera
/// looks at, its distance, and the camera's own field of view.
fn update_scale_bar(
    camera: Query<(&Camera, &GlobalTransform, &Projection), With<ViewCamera>>,
    ui_scale: Res<UiScale>,
    mut bar: Query<&mut Node, With<ScaleBar>>,
    mut label: Query<&mut Text, With<ScaleText>>,
) {
    let Ok((cam, tf, projection)) = camera.single() else {
        return;
    };
    let (Some(size), Projection::Perspective(p)) = (cam.logical_viewport_size(), projection) else {
        return;
    };
    let forward = tf.forward();
    // straight at the ground only: at the horizon the scale is meaningless
    let (width, s) = if forward.y < -0.02 {
        let distance = -tf.translation().y / forward.y;
        let m_per_ui_px = metres_per_px(distance, p.fov, size.y) * ui_scale.0;
        let (m, px) = scale_bar(m_per_ui_px, SCALE_BAR_MAX);
        (px, distance_label(m))
    } else {
        (0.0, String::new())
    };
    for mut n in &mut bar {
        if n.width != Val::Px(width) {
            n.width = Val::Px(width);
        }
    }
    for mut t in &mut label {
        if t.0 != s {
            t.0 = s.clone();
        }
    }
}

/// Puts each place name over its point, as seen by the view camera; a name that
/// would cover a panel or an earlier name, or is off the picture, is hidden. Names
/// come in the basemap's order, so the importer decides which win.
#[allow(clippy::type_complexity)]
fn place_labels(
    camera: Query<(&Camera, &GlobalTransform), With<ViewCamera>>,
    ui_scale: Res<UiScale>,
    panels: Query<(&ComputedNode, &UiGlobalTransform, &InheritedVisibility), With<OverlayPanel>>,
    mut labels: Query<(&PlaceLabel, &ComputedNode, &mut Node, &mut Visibility)>,
) {
    let Ok((cam, tf)) = camera.single() else {
        return;
    };
    let Some(view) = cam.logical_viewport_size() else {
        return;
    };
    let sf = cam.target_scaling_factor().unwrap_or(1.0);
    let rect = |center: Vec2, size: Vec2| Rect::from_center_size(center, size);
    // physical pixels throughout
    let mut taken: Vec<Rect> = panels
        .iter()
        .filter(|(_, _, v)| v.get())
        .map(|(n, t, _)| rect(t.affine().translation, n.size()))
        .collect();
    let screen = Rect::from_corners(Vec2::ZERO, view * sf);
    for (label, computed, mut node, mut vis) in &mut labels {
        let size = computed.size();
        let at = cam
            .world_to_viewport(tf, label.0)
            .ok()
            .map(|p| rect(p * sf, size))
            .filter(|r| {
                screen.contains(r.min)
                    && screen.contains(r.max)
                    && taken.iter().all(|t| t.intersect(*r).is_empty())
            });
        let want = match at {
            Some(r) => {
                taken.push(r);
                // UI pixels: physical divided by the target's and the UI's scale
                let k = 1.0 / (sf * ui_scale.0);
                let (left, top) = (Val::Px(r.min.x * k), Val::Px(r.min.y * k));
                if node.left != left || node.top != top {
                    node.left = left;
                    node.top = top;
                }
                Visibility::Inherited
            }
            None => Visibility::Hidden,
        };
        if *vis != want {
            *vis = want;
        }
    }
}

/// A still's side panel: title, what is played, the clock, and the legend.
pub struct StillPanelPlugin;

impl Plugin for StillPanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_still_panel);
    }
}

fn spawn_still_panel(
    mut commands: Commands,
    data: Res<ViewerData>,
    layers: Res<Layers>,
    caption: Res<Caption>,
    clock: Option<Res<Clock>>,
) {
    let model = &data.0;
    let sections = legend(model, &layers);
    let clock_text = match (&model.playback, clock) {
        (Some(pb), Some(c)) => {
            let open = pb
                .visible_at(c.t)
                .iter()
                .filter(|(_, s)| *s != CaseState::Closed)
                .count();
            Some((pb.clock(c.t), format!("{open} open cases on the map")))
        }
        _ => None,
    };
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: Val::Px(PANEL_MARGIN),
                left: Val::Px(PANEL_MARGIN),
                width: Val::Px(PANEL_WIDTH),
                padding: UiRect::all(Val::Px(10.0)),
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(3.0),
                ..default()
            },
            BackgroundColor(PANEL_BG),
            OverlayPanel,
        ))
        .with_children(|p| {
            p.spawn(text(caption.title.clone(), 22.0, Color::WHITE));
            if !caption.subtitle.is_empty() {
                p.spawn(text(caption.subtitle.clone(), 12.0, MUTED));
            }
            if let Some((time, open)) = clock_text {
                p.spawn((
                    Node {
                        flex_direction: FlexDirection::Column,
                        margin: UiRect::vertical(Val::Px(6.0)),
                        ..default()
                    },
                    children![text(time, 22.0, Color::WHITE), text(open, 12.0, MUTED)],
                ));
            }
            spawn_legend(p, &sections);
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bar_is_round_and_fits() {
        for m_per_px in [0.013, 0.4, 1.0, 3.7, 4.0, 12.5, 60.0, 999.0] {
            let (m, px) = scale_bar(m_per_px, 160.0);
            assert!(
                px <= 160.0 + 1e-3 && px > 160.0 / 2.5 - 1e-3,
                "{m_per_px}: {px} px"
            );
            assert!((m / px - m_per_px).abs() < 1e-3 * m_per_px);
            let mantissa = m as f64 / 10f64.powf((m as f64).log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|k| (mantissa - k).abs() < 1e-6),
                "{m} m"
            );
        }
        assert_eq!(scale_bar(0.0, 160.0), (0.0, 0.0));
        assert_eq!(scale_bar(f32::NAN, 160.0), (0.0, 0.0));
        assert_eq!(distance_label(500.0), "500 m");
        assert_eq!(distance_label(2000.0), "2 km");
        assert_eq!(distance_label(20.0), "20 m");
    }
}
