//! ESRI ASCII grid (`.asc`) reader and writer.
