//! The GeoJSON export opens in GDAL (`ogrinfo`): feature count and CRS.

use twin_core::City;
use twin_core::export::geojson::{GeoJsonOptions, Layer, write_layer};
use twin_core::geom::Polygon;
use twin_core::model::Building;

#[test]
fn geojson_opens_in_ogrinfo() {
    if std::process::Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("TWIN_REQUIRE_GDAL").is_none(),
            "TWIN_REQUIRE_GDAL set but ogrinfo missing"
        );
        println!("skipped: ogrinfo (gdal-bin) not installed");
        return;
    }
    let mut c = City::new("ogr", 25832);
    for i in 0..3 {
        let x = 566000.0 + 20.0 * i as f64;
        c.buildings.push(Building {
            id: format!("b{i}"),
            footprint: vec![Polygon::new(vec![
                [x, 5928000.0],
                [x + 10.0, 5928000.0],
                [x + 10.0, 5928010.0],
            ])],
            ground_z: Some(1.0),
            roof_z: Some(10.0),
            ..Default::default()
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("buildings.geojson");
    write_layer(&c, Layer::Buildings, &f, &GeoJsonOptions::default()).unwrap();
    let out = std::process::Command::new("ogrinfo")
        .args(["-so", "-al"])
        .arg(&f)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Feature Count: 3"), "{text}");
    assert!(
        text.contains("25832") && text.contains("UTM zone 32N"),
        "{text}"
    );
    assert!(text.contains("height_m: Real"), "{text}");
}
