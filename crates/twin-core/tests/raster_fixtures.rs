//! Reads the GDAL-made GeoTIFF fixtures in `tests/data` (see its README) without GDAL.

use std::path::{Path, PathBuf};
use twin_core::raster::asc::read_asc;
use twin_core::raster::geotiff::{AnyRaster, read_geotiff};
use twin_core::raster::read_raster;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn source_grid_reads() {
    let src = read_asc(&data("grid7x5.asc")).unwrap();
    assert_eq!((src.width(), src.height()), (7, 5));
    assert_eq!(
        src.spec.geotransform(),
        [565000.0, 2.0, 0.0, 5930000.0, 0.0, -2.0]
    );
    assert_eq!(src.get(0, 0), 12.5);
    assert_eq!(src.get(3, 2), -9999.0);
    assert_eq!(src.nodata, Some(-9999.0));
    assert_eq!(src.spec.epsg, None);
}

#[test]
fn float32_tiled_lzw_predictor3_big_endian() {
    let src = read_asc(&data("grid7x5.asc")).unwrap();
    let AnyRaster::F32(r) = read_geotiff(&data("f32_tiled_lzw_pred3_be.tif")).unwrap() else {
        panic!("expected f32");
    };
    assert_eq!(r.data, src.data);
    assert_eq!(r.nodata, Some(-9999.0));
    assert_eq!(
        r.spec,
        twin_core::raster::GridSpec {
            epsg: Some(25832),
            ..src.spec
        }
    );
    // The same through the extension dispatcher.
    assert_eq!(read_raster(&data("f32_tiled_lzw_pred3_be.tif")).unwrap(), r);
}

#[test]
fn int16_strips_deflate_predictor2() {
    let src = read_asc(&data("grid7x5.asc")).unwrap();
    let AnyRaster::I16(r) = read_geotiff(&data("i16_strips_deflate_pred2.tif")).unwrap() else {
        panic!("expected i16");
    };
    // GDAL rounds to the nearest integer, halves away from zero.
    let want: Vec<i16> = src.data.iter().map(|v| v.round() as i16).collect();
    assert_eq!(r.data, want);
    assert_eq!(r.data[..3], [13, 46, 49]);
    assert_eq!(r.nodata, Some(-9999));
    assert_eq!(r.spec.epsg, Some(25832));
    assert_eq!(r.spec.geotransform(), src.spec.geotransform());
}

#[test]
fn float64_bigtiff_packbits_geographic() {
    let src = read_asc(&data("grid7x5.asc")).unwrap();
    let AnyRaster::F64(r) = read_geotiff(&data("f64_bigtiff_packbits_4326.tif")).unwrap() else {
        panic!("expected f64");
    };
    let want: Vec<f64> = src.data.iter().map(|&v| v as f64).collect();
    assert_eq!(r.data, want);
    assert_eq!(r.spec.epsg, Some(4326));
    assert!((r.spec.origin_x - 9.9).abs() < 1e-12 && (r.spec.origin_y - 53.55).abs() < 1e-12);
    assert!((r.spec.cell_x - 0.01).abs() < 1e-12 && (r.spec.cell_y - 0.01).abs() < 1e-12);
}

#[test]
fn read_raster_rejects_unknown_extension() {
    let e = read_raster(Path::new("x.png")).unwrap_err().to_string();
    assert!(e.contains("unknown raster format"), "{e}");
    assert!(read_raster(&data("GRID7X5.ASC")).is_err()); // case-insensitive, but missing file
    assert!(read_raster(&data("missing.TIF")).is_err());
}
