//! OpenStreetMap importer: the `highway` ways of an `.osm.pbf`, `.osm` XML or gzipped
//! `.osm.gz` file as a directed [`RoadGraph`], reprojected into a metric CRS.
//!
//! Ways are split into links at graph nodes (way ends and nodes shared by several ways or
//! visited twice by one way). A two-way street gives two links, a one-way street one.
//! Node references missing from the file (clipped extracts) split the way there; the
//! missing part is dropped and counted in [`OsmStats::missing_node_refs`].
//!
//! The format is detected from the content (gzip magic, `<` of XML, else PBF), not the name.

use crate::crs::{Crs, Transformer, utm_epsg_for};
use crate::error::{Error, Result};
use crate::geom::P2;
use crate::import::ImportOptions;
use crate::model::{City, HighwayClass, RoadGraph, RoadLink, RoadNode};
use quick_xml::events::{BytesStart, Event};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Counts of what the importer saw and kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OsmStats {
    /// Ways with a `highway` tag in the file.
    pub highway_ways: usize,
    /// Highway ways that gave at least one link (see [`RoadGraph::way_count`]).
    pub kept_ways: usize,
    /// Highway ways skipped: areas (`area=yes`), non-roads (platform, elevator, proposed,
    /// construction, raceway, bus_stop), unknown `highway` values, or no node in the file.
    pub skipped_ways: usize,
    /// Node references of highway ways whose node is not in the file.
    pub missing_node_refs: usize,
}

/// The road network of an OSM file.
#[derive(Debug, Clone)]
pub struct OsmRoads {
    /// EPSG code of the graph's coordinates.
    pub epsg: u32,
    /// The directed road graph.
    pub graph: RoadGraph,
    /// What was read, kept and dropped.
    pub stats: OsmStats,
}

/// Read an OSM file into a [`City`] holding only its roads: `epsg` set, `name` the file stem
/// (without `.osm`), `sources` the path (and a note when node references were missing).
pub fn read_path(path: &Path, opts: &ImportOptions) -> Result<City> {
    let roads = read(path, opts)?;
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("osm");
    let name = [".osm.pbf", ".osm.gz", ".osm", ".pbf", ".xml"]
        .iter()
        .find_map(|s| file.strip_suffix(s))
        .unwrap_or(file);
    let mut city = City::new(name, roads.epsg);
    city.roads = roads.graph;
    city.sources.push(path.display().to_string());
    if roads.stats.missing_node_refs > 0 {
        city.sources.push(format!(
            "osm: {} node references missing from the extract were dropped",
            roads.stats.missing_node_refs
        ));
    }
    Ok(city)
}

/// Read the road graph of an OSM file: (EPSG code of the coordinates, graph).
/// The CRS is `opts.target_epsg` or else the UTM zone of the data ([`utm_epsg_for`]).
pub fn read_roads(path: &Path, opts: &ImportOptions) -> Result<(u32, RoadGraph)> {
    let roads = read(path, opts)?;
    Ok((roads.epsg, roads.graph))
}

/// Read the road graph of an OSM file with import statistics.
pub fn read(path: &Path, opts: &ImportOptions) -> Result<OsmRoads> {
    let raw = read_raw(path)?;
    build(raw, path, opts)
}

/// Tag keys the importer uses.
const KEYS: &[&str] = &[
    "highway",
    "area",
    "oneway",
    "junction",
    "lanes",
    "lanes:forward",
    "lanes:backward",
    "maxspeed",
    "maxspeed:forward",
    "maxspeed:backward",
    "name",
    "bridge",
    "tunnel",
];

/// A highway way as read: id, node references and the tags in [`KEYS`].
#[derive(Debug, Default)]
struct RawWay {
    id: i64,
    refs: Vec<i64>,
    tags: Vec<(String, String)>,
}

impl RawWay {
    fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything the graph needs from a file: node positions (id, lon, lat) and highway ways.
#[derive(Debug, Default)]
struct RawData {
    nodes: Vec<(i64, f64, f64)>,
    ways: Vec<RawWay>,
}

fn read_raw(path: &Path) -> Result<RawData> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    let first = head
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    match (head.first(), head.get(1), first) {
        (None, _, _) => Err(Error::format(path, "byte 0", "empty file")),
        (Some(0x1f), Some(0x8b), _) => {
            let gz = BufReader::new(flate2::bufread::MultiGzDecoder::new(reader));
            read_xml(gz, path)
        }
        (_, _, Some(b'<')) => read_xml(reader, path),
        _ => read_pbf(reader, path),
    }
}

fn read_pbf<R: Read + Send>(reader: R, path: &Path) -> Result<RawData> {
    let mut raw = RawData::default();
    osmpbf::ElementReader::new(reader)
        .for_each(|el| match el {
            osmpbf::Element::Node(n) => raw.nodes.push((n.id(), n.lon(), n.lat())),
            osmpbf::Element::DenseNode(n) => raw.nodes.push((n.id(), n.lon(), n.lat())),
            osmpbf::Element::Way(w) => {
                let tags: Vec<(String, String)> = w
                    .tags()
                    .filter(|(k, _)| KEYS.contains(k))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                if tags.iter().any(|(k, _)| k == "highway") {
                    raw.ways.push(RawWay {
                        id: w.id(),
                        refs: w.refs().collect(),
                        tags,
                    });
                }
            }
            osmpbf::Element::Relation(_) => {}
        })
        .map_err(|e| Error::format(path, "PBF data", format!("not a valid OSM PBF file: {e}")))?;
    if raw.nodes.is_empty() && raw.ways.is_empty() {
        return Err(Error::format(path, "PBF data", "no OSM elements"));
    }
    Ok(raw)
}

fn read_xml<R: BufRead>(reader: R, path: &Path) -> Result<RawData> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut raw = RawData::default();
    let mut way: Option<RawWay> = None;
    let mut seen_root = false;
    loop {
        let pos = xml.buffer_position();
        let ev = xml.read_event_into(&mut buf).map_err(|e| {
            Error::format(
                path,
                format!("byte {}", xml.error_position()),
                e.to_string(),
            )
        })?;
        let at = |what: &str| format!("byte {pos}, {what}");
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) if e.name().as_ref() == b"way" => {
                if let Some(w) = way.take() {
                    finish_way(w, &mut raw);
                }
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        let name = e.name();
        if !seen_root {
            if name.as_ref() != b"osm" {
                let n = String::from_utf8_lossy(name.as_ref()).into_owned();
                return Err(Error::format(
                    path,
                    at(&format!("<{n}>")),
                    "not an OSM XML file (root element is not <osm>)",
                ));
            }
            seen_root = true;
        }
        match name.as_ref() {
            b"node" => {
                let id = int_attr(e, b"id", path, &at("<node>"))?;
                let loc = || at(&format!("node {id}"));
                let lat = float_attr(e, b"lat", path, &loc())?;
                let lon = float_attr(e, b"lon", path, &loc())?;
                if !(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
                {
                    return Err(Error::format(
                        path,
                        loc(),
                        format!("invalid position lat {lat}, lon {lon}"),
                    ));
                }
                raw.nodes.push((id, lon, lat));
            }
            b"way" => {
                let w = RawWay {
                    id: int_attr(e, b"id", path, &at("<way>"))?,
                    ..RawWay::default()
                };
                if empty {
                    finish_way(w, &mut raw);
                } else {
                    way = Some(w);
                }
            }
            b"nd" => {
                if let Some(w) = way.as_mut() {
                    let loc = at(&format!("way {}, <nd>", w.id));
                    w.refs.push(int_attr(e, b"ref", path, &loc)?);
                }
            }
            b"tag" => {
                if let Some(w) = way.as_mut() {
                    let loc = at(&format!("way {}, <tag>", w.id));
                    let k = str_attr(e, b"k", path, &loc)?;
                    if KEYS.contains(&k.as_str()) {
                        let v = str_attr(e, b"v", path, &loc)?;
                        w.tags.push((k, v));
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(Error::format(
            path,
            "end of file",
            "no <osm> element: empty or not OSM XML",
        ));
    }
    if way.is_some() {
        return Err(Error::format(
            path,
            "end of file",
            "truncated inside a <way>",
        ));
    }
    Ok(raw)
}

/// Keep a finished XML way if it is a highway.
fn finish_way(w: RawWay, raw: &mut RawData) {
    if w.tag("highway").is_some() {
        raw.ways.push(w);
    }
}

fn str_attr(e: &BytesStart, key: &[u8], path: &Path, loc: &str) -> Result<String> {
    for a in e.attributes() {
        let a = a.map_err(|err| Error::format(path, loc, err.to_string()))?;
        if a.key.as_ref() == key {
            return a
                .unescape_value()
                .map(|v| v.into_owned())
                .map_err(|err| Error::format(path, loc, err.to_string()));
        }
    }
    Err(Error::format(
        path,
        loc,
        format!("missing attribute `{}`", String::from_utf8_lossy(key)),
    ))
}

fn int_attr(e: &BytesStart, key: &[u8], path: &Path, loc: &str) -> Result<i64> {
    let s = str_attr(e, key, path, loc)?;
    s.trim().parse().map_err(|_| {
        let k = String::from_utf8_lossy(key);
        Error::format(
            path,
            loc,
            format!("attribute `{k}` is not an integer: {s:?}"),
        )
    })
}

fn float_attr(e: &BytesStart, key: &[u8], path: &Path, loc: &str) -> Result<f64> {
    let s = str_attr(e, key, path, loc)?;
    s.trim().parse().map_err(|_| {
        let k = String::from_utf8_lossy(key);
        Error::format(path, loc, format!("attribute `{k}` is not a number: {s:?}"))
    })
}

/// `highway` value to class; None for values that are not roads or paths.
fn highway_class(v: &str) -> Option<HighwayClass> {
    let base = v.strip_suffix("_link").unwrap_or(v);
    Some(match base {
        "motorway" => HighwayClass::Motorway,
        "trunk" => HighwayClass::Trunk,
        "primary" => HighwayClass::Primary,
        "secondary" => HighwayClass::Secondary,
        "tertiary" => HighwayClass::Tertiary,
        "unclassified" | "road" => HighwayClass::Unclassified,
        "residential" => HighwayClass::Residential,
        "service" => HighwayClass::Service,
        "living_street" => HighwayClass::LivingStreet,
        "track" => HighwayClass::Track,
        "footway" | "path" | "cycleway" | "pedestrian" | "steps" | "bridleway" | "corridor"
        | "trail" => HighwayClass::Path,
        _ => return None,
    })
}

/// Which directions a way may be travelled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Backward,
    Both,
}

fn direction(w: &RawWay, highway: &str) -> Direction {
    match w.tag("oneway") {
        Some("yes" | "true" | "1") => return Direction::Forward,
        Some("-1" | "reverse") => return Direction::Backward,
        Some("no" | "false" | "0") => return Direction::Both,
        _ => {}
    }
    let roundabout = matches!(w.tag("junction"), Some("roundabout" | "circular"));
    if roundabout || highway == "motorway" || highway == "motorway_link" {
        Direction::Forward
    } else {
        Direction::Both
    }
}

/// A lane count tag: the first of `;`-separated values, 1..=255.
fn parse_lanes(v: Option<&str>) -> Option<u8> {
    let n: u32 = v?.split(';').next()?.trim().parse().ok()?;
    (n >= 1).then(|| n.min(255) as u8)
}

/// Lanes in one direction (`forward`: along the way).
fn lanes(w: &RawWay, class: HighwayClass, dir: Direction, forward: bool) -> u8 {
    let (own, other) = if forward {
        ("lanes:forward", "lanes:backward")
    } else {
        ("lanes:backward", "lanes:forward")
    };
    if let Some(n) = parse_lanes(w.tag(own)) {
        return n;
    }
    match parse_lanes(w.tag("lanes")) {
        Some(n) if dir != Direction::Both => n,
        Some(n) => match parse_lanes(w.tag(other)) {
            Some(o) if o < n => n - o,
            _ => n.div_ceil(2).max(1),
        },
        None => class.default_lanes(),
    }
}

/// Parse a `maxspeed` value to km/h: numbers with optional unit (km/h, mph, knots), `none`,
/// `walk`, and implicit limits such as `DE:urban`, `DE:rural`, `DE:motorway`, `DE:zone30`,
/// `DE:zone:30`. Of `;`-separated values the first counts. None when not understood.
pub fn parse_maxspeed(value: &str) -> Option<f64> {
    let s = value.split(';').next()?.trim().to_ascii_lowercase();
    let implicit = match s.as_str() {
        "none" | "de:motorway" | "at:motorway" => Some(130.0),
        "walk" | "de:walk" => Some(7.0),
        "de:rural" | "at:rural" => Some(100.0),
        _ => None,
    };
    if implicit.is_some() {
        return implicit;
    }
    if let Some((_, rest)) = s.split_once(':') {
        if let Some(z) = rest.strip_prefix("zone") {
            return z
                .trim_start_matches(':')
                .parse()
                .ok()
                .filter(|v| *v > 0.0 && *v <= 300.0);
        }
        return match rest {
            "urban" => Some(50.0),
            "living_street" => Some(7.0),
            _ => None,
        };
    }
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let v: f64 = s[..end].parse().ok()?;
    let factor = match s[end..].trim() {
        "" | "km/h" | "kmh" | "kph" => 1.0,
        "mph" => 1.609_344,
        "knots" => 1.852,
        _ => return None,
    };
    let kmh = v * factor;
    (kmh > 0.0 && kmh <= 300.0).then_some(kmh)
}

/// A way piece between two graph nodes, in node indices of the sorted node table.
struct Segment<'a> {
    way: &'a RawWay,
    class: HighwayClass,
    dir: Direction,
    nodes: Vec<usize>,
}

fn build(mut raw: RawData, path: &Path, opts: &ImportOptions) -> Result<OsmRoads> {
    raw.nodes.sort_by_key(|n| n.0);
    raw.nodes.dedup_by_key(|n| n.0);
    raw.ways.sort_by_key(|w| w.id);
    raw.ways.dedup_by_key(|w| w.id);
    let mut stats = OsmStats {
        highway_ways: raw.ways.len(),
        ..OsmStats::default()
    };
    let lookup = |id: i64| raw.nodes.binary_search_by_key(&id, |n| n.0).ok();

    // Runs of consecutive nodes present in the file, per kept way.
    let mut pieces: Vec<(&RawWay, HighwayClass, Vec<usize>)> = Vec::new();
    for w in &raw.ways {
        let highway = w.tag("highway").unwrap_or_default();
        let non_road = matches!(
            highway,
            "proposed" | "construction" | "platform" | "raceway" | "bus_stop" | "elevator"
        );
        let class = highway_class(highway).filter(|_| !non_road && w.tag("area") != Some("yes"));
        let Some(class) = class else {
            stats.skipped_ways += 1;
            continue;
        };
        if w.refs.len() < 2 {
            return Err(Error::format(
                path,
                format!("way {}", w.id),
                format!(
                    "highway way references {} node(s); a way needs at least 2",
                    w.refs.len()
                ),
            ));
        }
        let before = pieces.len();
        let mut run: Vec<usize> = Vec::new();
        for &r in &w.refs {
            match lookup(r) {
                Some(i) => run.push(i),
                None => {
                    stats.missing_node_refs += 1;
                    if run.len() >= 2 {
                        pieces.push((w, class, std::mem::take(&mut run)));
                    }
                    run.clear();
                }
            }
        }
        if run.len() >= 2 {
            pieces.push((w, class, run));
        }
        if pieces.len() == before {
            stats.skipped_ways += 1;
        }
    }

    // Graph nodes: piece ends and nodes used more than once.
    let mut uses = vec![0u32; raw.nodes.len()];
    let mut is_graph = vec![false; raw.nodes.len()];
    for (_, _, p) in &pieces {
        for &i in p {
            uses[i] += 1;
        }
        for end in [p.first(), p.last()].into_iter().flatten() {
            is_graph[*end] = true;
        }
    }
    for (g, u) in is_graph.iter_mut().zip(&uses) {
        *g |= *u > 1;
    }

    // Check and project the used nodes.
    let used: Vec<usize> = (0..raw.nodes.len()).filter(|&i| uses[i] > 0).collect();
    let mut bounds = crate::geom::BBox2::EMPTY;
    for &i in &used {
        let (id, lon, lat) = raw.nodes[i];
        if !(lon.is_finite() && lat.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0) {
            return Err(Error::format(
                path,
                format!("node {id}"),
                format!("invalid position lat {lat}, lon {lon}"),
            ));
        }
        bounds.add([lon, lat]);
    }
    let epsg = match opts.target_epsg {
        Some(e) => e,
        None if used.is_empty() => 4326,
        None => utm_epsg_for(
            (bounds.min[0] + bounds.max[0]) / 2.0,
            (bounds.min[1] + bounds.max[1]) / 2.0,
        ),
    };
    let mut xy: Vec<P2> = used
        .iter()
        .map(|&i| [raw.nodes[i].1, raw.nodes[i].2])
        .collect();
    let target = Crs::from_epsg(epsg)?;
    if let Err(e) =
        Transformer::new(Crs::from_epsg(4326)?, target.clone()).transform_points(&mut xy)
    {
        // Name the first node that cannot be reprojected.
        let (id, lon, lat) = used
            .iter()
            .map(|&i| raw.nodes[i])
            .find(|n| target.from_wgs84(n.1, n.2).is_err())
            .unwrap_or((0, f64::NAN, f64::NAN));
        return Err(Error::format(
            path,
            format!("node {id}"),
            format!("cannot reproject lon {lon}, lat {lat} to EPSG:{epsg}: {e}"),
        ));
    }
    let mut node_xy = vec![[0.0; 2]; raw.nodes.len()];
    for (&i, p) in used.iter().zip(&xy) {
        node_xy[i] = *p;
    }
    let pos = |i: usize| node_xy[i];

    // Split pieces at graph nodes.
    let mut segments: Vec<Segment> = Vec::new();
    for (w, class, p) in &pieces {
        let dir = direction(w, w.tag("highway").unwrap_or_default());
        let mut start = 0;
        for k in 1..p.len() {
            if is_graph[p[k]] || k == p.len() - 1 {
                segments.push(Segment {
                    way: w,
                    class: *class,
                    dir,
                    nodes: p[start..=k].to_vec(),
                });
                start = k;
            }
        }
    }

    // Links, in (way id, position along the way, forward before backward) order.
    let mut links = Vec::new();
    let mut kept_ways: Vec<i64> = Vec::new();
    for s in &segments {
        let geometry: Vec<P2> = s.nodes.iter().map(|&i| pos(i)).collect();
        let length_m: f64 = geometry
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum();
        if let Some(b) = &opts.bbox {
            let [x, y] = point_along(&geometry, length_m / 2.0);
            if !(x >= b.min[0] && x <= b.max[0] && y >= b.min[1] && y <= b.max[1]) {
                continue;
            }
        }
        let w = s.way;
        let bridge = w.tag("bridge").is_some_and(|v| v != "no");
        let tunnel = w.tag("tunnel").is_some_and(|v| v != "no");
        let name = w.tag("name").map(str::to_string);
        for forward in [true, false] {
            let wanted = match s.dir {
                Direction::Both => true,
                Direction::Forward => forward,
                Direction::Backward => !forward,
            };
            if !wanted {
                continue;
            }
            let lanes = lanes(w, s.class, s.dir, forward);
            let key = if forward {
                "maxspeed:forward"
            } else {
                "maxspeed:backward"
            };
            let speed_kmh = w
                .tag(key)
                .or(w.tag("maxspeed"))
                .and_then(parse_maxspeed)
                .unwrap_or(s.class.default_speed_kmh());
            let (a, b) = (s.nodes[0], s.nodes[s.nodes.len() - 1]);
            let (from, to, geometry) = if forward {
                (a, b, geometry.clone())
            } else {
                (b, a, geometry.iter().rev().copied().collect())
            };
            links.push((
                from,
                to,
                RoadLink {
                    from: 0,
                    to: 0,
                    way_id: w.id,
                    class: s.class,
                    lanes,
                    speed_kmh,
                    capacity_veh_h: f64::from(lanes) * s.class.default_capacity_per_lane(),
                    length_m,
                    name: name.clone(),
                    bridge,
                    tunnel,
                    geometry,
                },
            ));
        }
        if kept_ways.last() != Some(&w.id) {
            kept_ways.push(w.id);
        }
    }
    stats.kept_ways = kept_ways.len();

    // Nodes sorted by OSM id (node table order), only those links use.
    let mut graph_nodes: Vec<usize> = links.iter().flat_map(|l| [l.0, l.1]).collect();
    graph_nodes.sort_unstable();
    graph_nodes.dedup();
    let index = |i: usize| graph_nodes.binary_search(&i).map_or(0, |k| k as u32);
    let graph = RoadGraph {
        nodes: graph_nodes
            .iter()
            .map(|&i| {
                let [x, y] = pos(i);
                RoadNode {
                    id: raw.nodes[i].0,
                    x,
                    y,
                }
            })
            .collect(),
        links: links
            .into_iter()
            .map(|(from, to, mut l)| {
                l.from = index(from);
                l.to = index(to);
                l
            })
            .collect(),
    };
    Ok(OsmRoads { epsg, graph, stats })
}

/// The point at distance `d` along a polyline.
fn point_along(line: &[P2], d: f64) -> P2 {
    let mut left = d;
    for w in line.windows(2) {
        let len = (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
        if len > 0.0 && left <= len {
            let t = left / len;
            return [
                w[0][0] + t * (w[1][0] - w[0][0]),
                w[0][1] + t * (w[1][1] - w[0][1]),
            ];
        }
        left -= len;
    }
    line.last().copied().unwrap_or([0.0, 0.0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn data(name: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/osm/"
        ))
        .join(name)
    }

    /// Write `content` to a temporary file with the given name.
    fn temp(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        (dir, p)
    }

    /// Reference figures of one file from an independent Python implementation of the same
    /// rules (pyosmium + pyproj): `tests/data/osm_reference.py FILE EPSG`.
    struct Reference {
        file: &'static str,
        epsg: u32,
        stats: OsmStats,
        links: usize,
        nodes: usize,
        km: f64,
    }

    const fn stats(highway_ways: usize, kept_ways: usize, missing_node_refs: usize) -> OsmStats {
        OsmStats {
            highway_ways,
            kept_ways,
            skipped_ways: highway_ways - kept_ways,
            missing_node_refs,
        }
    }

    const REFERENCE: &[Reference] = &[
        Reference {
            file: "hamburg-hafen-ferry.osm.pbf",
            epsg: 25832,
            stats: stats(357, 349, 0),
            links: 890,
            nodes: 417,
            km: 22.5759,
        },
        Reference {
            file: "helsinki.osm.pbf",
            epsg: 25835,
            stats: stats(2650, 2467, 755),
            links: 8611,
            nodes: 3595,
            km: 170.9397,
        },
        // The data README's 2,122 counts all elements with a highway tag (57 nodes and
        // 9 relations too); the file has 2,056 highway ways.
        Reference {
            file: "north-bayreuth.osm.gz",
            epsg: 25832,
            stats: stats(2056, 2056, 0),
            links: 7275,
            nodes: 2906,
            km: 1152.4060,
        },
    ];

    fn check_graph(g: &RoadGraph) {
        assert!(
            g.nodes.windows(2).all(|w| w[0].id < w[1].id),
            "nodes sorted"
        );
        assert!(
            g.links.windows(2).all(|w| w[0].way_id <= w[1].way_id),
            "links sorted"
        );
        for l in &g.links {
            let (a, b) = (g.nodes[l.from as usize], g.nodes[l.to as usize]);
            assert_eq!(l.geometry.first(), Some(&[a.x, a.y]));
            assert_eq!(l.geometry.last(), Some(&[b.x, b.y]));
            assert!(l.length_m.is_finite() && l.length_m >= 0.0);
            assert!(l.lanes >= 1 && l.speed_kmh > 0.0);
        }
    }

    #[test]
    fn real_files_match_the_independent_reference() {
        for want in REFERENCE {
            let file = want.file;
            let r = read(&data(file), &ImportOptions::default()).unwrap();
            assert_eq!(r.epsg, want.epsg, "{file}");
            assert_eq!(r.stats, want.stats, "{file}");
            assert_eq!(r.graph.way_count(), want.stats.kept_ways, "{file}");
            assert_eq!(r.graph.links.len(), want.links, "{file}");
            assert_eq!(r.graph.nodes.len(), want.nodes, "{file}");
            let total = r.graph.total_length_km();
            assert!(
                (total - want.km).abs() < want.km * 0.005,
                "{file}: {total} km"
            );
            eprintln!("{file}: {total:.4} km (reference {} km)", want.km);
            check_graph(&r.graph);
        }
    }

    #[test]
    fn hamburg_vorsetzen_has_oneways_speeds_names_and_bridges() {
        let city = read_path(
            &data("hamburg-hafen-ferry.osm.pbf"),
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(city.name, "hamburg-hafen-ferry");
        assert_eq!(city.epsg, 25832);
        assert_eq!(city.sources.len(), 1);
        let g = &city.roads;
        let b = city.bbox();
        // Landungsbrücken / Vorsetzen in UTM 32 (pyproj: E 564069..565016, N 5932590..5933878).
        assert!(b.min[0] > 564_000.0 && b.max[0] < 565_100.0, "{b:?}");
        assert!(b.min[1] > 5_932_500.0 && b.max[1] < 5_934_000.0, "{b:?}");
        let oneway = g
            .links
            .iter()
            .filter(|l| {
                !g.links
                    .iter()
                    .any(|m| m.way_id == l.way_id && m.from == l.to && m.to == l.from)
            })
            .count();
        assert!(oneway > 10, "{oneway}");
        assert!(
            g.links
                .iter()
                .any(|l| l.name.as_deref() == Some("Vorsetzen"))
        );
        assert!(g.links.iter().filter(|l| l.bridge).count() > 10);
        assert!(g.links.iter().any(|l| l.tunnel));
        let secondary: Vec<_> = g
            .links
            .iter()
            .filter(|l| l.class == HighwayClass::Secondary)
            .collect();
        assert!(!secondary.is_empty());
        assert!(
            secondary
                .iter()
                .all(|l| l.capacity_veh_h == f64::from(l.lanes) * 1200.0)
        );
        assert!(g.links.iter().any(|l| l.class == HighwayClass::Path));
    }

    #[test]
    fn target_crs_bbox_and_determinism() {
        let path = data("hamburg-hafen-ferry.osm.pbf");
        let a = read_roads(&path, &ImportOptions::default()).unwrap();
        let b = read_roads(&path, &ImportOptions::default()).unwrap();
        assert_eq!(a, b);
        let opts = ImportOptions {
            target_epsg: Some(3857),
            ..ImportOptions::default()
        };
        let (epsg, wm) = read_roads(&path, &opts).unwrap();
        assert_eq!(epsg, 3857);
        assert_eq!(wm.links.len(), a.1.links.len());
        // Web Mercator stretches lengths by 1/cos(53.54°) ≈ 1.68.
        let ratio = wm.total_length_km() / a.1.total_length_km();
        assert!((ratio - 1.68).abs() < 0.02, "{ratio}");
        let opts = ImportOptions {
            bbox: Some(crate::geom::BBox2 {
                min: [564_500.0, 5_933_000.0],
                max: [565_100.0, 5_934_000.0],
            }),
            ..ImportOptions::default()
        };
        let (_, part) = read_roads(&path, &opts).unwrap();
        assert!(!part.links.is_empty() && part.links.len() < a.1.links.len());
        check_graph(&part);
    }

    const FIXTURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="53.5400" lon="9.9700"/>
  <node id="2" lat="53.5410" lon="9.9700"/>
  <node id="3" lat="53.5420" lon="9.9700"/>
  <node id="4" lat="53.5410" lon="9.9720"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/><tag k="lanes" v="3"/><tag k="lanes:forward" v="2"/>
    <tag k="maxspeed" v="30 mph"/><tag k="name" v="A &amp; B"/><tag k="bridge" v="yes"/>
  </way>
  <way id="11">
    <nd ref="2"/><nd ref="4"/><nd ref="99"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="-1"/><tag k="tunnel" v="no"/>
  </way>
  <way id="12"><nd ref="1"/><nd ref="4"/><tag k="highway" v="platform"/></way>
  <way id="13"><nd ref="3"/><nd ref="4"/><tag k="building" v="yes"/></way>
</osm>
"#;

    #[test]
    fn small_file_splits_directs_and_tags_links() {
        let (_d, p) = temp("fixture.osm", FIXTURE.as_bytes());
        let r = read(&p, &ImportOptions::default()).unwrap();
        assert_eq!(r.epsg, 25832);
        assert_eq!(
            r.stats,
            OsmStats {
                highway_ways: 3,
                kept_ways: 2,
                skipped_ways: 1,
                missing_node_refs: 1,
            }
        );
        let g = &r.graph;
        assert_eq!(
            g.nodes.iter().map(|n| n.id).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        let summary: Vec<(i64, i64, i64, u8)> = g
            .links
            .iter()
            .map(|l| {
                (
                    l.way_id,
                    g.nodes[l.from as usize].id,
                    g.nodes[l.to as usize].id,
                    l.lanes,
                )
            })
            .collect();
        // Way 10 is split at node 2 (shared with way 11); way 11 is one-way backwards and
        // ends where node 99 is missing.
        assert_eq!(
            summary,
            [
                (10, 1, 2, 2),
                (10, 2, 1, 1),
                (10, 2, 3, 2),
                (10, 3, 2, 1),
                (11, 4, 2, 1)
            ]
        );
        let l = &g.links[0];
        assert!((l.speed_kmh - 48.28).abs() < 0.01);
        assert_eq!(l.name.as_deref(), Some("A & B"));
        assert!(l.bridge && !l.tunnel);
        assert_eq!(l.capacity_veh_h, 3000.0);
        // 0.001° of latitude ≈ 111.3 m (times the UTM scale near the zone's centre).
        assert!((l.length_m - 111.3).abs() < 0.5, "{}", l.length_m);
        assert!(!g.links[4].bridge && !g.links[4].tunnel);
        assert_eq!(g.links[4].speed_kmh, 30.0);
        let city = read_path(&p, &ImportOptions::default()).unwrap();
        assert_eq!(city.name, "fixture");
        assert!(city.sources[1].contains("1 node references missing"));
    }

    #[test]
    fn maxspeed_values() {
        for (v, want) in [
            ("50", Some(50.0)),
            ("30 mph", Some(48.28032)),
            ("DE:urban", Some(50.0)),
            ("DE:rural", Some(100.0)),
            ("DE:motorway", Some(130.0)),
            ("none", Some(130.0)),
            ("walk", Some(7.0)),
            ("DE:zone30", Some(30.0)),
            ("DE:zone:30", Some(30.0)),
            ("50;30", Some(50.0)),
            ("60 km/h", Some(60.0)),
            ("signals", None),
            ("DE:zone:inf", None),
            ("inf", None),
            ("NaN", None),
            ("fast", None),
            ("0", None),
            ("-5", None),
            ("", None),
        ] {
            let got = parse_maxspeed(v);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-3, "{v}: {g}"),
                (g, w) => assert_eq!(g, w, "{v}"),
            }
        }
    }

    #[test]
    fn class_direction_and_lanes_rules() {
        assert_eq!(highway_class("motorway_link"), Some(HighwayClass::Motorway));
        assert_eq!(highway_class("road"), Some(HighwayClass::Unclassified));
        assert_eq!(highway_class("steps"), Some(HighwayClass::Path));
        assert_eq!(highway_class("bus_stop"), None);
        let way = |tags: &[(&str, &str)]| RawWay {
            id: 1,
            refs: vec![1, 2],
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        assert_eq!(direction(&way(&[]), "motorway"), Direction::Forward);
        assert_eq!(
            direction(&way(&[("oneway", "no")]), "motorway_link"),
            Direction::Both
        );
        assert_eq!(
            direction(&way(&[("junction", "roundabout")]), "primary"),
            Direction::Forward
        );
        assert_eq!(
            direction(&way(&[("oneway", "reverse")]), "primary"),
            Direction::Backward
        );
        assert_eq!(
            direction(&way(&[("oneway", "true")]), "service"),
            Direction::Forward
        );
        let w = way(&[("lanes", "4")]);
        assert_eq!(lanes(&w, HighwayClass::Primary, Direction::Both, true), 2);
        assert_eq!(
            lanes(&w, HighwayClass::Primary, Direction::Forward, true),
            4
        );
        let w = way(&[("lanes", "1")]);
        assert_eq!(
            lanes(&w, HighwayClass::Residential, Direction::Both, false),
            1
        );
        let w = way(&[("lanes", "x")]);
        assert_eq!(lanes(&w, HighwayClass::Trunk, Direction::Both, true), 2);
    }

    fn error_of(name: &str, content: &[u8]) -> String {
        let (_d, p) = temp(name, content);
        let e = read(&p, &ImportOptions::default()).unwrap_err();
        let s = e.to_string();
        eprintln!("{s}");
        assert!(matches!(e, Error::Format { .. }), "{s}");
        assert!(s.contains(name), "error names the file: {s}");
        s
    }

    #[test]
    fn bad_input_gives_clear_errors() {
        let pbf = std::fs::read(data("hamburg-hafen-ferry.osm.pbf")).unwrap();
        let s = error_of("cut.osm.pbf", &pbf[..pbf.len() / 2]);
        assert!(s.contains("PBF"), "{s}");
        let s = error_of(
            "garbage.osm.pbf",
            &[0x00, 0x00, 0x00, 0x0d, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3],
        );
        assert!(s.contains("PBF"), "{s}");
        let s = error_of("empty.osm.pbf", b"");
        assert!(s.contains("empty"), "{s}");
        let s = error_of(
            "noref.osm",
            br#"<osm><node id="1" lat="1" lon="1"/><way id="7"><tag k="highway" v="residential"/></way></osm>"#,
        );
        assert!(s.contains("way 7") && s.contains("0 node"), "{s}");
        let s = error_of(
            "nan.osm",
            br#"<osm><node id="5" lat="NaN" lon="9.9"/></osm>"#,
        );
        assert!(s.contains("node 5") && s.contains("NaN"), "{s}");
        let s = error_of("html.osm", b"<html><body/></html>");
        assert!(s.contains("<osm>"), "{s}");
        let s = error_of("cut.osm", &FIXTURE.as_bytes()[..300]);
        assert!(s.contains("truncated") || s.contains("byte"), "{s}");
        let s = error_of(
            "broken.osm",
            br#"<osm><node id="1" lat="1" lon="1"></way></osm>"#,
        );
        assert!(s.contains("byte"), "{s}");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, FIXTURE.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let s = error_of("cut.osm.gz", &gz[..gz.len() - 20]);
        assert!(s.contains("byte") || s.contains("truncated"), "{s}");
        let s = error_of(
            "far.osm",
            br#"<osm><node id="1" lat="10" lon="200"/></osm>"#,
        );
        assert!(s.contains("node 1"), "{s}");
    }
}
