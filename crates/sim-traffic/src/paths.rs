//! Shortest paths: one-to-all Dijkstra with a reusable workspace, all-or-nothing loading and
//! the shortest-path total travel time (SPTT), both parallel over origins and deterministic
//! for any thread count.
//!
//! Zones (nodes below [`Network::first_thru_node`]) are never expanded unless they are the
//! origin, so paths only start or end there. Ties are broken by the heap key (cost, node) and
//! strict label improvement, so the trees do not depend on anything but the inputs.
//!
//! Parallel work is split into a fixed number of origin chunks that depends only on the
//! number of origins; each chunk loads its origins in order into its own buffer and the
//! buffers are summed in chunk order, so results are bit-identical for 1, 2, 3, … threads.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::error::TrafficError;
use crate::network::{Demand, Network};

/// Marks "no predecessor link" (the origin and unreached nodes).
pub const NO_LINK: u32 = u32::MAX;

/// Most origin chunks used for parallel loading (each holds one link-sized buffer).
const MAX_CHUNKS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    cost: f64,
    node: u32,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap, we want the smallest (cost, node) first.
        other
            .cost
            .total_cmp(&self.cost)
            .then(other.node.cmp(&self.node))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reusable one-to-all Dijkstra workspace: labels, predecessor links, settle order and the
/// heap buffer are kept between calls, so a run allocates nothing once warmed up.
#[derive(Debug, Clone, Default)]
pub struct ShortestPaths {
    dist: Vec<f64>,
    pred: Vec<u32>,
    done: Vec<bool>,
    order: Vec<u32>,
    heap: BinaryHeap<Entry>,
}

impl ShortestPaths {
    /// A workspace for networks of `node_count` nodes (it grows if used on a larger one).
    pub fn new(node_count: usize) -> Self {
        ShortestPaths {
            dist: vec![f64::INFINITY; node_count],
            pred: vec![NO_LINK; node_count],
            done: vec![false; node_count],
            order: Vec::with_capacity(node_count),
            heap: BinaryHeap::with_capacity(node_count),
        }
    }

    /// Shortest paths from `origin` over the link costs `cost` (one per link, not negative).
    pub fn run(&mut self, net: &Network, cost: &[f64], origin: u32) -> Result<(), TrafficError> {
        if cost.len() != net.link_count() {
            return Err(TrafficError::Invalid(format!(
                "{} link costs for {} links",
                cost.len(),
                net.link_count()
            )));
        }
        if origin as usize >= net.node_count {
            return Err(TrafficError::Invalid(format!(
                "origin {} is beyond the {} nodes",
                origin + 1,
                net.node_count
            )));
        }
        self.run_unchecked(net, cost, origin);
        Ok(())
    }

    /// [`ShortestPaths::run`] with the sizes already checked.
    pub(crate) fn run_unchecked(&mut self, net: &Network, cost: &[f64], origin: u32) {
        let n = net.node_count;
        if self.dist.len() != n {
            self.dist.resize(n, f64::INFINITY);
            self.pred.resize(n, NO_LINK);
            self.done.resize(n, false);
        }
        self.dist.fill(f64::INFINITY);
        self.pred.fill(NO_LINK);
        self.done.fill(false);
        self.order.clear();
        self.heap.clear();
        self.dist[origin as usize] = 0.0;
        self.heap.push(Entry {
            cost: 0.0,
            node: origin,
        });
        while let Some(Entry { cost: du, node: u }) = self.heap.pop() {
            let ui = u as usize;
            if self.done[ui] {
                continue;
            }
            self.done[ui] = true;
            self.order.push(u);
            if u != origin && !net.is_thru(u) {
                continue;
            }
            for &l in net.out_of(u) {
                let v = net.to[l as usize];
                let nd = du + cost[l as usize];
                if nd < self.dist[v as usize] {
                    self.dist[v as usize] = nd;
                    self.pred[v as usize] = l;
                    self.heap.push(Entry { cost: nd, node: v });
                }
            }
        }
    }

    /// Shortest-path cost to each node from the last origin (infinite when unreachable).
    pub fn dist(&self) -> &[f64] {
        &self.dist
    }

    /// The last link of the shortest path to each node ([`NO_LINK`] for the origin and
    /// unreached nodes).
    pub fn pred_link(&self) -> &[u32] {
        &self.pred
    }

    /// The reached nodes in the order they were settled (origin first; every node after the
    /// tail of its predecessor link).
    pub fn settled(&self) -> &[u32] {
        &self.order
    }
}

/// What a loading or SPTT pass found.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AonSummary {
    /// Σ demand · shortest-path cost over the routable OD pairs.
    pub sptt: f64,
    /// Demand of the OD pairs with no path (not loaded).
    pub unroutable_demand: f64,
    /// Number of OD pairs with no path.
    pub unroutable_pairs: usize,
}

#[derive(Debug, Clone, Default)]
struct Chunk {
    sp: ShortestPaths,
    load: Vec<f64>,
    node_load: Vec<f64>,
    summary: AonSummary,
}

/// Reusable buffers for parallel all-or-nothing loading and SPTT: one Dijkstra workspace and
/// one link-load buffer per origin chunk.
#[derive(Debug, Clone, Default)]
pub struct AonWorkspace {
    chunks: Vec<Chunk>,
    origin_count: usize,
}

fn check_inputs(net: &Network, demand: &Demand, cost: &[f64]) -> Result<(), TrafficError> {
    if cost.len() != net.link_count() {
        return Err(TrafficError::Invalid(format!(
            "{} link costs for {} links",
            cost.len(),
            net.link_count()
        )));
    }
    if demand.start.len() != demand.origins.len() + 1
        || demand.dest.len() != demand.flow.len()
        || demand.start.last().map(|&s| s as usize) != Some(demand.dest.len())
        || demand.start.windows(2).any(|w| w[0] > w[1])
    {
        return Err(TrafficError::Invalid(
            "demand arrays are inconsistent (start/dest/flow)".into(),
        ));
    }
    let n = net.node_count;
    if let Some(&o) = demand.origins.iter().find(|&&o| o as usize >= n) {
        return Err(TrafficError::Invalid(format!(
            "demand origin {} is beyond the {n} nodes",
            o + 1
        )));
    }
    if let Some(&d) = demand.dest.iter().find(|&&d| d as usize >= n) {
        return Err(TrafficError::Invalid(format!(
            "demand destination {} is beyond the {n} nodes",
            d + 1
        )));
    }
    if demand.flow.iter().any(|f| !(f.is_finite() && *f >= 0.0)) {
        return Err(TrafficError::Invalid(
            "demand flows must be finite and not negative".into(),
        ));
    }
    Ok(())
}

impl AonWorkspace {
    /// An empty workspace; buffers are sized on first use.
    pub fn new() -> Self {
        Self::default()
    }

    fn prepare(&mut self, net: &Network, demand: &Demand, with_load: bool) {
        let k = demand.origin_count().clamp(1, MAX_CHUNKS);
        if self.chunks.len() != k || self.origin_count != demand.origin_count() {
            self.chunks = vec![Chunk::default(); k];
            self.origin_count = demand.origin_count();
        }
        for c in &mut self.chunks {
            if with_load {
                c.load.resize(net.link_count(), 0.0);
                c.node_load.resize(net.node_count, 0.0);
            }
            c.summary = AonSummary::default();
        }
    }

    fn run(&mut self, net: &Network, demand: &Demand, cost: &[f64], load: bool) -> AonSummary {
        self.prepare(net, demand, load);
        let k = self.chunks.len();
        let n_orig = demand.origin_count();
        self.chunks.par_iter_mut().enumerate().for_each(|(c, ch)| {
            let (lo, hi) = (c * n_orig / k, (c + 1) * n_orig / k);
            if load {
                ch.load.fill(0.0);
            }
            let mut s = AonSummary::default();
            for oi in lo..hi {
                let o = demand.origins[oi];
                ch.sp.run_unchecked(net, cost, o);
                let (dests, flows) = demand.of(oi);
                for (&d, &f) in dests.iter().zip(flows) {
                    let dd = ch.sp.dist[d as usize];
                    if d == o || f == 0.0 {
                        continue;
                    }
                    if dd.is_finite() {
                        s.sptt += f * dd;
                        if load {
                            ch.node_load[d as usize] += f;
                        }
                    } else {
                        s.unroutable_demand += f;
                        s.unroutable_pairs += 1;
                    }
                }
                if load {
                    for &v in ch.sp.order.iter().rev() {
                        let q = ch.node_load[v as usize];
                        if q == 0.0 {
                            continue;
                        }
                        ch.node_load[v as usize] = 0.0;
                        let l = ch.sp.pred[v as usize];
                        if l != NO_LINK {
                            ch.load[l as usize] += q;
                            ch.node_load[net.from[l as usize] as usize] += q;
                        }
                    }
                }
            }
            ch.summary = s;
        });
        let mut total = AonSummary::default();
        for ch in &self.chunks {
            total.sptt += ch.summary.sptt;
            total.unroutable_demand += ch.summary.unroutable_demand;
            total.unroutable_pairs += ch.summary.unroutable_pairs;
        }
        total
    }

    /// All-or-nothing loading of `demand` onto the shortest paths for `cost`, written to
    /// `flow` (one entry per link). Unroutable demand is reported, not loaded.
    pub fn load(
        &mut self,
        net: &Network,
        demand: &Demand,
        cost: &[f64],
        flow: &mut [f64],
    ) -> Result<AonSummary, TrafficError> {
        check_inputs(net, demand, cost)?;
        if flow.len() != net.link_count() {
            return Err(TrafficError::Invalid(format!(
                "flow buffer of {} for {} links",
                flow.len(),
                net.link_count()
            )));
        }
        let s = self.run(net, demand, cost, true);
        let chunks = &self.chunks;
        const BLOCK: usize = 4096;
        flow.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
            let base = b * BLOCK;
            for (i, f) in out.iter_mut().enumerate() {
                let mut sum = 0.0;
                for ch in chunks {
                    sum += ch.load[base + i];
                }
                *f = sum;
            }
        });
        Ok(s)
    }

    /// Σ demand · shortest-path cost (SPTT) for `cost`, with the unroutable demand.
    pub fn sptt(
        &mut self,
        net: &Network,
        demand: &Demand,
        cost: &[f64],
    ) -> Result<AonSummary, TrafficError> {
        check_inputs(net, demand, cost)?;
        Ok(self.run(net, demand, cost, false))
    }
}

/// All-or-nothing link flows of `demand` on the shortest paths for `cost` (allocating
/// convenience over [`AonWorkspace::load`]).
pub fn all_or_nothing(
    net: &Network,
    demand: &Demand,
    cost: &[f64],
) -> Result<(Vec<f64>, AonSummary), TrafficError> {
    let mut flow = vec![0.0; net.link_count()];
    let s = AonWorkspace::new().load(net, demand, cost, &mut flow)?;
    Ok((flow, s))
}

/// Shortest-path total travel time Σ_od demand · shortest cost (allocating convenience over
/// [`AonWorkspace::sptt`]).
pub fn shortest_path_total(
    net: &Network,
    demand: &Demand,
    cost: &[f64],
) -> Result<AonSummary, TrafficError> {
    AonWorkspace::new().sptt(net, demand, cost)
}

/// Shortest-path costs between the first `zones` nodes (row = origin), parallel over the
/// origins; unreachable pairs are infinite. Deterministic: each row is computed alone.
pub fn zone_cost_matrix(net: &Network, cost: &[f64], zones: usize) -> Vec<f64> {
    let zones = zones.min(net.node_count);
    let mut out = vec![f64::INFINITY; zones * zones];
    if cost.len() != net.link_count() || zones == 0 {
        return out;
    }
    out.par_chunks_mut(zones).enumerate().for_each_init(
        || ShortestPaths::new(net.node_count),
        |sp, (o, row)| {
            sp.run_unchecked(net, cost, o as u32);
            row.copy_from_slice(&sp.dist()[..zones]);
        },
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn zone_costs_match_single_runs() {
        use crate::network::{LinkSpec, Network};
        let l = |a, b, t| LinkSpec::bpr(a, b, 100.0, 1.0, t);
        // Zones 0 and 1; 0 -> 2 -> 3 -> 1 and a direct slow link 0 -> 1.
        let net = Network::new(
            4,
            2,
            &[
                l(0, 2, 1.0),
                l(2, 3, 2.0),
                l(3, 1, 1.0),
                l(0, 1, 9.0),
                l(1, 3, 1.0),
                l(3, 2, 1.0),
                l(2, 0, 1.0),
            ],
        )
        .unwrap();
        let m = super::zone_cost_matrix(&net, &net.free_flow_time, 2);
        assert_eq!(m, vec![0.0, 4.0, 3.0, 0.0]);
    }
    use super::*;
    use crate::network::LinkSpec;

    fn grid() -> Network {
        // 0 -> 1 -> 3, 0 -> 2 -> 3, plus a direct 0 -> 3 that is longer.
        let links = [
            LinkSpec::bpr(0, 1, 10.0, 1.0, 1.0),
            LinkSpec::bpr(1, 3, 10.0, 1.0, 1.0),
            LinkSpec::bpr(0, 2, 10.0, 1.0, 1.0),
            LinkSpec::bpr(2, 3, 10.0, 1.0, 1.0),
            LinkSpec::bpr(0, 3, 10.0, 1.0, 3.0),
        ];
        Network::new(4, 0, &links).unwrap()
    }

    #[test]
    fn dijkstra_ties_are_deterministic() {
        let net = grid();
        let cost = net.free_flow_time.clone();
        let mut sp = ShortestPaths::new(4);
        sp.run(&net, &cost, 0).unwrap();
        assert_eq!(sp.dist(), &[0.0, 1.0, 1.0, 2.0]);
        // Tie 0-1-3 vs 0-2-3: node 1 settles first and wins.
        assert_eq!(sp.pred_link()[3], 1);
        assert_eq!(sp.settled()[0], 0);
        assert!(sp.run(&net, &cost[..2], 0).is_err());
        assert!(sp.run(&net, &cost, 9).is_err());
    }

    #[test]
    fn zones_are_not_expanded() {
        // Node 1 is a zone: 0 -> 1 -> 2 is cheap but must not be used.
        let links = [
            LinkSpec::bpr(0, 1, 10.0, 1.0, 1.0),
            LinkSpec::bpr(1, 2, 10.0, 1.0, 1.0),
            LinkSpec::bpr(0, 3, 10.0, 1.0, 5.0),
            LinkSpec::bpr(3, 2, 10.0, 1.0, 5.0),
        ];
        let net = Network::new(4, 2, &links).unwrap();
        let d = Demand::from_triples(4, vec![(0, 2, 10.0), (0, 1, 1.0), (1, 2, 2.0)]).unwrap();
        let (flow, s) = all_or_nothing(&net, &d, &net.free_flow_time).unwrap();
        assert_eq!(flow, vec![1.0, 2.0, 10.0, 10.0]);
        assert_eq!(s.sptt, 10.0 * 10.0 + 1.0 + 2.0);
        assert_eq!(s.unroutable_pairs, 0);
    }

    #[test]
    fn unroutable_is_reported() {
        let links = [LinkSpec::bpr(0, 1, 10.0, 1.0, 1.0)];
        let net = Network::new(3, 0, &links).unwrap();
        let d = Demand::from_triples(3, vec![(0, 1, 4.0), (0, 2, 5.0), (1, 0, 6.0)]).unwrap();
        let (flow, s) = all_or_nothing(&net, &d, &net.free_flow_time).unwrap();
        assert_eq!(flow, vec![4.0]);
        assert_eq!(s.unroutable_pairs, 2);
        assert_eq!(s.unroutable_demand, 11.0);
        assert_eq!(
            shortest_path_total(&net, &d, &net.free_flow_time).unwrap(),
            s
        );
        let bad = Demand {
            origins: vec![7],
            start: vec![0, 1],
            dest: vec![0],
            flow: vec![1.0],
        };
        assert!(all_or_nothing(&net, &bad, &net.free_flow_time).is_err());
    }

    #[test]
    fn loading_is_thread_count_independent() {
        // A ring with chords and many origins, uneven costs.
        let n = 60u32;
        let mut links = Vec::new();
        for i in 0..n {
            links.push(LinkSpec::bpr(
                i,
                (i + 1) % n,
                10.0,
                1.0,
                1.0 + (i % 7) as f64 * 0.1,
            ));
            links.push(LinkSpec::bpr(
                (i + 1) % n,
                i,
                10.0,
                1.0,
                1.3 + (i % 5) as f64 * 0.1,
            ));
            links.push(LinkSpec::bpr(
                i,
                (i * 7 + 3) % n,
                10.0,
                1.0,
                2.9 + (i % 3) as f64 * 0.1,
            ));
        }
        let net = Network::new(n as usize, 0, &links).unwrap();
        let mut od = Vec::new();
        for o in 0..n {
            for d in 0..n {
                od.push((o, d, 0.1 + ((o * 31 + d * 17) % 13) as f64 / 3.0));
            }
        }
        let dem = Demand::from_triples(n as usize, od).unwrap();
        let run = |k: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .unwrap()
                .install(|| all_or_nothing(&net, &dem, &net.free_flow_time).unwrap())
        };
        let (f1, s1) = run(1);
        for k in [2, 3] {
            let (fk, sk) = run(k);
            assert_eq!(
                f1.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                fk.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(s1.sptt.to_bits(), sk.sptt.to_bits());
        }
        // Flow conservation: total demand equals what leaves the origins net of arrivals.
        let tot: f64 = f1.iter().zip(&net.free_flow_time).map(|(f, t)| f * t).sum();
        assert!((tot - s1.sptt).abs() < 1e-9 * s1.sptt);
    }
}
