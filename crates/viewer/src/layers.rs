//! Map layers draped over the terrain: what a result raster looks like (its colour scale),
//! its legend with units, and the terrain texture that carries it.
//!
//! The colour scales are the ones of the PNG maps (`twin_core::render`), so the viewer,
//! the maps in a report and the screenshots agree.

use std::path::PathBuf;

use twin_core::City;
use twin_core::raster::Raster;
use twin_core::render::{Classes, ColorRamp, Palette};

use crate::error::Result;

/// What a layer shows; decides its colour scale and legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LayerKind {
    /// Sun hours of a day or date range (h).
    SunHours,
    /// Sun hours lost (negative) or gained by the variant (h).
    SunHoursDelta,
    /// Sunlit (0) or in shadow (1) at one instant.
    Shadow,
    /// Annual clear-sky irradiation (kWh/m²).
    Solar,
    /// Maximum flood depth (m).
    MaxDepth,
    /// Hazard rating HR = d (v + 0.5) + DF, UK classes.
    Hazard,
    /// Time the water first reached 0.1 m (h after the start).
    Arrival,
}

impl LayerKind {
    /// The unit shown in the legend.
    pub fn unit(self) -> &'static str {
        match self {
            LayerKind::SunHours | LayerKind::SunHoursDelta | LayerKind::Arrival => "h",
            LayerKind::Shadow | LayerKind::Hazard => "",
            LayerKind::Solar => "kWh/m² per year",
            LayerKind::MaxDepth => "m",
        }
    }
}

/// One selectable layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub kind: LayerKind,
    /// Short title for the layer list and the legend ("Sun hours 2026-03-21").
    pub title: String,
    /// The raster file (GeoTIFF).
    pub path: PathBuf,
    /// For variants: the same layer of the baseline, if there is one.
    pub base_path: Option<PathBuf>,
}

/// A colour scale with everything a legend needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub title: String,
    pub unit: String,
    pub palette: Palette,
    /// Cells below this value are not drawn (the terrain shows through).
    pub min_visible: Option<f32>,
    /// Opacity of the overlay over the terrain (0..1).
    pub opacity: f32,
}

/// A legend entry: colour (sRGB) and its label.
#[derive(Debug, Clone, PartialEq)]
pub enum Legend {
    /// A colour bar: `stops` colours from low to high, `ticks` at fractions along it.
    Bar {
        stops: Vec<[u8; 3]>,
        ticks: Vec<(f32, String)>,
    },
    /// Discrete classes, lowest first.
    Classes(Vec<([u8; 3], String)>),
}

/// Diverging blue–white–red for differences (loss red, gain blue).
pub fn diverging() -> ColorRamp {
    ColorRamp::new(vec![
        (0.0, [178, 24, 43]),
        (0.25, [239, 138, 98]),
        (0.5, [247, 247, 247]),
        (0.75, [103, 169, 207]),
        (1.0, [33, 102, 172]),
    ])
    .expect("valid ramp")
}

/// A round upper bound for a colour scale: 1, 2, 2.5, 5 × 10^k at or above `v`.
pub fn nice_ceil(v: f32) -> f32 {
    if v.is_nan() || v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let e = v.log10().floor();
    let base = 10f32.powf(e);
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * base >= v * (1.0 - 1e-6) {
            return m * base;
        }
    }
    10.0 * base
}

/// Round tick values from `min` to `max`, at most `n + 1` of them: the finest step of
/// 1, 2, 2.5 or 5 × 10^k that fits, preferring one that lands on both ends.
pub fn ticks(min: f32, max: f32, n: usize) -> Vec<f32> {
    if max.is_nan() || min.is_nan() || max <= min || !min.is_finite() || !max.is_finite() || n < 2 {
        return vec![min];
    }
    let range = max - min;
    let e = (range / n as f32).log10().floor() as i32;
    let mut fitting = None;
    let mut exact = None;
    'search: for k in e - 1..=e + 2 {
        for m in [1.0f32, 2.0, 2.5, 5.0] {
            let step = m * 10f32.powi(k);
            let count = (range / step + 1e-4).floor() as usize + 1;
            if count > n + 1 {
                continue;
            }
            fitting.get_or_insert(step);
            let on = |v: f32| ((v / step) - (v / step).round()).abs() < 1e-4;
            if on(min) && on(max) {
                exact = Some(step);
                break 'search;
            }
        }
    }
    let Some(step) = exact.or(fitting) else {
        return vec![min, max];
    };
    let first = (min / step - 1e-4).ceil() * step;
    let mut v = Vec::new();
    let mut k = 0;
    loop {
        let t = first + k as f32 * step;
        if t > max + step * 1e-4 {
            break;
        }
        // Avoid -0 and float noise.
        let t = (t / step).round() * step;
        v.push(if t.abs() < step * 1e-6 { 0.0 } else { t });
        k += 1;
    }
    v
}

/// Format a tick value with as many decimals as the step needs.
pub fn format_tick(v: f32, step: f32) -> String {
    // The fewest decimals (up to 4) that show the step exactly: 0.125 → 3, 0.25 → 2, 2.5 → 1.
    let step = step.abs();
    let decimals = (0..=4)
        .find(|&d| {
            let s = step * 10f32.powi(d);
            (s - s.round()).abs() < 1e-3 * s.max(1.0)
        })
        .unwrap_or(4) as usize;
    format!("{v:.decimals$}")
}

impl Scale {
    /// The scale for a layer given the value range of its raster (`max_abs` for
    /// differences, `max` otherwise).
    pub fn for_layer(kind: LayerKind, title: &str, min: f32, max: f32) -> Scale {
        let unit = kind.unit().to_string();
        let (palette, min_visible, opacity) = match kind {
            LayerKind::SunHours => (
                Palette::Ramp {
                    ramp: ColorRamp::sun(),
                    min: 0.0,
                    max: nice_ceil(max.max(1.0)),
                },
                None,
                0.85,
            ),
            LayerKind::SunHoursDelta => {
                let m = nice_ceil(min.abs().max(max.abs()).max(0.5));
                (
                    Palette::Ramp {
                        ramp: diverging(),
                        min: -m,
                        max: m,
                    },
                    None,
                    0.85,
                )
            }
            LayerKind::Shadow => (
                Palette::Classes(
                    Classes::new(
                        vec![0.5],
                        vec![
                            ("Sunlit".into(), [252, 226, 120]),
                            ("Shadow".into(), [52, 56, 96]),
                        ],
                    )
                    .expect("valid classes"),
                ),
                None,
                0.6,
            ),
            LayerKind::Solar => (
                Palette::Ramp {
                    ramp: ColorRamp::sun(),
                    min: 0.0,
                    max: nice_ceil(max.max(1.0)),
                },
                None,
                0.85,
            ),
            LayerKind::MaxDepth => (
                Palette::Ramp {
                    ramp: ColorRamp::depth(),
                    min: 0.0,
                    max: nice_ceil(max.max(0.5)),
                },
                Some(0.05),
                0.9,
            ),
            LayerKind::Hazard => (
                Palette::Classes(Classes::uk_flood_hazard()),
                Some(1e-6),
                0.85,
            ),
            LayerKind::Arrival => (
                Palette::Ramp {
                    ramp: ColorRamp::time(),
                    min: 0.0,
                    max: nice_ceil(max.max(1.0)),
                },
                Some(0.0),
                0.85,
            ),
        };
        Scale {
            title: title.to_string(),
            unit,
            palette,
            min_visible,
            opacity,
        }
    }

    /// The scale for the animated water depth (m): 0 to `max` rounded up.
    pub fn water_depth(max_m: f32) -> Scale {
        Scale {
            title: "Water depth".into(),
            unit: "m".into(),
            palette: Palette::Ramp {
                ramp: ColorRamp::depth(),
                min: 0.0,
                max: nice_ceil(max_m.max(0.5)),
            },
            min_visible: Some(0.05),
            opacity: 0.8,
        }
    }

    /// The scale for road links by volume/capacity.
    pub fn volume_capacity() -> Scale {
        Scale {
            title: "Volume / capacity".into(),
            unit: String::new(),
            palette: Palette::Classes(
                Classes::new(
                    vec![0.5, 0.8, 1.0],
                    vec![
                        ("free".into(), [56, 168, 0]),
                        ("busy".into(), [255, 210, 0]),
                        ("near capacity".into(), [255, 120, 0]),
                        ("over capacity".into(), [200, 0, 0]),
                    ],
                )
                .expect("valid classes"),
            ),
            min_visible: None,
            opacity: 1.0,
        }
    }

    /// The colour (sRGB) of a value, or `None` when it is not drawn (missing or below
    /// `min_visible`).
    pub fn color(&self, v: f32) -> Option<[u8; 3]> {
        if !v.is_finite() {
            return None;
        }
        if let Some(m) = self.min_visible
            && v < m
        {
            return None;
        }
        Some(self.palette.colour(v))
    }

    /// The legend: a colour bar with round ticks, or the classes with their ranges.
    pub fn legend(&self) -> Legend {
        match &self.palette {
            Palette::Ramp { ramp, min, max } => {
                let stops = (0..=32).map(|k| ramp.at(k as f32 / 32.0)).collect();
                let t = ticks(*min, *max, 5);
                let step = if t.len() > 1 { t[1] - t[0] } else { 1.0 };
                let ticks = t
                    .iter()
                    .map(|&v| ((v - min) / (max - min), format_tick(v, step)))
                    .collect();
                Legend::Bar { stops, ticks }
            }
            Palette::Classes(c) => Legend::Classes(
                c.classes()
                    .iter()
                    .enumerate()
                    .map(|(i, (label, col))| {
                        let range = c.range_text(i, &self.unit);
                        let text = if matches!(c.classes().len(), 2) && self.unit.is_empty() {
                            label.clone()
                        } else {
                            format!("{label} ({range})")
                        };
                        (*col, text)
                    })
                    .collect(),
            ),
        }
    }

    /// Title with unit, e.g. "Max flood depth (m)".
    pub fn heading(&self) -> String {
        if self.unit.is_empty() {
            self.title.clone()
        } else {
            format!("{} ({})", self.title, self.unit)
        }
    }
}

/// The base map under every overlay: land-cover colours shaded by the terrain, at the
/// DEM's cells (reduced so neither side exceeds `max_px`).
#[derive(Debug, Clone)]
pub struct BaseMap {
    pub width: usize,
    pub height: usize,
    /// World coordinates of each pixel centre are those of this grid.
    pub spec: twin_core::raster::GridSpec,
    /// sRGB per pixel.
    pub rgb: Vec<[u8; 3]>,
}

impl BaseMap {
    /// Build from the city's DEM and land cover (`None` without a DEM).
    pub fn build(city: &City, max_px: usize) -> Result<Option<BaseMap>> {
        let Some(dem) = &city.terrain.dem else {
            return Ok(None);
        };
        let (w, h) = (dem.width(), dem.height());
        let f = w.max(h).div_ceil(max_px.max(1)).max(1);
        let spec = twin_core::raster::GridSpec {
            origin_x: dem.spec.origin_x,
            origin_y: dem.spec.origin_y,
            cell_x: dem.spec.cell_x * f as f64,
            cell_y: dem.spec.cell_y * f as f64,
            width: w.div_ceil(f),
            height: h.div_ceil(f),
            epsg: dem.spec.epsg,
        };
        let small = if f == 1 {
            dem.clone()
        } else {
            dem.resample(spec, twin_core::raster::Resampling::Average)?
        };
        let shade = twin_core::render::hillshade(&small)?;
        let items: Vec<(&[twin_core::geom::Polygon], u8)> = city
            .landcover
            .iter()
            .map(|z| {
                let k = twin_core::model::LandCover::ALL
                    .iter()
                    .position(|c| *c == z.kind)
                    .unwrap_or(0) as u8;
                (std::slice::from_ref(&z.polygon), k + 1)
            })
            .collect();
        let cover = twin_core::derive::rasterize_polygons(spec, 0u8, None, &items);
        let mut rgb = Vec::with_capacity(spec.width * spec.height);
        for r in 0..spec.height {
            for c in 0..spec.width {
                let k = cover.get(c, r);
                let base = if k == 0 {
                    [226, 222, 210]
                } else {
                    crate::scene::landcover_srgb(twin_core::model::LandCover::ALL[k as usize - 1])
                };
                let s = shade.get(c, r);
                let s = if s.is_finite() { s } else { 1.0 };
                let f = 0.55 + 0.45 * s.clamp(0.0, 1.0);
                rgb.push(base.map(|v| (v as f32 * f).round().clamp(0.0, 255.0) as u8));
            }
        }
        Ok(Some(BaseMap {
            width: spec.width,
            height: spec.height,
            spec,
            rgb,
        }))
    }

    /// The terrain texture (RGBA8, sRGB, row 0 north): the base map with `overlay` blended
    /// on top, sampled nearest-neighbour at the pixel centres (the overlay may lie on
    /// another grid in the same CRS).
    pub fn compose(&self, overlay: Option<(&Raster<f32>, &Scale)>) -> Vec<u8> {
        use rayon::prelude::*;
        let mut out = vec![0u8; self.rgb.len() * 4];
        // Rows in parallel; every pixel depends only on its own inputs.
        out.par_chunks_mut(self.width * 4)
            .enumerate()
            .for_each(|(r, row)| {
                for c in 0..self.width {
                    let base = self.rgb[r * self.width + c];
                    let mut px = base;
                    if let Some((ras, scale)) = overlay {
                        let [x, y] = self.spec.cell_center(c, r);
                        if let Some((oc, or)) = ras.spec.cell_at(x, y) {
                            let v = ras.get(oc, or);
                            if !ras.is_missing(v)
                                && let Some(col) = scale.color(v)
                            {
                                let a = scale.opacity;
                                px = std::array::from_fn(|k| {
                                    (base[k] as f32 * (1.0 - a) + col[k] as f32 * a).round() as u8
                                });
                            }
                        }
                    }
                    row[c * 4..c * 4 + 4].copy_from_slice(&[px[0], px[1], px[2], 255]);
                }
            });
        out
    }
}

/// Minimum and maximum of the finite values of a raster (`(0, 0)` when it has none).
pub fn value_range(r: &Raster<f32>) -> (f32, f32) {
    r.min_max().unwrap_or((0.0, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_bounds_and_ticks() {
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(nice_ceil(3.1), 5.0);
        assert_eq!(nice_ceil(2.0), 2.0);
        assert_eq!(nice_ceil(11.2), 20.0);
        assert_eq!(nice_ceil(0.23), 0.25);
        assert_eq!(nice_ceil(1588.0), 2000.0);
        assert_eq!(ticks(0.0, 5.0, 6), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ticks(-2.0, 2.0, 5), vec![-2.0, -1.0, 0.0, 1.0, 2.0]);
        assert_eq!(ticks(0.0, 0.5, 5), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(ticks(0.0, 20.0, 5), vec![0.0, 5.0, 10.0, 15.0, 20.0]);
        assert_eq!(
            ticks(0.0, 2000.0, 5),
            vec![0.0, 500.0, 1000.0, 1500.0, 2000.0]
        );
        assert_eq!(ticks(-5.0, 5.0, 5), vec![-5.0, -2.5, 0.0, 2.5, 5.0]);
        assert_eq!(format_tick(0.25, 0.125), "0.250");
        assert_eq!(format_tick(2.0, 1.0), "2");
        assert_eq!(format_tick(2.5, 2.5), "2.5");
        assert_eq!(format_tick(0.5, 0.25), "0.50");
        assert_eq!(format_tick(1500.0, 500.0), "1500");
    }

    #[test]
    fn depth_scale_hides_dry_cells_and_labels_units() {
        let s = Scale::for_layer(LayerKind::MaxDepth, "Max flood depth", 0.0, 3.1);
        assert_eq!(s.heading(), "Max flood depth (m)");
        assert_eq!(s.color(0.01), None);
        assert_eq!(s.color(f32::NAN), None);
        assert_eq!(s.color(5.0), Some(ColorRamp::depth().at(1.0)));
        match s.legend() {
            Legend::Bar { ticks, stops } => {
                assert_eq!(stops.len(), 33);
                let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
                assert_eq!(labels, ["0", "1", "2", "3", "4", "5"]);
                assert_eq!(ticks.last().unwrap().0, 1.0);
            }
            l => panic!("{l:?}"),
        }
    }

    #[test]
    fn difference_scale_is_symmetric() {
        let s = Scale::for_layer(LayerKind::SunHoursDelta, "Sun hours change", -3.2, 0.4);
        match &s.palette {
            Palette::Ramp { min, max, .. } => assert_eq!((*min, *max), (-5.0, 5.0)),
            p => panic!("{p:?}"),
        }
        // Zero is white, loss is red.
        assert_eq!(s.color(0.0), Some([247, 247, 247]));
        let loss = s.color(-5.0).unwrap();
        assert!(loss[0] > loss[2]);
    }

    #[test]
    fn class_legends_list_ranges() {
        let s = Scale::for_layer(LayerKind::Hazard, "Flood hazard", 0.0, 4.0);
        match s.legend() {
            Legend::Classes(c) => {
                assert_eq!(c.len(), 4);
                assert_eq!(c[0].1, "Low (< 0.75)");
                assert_eq!(c[3].1, "Extreme (≥ 2)");
            }
            l => panic!("{l:?}"),
        }
        let v = Scale::volume_capacity();
        assert_eq!(v.color(1.2), Some([200, 0, 0]));
        assert_eq!(v.color(0.2), Some([56, 168, 0]));
        match Scale::for_layer(LayerKind::Shadow, "Shadow", 0.0, 1.0).legend() {
            Legend::Classes(c) => assert_eq!(c[1].1, "Shadow"),
            l => panic!("{l:?}"),
        }
    }

    #[test]
    fn base_map_and_overlay_compose() {
        let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
            seed: 3,
            size_m: 400.0,
            cell_m: 2.0,
        })
        .unwrap();
        let base = BaseMap::build(&city, 100).unwrap().unwrap();
        assert!(base.width <= 100 && base.height <= 100);
        let plain = base.compose(None);
        assert_eq!(plain.len(), base.width * base.height * 4);
        // An overlay of 4 m everywhere over the western half only.
        let dem = city.terrain.dem.as_ref().unwrap();
        let mut spec = dem.spec;
        spec.width /= 2;
        let o = Raster::filled(spec, 4.0f32, None);
        let s = Scale::for_layer(LayerKind::MaxDepth, "d", 0.0, 4.0);
        let img = base.compose(Some((&o, &s)));
        let px = |c: usize| &img[c * 4..c * 4 + 3];
        // West pixels are blue, the east ones the base map.
        let west = px(1);
        assert!(west[2] > west[0]);
        assert_eq!(
            px(base.width - 1),
            &plain[(base.width - 1) * 4..(base.width - 1) * 4 + 3]
        );
    }
}
