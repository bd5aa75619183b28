//! Static user-equilibrium traffic assignment with BPR link costs and a generalized cost
//! (time + toll_factor · toll + distance_factor · length).
//!
//! Three algorithms:
//! - [`Algorithm::AlgorithmB`]: Dial's bush-based Algorithm B (Dial 2006, "A path-based
//!   user-equilibrium traffic assignment algorithm that obviates path storage and
//!   enumeration", Transportation Research B 40). Reaches relative gaps of 1e-10 and below.
//! - [`Algorithm::BiconjugateFrankWolfe`]: the bi-conjugate Frank–Wolfe method of
//!   Mitradjieva & Lindberg (2013, "The Stiff Is Moving — Conjugate Direction Frank-Wolfe
//!   Methods with Applications to Traffic Assignment", Transportation Science 47), exact line
//!   search.
//! - [`Algorithm::FrankWolfe`]: the plain Frank–Wolfe method, exact line search.
//!
//! Convergence is measured by the relative gap (TSTT − SPTT) / TSTT with TSTT = Σ x · c(x)
//! and SPTT = Σ_od demand · shortest cost at c(x). Everything is deterministic: Algorithm B
//! works sequentially over origins, and the parallel shortest-path work reduces in a fixed
//! order (see [`crate::paths`]), so results are bit-identical for any thread count.

use std::time::Instant;

use crate::error::TrafficError;
use crate::network::{CostParams, Demand, Network};
use crate::paths::{AonWorkspace, NO_LINK, ShortestPaths};

/// The equilibrium algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Dial's bush-based Algorithm B (precise; the default).
    #[default]
    AlgorithmB,
    /// Bi-conjugate Frank–Wolfe (Mitradjieva & Lindberg 2013).
    BiconjugateFrankWolfe,
    /// Plain Frank–Wolfe.
    FrankWolfe,
}

/// Parameters of [`assign`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssignParams {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Generalized-cost weights of tolls and distance.
    pub cost: CostParams,
    /// Stop when the relative gap is at or below this (0 runs to the other limits).
    pub target_gap: f64,
    /// Stop after this many iterations (at least 1).
    pub max_iterations: usize,
    /// Stop after this many seconds of wall-clock time (positive; may be infinite).
    pub max_seconds: f64,
}

impl Default for AssignParams {
    /// Algorithm B to a relative gap of 1e-10, at most 10,000 iterations or one hour.
    fn default() -> Self {
        AssignParams {
            algorithm: Algorithm::AlgorithmB,
            cost: CostParams::default(),
            target_gap: 1e-10,
            max_iterations: 10_000,
            max_seconds: 3600.0,
        }
    }
}

impl AssignParams {
    /// Check that every value is usable.
    pub fn validate(&self) -> Result<(), TrafficError> {
        if !(self.target_gap.is_finite() && self.target_gap >= 0.0) {
            return Err(TrafficError::Param {
                name: "target_gap",
                value: self.target_gap.to_string(),
                expected: "a finite relative gap, not negative",
            });
        }
        if self.max_iterations == 0 {
            return Err(TrafficError::Param {
                name: "max_iterations",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        if self.max_seconds.is_nan() || self.max_seconds <= 0.0 {
            return Err(TrafficError::Param {
                name: "max_seconds",
                value: self.max_seconds.to_string(),
                expected: "a positive number of seconds (may be infinite)",
            });
        }
        if !self.cost.toll_factor.is_finite() {
            return Err(TrafficError::Param {
                name: "cost.toll_factor",
                value: self.cost.toll_factor.to_string(),
                expected: "a finite number",
            });
        }
        if !self.cost.distance_factor.is_finite() {
            return Err(TrafficError::Param {
                name: "cost.distance_factor",
                value: self.cost.distance_factor.to_string(),
                expected: "a finite number",
            });
        }
        Ok(())
    }
}

/// One convergence record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapPoint {
    /// Iterations completed (0 is the initial all-or-nothing solution).
    pub iteration: usize,
    /// Seconds since the start of [`assign`].
    pub seconds: f64,
    /// (TSTT − SPTT) / TSTT.
    pub relative_gap: f64,
    /// Beckmann objective Σ ∫₀ˣ c.
    pub objective: f64,
}

/// The equilibrium found by [`assign`].
#[derive(Debug, Clone, PartialEq)]
pub struct AssignResult {
    /// Link flows.
    pub flow: Vec<f64>,
    /// BPR travel time at the final flows.
    pub time: Vec<f64>,
    /// Generalized cost at the final flows.
    pub cost: Vec<f64>,
    /// Beckmann objective of the generalized cost: Σ (∫₀ˣ t + fixed · x).
    pub objective: f64,
    /// Total system travel (generalized) cost Σ x · c(x).
    pub tstt: f64,
    /// Shortest-path total Σ_od demand · shortest cost at the final costs.
    pub sptt: f64,
    /// (TSTT − SPTT) / TSTT (0 when TSTT is 0).
    pub relative_gap: f64,
    /// Iterations completed.
    pub iterations: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// One point per evaluated iterate, the first being the initial solution.
    pub history: Vec<GapPoint>,
    /// Demand of OD pairs with no path (not assigned).
    pub unroutable_demand: f64,
    /// Whether the target gap was reached.
    pub converged: bool,
}

/// Generalized cost of link `l` at flow `x` (negative flows from rounding count as 0).
#[inline]
fn link_cost(net: &Network, fixed: &[f64], l: usize, x: f64) -> f64 {
    net.travel_time(l, x.max(0.0)) + fixed[l]
}

#[inline]
fn link_der(net: &Network, l: usize, x: f64) -> f64 {
    net.travel_time_derivative(l, x.max(0.0))
}

fn beckmann(net: &Network, fixed: &[f64], x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(l, &xl)| {
            let xl = xl.max(0.0);
            net.travel_time_integral(l, xl) + fixed[l] * xl
        })
        .sum()
}

fn relative_gap(tstt: f64, sptt: f64) -> f64 {
    if tstt > 0.0 {
        (tstt - sptt) / tstt
    } else {
        0.0
    }
}

/// Common bookkeeping: clock, limits, history, progress.
struct Monitor<'a> {
    start: Instant,
    params: AssignParams,
    history: Vec<GapPoint>,
    progress: &'a mut dyn FnMut(&GapPoint),
}

impl Monitor<'_> {
    /// Records a point; returns `true` when the run should stop.
    fn record(&mut self, iteration: usize, relative_gap: f64, objective: f64) -> bool {
        let p = GapPoint {
            iteration,
            seconds: self.start.elapsed().as_secs_f64(),
            relative_gap,
            objective,
        };
        self.history.push(p);
        (self.progress)(&p);
        relative_gap <= self.params.target_gap
            || iteration >= self.params.max_iterations
            || p.seconds >= self.params.max_seconds
    }
}

/// Solve the static user equilibrium of `demand` on `net`. `progress` is called with every
/// convergence point as it is recorded (initial solution included).
pub fn assign(
    net: &Network,
    demand: &Demand,
    params: &AssignParams,
    progress: &mut dyn FnMut(&GapPoint),
) -> Result<AssignResult, TrafficError> {
    params.validate()?;
    let m = net.link_count();
    let fixed: Vec<f64> = (0..m).map(|l| params.cost.fixed(net, l)).collect();
    for (l, f) in fixed.iter().enumerate() {
        let c0 = net.free_flow_time[l] + f;
        if !(c0.is_finite() && c0 >= 0.0) {
            return Err(TrafficError::Invalid(format!(
                "link {} ({} -> {}): generalized free-flow cost {c0} is negative or not \
                 finite (check the toll and distance factors)",
                l + 1,
                net.from[l] + 1,
                net.to[l] + 1
            )));
        }
    }
    let mut mon = Monitor {
        start: Instant::now(),
        params: *params,
        history: Vec::new(),
        progress,
    };
    let mut aon = AonWorkspace::new();
    // Validates the demand against the network once.
    let unroutable = aon
        .sptt(net, demand, &net.free_flow_time)?
        .unroutable_demand;
    let (flow, iterations) = match params.algorithm {
        Algorithm::AlgorithmB => algorithm_b(net, demand, &fixed, &mut aon, &mut mon)?,
        Algorithm::BiconjugateFrankWolfe => {
            frank_wolfe(net, demand, &fixed, true, &mut aon, &mut mon)?
        }
        Algorithm::FrankWolfe => frank_wolfe(net, demand, &fixed, false, &mut aon, &mut mon)?,
    };
    let time: Vec<f64> = (0..m)
        .map(|l| net.travel_time(l, flow[l].max(0.0)))
        .collect();
    let cost: Vec<f64> = (0..m).map(|l| time[l] + fixed[l]).collect();
    let tstt: f64 = flow.iter().zip(&cost).map(|(x, c)| x * c).sum();
    let sptt = aon.sptt(net, demand, &cost)?.sptt;
    let relative_gap = relative_gap(tstt, sptt);
    let objective = beckmann(net, &fixed, &flow);
    let seconds = mon.start.elapsed().as_secs_f64();
    Ok(AssignResult {
        flow,
        time,
        cost,
        objective,
        tstt,
        sptt,
        relative_gap,
        iterations,
        seconds,
        history: mon.history,
        unroutable_demand: unroutable,
        converged: relative_gap <= params.target_gap,
    })
}

// ---------------------------------------------------------------------------------------
// Frank–Wolfe and bi-conjugate Frank–Wolfe
// ---------------------------------------------------------------------------------------

/// Exact line search on [0, 1]: the root of g(τ) = Σ c(x + τ d) · d (safeguarded Newton).
fn line_search(net: &Network, fixed: &[f64], x: &[f64], d: &[f64]) -> f64 {
    let g = |tau: f64| -> (f64, f64) {
        let mut g = 0.0;
        let mut h = 0.0;
        for l in 0..x.len() {
            if d[l] != 0.0 {
                let xl = x[l] + tau * d[l];
                g += link_cost(net, fixed, l, xl) * d[l];
                h += link_der(net, l, xl) * d[l] * d[l];
            }
        }
        (g, h)
    };
    let (g0, _) = g(0.0);
    if g0.is_nan() || g0 >= 0.0 {
        return 0.0;
    }
    let (g1, _) = g(1.0);
    if g1 <= 0.0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut tau = 0.5;
    for _ in 0..100 {
        let (gt, ht) = g(tau);
        if gt == 0.0 {
            return tau;
        }
        if gt < 0.0 {
            lo = tau;
        } else {
            hi = tau;
        }
        let newton = tau - gt / ht;
        let next = if ht > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= 1e-15 || (next - tau).abs() <= 1e-16 {
            return next;
        }
        tau = next;
    }
    tau
}

fn frank_wolfe(
    net: &Network,
    demand: &Demand,
    fixed: &[f64],
    biconjugate: bool,
    aon: &mut AonWorkspace,
    mon: &mut Monitor<'_>,
) -> Result<(Vec<f64>, usize), TrafficError> {
    let m = net.link_count();
    let mut cost: Vec<f64> = (0..m).map(|l| link_cost(net, fixed, l, 0.0)).collect();
    let mut der = vec![0.0; m];
    let mut x = vec![0.0; m];
    aon.load(net, demand, &cost, &mut x)?;
    let mut y = vec![0.0; m];
    let mut s = vec![0.0; m];
    let mut s1 = vec![0.0; m];
    let mut s2 = vec![0.0; m];
    let mut d = vec![0.0; m];
    let (mut tau1, mut have1, mut have2) = (1.0f64, false, false);
    let mut iteration = 0;
    loop {
        for l in 0..m {
            cost[l] = link_cost(net, fixed, l, x[l]);
            der[l] = link_der(net, l, x[l]);
        }
        let sptt = aon.load(net, demand, &cost, &mut y)?.sptt;
        let tstt: f64 = x.iter().zip(&cost).map(|(a, b)| a * b).sum();
        if mon.record(
            iteration,
            relative_gap(tstt, sptt),
            beckmann(net, fixed, &x),
        ) {
            return Ok((x, iteration));
        }
        // Target point s.
        s.copy_from_slice(&y);
        if biconjugate && have1 && tau1 < 1.0 - 1e-12 {
            let dot = |a: &dyn Fn(usize) -> f64, b: &dyn Fn(usize) -> f64| -> f64 {
                (0..m).map(|l| der[l] * a(l) * b(l)).sum()
            };
            if have2 {
                // Bi-conjugate direction (Mitradjieva & Lindberg 2013, section 4.2).
                let bb = |l: usize| tau1 * s1[l] - x[l] + (1.0 - tau1) * s2[l];
                let nmu = dot(&bb, &|l| y[l] - x[l]);
                let dmu = dot(&bb, &|l| s2[l] - s1[l]);
                let b = |l: usize| s1[l] - x[l];
                let nnu = dot(&b, &|l| y[l] - x[l]);
                let dnu = dot(&b, &b);
                if dmu != 0.0 && dnu != 0.0 {
                    let mu = (-nmu / dmu).max(0.0);
                    let nu = (mu * tau1 / (1.0 - tau1) - nnu / dnu).max(0.0);
                    if mu.is_finite() && nu.is_finite() {
                        let b0 = 1.0 / (1.0 + mu + nu);
                        let (b1, b2) = (nu * b0, mu * b0);
                        for l in 0..m {
                            s[l] = b0 * y[l] + b1 * s1[l] + b2 * s2[l];
                        }
                    }
                }
            } else {
                // Conjugate direction (CFW) for the second step.
                let b = |l: usize| s1[l] - x[l];
                let num = dot(&b, &|l| y[l] - x[l]);
                let den = dot(&b, &|l| y[l] - s1[l]);
                if den != 0.0 {
                    let alpha = (num / den).clamp(0.0, 1.0 - 1e-6);
                    if alpha.is_finite() {
                        for l in 0..m {
                            s[l] = alpha * s1[l] + (1.0 - alpha) * y[l];
                        }
                    }
                }
            }
        }
        for l in 0..m {
            d[l] = s[l] - x[l];
        }
        // Fall back to the Frank–Wolfe direction if the conjugate one is not a descent one.
        let slope: f64 = (0..m).map(|l| cost[l] * d[l]).sum();
        if slope.is_nan() || slope >= 0.0 {
            s.copy_from_slice(&y);
            for l in 0..m {
                d[l] = s[l] - x[l];
            }
        }
        let tau = line_search(net, fixed, &x, &d);
        for l in 0..m {
            x[l] += tau * d[l];
        }
        std::mem::swap(&mut s2, &mut s1);
        std::mem::swap(&mut s1, &mut s);
        have2 = have1;
        have1 = true;
        tau1 = tau;
        iteration += 1;
    }
}

// ---------------------------------------------------------------------------------------
// Algorithm B
// ---------------------------------------------------------------------------------------

/// Bushes (one acyclic subnetwork per origin) with origin-specific link flows, and the
/// shared working arrays. Per-origin data live in flat arrays: links `k*m..(k+1)*m`, nodes
/// `k*n..(k+1)*n`.
struct Bushes<'a> {
    net: &'a Network,
    fixed: &'a [f64],
    n: usize,
    m: usize,
    origins: Vec<u32>,
    /// Flows below this (per origin) are set to 0.
    eps: Vec<f64>,
    /// Total routable demand.
    total: f64,
    in_bush: Vec<bool>,
    bflow: Vec<f64>,
    order: Vec<u32>,
    order_len: Vec<usize>,
    x: Vec<f64>,
    cost: Vec<f64>,
    der: Vec<f64>,
    lmin: Vec<f64>,
    lmax: Vec<f64>,
    pmin: Vec<u32>,
    pmax: Vec<u32>,
    pos: Vec<u32>,
    indeg: Vec<u32>,
}

impl<'a> Bushes<'a> {
    fn new(net: &'a Network, demand: &Demand, fixed: &'a [f64]) -> Bushes<'a> {
        let (n, m) = (net.node_count, net.link_count());
        let no = demand.origin_count();
        let cost: Vec<f64> = (0..m).map(|l| link_cost(net, fixed, l, 0.0)).collect();
        let mut b = Bushes {
            net,
            fixed,
            n,
            m,
            origins: demand.origins.clone(),
            eps: vec![0.0; no],
            total: 0.0,
            in_bush: vec![false; no * m],
            bflow: vec![0.0; no * m],
            order: vec![0; no * n],
            order_len: vec![0; no],
            x: vec![0.0; m],
            cost,
            der: vec![0.0; m],
            lmin: vec![0.0; n],
            lmax: vec![0.0; n],
            pmin: vec![NO_LINK; n],
            pmax: vec![NO_LINK; n],
            pos: vec![0; n],
            indeg: vec![0; n],
        };
        let mut sp = ShortestPaths::new(n);
        let mut node_load = vec![0.0; n];
        for k in 0..no {
            let o = demand.origins[k];
            sp.run_unchecked(net, &b.cost, o);
            let (dests, flows) = demand.of(k);
            let mut total = 0.0;
            for (&d, &f) in dests.iter().zip(flows) {
                if d != o && sp.dist()[d as usize].is_finite() {
                    node_load[d as usize] += f;
                    total += f;
                }
            }
            b.eps[k] = 1e-12 * total;
            b.total += total;
            let settled = sp.settled();
            b.order_len[k] = settled.len();
            b.order[k * n..k * n + settled.len()].copy_from_slice(settled);
            for &v in settled.iter().rev() {
                let l = sp.pred_link()[v as usize];
                if l == NO_LINK {
                    node_load[v as usize] = 0.0;
                    continue;
                }
                b.in_bush[k * m + l as usize] = true;
                let q = node_load[v as usize];
                if q != 0.0 {
                    node_load[v as usize] = 0.0;
                    b.bflow[k * m + l as usize] += q;
                    node_load[net.from[l as usize] as usize] += q;
                }
            }
        }
        b.sum_flows();
        b
    }

    /// Total link flows from the bush flows (fixed order), with costs and derivatives.
    fn sum_flows(&mut self) {
        let (m, no) = (self.m, self.origins.len());
        self.x.fill(0.0);
        for k in 0..no {
            for (xl, &f) in self.x.iter_mut().zip(&self.bflow[k * m..(k + 1) * m]) {
                *xl += f;
            }
        }
        for l in 0..m {
            self.cost[l] = link_cost(self.net, self.fixed, l, self.x[l]);
            self.der[l] = link_der(self.net, l, self.x[l]);
        }
    }

    #[inline]
    fn update_link(&mut self, l: usize) {
        let xl = self.x[l];
        self.cost[l] = link_cost(self.net, self.fixed, l, xl);
        self.der[l] = link_der(self.net, l, xl);
    }

    /// Min-cost labels over all bush links and max-cost labels over the bush links with flow
    /// (`used_only`) or all bush links, in topological order; fills `pos`.
    fn labels(&mut self, k: usize, used_only: bool) {
        let (n, m) = (self.n, self.m);
        let net = self.net;
        let len = self.order_len[k];
        for idx in 0..len {
            let j = self.order[k * n + idx] as usize;
            self.pos[j] = idx as u32;
            if idx == 0 {
                self.lmin[j] = 0.0;
                self.lmax[j] = 0.0;
                self.pmin[j] = NO_LINK;
                self.pmax[j] = NO_LINK;
                continue;
            }
            let (mut lo, mut po) = (f64::INFINITY, NO_LINK);
            let (mut hi, mut ph) = (f64::NEG_INFINITY, NO_LINK);
            for &l in net.in_of(j as u32) {
                let li = l as usize;
                if !self.in_bush[k * m + li] {
                    continue;
                }
                let i = net.from[li] as usize;
                let c = self.cost[li];
                let a = self.lmin[i] + c;
                if a < lo {
                    lo = a;
                    po = l;
                }
                if !used_only || self.bflow[k * m + li] > 0.0 {
                    let b = self.lmax[i] + c;
                    if b > hi {
                        hi = b;
                        ph = l;
                    }
                }
            }
            self.lmin[j] = lo;
            self.pmin[j] = po;
            if ph == NO_LINK {
                self.lmax[j] = lo;
                self.pmax[j] = po;
            } else {
                self.lmax[j] = hi;
                self.pmax[j] = ph;
            }
        }
    }

    /// Topological order of bush `k` (Kahn). Fails only if the bush has a cycle.
    fn topo_sort(&mut self, k: usize) -> Result<(), TrafficError> {
        let (n, m) = (self.n, self.m);
        let net = self.net;
        let len = self.order_len[k];
        // Reached nodes are exactly the current order's nodes (the node set never changes).
        for idx in 0..len {
            let j = self.order[k * n + idx] as usize;
            self.indeg[j] = net
                .in_of(j as u32)
                .iter()
                .filter(|&&l| self.in_bush[k * m + l as usize])
                .count() as u32;
        }
        let o = self.origins[k];
        let ord = &mut self.order[k * n..(k + 1) * n];
        ord[0] = o;
        let (mut head, mut tail) = (0usize, 1usize);
        while head < tail {
            let u = ord[head];
            head += 1;
            for &l in net.out_of(u) {
                if !self.in_bush[k * m + l as usize] {
                    continue;
                }
                let v = net.to[l as usize] as usize;
                self.indeg[v] -= 1;
                if self.indeg[v] == 0 && tail < n {
                    ord[tail] = v as u32;
                    tail += 1;
                }
            }
        }
        if tail != len {
            return Err(TrafficError::Invalid(format!(
                "internal error: the bush of origin {} lost its acyclicity",
                o + 1
            )));
        }
        Ok(())
    }

    /// Drop unused links (keeping one way into every node) and add the links that are
    /// shortcuts with respect to the max-cost labels; re-sort when the bush changed.
    fn improve(&mut self, k: usize) -> Result<(), TrafficError> {
        let (n, m) = (self.n, self.m);
        let net = self.net;
        let len = self.order_len[k];
        self.labels(k, true);
        let mut changed = false;
        for idx in 1..len {
            let j = self.order[k * n + idx];
            let keep = self.pmin[j as usize];
            let used = net
                .in_of(j)
                .iter()
                .any(|&l| self.in_bush[k * m + l as usize] && self.bflow[k * m + l as usize] > 0.0);
            for &l in net.in_of(j) {
                let li = k * m + l as usize;
                if self.in_bush[li] && self.bflow[li] <= 0.0 && (used || l != keep) {
                    self.in_bush[li] = false;
                    self.bflow[li] = 0.0;
                    changed = true;
                }
            }
        }
        // Max-cost labels over the whole (pruned) bush: every bush link (i, j) has
        // U_i + c_ij <= U_j, so adding links with U_i + c_ij < U_j keeps it acyclic.
        self.labels(k, false);
        let o = self.origins[k];
        for idx in 0..len {
            let i = self.order[k * n + idx];
            if i != o && !net.is_thru(i) {
                continue;
            }
            let ui = self.lmax[i as usize];
            for &l in net.out_of(i) {
                let li = l as usize;
                if self.in_bush[k * m + li] {
                    continue;
                }
                let j = net.to[li];
                if j == o {
                    continue;
                }
                // j is reached (same reachability as the initial tree).
                if ui + self.cost[li] < self.lmax[j as usize] {
                    self.in_bush[k * m + li] = true;
                    changed = true;
                }
            }
        }
        if changed {
            self.topo_sort(k)?;
        }
        Ok(())
    }

    /// One Gauss–Seidel equilibration pass over bush `k`. Returns the largest max−min cost
    /// difference seen (before the shifts).
    fn equilibrate(&mut self, k: usize, threshold: f64) -> f64 {
        let (n, m) = (self.n, self.m);
        let net = self.net;
        self.labels(k, true);
        let len = self.order_len[k];
        let mut worst = 0.0f64;
        for idx in (1..len).rev() {
            let j = self.order[k * n + idx] as usize;
            let spread = self.lmax[j] - self.lmin[j];
            worst = worst.max(spread);
            if spread.is_nan() || spread <= threshold {
                continue;
            }
            let (pa, pb) = (self.pmin[j], self.pmax[j]);
            if pa == pb || pa == NO_LINK || pb == NO_LINK {
                continue;
            }
            // Last common node of the min and max paths.
            let mut a = net.from[pa as usize] as usize;
            let mut b = net.from[pb as usize] as usize;
            while a != b {
                if self.pos[a] > self.pos[b] {
                    a = net.from[self.pmin[a] as usize] as usize;
                } else {
                    b = net.from[self.pmax[b] as usize] as usize;
                }
            }
            let top = a;
            let (mut cmin, mut dsum) = (0.0, 0.0);
            let mut v = j;
            while v != top {
                let l = self.pmin[v] as usize;
                cmin += self.cost[l];
                dsum += self.der[l];
                v = net.from[l] as usize;
            }
            let (mut cmax, mut cap) = (0.0, f64::INFINITY);
            let mut v = j;
            while v != top {
                let l = self.pmax[v] as usize;
                cmax += self.cost[l];
                dsum += self.der[l];
                cap = cap.min(self.bflow[k * m + l]);
                v = net.from[l] as usize;
            }
            let diff = cmax - cmin;
            if !(diff > 0.0 && cap > 0.0) {
                continue;
            }
            let step = if dsum > 0.0 { diff / dsum } else { cap };
            let delta = if step.is_finite() { step.min(cap) } else { 0.0 };
            if delta.is_nan() || delta <= 0.0 {
                continue;
            }
            let eps = self.eps[k];
            let mut v = j;
            while v != top {
                let l = self.pmax[v] as usize;
                let bf = &mut self.bflow[k * m + l];
                let left = *bf - delta;
                let removed = if left <= eps {
                    let r = *bf;
                    *bf = 0.0;
                    r
                } else {
                    *bf = left;
                    delta
                };
                self.x[l] -= removed;
                self.update_link(l);
                v = net.from[l] as usize;
            }
            let mut v = j;
            while v != top {
                let l = self.pmin[v] as usize;
                self.bflow[k * m + l] += delta;
                self.x[l] += delta;
                self.update_link(l);
                v = net.from[l] as usize;
            }
        }
        worst
    }
}

/// Most flow-shift sweeps over all bushes per iteration.
const MAX_SWEEPS: usize = 50;

/// Bushes are equilibrated until their max − min path cost spread is below this fraction of
/// the current average excess cost per trip, (TSTT − SPTT) / demand.
const THRESHOLD_FACTOR: f64 = 0.1;

fn algorithm_b(
    net: &Network,
    demand: &Demand,
    fixed: &[f64],
    aon: &mut AonWorkspace,
    mon: &mut Monitor<'_>,
) -> Result<(Vec<f64>, usize), TrafficError> {
    let mut b = Bushes::new(net, demand, fixed);
    let no = b.origins.len();
    let total_demand = b.total;
    let mut iteration = 0;
    loop {
        b.sum_flows();
        let tstt: f64 = b.x.iter().zip(&b.cost).map(|(a, c)| a * c).sum();
        let sptt = aon.sptt(net, demand, &b.cost)?.sptt;
        let gap = relative_gap(tstt, sptt);
        if mon.record(iteration, gap, beckmann(net, fixed, &b.x)) {
            return Ok((b.x, iteration));
        }
        // Equilibrate bushes to a fraction of the current average excess cost per trip.
        let avg_excess = if total_demand > 0.0 {
            (tstt - sptt).max(0.0) / total_demand
        } else {
            0.0
        };
        let threshold = THRESHOLD_FACTOR * avg_excess;
        // (a) improve each bush and equilibrate it once, then (b) sweep over all bushes,
        // shifting flow only, until every bush is within the threshold: the sweeps resolve
        // the coupling between origins through the shared link costs.
        for k in 0..no {
            b.improve(k)?;
            b.equilibrate(k, threshold);
        }
        for _ in 0..MAX_SWEEPS {
            let mut worst = 0.0f64;
            for k in 0..no {
                worst = worst.max(b.equilibrate(k, threshold));
            }
            if worst <= threshold {
                break;
            }
        }
        iteration += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::LinkSpec;

    fn linear(from: u32, to: u32, a: f64, slope: f64) -> LinkSpec {
        // t = a (1 + b (x / cap)) with cap = 1, power 1: t = a + a b x.
        LinkSpec {
            b: slope / a,
            power: 1.0,
            ..LinkSpec::bpr(from, to, 1.0, 1.0, a)
        }
    }

    fn run(net: &Network, d: &Demand, algorithm: Algorithm, gap: f64) -> AssignResult {
        let p = AssignParams {
            algorithm,
            target_gap: gap,
            max_iterations: 100_000,
            ..Default::default()
        };
        assign(net, d, &p, &mut |_| {}).unwrap()
    }

    #[test]
    fn parallel_linear_links_closed_form() {
        // t1 = 10 + x1, t2 = 15 + 0.5 x2, demand 30: 10 + x1 = 15 + 0.5 (30 − x1)
        // → x1 = 40/3, x2 = 50/3.
        let net = Network::new(2, 0, &[linear(0, 1, 10.0, 1.0), linear(0, 1, 15.0, 0.5)]).unwrap();
        let d = Demand::from_triples(2, vec![(0, 1, 30.0)]).unwrap();
        for alg in [
            Algorithm::AlgorithmB,
            Algorithm::BiconjugateFrankWolfe,
            Algorithm::FrankWolfe,
        ] {
            let r = run(&net, &d, alg, 1e-14);
            assert!(
                (r.flow[0] - 40.0 / 3.0).abs() < 1e-9,
                "{alg:?} {:?}",
                r.flow
            );
            assert!(
                (r.flow[1] - 50.0 / 3.0).abs() < 1e-9,
                "{alg:?} {:?}",
                r.flow
            );
            assert!(r.converged);
        }
    }

    #[test]
    fn braess() {
        // Classic Braess: 0->1 (10x), 1->3 (50 + x), 0->2 (50 + x), 2->3 (10x),
        // 1->2 (10 + x); demand 6 → 2 on each of the three paths, cost 92.
        let links = [
            linear(0, 1, 1e-9, 10.0),
            linear(1, 3, 50.0, 1.0),
            linear(0, 2, 50.0, 1.0),
            linear(2, 3, 1e-9, 10.0),
            linear(1, 2, 10.0, 1.0),
        ];
        let net = Network::new(4, 0, &links).unwrap();
        let d = Demand::from_triples(4, vec![(0, 3, 6.0)]).unwrap();
        for alg in [Algorithm::AlgorithmB, Algorithm::BiconjugateFrankWolfe] {
            let r = run(&net, &d, alg, 1e-13);
            let want = [4.0, 2.0, 2.0, 4.0, 2.0];
            for (f, w) in r.flow.iter().zip(want) {
                assert!((f - w).abs() < 1e-6, "{alg:?} {:?}", r.flow);
            }
            assert!((r.sptt / 6.0 - 92.0).abs() < 1e-6);
        }
    }

    #[test]
    fn toll_and_distance_shift_the_split() {
        // Same times on both links; a toll of 2 (factor 1.5 → +3) on link 0 and a length
        // difference of 2 (factor 0.5 → +1) on link 1: 10 + x1 + 3 = 10 + x2 + 1 + ... with
        // demand 10 → x1 + 3 = x2 + 1, x1 + x2 = 10 → x1 = 4, x2 = 6.
        let mut l0 = linear(0, 1, 10.0, 1.0);
        l0.toll = 2.0;
        let mut l1 = linear(0, 1, 10.0, 1.0);
        l1.length = 3.0;
        let net = Network::new(2, 0, &[l0, l1]).unwrap();
        let d = Demand::from_triples(2, vec![(0, 1, 10.0)]).unwrap();
        let p = AssignParams {
            cost: CostParams {
                toll_factor: 1.5,
                distance_factor: 0.5,
            },
            target_gap: 1e-14,
            ..Default::default()
        };
        // Fixed parts: link 0: 1.5·2 + 0.5·1 = 3.5; link 1: 0.5·3 = 1.5 → x1 + 3.5 = x2 + 1.5.
        let r = assign(&net, &d, &p, &mut |_| {}).unwrap();
        assert!((r.flow[0] - 4.0).abs() < 1e-9, "{:?}", r.flow);
        assert!((r.flow[1] - 6.0).abs() < 1e-9);
        assert!((r.cost[0] - r.cost[1]).abs() < 1e-9);
        assert!((r.time[0] - 14.0).abs() < 1e-9);
        // Without the factors the split is even.
        let r = run(&net, &d, Algorithm::AlgorithmB, 1e-14);
        assert!((r.flow[0] - 5.0).abs() < 1e-9);
    }

    #[test]
    fn zones_carry_no_through_flow() {
        // Nodes 0, 1, 2 are zones; 0 -> 1 -> 2 is far shorter than 0 -> 3 -> 2 but passes
        // through zone 1.
        let links = [
            LinkSpec::bpr(0, 1, 100.0, 1.0, 1.0),
            LinkSpec::bpr(1, 2, 100.0, 1.0, 1.0),
            LinkSpec::bpr(0, 3, 100.0, 1.0, 5.0),
            LinkSpec::bpr(3, 2, 100.0, 1.0, 5.0),
            LinkSpec::bpr(0, 3, 50.0, 1.0, 6.0),
        ];
        let net = Network::new(4, 3, &links).unwrap();
        let d = Demand::from_triples(4, vec![(0, 2, 300.0), (0, 1, 10.0)]).unwrap();
        for alg in [
            Algorithm::AlgorithmB,
            Algorithm::BiconjugateFrankWolfe,
            Algorithm::FrankWolfe,
        ] {
            let r = run(&net, &d, alg, 1e-8);
            assert!((r.flow[0] - 10.0).abs() < 1e-9, "{alg:?} {:?}", r.flow);
            assert_eq!(r.flow[1], 0.0, "{alg:?}");
            assert!((r.flow[3] - 300.0).abs() < 1e-6);
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        let net = Network::new(2, 0, &[linear(0, 1, 10.0, 1.0)]).unwrap();
        let d = Demand::from_triples(2, vec![(0, 1, 1.0)]).unwrap();
        let bad = [
            AssignParams {
                target_gap: -1.0,
                ..Default::default()
            },
            AssignParams {
                target_gap: f64::NAN,
                ..Default::default()
            },
            AssignParams {
                max_iterations: 0,
                ..Default::default()
            },
            AssignParams {
                max_seconds: 0.0,
                ..Default::default()
            },
            AssignParams {
                max_seconds: f64::NAN,
                ..Default::default()
            },
            AssignParams {
                cost: CostParams {
                    toll_factor: f64::INFINITY,
                    distance_factor: 0.0,
                },
                ..Default::default()
            },
        ];
        for p in bad {
            assert!(
                matches!(p.validate(), Err(TrafficError::Param { .. })),
                "{p:?}"
            );
            assert!(assign(&net, &d, &p, &mut |_| {}).is_err());
        }
        // Negative generalized cost.
        let p = AssignParams {
            cost: CostParams {
                toll_factor: 0.0,
                distance_factor: -100.0,
            },
            ..Default::default()
        };
        assert!(matches!(
            assign(&net, &d, &p, &mut |_| {}),
            Err(TrafficError::Invalid(_))
        ));
        // Demand naming nodes the network does not have.
        let bad = Demand {
            origins: vec![5],
            start: vec![0, 1],
            dest: vec![0],
            flow: vec![1.0],
        };
        assert!(assign(&net, &bad, &AssignParams::default(), &mut |_| {}).is_err());
    }

    #[test]
    fn unroutable_and_empty_demand() {
        let net = Network::new(3, 0, &[linear(0, 1, 10.0, 1.0)]).unwrap();
        let d = Demand::from_triples(3, vec![(0, 1, 1.0), (0, 2, 4.0)]).unwrap();
        for alg in [Algorithm::AlgorithmB, Algorithm::BiconjugateFrankWolfe] {
            let r = run(&net, &d, alg, 1e-12);
            assert_eq!(r.unroutable_demand, 4.0);
            assert!((r.flow[0] - 1.0).abs() < 1e-12);
            assert!(r.converged);
        }
        let empty = Demand::from_triples(3, vec![]).unwrap();
        let r = run(&net, &empty, Algorithm::AlgorithmB, 1e-12);
        assert_eq!(r.flow, vec![0.0]);
        assert!(r.converged);
    }

    #[test]
    fn zero_derivative_links() {
        // Constant-cost link (b = 0) in parallel with a congestible one: the congestible
        // link takes flow until its cost reaches the constant.
        let mut c = LinkSpec::bpr(0, 1, 1.0, 1.0, 20.0);
        c.b = 0.0;
        let net = Network::new(2, 0, &[c, linear(0, 1, 10.0, 1.0)]).unwrap();
        let d = Demand::from_triples(2, vec![(0, 1, 30.0)]).unwrap();
        for alg in [Algorithm::AlgorithmB, Algorithm::BiconjugateFrankWolfe] {
            let r = run(&net, &d, alg, 1e-13);
            assert!((r.flow[1] - 10.0).abs() < 1e-8, "{alg:?} {:?}", r.flow);
            assert!((r.flow[0] - 20.0).abs() < 1e-8);
        }
    }
}
