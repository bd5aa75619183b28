//! # sim-shadow
//!
//! Sun position (NREL SPA), shadows, sun hours, daylight standards and solar potential.
//! Pure computation over `twin-core` types: no file or network IO, no bevy.
//!
//! Conventions: the sun direction is a unit vector pointing *towards* the sun in the city's
//! projected frame (x grid east, y grid north, z up); azimuths are degrees clockwise from
//! north; times are UTC inside ([`time::UtcTime`]), local civil time only at the edges.

pub mod bvh;
pub mod error;
pub mod facade;
pub mod horizon;
pub mod sample;
pub mod solar;
pub mod spa;
pub mod standards;
pub mod sun;
pub mod sweep;
pub mod time;

pub use error::{Result, ShadowError};
