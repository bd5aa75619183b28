//! The sun over a site: SPA positions turned into directions in the city's projected grid
//! (correcting for the meridian convergence, the angle between grid north and true north),
//! and sun series over a day or a date range for sun-hour sweeps.

use crate::error::{Result, ShadowError};
use crate::spa::{self, SpaInput};
use crate::sweep::SunStep;
use crate::time::UtcTime;
use twin_core::crs::Crs;
use twin_core::raster::GridSpec;

/// Where the sun is observed from, with the atmosphere for refraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    pub latitude_deg: f64,
    /// East positive.
    pub longitude_deg: f64,
    pub elevation_m: f64,
    pub pressure_hpa: f64,
    pub temperature_c: f64,
    /// TT − UT1 in seconds; `None`: the estimate for the year ([`spa::delta_t_estimate`]).
    pub delta_t_s: Option<f64>,
    /// Grid azimuth of true north, degrees clockwise from grid north (the meridian
    /// convergence with its sign): a true azimuth `A` is the grid azimuth `A + this`.
    pub true_north_grid_deg: f64,
}

/// The sun at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SunPosition {
    pub time: UtcTime,
    /// Topocentric zenith angle with refraction.
    pub zenith_deg: f64,
    /// Clockwise from true north.
    pub azimuth_deg: f64,
    /// 90° − zenith.
    pub elevation_deg: f64,
    /// Clockwise from grid north.
    pub grid_azimuth_deg: f64,
    /// Unit vector towards the sun in the grid frame (x grid east, y grid north, z up).
    pub dir: [f64; 3],
}

impl Site {
    /// A site at sea level with the standard atmosphere (1013.25 hPa, 12 °C), ΔT estimated,
    /// grid north = true north.
    pub fn new(latitude_deg: f64, longitude_deg: f64) -> Site {
        Site {
            latitude_deg,
            longitude_deg,
            elevation_m: 0.0,
            pressure_hpa: 1013.25,
            temperature_c: 12.0,
            delta_t_s: None,
            true_north_grid_deg: 0.0,
        }
    }

    /// The site at the centre of a projected grid, with the convergence of its CRS there.
    pub fn for_grid(spec: &GridSpec) -> Result<Site> {
        let epsg = spec.epsg.filter(|&e| e != 0).ok_or_else(|| {
            ShadowError::input(
                "grid",
                "has no CRS (EPSG code): the sun position needs the site's latitude and longitude",
            )
        })?;
        let crs =
            Crs::from_epsg(epsg).map_err(|e| ShadowError::input("grid CRS", e.to_string()))?;
        let b = spec.bbox();
        let (x, y) = (0.5 * (b.min[0] + b.max[0]), 0.5 * (b.min[1] + b.max[1]));
        let [lon, lat] = crs
            .to_wgs84(x, y)
            .map_err(|e| ShadowError::input("grid centre", e.to_string()))?;
        let mut site = Site::new(lat, lon);
        site.true_north_grid_deg = grid_azimuth_of_true_north(&crs, lon, lat)?;
        Ok(site)
    }

    fn input(&self, t: UtcTime) -> SpaInput {
        let mut i = SpaInput::new(t, self.latitude_deg, self.longitude_deg);
        i.elevation_m = self.elevation_m;
        i.pressure_hpa = self.pressure_hpa;
        i.temperature_c = self.temperature_c;
        i.delta_t_s = self
            .delta_t_s
            .unwrap_or_else(|| spa::delta_t_estimate(t.year_fraction()));
        i
    }

    /// Check the site's values (the SPA's ranges).
    pub fn validate(&self) -> Result<()> {
        self.input(UtcTime(0.0)).validate()?;
        if !self.true_north_grid_deg.is_finite() || self.true_north_grid_deg.abs() > 45.0 {
            return Err(ShadowError::param(
                "true_north_grid_deg",
                format!(
                    "{} is not a plausible grid convergence",
                    self.true_north_grid_deg
                ),
            ));
        }
        Ok(())
    }

    /// The sun at `t`.
    pub fn position(&self, t: UtcTime) -> Result<SunPosition> {
        let (zenith_deg, azimuth_deg, elevation_deg) = spa::sun_position(&self.input(t))?;
        let grid_azimuth_deg = (azimuth_deg + self.true_north_grid_deg).rem_euclid(360.0);
        Ok(SunPosition {
            time: t,
            zenith_deg,
            azimuth_deg,
            elevation_deg,
            grid_azimuth_deg,
            dir: direction(grid_azimuth_deg, elevation_deg),
        })
    }
}

/// Unit vector towards a sun at this grid azimuth and elevation.
pub fn direction(grid_azimuth_deg: f64, elevation_deg: f64) -> [f64; 3] {
    let (a, e) = (grid_azimuth_deg.to_radians(), elevation_deg.to_radians());
    [a.sin() * e.cos(), a.cos() * e.cos(), e.sin()]
}

/// The grid azimuth of true north at (lon, lat) in a projected CRS: the direction of a short
/// step north along the meridian, measured in the grid (numerical, valid for any projection).
pub fn grid_azimuth_of_true_north(crs: &Crs, lon: f64, lat: f64) -> Result<f64> {
    if crs.is_geographic() {
        return Ok(0.0);
    }
    let e = |err: twin_core::Error| ShadowError::input("meridian convergence", err.to_string());
    let d = 1e-4;
    let a = crs.from_wgs84(lon, lat - d).map_err(e)?;
    let b = crs.from_wgs84(lon, lat + d).map_err(e)?;
    Ok((b[0] - a[0]).atan2(b[1] - a[1]).to_degrees())
}

/// Sun positions over `[start, end)` for sun-hour sweeps.
#[derive(Debug, Clone, Default)]
pub struct SunSeries {
    /// Directions with their weights (whole seconds above the elevation threshold).
    pub steps: Vec<SunStep>,
    /// The positions behind `steps`, same order.
    pub positions: Vec<SunPosition>,
    /// Seconds with the sun above the threshold over the whole period (the sun hours of an
    /// unobstructed horizontal cell).
    pub possible_s: u64,
}

/// Sample `[start, end)` every `step_s` seconds. Each interval is represented by one sun
/// position at the middle of its part above `min_elevation_deg`, weighted by the length of
/// that part (elevation linear between the interval's ends and middle), so that sun hours
/// of open ground equal the time between the threshold crossings, not a multiple of the
/// step.
pub fn sun_series(
    site: &Site,
    start: UtcTime,
    end: UtcTime,
    step_s: f64,
    min_elevation_deg: f64,
) -> Result<SunSeries> {
    if !(1.0..=86_400.0).contains(&step_s) {
        return Err(ShadowError::param(
            "step",
            format!("{step_s} s; expected 1 s to 1 day"),
        ));
    }
    if !(min_elevation_deg.is_finite() && (-5.0..90.0).contains(&min_elevation_deg)) {
        return Err(ShadowError::param(
            "min_elevation_deg",
            format!("{min_elevation_deg}; expected -5 to 90 degrees"),
        ));
    }
    let span = end.0 - start.0;
    if span.is_nan() || span <= 0.0 || span > 367.0 * 86_400.0 * 10.0 {
        return Err(ShadowError::param(
            "period",
            "must end after it starts and span at most 10 years",
        ));
    }
    site.validate()?;
    let mut out = SunSeries::default();
    let mut a = start.0;
    let mut ea = site.position(UtcTime(a))?.elevation_deg;
    while a < end.0 {
        let b = (a + step_s).min(end.0);
        let m = 0.5 * (a + b);
        let em = site.position(UtcTime(m))?.elevation_deg;
        let eb = site.position(UtcTime(b))?.elevation_deg;
        let (above_s, centre) = time_above(a, m, b, ea, em, eb, min_elevation_deg);
        let w = above_s.round() as u32;
        if w > 0 {
            let p = if (centre - m).abs() < 1e-9 {
                site.position(UtcTime(m))?
            } else {
                site.position(UtcTime(centre))?
            };
            out.steps.push(SunStep {
                dir: p.dir,
                weight_s: w,
            });
            out.positions.push(p);
            out.possible_s += u64::from(w);
        }
        a = b;
        ea = eb;
    }
    Ok(out)
}

/// Length of the part of [a, b] with the elevation above `th` (piecewise linear through the
/// ends and the middle), and the centre of that part.
fn time_above(a: f64, m: f64, b: f64, ea: f64, em: f64, eb: f64, th: f64) -> (f64, f64) {
    let mut len = 0.0;
    let mut moment = 0.0;
    for (t0, t1, e0, e1) in [(a, m, ea, em), (m, b, em, eb)] {
        let (s, e) = match (e0 >= th, e1 >= th) {
            (true, true) => (t0, t1),
            (false, false) => continue,
            (true, false) => (t0, t0 + (t1 - t0) * (e0 - th) / (e0 - e1)),
            (false, true) => (t0 + (t1 - t0) * (th - e0) / (e1 - e0), t1),
        };
        len += e - s;
        moment += (e - s) * 0.5 * (s + e);
    }
    if len > 0.0 {
        (len, moment / len)
    } else {
        (0.0, m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_convergence_in_hamburg_has_the_textbook_size_and_sign() {
        // UTM 32 (central meridian 9° E); Hamburg at 10° E: gamma ≈ (lon − 9°) sin(lat).
        let crs = Crs::from_epsg(25832).unwrap();
        let g = grid_azimuth_of_true_north(&crs, 10.0, 53.55).unwrap();
        let dlon = 10.0 - 9.0;
        let approx = -(dlon * 53.55f64.to_radians().sin());
        // East of the central meridian the meridians converge towards the pole: true north
        // points to the grid's north-west, i.e. a negative grid azimuth.
        assert!(
            (g - approx).abs() < 0.01,
            "convergence {g}, approx {approx}"
        );
        // On the central meridian there is none.
        assert!(grid_azimuth_of_true_north(&crs, 9.0, 53.55).unwrap().abs() < 1e-6);
    }

    #[test]
    fn time_above_interpolates_the_crossing() {
        // Rising through 6 degrees at a quarter of the interval.
        let (len, c) = time_above(0.0, 30.0, 60.0, 5.0, 7.0, 9.0, 6.0);
        assert!((len - 45.0).abs() < 1e-9 && (c - 37.5).abs() < 1e-9);
        let (len, _) = time_above(0.0, 30.0, 60.0, 1.0, 2.0, 3.0, 6.0);
        assert_eq!(len, 0.0);
    }
}
