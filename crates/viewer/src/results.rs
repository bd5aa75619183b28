//! A results folder written by `twin run`, indexed for the viewer.
//!
//! [`Results::load`] looks at what is present and reads the small tables (CSV, GeoJSON,
//! JSON) into plain structs; rasters (GeoTIFF) are only located, the viewer loads them when it
//! shows them. A missing optional file is not an error (its field is `None` or empty); a
//! present but malformed file is, and the error names the file and the line (or, for JSON, the
//! member).
//!
//! # One clock
//!
//! Every time in these structs is in seconds on the **flood clock**: `t_s` of the flood
//! snapshots, 0 at the flood's `start_time` ([`FloodResults::origin`]). The engine writes
//! some files on other clocks, converted here:
//!
//! - `evacuation_curve.csv` (`t_s`) and `evacuation_links.*` (`closed_at_s`) count from the
//!   evacuation order; the order is at [`Evacuation::start_s`] on the flood clock (the
//!   scenario's `[traffic.evacuation] start_s`, which `summary.json` does not record: see
//!   [`EvacuationStart`] for where it is found), and that is added. A road already flooded at
//!   the order is written with `closed_at_s = 0` there; its true flood time is in
//!   `road_closures.csv`.
//! - `road_closures.csv` (`closed_at_s`) is on the flood clock already.
//! - `t90_s`/`t100_s` of the summary are durations after the order, kept as such.
//!
//! # Geometry
//!
//! Link geometry is in the city CRS (`summary.json` → `city.epsg`). The engine's GeoJSON
//! layers carry the legacy `crs` member naming it; a layer in WGS84 (or another supported
//! CRS) is transformed to the city CRS with [`twin_core::crs`]. A layer without `crs` is
//! taken to be in the city CRS (the engine omits the member only for cities without an EPSG
//! code).

use crate::error::{Result, ViewError};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Everything found in one results folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// The folder.
    pub dir: PathBuf,
    /// `summary.json`, as written.
    pub summary: Option<Value>,
    /// The scenario file as recorded in `summary.json` → `scenario.file` (relative to the
    /// folder `twin run` ran in, usually the workspace).
    pub scenario_file: Option<PathBuf>,
    /// EPSG code of the city CRS (`summary.json` → `city.epsg`; 0 there means none).
    pub epsg: Option<u32>,
    /// Flood results (`[flood]`).
    pub flood: Option<FloodResults>,
    /// Sun, shadow, daylight and solar results (`[shadow]`).
    pub shadow: Option<ShadowResults>,
    /// Traffic assignment, flood road closures and evacuation (`[traffic]`).
    pub traffic: Option<TrafficResults>,
}

/// The flood: depth snapshots, peak rasters, gauges and buildings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloodResults {
    /// Depth snapshots sorted by time.
    pub snapshots: Vec<Snapshot>,
    /// RFC 3339 time of `t_s = 0` (the scenario's `flood.start_time`), when given.
    pub origin: Option<String>,
    /// Simulated duration (s): `summary.json` → `flood.duration_s`, else the last snapshot
    /// or gauge sample.
    pub duration_s: Option<f64>,
    /// `max_depth.tif` (m).
    pub max_depth: Option<PathBuf>,
    /// `max_wse.tif` (water surface elevation, m in the vertical datum).
    pub max_wse: Option<PathBuf>,
    /// `hazard_class.tif` (0 none … 4 extreme).
    pub hazard_class: Option<PathBuf>,
    /// `arrival_time.tif` (s on the flood clock).
    pub arrival_time: Option<PathBuf>,
    /// Gauge time series (`gauges.csv`), sorted by gauge name, each sorted by time.
    pub gauges: Vec<GaugeSeries>,
    /// Per building id (`flood_buildings.csv`).
    pub buildings: BTreeMap<String, FloodBuilding>,
}

/// One depth snapshot raster.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Time on the flood clock (s).
    pub t_s: f64,
    /// RFC 3339 time, when the flood has a `start_time`.
    pub time: Option<String>,
    /// The GeoTIFF (depth in m).
    pub path: PathBuf,
}

/// The samples of one gauge.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GaugeSeries {
    /// Gauge id (the city point's id).
    pub name: String,
    /// Sample times on the flood clock (s), ascending.
    pub t_s: Vec<f64>,
    /// Water depth (m).
    pub depth_m: Vec<f64>,
    /// Water surface elevation (m in the vertical datum).
    pub wse_m: Vec<f64>,
}

/// The flood at one building (the cells next to or under it).
#[derive(Debug, Clone, PartialEq)]
pub struct FloodBuilding {
    /// Deepest water (m).
    pub max_depth_m: f64,
    /// When the water first got deeper than the arrival depth (s on the flood clock).
    pub first_flooded_s: Option<f64>,
    /// Highest hazard class (`none`, `low`, `moderate`, `significant`, `extreme`).
    pub hazard_class: String,
}

/// Sun hours, shadows, daylight and solar potential.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShadowResults {
    /// Sun-hour maps per day (and per date range), sorted by label.
    pub days: Vec<SunDay>,
    /// Shadow maps at given times, sorted by label.
    pub shadows: Vec<ShadowMap>,
    /// `solar_kwh.tif` (kWh/m² per year).
    pub solar_kwh: Option<PathBuf>,
    /// `sky_view_factor.tif`.
    pub sky_view_factor: Option<PathBuf>,
    /// Daylight per building (`daylight_buildings.csv`).
    pub daylight: BTreeMap<String, DaylightBuilding>,
    /// Solar potential per building (`solar_buildings.csv`).
    pub solar: BTreeMap<String, SolarBuilding>,
    /// Window sun hours per building (`windows.csv`).
    pub window_hours: BTreeMap<String, WindowHours>,
    /// The DIN 5034-1 equinox day (`summary.json` → `shadow.windows.din_equinox`).
    pub din_equinox: Option<String>,
    /// The DIN 5034-1 winter day (`summary.json` → `shadow.windows.din_january`).
    pub din_january: Option<String>,
}

/// The sun-hour maps of one day (`sun_hours_<day>.tif`) or range
/// (`sun_hours_<start>_<end>.tif`).
#[derive(Debug, Clone, PartialEq)]
pub struct SunDay {
    /// `2026-03-21` or `2026-03-01_2026-03-31`.
    pub label: String,
    /// The variant (the scenario with its edits).
    pub variant: PathBuf,
    /// The city before the edits (`sun_hours_base_<label>.tif`), when compared.
    pub base: Option<PathBuf>,
    /// Variant minus base (`sun_hours_delta_<label>.tif`), when compared.
    pub delta: Option<PathBuf>,
}

/// A shadow map at one time (`shadow_<stamp>.tif`).
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowMap {
    /// Local time stamp of the file name, e.g. `2026-01-17T1200`.
    pub label: String,
    /// RFC 3339 time from `summary.json`, when recorded.
    pub time: Option<String>,
    /// The variant.
    pub variant: PathBuf,
    /// The city before the edits (`shadow_base_<stamp>.tif`), when compared.
    pub base: Option<PathBuf>,
}

/// Daylight of one building's windows (`daylight_buildings.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct DaylightBuilding {
    /// Windows assessed.
    pub windows: usize,
    /// Windows meeting DIN 5034-1.
    pub din_pass: usize,
    /// Windows failing DIN 5034-1.
    pub din_fail: usize,
    /// `pass`, `partial` or `fail`.
    pub din_status: String,
    /// Lowest EN 17037 sunlight level among the windows (`none`, `minimum`, `medium`, `high`).
    pub en_lowest: String,
}

/// Solar potential of one building's roofs (`solar_buildings.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct SolarBuilding {
    /// Roof area (m²).
    pub roof_area_m2: f64,
    /// Irradiation on the roofs per year (kWh).
    pub kwh_per_year: f64,
    /// Per m² of roof (kWh/m² per year).
    pub kwh_per_m2_year: f64,
}

/// Sun hours at one building's windows (aggregated from `windows.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowHours {
    /// Windows.
    pub windows: usize,
    /// Mean sun hours on the DIN equinox day (h).
    pub mean_equinox_h: f64,
    /// Least sun hours of any window on the equinox day (h).
    pub min_equinox_h: f64,
    /// Mean sun hours on the DIN winter day (h).
    pub mean_january_h: f64,
    /// Windows whose DIN or EN result changed against the base (non-empty `change`).
    pub changed: usize,
}

/// Traffic: link results, flood road closures, evacuation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrafficResults {
    /// Static assignment per link (`traffic_links.geojson`), in link order.
    pub links: Vec<TrafficLink>,
    /// Roads closed by the flood (`road_closures.csv`), sorted by time then road link.
    pub closures: Vec<RoadClosure>,
    /// The evacuation, when one ran.
    pub evacuation: Option<Evacuation>,
}

/// Identity of a directed city road link across files: OSM way and end node ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoadKey {
    /// OSM way id.
    pub way_id: i64,
    /// Start node id.
    pub from_node: i64,
    /// End node id.
    pub to_node: i64,
}

impl RoadKey {
    /// The same street piece regardless of direction.
    pub fn undirected(self) -> (i64, i64, i64) {
        (
            self.way_id,
            self.from_node.min(self.to_node),
            self.from_node.max(self.to_node),
        )
    }
}

/// One link of the static assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficLink {
    /// Network link number (1-based).
    pub link: u32,
    /// The road link it runs on, when the file names way and nodes.
    pub road: Option<RoadKey>,
    /// Street name (empty when none).
    pub name: String,
    /// Road class (`primary`, `residential`, …).
    pub class: String,
    /// Geometry in the city CRS.
    pub line: Vec<[f64; 2]>,
    /// Volume (vehicles/h).
    pub volume_veh_h: f64,
    /// Capacity (vehicles/h; 0 when closed).
    pub capacity_veh_h: f64,
    /// Volume/capacity; `None` when closed.
    pub vc: Option<f64>,
    /// Closed in the variant.
    pub closed: bool,
    /// Volume without the scenario's changes, when compared.
    pub base_volume_veh_h: Option<f64>,
    /// Variant minus base volume, when compared.
    pub volume_change_veh_h: Option<f64>,
}

/// A road the flood closes (`road_closures.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoadClosure {
    /// Index of the city road link (0-based, the order of `roads.geojson`).
    pub road_link: usize,
    /// OSM way id.
    pub way_id: i64,
    /// Street name (empty when none).
    pub name: String,
    /// Start node id.
    pub from_node: i64,
    /// End node id.
    pub to_node: i64,
    /// When the water gets deeper than the closure depth (s on the flood clock).
    pub closed_at_s: f64,
    /// Geometry in the city CRS, matched from the traffic or evacuation links (by way and
    /// nodes) or `roads.geojson` (by index, checked by way and nodes); empty when not found.
    pub line: Vec<[f64; 2]>,
}

impl RoadClosure {
    /// The road link's identity.
    pub fn key(&self) -> RoadKey {
        RoadKey {
            way_id: self.way_id,
            from_node: self.from_node,
            to_node: self.to_node,
        }
    }
}

/// Where [`Evacuation::start_s`] came from.
#[derive(Debug, Clone, PartialEq)]
pub enum EvacuationStart {
    /// `summary.json` → `traffic.evacuation.start_s`.
    Summary,
    /// The scenario file's `[traffic.evacuation] start_s` (or its default 0 when the file
    /// has an evacuation without it); the path is the file read.
    Scenario(PathBuf),
    /// Inferred: flood time of a road in `road_closures.csv` minus its `closed_at_s` after
    /// the order in `evacuation_links.csv` (the median over the roads that close after the
    /// order).
    Inferred,
    /// Nothing recorded: the documented default 0.
    Default,
}

/// The evacuation of `[traffic.evacuation]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Evacuation {
    /// Time of the evacuation order on the flood clock (s).
    pub start_s: f64,
    /// Where `start_s` was found.
    pub start_source: EvacuationStart,
    /// The evacuation curve every 5 minutes, sorted by time.
    pub curve: Vec<CurvePoint>,
    /// Persons in the zone (`summary.json`).
    pub persons: Option<f64>,
    /// Persons leaving by car (`summary.json`).
    pub car_persons: Option<f64>,
    /// Duration after the order until 90 % of the car persons arrived (s).
    pub t90_s: Option<f64>,
    /// Duration after the order until all car persons who could leave arrived (s).
    pub t100_s: Option<f64>,
    /// Per link (`evacuation_links.geojson`, with nodes from `evacuation_links.csv`), in
    /// link order.
    pub links: Vec<EvacLink>,
}

/// One point of the evacuation curve (`evacuation_curve.csv`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Time on the flood clock (s): the file's `t_s` plus [`Evacuation::start_s`].
    pub t_s: f64,
    /// The file's `t_s`: seconds since the order.
    pub since_order_s: f64,
    /// Share of the persons who planned to have left by then (the mobilisation curve).
    pub departed_share_planned: f64,
    /// Car persons arrived at a shelter or exit.
    pub arrived_persons: f64,
    /// Share of the car persons arrived.
    pub share: f64,
}

/// One link of the evacuation run.
#[derive(Debug, Clone, PartialEq)]
pub struct EvacLink {
    /// Network link number (1-based).
    pub link: u32,
    /// The road link, when `evacuation_links.csv` gives its nodes.
    pub road: Option<RoadKey>,
    /// Street name (empty when none).
    pub name: String,
    /// Road class.
    pub class: String,
    /// Geometry in the city CRS.
    pub line: Vec<[f64; 2]>,
    /// Vehicles that used the link.
    pub volume_veh: f64,
    /// Longest queue (vehicles).
    pub max_queue_veh: f64,
    /// When the link closed (s on the flood clock; the file's time after the order plus
    /// [`Evacuation::start_s`]).
    pub closed_at_s: Option<f64>,
}

impl Results {
    /// Index the results folder `dir`.
    pub fn load(dir: &Path) -> Result<Results> {
        if !dir.is_dir() {
            return Err(ViewError::arg(
                dir.display().to_string(),
                "is not a results folder (no such directory)",
            ));
        }
        let summary_path = dir.join("summary.json");
        let summary = read_json_opt(&summary_path)?;
        let scenario_file = summary
            .as_ref()
            .and_then(|s| s.pointer("/scenario/file"))
            .and_then(Value::as_str)
            .map(PathBuf::from);
        let epsg = match summary.as_ref().and_then(|s| s.pointer("/city/epsg")) {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(0) => None,
                Some(c) => Some(u32::try_from(c).map_err(|_| {
                    ViewError::format(&summary_path, 0, format!("city.epsg: {c} out of range"))
                })?),
                None => {
                    return Err(ViewError::format(
                        &summary_path,
                        0,
                        format!("city.epsg: expected an EPSG code, got {v}"),
                    ));
                }
            },
        };
        let mut r = Results {
            dir: dir.to_path_buf(),
            summary,
            scenario_file,
            epsg,
            flood: None,
            shadow: None,
            traffic: None,
        };
        r.flood = load_flood(&r)?;
        r.shadow = load_shadow(&r)?;
        r.traffic = load_traffic(&r)?;
        Ok(r)
    }

    /// A member of `summary.json` by JSON pointer (`/flood/duration_s`).
    pub fn summary_at(&self, pointer: &str) -> Option<&Value> {
        self.summary.as_ref()?.pointer(pointer)
    }

    fn summary_f64(&self, pointer: &str) -> Result<Option<f64>> {
        match self.summary_at(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(ViewError::format(
                    self.dir.join("summary.json"),
                    0,
                    format!("{}: expected a number, got {v}", pointer_name(pointer)),
                )),
            },
        }
    }
}

/// `/a/b` as `a.b` for messages.
fn pointer_name(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

fn file_if(path: PathBuf) -> Option<PathBuf> {
    path.is_file().then_some(path)
}

// ---------------------------------------------------------------------------------------
// Flood

fn load_flood(r: &Results) -> Result<Option<FloodResults>> {
    let dir = &r.dir;
    let mut f = FloodResults {
        max_depth: file_if(dir.join("max_depth.tif")),
        max_wse: file_if(dir.join("max_wse.tif")),
        hazard_class: file_if(dir.join("hazard_class.tif")),
        arrival_time: file_if(dir.join("arrival_time.tif")),
        ..FloodResults::default()
    };
    let (snapshots, mut origin) = read_snapshots(dir)?;
    f.snapshots = snapshots;
    let (gauges, gauge_origin) = read_gauges(&dir.join("gauges.csv"))?;
    f.gauges = gauges;
    if origin.is_none() {
        origin = gauge_origin;
    }
    f.buildings = read_flood_buildings(&dir.join("flood_buildings.csv"))?;
    let in_summary = r.summary_at("/flood").is_some_and(|v| !v.is_null());
    let any = in_summary
        || !f.snapshots.is_empty()
        || !f.gauges.is_empty()
        || !f.buildings.is_empty()
        || f.max_depth.is_some()
        || f.max_wse.is_some()
        || f.hazard_class.is_some()
        || f.arrival_time.is_some();
    if !any {
        return Ok(None);
    }
    if let Some(o) = &origin {
        for s in f.snapshots.iter_mut().filter(|s| s.time.is_none()) {
            s.time = twin_core::timeseries::rfc3339_add(o, s.t_s);
        }
    }
    f.origin = origin;
    let last_gauge = f
        .gauges
        .iter()
        .filter_map(|g| g.t_s.last().copied())
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    f.duration_s = r
        .summary_f64("/flood/duration_s")?
        .or(f.snapshots.last().map(|s| s.t_s))
        .or(last_gauge);
    Ok(Some(f))
}

/// Snapshots from `snapshots/index.json`, else the `depth_<s>.tif` names; and the origin.
fn read_snapshots(dir: &Path) -> Result<(Vec<Snapshot>, Option<String>)> {
    let snap_dir = dir.join("snapshots");
    let index = snap_dir.join("index.json");
    let mut out = Vec::new();
    let mut origin = None;
    if let Some(v) = read_json_opt(&index)? {
        let bad = |m: String| ViewError::format(&index, 0, m);
        origin = match v.get("start_time") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(o) => return Err(bad(format!("start_time: expected a string, got {o}"))),
        };
        let list = v
            .get("snapshots")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no `snapshots` array".into()))?;
        for (i, e) in list.iter().enumerate() {
            let t_s = e
                .get("t_s")
                .and_then(Value::as_f64)
                .filter(|t| t.is_finite())
                .ok_or_else(|| bad(format!("snapshots[{i}].t_s: expected a number")))?;
            let file = e
                .get("file")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("snapshots[{i}].file: expected a string")))?;
            let time = match e.get("time") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(o) => {
                    return Err(bad(format!(
                        "snapshots[{i}].time: expected a string, got {o}"
                    )));
                }
            };
            if origin.is_none() && t_s == 0.0 {
                origin = time.clone();
            }
            out.push(Snapshot {
                t_s,
                time,
                path: dir.join(file),
            });
        }
    } else if snap_dir.is_dir() {
        let rd = std::fs::read_dir(&snap_dir).map_err(|e| ViewError::io(&snap_dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| ViewError::io(&snap_dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(digits) = name
                .strip_prefix("depth_")
                .and_then(|s| s.strip_suffix(".tif"))
            else {
                continue;
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(t) = digits.parse::<u64>() else {
                continue;
            };
            out.push(Snapshot {
                t_s: t as f64,
                time: None,
                path: entry.path(),
            });
        }
    }
    out.sort_by(|a, b| a.t_s.total_cmp(&b.t_s).then_with(|| a.path.cmp(&b.path)));
    if origin.is_none() {
        // Any snapshot with a time fixes the origin.
        origin = out.iter().find_map(|s| {
            s.time
                .as_deref()
                .and_then(|t| twin_core::timeseries::rfc3339_add(t, -s.t_s))
        });
    }
    Ok((out, origin))
}

/// `gauges.csv`: series grouped by gauge; and the origin from a `time` column at `time_s = 0`.
fn read_gauges(path: &Path) -> Result<(Vec<GaugeSeries>, Option<String>)> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok((Vec::new(), None));
    };
    let ct = csv.col("time_s")?;
    let cg = csv.col("gauge")?;
    let cd = csv.col("depth_m")?;
    let cw = csv.col("wse_m")?;
    let ctime = csv.col_opt("time");
    let mut by: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    let mut origin = None;
    for row in &csv.rows {
        let t = csv.f64(row, ct)?;
        let name = csv.text(row, cg)?;
        if name.is_empty() {
            return Err(csv.err(row, "empty `gauge`"));
        }
        let d = csv.f64(row, cd)?;
        let w = csv.f64(row, cw)?;
        if origin.is_none()
            && let Some(c) = ctime
        {
            let s = csv.text(row, c)?;
            if !s.is_empty() {
                origin = twin_core::timeseries::rfc3339_add(s, -t);
            }
        }
        by.entry(name.to_string()).or_default().push((t, d, w));
    }
    let gauges = by
        .into_iter()
        .map(|(name, mut s)| {
            s.sort_by(|a, b| a.0.total_cmp(&b.0));
            GaugeSeries {
                name,
                t_s: s.iter().map(|p| p.0).collect(),
                depth_m: s.iter().map(|p| p.1).collect(),
                wse_m: s.iter().map(|p| p.2).collect(),
            }
        })
        .collect();
    Ok((gauges, origin))
}

fn read_flood_buildings(path: &Path) -> Result<BTreeMap<String, FloodBuilding>> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok(BTreeMap::new());
    };
    let ci = csv.col("id")?;
    let cd = csv.col("max_depth_m")?;
    let cf = csv.col("first_flooded_s")?;
    let ch = csv.col("hazard_class")?;
    let mut out = BTreeMap::new();
    for row in &csv.rows {
        let id = csv.id(row, ci)?;
        let b = FloodBuilding {
            max_depth_m: csv.f64(row, cd)?,
            first_flooded_s: csv.f64_opt(row, cf)?,
            hazard_class: csv.text(row, ch)?.to_string(),
        };
        if out.insert(id.to_string(), b).is_some() {
            return Err(csv.err(row, format!("building `{id}` listed twice")));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Shadow

fn load_shadow(r: &Results) -> Result<Option<ShadowResults>> {
    let dir = &r.dir;
    let mut names: Vec<String> = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| ViewError::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| ViewError::io(dir, e))?;
        if let Some(n) = entry.file_name().to_str()
            && n.ends_with(".tif")
            && entry.path().is_file()
        {
            names.push(n.to_string());
        }
    }
    names.sort();
    let has = |n: &str| names.iter().any(|m| m == n);
    let mut s = ShadowResults::default();
    for n in &names {
        let Some(label) = n
            .strip_prefix("sun_hours_")
            .and_then(|x| x.strip_suffix(".tif"))
        else {
            continue;
        };
        if label.is_empty() || label.starts_with("base_") || label.starts_with("delta_") {
            continue;
        }
        let base = format!("sun_hours_base_{label}.tif");
        let delta = format!("sun_hours_delta_{label}.tif");
        s.days.push(SunDay {
            label: label.to_string(),
            variant: dir.join(n),
            base: has(&base).then(|| dir.join(&base)),
            delta: has(&delta).then(|| dir.join(&delta)),
        });
    }
    let times: BTreeMap<String, String> = r
        .summary_at("/shadow/times")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t.get("file")?.as_str()?.to_string(),
                        t.get("time")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    for n in &names {
        let Some(label) = n
            .strip_prefix("shadow_")
            .and_then(|x| x.strip_suffix(".tif"))
        else {
            continue;
        };
        if label.is_empty() || label.starts_with("base_") {
            continue;
        }
        let base = format!("shadow_base_{label}.tif");
        s.shadows.push(ShadowMap {
            label: label.to_string(),
            time: times.get(n).cloned(),
            variant: dir.join(n),
            base: has(&base).then(|| dir.join(&base)),
        });
    }
    s.solar_kwh = file_if(dir.join("solar_kwh.tif"));
    s.sky_view_factor = file_if(dir.join("sky_view_factor.tif"));
    s.daylight = read_daylight(&dir.join("daylight_buildings.csv"))?;
    s.solar = read_solar(&dir.join("solar_buildings.csv"))?;
    s.window_hours = read_windows(&dir.join("windows.csv"))?;
    let text = |p: &str| r.summary_at(p).and_then(Value::as_str).map(str::to_string);
    s.din_equinox = text("/shadow/windows/din_equinox");
    s.din_january = text("/shadow/windows/din_january");
    let in_summary = r.summary_at("/shadow").is_some_and(|v| !v.is_null());
    let any = in_summary
        || !s.days.is_empty()
        || !s.shadows.is_empty()
        || s.solar_kwh.is_some()
        || s.sky_view_factor.is_some()
        || !s.daylight.is_empty()
        || !s.solar.is_empty()
        || !s.window_hours.is_empty();
    Ok(any.then_some(s))
}

fn read_daylight(path: &Path) -> Result<BTreeMap<String, DaylightBuilding>> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok(BTreeMap::new());
    };
    let cb = csv.col("building")?;
    let cw = csv.col("windows")?;
    let cp = csv.col("din_pass")?;
    let cf = csv.col("din_fail")?;
    let cs = csv.col("din_status")?;
    let cl = csv.col("en17037_lowest")?;
    let mut out = BTreeMap::new();
    for row in &csv.rows {
        let id = csv.id(row, cb)?;
        let d = DaylightBuilding {
            windows: csv.count(row, cw)?,
            din_pass: csv.count(row, cp)?,
            din_fail: csv.count(row, cf)?,
            din_status: csv.text(row, cs)?.to_string(),
            en_lowest: csv.text(row, cl)?.to_string(),
        };
        if out.insert(id.to_string(), d).is_some() {
            return Err(csv.err(row, format!("building `{id}` listed twice")));
        }
    }
    Ok(out)
}

fn read_solar(path: &Path) -> Result<BTreeMap<String, SolarBuilding>> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok(BTreeMap::new());
    };
    let cb = csv.col("building")?;
    let ca = csv.col("roof_area_m2")?;
    let ck = csv.col("kwh_per_year")?;
    let cm = csv.col("kwh_per_m2_year")?;
    let mut out = BTreeMap::new();
    for row in &csv.rows {
        let id = csv.id(row, cb)?;
        let s = SolarBuilding {
            roof_area_m2: csv.f64(row, ca)?,
            kwh_per_year: csv.f64(row, ck)?,
            kwh_per_m2_year: csv.f64(row, cm)?,
        };
        if out.insert(id.to_string(), s).is_some() {
            return Err(csv.err(row, format!("building `{id}` listed twice")));
        }
    }
    Ok(out)
}

fn read_windows(path: &Path) -> Result<BTreeMap<String, WindowHours>> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok(BTreeMap::new());
    };
    let cb = csv.col("building")?;
    let ce = csv.col("din_equinox_h")?;
    let cj = csv.col("din_january_h")?;
    let cc = csv.col_opt("change");
    // (windows, sum equinox, min equinox, sum january, changed)
    let mut acc: BTreeMap<String, (usize, f64, f64, f64, usize)> = BTreeMap::new();
    for row in &csv.rows {
        let id = csv.id(row, cb)?;
        let e = csv.f64(row, ce)?;
        let j = csv.f64(row, cj)?;
        let changed = match cc {
            Some(c) => usize::from(!csv.text(row, c)?.is_empty()),
            None => 0,
        };
        let a = acc
            .entry(id.to_string())
            .or_insert((0, 0.0, f64::INFINITY, 0.0, 0));
        a.0 += 1;
        a.1 += e;
        a.2 = a.2.min(e);
        a.3 += j;
        a.4 += changed;
    }
    Ok(acc
        .into_iter()
        .map(|(id, (n, se, me, sj, ch))| {
            let n_f = n as f64;
            (
                id,
                WindowHours {
                    windows: n,
                    mean_equinox_h: se / n_f,
                    min_equinox_h: me,
                    mean_january_h: sj / n_f,
                    changed: ch,
                },
            )
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// Traffic

fn load_traffic(r: &Results) -> Result<Option<TrafficResults>> {
    let dir = &r.dir;
    let mut t = TrafficResults {
        links: read_traffic_links(&dir.join("traffic_links.geojson"), r.epsg)?,
        closures: read_road_closures(&dir.join("road_closures.csv"))?,
        evacuation: None,
    };
    t.evacuation = load_evacuation(r, &t.closures)?;
    // Closure geometry: by road key from the link layers, else roads.geojson by index.
    let mut lines: BTreeMap<RoadKey, &Vec<[f64; 2]>> = BTreeMap::new();
    for l in &t.links {
        if let Some(k) = l.road
            && !l.line.is_empty()
        {
            lines.entry(k).or_insert(&l.line);
        }
    }
    if let Some(e) = &t.evacuation {
        for l in &e.links {
            if let Some(k) = l.road
                && !l.line.is_empty()
            {
                lines.entry(k).or_insert(&l.line);
            }
        }
    }
    let found: Vec<Option<Vec<[f64; 2]>>> = t
        .closures
        .iter()
        .map(|c| lines.get(&c.key()).map(|l| (*l).clone()))
        .collect();
    let missing = found.iter().any(Option::is_none);
    let roads = if missing {
        read_roads(&dir.join("roads.geojson"), r.epsg)?
    } else {
        Vec::new()
    };
    for (c, f) in t.closures.iter_mut().zip(found) {
        c.line = match f {
            Some(l) => l,
            None => match roads.get(c.road_link) {
                Some((Some(k), line)) if *k == c.key() => line.clone(),
                _ => Vec::new(),
            },
        };
    }
    let in_summary = r.summary_at("/traffic").is_some_and(|v| !v.is_null());
    let any = in_summary || !t.links.is_empty() || !t.closures.is_empty() || t.evacuation.is_some();
    Ok(any.then_some(t))
}

fn read_traffic_links(path: &Path, epsg: Option<u32>) -> Result<Vec<TrafficLink>> {
    let Some(features) = read_geojson_lines(path, epsg)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(features.len());
    for (i, (p, line)) in features.into_iter().enumerate() {
        let g = Props::new(path, i, &p);
        out.push(TrafficLink {
            link: g.link()?,
            road: g.road_key()?,
            name: g.text_opt("name")?,
            class: g.text_opt("class")?,
            line,
            volume_veh_h: g.f64("volume_veh_h")?,
            capacity_veh_h: g.f64("capacity_veh_h")?,
            vc: g.f64_opt("vc")?,
            closed: g.bool("closed")?,
            base_volume_veh_h: g.f64_opt("base_volume_veh_h")?,
            volume_change_veh_h: g.f64_opt("volume_change_veh_h")?,
        });
    }
    out.sort_by_key(|l| l.link);
    Ok(out)
}

fn read_road_closures(path: &Path) -> Result<Vec<RoadClosure>> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok(Vec::new());
    };
    let cr = csv.col("road_link")?;
    let cw = csv.col("way_id")?;
    let cn = csv.col("name")?;
    let cf = csv.col("from_node")?;
    let ct = csv.col("to_node")?;
    let cc = csv.col("closed_at_s")?;
    let mut out = Vec::with_capacity(csv.rows.len());
    for row in &csv.rows {
        out.push(RoadClosure {
            road_link: csv.count(row, cr)?,
            way_id: csv.int(row, cw)?,
            name: csv.text(row, cn)?.to_string(),
            from_node: csv.int(row, cf)?,
            to_node: csv.int(row, ct)?,
            closed_at_s: csv.f64(row, cc)?,
            line: Vec::new(),
        });
    }
    out.sort_by(|a, b| {
        a.closed_at_s
            .total_cmp(&b.closed_at_s)
            .then(a.road_link.cmp(&b.road_link))
    });
    Ok(out)
}

/// A city road link: its key when the properties give it, and its geometry.
type RoadLine = (Option<RoadKey>, Vec<[f64; 2]>);

/// `roads.geojson` in feature order: (road key when the properties give it, geometry).
fn read_roads(path: &Path, epsg: Option<u32>) -> Result<Vec<RoadLine>> {
    let Some(features) = read_geojson_lines(path, epsg)? else {
        return Ok(Vec::new());
    };
    features
        .into_iter()
        .enumerate()
        .map(|(i, (p, line))| Ok((Props::new(path, i, &p).road_key()?, line)))
        .collect()
}

fn load_evacuation(r: &Results, closures: &[RoadClosure]) -> Result<Option<Evacuation>> {
    let dir = &r.dir;
    let curve_path = dir.join("evacuation_curve.csv");
    let links_path = dir.join("evacuation_links.geojson");
    let in_summary = r
        .summary_at("/traffic/evacuation")
        .is_some_and(|v| !v.is_null());
    let raw_curve = read_curve(&curve_path)?;
    let raw_links = read_evac_links(&links_path, &dir.join("evacuation_links.csv"), r.epsg)?;
    if !in_summary && raw_curve.is_none() && raw_links.is_none() {
        return Ok(None);
    }
    let mut links = raw_links.unwrap_or_default();
    let (start_s, start_source) = evacuation_start(r, closures, &links)?;
    let curve = raw_curve
        .unwrap_or_default()
        .into_iter()
        .map(|mut p| {
            p.t_s = p.since_order_s + start_s;
            p
        })
        .collect();
    for l in &mut links {
        l.closed_at_s = l.closed_at_s.map(|t| t + start_s);
    }
    Ok(Some(Evacuation {
        start_s,
        start_source,
        curve,
        persons: r.summary_f64("/traffic/evacuation/persons")?,
        car_persons: r.summary_f64("/traffic/evacuation/car_persons")?,
        t90_s: r.summary_f64("/traffic/evacuation/t90_s")?,
        t100_s: r.summary_f64("/traffic/evacuation/t100_s")?,
        links,
    }))
}

/// The curve with `t_s = since_order_s` (the start is added by the caller).
fn read_curve(path: &Path) -> Result<Option<Vec<CurvePoint>>> {
    let Some(csv) = Csv::read_opt(path)? else {
        return Ok(None);
    };
    let ct = csv.col("t_s")?;
    let cd = csv.col("departed_share_planned")?;
    let ca = csv.col("arrived_persons")?;
    let cs = csv.col("share")?;
    let mut out = Vec::with_capacity(csv.rows.len());
    for row in &csv.rows {
        let t = csv.f64(row, ct)?;
        out.push(CurvePoint {
            t_s: t,
            since_order_s: t,
            departed_share_planned: csv.f64(row, cd)?,
            arrived_persons: csv.f64(row, ca)?,
            share: csv.f64(row, cs)?,
        });
    }
    out.sort_by(|a, b| a.since_order_s.total_cmp(&b.since_order_s));
    Ok(Some(out))
}

/// Evacuation links from the GeoJSON, with the road nodes of the CSV (same link numbers);
/// `closed_at_s` still after the order. `None` when neither file exists.
fn read_evac_links(gj: &Path, csv_path: &Path, epsg: Option<u32>) -> Result<Option<Vec<EvacLink>>> {
    // Nodes and (when there is no GeoJSON) the rows themselves from the CSV.
    let mut from_csv: BTreeMap<u32, EvacLink> = BTreeMap::new();
    let csv = Csv::read_opt(csv_path)?;
    if let Some(csv) = &csv {
        let cl = csv.col("link")?;
        let cw = csv.col("way_id")?;
        let cn = csv.col("name")?;
        let cc = csv.col("class")?;
        let cf = csv.col("from")?;
        let ct = csv.col("to")?;
        let cv = csv.col("volume_veh")?;
        let cq = csv.col("max_queue_veh")?;
        let ca = csv.col("closed_at_s")?;
        for row in &csv.rows {
            let link = csv.link(row, cl)?;
            let l = EvacLink {
                link,
                road: Some(RoadKey {
                    way_id: csv.int(row, cw)?,
                    from_node: csv.int(row, cf)?,
                    to_node: csv.int(row, ct)?,
                }),
                name: csv.text(row, cn)?.to_string(),
                class: csv.text(row, cc)?.to_string(),
                line: Vec::new(),
                volume_veh: csv.f64(row, cv)?,
                max_queue_veh: csv.f64(row, cq)?,
                closed_at_s: csv.f64_opt(row, ca)?,
            };
            if from_csv.insert(link, l).is_some() {
                return Err(csv.err(row, format!("link {link} listed twice")));
            }
        }
    }
    let Some(features) = read_geojson_lines(gj, epsg)? else {
        return Ok(csv.map(|_| from_csv.into_values().collect()));
    };
    let mut out = Vec::with_capacity(features.len());
    for (i, (p, line)) in features.into_iter().enumerate() {
        let g = Props::new(gj, i, &p);
        let link = g.link()?;
        let way = g.i64_opt("way_id")?;
        let road = match (from_csv.get(&link).and_then(|l| l.road), way) {
            (Some(k), Some(w)) if k.way_id != w => {
                return Err(g.err(format!(
                    "link {link} is way {w} here but way {} in {}",
                    k.way_id,
                    csv_path.display()
                )));
            }
            (k, _) => k,
        };
        out.push(EvacLink {
            link,
            road,
            name: g.text_opt("name")?,
            class: g.text_opt("class")?,
            line,
            volume_veh: g.f64("volume_veh")?,
            max_queue_veh: g.f64("max_queue_veh")?,
            closed_at_s: g.f64_opt("closed_at_s")?,
        });
    }
    out.sort_by_key(|l| l.link);
    Ok(Some(out))
}

/// The evacuation order on the flood clock, and where it was found.
fn evacuation_start(
    r: &Results,
    closures: &[RoadClosure],
    links: &[EvacLink],
) -> Result<(f64, EvacuationStart)> {
    if let Some(s) = r.summary_f64("/traffic/evacuation/start_s")? {
        return Ok((s, EvacuationStart::Summary));
    }
    if let Some(file) = &r.scenario_file {
        let name = r.summary_at("/scenario/name").and_then(Value::as_str);
        for cand in scenario_candidates(&r.dir, file) {
            if let Some(s) = scenario_start(&cand, name)? {
                return Ok((s, EvacuationStart::Scenario(cand)));
            }
        }
    }
    // Flood time minus time after the order, for roads closing after the order.
    let flood: BTreeMap<RoadKey, f64> = closures.iter().map(|c| (c.key(), c.closed_at_s)).collect();
    let mut d: Vec<f64> = links
        .iter()
        .filter_map(|l| {
            let t = l.closed_at_s.filter(|&t| t > 0.0)?;
            Some(flood.get(&l.road?)? - t)
        })
        .filter(|x| x.is_finite())
        .collect();
    if !d.is_empty() {
        d.sort_by(f64::total_cmp);
        return Ok((d[d.len() / 2], EvacuationStart::Inferred));
    }
    Ok((0.0, EvacuationStart::Default))
}

/// Where a recorded (usually relative) scenario path may lie: as is when absolute, else
/// against the results folder and each folder above it (`twin run` writes `out/<name>`
/// below the folder it ran in), then the current folder.
fn scenario_candidates(dir: &Path, file: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if file.is_absolute() {
        out.push(file.to_path_buf());
    } else {
        for a in dir.ancestors() {
            out.push(a.join(file));
        }
        if let Ok(cwd) = std::env::current_dir() {
            out.push(cwd.join(file));
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|p| p.is_file() && seen.insert(p.clone()));
    out
}

/// `[traffic.evacuation] start_s` of a scenario file (0 when the section has none); `None`
/// when the file is another scenario (its name differs from `name`) or has no evacuation.
fn scenario_start(path: &Path, name: Option<&str>) -> Result<Option<f64>> {
    let text = std::fs::read_to_string(path).map_err(|e| ViewError::io(path, e))?;
    let v: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        ViewError::format(path, line, e.message().to_string())
    })?;
    let own = v
        .get("scenario")
        .and_then(|s| s.get("name"))
        .and_then(toml::Value::as_str)
        .map(str::trim);
    if let (Some(want), Some(own)) = (name, own)
        && want != own
    {
        return Ok(None);
    }
    let Some(evac) = v.get("traffic").and_then(|t| t.get("evacuation")) else {
        return Ok(None);
    };
    match evac.get("start_s") {
        None => Ok(Some(0.0)),
        Some(x) => {
            let s = x
                .as_float()
                .or_else(|| x.as_integer().map(|i| i as f64))
                .filter(|s| s.is_finite());
            s.map(Some).ok_or_else(|| {
                ViewError::format(
                    path,
                    0,
                    format!("traffic.evacuation.start_s: expected a number, got {x}"),
                )
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON and GeoJSON

fn read_json_opt(path: &Path) -> Result<Option<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ViewError::io(path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ViewError::format(path, e.line(), e.to_string()))
}

type Feature = (serde_json::Map<String, Value>, Vec<[f64; 2]>);

/// Features of a GeoJSON file of LineStrings: (properties, geometry in the city CRS).
fn read_geojson_lines(path: &Path, city_epsg: Option<u32>) -> Result<Option<Vec<Feature>>> {
    let Some(v) = read_json_opt(path)? else {
        return Ok(None);
    };
    let bad = |m: String| ViewError::format(path, 0, m);
    let transform = match v.pointer("/crs/properties/name").and_then(Value::as_str) {
        None => {
            if v.get("crs").is_some_and(|c| !c.is_null()) {
                return Err(bad("crs: expected {\"properties\": {\"name\": ...}}".into()));
            }
            None
        }
        Some(name) => {
            let from =
                twin_core::crs::Crs::parse(name).map_err(|e| bad(format!("crs `{name}`: {e}")))?;
            match city_epsg {
                Some(c) if c != from.epsg => {
                    let to = twin_core::crs::Crs::from_epsg(c)
                        .map_err(|e| bad(format!("city CRS EPSG:{c}: {e}")))?;
                    Some(twin_core::crs::Transformer::new(from, to))
                }
                Some(_) => None,
                None if from.is_geographic() => {
                    return Err(bad(format!(
                        "coordinates in {name}, but the city CRS is unknown (summary.json city.epsg)"
                    )));
                }
                None => None,
            }
        }
    };
    let features = v
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `features` array".into()))?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let props = match f.get("properties") {
            Some(Value::Object(m)) => m.clone(),
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(o) => return Err(bad(format!("features[{i}].properties: not an object: {o}"))),
        };
        let mut line = match f.get("geometry") {
            None | Some(Value::Null) => Vec::new(),
            Some(g) => {
                let kind = g.get("type").and_then(Value::as_str).unwrap_or("");
                if kind != "LineString" {
                    return Err(bad(format!(
                        "features[{i}].geometry: expected a LineString, got `{kind}`"
                    )));
                }
                let coords = g
                    .get("coordinates")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        bad(format!("features[{i}].geometry.coordinates: not an array"))
                    })?;
                coords
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let xy = c.as_array().and_then(|a| {
                            let x = a.first()?.as_f64()?;
                            let y = a.get(1)?.as_f64()?;
                            (x.is_finite() && y.is_finite()).then_some([x, y])
                        });
                        xy.ok_or_else(|| {
                            bad(format!(
                                "features[{i}].geometry.coordinates[{k}]: expected [x, y], got {c}"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            }
        };
        if let Some(t) = &transform {
            t.transform_points(&mut line)
                .map_err(|e| bad(format!("features[{i}]: {e}")))?;
        }
        out.push((props, line));
    }
    Ok(Some(out))
}

/// Typed access to one feature's properties, errors naming file and feature.
struct Props<'a> {
    path: &'a Path,
    index: usize,
    p: &'a serde_json::Map<String, Value>,
}

impl<'a> Props<'a> {
    fn new(path: &'a Path, index: usize, p: &'a serde_json::Map<String, Value>) -> Self {
        Props { path, index, p }
    }
    fn err(&self, m: impl std::fmt::Display) -> ViewError {
        ViewError::format(
            self.path,
            0,
            format!("features[{}].properties: {m}", self.index),
        )
    }
    fn get(&self, k: &str) -> Option<&Value> {
        self.p.get(k).filter(|v| !v.is_null())
    }
    fn f64_opt(&self, k: &str) -> Result<Option<f64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.err(format!("`{k}`: expected a number, got {v}"))),
            },
        }
    }
    fn f64(&self, k: &str) -> Result<f64> {
        self.f64_opt(k)?
            .ok_or_else(|| self.err(format!("missing `{k}`")))
    }
    fn i64_opt(&self, k: &str) -> Result<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.err(format!("`{k}`: expected an integer, got {v}"))),
        }
    }
    fn link(&self) -> Result<u32> {
        let v = self
            .i64_opt("link")?
            .ok_or_else(|| self.err("missing `link`"))?;
        u32::try_from(v).map_err(|_| self.err(format!("`link`: {v} out of range")))
    }
    fn text_opt(&self, k: &str) -> Result<String> {
        match self.get(k) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(self.err(format!("`{k}`: expected a string, got {v}"))),
        }
    }
    fn bool(&self, k: &str) -> Result<bool> {
        match self.get(k) {
            Some(Value::Bool(b)) => Ok(*b),
            None => Err(self.err(format!("missing `{k}`"))),
            Some(v) => Err(self.err(format!("`{k}`: expected true or false, got {v}"))),
        }
    }
    /// `way_id`, `from`, `to` when all three are given.
    fn road_key(&self) -> Result<Option<RoadKey>> {
        Ok(
            match (
                self.i64_opt("way_id")?,
                self.i64_opt("from")?,
                self.i64_opt("to")?,
            ) {
                (Some(way_id), Some(from_node), Some(to_node)) => Some(RoadKey {
                    way_id,
                    from_node,
                    to_node,
                }),
                _ => None,
            },
        )
    }
}

// ---------------------------------------------------------------------------------------
// CSV

/// One data record: its 1-based line in the file and its fields.
struct Row {
    line: usize,
    fields: Vec<String>,
}

/// A CSV file as the engine writes it: a header, comma-separated fields, RFC 4180 quotes.
struct Csv {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Row>,
}

impl Csv {
    /// `None` when the file does not exist.
    fn read_opt(path: &Path) -> Result<Option<Csv>> {
        match std::fs::read_to_string(path) {
            Ok(t) => Csv::parse(path, &t).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ViewError::io(path, e)),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Csv> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut records: Vec<Row> = Vec::new();
        let mut fields: Vec<String> = Vec::new();
        let mut field = String::new();
        let mut line = 1usize;
        let mut start_line = 1usize;
        let mut quoted = false;
        let mut was_quoted = false;
        let mut chars = text.chars().peekable();
        let mut at_record_start = true;
        while let Some(c) = chars.next() {
            if quoted {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    '\n' => {
                        line += 1;
                        field.push('\n');
                    }
                    _ => field.push(c),
                }
                continue;
            }
            if at_record_start {
                start_line = line;
                at_record_start = false;
            }
            match c {
                '"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '"' => {
                    return Err(ViewError::format(
                        path,
                        line,
                        "stray quote inside an unquoted field",
                    ));
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                    let f = std::mem::take(&mut fields);
                    if !(f.len() == 1 && f[0].is_empty()) {
                        records.push(Row {
                            line: start_line,
                            fields: f,
                        });
                    }
                    line += 1;
                    at_record_start = true;
                }
                _ if was_quoted => {
                    return Err(ViewError::format(
                        path,
                        line,
                        "text after the closing quote of a field",
                    ));
                }
                _ => field.push(c),
            }
        }
        if quoted {
            return Err(ViewError::format(path, start_line, "unterminated quote"));
        }
        if !at_record_start {
            fields.push(field);
            if !(fields.len() == 1 && fields[0].is_empty()) {
                records.push(Row {
                    line: start_line,
                    fields,
                });
            }
        }
        let mut it = records.into_iter();
        let header = it
            .next()
            .ok_or_else(|| ViewError::format(path, 1, "empty file: no header"))?
            .fields
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect::<Vec<_>>();
        let rows: Vec<Row> = it.collect();
        for r in &rows {
            if r.fields.len() != header.len() {
                return Err(ViewError::format(
                    path,
                    r.line,
                    format!("{} fields, the header has {}", r.fields.len(), header.len()),
                ));
            }
        }
        Ok(Csv {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn col_opt(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn col(&self, name: &str) -> Result<usize> {
        self.col_opt(name)
            .ok_or_else(|| ViewError::format(&self.path, 1, format!("missing column `{name}`")))
    }

    fn err(&self, row: &Row, m: impl Into<String>) -> ViewError {
        ViewError::format(&self.path, row.line, m)
    }

    fn text<'r>(&self, row: &'r Row, c: usize) -> Result<&'r str> {
        row.fields
            .get(c)
            .map(String::as_str)
            .ok_or_else(|| self.err(row, format!("no field {}", c + 1)))
    }

    /// A non-empty id.
    fn id<'r>(&self, row: &'r Row, c: usize) -> Result<&'r str> {
        let s = self.text(row, c)?;
        if s.is_empty() {
            return Err(self.err(row, format!("empty `{}`", self.header[c])));
        }
        Ok(s)
    }

    fn f64_opt(&self, row: &Row, c: usize) -> Result<Option<f64>> {
        let s = self.text(row, c)?.trim();
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(self.err(
                row,
                format!("`{}`: expected a finite number, got `{s}`", self.header[c]),
            )),
        }
    }

    fn f64(&self, row: &Row, c: usize) -> Result<f64> {
        self.f64_opt(row, c)?
            .ok_or_else(|| self.err(row, format!("`{}` is empty", self.header[c])))
    }

    fn int(&self, row: &Row, c: usize) -> Result<i64> {
        let s = self.text(row, c)?.trim();
        s.parse::<i64>().map_err(|_| {
            self.err(
                row,
                format!("`{}`: expected an integer, got `{s}`", self.header[c]),
            )
        })
    }

    fn count(&self, row: &Row, c: usize) -> Result<usize> {
        let s = self.text(row, c)?.trim();
        s.parse::<usize>().map_err(|_| {
            self.err(
                row,
                format!("`{}`: expected a count, got `{s}`", self.header[c]),
            )
        })
    }

    fn link(&self, row: &Row, c: usize) -> Result<u32> {
        let s = self.text(row, c)?.trim();
        s.parse::<u32>().map_err(|_| {
            self.err(
                row,
                format!("`{}`: expected a link number, got `{s}`", self.header[c]),
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Write `files` (relative path, content) into a new temporary folder.
    pub(crate) fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        d
    }

    fn err_text(r: Result<Results>) -> String {
        r.unwrap_err().to_string()
    }

    pub(crate) const GAUGES: &str = "time_s,time,gauge,depth_m,wse_m,speed_m_s\n\
        60,2026-12-06T12:01:00+01:00,g1,1.5,2.5,0\n\
        0,2026-12-06T12:00:00+01:00,g1,1.0,2.0,0\n\
        0,2026-12-06T12:00:00+01:00,a-north,0.0,1.0,0\n\
        120,2026-12-06T12:02:00+01:00,g1,1.2,2.2,0\n\
        60,2026-12-06T12:01:00+01:00,a-north,0.5,1.5,0\n";

    pub(crate) const FLOOD_BUILDINGS: &str = "id,max_depth_m,first_flooded_s,hazard_class\n\
        B1,2.000,100,extreme\nB2,0.050,,low\nB3,0.500,300,moderate\n";

    pub(crate) const CLOSURES: &str = "road_link,way_id,name,from_node,to_node,closed_at_s\n\
        1,10,\"Deich, Süd\",2,1,5000\n0,10,\"Deich, Süd\",1,2,5000\n2,11,,2,3,4000\n";

    pub(crate) const EVAC_CSV: &str = "link,way_id,name,class,from,to,length_m,capacity_veh_h,volume_veh,max_queue_veh,total_delay_s,mean_travel_time_s,free_flow_s,closed_at_s\n\
        1,10,\"Deich, Süd\",tertiary,1,2,100.0,1000.0,5,1,0.0,,7.2,2000\n\
        2,10,\"Deich, Süd\",tertiary,2,1,100.0,1000.0,7,0,0.0,,7.2,2000\n\
        3,11,,residential,2,3,50.0,500.0,0,0,0.0,,3.6,1000\n\
        4,12,Hochweg,residential,3,4,80.0,500.0,9,2,0.0,,5.8,\n";

    pub(crate) fn evac_geojson(crs: &str) -> String {
        let f = |link: u32, way: i64, name: &str, coords: &str, closed: &str| {
            format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"link\":{link},\"way_id\":{way},\"name\":{name},\"class\":\"tertiary\",\"volume_veh\":3,\"max_queue_veh\":1,\"closed\":{},\"closed_at_s\":{closed}}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":{coords}}}}}",
                closed != "null"
            )
        };
        format!(
            "{{\"type\":\"FeatureCollection\",\"name\":\"evacuation_links\",{crs}\"features\":[\n{},\n{},\n{},\n{}\n]}}\n",
            f(2, 10, "\"Deich, Süd\"", "[[100,0],[0,0]]", "2000.0"),
            f(1, 10, "\"Deich, Süd\"", "[[0,0],[100,0]]", "2000.0"),
            f(3, 11, "null", "[[100,0],[100,30],[140,30]]", "1000.0"),
            f(4, 12, "\"Hochweg\"", "[[140,30],[140,110]]", "null"),
        )
    }

    pub(crate) const CRS: &str =
        "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::25832\"}},";

    pub(crate) const CURVE: &str = "t_s,t_hm,departed_share_planned,arrived_persons,share\n\
        0,0:00,0.000000,0.000,0.000000\n300,0:05,0.100000,10.000,0.100000\n600,0:10,0.300000,40.000,0.400000\n";

    pub(crate) fn summary(extra: &str) -> String {
        format!(
            "{{\"scenario\":{{\"name\":\"t\",\"file\":\"scenarios/t.toml\"}},\"city\":{{\"epsg\":25832}}{extra}}}"
        )
    }

    pub(crate) const SNAP_INDEX: &str = "{\"output_interval_s\":1800.0,\"snapshots\":[\
        {\"file\":\"snapshots/depth_001800.tif\",\"t_s\":1800.0,\"time\":\"2026-12-06T12:30:00+01:00\"},\
        {\"file\":\"snapshots/depth_000000.tif\",\"t_s\":0.0,\"time\":\"2026-12-06T12:00:00+01:00\"}],\
        \"start_time\":\"2026-12-06T12:00:00+01:00\"}";

    /// A flood-and-evacuation folder; the evacuation order at 3000 s (scenario file).
    pub(crate) fn evac_folder() -> tempfile::TempDir {
        let d = folder(&[
            (
                "summary.json",
                &summary(
                    ",\"flood\":{\"duration_s\":7200.0},\"traffic\":{\"evacuation\":{\"persons\":125.0,\"car_persons\":100.0,\"t90_s\":600.0}}",
                ),
            ),
            ("snapshots/index.json", SNAP_INDEX),
            ("gauges.csv", GAUGES),
            ("flood_buildings.csv", FLOOD_BUILDINGS),
            ("max_depth.tif", "x"),
            ("road_closures.csv", CLOSURES),
            ("evacuation_curve.csv", CURVE),
            ("evacuation_links.csv", EVAC_CSV),
            ("evacuation_links.geojson", &evac_geojson(CRS)),
        ]);
        let sc = d.path().join("scenarios");
        std::fs::create_dir_all(&sc).unwrap();
        std::fs::write(
            sc.join("t.toml"),
            "[scenario]\nname = \"t\"\n[traffic.evacuation]\nstart_s = 3000.0\n",
        )
        .unwrap();
        d
    }

    #[test]
    fn empty_folder_has_nothing() {
        let d = folder(&[]);
        let r = Results::load(d.path()).unwrap();
        assert!(r.summary.is_none() && r.flood.is_none() && r.shadow.is_none());
        assert!(r.traffic.is_none() && r.epsg.is_none() && r.scenario_file.is_none());
    }

    #[test]
    fn missing_folder_is_an_error() {
        let d = folder(&[]);
        let e = err_text(Results::load(&d.path().join("nope")));
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn summary_fields() {
        let d = folder(&[("summary.json", &summary(""))]);
        let r = Results::load(d.path()).unwrap();
        assert_eq!(r.scenario_file, Some(PathBuf::from("scenarios/t.toml")));
        assert_eq!(r.epsg, Some(25832));
        assert!(r.flood.is_none());
        assert_eq!(
            r.summary_at("/scenario/name").and_then(Value::as_str),
            Some("t")
        );
    }

    #[test]
    fn malformed_summary_names_file_and_line() {
        let d = folder(&[("summary.json", "{\n\"a\": 1,\n\"b\": }\n")]);
        let e = err_text(Results::load(d.path()));
        assert!(e.contains("summary.json:3"), "{e}");
    }

    #[test]
    fn flood_snapshots_gauges_buildings() {
        let d = evac_folder();
        let r = Results::load(d.path()).unwrap();
        let f = r.flood.unwrap();
        let t: Vec<f64> = f.snapshots.iter().map(|s| s.t_s).collect();
        assert_eq!(t, [0.0, 1800.0]);
        assert_eq!(
            f.snapshots[1].path,
            d.path().join("snapshots/depth_001800.tif")
        );
        assert_eq!(f.origin.as_deref(), Some("2026-12-06T12:00:00+01:00"));
        assert_eq!(f.duration_s, Some(7200.0));
        assert_eq!(f.max_depth, Some(d.path().join("max_depth.tif")));
        assert!(f.max_wse.is_none() && f.hazard_class.is_none() && f.arrival_time.is_none());
        let names: Vec<&str> = f.gauges.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a-north", "g1"]);
        assert_eq!(f.gauges[1].t_s, [0.0, 60.0, 120.0]);
        assert_eq!(f.gauges[1].depth_m, [1.0, 1.5, 1.2]);
        assert_eq!(f.gauges[1].wse_m, [2.0, 2.5, 2.2]);
        assert_eq!(f.buildings.len(), 3);
        assert_eq!(
            f.buildings["B1"],
            FloodBuilding {
                max_depth_m: 2.0,
                first_flooded_s: Some(100.0),
                hazard_class: "extreme".into()
            }
        );
        assert_eq!(f.buildings["B2"].first_flooded_s, None);
    }

    #[test]
    fn snapshots_from_file_names_without_index() {
        let d = folder(&[
            ("snapshots/depth_003600.tif", "x"),
            ("snapshots/depth_000000.tif", "x"),
            ("snapshots/depth_abc.tif", "x"),
            ("snapshots/other.tif", "x"),
            (
                "gauges.csv",
                "time_s,gauge,depth_m,wse_m,speed_m_s\n0,g,0,1,0\n",
            ),
        ]);
        let f = Results::load(d.path()).unwrap().flood.unwrap();
        let t: Vec<f64> = f.snapshots.iter().map(|s| s.t_s).collect();
        assert_eq!(t, [0.0, 3600.0]);
        assert!(f.origin.is_none() && f.snapshots[0].time.is_none());
        assert_eq!(f.duration_s, Some(3600.0));
    }

    #[test]
    fn origin_from_gauges_fills_snapshot_times() {
        let d = folder(&[("snapshots/depth_000060.tif", "x"), ("gauges.csv", GAUGES)]);
        let f = Results::load(d.path()).unwrap().flood.unwrap();
        assert_eq!(f.origin.as_deref(), Some("2026-12-06T12:00:00+01:00"));
        assert_eq!(
            f.snapshots[0].time.as_deref(),
            Some("2026-12-06T12:01:00+01:00")
        );
    }

    #[test]
    fn csv_errors_name_file_line_and_column() {
        let d = folder(&[(
            "flood_buildings.csv",
            "id,max_depth_m,first_flooded_s,hazard_class\nB1,1.0,,low\nB2,NaN,,low\n",
        )]);
        let e = err_text(Results::load(d.path()));
        assert!(
            e.contains("flood_buildings.csv:3") && e.contains("max_depth_m"),
            "{e}"
        );
        let d = folder(&[("gauges.csv", "time_s,gauge,depth_m\n0,g,1\n")]);
        let e = err_text(Results::load(d.path()));
        assert!(e.contains("gauges.csv:1") && e.contains("`wse_m`"), "{e}");
        let d = folder(&[(
            "road_closures.csv",
            "road_link,way_id,name,from_node,to_node,closed_at_s\n0,1,x,1,2\n",
        )]);
        let e = err_text(Results::load(d.path()));
        assert!(
            e.contains("road_closures.csv:2") && e.contains("5 fields"),
            "{e}"
        );
        let d = folder(&[(
            "flood_buildings.csv",
            "id,max_depth_m,first_flooded_s,hazard_class\nB1,1,,low\nB1,2,,low\n",
        )]);
        let e = err_text(Results::load(d.path()));
        assert!(e.contains(":3") && e.contains("twice"), "{e}");
        let d = folder(&[("flood_buildings.csv", "")]);
        let e = err_text(Results::load(d.path()));
        assert!(e.contains("flood_buildings.csv:1"), "{e}");
    }

    #[test]
    fn csv_quotes_and_line_numbers() {
        let p = Path::new("x.csv");
        let c = Csv::parse(
            p,
            "a,b\r\n\"x, \"\"y\"\"\",1\r\n\"multi\nline\",2\n\n3,\"\"\n",
        )
        .unwrap();
        assert_eq!(c.header, ["a", "b"]);
        assert_eq!(c.rows.len(), 3);
        assert_eq!(c.rows[0].fields, ["x, \"y\"", "1"]);
        assert_eq!(c.rows[1].fields, ["multi\nline", "2"]);
        assert_eq!(c.rows[2].line, 6);
        assert_eq!(c.rows[2].fields, ["3", ""]);
        let e = Csv::parse(p, "a\n\"open\n").err().unwrap().to_string();
        assert!(e.contains("x.csv:2") && e.contains("unterminated"), "{e}");
        let e = Csv::parse(p, "a,b\n1,x\"y\n").err().unwrap().to_string();
        assert!(e.contains("x.csv:2"), "{e}");
        // No trailing newline.
        let c = Csv::parse(p, "a\n1").unwrap();
        assert_eq!(c.rows[0].fields, ["1"]);
    }

    #[test]
    fn shadow_files_and_tables() {
        let d = folder(&[
            ("sun_hours_2026-03-21.tif", "x"),
            ("sun_hours_base_2026-03-21.tif", "x"),
            ("sun_hours_delta_2026-03-21.tif", "x"),
            ("sun_hours_2026-01-17.tif", "x"),
            ("sun_hours_2026-03-01_2026-03-31.tif", "x"),
            ("sun_hours_2026-03-21.png", "x"),
            ("shadow_2026-01-17T1200.tif", "x"),
            ("shadow_base_2026-01-17T1200.tif", "x"),
            ("solar_kwh.tif", "x"),
            (
                "summary.json",
                &summary(
                    ",\"shadow\":{\"times\":[{\"time\":\"2026-01-17T12:00:00+01:00\",\"file\":\"shadow_2026-01-17T1200.tif\"}],\"windows\":{\"din_equinox\":\"2026-03-21\",\"din_january\":\"2026-01-17\"}}",
                ),
            ),
            (
                "daylight_buildings.csv",
                "building,windows,din_pass,din_fail,din_status,en17037_none,en17037_minimum,en17037_medium,en17037_high,en17037_lowest\nB1,3,2,1,partial,1,0,0,2,none\n",
            ),
            (
                "solar_buildings.csv",
                "building,roof_area_m2,kwh_per_year,kwh_per_m2_year\nB1,100.00,150000.0,1500.0\n",
            ),
            (
                "windows.csv",
                "id,building,x,y,z,azimuth_deg,din_equinox_h,din_january_h,din_pass,en17037_h,en17037_level,base_din_pass,base_en17037_level,change\n\
                 B1-w1,B1,0,0,1,180,6.0,2.0,true,5,high,true,high,\n\
                 B1-w2,B1,0,0,4,180,3.0,1.0,false,2,minimum,true,high,din_fails+en_lower\n\
                 B1-w3,B1,0,0,7,180,9.0,3.0,true,7,high,,,new\n\
                 B2-w1,B2,0,0,1,90,1.0,0.5,false,0.5,none,false,none,\n",
            ),
        ]);
        let s = Results::load(d.path()).unwrap().shadow.unwrap();
        let labels: Vec<&str> = s.days.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(
            labels,
            ["2026-01-17", "2026-03-01_2026-03-31", "2026-03-21"]
        );
        assert!(s.days[0].base.is_none() && s.days[0].delta.is_none());
        assert_eq!(
            s.days[2].delta,
            Some(d.path().join("sun_hours_delta_2026-03-21.tif"))
        );
        assert_eq!(s.shadows.len(), 1);
        assert_eq!(s.shadows[0].label, "2026-01-17T1200");
        assert_eq!(
            s.shadows[0].time.as_deref(),
            Some("2026-01-17T12:00:00+01:00")
        );
        assert!(s.shadows[0].base.is_some());
        assert!(s.solar_kwh.is_some() && s.sky_view_factor.is_none());
        assert_eq!(s.din_equinox.as_deref(), Some("2026-03-21"));
        assert_eq!(
            s.daylight["B1"],
            DaylightBuilding {
                windows: 3,
                din_pass: 2,
                din_fail: 1,
                din_status: "partial".into(),
                en_lowest: "none".into()
            }
        );
        assert_eq!(s.solar["B1"].kwh_per_year, 150000.0);
        let w = &s.window_hours["B1"];
        assert_eq!(w.windows, 3);
        assert!((w.mean_equinox_h - 6.0).abs() < 1e-12);
        assert_eq!(w.min_equinox_h, 3.0);
        assert!((w.mean_january_h - 2.0).abs() < 1e-12);
        assert_eq!(w.changed, 2);
        assert_eq!(s.window_hours["B2"].changed, 0);
    }

    #[test]
    fn evacuation_start_from_scenario_and_clock_conversion() {
        let d = evac_folder();
        let r = Results::load(d.path()).unwrap();
        let t = r.traffic.unwrap();
        let e = t.evacuation.unwrap();
        assert_eq!(e.start_s, 3000.0);
        assert_eq!(
            e.start_source,
            EvacuationStart::Scenario(d.path().join("scenarios/t.toml"))
        );
        let ts: Vec<f64> = e.curve.iter().map(|p| p.t_s).collect();
        assert_eq!(ts, [3000.0, 3300.0, 3600.0]);
        assert_eq!(e.curve[2].since_order_s, 600.0);
        assert_eq!(e.persons, Some(125.0));
        assert_eq!(e.car_persons, Some(100.0));
        assert_eq!(e.t90_s, Some(600.0));
        assert_eq!(e.t100_s, None);
        let links: Vec<u32> = e.links.iter().map(|l| l.link).collect();
        assert_eq!(links, [1, 2, 3, 4]);
        assert_eq!(e.links[0].closed_at_s, Some(5000.0));
        assert_eq!(e.links[3].closed_at_s, None);
        assert_eq!(
            e.links[0].road,
            Some(RoadKey {
                way_id: 10,
                from_node: 1,
                to_node: 2
            })
        );
        assert_eq!(e.links[0].line, [[0.0, 0.0], [100.0, 0.0]]);
        assert_eq!(e.links[0].name, "Deich, Süd");
        // Closures sorted by time, geometry matched by way and nodes.
        let c: Vec<usize> = t.closures.iter().map(|c| c.road_link).collect();
        assert_eq!(c, [2, 0, 1]);
        assert_eq!(t.closures[0].line.len(), 3);
        assert_eq!(t.closures[2].line, [[100.0, 0.0], [0.0, 0.0]]);
        assert_eq!(t.closures[1].name, "Deich, Süd");
    }

    #[test]
    fn evacuation_start_inferred_without_scenario() {
        let d = evac_folder();
        std::fs::remove_file(d.path().join("scenarios/t.toml")).unwrap();
        let e = Results::load(d.path())
            .unwrap()
            .traffic
            .unwrap()
            .evacuation
            .unwrap();
        // road_closures 5000 / 4000 minus 2000 / 1000 after the order.
        assert_eq!(e.start_s, 3000.0);
        assert_eq!(e.start_source, EvacuationStart::Inferred);
    }

    #[test]
    fn evacuation_start_from_summary_wins_and_other_scenario_is_skipped() {
        let d = evac_folder();
        std::fs::write(
            d.path().join("scenarios/t.toml"),
            "[scenario]\nname = \"other\"\n[traffic.evacuation]\nstart_s = 1.0\n",
        )
        .unwrap();
        let e = Results::load(d.path())
            .unwrap()
            .traffic
            .unwrap()
            .evacuation
            .unwrap();
        assert_eq!(e.start_source, EvacuationStart::Inferred);
        let d = folder(&[
            (
                "summary.json",
                &summary(",\"traffic\":{\"evacuation\":{\"start_s\":60}}"),
            ),
            ("evacuation_curve.csv", CURVE),
        ]);
        let e = Results::load(d.path())
            .unwrap()
            .traffic
            .unwrap()
            .evacuation
            .unwrap();
        assert_eq!(
            (e.start_s, e.start_source),
            (60.0, EvacuationStart::Summary)
        );
        assert!(e.links.is_empty());
        let d = folder(&[("evacuation_curve.csv", CURVE)]);
        let e = Results::load(d.path())
            .unwrap()
            .traffic
            .unwrap()
            .evacuation
            .unwrap();
        assert_eq!((e.start_s, e.start_source), (0.0, EvacuationStart::Default));
    }

    #[test]
    fn malformed_scenario_is_an_error_with_line() {
        let d = evac_folder();
        std::fs::write(
            d.path().join("scenarios/t.toml"),
            "[scenario]\nname = \"t\"\nstart_s = = 3\n",
        )
        .unwrap();
        let e = err_text(Results::load(d.path()));
        assert!(e.contains("t.toml:3"), "{e}");
    }

    #[test]
    fn evacuation_links_from_csv_only() {
        let d = folder(&[("evacuation_links.csv", EVAC_CSV)]);
        let e = Results::load(d.path())
            .unwrap()
            .traffic
            .unwrap()
            .evacuation
            .unwrap();
        assert_eq!(e.links.len(), 4);
        assert!(e.links.iter().all(|l| l.line.is_empty()));
        assert_eq!(e.links[3].name, "Hochweg");
    }

    #[test]
    fn geojson_errors_name_the_feature() {
        let bad = evac_geojson(CRS).replace("\"volume_veh\":3", "\"volume_veh\":\"x\"");
        let d = folder(&[("evacuation_links.geojson", &bad)]);
        let e = err_text(Results::load(d.path()));
        assert!(
            e.contains("evacuation_links.geojson")
                && e.contains("features[0]")
                && e.contains("volume_veh"),
            "{e}"
        );
        let bad = evac_geojson(CRS).replace("LineString", "Point");
        let d = folder(&[("evacuation_links.geojson", &bad)]);
        let e = err_text(Results::load(d.path()));
        assert!(e.contains("LineString"), "{e}");
    }

    #[test]
    fn traffic_links_in_wgs84_are_transformed_to_the_city_crs() {
        let crs = twin_core::crs::Crs::from_epsg(25832).unwrap();
        let [lon0, lat0] = crs.to_wgs84(566000.0, 5928000.0).unwrap();
        let [lon1, lat1] = crs.to_wgs84(566100.0, 5928000.0).unwrap();
        let gj = format!(
            "{{\"type\":\"FeatureCollection\",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}}}},\"features\":[\
             {{\"type\":\"Feature\",\"properties\":{{\"link\":7,\"way_id\":5,\"from\":1,\"to\":2,\"name\":\"A\",\"class\":\"primary\",\"volume_veh_h\":100.0,\"capacity_veh_h\":0.0,\"vc\":null,\"closed\":true}},\
             \"geometry\":{{\"type\":\"LineString\",\"coordinates\":[[{lon0},{lat0}],[{lon1},{lat1}]]}}}}]}}"
        );
        let d = folder(&[
            ("summary.json", &summary("")),
            ("traffic_links.geojson", &gj),
        ]);
        let t = Results::load(d.path()).unwrap().traffic.unwrap();
        let l = &t.links[0];
        assert_eq!(l.link, 7);
        assert!(l.closed && l.vc.is_none() && l.base_volume_veh_h.is_none());
        assert!((l.line[0][0] - 566000.0).abs() < 1e-3 && (l.line[1][0] - 566100.0).abs() < 1e-3);
        assert!((l.line[1][1] - 5928000.0).abs() < 1e-3);
        // WGS84 without a known city CRS cannot be placed.
        let d = folder(&[("traffic_links.geojson", &gj)]);
        let e = err_text(Results::load(d.path()));
        assert!(e.contains("city CRS is unknown"), "{e}");
    }

    #[test]
    fn closure_geometry_from_roads_geojson_by_index() {
        let roads = format!(
            "{{\"type\":\"FeatureCollection\",{CRS}\"features\":[\n\
             {{\"type\":\"Feature\",\"properties\":{{\"way_id\":10,\"from\":1,\"to\":2}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[[0,0],[3,4]]}}}},\n\
             {{\"type\":\"Feature\",\"properties\":{{\"way_id\":99,\"from\":2,\"to\":1}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[[3,4],[0,0]]}}}}\n]}}"
        );
        let d = folder(&[("road_closures.csv", CLOSURES), ("roads.geojson", &roads)]);
        let t = Results::load(d.path()).unwrap().traffic.unwrap();
        let by: BTreeMap<usize, usize> = t
            .closures
            .iter()
            .map(|c| (c.road_link, c.line.len()))
            .collect();
        // Link 0 matches; link 1 is another way in roads.geojson; link 2 is not there.
        assert_eq!(by, BTreeMap::from([(0, 2), (1, 0), (2, 0)]));
        assert!(t.evacuation.is_none());
    }

    /// The real folders of `twin run` (run by hand: `cargo test -- --ignored`).
    #[test]
    #[ignore]
    fn real_results_folders() {
        let out = Path::new("/work/main/out");
        let r = Results::load(&out.join("evacuation-810")).unwrap();
        let f = r.flood.as_ref().unwrap();
        assert_eq!(f.snapshots.len(), 17);
        assert_eq!(f.origin.as_deref(), Some("2026-12-06T12:00:00+01:00"));
        let t = r.traffic.as_ref().unwrap();
        let e = t.evacuation.as_ref().unwrap();
        assert_eq!(e.start_s, 7200.0);
        assert!(t.closures.iter().all(|c| !c.line.is_empty()));
        assert_eq!(e.links.len(), 934);
        let r = Results::load(&out.join("surge-810-breach")).unwrap();
        assert_eq!(r.flood.as_ref().unwrap().gauges.len(), 4);
        let r = Results::load(&out.join("shadow-tower")).unwrap();
        let s = r.shadow.as_ref().unwrap();
        assert_eq!(s.days.len(), 2);
        assert_eq!(s.shadows.len(), 2);
        assert!(!s.window_hours.is_empty() && !s.daylight.is_empty() && !s.solar.is_empty());
        let r = Results::load(&out.join("traffic-bridge")).unwrap();
        let t = r.traffic.as_ref().unwrap();
        assert!(t.links.iter().any(|l| l.closed));
        assert!(t.links.iter().all(|l| l.base_volume_veh_h.is_some()));
        let r = Results::load(&out.join("demo")).unwrap();
        assert!(r.flood.is_none() && r.shadow.is_none() && r.traffic.is_none());
    }
}
