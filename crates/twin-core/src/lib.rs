//! # twin-core
//!
//! The shared foundation of urban-twin: the city model ([`model`]), georeferenced rasters
//! ([`raster`]), coordinate reference systems ([`crs`]), geometry helpers ([`geom`]),
//! importers ([`import`]), exporters ([`export`]), derived layers ([`derive`]), result maps
//! as PNG ([`render`]), the generated demo city ([`demo`]) and the scenario schema
//! ([`scenario`]).

pub mod crs;
pub mod demo;
pub mod derive;
pub mod error;
pub mod export;
pub mod fsio;
pub mod geom;
pub mod import;
pub mod model;
pub mod raster;
pub mod render;
pub mod scenario;
pub mod summary;
pub mod timeseries;

pub use error::{Error, Result};
pub use model::City;
