//! View-model costs on the demo city (2 × 2 km, 2,212 LoD2 buildings, 1 m DEM): building
//! the batched meshes and the terrain once, and what changes every frame while the flood
//! plays (the water surface from a 500 × 500 depth grid) or a layer is switched (the
//! 2000 × 2000 terrain texture).
//!
//! `cargo bench -p viewer --bench view`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use twin_core::raster::Raster;
use viewer::layers::{BaseMap, LayerKind, Scale};
use viewer::scene::{self, BuildingMeshes, Frame, MeshData};

fn bench(c: &mut Criterion) {
    let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
        seed: 1,
        size_m: 2000.0,
        cell_m: 1.0,
    })
    .unwrap();
    let frame = Frame::for_city(&city);
    let dem = city.terrain.dem.as_ref().unwrap();
    let mut g = c.benchmark_group("view");
    g.sample_size(10);
    g.bench_function("buildings_2212", |b| {
        b.iter(|| black_box(BuildingMeshes::build(&city, &frame)))
    });
    g.bench_function("terrain_2000_to_384", |b| {
        b.iter(|| {
            black_box(scene::terrain_mesh(
                dem,
                &frame,
                viewer::view::TERRAIN_MAX_SIDE,
            ))
        })
    });
    // A 4 m depth grid over the city, wet where the terrain is below 4 m.
    let mut spec = dem.spec;
    spec.cell_x = 4.0;
    spec.cell_y = 4.0;
    spec.width = 500;
    spec.height = 500;
    let bed = scene::bed_for_grid(&city, &spec);
    let depth: Vec<f32> = bed.iter().map(|z| (4.0 - z).max(0.0)).collect();
    let depth = Raster::from_vec(spec, depth, None).unwrap();
    let s = Scale::water_depth(3.0);
    let mut mesh = MeshData::default();
    let mut scratch = Vec::new();
    g.bench_function("water_500x500", |b| {
        b.iter(|| {
            scene::water_mesh_into(
                &mut mesh,
                &depth,
                &bed,
                &frame,
                0.05,
                0.05,
                |d| scene::srgb_to_linear(s.color(d).unwrap_or([0, 0, 255]), 0.8),
                &mut scratch,
            );
            black_box(mesh.indices.len())
        })
    });
    let base = BaseMap::build(&city, 2048).unwrap().unwrap();
    let overlay = Scale::for_layer(LayerKind::MaxDepth, "depth", 0.0, 3.0);
    g.bench_function("texture_2000x2000_overlay", |b| {
        b.iter(|| black_box(base.compose(Some((&depth, &overlay)))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
