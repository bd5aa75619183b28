//! A serialisable overview of a city: counts, extents, height ranges, roads by class.
//! Used by `twin info`, `summary.json` and (later) the server. Maps are `BTreeMap`s and lists
//! are sorted, so the same city always gives the same JSON.

use crate::model::City;
use serde::Serialize;
use std::collections::BTreeMap;

/// min / max / mean of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

impl Stats {
    /// None for an empty set; non-finite values are skipped.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Stats> {
        let (mut n, mut sum, mut min, mut max) = (0usize, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            n += 1;
            sum += v;
            min = min.min(v);
            max = max.max(v);
        }
        (n > 0).then(|| Stats {
            min,
            max,
            mean: sum / n as f64,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildingSummary {
    pub count: usize,
    pub parts: usize,
    pub with_height: usize,
    pub lod2: usize,
    pub triangles: usize,
    pub height_m: Option<Stats>,
    pub ground_z: Option<Stats>,
    pub footprint_area_m2: f64,
    pub by_usage: BTreeMap<String, usize>,
    pub by_roof_type: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemSummary {
    pub width: usize,
    pub height: usize,
    pub cell_m: f64,
    pub z: Option<Stats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TerrainSummary {
    pub dem: Option<DemSummary>,
    pub tin_triangles: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassSummary {
    pub links: usize,
    pub length_km: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoadSummary {
    pub nodes: usize,
    pub links: usize,
    pub ways: usize,
    pub length_km: f64,
    pub bridge_links: usize,
    pub by_class: BTreeMap<String, ClassSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BarrierSummary {
    pub id: String,
    pub kind: crate::model::BarrierKind,
    pub crest_z: f64,
    pub length_m: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZoneSummary {
    pub zones: usize,
    pub area_m2: f64,
}

/// Everything `twin info` says about a city.
#[derive(Debug, Clone, Serialize)]
pub struct CitySummary {
    pub name: String,
    pub epsg: u32,
    pub crs_name: String,
    pub vertical_datum: Option<String>,
    /// [min_x, min_y, max_x, max_y] in the city CRS; None for an empty city.
    pub bbox: Option<[f64; 4]>,
    pub buildings: BuildingSummary,
    pub terrain: TerrainSummary,
    pub roads: RoadSummary,
    pub barriers: Vec<BarrierSummary>,
    pub points: Vec<crate::model::NamedPoint>,
    pub landcover: BTreeMap<String, ZoneSummary>,
    pub sources: Vec<String>,
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

fn round_stats(s: Option<Stats>) -> Option<Stats> {
    s.map(|s| Stats {
        min: round(s.min, 3),
        max: round(s.max, 3),
        mean: round(s.mean, 3),
    })
}

/// Summarise a city.
pub fn summarize(city: &City) -> CitySummary {
    let b = &city.buildings;
    let mut by_usage = BTreeMap::new();
    let mut by_roof = BTreeMap::new();
    for bl in b {
        *by_usage.entry(bl.usage.as_str().to_string()).or_insert(0) += 1;
        *by_roof
            .entry(bl.roof_type.as_str().to_string())
            .or_insert(0) += 1;
    }
    let buildings = BuildingSummary {
        count: b.len(),
        parts: city.building_part_count(),
        with_height: b.iter().filter(|x| x.height_m().is_some()).count(),
        lod2: b.iter().filter(|x| x.lod >= 2).count(),
        triangles: b.iter().map(|x| x.surfaces.triangles.len()).sum(),
        height_m: round_stats(Stats::of(b.iter().filter_map(|x| x.height_m()))),
        ground_z: round_stats(Stats::of(b.iter().filter_map(|x| x.ground_z))),
        footprint_area_m2: round(b.iter().map(|x| x.footprint_area()).sum(), 1),
        by_usage,
        by_roof_type: by_roof,
    };
    let terrain = TerrainSummary {
        dem: city.terrain.dem.as_ref().map(|d| DemSummary {
            width: d.spec.width,
            height: d.spec.height,
            cell_m: d.spec.cell_x,
            z: round_stats(d.min_max().map(|(lo, hi)| {
                let valid: Vec<f64> = d
                    .data
                    .iter()
                    .filter(|v| !d.is_missing(**v))
                    .map(|&v| v as f64)
                    .collect();
                Stats {
                    min: lo as f64,
                    max: hi as f64,
                    mean: valid.iter().sum::<f64>() / valid.len().max(1) as f64,
                }
            })),
        }),
        tin_triangles: city.terrain.tin.as_ref().map_or(0, |t| t.triangles.len()),
    };
    let mut by_class: BTreeMap<String, ClassSummary> = BTreeMap::new();
    for l in &city.roads.links {
        let e = by_class
            .entry(l.class.as_str().to_string())
            .or_insert(ClassSummary {
                links: 0,
                length_km: 0.0,
            });
        e.links += 1;
        e.length_km += l.length_m / 1000.0;
    }
    for v in by_class.values_mut() {
        v.length_km = round(v.length_km, 3);
    }
    let roads = RoadSummary {
        nodes: city.roads.nodes.len(),
        links: city.roads.links.len(),
        ways: city.roads.way_count(),
        length_km: round(city.roads.total_length_km(), 3),
        bridge_links: city.roads.links.iter().filter(|l| l.bridge).count(),
        by_class,
    };
    let mut barriers: Vec<BarrierSummary> = city
        .barriers
        .iter()
        .map(|br| BarrierSummary {
            id: br.id.clone(),
            kind: br.kind,
            crest_z: br.crest_z,
            length_m: round(
                br.line
                    .windows(2)
                    .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
                    .sum(),
                2,
            ),
        })
        .collect();
    barriers.sort_by(|a, b| a.id.cmp(&b.id));
    let mut points = city.points.clone();
    points.sort_by(|a, b| a.id.cmp(&b.id));
    let mut landcover: BTreeMap<String, ZoneSummary> = BTreeMap::new();
    for z in &city.landcover {
        let e = landcover
            .entry(z.kind.as_str().to_string())
            .or_insert(ZoneSummary {
                zones: 0,
                area_m2: 0.0,
            });
        e.zones += 1;
        e.area_m2 += z.polygon.area();
    }
    for v in landcover.values_mut() {
        v.area_m2 = round(v.area_m2, 1);
    }
    let bb = city.bbox();
    CitySummary {
        name: city.name.clone(),
        epsg: city.epsg,
        crs_name: crate::crs::Crs::from_epsg(city.epsg)
            .map(|c| c.name())
            .unwrap_or_else(|_| "unknown".into()),
        vertical_datum: city.vertical_datum.clone(),
        bbox: (!bb.is_empty()).then(|| {
            [
                round(bb.min[0], 3),
                round(bb.min[1], 3),
                round(bb.max[0], 3),
                round(bb.max[1], 3),
            ]
        }),
        buildings,
        terrain,
        roads,
        barriers,
        points,
        landcover,
        sources: city.sources.clone(),
    }
}
