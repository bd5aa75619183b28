//! # sim-flood
//!
//! Storm-surge and heavy-rain flood engine (issue 3): a local-inertial shallow-water solver on
//! the raster grid of `twin-core`. Pure computation: no file or network IO, no bevy. Not yet
//! implemented; this crate only reserves its place in the workspace.
