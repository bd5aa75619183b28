//! The scenario file format (TOML, serde, `deny_unknown_fields`) and its validation into core
//! types. A scenario names the city (the generated demo city, files, or nothing but a DEM),
//! the edits that make a variant (add a building, remove buildings), the outputs to write,
//! and the analyses to run: a flood simulation ([`flood`], `[flood]`) a sun and shadow
//! study ([`shadow`], `[shadow]`) and traffic ([`traffic`], `[traffic]`).
//!
//! ```toml
//! [scenario]
//! name = "tower"
//! description = "A 60 m office tower on the quay"
//!
//! [city.demo]
//! seed = 42
//!
//! [[add_building]]
//! id = "TOWER_1"
//! footprint = [[565900.0, 5928100.0], [565930.0, 5928100.0], [565930.0, 5928130.0], [565900.0, 5928130.0]]
//! height_m = 60.0
//! usage = "office"
//!
//! [[remove_buildings]]
//! ids = ["DEMO_000012"]
//! ```
//! Relative paths are resolved against the scenario file's folder.

pub mod flood;
pub mod shadow;
pub mod traffic;

pub use flood::{
    BarrierSpec, BreachSpec, BuildingMode, EdgeKind, Edges, FloodNumerics, FloodOutputs,
    FloodSection, FloodSpec, GaugeSpec, Infiltration, InflowSpec, LossSpec, RainSpec, RegionSpec,
    WaterLevelSpec,
};
pub use shadow::{
    Date, FacadesSpec, ShadowSection, ShadowSpec, SiteSpec, SolarSpec, WindowSource, WindowsSpec,
};
pub use traffic::{TrafficSection, TrafficSpec};

use crate::error::{Error, Result};
use crate::geom::{BBox2, P2, Polygon};
use crate::model::{BuildingUse, RoofType};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[scenario]`: what the run is called.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// `[city.demo]`: parameters of the generated demo city.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSection {
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_size")]
    pub size_m: f64,
    #[serde(default = "default_cell")]
    pub cell_m: f64,
}

fn default_seed() -> u64 {
    crate::demo::DemoParams::default().seed
}
fn default_size() -> f64 {
    2000.0
}
fn default_cell() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}

impl Default for DemoSection {
    fn default() -> Self {
        DemoSection {
            seed: default_seed(),
            size_m: default_size(),
            cell_m: default_cell(),
        }
    }
}

/// `[city]`: the generated demo city (`[city.demo]`, the default), real files, or only a DEM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitySection {
    /// Generate the demo city with these parameters.
    pub demo: Option<DemoSection>,
    /// City files to load and merge (CityGML, CityJSON, GeoJSON, OSM).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// A DEM raster (GeoTIFF or `.asc`) to use as terrain; alone (without `files`) it makes a
    /// city of nothing but terrain.
    pub dem: Option<PathBuf>,
    /// Target CRS (EPSG code) for geographic inputs such as OSM and RFC 7946 GeoJSON.
    pub epsg: Option<u32>,
    /// Keep only features inside `[min_x, min_y, max_x, max_y]` (city CRS).
    pub bbox: Option<[f64; 4]>,
}

/// `[[add_building]]`: a new building from a footprint and a height.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBuildingSection {
    pub id: String,
    /// Footprint ring in the city CRS (closing point optional).
    pub footprint: Option<Vec<P2>>,
    /// Or: a GeoJSON file whose first polygon is the footprint.
    pub footprint_file: Option<PathBuf>,
    pub height_m: f64,
    /// Ground height; default: the lowest terrain height under the footprint.
    pub ground_z: Option<f64>,
    pub storeys: Option<u32>,
    /// residential, commercial, office, industrial, school, hospital, public, garage, other.
    pub usage: Option<String>,
    /// flat, gable, hip, shed, mansard.
    pub roof_type: Option<String>,
}

/// `[[remove_buildings]]`: buildings to remove, by id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveBuildingsSection {
    pub ids: Vec<String>,
}

/// Raster format for DEM and derived-layer outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RasterFormat {
    Tif,
    Asc,
    None,
}

/// `[outputs]`: what the run writes besides `summary.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsSection {
    /// `city.glb` (buildings by id, terrain, roads).
    #[serde(default = "yes")]
    pub glb: bool,
    /// `buildings.geojson`, `roads.geojson`, `barriers.geojson`, `points.geojson`, `landcover.geojson`.
    #[serde(default = "yes")]
    pub geojson: bool,
    /// `dem.tif` / `dem.asc` of the terrain.
    #[serde(default = "default_dem_format")]
    pub dem: RasterFormat,
    /// `preview.png`, a map of the city.
    #[serde(default = "yes")]
    pub preview_png: bool,
    /// When set, derived rasters at this cell size: `building_mask.tif`, `dsm.tif`, `roughness.tif`.
    pub derived_cell_m: Option<f64>,
}

fn default_dem_format() -> RasterFormat {
    RasterFormat::Tif
}

impl Default for OutputsSection {
    fn default() -> Self {
        OutputsSection {
            glb: true,
            geojson: true,
            dem: RasterFormat::Tif,
            preview_png: true,
            derived_cell_m: None,
        }
    }
}

/// The file as written by people.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: ScenarioMeta,
    /// Absent: the demo city, or no city at all when `[flood]` names a DEM.
    pub city: Option<CitySection>,
    #[serde(default)]
    pub add_building: Vec<AddBuildingSection>,
    #[serde(default)]
    pub remove_buildings: Vec<RemoveBuildingsSection>,
    #[serde(default)]
    pub outputs: OutputsSection,
    pub flood: Option<FloodSection>,
    pub shadow: Option<ShadowSection>,
    pub traffic: Option<TrafficSection>,
}

/// Where the city comes from, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum CitySpec {
    Demo {
        seed: u64,
        size_m: f64,
        cell_m: f64,
    },
    Files {
        files: Vec<PathBuf>,
        dem: Option<PathBuf>,
        epsg: Option<u32>,
        bbox: Option<BBox2>,
    },
    /// No city: the scenario has no `[city]` table and its `[flood]` section names the DEM.
    None,
}

/// A building to add, validated (footprint files are read during validation).
#[derive(Debug, Clone, PartialEq)]
pub struct NewBuilding {
    pub id: String,
    pub footprint: Polygon,
    pub height_m: f64,
    pub ground_z: Option<f64>,
    pub storeys: Option<u32>,
    pub usage: BuildingUse,
    pub roof_type: RoofType,
}

/// One edit that turns the base city into the variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    AddBuilding(NewBuilding),
    RemoveBuildings(Vec<String>),
}

/// Validated outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    pub glb: bool,
    pub geojson: bool,
    pub dem: RasterFormat,
    pub preview_png: bool,
    pub derived_cell_m: Option<f64>,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The scenario file (for messages and provenance).
    pub path: PathBuf,
    pub city: CitySpec,
    /// Removals first, then additions, each in file order.
    pub edits: Vec<Edit>,
    pub outputs: Outputs,
    /// The flood simulation to run, if any.
    pub flood: Option<FloodSpec>,
    /// The sun and shadow study to run, if any.
    pub shadow: Option<ShadowSpec>,
    /// The traffic assignment and evacuation to run, if any.
    pub traffic: Option<TrafficSpec>,
}

/// Read and validate a scenario file.
pub fn load(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(&text, path)
}

/// Parse and validate scenario text; `path` names the file in errors and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Scenario> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let location = match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}")
            }
            None => "scenario".to_string(),
        };
        Error::format(path, location, e.message().to_string())
    })?;
    validate(file, path)
}

fn field_err(path: &Path, field: &str, message: impl Into<String>) -> Error {
    Error::format(path, format!("field `{field}`"), message)
}

fn check_finite_positive(path: &Path, field: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v > 0.0) {
        return Err(field_err(
            path,
            field,
            format!("must be a positive number, got {v}"),
        ));
    }
    Ok(())
}

/// `p` resolved against `base` (the scenario file's folder) unless it is absolute.
fn resolve_path(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Validate a parsed file into a [`Scenario`].
pub fn validate(file: ScenarioFile, path: &Path) -> Result<Scenario> {
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();

    let name = file.scenario.name.trim().to_string();
    if name.is_empty() {
        return Err(field_err(path, "scenario.name", "must not be empty"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(field_err(
            path,
            "scenario.name",
            format!(
                "`{name}` may only contain letters, digits, '-', '_' and '.' (it names the results folder)"
            ),
        ));
    }

    let flood_dem = file.flood.as_ref().is_some_and(|f| f.dem.is_some());
    let city = match file.city {
        None if flood_dem => CitySpec::None,
        c => city_spec(c.unwrap_or_default(), path, &base)?,
    };

    let mut edits = Vec::new();
    for (i, r) in file.remove_buildings.iter().enumerate() {
        if r.ids.is_empty() {
            return Err(field_err(
                path,
                &format!("remove_buildings[{i}].ids"),
                "must list at least one id",
            ));
        }
        edits.push(Edit::RemoveBuildings(r.ids.clone()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in file.add_building.iter().enumerate() {
        let f = |k: &str| format!("add_building[{i}].{k}");
        if a.id.trim().is_empty() {
            return Err(field_err(path, &f("id"), "must not be empty"));
        }
        if !seen.insert(a.id.clone()) {
            return Err(field_err(
                path,
                &f("id"),
                format!("`{}` is added twice", a.id),
            ));
        }
        check_finite_positive(path, &f("height_m"), a.height_m)?;
        if a.height_m > 1000.0 {
            return Err(field_err(
                path,
                &f("height_m"),
                format!("{} m is not a plausible building height", a.height_m),
            ));
        }
        if let Some(g) = a.ground_z
            && !(g.is_finite() && (-500.0..9000.0).contains(&g))
        {
            return Err(field_err(
                path,
                &f("ground_z"),
                format!("{g} is not a plausible ground height"),
            ));
        }
        let footprint = match (&a.footprint, &a.footprint_file) {
            (Some(_), Some(_)) => {
                return Err(field_err(
                    path,
                    &f("footprint"),
                    "give `footprint` or `footprint_file`, not both",
                ));
            }
            (None, None) => {
                return Err(field_err(
                    path,
                    &f("footprint"),
                    "missing: give `footprint` or `footprint_file`",
                ));
            }
            (Some(ring), None) => Polygon::new(ring.clone()),
            (None, Some(file)) => {
                read_footprint_file(&resolve_path(&base, file), path, &f("footprint_file"))?
            }
        };
        let footprint = check_polygon(path, &f("footprint"), footprint)?;
        let usage = match &a.usage {
            None => BuildingUse::Other,
            Some(u) => BuildingUse::parse(u).ok_or_else(|| {
                field_err(
                    path,
                    &f("usage"),
                    format!(
                        "unknown usage `{u}`; expected one of {}",
                        BuildingUse::ALL.map(|u| u.as_str()).join(", ")
                    ),
                )
            })?,
        };
        let roof_type = match a.roof_type.as_deref() {
            None | Some("flat") => RoofType::Flat,
            Some("gable") => RoofType::Gable,
            Some("hip") => RoofType::Hip,
            Some("shed") => RoofType::Shed,
            Some("mansard") => RoofType::Mansard,
            Some(o) => {
                return Err(field_err(
                    path,
                    &f("roof_type"),
                    format!("unknown roof type `{o}`; expected flat, gable, hip, shed or mansard"),
                ));
            }
        };
        edits.push(Edit::AddBuilding(NewBuilding {
            id: a.id.clone(),
            footprint,
            height_m: a.height_m,
            ground_z: a.ground_z,
            storeys: a.storeys,
            usage,
            roof_type,
        }));
    }

    let o = file.outputs;
    if let Some(cm) = o.derived_cell_m {
        check_finite_positive(path, "outputs.derived_cell_m", cm)?;
    }
    let flood = file
        .flood
        .map(|f| flood::validate(f, path, &base))
        .transpose()?;
    let shadow = file
        .shadow
        .map(|s| shadow::validate(s, path, &base))
        .transpose()?;
    let traffic = file
        .traffic
        .map(|t| traffic::validate(t, path, &base))
        .transpose()?;
    if let Some(t) = &traffic
        && let Some(fl) = &t.flood
        && fl.results.is_none()
        && flood.is_none()
    {
        return Err(field_err(
            path,
            "traffic.flood",
            "needs a `[flood]` section in this scenario or `results` naming an earlier flood run",
        ));
    }
    Ok(Scenario {
        name,
        description: file.scenario.description,
        path: path.to_path_buf(),
        city,
        edits,
        outputs: Outputs {
            glb: o.glb,
            geojson: o.geojson,
            dem: o.dem,
            preview_png: o.preview_png,
            derived_cell_m: o.derived_cell_m,
        },
        flood,
        shadow,
        traffic,
    })
}

/// The validated `[city]`: the demo city unless `files` or a `dem` are given.
fn city_spec(c: CitySection, path: &Path, base: &Path) -> Result<CitySpec> {
    if c.demo.is_some() || (c.files.is_empty() && c.dem.is_none()) {
        if !c.files.is_empty() {
            return Err(field_err(
                path,
                "city",
                "give either `[city.demo]` or `files`, not both",
            ));
        }
        if c.dem.is_some() || c.bbox.is_some() || c.epsg.is_some() {
            return Err(field_err(
                path,
                "city",
                "`dem`, `epsg` and `bbox` apply to `files` or a DEM; the demo city makes its own terrain",
            ));
        }
        let d = c.demo.unwrap_or_default();
        check_finite_positive(path, "city.demo.size_m", d.size_m)?;
        check_finite_positive(path, "city.demo.cell_m", d.cell_m)?;
        return Ok(CitySpec::Demo {
            seed: d.seed,
            size_m: d.size_m,
            cell_m: d.cell_m,
        });
    }
    let files: Vec<PathBuf> = c.files.iter().map(|p| resolve_path(base, p)).collect();
    for (i, f) in files.iter().enumerate() {
        if !f.is_file() {
            return Err(field_err(
                path,
                &format!("city.files[{i}]"),
                format!("file {} does not exist", f.display()),
            ));
        }
    }
    let dem = c.dem.as_deref().map(|p| resolve_path(base, p));
    if let Some(d) = &dem
        && !d.is_file()
    {
        return Err(field_err(
            path,
            "city.dem",
            format!("file {} does not exist", d.display()),
        ));
    }
    if let Some(code) = c.epsg {
        crate::crs::Crs::from_epsg(code)
            .map_err(|e| field_err(path, "city.epsg", e.to_string()))?;
    }
    if files.is_empty() && c.bbox.is_some() {
        return Err(field_err(
            path,
            "city.bbox",
            "keeps the features of `files` inside the box; a city of only a DEM has none",
        ));
    }
    Ok(CitySpec::Files {
        files,
        dem,
        epsg: c.epsg,
        bbox: c
            .bbox
            .map(|b| check_bbox(path, "city.bbox", b))
            .transpose()?,
    })
}

/// A polygon of at least 3 finite points enclosing a non-zero area.
fn check_polygon(path: &Path, field: &str, polygon: Polygon) -> Result<Polygon> {
    if polygon.exterior.len() < 3 || !polygon.is_finite() || polygon.area() < 1e-6 {
        return Err(field_err(
            path,
            field,
            "must be a ring of at least 3 finite points enclosing a non-zero area",
        ));
    }
    Ok(polygon)
}

/// `[min_x, min_y, max_x, max_y]` with finite coordinates and min < max.
fn check_bbox(path: &Path, field: &str, [x0, y0, x1, y1]: [f64; 4]) -> Result<BBox2> {
    if !(x0 < x1 && y0 < y1 && [x0, y0, x1, y1].iter().all(|v| v.is_finite())) {
        return Err(field_err(
            path,
            field,
            "must be [min_x, min_y, max_x, max_y] with finite coordinates and min < max",
        ));
    }
    Ok(BBox2 {
        min: [x0, y0],
        max: [x1, y1],
    })
}

/// First polygon of a GeoJSON file (Feature, FeatureCollection or bare geometry), coordinates
/// taken as they are (city CRS).
fn read_footprint_file(file: &Path, scenario: &Path, field: &str) -> Result<Polygon> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        field_err(
            scenario,
            field,
            format!("cannot read {}: {e}", file.display()),
        )
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::format(file, format!("line {}", e.line()), e.to_string()))?;
    fn first_polygon(v: &serde_json::Value) -> Option<&serde_json::Value> {
        match v.get("type")?.as_str()? {
            "FeatureCollection" => v
                .get("features")?
                .as_array()?
                .iter()
                .find_map(first_polygon),
            "Feature" => first_polygon(v.get("geometry")?),
            "Polygon" => v.get("coordinates")?.as_array()?.first(),
            "MultiPolygon" => v
                .get("coordinates")?
                .as_array()?
                .first()?
                .as_array()?
                .first(),
            _ => None,
        }
    }
    let ring = first_polygon(&v)
        .and_then(|r| r.as_array())
        .ok_or_else(|| Error::format(file, "geometry", "no Polygon or MultiPolygon found"))?;
    let mut pts = Vec::with_capacity(ring.len());
    for (i, p) in ring.iter().enumerate() {
        let xy = p
            .as_array()
            .and_then(|a| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?]))
            .ok_or_else(|| {
                Error::format(
                    file,
                    format!("exterior ring position {i}"),
                    "not a [x, y] pair",
                )
            })?;
        pts.push(xy);
    }
    Ok(Polygon::new(pts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/tmp/s.toml")
    }

    #[test]
    fn minimal_scenario_is_the_demo_city() {
        let s = parse("[scenario]\nname = \"demo\"\n", p()).unwrap();
        assert_eq!(
            s.city,
            CitySpec::Demo {
                seed: 1,
                size_m: 2000.0,
                cell_m: 1.0
            }
        );
        assert!(s.edits.is_empty());
        assert!(s.outputs.glb && s.outputs.geojson && s.outputs.dem == RasterFormat::Tif);
    }

    #[test]
    fn edits_validate_and_order() {
        let s = parse(
            r#"
[scenario]
name = "tower"
[city.demo]
seed = 7
[[add_building]]
id = "T1"
footprint = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]
height_m = 60.0
usage = "office"
roof_type = "flat"
[[remove_buildings]]
ids = ["A", "B"]
"#,
            p(),
        )
        .unwrap();
        assert_eq!(s.edits.len(), 2);
        assert_eq!(
            s.edits[0],
            Edit::RemoveBuildings(vec!["A".into(), "B".into()])
        );
        let Edit::AddBuilding(b) = &s.edits[1] else {
            panic!()
        };
        assert_eq!(b.footprint.exterior.len(), 4);
        assert_eq!(b.usage, BuildingUse::Office);
    }

    fn err(text: &str) -> String {
        parse(text, p()).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let e = err("[scenario]\nname = \"x\"\ncolour = 3\n");
        assert!(
            e.contains("/tmp/s.toml") && e.contains("line 3") && e.contains("colour"),
            "{e}"
        );
        let e = err(
            "[scenario]\nname = \"x\"\n[[add_building]]\nid = \"a\"\nfootprint = [[0.0,0.0],[1.0,0.0],[1.0,1.0]]\nheight_m = -3.0\n",
        );
        assert!(
            e.contains("add_building[0].height_m") && e.contains("positive"),
            "{e}"
        );
        let e = err(
            "[scenario]\nname = \"x\"\n[[add_building]]\nid = \"a\"\nfootprint = [[0.0,0.0],[1.0,0.0],[2.0,0.0]]\nheight_m = 3.0\n",
        );
        assert!(e.contains("add_building[0].footprint"), "{e}");
        let e = err(
            "[scenario]\nname = \"x\"\n[[add_building]]\nid = \"a\"\nfootprint = [[0.0,0.0],[1.0,0.0],[1.0,1.0]]\nheight_m = 3.0\nusage = \"castle\"\n",
        );
        assert!(e.contains("unknown usage `castle`"), "{e}");
        let e = err("[scenario]\nname = \"x\"\n[city]\nfiles = [\"nope.gml\"]\n");
        assert!(
            e.contains("city.files[0]") && e.contains("does not exist"),
            "{e}"
        );
        let e = err("[scenario]\nname = \"a b\"\n");
        assert!(e.contains("scenario.name"), "{e}");
        let e = err("[scenario]\nname = \"x\"\n[city.demo]\ncell_m = 0.0\n");
        assert!(e.contains("city.demo.cell_m"), "{e}");
        let e = err("[scenario]\nname = \"x\"\n[[remove_buildings]]\nids = []\n");
        assert!(e.contains("remove_buildings[0].ids"), "{e}");
        let e = err("[scenario]\nname = \"x\"\n[outputs]\ndem = \"png\"\n");
        assert!(e.contains("line 4"), "{e}");
        let e = err("not toml at all [");
        assert!(e.contains("/tmp/s.toml"), "{e}");
    }

    #[test]
    fn a_dem_alone_is_a_city_of_terrain() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dgm1.tif"), "").unwrap();
        let scenario = dir.path().join("s.toml");
        let s = parse(
            "[scenario]\nname = \"x\"\n[city]\ndem = \"dgm1.tif\"\nepsg = 25832\n",
            &scenario,
        )
        .unwrap();
        assert_eq!(
            s.city,
            CitySpec::Files {
                files: vec![],
                dem: Some(dir.path().join("dgm1.tif")),
                epsg: Some(25832),
                bbox: None
            }
        );
        let e = parse(
            "[scenario]\nname = \"x\"\n[city]\ndem = \"dgm1.tif\"\nbbox = [0.0, 0.0, 1.0, 1.0]\n",
            &scenario,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("city.bbox") && e.contains("only a DEM"), "{e}");
        let e = parse(
            "[scenario]\nname = \"x\"\n[city]\ndem = \"nope.tif\"\n",
            &scenario,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("city.dem") && e.contains("does not exist"),
            "{e}"
        );
        let e = parse(
            "[scenario]\nname = \"x\"\n[city]\ndem = \"dgm1.tif\"\n[city.demo]\nseed = 2\n",
            &scenario,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("field `city`") && e.contains("demo city"), "{e}");
    }

    #[test]
    fn footprint_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let fp = dir.path().join("tower.geojson");
        std::fs::write(
            &fp,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[5,0],[5,5],[0,5],[0,0]]]}}]}"#,
        )
        .unwrap();
        let s = parse(
            "[scenario]\nname = \"x\"\n[[add_building]]\nid = \"a\"\nfootprint_file = \"tower.geojson\"\nheight_m = 3.0\n",
            &dir.path().join("s.toml"),
        )
        .unwrap();
        let Edit::AddBuilding(b) = &s.edits[0] else {
            panic!()
        };
        assert!((b.footprint.area() - 25.0).abs() < 1e-9);
    }
}
