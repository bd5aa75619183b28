//! The `[flood]` section of a scenario: build the flood model from the city and the
//! section's files, run it with progress reports, and write its results (GeoTIFF rasters,
//! depth snapshots, gauge series, mass balance, maps) into the staging folder.

use crate::outputs::io;
use crate::{Progress, RunError};
use serde::Serialize;
use sim_flood as sf;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use twin_core::City;
use twin_core::geom::{P2, Polygon};
use twin_core::import::geojson::{FeatureGeometry, read_features, read_polygon_values};
use twin_core::model::PointKind;
use twin_core::raster::geotiff::{GeoTiffOptions, write_geotiff};
use twin_core::raster::{GridSpec, Raster, Resampling, read_raster};
use twin_core::render::{Classes, ColorRamp, Map, Palette};
use twin_core::scenario::{BuildingMode, EdgeKind, FloodSpec, Infiltration, RegionSpec, Scenario};
use twin_core::timeseries::rfc3339_add;

/// What `summary.json` says about the flood run.
#[derive(Debug, Clone, Serialize)]
pub struct FloodSummary {
    pub grid: GridInfo,
    pub duration_s: f64,
    pub steps: u64,
    pub min_dt_s: f64,
    pub max_dt_s: f64,
    /// Wall-clock seconds of the solver (not part of determinism checks).
    pub solver_wall_s: f64,
    /// Simulated seconds per wall-clock second.
    pub realtime_factor: f64,
    /// Cells in computed tiles, summed over steps, per wall-clock second.
    pub cell_updates_per_s: f64,
    pub cell_updates: u64,
    pub instruction_set: String,
    pub threads: usize,
    /// Deepest water on computed cells (m).
    pub max_depth_m: f64,
    /// Area whose depth exceeded the arrival threshold at some time (m²).
    pub flooded_area_m2: f64,
    pub arrival_depth_m: f64,
    /// Area by highest hazard class (m²).
    pub hazard_area_m2: BTreeMap<String, f64>,
    /// Buildings with water at least `arrival_depth_m` deep next to them.
    pub flooded_buildings: usize,
    pub buildings: usize,
    pub gauges: Vec<GaugePeak>,
    pub mass_balance: sf::MassBalance,
    pub fixups: u64,
    pub snapshots: usize,
    /// Things the run adjusted or skipped.
    pub notes: Vec<String>,
}

/// The computational grid.
#[derive(Debug, Clone, Serialize)]
pub struct GridInfo {
    pub width: usize,
    pub height: usize,
    pub cell_m: f64,
    pub epsg: Option<u32>,
    pub bbox: [f64; 4],
    /// Cells with a prescribed water level, blocked by buildings, and without elevation.
    pub prescribed_cells: usize,
    pub building_cells: usize,
    pub outside_cells: usize,
}

/// Highest reading of a gauge.
#[derive(Debug, Clone, Serialize)]
pub struct GaugePeak {
    pub id: String,
    pub max_depth_m: f64,
    pub max_wse_m: f64,
    pub at_s: f64,
}

fn scenario_err(sc: &Scenario, message: impl Into<String>) -> RunError {
    RunError::Scenario {
        scenario: sc.path.clone(),
        message: message.into(),
    }
}

fn flood_err(sc: &Scenario) -> impl Fn(sf::FloodError) -> RunError + '_ {
    move |source| RunError::Flood {
        context: format!("{}: [flood]", sc.path.display()),
        source,
    }
}

/// The terrain on the computational grid: the section's DEM or the city's terrain, cropped
/// to `bbox` and brought to `cell_m` (averaged when coarser, bilinear when finer).
fn flood_dem(
    city: &City,
    f: &FloodSpec,
    sc: &Scenario,
    notes: &mut Vec<String>,
) -> Result<Raster<f32>, RunError> {
    let mut dem = match &f.dem {
        Some(p) => {
            let r = read_raster(p)?;
            if let Some(e) = r.spec.epsg
                && city.epsg != 0
                && e != city.epsg
            {
                return Err(RunError::Core(twin_core::Error::format(
                    p,
                    "CRS",
                    format!(
                        "the DEM is in EPSG:{e} but the city in EPSG:{}; reproject one of them",
                        city.epsg
                    ),
                )));
            }
            r
        }
        None => match &city.terrain.dem {
            Some(d) => d.clone(),
            None if city.terrain.tin.is_some() => {
                let Some(cell) = f.cell_m else {
                    return Err(scenario_err(
                        sc,
                        "flood.cell_m: the city's terrain is a TIN; give the cell size of the flood grid",
                    ));
                };
                let bbox = f.bbox.unwrap_or_else(|| city.bbox());
                let spec = GridSpec::covering(&bbox, cell, Some(city.epsg).filter(|&e| e != 0))?;
                twin_core::derive::terrain_on_grid(city, spec)?
            }
            None => {
                return Err(scenario_err(
                    sc,
                    "flood.dem: the city has no terrain; give a DEM file",
                ));
            }
        },
    };
    if dem.spec.epsg.is_none() && city.epsg != 0 {
        dem.spec.epsg = Some(city.epsg);
    }
    if let Some(b) = f.bbox {
        dem = dem
            .crop_bbox(&b)
            .map_err(|e| scenario_err(sc, format!("flood.bbox: {e}")))?;
    }
    if let Some(cell) = f.cell_m {
        let (cx, cy) = (dem.spec.cell_x, dem.spec.cell_y);
        if (cell - cx).abs() > 1e-9 * cx || (cell - cy).abs() > 1e-9 * cy {
            let target = GridSpec::covering(&dem.spec.bbox(), cell, dem.spec.epsg)?;
            let method = if cell > cx.min(cy) {
                Resampling::Average
            } else {
                Resampling::Bilinear
            };
            let fine = dem;
            dem = fine.resample(target, method)?;
            notes.push(format!(
                "terrain resampled from {cx} m to {cell} m cells ({method:?})"
            ));
            if method == Resampling::Average && f.use_city_barriers && !city.barriers.is_empty() {
                let lines: Vec<&[P2]> = city
                    .barriers
                    .iter()
                    .map(|b| b.line.as_slice())
                    .chain(f.barriers.iter().map(|b| b.line.as_slice()))
                    .collect();
                let n = average_by_side(&fine, &mut dem, &lines);
                notes.push(format!(
                    "{n} cells along barrier lines averaged over their own side of the line only"
                ));
            }
        }
    }
    Ok(dem)
}

/// Coarse cells close to a barrier line take the mean of the fine cells on their own side
/// of the line only, so that a quay wall or dike foot a few fine cells off the line does not
/// smear channel depths onto the land side (or land onto the water side). Returns how many
/// cells changed.
fn average_by_side(fine: &Raster<f32>, coarse: &mut Raster<f32>, lines: &[&[P2]]) -> usize {
    let cs = coarse.spec;
    let reach = cs.cell_x.max(cs.cell_y);
    let mut changed = 0;
    let mut done = std::collections::HashSet::new();
    for line in lines {
        for w in line.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
            let len2 = ux * ux + uy * uy;
            if !(len2 > 0.0 && len2.is_finite()) {
                continue;
            }
            let (c0, r0) = cs.world_to_grid(a[0].min(b[0]) - reach, a[1].max(b[1]) + reach);
            let (c1, r1) = cs.world_to_grid(a[0].max(b[0]) + reach, a[1].min(b[1]) - reach);
            let clampc = |v: f64| v.floor().clamp(0.0, cs.width as f64 - 1.0) as usize;
            let clampr = |v: f64| v.floor().clamp(0.0, cs.height as f64 - 1.0) as usize;
            for j in clampr(r0)..=clampr(r1) {
                for i in clampc(c0)..=clampc(c1) {
                    let p = cs.cell_center(i, j);
                    let t = (((p[0] - a[0]) * ux + (p[1] - a[1]) * uy) / len2).clamp(0.0, 1.0);
                    let (qx, qy) = (a[0] + t * ux, a[1] + t * uy);
                    if (p[0] - qx).hypot(p[1] - qy) > reach || !done.insert((i, j)) {
                        continue;
                    }
                    let side = (ux * (p[1] - a[1]) - uy * (p[0] - a[0])).signum();
                    // Fine cells inside this coarse cell, on the same side.
                    let x0 = cs.origin_x + i as f64 * cs.cell_x;
                    let y0 = cs.origin_y - j as f64 * cs.cell_y;
                    let (fc0, fr0) = fine.spec.world_to_grid(x0, y0);
                    let (fc1, fr1) = fine.spec.world_to_grid(x0 + cs.cell_x, y0 - cs.cell_y);
                    let (mut sum, mut n) = (0.0f64, 0usize);
                    let ci = |v: f64, m: usize| (v.round().max(0.0) as usize).min(m);
                    for fj in ci(fr0, fine.spec.height)..ci(fr1, fine.spec.height) {
                        for fi in ci(fc0, fine.spec.width)..ci(fc1, fine.spec.width) {
                            let v = fine.get(fi, fj);
                            if fine.is_missing(v) {
                                continue;
                            }
                            let q = fine.spec.cell_center(fi, fj);
                            let s = (ux * (q[1] - a[1]) - uy * (q[0] - a[0])).signum();
                            if s == side {
                                sum += v as f64;
                                n += 1;
                            }
                        }
                    }
                    if n > 0 {
                        let v = (sum / n as f64) as f32;
                        if v != coarse.get(i, j) {
                            coarse.set(i, j, v);
                            changed += 1;
                        }
                    }
                }
            }
        }
    }
    changed
}

/// Manning n on the grid: the default, the city's land cover, then the zone files in order.
fn roughness(city: &City, f: &FloodSpec, spec: GridSpec) -> Result<Raster<f32>, RunError> {
    let mut n = if f.use_city_landcover && !city.landcover.is_empty() {
        twin_core::derive::roughness(city, spec, f.manning_n)
    } else {
        Raster::filled(spec, f.manning_n as f32, None)
    };
    for file in &f.roughness_files {
        let (_, zones) = read_polygon_values(file, spec.epsg, "manning_n", 0.0..=1.0)?;
        paint(&mut n, &zones);
    }
    Ok(n)
}

/// Paint polygon values onto a raster (later ones win).
fn paint(r: &mut Raster<f32>, items: &[(Vec<Polygon>, f64)]) {
    let list: Vec<(&[Polygon], f32)> = items.iter().map(|(p, v)| (&p[..], *v as f32)).collect();
    let over = twin_core::derive::rasterize_polygons(r.spec, f32::NAN, None, &list);
    for (d, o) in r.data.iter_mut().zip(over.data) {
        if !o.is_nan() {
            *d = o;
        }
    }
}

/// Building height above ground per cell (0: none).
fn buildings(
    city: &City,
    f: &FloodSpec,
    dem: &Raster<f32>,
) -> Result<Option<Raster<f32>>, RunError> {
    if f.buildings == BuildingMode::Ignore {
        return Ok(None);
    }
    let spec = dem.spec;
    let mut h = Raster::filled(spec, 0f32, None);
    let mut any = false;
    if f.use_city_buildings && !city.buildings.is_empty() {
        let ids = twin_core::derive::building_id_raster(city, spec);
        // Raised: the roof heights over the terrain (LoD2 roof shapes where known).
        let dsm = if f.buildings == BuildingMode::Raised
            && (city.terrain.dem.is_some() || city.terrain.tin.is_some())
        {
            Some(twin_core::derive::height_model(city, spec)?)
        } else {
            None
        };
        for k in 0..spec.len() {
            let id = ids.data[k];
            if id == 0 {
                continue;
            }
            let b = &city.buildings[id as usize - 1];
            let height = match &dsm {
                Some(d) if d.data[k].is_finite() && dem.data[k].is_finite() => {
                    (d.data[k] - dem.data[k]) as f64
                }
                _ => b.height_m().unwrap_or(f.building_height_m),
            };
            h.data[k] = height.max(0.5) as f32;
            any = true;
        }
    }
    for file in &f.building_files {
        let (_, feats) = read_features(file, spec.epsg)?;
        let mut items = Vec::new();
        for ft in feats {
            if let Some(FeatureGeometry::Polygons(p)) = ft.geometry {
                let height = ft
                    .properties
                    .get("height_m")
                    .and_then(|v| v.as_f64())
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .unwrap_or(f.building_height_m);
                items.push((p, height));
            }
        }
        if !items.is_empty() {
            paint(&mut h, &items);
            any = true;
        }
    }
    Ok(any.then_some(h))
}

/// A scenario region as solver cells' region.
fn region(
    city: &City,
    r: &RegionSpec,
    epsg: Option<u32>,
    field: &str,
    sc: &Scenario,
) -> Result<sf::Region, RunError> {
    Ok(match r {
        RegionSpec::All => sf::Region::All,
        RegionSpec::Point(p) => sf::Region::Point(*p),
        RegionSpec::Circle { center, radius_m } => sf::Region::Circle {
            center: *center,
            radius_m: *radius_m,
        },
        RegionSpec::Polygon(p) => sf::Region::Polygons(vec![p.clone()]),
        RegionSpec::Polyline(l) => sf::Region::Polyline(l.clone()),
        RegionSpec::File(path) => {
            let (_, feats) = read_features(path, epsg)?;
            let mut parts = Vec::new();
            for ft in feats {
                match ft.geometry {
                    Some(FeatureGeometry::Polygons(p)) => parts.push(sf::Region::Polygons(p)),
                    Some(FeatureGeometry::Line(l)) => parts.push(sf::Region::Polyline(l)),
                    Some(FeatureGeometry::Point(p)) => parts.push(sf::Region::Point(p)),
                    None => {}
                }
            }
            if parts.is_empty() {
                return Err(scenario_err(
                    sc,
                    format!("{field}: {} has no geometry", path.display()),
                ));
            }
            sf::Region::Union(parts)
        }
        RegionSpec::LandCoverIds(ids) => {
            let mut polys = Vec::new();
            for id in ids {
                match city.landcover.iter().find(|z| &z.id == id) {
                    Some(z) => polys.push(z.polygon.clone()),
                    None => {
                        let some: Vec<&str> = city
                            .landcover
                            .iter()
                            .take(8)
                            .map(|z| z.id.as_str())
                            .collect();
                        return Err(scenario_err(
                            sc,
                            format!(
                                "{field}: the city has no land-cover zone `{id}` ({} zones{}{})",
                                city.landcover.len(),
                                if some.is_empty() { "" } else { ", e.g. " },
                                some.join(", ")
                            ),
                        ));
                    }
                }
            }
            sf::Region::Polygons(polys)
        }
        RegionSpec::LandCoverKinds(kinds) => {
            let polys: Vec<Polygon> = city
                .landcover
                .iter()
                .filter(|z| kinds.contains(&z.kind))
                .map(|z| z.polygon.clone())
                .collect();
            if polys.is_empty() {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                return Err(scenario_err(
                    sc,
                    format!(
                        "{field}: the city has no land-cover zone of kind {}",
                        names.join(", ")
                    ),
                ));
            }
            sf::Region::Polygons(polys)
        }
    })
}

/// The solver setup from the city and the section (the flood model a run builds, for
/// tools that drive the solver themselves).
pub fn setup_for(
    city: &City,
    f: &FloodSpec,
    sc: &Scenario,
    notes: &mut Vec<String>,
) -> Result<sf::FloodSetup, RunError> {
    let dem = flood_dem(city, f, sc, notes)?;
    let spec = dem.spec;
    let epsg = spec.epsg;
    let mut s = sf::FloodSetup::new(dem.clone());
    s.default_manning_n = f.manning_n;
    s.manning = Some(roughness(city, f, spec)?);
    s.buildings = buildings(city, f, &dem)?;
    s.building_mode = match f.buildings {
        BuildingMode::Raised => sf::BuildingMode::Raised,
        _ => sf::BuildingMode::Blocked,
    };
    if let Some(p) = &f.initial_depth {
        let r = read_raster(p)?;
        let same = r.spec.width == spec.width
            && r.spec.height == spec.height
            && (r.spec.origin_x - spec.origin_x).abs() < 1e-6 * spec.cell_x
            && (r.spec.origin_y - spec.origin_y).abs() < 1e-6 * spec.cell_y
            && (r.spec.cell_x - spec.cell_x).abs() < 1e-9 * spec.cell_x;
        if !same {
            return Err(RunError::Core(twin_core::Error::format(
                p,
                "grid",
                format!(
                    "the initial depth is {} x {} cells of {} m at ({}, {}), the flood grid {} x {} of {} m at ({}, {})",
                    r.spec.width,
                    r.spec.height,
                    r.spec.cell_x,
                    r.spec.origin_x,
                    r.spec.origin_y,
                    spec.width,
                    spec.height,
                    spec.cell_x,
                    spec.origin_x,
                    spec.origin_y
                ),
            )));
        }
        s.initial_depth = Some(
            r.data
                .iter()
                .map(|&v| {
                    if v.is_finite() && !r.is_nodata(v) && v > 0.0 {
                        v as f64
                    } else {
                        0.0
                    }
                })
                .collect(),
        );
    }
    // Barriers and breaches.
    if f.use_city_barriers {
        for b in &city.barriers {
            s.barriers.push(sf::Barrier {
                id: b.id.clone(),
                line: b.line.clone(),
                crest_z: b.crest_z,
                active_from_s: None,
            });
        }
    }
    for b in &f.barriers {
        if s.barriers.iter().any(|x| x.id == b.id) {
            return Err(scenario_err(
                sc,
                format!(
                    "flood.barrier: the id `{}` is also a barrier of the city",
                    b.id
                ),
            ));
        }
        s.barriers.push(sf::Barrier {
            id: b.id.clone(),
            line: b.line.clone(),
            crest_z: b.crest_z,
            active_from_s: b.active_from_s,
        });
    }
    for (k, br) in f.breaches.iter().enumerate() {
        if !s.barriers.iter().any(|x| x.id == br.barrier) {
            let ids: Vec<&str> = s.barriers.iter().map(|b| b.id.as_str()).collect();
            return Err(scenario_err(
                sc,
                format!(
                    "flood.breach[{k}].barrier: no barrier `{}` (barriers: {})",
                    br.barrier,
                    if ids.is_empty() {
                        "none".into()
                    } else {
                        ids.join(", ")
                    }
                ),
            ));
        }
        s.breaches.push(sf::Breach {
            barrier: br.barrier.clone(),
            at: br.at,
            width_m: br.width_m,
            bottom_z: br.bottom_z,
            start_s: br.start_s,
            duration_s: br.duration_s,
            cross_m: br.cross_m,
        });
    }
    // Forcings and losses.
    for (k, r) in f.rain.iter().enumerate() {
        s.rain.push(sf::Rain {
            region: region(city, &r.region, epsg, &format!("flood.rain[{k}]"), sc)?,
            mm_h: r.mm_h.clone(),
        });
    }
    for (k, r) in f.inflows.iter().enumerate() {
        s.inflows.push(sf::Inflow {
            id: r.id.clone(),
            region: region(city, &r.region, epsg, &format!("flood.inflow[{k}]"), sc)?,
            m3_s: r.m3_s.clone(),
        });
    }
    for (k, r) in f.water_levels.iter().enumerate() {
        s.water_levels.push(sf::WaterLevel {
            id: r.id.clone(),
            region: region(
                city,
                &r.region,
                epsg,
                &format!("flood.water_level[{k}]"),
                sc,
            )?,
            z_m: r.z_m.clone(),
            extend_to_barriers: r.extend_to_barriers,
        });
    }
    for (k, l) in f.losses.iter().enumerate() {
        s.losses.push(sf::Losses {
            region: region(city, &l.region, epsg, &format!("flood.losses[{k}]"), sc)?,
            infiltration: match l.infiltration {
                Infiltration::None => sf::Infiltration::None,
                Infiltration::Constant { mm_h } => sf::Infiltration::Constant { mm_h },
                Infiltration::GreenAmpt {
                    ks_mm_h,
                    suction_mm,
                    moisture_deficit,
                } => sf::Infiltration::GreenAmpt {
                    ks_mm_h,
                    suction_mm,
                    moisture_deficit,
                },
            },
            sewer_mm_h: l.sewer_mm_h,
        });
    }
    let edge = |e: EdgeKind| match e {
        EdgeKind::Closed => sf::EdgeKind::Closed,
        EdgeKind::Open => sf::EdgeKind::Open,
    };
    s.edges = sf::Edges {
        north: edge(f.edges.north),
        east: edge(f.edges.east),
        south: edge(f.edges.south),
        west: edge(f.edges.west),
    };
    // Gauges: the section's, and the city's that lie on the grid.
    for gs in &f.gauges {
        s.gauges.push(sf::Gauge {
            id: gs.id.clone(),
            at: gs.at,
        });
    }
    if f.use_city_gauges {
        let bbox = spec.bbox();
        for p in city.points.iter().filter(|p| p.kind == PointKind::Gauge) {
            if s.gauges.iter().any(|g| g.id == p.id) {
                continue;
            }
            let inside =
                p.x >= bbox.min[0] && p.x < bbox.max[0] && p.y > bbox.min[1] && p.y <= bbox.max[1];
            if inside
                && spec
                    .cell_at(p.x, p.y)
                    .is_some_and(|(i, j)| dem.get(i, j).is_finite())
            {
                s.gauges.push(sf::Gauge {
                    id: p.id.clone(),
                    at: [p.x, p.y],
                });
            } else {
                notes.push(format!("city gauge `{}` lies outside the flood grid", p.id));
            }
        }
    }
    let n = &f.numerics;
    s.params = sf::Params {
        duration_s: f.duration_s,
        gauge_interval_s: f.gauge_interval_s,
        theta: n.theta,
        courant: n.courant,
        froude_max: n.froude_max,
        dry_depth_m: n.dry_depth_m,
        max_dt_s: n.max_dt_s,
        min_dt_s: n.min_dt_s,
        arrival_depth_m: f.arrival_depth_m,
        weir_cd: f.weir_cd,
        ..sf::Params::default()
    };
    Ok(s)
}

/// `h:mm:ss` of a number of seconds.
fn hms(t: f64) -> String {
    let s = t.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A round upper bound for a colour scale.
pub(crate) fn nice_max(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// Points whose first time under water deeper than `depth_m` the flood run records (road
/// sample points for the traffic section). Points on buildings, outside the domain or in a
/// prescribed water level zone (the river under a bridge) are never flooded here.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthWatch {
    pub points: Vec<P2>,
    pub depth_m: f64,
    /// Flood time (s) when each point first got deeper than `depth_m`; NaN: never.
    pub first_s: Vec<f64>,
    /// Time resolution of `first_s` (s): the interval at which depths were checked.
    pub interval_s: f64,
}

impl DepthWatch {
    pub fn new(points: Vec<P2>, depth_m: f64) -> Self {
        let n = points.len();
        DepthWatch {
            points,
            depth_m,
            first_s: vec![f64::NAN; n],
            interval_s: 0.0,
        }
    }
}

/// Run the flood section; returns its summary and the files written (relative to `dir`).
/// `watch` (if any) gets the times its points flood, checked at every gauge interval.
pub fn run(
    city: &City,
    f: &FloodSpec,
    sc: &Scenario,
    dir: &Path,
    mut watch: Option<&mut DepthWatch>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(FloodSummary, Vec<String>), RunError> {
    progress(Progress::Stage("flood: preparing the grid"));
    let mut notes = Vec::new();
    let setup = setup_for(city, f, sc, &mut notes)?;
    let dem = setup.dem.clone();
    let spec = dem.spec;
    let building_mask: Raster<u8> = match &setup.buildings {
        Some(b) => b.map(None, |h| u8::from(h > 0.0)),
        None => Raster::filled(spec, 0u8, None),
    };
    let mut sim = sf::Simulation::new(&setup).map_err(flood_err(sc))?;
    let kinds = sim.cell_kinds();
    for ((id, at), g) in sim.gauge_locations().iter().zip(&setup.gauges) {
        let d = (at[0] - g.at[0]).hypot(at[1] - g.at[1]);
        if spec.cell_at(at[0], at[1]) != spec.cell_at(g.at[0], g.at[1]) {
            notes.push(format!(
                "gauge `{id}` lies on a building; it measures {d:.1} m away at ({:.1}, {:.1})",
                at[0], at[1]
            ));
        }
    }
    let mut files = Vec::new();
    let gt = GeoTiffOptions::default();

    // Run, writing a depth snapshot at every output time.
    let snap_dir = dir.join("snapshots");
    if f.outputs.snapshots {
        std::fs::create_dir_all(&snap_dir).map_err(io(&snap_dir))?;
    }
    let digits = format!("{}", f.duration_s.ceil() as u64).len().max(6);
    let mut index = Vec::new();
    let mut mass_series = Vec::new();
    let snapshot =
        |sim: &sf::Simulation, index: &mut Vec<serde_json::Value>| -> Result<(), RunError> {
            let t = sim.time();
            let name = format!("depth_{:0digits$}.tif", t.round() as u64);
            let path = snap_dir.join(&name);
            write_geotiff(&sim.depth(), &path, &gt)?;
            let mut e = serde_json::json!({ "t_s": t, "file": format!("snapshots/{name}") });
            if let Some(t0) = &f.start_time {
                e["time"] = serde_json::Value::from(rfc3339_add(t0, t));
            }
            index.push(e);
            Ok(())
        };
    if f.outputs.snapshots {
        snapshot(&sim, &mut index)?;
    }
    mass_series.push(sim.mass_balance());
    let wall = Instant::now();
    let chunk = f.gauge_interval_s.min(f.output_interval_s);
    // Cells of the watched points (computed cells only), checked after every chunk.
    let watched: Vec<(usize, usize, usize)> = match &mut watch {
        Some(w) => {
            w.interval_s = chunk;
            w.points
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    let (i, j) = spec.cell_at(p[0], p[1])?;
                    (kinds.get(i, j) == 0).then_some((k, i, j))
                })
                .collect()
        }
        None => Vec::new(),
    };
    let check_watch = |sim: &sf::Simulation, w: &mut Option<&mut DepthWatch>| {
        if let Some(w) = w {
            let t = sim.time();
            for &(k, i, j) in &watched {
                if w.first_s[k].is_nan() && sim.depth_at(i, j) > w.depth_m {
                    w.first_s[k] = t;
                }
            }
        }
    };
    check_watch(&sim, &mut watch);
    let mut next_out = f.output_interval_s;
    let total = f.duration_s;
    while sim.time() < total {
        let target = (sim.time() + chunk).min(next_out).min(total);
        sim.advance_to(target).map_err(flood_err(sc))?;
        check_watch(&sim, &mut watch);
        let t = sim.time();
        let el = wall.elapsed().as_secs_f64().max(1e-9);
        let status = format!(
            "flood: t = {} of {}, {} steps, {:.0}x real time",
            hms(t),
            hms(total),
            sim.steps(),
            t / el
        );
        progress(Progress::Fraction {
            stage: "flood",
            done: t / total,
            status: &status,
        });
        if t >= next_out - 1e-9 || t >= total {
            if f.outputs.snapshots {
                snapshot(&sim, &mut index)?;
            }
            mass_series.push(sim.mass_balance());
            next_out = (next_out + f.output_interval_s).min(total);
            if t >= total {
                break;
            }
        }
    }
    let solver_wall_s = wall.elapsed().as_secs_f64();
    if f.outputs.snapshots {
        let path = snap_dir.join("index.json");
        let json = serde_json::json!({
            "start_time": f.start_time,
            "output_interval_s": f.output_interval_s,
            "snapshots": index,
        });
        twin_core::fsio::write_atomic(&path, &serde_json::to_vec_pretty(&json).expect("json"))?;
        files.push("snapshots/index.json".to_string());
        for e in &index {
            files.push(e["file"].as_str().unwrap_or_default().to_string());
        }
    }

    progress(Progress::Stage("flood: writing results"));
    let r = sim.results();
    let mut rasters: Vec<(&str, &Raster<f32>)> = vec![
        ("max_depth.tif", &r.max_depth),
        ("max_wse.tif", &r.max_wse),
        ("max_speed.tif", &r.max_speed),
        ("arrival_time.tif", &r.arrival_time),
        ("duration.tif", &r.duration),
    ];
    if f.outputs.hazard {
        rasters.push(("hazard.tif", &r.max_hazard));
    }
    for (name, ras) in rasters {
        write_geotiff(ras, &dir.join(name), &gt)?;
        files.push(name.to_string());
    }
    if f.outputs.hazard {
        write_geotiff(&r.hazard_class, &dir.join("hazard_class.tif"), &gt)?;
        files.push("hazard_class.tif".to_string());
    }
    write_geotiff(&kinds, &dir.join("cell_kind.tif"), &gt)?;
    files.push("cell_kind.tif".to_string());

    // Gauges: rows by time, then id.
    let mut rows = r.gauges.clone();
    rows.sort_by(|a, b| a.t_s.total_cmp(&b.t_s).then_with(|| a.id.cmp(&b.id)));
    let mut csv = String::from(if f.start_time.is_some() {
        "time_s,time,gauge,depth_m,wse_m,speed_m_s\n"
    } else {
        "time_s,gauge,depth_m,wse_m,speed_m_s\n"
    });
    let mut peaks: BTreeMap<String, GaugePeak> = BTreeMap::new();
    for g in &rows {
        match &f.start_time {
            Some(t0) => csv.push_str(&format!(
                "{},{},{},{:.4},{:.4},{:.4}\n",
                g.t_s,
                rfc3339_add(t0, g.t_s).unwrap_or_default(),
                g.id,
                g.depth_m,
                g.wse_m,
                g.speed_m_s
            )),
            None => csv.push_str(&format!(
                "{},{},{:.4},{:.4},{:.4}\n",
                g.t_s, g.id, g.depth_m, g.wse_m, g.speed_m_s
            )),
        }
        let p = peaks.entry(g.id.clone()).or_insert(GaugePeak {
            id: g.id.clone(),
            max_depth_m: g.depth_m,
            max_wse_m: g.wse_m,
            at_s: g.t_s,
        });
        if g.depth_m > p.max_depth_m {
            p.max_depth_m = g.depth_m;
            p.max_wse_m = g.wse_m;
            p.at_s = g.t_s;
        }
    }
    if !rows.is_empty() {
        let path = dir.join("gauges.csv");
        twin_core::fsio::write_atomic(&path, csv.as_bytes())?;
        files.push("gauges.csv".to_string());
    }

    // Mass balance with its series at the output times.
    let mass = r.mass;
    let path = dir.join("mass_balance.json");
    let json = serde_json::json!({ "total": mass, "series": mass_series });
    twin_core::fsio::write_atomic(&path, &serde_json::to_vec_pretty(&json).expect("json"))?;
    files.push("mass_balance.json".to_string());

    // Per building: the deepest water in the cells next to (or under) it.
    let thr = f.arrival_depth_m;
    let mut flooded_buildings = 0;
    if !city.buildings.is_empty() {
        let ids = twin_core::derive::building_id_raster(city, spec);
        let n = city.buildings.len();
        let mut depth = vec![f32::NAN; n];
        let mut first = vec![f32::NAN; n];
        let mut class = vec![0u8; n];
        let (w, h) = (spec.width, spec.height);
        for j in 0..h {
            for i in 0..w {
                let id = ids.get(i, j);
                if id == 0 {
                    continue;
                }
                let b = id as usize - 1;
                let mut look = |ci: usize, cj: usize| {
                    let k = cj * w + ci;
                    if kinds.data[k] != 0 {
                        return;
                    }
                    let d = r.max_depth.data[k];
                    if d.is_finite() && (depth[b].is_nan() || d > depth[b]) {
                        depth[b] = d;
                    }
                    let a = r.arrival_time.data[k];
                    if a.is_finite() && (first[b].is_nan() || a < first[b]) {
                        first[b] = a;
                    }
                    class[b] = class[b].max(r.hazard_class.data[k].min(4));
                };
                look(i, j);
                if i > 0 {
                    look(i - 1, j);
                }
                if i + 1 < w {
                    look(i + 1, j);
                }
                if j > 0 {
                    look(i, j - 1);
                }
                if j + 1 < h {
                    look(i, j + 1);
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| city.buildings[a].id.cmp(&city.buildings[b].id));
        let mut csv = String::from("id,max_depth_m,first_flooded_s,hazard_class\n");
        for b in order {
            if depth[b].is_nan() {
                continue;
            }
            if depth[b] as f64 >= thr {
                flooded_buildings += 1;
            }
            csv.push_str(&format!(
                "{},{:.3},{},{}\n",
                city.buildings[b].id,
                depth[b],
                if first[b].is_finite() {
                    format!("{:.0}", first[b])
                } else {
                    String::new()
                },
                sf::HAZARD_CLASS_NAMES[class[b] as usize]
            ));
        }
        let path = dir.join("flood_buildings.csv");
        twin_core::fsio::write_atomic(&path, csv.as_bytes())?;
        files.push("flood_buildings.csv".to_string());
    }

    // Figures: area flooded, by hazard class.
    let cell_area = spec.cell_x * spec.cell_y;
    let mut max_depth: f64 = 0.0;
    let mut flooded = 0usize;
    let mut by_class = [0usize; 5];
    let (mut prescribed, mut blocked, mut outside) = (0, 0, 0);
    for k in 0..spec.len() {
        match kinds.data[k] {
            0 => {
                let d = r.max_depth.data[k] as f64;
                max_depth = max_depth.max(d);
                if d > thr {
                    flooded += 1;
                }
                by_class[r.hazard_class.data[k].min(4) as usize] += 1;
            }
            1 => prescribed += 1,
            2 => blocked += 1,
            _ => outside += 1,
        }
    }
    let hazard_area_m2 = (1..5)
        .map(|c| {
            (
                sf::HAZARD_CLASS_NAMES[c].to_string(),
                by_class[c] as f64 * cell_area,
            )
        })
        .collect();

    // Maps for people.
    if f.outputs.png {
        progress(Progress::Stage("flood: drawing maps"));
        let sub = format!(
            "{} - {} simulated{}",
            sc.name,
            hms(f.duration_s),
            f.start_time
                .as_deref()
                .map(|t| format!(" from {}", readable_time(t)))
                .unwrap_or_default()
        );
        let depth_max = nice_max(max_depth.max(thr));
        Map::new(&dem)
            .buildings(&building_mask)
            .overlay(
                &r.max_depth,
                Palette::Ramp {
                    ramp: ColorRamp::depth(),
                    min: 0.0,
                    max: depth_max as f32,
                },
            )
            .min_visible(0.01)
            .title("Max water depth")
            .unit("m")
            .subtitle(sub.clone())
            .write_png(&dir.join("max_depth.png"))?;
        files.push("max_depth.png".to_string());
        let hours = f.duration_s > 3.0 * 3600.0;
        let scale = if hours { 1.0 / 3600.0 } else { 1.0 / 60.0 };
        let arrival = r.arrival_time.map(Some(f32::NAN), |v| v * scale as f32);
        Map::new(&dem)
            .buildings(&building_mask)
            .overlay(
                &arrival,
                Palette::Ramp {
                    ramp: ColorRamp::time(),
                    min: 0.0,
                    max: nice_max(f.duration_s * scale) as f32,
                },
            )
            .title(format!("Flood arrival (depth > {thr} m)"))
            .unit(if hours { "h" } else { "min" })
            .subtitle(sub.clone())
            .write_png(&dir.join("arrival_time.png"))?;
        files.push("arrival_time.png".to_string());
        if f.outputs.hazard {
            Map::new(&dem)
                .buildings(&building_mask)
                .overlay(&r.max_hazard, Palette::Classes(Classes::uk_flood_hazard()))
                .min_visible(1e-6)
                .title("Flood hazard rating")
                .subtitle(sub)
                .write_png(&dir.join("hazard.png"))?;
            files.push("hazard.png".to_string());
        }
    }

    let b = spec.bbox();
    let summary = FloodSummary {
        grid: GridInfo {
            width: spec.width,
            height: spec.height,
            cell_m: spec.cell_x,
            epsg: spec.epsg,
            bbox: [b.min[0], b.min[1], b.max[0], b.max[1]],
            prescribed_cells: prescribed,
            building_cells: blocked,
            outside_cells: outside,
        },
        duration_s: f.duration_s,
        steps: r.stats.steps,
        min_dt_s: r.stats.min_dt_s,
        max_dt_s: r.stats.max_dt_s,
        solver_wall_s,
        realtime_factor: f.duration_s / solver_wall_s.max(1e-9),
        cell_updates_per_s: r.stats.cell_updates as f64 / solver_wall_s.max(1e-9),
        cell_updates: r.stats.cell_updates,
        instruction_set: format!("{:?}", sim.isa()),
        threads: rayon::current_num_threads(),
        max_depth_m: max_depth,
        flooded_area_m2: flooded as f64 * cell_area,
        arrival_depth_m: thr,
        hazard_area_m2,
        flooded_buildings,
        buildings: city.buildings.len(),
        gauges: peaks.into_values().collect(),
        mass_balance: mass,
        fixups: r.stats.fixups,
        snapshots: index.len(),
        notes,
    };
    Ok((summary, files))
}

/// An RFC 3339 time with spaces where a legend may wrap it: `2026-12-06 12:00:00 +01:00`.
fn readable_time(t: &str) -> String {
    let t = t.replacen('T', " ", 1);
    match t.get(19..) {
        Some(rest) if !rest.is_empty() && t.is_char_boundary(19) => {
            let (head, tail) = t.split_at(19);
            let tail = tail.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
            format!("{head} {}", if tail == "Z" { "UTC" } else { tail })
        }
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn readable_time_breaks_at_spaces() {
        use super::readable_time;
        assert_eq!(
            readable_time("2026-12-06T12:00:00+01:00"),
            "2026-12-06 12:00:00 +01:00"
        );
        assert_eq!(
            readable_time("2026-12-06T11:00:00.5Z"),
            "2026-12-06 11:00:00 UTC"
        );
        assert_eq!(readable_time("2026-12-06T11:00:00"), "2026-12-06 11:00:00");
    }
}
