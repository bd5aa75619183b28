//! Horizon angles of a height model and the sky view factor.
//!
//! # Horizons by sweep
//!
//! For every azimuth φ the grid is cut into parallel straight lines in direction φ, one cell
//! apart along the *minor* axis (rows when φ is nearer east–west than north–south, in cell
//! units, else columns). Line `l` passes the major index `j` (column or row) at minor
//! coordinate `l + j·m`, `m` its slope in cells. Its *obstacles* are its points at every `j`,
//! with the height interpolated linearly between the two cells the line passes between (no
//! point where one of them is missing or outside the grid); its *observers* are the cells
//! nearest to it, minor `l + round(j·m)`, so every cell observes on exactly one line, at most
//! half a cell beside it. Positions `u` along a line are metres along φ. The horizon of a cell
//! is `atan(max (z_q − z_p)/(u_q − u_p))` over the obstacles `q` ahead of its `j` within
//! `max_distance_m` (measured along φ from the observer's point on its line), from the cell's
//! own centre and height. For φ a multiple of 90° (and of 45° with square cells) the line
//! points are the cell centres themselves.
//!
//! Each line is swept once from its far end with a stack holding the upper convex hull of the
//! obstacles passed (the idea of Dozier, Bruno & Downey 1981, "A faster solution to the
//! horizon problem", Computers & Geosciences 7(2); and of Stewart 1998, "Fast horizon
//! computation at all points of a terrain with visibility and shading applications", IEEE
//! TVCG 4(1)). An observer's horizon is its tangent to the hull, found by galloping from the
//! nearest hull vertex (usually one or two steps); adding an obstacle pops the vertices it
//! hides, so every obstacle is pushed and popped once: the cost per cell and azimuth is
//! amortised O(1) plus the short tangent search, independent of building heights and of the
//! distance. A finite `max_distance_m` = R splits each line into blocks of length R: within a
//! block the same stack sweep runs; the part of a window that reaches into the next block is
//! served by that block's prefix hull, built as the observers advance.
//!
//! Discretisation: the obstacles an observer sees lie on a line up to half a cell beside the
//! ray from its centre, and line points blend two cells. On smooth terrain this gives a mean
//! error of about 0.6° (slopes up to 18°) to 1.6° (48°) against continuous ray marching, with
//! the largest errors (up to ~10°–27°) only from obstacles one or two cells away; at a
//! building face the equivalent distance is within about two cells of the true one.
//!
//! Lines of one azimuth are processed in parallel with rayon; each cell's value is computed by
//! exactly one sequential sweep, so results are bit-identical for any number of threads.
//!
//! Conventions: x = grid east (columns increase), y = grid north (rows decrease), azimuth
//! clockwise from grid north, sector `i` at azimuth `i · 360° / n_az`. Missing heights (NaN,
//! ±∞ or the raster's nodata value) are no obstacle (the line has no point next to them) and
//! get a NaN horizon. Where no cell lies ahead (the grid edge) the horizon is −90° (nothing blocks);
//! beyond the grid the world is assumed not to rise above the horizontal, which
//! [`sky_view_factor`] applies by never letting the sky reach below 0°.
//!
//! # Sky view factor
//!
//! Cosine-weighted, isotropic (Dozier & Frew 1990, "Rapid calculation of terrain parameters
//! for radiation modeling from digital elevation data", IEEE TGRS 28(5)):
//! `V = 1/2π ∫ [cos S · sin² H_φ + sin S · cos(φ − A) · (H_φ − sin H_φ cos H_φ)] dφ` with `H_φ`
//! the *zenith* angle of the horizon, slope `S` and aspect `A` (the azimuth the surface faces).
//! The horizon elevation used is `max(terrain horizon, 0°, the surface's own horizon)`, the
//! last being where the tilted plane itself cuts the sky. So a horizontal open plane gives 1
//! and a tilted open plane `(1 + cos S)/2`. The integral is a midpoint sum over the sectors.

use crate::error::{Result, ShadowError};
use rayon::prelude::*;
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_PI_2};
use twin_core::raster::{GridSpec, Raster};

/// The largest accepted ratio of the longer to the shorter cell side: the sweep needs cell
/// centres that advance along every line, which holds for ratios below 2.
const MAX_CELL_RATIO: f64 = 1.5;
/// The most sectors accepted (0.01° apart).
const MAX_SECTORS: usize = 36_000;
/// The most horizon values (cells × sectors) computed at once: 16 GiB of f32.
const MAX_VALUES: u64 = 1 << 32;

/// Horizon elevation angles of every cell in `n_az` equally spaced azimuths (0 = grid north,
/// clockwise), as a flat `Vec` `[az][cell]`.
///
/// Stored as the **sine** of the horizon elevation angle (f32): −1 where nothing lies ahead
/// of the cell (grid edge: nothing blocks), NaN for cells with a missing height. The sine is
/// monotone in the angle, needs no trigonometry for the sky view factor of horizontal cells,
/// and interpolates almost exactly like the angle (see [`Horizons::is_sunlit`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Horizons {
    pub spec: GridSpec,
    pub n_az: usize,
    /// The search distance the horizons were computed with (metres, may be infinite).
    pub max_distance_m: f64,
    /// sin(horizon elevation), `[az * spec.len() + cell]`.
    pub sin_elevation: Vec<f32>,
}

impl Horizons {
    /// Azimuth of sector `az_index` in degrees clockwise from grid north.
    pub fn azimuth_deg(&self, az_index: usize) -> f64 {
        az_index as f64 * 360.0 / self.n_az as f64
    }

    /// The sines of one sector, one per cell (empty for an index out of range).
    pub fn sector(&self, az_index: usize) -> &[f32] {
        let n = self.spec.len();
        if az_index >= self.n_az {
            return &[];
        }
        self.sin_elevation
            .get(az_index * n..(az_index + 1) * n)
            .unwrap_or(&[])
    }

    /// sin of the horizon elevation of a cell in a sector (NaN when out of range).
    pub fn sin_angle(&self, az_index: usize, cell: usize) -> f32 {
        if az_index >= self.n_az || cell >= self.spec.len() {
            return f32::NAN;
        }
        self.sin_elevation
            .get(az_index * self.spec.len() + cell)
            .copied()
            .unwrap_or(f32::NAN)
    }

    /// Horizon elevation angle in radians (−π/2 where nothing lies ahead, NaN for nodata
    /// cells and indices out of range).
    pub fn angle_rad(&self, az_index: usize, cell: usize) -> f32 {
        self.sin_angle(az_index, cell).clamp(-1.0, 1.0).asin()
    }

    /// The two sectors around a grid azimuth and the weight of the second:
    /// `(i0, i1, w)` with the horizon at `azimuth_deg` = `(1 − w)·h[i0] + w·h[i1]`.
    pub fn bracket(&self, azimuth_deg: f64) -> (usize, usize, f64) {
        let n = self.n_az.max(1);
        let a = if azimuth_deg.is_finite() {
            azimuth_deg.rem_euclid(360.0)
        } else {
            0.0
        };
        let f = a / 360.0 * n as f64;
        let i0 = (f.floor() as usize).min(n - 1);
        let w = (f - i0 as f64).clamp(0.0, 1.0);
        (i0, (i0 + 1) % n, w)
    }

    /// Is the sun at this grid azimuth/elevation (degrees) above the horizon of this cell?
    /// The horizon is interpolated linearly between the two nearest sectors, in the sine of
    /// the angle (no trigonometry per cell in [`crate::solar::irradiation`]); against
    /// interpolating the angle itself this lowers the horizon by at most `Δ² tan h / 8` for a
    /// jump of Δ between the sectors, e.g. 0.15° for 30° → 40°. False for nodata cells,
    /// indices out of range and non-finite arguments.
    pub fn is_sunlit(&self, cell: usize, azimuth_deg: f64, elevation_deg: f64) -> bool {
        let n = self.spec.len();
        if cell >= n
            || self.n_az == 0
            || self.sin_elevation.len() != self.n_az * n
            || !azimuth_deg.is_finite()
            || !elevation_deg.is_finite()
        {
            return false;
        }
        let (i0, i1, w) = self.bracket(azimuth_deg);
        let h0 = self.sin_elevation[i0 * n + cell] as f64;
        let h1 = self.sin_elevation[i1 * n + cell] as f64;
        let h = (1.0 - w) * h0 + w * h1;
        elevation_deg.to_radians().sin() > h
    }
}

/// sin and cos of an angle in degrees, exact at multiples of 45°.
pub(crate) fn sin_cos_deg(deg: f64) -> (f64, f64) {
    let d = deg.rem_euclid(360.0);
    let k = d / 45.0;
    if k == k.round() {
        let h = FRAC_1_SQRT_2;
        return match k as i64 % 8 {
            0 => (0.0, 1.0),
            1 => (h, h),
            2 => (1.0, 0.0),
            3 => (h, -h),
            4 => (0.0, -1.0),
            5 => (-h, -h),
            6 => (-1.0, 0.0),
            _ => (-h, h),
        };
    }
    d.to_radians().sin_cos()
}

/// The digital lines of one azimuth.
///
/// Line `l` is the straight line `minor = l + j·m` over the major index `j` (cell-centre
/// units). Its *obstacles* are its points at every `j`, with the height interpolated linearly
/// between the two cells the line passes between; its *observers* are the cells nearest to it
/// (`minor = l + round(j·m)`), so every cell observes on exactly one line.
#[derive(Debug, Clone)]
pub(crate) struct LineSet {
    /// Lines step along columns (one point per column) rather than rows.
    pub x_major: bool,
    /// Moving along the azimuth increases the major index.
    pub forward: bool,
    /// `round(j·m)`: minor offset of the observer cell at `j`.
    pub off: Vec<i64>,
    /// `floor(j·m)`: the line passes between minor offsets `fl[j]` and `fl[j] + 1`.
    pub fl: Vec<i64>,
    /// `frac(j·m)`: weight of the cell at `fl[j] + 1`.
    pub fr: Vec<f64>,
    /// Position along the azimuth (metres, up to a constant per line) of the observer cell's
    /// centre at `j`.
    pub u_cell: Vec<f64>,
    /// Position along the azimuth of the line's point at `j`.
    pub u_line: Vec<f64>,
    /// Whether the offsets are non-decreasing in `j`.
    pub up: bool,
    pub major_len: usize,
    pub minor_len: usize,
    /// Smallest line number.
    pub l_min: i64,
    pub n_lines: usize,
}

impl LineSet {
    pub fn new(spec: &GridSpec, azimuth_deg: f64) -> LineSet {
        let (s, c) = sin_cos_deg(azimuth_deg);
        let (cx, cy) = (spec.cell_x, spec.cell_y);
        // Direction in cells per metre: columns grow east, rows grow south.
        let (dcol, drow) = (s / cx, -c / cy);
        let x_major = dcol.abs() >= drow.abs();
        let (major_len, minor_len, m, forward) = if x_major {
            (spec.width, spec.height, drow / dcol, dcol > 0.0)
        } else {
            (spec.height, spec.width, dcol / drow, drow > 0.0)
        };
        let mut off = Vec::with_capacity(major_len);
        let mut fl = Vec::with_capacity(major_len);
        let mut fr = Vec::with_capacity(major_len);
        let mut u_cell = Vec::with_capacity(major_len);
        let mut u_line = Vec::with_capacity(major_len);
        // Metric position of (major, minor) along the azimuth.
        let pos = |major: f64, minor: f64| {
            if x_major {
                major * cx * s - minor * cy * c
            } else {
                minor * cx * s - major * cy * c
            }
        };
        for j in 0..major_len {
            let y = j as f64 * m;
            let f = y.floor();
            let o = (y + 0.5).floor();
            off.push(o as i64);
            fl.push(f as i64);
            fr.push(y - f);
            u_cell.push(pos(j as f64, o));
            u_line.push(pos(j as f64, y));
        }
        let (omin, omax) = off
            .iter()
            .fold((0i64, 0i64), |(a, b), &o| (a.min(o), b.max(o)));
        let l_min = -omax;
        let l_max = minor_len as i64 - 1 - omin;
        LineSet {
            x_major,
            forward,
            off,
            fl,
            fr,
            u_cell,
            u_line,
            up: m >= 0.0,
            major_len,
            minor_len,
            l_min,
            n_lines: (l_max - l_min + 1).max(0) as usize,
        }
    }

    /// Half-open range of major indices where line `l` has a point between cells of the grid.
    pub fn range(&self, l: i64) -> (usize, usize) {
        let lo = -1 - l;
        let hi = self.minor_len as i64 - 1 - l;
        let (a, b) = if self.up {
            (
                self.fl.partition_point(|&o| o < lo),
                self.fl.partition_point(|&o| o <= hi),
            )
        } else {
            (
                self.fl.partition_point(|&o| o > hi),
                self.fl.partition_point(|&o| o >= lo),
            )
        };
        (a, b.max(a))
    }

    /// Flat grid index of the cell at major `j`, minor `minor`, if inside the grid.
    #[cfg(test)]
    pub fn cell(&self, j: usize, minor: i64, width: usize) -> Option<usize> {
        if minor < 0 || minor >= self.minor_len as i64 {
            return None;
        }
        let minor = minor as usize;
        Some(if self.x_major {
            minor * width + j
        } else {
            j * width + minor
        })
    }

    /// (line, major index) of the cell at (col, row) as an observer.
    #[inline]
    pub fn line_of(&self, col: usize, row: usize) -> (i64, usize) {
        if self.x_major {
            (row as i64 - self.off[col], col)
        } else {
            (col as i64 - self.off[row], row)
        }
    }

    /// The points of line `l` in travel order (increasing position along the azimuth) from
    /// heights `z` (NaN = missing): obstacle positions and heights (NaN where a cell it needs
    /// is missing), observer positions and heights (NaN where the observer cell is outside
    /// the grid or missing) and the major index of each.
    pub fn fill(&self, l: i64, z: &[f32], width: usize, sc: &mut Scratch) {
        let (a, b) = self.range(l);
        let len = b - a;
        for v in [&mut sc.su, &mut sc.sz, &mut sc.ou, &mut sc.oz] {
            v.clear();
            v.resize(len, 0.0);
        }
        sc.slot.clear();
        sc.slot.resize(len, 0);
        let minor_len = self.minor_len as i64;
        let height_at = |j: usize, minor: i64| -> f64 {
            if minor < 0 || minor >= minor_len {
                return f64::NAN;
            }
            let minor = minor as usize;
            let i = if self.x_major {
                minor * width + j
            } else {
                j * width + minor
            };
            z[i] as f64
        };
        for t in 0..len {
            let j = if self.forward { a + t } else { b - 1 - t };
            let minor = l + self.fl[j];
            let w = self.fr[j];
            let za = height_at(j, minor);
            let nearer_is_a = self.off[j] == self.fl[j];
            let (zs, zo) = if w == 0.0 {
                (za, za)
            } else {
                let zb = height_at(j, minor + 1);
                // NaN (a missing cell or the grid edge) propagates: no point there.
                (za + w * (zb - za), if nearer_is_a { za } else { zb })
            };
            sc.su[t] = self.u_line[j];
            sc.sz[t] = zs;
            sc.ou[t] = self.u_cell[j];
            sc.oz[t] = zo;
            sc.slot[t] = j;
        }
    }
}

/// Reusable buffers of one worker.
#[derive(Default)]
pub(crate) struct Scratch {
    su: Vec<f64>,
    sz: Vec<f64>,
    ou: Vec<f64>,
    oz: Vec<f64>,
    slot: Vec<usize>,
    /// Best direction (Δu, Δz) from each observer; Δu = 0 when nothing lies ahead.
    du: Vec<f64>,
    dz: Vec<f64>,
    hull: Vec<[f64; 2]>,
    hull2: Vec<[f64; 2]>,
}

/// The steepest direction `(Δu, Δz)` from the observer `(uo, zo)` to the vertices `v(0), v(1),
/// …, v(k − 1)` (nearest first, `k ≥ 1`) of an upper convex chain that all lie ahead of it.
/// The slopes rise and then fall along the chain; the peak is found by galloping from the
/// nearest vertex and then bisecting, O(log i) for a peak at vertex i (usually one of the
/// first few).
#[inline]
fn tangent(k: usize, v: impl Fn(usize) -> [f64; 2], uo: f64, zo: f64) -> (f64, f64) {
    // Whether the slope still rises from vertex i to i + 1.
    let rises = |i: usize| -> bool {
        if i + 1 >= k {
            return false;
        }
        let (a, b) = (v(i), v(i + 1));
        (b[1] - zo) * (a[0] - uo) > (a[1] - zo) * (b[0] - uo)
    };
    let (mut lo, mut hi) = (0, k - 1);
    let mut step = 1;
    while rises(lo) {
        let probe = lo + step;
        if probe >= hi {
            lo += 1;
            break;
        }
        if rises(probe) {
            lo = probe + 1;
            step *= 2;
        } else {
            hi = probe;
            lo += 1;
            break;
        }
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if rises(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let t = v(lo);
    (t[0] - uo, t[1] - zo)
}

/// Horizons of the observers of one line (see [`LineSet::fill`]): for each `t` the steepest
/// direction `(du[t], dz[t])` to an obstacle `q > t` with `su[q] − su[t] ≤ r`, i.e.
/// `max (sz[q] − oz[t]) / (su[q] − ou[t])`; `du[t] = 0` when there is none.
///
/// The line is cut into blocks of points within `r` of the block's first point. Each block is
/// swept from its far end keeping the upper hull of the obstacles passed on a stack (every
/// point pushed and popped at most once); the part of an observer's window in the next block
/// is answered from that block's prefix hull, built as the observers advance.
fn sweep(sc: &mut Scratch, r: f64) {
    let Scratch {
        su,
        sz,
        ou,
        oz,
        du,
        dz,
        hull,
        hull2,
        ..
    } = sc;
    let n = su.len();
    du.clear();
    du.resize(n, 0.0);
    dz.clear();
    dz.resize(n, 0.0);
    let mut prev: Option<(usize, usize)> = None;
    let mut s = 0;
    while s < n {
        let mut e = s + 1;
        while e < n && su[e] - su[s] <= r {
            e += 1;
        }
        hull.clear();
        for t in (s..e).rev() {
            let k = hull.len();
            if k > 0 && !oz[t].is_nan() {
                (du[t], dz[t]) = tangent(k, |i| hull[k - 1 - i], ou[t], oz[t]);
            }
            let (ut, zt) = (su[t], sz[t]);
            if zt.is_nan() {
                continue;
            }
            while hull.len() >= 2 {
                let a = hull[hull.len() - 1];
                let b = hull[hull.len() - 2];
                // `a` is hidden when it is not above the line from t to b.
                if (a[1] - zt) * (b[0] - ut) <= (b[1] - zt) * (a[0] - ut) {
                    hull.pop();
                } else {
                    break;
                }
            }
            hull.push([ut, zt]);
        }
        if let Some((ps, pe)) = prev {
            hull2.clear();
            let mut q = s;
            for t in ps..pe {
                while q < e && su[q] - su[t] <= r {
                    if !sz[q].is_nan() {
                        let p = [su[q], sz[q]];
                        while hull2.len() >= 2 {
                            let a = hull2[hull2.len() - 2];
                            let b = hull2[hull2.len() - 1];
                            let cross =
                                (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
                            if cross >= 0.0 {
                                hull2.pop();
                            } else {
                                break;
                            }
                        }
                        hull2.push(p);
                    }
                    q += 1;
                }
                if !oz[t].is_nan() && !hull2.is_empty() {
                    let (u2, z2) = tangent(hull2.len(), |i| hull2[i], ou[t], oz[t]);
                    if du[t] == 0.0 || z2 * du[t] > dz[t] * u2 {
                        (du[t], dz[t]) = (u2, z2);
                    }
                }
            }
        }
        prev = Some((s, e));
        s = e;
    }
}

/// sin of the elevation of direction `(du, dz)`, `du > 0`; −1 when `du = 0` (nothing ahead).
#[inline]
fn sin_of(du: f64, dz: f64) -> f32 {
    if du == 0.0 {
        -1.0
    } else {
        (dz / (du * du + dz * dz).sqrt()) as f32
    }
}

/// Check a raster's grid and data length; `what` names it in errors.
pub(crate) fn check_grid(spec: &GridSpec, len: usize, what: &str) -> Result<()> {
    spec.validate()
        .map_err(|e| ShadowError::input(what, e.to_string()))?;
    if spec.is_empty() {
        return Err(ShadowError::input(what, "the grid has no cells"));
    }
    if len != spec.len() {
        return Err(ShadowError::input(
            what,
            format!(
                "has {len} values but its {}x{} grid needs {}",
                spec.width,
                spec.height,
                spec.len()
            ),
        ));
    }
    Ok(())
}

/// Whether two grids cover the same cells (the CRS code is not compared).
pub(crate) fn same_grid(a: &GridSpec, b: &GridSpec) -> bool {
    a.width == b.width
        && a.height == b.height
        && a.origin_x == b.origin_x
        && a.origin_y == b.origin_y
        && a.cell_x == b.cell_x
        && a.cell_y == b.cell_y
}

/// Compute horizons of a height model (f32 metres) up to `max_distance_m` (measured along the
/// azimuth; `f64::INFINITY` = the whole grid) in `n_az` sectors.
///
/// Missing heights (NaN, ±∞, the raster's nodata value) are ignored: they block nothing and
/// their own horizons are NaN. Cells with nothing ahead get −90°. Memory: 4 bytes per cell and
/// sector. Errors for `n_az` outside 1..=36000 or more than 2³² values, a `max_distance_m`
/// that is not positive, an invalid or empty grid, a data length that does not match it, and
/// cells more than 1.5 times longer than wide.
pub fn horizons(height: &Raster<f32>, n_az: usize, max_distance_m: f64) -> Result<Horizons> {
    let spec = height.spec;
    check_grid(&spec, height.data.len(), "height")?;
    if n_az == 0 || n_az > MAX_SECTORS {
        return Err(ShadowError::param(
            "n_az",
            format!("must be between 1 and {MAX_SECTORS}, got {n_az}"),
        ));
    }
    if max_distance_m.is_nan() || max_distance_m <= 0.0 {
        return Err(ShadowError::param(
            "max_distance_m",
            format!("must be positive (or infinite), got {max_distance_m}"),
        ));
    }
    let ratio = spec.cell_x.max(spec.cell_y) / spec.cell_x.min(spec.cell_y);
    if ratio > MAX_CELL_RATIO {
        return Err(ShadowError::input(
            "height",
            format!(
                "cells of {} x {} m are too far from square for the horizon sweep \
                 (at most {MAX_CELL_RATIO}:1)",
                spec.cell_x, spec.cell_y
            ),
        ));
    }
    let n = spec.len();
    let total = n
        .checked_mul(n_az)
        .filter(|&t| t as u64 <= MAX_VALUES)
        .ok_or_else(|| {
            ShadowError::param(
                "n_az",
                format!(
                    "{n_az} sectors of {n} cells need more than {MAX_VALUES} values                      ({} GiB); use fewer sectors or a smaller grid",
                    (MAX_VALUES * 4) >> 30
                ),
            )
        })?;
    // Heights with every missing value as NaN.
    let nodata = height.nodata;
    let z: Vec<f32> = height
        .data
        .par_iter()
        .map(|&v| {
            if v.is_finite() && nodata != Some(v) {
                v
            } else {
                f32::NAN
            }
        })
        .collect();
    let mut out = vec![0f32; total];
    let mut lines: Vec<f32> = Vec::new();
    let w = spec.width;
    for (az, out_az) in out.chunks_mut(n).enumerate() {
        let ls = LineSet::new(&spec, az as f64 * 360.0 / n_az as f64);
        let len = ls.major_len;
        lines.clear();
        lines.resize(ls.n_lines * len, f32::NAN);
        lines
            .par_chunks_mut(len)
            .enumerate()
            .for_each_init(Scratch::default, |sc, (k, chunk)| {
                ls.fill(ls.l_min + k as i64, &z, w, sc);
                sweep(sc, max_distance_m);
                for t in 0..sc.slot.len() {
                    if !sc.oz[t].is_nan() {
                        chunk[sc.slot[t]] = sin_of(sc.du[t], sc.dz[t]);
                    }
                }
            });
        // Back from line order to grid order.
        out_az
            .par_chunks_mut(w)
            .enumerate()
            .for_each(|(row, out_row)| {
                for (col, o) in out_row.iter_mut().enumerate() {
                    let (l, j) = ls.line_of(col, row);
                    *o = lines[(l - ls.l_min) as usize * len + j];
                }
            });
    }
    Ok(Horizons {
        spec,
        n_az,
        max_distance_m,
        sin_elevation: out,
    })
}

/// Read an optional per-cell angle raster on the horizons' grid.
fn check_angles(r: Option<&Raster<f32>>, spec: &GridSpec, what: &str) -> Result<()> {
    if let Some(r) = r {
        check_grid(&r.spec, r.data.len(), what)?;
        if !same_grid(&r.spec, spec) {
            return Err(ShadowError::input(
                what,
                format!(
                    "its {}x{} grid at ({}, {}) differs from the horizons' {}x{} grid at ({}, {})",
                    r.spec.width,
                    r.spec.height,
                    r.spec.origin_x,
                    r.spec.origin_y,
                    spec.width,
                    spec.height,
                    spec.origin_x,
                    spec.origin_y
                ),
            ));
        }
    }
    Ok(())
}

/// Value of an angle raster at `i`, None when missing.
#[inline]
fn angle_at(r: &Raster<f32>, i: usize) -> Option<f64> {
    let v = r.data[i];
    (v.is_finite() && r.nodata != Some(v)).then_some(v as f64)
}

/// Sky view factor (isotropic diffuse, cosine-weighted, 1 = unobstructed horizontal plane) per
/// cell, for surfaces of the given slope and aspect (degrees; aspect = azimuth the surface
/// faces, clockwise from grid north) or horizontal when both are None.
///
/// Dozier & Frew (1990) over the sectors (midpoint rule); the horizon in each sector is
/// raised to the horizontal and to the surface's own tilt (see the module docs). Cells whose
/// horizon, slope or aspect is missing, or whose slope is outside 0..=90°, get NaN (the
/// raster's nodata). Errors when only one of slope and aspect is given or their grids differ
/// from the horizons' grid.
pub fn sky_view_factor(
    h: &Horizons,
    slope_deg: Option<&Raster<f32>>,
    aspect_deg: Option<&Raster<f32>>,
) -> Result<Raster<f32>> {
    let spec = h.spec;
    check_grid(&spec, h.sin_elevation.len() / h.n_az.max(1), "horizons")?;
    if h.n_az == 0 || h.sin_elevation.len() != h.n_az * spec.len() {
        return Err(ShadowError::input(
            "horizons",
            format!(
                "{} values do not make {} sectors of {} cells",
                h.sin_elevation.len(),
                h.n_az,
                spec.len()
            ),
        ));
    }
    check_angles(slope_deg, &spec, "slope_deg")?;
    check_angles(aspect_deg, &spec, "aspect_deg")?;
    let tilt = match (slope_deg, aspect_deg) {
        (None, None) => None,
        (Some(s), Some(a)) => Some((s, a)),
        (Some(_), None) => {
            return Err(ShadowError::param(
                "aspect_deg",
                "is needed with slope_deg (a tilted surface needs both)",
            ));
        }
        (None, Some(_)) => {
            return Err(ShadowError::param(
                "slope_deg",
                "is needed with aspect_deg (a tilted surface needs both)",
            ));
        }
    };
    let n = spec.len();
    let w = spec.width;
    let n_az = h.n_az;
    let sincos: Vec<(f64, f64)> = (0..n_az).map(|i| sin_cos_deg(h.azimuth_deg(i))).collect();
    let mut data = vec![f32::NAN; n];
    #[derive(Default)]
    struct RowScratch {
        acc: Vec<f64>,
        cos_s: Vec<f64>,
        sin_s: Vec<f64>,
        sin_a: Vec<f64>,
        cos_a: Vec<f64>,
    }
    data.par_chunks_mut(w)
        .enumerate()
        .for_each_init(RowScratch::default, |sc, (row, out)| {
            let base = row * w;
            sc.acc.clear();
            sc.acc.resize(w, 0.0);
            sc.cos_s.clear();
            sc.sin_s.clear();
            sc.sin_a.clear();
            sc.cos_a.clear();
            for c in 0..w {
                let i = base + c;
                let (s, a) = match tilt {
                    None => (Some(0.0), Some(0.0)),
                    Some((sr, ar)) => (
                        angle_at(sr, i).filter(|s| (0.0..=90.0).contains(s)),
                        angle_at(ar, i),
                    ),
                };
                match (s, a) {
                    (Some(s), Some(a)) => {
                        let (ss, cs) = s.to_radians().sin_cos();
                        let (sa, ca) = a.to_radians().sin_cos();
                        sc.cos_s.push(cs);
                        sc.sin_s.push(ss);
                        sc.sin_a.push(sa);
                        sc.cos_a.push(ca);
                    }
                    _ => {
                        sc.cos_s.push(f64::NAN);
                        sc.sin_s.push(f64::NAN);
                        sc.sin_a.push(0.0);
                        sc.cos_a.push(0.0);
                    }
                }
            }
            for (k, &(sp, cp)) in sincos.iter().enumerate() {
                let hz = &h.sin_elevation[k * n + base..k * n + base + w];
                for (c, &hv) in hz.iter().enumerate() {
                    let sh = hv as f64;
                    let ss = sc.sin_s[c];
                    if ss == 0.0 {
                        // Horizontal: cos² of the horizon elevation (NaN propagates).
                        let s = if sh > 0.0 { sh } else { sh * 0.0 };
                        sc.acc[c] += 1.0 - s * s;
                        continue;
                    }
                    let cs = sc.cos_s[c];
                    // cos of the angle between this sector and the direction the surface faces.
                    let cd = cp * sc.cos_a[c] + sp * sc.sin_a[c];
                    // sin of the plane's own horizon elevation: atan(−tan S · cos δ).
                    let den = (cs * cs + ss * ss * cd * cd).sqrt();
                    let own = if den > 1e-12 { -ss * cd / den } else { 0.0 };
                    let mut s = sh;
                    if s < 0.0 {
                        s = 0.0;
                    }
                    if own > s {
                        s = own;
                    }
                    let s = s.min(1.0);
                    let co = (1.0 - s * s).max(0.0).sqrt();
                    // Zenith angle of the effective horizon.
                    let zen = FRAC_PI_2 - s.asin();
                    sc.acc[c] += cs * co * co + ss * cd * (zen - s * co);
                }
            }
            for (o, &a) in out.iter_mut().zip(&sc.acc) {
                let v = a / n_az as f64;
                *o = if v.is_nan() {
                    f32::NAN
                } else {
                    v.clamp(0.0, 1.0) as f32
                };
            }
        });
    Raster::from_vec(spec, data, Some(f32::NAN))
        .map_err(|e| ShadowError::input("horizons", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(w: usize, h: usize, cell: f64) -> GridSpec {
        GridSpec {
            origin_x: 500_000.0,
            origin_y: 5_900_000.0,
            cell_x: cell,
            cell_y: cell,
            width: w,
            height: h,
            epsg: Some(25832),
        }
    }

    fn raster(spec: GridSpec, f: impl Fn(usize, usize) -> f32) -> Raster<f32> {
        let data = (0..spec.len())
            .map(|i| f(i % spec.width, i / spec.width))
            .collect();
        Raster::from_vec(spec, data, Some(f32::NAN)).unwrap()
    }

    /// Tiny deterministic generator (splitmix64) for test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Quadratic reference on the same line points: every observer against every obstacle.
    fn brute(height: &Raster<f32>, n_az: usize, r: f64) -> Vec<f32> {
        let spec = height.spec;
        let n = spec.len();
        let z: Vec<f32> = height
            .data
            .iter()
            .map(|&v| if v.is_finite() { v } else { f32::NAN })
            .collect();
        let mut out = vec![f32::NAN; n * n_az];
        let mut sc = Scratch::default();
        for az in 0..n_az {
            let ls = LineSet::new(&spec, az as f64 * 360.0 / n_az as f64);
            for k in 0..ls.n_lines {
                let l = ls.l_min + k as i64;
                ls.fill(l, &z, spec.width, &mut sc);
                for t in 0..sc.su.len() {
                    if sc.oz[t].is_nan() {
                        continue;
                    }
                    let mut best = f64::NEG_INFINITY;
                    for q in t + 1..sc.su.len() {
                        if !sc.sz[q].is_nan() && sc.su[q] - sc.su[t] <= r {
                            best = best.max((sc.sz[q] - sc.oz[t]) / (sc.su[q] - sc.ou[t]));
                        }
                    }
                    let cell = ls
                        .cell(sc.slot[t], l + ls.off[sc.slot[t]], spec.width)
                        .unwrap();
                    out[az * n + cell] = if best == f64::NEG_INFINITY {
                        -1.0
                    } else {
                        (best / (1.0 + best * best).sqrt()) as f32
                    };
                }
            }
        }
        out
    }

    #[test]
    fn sweep_matches_brute_force_on_random_terrain() {
        let mut rng = Rng(42);
        let spec = grid(37, 29, 2.0);
        let mut h = raster(spec, |_, _| 0.0);
        for v in h.data.iter_mut() {
            *v = (rng.next() * 30.0) as f32;
        }
        // A few nodata cells.
        for i in [3usize, 100, 101, 555, 800] {
            h.data[i] = f32::NAN;
        }
        // The same heights on cells 2 m wide and 1.5 m high (rows).
        let mut h2 = h.clone();
        h2.spec.cell_y = 1.5;
        // Blocky heights with many equal values (ties and collinear points).
        let mut h3 = h.clone();
        for (i, v) in h3.data.iter_mut().enumerate() {
            let (c, r) = (i % 37, i / 37);
            *v = if (c / 4 + r / 3) % 3 == 0 {
                3.0 * ((c / 4) % 4) as f32
            } else {
                0.0
            };
        }
        let mut worst = 0f32;
        for (h, n_az, r) in [
            (&h, 16, f64::INFINITY),
            (&h, 24, 13.0),
            (&h, 7, 31.5),
            (&h, 12, 2.0),
            (&h2, 36, f64::INFINITY),
            (&h2, 20, 9.0),
            (&h3, 72, f64::INFINITY),
            (&h3, 16, 6.0),
        ] {
            let fast = horizons(h, n_az, r).unwrap();
            let slow = brute(h, n_az, r);
            for (a, b) in fast.sin_elevation.iter().zip(&slow) {
                if a.is_nan() || b.is_nan() {
                    assert!(a.is_nan() && b.is_nan());
                    continue;
                }
                worst = worst.max((a - b).abs());
            }
        }
        // Same arithmetic on the same points: identical up to ties between hull vertices.
        assert!(worst <= 1e-6, "sweep differs from brute force by {worst}");
        eprintln!("sweep vs brute force: max |Δ sin| = {worst:e}");
    }

    /// Distance along the ray from (px, py) in direction (dx, dy) (cell units, y south) at
    /// which it enters the rectangle [x0, x1) x [y0, y1), if it does.
    fn entry(px: f64, py: f64, dx: f64, dy: f64, r: [f64; 4]) -> Option<f64> {
        let mut t0 = 0f64;
        let mut t1 = f64::INFINITY;
        for (p, d, lo, hi) in [(px, dx, r[0], r[1]), (py, dy, r[2], r[3])] {
            if d.abs() < 1e-12 {
                if p < lo || p > hi {
                    return None;
                }
            } else {
                let (a, b) = ((lo - p) / d, (hi - p) / d);
                t0 = t0.max(a.min(b));
                t1 = t1.min(a.max(b));
            }
        }
        (t0 < t1).then_some(t0)
    }

    #[test]
    fn single_box_gives_atan_h_over_d() {
        // 1 m cells, a 20 m high box over cells 40..60 x 40..60 on flat ground at 5 m.
        let spec = grid(101, 101, 1.0);
        let hb = 20.0f64;
        let h = raster(spec, |c, r| {
            if (40..60).contains(&c) && (40..60).contains(&r) {
                25.0
            } else {
                5.0
            }
        });
        let n_az = 72;
        let hz = horizons(&h, n_az, f64::INFINITY).unwrap();
        let rect = [40.0, 60.0, 40.0, 60.0];
        let mut max_err = 0f64;
        let mut max_ang = 0f64;
        let mut checked = 0;
        let mut flat_checked = 0;
        for az in 0..n_az {
            let (s, c) = sin_cos_deg(hz.azimuth_deg(az));
            let (dx, dy) = (s, -c); // cell units, y pointing south
            let x_major = dx.abs() >= dy.abs();
            // Ray origins shifted across the line (along the minor axis).
            let shifted = |px: f64, py: f64, k: f64| {
                if x_major { (px, py + k) } else { (px + k, py) }
            };
            for row in 0..101 {
                for col in 0..101 {
                    if (40..60).contains(&col) && (40..60).contains(&row) {
                        continue;
                    }
                    let (px, py) = (col as f64 + 0.5, row as f64 + 0.5);
                    let got = hz.angle_rad(az, spec.idx(col, row)) as f64;
                    let hits: Vec<Option<f64>> = [-2.0, -1.0, 0.0, 1.0, 2.0]
                        .iter()
                        .map(|&k| {
                            let (x, y) = shifted(px, py, k);
                            entry(x, y, dx, dy, rect)
                        })
                        .collect();
                    if hits.iter().all(Option::is_none) {
                        // The line cannot reach the box: flat ground, horizon 0 or -90°.
                        assert!(got <= 1e-7, "az {az} cell ({col},{row}): {got}");
                        flat_checked += 1;
                        continue;
                    }
                    // Rays that hit the box, also when shifted by one cell across the line.
                    let Some(t0) = hits[2] else { continue };
                    if hits.iter().any(Option::is_none) || t0 < 1.0 {
                        continue;
                    }
                    // The discrete horizon is atan(h / t') for an equivalent distance t'. The
                    // observer sits up to half a cell beside its line, whose points blend the
                    // two cells they pass between (full height once both are in the box): t'
                    // lies between the entries of the rays shifted by up to two cells across,
                    // the upper end widened by one step along the line (≤ √2 cells).
                    let t_eff = hb / got.tan();
                    let entries: Vec<f64> = hits.iter().flatten().copied().collect();
                    let lo = entries.iter().fold(f64::INFINITY, |a, &b| a.min(b)) - 0.05;
                    let hi = entries.iter().fold(0f64, |a, &b| a.max(b)) + std::f64::consts::SQRT_2;
                    assert!(
                        (lo..=hi).contains(&t_eff),
                        "az {az} cell ({col},{row}): t' = {t_eff}, entries {entries:?}"
                    );
                    checked += 1;
                    // Rays meeting a face at less than 45° from its normal: report |t' - t0|.
                    let (ta, tb) = (hits[1].unwrap_or(t0), hits[3].unwrap_or(t0));
                    let steep = (x_major && (ta - tb).abs() < 2.02 * dy.abs() / dx.abs())
                        || (!x_major && (ta - tb).abs() < 2.02 * dx.abs() / dy.abs());
                    if steep {
                        max_err = max_err.max((t_eff - t0).abs());
                        if t0 >= 5.0 {
                            max_ang = max_ang.max((got - (hb / t0).atan()).abs().to_degrees());
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000 && flat_checked > 10_000);
        // Cardinal directions are exact: atan(h / d), d the distance to the first box centre.
        let p = spec.idx(30, 50); // the first box cell (40, 50) is 10 cells east
        let east = hz.angle_rad(18, p) as f64;
        assert!((east - (hb / 10.0).atan()).abs() < 1e-6, "{east}");
        let p = spec.idx(50, 75); // the box row 59 is 16 cells north
        let north = hz.angle_rad(0, p) as f64;
        assert!((north - (hb / 16.0).atan()).abs() < 1e-6, "{north}");
        // Diagonal (45°): from (35, 64) the first box cell on the line is (40, 59), 5·√2 m.
        let p = spec.idx(35, 64);
        let ne = hz.angle_rad(9, p) as f64;
        assert!(
            (ne - (hb / (5.0 * std::f64::consts::SQRT_2)).atan()).abs() < 1e-6,
            "{ne}"
        );
        // Away from the box: flat ground, horizon 0 (or -90° at the grid edge).
        assert!(hz.angle_rad(54, spec.idx(30, 50)).abs() < 1e-7); // looking west
        assert!((hz.angle_rad(54, spec.idx(0, 50)) as f64 + FRAC_PI_2).abs() < 1e-6);
        eprintln!(
            "box: {checked} cell-sectors hitting within the bound, max |t' - t_face| = \
             {max_err:.3} cells on faces met head-on (angle error ≤ {max_ang:.2}° from 5 \
             cells out); {flat_checked} missing it all at 0"
        );
    }

    #[test]
    fn sloped_plane_gives_its_slope_uphill() {
        // Plane rising towards azimuth 30° with slope 20°, on square and on 2 x 1.5 m cells.
        for cell_y in [2.0, 1.5] {
            let mut spec = grid(60, 50, 2.0);
            spec.cell_y = cell_y;
            let slope = 20f64.to_radians();
            let (sa, ca) = sin_cos_deg(30.0);
            let h = raster(spec, |c, r| {
                let [x, y] = spec.cell_center(c, r);
                ((x - spec.origin_x) * sa + (y - spec.origin_y) * ca) as f32 * slope.tan() as f32
                    + 100.0
            });
            // 12 sectors: sector 1 is 30°, sector 7 is 210° (downhill).
            let hz = horizons(&h, 12, f64::INFINITY).unwrap();
            let mut up_err = 0f64;
            let mut down_err = 0f64;
            let mut side_err = 0f64;
            for row in 5..45 {
                for col in 5..45 {
                    let i = spec.idx(col, row);
                    up_err = up_err.max((hz.angle_rad(1, i) as f64 - slope).abs());
                    down_err = down_err.max((hz.angle_rad(7, i) as f64 + slope).abs());
                    // Across the slope (120°) the plane is level: ~0.
                    side_err = side_err.max((hz.angle_rad(4, i) as f64).abs());
                }
            }
            // Exact up to f32 heights of ~100 m (~1e-5 m over ≥ 1.5 m).
            assert!(up_err < 2e-5, "uphill error {up_err}");
            assert!(down_err < 2e-5, "downhill error {down_err}");
            // Across the slope the observer sits up to half a cell beside its line, which
            // tilts the nearest obstacles by tan S · offset / distance.
            assert!(side_err < 0.5 * slope, "side error {side_err}");
            eprintln!(
                "plane on {}x{cell_y} m cells: uphill {up_err:.1e} rad, downhill {down_err:.1e} \
                 rad, across {:.1}°",
                spec.cell_x,
                side_err.to_degrees()
            );
        }
    }

    /// Continuous ray marching (exact direction, bilinear heights, 0.1 m steps from one cell
    /// out) as an independent check of the discretisation on smooth terrain.
    #[test]
    fn close_to_continuous_ray_marching_on_smooth_terrain() {
        let spec = grid(80, 80, 1.0);
        for (amp, tol_mean, tol_max) in [(3.0f32, 1.0, 12.0), (10.0, 3.0, 30.0)] {
            // Steepest slope about amp/9 (18° and 48°).
            let h = raster(spec, |c, r| {
                let (x, y) = (c as f32, r as f32);
                amp * (x / 9.0).sin() * (y / 13.0).cos() + 0.1 * x
            });
            let n_az = 16;
            let hz = horizons(&h, n_az, 25.0).unwrap();
            let mut sum = 0.0;
            let mut max = 0f64;
            let mut count = 0;
            for az in 0..n_az {
                let (s, c) = sin_cos_deg(hz.azimuth_deg(az));
                for row in 30..50 {
                    for col in 30..50 {
                        let zp = h.get(col, row) as f64;
                        let [x, y] = spec.cell_center(col, row);
                        let mut best = f64::NEG_INFINITY;
                        let mut t = 1.0;
                        while t <= 25.0 {
                            if let Some(z) = h.sample_bilinear(x + t * s, y + t * c) {
                                best = best.max((z as f64 - zp) / t);
                            }
                            t += 0.1;
                        }
                        let got = hz.angle_rad(az, spec.idx(col, row)) as f64;
                        let e = (got - best.atan()).abs().to_degrees();
                        sum += e;
                        max = max.max(e);
                        count += 1;
                    }
                }
            }
            let mean = sum / count as f64;
            eprintln!(
                "smooth terrain (steepest {:.0}°) vs continuous ray marching: \
                 mean |Δ| {mean:.3}°, max {max:.2}°",
                (amp as f64 / 9.0).atan().to_degrees()
            );
            assert!(mean < tol_mean && max < tol_max, "mean {mean}°, max {max}°");
        }
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        let mut rng = Rng(7);
        let spec = grid(90, 70, 1.0);
        let mut h = raster(spec, |_, _| 0.0);
        for v in h.data.iter_mut() {
            *v = (rng.next() * 50.0) as f32;
        }
        let run = |t: usize, r: f64| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| {
                    let hz = horizons(&h, 36, r).unwrap();
                    let svf = sky_view_factor(&hz, None, None).unwrap();
                    (hz, svf)
                })
        };
        for r in [f64::INFINITY, 17.0] {
            let (a, sa) = run(1, r);
            for t in [2, 3, 8] {
                let (b, sb) = run(t, r);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a.sin_elevation), bits(&b.sin_elevation));
                assert_eq!(bits(&sa.data), bits(&sb.data));
            }
        }
    }

    #[test]
    fn nodata_blocks_nothing_and_stays_nodata() {
        let spec = grid(20, 5, 1.0);
        let mut h = raster(spec, |_, _| 0.0);
        h.set(10, 2, f32::NAN);
        h.set(15, 2, 10.0);
        h.nodata = Some(-9999.0);
        h.set(12, 2, -9999.0);
        let hz = horizons(&h, 4, f64::INFINITY).unwrap();
        let east = 1;
        assert!(hz.angle_rad(east, spec.idx(10, 2)).is_nan());
        assert!(hz.angle_rad(east, spec.idx(12, 2)).is_nan());
        // Cell 5 sees the 10 m cell 10 cells away across both gaps.
        let got = hz.angle_rad(east, spec.idx(5, 2)) as f64;
        assert!((got - 1f64.atan()).abs() < 1e-6);
        assert!(!hz.is_sunlit(spec.idx(10, 2), 90.0, 45.0));
        let svf = sky_view_factor(&hz, None, None).unwrap();
        assert!(svf.get(10, 2).is_nan());
    }

    #[test]
    fn tiny_grids_work() {
        for (w, h) in [(1, 1), (1, 7), (7, 1), (2, 2)] {
            let spec = grid(w, h, 1.0);
            let r = raster(spec, |c, r| (c + 2 * r) as f32);
            for n_az in [1, 3, 8] {
                let hz = horizons(&r, n_az, 5.0).unwrap();
                assert_eq!(hz.sin_elevation.len(), n_az * w * h);
                assert!(hz.sin_elevation.iter().all(|v| (-1.0..=1.0).contains(v)));
                let svf = sky_view_factor(&hz, None, None).unwrap();
                assert!(svf.data.iter().all(|v| (0.0..=1.0).contains(v)));
            }
        }
    }

    #[test]
    fn is_sunlit_interpolates_between_sectors() {
        // One 10 m cell 10 m east: horizon 45° due east only.
        let spec = grid(30, 30, 1.0);
        let h = raster(spec, |c, r| if c == 20 && r == 15 { 10.0 } else { 0.0 });
        let hz = horizons(&h, 4, f64::INFINITY).unwrap();
        let p = spec.idx(10, 15);
        assert!(!hz.is_sunlit(p, 90.0, 44.0));
        assert!(hz.is_sunlit(p, 90.0, 46.0));
        // Half way to the south sector (0°): sin h interpolates to sin45/2 → 20.7°.
        let half = ((45f64.to_radians().sin()) / 2.0).asin().to_degrees();
        assert!(!hz.is_sunlit(p, 135.0, half - 0.01));
        assert!(hz.is_sunlit(p, 135.0, half + 0.01));
        assert!(hz.is_sunlit(p, 270.0, 0.5));
        assert!(!hz.is_sunlit(usize::MAX, 90.0, 80.0));
        assert!(!hz.is_sunlit(p, f64::NAN, 80.0));
        // Wrap-around between the last sector and 0.
        assert_eq!(hz.bracket(350.0), (3, 0, (350.0 - 270.0) / 90.0));
        assert_eq!(hz.bracket(-90.0).0, 3);
    }

    #[test]
    fn bad_input_is_an_error_naming_the_parameter() {
        let spec = grid(10, 10, 1.0);
        let h = raster(spec, |_, _| 0.0);
        let msg = |r: Result<Horizons>| r.unwrap_err().to_string();
        assert!(msg(horizons(&h, 0, 10.0)).starts_with("n_az"));
        assert!(msg(horizons(&h, 36, 0.0)).starts_with("max_distance_m"));
        assert!(msg(horizons(&h, 36, f64::NAN)).starts_with("max_distance_m"));
        let mut short = h.clone();
        short.data.pop();
        assert!(msg(horizons(&short, 36, 10.0)).starts_with("height"));
        let mut bad = h.clone();
        bad.spec.cell_x = 0.0;
        assert!(msg(horizons(&bad, 36, 10.0)).starts_with("height"));
        let mut skew = h.clone();
        skew.spec.cell_x = 3.0;
        assert!(msg(horizons(&skew, 36, 10.0)).starts_with("height"));
        let hz = horizons(&h, 8, 10.0).unwrap();
        let e = sky_view_factor(&hz, Some(&h), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("aspect_deg"), "{e}");
        let other = raster(grid(9, 10, 1.0), |_, _| 0.0);
        let e = sky_view_factor(&hz, Some(&other), Some(&other))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("slope_deg"), "{e}");
        // Out-of-range lookups are NaN / empty, not panics.
        assert!(hz.angle_rad(8, 0).is_nan());
        assert!(hz.sector(9).is_empty());
    }

    #[test]
    fn svf_of_open_planes() {
        let spec = grid(40, 40, 1.0);
        let flat = raster(spec, |_, _| 3.0);
        for n_az in [8, 36, 72] {
            let hz = horizons(&flat, n_az, f64::INFINITY).unwrap();
            let svf = sky_view_factor(&hz, None, None).unwrap();
            assert!(svf.data.iter().all(|&v| v == 1.0));
        }
        // Tilted open plane (own horizon only): (1 + cos S)/2.
        let hz = horizons(&flat, 72, f64::INFINITY).unwrap();
        let mut worst: f64 = 0.0;
        for n_az in [72usize, 360] {
            let hz = if n_az == 72 {
                hz.clone()
            } else {
                horizons(&flat, n_az, f64::INFINITY).unwrap()
            };
            for (slope, aspect) in [
                (10.0f32, 0.0f32),
                (30.0, 135.0),
                (45.0, 200.0),
                (80.0, 271.0),
            ] {
                let s = raster(spec, |_, _| slope);
                let a = raster(spec, |_, _| aspect);
                let svf = sky_view_factor(&hz, Some(&s), Some(&a)).unwrap();
                let expect = (1.0 + (slope as f64).to_radians().cos()) / 2.0;
                let got = svf.get(20, 20) as f64;
                let err = (got - expect).abs();
                worst = worst.max(err);
                let tol = if n_az == 72 { 2e-4 } else { 1e-5 };
                assert!(err < tol, "n_az {n_az} slope {slope}: {got} vs {expect}");
            }
        }
        eprintln!("tilted open plane: max |SVF − (1+cos S)/2| = {worst:e}");
        // A slope raster with nodata and out-of-range values gives NaN there.
        let mut s = raster(spec, |_, _| 10.0);
        s.set(1, 1, f32::NAN);
        s.set(2, 1, 95.0);
        let a = raster(spec, |_, _| 0.0);
        let svf = sky_view_factor(&hz, Some(&s), Some(&a)).unwrap();
        assert!(svf.get(1, 1).is_nan() && svf.get(2, 1).is_nan() && svf.get(3, 1) > 0.9);
    }

    #[test]
    fn svf_of_a_tilted_terrain_plane() {
        // A DSM that is a tilted plane, with Horn slope/aspect: (1 + cos S)/2 from the
        // terrain's own horizons.
        let spec = grid(200, 200, 1.0);
        for (slope_deg, aspect) in [(20.0f64, 180.0f64), (20.0, 65.0), (35.0, 300.0)] {
            let t = slope_deg.to_radians().tan();
            let (sa, ca) = sin_cos_deg(aspect);
            // Falling towards `aspect`.
            let h = raster(spec, |c, r| {
                let [x, y] = spec.cell_center(c, r);
                (-((x - spec.origin_x) * sa + (y - spec.origin_y) * ca) * t) as f32
            });
            let (s, a) = crate::solar::horn_slope_aspect(&h).unwrap();
            assert!((s.get(100, 100) as f64 - slope_deg).abs() < 1e-3);
            assert!((a.get(100, 100) as f64 - aspect).abs() < 1e-3);
            let expect = (1.0 + slope_deg.to_radians().cos()) / 2.0;
            for n_az in [36, 72] {
                let hz = horizons(&h, n_az, f64::INFINITY).unwrap();
                let svf = sky_view_factor(&hz, Some(&s), Some(&a)).unwrap();
                let (mut sum, mut max, mut k) = (0.0, 0f64, 0);
                for r in 60..140 {
                    for c in 60..140 {
                        let e = svf.get(c, r) as f64 - expect;
                        sum += e;
                        max = max.max(e.abs());
                        k += 1;
                    }
                }
                let mean = sum / k as f64;
                eprintln!(
                    "terrain plane {slope_deg}° facing {aspect}°, {n_az} sectors: SVF − \
                     (1+cos S)/2 mean {mean:+.4}, max |·| {max:.4}"
                );
                assert!(mean.abs() < 0.005 && max < 0.015, "{mean} {max}");
            }
        }
    }

    #[test]
    fn svf_of_a_long_street_canyon() {
        // Canyon along grid north: floor 41 cells wide (1 m), walls H = 41 m (H/W = 1),
        // buildings to the grid edge east and west, 600 m long.
        let (wc, hgt) = (41usize, 41.0f32);
        let bw = 60usize;
        let spec = grid(wc + 2 * bw, 600, 1.0);
        let h = raster(spec, |c, _| if c < bw || c >= bw + wc { hgt } else { 0.0 });
        let mid = spec.idx(bw + wc / 2, 300);
        for n_az in [72usize, 360] {
            let hz = horizons(&h, n_az, f64::INFINITY).unwrap();
            let svf = sky_view_factor(&hz, None, None).unwrap();
            let got = svf.data[mid] as f64;
            // Oke (1987), Johnson & Watson (1984): at the centre line of an infinitely long
            // canyon ψ = cos β, β = atan(2H/W) — from 1/2π ∫ dφ / (1 + (2H/W)² cos²φ).
            let analytic = |hh: f64, ww: f64| (2.0 * hh / ww).atan().cos();
            let exact = analytic(hgt as f64, wc as f64);
            // The point model sees the wall top at the first wall cell centre, half a cell
            // behind the face: effective width W + 1.
            let centres = analytic(hgt as f64, wc as f64 + 1.0);
            let rel = (got - exact) / exact;
            eprintln!(
                "canyon H/W=1, {n_az} sectors: SVF {got:.4}, analytic {exact:.4} \
                 ({:+.2} %), analytic at cell centres {centres:.4} ({:+.2} %)",
                100.0 * rel,
                100.0 * (got - centres) / centres
            );
            assert!(rel.abs() < 0.03, "{got} vs {exact}");
            assert!(
                ((got - centres) / centres).abs() < 0.01,
                "{got} vs {centres}"
            );
        }
    }
}
