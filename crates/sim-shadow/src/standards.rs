//! Daylight standards for windows: DIN 5034-1 (possible sunshine duration) and EN 17037
//! (exposure to sunlight), per window and per building.
//!
//! - **DIN 5034-1**: a window passes when it can receive at least 4 h of sun at the equinox
//!   and at least 1 h on 17 January, counting only sun at least 6° above the horizon.
//! - **EN 17037**: on one chosen day between 1 February and 21 March, a window reaches the
//!   level *minimum* with 1.5 h, *medium* with 3 h and *high* with 4 h of sun above a
//!   minimum elevation (11° in Germany's national annex; configurable).
//!
//! The durations come from [`crate::facade`] with the sun positions of the standard's day
//! and elevation threshold; this module only applies the rules.

use crate::error::{Result, ShadowError};

/// DIN 5034-1 thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Din5034 {
    pub equinox_min_h: f64,
    pub january_min_h: f64,
    pub min_elevation_deg: f64,
}

impl Default for Din5034 {
    fn default() -> Self {
        Din5034 {
            equinox_min_h: 4.0,
            january_min_h: 1.0,
            min_elevation_deg: 6.0,
        }
    }
}

/// EN 17037 thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct En17037 {
    pub minimum_h: f64,
    pub medium_h: f64,
    pub high_h: f64,
    pub min_elevation_deg: f64,
}

impl Default for En17037 {
    fn default() -> Self {
        En17037 {
            minimum_h: 1.5,
            medium_h: 3.0,
            high_h: 4.0,
            min_elevation_deg: 11.0,
        }
    }
}

impl En17037 {
    pub fn validate(&self) -> Result<()> {
        if !(self.min_elevation_deg.is_finite() && (0.0..=45.0).contains(&self.min_elevation_deg)) {
            return Err(ShadowError::param(
                "en17037.min_elevation_deg",
                format!("{}; expected 0 to 45 degrees", self.min_elevation_deg),
            ));
        }
        Ok(())
    }

    pub fn level(&self, hours: f64) -> EnLevel {
        if hours >= self.high_h {
            EnLevel::High
        } else if hours >= self.medium_h {
            EnLevel::Medium
        } else if hours >= self.minimum_h {
            EnLevel::Minimum
        } else {
            EnLevel::None
        }
    }
}

/// Is a date (month, day) allowed as the EN 17037 assessment day (1 February to 21 March)?
pub fn en17037_day_allowed(month: u32, day: u32) -> bool {
    (month == 2) || (month == 3 && day <= 21)
}

/// EN 17037 level reached by a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EnLevel {
    None,
    Minimum,
    Medium,
    High,
}

impl EnLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EnLevel::None => "none",
            EnLevel::Minimum => "minimum",
            EnLevel::Medium => "medium",
            EnLevel::High => "high",
        }
    }
    pub const ALL: [EnLevel; 4] = [
        EnLevel::None,
        EnLevel::Minimum,
        EnLevel::Medium,
        EnLevel::High,
    ];
}

/// One window's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowAssessment {
    pub din_equinox_h: f64,
    pub din_january_h: f64,
    pub din_pass: bool,
    pub en_h: f64,
    pub en_level: EnLevel,
}

/// Apply both standards to one window's sun seconds.
pub fn assess(
    din: &Din5034,
    en: &En17037,
    equinox_s: u32,
    january_s: u32,
    en_day_s: u32,
) -> WindowAssessment {
    let h = |s: u32| f64::from(s) / 3600.0;
    let (eq, jan, e) = (h(equinox_s), h(january_s), h(en_day_s));
    WindowAssessment {
        din_equinox_h: eq,
        din_january_h: jan,
        din_pass: eq >= din.equinox_min_h && jan >= din.january_min_h,
        en_h: e,
        en_level: en.level(e),
    }
}

/// A building's windows summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingAssessment {
    pub building: u32,
    pub windows: usize,
    pub din_pass: usize,
    /// Windows per EN level, in [`EnLevel::ALL`] order.
    pub en_levels: [usize; 4],
}

impl BuildingAssessment {
    /// `pass` (every window passes DIN 5034-1), `partial`, or `fail` (none does).
    pub fn din_status(&self) -> &'static str {
        if self.din_pass == self.windows {
            "pass"
        } else if self.din_pass > 0 {
            "partial"
        } else {
            "fail"
        }
    }
    /// The lowest EN 17037 level among the building's windows.
    pub fn en_lowest(&self) -> EnLevel {
        EnLevel::ALL
            .into_iter()
            .zip(self.en_levels)
            .find(|(_, n)| *n > 0)
            .map_or(EnLevel::None, |(l, _)| l)
    }
}

/// Per building (sorted by building index) from per-window results.
pub fn by_building(building: &[u32], windows: &[WindowAssessment]) -> Vec<BuildingAssessment> {
    let mut map = std::collections::BTreeMap::<u32, BuildingAssessment>::new();
    for (&b, w) in building.iter().zip(windows) {
        let e = map.entry(b).or_insert(BuildingAssessment {
            building: b,
            windows: 0,
            din_pass: 0,
            en_levels: [0; 4],
        });
        e.windows += 1;
        e.din_pass += usize::from(w.din_pass);
        e.en_levels[w.en_level as usize] += 1;
    }
    map.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive() {
        let (din, en) = (Din5034::default(), En17037::default());
        let a = assess(&din, &en, 4 * 3600, 3600, 5400);
        assert!(a.din_pass);
        assert_eq!(a.en_level, EnLevel::Minimum);
        let b = assess(&din, &en, 4 * 3600 - 1, 7200, 4 * 3600);
        assert!(!b.din_pass);
        assert_eq!(b.en_level, EnLevel::High);
        assert_eq!(en.level(2.99), EnLevel::Minimum);
        assert_eq!(en.level(3.0), EnLevel::Medium);
        assert_eq!(en.level(1.49), EnLevel::None);
    }

    #[test]
    fn buildings_summarise_their_windows() {
        let (din, en) = (Din5034::default(), En17037::default());
        let w = [
            assess(&din, &en, 5 * 3600, 2 * 3600, 4 * 3600),
            assess(&din, &en, 0, 0, 0),
            assess(&din, &en, 5 * 3600, 2 * 3600, 2 * 3600),
        ];
        let b = by_building(&[7, 7, 3], &w);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].building, b[0].din_status()), (3, "pass"));
        assert_eq!((b[1].building, b[1].din_status()), (7, "partial"));
        assert_eq!(b[1].en_lowest(), EnLevel::None);
        assert_eq!(b[0].en_lowest(), EnLevel::Minimum);
        assert!(en17037_day_allowed(3, 21) && !en17037_day_allowed(3, 22));
        assert!(en17037_day_allowed(2, 1) && !en17037_day_allowed(1, 31));
    }
}
