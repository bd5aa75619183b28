//! Throughput of the queue model on a grid: link traversals per second.
//!
//! `cargo run --release --example queue_bench -- [side] [trips] [sets] [threads]`
//! (defaults 100 × 100 nodes, 200 000 trips, 100 destination sets, 1 thread).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim_traffic::{Network, QueueParams, Trip, simulate};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let side = args.first().copied().unwrap_or(100);
    let n_trips = args.get(1).copied().unwrap_or(200_000);
    let n_sets = args.get(2).copied().unwrap_or(100);
    let threads = args.get(3).copied().unwrap_or(1);
    // 200 m blocks, 1800 veh/h, 50 km/h (14.4 s), one lane (26 vehicles of storage).
    let net = Network::grid(side, side, 200.0, 1800.0, 0.24, 1.0).expect("grid");
    let nodes = net.node_count as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let sets: Vec<Vec<u32>> = (0..n_sets)
        .map(|_| vec![rng.random_range(0..nodes)])
        .collect();
    let trips: Vec<Trip> = (0..n_trips)
        .map(|_| Trip {
            origin: rng.random_range(0..nodes),
            departure_s: rng.random_range(0.0..7200.0),
            dest_set: rng.random_range(0..n_sets as u32),
        })
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    println!(
        "grid {side}x{side}: {} nodes, {} links, {n_trips} trips, {n_sets} destination sets, {threads} thread(s)",
        net.node_count,
        net.link_count()
    );
    for reroute in [None, Some(600.0), Some(300.0)] {
        let params = QueueParams {
            reroute_interval_s: reroute,
            ..Default::default()
        };
        let t0 = Instant::now();
        let r = pool
            .install(|| simulate(&net, &trips, &sets, &[], &params))
            .expect("simulate");
        let s = t0.elapsed().as_secs_f64();
        let c = r.counters;
        assert!(r.is_conserved());
        println!(
            "reroute {reroute:?}: {:.3} s, {} traversals, {} events, {} trees, {} forced, \
             arrived {} stranded {} en route {} -> {:.2} M traversals/s, {:.2} M events/s, \
             last arrival {:.0} s",
            s,
            c.link_traversals,
            c.events,
            c.tree_computations,
            c.forced_moves,
            c.arrived,
            c.stranded,
            c.on_links + c.in_buffers,
            c.link_traversals as f64 / s / 1e6,
            c.events as f64 / s / 1e6,
            r.end_time_s
        );
    }
}
