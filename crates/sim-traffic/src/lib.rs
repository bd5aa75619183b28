//! # sim-traffic
//!
//! Road networks, equilibrium assignment, closures and evacuation (issue 5), over the
//! `twin_core::model::RoadGraph`. Pure computation: no file or network IO, no bevy. Not yet
//! implemented; this crate only reserves its place in the workspace.
