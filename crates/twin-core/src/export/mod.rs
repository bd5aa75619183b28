//! Exporters: glTF binary (`.glb`) and GeoJSON. Rasters are written by [`crate::raster`].

pub mod geojson;
pub mod gltf;
