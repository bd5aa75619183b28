//! CityJSON importer: CityJSON 1.0, 1.1 and 2.0 files (`.city.json`, `.json`) and
//! CityJSONSeq (`.city.jsonl`: a CityJSON header line followed by `CityJSONFeature` lines).
//!
//! What is read:
//! - `transform` (scale, translate) applied to the integer vertices; every vertex must be finite.
//! - `metadata.referenceSystem` parsed with [`Crs::parse`] into `city.epsg` and
//!   `city.vertical_datum` (a file without one gives `epsg` 0 and a note in `city.sources`).
//! - `Building` objects become [`Building`]s; `BuildingPart`s are linked to their `Building`
//!   through `parents` (followed up nested parts) and kept in [`Building::parts`]; an orphan
//!   part becomes a building of its own. Other `Building*` objects (installations,
//!   constructive elements, ...) add their geometry to their building without being a part.
//! - Per object only the geometry with the highest LoD is used (types `Solid`, `MultiSolid`,
//!   `CompositeSolid`, `MultiSurface`, `CompositeSurface`); polygons with holes are
//!   triangulated with [`TriMesh::add_polygon`] and tagged from the semantic surfaces.
//! - Footprint: the `GroundSurface` polygons; without ground semantics, the near-horizontal
//!   surfaces lying within 0.1 m of the lowest one (the bottom of a LoD1 block). `ground_z` is
//!   the lowest and `roof_z` the highest vertex of the building's geometry.
//! - Attributes `measuredHeight`, `roofType` (AdV code or name), `storeysAboveGround`,
//!   `function`/`usage`; all others are kept as strings in [`Building::attributes`].
//! - `TINRelief` objects are merged into `city.terrain.tin`. Other object types (roads, land
//!   use, water, ...) are skipped and counted in a note in `city.sources`.

use super::ImportOptions;
use crate::crs::{Crs, Transformer};
use crate::error::{Error, Result};
use crate::geom::{P3, Polygon, newell_normal, open_ring, ring_area};
use crate::model::{Building, BuildingPart, BuildingUse, City, RoofType, SurfaceKind, TriMesh};
use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// CityJSON versions this importer reads.
const VERSIONS: [&str; 3] = ["1.0", "1.1", "2.0"];

/// A JSON value made only of numbers, nulls and nested arrays (CityJSON boundaries and
/// semantic values, GeoJSON coordinates), deserialised without a generic `Value` tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Nested {
    Num(f64),
    Null,
    List(Vec<Nested>),
}

impl Nested {
    /// The elements when this is an array.
    pub(crate) fn as_list(&self) -> Option<&[Nested]> {
        match self {
            Nested::List(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Nested;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, null or an array of them")
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Nested, E> {
                Ok(Nested::Num(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Nested, E> {
                Ok(Nested::Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Nested, E> {
                Ok(Nested::Num(v))
            }
            fn visit_unit<E>(self) -> std::result::Result<Nested, E> {
                Ok(Nested::Null)
            }
            fn visit_none<E>(self) -> std::result::Result<Nested, E> {
                Ok(Nested::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Nested, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(Nested::List(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A CityJSON document or a CityJSONFeature line.
#[derive(Deserialize)]
struct Doc {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    transform: Option<Transform>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(rename = "CityObjects", default)]
    city_objects: BTreeMap<String, CityObject>,
    #[serde(default)]
    vertices: Option<Vec<[f64; 3]>>,
}

#[derive(Deserialize, Clone, Copy)]
struct Transform {
    scale: [f64; 3],
    translate: [f64; 3],
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "referenceSystem", default)]
    reference_system: Option<String>,
}

#[derive(Deserialize)]
struct CityObject {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    geometry: Vec<Geometry>,
    #[serde(default)]
    parents: Vec<String>,
}

#[derive(Deserialize)]
struct Geometry {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    lod: Option<Lod>,
    #[serde(default)]
    boundaries: Option<Nested>,
    #[serde(default)]
    semantics: Option<Semantics>,
}

/// `lod` is a string ("2.2") in CityJSON 1.1/2.0 and a number in 1.0.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lod {
    Num(f64),
    Str(String),
}

impl Lod {
    fn value(&self) -> f64 {
        match self {
            Lod::Num(v) => *v,
            Lod::Str(s) => s.trim().parse().unwrap_or(0.0),
        }
    }
}

#[derive(Deserialize)]
struct Semantics {
    #[serde(default)]
    surfaces: Vec<SemanticSurface>,
    #[serde(default)]
    values: Option<Nested>,
}

#[derive(Deserialize)]
struct SemanticSurface {
    #[serde(rename = "type")]
    ty: String,
}

/// Read a CityJSON or CityJSONSeq file.
pub fn read_path(path: impl AsRef<Path>, opts: &ImportOptions) -> Result<City> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_slice(&bytes, path, opts)
}

/// Read CityJSON (or CityJSONSeq) from memory; `path_for_errors` names the source in errors
/// and in `city.sources`.
pub fn read_slice(
    bytes: &[u8],
    path_for_errors: impl AsRef<Path>,
    opts: &ImportOptions,
) -> Result<City> {
    let path = path_for_errors.as_ref();
    let json_err = |e: serde_json::Error| {
        Error::format(
            path,
            format!("line {}, column {}", e.line(), e.column()),
            format!("invalid CityJSON: {e}"),
        )
    };
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Doc>();
    let header = stream
        .next()
        .ok_or_else(|| Error::format(path, "byte 0", "empty file: no CityJSON object"))?
        .map_err(json_err)?;
    if header.ty != "CityJSON" {
        return Err(Error::format(
            path,
            "type",
            format!("\"type\" is {:?}, expected \"CityJSON\"", header.ty),
        ));
    }
    let version = header.version.clone().unwrap_or_default();
    let version = version.as_str();
    if !VERSIONS
        .iter()
        .any(|v| version == *v || version.strip_prefix(v).is_some_and(|r| r.starts_with('.')))
    {
        return Err(Error::format(
            path,
            "version",
            format!(
                "unsupported CityJSON version {version:?} (supported: {})",
                VERSIONS.join(", ")
            ),
        ));
    }
    let file_crs = match header
        .metadata
        .as_ref()
        .and_then(|m| m.reference_system.as_deref())
    {
        Some(name) => Some(Crs::parse(name).map_err(|e| {
            Error::format(
                path,
                "metadata.referenceSystem",
                format!("cannot use CRS {name:?}: {e}"),
            )
        })?),
        None => None,
    };
    let reproject = match (opts.target_epsg, &file_crs) {
        (Some(t), Some(c)) if t != c.epsg => Some(Transformer::new(c.clone(), Crs::from_epsg(t)?)),
        (Some(_), None) => {
            return Err(Error::format(
                path,
                "metadata.referenceSystem",
                "cannot reproject: the file names no reference system",
            ));
        }
        _ => None,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| {
            [".city.jsonl", ".city.json", ".jsonl", ".json"]
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .unwrap_or(n)
                .to_string()
        })
        .unwrap_or_default();
    let epsg = opts
        .target_epsg
        .or(file_crs.as_ref().map(|c| c.epsg))
        .unwrap_or(0);
    let mut city = City::new(name, epsg);
    city.vertical_datum = file_crs.as_ref().and_then(|c| c.vertical_datum.clone());
    let mut reader = Reader {
        path,
        opts,
        transform: header.transform,
        reproject,
        buildings: Vec::new(),
        tin: None,
        skipped: BTreeMap::new(),
    };
    reader.add_doc(header, "")?;
    let mut features = 0usize;
    for doc in stream {
        let doc = doc.map_err(json_err)?;
        features += 1;
        if doc.ty != "CityJSONFeature" {
            return Err(Error::format(
                path,
                format!("feature {features}"),
                format!(
                    "\"type\" is {:?}, expected \"CityJSONFeature\" after the header",
                    doc.ty
                ),
            ));
        }
        reader.add_doc(doc, &format!("feature {features}: "))?;
    }
    let mut buildings = reader.buildings;
    if let Some(bbox) = opts.bbox {
        buildings.retain(|b| {
            let bb = b.bbox();
            let p = b
                .centroid()
                .unwrap_or([0.5 * (bb.min[0] + bb.max[0]), 0.5 * (bb.min[1] + bb.max[1])]);
            p[0] >= bbox.min[0] && p[0] <= bbox.max[0] && p[1] >= bbox.min[1] && p[1] <= bbox.max[1]
        });
    }
    buildings.sort_by(|a, b| a.id.cmp(&b.id));
    city.buildings = buildings;
    city.terrain.tin = reader.tin;
    city.sources.push(format!(
        "CityJSON {version} {}{}",
        path.display(),
        if features > 0 {
            format!(" ({features} features)")
        } else {
            String::new()
        }
    ));
    if file_crs.is_none() {
        city.sources.push(format!(
            "{}: no metadata.referenceSystem, CRS unknown (epsg 0)",
            path.display()
        ));
    }
    if !reader.skipped.is_empty() {
        let list: Vec<String> = reader
            .skipped
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        city.sources.push(format!(
            "{}: skipped CityObjects: {}",
            path.display(),
            list.join(", ")
        ));
    }
    Ok(city)
}

/// Geometry of one CityObject, ready to merge into a building.
#[derive(Default)]
struct ObjGeom {
    mesh: TriMesh,
    footprint: Vec<Polygon>,
    zmin: Option<f64>,
    zmax: Option<f64>,
    lod: u8,
}

/// One polygon of a geometry: rings of 3D points (exterior first) and its semantic class.
struct Surface {
    rings: Vec<Vec<P3>>,
    kind: SurfaceKind,
}

struct Reader<'a> {
    path: &'a Path,
    opts: &'a ImportOptions,
    transform: Option<Transform>,
    reproject: Option<Transformer>,
    buildings: Vec<Building>,
    tin: Option<TriMesh>,
    skipped: BTreeMap<String, usize>,
}

impl Reader<'_> {
    fn err(&self, location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::format(self.path, location, message)
    }

    /// Add the objects of one document (the whole file, or one CityJSONFeature).
    fn add_doc(&mut self, doc: Doc, loc: &str) -> Result<()> {
        let raw = doc
            .vertices
            .ok_or_else(|| self.err(format!("{loc}vertices"), "missing \"vertices\" member"))?;
        let (s, t) = self
            .transform
            .map_or(([1.0; 3], [0.0; 3]), |t| (t.scale, t.translate));
        let mut verts = Vec::with_capacity(raw.len());
        for (i, v) in raw.iter().enumerate() {
            let p = [v[0] * s[0] + t[0], v[1] * s[1] + t[1], v[2] * s[2] + t[2]];
            if !p.iter().all(|c| c.is_finite()) {
                return Err(self.err(
                    format!("{loc}vertices[{i}]"),
                    format!("non-finite coordinate {p:?} after transform"),
                ));
            }
            let p = match &self.reproject {
                Some(tr) => {
                    let [x, y] = tr.transform(p[0], p[1])?;
                    [x, y, p[2]]
                }
                None => p,
            };
            verts.push(p);
        }
        let objects = &doc.city_objects;
        let mut buildings: BTreeMap<&str, Building> = BTreeMap::new();
        for (id, obj) in objects {
            match obj.ty.as_str() {
                "Building" => {
                    let g = self.object_geometry(id, obj, &verts, self.opts.keep_surfaces)?;
                    let a = Attrs::parse(&obj.attributes);
                    let b = Building {
                        id: id.clone(),
                        footprint: g.footprint,
                        ground_z: g.zmin,
                        roof_z: g.zmax,
                        measured_height_m: a.measured_height,
                        storeys: a.storeys,
                        function: a.function,
                        usage: a.usage,
                        roof_type: a.roof_type,
                        attributes: a.rest,
                        lod: g.lod,
                        surfaces: g.mesh,
                        ..Default::default()
                    };
                    buildings.insert(id, b);
                }
                "TINRelief" => {
                    let g = self.object_geometry(id, obj, &verts, true)?;
                    match &mut self.tin {
                        Some(tin) => tin.append(&g.mesh),
                        None => self.tin = Some(g.mesh),
                    }
                }
                t if t.starts_with("Building") => {}
                t => *self.skipped.entry(t.to_string()).or_default() += 1,
            }
        }
        // Parts and other Building* objects, merged into their root building.
        for (id, obj) in objects {
            if obj.ty == "Building" || !obj.ty.starts_with("Building") {
                continue;
            }
            let g = self.object_geometry(id, obj, &verts, self.opts.keep_surfaces)?;
            let is_part = obj.ty == "BuildingPart";
            let part = is_part.then(|| {
                let a = Attrs::parse(&obj.attributes);
                BuildingPart {
                    id: id.clone(),
                    footprint: g.footprint.clone(),
                    ground_z: g.zmin,
                    roof_z: g.zmax,
                    measured_height_m: a.measured_height,
                    storeys: a.storeys,
                    roof_type: a.roof_type,
                }
            });
            let root = match root_building(objects, id) {
                Some(r) => buildings.get_mut(r),
                None => None,
            };
            let b = match root {
                Some(b) => b,
                None if is_part => {
                    // An orphan part is a building of its own.
                    let a = Attrs::parse(&obj.attributes);
                    buildings.entry(id).or_insert_with(|| Building {
                        id: id.clone(),
                        measured_height_m: a.measured_height,
                        storeys: a.storeys,
                        function: a.function,
                        usage: a.usage,
                        roof_type: a.roof_type,
                        attributes: a.rest,
                        ..Default::default()
                    })
                }
                None => {
                    *self.skipped.entry(obj.ty.clone()).or_default() += 1;
                    continue;
                }
            };
            merge_geometry(b, g);
            if let Some(p) = part {
                if b.roof_type == RoofType::Unknown {
                    b.roof_type = p.roof_type;
                }
                if b.storeys.is_none() {
                    b.storeys = p.storeys;
                }
                b.parts.push(p);
            }
        }
        self.buildings.extend(buildings.into_values());
        Ok(())
    }

    /// Triangles, footprint, z range and LoD of the highest-LoD geometry of an object.
    fn object_geometry(
        &self,
        id: &str,
        obj: &CityObject,
        verts: &[P3],
        keep_mesh: bool,
    ) -> Result<ObjGeom> {
        let best = obj
            .geometry
            .iter()
            .enumerate()
            .filter(|(_, g)| surface_depth(&g.ty).is_some())
            .max_by(|a, b| {
                let la = a.1.lod.as_ref().map_or(0.0, Lod::value);
                let lb = b.1.lod.as_ref().map_or(0.0, Lod::value);
                la.total_cmp(&lb)
            });
        let Some((gi, g)) = best else {
            return Ok(ObjGeom::default());
        };
        let loc = format!("CityObjects.{id}.geometry[{gi}]");
        let depth = surface_depth(&g.ty).unwrap_or(0);
        let boundaries = g
            .boundaries
            .as_ref()
            .ok_or_else(|| self.err(&loc, "missing \"boundaries\""))?;
        let sem = g.semantics.as_ref();
        let mut surfaces = Vec::new();
        self.walk(
            boundaries,
            sem.and_then(|s| s.values.as_ref()),
            sem.map_or(&[][..], |s| &s.surfaces),
            depth,
            verts,
            &loc,
            &mut surfaces,
        )?;
        let mut out = ObjGeom {
            lod: g.lod.as_ref().map_or(0.0, Lod::value).clamp(0.0, 4.0) as u8,
            ..Default::default()
        };
        for p in surfaces.iter().flat_map(|s| s.rings.iter().flatten()) {
            out.zmin = Some(out.zmin.map_or(p[2], |z| z.min(p[2])));
            out.zmax = Some(out.zmax.map_or(p[2], |z| z.max(p[2])));
        }
        if keep_mesh {
            for s in &surfaces {
                if let Some((outer, holes)) = s.rings.split_first() {
                    out.mesh.add_polygon(outer, holes, s.kind);
                }
            }
        }
        out.footprint = footprint(&surfaces);
        Ok(out)
    }

    /// Descend `depth` array levels to the surfaces, pairing each with its semantic value.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        node: &Nested,
        sem: Option<&Nested>,
        sem_surfaces: &[SemanticSurface],
        depth: usize,
        verts: &[P3],
        loc: &str,
        out: &mut Vec<Surface>,
    ) -> Result<()> {
        let list = node.as_list().ok_or_else(|| {
            self.err(
                loc,
                "\"boundaries\" nesting does not match the geometry type",
            )
        })?;
        if depth > 0 {
            for (i, child) in list.iter().enumerate() {
                let s = sem.and_then(Nested::as_list).and_then(|l| l.get(i));
                self.walk(child, s, sem_surfaces, depth - 1, verts, loc, out)?;
            }
            return Ok(());
        }
        let kind = match sem {
            Some(Nested::Num(i)) => {
                let s = sem_surfaces.get(*i as usize).filter(|_| i.fract() == 0.0);
                let s = s.ok_or_else(|| {
                    self.err(
                        loc,
                        format!(
                            "semantic value {i} out of range ({} semantic surfaces)",
                            sem_surfaces.len()
                        ),
                    )
                })?;
                match s.ty.as_str() {
                    "RoofSurface" => SurfaceKind::Roof,
                    "WallSurface" => SurfaceKind::Wall,
                    "GroundSurface" => SurfaceKind::Ground,
                    _ => SurfaceKind::Other,
                }
            }
            _ => SurfaceKind::Other,
        };
        let mut rings = Vec::with_capacity(list.len());
        for r in list {
            let idx = r.as_list().ok_or_else(|| {
                self.err(
                    loc,
                    "\"boundaries\" nesting does not match the geometry type",
                )
            })?;
            let ring = idx
                .iter()
                .map(|v| match v {
                    Nested::Num(i)
                        if *i >= 0.0 && i.fract() == 0.0 && (*i as usize) < verts.len() =>
                    {
                        Ok(verts[*i as usize])
                    }
                    Nested::Num(i) => Err(self.err(
                        loc,
                        format!("vertex index {i} out of range ({} vertices)", verts.len()),
                    )),
                    _ => Err(self.err(loc, "a ring holds a non-numeric vertex index")),
                })
                .collect::<Result<Vec<P3>>>()?;
            rings.push(open_ring(ring));
        }
        out.push(Surface { rings, kind });
        Ok(())
    }
}

/// Array levels above a surface (boundaries included) for a geometry type (None: not a surface geometry).
fn surface_depth(ty: &str) -> Option<usize> {
    match ty {
        "MultiSurface" | "CompositeSurface" => Some(1),
        "Solid" => Some(2),
        "MultiSolid" | "CompositeSolid" => Some(3),
        _ => None,
    }
}

/// The id of the `Building` an object belongs to, following `parents` upwards.
fn root_building<'a>(objects: &'a BTreeMap<String, CityObject>, id: &str) -> Option<&'a str> {
    let mut cur = objects.get_key_value(id)?;
    for _ in 0..objects.len() {
        if cur.1.ty == "Building" {
            return Some(cur.0);
        }
        cur = objects.get_key_value(cur.1.parents.first()?)?;
    }
    None
}

/// Merge an object's geometry into a building.
fn merge_geometry(b: &mut Building, g: ObjGeom) {
    b.footprint.extend(g.footprint);
    b.surfaces.append(&g.mesh);
    if let Some(z) = g.zmin {
        b.ground_z = Some(b.ground_z.map_or(z, |g| g.min(z)));
    }
    if let Some(z) = g.zmax {
        b.roof_z = Some(b.roof_z.map_or(z, |r| r.max(z)));
    }
    b.lod = b.lod.max(g.lod);
}

/// Footprint polygons: ground surfaces, else the lowest near-horizontal surfaces.
fn footprint(surfaces: &[Surface]) -> Vec<Polygon> {
    let ground: Vec<&Surface> = surfaces
        .iter()
        .filter(|s| s.kind == SurfaceKind::Ground)
        .collect();
    let chosen = if ground.is_empty() {
        let horizontal: Vec<(&Surface, f64)> = surfaces
            .iter()
            .filter_map(|s| {
                let outer = s.rings.first()?;
                let n = newell_normal(outer);
                let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                (len > 0.0 && n[2].abs() >= 0.95 * len)
                    .then(|| (s, outer.iter().map(|p| p[2]).fold(f64::MIN, f64::max)))
            })
            .collect();
        let low = horizontal.iter().map(|h| h.1).fold(f64::INFINITY, f64::min);
        horizontal
            .into_iter()
            .filter(|h| h.1 <= low + 0.1)
            .map(|h| h.0)
            .collect()
    } else {
        ground
    };
    chosen
        .into_iter()
        .filter_map(|s| {
            let (outer, holes) = s.rings.split_first()?;
            let mut exterior: Vec<[f64; 2]> = outer.iter().map(|p| [p[0], p[1]]).collect();
            let a = ring_area(&exterior);
            if a.abs() < 1e-9 {
                return None;
            }
            if a < 0.0 {
                exterior.reverse();
            }
            let interiors = holes
                .iter()
                .map(|h| {
                    let mut r: Vec<[f64; 2]> = h.iter().map(|p| [p[0], p[1]]).collect();
                    if ring_area(&r) > 0.0 {
                        r.reverse();
                    }
                    r
                })
                .filter(|r| r.len() >= 3)
                .collect();
            Some(Polygon {
                exterior,
                interiors,
            })
        })
        .collect()
}

/// The attributes the model knows, and the rest as strings.
struct Attrs {
    measured_height: Option<f64>,
    storeys: Option<u32>,
    function: Option<String>,
    usage: BuildingUse,
    roof_type: RoofType,
    rest: BTreeMap<String, String>,
}

impl Attrs {
    fn parse(attrs: &BTreeMap<String, serde_json::Value>) -> Attrs {
        let mut a = Attrs {
            measured_height: None,
            storeys: None,
            function: None,
            usage: BuildingUse::Other,
            roof_type: RoofType::Unknown,
            rest: BTreeMap::new(),
        };
        for (k, v) in attrs {
            let text = value_text(v);
            let num = v
                .as_f64()
                .or_else(|| text.trim().parse::<f64>().ok())
                .filter(|x| x.is_finite());
            match k.as_str() {
                "measuredHeight" if num.is_some() => a.measured_height = num,
                "storeysAboveGround" if num.is_some_and(|n| (0.0..1e4).contains(&n)) => {
                    a.storeys = num.map(|n| n.round() as u32)
                }
                "roofType" => {
                    a.roof_type = roof_type(&text);
                    a.rest.insert(k.clone(), text);
                }
                "function" | "usage"
                    if !text.is_empty()
                        && (a.function.is_none() || a.usage == BuildingUse::Other) =>
                {
                    a.usage = building_use(&text);
                    a.function = Some(text);
                }
                _ => {
                    a.rest.insert(k.clone(), text);
                }
            }
        }
        a
    }
}

/// An attribute value as text: strings as they are, everything else as JSON.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Roof type from an AdV/CityGML code ("1000", "3100") or a name ("flat", "gable", ...).
pub(crate) fn roof_type(s: &str) -> RoofType {
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "flat" | "flachdach" | "plat" => RoofType::Flat,
        "gable" | "gabled" | "satteldach" | "zadeldak" => RoofType::Gable,
        "hip" | "hipped" | "walmdach" | "schilddak" => RoofType::Hip,
        "shed" | "pultdach" | "lessenaarsdak" => RoofType::Shed,
        "mansard" | "mansarddach" | "mansardedak" => RoofType::Mansard,
        _ => RoofType::from_adv(&t),
    }
}

/// Use class from a function/usage value: our own names, ALKIS codes, or common words
/// (English, German, Dutch).
pub(crate) fn building_use(s: &str) -> BuildingUse {
    let t = s.trim().to_lowercase();
    if let Some(u) = BuildingUse::parse(&t) {
        return u;
    }
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return BuildingUse::from_alkis(&t);
    }
    const WORDS: &[(&str, BuildingUse)] = &[
        ("resid", BuildingUse::Residential),
        ("wohn", BuildingUse::Residential),
        ("woon", BuildingUse::Residential),
        ("house", BuildingUse::Residential),
        ("apartment", BuildingUse::Residential),
        ("office", BuildingUse::Office),
        ("büro", BuildingUse::Office),
        ("kantoor", BuildingUse::Office),
        ("school", BuildingUse::School),
        ("schule", BuildingUse::School),
        ("onderwijs", BuildingUse::School),
        ("education", BuildingUse::School),
        ("hospital", BuildingUse::Hospital),
        ("krankenhaus", BuildingUse::Hospital),
        ("ziekenhuis", BuildingUse::Hospital),
        ("gezondheidszorg", BuildingUse::Hospital),
        ("garage", BuildingUse::Garage),
        ("parking", BuildingUse::Garage),
        ("industr", BuildingUse::Industrial),
        ("commerc", BuildingUse::Commercial),
        ("retail", BuildingUse::Commercial),
        ("shop", BuildingUse::Commercial),
        ("winkel", BuildingUse::Commercial),
        ("handel", BuildingUse::Commercial),
        ("public", BuildingUse::Public),
        ("civic", BuildingUse::Public),
        ("government", BuildingUse::Public),
        ("bijeenkomst", BuildingUse::Public),
    ];
    WORDS
        .iter()
        .find(|(w, _)| t.contains(w))
        .map_or(BuildingUse::Other, |w| w.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit cube as a Solid with semantics, a part of building "b", plus a road.
    const CUBE: &str = r#"{"type":"CityJSON","version":"2.0",
      "transform":{"scale":[0.5,0.5,0.5],"translate":[100000,400000,1]},
      "metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/7415"},
      "CityObjects":{
        "b":{"type":"Building","attributes":{"measuredHeight":1.0,"function":"residential",
             "storeysAboveGround":1,"roofType":"1000","note":"x","year":1999},
             "children":["b-1"]},
        "b-1":{"type":"BuildingPart","parents":["b"],"geometry":[
          {"type":"MultiSurface","lod":"1","boundaries":[[[0,1,2,3]]]},
          {"type":"Solid","lod":"2.2","boundaries":[[
            [[0,3,2,1]],[[4,5,6,7]],[[0,1,5,4]],[[1,2,6,5]],[[2,3,7,6]],[[3,0,4,7]]]],
           "semantics":{"surfaces":[{"type":"GroundSurface"},{"type":"RoofSurface"},
             {"type":"WallSurface","slope":3}],"values":[[0,1,2,2,2,null]]}}]},
        "orphan":{"type":"BuildingPart","geometry":[{"type":"MultiSurface","lod":1,
          "boundaries":[[[0,1,2,3]]]}]},
        "r":{"type":"Road","geometry":[]}},
      "vertices":[[0,0,0],[2,0,0],[2,2,0],[0,2,0],[0,0,2],[2,0,2],[2,2,2],[0,2,2]]}"#;

    fn read(s: &str) -> Result<City> {
        read_slice(s.as_bytes(), "test.city.json", &ImportOptions::default())
    }

    fn format_err(s: &str) -> (String, String) {
        match read(s) {
            Err(Error::Format {
                location, message, ..
            }) => (location, message),
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn reads_cube_with_semantics_parts_and_attributes() {
        let c = read(CUBE).unwrap();
        assert_eq!((c.epsg, c.vertical_datum.as_deref()), (28992, Some("NAP")));
        assert_eq!(c.name, "test");
        assert_eq!(c.buildings.len(), 2);
        let b = &c.buildings[0];
        assert_eq!(b.id, "b");
        assert_eq!(b.parts.len(), 1);
        assert_eq!(b.lod, 2);
        assert_eq!((b.ground_z, b.roof_z), (Some(1.0), Some(2.0)));
        assert_eq!(b.measured_height_m, Some(1.0));
        assert_eq!(b.storeys, Some(1));
        assert_eq!(b.usage, BuildingUse::Residential);
        assert_eq!(b.roof_type, RoofType::Flat);
        assert_eq!(b.attributes.get("note").map(String::as_str), Some("x"));
        assert_eq!(b.attributes.get("year").map(String::as_str), Some("1999"));
        assert!((b.footprint_area() - 1.0).abs() < 1e-12);
        assert!(b.footprint[0].exterior.contains(&[100000.0, 400000.0]));
        assert!(ring_area(&b.footprint[0].exterior) > 0.0);
        let m = &b.surfaces;
        assert!((m.area_of(SurfaceKind::Roof) - 1.0).abs() < 1e-9);
        assert!((m.area_of(SurfaceKind::Ground) - 1.0).abs() < 1e-9);
        assert!((m.area_of(SurfaceKind::Wall) - 3.0).abs() < 1e-9);
        assert!((m.area_of(SurfaceKind::Other) - 1.0).abs() < 1e-9);
        // The orphan part is its own building, LoD1 footprint from its lowest surface.
        let o = &c.buildings[1];
        assert_eq!((o.id.as_str(), o.parts.len(), o.lod), ("orphan", 1, 1));
        assert!((o.footprint_area() - 1.0).abs() < 1e-12);
        assert!(
            c.sources
                .iter()
                .any(|s| s.contains("skipped CityObjects: 1 Road"))
        );
        // Without surfaces: same footprint and heights, no triangles.
        let opts = ImportOptions {
            keep_surfaces: false,
            ..Default::default()
        };
        let c2 = read_slice(CUBE.as_bytes(), "t.json", &opts).unwrap();
        assert!(c2.buildings[0].surfaces.is_empty());
        assert_eq!(c2.buildings[0].roof_z, Some(2.0));
    }

    #[test]
    fn bbox_filter_keeps_buildings_inside() {
        let opts = ImportOptions {
            bbox: Some(crate::geom::BBox2 {
                min: [0.0, 0.0],
                max: [1.0, 1.0],
            }),
            ..Default::default()
        };
        let c = read_slice(CUBE.as_bytes(), "t.json", &opts).unwrap();
        assert!(c.buildings.is_empty());
    }

    #[test]
    fn reads_cityjsonseq() {
        let seq = concat!(
            r#"{"type":"CityJSON","version":"2.0","transform":{"scale":[1,1,1],"translate":[0,0,0]},"CityObjects":{},"vertices":[]}"#,
            "\n",
            r#"{"type":"CityJSONFeature","id":"a","CityObjects":{"a":{"type":"Building","geometry":[{"type":"MultiSurface","lod":"1","boundaries":[[[0,1,2]]]}]}},"vertices":[[0,0,5],[4,0,5],[0,4,5]]}"#,
            "\n",
            r#"{"type":"CityJSONFeature","id":"b","CityObjects":{"b":{"type":"Building"}},"vertices":[]}"#,
            "\n"
        );
        let c = read_slice(seq.as_bytes(), "x.city.jsonl", &ImportOptions::default()).unwrap();
        assert_eq!(c.name, "x");
        assert_eq!(c.buildings.len(), 2);
        assert!((c.buildings[0].footprint_area() - 8.0).abs() < 1e-12);
        assert_eq!(c.epsg, 0);
        assert!(c.sources.iter().any(|s| s.contains("2 features")));
    }

    #[test]
    fn bad_input_gives_format_errors() {
        let (loc, msg) = format_err(r#"{"type":"CityJSON","version":"2.0","#);
        assert!(loc.starts_with("line 1, column"), "{loc}");
        assert!(msg.contains("EOF"), "{msg}");
        assert!(format_err("").1.contains("empty"));
        let (loc, _) = format_err(r#"{"type":"FeatureCollection","version":"2.0"}"#);
        assert_eq!(loc, "type");
        let (loc, msg) = format_err(r#"{"type":"CityJSON","version":"3.0","vertices":[]}"#);
        assert_eq!(loc, "version");
        assert!(msg.contains("\"3.0\""));
        let (loc, _) = format_err(r#"{"type":"CityJSON","version":"1.1","CityObjects":{}}"#);
        assert_eq!(loc, "vertices");
        let oob = CUBE.replace("[[0,1,2,3]]]},", "[[0,1,2,99]]]},");
        let oob = oob.replace(r#""lod":"1","boundaries""#, r#""lod":"3","boundaries""#);
        let (loc, msg) = format_err(&oob);
        assert_eq!(loc, "CityObjects.b-1.geometry[0]");
        assert!(
            msg.contains("vertex index 99 out of range (8 vertices)"),
            "{msg}"
        );
        let huge = CUBE.replace("[0,2,2]]", "[0,2,1e308]]");
        let (loc, msg) = format_err(&huge.replace("[0.5,0.5,0.5]", "[0.5,0.5,10]"));
        assert_eq!(loc, "vertices[7]");
        assert!(msg.contains("non-finite"), "{msg}");
        let (_, msg) = format_err(&CUBE.replace("[0,2,2]]", "[0,2,1e999]]"));
        assert!(msg.contains("number out of range"), "{msg}");
        let (loc, msg) = format_err(&CUBE.replace("EPSG/0/7415", "EPSG/0/99999"));
        assert_eq!(loc, "metadata.referenceSystem");
        assert!(msg.contains("99999"), "{msg}");
        let (loc, _) = format_err(&CUBE.replace("[[0,3,2,1]],", "[0,3,2,1],"));
        assert_eq!(loc, "CityObjects.b-1.geometry[1]");
        let (loc, msg) = format_err(&CUBE.replace("[[0,1,2,2,2,null]]", "[[0,1,2,2,2,7]]"));
        assert_eq!(loc, "CityObjects.b-1.geometry[1]");
        assert!(msg.contains("semantic value 7"), "{msg}");
        let (loc, _) = format_err(&CUBE.replace("[0,0,0],[2,0,0]", "[0,0],[2,0,0]"));
        assert!(loc.starts_with("line "), "{loc}");
    }

    #[test]
    fn roof_and_use_names() {
        assert_eq!(roof_type("3100"), RoofType::Gable);
        assert_eq!(roof_type("Flat"), RoofType::Flat);
        assert_eq!(roof_type("1030"), RoofType::Unknown);
        assert_eq!(building_use("31001_1000"), BuildingUse::Residential);
        assert_eq!(building_use("Kantoorfunctie"), BuildingUse::Office);
        assert_eq!(building_use("office"), BuildingUse::Office);
        assert_eq!(building_use("zzz"), BuildingUse::Other);
    }
}
