//! # viewer
//!
//! The 3D viewer of urban-twin for planners, participation tables and crisis staff.
//!
//! The crate has two layers:
//! - **view models** in plain Rust, unit-tested without rendering: what is shown and how
//!   ([`dataset`], [`scene`] geometry, [`layers`] colour scales and legends, [`timeline`],
//!   [`sunclock`], [`camera`], [`gestures`], [`picking`], [`situation`], [`comments`],
//!   [`results`]);
//! - the **bevy app** (`app`, feature `gui`, the binary `twin-view`), a thin layer that
//!   uploads the view models' arrays and draws the panels. `twin view` runs it.
//!
//! This is the only crate of the workspace that depends on bevy.

pub mod camera;
pub mod comments;
pub mod dataset;
pub mod error;
pub mod gestures;
pub mod image;
pub mod layers;
pub mod legend;
pub mod picking;
pub mod results;
pub mod scene;
pub mod situation;
pub mod sunclock;
pub mod timeline;
pub mod view;

#[cfg(feature = "gui")]
pub mod app;

pub use dataset::Dataset;
pub use error::{Result, ViewError};
