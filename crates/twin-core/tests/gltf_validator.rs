//! Checks the glTF export with the Khronos glTF-Validator (`tools/gltf-validate`).
//!
//! Runs `node tools/gltf-validate/validate.mjs` when `node` and the validator's
//! `node_modules` are installed (`cd tools/gltf-validate && npm ci`). Without them the test
//! prints "skipped", unless `TWIN_REQUIRE_GLTF_VALIDATOR` is set, in which case it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use twin_core::City;
use twin_core::export::gltf::{GltfOptions, glb_summary, write_glb};
use twin_core::geom::{P3, Polygon};
use twin_core::model::{
    Building, BuildingUse, HighwayClass, RoadLink, RoadNode, RoofType, SurfaceKind, TriMesh,
};
use twin_core::raster::{GridSpec, Raster};

const E0: f64 = 566_400.0;
const N0: f64 = 5_928_300.0;

fn block(
    id: &str,
    ring: Vec<[f64; 2]>,
    holes: Vec<Vec<[f64; 2]>>,
    ground: f64,
    h: f64,
) -> Building {
    let mut footprint = Polygon::new(ring);
    footprint.interiors = holes;
    Building {
        id: id.into(),
        footprint: vec![footprint],
        ground_z: Some(ground),
        measured_height_m: Some(h),
        usage: BuildingUse::Residential,
        roof_type: RoofType::Flat,
        ..Default::default()
    }
}

/// A gabled house 10 m (E) x 8 m (N), eaves at 6 m, ridge at 9 m along E, built face by face.
fn gabled(id: &str, x: f64, y: f64, g: f64) -> Building {
    let (w, d, eave, ridge) = (10.0, 8.0, g + 6.0, g + 9.0);
    let c = |dx: f64, dy: f64, z: f64| -> P3 { [x + dx, y + dy, z] };
    let mut m = TriMesh::default();
    // Outer rings counter-clockwise seen from outside.
    let faces: Vec<(Vec<P3>, SurfaceKind)> = vec![
        (
            vec![c(0., 0., g), c(0., d, g), c(w, d, g), c(w, 0., g)],
            SurfaceKind::Ground,
        ),
        (
            vec![c(0., 0., g), c(w, 0., g), c(w, 0., eave), c(0., 0., eave)],
            SurfaceKind::Wall,
        ),
        (
            vec![c(w, d, g), c(0., d, g), c(0., d, eave), c(w, d, eave)],
            SurfaceKind::Wall,
        ),
        (
            vec![
                c(w, 0., g),
                c(w, d, g),
                c(w, d, eave),
                c(w, d / 2., ridge),
                c(w, 0., eave),
            ],
            SurfaceKind::Wall,
        ),
        (
            vec![
                c(0., d, g),
                c(0., 0., g),
                c(0., 0., eave),
                c(0., d / 2., ridge),
                c(0., d, eave),
            ],
            SurfaceKind::Wall,
        ),
        (
            vec![
                c(0., 0., eave),
                c(w, 0., eave),
                c(w, d / 2., ridge),
                c(0., d / 2., ridge),
            ],
            SurfaceKind::Roof,
        ),
        (
            vec![
                c(w, d, eave),
                c(0., d, eave),
                c(0., d / 2., ridge),
                c(w, d / 2., ridge),
            ],
            SurfaceKind::Roof,
        ),
    ];
    for (ring, kind) in faces {
        assert!(m.add_polygon(&ring, &[], kind) > 0);
    }
    Building {
        id: id.into(),
        footprint: vec![Polygon::new(vec![
            [x, y],
            [x + w, y],
            [x + w, y + d],
            [x, y + d],
        ])],
        ground_z: Some(g),
        roof_z: Some(ridge),
        roof_type: RoofType::Gable,
        storeys: Some(2),
        lod: 2,
        surfaces: m,
        ..Default::default()
    }
}

fn test_city() -> City {
    let mut c = City::new("validator", 25832);
    c.vertical_datum = Some("DHHN2016".into());
    let sq = |x: f64, y: f64, w: f64| vec![[x, y], [x + w, y], [x + w, y + w], [x, y + w]];
    let mut pre = block("DEHH_lod1_b", sq(E0 + 20.0, N0, 8.0), vec![], 5.5, 7.0);
    pre.extrude_lod1();
    c.buildings = vec![
        block("DEHH_lod1_a", sq(E0, N0, 12.0), vec![], 5.0, 12.0),
        pre,
        block(
            "DEHH_courtyard",
            sq(E0 + 40.0, N0, 30.0),
            vec![sq(E0 + 50.0, N0 + 10.0, 10.0)],
            6.0,
            15.0,
        ),
        gabled("DEHH_gable", E0, N0 + 30.0, 5.2),
        // Footprint without heights: a node with attributes but no mesh.
        Building {
            id: "DEHH_footprint_only".into(),
            footprint: vec![Polygon::new(sq(E0 + 20.0, N0 + 30.0, 5.0))],
            ..Default::default()
        },
    ];
    let spec = GridSpec {
        origin_x: E0 - 20.0,
        origin_y: N0 + 60.0,
        cell_x: 2.0,
        cell_y: 2.0,
        width: 60,
        height: 45,
        epsg: Some(25832),
    };
    let mut data: Vec<f32> = (0..spec.len())
        .map(|i| {
            let (col, row) = spec.col_row(i);
            5.0 + 0.02 * col as f32 + 0.3 * ((row as f32) * 0.3).sin()
        })
        .collect();
    data[100] = f32::NAN;
    data[500] = -9999.0;
    c.terrain.dem = Some(Raster::from_vec(spec, data, Some(-9999.0)).expect("DEM"));
    c.roads.nodes = vec![
        RoadNode {
            id: 1,
            x: E0 - 10.0,
            y: N0 - 5.0,
        },
        RoadNode {
            id: 2,
            x: E0 + 80.0,
            y: N0 - 5.0,
        },
        RoadNode {
            id: 3,
            x: E0 + 80.0,
            y: N0 + 50.0,
        },
    ];
    let link = |from: u32, to: u32, way_id: i64, geometry: Vec<[f64; 2]>| RoadLink {
        from,
        to,
        way_id,
        class: HighwayClass::Residential,
        lanes: 1,
        speed_kmh: 30.0,
        capacity_veh_h: 600.0,
        length_m: 0.0,
        name: Some("Am Inselpark".into()),
        bridge: false,
        tunnel: false,
        geometry,
    };
    c.roads.links = vec![
        link(
            0,
            1,
            10,
            vec![
                [E0 - 10.0, N0 - 5.0],
                [E0 + 35.0, N0 - 6.0],
                [E0 + 80.0, N0 - 5.0],
            ],
        ),
        link(
            1,
            2,
            11,
            vec![[E0 + 80.0, N0 - 5.0], [E0 + 80.0, N0 + 50.0]],
        ),
    ];
    c
}

fn validator_script() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tools/gltf-validate/validate.mjs");
    let module = root.join("tools/gltf-validate/node_modules/gltf-validator");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (node_ok && script.is_file() && module.is_dir()).then_some(script)
}

/// Run the Khronos validator on `path` and assert no errors and no warnings; prints
/// "skipped" (or fails when `TWIN_REQUIRE_GLTF_VALIDATOR` is set) without the validator.
fn validate(path: &Path) {
    let Some(script) = validator_script() else {
        let msg = "the glTF validator is not available: install Node.js and run \
                   `npm ci` in tools/gltf-validate";
        assert!(
            std::env::var_os("TWIN_REQUIRE_GLTF_VALIDATOR").is_none(),
            "TWIN_REQUIRE_GLTF_VALIDATOR is set but {msg}"
        );
        println!("skipped: {msg}");
        return;
    };
    let out = Command::new("node")
        .arg(&script)
        .arg(path)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "validator reported errors:\n{stdout}");
    assert!(stdout.contains("numErrors=0"), "{stdout}");
    assert!(stdout.contains("numWarnings=0"), "{stdout}");
}

#[test]
fn khronos_validator_accepts_export() {
    let city = test_city();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.glb");
    let opts = GltfOptions {
        include_roads: true,
        ..Default::default()
    };
    write_glb(&city, &path, &opts).expect("write glb");
    let bytes = std::fs::read(&path).expect("read glb");
    let s = glb_summary(&bytes, &path).expect("summary");
    assert_eq!(s.nodes, 1 + 5 + 2);
    assert_eq!(s.meshes, 4 + 2);
    assert_eq!(
        &s.node_names[1..],
        [
            "DEHH_lod1_a",
            "DEHH_lod1_b",
            "DEHH_courtyard",
            "DEHH_gable",
            "DEHH_footprint_only",
            "terrain",
            "roads"
        ]
    );
    // 2 boxes (12 each), courtyard (8 roof + 8 ground + 16 wall), gable house.
    let gable_tris = 2 + 2 + 2 + 3 + 3 + 2 + 2;
    let dem_tris = 2 * 59 * 44 - 6 - 6;
    assert_eq!(s.triangles as usize, 12 + 12 + 32 + gable_tris + dem_tris);
    validate(&path);
}

#[test]
fn khronos_validator_accepts_large_terrain_with_u32_indices() {
    let mut city = City::new("dem", 25832);
    let spec = GridSpec {
        origin_x: E0,
        origin_y: N0 + 300.0,
        cell_x: 1.0,
        cell_y: 1.0,
        width: 300,
        height: 300,
        epsg: Some(25832),
    };
    let data = (0..spec.len())
        .map(|i| 3.0 + ((i % 300) as f32 * 0.07).sin() + ((i / 300) as f32 * 0.05).cos())
        .collect();
    city.terrain.dem = Some(Raster::from_vec(spec, data, None).expect("DEM"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("terrain.glb");
    write_glb(&city, &path, &GltfOptions::default()).expect("write glb");
    let s = glb_summary(&std::fs::read(&path).expect("read"), &path).expect("summary");
    assert_eq!(s.triangles, 2 * 299 * 299);
    validate(&path);
}

#[test]
fn khronos_validator_accepts_empty_city() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.glb");
    write_glb(&City::new("empty", 25832), &path, &GltfOptions::default()).expect("write glb");
    validate(&path);
}
