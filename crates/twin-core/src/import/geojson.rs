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
    let mut raw = Vec::with_capacity(fc.features.len());
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
            Some(g) => parse_shape(g, geographic).map_err(|m| err(loc.clone(), m))?,
            None => None,
        };
        if let Some(s) = &shape {
            for_each_point(s, |p| extent.add(p));
        }
        raw.push(shape);
    }
    let target_epsg = match opts.target_epsg {
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
    let project = |p: P2| -> Result<P2> {
        if transformer.is_identity() {
            Ok(p)
        } else if geographic {
            target.from_wgs84(p[0], p[1])
        } else {
            transformer.transform(p[0], p[1])
        }
    };

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
    for (i, (f, shape)) in fc.features.iter().zip(raw).enumerate() {
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
        let id = ["id", "@id"]
            .iter()
            .find_map(|k| props.get(*k))
            .or(f.id.as_ref())
            .map(text)
            .unwrap_or_else(|| format!("feature_{i}"));
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
    let v = props.get(key)?;
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
