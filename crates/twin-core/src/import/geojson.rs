//! geojson importer (in progress).
