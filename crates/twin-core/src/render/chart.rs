//! Line charts as PNG for results a person would rather see than read: the share of people
//! evacuated over time, gauge water levels over time. Axes with round ticks and labels, light
//! gridlines, a title and subtitle, a legend, anti-aliased solid or dashed lines, vertical
//! markers (for example `T90 = 2 h 10 min`) and horizontal reference lines (`90 %`).
//!
//! ```no_run
//! use twin_core::render::chart::{COLOURS, LineChart, Series};
//! # fn example(curve: Vec<(f64, f64)>) -> twin_core::Result<()> {
//! LineChart::new("Evacuation progress")
//!     .subtitle("Storm tide 2013, 12 400 residents")
//!     .x_label("Time since warning (h:mm)")
//!     .y_label("Evacuated (%)")
//!     .x_time_s(true)
//!     .series(Series::new("Evacuated", curve, COLOURS[0]))
//!     .hline(90.0, "90 %")
//!     .marker(7800.0, "T90 = 2 h 10 min")
//!     .write_png(std::path::Path::new("evacuation.png"))
//! # }
//! ```
//!
//! Points are joined in the order given. Non-finite points (NaN, infinite) are skipped and
//! break the line there, so a gap in a gauge record stays a gap; a series with no finite
//! point at all is an error. A point standing alone between gaps is drawn as a dot.
//!
//! Without explicit ranges the axes cover all finite points, markers and reference lines,
//! widened to the next round tick; a range of one value (a constant series) is padded by 10 %
//! of the value (or by 1 around zero). Values outside explicit ranges are clipped at the plot
//! edge; markers and reference lines outside them are left out.
//!
//! Rendering is deterministic: the same chart gives the same bytes.

use super::{Canvas, FRAME, INK, MUTED, PX_RANGE, Rect, Tick, WHITE, encode_png, font, ticks};
use crate::error::{Error, Result};
use std::path::Path;

/// Distinct series colours (Okabe–Ito, readable with the common colour-vision deficiencies):
/// blue, vermilion, bluish green, reddish purple, orange, sky blue.
pub const COLOURS: [[u8; 3]; 6] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
];

/// Gridlines.
const GRID: [u8; 3] = [228, 228, 228];
/// Marker and reference lines.
const GUIDE: [u8; 3] = [120, 120, 120];
/// Legend box outline.
const LEGEND_EDGE: [u8; 3] = [200, 200, 200];
/// Length of a legend entry's line sample and the pitch of legend rows, in font pixels.
const SAMPLE: usize = 24;
const LEGEND_ROW: usize = 14;
/// Default image size.
const DEFAULT_SIZE: (u32, u32) = (1200, 750);

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text; a series with an empty label is left out of the legend.
    pub label: String,
    /// `(x, y)` points, joined in this order; non-finite points break the line.
    pub points: Vec<(f64, f64)>,
    /// sRGB colour of the line.
    pub colour: [u8; 3],
    /// Draw dashed instead of solid.
    pub dashed: bool,
}

impl Series {
    /// A solid line through `points`.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>, colour: [u8; 3]) -> Self {
        Series {
            label: label.into(),
            points,
            colour,
            dashed: false,
        }
    }

    /// Draw the line dashed (or solid again with `false`).
    pub fn dashed(mut self, dashed: bool) -> Self {
        self.dashed = dashed;
        self
    }
}

/// A vertical dashed line at `x` with its label above the plot, for example
/// `T90 = 2 h 10 min`. Labels of markers close together are stacked.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Position on the x axis (seconds with [`LineChart::x_time_s`]).
    pub x: f64,
    /// Text above the plot; may be empty.
    pub label: String,
}

/// A horizontal dashed reference line at `y` with its label right of the plot, for example
/// `90 %`.
#[derive(Debug, Clone, PartialEq)]
pub struct HLine {
    /// Position on the y axis.
    pub y: f64,
    /// Text right of the plot; may be empty.
    pub label: String,
}

/// Where the legend goes. It lists the series with a non-empty label; there is none when no
/// series has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendPosition {
    /// A box in a corner of the plot where no series is drawn, the one hiding the least of
    /// the marker and reference lines (ties: top right, top left, bottom right, bottom left);
    /// above the plot when series run through every corner.
    #[default]
    Auto,
    /// A box in this corner of the plot, even over data (above the plot when too big).
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
    /// Entries in a row above the plot (more rows when they do not fit one).
    Above,
    /// No legend.
    Hidden,
}

/// A line chart to render. Build it with [`LineChart::new`] and the setters (or set the
/// fields), then call [`LineChart::to_png`] or [`LineChart::write_png`].
///
/// Text is drawn with the renderer's bitmap font at a scale that follows the image size (2 at
/// the default 1200 x 750 px). When the image is too small for legible axes (below about
/// 200 x 150 px) only the plot with its lines is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Heading, drawn large at the top left; may be empty.
    pub title: String,
    /// Lines under the title (`\n` starts a new line); may be empty.
    pub subtitle: String,
    /// Text under the x axis, for example `Time since warning (h:mm)`.
    pub x_label: String,
    /// Text beside the y axis (drawn upwards), for example `Evacuated (%)`.
    pub y_label: String,
    /// The lines, drawn in this order (later ones on top).
    pub series: Vec<Series>,
    /// Vertical marker lines.
    pub markers: Vec<Marker>,
    /// Horizontal reference lines.
    pub hlines: Vec<HLine>,
    /// The x axis from `.0` to `.1`; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// The y axis from `.0` to `.1`; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// The x values are times in seconds, labelled `h:mm` (`h:mm:ss` for steps under a
    /// minute) at round steps (1, 2, 5, 10, 15, 30 s or min, 1, 2, 3, 4, 6, 12 h, days).
    pub x_time_s: bool,
    /// Where the legend goes.
    pub legend: LegendPosition,
    /// Image width in pixels, 64..=16384 (default 1200).
    pub width_px: u32,
    /// Image height in pixels, 64..=16384 (default 750).
    pub height_px: u32,
}

impl LineChart {
    /// An empty chart with a title, 1200 x 750 px; add at least one series.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            subtitle: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            markers: Vec::new(),
            hlines: Vec::new(),
            x_range: None,
            y_range: None,
            x_time_s: false,
            legend: LegendPosition::Auto,
            width_px: DEFAULT_SIZE.0,
            height_px: DEFAULT_SIZE.1,
        }
    }

    /// Lines under the title (`\n` starts a new line).
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = subtitle.into();
        self
    }

    /// The x axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The y axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Add a series.
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Add a vertical marker at `x`.
    pub fn marker(mut self, x: f64, label: impl Into<String>) -> Self {
        self.markers.push(Marker {
            x,
            label: label.into(),
        });
        self
    }

    /// Add a horizontal reference line at `y`.
    pub fn hline(mut self, y: f64, label: impl Into<String>) -> Self {
        self.hlines.push(HLine {
            y,
            label: label.into(),
        });
        self
    }

    /// Fix the x axis to `min..max` (finite, `min < max`).
    pub fn x_range(mut self, min: f64, max: f64) -> Self {
        self.x_range = Some((min, max));
        self
    }

    /// Fix the y axis to `min..max` (finite, `min < max`).
    pub fn y_range(mut self, min: f64, max: f64) -> Self {
        self.y_range = Some((min, max));
        self
    }

    /// Treat x values as seconds and label them as hours and minutes.
    pub fn x_time_s(mut self, on: bool) -> Self {
        self.x_time_s = on;
        self
    }

    /// Where the legend goes (default [`LegendPosition::Auto`]).
    pub fn legend(mut self, position: LegendPosition) -> Self {
        self.legend = position;
        self
    }

    /// Image size in pixels, each side 64..=16384.
    pub fn size(mut self, width_px: u32, height_px: u32) -> Self {
        self.width_px = width_px;
        self.height_px = height_px;
        self
    }

    /// Render and encode as an 8-bit RGB PNG.
    ///
    /// Errors ([`Error::Invalid`]): a size outside 64..=16384, no series, a series without
    /// finite points, a non-finite marker or reference line, an explicit range that is not
    /// finite with `min < max`, data spanning more than an `f64` can hold.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let (canvas, _) = self.render()?;
        encode_png(&canvas)
    }

    /// Render and write an 8-bit RGB PNG atomically (temporary file, then rename).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let bytes = self.to_png()?;
        crate::fsio::write_atomic(path, &bytes)
    }

    /// Check the inputs, lay out and draw the chart; also says where the plot went.
    fn render(&self) -> Result<(Canvas, Frame)> {
        for (what, v) in [("width", self.width_px), ("height", self.height_px)] {
            if !PX_RANGE.contains(&v) {
                return Err(Error::Invalid(format!(
                    "chart {what} must be {}..={} px, got {v}",
                    PX_RANGE.start(),
                    PX_RANGE.end()
                )));
            }
        }
        if self.series.is_empty() {
            return Err(Error::Invalid("line chart has no series".into()));
        }
        for (i, s) in self.series.iter().enumerate() {
            if !s.points.iter().any(|p| p.0.is_finite() && p.1.is_finite()) {
                return Err(Error::Invalid(format!(
                    "series {i} ({:?}) has no finite points",
                    s.label
                )));
            }
        }
        if let Some(m) = self.markers.iter().find(|m| !m.x.is_finite()) {
            return Err(Error::Invalid(format!(
                "marker {:?} is at x = {}",
                m.label, m.x
            )));
        }
        if let Some(h) = self.hlines.iter().find(|h| !h.y.is_finite()) {
            return Err(Error::Invalid(format!(
                "reference line {:?} is at y = {}",
                h.label, h.y
            )));
        }
        let finite = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(|p| p.0.is_finite() && p.1.is_finite())
        };
        let x_tick_fn: fn(f64, f64) -> Vec<Tick> = if self.x_time_s { time_ticks } else { ticks };
        let (x0, x1) = axis_range(
            "x",
            self.x_range,
            finite()
                .map(|p| p.0)
                .chain(self.markers.iter().map(|m| m.x)),
            x_tick_fn,
        )?;
        let (y0, y1) = axis_range(
            "y",
            self.y_range,
            finite().map(|p| p.1).chain(self.hlines.iter().map(|h| h.y)),
            ticks,
        )?;
        let frame = || Frame {
            x: (x0, x1),
            y: (y0, y1),
            x_ticks: x_tick_fn(x0, x1),
            y_ticks: ticks(y0, y1),
            markers: self
                .markers
                .iter()
                .filter(|m| (x0..=x1).contains(&m.x))
                .cloned()
                .collect(),
            hlines: self
                .hlines
                .iter()
                .filter(|h| (y0..=y1).contains(&h.y))
                .cloned()
                .collect(),
            plot: Rect {
                x: 0,
                y: 0,
                w: 0,
                h: 0,
            },
            u: 1,
            bare: true,
        };
        let (w, h) = (self.width_px as usize, self.height_px as usize);
        let above = self.legend == LegendPosition::Above;
        let (f, t) = self.layout(frame(), w, h, above);
        let mut cv = Canvas::new(w, h);
        self.draw(&mut cv, &f, &t);
        if f.bare || above || self.legend == LegendPosition::Hidden || self.legend_entries() == 0 {
            return Ok((cv, f));
        }
        if let Some(b) = self.legend_box(&cv, &f) {
            self.draw_legend_box(&mut cv, &f, b);
            return Ok((cv, f));
        }
        // No room inside: lay out again with the legend above the plot.
        let (f, t) = self.layout(frame(), w, h, true);
        let mut cv = Canvas::new(w, h);
        self.draw(&mut cv, &f, &t);
        Ok((cv, f))
    }

    /// The series listed in the legend.
    fn legend_entries(&self) -> usize {
        self.series
            .iter()
            .filter(|s| !s.label.trim().is_empty())
            .count()
    }

    /// Choose the font scale and the plot rectangle: the largest scale up to the one the
    /// size suggests at which the plot keeps at least 60 x 40 font pixels; else a bare plot.
    /// With `legend_above` the legend's rows go between the subtitle and the marker labels.
    fn layout(&self, mut f: Frame, w: usize, h: usize, legend_above: bool) -> (Frame, Texts) {
        let start = ((w.min(h * 8 / 5) as f64 / 520.0).round() as usize).max(1);
        let subtitle: Vec<String> = self
            .subtitle
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        let y_tick_w = f
            .y_ticks
            .iter()
            .map(|t| font::text_width(&t.label, false))
            .max()
            .unwrap_or(0);
        let last_x_tick_w = f
            .x_ticks
            .last()
            .map_or(0, |t| font::text_width(&t.label, false));
        let hline_w = f
            .hlines
            .iter()
            .map(|l| font::text_width(l.label.trim(), false))
            .max()
            .unwrap_or(0);
        for u in (1..=start).rev() {
            let tu = (3 * u).div_ceil(2);
            let pad = 10 * u;
            let left =
                pad + if self.y_label.trim().is_empty() {
                    0
                } else {
                    (font::HEIGHT + 6) * u
                } + (y_tick_w + 3 + 4) * u
                    + super::thin(u);
            let right = pad
                + if hline_w > 0 {
                    (hline_w + 6) * u
                } else {
                    (last_x_tick_w * u / 2).saturating_sub(pad)
                };
            let Some(pw) = w.checked_sub(left + right) else {
                continue;
            };
            let plot_x = left;
            // Marker labels above the plot, stacked where they would overlap.
            let levels = marker_levels(&f.markers, plot_x, pw, f.x, u, w - pad / 2);
            let rows = levels.iter().map(|l| l.1 + 1).max().unwrap_or(0);
            let mut top = pad;
            let title_y = top;
            if !self.title.trim().is_empty() {
                top += font::HEIGHT * tu + 3 * u;
            }
            let subtitle_y = top;
            top += subtitle.len() * 12 * u;
            top += 8 * u;
            let legend_y = top;
            let legend_rows = if legend_above {
                self.legend_rows(u, pw)
            } else {
                Vec::new()
            };
            if !legend_rows.is_empty() {
                top += legend_rows.len() * LEGEND_ROW * u + 4 * u;
            }
            let marker_y = top + rows * 12 * u;
            if rows > 0 {
                top += rows * 12 * u + 3 * u;
            }
            let bottom = pad
                + super::thin(u)
                + (4 + 3 + font::HEIGHT) * u
                + if self.x_label.trim().is_empty() {
                    0
                } else {
                    (4 + font::HEIGHT) * u
                };
            let Some(ph) = h.checked_sub(top + bottom) else {
                continue;
            };
            if pw < 60 * u || ph < 40 * u {
                continue;
            }
            f.plot = Rect {
                x: plot_x,
                y: top,
                w: pw,
                h: ph,
            };
            f.u = u;
            f.bare = false;
            let texts = Texts {
                tu,
                title_y,
                subtitle,
                subtitle_y,
                marker_levels: levels,
                marker_y,
                x_label_y: h - pad - font::HEIGHT * u,
                y_label_x: pad,
                legend_y,
                legend_rows,
            };
            return (f, texts);
        }
        let m = 4;
        f.plot = Rect {
            x: m,
            y: m,
            w: w - 2 * m,
            h: h - 2 * m,
        };
        f.markers.iter_mut().for_each(|m| m.label.clear());
        (
            f,
            Texts {
                tu: 1,
                title_y: 0,
                subtitle: Vec::new(),
                subtitle_y: 0,
                marker_levels: Vec::new(),
                marker_y: 0,
                x_label_y: 0,
                y_label_x: 0,
                legend_y: 0,
                legend_rows: Vec::new(),
            },
        )
    }

    fn draw(&self, cv: &mut Canvas, f: &Frame, t: &Texts) {
        let u = f.u;
        let lw = super::thin(u);
        let p = f.plot;
        // Gridlines, then the axes just outside the plot's left and bottom edges.
        for tick in &f.y_ticks {
            let y = f.row(tick.value);
            cv.fill(
                Rect {
                    y: y.saturating_sub(lw / 2),
                    h: lw,
                    ..p
                },
                GRID,
            );
        }
        for tick in &f.x_ticks {
            let x = f.col(tick.value);
            cv.fill(
                Rect {
                    x: x.saturating_sub(lw / 2),
                    w: lw,
                    ..p
                },
                GRID,
            );
        }
        // Reference lines and markers, under the data.
        let dash = (6 * u, 4 * u);
        for l in &f.hlines {
            let y = f.row(l.y).saturating_sub(lw / 2);
            let mut x = p.x;
            while x < p.x + p.w {
                let len = dash.0.min(p.x + p.w - x);
                cv.fill(
                    Rect {
                        x,
                        y,
                        w: len,
                        h: lw,
                    },
                    GUIDE,
                );
                x += dash.0 + dash.1;
            }
        }
        for m in &f.markers {
            let x = f.col(m.x).saturating_sub(lw / 2);
            let mut y = p.y + p.h;
            while y > p.y {
                let len = dash.0.min(y - p.y);
                cv.fill(
                    Rect {
                        x,
                        y: y - len,
                        w: lw,
                        h: len,
                    },
                    GUIDE,
                );
                y = y.saturating_sub(dash.0 + dash.1);
            }
        }
        // The series, clipped a line width beyond the plot so lines along its edges stay whole.
        let line_w = f.line_w();
        let grow = line_w.ceil() as usize + 1;
        let clip = Rect {
            x: p.x.saturating_sub(grow),
            y: p.y.saturating_sub(grow),
            w: (p.w + 2 * grow).min(cv.w),
            h: (p.h + 2 * grow).min(cv.h),
        };
        for s in &self.series {
            // Far-off points are pulled in to keep the arithmetic finite.
            let lines = polylines(&s.points, |x, y| {
                (f.fx(x).clamp(-1e12, 1e12), f.fy(y).clamp(-1e12, 1e12))
            });
            stroke(cv, clip, &lines, s.colour, line_w, s.dashed);
        }
        // Axes over the data's clipped ends.
        cv.fill(
            Rect {
                x: p.x - lw.min(p.x),
                y: p.y,
                w: lw,
                h: p.h + lw,
            },
            FRAME,
        );
        cv.fill(
            Rect {
                x: p.x - lw.min(p.x),
                y: p.y + p.h,
                w: p.w + lw,
                h: lw,
            },
            FRAME,
        );
        if f.bare {
            return;
        }
        // Ticks and their labels.
        let tick_len = 4 * u;
        for tick in &f.y_ticks {
            let y = f.row(tick.value);
            let x = p.x - lw - tick_len;
            cv.fill(
                Rect {
                    x,
                    y: y.saturating_sub(lw / 2),
                    w: tick_len,
                    h: lw,
                },
                FRAME,
            );
            let tw = font::text_width(&tick.label, false) * u;
            cv.text(
                x.saturating_sub(3 * u + tw),
                label_top(y, u),
                u,
                false,
                INK,
                &tick.label,
            );
        }
        let below = p.y + p.h + lw;
        for tick in &f.x_ticks {
            let x = f.col(tick.value);
            cv.fill(
                Rect {
                    x: x.saturating_sub(lw / 2),
                    y: below,
                    w: lw,
                    h: tick_len,
                },
                FRAME,
            );
            let tw = font::text_width(&tick.label, false) * u;
            let lx = x.saturating_sub(tw / 2).min(cv.w.saturating_sub(tw));
            cv.text(lx, below + tick_len + 3 * u, u, false, INK, &tick.label);
        }
        // Labels of the reference lines right of the plot, of the markers above it.
        for l in &f.hlines {
            let y = f.row(l.y);
            cv.text(
                p.x + p.w + 6 * u,
                label_top(y, u),
                u,
                false,
                INK,
                l.label.trim(),
            );
        }
        for &(lx, level, ref label) in &t.marker_levels {
            let y = t.marker_y - (level + 1) * 12 * u;
            cv.text(lx, y, u, false, INK, label);
        }
        // Title, subtitle, axis labels.
        if !self.title.trim().is_empty() {
            let x = t.y_label_x;
            cv.text(x, t.title_y, t.tu, true, INK, self.title.trim());
        }
        for (k, line) in t.subtitle.iter().enumerate() {
            cv.text(
                t.y_label_x,
                t.subtitle_y + k * 12 * u,
                u,
                false,
                MUTED,
                line,
            );
        }
        let xl = self.x_label.trim();
        if !xl.is_empty() {
            let tw = font::text_width(xl, false) * u;
            let x = (p.x + p.w / 2).saturating_sub(tw / 2);
            cv.text(x, t.x_label_y, u, false, INK, xl);
        }
        let yl = self.y_label.trim();
        if !yl.is_empty() {
            let tw = font::text_width(yl, false) * u;
            let bottom = (p.y + p.h / 2 + tw / 2).min(p.y + p.h).max(tw);
            text_up(cv, t.y_label_x, bottom, u, INK, yl);
        }
        // The legend above the plot, if laid out there.
        let image = Rect {
            x: 0,
            y: 0,
            w: cv.w,
            h: cv.h,
        };
        for (r, row) in t.legend_rows.iter().enumerate() {
            for &(x, i) in row {
                let ty = t.legend_y + r * LEGEND_ROW * u;
                self.legend_entry(cv, f, p.x + x, ty, i, image);
            }
        }
    }

    /// Entries of the legend above a plot `pw` pixels wide, packed into rows: per row the
    /// entries' x offsets from the plot's left edge and series indices.
    fn legend_rows(&self, u: usize, pw: usize) -> Vec<Vec<(usize, usize)>> {
        let mut rows: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut x = 0;
        for (i, s) in self.series.iter().enumerate() {
            let label = s.label.trim();
            if label.is_empty() {
                continue;
            }
            let ew = (SAMPLE + 6 + font::text_width(label, false)) * u;
            if rows.is_empty() || (x > 0 && x + ew > pw) {
                rows.push(Vec::new());
                x = 0;
            }
            if let Some(row) = rows.last_mut() {
                row.push((x, i));
            }
            x += ew + 18 * u;
        }
        rows
    }

    /// Size of the legend box.
    fn legend_size(&self, u: usize) -> (usize, usize) {
        let text_w = self
            .series
            .iter()
            .map(|s| font::text_width(s.label.trim(), false))
            .max()
            .unwrap_or(0);
        (
            (6 + SAMPLE + 6 + text_w + 7) * u,
            (5 + self.legend_entries() * LEGEND_ROW + 2) * u,
        )
    }

    /// Where the legend box goes inside the plot; `None` when it does not fit, or, placed
    /// automatically, when series run through every corner.
    fn legend_box(&self, cv: &Canvas, f: &Frame) -> Option<Rect> {
        let (u, p) = (f.u, f.plot);
        let (bw, bh) = self.legend_size(u);
        let inset = 8 * u;
        if bw + 2 * inset > p.w || bh + 2 * inset > p.h {
            return None;
        }
        let at = |pos: LegendPosition| {
            let left = p.x + inset;
            let right = p.x + p.w - inset - bw;
            let top = p.y + inset;
            let bottom = p.y + p.h - inset - bh;
            let (x, y) = match pos {
                LegendPosition::TopLeft => (left, top),
                LegendPosition::BottomLeft => (left, bottom),
                LegendPosition::BottomRight => (right, bottom),
                _ => (right, top),
            };
            Rect { x, y, w: bw, h: bh }
        };
        match self.legend {
            LegendPosition::Auto => [
                LegendPosition::TopRight,
                LegendPosition::TopLeft,
                LegendPosition::BottomRight,
                LegendPosition::BottomLeft,
            ]
            .into_iter()
            .map(|pos| (at(pos), ink(cv, at(pos))))
            .filter(|(_, (series, _))| *series == 0)
            .min_by_key(|(_, (_, guides))| *guides)
            .map(|(r, _)| r),
            pos => Some(at(pos)),
        }
    }

    /// The legend box at `b`, listing the labelled series.
    fn draw_legend_box(&self, cv: &mut Canvas, f: &Frame, b: Rect) {
        let u = f.u;
        cv.fill(b, WHITE);
        cv.frame(b, super::thin(u), LEGEND_EDGE);
        let labelled = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.label.trim().is_empty());
        for (k, (i, _)) in labelled.enumerate() {
            let ty = b.y + 5 * u + k * LEGEND_ROW * u;
            self.legend_entry(cv, f, b.x + 6 * u, ty, i, b);
        }
    }

    /// One legend entry: a sample of series `i`'s line and its label, the text's top at `ty`.
    fn legend_entry(&self, cv: &mut Canvas, f: &Frame, x: usize, ty: usize, i: usize, clip: Rect) {
        let (u, s) = (f.u, &self.series[i]);
        let cy = ty as f64 + 5.5 * u as f64;
        let line = vec![(x as f64, cy), ((x + SAMPLE * u) as f64, cy)];
        stroke(cv, clip, &[line], s.colour, f.line_w(), s.dashed);
        cv.text(x + (SAMPLE + 6) * u, ty, u, false, INK, s.label.trim());
    }
}

/// A short label for a duration in seconds: `45 s`, `12 min`, `2 h`, `2 h 10 min`, `3 d 4 h`
/// (rounded to whole seconds under a minute, to whole minutes under a day, else to hours).
pub fn duration_label(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format!("{seconds} s");
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let s = seconds.abs();
    let body = if s.round() < 60.0 {
        format!("{} s", s.round())
    } else if (s / 60.0).round() < 24.0 * 60.0 {
        let m = (s / 60.0).round() as u64;
        match (m / 60, m % 60) {
            (0, m) => format!("{m} min"),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        }
    } else {
        let hours = (s / 3600.0).round();
        let (d, h) = ((hours / 24.0).floor(), hours % 24.0);
        if h == 0.0 {
            format!("{d} d")
        } else {
            format!("{d} d {h} h")
        }
    };
    format!("{sign}{body}")
}

/// The data-to-pixel mapping and what is drawn on the axes.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    /// Markers and reference lines inside the ranges.
    markers: Vec<Marker>,
    hlines: Vec<HLine>,
    /// The plot area; the axis minimum is at the centre of its first column (bottom row),
    /// the maximum at the centre of its last column (top row).
    plot: Rect,
    /// Font scale.
    u: usize,
    /// Too small for texts: only the plot is drawn.
    bare: bool,
}

impl Frame {
    /// Width of the series' lines in pixels.
    fn line_w(&self) -> f64 {
        (1.5 * self.u as f64).max(2.0)
    }

    /// Pixel x (continuous, pixel centres at .5) of value `x`.
    fn fx(&self, x: f64) -> f64 {
        let t = (x - self.x.0) / (self.x.1 - self.x.0);
        self.plot.x as f64 + 0.5 + t * (self.plot.w - 1) as f64
    }

    /// Pixel y (continuous) of value `y`.
    fn fy(&self, y: f64) -> f64 {
        let t = (y - self.y.0) / (self.y.1 - self.y.0);
        self.plot.y as f64 + 0.5 + (1.0 - t) * (self.plot.h - 1) as f64
    }

    /// Pixel column of an x value inside the range.
    fn col(&self, x: f64) -> usize {
        let c = self.fx(x).floor().max(0.0) as usize;
        c.clamp(self.plot.x, self.plot.x + self.plot.w - 1)
    }

    /// Pixel row of a y value inside the range.
    fn row(&self, y: f64) -> usize {
        let r = self.fy(y).floor().max(0.0) as usize;
        r.clamp(self.plot.y, self.plot.y + self.plot.h - 1)
    }
}

/// Text positions.
struct Texts {
    /// Title font scale.
    tu: usize,
    title_y: usize,
    subtitle: Vec<String>,
    subtitle_y: usize,
    /// Per marker label: left x, level (0 nearest the plot), text.
    marker_levels: Vec<(usize, usize, String)>,
    /// Bottom of the lowest marker label row.
    marker_y: usize,
    x_label_y: usize,
    /// Left edge of the rotated y label, the title and the subtitle.
    y_label_x: usize,
    /// Top of the legend rows above the plot.
    legend_y: usize,
    /// Legend entries above the plot: per row the x offsets from the plot's left edge and
    /// series indices; empty when the legend is not there.
    legend_rows: Vec<Vec<(usize, usize)>>,
}

/// Place marker labels centred over their lines, left of `right`, each on the lowest level
/// where it keeps clear of the labels already there.
fn marker_levels(
    markers: &[Marker],
    plot_x: usize,
    plot_w: usize,
    range: (f64, f64),
    u: usize,
    right: usize,
) -> Vec<(usize, usize, String)> {
    let mut order: Vec<&Marker> = markers
        .iter()
        .filter(|m| !m.label.trim().is_empty())
        .collect();
    order.sort_by(|a, b| a.x.total_cmp(&b.x));
    let mut ends: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for m in order {
        let label = m.label.trim().to_string();
        let tw = font::text_width(&label, false) * u;
        let t = (m.x - range.0) / (range.1 - range.0);
        let cx = plot_x + (t * (plot_w.max(1) - 1) as f64).round() as usize;
        let x = cx.saturating_sub(tw / 2).min(right.saturating_sub(tw));
        let level = ends
            .iter()
            .position(|&e| e + 8 * u <= x)
            .unwrap_or(ends.len());
        if level == ends.len() {
            ends.push(0);
        }
        ends[level] = x + tw;
        out.push((x, level, label));
    }
    out
}

/// Top of a text line whose capitals are centred on row `y`.
fn label_top(y: usize, u: usize) -> usize {
    (y + u / 2).saturating_sub(11 * u / 2)
}

/// Draw `text` turned a quarter anticlockwise (reading upwards), the glyph tops facing left:
/// its cell spans x..x + 11 u and ends at row `bottom`.
fn text_up(cv: &mut Canvas, x: usize, bottom: usize, u: usize, colour: [u8; 3], text: &str) {
    let w = font::text_width(text, false) * u;
    let h = font::HEIGHT * u;
    if w == 0 {
        return;
    }
    let mut flat = Canvas::new(w, h);
    flat.text(0, 0, u, false, colour, text);
    for ty in 0..h {
        for tx in 0..w.min(bottom) {
            let i = (ty * w + tx) * 3;
            if flat.rgb[i..i + 3] != WHITE {
                cv.fill(
                    Rect {
                        x: x + ty,
                        y: bottom - 1 - tx,
                        w: 1,
                        h: 1,
                    },
                    colour,
                );
            }
        }
    }
}

/// Pixels in `r` drawn by series (neither background, gridline nor guide line), and pixels
/// of guide lines.
fn ink(cv: &Canvas, r: Rect) -> (usize, usize) {
    let (mut n, mut guides) = (0, 0);
    for y in r.y..(r.y + r.h).min(cv.h) {
        for x in r.x..(r.x + r.w).min(cv.w) {
            let i = (y * cv.w + x) * 3;
            let c = &cv.rgb[i..i + 3];
            if c == GUIDE {
                guides += 1;
            } else if c != WHITE && c != GRID {
                n += 1;
            }
        }
    }
    (n, guides)
}

/// The runs of finite points of a series in pixel coordinates; non-finite points end a run.
fn polylines(
    points: &[(f64, f64)],
    to_px: impl Fn(f64, f64) -> (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            run.push(to_px(x, y));
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Draw anti-aliased polylines `width` pixels wide with round joins and caps, clipped to
/// `clip`; dashed lines are dashes of three widths with gaps of three widths (round caps
/// included: about four on, two off). A run of one point is a dot. Each pixel takes the
/// largest coverage of any piece of the lines, blended once, so joins and overlaps of one
/// series do not darken.
fn stroke(
    cv: &mut Canvas,
    clip: Rect,
    lines: &[Vec<(f64, f64)>],
    colour: [u8; 3],
    width: f64,
    dashed: bool,
) {
    let clip = Rect {
        w: clip.w.min(cv.w.saturating_sub(clip.x)),
        h: clip.h.min(cv.h.saturating_sub(clip.y)),
        ..clip
    };
    if clip.w == 0 || clip.h == 0 {
        return;
    }
    let hw = width / 2.0;
    let mut cov = vec![0f32; clip.w * clip.h];
    // Segments are first cut to the clip rectangle grown by the half width.
    let (bx0, by0) = (clip.x as f64 - hw - 1.0, clip.y as f64 - hw - 1.0);
    let (bx1, by1) = (
        (clip.x + clip.w) as f64 + hw + 1.0,
        (clip.y + clip.h) as f64 + hw + 1.0,
    );
    let (on, period) = (3.0 * width, 6.0 * width);
    for line in lines {
        if line.len() == 1 {
            let p = line[0];
            capsule(&mut cov, clip, p, p, hw * 1.6);
            continue;
        }
        let mut s = 0.0f64;
        for seg in line.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            if let Some((t0, t1)) = clip_segment(a, b, (bx0, by0, bx1, by1)) {
                let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                if !dashed {
                    capsule(&mut cov, clip, at(t0), at(t1), hw);
                } else if len > 0.0 && len.is_finite() {
                    // Dash phase at the clipped start, then whole periods along the piece.
                    let start = s + t0 * len;
                    let piece = (t1 - t0) * len;
                    let mut o = -start.rem_euclid(period);
                    while o < piece {
                        let (d0, d1) = (o.max(0.0), (o + on).min(piece));
                        if d1 > d0 {
                            capsule(&mut cov, clip, at(t0 + d0 / len), at(t0 + d1 / len), hw);
                        }
                        o += period;
                    }
                }
            }
            if len.is_finite() {
                s += len;
            }
        }
    }
    for row in 0..clip.h {
        for col in 0..clip.w {
            let a = cov[row * clip.w + col];
            if a <= 0.0 {
                continue;
            }
            let i = ((clip.y + row) * cv.w + clip.x + col) * 3;
            for (v, &c) in cv.rgb[i..i + 3].iter_mut().zip(&colour) {
                let old = *v as f32;
                *v = (old + (c as f32 - old) * a).round() as u8;
            }
        }
    }
}

/// Raise the coverage of the pixels near segment a-b (a capsule of half width `hw`).
fn capsule(cov: &mut [f32], clip: Rect, a: (f64, f64), b: (f64, f64), hw: f64) {
    let reach = hw + 1.0;
    let x0 = (a.0.min(b.0) - reach).floor().max(clip.x as f64) as usize;
    let y0 = (a.1.min(b.1) - reach).floor().max(clip.y as f64) as usize;
    let x1 = ((a.0.max(b.0) + reach).ceil().max(0.0) as usize).min(clip.x + clip.w);
    let y1 = ((a.1.max(b.1) + reach).ceil().max(0.0) as usize).min(clip.y + clip.h);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for y in y0..y1 {
        let py = y as f64 + 0.5;
        for x in x0..x1 {
            let px = x as f64 + 0.5;
            let t = if len2 > 0.0 {
                (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (qx, qy) = (a.0 + t * dx - px, a.1 + t * dy - py);
            let d = (qx * qx + qy * qy).sqrt();
            let c = (hw + 0.5 - d).clamp(0.0, 1.0) as f32;
            let k = (y - clip.y) * clip.w + (x - clip.x);
            if c > cov[k] {
                cov[k] = c;
            }
        }
    }
}

/// The parameter interval of segment a-b inside the box (x0, y0, x1, y1) (Liang–Barsky),
/// `None` when it misses the box.
fn clip_segment(a: (f64, f64), b: (f64, f64), bx: (f64, f64, f64, f64)) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - bx.0),
        (dx, bx.2 - a.0),
        (-dy, a.1 - bx.1),
        (dy, bx.3 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1 && t0.is_finite() && t1.is_finite()).then_some((t0, t1))
}

/// The range of an axis: the explicit one checked, or the values' extent padded when it is
/// a single value and widened to the ticks' step.
fn axis_range(
    axis: &str,
    explicit: Option<(f64, f64)>,
    values: impl Iterator<Item = f64>,
    tick_fn: fn(f64, f64) -> Vec<Tick>,
) -> Result<(f64, f64)> {
    if let Some((lo, hi)) = explicit {
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            return Err(Error::Invalid(format!(
                "{axis} range must be finite with min < max, got {lo} .. {hi}"
            )));
        }
        return Ok((lo, hi));
    }
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if hi - lo <= 1e-9 * lo.abs().max(hi.abs()) {
        let c = lo / 2.0 + hi / 2.0;
        let pad = if c == 0.0 { 1.0 } else { c.abs() * 0.1 };
        (lo, hi) = (c - pad, c + pad);
    }
    if !(hi - lo).is_finite() {
        return Err(Error::Invalid(format!(
            "{axis} values span too wide a range to draw: {lo} .. {hi}"
        )));
    }
    let t = tick_fn(lo, hi);
    if let [a, b, ..] = t.as_slice() {
        let step = b.value - a.value;
        let (l, h) = (
            (lo / step + 1e-9).floor() * step,
            (hi / step - 1e-9).ceil() * step,
        );
        if l < h && (h - l).is_finite() {
            return Ok((l, h));
        }
    }
    Ok((lo, hi))
}

/// Round time ticks in seconds: steps of 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 20, 30 min,
/// 1, 2, 3, 4, 6, 12 h or 1, 2, 5, 10, 20, 50, 100 days, with a count closest to five or six;
/// labelled `h:mm`, or `h:mm:ss` for steps under a minute. Spans under 5 s use the plain
/// ticks in seconds.
fn time_ticks(min: f64, max: f64) -> Vec<Tick> {
    const STEPS: [f64; 25] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0,
        7200.0, 10800.0, 14400.0, 21600.0, 43200.0, 86400.0, 172800.0, 432000.0, 864000.0,
        1728000.0, 4320000.0,
    ];
    if max - min < 5.0 {
        return ticks(min, max);
    }
    let candidates = STEPS.iter().copied().chain([8_640_000.0]);
    let mut best: Option<(f64, f64, f64, f64)> = None;
    for step in candidates {
        let k0 = (min / step - 1e-9).ceil();
        let k1 = (max / step + 1e-9).floor();
        let score = (k1 - k0 + 1.0 - 5.5).abs();
        if best.is_none_or(|b| score < b.0) {
            best = Some((score, step, k0, k1));
        }
    }
    let Some((_, step, k0, k1)) = best else {
        return Vec::new();
    };
    if k1 - k0 > 1000.0 {
        return ticks(min, max);
    }
    let seconds = step < 60.0;
    (k0 as i64..=k1 as i64)
        .map(|k| {
            let value = k as f64 * step;
            Tick {
                value,
                label: clock(value, seconds),
            }
        })
        .collect()
}

/// `1:30` (h:mm) or `0:00:45` (h:mm:ss) for a time in seconds.
fn clock(v: f64, seconds: bool) -> String {
    let sign = if v.round() < 0.0 { "-" } else { "" };
    let t = v.abs().round() as u64;
    let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
    if seconds {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{h}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Rows of column `x` with exactly `colour`.
    fn rows_with(c: &Canvas, x: usize, colour: [u8; 3]) -> Vec<usize> {
        (0..c.h).filter(|&y| pixel(c, x, y) == colour).collect()
    }

    const BLUE: [u8; 3] = COLOURS[0];
    const RED: [u8; 3] = COLOURS[1];

    fn diagonal() -> LineChart {
        LineChart::new("Diagonal")
            .subtitle("y = x")
            .x_label("x")
            .y_label("y")
            .series(Series::new(
                "y = x",
                (0..=10).map(|i| (i as f64, i as f64)).collect(),
                BLUE,
            ))
            .x_range(0.0, 10.0)
            .y_range(0.0, 10.0)
            .size(800, 500)
    }

    fn evacuation() -> LineChart {
        let curve = (0..=180)
            .map(|i| {
                let t = i as f64 * 60.0;
                (t, 100.0 / (1.0 + (-(t - 4000.0) / 900.0).exp()))
            })
            .collect();
        LineChart::new("Evacuation")
            .subtitle("Synthetic\nsecond line")
            .x_label("Time (h:mm)")
            .y_label("Evacuated (%)")
            .x_time_s(true)
            .series(Series::new("Evacuated", curve, BLUE))
            .series(Series::new("Plan", vec![(0.0, 0.0), (10800.0, 100.0)], RED).dashed(true))
            .hline(90.0, "90 %")
            .marker(5980.0, "T90 = 1 h 40 min")
            .marker(6200.0, "T95")
            .marker(10800.0, "T100 = 3 h")
    }

    #[test]
    fn a_chart_renders_at_its_size_as_rgb_png() {
        for (w, h) in [(1200, 750), (800, 500), (64, 64), (300, 2000), (64, 16384)] {
            let bytes = evacuation().size(w, h).to_png().unwrap();
            let reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .unwrap();
            let info = reader.info();
            assert_eq!((info.width, info.height), (w, h));
            assert_eq!(info.color_type, png::ColorType::Rgb);
            assert_eq!(info.bit_depth, png::BitDepth::Eight);
        }
        let (_, f) = evacuation().size(64, 64).render().unwrap();
        assert!(f.bare);
        let (_, f) = evacuation().render().unwrap();
        assert!(!f.bare && f.u == 2);
    }

    #[test]
    fn lines_pass_through_their_points() {
        let (img, f) = diagonal().legend(LegendPosition::Hidden).render().unwrap();
        for v in [0.5, 2.0, 5.0, 7.25, 9.5] {
            let x = f.fx(v).floor() as usize;
            let y = f.fy(v);
            let rows = rows_with(&img, x, BLUE);
            assert!(!rows.is_empty(), "no line at x = {v}");
            for r in &rows {
                assert!(
                    (*r as f64 + 0.5 - y).abs() <= 2.5,
                    "x = {v}: row {r}, want {y}"
                );
            }
        }
        // Nothing of the line's colour away from the line: only within half its width
        // (1.5 px at scale 2) beyond the plot.
        assert_eq!(f.u, 2);
        let p = f.plot;
        for y in 0..img.h {
            for x in 0..img.w {
                if pixel(&img, x, y) == BLUE {
                    assert!(x + 2 >= p.x && x < p.x + p.w + 2, "{x}");
                    assert!(y + 2 >= p.y && y < p.y + p.h + 2, "{y}");
                }
            }
        }
        // The line is 3 px wide here: 2 to 4 full pixels per column, with blended edges.
        let x = f.fx(5.0).floor() as usize;
        let full = rows_with(&img, x, BLUE).len();
        assert!((1..=4).contains(&full), "{full}");
        let y = f.fy(5.0).floor() as usize;
        let edge = pixel(&img, x, y + 3);
        assert_ne!(edge, BLUE);
        // Gridlines at the ticks, axes in the frame colour.
        assert_eq!(f.y_ticks.len(), 6);
        let gy = f.row(4.0);
        assert_eq!(pixel(&img, f.col(9.0), gy), GRID);
        assert_eq!(pixel(&img, p.x - 1, p.y + p.h / 2), FRAME);
        assert_eq!(pixel(&img, p.x + p.w / 2, p.y + p.h), FRAME);
        // Title, subtitle, tick labels and axis labels drawn.
        assert!(
            count(
                &img,
                Rect {
                    x: 0,
                    y: 0,
                    w: img.w,
                    h: p.y
                },
                INK
            ) > 100
        );
        assert!(
            count(
                &img,
                Rect {
                    x: 0,
                    y: 0,
                    w: img.w,
                    h: p.y
                },
                MUTED
            ) > 20
        );
        let below = Rect {
            x: 0,
            y: p.y + p.h + 2,
            w: img.w,
            h: img.h - p.y - p.h - 2,
        };
        assert!(count(&img, below, INK) > 100);
        let left = Rect {
            x: 0,
            y: p.y,
            w: p.x - 2,
            h: p.h,
        };
        assert!(count(&img, left, INK) > 100);
    }

    #[test]
    fn dashed_lines_have_gaps_and_nan_breaks_lines() {
        let chart = LineChart::new("Flat")
            .series(Series::new("dashed", vec![(0.0, 1.0), (10.0, 1.0)], RED).dashed(true))
            .series(Series::new(
                "gappy",
                vec![
                    (0.0, 3.0),
                    (4.0, 3.0),
                    (f64::NAN, 3.0),
                    (6.0, 3.0),
                    (10.0, 3.0),
                    (11.0, f64::INFINITY),
                ],
                BLUE,
            ))
            .x_range(0.0, 10.0)
            .y_range(0.0, 4.0)
            .legend(LegendPosition::Hidden)
            .size(800, 500);
        let (img, f) = chart.render().unwrap();
        let y = f.fy(1.0).floor() as usize;
        let on: Vec<bool> = (f.plot.x..f.plot.x + f.plot.w)
            .map(|x| pixel(&img, x, y) == RED)
            .collect();
        let dashes = on.windows(2).filter(|w| !w[0] && w[1]).count();
        assert!(dashes >= 10, "{dashes} dashes");
        let share = on.iter().filter(|&&b| b).count() as f64 / on.len() as f64;
        assert!((0.4..0.8).contains(&share), "{share}");
        // The NaN point leaves a gap from x = 4 to 6.
        let y = f.fy(3.0).floor() as usize;
        assert_eq!(pixel(&img, f.fx(2.0) as usize, y), BLUE);
        assert_eq!(pixel(&img, f.fx(8.0) as usize, y), BLUE);
        assert_ne!(pixel(&img, f.fx(5.0) as usize, y), BLUE);
        assert!(rows_with(&img, f.fx(5.0) as usize, BLUE).is_empty());
    }

    #[test]
    fn constant_and_single_point_series_draw_in_a_padded_range() {
        let flat = LineChart::new("Constant")
            .series(Series::new(
                "level",
                vec![(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)],
                BLUE,
            ))
            .legend(LegendPosition::Hidden);
        let (img, f) = flat.render().unwrap();
        assert!(
            f.y.0 < 5.0 && f.y.1 > 5.0 && f.y.1 - f.y.0 <= 2.0,
            "{:?}",
            f.y
        );
        assert_eq!(f.x, (0.0, 2.0));
        let rows = rows_with(&img, f.col(1.0), BLUE);
        assert!(!rows.is_empty());
        assert!((rows[0] as f64 - f.fy(5.0)).abs() < 3.0);
        let zero = LineChart::new("Zero").series(Series::new("", vec![(3.0, 0.0)], BLUE));
        let (img, f) = zero.render().unwrap();
        assert!(f.x.0 < 3.0 && f.x.1 > 3.0 && f.y.0 <= -1.0 && f.y.1 >= 1.0);
        assert!(!rows_with(&img, f.col(3.0), BLUE).is_empty());
        // The automatic range covers the data, markers and reference lines, at round ticks.
        let (_, f) = evacuation().render().unwrap();
        assert_eq!(f.x, (0.0, 10800.0));
        assert_eq!(f.y, (0.0, 100.0));
        let labels: Vec<&str> = f.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["0:00", "0:30", "1:00", "1:30", "2:00", "2:30", "3:00"]
        );
        let (_, f) = LineChart::new("")
            .series(Series::new("", vec![(0.1, 0.2), (0.9, 9.7)], BLUE))
            .hline(12.0, "limit")
            .render()
            .unwrap();
        assert_eq!(f.x, (0.0, 1.0));
        assert_eq!(f.y, (0.0, 12.0));
    }

    #[test]
    fn markers_reference_lines_and_legend_are_drawn() {
        let chart = diagonal()
            .marker(3.0, "M")
            .hline(6.0, "H")
            .legend(LegendPosition::BottomRight);
        let (img, f) = chart.render().unwrap();
        let p = f.plot;
        // Dashed guides across the plot.
        let guide_col = (p.y..p.y + p.h).filter(|&y| pixel(&img, f.col(3.0), y) == GUIDE);
        let n = guide_col.count();
        assert!(n > p.h / 3 && n < p.h, "{n}");
        let guide_row = (p.x..p.x + p.w).filter(|&x| pixel(&img, x, f.row(6.0)) == GUIDE);
        assert!(guide_row.count() > p.w / 3);
        // Marker label above the plot, reference label right of it.
        let above = Rect {
            x: f.col(3.0) - 20,
            y: p.y - 30,
            w: 40,
            h: 30,
        };
        assert!(count(&img, above, INK) > 5);
        let right = Rect {
            x: p.x + p.w + 2,
            y: f.row(6.0) - 8,
            w: 30,
            h: 16,
        };
        assert!(count(&img, right, INK) > 5);
        // The legend box at the bottom right, with a sample of the line.
        let corner = Rect {
            x: p.x + p.w / 2,
            y: p.y + p.h / 2,
            w: p.w / 2,
            h: p.h / 2,
        };
        assert!(count(&img, corner, LEGEND_EDGE) > 50);
        let other = Rect {
            x: p.x,
            y: p.y,
            w: p.w / 2,
            h: p.h / 2,
        };
        assert_eq!(count(&img, other, LEGEND_EDGE), 0);
        // Automatic placement avoids the line: y = x runs through the top right and bottom
        // left, so the legend goes top left.
        let (img, f) = diagonal().render().unwrap();
        let p = f.plot;
        let top_left = Rect {
            x: p.x,
            y: p.y,
            w: p.w / 2,
            h: p.h / 2,
        };
        assert!(count(&img, top_left, LEGEND_EDGE) > 50);
        // With data in every corner the legend goes above the plot, and so on request.
        let zigzag = (0..=40)
            .map(|i| (i as f64 / 4.0, (i % 2) as f64 * 10.0))
            .collect();
        let busy = LineChart::new("Busy")
            .series(Series::new("zigzag", zigzag, RED))
            .series(Series::new("", vec![(0.0, 5.0), (10.0, 5.0)], BLUE))
            .size(800, 500);
        let (img, f) = busy.render().unwrap();
        let (inside, _) = busy
            .clone()
            .legend(LegendPosition::TopLeft)
            .render()
            .unwrap();
        let (above, fa) = busy.clone().legend(LegendPosition::Above).render().unwrap();
        assert_eq!(img.rgb, above.rgb);
        assert_eq!(f.plot, fa.plot);
        let all = Rect {
            x: 0,
            y: 0,
            w: img.w,
            h: img.h,
        };
        assert_eq!(count(&img, all, LEGEND_EDGE), 0);
        assert!(count(&inside, all, LEGEND_EDGE) > 50);
        let header = Rect {
            x: 0,
            y: 0,
            w: img.w,
            h: f.plot.y.saturating_sub(4),
        };
        assert!(count(&img, header, RED) > 20);
        assert_eq!(count(&img, header, BLUE), 0);
        let (_, f_in) = busy.legend(LegendPosition::TopLeft).render().unwrap();
        assert!(f_in.plot.y < f.plot.y);
        // Outside an explicit range they are left out.
        let (_, f) = diagonal()
            .marker(11.0, "out")
            .hline(-1.0, "out")
            .render()
            .unwrap();
        assert!(f.markers.is_empty() && f.hlines.is_empty());
    }

    #[test]
    fn same_chart_gives_same_bytes() {
        let a = evacuation().to_png().unwrap();
        assert_eq!(a, evacuation().to_png().unwrap());
        assert_ne!(a, evacuation().subtitle("other").to_png().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.png");
        std::fs::write(&path, b"old").unwrap();
        evacuation().write_png(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), a);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let e = evacuation().write_png(&dir.path().join("missing/chart.png"));
        assert!(matches!(e, Err(Error::Io { .. })));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let bad = |c: LineChart| matches!(c.to_png(), Err(Error::Invalid(_)));
        assert!(bad(LineChart::new("empty")));
        assert!(bad(diagonal().series(Series::new(
            "nan",
            vec![(f64::NAN, 1.0)],
            RED
        ))));
        assert!(bad(diagonal().series(Series::new("none", vec![], RED))));
        assert!(bad(diagonal().series(Series::new(
            "inf",
            vec![(1.0, f64::INFINITY), (f64::NEG_INFINITY, 1.0)],
            RED
        ))));
        for (w, h) in [(63, 500), (500, 63), (16385, 500), (500, 16385), (0, 0)] {
            assert!(bad(diagonal().size(w, h)), "{w} x {h}");
        }
        for (lo, hi) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(bad(diagonal().x_range(lo, hi)), "x {lo} {hi}");
            assert!(bad(diagonal().y_range(lo, hi)), "y {lo} {hi}");
        }
        assert!(bad(diagonal().x_range(-f64::MAX, f64::MAX)));
        assert!(bad(diagonal().marker(f64::NAN, "nan")));
        assert!(bad(diagonal().hline(f64::INFINITY, "inf")));
        let wide =
            LineChart::new("wide").series(Series::new("", vec![(0.0, -1e308), (1.0, 1e308)], RED));
        assert!(bad(wide));
        // Non-finite points alongside finite ones are fine; huge values are clipped.
        assert!(
            diagonal()
                .series(
                    Series::new("part", vec![(f64::NAN, 1.0), (1.0, 2.0), (2.0, 1e300)], RED)
                        .dashed(true)
                )
                .to_png()
                .is_ok()
        );
    }

    #[test]
    fn time_ticks_and_durations_read_as_clock_times() {
        let labels = |a: f64, b: f64| -> Vec<String> {
            time_ticks(a, b).into_iter().map(|t| t.label).collect()
        };
        assert_eq!(
            labels(0.0, 9000.0),
            ["0:00", "0:30", "1:00", "1:30", "2:00", "2:30"]
        );
        assert_eq!(
            labels(0.0, 86400.0),
            ["0:00", "6:00", "12:00", "18:00", "24:00"]
        );
        assert_eq!(
            labels(0.0, 120.0),
            ["0:00:00", "0:00:30", "0:01:00", "0:01:30", "0:02:00"]
        );
        assert_eq!(labels(-1800.0, 1800.0)[0], "-0:30");
        assert_eq!(labels(0.0, 2.0), ["0", "0.5", "1", "1.5", "2"]);
        assert_eq!(duration_label(7800.0), "2 h 10 min");
        assert_eq!(duration_label(3600.0), "1 h");
        assert_eq!(duration_label(45.2), "45 s");
        assert_eq!(duration_label(59.6), "1 min");
        assert_eq!(duration_label(720.0), "12 min");
        assert_eq!(duration_label(-90.0), "-2 min");
        assert_eq!(duration_label(86400.0 * 3.0 + 4.0 * 3600.0), "3 d 4 h");
        assert_eq!(duration_label(86400.0), "1 d");
    }
}
