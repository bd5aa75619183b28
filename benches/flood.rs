//! Flood solver throughput: cell updates per second on a fully wet grid (the case the peers
//! were run on: flat bed, 1 m of water plus a 0.5 m Gaussian hump of σ = side / 6, Manning
//! n = 0.03, closed edges, 1 m cells), with 1 and 2 threads and each instruction set.
//!
//! `cargo bench --bench flood` (figures in docs/benchmarks.md).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_flood::{FloodSetup, Isa, Simulation};
use std::time::Duration;
use twin_core::raster::{GridSpec, Raster};

fn hump(n: usize) -> FloodSetup {
    let spec = GridSpec {
        origin_x: 0.0,
        origin_y: n as f64,
        cell_x: 1.0,
        cell_y: 1.0,
        width: n,
        height: n,
        epsg: Some(25832),
    };
    let mut s = FloodSetup::new(Raster::filled(spec, 0.0f32, None));
    let (c, sigma) = (n as f64 / 2.0, n as f64 / 6.0);
    s.initial_depth = Some(
        (0..n * n)
            .map(|k| {
                let (x, y) = ((k % n) as f64 + 0.5 - c, (k / n) as f64 + 0.5 - c);
                1.0 + 0.5 * (-(x * x + y * y) / (2.0 * sigma * sigma)).exp()
            })
            .collect(),
    );
    s.default_manning_n = 0.03;
    s.params.duration_s = 1e9;
    s.params.gauge_interval_s = 1e9;
    s
}

fn wet_grid(c: &mut Criterion) {
    let n = 2048;
    let setup = hump(n);
    let mut g = c.benchmark_group("flood");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements((n * n) as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for isa in [Isa::Base, Isa::Avx2, Isa::Avx512] {
            if !isa.supported() || (threads == 2 && isa != Isa::detect()) {
                continue;
            }
            let mut sim = pool.install(|| Simulation::new(&setup).unwrap());
            sim.set_isa(isa).unwrap();
            pool.install(|| {
                for _ in 0..3 {
                    sim.step_once().unwrap();
                }
            });
            g.bench_function(format!("step_wet_{n}x{n}_{threads}t_{isa:?}"), |b| {
                b.iter(|| pool.install(|| sim.step_once().unwrap()))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, wet_grid);
criterion_main!(benches);
