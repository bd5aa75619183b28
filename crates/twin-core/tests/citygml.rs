//! CityGML importer on the real Hamburg and Munich LoD2 samples, plus a throughput check.

use std::path::{Path, PathBuf};
use twin_core::City;
use twin_core::import::{ImportOptions, citygml};
use twin_core::model::SurfaceKind;

fn data(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/citygml"
    ))
    .join(name)
}

fn read(name: &str) -> City {
    citygml::read_path(&data(name), &ImportOptions::default()).unwrap()
}

/// Each building: surfaces of every class, roof area consistent with the footprint (not
/// counted twice), heights consistent with measuredHeight, ids unique.
fn check_buildings(city: &City, ground: (f64, f64)) {
    let mut ids: Vec<&str> = city.buildings.iter().map(|b| b.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), city.buildings.len());
    for b in &city.buildings {
        let s = &b.surfaces;
        let (roof, wall, gnd) = (
            s.area_of(SurfaceKind::Roof),
            s.area_of(SurfaceKind::Wall),
            s.area_of(SurfaceKind::Ground),
        );
        let fp = b.footprint_area();
        assert!(roof > 0.0 && wall > 0.0 && gnd > 0.0, "{}", b.id);
        assert!(fp > 5.0, "{}: footprint {fp}", b.id);
        assert!(
            roof >= 0.9 * fp && roof <= 3.0 * fp,
            "{}: roof {roof} fp {fp}",
            b.id
        );
        assert!(
            (gnd - fp).abs() < 0.01 * fp,
            "{}: ground {gnd} fp {fp}",
            b.id
        );
        assert_eq!(b.lod, 2);
        let (g, r) = (b.ground_z.unwrap(), b.roof_z.unwrap());
        assert!(g > ground.0 && g < ground.1, "{}: ground_z {g}", b.id);
        let mh = b.measured_height_m.unwrap();
        assert!((2.0..60.0).contains(&mh), "{}: measuredHeight {mh}", b.id);
        assert!((r - g - mh).abs() < 0.5, "{}: {g}..{r} vs {mh}", b.id);
        assert_eq!(s.kinds.len(), s.triangles.len());
        assert_eq!(s.area_of(SurfaceKind::Other), 0.0);
    }
}

#[test]
fn hamburg_wilhelmsburg_lod2() {
    let city = read("hamburg_wilhelmsburg_lod2_subset.xml");
    assert_eq!(city.buildings.len(), 13);
    assert_eq!(city.epsg, 25832);
    assert_eq!(city.vertical_datum.as_deref(), Some("DHHN2016"));
    assert_eq!(city.name, "hamburg_wilhelmsburg_lod2_subset");
    let bb = city.bbox();
    // One building reaches 2.5 m west of the tile's 566000 edge.
    assert!(bb.min[0] > 565990.0 && bb.max[0] < 567010.0, "{bb:?}");
    assert!(bb.min[1] > 5928020.0 && bb.max[1] < 5928840.0, "{bb:?}");
    check_buildings(&city, (0.0, 10.0));
    assert!(city.buildings.iter().all(|b| b.address.is_some()));
    assert!(city.buildings.iter().all(|b| b.attributes.len() >= 6));

    let b = &city.buildings[0];
    assert_eq!(b.id, "DEHHALKA10007uUX");
    assert_eq!(b.function.as_deref(), Some("31001_1010"));
    assert_eq!(b.usage, twin_core::model::BuildingUse::Residential);
    assert_eq!(b.roof_type, twin_core::model::RoofType::Gable);
    assert_eq!((b.measured_height_m, b.storeys), (Some(10.873), Some(3)));
    assert_eq!((b.ground_z, b.roof_z), (Some(2.388), Some(13.261)));
    assert_eq!(
        b.attributes.get("Gemeindeschluessel").map(String::as_str),
        Some("02100137")
    );
    let a = b.address.as_ref().unwrap();
    assert_eq!(
        (a.street.as_deref(), a.house_number.as_deref()),
        (Some("Am Inselpark"), Some("5b"))
    );
    assert_eq!(
        (a.postcode.as_deref(), a.city.as_deref()),
        (Some("21109"), Some("Hamburg"))
    );
    // A gable roof is steeper than the footprint: more area, but well under twice.
    let roof = b.surfaces.area_of(SurfaceKind::Roof);
    assert!(roof > 1.005 * b.footprint_area() && roof < 1.5 * b.footprint_area());
}

#[test]
fn munich_lod2_default_namespace() {
    let city = read("munich_lod2_4424_5482.gml");
    assert_eq!(city.buildings.len(), 111);
    assert_eq!(city.epsg, 31468);
    assert_eq!(city.vertical_datum.as_deref(), Some("DHHN92"));
    let bb = city.bbox();
    assert!(bb.min[0] >= 4424648.0 && bb.max[0] <= 4424853.0, "{bb:?}");
    assert!(bb.min[1] >= 5482614.0 && bb.max[1] <= 5482814.0, "{bb:?}");
    check_buildings(&city, (305.0, 320.0));
    assert!(city.buildings.iter().all(|b| b.address.is_some()));
    let b = &city.buildings[0];
    assert_eq!(b.id, "DEBY_LOD2_22124377");
    assert_eq!((b.ground_z, b.roof_z), (Some(311.56), Some(314.204)));
    assert_eq!(
        b.attributes.get("HoeheGrund").map(String::as_str),
        Some("311.560")
    );
    assert_eq!(
        b.address.as_ref().and_then(|a| a.street.as_deref()),
        Some("Fürth")
    );
}

#[test]
fn real_file_in_memory_equals_file_and_is_deterministic() {
    let path = data("hamburg_wilhelmsburg_lod2_subset.xml");
    let bytes = std::fs::read(&path).unwrap();
    let a = citygml::read(&bytes[..], &path, &ImportOptions::default()).unwrap();
    let b = read("hamburg_wilhelmsburg_lod2_subset.xml");
    assert_eq!(a.buildings, b.buildings);
}

/// Hamburg buildings repeated with renamed ids to about 30 MB, read from memory.
/// `cargo test --release -p twin-core citygml_throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn citygml_throughput() {
    let text = std::fs::read_to_string(data("hamburg_wilhelmsburg_lod2_subset.xml")).unwrap();
    let first = text.find("<core:cityObjectMember>").unwrap();
    let last = text.rfind("</core:CityModel>").unwrap();
    let (head, members, tail) = (&text[..first], &text[first..last], &text[last..]);
    let mut big = String::from(head);
    let mut copies = 0;
    while big.len() < 30_000_000 {
        big += &members
            .replace("gml:id=\"", &format!("gml:id=\"c{copies}_"))
            .replace("xlink:href=\"#", &format!("xlink:href=\"#c{copies}_"));
        copies += 1;
    }
    big += tail;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.gml");
    std::fs::write(&path, &big).unwrap();
    let t = std::time::Instant::now();
    let city = citygml::read_path(&path, &ImportOptions::default()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(city.buildings.len(), 13 * copies);
    let mb = big.len() as f64 / 1e6;
    println!(
        "citygml: {mb:.1} MB, {} buildings in {secs:.3} s: {:.1} MB/s, {:.0} buildings/s",
        city.buildings.len(),
        mb / secs,
        city.buildings.len() as f64 / secs
    );
    let t = std::time::Instant::now();
    let opts = ImportOptions {
        keep_surfaces: false,
        ..Default::default()
    };
    citygml::read(big.as_bytes(), &path, &opts).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!("citygml (no surfaces, from memory): {:.1} MB/s", mb / secs);
}
