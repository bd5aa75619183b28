//! End-to-end flood runs of the `twin` binary: a storm surge with a breach and a heavy-rain
//! event on small demo cities, a DEM-only scenario, thread-count determinism of the written
//! results, and the bad-input suite of the `[flood]` section.

mod common;

use common::{assert_same_files, fails_cleanly as fails, json, ok, ok_env, s};
use std::path::{Path, PathBuf};
use std::process::Command;
use twin_core::raster::read_raster;

/// The middle of the low dike section of a generated demo city.
fn low_dike_middle(size_m: f64) -> [f64; 2] {
    let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
        seed: 1,
        size_m,
        cell_m: 2.0,
    })
    .unwrap();
    let b = city.barriers.iter().find(|b| b.id == "dike-low-1").unwrap();
    b.line[b.line.len() / 2]
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn surge_toml(size_m: f64, extra: &str) -> String {
    let [bx, by] = low_dike_middle(size_m);
    format!(
        r#"
[scenario]
name = "surge-small"
[city.demo]
size_m = {size_m}
cell_m = 2.0
[flood]
cell_m = 4.0
duration_s = 7200.0
output_interval_s = 1800.0
start_time = "2026-12-06T12:00:00+01:00"
[[flood.water_level]]
id = "elbe"
landcover_ids = ["water-river"]
extend_to_barriers = true
storm_tide = {{ peak_z = 8.1, peak_s = 3600.0, end_s = 7200.0, surge_duration_s = 7200.0, step_s = 120.0 }}
[[flood.breach]]
barrier = "dike-low-1"
at = [{bx}, {by}]
width_m = 20.0
bottom_z = 2.0
start_s = 2400.0
duration_s = 600.0
cross_m = 12.0
[[flood.gauge]]
id = "behind-breach"
at = [{bx}, {gy}]
[outputs]
glb = false
geojson = false
preview_png = false
dem = "none"
{extra}
"#,
        gy = by - 40.0
    )
}

#[test]
fn storm_surge_with_breach_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "surge.toml", &surge_toml(600.0, ""));
    let out = dir.path().join("res");
    let stdout = ok(&["run", s(&sc), "--out", s(&out)]);
    assert!(stdout.contains("flood:"), "{stdout}");
    for f in [
        "max_depth.tif",
        "max_wse.tif",
        "max_speed.tif",
        "arrival_time.tif",
        "duration.tif",
        "hazard.tif",
        "hazard_class.tif",
        "cell_kind.tif",
        "gauges.csv",
        "mass_balance.json",
        "flood_buildings.csv",
        "max_depth.png",
        "arrival_time.png",
        "hazard.png",
        "snapshots/index.json",
        "snapshots/depth_000000.tif",
        "snapshots/depth_007200.tif",
        "summary.json",
    ] {
        let p = out.join(f);
        assert!(
            p.is_file() && std::fs::metadata(&p).unwrap().len() > 0,
            "missing {f}"
        );
    }
    let png = std::fs::read(out.join("max_depth.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let summary = json(&out.join("summary.json"));
    let f = &summary["flood"];
    assert_eq!(f["grid"]["cell_m"], 4.0);
    assert!(f["flooded_area_m2"].as_f64().unwrap() > 10_000.0, "{f}");
    assert!(f["flooded_buildings"].as_u64().unwrap() > 0);
    let mass = json(&out.join("mass_balance.json"));
    let rel = mass["total"]["relative_error"].as_f64().unwrap();
    assert!(rel < 1e-10, "mass error {rel}");
    assert!(mass["total"]["boundary_in_m3"].as_f64().unwrap() > 1000.0);
    assert_eq!(mass["series"].as_array().unwrap().len(), 5);

    // The polder behind the breach is flooded, after the breach started.
    let depth = read_raster(&out.join("max_depth.tif")).unwrap();
    assert_eq!(depth.spec.epsg, Some(25832));
    let arrival = read_raster(&out.join("arrival_time.tif")).unwrap();
    let [bx, by] = low_dike_middle(600.0);
    let (i, j) = depth.spec.cell_at(bx, by - 40.0).unwrap();
    // The open cells around that point (it may lie on a building, NaN there).
    let (mut dmax, mut amin) = (f32::NEG_INFINITY, f32::INFINITY);
    for jj in j - 2..=j + 2 {
        for ii in i - 2..=i + 2 {
            if depth.get(ii, jj).is_finite() {
                dmax = dmax.max(depth.get(ii, jj));
                amin = amin.min(arrival.get(ii, jj));
            }
        }
    }
    assert!(dmax > 1.0, "depth behind the breach {dmax}");
    assert!(amin > 2000.0 && amin.is_finite(), "arrival {amin}");
    let peak = f["gauges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "behind-breach")
        .unwrap();
    assert!(peak["max_depth_m"].as_f64().unwrap() > 1.0, "{peak}");

    // Gauges: header, rows sorted by time then id, wall-clock times from start_time.
    let csv = std::fs::read_to_string(out.join("gauges.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time_s,time,gauge,depth_m,wse_m,speed_m_s")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert!(rows.len() >= 2 * 121, "{} rows", rows.len());
    assert_eq!(rows[0][1], "2026-12-06T12:00:00+01:00");
    let keys: Vec<(f64, String)> = rows
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[2].clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    assert_eq!(keys, sorted);
    let behind: Vec<f64> = rows
        .iter()
        .filter(|r| r[2] == "behind-breach")
        .map(|r| r[3].parse().unwrap())
        .collect();
    assert_eq!(behind[0], 0.0);
    assert!(behind.iter().cloned().fold(0.0, f64::max) > 1.0);

    let index = json(&out.join("snapshots/index.json"));
    let snaps = index["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 5);
    assert_eq!(snaps[4]["time"], "2026-12-06T14:00:00+01:00");

    // GDAL reads the results with their CRS.
    if let Ok(o) = Command::new("gdalinfo")
        .args(["-json", s(&out.join("max_depth.tif"))])
        .output()
    {
        assert!(o.status.success());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            v["coordinateSystem"]["wkt"]
                .as_str()
                .unwrap()
                .contains("25832")
        );
    } else {
        assert!(
            std::env::var_os("TWIN_REQUIRE_GDAL").is_none(),
            "TWIN_REQUIRE_GDAL is set but gdalinfo is missing"
        );
    }
}

#[test]
fn flood_results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "surge.toml", &surge_toml(400.0, ""));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok_env(
        &["run", s(&sc), "--out", s(&a)],
        &[("RAYON_NUM_THREADS", "1")],
    );
    ok_env(
        &["run", s(&sc), "--out", s(&b)],
        &[("RAYON_NUM_THREADS", "2")],
    );
    assert_same_files(
        &a,
        &b,
        &[
            "max_depth.tif",
            "arrival_time.tif",
            "max_speed.tif",
            "hazard.tif",
            "gauges.csv",
            "snapshots/depth_003600.tif",
            "flood_buildings.csv",
            "max_depth.png",
        ],
        " between 1 and 2 threads",
    );
}

#[test]
fn heavy_rain_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "rain.toml",
        r#"
[scenario]
name = "rain-small"
[city.demo]
size_m = 400.0
cell_m = 2.0
[flood]
cell_m = 2.0
duration_s = 1800.0
output_interval_s = 600.0
[[flood.rain]]
series_mm_h = [[0.0, 60.0], [1200.0, 0.0]]
[[flood.losses]]
landcover_kinds = ["road", "residential", "commercial", "industrial", "paved"]
sewer_mm_h = 15.0
[[flood.losses]]
landcover_kinds = ["grass", "park"]
green_ampt = { ks_mm_h = 5.0, suction_mm = 200.0, moisture_deficit = 0.25 }
[[flood.water_level]]
landcover_ids = ["water-river"]
extend_to_barriers = true
series_m = [[0.0, 1.0]]
[outputs]
glb = false
geojson = false
preview_png = false
"#,
    );
    let out = dir.path().join("res");
    ok(&["run", s(&sc), "--out", s(&out)]);
    let m = &json(&out.join("mass_balance.json"))["total"];
    let rain = m["rain_m3"].as_f64().unwrap();
    assert!(rain > 1000.0, "{m}");
    assert!(m["sewer_m3"].as_f64().unwrap() > 0.1 * rain);
    assert!(m["infiltration_m3"].as_f64().unwrap() > 0.0);
    assert!(m["relative_error"].as_f64().unwrap() < 1e-10);
    // No gauges asked for (the city's river gauge is not on this small city's grid).
    let summary = json(&out.join("summary.json"));
    assert!(summary["flood"]["max_depth_m"].as_f64().unwrap() > 0.01);
}

/// A tilted plane with a pit, as an ESRI ASCII grid.
fn write_dem(dir: &Path, name: &str, nodata_all: bool) -> PathBuf {
    let (nx, ny, cell) = (60, 40, 2.0);
    let mut t = format!(
        "ncols {nx}\nnrows {ny}\nxllcorner 565000\nyllcorner 5927000\ncellsize {cell}\nNODATA_value -9999\n"
    );
    for j in 0..ny {
        let row: Vec<String> = (0..nx)
            .map(|i| {
                if nodata_all {
                    return "-9999".to_string();
                }
                let (x, y) = (i as f64 - 30.0, j as f64 - 20.0);
                format!(
                    "{:.3}",
                    3.0 + 0.02 * i as f64 - 1.5 * (-(x * x + y * y) / 40.0).exp()
                )
            })
            .collect();
        t.push_str(&row.join(" "));
        t.push('\n');
    }
    let p = dir.join(name);
    std::fs::write(&p, t).unwrap();
    std::fs::write(
        p.with_extension("prj"),
        "PROJCS[\"ETRS89 / UTM zone 32N\",AUTHORITY[\"EPSG\",\"25832\"]]",
    )
    .unwrap();
    p
}

#[test]
fn dem_only_scenario() {
    let dir = tempfile::tempdir().unwrap();
    write_dem(dir.path(), "dgm.asc", false);
    let sc = write(
        dir.path(),
        "dem.toml",
        r#"
[scenario]
name = "dem-only"
[flood]
dem = "dgm.asc"
duration_s = 1200.0
output_interval_s = 600.0
edges = { west = "open" }
[[flood.rain]]
series_mm_h = [[0.0, 100.0], [600.0, 0.0]]
[[flood.gauge]]
id = "pit"
at = [565061.0, 5927041.0]
"#,
    );
    let out = dir.path().join("res");
    ok(&["run", s(&sc), "--out", s(&out)]);
    let m = &json(&out.join("mass_balance.json"))["total"];
    // 100 mm/h for 10 min on 120 x 80 m.
    assert!(
        (m["rain_m3"].as_f64().unwrap() - 0.1 / 6.0 * 9600.0).abs() < 1e-6,
        "{m}"
    );
    assert!(m["edge_out_m3"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(out.join("gauges.csv")).unwrap();
    let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    assert!(
        last[2].parse::<f64>().unwrap() > 0.05,
        "water in the pit: {csv}"
    );
    assert!(out.join("dem.tif").is_file());
}

#[test]
fn bad_flood_input_fails_clearly_and_keeps_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    // A good run first.
    let good = write(dir.path(), "good.toml", &surge_toml(400.0, ""));
    ok(&["run", s(&good), "--out", s(&out)]);
    let before = std::fs::read(out.join("max_depth.tif")).unwrap();

    let bad_breach =
        surge_toml(400.0, "").replace("barrier = \"dike-low-1\"", "barrier = \"dike-9\"");
    let p = write(dir.path(), "b1.toml", &bad_breach);
    fails(
        &["run", s(&p), "--out", s(&out)],
        &["b1.toml", "flood.breach[0].barrier", "dike-9"],
    );

    let bad_zone = surge_toml(400.0, "").replace("[\"water-river\"]", "[\"water-rhine\"]");
    let p = write(dir.path(), "b2.toml", &bad_zone);
    fails(
        &["run", s(&p), "--out", s(&out)],
        &["b2.toml", "flood.water_level[0]", "water-rhine"],
    );

    let bad_gauge = surge_toml(400.0, "").replace(
        "id = \"behind-breach\"\nat = [",
        "id = \"far\"\nat = [1.0e6, ",
    );
    let bad_gauge = bad_gauge.replacen("at = [1.0e6, ", "at = [1.0e6, 0.0] #", 1);
    let p = write(dir.path(), "b3.toml", &bad_gauge);
    fails(
        &["run", s(&p), "--out", s(&out)],
        &["b3.toml", "gauge `far`", "outside"],
    );

    write_dem(dir.path(), "nodata.asc", true);
    let p = write(
        dir.path(),
        "b4.toml",
        "[scenario]\nname = \"x\"\n[flood]\ndem = \"nodata.asc\"\nduration_s = 60.0\n",
    );
    fails(
        &["run", s(&p), "--out", s(&out)],
        &["b4.toml", "no cell has an elevation"],
    );

    // A DEM in another CRS than the city.
    write_dem(dir.path(), "dgm.asc", false);
    std::fs::write(
        dir.path().join("dgm.prj"),
        "PROJCS[\"ETRS89 / UTM zone 33N\",AUTHORITY[\"EPSG\",\"25833\"]]",
    )
    .unwrap();
    let p = write(
        dir.path(),
        "b5.toml",
        "[scenario]\nname = \"x\"\n[city.demo]\nsize_m = 400.0\n[flood]\ndem = \"dgm.asc\"\nduration_s = 60.0\n",
    );
    fails(
        &["run", s(&p), "--out", s(&out)],
        &["dgm.asc", "EPSG:25833", "EPSG:25832"],
    );

    // An initial depth on another grid.
    write_dem(dir.path(), "h0.asc", false);
    let p = write(
        dir.path(),
        "b6.toml",
        "[scenario]\nname = \"x\"\n[city.demo]\nsize_m = 400.0\n[flood]\ncell_m = 4.0\ninitial_depth = \"h0.asc\"\nduration_s = 60.0\n",
    );
    fails(&["run", s(&p), "--out", s(&out)], &["h0.asc", "flood grid"]);

    // The earlier results are untouched.
    assert_eq!(std::fs::read(out.join("max_depth.tif")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
}
