//! The `[traffic]` section: the network (city roads or TNTP files), demand (gravity model or
//! trips), closures and capacity changes, static equilibrium assignment with and without the
//! closures, roads closed by the flood, and the evacuation with the queue model. Writes
//! link tables (CSV, GeoJSON), maps (PNG), the evacuation curve (CSV, PNG) and a
//! [`TrafficSummary`].

pub mod evac;
pub mod maps;
pub mod standalone;

use crate::flood::DepthWatch;
use crate::outputs::io;
use crate::{Progress, RunError};
use serde::Serialize;
use sim_traffic::city::{CONNECTOR, CityNetwork, LinkSelection, NetworkOptions, select_road_links};
use sim_traffic::{Demand, Network, TrafficError};
use std::fmt::Write as _;
use std::path::Path;
use twin_core::City;
use twin_core::geom::P2;
use twin_core::model::HighwayClass;
use twin_core::raster::read_raster;
use twin_core::scenario::Scenario;
use twin_core::scenario::traffic::{ClosureSpec, TrafficFloodSpec, TrafficNetwork, TrafficSpec};

/// What `summary.json` says about the traffic section.
#[derive(Debug, Clone, Serialize)]
pub struct TrafficSummary {
    pub network: NetworkInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand: Option<DemandInfo>,
    /// The assignment with the closures (or the only one, without closures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment: Option<AssignInfo>,
    /// The assignment without the closures, for comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<AssignInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    pub closures: Vec<ClosureInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flood_closures: Option<FloodClosureInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evacuation: Option<evac::EvacuationSummary>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkInfo {
    pub source: String,
    pub nodes: usize,
    pub links: usize,
    pub zones: usize,
    /// Road kilometres (links of the network, both directions counted).
    pub length_km: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemandInfo {
    pub source: String,
    pub zones: usize,
    pub residents: f64,
    pub jobs: f64,
    /// Trips loaded on the network (veh/h), intrazonal trips excluded.
    /// External zones where major roads leave the network.
    pub gateways: usize,
    pub trips: f64,
    pub intrazonal_trips: f64,
    pub gravity_iterations: usize,
}

/// One assignment's figures.
#[derive(Debug, Clone, Serialize)]
pub struct AssignInfo {
    pub algorithm: String,
    /// Beckmann objective (veh·min for city networks).
    pub objective: f64,
    /// Total system travel time in generalized cost (veh·min).
    pub tstt: f64,
    pub sptt: f64,
    pub relative_gap: f64,
    pub iterations: usize,
    pub seconds: f64,
    pub converged: bool,
    /// Demand without a path (veh/h), e.g. cut off by closures.
    pub unroutable_demand: f64,
    /// Vehicle kilometres (city networks: length in m).
    pub vehicle_km: f64,
    /// Mean trip time (min): TSTT / demand.
    pub mean_trip_min: f64,
}

/// Variant minus baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub tstt_change_veh_h: f64,
    pub tstt_change_pct: f64,
    pub vehicle_km_change: f64,
    pub mean_trip_change_min: f64,
    /// Links whose volume rises by more than 10 % and 50 veh/h, and falls likewise.
    pub links_up: usize,
    pub links_down: usize,
    /// The largest volume increases: (road name or link, change veh/h).
    pub largest_increases: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClosureInfo {
    pub id: String,
    pub links: usize,
    pub capacity_factor: f64,
    pub start_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FloodClosureInfo {
    pub depth_m: f64,
    pub source: String,
    /// Road links (directed) that the water closes.
    pub links_closed: usize,
    /// Flood time of the first closure (s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_s: Option<f64>,
    /// Time resolution of the closure times (s).
    pub resolution_s: f64,
}

pub(crate) fn scenario_err(sc: &Scenario, field: &str, message: impl Into<String>) -> RunError {
    RunError::Scenario {
        scenario: sc.path.clone(),
        message: format!("field `{field}`: {}", message.into()),
    }
}

fn traffic_err<'a>(sc: &'a Scenario, field: &'a str) -> impl Fn(TrafficError) -> RunError + 'a {
    move |e| RunError::Traffic {
        context: format!("{}: field `{field}`", sc.path.display()),
        source: e,
    }
}

fn file_err(path: &Path) -> impl Fn(TrafficError) -> RunError + '_ {
    move |e| RunError::Input {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Road network options from the section.
fn network_options(spec: &TrafficSpec) -> NetworkOptions {
    let mut o = NetworkOptions::default();
    if let Some(cl) = &spec.classes {
        o.classes = HighwayClass::ALL
            .into_iter()
            .filter(|c| cl.iter().any(|n| n == c.as_str()))
            .collect();
    }
    o
}

/// Sample points along every drivable road link that is not a bridge (bridge decks stay
/// above the water), with the road link of each point.
pub fn flood_watch_points(city: &City, spec: &TrafficSpec, step_m: f64) -> (Vec<P2>, Vec<u32>) {
    let opts = network_options(spec);
    let mut pts = Vec::new();
    let mut link = Vec::new();
    for (i, l) in city.roads.links.iter().enumerate() {
        if l.bridge || !opts.classes.contains(&l.class) {
            continue;
        }
        for seg in l.geometry.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            let n = (len / step_m).ceil().max(1.0) as usize;
            for k in 0..n {
                let t = k as f64 / n as f64;
                pts.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
                link.push(i as u32);
            }
        }
        if let Some(&last) = l.geometry.last() {
            pts.push(last);
            link.push(i as u32);
        }
    }
    (pts, link)
}

/// Flood time at which each road link closes (NaN: never), from the points' first times.
fn road_closing_times(city: &City, point_link: &[u32], first_s: &[f64]) -> Vec<f64> {
    let mut t = vec![f64::NAN; city.roads.links.len()];
    for (&l, &f) in point_link.iter().zip(first_s) {
        if f.is_finite() {
            let old = &mut t[l as usize];
            if old.is_nan() || f < *old {
                *old = f;
            }
        }
    }
    t
}

/// First times deeper than `depth_m` at the points, from the depth snapshots of an earlier
/// flood run (`snapshots/index.json` in its results folder).
fn first_times_from_results(
    dir: &Path,
    points: &[P2],
    depth_m: f64,
) -> Result<(Vec<f64>, f64), RunError> {
    let index = dir.join("snapshots").join("index.json");
    let text = std::fs::read_to_string(&index).map_err(io(&index))?;
    let bad = |m: String| RunError::Input {
        path: index.clone(),
        message: m,
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let snaps = v["snapshots"]
        .as_array()
        .ok_or_else(|| bad("no `snapshots` list (run the flood with snapshots on)".into()))?;
    let mut list = Vec::new();
    for s in snaps {
        let (Some(t), Some(f)) = (s["t_s"].as_f64(), s["file"].as_str()) else {
            return Err(bad("a snapshot without `t_s` and `file`".into()));
        };
        list.push((t, dir.join(f)));
    }
    list.sort_by(|a, b| a.0.total_cmp(&b.0));
    if list.is_empty() {
        return Err(bad("no snapshots".into()));
    }
    let interval = v["output_interval_s"].as_f64().unwrap_or(0.0);
    let mut first = vec![f64::NAN; points.len()];
    for (t, file) in &list {
        let r = read_raster(file)?;
        for (k, p) in points.iter().enumerate() {
            if first[k].is_nan()
                && let Some((c, rr)) = r.spec.cell_at(p[0], p[1])
            {
                let d = r.get(c, rr);
                if d.is_finite() && f64::from(d) > depth_m {
                    first[k] = *t;
                }
            }
        }
    }
    Ok((first, interval))
}

/// Flood closure times of the road links, from this run's flood (`watch`) or an earlier one.
pub(crate) fn flood_closures(
    city: &City,
    spec: &TrafficSpec,
    f: &TrafficFloodSpec,
    watch: Option<(&DepthWatch, &[u32])>,
) -> Result<(Vec<f64>, FloodClosureInfo), RunError> {
    let (times, source, res) = match (&f.results, watch) {
        (Some(dir), _) => {
            let (pts, point_link) = flood_watch_points(city, spec, 2.0);
            let (first, interval) = first_times_from_results(dir, &pts, f.depth_m)?;
            (
                road_closing_times(city, &point_link, &first),
                format!("snapshots of {}", dir.display()),
                interval,
            )
        }
        (None, Some((w, point_link))) => (
            road_closing_times(city, point_link, &w.first_s),
            "the [flood] section of this scenario".to_string(),
            w.interval_s,
        ),
        (None, None) => unreachable!("validated: traffic.flood needs a flood"),
    };
    let closed = times.iter().filter(|t| t.is_finite()).count();
    let first = times
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .reduce(f64::min);
    Ok((
        times,
        FloodClosureInfo {
            depth_m: f.depth_m,
            source,
            links_closed: closed,
            first_s: first,
            resolution_s: res,
        },
    ))
}

/// Network links selected by each closure (city: road links by way id, name, polygon;
/// TNTP: `way_ids` are link numbers, 1-based).
fn closure_links(
    sc: &Scenario,
    city: &City,
    cn: Option<&CityNetwork>,
    net: &Network,
    c: &ClosureSpec,
    i: usize,
) -> Result<Vec<u32>, RunError> {
    let field = format!("traffic.closure[{i}]");
    let links = match cn {
        Some(cn) => {
            let sel = LinkSelection {
                way_ids: c.way_ids.clone(),
                names: c.names.clone(),
                polygon: c.polygon.clone(),
            };
            cn.links_of_road_links(&select_road_links(&city.roads, &sel))
        }
        None => {
            let mut v = Vec::new();
            for &w in &c.way_ids {
                if w < 1 || w as usize > net.link_count() {
                    return Err(scenario_err(
                        sc,
                        &field,
                        format!(
                            "link {w} is not in the network's {} links",
                            net.link_count()
                        ),
                    ));
                }
                v.push(w as u32 - 1);
            }
            v.sort_unstable();
            v.dedup();
            v
        }
    };
    if links.is_empty() {
        return Err(scenario_err(
            sc,
            &field,
            format!("closure `{}` selects no drivable road link", c.id),
        ));
    }
    Ok(links)
}

/// A readable label of a network link: its road name and way id, or its node numbers.
fn link_label(city: &City, cn: Option<&CityNetwork>, net: &Network, l: usize) -> String {
    if let Some(cn) = cn {
        let r = cn.road_link[l];
        if r != CONNECTOR {
            let rl = &city.roads.links[r as usize];
            return match &rl.name {
                Some(n) => format!("{n} (way {})", rl.way_id),
                None => format!("way {}", rl.way_id),
            };
        }
        return "zone connector".into();
    }
    format!("{} -> {}", net.from[l] + 1, net.to[l] + 1)
}

/// Run the traffic section; returns its summary and the files written.
pub fn run(
    city: &City,
    spec: &TrafficSpec,
    sc: &Scenario,
    dir: &Path,
    watch: Option<(&DepthWatch, &[u32])>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(TrafficSummary, Vec<String>), RunError> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    progress(Progress::Stage("traffic: building the network"));
    let mut summary = TrafficSummary {
        network: NetworkInfo {
            source: String::new(),
            nodes: 0,
            links: 0,
            zones: 0,
            length_km: 0.0,
        },
        demand: None,
        assignment: None,
        baseline: None,
        comparison: None,
        closures: Vec::new(),
        flood_closures: None,
        evacuation: None,
        notes: Vec::new(),
    };
    // Flood closure times per road link.
    let flood = match &spec.flood {
        Some(f) => {
            let (times, info) = flood_closures(city, spec, f, watch)?;
            summary.flood_closures = Some(info);
            Some(times)
        }
        None => None,
    };
    if let Some(times) = &flood {
        let mut csv = String::from("road_link,way_id,name,from_node,to_node,closed_at_s\n");
        for (i, t) in times.iter().enumerate() {
            if t.is_finite() {
                let l = &city.roads.links[i];
                let _ = writeln!(
                    csv,
                    "{i},{},{},{},{},{t:.0}",
                    l.way_id,
                    csv_text(l.name.as_deref().unwrap_or("")),
                    city.roads.nodes[l.from as usize].id,
                    city.roads.nodes[l.to as usize].id
                );
            }
        }
        twin_core::fsio::write_atomic(&dir.join("road_closures.csv"), csv.as_bytes())?;
        files.push("road_closures.csv".into());
    }
    if spec.assign {
        assignment(
            city,
            spec,
            sc,
            dir,
            flood.as_deref(),
            &mut summary,
            &mut files,
            &mut notes,
            progress,
        )?;
    }
    if let Some(e) = &spec.evacuation {
        let (es, written) = evac::run(
            city,
            spec,
            e,
            sc,
            dir,
            flood.as_deref(),
            &mut notes,
            progress,
        )?;
        summary.evacuation = Some(es);
        files.extend(written);
    }
    if summary.network.source.is_empty() {
        let cn = CityNetwork::new(&city.roads, &network_options(spec))
            .map_err(traffic_err(sc, "traffic"))?;
        summary.network = network_info("city roads", &cn.net, 0);
    }
    summary.notes = notes;
    Ok((summary, files))
}

fn network_info(source: &str, net: &Network, zones: usize) -> NetworkInfo {
    let km: f64 = (0..net.link_count())
        .filter(|&l| net.link_type[l] != 0)
        .map(|l| net.length[l])
        .sum::<f64>()
        / 1000.0;
    NetworkInfo {
        source: source.to_string(),
        nodes: net.node_count,
        links: net.link_count(),
        zones,
        length_km: km,
    }
}

/// CSV field: quoted when it holds a comma or quote.
pub(crate) fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The network and demand of the assignment: city roads with gravity demand, or TNTP.
struct AssignInput {
    net: Network,
    demand: Demand,
    cn: Option<CityNetwork>,
    info: Option<DemandInfo>,
    source: String,
}

fn assign_input(city: &City, spec: &TrafficSpec, sc: &Scenario) -> Result<AssignInput, RunError> {
    match &spec.network {
        TrafficNetwork::Tntp { net, trips } => {
            let (network, demand, zones) = read_tntp(net, trips)?;
            let total = demand.total();
            Ok(AssignInput {
                net: network,
                demand,
                cn: None,
                info: Some(DemandInfo {
                    source: trips.display().to_string(),
                    zones,
                    gateways: 0,
                    residents: 0.0,
                    jobs: 0.0,
                    trips: total,
                    intrazonal_trips: 0.0,
                    gravity_iterations: 0,
                }),
                source: net.display().to_string(),
            })
        }
        TrafficNetwork::City => {
            let d = &spec.demand;
            let rates = sim_traffic::demand::ActivityRates {
                living_area_per_resident_m2: d.living_area_per_resident_m2,
                peak_trips_per_resident: d.trips_per_resident,
                ..Default::default()
            };
            let acts = sim_traffic::demand::building_activity(city, &rates)
                .map_err(traffic_err(sc, "traffic.demand"))?;
            let zones = sim_traffic::demand::grid_zones(&acts, d.zone_size_m)
                .map_err(traffic_err(sc, "traffic.demand.zone_size_m"))?;
            if zones.centroid.len() < 2 {
                return Err(scenario_err(
                    sc,
                    "traffic.demand",
                    "the city has fewer than two zones with residents or jobs: no trips to assign",
                ));
            }
            // Gateways: where major roads leave the network (external zones).
            let opts = network_options(spec);
            let roads_only =
                CityNetwork::new(&city.roads, &opts).map_err(traffic_err(sc, "traffic"))?;
            let gw = gateways(city, &roads_only);
            let nz = zones.centroid.len();
            let ng = gw.len();
            let mut centroids = zones.centroid.clone();
            centroids.extend(gw.iter().map(|g| g.0));
            let cn = CityNetwork::with_zones(&city.roads, &centroids, &opts)
                .map_err(traffic_err(sc, "traffic"))?;
            let n = nz + ng;
            let cost = sim_traffic::paths::zone_cost_matrix(&cn.net, &cn.net.free_flow_time, n);
            let trips_home: Vec<f64> = zones
                .residents
                .iter()
                .map(|r| r * d.trips_per_resident * d.factor)
                .collect();
            let total_home: f64 = trips_home.iter().sum();
            let gw_cap: f64 = gw.iter().map(|g| g.1).sum();
            let (out_total, in_total) = if ng > 0 {
                (total_home * d.outbound_share, total_home * d.inbound_share)
            } else {
                (0.0, 0.0)
            };
            // Productions: home trips of the zones plus inbound trips at the gateways;
            // attractions: jobs of the zones (for the internal and inbound trips) plus the
            // outbound trips at the gateways.
            let mut prod = trips_home.clone();
            prod.extend(gw.iter().map(|g| in_total * g.1 / gw_cap));
            let jobs_total: f64 = zones.jobs.iter().sum();
            let internal_attr = total_home - out_total + in_total;
            let mut attr: Vec<f64> = zones
                .jobs
                .iter()
                .map(|j| {
                    if jobs_total > 0.0 {
                        internal_attr * j / jobs_total
                    } else {
                        0.0
                    }
                })
                .collect();
            attr.extend(gw.iter().map(|g| out_total * g.1 / gw_cap));
            // No gateway-to-gateway trips in the gravity model: through traffic comes apart.
            let mut cost_g = cost.clone();
            for a in nz..n {
                for b in nz..n {
                    cost_g[a * n + b] = f64::INFINITY;
                }
            }
            let g =
                sim_traffic::demand::gravity(&prod, &attr, &cost_g, d.beta_per_min, 1e-10, 1000)
                    .map_err(traffic_err(sc, "traffic.demand"))?;
            let mut od = Vec::new();
            for i in 0..n {
                for j in 0..n {
                    let t = g.trips[i * n + j];
                    if i != j && t > 0.0 {
                        od.push((i as u32, j as u32, t));
                    }
                }
            }
            // Through traffic between gateways at least 500 m apart, by capacity.
            let mut through_w = Vec::new();
            for a in 0..ng {
                for b in 0..ng {
                    let (pa, pb) = (gw[a].0, gw[b].0);
                    if a != b
                        && (pa[0] - pb[0]).hypot(pa[1] - pb[1]) >= 500.0
                        && cost[(nz + a) * n + nz + b].is_finite()
                    {
                        through_w.push((a, b, gw[a].1 * gw[b].1));
                    }
                }
            }
            let wsum: f64 = through_w.iter().map(|w| w.2).sum();
            for &(a, b, w) in &through_w {
                od.push((
                    (nz + a) as u32,
                    (nz + b) as u32,
                    d.through_veh_h * d.factor * w / wsum,
                ));
            }
            let demand = Demand::from_triples(cn.net.node_count, od)
                .map_err(traffic_err(sc, "traffic.demand"))?;
            let info = DemandInfo {
                source: format!(
                    "gravity model on the city's buildings, {ng} gateways, {:.0} veh/h through",
                    d.through_veh_h * d.factor
                ),
                zones: nz,
                gateways: ng,
                residents: zones.residents.iter().sum(),
                jobs: zones.jobs.iter().sum(),
                trips: demand.total(),
                intrazonal_trips: g.intrazonal,
                gravity_iterations: g.iterations,
            };
            Ok(AssignInput {
                net: cn.net.clone(),
                demand,
                cn: Some(cn),
                info: Some(info),
                source: "city roads".into(),
            })
        }
    }
}

/// Gateways: road nodes of the main component within 30 m of the edge of the network's
/// extent where a primary, secondary, tertiary, trunk or motorway link ends (all classes when
/// there are none), with the capacity leaving the network there (veh/h). Sorted by node.
fn gateways(city: &City, cn: &CityNetwork) -> Vec<(P2, f64)> {
    let net = &cn.net;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &net.node_xy {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let edge =
        |p: [f64; 2]| p[0] - x0 < 30.0 || x1 - p[0] < 30.0 || p[1] - y0 < 30.0 || y1 - p[1] < 30.0;
    let major = |l: usize| {
        matches!(
            city.roads.links[cn.road_link[l] as usize].class,
            HighwayClass::Motorway
                | HighwayClass::Trunk
                | HighwayClass::Primary
                | HighwayClass::Secondary
                | HighwayClass::Tertiary
        )
    };
    let pick = |only_major: bool| -> Vec<(P2, f64)> {
        (0..net.node_count as u32)
            .filter(|&n| cn.in_main_component[n as usize] && edge(net.node_xy[n as usize]))
            .filter_map(|n| {
                let cap: f64 = net
                    .in_of(n)
                    .iter()
                    .filter(|&&l| !only_major || major(l as usize))
                    .map(|&l| net.capacity[l as usize])
                    .sum();
                (cap > 0.0).then_some((net.node_xy[n as usize], cap))
            })
            .collect()
    };
    let g = pick(true);
    if g.is_empty() { pick(false) } else { g }
}

/// Read a TNTP network and its trips (TNTP or OD CSV).
/// Also returns the number of zones the network file declares.
pub fn read_tntp(net: &Path, trips: &Path) -> Result<(Network, Demand, usize), RunError> {
    let text = std::fs::read_to_string(net).map_err(io(net))?;
    let (network, meta) = sim_traffic::tntp::parse_net(&text).map_err(file_err(net))?;
    let text = std::fs::read_to_string(trips).map_err(io(trips))?;
    let is_csv = trips
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let demand = if is_csv {
        sim_traffic::tntp::parse_od_csv(&text, network.node_count).map_err(file_err(trips))?
    } else {
        sim_traffic::tntp::parse_trips(&text, network.node_count).map_err(file_err(trips))?
    };
    Ok((network, demand, meta.zones))
}

/// An assignment's link results on the full network (closed links: volume 0, time NaN).
pub(crate) struct LinkFlows {
    pub info: AssignInfo,
    pub volume: Vec<f64>,
    pub time: Vec<f64>,
    pub cost: Vec<f64>,
    pub capacity: Vec<f64>,
    pub closed: Vec<bool>,
}

/// Assign `demand` on `net` with link capacities scaled by `factor` (0 removes the link).
pub(crate) fn assign_with(
    net: &Network,
    demand: &Demand,
    factor: &[f64],
    spec: &TrafficSpec,
    label: &str,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<LinkFlows, TrafficError> {
    let keep: Vec<bool> = factor.iter().map(|&f| f > 0.0).collect();
    let (mut sub, map) = net.subnetwork(&keep);
    for (k, &l) in map.iter().enumerate() {
        sub.capacity[k] *= factor[l as usize];
    }
    let a = &spec.assignment;
    let params = sim_traffic::assign::AssignParams {
        algorithm: match a.algorithm {
            twin_core::scenario::traffic::AssignAlgorithm::AlgorithmB => {
                sim_traffic::assign::Algorithm::AlgorithmB
            }
            twin_core::scenario::traffic::AssignAlgorithm::BiconjugateFrankWolfe => {
                sim_traffic::assign::Algorithm::BiconjugateFrankWolfe
            }
            twin_core::scenario::traffic::AssignAlgorithm::FrankWolfe => {
                sim_traffic::assign::Algorithm::FrankWolfe
            }
        },
        cost: sim_traffic::CostParams {
            toll_factor: a.toll_factor,
            distance_factor: a.distance_factor,
        },
        target_gap: a.target_gap,
        max_iterations: a.max_iterations,
        max_seconds: a.max_seconds,
    };
    let target = a.target_gap.max(1e-300).log10();
    let r = sim_traffic::assign::assign(&sub, demand, &params, &mut |p| {
        let g = p.relative_gap.max(1e-300).log10();
        let status = format!(
            "traffic: {label}: iteration {}, relative gap {:.2e}",
            p.iteration, p.relative_gap
        );
        progress(Progress::Fraction {
            stage: "traffic",
            done: (g / target).clamp(0.0, 1.0),
            status: &status,
        });
    })?;
    let nl = net.link_count();
    let mut volume = vec![0.0; nl];
    let mut time = vec![f64::NAN; nl];
    let mut cost = vec![f64::NAN; nl];
    let mut capacity = vec![0.0; nl];
    for (k, &l) in map.iter().enumerate() {
        volume[l as usize] = r.flow[k];
        time[l as usize] = r.time[k];
        cost[l as usize] = r.cost[k];
        capacity[l as usize] = sub.capacity[k];
    }
    let vkm: f64 = (0..nl)
        .filter(|&l| net.link_type[l] != 0)
        .map(|l| volume[l] * net.length[l])
        .sum::<f64>()
        / 1000.0;
    let total = demand.total() - r.unroutable_demand;
    Ok(LinkFlows {
        info: AssignInfo {
            algorithm: spec.assignment.algorithm.as_str().into(),
            objective: r.objective,
            tstt: r.tstt,
            sptt: r.sptt,
            relative_gap: r.relative_gap,
            iterations: r.iterations,
            seconds: r.seconds,
            converged: r.converged,
            unroutable_demand: r.unroutable_demand,
            vehicle_km: vkm,
            mean_trip_min: if total > 0.0 { r.tstt / total } else { 0.0 },
        },
        volume,
        time,
        cost,
        capacity,
        closed: keep.iter().map(|k| !k).collect(),
    })
}

// Loops index several per-link arrays at once.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn assignment(
    city: &City,
    spec: &TrafficSpec,
    sc: &Scenario,
    dir: &Path,
    flood: Option<&[f64]>,
    summary: &mut TrafficSummary,
    files: &mut Vec<String>,
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), RunError> {
    progress(Progress::Stage("traffic: demand"));
    let inp = assign_input(city, spec, sc)?;
    let net = &inp.net;
    let cn = inp.cn.as_ref();
    summary.network = network_info(
        &inp.source,
        net,
        inp.info.as_ref().map_or(0, |d| d.zones + d.gateways),
    );
    summary.demand = inp.info.clone();
    let nl = net.link_count();
    let mut factor = vec![1.0; nl];
    for (i, c) in spec.closures.iter().enumerate() {
        let links = closure_links(sc, city, cn, net, c, i)?;
        for &l in &links {
            factor[l as usize] = f64::min(factor[l as usize], c.capacity_factor);
        }
        summary.closures.push(ClosureInfo {
            id: c.id.clone(),
            links: links.len(),
            capacity_factor: c.capacity_factor,
            start_s: c.start_s,
            end_s: c.end_s.is_finite().then_some(c.end_s),
        });
    }
    // Roads the flood closes at some time are closed in the static assignment.
    if let (Some(times), Some(cn)) = (flood, cn) {
        let mut n = 0;
        for l in 0..nl {
            let r = cn.road_link[l];
            if r != CONNECTOR && times[r as usize].is_finite() {
                factor[l] = 0.0;
                n += 1;
            }
        }
        notes.push(format!(
            "the static assignment closes the {n} links that the flood closes at any time"
        ));
    }
    let any_change = factor.iter().any(|&f| f < 1.0);
    let variant = assign_with(net, &inp.demand, &factor, spec, "assignment", progress)
        .map_err(traffic_err(sc, "traffic.assignment"))?;
    if !variant.info.converged {
        notes.push(format!(
            "the assignment stopped at relative gap {:.2e} before the target {:.1e} (iteration or time limit)",
            variant.info.relative_gap, spec.assignment.target_gap
        ));
    }
    if variant.info.unroutable_demand > 0.0 {
        notes.push(format!(
            "{:.1} veh/h of demand have no path (cut off by closures) and are not assigned",
            variant.info.unroutable_demand
        ));
    }
    let base = if any_change && spec.compare {
        let ones = vec![1.0; nl];
        Some(
            assign_with(net, &inp.demand, &ones, spec, "baseline", progress)
                .map_err(traffic_err(sc, "traffic.assignment"))?,
        )
    } else {
        None
    };
    progress(Progress::Stage("traffic: writing link results"));
    // traffic_links.csv
    let mut csv = String::from(
        "link,from,to,way_id,name,class,length,capacity_veh_h,free_flow_min,volume_veh_h,time_min,cost,delay_min,vc,closed",
    );
    if base.is_some() {
        csv.push_str(",base_volume_veh_h,base_time_min,volume_change_veh_h,time_change_min");
    }
    csv.push('\n');
    let mut features = Vec::new();
    for l in 0..nl {
        let connector = cn.is_some_and(|cn| cn.road_link[l] == CONNECTOR);
        if connector {
            continue;
        }
        let (way, name, class) = match cn {
            Some(cn) => {
                let rl = &city.roads.links[cn.road_link[l] as usize];
                (
                    rl.way_id.to_string(),
                    rl.name.clone().unwrap_or_default(),
                    rl.class.as_str().to_string(),
                )
            }
            None => (
                (l + 1).to_string(),
                String::new(),
                net.link_type[l].to_string(),
            ),
        };
        let (from, to) = match cn {
            Some(cn) => (
                city.roads.nodes[cn.road_node[net.from[l] as usize] as usize].id,
                city.roads.nodes[cn.road_node[net.to[l] as usize] as usize].id,
            ),
            None => (i64::from(net.from[l]) + 1, i64::from(net.to[l]) + 1),
        };
        let v = &variant;
        let cap = if v.closed[l] { 0.0 } else { v.capacity[l] };
        let vc = if cap > 0.0 {
            v.volume[l] / cap
        } else {
            f64::NAN
        };
        let delay = v.time[l] - net.free_flow_time[l];
        let _ = write!(
            csv,
            "{},{from},{to},{way},{},{class},{:.3},{:.1},{:.6},{:.6},{},{},{},{},{}",
            l + 1,
            csv_text(&name),
            net.length[l],
            cap,
            net.free_flow_time[l],
            v.volume[l],
            num(v.time[l]),
            num(v.cost[l]),
            num(delay),
            num(vc),
            v.closed[l]
        );
        if let Some(b) = &base {
            let _ = write!(
                csv,
                ",{:.6},{},{:.6},{}",
                b.volume[l],
                num(b.time[l]),
                v.volume[l] - b.volume[l],
                num(v.time[l] - b.time[l])
            );
        }
        csv.push('\n');
        if let Some(cn) = cn {
            let rl = &city.roads.links[cn.road_link[l] as usize];
            let mut p = serde_json::json!({
                "link": l + 1,
                "way_id": rl.way_id,
                "name": rl.name,
                "class": rl.class.as_str(),
                "from": from,
                "to": to,
                "length_m": round3(net.length[l]),
                "capacity_veh_h": round3(cap),
                "volume_veh_h": round3(v.volume[l]),
                "vc": json_num(vc),
                "travel_time_min": json_num(v.time[l]),
                "free_flow_min": round6(net.free_flow_time[l]),
                "delay_min": json_num(delay),
                "closed": v.closed[l],
            });
            if let Some(b) = &base {
                p["base_volume_veh_h"] = round3(b.volume[l]).into();
                p["volume_change_veh_h"] = round3(v.volume[l] - b.volume[l]).into();
                p["base_travel_time_min"] = json_num(b.time[l]);
                p["travel_time_change_min"] = json_num(v.time[l] - b.time[l]);
            }
            let coords: Vec<[f64; 2]> = rl
                .geometry
                .iter()
                .map(|q| [round3(q[0]), round3(q[1])])
                .collect();
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": p,
                "geometry": {"type": "LineString", "coordinates": coords},
            }));
        }
    }
    twin_core::fsio::write_atomic(&dir.join("traffic_links.csv"), csv.as_bytes())?;
    files.push("traffic_links.csv".into());
    if cn.is_some() {
        write_feature_collection(
            &dir.join("traffic_links.geojson"),
            city,
            "traffic_links",
            &features,
        )?;
        files.push("traffic_links.geojson".into());
    }
    // Comparison.
    if let Some(b) = &base {
        let mut up = 0;
        let mut down = 0;
        let mut inc: Vec<(f64, usize)> = Vec::new();
        for l in 0..nl {
            if cn.is_some_and(|cn| cn.road_link[l] == CONNECTOR) {
                continue;
            }
            let d = variant.volume[l] - b.volume[l];
            let rel = d / b.volume[l].max(1e-9);
            if d > 50.0 && rel > 0.1 {
                up += 1;
            }
            if d < -50.0 && rel < -0.1 {
                down += 1;
            }
            inc.push((d, l));
        }
        inc.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut seen = std::collections::BTreeSet::new();
        let largest: Vec<(String, f64)> = inc
            .iter()
            .filter(|(d, _)| *d > 0.0)
            .map(|&(d, l)| (link_label(city, cn, net, l), d))
            .filter(|(n, _)| seen.insert(n.clone()))
            .take(5)
            .map(|(n, d)| (n, (d * 10.0).round() / 10.0))
            .collect();
        summary.comparison = Some(Comparison {
            tstt_change_veh_h: (variant.info.tstt - b.info.tstt) / 60.0,
            tstt_change_pct: (variant.info.tstt / b.info.tstt - 1.0) * 100.0,
            vehicle_km_change: variant.info.vehicle_km - b.info.vehicle_km,
            mean_trip_change_min: variant.info.mean_trip_min - b.info.mean_trip_min,
            links_up: up,
            links_down: down,
            largest_increases: largest,
        });
    }
    // Maps.
    if spec.png
        && let (Some(cn), Some(dem)) = (cn, city.terrain.dem.as_ref())
    {
        progress(Progress::Stage("traffic: drawing maps"));
        let road: Vec<usize> = (0..nl).filter(|&l| cn.road_link[l] != CONNECTOR).collect();
        let lines: Vec<&[P2]> = road
            .iter()
            .map(|&l| {
                city.roads.links[cn.road_link[l] as usize]
                    .geometry
                    .as_slice()
            })
            .collect();
        let vc: Vec<f32> = road
            .iter()
            .map(|&l| {
                if variant.closed[l] {
                    f32::NAN
                } else {
                    (variant.volume[l] / variant.capacity[l]) as f32
                }
            })
            .collect();
        let closed_note = if variant.closed.iter().any(|&c| c) {
            "\nclosed links are not drawn"
        } else {
            ""
        };
        let sub = format!(
            "{}: peak-hour assignment, {:.0} trips, gap {:.1e}{closed_note}",
            sc.name,
            summary.demand.as_ref().map_or(0.0, |d| d.trips),
            variant.info.relative_gap
        );
        let map = maps::LineMap::new(city, dem, lines);
        map.write(
            &vc,
            twin_core::render::Palette::Ramp {
                ramp: maps::vc_ramp(),
                min: 0.0,
                max: 1.2,
            },
            "Volume / capacity",
            "",
            &sub,
            &dir.join("traffic_vc.png"),
        )?;
        files.push("traffic_vc.png".into());
        if let Some(b) = &base {
            let dv: Vec<f32> = road
                .iter()
                .map(|&l| (variant.volume[l] - b.volume[l]) as f32)
                .collect();
            let m = dv.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1.0);
            let m = crate::flood::nice_max(f64::from(m)) as f32;
            map.write(
                &dv,
                twin_core::render::Palette::Ramp {
                    ramp: maps::diverging_ramp(),
                    min: -m,
                    max: m,
                },
                "Volume change",
                "veh/h",
                &format!("{}: with the closures minus without", sc.name),
                &dir.join("traffic_volume_change.png"),
            )?;
            files.push("traffic_volume_change.png".into());
        }
    }
    summary.assignment = Some(variant.info);
    summary.baseline = base.map(|b| b.info);
    Ok(())
}

pub(crate) fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6}")
    } else {
        String::new()
    }
}

pub(crate) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

pub(crate) fn json_num(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::Value::from(round6(v))
    } else {
        serde_json::Value::Null
    }
}

/// A FeatureCollection in the city CRS (legacy `crs` member, as the city layers).
pub(crate) fn write_feature_collection(
    path: &Path,
    city: &City,
    name: &str,
    features: &[serde_json::Value],
) -> Result<(), RunError> {
    let text = twin_core::export::geojson::feature_collection_text(name, city.epsg, features);
    twin_core::fsio::write_atomic(path, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_traffic::assign::{Algorithm, AssignParams, assign};

    /// The real Helsinki OSM network: a strongly connected core, gateways at its edge, an
    /// equilibrium with conserved flows, and the queue model conserving vehicles on it.
    #[test]
    fn helsinki_osm_network_assigns_and_simulates() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/osm/helsinki.osm.pbf");
        let opts = twin_core::import::ImportOptions {
            keep_surfaces: false,
            bbox: None,
            target_epsg: Some(25835),
        };
        let city = twin_core::import::load_city(&path, &opts).unwrap();
        let roads = CityNetwork::new(&city.roads, &NetworkOptions::default()).unwrap();
        let n = roads.net.node_count;
        let main = roads.in_main_component.iter().filter(|&&m| m).count();
        assert!(main * 10 > n * 8, "main component {main} of {n} nodes");
        let gw = gateways(&city, &roads);
        assert!(gw.len() >= 4, "{} gateways", gw.len());
        // Gateways as zones; trips between every pair at least 500 m apart.
        let zones: Vec<P2> = gw.iter().map(|g| g.0).collect();
        let cn = CityNetwork::with_zones(&city.roads, &zones, &NetworkOptions::default()).unwrap();
        let mut od = Vec::new();
        for (a, pa) in zones.iter().enumerate() {
            for (b, pb) in zones.iter().enumerate() {
                if a != b && (pa[0] - pb[0]).hypot(pa[1] - pb[1]) > 500.0 {
                    od.push((a as u32, b as u32, 60.0));
                }
            }
        }
        let demand = Demand::from_triples(cn.net.node_count, od).unwrap();
        let p = AssignParams {
            algorithm: Algorithm::AlgorithmB,
            target_gap: 1e-8,
            ..AssignParams::default()
        };
        let r = assign(&cn.net, &demand, &p, &mut |_| {}).unwrap();
        assert!(r.relative_gap < 1e-8, "gap {}", r.relative_gap);
        assert_eq!(r.unroutable_demand, 0.0);
        // Flow conservation at every road node.
        let mut balance = vec![0.0f64; cn.net.node_count];
        for l in 0..cn.net.link_count() {
            balance[cn.net.from[l] as usize] -= r.flow[l];
            balance[cn.net.to[l] as usize] += r.flow[l];
        }
        for (k, b) in balance.iter().enumerate().skip(cn.zone_count) {
            assert!(b.abs() < 1e-6, "node {k}: {b}");
        }
        // The queue model on the road network: every car arrives or is accounted for.
        let main_nodes: Vec<u32> = (0..n as u32)
            .filter(|&v| roads.in_main_component[v as usize])
            .collect();
        let trips: Vec<sim_traffic::Trip> = (0..2000)
            .map(|k| sim_traffic::Trip {
                origin: main_nodes[(k * 7919) % main_nodes.len()],
                departure_s: k as f64 * 1.8,
                dest_set: (k % 4) as u32,
            })
            .collect();
        let sets: Vec<Vec<u32>> = (0..4)
            .map(|s| vec![main_nodes[(s * 104_729 + 11) % main_nodes.len()]])
            .collect();
        let q = sim_traffic::simulate(
            &roads.net,
            &trips,
            &sets,
            &[],
            &sim_traffic::QueueParams::default(),
        )
        .unwrap();
        assert!(q.is_conserved());
        assert_eq!(
            q.counters.arrived + q.counters.stranded,
            2000,
            "{:?}",
            q.counters
        );
    }
}
