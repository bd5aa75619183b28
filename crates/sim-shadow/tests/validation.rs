//! Validation of sim-shadow against published and analytic references (recorded in
//! docs/validation.md). `cargo test -p sim-shadow --release --test validation -- --nocapture`
//! prints the measured errors.

use sim_shadow::bvh::Bvh;
use sim_shadow::facade::{FacadeOptions, facade_sun_seconds};
use sim_shadow::sample::sample_walls;
use sim_shadow::spa::{self, SpaInput};
use sim_shadow::sun::{Site, sun_series};
use sim_shadow::sweep::{HeightModel, sun_seconds, sunlit_mask};
use sim_shadow::time::{TimeZone, UtcTime, local_day_bounds};
use twin_core::City;
use twin_core::geom::Polygon;
use twin_core::model::Building;
use twin_core::raster::{GridSpec, Raster};

const HAMBURG: (f64, f64) = (53.5503, 9.9937);

/// The SPA paper's example (Reda & Andreas 2004, table A4.1 inputs; published results).
#[test]
fn spa_reproduces_the_papers_example() {
    let t = UtcTime::parse_rfc3339("2003-10-17T12:30:30-07:00").unwrap();
    let mut i = SpaInput::new(t, 39.742476, -105.1786);
    i.elevation_m = 1830.14;
    i.pressure_hpa = 820.0;
    i.temperature_c = 11.0;
    i.delta_t_s = 67.0;
    i.delta_ut1_s = 0.0;
    i.slope_deg = 30.0;
    i.surface_azimuth_deg = 170.0; // azimuth rotation −10° from south
    i.atmos_refract_deg = 0.5667;
    let o = spa::spa(&i).unwrap();
    let (dz, da) = (o.zenith_deg - 50.11162, o.azimuth_deg - 194.34024);
    println!(
        "SPA example: zenith {:.8}° (published 50.11162°, diff {dz:.2e}°), azimuth {:.8}° (published 194.34024°, diff {da:.2e}°), incidence {:.6}°",
        o.zenith_deg, o.azimuth_deg, o.incidence_deg
    );
    // The published values have 5 decimals: agreement to their last digit.
    assert!(dz.abs() <= 5e-6 && da.abs() <= 5e-6);
    assert!((o.incidence_deg - 25.18700).abs() <= 5e-6);
    // sun_position (the fast path) gives the same numbers.
    let (z, a, _) = spa::sun_position(&i).unwrap();
    assert!((z - o.zenith_deg).abs() < 1e-9 && (a - o.azimuth_deg).abs() < 1e-9);
}

fn flat(w: usize, h: usize, cell: f64, x0: f64, y0: f64) -> Raster<f32> {
    let spec = GridSpec {
        origin_x: x0,
        origin_y: y0 + h as f64 * cell,
        cell_x: cell,
        cell_y: cell,
        width: w,
        height: h,
        epsg: Some(25832),
    };
    Raster::filled(spec, 5.0, None)
}

/// The instant the sun crosses `th` between a and b (bisection on the SPA elevation).
fn crossing(site: &Site, mut a: f64, mut b: f64, th: f64) -> f64 {
    let above = |t: f64| site.position(UtcTime(t)).unwrap().elevation_deg >= th;
    let up = above(b);
    for _ in 0..60 {
        let m = 0.5 * (a + b);
        if above(m) == up {
            b = m;
        } else {
            a = m;
        }
    }
    0.5 * (a + b)
}

/// Open flat ground: sun hours equal the time between the threshold crossings.
#[test]
fn open_ground_sun_hours_equal_the_time_between_threshold_crossings() {
    let site = Site::new(HAMBURG.0, HAMBURG.1);
    let hm = HeightModel::new(&flat(16, 12, 1.0, 565_000.0, 5_933_000.0)).unwrap();
    let tz = TimeZone::parse("Europe/Berlin").unwrap();
    let mut worst = 0.0f64;
    for (m, d) in [(3, 21), (6, 21), (12, 21), (1, 17), (10, 25)] {
        let (a, b) = local_day_bounds(&tz, 2026, m, d).unwrap();
        for th in [0.0, 6.0, 11.0] {
            let noon = 0.5 * (a.0 + b.0);
            // Solar noon is near 12:20 local in Hamburg; crossings lie either side of it.
            let rise = crossing(&site, a.0, noon, th);
            let set = crossing(&site, noon, b.0, th);
            let exact = set - rise;
            let s = sun_series(&site, a, b, 60.0, th).unwrap();
            let secs = sun_seconds(&hm, &s.steps);
            let err = (f64::from(secs[40]) - exact).abs();
            worst = worst.max(err);
            assert!(secs.iter().all(|&v| v == secs[0]), "open ground differs");
            assert!(
                err <= 2.0,
                "2026-{m:02}-{d:02} above {th}°: {} s vs {exact:.1} s",
                secs[40]
            );
        }
    }
    println!(
        "open ground sun hours vs threshold crossings: worst error {worst:.2} s (1-minute steps)"
    );
}

fn box_city(x0: f64, y0: f64, w: f64, d: f64, h: f64) -> City {
    let mut city = City::new("box", 25832);
    let mut b = Building {
        id: "BOX".into(),
        footprint: vec![Polygon::new(vec![
            [x0, y0],
            [x0 + w, y0],
            [x0 + w, y0 + d],
            [x0, y0 + d],
        ])],
        ground_z: Some(5.0),
        measured_height_m: Some(h),
        ..Default::default()
    };
    b.extrude_lod1();
    city.buildings.push(b);
    city
}

/// A free-standing box at the equinox: the north facade gets no sun above 6° (DIN 5034-1's
/// threshold), the south facade all of it.
#[test]
fn north_facade_gets_no_sun_at_the_equinox() {
    let city = box_city(565_990.0, 5_933_990.0, 20.0, 20.0, 12.0);
    let pts = sample_walls(&city, 2.0, None).unwrap();
    let bvh = Bvh::from_city(&city);
    let tz = TimeZone::parse("Europe/Berlin").unwrap();
    let (a, b) = local_day_bounds(&tz, 2026, 3, 20).unwrap();
    let mut site = Site::new(HAMBURG.0, HAMBURG.1);
    site.true_north_grid_deg = 0.0;
    let s = sun_series(&site, a, b, 60.0, 6.0).unwrap();
    let secs = facade_sun_seconds(&bvh, &pts, &s.steps, &FacadeOptions::default()).unwrap();
    let (mut north, mut south) = (Vec::new(), Vec::new());
    for (&ny, &v) in pts.ny.iter().zip(&secs) {
        if ny > 0.9 {
            north.push(v);
        } else if ny < -0.9 {
            south.push(v);
        }
    }
    assert!(!north.is_empty() && !south.is_empty());
    println!(
        "equinox (2026-03-20, sun above 6°): open ground {:.3} h, north facade max {} s, south facade min {:.3} h",
        s.possible_s as f64 / 3600.0,
        north.iter().max().unwrap(),
        f64::from(*south.iter().min().unwrap()) / 3600.0
    );
    assert!(north.iter().all(|&v| v == 0), "north facade got sun");
    assert!(
        south.iter().all(|&v| u64::from(v) == s.possible_s),
        "south facade should see all the sun above 6°"
    );
}

/// Shadow length of a box on flat ground equals h / tan(elevation) within one cell, for SPA
/// sun positions over a day (several azimuths).
#[test]
fn box_shadow_length_matches_h_over_tan_elevation() {
    let n = 600usize;
    let mut r = flat(n, n, 1.0, 565_700.0, 5_933_700.0);
    let h = 30.0f32;
    for row in 296..304 {
        for col in 296..304 {
            r.data[row * n + col] = 5.0 + h;
        }
    }
    let hm = HeightModel::new(&r).unwrap();
    let site = Site::new(HAMBURG.0, HAMBURG.1);
    let mut worst = 0.0f64;
    for hour in [8, 10, 12, 14, 16] {
        let t = UtcTime::from_civil(2026, 6, 21, hour, 0, 0.0).unwrap();
        let p = site.position(t).unwrap();
        let m = sunlit_mask(&hm, p.dir);
        let a = p.grid_azimuth_deg.to_radians();
        let (ux, uy) = (-a.sin(), -a.cos());
        // From the box centre (300, 300 in cells) walk away from the sun.
        let (cx, cy) = (300.0, 300.0);
        let inside = |x: f64, y: f64| (296.0..304.0).contains(&x) && (296.0..304.0).contains(&y);
        let mut d_edge = 0.0;
        while inside(cx + ux * d_edge, cy + uy * d_edge) {
            d_edge += 0.01;
        }
        let lit = |x: f64, y: f64| {
            let (col, row) = (x.floor() as usize, (n as f64 - y).floor() as usize);
            m[row * n + col] == 1
        };
        let mut d = d_edge + 0.5;
        while !lit(cx + ux * d, cy + uy * d) {
            d += 0.02;
        }
        let expect = f64::from(h) / p.elevation_deg.to_radians().tan();
        let err = (d - d_edge - expect).abs();
        worst = worst.max(err);
        assert!(
            err <= std::f64::consts::SQRT_2,
            "{hour}:00 UTC: {:.2} m vs {expect:.2} m",
            d - d_edge
        );
    }
    println!("box shadow length vs h/tan(e): worst error {worst:.2} m (1 m cells)");
}

/// Sun hours and facade sun hours are identical for 1, 2 and 3 threads.
#[test]
fn results_are_identical_for_any_thread_count() {
    let mut r = flat(120, 90, 1.0, 565_950.0, 5_933_950.0);
    for row in 30..50 {
        for col in 40..60 {
            r.data[row * 120 + col] = 25.0;
        }
    }
    let hm = HeightModel::new(&r).unwrap();
    let mut city = box_city(565_990.0, 5_934_000.0, 20.0, 20.0, 20.0);
    city.buildings
        .extend(box_city(566_020.0, 5_933_970.0, 15.0, 30.0, 9.0).buildings);
    city.buildings[1].id = "BOX2".into();
    let pts = sample_walls(&city, 1.0, None).unwrap();
    let bvh = Bvh::from_city(&city);
    let site = Site::new(HAMBURG.0, HAMBURG.1);
    let (a, b) = local_day_bounds(&TimeZone::Utc, 2026, 3, 21).unwrap();
    let s = sun_series(&site, a, b, 120.0, 0.0).unwrap();
    let run = |t: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| {
                (
                    sun_seconds(&hm, &s.steps),
                    facade_sun_seconds(&bvh, &pts, &s.steps, &FacadeOptions::default()).unwrap(),
                )
            })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}
