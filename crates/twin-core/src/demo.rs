//! The generated demo city: a Hamburg Elbe island district (think Wilhelmsburg / Veddel),
//! the engine's embedded default and the base of every demo scenario.
//!
//! Layout (local coordinates `u` east, `v` north from the south-west corner, which sits at
//! E 565000 / N 5927000 in EPSG:25832, heights in m NHN / DHHN2016):
//! - a tidal river (Elbe-like, 300 m wide, bed about -6 to -7.5 m) crosses the domain from
//!   west to east in a gentle curve;
//! - the northern "city" bank has quay walls at +5 m ([`BarrierKind::Quay`]) with the port
//!   along them, ground rising to +7.5 m inland and a hill (up to about +12 m) where the
//!   shelters are;
//! - the southern bank has a grass foreshore and a dike (crest +8 m, slopes 1:3, burnt into
//!   the DEM and stored as [`BarrierKind::Dike`] barriers) with one 300 m section at +7.2 m
//!   (`dike-low-1`), protecting a polder at +1 to +2 m;
//! - a street grid on both banks (local streets, a primary and a secondary arterial, a quay
//!   road and a dike road), connected by two bridges;
//! - 1,000 to 3,000 buildings in blocks between the streets: terraced and detached houses,
//!   courtyard blocks, port halls, shops and offices, schools, a hospital, public buildings
//!   and garages, with LoD2 gable/hip roofs or flat roofs.
//!
//! Everything derives from the seed: the same [`DemoParams`] give an identical [`City`].

use crate::error::{Error, Result};
use crate::geom::{P2, P3, Polygon};
use crate::model::{
    Address, Barrier, BarrierKind, Building, BuildingUse, City, HighwayClass, LandCover,
    LandCoverZone, NamedPoint, PointKind, RoadGraph, RoadLink, RoadNode, RoofType, SurfaceKind,
    TriMesh,
};
use crate::raster::{GridSpec, Raster};
use noise::{Fbm, MultiFractal, NoiseFn, Perlin};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// South-west corner of the demo district (EPSG:25832), in Hamburg-Wilhelmsburg.
pub const SW_CORNER: P2 = [565000.0, 5927000.0];
/// CRS of the demo city.
pub const EPSG: u32 = 25832;
/// Vertical datum of all heights.
pub const VERTICAL_DATUM: &str = "DHHN2016";
/// Crest of the main dike line (m NHN).
pub const DIKE_CREST_Z: f64 = 8.0;
/// Crest of the one lower dike section `dike-low-1` (m NHN).
pub const DIKE_LOW_CREST_Z: f64 = 7.2;
/// Height of the quay edges (m NHN).
pub const QUAY_Z: f64 = 5.0;
/// Gauge zero of `gauge-1` (m NHN), as at Hamburg St. Pauli.
pub const GAUGE_ZERO_Z: f64 = -5.0;
/// Largest DEM the generator builds (cells).
const MAX_CELLS: usize = 50_000_000;
/// Storey height used for eaves (m).
const STOREY_M: f64 = 3.0;

/// Parameters of the generated demo city.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoParams {
    /// Seed of every random choice (terrain noise, streets, buildings).
    pub seed: u64,
    /// Side length of the square domain in metres (200 to 10,000; default 2,000).
    pub size_m: f64,
    /// DEM cell size in metres (0 < cell <= 50; default 1).
    pub cell_m: f64,
}

impl Default for DemoParams {
    fn default() -> Self {
        DemoParams {
            seed: 1,
            size_m: 2000.0,
            cell_m: 1.0,
        }
    }
}

/// Smooth step from 0 (t <= 0) to 1 (t >= 1).
fn smooth(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// The analytic shape of river, banks and dike in local coordinates.
struct Layout {
    s: f64,
    river_v: f64,
    amp: f64,
    freq: f64,
    phase: f64,
    half_w: f64,
    /// Distance from the south river edge to the dike centreline.
    dike_off: f64,
    /// Distance from the north river edge to the quay road.
    quay_road_off: f64,
    /// Distance from the dike centreline to the dike road.
    dike_road_off: f64,
    /// `u` range of the low dike section.
    low: (f64, f64),
    /// Hill centre and radius (north bank).
    hill: (f64, f64, f64),
}

impl Layout {
    fn new(s: f64, rng: &mut ChaCha8Rng) -> Layout {
        let k = (s / 2000.0).min(1.0);
        let half_w = (0.075 * s).min(150.0);
        let river_v = 0.5 * s;
        let low_len = (0.15 * s).min(300.0);
        let low0 = rng.random_range(0.25..0.55) * (s - low_len);
        let mut l = Layout {
            s,
            river_v,
            amp: 0.03 * s * rng.random_range(0.8..1.2),
            freq: std::f64::consts::TAU * rng.random_range(0.6..0.9) / s,
            phase: rng.random_range(0.0..std::f64::consts::TAU),
            half_w,
            dike_off: 70.0 * k,
            quay_road_off: 25.0 * k,
            dike_road_off: 32.0 * k,
            low: (low0, low0 + low_len),
            hill: (0.0, 0.0, 0.12 * s),
        };
        let north_lo = river_v + half_w + l.amp + l.quay_road_off;
        let hv = north_lo + (s - north_lo) * rng.random_range(0.5..0.7);
        l.hill = (s * rng.random_range(0.25..0.75), hv, 0.12 * s);
        l
    }
    fn centre(&self, u: f64) -> f64 {
        self.river_v + self.amp * (self.freq * u + self.phase).sin()
    }
    fn slope(&self, u: f64) -> f64 {
        self.amp * self.freq * (self.freq * u + self.phase).cos()
    }
    fn north_edge(&self, u: f64) -> f64 {
        self.centre(u) + self.half_w
    }
    fn south_edge(&self, u: f64) -> f64 {
        self.centre(u) - self.half_w
    }
    fn dike(&self, u: f64) -> f64 {
        self.south_edge(u) - self.dike_off
    }
    fn quay_road(&self, u: f64) -> f64 {
        self.north_edge(u) + self.quay_road_off
    }
    fn dike_road(&self, u: f64) -> f64 {
        self.dike(u) - self.dike_road_off
    }
    fn crest(&self, u: f64) -> f64 {
        if u >= self.low.0 && u < self.low.1 {
            DIKE_LOW_CREST_Z
        } else {
            DIKE_CREST_Z
        }
    }
    /// Extreme of `f` over `[a, b]`, sampled every metre (`max` selects max or min).
    fn extreme(&self, f: impl Fn(&Self, f64) -> f64, a: f64, b: f64, max: bool) -> f64 {
        let n = ((b - a).max(0.0).ceil() as usize).max(1);
        let it = (0..=n).map(|i| f(self, a + (b - a) * i as f64 / n as f64));
        if max {
            it.fold(f64::NEG_INFINITY, f64::max)
        } else {
            it.fold(f64::INFINITY, f64::min)
        }
    }

    /// Terrain height at (u, v) given the relief noise `n` (about -1..1).
    fn height(&self, u: f64, v: f64, n: f64) -> f64 {
        let (yc, hw) = (self.centre(u), self.half_w);
        let (yn, ys) = (yc + hw, yc - hw);
        let base = if v >= yn {
            // City bank: quay wall, then rising ground, a hill and small relief.
            let d = v - yn;
            let land = QUAY_Z
                + 2.5 * smooth(d / (0.2 * self.s))
                + 4.5
                    * (-(((u - self.hill.0).powi(2) + (v - self.hill.1).powi(2))
                        / (self.hill.2 * self.hill.2)))
                        .exp()
                + 0.45 * n * smooth(d / 30.0);
            // Never below the quay crest: the quay edge (the barrier line) is the lowest land
            // of the bank.
            land.max(QUAY_Z)
        } else if v > ys {
            // Channel: -7.5 m in the middle, -6 m at the foot of the quay wall, a sloping south
            // bank. The wall face takes the last 1.5 m before the quay edge, on the water side
            // of the quay line.
            let t = (v - yc).abs() / hw;
            let bed = -7.5 + 1.5 * t * t + 0.3 * n;
            if v < yc {
                bed * (1.0 - smooth((t - 0.7) / 0.3))
            } else if yn - v < 1.5 {
                let foot = bed.min(-6.0);
                foot + (QUAY_Z - foot) * (1.0 - (yn - v) / 1.5)
            } else {
                bed
            }
        } else if v > self.dike(u) {
            // Foreshore: from the water line up to +2 m.
            2.0 * smooth((ys - v) / 20.0) + 0.25 * n * smooth((ys - v) / 20.0)
        } else {
            // Polder: +1.1 to +1.9 m.
            (1.5 + 0.4 * n).clamp(1.1, 1.9)
        };
        // Dike: 4 m crest, 1:3 slopes, measured across the (gently curving) line.
        let d = (v - self.dike(u)).abs() / (1.0 + self.slope(u).powi(2)).sqrt();
        let dike = self.crest(u) - (d - 2.0).max(0.0) / 3.0;
        base.max(dike)
    }
}

/// Fractal relief noise on a coarse lattice, interpolated bilinearly.
struct Relief {
    step: f64,
    nx: usize,
    vals: Vec<f32>,
}

impl Relief {
    fn new(seed: u64, extent: f64, step: f64) -> Relief {
        let fbm = Fbm::<Perlin>::new((seed ^ (seed >> 32)) as u32)
            .set_octaves(4)
            .set_frequency(1.0 / 180.0);
        let nx = (extent / step).ceil() as usize + 2;
        let mut vals = vec![0f32; nx * nx];
        vals.par_chunks_mut(nx).enumerate().for_each(|(j, row)| {
            for (i, v) in row.iter_mut().enumerate() {
                *v = fbm.get([i as f64 * step, j as f64 * step]).clamp(-1.0, 1.0) as f32;
            }
        });
        Relief { step, nx, vals }
    }
    fn get(&self, u: f64, v: f64) -> f64 {
        let (fu, fv) = ((u / self.step).max(0.0), (v / self.step).max(0.0));
        let (i, j) = (
            (fu as usize).min(self.nx - 2),
            (fv as usize).min(self.nx - 2),
        );
        let (tx, ty) = ((fu - i as f64).min(1.0), (fv - j as f64).min(1.0));
        let at = |a: usize, b: usize| self.vals[b * self.nx + a] as f64;
        let top = at(i, j) * (1.0 - tx) + at(i + 1, j) * tx;
        let bot = at(i, j + 1) * (1.0 - tx) + at(i + 1, j + 1) * tx;
        top * (1.0 - ty) + bot * ty
    }
}

/// Local street names (Wilhelmsburg and Veddel flavour), used in shuffled order.
const STREET_NAMES: [&str; 48] = [
    "Fährstraße",
    "Vogelhüttendeich",
    "Rotenhäuser Straße",
    "Mannesallee",
    "Thielenstraße",
    "Weimarer Straße",
    "Veringstraße",
    "Neuhöfer Straße",
    "Krieterstraße",
    "Rudolfstraße",
    "Zeidlerstraße",
    "Sanitasstraße",
    "Schlenzigstraße",
    "Hermann-Westphal-Straße",
    "Jungnickelstraße",
    "Mengestraße",
    "Eckermannstraße",
    "Stübenplatz",
    "Fährdamm",
    "Peutestraße",
    "Am Zollhafen",
    "Harburger Chaussee",
    "Industriestraße",
    "Schmidts Breite",
    "Kirchdorfer Straße",
    "Karl-Arnold-Ring",
    "Korallusstraße",
    "Dratelnstraße",
    "Kurdamm",
    "Rotenhäuser Damm",
    "Georgswerder Bogen",
    "Niedergeorgswerder Deich",
    "Buddestraße",
    "Bonifatiusstraße",
    "Groß-Sand",
    "Reiherstieg",
    "Pollhornweg",
    "Am Veringhof",
    "Otterhaken",
    "Hövelstraße",
    "Wilhelm-Strauß-Weg",
    "Rahmwerder Straße",
    "Koppelstraße",
    "Siebenhöfenstraße",
    "Landesgrenze",
    "Hafenrandstraße",
    "Elbinselstraße",
    "Kanalstraße",
];

/// A street under construction: a polyline with some vertices marked as graph nodes.
struct Street {
    name: String,
    class: HighwayClass,
    bridge: bool,
    points: Vec<(P2, bool)>,
}

fn road_half_width(class: HighwayClass) -> f64 {
    match class {
        HighwayClass::Primary => 10.0,
        HighwayClass::Secondary => 8.0,
        HighwayClass::Tertiary => 7.0,
        _ => 6.0,
    }
}

/// What a block is used for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BlockKind {
    Rows,
    Courtyard,
    Port,
    Commercial,
    School,
    Hospital,
    Public,
    Park,
}

/// A block between streets: the buildable rectangle (local coordinates) and its use.
struct Block {
    rect: [f64; 4],
    kind: BlockKind,
    north: bool,
}

/// A building before heights and surfaces are known (local coordinates).
struct Proto {
    poly: Polygon,
    /// Axis-aligned rectangle when the footprint is one (gable/hip roofs need it).
    rect: Option<[f64; 4]>,
    usage: BuildingUse,
    storeys: u32,
    /// Height of the eaves above ground (m).
    eave_m: f64,
    roof: RoofType,
    pitch_deg: f64,
}

fn rect_poly(r: [f64; 4]) -> Polygon {
    Polygon::new(vec![[r[0], r[1]], [r[2], r[1]], [r[2], r[3]], [r[0], r[3]]])
}

impl Proto {
    fn rect(r: [f64; 4], usage: BuildingUse, storeys: u32, roof: RoofType, pitch: f64) -> Proto {
        Proto {
            poly: rect_poly(r),
            rect: Some(r),
            usage,
            storeys,
            eave_m: storeys as f64 * STOREY_M,
            roof,
            pitch_deg: pitch,
        }
    }
    fn flat(poly: Polygon, usage: BuildingUse, storeys: u32) -> Proto {
        Proto {
            poly,
            rect: None,
            usage,
            storeys,
            eave_m: storeys as f64 * STOREY_M,
            roof: RoofType::Flat,
            pitch_deg: 0.0,
        }
    }
}

/// A closed LoD2 box with a gable or hip roof over an axis-aligned rectangle
/// `[x0, y0, x1, y1]`: ground at `g`, eaves at `eave`, ridge along the longer side at
/// `ridge`. Triangles face outwards and are tagged Roof, Wall and Ground. A hip roof needs
/// the longer side at least 1 m longer than the shorter; otherwise its ridge shrinks to
/// 1 m, keeping every face valid.
pub fn gabled_box(r: [f64; 4], g: f64, eave: f64, ridge: f64, hip: bool) -> TriMesh {
    let (dx, dy) = (r[2] - r[0], r[3] - r[1]);
    // Local frame: s along the ridge (length l), t across (width w), t-axis = s-axis
    // rotated 90 degrees counter-clockwise, so (s, t) rectangles run counter-clockwise.
    let (o, a, b, l, w) = if dx >= dy {
        ([r[0], r[1]], [1.0, 0.0], [0.0, 1.0], dx, dy)
    } else {
        ([r[2], r[1]], [0.0, 1.0], [-1.0, 0.0], dy, dx)
    };
    let p = |s: f64, t: f64, z: f64| -> P3 {
        [o[0] + s * a[0] + t * b[0], o[1] + s * a[1] + t * b[1], z]
    };
    let mut m = TriMesh::default();
    let h = 0.5 * w;
    m.add_polygon(
        &[p(0.0, w, g), p(l, w, g), p(l, 0.0, g), p(0.0, 0.0, g)],
        &[],
        SurfaceKind::Ground,
    );
    m.add_polygon(
        &[
            p(0.0, 0.0, g),
            p(l, 0.0, g),
            p(l, 0.0, eave),
            p(0.0, 0.0, eave),
        ],
        &[],
        SurfaceKind::Wall,
    );
    m.add_polygon(
        &[p(l, w, g), p(0.0, w, g), p(0.0, w, eave), p(l, w, eave)],
        &[],
        SurfaceKind::Wall,
    );
    if hip {
        let inset = h.min(0.5 * l - 0.5).max(0.0);
        let (r0, r1) = (p(inset, h, ridge), p(l - inset, h, ridge));
        m.add_polygon(
            &[p(l, 0.0, g), p(l, w, g), p(l, w, eave), p(l, 0.0, eave)],
            &[],
            SurfaceKind::Wall,
        );
        m.add_polygon(
            &[
                p(0.0, w, g),
                p(0.0, 0.0, g),
                p(0.0, 0.0, eave),
                p(0.0, w, eave),
            ],
            &[],
            SurfaceKind::Wall,
        );
        m.add_polygon(
            &[p(0.0, 0.0, eave), p(l, 0.0, eave), r1, r0],
            &[],
            SurfaceKind::Roof,
        );
        m.add_polygon(
            &[p(l, w, eave), p(0.0, w, eave), r0, r1],
            &[],
            SurfaceKind::Roof,
        );
        m.add_polygon(
            &[p(l, 0.0, eave), p(l, w, eave), r1],
            &[],
            SurfaceKind::Roof,
        );
        m.add_polygon(
            &[p(0.0, w, eave), p(0.0, 0.0, eave), r0],
            &[],
            SurfaceKind::Roof,
        );
    } else {
        let gable = |s: f64, t0: f64, t1: f64| {
            [
                p(s, t0, g),
                p(s, t1, g),
                p(s, t1, eave),
                p(s, h, ridge),
                p(s, t0, eave),
            ]
        };
        m.add_polygon(&gable(l, 0.0, w), &[], SurfaceKind::Wall);
        m.add_polygon(&gable(0.0, w, 0.0), &[], SurfaceKind::Wall);
        m.add_polygon(
            &[
                p(0.0, 0.0, eave),
                p(l, 0.0, eave),
                p(l, h, ridge),
                p(0.0, h, ridge),
            ],
            &[],
            SurfaceKind::Roof,
        );
        m.add_polygon(
            &[
                p(l, w, eave),
                p(0.0, w, eave),
                p(0.0, h, ridge),
                p(l, h, ridge),
            ],
            &[],
            SurfaceKind::Roof,
        );
    }
    m
}

/// Generate the demo city. Errors for impossible parameters: a domain smaller than 200 m
/// or larger than 10 km, a cell size not in (0, 50] m, or a DEM over 50 million cells.
pub fn generate(p: &DemoParams) -> Result<City> {
    let s = p.size_m;
    if !(s.is_finite() && (200.0..=10_000.0).contains(&s)) {
        return Err(Error::Invalid(format!(
            "demo size must be 200 to 10000 m, got {s}"
        )));
    }
    if !(p.cell_m.is_finite() && p.cell_m > 0.0 && p.cell_m <= 50.0) {
        return Err(Error::Invalid(format!(
            "demo cell size must be in (0, 50] m, got {}",
            p.cell_m
        )));
    }
    let n = (s / p.cell_m).ceil();
    if n * n > MAX_CELLS as f64 {
        return Err(Error::Invalid(format!(
            "demo DEM of {n} x {n} cells exceeds {MAX_CELLS} cells; use a larger cell size"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let lay = Layout::new(s, &mut rng);
    let [x0, y0] = SW_CORNER;
    let world = |q: P2| -> P2 { [x0 + q[0], y0 + q[1]] };

    let mut city = City::new("demo", EPSG);
    city.vertical_datum = Some(VERTICAL_DATUM.to_string());
    city.sources = vec![format!("urban-twin demo generator seed={}", p.seed)];
    city.terrain.dem = Some(build_dem(&lay, p, s)?);

    let net = build_streets(&lay, &mut rng);
    let blocks = build_blocks(&lay, &net, &mut rng);
    let mut protos = Vec::new();
    for b in &blocks {
        fill_block(b, &mut rng, &mut protos);
    }
    let dem = city
        .terrain
        .dem
        .as_ref()
        .ok_or_else(|| Error::Invalid("no DEM".into()))?;
    let mut buildings = finish_buildings(&protos, dem, world);
    address_buildings(&mut buildings, &net.streets, world);
    city.points = named_points(&lay, &buildings, dem, world);
    city.buildings = buildings;
    city.landcover = land_cover(&lay, &blocks, &net.streets, world);
    city.barriers = barriers(&lay, world);
    city.roads = road_graph(&net.streets, world);
    Ok(city)
}

/// The DEM over the domain, rows in parallel.
fn build_dem(lay: &Layout, p: &DemoParams, s: f64) -> Result<Raster<f32>> {
    let [x0, y0] = SW_CORNER;
    let bbox = crate::geom::BBox2 {
        min: [x0, y0],
        max: [x0 + s, y0 + s],
    };
    let spec = GridSpec::covering(&bbox, p.cell_m, Some(EPSG))?;
    let relief = Relief::new(
        p.seed,
        s.max(spec.width as f64 * p.cell_m),
        8.0f64.max(p.cell_m),
    );
    let top = spec.origin_y - y0;
    let mut data = vec![0f32; spec.len()];
    data.par_chunks_mut(spec.width)
        .enumerate()
        .for_each(|(row, line)| {
            let v = top - (row as f64 + 0.5) * p.cell_m;
            for (col, z) in line.iter_mut().enumerate() {
                let u = (col as f64 + 0.5) * p.cell_m;
                *z = lay.height(u, v, relief.get(u, v)) as f32;
            }
        });
    Raster::from_vec(spec, data, None)
}

/// Streets with their N-S positions and which of them are arterials.
struct Net {
    streets: Vec<Street>,
    /// Positions of the N-S streets.
    xs: Vec<f64>,
    /// E-W street positions on the north and the south bank.
    yn: Vec<f64>,
    ys: Vec<f64>,
    /// Class of each N-S street and each E-W street (north, south).
    x_class: Vec<HighwayClass>,
    yn_class: Vec<HighwayClass>,
    ys_class: Vec<HighwayClass>,
}

fn build_streets(lay: &Layout, rng: &mut ChaCha8Rng) -> Net {
    let s = lay.s;
    let mut xs = Vec::new();
    let mut u = 60.0 + rng.random_range(0.0..30.0);
    while u < s - 50.0 {
        xs.push(u);
        u += rng.random_range(115.0..145.0);
    }
    let north_lo = lay.extreme(Layout::quay_road, 0.0, s, true) + 95.0;
    let mut yn = Vec::new();
    let mut v = north_lo + rng.random_range(0.0..10.0);
    while v < s - 45.0 {
        yn.push(v);
        v += rng.random_range(95.0..120.0);
    }
    let south_hi = lay.extreme(Layout::dike_road, 0.0, s, false) - 85.0;
    let mut ys = Vec::new();
    let mut v = 45.0 + rng.random_range(0.0..15.0);
    while v < south_hi {
        ys.push(v);
        v += rng.random_range(95.0..120.0);
    }
    let nearest = |t: f64| -> Option<usize> {
        (0..xs.len()).min_by(|&a, &b| (xs[a] - t).abs().total_cmp(&(xs[b] - t).abs()))
    };
    let primary = nearest(0.5 * s);
    let secondary = nearest(0.18 * s).filter(|&i| Some(i) != primary);
    let x_class: Vec<HighwayClass> = (0..xs.len())
        .map(|i| {
            if Some(i) == primary {
                HighwayClass::Primary
            } else if Some(i) == secondary {
                HighwayClass::Secondary
            } else {
                HighwayClass::Residential
            }
        })
        .collect();
    let mid_class = |n: usize| -> Vec<HighwayClass> {
        (0..n)
            .map(|j| {
                if j == n / 2 {
                    HighwayClass::Secondary
                } else {
                    HighwayClass::Residential
                }
            })
            .collect()
    };
    let (yn_class, ys_class) = (mid_class(yn.len()), mid_class(ys.len()));

    let mut names: Vec<&str> = STREET_NAMES.to_vec();
    for i in (1..names.len()).rev() {
        names.swap(i, rng.random_range(0..=i));
    }
    let mut next = 0usize;
    let mut local_name = || -> String {
        next += 1;
        match names.get(next - 1) {
            Some(n) => (*n).to_string(),
            None => format!("Inselstraße {next}"),
        }
    };
    let mut streets = Vec::new();
    // Curved quay road and dike road following the river, with nodes at the N-S streets.
    let curve = |f: fn(&Layout, f64) -> f64| -> Vec<(P2, bool)> {
        let mut us: Vec<(f64, bool)> = xs.iter().map(|&x| (x, true)).collect();
        us.extend([(0.0, true), (s, true)]);
        let steps = (s / 20.0).ceil() as usize;
        us.extend((1..steps).map(|k| (s * k as f64 / steps as f64, false)));
        us.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        us.dedup_by(|a, b| (a.0 - b.0).abs() < 5.0 && !a.1);
        us.into_iter()
            .map(|(u, node)| ([u, f(lay, u)], node))
            .collect()
    };
    streets.push(Street {
        name: "Am Elbkai".into(),
        class: HighwayClass::Tertiary,
        bridge: false,
        points: curve(Layout::quay_road),
    });
    streets.push(Street {
        name: "Deichstraße".into(),
        class: HighwayClass::Tertiary,
        bridge: false,
        points: curve(Layout::dike_road),
    });
    for (&x, &class) in xs.iter().zip(&x_class) {
        let (north_name, south_name) = match class {
            HighwayClass::Primary => (
                "Elbbrückenstraße".to_string(),
                "Wilhelmsburger Reichsstraße".to_string(),
            ),
            HighwayClass::Secondary => ("Veddeler Damm".to_string(), "Veddeler Straße".to_string()),
            _ => (local_name(), local_name()),
        };
        let mut north = vec![([x, lay.quay_road(x)], true)];
        north.extend(yn.iter().map(|&y| ([x, y], true)));
        north.push(([x, s], true));
        streets.push(Street {
            name: north_name,
            class,
            bridge: false,
            points: north,
        });
        let mut south = vec![([x, 0.0], true)];
        south.extend(ys.iter().map(|&y| ([x, y], true)));
        south.push(([x, lay.dike_road(x)], true));
        streets.push(Street {
            name: south_name,
            class,
            bridge: false,
            points: south,
        });
        if class != HighwayClass::Residential {
            streets.push(Street {
                name: if class == HighwayClass::Primary {
                    "Elbbrücke Demo"
                } else {
                    "Veddeler Brücke"
                }
                .to_string(),
                class,
                bridge: true,
                points: vec![([x, lay.dike_road(x)], true), ([x, lay.quay_road(x)], true)],
            });
        }
    }
    for (list, classes, north) in [(&yn, &yn_class, true), (&ys, &ys_class, false)] {
        for (&y, &class) in list.iter().zip(classes) {
            let name = if class == HighwayClass::Secondary {
                if north {
                    "Amsinckstraße".to_string()
                } else {
                    "Georg-Wilhelm-Straße".to_string()
                }
            } else {
                local_name()
            };
            let mut pts = vec![([0.0, y], true)];
            pts.extend(xs.iter().map(|&x| ([x, y], true)));
            pts.push(([s, y], true));
            streets.push(Street {
                name,
                class,
                bridge: false,
                points: pts,
            });
        }
    }
    Net {
        streets,
        xs,
        yn,
        ys,
        x_class,
        yn_class,
        ys_class,
    }
}

/// Front-yard depth between a street's edge and the building line (m).
const FRONT_GAP: f64 = 2.0;
/// Margin kept free along the domain edge (m).
const EDGE_GAP: f64 = 3.0;

/// Cut both banks into blocks between the streets and decide what each block is.
fn build_blocks(lay: &Layout, net: &Net, rng: &mut ChaCha8Rng) -> Vec<Block> {
    let s = lay.s;
    let curve_h = road_half_width(HighwayClass::Tertiary) + FRONT_GAP + 0.5;
    let mut ub: Vec<(f64, f64)> = vec![(0.0, EDGE_GAP)];
    ub.extend(
        net.xs
            .iter()
            .zip(&net.x_class)
            .map(|(&x, &c)| (x, road_half_width(c) + FRONT_GAP)),
    );
    ub.push((s, EDGE_GAP));
    let primary = net
        .xs
        .iter()
        .zip(&net.x_class)
        .find(|(_, c)| **c == HighwayClass::Primary)
        .map(|(x, _)| *x);
    let mut blocks = Vec::new();
    for w in ub.windows(2) {
        let (ua, ubb) = (w[0].0 + w[0].1, w[1].0 - w[1].1);
        if ubb - ua < 20.0 {
            continue;
        }
        let near_primary = primary.is_some_and(|x| x == w[0].0 || x == w[1].0);
        // North bank: from the quay road to the north edge.
        let mut starts = vec![lay.extreme(Layout::quay_road, w[0].0, w[1].0, true) + curve_h];
        let mut ends = Vec::new();
        for (&y, &c) in net.yn.iter().zip(&net.yn_class) {
            let h = road_half_width(c) + FRONT_GAP;
            ends.push(y - h);
            starts.push(y + h);
        }
        ends.push(s - EDGE_GAP);
        for (j, (&va, &vb)) in starts.iter().zip(&ends).enumerate() {
            if vb - va < 20.0 {
                continue;
            }
            let kind = if j == 0 {
                BlockKind::Port
            } else if near_primary {
                BlockKind::Commercial
            } else {
                BlockKind::Rows
            };
            blocks.push(Block {
                rect: [ua, va, ubb, vb],
                kind,
                north: true,
            });
        }
        // South bank (polder): from the south edge to the dike road.
        let mut starts = vec![EDGE_GAP];
        let mut ends = Vec::new();
        for (&y, &c) in net.ys.iter().zip(&net.ys_class) {
            let h = road_half_width(c) + FRONT_GAP;
            ends.push(y - h);
            starts.push(y + h);
        }
        ends.push(lay.extreme(Layout::dike_road, w[0].0, w[1].0, false) - curve_h);
        let last = starts.len() - 1;
        for (j, (&va, &vb)) in starts.iter().zip(&ends).enumerate() {
            if vb - va < 20.0 {
                continue;
            }
            let kind = if j == last && 0.5 * (ua + ubb) > 0.65 * s {
                BlockKind::Port
            } else if near_primary {
                BlockKind::Commercial
            } else {
                BlockKind::Rows
            };
            blocks.push(Block {
                rect: [ua, va, ubb, vb],
                kind,
                north: false,
            });
        }
    }
    // Special blocks: a park on the hill with schools and a public hall (the shelters)
    // next to it, a hospital, and further parks, schools and a public building.
    let centre = |b: &Block| [0.5 * (b.rect[0] + b.rect[2]), 0.5 * (b.rect[1] + b.rect[3])];
    let (hx, hy, _) = lay.hill;
    let mut north: Vec<usize> = (0..blocks.len())
        .filter(|&i| blocks[i].north && blocks[i].kind == BlockKind::Rows)
        .collect();
    north.sort_by(|&a, &b| {
        let d = |i: usize| {
            let c = centre(&blocks[i]);
            (c[0] - hx).powi(2) + (c[1] - hy).powi(2)
        };
        d(a).total_cmp(&d(b)).then(a.cmp(&b))
    });
    for (i, kind) in north.iter().zip([
        BlockKind::Park,
        BlockKind::School,
        BlockKind::School,
        BlockKind::Public,
    ]) {
        blocks[*i].kind = kind;
    }
    let mut pick = |blocks: &mut Vec<Block>, north: bool, kind: BlockKind| {
        let free: Vec<usize> = (0..blocks.len())
            .filter(|&i| blocks[i].north == north && blocks[i].kind == BlockKind::Rows)
            .collect();
        if !free.is_empty() {
            let i = free[rng.random_range(0..free.len())];
            blocks[i].kind = kind;
        }
    };
    pick(&mut blocks, true, BlockKind::Hospital);
    pick(&mut blocks, true, BlockKind::Park);
    pick(&mut blocks, false, BlockKind::Park);
    pick(&mut blocks, false, BlockKind::School);
    pick(&mut blocks, false, BlockKind::Public);
    for b in &mut blocks {
        let [ua, va, ubb, vb] = b.rect;
        let p = if b.north { 0.3 } else { 0.15 };
        if b.kind == BlockKind::Rows && ubb - ua > 45.0 && vb - va > 45.0 && rng.random_bool(p) {
            b.kind = BlockKind::Courtyard;
        }
    }
    blocks
}

/// Style of a row of buildings along a block's street fronts.
struct RowStyle {
    parcel: (f64, f64),
    depth: (f64, f64),
    storeys: (u32, u32),
    commercial: bool,
}

/// Two rows of parcels, one facing the southern and one the northern street of the block.
fn rows(r: [f64; 4], st: &RowStyle, rng: &mut ChaCha8Rng, out: &mut Vec<Proto>) {
    let [bx0, by0, bx1, by1] = r;
    let half = 0.5 * (by1 - by0);
    for south_row in [true, false] {
        let mut pos = bx0;
        while bx1 - pos >= 10.0 {
            let mut pw = rng.random_range(st.parcel.0..st.parcel.1);
            if bx1 - (pos + pw) < 10.0 {
                pw = bx1 - pos;
            }
            let gap = rng.random_range(0.5..2.0);
            let (ua, ub) = (pos + gap, pos + pw - gap);
            let depth = rng.random_range(st.depth.0..st.depth.1).min(half - 1.5);
            let front = rng.random_range(0.0..2.0);
            pos += pw;
            if depth < 6.0 || ub - ua < 5.0 {
                continue;
            }
            let (va, vb) = if south_row {
                (by0 + front, by0 + front + depth)
            } else {
                (by1 - front - depth, by1 - front)
            };
            let storeys = rng.random_range(st.storeys.0..=st.storeys.1);
            let spare = half - front - depth;
            if st.commercial {
                let usage = if rng.random_bool(0.35) {
                    BuildingUse::Office
                } else {
                    BuildingUse::Commercial
                };
                out.push(Proto::flat(rect_poly([ua, va, ub, vb]), usage, storeys));
                continue;
            }
            let pick: f64 = rng.random();
            if pick < 0.18 && ub - ua > 14.0 && spare > 7.0 {
                // L-shape: a rear wing on one side.
                let ww = rng.random_range(6.0..0.5 * (ub - ua));
                let ext = rng.random_range(5.0..(spare - 1.5).min(10.0));
                let left = rng.random_bool(0.5);
                let ring = match (south_row, left) {
                    (true, true) => vec![
                        [ua, va],
                        [ub, va],
                        [ub, vb],
                        [ua + ww, vb],
                        [ua + ww, vb + ext],
                        [ua, vb + ext],
                    ],
                    (true, false) => vec![
                        [ua, va],
                        [ub, va],
                        [ub, vb + ext],
                        [ub - ww, vb + ext],
                        [ub - ww, vb],
                        [ua, vb],
                    ],
                    (false, true) => vec![
                        [ua, va - ext],
                        [ua + ww, va - ext],
                        [ua + ww, va],
                        [ub, va],
                        [ub, vb],
                        [ua, vb],
                    ],
                    (false, false) => vec![
                        [ua, va],
                        [ub - ww, va],
                        [ub - ww, va - ext],
                        [ub, va - ext],
                        [ub, vb],
                        [ua, vb],
                    ],
                };
                out.push(Proto::flat(
                    Polygon::new(ring),
                    BuildingUse::Residential,
                    storeys,
                ));
                continue;
            }
            let roof = if pick < 0.6 {
                RoofType::Gable
            } else if pick < 0.78 {
                RoofType::Hip
            } else {
                RoofType::Flat
            };
            let pitch = rng.random_range(30.0..45.0);
            out.push(Proto::rect(
                [ua, va, ub, vb],
                BuildingUse::Residential,
                storeys,
                roof,
                pitch,
            ));
            if spare > 9.0 && rng.random_bool(0.25) {
                let gv = if south_row { vb + 1.5 } else { va - 7.5 };
                out.push(Proto::rect(
                    [ua, gv, ua + 3.5, gv + 6.0],
                    BuildingUse::Garage,
                    1,
                    RoofType::Flat,
                    0.0,
                ));
            }
        }
    }
}

/// Fill one block with buildings according to its kind.
fn fill_block(b: &Block, rng: &mut ChaCha8Rng, out: &mut Vec<Proto>) {
    let [bx0, by0, bx1, by1] = b.rect;
    let (w, h) = (bx1 - bx0, by1 - by0);
    let (cx, cy) = (0.5 * (bx0 + bx1), 0.5 * (by0 + by1));
    let resid = RowStyle {
        parcel: if b.north { (16.0, 26.0) } else { (14.0, 24.0) },
        depth: (9.0, 13.0),
        storeys: if b.north { (3, 5) } else { (2, 4) },
        commercial: false,
    };
    match b.kind {
        BlockKind::Park => {}
        BlockKind::Rows => rows(b.rect, &resid, rng, out),
        BlockKind::Commercial => {
            let st = RowStyle {
                parcel: (20.0, 35.0),
                depth: (12.0, 16.0),
                storeys: (4, 7),
                commercial: true,
            };
            rows(b.rect, &st, rng, out);
        }
        BlockKind::Courtyard => {
            let d = rng.random_range(11.0..14.0);
            let mut poly = rect_poly(b.rect);
            poly.interiors.push(vec![
                [bx0 + d, by0 + d],
                [bx0 + d, by1 - d],
                [bx1 - d, by1 - d],
                [bx1 - d, by0 + d],
            ]);
            let storeys = if b.north {
                rng.random_range(4..=6)
            } else {
                rng.random_range(3..=5)
            };
            out.push(Proto::flat(poly, BuildingUse::Residential, storeys));
        }
        BlockKind::Port => {
            // Halls on a grid of plots.
            let mut u = bx0;
            while bx1 - u >= 25.0 {
                let mut pw = rng.random_range(35.0..60.0);
                if bx1 - (u + pw) < 25.0 {
                    pw = bx1 - u;
                }
                let mut v = by0;
                while by1 - v >= 20.0 {
                    let mut ph = rng.random_range(30.0..50.0);
                    if by1 - (v + ph) < 20.0 {
                        ph = by1 - v;
                    }
                    let r = [u + 4.0, v + 4.0, u + pw - 4.0, v + ph - 4.0];
                    if rng.random_bool(0.85) {
                        let mut p = if rng.random_bool(0.12) {
                            Proto::rect(r, BuildingUse::Office, 4, RoofType::Flat, 0.0)
                        } else if rng.random_bool(0.4) {
                            Proto::rect(
                                r,
                                BuildingUse::Industrial,
                                2,
                                RoofType::Gable,
                                rng.random_range(8.0..15.0),
                            )
                        } else {
                            Proto::rect(r, BuildingUse::Industrial, 2, RoofType::Flat, 0.0)
                        };
                        if p.usage == BuildingUse::Industrial {
                            p.eave_m = rng.random_range(8.0..14.0);
                        }
                        out.push(p);
                    }
                    v += ph;
                }
                u += pw;
            }
        }
        BlockKind::School => {
            let (lw, lh) = ((0.6 * w).min(70.0), (h - 4.0).min(60.0));
            if lw > 25.0 && lh > 25.0 {
                let ring = vec![
                    [bx0, by0],
                    [bx0 + lw, by0],
                    [bx0 + lw, by0 + 14.0],
                    [bx0 + 14.0, by0 + 14.0],
                    [bx0 + 14.0, by0 + lh],
                    [bx0, by0 + lh],
                ];
                out.push(Proto::flat(Polygon::new(ring), BuildingUse::School, 3));
                let gx = bx0 + lw + 8.0;
                if bx1 - gx >= 18.0 && h >= 26.0 {
                    let mut gym = Proto::rect(
                        [gx, by1 - 26.0, (gx + 40.0).min(bx1), by1],
                        BuildingUse::School,
                        1,
                        RoofType::Gable,
                        12.0,
                    );
                    gym.eave_m = 8.0;
                    out.push(gym);
                }
            } else {
                out.push(Proto::rect(
                    [bx0, by0, bx1, by1],
                    BuildingUse::School,
                    2,
                    RoofType::Flat,
                    0.0,
                ));
            }
        }
        BlockKind::Hospital => {
            let (a, c) = (
                (0.5 * w - 6.0).clamp(5.0, 45.0),
                (0.5 * h - 6.0).clamp(5.0, 30.0),
            );
            out.push(Proto::rect(
                [cx - a, cy - c, cx + a, cy + c],
                BuildingUse::Hospital,
                6,
                RoofType::Flat,
                0.0,
            ));
        }
        BlockKind::Public => {
            let (a, c) = (
                (0.5 * w - 8.0).clamp(5.0, 25.0),
                (0.5 * h - 8.0).clamp(4.0, 15.0),
            );
            out.push(Proto::rect(
                [cx - a, cy - c, cx + a, cy + c],
                BuildingUse::Public,
                3,
                RoofType::Hip,
                35.0,
            ));
        }
    }
}

/// ALKIS building function code for a use (maps back via [`BuildingUse::from_alkis`]).
fn alkis_code(u: BuildingUse) -> &'static str {
    match u {
        BuildingUse::Residential => "31001_1000",
        BuildingUse::Commercial => "31001_2000",
        BuildingUse::Office => "31001_2020",
        BuildingUse::Industrial => "31001_2100",
        BuildingUse::School => "31001_3021",
        BuildingUse::Hospital => "31001_3051",
        BuildingUse::Public => "31001_3010",
        BuildingUse::Garage => "31001_2463",
        BuildingUse::Other => "31001_9998",
    }
}

/// Turn prototypes into buildings: world coordinates, ground from the DEM, heights, LoD2.
fn finish_buildings(
    protos: &[Proto],
    dem: &Raster<f32>,
    world: impl Fn(P2) -> P2 + Sync,
) -> Vec<Building> {
    protos
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let poly = Polygon {
                exterior: p.poly.exterior.iter().map(|&q| world(q)).collect(),
                interiors: p
                    .poly
                    .interiors
                    .iter()
                    .map(|r| r.iter().map(|&q| world(q)).collect())
                    .collect(),
            };
            let ground = poly
                .exterior
                .iter()
                .chain(std::iter::once(&poly.centroid()))
                .filter_map(|q| dem.sample_bilinear(q[0], q[1]))
                .map(f64::from)
                .fold(f64::INFINITY, f64::min);
            let ground = if ground.is_finite() {
                (ground * 100.0).round() / 100.0
            } else {
                0.0
            };
            let mut b = Building {
                id: format!("DEMO_{i:06}"),
                footprint: vec![poly],
                ground_z: Some(ground),
                storeys: Some(p.storeys),
                function: Some(alkis_code(p.usage).to_string()),
                usage: p.usage,
                roof_type: p.roof,
                ..Default::default()
            };
            match (p.roof, p.rect) {
                (RoofType::Gable | RoofType::Hip, Some(r)) => {
                    let [a0, a1] = world([r[0], r[1]]);
                    let [b0, b1] = world([r[2], r[3]]);
                    let w = (r[2] - r[0]).min(r[3] - r[1]);
                    let eave = ground + p.eave_m;
                    let ridge = eave + 0.5 * w * p.pitch_deg.to_radians().tan();
                    b.surfaces = gabled_box(
                        [a0, a1, b0, b1],
                        ground,
                        eave,
                        ridge,
                        p.roof == RoofType::Hip,
                    );
                    b.roof_z = Some(ridge);
                    b.measured_height_m = Some(ridge - ground);
                }
                _ => {
                    b.roof_type = RoofType::Flat;
                    b.measured_height_m = Some(p.eave_m);
                    b.extrude_lod1();
                }
            }
            b.lod = 2;
            b
        })
        .collect()
}

/// Give every building the address of its nearest street: house numbers run along the
/// street, odd on the left and even on the right side.
fn address_buildings(buildings: &mut [Building], streets: &[Street], world: impl Fn(P2) -> P2) {
    // (street, start, end, distance along the street at start)
    let mut segs: Vec<(usize, P2, P2, f64)> = Vec::new();
    for (si, st) in streets.iter().enumerate().filter(|(_, st)| !st.bridge) {
        let mut along = 0.0;
        for w in st.points.windows(2) {
            let (a, b) = (world(w[0].0), world(w[1].0));
            segs.push((si, a, b, along));
            along += (b[0] - a[0]).hypot(b[1] - a[1]);
        }
    }
    let nearest: Vec<Option<(usize, f64, bool)>> = buildings
        .par_iter()
        .map(|b| {
            let c = b.centroid()?;
            let mut best: Option<(f64, usize, f64, bool)> = None;
            for &(si, a, e, along) in &segs {
                let (dx, dy) = (e[0] - a[0], e[1] - a[1]);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 {
                    (((c[0] - a[0]) * dx + (c[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = (a[0] + t * dx - c[0]).hypot(a[1] + t * dy - c[1]);
                if best.is_none_or(|bst| d < bst.0) {
                    let left = dx * (c[1] - a[1]) - dy * (c[0] - a[0]) > 0.0;
                    best = Some((d, si, along + t * len2.sqrt(), left));
                }
            }
            best.map(|(_, si, s, left)| (si, s, left))
        })
        .collect();
    let mut groups: BTreeMap<(usize, bool), Vec<(f64, usize)>> = BTreeMap::new();
    for (bi, n) in nearest.iter().enumerate() {
        if let Some((si, s, left)) = *n {
            groups.entry((si, left)).or_default().push((s, bi));
        }
    }
    for ((si, left), mut list) in groups {
        list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (k, (_, bi)) in list.into_iter().enumerate() {
            let number = 2 * k + if left { 1 } else { 2 };
            buildings[bi].address = Some(Address {
                street: Some(streets[si].name.clone()),
                house_number: Some(number.to_string()),
                postcode: Some("21107".into()),
                city: Some("Hamburg".into()),
                country: Some("Deutschland".into()),
            });
        }
    }
}

/// The river gauge and the shelters (schools and public halls on the high bank, highest
/// ground first, at least 150 m apart; hill points when there are fewer than three).
fn named_points(
    lay: &Layout,
    buildings: &[Building],
    dem: &Raster<f32>,
    world: impl Fn(P2) -> P2,
) -> Vec<NamedPoint> {
    let ug = 0.12 * lay.s;
    let [gx, gy] = world([ug, lay.north_edge(ug) - 10.0]);
    let mut pts = vec![NamedPoint {
        id: "gauge-1".into(),
        name: "Pegel Demo-Elbe".into(),
        kind: PointKind::Gauge,
        x: gx,
        y: gy,
        z: Some(GAUGE_ZERO_Z),
        capacity: None,
    }];
    let [ox, oy] = world([0.0, 0.0]);
    let mut cands: Vec<(f64, usize)> = buildings
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b.usage, BuildingUse::School | BuildingUse::Public))
        .filter_map(|(i, b)| {
            let c = b.centroid()?;
            (c[1] - oy > lay.north_edge(c[0] - ox)).then_some((b.ground_z.unwrap_or(0.0), i))
        })
        .collect();
    cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let shelter = |pts: &mut Vec<NamedPoint>, p: P2, name: String, z: Option<f64>, cap: u32| {
        pts.push(NamedPoint {
            id: format!("shelter-{}", pts.len()),
            name,
            kind: PointKind::Shelter,
            x: p[0],
            y: p[1],
            z,
            capacity: Some(cap),
        });
    };
    for (_, i) in cands {
        let b = &buildings[i];
        let Some(c) = b.centroid() else { continue };
        if pts.len() > 4
            || pts[1..]
                .iter()
                .any(|q| (q.x - c[0]).hypot(q.y - c[1]) < 150.0)
        {
            continue;
        }
        let floor = b.footprint_area() * b.storeys.unwrap_or(1) as f64;
        let cap = ((floor / 4.0 / 10.0).floor() as u32 * 10).clamp(100, 3000);
        let what = if b.usage == BuildingUse::School {
            "Schule"
        } else {
            "Halle"
        };
        let addr = b.address.as_ref().and_then(|a| {
            Some(format!(
                "{} {}",
                a.street.as_deref()?,
                a.house_number.as_deref()?
            ))
        });
        let name = format!(
            "Notunterkunft {what} {}",
            addr.unwrap_or_else(|| b.id.clone())
        );
        shelter(&mut pts, c, name, b.ground_z, cap);
    }
    let (hx, hy, hr) = lay.hill;
    let mut k = 0;
    while pts.len() < 4 {
        let off = [[0.0, 0.0], [-0.5, 0.0], [0.5, 0.0]][k % 3];
        let p = world([(hx + off[0] * hr).clamp(1.0, lay.s - 1.0), hy]);
        let z = dem.sample_bilinear(p[0], p[1]).map(f64::from);
        shelter(
            &mut pts,
            p,
            format!("Notunterkunft Hügel {}", k + 1),
            z,
            300,
        );
        k += 1;
    }
    pts
}

/// A polygon between two curves over the whole width (`lower` west to east, then `upper`
/// back), sampled every 20 m.
fn band(
    lay: &Layout,
    lower: impl Fn(f64) -> f64,
    upper: impl Fn(f64) -> f64,
    world: &impl Fn(P2) -> P2,
) -> Polygon {
    let n = (lay.s / 20.0).ceil() as usize;
    let us: Vec<f64> = (0..=n).map(|k| lay.s * k as f64 / n as f64).collect();
    let mut ring: Vec<P2> = us.iter().map(|&u| world([u, lower(u)])).collect();
    ring.extend(us.iter().rev().map(|&u| world([u, upper(u)])));
    Polygon::new(ring)
}

/// Land-cover zones, in painting order (later zones win where they overlap): blocks and
/// parks, the grass of foreshore and dike, the river, the paved quay, then the roads
/// (bridges excluded, so the river keeps its roughness under them).
fn land_cover(
    lay: &Layout,
    blocks: &[Block],
    streets: &[Street],
    world: impl Fn(P2) -> P2,
) -> Vec<LandCoverZone> {
    let zone = |id: String, kind: LandCover, polygon: Polygon| LandCoverZone {
        id,
        kind,
        polygon,
        manning_n: kind.default_manning_n(),
    };
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let kind = match b.kind {
            BlockKind::Rows | BlockKind::Courtyard => LandCover::Residential,
            BlockKind::Port => LandCover::Industrial,
            BlockKind::Park => LandCover::Park,
            _ => LandCover::Commercial,
        };
        let [a, c, d, e] = b.rect;
        let poly = rect_poly([a, c, d, e]);
        let poly = Polygon::new(poly.exterior.iter().map(|&q| world(q)).collect());
        out.push(zone(format!("{}-{i}", kind.as_str()), kind, poly));
    }
    let toe = 2.0 + 3.0 * (DIKE_CREST_Z - 1.0);
    out.push(zone(
        "grass-dike".into(),
        LandCover::Grass,
        band(lay, |u| lay.dike(u) - toe, |u| lay.south_edge(u), &world),
    ));
    out.push(zone(
        "water-river".into(),
        LandCover::Water,
        band(lay, |u| lay.south_edge(u), |u| lay.north_edge(u), &world),
    ));
    let apron = lay.quay_road_off - road_half_width(HighwayClass::Tertiary);
    out.push(zone(
        "paved-quay".into(),
        LandCover::Paved,
        band(
            lay,
            |u| lay.north_edge(u),
            |u| lay.north_edge(u) + apron,
            &world,
        ),
    ));
    for (si, st) in streets.iter().enumerate().filter(|(_, st)| !st.bridge) {
        let hw = road_half_width(st.class);
        for (k, w) in st.points.windows(2).enumerate() {
            let (a, b) = (w[0].0, w[1].0);
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            if len <= 0.0 {
                continue;
            }
            // Extend each piece by half a width so joints and crossings are covered.
            let (tx, ty) = ((b[0] - a[0]) / len * hw, (b[1] - a[1]) / len * hw);
            let ring = vec![
                world([a[0] - tx + ty, a[1] - ty - tx]),
                world([b[0] + tx + ty, b[1] + ty - tx]),
                world([b[0] + tx - ty, b[1] + ty + tx]),
                world([a[0] - tx - ty, a[1] - ty + tx]),
            ];
            out.push(zone(
                format!("road-{si}-{k}"),
                LandCover::Road,
                Polygon::new(ring),
            ));
        }
    }
    out
}

/// Dike lines (two at the full crest, `dike-low-1` at the lower crest) and the quay edge.
fn barriers(lay: &Layout, world: impl Fn(P2) -> P2) -> Vec<Barrier> {
    let s = lay.s;
    let line = |a: f64, b: f64, f: &dyn Fn(f64) -> f64| -> Vec<P2> {
        let n = ((b - a) / 10.0).ceil().max(1.0) as usize;
        (0..=n)
            .map(|k| a + (b - a) * k as f64 / n as f64)
            .map(|u| world([u, f(u)]))
            .collect()
    };
    let dike = |u: f64| lay.dike(u);
    let mk = |id: &str, kind, line, crest_z| Barrier {
        id: id.into(),
        kind,
        line,
        crest_z,
    };
    vec![
        mk(
            "dike-1",
            BarrierKind::Dike,
            line(0.0, lay.low.0, &dike),
            DIKE_CREST_Z,
        ),
        mk(
            "dike-low-1",
            BarrierKind::Dike,
            line(lay.low.0, lay.low.1, &dike),
            DIKE_LOW_CREST_Z,
        ),
        mk(
            "dike-2",
            BarrierKind::Dike,
            line(lay.low.1, s, &dike),
            DIKE_CREST_Z,
        ),
        mk(
            "quay-1",
            BarrierKind::Quay,
            line(0.0, s, &|u| lay.north_edge(u)),
            QUAY_Z,
        ),
    ]
}

/// The directed road graph: two links per street segment between graph nodes.
fn road_graph(streets: &[Street], world: impl Fn(P2) -> P2) -> RoadGraph {
    let mut g = RoadGraph::default();
    let mut index: BTreeMap<(i64, i64), u32> = BTreeMap::new();
    let mut node = |g: &mut RoadGraph, p: P2| -> u32 {
        let key = ((p[0] * 100.0).round() as i64, (p[1] * 100.0).round() as i64);
        *index.entry(key).or_insert_with(|| {
            let id = g.nodes.len() as u32;
            g.nodes.push(RoadNode {
                id: id as i64,
                x: p[0],
                y: p[1],
            });
            id
        })
    };
    for (si, st) in streets.iter().enumerate() {
        let way_id = 1000 + si as i64;
        let lanes = st.class.default_lanes();
        let mut start = 0;
        for k in 1..st.points.len() {
            if !st.points[k].1 {
                continue;
            }
            let geom: Vec<P2> = st.points[start..=k].iter().map(|p| world(p.0)).collect();
            start = k;
            let length_m: f64 = geom
                .windows(2)
                .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
                .sum();
            if length_m <= 0.0 {
                continue;
            }
            let (a, b) = (node(&mut g, geom[0]), node(&mut g, geom[geom.len() - 1]));
            let link = |from, to, geometry| RoadLink {
                from,
                to,
                way_id,
                class: st.class,
                lanes,
                speed_kmh: st.class.default_speed_kmh(),
                capacity_veh_h: lanes as f64 * st.class.default_capacity_per_lane(),
                length_m,
                name: Some(st.name.clone()),
                bridge: st.bridge,
                tunnel: false,
                geometry,
            };
            let back: Vec<P2> = geom.iter().rev().copied().collect();
            g.links.push(link(a, b, geom));
            g.links.push(link(b, a, back));
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::OnceLock;

    /// The default city, generated once for all tests (and timed).
    fn default_city() -> &'static City {
        static CITY: OnceLock<City> = OnceLock::new();
        CITY.get_or_init(|| {
            let t = std::time::Instant::now();
            let c = generate(&DemoParams::default()).unwrap();
            println!(
                "demo city 2x2 km at 1 m: {:.3} s, {} buildings, {} links",
                t.elapsed().as_secs_f64(),
                c.buildings.len(),
                c.roads.links.len()
            );
            c
        })
    }

    fn dem(c: &City) -> &Raster<f32> {
        c.terrain.dem.as_ref().unwrap()
    }

    /// Interpolated y of a west-to-east polyline at x.
    fn line_y(line: &[P2], x: f64) -> Option<f64> {
        line.windows(2)
            .find(|w| w[0][0] <= x && x <= w[1][0])
            .map(|w| {
                let t = if w[1][0] > w[0][0] {
                    (x - w[0][0]) / (w[1][0] - w[0][0])
                } else {
                    0.0
                };
                w[0][1] + t * (w[1][1] - w[0][1])
            })
    }

    fn seg_dist(p: P2, a: P2, b: P2) -> f64 {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (a[0] + t * dx - p[0]).hypot(a[1] + t * dy - p[1])
    }

    fn segments_cross(a: P2, b: P2, c: P2, d: P2) -> bool {
        let o = |p: P2, q: P2, r: P2| (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
        let (d1, d2, d3, d4) = (o(a, b, c), o(a, b, d), o(c, d, a), o(c, d, b));
        d1 * d2 <= 0.0 && d3 * d4 <= 0.0 && !(d1 == 0.0 && d2 == 0.0)
    }

    #[test]
    fn bad_params_are_errors() {
        let ok = DemoParams::default();
        for p in [
            DemoParams {
                size_m: 150.0,
                ..ok
            },
            DemoParams {
                size_m: f64::NAN,
                ..ok
            },
            DemoParams { cell_m: 0.0, ..ok },
            DemoParams { cell_m: -1.0, ..ok },
            DemoParams { cell_m: 60.0, ..ok },
            DemoParams {
                size_m: 10_000.0,
                cell_m: 1.0,
                ..ok
            },
        ] {
            assert!(generate(&p).is_err(), "{p:?}");
        }
        // The smallest domain still works.
        let small = generate(&DemoParams {
            size_m: 200.0,
            cell_m: 2.0,
            ..ok
        })
        .unwrap();
        assert_eq!(dem(&small).spec.width, 100);
        assert!(
            small
                .points
                .iter()
                .filter(|p| p.kind == PointKind::Shelter)
                .count()
                >= 3
        );
        // Other seeds and sizes generate without trouble.
        for seed in 0..6 {
            for size_m in [450.0, 1300.0, 3100.0] {
                let c = generate(&DemoParams {
                    seed,
                    size_m,
                    cell_m: 10.0,
                })
                .unwrap();
                assert!(
                    !c.buildings.is_empty() && !c.roads.is_empty(),
                    "seed {seed} size {size_m}"
                );
                assert!(
                    c.barriers
                        .iter()
                        .filter(|b| b.kind == BarrierKind::Dike && b.crest_z < DIKE_CREST_Z)
                        .count()
                        == 1
                );
            }
        }
    }

    #[test]
    fn default_city_has_plausible_content() {
        let c = default_city();
        assert_eq!(c.name, "demo");
        assert_eq!(c.epsg, 25832);
        assert_eq!(c.vertical_datum.as_deref(), Some("DHHN2016"));
        assert_eq!(
            c.sources,
            vec!["urban-twin demo generator seed=1".to_string()]
        );
        let d = dem(c);
        assert_eq!((d.spec.width, d.spec.height), (2000, 2000));
        assert_eq!((d.spec.origin_x, d.spec.origin_y), (565000.0, 5929000.0));
        let (lo, hi) = d.min_max().unwrap();
        assert!(
            (-8.5..-6.0).contains(&lo) && (9.0..14.0).contains(&hi),
            "{lo} {hi}"
        );

        let n = c.buildings.len();
        assert!((1500..=2500).contains(&n), "{n} buildings");
        let count = |u: BuildingUse| c.buildings.iter().filter(|b| b.usage == u).count();
        assert!(count(BuildingUse::Residential) * 2 > n);
        for u in [
            BuildingUse::Commercial,
            BuildingUse::Office,
            BuildingUse::Industrial,
            BuildingUse::School,
            BuildingUse::Hospital,
            BuildingUse::Public,
            BuildingUse::Garage,
        ] {
            assert!(count(u) > 0, "no {u:?}");
        }
        for r in [RoofType::Flat, RoofType::Gable, RoofType::Hip] {
            assert!(
                c.buildings.iter().filter(|b| b.roof_type == r).count() > 50,
                "{r:?}"
            );
        }
        assert!(
            c.buildings
                .iter()
                .any(|b| b.footprint[0].interiors.len() == 1),
            "no courtyard"
        );
        assert!(
            c.buildings
                .iter()
                .any(|b| b.footprint[0].exterior.len() == 6),
            "no L-shape"
        );
        let mut ids: Vec<&str> = c.buildings.iter().map(|b| b.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        let mut addrs = std::collections::BTreeSet::new();
        for (i, b) in c.buildings.iter().enumerate() {
            assert_eq!(b.id, format!("DEMO_{i:06}"));
            assert_eq!(
                BuildingUse::from_alkis(b.function.as_deref().unwrap()),
                b.usage
            );
            let h = b.height_m().unwrap();
            assert!((2.5..40.0).contains(&h), "{} height {h}", b.id);
            let g = b.ground_z.unwrap();
            assert!((1.0..14.0).contains(&g), "{} ground {g}", b.id);
            assert!((b.roof_z.unwrap() - g - h).abs() < 1e-9);
            let a = b.address.as_ref().unwrap();
            assert_eq!(a.postcode.as_deref(), Some("21107"));
            assert_eq!(a.city.as_deref(), Some("Hamburg"));
            assert!(
                addrs.insert((a.street.clone().unwrap(), a.house_number.clone().unwrap())),
                "duplicate address"
            );
        }
        // Roads: two links per segment, unique way per street, named, class defaults.
        assert!(c.roads.links.len() > 500 && c.roads.links.len().is_multiple_of(2));
        assert!(c.roads.way_count() > 30);
        assert!(
            c.roads
                .links
                .iter()
                .any(|l| l.class == HighwayClass::Primary)
        );
        assert!(
            c.roads
                .links
                .iter()
                .any(|l| l.class == HighwayClass::Secondary)
        );
        for l in &c.roads.links {
            assert!(l.name.is_some() && l.length_m > 0.0);
            assert_eq!(l.speed_kmh, l.class.default_speed_kmh());
            assert_eq!(
                l.capacity_veh_h,
                l.lanes as f64 * l.class.default_capacity_per_lane()
            );
            let g = &l.geometry;
            let (a, b) = (c.roads.nodes[l.from as usize], c.roads.nodes[l.to as usize]);
            assert_eq!((g[0], g[g.len() - 1]), ([a.x, a.y], [b.x, b.y]));
        }
        // Land cover: every kind the brief asks for, with class roughness; 2 to 4 parks.
        let parks = c
            .landcover
            .iter()
            .filter(|z| z.kind == LandCover::Park)
            .count();
        assert!((2..=4).contains(&parks), "{parks} parks");
        for k in [
            LandCover::Water,
            LandCover::Grass,
            LandCover::Residential,
            LandCover::Commercial,
            LandCover::Industrial,
            LandCover::Road,
        ] {
            assert!(c.landcover.iter().any(|z| z.kind == k), "{k:?}");
        }
        assert!(
            c.landcover
                .iter()
                .all(|z| z.manning_n == z.kind.default_manning_n())
        );
        // Points: the gauge in the water, three or more shelters on high ground.
        let gauge = c.points.iter().find(|p| p.id == "gauge-1").unwrap();
        assert_eq!(gauge.kind, PointKind::Gauge);
        assert!(d.sample_bilinear(gauge.x, gauge.y).unwrap() < -4.0);
        let shelters: Vec<_> = c
            .points
            .iter()
            .filter(|p| p.kind == PointKind::Shelter)
            .collect();
        assert!(shelters.len() >= 3);
        for s in shelters {
            assert!(
                d.sample_bilinear(s.x, s.y).unwrap() > 6.0,
                "{} is low",
                s.id
            );
            assert!(s.capacity.unwrap() >= 100);
        }
    }

    #[test]
    fn buildings_stay_off_streets_water_and_dike() {
        let c = default_city();
        let d = dem(c);
        let dom = d.spec.bbox();
        let water = c
            .landcover
            .iter()
            .find(|z| z.kind == LandCover::Water)
            .unwrap();
        let dike_segs: Vec<(P2, P2)> = c
            .barriers
            .iter()
            .filter(|b| b.kind == BarrierKind::Dike)
            .flat_map(|b| b.line.windows(2).map(|w| (w[0], w[1])))
            .collect();
        let link_boxes: Vec<_> = c
            .roads
            .links
            .iter()
            .map(|l| crate::geom::BBox2::from_points(l.geometry.iter().copied()))
            .collect();
        for b in &c.buildings {
            let poly = &b.footprint[0];
            let bb = poly.bbox();
            assert!(
                bb.min[0] >= dom.min[0]
                    && bb.max[0] <= dom.max[0]
                    && bb.min[1] >= dom.min[1]
                    && bb.max[1] <= dom.max[1]
            );
            for &p in &poly.exterior {
                assert!(!water.polygon.contains(p), "{} in the river", b.id);
                assert!(
                    d.sample_bilinear(p[0], p[1]).unwrap() > 0.5,
                    "{} below water",
                    b.id
                );
                let dd = dike_segs
                    .iter()
                    .map(|&(a, e)| seg_dist(p, a, e))
                    .fold(f64::INFINITY, f64::min);
                assert!(dd > 22.0, "{} on the dike ({dd} m)", b.id);
            }
            let rings: Vec<&Vec<P2>> = std::iter::once(&poly.exterior)
                .chain(&poly.interiors)
                .collect();
            for (l, lb) in c.roads.links.iter().zip(&link_boxes) {
                if !lb.intersects(&bb) {
                    continue;
                }
                for q in &l.geometry {
                    assert!(!poly.contains(*q), "{} contains a road vertex", b.id);
                }
                for s in l.geometry.windows(2) {
                    for r in &rings {
                        for k in 0..r.len() {
                            let (a, e) = (r[k], r[(k + 1) % r.len()]);
                            assert!(
                                !segments_cross(a, e, s[0], s[1]),
                                "{} crosses {:?}",
                                b.id,
                                l.name
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn terrain_polder_dike_and_quay() {
        let c = default_city();
        let d = dem(c);
        let dikes: Vec<&Barrier> = c
            .barriers
            .iter()
            .filter(|b| b.kind == BarrierKind::Dike)
            .collect();
        let low: Vec<&&Barrier> = dikes
            .iter()
            .filter(|b| b.crest_z < DIKE_CREST_Z - 0.1)
            .collect();
        assert_eq!(low.len(), 1);
        assert_eq!(low[0].id, "dike-low-1");
        assert_eq!(low[0].crest_z, 7.2);
        let len: f64 = low[0]
            .line
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum();
        assert!((295.0..320.0).contains(&len), "low section {len} m");
        for b in &dikes {
            assert!(b.id == "dike-low-1" || b.crest_z == 8.0);
            for p in &b.line[1..b.line.len() - 1] {
                let z = d.sample_bilinear(p[0], p[1]).unwrap() as f64;
                assert!((z - b.crest_z).abs() < 0.05, "{} crest {z} at {p:?}", b.id);
            }
        }
        let quay = c
            .barriers
            .iter()
            .find(|b| b.kind == BarrierKind::Quay)
            .unwrap();
        assert_eq!(quay.crest_z, 5.0);
        // Polder: every cell more than 25 m south of the dike line is at +1..+2 m.
        let all: Vec<P2> = dikes.iter().flat_map(|b| b.line.iter().copied()).collect();
        let mut polder = 0usize;
        for row in 0..d.spec.height {
            for col in 0..d.spec.width {
                let [x, y] = d.spec.cell_center(col, row);
                if y < line_y(&all, x).unwrap() - 25.0 {
                    let z = d.get(col, row);
                    assert!((1.0..=2.0).contains(&z), "polder cell {col},{row} at {z}");
                    polder += 1;
                }
            }
        }
        assert!(polder > 1_000_000, "{polder} polder cells");
        // The city bank: behind the quay at least +5 m.
        for p in quay.line[1..quay.line.len() - 1].iter().step_by(7) {
            let z = d.sample_bilinear(p[0], p[1] + 5.0).unwrap();
            assert!((5.0..6.0).contains(&z), "quay at {z}");
            assert!(d.sample_bilinear(p[0], p[1] - 20.0).unwrap() < -5.0);
        }
    }

    #[test]
    fn bridge_connects_polder_and_city_bank() {
        let c = default_city();
        let g = &c.roads;
        let reach = |use_bridges: bool, from: usize| {
            let mut adj = vec![Vec::new(); g.nodes.len()];
            for l in g.links.iter().filter(|l| use_bridges || !l.bridge) {
                adj[l.from as usize].push(l.to as usize);
            }
            let mut seen = vec![false; g.nodes.len()];
            let mut q = VecDeque::from([from]);
            seen[from] = true;
            while let Some(n) = q.pop_front() {
                for &m in &adj[n] {
                    if !seen[m] {
                        seen[m] = true;
                        q.push_back(m);
                    }
                }
            }
            seen
        };
        let nearest = |x: f64, y: f64| {
            (0..g.nodes.len())
                .min_by(|&a, &b| {
                    let d = |i: usize| (g.nodes[i].x - x).hypot(g.nodes[i].y - y);
                    d(a).total_cmp(&d(b))
                })
                .unwrap()
        };
        let polder = nearest(565000.0, 5927000.0);
        let city = nearest(567000.0, 5929000.0);
        assert!(
            reach(true, polder)[city],
            "no path from the polder to the high bank"
        );
        assert!(reach(true, city)[polder]);
        assert!(
            !reach(false, polder)[city],
            "banks connected without a bridge"
        );
        let d = dem(c);
        let bridges: Vec<_> = g.links.iter().filter(|l| l.bridge).collect();
        assert!(!bridges.is_empty());
        for l in bridges {
            let m = [
                0.5 * (l.geometry[0][0] + l.geometry[1][0]),
                0.5 * (l.geometry[0][1] + l.geometry[1][1]),
            ];
            assert!(
                d.sample_bilinear(m[0], m[1]).unwrap() < -5.0,
                "bridge not over water"
            );
        }
    }

    #[test]
    fn geometry_is_finite_and_surfaces_closed() {
        let c = default_city();
        assert!(dem(c).data.iter().all(|v| v.is_finite()));
        for b in &c.buildings {
            assert!(b.footprint.iter().all(Polygon::is_finite));
            let m = &b.surfaces;
            assert!(
                !m.is_empty() && m.kinds.len() == m.triangles.len(),
                "{}",
                b.id
            );
            assert!(m.positions.iter().all(|p| p.iter().all(|v| v.is_finite())));
            for k in [SurfaceKind::Roof, SurfaceKind::Wall, SurfaceKind::Ground] {
                assert!(m.area_of(k) > 0.0, "{} has no {k:?}", b.id);
            }
            assert!(
                (m.area_of(SurfaceKind::Ground) - b.footprint_area()).abs()
                    < 1e-3 * b.footprint_area().max(1.0)
            );
            // Closed and outward: area vectors sum to zero, enclosed volume positive.
            let (mut sum, mut vol) = ([0.0f64; 3], 0.0);
            let o = m.positions[0];
            for t in &m.triangles {
                let [a, p, q] = t.map(|i| {
                    let v = m.positions[i as usize];
                    [v[0] - o[0], v[1] - o[1], v[2] - o[2]]
                });
                let u = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
                let v = [q[0] - a[0], q[1] - a[1], q[2] - a[2]];
                let n = [
                    u[1] * v[2] - u[2] * v[1],
                    u[2] * v[0] - u[0] * v[2],
                    u[0] * v[1] - u[1] * v[0],
                ];
                for k in 0..3 {
                    sum[k] += n[k];
                }
                vol += (a[0] * n[0] + a[1] * n[1] + a[2] * n[2]) / 6.0;
            }
            assert!(
                sum.iter().all(|s| s.abs() < 1e-4),
                "{} not closed: {sum:?}",
                b.id
            );
            let min_vol = b.footprint_area() * (b.height_m().unwrap() - 0.01) * 0.5;
            assert!(vol > min_vol, "{} volume {vol}", b.id);
        }
        for l in &c.roads.links {
            assert!(
                l.geometry
                    .iter()
                    .all(|p| p[0].is_finite() && p[1].is_finite())
            );
        }
        for z in &c.landcover {
            assert!(z.polygon.is_finite() && z.polygon.area() > 0.0, "{}", z.id);
        }
    }

    #[test]
    fn gabled_box_volume_and_orientation() {
        for (hip, r) in [
            (false, [0.0, 0.0, 12.0, 8.0]),
            (true, [0.0, 0.0, 8.0, 12.0]),
            (true, [0.0, 0.0, 10.0, 10.0]),
        ] {
            let m = gabled_box(r, 1.0, 7.0, 10.0, hip);
            let (w, l) = (r[2].min(r[3]), r[2].max(r[3]));
            let mut vol = 0.0;
            for t in &m.triangles {
                let [a, b, c] = t.map(|i| m.positions[i as usize]);
                vol += (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                    + a[2] * (b[0] * c[1] - b[1] * c[0]))
                    / 6.0;
            }
            let body = r[2] * r[3] * 6.0;
            let roof = if hip {
                let inset = (0.5 * w).min(0.5 * l - 0.5);
                // Prism minus the two hip pyramids cut at both ends.
                0.5 * w * 3.0 * (l - 2.0 * inset) + 2.0 * (w * inset * 3.0 / 3.0)
            } else {
                0.5 * 8.0 * 3.0 * 12.0
            };
            assert!(
                (vol - body - roof).abs() < 1e-6,
                "hip={hip} vol {vol} expected {}",
                body + roof
            );
            assert_eq!(m.z_range(), Some((1.0, 10.0)));
            assert!((m.area_of(SurfaceKind::Ground) - r[2] * r[3]).abs() < 1e-9);
        }
    }

    #[test]
    fn same_seed_same_city_other_seed_other_city() {
        let p = DemoParams {
            seed: 7,
            size_m: 700.0,
            cell_m: 2.0,
        };
        let (a, b) = (generate(&p).unwrap(), generate(&p).unwrap());
        let bytes = |c: &City| {
            dem(c)
                .data
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        assert_eq!(bytes(&a), bytes(&b));
        assert!(!a.buildings.is_empty());
        assert_eq!(a.buildings, b.buildings);
        assert_eq!(a.roads, b.roads);
        assert_eq!(a.landcover, b.landcover);
        assert_eq!(a.barriers, b.barriers);
        assert_eq!(a.points, b.points);
        let other = generate(&DemoParams { seed: 8, ..p }).unwrap();
        assert_ne!(bytes(&a), bytes(&other));
        assert_ne!(a.buildings, other.buildings);
        assert_eq!(
            other.sources,
            vec!["urban-twin demo generator seed=8".to_string()]
        );
    }

    #[test]
    fn preview_of_the_demo_city() {
        let c = default_city();
        let dir = tempfile::tempdir().unwrap();
        let path = match std::env::var_os("DEMO_PREVIEW") {
            Some(p) => std::path::PathBuf::from(p),
            None => dir.path().join("demo.png"),
        };
        crate::derive::preview_png(c, &path, 1000).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
    }
}
