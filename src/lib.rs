//! # urban-twin
//!
//! The scenario runner behind the `twin` command line: it builds the city a scenario names
//! (the generated demo city or real files), applies the scenario's edits (the variant), runs
//! the analyses it lists, and writes a results directory with `summary.json`. Results are
//! assembled in a staging folder beside the target and swapped in only when complete, so a
//! failed run never leaves half a result or destroys the previous one.

pub mod edits;
pub mod flood;
pub mod outputs;
pub mod shadow;
pub mod sun;
pub mod traffic;

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use twin_core::City;
use twin_core::scenario::{CitySpec, Scenario};

/// Errors of a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Core(#[from] twin_core::Error),
    /// An edit of the scenario cannot be applied to this city.
    #[error("{scenario}: {message}")]
    Edit { scenario: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The flood section cannot be set up or run; `context` names the scenario and field.
    #[error("{context}: {source}")]
    Flood {
        context: String,
        #[source]
        source: sim_flood::FloodError,
    },
    /// The shadow section cannot be set up or run; `context` names the scenario and field.
    #[error("{context}: {source}")]
    Shadow {
        context: String,
        #[source]
        source: sim_shadow::ShadowError,
    },
    /// The traffic section cannot be set up or run; `context` names the scenario and field.
    #[error("{context}: {source}")]
    Traffic {
        context: String,
        #[source]
        source: sim_traffic::TrafficError,
    },
    /// An input file with bad content (`message` says where in it and what).
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    /// A scenario value that only the city can check (an unknown barrier or zone id).
    #[error("{scenario}: {message}")]
    Scenario { scenario: PathBuf, message: String },
}

/// What a run reports while it works.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A step begins ("building the city", "writing dem.tif").
    Stage(&'a str),
    /// Progress within a long step: `done` of 1, with a status line.
    Fraction {
        stage: &'a str,
        done: f64,
        status: &'a str,
    },
}

/// What a run reports back (and writes as `summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub engine: Engine,
    pub scenario: ScenarioInfo,
    pub city: twin_core::summary::CitySummary,
    pub edits: edits::EditReport,
    /// The flood run, when the scenario has a `[flood]` section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flood: Option<flood::FloodSummary>,
    /// The sun and shadow study, when the scenario has a `[shadow]` section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<shadow::ShadowSummary>,
    /// Traffic assignment and evacuation, when the scenario has a `[traffic]` section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<traffic::TrafficSummary>,
    /// Files written in the results directory, sorted.
    pub outputs: Vec<String>,
    /// Wall-clock seconds per step (not part of determinism checks).
    pub timing_s: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    pub name: &'static str,
    pub version: &'static str,
}

pub const ENGINE: Engine = Engine {
    name: "urban-twin",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: String,
    pub file: String,
}

/// Build the city a scenario names (an empty city for [`CitySpec::None`]: the flood
/// section's DEM is then the terrain).
pub fn build_city(spec: &CitySpec) -> Result<City, RunError> {
    match spec {
        CitySpec::Demo {
            seed,
            size_m,
            cell_m,
        } => Ok(twin_core::demo::generate(&twin_core::demo::DemoParams {
            seed: *seed,
            size_m: *size_m,
            cell_m: *cell_m,
        })?),
        CitySpec::Files {
            files,
            dem,
            epsg,
            bbox,
        } => {
            let opts = twin_core::import::ImportOptions {
                keep_surfaces: true,
                bbox: *bbox,
                target_epsg: *epsg,
            };
            let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            Ok(twin_core::import::load_cities(
                &paths,
                dem.as_deref(),
                &opts,
            )?)
        }
        CitySpec::None => Ok(City::new("dem", 0)),
    }
}

/// Run a scenario and write its results into `out_dir` (replaced atomically as a whole).
/// `progress` is told about each step.
pub fn run_scenario(
    scenario: &Scenario,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunSummary, RunError> {
    let mut timing = Vec::new();
    let t = Instant::now();
    progress(Progress::Stage("building the city"));
    let mut city = build_city(&scenario.city)?;
    timing.push(("city".to_string(), t.elapsed().as_secs_f64()));

    // The city without the edits, for comparisons.
    let base = match &scenario.shadow {
        Some(s) if s.compare && !scenario.edits.is_empty() => Some(city.clone()),
        _ => None,
    };
    let t = Instant::now();
    progress(Progress::Stage("applying edits"));
    let report = edits::apply(&mut city, &scenario.edits).map_err(|message| RunError::Edit {
        scenario: scenario.path.clone(),
        message,
    })?;
    timing.push(("edits".to_string(), t.elapsed().as_secs_f64()));

    // A DEM-only scenario: the flood DEM is the city's terrain.
    if let Some(f) = &scenario.flood
        && let Some(dem) = &f.dem
        && city.terrain.dem.is_none()
        && city.terrain.tin.is_none()
        && city.buildings.is_empty()
    {
        let r = twin_core::raster::read_raster(dem)?;
        if city.epsg == 0 {
            city.epsg = r.spec.epsg.unwrap_or(0);
        }
        city.name = dem
            .file_stem()
            .map_or_else(|| "dem".into(), |s| s.to_string_lossy().into_owned());
        city.terrain.dem = Some(r);
    }

    let mut summary = RunSummary {
        engine: ENGINE,
        scenario: ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            file: scenario.path.display().to_string(),
        },
        city: twin_core::summary::summarize(&city),
        edits: report,
        flood: None,
        shadow: None,
        traffic: None,
        outputs: Vec::new(),
        timing_s: timing,
    };
    let staging = outputs::Staging::create(out_dir)?;
    let mut files = Vec::new();
    // Road sample points whose flooding the flood run records for the traffic section.
    let mut watch = match (&scenario.traffic, &scenario.flood) {
        (Some(tr), Some(_)) => match &tr.flood {
            Some(tf) if tf.results.is_none() => {
                let (pts, link) = traffic::flood_watch_points(&city, tr, 2.0);
                Some((flood::DepthWatch::new(pts, tf.depth_m), link))
            }
            _ => None,
        },
        _ => None,
    };
    if let Some(f) = &scenario.flood {
        let t = Instant::now();
        let (fs, written) = flood::run(
            &city,
            f,
            scenario,
            staging.dir(),
            watch.as_mut().map(|w| &mut w.0),
            progress,
        )?;
        summary
            .timing_s
            .push(("flood".into(), t.elapsed().as_secs_f64()));
        summary.flood = Some(fs);
        files.extend(written);
    }
    if let Some(s) = &scenario.shadow {
        let t = Instant::now();
        let (ss, written) =
            shadow::run(&city, base.as_ref(), s, scenario, staging.dir(), progress)?;
        summary
            .timing_s
            .push(("shadow".into(), t.elapsed().as_secs_f64()));
        summary.shadow = Some(ss);
        files.extend(written);
    }
    if let Some(tr) = &scenario.traffic {
        let t = Instant::now();
        let (ts, written) = traffic::run(
            &city,
            tr,
            scenario,
            staging.dir(),
            watch.as_ref().map(|(w, l)| (w, l.as_slice())),
            progress,
        )?;
        summary
            .timing_s
            .push(("traffic".into(), t.elapsed().as_secs_f64()));
        summary.traffic = Some(ts);
        files.extend(written);
    }
    files.extend(outputs::write_city_outputs(
        &city,
        &scenario.outputs,
        staging.dir(),
        &mut summary,
        progress,
    )?);
    files.push("summary.json".to_string());
    files.sort();
    summary.outputs = files;
    staging.commit(out_dir, &summary)?;
    Ok(summary)
}
