//! End-to-end runs of `twin sun` and of `[shadow]` scenarios.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn sun_prints_the_spa_example() {
    let out = ok(&[
        "sun",
        "--time",
        "2003-10-17T12:30:30-07:00",
        "--lat",
        "39.742476",
        "--lon",
        "-105.1786",
        "--elevation-m",
        "1830.14",
        "--pressure-hpa",
        "820",
        "--temperature-c",
        "11",
        "--delta-t-s",
        "67",
        "--slope-deg",
        "30",
        "--surface-azimuth-deg",
        "170",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = |k: &str| v[k].as_f64().unwrap();
    assert!((f("zenith_deg") - 50.11162).abs() < 5e-6, "{out}");
    assert!((f("azimuth_deg") - 194.34024).abs() < 5e-6, "{out}");
    assert!((f("incidence_deg") - 25.187).abs() < 5e-6, "{out}");
    assert!((f("elevation_deg") - (90.0 - 50.11162)).abs() < 5e-6);
    assert_eq!(v["time"], "2003-10-17T12:30:30-07:00");
    assert_eq!(v["time_utc"], "2003-10-17T19:30:30Z");
    // The paper's sunrise, transit and sunset (local time, printed truncated to the second
    // there; rounded here: the transit is at 11:46:04.97).
    assert_eq!(v["sunrise"], "2003-10-17T06:12:43-07:00", "{out}");
    assert_eq!(v["transit"], "2003-10-17T11:46:05-07:00", "{out}");
    assert_eq!(v["sunset"], "2003-10-17T17:20:19-07:00", "{out}");
}

#[test]
fn sun_reads_local_times_in_a_time_zone() {
    // 15:00 in Hamburg on 21 March is 14:00 UTC; in July it is 13:00 UTC (summer time).
    for (local, utc) in [
        ("2026-03-21T15:00", "2026-03-21T14:00:00Z"),
        ("2026-07-01 15:00:00", "2026-07-01T13:00:00Z"),
    ] {
        let out = ok(&[
            "sun",
            "--time",
            local,
            "--timezone",
            "Europe/Berlin",
            "--lat",
            "53.55",
            "--lon",
            "9.99",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["time_utc"], utc, "{out}");
    }
    // A local time in the spring-forward gap does not exist.
    fails_cleanly(
        &[
            "sun",
            "--time",
            "2026-03-29T02:30",
            "--timezone",
            "Europe/Berlin",
            "--lat",
            "53.55",
            "--lon",
            "9.99",
        ],
        &["2026-03-29"],
    );
    fails_cleanly(
        &[
            "sun",
            "--time",
            "2026-03-21T15:00Z",
            "--lat",
            "95",
            "--lon",
            "9.99",
        ],
        &["latitude"],
    );
}

#[test]
fn sun_csv_adds_the_columns_and_rejects_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        "time,lat,lon,elevation_m,pressure_hpa,temperature_c,delta_t_s\n\
         2003-10-17T12:30:30-07:00,39.742476,-105.1786,1830.14,820,11,67\n\
         2026-03-21T12:00:00+01:00,53.55,9.99,,,,\n\
         2026-06-21T12:00:00Z,53.55,9.99,10,1013.25,12,69\n",
    );
    let output = dir.path().join("out.csv");
    ok(&["sun", "--input", s(&input), "--output", s(&output)]);
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].ends_with(",zenith_deg,azimuth_deg,elevation_deg"));
    let first: Vec<&str> = lines[1].split(',').collect();
    let z: f64 = first[7].parse().unwrap();
    let a: f64 = first[8].parse().unwrap();
    assert!(
        (z - 50.11162).abs() < 5e-6 && (a - 194.34024).abs() < 5e-6,
        "{}",
        lines[1]
    );
    // The same rows as the one-time form.
    let one = ok(&[
        "sun",
        "--time",
        "2026-06-21T12:00:00Z",
        "--lat",
        "53.55",
        "--lon",
        "9.99",
        "--elevation-m",
        "10",
        "--delta-t-s",
        "69",
    ]);
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    let last: Vec<&str> = lines[3].split(',').collect();
    assert!((last[7].parse::<f64>().unwrap() - v["zenith_deg"].as_f64().unwrap()).abs() < 1e-6);

    // Bad rows name the file and the line; the old output stays as it was.
    let bad = write(
        dir.path(),
        "bad.csv",
        "time,lat,lon\n2026-03-21T12:00:00Z,53.55,9.99\n2026-03-21T12:00:00Z,north,9.99\n",
    );
    fails_cleanly(
        &["sun", "--input", s(&bad), "--output", s(&output)],
        &["bad.csv", "line 3", "lat"],
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), text);
    let nohead = write(dir.path(), "nohead.csv", "when,where\n1,2\n");
    fails_cleanly(
        &["sun", "--input", s(&nohead), "--output", s(&output)],
        &["nohead.csv", "time, lat and lon"],
    );
}

/// A small demo city with a 60 m tower replacing an industrial hall.
fn tower_toml(extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "shadow-test"

[city.demo]
seed = 1
size_m = 600.0

[[remove_buildings]]
ids = ["DEMO_000020"]

[[add_building]]
id = "TOWER"
footprint = [[565250.0, 5927375.0], [565280.0, 5927375.0], [565280.0, 5927400.0], [565250.0, 5927400.0]]
height_m = 60.0
usage = "residential"

[outputs]
glb = false
geojson = false
preview_png = false

[shadow]
timezone = "Europe/Berlin"
cell_m = 2.0
bbox = [565100.0, 5927300.0, 565450.0, 5927600.0]
step_min = 5.0
days = ["2026-03-21"]
times = ["2026-03-21T15:00"]
{extra}
"#
    )
}

#[test]
fn shadow_study_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "s.toml",
        &tower_toml(
            r#"
[shadow.windows]
storey_m = 3.0
spacing_m = 6.0

[shadow.facades]
spacing_m = 4.0

[shadow.solar]
day_step = 30
step_min = 60.0
sectors = 16
"#,
        ),
    );
    let out = dir.path().join("out");
    let text = ok(&["run", s(&sc), "--out", s(&out)]);
    assert!(text.contains("sun hours 2026-03-21"), "{text}");
    for f in [
        "sun_hours_2026-03-21.tif",
        "sun_hours_2026-03-21.png",
        "sun_hours_base_2026-03-21.tif",
        "sun_hours_delta_2026-03-21.tif",
        "sun_hours_delta_2026-03-21.png",
        "shadow_2026-03-21T1500.tif",
        "shadow_2026-03-21T1500.png",
        "shadow_base_2026-03-21T1500.tif",
        "facade_points.csv",
        "windows.csv",
        "windows.geojson",
        "windows_changed.csv",
        "daylight_buildings.csv",
        "solar_kwh.tif",
        "solar_kwh.png",
        "solar_roofs.csv",
        "solar_buildings.csv",
        "summary.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing:\n{text}");
    }
    let sum = json(&out.join("summary.json"));
    let sh = &sum["shadow"];
    assert_eq!(sh["compared"], true);
    let day = &sh["days"][0];
    // Open ground at 53.5 N on 21 March: about 12 h 11 min of sun above the horizon.
    let possible = day["possible_h"].as_f64().unwrap();
    assert!((possible - 12.2).abs() < 0.15, "{possible}");
    // The tower takes sun from its neighbours, and the removed hall gives a little back.
    let ch = &day["change"];
    assert!(ch["area_losing_1h_m2"].as_f64().unwrap() > 1000.0, "{ch}");
    assert!(ch["mean_change_h"].as_f64().unwrap() < 0.0, "{ch}");
    // The shadow at 3 pm: the new shadow lies north-east of the tower.
    let delta =
        twin_core::raster::read_raster(&out.join("sun_hours_delta_2026-03-21.tif")).unwrap();
    let at = |x: f64, y: f64| {
        let (c, r) = delta.spec.cell_at(x, y).unwrap();
        delta.get(c, r)
    };
    assert!(at(565265.0, 5927430.0) < -1.0, "north of the tower");
    assert!(at(565265.0, 5927340.0).abs() < 1e-6, "south of the tower");
    let w = &sh["windows"];
    assert!(w["windows"].as_u64().unwrap() > 100, "{w}");
    assert_eq!(
        w["din_pass"].as_u64().unwrap() + w["din_fail"].as_u64().unwrap(),
        w["windows"].as_u64().unwrap()
    );
    // windows_changed.csv lists exactly the windows whose class changed.
    let changed = std::fs::read_to_string(out.join("windows_changed.csv")).unwrap();
    let windows = std::fs::read_to_string(out.join("windows.csv")).unwrap();
    let n_changed = windows
        .lines()
        .skip(1)
        .filter(|l| {
            let c = l.rsplit(',').next().unwrap();
            !c.is_empty() && c != "new"
        })
        .count();
    assert_eq!(changed.lines().count() - 1, n_changed);
    let newly = w["din_newly_failing"].as_u64().unwrap() as usize;
    assert_eq!(
        windows.lines().filter(|l| l.contains("din_fails")).count(),
        newly
    );
    let so = &sh["solar"];
    // Clear-sky annual irradiation: roofs near the open-plane value (about 1,590 kWh/m² in
    // Hamburg), the ground between buildings less.
    let roof = so["mean_roof_kwh_per_m2"].as_f64().unwrap();
    let ground = so["ground_kwh_per_m2"].as_f64().unwrap();
    assert!((1300.0..1800.0).contains(&roof), "{so}");
    assert!(ground > 500.0 && ground < roof, "{so}");
    assert!(so["roofs"].as_u64().unwrap() > 10, "{so}");
}

#[test]
fn shadow_results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "s.toml",
        &tower_toml("[shadow.windows]\nspacing_m = 8.0\n"),
    );
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
            "sun_hours_2026-03-21.tif",
            "sun_hours_delta_2026-03-21.tif",
            "shadow_2026-03-21T1500.tif",
            "windows.csv",
            "windows.geojson",
            "daylight_buildings.csv",
        ],
        " between 1 and 2 threads",
    );
}

#[test]
fn bad_shadow_input_fails_clearly_and_keeps_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let good = write(dir.path(), "good.toml", &tower_toml(""));
    ok(&["run", s(&good), "--out", s(&out)]);
    let before = std::fs::read(out.join("summary.json")).unwrap();
    for (name, body, must) in [
        (
            "tz.toml",
            tower_toml("").replace("Europe/Berlin", "Mars/Olympus"),
            vec!["tz.toml", "shadow.timezone", "Mars/Olympus"],
        ),
        (
            "day.toml",
            tower_toml("").replace("2026-03-21\"]\ntimes", "2026-02-30\"]\ntimes"),
            vec!["day.toml", "shadow.days[0]", "2026-02-30"],
        ),
        (
            "time.toml",
            tower_toml("").replace("2026-03-21T15:00", "2026-03-29T02:30"),
            vec!["time.toml", "shadow.times[0]"],
        ),
        (
            "en.toml",
            tower_toml("[shadow.windows]\nen17037_day = \"2026-06-21\"\n"),
            vec!["en.toml", "shadow.windows.en17037_day", "1 February"],
        ),
        (
            "cell.toml",
            tower_toml("").replace("cell_m = 2.0", "cell_m = -1.0"),
            vec!["cell.toml", "shadow.cell_m"],
        ),
        (
            "unknown.toml",
            tower_toml("sunshine = true\n"),
            vec!["unknown.toml", "sunshine"],
        ),
        (
            "turbidity.toml",
            tower_toml("[shadow.solar]\nlinke_turbidity = [3.0, 4.0]\n"),
            vec!["turbidity.toml", "shadow.solar.linke_turbidity", "twelve"],
        ),
        (
            "building.toml",
            tower_toml("[shadow.windows]\nbuildings = [\"NOPE\"]\n"),
            vec!["building.toml", "NOPE"],
        ),
    ] {
        let p = write(dir.path(), name, &body);
        let must: Vec<&str> = must.to_vec();
        fails_cleanly(&["run", s(&p), "--out", s(&out)], &must);
        assert_eq!(
            std::fs::read(out.join("summary.json")).unwrap(),
            before,
            "{name} touched the old results"
        );
    }
}
