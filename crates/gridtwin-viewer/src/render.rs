//! Headless rendering of a [`CityScene`] to a PNG with Bevy: no window, no winit; a
//! camera renders into an image, frames are driven by hand, and the image is saved
//! once it exists. Works on a machine with no GPU through Mesa's software Vulkan
//! (lavapipe).

use std::path::Path;

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
use bevy::render::RenderPlugin;
use bevy::window::{ExitCondition, WindowPlugin};

use crate::scene::{CityScene, MeshData, Style};

/// Which layers to draw.
#[derive(Debug, Clone, Copy)]
pub struct Layers {
    pub buildings: bool,
    pub grids: bool,
    pub components: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Layers {
            buildings: true,
            grids: true,
            components: true,
        }
    }
}

fn mesh(data: &MeshData, lines: bool) -> Mesh {
    let topology = if lines {
        PrimitiveTopology::LineList
    } else {
        PrimitiveTopology::TriangleList
    };
    let mut m = Mesh::new(topology, RenderAssetUsages::default());
    m.insert_attribute(Mesh::ATTRIBUTE_POSITION, data.positions.clone());
    m.insert_attribute(Mesh::ATTRIBUTE_NORMAL, data.normals.clone());
    m.insert_attribute(Mesh::ATTRIBUTE_COLOR, data.colors.clone());
    m.insert_indices(Indices::U32(data.indices.clone()));
    m
}

fn update_and_wait(app: &mut App) {
    app.update();
    let _ = app
        .world()
        .resource::<RenderDevice>()
        .wgpu_device()
        .poll(PollType::Wait {
            submission_index: None,
            timeout: None,
        });
}

/// Renders the scene to `out` (PNG) at `size`, looking from the south-east at
/// `elevation_deg` above the horizon.
pub fn render_png(
    scene: &CityScene,
    style: &Style,
    layers: Layers,
    size: (u32, u32),
    out: &Path,
) -> Result<()> {
    let _ = std::fs::remove_file(out);
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
            }),
    );
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();

    let mut image = Image::new_uninit(
        Extent3d {
            width: size.0,
            height: size.1,
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

    let r = scene.half_extent.0.max(scene.half_extent.1).max(50.0);
    let eye = Vec3::new(r * 0.9, r * 1.3, r * 1.5);
    let bg = style.background;
    app.world_mut().spawn((
        Camera3d::default(),
        Camera {
            clear_color: ClearColorConfig::Custom(Color::srgb(bg[0], bg[1], bg[2])),
            ..default()
        },
        RenderTarget::Image(target.clone().into()),
        Transform::from_translation(eye).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    app.world_mut().spawn((
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(r, r * 2.0, r * 0.5).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    app.world_mut()
        .insert_resource(bevy::light::GlobalAmbientLight {
            brightness: 600.0,
            ..default()
        });

    let mut parts: Vec<(&MeshData, bool, bool)> = vec![(&scene.ground, false, false)];
    if layers.buildings {
        parts.push((&scene.buildings, false, false));
    }
    if layers.grids {
        parts.push((&scene.grid_lines, true, true));
        parts.push((&scene.community_lines, true, true));
    }
    if layers.components {
        parts.push((&scene.components, false, false));
    }
    for (data, lines, unlit) in parts {
        if data.is_empty() {
            continue;
        }
        let m = app
            .world_mut()
            .resource_mut::<Assets<Mesh>>()
            .add(mesh(data, lines));
        let mat = app
            .world_mut()
            .resource_mut::<Assets<StandardMaterial>>()
            .add(StandardMaterial {
                base_color: Color::WHITE,
                unlit,
                perceptual_roughness: 0.9,
                ..default()
            });
        app.world_mut()
            .spawn((Mesh3d(m), MeshMaterial3d(mat), Transform::IDENTITY));
    }

    for _ in 0..8 {
        update_and_wait(&mut app);
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
        update_and_wait(&mut app);
    }
    bail!("the screenshot was not written after 600 frames")
}
