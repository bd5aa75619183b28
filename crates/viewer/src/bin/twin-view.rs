//! `twin-view`: the 3D viewer (also run as `twin view`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use viewer::view::{BuildingColors, Mode, Options, Variant};

#[derive(Parser, Debug)]
#[command(
    name = "twin view",
    version,
    about = "Show a scenario or a results folder in 3D (planner, table or situation mode), \
             or render it offscreen into a PNG."
)]
struct Args {
    /// A scenario file (results from out/<name> when present) or a results folder.
    path: PathBuf,
    /// Participation table: fullscreen, touch, simple panels, located comments.
    #[arg(long, conflicts_with = "situation")]
    table: bool,
    /// With --table: a window instead of fullscreen.
    #[arg(long, requires = "table")]
    windowed: bool,
    /// Crisis staff: forecast time, counters, gauge level.
    #[arg(long)]
    situation: bool,
    /// The results folder of a scenario (default out/<scenario name>).
    #[arg(long)]
    results: Option<PathBuf>,
    /// Render offscreen (no window or display needed) into this PNG and exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// The instant shown, RFC 3339 (e.g. 2026-03-21T15:00:00+01:00): the sun, and the
    /// flood time when the results have a flood.
    #[arg(long)]
    time: Option<String>,
    /// The camera: x,y,z,yaw_deg,pitch_deg,distance_m (focus in the city CRS; yaw is the
    /// compass bearing of the view, pitch the angle below the horizon). The planner panel
    /// shows the current one.
    #[arg(long, allow_hyphen_values = true)]
    camera: Option<String>,
    /// Window or image size, WxH.
    #[arg(long, default_value = "1280x800")]
    size: String,
    /// Layer to show (a result raster's file stem, e.g. max_depth, sun_hours_2026-03-21).
    #[arg(long)]
    layer: Option<String>,
    /// variant, base or difference.
    #[arg(long, default_value = "variant")]
    variant: String,
    /// Colour buildings by: plain, flood, daylight.
    #[arg(long, default_value = "plain")]
    buildings: String,
    /// Where table comments are saved (default <results>/comments.geojson).
    #[arg(long)]
    comments: Option<PathBuf>,
    /// Benchmark: render this many frames offscreen and print frame times as JSON.
    #[arg(long)]
    frames: Option<u32>,
    /// Screenshots without caption and legend.
    #[arg(long)]
    no_legend: bool,
    /// No real-time sun shadows.
    #[arg(long)]
    no_shadows: bool,
    /// Multisample anti-aliasing samples: 1 (off), 2, 4 or 8 (default: 4 on a GPU, off on
    /// a software renderer).
    #[arg(long, value_parser = clap::builder::TypedValueParser::map(clap::builder::PossibleValuesParser::new(["1", "2", "4", "8"]), |s| s.parse::<u32>().unwrap_or(4)))]
    msaa: Option<u32>,
    /// Time zone of clock times (UTC, +01:00, Europe/Berlin, ...).
    #[arg(long, default_value = "Europe/Berlin")]
    tz: String,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let mode = if a.table {
        Mode::Table
    } else if a.situation {
        Mode::Situation
    } else {
        Mode::Planner
    };
    let colors = match a.buildings.as_str() {
        "plain" => BuildingColors::Plain,
        "flood" => BuildingColors::Flood,
        "daylight" => BuildingColors::Daylight,
        s => anyhow::bail!("--buildings: '{s}' is not one of plain, flood, daylight"),
    };
    let opts = Options {
        path: a.path.clone(),
        results: a.results,
        mode,
        screenshot: a.screenshot,
        time: a.time,
        camera: a.camera,
        size: viewer::camera::parse_size(&a.size)?,
        layer: a.layer,
        variant: Variant::parse(&a.variant)?,
        comments: a.comments,
        frames: a.frames,
        legend: !a.no_legend,
        shadows: !a.no_shadows,
        tz: a.tz,
        colors,
        msaa: a.msaa,
        windowed: a.windowed,
    };
    viewer::app::run(opts).with_context(|| format!("viewing {}", a.path.display()))?;
    Ok(())
}
