//! 2.5D shadows and sun hours on a height model (terrain + buildings) by line sweeps.
//!
//! For one sun direction the grid is covered by parallel digital lines running away from the
//! sun, one cell per column (or per row, whichever axis the sun direction is closer to). Along
//! each line the *shadow surface* is carried forward: `S_next = max(z, S − Δ·tan e)`, where
//! `Δ` is the horizontal distance the line advances per column and `e` the sun elevation. A
//! cell is sunlit when its height reaches the incoming shadow surface, `z ≥ S − Δ·tan e`.
//! Every cell is visited once per sun position, so the cost is O(cells) whatever the building
//! heights (unlike shifting the height model step by step, whose cost grows with height), and
//! the shadow of a caster runs exactly `h / tan e` along the true ray (the digital line stays
//! within half a cell of it).
//!
//! All lines shift by the same number of cells from one column to the next, so a column's
//! update is one contiguous vector operation: the heights are kept once row-major and once
//! column-major and each sweep reads the layout of its march axis. Sun hours add the seconds
//! each cell is sunlit over many sun positions into integer accumulators; integer sums are
//! associative, so the result is identical for any thread count.
//!
//! Cells outside the grid cast no shadow: give the analysis a margin around the area of
//! interest as wide as the longest shadow that matters (`h / tan e_min`).

use crate::error::{Result, ShadowError};
use rayon::prelude::*;
use twin_core::raster::{GridSpec, Raster};

/// Height given to cells without data: they never cast a shadow and are reported as nodata.
const NODATA_LOW: f32 = -1.0e30;

/// A height model ready for sweeps: heights row-major and column-major (structure of arrays).
#[derive(Debug, Clone)]
pub struct HeightModel {
    spec: GridSpec,
    /// `rows[r * width + c]`
    rows: Vec<f32>,
    /// `cols[c * height + r]`
    cols: Vec<f32>,
    /// 1 where the height is known.
    valid: Vec<u8>,
}

/// One sun position of a sweep: the unit vector towards the sun in the grid frame (x grid
/// east, y grid north, z up) and the whole seconds it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SunStep {
    pub dir: [f64; 3],
    pub weight_s: u32,
}

impl HeightModel {
    /// Prepare a height raster (metres; NaN and the raster's nodata value = unknown).
    pub fn new(height: &Raster<f32>) -> Result<HeightModel> {
        let spec = height.spec;
        let (w, h) = (spec.width, spec.height);
        if w == 0 || h == 0 || height.data.len() != w * h {
            return Err(ShadowError::input(
                "height model",
                format!("a {w} x {h} grid with {} values", height.data.len()),
            ));
        }
        if !(spec.cell_x > 0.0 && spec.cell_y > 0.0 && spec.cell_x.is_finite()) {
            return Err(ShadowError::input(
                "height model",
                format!("cell size {} x {} m", spec.cell_x, spec.cell_y),
            ));
        }
        let mut rows = Vec::with_capacity(w * h);
        let mut valid = Vec::with_capacity(w * h);
        let mut any = false;
        for &z in &height.data {
            let ok = z.is_finite() && !height.is_nodata(z) && z.abs() < 1.0e6;
            any |= ok;
            rows.push(if ok { z } else { NODATA_LOW });
            valid.push(u8::from(ok));
        }
        if !any {
            return Err(ShadowError::input(
                "height model",
                "has no valid height (all cells are nodata or NaN)",
            ));
        }
        let mut cols = vec![0.0f32; w * h];
        for r in 0..h {
            for c in 0..w {
                cols[c * h + r] = rows[r * w + c];
            }
        }
        Ok(HeightModel {
            spec,
            rows,
            cols,
            valid,
        })
    }

    pub fn spec(&self) -> &GridSpec {
        &self.spec
    }

    /// 1 where the cell has a height.
    pub fn valid(&self) -> &[u8] {
        &self.valid
    }

    /// Row-major heights (nodata cells very low).
    pub fn heights(&self) -> &[f32] {
        &self.rows
    }
}

/// How one sun direction sweeps the grid.
struct March {
    /// March over columns (lines advance one column per step) or over rows.
    by_cols: bool,
    /// March from the last column/row to the first.
    reverse: bool,
    /// Height drop of the shadow surface per step (m); infinite for a sun at the zenith.
    drop: f32,
    /// `offsets[i]`: how far (in cells along the other axis) the lines have moved at step i.
    offsets: Vec<i32>,
    max_offset: i32,
    lines: usize,
}

impl March {
    fn new(spec: &GridSpec, dir: [f64; 3], offsets: &mut Vec<i32>) -> Option<March> {
        let [dx, dy, dz] = dir;
        if dz.is_nan() || dz <= 0.0 || !dx.is_finite() || !dy.is_finite() {
            return None;
        }
        let hlen = (dx * dx + dy * dy).sqrt();
        let (w, h) = (spec.width, spec.height);
        if hlen < 1e-12 {
            // Sun at the zenith: nothing is shaded.
            offsets.clear();
            offsets.resize(w, 0);
            return Some(March {
                by_cols: true,
                reverse: false,
                drop: f32::INFINITY,
                offsets: std::mem::take(offsets),
                max_offset: 0,
                lines: h,
            });
        }
        // Shadows run away from the sun; in cells per metre along that direction:
        let (px, py) = (-dx / hlen, -dy / hlen);
        let dcol = px / spec.cell_x;
        let drow = -py / spec.cell_y;
        let tan_e = dz / hlen;
        let (by_cols, n_steps, n_pos, along, across) = if dcol.abs() >= drow.abs() {
            (true, w, h, dcol, drow)
        } else {
            (false, h, w, drow, dcol)
        };
        let step_m = 1.0 / along.abs();
        let t = across / along.abs();
        offsets.clear();
        offsets.extend((0..n_steps).map(|i| (t * i as f64).round() as i32));
        let max_offset = offsets.iter().copied().max().unwrap_or(0);
        let min_offset = offsets.iter().copied().min().unwrap_or(0);
        Some(March {
            by_cols,
            reverse: along < 0.0,
            drop: (step_m * tan_e) as f32,
            offsets: std::mem::take(offsets),
            max_offset,
            lines: n_pos + (max_offset - min_offset) as usize,
        })
    }

    /// Sweep once: `visit(plane_index, pos_range_start, lit_flags)` per step, with the lines'
    /// shadow surface kept in `surface` (resized, reused).
    fn run(
        &self,
        hm: &HeightModel,
        surface: &mut Vec<f32>,
        mut visit: impl FnMut(bool, usize, &[f32], &[f32], f32),
    ) {
        let (plane, n_pos) = if self.by_cols {
            (&hm.cols, hm.spec.height)
        } else {
            (&hm.rows, hm.spec.width)
        };
        surface.clear();
        surface.resize(self.lines, f32::NEG_INFINITY);
        let n_steps = self.offsets.len();
        for (i, &o) in self.offsets.iter().enumerate() {
            let s = if self.reverse { n_steps - 1 - i } else { i };
            let z = &plane[s * n_pos..(s + 1) * n_pos];
            let start = (self.max_offset - o) as usize;
            let line = &mut surface[start..start + n_pos];
            // `visit` reads the incoming surface, then it is carried forward.
            visit(self.by_cols, s, z, line, self.drop);
            for (sv, &zv) in line.iter_mut().zip(z) {
                let incoming = *sv - self.drop;
                *sv = if zv > incoming { zv } else { incoming };
            }
        }
    }
}

/// Sunlit (1) or shaded (0) per cell for one sun direction, row-major; cells without height
/// and every cell while the sun is below the horizon are 0.
pub fn sunlit_mask(hm: &HeightModel, dir: [f64; 3]) -> Vec<u8> {
    let (w, h) = (hm.spec.width, hm.spec.height);
    let mut out = vec![0u8; w * h];
    let mut offsets = Vec::new();
    let Some(m) = March::new(&hm.spec, dir, &mut offsets) else {
        return out;
    };
    let mut surface = Vec::new();
    m.run(hm, &mut surface, |by_cols, s, z, line, drop| {
        for (p, (&zv, &sv)) in z.iter().zip(line.iter()).enumerate() {
            let lit = zv >= sv - drop && zv > NODATA_LOW;
            let cell = if by_cols { p * w + s } else { s * w + p };
            out[cell] = u8::from(lit);
        }
    });
    out
}

/// Seconds of sun per cell over the given sun positions (row-major, `u32`); cells without
/// height get `u32::MAX`. Parallel over sun positions; identical for any thread count.
pub fn sun_seconds(hm: &HeightModel, steps: &[SunStep]) -> Vec<u32> {
    let (w, h) = (hm.spec.width, hm.spec.height);
    let n = w * h;
    let threads = rayon::current_num_threads().max(1);
    let chunk = steps.len().div_ceil(threads).max(1);
    // Each chunk of sun positions sums into its own pair of accumulators (row- and
    // column-major, matching the two sweep layouts).
    let (acc_rows, acc_cols) = steps
        .par_chunks(chunk)
        .map(|chunk| {
            let mut rows = vec![0u32; n];
            let mut cols = vec![0u32; n];
            let mut surface = Vec::new();
            let mut offsets = Vec::new();
            for st in chunk {
                if st.weight_s == 0 {
                    continue;
                }
                let Some(m) = March::new(&hm.spec, st.dir, &mut offsets) else {
                    continue;
                };
                let wgt = st.weight_s;
                m.run(hm, &mut surface, |by_cols, s, z, line, drop| {
                    let (acc, n_pos) = if by_cols {
                        (&mut cols[s * h..(s + 1) * h], h)
                    } else {
                        (&mut rows[s * w..(s + 1) * w], w)
                    };
                    debug_assert_eq!(acc.len(), n_pos);
                    for ((a, &zv), &sv) in acc.iter_mut().zip(z).zip(line.iter()) {
                        *a += if zv >= sv - drop { wgt } else { 0 };
                    }
                });
                offsets = m.offsets;
            }
            (rows, cols)
        })
        .reduce(
            || (Vec::new(), Vec::new()),
            |(mut ar, mut ac), (br, bc)| {
                if ar.is_empty() {
                    return (br, bc);
                }
                if !br.is_empty() {
                    ar.iter_mut().zip(&br).for_each(|(a, b)| *a += b);
                    ac.iter_mut().zip(&bc).for_each(|(a, b)| *a += b);
                }
                (ar, ac)
            },
        );
    let mut out = vec![0u32; n];
    if !acc_rows.is_empty() {
        out.par_chunks_mut(w).enumerate().for_each(|(r, row)| {
            for (c, v) in row.iter_mut().enumerate() {
                *v = acc_rows[r * w + c] + acc_cols[c * h + r];
            }
        });
    }
    for (v, &ok) in out.iter_mut().zip(&hm.valid) {
        if ok == 0 {
            *v = u32::MAX;
        }
    }
    out
}

/// Sun hours as a raster (f32 hours, NaN = no height) from [`sun_seconds`].
pub fn sun_hours(hm: &HeightModel, steps: &[SunStep]) -> Raster<f32> {
    let secs = sun_seconds(hm, steps);
    let data = secs
        .iter()
        .map(|&s| {
            if s == u32::MAX {
                f32::NAN
            } else {
                (f64::from(s) / 3600.0) as f32
            }
        })
        .collect();
    Raster {
        spec: hm.spec,
        data,
        nodata: Some(f32::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(w: usize, h: usize, cell: f64) -> Raster<f32> {
        let spec = GridSpec {
            origin_x: 0.0,
            origin_y: h as f64 * cell,
            cell_x: cell,
            cell_y: cell,
            width: w,
            height: h,
            epsg: Some(25832),
        };
        Raster::filled(spec, 0.0, None)
    }

    fn dir(az_deg: f64, el_deg: f64) -> [f64; 3] {
        let (a, e) = (az_deg.to_radians(), el_deg.to_radians());
        [a.sin() * e.cos(), a.cos() * e.cos(), e.sin()]
    }

    /// Shadow of a box, measured along the anti-sun ray from the box's edge.
    #[test]
    fn box_shadow_length_is_h_over_tan_e_within_one_cell() {
        let (n, cell) = (301usize, 1.0);
        let mut r = flat(n, n, cell);
        let h = 20.0f32;
        // A 5 x 5 m box in the centre.
        for row in 148..153 {
            for col in 148..153 {
                r.data[row * n + col] = h;
            }
        }
        let hm = HeightModel::new(&r).unwrap();
        for &az in &[
            0.0, 30.0, 45.0, 90.0, 135.0, 180.0, 200.0, 247.5, 300.0, 333.0,
        ] {
            for &el in &[10.0f64, 25.0, 45.0, 60.0] {
                let m = sunlit_mask(&hm, dir(az, el));
                let expect = f64::from(h) / el.to_radians().tan();
                // Walk from the box centre away from the sun in 0.1 m steps until lit.
                let (ux, uy) = (-(az.to_radians().sin()), -(az.to_radians().cos()));
                let lit_at = |x: f64, y: f64| {
                    let col = x.floor() as usize;
                    let row = (n as f64 - y).floor() as usize;
                    m[row * n + col] == 1
                };
                // The box edge along the ray: the box is [148,153] x [148,153] (y = 301-153..301-148).
                let (cx, cy) = (150.5, 150.5);
                let mut d_edge = 0.0;
                while {
                    let (x, y) = (cx + ux * d_edge, cy + uy * d_edge);
                    (148.0..153.0).contains(&x) && (148.0..153.0).contains(&y)
                } {
                    d_edge += 0.01;
                }
                let mut d = d_edge + 0.5;
                while !lit_at(cx + ux * d, cy + uy * d) {
                    d += 0.05;
                }
                let len = d - d_edge;
                let tol = 1.0 * cell * std::f64::consts::SQRT_2 + 0.05;
                assert!(
                    (len - expect).abs() <= tol,
                    "az {az} el {el}: shadow {len:.2} m, expected {expect:.2} m"
                );
            }
        }
    }

    #[test]
    fn flat_ground_is_fully_sunlit_and_night_is_dark() {
        let r = flat(40, 30, 2.0);
        let hm = HeightModel::new(&r).unwrap();
        for az in [0.0, 77.0, 180.0, 269.0] {
            assert!(sunlit_mask(&hm, dir(az, 3.0)).iter().all(|&v| v == 1));
        }
        assert!(sunlit_mask(&hm, dir(90.0, -1.0)).iter().all(|&v| v == 0));
        assert!(sunlit_mask(&hm, [0.0, 0.0, 1.0]).iter().all(|&v| v == 1));
    }

    #[test]
    fn sun_seconds_sum_weights_and_mark_nodata() {
        let mut r = flat(20, 10, 1.0);
        r.data[5] = f32::NAN;
        let hm = HeightModel::new(&r).unwrap();
        let steps: Vec<SunStep> = (0..50)
            .map(|k| SunStep {
                dir: dir(90.0 + 3.0 * k as f64, 20.0),
                weight_s: 60,
            })
            .collect();
        let s = sun_seconds(&hm, &steps);
        assert_eq!(s[5], u32::MAX);
        assert!(s.iter().enumerate().all(|(i, &v)| i == 5 || v == 3000));
    }

    #[test]
    fn sun_seconds_are_identical_for_any_thread_count() {
        let (w, h) = (97, 64);
        let mut r = flat(w, h, 1.5);
        let mut x = 12345u64;
        for v in r.data.iter_mut() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *v = ((x >> 40) % 3000) as f32 / 100.0;
        }
        let hm = HeightModel::new(&r).unwrap();
        let steps: Vec<SunStep> = (0..200)
            .map(|k| SunStep {
                dir: dir(60.0 + 1.2 * k as f64, 5.0 + (k % 40) as f64),
                weight_s: 30 + (k % 7) as u32,
            })
            .collect();
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| sun_seconds(&hm, &steps))
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        // and equal to the sum of single masks
        let mut sum = vec![0u32; w * h];
        for st in &steps {
            for (a, m) in sum.iter_mut().zip(sunlit_mask(&hm, st.dir)) {
                *a += u32::from(m) * st.weight_s;
            }
        }
        assert_eq!(one, sum);
    }

    /// Brute force: march each cell towards the sun in small steps and compare.
    #[test]
    fn agrees_with_ray_marching_on_a_random_city() {
        let (w, h) = (80, 60);
        let mut r = flat(w, h, 1.0);
        let mut x = 99u64;
        let mut rnd = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..25 {
            let (c0, r0) = ((rnd() * 70.0) as usize, (rnd() * 50.0) as usize);
            let (bw, bh, z) = (
                3 + (rnd() * 8.0) as usize,
                3 + (rnd() * 8.0) as usize,
                3.0 + rnd() as f32 * 25.0,
            );
            for rr in r0..(r0 + bh).min(h) {
                for cc in c0..(c0 + bw).min(w) {
                    r.data[rr * w + cc] = z;
                }
            }
        }
        let hm = HeightModel::new(&r).unwrap();
        let (mut disagree, mut total) = (0usize, 0usize);
        for &(az, el) in &[(120.0, 20.0), (200.0, 35.0), (250.0, 12.0), (20.0, 50.0)] {
            let d = dir(az, el);
            let m = sunlit_mask(&hm, d);
            let hl = (d[0] * d[0] + d[1] * d[1]).sqrt();
            for row in 0..h {
                for col in 0..w {
                    let z0 = f64::from(r.data[row * w + col]);
                    let (x0, y0) = (col as f64 + 0.5, h as f64 - row as f64 - 0.5);
                    let mut t = 0.05;
                    let mut lit = true;
                    loop {
                        let (x, y) = (x0 + d[0] / hl * t, y0 + d[1] / hl * t);
                        if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                            break;
                        }
                        let (cc, rr) = (x as usize, (h as f64 - y) as usize);
                        if f64::from(r.data[rr.min(h - 1) * w + cc]) > z0 + t * d[2] / hl {
                            lit = false;
                            break;
                        }
                        t += 0.05;
                    }
                    total += 1;
                    disagree += usize::from(lit != (m[row * w + col] == 1));
                }
            }
        }
        // Disagreement only at shadow edges (digital line vs exact ray, < 1 cell).
        let share = disagree as f64 / total as f64;
        assert!(share < 0.03, "{disagree} of {total} cells disagree");
    }
}
