//! GeoJSON: export then import reproduces the city; importer errors on bad input.

use twin_core::City;
use twin_core::Error;
use twin_core::export::geojson::{GeoJsonOptions, Layer, write_city_geojson, write_layer};
use twin_core::geom::Polygon;
use twin_core::import::{ImportOptions, geojson};
use twin_core::model::*;

fn sample() -> City {
    let mut c = City::new("rt", 25832);
    let mut p = Polygon::new(vec![
        [566000.0, 5928000.0],
        [566020.5, 5928000.0],
        [566020.5, 5928010.25],
        [566000.0, 5928010.25],
    ]);
    p.interiors.push(vec![
        [566005.0, 5928002.0],
        [566005.0, 5928004.0],
        [566007.0, 5928004.0],
        [566007.0, 5928002.0],
    ]);
    let mut b = Building {
        id: "b1".into(),
        footprint: vec![p],
        ground_z: Some(2.5),
        measured_height_m: Some(12.25),
        storeys: Some(4),
        usage: BuildingUse::Office,
        roof_type: RoofType::Flat,
        function: Some("31001_2020".into()),
        ..Default::default()
    };
    b.attributes.insert("note".into(), "x".into());
    b.attributes.insert("usage".into(), "collides".into());
    b.extrude_lod1();
    c.buildings.push(b);
    c.buildings.push(Building {
        id: "b2".into(),
        footprint: vec![
            Polygon::new(vec![
                [566100.0, 5928100.0],
                [566110.0, 5928100.0],
                [566110.0, 5928110.0],
            ]),
            Polygon::new(vec![
                [566200.0, 5928100.0],
                [566210.0, 5928100.0],
                [566210.0, 5928110.0],
            ]),
        ],
        ..Default::default()
    });
    c.roads.nodes = vec![
        RoadNode {
            id: 7,
            x: 566000.0,
            y: 5927990.0,
        },
        RoadNode {
            id: 9,
            x: 566100.0,
            y: 5927990.0,
        },
    ];
    c.roads.links.push(RoadLink {
        from: 0,
        to: 1,
        way_id: 42,
        class: HighwayClass::Secondary,
        lanes: 2,
        speed_kmh: 50.0,
        capacity_veh_h: 2400.0,
        length_m: 100.0,
        name: Some("Hafenstraße".into()),
        bridge: true,
        tunnel: false,
        geometry: vec![[566000.0, 5927990.0], [566100.0, 5927990.0]],
    });
    c.barriers.push(Barrier {
        id: "d1".into(),
        kind: BarrierKind::Wall,
        line: vec![[566000.0, 5927980.0], [566050.0, 5927981.0]],
        crest_z: 7.2,
    });
    c.points.push(NamedPoint {
        id: "g1".into(),
        name: "St. Pauli".into(),
        kind: PointKind::Gauge,
        x: 566001.0,
        y: 5927985.0,
        z: Some(1.5),
        capacity: None,
    });
    c.points.push(NamedPoint {
        id: "s1".into(),
        name: "Schule".into(),
        kind: PointKind::Shelter,
        x: 566002.0,
        y: 5927985.0,
        z: None,
        capacity: Some(300),
    });
    c.landcover.push(LandCoverZone {
        id: "w".into(),
        kind: LandCover::Water,
        polygon: Polygon::new(vec![
            [566000.0, 5927900.0],
            [566100.0, 5927900.0],
            [566100.0, 5927950.0],
        ]),
        manning_n: 0.03,
    });
    c
}

#[test]
fn geojson_round_trip_projected() {
    let c = sample();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("city.geojson");
    write_city_geojson(&c, &f, &GeoJsonOptions::default()).unwrap();
    let bytes = std::fs::read(&f).unwrap();
    write_city_geojson(&c, &f, &GeoJsonOptions::default()).unwrap();
    assert_eq!(bytes, std::fs::read(&f).unwrap(), "deterministic");
    assert!(String::from_utf8_lossy(&bytes).contains("urn:ogc:def:crs:EPSG::25832"));
    let r = geojson::read_path(&f, &ImportOptions::default()).unwrap();
    assert_eq!(r.epsg, 25832);
    assert_eq!(r.buildings.len(), 2);
    for (a, b) in c.buildings.iter().zip(&r.buildings) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.footprint.len(), b.footprint.len());
        for (pa, pb) in a.footprint.iter().zip(&b.footprint) {
            assert!((pa.area() - pb.area()).abs() < 1e-6);
            for (qa, qb) in pa.exterior.iter().zip(&pb.exterior) {
                assert!((qa[0] - qb[0]).abs() < 1e-6 && (qa[1] - qb[1]).abs() < 1e-6);
            }
            assert_eq!(pa.interiors.len(), pb.interiors.len());
        }
        assert_eq!(
            a.height_m().map(|h| (h * 1e3).round()),
            b.height_m().map(|h| (h * 1e3).round())
        );
        assert_eq!(a.ground_z, b.ground_z);
        assert_eq!(
            (a.storeys, a.usage, a.roof_type, &a.function),
            (b.storeys, b.usage, b.roof_type, &b.function)
        );
        assert_eq!(a.attributes, b.attributes);
    }
    assert!(!r.buildings[0].surfaces.is_empty(), "extruded");
    assert!(r.buildings[1].surfaces.is_empty() && r.buildings[1].height_m().is_none());
    assert_eq!(r.roads.links.len(), 1);
    let (l, m) = (&c.roads.links[0], &r.roads.links[0]);
    assert_eq!(
        (
            r.roads.nodes[m.from as usize].id,
            r.roads.nodes[m.to as usize].id
        ),
        (7, 9)
    );
    assert_eq!(
        (
            l.way_id,
            l.class,
            l.lanes,
            l.speed_kmh,
            l.capacity_veh_h,
            l.length_m,
            &l.name,
            l.bridge,
            l.tunnel,
            &l.geometry
        ),
        (
            m.way_id,
            m.class,
            m.lanes,
            m.speed_kmh,
            m.capacity_veh_h,
            m.length_m,
            &m.name,
            m.bridge,
            m.tunnel,
            &m.geometry
        )
    );
    assert_eq!(r.barriers, c.barriers);
    assert_eq!(r.points, c.points);
    assert_eq!(r.landcover, c.landcover);

    let fb = dir.path().join("buildings.geojson");
    write_layer(&c, Layer::Buildings, &fb, &GeoJsonOptions::default()).unwrap();
    let rb = geojson::read_path(&fb, &ImportOptions::default()).unwrap();
    assert_eq!(
        (rb.buildings.len(), rb.roads.links.len(), rb.points.len()),
        (2, 0, 0)
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
}

#[test]
fn geojson_round_trip_wgs84() {
    if twin_core::crs::Crs::from_epsg(25832)
        .and_then(|c| c.from_wgs84(10.0, 53.5))
        .is_err()
    {
        println!("skipped until crs lands");
        return;
    }
    let c = sample();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("w.geojson");
    write_city_geojson(
        &c,
        &f,
        &GeoJsonOptions {
            wgs84: true,
            ..Default::default()
        },
    )
    .unwrap();
    let r = geojson::read_path(&f, &ImportOptions::default()).unwrap();
    assert_eq!(r.epsg, 25832, "UTM zone of 10 E");
    let (a, b) = (
        c.buildings[0].footprint[0].exterior[0],
        r.buildings[0].footprint[0].exterior[0],
    );
    assert!(
        (a[0] - b[0]).abs() < 0.01 && (a[1] - b[1]).abs() < 0.01,
        "{a:?} {b:?}"
    );
}

#[test]
fn geojson_osm_style_properties_and_defaults() {
    let s = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[
      {"type":"Feature","id":"way/1","properties":{"building":"house","building:height":"12 m","ground_z":3,"addr:street":"A"},
       "geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}},
      {"type":"Feature","properties":{"@id":5,"building:levels":"2"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
      {"type":"Feature","properties":{"highway":"footway"},"geometry":{"type":"LineString","coordinates":[[0,0],[3,4]]}},
      {"type":"Feature","properties":{"highway":"residential"},"geometry":{"type":"LineString","coordinates":[[3,4],[3,8]]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#;
    let c = geojson::read_slice(s.as_bytes(), "osm.geojson", &ImportOptions::default()).unwrap();
    assert_eq!(c.buildings.len(), 2);
    let b = &c.buildings[0];
    assert_eq!(
        (b.id.as_str(), b.usage, b.roof_z),
        ("way/1", BuildingUse::Residential, Some(15.0))
    );
    assert_eq!(b.address.as_ref().unwrap().street.as_deref(), Some("A"));
    let b2 = &c.buildings[1];
    assert_eq!(
        (b2.id.as_str(), b2.height_m(), b2.ground_z),
        ("5", Some(6.0), None)
    );
    assert!(b2.surfaces.is_empty());
    assert_eq!(
        (c.roads.links.len(), c.roads.nodes.len()),
        (2, 3),
        "shared end node"
    );
    assert_eq!(c.roads.links[0].class, HighwayClass::Path);
    assert_eq!(c.roads.links[0].length_m, 5.0);
    assert!(
        c.sources
            .iter()
            .any(|s| s.contains("skipped features: 1 Point"))
    );
}

fn err(s: &str) -> String {
    match geojson::read_slice(s.as_bytes(), "bad.geojson", &ImportOptions::default()) {
        Err(e @ Error::Format { .. }) => e.to_string(),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn geojson_bad_input() {
    let fc = |g: &str| {
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"x"}},"geometry":{g}}}]}}"#
        )
    };
    assert!(err(r#"{"type":"FeatureCollection","features":["#).contains("line 1, column"));
    assert!(err("").contains("EOF"));
    assert!(err(r#"{"type":"Feature"}"#).contains("expected \"FeatureCollection\""));
    let e = err(&fc(
        r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
    ));
    assert!(
        e.contains("features[0] (id x)") && e.contains("needs at least 4"),
        "{e}"
    );
    assert!(err(&fc(r#"{"type":"Point","coordinates":[1e999,0]}"#)).contains("out of range"));
    assert!(err(&fc(r#"{"type":"Point","coordinates":[566000,5928000]}"#)).contains("not a WGS84"));
    assert!(err(&fc(r#"{"type":"Point","coordinates":[1]}"#)).contains("at least 2"));
    let e = err(
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:99999"}},"features":[]}"#,
    );
    assert!(
        e.contains("crs.properties.name") && e.contains("99999"),
        "{e}"
    );
    let e = err(
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[{"type":"Feature","properties":{"layer":"barrier"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#,
    );
    assert!(e.contains("crest_z"), "{e}");
}

#[test]
fn utm_zones() {
    assert_eq!(geojson::utm_epsg_for(10.0, 53.5), 25832);
    assert_eq!(geojson::utm_epsg_for(13.4, 52.5), 25833);
    assert_eq!(geojson::utm_epsg_for(4.3, 52.1), 25831);
    assert_eq!(geojson::utm_epsg_for(-74.0, 40.7), 32618);
    assert_eq!(geojson::utm_epsg_for(151.2, -33.9), 32756);
}
