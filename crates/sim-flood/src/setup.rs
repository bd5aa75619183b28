//! What a flood run is made of: terrain and roughness on the computational grid, buildings,
//! barriers and breaches, forcings (rain, inflows, water levels), losses, edges, gauges and
//! numerical parameters. Everything here is plain data; [`crate::Simulation::new`] validates
//! it and builds the solver state. No file IO: the runner (or a test, or the viewer) fills it.

use twin_core::geom::{P2, Polygon};
use twin_core::raster::Raster;
use twin_core::timeseries::TimeSeries;

use crate::error::{FloodError, Result};

/// Numerical and output parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Simulated time (s).
    pub duration_s: f64,
    /// Gauge rows are recorded every this many seconds (the solver steps onto these times).
    pub gauge_interval_s: f64,
    /// Weight θ of the q-centred scheme (de Almeida et al. 2012), in [0.5, 1]: 1 is Bates
    /// et al. (2010), smaller values diffuse the discharge (and shorten the stable step);
    /// 0.7 is the recommended value.
    pub theta: f64,
    /// Fraction of the stability limit the time step uses, in (0, 1]:
    /// `dt = courant · sqrt(θ) / (s · sqrt(1/dx² + 1/dy²))` with `s` the largest wave speed.
    /// The scheme's 2D checkerboard mode grows beyond `courant = 1` (see `docs/flood.md`).
    pub courant: f64,
    /// Largest Froude number a face flux may reach (flux limit `|q| ≤ Fr · h · sqrt(g h)`).
    pub froude_max: f64,
    /// A face carries no flow while its flow depth is at most this (m).
    pub dry_depth_m: f64,
    /// Largest time step (s).
    pub max_dt_s: f64,
    /// The run fails when the stable time step falls below this (s).
    pub min_dt_s: f64,
    /// Gravitational acceleration (m/s²).
    pub gravity: f64,
    /// Depth above which a cell counts as flooded for `arrival_time` and `duration` (m).
    pub arrival_depth_m: f64,
    /// Speeds and hazard are evaluated where the depth is at least this (m).
    pub speed_min_depth_m: f64,
    /// Discharge coefficient of the weir law on barriers (1 = ideal broad-crested weir).
    pub weir_cd: f64,
    /// How the friction term is discretised.
    pub friction: Friction,
}

/// Discretisation of the Manning friction term (always implicit in the new discharge,
/// explicit in the depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Friction {
    /// Solve `|q| (1 + a |q|) = |q*|` exactly (the default): stable and monotone in
    /// friction-dominated thin flow, the same steady state (Manning's formula).
    Implicit,
    /// Lag `|q|` at the old time as in Bates et al. (2010); oscillates with period two
    /// where friction dominates unless the Courant number is small.
    Lagged,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            duration_s: 3600.0,
            gauge_interval_s: 60.0,
            theta: 0.7,
            courant: 0.9,
            froude_max: 1.0,
            dry_depth_m: 1e-3,
            max_dt_s: 10.0,
            min_dt_s: 1e-4,
            gravity: 9.81,
            arrival_depth_m: 0.1,
            speed_min_depth_m: 0.01,
            weir_cd: 1.0,
            friction: Friction::Implicit,
        }
    }
}

impl Params {
    /// Check every parameter's range.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, v: f64, ok: bool, range: &str| -> Result<()> {
            if v.is_finite() && ok {
                Ok(())
            } else {
                Err(FloodError::param(
                    format!("params.{name}"),
                    format!("{v} is outside {range}"),
                ))
            }
        };
        let p = self;
        check("duration_s", p.duration_s, p.duration_s > 0.0, "(0, inf)")?;
        check(
            "gauge_interval_s",
            p.gauge_interval_s,
            p.gauge_interval_s > 0.0,
            "(0, inf)",
        )?;
        check("theta", p.theta, (0.5..=1.0).contains(&p.theta), "[0.5, 1]")?;
        check(
            "courant",
            p.courant,
            p.courant > 0.0 && p.courant <= 1.0,
            "(0, 1]",
        )?;
        check("froude_max", p.froude_max, p.froude_max > 0.0, "(0, inf)")?;
        check(
            "dry_depth_m",
            p.dry_depth_m,
            p.dry_depth_m > 0.0 && p.dry_depth_m < 1.0,
            "(0, 1)",
        )?;
        check("max_dt_s", p.max_dt_s, p.max_dt_s > 0.0, "(0, inf)")?;
        check(
            "min_dt_s",
            p.min_dt_s,
            p.min_dt_s > 0.0 && p.min_dt_s < p.max_dt_s,
            "(0, max_dt_s)",
        )?;
        check("gravity", p.gravity, p.gravity > 0.0, "(0, inf)")?;
        check(
            "arrival_depth_m",
            p.arrival_depth_m,
            p.arrival_depth_m > 0.0,
            "(0, inf)",
        )?;
        check(
            "speed_min_depth_m",
            p.speed_min_depth_m,
            p.speed_min_depth_m > 0.0,
            "(0, inf)",
        )?;
        check(
            "weir_cd",
            p.weir_cd,
            p.weir_cd > 0.0 && p.weir_cd <= 1.5,
            "(0, 1.5]",
        )?;
        Ok(())
    }
}

/// Where a forcing or loss applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Region {
    /// Every cell of the domain.
    All,
    /// The cell containing the point.
    Point(P2),
    /// Cells whose centres lie within `radius_m` of `center` (at least the centre's cell).
    Circle { center: P2, radius_m: f64 },
    /// Cells whose centres lie inside any of the polygons (at least the cell of each
    /// polygon's centroid, so a polygon smaller than a cell still counts).
    Polygons(Vec<Polygon>),
    /// Cells the polyline passes through.
    Polyline(Vec<P2>),
    /// The cells of all these regions.
    Union(Vec<Region>),
}

/// Rain over a region: a hyetograph in mm/h.
#[derive(Debug, Clone, PartialEq)]
pub struct Rain {
    pub region: Region,
    pub mm_h: TimeSeries,
}

/// A discharge into the domain (m³/s), spread evenly over the region's cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Inflow {
    pub id: String,
    pub region: Region,
    pub m3_s: TimeSeries,
}

/// A prescribed water surface elevation (m) over the region's cells: the cells hold
/// `max(level − z, 0)` of water at every step and exchange water with the rest of the
/// domain (a tidal river, the sea, a lake).
#[derive(Debug, Clone, PartialEq)]
pub struct WaterLevel {
    pub id: String,
    pub region: Region,
    pub z_m: TimeSeries,
    /// Prescribe the level on the whole water body the region belongs to: every cell
    /// reached from the region's cells that are under water at the series' lowest level
    /// through faces no barrier crosses, whose bed lies below the series' highest level
    /// (the river up to its dikes and quay walls, so that deep water there does not limit
    /// the time step). Region cells that this water body does not reach stay free.
    pub extend_to_barriers: bool,
}

/// How water soaks into the ground.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Infiltration {
    None,
    /// A constant capacity (mm/h).
    Constant {
        mm_h: f64,
    },
    /// Green-Ampt: capacity `Ks (1 + ψ Δθ / F)` with F the cumulative infiltration.
    GreenAmpt {
        ks_mm_h: f64,
        suction_mm: f64,
        moisture_deficit: f64,
    },
}

/// Losses in a region: infiltration and sewer drainage capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct Losses {
    pub region: Region,
    pub infiltration: Infiltration,
    /// Sewer inlet capacity (mm/h of water depth over the region).
    pub sewer_mm_h: f64,
}

/// A dike, flood wall or quay edge: no flow crosses the line while the water is below its
/// crest; above it the flow follows the broad-crested weir law.
#[derive(Debug, Clone, PartialEq)]
pub struct Barrier {
    pub id: String,
    pub line: Vec<P2>,
    /// Crest elevation (m).
    pub crest_z: f64,
    /// A mobile flood wall: the barrier only exists from this time on (s).
    pub active_from_s: Option<f64>,
}

/// A breach that lowers a barrier (its crest on the faces it crosses and the terrain of the
/// dike body) over a stretch of `width_m` around `at`, from the barrier's crest down to
/// `bottom_z`, linearly between `start_s` and `start_s + duration_s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// Id of the barrier.
    pub barrier: String,
    pub at: P2,
    pub width_m: f64,
    pub bottom_z: f64,
    pub start_s: f64,
    pub duration_s: f64,
    /// How far on each side of the barrier line the terrain is lowered (m).
    pub cross_m: f64,
}

/// How buildings enter the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildingMode {
    /// Building cells are taken out of the domain; rain on roofs runs to the cells around
    /// the building (down pipes).
    Blocked,
    /// Building cells are raised by the building height; rain runs off the roof.
    Raised,
}

/// What happens at one side of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// No flow.
    Closed,
    /// Free outflow: the water surface slope of the last interior face continues across
    /// the edge; water only leaves.
    Open,
}

/// The four sides of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edges {
    pub north: EdgeKind,
    pub east: EdgeKind,
    pub south: EdgeKind,
    pub west: EdgeKind,
}

impl Edges {
    pub fn all(kind: EdgeKind) -> Edges {
        Edges {
            north: kind,
            east: kind,
            south: kind,
            west: kind,
        }
    }
}

impl Default for Edges {
    fn default() -> Self {
        Edges::all(EdgeKind::Closed)
    }
}

/// A point where depth, water level and speed are recorded over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    pub id: String,
    pub at: P2,
}

/// Everything a flood run needs.
#[derive(Debug, Clone)]
pub struct FloodSetup {
    /// Terrain heights on the computational grid (m). NaN or nodata cells are outside the
    /// domain (no water, no flow).
    pub dem: Raster<f32>,
    /// Manning n per cell on the same grid; `None` uses `default_manning_n` everywhere.
    pub manning: Option<Raster<f32>>,
    pub default_manning_n: f64,
    /// Building height above ground per cell on the same grid (0 or NaN: no building).
    pub buildings: Option<Raster<f32>>,
    pub building_mode: BuildingMode,
    /// Water depth at t = 0 per cell (row-major, the grid's length); `None`: dry.
    pub initial_depth: Option<Vec<f64>>,
    pub barriers: Vec<Barrier>,
    pub breaches: Vec<Breach>,
    /// Rain regions; where they overlap, the later one applies.
    pub rain: Vec<Rain>,
    pub inflows: Vec<Inflow>,
    /// Water-level boundaries; where they overlap, the later one applies.
    pub water_levels: Vec<WaterLevel>,
    /// Loss zones; where they overlap, the later one applies.
    pub losses: Vec<Losses>,
    pub edges: Edges,
    pub gauges: Vec<Gauge>,
    pub params: Params,
}

impl FloodSetup {
    /// A setup over `dem` with default parameters and nothing else.
    pub fn new(dem: Raster<f32>) -> FloodSetup {
        FloodSetup {
            dem,
            manning: None,
            default_manning_n: 0.035,
            buildings: None,
            building_mode: BuildingMode::Blocked,
            initial_depth: None,
            barriers: Vec::new(),
            breaches: Vec::new(),
            rain: Vec::new(),
            inflows: Vec::new(),
            water_levels: Vec::new(),
            losses: Vec::new(),
            edges: Edges::default(),
            gauges: Vec::new(),
            params: Params::default(),
        }
    }
}
