//! GeoTIFF reader and writer.
