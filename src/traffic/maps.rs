//! Link values drawn as coloured lines over the hillshaded terrain.

use crate::RunError;
use std::path::Path;
use twin_core::geom::P2;
use twin_core::raster::{GridSpec, Raster};
use twin_core::render::{ColorRamp, Map, Palette};

/// A raster on the DEM's extent with `values[k]` painted along `lines[k]` (the larger value
/// where lines overlap; NaN values are skipped), lines `width_px` cells wide on a grid whose
/// longer side has about `px` cells.
pub fn line_raster(
    dem: &Raster<f32>,
    lines: &[&[P2]],
    values: &[f32],
    px: usize,
    width_px: f64,
) -> Raster<f32> {
    let s = dem.spec;
    let w_m = s.width as f64 * s.cell_x;
    let h_m = s.height as f64 * s.cell_y;
    let cell = (w_m.max(h_m) / px as f64).max(s.cell_x);
    let spec = GridSpec {
        width: (w_m / cell).ceil() as usize,
        height: (h_m / cell).ceil() as usize,
        cell_x: cell,
        cell_y: cell,
        ..s
    };
    let mut r = Raster::filled(spec, f32::NAN, Some(f32::NAN));
    let half = width_px / 2.0;
    let reach = half.ceil() as i64;
    for (line, &v) in lines.iter().zip(values) {
        if !v.is_finite() {
            continue;
        }
        for seg in line.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            let n = (len / (cell * 0.5)).ceil().max(1.0) as usize;
            for k in 0..=n {
                let t = k as f64 / n as f64;
                let p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                let (c, rr) = spec.world_to_grid(p[0], p[1]);
                for dj in -reach..=reach {
                    for di in -reach..=reach {
                        let (ci, cj) = (c.floor() as i64 + di, rr.floor() as i64 + dj);
                        if ci < 0 || cj < 0 || ci >= spec.width as i64 || cj >= spec.height as i64 {
                            continue;
                        }
                        let (dx, dy) = (ci as f64 + 0.5 - c, cj as f64 + 0.5 - rr);
                        if dx * dx + dy * dy > (half + 0.5) * (half + 0.5) {
                            continue;
                        }
                        let idx = cj as usize * spec.width + ci as usize;
                        let old = r.data[idx];
                        if old.is_nan() || v > old {
                            r.data[idx] = v;
                        }
                    }
                }
            }
        }
    }
    r
}

/// Green (free) to dark red (over capacity) for volume/capacity ratios on 0 … 1.2 (red at 1).
pub fn vc_ramp() -> ColorRamp {
    ColorRamp::new(vec![
        (0.0, [26, 152, 80]),
        (0.417, [166, 217, 106]),
        (0.625, [254, 224, 139]),
        (0.75, [253, 174, 97]),
        (0.833, [215, 48, 39]),
        (1.0, [120, 0, 30]),
    ])
    .expect("static ramp")
}

/// Blue (less) – light grey – red (more), for changes.
pub fn diverging_ramp() -> ColorRamp {
    ColorRamp::new(vec![
        (0.0, [33, 102, 172]),
        (0.35, [146, 197, 222]),
        (0.5, [230, 230, 230]),
        (0.65, [244, 165, 130]),
        (1.0, [178, 24, 43]),
    ])
    .expect("static ramp")
}

/// Yellow to dark purple, for queues.
pub fn queue_ramp() -> ColorRamp {
    ColorRamp::new(vec![
        (0.0, [255, 237, 160]),
        (0.4, [254, 178, 76]),
        (0.7, [240, 59, 32]),
        (1.0, [90, 0, 80]),
    ])
    .expect("static ramp")
}

/// The base of the link maps: the hillshaded terrain, the buildings and one line per link.
pub struct LineMap<'a> {
    dem: &'a Raster<f32>,
    mask: Raster<u8>,
    lines: Vec<&'a [P2]>,
}

impl<'a> LineMap<'a> {
    /// Maps of `lines` (one per value) over `dem` with the city's buildings.
    pub fn new(city: &twin_core::City, dem: &'a Raster<f32>, lines: Vec<&'a [P2]>) -> Self {
        LineMap {
            dem,
            mask: twin_core::derive::building_mask(city, dem.spec),
            lines,
        }
    }

    /// Draw `values` (NaN: not drawn) with `palette` and write the PNG.
    pub fn write(
        &self,
        values: &[f32],
        palette: Palette,
        title: &str,
        unit: &str,
        subtitle: &str,
        path: &Path,
    ) -> Result<(), RunError> {
        let overlay = line_raster(self.dem, &self.lines, values, 1600, 7.0);
        Map::new(self.dem)
            .buildings(&self.mask)
            .overlay(&overlay, palette)
            .title(title)
            .unit(unit)
            .subtitle(subtitle)
            .write_png(path)?;
        Ok(())
    }

    /// Counts (cars, queued cars) from 0 to a round maximum; links with 0 are not drawn.
    pub fn write_counts(
        &self,
        counts: &[f64],
        title: &str,
        unit: &str,
        subtitle: &str,
        path: &Path,
    ) -> Result<(), RunError> {
        let values: Vec<f32> = counts
            .iter()
            .map(|&v| if v > 0.0 { v as f32 } else { f32::NAN })
            .collect();
        let max = counts.iter().copied().fold(1.0, f64::max);
        let palette = Palette::Ramp {
            ramp: queue_ramp(),
            min: 0.0,
            max: crate::flood::nice_max(max) as f32,
        };
        self.write(&values, palette, title, unit, subtitle, path)
    }
}
