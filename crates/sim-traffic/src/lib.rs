//! # sim-traffic
//!
//! Road networks, equilibrium assignment, closures and evacuation over flat arrays. Pure
//! computation: no file or network IO, no bevy.

pub mod error;
pub mod network;

pub use error::TrafficError;
pub use network::{CostParams, Demand, LinkSpec, Network};
