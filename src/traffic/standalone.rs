//! `twin traffic assign`: static user equilibrium on TNTP files, the JSON summary and
//! `flows.csv` (`from,to,volume,cost`, TNTP node numbers).

use super::read_tntp;
use crate::RunError;
use serde::Serialize;
use sim_traffic::CostParams;
use sim_traffic::assign::{Algorithm, AssignParams, GapPoint, assign};
use std::fmt::Write as _;
use std::path::Path;

/// Options of `twin traffic assign`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignOptions {
    pub algorithm: Algorithm,
    pub toll_factor: f64,
    pub distance_factor: f64,
    pub target_gap: f64,
    pub max_seconds: f64,
    pub max_iterations: usize,
}

impl Default for AssignOptions {
    fn default() -> Self {
        AssignOptions {
            algorithm: Algorithm::AlgorithmB,
            toll_factor: 0.0,
            distance_factor: 0.0,
            target_gap: 1e-10,
            max_seconds: 600.0,
            max_iterations: 100_000,
        }
    }
}

/// The JSON summary printed by `twin traffic assign`.
#[derive(Debug, Clone, Serialize)]
pub struct AssignReport {
    pub network: String,
    pub trips: String,
    pub algorithm: String,
    pub nodes: usize,
    pub links: usize,
    pub zones: usize,
    pub demand: f64,
    /// Beckmann objective of the generalized cost (veh × file time units).
    pub objective: f64,
    pub tstt: f64,
    pub sptt: f64,
    pub relative_gap: f64,
    pub iterations: usize,
    pub seconds: f64,
    pub converged: bool,
    pub unroutable_demand: f64,
    /// Seconds until the gap first fell below 1e-4, 1e-6, 1e-8 and 1e-10 (absent: not reached).
    pub seconds_to_gap: Vec<(String, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows: Option<String>,
}

/// Time at which the history first reached each gap.
pub fn seconds_to_gaps(history: &[GapPoint]) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for g in [1e-4, 1e-6, 1e-8, 1e-10] {
        if let Some(p) = history.iter().find(|p| p.relative_gap < g) {
            out.push((format!("{g:.0e}"), p.seconds));
        }
    }
    out
}

/// Assign the trips on the network; write `out` (if given) atomically.
pub fn assign_files(
    net_path: &Path,
    trips_path: &Path,
    out: Option<&Path>,
    o: &AssignOptions,
    progress: &mut dyn FnMut(&GapPoint),
) -> Result<AssignReport, RunError> {
    let (net, demand, zones) = read_tntp(net_path, trips_path)?;
    let params = AssignParams {
        algorithm: o.algorithm,
        cost: CostParams {
            toll_factor: o.toll_factor,
            distance_factor: o.distance_factor,
        },
        target_gap: o.target_gap,
        max_iterations: o.max_iterations,
        max_seconds: o.max_seconds,
    };
    let r = assign(&net, &demand, &params, progress).map_err(|e| RunError::Traffic {
        context: format!("{} with {}", net_path.display(), trips_path.display()),
        source: e,
    })?;
    if let Some(out) = out {
        let mut csv = String::from("from,to,volume,cost\n");
        for l in 0..net.link_count() {
            let _ = writeln!(
                csv,
                "{},{},{:.12e},{:.12e}",
                net.from[l] + 1,
                net.to[l] + 1,
                r.flow[l],
                r.cost[l]
            );
        }
        twin_core::fsio::write_atomic(out, csv.as_bytes())?;
    }
    Ok(AssignReport {
        network: net_path.display().to_string(),
        trips: trips_path.display().to_string(),
        algorithm: match o.algorithm {
            Algorithm::AlgorithmB => "algorithm_b",
            Algorithm::BiconjugateFrankWolfe => "bfw",
            Algorithm::FrankWolfe => "fw",
        }
        .into(),
        nodes: net.node_count,
        links: net.link_count(),
        zones,
        demand: demand.total(),
        objective: r.objective,
        tstt: r.tstt,
        sptt: r.sptt,
        relative_gap: r.relative_gap,
        iterations: r.iterations,
        seconds: r.seconds,
        converged: r.converged,
        unroutable_demand: r.unroutable_demand,
        seconds_to_gap: seconds_to_gaps(&r.history),
        flows: out.map(|p| p.display().to_string()),
    })
}
