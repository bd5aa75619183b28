//! Coordinate reference systems: parse CRS names (EPSG codes, OGC URNs and URLs, AdV URNs),
//! and reproject between WGS84 and the projected metric CRSs the engine works in.
//!
//! IMPLEMENTATION PENDING (helper task): see the signatures; bodies to be filled.

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

impl Crs {
    /// A CRS from an EPSG code. Fails with [`Error::UnknownCrs`] for unsupported codes.
    pub fn from_epsg(code: u32) -> Result<Crs> {
        let _ = code;
        Err(Error::UnknownCrs(format!("EPSG:{code}")))
    }
    /// Parse any of the spellings found in CityGML/CityJSON/GeoJSON/scenario files.
    pub fn parse(name: &str) -> Result<Crs> {
        Err(Error::UnknownCrs(name.to_string()))
    }
    /// Whether coordinates are longitude/latitude degrees.
    pub fn is_geographic(&self) -> bool {
        self.epsg == 4326
    }
    /// Area of use in WGS84 degrees (lon, lat).
    pub fn area_of_use(&self) -> BBox2 {
        BBox2::EMPTY
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
