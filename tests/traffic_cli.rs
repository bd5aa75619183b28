//! End-to-end traffic runs of the `twin` binary: `twin traffic assign` on Sioux Falls against
//! the best-known equilibrium, a bridge closure on a small demo city, an evacuation with a
//! timed closure, the flood → closed roads → evacuation chain, thread-count determinism of
//! the written files, and the bad-input suite of `[traffic]` and `twin traffic assign`.

mod common;

use common::{assert_same_files, fails_cleanly as fails, json, ok, ok_env, s, shared};
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn sioux(name: &str) -> PathBuf {
    shared(&format!("tntp/SiouxFalls_{name}.tntp"))
}

/// Rows of a CSV file as maps from header to value.
fn csv_rows(p: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            // No quoted commas in the columns the tests read.
            head.iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

fn f(row: &std::collections::BTreeMap<String, String>, k: &str) -> f64 {
    row[k].parse().unwrap_or(f64::NAN)
}

#[test]
fn assign_sioux_falls_matches_the_best_known_equilibrium() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flows.csv");
    let text = ok(&[
        "traffic",
        "assign",
        "--net",
        s(&sioux("net")),
        "--trips",
        s(&sioux("trips")),
        "--out",
        s(&out),
    ]);
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    let obj = j["objective"].as_f64().unwrap();
    assert!((obj / 4_231_335.287 - 1.0).abs() < 1e-6, "objective {obj}");
    assert!(j["relative_gap"].as_f64().unwrap() < 1e-10, "{j}");
    assert!((j["tstt"].as_f64().unwrap() / 7_480_225.34 - 1.0).abs() < 1e-6);
    for k in ["iterations", "seconds", "sptt"] {
        assert!(j[k].is_number(), "{k} in {j}");
    }
    assert_eq!(j["links"], 76);
    assert_eq!(j["zones"], 24);
    // flows.csv against the reference flows.
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 76);
    assert_eq!(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        "from,to,volume,cost"
    );
    let reference = std::fs::read_to_string(sioux("flow")).unwrap();
    let mut worst = 0.0f64;
    for line in reference.lines().skip(1) {
        let c: Vec<&str> = line.split_whitespace().collect();
        if c.len() < 4 {
            continue;
        }
        let r = rows
            .iter()
            .find(|r| r["from"] == c[0] && r["to"] == c[1])
            .unwrap_or_else(|| panic!("link {} {}", c[0], c[1]));
        worst = worst.max((f(r, "volume") - c[2].parse::<f64>().unwrap()).abs());
    }
    assert!(worst < 1e-3, "largest flow difference {worst}");

    // Bi-conjugate Frank-Wolfe to a looser gap.
    let text = ok(&[
        "traffic",
        "assign",
        "--net",
        s(&sioux("net")),
        "--trips",
        s(&sioux("trips")),
        "--algorithm",
        "bfw",
        "--target-gap",
        "1e-4",
    ]);
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(j["relative_gap"].as_f64().unwrap() < 1e-4);
    assert_eq!(j["algorithm"], "bfw");
    // A toll factor changes nothing on Sioux Falls (no tolls), a distance factor does.
    let text = ok(&[
        "traffic",
        "assign",
        "--net",
        s(&sioux("net")),
        "--trips",
        s(&sioux("trips")),
        "--distance-factor",
        "0.5",
        "--target-gap",
        "1e-8",
    ]);
    let j2: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(j2["objective"].as_f64().unwrap() > obj * 1.01);
}

#[test]
fn bad_assign_input_fails_clearly_and_keeps_old_flows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flows.csv");
    std::fs::write(&out, "old").unwrap();
    let net = sioux("net");
    let trips = sioux("trips");
    let missing = dir.path().join("nope_net.tntp");
    fails(
        &[
            "traffic",
            "assign",
            "--net",
            s(&missing),
            "--trips",
            s(&trips),
            "--out",
            s(&out),
        ],
        &["nope_net.tntp"],
    );
    let garbage = write(
        dir.path(),
        "bad_net.tntp",
        "<NUMBER OF NODES> 3\n<END OF METADATA>\n1 2 x 1 1 0.15 4 0 0 1 ;\n",
    );
    fails(
        &[
            "traffic",
            "assign",
            "--net",
            s(&garbage),
            "--trips",
            s(&trips),
            "--out",
            s(&out),
        ],
        &["bad_net.tntp", "line"],
    );
    let bad_trips = write(
        dir.path(),
        "t.tntp",
        "<NUMBER OF ZONES> 24\n<TOTAL OD FLOW> 5.0\n<END OF METADATA>\nOrigin 1\n 2 : 7.0;\n",
    );
    fails(
        &[
            "traffic",
            "assign",
            "--net",
            s(&net),
            "--trips",
            s(&bad_trips),
            "--out",
            s(&out),
        ],
        &["t.tntp"],
    );
    let bad_csv = write(dir.path(), "od.csv", "origin,destination,flow\n1,99,5\n");
    fails(
        &[
            "traffic",
            "assign",
            "--net",
            s(&net),
            "--trips",
            s(&bad_csv),
            "--out",
            s(&out),
        ],
        &["od.csv", "line 2", "99"],
    );
    fails(
        &[
            "traffic",
            "assign",
            "--net",
            s(&net),
            "--trips",
            s(&trips),
            "--algorithm",
            "magic",
        ],
        &["magic"],
    );
    fails(
        &[
            "traffic",
            "assign",
            "--net",
            s(&net),
            "--trips",
            s(&trips),
            "--target-gap=-1",
        ],
        &["target_gap"],
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    // An OD CSV works like the trips file.
    let od = write(
        dir.path(),
        "od2.csv",
        "origin,destination,flow\n1,20,300\n20,1,300\n13,2,100\n",
    );
    let text = ok(&[
        "traffic",
        "assign",
        "--net",
        s(&net),
        "--trips",
        s(&od),
        "--out",
        s(&out),
    ]);
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["demand"], 700.0);
}

const BRIDGE: &str = r#"
[scenario]
name = "bridge-small"
[city.demo]
size_m = 800.0
cell_m = 2.0
[traffic]
[traffic.demand]
zone_size_m = 200.0
through_veh_h = 1200.0
[traffic.assignment]
target_gap = 1e-9
[[traffic.closure]]
id = "bridge"
names = ["Elbbrücke Demo"]
[outputs]
glb = false
geojson = false
dem = "none"
preview_png = false
"#;

#[test]
fn bridge_closure_moves_traffic_to_the_other_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bridge.toml", BRIDGE);
    let out = dir.path().join("res");
    let text = ok(&["run", s(&p), "--out", s(&out)]);
    assert!(text.contains("with closures"), "{text}");
    let sum = json(&out.join("summary.json"));
    let t = &sum["traffic"];
    let a = &t["assignment"];
    let b = &t["baseline"];
    assert!(a["relative_gap"].as_f64().unwrap() < 1e-9, "{a}");
    assert!(b["relative_gap"].as_f64().unwrap() < 1e-9, "{b}");
    assert!(a["tstt"].as_f64().unwrap() > b["tstt"].as_f64().unwrap());
    assert!(t["comparison"]["tstt_change_pct"].as_f64().unwrap() > 0.0);
    assert_eq!(t["closures"][0]["links"], 2);
    assert!(t["demand"]["gateways"].as_u64().unwrap() > 0);
    let rows = csv_rows(&out.join("traffic_links.csv"));
    let bridge = |name: &str| -> Vec<&std::collections::BTreeMap<String, String>> {
        rows.iter().filter(|r| r["name"] == name).collect()
    };
    for r in bridge("Elbbrücke Demo") {
        assert_eq!(r["closed"], "true");
        assert_eq!(f(r, "volume_veh_h"), 0.0);
        assert!(f(r, "base_volume_veh_h") > 0.0, "{r:?}");
    }
    let other: f64 = bridge("Veddeler Brücke")
        .iter()
        .map(|r| f(r, "volume_change_veh_h"))
        .sum();
    assert!(other > 0.0, "the other bridge carries more: {other}");
    for f in [
        "traffic_links.geojson",
        "traffic_vc.png",
        "traffic_volume_change.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let gj = json(&out.join("traffic_links.geojson"));
    let feats = gj["features"].as_array().unwrap();
    assert_eq!(feats.len(), rows.len());
    for k in [
        "volume_veh_h",
        "capacity_veh_h",
        "vc",
        "travel_time_min",
        "delay_min",
        "closed",
    ] {
        assert!(feats[0]["properties"].get(k).is_some(), "{k}");
    }
    // Flows balance at every node that is not a zone: checked by the link table.
    let mut net: std::collections::BTreeMap<String, f64> = Default::default();
    for r in &rows {
        *net.entry(r["from"].clone()).or_default() -= f(r, "volume_veh_h");
        *net.entry(r["to"].clone()).or_default() += f(r, "volume_veh_h");
    }
    let total: f64 = net.values().sum();
    assert!(total.abs() < 1e-6, "{total}");
}

fn evac_toml(extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "evac-small"
[city.demo]
size_m = 800.0
cell_m = 2.0
{extra}
[traffic.evacuation]
zone = [[565000.0, 5927000.0], [565800.0, 5927000.0], [565800.0, 5927280.0], [565000.0, 5927280.0]]
mobilisation = {{ distribution = "rayleigh", mean_s = 1200.0 }}
duration_s = 14400.0
seed = 3
[outputs]
glb = false
geojson = false
dem = "none"
preview_png = false
"#
    )
}

#[test]
fn evacuation_with_a_timed_bridge_closure() {
    let dir = tempfile::tempdir().unwrap();
    let extra =
        "[[traffic.closure]]\nid = \"bridge\"\nnames = [\"Veddeler Brücke\"]\nstart_s = 900.0\n";
    let p = write(dir.path(), "evac.toml", &evac_toml(extra));
    let out = dir.path().join("res");
    let text = ok(&["run", s(&p), "--out", s(&out)]);
    assert!(text.contains("evacuation:"), "{text}");
    let e = &json(&out.join("summary.json"))["traffic"]["evacuation"];
    let car = e["car_persons"].as_f64().unwrap();
    let sum = e["arrived_persons"].as_f64().unwrap()
        + e["stranded_persons"].as_f64().unwrap()
        + e["en_route_persons"].as_f64().unwrap();
    assert!((sum - car).abs() < 1e-6 * car.max(1.0), "{e}");
    assert!(car > 100.0, "{e}");
    let (t90, t100) = (e["t90_s"].as_f64().unwrap(), e["t100_s"].as_f64().unwrap());
    assert!(t90 > 0.0 && t90 <= t100, "{e}");
    // The curve: 5-minute steps, monotone, ends at the arrived total.
    let rows = csv_rows(&out.join("evacuation_curve.csv"));
    assert!(rows.len() > 3);
    let mut last = -1.0;
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(f(r, "t_s"), 300.0 * k as f64);
        assert!(f(r, "share") >= last);
        last = f(r, "share");
    }
    assert!(
        (f(rows.last().unwrap(), "arrived_persons") - e["arrived_persons"].as_f64().unwrap()).abs()
            < 1e-3
    );
    // The closed bridge: closed at 900 s.
    let links = csv_rows(&out.join("evacuation_links.csv"));
    let closed: Vec<_> = links
        .iter()
        .filter(|r| r["name"] == "Veddeler Brücke")
        .collect();
    assert_eq!(closed.len(), 2);
    for r in closed {
        assert_eq!(f(r, "closed_at_s"), 900.0);
    }
    // Every arrived person is counted at one destination.
    let dests = csv_rows(&out.join("evacuation_destinations.csv"));
    let at: f64 = dests.iter().map(|r| f(r, "arrived_persons")).sum();
    assert!(
        (at - e["arrived_persons"].as_f64().unwrap()).abs() < 1e-6 * at.max(1.0),
        "{at} vs {e}"
    );
    assert!(dests.iter().any(|r| r["kind"] == "shelter"));
    assert_eq!(
        e["shelters_over_capacity"].as_array().unwrap().len(),
        0,
        "{e}"
    );
    for r in dests.iter().filter(|r| r["kind"] == "shelter") {
        assert!(
            f(r, "arrived_persons") <= f(r, "capacity_persons") + 1e-9,
            "{r:?}"
        );
    }
    let sh = e["persons_to_shelters"].as_f64().unwrap() + e["persons_to_exits"].as_f64().unwrap();
    assert!((sh - at).abs() < 1e-6 * at.max(1.0));
    for f in [
        "evacuation_curve.png",
        "evacuation_bottlenecks.csv",
        "evacuation_links.geojson",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

fn surge_block(depth: &str) -> String {
    format!(
        r#"
[flood]
cell_m = 8.0
duration_s = 7200.0
output_interval_s = 900.0
start_time = "2026-12-06T12:00:00+01:00"
buildings = "blocked"
edges = "closed"
[[flood.water_level]]
id = "elbe"
landcover_ids = ["water-river"]
extend_to_barriers = true
storm_tide = {{ peak_z = 9.0, peak_s = 3600.0, end_s = 7200.0, surge_duration_s = 7200.0, step_s = 120.0 }}
[traffic.flood]
depth_m = {depth}
"#
    )
}

#[test]
fn flood_closes_roads_during_the_evacuation() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "chain.toml", &evac_toml(&surge_block("0.3")));
    let out = dir.path().join("chain");
    ok(&["run", s(&p), "--out", s(&out)]);
    let t = &json(&out.join("summary.json"))["traffic"];
    let fc = &t["flood_closures"];
    assert!(fc["links_closed"].as_u64().unwrap() > 0, "{fc}");
    assert!(t["evacuation"]["flooded_links"].as_u64().unwrap() > 0);
    let closures = csv_rows(&out.join("road_closures.csv"));
    assert!(!closures.is_empty());
    for r in &closures {
        let t = f(r, "closed_at_s");
        assert!((0.0..=7200.0).contains(&t), "{r:?}");
    }
    // No bridge floods (the decks are above the water).
    let roads = json(&out.join("summary.json"));
    assert!(
        roads["traffic"]["flood_closures"]["links_closed"]
            .as_u64()
            .unwrap()
            > 0
    );
    let bridge_names = ["Elbbrücke Demo", "Veddeler Brücke"];
    assert!(
        closures
            .iter()
            .all(|r| !bridge_names.contains(&r["name"].as_str()))
    );
    // A deeper threshold closes fewer roads, later.
    let p2 = write(dir.path(), "chain2.toml", &evac_toml(&surge_block("1.0")));
    let out2 = dir.path().join("chain2");
    ok(&["run", s(&p2), "--out", s(&out2)]);
    let fewer = json(&out2.join("summary.json"))["traffic"]["flood_closures"]["links_closed"]
        .as_u64()
        .unwrap();
    assert!(
        fewer < fc["links_closed"].as_u64().unwrap(),
        "{fewer} vs {fc}"
    );
    // From the results of the earlier flood run (snapshots every 15 min).
    let from = format!(
        "[traffic.flood]\ndepth_m = 0.3\nresults = \"{}\"\n",
        s(&out).replace('\\', "/")
    );
    let p3 = write(dir.path(), "from.toml", &evac_toml(&from));
    let out3 = dir.path().join("from");
    ok(&["run", s(&p3), "--out", s(&out3)]);
    let c3 = csv_rows(&out3.join("road_closures.csv"));
    assert!(!c3.is_empty());
    // Snapshot times are coarser: a road closes no earlier than in the in-run check.
    for r in &c3 {
        let same = closures.iter().find(|c| c["road_link"] == r["road_link"]);
        if let Some(c) = same {
            assert!(
                f(r, "closed_at_s") >= f(c, "closed_at_s") - 1e-9,
                "{r:?} vs {c:?}"
            );
        }
    }
}

#[test]
fn traffic_results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "[[traffic.closure]]\nid = \"bridge\"\nnames = [\"Elbbrücke Demo\"]\nstart_s = 600.0\ncapacity_factor = 0.5\n";
    let p = write(dir.path(), "evac.toml", &evac_toml(extra));
    let b = write(dir.path(), "bridge.toml", BRIDGE);
    for (scenario, files) in [
        (
            &p,
            &[
                "evacuation_curve.csv",
                "evacuation_links.csv",
                "evacuation_bottlenecks.csv",
            ][..],
        ),
        (&b, &["traffic_links.csv", "traffic_vc.png"][..]),
    ] {
        let o1 = dir.path().join("t1");
        let o2 = dir.path().join("t2");
        ok_env(
            &["run", s(scenario), "--out", s(&o1)],
            &[("RAYON_NUM_THREADS", "1")],
        );
        ok_env(
            &["run", s(scenario), "--out", s(&o2)],
            &[("RAYON_NUM_THREADS", "2")],
        );
        assert_same_files(&o1, &o2, files, " between 1 and 2 threads");
    }
}

#[test]
fn bad_traffic_input_fails_clearly_and_keeps_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let good = write(dir.path(), "good.toml", BRIDGE);
    ok(&["run", s(&good), "--out", s(&out)]);
    let before = std::fs::read(out.join("traffic_links.csv")).unwrap();
    let cases: Vec<(String, Vec<&str>)> = vec![
        (BRIDGE.replace("zone_size_m = 200.0", "zone_size_m = 200.0\nzone_count = 3"), vec!["zone_count"]),
        (BRIDGE.replace("names = [\"Elbbrücke Demo\"]", "names = [\"Köhlbrandbrücke\"]"), vec!["traffic.closure[0]", "selects no"]),
        (BRIDGE.replace("target_gap = 1e-9", "target_gap = -1.0"), vec!["traffic.assignment.target_gap"]),
        (BRIDGE.replace("target_gap = 1e-9", "algorithm = \"simplex\""), vec!["traffic.assignment.algorithm", "simplex"]),
        (BRIDGE.replace("id = \"bridge\"", "id = \"bridge\"\ncapacity_factor = 1.5"), vec!["capacity_factor"]),
        (BRIDGE.replace("[traffic]", "[traffic]\nclasses = [\"autobahn\"]"), vec!["traffic.classes", "autobahn"]),
        (BRIDGE.replace("[traffic]", "[traffic]\ntntp_trips = \"x_trips.tntp\""), vec!["traffic.tntp_trips"]),
        (format!("{BRIDGE}\n[traffic.flood]\ndepth_m = 0.3\n"), vec!["traffic.flood", "[flood]"]),
        (evac_toml("").replace("[[565000.0, 5927000.0], [565800.0, 5927000.0], [565800.0, 5927280.0], [565000.0, 5927280.0]]", "[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]"), vec!["traffic.evacuation.zone", "no building"]),
        (evac_toml("").replace("distribution = \"rayleigh\", mean_s = 1200.0", "distribution = \"weibull\", scale_s = 600.0"), vec!["mobilisation.shape"]),
        (evac_toml("").replace("seed = 3", "seed = 3\ncar_share = 0.0"), vec!["car_share"]),
    ];
    for (k, (text, mention)) in cases.iter().enumerate() {
        let name = format!("bad{k}.toml");
        let p = write(dir.path(), &name, text);
        let mut m = mention.clone();
        m.push(&name);
        fails(&["run", s(&p), "--out", s(&out)], &m);
    }
    // A bad TNTP file named in a scenario.
    let bad_net = write(dir.path(), "x_net.tntp", "garbage\n");
    let trips = sioux("trips");
    let p = write(
        dir.path(),
        "tntp.toml",
        &format!(
            "[scenario]\nname = \"t\"\n[traffic]\ntntp_net = \"{}\"\ntntp_trips = \"{}\"\n",
            s(&bad_net).replace('\\', "/"),
            s(&trips).replace('\\', "/")
        ),
    );
    fails(&["run", s(&p), "--out", s(&out)], &["x_net.tntp"]);
    assert_eq!(
        std::fs::read(out.join("traffic_links.csv")).unwrap(),
        before
    );
}

#[test]
fn tntp_scenario_with_a_closed_link() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "sf.toml",
        &format!(
            "[scenario]\nname = \"sf\"\n[traffic]\ntntp_net = \"{}\"\ntntp_trips = \"{}\"\n[traffic.assignment]\ntarget_gap = 1e-10\n[[traffic.closure]]\nid = \"link-1\"\nway_ids = [1, 3]\n",
            s(&sioux("net")).replace('\\', "/"),
            s(&sioux("trips")).replace('\\', "/")
        ),
    );
    let out = dir.path().join("res");
    ok(&["run", s(&p), "--out", s(&out)]);
    let t = &json(&out.join("summary.json"))["traffic"];
    let base = t["baseline"]["objective"].as_f64().unwrap();
    assert!((base / 4_231_335.287 - 1.0).abs() < 1e-6, "{t}");
    assert!(t["assignment"]["objective"].as_f64().unwrap() > base);
    let rows = csv_rows(&out.join("traffic_links.csv"));
    assert_eq!(rows[0]["closed"], "true");
    assert_eq!(rows[2]["closed"], "true");
    assert_eq!(rows[1]["closed"], "false");
}
