//! End-to-end runs of the `twin` binary: demo, run, info, convert, and the bad-input suite.

mod common;

use common::{assert_same_files, fails_cleanly, ok, s, shared};

#[test]
fn demo_writes_standard_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let stdout = ok(&["demo", "--out", s(&out)]);
    assert!(stdout.contains("buildings"), "{stdout}");
    for f in [
        "dem.tif",
        "buildings.geojson",
        "roads.geojson",
        "barriers.geojson",
        "points.geojson",
        "landcover.geojson",
        "city.glb",
        "preview.png",
        "summary.json",
    ] {
        let p = out.join(f);
        assert!(
            p.is_file() && std::fs::metadata(&p).unwrap().len() > 0,
            "missing {f}"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let n = summary["city"]["buildings"]["count"].as_u64().unwrap();
    assert!((1000..=3000).contains(&n), "{n} buildings");
    assert_eq!(summary["city"]["epsg"], 25832);
    // No staging folders left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
    // `twin info` reads back what `twin demo` wrote.
    let info = ok(&[
        "info",
        "--json",
        s(&out.join("dem.tif")),
        s(&out.join("buildings.geojson")),
        s(&out.join("city.glb")),
    ]);
    let v: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(v[0]["raster"]["epsg"], 25832);
    assert_eq!(v[1]["city"]["buildings"]["count"].as_u64(), Some(n));
}

#[test]
fn same_seed_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok(&[
        "demo",
        "--out",
        s(&a),
        "--seed",
        "7",
        "--size-m",
        "800",
        "--cell-m",
        "2",
    ]);
    ok(&[
        "demo",
        "--out",
        s(&b),
        "--seed",
        "7",
        "--size-m",
        "800",
        "--cell-m",
        "2",
    ]);
    assert_same_files(
        &a,
        &b,
        &[
            "dem.tif",
            "buildings.geojson",
            "roads.geojson",
            "city.glb",
            "preview.png",
        ],
        "",
    );
}

#[test]
fn run_scenario_with_edits_and_failed_run_keeps_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let sc = dir.path().join("edit.toml");
    std::fs::write(
        &sc,
        r#"
[scenario]
name = "edit"
[city.demo]
size_m = 600.0
cell_m = 2.0
[[remove_buildings]]
ids = ["DEMO_000001"]
[[add_building]]
id = "TOWER"
footprint = [[565100.0, 5927100.0], [565130.0, 5927100.0], [565130.0, 5927130.0], [565100.0, 5927130.0]]
height_m = 60.0
usage = "office"
[outputs]
glb = false
derived_cell_m = 4.0
"#,
    )
    .unwrap();
    ok(&["run", s(&sc), "--out", s(&out)]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["edits"]["removed"][0], "DEMO_000001");
    assert_eq!(summary["edits"]["added"][0], "TOWER");
    assert!(out.join("dsm.tif").is_file() && out.join("building_mask.tif").is_file());
    let before = std::fs::read(out.join("summary.json")).unwrap();
    // A failing variant (unknown id) must not touch the previous results.
    std::fs::write(
        &sc,
        std::fs::read_to_string(&sc)
            .unwrap()
            .replace("DEMO_000001", "NO_SUCH_ID"),
    )
    .unwrap();
    fails_cleanly(
        &["run", s(&sc), "--out", s(&out)],
        &["edit.toml", "NO_SUCH_ID"],
    );
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
}

#[test]
fn shipped_scenarios_are_valid_and_the_tower_variant_runs() {
    let info = ok(&[
        "info",
        "--json",
        "scenarios/demo.toml",
        "scenarios/tower.toml",
    ]);
    assert!(
        info.contains("\"name\": \"demo\"") && info.contains("\"name\": \"tower\""),
        "{info}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tower");
    ok(&["run", "scenarios/tower.toml", "--out", s(&out)]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["edits"]["removed"][0], "DEMO_000082");
    assert_eq!(summary["edits"]["added"][0], "TOWER_1");
    assert_eq!(summary["city"]["buildings"]["height_m"]["max"], 75.0);
}

#[test]
fn info_reads_the_real_data() {
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "info",
        "--json",
        s(&shared("citygml/hamburg_wilhelmsburg_lod2_subset.xml")),
        s(&shared("citygml/munich_lod2_4424_5482.gml")),
        s(&shared("osm/hamburg-hafen-ferry.osm.pbf")),
    ]))
    .unwrap();
    assert_eq!(v[0]["city"]["buildings"]["count"], 13);
    assert_eq!(v[0]["city"]["epsg"], 25832);
    assert_eq!(v[1]["city"]["buildings"]["count"], 111);
    assert_eq!(v[2]["city"]["epsg"], 25832);
    assert!(v[2]["city"]["roads"]["links"].as_u64().unwrap() > 300);
    let text = ok(&[
        "info",
        s(&shared("citygml/hamburg_wilhelmsburg_lod2_subset.xml")),
    ]);
    assert!(text.contains("EPSG:25832") && text.contains("13"), "{text}");
}

#[test]
fn convert_citygml_to_glb_and_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let glb = dir.path().join("hh.glb");
    let gj = dir.path().join("hh.geojson");
    let src = shared("citygml/hamburg_wilhelmsburg_lod2_subset.xml");
    ok(&["convert", s(&src), "--out", s(&glb)]);
    ok(&["convert", s(&src), "--out", s(&gj)]);
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["info", "--json", s(&glb), s(&gj)])).unwrap();
    assert!(
        v[0]["glb"].to_string().contains("DEHH"),
        "building ids as node names: {}",
        v[0]["glb"]
    );
    assert_eq!(v[1]["city"]["buildings"]["count"], 13);
    fails_cleanly(
        &["convert", s(&src), "--out", s(&dir.path().join("x.xyz"))],
        &["x.xyz"],
    );
    fails_cleanly(
        &["convert", s(&src), "--out", s(&dir.path().join("x.tif"))],
        &["DEM"],
    );
}

#[test]
fn bad_input_suite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = |name: &str, bytes: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // Truncated XML: the first 60 % of the Hamburg file.
    let full = std::fs::read(shared("citygml/hamburg_wilhelmsburg_lod2_subset.xml")).unwrap();
    let p = w("truncated.gml", &full[..full.len() * 6 / 10]);
    fails_cleanly(&["info", s(&p)], &["truncated.gml"]);
    // Invalid JSON.
    let p = w(
        "broken.city.json",
        br#"{"type": "CityJSON", "version": "2.0", "CityObjects": {"#,
    );
    fails_cleanly(&["info", s(&p)], &["broken.city.json"]);
    let p = w(
        "broken.geojson",
        b"{\"type\": \"FeatureCollection\", \"features\": [ {\"type\": ",
    );
    fails_cleanly(&["info", s(&p)], &["broken.geojson"]);
    // NaN and infinite coordinates.
    let p = w(
        "nan.gml",
        std::str::from_utf8(&full)
            .unwrap()
            .replacen(
                "<gml:posList srsDimension=\"3\">",
                "<gml:posList srsDimension=\"3\">NaN ",
                1,
            )
            .as_bytes(),
    );
    fails_cleanly(&["info", s(&p)], &["nan.gml"]);
    let p = w(
        "inf.geojson",
        br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"height":10},"geometry":{"type":"Polygon","coordinates":[[[10.0,53.5],[1e999,53.5],[10.0,53.6],[10.0,53.5]]]}}]}"#,
    );
    fails_cleanly(&["info", s(&p)], &["inf.geojson"]);
    // An unknown CRS.
    let p = w(
        "mars.gml",
        std::str::from_utf8(&full)
            .unwrap()
            .replace(
                "urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH",
                "urn:adv:crs:MARS_UTM1",
            )
            .as_bytes(),
    );
    fails_cleanly(&["info", s(&p)], &["mars.gml", "MARS_UTM1"]);
    let p = w("crs.city.json", br#"{"type":"CityJSON","version":"2.0","transform":{"scale":[1,1,1],"translate":[0,0,0]},"metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/99999"},"CityObjects":{},"vertices":[]}"#);
    fails_cleanly(&["info", s(&p)], &["crs.city.json", "99999"]);
    // Empty files of every kind.
    for name in [
        "empty.gml",
        "empty.city.json",
        "empty.geojson",
        "empty.osm",
        "empty.osm.pbf",
        "empty.tif",
        "empty.asc",
        "empty.glb",
        "empty.xml",
    ] {
        let p = w(name, b"");
        fails_cleanly(&["info", s(&p)], &[name]);
    }
    // A GeoTIFF with a wrong tag: ImageWidth (256) stored as ASCII.
    let mut tif = Vec::new();
    tif.extend_from_slice(b"II*\0");
    tif.extend_from_slice(&8u32.to_le_bytes());
    tif.extend_from_slice(&1u16.to_le_bytes());
    tif.extend_from_slice(&256u16.to_le_bytes());
    tif.extend_from_slice(&2u16.to_le_bytes()); // ASCII
    tif.extend_from_slice(&4u32.to_le_bytes());
    tif.extend_from_slice(b"abc\0");
    tif.extend_from_slice(&0u32.to_le_bytes());
    let p = w("wrongtag.tif", &tif);
    fails_cleanly(&["info", s(&p)], &["wrongtag.tif"]);
    // Garbage bytes with a known extension.
    let p = w(
        "garbage.osm.pbf",
        &[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8],
    );
    fails_cleanly(&["info", s(&p)], &["garbage.osm.pbf"]);
    // Missing file; unknown format.
    fails_cleanly(&["info", s(&d.join("nope.gml"))], &["nope.gml"]);
    let p = w("notes.txt", b"hello");
    fails_cleanly(&["info", s(&p)], &["notes.txt", "unrecognised"]);
    // Impossible scenario parameters.
    let p = w(
        "bad.toml",
        b"[scenario]\nname = \"x\"\n[city.demo]\ncell_m = -1.0\n",
    );
    fails_cleanly(&["run", s(&p)], &["bad.toml", "city.demo.cell_m"]);
    fails_cleanly(
        &["demo", "--out", s(&d.join("o")), "--size-m", "10"],
        &["size"],
    );
}

#[test]
fn view_runs_the_viewer_or_says_how_to_build_it() {
    // `twin view` hands its arguments to `twin-view` beside it (or on PATH). Either the
    // viewer reports the missing scenario, or `twin` says how to build the viewer; never a
    // panic, and always a failure.
    let beside = std::path::Path::new(env!("CARGO_BIN_EXE_twin"))
        .with_file_name(format!("twin-view{}", std::env::consts::EXE_SUFFIX));
    let o = common::twin_env(
        &[
            "view",
            "/nonexistent/scenario.toml",
            "--screenshot",
            "/tmp/x.png",
        ],
        &[("PATH", "")],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    if beside.is_file() {
        assert!(err.contains("/nonexistent/scenario.toml"), "{err}");
    } else {
        assert!(err.contains("cargo build --release -p viewer"), "{err}");
    }
}
