//! `twin sun`: the SPA sun position for one time and place (JSON), or for every row of a
//! CSV file (`time,lat,lon` and optionally `elevation_m,pressure_hpa,temperature_c,
//! delta_t_s`), written with `zenith_deg,azimuth_deg,elevation_deg` added.

use crate::RunError;
use rayon::prelude::*;
use serde::Serialize;
use sim_shadow::spa::{self, DayKind, SpaInput};
use sim_shadow::time::{TimeZone, UtcTime};
use std::path::Path;

/// Atmosphere and time corrections for a position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SunOptions {
    pub elevation_m: f64,
    pub pressure_hpa: f64,
    pub temperature_c: f64,
    /// `None`: the estimate for the year.
    pub delta_t_s: Option<f64>,
    /// Surface for the incidence angle.
    pub slope_deg: f64,
    pub surface_azimuth_deg: f64,
}

impl Default for SunOptions {
    fn default() -> Self {
        SunOptions {
            elevation_m: 0.0,
            pressure_hpa: 1013.25,
            temperature_c: 12.0,
            delta_t_s: None,
            slope_deg: 0.0,
            surface_azimuth_deg: 180.0,
        }
    }
}

/// What `twin sun --time` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SunReport {
    pub time: String,
    pub time_utc: String,
    pub latitude_deg: f64,
    pub longitude_deg: f64,
    pub elevation_m: f64,
    pub pressure_hpa: f64,
    pub temperature_c: f64,
    pub delta_t_s: f64,
    /// Topocentric zenith angle with refraction.
    pub zenith_deg: f64,
    /// Clockwise from north.
    pub azimuth_deg: f64,
    pub elevation_deg: f64,
    pub declination_deg: f64,
    pub hour_angle_deg: f64,
    pub equation_of_time_min: f64,
    pub incidence_deg: f64,
    pub surface_slope_deg: f64,
    pub surface_azimuth_deg: f64,
    /// `normal`, `polar_day` or `polar_night`.
    pub day: &'static str,
    pub sunrise: Option<String>,
    pub transit: String,
    pub sunset: Option<String>,
}

fn input(t: UtcTime, lat: f64, lon: f64, o: &SunOptions) -> SpaInput {
    let mut i = SpaInput::new(t, lat, lon);
    i.elevation_m = o.elevation_m;
    i.pressure_hpa = o.pressure_hpa;
    i.temperature_c = o.temperature_c;
    i.slope_deg = o.slope_deg;
    i.surface_azimuth_deg = o.surface_azimuth_deg;
    i.delta_t_s = o
        .delta_t_s
        .unwrap_or_else(|| spa::delta_t_estimate(t.year_fraction()));
    i
}

/// The UTC offset (minutes) written in an RFC 3339 time, if any.
fn written_offset_min(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.ends_with('Z') || t.ends_with('z') {
        return Some(0);
    }
    let tail = t.get(t.len().checked_sub(6)?..)?;
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if tail.as_bytes()[3] != b':' || t.len() < 17 {
        return None;
    }
    let h: i32 = tail.get(1..3)?.parse().ok()?;
    let m: i32 = tail.get(4..6)?.parse().ok()?;
    Some(sign * (h * 60 + m))
}

fn sun_err(what: &str) -> impl Fn(sim_shadow::ShadowError) -> RunError + '_ {
    move |source| RunError::Shadow {
        context: what.to_string(),
        source,
    }
}

/// The sun for one time (RFC 3339, or local civil time in `tz`) and place.
pub fn report(
    time: &str,
    lat: f64,
    lon: f64,
    tz: &TimeZone,
    o: &SunOptions,
) -> Result<SunReport, RunError> {
    let t = sim_shadow::time::parse_time(time, tz).map_err(sun_err("--time"))?;
    let offset_min = match written_offset_min(time) {
        Some(m) => m,
        None => tz.offset_min_at(t).map_err(sun_err("--timezone"))?,
    };
    let zone = TimeZone::Fixed { offset_min };
    let i = input(t, lat, lon, o);
    let out = spa::spa(&i).map_err(sun_err("sun position"))?;
    let rts =
        spa::rise_transit_set(&i, f64::from(offset_min) / 60.0).map_err(sun_err("sun position"))?;
    Ok(SunReport {
        time: t.to_rfc3339(&zone),
        time_utc: t.to_rfc3339(&TimeZone::Utc),
        latitude_deg: lat,
        longitude_deg: lon,
        elevation_m: o.elevation_m,
        pressure_hpa: o.pressure_hpa,
        temperature_c: o.temperature_c,
        delta_t_s: i.delta_t_s,
        zenith_deg: out.zenith_deg,
        azimuth_deg: out.azimuth_deg,
        elevation_deg: out.elevation_deg,
        declination_deg: out.delta_deg,
        hour_angle_deg: out.h_deg,
        equation_of_time_min: out.eot_min,
        incidence_deg: out.incidence_deg,
        surface_slope_deg: o.slope_deg,
        surface_azimuth_deg: o.surface_azimuth_deg,
        day: match rts.kind {
            DayKind::Normal => "normal",
            DayKind::PolarDay => "polar_day",
            DayKind::PolarNight => "polar_night",
        },
        sunrise: rts.sunrise.map(|s| s.to_rfc3339(&zone)),
        transit: rts.transit.to_rfc3339(&zone),
        sunset: rts.sunset.map(|s| s.to_rfc3339(&zone)),
    })
}

/// Rows read and written by [`process_csv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStats {
    pub rows: usize,
}

/// Read `input` (header with at least `time,lat,lon`), write `output` with the same rows and
/// columns plus `zenith_deg,azimuth_deg,elevation_deg` (atomically). Times without an offset
/// are local civil times in `tz`. Rows are computed in parallel; the output order is the
/// input order. `progress(done, total)` is called now and then.
pub fn process_csv(
    input_path: &Path,
    output_path: &Path,
    tz: &TimeZone,
    defaults: &SunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<CsvStats, RunError> {
    let text = std::fs::read_to_string(input_path).map_err(|source| RunError::Io {
        path: input_path.to_path_buf(),
        source,
    })?;
    let bad = |line: usize, m: String| RunError::Input {
        path: input_path.to_path_buf(),
        message: format!("line {line}: {m}"),
    };
    let mut lines = text.lines();
    let header_line = lines
        .next()
        .ok_or_else(|| bad(1, "empty file; expected a header `time,lat,lon`".into()))?
        .trim_end_matches('\r');
    let header: Vec<String> = header_line
        .split(',')
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(ct), Some(cla), Some(clo)) = (col("time"), col("lat"), col("lon")) else {
        return Err(bad(
            1,
            format!("the header `{header_line}` must name the columns time, lat and lon"),
        ));
    };
    for out_col in ["zenith_deg", "azimuth_deg", "elevation_deg"] {
        if col(out_col).is_some() {
            return Err(bad(
                1,
                format!("the input already has a column `{out_col}`"),
            ));
        }
    }
    let opt = [
        col("elevation_m"),
        col("pressure_hpa"),
        col("temperature_c"),
        col("delta_t_s"),
    ];
    let rows: Vec<(usize, &str)> = lines
        .enumerate()
        .map(|(i, l)| (i + 2, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let total = rows.len();
    let mut out = String::with_capacity(text.len() + total * 40);
    out.push_str(header_line);
    out.push_str(",zenith_deg,azimuth_deg,elevation_deg\n");
    let chunk = 20_000;
    for (ci, part) in rows.chunks(chunk).enumerate() {
        let results: Vec<Result<String, RunError>> = part
            .par_iter()
            .map(|&(line, l)| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                if f.len() != header.len() {
                    return Err(bad(
                        line,
                        format!("{} fields, the header has {}", f.len(), header.len()),
                    ));
                }
                let num = |c: usize, name: &str| -> Result<f64, RunError> {
                    f[c].parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| bad(line, format!("{name} `{}` is not a number", f[c])))
                };
                let t = sim_shadow::time::parse_time(f[ct], tz)
                    .map_err(|e| bad(line, e.to_string()))?;
                let mut o = *defaults;
                let names = ["elevation_m", "pressure_hpa", "temperature_c", "delta_t_s"];
                let mut vals = [None; 4];
                for (k, c) in opt.iter().enumerate() {
                    if let Some(c) = *c
                        && !f[c].is_empty()
                    {
                        vals[k] = Some(num(c, names[k])?);
                    }
                }
                if let Some(v) = vals[0] {
                    o.elevation_m = v;
                }
                if let Some(v) = vals[1] {
                    o.pressure_hpa = v;
                }
                if let Some(v) = vals[2] {
                    o.temperature_c = v;
                }
                if let Some(v) = vals[3] {
                    o.delta_t_s = Some(v);
                }
                let i = input(t, num(cla, "lat")?, num(clo, "lon")?, &o);
                let (z, a, e) = spa::sun_position(&i).map_err(|e| bad(line, e.to_string()))?;
                Ok(format!("{l},{z:.6},{a:.6},{e:.6}\n"))
            })
            .collect();
        for r in results {
            out.push_str(&r?);
        }
        progress(((ci + 1) * chunk).min(total), total);
    }
    twin_core::fsio::write_atomic(output_path, out.as_bytes())?;
    Ok(CsvStats { rows: total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_from_rfc3339() {
        assert_eq!(written_offset_min("2003-10-17T12:30:30-07:00"), Some(-420));
        assert_eq!(written_offset_min("2026-03-21T15:00:00+01:00"), Some(60));
        assert_eq!(written_offset_min("2026-03-21T15:00:00Z"), Some(0));
        assert_eq!(written_offset_min("2026-03-21T15:00"), None);
        assert_eq!(written_offset_min("2026-03-21"), None);
    }
}
