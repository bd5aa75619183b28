//! The flood solver against analytic solutions and exact invariants. Each test asserts an
//! error bound; the measured errors are printed (`cargo test -p sim-flood --release --test
//! validation -- --nocapture`) and recorded in docs/validation.md.

use sim_flood::{
    Barrier, BuildingMode, EdgeKind, Edges, FloodSetup, Gauge, Infiltration, Isa, Losses, Params,
    Rain, Region, Simulation, WaterLevel,
};
use twin_core::geom::Polygon;
use twin_core::raster::{GridSpec, Raster};
use twin_core::timeseries::{Interpolation, TimeSeries};

fn spec(nx: usize, ny: usize, d: f64) -> GridSpec {
    GridSpec {
        origin_x: 0.0,
        origin_y: ny as f64 * d,
        cell_x: d,
        cell_y: d,
        width: nx,
        height: ny,
        epsg: Some(25832),
    }
}

fn raster(s: GridSpec, f: impl Fn(f64, f64) -> f64) -> Raster<f32> {
    let mut data = Vec::with_capacity(s.len());
    for j in 0..s.height {
        for i in 0..s.width {
            let [x, y] = s.cell_center(i, j);
            data.push(f(x, y) as f32);
        }
    }
    Raster::from_vec(s, data, None).unwrap()
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon {
    Polygon::new(vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
}

/// Smooth rough terrain 0..3 m with pits and ridges.
fn rough(x: f64, y: f64) -> f64 {
    1.5 + 0.8 * (x / 23.0).sin() * (y / 17.0).cos()
        + 0.5 * (x / 7.1 + y / 11.3).sin()
        + 0.2 * ((x * 0.37).sin() * (y * 0.41).sin())
}

fn buildings_raster(s: GridSpec, rects: &[[f64; 4]], h: f32) -> Raster<f32> {
    let mut r = Raster::filled(s, 0f32, None);
    for j in 0..s.height {
        for i in 0..s.width {
            let [x, y] = s.cell_center(i, j);
            if rects
                .iter()
                .any(|b| x > b[0] && x < b[2] && y > b[1] && y < b[3])
            {
                r.set(i, j, h);
            }
        }
    }
    r
}

fn wse(sim: &Simulation, i: usize, j: usize) -> f64 {
    sim.bed_at(i, j) + sim.depth_at(i, j)
}

#[test]
fn lake_at_rest_over_rough_terrain_buildings_and_barriers() {
    let s = spec(120, 100, 2.0);
    let level = 2.3;
    for mode in [BuildingMode::Blocked, BuildingMode::Raised] {
        let dem = raster(s, rough);
        let mut setup = FloodSetup::new(dem.clone());
        setup.manning = Some(raster(s, |x, y| 0.01 + 0.09 * ((x + y) / 440.0)));
        setup.buildings = Some(buildings_raster(
            s,
            &[[20.0, 20.0, 40.0, 44.0], [150.0, 120.0, 171.0, 160.0]],
            12.0,
        ));
        setup.building_mode = mode;
        let roofs = setup.buildings.as_ref().unwrap();
        setup.initial_depth = Some(
            dem.data
                .iter()
                .zip(&roofs.data)
                .map(|(&z, &b)| {
                    if b > 0.0 {
                        0.0
                    } else {
                        (level - z as f64).max(0.0)
                    }
                })
                .collect(),
        );
        // A dike above the water, a submerged sill, and a mobile wall that goes up mid-run.
        setup.barriers = vec![
            Barrier {
                id: "dike".into(),
                line: vec![[10.0, 190.0], [230.0, 150.0]],
                crest_z: 3.5,
                active_from_s: None,
            },
            Barrier {
                id: "sill".into(),
                line: vec![[60.0, 5.0], [80.0, 195.0]],
                crest_z: 1.8,
                active_from_s: None,
            },
            Barrier {
                id: "mobile".into(),
                line: vec![[100.0, 0.0], [140.0, 200.0]],
                crest_z: 4.0,
                active_from_s: Some(600.0),
            },
        ];
        setup.params = Params {
            duration_s: 1800.0,
            ..Params::default()
        };
        let mut sim = Simulation::new(&setup).unwrap();
        sim.run().unwrap();
        let mut max_eta_err: f64 = 0.0;
        let mut max_q: f64 = 0.0;
        let mut wet = 0;
        for j in 0..s.height {
            for i in 0..s.width {
                let d = sim.depth_at(i, j);
                if d > 0.0 {
                    wet += 1;
                    max_eta_err = max_eta_err.max((wse(&sim, i, j) - level).abs());
                }
                max_q = max_q.max(sim.qx_at(i, j).abs()).max(sim.qy_at(i, j).abs());
            }
        }
        let r = sim.results();
        println!(
            "lake at rest ({mode:?}): {wet} wet cells, {} steps, max |wse - level| = {max_eta_err:.3e} m, max |q| = {max_q:.3e} m2/s, mass error {:.3e}",
            r.stats.steps, r.mass.relative_error
        );
        assert!(wet > 3000, "{wet}");
        assert!(max_eta_err < 1e-12, "{max_eta_err}");
        assert!(max_q < 1e-12, "{max_q}");
        assert!(r.mass.relative_error < 1e-13);
    }
}

#[test]
fn closed_basin_with_rain_conserves_mass_to_round_off() {
    let s = spec(150, 120, 2.0);
    let mut setup = FloodSetup::new(raster(s, rough));
    setup.buildings = Some(buildings_raster(
        s,
        &[
            [20.0, 20.0, 40.0, 44.0],
            [150.0, 120.0, 171.0, 160.0],
            [250.0, 30.0, 290.0, 60.0],
        ],
        10.0,
    ));
    setup.rain = vec![Rain {
        region: Region::All,
        mm_h: TimeSeries::new(
            &[(0.0, 50.0), (600.0, 10.0), (1200.0, 0.0)],
            Interpolation::Step,
            "rain",
        )
        .unwrap(),
    }];
    setup.losses = vec![
        Losses {
            region: Region::Polygons(vec![rect(0.0, 0.0, 100.0, 240.0)]),
            infiltration: Infiltration::GreenAmpt {
                ks_mm_h: 10.0,
                suction_mm: 110.0,
                moisture_deficit: 0.3,
            },
            sewer_mm_h: 0.0,
        },
        Losses {
            region: Region::Polygons(vec![rect(200.0, 0.0, 300.0, 240.0)]),
            infiltration: Infiltration::Constant { mm_h: 2.0 },
            sewer_mm_h: 15.0,
        },
    ];
    setup.params.duration_s = 2400.0;
    let mut sim = Simulation::new(&setup).unwrap();
    sim.run().unwrap();
    let r = sim.results();
    let m = r.mass;
    let area = 300.0 * 240.0;
    let expected_rain = area * (50.0 * 600.0 + 10.0 * 600.0) / 3.6e6;
    println!(
        "closed basin: {} steps, rain {:.6} m3 (expected {expected_rain:.6}), infiltration {:.3}, sewer {:.3}, storage {:.3}, error {:.3e} m3, relative {:.3e}, fix-ups {}",
        r.stats.steps,
        m.rain_m3,
        m.infiltration_m3,
        m.sewer_m3,
        m.final_storage_m3,
        m.error_m3,
        m.relative_error,
        r.stats.fixups
    );
    assert!((m.rain_m3 / expected_rain - 1.0).abs() < 1e-12);
    assert!(m.infiltration_m3 > 0.0 && m.sewer_m3 > 0.0);
    assert_eq!(m.edge_out_m3, 0.0);
    assert!(m.relative_error < 1e-12, "{}", m.relative_error);
    assert!(m.clamped_m3.abs() < 1e-9 * expected_rain);
}

/// A long thin channel: `nx` cells of `d` metres, `ny` rows, closed edges.
fn channel(nx: usize, ny: usize, d: f64, bed: impl Fn(f64) -> f64) -> (GridSpec, Raster<f32>) {
    let s = spec(nx, ny, d);
    let dem = raster(s, |x, _| bed(x));
    (s, dem)
}

/// Ritter's dam break on a dry, frictionless bed.
fn ritter(x: f64, t: f64, x0: f64, h0: f64, g: f64) -> f64 {
    let c0 = (g * h0).sqrt();
    let xi = (x - x0) / t;
    if xi <= -c0 {
        h0
    } else if xi >= 2.0 * c0 {
        0.0
    } else {
        (2.0 * c0 - xi).powi(2) / (9.0 * g)
    }
}

#[test]
fn dam_break_on_dry_bed_against_ritter() {
    let (d, h0, x0, t_end): (f64, f64, f64, f64) = (1.0, 1.0, 500.0, 30.0);
    let (s, dem) = channel(1000, 4, d, |_| 0.0);
    let g = 9.81;
    for (froude, bound) in [(1e6, 0.08), (1.0, 0.08)] {
        let mut setup = FloodSetup::new(dem.clone());
        setup.default_manning_n = 0.0;
        setup.initial_depth = Some(
            (0..s.len())
                .map(|k| {
                    if ((k % s.width) as f64 + 0.5) * d < x0 {
                        h0
                    } else {
                        0.0
                    }
                })
                .collect(),
        );
        setup.params = Params {
            duration_s: t_end,
            froude_max: froude,
            dry_depth_m: 1e-4,
            ..Params::default()
        };
        let mut sim = Simulation::new(&setup).unwrap();
        sim.run().unwrap();
        let (mut l1, mut norm, mut max_err): (f64, f64, f64) = (0.0, 0.0, 0.0);
        let mut front = 0.0;
        for i in 0..s.width {
            let x = (i as f64 + 0.5) * d;
            let h = sim.depth_at(i, 1);
            let e = ritter(x, t_end, x0, h0, g);
            l1 += (h - e).abs();
            norm += e;
            max_err = max_err.max((h - e).abs());
            if h > 1e-3 {
                front = x;
            }
        }
        let rel = l1 / norm;
        let front_exact = x0 + 2.0 * (g * h0).sqrt() * t_end;
        println!(
            "Ritter dam break, Froude limit {froude}: L1 relative {rel:.4}, max |h - h_exact| {max_err:.3} m, front at {front:.1} m (exact {front_exact:.1} m, 1 mm threshold)"
        );
        assert!(rel < bound, "L1 {rel}");
        assert!(sim.results().mass.relative_error < 1e-13);
    }
}

/// Planar surface oscillating in a parabolic bowl (Thacker 1981), 1D:
/// bed `z = h0 (x²/a² − 1)`, velocity `U sin ωt` uniform in space, water surface
/// `η = U²/(2g) sin²ωt − (U ω / g) cos(ωt) x`, `ω = sqrt(2 g h0) / a`.
#[test]
fn planar_oscillation_in_parabolic_bowl_against_thacker() {
    let (a, h0, u0, g): (f64, f64, f64, f64) = (500.0, 1.0, 0.1, 9.81);
    let w = (2.0 * g * h0).sqrt() / a;
    let period = std::f64::consts::TAU / w;
    let d = 2.0;
    let nx = 600;
    let xc = nx as f64 * d / 2.0;
    let bed = |x: f64| h0 * ((x - xc).powi(2) / (a * a) - 1.0);
    let eta = |x: f64, t: f64| {
        u0 * u0 / (2.0 * g) * (w * t).sin().powi(2) - u0 * w / g * (w * t).cos() * (x - xc)
    };
    let (s, dem) = channel(nx, 3, d, bed);
    let mut setup = FloodSetup::new(dem);
    setup.default_manning_n = 0.0;
    setup.initial_depth = Some(
        (0..s.len())
            .map(|k| {
                let x = ((k % nx) as f64 + 0.5) * d;
                (eta(x, 0.0) - bed(x)).max(0.0)
            })
            .collect(),
    );
    setup.params = Params {
        duration_s: 2.0 * period,
        theta: 1.0,
        dry_depth_m: 1e-4,
        ..Params::default()
    };
    let mut sim = Simulation::new(&setup).unwrap();
    let mut worst: f64 = 0.0;
    for q in 1..=8 {
        let t = q as f64 * period / 4.0;
        sim.advance_to(t).unwrap();
        let (mut l1, mut norm) = (0.0, 0.0);
        for i in 0..nx {
            let x = (i as f64 + 0.5) * d;
            let exact = (eta(x, t) - bed(x)).max(0.0);
            l1 += (sim.depth_at(i, 1) - exact).abs();
            norm += exact;
        }
        let rel = l1 / norm;
        // Velocity in the middle of the bowl (the face at the centre).
        let qc = sim.qx_at(nx / 2, 1);
        let uc = qc / (0.5 * (sim.depth_at(nx / 2 - 1, 1) + sim.depth_at(nx / 2, 1)));
        println!(
            "Thacker planar, t = {q}/4 T: depth L1 relative {rel:.4}, centre velocity {uc:.4} m/s (exact {:.4})",
            u0 * (w * t).sin()
        );
        worst = worst.max(rel);
    }
    assert!(worst < 0.006, "{worst}");
    assert!(sim.results().mass.relative_error < 1e-13);
}

/// Deep, nearly frictionless water with a checkerboard of depths: the scheme's least stable
/// mode. At the default time step it must not grow, for any θ (the q-centred averaging
/// lowers the stability limit to `σx² + σy² ≤ θ`; a step of `0.7 Δx / c` with θ = 0.7 let
/// this mode grow by 12 % per step and piled water up in a polder of the demo city).
#[test]
fn deep_water_checkerboard_does_not_grow_at_the_default_time_step() {
    let (n, d, depth, amp) = (48, 2.0, 6.6, 0.01);
    let s = spec(n, n, d);
    for theta in [0.5, 0.7, 0.85, 0.95, 1.0] {
        let mut setup = FloodSetup::new(raster(s, |_, _| 0.0));
        setup.default_manning_n = 0.001;
        setup.initial_depth = Some(
            (0..s.len())
                .map(|k| depth + if (k % n + k / n) % 2 == 0 { amp } else { -amp })
                .collect(),
        );
        setup.params = Params {
            duration_s: 60.0,
            theta,
            ..Params::default()
        };
        let mut sim = Simulation::new(&setup).unwrap();
        let mut steps = 0;
        // Largest deviation in the first 20 steps, and after 20 s.
        let (mut early, mut worst): (f64, f64) = (0.0, 0.0);
        while sim.time() < 60.0 {
            sim.step_once().unwrap();
            steps += 1;
            for j in 0..n {
                for i in 0..n {
                    let dev = (sim.depth_at(i, j) - depth).abs();
                    if steps <= 20 {
                        early = early.max(dev);
                    } else if sim.time() > 20.0 {
                        worst = worst.max(dev);
                    }
                }
            }
        }
        let mut last: f64 = 0.0;
        for j in 0..n {
            for i in 0..n {
                last = last.max((sim.depth_at(i, j) - depth).abs());
            }
        }
        println!(
            "checkerboard, theta {theta}: {steps} steps, largest deviation {:.3} x initial in the first 20 steps, {:.3} after 20 s, {:.3e} at the end",
            early / amp,
            worst / amp,
            last / amp
        );
        // The first step overshoots (the depths swap sign, by |1 − 8σ²| up to 2), then the
        // mode is damped for θ < 1. θ = 1 (Bates et al. 2010) is only neutral in
        // linear theory: with varying steps and the flow depth taken from the higher level
        // it grows slowly in deep frictionless water (printed, not asserted).
        if theta < 1.0 {
            assert!(worst <= 1.001 * early, "theta {theta}: grew to {worst}");
            assert!(last < 0.05 * amp, "theta {theta}: not damped, {last}");
        }
    }
}

#[test]
fn steady_rain_on_a_plane_drains_rain_times_area() {
    // 200 m long plane, 1 % slope falling west to an open edge, 20 m wide.
    let (nx, ny, d) = (100, 10, 2.0);
    let s = spec(nx, ny, d);
    let dem = raster(s, |x, _| 0.01 * x);
    let mut setup = FloodSetup::new(dem);
    setup.default_manning_n = 0.03;
    let rate = 50.0;
    setup.rain = vec![Rain {
        region: Region::All,
        mm_h: TimeSeries::constant(rate),
    }];
    setup.edges = Edges {
        west: EdgeKind::Open,
        ..Edges::all(EdgeKind::Closed)
    };
    setup.params.duration_s = 7200.0;
    let mut sim = Simulation::new(&setup).unwrap();
    sim.advance_to(6600.0).unwrap();
    let before = sim.results().mass;
    sim.run().unwrap();
    let after = sim.results().mass;
    let outflow = (after.edge_out_m3 - before.edge_out_m3) / 600.0;
    let rain = rate / 3.6e6 * (nx as f64 * d) * (ny as f64 * d);
    let err = (outflow / rain - 1.0).abs();
    println!(
        "rain on a plane: outflow {outflow:.6} m3/s, rain x area {rain:.6} m3/s, relative difference {err:.2e}, mass error {:.2e}",
        after.relative_error
    );
    assert!(err < 1e-3, "{err}");
    assert!(after.relative_error < 1e-12);
}

#[test]
fn weir_overtopping_matches_the_broad_crested_weir_formula() {
    // A 400 m channel, 10 cells wide; reservoir held at 1.5 m at the west end, a barrier
    // with crest 1.0 m across the middle, and an open east edge below.
    let (nx, ny, d) = (200, 10, 2.0);
    let s = spec(nx, ny, d);
    let dem = raster(s, |x, _| {
        if x < 200.0 {
            0.0
        } else {
            -2.0 - 0.005 * (x - 200.0)
        }
    });
    let mut setup = FloodSetup::new(dem);
    setup.default_manning_n = 0.02;
    let (level, crest) = (1.5, 1.0);
    setup.water_levels = vec![WaterLevel {
        id: "reservoir".into(),
        region: Region::Polygons(vec![rect(0.0, 0.0, 20.0, 20.0)]),
        z_m: TimeSeries::constant(level),
        extend_to_barriers: false,
    }];
    setup.barriers = vec![Barrier {
        id: "weir".into(),
        line: vec![[199.0, -1.0], [199.0, 21.0]],
        crest_z: crest,
        active_from_s: None,
    }];
    setup.edges = Edges {
        east: EdgeKind::Open,
        ..Edges::all(EdgeKind::Closed)
    };
    setup.gauges = vec![Gauge {
        id: "upstream".into(),
        at: [150.0, 10.0],
    }];
    setup.params.duration_s = 3600.0;
    let mut sim = Simulation::new(&setup).unwrap();
    sim.advance_to(3000.0).unwrap();
    let before = sim.results().mass;
    sim.run().unwrap();
    let after = sim.results().mass;
    let q = (after.boundary_in_m3 - before.boundary_in_m3) / 600.0 / 20.0;
    // Head over the crest just upstream of it.
    let head = wse(&sim, 98, 5) - crest;
    let formula = (2.0 / 3.0) * (2.0 * 9.81f64 / 3.0).sqrt() * head.powf(1.5);
    let err = (q / formula - 1.0).abs();
    let q_out = (after.edge_out_m3 - before.edge_out_m3) / 600.0 / 20.0;
    println!(
        "weir: head {head:.4} m, discharge {q:.5} m2/s (in) {q_out:.5} m2/s (out), broad-crested formula {formula:.5} m2/s, relative difference {err:.2e}"
    );
    assert!(err < 5e-3, "{err}");
    assert!((q_out / q - 1.0).abs() < 5e-3);
}

/// The demo-like case used for determinism checks: rain, a breach, an inflow, boundaries.
fn busy_setup() -> FloodSetup {
    let s = spec(200, 150, 2.0);
    let mut setup = FloodSetup::new(raster(s, |x, y| rough(x, y) + 0.004 * y));
    setup.buildings = Some(buildings_raster(
        s,
        &[[20.0, 20.0, 40.0, 44.0], [150.0, 120.0, 171.0, 160.0]],
        10.0,
    ));
    setup.rain = vec![Rain {
        region: Region::Polygons(vec![rect(0.0, 0.0, 250.0, 300.0)]),
        mm_h: TimeSeries::new(&[(0.0, 80.0), (300.0, 0.0)], Interpolation::Step, "r").unwrap(),
    }];
    setup.water_levels = vec![WaterLevel {
        id: "river".into(),
        region: Region::Polyline(vec![[0.0, 290.0], [400.0, 290.0]]),
        z_m: TimeSeries::new(&[(0.0, 1.0), (600.0, 4.5)], Interpolation::Linear, "l").unwrap(),
        extend_to_barriers: true,
    }];
    setup.barriers = vec![Barrier {
        id: "dike".into(),
        line: vec![[0.0, 260.0], [400.0, 262.0]],
        crest_z: 4.6,
        active_from_s: None,
    }];
    setup.breaches = vec![sim_flood::Breach {
        barrier: "dike".into(),
        at: [200.0, 261.0],
        width_m: 20.0,
        bottom_z: 1.0,
        start_s: 200.0,
        duration_s: 100.0,
        cross_m: 6.0,
    }];
    setup.inflows = vec![sim_flood::Inflow {
        id: "pump".into(),
        region: Region::Circle {
            center: [300.0, 100.0],
            radius_m: 5.0,
        },
        m3_s: TimeSeries::constant(2.0),
    }];
    setup.edges = Edges {
        south: EdgeKind::Open,
        ..Edges::all(EdgeKind::Closed)
    };
    setup.params.duration_s = 900.0;
    setup
}

fn fingerprint(sim: &Simulation) -> Vec<u64> {
    let r = sim.results();
    let mut v: Vec<u64> = r
        .max_depth
        .data
        .iter()
        .map(|x| x.to_bits() as u64)
        .collect();
    v.extend(r.arrival_time.data.iter().map(|x| x.to_bits() as u64));
    v.extend(r.max_speed.data.iter().map(|x| x.to_bits() as u64));
    v.extend(sim.depth().data.iter().map(|x| x.to_bits() as u64));
    v.push(r.mass.final_storage_m3.to_bits());
    v.push(r.mass.edge_out_m3.to_bits());
    v.push(r.stats.steps);
    v
}

#[test]
fn results_are_identical_for_one_and_two_threads() {
    let setup = busy_setup();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut sim = Simulation::new(&setup).unwrap();
            sim.run().unwrap();
            let r = sim.results();
            assert!(r.mass.relative_error < 1e-12, "{}", r.mass.relative_error);
            assert!(r.mass.boundary_in_m3 > 0.0 && r.mass.inflow_m3 > 0.0);
            fingerprint(&sim)
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn results_are_identical_for_every_instruction_set() {
    let setup = busy_setup();
    let mut prints = Vec::new();
    for isa in [Isa::Base, Isa::Avx2, Isa::Avx512] {
        if !isa.supported() {
            continue;
        }
        let mut sim = Simulation::new(&setup).unwrap();
        sim.set_isa(isa).unwrap();
        sim.run().unwrap();
        prints.push((isa, fingerprint(&sim)));
    }
    for (isa, p) in &prints[1..] {
        assert!(*p == prints[0].1, "{isa:?} differs from {:?}", prints[0].0);
    }
}
