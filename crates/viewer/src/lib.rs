//! # viewer
//!
//! The bevy 3D viewer for planners, participation tables and crisis staff (issue 6). It will be
//! the only crate that depends on bevy, a thin layer over `twin-core` with unit-tested view
//! models. Not yet implemented; this crate only reserves its place in the workspace.
