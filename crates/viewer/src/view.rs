//! The whole view state in plain Rust: what is loaded, what is selected, the camera, the
//! clocks, the meshes as arrays. The bevy app only uploads what this computes, so all of it
//! is tested without rendering.

use std::path::PathBuf;

use sim_shadow::bvh::Bvh;
use sim_shadow::sun::Site;
use sim_shadow::time::TimeZone;
use twin_core::raster::Raster;

use crate::camera::{Limits, OrbitCamera};
use crate::comments::CommentStore;
use crate::dataset::Dataset;
use crate::error::{Result, ViewError};
use crate::gestures::TouchTracker;
use crate::layers::{BaseMap, Layer, LayerKind, Scale};
use crate::picking::BuildingReport;
use crate::results::Results;
use crate::scene::{self, BuildingMeshes, Frame, MeshData};
use crate::situation::Situation;
use crate::sunclock::SunClock;
use crate::timeline::Timeline;

/// Terrain mesh resolution: at most this many vertices per side (the overlay texture
/// carries the detail; 384² vertices keep software rendering usable).
pub const TERRAIN_MAX_SIDE: usize = 384;

/// Who the viewer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Urban planners: orbit camera, panels, export.
    #[default]
    Planner,
    /// A participation touch table: fullscreen, large targets, comments.
    Table,
    /// Crisis staff: forecast time, counters, gauge.
    Situation,
}

/// Which city and results are shown when a scenario has a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Variant {
    /// The city with the scenario's edits and its results.
    #[default]
    Variant,
    /// The city without the edits (the baseline) and its results.
    Base,
    /// Variant minus baseline.
    Difference,
}

impl Variant {
    pub fn parse(s: &str) -> Result<Variant> {
        match s {
            "variant" => Ok(Variant::Variant),
            "base" | "baseline" => Ok(Variant::Base),
            "difference" | "diff" => Ok(Variant::Difference),
            _ => Err(ViewError::arg(
                "--variant",
                format!("'{s}' is not one of variant, base, difference"),
            )),
        }
    }
}

/// What colours the buildings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildingColors {
    /// Roof and wall colours only.
    #[default]
    Plain,
    /// Flooded by the current time (by their maximum depth so far).
    Flood,
    /// DIN 5034-1 status of their windows.
    Daylight,
}

/// How the viewer was asked to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// A scenario file or a results folder.
    pub path: PathBuf,
    /// The results folder of a scenario (default `out/<name>`).
    pub results: Option<PathBuf>,
    pub mode: Mode,
    /// Render offscreen into this PNG and exit.
    pub screenshot: Option<PathBuf>,
    /// The instant shown (RFC 3339): the sun, and the flood time when there is one.
    pub time: Option<String>,
    /// `x,y,z,yaw_deg,pitch_deg,distance_m` (focus in the city CRS).
    pub camera: Option<String>,
    /// Window or image size in pixels.
    pub size: (u32, u32),
    /// A layer id (`--layer`), e.g. `max_depth` or `sun_hours_2026-03-21`.
    pub layer: Option<String>,
    pub variant: Variant,
    /// Where table comments are saved (default `<results>/comments.geojson`).
    pub comments: Option<PathBuf>,
    /// Render this many frames offscreen and report frame times (a benchmark).
    pub frames: Option<u32>,
    /// Draw the legend into screenshots.
    pub legend: bool,
    /// Real-time sun shadows.
    pub shadows: bool,
    /// Time zone for clock times (default Europe/Berlin).
    pub tz: String,
    /// Buildings coloured by a result.
    pub colors: BuildingColors,
    /// Table mode in a window instead of fullscreen (for a desk or for testing).
    pub windowed: bool,
    /// Multisample anti-aliasing: 1 (off), 2, 4 or 8 samples; `None`: 4 on a GPU, off on
    /// a software renderer (where 4 samples cost three times the frame time).
    pub msaa: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            path: PathBuf::new(),
            results: None,
            mode: Mode::Planner,
            screenshot: None,
            time: None,
            camera: None,
            size: (1280, 800),
            layer: None,
            variant: Variant::Variant,
            comments: None,
            frames: None,
            legend: true,
            shadows: true,
            tz: "Europe/Berlin".into(),
            colors: BuildingColors::Plain,
            msaa: None,
            windowed: false,
        }
    }
}

/// The animated flood: snapshots on a timeline, the water surface between them.
#[derive(Debug)]
pub struct FloodView {
    pub timeline: Timeline,
    pub paths: Vec<PathBuf>,
    /// Loaded snapshots (at most a few at a time).
    cache: Vec<(usize, Raster<f32>)>,
    /// Bed elevation per cell of the snapshot grid.
    bed: Vec<f32>,
    /// The interpolated depth at the current time.
    depth: Option<Raster<f32>>,
    vertex_of_cell: Vec<u32>,
    pub scale: Scale,
}

impl FloodView {
    fn load(results: &Results, city: &twin_core::City) -> Result<Option<FloodView>> {
        let Some(f) = &results.flood else {
            return Ok(None);
        };
        if f.snapshots.is_empty() {
            return Ok(None);
        }
        let frames: Vec<f64> = f.snapshots.iter().map(|s| s.t_s).collect();
        let mut timeline = Timeline::new(frames)?;
        if let Some(o) = &f.origin {
            timeline.origin = Some(crate::timeline::TimeOrigin::parse(o)?);
        }
        // The whole run plays in about 20 s.
        timeline.speed = ((timeline.end() - timeline.start()) / 20.0).max(60.0);
        let paths: Vec<PathBuf> = f.snapshots.iter().map(|s| s.path.clone()).collect();
        let first = twin_core::raster::read_raster(&paths[0])?;
        let bed = scene::bed_for_grid(city, &first.spec);
        let max = land_max_depth(results).unwrap_or(2.0);
        Ok(Some(FloodView {
            timeline,
            paths,
            cache: vec![(0, first)],
            bed,
            depth: None,
            vertex_of_cell: Vec::new(),
            scale: Scale::water_depth(max),
        }))
    }

    /// Load snapshot `i` into the cache (at most 4), never evicting `keep`.
    fn load_frame(&mut self, i: usize, keep: usize) -> Result<usize> {
        if let Some(k) = self.cache.iter().position(|c| c.0 == i) {
            return Ok(k);
        }
        let r = twin_core::raster::read_raster(&self.paths[i])?;
        if self.cache.len() >= 4
            && let Some(k) = self.cache.iter().position(|c| c.0 != keep)
        {
            self.cache.remove(k);
        }
        self.cache.push((i, r));
        Ok(self.cache.len() - 1)
    }

    /// The depth at the current time, linear between the two snapshots around it, in a
    /// buffer reused from call to call.
    pub fn depth_now(&mut self) -> Result<&Raster<f32>> {
        let (i0, i1, w) = self.timeline.bracket(self.timeline.t_s);
        let k0 = self.load_frame(i0, i1)?;
        let k1 = if i1 != i0 && w > 0.0 {
            let k = self.load_frame(i1, i0)?;
            // Loading i1 never evicts i0, but it may have moved.
            let k0 = self.cache.iter().position(|c| c.0 == i0).expect("kept");
            Some((k0, k))
        } else {
            None
        };
        let a = &self.cache[k1.map_or(k0, |p| p.0)].1;
        if self.depth.as_ref().is_none_or(|d| d.spec != a.spec) {
            self.depth = Some(a.clone());
        }
        let out = self.depth.as_mut().expect("set above");
        match k1 {
            None => out.data.copy_from_slice(&a.data),
            Some((_, k)) => {
                let b = &self.cache[k].1;
                if b.spec != a.spec {
                    return Err(ViewError::format(
                        &self.paths[i1],
                        0,
                        "snapshot grid differs from the first snapshot's",
                    ));
                }
                let w = w as f32;
                for ((o, x), y) in out.data.iter_mut().zip(&a.data).zip(&b.data) {
                    *o = if x.is_finite() && y.is_finite() {
                        *x + (*y - *x) * w
                    } else {
                        f32::NAN
                    };
                }
            }
        }
        Ok(out)
    }
}

/// Everything the viewer shows and the user has chosen.
pub struct ViewState {
    pub data: Dataset,
    pub mode: Mode,
    pub frame: Frame,
    pub cam: OrbitCamera,
    pub limits: Limits,
    /// The focus stays over this box (local frame).
    pub focus_lo: [f64; 3],
    pub focus_hi: [f64; 3],
    pub home: OrbitCamera,
    pub fov_y_rad: f32,
    pub touch: TouchTracker,
    // Geometry.
    pub terrain: MeshData,
    pub buildings: BuildingMeshes,
    base_buildings: Option<BuildingMeshes>,
    variant_buildings: Option<BuildingMeshes>,
    bvh: Bvh,
    pub roads: MeshData,
    pub road_owner: Vec<u32>,
    pub barriers: MeshData,
    pub water: MeshData,
    // Layers.
    base_map: Option<BaseMap>,
    pub layers: Vec<Layer>,
    pub layer: Option<usize>,
    pub variant: Variant,
    pub has_base: bool,
    /// The raster of the layer shown, as shown (variant, baseline or difference).
    shown: Option<(LayerKind, Raster<f32>)>,
    /// The scale of the layer shown (for the legend).
    pub scale: Option<Scale>,
    // Clocks.
    pub sun: Option<SunClock>,
    pub flood: Option<FloodView>,
    pub show_water: bool,
    pub show_traffic: bool,
    /// Light from the sun at the clock's time; off: a fixed afternoon daylight (the
    /// situation picture stays readable at night).
    pub real_sun: bool,
    pub colors: BuildingColors,
    // Results per building and link.
    pub residents: std::collections::BTreeMap<String, f64>,
    pub picked: Option<(usize, BuildingReport)>,
    /// Traffic result per road link (index into the road graph): (v/c variant, v/c base,
    /// volume change veh/h).
    road_traffic: Vec<Option<(f64, f64, f64)>>,
    /// Flood closure time per road link (flood clock, s).
    road_closed_at: Vec<Option<f64>>,
    // Table comments.
    pub comments: Option<CommentStore>,
    /// Table: the next tap places a comment here (city frame, world).
    pub comment_at: Option<[f64; 3]>,
    pub placing_comment: bool,
    // Dirty flags for the app.
    pub water_dirty: bool,
    pub overlay_dirty: bool,
    pub colors_dirty: bool,
    pub geometry_dirty: bool,
    pub pins_dirty: bool,
    /// A message for the user (status line).
    pub message: Option<String>,
    /// Seconds spent opening the dataset and building the view.
    pub load_s: f64,
}

impl std::fmt::Debug for ViewState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewState")
            .field("title", &self.data.title)
            .field("mode", &self.mode)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

/// Build the picking BVH over a batch of building meshes (local frame).
fn building_bvh(b: &BuildingMeshes) -> Bvh {
    let mut pos: Vec<[f64; 3]> =
        Vec::with_capacity(b.roofs.positions.len() + b.walls.positions.len());
    let mut tris = Vec::new();
    let mut payload = Vec::new();
    for (m, owner) in [(&b.roofs, &b.roof_building), (&b.walls, &b.wall_building)] {
        let base = pos.len() as u32;
        pos.extend(m.positions.iter().map(|p| p.map(f64::from)));
        for t in m.indices.chunks_exact(3) {
            tris.push([base + t[0], base + t[1], base + t[2]]);
            payload.push(owner[t[0] as usize]);
        }
    }
    Bvh::build(&pos, &tris, &payload, [0.0; 3])
}

/// The layers of a results folder, by their file names.
pub fn find_layers(results: &Results) -> Vec<Layer> {
    let mut out = Vec::new();
    let dir = &results.dir;
    let file = |n: &str| {
        let p = dir.join(n);
        p.is_file().then_some(p)
    };
    if let Some(s) = &results.shadow {
        for d in &s.days {
            out.push(Layer {
                kind: LayerKind::SunHours,
                title: format!("Sun hours {}", d.label),
                path: d.variant.clone(),
                base_path: d.base.clone(),
            });
        }
        for m in &s.shadows {
            out.push(Layer {
                kind: LayerKind::Shadow,
                title: format!("Shadow {}", m.label),
                path: m.variant.clone(),
                base_path: m.base.clone(),
            });
        }
        if let Some(p) = &s.solar_kwh {
            out.push(Layer {
                kind: LayerKind::Solar,
                title: "Solar irradiation".into(),
                path: p.clone(),
                base_path: None,
            });
        }
    }
    if results.flood.is_some() {
        for (kind, name, title) in [
            (LayerKind::MaxDepth, "max_depth.tif", "Max flood depth"),
            (LayerKind::Hazard, "hazard.tif", "Flood hazard (max)"),
            (LayerKind::Arrival, "arrival_time.tif", "Water arrival"),
        ] {
            if let Some(p) = file(name) {
                out.push(Layer {
                    kind,
                    title: title.into(),
                    path: p,
                    base_path: None,
                });
            }
        }
    }
    out
}

/// The `q` quantile of |v| over the finite non-zero values (`None` when there are none).
pub fn abs_percentile(values: &[f32], q: f64) -> Option<f32> {
    let mut a: Vec<f32> = values
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| v.abs())
        .collect();
    if a.is_empty() {
        return None;
    }
    let k = ((q.clamp(0.0, 1.0) * (a.len() - 1) as f64).round() as usize).min(a.len() - 1);
    let (_, v, _) = a.select_nth_unstable_by(k, f32::total_cmp);
    Some(*v)
}

/// The deepest water on land (not in prescribed river cells) from `summary.json`.
fn land_max_depth(results: &Results) -> Option<f32> {
    results
        .summary_at("/flood/max_depth_m")
        .and_then(serde_json::Value::as_f64)
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v as f32)
}

/// A layer's id for `--layer`: its file stem (`max_depth`, `sun_hours_2026-03-21`).
pub fn layer_id(l: &Layer) -> String {
    l.path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

impl ViewState {
    /// Open the dataset and build everything the first frame needs.
    pub fn load(opts: &Options) -> Result<ViewState> {
        let t = std::time::Instant::now();
        let data = Dataset::open(&opts.path, opts.results.as_deref())?;
        let mut st = Self::from_dataset(data, opts)?;
        st.load_s = t.elapsed().as_secs_f64();
        Ok(st)
    }

    /// Build the view of an opened dataset.
    pub fn from_dataset(data: Dataset, opts: &Options) -> Result<ViewState> {
        let city = &data.city;
        let frame = Frame::for_city(city);
        let terrain = match (&city.terrain.dem, &city.terrain.tin) {
            (Some(d), _) => scene::terrain_mesh(d, &frame, TERRAIN_MAX_SIDE),
            (None, Some(t)) => scene::tin_mesh(t, &frame),
            (None, None) => MeshData::default(),
        };
        let buildings = BuildingMeshes::build(city, &frame);
        let bvh = building_bvh(&buildings);
        let base_buildings = data
            .base_city
            .as_ref()
            .map(|b| BuildingMeshes::build(b, &frame));
        let (roads, road_owner) = scene::road_mesh(city, &frame, 0.25, |_| road_grey());
        let barriers = scene::barrier_mesh(city, &frame);
        let base_map = BaseMap::build(city, 2048)?;
        // Camera over the whole city.
        let bb = scene::city_bbox(city);
        let (zmin, zmax) = terrain
            .bounds()
            .map_or((0.0, 30.0), |(lo, hi)| (lo[2] as f64, hi[2] as f64));
        let (lo, hi) = if bb.is_empty() {
            ([-500.0, -500.0, zmin], [500.0, 500.0, zmax])
        } else {
            let a = frame.local([bb.min[0], bb.min[1], zmin]);
            let b = frame.local([bb.max[0], bb.max[1], zmax]);
            (a.map(f64::from), b.map(f64::from))
        };
        let fov_y_rad = 40f32.to_radians();
        let aspect = opts.size.0 as f64 / opts.size.1.max(1) as f64;
        // The overview fits the bounding sphere; the city is flat, so come closer.
        let mut home = OrbitCamera::overview(lo, hi, fov_y_rad as f64, aspect);
        home.distance_m *= 0.7;
        let limits = Limits::for_bbox(lo, hi);
        let cam = match &opts.camera {
            Some(s) => {
                let mut c = OrbitCamera::parse(s)?;
                c.focus = frame.local(c.focus).map(f64::from);
                c
            }
            None => home,
        };
        let tz = TimeZone::parse(&opts.tz).map_err(|e| ViewError::arg("--tz", e.to_string()))?;
        let site = city
            .terrain
            .dem
            .as_ref()
            .and_then(|d| Site::for_grid(&d.spec).ok())
            .or_else(|| site_from_bbox(city.epsg, &bb));
        let results = data.results.as_ref();
        let flood = match results {
            Some(r) => FloodView::load(r, city)?,
            None => None,
        };
        let mut layers = results.map(find_layers).unwrap_or_default();
        layers.sort_by_key(|l| l.kind);
        let residents = crate::situation::residents_by_building(city).unwrap_or_default();
        let comments = match (opts.mode, &opts.comments) {
            (_, Some(p)) => Some(CommentStore::open(p)?),
            (Mode::Table, None) => {
                let dir = data
                    .results_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("out").join(&data.title));
                Some(CommentStore::open(dir.join("comments.geojson"))?)
            }
            _ => None,
        };
        let has_base = data.base_city.is_some() || layers.iter().any(|l| l.base_path.is_some());
        let nlinks = city.roads.links.len();
        let mut st = ViewState {
            mode: opts.mode,
            frame,
            cam,
            limits,
            focus_lo: lo,
            focus_hi: hi,
            home,
            fov_y_rad,
            touch: TouchTracker::new(),
            terrain,
            buildings,
            base_buildings,
            variant_buildings: None,
            bvh,
            roads,
            road_owner,
            barriers,
            water: MeshData::default(),
            base_map,
            layers,
            layer: None,
            variant: Variant::Variant,
            has_base,
            shown: None,
            scale: None,
            sun: None,
            flood,
            show_water: true,
            show_traffic: true,
            real_sun: opts.mode != Mode::Situation,
            colors: opts.colors,
            residents,
            picked: None,
            road_traffic: vec![None; nlinks],
            road_closed_at: vec![None; nlinks],
            comments,
            comment_at: None,
            placing_comment: false,
            water_dirty: true,
            overlay_dirty: true,
            colors_dirty: true,
            geometry_dirty: false,
            pins_dirty: true,
            message: None,
            load_s: 0.0,
            data,
        };
        st.match_traffic();
        // The clock: --time, else the first shadow day at noon, else the flood start,
        // else the equinox of the current year at noon.
        if let Some(site) = site {
            let clock = match &opts.time {
                Some(t) => SunClock::at_rfc3339(site, tz, t)?,
                None => st.default_clock(site, tz)?,
            };
            st.sun = Some(clock);
        }
        if let (Some(t), Some(f)) = (&opts.time, st.flood.as_mut()) {
            let ts = f.timeline.offset_for(t)?;
            f.timeline.set(ts);
        }
        if let Some(id) = &opts.layer {
            let k = st
                .layers
                .iter()
                .position(|l| layer_id(l) == *id)
                .ok_or_else(|| {
                    let ids: Vec<String> = st.layers.iter().map(layer_id).collect();
                    ViewError::arg(
                        "--layer",
                        format!(
                            "no layer '{id}' in these results; available: {}",
                            if ids.is_empty() {
                                "none".into()
                            } else {
                                ids.join(", ")
                            }
                        ),
                    )
                })?;
            st.layer = Some(k);
        }
        st.set_variant(opts.variant)?;
        st.refresh_scale()?;
        Ok(st)
    }

    fn default_clock(&self, site: Site, tz: TimeZone) -> Result<SunClock> {
        if let Some(sh) = self.data.results.as_ref().and_then(|r| r.shadow.as_ref())
            && let Some(d) = sh.days.first()
            && let Ok((y, m, dd)) = sim_shadow::time::parse_date(&d.label[..d.label.len().min(10)])
        {
            return SunClock::new(site, tz, (y, m, dd), 12.0 * 60.0);
        }
        if let Some(o) = self
            .data
            .results
            .as_ref()
            .and_then(|r| r.flood.as_ref())
            .and_then(|f| f.origin.clone())
        {
            return SunClock::at_rfc3339(site, tz, &o);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let year = sim_shadow::time::UtcTime(now).year();
        SunClock::new(site, tz, (year, 3, 21), 12.0 * 60.0)
    }

    /// Map the traffic results onto the road graph's links (by their end points, 1 cm).
    fn match_traffic(&mut self) {
        let city = &self.data.city;
        let key = |p: [f64; 2]| ((p[0] * 100.0).round() as i64, (p[1] * 100.0).round() as i64);
        let mut by_ends = std::collections::HashMap::new();
        for (i, l) in city.roads.links.iter().enumerate() {
            if let (Some(a), Some(b)) = (l.geometry.first(), l.geometry.last()) {
                by_ends.insert((key(*a), key(*b)), i);
            }
        }
        let Some(t) = self.data.results.as_ref().and_then(|r| r.traffic.as_ref()) else {
            return;
        };
        for l in &t.links {
            if let (Some(a), Some(b)) = (l.line.first(), l.line.last())
                && let Some(&i) = by_ends.get(&(key(*a), key(*b)))
            {
                let cap = l.capacity_veh_h.max(1e-9);
                let vc = if l.closed {
                    f64::NAN
                } else {
                    l.vc.unwrap_or(l.volume_veh_h / cap)
                };
                let base = l.base_volume_veh_h.map_or(vc, |b| b / cap);
                self.road_traffic[i] = Some((vc, base, l.volume_change_veh_h.unwrap_or(0.0)));
            }
        }
        for c in &t.closures {
            if let Some(slot) = self.road_closed_at.get_mut(c.road_link) {
                *slot = Some(slot.map_or(c.closed_at_s, |s: f64| s.min(c.closed_at_s)));
            }
        }
    }

    /// Whether any traffic results are mapped on the roads.
    pub fn has_traffic(&self) -> bool {
        self.road_traffic.iter().any(Option::is_some)
    }

    /// Whether flood closures are known for roads.
    pub fn has_road_closures(&self) -> bool {
        self.road_closed_at.iter().any(Option::is_some)
    }

    /// Switch baseline / variant / difference.
    pub fn set_variant(&mut self, v: Variant) -> Result<()> {
        if v != Variant::Variant && !self.has_base {
            return Err(ViewError::arg(
                "--variant",
                "this scenario has no baseline (no edits, no baseline results)",
            ));
        }
        let want_base = v == Variant::Base;
        let is_base = self.variant == Variant::Base;
        if want_base != is_base {
            // Swap the building geometry when the scenario edits buildings.
            if want_base {
                if let Some(b) = self.base_buildings.take() {
                    let cur = std::mem::replace(&mut self.buildings, b);
                    self.variant_buildings = Some(cur);
                    self.geometry_dirty = true;
                }
            } else if let Some(vb) = self.variant_buildings.take() {
                let cur = std::mem::replace(&mut self.buildings, vb);
                self.base_buildings = Some(cur);
                self.geometry_dirty = true;
            }
            if self.geometry_dirty {
                self.bvh = building_bvh(&self.buildings);
                self.picked = None;
            }
        }
        self.variant = v;
        self.overlay_dirty = true;
        self.colors_dirty = true;
        self.refresh_scale()
    }

    /// The city of the current variant.
    pub fn city(&self) -> &twin_core::City {
        match (self.variant, &self.data.base_city) {
            (Variant::Base, Some(b)) => b,
            _ => &self.data.city,
        }
    }

    /// Select a layer (None: the plain map).
    pub fn set_layer(&mut self, k: Option<usize>) -> Result<()> {
        self.layer = k.filter(|&i| i < self.layers.len());
        self.overlay_dirty = true;
        self.refresh_scale()
    }

    /// The raster of the current layer as shown (variant, base or difference), in the
    /// layer's unit, and its kind.
    pub fn layer_raster(&self) -> Result<Option<(LayerKind, Raster<f32>)>> {
        let Some(l) = self.layer.and_then(|k| self.layers.get(k)) else {
            return Ok(None);
        };
        let read = |p: &PathBuf| -> Result<Raster<f32>> {
            let mut r = twin_core::raster::read_raster(p)?;
            if l.kind == LayerKind::Arrival {
                for v in &mut r.data {
                    *v /= 3600.0;
                }
            }
            Ok(r)
        };
        let r = match (self.variant, &l.base_path) {
            (Variant::Base, Some(b)) => (l.kind, read(b)?),
            (Variant::Difference, Some(b)) => {
                let mut v = read(&l.path)?;
                let base = read(b)?;
                if base.spec != v.spec {
                    return Err(ViewError::format(
                        b,
                        0,
                        "the baseline raster's grid differs from the variant's",
                    ));
                }
                for (x, y) in v.data.iter_mut().zip(&base.data) {
                    *x -= *y;
                }
                let kind = if l.kind == LayerKind::SunHours {
                    LayerKind::SunHoursDelta
                } else {
                    l.kind
                };
                (kind, v)
            }
            _ => (l.kind, read(&l.path)?),
        };
        Ok(Some(r))
    }

    /// Read the current layer's raster (once per change of layer or variant) and its scale.
    fn refresh_scale(&mut self) -> Result<()> {
        self.shown = self.layer_raster()?;
        let scale = self
            .shown
            .as_ref()
            .map(|(kind, r)| self.scale_for(*kind, r));
        self.scale = scale;
        Ok(())
    }

    /// The colour scale of the current layer's raster `r` (of kind `kind`).
    fn scale_for(&self, kind: LayerKind, r: &Raster<f32>) -> Scale {
        let l = &self.layers[self.layer.expect("a layer is shown")];
        let diff = self.variant == Variant::Difference && l.base_path.is_some();
        let (mut lo, mut hi) = r.min_max().unwrap_or((0.0, 1.0));
        // Differences: a symmetric range from the 99th percentile of the changes, so a few
        // cells where a building stood (or stands now) do not wash out the hours lost on
        // the ground.
        if diff && let Some(p) = abs_percentile(&r.data, 0.99) {
            (lo, hi) = (-p, p);
        }
        // Depth scales run to the deepest water on land (as the PNG maps do), not to the
        // river bed.
        if kind == LayerKind::MaxDepth
            && let Some(m) = self.data.results.as_ref().and_then(land_max_depth)
        {
            hi = m;
        }
        let mut title = l.title.clone();
        match (self.variant, l.base_path.is_some()) {
            (Variant::Base, true) => title.push_str(" (baseline)"),
            (Variant::Difference, true) => title.push_str(" (variant minus baseline)"),
            _ => {}
        }
        if diff && kind != LayerKind::SunHoursDelta {
            // Generic difference: a symmetric diverging scale in the layer's unit.
            let mut s = Scale::for_layer(LayerKind::SunHoursDelta, &title, lo, hi);
            s.unit = kind.unit().into();
            return s;
        }
        Scale::for_layer(kind, &title, lo, hi)
    }

    /// The terrain texture now (RGBA8 sRGB): base map and the current layer.
    pub fn terrain_texture(&mut self) -> (usize, usize, Vec<u8>) {
        self.overlay_dirty = false;
        let Some(base) = &self.base_map else {
            return (1, 1, vec![200, 200, 200, 255]);
        };
        let img = match (&self.shown, &self.scale) {
            (Some((_, r)), Some(s)) => base.compose(Some((r, s))),
            _ => base.compose(None),
        };
        (base.width, base.height, img)
    }

    /// The legend to show: the layer's, else the flooded buildings', else the water depth.
    pub fn legend_scale(&self) -> Option<Scale> {
        if let Some(s) = &self.scale {
            return Some(s.clone());
        }
        let flood_colors = self.colors == BuildingColors::Flood || self.mode == Mode::Situation;
        match &self.flood {
            Some(_) if flood_colors => Some(flooded_building_scale()),
            Some(f) if self.show_water && !self.water.is_empty() => Some(f.scale.clone()),
            _ => None,
        }
    }

    /// Terrain drawn without lighting while a layer is shown, so its colours match the
    /// legend.
    pub fn overlay_unlit(&self) -> bool {
        self.layer.is_some()
    }

    /// Rebuild the water surface for the current flood time.
    pub fn rebuild_water(&mut self) {
        self.water_dirty = false;
        let frame = self.frame;
        let Some(f) = self.flood.as_mut() else {
            self.water.clear();
            return;
        };
        if let Err(e) = f.depth_now() {
            self.message = Some(e.to_string());
            return;
        }
        let Some(depth) = f.depth.as_ref() else {
            return;
        };
        let scale = &f.scale;
        let color = |d: f32| {
            let c = scale.color(d).unwrap_or([180, 210, 240]);
            scene::srgb_to_linear(c, 0.82)
        };
        scene::water_mesh_into(
            &mut self.water,
            depth,
            &f.bed,
            &frame,
            0.05,
            0.05,
            color,
            &mut f.vertex_of_cell,
        );
    }

    /// The current flood time (flood clock, s), if there is a flood.
    pub fn flood_t(&self) -> Option<f64> {
        self.flood.as_ref().map(|f| f.timeline.t_s)
    }

    /// The situation counters at the current flood time.
    pub fn situation(&self) -> Option<Situation> {
        let r = self.data.results.as_ref()?;
        let t = self.flood_t().unwrap_or(0.0);
        Situation::at(r, &self.residents, t).ok()
    }

    /// Recolour buildings and roads for the current selection and time.
    pub fn recolor(&mut self) {
        self.colors_dirty = false;
        let picked = self.picked.as_ref().map(|p| p.0);
        let t = self.flood_t();
        // The city of the variant shown, borrowed beside the meshes.
        let city = match (self.variant, &self.data.base_city) {
            (Variant::Base, Some(b)) => b,
            _ => &self.data.city,
        };
        let results = self.data.results.as_ref();
        let flood = results.and_then(|r| r.flood.as_ref());
        let daylight = results.and_then(|r| r.shadow.as_ref());
        let depth_scale = flooded_building_scale();
        let colors = self.colors;
        let mode = self.mode;
        self.buildings.recolor(|i| {
            if Some(i) == picked {
                return Some(scene::srgb_to_linear([255, 214, 0], 1.0));
            }
            let id = &city.buildings.get(i)?.id;
            let flood_colors = colors == BuildingColors::Flood || mode == Mode::Situation;
            if flood_colors
                && let (Some(f), Some(t)) = (flood, t)
                && let Some(b) = f.buildings.get(id.as_str())
                && b.first_flooded_s.is_some_and(|s| s <= t)
            {
                let c = depth_scale.color(b.max_depth_m as f32)?;
                return Some(scene::srgb_to_linear(c, 1.0));
            }
            if colors == BuildingColors::Daylight
                && let Some(d) = daylight.and_then(|s| s.daylight.get(id.as_str()))
            {
                let c = match d.din_status.as_str() {
                    "pass" => [64, 170, 80],
                    "partial" => [240, 170, 40],
                    "fail" => [210, 50, 40],
                    _ => return None,
                };
                return Some(scene::srgb_to_linear(c, 1.0));
            }
            None
        });
        // Roads.
        let vc = Scale::volume_capacity();
        let diff = Scale::for_layer(LayerKind::SunHoursDelta, "", -500.0, 500.0);
        let closed = scene::srgb_to_linear([120, 0, 60], 1.0);
        for (c, &li) in self.roads.colors.iter_mut().zip(&self.road_owner) {
            let li = li as usize;
            let mut col = road_grey();
            if self.show_traffic
                && let Some((v, b, dv)) = self.road_traffic[li]
            {
                let (val, s) = match self.variant {
                    Variant::Variant => (v, &vc),
                    Variant::Base => (b, &vc),
                    // Gain red, loss blue: flip the diverging ramp's sign.
                    Variant::Difference => (-dv, &diff),
                };
                col = match s.color(val as f32) {
                    Some(k) => scene::srgb_to_linear(k, 1.0),
                    None => closed,
                };
            }
            if let (Some(ct), Some(t)) = (self.road_closed_at[li], t)
                && ct <= t
            {
                col = closed;
            }
            *c = col;
        }
    }

    /// Advance the clocks by `dt` real seconds.
    pub fn tick(&mut self, dt: f64) {
        if let Some(s) = self.sun.as_mut()
            && s.playing
        {
            let day = s.daylight();
            s.advance(dt, day);
        }
        if let Some(f) = self.flood.as_mut()
            && f.timeline.advance(dt)
        {
            self.water_dirty = true;
            self.colors_dirty = true;
        }
    }

    /// Play/pause whatever has a clock (the flood first).
    pub fn toggle_play(&mut self) {
        if let Some(f) = self.flood.as_mut() {
            f.timeline.toggle();
        } else if let Some(s) = self.sun.as_mut() {
            s.playing = !s.playing;
        }
    }

    /// Set the flood time (flood clock, s).
    pub fn set_flood_t(&mut self, t: f64) {
        if let Some(f) = self.flood.as_mut() {
            f.timeline.set(t);
            self.water_dirty = true;
            self.colors_dirty = true;
        }
    }

    /// Unit vector towards the sun (city frame), or a fixed afternoon sun (south-west, 40°)
    /// without a site or with `real_sun` off.
    pub fn sun_dir(&self) -> Option<[f64; 3]> {
        match &self.sun {
            Some(s) if self.real_sun => s.position().ok().map(|p| p.dir),
            _ => Some(sim_shadow::sun::direction(225.0, 40.0)),
        }
    }

    /// The largest extent of the scene (m), for view distances.
    pub fn view_extent_m(&self) -> f32 {
        let (lo, hi) = (self.focus_lo, self.focus_hi);
        ((hi[0] - lo[0]).max(hi[1] - lo[1]).max(500.0)) as f32
    }

    pub fn reset_camera(&mut self) {
        self.cam = self.home;
    }

    pub fn clamp_camera(&mut self) {
        let l = self.limits;
        self.cam.clamp_focus(self.focus_lo, self.focus_hi);
        self.cam.zoom(1.0, &l);
    }

    /// Zoom by a factor within the limits.
    pub fn zoom(&mut self, factor: f64) {
        let l = self.limits;
        self.cam.zoom(factor, &l);
    }

    /// A click or tap at a pixel: place a comment (table, when placing) or pick a building.
    pub fn pick_at(&mut self, px: f64, py: f64, w: f64, h: f64) {
        let (o, d) = self.cam.ray_through(px, py, w, h, self.fov_y_rad as f64);
        if self.placing_comment {
            if let Some(p) = self.ground_hit(o, d) {
                self.comment_at = Some(self.frame.world([p[0] as f32, p[1] as f32, p[2] as f32]));
            }
            return;
        }
        let hit =
            self.bvh
                .closest_hit(o.map(|v| v as f32), d.map(|v| v as f32), 0.0, f32::INFINITY);
        self.picked = hit.and_then(|(_, _, b)| {
            let b = b as usize;
            let building = self.city().buildings.get(b)?;
            let res = self.residents.get(&building.id).copied();
            Some((
                b,
                BuildingReport::new(building, self.data.results.as_ref(), res),
            ))
        });
        self.colors_dirty = true;
    }

    /// Where a ray meets the terrain (local frame), by marching at the DEM cell size and
    /// bisecting; buildings are hit first.
    pub fn ground_hit(&self, o: [f64; 3], d: [f64; 3]) -> Option<[f64; 3]> {
        if let Some((_, t, _)) =
            self.bvh
                .closest_hit(o.map(|v| v as f32), d.map(|v| v as f32), 0.0, f32::INFINITY)
        {
            let t = t as f64;
            return Some([o[0] + d[0] * t, o[1] + d[1] * t, o[2] + d[2] * t]);
        }
        let city = &self.data.city;
        let fr = self.frame;
        let ground = |p: [f64; 3]| {
            let w = fr.world([p[0] as f32, p[1] as f32, p[2] as f32]);
            scene::ground_at(city, w[0], w[1], 0.0) - fr.origin[2]
        };
        let step = city
            .terrain
            .dem
            .as_ref()
            .map_or(2.0, |d| d.spec.cell_x.max(0.5));
        let at = |t: f64| [o[0] + d[0] * t, o[1] + d[1] * t, o[2] + d[2] * t];
        let max_t = 20.0 * self.view_extent_m() as f64;
        let mut t0 = 0.0;
        let mut t = step;
        while t < max_t {
            let p = at(t);
            if p[2] <= ground(p) {
                let (mut a, mut b) = (t0, t);
                for _ in 0..40 {
                    let m = 0.5 * (a + b);
                    let q = at(m);
                    if q[2] <= ground(q) {
                        b = m;
                    } else {
                        a = m;
                    }
                }
                return Some(at(b));
            }
            t0 = t;
            t += step;
        }
        None
    }

    /// Whether a ray hits a building.
    pub fn bvh_hit(&self, o: [f64; 3], d: [f64; 3]) -> bool {
        self.bvh
            .closest_hit(o.map(|v| v as f32), d.map(|v| v as f32), 0.0, f32::INFINITY)
            .is_some()
    }

    /// Comment pins: local position and colour (sRGB) per comment.
    pub fn pins(&self) -> Vec<([f32; 3], [u8; 3])> {
        let Some(store) = &self.comments else {
            return Vec::new();
        };
        let Ok(crs) = twin_core::crs::Crs::from_epsg(self.data.city.epsg) else {
            return Vec::new();
        };
        store
            .comments()
            .iter()
            .filter_map(|c| {
                let [x, y] = crs.from_wgs84(c.lon, c.lat).ok()?;
                let z = scene::ground_at(&self.data.city, x, y, 0.0);
                Some((
                    self.frame.local([x, y, z]),
                    crate::comments::category_color(&c.category),
                ))
            })
            .collect()
    }
}

/// Flooded buildings by their maximum depth over the run (m), coloured once the water has
/// reached them: yellow, orange, red.
pub fn flooded_building_scale() -> Scale {
    Scale {
        title: "Flooded buildings: deepest water".into(),
        unit: "m".into(),
        palette: twin_core::render::Palette::Classes(
            twin_core::render::Classes::new(
                vec![0.3, 1.0],
                vec![
                    ("shallow".into(), [250, 220, 60]),
                    ("deep".into(), [245, 140, 30]),
                    ("very deep".into(), [215, 40, 30]),
                ],
            )
            .expect("valid classes"),
        ),
        min_visible: None,
        opacity: 1.0,
    }
}

fn road_grey() -> [f32; 4] {
    scene::srgb_to_linear([92, 92, 98], 1.0)
}

/// The site at the centre of a bounding box in a projected CRS.
fn site_from_bbox(epsg: u32, bb: &twin_core::geom::BBox2) -> Option<Site> {
    if epsg == 0 || bb.is_empty() {
        return None;
    }
    let crs = twin_core::crs::Crs::from_epsg(epsg).ok()?;
    let (x, y) = (0.5 * (bb.min[0] + bb.max[0]), 0.5 * (bb.min[1] + bb.max[1]));
    let [lon, lat] = crs.to_wgs84(x, y).ok()?;
    let mut s = Site::new(lat, lon);
    s.true_north_grid_deg = sim_shadow::sun::grid_azimuth_of_true_north(&crs, lon, lat).ok()?;
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(size_m: f64) -> twin_core::City {
        twin_core::demo::generate(&twin_core::demo::DemoParams {
            seed: 1,
            size_m,
            cell_m: 2.0,
        })
        .unwrap()
    }

    fn state(city: twin_core::City, opts: &Options) -> ViewState {
        ViewState::from_dataset(Dataset::from_city("t", city), opts).unwrap()
    }

    #[test]
    fn city_view_builds_meshes_camera_and_sun() {
        let opts = Options {
            time: Some("2026-06-21T13:20:00+02:00".into()),
            ..Options::default()
        };
        let st = state(demo(500.0), &opts);
        assert!(!st.terrain.is_empty() && !st.buildings.roofs.is_empty());
        assert!(!st.roads.is_empty() && !st.barriers.is_empty());
        assert!(st.layers.is_empty() && st.scale.is_none() && st.flood.is_none());
        // Hamburg at midsummer noon: the sun is high in the south.
        let d = st.sun_dir().unwrap();
        let elev = d[2].asin().to_degrees();
        assert!((elev - 59.9).abs() < 1.0, "{elev}");
        assert!(d[1] < 0.0, "sun in the south: {d:?}");
        // The overview camera sees the city from above its centre.
        let e = st.cam.eye();
        assert!(e[2] > 100.0);
        assert!(st.view_extent_m() >= 500.0);
    }

    #[test]
    fn picking_from_above_finds_the_building_under_the_cursor() {
        let city = demo(500.0);
        let (i, b) = city
            .buildings
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.height_m().partial_cmp(&b.1.height_m()).unwrap())
            .unwrap();
        let c = b.footprint[0].centroid();
        let id = b.id.clone();
        let mut st = state(city, &Options::default());
        let f = st.frame.local([c[0], c[1], 0.0]);
        st.cam = OrbitCamera {
            focus: [f[0] as f64, f[1] as f64, 0.0],
            yaw_deg: 0.0,
            pitch_deg: 89.5,
            distance_m: 300.0,
        };
        st.pick_at(400.0, 300.0, 800.0, 600.0);
        let (k, report) = st.picked.clone().expect("a building");
        assert_eq!(k, i);
        assert_eq!(report.id, id);
        assert!(st.colors_dirty);
        st.recolor();
        // The picked building is highlighted.
        let hi = scene::srgb_to_linear([255, 214, 0], 1.0);
        assert!(
            st.buildings
                .roofs
                .colors
                .iter()
                .zip(&st.buildings.roof_building)
                .all(|(c, &o)| (*c == hi) == (o as usize == i))
        );
        // Clicking the sky picks nothing.
        st.cam.pitch_deg = 5.0;
        st.pick_at(400.0, 0.0, 800.0, 600.0);
        assert!(st.picked.is_none());
    }

    #[test]
    fn picking_a_projected_building_from_the_overview() {
        let city = demo(2000.0);
        let mut st = state(city, &Options::default());
        st.reset_camera();
        let (w, h) = (1300.0, 850.0);
        let t = (st.fov_y_rad as f64 / 2.0).tan();
        let (eye, f, r, u) = (st.cam.eye(), st.cam.forward(), st.cam.right(), st.cam.up());
        let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let mut tried = 0;
        let mut same = 0;
        let buildings = st.data.city.buildings.clone();
        for (i, b) in buildings.iter().enumerate().step_by(97) {
            let Some(top) = b.roof_z else { continue };
            let c = b.footprint[0].centroid();
            let p = st.frame.local([c[0], c[1], top]).map(f64::from);
            let v = [p[0] - eye[0], p[1] - eye[1], p[2] - eye[2]];
            let z = dot(v, f);
            let px = w / 2.0 + dot(v, r) / z / t * (h / 2.0);
            let py = h / 2.0 - dot(v, u) / z / t * (h / 2.0);
            if !(0.0..w).contains(&px) || !(0.0..h).contains(&py) {
                continue;
            }
            tried += 1;
            st.pick_at(px, py, w, h);
            same += usize::from(st.picked.as_ref().is_some_and(|p| p.0 == i));
        }
        eprintln!("projected picking: {same} of {tried}");
        assert!(tried > 10 && same * 10 >= tried * 8, "{same} of {tried}");
    }

    #[test]
    fn ground_hit_lands_on_the_terrain() {
        let mut st = state(demo(500.0), &Options::default());
        st.cam.pitch_deg = 60.0;
        let (o, d) = st
            .cam
            .ray_through(400.0, 420.0, 800.0, 600.0, st.fov_y_rad as f64);
        let p = st.ground_hit(o, d).expect("ground");
        let w = st.frame.world([p[0] as f32, p[1] as f32, p[2] as f32]);
        let g = scene::ground_at(&st.data.city, w[0], w[1], f64::NAN);
        assert!(
            (w[2] - g).abs() < 0.5 || st.bvh_hit(o, d),
            "{} vs {g}",
            w[2]
        );
    }

    #[test]
    fn percentile_of_changes() {
        let v: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.0 } else { -(i as f32) / 100.0 })
            .collect();
        // 500 non-zero values 0.01 .. 9.99; the 99th percentile is about 9.89.
        let p = abs_percentile(&v, 0.99).unwrap();
        assert!((p - 9.89).abs() < 0.03, "{p}");
        assert_eq!(abs_percentile(&[0.0, f32::NAN], 0.99), None);
    }

    #[test]
    fn bad_options_are_named() {
        let city = demo(300.0);
        let o = Options {
            layer: Some("max_depth".into()),
            ..Options::default()
        };
        let e = ViewState::from_dataset(Dataset::from_city("t", city.clone()), &o).unwrap_err();
        assert!(
            e.to_string().contains("--layer") && e.to_string().contains("none"),
            "{e}"
        );
        let o = Options {
            variant: Variant::Base,
            ..Options::default()
        };
        let e = ViewState::from_dataset(Dataset::from_city("t", city.clone()), &o).unwrap_err();
        assert!(e.to_string().contains("baseline"), "{e}");
        let o = Options {
            tz: "Mars/Olympus".into(),
            ..Options::default()
        };
        assert!(ViewState::from_dataset(Dataset::from_city("t", city), &o).is_err());
        assert!(Variant::parse("diff").is_ok() && Variant::parse("x").is_err());
    }

    #[test]
    fn flood_results_animate_and_colour_buildings_and_roads() {
        let dir = tempfile::tempdir().unwrap();
        let sc = dir.path().join("f.toml");
        std::fs::write(
            &sc,
            r#"
[scenario]
name = "view-flood"
[city.demo]
size_m = 400.0
cell_m = 2.0
[flood]
cell_m = 8.0
duration_s = 3600.0
output_interval_s = 1800.0
start_time = "2026-12-06T12:00:00+01:00"
[[flood.water_level]]
id = "elbe"
landcover_ids = ["water-river"]
extend_to_barriers = true
storm_tide = { peak_z = 9.0, peak_s = 1800.0, end_s = 3600.0, surge_duration_s = 3600.0, step_s = 120.0 }
[outputs]
glb = false
geojson = false
preview_png = false
dem = "none"
"#,
        )
        .unwrap();
        let s = twin_core::scenario::load(&sc).unwrap();
        let out = dir.path().join("res");
        urban_twin::run_scenario(&s, &out, &mut |_| {}).unwrap();
        let opts = Options {
            path: out.clone(),
            time: Some("2026-12-06T12:30:00+01:00".into()),
            colors: BuildingColors::Flood,
            ..Options::default()
        };
        let mut st = ViewState::load(&opts).unwrap();
        assert_eq!(st.data.title, "view-flood");
        let f = st.flood.as_ref().unwrap();
        assert_eq!(f.timeline.frames_s(), &[0.0, 1800.0, 3600.0]);
        assert_eq!(st.flood_t(), Some(1800.0));
        st.rebuild_water();
        let wet_peak = st.water.positions.len();
        assert!(wet_peak > 0);
        // Between snapshots the depth is interpolated: t = 900 s lies between 0 and 1800 s.
        st.set_flood_t(900.0);
        assert!(st.water_dirty);
        st.rebuild_water();
        let wet_mid = st.water.positions.len();
        // The interpolated depth is the mean of the two snapshots around 900 s.
        {
            let f = st.flood.as_mut().unwrap();
            let d0 = twin_core::raster::read_raster(&f.paths[0]).unwrap();
            let d1 = twin_core::raster::read_raster(&f.paths[1]).unwrap();
            let now = f.depth_now().unwrap().clone();
            let mut checked = 0;
            for k in 0..now.data.len() {
                if d0.data[k].is_finite() && d1.data[k].is_finite() {
                    let want = d0.data[k] + (d1.data[k] - d0.data[k]) * 0.5;
                    assert!((now.data[k] - want).abs() <= 1e-6 * want.abs().max(1.0));
                    checked += 1;
                }
            }
            assert!(checked > 0);
        }
        st.set_flood_t(0.0);
        st.rebuild_water();
        let wet_start = st.water.positions.len();
        assert!(
            wet_start <= wet_mid && wet_mid <= wet_peak,
            "{wet_start} {wet_mid} {wet_peak}"
        );
        // Layers: max depth, hazard, arrival; ids are the file stems.
        let ids: Vec<String> = st.layers.iter().map(layer_id).collect();
        assert!(ids.contains(&"max_depth".to_string()), "{ids:?}");
        let k = ids.iter().position(|i| i == "max_depth").unwrap();
        st.set_layer(Some(k)).unwrap();
        assert_eq!(st.scale.as_ref().unwrap().unit, "m");
        assert!(st.overlay_unlit());
        let (w, h, img) = st.terrain_texture();
        assert_eq!(img.len(), w * h * 4);
        // Flooded buildings are coloured at the peak, not at the start.
        st.set_flood_t(3600.0);
        st.recolor();
        let plain = st.buildings.base_roof_color.clone();
        let changed = |st: &ViewState| {
            st.buildings
                .roofs
                .colors
                .iter()
                .zip(&st.buildings.roof_building)
                .filter(|(c, o)| **c != plain[**o as usize])
                .count()
        };
        let flooded = st
            .data
            .results
            .as_ref()
            .unwrap()
            .flood
            .as_ref()
            .unwrap()
            .buildings
            .len();
        if flooded > 0 {
            assert!(changed(&st) > 0);
        }
        st.set_flood_t(0.0);
        st.recolor();
        assert!(changed(&st) <= st.buildings.roofs.colors.len());
        // The situation counters follow the time.
        st.set_flood_t(3600.0);
        let s = st.situation().unwrap();
        let expect = st
            .data
            .results
            .as_ref()
            .unwrap()
            .flood
            .as_ref()
            .unwrap()
            .buildings
            .values()
            .filter(|b| b.first_flooded_s.is_some_and(|t| t <= 3600.0))
            .count();
        assert_eq!(s.flooded_buildings, expect);
        let s0 = Situation::at(st.data.results.as_ref().unwrap(), &st.residents, -1.0).unwrap();
        assert_eq!(s0.flooded_buildings, 0);
    }
}
