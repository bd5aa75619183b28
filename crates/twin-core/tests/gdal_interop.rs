//! Interoperability with GDAL's command line tools: our GeoTIFFs must open in GDAL with the
//! right size, georeference, CRS, nodata and values, and GDAL-written GeoTIFFs (every layout,
//! compression, predictor and byte order) must read back in our reader.
//!
//! Without `gdalinfo` on PATH the tests print "skipped: gdalinfo not installed", unless
//! `TWIN_REQUIRE_GDAL` is set, in which case they fail.

use std::path::Path;
use std::process::Command;
use twin_core::raster::asc::{parse_asc, read_asc, write_asc};
use twin_core::raster::geotiff::{
    AnyRaster, Compression, GeoTiffOptions, Layout, Sample, read_geotiff, write_geotiff,
};
use twin_core::raster::{GridSpec, Raster};

fn have_gdal() -> bool {
    let ok = Command::new("gdalinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("TWIN_REQUIRE_GDAL").is_none(),
            "TWIN_REQUIRE_GDAL is set but gdalinfo is not installed (apt-get install gdal-bin)"
        );
        eprintln!("skipped: gdalinfo not installed");
    }
    ok
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .expect("run GDAL tool");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("ERROR") && !err.contains("Warning"),
        "{cmd} {args:?} complained: {err}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn spec(w: usize, h: usize, epsg: u32) -> GridSpec {
    GridSpec {
        origin_x: 565_000.5,
        origin_y: 5_930_010.0,
        cell_x: 0.5,
        cell_y: 0.5,
        width: w,
        height: h,
        epsg: Some(epsg),
    }
}

fn all_options() -> Vec<GeoTiffOptions> {
    let mut v = Vec::new();
    for compression in [Compression::None, Compression::Lzw, Compression::Deflate] {
        for layout in [
            Layout::Strips { rows_per_strip: 4 },
            Layout::Tiles { size: 16 },
        ] {
            for predictor in [false, true] {
                v.push(GeoTiffOptions {
                    compression,
                    layout,
                    predictor,
                });
            }
        }
    }
    v
}

/// Check a file we wrote with `gdalinfo -json` and its values through `gdal_translate -of
/// AAIGrid`.
fn check_in_gdal<T: Sample>(r: &Raster<T>, tif: &Path, gdal_type: &str, what: &str) {
    let info: serde_json::Value =
        serde_json::from_str(&run("gdalinfo", &["-json", tif.to_str().unwrap()])).unwrap();
    assert_eq!(
        info["size"],
        serde_json::json!([r.width(), r.height()]),
        "{what}"
    );
    let gt: Vec<f64> = serde_json::from_value(info["geoTransform"].clone()).unwrap();
    assert_eq!(gt, r.spec.geotransform().to_vec(), "{what}");
    let wkt = info["coordinateSystem"]["wkt"].as_str().unwrap();
    let code = r.spec.epsg.unwrap();
    assert!(
        wkt.trim_end().ends_with(&format!("ID[\"EPSG\",{code}]]")),
        "{what}: {wkt}"
    );
    let band = &info["bands"][0];
    assert_eq!(band["type"], gdal_type, "{what}");
    let nd = band["noDataValue"].as_f64().unwrap();
    assert_eq!(nd, r.nodata.unwrap().to_f32() as f64, "{what}");
    assert_eq!(
        info["metadata"][""]["AREA_OR_POINT"], "Area",
        "{what}: {}",
        info["metadata"]
    );
    let asc = tif.with_extension("asc");
    run(
        "gdal_translate",
        &[
            "-q",
            "-of",
            "AAIGrid",
            tif.to_str().unwrap(),
            asc.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&asc).unwrap();
    let g = parse_asc(&text, &asc).unwrap();
    let want: Vec<f32> = r.data.iter().map(|v| v.to_f32()).collect();
    assert_eq!(g.data, want, "{what}");
    // The AAIGrid header goes through the lower-left corner: equal up to rounding.
    for (a, b) in g.spec.geotransform().iter().zip(r.spec.geotransform()) {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        );
    }
}

#[test]
fn our_geotiffs_open_in_gdal() {
    if !have_gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (37, 21);
    let f: Vec<f32> = (0..w * h)
        .map(|i| {
            if i % 17 == 3 {
                -9999.0
            } else {
                (i as f32 * 0.37).sin() * 25.0 + 3.1
            }
        })
        .collect();
    let fr = Raster::from_vec(spec(w, h, 25832), f, Some(-9999.0)).unwrap();
    let ir = fr.map(Some(-32768i16), |v| (v * 100.0) as i16);
    for (k, o) in all_options().iter().enumerate() {
        let what = format!("{o:?}");
        let p = dir.path().join(format!("f{k}.tif"));
        write_geotiff(&fr, &p, o).unwrap();
        check_in_gdal(&fr, &p, "Float32", &what);
        let p = dir.path().join(format!("i{k}.tif"));
        write_geotiff(&ir, &p, o).unwrap();
        check_in_gdal(&ir, &p, "Int16", &what);
    }
    // Geographic CRS.
    let geo = Raster::from_vec(
        GridSpec {
            origin_x: 9.9,
            origin_y: 53.55,
            cell_x: 0.01,
            cell_y: 0.01,
            ..spec(4, 3, 4326)
        },
        (0..12u8).collect(),
        Some(255),
    )
    .unwrap();
    let p = dir.path().join("geo.tif");
    write_geotiff(&geo, &p, &GeoTiffOptions::default()).unwrap();
    check_in_gdal(&geo, &p, "Byte", "4326");

    // No CRS and no nodata: GDAL sees the georeference but no CRS.
    let bare = Raster::from_vec(
        GridSpec {
            epsg: None,
            ..spec(3, 2, 0)
        },
        vec![1u16; 6],
        None,
    )
    .unwrap();
    let p = dir.path().join("bare.tif");
    write_geotiff(&bare, &p, &GeoTiffOptions::default()).unwrap();
    let info: serde_json::Value =
        serde_json::from_str(&run("gdalinfo", &["-json", p.to_str().unwrap()])).unwrap();
    assert!(
        info["coordinateSystem"]["wkt"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{info}"
    );
    assert!(info["bands"][0]["noDataValue"].is_null());
    let gt: Vec<f64> = serde_json::from_value(info["geoTransform"].clone()).unwrap();
    assert_eq!(gt, bare.spec.geotransform().to_vec());
}

#[test]
fn gdal_geotiffs_read_back() {
    if !have_gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (45, 38);
    let f: Vec<f32> = (0..w * h)
        .map(|i| {
            if i % 13 == 0 {
                -9999.0
            } else {
                (i as f32 * 0.11).cos() * 40.0 + 7.25
            }
        })
        .collect();
    let fr = Raster::from_vec(spec(w, h, 25832), f, Some(-9999.0)).unwrap();
    let ir = fr.map(Some(-32768i16), |v| (v * 100.0) as i16);
    let fsrc = dir.path().join("fsrc.tif");
    let isrc = dir.path().join("isrc.tif");
    let plain = GeoTiffOptions {
        compression: Compression::None,
        layout: Layout::Strips { rows_per_strip: 1 },
        predictor: false,
    };
    write_geotiff(&fr, &fsrc, &plain).unwrap();
    write_geotiff(&ir, &isrc, &plain).unwrap();
    let mut n = 0;
    for tiled in [false, true] {
        for compress in ["NONE", "LZW", "DEFLATE", "PACKBITS"] {
            for predictor in ["1", "2", "3"] {
                for endian in ["LITTLE", "BIG"] {
                    for bigtiff in ["NO", "YES"] {
                        for (src, float) in [(&fsrc, true), (&isrc, false)] {
                            if predictor == "3" && !float
                                || predictor != "1" && matches!(compress, "NONE" | "PACKBITS")
                            {
                                continue;
                            }
                            let out = dir.path().join(format!("g{n}.tif"));
                            n += 1;
                            let mut args = vec!["-q"];
                            let co = [
                                format!("COMPRESS={compress}"),
                                format!("PREDICTOR={predictor}"),
                                format!("ENDIANNESS={endian}"),
                                format!("BIGTIFF={bigtiff}"),
                            ];
                            for c in &co {
                                args.extend(["-co", c.as_str()]);
                            }
                            if tiled {
                                args.extend(["-co", "TILED=YES", "-co", "BLOCKXSIZE=16"]);
                                args.extend(["-co", "BLOCKYSIZE=32"]);
                            } else {
                                args.extend(["-co", "BLOCKYSIZE=5"]);
                            }
                            args.extend([src.to_str().unwrap(), out.to_str().unwrap()]);
                            run("gdal_translate", &args);
                            let what = format!("{args:?}");
                            let back = read_geotiff(&out).unwrap();
                            if float {
                                assert_eq!(back, AnyRaster::F32(fr.clone()), "{what}");
                            } else {
                                assert_eq!(back, AnyRaster::I16(ir.clone()), "{what}");
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(n, 112);

    // Multi-band pixel- and band-interleaved: band 1 is read.
    for interleave in ["PIXEL", "BAND"] {
        let out = dir.path().join(format!("multi_{interleave}.tif"));
        let co = format!("INTERLEAVE={interleave}");
        run(
            "gdal_translate",
            &[
                "-q",
                "-b",
                "1",
                "-b",
                "1",
                "-b",
                "1",
                "-co",
                &co,
                "-co",
                "COMPRESS=LZW",
                "-co",
                "PREDICTOR=2",
                fsrc.to_str().unwrap(),
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(
            read_geotiff(&out).unwrap(),
            AnyRaster::F32(fr.clone()),
            "{interleave}"
        );
    }

    // PixelIsPoint: GDAL shifts the tie point, the grid must stay the same.
    let out = dir.path().join("point.tif");
    run(
        "gdal_translate",
        &[
            "-q",
            "-mo",
            "AREA_OR_POINT=Point",
            fsrc.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(read_geotiff(&out).unwrap(), AnyRaster::F32(fr.clone()));

    // ASCII grid with .prj written by GDAL, and ours read by GDAL.
    let asc = dir.path().join("gdal.asc");
    run(
        "gdal_translate",
        &[
            "-q",
            "-of",
            "AAIGrid",
            fsrc.to_str().unwrap(),
            asc.to_str().unwrap(),
        ],
    );
    assert_eq!(read_asc(&asc).unwrap(), fr);
    let ours = dir.path().join("ours.asc");
    write_asc(&fr, &ours).unwrap();
    let info: serde_json::Value =
        serde_json::from_str(&run("gdalinfo", &["-json", ours.to_str().unwrap()])).unwrap();
    let wkt = info["coordinateSystem"]["wkt"].as_str().unwrap();
    assert!(wkt.contains("UTM zone 32N"), "{wkt}");
    let gt: Vec<f64> = serde_json::from_value(info["geoTransform"].clone()).unwrap();
    assert_eq!(gt, fr.spec.geotransform().to_vec());
}
