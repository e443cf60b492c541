//! Drawing the city with Bevy. [`CityPlugin`] spawns the layers of a [`ViewerData`]
//! and keeps the time-dependent ones (incident markers, heat columns) in step with
//! the [`Clock`]; the interactive window ([`crate::app`]) and the headless still
//! ([`render_png`]) both use it. Headless: no window, no winit; a camera renders into
//! an image, frames are driven by hand, and the image is saved once it exists. Works
//! on a machine with no GPU through Mesa's software Vulkan (lavapipe).

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use bevy::app::PluginsState;
use bevy::asset::RenderAssetUsages;
use bevy::camera::{Camera3d, RenderTarget};
use bevy::image::Image;
use bevy::light::DirectionalLight;
use bevy::mesh::{Indices, Mesh, Mesh3d, PrimitiveTopology};
use bevy::pbr::{MeshMaterial3d, StandardMaterial};
use bevy::prelude::*;
use bevy::render::render_resource::{
    Extent3d, PollType, TextureDimension, TextureFormat, TextureUsages,
};
use bevy::render::renderer::RenderDevice;
use bevy::render::view::screenshot::{save_to_disk, Screenshot};
use bevy::render::view::NoIndirectDrawing;
use bevy::render::RenderPlugin;
use bevy::window::{ExitCondition, WindowPlugin};
use gridtwin_core::{CategoryTable, City};

use crate::basemap::{Basemap, BasemapScene};
use crate::camera::{Orbit, FOV_Y};
use crate::instancing::{markers_bundle, MarkerInstance, MarkerInstancingPlugin};
use crate::overlay::{Caption, MapOverlayPlugin, StillPanelPlugin, ViewCamera, STILL_UI_HEIGHT};
use crate::pick::Picker;
use crate::playback::Playback;
use crate::scene::{build, CityScene, MeshData, SceneFile, Style};

/// The map layers a presenter can switch on and off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Component)]
pub enum Layer {
    Buildings,
    Grids,
    Roads,
    Components,
    Incidents,
    Heat,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Buildings,
        Layer::Grids,
        Layer::Roads,
        Layer::Components,
        Layer::Incidents,
        Layer::Heat,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Buildings => "buildings",
            Layer::Grids => "grids",
            Layer::Roads => "roads",
            Layer::Components => "components",
            Layer::Incidents => "incidents",
            Layer::Heat => "heat",
        }
    }

    pub fn parse(s: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.name() == s)
    }
}

/// Which layers are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Resource)]
pub struct Layers([bool; 6]);

impl Default for Layers {
    fn default() -> Self {
        Layers([true; 6])
    }
}

impl Layers {
    pub fn shown(&self, l: Layer) -> bool {
        self.0[l as usize]
    }
    pub fn set(&mut self, l: Layer, on: bool) {
        self.0[l as usize] = on;
    }
    pub fn toggle(&mut self, l: Layer) {
        self.0[l as usize] = !self.0[l as usize];
    }
}

/// Everything the viewer shows, loaded once.
pub struct ViewerModel {
    pub city: City,
    pub table: CategoryTable,
    pub scene: CityScene,
    pub style: Style,
    pub playback: Option<Playback>,
    pub picker: Picker,
    /// Water, parks and place names, when the city directory has a basemap.
    pub basemap: Option<BasemapScene>,
}

impl ViewerModel {
    /// Loads the scene file's city, builds its geometry and plays its simulation.
    pub fn load(file: &SceneFile) -> Result<ViewerModel> {
        let (city, table, _) = gridtwin_io::city_dir::load_city(&file.city)
            .map_err(|e| anyhow::Error::msg(e.with_causes()))?;
        let scene = build(&city, &file.style);
        let playback = match &file.playback {
            Some(spec) => Some(Playback::load(spec, &scene).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let picker = Picker::new(&city, &scene);
        let basemap = Basemap::load(&file.city)
            .map_err(anyhow::Error::msg)?
            .map(|b| b.build(&scene, file.style.water, file.style.park));
        Ok(ViewerModel {
            city,
            table,
            scene,
            style: file.style.clone(),
            playback,
            picker,
            basemap,
        })
    }
}

/// The model as an ECS resource (shared, read-only).
#[derive(Resource, Clone)]
pub struct ViewerData(pub Arc<ViewerModel>);

/// Playback time (absolute Unix seconds), whether it runs, and how many simulated
/// seconds pass per real second.
#[derive(Debug, Clone, Copy, Resource)]
pub struct Clock {
    pub t: i64,
    pub playing: bool,
    pub speed: f32,
    /// Sub-second remainder of the simulated time, so slow speeds still advance.
    pub carry: f32,
}

/// The mesh handles the time-dependent layers are redrawn into.
#[derive(Resource)]
struct DynamicMeshes {
    incidents: Handle<Mesh>,
    heat: Handle<Mesh>,
    /// The minute last drawn (redraws only when it changes).
    drawn_minute: Option<i64>,
}

/// Spawns the city's layers and keeps incidents and heat in step with the clock.
pub struct CityPlugin;

impl Plugin for CityPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Layers>()
            .add_plugins(MarkerInstancingPlugin)
            .add_systems(Startup, spawn_city)
            .add_systems(Update, (redraw_playback, apply_layers));
    }
}

pub(crate) fn mesh(data: &MeshData, lines: bool) -> Mesh {
    let topology = if lines {
        PrimitiveTopology::LineList
    } else {
        PrimitiveTopology::TriangleList
    };
    let mut m = Mesh::new(topology, RenderAssetUsages::default());
    if data.is_empty() {
        // An empty layer (no incidents at this hour) is one degenerate triangle: zero
        // area, nothing drawn, and no zero-sized GPU buffers.
        let d = MeshData {
            positions: vec![[0.0, -10.0, 0.0]; 3],
            normals: vec![[0.0, 1.0, 0.0]; 3],
            colors: vec![[0.0; 4]; 3],
            indices: if lines { vec![0, 1] } else { vec![0, 1, 2] },
        };
        return mesh(&d, lines);
    }
    m.insert_attribute(Mesh::ATTRIBUTE_POSITION, data.positions.clone());
    m.insert_attribute(Mesh::ATTRIBUTE_NORMAL, data.normals.clone());
    // Style colours are sRGB, as the legend shows them; Bevy reads vertex colours as
    // linear, so they are converted here (else every drawn colour is paler than its
    // legend swatch).
    let colors: Vec<[f32; 4]> = data
        .colors
        .iter()
        .map(|c| {
            Color::srgba(c[0], c[1], c[2], c[3])
                .to_linear()
                .to_f32_array()
        })
        .collect();
    m.insert_attribute(Mesh::ATTRIBUTE_COLOR, colors);
    m.insert_indices(Indices::U32(data.indices.clone()));
    m
}

fn spawn_city(
    mut commands: Commands,
    data: Res<ViewerData>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let model = &data.0;
    let scene = &model.scene;
    let r = scene.half_extent.0.max(scene.half_extent.1).max(50.0);
    commands.spawn((
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(r, r * 2.0, r * 0.5).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    commands.insert_resource(bevy::light::GlobalAmbientLight {
        brightness: 600.0,
        ..default()
    });
    let vertex_coloured = |unlit: bool, blend: bool| StandardMaterial {
        base_color: Color::WHITE,
        unlit,
        perceptual_roughness: 0.9,
        alpha_mode: if blend {
            AlphaMode::Blend
        } else {
            AlphaMode::Opaque
        },
        ..default()
    };
    let opaque = materials.add(vertex_coloured(false, false));
    let unlit = materials.add(vertex_coloured(true, false));
    let no_basemap = BasemapScene::default();
    let basemap = model.basemap.as_ref().unwrap_or(&no_basemap);
    let parts: [(&MeshData, bool, Option<Layer>); 7] = [
        (&scene.ground, false, None),
        (&basemap.water, false, None),
        (&basemap.parks, false, None),
        (&scene.buildings, false, Some(Layer::Buildings)),
        (&scene.grid_lines, true, Some(Layer::Grids)),
        (&scene.community_lines, true, Some(Layer::Grids)),
        (&scene.roads, true, Some(Layer::Roads)),
    ];
    for (d, lines, layer) in parts {
        if d.is_empty() {
            continue;
        }
        let mat = if lines { unlit.clone() } else { opaque.clone() };
        let mut e = commands.spawn((
            Mesh3d(meshes.add(mesh(d, lines))),
            MeshMaterial3d(mat),
            Transform::IDENTITY,
        ));
        if let Some(l) = layer {
            e.insert(l);
        }
    }

    // Components: every marker in one instance buffer, one draw call (see `instancing`).
    let cube = meshes.add(Cuboid::new(1.0, 1.0, 1.0));
    let class_colors: Vec<[f32; 4]> = scene
        .component_classes
        .iter()
        .map(|(_, c)| Color::srgb(c[0], c[1], c[2]).to_linear().to_f32_array())
        .collect();
    let size = model.style.marker_size_m;
    let markers: Vec<MarkerInstance> = scene
        .components
        .iter()
        .map(|m| MarkerInstance {
            position: m.position,
            size,
            color: class_colors[m.class as usize],
        })
        .collect();
    commands.spawn((markers_bundle(cube, markers), Layer::Components));

    let incidents = meshes.add(mesh(&MeshData::default(), false));
    let heat = meshes.add(mesh(&MeshData::default(), false));
    commands.spawn((
        Mesh3d(incidents.clone()),
        MeshMaterial3d(opaque),
        Transform::IDENTITY,
        Layer::Incidents,
    ));
    commands.spawn((
        Mesh3d(heat.clone()),
        MeshMaterial3d(materials.add(vertex_coloured(false, true))),
        Transform::IDENTITY,
        Layer::Heat,
    ));
    commands.insert_resource(DynamicMeshes {
        incidents,
        heat,
        drawn_minute: None,
    });
}

fn redraw_playback(
    data: Res<ViewerData>,
    clock: Option<Res<Clock>>,
    dynamic: Option<ResMut<DynamicMeshes>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let (Some(pb), Some(clock), Some(mut dynamic)) = (&data.0.playback, clock, dynamic) else {
        return;
    };
    let minute = clock.t.div_euclid(60);
    if dynamic.drawn_minute == Some(minute) {
        return;
    }
    dynamic.drawn_minute = Some(minute);
    let t = minute * 60;
    let model = &data.0;
    let _ = meshes.insert(
        &dynamic.incidents,
        mesh(&pb.incident_mesh(t, &model.style), false),
    );
    let _ = meshes.insert(
        &dynamic.heat,
        mesh(&pb.heat_mesh(t, &model.style, &model.scene), false),
    );
}

fn apply_layers(layers: Res<Layers>, mut q: Query<(&Layer, &mut Visibility)>) {
    if !layers.is_changed() {
        return;
    }
    for (l, mut v) in &mut q {
        let want = if layers.shown(*l) {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        if *v != want {
            *v = want;
        }
    }
}

/// The projection of every view camera: the field of view framing and the scale bar
/// assume, and a far plane beyond any city (it only bounds culling).
pub fn view_projection() -> Projection {
    Projection::Perspective(PerspectiveProjection {
        fov: FOV_Y,
        far: 500_000.0,
        ..default()
    })
}

/// The camera transform of an orbit pose.
pub fn orbit_transform(o: &Orbit) -> Transform {
    Transform::from_translation(Vec3::from_array(o.eye()))
        .looking_at(Vec3::from_array(o.focus), Vec3::Y)
}

fn update_and_wait(app: &mut App) -> Result<()> {
    app.update();
    if let Some(exit) = app.should_exit() {
        bail!("the renderer stopped ({exit:?}); its log above says why");
    }
    let _ = app
        .world()
        .resource::<RenderDevice>()
        .wgpu_device()
        .poll(PollType::Wait {
            submission_index: None,
            timeout: None,
        });
    Ok(())
}

/// What a still shows: layers, the playback time (absolute seconds) and the pose.
pub struct Still {
    pub layers: Layers,
    pub at: Option<i64>,
    pub pose: Orbit,
    pub size: (u32, u32),
    /// Title, clock, legend, scale bar and place names over the picture; `None`
    /// for the bare scene.
    pub caption: Option<Caption>,
}

/// A windowless app showing the still, rendering into an image it returns.
fn headless_app(data: ViewerData, still: &Still) -> (App, Handle<Image>) {
    let bg = data.0.style.background;
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(RenderPlugin {
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .disable::<bevy::winit::WinitPlugin>(),
    );
    app.insert_resource(data.clone())
        .insert_resource(still.layers)
        .add_plugins(CityPlugin);
    if let Some(caption) = &still.caption {
        // laid out for a 720-pixel-high picture, scaled with the image
        app.insert_resource(UiScale(still.size.1 as f32 / STILL_UI_HEIGHT))
            .insert_resource(caption.clone())
            .add_plugins((
                StillPanelPlugin,
                MapOverlayPlugin {
                    scale_bar_bottom: crate::overlay::PANEL_MARGIN,
                    scale_bar_left: true,
                },
            ));
    }
    if let Some(t) = still.at {
        app.insert_resource(Clock {
            t,
            playing: false,
            speed: 0.0,
            carry: 0.0,
        });
    }
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();

    let mut image = Image::new_uninit(
        Extent3d {
            width: still.size.0,
            height: still.size.1,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.texture_descriptor.usage = TextureUsages::RENDER_ATTACHMENT
        | TextureUsages::COPY_SRC
        | TextureUsages::TEXTURE_BINDING
        | TextureUsages::COPY_DST;
    let target: Handle<Image> = app.world_mut().resource_mut::<Assets<Image>>().add(image);
    app.world_mut().spawn((
        Camera3d::default(),
        Camera {
            clear_color: ClearColorConfig::Custom(Color::srgb(bg[0], bg[1], bg[2])),
            ..default()
        },
        view_projection(),
        RenderTarget::Image(target.clone().into()),
        orbit_transform(&still.pose),
        NoIndirectDrawing,
        ViewCamera,
        // the overlay is drawn onto this image (there is no window to draw it on)
        IsDefaultUiCamera,
    ));
    (app, target)
}

/// Renders one still of the model to `out` (PNG), with no window.
pub fn render_png(data: ViewerData, still: &Still, out: &Path) -> Result<()> {
    let _ = std::fs::remove_file(out);
    let (mut app, target) = headless_app(data, still);
    for _ in 0..8 {
        update_and_wait(&mut app)?;
    }
    // The observer outlives this call's borrow: it gets its own path.
    let path: std::path::PathBuf = out.into();
    app.world_mut()
        .spawn(Screenshot::image(target))
        .observe(save_to_disk(path));
    for _ in 0..600 {
        if out.exists() {
            return Ok(());
        }
        update_and_wait(&mut app)?;
    }
    bail!("the screenshot was not written after 600 frames")
}

/// Wall time of each of `n` headless frames of the still, after the first frames
/// (shader compilation, uploads) are done. A regression figure for the scene's size.
pub fn frame_times(data: ViewerData, still: &Still, n: usize) -> Result<Vec<std::time::Duration>> {
    let (mut app, _target) = headless_app(data, still);
    for _ in 0..5 {
        update_and_wait(&mut app)?;
    }
    (0..n)
        .map(|_| {
            let t = std::time::Instant::now();
            update_and_wait(&mut app)?;
            Ok(t.elapsed())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::camera::CameraProjection;

    /// Framing and the scale bar project with [`Orbit::project`]; it must agree with
    /// the projection and transform the camera is given.
    #[test]
    fn orbit_projection_is_the_cameras() {
        let o = Orbit {
            focus: [120.0, 0.0, -40.0],
            distance: 1800.0,
            yaw: (-31f32).to_radians(),
            pitch: 37f32.to_radians(),
        };
        let aspect = 16.0 / 9.0;
        let Projection::Perspective(mut p) = view_projection() else {
            panic!("the view camera is a perspective camera")
        };
        p.aspect_ratio = aspect;
        let clip_from_world = p.get_clip_from_view() * orbit_transform(&o).to_matrix().inverse();
        for pt in [
            [0.0, 0.0, 0.0],
            [900.0, 0.0, 600.0],
            [-700.0, 40.0, -500.0],
            [120.0, 0.0, -40.0],
        ] {
            let c = clip_from_world * Vec4::new(pt[0], pt[1], pt[2], 1.0);
            let ndc = [c.x / c.w, c.y / c.w];
            let mine = o.project(pt, aspect).unwrap();
            assert!(
                (ndc[0] - mine[0]).abs() < 1e-4 && (ndc[1] - mine[1]).abs() < 1e-4,
                "{pt:?}: camera {ndc:?}, orbit {mine:?}"
            );
        }
    }
}
