//! Importers: CityGML, CityJSON, GeoJSON, OpenStreetMap, and rasters; each returns a
//! [`City`](crate::model::City) (or part of one) and never panics on bad input.

pub mod citygml;
pub mod cityjson;
pub mod geojson;
pub mod osm;

use crate::geom::BBox2;

/// Options shared by the importers.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Keep LoD1/LoD2 surfaces as triangles (false: footprints and heights only, less memory).
    pub keep_surfaces: bool,
    /// Keep only features whose representative point lies in this box (in the file's CRS,
    /// or in `target_epsg` when set).
    pub bbox: Option<BBox2>,
    /// Reproject into this EPSG code (importers that read geographic data need it or default
    /// to the UTM zone of the data).
    pub target_epsg: Option<u32>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            keep_surfaces: true,
            bbox: None,
            target_epsg: None,
        }
    }
}
