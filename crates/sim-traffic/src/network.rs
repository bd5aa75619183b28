//! The road network as flat arrays (structure of arrays) with forward and backward stars, the
//! BPR link cost and the origin–destination demand.
//!
//! Nodes are numbered `0..node_count`. Nodes below [`Network::first_thru_node`] are zones
//! (TNTP convention): paths may start or end there but never pass through them. Link times
//! are in minutes, capacities in vehicles per hour (per the assignment period), lengths in the
//! network's length unit (metres for city networks; TNTP files keep theirs).

use crate::error::TrafficError;

/// A directed road network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    pub node_count: usize,
    /// Nodes `0..first_thru_node` are zones: not routed through.
    pub first_thru_node: u32,
    /// Node coordinates (city CRS or TNTP node file), empty when unknown.
    pub node_xy: Vec<[f64; 2]>,
    pub from: Vec<u32>,
    pub to: Vec<u32>,
    /// Capacity (veh/h).
    pub capacity: Vec<f64>,
    pub length: Vec<f64>,
    /// Free-flow travel time (min).
    pub free_flow_time: Vec<f64>,
    /// BPR `b` (alpha).
    pub b: Vec<f64>,
    /// BPR power (beta).
    pub power: Vec<f64>,
    pub toll: Vec<f64>,
    pub link_type: Vec<u8>,
    /// Lanes (for storage capacity in the queue model).
    pub lanes: Vec<f64>,
    /// Forward star: links leaving node `n` are `out_links[out_start[n]..out_start[n + 1]]`.
    pub out_start: Vec<u32>,
    pub out_links: Vec<u32>,
    /// Backward star: links entering node `n`.
    pub in_start: Vec<u32>,
    pub in_links: Vec<u32>,
}

/// One link's attributes, for building a network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkSpec {
    pub from: u32,
    pub to: u32,
    pub capacity: f64,
    pub length: f64,
    pub free_flow_time: f64,
    pub b: f64,
    pub power: f64,
    pub toll: f64,
    pub link_type: u8,
    pub lanes: f64,
}

impl LinkSpec {
    /// A link with the standard BPR parameters (b = 0.15, power = 4), no toll, one lane.
    pub fn bpr(from: u32, to: u32, capacity: f64, length: f64, free_flow_time: f64) -> Self {
        LinkSpec {
            from,
            to,
            capacity,
            length,
            free_flow_time,
            b: 0.15,
            power: 4.0,
            toll: 0.0,
            link_type: 1,
            lanes: 1.0,
        }
    }
}

impl Network {
    /// A rectangular grid of `nx × ny` nodes `spacing` apart (node `y · nx + x` at
    /// `[x · spacing, y · spacing]`) with a link each way between horizontal and vertical
    /// neighbours, all with the given capacity (veh/h), free-flow time (min) and lanes, length
    /// `spacing`. No zones (`first_thru_node` 0). For tests and benchmarks.
    pub fn grid(
        nx: usize,
        ny: usize,
        spacing: f64,
        capacity: f64,
        free_flow_time: f64,
        lanes: f64,
    ) -> Result<Network, TrafficError> {
        let node_count = nx
            .checked_mul(ny)
            .filter(|&n| n <= u32::MAX as usize / 2)
            .ok_or_else(|| TrafficError::Invalid(format!("grid {nx} x {ny} is too large")))?;
        let mut links = Vec::with_capacity(4 * node_count);
        let id = |x: usize, y: usize| (y * nx + x) as u32;
        for y in 0..ny {
            for x in 0..nx {
                let mut pair = |a: u32, b: u32| {
                    for (f, t) in [(a, b), (b, a)] {
                        let mut l = LinkSpec::bpr(f, t, capacity, spacing, free_flow_time);
                        l.lanes = lanes;
                        links.push(l);
                    }
                };
                if x + 1 < nx {
                    pair(id(x, y), id(x + 1, y));
                }
                if y + 1 < ny {
                    pair(id(x, y), id(x, y + 1));
                }
            }
        }
        let mut n = Network::new(node_count, 0, &links)?;
        n.node_xy = (0..node_count)
            .map(|i| {
                [
                    (i % nx.max(1)) as f64 * spacing,
                    (i / nx.max(1)) as f64 * spacing,
                ]
            })
            .collect();
        Ok(n)
    }

    /// Build a network, checking every value. Links keep their order.
    pub fn new(
        node_count: usize,
        first_thru_node: u32,
        links: &[LinkSpec],
    ) -> Result<Network, TrafficError> {
        if first_thru_node as usize > node_count {
            return Err(TrafficError::Invalid(format!(
                "first thru node {} is beyond the {node_count} nodes",
                first_thru_node + 1
            )));
        }
        let mut n = Network {
            node_count,
            first_thru_node,
            ..Default::default()
        };
        for (i, l) in links.iter().enumerate() {
            let bad = |what: &str| {
                TrafficError::Invalid(format!(
                    "link {} ({} -> {}): {what}",
                    i + 1,
                    l.from + 1,
                    l.to + 1
                ))
            };
            if l.from as usize >= node_count || l.to as usize >= node_count {
                return Err(bad(&format!("node beyond the {node_count} nodes")));
            }
            if !(l.capacity.is_finite() && l.capacity > 0.0) {
                return Err(bad(&format!("capacity {} must be positive", l.capacity)));
            }
            if !(l.free_flow_time.is_finite() && l.free_flow_time >= 0.0) {
                return Err(bad(&format!(
                    "free-flow time {} must be finite and not negative",
                    l.free_flow_time
                )));
            }
            if !(l.length.is_finite() && l.length >= 0.0) {
                return Err(bad(&format!(
                    "length {} must be finite and not negative",
                    l.length
                )));
            }
            if !(l.b.is_finite() && l.b >= 0.0) {
                return Err(bad(&format!(
                    "BPR b {} must be finite and not negative",
                    l.b
                )));
            }
            if !(l.power.is_finite() && l.power >= 0.0) {
                return Err(bad(&format!(
                    "BPR power {} must be finite and not negative",
                    l.power
                )));
            }
            if !l.toll.is_finite() {
                return Err(bad(&format!("toll {} must be finite", l.toll)));
            }
            if !(l.lanes.is_finite() && l.lanes > 0.0) {
                return Err(bad(&format!("lanes {} must be positive", l.lanes)));
            }
            n.from.push(l.from);
            n.to.push(l.to);
            n.capacity.push(l.capacity);
            n.length.push(l.length);
            n.free_flow_time.push(l.free_flow_time);
            n.b.push(l.b);
            n.power.push(l.power);
            n.toll.push(l.toll);
            n.link_type.push(l.link_type);
            n.lanes.push(l.lanes);
        }
        n.build_stars();
        Ok(n)
    }

    fn build_stars(&mut self) {
        let nn = self.node_count;
        let star = |key: &[u32]| {
            let mut start = vec![0u32; nn + 1];
            for &k in key {
                start[k as usize + 1] += 1;
            }
            for i in 0..nn {
                start[i + 1] += start[i];
            }
            let mut fill = start.clone();
            let mut links = vec![0u32; key.len()];
            // Links in index order within each node: deterministic.
            for (l, &k) in key.iter().enumerate() {
                links[fill[k as usize] as usize] = l as u32;
                fill[k as usize] += 1;
            }
            (start, links)
        };
        let (os, ol) = star(&self.from);
        let (is, il) = star(&self.to);
        self.out_start = os;
        self.out_links = ol;
        self.in_start = is;
        self.in_links = il;
    }

    pub fn link_count(&self) -> usize {
        self.from.len()
    }

    /// Links leaving node `n`.
    #[inline]
    pub fn out_of(&self, n: u32) -> &[u32] {
        &self.out_links
            [self.out_start[n as usize] as usize..self.out_start[n as usize + 1] as usize]
    }

    /// Links entering node `n`.
    #[inline]
    pub fn in_of(&self, n: u32) -> &[u32] {
        &self.in_links[self.in_start[n as usize] as usize..self.in_start[n as usize + 1] as usize]
    }

    /// Whether paths may pass through node `n` (it is not a zone).
    #[inline]
    pub fn is_thru(&self, n: u32) -> bool {
        n >= self.first_thru_node
    }

    /// Number of zones (nodes below the first thru node); at least the number of nodes that
    /// carry demand when the network has no zones of its own (`first_thru_node` 0 or 1).
    pub fn zone_count(&self) -> usize {
        self.first_thru_node as usize
    }

    /// A copy keeping only the links where `keep` is true, with the index of each kept link
    /// in `self`. Nodes stay the same.
    pub fn subnetwork(&self, keep: &[bool]) -> (Network, Vec<u32>) {
        let mut n = Network {
            node_count: self.node_count,
            first_thru_node: self.first_thru_node,
            node_xy: self.node_xy.clone(),
            ..Default::default()
        };
        let mut map = Vec::new();
        for (l, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            map.push(l as u32);
            n.from.push(self.from[l]);
            n.to.push(self.to[l]);
            n.capacity.push(self.capacity[l]);
            n.length.push(self.length[l]);
            n.free_flow_time.push(self.free_flow_time[l]);
            n.b.push(self.b[l]);
            n.power.push(self.power[l]);
            n.toll.push(self.toll[l]);
            n.link_type.push(self.link_type[l]);
            n.lanes.push(self.lanes[l]);
        }
        n.build_stars();
        (n, map)
    }

    /// BPR travel time of link `l` at flow `x` (min).
    #[inline]
    pub fn travel_time(&self, l: usize, x: f64) -> f64 {
        let r = x / self.capacity[l];
        self.free_flow_time[l] * (1.0 + self.b[l] * powf(r, self.power[l]))
    }

    /// Derivative of the BPR time with respect to the flow.
    #[inline]
    pub fn travel_time_derivative(&self, l: usize, x: f64) -> f64 {
        let p = self.power[l];
        if p == 0.0 || x <= 0.0 && p > 1.0 {
            return 0.0;
        }
        let c = self.capacity[l];
        self.free_flow_time[l] * self.b[l] * p * powf(x / c, p - 1.0) / c
    }

    /// Integral of the BPR time from 0 to `x` (Beckmann term of link `l`).
    #[inline]
    pub fn travel_time_integral(&self, l: usize, x: f64) -> f64 {
        let c = self.capacity[l];
        let p = self.power[l];
        self.free_flow_time[l] * (x + self.b[l] * c / (p + 1.0) * powf(x / c, p + 1.0))
    }
}

/// `x^p` with the common integer powers exact and fast.
#[inline]
pub fn powf(x: f64, p: f64) -> f64 {
    if p == 4.0 {
        let x2 = x * x;
        x2 * x2
    } else if p == 1.0 {
        x
    } else if p == 0.0 {
        1.0
    } else if p == 2.0 {
        x * x
    } else if p == 3.0 {
        x * x * x
    } else if p == 5.0 {
        let x2 = x * x;
        x2 * x2 * x
    } else {
        x.powf(p)
    }
}

/// Generalized cost = time + toll_factor · toll + distance_factor · length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostParams {
    pub toll_factor: f64,
    pub distance_factor: f64,
}

impl Default for CostParams {
    fn default() -> Self {
        CostParams {
            toll_factor: 0.0,
            distance_factor: 0.0,
        }
    }
}

impl CostParams {
    /// The flow-independent part of link `l`'s generalized cost.
    #[inline]
    pub fn fixed(&self, net: &Network, l: usize) -> f64 {
        self.toll_factor * net.toll[l] + self.distance_factor * net.length[l]
    }
}

/// Origin–destination demand grouped by origin (CSR): the trips from `origins[k]` are
/// `dest[start[k]..start[k + 1]]` with `flow[...]` vehicles per hour. Origins ascending,
/// destinations ascending within an origin, no zero flows, no origin equal to its destination.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Demand {
    pub origins: Vec<u32>,
    pub start: Vec<u32>,
    pub dest: Vec<u32>,
    pub flow: Vec<f64>,
}

impl Demand {
    /// From (origin, destination, flow) triples in any order; equal pairs are summed,
    /// zero flows and intrazonal trips dropped. Nodes must lie in the network.
    pub fn from_triples(
        node_count: usize,
        mut od: Vec<(u32, u32, f64)>,
    ) -> Result<Demand, TrafficError> {
        for &(o, d, f) in &od {
            if o as usize >= node_count || d as usize >= node_count {
                return Err(TrafficError::Invalid(format!(
                    "trip {} -> {} names a node beyond the {node_count} nodes",
                    o + 1,
                    d + 1
                )));
            }
            if !(f.is_finite() && f >= 0.0) {
                return Err(TrafficError::Invalid(format!(
                    "trip {} -> {}: demand {f} must be finite and not negative",
                    o + 1,
                    d + 1
                )));
            }
        }
        od.retain(|&(o, d, f)| o != d && f > 0.0);
        od.sort_by_key(|a| (a.0, a.1));
        let mut dm = Demand::default();
        for (o, d, f) in od {
            if dm.origins.last() != Some(&o) {
                dm.origins.push(o);
                dm.start.push(dm.dest.len() as u32);
            } else if dm.dest.last() == Some(&d) {
                *dm.flow.last_mut().expect("flow") += f;
                continue;
            }
            dm.dest.push(d);
            dm.flow.push(f);
        }
        dm.start.push(dm.dest.len() as u32);
        Ok(dm)
    }

    pub fn origin_count(&self) -> usize {
        self.origins.len()
    }

    /// Destinations and flows of the k-th origin.
    pub fn of(&self, k: usize) -> (&[u32], &[f64]) {
        let r = self.start[k] as usize..self.start[k + 1] as usize;
        (&self.dest[r.clone()], &self.flow[r])
    }

    /// Total demand, summed in a fixed order.
    pub fn total(&self) -> f64 {
        self.flow.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_bpr() {
        let links = [
            LinkSpec::bpr(0, 1, 100.0, 1.0, 10.0),
            LinkSpec::bpr(1, 2, 100.0, 1.0, 10.0),
            LinkSpec::bpr(0, 2, 50.0, 1.0, 25.0),
        ];
        let n = Network::new(3, 0, &links).unwrap();
        assert_eq!(n.out_of(0), &[0, 2]);
        assert_eq!(n.in_of(2), &[1, 2]);
        assert!((n.travel_time(0, 100.0) - 11.5).abs() < 1e-12);
        // Derivative against a central difference.
        let h = 1e-4;
        let fd = (n.travel_time(2, 70.0 + h) - n.travel_time(2, 70.0 - h)) / (2.0 * h);
        assert!((n.travel_time_derivative(2, 70.0) - fd).abs() < 1e-7);
        let fi =
            (n.travel_time_integral(2, 70.0 + h) - n.travel_time_integral(2, 70.0 - h)) / (2.0 * h);
        assert!((n.travel_time(2, 70.0) - fi).abs() < 1e-7);
        assert!(Network::new(3, 0, &[LinkSpec::bpr(0, 5, 1.0, 1.0, 1.0)]).is_err());
        assert!(Network::new(3, 0, &[LinkSpec::bpr(0, 1, 0.0, 1.0, 1.0)]).is_err());
    }

    #[test]
    fn demand_groups_and_sums() {
        let d = Demand::from_triples(
            4,
            vec![
                (2, 1, 5.0),
                (0, 3, 1.0),
                (2, 1, 2.0),
                (0, 0, 9.0),
                (0, 1, 0.0),
            ],
        )
        .unwrap();
        assert_eq!(d.origins, vec![0, 2]);
        assert_eq!(d.of(1), (&[1u32][..], &[7.0][..]));
        assert_eq!(d.total(), 8.0);
        assert!(Demand::from_triples(2, vec![(0, 1, f64::NAN)]).is_err());
    }
}
