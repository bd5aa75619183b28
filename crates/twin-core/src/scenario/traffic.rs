//! The `[traffic]` section: static equilibrium assignment on the city's roads (or TNTP files)
//! with closures and capacity changes, roads closed by the flood, and an evacuation with the
//! mesoscopic queue model. This module is the schema only ([`TrafficSection`] as written,
//! [`TrafficSpec`] validated); the computation lives in `sim-traffic`.
//!
//! ```toml
//! [traffic]
//! compare = true
//!
//! [traffic.assignment]
//! target_gap = 1e-8
//!
//! [[traffic.closure]]
//! id = "bridge"
//! names = ["Elbbrücke Demo"]
//!
//! [traffic.evacuation]
//! zone = [[565000.0, 5927000.0], [567000.0, 5927000.0], [567000.0, 5927700.0], [565000.0, 5927700.0]]
//! destinations = ["shelters", "exits"]
//! mobilisation = { distribution = "rayleigh", mean_s = 2700.0 }
//! ```
//! `docs/scenarios.md` documents every key.

use super::{check_polygon, field_err, resolve_path, yes};
use crate::error::Result;
use crate::geom::{P2, Polygon};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[traffic]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSection {
    /// A TNTP network file instead of the city's roads.
    pub tntp_net: Option<PathBuf>,
    /// The TNTP trips file of `tntp_net`.
    pub tntp_trips: Option<PathBuf>,
    /// Or an OD CSV (`origin,destination,flow` with TNTP node numbers) for `tntp_net`.
    pub od_csv: Option<PathBuf>,
    /// Road classes that carry cars (default: all but track and path).
    pub classes: Option<Vec<String>>,
    /// With closures: also assign without them and write the differences.
    #[serde(default = "yes")]
    pub compare: bool,
    /// PNG maps and charts beside the data.
    #[serde(default = "yes")]
    pub png: bool,
    /// Run the static assignment (default: yes unless the section is only an evacuation).
    pub assign: Option<bool>,
    #[serde(default)]
    pub demand: DemandSection,
    #[serde(default)]
    pub assignment: AssignmentSection,
    #[serde(default)]
    pub closure: Vec<ClosureSection>,
    pub flood: Option<TrafficFloodSection>,
    pub evacuation: Option<EvacuationSection>,
}

/// `[traffic.demand]`: trip generation from the city model.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandSection {
    /// Side of the square zones (m); default 250.
    pub zone_size_m: Option<f64>,
    /// Morning peak-hour car trips per resident; default 0.09.
    pub trips_per_resident: Option<f64>,
    /// Gravity-model deterrence exp(−β·t) per minute of free-flow time; default 0.1.
    pub beta_per_min: Option<f64>,
    /// Living area per resident (m²); default 39.
    pub living_area_per_resident_m2: Option<f64>,
    /// Scale all trips (e.g. 1.2 for a big event); default 1.
    pub factor: Option<f64>,
    /// Share of the residents' trips that leave the area through its gateways (roads at the
    /// edge of the network); default 0.4.
    pub outbound_share: Option<f64>,
    /// Share of the jobs' trips that come from outside through the gateways; default 0.6.
    pub inbound_share: Option<f64>,
    /// Through traffic between the gateways (veh/h), split by gateway capacity; default 1500.
    pub through_veh_h: Option<f64>,
}

/// `[traffic.assignment]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentSection {
    /// `algorithm_b` (default), `bfw` (bi-conjugate Frank–Wolfe) or `fw`.
    pub algorithm: Option<String>,
    /// Stop at this relative gap; default 1e-8.
    pub target_gap: Option<f64>,
    pub max_iterations: Option<usize>,
    pub max_seconds: Option<f64>,
    /// Minutes per toll unit in the generalized cost; default 0.
    pub toll_factor: Option<f64>,
    /// Minutes per metre in the generalized cost; default 0.
    pub distance_factor: Option<f64>,
}

/// `[[traffic.closure]]`: links closed or with reduced capacity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureSection {
    pub id: String,
    #[serde(default)]
    pub way_ids: Vec<i64>,
    #[serde(default)]
    pub names: Vec<String>,
    pub polygon: Option<Vec<P2>>,
    /// 0 closes the links (default); between 0 and 1 keeps that share of the capacity.
    pub capacity_factor: Option<f64>,
    /// For the evacuation: from this time (s after its start); default 0.
    pub start_s: Option<f64>,
    /// For the evacuation: until this time (s); default: the whole run.
    pub end_s: Option<f64>,
}

/// `[traffic.flood]`: roads close where the water is deeper than `depth_m`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficFloodSection {
    /// Default 0.3 m (passenger cars).
    pub depth_m: Option<f64>,
    /// Results folder of an earlier flood run (its depth snapshots); default: the `[flood]`
    /// section of this scenario.
    pub results: Option<PathBuf>,
}

/// `[traffic.evacuation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvacuationSection {
    /// The zone to clear, a polygon in the city CRS.
    pub zone: Option<Vec<P2>>,
    /// Or: buildings whose ground is at or below this height (m of the vertical datum).
    pub max_ground_z: Option<f64>,
    /// `shelters` (the city's shelter points) and/or `exits` (road ends at the edge of the
    /// network outside the zone); default both.
    pub destinations: Option<Vec<String>>,
    /// Persons per evacuating car; default 2.0.
    pub persons_per_vehicle: Option<f64>,
    /// Share of persons leaving by car; default 0.8.
    pub car_share: Option<f64>,
    #[serde(default)]
    pub mobilisation: MobilisationSection,
    /// Flood time (s) at which the evacuation order is given; default 0.
    pub start_s: Option<f64>,
    /// Simulated time after the order (s); default 6 h.
    pub duration_s: Option<f64>,
    /// Seed of the departure times; default 1.
    pub seed: Option<u64>,
    /// Route updates with the current travel times every this many seconds; default 300.
    pub reroute_interval_s: Option<f64>,
    /// A blocked vehicle is pushed on after this many seconds (gridlock guard); default 300.
    pub stuck_time_s: Option<f64>,
    /// Send cars to a shelter only while it has room (its `capacity`); default true.
    pub shelter_capacity: Option<bool>,
}

/// `mobilisation = { distribution = "rayleigh", mean_s = 2700.0 }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MobilisationSection {
    /// `rayleigh` (default), `weibull`, `logistic` or `uniform`.
    pub distribution: Option<String>,
    pub mean_s: Option<f64>,
    pub scale_s: Option<f64>,
    pub shape: Option<f64>,
    pub mid_s: Option<f64>,
    pub spread_s: Option<f64>,
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
}

/// Assignment algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignAlgorithm {
    AlgorithmB,
    BiconjugateFrankWolfe,
    FrankWolfe,
}

impl AssignAlgorithm {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "algorithm_b" | "b" => Some(AssignAlgorithm::AlgorithmB),
            "bfw" | "biconjugate_frank_wolfe" => Some(AssignAlgorithm::BiconjugateFrankWolfe),
            "fw" | "frank_wolfe" => Some(AssignAlgorithm::FrankWolfe),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AssignAlgorithm::AlgorithmB => "algorithm_b",
            AssignAlgorithm::BiconjugateFrankWolfe => "bfw",
            AssignAlgorithm::FrankWolfe => "fw",
        }
    }
}

/// Validated demand parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandSpec {
    pub zone_size_m: f64,
    pub trips_per_resident: f64,
    pub beta_per_min: f64,
    pub living_area_per_resident_m2: f64,
    pub factor: f64,
    pub outbound_share: f64,
    pub inbound_share: f64,
    pub through_veh_h: f64,
}

/// Validated assignment parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentSpec {
    pub algorithm: AssignAlgorithm,
    pub target_gap: f64,
    pub max_iterations: usize,
    pub max_seconds: f64,
    pub toll_factor: f64,
    pub distance_factor: f64,
}

/// A validated closure.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosureSpec {
    pub id: String,
    pub way_ids: Vec<i64>,
    pub names: Vec<String>,
    pub polygon: Option<Polygon>,
    pub capacity_factor: f64,
    pub start_s: f64,
    pub end_s: f64,
}

/// Validated flood coupling.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficFloodSpec {
    pub depth_m: f64,
    pub results: Option<PathBuf>,
}

/// Departure-time distribution of the evacuation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MobilisationSpec {
    Rayleigh { mean_s: f64 },
    Weibull { scale_s: f64, shape: f64 },
    Logistic { mid_s: f64, spread_s: f64 },
    Uniform { start_s: f64, end_s: f64 },
}

/// Where the evacuees go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destinations {
    pub shelters: bool,
    pub exits: bool,
}

/// Validated evacuation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvacuationSpec {
    pub zone: Option<Polygon>,
    pub max_ground_z: Option<f64>,
    pub destinations: Destinations,
    pub persons_per_vehicle: f64,
    pub car_share: f64,
    pub mobilisation: MobilisationSpec,
    pub start_s: f64,
    pub duration_s: f64,
    pub seed: u64,
    pub reroute_interval_s: f64,
    pub stuck_time_s: f64,
    pub shelter_capacity: bool,
}

/// The network a traffic section runs on.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficNetwork {
    /// The city's roads, demand from the gravity model.
    City,
    /// TNTP files: the network and its trips (TNTP) or an OD CSV.
    Tntp { net: PathBuf, trips: PathBuf },
}

/// The validated `[traffic]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSpec {
    pub network: TrafficNetwork,
    pub classes: Option<Vec<String>>,
    pub compare: bool,
    pub png: bool,
    pub assign: bool,
    pub demand: DemandSpec,
    pub assignment: AssignmentSpec,
    pub closures: Vec<ClosureSpec>,
    pub flood: Option<TrafficFloodSpec>,
    pub evacuation: Option<EvacuationSpec>,
}

fn num(
    path: &Path,
    field: &str,
    v: Option<f64>,
    default: f64,
    ok: fn(f64) -> bool,
    what: &str,
) -> Result<f64> {
    let x = v.unwrap_or(default);
    if !(x.is_finite() && ok(x)) {
        return Err(field_err(path, field, format!("must be {what}, got {x}")));
    }
    Ok(x)
}

/// Validate `[traffic]`.
pub fn validate(t: TrafficSection, path: &Path, base: &Path) -> Result<TrafficSpec> {
    let network = match (&t.tntp_net, &t.tntp_trips, &t.od_csv) {
        (None, None, None) => TrafficNetwork::City,
        (Some(n), Some(tr), None) | (Some(n), None, Some(tr)) => TrafficNetwork::Tntp {
            net: resolve_path(base, n),
            trips: resolve_path(base, tr),
        },
        (Some(_), Some(_), Some(_)) => {
            return Err(field_err(
                path,
                "traffic.od_csv",
                "give either `tntp_trips` or `od_csv`, not both",
            ));
        }
        (Some(_), None, None) => {
            return Err(field_err(
                path,
                "traffic.tntp_net",
                "needs `tntp_trips` or `od_csv` with the demand",
            ));
        }
        (None, _, _) => {
            return Err(field_err(
                path,
                "traffic.tntp_trips",
                "trips need the network: give `tntp_net` too",
            ));
        }
    };
    if let Some(cl) = &t.classes {
        for c in cl {
            if crate::model::HighwayClass::ALL
                .iter()
                .all(|k| k.as_str() != c)
            {
                return Err(field_err(
                    path,
                    "traffic.classes",
                    format!("unknown road class `{c}`"),
                ));
            }
        }
    }
    let d = &t.demand;
    let demand = DemandSpec {
        zone_size_m: num(
            path,
            "traffic.demand.zone_size_m",
            d.zone_size_m,
            250.0,
            |v| v > 0.0,
            "a positive size in metres",
        )?,
        trips_per_resident: num(
            path,
            "traffic.demand.trips_per_resident",
            d.trips_per_resident,
            0.09,
            |v| v >= 0.0,
            "a rate >= 0",
        )?,
        beta_per_min: num(
            path,
            "traffic.demand.beta_per_min",
            d.beta_per_min,
            0.1,
            |v| v >= 0.0,
            "a deterrence >= 0 per minute",
        )?,
        living_area_per_resident_m2: num(
            path,
            "traffic.demand.living_area_per_resident_m2",
            d.living_area_per_resident_m2,
            39.0,
            |v| v > 0.0,
            "a positive area",
        )?,
        factor: num(
            path,
            "traffic.demand.factor",
            d.factor,
            1.0,
            |v| v >= 0.0,
            "a factor >= 0",
        )?,
        outbound_share: num(
            path,
            "traffic.demand.outbound_share",
            d.outbound_share,
            0.4,
            |v| (0.0..=1.0).contains(&v),
            "a share in [0, 1]",
        )?,
        inbound_share: num(
            path,
            "traffic.demand.inbound_share",
            d.inbound_share,
            0.6,
            |v| (0.0..=1.0).contains(&v),
            "a share in [0, 1]",
        )?,
        through_veh_h: num(
            path,
            "traffic.demand.through_veh_h",
            d.through_veh_h,
            1500.0,
            |v| v >= 0.0,
            "a flow >= 0",
        )?,
    };
    let a = &t.assignment;
    let algorithm = match &a.algorithm {
        None => AssignAlgorithm::AlgorithmB,
        Some(s) => AssignAlgorithm::parse(s).ok_or_else(|| {
            field_err(
                path,
                "traffic.assignment.algorithm",
                format!("unknown algorithm `{s}` (algorithm_b, bfw, fw)"),
            )
        })?,
    };
    let max_iterations = a.max_iterations.unwrap_or(10_000);
    if max_iterations == 0 {
        return Err(field_err(
            path,
            "traffic.assignment.max_iterations",
            "must be at least 1",
        ));
    }
    let assignment = AssignmentSpec {
        algorithm,
        target_gap: num(
            path,
            "traffic.assignment.target_gap",
            a.target_gap,
            1e-8,
            |v| v > 0.0 && v < 1.0,
            "a relative gap between 0 and 1",
        )?,
        max_iterations,
        max_seconds: num(
            path,
            "traffic.assignment.max_seconds",
            a.max_seconds,
            600.0,
            |v| v > 0.0,
            "a positive number of seconds",
        )?,
        toll_factor: num(
            path,
            "traffic.assignment.toll_factor",
            a.toll_factor,
            0.0,
            |v| v >= 0.0,
            "a factor >= 0",
        )?,
        distance_factor: num(
            path,
            "traffic.assignment.distance_factor",
            a.distance_factor,
            0.0,
            |v| v >= 0.0,
            "a factor >= 0",
        )?,
    };
    let mut closures = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (i, c) in t.closure.iter().enumerate() {
        let f = |k: &str| format!("traffic.closure[{i}].{k}");
        if c.id.trim().is_empty() || !ids.insert(c.id.clone()) {
            return Err(field_err(
                path,
                &f("id"),
                format!("`{}` must be a non-empty id used once", c.id),
            ));
        }
        if c.way_ids.is_empty() && c.names.is_empty() && c.polygon.is_none() {
            return Err(field_err(
                path,
                &f("id"),
                format!(
                    "closure `{}` selects nothing: give way_ids, names or polygon",
                    c.id
                ),
            ));
        }
        let polygon = c
            .polygon
            .clone()
            .map(|p| check_polygon(path, &f("polygon"), Polygon::new(p)))
            .transpose()?;
        let capacity_factor = num(
            path,
            &f("capacity_factor"),
            c.capacity_factor,
            0.0,
            |v| (0.0..1.0).contains(&v),
            "a share in [0, 1) (0 closes)",
        )?;
        let start_s = num(
            path,
            &f("start_s"),
            c.start_s,
            0.0,
            |v| v >= 0.0,
            "a time >= 0",
        )?;
        let end_s = c.end_s.unwrap_or(f64::INFINITY);
        if end_s.is_nan() || end_s <= start_s {
            return Err(field_err(
                path,
                &f("end_s"),
                format!("must be after start_s ({start_s}), got {end_s}"),
            ));
        }
        closures.push(ClosureSpec {
            id: c.id.clone(),
            way_ids: c.way_ids.clone(),
            names: c.names.clone(),
            polygon,
            capacity_factor,
            start_s,
            end_s,
        });
    }
    let flood = t
        .flood
        .as_ref()
        .map(|f| -> Result<TrafficFloodSpec> {
            Ok(TrafficFloodSpec {
                depth_m: num(
                    path,
                    "traffic.flood.depth_m",
                    f.depth_m,
                    0.3,
                    |v| v > 0.0,
                    "a positive depth in metres",
                )?,
                results: f.results.as_ref().map(|r| resolve_path(base, r)),
            })
        })
        .transpose()?;
    let evacuation = t
        .evacuation
        .as_ref()
        .map(|e| evacuation(e, path))
        .transpose()?;
    if matches!(network, TrafficNetwork::Tntp { .. })
        && (evacuation.is_some()
            || flood.is_some()
            || !closures
                .iter()
                .all(|c| c.polygon.is_none() && c.names.is_empty()))
    {
        return Err(field_err(
            path,
            "traffic.tntp_net",
            "TNTP networks have no geometry: evacuation, flood and closures by name or polygon need the city's roads (close TNTP links with `way_ids` = link numbers)",
        ));
    }
    let assign = t.assign.unwrap_or(evacuation.is_none());
    Ok(TrafficSpec {
        network,
        classes: t.classes.clone(),
        compare: t.compare,
        png: t.png,
        assign,
        demand,
        assignment,
        closures,
        flood,
        evacuation,
    })
}

fn evacuation(e: &EvacuationSection, path: &Path) -> Result<EvacuationSpec> {
    let f = |k: &str| format!("traffic.evacuation.{k}");
    let zone = e
        .zone
        .clone()
        .map(|p| check_polygon(path, &f("zone"), Polygon::new(p)))
        .transpose()?;
    if let Some(z) = e.max_ground_z
        && !z.is_finite()
    {
        return Err(field_err(
            path,
            &f("max_ground_z"),
            format!("must be finite, got {z}"),
        ));
    }
    if zone.is_none() && e.max_ground_z.is_none() {
        return Err(field_err(
            path,
            &f("zone"),
            "give the zone to clear: `zone` (polygon) or `max_ground_z`",
        ));
    }
    let mut destinations = Destinations {
        shelters: false,
        exits: false,
    };
    match &e.destinations {
        None => {
            destinations = Destinations {
                shelters: true,
                exits: true,
            }
        }
        Some(list) => {
            for d in list {
                match d.as_str() {
                    "shelters" => destinations.shelters = true,
                    "exits" => destinations.exits = true,
                    _ => {
                        return Err(field_err(
                            path,
                            &f("destinations"),
                            format!("unknown destination `{d}` (shelters, exits)"),
                        ));
                    }
                }
            }
            if !(destinations.shelters || destinations.exits) {
                return Err(field_err(
                    path,
                    &f("destinations"),
                    "must name shelters and/or exits",
                ));
            }
        }
    }
    let m = &e.mobilisation;
    let mf = |k: &str| format!("traffic.evacuation.mobilisation.{k}");
    let pos = |k: &str, v: Option<f64>| -> Result<f64> {
        match v {
            Some(x) if x.is_finite() && x > 0.0 => Ok(x),
            Some(x) => Err(field_err(
                path,
                &mf(k),
                format!("must be positive, got {x}"),
            )),
            None => Err(field_err(path, &mf(k), "is required for this distribution")),
        }
    };
    let mobilisation = match m.distribution.as_deref().unwrap_or("rayleigh") {
        "rayleigh" => MobilisationSpec::Rayleigh {
            mean_s: pos("mean_s", m.mean_s.or(Some(2700.0)))?,
        },
        "weibull" => MobilisationSpec::Weibull {
            scale_s: pos("scale_s", m.scale_s)?,
            shape: pos("shape", m.shape)?,
        },
        "logistic" => MobilisationSpec::Logistic {
            mid_s: pos("mid_s", m.mid_s)?,
            spread_s: pos("spread_s", m.spread_s)?,
        },
        "uniform" => {
            let s = m.start_s.unwrap_or(0.0);
            let en = pos("end_s", m.end_s)?;
            if !(s.is_finite() && s >= 0.0 && s < en) {
                return Err(field_err(
                    path,
                    &mf("start_s"),
                    format!("must be >= 0 and before end_s, got {s}"),
                ));
            }
            MobilisationSpec::Uniform {
                start_s: s,
                end_s: en,
            }
        }
        other => {
            return Err(field_err(
                path,
                &mf("distribution"),
                format!("unknown distribution `{other}` (rayleigh, weibull, logistic, uniform)"),
            ));
        }
    };
    Ok(EvacuationSpec {
        zone,
        max_ground_z: e.max_ground_z,
        destinations,
        persons_per_vehicle: num(
            path,
            &f("persons_per_vehicle"),
            e.persons_per_vehicle,
            2.0,
            |v| v >= 1.0,
            "at least 1",
        )?,
        car_share: num(
            path,
            &f("car_share"),
            e.car_share,
            0.8,
            |v| v > 0.0 && v <= 1.0,
            "a share in (0, 1]",
        )?,
        mobilisation,
        start_s: num(
            path,
            &f("start_s"),
            e.start_s,
            0.0,
            |v| v >= 0.0,
            "a time >= 0",
        )?,
        duration_s: num(
            path,
            &f("duration_s"),
            e.duration_s,
            21_600.0,
            |v| v > 0.0,
            "a positive duration",
        )?,
        seed: e.seed.unwrap_or(1),
        reroute_interval_s: num(
            path,
            &f("reroute_interval_s"),
            e.reroute_interval_s,
            300.0,
            |v| v > 0.0,
            "a positive interval",
        )?,
        stuck_time_s: num(
            path,
            &f("stuck_time_s"),
            e.stuck_time_s,
            300.0,
            |v| v > 0.0,
            "a positive time",
        )?,
        shelter_capacity: e.shelter_capacity.unwrap_or(true),
    })
}
