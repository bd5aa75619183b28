//! Sun hours on facades and windows (3D): one occlusion ray per point and sun position,
//! cast against the building triangles ([`Bvh`]). A point counts a sun position when the
//! sun stands in front of its wall (at least `min_wall_angle_deg` above the wall plane) and
//! the ray towards the sun is free.

use crate::bvh::Bvh;
use crate::error::{Result, ShadowError};
use crate::sample::{FacadePoints, ray_origin};
use crate::sweep::SunStep;
use rayon::prelude::*;

/// How facade rays are cast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FacadeOptions {
    /// Ray origins are moved this far off the wall along its normal (m).
    pub offset_m: f64,
    /// The sun must stand at least this far above the wall plane (degrees): 0 counts grazing
    /// light; daylight standards may ask for more.
    pub min_wall_angle_deg: f64,
}

impl Default for FacadeOptions {
    fn default() -> Self {
        FacadeOptions {
            offset_m: 0.05,
            min_wall_angle_deg: 0.0,
        }
    }
}

impl FacadeOptions {
    pub fn validate(&self) -> Result<()> {
        if !(self.offset_m.is_finite() && self.offset_m > 0.0 && self.offset_m < 1.0) {
            return Err(ShadowError::param(
                "offset_m",
                format!(
                    "{} m; expected more than 0 and less than 1 m",
                    self.offset_m
                ),
            ));
        }
        if !(self.min_wall_angle_deg.is_finite() && (0.0..90.0).contains(&self.min_wall_angle_deg))
        {
            return Err(ShadowError::param(
                "min_wall_angle_deg",
                format!("{}; expected 0 to 90 degrees", self.min_wall_angle_deg),
            ));
        }
        Ok(())
    }
}

/// Points per parallel work item.
const CHUNK: usize = 512;

/// Seconds of sun per facade point over the sun positions. Parallel over points; each
/// point's sum runs in step order, so the result is identical for any thread count.
pub fn facade_sun_seconds(
    bvh: &Bvh,
    points: &FacadePoints,
    steps: &[SunStep],
    opts: &FacadeOptions,
) -> Result<Vec<u32>> {
    opts.validate()?;
    let n = points.len();
    let origin = bvh.origin();
    let min_dot = opts.min_wall_angle_deg.to_radians().sin() as f32;
    let mut out = vec![0u32; n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, acc)| {
        let k0 = ci * CHUNK;
        let origins: Vec<[f32; 3]> = (k0..k0 + acc.len())
            .map(|k| ray_origin(points, k, origin, opts.offset_m))
            .collect();
        let mut rays = Vec::with_capacity(acc.len());
        let mut which = Vec::with_capacity(acc.len());
        let mut hit = vec![false; acc.len()];
        for st in steps {
            if st.weight_s == 0 || st.dir[2] <= 0.0 {
                continue;
            }
            let d = st.dir.map(|v| v as f32);
            rays.clear();
            which.clear();
            for (j, o) in origins.iter().enumerate() {
                let k = k0 + j;
                let dot = points.nx[k] * d[0] + points.ny[k] * d[1] + points.nz[k] * d[2];
                if dot > min_dot {
                    rays.push(*o);
                    which.push(j);
                }
            }
            if rays.is_empty() {
                continue;
            }
            let hit = &mut hit[..rays.len()];
            bvh.occluded_many(&rays, d, 0.0, f32::INFINITY, hit);
            for (&j, &h) in which.iter().zip(hit.iter()) {
                if !h {
                    acc[j] += st.weight_s;
                }
            }
        }
    });
    Ok(out)
}

/// Number of rays [`facade_sun_seconds`] casts (points facing the sun, per step).
pub fn facade_ray_count(points: &FacadePoints, steps: &[SunStep], opts: &FacadeOptions) -> u64 {
    let min_dot = opts.min_wall_angle_deg.to_radians().sin() as f32;
    steps
        .iter()
        .filter(|s| s.weight_s > 0 && s.dir[2] > 0.0)
        .map(|s| {
            let d = s.dir.map(|v| v as f32);
            (0..points.len())
                .filter(|&k| {
                    points.nx[k] * d[0] + points.ny[k] * d[1] + points.nz[k] * d[2] > min_dot
                })
                .count() as u64
        })
        .sum()
}
