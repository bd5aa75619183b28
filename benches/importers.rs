//! Importer and generator throughput: CityGML (Hamburg LoD2, repeated to a tile-sized buffer),
//! CityJSON (Den Haag tile), OSM (Helsinki PBF) and demo city generation.
//! Run: `cargo bench --bench importers`. Figures go to docs/benchmarks.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::time::Duration;
use twin_core::import::ImportOptions;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}

/// The Hamburg sample repeated `n` times inside one CityModel, with unique gml:ids.
fn citygml_tile(n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(shared("citygml/hamburg_wilhelmsburg_lod2_subset.xml"))
        .expect("Hamburg sample");
    let start = text
        .find("<core:cityObjectMember")
        .expect("cityObjectMember");
    let end = text
        .rfind("</core:cityObjectMember>")
        .expect("cityObjectMember end")
        + "</core:cityObjectMember>".len();
    let (head, members, tail) = (&text[..start], &text[start..end], &text[end..]);
    let mut out = String::with_capacity(head.len() + n * members.len() + tail.len());
    out.push_str(head);
    for i in 0..n {
        out.push_str(
            &members
                .replace("gml:id=\"", &format!("gml:id=\"r{i}_"))
                .replace("xlink:href=\"#", &format!("xlink:href=\"#r{i}_")),
        );
    }
    out.push_str(tail);
    out.into_bytes()
}

fn importers(c: &mut Criterion) {
    let mut g = c.benchmark_group("import");
    g.measurement_time(Duration::from_secs(8)).sample_size(10);

    let tile = citygml_tile(200);
    g.throughput(Throughput::Bytes(tile.len() as u64));
    g.bench_function(
        format!("citygml_hamburg_x200_{}MB", tile.len() / 1_000_000),
        |b| {
            b.iter(|| {
                twin_core::import::citygml::read(
                    &tile[..],
                    Path::new("bench.gml"),
                    &ImportOptions::default(),
                )
                .expect("citygml")
            })
        },
    );

    let dh = std::fs::read(shared("cityjson/denhaag_01.city.json")).expect("Den Haag tile");
    g.throughput(Throughput::Bytes(dh.len() as u64));
    g.bench_function("cityjson_denhaag", |b| {
        b.iter(|| {
            twin_core::import::cityjson::read_slice(
                &dh,
                Path::new("denhaag_01.city.json"),
                &ImportOptions::default(),
            )
            .expect("cityjson")
        })
    });

    let hel = shared("osm/helsinki.osm.pbf");
    g.throughput(Throughput::Bytes(
        std::fs::metadata(&hel).map(|m| m.len()).unwrap_or(0),
    ));
    g.bench_function("osm_helsinki_pbf", |b| {
        b.iter(|| twin_core::import::osm::read_roads(&hel, &ImportOptions::default()).expect("osm"))
    });
    g.finish();

    let mut g = c.benchmark_group("demo");
    g.measurement_time(Duration::from_secs(10)).sample_size(10);
    g.bench_function("generate_2km_1m", |b| {
        b.iter(|| twin_core::demo::generate(&twin_core::demo::DemoParams::default()).expect("demo"))
    });
    g.finish();
}

criterion_group!(benches, importers);
criterion_main!(benches);
