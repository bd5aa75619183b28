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

use crate::error::{Error, Result};
use crate::model::City;
use std::io::Read;
use std::path::Path;

/// The kinds of file the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    CityGml,
    CityJson,
    GeoJson,
    Osm,
    GeoTiff,
    AsciiGrid,
    Glb,
    Scenario,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::CityGml => "CityGML",
            FileKind::CityJson => "CityJSON",
            FileKind::GeoJson => "GeoJSON",
            FileKind::Osm => "OpenStreetMap",
            FileKind::GeoTiff => "GeoTIFF",
            FileKind::AsciiGrid => "ESRI ASCII grid",
            FileKind::Glb => "glTF binary",
            FileKind::Scenario => "scenario (TOML)",
        }
    }
    /// Whether [`load_city`] reads it into a city.
    pub fn is_city(self) -> bool {
        matches!(
            self,
            FileKind::CityGml | FileKind::CityJson | FileKind::GeoJson | FileKind::Osm
        )
    }
}

/// Tell what a file is, from its name and, for ambiguous names, its first bytes.
pub fn detect(path: &Path) -> Result<FileKind> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = if name.ends_with(".osm.pbf")
        || name.ends_with(".osm")
        || name.ends_with(".osm.gz")
        || name.ends_with(".pbf")
    {
        Some(FileKind::Osm)
    } else if name.ends_with(".gml") || name.ends_with(".gml.gz") || name.ends_with(".citygml") {
        Some(FileKind::CityGml)
    } else if name.ends_with(".city.json")
        || name.ends_with(".city.jsonl")
        || name.ends_with(".jsonl")
    {
        Some(FileKind::CityJson)
    } else if name.ends_with(".geojson") {
        Some(FileKind::GeoJson)
    } else if name.ends_with(".tif") || name.ends_with(".tiff") {
        Some(FileKind::GeoTiff)
    } else if name.ends_with(".asc") {
        Some(FileKind::AsciiGrid)
    } else if name.ends_with(".glb") {
        Some(FileKind::Glb)
    } else if name.ends_with(".toml") {
        Some(FileKind::Scenario)
    } else {
        None
    };
    if let Some(k) = by_name {
        return Ok(k);
    }
    // .xml and .json (and anything else): sniff the head of the file.
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(path, e))?;
    head.truncate(n);
    let text = String::from_utf8_lossy(&head);
    if n == 0 {
        return Err(Error::format(path, "byte 0", "the file is empty"));
    }
    if text.contains("CityModel") {
        return Ok(FileKind::CityGml);
    }
    if text.contains("<osm") {
        return Ok(FileKind::Osm);
    }
    if text.contains("\"CityJSON") {
        return Ok(FileKind::CityJson);
    }
    if text.contains("\"FeatureCollection\"") || text.contains("\"Feature\"") {
        return Ok(FileKind::GeoJson);
    }
    if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        return Ok(FileKind::GeoTiff);
    }
    if head.starts_with(b"glTF") {
        return Ok(FileKind::Glb);
    }
    Err(Error::format(
        path,
        "file",
        "unrecognised format (expected CityGML, CityJSON, GeoJSON, OSM, GeoTIFF, .asc, .glb or a scenario .toml)",
    ))
}

/// Read one city file (CityGML, CityJSON, GeoJSON, OSM) into a [`City`].
pub fn load_city(path: &Path, opts: &ImportOptions) -> Result<City> {
    match detect(path)? {
        FileKind::CityGml => citygml::read_path(path, opts),
        FileKind::CityJson => cityjson::read_path(path, opts),
        FileKind::GeoJson => geojson::read_path(path, opts),
        FileKind::Osm => osm::read_path(path, opts),
        k => Err(Error::format(
            path,
            "file",
            format!(
                "a {} file holds no city; use it as a DEM or look at it with `twin info`",
                k.as_str()
            ),
        )),
    }
}

/// Read several city files and merge them into one city. The first file that has a CRS sets
/// it; geographic inputs (OSM, RFC 7946 GeoJSON) are reprojected into it. An optional DEM
/// becomes the terrain.
pub fn load_cities(paths: &[&Path], dem: Option<&Path>, opts: &ImportOptions) -> Result<City> {
    let mut opts = opts.clone();
    let mut city: Option<City> = None;
    for p in paths {
        let c = load_city(p, &opts)?;
        if opts.target_epsg.is_none() && c.epsg != 0 {
            opts.target_epsg = Some(c.epsg);
        }
        match &mut city {
            None => city = Some(c),
            Some(acc) => acc.merge(c).map_err(|e| match e {
                Error::Invalid(m) => Error::format(*p, "file", m),
                e => e,
            })?,
        }
    }
    let mut city = match city {
        Some(c) => c,
        None => {
            let mut c = City::new("city", opts.target_epsg.unwrap_or(0));
            if dem.is_none() {
                return Err(Error::Invalid("no city files and no DEM given".into()));
            }
            c.name = "terrain".into();
            c
        }
    };
    if let Some(d) = dem {
        let raster = crate::raster::read_raster(d)?;
        match raster.spec.epsg {
            Some(e) if city.epsg != 0 && e != city.epsg => {
                return Err(Error::format(
                    d,
                    "GeoKeys",
                    format!(
                        "the DEM is in EPSG:{e} but the city is in EPSG:{}",
                        city.epsg
                    ),
                ));
            }
            Some(e) if city.epsg == 0 => city.epsg = e,
            _ => {}
        }
        city.sources.push(d.display().to_string());
        city.terrain.dem = Some(raster);
    }
    Ok(city)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::{GridSpec, Raster};

    #[test]
    fn a_dem_without_city_files_is_a_city_of_terrain() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dgm.tif");
        let spec = GridSpec {
            origin_x: 565000.0,
            origin_y: 5928000.0,
            cell_x: 2.0,
            cell_y: 2.0,
            width: 4,
            height: 3,
            epsg: Some(25832),
        };
        let dem = Raster::filled(spec, 1.5f32, None);
        crate::raster::geotiff::write_geotiff(&dem, &p, &Default::default()).unwrap();
        let city = load_cities(&[], Some(&p), &ImportOptions::default()).unwrap();
        assert_eq!(city.epsg, 25832);
        assert!(city.buildings.is_empty());
        assert_eq!(city.terrain.dem.as_ref().unwrap().spec, spec);
        assert_eq!(city.sources, vec![p.display().to_string()]);
        let other = ImportOptions {
            target_epsg: Some(25833),
            ..Default::default()
        };
        let e = load_cities(&[], Some(&p), &other).unwrap_err().to_string();
        assert!(e.contains("EPSG:25832") && e.contains("EPSG:25833"), "{e}");
        let e = load_cities(&[], None, &ImportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no city files and no DEM"), "{e}");
    }
}
