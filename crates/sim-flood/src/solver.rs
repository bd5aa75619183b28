//! The flood solver: state arrays, one time step, and running to a time.
//!
//! One step of length `dt` (Bates et al. 2010; de Almeida et al. 2012):
//! 1. forcings at this step: rain depth per zone (exact integral of the hyetograph over the
//!    step), inflow depths, boundary levels, barrier crests and breach terrain;
//! 2. which tiles to compute: wet tiles, their neighbours and tiles with active sources;
//! 3. **pass 1**, parallel over bands of rows: new discharge on every face of the active
//!    tiles from the old water levels (local inertial momentum equation, semi-implicit
//!    friction, Froude limit); barrier faces by the weir law; open edges;
//! 4. **pass 2**, parallel over bands: inflows, rain, losses and the flux divergence give
//!    the new depths; prescribed levels are imposed; maxima, arrival, duration, hazard;
//! 5. cells that the fluxes would drain below zero get their outflows scaled down so they
//!    end exactly dry (mass stays exact);
//! 6. the per-band volume sums are added in band order (so the result does not depend on
//!    the number of threads).
//!
//! Each face and cell is computed by exactly one thread from the same inputs in the same
//! order, so results are bitwise identical for any number of threads.

use rayon::prelude::*;
use twin_core::geom::P2;
use twin_core::raster::{GridSpec, Raster};
use twin_core::timeseries::TimeSeries;

use crate::bands::{BandStats, Isa, Pass1, Pass2, Pass2Band, Span, pass1_band, pass2_band};
use crate::error::{FloodError, Result};
use crate::grid::{Grid, TILE_COLS, TILE_ROWS, barrier_faces, project_on_line, region_cells};
use crate::kernel::{FaceConst, StepConst, hazard_class, weir_flux};
use crate::results::{FloodResults, GaugeRow, MassBalance, RunStats};
use crate::setup::{BuildingMode, EdgeKind, FloodSetup, Friction, Infiltration, Params};

/// Bed height given to cells outside the domain and to blocked buildings.
const BLOCKED_Z: f32 = 1.0e6;
/// Cell classes: 0 free; 1..=MAX_LEVELS a prescribed water level (index + 1).
const FREE: u8 = 0;
const MAX_LEVELS: usize = 64;
const BUILDING: u8 = 254;
const OUTSIDE: u8 = 255;
/// Tile states.
const INACTIVE: u8 = 0;
const ACTIVE: u8 = 1;
/// Only prescribed cells in the tile and around it: no fluxes, levels imposed.
const FROZEN: u8 = 2;

/// Per loss zone, rates in m/s.
#[derive(Debug, Clone, Copy, Default)]
struct LossParams {
    constant: f64,
    ks: f64,
    psi_dtheta: f64,
    sewer: f64,
}

/// A discharge spread evenly over some free cells: a user inflow, or the rain on one
/// blocked building's roof running off to the cells around it.
#[derive(Debug, Clone)]
struct InflowSrc {
    series: TimeSeries,
    ncells: usize,
    tiles: Vec<u32>,
    /// Roof run-off (counted as rain in the mass balance).
    roof: bool,
}

/// A face crossed by one or more barriers.
#[derive(Debug, Clone)]
struct BarrierFace {
    x: bool,
    face: u32,
    /// Cells on the negative and positive side.
    a: u32,
    b: u32,
    band: u32,
    tile: u32,
    /// Effective crest now (−inf when no barrier is up).
    crest: f32,
    /// Range into `Simulation::bcontrib`.
    contrib: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct BarrierContrib {
    crest: f32,
    active_from: f64,
    /// Index into `Simulation::breaches`, or u32::MAX.
    breach: u32,
}

#[derive(Debug, Clone)]
struct BreachState {
    crest: f64,
    bottom: f64,
    start: f64,
    duration: f64,
    /// Cells of the dike body with their original bed.
    cells: Vec<(u32, f32)>,
    tiles: Vec<u32>,
    /// Last fraction applied.
    applied: f64,
}

impl BreachState {
    fn fraction(&self, t: f64) -> f64 {
        if t < self.start {
            0.0
        } else if self.duration <= 0.0 {
            1.0
        } else {
            ((t - self.start) / self.duration).clamp(0.0, 1.0)
        }
    }
    fn level(&self, frac: f64) -> f64 {
        self.crest - (self.crest - self.bottom) * frac
    }
}

#[derive(Debug, Clone)]
struct GaugeState {
    id: String,
    cell: usize,
}

/// A compensated (Neumaier) sum: cumulative volumes over hundreds of thousands of steps
/// stay exact to round-off.
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    #[inline]
    fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    #[inline]
    fn get(&self) -> f64 {
        self.s + self.c
    }
}

/// Cumulative volumes (m³).
#[derive(Debug, Clone, Copy, Default)]
struct Volumes {
    rain: Sum,
    inflow: Sum,
    bnd_in: Sum,
    bnd_out: Sum,
    edge_out: Sum,
    infiltration: Sum,
    sewer: Sum,
    clamped: Sum,
}

/// A running flood model. Build it with [`Simulation::new`], advance it with
/// [`Simulation::advance_to`], read results with [`Simulation::results`].
pub struct Simulation {
    g: Grid,
    p: Params,
    z: Vec<f32>,
    h: Vec<f64>,
    n: Vec<f32>,
    cls: Vec<u8>,
    zfx: Vec<f32>,
    zfy: Vec<f32>,
    qx: [Vec<f32>; 2],
    qy: [Vec<f32>; 2],
    /// Which buffer holds the discharges of the last completed step.
    cur: usize,
    edges: crate::setup::Edges,

    isa: Isa,
    /// Rain entries' series and, per rain zone (a set of overlapping entries), its members.
    rain: Vec<TimeSeries>,
    rain_members: Vec<Vec<usize>>,
    rain_entry_depth: Vec<f64>,
    /// Free cells per rain zone, for the rain volume of a step.
    rain_zone_weight: Vec<f64>,
    rain_zone: Vec<u16>,
    rain_depth: Vec<f64>,
    loss: Vec<LossParams>,
    loss_fixed: Vec<f64>,
    loss_ks: Vec<f64>,
    loss_psi: Vec<f64>,
    loss_sewer: Vec<f64>,
    loss_zone: Vec<u16>,
    ga_f: Vec<f32>,
    inflows: Vec<InflowSrc>,
    /// Roof run-off sources found while setting up rain, added with the inflows.
    pending_sources: Vec<(TimeSeries, Vec<usize>, bool)>,
    /// (cell, source) sorted by cell; `band_inflow[b]..band_inflow[b + 1]` belong to band b.
    inflow_cells: Vec<(u32, u32)>,
    band_inflow: Vec<u32>,
    inflow_depth: Vec<f64>,
    levels: Vec<TimeSeries>,
    level_now: Vec<f64>,
    /// Per level boundary, the lowest bed of a face between it and a free cell.
    level_face_zmin: Vec<f64>,
    level_ids: Vec<String>,
    bfaces: Vec<BarrierFace>,
    band_bface: Vec<u32>,
    bcontrib: Vec<BarrierContrib>,
    /// Times at which some barrier changes (mobile walls going up).
    barrier_events: Vec<f64>,
    /// Whether crests change after t = 0 (mobile walls, breaches).
    dynamic_barriers: bool,
    breaches: Vec<BreachState>,
    /// Cells whose bed changes over time (breaches), with their max water level.
    moving_max_wse: Vec<(u32, f64)>,

    max_h: Vec<f32>,
    max_speed: Vec<f32>,
    max_hr: Vec<f32>,
    arrival: Vec<f32>,
    duration: Vec<f64>,

    tile_state: Vec<u8>,
    tile_wet: Vec<u8>,
    tile_forced: Vec<u8>,
    tile_frozen_ok: Vec<bool>,
    /// Per tile: level index + 1 when the tile is frozen with a single level (its depths and
    /// maxima are brought up to date by `sync_lazy`, not every step), else 0.
    tile_lazy: Vec<u8>,
    /// Highest level per boundary over the steps since the last `sync_lazy` (m).
    level_peak_pending: Vec<f64>,
    tile_rain: Vec<u64>,
    tile_bnd_zmin: Vec<f32>,
    tile_bnd_mask: Vec<u64>,
    tile_has_level: Vec<bool>,
    spans: Vec<Span>,
    band_spans: Vec<u32>,
    band: Vec<BandStats>,
    neg: Vec<Vec<u32>>,
    fix_work: Vec<u32>,

    t: f64,
    steps: u64,
    /// Deepest free cell after the last step (m).
    hmax: f64,
    /// Largest wave speed |u| + sqrt(g h) over the wet faces of the last step (m/s).
    smax: f64,
    vol: Volumes,
    initial_storage: f64,
    stats: RunStats,
    gauges: Vec<GaugeState>,
    gauge_rows: Vec<GaugeRow>,
    next_gauge: u64,
}

/// Zones where several entries overlap: each cell gets the id (1-based, 0 = none) of the set
/// of entries covering it; returns the member entries of each id.
fn composite_zones(
    nc: usize,
    entries: &[Vec<usize>],
    what: &str,
) -> Result<(Vec<u16>, Vec<Vec<usize>>)> {
    let mut zone = vec![0u16; nc];
    let mut members: Vec<Vec<usize>> = vec![Vec::new()];
    let mut ids: std::collections::BTreeMap<Vec<usize>, u16> = std::collections::BTreeMap::new();
    let mut step: std::collections::HashMap<u16, u16> = std::collections::HashMap::new();
    for (k, cells) in entries.iter().enumerate() {
        step.clear();
        for &c in cells {
            let old = zone[c];
            let new = match step.get(&old) {
                Some(&n) => n,
                None => {
                    let mut set = members[old as usize].clone();
                    set.push(k);
                    let n = match ids.get(&set) {
                        Some(&n) => n,
                        None => {
                            if members.len() >= u16::MAX as usize {
                                return Err(FloodError::input(what, "too many overlapping zones"));
                            }
                            let n = members.len() as u16;
                            members.push(set.clone());
                            ids.insert(set, n);
                            n
                        }
                    };
                    step.insert(old, n);
                    n
                }
            };
            zone[c] = new;
        }
    }
    Ok((zone, members))
}

/// The four neighbours of cell `c` with the face between: (neighbour, x-face?, face).
fn neighbours(g: &Grid, c: usize) -> impl Iterator<Item = (usize, bool, usize)> {
    let (i, j) = (c % g.nx, c / g.nx);
    [
        (i > 0).then(|| (c - 1, true, g.xface(i, j))),
        (i + 1 < g.nx).then(|| (c + 1, true, g.xface(i + 1, j))),
        (j > 0).then(|| (c - g.nx, false, g.yface(i, j))),
        (j + 1 < g.ny).then(|| (c + g.nx, false, g.yface(i, j + 1))),
    ]
    .into_iter()
    .flatten()
}

/// Grow the prescribed level `id` over its water body: start from the region's cells under
/// water at the lowest level `low` (else at the start, else all of them), keep only the
/// main parts of those (connected through faces no barrier crosses, at least a tenth of the
/// largest part: cells of the region's polygon that poke across a quay line are left out),
/// and add every cell reached from them through faces no barrier crosses whose bed lies
/// below `top`. Region cells the water body does not reach become free.
#[allow(clippy::too_many_arguments)]
fn extend_level(
    g: &Grid,
    z: &[f32],
    cls: &mut [u8],
    walls: &std::collections::HashSet<(bool, usize)>,
    id: u8,
    low: f64,
    start: f64,
    top: f64,
) {
    let nc = g.cells();
    let region: Vec<usize> = (0..nc).filter(|&c| cls[c] == id).collect();
    let seeds = [low, start, f64::INFINITY]
        .iter()
        .map(|&lv| {
            region
                .iter()
                .copied()
                .filter(|&c| (z[c] as f64) < lv)
                .collect::<Vec<_>>()
        })
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    for &c in &region {
        cls[c] = FREE;
    }
    // Parts of the seeds.
    let mut part = vec![u32::MAX; nc];
    let is_seed: std::collections::HashSet<usize> = seeds.iter().copied().collect();
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for &s0 in &seeds {
        if part[s0] != u32::MAX {
            continue;
        }
        let p = sizes.len() as u32;
        let mut n = 0usize;
        part[s0] = p;
        stack.push(s0);
        while let Some(c) = stack.pop() {
            n += 1;
            for (m, x, f) in neighbours(g, c) {
                if part[m] == u32::MAX && is_seed.contains(&m) && !walls.contains(&(x, f)) {
                    part[m] = p;
                    stack.push(m);
                }
            }
        }
        sizes.push(n);
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    for &c in &seeds {
        if sizes[part[c] as usize] * 10 >= largest {
            cls[c] = id;
            stack.push(c);
        }
    }
    while let Some(c) = stack.pop() {
        for (m, x, f) in neighbours(g, c) {
            if cls[m] == FREE && (z[m] as f64) < top && !walls.contains(&(x, f)) {
                cls[m] = id;
                stack.push(m);
            }
        }
    }
}

fn raster_matches(what: &str, r: &GridSpec, dem: &GridSpec) -> Result<()> {
    if r.width != dem.width || r.height != dem.height {
        return Err(FloodError::input(
            what,
            format!(
                "raster is {} x {}, the DEM {} x {}",
                r.width, r.height, dem.width, dem.height
            ),
        ));
    }
    let tol = 1e-6 * dem.cell_x.max(dem.cell_y);
    if (r.origin_x - dem.origin_x).abs() > tol
        || (r.origin_y - dem.origin_y).abs() > tol
        || (r.cell_x - dem.cell_x).abs() > tol
        || (r.cell_y - dem.cell_y).abs() > tol
    {
        return Err(FloodError::input(
            what,
            "raster is not on the DEM's grid (origin or cell size differ)",
        ));
    }
    Ok(())
}

impl Simulation {
    /// Validate a setup and build the solver state at t = 0.
    pub fn new(s: &FloodSetup) -> Result<Simulation> {
        let p = s.params.clone();
        p.validate()?;
        let spec = s.dem.spec;
        spec.validate()
            .map_err(|e| FloodError::input("dem", e.to_string()))?;
        if spec.width < 2 || spec.height < 1 {
            return Err(FloodError::input(
                "dem",
                format!(
                    "a flood grid needs at least 2 x 1 cells, got {} x {}",
                    spec.width, spec.height
                ),
            ));
        }
        if spec.width >= u32::MAX as usize / 2 || spec.len() >= u32::MAX as usize / 2 {
            return Err(FloodError::input("dem", "grid too large"));
        }
        let g = Grid::new(spec);
        let nc = g.cells();
        if !(s.default_manning_n.is_finite() && s.default_manning_n >= 0.0) {
            return Err(FloodError::param(
                "default_manning_n",
                format!("{} must be a finite number >= 0", s.default_manning_n),
            ));
        }

        // Terrain and classes.
        let mut z = vec![0f32; nc];
        let mut cls = vec![FREE; nc];
        let mut inside = 0usize;
        for k in 0..nc {
            let v = s.dem.data[k];
            if v.is_nan() || s.dem.is_nodata(v) || !v.is_finite() {
                z[k] = BLOCKED_Z;
                cls[k] = OUTSIDE;
            } else if v.abs() > 1.0e5 {
                let (i, j) = (k % g.nx, k / g.nx);
                return Err(FloodError::input(
                    "dem",
                    format!("elevation {v} at column {i}, row {j} is not plausible"),
                ));
            } else {
                z[k] = v;
                inside += 1;
            }
        }
        if inside == 0 {
            return Err(FloodError::input(
                "dem",
                "no cell has an elevation (all nodata)",
            ));
        }
        let mut n = vec![s.default_manning_n as f32; nc];
        if let Some(m) = &s.manning {
            raster_matches("manning", &m.spec, &spec)?;
            for (k, (nk, &v)) in n.iter_mut().zip(&m.data).enumerate() {
                if v.is_finite() && !m.is_nodata(v) {
                    if v < 0.0 {
                        return Err(FloodError::input(
                            "manning",
                            format!("negative roughness {v} at cell {k}"),
                        ));
                    }
                    *nk = v;
                }
            }
        }
        if let Some(b) = &s.buildings {
            raster_matches("buildings", &b.spec, &spec)?;
            for k in 0..nc {
                let hgt = b.data[k];
                if cls[k] != FREE || !(hgt.is_finite() && hgt > 0.0) || b.is_nodata(hgt) {
                    continue;
                }
                match s.building_mode {
                    BuildingMode::Blocked => {
                        cls[k] = BUILDING;
                        z[k] = BLOCKED_Z;
                    }
                    BuildingMode::Raised => z[k] += hgt,
                }
            }
        }

        // Water-level boundaries: later ones overwrite earlier ones.
        if s.water_levels.len() > MAX_LEVELS {
            return Err(FloodError::input(
                "water_levels",
                format!("at most {MAX_LEVELS} water-level boundaries"),
            ));
        }
        let mut levels = Vec::new();
        let mut level_ids = Vec::new();
        for (k, wl) in s.water_levels.iter().enumerate() {
            let cells = region_cells(&g, &wl.region);
            let mut any = false;
            for c in cells {
                if cls[c] == FREE || (cls[c] as usize) <= MAX_LEVELS {
                    if cls[c] == OUTSIDE || cls[c] == BUILDING {
                        continue;
                    }
                    cls[c] = (k + 1) as u8;
                    any = true;
                }
            }
            if !any {
                return Err(FloodError::input(
                    format!("water level `{}`", wl.id),
                    "its region covers no cell of the domain",
                ));
            }
            levels.push(wl.z_m.clone());
            level_ids.push(wl.id.clone());
        }
        // Extend levels over their water bodies, up to the barriers.
        if s.water_levels.iter().any(|w| w.extend_to_barriers) {
            let mut walls = std::collections::HashSet::new();
            for b in &s.barriers {
                for fc in barrier_faces(&g, &b.line) {
                    walls.insert((fc.x, fc.face));
                }
            }
            for (k, wl) in s.water_levels.iter().enumerate() {
                if wl.extend_to_barriers {
                    let (low, top) = wl.z_m.range();
                    extend_level(
                        &g,
                        &z,
                        &mut cls,
                        &walls,
                        (k + 1) as u8,
                        low,
                        wl.z_m.value_at(0.0),
                        top,
                    );
                }
            }
        }
        let level_now: Vec<f64> = levels.iter().map(|l| l.value_at(0.0)).collect();

        // Face beds.
        let mut zfx = vec![0f32; g.xfaces()];
        let mut zfy = vec![0f32; g.yfaces()];
        for j in 0..g.ny {
            for i in 0..=g.nx {
                let a = if i > 0 {
                    z[g.cell(i - 1, j)]
                } else {
                    z[g.cell(0, j)]
                };
                let b = if i < g.nx {
                    z[g.cell(i, j)]
                } else {
                    z[g.cell(g.nx - 1, j)]
                };
                zfx[g.xface(i, j)] = a.max(b);
            }
        }
        for f in 0..=g.ny {
            for i in 0..g.nx {
                let a = if f > 0 {
                    z[g.cell(i, f - 1)]
                } else {
                    z[g.cell(i, 0)]
                };
                let b = if f < g.ny {
                    z[g.cell(i, f)]
                } else {
                    z[g.cell(i, g.ny - 1)]
                };
                zfy[g.yface(i, f)] = a.max(b);
            }
        }

        // Initial depth.
        let mut h = vec![0f64; nc];
        if let Some(h0) = &s.initial_depth {
            if h0.len() != nc {
                return Err(FloodError::input(
                    "initial_depth",
                    format!("has {} values, the grid {}", h0.len(), nc),
                ));
            }
            for k in 0..nc {
                let v = h0[k];
                if !(v.is_finite() && v >= 0.0) {
                    return Err(FloodError::input(
                        "initial_depth",
                        format!("depth {v} at cell {k} is not a finite number >= 0"),
                    ));
                }
                if cls[k] == FREE {
                    h[k] = v;
                }
            }
        }
        for k in 0..nc {
            let c = cls[k] as usize;
            if (1..=MAX_LEVELS).contains(&c) {
                h[k] = (level_now[c - 1] - z[k] as f64).max(0.0);
            }
        }

        let mut sim = Simulation {
            g,
            p: p.clone(),
            z,
            h,
            n,
            cls,
            zfx,
            zfy,
            qx: [vec![0.0; g.xfaces()], vec![0.0; g.xfaces()]],
            qy: [vec![0.0; g.yfaces()], vec![0.0; g.yfaces()]],
            cur: 0,
            edges: s.edges,
            isa: Isa::detect(),
            rain: Vec::new(),
            rain_members: vec![Vec::new()],
            rain_entry_depth: Vec::new(),
            rain_zone_weight: vec![0.0],
            rain_zone: Vec::new(),
            rain_depth: vec![0.0],
            loss: vec![LossParams::default()],
            loss_fixed: vec![0.0],
            loss_ks: vec![0.0],
            loss_psi: vec![0.0],
            loss_sewer: vec![0.0],
            loss_zone: Vec::new(),
            ga_f: vec![0.0; g.nty],
            inflows: Vec::new(),
            pending_sources: Vec::new(),
            inflow_cells: Vec::new(),
            band_inflow: vec![0; g.nty + 1],
            inflow_depth: Vec::new(),
            level_face_zmin: Vec::new(),
            levels,
            level_now,
            level_ids,
            bfaces: Vec::new(),
            band_bface: vec![0; g.nty + 1],
            bcontrib: Vec::new(),
            barrier_events: Vec::new(),
            dynamic_barriers: true,
            breaches: Vec::new(),
            moving_max_wse: Vec::new(),
            max_h: Vec::new(),
            max_speed: vec![0.0; nc],
            max_hr: vec![0.0; nc],
            arrival: vec![f32::NAN; nc],
            duration: vec![0.0; nc],
            tile_state: vec![INACTIVE; g.ntx * g.nty],
            tile_wet: vec![0; g.ntx * g.nty],
            tile_forced: vec![0; g.ntx * g.nty],
            tile_frozen_ok: vec![false; g.ntx * g.nty],
            tile_lazy: vec![0; g.ntx * g.nty],
            level_peak_pending: Vec::new(),
            tile_rain: vec![0; g.ntx * g.nty],
            tile_bnd_zmin: vec![f32::INFINITY; g.ntx * g.nty],
            tile_bnd_mask: vec![0; g.ntx * g.nty],
            tile_has_level: vec![false; g.ntx * g.nty],
            spans: Vec::with_capacity(g.ntx * g.nty),
            band_spans: vec![0; g.nty + 1],
            band: vec![BandStats::default(); g.nty],
            neg: vec![Vec::new(); g.nty],
            fix_work: Vec::new(),
            t: 0.0,
            steps: 0,
            hmax: 0.0,
            smax: 0.0,
            vol: Volumes::default(),
            initial_storage: 0.0,
            stats: RunStats::default(),
            gauges: Vec::new(),
            gauge_rows: Vec::new(),
            next_gauge: 0,
        };
        sim.level_face_zmin = sim.level_face_zmin();
        sim.setup_rain(s)?;
        sim.setup_losses(s)?;
        sim.setup_inflows(s)?;
        sim.setup_barriers(s)?;
        sim.setup_gauges(s)?;
        sim.setup_tiles();
        sim.level_peak_pending = vec![f64::NEG_INFINITY; sim.level_now.len()];
        sim.max_h = sim.h.iter().map(|&v| v as f32).collect();
        let thr = sim.p.arrival_depth_m;
        for k in 0..nc {
            if sim.cls[k] == FREE && sim.h[k] > thr {
                sim.arrival[k] = 0.0;
            }
        }
        sim.initial_storage = sim.storage();
        // First step: the deepest water anywhere (also prescribed cells) bounds the step.
        sim.hmax = sim
            .h
            .iter()
            .zip(&sim.cls)
            .filter(|(_, c)| **c != BUILDING && **c != OUTSIDE)
            .map(|(h, _)| *h)
            .fold(0.0, f64::max);
        sim.record_gauges();
        Ok(sim)
    }

    /// For each water-level boundary, the lowest face bed between one of its cells and a
    /// free cell: the deepest flow it can drive, which bounds the time step before the
    /// first flux over that face has been computed.
    fn level_face_zmin(&self) -> Vec<f64> {
        let g = self.g;
        let mut zmin = vec![f64::INFINITY; self.levels.len()];
        let mut visit = |a: usize, b: usize, zf: f32| {
            let (ca, cb) = (self.cls[a] as usize, self.cls[b] as usize);
            for (c, o) in [(ca, cb), (cb, ca)] {
                if (1..=MAX_LEVELS).contains(&c) && o == FREE as usize {
                    zmin[c - 1] = zmin[c - 1].min(zf as f64);
                }
            }
        };
        for j in 0..g.ny {
            for i in 1..g.nx {
                visit(g.cell(i - 1, j), g.cell(i, j), self.zfx[g.xface(i, j)]);
            }
        }
        for f in 1..g.ny {
            for i in 0..g.nx {
                visit(g.cell(i, f - 1), g.cell(i, f), self.zfy[g.yface(i, f)]);
            }
        }
        zmin
    }

    fn setup_rain(&mut self, s: &FloodSetup) -> Result<()> {
        if s.rain.is_empty() {
            return Ok(());
        }
        if s.rain.len() >= u16::MAX as usize {
            return Err(FloodError::input("rain", "too many rain zones"));
        }
        let g = self.g;
        let nc = g.cells();
        let mut entries = Vec::new();
        for (k, r) in s.rain.iter().enumerate() {
            let (lo, _) = r.mm_h.range();
            if lo < 0.0 {
                return Err(FloodError::input(
                    format!("rain[{k}]"),
                    format!("negative intensity {lo} mm/h"),
                ));
            }
            entries.push(region_cells(&g, &r.region));
            self.rain.push(r.mm_h.clone());
        }
        // Where rain entries overlap their intensities add up.
        let (zone, members) = composite_zones(nc, &entries, "rain")?;
        self.rain_zone = zone;
        self.rain_entry_depth = vec![0.0; self.rain.len()];
        self.rain_depth = vec![0.0; members.len()];
        self.rain_members = members;
        // Only free cells take rain directly; the rain on blocked buildings runs off the
        // roof to the free cells around the building (down pipes): one source per building
        // and rain zone, spread evenly over those cells.
        let mut counts = vec![0.0; self.rain_members.len()];
        for k in 0..nc {
            if self.cls[k] != FREE && self.cls[k] != BUILDING {
                self.rain_zone[k] = 0;
            }
            if self.cls[k] == FREE {
                counts[self.rain_zone[k] as usize] += 1.0;
            }
        }
        counts[0] = 0.0;
        self.rain_zone_weight = counts;
        let mut seen = vec![false; nc];
        let mut stack = Vec::new();
        let mut comp = Vec::new();
        let mut border = Vec::new();
        for start in 0..nc {
            if self.cls[start] != BUILDING || seen[start] {
                continue;
            }
            comp.clear();
            border.clear();
            seen[start] = true;
            stack.push(start);
            while let Some(c) = stack.pop() {
                comp.push(c);
                let (i, j) = (c % g.nx, c / g.nx);
                let mut nb = |ni: usize, nj: usize| {
                    let m = g.cell(ni, nj);
                    if self.cls[m] == BUILDING && !seen[m] {
                        seen[m] = true;
                        stack.push(m);
                    } else if self.cls[m] == FREE {
                        border.push(m);
                    }
                };
                if i > 0 {
                    nb(i - 1, j);
                }
                if i + 1 < g.nx {
                    nb(i + 1, j);
                }
                if j > 0 {
                    nb(i, j - 1);
                }
                if j + 1 < g.ny {
                    nb(i, j + 1);
                }
            }
            border.sort_unstable();
            border.dedup();
            if border.is_empty() {
                continue;
            }
            let mut per_entry = std::collections::BTreeMap::new();
            for &c in &comp {
                for &e in &self.rain_members[self.rain_zone[c] as usize] {
                    *per_entry.entry(e).or_insert(0usize) += 1;
                }
            }
            let area = g.area();
            for (e, n) in per_entry {
                let m3_s = n as f64 * area * 1e-3 / 3600.0;
                let series = self.rain[e].map(|v| v * m3_s);
                self.pending_sources.push((series, border.clone(), true));
            }
        }
        for k in 0..nc {
            if self.cls[k] == BUILDING {
                self.rain_zone[k] = 0;
            }
        }
        Ok(())
    }

    fn setup_losses(&mut self, s: &FloodSetup) -> Result<()> {
        if s.losses.is_empty() {
            return Ok(());
        }
        if s.losses.len() >= u16::MAX as usize {
            return Err(FloodError::input("losses", "too many loss zones"));
        }
        let g = self.g;
        let mm_h = 1e-3 / 3600.0;
        let mut params = Vec::new();
        let mut entries = Vec::new();
        for (k, l) in s.losses.iter().enumerate() {
            let what = format!("losses[{k}]");
            let bad = |m: String| Err(FloodError::input(what.clone(), m));
            if !(l.sewer_mm_h.is_finite() && l.sewer_mm_h >= 0.0) {
                return bad(format!("sewer capacity {} mm/h must be >= 0", l.sewer_mm_h));
            }
            let mut lp = LossParams {
                sewer: l.sewer_mm_h * mm_h,
                ..Default::default()
            };
            match l.infiltration {
                Infiltration::None => {}
                Infiltration::Constant { mm_h: r } => {
                    if !(r.is_finite() && r >= 0.0) {
                        return bad(format!("infiltration {r} mm/h must be >= 0"));
                    }
                    lp.constant = r * mm_h;
                }
                Infiltration::GreenAmpt {
                    ks_mm_h,
                    suction_mm,
                    moisture_deficit,
                } => {
                    if !(ks_mm_h.is_finite()
                        && ks_mm_h >= 0.0
                        && suction_mm.is_finite()
                        && suction_mm >= 0.0
                        && moisture_deficit > 0.0
                        && moisture_deficit <= 1.0)
                    {
                        return bad(format!(
                            "Green-Ampt needs ks_mm_h >= 0, suction_mm >= 0 and 0 < moisture_deficit <= 1, got {ks_mm_h}, {suction_mm}, {moisture_deficit}"
                        ));
                    }
                    lp.ks = ks_mm_h * mm_h;
                    lp.psi_dtheta = suction_mm * 1e-3 * moisture_deficit;
                }
            }
            params.push(lp);
            entries.push(
                region_cells(&g, &l.region)
                    .into_iter()
                    .filter(|&c| self.cls[c] == FREE)
                    .collect::<Vec<usize>>(),
            );
        }
        // Where loss entries overlap their capacities add up; one Green-Ampt soil per cell.
        let (zone, members) = composite_zones(g.cells(), &entries, "losses")?;
        self.loss_zone = zone;
        for m in &members[1..] {
            let ga: Vec<usize> = m
                .iter()
                .copied()
                .filter(|&e| params[e].ks > 0.0 || params[e].psi_dtheta > 0.0)
                .collect();
            if ga.len() > 1 {
                return Err(FloodError::input(
                    format!("losses[{}] and losses[{}]", ga[0], ga[1]),
                    "both give Green-Ampt infiltration where their regions overlap",
                ));
            }
            let mut lp = LossParams::default();
            for &e in m {
                lp.constant += params[e].constant;
                lp.sewer += params[e].sewer;
                lp.ks += params[e].ks;
                lp.psi_dtheta += params[e].psi_dtheta;
            }
            self.loss.push(lp);
            self.loss_fixed.push(0.0);
            self.loss_ks.push(0.0);
            self.loss_psi.push(0.0);
            self.loss_sewer.push(0.0);
        }
        // Cumulative infiltration per cell (used by Green-Ampt zones).
        self.ga_f = vec![0.0; g.cells()];
        Ok(())
    }

    fn setup_inflows(&mut self, s: &FloodSetup) -> Result<()> {
        let g = self.g;
        let mut sources = std::mem::take(&mut self.pending_sources);
        for inf in &s.inflows {
            let (lo, _) = inf.m3_s.range();
            if lo < 0.0 {
                return Err(FloodError::input(
                    format!("inflow `{}`", inf.id),
                    format!("negative discharge {lo} m³/s"),
                ));
            }
            let cs: Vec<usize> = region_cells(&g, &inf.region)
                .into_iter()
                .filter(|&c| self.cls[c] == FREE)
                .collect();
            if cs.is_empty() {
                return Err(FloodError::input(
                    format!("inflow `{}`", inf.id),
                    "its region covers no free cell of the domain (outside, on a building or on a water-level boundary)",
                ));
            }
            sources.push((inf.m3_s.clone(), cs, false));
        }
        let mut cells = Vec::new();
        for (k, (series, cs, roof)) in sources.into_iter().enumerate() {
            let mut tiles: Vec<u32> = cs
                .iter()
                .map(|&c| g.tile_of(c % g.nx, c / g.nx) as u32)
                .collect();
            tiles.sort_unstable();
            tiles.dedup();
            for &c in &cs {
                cells.push((c as u32, k as u32));
            }
            self.inflows.push(InflowSrc {
                series,
                ncells: cs.len(),
                tiles,
                roof,
            });
        }
        cells.sort_unstable();
        let mut off = vec![0u32; g.nty + 1];
        for &(c, _) in &cells {
            let band = (c as usize / g.nx) / TILE_ROWS;
            off[band + 1] += 1;
        }
        for b in 0..g.nty {
            off[b + 1] += off[b];
        }
        self.inflow_cells = cells;
        self.band_inflow = off;
        self.inflow_depth = vec![0.0; self.inflows.len()];
        Ok(())
    }

    fn setup_barriers(&mut self, s: &FloodSetup) -> Result<()> {
        let g = self.g;
        // (x, face) -> contributions
        let mut entries: Vec<(bool, usize, BarrierContrib)> = Vec::new();
        let mut ids = std::collections::BTreeMap::new();
        for (k, b) in s.barriers.iter().enumerate() {
            let what = format!("barrier `{}`", b.id);
            if ids.insert(b.id.clone(), k).is_some() {
                return Err(FloodError::input(what, "the id is used twice"));
            }
            if b.line.len() < 2 || !b.line.iter().all(|p| p[0].is_finite() && p[1].is_finite()) {
                return Err(FloodError::input(
                    what,
                    "needs a line of at least 2 finite points",
                ));
            }
            if !b.crest_z.is_finite() {
                return Err(FloodError::input(what, "crest_z is not a finite number"));
            }
            if let Some(t) = b.active_from_s
                && !(t.is_finite() && t >= 0.0)
            {
                return Err(FloodError::input(what, "active_from_s must be >= 0"));
            }
        }
        let mut breach_of_barrier: Vec<Vec<usize>> = vec![Vec::new(); s.barriers.len()];
        for (k, br) in s.breaches.iter().enumerate() {
            let what = format!("breach[{k}] of `{}`", br.barrier);
            let Some(&bi) = ids.get(&br.barrier) else {
                return Err(FloodError::input(what, "no barrier has this id"));
            };
            let ok = br.width_m.is_finite()
                && br.width_m > 0.0
                && br.bottom_z.is_finite()
                && br.start_s.is_finite()
                && br.start_s >= 0.0
                && br.duration_s.is_finite()
                && br.duration_s >= 0.0
                && br.cross_m.is_finite()
                && br.cross_m > 0.0
                && br.at[0].is_finite()
                && br.at[1].is_finite();
            if !ok {
                return Err(FloodError::input(
                    what,
                    "needs width_m > 0, cross_m > 0, start_s >= 0, duration_s >= 0 and finite at/bottom_z",
                ));
            }
            let bar = &s.barriers[bi];
            if br.bottom_z >= bar.crest_z {
                return Err(FloodError::input(
                    what,
                    format!(
                        "bottom_z {} is not below the barrier crest {}",
                        br.bottom_z, bar.crest_z
                    ),
                ));
            }
            let Some((_, dist)) = project_on_line(&bar.line, br.at) else {
                return Err(FloodError::input(what, "the barrier line is empty"));
            };
            if dist > br.width_m.max(br.cross_m) + 2.0 * g.dx.max(g.dy) {
                return Err(FloodError::input(
                    what,
                    format!("`at` lies {dist:.1} m from the barrier line"),
                ));
            }
            breach_of_barrier[bi].push(k);
        }
        for (k, b) in s.barriers.iter().enumerate() {
            let from = b.active_from_s.unwrap_or(f64::NEG_INFINITY);
            if from > 0.0 {
                self.barrier_events.push(from);
            }
            let crossings = barrier_faces(&g, &b.line);
            for fc in crossings {
                let mut breach = u32::MAX;
                for &bk in &breach_of_barrier[k] {
                    let br = &s.breaches[bk];
                    let (sb, _) = project_on_line(&b.line, br.at).expect("validated");
                    if (fc.s_m - sb).abs() <= 0.5 * br.width_m {
                        breach = bk as u32;
                    }
                }
                entries.push((
                    fc.x,
                    fc.face,
                    BarrierContrib {
                        crest: b.crest_z as f32,
                        active_from: from,
                        breach,
                    },
                ));
            }
        }
        self.barrier_events.sort_by(|a, b| a.total_cmp(b));
        self.barrier_events.dedup();
        // Breach terrain: cells of the dike body near the breach.
        for br in &s.breaches {
            let bi = ids[&br.barrier];
            let bar = &s.barriers[bi];
            let (sb, _) = project_on_line(&bar.line, br.at).expect("validated");
            let reach = 0.5 * br.width_m + br.cross_m + 2.0 * g.dx.max(g.dy);
            let (c, r) = g.to_grid(br.at);
            let ri = reach / g.dx;
            let rj = reach / g.dy;
            let i0 = (c - ri).floor().max(0.0) as usize;
            let i1 = ((c + ri).ceil().max(0.0) as usize).min(g.nx);
            let j0 = (r - rj).floor().max(0.0) as usize;
            let j1 = ((r + rj).ceil().max(0.0) as usize).min(g.ny);
            let mut cells = Vec::new();
            let mut tiles = Vec::new();
            for j in j0..j1 {
                for i in i0..i1 {
                    let cell = g.cell(i, j);
                    if self.cls[cell] == BUILDING || self.cls[cell] == OUTSIDE {
                        continue;
                    }
                    let Some((sc, d)) = project_on_line(&bar.line, g.center(i, j)) else {
                        continue;
                    };
                    if d <= br.cross_m && (sc - sb).abs() <= 0.5 * br.width_m {
                        cells.push((cell as u32, self.z[cell]));
                        tiles.push(g.tile_of(i, j) as u32);
                    }
                }
            }
            tiles.sort_unstable();
            tiles.dedup();
            self.moving_max_wse
                .extend(cells.iter().map(|&(c, _)| (c, f64::NEG_INFINITY)));
            self.breaches.push(BreachState {
                crest: bar.crest_z,
                bottom: br.bottom_z,
                start: br.start_s,
                duration: br.duration_s,
                cells,
                tiles,
                applied: 0.0,
            });
        }
        self.moving_max_wse.sort_unstable_by_key(|e| e.0);
        self.moving_max_wse.dedup_by_key(|e| e.0);

        entries.sort_by_key(|a| (a.0, a.1));
        let mut faces: Vec<BarrierFace> = Vec::new();
        for (x, face, c) in entries {
            if let Some(last) = faces.last_mut()
                && last.x == x
                && last.face as usize == face
            {
                last.contrib.1 += 1;
                self.bcontrib.push(c);
                continue;
            }
            let (a, b, oi, oj) = if x {
                let (i, j) = (face % (g.nx + 1), face / (g.nx + 1));
                (g.cell(i - 1, j), g.cell(i, j), i, j)
            } else {
                let (i, f) = (face % g.nx, face / g.nx);
                (g.cell(i, f - 1), g.cell(i, f), i, f - 1)
            };
            let start = self.bcontrib.len() as u32;
            self.bcontrib.push(c);
            faces.push(BarrierFace {
                x,
                face: face as u32,
                a: a as u32,
                b: b as u32,
                band: (oj / TILE_ROWS) as u32,
                tile: g.tile_of(oi, oj) as u32,
                crest: f32::NEG_INFINITY,
                contrib: (start, start + 1),
            });
        }
        faces.sort_by_key(|f| (f.band, !f.x, f.face));
        let mut off = vec![0u32; g.nty + 1];
        for f in &faces {
            off[f.band as usize + 1] += 1;
        }
        for b in 0..g.nty {
            off[b + 1] += off[b];
        }
        self.bfaces = faces;
        self.band_bface = off;
        self.update_structures(0.0);
        self.dynamic_barriers = !self.barrier_events.is_empty() || !self.breaches.is_empty();
        Ok(())
    }

    fn setup_gauges(&mut self, s: &FloodSetup) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for gdef in &s.gauges {
            let what = format!("gauge `{}`", gdef.id);
            if !seen.insert(gdef.id.clone()) {
                return Err(FloodError::input(what, "the id is used twice"));
            }
            let Some((i, j)) = self.g.cell_at(gdef.at) else {
                return Err(FloodError::input(
                    what,
                    format!(
                        "({:.2}, {:.2}) lies outside the grid",
                        gdef.at[0], gdef.at[1]
                    ),
                ));
            };
            let cell = self.g.cell(i, j);
            if self.cls[cell] == OUTSIDE {
                return Err(FloodError::input(
                    what,
                    "lies on a cell without elevation (outside the domain)",
                ));
            }
            // A gauge on a blocked building measures the water at its walls: the nearest
            // cell where water can be (closest centre, then lowest index), within 10 cells.
            let cell = if self.cls[cell] == BUILDING {
                self.nearest_open_cell(gdef.at, i, j, 10).ok_or_else(|| {
                    FloodError::input(
                        what.clone(),
                        "lies on a blocked building with no open cell within 10 cells",
                    )
                })?
            } else {
                cell
            };
            self.gauges.push(GaugeState {
                id: gdef.id.clone(),
                cell,
            });
        }
        Ok(())
    }

    /// The cell nearest to `p` (by centre distance, ties to the lower index) within `r`
    /// cells of `(i, j)` that is neither a blocked building nor outside the domain.
    fn nearest_open_cell(&self, p: P2, i: usize, j: usize, r: usize) -> Option<usize> {
        let g = self.g;
        let mut best: Option<(f64, usize)> = None;
        for jj in j.saturating_sub(r)..(j + r + 1).min(g.ny) {
            for ii in i.saturating_sub(r)..(i + r + 1).min(g.nx) {
                let c = g.cell(ii, jj);
                if self.cls[c] == BUILDING || self.cls[c] == OUTSIDE {
                    continue;
                }
                let q = g.center(ii, jj);
                let d = (q[0] - p[0]).hypot(q[1] - p[1]);
                if best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
                    best = Some((d, c));
                }
            }
        }
        best.map(|(_, c)| c)
    }

    /// Where each gauge measures: its id and the centre of its cell (a gauge placed on a
    /// blocked building is moved to the nearest open cell).
    pub fn gauge_locations(&self) -> Vec<(String, P2)> {
        self.gauges
            .iter()
            .map(|gs| {
                let (i, j) = (gs.cell % self.g.nx, gs.cell / self.g.nx);
                (gs.id.clone(), self.g.center(i, j))
            })
            .collect()
    }

    fn setup_tiles(&mut self) {
        let g = self.g;
        for ty in 0..g.nty {
            for tx in 0..g.ntx {
                let t = ty * g.ntx + tx;
                let (i0, i1) = (tx * TILE_COLS, ((tx + 1) * TILE_COLS).min(g.nx));
                let (j0, j1) = (ty * TILE_ROWS, ((ty + 1) * TILE_ROWS).min(g.ny));
                let mut frozen = true;
                let mut rain = 0u64;
                let mut zmin = f32::INFINITY;
                let mut mask = 0u64;
                for j in j0.saturating_sub(1)..(j1 + 1).min(g.ny) {
                    for i in i0.saturating_sub(1)..(i1 + 1).min(g.nx) {
                        let c = self.cls[g.cell(i, j)] as usize;
                        if !(1..=MAX_LEVELS).contains(&c) {
                            frozen = false;
                        }
                    }
                }
                for j in j0..j1 {
                    for i in i0..i1 {
                        let cell = g.cell(i, j);
                        let c = self.cls[cell] as usize;
                        if (1..=MAX_LEVELS).contains(&c) {
                            zmin = zmin.min(self.z[cell]);
                            mask |= 1u64 << (c - 1);
                        }
                        if !self.rain_zone.is_empty() {
                            for &e in &self.rain_members[self.rain_zone[cell] as usize] {
                                rain |= 1u64 << (e % 64);
                            }
                        }
                    }
                }
                self.tile_frozen_ok[t] = frozen;
                self.tile_lazy[t] = if frozen && mask.count_ones() == 1 {
                    mask.trailing_zeros() as u8 + 1
                } else {
                    0
                };
                self.tile_rain[t] = rain;
                self.tile_bnd_zmin[t] = zmin;
                self.tile_bnd_mask[t] = mask;
                self.tile_has_level[t] = mask != 0;
                let wet = (j0..j1).any(|j| (i0..i1).any(|i| self.h[g.cell(i, j)] > 0.0));
                self.tile_wet[t] = u8::from(wet);
            }
        }
    }

    /// Barrier crests and breach terrain at time `t`; returns whether anything changed.
    fn update_structures(&mut self, t: f64) -> bool {
        let g = self.g;
        let mut changed = false;
        // Breach terrain.
        for bi in 0..self.breaches.len() {
            let frac = self.breaches[bi].fraction(t);
            if frac == self.breaches[bi].applied {
                continue;
            }
            changed = true;
            let level = self.breaches[bi].level(frac);
            self.breaches[bi].applied = frac;
            let cells = std::mem::take(&mut self.breaches[bi].cells);
            for &(c, z0) in &cells {
                let c = c as usize;
                self.z[c] = z0.min(level as f32);
            }
            for &(c, _) in &cells {
                let (i, j) = (c as usize % g.nx, c as usize / g.nx);
                self.refresh_face_bed(true, g.xface(i, j));
                self.refresh_face_bed(true, g.xface(i + 1, j));
                self.refresh_face_bed(false, g.yface(i, j));
                self.refresh_face_bed(false, g.yface(i, j + 1));
            }
            self.breaches[bi].cells = cells;
        }
        // Barrier crests.
        if !self.dynamic_barriers {
            return changed;
        }
        for k in 0..self.bfaces.len() {
            let f = &self.bfaces[k];
            let mut crest = f32::NEG_INFINITY;
            for c in &self.bcontrib[f.contrib.0 as usize..f.contrib.1 as usize] {
                if t < c.active_from {
                    continue;
                }
                let mut cz = c.crest;
                if c.breach != u32::MAX {
                    let b = &self.breaches[c.breach as usize];
                    cz = cz.min(b.level(b.fraction(t)) as f32);
                }
                crest = crest.max(cz);
            }
            if crest != f.crest {
                changed = true;
                let (x, face) = (f.x, f.face as usize);
                self.bfaces[k].crest = crest;
                self.refresh_face_bed(x, face);
            }
        }
        changed
    }

    /// Recompute one face's bed from its cells and any barrier crest on it.
    fn refresh_face_bed(&mut self, x: bool, face: usize) {
        let g = self.g;
        let (a, b) = if x {
            let (i, j) = (face % (g.nx + 1), face / (g.nx + 1));
            (g.cell(i.saturating_sub(1), j), g.cell(i.min(g.nx - 1), j))
        } else {
            let (i, f) = (face % g.nx, face / g.nx);
            (g.cell(i, f.saturating_sub(1)), g.cell(i, f.min(g.ny - 1)))
        };
        let mut zf = self.z[a].max(self.z[b]);
        if let Ok(k) = self
            .bfaces
            .binary_search_by_key(&((a / g.nx / TILE_ROWS) as u32, !x, face as u32), |bf| {
                (bf.band, !bf.x, bf.face)
            })
        {
            zf = zf.max(self.bfaces[k].crest);
        }
        if x {
            self.zfx[face] = zf;
        } else {
            self.zfy[face] = zf;
        }
    }

    /// Run the band loops compiled for `isa` instead of the widest the CPU has (for
    /// comparisons and tests; every variant gives the same bits).
    pub fn set_isa(&mut self, isa: Isa) -> Result<()> {
        if !isa.supported() {
            return Err(FloodError::param(
                "isa",
                format!("{isa:?} is not supported by this CPU"),
            ));
        }
        self.isa = isa;
        Ok(())
    }

    /// The instruction-set variant in use.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Current simulated time (s).
    pub fn time(&self) -> f64 {
        self.t
    }
    /// Number of time steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// The grid of every raster the model reads and writes.
    pub fn spec(&self) -> GridSpec {
        self.g.spec
    }
    pub fn params(&self) -> &Params {
        &self.p
    }

    /// Water volume in the free cells (m³): compensated sums per band, added in band order.
    fn storage(&self) -> f64 {
        let a = self.g.area();
        let chunk = self.g.nx * TILE_ROWS;
        let parts: Vec<Sum> = self
            .h
            .par_chunks(chunk)
            .zip(self.cls.par_chunks(chunk))
            .map(|(h, c)| {
                let mut s = Sum::default();
                for (h, c) in h.iter().zip(c) {
                    if *c == FREE {
                        s.add(*h);
                    }
                }
                s
            })
            .collect();
        let mut total = Sum::default();
        for p in parts {
            total.add(p.s);
            total.add(p.c);
        }
        total.get() * a
    }

    /// Water depth now (m) as a raster (NaN outside the domain and on blocked buildings).
    pub fn depth(&self) -> Raster<f32> {
        let data = self
            .h
            .iter()
            .zip(&self.cls)
            .map(|(&h, &c)| {
                if c == OUTSIDE || c == BUILDING {
                    f32::NAN
                } else {
                    h as f32
                }
            })
            .collect();
        Raster {
            spec: self.g.spec,
            nodata: Some(f32::NAN),
            data,
        }
    }

    /// What each cell is: 0 computed (free), 1 prescribed water level, 2 blocked building,
    /// 3 outside the domain (no elevation).
    pub fn cell_kinds(&self) -> Raster<u8> {
        let data = self
            .cls
            .iter()
            .map(|&c| match c {
                FREE => 0,
                BUILDING => 2,
                OUTSIDE => 3,
                _ => 1,
            })
            .collect();
        Raster {
            spec: self.g.spec,
            nodata: None,
            data,
        }
    }

    /// Depth of one cell now (m).
    pub fn depth_at(&self, i: usize, j: usize) -> f64 {
        self.h[self.g.cell(i, j)]
    }

    /// Bed elevation of one cell now (m); buildings and cells outside are very high.
    pub fn bed_at(&self, i: usize, j: usize) -> f64 {
        self.z[self.g.cell(i, j)] as f64
    }

    /// Discharge through the west face of cell (i, j) at the last step (m²/s, + east).
    pub fn qx_at(&self, i: usize, j: usize) -> f64 {
        self.qx[self.cur][self.g.xface(i, j)] as f64
    }
    /// Discharge through the face between rows f − 1 and f (m²/s, + south).
    pub fn qy_at(&self, i: usize, f: usize) -> f64 {
        self.qy[self.cur][self.g.yface(i, f)] as f64
    }

    /// Speed at a cell centre from the four face discharges (m/s).
    fn speed_of(&self, c: usize) -> f64 {
        let g = self.g;
        let h = self.h[c];
        if h < self.p.speed_min_depth_m {
            return 0.0;
        }
        let (i, j) = (c % g.nx, c / g.nx);
        let qx = &self.qx[self.cur];
        let qy = &self.qy[self.cur];
        let u = 0.5 * (qx[g.xface(i, j)] + qx[g.xface(i + 1, j)]) as f64 / h;
        let v = 0.5 * (qy[g.yface(i, j)] + qy[g.yface(i, j + 1)]) as f64 / h;
        (u * u + v * v).sqrt()
    }

    /// Bring the depths and maxima of the lazy tiles (frozen, one level) up to date. Their
    /// depth is `max(level − z, 0)` of the current level; their maximum over the steps
    /// since the last sync is that of the highest level in those steps (the map is
    /// monotone, so this is bitwise what updating every step gives).
    fn sync_lazy(&mut self) {
        if self
            .level_peak_pending
            .iter()
            .all(|m| *m == f64::NEG_INFINITY)
        {
            return;
        }
        let g = self.g;
        for ty in 0..g.nty {
            for tx in 0..g.ntx {
                let tl = self.tile_lazy[ty * g.ntx + tx];
                if tl == 0 {
                    continue;
                }
                let k = tl as usize - 1;
                let (lv, lm) = (self.level_now[k], self.level_peak_pending[k]);
                let (i0, i1) = (tx * TILE_COLS, ((tx + 1) * TILE_COLS).min(g.nx));
                for j in ty * TILE_ROWS..((ty + 1) * TILE_ROWS).min(g.ny) {
                    for c in g.cell(i0, j)..g.cell(i0, j) + (i1 - i0) {
                        let z = self.z[c] as f64;
                        self.h[c] = (lv - z).max(0.0);
                        let peak = (lm - z).max(0.0) as f32;
                        self.max_h[c] = self.max_h[c].max(peak);
                    }
                }
            }
        }
        self.level_peak_pending.fill(f64::NEG_INFINITY);
    }

    fn record_gauges(&mut self) {
        self.sync_lazy();
        let t = self.t;
        for gi in 0..self.gauges.len() {
            let c = self.gauges[gi].cell;
            let h = self.h[c];
            let row = GaugeRow {
                t_s: t,
                id: self.gauges[gi].id.clone(),
                depth_m: h,
                wse_m: self.z[c] as f64 + h,
                speed_m_s: self.speed_of(c),
            };
            self.gauge_rows.push(row);
        }
        self.next_gauge += 1;
    }

    /// Advance the model to exactly `t_end` (s), at most the run's duration.
    pub fn advance_to(&mut self, t_end: f64) -> Result<()> {
        let t_end = t_end.min(self.p.duration_s);
        let mut r = Ok(());
        while self.t < t_end {
            let next_gauge = self.next_gauge as f64 * self.p.gauge_interval_s;
            let mut target = t_end.min(next_gauge);
            if let Some(&e) = self.barrier_events.iter().find(|&&e| e > self.t) {
                target = target.min(e);
            }
            r = self.step(target);
            if r.is_err() {
                break;
            }
            if self.t >= next_gauge {
                self.record_gauges();
            }
        }
        self.sync_lazy();
        r
    }

    /// Take one stable time step (not beyond the duration, gauge or barrier times);
    /// returns its length (0 at the end of the run).
    pub fn step_once(&mut self) -> Result<f64> {
        let t0 = self.t;
        if t0 >= self.p.duration_s {
            return Ok(0.0);
        }
        let next_gauge = self.next_gauge as f64 * self.p.gauge_interval_s;
        let mut target = self.p.duration_s.min(next_gauge);
        if let Some(&e) = self.barrier_events.iter().find(|&&e| e > self.t) {
            target = target.min(e);
        }
        let r = self.step(target);
        self.sync_lazy();
        r?;
        if self.t >= next_gauge {
            self.record_gauges();
        }
        Ok(self.t - t0)
    }

    /// Run to the end of the duration.
    pub fn run(&mut self) -> Result<()> {
        self.advance_to(self.p.duration_s)
    }

    /// What bounds the next time step, as wave speeds (m/s): `sqrt(g h)` of the deepest free
    /// cell, the largest `|u| + sqrt(g h)` over the wet faces of the last step, and
    /// `sqrt(g h)` of the deepest flow a water-level boundary can drive over its lowest face.
    pub fn step_limits(&self) -> [f64; 3] {
        let g = self.p.gravity;
        let ahead = self.t + self.p.max_dt_s;
        let lv = self
            .levels
            .iter()
            .enumerate()
            .map(|(k, l)| l.value_at(self.t).max(l.value_at(ahead)) - self.level_face_zmin[k])
            .fold(0.0, f64::max);
        [(g * self.hmax).sqrt(), self.smax, (g * lv.max(0.0)).sqrt()]
    }

    /// The stable time step now, before clipping to output times:
    /// `courant · sqrt(θ) / (s · sqrt(1/dx² + 1/dy²))` with `s` the largest wave speed.
    ///
    /// Von Neumann analysis of the q-centred scheme for its checkerboard mode (depths
    /// alternating cell by cell, discharges face by face) gives the amplification matrix
    /// `[[β, 2σx, 2σy] …]` with `β = 2θ − 1`, determinant `β` and trace
    /// `1 + β − 4 (σx² + σy²)`, `σ = c Δt / Δx`: stable while `σx² + σy² ≤ θ`. θ = 1 is
    /// the familiar `c Δt ≤ Δx / sqrt 2` on square cells; θ = 0.7 lowers it to
    /// `c Δt ≤ 0.59 Δx` (a polder 6.6 m deep grew a checkerboard at 0.60).
    fn stable_dt(&self) -> f64 {
        let s = self.step_limits().into_iter().fold(0.0, f64::max);
        if s <= (self.p.gravity * self.p.dry_depth_m).sqrt() {
            return self.p.max_dt_s;
        }
        let inv = (self.g.dx.powi(-2) + self.g.dy.powi(-2)).sqrt();
        (self.p.courant * self.p.theta.sqrt() / (s * inv)).min(self.p.max_dt_s)
    }

    fn unstable(&self, cell: usize, message: String) -> FloodError {
        let (i, j) = (cell % self.g.nx, cell / self.g.nx);
        let [x, y] = self.g.center(i, j);
        FloodError::Unstable {
            t_s: self.t,
            message,
            col: i,
            row: j,
            x,
            y,
        }
    }

    /// One step, not beyond `target`.
    fn step(&mut self, target: f64) -> Result<()> {
        let g = self.g;
        let mut dt = self.stable_dt();
        let remaining = target - self.t;
        if dt < self.p.min_dt_s && remaining > self.p.min_dt_s {
            let c = self.deepest_cell();
            return Err(self.unstable(
                c,
                format!(
                    "the stable time step {dt:.3e} s fell below min_dt_s {} s (wave speed {:.1} m/s)",
                    self.p.min_dt_s,
                    self.step_limits().into_iter().fold(0.0, f64::max)
                ),
            ));
        }
        // Avoid a sliver step just before an output time.
        if remaining <= dt * 1.0001 {
            dt = remaining;
        } else if remaining < 2.0 * dt {
            dt = 0.5 * remaining;
        }
        let t0 = self.t;
        let t1 = if remaining == dt { target } else { t0 + dt };
        let dt = t1 - t0;

        // 1. Forcings.
        for (e, r) in self.rain.iter().enumerate() {
            self.rain_entry_depth[e] = r.integral(t0, t1) * (1e-3 / 3600.0);
        }
        for (z, m) in self.rain_members.iter().enumerate() {
            self.rain_depth[z] = m.iter().map(|&e| self.rain_entry_depth[e]).sum();
        }
        let area = g.area();
        for (k, src) in self.inflows.iter().enumerate() {
            self.inflow_depth[k] = src.series.integral(t0, t1) / (src.ncells as f64 * area);
        }
        for (k, l) in self.levels.iter().enumerate() {
            self.level_now[k] = l.value_at(t1);
        }
        for (m, &l) in self.level_peak_pending.iter_mut().zip(&self.level_now) {
            *m = m.max(l);
        }
        let structures_moving = self.update_structures(t0);

        // 2. Activity.
        self.update_tiles(structures_moving);

        // 3. Pass 1: fluxes.
        let k = StepConst {
            dt,
            g: self.p.gravity,
            gdt: self.p.gravity * dt,
            theta: self.p.theta,
            half_1mt: 0.5 * (1.0 - self.p.theta),
            froude: self.p.froude_max,
            dry: self.p.dry_depth_m,
            inv_dx: 1.0 / g.dx,
            inv_dy: 1.0 / g.dy,
            cd_weir: self.p.weir_cd,
        };
        self.pass1(&k);
        let edge_out = self.edge_pass(&k);

        // 4. Pass 2: depths.
        self.pass2(&k, t1);

        // 5. Negative depths.
        let (bnd_fix, edge_fix, clamped) = self.fix_negative(&k);

        // 6. Sums in band order.
        let mut hmax: f64 = 0.0;
        let mut smax: f64 = 0.0;
        let mut v = self.vol;
        for b in &self.band {
            if let Some(c) = b.bad {
                return Err(self.unstable(c, "the water depth became non-finite".into()));
            }
            hmax = hmax.max(b.hmax as f64);
            smax = smax.max(b.smax as f64);
            v.bnd_in.add(b.bnd_in * area);
            v.bnd_out.add(b.bnd_out * area);
            v.infiltration.add(b.infiltration * area);
            v.sewer.add(b.sewer * area);
        }
        // Rain and inflows enter exactly as integrated over the step.
        for z in 1..self.rain_depth.len() {
            v.rain
                .add(self.rain_depth[z] * self.rain_zone_weight[z] * area);
        }
        for (k, src) in self.inflows.iter().enumerate() {
            let vol = self.inflow_depth[k] * src.ncells as f64 * area;
            if src.roof {
                v.rain.add(vol);
            } else {
                v.inflow.add(vol);
            }
        }
        v.bnd_out.add(-bnd_fix * area);
        v.edge_out.add(edge_out);
        v.edge_out.add(-edge_fix);
        v.clamped.add(clamped * area);
        self.vol = v;
        self.hmax = hmax;
        self.smax = smax;
        for e in &mut self.moving_max_wse {
            let c = e.0 as usize;
            e.1 = e.1.max(self.z[c] as f64 + self.h[c]);
        }

        self.cur ^= 1;
        self.t = t1;
        self.steps += 1;
        let active = self.active_cells() as u64;
        let st = &mut self.stats;
        st.steps = self.steps;
        st.min_dt_s = if st.steps == 1 {
            dt
        } else {
            st.min_dt_s.min(dt)
        };
        st.max_dt_s = st.max_dt_s.max(dt);
        st.cell_updates += active;
        Ok(())
    }

    fn deepest_cell(&self) -> usize {
        let mut best = 0;
        let mut hb = -1.0;
        for (c, &h) in self.h.iter().enumerate() {
            if self.cls[c] == FREE && h > hb {
                hb = h;
                best = c;
            }
        }
        best
    }

    fn active_cells(&self) -> usize {
        self.spans
            .iter()
            .filter(|s| !s.frozen)
            .map(|s| (s.c1 - s.c0) as usize)
            .sum::<usize>()
            * TILE_ROWS
    }

    /// Decide the tile states of this step and rebuild the spans.
    fn update_tiles(&mut self, structures_moving: bool) {
        let g = self.g;
        let (ntx, nty) = (g.ntx, g.nty);
        self.tile_forced.iter_mut().for_each(|f| *f = 0);
        // Rain zones raining this step.
        let mut raining = 0u64;
        for (e, &d) in self.rain_entry_depth.iter().enumerate() {
            if d > 0.0 {
                raining |= 1u64 << (e % 64);
            }
        }
        // Boundaries above their lowest cell in a tile.
        for t in 0..ntx * nty {
            let mut f = self.tile_rain[t] & raining != 0;
            let mask = self.tile_bnd_mask[t];
            if !f && mask != 0 {
                let zmin = self.tile_bnd_zmin[t] as f64;
                let mut m = mask;
                while m != 0 {
                    let b = m.trailing_zeros() as usize;
                    if self.level_now[b] > zmin {
                        f = true;
                        break;
                    }
                    m &= m - 1;
                }
            }
            self.tile_forced[t] = u8::from(f);
        }
        for (k, src) in self.inflows.iter().enumerate() {
            if self.inflow_depth[k] > 0.0 {
                for &t in &src.tiles {
                    self.tile_forced[t as usize] = 1;
                }
            }
        }
        if structures_moving {
            for b in &self.breaches {
                for &t in &b.tiles {
                    self.tile_forced[t as usize] = 1;
                }
            }
        }
        // New states: forced, or wet in the 3 x 3 neighbourhood.
        for ty in 0..nty {
            for tx in 0..ntx {
                let t = ty * ntx + tx;
                let mut on = self.tile_forced[t] != 0;
                if !on {
                    'n: for y in ty.saturating_sub(1)..(ty + 2).min(nty) {
                        for x in tx.saturating_sub(1)..(tx + 2).min(ntx) {
                            if self.tile_wet[y * ntx + x] != 0 {
                                on = true;
                                break 'n;
                            }
                        }
                    }
                }
                let new = if !on {
                    INACTIVE
                } else if self.tile_frozen_ok[t] {
                    FROZEN
                } else {
                    ACTIVE
                };
                let old = self.tile_state[t];
                if old == ACTIVE && new != ACTIVE {
                    self.zero_tile_faces(tx, ty);
                }
                self.tile_state[t] = new;
            }
        }
        // Spans.
        self.spans.clear();
        for ty in 0..nty {
            self.band_spans[ty] = self.spans.len() as u32;
            let mut tx = 0;
            while tx < ntx {
                let s = self.tile_state[ty * ntx + tx];
                if s == INACTIVE {
                    tx += 1;
                    continue;
                }
                let start = tx;
                while tx < ntx && self.tile_state[ty * ntx + tx] == s {
                    tx += 1;
                }
                self.spans.push(Span {
                    c0: (start * TILE_COLS) as u32,
                    c1: ((tx * TILE_COLS).min(g.nx)) as u32,
                    frozen: s == FROZEN,
                });
            }
        }
        self.band_spans[nty] = self.spans.len() as u32;
    }

    /// Zero the faces a tile owns in both buffers (it stops being computed).
    fn zero_tile_faces(&mut self, tx: usize, ty: usize) {
        let g = self.g;
        let (i0, i1) = (tx * TILE_COLS, ((tx + 1) * TILE_COLS).min(g.nx));
        let (j0, j1) = (ty * TILE_ROWS, ((ty + 1) * TILE_ROWS).min(g.ny));
        let i1x = if i1 == g.nx { g.nx + 1 } else { i1 };
        for buf in 0..2 {
            for j in j0..j1 {
                self.qx[buf][g.xface(i0, j)..g.xface(i1x, j)].fill(0.0);
                self.qy[buf][g.yface(i0, j + 1)..g.yface(i1, j + 1)].fill(0.0);
            }
            if ty == 0 {
                self.qy[buf][g.yface(i0, 0)..g.yface(i1, 0)].fill(0.0);
            }
        }
    }

    fn pass1(&mut self, k: &StepConst) {
        let g = self.g;
        let nx = g.nx;
        let isa = self.isa;
        let implicit = self.p.friction == Friction::Implicit;
        let (qx_old, qx_new) = split2(&mut self.qx, self.cur);
        let (qy_old, qy_new) = split2(&mut self.qy, self.cur);
        let p = Pass1 {
            g,
            fk: FaceConst::new(k),
            inv_dx: k.inv_dx,
            inv_dy: k.inv_dy,
            z: &self.z,
            h: &self.h,
            n: &self.n,
            cls: &self.cls,
            zfx: &self.zfx,
            zfy: &self.zfy,
            qx_old,
            qy_old,
        };
        let (z, h, cls) = (&self.z, &self.h, &self.cls);
        let spans = &self.spans;
        let band_spans = &self.band_spans;
        let bfaces = &self.bfaces;
        let band_bface = &self.band_bface;
        let tile_state = &self.tile_state;
        let g_acc = k.g;
        qx_new
            .par_chunks_mut(TILE_ROWS * (nx + 1))
            .zip(qy_new[nx..].par_chunks_mut(TILE_ROWS * nx))
            .zip(self.band.par_iter_mut())
            .enumerate()
            .for_each(|(b, ((qxb, qyb), st))| {
                let bs = &spans[band_spans[b] as usize..band_spans[b + 1] as usize];
                let mut smax = if bs.is_empty() {
                    0.0
                } else {
                    pass1_band(isa, implicit, &p, bs, b, qxb, qyb)
                };
                // Barrier faces of this band: the weir law where a crest stands above
                // the terrain.
                let r0 = b * TILE_ROWS;
                for bf in &bfaces[band_bface[b] as usize..band_bface[b + 1] as usize] {
                    if tile_state[bf.tile as usize] != ACTIVE {
                        continue;
                    }
                    let (a, bb) = (bf.a as usize, bf.b as usize);
                    let crest = bf.crest as f64;
                    let above = crest.partial_cmp(&(z[a].max(z[bb]) as f64));
                    if above != Some(std::cmp::Ordering::Greater) {
                        continue;
                    }
                    let len = if bf.x { g.dx } else { g.dy };
                    let q = if cls[a] != FREE && cls[bb] != FREE {
                        0.0
                    } else {
                        weir_flux(k, z[a] as f64 + h[a], z[bb] as f64 + h[bb], crest, len)
                    };
                    let f = bf.face as usize;
                    if bf.x {
                        qxb[f - r0 * (nx + 1)] = q as f32;
                    } else {
                        qyb[f - (r0 + 1) * nx] = q as f32;
                    }
                }
                // The weir faces' speeds, at critical flow over the crest.
                for bf in &bfaces[band_bface[b] as usize..band_bface[b + 1] as usize] {
                    let f = bf.face as usize;
                    let q = if bf.x {
                        qxb[f - r0 * (nx + 1)]
                    } else {
                        qyb[f - (r0 + 1) * nx]
                    };
                    if q != 0.0 {
                        let hc = ((q as f64).abs().powi(2) / g_acc).cbrt();
                        smax = smax.max(2.0 * (g_acc * hc).sqrt() as f32);
                    }
                }
                *st = BandStats {
                    smax,
                    ..Default::default()
                };
            });
    }

    /// Open edges: free outflow. Returns the volume that left (m³).
    fn edge_pass(&mut self, k: &StepConst) -> f64 {
        let g = self.g;
        let (nx, ny) = (g.nx, g.ny);
        let e = self.edges;
        if [e.north, e.east, e.south, e.west]
            .iter()
            .all(|s| *s == EdgeKind::Closed)
        {
            return 0.0;
        }
        let cur = self.cur;
        let implicit = self.p.friction == Friction::Implicit;
        let mut out = 0.0;
        let eta = |s: &Self, c: usize| s.z[c] as f64 + s.h[c];
        // (edge cell, inner neighbour or None, face, x?, outward sign)
        let mut run =
            |s: &mut Self, cell: usize, inner: Option<usize>, face: usize, x: bool, sign: f64| {
                let (i, j) = (cell % nx, cell / nx);
                if s.tile_state[g.tile_of(i, j)] != ACTIVE || s.cls[cell] != FREE {
                    return;
                }
                let hc = s.h[cell];
                let old = if x { s.qx[cur][face] } else { s.qy[cur][face] } as f64;
                let mut q = 0.0;
                if hc > k.dry {
                    // Water-surface slope from the edge cell towards the inside, continued
                    // across the edge: outflow when the surface falls towards the edge.
                    let fall = match inner {
                        Some(m) if s.cls[m] == FREE => eta(s, m) - eta(s, cell),
                        _ => 0.0,
                    };
                    let inv_d = if x { k.inv_dx } else { k.inv_dy };
                    let grad_out = fall.max(0.0) * inv_d; // slope down towards the edge
                    let n = s.n[cell] as f64;
                    let r = crate::kernel::inv_cbrt(hc);
                    let r7 = r * r * r * r * r * r * r;
                    let qo = (old * sign).max(0.0);
                    let qs = qo + k.gdt * hc * grad_out;
                    let qn = if implicit {
                        let a = k.gdt * n * n * r7;
                        2.0 * qs / (1.0 + (1.0 + 4.0 * a * qs).sqrt())
                    } else {
                        qs / (1.0 + k.gdt * n * n * qo * r7)
                    };
                    let qmax = k.froude * hc * (k.g * hc).sqrt();
                    q = qn.min(qmax).max(0.0) * sign;
                }
                let width = if x { g.dy } else { g.dx };
                let qf = q as f32;
                out += (qf as f64).abs() * k.dt * width;
                let newbuf = cur ^ 1;
                if x {
                    s.qx[newbuf][face] = qf;
                } else {
                    s.qy[newbuf][face] = qf;
                }
            };
        for j in 0..ny {
            if e.west == EdgeKind::Open {
                let c = g.cell(0, j);
                run(
                    self,
                    c,
                    (nx > 1).then(|| g.cell(1, j)),
                    g.xface(0, j),
                    true,
                    -1.0,
                );
            }
            if e.east == EdgeKind::Open {
                let c = g.cell(nx - 1, j);
                run(
                    self,
                    c,
                    (nx > 1).then(|| g.cell(nx - 2, j)),
                    g.xface(nx, j),
                    true,
                    1.0,
                );
            }
        }
        for i in 0..nx {
            if e.north == EdgeKind::Open {
                let c = g.cell(i, 0);
                run(
                    self,
                    c,
                    (ny > 1).then(|| g.cell(i, 1)),
                    g.yface(i, 0),
                    false,
                    -1.0,
                );
            }
            if e.south == EdgeKind::Open {
                let c = g.cell(i, ny - 1);
                run(
                    self,
                    c,
                    (ny > 1).then(|| g.cell(i, ny - 2)),
                    g.yface(i, ny),
                    false,
                    1.0,
                );
            }
        }
        out
    }

    fn pass2(&mut self, k: &StepConst, t1: f64) {
        let g = self.g;
        let nx = g.nx;
        let dt = k.dt;
        for (z, lp) in self.loss.iter().enumerate() {
            self.loss_fixed[z] = (lp.constant + lp.ks) * dt;
            self.loss_ks[z] = lp.ks * dt;
            self.loss_psi[z] = lp.psi_dtheta;
            self.loss_sewer[z] = lp.sewer * dt;
        }
        let p = Pass2 {
            g,
            k: *k,
            t1: t1 as f32,
            thr: self.p.arrival_depth_m,
            smin: self.p.speed_min_depth_m,
            qx: &self.qx[self.cur ^ 1],
            qy: &self.qy[self.cur ^ 1],
            z: &self.z,
            cls: &self.cls,
            rain_zone: &self.rain_zone,
            rain_depth: &self.rain_depth,
            loss_zone: &self.loss_zone,
            loss_fixed: &self.loss_fixed,
            loss_ks: &self.loss_ks,
            loss_psi: &self.loss_psi,
            loss_sewer: &self.loss_sewer,
            level_now: &self.level_now,
            tile_has_level: &self.tile_has_level,
            tile_lazy: &self.tile_lazy,
            tile_bnd_zmin: &self.tile_bnd_zmin,
            inflow_cells: &self.inflow_cells,
            band_inflow: &self.band_inflow,
            inflow_depth: &self.inflow_depth,
        };
        let isa = self.isa;
        let rain = !self.rain_zone.is_empty();
        let loss = !self.loss_zone.is_empty();
        let spans = &self.spans;
        let band_spans = &self.band_spans;
        let chunk = TILE_ROWS * nx;
        // Without loss zones `ga_f` has one dummy value per band.
        let ga_chunk = if loss { chunk } else { 1 };
        (
            self.h.par_chunks_mut(chunk),
            self.max_h.par_chunks_mut(chunk),
            self.max_speed.par_chunks_mut(chunk),
            self.max_hr.par_chunks_mut(chunk),
            self.arrival.par_chunks_mut(chunk),
            self.duration.par_chunks_mut(chunk),
            self.ga_f.par_chunks_mut(ga_chunk),
            self.tile_wet.par_chunks_mut(g.ntx),
            self.band.par_iter_mut(),
            self.neg.par_iter_mut(),
        )
            .into_par_iter()
            .enumerate()
            .for_each(
                |(b, (h, max_h, max_speed, max_hr, arrival, duration, ga_f, wet, st, neg))| {
                    let bs = &spans[band_spans[b] as usize..band_spans[b + 1] as usize];
                    let mut o = Pass2Band {
                        h,
                        max_h,
                        max_speed,
                        max_hr,
                        arrival,
                        duration,
                        ga_f,
                        wet,
                        neg,
                    };
                    let s = pass2_band(isa, rain, loss, &p, bs, b, &mut o);
                    *st = BandStats { smax: st.smax, ..s };
                },
            );
    }

    /// Scale down the outflows of cells the step drained below zero; returns the volume
    /// (m of depth over one cell) no longer sent into prescribed cells and over open edges,
    /// and the round-off clamped.
    fn fix_negative(&mut self, k: &StepConst) -> (f64, f64, f64) {
        let g = self.g;
        let dt = k.dt;
        let nx = g.nx;
        let mut work = std::mem::take(&mut self.fix_work);
        work.clear();
        for b in &self.neg {
            work.extend_from_slice(b);
        }
        if work.is_empty() {
            self.fix_work = work;
            return (0.0, 0.0, 0.0);
        }
        let newb = self.cur ^ 1;
        let (mut bnd, mut edge, mut clamped) = (0.0, 0.0, 0.0);
        let mut pos = 0;
        let mut guard = 0usize;
        while pos < work.len() {
            let c = work[pos] as usize;
            pos += 1;
            guard += 1;
            let hv = self.h[c];
            if hv >= 0.0 {
                continue;
            }
            if guard > 100 * g.cells().max(1000) {
                clamped -= hv;
                self.h[c] = 0.0;
                continue;
            }
            let (i, j) = (c % nx, c / nx);
            // (x?, face, sign of outflow, neighbour)
            let faces = [
                (true, g.xface(i, j), -1.0, (i > 0).then(|| c - 1)),
                (true, g.xface(i + 1, j), 1.0, (i + 1 < nx).then(|| c + 1)),
                (false, g.yface(i, j), -1.0, (j > 0).then(|| c - nx)),
                (
                    false,
                    g.yface(i, j + 1),
                    1.0,
                    (j + 1 < g.ny).then(|| c + nx),
                ),
            ];
            let mut out = 0.0;
            for &(x, f, sign, _) in &faces {
                let q = if x {
                    self.qx[newb][f]
                } else {
                    self.qy[newb][f]
                } as f64
                    * sign;
                if q > 0.0 {
                    out += q * dt * if x { k.inv_dx } else { k.inv_dy };
                }
            }
            if out <= 0.0 {
                clamped -= hv;
                self.h[c] = 0.0;
                continue;
            }
            // A few single-precision ulps less than exact, so that rounding the scaled
            // discharges to f32 never leaves the cell below zero.
            let keep = ((1.0 - (-hv) / out) * (1.0 - 1e-6)).clamp(0.0, 1.0);
            let mut returned = 0.0;
            for &(x, f, sign, nb) in &faces {
                let qf = if x {
                    self.qx[newb][f]
                } else {
                    self.qy[newb][f]
                } as f64;
                if qf * sign <= 0.0 {
                    continue;
                }
                let qn = (qf * keep) as f32;
                let back = (qf - qn as f64) * sign * dt * if x { k.inv_dx } else { k.inv_dy };
                returned += back;
                if x {
                    self.qx[newb][f] = qn;
                } else {
                    self.qy[newb][f] = qn;
                }
                match nb {
                    Some(m) if self.cls[m] == FREE => {
                        self.h[m] -= back;
                        if self.h[m] < 0.0 {
                            work.push(m as u32);
                        }
                    }
                    Some(m) if self.cls[m] < BUILDING => bnd += back,
                    Some(_) => {}
                    None => edge += back * g.area(),
                }
            }
            let hn = hv + returned;
            if hn < 0.0 {
                clamped -= hn;
            }
            self.h[c] = hn.max(0.0);
            self.stats.fixups += 1;
        }
        self.fix_work = work;
        (bnd, edge, clamped)
    }

    /// The mass balance so far (cheap: one pass over the depths).
    pub fn mass_balance(&self) -> MassBalance {
        let storage = self.storage();
        let v = self.vol;
        let (rain, inflow, bnd_in) = (v.rain.get(), v.inflow.get(), v.bnd_in.get());
        let (bnd_out, edge_out) = (v.bnd_out.get(), v.edge_out.get());
        let (infiltration, sewer, clamped) = (v.infiltration.get(), v.sewer.get(), v.clamped.get());
        let inputs = rain + inflow + bnd_in;
        let outputs = bnd_out + edge_out + infiltration + sewer;
        let change = storage - self.initial_storage;
        let error = change - (inputs - outputs) - clamped;
        let scale = inputs.max(outputs).max(storage).max(self.initial_storage);
        MassBalance {
            t_s: self.t,
            initial_storage_m3: self.initial_storage,
            final_storage_m3: storage,
            storage_change_m3: change,
            rain_m3: rain,
            inflow_m3: inflow,
            boundary_in_m3: bnd_in,
            boundary_out_m3: bnd_out,
            edge_out_m3: edge_out,
            infiltration_m3: infiltration,
            sewer_m3: sewer,
            clamped_m3: clamped,
            error_m3: error,
            relative_error: if scale > 0.0 {
                error.abs() / scale
            } else {
                0.0
            },
        }
    }

    /// Results so far: maxima, arrival, duration, hazard, gauges and the mass balance.
    pub fn results(&self) -> FloodResults {
        let g = self.g;
        let spec = g.spec;
        let nc = g.cells();
        let nan = f32::NAN;
        let excluded = |c: usize| self.cls[c] == OUTSIDE || self.cls[c] == BUILDING;
        let free = |c: usize| self.cls[c] == FREE;
        let mut max_depth = vec![nan; nc];
        let mut max_wse = vec![nan; nc];
        let mut max_speed = vec![nan; nc];
        let mut arrival = vec![nan; nc];
        let mut duration = vec![nan; nc];
        let mut hazard = vec![nan; nc];
        let mut class = vec![0u8; nc];
        for c in 0..nc {
            if excluded(c) {
                class[c] = 255;
                continue;
            }
            max_depth[c] = self.max_h[c];
            max_wse[c] = if self.max_h[c] > 0.0 {
                (self.z[c] as f64 + self.max_h[c] as f64) as f32
            } else {
                nan
            };
            if free(c) {
                max_speed[c] = self.max_speed[c];
                arrival[c] = self.arrival[c];
                duration[c] = self.duration[c] as f32;
                hazard[c] = self.max_hr[c];
                class[c] = hazard_class(self.max_hr[c] as f64);
            } else {
                class[c] = 255;
            }
        }
        for &(c, w) in &self.moving_max_wse {
            let c = c as usize;
            if self.max_h[c] > 0.0 && w.is_finite() {
                max_wse[c] = w as f32;
            }
        }
        let r = |data: Vec<f32>| Raster {
            spec,
            nodata: Some(f32::NAN),
            data,
        };
        let mass = self.mass_balance();
        FloodResults {
            spec,
            max_depth: r(max_depth),
            max_wse: r(max_wse),
            max_speed: r(max_speed),
            arrival_time: r(arrival),
            duration: r(duration),
            max_hazard: r(hazard),
            hazard_class: Raster {
                spec,
                nodata: Some(255),
                data: class,
            },
            gauges: self.gauge_rows.clone(),
            mass,
            stats: self.stats.clone(),
            level_ids: self.level_ids.clone(),
        }
    }
}

fn split2<T>(v: &mut [Vec<T>; 2], cur: usize) -> (&Vec<T>, &mut Vec<T>) {
    let (a, b) = v.split_at_mut(1);
    if cur == 0 {
        (&a[0], &mut b[0])
    } else {
        (&b[0], &mut a[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::unit_spec;
    use crate::setup::Gauge;

    fn flat(n: usize) -> FloodSetup {
        FloodSetup::new(Raster::filled(unit_spec(n, n), 0.0f32, None))
    }

    /// Tiles that hold nothing but one prescribed level are only brought up to date when the
    /// solver hands control back: their depths then equal the level now, their maxima the
    /// highest level, exactly as if they were updated every step.
    #[test]
    fn lazy_level_tiles_are_exact_after_every_advance() {
        use crate::setup::{Region, WaterLevel};
        use twin_core::geom::Polygon;
        use twin_core::timeseries::{Interpolation, TimeSeries};
        let (nx, ny) = (256usize, 96usize);
        let spec = unit_spec(nx, ny);
        // A river bed at -3 m in the southern 60 rows, land at 2 m north of it.
        let dem = Raster::from_vec(
            spec,
            (0..nx * ny)
                .map(|k| {
                    if k / nx >= 36 {
                        -3.0 - 0.001 * (k % nx) as f32
                    } else {
                        2.0
                    }
                })
                .collect(),
            None,
        )
        .unwrap();
        let mut s = FloodSetup::new(dem);
        let river = Polygon::new(vec![
            [0.0, 0.0],
            [nx as f64, 0.0],
            [nx as f64, 60.0],
            [0.0, 60.0],
        ]);
        // Up from 0 to 1.5 m and down again to 0.5 m over 20 minutes.
        s.water_levels = vec![WaterLevel {
            id: "river".into(),
            region: Region::Polygons(vec![river]),
            z_m: TimeSeries::new(
                &[(0.0, 0.0), (600.0, 1.5), (1200.0, 0.5)],
                Interpolation::Linear,
                "river",
            )
            .unwrap(),
            extend_to_barriers: false,
        }];
        s.params.duration_s = 1200.0;
        let mut sim = Simulation::new(&s).unwrap();
        assert!(
            sim.tile_lazy.iter().any(|&l| l != 0),
            "the test needs lazy tiles"
        );
        let (i, j) = (200, 80);
        let z = sim.bed_at(i, j);
        for t in [300.0, 600.0, 900.0, 1200.0] {
            sim.advance_to(t).unwrap();
            let level = s.water_levels[0].z_m.value_at(t);
            assert_eq!(sim.depth_at(i, j), (level - z).max(0.0), "t {t}");
            assert_eq!(sim.depth().get(i, j), (level - z).max(0.0) as f32);
        }
        let r = sim.results();
        assert_eq!(r.max_depth.get(i, j), (1.5 - z) as f32);
        // step_once syncs too.
        let mut sim = Simulation::new(&s).unwrap();
        while sim.time() < 450.0 {
            sim.step_once().unwrap();
        }
        let level = s.water_levels[0].z_m.value_at(sim.time());
        assert_eq!(sim.depth_at(i, j), (level - z).max(0.0));
    }

    /// A gauge on a blocked building measures at the nearest open cell; one on a building
    /// with nothing open around it is an error naming the gauge.
    #[test]
    fn gauges_on_buildings_move_to_the_nearest_open_cell() {
        let n = 30;
        let mut s = flat(n);
        let mut b = Raster::filled(s.dem.spec, 0.0f32, None);
        // A building over columns 10..15, rows 10..20.
        for j in 10..20 {
            for i in 10..15 {
                b.set(i, j, 10.0);
            }
        }
        s.buildings = Some(b);
        s.initial_depth = Some(vec![0.5; n * n]);
        // Column 11 (x 11.5) is nearest the west wall; row 14 is y = 30 - 14.5 = 15.5.
        s.gauges = vec![
            Gauge {
                id: "wall".into(),
                at: [11.4, 15.5],
            },
            Gauge {
                id: "open".into(),
                at: [3.5, 3.5],
            },
        ];
        let sim = Simulation::new(&s).unwrap();
        let at = sim.gauge_locations();
        assert_eq!(at[0], ("wall".to_string(), [9.5, 15.5]));
        assert_eq!(at[1], ("open".to_string(), [3.5, 3.5]));
        let rows = sim.results().gauges;
        let wall = rows.iter().find(|r| r.id == "wall").unwrap();
        assert!((wall.depth_m - 0.5).abs() < 1e-9, "{wall:?}");

        // Inside a building 30 cells wide nothing open lies within 10 cells.
        let mut s2 = flat(n);
        s2.buildings = Some(Raster::filled(s2.dem.spec, 10.0f32, None));
        let mut b2 = s2.buildings.take().unwrap();
        b2.set(0, 0, 0.0);
        s2.buildings = Some(b2);
        s2.gauges = vec![Gauge {
            id: "deep-inside".into(),
            at: [25.5, 5.5],
        }];
        let Err(e) = Simulation::new(&s2) else {
            panic!("a gauge deep inside a building should be an error")
        };
        let e = e.to_string();
        assert!(e.contains("deep-inside") && e.contains("building"), "{e}");
    }
}
