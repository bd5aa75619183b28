//! What a run produces: maxima rasters, arrival and duration, hazard, gauge series, the mass
//! balance and solver statistics.

use serde::Serialize;
use twin_core::raster::{GridSpec, Raster};

/// One gauge reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaugeRow {
    pub t_s: f64,
    pub id: String,
    pub depth_m: f64,
    /// Water surface elevation (m).
    pub wse_m: f64,
    pub speed_m_s: f64,
}

/// Volumes in and out of the computed domain (cells with a prescribed level are outside
/// it) and the balance error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MassBalance {
    /// Time the balance refers to (s).
    pub t_s: f64,
    pub initial_storage_m3: f64,
    pub final_storage_m3: f64,
    pub storage_change_m3: f64,
    pub rain_m3: f64,
    pub inflow_m3: f64,
    /// From water-level boundaries into the domain.
    pub boundary_in_m3: f64,
    /// From the domain into water-level boundaries.
    pub boundary_out_m3: f64,
    /// Over open edges.
    pub edge_out_m3: f64,
    pub infiltration_m3: f64,
    pub sewer_m3: f64,
    /// Round-off removed when a cell had to be set dry (normally 0 or ~1e-12).
    pub clamped_m3: f64,
    /// storage change − (rain + inflow + boundary in − boundary out − edge out −
    /// infiltration − sewer) − clamped.
    pub error_m3: f64,
    /// |error| relative to the largest of total inflow, total outflow and storage.
    pub relative_error: f64,
}

/// Solver statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunStats {
    pub steps: u64,
    pub min_dt_s: f64,
    pub max_dt_s: f64,
    /// Sum over steps of the cells in computed tiles.
    pub cell_updates: u64,
    /// Cells whose outflow had to be scaled so they would not go below zero.
    pub fixups: u64,
}

/// Results of a run (or of the run so far).
#[derive(Debug, Clone)]
pub struct FloodResults {
    pub spec: GridSpec,
    /// Highest depth (m); prescribed-level cells included; NaN outside and on blocked buildings.
    pub max_depth: Raster<f32>,
    /// Highest water surface elevation (m); NaN where never wet.
    pub max_wse: Raster<f32>,
    /// Highest speed (m/s) where the depth was at least `speed_min_depth_m`.
    pub max_speed: Raster<f32>,
    /// First time (s) the depth exceeded `arrival_depth_m`; NaN where it never did.
    pub arrival_time: Raster<f32>,
    /// Total time (s) the depth exceeded `arrival_depth_m`.
    pub duration: Raster<f32>,
    /// Highest hazard rating HR = d (v + 0.5) + DF over the run.
    pub max_hazard: Raster<f32>,
    /// Hazard class of `max_hazard`: 0 none, 1 low, 2 moderate, 3 significant, 4 extreme;
    /// 255 where not computed (outside, buildings, prescribed levels).
    pub hazard_class: Raster<u8>,
    pub gauges: Vec<GaugeRow>,
    pub mass: MassBalance,
    pub stats: RunStats,
    /// Ids of the water-level boundaries, in order.
    pub level_ids: Vec<String>,
}

/// Names of the hazard classes, by class number.
pub const HAZARD_CLASS_NAMES: [&str; 5] = ["none", "low", "moderate", "significant", "extreme"];
