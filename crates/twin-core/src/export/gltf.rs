//! glTF 2.0 binary (`.glb`) export of a [`City`] for Cesium, Masterportal, Blender and three.js.
//!
//! # Layout
//! - One scene with one root node `"city"`. Its `extras` (copied to `asset.extras`) hold the
//!   georeference: `epsg`, `origin` (`[E, N, Z]` in the city's CRS and vertical datum),
//!   `vertical_datum` and `axes`.
//! - Under it one node per building, in the order of [`City::buildings`], named by the
//!   building's stable id, with the attributes in `extras` and its own mesh (also named by the
//!   id) with up to three primitives: roof, wall, and ground/other surfaces, sharing three
//!   materials. Buildings without surfaces are extruded to LoD1 when footprint, ground height
//!   and height are known; otherwise the node has no mesh (it keeps its attributes).
//! - Optionally a node `"terrain"` (DEM decimated to a triangle budget, or the TIN) and a node
//!   `"roads"` (road links as lines, draped on the DEM).
//!
//! # Coordinates
//! Positions are `f32` metres relative to the origin, converted to glTF's right-handed
//! y-up frame: `x = E − E0`, `y = Z − Z0`, `z = −(N − N0)`. The root node's transform is the
//! identity, so a viewer shows the model in local coordinates. To place it in the world,
//! a point `(x, y, z)` maps back to `E = E0 + x`, `N = N0 − z`, `Z = Z0 + y`. In CesiumJS,
//! use `Transforms.eastNorthUpToFixedFrame` at the origin (converted from the projected CRS to
//! WGS84 and from the vertical datum to ellipsoidal height) as the model matrix; Cesium itself
//! turns glTF's y-up into z-up, so `x` becomes east, `−z` north and `y` up. That placement
//! ignores the projection's scale factor (below 0.1 % in UTM) and grid convergence: grid north
//! differs from true north by a rotation about the up axis (about 0.8° in Hamburg, UTM 32),
//! which a viewer must add for metre-exact alignment away from the origin.
//!
//! Building surfaces use flat normals (vertices are only shared between triangles of the same
//! plane); terrain uses smooth, area-weighted vertex normals. The axis swap is a rotation, so
//! triangles keep their winding: counter-clockwise seen from outside, as glTF front faces need,
//! for LoD1 extrusions, the terrain and source surfaces oriented outwards as CityGML and
//! CityJSON require. Materials are single-sided.
//! The output is deterministic: the same city gives the same bytes.

use crate::error::{Error, Result};
use crate::geom::P3;
use crate::model::{Building, City, SurfaceKind, TriMesh};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// What to put into the glTF file and where its local origin lies.
#[derive(Debug, Clone, PartialEq)]
pub struct GltfOptions {
    /// Export the terrain (DEM, or TIN when there is no DEM) as a node `"terrain"`.
    pub include_terrain: bool,
    /// Upper bound on terrain triangles; the DEM is decimated by an integer step to stay below.
    pub terrain_max_triangles: usize,
    /// Export road links as line primitives in a node `"roads"`.
    pub include_roads: bool,
    /// Local origin `[E, N, Z]` in the city's CRS; `None` = centre of the city's bounding box
    /// at `Z = 0`, rounded to whole metres.
    pub origin: Option<[f64; 3]>,
}

impl Default for GltfOptions {
    fn default() -> Self {
        GltfOptions {
            include_terrain: true,
            terrain_max_triangles: 2_000_000,
            include_roads: false,
            origin: None,
        }
    }
}

/// Overview of a `.glb` file, for `twin info`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GlbSummary {
    /// `asset.generator`, if present.
    pub generator: Option<String>,
    /// Number of nodes.
    pub nodes: usize,
    /// Number of meshes.
    pub meshes: usize,
    /// Triangles over all meshes (triangle lists, strips and fans; each mesh counted once).
    pub triangles: u64,
    /// Names of the nodes in file order (empty string for unnamed nodes).
    pub node_names: Vec<String>,
    /// `extras.epsg` of the asset or the first node, if present (files written by this module).
    pub epsg: Option<u32>,
    /// `extras.origin` of the asset or the first node, if present.
    pub origin: Option<[f64; 3]>,
}

const GLB_MAGIC: u32 = 0x4654_6C67; // "glTF"
const CHUNK_JSON: u32 = 0x4E4F_534A; // "JSON"
const CHUNK_BIN: u32 = 0x004E_4942; // "BIN\0"
const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const COMPONENT_U16: u32 = 5123;
const COMPONENT_U32: u32 = 5125;
const COMPONENT_F32: u32 = 5126;
const MODE_LINES: u32 = 1;
const MODE_TRIANGLES: u32 = 4;
/// Height of road lines above the DEM, so that they are not hidden in the terrain.
const ROAD_LIFT_M: f64 = 0.2;

/// Encode the city as a GLB byte vector (see the module documentation for the layout).
///
/// Fails with [`Error::Invalid`] on non-finite coordinates (or coordinates too far from the
/// origin for `f32`), building heights that are not finite or beyond ±100 km, triangles with
/// out-of-range indices, or a result over 4 GiB.
pub fn encode_glb(city: &City, opts: &GltfOptions) -> Result<Vec<u8>> {
    let frame = Frame::new(city, opts)?;
    let mut doc = Doc::default();
    let mut children = Vec::new();

    for b in &city.buildings {
        check_building(b, &frame).map_err(|m| Error::Invalid(format!("building {}: {m}", b.id)))?;
        // Footprint-only buildings with heights become LoD1 blocks.
        let lod1 = (b.surfaces.is_empty() && !b.footprint.is_empty())
            .then(|| {
                let mut e = Building {
                    footprint: b.footprint.clone(),
                    ground_z: b.ground_z,
                    roof_z: b.roof_z,
                    measured_height_m: b.measured_height_m,
                    ..Default::default()
                };
                e.extrude_lod1();
                e
            })
            .filter(|e| !e.surfaces.is_empty());
        let (surfaces, roof_z, lod) = match &lod1 {
            Some(e) => (&e.surfaces, e.roof_z, b.lod.max(1)),
            None => (&b.surfaces, b.roof_z, b.lod),
        };
        let mut node = Map::new();
        node.insert("name".into(), b.id.clone().into());
        let prims = building_primitives(&mut doc, &frame, surfaces)
            .map_err(|m| Error::Invalid(format!("building {}: {m}", b.id)))?;
        if !prims.is_empty() {
            node.insert("mesh".into(), doc.mesh(&b.id, prims).into());
        }
        node.insert("extras".into(), building_extras(b, roof_z, lod));
        children.push(doc.node(Value::Object(node)));
    }

    if opts.include_terrain && opts.terrain_max_triangles > 0 {
        let mesh = if let Some(dem) = &city.terrain.dem {
            dem_mesh(dem, &frame, opts.terrain_max_triangles)?
        } else if let Some(tin) = &city.terrain.tin {
            tin_mesh(tin, &frame, opts.terrain_max_triangles)?
        } else {
            IndexedMesh::default()
        };
        if !mesh.indices.is_empty() {
            let prim = doc.primitive(&mesh, Mat::Terrain, MODE_TRIANGLES);
            let m = doc.mesh("terrain", vec![prim]);
            children.push(doc.node(json!({ "name": "terrain", "mesh": m })));
        }
    }

    if opts.include_roads {
        let mesh = road_lines(city, &frame)?;
        if !mesh.indices.is_empty() {
            let prim = doc.primitive(&mesh, Mat::Road, MODE_LINES);
            let m = doc.mesh("roads", vec![prim]);
            children.push(doc.node(json!({ "name": "roads", "mesh": m })));
        }
    }

    let georef = json!({
        "name": city.name,
        "epsg": city.epsg,
        "origin": frame.origin,
        "vertical_datum": city.vertical_datum,
        "axes": "x = E - origin[0], y = Z - origin[2], z = -(N - origin[1])",
    });
    let mut root = Map::new();
    root.insert("name".into(), "city".into());
    // Child indices are shifted by one below: the root becomes node 0.
    if !children.is_empty() {
        root.insert(
            "children".into(),
            children.iter().map(|c| c + 1).collect::<Vec<_>>().into(),
        );
    }
    root.insert("extras".into(), georef.clone());
    let mut nodes = vec![Value::Object(root)];
    nodes.extend(doc.nodes);

    let mut gltf = Map::new();
    gltf.insert(
        "asset".into(),
        json!({
            "version": "2.0",
            "generator": concat!("urban-twin twin-core ", env!("CARGO_PKG_VERSION")),
            "extras": georef,
        }),
    );
    gltf.insert("scene".into(), 0.into());
    gltf.insert(
        "scenes".into(),
        json!([{ "name": city.name, "nodes": [0] }]),
    );
    gltf.insert("nodes".into(), nodes.into());
    for (key, list) in [
        ("meshes", doc.meshes),
        ("materials", doc.materials),
        ("accessors", doc.accessors),
        ("bufferViews", doc.views),
    ] {
        if !list.is_empty() {
            gltf.insert(key.into(), list.into());
        }
    }
    if !doc.bin.is_empty() {
        gltf.insert("buffers".into(), json!([{ "byteLength": doc.bin.len() }]));
    }
    let json = serde_json::to_vec(&Value::Object(gltf))
        .map_err(|e| Error::Invalid(format!("glTF JSON encoding failed: {e}")))?;
    assemble_glb(&json, &doc.bin)
}

/// Encode the city (see [`encode_glb`]) and write it to `path` atomically: the bytes go to a
/// temporary file in the same directory, which is then renamed over `path`.
pub fn write_glb(city: &City, path: &Path, opts: &GltfOptions) -> Result<()> {
    let bytes = encode_glb(city, opts)?;
    crate::fsio::write_atomic(path, &bytes)
}

/// Read the header and chunks of a GLB file and summarise its content. `path_for_errors` only
/// names the file in error messages.
pub fn glb_summary(bytes: &[u8], path_for_errors: &Path) -> Result<GlbSummary> {
    let (json, _bin) = parse_glb(bytes, path_for_errors)?;
    let err = |loc: &str, msg: String| Error::format(path_for_errors, loc, msg);
    let list = |key: &str| -> Result<&[Value]> {
        match json.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(err(key, "is not an array".into())),
        }
    };
    let nodes = list("nodes")?;
    let meshes = list("meshes")?;
    let accessors = list("accessors")?;
    let node_names = nodes
        .iter()
        .map(|n| {
            n.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let mut triangles = 0u64;
    for (mi, mesh) in meshes.iter().enumerate() {
        let prims = mesh
            .get("primitives")
            .and_then(Value::as_array)
            .ok_or_else(|| err(&format!("meshes[{mi}]"), "has no primitives array".into()))?;
        for (pi, p) in prims.iter().enumerate() {
            let loc = format!("meshes[{mi}].primitives[{pi}]");
            let acc = p
                .get("indices")
                .or_else(|| p.get("attributes").and_then(|a| a.get("POSITION")));
            let Some(acc) = acc else {
                continue;
            };
            let count = acc
                .as_u64()
                .and_then(|i| accessors.get(usize::try_from(i).ok()?))
                .and_then(|a| a.get("count"))
                .and_then(Value::as_u64)
                .ok_or_else(|| err(&loc, format!("refers to a missing accessor {acc}")))?;
            triangles = triangles.saturating_add(
                match p.get("mode").and_then(Value::as_u64).unwrap_or(4) {
                    4 => count / 3,
                    5 | 6 => count.saturating_sub(2),
                    _ => 0,
                },
            );
        }
    }
    let extras = json
        .get("asset")
        .and_then(|a| a.get("extras"))
        .filter(|e| e.get("origin").is_some())
        .or_else(|| nodes.first().and_then(|n| n.get("extras")));
    let epsg = extras
        .and_then(|e| e.get("epsg"))
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok());
    let origin = extras.and_then(|e| e.get("origin")).and_then(|o| {
        let o = o.as_array()?;
        match o.as_slice() {
            [a, b, c] => Some([a.as_f64()?, b.as_f64()?, c.as_f64()?]),
            _ => None,
        }
    });
    Ok(GlbSummary {
        generator: json
            .get("asset")
            .and_then(|a| a.get("generator"))
            .and_then(Value::as_str)
            .map(str::to_string),
        nodes: nodes.len(),
        meshes: meshes.len(),
        triangles,
        node_names,
        epsg,
        origin,
    })
}

/// Split a GLB file into its parsed JSON chunk and its (possibly empty) BIN chunk.
fn parse_glb<'a>(bytes: &'a [u8], path: &Path) -> Result<(Value, &'a [u8])> {
    let err = |off: usize, msg: String| Error::format(path, format!("byte {off}"), msg);
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    };
    let magic = u32_at(0).ok_or_else(|| {
        err(
            0,
            format!("truncated: {} bytes, a GLB header needs 12", bytes.len()),
        )
    })?;
    if magic != GLB_MAGIC {
        return Err(err(0, "not a GLB file (magic is not \"glTF\")".into()));
    }
    let (Some(version), Some(length)) = (u32_at(4), u32_at(8)) else {
        return Err(err(
            0,
            format!("truncated: {} bytes, a GLB header needs 12", bytes.len()),
        ));
    };
    if version != 2 {
        return Err(err(
            4,
            format!("unsupported GLB version {version}, expected 2"),
        ));
    }
    if length as usize != bytes.len() {
        return Err(err(
            8,
            format!(
                "header says {length} bytes but the file has {} (truncated or padded)",
                bytes.len()
            ),
        ));
    }
    let chunk = |off: usize| -> Result<(u32, &'a [u8])> {
        let (Some(len), Some(kind)) = (u32_at(off), u32_at(off + 4)) else {
            return Err(err(off, "truncated chunk header".into()));
        };
        let start = off + 8;
        let data = start
            .checked_add(len as usize)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| {
                err(
                    off,
                    format!("chunk of {len} bytes runs past the end of the file"),
                )
            })?;
        Ok((kind, data))
    };
    let (kind, json_bytes) = chunk(12)?;
    if kind != CHUNK_JSON {
        return Err(err(
            16,
            format!("first chunk must be JSON, found type 0x{kind:08x}"),
        ));
    }
    let json: Value = serde_json::from_slice(json_bytes).map_err(|e| {
        Error::format(
            path,
            format!("JSON chunk line {} column {}", e.line(), e.column()),
            e.to_string(),
        )
    })?;
    if !json.is_object() {
        return Err(err(20, "JSON chunk is not an object".into()));
    }
    let bin_off = 20 + json_bytes.len();
    let bin = if bin_off < bytes.len() {
        let (kind, data) = chunk(bin_off)?;
        if kind != CHUNK_BIN {
            return Err(err(
                bin_off + 4,
                format!("second chunk must be BIN, found type 0x{kind:08x}"),
            ));
        }
        data
    } else {
        &[]
    };
    Ok((json, bin))
}

/// Concatenate header, JSON chunk (space-padded) and BIN chunk (zero-padded, omitted when empty).
fn assemble_glb(json: &[u8], bin: &[u8]) -> Result<Vec<u8>> {
    let pad = |n: usize| (4 - n % 4) % 4;
    let json_len = json.len() + pad(json.len());
    let bin_len = bin.len() + pad(bin.len());
    let total = 12 + 8 + json_len + if bin.is_empty() { 0 } else { 8 + bin_len };
    let total32 = u32::try_from(total).map_err(|_| {
        Error::Invalid(format!(
            "the GLB would be {total} bytes, over the 4 GiB limit"
        ))
    })?;
    let mut out = Vec::with_capacity(total);
    for v in [GLB_MAGIC, 2, total32, json_len as u32, CHUNK_JSON] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(json);
    out.resize(out.len() + pad(json.len()), b' ');
    if !bin.is_empty() {
        out.extend_from_slice(&(bin_len as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(bin);
        out.resize(out.len() + pad(bin.len()), 0);
    }
    Ok(out)
}

/// The local frame: origin and the axis swap to glTF's y-up.
struct Frame {
    origin: [f64; 3],
}

impl Frame {
    fn new(city: &City, opts: &GltfOptions) -> Result<Self> {
        let origin = match opts.origin {
            Some(o) if o.iter().all(|v| v.is_finite()) => o,
            Some(o) => {
                return Err(Error::Invalid(format!(
                    "glTF origin must be finite, got {o:?}"
                )));
            }
            None => {
                let b = city.bbox();
                if b.is_empty()
                    || !(b.min[0].is_finite() && b.max[0].is_finite())
                    || !(b.min[1].is_finite() && b.max[1].is_finite())
                {
                    [0.0; 3]
                } else {
                    // `+ 0.0` turns -0.0 into 0.0 for tidy JSON.
                    let c = |lo: f64, hi: f64| (0.5 * (lo + hi)).round() + 0.0;
                    [c(b.min[0], b.max[0]), c(b.min[1], b.max[1]), 0.0]
                }
            }
        };
        Ok(Frame { origin })
    }

    /// glTF position of a CRS point, or an error message for non-finite results.
    fn to_gltf(&self, p: P3) -> std::result::Result<[f32; 3], String> {
        let o = self.origin;
        let v = [
            (p[0] - o[0]) as f32,
            (p[2] - o[2]) as f32,
            (o[1] - p[1]) as f32,
        ];
        if v.iter().all(|c| c.is_finite()) {
            Ok(v)
        } else {
            Err(format!("non-finite or out-of-range coordinate {p:?}"))
        }
    }
}

/// The materials, created in the document on first use.
#[derive(Debug, Clone, Copy)]
enum Mat {
    Roof,
    Wall,
    Ground,
    Terrain,
    Road,
}

impl Mat {
    /// Name and linear base colour.
    fn spec(self) -> (&'static str, [f32; 4]) {
        match self {
            Mat::Roof => ("roof", [0.55, 0.16, 0.11, 1.0]),
            Mat::Wall => ("wall", [0.80, 0.80, 0.78, 1.0]),
            Mat::Ground => ("ground", [0.25, 0.25, 0.25, 1.0]),
            Mat::Terrain => ("terrain", [0.22, 0.42, 0.16, 1.0]),
            Mat::Road => ("road", [0.95, 0.75, 0.15, 1.0]),
        }
    }
}

/// Vertex and index data of one primitive. `normals` is empty for lines.
#[derive(Debug, Default)]
struct IndexedMesh {
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    indices: Vec<u32>,
}

/// The glTF objects and the binary buffer under construction.
#[derive(Default)]
struct Doc {
    bin: Vec<u8>,
    views: Vec<Value>,
    accessors: Vec<Value>,
    meshes: Vec<Value>,
    nodes: Vec<Value>,
    materials: Vec<Value>,
    material_ids: [Option<usize>; 5],
}

impl Doc {
    /// Append a 4-byte aligned buffer view and return its index.
    fn view(&mut self, data: &[u8], target: u32) -> usize {
        self.bin.resize(self.bin.len().next_multiple_of(4), 0);
        self.views.push(json!({
            "buffer": 0,
            "byteOffset": self.bin.len(),
            "byteLength": data.len(),
            "target": target,
        }));
        self.bin.extend_from_slice(data);
        self.views.len() - 1
    }

    fn accessor(&mut self, a: Value) -> usize {
        self.accessors.push(a);
        self.accessors.len() - 1
    }

    /// A VEC3 float accessor; `bounds` adds min/max (required for POSITION).
    fn vec3(&mut self, v: &[[f32; 3]], bounds: bool) -> usize {
        let data: Vec<u8> = v.iter().flatten().flat_map(|c| c.to_le_bytes()).collect();
        let view = self.view(&data, ARRAY_BUFFER);
        let mut a = json!({
            "bufferView": view,
            "componentType": COMPONENT_F32,
            "count": v.len(),
            "type": "VEC3",
        });
        if bounds {
            let mut lo = [f32::INFINITY; 3];
            let mut hi = [f32::NEG_INFINITY; 3];
            for p in v {
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
            a["min"] = json!(lo);
            a["max"] = json!(hi);
        }
        self.accessor(a)
    }

    /// A SCALAR index accessor: u16 when every index fits below 65535, else u32.
    fn indices(&mut self, idx: &[u32], vertex_count: usize) -> usize {
        let (data, component): (Vec<u8>, u32) = if vertex_count <= usize::from(u16::MAX) {
            (
                idx.iter().flat_map(|&i| (i as u16).to_le_bytes()).collect(),
                COMPONENT_U16,
            )
        } else {
            (
                idx.iter().flat_map(|i| i.to_le_bytes()).collect(),
                COMPONENT_U32,
            )
        };
        let view = self.view(&data, ELEMENT_ARRAY_BUFFER);
        self.accessor(json!({
            "bufferView": view,
            "componentType": component,
            "count": idx.len(),
            "type": "SCALAR",
        }))
    }

    fn material(&mut self, m: Mat) -> usize {
        if let Some(i) = self.material_ids[m as usize] {
            return i;
        }
        let (name, color) = m.spec();
        self.materials.push(json!({
            "name": name,
            "pbrMetallicRoughness": {
                "baseColorFactor": color,
                "metallicFactor": 0.0,
                "roughnessFactor": 0.9,
            },
            "doubleSided": false,
        }));
        let i = self.materials.len() - 1;
        self.material_ids[m as usize] = Some(i);
        i
    }

    /// Write the buffers of a mesh and return the primitive object.
    fn primitive(&mut self, mesh: &IndexedMesh, mat: Mat, mode: u32) -> Value {
        let pos = self.vec3(&mesh.positions, true);
        let mut attributes = json!({ "POSITION": pos });
        if !mesh.normals.is_empty() {
            attributes["NORMAL"] = self.vec3(&mesh.normals, false).into();
        }
        let indices = self.indices(&mesh.indices, mesh.positions.len());
        json!({
            "attributes": attributes,
            "indices": indices,
            "material": self.material(mat),
            "mode": mode,
        })
    }

    fn mesh(&mut self, name: &str, primitives: Vec<Value>) -> usize {
        self.meshes
            .push(json!({ "name": name, "primitives": primitives }));
        self.meshes.len() - 1
    }

    /// Add a node (without the root; indices are shifted by one when the root is prepended).
    fn node(&mut self, n: Value) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }
}

/// A triangle's corners in glTF coordinates.
type Tri = [[f32; 3]; 3];

/// Unit normal of a triangle, or None when it is degenerate.
fn tri_normal(t: &Tri) -> Option<[f64; 3]> {
    let n = raw_normal(t);
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    (len > 1e-10).then(|| n.map(|c| c / len))
}

/// Cross product (b − a) × (c − a) in f64; its length is twice the triangle's area.
fn raw_normal(t: &Tri) -> [f64; 3] {
    let [a, b, c] = t.map(|p| p.map(f64::from));
    let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
    [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]
}

/// Triangles of a tagged mesh in glTF coordinates, with index and coordinate checks.
fn gltf_triangles(
    mesh: &TriMesh,
    frame: &Frame,
) -> std::result::Result<Vec<(Tri, SurfaceKind)>, String> {
    let n = mesh.positions.len();
    mesh.triangles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut out: Tri = [[0.0; 3]; 3];
            for (o, &vi) in out.iter_mut().zip(t) {
                let p = mesh.positions.get(vi as usize).ok_or_else(|| {
                    format!("triangle {i} refers to vertex {vi}, but there are only {n}")
                })?;
                *o = frame.to_gltf(*p)?;
            }
            Ok((
                out,
                mesh.kinds.get(i).copied().unwrap_or(SurfaceKind::Other),
            ))
        })
        .collect()
}

/// Heights beyond this (metres, either sign) are rejected as garbage.
const MAX_ABS_HEIGHT_M: f64 = 100_000.0;

/// Coordinates and heights a building may be extruded from: finite footprint coordinates that
/// fit `f32` around the origin, and finite heights within ±[`MAX_ABS_HEIGHT_M`]. Checked before
/// extrusion because triangulating non-finite rings is not safe.
fn check_building(b: &Building, frame: &Frame) -> std::result::Result<(), String> {
    for p in b
        .footprint
        .iter()
        .flat_map(|f| f.exterior.iter().chain(f.interiors.iter().flatten()))
    {
        frame.to_gltf([p[0], p[1], frame.origin[2]])?;
    }
    for (name, v) in [
        ("ground_z", b.ground_z),
        ("roof_z", b.roof_z),
        ("measured_height_m", b.measured_height_m),
    ] {
        if let Some(z) = v.filter(|z| !z.is_finite() || z.abs() > MAX_ABS_HEIGHT_M) {
            return Err(format!("non-finite or out-of-range {name} {z}"));
        }
    }
    Ok(())
}

/// Roof, wall and ground/other primitives of a building with flat normals.
fn building_primitives(
    doc: &mut Doc,
    frame: &Frame,
    surfaces: &TriMesh,
) -> std::result::Result<Vec<Value>, String> {
    let tris = gltf_triangles(surfaces, frame)?;
    let groups = [
        (Mat::Roof, &[SurfaceKind::Roof][..]),
        (Mat::Wall, &[SurfaceKind::Wall][..]),
        (Mat::Ground, &[SurfaceKind::Ground, SurfaceKind::Other][..]),
    ];
    let mut prims = Vec::new();
    for (mat, kinds) in groups {
        let mesh = flat_mesh(
            tris.iter()
                .filter(|(_, k)| kinds.contains(k))
                .map(|(t, _)| t),
        );
        if !mesh.indices.is_empty() {
            prims.push(doc.primitive(&mesh, mat, MODE_TRIANGLES));
        }
    }
    Ok(prims)
}

/// Indexed mesh with flat normals: a vertex is shared only by triangles with the same position
/// and (to 1e-4) the same normal, i.e. within one planar face. Degenerate triangles are dropped.
fn flat_mesh<'a>(tris: impl Iterator<Item = &'a Tri>) -> IndexedMesh {
    let mut m = IndexedMesh::default();
    let mut seen: HashMap<([u32; 3], [i32; 3]), u32> = HashMap::new();
    for t in tris {
        let Some(n) = tri_normal(t) else {
            continue;
        };
        let nq = n.map(|c| (c * 1e4).round() as i32);
        let n32 = n.map(|c| c as f32);
        for p in t {
            let key = (p.map(f32::to_bits), nq);
            let idx = *seen.entry(key).or_insert_with(|| {
                m.positions.push(*p);
                m.normals.push(n32);
                (m.positions.len() - 1) as u32
            });
            m.indices.push(idx);
        }
    }
    m
}

/// Indexed mesh with area-weighted smooth normals; drops degenerate triangles and the vertices
/// no triangle uses.
fn smooth_mesh(positions: &[[f32; 3]], tris: &[[u32; 3]]) -> IndexedMesh {
    let mut remap = vec![u32::MAX; positions.len()];
    let mut m = IndexedMesh::default();
    let mut acc: Vec<[f64; 3]> = Vec::new();
    for t in tris {
        let tp = t.map(|i| positions[i as usize]);
        if tri_normal(&tp).is_none() {
            continue;
        }
        let n = raw_normal(&tp);
        for &vi in t {
            let r = &mut remap[vi as usize];
            if *r == u32::MAX {
                *r = m.positions.len() as u32;
                m.positions.push(positions[vi as usize]);
                acc.push([0.0; 3]);
            }
            let a = &mut acc[*r as usize];
            for k in 0..3 {
                a[k] += n[k];
            }
            m.indices.push(*r);
        }
    }
    m.normals = acc
        .into_iter()
        .map(|a| {
            let len = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
            if len > 0.0 {
                a.map(|c| (c / len) as f32)
            } else {
                [0.0, 1.0, 0.0]
            }
        })
        .collect();
    m
}

/// Smallest integer step at which a `w` x `h` grid of samples gives at most `max` triangles.
fn dem_step(w: usize, h: usize, max: usize) -> usize {
    let tris = |s: usize| {
        2usize
            .saturating_mul((w - 1) / s)
            .saturating_mul((h - 1) / s)
    };
    // `tris` does not increase with the step, and a step of max(w, h) gives none.
    let (mut lo, mut hi) = (1, w.max(h));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if tris(mid) <= max {
            hi = mid
        } else {
            lo = mid + 1
        }
    }
    lo
}

/// Terrain mesh from a DEM: cell centres every `step` cells, two triangles per quad, missing
/// samples (nodata, NaN, inf) leave holes.
fn dem_mesh(
    dem: &crate::raster::Raster<f32>,
    frame: &Frame,
    max_tris: usize,
) -> Result<IndexedMesh> {
    dem.spec.validate()?;
    let (w, h) = (dem.width(), dem.height());
    if w < 2 || h < 2 || dem.data.len() != dem.spec.len() {
        return Ok(IndexedMesh::default());
    }
    let step = dem_step(w, h, max_tris);
    let cols: Vec<usize> = (0..w).step_by(step).collect();
    let rows: Vec<usize> = (0..h).step_by(step).collect();
    let mut positions = Vec::new();
    let mut ids = vec![u32::MAX; cols.len() * rows.len()];
    for (ri, &r) in rows.iter().enumerate() {
        for (ci, &c) in cols.iter().enumerate() {
            let v = dem.get(c, r);
            if dem.is_missing(v) || !v.is_finite() {
                continue;
            }
            let [x, y] = dem.spec.cell_center(c, r);
            let p = frame
                .to_gltf([x, y, f64::from(v)])
                .map_err(|m| Error::Invalid(format!("terrain DEM: {m}")))?;
            ids[ri * cols.len() + ci] = positions.len() as u32;
            positions.push(p);
        }
    }
    let mut tris = Vec::new();
    for ri in 0..rows.len() - 1 {
        for ci in 0..cols.len() - 1 {
            let at = |dr: usize, dc: usize| ids[(ri + dr) * cols.len() + ci + dc];
            let (tl, tr, bl, br) = (at(0, 0), at(0, 1), at(1, 0), at(1, 1));
            // Counter-clockwise seen from above (rows run south).
            for t in [[tl, bl, br], [tl, br, tr]] {
                if t.iter().all(|&i| i != u32::MAX) {
                    tris.push(t);
                }
            }
        }
    }
    Ok(smooth_mesh(&positions, &tris))
}

/// Terrain mesh from a TIN (as given; only the first `max_tris` triangles are kept).
fn tin_mesh(tin: &TriMesh, frame: &Frame, max_tris: usize) -> Result<IndexedMesh> {
    let bad = |m: String| Error::Invalid(format!("terrain TIN: {m}"));
    let positions = tin
        .positions
        .iter()
        .map(|p| frame.to_gltf(*p))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(bad)?;
    let n = positions.len();
    if let Some((i, t)) = tin
        .triangles
        .iter()
        .enumerate()
        .find(|(_, t)| t.iter().any(|&v| v as usize >= n))
    {
        return Err(bad(format!(
            "triangle {i} {t:?} refers to a vertex beyond {n}"
        )));
    }
    let keep = tin.triangles.len().min(max_tris);
    Ok(smooth_mesh(&positions, &tin.triangles[..keep]))
}

/// Road links as line segments; each undirected way segment once. Heights come from the DEM
/// (plus [`ROAD_LIFT_M`]) where it has a value, else 0.
fn road_lines(city: &City, frame: &Frame) -> Result<IndexedMesh> {
    let mut m = IndexedMesh::default();
    let mut done = BTreeSet::new();
    let nodes = &city.roads.nodes;
    for (li, l) in city.roads.links.iter().enumerate() {
        if !done.insert((l.way_id, l.from.min(l.to), l.from.max(l.to))) {
            continue;
        }
        let ends: Vec<[f64; 2]>;
        let line: &[[f64; 2]] = if l.geometry.len() >= 2 {
            &l.geometry
        } else {
            let (Some(a), Some(b)) = (nodes.get(l.from as usize), nodes.get(l.to as usize)) else {
                return Err(Error::Invalid(format!(
                    "road link {li}: node index out of range"
                )));
            };
            ends = vec![[a.x, a.y], [b.x, b.y]];
            &ends
        };
        let base = m.positions.len() as u32;
        for p in line {
            let z = city
                .terrain
                .dem
                .as_ref()
                .and_then(|d| d.sample_bilinear(p[0], p[1]))
                .map_or(0.0, |z| f64::from(z) + ROAD_LIFT_M);
            let q = frame
                .to_gltf([p[0], p[1], z])
                .map_err(|e| Error::Invalid(format!("road link {li} (way {}): {e}", l.way_id)))?;
            m.positions.push(q);
        }
        for i in 1..line.len() as u32 {
            m.indices.extend([base + i - 1, base + i]);
        }
    }
    Ok(m)
}

/// Attributes of a building for its node's `extras` (missing values are left out).
fn building_extras(b: &Building, roof_z: Option<f64>, lod: u8) -> Value {
    let mut e = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            e.insert(k.into(), v);
        }
    };
    let num = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or(Value::Null, Value::from);
    put("id", b.id.clone().into());
    put("height_m", num(b.height_m()));
    put("ground_z", num(b.ground_z));
    put("roof_z", num(roof_z));
    put("storeys", b.storeys.into());
    put("usage", b.usage.as_str().into());
    put("roof_type", b.roof_type.as_str().into());
    put("lod", lod.into());
    put("function", b.function.clone().into());
    if let Some(a) = &b.address {
        put("street", a.street.clone().into());
        put("house_number", a.house_number.clone().into());
        put("postcode", a.postcode.clone().into());
        put("city", a.city.clone().into());
        put("country", a.country.clone().into());
    }
    Value::Object(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::Polygon;
    use crate::model::{Address, HighwayClass, RoadLink, RoadNode};
    use crate::raster::{GridSpec, Raster};

    const E0: f64 = 566_000.0;
    const N0: f64 = 5_928_000.0;

    fn block(id: &str, x: f64, y: f64, w: f64, d: f64, ground: f64, h: f64) -> Building {
        Building {
            id: id.into(),
            footprint: vec![Polygon::new(vec![
                [x, y],
                [x + w, y],
                [x + w, y + d],
                [x, y + d],
            ])],
            ground_z: Some(ground),
            measured_height_m: Some(h),
            ..Default::default()
        }
    }

    fn link(from: u32, to: u32, way_id: i64, geometry: Vec<[f64; 2]>) -> RoadLink {
        RoadLink {
            from,
            to,
            way_id,
            class: HighwayClass::Residential,
            lanes: 1,
            speed_kmh: 30.0,
            capacity_veh_h: 600.0,
            length_m: 0.0,
            name: None,
            bridge: false,
            tunnel: false,
            geometry,
        }
    }

    fn city() -> City {
        let mut c = City::new("t", 25832);
        c.vertical_datum = Some("DHHN2016".into());
        let mut a = block("DEHH_a", E0, N0, 10.0, 8.0, 5.0, 12.0);
        a.usage = crate::model::BuildingUse::Residential;
        a.storeys = Some(4);
        a.address = Some(Address {
            street: Some("Am Inselpark".into()),
            house_number: Some("1".into()),
            ..Default::default()
        });
        let mut b = block("DEHH_b", E0 + 20.0, N0, 6.0, 6.0, 5.5, 7.0);
        b.extrude_lod1();
        let mut court = block("DEHH_court", E0 + 40.0, N0, 30.0, 30.0, 6.0, 15.0);
        court.footprint[0].interiors.push(vec![
            [E0 + 50.0, N0 + 10.0],
            [E0 + 60.0, N0 + 10.0],
            [E0 + 60.0, N0 + 20.0],
            [E0 + 50.0, N0 + 20.0],
        ]);
        let footprint_only = Building {
            id: "DEHH_noheight".into(),
            footprint: vec![Polygon::new(vec![
                [E0, N0 + 30.0],
                [E0 + 5.0, N0 + 30.0],
                [E0 + 5.0, N0 + 35.0],
            ])],
            ..Default::default()
        };
        c.buildings = vec![a, b, court, footprint_only];
        let spec = GridSpec {
            origin_x: E0 - 10.0,
            origin_y: N0 + 50.0,
            cell_x: 5.0,
            cell_y: 5.0,
            width: 20,
            height: 14,
            epsg: Some(25832),
        };
        let mut data: Vec<f32> = (0..spec.len())
            .map(|i| 4.0 + (i % 7) as f32 * 0.1)
            .collect();
        data[3] = f32::NAN;
        data[30] = -9999.0;
        c.terrain.dem = Some(Raster::from_vec(spec, data, Some(-9999.0)).unwrap());
        c.roads.nodes = vec![
            RoadNode {
                id: 1,
                x: E0 - 5.0,
                y: N0 - 5.0,
            },
            RoadNode {
                id: 2,
                x: E0 + 80.0,
                y: N0 - 5.0,
            },
        ];
        let g = vec![
            [E0 - 5.0, N0 - 5.0],
            [E0 + 40.0, N0 - 4.0],
            [E0 + 80.0, N0 - 5.0],
        ];
        let mut back = g.clone();
        back.reverse();
        c.roads.links = vec![link(0, 1, 7, g), link(1, 0, 7, back)];
        c
    }

    fn all_opts() -> GltfOptions {
        GltfOptions {
            include_roads: true,
            ..Default::default()
        }
    }

    fn parse(bytes: &[u8]) -> (Value, Vec<u8>) {
        let (j, b) = parse_glb(bytes, Path::new("t.glb")).unwrap();
        (j, b.to_vec())
    }

    fn view_bytes<'a>(j: &Value, bin: &'a [u8], acc: usize) -> (&'a [u8], &'static str, u64) {
        let a = &j["accessors"][acc];
        let v = &j["bufferViews"][a["bufferView"].as_u64().unwrap() as usize];
        let off = v["byteOffset"].as_u64().unwrap() as usize;
        let len = v["byteLength"].as_u64().unwrap() as usize;
        let ty = match a["componentType"].as_u64().unwrap() {
            5123 => "u16",
            5125 => "u32",
            5126 => "f32",
            t => panic!("component type {t}"),
        };
        (&bin[off..off + len], ty, a["count"].as_u64().unwrap())
    }

    fn read_vec3(j: &Value, bin: &[u8], acc: usize) -> Vec<[f32; 3]> {
        let (b, ty, count) = view_bytes(j, bin, acc);
        assert_eq!(ty, "f32");
        assert_eq!(j["accessors"][acc]["type"], "VEC3");
        assert_eq!(b.len() as u64, count * 12);
        b.chunks_exact(12)
            .map(|c| [0, 4, 8].map(|o| f32::from_le_bytes(c[o..o + 4].try_into().unwrap())))
            .collect()
    }

    fn read_indices(j: &Value, bin: &[u8], acc: usize) -> Vec<u32> {
        let (b, ty, count) = view_bytes(j, bin, acc);
        let v: Vec<u32> = match ty {
            "u16" => b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32)
                .collect(),
            "u32" => b
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            t => panic!("index type {t}"),
        };
        assert_eq!(v.len() as u64, count);
        v
    }

    /// (material name, positions, normals, indices, mode) of every primitive of a mesh.
    type Prim = (String, Vec<[f32; 3]>, Vec<[f32; 3]>, Vec<u32>, u64);

    fn prims(j: &Value, bin: &[u8], mesh: usize) -> Vec<Prim> {
        j["meshes"][mesh]["primitives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let mat = j["materials"][p["material"].as_u64().unwrap() as usize]["name"]
                    .as_str()
                    .unwrap();
                let pos = read_vec3(
                    j,
                    bin,
                    p["attributes"]["POSITION"].as_u64().unwrap() as usize,
                );
                let nrm = p["attributes"]
                    .get("NORMAL")
                    .map(|a| read_vec3(j, bin, a.as_u64().unwrap() as usize))
                    .unwrap_or_default();
                let idx = read_indices(j, bin, p["indices"].as_u64().unwrap() as usize);
                (mat.to_string(), pos, nrm, idx, p["mode"].as_u64().unwrap())
            })
            .collect()
    }

    fn mesh_of(j: &Value, name: &str) -> usize {
        let n = j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap();
        n["mesh"].as_u64().unwrap() as usize
    }

    #[test]
    fn glb_container_is_well_formed() {
        let bytes = encode_glb(&city(), &all_opts()).unwrap();
        let u = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        assert_eq!(&bytes[0..4], b"glTF");
        assert_eq!(u(4), 2);
        assert_eq!(u(8) as usize, bytes.len());
        let json_len = u(12) as usize;
        assert_eq!(json_len % 4, 0);
        assert_eq!(&bytes[16..20], b"JSON");
        let json = std::str::from_utf8(&bytes[20..20 + json_len]).unwrap();
        // Padding of both chunks when they are not multiples of 4.
        let small = assemble_glb(b"{\"ab\":1}x", &[7]).unwrap();
        assert_eq!(small.len(), 12 + 8 + 12 + 8 + 4);
        assert_eq!(&small[20..32], b"{\"ab\":1}x   ");
        assert_eq!(&small[40..44], &[7, 0, 0, 0]);
        assert!(
            json.trim_end_matches(' ').ends_with('}'),
            "JSON padded with spaces only"
        );
        let bin_off = 20 + json_len;
        assert_eq!(&bytes[bin_off + 4..bin_off + 8], b"BIN\0");
        let bin_len = u(bin_off) as usize;
        assert_eq!(bin_len % 4, 0);
        assert_eq!(bin_off + 8 + bin_len, bytes.len());
        let (j, bin) = parse(&bytes);
        assert_eq!(j["asset"]["version"], "2.0");
        let buf_len = j["buffers"][0]["byteLength"].as_u64().unwrap() as usize;
        assert!(buf_len <= bin_len && bin_len - buf_len < 4);
        assert_eq!(bin.len(), bin_len);
        for v in j["bufferViews"].as_array().unwrap() {
            let off = v["byteOffset"].as_u64().unwrap() as usize;
            assert_eq!(off % 4, 0);
            assert!(off + v["byteLength"].as_u64().unwrap() as usize <= buf_len);
            assert!(matches!(v["target"].as_u64(), Some(34962 | 34963)));
        }
    }

    #[test]
    fn nodes_are_buildings_in_order_with_georeference() {
        let c = city();
        let (j, _) = parse(&encode_glb(&c, &all_opts()).unwrap());
        let nodes = j["nodes"].as_array().unwrap();
        let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
        let ids: Vec<&str> = c.buildings.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(names[0], "city");
        assert_eq!(&names[1..=ids.len()], ids.as_slice());
        assert_eq!(&names[ids.len() + 1..], ["terrain", "roads"]);
        assert_eq!(j["scenes"][0]["nodes"], json!([0]));
        let children: Vec<u64> = nodes[0]["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(children, (1..nodes.len() as u64).collect::<Vec<_>>());
        assert!(nodes[0].get("translation").is_none());
        // Origin: bbox centre (DEM and buildings), rounded, z = 0.
        let b = c.bbox();
        let origin = [
            ((b.min[0] + b.max[0]) / 2.0).round(),
            ((b.min[1] + b.max[1]) / 2.0).round(),
            0.0,
        ];
        for ex in [&nodes[0]["extras"], &j["asset"]["extras"]] {
            assert_eq!(ex["epsg"], 25832);
            assert_eq!(ex["vertical_datum"], "DHHN2016");
            assert_eq!(ex["origin"], json!(origin));
        }
        let a = &nodes[1]["extras"];
        assert_eq!(a["id"], "DEHH_a");
        assert_eq!(a["height_m"], 12.0);
        assert_eq!(a["ground_z"], 5.0);
        assert_eq!(a["roof_z"], 17.0);
        assert_eq!(a["storeys"], 4);
        assert_eq!(a["usage"], "residential");
        assert_eq!(a["street"], "Am Inselpark");
        assert_eq!(a["house_number"], "1");
        assert_eq!(a["lod"], 1);
        assert!(a.get("postcode").is_none());
        // Footprint without heights: node with attributes, no mesh.
        let last = &nodes[ids.len()];
        assert_eq!(last["name"], "DEHH_noheight");
        assert!(last.get("mesh").is_none());
        assert_eq!(
            j["meshes"][nodes[1]["mesh"].as_u64().unwrap() as usize]["name"],
            "DEHH_a"
        );
    }

    #[test]
    fn accessors_are_consistent() {
        let (j, bin) = parse(&encode_glb(&city(), &all_opts()).unwrap());
        let mut tri_total = 0;
        for mi in 0..j["meshes"].as_array().unwrap().len() {
            for (mat, pos, nrm, idx, mode) in prims(&j, &bin, mi) {
                assert!(!pos.is_empty() && !idx.is_empty(), "{mat}");
                assert!(
                    idx.iter().all(|&i| (i as usize) < pos.len()),
                    "{mat}: index out of range"
                );
                let used: BTreeSet<u32> = idx.iter().copied().collect();
                assert_eq!(used.len(), pos.len(), "{mat}: every vertex is used");
                if mode == 4 {
                    assert_eq!(idx.len() % 3, 0);
                    assert_eq!(nrm.len(), pos.len());
                    tri_total += idx.len() / 3;
                    for n in &nrm {
                        let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                        assert!((l - 1.0).abs() < 1e-5, "{mat}: normal length {l}");
                    }
                } else {
                    assert_eq!((mat.as_str(), mode), ("road", 1));
                    assert_eq!(idx.len() % 2, 0);
                }
            }
            // min/max of every POSITION accessor equal the data.
            for p in j["meshes"][mi]["primitives"].as_array().unwrap() {
                let a = p["attributes"]["POSITION"].as_u64().unwrap() as usize;
                let pos = read_vec3(&j, &bin, a);
                for k in 0..3 {
                    let lo = pos.iter().map(|v| v[k]).fold(f32::INFINITY, f32::min);
                    let hi = pos.iter().map(|v| v[k]).fold(f32::NEG_INFINITY, f32::max);
                    assert_eq!(j["accessors"][a]["min"][k].as_f64().unwrap(), f64::from(lo));
                    assert_eq!(j["accessors"][a]["max"][k].as_f64().unwrap(), f64::from(hi));
                }
            }
        }
        let s = glb_summary(
            &encode_glb(&city(), &all_opts()).unwrap(),
            Path::new("t.glb"),
        )
        .unwrap();
        assert_eq!(s.triangles as usize, tri_total);
    }

    #[test]
    fn box_faces_outward_and_coordinates_map_to_y_up() {
        let mut c = City::new("box", 25832);
        c.buildings.push(block("box", E0, N0, 10.0, 6.0, 2.0, 8.0));
        let opts = GltfOptions {
            origin: Some([E0, N0, 1.0]),
            ..Default::default()
        };
        let (j, bin) = parse(&encode_glb(&c, &opts).unwrap());
        let ps = prims(&j, &bin, mesh_of(&j, "box"));
        assert_eq!(
            ps.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["roof", "wall", "ground"]
        );
        // x = E - E0 in [0, 10], y = Z - 1 in [1, 9], z = -(N - N0) in [-6, 0].
        let pos_acc = j["meshes"][0]["primitives"][1]["attributes"]["POSITION"]
            .as_u64()
            .unwrap() as usize;
        assert_eq!(j["accessors"][pos_acc]["min"], json!([0.0, 1.0, -6.0]));
        assert_eq!(j["accessors"][pos_acc]["max"], json!([10.0, 9.0, 0.0]));
        let centre = [5.0f64, 5.0, -3.0];
        let mut tris = 0;
        for (mat, pos, nrm, idx, _) in &ps {
            for t in idx.chunks_exact(3) {
                let tp = [pos[t[0] as usize], pos[t[1] as usize], pos[t[2] as usize]];
                let n = tri_normal(&tp).unwrap();
                let m: Vec<f64> = (0..3)
                    .map(|k| tp.iter().map(|p| f64::from(p[k])).sum::<f64>() / 3.0)
                    .collect();
                let out = (0..3).map(|k| n[k] * (m[k] - centre[k])).sum::<f64>();
                assert!(out > 0.0, "{mat} triangle {tp:?} faces inward");
                // The stored normals agree with the CCW winding.
                for &i in t {
                    let sn = nrm[i as usize];
                    assert!((0..3).map(|k| n[k] * f64::from(sn[k])).sum::<f64>() > 0.999);
                }
                match mat.as_str() {
                    "roof" => assert!(n[1] > 0.999),
                    "ground" => assert!(n[1] < -0.999),
                    _ => assert!(n[1].abs() < 1e-9),
                }
                tris += 1;
            }
        }
        assert_eq!(tris, 12);
        // Flat shading: each of the 6 faces has its own 4 corners.
        assert_eq!(ps.iter().map(|p| p.1.len()).sum::<usize>(), 24);
    }

    #[test]
    fn output_is_deterministic() {
        let a = encode_glb(&city(), &all_opts()).unwrap();
        let b = encode_glb(&city().clone(), &all_opts()).unwrap();
        assert_eq!(a, b);
        let c = encode_glb(&city(), &GltfOptions::default()).unwrap();
        assert_ne!(a, c, "roads change the output");
    }

    #[test]
    fn empty_city_gives_valid_glb_without_meshes() {
        let bytes = encode_glb(&City::new("empty", 25832), &GltfOptions::default()).unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let (j, bin) = parse(&bytes);
        assert!(bin.is_empty());
        assert!(j.get("meshes").is_none() && j.get("buffers").is_none());
        assert_eq!(j["nodes"].as_array().unwrap().len(), 1);
        assert!(j["nodes"][0].get("children").is_none());
        let s = glb_summary(&bytes, Path::new("e.glb")).unwrap();
        assert_eq!((s.nodes, s.meshes, s.triangles), (1, 0, 0));
        assert_eq!(s.origin, Some([0.0; 3]));
        assert_eq!(s.epsg, Some(25832));
    }

    #[test]
    fn non_finite_coordinates_are_errors() {
        let mut c = city();
        c.buildings[0].footprint[0].exterior[1][0] = f64::NAN;
        let e = encode_glb(&c, &GltfOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("DEHH_a") && e.contains("non-finite"), "{e}");

        // Every footprint coordinate, holes included, is checked before triangulation.
        for (ring, k) in [(0usize, 0usize), (1, 1)] {
            for v in [f64::NAN, f64::INFINITY] {
                let mut c = city();
                let f = &mut c.buildings[2].footprint[0];
                let r = if ring == 0 {
                    &mut f.exterior
                } else {
                    &mut f.interiors[0]
                };
                for p in r.iter_mut() {
                    p[k] = v;
                }
                let e = encode_glb(&c, &GltfOptions::default())
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("DEHH_court") && e.contains("non-finite"), "{e}");
            }
        }
        let mut c = city();
        c.buildings[0].ground_z = Some(f64::NAN);
        let e = encode_glb(&c, &GltfOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("DEHH_a") && e.contains("non-finite"), "{e}");

        let mut c = city();
        c.buildings[1].surfaces.positions[0][2] = f64::INFINITY;
        assert!(
            encode_glb(&c, &GltfOptions::default())
                .unwrap_err()
                .to_string()
                .contains("DEHH_b")
        );

        let mut c = city();
        c.buildings[1].surfaces.triangles[0][1] = 10_000;
        let e = encode_glb(&c, &GltfOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("refers to vertex 10000"), "{e}");

        let mut c = city();
        c.roads.links[0].geometry[1][1] = f64::NAN;
        assert!(
            encode_glb(&c, &all_opts())
                .unwrap_err()
                .to_string()
                .contains("road link 0")
        );
        // Without roads the broken road does not matter.
        assert!(encode_glb(&c, &GltfOptions::default()).is_ok());

        let opts = GltfOptions {
            origin: Some([f64::NAN, 0.0, 0.0]),
            ..Default::default()
        };
        assert!(encode_glb(&city(), &opts).is_err());
        // Too far from the origin for f32.
        let opts = GltfOptions {
            origin: Some([-1e300, 0.0, 0.0]),
            ..Default::default()
        };
        assert!(encode_glb(&city(), &opts).is_err());
    }

    #[test]
    fn dem_is_decimated_to_the_budget_and_skips_missing_cells() {
        assert_eq!(dem_step(101, 101, 20_000), 1);
        assert_eq!(dem_step(101, 101, 19_999), 2);
        assert_eq!(dem_step(101, 101, 1), 101);
        let spec = GridSpec {
            origin_x: 0.0,
            origin_y: 300.0,
            cell_x: 1.0,
            cell_y: 1.0,
            width: 300,
            height: 300,
            epsg: None,
        };
        let data: Vec<f32> = (0..spec.len())
            .map(|i| ((i % 300) as f32 * 0.05).sin())
            .collect();
        let mut c = City::new("dem", 25832);
        c.terrain.dem = Some(Raster::from_vec(spec, data, None).unwrap());
        let enc = |max: usize| {
            let (j, bin) = parse(
                &encode_glb(
                    &c,
                    &GltfOptions {
                        terrain_max_triangles: max,
                        ..Default::default()
                    },
                )
                .unwrap(),
            );
            let ps = prims(&j, &bin, mesh_of(&j, "terrain"));
            let comp = j["accessors"][j["meshes"][0]["primitives"][0]["indices"].as_u64().unwrap() as usize]["componentType"]
                .as_u64()
                .unwrap();
            (ps.into_iter().next().unwrap(), comp)
        };
        let ((mat, pos, nrm, idx, _), comp) = enc(2_000_000);
        assert_eq!(mat, "terrain");
        assert_eq!((pos.len(), idx.len() / 3), (90_000, 2 * 299 * 299));
        assert_eq!(comp, 5125, "over 65535 vertices needs u32 indices");
        assert!(nrm.iter().all(|n| n[1] > 0.5), "terrain normals point up");
        let ((_, pos, _, idx, _), comp) = enc(10_000);
        assert!(
            idx.len() / 3 <= 10_000 && idx.len() / 3 > 5_000,
            "{}",
            idx.len() / 3
        );
        assert_eq!(comp, 5123);
        assert!(pos.len() < 65_535);
        // Triangles face up (CCW from above in E/N is CCW from +y in glTF).
        for t in idx.chunks_exact(3) {
            let n =
                tri_normal(&[pos[t[0] as usize], pos[t[1] as usize], pos[t[2] as usize]]).unwrap();
            assert!(n[1] > 0.5);
        }
        // One missing cell in a 3 x 3 DEM removes the 3 triangles that touch it... of 8.
        let spec = GridSpec {
            width: 3,
            height: 3,
            ..spec
        };
        let mut data = vec![1.0f32; 9];
        data[4] = f32::NAN;
        let m = dem_mesh(
            &Raster::from_vec(spec, data, None).unwrap(),
            &Frame { origin: [0.0; 3] },
            100,
        )
        .unwrap();
        assert_eq!(m.indices.len() / 3, 2);
        assert_eq!(m.positions.len(), 6);
    }

    #[test]
    fn tin_terrain_when_no_dem() {
        let mut c = City::new("tin", 25832);
        let mut tin = TriMesh::default();
        tin.add_polygon(
            &[
                [0.0, 0.0, 1.0],
                [10.0, 0.0, 1.0],
                [10.0, 10.0, 2.0],
                [0.0, 10.0, 2.0],
            ],
            &[],
            SurfaceKind::Ground,
        );
        c.terrain.tin = Some(tin.clone());
        let (j, bin) = parse(&encode_glb(&c, &GltfOptions::default()).unwrap());
        let ps = prims(&j, &bin, mesh_of(&j, "terrain"));
        assert_eq!(ps[0].3.len(), 6);
        tin.triangles[1][2] = 99;
        c.terrain.tin = Some(tin);
        let e = encode_glb(&c, &GltfOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("terrain TIN"), "{e}");
        let no_terrain = GltfOptions {
            include_terrain: false,
            ..Default::default()
        };
        assert!(encode_glb(&c, &no_terrain).is_ok());
    }

    #[test]
    fn roads_are_draped_lines_without_duplicates() {
        let c = city();
        let (j, bin) = parse(&encode_glb(&c, &all_opts()).unwrap());
        let ps = prims(&j, &bin, mesh_of(&j, "roads"));
        let (mat, pos, nrm, idx, mode) = &ps[0];
        assert_eq!((mat.as_str(), *mode), ("road", 1));
        assert!(nrm.is_empty());
        // The two directions of way 7 give one polyline of 3 points, 2 segments.
        assert_eq!((pos.len(), idx.as_slice()), (3, &[0, 1, 1, 2][..]));
        let origin: Vec<f64> = j["asset"]["extras"]["origin"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let dem = c.terrain.dem.as_ref().unwrap();
        let z = f64::from(dem.sample_bilinear(E0 + 40.0, N0 - 4.0).unwrap()) + ROAD_LIFT_M;
        assert!((f64::from(pos[1][1]) - (z - origin[2])).abs() < 1e-4);
        assert!((f64::from(pos[1][0]) - (E0 + 40.0 - origin[0])).abs() < 1e-3);
        assert!((f64::from(pos[1][2]) + (N0 - 4.0 - origin[1])).abs() < 1e-3);
    }

    #[test]
    fn summary_of_written_file_and_atomic_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.glb");
        let c = city();
        write_glb(&c, &path, &all_opts()).unwrap();
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "no temporary file left behind");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes, encode_glb(&c, &all_opts()).unwrap());
        let s = glb_summary(&bytes, &path).unwrap();
        assert_eq!(s.nodes, 1 + c.buildings.len() + 2);
        assert_eq!(s.meshes, 3 + 2, "3 buildings with geometry, terrain, roads");
        assert_eq!(s.node_names[1], "DEHH_a");
        assert_eq!(s.epsg, Some(25832));
        assert!(s.generator.unwrap().starts_with("urban-twin"));
        assert!(s.triangles > 2 * 19 * 13 - 10);
        let e = write_glb(&c, &dir.path().join("missing/x.glb"), &all_opts()).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
    }

    #[test]
    fn summary_rejects_bad_input() {
        let good = encode_glb(&city(), &GltfOptions::default()).unwrap();
        let p = Path::new("bad.glb");
        let msg = |b: &[u8]| glb_summary(b, p).unwrap_err().to_string();
        assert!(msg(&[]).contains("truncated"));
        assert!(msg(&good[..10]).contains("truncated"));
        assert!(msg(&good[..good.len() - 4]).contains("header says"));
        let mut m = good.clone();
        m[0] = b'G';
        assert!(msg(&m).contains("not a GLB"));
        let mut v = good.clone();
        v[4] = 1;
        assert!(msg(&v).contains("version 1"));
        // A chunk length past the end.
        let mut l = good.clone();
        l[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(msg(&l).contains("runs past the end"));
        // Broken JSON.
        let mut js = good.clone();
        js[20] = b'[';
        assert!(msg(&js).contains("JSON chunk"));
        // Dangling accessor reference.
        let json = br#"{"asset":{"version":"2.0"},"meshes":[{"primitives":[{"attributes":{"POSITION":5}}]}]}"#;
        let glb = assemble_glb(json, &[]).unwrap();
        assert!(msg(&glb).contains("meshes[0].primitives[0]"));
        assert!(msg(&good[..10]).contains("bad.glb"));
    }
}
