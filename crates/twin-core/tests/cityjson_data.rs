//! CityJSON importer on the real files in `shared/data/cityjson` (see its README).

use twin_core::City;
use twin_core::import::{ImportOptions, cityjson};
use twin_core::model::SurfaceKind;

fn data(name: &str) -> String {
    format!(
        "{}/../../../shared/data/cityjson/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read(name: &str) -> City {
    cityjson::read_path(data(name), &ImportOptions::default()).unwrap()
}

/// Every building has a bbox inside `area` and a height in `(lo, hi)` metres.
fn assert_plausible(c: &City, area: [f64; 4], heights: (f64, f64)) {
    let bb = c.bbox();
    assert!(
        bb.min[0] >= area[0]
            && bb.max[0] <= area[2]
            && bb.min[1] >= area[1]
            && bb.max[1] <= area[3],
        "{bb:?} outside {area:?}"
    );
    for b in &c.buildings {
        let h = b.height_m().unwrap();
        assert!(h > heights.0 && h < heights.1, "{}: height {h}", b.id);
        assert!(b.roof_z.unwrap() >= b.ground_z.unwrap());
        assert!(!b.footprint.is_empty(), "{} has no footprint", b.id);
        assert!(b.footprint_area() > 0.0);
    }
}

const RD: [f64; 4] = [0.0, 300_000.0, 300_000.0, 620_000.0];
const LV95: [f64; 4] = [2.4e6, 1.0e6, 2.9e6, 1.4e6];

#[test]
fn cityjson_denhaag() {
    let c = read("denhaag_01.city.json");
    assert_eq!(c.buildings.len(), 844);
    assert_eq!(c.building_part_count(), 1653);
    assert_eq!((c.epsg, c.vertical_datum.as_deref()), (28992, Some("NAP")));
    let tin = c.terrain.tin.as_ref().unwrap();
    assert!(tin.triangles.len() > 1000, "{}", tin.triangles.len());
    assert!(tin.kinds.iter().all(|k| *k == SurfaceKind::Other));
    assert_plausible(&c, RD, (0.5, 60.0));
    // metadata.geographicalExtent z range is 2.463 .. 37.481
    let (lo, hi) = c.building_height_range().unwrap();
    assert!(lo > 0.5 && hi < 36.0, "{lo} {hi}");
    assert!(c.buildings.iter().all(|b| b.lod == 2));
    let roof: f64 = c
        .buildings
        .iter()
        .map(|b| b.surfaces.area_of(SurfaceKind::Roof))
        .sum();
    let ground: f64 = c
        .buildings
        .iter()
        .map(|b| b.surfaces.area_of(SurfaceKind::Ground))
        .sum();
    let fp: f64 = c.buildings.iter().map(|b| b.footprint_area()).sum();
    assert!((ground - fp).abs() < 1e-3 * fp, "{ground} vs {fp}");
    assert!(roof >= 0.99 * ground, "{roof} vs {ground}");
}

#[test]
fn cityjson_zurich() {
    let c = read("zurich_subset_lod2.json");
    assert_eq!(c.buildings.len(), 49);
    assert_eq!(c.building_part_count(), 161);
    assert_eq!(c.epsg, 2056);
    assert!(c.terrain.tin.is_none());
    assert_plausible(&c, LV95, (1.0, 100.0));
    // z extent 395.8 .. 620.9 m
    for b in &c.buildings {
        assert!(b.ground_z.unwrap() > 390.0 && b.roof_z.unwrap() < 621.0);
        assert_eq!(b.attributes.get("class").map(String::len), Some(4));
    }
}

#[test]
fn cityjson_delft() {
    let c = read("delft.json");
    assert_eq!(c.buildings.len(), 160);
    assert_eq!(c.building_part_count(), 0);
    assert_eq!(c.epsg, 28992);
    assert!(c.buildings.iter().all(|b| b.lod == 1));
    assert_plausible(&c, RD, (0.5, 60.0));
    // measuredHeight is an attribute of every building here
    assert!(c.buildings.iter().all(|b| b.measured_height_m.is_some()));
    let note = c.sources.iter().find(|s| s.contains("skipped")).unwrap();
    assert!(
        note.contains("143 Road") && note.contains("81 LandUse"),
        "{note}"
    );
}

#[test]
fn cityjson_small_subsets() {
    // Counts checked with python3 json: 16 Buildings; 4 Buildings + 8 BuildingParts.
    let r = read("rotterdam_subset.json");
    assert_eq!((r.buildings.len(), r.building_part_count()), (16, 0));
    assert_eq!(r.epsg, 0);
    assert_plausible(&r, RD, (1.0, 60.0));
    assert!(
        r.buildings
            .iter()
            .all(|b| b.attributes.contains_key("TerrainHeight"))
    );
    let d = read("DH_01_subs.city.json");
    assert_eq!((d.buildings.len(), d.building_part_count()), (4, 8));
    assert_plausible(&d, RD, (1.0, 20.0));
    // z extent of the file: 3.451 .. 14.739
    let zmin = d
        .buildings
        .iter()
        .filter_map(|b| b.ground_z)
        .fold(f64::INFINITY, f64::min);
    let zmax = d
        .buildings
        .iter()
        .filter_map(|b| b.roof_z)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        (zmin - 3.451).abs() < 1e-9 && (zmax - 14.739).abs() < 1e-9,
        "{zmin} {zmax}"
    );
}

#[test]
fn cityjson_reprojects_when_asked() {
    if twin_core::crs::Crs::from_epsg(25832)
        .and_then(|c| c.from_wgs84(10.0, 53.5))
        .is_err()
    {
        println!("skipped until crs lands");
        return;
    }
    let opts = ImportOptions {
        target_epsg: Some(4326),
        ..Default::default()
    };
    let c = cityjson::read_path(data("DH_01_subs.city.json"), &opts);
    assert!(c.is_err(), "no referenceSystem: cannot reproject");
    let c = cityjson::read_path(data("zurich_subset_lod2.json"), &opts).unwrap();
    assert_eq!(c.epsg, 4326);
    let bb = c.bbox();
    // Zurich: about 8.5 E, 47.4 N
    assert!(
        bb.min[0] > 8.3 && bb.max[0] < 8.7 && bb.min[1] > 47.2 && bb.max[1] < 47.6,
        "{bb:?}"
    );
}

#[test]
#[ignore]
fn cityjson_denhaag_timing() {
    let path = data("denhaag_01.city.json");
    let bytes = std::fs::read(&path).unwrap();
    let t = std::time::Instant::now();
    let c = cityjson::read_slice(&bytes, &path, &ImportOptions::default()).unwrap();
    let s = t.elapsed().as_secs_f64();
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "denhaag_01.city.json: {mb:.2} MB, {} buildings, {} parts in {:.1} ms: {:.1} MB/s, {:.0} buildings/s",
        c.buildings.len(),
        c.building_part_count(),
        s * 1e3,
        mb / s,
        c.buildings.len() as f64 / s
    );
    assert!(s < 1.0, "{s} s");
}
