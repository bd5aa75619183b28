//! The `[flood]` section: a 2D flood simulation on a DEM, driven by rain, inflows and water
//! levels, with losses (infiltration, sewers), buildings, barriers, breaches and gauges. This
//! module is the schema only: the file format ([`FloodSection`] and the entry sections) and
//! its validation into plain core types ([`FloodSpec`]); the solver lives in `sim-flood`.
//!
//! ```toml
//! [flood]
//! duration_s = 43200.0
//! output_interval_s = 600.0
//!
//! [[flood.water_level]]
//! id = "elbe"
//! landcover_ids = ["water-river"]
//! storm_tide = { peak_z = 8.1, peak_s = 21600.0, end_s = 43200.0 }
//!
//! [[flood.breach]]
//! barrier = "dike-low-1"
//! at = [565850.0, 5927700.0]
//! width_m = 50.0
//! bottom_z = 2.0
//! start_s = 20000.0
//!
//! [[flood.gauge]]
//! id = "polder-1"
//! at = [565900.0, 5927500.0]
//! ```
//! Every error names the scenario file and the field path (`flood.rain[0].series_mm_h`,
//! `flood.numerics.theta`) and says what is allowed. Relative paths are resolved against the
//! scenario file's folder; files must exist, and CSV series are read during validation.
//! `docs/scenarios.md` documents every key.

use super::{check_bbox, check_polygon, field_err, resolve_path, yes};
use crate::error::{Error, Result};
use crate::geom::{BBox2, P2, Polygon};
use crate::model::LandCover;
use crate::timeseries::{self, Interpolation, StormTide, TimeSeries};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Longest run (30 days).
const MAX_DURATION_S: f64 = 30.0 * 86_400.0;

/// `[flood]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSection {
    /// DEM (GeoTIFF or `.asc`); default: the city's terrain.
    pub dem: Option<PathBuf>,
    /// Computational cell size (m); default: the DEM's own.
    pub cell_m: Option<f64>,
    /// Crop `[min_x, min_y, max_x, max_y]` in the city CRS.
    pub bbox: Option<[f64; 4]>,
    /// Length of the run (s); required.
    pub duration_s: Option<f64>,
    /// Depth snapshots every this many seconds.
    pub output_interval_s: Option<f64>,
    /// Gauge rows every this many seconds.
    pub gauge_interval_s: Option<f64>,
    /// RFC 3339 wall-clock time of t = 0.
    pub start_time: Option<String>,
    /// Depth raster to start from.
    pub initial_depth: Option<PathBuf>,
    /// Default Manning roughness n (s/m^(1/3)).
    pub manning_n: Option<f64>,
    /// Land-cover zones of the city give roughness.
    #[serde(default = "yes")]
    pub use_city_landcover: bool,
    /// GeoJSON polygons with a numeric property `manning_n`.
    #[serde(default)]
    pub roughness_files: Vec<PathBuf>,
    /// `blocked`, `raised` or `ignore`.
    pub buildings: Option<String>,
    #[serde(default = "yes")]
    pub use_city_buildings: bool,
    /// GeoJSON footprints (property `height_m` used when raised).
    #[serde(default)]
    pub building_files: Vec<PathBuf>,
    /// Height of raised footprints that have none (m).
    pub building_height_m: Option<f64>,
    /// The city's dikes, walls and quays act as barriers.
    #[serde(default = "yes")]
    pub use_city_barriers: bool,
    /// Weir discharge coefficient over barriers.
    pub weir_cd: Option<f64>,
    /// `"closed"`, `"open"`, or a table of sides `{ north = "open", ... }`.
    pub edges: Option<toml::Value>,
    /// Depth threshold of arrival time and flood duration (m).
    pub arrival_depth_m: Option<f64>,
    /// The city's named points of kind gauge are gauges.
    #[serde(default = "yes")]
    pub use_city_gauges: bool,
    #[serde(default)]
    pub numerics: FloodNumericsSection,
    #[serde(default)]
    pub outputs: FloodOutputsSection,
    #[serde(default)]
    pub rain: Vec<RainSection>,
    #[serde(default)]
    pub inflow: Vec<InflowSection>,
    #[serde(default)]
    pub water_level: Vec<WaterLevelSection>,
    #[serde(default)]
    pub losses: Vec<LossSection>,
    #[serde(default)]
    pub barrier: Vec<BarrierSection>,
    #[serde(default)]
    pub breach: Vec<BreachSection>,
    #[serde(default)]
    pub gauge: Vec<GaugeSection>,
}

/// `[flood.numerics]` as written; absent keys take [`FloodNumerics::default`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodNumericsSection {
    pub theta: Option<f64>,
    pub courant: Option<f64>,
    pub froude_max: Option<f64>,
    pub dry_depth_m: Option<f64>,
    pub max_dt_s: Option<f64>,
    pub min_dt_s: Option<f64>,
}

/// `[flood.outputs]` as written; absent keys are `true`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodOutputsSection {
    pub snapshots: Option<bool>,
    pub png: Option<bool>,
    pub hazard: Option<bool>,
}

/// `circle = { center = [x, y], radius_m = 20.0 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircleSection {
    pub center: P2,
    pub radius_m: f64,
}

/// `green_ampt = { ks_mm_h = 10.0, suction_mm = 110.0, moisture_deficit = 0.3 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GreenAmptSection {
    pub ks_mm_h: f64,
    pub suction_mm: f64,
    pub moisture_deficit: f64,
}

/// `[[flood.rain]]`: a hyetograph (mm/h) over the whole domain or a region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RainSection {
    pub series_mm_h: Option<Vec<[f64; 2]>>,
    pub series_file: Option<PathBuf>,
    pub series_column: Option<String>,
    pub series_scale: Option<f64>,
    pub series_offset: Option<f64>,
    /// Default `step`.
    pub interpolation: Option<Interpolation>,
    pub polygon: Option<Vec<P2>>,
    pub zones_file: Option<PathBuf>,
    pub landcover_ids: Option<Vec<String>>,
    pub landcover_kinds: Option<Vec<String>>,
}

/// `[[flood.inflow]]`: a hydrograph (m³/s) at a point or over an area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InflowSection {
    pub id: Option<String>,
    pub series_m3_s: Option<Vec<[f64; 2]>>,
    pub series_file: Option<PathBuf>,
    pub series_column: Option<String>,
    pub series_scale: Option<f64>,
    pub series_offset: Option<f64>,
    /// Default `linear`.
    pub interpolation: Option<Interpolation>,
    pub point: Option<P2>,
    pub circle: Option<CircleSection>,
    pub polygon: Option<Vec<P2>>,
    pub zones_file: Option<PathBuf>,
}

/// `[[flood.water_level]]`: a water surface elevation (m of the vertical datum) imposed along a
/// line or over an area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaterLevelSection {
    pub id: Option<String>,
    pub series_m: Option<Vec<[f64; 2]>>,
    pub series_file: Option<PathBuf>,
    pub series_column: Option<String>,
    pub series_scale: Option<f64>,
    pub series_offset: Option<f64>,
    pub storm_tide: Option<StormTide>,
    /// Default `linear`.
    pub interpolation: Option<Interpolation>,
    pub polyline: Option<Vec<P2>>,
    pub polygon: Option<Vec<P2>>,
    pub zones_file: Option<PathBuf>,
    pub landcover_ids: Option<Vec<String>>,
    pub landcover_kinds: Option<Vec<String>>,
    /// The level also covers every cell its region's water reaches without crossing a
    /// barrier, below the series' highest level (the whole water body in front of the dikes).
    #[serde(default)]
    pub extend_to_barriers: bool,
}

/// `[[flood.losses]]`: infiltration and sewer drainage over the whole domain or a region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSection {
    pub infiltration_mm_h: Option<f64>,
    pub green_ampt: Option<GreenAmptSection>,
    pub sewer_mm_h: Option<f64>,
    pub polygon: Option<Vec<P2>>,
    pub zones_file: Option<PathBuf>,
    pub landcover_ids: Option<Vec<String>>,
    pub landcover_kinds: Option<Vec<String>>,
}

/// `[[flood.barrier]]`: an extra barrier such as a mobile flood wall.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarrierSection {
    pub id: Option<String>,
    pub line: Option<Vec<P2>>,
    pub crest_z: Option<f64>,
    pub active_from_s: Option<f64>,
}

/// `[[flood.breach]]`: a barrier that fails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachSection {
    pub barrier: Option<String>,
    pub at: Option<P2>,
    pub width_m: Option<f64>,
    pub bottom_z: Option<f64>,
    pub start_s: Option<f64>,
    pub duration_s: Option<f64>,
    pub cross_m: Option<f64>,
}

/// `[[flood.gauge]]`: a point whose depth and level are recorded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaugeSection {
    pub id: Option<String>,
    pub at: Option<P2>,
}

/// A validated flood simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodSpec {
    /// DEM to run on; `None`: the city's terrain.
    pub dem: Option<PathBuf>,
    /// Computational cell size (m); `None`: the DEM's own.
    pub cell_m: Option<f64>,
    /// Crop of the domain (city CRS).
    pub bbox: Option<BBox2>,
    /// Length of the run (s).
    pub duration_s: f64,
    /// Depth snapshots every this many seconds.
    pub output_interval_s: f64,
    /// Gauge rows every this many seconds.
    pub gauge_interval_s: f64,
    /// RFC 3339 wall-clock time of t = 0 (syntax checked).
    pub start_time: Option<String>,
    /// Depth raster to start from; `None`: dry.
    pub initial_depth: Option<PathBuf>,
    pub numerics: FloodNumerics,
    /// Default Manning roughness n (s/m^(1/3)).
    pub manning_n: f64,
    pub use_city_landcover: bool,
    /// GeoJSON polygons with a numeric property `manning_n`.
    pub roughness_files: Vec<PathBuf>,
    pub buildings: BuildingMode,
    pub use_city_buildings: bool,
    /// GeoJSON footprints (property `height_m` used when raised).
    pub building_files: Vec<PathBuf>,
    /// Height of raised footprints that have none (m).
    pub building_height_m: f64,
    pub use_city_barriers: bool,
    /// Weir discharge coefficient over barriers.
    pub weir_cd: f64,
    pub edges: Edges,
    /// Depth threshold of arrival time and flood duration (m).
    pub arrival_depth_m: f64,
    pub outputs: FloodOutputs,
    pub rain: Vec<RainSpec>,
    pub inflows: Vec<InflowSpec>,
    pub water_levels: Vec<WaterLevelSpec>,
    pub losses: Vec<LossSpec>,
    pub barriers: Vec<BarrierSpec>,
    pub breaches: Vec<BreachSpec>,
    pub gauges: Vec<GaugeSpec>,
    /// The city's named points of kind gauge are gauges too.
    pub use_city_gauges: bool,
}

/// Parameters of the solver.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodNumerics {
    /// Weighting of the q-centred scheme, 0.5 (most diffusive) to 1 (no diffusion).
    pub theta: f64,
    /// Fraction of the stability limit the adaptive time step uses, 0 < courant <= 1.
    pub courant: f64,
    /// Largest Froude number of the flow (a large value switches the limit off).
    pub froude_max: f64,
    /// Depth below which a cell counts as dry (m).
    pub dry_depth_m: f64,
    /// Largest time step (s).
    pub max_dt_s: f64,
    /// Smallest time step (s): the run stops with an error below it.
    pub min_dt_s: f64,
}

impl Default for FloodNumerics {
    fn default() -> Self {
        FloodNumerics {
            theta: 0.7,
            courant: 0.9,
            froude_max: 1.0,
            dry_depth_m: 0.001,
            max_dt_s: 10.0,
            min_dt_s: 0.0001,
        }
    }
}

/// How buildings enter the flood model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildingMode {
    /// Footprint cells are taken out of the domain (water flows around them).
    Blocked,
    /// Footprints are raised by their height in the terrain.
    Raised,
    /// Buildings are ignored.
    Ignore,
}

impl BuildingMode {
    const ALL: [(&'static str, BuildingMode); 3] = [
        ("blocked", BuildingMode::Blocked),
        ("raised", BuildingMode::Raised),
        ("ignore", BuildingMode::Ignore),
    ];
}

/// What a side of the domain does with water.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A wall: no flow across.
    Closed,
    /// Free outflow.
    Open,
}

/// The four sides of the (rectangular) domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edges {
    pub north: EdgeKind,
    pub east: EdgeKind,
    pub south: EdgeKind,
    pub west: EdgeKind,
}

impl Edges {
    /// All four sides alike.
    pub fn uniform(kind: EdgeKind) -> Edges {
        Edges {
            north: kind,
            east: kind,
            south: kind,
            west: kind,
        }
    }
}

/// Which flood results are written.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodOutputs {
    /// Depth rasters every `output_interval_s`.
    pub snapshots: bool,
    /// A map of the maximum depth.
    pub png: bool,
    /// Hazard rating rasters.
    pub hazard: bool,
}

/// Where a forcing or a loss applies (city CRS). Each kind of entry allows only some variants:
/// rain and losses `All`, `Polygon`, `File`, `LandCoverIds`, `LandCoverKinds`; inflows `Point`,
/// `Circle`, `Polygon`, `File`; water levels `Polyline`, `Polygon`, `File`, `LandCoverIds`,
/// `LandCoverKinds`.
#[derive(Debug, Clone, PartialEq)]
pub enum RegionSpec {
    /// The whole domain.
    All,
    Point(P2),
    Circle {
        center: P2,
        radius_m: f64,
    },
    Polygon(Polygon),
    /// The cells the line crosses.
    Polyline(Vec<P2>),
    /// The polygons of a GeoJSON file.
    File(PathBuf),
    /// The city's land-cover zones with these ids (checked at run time).
    LandCoverIds(Vec<String>),
    /// The city's land-cover zones of these kinds.
    LandCoverKinds(Vec<LandCover>),
}

/// Rain over a region.
#[derive(Debug, Clone, PartialEq)]
pub struct RainSpec {
    pub region: RegionSpec,
    /// Intensity (mm/h), >= 0.
    pub mm_h: TimeSeries,
}

/// A discharge into the domain.
#[derive(Debug, Clone, PartialEq)]
pub struct InflowSpec {
    pub id: String,
    pub region: RegionSpec,
    /// Discharge (m³/s), >= 0.
    pub m3_s: TimeSeries,
}

/// A water level imposed on a line or an area.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterLevelSpec {
    pub id: String,
    pub region: RegionSpec,
    /// Water surface elevation (m of the vertical datum).
    pub z_m: TimeSeries,
    /// Extend the region over the water body it belongs to, up to the barriers.
    pub extend_to_barriers: bool,
}

/// Infiltration into the ground.
#[derive(Debug, Clone, PartialEq)]
pub enum Infiltration {
    None,
    /// A constant rate.
    Constant {
        mm_h: f64,
    },
    /// Green-Ampt: saturated conductivity, wetting-front suction head and moisture deficit
    /// (porosity minus initial moisture, 0 < deficit <= 1).
    GreenAmpt {
        ks_mm_h: f64,
        suction_mm: f64,
        moisture_deficit: f64,
    },
}

/// Losses over a region.
#[derive(Debug, Clone, PartialEq)]
pub struct LossSpec {
    pub region: RegionSpec,
    pub infiltration: Infiltration,
    /// Sewer drainage capacity (mm/h); 0 when not given.
    pub sewer_mm_h: f64,
}

/// An extra barrier.
#[derive(Debug, Clone, PartialEq)]
pub struct BarrierSpec {
    pub id: String,
    pub line: Vec<P2>,
    /// Crest elevation (m of the vertical datum).
    pub crest_z: f64,
    /// A mobile wall is only up from this time (s); `None`: from the start.
    pub active_from_s: Option<f64>,
}

/// A breach: the crest of a barrier is lowered to `bottom_z` over `width_m` around `at`,
/// linearly from `start_s` over `duration_s`.
#[derive(Debug, Clone, PartialEq)]
pub struct BreachSpec {
    /// Id of a city barrier or of a [`BarrierSpec`].
    pub barrier: String,
    pub at: P2,
    pub width_m: f64,
    /// Final crest of the breach (m of the vertical datum).
    pub bottom_z: f64,
    pub start_s: f64,
    /// 0: instant.
    pub duration_s: f64,
    /// How far across the line the terrain is lowered (m).
    pub cross_m: f64,
}

/// A gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeSpec {
    pub id: String,
    pub at: P2,
}

/// A region key of an entry as written.
enum RawRegion<'a> {
    Point(P2),
    Circle(&'a CircleSection),
    Polygon(&'a [P2]),
    Polyline(&'a [P2]),
    File(&'a Path),
    Ids(&'a [String]),
    Kinds(&'a [String]),
}

/// What an entry without region keys means.
enum NoRegion {
    /// The whole domain.
    All,
    /// An error listing these keys.
    Required(&'static [&'static str]),
}

/// A series key of an entry as written.
enum RawSeries<'a> {
    Points(&'a [[f64; 2]]),
    File(&'a Path),
    StormTide(&'a StormTide),
}

/// The series keys of an entry as written.
struct SeriesKeys<'a> {
    /// What the series is, in messages ("hyetograph").
    what: &'static str,
    /// The keys that may give the series (for messages).
    keys: &'static [&'static str],
    given: Vec<(&'static str, RawSeries<'a>)>,
    column: Option<&'a str>,
    scale: Option<f64>,
    offset: Option<f64>,
    interpolation: Option<Interpolation>,
}

/// `(key, value)` of the keys that are set.
fn given<T>(keys: impl IntoIterator<Item = (&'static str, Option<T>)>) -> Vec<(&'static str, T)> {
    keys.into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

impl RainSection {
    fn series_keys(&self) -> SeriesKeys<'_> {
        SeriesKeys {
            what: "hyetograph",
            keys: &["series_mm_h", "series_file"],
            given: given([
                (
                    "series_mm_h",
                    self.series_mm_h.as_deref().map(RawSeries::Points),
                ),
                (
                    "series_file",
                    self.series_file.as_deref().map(RawSeries::File),
                ),
            ]),
            column: self.series_column.as_deref(),
            scale: self.series_scale,
            offset: self.series_offset,
            interpolation: self.interpolation,
        }
    }
    fn region_keys(&self) -> Vec<(&'static str, RawRegion<'_>)> {
        given([
            ("polygon", self.polygon.as_deref().map(RawRegion::Polygon)),
            (
                "zones_file",
                self.zones_file.as_deref().map(RawRegion::File),
            ),
            (
                "landcover_ids",
                self.landcover_ids.as_deref().map(RawRegion::Ids),
            ),
            (
                "landcover_kinds",
                self.landcover_kinds.as_deref().map(RawRegion::Kinds),
            ),
        ])
    }
}

impl InflowSection {
    fn series_keys(&self) -> SeriesKeys<'_> {
        SeriesKeys {
            what: "hydrograph",
            keys: &["series_m3_s", "series_file"],
            given: given([
                (
                    "series_m3_s",
                    self.series_m3_s.as_deref().map(RawSeries::Points),
                ),
                (
                    "series_file",
                    self.series_file.as_deref().map(RawSeries::File),
                ),
            ]),
            column: self.series_column.as_deref(),
            scale: self.series_scale,
            offset: self.series_offset,
            interpolation: self.interpolation,
        }
    }
    fn region_keys(&self) -> Vec<(&'static str, RawRegion<'_>)> {
        given([
            ("point", self.point.map(RawRegion::Point)),
            ("circle", self.circle.as_ref().map(RawRegion::Circle)),
            ("polygon", self.polygon.as_deref().map(RawRegion::Polygon)),
            (
                "zones_file",
                self.zones_file.as_deref().map(RawRegion::File),
            ),
        ])
    }
}

impl WaterLevelSection {
    fn series_keys(&self) -> SeriesKeys<'_> {
        SeriesKeys {
            what: "water level",
            keys: &["series_m", "series_file", "storm_tide"],
            given: given([
                ("series_m", self.series_m.as_deref().map(RawSeries::Points)),
                (
                    "series_file",
                    self.series_file.as_deref().map(RawSeries::File),
                ),
                (
                    "storm_tide",
                    self.storm_tide.as_ref().map(RawSeries::StormTide),
                ),
            ]),
            column: self.series_column.as_deref(),
            scale: self.series_scale,
            offset: self.series_offset,
            interpolation: self.interpolation,
        }
    }
    fn region_keys(&self) -> Vec<(&'static str, RawRegion<'_>)> {
        given([
            (
                "polyline",
                self.polyline.as_deref().map(RawRegion::Polyline),
            ),
            ("polygon", self.polygon.as_deref().map(RawRegion::Polygon)),
            (
                "zones_file",
                self.zones_file.as_deref().map(RawRegion::File),
            ),
            (
                "landcover_ids",
                self.landcover_ids.as_deref().map(RawRegion::Ids),
            ),
            (
                "landcover_kinds",
                self.landcover_kinds.as_deref().map(RawRegion::Kinds),
            ),
        ])
    }
}

impl LossSection {
    fn region_keys(&self) -> Vec<(&'static str, RawRegion<'_>)> {
        given([
            ("polygon", self.polygon.as_deref().map(RawRegion::Polygon)),
            (
                "zones_file",
                self.zones_file.as_deref().map(RawRegion::File),
            ),
            (
                "landcover_ids",
                self.landcover_ids.as_deref().map(RawRegion::Ids),
            ),
            (
                "landcover_kinds",
                self.landcover_kinds.as_deref().map(RawRegion::Kinds),
            ),
        ])
    }
}

/// `a`, `b` or `c`.
fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Validation context: the scenario file (for messages) and its folder (for paths).
struct Cx<'a> {
    path: &'a Path,
    base: &'a Path,
}

impl Cx<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> Error {
        field_err(self.path, field, message)
    }

    /// `v` if `ok`, else "must be `range`, got v".
    fn check(&self, field: &str, v: f64, ok: bool, range: &str) -> Result<f64> {
        if ok {
            Ok(v)
        } else {
            Err(self.err(field, format!("must be {range}, got {v}")))
        }
    }
    fn positive(&self, field: &str, v: f64) -> Result<f64> {
        self.check(field, v, v > 0.0 && v.is_finite(), "a positive number")
    }
    fn non_negative(&self, field: &str, v: f64) -> Result<f64> {
        self.check(field, v, v >= 0.0 && v.is_finite(), "a number >= 0")
    }
    fn finite(&self, field: &str, v: f64) -> Result<f64> {
        self.check(field, v, v.is_finite(), "a finite number")
    }

    fn required<T>(&self, field: &str, v: Option<T>, what: &str) -> Result<T> {
        v.ok_or_else(|| self.err(field, format!("missing: {what} is required")))
    }
    /// A required, non-empty id.
    fn id(&self, field: &str, id: Option<&str>) -> Result<String> {
        let id = self.required(field, id, "an id")?;
        if id.trim().is_empty() {
            return Err(self.err(field, "must not be empty"));
        }
        Ok(id.to_string())
    }

    /// `p` resolved; it must be an existing file.
    fn file(&self, field: &str, p: &Path) -> Result<PathBuf> {
        let f = resolve_path(self.base, p);
        if !f.is_file() {
            return Err(self.err(field, format!("file {} does not exist", f.display())));
        }
        Ok(f)
    }
    fn files(&self, field: &str, ps: &[PathBuf]) -> Result<Vec<PathBuf>> {
        ps.iter()
            .enumerate()
            .map(|(i, p)| self.file(&format!("{field}[{i}]"), p))
            .collect()
    }
    /// An existing raster file that `read_raster` can read (by its extension).
    fn raster(&self, field: &str, p: &Path) -> Result<PathBuf> {
        let f = self.file(field, p)?;
        let ext = f
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if !matches!(ext.as_deref(), Some("tif" | "tiff" | "asc")) {
            return Err(self.err(
                field,
                format!(
                    "{} is not a raster: expected a GeoTIFF (.tif, .tiff) or an ESRI ASCII grid (.asc)",
                    f.display()
                ),
            ));
        }
        Ok(f)
    }

    fn point(&self, field: &str, p: P2) -> Result<P2> {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return Err(self.err(
                field,
                format!("must be a point [x, y] of finite coordinates, got {p:?}"),
            ));
        }
        Ok(p)
    }
    /// A polyline of at least 2 finite points and non-zero length.
    fn line(&self, field: &str, pts: &[P2]) -> Result<Vec<P2>> {
        let finite = pts.iter().all(|p| p[0].is_finite() && p[1].is_finite());
        if pts.len() < 2 || !finite || pts.windows(2).all(|w| w[0] == w[1]) {
            return Err(self.err(
                field,
                "must be a line of at least 2 finite points [x, y] with a non-zero length",
            ));
        }
        Ok(pts.to_vec())
    }

    /// The region of the entry at `at` from its region keys.
    fn region(
        &self,
        at: &str,
        keys: Vec<(&'static str, RawRegion)>,
        none: NoRegion,
    ) -> Result<RegionSpec> {
        let mut keys = keys.into_iter();
        let (key, raw) = match (keys.next(), keys.next()) {
            (None, _) => {
                return match none {
                    NoRegion::All => Ok(RegionSpec::All),
                    NoRegion::Required(allowed) => Err(self.err(
                        at,
                        format!("missing region: give one of {}", one_of(allowed)),
                    )),
                };
            }
            (Some(one), None) => one,
            (Some((a, _)), Some((b, _))) => {
                return Err(self.err(
                    at,
                    format!("`{a}` and `{b}` both give the region; give only one"),
                ));
            }
        };
        let field = format!("{at}.{key}");
        Ok(match raw {
            RawRegion::Point(p) => RegionSpec::Point(self.point(&field, p)?),
            RawRegion::Circle(c) => RegionSpec::Circle {
                center: self.point(&format!("{field}.center"), c.center)?,
                radius_m: self.positive(&format!("{field}.radius_m"), c.radius_m)?,
            },
            RawRegion::Polygon(ring) => RegionSpec::Polygon(check_polygon(
                self.path,
                &field,
                Polygon::new(ring.to_vec()),
            )?),
            RawRegion::Polyline(line) => RegionSpec::Polyline(self.line(&field, line)?),
            RawRegion::File(f) => RegionSpec::File(self.file(&field, f)?),
            RawRegion::Ids(ids) => {
                if ids.is_empty() {
                    return Err(self.err(&field, "must list at least one land-cover zone id"));
                }
                if let Some(i) = ids.iter().position(|id| id.trim().is_empty()) {
                    return Err(self.err(&format!("{field}[{i}]"), "must not be empty"));
                }
                RegionSpec::LandCoverIds(ids.to_vec())
            }
            RawRegion::Kinds(kinds) => {
                if kinds.is_empty() {
                    return Err(self.err(&field, "must list at least one land-cover kind"));
                }
                let kinds = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        LandCover::parse(k).ok_or_else(|| {
                            self.err(
                                &format!("{field}[{i}]"),
                                format!(
                                    "unknown land-cover kind `{k}`; expected one of {}",
                                    LandCover::ALL.map(LandCover::as_str).join(", ")
                                ),
                            )
                        })
                    })
                    .collect::<Result<_>>()?;
                RegionSpec::LandCoverKinds(kinds)
            }
        })
    }

    /// The one series of the entry at `at`, and the field it came from.
    fn series(
        &self,
        at: &str,
        k: SeriesKeys,
        default: Interpolation,
    ) -> Result<(TimeSeries, String)> {
        let mut given = k.given.into_iter();
        let (key, raw) = match (given.next(), given.next()) {
            (None, _) => {
                return Err(self.err(at, format!("missing series: give {}", one_of(k.keys))));
            }
            (Some(one), None) => one,
            (Some((a, _)), Some((b, _))) => {
                return Err(self.err(
                    at,
                    format!("`{a}` and `{b}` both give the series; give only one"),
                ));
            }
        };
        let field = |key: &str| format!("{at}.{key}");
        if !matches!(raw, RawSeries::File(_)) {
            for (name, set) in [
                ("series_column", k.column.is_some()),
                ("series_scale", k.scale.is_some()),
                ("series_offset", k.offset.is_some()),
            ] {
                if set {
                    return Err(self.err(&field(name), "applies to `series_file` only"));
                }
            }
        }
        let interpolation = k.interpolation.unwrap_or(default);
        let source = field(key);
        let series = match raw {
            RawSeries::Points(pts) => {
                let pts: Vec<(f64, f64)> = pts.iter().map(|p| (p[0], p[1])).collect();
                TimeSeries::new(&pts, interpolation, k.what)
            }
            RawSeries::File(file) => {
                let scale = self.finite(&field("series_scale"), k.scale.unwrap_or(1.0))?;
                let offset = self.finite(&field("series_offset"), k.offset.unwrap_or(0.0))?;
                let file = self.file(&source, file)?;
                timeseries::read_csv(&file, k.column, interpolation, scale, offset)
            }
            RawSeries::StormTide(st) => {
                if k.interpolation.is_some() {
                    return Err(self.err(
                        &field("interpolation"),
                        "a storm tide is always linear; remove `interpolation`",
                    ));
                }
                st.series(k.what)
            }
        }
        .map_err(|e| self.err(&source, e.to_string()))?;
        Ok((series, source))
    }

    /// No value of the series below 0.
    fn non_negative_series(&self, field: &str, s: &TimeSeries, unit: &str) -> Result<()> {
        match s.times_s().iter().zip(s.values()).find(|(_, v)| **v < 0.0) {
            Some((t, v)) => Err(self.err(
                field,
                format!("{v} {unit} at t = {t} s: values must be >= 0 {unit}"),
            )),
            None => Ok(()),
        }
    }

    fn numerics(&self, n: &FloodNumericsSection) -> Result<FloodNumerics> {
        let d = FloodNumerics::default();
        let f = |k: &str| format!("flood.numerics.{k}");
        let theta = n.theta.unwrap_or(d.theta);
        let courant = n.courant.unwrap_or(d.courant);
        let dry_depth_m = n.dry_depth_m.unwrap_or(d.dry_depth_m);
        let max_dt_s = self.positive(&f("max_dt_s"), n.max_dt_s.unwrap_or(d.max_dt_s))?;
        let min_dt_s = n.min_dt_s.unwrap_or(d.min_dt_s);
        Ok(FloodNumerics {
            theta: self.check(
                &f("theta"),
                theta,
                (0.5..=1.0).contains(&theta),
                "in [0.5, 1]",
            )?,
            courant: self.check(
                &f("courant"),
                courant,
                courant > 0.0 && courant <= 1.0,
                "in (0, 1]",
            )?,
            froude_max: self.positive(&f("froude_max"), n.froude_max.unwrap_or(d.froude_max))?,
            dry_depth_m: self.check(
                &f("dry_depth_m"),
                dry_depth_m,
                dry_depth_m > 0.0 && dry_depth_m < 1.0,
                "in (0, 1) m",
            )?,
            max_dt_s,
            min_dt_s: self.check(
                &f("min_dt_s"),
                min_dt_s,
                min_dt_s > 0.0 && min_dt_s < max_dt_s,
                &format!("in (0, {max_dt_s}) s (below `max_dt_s`)"),
            )?,
        })
    }

    fn edges(&self, v: Option<&toml::Value>) -> Result<Edges> {
        let kind = |field: &str, v: &toml::Value, expected: &str| match v.as_str() {
            Some("closed") => Ok(EdgeKind::Closed),
            Some("open") => Ok(EdgeKind::Open),
            _ => Err(self.err(field, format!("must be {expected}, got {v}"))),
        };
        match v {
            None => Ok(Edges::uniform(EdgeKind::Closed)),
            Some(toml::Value::Table(sides)) => {
                let mut e = Edges::uniform(EdgeKind::Closed);
                for (side, v) in sides {
                    let field = format!("flood.edges.{side}");
                    let slot = match side.as_str() {
                        "north" => &mut e.north,
                        "east" => &mut e.east,
                        "south" => &mut e.south,
                        "west" => &mut e.west,
                        _ => {
                            return Err(self
                                .err(&field, "unknown side; expected north, east, south or west"));
                        }
                    };
                    *slot = kind(&field, v, "\"closed\" or \"open\"")?;
                }
                Ok(e)
            }
            Some(v) => kind(
                "flood.edges",
                v,
                "\"closed\", \"open\" or a table of sides like { north = \"open\" }",
            )
            .map(Edges::uniform),
        }
    }
}

/// Check the syntax of an RFC 3339 date-time: `YYYY-MM-DD`, `T`, `hh:mm:ss` with optional
/// fraction, then `Z` or `±hh:mm` (`T` and `Z` in either case, as the RFC allows).
fn check_rfc3339(s: &str) -> std::result::Result<(), String> {
    let shape = || {
        format!(
            "`{s}` is not an RFC 3339 date and time like 2026-12-01T00:00:00+01:00 \
             (date, 'T', time, then 'Z' or an offset ±hh:mm)"
        )
    };
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let d = b.get(from..from + len)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0, |n, c| n * 10 + u32::from(c - b'0')))
    };
    let is = |i: usize, set: &[u8]| b.get(i).is_some_and(|c| set.contains(c));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0, 4),
        num(5, 2),
        num(8, 2),
        num(11, 2),
        num(14, 2),
        num(17, 2),
    ) else {
        return Err(shape());
    };
    if !(is(4, b"-") && is(7, b"-") && is(10, b"Tt") && is(13, b":") && is(16, b":")) {
        return Err(shape());
    }
    let mut i = 19;
    if is(i, b".") {
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(shape());
        }
        i += digits;
    }
    match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => {}
        Some(b'+' | b'-') if b.len() == i + 6 && is(i + 3, b":") => {
            let (Some(oh), Some(om)) = (num(i + 1, 2), num(i + 4, 2)) else {
                return Err(shape());
            };
            if oh > 23 || om > 59 {
                return Err(format!("`{s}`: the offset is out of range"));
            }
        }
        _ => return Err(shape()),
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("`{s}`: month {month} is not 1 to 12")),
    };
    if !(1..=days).contains(&day) {
        return Err(format!("`{s}`: day {day} is not in 1 to {days}"));
    }
    // Second 60 is a leap second.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("`{s}`: the time of day is out of range"));
    }
    Ok(())
}

/// Distance from `p` to a polyline.
fn distance_to_line(p: P2, line: &[P2]) -> f64 {
    line.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let d = [b[0] - a[0], b[1] - a[1]];
            let len2 = d[0] * d[0] + d[1] * d[1];
            let t = if len2 > 0.0 {
                (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (p[0] - a[0] - t * d[0]).hypot(p[1] - a[1] - t * d[1])
        })
        .fold(f64::INFINITY, f64::min)
}

/// Validate `[flood]` of the scenario file `path`, whose folder is `base`.
pub(super) fn validate(f: FloodSection, path: &Path, base: &Path) -> Result<FloodSpec> {
    let cx = Cx { path, base };

    let dem = f
        .dem
        .as_deref()
        .map(|d| cx.raster("flood.dem", d))
        .transpose()?;
    let cell_m = f
        .cell_m
        .map(|c| cx.check("flood.cell_m", c, c > 0.0 && c <= 100.0, "in (0, 100] m"))
        .transpose()?;
    let bbox = f
        .bbox
        .map(|b| check_bbox(path, "flood.bbox", b))
        .transpose()?;
    let duration_s = cx.required(
        "flood.duration_s",
        f.duration_s,
        "the length of the run in seconds",
    )?;
    let duration_s = cx.check(
        "flood.duration_s",
        duration_s,
        duration_s > 0.0 && duration_s <= MAX_DURATION_S,
        &format!("in (0, {MAX_DURATION_S}] s (at most 30 days)"),
    )?;
    let within_run = format!("in (0, {duration_s}] s (at most `duration_s`)");
    let output_interval_s = f.output_interval_s.unwrap_or(duration_s.min(600.0));
    let output_interval_s = cx.check(
        "flood.output_interval_s",
        output_interval_s,
        output_interval_s > 0.0 && output_interval_s <= duration_s,
        &within_run,
    )?;
    let gauge_interval_s = f.gauge_interval_s.unwrap_or(output_interval_s.min(60.0));
    let gauge_interval_s = cx.check(
        "flood.gauge_interval_s",
        gauge_interval_s,
        gauge_interval_s > 0.0 && gauge_interval_s <= duration_s,
        &within_run,
    )?;
    if let Some(t) = &f.start_time {
        check_rfc3339(t).map_err(|m| cx.err("flood.start_time", m))?;
    }
    let initial_depth = f
        .initial_depth
        .as_deref()
        .map(|d| cx.raster("flood.initial_depth", d))
        .transpose()?;
    let numerics = cx.numerics(&f.numerics)?;

    let manning_n = f.manning_n.unwrap_or(0.035);
    let manning_n = cx.check(
        "flood.manning_n",
        manning_n,
        manning_n > 0.0 && manning_n <= 1.0,
        "in (0, 1] s/m^(1/3)",
    )?;
    let roughness_files = cx.files("flood.roughness_files", &f.roughness_files)?;
    let buildings = match f.buildings.as_deref() {
        None => BuildingMode::Blocked,
        Some(b) => BuildingMode::ALL
            .iter()
            .find(|(name, _)| *name == b)
            .map(|&(_, mode)| mode)
            .ok_or_else(|| {
                cx.err(
                    "flood.buildings",
                    format!("unknown building mode `{b}`; expected blocked, raised or ignore"),
                )
            })?,
    };
    let building_files = cx.files("flood.building_files", &f.building_files)?;
    let building_height_m = cx.positive(
        "flood.building_height_m",
        f.building_height_m.unwrap_or(10.0),
    )?;
    let weir_cd = f.weir_cd.unwrap_or(1.0);
    let weir_cd = cx.check(
        "flood.weir_cd",
        weir_cd,
        weir_cd > 0.0 && weir_cd <= 1.5,
        "in (0, 1.5]",
    )?;
    let edges = cx.edges(f.edges.as_ref())?;
    let arrival_depth_m = cx.positive("flood.arrival_depth_m", f.arrival_depth_m.unwrap_or(0.1))?;

    let mut rain = Vec::with_capacity(f.rain.len());
    for (i, r) in f.rain.iter().enumerate() {
        let at = format!("flood.rain[{i}]");
        let region = cx.region(&at, r.region_keys(), NoRegion::All)?;
        let (mm_h, source) = cx.series(&at, r.series_keys(), Interpolation::Step)?;
        cx.non_negative_series(&source, &mm_h, "mm/h")?;
        rain.push(RainSpec { region, mm_h });
    }

    let mut inflows = Vec::with_capacity(f.inflow.len());
    let mut ids = BTreeSet::new();
    for (i, q) in f.inflow.iter().enumerate() {
        let at = format!("flood.inflow[{i}]");
        let id = match q.id.as_deref() {
            Some(id) => cx.id(&format!("{at}.id"), Some(id))?,
            None => format!("inflow-{}", i + 1),
        };
        if !ids.insert(id.clone()) {
            return Err(cx.err(
                &format!("{at}.id"),
                format!("`{id}` is the id of another inflow"),
            ));
        }
        let region = cx.region(
            &at,
            q.region_keys(),
            NoRegion::Required(&["point", "circle", "polygon", "zones_file"]),
        )?;
        let (m3_s, source) = cx.series(&at, q.series_keys(), Interpolation::Linear)?;
        cx.non_negative_series(&source, &m3_s, "m3/s")?;
        inflows.push(InflowSpec { id, region, m3_s });
    }

    let mut water_levels = Vec::with_capacity(f.water_level.len());
    let mut ids = BTreeSet::new();
    for (i, w) in f.water_level.iter().enumerate() {
        let at = format!("flood.water_level[{i}]");
        let id = match w.id.as_deref() {
            Some(id) => cx.id(&format!("{at}.id"), Some(id))?,
            None => format!("water-level-{}", i + 1),
        };
        if !ids.insert(id.clone()) {
            return Err(cx.err(
                &format!("{at}.id"),
                format!("`{id}` is the id of another water level"),
            ));
        }
        let region = cx.region(
            &at,
            w.region_keys(),
            NoRegion::Required(&[
                "polyline",
                "polygon",
                "zones_file",
                "landcover_ids",
                "landcover_kinds",
            ]),
        )?;
        let (z_m, _) = cx.series(&at, w.series_keys(), Interpolation::Linear)?;
        water_levels.push(WaterLevelSpec {
            id,
            region,
            z_m,
            extend_to_barriers: w.extend_to_barriers,
        });
    }

    let mut losses = Vec::with_capacity(f.losses.len());
    for (i, l) in f.losses.iter().enumerate() {
        let at = format!("flood.losses[{i}]");
        let field = |k: &str| format!("{at}.{k}");
        let infiltration = match (l.infiltration_mm_h, &l.green_ampt) {
            (Some(_), Some(_)) => {
                return Err(cx.err(
                    &at,
                    "`infiltration_mm_h` and `green_ampt` both give the infiltration; give only one",
                ));
            }
            (Some(r), None) => Infiltration::Constant {
                mm_h: cx.non_negative(&field("infiltration_mm_h"), r)?,
            },
            (None, Some(g)) => Infiltration::GreenAmpt {
                ks_mm_h: cx.non_negative(&field("green_ampt.ks_mm_h"), g.ks_mm_h)?,
                suction_mm: cx.non_negative(&field("green_ampt.suction_mm"), g.suction_mm)?,
                moisture_deficit: cx.check(
                    &field("green_ampt.moisture_deficit"),
                    g.moisture_deficit,
                    g.moisture_deficit > 0.0 && g.moisture_deficit <= 1.0,
                    "in (0, 1]",
                )?,
            },
            (None, None) if l.sewer_mm_h.is_none() => {
                return Err(cx.err(
                    &at,
                    "no loss: give at least one of `infiltration_mm_h`, `green_ampt` and `sewer_mm_h`",
                ));
            }
            (None, None) => Infiltration::None,
        };
        let sewer_mm_h = l
            .sewer_mm_h
            .map(|s| cx.non_negative(&field("sewer_mm_h"), s))
            .transpose()?
            .unwrap_or(0.0);
        let region = cx.region(&at, l.region_keys(), NoRegion::All)?;
        losses.push(LossSpec {
            region,
            infiltration,
            sewer_mm_h,
        });
    }

    let mut barriers: Vec<BarrierSpec> = Vec::with_capacity(f.barrier.len());
    for (i, b) in f.barrier.iter().enumerate() {
        let field = |k: &str| format!("flood.barrier[{i}].{k}");
        let id = cx.id(&field("id"), b.id.as_deref())?;
        if barriers.iter().any(|o| o.id == id) {
            return Err(cx.err(
                &field("id"),
                format!("`{id}` is the id of another [[flood.barrier]]"),
            ));
        }
        let line = cx.required(&field("line"), b.line.as_deref(), "the barrier's line")?;
        let crest_z = cx.required(&field("crest_z"), b.crest_z, "the crest elevation")?;
        barriers.push(BarrierSpec {
            line: cx.line(&field("line"), line)?,
            crest_z: cx.finite(&field("crest_z"), crest_z)?,
            active_from_s: b
                .active_from_s
                .map(|t| cx.non_negative(&field("active_from_s"), t))
                .transpose()?,
            id,
        });
    }

    let mut breaches = Vec::with_capacity(f.breach.len());
    for (i, b) in f.breach.iter().enumerate() {
        let field = |k: &str| format!("flood.breach[{i}].{k}");
        let barrier = cx.id(&field("barrier"), b.barrier.as_deref())?;
        let at = cx.required(&field("at"), b.at, "a point on the barrier")?;
        let width_m = cx.required(&field("width_m"), b.width_m, "the breach width")?;
        let bottom_z = cx.required(&field("bottom_z"), b.bottom_z, "the final crest")?;
        let start_s = cx.required(&field("start_s"), b.start_s, "the start time")?;
        let breach = BreachSpec {
            at: cx.point(&field("at"), at)?,
            width_m: cx.positive(&field("width_m"), width_m)?,
            bottom_z: cx.finite(&field("bottom_z"), bottom_z)?,
            start_s: cx.non_negative(&field("start_s"), start_s)?,
            duration_s: cx.non_negative(&field("duration_s"), b.duration_s.unwrap_or(600.0))?,
            cross_m: cx.positive(&field("cross_m"), b.cross_m.unwrap_or(30.0))?,
            barrier,
        };
        // City barriers are only known at run time; extra barriers are checked here.
        if let Some(wall) = barriers.iter().find(|w| w.id == breach.barrier) {
            if breach.bottom_z >= wall.crest_z {
                return Err(cx.err(
                    &field("bottom_z"),
                    format!(
                        "{} m is not below the crest {} m of barrier `{}`",
                        breach.bottom_z, wall.crest_z, wall.id
                    ),
                ));
            }
            let d = distance_to_line(breach.at, &wall.line);
            if d > 0.5 * breach.cross_m {
                return Err(cx.err(
                    &field("at"),
                    format!(
                        "{d:.1} m from the line of barrier `{}`; must be within `cross_m` / 2 = {} m of it",
                        wall.id,
                        0.5 * breach.cross_m
                    ),
                ));
            }
            if let Some(up) = wall.active_from_s
                && breach.start_s < up
            {
                return Err(cx.err(
                    &field("start_s"),
                    format!(
                        "the breach starts at {} s, before barrier `{}` is up at {up} s",
                        breach.start_s, wall.id
                    ),
                ));
            }
        }
        breaches.push(breach);
    }

    let mut gauges: Vec<GaugeSpec> = Vec::with_capacity(f.gauge.len());
    for (i, g) in f.gauge.iter().enumerate() {
        let field = |k: &str| format!("flood.gauge[{i}].{k}");
        let id = cx.id(&field("id"), g.id.as_deref())?;
        if gauges.iter().any(|o| o.id == id) {
            return Err(cx.err(&field("id"), format!("`{id}` is the id of another gauge")));
        }
        let at = cx.required(&field("at"), g.at, "the gauge's point")?;
        gauges.push(GaugeSpec {
            at: cx.point(&field("at"), at)?,
            id,
        });
    }

    Ok(FloodSpec {
        dem,
        cell_m,
        bbox,
        duration_s,
        output_interval_s,
        gauge_interval_s,
        start_time: f.start_time,
        initial_depth,
        numerics,
        manning_n,
        use_city_landcover: f.use_city_landcover,
        roughness_files,
        buildings,
        use_city_buildings: f.use_city_buildings,
        building_files,
        building_height_m,
        use_city_barriers: f.use_city_barriers,
        weir_cd,
        edges,
        arrival_depth_m,
        outputs: FloodOutputs {
            snapshots: f.outputs.snapshots.unwrap_or(true),
            png: f.outputs.png.unwrap_or(true),
            hazard: f.outputs.hazard.unwrap_or(true),
        },
        rain,
        inflows,
        water_levels,
        losses,
        barriers,
        breaches,
        gauges,
        use_city_gauges: f.use_city_gauges,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{CitySpec, Scenario, parse};
    use super::*;

    const HEAD: &str = "[scenario]\nname = \"flood\"\n";

    fn p() -> &'static Path {
        Path::new("/tmp/s.toml")
    }

    fn flood(text: &str, path: &Path) -> Result<Scenario> {
        parse(&format!("{HEAD}{text}"), path)
    }

    fn ts(points: &[(f64, f64)], interpolation: Interpolation) -> TimeSeries {
        TimeSeries::new(points, interpolation, "test").unwrap()
    }

    /// A folder with the files the full example names.
    fn files() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "dgm1.tif",
            "hot.asc",
            "zones.geojson",
            "rough.geojson",
            "more.geojson",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::write(
            dir.path().join("rain.csv"),
            "# radar, mm per 5 minutes\ntime_s,mm_5min,quality\n0,2.5,1\n300,0,1\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("pegel.csv"), "t_s,w_cm\n0,500\n3600,650\n").unwrap();
        dir
    }

    const FULL: &str = r#"
[flood]
dem = "dgm1.tif"
cell_m = 2.0
bbox = [0.0, 0.0, 1000.0, 800.0]
duration_s = 43200.0
output_interval_s = 900.0
gauge_interval_s = 30.0
start_time = "2026-12-01T00:00:00+01:00"
initial_depth = "hot.asc"
manning_n = 0.04
use_city_landcover = false
roughness_files = ["rough.geojson"]
buildings = "raised"
use_city_buildings = false
building_files = ["more.geojson"]
building_height_m = 12.0
use_city_barriers = false
weir_cd = 0.9
edges = { north = "open", west = "open" }
arrival_depth_m = 0.05
use_city_gauges = false

[flood.numerics]
theta = 0.9
courant = 0.5
froude_max = 1e9
dry_depth_m = 0.002
max_dt_s = 5.0
min_dt_s = 0.001

[flood.outputs]
snapshots = false
png = false
hazard = false

[[flood.rain]]
series_mm_h = [[0.0, 29.0], [3600.0, 0.0]]

[[flood.rain]]
series_file = "rain.csv"
series_column = "mm_5min"
series_scale = 12.0
series_offset = 0.0
interpolation = "linear"
polygon = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]

[[flood.rain]]
series_mm_h = [[0.0, 5.0]]
zones_file = "zones.geojson"

[[flood.rain]]
series_mm_h = [[0.0, 5.0]]
landcover_ids = ["park-1"]

[[flood.rain]]
series_mm_h = [[0.0, 5.0]]
landcover_kinds = ["park", "grass"]

[[flood.inflow]]
id = "pump-1"
series_m3_s = [[0.0, 0.0], [600.0, 5.0]]
point = [100.0, 200.0]

[[flood.inflow]]
series_m3_s = [[0.0, 1.0]]
interpolation = "step"
circle = { center = [50.0, 60.0], radius_m = 20.0 }

[[flood.inflow]]
series_m3_s = [[0.0, 1.0]]
polygon = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]

[[flood.inflow]]
series_m3_s = [[0.0, 1.0]]
zones_file = "zones.geojson"

[[flood.water_level]]
id = "elbe"
series_m = [[0.0, 1.0], [3600.0, 2.0]]
polyline = [[0.0, 0.0], [0.0, 800.0]]

[[flood.water_level]]
series_file = "pegel.csv"
series_scale = 0.01
series_offset = -5.0
polygon = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]

[[flood.water_level]]
storm_tide = { peak_z = 8.1, peak_s = 21600.0, end_s = 43200.0 }
zones_file = "zones.geojson"

[[flood.water_level]]
series_m = [[0.0, -1.5]]
landcover_ids = ["water-river"]

[[flood.water_level]]
series_m = [[0.0, -1.5]]
landcover_kinds = ["water"]

[[flood.losses]]
infiltration_mm_h = 5.0
sewer_mm_h = 15.0

[[flood.losses]]
green_ampt = { ks_mm_h = 10.0, suction_mm = 110.0, moisture_deficit = 0.3 }
landcover_kinds = ["park", "grass"]

[[flood.losses]]
sewer_mm_h = 20.0
polygon = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]

[[flood.losses]]
infiltration_mm_h = 1.0
zones_file = "zones.geojson"

[[flood.losses]]
infiltration_mm_h = 1.0
landcover_ids = ["park-1"]

[[flood.barrier]]
id = "mobile-wall-1"
line = [[0.0, 100.0], [200.0, 100.0]]
crest_z = 8.5
active_from_s = 3600.0

[[flood.barrier]]
id = "wall-2"
line = [[0.0, 300.0], [200.0, 300.0]]
crest_z = 9.0

[[flood.breach]]
barrier = "dike-low-1"
at = [500.0, 400.0]
width_m = 50.0
bottom_z = 2.0
start_s = 20000.0
duration_s = 1800.0
cross_m = 40.0

[[flood.breach]]
barrier = "mobile-wall-1"
at = [100.0, 105.0]
width_m = 10.0
bottom_z = 1.0
start_s = 7200.0

[[flood.gauge]]
id = "polder-1"
at = [300.0, 200.0]

[[flood.gauge]]
id = "polder-2"
at = [310.0, 200.0]
"#;

    #[test]
    fn full_example_parses_to_the_expected_values() {
        let dir = files();
        let d = dir.path();
        let s = flood(FULL, &d.join("s.toml")).unwrap();
        // A DEM in [flood] and no [city] table: no city.
        assert_eq!(s.city, CitySpec::None);
        let tri = Polygon::new(vec![[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]);
        let square = Polygon::new(vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]);
        let five = ts(&[(0.0, 5.0)], Interpolation::Step);
        let one = ts(&[(0.0, 1.0)], Interpolation::Linear);
        let low = ts(&[(0.0, -1.5)], Interpolation::Linear);
        let zones = RegionSpec::File(d.join("zones.geojson"));
        let tide = StormTide {
            peak_z: 8.1,
            peak_s: 21600.0,
            mean_z: 0.2,
            tidal_range_m: 3.7,
            period_s: 44_712.0,
            surge_duration_s: 36_000.0,
            step_s: 300.0,
            end_s: 43200.0,
        }
        .series("water level")
        .unwrap();
        let expected = FloodSpec {
            dem: Some(d.join("dgm1.tif")),
            cell_m: Some(2.0),
            bbox: Some(BBox2 {
                min: [0.0, 0.0],
                max: [1000.0, 800.0],
            }),
            duration_s: 43200.0,
            output_interval_s: 900.0,
            gauge_interval_s: 30.0,
            start_time: Some("2026-12-01T00:00:00+01:00".into()),
            initial_depth: Some(d.join("hot.asc")),
            numerics: FloodNumerics {
                theta: 0.9,
                courant: 0.5,
                froude_max: 1e9,
                dry_depth_m: 0.002,
                max_dt_s: 5.0,
                min_dt_s: 0.001,
            },
            manning_n: 0.04,
            use_city_landcover: false,
            roughness_files: vec![d.join("rough.geojson")],
            buildings: BuildingMode::Raised,
            use_city_buildings: false,
            building_files: vec![d.join("more.geojson")],
            building_height_m: 12.0,
            use_city_barriers: false,
            weir_cd: 0.9,
            edges: Edges {
                north: EdgeKind::Open,
                east: EdgeKind::Closed,
                south: EdgeKind::Closed,
                west: EdgeKind::Open,
            },
            arrival_depth_m: 0.05,
            outputs: FloodOutputs {
                snapshots: false,
                png: false,
                hazard: false,
            },
            rain: vec![
                RainSpec {
                    region: RegionSpec::All,
                    mm_h: ts(&[(0.0, 29.0), (3600.0, 0.0)], Interpolation::Step),
                },
                RainSpec {
                    region: RegionSpec::Polygon(square),
                    mm_h: ts(&[(0.0, 30.0), (300.0, 0.0)], Interpolation::Linear),
                },
                RainSpec {
                    region: zones.clone(),
                    mm_h: five.clone(),
                },
                RainSpec {
                    region: RegionSpec::LandCoverIds(vec!["park-1".into()]),
                    mm_h: five.clone(),
                },
                RainSpec {
                    region: RegionSpec::LandCoverKinds(vec![LandCover::Park, LandCover::Grass]),
                    mm_h: five,
                },
            ],
            inflows: vec![
                InflowSpec {
                    id: "pump-1".into(),
                    region: RegionSpec::Point([100.0, 200.0]),
                    m3_s: ts(&[(0.0, 0.0), (600.0, 5.0)], Interpolation::Linear),
                },
                InflowSpec {
                    id: "inflow-2".into(),
                    region: RegionSpec::Circle {
                        center: [50.0, 60.0],
                        radius_m: 20.0,
                    },
                    m3_s: ts(&[(0.0, 1.0)], Interpolation::Step),
                },
                InflowSpec {
                    id: "inflow-3".into(),
                    region: RegionSpec::Polygon(tri.clone()),
                    m3_s: one.clone(),
                },
                InflowSpec {
                    id: "inflow-4".into(),
                    region: zones.clone(),
                    m3_s: one,
                },
            ],
            water_levels: vec![
                WaterLevelSpec {
                    id: "elbe".into(),
                    region: RegionSpec::Polyline(vec![[0.0, 0.0], [0.0, 800.0]]),
                    z_m: ts(&[(0.0, 1.0), (3600.0, 2.0)], Interpolation::Linear),
                    extend_to_barriers: false,
                },
                WaterLevelSpec {
                    id: "water-level-2".into(),
                    region: RegionSpec::Polygon(tri.clone()),
                    z_m: ts(&[(0.0, 0.0), (3600.0, 1.5)], Interpolation::Linear),
                    extend_to_barriers: false,
                },
                WaterLevelSpec {
                    id: "water-level-3".into(),
                    region: zones.clone(),
                    z_m: tide,
                    extend_to_barriers: false,
                },
                WaterLevelSpec {
                    id: "water-level-4".into(),
                    region: RegionSpec::LandCoverIds(vec!["water-river".into()]),
                    z_m: low.clone(),
                    extend_to_barriers: false,
                },
                WaterLevelSpec {
                    id: "water-level-5".into(),
                    region: RegionSpec::LandCoverKinds(vec![LandCover::Water]),
                    z_m: low,
                    extend_to_barriers: false,
                },
            ],
            losses: vec![
                LossSpec {
                    region: RegionSpec::All,
                    infiltration: Infiltration::Constant { mm_h: 5.0 },
                    sewer_mm_h: 15.0,
                },
                LossSpec {
                    region: RegionSpec::LandCoverKinds(vec![LandCover::Park, LandCover::Grass]),
                    infiltration: Infiltration::GreenAmpt {
                        ks_mm_h: 10.0,
                        suction_mm: 110.0,
                        moisture_deficit: 0.3,
                    },
                    sewer_mm_h: 0.0,
                },
                LossSpec {
                    region: RegionSpec::Polygon(tri),
                    infiltration: Infiltration::None,
                    sewer_mm_h: 20.0,
                },
                LossSpec {
                    region: zones,
                    infiltration: Infiltration::Constant { mm_h: 1.0 },
                    sewer_mm_h: 0.0,
                },
                LossSpec {
                    region: RegionSpec::LandCoverIds(vec!["park-1".into()]),
                    infiltration: Infiltration::Constant { mm_h: 1.0 },
                    sewer_mm_h: 0.0,
                },
            ],
            barriers: vec![
                BarrierSpec {
                    id: "mobile-wall-1".into(),
                    line: vec![[0.0, 100.0], [200.0, 100.0]],
                    crest_z: 8.5,
                    active_from_s: Some(3600.0),
                },
                BarrierSpec {
                    id: "wall-2".into(),
                    line: vec![[0.0, 300.0], [200.0, 300.0]],
                    crest_z: 9.0,
                    active_from_s: None,
                },
            ],
            breaches: vec![
                BreachSpec {
                    barrier: "dike-low-1".into(),
                    at: [500.0, 400.0],
                    width_m: 50.0,
                    bottom_z: 2.0,
                    start_s: 20000.0,
                    duration_s: 1800.0,
                    cross_m: 40.0,
                },
                BreachSpec {
                    barrier: "mobile-wall-1".into(),
                    at: [100.0, 105.0],
                    width_m: 10.0,
                    bottom_z: 1.0,
                    start_s: 7200.0,
                    duration_s: 600.0,
                    cross_m: 30.0,
                },
            ],
            gauges: vec![
                GaugeSpec {
                    id: "polder-1".into(),
                    at: [300.0, 200.0],
                },
                GaugeSpec {
                    id: "polder-2".into(),
                    at: [310.0, 200.0],
                },
            ],
            use_city_gauges: false,
        };
        let got = s.flood.unwrap();
        // Compare the CSV-derived series with a tolerance (scale and offset), the rest exactly.
        let level = &got.water_levels[1].z_m;
        assert!((level.values()[1] - 1.5).abs() < 1e-12, "{level:?}");
        let mut got = got;
        got.water_levels[1].z_m = expected.water_levels[1].z_m.clone();
        assert_eq!(got, expected);
    }

    #[test]
    fn defaults() {
        let s = flood("[flood]\nduration_s = 3600.0\n", p()).unwrap();
        // Without a DEM in [flood] the city is the demo city as before.
        assert!(matches!(s.city, CitySpec::Demo { .. }));
        let f = s.flood.unwrap();
        assert_eq!(f.dem, None);
        assert_eq!(f.cell_m, None);
        assert_eq!(f.bbox, None);
        assert_eq!(f.duration_s, 3600.0);
        assert_eq!(f.output_interval_s, 600.0);
        assert_eq!(f.gauge_interval_s, 60.0);
        assert_eq!(f.start_time, None);
        assert_eq!(f.initial_depth, None);
        assert_eq!(f.numerics, FloodNumerics::default());
        assert_eq!(
            f.numerics,
            FloodNumerics {
                theta: 0.7,
                courant: 0.9,
                froude_max: 1.0,
                dry_depth_m: 0.001,
                max_dt_s: 10.0,
                min_dt_s: 0.0001,
            }
        );
        assert_eq!(f.manning_n, 0.035);
        assert!(f.use_city_landcover && f.use_city_buildings && f.use_city_barriers);
        assert!(f.use_city_gauges);
        assert!(f.roughness_files.is_empty() && f.building_files.is_empty());
        assert_eq!(f.buildings, BuildingMode::Blocked);
        assert_eq!(f.building_height_m, 10.0);
        assert_eq!(f.weir_cd, 1.0);
        assert_eq!(f.edges, Edges::uniform(EdgeKind::Closed));
        assert_eq!(f.arrival_depth_m, 0.1);
        assert_eq!(
            f.outputs,
            FloodOutputs {
                snapshots: true,
                png: true,
                hazard: true
            }
        );
        assert!(f.rain.is_empty() && f.inflows.is_empty() && f.water_levels.is_empty());
        assert!(f.losses.is_empty() && f.barriers.is_empty() && f.breaches.is_empty());
        assert!(f.gauges.is_empty());

        // Intervals follow shorter runs; gauge rows follow shorter snapshot intervals.
        let f = flood("[flood]\nduration_s = 300\n", p())
            .unwrap()
            .flood
            .unwrap();
        assert_eq!((f.output_interval_s, f.gauge_interval_s), (300.0, 60.0));
        let f = flood("[flood]\nduration_s = 3600\noutput_interval_s = 20\n", p())
            .unwrap()
            .flood
            .unwrap();
        assert_eq!(f.gauge_interval_s, 20.0);
        let f = flood("[flood]\nduration_s = 3600\nedges = \"open\"\n", p())
            .unwrap()
            .flood
            .unwrap();
        assert_eq!(f.edges, Edges::uniform(EdgeKind::Open));
        // Interpolation defaults: step for rain, linear for inflows and water levels.
        let f = flood(
            "[flood]\nduration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1], [60, 2]]\n\
             [[flood.inflow]]\npoint = [0, 0]\nseries_m3_s = [[0, 1], [60, 2]]\n\
             [[flood.water_level]]\npolyline = [[0, 0], [1, 0]]\nseries_m = [[0, 1], [60, 2]]\n",
            p(),
        )
        .unwrap()
        .flood
        .unwrap();
        assert_eq!(f.rain[0].mm_h.interpolation(), Interpolation::Step);
        assert_eq!(f.inflows[0].m3_s.interpolation(), Interpolation::Linear);
        assert_eq!(f.inflows[0].id, "inflow-1");
        assert_eq!(f.water_levels[0].z_m.interpolation(), Interpolation::Linear);
        assert_eq!(f.water_levels[0].id, "water-level-1");
        // No [flood]: no flood.
        assert_eq!(parse(HEAD, p()).unwrap().flood, None);
    }

    #[test]
    fn relative_paths_are_resolved_against_the_scenario_folder() {
        let dir = files();
        let sub = dir.path().join("scenarios");
        std::fs::create_dir(&sub).unwrap();
        let abs = dir.path().join("more.geojson");
        let s = flood(
            &format!(
                "[flood]\nduration_s = 60\ndem = \"../dgm1.tif\"\nbuilding_files = [{:?}]\n\
                 [[flood.rain]]\nseries_file = \"../rain.csv\"\nseries_column = \"mm_5min\"\n\
                 zones_file = \"../zones.geojson\"\n",
                abs.display().to_string()
            ),
            &sub.join("s.toml"),
        )
        .unwrap();
        let f = s.flood.unwrap();
        assert_eq!(f.dem, Some(sub.join("../dgm1.tif")));
        assert_eq!(f.building_files, vec![abs]);
        assert_eq!(
            f.rain[0].region,
            RegionSpec::File(sub.join("../zones.geojson"))
        );
        // The CSV was read: 2.5 mm per 5 minutes, unscaled.
        assert_eq!(f.rain[0].mm_h.values(), &[2.5, 0.0]);
        assert_eq!(f.rain[0].mm_h.times_s(), &[0.0, 300.0]);
    }

    #[test]
    fn storm_tide_series_peaks_at_peak_z() {
        let f = flood(
            "[flood]\nduration_s = 43200\n[[flood.water_level]]\nlandcover_ids = [\"water-river\"]\n\
             storm_tide = { peak_z = 8.10, peak_s = 21600.0, end_s = 43200.0, step_s = 600.0 }\n",
            p(),
        )
        .unwrap()
        .flood
        .unwrap();
        let z = &f.water_levels[0].z_m;
        assert_eq!(z.range().1, 8.10);
        assert_eq!(z.value_at(21600.0), 8.10);
        assert_eq!(z.interpolation(), Interpolation::Linear);
        assert_eq!(*z.times_s().last().unwrap(), 43200.0);
        assert_eq!(z.times_s()[1], 600.0);
    }

    #[test]
    fn a_dem_alone_makes_no_city() {
        let dir = files();
        let s = flood(
            "[flood]\ndem = \"dgm1.tif\"\nduration_s = 60\n",
            &dir.path().join("s.toml"),
        )
        .unwrap();
        assert_eq!(s.city, CitySpec::None);
        // With a [city] table the city is what it says, and the flood DEM replaces its terrain.
        let s = flood(
            "[city.demo]\nseed = 3\n[flood]\ndem = \"dgm1.tif\"\nduration_s = 60\n",
            &dir.path().join("s.toml"),
        )
        .unwrap();
        assert!(matches!(s.city, CitySpec::Demo { seed: 3, .. }));
    }

    #[test]
    fn rfc3339_syntax() {
        for ok in [
            "2026-12-01T00:00:00+01:00",
            "2026-12-01T00:00:00Z",
            "2026-12-01t23:59:59.125z",
            "2024-02-29T12:00:00-03:30",
            "2016-12-31T23:59:60Z",
        ] {
            assert_eq!(check_rfc3339(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "2026-12-01",
            "2026-12-01 00:00:00Z",
            "2026-12-01T00:00:00",
            "2026-12-01T00:00Z",
            "2026-12-01T00:00:00.Z",
            "2026-12-01T00:00:00+0100",
            "2026-12-01T00:00:00+01:00 ",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-12-00T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T00:60:00Z",
            "2026-12-01T00:00:00+24:00",
            "２026-12-01T00:00:00Z",
        ] {
            assert!(check_rfc3339(bad).is_err(), "{bad}");
        }
    }

    /// Bad `[flood]` bodies and what their errors must contain.
    const BAD: &[(&str, &[&str])] = &[
        ("duration_s = 2600000", &["flood.duration_s", "30 days"]),
        ("duration_s = 0", &["flood.duration_s", "(0, 2592000]"]),
        (
            "duration_s = 3600\noutput_interval_s = 7200",
            &["flood.output_interval_s", "(0, 3600]"],
        ),
        (
            "duration_s = 3600\ngauge_interval_s = -1",
            &["flood.gauge_interval_s"],
        ),
        (
            "duration_s = 3600\ncell_m = 200",
            &["flood.cell_m", "(0, 100]"],
        ),
        (
            "duration_s = 3600\nbbox = [10, 0, 0, 10]",
            &["flood.bbox", "min < max"],
        ),
        (
            "duration_s = 3600\ndem = \"nope.tif\"",
            &["flood.dem", "does not exist"],
        ),
        (
            "duration_s = 3600\ninitial_depth = \"nope.tif\"",
            &["flood.initial_depth"],
        ),
        (
            "duration_s = 3600\nstart_time = \"2026-12-01 00:00\"",
            &["flood.start_time", "RFC 3339"],
        ),
        (
            "duration_s = 3600\nstart_time = \"2026-02-30T00:00:00Z\"",
            &["flood.start_time", "day 30"],
        ),
        (
            "duration_s = 3600\nmanning_n = 0",
            &["flood.manning_n", "(0, 1]"],
        ),
        (
            "duration_s = 3600\nmanning_n = nan",
            &["flood.manning_n", "NaN"],
        ),
        (
            "duration_s = 3600\nweir_cd = 2",
            &["flood.weir_cd", "(0, 1.5]"],
        ),
        (
            "duration_s = 3600\nbuilding_height_m = 0",
            &["flood.building_height_m", "positive"],
        ),
        (
            "duration_s = 3600\narrival_depth_m = inf",
            &["flood.arrival_depth_m"],
        ),
        (
            "duration_s = 3600\nbuildings = \"floating\"",
            &["flood.buildings", "blocked, raised or ignore"],
        ),
        (
            "duration_s = 3600\nroughness_files = [\"r.geojson\"]",
            &["flood.roughness_files[0]", "does not exist"],
        ),
        (
            "duration_s = 3600\nbuilding_files = [\"b.geojson\"]",
            &["flood.building_files[0]"],
        ),
        (
            "duration_s = 3600\nedges = \"leaky\"",
            &["flood.edges", "\"closed\", \"open\" or a table"],
        ),
        ("duration_s = 3600\nedges = 3", &["flood.edges"]),
        (
            "duration_s = 3600\nedges = { up = \"open\" }",
            &["flood.edges.up", "north, east, south or west"],
        ),
        (
            "duration_s = 3600\nedges = { east = \"wet\" }",
            &["flood.edges.east", "\"closed\" or \"open\""],
        ),
        (
            "duration_s = 3600\n[flood.numerics]\ntheta = 1.5",
            &["flood.numerics.theta", "[0.5, 1]"],
        ),
        (
            "duration_s = 3600\n[flood.numerics]\ncourant = 0",
            &["flood.numerics.courant", "(0, 1]"],
        ),
        (
            "duration_s = 3600\n[flood.numerics]\nfroude_max = -1",
            &["flood.numerics.froude_max"],
        ),
        (
            "duration_s = 3600\n[flood.numerics]\ndry_depth_m = 1",
            &["flood.numerics.dry_depth_m", "(0, 1)"],
        ),
        (
            "duration_s = 3600\n[flood.numerics]\nmax_dt_s = 0",
            &["flood.numerics.max_dt_s"],
        ),
        (
            "duration_s = 3600\n[flood.numerics]\nmin_dt_s = 20",
            &["flood.numerics.min_dt_s", "(0, 10)"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\npolygon = [[0, 0], [1, 0], [0, 1]]",
            &[
                "flood.rain[0]",
                "missing series",
                "`series_mm_h` or `series_file`",
            ],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\nseries_file = \"r.csv\"",
            &["flood.rain[0]", "`series_mm_h` and `series_file`"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1], [60, -2]]",
            &["flood.rain[0].series_mm_h", ">= 0 mm/h", "t = 60 s"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1], [0, 2]]",
            &["flood.rain[0].series_mm_h", "point 1", "not after"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = []",
            &["flood.rain[0].series_mm_h", "no points"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, inf]]",
            &["flood.rain[0].series_mm_h", "finite"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\nseries_scale = 2",
            &["flood.rain[0].series_scale", "`series_file` only"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_file = \"r.csv\"",
            &["flood.rain[0].series_file", "does not exist"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\npolygon = [[0, 0], [1, 0], [0, 1]]\nlandcover_kinds = [\"park\"]",
            &["flood.rain[0]", "`polygon` and `landcover_kinds`"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\nlandcover_kinds = [\"park\", \"lawn\"]",
            &[
                "flood.rain[0].landcover_kinds[1]",
                "`lawn`",
                "water, park, forest, grass",
            ],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\nlandcover_ids = []",
            &["flood.rain[0].landcover_ids", "at least one"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\npolygon = [[0, 0], [1, 0], [2, 0]]",
            &["flood.rain[0].polygon", "non-zero area"],
        ),
        (
            "duration_s = 3600\n[[flood.rain]]\nseries_mm_h = [[0, 1]]\nzones_file = \"z.geojson\"",
            &["flood.rain[0].zones_file", "does not exist"],
        ),
        (
            "duration_s = 3600\n[[flood.inflow]]\nseries_m3_s = [[0, 1]]",
            &[
                "flood.inflow[0]",
                "missing region",
                "`point`, `circle`, `polygon` or `zones_file`",
            ],
        ),
        (
            "duration_s = 3600\n[[flood.inflow]]\nseries_m3_s = [[0, 1]]\ncircle = { center = [0, 0], radius_m = 0 }",
            &["flood.inflow[0].circle.radius_m", "positive"],
        ),
        (
            "duration_s = 3600\n[[flood.inflow]]\nseries_m3_s = [[0, 1]]\npoint = [0, nan]",
            &["flood.inflow[0].point", "finite"],
        ),
        (
            "duration_s = 3600\n[[flood.inflow]]\nseries_m3_s = [[0, -1]]\npoint = [0, 0]",
            &["flood.inflow[0].series_m3_s", ">= 0 m3/s"],
        ),
        (
            "duration_s = 3600\n[[flood.inflow]]\nid = \"inflow-2\"\nseries_m3_s = [[0, 1]]\npoint = [0, 0]\n[[flood.inflow]]\nseries_m3_s = [[0, 1]]\npoint = [0, 0]",
            &["flood.inflow[1].id", "`inflow-2`"],
        ),
        (
            "duration_s = 3600\n[[flood.inflow]]\nid = \" \"\nseries_m3_s = [[0, 1]]\npoint = [0, 0]",
            &["flood.inflow[0].id", "empty"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\nseries_m = [[0, 1]]",
            &["flood.water_level[0]", "missing region", "`polyline`"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\nseries_m = [[0, 1]]\npolyline = [[0, 0]]",
            &["flood.water_level[0].polyline", "at least 2"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\npolyline = [[0, 0], [1, 0]]",
            &[
                "flood.water_level[0]",
                "`series_m`, `series_file` or `storm_tide`",
            ],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\npolyline = [[0, 0], [1, 0]]\nstorm_tide = { peak_z = 1.0, peak_s = 600, end_s = 3600 }",
            &["flood.water_level[0].storm_tide", "no surge"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\npolyline = [[0, 0], [1, 0]]\nstorm_tide = { peak_z = 8.0, peak_s = 600, end_s = 3600, step_s = 0 }",
            &["flood.water_level[0].storm_tide", "step_s"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\npolyline = [[0, 0], [1, 0]]\nstorm_tide = { peak_z = 8.0, peak_s = 600, end_s = 3600 }\ninterpolation = \"step\"",
            &["flood.water_level[0].interpolation", "always linear"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\npolyline = [[0, 0], [1, 0]]\nseries_m = [[0, 1]]\nseries_column = \"w\"",
            &["flood.water_level[0].series_column", "`series_file` only"],
        ),
        (
            "duration_s = 3600\n[[flood.water_level]]\nid = \"elbe\"\npolyline = [[0, 0], [1, 0]]\nseries_m = [[0, 1]]\n[[flood.water_level]]\nid = \"elbe\"\npolyline = [[0, 0], [1, 0]]\nseries_m = [[0, 1]]",
            &["flood.water_level[1].id", "`elbe`"],
        ),
        (
            "duration_s = 3600\n[[flood.losses]]\nlandcover_kinds = [\"park\"]",
            &["flood.losses[0]", "at least one of"],
        ),
        (
            "duration_s = 3600\n[[flood.losses]]\ninfiltration_mm_h = 5\ngreen_ampt = { ks_mm_h = 1, suction_mm = 1, moisture_deficit = 0.1 }",
            &["flood.losses[0]", "`infiltration_mm_h` and `green_ampt`"],
        ),
        (
            "duration_s = 3600\n[[flood.losses]]\ngreen_ampt = { ks_mm_h = 1, suction_mm = 1, moisture_deficit = 0 }",
            &["flood.losses[0].green_ampt.moisture_deficit", "(0, 1]"],
        ),
        (
            "duration_s = 3600\n[[flood.losses]]\ngreen_ampt = { ks_mm_h = -1, suction_mm = 1, moisture_deficit = 0.5 }",
            &["flood.losses[0].green_ampt.ks_mm_h", ">= 0"],
        ),
        (
            "duration_s = 3600\n[[flood.losses]]\nsewer_mm_h = -15",
            &["flood.losses[0].sewer_mm_h", ">= 0"],
        ),
        (
            "duration_s = 3600\n[[flood.losses]]\ninfiltration_mm_h = -5",
            &["flood.losses[0].infiltration_mm_h", ">= 0"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nline = [[0, 0], [1, 0]]\ncrest_z = 8",
            &["flood.barrier[0].id", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\ncrest_z = 8",
            &["flood.barrier[0].line", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [0, 0]]\ncrest_z = 8",
            &["flood.barrier[0].line", "non-zero length"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [1, 0]]",
            &["flood.barrier[0].crest_z", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [1, 0]]\ncrest_z = 8\nactive_from_s = -1",
            &["flood.barrier[0].active_from_s", ">= 0"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [1, 0]]\ncrest_z = 8\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [1, 0]]\ncrest_z = 8",
            &["flood.barrier[1].id", "`w`"],
        ),
        (
            "duration_s = 3600\n[[flood.breach]]\nat = [0, 0]\nwidth_m = 5\nbottom_z = 1\nstart_s = 0",
            &["flood.breach[0].barrier", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.breach]]\nbarrier = \"dike-low-1\"\nwidth_m = 5\nbottom_z = 1\nstart_s = 0",
            &["flood.breach[0].at", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.breach]]\nbarrier = \"dike-low-1\"\nat = [0, 0]\nwidth_m = 0\nbottom_z = 1\nstart_s = 0",
            &["flood.breach[0].width_m", "positive"],
        ),
        (
            "duration_s = 3600\n[[flood.breach]]\nbarrier = \"dike-low-1\"\nat = [0, 0]\nwidth_m = 5\nbottom_z = 1\nstart_s = -5",
            &["flood.breach[0].start_s", ">= 0"],
        ),
        (
            "duration_s = 3600\n[[flood.breach]]\nbarrier = \"dike-low-1\"\nat = [0, 0]\nwidth_m = 5\nbottom_z = 1\nstart_s = 0\ncross_m = 0",
            &["flood.breach[0].cross_m", "positive"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [100, 0]]\ncrest_z = 8\n[[flood.breach]]\nbarrier = \"w\"\nat = [50, 40]\nwidth_m = 5\nbottom_z = 1\nstart_s = 0",
            &[
                "flood.breach[0].at",
                "40.0 m from the line of barrier `w`",
                "15 m",
            ],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [100, 0]]\ncrest_z = 8\n[[flood.breach]]\nbarrier = \"w\"\nat = [50, 1]\nwidth_m = 5\nbottom_z = 9\nstart_s = 0",
            &["flood.breach[0].bottom_z", "not below the crest 8 m"],
        ),
        (
            "duration_s = 3600\n[[flood.barrier]]\nid = \"w\"\nline = [[0, 0], [100, 0]]\ncrest_z = 8\nactive_from_s = 600\n[[flood.breach]]\nbarrier = \"w\"\nat = [50, 1]\nwidth_m = 5\nbottom_z = 1\nstart_s = 0",
            &[
                "flood.breach[0].start_s",
                "before barrier `w` is up at 600 s",
            ],
        ),
        (
            "duration_s = 3600\n[[flood.gauge]]\nat = [0, 0]",
            &["flood.gauge[0].id", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.gauge]]\nid = \"g\"",
            &["flood.gauge[0].at", "missing"],
        ),
        (
            "duration_s = 3600\n[[flood.gauge]]\nid = \"g\"\nat = [0, 0]\n[[flood.gauge]]\nid = \"g\"\nat = [1, 1]",
            &["flood.gauge[1].id", "`g`"],
        ),
    ];

    #[test]
    fn errors_name_the_file_and_the_field() {
        let e = flood("[flood]\ncell_m = 2.0\n", p())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/tmp/s.toml")
                && e.contains("field `flood.duration_s`")
                && e.contains("required"),
            "{e}"
        );
        for (body, wanted) in BAD {
            let e = match flood(&format!("[flood]\n{body}\n"), p()) {
                Ok(_) => panic!("accepted:\n{body}"),
                Err(e) => e.to_string(),
            };
            assert!(
                e.starts_with("/tmp/s.toml: field `flood."),
                "{body}\n=> {e}"
            );
            for w in *wanted {
                assert!(e.contains(w), "{body}\n=> {e}\nmissing: {w}");
            }
        }
    }

    #[test]
    fn keys_a_section_does_not_have_are_errors() {
        for (body, key) in [
            (
                "[[flood.rain]]\nseries_mm_h = [[0, 1]]\npoint = [0, 0]",
                "point",
            ),
            (
                "[[flood.inflow]]\nseries_m3_s = [[0, 1]]\nlandcover_ids = [\"a\"]",
                "landcover_ids",
            ),
            (
                "[[flood.water_level]]\nseries_m = [[0, 1]]\ncircle = { center = [0, 0], radius_m = 1 }",
                "circle",
            ),
            (
                "[[flood.losses]]\nsewer_mm_h = 1\npolyline = [[0, 0], [1, 0]]",
                "polyline",
            ),
            (
                "[[flood.rain]]\nseries_mm_h = [[0, 1]]\nstorm_tide = { peak_z = 8, peak_s = 0, end_s = 60 }",
                "storm_tide",
            ),
            ("[flood.numerics]\ncfl = 0.5", "cfl"),
            ("colour = 3", "colour"),
        ] {
            let e = flood(&format!("[flood]\nduration_s = 60\n{body}\n"), p())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("/tmp/s.toml") && e.contains(&format!("unknown field `{key}`")),
                "{body}\n=> {e}"
            );
        }
    }

    /// The complete examples of `docs/scenarios.md` validate and mean what the text says.
    #[test]
    fn documented_examples_validate() {
        let docs = include_str!("../../../../docs/scenarios.md");
        let flood_docs = &docs[docs.find("## `[flood]`").expect("a [flood] section")..];
        let dir = files();
        let examples: Vec<Scenario> = flood_docs
            .split("```toml\n")
            .skip(1)
            .filter_map(|block| block.split("```").next())
            .filter(|block| block.starts_with("[scenario]"))
            .map(|block| {
                parse(block, &dir.path().join("s.toml")).unwrap_or_else(|e| panic!("{e}\n{block}"))
            })
            .collect();
        let names: Vec<&str> = examples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["surge", "cloudburst", "dgm-surge"]);

        let surge = examples[0].flood.as_ref().unwrap();
        assert!(matches!(examples[0].city, CitySpec::Demo { seed: 1, .. }));
        let level = &surge.water_levels[0];
        assert_eq!(
            level.region,
            RegionSpec::LandCoverIds(vec!["water-river".into()])
        );
        assert_eq!(level.z_m.range().1, 8.10);
        assert_eq!(level.z_m.value_at(6.0 * 3600.0), 8.10);
        assert_eq!(surge.duration_s, 12.0 * 3600.0);
        assert_eq!(surge.breaches[0].barrier, "dike-low-1");
        assert_eq!(surge.gauges.len(), 2);

        let rain = examples[1].flood.as_ref().unwrap();
        assert_eq!(rain.rain[0].region, RegionSpec::All);
        assert!((rain.rain[0].mm_h.integral(0.0, rain.duration_s) / 3600.0 - 29.0).abs() < 1e-12);
        assert_eq!(rain.losses[0].sewer_mm_h, 15.0);
        assert_eq!(rain.losses[0].region, RegionSpec::All);
        assert_eq!(
            rain.losses[1].region,
            RegionSpec::LandCoverKinds(vec![LandCover::Park, LandCover::Grass])
        );
        assert!(matches!(
            rain.losses[1].infiltration,
            Infiltration::GreenAmpt { .. }
        ));

        assert_eq!(examples[2].city, CitySpec::None);
        let z = &examples[2].flood.as_ref().unwrap().water_levels[0].z_m;
        assert!((z.values()[1] - 1.5).abs() < 1e-12, "{z:?}");
    }

    #[test]
    fn bad_csv_series_name_the_field_and_the_line() {
        let dir = files();
        std::fs::write(dir.path().join("bad.csv"), "time_s,q\n0,1\n60,x\n").unwrap();
        let e = flood(
            "[flood]\nduration_s = 60\n[[flood.inflow]]\npoint = [0, 0]\nseries_file = \"bad.csv\"\n",
            &dir.path().join("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("s.toml: field `flood.inflow[0].series_file`")
                && e.contains("bad.csv: line 3")
                && e.contains("`x` is not a finite number"),
            "{e}"
        );
        let e = flood(
            "[flood]\nduration_s = 60\n[[flood.rain]]\nseries_file = \"rain.csv\"\n",
            &dir.path().join("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("flood.rain[0].series_file") && e.contains("several value columns"),
            "{e}"
        );
        let e = flood(
            "[flood]\nduration_s = 60\n[[flood.rain]]\nseries_file = \"rain.csv\"\nseries_column = \"mm_5min\"\nseries_offset = -10\n",
            &dir.path().join("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("flood.rain[0].series_file") && e.contains("-7.5 mm/h at t = 0 s"),
            "{e}"
        );
    }
}
