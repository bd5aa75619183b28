//! Sample points on building facades: a regular grid on every wall ([`sample_walls`]) and
//! generated window points for cities without window data ([`generate_windows`]).
//!
//! # Walls
//! A *wall* is a group of [`SurfaceKind::Wall`] triangles of one building that are
//! edge-connected (edges matched on vertex positions welded at 1 mm, not on indices, since
//! importers repeat vertices per polygon) and coplanar with the group's first triangle
//! (normal within [`WALL_ANGLE_TOL_DEG`], vertices within [`WALL_PLANE_TOL_M`] of its plane).
//! Walls are numbered per building in the order of their first triangle; both functions use
//! the same numbering.
//!
//! # Outward normals
//! Ring orientation is not trusted. For each wall, probes at a few points of the wall are
//! moved [`PROBE_M`] along and against the horizontal part of the normal and tested against
//! the building's footprint polygons: "outside along, inside against" votes for the
//! normal, the reverse votes against it. A wall without a majority (no footprint, an inner
//! wall between parts, a wall above a lower part, a near-horizontal surface) keeps the
//! orientation of its triangles.
//!
//! All arithmetic is in f64 relative to a per-building origin (projected coordinates are
//! large); results are deterministic and independent of the rayon thread count.

use crate::error::{Result, ShadowError};
use rayon::prelude::*;
use std::collections::HashMap;
use twin_core::model::{Building, City, SurfaceKind};

/// Largest angle between the normals of two triangles of one wall (degrees).
pub const WALL_ANGLE_TOL_DEG: f64 = 1.0;
/// Largest distance of a wall triangle's vertices from the wall plane (m).
pub const WALL_PLANE_TOL_M: f64 = 0.01;
/// How far footprint probes are moved off the wall (m).
pub const PROBE_M: f64 = 0.1;
/// Walls smaller than this (m²) get no points (slivers of imported geometry).
pub const MIN_WALL_AREA_M2: f64 = 1e-4;
/// Default window sill height above the storey floor (m).
pub const DEFAULT_SILL_M: f64 = 0.9;
/// Default window height (m): the window point is at sill + half of it, 1.55 m above the
/// floor by default (EN 17037 asks for at least 1.2 m above the floor and 0.3 m above the
/// sill).
pub const DEFAULT_WINDOW_HEIGHT_M: f64 = 1.3;
/// Most grid cells one wall may need (guards against a spacing far too small).
const MAX_CELLS_PER_WALL: f64 = 1e9;
/// Most storeys per window column (guards against absurd heights).
const MAX_STOREYS: usize = 10_000;

/// Points on building facades, structure of arrays (world coordinates f64, normals unit,
/// outward).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacadePoints {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
    pub nx: Vec<f32>,
    pub ny: Vec<f32>,
    pub nz: Vec<f32>,
    /// Index of the building in `city.buildings`.
    pub building: Vec<u32>,
    /// Index of the wall surface within the building (coplanar connected wall triangles
    /// grouped; see the module docs).
    pub wall: Vec<u32>,
    /// Facade area each point stands for (m²): a wall's area shared equally by its grid
    /// points; for windows, the segment width times the storey height.
    pub area_m2: Vec<f32>,
}

impl FacadePoints {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// Append one point.
    pub fn push(&mut self, p: [f64; 3], n: [f32; 3], building: u32, wall: u32, area_m2: f32) {
        self.x.push(p[0]);
        self.y.push(p[1]);
        self.z.push(p[2]);
        self.nx.push(n[0]);
        self.ny.push(n[1]);
        self.nz.push(n[2]);
        self.building.push(building);
        self.wall.push(wall);
        self.area_m2.push(area_m2);
    }
    /// Append all points of `other`.
    pub fn append(&mut self, other: &FacadePoints) {
        self.x.extend_from_slice(&other.x);
        self.y.extend_from_slice(&other.y);
        self.z.extend_from_slice(&other.z);
        self.nx.extend_from_slice(&other.nx);
        self.ny.extend_from_slice(&other.ny);
        self.nz.extend_from_slice(&other.nz);
        self.building.extend_from_slice(&other.building);
        self.wall.extend_from_slice(&other.wall);
        self.area_m2.extend_from_slice(&other.area_m2);
    }
    /// World position of point `k` (panics when `k` is out of range, like indexing).
    pub fn position(&self, k: usize) -> [f64; 3] {
        [self.x[k], self.y[k], self.z[k]]
    }
    /// Unit outward normal of point `k` (panics when `k` is out of range, like indexing).
    pub fn normal(&self, k: usize) -> [f32; 3] {
        [self.nx[k], self.ny[k], self.nz[k]]
    }
    /// Summed area of all points (m²).
    pub fn total_area_m2(&self) -> f64 {
        self.area_m2.iter().map(|&a| f64::from(a)).sum()
    }
}

/// Window generation parameters (see [`generate_windows_with`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSpec {
    /// Storey height (m); storey floors are at `ground_z + k · storey_m`.
    pub storey_m: f64,
    /// One window per this much wall length (m), per storey.
    pub spacing_m: f64,
    /// Sill height above the storey floor (m).
    pub sill_m: f64,
    /// Window height (m); the point is at `sill_m + window_height_m / 2` above the floor.
    pub window_height_m: f64,
}

impl Default for WindowSpec {
    fn default() -> Self {
        WindowSpec {
            storey_m: 3.0,
            spacing_m: 2.5,
            sill_m: DEFAULT_SILL_M,
            window_height_m: DEFAULT_WINDOW_HEIGHT_M,
        }
    }
}

impl WindowSpec {
    /// Every value finite; storey and spacing > 0, sill >= 0, window height > 0, and the
    /// window fits in a storey.
    pub fn validate(&self) -> Result<()> {
        positive("storey_m", self.storey_m)?;
        positive("spacing_m", self.spacing_m)?;
        positive("window_height_m", self.window_height_m)?;
        if !(self.sill_m.is_finite() && self.sill_m >= 0.0) {
            return Err(ShadowError::param(
                "sill_m",
                format!("{}; expected a finite value >= 0 m", self.sill_m),
            ));
        }
        if self.sill_m + self.window_height_m > self.storey_m {
            return Err(ShadowError::param(
                "storey_m",
                format!(
                    "{} m is lower than sill {} m + window {} m",
                    self.storey_m, self.sill_m, self.window_height_m
                ),
            ));
        }
        Ok(())
    }
}

fn positive(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(ShadowError::param(
            what,
            format!("{v}; expected a finite value > 0 m"),
        ))
    }
}

/// Sample every wall triangle group of every building on a regular grid in the wall plane
/// (horizontal and vertical spacing `spacing_m`, cell centres, so a 10 m × 3 m wall at 1 m
/// gives 30 points); points lie on the surface; normals point OUT of the building, decided
/// from the footprint (see the module docs). Only buildings whose index is in `buildings`
/// (None = all).
///
/// The grid of a wall covers its extent in the wall plane with `ceil(extent / spacing)`
/// cells per direction, centred on the extent; a cell gives a point when its centre lies on
/// one of the wall's triangles. A wall whose triangles hold no cell centre (narrower than
/// the spacing, or a thin gable) gets one point at the centroid of its largest triangle, so
/// that every wall is represented. The wall's area is shared equally by its points.
/// Points come per building (in the order given), per wall, bottom row first.
///
/// Errors: `spacing_m` not finite and > 0, or so small that a wall needs more than 1e9
/// cells; a building index out of range.
pub fn sample_walls(
    city: &City,
    spacing_m: f64,
    buildings: Option<&[usize]>,
) -> Result<FacadePoints> {
    positive("spacing_m", spacing_m)?;
    let list = building_list(city, buildings)?;
    let parts: Vec<FacadePoints> = list
        .par_iter()
        .map(|&bi| sample_building(&city.buildings[bi], bi as u32, spacing_m))
        .collect::<Result<_>>()?;
    Ok(concat(parts))
}

/// Generated window points: one per storey and per `spacing_m` of wall length, at
/// [`DEFAULT_SILL_M`] + half of [`DEFAULT_WINDOW_HEIGHT_M`] above each storey floor (storey
/// height `storey_m`, floors from the building's ground_z up to below its eaves/wall top),
/// on the wall centre line; same outward normals. For cities without window data.
///
/// See [`generate_windows_with`] for all parameters and the exact rules.
pub fn generate_windows(
    city: &City,
    storey_m: f64,
    spacing_m: f64,
    buildings: Option<&[usize]>,
) -> Result<FacadePoints> {
    let spec = WindowSpec {
        storey_m,
        spacing_m,
        ..WindowSpec::default()
    };
    generate_windows_with(city, &spec, buildings)
}

/// Generated window points with all parameters.
///
/// Per wall (walls tilted more than 30° from vertical have no windows): the wall length `L`
/// is its horizontal extent; it gets `n = round(L / spacing_m)` window columns at the centres
/// of `n` equal segments (none when `L` is below half the spacing). In a column, storey `k`
/// has its floor at `ground_z + k · storey_m` (`ground_z` of the building, else its lowest
/// vertex) and a window when the window (sill to sill + height) lies within the wall's
/// vertical extent at that column, i.e. below the eaves or wall top there and above the
/// wall's foot. The point is at sill + half the window height above the floor, on the wall
/// surface, with the wall's outward normal; it stands for the segment width × storey height.
pub fn generate_windows_with(
    city: &City,
    spec: &WindowSpec,
    buildings: Option<&[usize]>,
) -> Result<FacadePoints> {
    spec.validate()?;
    let list = building_list(city, buildings)?;
    let parts: Vec<FacadePoints> = list
        .par_iter()
        .map(|&bi| windows_building(&city.buildings[bi], bi as u32, spec))
        .collect::<Result<_>>()?;
    Ok(concat(parts))
}

/// A ray origin for point k in BVH local coordinates: the point moved `offset_m` along its
/// normal. Panics when `k` is out of range (like indexing).
pub fn ray_origin(p: &FacadePoints, k: usize, origin: [f64; 3], offset_m: f64) -> [f32; 3] {
    let n = [f64::from(p.nx[k]), f64::from(p.ny[k]), f64::from(p.nz[k])];
    [
        (p.x[k] + offset_m * n[0] - origin[0]) as f32,
        (p.y[k] + offset_m * n[1] - origin[1]) as f32,
        (p.z[k] + offset_m * n[2] - origin[2]) as f32,
    ]
}

/// [`ray_origin`] for every point.
pub fn ray_origins(p: &FacadePoints, origin: [f64; 3], offset_m: f64) -> Vec<[f32; 3]> {
    (0..p.len())
        .map(|k| ray_origin(p, k, origin, offset_m))
        .collect()
}

/// The buildings to process, validated, in the given order without repeats.
fn building_list(city: &City, buildings: Option<&[usize]>) -> Result<Vec<usize>> {
    let n = city.buildings.len();
    match buildings {
        None => Ok((0..n).collect()),
        Some(list) => {
            let mut seen = vec![false; n];
            let mut out = Vec::with_capacity(list.len());
            for &b in list {
                if b >= n {
                    return Err(ShadowError::input(
                        "buildings",
                        format!("building index {b} out of range ({n} buildings)"),
                    ));
                }
                if b > u32::MAX as usize {
                    return Err(ShadowError::input(
                        "buildings",
                        format!("building index {b} does not fit in 32 bits"),
                    ));
                }
                if !std::mem::replace(&mut seen[b], true) {
                    out.push(b);
                }
            }
            Ok(out)
        }
    }
}

fn concat(parts: Vec<FacadePoints>) -> FacadePoints {
    let n: usize = parts.iter().map(FacadePoints::len).sum();
    let mut out = FacadePoints {
        x: Vec::with_capacity(n),
        y: Vec::with_capacity(n),
        z: Vec::with_capacity(n),
        nx: Vec::with_capacity(n),
        ny: Vec::with_capacity(n),
        nz: Vec::with_capacity(n),
        building: Vec::with_capacity(n),
        wall: Vec::with_capacity(n),
        area_m2: Vec::with_capacity(n),
    };
    for p in &parts {
        out.append(p);
    }
    out
}

type V3 = [f64; 3];

#[inline]
fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
#[inline]
fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
#[inline]
fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
#[inline]
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
#[inline]
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
#[inline]
fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}
#[inline]
fn cross2(a: [f64; 2], b: [f64; 2]) -> f64 {
    a[0] * b[1] - a[1] * b[0]
}

/// One wall triangle in building-local coordinates.
struct WallTri {
    v: [V3; 3],
    /// Unit normal from the winding.
    n: V3,
    area: f64,
}

/// One wall: its triangles, outward unit normal, in-plane frame and area.
struct Wall {
    id: u32,
    tris: Vec<usize>,
    n: V3,
    /// Horizontal in-plane axis.
    u: V3,
    /// In-plane axis `n × u` (upwards for vertical walls).
    v: V3,
    area: f64,
}

/// A building's walls and the local origin of their coordinates.
struct Walls {
    origin: V3,
    tris: Vec<WallTri>,
    walls: Vec<Wall>,
}

/// Group a building's wall triangles into walls with outward normals.
fn walls_of(b: &Building) -> Walls {
    let m = &b.surfaces;
    let origin = m
        .positions
        .iter()
        .find(|p| p.iter().all(|v| v.is_finite()))
        .copied()
        .unwrap_or([0.0; 3]);
    // Welded vertex ids (1 mm grid) for edge connectivity.
    let mut weld: HashMap<[i64; 3], u32> = HashMap::new();
    let mut tris: Vec<WallTri> = Vec::new();
    let mut keys: Vec<[u32; 3]> = Vec::new();
    for (t, k) in m.triangles.iter().zip(&m.kinds) {
        if *k != SurfaceKind::Wall {
            continue;
        }
        let Some(w) = t
            .iter()
            .map(|&i| m.positions.get(i as usize).copied())
            .collect::<Option<Vec<V3>>>()
        else {
            continue;
        };
        if !w.iter().flatten().all(|v| v.is_finite()) {
            continue;
        }
        let v = [sub(w[0], origin), sub(w[1], origin), sub(w[2], origin)];
        let c = cross(sub(v[1], v[0]), sub(v[2], v[0]));
        let len = norm(c);
        if len.is_nan() || len <= 1e-12 {
            continue;
        }
        let mut key = [0u32; 3];
        for (j, p) in w.iter().enumerate() {
            let q = p.map(|x| (x * 1000.0).round() as i64);
            let next = weld.len() as u32;
            key[j] = *weld.entry(q).or_insert(next);
        }
        if key[0] == key[1] || key[1] == key[2] || key[0] == key[2] {
            continue;
        }
        tris.push(WallTri {
            v,
            n: scale(c, 1.0 / len),
            area: 0.5 * len,
        });
        keys.push(key);
    }
    // Edge -> triangles, in triangle order.
    let mut edges: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        for j in 0..3 {
            let (a, c) = (k[j], k[(j + 1) % 3]);
            edges.entry((a.min(c), a.max(c))).or_default().push(i);
        }
    }
    let cos_tol = WALL_ANGLE_TOL_DEG.to_radians().cos();
    let mut group = vec![u32::MAX; tris.len()];
    let mut walls = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    for seed in 0..tris.len() {
        if group[seed] != u32::MAX {
            continue;
        }
        let id = walls.len() as u32;
        let sn = tris[seed].n;
        let sd = dot(sn, tris[seed].v[0]);
        group[seed] = id;
        let mut members = vec![seed];
        queue.push_back(seed);
        while let Some(i) = queue.pop_front() {
            for j in 0..3 {
                let (a, c) = (keys[i][j], keys[i][(j + 1) % 3]);
                let Some(nb) = edges.get(&(a.min(c), a.max(c))) else {
                    continue;
                };
                for &o in nb {
                    if group[o] != u32::MAX {
                        continue;
                    }
                    let t = &tris[o];
                    let coplanar = dot(t.n, sn) >= cos_tol
                        && t.v
                            .iter()
                            .all(|p| (dot(sn, *p) - sd).abs() <= WALL_PLANE_TOL_M);
                    if coplanar {
                        group[o] = id;
                        members.push(o);
                        queue.push_back(o);
                    }
                }
            }
        }
        members.sort_unstable();
        let mut n = [0.0; 3];
        let mut area = 0.0;
        for &i in &members {
            n = add(n, scale(tris[i].n, tris[i].area));
            area += tris[i].area;
        }
        let ln = norm(n);
        let n = if ln > 0.0 { scale(n, 1.0 / ln) } else { sn };
        walls.push(Wall {
            id,
            tris: members,
            n,
            u: [0.0; 3],
            v: [0.0; 3],
            area,
        });
    }
    for w in &mut walls {
        if outward_votes(b, origin, &tris, w) < 0 {
            w.n = scale(w.n, -1.0);
        }
        let h = w.n[0].hypot(w.n[1]);
        w.u = if h > 1e-9 {
            [-w.n[1] / h, w.n[0] / h, 0.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        w.v = cross(w.n, w.u);
    }
    Walls {
        origin,
        tris,
        walls,
    }
}

/// Footprint votes for the wall's current normal being outward (> 0) or inward (< 0).
fn outward_votes(b: &Building, origin: V3, tris: &[WallTri], w: &Wall) -> i32 {
    let h = w.n[0].hypot(w.n[1]);
    if b.footprint.is_empty() || h < 0.2 {
        return 0;
    }
    let dir = [w.n[0] / h, w.n[1] / h];
    let inside = |p: [f64; 2]| b.footprint.iter().any(|poly| poly.contains(p));
    // Probe at the centroids of up to 8 of the largest triangles.
    let mut order: Vec<usize> = w.tris.clone();
    order.sort_by(|&a, &c| tris[c].area.total_cmp(&tris[a].area).then(a.cmp(&c)));
    let mut votes = 0;
    for &i in order.iter().take(8) {
        let t = &tris[i];
        let c = scale(add(add(t.v[0], t.v[1]), t.v[2]), 1.0 / 3.0);
        let (x, y) = (origin[0] + c[0], origin[1] + c[1]);
        let along = inside([x + PROBE_M * dir[0], y + PROBE_M * dir[1]]);
        let against = inside([x - PROBE_M * dir[0], y - PROBE_M * dir[1]]);
        match (along, against) {
            (false, true) => votes += 1,
            (true, false) => votes -= 1,
            _ => {}
        }
    }
    votes
}

/// Barycentric coordinates (s, t) of `p` in the 2D triangle (a, b, c), `p = a + s(b − a) +
/// t(c − a)`, when it lies inside (with a tolerance of `1e-9` in barycentric units);
/// clamped onto the triangle.
fn bary_inside(p: [f64; 2], a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> Option<(f64, f64)> {
    let e1 = [b[0] - a[0], b[1] - a[1]];
    let e2 = [c[0] - a[0], c[1] - a[1]];
    let d = cross2(e1, e2);
    if d.is_nan() || d.abs() <= 1e-12 {
        return None;
    }
    let q = [p[0] - a[0], p[1] - a[1]];
    let s = cross2(q, e2) / d;
    let t = cross2(e1, q) / d;
    const EPS: f64 = 1e-9;
    if s >= -EPS && t >= -EPS && s + t <= 1.0 + EPS {
        let (s, t) = (s.clamp(0.0, 1.0), t.clamp(0.0, 1.0));
        let sum = s + t;
        Some(if sum > 1.0 {
            (s / sum, t / sum)
        } else {
            (s, t)
        })
    } else {
        None
    }
}

/// Point on triangle `t` at barycentric (s, t), in world coordinates.
fn on_triangle(origin: V3, t: &WallTri, s: f64, r: f64) -> V3 {
    let p = add(
        t.v[0],
        add(scale(sub(t.v[1], t.v[0]), s), scale(sub(t.v[2], t.v[0]), r)),
    );
    add(origin, p)
}

fn n32(n: V3) -> [f32; 3] {
    [n[0] as f32, n[1] as f32, n[2] as f32]
}

fn sample_building(b: &Building, bi: u32, s: f64) -> Result<FacadePoints> {
    let ws = walls_of(b);
    let mut out = FacadePoints::default();
    for w in &ws.walls {
        if w.area < MIN_WALL_AREA_M2 {
            continue;
        }
        let proj = |p: V3| [dot(p, w.u), dot(p, w.v)];
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for &i in &w.tris {
            for p in ws.tris[i].v {
                let q = proj(p);
                for a in 0..2 {
                    lo[a] = lo[a].min(q[a]);
                    hi[a] = hi[a].max(q[a]);
                }
            }
        }
        let ext = [hi[0] - lo[0], hi[1] - lo[1]];
        if (ext[0] / s) * (ext[1] / s) > MAX_CELLS_PER_WALL {
            return Err(ShadowError::param(
                "spacing_m",
                format!(
                    "{s} m is too small: a {:.1} m × {:.1} m wall would need more than {MAX_CELLS_PER_WALL:e} points",
                    ext[0], ext[1]
                ),
            ));
        }
        let cells = |e: f64| (e / s - 1e-6).ceil().max(1.0);
        let nc = [cells(ext[0]), cells(ext[1])];
        let g0 = [
            lo[0] + 0.5 * (ext[0] - nc[0] * s),
            lo[1] + 0.5 * (ext[1] - nc[1] * s),
        ];
        let (nu, nv) = (nc[0] as usize, nc[1] as usize);
        // (cell, point) for every cell centre on a triangle; first triangle wins.
        let mut found: Vec<(usize, V3)> = Vec::new();
        for &i in &w.tris {
            let t = &ws.tris[i];
            let q = t.v.map(proj);
            let range = |a: usize, n: usize| {
                let mn = q.iter().map(|p| p[a]).fold(f64::INFINITY, f64::min);
                let mx = q.iter().map(|p| p[a]).fold(f64::NEG_INFINITY, f64::max);
                let k0 = ((mn - g0[a]) / s - 0.5).floor().max(0.0) as usize;
                let k1 = (((mx - g0[a]) / s - 0.5).ceil().max(0.0) as usize).min(n - 1);
                (k0.min(n - 1), k1)
            };
            let (u0, u1) = range(0, nu);
            let (v0, v1) = range(1, nv);
            for kv in v0..=v1 {
                let pv = g0[1] + (kv as f64 + 0.5) * s;
                for ku in u0..=u1 {
                    let pu = g0[0] + (ku as f64 + 0.5) * s;
                    if let Some((bs, bt)) = bary_inside([pu, pv], q[0], q[1], q[2]) {
                        found.push((kv * nu + ku, on_triangle(ws.origin, t, bs, bt)));
                    }
                }
            }
        }
        // Stable sort keeps the first triangle's point for a cell.
        found.sort_by_key(|f| f.0);
        found.dedup_by_key(|f| f.0);
        let n = n32(w.n);
        if found.is_empty() {
            let big = w
                .tris
                .iter()
                .copied()
                .max_by(|&a, &c| ws.tris[a].area.total_cmp(&ws.tris[c].area).then(c.cmp(&a)));
            if let Some(i) = big {
                let p = on_triangle(ws.origin, &ws.tris[i], 1.0 / 3.0, 1.0 / 3.0);
                out.push(p, n, bi, w.id, w.area as f32);
            }
            continue;
        }
        let a = (w.area / found.len() as f64) as f32;
        for (_, p) in found {
            out.push(p, n, bi, w.id, a);
        }
    }
    Ok(out)
}

fn windows_building(b: &Building, bi: u32, spec: &WindowSpec) -> Result<FacadePoints> {
    let ws = walls_of(b);
    let mut out = FacadePoints::default();
    let ground = b.ground_z.filter(|g| g.is_finite()).or_else(|| {
        b.surfaces
            .positions
            .iter()
            .map(|p| p[2])
            .filter(|z| z.is_finite())
            .reduce(f64::min)
    });
    let Some(ground) = ground else {
        return Ok(out);
    };
    // Heights relative to the local origin.
    let g = ground - ws.origin[2];
    for w in &ws.walls {
        if w.area < MIN_WALL_AREA_M2 || w.n[2].abs() > 0.5 {
            continue;
        }
        // (u, z) coordinates: horizontal position along the wall and height.
        let tri_uz: Vec<[[f64; 2]; 3]> = w
            .tris
            .iter()
            .map(|&i| ws.tris[i].v.map(|p| [dot(p, w.u), p[2]]))
            .collect();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for q in tri_uz.iter().flatten() {
            lo = lo.min(q[0]);
            hi = hi.max(q[0]);
        }
        let len = hi - lo;
        let n_cols = (len / spec.spacing_m).round();
        if n_cols.is_nan() || n_cols < 1.0 {
            continue;
        }
        if n_cols > MAX_CELLS_PER_WALL {
            return Err(ShadowError::param(
                "spacing_m",
                format!(
                    "{} m is too small: a {len:.1} m wall would need more than {MAX_CELLS_PER_WALL:e} windows per storey",
                    spec.spacing_m
                ),
            ));
        }
        let seg = len / n_cols;
        let area = (seg * spec.storey_m) as f32;
        let n = n32(w.n);
        for c in 0..n_cols as usize {
            let uc = lo + (c as f64 + 0.5) * seg;
            // Vertical extent of the wall at uc.
            let (mut zlo, mut zhi) = (f64::INFINITY, f64::NEG_INFINITY);
            for q in &tri_uz {
                for j in 0..3 {
                    let (p, r) = (q[j], q[(j + 1) % 3]);
                    let (a, bb) = (p[0].min(r[0]), p[0].max(r[0]));
                    if uc < a || uc > bb {
                        continue;
                    }
                    if bb - a < 1e-12 {
                        zlo = zlo.min(p[1].min(r[1]));
                        zhi = zhi.max(p[1].max(r[1]));
                    } else {
                        let z = p[1] + (r[1] - p[1]) * (uc - p[0]) / (r[0] - p[0]);
                        zlo = zlo.min(z);
                        zhi = zhi.max(z);
                    }
                }
            }
            if zlo > zhi {
                continue;
            }
            const TOL: f64 = 1e-6;
            // First storey whose sill is at or above the wall's foot.
            let k0 = ((zlo - TOL - g - spec.sill_m) / spec.storey_m)
                .ceil()
                .max(0.0);
            if k0.is_nan() || k0 >= MAX_STOREYS as f64 {
                continue;
            }
            for k in k0 as usize..MAX_STOREYS {
                let floor = g + k as f64 * spec.storey_m;
                let sill = floor + spec.sill_m;
                if sill + spec.window_height_m > zhi + TOL {
                    break;
                }
                if sill < zlo - TOL {
                    continue;
                }
                let zc = sill + 0.5 * spec.window_height_m;
                let hit = w.tris.iter().zip(&tri_uz).find_map(|(&i, q)| {
                    bary_inside([uc, zc], q[0], q[1], q[2]).map(|(s, t)| (i, s, t))
                });
                if let Some((i, s, t)) = hit {
                    out.push(on_triangle(ws.origin, &ws.tris[i], s, t), n, bi, w.id, area);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use twin_core::geom::Polygon;
    use twin_core::model::TriMesh;

    const X0: f64 = 565_000.0;
    const Y0: f64 = 5_933_000.0;

    /// A LoD1 box `w × d × h` at `(X0 + x, Y0 + y)`, ground at `g`.
    fn box_building(x: f64, y: f64, w: f64, d: f64, g: f64, h: f64) -> Building {
        let (x, y) = (X0 + x, Y0 + y);
        let mut b = Building {
            id: format!("box{x}"),
            footprint: vec![Polygon::new(vec![
                [x, y],
                [x + w, y],
                [x + w, y + d],
                [x, y + d],
            ])],
            ground_z: Some(g),
            measured_height_m: Some(h),
            ..Default::default()
        };
        b.extrude_lod1();
        b
    }

    fn city(buildings: Vec<Building>) -> City {
        let mut c = City::new("test", 25832);
        c.buildings = buildings;
        c
    }

    /// Checks that every point lies on a wall of the axis-aligned box and that its normal is
    /// the outward one.
    fn assert_on_box_walls(p: &FacadePoints, x: f64, y: f64, w: f64, d: f64, g: f64, h: f64) {
        let (x, y) = (X0 + x, Y0 + y);
        for k in 0..p.len() {
            let [px, py, pz] = p.position(k);
            let n = p.normal(k);
            let on = if (px - x).abs() < 1e-9 {
                n == [-1.0, 0.0, 0.0]
            } else if (px - x - w).abs() < 1e-9 {
                n == [1.0, 0.0, 0.0]
            } else if (py - y).abs() < 1e-9 {
                n == [0.0, -1.0, 0.0]
            } else if (py - y - d).abs() < 1e-9 {
                n == [0.0, 1.0, 0.0]
            } else {
                false
            };
            assert!(on, "point {k} {:?} normal {n:?}", p.position(k));
            assert!((x - 1e-9..=x + w + 1e-9).contains(&px));
            assert!((y - 1e-9..=y + d + 1e-9).contains(&py));
            assert!((g - 1e-9..=g + h + 1e-9).contains(&pz));
        }
    }

    #[test]
    fn box_walls_at_one_metre() {
        let c = city(vec![box_building(0.0, 0.0, 10.0, 20.0, 3.0, 6.0)]);
        let p = sample_walls(&c, 1.0, None).unwrap();
        // 2 × (10 × 6) + 2 × (20 × 6) cells.
        assert_eq!(p.len(), 360);
        assert_on_box_walls(&p, 0.0, 0.0, 10.0, 20.0, 3.0, 6.0);
        // Cell centres: half-metre offsets along the wall and in height.
        for k in 0..p.len() {
            let along = if p.nx[k] != 0.0 {
                p.y[k] - Y0
            } else {
                p.x[k] - X0
            };
            assert!((along.fract() - 0.5).abs() < 1e-6, "{along}");
            assert!(((p.z[k] - 3.0).fract() - 0.5).abs() < 1e-6);
            assert_eq!(p.area_m2[k], 1.0);
            assert_eq!(p.building[k], 0);
        }
        // Four walls, 60 or 120 points each.
        let mut per_wall = std::collections::BTreeMap::new();
        for &w in &p.wall {
            *per_wall.entry(w).or_insert(0) += 1;
        }
        let mut counts: Vec<i32> = per_wall.values().copied().collect();
        counts.sort_unstable();
        assert_eq!(counts, vec![60, 60, 120, 120]);
        assert!((p.total_area_m2() - 360.0).abs() < 1e-3);
        // A 10 m × 3 m wall at 1 m: 30 points per long side.
        let c = city(vec![box_building(0.0, 0.0, 10.0, 10.0, 0.0, 3.0)]);
        assert_eq!(sample_walls(&c, 1.0, None).unwrap().len(), 120);
        // Coarser spacing: ceil(10 / 3) × ceil(6 / 3) and ceil(20 / 3) × 2, centred.
        let c = city(vec![box_building(0.0, 0.0, 10.0, 20.0, 3.0, 6.0)]);
        let p = sample_walls(&c, 3.0, None).unwrap();
        assert_eq!(p.len(), 2 * (4 * 2) + 2 * (7 * 2));
        assert_on_box_walls(&p, 0.0, 0.0, 10.0, 20.0, 3.0, 6.0);
        assert!((p.total_area_m2() - 360.0).abs() < 1e-3);
    }

    #[test]
    fn normals_come_from_the_footprint_not_the_winding() {
        let mut b = box_building(0.0, 0.0, 10.0, 20.0, 0.0, 6.0);
        // Flip every wall triangle: the winding now points inwards.
        for (t, k) in b.surfaces.triangles.iter_mut().zip(&b.surfaces.kinds) {
            if *k == SurfaceKind::Wall {
                t.swap(1, 2);
            }
        }
        let p = sample_walls(&city(vec![b.clone()]), 1.0, None).unwrap();
        assert_eq!(p.len(), 360);
        assert_on_box_walls(&p, 0.0, 0.0, 10.0, 20.0, 0.0, 6.0);
        // Without a footprint the winding is all there is.
        b.footprint.clear();
        let p = sample_walls(&city(vec![b]), 1.0, None).unwrap();
        assert_eq!(p.len(), 360);
        assert!((0..p.len()).all(|k| {
            let c = [X0 + 5.0, Y0 + 10.0];
            f64::from(p.nx[k]) * (p.x[k] - c[0]) + f64::from(p.ny[k]) * (p.y[k] - c[1]) < 0.0
        }));
        // A building with a courtyard: the courtyard walls face into the courtyard.
        let (x, y) = (X0 + 100.0, Y0);
        let mut ring = Building {
            id: "ring".into(),
            footprint: vec![Polygon {
                exterior: vec![[x, y], [x + 30.0, y], [x + 30.0, y + 30.0], [x, y + 30.0]],
                interiors: vec![vec![
                    [x + 10.0, y + 10.0],
                    [x + 20.0, y + 10.0],
                    [x + 20.0, y + 20.0],
                    [x + 10.0, y + 20.0],
                ]],
            }],
            ground_z: Some(0.0),
            measured_height_m: Some(4.0),
            ..Default::default()
        };
        ring.extrude_lod1();
        let p = sample_walls(&city(vec![ring]), 1.0, None).unwrap();
        assert_eq!(p.len(), 4 * 30 * 4 + 4 * 10 * 4);
        for k in 0..p.len() {
            let (dx, dy) = (p.x[k] - x - 15.0, p.y[k] - y - 15.0);
            let outward = f64::from(p.nx[k]) * dx + f64::from(p.ny[k]) * dy;
            let courtyard = dx.abs() <= 5.0 + 1e-9 && dy.abs() <= 5.0 + 1e-9;
            assert_eq!(outward < 0.0, courtyard, "point {k}");
        }
    }

    #[test]
    fn coplanar_wall_pieces_are_one_wall() {
        // A footprint with an extra vertex on the south edge: the south wall is two quads.
        let (x, y) = (X0, Y0);
        let mut b = Building {
            id: "b".into(),
            footprint: vec![Polygon::new(vec![
                [x, y],
                [x + 4.0, y],
                [x + 10.0, y],
                [x + 10.0, y + 20.0],
                [x, y + 20.0],
            ])],
            ground_z: Some(0.0),
            measured_height_m: Some(6.0),
            ..Default::default()
        };
        b.extrude_lod1();
        let p = sample_walls(&city(vec![b]), 1.0, None).unwrap();
        assert_eq!(p.len(), 360);
        let south: Vec<u32> = (0..p.len())
            .filter(|&k| p.ny[k] < -0.5)
            .map(|k| p.wall[k])
            .collect();
        assert_eq!(south.len(), 60);
        assert!(south.iter().all(|&w| w == south[0]));
        let walls: std::collections::BTreeSet<u32> = p.wall.iter().copied().collect();
        assert_eq!(walls.len(), 4);
    }

    #[test]
    fn parameters_and_building_lists_are_checked() {
        let c = city(vec![
            box_building(0.0, 0.0, 10.0, 20.0, 0.0, 6.0),
            box_building(50.0, 0.0, 10.0, 10.0, 0.0, 3.0),
        ]);
        for s in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = sample_walls(&c, s, None).unwrap_err().to_string();
            assert!(e.contains("spacing_m"), "{e}");
            let e = generate_windows(&c, 3.0, s, None).unwrap_err().to_string();
            assert!(e.contains("spacing_m"), "{e}");
            let e = generate_windows(&c, s, 2.5, None).unwrap_err().to_string();
            assert!(e.contains("storey_m"), "{e}");
        }
        // A storey lower than sill + window.
        let e = generate_windows(&c, 2.0, 2.5, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("storey_m"), "{e}");
        let e = sample_walls(&c, 1e-6, None).unwrap_err().to_string();
        assert!(e.contains("too small"), "{e}");
        let e = generate_windows(&c, 3.0, 1e-9, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("spacing_m") && e.contains("too small"), "{e}");
        let e = sample_walls(&c, 1.0, Some(&[0, 2]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("buildings") && e.contains('2'), "{e}");
        assert!(generate_windows(&c, 3.0, 2.5, Some(&[7])).is_err());
        // Only the listed buildings, in the given order, repeats dropped.
        let p = sample_walls(&c, 1.0, Some(&[1, 1])).unwrap();
        assert_eq!(p.len(), 120);
        assert!(p.building.iter().all(|&b| b == 1));
        let p = sample_walls(&c, 1.0, Some(&[1, 0])).unwrap();
        assert_eq!(p.len(), 480);
        assert_eq!((p.building[0], p.building[479]), (1, 0));
        assert!(sample_walls(&c, 1.0, Some(&[])).unwrap().is_empty());
    }

    #[test]
    fn bad_geometry_is_skipped() {
        let mut b = box_building(0.0, 0.0, 10.0, 20.0, 0.0, 6.0);
        let m = &mut b.surfaces;
        let n = m.positions.len() as u32;
        m.positions.push([f64::NAN, 0.0, 0.0]);
        m.positions.push([X0, Y0, 0.0]);
        m.triangles
            .extend([[0, 1, n], [0, 0, 1], [0, 1, n + 7], [n + 1, 0, n + 1]]);
        m.kinds.extend([SurfaceKind::Wall; 4]);
        let c = city(vec![b, Building::default()]);
        let p = sample_walls(&c, 1.0, None).unwrap();
        assert_eq!(p.len(), 360);
        assert!(generate_windows(&c, 3.0, 2.5, None).is_ok());
    }

    #[test]
    fn narrow_walls_get_one_point() {
        // 0.4 m × 0.4 m column, 3 m high, at 1 m: one column of cells per wall.
        let c = city(vec![box_building(0.0, 0.0, 0.4, 0.4, 0.0, 3.0)]);
        let p = sample_walls(&c, 1.0, None).unwrap();
        assert_eq!(p.len(), 4 * 3);
        assert!((p.total_area_m2() - 4.0 * 0.4 * 3.0).abs() < 1e-5);
        // A triangular gable too small to hold a cell centre gets one point.
        let (x, y) = (X0, Y0);
        let mut b = Building {
            id: "g".into(),
            footprint: vec![Polygon::new(vec![
                [x, y],
                [x + 1.0, y],
                [x + 1.0, y + 1.0],
                [x, y + 1.0],
            ])],
            ..Default::default()
        };
        let tri = [[x, y, 0.0], [x + 1.0, y, 0.0], [x + 0.5, y, 0.3]];
        b.surfaces.add_polygon(&tri, &[], SurfaceKind::Wall);
        let p = sample_walls(&city(vec![b]), 1.0, None).unwrap();
        assert_eq!(p.len(), 1);
        assert!((p.area_m2[0] - 0.15).abs() < 1e-6);
        assert!((p.y[0] - y).abs() < 1e-9);
        assert_eq!(p.normal(0), [0.0, -1.0, 0.0]);
    }

    /// A gable house: 10 m wide (x), 8 m deep (y), eaves at 6 m, ridge along y at 9 m.
    fn gable_house() -> Building {
        let (x, y) = (X0, Y0);
        let mut m = TriMesh::default();
        let p = |dx: f64, dy: f64, z: f64| [x + dx, y + dy, z];
        // Gable walls (south y = 0 and north y = 8), side walls, roof; outward winding.
        m.add_polygon(
            &[
                p(0.0, 0.0, 0.0),
                p(10.0, 0.0, 0.0),
                p(10.0, 0.0, 6.0),
                p(5.0, 0.0, 9.0),
                p(0.0, 0.0, 6.0),
            ],
            &[],
            SurfaceKind::Wall,
        );
        m.add_polygon(
            &[
                p(0.0, 8.0, 0.0),
                p(0.0, 8.0, 6.0),
                p(5.0, 8.0, 9.0),
                p(10.0, 8.0, 6.0),
                p(10.0, 8.0, 0.0),
            ],
            &[],
            SurfaceKind::Wall,
        );
        m.add_polygon(
            &[
                p(10.0, 0.0, 0.0),
                p(10.0, 8.0, 0.0),
                p(10.0, 8.0, 6.0),
                p(10.0, 0.0, 6.0),
            ],
            &[],
            SurfaceKind::Wall,
        );
        m.add_polygon(
            &[
                p(0.0, 0.0, 0.0),
                p(0.0, 0.0, 6.0),
                p(0.0, 8.0, 6.0),
                p(0.0, 8.0, 0.0),
            ],
            &[],
            SurfaceKind::Wall,
        );
        m.add_polygon(
            &[
                p(0.0, 0.0, 6.0),
                p(5.0, 0.0, 9.0),
                p(5.0, 8.0, 9.0),
                p(0.0, 8.0, 6.0),
            ],
            &[],
            SurfaceKind::Roof,
        );
        m.add_polygon(
            &[
                p(5.0, 0.0, 9.0),
                p(10.0, 0.0, 6.0),
                p(10.0, 8.0, 6.0),
                p(5.0, 8.0, 9.0),
            ],
            &[],
            SurfaceKind::Roof,
        );
        Building {
            id: "gable".into(),
            footprint: vec![Polygon::new(vec![
                [x, y],
                [x + 10.0, y],
                [x + 10.0, y + 8.0],
                [x, y + 8.0],
            ])],
            ground_z: Some(0.0),
            roof_z: Some(9.0),
            lod: 2,
            surfaces: m,
            ..Default::default()
        }
    }

    #[test]
    fn gable_walls_are_sampled_up_to_the_roof_line() {
        let c = city(vec![gable_house()]);
        let p = sample_walls(&c, 1.0, None).unwrap();
        // Side walls 8 × 6 = 48 cells each; a gable wall is 10 × 6 plus the triangle
        // 10 × 3 whose rows of cell centres at 6.5, 7.5, 8.5 m have widths 8.33, 5 and 1.67 m:
        // 8, 6 (two on the roof line, which counts) and 2 centres.
        let gable = 60 + 8 + 6 + 2;
        assert_eq!(p.len(), 2 * 48 + 2 * gable);
        for k in 0..p.len() {
            assert!(p.z[k] <= 9.0 && p.z[k] >= 0.0);
            // Inside the gable outline: z <= 9 - 3 |x - 5| / 5 above the eaves.
            if p.ny[k].abs() > 0.5 {
                let dx = (p.x[k] - X0 - 5.0).abs();
                assert!(p.z[k] <= 9.0 - 0.6 * dx + 1e-9, "{:?}", p.position(k));
            }
        }
        assert!((p.total_area_m2() - (2.0 * 48.0 + 2.0 * 75.0)).abs() < 1e-3);
    }

    #[test]
    fn windows_per_storey() {
        let c = city(vec![box_building(0.0, 0.0, 10.0, 20.0, 3.0, 6.0)]);
        let p = generate_windows(&c, 3.0, 2.5, None).unwrap();
        // Per storey 4 + 8 + 4 + 8 windows; storeys with floors at 3 and 6 m fit below 9 m.
        assert_eq!(p.len(), 48);
        let centre = 3.0 + DEFAULT_SILL_M + 0.5 * DEFAULT_WINDOW_HEIGHT_M;
        let lower = (0..p.len())
            .filter(|&k| (p.z[k] - centre).abs() < 1e-9)
            .count();
        let upper = (0..p.len())
            .filter(|&k| (p.z[k] - centre - 3.0).abs() < 1e-9)
            .count();
        assert_eq!((lower, upper), (24, 24));
        assert_on_box_walls(&p, 0.0, 0.0, 10.0, 20.0, 3.0, 6.0);
        assert!(p.area_m2.iter().all(|&a| (a - 7.5).abs() < 1e-6));
        // Windows at segment centres along each wall.
        for k in 0..p.len() {
            let along = if p.nx[k] != 0.0 {
                p.y[k] - Y0
            } else {
                p.x[k] - X0
            };
            assert!(((along / 2.5).fract() - 0.5).abs() < 1e-9, "{along}");
        }
        // A taller building gets a third storey when the window fits: 9.5 m ≥ 6 + 2.2 m.
        let c = city(vec![box_building(0.0, 0.0, 10.0, 20.0, 0.0, 9.5)]);
        assert_eq!(generate_windows(&c, 3.0, 2.5, None).unwrap().len(), 72);
        // 8 m: the third window would reach 8.2 m.
        let c = city(vec![box_building(0.0, 0.0, 10.0, 20.0, 0.0, 8.0)]);
        assert_eq!(generate_windows(&c, 3.0, 2.5, None).unwrap().len(), 48);
        // Custom sill and window height; walls shorter than half the spacing get none.
        let spec = WindowSpec {
            storey_m: 2.5,
            spacing_m: 5.0,
            sill_m: 0.5,
            window_height_m: 1.0,
        };
        let c = city(vec![box_building(0.0, 0.0, 10.0, 2.0, 0.0, 5.0)]);
        let p = generate_windows_with(&c, &spec, None).unwrap();
        assert_eq!(p.len(), 2 * 2 * 2);
        assert!(
            p.z.iter()
                .all(|&z| (z - 1.0).abs() < 1e-9 || (z - 3.5).abs() < 1e-9)
        );
    }

    #[test]
    fn gable_windows_follow_the_wall_top() {
        let c = city(vec![gable_house()]);
        let p = generate_windows(&c, 3.0, 2.5, None).unwrap();
        // Side walls (8 m): 3 columns × 2 storeys. Gable walls: columns at 1.25, 3.75, 6.25
        // and 8.75 m where the wall top is 6.75, 8.25, 8.25, 6.75 m: 2, 3, 3, 2 storeys.
        assert_eq!(p.len(), 2 * 6 + 2 * 10);
        let attic = (0..p.len()).filter(|&k| p.z[k] > 7.0).count();
        assert_eq!(attic, 4);
        for k in 0..p.len() {
            if p.z[k] > 7.0 {
                assert!(p.ny[k].abs() > 0.99);
                let dx = (p.x[k] - X0 - 5.0).abs();
                assert!((dx - 1.25).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn ray_origins_move_along_the_normal() {
        let c = city(vec![box_building(0.0, 0.0, 10.0, 20.0, 0.0, 6.0)]);
        let p = sample_walls(&c, 1.0, None).unwrap();
        let origin = [X0 + 5.0, Y0 + 10.0, 0.0];
        let o = ray_origins(&p, origin, 0.05);
        for (k, ok) in o.iter().enumerate() {
            let n = p.normal(k);
            for a in 0..3 {
                let want = p.position(k)[a] + 0.05 * f64::from(n[a]) - origin[a];
                assert!((f64::from(ok[a]) - want).abs() < 1e-5);
            }
            assert_eq!(*ok, ray_origin(&p, k, origin, 0.05));
        }
    }

    #[test]
    fn sampling_is_identical_for_any_thread_count() {
        let c = city(
            (0..12)
                .map(|i| {
                    box_building(
                        f64::from(i) * 15.0,
                        0.0,
                        10.0,
                        8.0 + f64::from(i),
                        0.0,
                        4.0 + f64::from(i),
                    )
                })
                .chain([gable_house()])
                .collect(),
        );
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    (
                        sample_walls(&c, 0.7, None).unwrap(),
                        generate_windows(&c, 3.0, 2.5, None).unwrap(),
                    )
                })
        };
        let one = run(1);
        assert!(one.0.len() > 1000);
        for t in [2, 4] {
            assert_eq!(run(t), one);
        }
    }
}
