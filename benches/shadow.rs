//! Sun and shadow throughput: sun hours of a 1000 × 1000 height model at 1 m (a district of
//! the demo city, terrain + buildings) over one day at 1-minute steps, with 1 and 2 threads;
//! and SPA evaluations per second.
//!
//! `cargo bench --bench shadow` (figures in docs/benchmarks.md). Facade rays:
//! `cargo bench --bench shadow_rays`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_shadow::spa::{self, SpaInput};
use sim_shadow::sun::{Site, sun_series};
use sim_shadow::sweep::{HeightModel, sun_seconds};
use sim_shadow::time::{TimeZone, UtcTime, local_day_bounds};
use std::hint::black_box;
use std::time::Duration;
use twin_core::raster::GridSpec;

fn sun_hours(c: &mut Criterion) {
    let city = twin_core::demo::generate(&twin_core::demo::DemoParams::default()).unwrap();
    let b = city.bbox();
    // 1000 x 1000 m of the north bank: blocks, streets, the quay.
    let (x0, y0) = (b.min[0] + 500.0, b.max[1] - 1000.0);
    let spec = GridSpec {
        origin_x: x0,
        origin_y: y0 + 1000.0,
        cell_x: 1.0,
        cell_y: 1.0,
        width: 1000,
        height: 1000,
        epsg: Some(city.epsg),
    };
    let dsm = twin_core::derive::height_model(&city, spec).unwrap();
    let hm = HeightModel::new(&dsm).unwrap();
    let site = Site::for_grid(&spec).unwrap();
    let tz = TimeZone::parse("Europe/Berlin").unwrap();
    let (a, e) = local_day_bounds(&tz, 2026, 3, 21).unwrap();
    let series = sun_series(&site, a, e, 60.0, 0.0).unwrap();
    let mut g = c.benchmark_group("sun_hours_1000x1000_1m_2026-03-21_1min");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    // Throughput in cell updates (cells x sun positions).
    g.throughput(Throughput::Elements(
        (spec.width * spec.height * series.steps.len()) as u64,
    ));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(
            format!("{threads}_threads_{}_suns", series.steps.len()),
            |bch| bch.iter(|| pool.install(|| black_box(sun_seconds(&hm, &series.steps)))),
        );
    }
    // Including the sun positions (the whole job of one day).
    g.bench_function("sun_series_only", |bch| {
        bch.iter(|| black_box(sun_series(&site, a, e, 60.0, 0.0).unwrap()))
    });
    g.finish();
}

fn spa_evaluations(c: &mut Criterion) {
    let t0 = UtcTime::parse_rfc3339("2026-03-21T00:00:00Z").unwrap();
    let n = 10_000u64;
    let mut g = c.benchmark_group("spa");
    g.throughput(Throughput::Elements(n));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("sun_position", |bch| {
        bch.iter(|| {
            let mut s = 0.0;
            for k in 0..n {
                let i = SpaInput::new(t0.add_seconds(k as f64 * 8.64), 53.55, 9.99);
                s += spa::sun_position(&i).unwrap().0;
            }
            black_box(s)
        })
    });
    g.bench_function("spa_full", |bch| {
        bch.iter(|| {
            let mut s = 0.0;
            for k in 0..n {
                let i = SpaInput::new(t0.add_seconds(k as f64 * 8.64), 53.55, 9.99);
                s += spa::spa(&i).unwrap().zenith_deg;
            }
            black_box(s)
        })
    });
    g.finish();
}

criterion_group!(benches, sun_hours, spa_evaluations);
criterion_main!(benches);
