//! Validation of the queue model and the evacuation layer against analytical results.

use sim_traffic::{
    ChangeKind, EvacuationInput, LinkSpec, Mobilisation, Network, NetworkChange, QueueParams,
    QueueResult, Source, TrafficError, Trip, VehicleState, evacuate, simulate,
};

/// A link with `lanes` = 1, given capacity (veh/h), length (m) and free-flow time (s).
fn link(from: u32, to: u32, cap: f64, len: f64, fft_s: f64) -> LinkSpec {
    LinkSpec::bpr(from, to, cap, len, fft_s / 60.0)
}

fn assert_conserved(r: &QueueResult) {
    assert!(r.is_conserved(), "not conserved: {:?}", r.counters);
}

/// Vehicles evenly spaced: `n` departures `dt` apart from `origin` to set 0.
fn even_trips(origin: u32, n: usize, dt: f64, t0: f64) -> Vec<Trip> {
    (0..n)
        .map(|k| Trip {
            origin,
            departure_s: t0 + k as f64 * dt,
            dest_set: 0,
        })
        .collect()
}

/// Point-queue bottleneck: A(t) = D·t, D(t) = C·(t − fft). Discharge rate, per-vehicle
/// delays, the queue length over time and the total delay match within one headway /
/// one vehicle.
#[test]
fn single_bottleneck_matches_point_queue() {
    // (capacity veh/h, demand veh/h, minutes of demand, fft s)
    for &(cap, dem, minutes, fft) in &[(1800.0, 3600.0, 30.0, 60.0), (1000.0, 2500.0, 20.0, 97.3)] {
        let net = Network::new(2, 0, &[link(0, 1, cap, 50_000.0, fft)]).unwrap();
        let n = (dem * minutes / 60.0) as usize;
        let dt = 3600.0 / dem;
        let trips = even_trips(0, n, dt, 0.0);
        let r = simulate(&net, &trips, &[vec![1]], &[], &QueueParams::default()).unwrap();
        assert!(
            r.arrival_node.iter().all(|&n| n == 1),
            "every car arrives at node 1"
        );
        assert_conserved(&r);
        assert_eq!(r.counters.arrived as usize, n);
        let h = 3600.0 / cap;
        let exits: Vec<f64> = (0..n).map(|v| r.arrival_s(v).unwrap()).collect();
        // Discharge rate = C.
        let rate = (n - 1) as f64 / (exits[n - 1] - exits[0]) * 3600.0;
        assert!((rate - cap).abs() < 1e-6 * cap, "discharge {rate} vs {cap}");
        // Each vehicle: D(t_k) = k → t_k = fft + k / C (point queue), delay = t_k − (dep + fft).
        let mut worst: f64 = 0.0;
        for (k, &t) in exits.iter().enumerate() {
            let t_pq = fft + k as f64 * h;
            worst = worst.max((t - t_pq).abs());
            let delay_pq = (t_pq - (trips[k].departure_s + fft)).max(0.0);
            let delay = t - (trips[k].departure_s + fft);
            assert!(
                (delay - delay_pq).abs() <= h,
                "vehicle {k}: {delay} vs {delay_pq}"
            );
        }
        assert!(worst <= h, "exit time error {worst} > headway {h}");
        // Queue length Q(t) = A(t − fft) − D(t) (vehicles past their free-flow exit, not left).
        let t_end = exits[n - 1];
        let mut t = 0.0;
        let mut q_max_pq: f64 = 0.0;
        while t < t_end {
            let q_sim = (0..n)
                .filter(|&v| trips[v].departure_s + fft < t && exits[v] >= t)
                .count() as f64;
            let a = ((t - fft) / dt).floor().clamp(-1.0, n as f64 - 1.0) + 1.0;
            let d = ((t - fft) * cap / 3600.0).clamp(0.0, n as f64);
            let q_pq = (a - d).max(0.0);
            q_max_pq = q_max_pq.max(q_pq);
            assert!(
                (q_sim - q_pq).abs() <= 1.0 + 1e-9,
                "t {t}: queue {q_sim} vs {q_pq}"
            );
            t += 7.7;
        }
        // The point-queue maximum is reached just after a vehicle's free-flow exit time.
        for (k, trip) in trips.iter().enumerate() {
            let t = trip.departure_s + fft + 1e-9;
            let d = ((t - fft) * cap / 3600.0).clamp(0.0, n as f64);
            q_max_pq = q_max_pq.max(k as f64 + 1.0 - d);
        }
        let q_max = r.link_max_queue[0] as f64;
        assert!(
            (q_max - q_max_pq).abs() <= 1.0,
            "max queue {q_max} vs {q_max_pq}"
        );
        // Total delay = area between the cumulative curves Σ_k (fft + k h − (k dt + fft)).
        let delay_pq: f64 = (0..n)
            .map(|k| (k as f64 * h - k as f64 * dt).max(0.0))
            .sum();
        assert!(
            (r.link_total_delay_s[0] - delay_pq).abs() <= n as f64 * 1e-9 * h.max(1.0),
            "{} vs {delay_pq}",
            r.link_total_delay_s[0]
        );
        println!(
            "bottleneck C={cap} D={dem}: max exit-time error {worst:.3e} s, max queue {q_max} \
             (point queue {q_max_pq:.2})"
        );
    }
}

/// Storage-limited bottleneck: the queue spills back onto the upstream link, which queues
/// what the point queue predicts minus the downstream storage; without the storage limit
/// the upstream link has no queue.
#[test]
fn spillback_onto_upstream_link() {
    let fft0 = 60.0;
    let fft1 = 10.0;
    let run = |len1: f64| {
        let net = Network::new(
            3,
            0,
            &[
                link(0, 1, 3600.0, 100_000.0, fft0),
                link(1, 2, 1200.0, len1, fft1),
            ],
        )
        .unwrap();
        let trips = even_trips(0, 600, 1.0, 0.0);
        let r = simulate(&net, &trips, &[vec![2]], &[], &QueueParams::default()).unwrap();
        assert_conserved(&r);
        assert_eq!(r.counters.arrived, 600);
        r
    };
    let limited = run(75.0); // 10 vehicles of storage
    let free = run(100_000.0);
    assert!(limited.link_max_occupancy[1] <= 10);
    assert_eq!(
        free.link_max_queue[0], 0,
        "no spillback without the storage limit"
    );
    // Discharge at the bottleneck is its capacity either way.
    for r in [&limited, &free] {
        let t: Vec<f64> = (0..600).map(|v| r.arrival_s(v).unwrap()).collect();
        let rate = 599.0 / (t[599] - t[0]) * 3600.0;
        assert!((rate - 1200.0).abs() < 1e-6, "{rate}");
    }
    // Point-queue backlog at the bottleneck (3 s headway): vehicles past their free-flow
    // exit of link 1 (dep + 70 s) that have not left, exits by t being (t − 70) / 3 + 1. It
    // peaks at the last vehicle's free-flow exit, t = 599 + 70.
    let served = |t: f64| (t - fft0 - fft1) / 3.0 + 1.0;
    let backlog = 600.0 - served(599.0 + fft0 + fft1);
    // With spillback the upstream link holds everyone past its own free-flow exit (dep + 60)
    // not yet on link 1: it peaks at t = 599 + 60 with 600 − served(t) − 10 (link 1 full).
    let upstream_pq = 600.0 - served(599.0 + fft0) - 10.0;
    let upstream = limited.link_max_queue[0] as f64;
    println!(
        "spillback: upstream max queue {upstream}, predicted {upstream_pq:.2} (point-queue \
         backlog {backlog:.2} at the bottleneck, storage 10)"
    );
    assert!(upstream > 300.0, "upstream queue grows: {upstream}");
    assert!(
        (upstream - upstream_pq).abs() <= 1.0,
        "upstream {upstream} vs {upstream_pq}"
    );
    // The bottleneck's own queue is bounded by its storage.
    assert!(limited.link_max_queue[1] <= 10);
    assert!((free.link_max_queue[1] as f64 - backlog).abs() <= 1.0);
}

/// A grid with closures, capacity changes, rerouting, spillback and gridlock-guard moves.
fn busy_scenario() -> (
    Network,
    Vec<Trip>,
    Vec<Vec<u32>>,
    Vec<NetworkChange>,
    QueueParams,
) {
    let net = Network::grid(12, 12, 100.0, 600.0, 0.12, 1.0).unwrap();
    let sets: Vec<Vec<u32>> = vec![vec![0], vec![143, 11], vec![132], vec![70, 71, 72]];
    let mut trips = Vec::new();
    let mut x = 12345u64;
    for _ in 0..6000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let o = ((x >> 33) % 144) as u32;
        let s = ((x >> 20) % 4) as u32;
        let t = ((x >> 40) % 3600) as f64 + ((x >> 8) % 1000) as f64 / 1000.0;
        trips.push(Trip {
            origin: o,
            departure_s: t,
            dest_set: s,
        });
    }
    let changes = vec![
        NetworkChange {
            t_s: 600.0,
            link: 30,
            kind: ChangeKind::Close,
        },
        NetworkChange {
            t_s: 900.0,
            link: 31,
            kind: ChangeKind::CapacityFactor(0.3),
        },
        NetworkChange {
            t_s: 1800.0,
            link: 30,
            kind: ChangeKind::Open,
        },
        NetworkChange {
            t_s: 1200.0,
            link: 100,
            kind: ChangeKind::Close,
        },
    ];
    let params = QueueParams {
        reroute_interval_s: Some(120.0),
        stuck_time_s: 60.0,
        ..Default::default()
    };
    (net, trips, sets, changes, params)
}

/// Identical results (every field, bit for bit via the round-trip Debug text) for 1, 2 and
/// 3 rayon threads.
#[test]
fn thread_count_determinism() {
    let (net, trips, sets, changes, params) = busy_scenario();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate(&net, &trips, &sets, &changes, &params).unwrap())
    };
    let r1 = run(1);
    assert_conserved(&r1);
    assert!(r1.counters.tree_computations > 10);
    assert!(r1.link_max_queue.iter().any(|&q| q > 0));
    let text1 = format!("{r1:?}");
    for threads in [2, 3] {
        let r = run(threads);
        assert_eq!(r, r1);
        assert_eq!(format!("{r:?}"), text1, "{threads} threads differ");
    }
    // Evacuation too.
    let input = EvacuationInput {
        changes: changes.clone(),
        ..EvacuationInput::new(
            (0..144)
                .map(|n| Source {
                    node: n,
                    persons: 7.3,
                    id: n,
                })
                .collect(),
            vec![0, 143],
            Mobilisation::Weibull {
                scale_s: 900.0,
                shape: 1.5,
            },
        )
    };
    let e = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| format!("{:?}", evacuate(&net, &input).unwrap()))
    };
    let e1 = e(1);
    assert_eq!(e(2), e1);
    assert_eq!(e(3), e1);
}

/// Two routes 0 → 3: short 0→1→3 and long 0→2→3, plus 1→2. Link 1→3 closes at T = 305 s.
/// Vehicles depart every 10 s from 0 to 600 s; capacities are ample so times are free-flow.
#[test]
fn closure_reroutes_en_route_and_new_vehicles() {
    let big = 1e6;
    let net = Network::new(
        4,
        0,
        &[
            link(0, 1, big, 1000.0, 60.0),     // 0
            link(1, 3, big, 10_000.0, 600.0),  // 1: closes
            link(0, 2, big, 1000.0, 60.0),     // 2
            link(2, 3, big, 20_000.0, 1200.0), // 3
            link(1, 2, big, 1000.0, 60.0),     // 4
        ],
    )
    .unwrap();
    let trips = even_trips(0, 61, 10.0, 0.0);
    let t_close = 305.0;
    let changes = [NetworkChange {
        t_s: t_close,
        link: 1,
        kind: ChangeKind::Close,
    }];
    let r = simulate(&net, &trips, &[vec![3]], &changes, &QueueParams::default()).unwrap();
    assert_conserved(&r);
    assert_eq!(r.counters.arrived, 61);
    for (v, trip) in trips.iter().enumerate() {
        let dep = trip.departure_s;
        let arr = r.arrival_s(v).unwrap();
        let expect = if dep + 60.0 < t_close {
            dep + 660.0 // on the closed link before it closed: finishes it
        } else if dep < t_close {
            dep + 60.0 + 60.0 + 1200.0 // en route on 0→1: reroutes at node 1 via 1→2→3
        } else {
            dep + 60.0 + 1200.0 // departs after: takes 0→2→3
        };
        // Within a few headways (3.6 ms) where two streams merge onto 2→3.
        assert!(
            (arr - expect).abs() < 0.01,
            "vehicle {v} dep {dep}: {arr} vs {expect}"
        );
    }
    assert_eq!(r.link_entries[1], 25); // departures 0..=240 s
    assert_eq!(r.link_exits[1], 25);
    assert_eq!(r.link_entries[0], 31); // departures 0..=300 s
    assert_eq!(r.link_entries[4], 6); // departures 250..=300 s
    assert_eq!(r.link_entries[2], 30); // departures 310..=600 s
    assert_eq!(r.link_closed_at_s[1], Some(t_close));
    assert!(r.counters.tree_computations >= 2);
}

/// Nodes cut off from every destination: their vehicles are stranded (with time and node),
/// the others arrive.
#[test]
fn stranding_is_counted() {
    // 0 → 1 → 2 (destination), 3 → 1. Link 3→1 closes at 0; 1→2 closes at 100 s, cutting
    // everyone off: vehicles on 0→1 are stranded at node 1 when they reach it.
    let net = Network::new(
        4,
        0,
        &[
            link(0, 1, 3600.0, 1000.0, 60.0),
            link(1, 2, 3600.0, 1000.0, 60.0),
            link(3, 1, 3600.0, 1000.0, 60.0),
        ],
    )
    .unwrap();
    let mut trips = even_trips(0, 10, 10.0, 0.0); // dep 0..90
    trips.extend(even_trips(3, 5, 10.0, 5.0)); // from the cut-off node
    let changes = [
        NetworkChange {
            t_s: 0.0,
            link: 2,
            kind: ChangeKind::Close,
        },
        NetworkChange {
            t_s: 100.0,
            link: 1,
            kind: ChangeKind::Close,
        },
    ];
    let r = simulate(&net, &trips, &[vec![2]], &changes, &QueueParams::default()).unwrap();
    assert_conserved(&r);
    // Departures at 0..=30 reach node 1 (at dep + 60 ≤ 90) before 100 and arrive.
    assert_eq!(r.counters.arrived, 4);
    assert_eq!(r.counters.stranded, 11);
    let stranded: Vec<(usize, f64, u32)> = r.stranded().collect();
    for &(v, t, node) in &stranded {
        if v < 10 {
            assert_eq!(node, 1);
            assert!((t - (trips[v].departure_s + 60.0)).abs() < 1e-9);
            assert!(r.entry_s[v].is_some());
        } else {
            assert_eq!(node, 3);
            assert_eq!(t, trips[v].departure_s);
            assert_eq!(r.entry_s[v], None);
        }
    }
    assert_eq!(
        r.state[12],
        VehicleState::Stranded { node: 3 },
        "cut-off origin"
    );
    assert_eq!(r.link_entries[2], 0);
}

/// Evacuation: persons conserved, shares monotone, T90 ≤ T100, stranded share reported.
#[test]
fn evacuation_conserves_persons() {
    let net = Network::grid(10, 10, 150.0, 900.0, 0.15, 1.0).unwrap();
    let sources: Vec<Source> = (0..100)
        .map(|n| Source {
            node: n,
            persons: 3.0 + (n % 7) as f64 * 1.7,
            id: 1000 + n,
        })
        .collect();
    // Node 55 is cut off by flooding at t = 0 (all its links close).
    let mut changes: Vec<NetworkChange> = net
        .out_of(55)
        .iter()
        .chain(net.in_of(55))
        .map(|&l| NetworkChange {
            t_s: 0.0,
            link: l,
            kind: ChangeKind::Close,
        })
        .collect();
    changes.push(NetworkChange {
        t_s: 1200.0,
        link: net.out_of(44)[0],
        kind: ChangeKind::Close,
    });
    for mobilisation in [
        Mobilisation::Rayleigh { mean_s: 1200.0 },
        Mobilisation::Weibull {
            scale_s: 1500.0,
            shape: 2.5,
        },
        Mobilisation::Logistic {
            mid_s: 1800.0,
            spread_s: 300.0,
        },
        Mobilisation::Uniform {
            start_s: 300.0,
            end_s: 3000.0,
        },
    ] {
        let input = EvacuationInput {
            car_share: 0.8,
            persons_per_vehicle: 1.8,
            changes: changes.clone(),
            seed: 7,
            ..EvacuationInput::new(sources.clone(), vec![0, 9, 99], mobilisation)
        };
        let e = evacuate(&net, &input).unwrap();
        assert_conserved(&e.queue);
        let total: f64 = sources.iter().map(|s| s.persons).sum();
        assert!((e.total_persons - total).abs() < 1e-9);
        assert!((e.car_persons - 0.8 * total).abs() < 1e-9 * total);
        assert!((e.car_persons + e.other_persons - total).abs() < 1e-9 * total);
        let by_state = e.arrived_persons + e.stranded_persons + e.en_route_persons;
        assert!((by_state - e.car_persons).abs() < 1e-9 * total);
        // Per source persons conserved.
        for (i, s) in sources.iter().enumerate() {
            let p: f64 = e
                .vehicle_source
                .iter()
                .zip(&e.vehicle_persons)
                .filter(|(src, _)| **src as usize == i)
                .map(|(_, p)| p)
                .sum();
            assert!((p - 0.8 * s.persons).abs() < 1e-9, "source {i}");
        }
        // The cut-off node's persons are stranded.
        let p55 = 0.8 * sources[55].persons;
        assert!(e.stranded_persons >= p55 - 1e-9);
        assert!((e.stranded_share - e.stranded_persons / e.car_persons).abs() < 1e-12);
        // Monotone curve ending at the arrived total.
        for w in e.curve.windows(2) {
            assert!(w[1].arrived_persons >= w[0].arrived_persons);
            assert!(w[1].share >= w[0].share);
            assert_eq!(w[1].t_s - w[0].t_s, 300.0);
        }
        let last = e.curve.last().unwrap();
        assert!((last.arrived_persons - e.arrived_persons).abs() < 1e-9 * total);
        let (t90, t100) = (e.t90_s.unwrap(), e.t100_s.unwrap());
        assert!(t90 <= t100);
        assert!(e.queue.counters.stranded > 0);
        assert!(!e.bottlenecks.is_empty() || e.queue.link_total_delay_s.iter().all(|&d| d == 0.0));
        for w in e.bottlenecks.windows(2) {
            assert!(w[0].total_delay_s >= w[1].total_delay_s);
        }
        println!(
            "{mobilisation:?}: {} cars, T90 {t90:.0} s, T100 {t100:.0} s, stranded {:.1} %",
            e.vehicle_persons.len(),
            100.0 * e.stranded_share
        );
    }
}

/// With no network load (huge capacities and storage) the arrival curve is the mobilisation
/// curve shifted by the free-flow time: per car exactly, and in distribution against the CDF
/// (Kolmogorov–Smirnov distance within the 99.9 % band).
#[test]
fn unloaded_evacuation_follows_mobilisation_curve() {
    let fft = 300.0;
    let net = Network::new(2, 0, &[link(0, 1, 1e9, 1e9, fft)]).unwrap();
    for mobilisation in [
        Mobilisation::Rayleigh { mean_s: 1200.0 },
        Mobilisation::Weibull {
            scale_s: 2000.0,
            shape: 0.8,
        },
        Mobilisation::Logistic {
            mid_s: 900.0,
            spread_s: 400.0,
        },
        Mobilisation::Uniform {
            start_s: 0.0,
            end_s: 3600.0,
        },
    ] {
        let input = EvacuationInput {
            persons_per_vehicle: 1.0,
            seed: 42,
            ..EvacuationInput::new(
                vec![Source {
                    node: 0,
                    persons: 4000.0,
                    id: 1,
                }],
                vec![1],
                mobilisation,
            )
        };
        let e = evacuate(&net, &input).unwrap();
        assert_conserved(&e.queue);
        let n = e.vehicle_persons.len();
        assert_eq!(n, 4000);
        for v in 0..n {
            let a = e.queue.arrival_s(v).unwrap();
            assert!((a - (e.queue.departure_s[v] + fft)).abs() < 1e-6);
        }
        // KS distance of arrivals against F(t − fft).
        let mut t: Vec<f64> = (0..n).map(|v| e.queue.arrival_s(v).unwrap()).collect();
        t.sort_by(f64::total_cmp);
        let mut ks: f64 = 0.0;
        for (i, &ti) in t.iter().enumerate() {
            let f = mobilisation.cdf(ti - fft);
            ks = ks
                .max((f - i as f64 / n as f64).abs())
                .max((f - (i + 1) as f64 / n as f64).abs());
        }
        assert!(ks < 1.95 / (n as f64).sqrt(), "{mobilisation:?}: KS {ks}");
        // The 5-minute curve against the shifted CDF.
        for p in &e.curve {
            let f = mobilisation.cdf(p.t_s - fft);
            assert!(
                (p.share - f).abs() < 1.95 / (n as f64).sqrt(),
                "{p:?} vs {f}"
            );
        }
        assert_eq!(e.stranded_persons, 0.0);
        assert!(e.bottlenecks.is_empty());
        println!("{mobilisation:?}: KS distance {ks:.4} (n = {n})");
    }
}

/// Bad parameters give errors, never panics.
#[test]
fn bad_parameters_are_errors() {
    let net = Network::new(2, 0, &[link(0, 1, 1800.0, 100.0, 10.0)]).unwrap();
    let trips = even_trips(0, 3, 1.0, 0.0);
    let ok = QueueParams::default();
    let sets = [vec![1u32]];
    let ch = |t_s, link, kind| [NetworkChange { t_s, link, kind }];
    let is_err = |r: Result<QueueResult, TrafficError>| r.is_err();
    assert!(simulate(&net, &trips, &sets, &[], &ok).is_ok());
    assert!(is_err(simulate(
        &net,
        &trips,
        &sets,
        &ch(1.0, 0, ChangeKind::CapacityFactor(-0.5)),
        &ok
    )));
    assert!(is_err(simulate(
        &net,
        &trips,
        &sets,
        &ch(1.0, 0, ChangeKind::CapacityFactor(f64::NAN)),
        &ok
    )));
    assert!(is_err(simulate(
        &net,
        &trips,
        &sets,
        &ch(f64::NAN, 0, ChangeKind::Close),
        &ok
    )));
    assert!(is_err(simulate(
        &net,
        &trips,
        &sets,
        &ch(1.0, 7, ChangeKind::Close),
        &ok
    )));
    assert!(is_err(simulate(&net, &trips, &[vec![]], &[], &ok)));
    assert!(is_err(simulate(&net, &trips, &[vec![5]], &[], &ok)));
    assert!(is_err(simulate(&net, &trips, &[], &[], &ok)));
    let mut bad_trip = trips.clone();
    bad_trip[1].departure_s = f64::NAN;
    assert!(is_err(simulate(&net, &bad_trip, &sets, &[], &ok)));
    bad_trip[1].departure_s = f64::INFINITY;
    assert!(is_err(simulate(&net, &bad_trip, &sets, &[], &ok)));
    bad_trip[1] = Trip {
        origin: 9,
        departure_s: 0.0,
        dest_set: 0,
    };
    assert!(is_err(simulate(&net, &bad_trip, &sets, &[], &ok)));
    for p in [
        QueueParams {
            vehicle_length_m: 0.0,
            ..ok
        },
        QueueParams {
            flow_capacity_factor: -1.0,
            ..ok
        },
        QueueParams {
            storage_capacity_factor: f64::NAN,
            ..ok
        },
        QueueParams {
            stuck_time_s: f64::NAN,
            ..ok
        },
        QueueParams {
            reroute_interval_s: Some(0.0),
            ..ok
        },
        QueueParams {
            bin_s: f64::INFINITY,
            ..ok
        },
        QueueParams {
            end_time_s: f64::NAN,
            ..ok
        },
        QueueParams {
            backward_wave_speed_mps: Some(-3.0),
            ..ok
        },
    ] {
        assert!(is_err(simulate(&net, &trips, &sets, &[], &p)), "{p:?}");
    }
    // A network whose public arrays were tampered with.
    let mut broken = net.clone();
    broken.capacity[0] = -5.0;
    assert!(is_err(simulate(&broken, &trips, &sets, &[], &ok)));
    broken.capacity.pop();
    assert!(is_err(simulate(&broken, &trips, &sets, &[], &ok)));

    let src = vec![Source {
        node: 0,
        persons: 10.0,
        id: 1,
    }];
    let base = EvacuationInput::new(
        src.clone(),
        vec![1],
        Mobilisation::Rayleigh { mean_s: 600.0 },
    );
    assert!(evacuate(&net, &base).is_ok());
    let bad_inputs = [
        EvacuationInput {
            destinations: vec![],
            ..base.clone()
        },
        EvacuationInput {
            persons_per_vehicle: 0.0,
            ..base.clone()
        },
        EvacuationInput {
            car_share: 1.5,
            ..base.clone()
        },
        EvacuationInput {
            car_share: f64::NAN,
            ..base.clone()
        },
        EvacuationInput {
            mobilisation: Mobilisation::Rayleigh { mean_s: f64::NAN },
            ..base.clone()
        },
        EvacuationInput {
            mobilisation: Mobilisation::Weibull {
                scale_s: 100.0,
                shape: -1.0,
            },
            ..base.clone()
        },
        EvacuationInput {
            mobilisation: Mobilisation::Logistic {
                mid_s: 100.0,
                spread_s: 0.0,
            },
            ..base.clone()
        },
        EvacuationInput {
            mobilisation: Mobilisation::Uniform {
                start_s: 500.0,
                end_s: 100.0,
            },
            ..base.clone()
        },
        EvacuationInput {
            sources: vec![Source {
                node: 0,
                persons: -1.0,
                id: 1,
            }],
            ..base.clone()
        },
        EvacuationInput {
            sources: vec![Source {
                node: 99,
                persons: 1.0,
                id: 1,
            }],
            ..base.clone()
        },
        EvacuationInput {
            changes: vec![NetworkChange {
                t_s: 0.0,
                link: 3,
                kind: ChangeKind::Close,
            }],
            ..base.clone()
        },
        EvacuationInput {
            step_s: 0.0,
            ..base.clone()
        },
    ];
    for b in bad_inputs {
        assert!(evacuate(&net, &b).is_err(), "{b:?}");
    }
}

#[test]
fn shelter_capacities_send_the_overflow_on() {
    use sim_traffic::network::LinkSpec;
    // 0 -> 1 (shelter A, 1 min), 0 -> 2 (shelter B, 2 min), 0 -> 3 (exit, 5 min).
    let l = |a, b, t| LinkSpec::bpr(a, b, 36_000.0, 100.0, t);
    let net = Network::new(4, 0, &[l(0, 1, 1.0), l(0, 2, 2.0), l(0, 3, 5.0)]).unwrap();
    let src = vec![Source {
        node: 0,
        persons: 50.0,
        id: 0,
    }];
    let mut input = EvacuationInput::new(
        src,
        vec![1, 2, 3],
        Mobilisation::Uniform {
            start_s: 0.0,
            end_s: 600.0,
        },
    );
    input.persons_per_vehicle = 1.0;
    // Without capacities everyone takes the nearest shelter.
    let r = evacuate(&net, &input).unwrap();
    assert!(r.queue.arrival_node.iter().all(|&n| n == 1));
    input.shelter_capacity = vec![(1, 10.0), (2, 10.0)];
    let r = evacuate(&net, &input).unwrap();
    let at = |n: u32| r.queue.arrival_node.iter().filter(|&&a| a == n).count();
    assert_eq!((at(1), at(2), at(3)), (10, 10, 30));
    // The first to leave get the nearest shelter.
    let first = (0..50)
        .min_by(|&a, &b| r.queue.departure_s[a].total_cmp(&r.queue.departure_s[b]))
        .unwrap();
    assert_eq!(r.queue.arrival_node[first], 1);
    assert!(r.queue.is_conserved());
    // A shelter off the network is an error.
    input.shelter_capacity = vec![(9, 10.0)];
    assert!(evacuate(&net, &input).is_err());
}
