//! Instanced drawing of component markers: one entity holds every marker of the map
//! (position, size, colour: 32 bytes each) in one GPU vertex buffer, drawn with one
//! instanced draw call. Bevy's automatic batching keeps an entity (and a 160-byte mesh
//! uniform) per marker, which at a megacity's million markers costs tens of ms of CPU
//! per frame and overflows a 128 MiB storage binding; this does not.
//!
//! Adapted from Bevy 0.19's `examples/shader_advanced/custom_shader_instancing.rs`:
//! the instance buffer is made once per marker set (not every frame), and faces are
//! shaded by a fixed light so boxes read as boxes.

use std::sync::Arc;

use bevy::camera::visibility::NoFrustumCulling;
use bevy::core_pipeline::core_3d::{Transparent3d, TransparentSortingInfo3d};
use bevy::ecs::query::QueryItem;
use bevy::ecs::system::lifetimeless::{Read, SRes};
use bevy::ecs::system::SystemParamItem;
use bevy::mesh::{MeshVertexBufferLayoutRef, VertexBufferLayout};
use bevy::pbr::{
    MeshPipeline, MeshPipelineKey, MeshPipelineSystems, RenderMeshInstances, SetMeshBindGroup,
    SetMeshViewBindGroup, SetMeshViewBindingArrayBindGroup, ViewKeyCache,
};
use bevy::prelude::*;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::mesh::allocator::MeshAllocator;
use bevy::render::mesh::{RenderMesh, RenderMeshBufferInfo};
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_phase::{
    AddRenderCommand, DrawFunctions, PhaseItem, PhaseItemExtraIndex, RenderCommand,
    RenderCommandResult, SetItemPipeline, TrackedRenderPass, ViewSortedRenderPhases,
};
use bevy::render::render_resource::*;
use bevy::render::renderer::RenderDevice;
use bevy::render::sync_component::SyncComponent;
use bevy::render::sync_world::MainEntity;
use bevy::render::view::ExtractedView;
use bevy::render::{Render, RenderApp, RenderStartup, RenderSystems};
use bevy::shader::Shader;
use bytemuck::{Pod, Zeroable};

/// One marker: centre, edge length, linear RGBA colour.
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq)]
#[repr(C)]
pub struct MarkerInstance {
    pub position: [f32; 3],
    pub size: f32,
    pub color: [f32; 4],
}

/// The markers an entity draws (shared, so extraction each frame copies a pointer).
#[derive(Component, Clone)]
pub struct Markers(pub Arc<Vec<MarkerInstance>>);

impl SyncComponent for Markers {
    type Target = Self;
}

impl ExtractComponent for Markers {
    type QueryData = &'static Markers;
    type QueryFilter = ();
    type Out = Self;

    fn extract_component(item: QueryItem<'_, '_, Self::QueryData>) -> Option<Self> {
        Some(item.clone())
    }
}

/// Spawn bundle for a marker set: a unit cube drawn once per instance.
pub fn markers_bundle(cube: Handle<Mesh>, markers: Vec<MarkerInstance>) -> impl Bundle {
    (
        Mesh3d(cube),
        Markers(Arc::new(markers)),
        Transform::IDENTITY,
        // the instances are not where the cube's own bounds say
        NoFrustumCulling,
    )
}

const SHADER: &str = r#"
#import bevy_pbr::view_transformations::position_world_to_clip

struct Vertex {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) i_pos_size: vec4<f32>,
    @location(4) i_color: vec4<f32>,
};

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vertex(v: Vertex) -> VertexOutput {
    let world = v.position * v.i_pos_size.w + v.i_pos_size.xyz;
    var out: VertexOutput;
    out.clip_position = position_world_to_clip(world);
    // a fixed sun from the south-east, plus ambient
    let light = normalize(vec3<f32>(0.5, 1.0, 0.3));
    let shade = 0.55 + 0.45 * max(dot(v.normal, light), 0.0);
    out.color = vec4<f32>(v.i_color.rgb * shade, v.i_color.a);
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    return in.color;
}
"#;

/// Draws [`Markers`] entities instanced. Cameras that see them need
/// `NoIndirectDrawing` (the draw is a direct instanced draw).
pub struct MarkerInstancingPlugin;

impl Plugin for MarkerInstancingPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(ExtractComponentPlugin::<Markers>::extract_visible());
        app.sub_app_mut(RenderApp)
            .add_render_command::<Transparent3d, DrawMarkers>()
            .init_resource::<SpecializedMeshPipelines<MarkerPipeline>>()
            .add_systems(RenderStartup, init_pipeline.after(MeshPipelineSystems))
            .add_systems(
                Render,
                (
                    queue_markers.in_set(RenderSystems::QueueMeshes),
                    prepare_buffers.in_set(RenderSystems::PrepareResources),
                ),
            );
    }

    fn finish(&self, app: &mut App) {
        // Shaders are main-world assets; the render world gets the handle.
        let shader = app
            .world_mut()
            .resource_mut::<Assets<Shader>>()
            .add(Shader::from_wgsl(SHADER, "gridtwin/markers.wgsl"));
        app.sub_app_mut(RenderApp)
            .insert_resource(MarkerShader(shader));
    }
}

#[derive(Resource)]
struct MarkerShader(Handle<Shader>);

#[allow(clippy::too_many_arguments)]
fn queue_markers(
    draw_functions: Res<DrawFunctions<Transparent3d>>,
    pipeline: Res<MarkerPipeline>,
    mut pipelines: ResMut<SpecializedMeshPipelines<MarkerPipeline>>,
    pipeline_cache: Res<PipelineCache>,
    meshes: Res<RenderAssets<RenderMesh>>,
    render_mesh_instances: Res<RenderMeshInstances>,
    marker_sets: Query<(Entity, &MainEntity), With<Markers>>,
    mut phases: ResMut<ViewSortedRenderPhases<Transparent3d>>,
    views: Query<&ExtractedView>,
    view_key_cache: Res<ViewKeyCache>,
) {
    let draw = draw_functions.read().id::<DrawMarkers>();
    for view in &views {
        let Some(phase) = phases.get_mut(&view.retained_view_entity) else {
            continue;
        };
        let Some(&view_key) = view_key_cache.get(&view.retained_view_entity) else {
            continue;
        };
        for (entity, main_entity) in &marker_sets {
            let Some(mesh_instance) = render_mesh_instances.render_mesh_queue_data(*main_entity)
            else {
                continue;
            };
            let Some(mesh) = meshes.get(mesh_instance.mesh_asset_id()) else {
                continue;
            };
            let key = view_key
                | MeshPipelineKey::from_primitive_topology_and_strip_index(
                    mesh.primitive_topology(),
                    mesh.index_format(),
                );
            let Ok(pipeline) = pipelines.specialize(&pipeline_cache, &pipeline, key, &mesh.layout)
            else {
                continue;
            };
            phase.add_retained(Transparent3d {
                sorting_info: TransparentSortingInfo3d::Sorted {
                    mesh_center: Vec3::ZERO,
                    depth_bias: 0.0,
                },
                entity: (entity, *main_entity),
                pipeline,
                draw_function: draw,
                distance: 0.0,
                batch_range: 0..1,
                extra_index: PhaseItemExtraIndex::None,
                indexed: true,
            });
        }
    }
}

#[derive(Component)]
struct InstanceBuffer {
    buffer: Buffer,
    length: usize,
    /// The marker set the buffer was made from (made again only when it changes).
    source: usize,
}

fn prepare_buffers(
    mut commands: Commands,
    query: Query<(Entity, &Markers, Option<&InstanceBuffer>)>,
    render_device: Res<RenderDevice>,
) {
    for (entity, markers, existing) in &query {
        let source = Arc::as_ptr(&markers.0) as usize;
        if existing.is_some_and(|b| b.source == source) {
            continue;
        }
        let buffer = render_device.create_buffer_with_data(&BufferInitDescriptor {
            label: Some("marker instances"),
            contents: bytemuck::cast_slice(markers.0.as_slice()),
            usage: BufferUsages::VERTEX | BufferUsages::COPY_DST,
        });
        commands.entity(entity).insert(InstanceBuffer {
            buffer,
            length: markers.0.len(),
            source,
        });
    }
}

#[derive(Resource)]
struct MarkerPipeline {
    shader: Handle<Shader>,
    mesh_pipeline: MeshPipeline,
}

fn init_pipeline(
    mut commands: Commands,
    shader: Res<MarkerShader>,
    mesh_pipeline: Res<MeshPipeline>,
) {
    commands.insert_resource(MarkerPipeline {
        shader: shader.0.clone(),
        mesh_pipeline: mesh_pipeline.clone(),
    });
}

impl SpecializedMeshPipeline for MarkerPipeline {
    type Key = MeshPipelineKey;

    fn specialize(
        &self,
        key: Self::Key,
        layout: &MeshVertexBufferLayoutRef,
    ) -> Result<RenderPipelineDescriptor, SpecializedMeshPipelineError> {
        let mut descriptor = self.mesh_pipeline.specialize(key, layout)?;
        descriptor.vertex.shader = self.shader.clone();
        descriptor.vertex.buffers.push(VertexBufferLayout {
            array_stride: size_of::<MarkerInstance>() as u64,
            step_mode: VertexStepMode::Instance,
            attributes: vec![
                VertexAttribute {
                    format: VertexFormat::Float32x4,
                    offset: 0,
                    // locations 0-2: the cube's position, normal and uv
                    shader_location: 3,
                },
                VertexAttribute {
                    format: VertexFormat::Float32x4,
                    offset: VertexFormat::Float32x4.size(),
                    shader_location: 4,
                },
            ],
        });
        if let Some(f) = descriptor.fragment.as_mut() {
            f.shader = self.shader.clone();
        }
        Ok(descriptor)
    }
}

type DrawMarkers = (
    SetItemPipeline,
    SetMeshViewBindGroup<0>,
    SetMeshViewBindingArrayBindGroup<1>,
    SetMeshBindGroup<2>,
    DrawMeshInstanced,
);

struct DrawMeshInstanced;

impl<P: PhaseItem> RenderCommand<P> for DrawMeshInstanced {
    type Param = (
        SRes<RenderAssets<RenderMesh>>,
        SRes<RenderMeshInstances>,
        SRes<MeshAllocator>,
    );
    type ViewQuery = ();
    type ItemQuery = Read<InstanceBuffer>;

    #[inline]
    fn render<'w>(
        item: &P,
        _view: (),
        instance_buffer: Option<&'w InstanceBuffer>,
        (meshes, render_mesh_instances, mesh_allocator): SystemParamItem<'w, '_, Self::Param>,
        pass: &mut TrackedRenderPass<'w>,
    ) -> RenderCommandResult {
        let mesh_allocator = mesh_allocator.into_inner();
        let Some(mesh_instance) = render_mesh_instances.render_mesh_queue_data(item.main_entity())
        else {
            return RenderCommandResult::Skip;
        };
        let Some(gpu_mesh) = meshes.into_inner().get(mesh_instance.mesh_asset_id()) else {
            return RenderCommandResult::Skip;
        };
        let Some(instance_buffer) = instance_buffer else {
            return RenderCommandResult::Skip;
        };
        let Some(vertex_slice) = mesh_allocator.mesh_vertex_slice(&mesh_instance.mesh_asset_id())
        else {
            return RenderCommandResult::Skip;
        };
        pass.set_vertex_buffer(0, vertex_slice.buffer.slice(..));
        pass.set_vertex_buffer(1, instance_buffer.buffer.slice(..));
        match &gpu_mesh.buffer_info {
            RenderMeshBufferInfo::Indexed {
                index_format,
                count,
            } => {
                let Some(index_slice) =
                    mesh_allocator.mesh_index_slice(&mesh_instance.mesh_asset_id())
                else {
                    return RenderCommandResult::Skip;
                };
                pass.set_index_buffer(index_slice.buffer.slice(..), *index_format);
                pass.draw_indexed(
                    index_slice.range.start..(index_slice.range.start + count),
                    vertex_slice.range.start as i32,
                    0..instance_buffer.length as u32,
                );
            }
            RenderMeshBufferInfo::NonIndexed => {
                pass.draw(vertex_slice.range, 0..instance_buffer.length as u32);
            }
        }
        RenderCommandResult::Success
    }
}
