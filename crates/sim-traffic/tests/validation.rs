//! Validation against the TNTP Sioux Falls best-known solution, thread-count determinism and
//! (when its files are present) a larger network.

use std::path::{Path, PathBuf};

use sim_traffic::assign::{Algorithm, AssignParams, AssignResult, GapPoint, assign};
use sim_traffic::tntp::{parse_flow, parse_net, parse_trips};
use sim_traffic::{Demand, Network};

/// Best-known Beckmann objective and TSTT of Sioux Falls (TNTP).
const SF_OBJECTIVE: f64 = 4_231_335.287;
const SF_TSTT: f64 = 7_480_225.34;

fn data_dir() -> Option<PathBuf> {
    [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/tntp"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/tntp"),
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("SiouxFalls_net.tntp").is_file())
}

fn read(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn load(dir: &Path, prefix: &str) -> (Network, Demand) {
    let (net, _) = parse_net(&read(dir, &format!("{prefix}_net.tntp")))
        .unwrap_or_else(|e| panic!("{prefix}_net.tntp: {e}"));
    let dem = parse_trips(&read(dir, &format!("{prefix}_trips.tntp")), net.node_count)
        .unwrap_or_else(|e| panic!("{prefix}_trips.tntp: {e}"));
    (net, dem)
}

fn sioux_falls() -> Option<(PathBuf, Network, Demand)> {
    let Some(dir) = data_dir() else {
        eprintln!("note: TNTP Sioux Falls data not found; skipping");
        return None;
    };
    let (net, dem) = load(&dir, "SiouxFalls");
    Some((dir, net, dem))
}

fn params(algorithm: Algorithm, gap: f64, iters: usize, secs: f64) -> AssignParams {
    AssignParams {
        algorithm,
        target_gap: gap,
        max_iterations: iters,
        max_seconds: secs,
        ..Default::default()
    }
}

/// Seconds (and iteration) at which the history first reached each gap.
fn print_times(label: &str, h: &[GapPoint]) {
    for g in [1e-4, 1e-6, 1e-8, 1e-10] {
        match h.iter().find(|p| p.relative_gap <= g) {
            Some(p) => eprintln!(
                "{label}: gap {g:e} after {:.2} ms, {} iterations",
                p.seconds * 1e3,
                p.iteration
            ),
            None => eprintln!("{label}: gap {g:e} not reached"),
        }
    }
}

fn bits(r: &AssignResult) -> Vec<u64> {
    r.flow.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn sioux_falls_files_parse() {
    let Some((dir, net, dem)) = sioux_falls() else {
        return;
    };
    assert_eq!(net.node_count, 24);
    assert_eq!(net.link_count(), 76);
    assert_eq!(net.first_thru_node, 0);
    assert!((dem.total() - 360_600.0).abs() < 1e-6);
    let flow = parse_flow(&read(&dir, "SiouxFalls_flow.tntp")).unwrap();
    assert_eq!(flow.len(), 76);
    for (l, &(f, t, _, _)) in flow.iter().enumerate() {
        assert_eq!((net.from[l], net.to[l]), (f, t));
    }
}

#[test]
fn sioux_falls_algorithm_b_matches_best_known() {
    let Some((dir, net, dem)) = sioux_falls() else {
        return;
    };
    let p = params(Algorithm::AlgorithmB, 1e-10, 10_000, 60.0);
    // On one thread: a warm-up run (page faults), then the timed one.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let _ = pool.install(|| assign(&net, &dem, &p, &mut |_| {}).unwrap());
    let r = pool.install(|| assign(&net, &dem, &p, &mut |_| {}).unwrap());
    eprintln!(
        "Sioux Falls, Algorithm B (1 thread): gap {:.3e} in {} iterations, {:.2} ms; \
         objective {:.6}, TSTT {:.4}",
        r.relative_gap,
        r.iterations,
        r.seconds * 1e3,
        r.objective,
        r.tstt
    );
    print_times("Sioux Falls B", &r.history);
    assert!(r.converged);
    assert!(r.relative_gap < 1e-10, "gap {}", r.relative_gap);
    assert!(
        ((r.objective - SF_OBJECTIVE) / SF_OBJECTIVE).abs() < 1e-6,
        "objective {}",
        r.objective
    );
    assert!(
        ((r.tstt - SF_TSTT) / SF_TSTT).abs() < 1e-6,
        "tstt {}",
        r.tstt
    );
    let best = parse_flow(&read(&dir, "SiouxFalls_flow.tntp")).unwrap();
    let mut max_diff = 0.0f64;
    let mut max_cost_diff = 0.0f64;
    for (l, &(_, _, v, c)) in best.iter().enumerate() {
        max_diff = max_diff.max((r.flow[l] - v).abs());
        max_cost_diff = max_cost_diff.max((r.cost[l] - c).abs());
    }
    eprintln!(
        "Sioux Falls, Algorithm B: max |flow − best known| = {max_diff:.3e} veh/h, \
         max |cost − best known| = {max_cost_diff:.3e} min"
    );
    assert!(max_diff < 1e-3, "max flow difference {max_diff}");
    assert!(r.unroutable_demand == 0.0);
    // Gap history is recorded for every iteration and ends at the result.
    assert_eq!(r.history.len(), r.iterations + 1);
    assert_eq!(r.history[0].iteration, 0);
}

#[test]
fn sioux_falls_biconjugate_frank_wolfe() {
    let Some((_, net, dem)) = sioux_falls() else {
        return;
    };
    let r = assign(
        &net,
        &dem,
        &params(Algorithm::BiconjugateFrankWolfe, 1e-4, 10_000, 60.0),
        &mut |_| {},
    )
    .unwrap();
    eprintln!(
        "Sioux Falls, BFW: gap {:.3e} in {} iterations, {:.2} ms",
        r.relative_gap,
        r.iterations,
        r.seconds * 1e3
    );
    assert!(r.converged && r.relative_gap <= 1e-4);
    let r = assign(
        &net,
        &dem,
        &params(Algorithm::BiconjugateFrankWolfe, 0.0, 2_000, 2.0),
        &mut |_| {},
    )
    .unwrap();
    eprintln!(
        "Sioux Falls, BFW: gap {:.3e} after {} iterations, {:.2} ms; objective {:.6}",
        r.relative_gap,
        r.iterations,
        r.seconds * 1e3,
        r.objective
    );
    print_times("Sioux Falls BFW", &r.history);
    assert!(r.relative_gap < 1e-4);
    assert!(((r.objective - SF_OBJECTIVE) / SF_OBJECTIVE).abs() < 1e-5);
    let r = assign(
        &net,
        &dem,
        &params(Algorithm::FrankWolfe, 0.0, 2_000, 2.0),
        &mut |_| {},
    )
    .unwrap();
    eprintln!(
        "Sioux Falls, FW: gap {:.3e} after {} iterations, {:.2} ms",
        r.relative_gap,
        r.iterations,
        r.seconds * 1e3
    );
    print_times("Sioux Falls FW", &r.history);
    assert!(r.relative_gap < 1e-2);
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let Some((_, net, dem)) = sioux_falls() else {
        return;
    };
    for alg in [
        Algorithm::AlgorithmB,
        Algorithm::BiconjugateFrankWolfe,
        Algorithm::FrankWolfe,
    ] {
        // Iteration-limited (not time-limited) so every run does the same work.
        let p = params(alg, 1e-12, 200, f64::INFINITY);
        let run = |k: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .unwrap()
                .install(|| assign(&net, &dem, &p, &mut |_| {}).unwrap())
        };
        let r1 = run(1);
        for k in [2, 3] {
            let rk = run(k);
            assert_eq!(bits(&r1), bits(&rk), "{alg:?} with {k} threads");
            assert_eq!(r1.iterations, rk.iterations);
            assert_eq!(r1.relative_gap.to_bits(), rk.relative_gap.to_bits());
        }
    }
}

#[test]
fn bad_files_are_errors() {
    let Some((dir, net, _)) = sioux_falls() else {
        return;
    };
    let text = read(&dir, "SiouxFalls_net.tntp");
    // Every prefix parses or fails cleanly; a truncated file is an error (link count).
    let mut ok = 0;
    for (i, _) in text.char_indices() {
        if parse_net(&text[..i]).is_ok() {
            ok += 1;
        }
    }
    // Only prefixes cut inside the final row's trailing columns/whitespace can parse (and
    // then only when they still hold 10 columns).
    assert!(ok < 20, "{ok} prefixes parsed");
    let trips = read(&dir, "SiouxFalls_trips.tntp");
    for (i, _) in trips.char_indices().step_by(7) {
        let _ = parse_trips(&trips[..i], net.node_count);
    }
    // A truncated trips file fails the total check.
    let cut = &trips[..trips.len() / 2];
    assert!(parse_trips(cut, net.node_count).is_err());
}

/// Larger networks, when their files are present in `/work/data/tntp` or `$TNTP_DIR`.
#[test]
fn larger_networks_if_present() {
    let dirs: Vec<PathBuf> = std::env::var_os("TNTP_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/work/data/tntp")])
        .collect();
    let mut found = false;
    for dir in dirs {
        for name in ["Anaheim", "Barcelona", "Winnipeg", "ChicagoSketch"] {
            if !(dir.join(format!("{name}_net.tntp")).is_file()
                && dir.join(format!("{name}_trips.tntp")).is_file())
            {
                continue;
            }
            found = true;
            let (net, dem) = load(&dir, name);
            let r = assign(
                &net,
                &dem,
                &params(Algorithm::AlgorithmB, 1e-10, 10_000, 120.0),
                &mut |_| {},
            )
            .unwrap();
            eprintln!(
                "{name} ({} nodes, {} links, {} origins), Algorithm B: gap {:.3e} in {} \
                 iterations, {:.1} ms; objective {:.6}",
                net.node_count,
                net.link_count(),
                dem.origin_count(),
                r.relative_gap,
                r.iterations,
                r.seconds * 1e3,
                r.objective
            );
            print_times(&format!("{name} B"), &r.history);
            assert!(r.relative_gap < 1e-8);
            let r = assign(
                &net,
                &dem,
                &params(Algorithm::BiconjugateFrankWolfe, 1e-4, 10_000, 60.0),
                &mut |_| {},
            )
            .unwrap();
            eprintln!(
                "{name}, BFW: gap {:.3e} in {} iterations, {:.1} ms",
                r.relative_gap,
                r.iterations,
                r.seconds * 1e3
            );
        }
    }
    if !found {
        eprintln!("note: no larger TNTP network in /work/data/tntp or $TNTP_DIR; skipping");
    }
}

/// A synthetic city: a `side` × `side` grid of two-way streets (mixed capacities and BPR
/// powers) with `zones` centroid nodes (numbered first, so never routed through), each tied
/// to one grid node by a pair of connectors; gravity-like demand between all zones.
fn synthetic_city(side: u32, zones: u32) -> (Network, Demand) {
    use sim_traffic::LinkSpec;
    let node = |r: u32, c: u32| zones + r * side + c;
    let mut links = Vec::new();
    let mut h = 12345u64;
    let mut rnd = || {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        (h % 1000) as f64 / 1000.0
    };
    for r in 0..side {
        for c in 0..side {
            for (r2, c2) in [(r + 1, c), (r, c + 1)] {
                if r2 < side && c2 < side {
                    let cap = 600.0 + 1400.0 * rnd();
                    let t = 0.5 + rnd();
                    let power = [4.0, 4.0, 2.0, 1.0][(rnd() * 4.0) as usize % 4];
                    for (a, b) in [(node(r, c), node(r2, c2)), (node(r2, c2), node(r, c))] {
                        links.push(LinkSpec {
                            power,
                            ..LinkSpec::bpr(a, b, cap, t * 500.0, t)
                        });
                    }
                }
            }
        }
    }
    for z in 0..zones {
        let g = node((z * 7) % side, (z * 13 + z / side) % side);
        links.push(LinkSpec::bpr(z, g, 1e5, 0.0, 0.1));
        links.push(LinkSpec::bpr(g, z, 1e5, 0.0, 0.1));
    }
    let net = Network::new((zones + side * side) as usize, zones, &links).unwrap();
    let mut od = Vec::new();
    for o in 0..zones {
        for d in 0..zones {
            if o != d {
                od.push((o, d, 20.0 + 60.0 * rnd()));
            }
        }
    }
    let dem = Demand::from_triples(net.node_count, od).unwrap();
    (net, dem)
}

#[test]
fn synthetic_city_converges_and_is_deterministic() {
    let (net, dem) = synthetic_city(20, 60);
    let p = params(Algorithm::AlgorithmB, 1e-10, 10_000, 60.0);
    let r = assign(&net, &dem, &p, &mut |_| {}).unwrap();
    eprintln!(
        "synthetic city ({} nodes, {} links, {} zones, {:.0} trips), Algorithm B: gap {:.3e} \
         in {} iterations, {:.1} ms",
        net.node_count,
        net.link_count(),
        dem.origin_count(),
        dem.total(),
        r.relative_gap,
        r.iterations,
        r.seconds * 1e3
    );
    print_times("synthetic city B", &r.history);
    assert!(r.converged && r.relative_gap < 1e-10);
    // No flow leaves a zone except on its own trips: the connectors out of a zone carry
    // exactly the zone's production.
    for z in 0..60u32 {
        let out: f64 = net.out_of(z).iter().map(|&l| r.flow[l as usize]).sum();
        let k = dem.origins.iter().position(|&o| o == z).unwrap();
        let prod: f64 = dem.of(k).1.iter().sum();
        assert!(
            (out - prod).abs() < 1e-6 * prod,
            "zone {z}: {out} vs {prod}"
        );
    }
    let bfw = assign(
        &net,
        &dem,
        &params(Algorithm::BiconjugateFrankWolfe, 1e-4, 20_000, 30.0),
        &mut |_| {},
    )
    .unwrap();
    eprintln!(
        "synthetic city, BFW: gap {:.3e} in {} iterations, {:.1} ms; objective differs from B \
         by {:.2e} relative",
        bfw.relative_gap,
        bfw.iterations,
        bfw.seconds * 1e3,
        (bfw.objective - r.objective) / r.objective
    );
    assert!(bfw.relative_gap <= 1e-4);
    assert!(((bfw.objective - r.objective) / r.objective).abs() < 1e-4);
    let p = params(Algorithm::AlgorithmB, 1e-12, 8, f64::INFINITY);
    let run = |k: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(k)
            .build()
            .unwrap()
            .install(|| assign(&net, &dem, &p, &mut |_| {}).unwrap())
    };
    let r1 = run(1);
    for k in [2, 3] {
        assert_eq!(bits(&r1), bits(&run(k)), "{k} threads");
    }
}
