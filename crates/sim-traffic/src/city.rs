//! Networks from the city model: the OSM or generated [`RoadGraph`] as a [`Network`] with
//! zone centroids and connectors, strongly connected components, nearest-node search, and
//! the selection of links by way id, name or polygon (closures, capacity changes).

use crate::error::TrafficError;
use crate::network::{LinkSpec, Network};
use twin_core::geom::{P2, Polygon};
use twin_core::model::{HighwayClass, RoadGraph};

/// `road_link` value of a zone connector.
pub const CONNECTOR: u32 = u32::MAX;

/// How a road graph becomes a network.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkOptions {
    /// Road classes that carry cars (tracks and paths are left out by default).
    pub classes: Vec<HighwayClass>,
    /// BPR parameters of every road link.
    pub bpr_b: f64,
    pub bpr_power: f64,
    /// Connectors from each zone centroid to this many nearest road nodes (in the largest
    /// strongly connected component).
    pub connectors_per_zone: usize,
    /// Speed on connectors (km/h), over the straight-line distance.
    pub connector_speed_kmh: f64,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            classes: HighwayClass::ALL
                .into_iter()
                .filter(|c| !matches!(c, HighwayClass::Track | HighwayClass::Path))
                .collect(),
            bpr_b: 0.15,
            bpr_power: 4.0,
            connectors_per_zone: 2,
            connector_speed_kmh: 20.0,
        }
    }
}

/// A network built from a road graph. Node numbering: zones first (`0..zone_count`), then
/// the road nodes that carry drivable links. Lengths are metres.
#[derive(Debug, Clone, PartialEq)]
pub struct CityNetwork {
    pub net: Network,
    /// Per network link: the road graph link it came from, or [`CONNECTOR`].
    pub road_link: Vec<u32>,
    /// Per network node: the road graph node, or `u32::MAX` for a zone.
    pub road_node: Vec<u32>,
    /// Network node of each road graph node (`u32::MAX` when it carries no drivable link).
    pub node_of_road_node: Vec<u32>,
    pub zone_count: usize,
    /// Nodes in the largest strongly connected component of the road links.
    pub in_main_component: Vec<bool>,
}

impl CityNetwork {
    /// The road network alone, without zones.
    pub fn new(roads: &RoadGraph, opts: &NetworkOptions) -> Result<CityNetwork, TrafficError> {
        CityNetwork::with_zones(roads, &[], opts)
    }

    /// Road links of the drivable classes plus zone centroid nodes with connectors both ways
    /// to the nearest nodes of the largest strongly connected component.
    pub fn with_zones(
        roads: &RoadGraph,
        zones: &[P2],
        opts: &NetworkOptions,
    ) -> Result<CityNetwork, TrafficError> {
        if !(opts.connector_speed_kmh.is_finite() && opts.connector_speed_kmh > 0.0) {
            return Err(TrafficError::Param {
                name: "connector_speed_kmh",
                value: opts.connector_speed_kmh.to_string(),
                expected: "a positive speed",
            });
        }
        let keep: Vec<usize> = (0..roads.links.len())
            .filter(|&i| {
                let l = &roads.links[i];
                opts.classes.contains(&l.class)
                    && l.from != l.to
                    && (l.from as usize) < roads.nodes.len()
                    && (l.to as usize) < roads.nodes.len()
            })
            .collect();
        let nz = zones.len();
        let mut node_of = vec![u32::MAX; roads.nodes.len()];
        let mut road_node = vec![u32::MAX; nz];
        let mut xy: Vec<[f64; 2]> = zones.to_vec();
        for &i in &keep {
            let l = &roads.links[i];
            for n in [l.from, l.to] {
                if node_of[n as usize] == u32::MAX {
                    node_of[n as usize] = (road_node.len() - nz) as u32;
                    road_node.push(n);
                    let p = &roads.nodes[n as usize];
                    xy.push([p.x, p.y]);
                }
            }
        }
        let mut specs = Vec::with_capacity(keep.len() + 4 * nz);
        let mut road_link = Vec::with_capacity(specs.capacity());
        for &i in &keep {
            let l = &roads.links[i];
            let bad = |what: String| {
                TrafficError::Invalid(format!("road link {i} (way {}): {what}", l.way_id))
            };
            if !(l.speed_kmh.is_finite() && l.speed_kmh > 0.0) {
                return Err(bad(format!("speed {} km/h must be positive", l.speed_kmh)));
            }
            if !(l.length_m.is_finite() && l.length_m >= 0.0) {
                return Err(bad(format!("length {} m", l.length_m)));
            }
            let lanes = f64::from(l.lanes.max(1));
            let capacity = if l.capacity_veh_h.is_finite() && l.capacity_veh_h > 0.0 {
                l.capacity_veh_h
            } else {
                l.class.default_capacity_per_lane() * lanes
            };
            specs.push(LinkSpec {
                from: node_of[l.from as usize] + nz as u32,
                to: node_of[l.to as usize] + nz as u32,
                capacity,
                length: l.length_m,
                free_flow_time: l.length_m / 1000.0 / l.speed_kmh * 60.0,
                b: opts.bpr_b,
                power: opts.bpr_power,
                toll: 0.0,
                link_type: class_code(l.class),
                lanes,
            });
            road_link.push(i as u32);
        }
        for v in node_of.iter_mut().filter(|v| **v != u32::MAX) {
            *v += nz as u32;
        }
        let node_count = road_node.len();
        // Largest strongly connected component of the road links alone.
        let roads_only = Network::new(node_count, nz as u32, &specs)?;
        let comp = largest_scc(&roads_only);
        if nz > 0 {
            let candidates: Vec<u32> = (nz as u32..node_count as u32)
                .filter(|&n| comp[n as usize])
                .collect();
            if candidates.is_empty() {
                return Err(TrafficError::Invalid(
                    "the road network has no strongly connected part to attach zones to".into(),
                ));
            }
            let grid = NodeGrid::new(&xy, &candidates);
            for (z, p) in zones.iter().enumerate() {
                for n in grid.nearest_k(&xy, *p, opts.connectors_per_zone.max(1)) {
                    let q = xy[n as usize];
                    let d = (q[0] - p[0]).hypot(q[1] - p[1]);
                    let t = d / 1000.0 / opts.connector_speed_kmh * 60.0;
                    for (a, b) in [(z as u32, n), (n, z as u32)] {
                        let mut s = LinkSpec::bpr(a, b, 1.0e6, d, t);
                        s.b = 0.0;
                        s.link_type = 0;
                        s.lanes = 10.0;
                        specs.push(s);
                        road_link.push(CONNECTOR);
                    }
                }
            }
        }
        let mut net = Network::new(node_count, nz as u32, &specs)?;
        net.node_xy = xy;
        let mut in_main = comp;
        for v in in_main.iter_mut().take(nz) {
            *v = false;
        }
        Ok(CityNetwork {
            net,
            road_link,
            road_node,
            node_of_road_node: node_of,
            zone_count: nz,
            in_main_component: in_main,
        })
    }

    /// Network links that come from the given road graph links.
    pub fn links_of_road_links(&self, road_links: &[u32]) -> Vec<u32> {
        let max = road_links
            .iter()
            .copied()
            .max()
            .map_or(0, |m| m as usize + 1);
        let mut sel = vec![false; max];
        for &r in road_links {
            sel[r as usize] = true;
        }
        (0..self.road_link.len() as u32)
            .filter(|&l| {
                let r = self.road_link[l as usize];
                r != CONNECTOR && (r as usize) < sel.len() && sel[r as usize]
            })
            .collect()
    }

    /// The nearest node (of those where `eligible` is true) to each point.
    pub fn nearest_nodes(&self, points: &[P2], eligible: &[bool]) -> Vec<Option<u32>> {
        let candidates: Vec<u32> = (0..self.net.node_count as u32)
            .filter(|&n| eligible[n as usize])
            .collect();
        if candidates.is_empty() {
            return vec![None; points.len()];
        }
        let grid = NodeGrid::new(&self.net.node_xy, &candidates);
        points
            .iter()
            .map(|p| grid.nearest_k(&self.net.node_xy, *p, 1).first().copied())
            .collect()
    }
}

/// A small integer code per road class (the `link_type` column): 1 motorway … 11 path.
pub fn class_code(c: HighwayClass) -> u8 {
    HighwayClass::ALL
        .iter()
        .position(|&k| k == c)
        .map_or(99, |i| i as u8 + 1)
}

/// Which nodes belong to the largest strongly connected component (iterative Tarjan; ties
/// between equal sizes go to the component with the smallest node). Zones are never passed
/// through, so they are left out of every component.
pub fn largest_scc(net: &Network) -> Vec<bool> {
    let n = net.node_count;
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp = vec![u32::MAX; n];
    let mut ncomp = 0u32;
    let mut sizes: Vec<(usize, u32)> = Vec::new();
    let mut next = 0u32;
    // Call stack: (node, position in its out-links).
    let mut call: Vec<(u32, usize)> = Vec::new();
    for s in net.first_thru_node..n as u32 {
        if index[s as usize] != u32::MAX {
            continue;
        }
        call.push((s, 0));
        index[s as usize] = next;
        low[s as usize] = next;
        next += 1;
        stack.push(s);
        on_stack[s as usize] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            let out = net.out_of(v);
            if *pos < out.len() {
                let w = net.to[out[*pos] as usize];
                *pos += 1;
                if !net.is_thru(w) {
                    continue;
                }
                if index[w as usize] == u32::MAX {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u as usize] = low[u as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    let mut size = 0usize;
                    let mut min_node = u32::MAX;
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = ncomp;
                        size += 1;
                        min_node = min_node.min(w);
                        if w == v {
                            break;
                        }
                    }
                    sizes.push((size, min_node));
                    ncomp += 1;
                }
            }
        }
    }
    let best = sizes
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(i, _)| i as u32);
    comp.iter().map(|&c| Some(c) == best).collect()
}

/// Uniform grid over node positions for nearest-node queries.
struct NodeGrid {
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl NodeGrid {
    fn new(xy: &[[f64; 2]], nodes: &[u32]) -> NodeGrid {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &n in nodes {
            let p = xy[n as usize];
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        let area = ((x1 - x0) * (y1 - y0)).max(1.0);
        let cell = (area / nodes.len().max(1) as f64).sqrt().max(1.0) * 2.0;
        let nx = (((x1 - x0) / cell).floor() as usize + 1).min(4096);
        let ny = (((y1 - y0) / cell).floor() as usize + 1).min(4096);
        let key = |p: [f64; 2]| -> usize {
            let i = (((p[0] - x0) / cell).floor().max(0.0) as usize).min(nx - 1);
            let j = (((p[1] - y0) / cell).floor().max(0.0) as usize).min(ny - 1);
            j * nx + i
        };
        let mut start = vec![0u32; nx * ny + 1];
        for &n in nodes {
            start[key(xy[n as usize]) + 1] += 1;
        }
        for i in 0..nx * ny {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; nodes.len()];
        for &n in nodes {
            let k = key(xy[n as usize]);
            items[fill[k] as usize] = n;
            fill[k] += 1;
        }
        NodeGrid {
            x0,
            y0,
            cell,
            nx,
            ny,
            start,
            items,
        }
    }

    /// The `k` nearest nodes to `p`, nearest first (ties by node index).
    fn nearest_k(&self, xy: &[[f64; 2]], p: P2, k: usize) -> Vec<u32> {
        let ci = ((p[0] - self.x0) / self.cell).floor();
        let cj = ((p[1] - self.y0) / self.cell).floor();
        let mut best: Vec<(f64, u32)> = Vec::new();
        let maxr = self.nx.max(self.ny) as i64 + 1;
        for r in 0..=maxr {
            // Ring r of cells around (ci, cj).
            for dj in -r..=r {
                for di in -r..=r {
                    if di.abs() != r && dj.abs() != r {
                        continue;
                    }
                    let i = ci as i64 + di;
                    let j = cj as i64 + dj;
                    if i < 0 || j < 0 || i >= self.nx as i64 || j >= self.ny as i64 {
                        continue;
                    }
                    let c = j as usize * self.nx + i as usize;
                    for &n in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                        let q = xy[n as usize];
                        best.push(((q[0] - p[0]).hypot(q[1] - p[1]), n));
                    }
                }
            }
            best.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            best.truncate(k);
            // Every node outside ring r is at least r * cell away from p's cell border.
            if best.len() == k && best[k - 1].0 <= r as f64 * self.cell {
                break;
            }
        }
        best.into_iter().map(|(_, n)| n).collect()
    }
}

/// Which road links a selection names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkSelection {
    pub way_ids: Vec<i64>,
    /// Street names, compared case-insensitively.
    pub names: Vec<String>,
    /// Links with any part inside the polygon.
    pub polygon: Option<Polygon>,
}

impl LinkSelection {
    pub fn is_empty(&self) -> bool {
        self.way_ids.is_empty() && self.names.is_empty() && self.polygon.is_none()
    }
}

/// Road graph links selected by way id, name or polygon, ascending.
pub fn select_road_links(roads: &RoadGraph, sel: &LinkSelection) -> Vec<u32> {
    let names: Vec<String> = sel.names.iter().map(|n| n.to_lowercase()).collect();
    (0..roads.links.len() as u32)
        .filter(|&i| {
            let l = &roads.links[i as usize];
            sel.way_ids.contains(&l.way_id)
                || l.name
                    .as_ref()
                    .is_some_and(|n| names.contains(&n.to_lowercase()))
                || sel
                    .polygon
                    .as_ref()
                    .is_some_and(|poly| polyline_touches(&l.geometry, poly))
        })
        .collect()
}

/// Whether a polyline has a vertex inside the polygon or crosses its outline.
pub fn polyline_touches(line: &[P2], poly: &Polygon) -> bool {
    if line.iter().any(|&p| poly.contains(p)) {
        return true;
    }
    let rings = std::iter::once(&poly.exterior).chain(poly.interiors.iter());
    for ring in rings {
        let m = ring.len();
        for k in 0..m {
            let (c, d) = (ring[k], ring[(k + 1) % m]);
            for w in line.windows(2) {
                if segments_cross(w[0], w[1], c, d) {
                    return true;
                }
            }
        }
    }
    false
}

fn segments_cross(a: P2, b: P2, c: P2, d: P2) -> bool {
    let o = |p: P2, q: P2, r: P2| (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
    let (d1, d2, d3, d4) = (o(c, d, a), o(c, d, b), o(a, b, c), o(a, b, d));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use twin_core::model::{RoadLink, RoadNode};

    fn grid_roads(n: usize, spacing: f64) -> RoadGraph {
        let mut g = RoadGraph::default();
        for j in 0..n {
            for i in 0..n {
                g.nodes.push(RoadNode {
                    id: (j * n + i) as i64,
                    x: i as f64 * spacing,
                    y: j as f64 * spacing,
                });
            }
        }
        let mut way = 0;
        let mut add = |g: &mut RoadGraph, a: usize, b: usize, name: &str| {
            for (f, t) in [(a, b), (b, a)] {
                let (p, q) = (&g.nodes[f], &g.nodes[t]);
                let geometry = vec![[p.x, p.y], [q.x, q.y]];
                g.links.push(RoadLink {
                    from: f as u32,
                    to: t as u32,
                    way_id: way,
                    class: HighwayClass::Residential,
                    lanes: 1,
                    speed_kmh: 30.0,
                    capacity_veh_h: 600.0,
                    length_m: spacing,
                    name: Some(name.into()),
                    bridge: false,
                    tunnel: false,
                    geometry,
                });
            }
            way += 1;
        };
        for j in 0..n {
            for i in 0..n {
                if i + 1 < n {
                    add(&mut g, j * n + i, j * n + i + 1, &format!("Row {j}"));
                }
                if j + 1 < n {
                    add(&mut g, j * n + i, (j + 1) * n + i, &format!("Col {i}"));
                }
            }
        }
        g
    }

    #[test]
    fn grid_network_with_zones() {
        let roads = grid_roads(4, 100.0);
        let cn = CityNetwork::with_zones(
            &roads,
            &[[10.0, 10.0], [290.0, 290.0]],
            &NetworkOptions::default(),
        )
        .unwrap();
        assert_eq!(cn.zone_count, 2);
        assert_eq!(cn.net.node_count, 18);
        assert_eq!(cn.net.first_thru_node, 2);
        // 24 streets both ways + 2 zones × 2 connectors × 2 directions.
        assert_eq!(cn.net.link_count(), 48 + 8);
        // Free-flow time: 100 m at 30 km/h = 0.2 min.
        assert!((cn.net.free_flow_time[0] - 0.2).abs() < 1e-12);
        // Zone 0 connects to the corner node (0, 0) first.
        let first = cn.net.out_of(0)[0] as usize;
        assert_eq!(cn.road_node[cn.net.to[first] as usize], 0);
        assert!(cn.in_main_component[2..].iter().all(|&b| b));
    }

    #[test]
    fn scc_finds_the_strong_part() {
        // 0 <-> 1 <-> 2, 2 -> 3 (3 is a dead end), 4 isolated.
        let l = |a, b| LinkSpec::bpr(a, b, 1.0, 1.0, 1.0);
        let net = Network::new(5, 0, &[l(0, 1), l(1, 0), l(1, 2), l(2, 1), l(2, 3)]).unwrap();
        assert_eq!(largest_scc(&net), vec![true, true, true, false, false]);
    }

    #[test]
    fn selections() {
        let roads = grid_roads(3, 100.0);
        let by_name = select_road_links(
            &roads,
            &LinkSelection {
                names: vec!["row 0".into()],
                ..Default::default()
            },
        );
        assert_eq!(by_name.len(), 4);
        let poly = Polygon::new(vec![
            [40.0, -10.0],
            [60.0, -10.0],
            [60.0, 10.0],
            [40.0, 10.0],
        ]);
        let by_poly = select_road_links(
            &roads,
            &LinkSelection {
                polygon: Some(poly),
                ..Default::default()
            },
        );
        // Only the street (0,0)-(1,0) crosses the small box, both directions.
        assert_eq!(by_poly.len(), 2);
        let by_way = select_road_links(
            &roads,
            &LinkSelection {
                way_ids: vec![0],
                ..Default::default()
            },
        );
        assert_eq!(by_way, by_poly);
    }

    #[test]
    fn nearest_nodes_are_exact() {
        let roads = grid_roads(10, 50.0);
        let cn = CityNetwork::new(&roads, &NetworkOptions::default()).unwrap();
        let all = vec![true; cn.net.node_count];
        let pts = [[0.0, 0.0], [124.0, 26.0], [449.0, 451.0], [-500.0, 900.0]];
        let got = cn.nearest_nodes(&pts, &all);
        for (p, g) in pts.iter().zip(got) {
            let g = g.unwrap() as usize;
            let best = (0..cn.net.node_count)
                .min_by(|&a, &b| {
                    let da = (cn.net.node_xy[a][0] - p[0]).hypot(cn.net.node_xy[a][1] - p[1]);
                    let db = (cn.net.node_xy[b][0] - p[0]).hypot(cn.net.node_xy[b][1] - p[1]);
                    da.total_cmp(&db).then(a.cmp(&b))
                })
                .unwrap();
            assert_eq!(g, best, "{p:?}");
        }
    }
}
