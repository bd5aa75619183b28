//! # sim-shadow
//!
//! Sun position (NREL SPA), shadows, sun hours, daylight standards and solar potential
//! (issue 4). Pure computation over `twin-core` types: no file or network IO, no bevy. Not yet
//! implemented; this crate only reserves its place in the workspace.
