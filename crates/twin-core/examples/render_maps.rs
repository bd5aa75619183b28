//! Render example result maps of a synthetic valley (500 x 400 cells at 2 m) with
//! `twin_core::render`: maximum water depth, UK flood hazard classes, flood arrival time and
//! sun hours.
//!
//! `cargo run -p twin-core --example render_maps -- [output folder]` (default
//! `/tmp/render-examples`).

use std::f64::consts::TAU;
use std::path::PathBuf;
use twin_core::raster::{GridSpec, Raster};
use twin_core::render::{Classes, ColorRamp, Map, Palette, hillshade};

const W: usize = 500;
const H: usize = 400;
const CELL: f64 = 2.0;

/// Distance from the meandering valley axis and the valley floor height at a cell.
fn valley_at(col: usize, row: usize) -> (f64, f64) {
    let x = (col as f64 + 0.5) * CELL;
    let y = (row as f64 + 0.5) * CELL; // metres south of the northern edge
    let axis = 500.0 + 80.0 * (TAU * y / 600.0).sin();
    ((x - axis).abs(), 6.0 - 0.004 * y)
}

fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn main() -> twin_core::Result<()> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/render-examples"));
    std::fs::create_dir_all(&out).map_err(|e| twin_core::Error::io(&out, e))?;
    let spec = GridSpec {
        origin_x: 565_000.0,
        origin_y: 5_928_000.0,
        cell_x: CELL,
        cell_y: CELL,
        width: W,
        height: H,
        epsg: Some(25832),
    };
    let cells = |f: &dyn Fn(usize, usize) -> f32| -> Vec<f32> {
        (0..spec.len())
            .map(|i| {
                let (c, r) = spec.col_row(i);
                f(c, r)
            })
            .collect()
    };
    let dem = Raster::from_vec(
        spec,
        cells(&|c, r| {
            let (d, floor) = valley_at(c, r);
            let (x, y) = (c as f64 * CELL, r as f64 * CELL);
            let slopes = 25.0 * smoothstep((d - 80.0) / 250.0) + 0.004 * d;
            let texture = (3.0 * (x / 47.0).sin() * (y / 61.0).cos()
                + 1.2 * ((x + y) / 23.0).sin())
                * smoothstep((d - 90.0) / 120.0);
            let channel = -1.5 * (-(d / 8.0).powi(2)).exp();
            (floor + slopes + texture + channel) as f32
        }),
        None,
    )?;

    // A village on the east bank, partly in the flood plain.
    let mut mask = Raster::filled(spec, 0u8, None);
    for (i, cy) in (180..330).step_by(28).enumerate() {
        for (j, cx) in (610..780).step_by(30).enumerate() {
            let (bw, bh) = (10 + 4 * ((i + j) % 3), 8 + 3 * ((i * 2 + j) % 3));
            for row in (cy / 2)..((cy + bh) / 2) {
                for col in (cx / 2)..((cx + bw) / 2) {
                    mask.set(col, row, 1);
                }
            }
        }
    }

    // Water 1.2 m above the valley floor, none inside buildings.
    let depth_at = |c: usize, r: usize| -> f32 {
        let (_, floor) = valley_at(c, r);
        let d = floor + 1.2 - dem.get(c, r) as f64;
        if mask.get(c, r) != 0 || d <= 0.0 {
            f32::NAN
        } else {
            d as f32
        }
    };
    let depth = Raster::from_vec(spec, cells(&depth_at), None)?;
    let hazard = Raster::from_vec(
        spec,
        cells(&|c, r| {
            let d = depth_at(c, r) as f64;
            let (dist, _) = valley_at(c, r);
            let v = 0.2 + 1.0 * (-(dist / 20.0).powi(2)).exp();
            let debris = if d > 0.25 { 0.5 } else { 0.0 };
            (d * (v + 0.5) + debris) as f32
        }),
        None,
    )?;
    let arrival = Raster::from_vec(
        spec,
        cells(&|c, r| {
            let (dist, _) = valley_at(c, r);
            let minutes = ((r as f64 + 0.5) * CELL / 0.6 + dist / 0.1) / 60.0;
            if depth_at(c, r).is_nan() {
                f32::NAN
            } else {
                minutes as f32
            }
        }),
        None,
    )?;
    // Sun hours on a June day: more on slopes facing south-west, less in the valley.
    let shade = hillshade(&dem)?;
    let sun = shade.map(None, |s| 6.0 + 8.0 * s);

    let subtitle = "Synthetic valley, 1 km x 0.8 km\nSzenario: Deichbruch Süd";
    let maps = [
        (
            "max_depth.png",
            Map::new(&dem)
                .buildings(&mask)
                .overlay(
                    &depth,
                    Palette::Ramp {
                        ramp: ColorRamp::depth(),
                        min: 0.0,
                        max: 2.5,
                    },
                )
                .min_visible(0.01)
                .title("Max water depth")
                .unit("m")
                .subtitle(subtitle),
        ),
        (
            "hazard.png",
            Map::new(&dem)
                .buildings(&mask)
                .overlay(&hazard, Palette::Classes(Classes::uk_flood_hazard()))
                .min_visible(0.01)
                .title("Flood hazard rating")
                .subtitle(subtitle),
        ),
        (
            "arrival.png",
            Map::new(&dem)
                .buildings(&mask)
                .overlay(
                    &arrival,
                    Palette::Ramp {
                        ramp: ColorRamp::time(),
                        min: 0.0,
                        max: 45.0,
                    },
                )
                .title("Flood arrival time")
                .unit("min")
                .subtitle(subtitle),
        ),
        (
            "sun_hours.png",
            Map::new(&dem)
                .buildings(&mask)
                .overlay(
                    &sun,
                    Palette::Ramp {
                        ramp: ColorRamp::sun(),
                        min: 6.0,
                        max: 14.0,
                    },
                )
                .title("Sun hours, 21 June")
                .unit("h")
                .subtitle("Synthetic valley (illustration)"),
        ),
    ];
    for (name, map) in maps {
        let path = out.join(name);
        map.write_png(&path)?;
        println!("{}", path.display());
    }
    Ok(())
}
