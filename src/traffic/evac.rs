//! The evacuation of `[traffic.evacuation]`: residents of the buildings in the zone, their
//! cars on the road network (queue model), to shelters and exits, with roads closing as the
//! flood reaches them. Writes the evacuation curve (CSV, PNG), link results (CSV, GeoJSON),
//! the bottlenecks and maps.

use super::{
    ClosureInfo, csv_text, json_num, maps, network_options, round3, scenario_err, traffic_err,
    write_feature_collection,
};
use crate::{Progress, RunError};
use serde::Serialize;
use sim_traffic::city::{CONNECTOR, CityNetwork, LinkSelection, select_road_links};
use sim_traffic::evacuation::{EvacuationInput, Mobilisation, Source, evacuate};
use sim_traffic::queue::{ChangeKind, NetworkChange, QueueParams, RouteCost};
use std::fmt::Write as _;
use std::path::Path;
use twin_core::City;
use twin_core::geom::P2;
use twin_core::model::PointKind;
use twin_core::render::chart::{LineChart, Series};
use twin_core::scenario::Scenario;
use twin_core::scenario::traffic::{EvacuationSpec, MobilisationSpec, TrafficSpec};

/// What `summary.json` says about the evacuation.
#[derive(Debug, Clone, Serialize)]
pub struct EvacuationSummary {
    pub buildings: usize,
    pub persons: f64,
    pub car_persons: f64,
    pub other_persons: f64,
    pub vehicles: usize,
    pub shelters: usize,
    pub exits: usize,
    /// Time after the order when 90 % / all of the car persons who can leave have arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t90_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t100_s: Option<f64>,
    pub arrived_persons: f64,
    /// Car persons cut off from every destination (by the water or closures).
    pub stranded_persons: f64,
    /// Car persons still on the road at the end of the run.
    pub en_route_persons: f64,
    pub share_at_end: f64,
    /// Road links the flood closes during the evacuation.
    pub flooded_links: usize,
    pub closures: Vec<ClosureInfo>,
    pub bottlenecks: Vec<BottleneckInfo>,
    /// Car persons who reached a shelter, and who left through an exit.
    pub persons_to_shelters: f64,
    pub persons_to_exits: f64,
    /// Shelters that receive more persons than they have places (possible with
    /// `shelter_capacity = false`, or by a car's rounding).
    pub shelters_over_capacity: Vec<ShelterLoad>,
    pub link_traversals: u64,
    pub events: u64,
    pub forced_moves: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShelterLoad {
    pub shelter: String,
    pub capacity_persons: f64,
    pub arrived_persons: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BottleneckInfo {
    pub road: String,
    pub link: u32,
    pub total_delay_h: f64,
    pub max_queue_veh: u32,
    pub volume_veh: u64,
}

fn mobilisation(m: MobilisationSpec) -> Mobilisation {
    match m {
        MobilisationSpec::Rayleigh { mean_s } => Mobilisation::Rayleigh { mean_s },
        MobilisationSpec::Weibull { scale_s, shape } => Mobilisation::Weibull { scale_s, shape },
        MobilisationSpec::Logistic { mid_s, spread_s } => {
            Mobilisation::Logistic { mid_s, spread_s }
        }
        MobilisationSpec::Uniform { start_s, end_s } => Mobilisation::Uniform { start_s, end_s },
    }
}

/// `h:mm` of seconds.
pub(crate) fn hm(t: f64) -> String {
    let m = (t / 60.0).round() as i64;
    format!("{}:{:02}", m / 60, m % 60)
}

/// Run the evacuation; returns its summary and the files written.
// Loops index several per-link arrays at once.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub fn run(
    city: &City,
    spec: &TrafficSpec,
    e: &EvacuationSpec,
    sc: &Scenario,
    dir: &Path,
    flood: Option<&[f64]>,
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(EvacuationSummary, Vec<String>), RunError> {
    progress(Progress::Stage(
        "evacuation: people, network and destinations",
    ));
    let mut files = Vec::new();
    let cn = CityNetwork::new(&city.roads, &network_options(spec))
        .map_err(traffic_err(sc, "traffic"))?;
    let net = &cn.net;
    let rates = sim_traffic::demand::ActivityRates {
        living_area_per_resident_m2: spec.demand.living_area_per_resident_m2,
        ..Default::default()
    };
    let acts = sim_traffic::demand::building_activity(city, &rates)
        .map_err(traffic_err(sc, "traffic.demand"))?;
    // Buildings in the zone with residents.
    let mut in_zone: Vec<usize> = Vec::new();
    let mut no_ground = 0;
    for (i, a) in acts.iter().enumerate() {
        if a.residents <= 0.0 {
            continue;
        }
        let b = &city.buildings[i];
        let inside = match (&e.zone, e.max_ground_z) {
            (Some(z), _) => z.contains(a.at),
            (None, Some(zmax)) => match b.ground_z {
                Some(g) => g <= zmax,
                None => {
                    no_ground += 1;
                    false
                }
            },
            (None, None) => false,
        };
        if inside {
            in_zone.push(i);
        }
    }
    if no_ground > 0 {
        notes.push(format!(
            "{no_ground} residential buildings have no ground height and are not evacuated"
        ));
    }
    if in_zone.is_empty() {
        return Err(scenario_err(
            sc,
            "traffic.evacuation.zone",
            "no building with residents lies in the evacuation zone",
        ));
    }
    let eligible = &cn.in_main_component;
    let points: Vec<P2> = in_zone.iter().map(|&i| acts[i].at).collect();
    let nodes = cn.nearest_nodes(&points, eligible);
    let sources: Vec<Source> = in_zone
        .iter()
        .zip(&nodes)
        .filter_map(|(&i, n)| {
            n.map(|node| Source {
                node,
                persons: acts[i].residents,
                id: i as u32,
            })
        })
        .collect();
    // Destinations: shelters and exits.
    let mut dest: Vec<u32> = Vec::new();
    let mut shelters = 0;
    // Shelters at each destination node: (names, capacity in persons).
    let mut shelter_at: std::collections::BTreeMap<u32, (Vec<String>, f64)> = Default::default();
    if e.destinations.shelters {
        let sh: Vec<_> = city
            .points
            .iter()
            .filter(|p| p.kind == PointKind::Shelter)
            .collect();
        let pts: Vec<P2> = sh.iter().map(|p| [p.x, p.y]).collect();
        shelters = pts.len();
        for (p, n) in sh.iter().zip(cn.nearest_nodes(&pts, eligible)) {
            if let Some(n) = n {
                dest.push(n);
                let e = shelter_at.entry(n).or_default();
                e.0.push(format!("{} ({})", p.name, p.id));
                e.1 += p.capacity.map_or(f64::INFINITY, f64::from);
            }
        }
    }
    let mut exits = 0;
    if e.destinations.exits {
        let ex = exit_nodes(&cn, e);
        exits = ex.len();
        dest.extend(ex);
    }
    dest.sort_unstable();
    dest.dedup();
    if dest.is_empty() {
        return Err(scenario_err(
            sc,
            "traffic.evacuation.destinations",
            "the city has no shelter and no road leaving the network outside the zone",
        ));
    }
    // Network changes: closures at their times, and the flood.
    let mut changes = Vec::new();
    let mut closures = Vec::new();
    for (i, c) in spec.closures.iter().enumerate() {
        let sel = LinkSelection {
            way_ids: c.way_ids.clone(),
            names: c.names.clone(),
            polygon: c.polygon.clone(),
        };
        let links = cn.links_of_road_links(&select_road_links(&city.roads, &sel));
        if links.is_empty() {
            return Err(scenario_err(
                sc,
                &format!("traffic.closure[{i}]"),
                format!("closure `{}` selects no drivable road link", c.id),
            ));
        }
        for &l in &links {
            let kind = if c.capacity_factor == 0.0 {
                ChangeKind::Close
            } else {
                ChangeKind::CapacityFactor(c.capacity_factor)
            };
            changes.push(NetworkChange {
                t_s: c.start_s,
                link: l,
                kind,
            });
            if c.end_s.is_finite() {
                let back = if c.capacity_factor == 0.0 {
                    ChangeKind::Open
                } else {
                    ChangeKind::CapacityFactor(1.0)
                };
                changes.push(NetworkChange {
                    t_s: c.end_s,
                    link: l,
                    kind: back,
                });
            }
        }
        closures.push(ClosureInfo {
            id: c.id.clone(),
            links: links.len(),
            capacity_factor: c.capacity_factor,
            start_s: c.start_s,
            end_s: c.end_s.is_finite().then_some(c.end_s),
        });
    }
    let mut flooded = 0;
    let mut closed_at = vec![f64::NAN; net.link_count()];
    if let Some(times) = flood {
        for l in 0..net.link_count() {
            let r = cn.road_link[l];
            if r == CONNECTOR {
                continue;
            }
            let t = times[r as usize] - e.start_s;
            if t.is_finite() && t < e.duration_s {
                let t = t.max(0.0);
                changes.push(NetworkChange {
                    t_s: t,
                    link: l as u32,
                    kind: ChangeKind::Close,
                });
                closed_at[l] = t;
                flooded += 1;
            }
        }
    }
    let params = QueueParams {
        stuck_time_s: e.stuck_time_s,
        reroute_interval_s: Some(e.reroute_interval_s),
        route_cost: RouteCost::Experienced,
        bin_s: 300.0,
        end_time_s: e.duration_s,
        ..QueueParams::default()
    };
    let mut input = EvacuationInput::new(sources, dest.clone(), mobilisation(e.mobilisation));
    input.persons_per_vehicle = e.persons_per_vehicle;
    input.car_share = e.car_share;
    input.seed = e.seed;
    input.changes = changes;
    input.params = params;
    if e.shelter_capacity {
        input.shelter_capacity = shelter_at
            .iter()
            .filter(|(_, (_, cap))| cap.is_finite())
            .map(|(&n, (_, cap))| (n, *cap))
            .collect();
    }
    progress(Progress::Stage("evacuation: queue simulation"));
    let t0 = std::time::Instant::now();
    let r = evacuate(net, &input).map_err(traffic_err(sc, "traffic.evacuation"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let label = |l: usize| -> String {
        let rl = &city.roads.links[cn.road_link[l] as usize];
        match &rl.name {
            Some(n) => format!("{n} (way {})", rl.way_id),
            None => format!("way {}", rl.way_id),
        }
    };
    progress(Progress::Stage("evacuation: writing results"));
    // evacuation_curve.csv
    let mut csv = String::from("t_s,t_hm,departed_share_planned,arrived_persons,share\n");
    let m = mobilisation(e.mobilisation);
    for p in &r.curve {
        let _ = writeln!(
            csv,
            "{:.0},{},{:.6},{:.3},{:.6}",
            p.t_s,
            hm(p.t_s),
            m.cdf(p.t_s),
            p.arrived_persons,
            p.share
        );
    }
    twin_core::fsio::write_atomic(&dir.join("evacuation_curve.csv"), csv.as_bytes())?;
    files.push("evacuation_curve.csv".into());
    // evacuation_links.csv / .geojson
    let q = &r.queue;
    let mut lcsv = String::from(
        "link,way_id,name,class,from,to,length_m,capacity_veh_h,volume_veh,max_queue_veh,total_delay_s,mean_travel_time_s,free_flow_s,closed_at_s\n",
    );
    let mut features = Vec::new();
    for l in 0..net.link_count() {
        let rl = &city.roads.links[cn.road_link[l] as usize];
        let from = city.roads.nodes[rl.from as usize].id;
        let to = city.roads.nodes[rl.to as usize].id;
        let mtt = q.mean_travel_time_s(l);
        let ca = q.link_closed_at_s[l].or(closed_at[l].is_finite().then_some(closed_at[l]));
        let _ = writeln!(
            lcsv,
            "{},{},{},{},{from},{to},{:.3},{:.1},{},{},{:.3},{},{:.3},{}",
            l + 1,
            rl.way_id,
            csv_text(rl.name.as_deref().unwrap_or("")),
            rl.class.as_str(),
            net.length[l],
            net.capacity[l],
            r.link_volumes[l],
            r.link_max_queue[l],
            q.link_total_delay_s[l],
            mtt.map_or(String::new(), |v| format!("{v:.3}")),
            net.free_flow_time[l] * 60.0,
            ca.map_or(String::new(), |v| format!("{v:.0}")),
        );
        let coords: Vec<[f64; 2]> = rl
            .geometry
            .iter()
            .map(|p| [round3(p[0]), round3(p[1])])
            .collect();
        features.push(serde_json::json!({
            "type": "Feature",
            "properties": {
                "link": l + 1,
                "way_id": rl.way_id,
                "name": rl.name,
                "class": rl.class.as_str(),
                "capacity_veh_h": round3(net.capacity[l]),
                "volume_veh": r.link_volumes[l],
                "max_queue_veh": r.link_max_queue[l],
                "total_delay_s": round3(q.link_total_delay_s[l]),
                "mean_travel_time_s": mtt.map_or(serde_json::Value::Null, json_num),
                "closed": ca.is_some(),
                "closed_at_s": ca.map_or(serde_json::Value::Null, json_num),
            },
            "geometry": {"type": "LineString", "coordinates": coords},
        }));
    }
    twin_core::fsio::write_atomic(&dir.join("evacuation_links.csv"), lcsv.as_bytes())?;
    files.push("evacuation_links.csv".into());
    write_feature_collection(
        &dir.join("evacuation_links.geojson"),
        city,
        "evacuation_links",
        &features,
    )?;
    files.push("evacuation_links.geojson".into());
    // Bottlenecks.
    let mut bcsv = String::from("rank,link,way_id,name,total_delay_h,max_queue_veh,volume_veh\n");
    let mut bottlenecks = Vec::new();
    for (k, b) in r.bottlenecks.iter().enumerate() {
        let rl = &city.roads.links[cn.road_link[b.link as usize] as usize];
        let _ = writeln!(
            bcsv,
            "{},{},{},{},{:.3},{},{}",
            k + 1,
            b.link + 1,
            rl.way_id,
            csv_text(rl.name.as_deref().unwrap_or("")),
            b.total_delay_s / 3600.0,
            b.max_queue,
            b.volume
        );
        if k < 10 {
            bottlenecks.push(BottleneckInfo {
                road: label(b.link as usize),
                link: b.link + 1,
                total_delay_h: (b.total_delay_s / 36.0).round() / 100.0,
                max_queue_veh: b.max_queue,
                volume_veh: b.volume,
            });
        }
    }
    twin_core::fsio::write_atomic(&dir.join("evacuation_bottlenecks.csv"), bcsv.as_bytes())?;
    files.push("evacuation_bottlenecks.csv".into());
    // Where the cars went: persons per destination against shelter capacities.
    let mut at_node: std::collections::BTreeMap<u32, f64> = Default::default();
    for (v, &n) in r.queue.arrival_node.iter().enumerate() {
        if n != u32::MAX {
            *at_node.entry(n).or_default() += r.vehicle_persons[v];
        }
    }
    let mut dcsv =
        String::from("node,kind,name,x,y,capacity_persons,arrived_persons,over_capacity_persons\n");
    let mut over = Vec::new();
    let (mut to_shelters, mut to_exits) = (0.0, 0.0);
    for &n in &dest {
        let arrived = at_node.get(&n).copied().unwrap_or(0.0);
        let p = net.node_xy[n as usize];
        let node_id = city.roads.nodes[cn.road_node[n as usize] as usize].id;
        match shelter_at.get(&n) {
            Some((names, cap)) => {
                to_shelters += arrived;
                let excess = (arrived - cap).max(0.0);
                if excess > 0.0 {
                    over.push(ShelterLoad {
                        shelter: names.join("; "),
                        capacity_persons: *cap,
                        arrived_persons: (arrived * 10.0).round() / 10.0,
                    });
                }
                let _ = writeln!(
                    dcsv,
                    "{node_id},shelter,{},{:.3},{:.3},{},{arrived:.3},{excess:.3}",
                    csv_text(&names.join("; ")),
                    p[0],
                    p[1],
                    if cap.is_finite() {
                        format!("{cap:.0}")
                    } else {
                        String::new()
                    }
                );
            }
            None => {
                to_exits += arrived;
                let _ = writeln!(
                    dcsv,
                    "{node_id},exit,,{:.3},{:.3},,{arrived:.3},",
                    p[0], p[1]
                );
            }
        }
    }
    twin_core::fsio::write_atomic(&dir.join("evacuation_destinations.csv"), dcsv.as_bytes())?;
    files.push("evacuation_destinations.csv".into());
    for o in &over {
        notes.push(format!(
            "shelter {} receives {:.0} persons for {:.0} places",
            o.shelter, o.arrived_persons, o.capacity_persons
        ));
    }
    // Pictures.
    if spec.png {
        {
            let mut chart = LineChart::new("Evacuation")
                .subtitle(format!(
                    "{}: {:.0} persons by car from {} buildings, {} shelters and {} exits",
                    sc.name,
                    r.car_persons,
                    in_zone.len(),
                    shelters,
                    exits
                ))
                .x_label("time after the evacuation order")
                .y_label("share of car persons (%)")
                .x_time_s(true);
            let end = r.curve.last().map_or(e.duration_s, |p| p.t_s).max(600.0);
            let planned: Vec<(f64, f64)> = (0..=200)
                .map(|k| {
                    let t = end * f64::from(k) / 200.0;
                    (t, 100.0 * m.cdf(t))
                })
                .collect();
            chart = chart
                .series(
                    Series::new("departed (mobilisation curve)", planned, [120, 120, 120])
                        .dashed(true),
                )
                .series(Series::new(
                    "arrived at a shelter or exit",
                    r.curve.iter().map(|p| (p.t_s, 100.0 * p.share)).collect(),
                    [31, 119, 180],
                ));
            // Cut off by the water or closures, cumulative, at the curve's times.
            if r.stranded_persons > 0.0 && r.car_persons > 0.0 {
                let mut st: Vec<(f64, f64)> = r
                    .queue
                    .stranded()
                    .map(|(v, t, _)| (t, r.vehicle_persons[v]))
                    .collect();
                st.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut j = 0;
                let mut cum = 0.0;
                let pts: Vec<(f64, f64)> = r
                    .curve
                    .iter()
                    .map(|p| {
                        while j < st.len() && st[j].0 <= p.t_s {
                            cum += st[j].1;
                            j += 1;
                        }
                        (p.t_s, 100.0 * cum / r.car_persons)
                    })
                    .collect();
                chart = chart.series(Series::new("cut off (no open way out)", pts, [213, 94, 0]));
            }
            chart = chart.hline(90.0, "90 %");
            let of = if r.stranded_persons > 0.0 {
                " of those not cut off"
            } else {
                ""
            };
            if let Some(t) = r.t90_s {
                chart = chart.marker(t, format!("T90{of} {}", hm(t)));
            }
            if let Some(t) = r.t100_s {
                chart = chart.marker(t, format!("T100{of} {}", hm(t)));
            }
            chart.write_png(&dir.join("evacuation_curve.png"))?;
            files.push("evacuation_curve.png".into());
        }
        if let Some(dem) = city.terrain.dem.as_ref() {
            let lines: Vec<&[P2]> = (0..net.link_count())
                .map(|l| {
                    city.roads.links[cn.road_link[l] as usize]
                        .geometry
                        .as_slice()
                })
                .collect();
            let map = maps::LineMap::new(city, dem, lines);
            let vol: Vec<f64> = r.link_volumes.iter().map(|&v| v as f64).collect();
            map.write_counts(
                &vol,
                "Evacuation volume",
                "cars",
                &format!("{}: cars per link over the evacuation", sc.name),
                &dir.join("evacuation_volume.png"),
            )?;
            files.push("evacuation_volume.png".into());
            let mq: Vec<f64> = r.link_max_queue.iter().map(|&v| f64::from(v)).collect();
            map.write_counts(
                &mq,
                "Maximum queue",
                "cars",
                &format!("{}: longest queue per link", sc.name),
                &dir.join("evacuation_max_queue.png"),
            )?;
            files.push("evacuation_max_queue.png".into());
            if flooded > 0 {
                let ct: Vec<f32> = closed_at.iter().map(|&t| (t / 3600.0) as f32).collect();
                let tmax = crate::flood::nice_max((e.duration_s / 3600.0).max(0.5)) as f32;
                map.write(
                    &ct,
                    twin_core::render::Palette::Ramp {
                        ramp: twin_core::render::ColorRamp::time(),
                        min: 0.0,
                        max: tmax,
                    },
                    "Road closed by water",
                    "h after the order",
                    &format!("{}: roads under more than the closure depth", sc.name),
                    &dir.join("road_closure_time.png"),
                )?;
                files.push("road_closure_time.png".into());
            }
        }
    }
    let c = &q.counters;
    Ok((
        EvacuationSummary {
            buildings: in_zone.len(),
            persons: r.total_persons,
            car_persons: r.car_persons,
            other_persons: r.other_persons,
            vehicles: r.vehicle_persons.len(),
            shelters,
            exits,
            t90_s: r.t90_s,
            t100_s: r.t100_s,
            arrived_persons: r.arrived_persons,
            stranded_persons: r.stranded_persons,
            en_route_persons: r.en_route_persons,
            share_at_end: if r.car_persons > 0.0 {
                r.arrived_persons / r.car_persons
            } else {
                0.0
            },
            flooded_links: flooded,
            closures,
            bottlenecks,
            persons_to_shelters: to_shelters,
            persons_to_exits: to_exits,
            shelters_over_capacity: over,
            link_traversals: c.link_traversals,
            events: c.events,
            forced_moves: c.forced_moves,
            seconds,
        },
        files,
    ))
}

/// Network nodes where roads leave the network: nodes of the main component within 30 m of
/// the edge of the network's extent, outside the evacuation zone and more than 5 m from its
/// outline (a road leaving the network across the zone's own edge stays in the area at risk).
fn exit_nodes(cn: &CityNetwork, e: &EvacuationSpec) -> Vec<u32> {
    let net = &cn.net;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &net.node_xy {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let tol = 30.0;
    (0..net.node_count as u32)
        .filter(|&n| {
            let p = net.node_xy[n as usize];
            cn.in_main_component[n as usize]
                && (p[0] - x0 < tol || x1 - p[0] < tol || p[1] - y0 < tol || y1 - p[1] < tol)
                && e.zone
                    .as_ref()
                    .is_none_or(|z| !z.contains(p) && ring_distance(&z.exterior, p) > 5.0)
        })
        .collect()
}

/// Distance from `p` to the closed ring's outline.
fn ring_distance(ring: &[P2], p: P2) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|k| {
            let (a, b) = (ring[k], ring[(k + 1) % n]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
        })
        .fold(f64::INFINITY, f64::min)
}
