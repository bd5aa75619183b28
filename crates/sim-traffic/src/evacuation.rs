//! Evacuation on top of the queue model ([`crate::queue`]).
//!
//! People per source (a building, already assigned to a network node) evacuate by car with
//! probability `car_share` (the rest walk or take buses and are only counted); cars carry
//! `persons_per_vehicle` on average. Each car departs at a time drawn from the mobilisation
//! (response) curve and drives to the nearest destination (shelter or exit node) over the
//! network, whose links may flood (close) at given times. The result is the queue result
//! plus the evacuation curve (persons arrived over time), the clearance times T90 / T100,
//! the share that cannot leave (stranded) and the bottleneck links.
//!
//! **Vehicles per source**: source `i` has `x_i = persons_i · car_share / persons_per_vehicle`
//! cars. The counts are the largest-remainder rounding of the `x_i` (floors, then one more for
//! the largest fractional parts, ties to the lower source index, until the rounded total
//! `round(Σ x_i)` is reached), except that a source with car evacuees always gets at least one
//! car (so nobody is lost; the total may then exceed `round(Σ x_i)`). The car persons of a
//! source are split evenly over its cars, so the persons total is conserved (to rounding).
//!
//! **Departure times** are drawn by inverse transform sampling with ChaCha8 seeded by `seed`,
//! one uniform number per car in car order (sources in input order): deterministic.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::TrafficError;
use crate::network::Network;
use crate::queue::{NetworkChange, QueueParams, QueueResult, Trip, VehicleState, simulate};

/// People at one network node (e.g. a building's residents).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Source {
    pub node: u32,
    pub persons: f64,
    /// The caller's id (e.g. the building), carried through.
    pub id: u32,
}

/// The mobilisation (departure time) distribution: the share of households that have left
/// by time `t` after the warning, the "response curve" of evacuation planning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mobilisation {
    /// Rayleigh with the given mean: `F(t) = 1 − exp(−t² / (2σ²))`, `σ = mean / √(π/2)`
    /// (the Weibull of shape 2 often used for rapid notice).
    Rayleigh { mean_s: f64 },
    /// Weibull: `F(t) = 1 − exp(−(t / scale)^shape)`.
    Weibull { scale_s: f64, shape: f64 },
    /// Logistic S-curve `1 / (1 + exp(−(t − mid) / spread))`, truncated to `t ≥ 0`
    /// (`F(t) = (L(t) − L(0)) / (1 − L(0))`).
    Logistic { mid_s: f64, spread_s: f64 },
    /// Uniform between two times.
    Uniform { start_s: f64, end_s: f64 },
}

impl Mobilisation {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), TrafficError> {
        let pos = |name, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(TrafficError::Param {
                    name,
                    value: v.to_string(),
                    expected: "finite and positive",
                })
            }
        };
        match *self {
            Mobilisation::Rayleigh { mean_s } => pos("mean_s", mean_s),
            Mobilisation::Weibull { scale_s, shape } => {
                pos("scale_s", scale_s)?;
                pos("shape", shape)
            }
            Mobilisation::Logistic { mid_s, spread_s } => {
                pos("spread_s", spread_s)?;
                if !mid_s.is_finite() {
                    return Err(TrafficError::Param {
                        name: "mid_s",
                        value: mid_s.to_string(),
                        expected: "finite",
                    });
                }
                if 1.0 - logistic(0.0, mid_s, spread_s) < 1e-9 {
                    return Err(TrafficError::Param {
                        name: "mid_s",
                        value: mid_s.to_string(),
                        expected: "not far before 0 (the curve is truncated to t >= 0)",
                    });
                }
                Ok(())
            }
            Mobilisation::Uniform { start_s, end_s } => {
                if start_s.is_finite() && end_s.is_finite() && 0.0 <= start_s && start_s <= end_s {
                    Ok(())
                } else {
                    Err(TrafficError::Param {
                        name: "start_s..end_s",
                        value: format!("{start_s}..{end_s}"),
                        expected: "0 <= start <= end, finite",
                    })
                }
            }
        }
    }

    /// Share departed by time `t` (s): the cumulative distribution function.
    pub fn cdf(&self, t: f64) -> f64 {
        if t <= 0.0 && !matches!(self, Mobilisation::Uniform { .. }) {
            return 0.0;
        }
        match *self {
            Mobilisation::Rayleigh { mean_s } => {
                let s = mean_s / (std::f64::consts::PI / 2.0).sqrt();
                1.0 - (-t * t / (2.0 * s * s)).exp()
            }
            Mobilisation::Weibull { scale_s, shape } => 1.0 - (-(t / scale_s).powf(shape)).exp(),
            Mobilisation::Logistic { mid_s, spread_s } => {
                let f0 = logistic(0.0, mid_s, spread_s);
                (logistic(t, mid_s, spread_s) - f0) / (1.0 - f0)
            }
            Mobilisation::Uniform { start_s, end_s } => {
                if t < start_s {
                    0.0
                } else if t >= end_s {
                    1.0
                } else {
                    (t - start_s) / (end_s - start_s)
                }
            }
        }
    }

    /// The departure time of quantile `u` in `[0, 1)` (inverse of [`Mobilisation::cdf`]).
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0 - f64::EPSILON);
        let t = match *self {
            Mobilisation::Rayleigh { mean_s } => {
                let s = mean_s / (std::f64::consts::PI / 2.0).sqrt();
                s * (-2.0 * (1.0 - u).ln()).sqrt()
            }
            Mobilisation::Weibull { scale_s, shape } => {
                scale_s * (-(1.0 - u).ln()).powf(1.0 / shape)
            }
            Mobilisation::Logistic { mid_s, spread_s } => {
                let f0 = logistic(0.0, mid_s, spread_s);
                let q = (f0 + u * (1.0 - f0)).clamp(f0, 1.0 - f64::EPSILON);
                mid_s + spread_s * (q / (1.0 - q)).ln()
            }
            Mobilisation::Uniform { start_s, end_s } => start_s + u * (end_s - start_s),
        };
        if t.is_finite() { t.max(0.0) } else { 0.0 }
    }
}

fn logistic(t: f64, mid: f64, spread: f64) -> f64 {
    1.0 / (1.0 + (-(t - mid) / spread).exp())
}

/// Everything an evacuation run needs (plain data).
#[derive(Debug, Clone, PartialEq)]
pub struct EvacuationInput {
    pub sources: Vec<Source>,
    /// Average car occupancy (> 0), 2 by default.
    pub persons_per_vehicle: f64,
    /// Share of persons leaving by car, in `[0, 1]`; 1 by default.
    pub car_share: f64,
    pub mobilisation: Mobilisation,
    /// Seed of the departure time draws.
    pub seed: u64,
    /// Shelters and exit nodes: one destination set, each car goes to the nearest.
    pub destinations: Vec<u32>,
    /// Network changes (roads flooding at their times).
    pub changes: Vec<NetworkChange>,
    pub params: QueueParams,
    /// Step of the evacuation curve (s), 300 by default.
    pub step_s: f64,
    /// How many bottleneck links to report, 20 by default.
    pub bottleneck_count: usize,
    /// Shelters with a capacity (node, persons). When given, each car is sent, in departure
    /// order, to the nearest (free-flow time from its origin) of the shelters that still
    /// have room for its persons and the other destinations (exits); a car sent to a shelter
    /// keeps the exits as a fallback if the shelter is cut off. Empty (default): every car
    /// goes to the nearest destination, whatever the shelters hold.
    pub shelter_capacity: Vec<(u32, f64)>,
}

impl EvacuationInput {
    /// An input with the defaults: 2 persons per car, everyone by car, seed 0, no network
    /// changes, default queue parameters, 5-minute curve steps, 20 bottlenecks.
    pub fn new(sources: Vec<Source>, destinations: Vec<u32>, mobilisation: Mobilisation) -> Self {
        EvacuationInput {
            sources,
            persons_per_vehicle: 2.0,
            car_share: 1.0,
            mobilisation,
            seed: 0,
            destinations,
            changes: Vec::new(),
            params: QueueParams::default(),
            step_s: 300.0,
            bottleneck_count: 20,
            shelter_capacity: Vec::new(),
        }
    }
}

/// One point of the evacuation curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub t_s: f64,
    /// Car persons arrived at a destination by `t_s`.
    pub arrived_persons: f64,
    /// `arrived_persons` over all car persons.
    pub share: f64,
}

/// A congested link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bottleneck {
    pub link: u32,
    pub from: u32,
    pub to: u32,
    pub total_delay_s: f64,
    pub max_queue: u32,
    pub volume: u64,
}

/// The outcome of [`evacuate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvacuationResult {
    /// The queue model's result; vehicles are the cars.
    pub queue: QueueResult,
    /// Source index (into the input's sources) of each car.
    pub vehicle_source: Vec<u32>,
    /// Persons in each car.
    pub vehicle_persons: Vec<f64>,
    /// All persons of the sources.
    pub total_persons: f64,
    /// Persons leaving by car (simulated).
    pub car_persons: f64,
    /// Persons leaving otherwise (walking, buses; not simulated).
    pub other_persons: f64,
    pub arrived_persons: f64,
    /// Car persons that cannot leave (stranded: no open path to any destination).
    pub stranded_persons: f64,
    /// Car persons still on the way (or not departed) at the end time.
    pub en_route_persons: f64,
    /// `stranded_persons / car_persons` (0 without car persons).
    pub stranded_share: f64,
    /// Arrived car persons at `0, step, 2·step, …` up to the last arrival or stranding.
    pub curve: Vec<CurvePoint>,
    /// When 90 % of the car persons who can leave (not stranded) had arrived.
    pub t90_s: Option<f64>,
    /// When all of them had arrived; `None` if some were still on the way at the end.
    pub t100_s: Option<f64>,
    /// Cars that entered each link.
    pub link_volumes: Vec<u64>,
    pub link_max_queue: Vec<u32>,
    /// Links with delay, by total delay (then max queue, then id), at most
    /// `bottleneck_count`.
    pub bottlenecks: Vec<Bottleneck>,
}

/// Cars per source: largest remainder with at least one car per source with car persons.
fn vehicle_counts(x: &[f64]) -> Vec<u64> {
    let total: f64 = x.iter().sum();
    let target = total.round() as u64;
    let mut n: Vec<u64> = x
        .iter()
        .map(|&xi| {
            if xi > 0.0 {
                (xi.floor() as u64).max(1)
            } else {
                0
            }
        })
        .collect();
    let assigned: u64 = n.iter().sum();
    if assigned < target {
        let mut rem: Vec<(f64, usize)> = x
            .iter()
            .enumerate()
            .filter(|&(_, &xi)| xi >= 1.0)
            .map(|(i, &xi)| (xi - xi.floor(), i))
            .collect();
        rem.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in rem.iter().take((target - assigned) as usize) {
            n[i] += 1;
        }
    }
    n
}

/// Capacity-aware destination choice: set 0 holds the destinations that are not capacity
/// shelters (exits); set k ≥ 1 holds shelter k and those exits. Cars are taken in order of
/// departure (then index); each goes to the nearest shelter with room for its persons if that
/// is nearer than every exit, else to set 0. Free-flow times from the origins come from one
/// Dijkstra per distinct origin node.
fn assign_shelters(
    net: &Network,
    input: &EvacuationInput,
    trips: &mut [Trip],
    persons: &[f64],
) -> Result<Vec<Vec<u32>>, TrafficError> {
    for &(n, c) in &input.shelter_capacity {
        if n as usize >= net.node_count || c.is_nan() || c < 0.0 {
            return Err(TrafficError::Invalid(format!(
                "shelter at node {}: capacity {c} must be >= 0 and the node in the network",
                n + 1
            )));
        }
    }
    let shelters: Vec<u32> = input.shelter_capacity.iter().map(|s| s.0).collect();
    let exits: Vec<u32> = input
        .destinations
        .iter()
        .copied()
        .filter(|n| !shelters.contains(n))
        .collect();
    let mut sets = vec![exits.clone()];
    for &sh in &shelters {
        let mut s = vec![sh];
        s.extend(&exits);
        sets.push(s);
    }
    let cost: Vec<f64> = net.free_flow_time.clone();
    let mut origins: Vec<u32> = trips.iter().map(|t| t.origin).collect();
    origins.sort_unstable();
    origins.dedup();
    // Per distinct origin: free-flow time to each shelter and to the nearest exit.
    let mut sp = crate::paths::ShortestPaths::new(net.node_count);
    let mut to: Vec<(Vec<f64>, f64)> = Vec::with_capacity(origins.len());
    for &o in &origins {
        sp.run(net, &cost, o)?;
        let d = sp.dist();
        let sh: Vec<f64> = shelters.iter().map(|&n| d[n as usize]).collect();
        let ex = exits
            .iter()
            .map(|&n| d[n as usize])
            .fold(f64::INFINITY, f64::min);
        to.push((sh, ex));
    }
    let mut room: Vec<f64> = input.shelter_capacity.iter().map(|s| s.1).collect();
    let mut order: Vec<usize> = (0..trips.len()).collect();
    order.sort_by(|&a, &b| {
        trips[a]
            .departure_s
            .total_cmp(&trips[b].departure_s)
            .then(a.cmp(&b))
    });
    for v in order {
        let k = origins
            .binary_search(&trips[v].origin)
            .expect("origin listed");
        let (sh, ex) = &to[k];
        let mut best: Option<(f64, usize)> = None;
        for (j, &t) in sh.iter().enumerate() {
            if t.is_finite() && room[j] >= persons[v] && best.is_none_or(|b| t < b.0) {
                best = Some((t, j));
            }
        }
        trips[v].dest_set = match best {
            Some((t, j)) if t <= *ex => {
                room[j] -= persons[v];
                j as u32 + 1
            }
            _ => 0,
        };
        // Only shelters and no reachable exit: a full shelter's cars still try the nearest
        // shelter (they are counted over capacity) rather than having nowhere to go.
        if trips[v].dest_set == 0 && sets[0].is_empty() {
            let j = sh
                .iter()
                .enumerate()
                .filter(|(_, t)| t.is_finite())
                .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
                .map_or(0, |(j, _)| j);
            trips[v].dest_set = j as u32 + 1;
        }
    }
    if sets[0].is_empty() {
        // Set 0 must not be empty for the queue model; it is unused then.
        sets[0] = shelters.clone();
    }
    Ok(sets)
}

/// Run an evacuation.
pub fn evacuate(net: &Network, input: &EvacuationInput) -> Result<EvacuationResult, TrafficError> {
    let ppv = input.persons_per_vehicle;
    if !(ppv.is_finite() && ppv > 0.0) {
        return Err(TrafficError::Param {
            name: "persons_per_vehicle",
            value: ppv.to_string(),
            expected: "finite and positive",
        });
    }
    if !(0.0..=1.0).contains(&input.car_share) {
        return Err(TrafficError::Param {
            name: "car_share",
            value: input.car_share.to_string(),
            expected: "in [0, 1]",
        });
    }
    if !(input.step_s.is_finite() && input.step_s > 0.0) {
        return Err(TrafficError::Param {
            name: "step_s",
            value: input.step_s.to_string(),
            expected: "finite and positive",
        });
    }
    input.mobilisation.validate()?;
    if input.destinations.is_empty() {
        return Err(TrafficError::Invalid(
            "no destinations (shelters, exits)".into(),
        ));
    }
    for (i, s) in input.sources.iter().enumerate() {
        if s.node as usize >= net.node_count {
            return Err(TrafficError::Invalid(format!(
                "source {} (id {}): node {} beyond the {} nodes",
                i + 1,
                s.id,
                s.node + 1,
                net.node_count
            )));
        }
        if !(s.persons.is_finite() && s.persons >= 0.0) {
            return Err(TrafficError::Invalid(format!(
                "source {} (id {}): persons {} must be finite and not negative",
                i + 1,
                s.id,
                s.persons
            )));
        }
    }
    let car: Vec<f64> = input
        .sources
        .iter()
        .map(|s| s.persons * input.car_share)
        .collect();
    let x: Vec<f64> = car.iter().map(|c| c / ppv).collect();
    let counts = vehicle_counts(&x);
    let nv: u64 = counts.iter().sum();
    if nv >= u32::MAX as u64 / 2 {
        return Err(TrafficError::Invalid(format!("{nv} cars are too many")));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(input.seed);
    let mut trips: Vec<Trip> = Vec::with_capacity(nv as usize);
    let mut vehicle_source = Vec::with_capacity(nv as usize);
    let mut vehicle_persons = Vec::with_capacity(nv as usize);
    for (i, (s, &n)) in input.sources.iter().zip(&counts).enumerate() {
        if n == 0 {
            continue;
        }
        let each = car[i] / n as f64;
        for k in 0..n {
            let u: f64 = rng.random();
            trips.push(Trip {
                origin: s.node,
                departure_s: input.mobilisation.quantile(u),
                dest_set: 0,
            });
            vehicle_source.push(i as u32);
            // The last car takes the rest, so the source's sum is as exact as can be.
            vehicle_persons.push(if k + 1 == n {
                car[i] - each * (n - 1) as f64
            } else {
                each
            });
        }
    }
    let sets = if input.shelter_capacity.is_empty() {
        vec![input.destinations.clone()]
    } else {
        assign_shelters(net, input, &mut trips, &vehicle_persons)?
    };
    let queue = simulate(net, &trips, &sets, &input.changes, &input.params)?;

    let total_persons: f64 = input.sources.iter().map(|s| s.persons).sum();
    let car_persons: f64 = vehicle_persons.iter().sum();
    let (mut arrived_p, mut stranded_p, mut en_route_p) = (0.0, 0.0, 0.0);
    let mut arrivals: Vec<(f64, usize)> = Vec::new();
    for (v, st) in queue.state.iter().enumerate() {
        match st {
            VehicleState::Arrived => {
                arrived_p += vehicle_persons[v];
                arrivals.push((queue.end_s[v].unwrap_or(0.0), v));
            }
            VehicleState::Stranded { .. } => stranded_p += vehicle_persons[v],
            _ => en_route_p += vehicle_persons[v],
        }
    }
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let leavable = car_persons - stranded_p;
    let all_arrived =
        queue.counters.on_links + queue.counters.in_buffers + queue.counters.not_departed == 0;
    let last = arrivals.last().map_or(0.0, |a| a.0);
    let mut t90 = None;
    let mut cum = 0.0;
    let goal = 0.9 * leavable * (1.0 - 1e-12);
    if goal <= 0.0 {
        t90 = Some(0.0);
    }
    for &(t, v) in &arrivals {
        cum += vehicle_persons[v];
        if t90.is_none() && cum >= goal {
            t90 = Some(t);
        }
    }
    let t100 = all_arrived.then_some(last);
    let share = |p: f64| {
        if car_persons > 0.0 {
            p / car_persons
        } else {
            0.0
        }
    };
    // The curve runs to the last arrival or stranding, whichever is later.
    let last_event = queue
        .stranded()
        .map(|(_, t, _)| t)
        .filter(|t| t.is_finite())
        .fold(last, f64::max);
    let steps = (last_event / input.step_s).ceil() as usize;
    let mut curve = Vec::with_capacity(steps + 1);
    let mut j = 0;
    let mut cum = 0.0;
    for k in 0..=steps {
        let t = k as f64 * input.step_s;
        while j < arrivals.len() && arrivals[j].0 <= t {
            cum += vehicle_persons[arrivals[j].1];
            j += 1;
        }
        curve.push(CurvePoint {
            t_s: t,
            arrived_persons: cum,
            share: share(cum),
        });
    }
    let mut bottlenecks: Vec<Bottleneck> = (0..net.link_count())
        .filter(|&l| queue.link_total_delay_s[l] > 0.0)
        .map(|l| Bottleneck {
            link: l as u32,
            from: net.from[l],
            to: net.to[l],
            total_delay_s: queue.link_total_delay_s[l],
            max_queue: queue.link_max_queue[l],
            volume: queue.link_entries[l],
        })
        .collect();
    bottlenecks.sort_by(|a, b| {
        b.total_delay_s
            .total_cmp(&a.total_delay_s)
            .then(b.max_queue.cmp(&a.max_queue))
            .then(a.link.cmp(&b.link))
    });
    bottlenecks.truncate(input.bottleneck_count);
    Ok(EvacuationResult {
        link_volumes: queue.link_entries.clone(),
        link_max_queue: queue.link_max_queue.clone(),
        queue,
        vehicle_source,
        vehicle_persons,
        total_persons,
        car_persons,
        other_persons: total_persons - car_persons,
        arrived_persons: arrived_p,
        stranded_persons: stranded_p,
        en_route_persons: en_route_p,
        stranded_share: share(stranded_p),
        curve,
        t90_s: t90,
        t100_s: t100,
        bottlenecks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_counts() {
        assert_eq!(vehicle_counts(&[1.5, 1.5, 2.2]), vec![2, 1, 2]);
        assert_eq!(vehicle_counts(&[0.3, 0.3, 0.3, 0.0]), vec![1, 1, 1, 0]);
        // Equal remainders: the lower index first.
        assert_eq!(vehicle_counts(&[2.6, 3.6, 0.8]), vec![3, 3, 1]);
        let x: Vec<f64> = (0..100).map(|i| 1.0 + i as f64 * 0.37).collect();
        let n: u64 = vehicle_counts(&x).iter().sum();
        assert_eq!(n, x.iter().sum::<f64>().round() as u64);
    }

    #[test]
    fn quantile_inverts_cdf() {
        for m in [
            Mobilisation::Rayleigh { mean_s: 1200.0 },
            Mobilisation::Weibull {
                scale_s: 800.0,
                shape: 3.0,
            },
            Mobilisation::Logistic {
                mid_s: 600.0,
                spread_s: 250.0,
            },
            Mobilisation::Uniform {
                start_s: 60.0,
                end_s: 1800.0,
            },
        ] {
            m.validate().unwrap();
            for k in 1..100 {
                let u = k as f64 / 100.0;
                let t = m.quantile(u);
                assert!((m.cdf(t) - u).abs() < 1e-9, "{m:?} {u}");
            }
            assert_eq!(m.cdf(-1.0), 0.0);
        }
        // Rayleigh mean: ∫ (1 − F) dt.
        let m = Mobilisation::Rayleigh { mean_s: 1200.0 };
        let mean: f64 = (0..200_000)
            .map(|i| 1.0 - m.cdf(i as f64 * 0.1 + 0.05))
            .sum::<f64>()
            * 0.1;
        assert!((mean - 1200.0).abs() < 0.01, "{mean}");
    }
}
