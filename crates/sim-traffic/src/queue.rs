//! A mesoscopic, event-based queue model of road traffic (in the spirit of the MATSim queue
//! simulation and Gawron 1998).
//!
//! # Link model
//!
//! Every link `l` is a FIFO queue with
//! * a free-flow time `fft = free_flow_time · 60` s: a vehicle entering at `t` may leave at
//!   `t + fft` at the earliest;
//! * a flow capacity `capacity · flow_capacity_factor · change factor / 3600` veh/s: exits are
//!   spaced by at least the headway `1 / flow capacity`;
//! * a storage capacity `max(1, lanes · length / vehicle_length_m · storage_capacity_factor)`
//!   vehicles: a vehicle may enter while the occupancy (vehicles on the link, plus the spaces
//!   not yet freed by a backward wave) is below it (MATSim's rule: a storage of 2.5 holds 3).
//!
//! A vehicle at the head of its link, once its free-flow exit time and the headway have
//! passed, moves into its next link if that link has free storage; otherwise the link waits
//! (spillback) in the next link's FIFO of waiting links, which are woken in that order when
//! space frees. Space frees at the exit or, with `backward_wave_speed_mps`, `length / speed`
//! later.
//!
//! **Gridlock guard**: a head vehicle blocked for `stuck_time_s` is moved into its next link
//! anyway, whose occupancy then exceeds the storage for a while (MATSim moves stuck vehicles
//! the same way); `f64::INFINITY` disables the guard, and a gridlock then stays one until the
//! end (its vehicles are reported en route). Forced moves are counted.
//!
//! # Departures and routes
//!
//! A vehicle departs at its departure time at its origin node. It queues in the entry buffer
//! of its first link (one FIFO per link) while that link is full. Each trip has a destination
//! *set*; the model keeps, for every set, a backward shortest-path tree (multi-source
//! Dijkstra on the reversed network, next link from every node towards the nearest node of
//! the set), computed in parallel over the sets. A vehicle picks its next link at every node
//! from the current tree, so recomputing the trees reroutes en route. Trees are recomputed at
//! every network change and every `reroute_interval_s` (if set), with the link costs of
//! [`RouteCost`]. Zones (nodes below `first_thru_node`) are never routed through.
//!
//! # Network changes
//!
//! [`NetworkChange`]s apply at their times (before departures and other events at the same
//! time). A **closed** link admits no new vehicles; the vehicles already on it finish it
//! (they were committed when they entered); vehicles waiting in its entry buffer choose
//! again. A capacity factor replaces the previous one (relative to the base capacity) and
//! scales the flow capacity only, not the storage.
//!
//! **Stranding**: a vehicle at a node with no open path left to its destination set (at its
//! departure, or at the end of a link) is removed at once and counted as stranded with the
//! time and node; it does not wait for a reopening. A stranded vehicle at a link's end leaves
//! that link (it uses the exit capacity) so it does not block the vehicles behind it.
//!
//! # Determinism
//!
//! Events live in a binary heap keyed by (time, sequence number); network changes come
//! first at equal times, then the periodic rerouting, then departures (in trip order), then
//! the other events in the order they were scheduled. The trees do not depend on the
//! thread count (each set is one sequential Dijkstra with ties broken by node index), so the
//! whole result is bit-identical for any number of rayon threads.
//!
//! # Memory
//!
//! All state lives in flat vectors (structure of arrays); the link FIFOs and entry buffers are
//! ring buffers in one shared vector (a ring that overflows moves to the end at twice the
//! size). The trees take `4 · sets · nodes` bytes, plus `8 · sets · nodes` for their distances
//! (kept up to 2^25 sets × nodes, so that a recomputation repairs the previous trees instead of
//! running Dijkstra afresh; the result is the same). No allocation happens per event once the
//! rings have reached their sizes.

use std::collections::{BinaryHeap, VecDeque};

use rayon::prelude::*;

use crate::error::TrafficError;
use crate::network::Network;

const NONE: u32 = u32::MAX;
const ARRIVE: u32 = u32::MAX - 1;

/// Which link costs the routing trees use after the start (at the start both are the
/// free-flow times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteCost {
    /// Free-flow times only: trees change only with closures.
    FreeFlow,
    /// The current experienced time estimate of each link: the largest of the free-flow
    /// time, the time to discharge the vehicles on the link at its flow capacity
    /// (`occupancy · headway`) and the time the head vehicle has already spent on it.
    #[default]
    Experienced,
}

/// Parameters of the queue model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueParams {
    /// Space one vehicle takes in a jam (m), 7.5 by default.
    pub vehicle_length_m: f64,
    /// Scales every link's flow capacity (e.g. 0.1 for a 10 % sample), 1 by default.
    pub flow_capacity_factor: f64,
    /// Scales every link's storage capacity, 1 by default.
    pub storage_capacity_factor: f64,
    /// Speed of the backward wave (m/s): space on a link frees `length / speed` after a
    /// vehicle left it. `None` (default): at once.
    pub backward_wave_speed_mps: Option<f64>,
    /// Gridlock guard: a head vehicle blocked this long (s) moves anyway; 300 s by default,
    /// `f64::INFINITY` disables it.
    pub stuck_time_s: f64,
    /// Recompute the routing trees every so many seconds (en-route rerouting with the
    /// current link costs); `None` (default): only at network changes.
    pub reroute_interval_s: Option<f64>,
    /// Link costs of the recomputed trees.
    pub route_cost: RouteCost,
    /// Width of the arrival bins (s), 300 by default.
    pub bin_s: f64,
    /// Events after this time are not processed; `f64::INFINITY` (default): run until every
    /// vehicle has arrived or is stuck for good.
    pub end_time_s: f64,
}

impl Default for QueueParams {
    fn default() -> Self {
        QueueParams {
            vehicle_length_m: 7.5,
            flow_capacity_factor: 1.0,
            storage_capacity_factor: 1.0,
            backward_wave_speed_mps: None,
            stuck_time_s: 300.0,
            reroute_interval_s: None,
            route_cost: RouteCost::Experienced,
            bin_s: 300.0,
            end_time_s: f64::INFINITY,
        }
    }
}

/// One vehicle trip: it departs at `departure_s` from `origin` and drives to the nearest
/// node of destination set `dest_set` (an index into the sets given to [`simulate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trip {
    pub origin: u32,
    pub departure_s: f64,
    pub dest_set: u32,
}

/// What a network change does to its link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeKind {
    /// No new vehicles may enter; those on the link finish it.
    Close,
    /// The link admits vehicles again.
    Open,
    /// The link's flow capacity becomes this factor (> 0) times its base capacity.
    CapacityFactor(f64),
}

/// A time-dependent change of one link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkChange {
    pub t_s: f64,
    pub link: u32,
    pub kind: ChangeKind,
}

/// Where a vehicle is at the end of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VehicleState {
    /// Its departure time lies after the end time.
    NotDeparted,
    /// In the network (on a link or in an entry buffer) at the end.
    EnRoute,
    /// Reached a node of its destination set.
    Arrived,
    /// Removed at `node`: no open path left to its destination set.
    Stranded { node: u32 },
}

/// Counters of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounters {
    /// Events handled: departures, link-head events (stale ones included), space frees,
    /// network-change batches and reroutes.
    pub events: u64,
    /// Completed link traversals (link exits).
    pub link_traversals: u64,
    /// Times the routing trees were (re)computed.
    pub tree_computations: u64,
    /// Gridlock-guard moves into full links.
    pub forced_moves: u64,
    pub trips: u64,
    pub departed: u64,
    pub arrived: u64,
    pub stranded: u64,
    /// Vehicles on links at the end.
    pub on_links: u64,
    /// Vehicles in entry buffers at the end.
    pub in_buffers: u64,
    pub not_departed: u64,
}

impl QueueCounters {
    /// Vehicle conservation: departed = arrived + stranded + en route, and every trip either
    /// departed or did not.
    pub fn is_conserved(&self) -> bool {
        self.departed == self.arrived + self.stranded + self.on_links + self.in_buffers
            && self.trips == self.departed + self.not_departed
    }
}

/// The outcome of [`simulate`]. Vehicle vectors follow the trip order, link vectors the
/// link order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueResult {
    /// Departure time of each vehicle (s).
    pub departure_s: Vec<f64>,
    /// When it entered its first link (left the entry buffer); its departure time when it
    /// arrived at once; `None` if it never entered.
    pub entry_s: Vec<Option<f64>>,
    /// Arrival or stranding time.
    pub end_s: Vec<Option<f64>>,
    /// The destination node each vehicle arrived at (`u32::MAX`: it did not arrive).
    pub arrival_node: Vec<u32>,
    pub state: Vec<VehicleState>,
    /// Vehicles that entered each link (volume).
    pub link_entries: Vec<u64>,
    /// Vehicles that left each link.
    pub link_exits: Vec<u64>,
    /// Most vehicles at once whose free-flow exit time had passed but that had not left (a run
    /// that ends in a permanent gridlock, `stuck_time_s` infinite, counts every vehicle left
    /// on the link).
    pub link_max_queue: Vec<u32>,
    /// Most vehicles on the link at once.
    pub link_max_occupancy: Vec<u32>,
    /// Σ (exit time − free-flow exit time) over the exits (s).
    pub link_total_delay_s: Vec<f64>,
    /// Σ (exit time − entry time) over the exits (s).
    pub link_travel_time_sum_s: Vec<f64>,
    /// First time each link closed.
    pub link_closed_at_s: Vec<Option<f64>>,
    /// Width of the arrival bins (s).
    pub bin_s: f64,
    /// Arrivals in `[k · bin_s, (k + 1) · bin_s)`, up to the last arrival.
    pub arrivals_per_bin: Vec<u32>,
    /// Time of the last processed event (s), or the end time when events were left.
    pub end_time_s: f64,
    pub counters: QueueCounters,
}

impl QueueResult {
    /// Arrival time of vehicle `v`, if it arrived.
    pub fn arrival_s(&self, v: usize) -> Option<f64> {
        match self.state[v] {
            VehicleState::Arrived => self.end_s[v],
            _ => None,
        }
    }

    /// Mean travel time of link `l` over its exits (s), `None` without exits.
    pub fn mean_travel_time_s(&self, l: usize) -> Option<f64> {
        (self.link_exits[l] > 0).then(|| self.link_travel_time_sum_s[l] / self.link_exits[l] as f64)
    }

    /// The stranded vehicles: (vehicle, time, node).
    pub fn stranded(&self) -> impl Iterator<Item = (usize, f64, u32)> + '_ {
        self.state.iter().enumerate().filter_map(|(v, s)| match *s {
            VehicleState::Stranded { node } => Some((v, self.end_s[v].unwrap_or(f64::NAN), node)),
            _ => None,
        })
    }

    /// Vehicle conservation (see [`QueueCounters::is_conserved`]), also checked against the
    /// vehicle states.
    pub fn is_conserved(&self) -> bool {
        let c = &self.counters;
        let count =
            |f: fn(&VehicleState) -> bool| self.state.iter().filter(|s| f(s)).count() as u64;
        c.is_conserved()
            && count(|s| *s == VehicleState::Arrived) == c.arrived
            && count(|s| matches!(s, VehicleState::Stranded { .. })) == c.stranded
            && count(|s| *s == VehicleState::EnRoute) == c.on_links + c.in_buffers
            && count(|s| *s == VehicleState::NotDeparted) == c.not_departed
            && self.arrivals_per_bin.iter().map(|&a| a as u64).sum::<u64>() == c.arrived
    }
}

/// FIFO rings, one per key, in one shared vector.
#[derive(Debug, Default)]
struct Rings {
    data: Vec<u32>,
    off: Vec<usize>,
    cap: Vec<u32>,
    head: Vec<u32>,
    len: Vec<u32>,
}

impl Rings {
    fn new(caps: impl Iterator<Item = u32>) -> Rings {
        let mut r = Rings::default();
        for c in caps {
            r.off.push(r.data.len());
            r.cap.push(c);
            r.data.resize(r.data.len() + c as usize, 0);
        }
        r.head = vec![0; r.off.len()];
        r.len = vec![0; r.off.len()];
        r
    }

    #[inline]
    fn len(&self, k: usize) -> u32 {
        self.len[k]
    }

    #[inline]
    fn get(&self, k: usize, i: u32) -> u32 {
        let mut j = self.head[k] + i;
        if j >= self.cap[k] {
            j -= self.cap[k];
        }
        self.data[self.off[k] + j as usize]
    }

    #[inline]
    fn front(&self, k: usize) -> Option<u32> {
        (self.len[k] > 0).then(|| self.data[self.off[k] + self.head[k] as usize])
    }

    #[inline]
    fn push(&mut self, k: usize, v: u32) {
        if self.len[k] == self.cap[k] {
            self.grow(k);
        }
        let mut j = self.head[k] + self.len[k];
        if j >= self.cap[k] {
            j -= self.cap[k];
        }
        self.data[self.off[k] + j as usize] = v;
        self.len[k] += 1;
    }

    #[inline]
    fn pop(&mut self, k: usize) -> Option<u32> {
        let v = self.front(k)?;
        self.head[k] += 1;
        if self.head[k] == self.cap[k] {
            self.head[k] = 0;
        }
        self.len[k] -= 1;
        Some(v)
    }

    #[cold]
    fn grow(&mut self, k: usize) {
        let new_cap = (self.cap[k].saturating_mul(2)).max(4);
        let new_off = self.data.len();
        for i in 0..self.len[k] {
            let v = self.get(k, i);
            self.data.push(v);
        }
        self.data.resize(new_off + new_cap as usize, 0);
        self.off[k] = new_off;
        self.cap[k] = new_cap;
        self.head[k] = 0;
    }
}

/// Top bit of an event's id: a space-free event (else a link-head event).
const EV_FREE: u32 = 1 << 31;

/// An event: 24 bytes. A link-head event is valid while its sequence number is the link's
/// latest (`head_seq`); stale ones are skipped.
#[derive(Debug, Clone, Copy)]
struct Ev {
    t: f64,
    seq: u64,
    id: u32,
}

impl PartialEq for Ev {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Ev {}
impl PartialOrd for Ev {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ev {
    /// Reversed: the max-heap pops the earliest (time, sequence).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.t.total_cmp(&self.t).then(o.seq.cmp(&self.seq))
    }
}

/// The reversed network for the routing trees: the links entering node `v` are
/// `link[start[v]..start[v + 1]]` (the order of [`Network::in_of`]) with their start nodes in
/// `from`; the tree costs are gathered into the same order, so that a relaxation reads one
/// contiguous run.
struct RevStar {
    start: Vec<u32>,
    /// (start node, link) of each entry.
    entry: Vec<(u32, u32)>,
    /// Entry index of each link.
    pos: Vec<u32>,
    /// Forward star in [`Network::out_of`] order: (end node, link, entry index of the link).
    out: Vec<(u32, u32, u32)>,
}

impl RevStar {
    fn new(net: &Network) -> RevStar {
        RevStar {
            start: net.in_start.clone(),
            entry: net
                .in_links
                .iter()
                .map(|&l| (net.from[l as usize], l))
                .collect(),
            pos: {
                let mut pos = vec![0; net.link_count()];
                for (k, &l) in net.in_links.iter().enumerate() {
                    pos[l as usize] = k as u32;
                }
                pos
            },
            out: Vec::new(),
        }
        .with_out(net)
    }

    fn with_out(mut self, net: &Network) -> RevStar {
        self.out = net
            .out_links
            .iter()
            .map(|&l| (net.to[l as usize], l, self.pos[l as usize]))
            .collect();
        self
    }

    /// `cost` (link order) in backward-star order and in forward-star order.
    fn gather(&self, cost: &[f64], rcost: &mut Vec<f64>, ocost: &mut Vec<f64>) {
        rcost.clear();
        rcost.extend(self.entry.iter().map(|&(_, l)| cost[l as usize]));
        ocost.clear();
        ocost.extend(self.out.iter().map(|&(_, l, _)| cost[l as usize]));
    }
}

/// Dijkstra label: (distance bits, node) in one key. Distances are never negative (nor
/// `-0.0`), so their bit patterns order like their values, and the key orders by distance,
/// then node, as a `(f64, u32)` pair would.
#[inline]
fn label(d: f64, n: u32) -> u128 {
    ((d.to_bits() as u128) << 32) | n as u128
}

/// A 4-ary min-heap of labels (lazy deletion: stale labels are skipped by the caller).
#[derive(Debug, Default)]
struct LabelHeap {
    a: Vec<u128>,
}

impl LabelHeap {
    #[inline]
    fn push(&mut self, x: u128) {
        let mut i = self.a.len();
        self.a.push(x);
        while i > 0 {
            let p = (i - 1) / 4;
            if self.a[p] <= x {
                break;
            }
            self.a[i] = self.a[p];
            i = p;
        }
        self.a[i] = x;
    }

    #[inline]
    fn pop(&mut self) -> Option<u128> {
        let last = self.a.pop()?;
        let n = self.a.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.a[0];
        let mut i = 0;
        loop {
            let c = 4 * i + 1;
            if c >= n {
                break;
            }
            let mut m = c;
            for j in c + 1..(c + 4).min(n) {
                if self.a[j] < self.a[m] {
                    m = j;
                }
            }
            if self.a[m] >= last {
                break;
            }
            self.a[i] = self.a[m];
            i = m;
        }
        self.a[i] = last;
        Some(top)
    }
}

/// Backward shortest-path tree towards `set`: `next[n]` is the link to take at node `n`,
/// [`ARRIVE`] on the set, [`NONE`] without a path; `dist[n]` its cost to the set. `rcost`
/// holds the link costs in [`RevStar`] order; links with an infinite cost are closed. Nodes
/// are settled in (distance, node) order and `next[u]` is the first link that reached `u`'s
/// final distance, so the tree depends on the costs only (ties broken by node index, then by
/// the order of the backward star).
fn backward_tree(
    net: &Network,
    rs: &RevStar,
    set: &[u32],
    rcost: &[f64],
    next: &mut [u32],
    dist: &mut [f64],
    heap: &mut LabelHeap,
) {
    dist.fill(f64::INFINITY);
    next.fill(NONE);
    heap.a.clear();
    for &d in set {
        dist[d as usize] = 0.0;
        next[d as usize] = ARRIVE;
        heap.push(label(0.0, d));
    }
    while let Some(key) = heap.pop() {
        let v = key as u32;
        let dv = f64::from_bits((key >> 32) as u64);
        if dv > dist[v as usize] {
            continue;
        }
        // Paths pass through v unless it is a zone outside the set.
        if !net.is_thru(v) && next[v as usize] != ARRIVE {
            continue;
        }
        let (a, b) = (
            rs.start[v as usize] as usize,
            rs.start[v as usize + 1] as usize,
        );
        for (&(u, l), &c) in rs.entry[a..b].iter().zip(&rcost[a..b]) {
            // An infinite cost (closed link) never improves.
            let nd = dv + c;
            if nd < dist[u as usize] {
                dist[u as usize] = nd;
                next[u as usize] = l;
                heap.push(label(nd, u));
            }
        }
    }
}

/// Scratch space of [`repair_tree`].
#[derive(Debug, Default)]
struct TreeScratch {
    heap: LabelHeap,
    done: Vec<bool>,
    stack: Vec<u32>,
}

/// Update a tree (`next`, `dist`, exact for some earlier costs) to the new link costs `cost`
/// (`rcost` and `ocost` in [`RevStar`] orders), with the same result as [`backward_tree`]; returns false
/// (leaving `next` and `dist` unusable) where it cannot guarantee that, and the caller then
/// computes the tree afresh.
///
/// Why it is the same: Dijkstra's distances are the least solution of
/// `dist[u] = min over links u → v (v propagating) of dist[v] + c` (each a single rounded
/// addition, which never falls below `dist[v]`), and `next[u]` is the first link, in settle
/// order, that offers `dist[u]`. The repair
/// 1. evaluates the old tree's paths with the new costs (upper bounds: each is the cost of a
///    path, infinite through a closed link),
/// 2. lowers every node that some link offers less, and runs Dijkstra from those nodes; a
///    node that is never lowered keeps a path cost that no link undercuts, so by induction
///    along the shortest paths every node ends at the least solution;
/// 3. picks `next[u]` among the links offering `dist[u]` by settle order, which is
///    (distance, node, backward-star position) as long as no link offers a node its own
///    head's distance (a zero-cost step can settle a lower-numbered node after its head at
///    the same distance). Where a link does, it gives up.
#[allow(clippy::too_many_arguments)]
fn repair_tree(
    net: &Network,
    rs: &RevStar,
    cost: &[f64],
    rcost: &[f64],
    ocost: &[f64],
    next: &mut [u32],
    dist: &mut [f64],
    sc: &mut TreeScratch,
) -> bool {
    let n = next.len();
    let propagates = |next: &[u32], v: u32| net.is_thru(v) || next[v as usize] == ARRIVE;
    // 1. Path costs along the old tree: walk up to a node already costed, then back.
    sc.done.clear();
    sc.done.resize(n, false);
    for u in 0..n {
        if next[u] == ARRIVE {
            dist[u] = 0.0;
            sc.done[u] = true;
        } else if next[u] == NONE {
            dist[u] = f64::INFINITY;
            sc.done[u] = true;
        }
    }
    for u in 0..n {
        let mut w = u;
        while !sc.done[w] {
            sc.stack.push(w as u32);
            if sc.stack.len() > n {
                // Not a tree (cannot happen for a tree of backward_tree or repair_tree).
                return false;
            }
            w = net.to[next[w] as usize] as usize;
        }
        while let Some(x) = sc.stack.pop() {
            let x = x as usize;
            let l = next[x] as usize;
            dist[x] = dist[net.to[l] as usize] + cost[l];
            sc.done[x] = true;
        }
    }
    // 2. Lower what a link undercuts, then Dijkstra from there.
    let heap = &mut sc.heap;
    heap.a.clear();
    for u in 0..n {
        if next[u] == ARRIVE {
            continue;
        }
        let (a, b) = (net.out_start[u] as usize, net.out_start[u + 1] as usize);
        let mut best = dist[u];
        for (&(v, _, _), &c) in rs.out[a..b].iter().zip(&ocost[a..b]) {
            if propagates(next, v) {
                let nd = dist[v as usize] + c;
                if nd < best {
                    best = nd;
                }
            }
        }
        if best < dist[u] {
            dist[u] = best;
            heap.push(label(best, u as u32));
        }
    }
    while let Some(key) = heap.pop() {
        let v = key as u32;
        let dv = f64::from_bits((key >> 32) as u64);
        if dv > dist[v as usize] || !propagates(next, v) {
            continue;
        }
        let (a, b) = (
            rs.start[v as usize] as usize,
            rs.start[v as usize + 1] as usize,
        );
        for (&(u, _), &c) in rs.entry[a..b].iter().zip(&rcost[a..b]) {
            let nd = dv + c;
            if nd < dist[u as usize] {
                dist[u as usize] = nd;
                heap.push(label(nd, u));
            }
        }
    }
    // 3. The first link in settle order offering each node its distance.
    for u in 0..n {
        if next[u] == ARRIVE {
            continue;
        }
        let du = dist[u];
        if !du.is_finite() {
            next[u] = NONE;
            continue;
        }
        let mut best = NONE;
        let mut best_key = u128::MAX;
        let (a, b) = (net.out_start[u] as usize, net.out_start[u + 1] as usize);
        for (&(v, l, pos), &c) in rs.out[a..b].iter().zip(&ocost[a..b]) {
            if !propagates(next, v) {
                continue;
            }
            let dv = dist[v as usize];
            if dv + c == du {
                if dv == du {
                    return false;
                }
                let key = label(dv, pos);
                if key < best_key {
                    best_key = key;
                    best = l;
                }
            }
        }
        if best == NONE {
            return false;
        }
        next[u] = best;
    }
    true
}

/// Routing trees of all sets, in parallel over the sets (deterministic for any thread
/// count: each set is computed alone). With `repair` (the current `trees` and `dists` are
/// exact for earlier costs), a tree is updated by [`repair_tree`] where it can, else
/// recomputed; the result is the same either way.
#[allow(clippy::too_many_arguments)]
fn compute_trees(
    net: &Network,
    rs: &RevStar,
    sets: &[Vec<u32>],
    cost: &[f64],
    rcost: &[f64],
    ocost: &[f64],
    trees: &mut [u32],
    dists: &mut [f64],
    repair: bool,
) {
    let n = net.node_count.max(1);
    if dists.is_empty() {
        // No distances kept (too many sets × nodes): recompute every tree.
        trees.par_chunks_mut(n).zip(sets.par_iter()).for_each_init(
            || (vec![f64::INFINITY; n], LabelHeap::default()),
            |(dist, heap), (next, set)| backward_tree(net, rs, set, rcost, next, dist, heap),
        );
        return;
    }
    trees
        .par_chunks_mut(n)
        .zip(dists.par_chunks_mut(n))
        .zip(sets.par_iter())
        .for_each_init(TreeScratch::default, |sc, ((next, dist), set)| {
            if !(repair && repair_tree(net, rs, cost, rcost, ocost, next, dist, sc)) {
                backward_tree(net, rs, set, rcost, next, dist, &mut sc.heap);
            }
        });
}

/// Most `sets · nodes` for which the tree distances are kept (8 bytes each) so that only the
/// trees a cost change can affect are recomputed.
const MAX_KEPT_DISTS: usize = 1 << 25;

fn param_err(name: &'static str, value: f64, expected: &'static str) -> TrafficError {
    TrafficError::Param {
        name,
        value: value.to_string(),
        expected,
    }
}

fn validate(
    net: &Network,
    trips: &[Trip],
    dest_sets: &[Vec<u32>],
    changes: &[NetworkChange],
    p: &QueueParams,
) -> Result<(), TrafficError> {
    let l = net.link_count();
    let n = net.node_count;
    if net.to.len() != l
        || net.capacity.len() != l
        || net.length.len() != l
        || net.free_flow_time.len() != l
        || net.lanes.len() != l
        || net.out_start.len() != n + 1
        || net.in_start.len() != n + 1
        || net.in_links.len() != l
        || net.out_links.len() != l
    {
        return Err(TrafficError::Invalid(
            "network arrays are inconsistent (build it with Network::new)".into(),
        ));
    }
    if n > (u32::MAX - 2) as usize || l > (u32::MAX / 2 - 2) as usize {
        return Err(TrafficError::Invalid("network too large".into()));
    }
    if dest_sets.len().saturating_mul(n) > 1 << 30 {
        return Err(TrafficError::Invalid(format!(
            "{} destination sets × {n} nodes: the routing trees would take over 4 GiB \
             (group trips into fewer sets)",
            dest_sets.len()
        )));
    }
    if trips.len() >= u32::MAX as usize {
        return Err(TrafficError::Invalid("too many trips".into()));
    }
    for i in 0..l {
        let bad = |what: String| TrafficError::Invalid(format!("link {}: {what}", i + 1));
        if !(net.capacity[i].is_finite() && net.capacity[i] > 0.0) {
            return Err(bad(format!(
                "capacity {} must be positive",
                net.capacity[i]
            )));
        }
        if !(net.free_flow_time[i].is_finite() && net.free_flow_time[i] >= 0.0) {
            return Err(bad(format!(
                "free-flow time {} invalid",
                net.free_flow_time[i]
            )));
        }
        if !(net.length[i].is_finite() && net.length[i] >= 0.0) {
            return Err(bad(format!("length {} invalid", net.length[i])));
        }
        if !(net.lanes[i].is_finite() && net.lanes[i] > 0.0) {
            return Err(bad(format!("lanes {} invalid", net.lanes[i])));
        }
        if net.from[i] as usize >= n || net.to[i] as usize >= n {
            return Err(bad("node beyond the network".into()));
        }
    }
    let pos = |name, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(param_err(name, v, "finite and positive"))
        }
    };
    pos("vehicle_length_m", p.vehicle_length_m)?;
    pos("flow_capacity_factor", p.flow_capacity_factor)?;
    pos("storage_capacity_factor", p.storage_capacity_factor)?;
    pos("bin_s", p.bin_s)?;
    if let Some(w) = p.backward_wave_speed_mps
        && (w.is_nan() || w <= 0.0)
    {
        return Err(param_err("backward_wave_speed_mps", w, "positive"));
    }
    if p.stuck_time_s.is_nan() || p.stuck_time_s <= 0.0 {
        return Err(param_err(
            "stuck_time_s",
            p.stuck_time_s,
            "positive (or infinite)",
        ));
    }
    if let Some(r) = p.reroute_interval_s {
        pos("reroute_interval_s", r)?;
    }
    if p.end_time_s.is_nan() || p.end_time_s < 0.0 {
        return Err(param_err(
            "end_time_s",
            p.end_time_s,
            "not negative (or infinite)",
        ));
    }
    for (k, s) in dest_sets.iter().enumerate() {
        if s.is_empty() {
            return Err(TrafficError::Invalid(format!(
                "destination set {} is empty",
                k + 1
            )));
        }
        if let Some(&d) = s.iter().find(|&&d| d as usize >= n) {
            return Err(TrafficError::Invalid(format!(
                "destination set {}: node {} beyond the {n} nodes",
                k + 1,
                d + 1
            )));
        }
    }
    for (i, t) in trips.iter().enumerate() {
        let bad = |what: String| TrafficError::Invalid(format!("trip {}: {what}", i + 1));
        if t.origin as usize >= n {
            return Err(bad(format!("origin {} beyond the {n} nodes", t.origin + 1)));
        }
        if !(t.departure_s.is_finite() && t.departure_s >= 0.0) {
            return Err(bad(format!(
                "departure time {} must be finite and not negative",
                t.departure_s
            )));
        }
        if t.dest_set as usize >= dest_sets.len() {
            return Err(bad(format!(
                "destination set {} beyond the {} sets",
                t.dest_set + 1,
                dest_sets.len()
            )));
        }
    }
    for (i, c) in changes.iter().enumerate() {
        let bad = |what: String| TrafficError::Invalid(format!("network change {}: {what}", i + 1));
        if !(c.t_s.is_finite() && c.t_s >= 0.0) {
            return Err(bad(format!(
                "time {} must be finite and not negative",
                c.t_s
            )));
        }
        if c.link as usize >= l {
            return Err(bad(format!("unknown link {} (of {l})", c.link + 1)));
        }
        if let ChangeKind::CapacityFactor(f) = c.kind
            && !(f.is_finite() && f > 0.0)
        {
            return Err(bad(format!(
                "capacity factor {f} must be finite and positive (use Close to stop a link)"
            )));
        }
    }
    Ok(())
}

/// Vehicles on link `l` whose free-flow exit time lies before `now`.
fn queue_count(ring: &Rings, t_link: &[f64], fft: f64, l: usize, now: f64) -> u32 {
    let ready = |i: u32| t_link[ring.get(l, i) as usize] + fft < now;
    let n = ring.len(l);
    if n == 0 || !ready(0) {
        return 0;
    }
    // Free-flow exit times ascend along the FIFO: binary search the first one not ready.
    let (mut lo, mut hi) = (1u32, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ready(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The simulation state (structure of arrays).
struct Sim<'a> {
    net: &'a Network,
    p: QueueParams,
    nl: usize,
    nn: usize,
    // Links.
    fft: Vec<f64>,
    base_headway: Vec<f64>,
    headway: Vec<f64>,
    storage: Vec<f64>,
    wave_delay: Vec<f64>,
    closed: Vec<bool>,
    occ: Vec<u32>,
    last_exit: Vec<f64>,
    head_seq: Vec<u64>,
    blocked_since: Vec<f64>,
    ring: Rings,
    buf: Rings,
    // Waiting lists: waiter w < nl is link w's head, w ≥ nl the entry buffer of link w − nl.
    waiting_on: Vec<u32>,
    wprev: Vec<u32>,
    wnext: Vec<u32>,
    whead: Vec<u32>,
    wtail: Vec<u32>,
    wake: VecDeque<u32>,
    // Vehicles.
    veh_set: Vec<u32>,
    origin: Vec<u32>,
    t_link: Vec<f64>,
    // Routing.
    sets: &'a [Vec<u32>],
    trees: Vec<u32>,
    /// Distance of every node to each set in `trees` (same layout).
    dists: Vec<f64>,
    cost: Vec<f64>,
    /// The costs `trees` were computed with.
    tree_cost: Vec<f64>,
    rev: RevStar,
    /// `cost` in `rev`'s backward and forward orders.
    rcost: Vec<f64>,
    ocost: Vec<f64>,
    // Events.
    heap: BinaryHeap<Ev>,
    seq: u64,
    // Output.
    out: QueueResult,
}

impl<'a> Sim<'a> {
    #[inline]
    fn next_link(&self, v: u32, node: u32) -> u32 {
        self.trees[self.veh_set[v as usize] as usize * self.nn + node as usize]
    }

    #[inline]
    fn has_space(&self, m: usize) -> bool {
        !self.closed[m] && (self.occ[m] as f64) < self.storage[m]
    }

    /// Schedule an event; returns its sequence number.
    #[inline]
    fn push_ev(&mut self, t: f64, id: u32) -> u64 {
        self.seq += 1;
        self.heap.push(Ev {
            t,
            seq: self.seq,
            id,
        });
        self.seq
    }

    /// Schedule the head of link `l` at its earliest exit (free-flow time and headway).
    #[inline]
    fn schedule_head(&mut self, l: usize, now: f64) {
        if let Some(v) = self.ring.front(l) {
            let t = (self.t_link[v as usize] + self.fft[l])
                .max(self.last_exit[l] + self.headway[l])
                .max(now);
            self.head_seq[l] = self.push_ev(t, l as u32);
        }
    }

    fn unlink(&mut self, w: usize) {
        let m = self.waiting_on[w];
        if m == NONE {
            return;
        }
        let m = m as usize;
        let (p, n) = (self.wprev[w], self.wnext[w]);
        if p == NONE {
            self.whead[m] = n;
        } else {
            self.wnext[p as usize] = n;
        }
        if n == NONE {
            self.wtail[m] = p;
        } else {
            self.wprev[n as usize] = p;
        }
        self.waiting_on[w] = NONE;
        self.wprev[w] = NONE;
        self.wnext[w] = NONE;
    }

    fn register(&mut self, w: usize, m: usize) {
        if self.waiting_on[w] == m as u32 {
            return;
        }
        self.unlink(w);
        self.waiting_on[w] = m as u32;
        let t = self.wtail[m];
        self.wprev[w] = t;
        self.wnext[w] = NONE;
        if t == NONE {
            self.whead[m] = w as u32;
        } else {
            self.wnext[t as usize] = w as u32;
        }
        self.wtail[m] = w as u32;
    }

    #[inline]
    fn enter(&mut self, m: usize, v: u32, now: f64) {
        self.ring.push(m, v);
        self.occ[m] += 1;
        self.out.link_entries[m] += 1;
        self.t_link[v as usize] = now;
        let len = self.ring.len(m);
        if len > self.out.link_max_occupancy[m] {
            self.out.link_max_occupancy[m] = len;
        }
        if len == 1 {
            self.schedule_head(m, now);
        }
    }

    /// The head `v` of link `l` leaves it at `now`.
    #[inline]
    fn exit(&mut self, l: usize, v: u32, now: f64) {
        let earliest = self.t_link[v as usize] + self.fft[l];
        if earliest < now {
            let q = queue_count(&self.ring, &self.t_link, self.fft[l], l, now);
            if q > self.out.link_max_queue[l] {
                self.out.link_max_queue[l] = q;
            }
        }
        self.ring.pop(l);
        self.out.link_exits[l] += 1;
        self.out.counters.link_traversals += 1;
        self.out.link_total_delay_s[l] += (now - earliest).max(0.0);
        self.out.link_travel_time_sum_s[l] += now - self.t_link[v as usize];
        self.last_exit[l] = now;
        self.blocked_since[l] = f64::INFINITY;
        self.unlink(l);
        self.schedule_head(l, now);
        if self.wave_delay[l] > 0.0 {
            self.push_ev(now + self.wave_delay[l], l as u32 | EV_FREE);
        } else {
            self.occ[l] -= 1;
            if self.whead[l] != NONE {
                self.wake.push_back(l as u32);
            }
        }
    }

    fn arrive(&mut self, v: u32, now: f64, node: u32) {
        let v = v as usize;
        self.out.state[v] = VehicleState::Arrived;
        self.out.arrival_node[v] = node;
        self.out.end_s[v] = Some(now);
        self.out.counters.arrived += 1;
        let b = (now / self.p.bin_s) as usize;
        if self.out.arrivals_per_bin.len() <= b {
            self.out.arrivals_per_bin.resize(b + 1, 0);
        }
        self.out.arrivals_per_bin[b] += 1;
    }

    fn strand(&mut self, v: u32, now: f64, node: u32) {
        let v = v as usize;
        self.out.state[v] = VehicleState::Stranded { node };
        self.out.end_s[v] = Some(now);
        self.out.counters.stranded += 1;
    }

    /// The head of link `l` (ready to leave) tries to move on at `now`.
    fn try_move(&mut self, l: usize, now: f64) {
        let Some(v) = self.ring.front(l) else {
            return;
        };
        let node = self.net.to[l];
        let nx = self.next_link(v, node);
        if nx == ARRIVE {
            self.exit(l, v, now);
            self.arrive(v, now, node);
        } else if nx == NONE || self.closed[nx as usize] {
            self.exit(l, v, now);
            self.strand(v, now, node);
        } else if self.has_space(nx as usize) {
            self.exit(l, v, now);
            self.enter(nx as usize, v, now);
        } else if now >= self.blocked_since[l] + self.p.stuck_time_s {
            self.out.counters.forced_moves += 1;
            self.exit(l, v, now);
            self.enter(nx as usize, v, now);
        } else {
            self.register(l, nx as usize);
            if self.blocked_since[l] == f64::INFINITY {
                self.blocked_since[l] = now;
                if self.p.stuck_time_s.is_finite() {
                    self.head_seq[l] = self.push_ev(now + self.p.stuck_time_s, l as u32);
                }
            }
        }
    }

    /// Vehicles in the entry buffer of link `m` enter while it has space.
    fn try_buffer(&mut self, m: usize, now: f64) {
        while self.has_space(m) {
            let Some(v) = self.buf.pop(m) else {
                break;
            };
            self.out.entry_s[v as usize] = Some(now);
            self.enter(m, v, now);
        }
        if self.buf.len(m) > 0 {
            self.register(self.nl + m, m);
        } else {
            self.unlink(self.nl + m);
        }
    }

    fn depart(&mut self, v: u32, now: f64) {
        self.out.counters.departed += 1;
        self.out.state[v as usize] = VehicleState::EnRoute;
        let node = self.origin[v as usize];
        let nx = self.next_link(v, node);
        if nx == ARRIVE {
            self.out.entry_s[v as usize] = Some(now);
            self.arrive(v, now, node);
        } else if nx == NONE || self.closed[nx as usize] {
            self.strand(v, now, node);
        } else {
            let m = nx as usize;
            self.buf.push(m, v);
            if self.waiting_on[self.nl + m] == NONE {
                self.try_buffer(m, now);
            }
        }
    }

    fn process_wakes(&mut self, now: f64) {
        while let Some(m) = self.wake.pop_front() {
            let m = m as usize;
            while self.has_space(m) {
                let w = self.whead[m];
                if w == NONE {
                    break;
                }
                let w = w as usize;
                self.unlink(w);
                if w < self.nl {
                    self.try_move(w, now);
                } else {
                    self.try_buffer(w - self.nl, now);
                }
            }
        }
    }

    fn update_costs(&mut self, now: f64, free_flow: bool) {
        for l in 0..self.nl {
            self.cost[l] = if self.closed[l] {
                f64::INFINITY
            } else if free_flow {
                self.fft[l]
            } else {
                let mut c = self.fft[l];
                if let Some(h) = self.ring.front(l) {
                    c = c
                        .max(self.ring.len(l) as f64 * self.headway[l])
                        .max(now - self.t_link[h as usize]);
                }
                c
            };
        }
    }

    fn recompute_trees(&mut self, now: f64) {
        let free_flow = self.p.route_cost == RouteCost::FreeFlow;
        self.update_costs(now, free_flow);
        // Unchanged costs give the same trees.
        let changed = (0..self.nl).any(|l| self.cost[l].to_bits() != self.tree_cost[l].to_bits());
        if changed {
            self.rev
                .gather(&self.cost, &mut self.rcost, &mut self.ocost);
            compute_trees(
                self.net,
                &self.rev,
                self.sets,
                &self.cost,
                &self.rcost,
                &self.ocost,
                &mut self.trees,
                &mut self.dists,
                true,
            );
            self.tree_cost.copy_from_slice(&self.cost);
        }
        self.out.counters.tree_computations += 1;
        // Entry buffers of closed links choose again.
        let mut touched = Vec::new();
        for m in 0..self.nl {
            if self.closed[m] && self.buf.len(m) > 0 {
                self.unlink(self.nl + m);
                let node = self.net.from[m];
                while let Some(v) = self.buf.pop(m) {
                    let nx = self.next_link(v, node);
                    if nx == ARRIVE {
                        self.out.entry_s[v as usize] = Some(now);
                        self.arrive(v, now, node);
                    } else if nx == NONE || self.closed[nx as usize] {
                        self.strand(v, now, node);
                    } else {
                        self.buf.push(nx as usize, v);
                        touched.push(nx as usize);
                    }
                }
            }
        }
        for m in touched {
            if self.waiting_on[self.nl + m] == NONE {
                self.try_buffer(m, now);
            }
        }
        // Blocked heads choose again with the new trees.
        for l in 0..self.nl {
            if self.blocked_since[l] < f64::INFINITY {
                self.try_move(l, now);
            }
        }
    }

    fn apply_change(&mut self, c: &NetworkChange, now: f64) {
        let l = c.link as usize;
        match c.kind {
            ChangeKind::Close => {
                self.closed[l] = true;
                self.out.link_closed_at_s[l].get_or_insert(now);
            }
            ChangeKind::Open => {
                self.closed[l] = false;
                if self.whead[l] != NONE {
                    self.wake.push_back(l as u32);
                }
            }
            ChangeKind::CapacityFactor(f) => {
                self.headway[l] = self.base_headway[l] / f;
                if self.blocked_since[l] == f64::INFINITY {
                    self.schedule_head(l, now);
                }
            }
        }
    }
}

/// Run the queue model.
///
/// * `trips`: the vehicles, each with its origin, departure time (s, finite, ≥ 0) and
///   destination set;
/// * `dest_sets`: the destination sets (non-empty lists of nodes; duplicates allowed);
/// * `changes`: network changes in any order (applied by time, stable).
///
/// Errors on a bad parameter, trip, set or change (never panics on input values).
pub fn simulate(
    net: &Network,
    trips: &[Trip],
    dest_sets: &[Vec<u32>],
    changes: &[NetworkChange],
    params: &QueueParams,
) -> Result<QueueResult, TrafficError> {
    validate(net, trips, dest_sets, changes, params)?;
    let p = *params;
    let nl = net.link_count();
    let nn = net.node_count;
    let nv = trips.len();
    let fft: Vec<f64> = net.free_flow_time.iter().map(|t| t * 60.0).collect();
    let base_headway: Vec<f64> = net
        .capacity
        .iter()
        .map(|c| 3600.0 / (c * p.flow_capacity_factor))
        .collect();
    let storage: Vec<f64> = (0..nl)
        .map(|l| {
            (net.lanes[l] * net.length[l] / p.vehicle_length_m * p.storage_capacity_factor).max(1.0)
        })
        .collect();
    let wave_delay: Vec<f64> = match p.backward_wave_speed_mps {
        Some(w) => net.length.iter().map(|len| len / w).collect(),
        None => vec![0.0; nl],
    };
    let ring = Rings::new(storage.iter().map(|s| (s.ceil() as u32).clamp(1, 1024)));
    let buf = Rings::new((0..nl).map(|_| 0));
    let mut out = QueueResult {
        departure_s: trips.iter().map(|t| t.departure_s).collect(),
        entry_s: vec![None; nv],
        end_s: vec![None; nv],
        arrival_node: vec![u32::MAX; nv],
        state: vec![VehicleState::NotDeparted; nv],
        link_entries: vec![0; nl],
        link_exits: vec![0; nl],
        link_max_queue: vec![0; nl],
        link_max_occupancy: vec![0; nl],
        link_total_delay_s: vec![0.0; nl],
        link_travel_time_sum_s: vec![0.0; nl],
        link_closed_at_s: vec![None; nl],
        bin_s: p.bin_s,
        ..Default::default()
    };
    out.counters.trips = nv as u64;
    let mut sim = Sim {
        net,
        p,
        nl,
        nn,
        headway: base_headway.clone(),
        base_headway,
        fft,
        storage,
        wave_delay,
        closed: vec![false; nl],
        occ: vec![0; nl],
        last_exit: vec![f64::NEG_INFINITY; nl],
        head_seq: vec![0; nl],
        blocked_since: vec![f64::INFINITY; nl],
        ring,
        buf,
        waiting_on: vec![NONE; 2 * nl],
        wprev: vec![NONE; 2 * nl],
        wnext: vec![NONE; 2 * nl],
        whead: vec![NONE; nl],
        wtail: vec![NONE; nl],
        wake: VecDeque::new(),
        veh_set: trips.iter().map(|t| t.dest_set).collect(),
        origin: trips.iter().map(|t| t.origin).collect(),
        t_link: vec![0.0; nv],
        sets: dest_sets,
        trees: vec![NONE; dest_sets.len() * nn],
        dists: if dest_sets.len() * nn <= MAX_KEPT_DISTS {
            vec![f64::INFINITY; dest_sets.len() * nn]
        } else {
            Vec::new()
        },
        cost: vec![0.0; nl],
        tree_cost: vec![0.0; nl],
        rev: RevStar::new(net),
        rcost: Vec::new(),
        ocost: Vec::new(),
        heap: BinaryHeap::new(),
        seq: 0,
        out,
    };

    // Initial trees on free-flow times.
    sim.update_costs(0.0, true);
    sim.rev.gather(&sim.cost, &mut sim.rcost, &mut sim.ocost);
    compute_trees(
        net,
        &sim.rev,
        dest_sets,
        &sim.cost,
        &sim.rcost,
        &sim.ocost,
        &mut sim.trees,
        &mut sim.dists,
        false,
    );
    sim.tree_cost.copy_from_slice(&sim.cost);
    sim.out.counters.tree_computations += 1;

    let mut order: Vec<u32> = (0..nv as u32).collect();
    order.sort_by(|&a, &b| {
        trips[a as usize]
            .departure_s
            .total_cmp(&trips[b as usize].departure_s)
            .then(a.cmp(&b))
    });
    let mut ch: Vec<NetworkChange> = changes.to_vec();
    ch.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));

    let (mut di, mut ci) = (0usize, 0usize);
    let mut reroute_k = 1u64;
    let mut now = 0.0f64;
    let mut events_left = false;
    loop {
        let t_change = ch.get(ci).map_or(f64::INFINITY, |c| c.t_s);
        let t_dep = order
            .get(di)
            .map_or(f64::INFINITY, |&v| trips[v as usize].departure_s);
        let t_heap = sim.heap.peek().map_or(f64::INFINITY, |e| e.t);
        let t_other = t_dep.min(t_heap);
        let t_next = t_change.min(t_other);
        if t_next == f64::INFINITY {
            break;
        }
        if let Some(iv) = p.reroute_interval_s {
            let t_r = reroute_k as f64 * iv;
            if t_r <= t_next && t_r < t_change {
                if t_r > p.end_time_s {
                    events_left = true;
                    break;
                }
                now = t_r;
                reroute_k += 1;
                sim.out.counters.events += 1;
                sim.recompute_trees(now);
                sim.process_wakes(now);
                continue;
            }
        }
        if t_next > p.end_time_s {
            events_left = true;
            break;
        }
        now = t_next;
        sim.out.counters.events += 1;
        if t_change <= t_other {
            while ci < ch.len() && ch[ci].t_s == t_change {
                let c = ch[ci];
                sim.apply_change(&c, now);
                ci += 1;
            }
            if let Some(iv) = p.reroute_interval_s {
                while reroute_k as f64 * iv <= now {
                    reroute_k += 1;
                }
            }
            sim.recompute_trees(now);
        } else if t_dep <= t_heap {
            let v = order[di];
            di += 1;
            sim.depart(v, now);
        } else if let Some(e) = sim.heap.pop() {
            let l = (e.id & !EV_FREE) as usize;
            if e.id & EV_FREE == 0 {
                if e.seq == sim.head_seq[l] {
                    sim.try_move(l, now);
                }
            } else {
                sim.occ[l] -= 1;
                if sim.whead[l] != NONE {
                    sim.wake.push_back(l as u32);
                }
            }
        }
        sim.process_wakes(now);
    }

    let t_final = if events_left { p.end_time_s } else { now };
    // A run that ended with no events left but vehicles on links is stuck for good: all of
    // them count as queued.
    let t_queue = if events_left { t_final } else { f64::INFINITY };
    for l in 0..nl {
        let q = queue_count(&sim.ring, &sim.t_link, sim.fft[l], l, t_queue);
        if q > sim.out.link_max_queue[l] {
            sim.out.link_max_queue[l] = q;
        }
        sim.out.counters.on_links += sim.ring.len(l) as u64;
        sim.out.counters.in_buffers += sim.buf.len(l) as u64;
    }
    sim.out.counters.not_departed = (nv - di) as u64;
    sim.out.end_time_s = t_final;
    Ok(sim.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::LinkSpec;

    fn link(from: u32, to: u32, cap: f64, len: f64, fft_s: f64) -> LinkSpec {
        LinkSpec::bpr(from, to, cap, len, fft_s / 60.0)
    }

    fn trip(origin: u32, departure_s: f64, dest_set: u32) -> Trip {
        Trip {
            origin,
            departure_s,
            dest_set,
        }
    }

    /// Repairing a tree for new costs gives bit for bit the tree computed afresh (random
    /// networks and cost changes, closures and zero costs included).
    #[test]
    fn repaired_trees_match_fresh_ones() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut repaired = 0;
        for case in 0..60 {
            let nn = rng.random_range(2..40u32);
            let links: Vec<LinkSpec> = (0..rng.random_range(1..4 * nn))
                .map(|_| {
                    link(
                        rng.random_range(0..nn),
                        rng.random_range(0..nn),
                        1.0,
                        1.0,
                        1.0,
                    )
                })
                .collect();
            let net = Network::new(nn as usize, rng.random_range(0..3).min(nn), &links).unwrap();
            let rs = RevStar::new(&net);
            let set: Vec<u32> = (0..rng.random_range(1..4))
                .map(|_| rng.random_range(0..nn))
                .collect();
            let n = nn as usize;
            let draw = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
                (0..links.len())
                    .map(|_| match rng.random_range(0..20) {
                        0 => f64::INFINITY,
                        1 if case % 3 == 0 => 0.0,
                        // Few distinct values: many ties.
                        2..=9 => rng.random_range(1..4) as f64,
                        _ => rng.random_range(0.5..100.0),
                    })
                    .collect()
            };
            let (mut next, mut dist) = (vec![0; n], vec![0.0; n]);
            let mut heap = LabelHeap::default();
            let (mut rc, mut oc) = (Vec::new(), Vec::new());
            let cost = draw(&mut rng);
            rs.gather(&cost, &mut rc, &mut oc);
            backward_tree(&net, &rs, &set, &rc, &mut next, &mut dist, &mut heap);
            let mut sc = TreeScratch::default();
            for _ in 0..20 {
                let mut cost = cost.clone();
                let fresh = draw(&mut rng);
                for l in 0..links.len() {
                    if rng.random_range(0..3) == 0 {
                        cost[l] = fresh[l];
                    }
                }
                rs.gather(&cost, &mut rc, &mut oc);
                let (mut fnext, mut fdist) = (vec![0; n], vec![0.0; n]);
                backward_tree(&net, &rs, &set, &rc, &mut fnext, &mut fdist, &mut heap);
                if repair_tree(&net, &rs, &cost, &rc, &oc, &mut next, &mut dist, &mut sc) {
                    repaired += 1;
                    assert_eq!(next, fnext, "case {case}");
                    let bits = |d: &[f64]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&dist), bits(&fdist), "case {case}");
                }
                next = fnext;
                dist = fdist;
            }
        }
        assert!(repaired > 500, "{repaired}");
    }

    #[test]
    fn rings_grow_in_order() {
        let mut r = Rings::new([2u32, 0, 3].into_iter());
        for v in 0..50 {
            r.push(1, v);
            if v % 3 == 0 {
                r.push(0, v);
                assert_eq!(r.pop(0), Some(v));
            }
        }
        r.push(2, 7);
        for v in 0..50 {
            assert_eq!(r.pop(1), Some(v));
        }
        assert_eq!(r.pop(1), None);
        assert_eq!(r.front(2), Some(7));
    }

    /// Four one-vehicle links in a ring, each holding a vehicle that wants the next link:
    /// gridlock. The guard resolves it after `stuck_time_s`; without it the vehicles stay.
    #[test]
    fn gridlock_guard() {
        let links: Vec<LinkSpec> = (0..4)
            .map(|i| link(i, (i + 1) % 4, 3600.0, 7.5, 10.0))
            .collect();
        let net = Network::new(4, 0, &links).unwrap();
        // Vehicle i starts at node i and drives two links to node i + 2.
        let sets: Vec<Vec<u32>> = (0..4).map(|i| vec![(i + 2) % 4]).collect();
        let trips: Vec<Trip> = (0..4).map(|i| trip(i, 0.0, i)).collect();
        let guarded = simulate(&net, &trips, &sets, &[], &QueueParams::default()).unwrap();
        assert!(guarded.is_conserved());
        assert_eq!(guarded.counters.arrived, 4);
        // One forced move frees a link, and the chain of waiting links follows at once.
        assert_eq!(guarded.counters.forced_moves, 1);
        for v in 0..4 {
            // Blocked from 10 s, forced at 310 s, arrives 10 s later.
            assert!((guarded.arrival_s(v).unwrap() - 320.0).abs() < 1e-9);
        }
        let p = QueueParams {
            stuck_time_s: f64::INFINITY,
            ..Default::default()
        };
        let stuck = simulate(&net, &trips, &sets, &[], &p).unwrap();
        assert!(stuck.is_conserved());
        assert_eq!(stuck.counters.arrived, 0);
        assert_eq!(stuck.counters.on_links, 4);
        assert_eq!(stuck.link_max_queue, vec![1; 4]);
    }

    /// With a backward wave, space on a one-vehicle link frees `length / speed` after the exit.
    #[test]
    fn backward_wave_delays_space() {
        let net = Network::new(
            3,
            0,
            &[link(0, 1, 1e6, 1e6, 0.0), link(1, 2, 1e6, 7.5, 10.0)],
        )
        .unwrap();
        let trips: Vec<Trip> = (0..10).map(|_| trip(0, 0.0, 0)).collect();
        for (wave, period) in [(None, 10.0), (Some(1.5), 15.0)] {
            let p = QueueParams {
                backward_wave_speed_mps: wave,
                ..Default::default()
            };
            let r = simulate(&net, &trips, &[vec![2]], &[], &p).unwrap();
            assert!(r.is_conserved());
            for v in 0..10 {
                let a = r.arrival_s(v).unwrap();
                assert!(
                    (a - (v as f64 * period + 10.0)).abs() < 1e-6,
                    "{wave:?} {v}: {a}"
                );
            }
        }
    }

    /// A capacity factor changes the headway from its time on.
    #[test]
    fn capacity_factor_changes_discharge() {
        let net = Network::new(2, 0, &[link(0, 1, 1800.0, 1e5, 0.0)]).unwrap();
        let trips: Vec<Trip> = (0..200).map(|_| trip(0, 0.0, 0)).collect();
        let ch = [NetworkChange {
            t_s: 101.0,
            link: 0,
            kind: ChangeKind::CapacityFactor(0.5),
        }];
        let r = simulate(&net, &trips, &[vec![1]], &ch, &QueueParams::default()).unwrap();
        assert!(r.is_conserved());
        // 2 s headway up to 100 s (exits 0, 2, …, 100), then 4 s.
        assert!((r.arrival_s(50).unwrap() - 100.0).abs() < 1e-9);
        assert!((r.arrival_s(51).unwrap() - 104.0).abs() < 1e-9);
        assert!((r.arrival_s(199).unwrap() - (100.0 + 149.0 * 4.0)).abs() < 1e-9);
    }

    /// Periodic rerouting with experienced times moves traffic onto the longer route when
    /// the short one is congested, and lowers the total travel time.
    #[test]
    fn periodic_rerouting_spreads_load() {
        let net = Network::new(
            3,
            0,
            &[
                link(0, 1, 600.0, 1e5, 60.0), // short, narrow
                link(0, 2, 3600.0, 1e5, 90.0),
                link(2, 1, 3600.0, 1e5, 30.0),
            ],
        )
        .unwrap();
        let trips: Vec<Trip> = (0..1200).map(|k| trip(0, k as f64, 0)).collect();
        let fixed = simulate(&net, &trips, &[vec![1]], &[], &QueueParams::default()).unwrap();
        let p = QueueParams {
            reroute_interval_s: Some(60.0),
            ..Default::default()
        };
        let rerouted = simulate(&net, &trips, &[vec![1]], &[], &p).unwrap();
        assert!(fixed.is_conserved() && rerouted.is_conserved());
        assert_eq!(fixed.link_entries[1], 0);
        assert!(
            rerouted.link_entries[1] > 300,
            "{:?}",
            rerouted.link_entries
        );
        let total = |r: &QueueResult| -> f64 {
            (0..1200)
                .map(|v| r.arrival_s(v).unwrap() - r.departure_s[v])
                .sum()
        };
        assert!(total(&rerouted) < 0.5 * total(&fixed));
    }

    /// Zones are not routed through; the end time leaves vehicles en route (conserved).
    #[test]
    fn zones_and_end_time() {
        // 0 and 1 are zones; 0 → 1 → 3 is short but passes zone 1, 0 → 2 → 3 is long.
        let net = Network::new(
            4,
            2,
            &[
                link(0, 1, 3600.0, 1e4, 10.0),
                link(1, 3, 3600.0, 1e4, 10.0),
                link(0, 2, 3600.0, 1e4, 100.0),
                link(2, 3, 3600.0, 1e4, 100.0),
            ],
        )
        .unwrap();
        let trips = vec![
            trip(0, 0.0, 0),
            trip(1, 0.0, 0),
            trip(0, 500.0, 0),
            trip(3, 1.0, 0),
        ];
        let p = QueueParams {
            end_time_s: 300.0,
            ..Default::default()
        };
        let r = simulate(&net, &trips, &[vec![3]], &[], &p).unwrap();
        assert!(r.is_conserved());
        assert_eq!(r.arrival_s(0), Some(200.0));
        assert_eq!(r.arrival_s(1), Some(10.0));
        assert_eq!(r.state[2], VehicleState::NotDeparted);
        assert_eq!(
            r.arrival_s(3),
            Some(1.0),
            "origin in its set: arrives at once"
        );
        assert_eq!(r.link_entries[0], 0);
        assert_eq!(r.arrivals_per_bin, vec![3]);
    }
}
