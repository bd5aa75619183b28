//! GeoJSON export of a city's layers: building footprints with their heights and attributes,
//! road links, flood barriers, named points and land-cover zones.
//!
//! Every feature carries a `"layer"` property (`building`, `road`, `barrier`, `point`,
//! `landcover`) so that [`crate::import::geojson`] reads an exported city back. Output is
//! deterministic: sorted property keys, coordinates rounded to 1 mm (projected CRS) or
//! 1e-8 degrees (WGS84), heights to 1 mm; one feature per line. Exterior rings are
//! counter-clockwise and holes clockwise (RFC 7946 right-hand rule).

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::fsio::write_atomic;
use crate::geom::{P2, Polygon, ring_area};
use crate::model::City;
use serde_json::{Map, Value, json};
use std::path::Path;

/// A layer of the city model written as GeoJSON features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Buildings,
    Roads,
    Barriers,
    Points,
    LandCover,
}

impl Layer {
    /// All layers in output order.
    pub const ALL: [Layer; 5] = [
        Layer::Buildings,
        Layer::Roads,
        Layer::Barriers,
        Layer::Points,
        Layer::LandCover,
    ];
    /// The value of the `"layer"` property of its features.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Buildings => "building",
            Layer::Roads => "road",
            Layer::Barriers => "barrier",
            Layer::Points => "point",
            Layer::LandCover => "landcover",
        }
    }
}

/// Options of the GeoJSON writer.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoJsonOptions {
    /// Write RFC 7946 WGS84 longitude/latitude when true; otherwise coordinates in the city's
    /// CRS with the legacy `crs` member (read by GDAL/QGIS).
    pub wgs84: bool,
    /// Layers written by [`write_city_geojson`], in this order.
    pub layers: Vec<Layer>,
}

impl Default for GeoJsonOptions {
    fn default() -> Self {
        GeoJsonOptions {
            wgs84: false,
            layers: Layer::ALL.to_vec(),
        }
    }
}

/// Write the layers named in `opts.layers` as one FeatureCollection.
pub fn write_city_geojson(
    city: &City,
    path: impl AsRef<Path>,
    opts: &GeoJsonOptions,
) -> Result<()> {
    let text = feature_collection(city, &opts.layers, opts)?;
    write_atomic(path.as_ref(), text.as_bytes())
}

/// Write one layer as a FeatureCollection (e.g. `buildings.geojson`).
pub fn write_layer(
    city: &City,
    layer: Layer,
    path: impl AsRef<Path>,
    opts: &GeoJsonOptions,
) -> Result<()> {
    let text = feature_collection(city, &[layer], opts)?;
    write_atomic(path.as_ref(), text.as_bytes())
}

/// Coordinate output: reprojection to WGS84 or not, and rounding.
struct Coords {
    crs: Option<Crs>,
    quantum: f64,
}

impl Coords {
    fn pos(&self, p: P2) -> Result<Value> {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return Err(Error::Invalid(format!(
                "GeoJSON export: non-finite coordinate {p:?}"
            )));
        }
        let [x, y] = match &self.crs {
            Some(c) => c.to_wgs84(p[0], p[1])?,
            None => p,
        };
        Ok(json!([round(x, self.quantum), round(y, self.quantum)]))
    }
    fn line(&self, pts: &[P2]) -> Result<Value> {
        pts.iter().map(|p| self.pos(*p)).collect()
    }
    /// Closed rings, exterior counter-clockwise, holes clockwise.
    fn polygon(&self, poly: &Polygon) -> Result<Value> {
        let mut rings = Vec::with_capacity(1 + poly.interiors.len());
        for (i, r) in std::iter::once(&poly.exterior)
            .chain(&poly.interiors)
            .enumerate()
        {
            let mut r = r.clone();
            if (ring_area(&r) < 0.0) == (i == 0) {
                r.reverse();
            }
            if let Some(&first) = r.first() {
                r.push(first);
            }
            rings.push(self.line(&r)?);
        }
        Ok(Value::Array(rings))
    }
}

/// `v` rounded to a multiple of `q` (1e-3 or 1e-8), printed without binary noise.
fn round(v: f64, q: f64) -> f64 {
    let inv = (1.0 / q).round();
    (v * inv).round() / inv
}

fn feature(props: Map<String, Value>, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

/// Insert `v` when it is `Some`.
fn put<T: Into<Value>>(m: &mut Map<String, Value>, k: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(k.to_string(), v.into());
    }
}

/// The GeoJSON text of the chosen layers.
fn feature_collection(city: &City, layers: &[Layer], opts: &GeoJsonOptions) -> Result<String> {
    let coords = if opts.wgs84 {
        if city.epsg == 0 {
            return Err(Error::Invalid(format!(
                "GeoJSON export of {:?}: the city's CRS is unknown, cannot write WGS84",
                city.name
            )));
        }
        Coords {
            crs: Some(Crs::from_epsg(city.epsg)?),
            quantum: 1e-8,
        }
    } else {
        Coords {
            crs: None,
            quantum: 1e-3,
        }
    };
    let mm = |v: f64| round(v, 1e-3);
    let mut features = Vec::new();
    for &layer in layers {
        let base = || {
            let mut m = Map::new();
            m.insert("layer".into(), layer.as_str().into());
            m
        };
        match layer {
            Layer::Buildings => {
                for b in &city.buildings {
                    let mut p = base();
                    p.insert("id".into(), b.id.clone().into());
                    put(&mut p, "height_m", b.height_m().map(mm));
                    put(&mut p, "ground_z", b.ground_z.map(mm));
                    put(&mut p, "roof_z", b.roof_z.map(mm));
                    put(&mut p, "storeys", b.storeys);
                    p.insert("usage".into(), b.usage.as_str().into());
                    p.insert("roof_type".into(), b.roof_type.as_str().into());
                    put(&mut p, "function", b.function.clone());
                    if let Some(a) = &b.address {
                        put(&mut p, "street", a.street.clone());
                        put(&mut p, "house_number", a.house_number.clone());
                        put(&mut p, "postcode", a.postcode.clone());
                        put(&mut p, "city", a.city.clone());
                        put(&mut p, "country", a.country.clone());
                    }
                    p.insert("lod".into(), b.lod.into());
                    p.insert(
                        "footprint_area_m2".into(),
                        round(b.footprint_area(), 1e-2).into(),
                    );
                    for (k, v) in &b.attributes {
                        let key = if p.contains_key(k) || k.starts_with("attr:") {
                            format!("attr:{k}")
                        } else {
                            k.clone()
                        };
                        p.insert(key, v.clone().into());
                    }
                    let geometry = match b.footprint.as_slice() {
                        [] => Value::Null,
                        [one] => json!({"type": "Polygon", "coordinates": coords.polygon(one)?}),
                        many => json!({"type": "MultiPolygon", "coordinates":
                            many.iter().map(|q| coords.polygon(q)).collect::<Result<Vec<_>>>()?}),
                    };
                    features.push(feature(p, geometry));
                }
            }
            Layer::Roads => {
                for l in &city.roads.links {
                    let node = |i: u32| {
                        city.roads
                            .nodes
                            .get(i as usize)
                            .map(|n| n.id)
                            .ok_or_else(|| {
                                Error::Invalid(format!("road link references missing node {i}"))
                            })
                    };
                    let mut p = base();
                    p.insert("from".into(), node(l.from)?.into());
                    p.insert("to".into(), node(l.to)?.into());
                    p.insert("way_id".into(), l.way_id.into());
                    p.insert("class".into(), l.class.as_str().into());
                    p.insert("lanes".into(), l.lanes.into());
                    p.insert("speed_kmh".into(), l.speed_kmh.into());
                    p.insert("capacity_veh_h".into(), l.capacity_veh_h.into());
                    p.insert("length_m".into(), mm(l.length_m).into());
                    put(&mut p, "name", l.name.clone());
                    p.insert("bridge".into(), l.bridge.into());
                    p.insert("tunnel".into(), l.tunnel.into());
                    let g = json!({"type": "LineString", "coordinates": coords.line(&l.geometry)?});
                    features.push(feature(p, g));
                }
            }
            Layer::Barriers => {
                for b in &city.barriers {
                    let mut p = base();
                    p.insert("id".into(), b.id.clone().into());
                    p.insert(
                        "kind".into(),
                        serde_json::to_value(b.kind).unwrap_or_default(),
                    );
                    p.insert("crest_z".into(), mm(b.crest_z).into());
                    let g = json!({"type": "LineString", "coordinates": coords.line(&b.line)?});
                    features.push(feature(p, g));
                }
            }
            Layer::Points => {
                for pt in &city.points {
                    let mut p = base();
                    p.insert("id".into(), pt.id.clone().into());
                    p.insert("name".into(), pt.name.clone().into());
                    p.insert(
                        "kind".into(),
                        serde_json::to_value(pt.kind).unwrap_or_default(),
                    );
                    put(&mut p, "capacity", pt.capacity);
                    let mut c = coords.pos([pt.x, pt.y])?;
                    if let (Some(z), Value::Array(a)) = (pt.z.filter(|z| z.is_finite()), &mut c) {
                        a.push(mm(z).into());
                    }
                    features.push(feature(p, json!({"type": "Point", "coordinates": c})));
                }
            }
            Layer::LandCover => {
                for z in &city.landcover {
                    let mut p = base();
                    p.insert("id".into(), z.id.clone().into());
                    p.insert("kind".into(), z.kind.as_str().into());
                    p.insert("manning_n".into(), z.manning_n.into());
                    let g = json!({"type": "Polygon", "coordinates": coords.polygon(&z.polygon)?});
                    features.push(feature(p, g));
                }
            }
        }
    }
    let epsg = if opts.wgs84 { 0 } else { city.epsg };
    Ok(feature_collection_text(&city.name, epsg, &features))
}

/// A FeatureCollection as text, one feature per line, with the legacy `crs` member naming
/// `epsg` (none for 0, i.e. RFC 7946 WGS84 or unknown).
pub fn feature_collection_text(name: &str, epsg: u32, features: &[Value]) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"name\":");
    out.push_str(&Value::from(name).to_string());
    if epsg != 0 {
        out.push_str(&format!(
            ",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{epsg}\"}}}}"
        ));
    }
    out.push_str(",\"features\":[");
    for (i, f) in features.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&f.to_string());
    }
    out.push_str("\n]}\n");
    out
}
