//! GeoJSON importer: a FeatureCollection of building footprints (and the other layers written
//! by [`crate::export::geojson`]).
//!
//! Coordinates are RFC 7946 WGS84 longitude/latitude unless the legacy `crs` member names
//! another CRS (`{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25832"}}`).
//! Geographic data is projected into `ImportOptions::target_epsg`, or when that is `None`
//! into the UTM zone of the data's centre ([`utm_epsg_for`]); projected data stays in its
//! CRS unless a different `target_epsg` is asked for.
//!
//! Features are read by their `"layer"` property; without one, (Multi)Polygons are
//! buildings and LineStrings with a `highway` property are roads; anything else is skipped
//! and counted in a note in `city.sources`.
//! - `building`: id from `id`/`@id`/the feature id; height from `height_m`, `height`,
//!   `measuredHeight`, `building:height` ("12 m"), else `building:levels`/`storeys` × 3 m;
//!   ground from `ground_z`; `usage`/`building` -> [`BuildingUse`]; other properties become
//!   attributes. With both ground and height the footprint is extruded to a LoD1 block,
//!   otherwise only the footprint (and whatever heights are known) is kept.
//! - `road`: LineString links with `from`/`to` node ids (endpoints with equal coordinates
//!   share a generated negative node id when missing), `class`/`highway`, `lanes`,
//!   `speed_kmh`, `capacity_veh_h`, `name`, `bridge`, `tunnel`, `way_id`, `length_m`.
//! - `barrier`: LineString with `crest_z` and `kind`; `point`: Point with `kind`, `name`,
//!   `capacity` and an optional third coordinate; `landcover`: Polygon with `kind`, `manning_n`.
//!
//! [`read_features`] reads the same files (same CRS detection, validation and projection) as
//! plain features with their properties, for inputs that are not a city: flood zones,
//! footprints, boundary lines. [`read_polygon_values`] reads a file of polygons that each
//! carry one numeric property (`manning_n`, `height_m`).

use super::ImportOptions;
use super::cityjson::{Nested, building_use, roof_type};
use crate::crs::{Crs, Transformer};
use crate::error::{Error, Result};
use crate::geom::{P2, Polygon, open_ring};
use crate::model::{
    Address, Barrier, BarrierKind, Building, City, HighwayClass, LandCover, LandCoverZone,
    NamedPoint, PointKind, RoadLink, RoadNode,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::path::Path;

/// Metres per storey when a height is derived from a storey count.
const STOREY_HEIGHT_M: f64 = 3.0;

#[derive(Deserialize)]
struct Collection {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    features: Vec<Feature>,
    #[serde(default)]
    crs: Option<CrsMember>,
}

#[derive(Deserialize)]
struct CrsMember {
    #[serde(default)]
    properties: Option<CrsProperties>,
}

#[derive(Deserialize)]
struct CrsProperties {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Feature {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    #[serde(default)]
    geometry: Option<Geometry>,
}

#[derive(Deserialize)]
struct Geometry {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    coordinates: Option<Nested>,
}

/// A validated geometry in the target CRS.
enum Shape {
    Point(P2, Option<f64>),
    Line(Vec<P2>),
    Polygons(Vec<Polygon>),
}

pub use crate::crs::utm_epsg_for;

/// The geometry of one feature, in the target CRS.
///
/// Rings are open (a closing position equal to the first is dropped, see
/// [`crate::geom::open_ring`]); a Point's third coordinate is not kept.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureGeometry {
    /// A GeoJSON Point.
    Point(P2),
    /// A GeoJSON LineString (at least 2 positions).
    Line(Vec<P2>),
    /// A GeoJSON Polygon (one element) or MultiPolygon (one per part, possibly none).
    Polygons(Vec<Polygon>),
}

/// One GeoJSON feature of [`read_features`].
#[derive(Debug, Clone, PartialEq)]
pub struct GeoFeature {
    /// The `id` or `@id` property (as text; non-strings as JSON), else the feature id, else
    /// `feature_<i>` with `i` the feature's index in the file.
    pub id: String,
    /// `None` for a null (or absent) geometry.
    pub geometry: Option<FeatureGeometry>,
    /// The feature's properties as they are (empty when `null` or absent).
    pub properties: Map<String, Value>,
}

/// Read all features of a GeoJSON FeatureCollection file, projected into `target_epsg`.
///
/// The CRS is detected like [`read_path`] does (RFC 7946 WGS84, or the legacy `crs` member)
/// and with `target_epsg: None` the target is chosen the same way: projected data stays in
/// its CRS, geographic data goes to the UTM zone of its centre ([`utm_epsg_for`]). Returns
/// the EPSG code used and the features in file order.
///
/// Point, LineString, Polygon and MultiPolygon geometries are read, `null` gives `None`.
/// Any other geometry type is an error naming the feature — in particular a
/// MultiLineString is **not** split into several lines (a MultiPoint neither): one
/// [`GeoFeature`] always stands for one feature of the file, with its index and id.
/// Errors ([`Error::Format`]) name the file and where in it: the line and column of invalid
/// JSON, `crs.properties.name` for an unknown CRS, `features[i] (id …)` for a feature.
pub fn read_features(
    path: impl AsRef<Path>,
    target_epsg: Option<u32>,
) -> Result<(u32, Vec<GeoFeature>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_features_slice(&bytes, path, target_epsg)
}

/// [`read_features`] from memory; `path_for_errors` names the data in errors.
pub fn read_features_slice(
    bytes: &[u8],
    path_for_errors: impl AsRef<Path>,
    target_epsg: Option<u32>,
) -> Result<(u32, Vec<GeoFeature>)> {
    let (epsg, features) = located_features(bytes, path_for_errors.as_ref(), target_epsg)?;
    Ok((epsg, features.into_iter().map(|(_, f)| f).collect()))
}

/// Each feature's polygons with its value, as [`read_polygon_values`] returns them.
pub type PolygonValues = Vec<(Vec<Polygon>, f64)>;

/// Read the (Multi)Polygon features of a file of zones (or footprints) with the numeric
/// property `key` of each, for example `manning_n` or `height_m`.
///
/// Reads like [`read_features`] (same CRS handling and default target). The property is a
/// JSON number or a string starting with one (`"0.05"`, `"12 m"`), as elsewhere in the
/// GeoJSON importer. Errors, each naming the file and the feature (`features[3] (id park-2)`):
/// a feature whose geometry is not a Polygon or MultiPolygon (including a null geometry);
/// a missing or `null` property; a value that is not a finite number; a value outside
/// `range`. Returns the EPSG code used and, in file order, each feature's polygons (one for a
/// Polygon, one per part for a MultiPolygon) with its value.
pub fn read_polygon_values(
    path: impl AsRef<Path>,
    target_epsg: Option<u32>,
    key: &str,
    range: RangeInclusive<f64>,
) -> Result<(u32, PolygonValues)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_polygon_values_slice(&bytes, path, target_epsg, key, range)
}

/// [`read_polygon_values`] from memory; `path_for_errors` names the data in errors.
pub fn read_polygon_values_slice(
    bytes: &[u8],
    path_for_errors: impl AsRef<Path>,
    target_epsg: Option<u32>,
    key: &str,
    range: RangeInclusive<f64>,
) -> Result<(u32, PolygonValues)> {
    let path = path_for_errors.as_ref();
    let (epsg, features) = located_features(bytes, path, target_epsg)?;
    let mut out = Vec::with_capacity(features.len());
    for (loc, f) in features {
        let bad = |m: String| Error::format(path, loc.clone(), m);
        let polygons = match f.geometry {
            Some(FeatureGeometry::Polygons(p)) => p,
            other => {
                let found = match other {
                    Some(FeatureGeometry::Point(_)) => "Point",
                    Some(FeatureGeometry::Line(_)) => "LineString",
                    _ => "null",
                };
                return Err(bad(format!(
                    "geometry is {found}, expected Polygon or MultiPolygon"
                )));
            }
        };
        let (lo, hi) = (*range.start(), *range.end());
        let v = match f.properties.get(key) {
            None | Some(Value::Null) => {
                return Err(bad(format!(
                    "no property {key:?} (a number in {lo}..={hi})"
                )));
            }
            Some(v) => v,
        };
        let x = num_value(v)
            .ok_or_else(|| bad(format!("property {key:?} is {v}, not a finite number")))?;
        if !range.contains(&x) {
            return Err(bad(format!("property {key:?} is {x}, outside {lo}..={hi}")));
        }
        out.push((polygons, x));
    }
    Ok((epsg, out))
}

/// The features of [`read_features_slice`], each with its location for errors.
fn located_features(
    bytes: &[u8],
    path: &Path,
    target_epsg: Option<u32>,
) -> Result<(u32, Vec<(String, GeoFeature)>)> {
    let Parsed {
        features,
        shapes,
        target_epsg,
        to_target,
        ..
    } = parse_collection(bytes, path, target_epsg, UnreadGeometry::Error)?;
    let project = |p: P2| to_target.project(p);
    let mut out = Vec::with_capacity(features.len());
    for (i, (mut f, shape)) in features.into_iter().zip(shapes).enumerate() {
        let loc = feature_loc(i, &f);
        let geometry = match shape {
            Some(s) => Some(
                match reproject(s, &project)
                    .map_err(|e| Error::format(path, loc.clone(), e.to_string()))?
                {
                    Shape::Point(p, _) => FeatureGeometry::Point(p),
                    Shape::Line(l) => FeatureGeometry::Line(l),
                    Shape::Polygons(p) => FeatureGeometry::Polygons(p),
                },
            ),
            None => None,
        };
        let properties = f.properties.take().unwrap_or_default();
        let id = feature_id(i, &f, &properties);
        out.push((
            loc,
            GeoFeature {
                id,
                geometry,
                properties,
            },
        ));
    }
    Ok((target_epsg, out))
}

/// Read a GeoJSON FeatureCollection file.
pub fn read_path(path: impl AsRef<Path>, opts: &ImportOptions) -> Result<City> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_slice(&bytes, path, opts)
}

/// Read a GeoJSON FeatureCollection from memory; `path_for_errors` names it in errors.
pub fn read_slice(
    bytes: &[u8],
    path_for_errors: impl AsRef<Path>,
    opts: &ImportOptions,
) -> Result<City> {
    let path = path_for_errors.as_ref();
    let err = |loc: String, msg: String| Error::format(path, loc, msg);
    let Parsed {
        features,
        shapes,
        source,
        target_epsg,
        to_target,
    } = parse_collection(bytes, path, opts.target_epsg, UnreadGeometry::Skip)?;
    let project = |p: P2| to_target.project(p);

    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| {
            [".geojson", ".json"]
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .unwrap_or(n)
                .to_string()
        })
        .unwrap_or_default();
    let mut city = City::new(name, target_epsg);
    city.vertical_datum = source.vertical_datum.clone();
    let mut nodes: HashMap<i64, u32> = HashMap::new();
    let mut coord_nodes: HashMap<(u64, u64), i64> = HashMap::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let empty = Map::new();
    for (i, (f, shape)) in features.iter().zip(shapes).enumerate() {
        let loc = feature_loc(i, f);
        let props = f.properties.as_ref().unwrap_or(&empty);
        let shape = match shape {
            Some(s) => Some(reproject(s, &project).map_err(|e| err(loc.clone(), e.to_string()))?),
            None => None,
        };
        if let (Some(bbox), Some(s)) = (opts.bbox, &shape) {
            let p = representative_point(s);
            if !(p[0] >= bbox.min[0]
                && p[0] <= bbox.max[0]
                && p[1] >= bbox.min[1]
                && p[1] <= bbox.max[1])
            {
                continue;
            }
        }
        let layer = match props.get("layer").and_then(Value::as_str) {
            Some(l) => l,
            None => match &shape {
                Some(Shape::Polygons(_)) | None => "building",
                Some(Shape::Line(_)) if props.contains_key("highway") => "road",
                _ => "",
            },
        };
        let id = feature_id(i, f, props);
        let bad = |m: &str| err(loc.clone(), m.to_string());
        match (layer, shape) {
            ("building", shape) => {
                let footprint = match shape {
                    Some(Shape::Polygons(p)) => p,
                    None => Vec::new(),
                    Some(_) => return Err(bad("a building needs a Polygon or MultiPolygon")),
                };
                let mut b = building(id, props, footprint);
                if b.ground_z.is_some() && b.measured_height_m.is_some() {
                    b.extrude_lod1();
                    if !opts.keep_surfaces {
                        b.surfaces = Default::default();
                    }
                }
                city.buildings.push(b);
            }
            ("road", Some(Shape::Line(line))) => {
                let (Some(&first), Some(&last)) = (line.first(), line.last()) else {
                    return Err(bad("empty road geometry"));
                };
                let mut node = |key: &str, p: P2| -> Result<u32> {
                    let id = match props.get(key) {
                        Some(v) => v.as_i64().ok_or_else(|| {
                            bad(&format!("road property {key:?} is not an integer node id"))
                        })?,
                        None => {
                            let n = coord_nodes.len() as i64;
                            *coord_nodes
                                .entry((p[0].to_bits(), p[1].to_bits()))
                                .or_insert(-(n + 1))
                        }
                    };
                    Ok(*nodes.entry(id).or_insert_with(|| {
                        city.roads.nodes.push(RoadNode {
                            id,
                            x: p[0],
                            y: p[1],
                        });
                        (city.roads.nodes.len() - 1) as u32
                    }))
                };
                let from = node("from", first)?;
                let to = node("to", last)?;
                let class_name = ["class", "highway"]
                    .iter()
                    .find_map(|k| props.get(*k).and_then(Value::as_str))
                    .unwrap_or("unclassified");
                let class = HighwayClass::parse(class_name).unwrap_or(match class_name {
                    "footway" | "cycleway" | "pedestrian" | "steps" | "bridleway" => {
                        HighwayClass::Path
                    }
                    _ => HighwayClass::Unclassified,
                });
                let lanes = num(props, "lanes")
                    .filter(|l| (1.0..=255.0).contains(l))
                    .map_or(class.default_lanes(), |l| l as u8);
                let length = line
                    .windows(2)
                    .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
                    .sum::<f64>();
                city.roads.links.push(RoadLink {
                    from,
                    to,
                    way_id: props.get("way_id").and_then(Value::as_i64).unwrap_or(0),
                    class,
                    lanes,
                    speed_kmh: num(props, "speed_kmh").unwrap_or(class.default_speed_kmh()),
                    capacity_veh_h: num(props, "capacity_veh_h")
                        .unwrap_or(lanes as f64 * class.default_capacity_per_lane()),
                    length_m: num(props, "length_m").unwrap_or(length),
                    name: props.get("name").and_then(Value::as_str).map(String::from),
                    bridge: flag(props, "bridge"),
                    tunnel: flag(props, "tunnel"),
                    geometry: line,
                });
            }
            ("barrier", Some(Shape::Line(line))) => {
                city.barriers.push(Barrier {
                    id,
                    kind: enum_prop::<BarrierKind>(props, "kind")
                        .map_err(|m| bad(&m))?
                        .unwrap_or(BarrierKind::Dike),
                    line,
                    crest_z: num(props, "crest_z").ok_or_else(|| bad("barrier without crest_z"))?,
                });
            }
            ("point", Some(Shape::Point(p, z))) => {
                city.points.push(NamedPoint {
                    name: props
                        .get("name")
                        .and_then(Value::as_str)
                        .map_or_else(|| id.clone(), String::from),
                    id,
                    kind: enum_prop::<PointKind>(props, "kind")
                        .map_err(|m| bad(&m))?
                        .unwrap_or(PointKind::Other),
                    x: p[0],
                    y: p[1],
                    z: z.or(num(props, "z")),
                    capacity: num(props, "capacity")
                        .filter(|c| *c >= 0.0 && *c <= u32::MAX as f64)
                        .map(|c| c as u32),
                });
            }
            ("landcover", Some(Shape::Polygons(polys))) => {
                let kind = enum_prop::<LandCover>(props, "kind")
                    .map_err(|m| bad(&m))?
                    .ok_or_else(|| bad("landcover without kind"))?;
                let n = polys.len();
                for (k, polygon) in polys.into_iter().enumerate() {
                    city.landcover.push(LandCoverZone {
                        id: if n == 1 {
                            id.clone()
                        } else {
                            format!("{id}#{k}")
                        },
                        kind,
                        polygon,
                        manning_n: num(props, "manning_n").unwrap_or(kind.default_manning_n()),
                    });
                }
            }
            (layer, shape) => {
                let g = f.geometry.as_ref().map_or("null", |g| g.ty.as_str());
                let what = if shape.is_none() && !layer.is_empty() {
                    format!("{layer} without geometry")
                } else if layer.is_empty() {
                    g.to_string()
                } else {
                    format!("{layer} {g}")
                };
                *skipped.entry(what).or_default() += 1;
            }
        }
    }
    city.sources.push(format!(
        "GeoJSON {} (EPSG:{} -> EPSG:{target_epsg})",
        path.display(),
        source.source_epsg
    ));
    if !skipped.is_empty() {
        let list: Vec<String> = skipped.iter().map(|(t, n)| format!("{n} {t}")).collect();
        city.sources.push(format!(
            "{}: skipped features: {}",
            path.display(),
            list.join(", ")
        ));
    }
    Ok(city)
}

/// A FeatureCollection after pass 1: the features, their shapes validated in the source
/// CRS (`None` for a null geometry or, with [`UnreadGeometry::Skip`], a type that is not
/// read), and the projection into the chosen target CRS.
struct Parsed {
    features: Vec<Feature>,
    shapes: Vec<Option<Shape>>,
    source: Crs,
    target_epsg: u32,
    to_target: ToTarget,
}

/// What pass 1 does with a geometry type that is not read (MultiPoint, MultiLineString,
/// GeometryCollection, unknown types).
#[derive(Clone, Copy, PartialEq)]
enum UnreadGeometry {
    /// Keep the feature without a shape (the city importer counts it as skipped).
    Skip,
    /// Fail naming the feature.
    Error,
}

/// Source CRS -> target CRS for validated positions.
struct ToTarget {
    geographic: bool,
    target: Crs,
    transformer: Transformer,
}

impl ToTarget {
    fn project(&self, p: P2) -> Result<P2> {
        if self.transformer.is_identity() {
            Ok(p)
        } else if self.geographic {
            self.target.from_wgs84(p[0], p[1])
        } else {
            self.transformer.transform(p[0], p[1])
        }
    }
}

/// Parse a FeatureCollection, detect its CRS (RFC 7946 WGS84 or a legacy `crs` member),
/// validate every feature's coordinates and choose the target CRS: `target_epsg`, else the
/// source CRS for projected data and the UTM zone of the data's centre for geographic data.
fn parse_collection(
    bytes: &[u8],
    path: &Path,
    target_epsg: Option<u32>,
    unread: UnreadGeometry,
) -> Result<Parsed> {
    let err = |loc: String, msg: String| Error::format(path, loc, msg);
    let fc: Collection = serde_json::from_slice(bytes).map_err(|e| {
        err(
            format!("line {}, column {}", e.line(), e.column()),
            format!("invalid GeoJSON: {e}"),
        )
    })?;
    if fc.ty != "FeatureCollection" {
        return Err(err(
            "type".into(),
            format!("\"type\" is {:?}, expected \"FeatureCollection\"", fc.ty),
        ));
    }
    let source = match fc
        .crs
        .as_ref()
        .and_then(|c| c.properties.as_ref())
        .and_then(|p| p.name.as_deref())
    {
        Some(name) => Crs::parse(name).map_err(|e| {
            err(
                "crs.properties.name".into(),
                format!("cannot use CRS {name:?}: {e}"),
            )
        })?,
        None => Crs::from_epsg(4326)?,
    };
    let geographic = source.is_geographic();

    // Pass 1: validate coordinates in the source CRS and find the data's extent.
    let mut shapes = Vec::with_capacity(fc.features.len());
    let mut extent = crate::geom::BBox2::EMPTY;
    for (i, f) in fc.features.iter().enumerate() {
        let loc = feature_loc(i, f);
        if f.ty != "Feature" {
            return Err(err(
                loc,
                format!("\"type\" is {:?}, expected \"Feature\"", f.ty),
            ));
        }
        let shape = match &f.geometry {
            Some(g) => {
                let shape = parse_shape(g, geographic).map_err(|m| err(loc.clone(), m))?;
                if shape.is_none() && unread == UnreadGeometry::Error {
                    return Err(err(loc, unread_geometry_message(&g.ty)));
                }
                shape
            }
            None => None,
        };
        if let Some(s) = &shape {
            for_each_point(s, |p| extent.add(p));
        }
        shapes.push(shape);
    }
    let target_epsg = match target_epsg {
        Some(t) => t,
        None if geographic && !extent.is_empty() => utm_epsg_for(
            0.5 * (extent.min[0] + extent.max[0]),
            0.5 * (extent.min[1] + extent.max[1]),
        ),
        None if geographic => 4326,
        None => source.epsg,
    };
    let target = Crs::from_epsg(target_epsg)?;
    let transformer = Transformer::new(source.clone(), target.clone());
    Ok(Parsed {
        features: fc.features,
        shapes,
        source,
        target_epsg,
        to_target: ToTarget {
            geographic,
            target,
            transformer,
        },
    })
}

/// Why [`read_features`] rejects a geometry type that [`parse_shape`] does not read.
fn unread_geometry_message(ty: &str) -> String {
    match ty {
        "MultiLineString" => {
            "MultiLineString is not read: split it into one LineString feature per part".into()
        }
        "MultiPoint" => "MultiPoint is not read: split it into one Point feature per point".into(),
        other => format!(
            "geometry type {other:?} is not read (expected Point, LineString, Polygon or MultiPolygon)"
        ),
    }
}

/// The feature's id: its `id` or `@id` property, the feature id, else `feature_<i>`.
fn feature_id(i: usize, f: &Feature, props: &Map<String, Value>) -> String {
    ["id", "@id"]
        .iter()
        .find_map(|k| props.get(*k))
        .or(f.id.as_ref())
        .map(text)
        .unwrap_or_else(|| format!("feature_{i}"))
}

/// `features[i]` plus the feature's id when it has one.
fn feature_loc(i: usize, f: &Feature) -> String {
    let id = f
        .properties
        .as_ref()
        .and_then(|p| p.get("id"))
        .or(f.id.as_ref());
    match id {
        Some(v) => format!("features[{i}] (id {})", text(v)),
        None => format!("features[{i}]"),
    }
}

/// A property value as text: strings as they are, everything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A numeric property (a number or a string starting with one, such as "12 m").
fn num(props: &Map<String, Value>, key: &str) -> Option<f64> {
    num_value(props.get(key)?)
}

/// A number, or a string starting with one ("0.05", "12 m"); `None` for anything else and
/// for non-finite values.
fn num_value(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.trim();
            let end = s
                .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
                .unwrap_or(s.len());
            s[..end].parse().ok()
        }
        _ => None,
    };
    x.filter(|x| x.is_finite())
}

/// A boolean property: `true` or the OSM values "yes"/"true"/"1".
fn flag(props: &Map<String, Value>, key: &str) -> bool {
    match props.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "yes" | "true" | "1"),
        _ => false,
    }
}

/// A snake_case enum property; an unknown value is an error.
fn enum_prop<T: DeserializeOwned>(
    props: &Map<String, Value>,
    key: &str,
) -> std::result::Result<Option<T>, String> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| format!("unknown {key} {v}")),
    }
}

/// Properties that [`building`] maps to model fields (and the derived ones it drops).
const BUILDING_KEYS: &[&str] = &[
    "layer",
    "id",
    "@id",
    "height_m",
    "height",
    "measuredHeight",
    "building:height",
    "building:levels",
    "storeys",
    "ground_z",
    "roof_z",
    "usage",
    "building",
    "function",
    "roof_type",
    "roof:shape",
    "lod",
    "footprint_area_m2",
    "street",
    "house_number",
    "postcode",
    "city",
    "country",
    "addr:street",
    "addr:housenumber",
    "addr:postcode",
    "addr:city",
    "addr:country",
];

/// A building from a footprint and its properties.
fn building(id: String, props: &Map<String, Value>, footprint: Vec<Polygon>) -> Building {
    let storeys = ["storeys", "building:levels"]
        .iter()
        .find_map(|k| num(props, k))
        .filter(|s| *s >= 0.0 && *s < 1e4)
        .map(|s| s.round() as u32);
    let height = ["height_m", "height", "measuredHeight", "building:height"]
        .iter()
        .find_map(|k| num(props, k))
        .or(storeys.map(|s| s as f64 * STOREY_HEIGHT_M));
    let s = |k: &str| props.get(k).filter(|v| !v.is_null()).map(text);
    let usage = s("usage")
        .or(s("building"))
        .map_or(Default::default(), |u| building_use(&u));
    let address = Address {
        street: s("street").or(s("addr:street")),
        house_number: s("house_number").or(s("addr:housenumber")),
        postcode: s("postcode").or(s("addr:postcode")),
        city: s("city").or(s("addr:city")),
        country: s("country").or(s("addr:country")),
    };
    let attributes = props
        .iter()
        .filter(|(k, v)| !BUILDING_KEYS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.strip_prefix("attr:").unwrap_or(k).to_string(), text(v)))
        .collect();
    Building {
        id,
        footprint,
        ground_z: num(props, "ground_z"),
        roof_z: num(props, "roof_z"),
        measured_height_m: height,
        storeys,
        function: s("function"),
        usage,
        roof_type: s("roof_type")
            .or(s("roof:shape"))
            .map_or(Default::default(), |r| match r.as_str() {
                "skillion" => crate::model::RoofType::Shed,
                r => roof_type(r),
            }),
        address: (address != Address::default()).then_some(address),
        attributes,
        lod: num(props, "lod").map_or(0, |l| l.clamp(0.0, 4.0) as u8),
        ..Default::default()
    }
}

/// Validate a geometry's coordinates (finite, in range for geographic data, enough
/// positions) without reprojecting. `Ok(None)` for geometry types that are not read.
fn parse_shape(g: &Geometry, geographic: bool) -> std::result::Result<Option<Shape>, String> {
    let coords = match (&g.coordinates, g.ty.as_str()) {
        (Some(c), "Point" | "LineString" | "Polygon" | "MultiPolygon") => c,
        (None, "Point" | "LineString" | "Polygon" | "MultiPolygon") => {
            return Err(format!("{} without \"coordinates\"", g.ty));
        }
        _ => return Ok(None),
    };
    let position = |n: &Nested| -> std::result::Result<(P2, Option<f64>), String> {
        let l = n.as_list().unwrap_or_default();
        let v: Vec<f64> = l
            .iter()
            .map(|x| match x {
                Nested::Num(v) if v.is_finite() => Ok(*v),
                _ => Err(format!("{}: invalid coordinate {x:?}", g.ty)),
            })
            .collect::<std::result::Result<_, _>>()?;
        let (Some(&x), Some(&y)) = (v.first(), v.get(1)) else {
            return Err(format!("{}: a position needs at least 2 numbers", g.ty));
        };
        if geographic && !((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
            return Err(format!(
                "{}: ({x}, {y}) is not a WGS84 longitude/latitude (a projected file needs a \"crs\" member)",
                g.ty
            ));
        }
        Ok(([x, y], v.get(2).copied()))
    };
    let list = |n: &Nested| -> std::result::Result<Vec<P2>, String> {
        n.as_list()
            .ok_or_else(|| format!("{}: expected an array of positions", g.ty))?
            .iter()
            .map(|p| position(p).map(|p| p.0))
            .collect()
    };
    let polygon = |n: &Nested| -> std::result::Result<Polygon, String> {
        let rings = n
            .as_list()
            .ok_or_else(|| format!("{}: expected an array of rings", g.ty))?;
        let mut rings = rings.iter().map(|r| {
            let r = list(r)?;
            if r.len() < 4 {
                return Err(format!(
                    "{}: a ring has {} positions, needs at least 4",
                    g.ty,
                    r.len()
                ));
            }
            Ok(open_ring(r))
        });
        let exterior = rings
            .next()
            .ok_or_else(|| format!("{}: no exterior ring", g.ty))??;
        Ok(Polygon {
            exterior,
            interiors: rings.collect::<std::result::Result<_, _>>()?,
        })
    };
    Ok(Some(match g.ty.as_str() {
        "Point" => {
            let (p, z) = position(coords)?;
            Shape::Point(p, z)
        }
        "LineString" => {
            let l = list(coords)?;
            if l.len() < 2 {
                return Err("LineString with fewer than 2 positions".into());
            }
            Shape::Line(l)
        }
        "Polygon" => Shape::Polygons(vec![polygon(coords)?]),
        _ => Shape::Polygons(
            coords
                .as_list()
                .ok_or("MultiPolygon: expected an array of polygons")?
                .iter()
                .map(polygon)
                .collect::<std::result::Result<_, _>>()?,
        ),
    }))
}

fn for_each_point(s: &Shape, mut f: impl FnMut(P2)) {
    match s {
        Shape::Point(p, _) => f(*p),
        Shape::Line(l) => l.iter().for_each(|p| f(*p)),
        Shape::Polygons(ps) => ps
            .iter()
            .flat_map(|p| p.exterior.iter().chain(p.interiors.iter().flatten()))
            .for_each(|p| f(*p)),
    }
}

fn reproject(s: Shape, f: &impl Fn(P2) -> Result<P2>) -> Result<Shape> {
    let line = |l: Vec<P2>| l.into_iter().map(f).collect::<Result<Vec<P2>>>();
    Ok(match s {
        Shape::Point(p, z) => Shape::Point(f(p)?, z),
        Shape::Line(l) => Shape::Line(line(l)?),
        Shape::Polygons(ps) => Shape::Polygons(
            ps.into_iter()
                .map(|p| {
                    Ok(Polygon {
                        exterior: line(p.exterior)?,
                        interiors: p.interiors.into_iter().map(line).collect::<Result<_>>()?,
                    })
                })
                .collect::<Result<_>>()?,
        ),
    })
}

/// Point used for the bbox filter: the point, the line's first vertex, the largest
/// polygon's centroid.
fn representative_point(s: &Shape) -> P2 {
    match s {
        Shape::Point(p, _) => *p,
        Shape::Line(l) => l.first().copied().unwrap_or([f64::NAN; 2]),
        Shape::Polygons(ps) => ps
            .iter()
            .max_by(|a, b| a.area().total_cmp(&b.area()))
            .map_or([f64::NAN; 2], Polygon::centroid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONES: &str = "zones/manning.geojson";
    const LEGACY_25832: &str =
        r#""crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}"#;

    /// Two zones in EPSG:25832 (Hamburg): a square with a hole, given as a Polygon, and a
    /// MultiPolygon of two triangles; exterior rings are closed as GeoJSON requires.
    fn zone_rings() -> Vec<Vec<Vec<P2>>> {
        let (x, y) = (565_000.0, 5_933_000.0);
        vec![
            vec![
                vec![
                    [x, y],
                    [x + 100.0, y],
                    [x + 100.0, y + 100.0],
                    [x, y + 100.0],
                    [x, y],
                ],
                vec![
                    [x + 40.0, y + 40.0],
                    [x + 40.0, y + 60.0],
                    [x + 60.0, y + 60.0],
                    [x + 60.0, y + 40.0],
                    [x + 40.0, y + 40.0],
                ],
            ],
            vec![vec![
                [x + 200.0, y],
                [x + 250.5, y],
                [x + 200.0, y + 50.25],
                [x + 200.0, y],
            ]],
            vec![vec![
                [x + 300.0, y],
                [x + 350.0, y],
                [x + 300.0, y + 50.0],
                [x + 300.0, y],
            ]],
        ]
    }

    fn ring_json(r: &[P2]) -> String {
        let p: Vec<String> = r.iter().map(|p| format!("[{}, {}]", p[0], p[1])).collect();
        format!("[{}]", p.join(", "))
    }

    /// The zone file with its rings mapped by `f` and the given `crs` member text (or none).
    fn zone_file(crs: Option<&str>, f: impl Fn(P2) -> P2) -> String {
        let rings: Vec<Vec<String>> = zone_rings()
            .iter()
            .map(|poly| {
                poly.iter()
                    .map(|r| ring_json(&r.iter().map(|p| f(*p)).collect::<Vec<_>>()))
                    .collect()
            })
            .collect();
        format!(
            r#"{{"type": "FeatureCollection", {}
"features": [
 {{"type": "Feature", "id": "park-1", "properties": {{"manning_n": 0.035, "kind": "park"}},
   "geometry": {{"type": "Polygon", "coordinates": [{}, {}]}}}},
 {{"type": "Feature", "properties": {{"id": "field-2", "manning_n": "0.05"}},
   "geometry": {{"type": "MultiPolygon", "coordinates": [[{}], [{}]]}}}}
]}}"#,
            crs.map_or(String::new(), |c| format!("{c},")),
            rings[0][0],
            rings[0][1],
            rings[1][0],
            rings[2][0],
        )
    }

    fn open(r: &[P2]) -> Vec<P2> {
        r[..r.len() - 1].to_vec()
    }

    fn close(a: P2, b: P2, tol: f64) -> bool {
        (a[0] - b[0]).abs() <= tol && (a[1] - b[1]).abs() <= tol
    }

    #[test]
    fn zone_file_in_a_legacy_crs_keeps_its_coordinates() {
        let file = zone_file(Some(LEGACY_25832), |p| p);
        let (epsg, zones) =
            read_polygon_values_slice(file.as_bytes(), ZONES, None, "manning_n", 0.0..=1.0)
                .unwrap();
        assert_eq!(epsg, 25832);
        assert_eq!(zones.len(), 2);
        let rings = zone_rings();
        let (park, n) = &zones[0];
        assert_eq!(*n, 0.035);
        assert_eq!(park.len(), 1);
        assert_eq!(park[0].exterior, open(&rings[0][0]));
        assert_eq!(park[0].interiors, vec![open(&rings[0][1])]);
        assert!((park[0].area() - (100.0 * 100.0 - 20.0 * 20.0)).abs() < 1e-6);
        // A number given as a string, like the city importer's `num`.
        let (field, n) = &zones[1];
        assert_eq!(*n, 0.05);
        assert_eq!(field.len(), 2);
        assert_eq!(field[0].exterior, open(&rings[1][0]));
        assert_eq!(field[1].exterior, open(&rings[2][0]));

        // The same file as plain features: ids, properties and an explicit equal target.
        let (epsg, features) = read_features_slice(file.as_bytes(), ZONES, Some(25832)).unwrap();
        assert_eq!(epsg, 25832);
        assert_eq!(features[0].id, "park-1");
        assert_eq!(features[1].id, "field-2");
        assert_eq!(features[0].properties["kind"], "park");
        assert_eq!(features[1].properties["manning_n"], "0.05");
        assert_eq!(
            features[0].geometry,
            Some(FeatureGeometry::Polygons(park.clone()))
        );
    }

    #[test]
    fn wgs84_zone_file_is_projected_like_the_city_importer() {
        let utm = Crs::from_epsg(25832).unwrap();
        // RFC 7946: no crs member, lon/lat; Rust prints the shortest round-tripping decimal.
        let file = zone_file(None, |p| utm.to_wgs84(p[0], p[1]).unwrap());
        let by_default =
            read_polygon_values_slice(file.as_bytes(), ZONES, None, "manning_n", 0.0..=1.0)
                .unwrap();
        let explicit =
            read_polygon_values_slice(file.as_bytes(), ZONES, Some(25832), "manning_n", 0.0..=1.0)
                .unwrap();
        // The default for geographic data is the UTM zone of its centre, as for `read_path`.
        assert_eq!(by_default.0, 25832);
        assert_eq!(by_default, explicit);
        let zones = explicit.1;

        // Within 1 mm of the original projected coordinates (forward then inverse projection).
        let rings = zone_rings();
        let got: Vec<&Polygon> = zones.iter().flat_map(|(p, _)| p).collect();
        let want = [&rings[0], &rings[1], &rings[2]];
        assert_eq!(got.len(), 3);
        for (g, w) in got.iter().zip(want) {
            let g_rings: Vec<&Vec<P2>> = std::iter::once(&g.exterior).chain(&g.interiors).collect();
            assert_eq!(g_rings.len(), w.len());
            for (gr, wr) in g_rings.iter().zip(w) {
                assert_eq!(gr.len(), wr.len() - 1);
                for (a, b) in gr.iter().zip(wr) {
                    assert!(close(*a, *b, 1e-3), "{a:?} vs {b:?}");
                }
            }
        }

        // And identical to the existing importer's projection of the same file (there the
        // polygons without a layer are building footprints).
        let city = read_slice(
            file.as_bytes(),
            ZONES,
            &ImportOptions {
                target_epsg: Some(25832),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(city.epsg, 25832);
        let footprints: Vec<&Polygon> = city.buildings.iter().flat_map(|b| &b.footprint).collect();
        assert_eq!(footprints, got);
    }

    #[test]
    fn lines_points_and_null_geometries() {
        let file = format!(
            r#"{{"type": "FeatureCollection", {LEGACY_25832},
"features": [
 {{"type": "Feature", "id": 7, "properties": {{"level": "tide"}},
   "geometry": {{"type": "LineString", "coordinates": [[565000, 5933000], [565010.5, 5933020], [565030, 5933020]]}}}},
 {{"type": "Feature", "properties": {{"@id": "gauge-1", "name": "St. Pauli"}},
   "geometry": {{"type": "Point", "coordinates": [565100.25, 5933200.75, 3.5]}}}},
 {{"type": "Feature", "properties": null, "geometry": null}},
 {{"type": "Feature", "id": "f", "properties": {{"id": 12}},
   "geometry": {{"type": "Point", "coordinates": [565000, 5933000]}}}}
]}}"#
        );
        let (epsg, f) = read_features_slice(file.as_bytes(), "lines.geojson", None).unwrap();
        assert_eq!(epsg, 25832);
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].id, "7");
        assert_eq!(
            f[0].geometry,
            Some(FeatureGeometry::Line(vec![
                [565000.0, 5933000.0],
                [565010.5, 5933020.0],
                [565030.0, 5933020.0]
            ]))
        );
        assert_eq!(f[0].properties["level"], "tide");
        assert_eq!(f[1].id, "gauge-1");
        assert_eq!(
            f[1].geometry,
            Some(FeatureGeometry::Point([565100.25, 5933200.75]))
        );
        assert_eq!(f[1].properties["name"], "St. Pauli");
        assert_eq!(f[2].id, "feature_2");
        assert_eq!(f[2].geometry, None);
        assert!(f[2].properties.is_empty());
        // The `id` property wins over the feature id.
        assert_eq!(f[3].id, "12");

        // Reprojected into another CRS (UTM 33), the line is moved there.
        let (epsg, g) = read_features_slice(file.as_bytes(), "lines.geojson", Some(25833)).unwrap();
        assert_eq!(epsg, 25833);
        let t = Transformer::new(
            Crs::from_epsg(25832).unwrap(),
            Crs::from_epsg(25833).unwrap(),
        );
        let Some(FeatureGeometry::Line(l)) = &g[0].geometry else {
            panic!("{:?}", g[0].geometry)
        };
        assert!(close(l[0], t.transform(565000.0, 5933000.0).unwrap(), 1e-9));
    }

    #[test]
    fn wgs84_lines_default_to_the_utm_zone_of_their_centre() {
        let file = r#"{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[13.40, 52.52], [13.41, 52.53]]}}]}"#;
        let (epsg, f) = read_features_slice(file.as_bytes(), "berlin.geojson", None).unwrap();
        assert_eq!(epsg, 25833);
        let want = Crs::from_epsg(25833)
            .unwrap()
            .from_wgs84(13.40, 52.52)
            .unwrap();
        let Some(FeatureGeometry::Line(l)) = &f[0].geometry else {
            panic!()
        };
        assert_eq!(l[0], want);
    }

    #[test]
    fn multilinestrings_are_an_error_here_but_skipped_by_the_city_importer() {
        let file = format!(
            r#"{{"type": "FeatureCollection", {LEGACY_25832}, "features": [
 {{"type": "Feature", "properties": {{"id": "ok"}}, "geometry": {{"type": "Point", "coordinates": [565000, 5933000]}}}},
 {{"type": "Feature", "properties": {{"id": "b-1"}}, "geometry": {{"type": "MultiLineString",
   "coordinates": [[[565000, 5933000], [565010, 5933000]], [[565020, 5933000], [565030, 5933000]]]}}}}]}}"#
        );
        let e = read_features_slice(file.as_bytes(), "lines.geojson", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("lines.geojson: features[1] (id b-1): MultiLineString is not read"),
            "{e}"
        );
        let e = read_features_slice(
            file.replace("MultiLineString", "GeometryCollection")
                .as_bytes(),
            "lines.geojson",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("lines.geojson: features[1] (id b-1): geometry type \"GeometryCollection\" is not read"),
            "{e}"
        );
        // `read_slice` is unchanged: no error; without a layer, a feature of a type it does
        // not read is taken as a building without footprint (and the Point is skipped).
        let city = read_slice(file.as_bytes(), "lines.geojson", &ImportOptions::default()).unwrap();
        assert_eq!(city.buildings.len(), 1);
        assert_eq!(city.buildings[0].id, "b-1");
        assert!(city.buildings[0].footprint.is_empty());
        let with_layer = file.replace(r#""id": "b-1""#, r#""id": "b-1", "layer": "barrier""#);
        let city = read_slice(
            with_layer.as_bytes(),
            "lines.geojson",
            &ImportOptions::default(),
        )
        .unwrap();
        assert!(city.barriers.is_empty());
        assert!(
            city.sources
                .iter()
                .any(|s| s.ends_with("skipped features: 1 Point, 1 barrier without geometry")),
            "{:?}",
            city.sources
        );
    }

    /// The zone file with the second feature's `manning_n` replaced by `value` (JSON text,
    /// or `None` to drop it) and its geometry by `geometry` when given.
    fn bad_zone(value: Option<&str>, geometry: Option<&str>) -> String {
        let f = zone_file(Some(LEGACY_25832), |p| p);
        let f = match value {
            Some(v) => f.replace(r#""manning_n": "0.05""#, &format!(r#""manning_n": {v}"#)),
            None => f.replace(r#", "manning_n": "0.05""#, ""),
        };
        match geometry {
            Some(g) => {
                let start = f.rfind(r#""geometry""#).unwrap();
                let end = f.rfind("}\n]}").unwrap();
                format!("{}\"geometry\": {g}{}", &f[..start], &f[end..])
            }
            None => f,
        }
    }

    fn zone_error(file: &str) -> String {
        read_polygon_values_slice(file.as_bytes(), ZONES, None, "manning_n", 0.0..=0.3)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn zone_value_errors_name_the_file_and_the_feature() {
        let at = "zones/manning.geojson: features[1] (id field-2): ";
        let cases = [
            (
                bad_zone(None, None),
                "no property \"manning_n\" (a number in 0..=0.3)",
            ),
            (bad_zone(Some("null"), None), "no property \"manning_n\""),
            (
                bad_zone(Some(r#""NaN""#), None),
                "property \"manning_n\" is \"NaN\", not a finite number",
            ),
            (
                bad_zone(Some(r#""rough""#), None),
                "property \"manning_n\" is \"rough\", not a finite number",
            ),
            (
                bad_zone(Some("true"), None),
                "property \"manning_n\" is true, not a finite number",
            ),
            (
                bad_zone(Some("-0.01"), None),
                "property \"manning_n\" is -0.01, outside 0..=0.3",
            ),
            (
                bad_zone(Some("0.5"), None),
                "property \"manning_n\" is 0.5, outside 0..=0.3",
            ),
            (
                bad_zone(
                    None,
                    Some(
                        r#"{"type": "LineString", "coordinates": [[565000, 5933000], [565010, 5933000]]}"#,
                    ),
                ),
                "geometry is LineString, expected Polygon or MultiPolygon",
            ),
            (
                bad_zone(
                    None,
                    Some(r#"{"type": "Point", "coordinates": [565000, 5933000]}"#),
                ),
                "geometry is Point, expected Polygon or MultiPolygon",
            ),
            (
                bad_zone(None, Some("null")),
                "geometry is null, expected Polygon or MultiPolygon",
            ),
        ];
        for (file, want) in cases {
            let e = zone_error(&file);
            assert!(e.starts_with(at) && e.contains(want), "{e}\nwanted {want}");
        }
        // The edit itself is sound: with a value in range the same file reads.
        let ok = read_polygon_values_slice(
            bad_zone(Some("0.2"), None).as_bytes(),
            ZONES,
            None,
            "manning_n",
            0.0..=0.3,
        )
        .unwrap();
        assert_eq!(ok.1[1].1, 0.2);
    }

    #[test]
    fn file_level_errors_name_the_file_and_where() {
        let e = read_features_slice(
            b"{\"type\": \"FeatureCollection\", \"features\": [}",
            ZONES,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("zones/manning.geojson: line 1, column ")
                && e.contains("invalid GeoJSON"),
            "{e}"
        );
        let unknown = zone_file(Some(LEGACY_25832), |p| p).replace("25832", "9999");
        let e = zone_error(&unknown);
        assert!(
            e.starts_with("zones/manning.geojson: crs.properties.name: cannot use CRS \"urn:ogc:def:crs:EPSG::9999\""),
            "{e}"
        );
        let e = read_features_slice(br#"{"type": "Feature"}"#, ZONES, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("zones/manning.geojson: type: "), "{e}");
    }

    #[test]
    fn coordinate_errors_name_the_feature() {
        // Projected coordinates without a crs member are not WGS84 longitude/latitude.
        let e = zone_error(&zone_file(None, |p| p));
        assert!(
            e.starts_with("zones/manning.geojson: features[0] (id park-1): Polygon: (565000, 5933000) is not a WGS84"),
            "{e}"
        );
        let file = format!(
            r#"{{"type": "FeatureCollection", {LEGACY_25832}, "features": [
 {{"type": "Feature", "id": "l", "properties": {{}}, "geometry": {{"type": "LineString", "coordinates": [[565000, 5933000]]}}}}]}}"#
        );
        let e = read_features_slice(file.as_bytes(), "b.geojson", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "b.geojson: features[0] (id l): LineString with fewer than 2 positions"
        );
    }

    #[test]
    fn reads_files_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zones.geojson");
        std::fs::write(&path, zone_file(Some(LEGACY_25832), |p| p)).unwrap();
        let (epsg, zones) = read_polygon_values(&path, None, "manning_n", 0.0..=1.0).unwrap();
        assert_eq!(epsg, 25832);
        assert_eq!(zones.iter().map(|z| z.1).collect::<Vec<_>>(), [0.035, 0.05]);
        let (_, features) = read_features(&path, None).unwrap();
        assert_eq!(features.len(), 2);

        let e = read_polygon_values(&path, None, "height_m", 0.0..=1000.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{}: features[0] (id park-1): no property \"height_m\"",
                path.display()
            )),
            "{e}"
        );
        let missing = dir.path().join("missing.geojson");
        let e = read_features(&missing, None).unwrap_err();
        assert!(
            matches!(&e, Error::Io { path, .. } if *path == missing),
            "{e}"
        );
    }
}
