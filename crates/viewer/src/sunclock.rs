//! The sun for the date and time sliders: a local civil date and time at the site, the SPA
//! position for it (`sim_shadow`), sunrise and sunset of the day, and "play the day".

use sim_shadow::sun::{Site, SunPosition};
use sim_shadow::time::{TimeZone, UtcTime};

use crate::error::{Result, ViewError};

/// Date, time of day and time zone of the sun shown in the viewer.
#[derive(Debug, Clone)]
pub struct SunClock {
    pub site: Site,
    pub tz: TimeZone,
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// Local clock time in minutes after midnight (0..1440).
    pub minute_of_day: f64,
    /// "Play the day": advances the clock.
    pub playing: bool,
    /// Simulated minutes per real second while playing.
    pub minutes_per_s: f64,
    /// Sunrise and sunset of the last date asked for (the panels ask every frame); keyed by
    /// the date alone, as site and time zone stay as built.
    daylight_cache: Option<((i32, u32, u32), DayLight)>,
}

/// The first and last minute of the day with the sun above the horizon (local clock), or
/// `None` on a polar night; `(0, 1440)` on a polar day.
pub type DayLight = Option<(f64, f64)>;

impl SunClock {
    /// The clock at a site, on a date, at a local time.
    pub fn new(
        site: Site,
        tz: TimeZone,
        date: (i32, u32, u32),
        minute_of_day: f64,
    ) -> Result<Self> {
        let c = SunClock {
            site,
            tz,
            year: date.0,
            month: date.1,
            day: date.2,
            minute_of_day: minute_of_day.clamp(0.0, 1439.0),
            playing: false,
            minutes_per_s: 60.0,
            daylight_cache: None,
        };
        c.utc()?;
        Ok(c)
    }

    /// The clock at an instant (RFC 3339), shown in `tz`.
    pub fn at_rfc3339(site: Site, tz: TimeZone, text: &str) -> Result<Self> {
        let t =
            UtcTime::parse_rfc3339(text).map_err(|e| ViewError::arg("--time", e.to_string()))?;
        Self::at_utc(site, tz, t)
    }

    /// The clock at a UTC instant, shown in `tz`.
    pub fn at_utc(site: Site, tz: TimeZone, t: UtcTime) -> Result<Self> {
        let off = tz
            .offset_min_at(t)
            .map_err(|e| ViewError::arg("time zone", e.to_string()))?;
        let (y, mo, d, h, mi, s) = t.add_seconds(f64::from(off) * 60.0).to_civil();
        Self::new(site, tz, (y, mo, d), f64::from(h * 60 + mi) + s / 60.0)
    }

    /// The instant shown. Times in the spring gap of summer time move to its end.
    pub fn utc(&self) -> Result<UtcTime> {
        let m = self.minute_of_day.clamp(0.0, 1439.999);
        let (h, mi) = ((m / 60.0).floor() as u32, (m % 60.0).floor() as u32);
        let s = (m * 60.0) % 60.0;
        self.tz
            .local_to_utc(self.year, self.month, self.day, h, mi, s)
            .or_else(|_| {
                // In the spring gap: one hour later exists.
                self.tz
                    .local_to_utc(self.year, self.month, self.day, (h + 1).min(23), mi, s)
            })
            .map_err(|e| ViewError::arg("date/time", e.to_string()))
    }

    /// The sun's position now.
    pub fn position(&self) -> Result<SunPosition> {
        self.site
            .position(self.utc()?)
            .map_err(|e| ViewError::arg("sun position", e.to_string()))
    }

    /// Sunrise and sunset of the day in local clock minutes, by bisection on the SPA
    /// elevation (0° at the sun's centre, refraction included) over 10-minute brackets.
    /// Cached per date.
    pub fn daylight(&mut self) -> DayLight {
        let date = (self.year, self.month, self.day);
        if let Some((d, v)) = self.daylight_cache
            && d == date
        {
            return v;
        }
        let v = self.compute_daylight();
        self.daylight_cache = Some((date, v));
        v
    }

    fn compute_daylight(&self) -> DayLight {
        let elev = |m: f64| -> f64 {
            let mut c = self.clone();
            c.minute_of_day = m;
            c.position().map_or(-90.0, |p| p.elevation_deg)
        };
        let step = 10.0;
        let mut prev_m = 0.0;
        let mut prev = elev(0.0);
        let (mut rise, mut set) = (None, None);
        let mut m: f64 = step;
        while m <= 1440.0 {
            let mm = m.min(1439.999);
            let e = elev(mm);
            if (prev <= 0.0) != (e <= 0.0) {
                let (mut a, mut b) = (prev_m, mm);
                for _ in 0..30 {
                    let mid = 0.5 * (a + b);
                    if (elev(mid) <= 0.0) == (prev <= 0.0) {
                        a = mid;
                    } else {
                        b = mid;
                    }
                }
                if prev <= 0.0 {
                    rise.get_or_insert(0.5 * (a + b));
                } else {
                    set = Some(0.5 * (a + b));
                }
            }
            prev_m = mm;
            prev = e;
            m += step;
        }
        match (rise, set) {
            (Some(r), Some(s)) if s > r => Some((r, s)),
            (None, None) if elev(720.0) > 0.0 => Some((0.0, 1440.0)),
            (None, None) => None,
            (r, s) => Some((r.unwrap_or(0.0), s.unwrap_or(1440.0))),
        }
    }

    /// Advance while playing: from sunrise to sunset, then wraps to sunrise. Returns true
    /// if the time changed.
    pub fn advance(&mut self, real_dt_s: f64, daylight: DayLight) -> bool {
        if !self.playing || real_dt_s.is_nan() || real_dt_s <= 0.0 {
            return false;
        }
        let (a, b) = daylight.unwrap_or((0.0, 1440.0));
        let mut m = self.minute_of_day + real_dt_s * self.minutes_per_s;
        if m < a || m > b {
            m = a;
        }
        self.minute_of_day = m;
        true
    }

    /// "2026-03-21 14:30" (local).
    pub fn label(&self) -> String {
        let m = self.minute_of_day.round() as u32;
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year,
            self.month,
            self.day,
            (m / 60).min(23),
            if m >= 1440 { 59 } else { m % 60 }
        )
    }

    /// Set the date (validated); the time of day is kept.
    pub fn set_date(&mut self, y: i32, m: u32, d: u32) -> Result<()> {
        let old = (self.year, self.month, self.day);
        (self.year, self.month, self.day) = (y, m, d);
        if let Err(e) = self.utc() {
            (self.year, self.month, self.day) = old;
            return Err(e);
        }
        Ok(())
    }
}

/// Minutes "h:mm".
pub fn hm(minutes: f64) -> String {
    let m = minutes.round().max(0.0) as u64;
    format!("{}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hamburg() -> SunClock {
        let site = Site::new(53.55, 9.99);
        let tz = TimeZone::parse("Europe/Berlin").unwrap();
        SunClock::new(site, tz, (2026, 3, 21), 12.0 * 60.0).unwrap()
    }

    #[test]
    fn equinox_noon_in_hamburg() {
        let mut c = hamburg();
        let p = c.position().unwrap();
        // Local noon 12:00 CET ≈ 11:00 UTC; solar noon is about 12:27 CET at 10° E.
        assert!(
            p.azimuth_deg > 160.0 && p.azimuth_deg < 180.0,
            "{}",
            p.azimuth_deg
        );
        assert!((p.elevation_deg - 36.0).abs() < 1.5, "{}", p.elevation_deg);
        let (rise, set) = c.daylight().unwrap();
        eprintln!(
            "equinox: sunrise {} sunset {} length {:.1} min",
            hm(rise),
            hm(set),
            set - rise
        );
        // About 06:20 and 18:40 CET; the day is about 12 h 10 min with refraction.
        assert!((rise - 6.3 * 60.0).abs() < 15.0, "{}", hm(rise));
        assert!((set - 18.6 * 60.0).abs() < 15.0, "{}", hm(set));
        assert!(((set - rise) - 732.0).abs() < 10.0, "{}", set - rise);
    }

    #[test]
    fn summer_time_and_rfc3339() {
        let site = Site::new(53.55, 9.99);
        let tz = TimeZone::parse("Europe/Berlin").unwrap();
        let c = SunClock::at_rfc3339(site, tz.clone(), "2026-06-21T10:00:00Z").unwrap();
        assert_eq!(c.label(), "2026-06-21 12:00");
        // A time in the spring gap is moved on rather than failing.
        let g = SunClock::new(site, tz.clone(), (2026, 3, 29), 2.0 * 60.0 + 30.0).unwrap();
        assert!(g.utc().is_ok());
        assert!(SunClock::at_rfc3339(site, tz, "yesterday").is_err());
    }

    #[test]
    fn play_the_day_wraps_within_daylight() {
        let mut c = hamburg();
        let day = c.daylight();
        let (_, set) = day.unwrap();
        assert!(!c.advance(1.0, day));
        c.playing = true;
        c.minute_of_day = set - 1.0;
        assert!(c.advance(0.5, day));
        // 30 simulated minutes later the sun has set: wrap to sunrise.
        assert_eq!(c.minute_of_day, day.unwrap().0);
        let mut bad = hamburg();
        assert!(bad.set_date(2026, 2, 30).is_err());
        assert_eq!((bad.year, bad.month, bad.day), (2026, 3, 21));
        assert_eq!(hm(75.4), "1:15");
    }
}
