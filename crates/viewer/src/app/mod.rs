//! The bevy app: a thin layer that uploads the view models' arrays, moves the camera,
//! places the sun, animates the water and draws the panels.
//!
//! Frames: the view models use the city frame (x east, y north, z up); bevy is y-up, so a
//! point (x, y, z) becomes (x, z, −y), a rotation that keeps triangle winding.

mod capture;
mod ui;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy::app::ScheduleRunnerPlugin;
use bevy::asset::RenderAssetUsages;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::{MouseMotion, MouseWheel};
use bevy::input::touch::TouchPhase as BevyTouchPhase;
use bevy::pbr::{CascadeShadowConfigBuilder, DirectionalLightShadowMap};
use bevy::prelude::*;
use bevy::render::camera::RenderTarget;
use bevy::render::mesh::{Indices, PrimitiveTopology};
use bevy::render::render_resource::{
    Extent3d, PipelineCache, TextureDimension, TextureFormat, TextureUsages,
};
use bevy::render::{Render, RenderApp, RenderSet};
use bevy::window::{MonitorSelection, WindowMode};
use bevy::winit::WinitPlugin;

use crate::error::Result;
use crate::gestures::{TouchEvent, TouchPhase};
use crate::scene::MeshData;

use crate::view::ViewState;
pub use crate::view::{Mode, Options, Variant};

/// The view state as a bevy resource.
#[derive(Resource, Deref, DerefMut)]
pub(crate) struct St(pub ViewState);

/// Direct sun (lux) and sky light (cd/m²) with bevy's default exposure (EV100 9.7) and no
/// tone mapping: a white roof facing the sun comes out near full white, shadows stay
/// readable, and overlay colours on unlit terrain are exactly the legend's.
const SUN_LUX: f32 = 2_600.0;
const AMBIENT_DAY: f32 = 260.0;
const AMBIENT_NIGHT: f32 = 60.0;

/// City frame → bevy frame.
pub(crate) fn bv(p: [f32; 3]) -> Vec3 {
    Vec3::new(p[0], p[2], -p[1])
}

/// Run the viewer with these options: a window, or offscreen (`--screenshot`, `--frames`)
/// without a window or display. Errors in the inputs are reported before bevy starts.
pub fn run(opts: Options) -> Result<()> {
    let headless = opts.screenshot.is_some() || opts.frames.is_some();
    if !headless && cfg!(target_os = "linux") && !has_display() {
        return Err(crate::error::ViewError::arg(
            "display",
            "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); \
             use --screenshot OUT.png to render offscreen",
        ));
    }
    let state = St(ViewState::load(&opts)?);
    let mut app = App::new();
    let (w, h) = opts.size;
    let title = format!("urban-twin: {}", state.data.title);
    if headless {
        app.add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: None,
                    exit_condition: bevy::window::ExitCondition::DontExit,
                    ..default()
                })
                .disable::<WinitPlugin>()
                .set(bevy::log::LogPlugin {
                    level: bevy::log::Level::WARN,
                    ..default()
                }),
        )
        .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::ZERO));
    } else {
        let mode = if opts.mode == Mode::Table && !opts.windowed {
            WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
        } else {
            WindowMode::Windowed
        };
        app.add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: Some(Window {
                        title,
                        resolution: (w as f32, h as f32).into(),
                        mode,
                        ..default()
                    }),
                    ..default()
                })
                .set(bevy::log::LogPlugin {
                    level: bevy::log::Level::WARN,
                    ..default()
                }),
        )
        .add_plugins(bevy_egui::EguiPlugin::default())
        .add_systems(bevy_egui::EguiPrimaryContextPass, ui::panels);
    }
    let waiting = PipelinesWaiting(Arc::new(AtomicUsize::new(usize::MAX)));
    app.insert_resource(waiting.clone());
    if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
        render_app
            .insert_resource(waiting)
            .add_systems(Render, count_waiting_pipelines.in_set(RenderSet::Cleanup));
    }
    app.insert_resource(ClearColor(Color::srgb(0.74, 0.83, 0.93)))
        .insert_resource(DirectionalLightShadowMap {
            size: if headless { 2048 } else { 4096 },
        })
        .insert_resource(AmbientLight {
            color: Color::srgb(0.85, 0.9, 1.0),
            brightness: AMBIENT_DAY,
            ..default()
        })
        .insert_resource(state)
        .insert_resource(capture::Capture::new(&opts))
        .insert_resource(Opts(opts))
        .add_systems(Startup, setup)
        .add_systems(
            Update,
            (
                input_camera,
                apply_camera,
                update_sun,
                update_water,
                update_overlay,
                update_colors,
                capture::drive,
            )
                .chain(),
        );
    let exit = app.run();
    match exit {
        AppExit::Success => Ok(()),
        AppExit::Error(_) => Err(crate::error::ViewError::arg(
            "viewer",
            "the offscreen render failed (see the message above)",
        )),
    }
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// The options, for systems.
#[derive(Resource)]
pub(crate) struct Opts(pub Options);

/// Pipelines still compiling in the render world (shared with the main world, which waits
/// for zero before it captures: software renderers compile slowly).
#[derive(Resource, Clone)]
pub(crate) struct PipelinesWaiting(pub Arc<AtomicUsize>);

fn count_waiting_pipelines(cache: Res<PipelineCache>, flag: Res<PipelinesWaiting>) {
    flag.0
        .store(cache.waiting_pipelines().count(), Ordering::Relaxed);
}

/// Handles of what the systems update.
#[derive(Resource)]
pub(crate) struct Handles {
    pub camera: Entity,
    pub sun: Entity,
    pub terrain_material: Handle<StandardMaterial>,
    pub terrain_image: Handle<Image>,
    pub water_mesh: Handle<Mesh>,
    pub water_entity: Entity,
    pub roofs: Handle<Mesh>,
    pub walls: Handle<Mesh>,
    pub roads: Option<Handle<Mesh>>,
    pub target: Option<Handle<Image>>,
    pub pins: Vec<Entity>,
    pub pin_mesh: Handle<Mesh>,
}

/// A bevy mesh from the view model's arrays.
pub(crate) fn to_mesh(m: &MeshData) -> Mesh {
    let mut mesh = Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    );
    fill_mesh(&mut mesh, m);
    mesh
}

/// Replace a mesh's arrays (same attributes).
pub(crate) fn fill_mesh(mesh: &mut Mesh, m: &MeshData) {
    let pos: Vec<[f32; 3]> = m.positions.iter().map(|p| bv(*p).to_array()).collect();
    let nor: Vec<[f32; 3]> = m.normals.iter().map(|p| bv(*p).to_array()).collect();
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, pos);
    mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, nor);
    mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, m.colors.clone());
    if !m.uvs.is_empty() {
        mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, m.uvs.clone());
    }
    mesh.insert_indices(Indices::U32(m.indices.clone()));
}

fn texture(w: usize, h: usize, rgba: Vec<u8>) -> Image {
    Image::new(
        Extent3d {
            width: w as u32,
            height: h as u32,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    )
}

#[allow(clippy::too_many_arguments)]
fn setup(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut images: ResMut<Assets<Image>>,
    mut state: ResMut<St>,
    opts: Res<Opts>,
    adapter: Option<Res<bevy::render::renderer::RenderAdapterInfo>>,
) {
    let opts = &opts.0;
    let software = adapter
        .as_ref()
        .is_some_and(|a| a.device_type == wgpu_types::DeviceType::Cpu);
    let msaa = opts.msaa.unwrap_or(if software { 1 } else { 4 });
    // Terrain with its overlay texture.
    let (tw, th, rgba) = state.terrain_texture();
    let terrain_image = images.add(texture(tw, th, rgba));
    let terrain_material = materials.add(StandardMaterial {
        base_color: Color::WHITE,
        base_color_texture: (!state.terrain.uvs.is_empty()).then(|| terrain_image.clone()),
        perceptual_roughness: 0.95,
        reflectance: 0.1,
        unlit: state.overlay_unlit(),
        ..default()
    });
    if !state.terrain.is_empty() {
        commands.spawn((
            Mesh3d(meshes.add(to_mesh(&state.terrain))),
            MeshMaterial3d(terrain_material.clone()),
            bevy::pbr::NotShadowCaster,
        ));
    }
    // Buildings: roofs and walls, two batched meshes with vertex colours.
    let building_material = materials.add(StandardMaterial {
        base_color: Color::WHITE,
        perceptual_roughness: 0.8,
        reflectance: 0.2,
        double_sided: true,
        cull_mode: None,
        ..default()
    });
    let roofs = meshes.add(to_mesh(&state.buildings.roofs));
    let walls = meshes.add(to_mesh(&state.buildings.walls));
    commands.spawn((
        Mesh3d(roofs.clone()),
        MeshMaterial3d(building_material.clone()),
    ));
    commands.spawn((Mesh3d(walls.clone()), MeshMaterial3d(building_material)));
    // Roads and barriers.
    let flat = materials.add(StandardMaterial {
        base_color: Color::WHITE,
        perceptual_roughness: 0.9,
        double_sided: true,
        cull_mode: None,
        ..default()
    });
    let roads = (!state.roads.is_empty()).then(|| {
        let h = meshes.add(to_mesh(&state.roads));
        commands.spawn((
            Mesh3d(h.clone()),
            MeshMaterial3d(flat.clone()),
            bevy::pbr::NotShadowCaster,
        ));
        h
    });
    if !state.barriers.is_empty() {
        commands.spawn((
            Mesh3d(meshes.add(to_mesh(&state.barriers))),
            MeshMaterial3d(flat.clone()),
        ));
    }
    // Water surface (updated as the time changes).
    let water_material = materials.add(StandardMaterial {
        base_color: Color::srgba(1.0, 1.0, 1.0, 0.82),
        alpha_mode: AlphaMode::Blend,
        perceptual_roughness: 0.15,
        reflectance: 0.5,
        double_sided: true,
        cull_mode: None,
        ..default()
    });
    state.rebuild_water();
    let water_mesh = meshes.add(to_mesh(&state.water));
    let water_entity = commands
        .spawn((
            Mesh3d(water_mesh.clone()),
            MeshMaterial3d(water_material),
            bevy::pbr::NotShadowCaster,
        ))
        .id();
    // Sun.
    let sun = commands
        .spawn((
            DirectionalLight {
                illuminance: SUN_LUX,
                shadows_enabled: opts.shadows,
                ..default()
            },
            CascadeShadowConfigBuilder {
                num_cascades: 3,
                minimum_distance: 1.0,
                first_cascade_far_bound: 250.0,
                maximum_distance: state.view_extent_m() * 2.0,
                overlap_proportion: 0.2,
            }
            .build(),
            Transform::default(),
        ))
        .id();
    // Camera: the window, or an image target offscreen.
    let target = (opts.screenshot.is_some() || opts.frames.is_some()).then(|| {
        let (w, h) = opts.size;
        let mut img = Image::new_fill(
            Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            &[0, 0, 0, 255],
            TextureFormat::Rgba8UnormSrgb,
            RenderAssetUsages::default(),
        );
        img.texture_descriptor.usage |= TextureUsages::COPY_SRC
            | TextureUsages::RENDER_ATTACHMENT
            | TextureUsages::TEXTURE_BINDING;
        images.add(img)
    });
    let camera = commands
        .spawn((
            Camera3d::default(),
            Camera {
                target: match &target {
                    Some(t) => RenderTarget::Image(t.clone().into()),
                    None => RenderTarget::default(),
                },
                ..default()
            },
            Projection::Perspective(PerspectiveProjection {
                fov: state.fov_y_rad,
                near: 1.0,
                far: state.view_extent_m() * 6.0,
                ..default()
            }),
            Tonemapping::None,
            match msaa {
                1 => Msaa::Off,
                2 => Msaa::Sample2,
                8 => Msaa::Sample8,
                _ => Msaa::Sample4,
            },
            Transform::default(),
        ))
        .id();
    // Comment pins: visible from the overview, small next to a building close up.
    let pin_mesh = meshes.add(Cylinder::new(3.0, 30.0));
    commands.insert_resource(Handles {
        camera,
        sun,
        terrain_material,
        terrain_image,
        water_mesh,
        water_entity,
        roofs,
        walls,
        roads,
        target,
        pins: Vec::new(),
        pin_mesh,
    });
}

/// Mouse, keyboard and touch move the orbit camera; a click or tap picks.
#[allow(clippy::too_many_arguments)]
fn input_camera(
    mut state: ResMut<St>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    mut motion: EventReader<MouseMotion>,
    mut wheel: EventReader<MouseWheel>,
    mut touches: EventReader<TouchInput>,
    windows: Query<&Window>,
    time: Res<Time>,
    egui_wants: Option<Res<ui::EguiWantsInput>>,
) {
    let busy = egui_wants.is_some_and(|w| w.0);
    let Ok(win) = windows.single() else {
        motion.clear();
        wheel.clear();
        touches.clear();
        return;
    };
    let vh = win.height().max(1.0) as f64;
    let dt = time.delta_secs_f64();
    let fov = state.fov_y_rad as f64;
    // Touch: one finger orbit, two fingers pan and pinch zoom, tap to pick.
    for t in touches.read() {
        let phase = match t.phase {
            BevyTouchPhase::Started => TouchPhase::Started,
            BevyTouchPhase::Moved => TouchPhase::Moved,
            BevyTouchPhase::Ended => TouchPhase::Ended,
            BevyTouchPhase::Canceled => TouchPhase::Canceled,
        };
        state.touch.feed(TouchEvent {
            id: t.id,
            phase,
            pos: [t.position.x, t.position.y],
            time_s: time.elapsed_secs_f64(),
        });
    }
    let g = state.touch.take();
    if !busy {
        state
            .cam
            .orbit(-g.orbit_px[0] as f64 * 0.25, g.orbit_px[1] as f64 * 0.2);
        state
            .cam
            .pan_screen(g.pan_px[0] as f64, g.pan_px[1] as f64, vh, fov);
        if g.zoom_factor != 1.0 && g.zoom_factor.is_finite() {
            state.zoom(g.zoom_factor as f64);
        }
        // Taps and clicks pick in the panels' pass (egui knows whether they hit a panel).
    }
    // Mouse: left drag orbit, right or middle drag pan, wheel zoom.
    let mut d = Vec2::ZERO;
    for m in motion.read() {
        d += m.delta;
    }
    let mut scroll = 0.0f32;
    for w in wheel.read() {
        scroll += match w.unit {
            bevy::input::mouse::MouseScrollUnit::Line => w.y,
            bevy::input::mouse::MouseScrollUnit::Pixel => w.y / 40.0,
        };
    }
    if busy {
        return;
    }
    if buttons.pressed(MouseButton::Left) {
        state.cam.orbit(d.x as f64 * 0.25, -d.y as f64 * 0.2);
    }
    if buttons.pressed(MouseButton::Right) || buttons.pressed(MouseButton::Middle) {
        state.cam.pan_screen(d.x as f64, d.y as f64, vh, fov);
    }
    if scroll != 0.0 {
        state.zoom(0.85f64.powf(scroll as f64));
    }
    // Keyboard: arrows/WASD pan, Q/E turn, R/F tilt, +/- zoom, Home overview.
    let speed = state.cam.distance_m * 0.8 * dt;
    let k = |c: KeyCode| keys.pressed(c);
    let (mut fx, mut fy) = (0.0, 0.0);
    if k(KeyCode::KeyW) || k(KeyCode::ArrowUp) {
        fy += speed;
    }
    if k(KeyCode::KeyS) || k(KeyCode::ArrowDown) {
        fy -= speed;
    }
    if k(KeyCode::KeyD) || k(KeyCode::ArrowRight) {
        fx += speed;
    }
    if k(KeyCode::KeyA) || k(KeyCode::ArrowLeft) {
        fx -= speed;
    }
    if fx != 0.0 || fy != 0.0 {
        state.cam.pan_world(fx, fy);
    }
    let turn = 60.0 * dt;
    if k(KeyCode::KeyQ) {
        state.cam.orbit(-turn, 0.0);
    }
    if k(KeyCode::KeyE) {
        state.cam.orbit(turn, 0.0);
    }
    if k(KeyCode::KeyR) {
        state.cam.orbit(0.0, turn);
    }
    if k(KeyCode::KeyF) {
        state.cam.orbit(0.0, -turn);
    }
    if k(KeyCode::Equal) || k(KeyCode::NumpadAdd) {
        state.zoom(1.0 - 1.5 * dt);
    }
    if k(KeyCode::Minus) || k(KeyCode::NumpadSubtract) {
        state.zoom(1.0 + 1.5 * dt);
    }
    if keys.just_pressed(KeyCode::Home) {
        state.reset_camera();
    }
    if keys.just_pressed(KeyCode::Space) {
        state.toggle_play();
    }
}

fn apply_camera(mut state: ResMut<St>, handles: Res<Handles>, mut q: Query<&mut Transform>) {
    state.clamp_camera();
    let eye = state.cam.eye();
    let focus = state.cam.focus;
    let e = bv([eye[0] as f32, eye[1] as f32, eye[2] as f32]);
    let f = bv([focus[0] as f32, focus[1] as f32, focus[2] as f32]);
    if let Ok(mut t) = q.get_mut(handles.camera) {
        *t = Transform::from_translation(e).looking_at(f, Vec3::Y);
    }
}

fn update_sun(
    mut state: ResMut<St>,
    handles: Res<Handles>,
    time: Res<Time>,
    mut lights: Query<(&mut DirectionalLight, &mut Transform)>,
    mut ambient: ResMut<AmbientLight>,
    mut clear: ResMut<ClearColor>,
) {
    let dt = time.delta_secs_f64();
    state.tick(dt);
    let Some(sun) = state.sun_dir() else {
        return;
    };
    if let Ok((mut light, mut t)) = lights.get_mut(handles.sun) {
        let elev = sun[2].asin().to_degrees();
        let day = (elev / 6.0).clamp(0.0, 1.0) as f32;
        light.illuminance = SUN_LUX * day;
        let d = bv([sun[0] as f32, sun[1] as f32, sun[2] as f32]);
        *t = Transform::from_translation(d * 1000.0).looking_at(Vec3::ZERO, Vec3::Y);
        ambient.brightness = AMBIENT_NIGHT + (AMBIENT_DAY - AMBIENT_NIGHT) * day;
        let dusk = Color::srgb(0.16, 0.2, 0.32);
        let sky = Color::srgb(0.74, 0.83, 0.93);
        clear.0 = dusk.mix(&sky, day);
    }
}

fn update_water(
    mut state: ResMut<St>,
    handles: Res<Handles>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut vis: Query<&mut Visibility>,
) {
    if !state.water_dirty {
        return;
    }
    state.rebuild_water();
    if let Some(m) = meshes.get_mut(&handles.water_mesh) {
        fill_mesh(m, &state.water);
    }
    if let Ok(mut v) = vis.get_mut(handles.water_entity) {
        *v = if state.water.is_empty() || !state.show_water {
            Visibility::Hidden
        } else {
            Visibility::Visible
        };
    }
}

fn update_overlay(
    mut state: ResMut<St>,
    handles: Res<Handles>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if !state.overlay_dirty {
        return;
    }
    let (w, h, rgba) = state.terrain_texture();
    if let Some(img) = images.get_mut(&handles.terrain_image) {
        *img = texture(w, h, rgba);
    }
    if let Some(m) = materials.get_mut(&handles.terrain_material) {
        m.unlit = state.overlay_unlit();
    }
}

fn update_colors(
    mut commands: Commands,
    mut state: ResMut<St>,
    mut handles: ResMut<Handles>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if state.geometry_dirty {
        // The variant switch swapped the buildings.
        state.geometry_dirty = false;
        state.recolor();
        if let Some(m) = meshes.get_mut(&handles.roofs) {
            fill_mesh(m, &state.buildings.roofs);
        }
        if let Some(m) = meshes.get_mut(&handles.walls) {
            fill_mesh(m, &state.buildings.walls);
        }
    }
    if state.colors_dirty {
        state.recolor();
        if let Some(m) = meshes.get_mut(&handles.roofs) {
            m.insert_attribute(Mesh::ATTRIBUTE_COLOR, state.buildings.roofs.colors.clone());
        }
        if let Some(m) = meshes.get_mut(&handles.walls) {
            m.insert_attribute(Mesh::ATTRIBUTE_COLOR, state.buildings.walls.colors.clone());
        }
        if let Some(h) = &handles.roads
            && let Some(m) = meshes.get_mut(h)
        {
            m.insert_attribute(Mesh::ATTRIBUTE_COLOR, state.roads.colors.clone());
        }
    }
    if state.pins_dirty {
        state.pins_dirty = false;
        for e in handles.pins.drain(..) {
            commands.entity(e).despawn();
        }
        let pins = state.pins();
        for (p, srgb) in pins {
            let mat = materials.add(StandardMaterial {
                base_color: Color::srgb_u8(srgb[0], srgb[1], srgb[2]),
                unlit: true,
                ..default()
            });
            let mut c = bv(p);
            c.y += 15.0;
            let e = commands
                .spawn((
                    Mesh3d(handles.pin_mesh.clone()),
                    MeshMaterial3d(mat),
                    Transform::from_translation(c),
                ))
                .id();
            handles.pins.push(e);
        }
    }
}

/// The results folder of a scenario, as `twin run` names it.
pub fn default_results_dir(scenario_name: &str) -> PathBuf {
    PathBuf::from("out").join(scenario_name)
}
