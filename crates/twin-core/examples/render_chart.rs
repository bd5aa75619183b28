//! Render a sample evacuation chart with `twin_core::render::chart`: the share of 12 400
//! residents out of the flood zone over time after the warning, for a baseline plan and with
//! contraflow, with T90 and T100 markers and a 90 % reference line.
//!
//! `cargo run -p twin-core --example render_chart -- [output.png]` (default
//! `/tmp/evacuation_chart.png`).

use std::path::PathBuf;
use twin_core::render::chart::{COLOURS, LineChart, Series, duration_label};

const RESIDENTS: f64 = 12_400.0;

/// People out of the zone at time `t` (s): departures follow a Weibull distribution after a
/// delay, rounded to whole people.
fn evacuated(t: f64, delay: f64, scale: f64, shape: f64) -> f64 {
    let x = ((t - delay) / scale).max(0.0);
    (RESIDENTS * (1.0 - (-x.powf(shape)).exp())).round()
}

/// The curve in percent every 30 s to 4 h, and the first times 90 % and everyone are out.
fn curve(delay: f64, scale: f64, shape: f64) -> (Vec<(f64, f64)>, f64, f64) {
    let times = (0..=480).map(|i| i as f64 * 30.0);
    let points: Vec<(f64, f64)> = times
        .map(|t| (t, 100.0 * evacuated(t, delay, scale, shape) / RESIDENTS))
        .collect();
    let first = |share: f64| {
        points
            .iter()
            .find(|p| p.1 >= share - 1e-9)
            .map_or(f64::NAN, |p| p.0)
    };
    let (t90, t100) = (first(90.0), first(100.0));
    (points, t90, t100)
}

fn main() -> twin_core::Result<()> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/evacuation_chart.png"));
    let (base, t90, t100) = curve(420.0, 5200.0, 2.4);
    let (contraflow, c90, _) = curve(420.0, 3900.0, 2.4);
    LineChart::new("Evacuation progress")
        .subtitle(
            "Storm tide scenario 2013, 12 400 residents in the flood zone\n\
             Share out of the zone since the warning at t = 0",
        )
        .x_label("Time since warning (h:mm)")
        .y_label("Residents evacuated (%)")
        .x_time_s(true)
        .series(Series::new("Baseline plan", base, COLOURS[0]))
        .series(Series::new("With contraflow on B 73", contraflow, COLOURS[1]).dashed(true))
        .hline(90.0, "90 %")
        .marker(c90, format!("T90 contraflow = {}", duration_label(c90)))
        .marker(t90, format!("T90 = {}", duration_label(t90)))
        .marker(t100, format!("T100 = {}", duration_label(t100)))
        .y_range(0.0, 100.0)
        .write_png(&out)?;
    println!("wrote {}", out.display());
    Ok(())
}
