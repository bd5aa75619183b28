//! Algorithm B and bi-conjugate Frank–Wolfe on a large synthetic grid: `side × side` nodes
//! 200 m apart (two-way links of 900 veh/h at 50 km/h), zones at every `step`-th node in both
//! directions, a gravity demand (β = 0.05 / min) of `total` veh/h. Prints the time to gaps
//! 1e-4 … 1e-10.
//!
//! `cargo run -p sim-traffic --release --example assign_grid -- [side] [step] [total] [max_s]`

use sim_traffic::assign::{Algorithm, AssignParams, assign};
use sim_traffic::{Demand, Network};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: f64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let side = arg(1, 100.0) as usize;
    let step = arg(2, 5.0) as usize;
    let total = arg(3, 60_000.0);
    let max_s = arg(4, 300.0);
    let net = Network::grid(side, side, 200.0, 900.0, 0.24, 1.0).unwrap();
    let zones: Vec<u32> = (0..side)
        .step_by(step)
        .flat_map(|y| (0..side).step_by(step).map(move |x| (y * side + x) as u32))
        .collect();
    let nz = zones.len();
    // Gravity on free-flow times between the zones (Manhattan distance on the grid).
    let xy = |n: u32| ((n as usize % side) as f64, (n as usize / side) as f64);
    let mut cost = vec![0.0; nz * nz];
    for i in 0..nz {
        for j in 0..nz {
            let (a, b) = (xy(zones[i]), xy(zones[j]));
            cost[i * nz + j] = ((a.0 - b.0).abs() + (a.1 - b.1).abs()) * 0.24;
        }
    }
    let p = vec![total / nz as f64; nz];
    let g = sim_traffic::demand::gravity(&p, &p, &cost, 0.05, 1e-10, 1000).unwrap();
    let mut od = Vec::new();
    for i in 0..nz {
        for j in 0..nz {
            if i != j && g.trips[i * nz + j] > 1e-6 {
                od.push((zones[i], zones[j], g.trips[i * nz + j]));
            }
        }
    }
    let d = Demand::from_triples(net.node_count, od).unwrap();
    eprintln!(
        "grid {side}x{side}: {} nodes, {} links, {nz} zones, {} OD pairs, {:.0} trips",
        net.node_count,
        net.link_count(),
        d.dest.len(),
        d.total()
    );
    for alg in [Algorithm::AlgorithmB, Algorithm::BiconjugateFrankWolfe] {
        let params = AssignParams {
            algorithm: alg,
            target_gap: 1e-10,
            max_iterations: 100_000,
            max_seconds: max_s,
            ..AssignParams::default()
        };
        let r = assign(&net, &d, &params, &mut |_| {}).unwrap();
        let mut line = format!(
            "{alg:?}: {} iterations, {:.1} s, gap {:.2e}, objective {:.9e};",
            r.iterations, r.seconds, r.relative_gap, r.objective
        );
        for gap in [1e-4, 1e-6, 1e-8, 1e-10] {
            match r.history.iter().find(|p| p.relative_gap < gap) {
                Some(p) => line.push_str(&format!(
                    " {gap:.0e} at {:.2} s (it {})",
                    p.seconds, p.iteration
                )),
                None => line.push_str(&format!(" {gap:.0e} not reached")),
            }
        }
        eprintln!("{line}");
    }
}
