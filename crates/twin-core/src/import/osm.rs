//! osm importer (in progress).
