//! Result maps as PNG for people to look at: a hillshaded DEM as the base, an optional
//! building mask, a result raster coloured by a [`ColorRamp`] or by discrete [`Classes`], and
//! a legend panel to the right of the map (title, colour bar or class list, north arrow, scale
//! bar, CRS) so the legend never hides data.
//!
//! ```no_run
//! use twin_core::render::{ColorRamp, Map, Palette};
//! # fn example(
//! #     dem: &twin_core::raster::Raster<f32>,
//! #     depth: &twin_core::raster::Raster<f32>,
//! # ) -> twin_core::Result<()> {
//! Map::new(dem)
//!     .overlay(depth, Palette::Ramp { ramp: ColorRamp::depth(), min: 0.0, max: 2.0 })
//!     .min_visible(0.01)
//!     .title("Max water depth")
//!     .unit("m")
//!     .subtitle("Storm tide 2013, t = 6 h")
//!     .write_png(std::path::Path::new("max_depth.png"))
//! # }
//! ```
//!
//! Rendering is deterministic: the same inputs give the same bytes for any rayon thread count
//! (rows are rendered in parallel, every pixel independently).

pub mod chart;
mod font;

use crate::error::{Error, Result};
use crate::raster::{GridSpec, Raster};
use rayon::prelude::*;
use std::path::Path;

/// Sun azimuth of the hillshade, degrees clockwise from grid north.
const SUN_AZIMUTH_DEG: f64 = 315.0;
/// Sun altitude of the hillshade, degrees above the horizon.
const SUN_ALTITUDE_DEG: f64 = 45.0;

/// Smallest and largest accepted [`Map::max_px`].
const PX_RANGE: std::ops::RangeInclusive<u32> = 64..=16384;
/// The default longer side of a map image in pixels.
const DEFAULT_MAX_PX: u32 = 1600;

const WHITE: [u8; 3] = [255, 255, 255];
/// Text, tick marks, north arrow and scale bar.
const INK: [u8; 3] = [33, 33, 33];
/// Secondary text (subtitle, ranges, notes).
const MUTED: [u8; 3] = [100, 100, 100];
/// Map frame and colour bar outline.
const FRAME: [u8; 3] = [90, 90, 90];
/// Base map tint, multiplied by the hillshade.
const TINT: [u8; 3] = [246, 241, 229];
const BUILDING: [u8; 3] = [150, 150, 150];
const BUILDING_EDGE: [u8; 3] = [112, 112, 112];

/// Hillshade of a DEM by Horn's method: sun azimuth 315° (north-west), altitude 45°,
/// z-factor 1, the cell size of the grid (`cell_x`, `cell_y` may differ). Values are the
/// Lambert cosine between the surface normal and the sun, 0 (facing away) to 1 (facing the
/// sun); flat ground is sin 45° ≈ 0.707. Missing cells (NaN, nodata, infinite) take the flat
/// value. A missing neighbour, or one beyond the edge, is extrapolated linearly from the
/// neighbours that exist (exact on planes), else takes the centre cell's height.
pub fn hillshade(dem: &Raster<f32>) -> Result<Raster<f32>> {
    check_grid(dem, "DEM")?;
    let shader = Shader::new(dem);
    let mut data = vec![0f32; dem.spec.len()];
    data.par_chunks_mut(dem.spec.width)
        .enumerate()
        .for_each(|(row, line)| {
            for (col, v) in line.iter_mut().enumerate() {
                *v = shader.at(col, row) as f32;
            }
        });
    Ok(Raster {
        spec: dem.spec,
        nodata: None,
        data,
    })
}

/// Horn's hillshade for single cells.
struct Shader<'a> {
    dem: &'a Raster<f32>,
    /// Unit vector towards the sun (east, north, up).
    sun: [f64; 3],
}

impl<'a> Shader<'a> {
    fn new(dem: &'a Raster<f32>) -> Self {
        let (az, alt) = (SUN_AZIMUTH_DEG.to_radians(), SUN_ALTITUDE_DEG.to_radians());
        Shader {
            dem,
            sun: [az.sin() * alt.cos(), az.cos() * alt.cos(), alt.sin()],
        }
    }

    /// The height of a cell, `None` when missing or outside.
    fn z(&self, col: isize, row: isize) -> Option<f64> {
        let s = &self.dem.spec;
        if col < 0 || row < 0 || col as usize >= s.width || row as usize >= s.height {
            return None;
        }
        let v = self.dem.get(col as usize, row as usize);
        (v.is_finite() && !self.dem.is_missing(v)).then_some(v as f64)
    }

    /// Shade of one cell, 0..=1.
    fn at(&self, col: usize, row: usize) -> f64 {
        let (c, r) = (col as isize, row as isize);
        let Some(e) = self.z(c, r) else {
            return self.sun[2];
        };
        // A missing neighbour mirrors the opposite one through the centre; a diagonal one
        // with no opposite (corners) follows the plane of the two adjacent side neighbours.
        // Both are exact on planes.
        let mirrored = |dc: isize, dr: isize| {
            self.z(c + dc, r + dr)
                .or_else(|| self.z(c - dc, r - dr).map(|o| 2.0 * e - o))
        };
        let z = |dc: isize, dr: isize| {
            mirrored(dc, dr)
                .or_else(|| Some(mirrored(dc, 0)? + mirrored(0, dr)? - e))
                .unwrap_or(e)
        };
        let (a, b, cc) = (z(-1, -1), z(0, -1), z(1, -1));
        let (d, f) = (z(-1, 0), z(1, 0));
        let (g, h, i) = (z(-1, 1), z(0, 1), z(1, 1));
        let s = &self.dem.spec;
        let dz_east = ((cc + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * s.cell_x);
        // Row 0 is the northern edge: north is up the rows.
        let dz_north = ((a + 2.0 * b + cc) - (g + 2.0 * h + i)) / (8.0 * s.cell_y);
        let n = [-dz_east, -dz_north, 1.0];
        let len = (dz_east * dz_east + dz_north * dz_north + 1.0).sqrt();
        let cos = (n[0] * self.sun[0] + n[1] * self.sun[1] + n[2] * self.sun[2]) / len;
        if cos.is_finite() {
            cos.clamp(0.0, 1.0)
        } else {
            self.sun[2]
        }
    }
}

/// A continuous colour ramp: stops from value fraction 0 to 1 with an sRGB colour each,
/// interpolated linearly between stops.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorRamp {
    stops: Vec<(f32, [u8; 3])>,
}

impl ColorRamp {
    /// A ramp from `(fraction, rgb)` stops: at least two, fractions finite and strictly
    /// increasing from exactly 0 to exactly 1.
    pub fn new(stops: Vec<(f32, [u8; 3])>) -> Result<Self> {
        let ok = stops.len() >= 2
            && stops.first().is_some_and(|s| s.0 == 0.0)
            && stops.last().is_some_and(|s| s.0 == 1.0)
            && stops.windows(2).all(|w| w[0].0 < w[1].0);
        if !ok {
            return Err(Error::Invalid(format!(
                "colour ramp needs two or more stops with fractions rising strictly from 0 to 1, \
                 got {:?}",
                stops.iter().map(|s| s.0).collect::<Vec<_>>()
            )));
        }
        Ok(ColorRamp { stops })
    }

    /// Water depth: light cyan (shallow) to deep blue.
    pub fn depth() -> Self {
        ColorRamp {
            stops: vec![
                (0.0, [206, 240, 250]),
                (0.2, [140, 210, 238]),
                (0.45, [66, 156, 218]),
                (0.7, [30, 94, 178]),
                (1.0, [10, 36, 106]),
            ],
        }
    }

    /// Flow speed: pale yellow through orange and red to dark purple.
    pub fn speed() -> Self {
        ColorRamp {
            stops: vec![
                (0.0, [255, 244, 168]),
                (0.3, [253, 188, 88]),
                (0.55, [240, 108, 50]),
                (0.8, [188, 30, 46]),
                (1.0, [98, 10, 70]),
            ],
        }
    }

    /// Times (for example flood arrival): viridis, perceptually ordered from dark purple
    /// through blue and green to yellow.
    pub fn time() -> Self {
        let hex: [u32; 11] = [
            0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70,
            0x7ad151, 0xbddf26, 0xfde725,
        ];
        ColorRamp {
            stops: hex
                .iter()
                .enumerate()
                .map(|(i, h)| (i as f32 / 10.0, [(h >> 16) as u8, (h >> 8) as u8, *h as u8]))
                .collect(),
        }
    }

    /// Sun hours and solar potential: dark blue and purple (little sun) to yellow.
    pub fn sun() -> Self {
        ColorRamp {
            stops: vec![
                (0.0, [28, 24, 88]),
                (0.3, [98, 40, 140]),
                (0.55, [190, 64, 118]),
                (0.8, [245, 140, 60]),
                (1.0, [252, 232, 72]),
            ],
        }
    }

    /// The colour at fraction `t` (clamped to 0..=1; NaN counts as 0).
    pub fn at(&self, t: f32) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let k = self.stops[1..]
            .iter()
            .position(|s| t <= s.0)
            .unwrap_or(self.stops.len() - 2);
        let ((t0, a), (t1, b)) = (self.stops[k], self.stops[k + 1]);
        let f = (t - t0) / (t1 - t0);
        std::array::from_fn(|i| (a[i] as f32 + (b[i] as f32 - a[i] as f32) * f).round() as u8)
    }
}

/// Discrete classes: `n` classes separated by `n - 1` ascending breaks, each with a label and
/// a colour. A value equal to a break belongs to the upper class.
#[derive(Debug, Clone, PartialEq)]
pub struct Classes {
    breaks: Vec<f32>,
    classes: Vec<(String, [u8; 3])>,
}

impl Classes {
    /// Classes from their breaks (finite, strictly ascending, one fewer than classes) and
    /// `(label, rgb)` per class from the lowest to the highest. The legend has room for
    /// labels of about 16 characters; longer ones are cut at the image edge.
    pub fn new(breaks: Vec<f32>, classes: Vec<(String, [u8; 3])>) -> Result<Self> {
        if classes.is_empty() || breaks.len() + 1 != classes.len() {
            return Err(Error::Invalid(format!(
                "{} classes need {} breaks, got {}",
                classes.len(),
                classes.len().saturating_sub(1),
                breaks.len()
            )));
        }
        if !breaks.iter().all(|b| b.is_finite()) || !breaks.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::Invalid(format!(
                "class breaks must be finite and strictly ascending, got {breaks:?}"
            )));
        }
        Ok(Classes { breaks, classes })
    }

    /// The UK flood hazard rating classes (HR = d (v + 0.5) + DF, Defra/EA FD2320/FD2321):
    /// Low below 0.75, Moderate 0.75 to 1.25, Significant 1.25 to 2, Extreme from 2.
    pub fn uk_flood_hazard() -> Self {
        Classes {
            breaks: vec![0.75, 1.25, 2.0],
            classes: vec![
                ("Low".into(), [178, 222, 116]),
                ("Moderate".into(), [252, 204, 64]),
                ("Significant".into(), [236, 100, 40]),
                ("Extreme".into(), [128, 18, 72]),
            ],
        }
    }

    /// Index of the class of `v` (0 = lowest), `None` for NaN.
    pub fn class_of(&self, v: f32) -> Option<usize> {
        (!v.is_nan()).then(|| self.breaks.partition_point(|&b| b <= v))
    }

    /// The classes: label and colour, lowest first.
    pub fn classes(&self) -> &[(String, [u8; 3])] {
        &self.classes
    }

    /// Legend text for the value range of class `i`, for example `0.75 – 1.25 m`.
    pub fn range_text(&self, i: usize, unit: &str) -> String {
        let n = self.classes.len();
        let range = if n == 1 {
            "all values".to_string()
        } else if i == 0 {
            format!("< {}", self.breaks[0])
        } else if i == n - 1 {
            format!("≥ {}", self.breaks[n - 2])
        } else {
            format!("{} – {}", self.breaks[i - 1], self.breaks[i])
        };
        if unit.is_empty() || n == 1 {
            range
        } else {
            format!("{range} {unit}")
        }
    }
}

/// How overlay values become colours.
#[derive(Debug, Clone, PartialEq)]
pub enum Palette {
    /// A continuous ramp stretched from `min` (fraction 0) to `max` (fraction 1); values
    /// outside take the end colours. The legend is a colour bar with round tick values.
    Ramp {
        /// The colours.
        ramp: ColorRamp,
        /// The value shown in the ramp's first colour.
        min: f32,
        /// The value shown in the ramp's last colour; greater than `min`.
        max: f32,
    },
    /// Discrete classes; the legend lists them with their labels and value ranges.
    Classes(Classes),
}

impl Palette {
    /// A ramp's range must be finite and increasing.
    pub fn validate(&self) -> Result<()> {
        match self {
            Palette::Ramp { min, max, .. }
                if !(min.is_finite() && max.is_finite() && min < max) =>
            {
                Err(Error::Invalid(format!(
                    "colour ramp range must be finite with min < max, got {min} .. {max}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Colour of a finite value.
    pub fn colour(&self, v: f32) -> [u8; 3] {
        match self {
            Palette::Ramp { ramp, min, max } => ramp.at((v - min) / (max - min)),
            Palette::Classes(c) => c.classes[c.class_of(v).unwrap_or(0)].1,
        }
    }
}

/// A result map to render: a hillshaded DEM, optionally buildings and a coloured overlay,
/// with a legend panel. Build it with [`Map::new`] and the setters, then call
/// [`Map::to_png`] or [`Map::write_png`].
///
/// The overlay and the building mask may lie on other grids than the DEM (same CRS); they
/// are sampled nearest-neighbour at the DEM's cell centres. The image's longer side is
/// exactly [`Map::max_px`]: small rasters are enlarged with nearest neighbour, large ones
/// reduced by averaging the cells under each pixel. Pixels are square in metres. When the
/// image is too small for a legible legend (below about 300 px, or with very long texts), the
/// map alone fills it.
#[derive(Debug, Clone)]
pub struct Map<'a> {
    dem: &'a Raster<f32>,
    buildings: Option<&'a Raster<u8>>,
    overlay: Option<(&'a Raster<f32>, Palette)>,
    min_visible: f32,
    title: String,
    unit: String,
    subtitle: String,
    max_px: u32,
}

impl<'a> Map<'a> {
    /// A map of `dem` (heights in metres; NaN and nodata are missing) with no overlay, no
    /// title and a longer side of 1600 px.
    pub fn new(dem: &'a Raster<f32>) -> Self {
        Map {
            dem,
            buildings: None,
            overlay: None,
            min_visible: f32::NEG_INFINITY,
            title: String::new(),
            unit: String::new(),
            subtitle: String::new(),
            max_px: DEFAULT_MAX_PX,
        }
    }

    /// Draw buildings in mid grey where `mask` is non-zero (for example
    /// [`crate::derive::building_mask`]); they lie under the overlay.
    pub fn buildings(mut self, mask: &'a Raster<u8>) -> Self {
        self.buildings = Some(mask);
        self
    }

    /// Colour the cells of `values` with `palette`. NaN, nodata, infinite values and values
    /// below [`Map::min_visible`] are transparent.
    pub fn overlay(mut self, values: &'a Raster<f32>, palette: Palette) -> Self {
        self.overlay = Some((values, palette));
        self
    }

    /// Overlay values below `threshold` are transparent, for example dry cells with a depth
    /// under 0.01 m; the legend says so. By default only missing values are.
    pub fn min_visible(mut self, threshold: f32) -> Self {
        self.min_visible = threshold;
        self
    }

    /// The legend's heading, for example `Max water depth`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The unit of the overlay values, for example `m`; shown after the title and with class
    /// ranges.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// A line under the title, such as the scenario name and time (`\n` starts a new line).
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = subtitle.into();
        self
    }

    /// The longer side of the image in pixels, 64..=16384 (default 1600).
    pub fn max_px(mut self, max_px: u32) -> Self {
        self.max_px = max_px;
        self
    }

    /// Render and encode as an 8-bit RGB PNG.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let (canvas, _) = self.render()?;
        encode_png(&canvas)
    }

    /// Render and write an 8-bit RGB PNG atomically (temporary file, then rename).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let bytes = self.to_png()?;
        crate::fsio::write_atomic(path, &bytes)
    }

    /// Check the inputs, lay out and draw the image; also says where its parts are.
    fn render(&self) -> Result<(Canvas, Layout)> {
        if !PX_RANGE.contains(&self.max_px) {
            return Err(Error::Invalid(format!(
                "map size must be {}..={} px, got {}",
                PX_RANGE.start(),
                PX_RANGE.end(),
                self.max_px
            )));
        }
        check_grid(self.dem, "DEM")?;
        if self.min_visible.is_nan() {
            return Err(Error::Invalid("min_visible must not be NaN".into()));
        }
        let base = &self.dem.spec;
        let overlay = match &self.overlay {
            Some((values, palette)) => {
                check_grid(values, "overlay")?;
                palette.validate()?;
                Some((
                    *values,
                    palette,
                    Lookup::new(base, &values.spec, "overlay")?,
                ))
            }
            None => None,
        };
        let buildings = match self.buildings {
            Some(mask) => {
                check_grid(mask, "building mask")?;
                Some((mask, Lookup::new(base, &mask.spec, "building mask")?))
            }
            None => None,
        };
        let scene = Scene {
            shader: Shader::new(self.dem),
            overlay,
            buildings,
            min_visible: self.min_visible,
        };
        let texts = self.panel_texts();
        let layout = Layout::new(base, self.max_px as usize, &texts);
        let mut canvas = Canvas::new(layout.width, layout.height);
        let pixels = scene.map_pixels(base, layout.map.w, layout.map.h);
        canvas.blit(layout.map, &pixels);
        if let Some(panel) = &layout.panel {
            let lw = thin(panel.u);
            let m = layout.map;
            canvas.frame(
                Rect {
                    x: m.x - lw,
                    y: m.y - lw,
                    w: m.w + 2 * lw,
                    h: m.h + 2 * lw,
                },
                lw,
                FRAME,
            );
            self.draw_panel(&mut canvas, panel, &texts);
        }
        Ok((canvas, layout))
    }

    /// The legend's texts, wrapped to the panel width in font pixels.
    fn panel_texts(&self) -> PanelTexts {
        let heading = match (self.title.trim(), self.unit.trim()) {
            (t, "") => t.to_string(),
            ("", u) => format!("({u})"),
            (t, u) => format!("{t} ({u})"),
        };
        let legend = match &self.overlay {
            None => Legend::None,
            Some((_, Palette::Ramp { min, max, .. })) => {
                Legend::Bar(ticks(*min as f64, *max as f64))
            }
            Some((_, Palette::Classes(c))) => Legend::Classes(c.classes.len()),
        };
        let note = if self.overlay.is_some() && self.min_visible.is_finite() {
            let unit = self.unit.trim();
            let sep = if unit.is_empty() { "" } else { " " };
            wrap(
                &format!("< {}{sep}{unit} not shown", self.min_visible),
                false,
            )
        } else {
            Vec::new()
        };
        PanelTexts {
            title: wrap(&heading, true),
            subtitle: wrap(&self.subtitle, false),
            legend,
            note,
            crs: self.dem.spec.epsg.map(|e| format!("EPSG:{e}")),
        }
    }

    /// Draw the legend panel: title, subtitle, colour bar or classes, note at the top; north
    /// arrow, scale bar and CRS at the bottom.
    fn draw_panel(&self, cv: &mut Canvas, p: &Panel, texts: &PanelTexts) {
        let u = p.u;
        let lh = LINE * u;
        for (k, line) in texts.title.iter().enumerate() {
            cv.text(p.x, p.title_y + k * lh, u, true, INK, line);
        }
        for (k, line) in texts.subtitle.iter().enumerate() {
            cv.text(p.x, p.subtitle_y + k * lh, u, false, MUTED, line);
        }
        match (&self.overlay, &texts.legend) {
            (Some((_, Palette::Ramp { ramp, min, max })), Legend::Bar(ticks)) => {
                draw_bar(cv, p, ramp, (*min as f64, *max as f64), ticks)
            }
            (Some((_, Palette::Classes(classes))), Legend::Classes(_)) => {
                let unit = self.unit.trim();
                for (k, i) in (0..classes.classes.len()).rev().enumerate() {
                    let y = p.legend_y + k * CLASS_ROW * u;
                    let sw = Rect {
                        x: p.x,
                        y: y + 2 * u,
                        w: SWATCH_W * u,
                        h: 17 * u,
                    };
                    cv.fill(sw, classes.classes[i].1);
                    cv.frame(sw, thin(u), FRAME);
                    let tx = p.x + (SWATCH_W + 5) * u;
                    cv.text(tx, y, u, false, INK, &classes.classes[i].0);
                    cv.text(
                        tx,
                        y + 10 * u,
                        u,
                        false,
                        MUTED,
                        &classes.range_text(i, unit),
                    );
                }
            }
            _ => {}
        }
        for (k, line) in texts.note.iter().enumerate() {
            cv.text(p.x, p.note_y + k * lh, u, false, MUTED, line);
        }
        // North arrow: "N" over an arrowhead pointing to grid north.
        let cx = (p.x + 5 * u) as f64;
        let n_w = font::text_width("N", false) * u;
        cv.text(p.x + 5 * u - n_w / 2, p.north_y, u, true, INK, "N");
        let (top, uf) = ((p.north_y + 11 * u) as f64, u as f64);
        cv.polygon(
            &[
                (cx, top),
                (cx + 5.0 * uf, top + 16.0 * uf),
                (cx, top + 11.0 * uf),
                (cx - 5.0 * uf, top + 16.0 * uf),
            ],
            INK,
        );
        // Scale bar: two halves, dark and white, inside a dark outline; label centred below.
        let b = &p.bar;
        let lw = thin(u);
        let rect = Rect {
            x: b.x,
            y: b.y,
            w: b.len,
            h: BAR_THICK * u,
        };
        cv.fill(rect, INK);
        if b.len > 2 * lw {
            cv.fill(
                Rect {
                    x: b.x + b.len / 2,
                    y: b.y + lw,
                    w: b.len - b.len / 2 - lw,
                    h: rect.h.saturating_sub(2 * lw),
                },
                WHITE,
            );
        }
        let label = metres_label(b.metres);
        let label_w = font::text_width(&label, false) * u;
        let lx = (b.x + b.len / 2).saturating_sub(label_w / 2).max(p.x);
        cv.text(lx, b.y + rect.h, u, false, INK, &label);
        if let Some(crs) = &texts.crs {
            cv.text(p.x, p.crs_y, u, false, MUTED, crs);
        }
    }
}

/// The vertical colour bar (maximum at the top) with tick marks and labels.
fn draw_bar(cv: &mut Canvas, p: &Panel, ramp: &ColorRamp, range: (f64, f64), ticks: &[Tick]) {
    let u = p.u;
    let lw = thin(u);
    let bar = Rect {
        x: p.x + lw,
        y: p.legend_y + 6 * u,
        w: BAR_W * u,
        h: BAR_H * u,
    };
    for yy in 0..bar.h {
        let t = 1.0 - (yy as f32 + 0.5) / bar.h as f32;
        cv.fill(
            Rect {
                y: bar.y + yy,
                h: 1,
                ..bar
            },
            ramp.at(t),
        );
    }
    cv.frame(
        Rect {
            x: bar.x - lw,
            y: bar.y - lw,
            w: bar.w + 2 * lw,
            h: bar.h + 2 * lw,
        },
        lw,
        FRAME,
    );
    let (min, max) = range;
    for tick in ticks {
        let t = (tick.value - min) / (max - min);
        let y = bar.y + ((1.0 - t) * (bar.h - 1) as f64).round() as usize;
        let x = bar.x + bar.w + lw;
        cv.fill(
            Rect {
                x,
                y: y.saturating_sub(lw / 2),
                w: 4 * u,
                h: lw,
            },
            INK,
        );
        // Centre the label's capitals (rows 2-8) on the tick.
        let ly = (y + u / 2).saturating_sub(11 * u / 2);
        cv.text(x + 6 * u, ly, u, false, INK, &tick.label);
    }
}

/// Check a raster's georeference, size and data length.
fn check_grid<T>(r: &Raster<T>, what: &str) -> Result<()> {
    r.spec
        .validate()
        .map_err(|e| Error::Invalid(format!("{what}: {e}")))?;
    if r.spec.is_empty() {
        return Err(Error::Invalid(format!(
            "{what} is empty ({} x {} cells)",
            r.spec.width, r.spec.height
        )));
    }
    if r.data.len() != r.spec.len() {
        return Err(Error::Invalid(format!(
            "{what} has {} values, its {} x {} grid needs {}",
            r.data.len(),
            r.spec.width,
            r.spec.height,
            r.spec.len()
        )));
    }
    Ok(())
}

/// Nearest-neighbour index of another grid's cell under each base cell centre, kept per
/// column and per row (the grids are axis-aligned).
struct Lookup {
    cols: Vec<Option<usize>>,
    rows: Vec<Option<usize>>,
    width: usize,
}

impl Lookup {
    fn new(base: &GridSpec, other: &GridSpec, what: &str) -> Result<Self> {
        if let (Some(a), Some(b)) = (base.epsg, other.epsg)
            && a != b
        {
            return Err(Error::Invalid(format!(
                "{what} is in EPSG:{b}, the DEM in EPSG:{a}"
            )));
        }
        let pick = |n: usize, m: usize, pos: &dyn Fn(usize) -> f64| -> Vec<Option<usize>> {
            (0..n)
                .map(|i| {
                    let f = pos(i);
                    (f >= 0.0 && (f as usize) < m).then_some(f as usize)
                })
                .collect()
        };
        let cols = pick(base.width, other.width, &|c| {
            (base.origin_x + (c as f64 + 0.5) * base.cell_x - other.origin_x) / other.cell_x
        });
        let rows = pick(base.height, other.height, &|r| {
            (other.origin_y - (base.origin_y - (r as f64 + 0.5) * base.cell_y)) / other.cell_y
        });
        if !cols.iter().any(Option::is_some) || !rows.iter().any(Option::is_some) {
            return Err(Error::Invalid(format!(
                "{what} grid does not overlap the DEM"
            )));
        }
        Ok(Lookup {
            cols,
            rows,
            width: other.width,
        })
    }

    /// Flat index into the other raster for base cell (col, row), if covered.
    #[inline]
    fn get(&self, col: usize, row: usize) -> Option<usize> {
        Some(self.rows[row]? * self.width + self.cols[col]?)
    }
}

/// Everything needed to colour one base cell.
struct Scene<'a> {
    shader: Shader<'a>,
    overlay: Option<(&'a Raster<f32>, &'a Palette, Lookup)>,
    buildings: Option<(&'a Raster<u8>, Lookup)>,
    min_visible: f32,
}

impl Scene<'_> {
    fn is_building(&self, col: isize, row: isize) -> bool {
        let Some((mask, lookup)) = &self.buildings else {
            return false;
        };
        let s = &self.shader.dem.spec;
        if col < 0 || row < 0 || col as usize >= s.width || row as usize >= s.height {
            return false;
        }
        lookup
            .get(col as usize, row as usize)
            .is_some_and(|i| mask.data[i] != 0)
    }

    /// Colour of base cell (col, row): a visible overlay value, else the building, else the
    /// tinted hillshade.
    fn cell(&self, col: usize, row: usize) -> [u8; 3] {
        if let Some((values, palette, lookup)) = &self.overlay
            && let Some(i) = lookup.get(col, row)
        {
            let v = values.data[i];
            if v.is_finite() && !values.is_missing(v) && v >= self.min_visible {
                return palette.colour(v);
            }
        }
        let (c, r) = (col as isize, row as isize);
        if self.is_building(c, r) {
            let inner = [(-1, 0), (1, 0), (0, -1), (0, 1)]
                .iter()
                .all(|&(dc, dr)| self.is_building(c + dc, r + dr));
            return if inner { BUILDING } else { BUILDING_EDGE };
        }
        // Flat ground at 85 % of the tint, relief contrast stretched for gentle terrain.
        let relief = self.shader.at(col, row) - self.shader.sun[2];
        let light = (0.85 + 1.2 * relief).clamp(0.35, 1.0);
        TINT.map(|t| (t as f64 * light).round() as u8)
    }

    /// The map as RGB rows of `w` x `h` pixels: each pixel averages the cells whose centres
    /// fall in it, or takes the nearest cell when none does (enlarging).
    fn map_pixels(&self, spec: &GridSpec, w: usize, h: usize) -> Vec<u8> {
        let xs = spans(spec.width, w);
        let ys = spans(spec.height, h);
        let mut rgb = vec![0u8; w * h * 3];
        rgb.par_chunks_mut(w * 3)
            .zip(ys.par_iter())
            .for_each(|(line, &(r0, r1))| {
                let mut last: Option<((usize, usize), [u8; 3])> = None;
                for (px, &span) in xs.iter().enumerate() {
                    let colour = match last {
                        Some((s, c)) if s == span => c,
                        _ => {
                            let mut sum = [0u64; 3];
                            for r in r0..r1 {
                                for c in span.0..span.1 {
                                    for (s, v) in sum.iter_mut().zip(self.cell(c, r)) {
                                        *s += v as u64;
                                    }
                                }
                            }
                            let n = ((r1 - r0) * (span.1 - span.0)) as u64;
                            sum.map(|s| ((s + n / 2) / n) as u8)
                        }
                    };
                    last = Some((span, colour));
                    line[px * 3..px * 3 + 3].copy_from_slice(&colour);
                }
            });
        rgb
    }
}

/// For each of `px` pixels along an axis of `cells` cells, the half-open range of cells whose
/// centres fall in the pixel, or the cell under the pixel centre when none does.
fn spans(cells: usize, px: usize) -> Vec<(usize, usize)> {
    let f = cells as f64 / px as f64;
    (0..px)
        .map(|p| {
            let lo = (p as f64 * f - 0.5).ceil().max(0.0) as usize;
            let hi = (((p + 1) as f64 * f - 0.5).ceil().max(0.0) as usize).min(cells);
            if hi > lo {
                (lo, hi)
            } else {
                let c = (((p as f64 + 0.5) * f) as usize).min(cells - 1);
                (c, c + 1)
            }
        })
        .collect()
}

// Panel geometry in font pixels (multiplied by the font scale `u`).
/// Line pitch of text.
const LINE: usize = 12;
/// Margin around the map and padding of the panel.
const PAD: usize = 8;
/// Width of the panel's content.
const CONTENT_W: usize = 116;
/// Colour bar width and height.
const BAR_W: usize = 12;
const BAR_H: usize = 120;
/// Pitch of one class in the class legend (label line and range line) and swatch width.
const CLASS_ROW: usize = 24;
const SWATCH_W: usize = 14;
/// Thickness of the scale bar.
const BAR_THICK: usize = 5;

/// The legend's texts, wrapped.
struct PanelTexts {
    title: Vec<String>,
    subtitle: Vec<String>,
    legend: Legend,
    note: Vec<String>,
    crs: Option<String>,
}

/// What the legend shows between the subtitle and the note.
enum Legend {
    None,
    /// A colour bar with these ticks.
    Bar(Vec<Tick>),
    /// This many classes.
    Classes(usize),
}

/// One labelled value on the colour bar.
struct Tick {
    value: f64,
    label: String,
}

/// A pixel rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// Where everything goes in the image.
#[derive(Debug)]
struct Layout {
    width: usize,
    height: usize,
    /// The map area (pixels of data).
    map: Rect,
    /// The legend panel, absent when the image is too small for one.
    panel: Option<Panel>,
}

/// Positions in the legend panel, in pixels.
#[derive(Debug)]
struct Panel {
    /// Font scale: image pixels per font pixel.
    u: usize,
    /// Left edge of the content.
    x: usize,
    title_y: usize,
    subtitle_y: usize,
    legend_y: usize,
    note_y: usize,
    north_y: usize,
    crs_y: usize,
    bar: ScaleBar,
}

/// The scale bar: `len` pixels long at (x, y), standing for `metres`.
#[derive(Debug)]
struct ScaleBar {
    x: usize,
    y: usize,
    len: usize,
    metres: f64,
}

impl Layout {
    /// Lay out a map of `spec` with the panel for `texts`, longer side `max_px`. The font
    /// scale follows the size (3 at 1600 px) and shrinks until the panel fits.
    fn new(spec: &GridSpec, max_px: usize, texts: &PanelTexts) -> Layout {
        let (wm, hm) = (
            spec.width as f64 * spec.cell_x,
            spec.height as f64 * spec.cell_y,
        );
        let legend_h = match &texts.legend {
            Legend::None => 0,
            Legend::Bar(_) => 8 + 6 + BAR_H + 6,
            Legend::Classes(n) => 8 + n * CLASS_ROW,
        };
        let note_h = if texts.note.is_empty() {
            0
        } else {
            4 + texts.note.len() * LINE
        };
        let top_h = (texts.title.len() + texts.subtitle.len()) * LINE + legend_h + note_h;
        let bottom_h = 28 + 8 + BAR_THICK + LINE + if texts.crs.is_some() { LINE } else { 0 };
        let panel_h = PAD + top_h + 12 + bottom_h + PAD;
        let panel_w = CONTENT_W + 2 * PAD;
        let start = ((max_px as f64 / 530.0).round() as usize).max(1);
        for u in (1..=start).rev() {
            let avail_w = max_px.saturating_sub((PAD + panel_w) * u);
            let avail_h = max_px.saturating_sub(2 * PAD * u);
            if avail_w < 64 || avail_h < 64 || panel_h * u > max_px {
                continue;
            }
            let (mw, mh) = fit(wm, hm, avail_w, avail_h);
            let width = (PAD + panel_w) * u + mw;
            let height = (mh + 2 * PAD * u).max(panel_h * u);
            let x = (2 * PAD) * u + mw;
            let bottom = height - PAD * u;
            let crs_y = bottom - if texts.crs.is_some() { LINE * u } else { 0 };
            let bar_y = crs_y - (BAR_THICK + LINE) * u;
            let m_per_px = wm / mw as f64;
            let metres = scale_bar_metres(m_per_px * (CONTENT_W * u) as f64 * 0.75);
            let title_y = PAD * u;
            let subtitle_y = title_y + texts.title.len() * LINE * u;
            let legend_y = subtitle_y + texts.subtitle.len() * LINE * u + 8 * u;
            let note_y = subtitle_y + texts.subtitle.len() * LINE * u + legend_h * u + 4 * u;
            return Layout {
                width,
                height,
                map: Rect {
                    x: PAD * u,
                    y: PAD * u,
                    w: mw,
                    h: mh,
                },
                panel: Some(Panel {
                    u,
                    x,
                    title_y,
                    subtitle_y,
                    legend_y,
                    note_y,
                    north_y: bar_y - 36 * u,
                    crs_y,
                    bar: ScaleBar {
                        x,
                        y: bar_y,
                        len: ((metres / m_per_px).round() as usize).max(1),
                        metres,
                    },
                }),
            };
        }
        let (mw, mh) = fit(wm, hm, max_px, max_px);
        Layout {
            width: mw,
            height: mh,
            map: Rect {
                x: 0,
                y: 0,
                w: mw,
                h: mh,
            },
            panel: None,
        }
    }
}

/// Pixel size of an extent of `wm` x `hm` metres scaled to fit `aw` x `ah` pixels, touching
/// at least one side.
fn fit(wm: f64, hm: f64, aw: usize, ah: usize) -> (usize, usize) {
    let p = (wm / aw as f64).max(hm / ah as f64);
    (
        ((wm / p).round() as usize).clamp(1, aw),
        ((hm / p).round() as usize).clamp(1, ah),
    )
}

/// The longest round length (1, 2 or 5 times a power of ten metres) not above `max_m`.
fn scale_bar_metres(max_m: f64) -> f64 {
    let mut best = 0.01;
    for e in -2..=7 {
        for m in [1.0, 2.0, 5.0] {
            let l = m * 10f64.powi(e);
            if l <= max_m * (1.0 + 1e-9) {
                best = l;
            }
        }
    }
    best
}

/// `500 m`, `1 km`, `2.5 km`, `0.5 m`.
fn metres_label(m: f64) -> String {
    if m >= 1000.0 {
        format!("{} km", trim_number(&format!("{:.6}", m / 1000.0)))
    } else {
        format!("{} m", trim_number(&format!("{m:.6}")))
    }
}

/// Drop trailing zeros after a decimal point (and the point), and a minus sign on zero.
fn trim_number(s: &str) -> String {
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    if t == "-0" { "0".into() } else { t.into() }
}

/// Round tick values in `[min, max]`: a step of 1, 2 or 5 times a power of ten giving a
/// count closest to five or six, labelled with as many decimals as the step needs.
fn ticks(min: f64, max: f64) -> Vec<Tick> {
    let span = max - min;
    let e0 = span.log10().floor() as i32;
    let mut best: Option<(f64, f64, i64, i64)> = None;
    for e in (e0 - 2..=e0 + 1).rev() {
        for m in [5.0, 2.0, 1.0] {
            let step = m * 10f64.powi(e);
            let k0 = (min / step - 1e-9).ceil() as i64;
            let k1 = (max / step + 1e-9).floor() as i64;
            let score = ((k1 - k0 + 1) as f64 - 5.5).abs();
            if best.is_none_or(|b| score < b.0) {
                best = Some((score, step, k0, k1));
            }
        }
    }
    let Some((_, step, k0, k1)) = best else {
        return Vec::new();
    };
    let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
    (k0..=k1)
        .map(|k| {
            let value = k as f64 * step;
            Tick {
                value,
                label: trim_number(&format!("{value:.decimals$}")),
            }
        })
        .collect()
}

/// Break `text` into lines at most [`CONTENT_W`] font pixels wide: at spaces, inside words
/// only when a word alone is too wide; `\n` starts a new line, empty lines are dropped.
fn wrap(text: &str, bold: bool) -> Vec<String> {
    let fits = |s: &str| font::text_width(s, bold) <= CONTENT_W;
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let joined = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if fits(&joined) {
                line = joined;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for ch in word.chars() {
                line.push(ch);
                if !fits(&line) && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, ch.to_string()));
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// Height of a line of text in font pixels (multiply by the scale `u`).
pub const FONT_HEIGHT: usize = font::HEIGHT;

/// Width in image pixels of `text` drawn at `u` pixels per font pixel.
pub fn text_width_px(text: &str, u: usize, bold: bool) -> usize {
    let extra = if bold { (u + 1) / 3 } else { 0 };
    text.chars()
        .map(|ch| {
            let g = font::glyph(ch);
            font::advance(ch) * u + if g.width > 0 { extra } else { 0 }
        })
        .sum()
}

/// Draw `text` into an RGB image of `w` × `h` pixels (`rgb.len() == 3 w h`) with its glyph
/// cell's top-left at (x, y), `u` pixels per font pixel, clipped to the image: captions
/// and legends on images made elsewhere (the viewer's screenshots). Does nothing when the
/// buffer has the wrong size.
#[allow(clippy::too_many_arguments)]
pub fn draw_text_rgb(
    rgb: &mut Vec<u8>,
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    u: usize,
    bold: bool,
    colour: [u8; 3],
    text: &str,
) {
    if rgb.len() != w * h * 3 {
        return;
    }
    let mut cv = Canvas {
        w,
        h,
        rgb: std::mem::take(rgb),
    };
    cv.text(x, y, u.max(1), bold, colour, text);
    *rgb = cv.rgb;
}

/// Thin line width for font scale `u`.
fn thin(u: usize) -> usize {
    (u / 3).max(1)
}

/// An RGB image to draw on; drawing is clipped to the image.
struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            rgb: WHITE.repeat(w * h),
        }
    }

    /// Copy `pixels` (RGB rows of `r.w`) into `r`.
    fn blit(&mut self, r: Rect, pixels: &[u8]) {
        for row in 0..r.h {
            let dst = ((r.y + row) * self.w + r.x) * 3;
            self.rgb[dst..dst + r.w * 3]
                .copy_from_slice(&pixels[row * r.w * 3..(row + 1) * r.w * 3]);
        }
    }

    fn fill(&mut self, r: Rect, colour: [u8; 3]) {
        let (x1, y1) = ((r.x + r.w).min(self.w), (r.y + r.h).min(self.h));
        for y in r.y.min(y1)..y1 {
            for x in r.x.min(x1)..x1 {
                let i = (y * self.w + x) * 3;
                self.rgb[i..i + 3].copy_from_slice(&colour);
            }
        }
    }

    /// Outline of `r`, `lw` pixels wide, inside `r`.
    fn frame(&mut self, r: Rect, lw: usize, colour: [u8; 3]) {
        self.fill(Rect { h: lw, ..r }, colour);
        self.fill(
            Rect {
                y: (r.y + r.h).saturating_sub(lw),
                h: lw,
                ..r
            },
            colour,
        );
        self.fill(Rect { w: lw, ..r }, colour);
        self.fill(
            Rect {
                x: (r.x + r.w).saturating_sub(lw),
                w: lw,
                ..r
            },
            colour,
        );
    }

    /// Fill the pixels whose centres lie inside a polygon (even-odd rule).
    fn polygon(&mut self, pts: &[(f64, f64)], colour: [u8; 3]) {
        let (x0, x1) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        let (y0, y1) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
        for y in (y0.floor().max(0.0) as usize)..(y1.ceil().max(0.0) as usize).min(self.h) {
            for x in (x0.floor().max(0.0) as usize)..(x1.ceil().max(0.0) as usize).min(self.w) {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let mut inside = false;
                for k in 0..pts.len() {
                    let (a, b) = (pts[k], pts[(k + 1) % pts.len()]);
                    if (a.1 > py) != (b.1 > py) && px < a.0 + (py - a.1) / (b.1 - a.1) * (b.0 - a.0)
                    {
                        inside = !inside;
                    }
                }
                if inside {
                    self.fill(Rect { x, y, w: 1, h: 1 }, colour);
                }
            }
        }
    }

    /// Draw `text` with its glyph cell's top-left at (x, y), `u` pixels per font pixel;
    /// `bold` widens every stroke to the right by a third of a font pixel (none at `u` = 1),
    /// which keeps one-pixel gaps open. Never wider than [`font::text_width`] says.
    fn text(&mut self, x: usize, y: usize, u: usize, bold: bool, colour: [u8; 3], text: &str) {
        let extra = if bold { (u + 1) / 3 } else { 0 };
        let mut pen = x;
        for ch in text.chars() {
            let g = font::glyph(ch);
            for (row, bits) in g.rows.iter().enumerate() {
                for col in g.first..g.first + g.width {
                    if bits >> (4 - col) & 1 == 1 {
                        let r = Rect {
                            x: pen + (col - g.first) * u,
                            y: y + row * u,
                            w: u + extra,
                            h: u,
                        };
                        self.fill(r, colour);
                    }
                }
            }
            pen += font::advance(ch) * u + if g.width > 0 { extra } else { 0 };
        }
    }
}

/// Encode a canvas as an 8-bit RGB PNG.
fn encode_png(c: &Canvas) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let fail = |e: png::EncodingError| Error::Invalid(format!("PNG encoding failed: {e}"));
    let mut enc = png::Encoder::new(&mut bytes, c.w as u32, c.h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(fail)?;
    writer.write_image_data(&c.rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Resampling;

    fn spec(w: usize, h: usize, cell: f64) -> GridSpec {
        GridSpec {
            origin_x: 565_000.0,
            origin_y: 5_927_000.0,
            cell_x: cell,
            cell_y: cell,
            width: w,
            height: h,
            epsg: Some(25832),
        }
    }

    /// A valley running north-south with its bottom at 2 m.
    fn valley(w: usize, h: usize, cell: f64) -> Raster<f32> {
        let s = spec(w, h, cell);
        let data = (0..s.len())
            .map(|i| {
                let (c, r) = s.col_row(i);
                let dx = (c as f64 - w as f64 / 2.0) * cell;
                (2.0 + 0.05 * dx.abs() + 0.002 * r as f64 * cell) as f32
            })
            .collect();
        Raster::from_vec(s, data, None).unwrap()
    }

    /// `f(col, row)` on the DEM's grid.
    fn field(dem: &Raster<f32>, f: impl Fn(usize, usize) -> f32) -> Raster<f32> {
        let s = dem.spec;
        let data = (0..s.len())
            .map(|i| {
                let (c, r) = s.col_row(i);
                f(c, r)
            })
            .collect();
        Raster::from_vec(s, data, None).unwrap()
    }

    fn ramp(min: f32, max: f32) -> Palette {
        Palette::Ramp {
            ramp: ColorRamp::depth(),
            min,
            max,
        }
    }

    fn pixel(c: &Canvas, x: usize, y: usize) -> [u8; 3] {
        let i = (y * c.w + x) * 3;
        [c.rgb[i], c.rgb[i + 1], c.rgb[i + 2]]
    }

    fn count(c: &Canvas, r: Rect, colour: [u8; 3]) -> usize {
        (r.y..r.y + r.h)
            .flat_map(|y| (r.x..r.x + r.w).map(move |x| (x, y)))
            .filter(|&(x, y)| pixel(c, x, y) == colour)
            .count()
    }

    /// Map pixels (x, y) whose cells all lie in the DEM cell rectangle `cols` x `rows`.
    fn pixels_within(
        l: &Layout,
        dem: &Raster<f32>,
        cols: std::ops::Range<usize>,
        rows: std::ops::Range<usize>,
    ) -> Vec<(usize, usize)> {
        let xs = spans(dem.spec.width, l.map.w);
        let ys = spans(dem.spec.height, l.map.h);
        let inside =
            |s: &(usize, usize), r: &std::ops::Range<usize>| s.0 >= r.start && s.1 <= r.end;
        let mut out = Vec::new();
        for (py, _) in ys.iter().enumerate().filter(|(_, s)| inside(s, &rows)) {
            for (px, _) in xs.iter().enumerate().filter(|(_, s)| inside(s, &cols)) {
                out.push((l.map.x + px, l.map.y + py));
            }
        }
        assert!(!out.is_empty());
        out
    }

    #[test]
    fn hillshade_of_planes_matches_lambert() {
        // Rectangular cells: the gradient must use cell_x and cell_y.
        let s = GridSpec {
            cell_x: 2.0,
            cell_y: 3.0,
            ..spec(20, 15, 1.0)
        };
        // z = a * east + b * north, in metres from the top-left corner.
        let plane = |a: f64, b: f64| {
            let data = (0..s.len())
                .map(|i| {
                    let (c, r) = s.col_row(i);
                    (a * (c as f64 + 0.5) * 2.0 - b * (r as f64 + 0.5) * 3.0) as f32
                })
                .collect();
            Raster::from_vec(s, data, None).unwrap()
        };
        // Sun from 315 degrees, 45 degrees up: (east, north, up) = (-1/2, 1/2, 1/sqrt 2).
        let lambert = |a: f64, b: f64| {
            ((0.5 * a - 0.5 * b + 0.5f64.sqrt()) / (a * a + b * b + 1.0).sqrt()).max(0.0)
        };
        let all = |hs: &Raster<f32>| -> Vec<f64> { hs.data.iter().map(|&v| v as f64).collect() };
        let mut means = Vec::new();
        // Rising to the south-east faces the sun; to the north-west faces away; steep
        // north-west faces are in full shadow.
        for (a, b) in [
            (0.3, -0.3),
            (-0.3, 0.3),
            (0.0, 0.0),
            (0.5, 0.2),
            (-2.0, 2.0),
        ] {
            let hs = hillshade(&plane(a, b)).unwrap();
            assert_eq!(hs.spec, s);
            // Edges included: outside neighbours are extrapolated.
            for v in all(&hs) {
                assert!(
                    (v - lambert(a, b)).abs() < 1e-3,
                    "{a} {b}: {v} vs {}",
                    lambert(a, b)
                );
            }
            means.push(lambert(a, b));
        }
        assert!(means[0] > 0.9 && means[1] < 0.4 && means[0] > means[2] && means[2] > means[1]);
        assert!((means[2] - 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(means[4], 0.0);
        // Missing cells are neutral (flat ground) and do not spoil their neighbours.
        let mut dem = plane(0.3, -0.3);
        dem.set(5, 5, f32::NAN);
        dem.nodata = Some(-9999.0);
        dem.set(9, 9, -9999.0);
        let hs = hillshade(&dem).unwrap();
        for (c, r) in [(5, 5), (9, 9)] {
            assert!((hs.get(c, r) as f64 - 0.5f64.sqrt()).abs() < 1e-6);
            assert!((hs.get(c + 1, r) as f64 - lambert(0.3, -0.3)).abs() < 1e-3);
            assert!((hs.get(c - 1, r - 1) as f64 - lambert(0.3, -0.3)).abs() < 1e-3);
        }
        assert!(hs.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn colour_ramps_interpolate_between_stops() {
        let r = ColorRamp::new(vec![
            (0.0, [0, 0, 0]),
            (0.25, [100, 200, 50]),
            (1.0, [255, 255, 255]),
        ])
        .unwrap();
        assert_eq!(r.at(0.0), [0, 0, 0]);
        assert_eq!(r.at(1.0), [255, 255, 255]);
        assert_eq!(r.at(0.25), [100, 200, 50]);
        assert_eq!(r.at(0.125), [50, 100, 25]);
        assert_eq!(r.at(0.625), [178, 228, 153]);
        assert_eq!(r.at(-3.0), [0, 0, 0]);
        assert_eq!(r.at(7.0), [255, 255, 255]);
        assert_eq!(r.at(f32::NAN), [0, 0, 0]);
        assert_eq!(ColorRamp::time().at(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(ColorRamp::time().at(1.0), [0xfd, 0xe7, 0x25]);
        // Depth and speed darken with the value, time and sun brighten: ordered ramps.
        let luma = |c: [u8; 3]| 0.2126 * c[0] as f32 + 0.7152 * c[1] as f32 + 0.0722 * c[2] as f32;
        for (ramp, rising) in [
            (ColorRamp::depth(), false),
            (ColorRamp::speed(), false),
            (ColorRamp::time(), true),
            (ColorRamp::sun(), true),
        ] {
            let l: Vec<f32> = (0..=20).map(|k| luma(ramp.at(k as f32 / 20.0))).collect();
            assert!(l.windows(2).all(|w| (w[1] > w[0]) == rising), "{ramp:?}");
        }
        let depth = ColorRamp::depth();
        let (shallow, deep) = (depth.at(0.0), depth.at(1.0));
        assert!(shallow[2] > 240 && shallow[1] > 220 && deep[2] > deep[0] && deep[2] > deep[1]);
        for bad in [
            vec![(0.0, [0, 0, 0])],
            vec![(0.0, [0, 0, 0]), (0.9, [1, 1, 1])],
            vec![(0.1, [0, 0, 0]), (1.0, [1, 1, 1])],
            vec![
                (0.0, [0, 0, 0]),
                (0.6, [1, 1, 1]),
                (0.4, [2, 2, 2]),
                (1.0, [3, 3, 3]),
            ],
            vec![(0.0, [0, 0, 0]), (f32::NAN, [1, 1, 1]), (1.0, [3, 3, 3])],
        ] {
            assert!(ColorRamp::new(bad).is_err());
        }
    }

    #[test]
    fn values_below_the_threshold_and_nan_show_the_base() {
        let dem = valley(60, 40, 2.0);
        // Columns 0-19 too shallow, 20-39 NaN, 40-59 one metre deep.
        let depth = field(&dem, |c, _| match c {
            0..20 => 0.005,
            20..40 => f32::NAN,
            _ => 1.0,
        });
        let (base, lb) = Map::new(&dem).max_px(600).render().unwrap();
        let (wet, lw) = Map::new(&dem)
            .overlay(&depth, ramp(0.0, 2.0))
            .min_visible(0.01)
            .max_px(600)
            .render()
            .unwrap();
        assert_eq!(lb.map, lw.map);
        for (x, y) in pixels_within(&lw, &dem, 0..40, 0..40) {
            assert_eq!(pixel(&wet, x, y), pixel(&base, x, y));
        }
        let blue = ColorRamp::depth().at(0.5);
        for (x, y) in pixels_within(&lw, &dem, 40..60, 0..40) {
            assert_eq!(pixel(&wet, x, y), blue);
            assert_ne!(pixel(&base, x, y), blue);
        }
        // Without the threshold the shallow cells are coloured.
        let (all, la) = Map::new(&dem)
            .overlay(&depth, ramp(0.0, 2.0))
            .max_px(600)
            .render()
            .unwrap();
        for (x, y) in pixels_within(&la, &dem, 0..20, 0..40) {
            assert_eq!(pixel(&all, x, y), ColorRamp::depth().at(0.0025));
        }
    }

    #[test]
    fn hazard_classes_take_their_colours() {
        let c = Classes::uk_flood_hazard();
        let cases = [
            (-1.0, 0),
            (0.0, 0),
            (0.749, 0),
            (0.75, 1),
            (1.2, 1),
            (1.25, 2),
            (1.999, 2),
            (2.0, 3),
            (40.0, 3),
        ];
        for (v, k) in cases {
            assert_eq!(c.class_of(v), Some(k), "{v}");
        }
        assert_eq!(c.class_of(f32::NAN), None);
        let labels: Vec<&str> = c.classes.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(labels, ["Low", "Moderate", "Significant", "Extreme"]);
        assert_eq!(c.range_text(0, ""), "< 0.75");
        assert_eq!(c.range_text(1, ""), "0.75 – 1.25");
        assert_eq!(c.range_text(3, ""), "≥ 2");
        assert_eq!(c.range_text(2, "m"), "1.25 – 2 m");

        let dem = valley(80, 30, 2.0);
        let hazard = field(&dem, |col, _| [0.5, 1.0, 1.6, 3.0][col / 20]);
        let (img, l) = Map::new(&dem)
            .overlay(&hazard, Palette::Classes(c.clone()))
            .title("Flood hazard")
            .max_px(800)
            .render()
            .unwrap();
        for band in 0..4 {
            for (x, y) in pixels_within(&l, &dem, band * 20..band * 20 + 20, 0..30) {
                assert_eq!(pixel(&img, x, y), c.classes[band].1);
            }
        }
        // The legend shows every class swatch.
        let p = l.panel.unwrap();
        let legend = Rect {
            x: p.x,
            y: p.legend_y,
            w: CONTENT_W * p.u,
            h: 4 * CLASS_ROW * p.u,
        };
        for class in &c.classes {
            assert!(count(&img, legend, class.1) > 100, "{}", class.0);
        }
        let err = |b: Vec<f32>, n: usize| {
            Classes::new(b, (0..n).map(|i| (i.to_string(), [0, 0, 0])).collect()).is_err()
        };
        assert!(err(vec![1.0], 1));
        assert!(err(vec![], 0));
        assert!(err(vec![2.0, 1.0], 3));
        assert!(err(vec![f32::NAN], 2));
        assert!(!err(vec![1.0, 2.0], 3));
    }

    #[test]
    fn legend_text_is_drawn_in_the_panel_beside_the_map() {
        let dem = valley(100, 80, 2.0);
        let depth = field(&dem, |c, _| c as f32 / 40.0);
        let map = Map::new(&dem)
            .overlay(&depth, ramp(0.0, 2.0))
            .min_visible(0.01)
            .title("Max water depth")
            .unit("m")
            .subtitle("Storm tide, t = 6 h")
            .max_px(1600);
        let (img, l) = map.render().unwrap();
        let p = l.panel.as_ref().unwrap();
        assert_eq!(p.u, 3);
        assert!(p.x >= l.map.x + l.map.w + PAD * p.u);
        assert!(p.x + CONTENT_W * p.u <= img.w);
        let line = |y: usize| Rect {
            x: p.x,
            y,
            w: CONTENT_W * p.u,
            h: LINE * p.u,
        };
        assert!(count(&img, line(p.title_y), INK) > 500);
        assert!(count(&img, line(p.subtitle_y), MUTED) > 200);
        assert!(count(&img, line(p.note_y), MUTED) > 100);
        assert!(count(&img, line(p.crs_y), MUTED) > 100);
        // Tick labels right of the colour bar.
        let labels = Rect {
            x: p.x + (BAR_W + 8) * p.u,
            y: p.legend_y,
            w: 40 * p.u,
            h: (BAR_H + 12) * p.u,
        };
        assert!(count(&img, labels, INK) > 300);
        // The colour bar runs from the maximum at the top to the minimum at the bottom.
        let bx = p.x + thin(p.u) + BAR_W * p.u / 2;
        let top = pixel(&img, bx, p.legend_y + 6 * p.u);
        let bottom = pixel(&img, bx, p.legend_y + (6 + BAR_H) * p.u - 1);
        assert_eq!(top, ColorRamp::depth().at(1.0 - 0.5 / (BAR_H * p.u) as f32));
        assert_eq!(bottom, ColorRamp::depth().at(0.5 / (BAR_H * p.u) as f32));
        // Nothing of the legend is drawn on the map.
        assert_eq!(count(&img, l.map, INK), 0);
        assert_eq!(count(&img, l.map, MUTED), 0);
        // The title, with its unit, fits one line and is the text drawn there.
        assert_eq!(map.panel_texts().title, ["Max water depth (m)"]);
        let mut alone = Canvas::new(img.w, img.h);
        alone.text(p.x, p.title_y, p.u, true, INK, "Max water depth (m)");
        let title = line(p.title_y);
        assert_eq!(count(&alone, title, INK), count(&img, title, INK));
    }

    #[test]
    fn scale_bar_length_matches_its_metres() {
        for (w, h, cell, px, expect) in [
            (500, 400, 2.0, 1600, 200.0),
            (200, 200, 1.0, 800, 50.0),
            (3000, 900, 5.0, 1200, 2000.0),
            (60, 50, 0.5, 400, 10.0),
        ] {
            let dem = valley(w, h, cell);
            let (img, l) = Map::new(&dem).max_px(px).render().unwrap();
            let p = l.panel.unwrap();
            let b = &p.bar;
            assert_eq!(b.metres, expect, "{w}x{h} at {cell} m, {px} px");
            let m_per_px = w as f64 * cell / l.map.w as f64;
            let y = b.y + BAR_THICK * p.u / 2;
            let dark: Vec<usize> = (p.x..img.w).filter(|&x| pixel(&img, x, y) == INK).collect();
            let measured = dark.last().unwrap() - dark.first().unwrap() + 1;
            assert!(
                (measured as f64 - b.metres / m_per_px).abs() <= 1.0,
                "{measured} px for {} m at {m_per_px} m/px",
                b.metres
            );
            // Half dark, half white.
            assert!(dark.len() < measured * 2 / 3);
            assert!(measured <= CONTENT_W * p.u);
        }
    }

    #[test]
    fn image_size_follows_max_px() {
        // A small grid is enlarged to fill the size.
        let small = valley(200, 200, 1.0);
        let (img, l) = Map::new(&small).max_px(1600).render().unwrap();
        assert_eq!(img.w.max(img.h), 1600);
        assert_eq!((l.width, l.height), (img.w, img.h));
        assert!(l.map.w >= 1000 && l.map.w == l.map.h);
        // A large one is reduced; pixels stay square in metres.
        let big = valley(1200, 300, 2.0);
        let (img, l) = Map::new(&big).max_px(500).render().unwrap();
        assert_eq!(img.w, 500);
        assert!(img.h < 500 && l.map.w < 1200);
        assert!((l.map.w as f64 / l.map.h as f64 - 4.0).abs() < 4.0 / l.map.h as f64);
        // Tall maps are limited by their height.
        let tall = valley(100, 500, 2.0);
        let (img, l) = Map::new(&tall).max_px(900).render().unwrap();
        assert_eq!(img.h, 900);
        assert!(img.w < 900 && l.map.h > 800);
        // Too small for a legend: the map alone.
        let (img, l) = Map::new(&small).max_px(64).render().unwrap();
        assert!(l.panel.is_none());
        assert_eq!((img.w, img.h), (64, 64));
        assert_eq!(
            l.map,
            Rect {
                x: 0,
                y: 0,
                w: 64,
                h: 64
            }
        );
        // The PNG has the canvas size, 8-bit RGB.
        let bytes = Map::new(&big).max_px(500).to_png().unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = dec.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (500, img_h(&big, 500)));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
    }

    fn img_h(dem: &Raster<f32>, px: u32) -> u32 {
        Map::new(dem).max_px(px).render().unwrap().0.h as u32
    }

    #[test]
    fn same_input_gives_same_bytes_for_any_thread_count() {
        let dem = valley(300, 200, 2.0);
        let depth = field(&dem, |c, r| {
            ((c as f32 - 150.0).abs() * -0.02 + 1.5 + r as f32 * 0.001).max(0.0)
        });
        let mut mask = Raster::filled(dem.spec, 0u8, None);
        for r in 20..40 {
            for c in 10..30 {
                mask.set(c, r, 1);
            }
        }
        let map = Map::new(&dem)
            .buildings(&mask)
            .overlay(&depth, ramp(0.0, 2.0))
            .min_visible(0.01)
            .title("Max water depth")
            .unit("m")
            .max_px(700);
        let a = map.to_png().unwrap();
        assert_eq!(a, map.to_png().unwrap());
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(
                a,
                pool.install(|| map.to_png().unwrap()),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn buildings_and_overlays_on_other_grids_are_sampled_nearest() {
        let dem = valley(90, 60, 2.0);
        // A coarser overlay with its own origin, partly outside the DEM.
        let coarse = GridSpec {
            origin_x: dem.spec.origin_x - 7.0,
            origin_y: dem.spec.origin_y + 5.0,
            cell_x: 6.0,
            cell_y: 6.0,
            width: 25,
            height: 12,
            epsg: Some(25832),
        };
        let data = (0..coarse.len()).map(|i| (i % 7) as f32 * 0.3).collect();
        let values = Raster::from_vec(coarse, data, None).unwrap();
        let on_base = values.resample(dem.spec, Resampling::Nearest).unwrap();
        let map = |v: &Raster<f32>| {
            Map::new(&dem)
                .overlay(v, ramp(0.0, 2.0))
                .min_visible(0.1)
                .max_px(500)
                .to_png()
                .unwrap()
        };
        assert_eq!(map(&values), map(&on_base));
        // Buildings: grey with a darker outline, under the overlay.
        let mut mask = Raster::filled(dem.spec, 0u8, None);
        for r in 10..30 {
            for c in 10..40 {
                mask.set(c, r, 1);
            }
        }
        let (img, l) = Map::new(&dem)
            .buildings(&mask)
            .max_px(500)
            .render()
            .unwrap();
        for (x, y) in pixels_within(&l, &dem, 11..39, 11..29) {
            assert_eq!(pixel(&img, x, y), BUILDING);
        }
        for (x, y) in pixels_within(&l, &dem, 10..11, 10..30) {
            assert_eq!(pixel(&img, x, y), BUILDING_EDGE);
        }
        let wet = field(&dem, |_, _| 1.0);
        let (img, l) = Map::new(&dem)
            .buildings(&mask)
            .overlay(&wet, ramp(0.0, 2.0))
            .max_px(500)
            .render()
            .unwrap();
        for (x, y) in pixels_within(&l, &dem, 10..40, 10..30) {
            assert_eq!(pixel(&img, x, y), ColorRamp::depth().at(0.5));
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        let dem = valley(30, 20, 2.0);
        let ok = |m: Map| m.to_png().is_ok();
        assert!(!ok(Map::new(&dem).max_px(63)));
        assert!(!ok(Map::new(&dem).max_px(16385)));
        assert!(ok(Map::new(&dem).max_px(64)));
        let empty = Raster::<f32> {
            spec: spec(0, 0, 2.0),
            nodata: None,
            data: Vec::new(),
        };
        assert!(hillshade(&empty).is_err());
        assert!(!ok(Map::new(&empty)));
        let short = Raster::<f32> {
            spec: spec(4, 4, 2.0),
            nodata: None,
            data: vec![0.0; 3],
        };
        assert!(hillshade(&short).is_err());
        assert!(!ok(Map::new(&dem).overlay(&short, ramp(0.0, 1.0))));
        let flat_cells = Raster::filled(spec(4, 4, 0.0), 0f32, None);
        assert!(hillshade(&flat_cells).is_err());
        let other_crs = Raster::filled(
            GridSpec {
                epsg: Some(25833),
                ..dem.spec
            },
            1f32,
            None,
        );
        assert!(!ok(Map::new(&dem).overlay(&other_crs, ramp(0.0, 1.0))));
        let far = Raster::filled(
            GridSpec {
                origin_x: dem.spec.origin_x + 1000.0,
                ..dem.spec
            },
            1f32,
            None,
        );
        assert!(!ok(Map::new(&dem).overlay(&far, ramp(0.0, 1.0))));
        let far_mask = far.map(None, |_| 1u8);
        assert!(!ok(Map::new(&dem).buildings(&far_mask)));
        let values = field(&dem, |_, _| 1.0);
        for (min, max) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (f32::NAN, 1.0),
            (0.0, f32::INFINITY),
        ] {
            assert!(
                !ok(Map::new(&dem).overlay(&values, ramp(min, max))),
                "{min} {max}"
            );
        }
        assert!(!ok(Map::new(&dem)
            .overlay(&values, ramp(0.0, 1.0))
            .min_visible(f32::NAN)));
        let dir = tempfile::tempdir().unwrap();
        let e = Map::new(&dem).write_png(&dir.path().join("missing/map.png"));
        assert!(matches!(e, Err(Error::Io { .. })));
    }

    #[test]
    fn write_png_writes_the_bytes_atomically() {
        let dem = valley(30, 20, 2.0);
        let map = Map::new(&dem).title("Terrain").max_px(400);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terrain.png");
        std::fs::write(&path, b"old").unwrap();
        map.write_png(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), map.to_png().unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn ticks_and_scale_lengths_are_round() {
        let labels =
            |a: f64, b: f64| -> Vec<String> { ticks(a, b).into_iter().map(|t| t.label).collect() };
        assert_eq!(labels(0.0, 2.0), ["0", "0.5", "1", "1.5", "2"]);
        assert_eq!(labels(0.0, 2.5), ["0", "0.5", "1", "1.5", "2", "2.5"]);
        assert_eq!(labels(0.0, 360.0), ["0", "100", "200", "300"]);
        assert_eq!(labels(0.0, 12.0), ["0", "2", "4", "6", "8", "10", "12"]);
        assert_eq!(labels(-1.0, 1.0), ["-1", "-0.5", "0", "0.5", "1"]);
        assert_eq!(labels(0.01, 0.05), ["0.01", "0.02", "0.03", "0.04", "0.05"]);
        assert_eq!(labels(0.3, 0.7), ["0.3", "0.4", "0.5", "0.6", "0.7"]);
        assert_eq!(labels(1200.0, 1800.0), ["1200", "1400", "1600", "1800"]);
        assert_eq!(scale_bar_metres(380.0), 200.0);
        assert_eq!(scale_bar_metres(999.0), 500.0);
        assert_eq!(scale_bar_metres(1000.0), 1000.0);
        assert_eq!(scale_bar_metres(0.7), 0.5);
        assert_eq!(metres_label(500.0), "500 m");
        assert_eq!(metres_label(1000.0), "1 km");
        assert_eq!(metres_label(20000.0), "20 km");
        assert_eq!(metres_label(0.5), "0.5 m");
    }

    #[test]
    fn long_texts_wrap_to_the_panel_width() {
        let lines = wrap("Maximum water depth after the storm tide of 2013 (m)", true);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| font::text_width(l, true) <= CONTENT_W));
        assert_eq!(
            lines.join(" "),
            "Maximum water depth after the storm tide of 2013 (m)"
        );
        let long = "Donaudampfschifffahrtsgesellschaftskapitänsmützenträger";
        let parts = wrap(long, false);
        assert!(parts.len() > 1 && parts.concat() == long);
        assert_eq!(wrap("a\n\nb", false), ["a", "b"]);
        assert!(wrap("  ", false).is_empty());
    }
}
