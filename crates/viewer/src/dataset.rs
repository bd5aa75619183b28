//! What the viewer opens: a scenario file or a results folder, turned into the city (the
//! variant), the city without the scenario's edits (the baseline, when there are edits) and
//! the results found for it.
//!
//! - `SCENARIO.toml`: the city is built as `twin run` builds it (the demo city is
//!   generated from its seed; imported files are read), the edits applied; the results are
//!   those in `out/<scenario name>` (or `--results DIR`) when that folder exists.
//! - `RESULTS_DIR`: the folder `twin run` wrote. The scenario named in its `summary.json`
//!   rebuilds the city (looked up as written, then relative to the folder's parents); when
//!   it cannot be found, the city comes from the folder's own exports (`buildings.geojson`,
//!   `roads.geojson`, `dem.tif`).

use std::path::{Path, PathBuf};

use twin_core::City;
use twin_core::scenario::Scenario;

use crate::error::{Result, ViewError};
use crate::results::Results;

/// Everything the viewer shows.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Title for the window and the panels (scenario name or folder name).
    pub title: String,
    /// The scenario's description, if any.
    pub description: String,
    /// The city with the scenario's edits (the variant).
    pub city: City,
    /// The city without the edits, when the scenario has edits (the baseline).
    pub base_city: Option<City>,
    /// Results found for it.
    pub results: Option<Results>,
    /// Where the results came from.
    pub results_dir: Option<PathBuf>,
    /// The scenario, when one was found.
    pub scenario: Option<Scenario>,
}

impl Dataset {
    /// Open a scenario file or a results folder (see the module docs). `results_dir`
    /// overrides where a scenario's results are looked for.
    pub fn open(path: &Path, results_dir: Option<&Path>) -> Result<Dataset> {
        let meta = std::fs::metadata(path).map_err(|e| ViewError::io(path, e))?;
        if let Some(d) = results_dir
            && !d.is_dir()
        {
            return Err(ViewError::format(d, 0, "results folder not found"));
        }
        if meta.is_dir() {
            let results = Results::load(path)?;
            let scenario = results
                .scenario_file
                .as_ref()
                .and_then(|f| find_scenario(f, path))
                .map(|p| twin_core::scenario::load(&p))
                .transpose()?;
            let title = match &scenario {
                Some(s) => s.name.clone(),
                None => path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                ),
            };
            let (city, base_city, description) = match &scenario {
                Some(s) => {
                    let (c, b) = build(s)?;
                    (c, b, s.description.clone())
                }
                None => (city_from_exports(path)?, None, String::new()),
            };
            Ok(Dataset {
                title,
                description,
                city,
                base_city,
                results: Some(results),
                results_dir: Some(path.to_path_buf()),
                scenario,
            })
        } else if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            // A city file (CityGML, CityJSON, GeoJSON, OSM) or a DEM: the city alone.
            let opts = twin_core::import::ImportOptions {
                keep_surfaces: true,
                bbox: None,
                target_epsg: None,
            };
            let city = match twin_core::import::detect(path)? {
                twin_core::import::FileKind::GeoTiff | twin_core::import::FileKind::AsciiGrid => {
                    let r = twin_core::raster::read_raster(path)?;
                    let mut c = City::new("dem", r.spec.epsg.unwrap_or(0));
                    c.terrain.dem = Some(r);
                    c
                }
                _ => twin_core::import::load_city(path, &opts)?,
            };
            let title = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            Ok(Dataset::from_city(title, city))
        } else {
            let s = twin_core::scenario::load(path)?;
            let (city, base_city) = build(&s)?;
            let dir = match results_dir {
                Some(d) if d.is_dir() => Some(d.to_path_buf()),
                Some(d) => {
                    return Err(ViewError::format(d, 0, "results folder not found"));
                }
                None => {
                    let d = PathBuf::from("out").join(&s.name);
                    d.is_dir().then_some(d)
                }
            };
            let results = dir.as_deref().map(Results::load).transpose()?;
            Ok(Dataset {
                title: s.name.clone(),
                description: s.description.clone(),
                city,
                base_city,
                results,
                results_dir: dir,
                scenario: Some(s),
            })
        }
    }

    /// A dataset of a city alone (no results), e.g. the generated demo city.
    pub fn from_city(title: impl Into<String>, city: City) -> Dataset {
        Dataset {
            title: title.into(),
            description: String::new(),
            city,
            base_city: None,
            results: None,
            results_dir: None,
            scenario: None,
        }
    }
}

/// Build the city of a scenario and, when it has edits, the city without them.
fn build(s: &Scenario) -> Result<(City, Option<City>)> {
    let mut city = urban_twin::build_city(&s.city)?;
    let base = (!s.edits.is_empty()).then(|| city.clone());
    urban_twin::edits::apply(&mut city, &s.edits).map_err(|message| {
        ViewError::format(&s.path, 0, format!("applying the edits: {message}"))
    })?;
    Ok((city, base))
}

/// The scenario file a results folder names: as written (relative to the working
/// directory), then relative to the folder and its parents.
fn find_scenario(file: &Path, results_dir: &Path) -> Option<PathBuf> {
    if file.is_file() {
        return Some(file.to_path_buf());
    }
    let mut dir = Some(results_dir);
    while let Some(d) = dir {
        let p = d.join(file);
        if p.is_file() {
            return Some(p);
        }
        dir = d.parent();
    }
    None
}

/// The city from a results folder's own exports.
fn city_from_exports(dir: &Path) -> Result<City> {
    let opts = twin_core::import::ImportOptions {
        keep_surfaces: true,
        bbox: None,
        target_epsg: None,
    };
    let files: Vec<PathBuf> = ["buildings.geojson", "roads.geojson"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .collect();
    let dem = ["dem.tif", "dem.asc"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file());
    if files.is_empty() && dem.is_none() {
        return Err(ViewError::format(
            dir,
            0,
            "no scenario file found for this results folder and no city exports in it \
             (buildings.geojson, roads.geojson, dem.tif)",
        ));
    }
    let mut city = if files.is_empty() {
        City::new("dem", 0)
    } else {
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        twin_core::import::load_cities(&paths, None, &opts)?
    };
    if let Some(d) = dem {
        let r = twin_core::raster::read_raster(&d)?;
        if city.epsg == 0 {
            city.epsg = r.spec.epsg.unwrap_or(0);
        }
        city.terrain.dem = Some(r);
    }
    Ok(city)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_without_results_builds_the_city() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(
            &p,
            "[scenario]\nname = \"viewer-test-none\"\n\n[city.demo]\nseed = 5\nsize_m = 500.0\ncell_m = 2.0\n",
        )
        .unwrap();
        let d = Dataset::open(&p, Some(&dir.path().join("missing"))).unwrap_err();
        // The named results folder does not exist: that is an error naming it.
        assert!(d.to_string().contains("missing"), "{d}");
        let d = Dataset::open(&p, None).unwrap();
        assert_eq!(d.title, "viewer-test-none");
        assert!(d.results.is_none() && d.base_city.is_none());
        assert!(!d.city.buildings.is_empty());
    }

    #[test]
    fn missing_and_bad_paths_are_named() {
        let e = Dataset::open(Path::new("/nonexistent/x.toml"), None).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x.toml"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[scenario]\nname = 3\n").unwrap();
        let e = Dataset::open(&bad, None).unwrap_err();
        assert!(e.to_string().contains("bad.toml"), "{e}");
        let e = Dataset::open(dir.path(), None).unwrap_err();
        assert!(e.to_string().contains("no scenario file"), "{e}");
    }
}
