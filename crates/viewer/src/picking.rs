//! The report shown when a user taps a building: plain labels, values with units.
//!
//! [`BuildingReport::new`] collects what is known about one building from the city model
//! and, when given, the results folder and the estimated residents. Only rows with data
//! appear, always in the same order. Numbers have fixed decimals: heights and depths in
//! metres with 1 or 2 decimals, hours with 1, energy rounded to whole kWh with thousands
//! separators. Times on the flood clock are shown as `h:mm` after the flood's start (whole
//! minutes, rounded down) and, when the flood has a start time, the local clock time.

use crate::results::Results;
use twin_core::model::{Address, Building, BuildingUse};

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// What it is, in plain words.
    pub label: String,
    /// The value with its unit.
    pub value: String,
}

/// What the viewer shows for a tapped building.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildingReport {
    /// The building id.
    pub id: String,
    /// The rows, in display order.
    pub rows: Vec<ReportRow>,
}

impl BuildingReport {
    /// The report for `building`, with the results of a run and its estimated residents
    /// (see [`crate::situation::residents_by_building`]) when known.
    pub fn new(
        building: &Building,
        results: Option<&Results>,
        residents: Option<f64>,
    ) -> BuildingReport {
        let mut rows = Vec::new();
        let mut row = |label: &str, value: String| {
            rows.push(ReportRow {
                label: label.to_string(),
                value,
            });
        };
        let id = building.id.clone();
        row("Building", id.clone());
        if let Some(a) = building.address.as_ref().and_then(address_text) {
            row("Address", a);
        }
        row("Use", capitalised(building.usage.as_str()));
        if let Some(h) = building.height_m().filter(|h| h.is_finite()) {
            row("Height", format!("{h:.1} m"));
        }
        if let Some(s) = building.storeys {
            row("Storeys", s.to_string());
        }
        if let Some(z) = building.ground_z.filter(|z| z.is_finite()) {
            row("Ground level", format!("{z:.2} m NHN"));
        }
        // Zero residents is news only for a residential building.
        if let Some(r) = residents.filter(|r| {
            r.is_finite() && (*r > 0.0 || (*r == 0.0 && building.usage == BuildingUse::Residential))
        }) {
            row("Residents (estimated)", grouped(r));
        }
        let flood = results.and_then(|r| r.flood.as_ref());
        if let Some(f) = flood.and_then(|f| f.buildings.get(&id)) {
            if f.max_depth_m.is_finite() {
                row(
                    "Deepest flood water at the building",
                    format!("{:.2} m", f.max_depth_m),
                );
            }
            if let Some(t) = f.first_flooded_s.filter(|t| t.is_finite()) {
                let origin = flood.and_then(|f| f.origin.as_deref());
                row("Water reaches the building", flood_time(t, origin));
            }
            if !f.hazard_class.is_empty() {
                row("Flood hazard (highest)", f.hazard_class.clone());
            }
        }
        if let Some(s) = results.and_then(|r| r.shadow.as_ref()) {
            if let Some(d) = s.daylight.get(&id) {
                row(
                    "Daylight, DIN 5034-1",
                    format!(
                        "{}: {} of {} windows pass",
                        d.din_status, d.din_pass, d.windows
                    ),
                );
                if !d.en_lowest.is_empty() {
                    row("Sunlight, EN 17037 (lowest window)", d.en_lowest.clone());
                }
            }
            if let Some(w) = s.window_hours.get(&id)
                && w.mean_equinox_h.is_finite()
                && w.min_equinox_h.is_finite()
            {
                let day = s
                    .din_equinox
                    .as_deref()
                    .map_or(String::new(), |d| format!(" ({d})"));
                row(
                    &format!("Window sun hours, equinox{day}"),
                    format!(
                        "mean {:.1} h, least {:.1} h ({} windows)",
                        w.mean_equinox_h, w.min_equinox_h, w.windows
                    ),
                );
                if w.mean_january_h.is_finite() {
                    let day = s
                        .din_january
                        .as_deref()
                        .map_or(String::new(), |d| format!(" ({d})"));
                    row(
                        &format!("Window sun hours, winter day{day}"),
                        format!("mean {:.1} h", w.mean_january_h),
                    );
                }
                if w.changed > 0 {
                    row(
                        "Windows changed by the plan",
                        format!("{} of {}", w.changed, w.windows),
                    );
                }
            }
            if let Some(p) = s.solar.get(&id)
                && p.kwh_per_year.is_finite()
            {
                let mut v = format!("{} kWh/year", grouped(p.kwh_per_year));
                if p.kwh_per_m2_year.is_finite() && p.roof_area_m2.is_finite() {
                    v.push_str(&format!(
                        " ({} kWh/m² on {} m² of roof)",
                        grouped(p.kwh_per_m2_year),
                        grouped(p.roof_area_m2)
                    ));
                }
                row("Solar energy on the roof", v);
            }
        }
        BuildingReport { id, rows }
    }

    /// The value of the row `label`, if present.
    pub fn value(&self, label: &str) -> Option<&str> {
        self.rows
            .iter()
            .find(|r| r.label == label)
            .map(|r| r.value.as_str())
    }
}

/// `Street 12, 20457 City, Country`; `None` when nothing is given.
fn address_text(a: &Address) -> Option<String> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let join = |parts: [Option<String>; 2]| {
        let v: Vec<String> = parts.into_iter().flatten().collect();
        (!v.is_empty()).then(|| v.join(" "))
    };
    let parts: Vec<String> = [
        join([clean(&a.street), clean(&a.house_number)]),
        join([clean(&a.postcode), clean(&a.city)]),
        clean(&a.country),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Rounded to a whole number with `,` between thousands: `1,232,508`.
fn grouped(x: f64) -> String {
    let r = x.round();
    if !r.is_finite() {
        return x.to_string();
    }
    let digits = format!("{:.0}", r.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if r < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// `h:mm` of `t_s` on the flood clock (whole minutes, rounded down).
pub fn hm(t_s: f64) -> String {
    let m = (t_s.abs() / 60.0).floor();
    let (h, m) = ((m / 60.0).floor(), m % 60.0);
    format!("{h:.0}:{m:02.0}")
}

/// `4:02 after the start (2026-12-06 16:02)`.
fn flood_time(t_s: f64, origin: Option<&str>) -> String {
    let rel = if t_s < 0.0 {
        format!("{} before the start", hm(t_s))
    } else {
        format!("{} after the start", hm(t_s))
    };
    // Clock time to the minute, from the RFC 3339 origin.
    let clock = origin
        .and_then(|o| twin_core::timeseries::rfc3339_add(o, (t_s / 60.0).floor() * 60.0))
        .and_then(|s| Some(format!("{} {}", s.get(..10)?, s.get(11..16)?)));
    match clock {
        Some(c) => format!("{rel} ({c})"),
        None => rel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::tests::{evac_folder, folder, summary};

    fn building(id: &str) -> Building {
        Building {
            id: id.into(),
            ground_z: Some(4.289),
            roof_z: Some(16.35),
            storeys: Some(4),
            usage: BuildingUse::Residential,
            address: Some(Address {
                street: Some("Am Elbkai".into()),
                house_number: Some("12".into()),
                postcode: Some("20457".into()),
                city: Some("Hamburg".into()),
                country: None,
            }),
            ..Default::default()
        }
    }

    fn labels(r: &BuildingReport) -> Vec<&str> {
        r.rows.iter().map(|r| r.label.as_str()).collect()
    }

    #[test]
    fn city_only() {
        let r = BuildingReport::new(&building("B1"), None, Some(37.4));
        assert_eq!(r.id, "B1");
        assert_eq!(
            labels(&r),
            [
                "Building",
                "Address",
                "Use",
                "Height",
                "Storeys",
                "Ground level",
                "Residents (estimated)"
            ]
        );
        assert_eq!(r.value("Address"), Some("Am Elbkai 12, 20457 Hamburg"));
        assert_eq!(r.value("Use"), Some("Residential"));
        assert_eq!(r.value("Height"), Some("12.1 m"));
        assert_eq!(r.value("Storeys"), Some("4"));
        assert_eq!(r.value("Ground level"), Some("4.29 m NHN"));
        assert_eq!(r.value("Residents (estimated)"), Some("37"));
    }

    #[test]
    fn only_rows_with_data() {
        let b = Building {
            id: "X".into(),
            ground_z: Some(f64::NAN),
            address: Some(Address::default()),
            ..Default::default()
        };
        let r = BuildingReport::new(&b, None, Some(f64::NAN));
        assert_eq!(labels(&r), ["Building", "Use"]);
        let r = BuildingReport::new(&b, None, Some(0.0));
        assert_eq!(labels(&r), ["Building", "Use"]);
        assert_eq!(r.value("Use"), Some("Other"));
        let r = BuildingReport::new(&building("R"), None, Some(0.0));
        assert_eq!(r.value("Residents (estimated)"), Some("0"));
    }

    #[test]
    fn flood_rows() {
        let d = evac_folder();
        let res = Results::load(d.path()).unwrap();
        let r = BuildingReport::new(&building("B1"), Some(&res), None);
        assert_eq!(
            r.value("Deepest flood water at the building"),
            Some("2.00 m")
        );
        assert_eq!(
            r.value("Water reaches the building"),
            Some("0:01 after the start (2026-12-06 12:01)")
        );
        assert_eq!(r.value("Flood hazard (highest)"), Some("extreme"));
        let r = BuildingReport::new(&building("B2"), Some(&res), None);
        assert_eq!(
            r.value("Deepest flood water at the building"),
            Some("0.05 m")
        );
        assert!(r.value("Water reaches the building").is_none());
        let r = BuildingReport::new(&building("B7"), Some(&res), None);
        assert!(r.value("Flood hazard (highest)").is_none());
    }

    #[test]
    fn shadow_rows() {
        let d = folder(&[
            (
                "summary.json",
                &summary(
                    ",\"shadow\":{\"windows\":{\"din_equinox\":\"2026-03-21\",\"din_january\":\"2026-01-17\"}}",
                ),
            ),
            (
                "daylight_buildings.csv",
                "building,windows,din_pass,din_fail,din_status,en17037_none,en17037_minimum,en17037_medium,en17037_high,en17037_lowest\nB1,2,1,1,partial,1,0,0,1,none\n",
            ),
            (
                "solar_buildings.csv",
                "building,roof_area_m2,kwh_per_year,kwh_per_m2_year\nB1,780.00,1232508.3,1580.1\n",
            ),
            (
                "windows.csv",
                "id,building,x,y,z,azimuth_deg,din_equinox_h,din_january_h,din_pass,en17037_h,en17037_level,base_din_pass,base_en17037_level,change\n\
                 B1-w1,B1,0,0,1,180,6.04,2.0,true,5,high,true,high,\n\
                 B1-w2,B1,0,0,4,180,3.0,1.0,false,2,minimum,true,high,din_fails\n",
            ),
        ]);
        let res = Results::load(d.path()).unwrap();
        let r = BuildingReport::new(&building("B1"), Some(&res), None);
        assert_eq!(
            r.value("Daylight, DIN 5034-1"),
            Some("partial: 1 of 2 windows pass")
        );
        assert_eq!(r.value("Sunlight, EN 17037 (lowest window)"), Some("none"));
        assert_eq!(
            r.value("Window sun hours, equinox (2026-03-21)"),
            Some("mean 4.5 h, least 3.0 h (2 windows)")
        );
        assert_eq!(
            r.value("Window sun hours, winter day (2026-01-17)"),
            Some("mean 1.5 h")
        );
        assert_eq!(r.value("Windows changed by the plan"), Some("1 of 2"));
        assert_eq!(
            r.value("Solar energy on the roof"),
            Some("1,232,508 kWh/year (1,580 kWh/m² on 780 m² of roof)")
        );
        // Same order every time.
        let again = BuildingReport::new(&building("B1"), Some(&res), None);
        assert_eq!(r, again);
    }

    #[test]
    fn formatting_helpers() {
        assert_eq!(hm(0.0), "0:00");
        assert_eq!(hm(14550.0), "4:02");
        assert_eq!(hm(3599.9), "0:59");
        assert_eq!(hm(90000.0), "25:00");
        assert_eq!(flood_time(-600.0, None), "0:10 before the start");
        assert_eq!(
            flood_time(14550.0, Some("2026-12-06T12:00:00+01:00")),
            "4:02 after the start (2026-12-06 16:02)"
        );
        assert_eq!(flood_time(60.0, Some("garbage")), "0:01 after the start");
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.5), "1,000");
        assert_eq!(grouped(1234567.0), "1,234,567");
        assert_eq!(grouped(-1234.0), "-1,234");
        assert_eq!(capitalised(""), "");
        let a = Address {
            city: Some("Hamburg".into()),
            street: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(address_text(&a).as_deref(), Some("Hamburg"));
    }
}
