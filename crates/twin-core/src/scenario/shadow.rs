//! The `[shadow]` section: sun hours, shadows at given times, facade and window sun hours
//! with the daylight standards (DIN 5034-1, EN 17037), and solar potential on roofs. This
//! module is the schema only ([`ShadowSection`] as written, [`ShadowSpec`] validated); the
//! computation lives in `sim-shadow`. Time-zone names and times are checked by the runner
//! (they need the time-zone rules of `sim-shadow`), with the same file-and-field errors.
//!
//! ```toml
//! [shadow]
//! timezone = "Europe/Berlin"
//! cell_m = 1.0
//! days = ["2026-03-21", "2026-01-17"]
//! times = ["2026-03-21T15:00"]
//!
//! [shadow.windows]
//! storey_m = 3.0
//! spacing_m = 3.0
//!
//! [shadow.solar]
//! linke_turbidity = 3.5
//! ```
//! `docs/scenarios.md` documents every key.

use super::{check_bbox, field_err, resolve_path, yes};
use crate::error::{Error, Result};
use crate::geom::BBox2;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// `[shadow]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowSection {
    /// Time zone of dates and local times: `Europe/Berlin` (default), `UTC`, `+01:00`, ...
    pub timezone: Option<String>,
    /// Height-model cell size (m); default 1.
    pub cell_m: Option<f64>,
    /// Analysis extent `[min_x, min_y, max_x, max_y]` (city CRS); default: the city's extent.
    pub bbox: Option<[f64; 4]>,
    /// Sun-position step (minutes); default 1.
    pub step_min: Option<f64>,
    /// Sun below this elevation does not count for sun-hour rasters (degrees); default 0.
    pub min_elevation_deg: Option<f64>,
    /// Days with a sun-hours raster each (`YYYY-MM-DD`).
    #[serde(default)]
    pub days: Vec<String>,
    /// A date range with one sun-hours raster (total hours over the range).
    pub range: Option<RangeSection>,
    /// Times with a shadow raster each: RFC 3339, or local civil time in `timezone`.
    #[serde(default)]
    pub times: Vec<String>,
    /// With edits in the scenario: also run the city without them and write differences.
    #[serde(default = "yes")]
    pub compare: bool,
    /// PNG maps beside the rasters.
    #[serde(default = "yes")]
    pub png: bool,
    /// Observer site; default: the centre of the extent, at its mean terrain height.
    #[serde(default)]
    pub site: SiteSection,
    /// Sun hours on sampled facade points for each of `days`.
    pub facades: Option<FacadesSection>,
    /// Windows and their daylight standards.
    pub windows: Option<WindowsSection>,
    /// Annual solar irradiation on roofs.
    pub solar: Option<SolarSection>,
}

/// `range = { start = "…", end = "…" }` (both days included).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeSection {
    pub start: String,
    pub end: String,
}

/// `[shadow.site]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSection {
    pub elevation_m: Option<f64>,
    pub pressure_hpa: Option<f64>,
    pub temperature_c: Option<f64>,
    pub delta_t_s: Option<f64>,
}

/// `[shadow.facades]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacadesSection {
    /// Point spacing on walls (m); default 2.
    pub spacing_m: Option<f64>,
    /// Only these buildings (ids); default all in the extent.
    #[serde(default)]
    pub buildings: Vec<String>,
}

/// `[shadow.windows]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsSection {
    /// Windows from a CSV file (`id,building,x,y,z,azimuth_deg`); default: generated.
    pub file: Option<PathBuf>,
    /// Generated windows: storey height (m); default 3.
    pub storey_m: Option<f64>,
    /// Generated windows: one per this much wall length (m); default 3.
    pub spacing_m: Option<f64>,
    /// Only these buildings (ids); default all in the extent.
    #[serde(default)]
    pub buildings: Vec<String>,
    /// The sun must stand this far above the window's wall plane (degrees); default 0.
    pub min_wall_angle_deg: Option<f64>,
    /// DIN 5034-1 dates and threshold.
    pub din_equinox: Option<String>,
    pub din_january: Option<String>,
    pub din_min_elevation_deg: Option<f64>,
    /// EN 17037 day (1 February to 21 March) and minimum sun elevation (11° in Germany).
    pub en17037_day: Option<String>,
    pub en17037_min_elevation_deg: Option<f64>,
}

/// `[shadow.solar]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolarSection {
    /// Year of the sun positions; default: the year of the first day, else 2026.
    pub year: Option<i32>,
    /// Linke turbidity: one value or twelve (January to December); default Hamburg's.
    pub linke_turbidity: Option<toml::Value>,
    /// Every this many days (default 7) …
    pub day_step: Option<u32>,
    /// … at this step in minutes (default 30).
    pub step_min: Option<f64>,
    /// Horizon sectors (default 36).
    pub sectors: Option<usize>,
    /// Ground albedo (default 0.2).
    pub albedo: Option<f64>,
}

/// A calendar date, validated (Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let t = text.trim();
        let b = t.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year: i32 = t.get(0..4)?.parse().ok()?;
        let month: u32 = t.get(5..7)?.parse().ok()?;
        let day: u32 = t.get(8..10)?.parse().ok()?;
        let d = Date { year, month, day };
        (year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= d.days_in_month())
            .then_some(d)
    }
    pub fn days_in_month(&self) -> u32 {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        match self.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }
    /// The next day.
    pub fn succ(&self) -> Date {
        if self.day < self.days_in_month() {
            Date {
                day: self.day + 1,
                ..*self
            }
        } else if self.month < 12 {
            Date {
                month: self.month + 1,
                day: 1,
                ..*self
            }
        } else {
            Date {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Validated `[shadow]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowSpec {
    pub timezone: String,
    pub cell_m: f64,
    pub bbox: Option<BBox2>,
    pub step_s: f64,
    pub min_elevation_deg: f64,
    pub days: Vec<Date>,
    pub range: Option<(Date, Date)>,
    /// As written (read by the runner in `timezone`).
    pub times: Vec<String>,
    pub compare: bool,
    pub png: bool,
    pub site: SiteSpec,
    pub facades: Option<FacadesSpec>,
    pub windows: Option<WindowsSpec>,
    pub solar: Option<SolarSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SiteSpec {
    pub elevation_m: Option<f64>,
    pub pressure_hpa: Option<f64>,
    pub temperature_c: Option<f64>,
    pub delta_t_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FacadesSpec {
    pub spacing_m: f64,
    pub buildings: Vec<String>,
}

/// Where windows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowSource {
    Generate { storey_m: f64, spacing_m: f64 },
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowsSpec {
    pub source: WindowSource,
    pub buildings: Vec<String>,
    pub min_wall_angle_deg: f64,
    pub din_equinox: Date,
    pub din_january: Date,
    pub din_min_elevation_deg: f64,
    pub en17037_day: Date,
    pub en17037_min_elevation_deg: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SolarSpec {
    pub year: i32,
    pub linke_turbidity: [f64; 12],
    pub day_step: u32,
    pub step_s: f64,
    pub sectors: usize,
    pub albedo: f64,
}

/// Monthly Linke turbidity for Hamburg, January to December: the SoDa climatology
/// (Remund et al. 2003) at 53.55° N, 9.99° E, as distributed with pvlib-python 0.16.1
/// (mean 3.68; the r.sun manual's "city" row has a mean of 3.75).
pub const HAMBURG_LINKE: [f64; 12] = [
    3.25, 3.55, 3.70, 3.70, 4.10, 3.85, 4.10, 4.15, 3.80, 3.40, 3.30, 3.30,
];

struct Cx<'a> {
    path: &'a Path,
}

impl Cx<'_> {
    fn num(&self, field: &str, v: Option<f64>, default: f64, lo: f64, hi: f64) -> Result<f64> {
        let v = v.unwrap_or(default);
        if !(v.is_finite() && v >= lo && v <= hi) {
            return Err(field_err(
                self.path,
                field,
                format!("{v} is outside [{lo}, {hi}]"),
            ));
        }
        Ok(v)
    }
    fn date(&self, field: &str, text: &str) -> Result<Date> {
        Date::parse(text).ok_or_else(|| {
            field_err(
                self.path,
                field,
                format!("`{text}` is not a date; expected YYYY-MM-DD"),
            )
        })
    }
    fn opt_date(&self, field: &str, text: Option<&str>, default: Date) -> Result<Date> {
        text.map_or(Ok(default), |t| self.date(field, t))
    }
}

pub(super) fn validate(s: ShadowSection, path: &Path, base: &Path) -> Result<ShadowSpec> {
    let cx = Cx { path };
    let timezone = s
        .timezone
        .unwrap_or_else(|| "Europe/Berlin".to_string())
        .trim()
        .to_string();
    let cell_m = cx.num("shadow.cell_m", s.cell_m, 1.0, 0.05, 100.0)?;
    let bbox = s
        .bbox
        .map(|b| check_bbox(path, "shadow.bbox", b))
        .transpose()?;
    let step_s = 60.0 * cx.num("shadow.step_min", s.step_min, 1.0, 1.0 / 60.0, 240.0)?;
    let min_elevation_deg = cx.num(
        "shadow.min_elevation_deg",
        s.min_elevation_deg,
        0.0,
        -1.0,
        45.0,
    )?;
    let mut days = Vec::new();
    for (i, d) in s.days.iter().enumerate() {
        let d = cx.date(&format!("shadow.days[{i}]"), d)?;
        if days.contains(&d) {
            return Err(field_err(
                path,
                &format!("shadow.days[{i}]"),
                format!("{d} is listed twice"),
            ));
        }
        days.push(d);
    }
    let range = match &s.range {
        None => None,
        Some(r) => {
            let a = cx.date("shadow.range.start", &r.start)?;
            let b = cx.date("shadow.range.end", &r.end)?;
            if b < a {
                return Err(field_err(
                    path,
                    "shadow.range.end",
                    format!("{b} is before the start {a}"),
                ));
            }
            if b.year > a.year + 1 {
                return Err(field_err(
                    path,
                    "shadow.range",
                    "spans more than two calendar years; split it",
                ));
            }
            Some((a, b))
        }
    };
    let site = SiteSpec {
        elevation_m: s
            .site
            .elevation_m
            .map(|v| cx.num("shadow.site.elevation_m", Some(v), 0.0, -500.0, 9000.0))
            .transpose()?,
        pressure_hpa: s
            .site
            .pressure_hpa
            .map(|v| cx.num("shadow.site.pressure_hpa", Some(v), 0.0, 1.0, 1100.0))
            .transpose()?,
        temperature_c: s
            .site
            .temperature_c
            .map(|v| cx.num("shadow.site.temperature_c", Some(v), 0.0, -90.0, 60.0))
            .transpose()?,
        delta_t_s: s
            .site
            .delta_t_s
            .map(|v| cx.num("shadow.site.delta_t_s", Some(v), 0.0, -8000.0, 8000.0))
            .transpose()?,
    };
    let facades = s
        .facades
        .map(|f| -> Result<FacadesSpec> {
            Ok(FacadesSpec {
                spacing_m: cx.num("shadow.facades.spacing_m", f.spacing_m, 2.0, 0.1, 50.0)?,
                buildings: f.buildings,
            })
        })
        .transpose()?;
    let year = days
        .first()
        .map(|d| d.year)
        .or(range.map(|r| r.0.year))
        .unwrap_or(2026);
    let windows = s
        .windows
        .map(|w| -> Result<WindowsSpec> {
            let source = match &w.file {
                Some(f) => {
                    if w.storey_m.is_some() || w.spacing_m.is_some() {
                        return Err(field_err(
                            path,
                            "shadow.windows",
                            "give `file` or `storey_m`/`spacing_m` (generated windows), not both",
                        ));
                    }
                    let f = resolve_path(base, f);
                    if !f.is_file() {
                        return Err(Error::format(
                            path,
                            "field `shadow.windows.file`",
                            format!("{} does not exist", f.display()),
                        ));
                    }
                    WindowSource::File(f)
                }
                None => WindowSource::Generate {
                    storey_m: cx.num("shadow.windows.storey_m", w.storey_m, 3.0, 2.4, 10.0)?,
                    spacing_m: cx.num("shadow.windows.spacing_m", w.spacing_m, 3.0, 0.5, 50.0)?,
                },
            };
            let d = |m, day| Date {
                year,
                month: m,
                day,
            };
            let en17037_day = cx.opt_date(
                "shadow.windows.en17037_day",
                w.en17037_day.as_deref(),
                d(3, 21),
            )?;
            if !(en17037_day.month == 2 || (en17037_day.month == 3 && en17037_day.day <= 21)) {
                return Err(field_err(
                    path,
                    "shadow.windows.en17037_day",
                    format!(
                        "{en17037_day}: EN 17037 assesses a day between 1 February and 21 March"
                    ),
                ));
            }
            Ok(WindowsSpec {
                source,
                buildings: w.buildings,
                min_wall_angle_deg: cx.num(
                    "shadow.windows.min_wall_angle_deg",
                    w.min_wall_angle_deg,
                    0.0,
                    0.0,
                    60.0,
                )?,
                din_equinox: cx.opt_date(
                    "shadow.windows.din_equinox",
                    w.din_equinox.as_deref(),
                    d(3, 21),
                )?,
                din_january: cx.opt_date(
                    "shadow.windows.din_january",
                    w.din_january.as_deref(),
                    d(1, 17),
                )?,
                din_min_elevation_deg: cx.num(
                    "shadow.windows.din_min_elevation_deg",
                    w.din_min_elevation_deg,
                    6.0,
                    0.0,
                    45.0,
                )?,
                en17037_day,
                en17037_min_elevation_deg: cx.num(
                    "shadow.windows.en17037_min_elevation_deg",
                    w.en17037_min_elevation_deg,
                    11.0,
                    0.0,
                    45.0,
                )?,
            })
        })
        .transpose()?;
    let solar = s
        .solar
        .map(|o| -> Result<SolarSpec> {
            let field = "shadow.solar.linke_turbidity";
            let linke_turbidity = match &o.linke_turbidity {
                None => HAMBURG_LINKE,
                Some(v) => {
                    let vals: Option<Vec<f64>> = match v {
                        toml::Value::Float(f) => Some(vec![*f; 12]),
                        toml::Value::Integer(i) => Some(vec![*i as f64; 12]),
                        toml::Value::Array(a) => a
                            .iter()
                            .map(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
                            .collect(),
                        _ => None,
                    };
                    match vals {
                        Some(v) if v.len() == 12 && v.iter().all(|t| (1.0..=10.0).contains(t)) => {
                            std::array::from_fn(|k| v[k])
                        }
                        _ => {
                            return Err(field_err(
                                path,
                                field,
                                "must be one number or twelve (January to December), each in [1, 10]",
                            ));
                        }
                    }
                }
            };
            let day_step = o.day_step.unwrap_or(7);
            if !(1..=31).contains(&day_step) {
                return Err(field_err(
                    path,
                    "shadow.solar.day_step",
                    format!("{day_step} is outside [1, 31]"),
                ));
            }
            let sectors = o.sectors.unwrap_or(36);
            if !(8..=720).contains(&sectors) {
                return Err(field_err(
                    path,
                    "shadow.solar.sectors",
                    format!("{sectors} is outside [8, 720]"),
                ));
            }
            Ok(SolarSpec {
                year: o.year.unwrap_or(year),
                linke_turbidity,
                day_step,
                step_s: 60.0 * cx.num("shadow.solar.step_min", o.step_min, 30.0, 1.0, 240.0)?,
                sectors,
                albedo: cx.num("shadow.solar.albedo", o.albedo, 0.2, 0.0, 1.0)?,
            })
        })
        .transpose()?;
    if days.is_empty()
        && range.is_none()
        && s.times.is_empty()
        && facades.is_none()
        && windows.is_none()
        && solar.is_none()
    {
        return Err(field_err(
            path,
            "shadow",
            "asks for nothing: give `days`, `range`, `times`, `[shadow.facades]`, `[shadow.windows]` or `[shadow.solar]`",
        ));
    }
    if facades.is_some() && days.is_empty() {
        return Err(field_err(
            path,
            "shadow.facades",
            "needs `days`: facade sun hours are computed for each of them",
        ));
    }
    Ok(ShadowSpec {
        timezone,
        cell_m,
        bbox,
        step_s,
        min_elevation_deg,
        days,
        range,
        times: s.times,
        compare: s.compare,
        png: s.png,
        site,
        facades,
        windows,
        solar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_validate() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()),
            Some("2024-02-29".into())
        );
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("26-03-21").is_none());
        assert_eq!(
            Date::parse("2026-12-31").unwrap().succ().to_string(),
            "2027-01-01"
        );
        assert_eq!(
            Date::parse("2026-02-28").unwrap().succ().to_string(),
            "2026-03-01"
        );
    }
}
