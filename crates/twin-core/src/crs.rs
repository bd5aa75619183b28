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
        code: 25834,
        name: "ETRS89 / UTM zone 34N",
        area: [18.0, 34.76, 24.0, 84.01],
    },
    EpsgInfo {
        code: 25835,
        name: "ETRS89 / UTM zone 35N",
        area: [24.0, 41.24, 30.0, 84.01],
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
        if SUPPORTED.iter().any(|i| i.code == code) || generic_utm_zone(code).is_some() {
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
    pub fn name(&self) -> String {
        if let Some(i) = SUPPORTED.iter().find(|i| i.code == self.epsg) {
            return i.name.to_string();
        }
        match generic_utm_zone(self.epsg) {
            Some((true, z)) => format!("ETRS89 / UTM zone {z}N"),
            Some((false, z)) => format!("WGS 84 / UTM zone {z}N"),
            None => "unknown".to_string(),
        }
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
            .or_else(|| {
                let (etrs, z) = generic_utm_zone(self.epsg)?;
                let west = f64::from(z) * 6.0 - 186.0;
                let (south, north) = if etrs { (32.0, 84.0) } else { (0.0, 84.0) };
                Some(BBox2 {
                    min: [west, south],
                    max: [west + 6.0, north],
                })
            })
            .unwrap_or(BBox2::EMPTY)
    }
    /// Projected (x, y) to WGS84 (lon, lat) in degrees. ETRS89 is treated as WGS84 (they
    /// differ by well under 1 m in Europe); DHDN, Amersfoort and CH1903+ are shifted with a
    /// 7- or 3-parameter Helmert transformation (about 1 to 3 m, see [`Transformer`]).
    ///
    /// Fails with [`Error::Invalid`] for non-finite input or a result more than 10° outside
    /// the CRS's area of use.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<[f64; 2]> {
        Projection::new(self)?.unproject(x, y)
    }
    /// WGS84 (lon, lat) in degrees to projected (x, y).
    ///
    /// Fails with [`Error::Invalid`] for non-finite input or a point more than 10° outside
    /// the CRS's area of use (for Web Mercator: beyond its ±85.06° latitude limit).
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<[f64; 2]> {
        Projection::new(self)?.project(lon, lat)
    }
}

/// The EPSG code of the UTM zone for a WGS84 position: ETRS89 / UTM (258zz) inside the
/// ETRS89 area of use (Europe: 25832 for 6-12°E, 25833 for 12-18°E, ...), else WGS 84 / UTM
/// north (326zz) or south (327zz). The Norway and Svalbard zone exceptions are not applied.
/// Not every code returned is supported by [`Crs::from_epsg`] (see the supported list).
pub fn utm_epsg_for(lon: f64, lat: f64) -> u32 {
    let zone = (((lon + 180.0) / 6.0).floor() as i64).clamp(0, 59) as u32 + 1;
    let europe = (-16.1..=40.18).contains(&lon) && (32.88..=84.73).contains(&lat);
    if europe {
        25800 + zone
    } else if lat >= 0.0 {
        32600 + zone
    } else {
        32700 + zone
    }
}

/// Transforms points from one CRS to another (through WGS84 when they differ).
///
/// Accuracy against PROJ 9.5 (pyproj 3.7; see the tests for the reference points):
/// UTM and Web Mercator agree to well under 1 mm. ETRS89 is taken as WGS84 (< 1 m in Europe).
/// DHDN (Gauss-Krüger 31467/31468) uses the Helmert parameters of EPSG "DHDN to WGS 84 (2)"
/// (1 to 3 m; measured up to 1.15 m from PROJ's per-area choice of "DHDN to WGS 84 (2)/(3)",
/// whose best operation needs the BETA2007 grid), Amersfoort / RD New the `towgs84` of PROJ's
/// default Amersfoort to WGS 84 operation and CH1903+ / LV95 "CH1903+ to WGS 84 (1)" (both
/// about 1 m against the official grids; within 2 mm of PROJ's default pipeline).
/// Forward followed by inverse reproduces a point to better than 1e-6 m.
#[derive(Debug, Clone)]
pub struct Transformer {
    /// Source CRS.
    pub from: Crs,
    /// Target CRS.
    pub to: Crs,
}

impl Transformer {
    /// A transformer from one CRS to another.
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
    /// Transform points in place. Either all points are transformed or, on the first failing
    /// point (non-finite, or far outside an area of use), none is and the error names it.
    pub fn transform_points(&self, pts: &mut [[f64; 2]]) -> Result<()> {
        let point_error = |i: usize, p: [f64; 2], e: Error| {
            Error::Invalid(format!(
                "point {i} ({}, {}) from EPSG:{} to EPSG:{}: {e}",
                p[0], p[1], self.from.epsg, self.to.epsg
            ))
        };
        if self.is_identity() {
            if let Some((i, p)) = pts
                .iter()
                .enumerate()
                .find(|(_, p)| !(p[0].is_finite() && p[1].is_finite()))
            {
                return Err(point_error(i, *p, Error::Invalid("not finite".into())));
            }
            return Ok(());
        }
        let from = Projection::new(&self.from)?;
        let to = Projection::new(&self.to)?;
        let mut out = Vec::with_capacity(pts.len());
        for (i, p) in pts.iter().enumerate() {
            let q = from
                .unproject(p[0], p[1])
                .and_then(|[lon, lat]| to.project(lon, lat))
                .map_err(|e| point_error(i, *p, e))?;
            out.push(q);
        }
        pts.copy_from_slice(&out);
        Ok(())
    }
}

/// A reference ellipsoid: semi-major axis (m) and flattening.
#[derive(Debug, Clone, Copy)]
struct Ellipsoid {
    a: f64,
    f: f64,
}

const WGS84: Ellipsoid = Ellipsoid {
    a: 6_378_137.0,
    f: 1.0 / 298.257_223_563,
};
const GRS80: Ellipsoid = Ellipsoid {
    a: 6_378_137.0,
    f: 1.0 / 298.257_222_101,
};
const BESSEL: Ellipsoid = Ellipsoid {
    a: 6_377_397.155,
    f: 1.0 / 299.152_812_8,
};

impl Ellipsoid {
    /// First eccentricity squared.
    fn e2(self) -> f64 {
        self.f * (2.0 - self.f)
    }
    /// Geodetic (lat, lon in radians, height 0) to earth-centred cartesian coordinates.
    fn geodetic_to_ecef(self, lat: f64, lon: f64) -> [f64; 3] {
        let e2 = self.e2();
        let n = self.a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
        [
            n * lat.cos() * lon.cos(),
            n * lat.cos() * lon.sin(),
            n * (1.0 - e2) * lat.sin(),
        ]
    }
    /// Earth-centred cartesian to geodetic (lat, lon) in radians (height dropped).
    fn ecef_to_geodetic(self, q: [f64; 3]) -> (f64, f64) {
        let e2 = self.e2();
        let p = q[0].hypot(q[1]);
        let mut lat = q[2].atan2(p * (1.0 - e2));
        for _ in 0..30 {
            let n = self.a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
            let next = (q[2] + e2 * n * lat.sin()).atan2(p);
            let done = (next - lat).abs() < 1e-14;
            lat = next;
            if done {
                break;
            }
        }
        (lat, q[1].atan2(q[0]))
    }
}

/// A Helmert transformation to WGS84 in the position-vector convention of PROJ's
/// `+towgs84` (translations in m, rotations in arc seconds, scale in ppm).
#[derive(Debug, Clone, Copy)]
struct Helmert {
    ell: Ellipsoid,
    t: [f64; 3],
    /// Rotations in radians.
    r: [f64; 3],
    /// 1 + scale.
    m: f64,
}

impl Helmert {
    fn new(ell: Ellipsoid, p: [f64; 7]) -> Self {
        let sec = std::f64::consts::PI / (180.0 * 3600.0);
        Helmert {
            ell,
            t: [p[0], p[1], p[2]],
            r: [p[3] * sec, p[4] * sec, p[5] * sec],
            m: 1.0 + p[6] * 1e-6,
        }
    }
    /// The matrix m·R of the position-vector rotation.
    fn matrix(&self) -> [[f64; 3]; 3] {
        let [rx, ry, rz] = self.r;
        let m = self.m;
        [
            [m, -m * rz, m * ry],
            [m * rz, m, -m * rx],
            [-m * ry, m * rx, m],
        ]
    }
    /// Local geodetic (lat, lon) radians to WGS84 (lat, lon) radians.
    fn forward(&self, lat: f64, lon: f64) -> (f64, f64) {
        let p = self.ell.geodetic_to_ecef(lat, lon);
        let a = self.matrix();
        let q: [f64; 3] =
            std::array::from_fn(|i| self.t[i] + a[i][0] * p[0] + a[i][1] * p[1] + a[i][2] * p[2]);
        WGS84.ecef_to_geodetic(q)
    }
    /// WGS84 (lat, lon) radians to local geodetic (lat, lon) radians: the exact inverse of
    /// [`Helmert::forward`] (both take the height on the source ellipsoid as 0), so that
    /// forward and inverse round-trip. The inverse Helmert gives the start; a fixed-point
    /// iteration then removes the millimetres the dropped height introduces (to 1e-12 rad).
    fn inverse(&self, lat: f64, lon: f64) -> (f64, f64) {
        let q = WGS84.geodetic_to_ecef(lat, lon);
        let d: [f64; 3] = std::array::from_fn(|i| q[i] - self.t[i]);
        let a = self.matrix();
        let det = |m: &[[f64; 3]; 3]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let da = det(&a);
        // Cramer's rule: replace column i by d.
        let p: [f64; 3] = std::array::from_fn(|i| {
            let mut m = a;
            for (row, di) in m.iter_mut().zip(d) {
                row[i] = di;
            }
            det(&m) / da
        });
        let (mut phi, mut lam) = self.ell.ecef_to_geodetic(p);
        for _ in 0..10 {
            let (f, l) = self.forward(phi, lam);
            let (dphi, dlam) = (lat - f, lon - l);
            phi += dphi;
            lam += dlam;
            if dphi.abs().max(dlam.abs()) < 1e-12 {
                break;
            }
        }
        (phi, lam)
    }
}

/// Transverse Mercator with Krüger's series to order n⁶ (Karney 2011): sub-millimetre
/// within a few degrees of the central meridian.
#[derive(Debug, Clone, Copy)]
struct TransverseMercator {
    e: f64,
    lon0: f64,
    fe: f64,
    fn_: f64,
    /// k0 times the rectifying radius A.
    ka: f64,
    alpha: [f64; 6],
    beta: [f64; 6],
}

impl TransverseMercator {
    fn new(ell: Ellipsoid, lon0_deg: f64, k0: f64, fe: f64, fn_: f64) -> Self {
        let n = ell.f / (2.0 - ell.f);
        let [n2, n3, n4, n5, n6] = [n * n, n.powi(3), n.powi(4), n.powi(5), n.powi(6)];
        let a = ell.a / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0);
        let alpha = [
            n / 2.0 - 2.0 / 3.0 * n2 + 5.0 / 16.0 * n3 + 41.0 / 180.0 * n4 - 127.0 / 288.0 * n5
                + 7891.0 / 37800.0 * n6,
            13.0 / 48.0 * n2 - 3.0 / 5.0 * n3 + 557.0 / 1440.0 * n4 + 281.0 / 630.0 * n5
                - 1983433.0 / 1935360.0 * n6,
            61.0 / 240.0 * n3 - 103.0 / 140.0 * n4
                + 15061.0 / 26880.0 * n5
                + 167603.0 / 181440.0 * n6,
            49561.0 / 161280.0 * n4 - 179.0 / 168.0 * n5 + 6601661.0 / 7257600.0 * n6,
            34729.0 / 80640.0 * n5 - 3418889.0 / 1995840.0 * n6,
            212378941.0 / 319334400.0 * n6,
        ];
        let beta = [
            n / 2.0 - 2.0 / 3.0 * n2 + 37.0 / 96.0 * n3 - 1.0 / 360.0 * n4 - 81.0 / 512.0 * n5
                + 96199.0 / 604800.0 * n6,
            n2 / 48.0 + n3 / 15.0 - 437.0 / 1440.0 * n4 + 46.0 / 105.0 * n5
                - 1118711.0 / 3870720.0 * n6,
            17.0 / 480.0 * n3 - 37.0 / 840.0 * n4 - 209.0 / 4480.0 * n5 + 5569.0 / 90720.0 * n6,
            4397.0 / 161280.0 * n4 - 11.0 / 504.0 * n5 - 830251.0 / 7257600.0 * n6,
            4583.0 / 161280.0 * n5 - 108847.0 / 3991680.0 * n6,
            20648693.0 / 638668800.0 * n6,
        ];
        TransverseMercator {
            e: ell.e2().sqrt(),
            lon0: lon0_deg.to_radians(),
            fe,
            fn_,
            ka: k0 * a,
            alpha,
            beta,
        }
    }
    fn forward(&self, lat: f64, lon: f64) -> [f64; 2] {
        let e = self.e;
        let l = lon - self.lon0;
        let s = lat.sin();
        // Conformal latitude as tan: t = sinh(atanh(sin φ) - e atanh(e sin φ)).
        let t = (s.atanh() - e * (e * s).atanh()).sinh();
        let xi_p = t.atan2(l.cos());
        let eta_p = (l.sin() / t.hypot(l.cos())).asinh();
        let (mut xi, mut eta) = (xi_p, eta_p);
        for (j, a) in self.alpha.iter().enumerate() {
            let k = 2.0 * (j + 1) as f64;
            xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
            eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
        }
        [self.fe + self.ka * eta, self.fn_ + self.ka * xi]
    }
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let xi = (y - self.fn_) / self.ka;
        let eta = (x - self.fe) / self.ka;
        let (mut xi_p, mut eta_p) = (xi, eta);
        for (j, b) in self.beta.iter().enumerate() {
            let k = 2.0 * (j + 1) as f64;
            xi_p -= b * (k * xi).sin() * (k * eta).cosh();
            eta_p -= b * (k * xi).cos() * (k * eta).sinh();
        }
        let tau_p = xi_p.sin() / eta_p.sinh().hypot(xi_p.cos());
        let lon = self.lon0 + eta_p.sinh().atan2(xi_p.cos());
        (tau_to_lat(tau_p, self.e), lon)
    }
}

/// Geodetic latitude from the tangent of the conformal latitude (Karney 2011, Newton's
/// method; converges to 1e-12 rad in two or three steps).
fn tau_to_lat(tau_p: f64, e: f64) -> f64 {
    let e2m = 1.0 - e * e;
    let mut tau = tau_p;
    for _ in 0..10 {
        let s1 = tau.hypot(1.0);
        let sigma = (e * (e * tau / s1).atanh()).sinh();
        let tp = tau * sigma.hypot(1.0) - sigma * s1;
        let dtau = (tau_p - tp) * (1.0 + e2m * tau * tau) / (e2m * s1 * tp.hypot(1.0));
        tau += dtau;
        if dtau.abs() < 1e-12 * tau.abs().max(1.0) {
            break;
        }
    }
    tau.atan()
}

/// Isometric latitude ψ(φ) on an ellipsoid with eccentricity e.
fn isometric(lat: f64, e: f64) -> f64 {
    let s = lat.sin();
    s.atanh() - e * (e * s).atanh()
}

/// Geodetic latitude from isometric latitude (fixed point to 1e-12 rad).
fn isometric_inverse(psi: f64, e: f64) -> f64 {
    let mut lat = 2.0 * psi.exp().atan() - std::f64::consts::FRAC_PI_2;
    for _ in 0..30 {
        let next =
            2.0 * (psi + e * (e * lat.sin()).atanh()).exp().atan() - std::f64::consts::FRAC_PI_2;
        let done = (next - lat).abs() < 1e-13;
        lat = next;
        if done {
            break;
        }
    }
    lat
}

/// Oblique stereographic (EPSG method 9809, "double stereographic" as used by RD New):
/// a conformal sphere (Gauss) and a stereographic projection of it.
#[derive(Debug, Clone, Copy)]
struct ObliqueStereographic {
    e: f64,
    lon0: f64,
    /// Exponent n and constant c of the conformal sphere.
    n: f64,
    c: f64,
    chi0: f64,
    /// 2 R k0.
    two_rk: f64,
    fe: f64,
    fn_: f64,
}

impl ObliqueStereographic {
    fn new(ell: Ellipsoid, lat0: f64, lon0: f64, k0: f64, fe: f64, fn_: f64) -> Self {
        let e2 = ell.e2();
        let e = e2.sqrt();
        let (lat0, lon0) = (lat0.to_radians(), lon0.to_radians());
        let s0 = lat0.sin();
        let rho0 = ell.a * (1.0 - e2) / (1.0 - e2 * s0 * s0).powf(1.5);
        let nu0 = ell.a / (1.0 - e2 * s0 * s0).sqrt();
        let r = (rho0 * nu0).sqrt();
        let n = (1.0 + e2 * lat0.cos().powi(4) / (1.0 - e2)).sqrt();
        let w1 = (n * isometric(lat0, e)).exp().powi(2);
        let sin_chi00 = (w1 - 1.0) / (w1 + 1.0);
        let c = (n + s0) * (1.0 - sin_chi00) / ((n - s0) * (1.0 + sin_chi00));
        let w2 = c * w1;
        let chi0 = ((w2 - 1.0) / (w2 + 1.0)).asin();
        ObliqueStereographic {
            e,
            lon0,
            n,
            c,
            chi0,
            two_rk: 2.0 * r * k0,
            fe,
            fn_,
        }
    }
    fn forward(&self, lat: f64, lon: f64) -> [f64; 2] {
        let dl = self.n * (lon - self.lon0);
        let w = self.c * (2.0 * self.n * isometric(lat, self.e)).exp();
        let chi = ((w - 1.0) / (w + 1.0)).asin();
        let b = 1.0 + chi.sin() * self.chi0.sin() + chi.cos() * self.chi0.cos() * dl.cos();
        [
            self.fe + self.two_rk * chi.cos() * dl.sin() / b,
            self.fn_
                + self.two_rk
                    * (chi.sin() * self.chi0.cos() - chi.cos() * self.chi0.sin() * dl.cos())
                    / b,
        ]
    }
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        // Invert the stereographic projection of the sphere (radius R k0).
        let (u, v) = (
            (x - self.fe) / self.two_rk * 2.0,
            (y - self.fn_) / self.two_rk * 2.0,
        );
        let rho = u.hypot(v);
        let (chi, dl) = if rho == 0.0 {
            (self.chi0, 0.0)
        } else {
            let cc = 2.0 * (rho / 2.0).atan();
            let (sc, ccos) = cc.sin_cos();
            let chi = (ccos * self.chi0.sin() + v * sc * self.chi0.cos() / rho).asin();
            let dl = (u * sc).atan2(rho * self.chi0.cos() * ccos - v * self.chi0.sin() * sc);
            (chi, dl)
        };
        // Sphere back to the ellipsoid: w = c·exp(2nψ) = (1 + sin χ)/(1 - sin χ).
        let psi = (((1.0 + chi.sin()) / (1.0 - chi.sin())).ln() - self.c.ln()) / (2.0 * self.n);
        (isometric_inverse(psi, self.e), self.lon0 + dl / self.n)
    }
}

/// Swiss oblique Mercator (EPSG method 9815 as used by swisstopo, PROJ `somerc`, k0 = 1).
#[derive(Debug, Clone, Copy)]
struct SwissObliqueMercator {
    e: f64,
    lon0: f64,
    alpha: f64,
    b0: f64,
    k: f64,
    r: f64,
    fe: f64,
    fn_: f64,
}

impl SwissObliqueMercator {
    fn new(ell: Ellipsoid, lat0: f64, lon0: f64, fe: f64, fn_: f64) -> Self {
        let e2 = ell.e2();
        let e = e2.sqrt();
        let (lat0, lon0) = (lat0.to_radians(), lon0.to_radians());
        let alpha = (1.0 + e2 / (1.0 - e2) * lat0.cos().powi(4)).sqrt();
        let b0 = (lat0.sin() / alpha).asin();
        let k = isometric(b0, 0.0) - alpha * isometric(lat0, e);
        let r = ell.a * (1.0 - e2).sqrt() / (1.0 - e2 * lat0.sin().powi(2));
        SwissObliqueMercator {
            e,
            lon0,
            alpha,
            b0,
            k,
            r,
            fe,
            fn_,
        }
    }
    fn forward(&self, lat: f64, lon: f64) -> [f64; 2] {
        let s = self.alpha * isometric(lat, self.e) + self.k;
        let b = 2.0 * s.exp().atan() - std::f64::consts::FRAC_PI_2;
        let l = self.alpha * (lon - self.lon0);
        let lb = l
            .sin()
            .atan2(self.b0.sin() * b.tan() + self.b0.cos() * l.cos());
        let bb = (self.b0.cos() * b.sin() - self.b0.sin() * b.cos() * l.cos()).asin();
        [
            self.fe + self.r * lb,
            self.fn_ + self.r * isometric(bb, 0.0),
        ]
    }
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let lb = (x - self.fe) / self.r;
        let bb = 2.0 * ((y - self.fn_) / self.r).exp().atan() - std::f64::consts::FRAC_PI_2;
        let b = (self.b0.cos() * bb.sin() + self.b0.sin() * bb.cos() * lb.cos()).asin();
        let l = lb
            .sin()
            .atan2(self.b0.cos() * lb.cos() - self.b0.sin() * bb.tan());
        let psi = (isometric(b, 0.0) - self.k) / self.alpha;
        (isometric_inverse(psi, self.e), self.lon0 + l / self.alpha)
    }
}

/// How a CRS maps geodetic coordinates on its own ellipsoid to x, y.
#[derive(Debug, Clone, Copy)]
enum Method {
    /// Longitude, latitude in degrees.
    Geographic,
    /// Spherical Mercator on the WGS84 semi-major axis (EPSG:3857).
    WebMercator,
    TransverseMercator(TransverseMercator),
    ObliqueStereographic(ObliqueStereographic),
    SwissObliqueMercator(SwissObliqueMercator),
}

/// A CRS ready to project: method, datum shift and area of use.
#[derive(Debug, Clone, Copy)]
struct Projection {
    epsg: u32,
    /// Area of use [lon_min, lat_min, lon_max, lat_max] in degrees.
    area: [f64; 4],
    method: Method,
    /// Shift from the CRS's datum to WGS84; None for WGS84 and ETRS89.
    datum: Option<Helmert>,
}

/// DHDN to WGS 84 (EPSG "DHDN to WGS 84 (2)", position vector).
const DHDN_TOWGS84: [f64; 7] = [598.1, 73.7, 418.2, 0.202, 0.045, -2.455, 6.7];
/// Amersfoort to WGS 84 (EPSG "Amersfoort to WGS 84 (3)").
const AMERSFOORT_TOWGS84: [f64; 7] = [
    565.417, 50.3319, 465.552, -0.398957, 0.343988, -1.8774, 4.0725,
];
/// CH1903+ to WGS 84 (EPSG "CH1903+ to WGS 84 (1)").
const CH1903P_TOWGS84: [f64; 7] = [674.374, 15.056, 405.346, 0.0, 0.0, 0.0, 0.0];

impl Projection {
    fn new(crs: &Crs) -> Result<Projection> {
        let code = crs.epsg;
        let aou = crs.area_of_use();
        if aou.is_empty() {
            return Err(Error::UnknownCrs(format!("EPSG:{code}")));
        }
        let area = [aou.min[0], aou.min[1], aou.max[0], aou.max[1]];
        let utm = |ell, zone: u32| {
            Method::TransverseMercator(TransverseMercator::new(
                ell,
                f64::from(zone) * 6.0 - 183.0,
                0.9996,
                500_000.0,
                0.0,
            ))
        };
        let gk = |zone: u32| {
            Method::TransverseMercator(TransverseMercator::new(
                BESSEL,
                f64::from(zone) * 3.0,
                1.0,
                f64::from(zone) * 1e6 + 500_000.0,
                0.0,
            ))
        };
        let (method, datum) = match code {
            4326 | 4258 => (Method::Geographic, None),
            3857 => (Method::WebMercator, None),
            25801..=25860 => (utm(GRS80, code - 25800), None),
            32601..=32660 => (utm(WGS84, code - 32600), None),
            31466..=31469 => (gk(code - 31464), Some(Helmert::new(BESSEL, DHDN_TOWGS84))),
            28992 => (
                Method::ObliqueStereographic(ObliqueStereographic::new(
                    BESSEL,
                    52.156_160_555_555_55,
                    5.387_638_888_888_89,
                    0.999_907_9,
                    155_000.0,
                    463_000.0,
                )),
                Some(Helmert::new(BESSEL, AMERSFOORT_TOWGS84)),
            ),
            2056 => (
                Method::SwissObliqueMercator(SwissObliqueMercator::new(
                    BESSEL,
                    46.952_405_555_555_6,
                    7.439_583_333_333_33,
                    2_600_000.0,
                    1_200_000.0,
                )),
                Some(Helmert::new(BESSEL, CH1903P_TOWGS84)),
            ),
            _ => return Err(Error::UnknownCrs(format!("EPSG:{code} (no projection)"))),
        };
        Ok(Projection {
            epsg: code,
            area,
            method,
            datum,
        })
    }

    /// Error unless (lon, lat) is finite and within 10° of the area of use (Web Mercator:
    /// inside its latitude limits).
    fn check_area(&self, lon: f64, lat: f64) -> Result<()> {
        let [x0, y0, x1, y1] = self.area;
        let margin = if self.epsg == 3857 { 0.0 } else { 10.0 };
        let lat_ok = lat.abs() <= 90.0 && lat >= y0 - margin && lat <= y1 + margin;
        let lon_ok = lon >= x0 - 10.0 && lon <= x1 + 10.0;
        if lon.is_finite() && lat.is_finite() && lat_ok && lon_ok {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "lon {lon}, lat {lat} is outside the area of use of EPSG:{} \
                 (lon {x0}..{x1}, lat {y0}..{y1})",
                self.epsg
            )))
        }
    }

    fn project(&self, lon: f64, lat: f64) -> Result<[f64; 2]> {
        self.check_area(lon, lat)?;
        let (mut phi, mut lam) = (lat.to_radians(), lon.to_radians());
        if let Some(h) = &self.datum {
            (phi, lam) = h.inverse(phi, lam);
        }
        let p = match &self.method {
            Method::Geographic => [lon, lat],
            Method::WebMercator => [WGS84.a * lam, WGS84.a * isometric(phi, 0.0)],
            Method::TransverseMercator(m) => m.forward(phi, lam),
            Method::ObliqueStereographic(m) => m.forward(phi, lam),
            Method::SwissObliqueMercator(m) => m.forward(phi, lam),
        };
        finite(p, self.epsg)
    }

    fn unproject(&self, x: f64, y: f64) -> Result<[f64; 2]> {
        finite([x, y], self.epsg)?;
        let (mut phi, mut lam) = match &self.method {
            Method::Geographic => (y.to_radians(), x.to_radians()),
            Method::WebMercator => (isometric_inverse(y / WGS84.a, 0.0), x / WGS84.a),
            Method::TransverseMercator(m) => m.inverse(x, y),
            Method::ObliqueStereographic(m) => m.inverse(x, y),
            Method::SwissObliqueMercator(m) => m.inverse(x, y),
        };
        if let Some(h) = &self.datum {
            (phi, lam) = h.forward(phi, lam);
        }
        let (lon, lat) = if matches!(self.method, Method::Geographic) {
            (x, y)
        } else {
            (lam.to_degrees(), phi.to_degrees())
        };
        self.check_area(lon, lat)
            .map_err(|e| Error::Invalid(format!("point ({x}, {y}) in EPSG:{}: {e}", self.epsg)))?;
        Ok([lon, lat])
    }
}

/// `p` unchanged if both coordinates are finite, else an [`Error::Invalid`].
fn finite(p: [f64; 2], epsg: u32) -> Result<[f64; 2]> {
    if p[0].is_finite() && p[1].is_finite() {
        Ok(p)
    } else {
        Err(Error::Invalid(format!(
            "non-finite coordinate ({}, {}) in EPSG:{epsg}",
            p[0], p[1]
        )))
    }
}

/// UTM zones beyond the table: ETRS89 / UTM 25828–25838 (Europe) and WGS 84 / UTM north
/// 32601–32660. Returns (is ETRS89, zone).
fn generic_utm_zone(code: u32) -> Option<(bool, u32)> {
    match code {
        25828..=25838 => Some((true, code - 25800)),
        32601..=32660 => Some((false, code - 32600)),
        _ => None,
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

#[cfg(test)]
mod math_tests {
    //! Reference tables generated by `tests/data/crs_reference.py` (pyproj 3.7.2, PROJ 9.5.1).
    use super::*;

    /// Reference points: (lon, lat) and the projected (x, y).
    type RefPoints = &'static [([f64; 2], [f64; 2])];
    /// Reference points per EPSG code.
    type RefTable = &'static [(u32, RefPoints)];

    /// (EPSG, [(lon, lat), (x, y)]) from pyproj 3.7.2 / PROJ 9.5.1, `Transformer.from_crs(4326, code, always_xy=True)`
    /// (the default pipeline: for DHDN and Amersfoort, EPSG Helmert operations chosen per area; BETA2007 grid not installed).
    const PROJ_DEFAULT: RefTable = &[
        (
            25832,
            &[
                ([9.99, 53.54], [565606.4030, 5932799.6942]),
                ([11.576, 48.137], [691641.7160, 5334736.8224]),
                ([6.0, 50.0], [285015.7633, 5542944.0185]),
                ([12.0, 54.0], [696620.8984, 5987687.7103]),
                ([8.5, 47.5], [462343.3260, 5260850.8752]),
                ([9.0, 30.0], [500000.0000, 3318785.3525]),
                ([10.5, 70.0], [557251.8900, 7766577.4146]),
                ([7.0, 38.8], [326322.3476, 4296482.5709]),
                ([3.0, 52.0], [88279.4366, 5778053.3012]),
                ([13.5, 48.0], [835643.8195, 5326104.9954]),
            ],
        ),
        (
            25833,
            &[
                ([13.4, 52.52], [391440.0321, 5820079.6667]),
                ([12.0, 51.0], [289511.1430, 5654109.1786]),
                ([18.0, 54.0], [696620.8984, 5987687.7103]),
                ([15.0, 47.0], [500000.0000, 5205164.1100]),
                ([14.5, 60.0], [472111.3361, 6651516.5755]),
            ],
        ),
        (
            25835,
            &[
                ([24.94, 60.17], [385700.4214, 6672126.7430]),
                ([24.0, 60.0], [332705.1789, 6655205.4835]),
                ([30.0, 65.0], [641428.4297, 7211811.3075]),
                ([27.0, 70.0], [500000.0000, 7765873.1354]),
                ([25.5, 45.0], [381777.0341, 4984044.7984]),
            ],
        ),
        (
            32632,
            &[
                ([9.99, 53.54], [565606.4030, 5932799.6944]),
                ([6.0, 0.5], [166034.0983, 55341.3882]),
                ([12.0, 30.0], [789409.6532, 3322575.9044]),
                ([9.0, 80.0], [500000.0000, 8881585.8160]),
                ([15.0, 10.0], [1158712.8477, 1111418.0329]),
            ],
        ),
        (
            32631,
            &[
                ([2.35, 48.85], [452314.8912, 5410984.8876]),
                ([0.0, 40.0], [243900.3520, 4432069.0569]),
                ([6.0, 60.0], [667294.8211, 6655205.4836]),
            ],
        ),
        (
            3857,
            &[
                ([9.99, 53.54], [1112081.7130, 7083514.7032]),
                ([0.0, 0.0], [0.0000, 0.0000]),
                ([-122.4, 37.8], [-13625505.6731, 4551210.9197]),
                ([179.9, 84.9], [20026376.3937, 19845401.3355]),
                ([-179.9, -84.9], [-20026376.3937, -19845401.3355]),
                ([139.7, 35.7], [15551332.8638, 4259419.9655]),
            ],
        ),
        (
            31467,
            &[
                ([9.99, 53.54], [3565703.0465, 5934734.9155]),
                ([9.0, 48.0], [3500076.3772, 5317987.3595]),
                ([7.6, 50.0], [3399702.0916, 5541345.7434]),
                ([10.5, 54.5], [3597246.8343, 6042168.4501]),
                ([8.68, 50.11], [3477184.1689, 5552691.2855]),
                ([6.96, 50.94], [3356691.8652, 5646952.2010]),
                ([9.18, 48.78], [3513304.5125, 5404737.5973]),
                ([10.0, 52.0], [3568749.4969, 5763376.3164]),
                ([8.0, 53.0], [3432935.3464, 5874647.9245]),
                ([9.5, 47.6], [3537676.9551, 5273634.1717]),
            ],
        ),
        (
            31468,
            &[
                ([11.576, 48.137], [4468550.4543, 5333305.5864]),
                ([12.0, 50.0], [4500106.0263, 5540405.3083]),
                ([10.6, 47.5], [4394628.0713, 5263342.1584]),
                ([13.4, 52.52], [4595132.8444, 5821686.1461]),
                ([11.08, 49.45], [4433397.4106, 5479638.5982]),
                ([12.37, 51.34], [4525888.0861, 5689534.5159]),
                ([11.6, 49.95], [4471398.0561, 5534920.3423]),
                ([13.5, 54.0], [4598462.4449, 5986518.0303]),
                ([10.7, 53.8], [4414447.4922, 5963997.7424]),
                ([12.1, 48.5], [4507497.5714, 5373588.1641]),
            ],
        ),
        (
            28992,
            &[
                ([4.3, 52.08], [80474.7811, 455194.2800]),
                (
                    [5.38763888888889, 52.15616055555555],
                    [155029.7941, 463109.9541],
                ),
                ([4.9, 52.37], [121819.3652, 487013.7615]),
                ([3.4, 51.4], [16724.1073, 380867.2513]),
                ([7.1, 53.2], [269451.6404, 580622.2745]),
                ([5.7, 50.8], [177053.2613, 312280.6484]),
                ([6.1, 52.5], [203401.6457, 501605.3159]),
                ([4.48, 51.92], [92590.5588, 437224.5508]),
                ([5.12, 52.09], [136687.4934, 455782.6104]),
                ([6.56, 53.22], [233334.4837, 582125.0950]),
            ],
        ),
        (
            2056,
            &[
                ([8.54, 47.37], [2683186.2856, 1247156.7441]),
                (
                    [7.43958333333333, 46.9524055555556],
                    [2600072.3897, 1200147.0556],
                ),
                ([6.14, 46.2], [2499760.9517, 1117336.0979]),
                ([9.5, 46.8], [2757346.8439, 1185270.8199]),
                ([10.3, 46.6], [2819199.4086, 1164968.2276]),
                ([7.6, 47.55], [2612148.0180, 1266599.1314]),
                ([8.95, 46.0], [2717083.9160, 1095398.6641]),
                ([6.5, 46.5], [2527946.4719, 1150286.4415]),
                ([9.37, 47.42], [2745729.0119, 1253925.8212]),
                ([8.0, 46.5], [2643092.7289, 1150008.0150]),
            ],
        ),
    ];
    /// The same points through PROJ with the engine's `+towgs84` parameters (tests the math itself).
    const PROJ_SAME_HELMERT: RefTable = &[
        (
            31467,
            &[
                ([9.99, 53.54], [3565703.7131, 5934734.5605]),
                ([9.0, 48.0], [3500076.3772, 5317987.3595]),
                ([7.6, 50.0], [3399702.0916, 5541345.7434]),
                ([10.5, 54.5], [3597247.5907, 6042167.5846]),
                ([8.68, 50.11], [3477184.1689, 5552691.2855]),
                ([6.96, 50.94], [3356691.8652, 5646952.2010]),
                ([9.18, 48.78], [3513304.5125, 5404737.5973]),
                ([10.0, 52.0], [3568749.7990, 5763376.6652]),
                ([8.0, 53.0], [3432935.3464, 5874647.9245]),
                ([9.5, 47.6], [3537676.9551, 5273634.1717]),
            ],
        ),
        (
            31468,
            &[
                ([11.576, 48.137], [4468550.4543, 5333305.5864]),
                ([12.0, 50.0], [4500106.0263, 5540405.3083]),
                ([10.6, 47.5], [4394628.0713, 5263342.1584]),
                ([13.4, 52.52], [4595132.3143, 5821685.7705]),
                ([11.08, 49.45], [4433397.4106, 5479638.5982]),
                ([12.37, 51.34], [4525887.5728, 5689534.8293]),
                ([11.6, 49.95], [4471398.0561, 5534920.3423]),
                ([13.5, 54.0], [4598462.2379, 5986516.9639]),
                ([10.7, 53.8], [4414448.0029, 5963997.1463]),
                ([12.1, 48.5], [4507497.5714, 5373588.1641]),
            ],
        ),
        (
            28992,
            &[
                ([4.3, 52.08], [80474.7811, 455194.2801]),
                (
                    [5.38763888888889, 52.15616055555555],
                    [155029.7941, 463109.9543],
                ),
                ([4.9, 52.37], [121819.3651, 487013.7617]),
                ([3.4, 51.4], [16724.1072, 380867.2515]),
                ([7.1, 53.2], [269451.6404, 580622.2747]),
                ([5.7, 50.8], [177053.2613, 312280.6485]),
                ([6.1, 52.5], [203401.6456, 501605.3161]),
                ([4.48, 51.92], [92590.5588, 437224.5509]),
                ([5.12, 52.09], [136687.4934, 455782.6105]),
                ([6.56, 53.22], [233334.4836, 582125.0952]),
            ],
        ),
        (
            2056,
            &[
                ([8.54, 47.37], [2683186.2856, 1247156.7441]),
                (
                    [7.43958333333333, 46.9524055555556],
                    [2600072.3897, 1200147.0556],
                ),
                ([6.14, 46.2], [2499760.9517, 1117336.0979]),
                ([9.5, 46.8], [2757346.8439, 1185270.8199]),
                ([10.3, 46.6], [2819199.4086, 1164968.2276]),
                ([7.6, 47.55], [2612148.0180, 1266599.1314]),
                ([8.95, 46.0], [2717083.9160, 1095398.6641]),
                ([6.5, 46.5], [2527946.4719, 1150286.4415]),
                ([9.37, 47.42], [2745729.0119, 1253925.8212]),
                ([8.0, 46.5], [2643092.7289, 1150008.0150]),
            ],
        ),
    ];

    /// Horizontal distance in metres between two WGS84 positions close to each other.
    fn metres_between(a: [f64; 2], b: [f64; 2]) -> f64 {
        let m = 111_320.0;
        ((a[0] - b[0]) * m * a[1].to_radians().cos()).hypot((a[1] - b[1]) * m)
    }

    /// (max forward error in m, max inverse error in m) of the engine against a table.
    fn max_errors(code: u32, pts: RefPoints) -> (f64, f64) {
        let crs = Crs::from_epsg(code).unwrap();
        let (mut fwd, mut inv) = (0.0f64, 0.0f64);
        for &(ll, xy) in pts {
            let p = crs.from_wgs84(ll[0], ll[1]).unwrap();
            fwd = fwd.max((p[0] - xy[0]).hypot(p[1] - xy[1]));
            let q = crs.to_wgs84(xy[0], xy[1]).unwrap();
            inv = inv.max(metres_between(q, ll));
        }
        (fwd, inv)
    }

    fn table(t: RefTable, code: u32) -> RefPoints {
        t.iter().find(|e| e.0 == code).unwrap().1
    }

    #[test]
    fn utm_and_web_mercator_match_proj_within_a_millimetre() {
        for code in [25832, 25833, 25835, 32631, 32632, 3857] {
            let (fwd, inv) = max_errors(code, table(PROJ_DEFAULT, code));
            eprintln!("EPSG:{code}: forward {fwd:.6} m, inverse {inv:.6} m");
            assert!(fwd < 1e-3 && inv < 1e-3, "EPSG:{code}: {fwd} {inv}");
        }
    }

    /// PROJ drops the height between its Helmert steps, so its forward and inverse differ by
    /// up to a few millimetres; the engine's inverse is the exact inverse of its forward.
    #[test]
    fn datum_shifted_crs_match_proj_with_the_same_helmert() {
        for code in [31467, 31468, 28992, 2056] {
            let (fwd, inv) = max_errors(code, table(PROJ_SAME_HELMERT, code));
            eprintln!("EPSG:{code} same Helmert: forward {fwd:.6} m, inverse {inv:.6} m");
            assert!(fwd < 5e-3 && inv < 5e-3, "EPSG:{code}: {fwd} {inv}");
        }
    }

    #[test]
    fn datum_shifted_crs_are_within_their_documented_accuracy_of_proj() {
        // DHDN: PROJ picks "DHDN to WGS 84 (2)" or "(3)" by area (BETA2007 grid missing);
        // Amersfoort and CH1903+: PROJ's default operation is the same Helmert.
        for (code, bound) in [(31467, 2.0), (31468, 2.0), (28992, 0.01), (2056, 0.01)] {
            let (fwd, inv) = max_errors(code, table(PROJ_DEFAULT, code));
            eprintln!("EPSG:{code} default pipeline: forward {fwd:.4} m, inverse {inv:.4} m");
            assert!(fwd < bound && inv < bound, "EPSG:{code}: {fwd} {inv}");
        }
    }

    #[test]
    fn forward_then_inverse_round_trips_to_a_micrometre() {
        for &(code, pts) in PROJ_DEFAULT {
            let crs = Crs::from_epsg(code).unwrap();
            for &(ll, _) in pts {
                let p = crs.from_wgs84(ll[0], ll[1]).unwrap();
                let q = crs.to_wgs84(p[0], p[1]).unwrap();
                let r = crs.from_wgs84(q[0], q[1]).unwrap();
                let d = (p[0] - r[0]).hypot(p[1] - r[1]);
                assert!(d < 1e-6, "EPSG:{code} {ll:?}: {d} m");
                assert!(metres_between(q, ll) < 1e-6, "EPSG:{code} {ll:?}");
            }
        }
    }

    #[test]
    fn geographic_crs_are_the_identity() {
        let wgs = Crs::from_epsg(4326).unwrap();
        assert_eq!(wgs.to_wgs84(-70.5, -33.4).unwrap(), [-70.5, -33.4]);
        for code in [4326, 4258] {
            let crs = Crs::from_epsg(code).unwrap();
            assert_eq!(crs.from_wgs84(9.99, 53.54).unwrap(), [9.99, 53.54]);
            assert_eq!(crs.to_wgs84(4.3, 52.08).unwrap(), [4.3, 52.08]);
        }
    }

    #[test]
    fn bad_points_are_errors_not_nan() {
        let utm = Crs::from_epsg(25832).unwrap();
        for (lon, lat) in [
            (f64::NAN, 50.0),
            (9.0, f64::INFINITY),
            (40.0, 50.0),
            (9.0, 95.0),
        ] {
            let e = utm.from_wgs84(lon, lat).unwrap_err();
            assert!(
                matches!(e, Error::Invalid(ref m) if m.contains("EPSG:25832")),
                "{e}"
            );
        }
        for (x, y) in [(f64::NAN, 5e6), (1e12, 5e6), (5e5, -1e9)] {
            assert!(
                matches!(utm.to_wgs84(x, y), Err(Error::Invalid(_))),
                "{x} {y}"
            );
        }
        let wm = Crs::from_epsg(3857).unwrap();
        assert!(wm.from_wgs84(10.0, 85.2).is_err());
        assert!(wm.to_wgs84(0.0, 3e7).is_err());
        let rd = Crs::from_epsg(28992).unwrap();
        assert!(rd.from_wgs84(-60.0, 52.0).is_err());
        let wgs = Crs::from_epsg(4326).unwrap();
        assert!(wgs.to_wgs84(10.0, f64::NAN).is_err());
        assert!(wgs.to_wgs84(10.0, 91.0).is_err());
    }

    #[test]
    fn transform_points_composes_through_wgs84_and_is_atomic() {
        let t = Transformer::new(
            Crs::from_epsg(25832).unwrap(),
            Crs::from_epsg(31467).unwrap(),
        );
        let a = [565_606.403, 5_932_799.694];
        let b = [691_641.716, 5_334_736.822];
        let mut pts = [a, b];
        t.transform_points(&mut pts).unwrap();
        assert_eq!(pts[0], t.transform(a[0], a[1]).unwrap());
        assert_eq!(pts[1], t.transform(b[0], b[1]).unwrap());
        // Hamburg in Gauss-Krüger zone 3, about 3565703 / 5934734 (PROJ).
        assert!((pts[0][0] - 3_565_703.0).abs() < 3.0 && (pts[0][1] - 5_934_735.0).abs() < 3.0);

        let mut bad = [a, [f64::NAN, 1.0], b];
        let e = t.transform_points(&mut bad).unwrap_err().to_string();
        assert!(e.contains("point 1") && e.contains("EPSG:25832"), "{e}");
        assert_eq!(bad[0], a, "nothing is written on error");

        let id = Transformer::new(
            Crs::from_epsg(25832).unwrap(),
            Crs::from_epsg(25832).unwrap(),
        );
        assert!(id.transform_points(&mut [[1.0, f64::INFINITY]]).is_err());
        let mut ok = [a];
        id.transform_points(&mut ok).unwrap();
        assert_eq!(ok, [a]);
    }

    #[test]
    fn utm_zone_of_a_position() {
        assert_eq!(utm_epsg_for(9.99, 53.54), 25832);
        assert_eq!(utm_epsg_for(11.58, 49.95), 25832);
        assert_eq!(utm_epsg_for(13.4, 52.5), 25833);
        assert_eq!(utm_epsg_for(24.94, 60.17), 25835);
        assert_eq!(utm_epsg_for(-74.0, 40.7), 32618);
        // Zones beyond the table work end to end (New York in zone 18N).
        let ny = Crs::from_epsg(32618).unwrap();
        assert_eq!(ny.name(), "WGS 84 / UTM zone 18N");
        let [x, y] = ny.from_wgs84(-74.0, 40.7).unwrap();
        let [lon, lat] = ny.to_wgs84(x, y).unwrap();
        assert!((lon + 74.0).abs() < 1e-9 && (lat - 40.7).abs() < 1e-9);
        // pyproj 3.7.2: (584482.3523, 4505935.8694)
        assert!(
            (x - 584_482.352_3).abs() < 1e-3 && (y - 4_505_935.869_4).abs() < 1e-3,
            "{x} {y}"
        );
        assert_eq!(utm_epsg_for(151.2, -33.9), 32756);
        assert_eq!(utm_epsg_for(180.0, 0.0), 32660);
    }
}
