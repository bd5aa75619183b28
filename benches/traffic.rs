//! Traffic throughput: static user equilibrium on Sioux Falls (Algorithm B to relative gap
//! 1e-10, bi-conjugate Frank–Wolfe to 1e-4) and on the Helsinki OSM network with a synthetic
//! gravity demand, and Bayreuth (time to gaps 1e-4 … 1e-10, printed); the queue model's
//! vehicle link traversals per second on the Helsinki network.
//!
//! `cargo bench --bench traffic` (figures in docs/benchmarks.md).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use sim_traffic::assign::{Algorithm, AssignParams, assign};
use sim_traffic::city::{CityNetwork, NetworkOptions};
use sim_traffic::queue::{QueueParams, Trip, simulate};
use sim_traffic::{Demand, Network};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn data(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}

fn sioux() -> (Network, Demand) {
    let net = std::fs::read_to_string(data("tntp/SiouxFalls_net.tntp")).unwrap();
    let trips = std::fs::read_to_string(data("tntp/SiouxFalls_trips.tntp")).unwrap();
    let (n, _) = sim_traffic::tntp::parse_net(&net).unwrap();
    let d = sim_traffic::tntp::parse_trips(&trips, n.node_count).unwrap();
    (n, d)
}

/// An OSM network with 400 m zones weighted by the road length in them, connected
/// to their two nearest nodes, and a doubly constrained gravity demand (β = 0.1 / min)
/// scaled to `total` veh/h.
fn osm_gravity(file: &str, epsg: u32, total: f64) -> (CityNetwork, Demand) {
    let opts = twin_core::import::ImportOptions {
        keep_surfaces: false,
        bbox: None,
        target_epsg: Some(epsg),
    };
    let city = twin_core::import::load_city(&data(file), &opts).unwrap();
    let roads = CityNetwork::new(&city.roads, &NetworkOptions::default()).unwrap();
    // Zones: 400 m cells holding main-component nodes, weighted by the length around them.
    let mut cells: std::collections::BTreeMap<(i64, i64), (f64, f64, f64)> = Default::default();
    let net = &roads.net;
    for l in 0..net.link_count() {
        let a = net.from[l] as usize;
        if !roads.in_main_component[a] {
            continue;
        }
        let p = net.node_xy[a];
        let e = cells
            .entry(((p[0] / 400.0).floor() as i64, (p[1] / 400.0).floor() as i64))
            .or_default();
        e.0 += net.length[l] * p[0];
        e.1 += net.length[l] * p[1];
        e.2 += net.length[l];
    }
    let centroids: Vec<[f64; 2]> = cells.values().map(|c| [c.0 / c.2, c.1 / c.2]).collect();
    let weight: Vec<f64> = cells.values().map(|c| c.2).collect();
    let cn = CityNetwork::with_zones(&city.roads, &centroids, &NetworkOptions::default()).unwrap();
    let nz = centroids.len();
    let cost = sim_traffic::paths::zone_cost_matrix(&cn.net, &cn.net.free_flow_time, nz);
    let wsum: f64 = weight.iter().sum();
    let p: Vec<f64> = weight.iter().map(|w| total * w / wsum).collect();
    let g = sim_traffic::demand::gravity(&p, &p, &cost, 0.1, 1e-10, 1000).unwrap();
    let mut od = Vec::new();
    for i in 0..nz {
        for j in 0..nz {
            if i != j && g.trips[i * nz + j] > 1e-9 && cost[i * nz + j].is_finite() {
                od.push((i as u32, j as u32, g.trips[i * nz + j]));
            }
        }
    }
    let d = Demand::from_triples(cn.net.node_count, od).unwrap();
    (cn, d)
}

fn params(algorithm: Algorithm, gap: f64) -> AssignParams {
    AssignParams {
        algorithm,
        target_gap: gap,
        max_iterations: 100_000,
        max_seconds: 600.0,
        ..AssignParams::default()
    }
}

fn print_gaps(what: &str, r: &sim_traffic::assign::AssignResult) {
    let mut line = format!(
        "{what}: {} iterations, gap {:.2e}, objective {:.9e};",
        r.iterations, r.relative_gap, r.objective
    );
    for g in [1e-4, 1e-6, 1e-8, 1e-10] {
        match r.history.iter().find(|p| p.relative_gap < g) {
            Some(p) => line.push_str(&format!(
                " {g:.0e} at {:.4} s (it {})",
                p.seconds, p.iteration
            )),
            None => line.push_str(&format!(" {g:.0e} not reached")),
        }
    }
    eprintln!("{line}");
}

/// Print a network's size and the times to the gaps of Algorithm B (to 1e-10, 2 threads)
/// and BFW (60 s limit).
fn gaps_on(name: &str, cn: &CityNetwork, d: &Demand) {
    eprintln!(
        "{name}: {} nodes, {} links, {} zones, {:.0} trips",
        cn.net.node_count,
        cn.net.link_count(),
        cn.zone_count,
        d.total()
    );
    let r = assign(
        &cn.net,
        d,
        &params(Algorithm::AlgorithmB, 1e-10),
        &mut |_| {},
    )
    .unwrap();
    print_gaps(&format!("{name}, Algorithm B, 2 threads"), &r);
    let bfw = AssignParams {
        max_seconds: 60.0,
        ..params(Algorithm::BiconjugateFrankWolfe, 1e-6)
    };
    let r = assign(&cn.net, d, &bfw, &mut |_| {}).unwrap();
    print_gaps(&format!("{name}, BFW (60 s limit)"), &r);
}

fn assignment(c: &mut Criterion) {
    let (net, demand) = sioux();
    let mut g = c.benchmark_group("assign_sioux_falls");
    g.sample_size(20);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("algorithm_b_gap_1e-10_{threads}_threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    black_box(
                        assign(
                            &net,
                            &demand,
                            &params(Algorithm::AlgorithmB, 1e-10),
                            &mut |_| {},
                        )
                        .unwrap(),
                    )
                })
            })
        });
    }
    g.bench_function("bfw_gap_1e-4_1_thread", |b| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        b.iter(|| {
            pool.install(|| {
                black_box(
                    assign(
                        &net,
                        &demand,
                        &params(Algorithm::BiconjugateFrankWolfe, 1e-4),
                        &mut |_| {},
                    )
                    .unwrap(),
                )
            })
        })
    });
    g.finish();
    let r = assign(
        &net,
        &demand,
        &params(Algorithm::AlgorithmB, 1e-12),
        &mut |_| {},
    )
    .unwrap();
    print_gaps("Sioux Falls, Algorithm B", &r);
    let r = assign(
        &net,
        &demand,
        &params(Algorithm::BiconjugateFrankWolfe, 1e-6),
        &mut |_| {},
    )
    .unwrap();
    print_gaps("Sioux Falls, BFW", &r);

    let (bn, bd) = osm_gravity("osm/north-bayreuth.osm.gz", 25832, 20_000.0);
    gaps_on("Bayreuth", &bn, &bd);
    let (cn, d) = osm_gravity("osm/helsinki.osm.pbf", 25835, 20_000.0);
    gaps_on("Helsinki", &cn, &d);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let r = pool.install(|| {
        assign(
            &cn.net,
            &d,
            &params(Algorithm::AlgorithmB, 1e-10),
            &mut |_| {},
        )
        .unwrap()
    });
    print_gaps("Helsinki, Algorithm B, 1 thread", &r);
    let mut g = c.benchmark_group("assign_helsinki");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("algorithm_b_gap_1e-6_2_threads", |b| {
        b.iter(|| {
            black_box(
                assign(
                    &cn.net,
                    &d,
                    &params(Algorithm::AlgorithmB, 1e-6),
                    &mut |_| {},
                )
                .unwrap(),
            )
        })
    });
    g.finish();
}

fn queue(c: &mut Criterion) {
    let opts = twin_core::import::ImportOptions {
        keep_surfaces: false,
        bbox: None,
        target_epsg: Some(25835),
    };
    let city = twin_core::import::load_city(&data("osm/helsinki.osm.pbf"), &opts).unwrap();
    let cn = CityNetwork::new(&city.roads, &NetworkOptions::default()).unwrap();
    let main: Vec<u32> = (0..cn.net.node_count as u32)
        .filter(|&n| cn.in_main_component[n as usize])
        .collect();
    // 20,000 trips over two hours between random nodes, to 64 destination sets of 4 nodes.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let sets: Vec<Vec<u32>> = (0..64)
        .map(|_| {
            (0..4)
                .map(|_| main[rng.random_range(0..main.len())])
                .collect()
        })
        .collect();
    let trips: Vec<Trip> = (0..20_000)
        .map(|_| Trip {
            origin: main[rng.random_range(0..main.len())],
            departure_s: rng.random_range(0.0..7200.0),
            dest_set: rng.random_range(0..64u32),
        })
        .collect();
    let p = QueueParams {
        reroute_interval_s: Some(300.0),
        end_time_s: 6.0 * 3600.0,
        ..QueueParams::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let r = pool.install(|| simulate(&cn.net, &trips, &sets, &[], &p).unwrap());
    let t = std::time::Instant::now();
    let r2 = pool.install(|| simulate(&cn.net, &trips, &sets, &[], &p).unwrap());
    let s = t.elapsed().as_secs_f64();
    assert_eq!(r, r2);
    eprintln!(
        "queue model, Helsinki: {} nodes, {} links, {} trips, {} link traversals, {} events, {} forced moves, {} trees, {} arrived, {:.2} s: {:.2} M traversals/s (1 thread)",
        cn.net.node_count,
        cn.net.link_count(),
        trips.len(),
        r.counters.link_traversals,
        r.counters.events,
        r.counters.forced_moves,
        r.counters.tree_computations,
        r.counters.arrived,
        s,
        r.counters.link_traversals as f64 / s / 1e6
    );
    let mut g = c.benchmark_group("queue_helsinki_20k_trips_2h");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(r.counters.link_traversals));
    g.bench_function("1_thread", |b| {
        b.iter(|| pool.install(|| black_box(simulate(&cn.net, &trips, &sets, &[], &p).unwrap())))
    });
    g.finish();
}

criterion_group!(benches, assignment, queue);
criterion_main!(benches);
