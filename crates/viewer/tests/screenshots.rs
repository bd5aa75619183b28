//! End-to-end runs of `twin-view`: offscreen screenshots of the demo city (software Vulkan
//! here and in CI: Mesa's lavapipe) compared with golden images under a tolerance, and the
//! command line's bad-input errors.
//!
//! Regenerate the goldens with `UPDATE_GOLDEN=1 cargo test -p viewer --test screenshots`.
//! Without a renderer the screenshot tests are skipped, unless `TWIN_REQUIRE_RENDER=1`
//! (set by `.ci/run`) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use viewer::image::{diff, read_png_rgb};

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_twin-view")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A small scenario: a 600 m demo district with a two-hour surge through a dike breach,
/// and a 40 m tower replacing a building with its sun study (variant and baseline).
fn scenario_text() -> String {
    let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
        seed: 1,
        size_m: 600.0,
        cell_m: 2.0,
    })
    .unwrap();
    let b = city.barriers.iter().find(|b| b.id == "dike-low-1").unwrap();
    let [bx, by] = b.line[b.line.len() / 2];
    // The tallest residential building north of the river gets replaced.
    let target = city
        .buildings
        .iter()
        .filter(|b| b.usage == twin_core::model::BuildingUse::Residential)
        .max_by(|a, b| a.height_m().partial_cmp(&b.height_m()).unwrap())
        .unwrap();
    let c = target.footprint[0].centroid();
    format!(
        r#"
[scenario]
name = "viewer-small"
description = "600 m demo district: surge with a breach, and a tower"
[city.demo]
size_m = 600.0
cell_m = 2.0
[[remove_buildings]]
ids = ["{id}"]
[[add_building]]
id = "TOWER_40"
footprint = [[{x0}, {y0}], [{x1}, {y0}], [{x1}, {y1}], [{x0}, {y1}]]
height_m = 40.0
usage = "residential"
roof_type = "flat"
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
[shadow]
timezone = "Europe/Berlin"
cell_m = 2.0
step_min = 10.0
days = ["2026-03-21"]
[outputs]
glb = false
geojson = false
preview_png = false
dem = "none"
"#,
        id = target.id,
        x0 = c[0] - 12.0,
        x1 = c[0] + 12.0,
        y0 = c[1] - 10.0,
        y1 = c[1] + 10.0,
        gy = by - 40.0
    )
}

/// The scenario and its results, run once for all tests.
fn results() -> &'static (PathBuf, PathBuf) {
    static R: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    R.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("twin-view-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sc = dir.join("viewer-small.toml");
        std::fs::write(&sc, scenario_text()).unwrap();
        let s = twin_core::scenario::load(&sc).unwrap();
        let out = dir.join("res");
        urban_twin::run_scenario(&s, &out, &mut |_| {}).unwrap();
        (sc, out)
    })
}

/// Run the viewer; `Err(stderr)` on failure.
fn view(args: &[&str]) -> Result<String, String> {
    let out = Command::new(exe()).args(args).output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Whether the failure is the lack of a renderer (then the test is skipped unless
/// `TWIN_REQUIRE_RENDER=1`).
fn no_renderer(stderr: &str) -> bool {
    let s = stderr.to_lowercase();
    let missing = s.contains("unable to find a gpu")
        || s.contains("no suitable adapter")
        || s.contains("adapter");
    if missing && std::env::var("TWIN_REQUIRE_RENDER").is_ok_and(|v| v == "1") {
        panic!("no renderer, but TWIN_REQUIRE_RENDER=1 (install mesa-vulkan-drivers):\n{stderr}");
    }
    missing
}

/// Render, then compare with the golden image (or write it with `UPDATE_GOLDEN=1`).
fn check_golden(name: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join(format!("{name}.png"));
    let mut all: Vec<&str> = args.to_vec();
    let p = png.to_str().unwrap();
    all.extend_from_slice(&["--screenshot", p, "--size", "480x300"]);
    match view(&all) {
        Ok(_) => {}
        Err(e) if no_renderer(&e) => {
            eprintln!("skipped {name}: no renderer\n{e}");
            return;
        }
        Err(e) => panic!("twin-view failed for {name}:\n{e}"),
    }
    let got = read_png_rgb(&png).unwrap();
    assert_eq!((got.w, got.h), (480, 300));
    let golden = golden_dir().join(format!("{name}.png"));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") || !golden.exists() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::copy(&png, &golden).unwrap();
        if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
            return;
        }
        panic!(
            "no golden image {}: written now; check it and commit it",
            golden.display()
        );
    }
    let want = read_png_rgb(&golden).unwrap();
    let d = diff(&got, &want, 48).expect("same size");
    // Keep the failing image for a look.
    let keep = std::env::temp_dir().join(format!("twin-view-{name}-actual.png"));
    if d.mean_abs > 2.5 || d.share_over > 0.01 {
        std::fs::copy(&png, &keep).unwrap();
        panic!(
            "{name}: differs from {} (mean |Δ| {:.2}, {:.2} % of pixels over 48, max {}); actual in {}",
            golden.display(),
            d.mean_abs,
            d.share_over * 100.0,
            d.max_abs,
            keep.display()
        );
    }
    eprintln!(
        "{name}: mean |Δ| {:.3}, {:.3} % over 48",
        d.mean_abs,
        d.share_over * 100.0
    );
}

/// The centre of the tower's footprint.
fn tower() -> [f64; 2] {
    static T: OnceLock<[f64; 2]> = OnceLock::new();
    *T.get_or_init(|| {
        let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
            seed: 1,
            size_m: 600.0,
            cell_m: 2.0,
        })
        .unwrap();
        let target = city
            .buildings
            .iter()
            .filter(|b| b.usage == twin_core::model::BuildingUse::Residential)
            .max_by(|a, b| a.height_m().partial_cmp(&b.height_m()).unwrap())
            .unwrap();
        target.footprint[0].centroid()
    })
}

/// A camera over the test district's centre.
fn camera(yaw_deg: f64, pitch_deg: f64, distance_m: f64) -> String {
    static C: OnceLock<[f64; 2]> = OnceLock::new();
    let c = C.get_or_init(|| {
        let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
            seed: 1,
            size_m: 600.0,
            cell_m: 2.0,
        })
        .unwrap();
        let b = city.terrain.dem.as_ref().unwrap().spec.bbox();
        [0.5 * (b.min[0] + b.max[0]), 0.5 * (b.min[1] + b.max[1])]
    });
    format!("{},{},0,{yaw_deg},{pitch_deg},{distance_m}", c[0], c[1])
}

#[test]
fn screenshot_city_in_the_afternoon_sun() {
    let (sc, _) = results();
    let sc = sc.to_str().unwrap();
    // A scenario file whose results folder (out/viewer-small) is not there: the city.
    check_golden(
        "city_sun",
        &[
            sc,
            "--time",
            "2026-03-21T16:00:00+01:00",
            "--camera",
            &camera(20.0, 40.0, 700.0),
        ],
    );
}

#[test]
fn screenshot_flood_at_its_peak() {
    let (_, res) = results();
    check_golden(
        "flood_peak",
        &[
            res.to_str().unwrap(),
            "--time",
            "2026-12-06T13:30:00+01:00",
            "--camera",
            &camera(200.0, 35.0, 700.0),
            "--buildings",
            "flood",
        ],
    );
}

#[test]
fn screenshot_max_depth_layer_with_legend() {
    let (_, res) = results();
    check_golden(
        "max_depth",
        &[
            res.to_str().unwrap(),
            "--layer",
            "max_depth",
            "--camera",
            &camera(0.0, 89.0, 900.0),
            "--no-shadows",
        ],
    );
}

#[test]
fn screenshot_sun_hours_difference() {
    let (_, res) = results();
    check_golden(
        "sun_hours_difference",
        &[
            res.to_str().unwrap(),
            "--layer",
            "sun_hours_2026-03-21",
            "--variant",
            "difference",
            "--camera",
            // Over the tower, the lost sun to its north in the upper half of the image.
            &format!("{},{},0,0,89,420", tower()[0], tower()[1] + 60.0),
            "--no-shadows",
        ],
    );
}

#[test]
fn bad_input_is_named_before_any_window() {
    let (sc, res) = results();
    let res = res.to_str().unwrap();
    let sc = sc.to_str().unwrap();
    let e = view(&["/nonexistent/scenario.toml"]).unwrap_err();
    assert!(e.contains("/nonexistent/scenario.toml"), "{e}");
    let e = view(&[res, "--layer", "nope", "--screenshot", "/tmp/x.png"]).unwrap_err();
    assert!(e.contains("--layer") && e.contains("max_depth"), "{e}");
    let e = view(&[res, "--camera", "1,2,3", "--screenshot", "/tmp/x.png"]).unwrap_err();
    assert!(e.contains("--camera"), "{e}");
    let e = view(&[res, "--time", "noon", "--screenshot", "/tmp/x.png"]).unwrap_err();
    assert!(e.contains("--time"), "{e}");
    let e = view(&[
        res,
        "--time",
        "2030-01-01T00:00:00Z",
        "--screenshot",
        "/tmp/x.png",
    ])
    .unwrap_err();
    assert!(e.contains("2030"), "{e}");
    let e = view(&[res, "--size", "0x10", "--screenshot", "/tmp/x.png"]).unwrap_err();
    assert!(e.contains("size"), "{e}");
    let e = view(&[sc, "--variant", "sideways"]).unwrap_err();
    assert!(e.contains("--variant"), "{e}");
    // No display for a window: a clear message, not a crash.
    let out = Command::new(exe())
        .arg(sc)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains("--screenshot") && !e.contains("panicked"),
        "{e}"
    );
    let e = view(&[sc, "--variant", "sideways"]).unwrap_err();
    assert!(e.contains("--variant"), "{e}");
    let e = view(&[
        res,
        "--results",
        "/nonexistent/res",
        "--screenshot",
        "/tmp/x.png",
    ])
    .unwrap_err();
    assert!(e.contains("nonexistent"), "{e}");
    // A screenshot that cannot be written leaves nothing behind and says where.
    let dir = tempfile::tempdir().unwrap();
    let bad = std::fs::read_to_string(sc)
        .unwrap()
        .replace("size_m = 600.0", "size_m = -5.0");
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, bad).unwrap();
    let e = view(&[p.to_str().unwrap(), "--screenshot", "/tmp/x.png"]).unwrap_err();
    assert!(e.contains("bad.toml"), "{e}");
}
