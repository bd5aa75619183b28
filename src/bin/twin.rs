//! `twin`: the urban-twin command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Duration;
use twin_core::import::{FileKind, ImportOptions};

#[derive(Parser)]
#[command(name = "twin", version, about = "urban-twin: what-if scenarios on a 3D city model", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Say what supported files hold: kind, counts, CRS, extent, height range.
    Info {
        /// CityGML, CityJSON, GeoJSON, OSM (.osm, .osm.gz, .osm.pbf), GeoTIFF, .asc, .glb or scenario .toml files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Convert between formats: city files to .glb or .geojson; DEMs to .tif or .asc.
    Convert {
        /// Input files (merged into one city when several).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output file; its extension picks the format (.glb, .geojson, .tif, .asc).
        #[arg(long, short)]
        out: PathBuf,
        /// Target CRS (EPSG code) for geographic inputs (OSM, RFC 7946 GeoJSON).
        #[arg(long)]
        epsg: Option<u32>,
        /// Write GeoJSON in WGS84 lon/lat (RFC 7946) instead of the city CRS.
        #[arg(long)]
        wgs84: bool,
    },
    /// Generate the demo city (an Elbe island district) and write it as standard files.
    Demo {
        /// Output folder (replaced as a whole).
        #[arg(long, short)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Side length of the square district in metres.
        #[arg(long, default_value_t = 2000.0)]
        size_m: f64,
        /// DEM cell size in metres.
        #[arg(long, default_value_t = 1.0)]
        cell_m: f64,
    },
    /// Sun position (NREL SPA): for one time and place as JSON, or for every row of a CSV.
    #[command(
        after_help = "Examples:\n  twin sun --time 2026-03-21T15:00:00+01:00 --lat 53.55 --lon 9.99\n  twin sun --time '2026-03-21 15:00' --timezone Europe/Berlin --lat 53.55 --lon 9.99\n  twin sun --input times.csv --output sun.csv   (columns time,lat,lon[,elevation_m,pressure_hpa,temperature_c,delta_t_s])"
    )]
    Sun {
        /// RFC 3339 time (`2026-03-21T15:00:00+01:00`), or a local civil time in --timezone.
        #[arg(long, conflicts_with_all = ["input", "output"], requires_all = ["lat", "lon"])]
        time: Option<String>,
        /// Latitude in degrees (north positive).
        #[arg(long, allow_negative_numbers = true)]
        lat: Option<f64>,
        /// Longitude in degrees (east positive).
        #[arg(long, allow_negative_numbers = true)]
        lon: Option<f64>,
        /// Observer height above sea level (m).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        elevation_m: f64,
        /// Mean annual local pressure (hPa), for refraction.
        #[arg(long, default_value_t = 1013.25)]
        pressure_hpa: f64,
        /// Mean annual local temperature (°C), for refraction.
        #[arg(long, default_value_t = 12.0, allow_negative_numbers = true)]
        temperature_c: f64,
        /// TT − UT1 in seconds; default: an estimate for the year.
        #[arg(long, allow_negative_numbers = true)]
        delta_t_s: Option<f64>,
        /// Time zone of times without an offset: UTC, +01:00, Europe/Berlin, ...
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Surface tilt for the incidence angle (degrees from horizontal).
        #[arg(long, default_value_t = 0.0)]
        slope_deg: f64,
        /// Surface azimuth for the incidence angle (degrees clockwise from north).
        #[arg(long, default_value_t = 180.0)]
        surface_azimuth_deg: f64,
        /// CSV with columns time,lat,lon (optional elevation_m,pressure_hpa,temperature_c,delta_t_s).
        #[arg(long, requires = "output")]
        input: Option<PathBuf>,
        /// CSV to write: the input rows plus zenith_deg,azimuth_deg,elevation_deg.
        #[arg(long, requires = "input")]
        output: Option<PathBuf>,
    },
    /// Traffic tools: equilibrium assignment on TNTP networks.
    Traffic {
        #[command(subcommand)]
        command: TrafficCommand,
    },
    /// Show a scenario or a results folder in 3D, or render it into a PNG (runs the viewer
    /// `twin-view`; `twin view --help` lists its options).
    #[command(disable_help_flag = true)]
    View {
        /// SCENARIO.toml|RESULTS_DIR [--table|--situation] [--screenshot OUT.png] ...
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Run a scenario file and write a results folder with summary.json.
    Run {
        /// Scenario file (TOML); see docs/scenarios.md.
        scenario: PathBuf,
        /// Results folder; default `out/<scenario name>`. Replaced only when the run succeeds.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TrafficCommand {
    /// Static user-equilibrium assignment of a TNTP network; prints a JSON summary.
    Assign {
        /// TNTP network (`*_net.tntp`).
        #[arg(long)]
        net: PathBuf,
        /// TNTP trips (`*_trips.tntp`) or an OD CSV (`origin,destination,flow`).
        #[arg(long)]
        trips: PathBuf,
        /// `algorithm_b` (bush-based, default), `bfw` (bi-conjugate Frank-Wolfe) or `fw`.
        #[arg(long, default_value = "algorithm_b")]
        algorithm: String,
        /// Time units per toll unit in the generalized cost.
        #[arg(long, default_value_t = 0.0)]
        toll_factor: f64,
        /// Time units per length unit in the generalized cost.
        #[arg(long, default_value_t = 0.0)]
        distance_factor: f64,
        /// Stop at this relative gap (TSTT - SPTT) / TSTT.
        #[arg(long, default_value_t = 1e-10)]
        target_gap: f64,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 600.0)]
        max_seconds: f64,
        /// Stop after this many iterations.
        #[arg(long, default_value_t = 100_000)]
        max_iterations: usize,
        /// Link flows as CSV (`from,to,volume,cost`); written atomically.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn spinner() -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("static template"),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Show a run's progress: a spinner for stages, a bar for long steps.
fn show(pb: &ProgressBar, p: urban_twin::Progress<'_>) {
    match p {
        urban_twin::Progress::Stage(m) => {
            if pb.length().is_some() {
                pb.set_style(
                    ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                        .expect("static template"),
                );
                pb.unset_length();
            }
            pb.set_message(m.to_string());
        }
        urban_twin::Progress::Fraction { done, status, .. } => {
            if pb.length().is_none() {
                pb.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed}] [{bar:30}] {percent:>3}% eta {eta} {msg}",
                    )
                    .expect("static template")
                    .progress_chars("=> "),
                );
                pb.set_length(1000);
            }
            pb.set_position((done.clamp(0.0, 1.0) * 1000.0) as u64);
            pb.set_message(status.to_string());
        }
    }
}

/// `h:mm:ss` of seconds.
fn hms(t: f64) -> String {
    let s = t.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `twin view`: run the viewer binary `twin-view` (beside this executable, else on PATH)
/// with the same arguments; the viewer is a separate binary so that only it links bevy.
fn view(args: &[std::ffi::OsString]) -> Result<()> {
    let name = format!("twin-view{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(&name)))
        .filter(|p| p.is_file());
    let on_path = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(&name))
                .find(|p| p.is_file())
        })
    };
    let Some(exe) = beside.or_else(on_path) else {
        bail!(
            "the viewer `{name}` is not built: run `cargo build --release -p viewer` (it is \
             placed beside `twin`), or install it with `cargo install --path crates/viewer`"
        );
    };
    let status = std::process::Command::new(&exe)
        .args(args)
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info { files, json } => info(&files, json),
        Command::Convert {
            inputs,
            out,
            epsg,
            wgs84,
        } => convert(&inputs, &out, epsg, wgs84),
        Command::Demo {
            out,
            seed,
            size_m,
            cell_m,
        } => demo(&out, seed, size_m, cell_m),
        Command::Run { scenario, out } => run(&scenario, out),
        Command::View { args } => view(&args),
        Command::Traffic {
            command:
                TrafficCommand::Assign {
                    net,
                    trips,
                    algorithm,
                    toll_factor,
                    distance_factor,
                    target_gap,
                    max_seconds,
                    max_iterations,
                    out,
                },
        } => traffic_assign(
            &net,
            &trips,
            &algorithm,
            urban_twin::traffic::standalone::AssignOptions {
                algorithm: sim_traffic::assign::Algorithm::AlgorithmB,
                toll_factor,
                distance_factor,
                target_gap,
                max_seconds,
                max_iterations,
            },
            out,
        ),
        Command::Sun {
            time,
            lat,
            lon,
            elevation_m,
            pressure_hpa,
            temperature_c,
            delta_t_s,
            timezone,
            slope_deg,
            surface_azimuth_deg,
            input,
            output,
        } => {
            let o = urban_twin::sun::SunOptions {
                elevation_m,
                pressure_hpa,
                temperature_c,
                delta_t_s,
                slope_deg,
                surface_azimuth_deg,
            };
            sun(time, lat, lon, &timezone, &o, input, output)
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn sun(
    time: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    timezone: &str,
    o: &urban_twin::sun::SunOptions,
    input: Option<PathBuf>,
    output: Option<PathBuf>,
) -> Result<()> {
    let tz = sim_shadow::time::TimeZone::parse(timezone).context("--timezone")?;
    match (time, input, output) {
        (Some(t), None, None) => {
            let (Some(lat), Some(lon)) = (lat, lon) else {
                bail!("--time needs --lat and --lon");
            };
            let r = urban_twin::sun::report(&t, lat, lon, &tz, o)?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
        (None, Some(i), Some(out)) => {
            let pb = ProgressBar::new(0);
            pb.set_style(
                ProgressStyle::with_template("[{elapsed}] [{bar:30}] {pos}/{len} rows")
                    .expect("static template")
                    .progress_chars("=> "),
            );
            let stats = urban_twin::sun::process_csv(&i, &out, &tz, o, &mut |done, total| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            })?;
            pb.finish_and_clear();
            println!("{} rows written to {}", stats.rows, out.display());
            Ok(())
        }
        _ => bail!("give --time with --lat and --lon, or --input IN.csv with --output OUT.csv"),
    }
}

fn print_traffic(t: &urban_twin::traffic::TrafficSummary) {
    let n = &t.network;
    println!(
        "traffic: {} with {} nodes, {} links ({:.1} km), {} zones",
        n.source, n.nodes, n.links, n.length_km, n.zones
    );
    if let Some(d) = &t.demand {
        println!(
            "demand: {:.0} trips ({}); {:.0} residents, {:.0} jobs",
            d.trips, d.source, d.residents, d.jobs
        );
    }
    let line = |what: &str, a: &urban_twin::traffic::AssignInfo| {
        println!(
            "{what}: {} to relative gap {:.2e} in {} iterations ({:.3} s); {:.0} veh·h, {:.0} veh·km, mean trip {:.2} min",
            a.algorithm,
            a.relative_gap,
            a.iterations,
            a.seconds,
            a.tstt / 60.0,
            a.vehicle_km,
            a.mean_trip_min
        )
    };
    if let Some(b) = &t.baseline {
        line("without closures", b);
    }
    if let Some(a) = &t.assignment {
        line(
            if t.baseline.is_some() {
                "with closures"
            } else {
                "assignment"
            },
            a,
        );
    }
    if let Some(c) = &t.comparison {
        println!(
            "closures: total travel time {:+.0} veh·h ({:+.1} %), mean trip {:+.2} min; {} links carry more, {} less",
            c.tstt_change_veh_h,
            c.tstt_change_pct,
            c.mean_trip_change_min,
            c.links_up,
            c.links_down
        );
    }
    if let Some(f) = &t.flood_closures {
        println!(
            "flooded roads: {} links deeper than {} m ({})",
            f.links_closed, f.depth_m, f.source
        );
    }
    if let Some(e) = &t.evacuation {
        let t90 = e.t90_s.map_or("not reached".into(), hms);
        let t100 = e.t100_s.map_or("not reached".into(), hms);
        println!(
            "evacuation: {:.0} persons in {} buildings, {} cars to {} shelters and {} exits; T90 {t90}, T100 {t100}; {:.0} stranded, {:.0} still on the road; {} roads flooded",
            e.persons,
            e.buildings,
            e.vehicles,
            e.shelters,
            e.exits,
            e.stranded_persons,
            e.en_route_persons,
            e.flooded_links
        );
        if let Some(b) = e.bottlenecks.first() {
            println!(
                "worst bottleneck: {} ({:.1} h of delay, up to {} cars queued)",
                b.road, b.total_delay_h, b.max_queue_veh
            );
        }
    }
    for n in &t.notes {
        println!("note: {n}");
    }
}

fn traffic_assign(
    net: &Path,
    trips: &Path,
    algorithm: &str,
    mut o: urban_twin::traffic::standalone::AssignOptions,
    out: Option<PathBuf>,
) -> Result<()> {
    o.algorithm = match algorithm {
        "algorithm_b" | "b" => sim_traffic::assign::Algorithm::AlgorithmB,
        "bfw" => sim_traffic::assign::Algorithm::BiconjugateFrankWolfe,
        "fw" => sim_traffic::assign::Algorithm::FrankWolfe,
        other => bail!("--algorithm: unknown algorithm `{other}` (algorithm_b, bfw, fw)"),
    };
    let pb = spinner();
    let r =
        urban_twin::traffic::standalone::assign_files(net, trips, out.as_deref(), &o, &mut |p| {
            pb.set_message(format!(
                "iteration {}, relative gap {:.3e}, objective {:.6}",
                p.iteration, p.relative_gap, p.objective
            ));
        })?;
    pb.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(())
}

fn run(path: &Path, out: Option<PathBuf>) -> Result<()> {
    let scenario = twin_core::scenario::load(path)?;
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&scenario.name));
    let pb = spinner();
    let summary = urban_twin::run_scenario(&scenario, &out, &mut |p| show(&pb, p))
        .with_context(|| format!("scenario {}", path.display()))?;
    pb.finish_and_clear();
    let c = &summary.city;
    println!(
        "scenario `{}`: {} buildings ({} removed, {} added), {} road links, {} barriers",
        summary.scenario.name,
        c.buildings.count,
        summary.edits.removed.len(),
        summary.edits.added.len(),
        c.roads.links,
        c.barriers.len()
    );
    if let Some(f) = &summary.flood {
        println!(
            "flood: {} x {} cells of {} m, {} simulated in {:.1} s ({:.0}x real time, {} steps, {:.0} M cell updates/s); max depth {:.2} m, {:.0} m² flooded, {} of {} buildings wet, mass balance error {:.1e}",
            f.grid.width,
            f.grid.height,
            f.grid.cell_m,
            hms(f.duration_s),
            f.solver_wall_s,
            f.realtime_factor,
            f.steps,
            f.cell_updates_per_s / 1e6,
            f.max_depth_m,
            f.flooded_area_m2,
            f.flooded_buildings,
            f.buildings,
            f.mass_balance.relative_error
        );
        for n in &f.notes {
            println!("note: {n}");
        }
    }
    if let Some(s) = &summary.shadow {
        println!(
            "shadow: {} x {} cells of {} m at {:.4} N {:.4} E (grid north {:+.3}° from true north), {}",
            s.grid.width,
            s.grid.height,
            s.grid.cell_m,
            s.site.latitude_deg,
            s.site.longitude_deg,
            -s.site.true_north_grid_deg,
            s.timezone
        );
        for p in s.days.iter().chain(s.range.iter()) {
            let change = p
                .change
                .as_ref()
                .map(|c| {
                    format!(
                        "; vs. without the edits: mean {:+.2} h, {:.0} m² lose sun ({:.0} m² 1 h or more)",
                        c.mean_change_h, c.area_losing_m2, c.area_losing_1h_m2
                    )
                })
                .unwrap_or_default();
            println!(
                "sun hours {}: open ground {:.2} h, mean {:.2} h{change}",
                p.label, p.possible_h, p.mean_sun_h
            );
        }
        for t in &s.times {
            println!(
                "shadow at {}: sun azimuth {:.1}°, elevation {:.1}°, {:.1} % shaded",
                t.time,
                t.sun_azimuth_deg,
                t.sun_elevation_deg,
                100.0 * t.shaded_share
            );
        }
        if let Some(f) = &s.facades {
            println!(
                "facades: {} points on {} buildings, {} rays ({:.1} M rays/s)",
                f.points,
                f.buildings,
                f.rays,
                f.rays_per_s / 1e6
            );
        }
        if let Some(w) = &s.windows {
            let party = if w.party_wall_windows_dropped > 0 {
                format!(
                    " ({} on party walls left out)",
                    w.party_wall_windows_dropped
                )
            } else {
                String::new()
            };
            let newly = w
                .din_newly_failing
                .map(|n| format!(", {n} newly failing because of the edits"))
                .unwrap_or_default();
            println!(
                "windows: {} on {} buildings{party}; DIN 5034-1 ({} / {}): {} pass, {} fail{newly}; EN 17037 ({}): {}",
                w.windows,
                w.buildings,
                w.din_equinox,
                w.din_january,
                w.din_pass,
                w.din_fail,
                w.en17037_day,
                w.en_levels
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(so) = &s.solar {
            println!(
                "solar {}: {} roofs on {} buildings, {:.0} m², {:.0} MWh/year ({:.0} kWh/m²; ground {:.0} kWh/m²)",
                so.year,
                so.roofs,
                so.buildings,
                so.roof_area_m2,
                so.roof_kwh_per_year / 1000.0,
                so.mean_roof_kwh_per_m2,
                so.ground_kwh_per_m2
            );
        }
        for n in &s.notes {
            println!("note: {n}");
        }
    }
    if let Some(t) = &summary.traffic {
        print_traffic(t);
    }
    // Folders (the depth snapshots) as one entry each.
    let mut shown: Vec<String> = Vec::new();
    let mut folders: std::collections::BTreeMap<&str, usize> = Default::default();
    for o in &summary.outputs {
        match o.split_once('/') {
            Some((dir, _)) => *folders.entry(dir).or_default() += 1,
            None => shown.push(o.clone()),
        }
    }
    shown.extend(folders.iter().map(|(d, n)| format!("{d}/ ({n} files)")));
    println!("results in {}: {}", out.display(), shown.join(", "));
    Ok(())
}

fn demo(out: &Path, seed: u64, size_m: f64, cell_m: f64) -> Result<()> {
    let scenario = twin_core::scenario::Scenario {
        name: "demo".into(),
        description: format!("generated demo city, seed {seed}"),
        path: PathBuf::from("(twin demo)"),
        city: twin_core::scenario::CitySpec::Demo {
            seed,
            size_m,
            cell_m,
        },
        edits: Vec::new(),
        outputs: twin_core::scenario::Outputs {
            glb: true,
            geojson: true,
            dem: twin_core::scenario::RasterFormat::Tif,
            preview_png: true,
            derived_cell_m: None,
        },
        flood: None,
        shadow: None,
        traffic: None,
    };
    let pb = spinner();
    let summary = urban_twin::run_scenario(&scenario, out, &mut |p| show(&pb, p))?;
    pb.finish_and_clear();
    println!(
        "demo city (seed {seed}): {} buildings, {} road links, {} barriers, DEM {}",
        summary.city.buildings.count,
        summary.city.roads.links,
        summary.city.barriers.len(),
        summary
            .city
            .terrain
            .dem
            .as_ref()
            .map(|d| format!("{}x{} at {} m", d.width, d.height, d.cell_m))
            .unwrap_or_default()
    );
    println!(
        "written to {}: {}",
        out.display(),
        summary.outputs.join(", ")
    );
    Ok(())
}

fn load_inputs(inputs: &[PathBuf], epsg: Option<u32>) -> Result<twin_core::City> {
    let mut cities = Vec::new();
    let mut dem = None;
    for p in inputs {
        match twin_core::import::detect(p)? {
            FileKind::GeoTiff | FileKind::AsciiGrid => {
                if dem.replace(p.as_path()).is_some() {
                    bail!("{}: only one DEM can be given", p.display());
                }
            }
            k if k.is_city() => cities.push(p.as_path()),
            k => bail!("{}: a {} file cannot be converted", p.display(), k.as_str()),
        }
    }
    let opts = ImportOptions {
        target_epsg: epsg,
        ..Default::default()
    };
    let pb = spinner();
    pb.set_message("reading inputs");
    let city = twin_core::import::load_cities(&cities, dem, &opts)?;
    pb.finish_and_clear();
    Ok(city)
}

fn convert(inputs: &[PathBuf], out: &Path, epsg: Option<u32>, wgs84: bool) -> Result<()> {
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(
        ext.as_str(),
        "glb" | "geojson" | "json" | "tif" | "tiff" | "asc"
    ) {
        bail!(
            "{}: unknown output format; use .glb, .geojson, .tif or .asc",
            out.display()
        );
    }
    let city = load_inputs(inputs, epsg)?;
    match ext.as_str() {
        "glb" => twin_core::export::gltf::write_glb(&city, out, &Default::default())?,
        "geojson" | "json" => {
            let opts = twin_core::export::geojson::GeoJsonOptions {
                wgs84,
                ..Default::default()
            };
            twin_core::export::geojson::write_city_geojson(&city, out, &opts)?
        }
        _ => {
            let Some(dem) = &city.terrain.dem else {
                bail!(
                    "the inputs hold no DEM raster to write as {}",
                    out.display()
                );
            };
            if ext == "asc" {
                twin_core::raster::asc::write_asc(dem, out)?
            } else {
                twin_core::raster::geotiff::write_geotiff(dem, out, &Default::default())?
            }
        }
    }
    println!("wrote {}", out.display());
    Ok(())
}

fn info(files: &[PathBuf], json: bool) -> Result<()> {
    let mut all = Vec::new();
    for f in files {
        let v = info_one(f).with_context(|| format!("{}", f.display()))?;
        if json {
            all.push(v);
        } else {
            print_info(f, &v);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(())
}

fn info_one(path: &Path) -> Result<serde_json::Value> {
    let kind = twin_core::import::detect(path)?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut v = serde_json::json!({ "file": path.display().to_string(), "kind": kind.as_str(), "bytes": size });
    match kind {
        k if k.is_city() => {
            let pb = spinner();
            pb.set_message(format!("reading {}", path.display()));
            let city = twin_core::import::load_city(
                path,
                &ImportOptions {
                    keep_surfaces: true,
                    ..Default::default()
                },
            )?;
            pb.finish_and_clear();
            v["city"] = serde_json::to_value(twin_core::summary::summarize(&city))?;
        }
        FileKind::GeoTiff | FileKind::AsciiGrid => {
            let r = twin_core::raster::read_raster(path)?;
            let bb = r.spec.bbox();
            v["raster"] = serde_json::json!({
                "width": r.spec.width, "height": r.spec.height,
                "cell_x": r.spec.cell_x, "cell_y": r.spec.cell_y,
                "epsg": r.spec.epsg,
                "bbox": [bb.min[0], bb.min[1], bb.max[0], bb.max[1]],
                "nodata": r.nodata,
                "min": r.min_max().map(|m| m.0), "max": r.min_max().map(|m| m.1),
            });
        }
        FileKind::Glb => {
            let bytes = std::fs::read(path)?;
            let s = twin_core::export::gltf::glb_summary(&bytes, path)?;
            v["glb"] = serde_json::to_value(&s)?;
        }
        FileKind::Scenario => {
            let s = twin_core::scenario::load(path)?;
            v["scenario"] = serde_json::json!({
                "name": s.name, "description": s.description,
                "city": format!("{:?}", s.city), "edits": s.edits.len(),
            });
        }
        _ => {}
    }
    Ok(v)
}

fn print_info(path: &Path, v: &serde_json::Value) {
    println!(
        "{} — {} ({} bytes)",
        path.display(),
        v["kind"].as_str().unwrap_or("?"),
        v["bytes"]
    );
    if let Some(c) = v.get("city") {
        println!(
            "  CRS: EPSG:{} {} {}",
            c["epsg"],
            c["crs_name"].as_str().unwrap_or(""),
            c["vertical_datum"]
                .as_str()
                .map(|d| format!("+ {d} heights"))
                .unwrap_or_default()
        );
        println!("  extent: {}", c["bbox"]);
        let b = &c["buildings"];
        if b["count"].as_u64().unwrap_or(0) > 0 {
            println!(
                "  buildings: {} ({} parts, {} LoD2, {} triangles)",
                b["count"], b["parts"], b["lod2"], b["triangles"]
            );
            if let Some(h) = b.get("height_m").filter(|h| !h.is_null()) {
                println!(
                    "  height: {:.1} to {:.1} m (mean {:.1} m)",
                    h["min"].as_f64().unwrap_or(0.0),
                    h["max"].as_f64().unwrap_or(0.0),
                    h["mean"].as_f64().unwrap_or(0.0)
                );
            }
            if let Some(g) = b.get("ground_z").filter(|h| !h.is_null()) {
                println!(
                    "  ground: {:.2} to {:.2} m",
                    g["min"].as_f64().unwrap_or(0.0),
                    g["max"].as_f64().unwrap_or(0.0)
                );
            }
        }
        let r = &c["roads"];
        if r["links"].as_u64().unwrap_or(0) > 0 {
            println!(
                "  roads: {} ways, {} directed links, {} nodes, {} km",
                r["ways"], r["links"], r["nodes"], r["length_km"]
            );
        }
        let t = &c["terrain"];
        if !t["dem"].is_null() {
            println!(
                "  DEM: {}x{} cells at {} m",
                t["dem"]["width"], t["dem"]["height"], t["dem"]["cell_m"]
            );
        }
        if t["tin_triangles"].as_u64().unwrap_or(0) > 0 {
            println!("  TIN: {} triangles", t["tin_triangles"]);
        }
        if let Some(b) = c["barriers"].as_array().filter(|b| !b.is_empty()) {
            println!("  barriers: {}", b.len());
        }
    }
    if let Some(r) = v.get("raster") {
        println!(
            "  raster: {}x{} cells of {} x {} m, {}",
            r["width"],
            r["height"],
            r["cell_x"],
            r["cell_y"],
            r["epsg"]
                .as_u64()
                .map(|e| format!("EPSG:{e}"))
                .unwrap_or_else(|| "no CRS".into())
        );
        println!("  extent: {}", r["bbox"]);
        println!(
            "  values: {} to {}, nodata {}",
            r["min"],
            r["max"],
            if r["nodata"].is_null() {
                "none".to_string()
            } else {
                r["nodata"].to_string()
            }
        );
    }
    if let Some(g) = v.get("glb") {
        let names = g["node_names"].as_array().map(Vec::len).unwrap_or(0);
        println!(
            "  glTF: {} nodes ({} named), {} meshes, {} triangles, {}",
            g["nodes"],
            names,
            g["meshes"],
            g["triangles"],
            g["epsg"]
                .as_u64()
                .map(|e| format!("EPSG:{e}, origin {}", g["origin"]))
                .unwrap_or_else(|| "not georeferenced".into())
        );
    }
    if let Some(sc) = v.get("scenario") {
        println!(
            "  scenario `{}`: {}",
            sc["name"].as_str().unwrap_or(""),
            sc["description"].as_str().unwrap_or("")
        );
        println!("  city: {}", sc["city"].as_str().unwrap_or(""));
        println!("  edits: {}", sc["edits"]);
    }
}
