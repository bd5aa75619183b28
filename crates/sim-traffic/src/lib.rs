//! # sim-traffic
//!
//! Road networks, equilibrium assignment, closures and evacuation over flat arrays. Pure
//! computation: no file or network IO, no bevy.
//!
//! - [`network`]: the network as structure of arrays with forward/backward stars, the BPR
//!   cost, generalized cost, OD demand;
//! - [`tntp`]: TNTP network, trips and flow files, OD CSV;
//! - [`paths`]: shortest paths, all-or-nothing loading parallel over origins;
//! - [`assign`]: static user equilibrium: Algorithm B (bush-based), bi-conjugate and plain
//!   Frank–Wolfe;
//! - [`city`]: networks from the city's road graph, zones and connectors, link selections;
//! - [`demand`]: residents and jobs from buildings, zones, the gravity model;
//! - [`queue`]: the mesoscopic event-based queue model with spillback and rerouting;
//! - [`evacuation`]: evacuation on the queue model.

pub mod assign;
pub mod city;
pub mod demand;
pub mod error;
pub mod evacuation;
pub mod network;
pub mod paths;
pub mod queue;
pub mod tntp;

pub use error::TrafficError;
pub use evacuation::{
    Bottleneck, CurvePoint, EvacuationInput, EvacuationResult, Mobilisation, Source, evacuate,
};
pub use network::{CostParams, Demand, LinkSpec, Network};
pub use queue::{
    ChangeKind, NetworkChange, QueueCounters, QueueParams, QueueResult, RouteCost, Trip,
    VehicleState, simulate,
};
