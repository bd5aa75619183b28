//! Time series of forcings: hyetographs (mm/h), hydrographs (m³/s), water levels (m), gate
//! times. A series is a list of `(t_s, value)` points with strictly increasing times and an
//! interpolation rule. Before the first point the first value holds; after the last point the
//! last value holds.
//!
//! [`TimeSeries::mean`] integrates exactly over an interval, so a solver that takes the mean
//! over each of its time steps puts exactly the series' volume into the model whatever its
//! step sizes are (a 29 mm/h block over one hour gives 29 mm, not 29 mm ± one step).
//!
//! Series come from points, from a CSV file ([`read_csv`]) or from a synthetic storm tide
//! ([`StormTide::series`]).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How values between two points are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Linear between points (water levels, hydrographs).
    #[default]
    Linear,
    /// Piecewise constant: a point's value holds until the next point (rain blocks).
    Step,
}

/// A validated time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    times_s: Vec<f64>,
    values: Vec<f64>,
    interpolation: Interpolation,
}

impl TimeSeries {
    /// Build from points; times must be finite and strictly increasing, values finite, and
    /// there must be at least one point. `what` names the series in errors.
    pub fn new(
        points: &[(f64, f64)],
        interpolation: Interpolation,
        what: &str,
    ) -> Result<TimeSeries> {
        if points.is_empty() {
            return Err(Error::Invalid(format!("{what}: the series has no points")));
        }
        for (i, &(t, v)) in points.iter().enumerate() {
            if !t.is_finite() {
                return Err(Error::Invalid(format!(
                    "{what}: point {i}: time {t} is not a finite number"
                )));
            }
            if !v.is_finite() {
                return Err(Error::Invalid(format!(
                    "{what}: point {i}: value {v} is not a finite number"
                )));
            }
            if i > 0 && t <= points[i - 1].0 {
                return Err(Error::Invalid(format!(
                    "{what}: point {i}: time {t} s is not after the previous point's {} s",
                    points[i - 1].0
                )));
            }
        }
        Ok(TimeSeries {
            times_s: points.iter().map(|p| p.0).collect(),
            values: points.iter().map(|p| p.1).collect(),
            interpolation,
        })
    }

    /// A series that is `value` at all times.
    pub fn constant(value: f64) -> TimeSeries {
        TimeSeries {
            times_s: vec![0.0],
            values: vec![value],
            interpolation: Interpolation::Step,
        }
    }

    pub fn times_s(&self) -> &[f64] {
        &self.times_s
    }
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    pub fn interpolation(&self) -> Interpolation {
        self.interpolation
    }
    pub fn len(&self) -> usize {
        self.times_s.len()
    }
    pub fn is_empty(&self) -> bool {
        self.times_s.is_empty()
    }

    /// (min, max) of the values.
    pub fn range(&self) -> (f64, f64) {
        self.values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            })
    }

    /// A copy with every value mapped (unit conversion, offsets).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> TimeSeries {
        TimeSeries {
            times_s: self.times_s.clone(),
            values: self.values.iter().map(|&v| f(v)).collect(),
            interpolation: self.interpolation,
        }
    }

    /// Index of the last point with time <= t (None before the first point).
    fn seg(&self, t: f64) -> Option<usize> {
        let k = self.times_s.partition_point(|&x| x <= t);
        k.checked_sub(1)
    }

    /// Value at time `t`.
    pub fn value_at(&self, t: f64) -> f64 {
        let Some(i) = self.seg(t) else {
            return self.values[0];
        };
        if i + 1 == self.times_s.len() || self.interpolation == Interpolation::Step {
            return self.values[i];
        }
        let (t0, t1) = (self.times_s[i], self.times_s[i + 1]);
        let f = (t - t0) / (t1 - t0);
        self.values[i] + f * (self.values[i + 1] - self.values[i])
    }

    /// Exact integral of the series over `[a, b]` (value × seconds); negative when b < a.
    pub fn integral(&self, a: f64, b: f64) -> f64 {
        if b < a {
            return -self.integral(b, a);
        }
        if b == a {
            return 0.0;
        }
        let n = self.times_s.len();
        let mut sum = 0.0;
        let mut t = a;
        // Before the first point: the first value holds.
        if t < self.times_s[0] {
            let e = b.min(self.times_s[0]);
            sum += self.values[0] * (e - t);
            t = e;
        }
        let mut i = self.seg(t).unwrap_or(0);
        while t < b {
            if i + 1 >= n {
                sum += self.values[n - 1] * (b - t);
                break;
            }
            let e = b.min(self.times_s[i + 1]);
            match self.interpolation {
                Interpolation::Step => sum += self.values[i] * (e - t),
                Interpolation::Linear => {
                    sum += 0.5 * (self.value_at(t) + self.value_at_seg(i, e)) * (e - t)
                }
            }
            t = e;
            i += 1;
        }
        sum
    }

    /// Linear value on segment `i` at `t` (t may equal the segment's end).
    fn value_at_seg(&self, i: usize, t: f64) -> f64 {
        let (t0, t1) = (self.times_s[i], self.times_s[i + 1]);
        let f = (t - t0) / (t1 - t0);
        self.values[i] + f * (self.values[i + 1] - self.values[i])
    }

    /// Mean value over `[a, b]` (the value at `a` when the interval is empty).
    pub fn mean(&self, a: f64, b: f64) -> f64 {
        if b > a {
            self.integral(a, b) / (b - a)
        } else {
            self.value_at(a)
        }
    }

    /// Times in `(a, b)` where the series has a point (a solver may want to step onto them).
    pub fn breakpoints_in(&self, a: f64, b: f64) -> impl Iterator<Item = f64> + '_ {
        self.times_s
            .iter()
            .copied()
            .filter(move |&t| t > a && t < b)
    }
}

/// Read a series from a CSV file with a header row. The time column is named `time_s` or `t_s`
/// (seconds from the start of the run); the value column is `column`, or else the one other
/// column. Values are `v * scale + offset` (e.g. a gauge in cm over gauge zero −5 m NHN:
/// scale 0.01, offset −5). Cells are separated by commas (no commas inside cells) and may be
/// quoted with `"`; lines starting with `#` and blank lines are skipped. Times must be strictly
/// increasing. Errors name the file and the line.
pub fn read_csv(
    path: &Path,
    column: Option<&str>,
    interpolation: Interpolation,
    scale: f64,
    offset: f64,
) -> Result<TimeSeries> {
    if !(scale.is_finite() && offset.is_finite()) {
        return Err(Error::Invalid(format!(
            "{}: scale {scale} and offset {offset} must be finite numbers",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let at = |n: usize| format!("line {n}");
    let cells = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|c| {
                let c = c.trim();
                c.strip_prefix('"')
                    .and_then(|c| c.strip_suffix('"'))
                    .unwrap_or(c)
                    .to_string()
            })
            .collect()
    };
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = rows.next() else {
        return Err(Error::format(
            path,
            "line 1",
            "the file is empty; expected a header row naming `time_s` (or `t_s`) and a value column",
        ));
    };
    let header = cells(header);
    let named =
        |name: &str| -> Vec<usize> { (0..header.len()).filter(|&i| header[i] == name).collect() };
    let columns = || header.join(", ");
    let header_err = |m: String| Error::format(path, at(header_line), m);
    let time_cols: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] == "time_s" || header[i] == "t_s")
        .collect();
    let tc = match time_cols[..] {
        [i] => i,
        [] => {
            return Err(header_err(format!(
                "no time column: the header ({}) names neither `time_s` nor `t_s`",
                columns()
            )));
        }
        _ => {
            return Err(header_err(format!(
                "more than one time column in the header ({})",
                columns()
            )));
        }
    };
    let vc = match column {
        Some(name) => match named(name)[..] {
            [i] if i == tc => {
                return Err(header_err(format!(
                    "`{name}` is the time column, not a value column"
                )));
            }
            [i] => i,
            [] => {
                return Err(header_err(format!(
                    "no column `{name}`; the header has {}",
                    columns()
                )));
            }
            _ => return Err(header_err(format!("column `{name}` appears twice"))),
        },
        None => match (0..header.len()).filter(|&i| i != tc).collect::<Vec<_>>()[..] {
            [i] => i,
            [] => {
                return Err(header_err(format!(
                    "no value column besides `{}`",
                    header[tc]
                )));
            }
            _ => {
                return Err(header_err(format!(
                    "several value columns ({}); name the one to use",
                    columns()
                )));
            }
        },
    };
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (n, line) in rows {
        let row = cells(line);
        if row.len() != header.len() {
            return Err(Error::format(
                path,
                at(n),
                format!("{} cells, but the header has {}", row.len(), header.len()),
            ));
        }
        let number = |i: usize| -> Result<f64> {
            row[i]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::format(
                        path,
                        at(n),
                        format!(
                            "column `{}`: `{}` is not a finite number",
                            header[i], row[i]
                        ),
                    )
                })
        };
        let t = number(tc)?;
        let v = number(vc)? * scale + offset;
        if let Some(&(prev, _)) = points.last()
            && t <= prev
        {
            return Err(Error::format(
                path,
                at(n),
                format!("time {t} s is not after the previous row's {prev} s"),
            ));
        }
        points.push((t, v));
    }
    if points.is_empty() {
        return Err(header_err("no data rows after the header".into()));
    }
    TimeSeries::new(&points, interpolation, &path.display().to_string())
}

/// Parameters of a synthetic storm tide at a tidal gauge: a semi-diurnal tide plus a surge
/// that peaks at high water. Used by demo scenarios and for ensembles over the peak level.
///
/// The water level is `mean_z + tide(t) + surge(t)` with
/// `tide(t) = tidal_range_m / 2 · cos(2π (t − peak_s) / period_s)` and a surge of cosine-squared
/// shape, `surge(t) = surge_m · cos²(π (t − peak_s) / surge_duration_s)` for
/// `|t − peak_s| < surge_duration_s / 2` (0 outside), where `surge_m` is chosen so that the
/// level at `peak_s` is `peak_z`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StormTide {
    /// Highest water level (m in the vertical datum, e.g. m NHN), reached at `peak_s`.
    pub peak_z: f64,
    /// Time of the peak (s from the start of the run).
    pub peak_s: f64,
    /// Mean water level (m); Hamburg St. Pauli: about 0.2 m NHN.
    #[serde(default = "StormTide::default_mean_z")]
    pub mean_z: f64,
    /// Mean tidal range (m); St. Pauli: about 3.7 m.
    #[serde(default = "StormTide::default_range")]
    pub tidal_range_m: f64,
    /// Tidal period (s); M2: 44,712 s.
    #[serde(default = "StormTide::default_period")]
    pub period_s: f64,
    /// Length of the surge (s) from its start to its end.
    #[serde(default = "StormTide::default_surge_duration")]
    pub surge_duration_s: f64,
    /// Spacing of the generated points (s).
    #[serde(default = "StormTide::default_step")]
    pub step_s: f64,
    /// End of the generated series (s).
    pub end_s: f64,
}

impl StormTide {
    fn default_mean_z() -> f64 {
        0.2
    }
    fn default_range() -> f64 {
        3.7
    }
    fn default_period() -> f64 {
        44_712.0
    }
    fn default_surge_duration() -> f64 {
        36_000.0
    }
    fn default_step() -> f64 {
        300.0
    }

    /// Surge height needed so that the level at the peak equals `peak_z`.
    pub fn surge_m(&self) -> f64 {
        self.peak_z - self.mean_z - 0.5 * self.tidal_range_m
    }

    /// Water level at time `t`.
    pub fn level_at(&self, t: f64) -> f64 {
        let d = t - self.peak_s;
        let tide = 0.5 * self.tidal_range_m * (std::f64::consts::TAU * d / self.period_s).cos();
        let surge = if d.abs() < 0.5 * self.surge_duration_s {
            self.surge_m()
                * (std::f64::consts::PI * d / self.surge_duration_s)
                    .cos()
                    .powi(2)
        } else {
            0.0
        };
        self.mean_z + tide + surge
    }

    /// Check the parameters; `what` names the series in errors.
    pub fn validate(&self, what: &str) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(format!("{what}: {m}")));
        for (name, v) in [
            ("peak_z", self.peak_z),
            ("peak_s", self.peak_s),
            ("mean_z", self.mean_z),
            ("tidal_range_m", self.tidal_range_m),
            ("end_s", self.end_s),
        ] {
            if !v.is_finite() {
                return bad(format!("`{name}` must be a finite number, got {v}"));
            }
        }
        for (name, v) in [
            ("period_s", self.period_s),
            ("surge_duration_s", self.surge_duration_s),
            ("step_s", self.step_s),
            ("end_s", self.end_s),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(format!("`{name}` must be positive, got {v}"));
            }
        }
        if self.tidal_range_m < 0.0 {
            return bad(format!(
                "`tidal_range_m` must not be negative, got {}",
                self.tidal_range_m
            ));
        }
        if self.surge_m() < 0.0 {
            return bad(format!(
                "`peak_z` {} m is below mean high water {} m (mean_z + tidal_range_m / 2): no surge",
                self.peak_z,
                self.mean_z + 0.5 * self.tidal_range_m
            ));
        }
        if self.end_s / self.step_s > 1e6 {
            return bad("more than a million points; use a larger `step_s`".into());
        }
        Ok(())
    }

    /// The series from 0 to `end_s` every `step_s`, linear, with the peak itself included.
    pub fn series(&self, what: &str) -> Result<TimeSeries> {
        self.validate(what)?;
        let mut pts = Vec::new();
        let n = (self.end_s / self.step_s).ceil() as usize;
        for k in 0..=n {
            let t = (k as f64 * self.step_s).min(self.end_s);
            if pts.last().is_some_and(|&(p, _): &(f64, f64)| t <= p) {
                continue;
            }
            pts.push((t, self.level_at(t)));
        }
        if self.peak_s > 0.0 && self.peak_s < self.end_s {
            let k = pts.partition_point(|p| p.0 < self.peak_s);
            if pts.get(k).map(|p| p.0) != Some(self.peak_s) {
                pts.insert(k, (self.peak_s, self.peak_z));
            } else {
                pts[k].1 = self.peak_z;
            }
        }
        TimeSeries::new(&pts, Interpolation::Linear, what)
    }
}

/// The RFC 3339 time `seconds` after `start` (an RFC 3339 time such as
/// `2026-12-01T00:00:00+01:00`), in the same UTC offset, to the whole second; `None` when
/// `start` cannot be read.
pub fn rfc3339_add(start: &str, seconds: f64) -> Option<String> {
    let b = start.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { start.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Skip a fraction of a second, then read the offset.
    let mut k = 19;
    if b.get(k) == Some(&b'.') {
        k += 1;
        while b.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
    }
    let rest = start.get(k..)?;
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest.get(1..3)?.parse::<i64>().ok()? * 60
                + rest.get(4..6)?.parse::<i64>().ok()?)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm), in local time of the offset.
    let days_from_civil = |y: i64, m: i64, d: i64| -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let total =
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se + seconds.round() as i64;
    let (days, sod) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let dd = doy - (153 * mp + 2) / 5 + 1;
    let mm = if mp < 10 { mp + 3 } else { mp - 9 };
    let yy = yoe + era * 400 + i64::from(mm <= 2);
    let off = if offset_min == 0 && rest.eq_ignore_ascii_case("z") {
        "Z".to_string()
    } else {
        let a = offset_min.abs();
        format!(
            "{}{:02}:{:02}",
            if offset_min < 0 { '-' } else { '+' },
            a / 60,
            a % 60
        )
    };
    Some(format!(
        "{yy:04}-{mm:02}-{dd:02}T{:02}:{:02}:{:02}{off}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_and_linear_values() {
        let s =
            TimeSeries::new(&[(0.0, 29.0), (3600.0, 0.0)], Interpolation::Step, "rain").unwrap();
        assert_eq!(s.value_at(-5.0), 29.0);
        assert_eq!(s.value_at(0.0), 29.0);
        assert_eq!(s.value_at(3599.9), 29.0);
        assert_eq!(s.value_at(3600.0), 0.0);
        assert_eq!(s.value_at(1e9), 0.0);
        let l = TimeSeries::new(
            &[(0.0, 1.0), (10.0, 3.0), (20.0, 3.0)],
            Interpolation::Linear,
            "wl",
        )
        .unwrap();
        assert_eq!(l.value_at(5.0), 2.0);
        assert_eq!(l.value_at(15.0), 3.0);
        assert_eq!(l.value_at(-1.0), 1.0);
        assert_eq!(l.value_at(99.0), 3.0);
    }

    #[test]
    fn integrals_are_exact_for_any_steps() {
        let s =
            TimeSeries::new(&[(0.0, 29.0), (3600.0, 0.0)], Interpolation::Step, "rain").unwrap();
        // Irregular steps across the block end sum to exactly the block.
        let mut t = 0.0;
        let mut sum = 0.0;
        for k in 0..10_000 {
            let dt = 0.37 + (k % 7) as f64 * 0.11;
            sum += s.integral(t, t + dt);
            t += dt;
        }
        assert!(t > 3600.0);
        assert!((sum - 29.0 * 3600.0).abs() < 1e-8, "{sum}");
        let l = TimeSeries::new(&[(0.0, 0.0), (10.0, 10.0)], Interpolation::Linear, "q").unwrap();
        assert!((l.integral(0.0, 10.0) - 50.0).abs() < 1e-12);
        assert!((l.integral(-10.0, 0.0) - 0.0).abs() < 1e-12);
        assert!((l.integral(10.0, 20.0) - 100.0).abs() < 1e-12);
        assert!((l.integral(2.0, 4.0) - 6.0).abs() < 1e-12);
        assert!((l.mean(2.0, 4.0) - 3.0).abs() < 1e-12);
        assert!((l.integral(4.0, 2.0) + 6.0).abs() < 1e-12);
    }

    #[test]
    fn bad_series_are_errors() {
        let e = TimeSeries::new(&[], Interpolation::Step, "rain").unwrap_err();
        assert!(e.to_string().contains("rain"), "{e}");
        let e = TimeSeries::new(&[(0.0, 1.0), (0.0, 2.0)], Interpolation::Linear, "wl")
            .unwrap_err()
            .to_string();
        assert!(e.contains("point 1") && e.contains("not after"), "{e}");
        let e = TimeSeries::new(&[(0.0, f64::NAN)], Interpolation::Linear, "wl")
            .unwrap_err()
            .to_string();
        assert!(e.contains("finite"), "{e}");
    }

    fn csv(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("series.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn csv_series_are_read() {
        let (_d, p) =
            csv("# rain at the airport\n\ntime_s, rain_mm_h\n0,29\n\n# block ends\n3600,0\n");
        let s = read_csv(&p, None, Interpolation::Step, 1.0, 0.0).unwrap();
        assert_eq!(s.times_s(), &[0.0, 3600.0]);
        assert_eq!(s.values(), &[29.0, 0.0]);
        assert_eq!(s.interpolation(), Interpolation::Step);
        // A named column, gauge cm over gauge zero -5 m, quoted header, CRLF.
        let (_d, p) = csv("\"t_s\",\"pegel_cm\",other\r\n0,500,1\r\n60,650,2\r\n");
        let s = read_csv(&p, Some("pegel_cm"), Interpolation::Linear, 0.01, -5.0).unwrap();
        assert_eq!(s.times_s(), &[0.0, 60.0]);
        assert!((s.values()[0] - 0.0).abs() < 1e-12 && (s.values()[1] - 1.5).abs() < 1e-12);
    }

    #[test]
    fn bad_csv_files_name_the_file_and_line() {
        let bad = |text: &str, column: Option<&str>| {
            let (_d, p) = csv(text);
            let e = read_csv(&p, column, Interpolation::Linear, 1.0, 0.0)
                .unwrap_err()
                .to_string();
            assert!(e.contains("series.csv"), "{e}");
            e
        };
        let e = bad("", None);
        assert!(e.contains("line 1") && e.contains("empty"), "{e}");
        let e = bad("# only a comment\n\n", None);
        assert!(e.contains("empty"), "{e}");
        let e = bad("time_s,q\n", None);
        assert!(e.contains("line 1") && e.contains("no data rows"), "{e}");
        let e = bad("time_s,a,b\n0,1,2\n", None);
        assert!(
            e.contains("line 1") && e.contains("several value columns"),
            "{e}"
        );
        let e = bad("time_s,a\n0,1\n", Some("b"));
        assert!(
            e.contains("no column `b`") && e.contains("time_s, a"),
            "{e}"
        );
        let e = bad("time_s,a\n0,1\n", Some("time_s"));
        assert!(e.contains("is the time column"), "{e}");
        let e = bad("hours,a\n0,1\n", None);
        assert!(e.contains("no time column"), "{e}");
        let e = bad("time_s\n0\n", None);
        assert!(e.contains("no value column"), "{e}");
        let e = bad("# c\ntime_s,a\n0,1\n60,abc\n", None);
        assert!(
            e.contains("line 4") && e.contains("`abc` is not a finite number"),
            "{e}"
        );
        let e = bad("time_s,a\n0,1\n60,NaN\n", None);
        assert!(e.contains("line 3") && e.contains("`NaN`"), "{e}");
        let e = bad("time_s,a\n0,1\n60,2\n30,3\n", None);
        assert!(e.contains("line 4") && e.contains("not after"), "{e}");
        let e = bad("time_s,a\n0,1,2\n", None);
        assert!(e.contains("line 2") && e.contains("3 cells"), "{e}");
        let missing = Path::new("/nonexistent/rain.csv");
        let e = read_csv(missing, None, Interpolation::Step, 1.0, 0.0).unwrap_err();
        assert!(e.to_string().contains("rain.csv"), "{e}");
    }

    #[test]
    fn rfc3339_arithmetic() {
        let t0 = "2026-12-01T00:00:00+01:00";
        assert_eq!(rfc3339_add(t0, 0.0).unwrap(), t0);
        assert_eq!(
            rfc3339_add(t0, 3600.5).unwrap(),
            "2026-12-01T01:00:01+01:00"
        );
        assert_eq!(
            rfc3339_add(t0, 31.0 * 86400.0).unwrap(),
            "2027-01-01T00:00:00+01:00"
        );
        assert_eq!(
            rfc3339_add("2024-02-28T23:30:00Z", 1800.0).unwrap(),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339_add("2023-02-28T23:30:00.25Z", 1800.0).unwrap(),
            "2023-03-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339_add("2026-03-29T01:00:00-02:30", -7200.0).unwrap(),
            "2026-03-28T23:00:00-02:30"
        );
        assert!(rfc3339_add("yesterday", 0.0).is_none());
        assert!(rfc3339_add("2026-13-01T00:00:00Z", 0.0).is_none());
    }

    #[test]
    fn storm_tide_peaks_where_asked() {
        let st = StormTide {
            peak_z: 8.10,
            peak_s: 6.0 * 3600.0,
            mean_z: 0.2,
            tidal_range_m: 3.7,
            period_s: 44_712.0,
            surge_duration_s: 36_000.0,
            step_s: 300.0,
            end_s: 12.0 * 3600.0,
        };
        let s = st.series("surge").unwrap();
        let (lo, hi) = s.range();
        assert!((hi - 8.10).abs() < 1e-12, "{hi}");
        assert!(lo > -2.0 && lo < 2.0, "{lo}");
        assert_eq!(s.value_at(st.peak_s), 8.10);
        assert_eq!(*s.times_s().last().unwrap(), 12.0 * 3600.0);
        let low = StormTide { peak_z: 1.0, ..st };
        assert!(
            low.series("x")
                .unwrap_err()
                .to_string()
                .contains("no surge")
        );
    }
}
