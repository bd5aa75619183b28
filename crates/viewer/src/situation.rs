//! The crisis staff's situation counters at one time on the flood clock.
//!
//! [`Situation::at`] counts, at `t_s` (seconds on the flood clock, see
//! [`crate::results`]): buildings reached by the water and their residents, roads closed and
//! their length, the evacuated share and the latest gauge reading. Every counter is
//! non-decreasing in `t_s` except the gauge reading itself.
//!
//! # Closed roads
//!
//! A road counts as closed at `t_s` when
//! - `road_closures.csv` (the flood, flood clock) closes it at or before `t_s`, or
//! - `evacuation_links.*` closes it at or before `t_s` (its time after the order converted
//!   to the flood clock; this adds the scenario's `[[traffic.closure]]`s of the evacuation),
//! - or, only when there is no evacuation, the static assignment (`traffic_links.geojson`)
//!   has it closed and the flood does not close it: such a closure is a scenario closure,
//!   which the static assignment applies for the whole period.
//!
//! Roads are told apart by OSM way and end nodes ([`RoadKey`]); a link without that identity
//! counts on its own. [`Situation::closed_roads`] counts directed road links (a two-way street
//! piece closed in both directions counts twice, as in `summary.json`);
//! [`Situation::closed_road_km`] counts each street piece once (both directions share one
//! geometry), from the link geometry; closed links whose geometry was not found are left out
//! of the length and counted in [`Situation::closed_roads_without_length`]. Reopening
//! (`end_s` of an evacuation closure) is not in the result files and is not modelled.

use crate::error::{Result, ViewError};
use crate::results::{GaugeSeries, Results, RoadKey};
use std::collections::{BTreeMap, BTreeSet};

/// One gauge sample.
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeReading {
    /// Gauge id.
    pub name: String,
    /// Sample time on the flood clock (s).
    pub t_s: f64,
    /// Water surface elevation (m in the vertical datum).
    pub wse_m: f64,
    /// Water depth (m).
    pub depth_m: f64,
}

/// The counters at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Situation {
    /// The time (s on the flood clock).
    pub t_s: f64,
    /// Buildings the water has reached (`first_flooded_s <= t_s`).
    pub flooded_buildings: usize,
    /// Residents of those buildings (estimated; buildings without an estimate add 0).
    pub people_affected: f64,
    /// Directed road links closed at `t_s`.
    pub closed_roads: usize,
    /// Length of the closed street pieces (km), each piece once whatever its directions.
    pub closed_road_km: f64,
    /// Closed road links without known geometry (not in `closed_road_km`).
    pub closed_roads_without_length: usize,
    /// Share of the car persons arrived at a shelter or exit; 0 before the order, linear
    /// between the curve's points, its last value after it; `None` without an evacuation.
    pub evacuated_share: Option<f64>,
    /// Car persons arrived (same interpolation).
    pub evacuated_persons: Option<f64>,
    /// Latest sample of the gauge at or before `t_s`.
    pub gauge: Option<GaugeReading>,
    /// The sample with the highest water level at or before `t_s`.
    pub gauge_peak_so_far: Option<GaugeReading>,
}

impl Situation {
    /// The counters at `t_s`, with the first gauge (by name) of the flood.
    pub fn at(results: &Results, residents: &BTreeMap<String, f64>, t_s: f64) -> Result<Situation> {
        let gauge = results
            .flood
            .as_ref()
            .and_then(|f| f.gauges.first())
            .map(|g| g.name.clone());
        Situation::at_gauge(results, residents, t_s, gauge.as_deref())
    }

    /// The counters at `t_s`, with the gauge `gauge` (none when `None` or unknown).
    pub fn at_gauge(
        results: &Results,
        residents: &BTreeMap<String, f64>,
        t_s: f64,
        gauge: Option<&str>,
    ) -> Result<Situation> {
        if !t_s.is_finite() {
            return Err(ViewError::arg(
                "t_s",
                format!("must be a finite time, got {t_s}"),
            ));
        }
        let mut flooded_buildings = 0;
        let mut people_affected = 0.0;
        if let Some(f) = &results.flood {
            for (id, b) in &f.buildings {
                if b.first_flooded_s.is_some_and(|t| t <= t_s) {
                    flooded_buildings += 1;
                    people_affected += residents
                        .get(id)
                        .copied()
                        .filter(|r| r.is_finite() && *r > 0.0)
                        .unwrap_or(0.0);
                }
            }
        }
        let closed = closed_links(results, t_s);
        let mut pieces: BTreeMap<Piece, f64> = BTreeMap::new();
        let mut without = 0;
        for c in &closed {
            match c.length_m {
                Some(l) => {
                    let e = pieces.entry(c.piece).or_insert(l);
                    *e = e.max(l);
                }
                None => without += 1,
            }
        }
        // A fold from +0 (an empty `sum` of f64 is -0).
        let closed_road_km = pieces.values().fold(0.0, |a, l| a + l) / 1000.0;
        let (evacuated_share, evacuated_persons) =
            match results.traffic.as_ref().and_then(|t| t.evacuation.as_ref()) {
                Some(e) => {
                    let share = interpolate(&e.curve, t_s, |p| p.share);
                    let persons = interpolate(&e.curve, t_s, |p| p.arrived_persons);
                    (Some(share), Some(persons))
                }
                None => (None, None),
            };
        let series = gauge.and_then(|name| {
            results
                .flood
                .as_ref()?
                .gauges
                .iter()
                .find(|g| g.name == name)
        });
        let (gauge, gauge_peak_so_far) = match series {
            Some(g) => gauge_state(g, t_s),
            None => (None, None),
        };
        Ok(Situation {
            t_s,
            flooded_buildings,
            people_affected,
            closed_roads: closed.len(),
            closed_road_km,
            closed_roads_without_length: without,
            evacuated_share,
            evacuated_persons,
            gauge,
            gauge_peak_so_far,
        })
    }
}

/// Residents per building id, estimated from floor area and use with
/// [`sim_traffic::demand::building_activity`] and [`sim_traffic::demand::ActivityRates`]'s
/// defaults (as the evacuation and the demand model do). Non-residential buildings have 0.
pub fn residents_by_building(city: &twin_core::City) -> Result<BTreeMap<String, f64>> {
    let rates = sim_traffic::demand::ActivityRates::default();
    let acts = sim_traffic::demand::building_activity(city, &rates)
        .map_err(|e| ViewError::arg("residents per building", e.to_string()))?;
    let mut out = BTreeMap::new();
    for a in acts {
        let Some(b) = city.buildings.get(a.building as usize) else {
            continue;
        };
        let r = if a.residents.is_finite() {
            a.residents
        } else {
            0.0
        };
        *out.entry(b.id.clone()).or_insert(0.0) += r;
    }
    Ok(out)
}

/// The water level of gauge `name` over time: `[t_s, wse_m]` sorted by time, for the
/// hydrograph plot; empty when there is no such gauge.
pub fn hydrograph(results: &Results, name: &str) -> Vec<[f64; 2]> {
    results
        .flood
        .as_ref()
        .and_then(|f| f.gauges.iter().find(|g| g.name == name))
        .map(|g| g.t_s.iter().zip(&g.wse_m).map(|(&t, &w)| [t, w]).collect())
        .unwrap_or_default()
}

/// Street piece: way and unordered end nodes, or a link of its own without identity.
type Piece = (i64, i64, i64, u32, u8);

/// One closed link at the asked time.
struct Closed {
    piece: Piece,
    length_m: Option<f64>,
}

/// Polyline length (m); `None` for an empty line.
fn line_length_m(line: &[[f64; 2]]) -> Option<f64> {
    if line.len() < 2 {
        return None;
    }
    let l: f64 = line
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .sum();
    l.is_finite().then_some(l)
}

/// The links closed at `t_s`, one per directed road link, as the module documentation says.
fn closed_links(results: &Results, t_s: f64) -> Vec<Closed> {
    let Some(t) = &results.traffic else {
        return Vec::new();
    };
    // Known roads (by key): (closed, length).
    let mut by_key: BTreeMap<RoadKey, Option<f64>> = BTreeMap::new();
    let mut closed_by_key: BTreeSet<RoadKey> = BTreeSet::new();
    let mut out = Vec::new();
    let mut note = |k: RoadKey, len: Option<f64>, closed: bool| {
        let e = by_key.entry(k).or_insert(None);
        if e.is_none() {
            *e = len;
        }
        if closed {
            closed_by_key.insert(k);
        }
    };
    for c in &t.closures {
        note(c.key(), line_length_m(&c.line), c.closed_at_s <= t_s);
    }
    match &t.evacuation {
        Some(e) => {
            for l in &e.links {
                let closed = l.closed_at_s.is_some_and(|c| c <= t_s);
                match l.road {
                    Some(k) => note(k, line_length_m(&l.line), closed),
                    None if closed => out.push(Closed {
                        piece: (0, 0, 0, l.link, 1),
                        length_m: line_length_m(&l.line),
                    }),
                    None => {}
                }
            }
        }
        None => {
            let flooded: BTreeSet<RoadKey> = t.closures.iter().map(|c| c.key()).collect();
            for l in t.links.iter().filter(|l| l.closed) {
                match l.road {
                    Some(k) if flooded.contains(&k) => {}
                    Some(k) => note(k, line_length_m(&l.line), true),
                    None => out.push(Closed {
                        piece: (0, 0, 0, l.link, 2),
                        length_m: line_length_m(&l.line),
                    }),
                }
            }
        }
    }
    for k in closed_by_key {
        let (w, a, b) = k.undirected();
        out.push(Closed {
            piece: (w, a, b, 0, 0),
            length_m: by_key.get(&k).copied().flatten(),
        });
    }
    out
}

/// A curve value at `t_s`: 0 before the first point, linear between points, the last value
/// after the last.
fn interpolate(
    curve: &[crate::results::CurvePoint],
    t_s: f64,
    v: impl Fn(&crate::results::CurvePoint) -> f64,
) -> f64 {
    let Some(first) = curve.first() else {
        return 0.0;
    };
    if t_s < first.t_s {
        return 0.0;
    }
    let k = curve.partition_point(|p| p.t_s <= t_s);
    let a = &curve[k - 1];
    match curve.get(k) {
        None => v(a),
        Some(b) => {
            let span = b.t_s - a.t_s;
            if span > 0.0 {
                v(a) + (v(b) - v(a)) * (t_s - a.t_s) / span
            } else {
                v(a)
            }
        }
    }
}

/// Latest sample at or before `t_s`, and the highest water level up to then.
fn gauge_state(g: &GaugeSeries, t_s: f64) -> (Option<GaugeReading>, Option<GaugeReading>) {
    let n = g.t_s.partition_point(|&t| t <= t_s);
    if n == 0 {
        return (None, None);
    }
    let reading = |i: usize| GaugeReading {
        name: g.name.clone(),
        t_s: g.t_s[i],
        wse_m: g.wse_m[i],
        depth_m: g.depth_m[i],
    };
    let mut peak = 0;
    for i in 1..n {
        if g.wse_m[i] > g.wse_m[peak] {
            peak = i;
        }
    }
    (Some(reading(n - 1)), Some(reading(peak)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::tests::{evac_folder, folder};

    fn residents() -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("B1".to_string(), 10.0),
            ("B2".to_string(), 5.0),
            ("B3".to_string(), 2.5),
            ("B9".to_string(), 100.0),
        ])
    }

    #[test]
    fn exact_counts_on_a_hand_made_folder() {
        let d = evac_folder();
        let r = Results::load(d.path()).unwrap();
        let res = residents();
        let s = Situation::at(&r, &res, 0.0).unwrap();
        assert_eq!(s.flooded_buildings, 0);
        assert_eq!(s.people_affected, 0.0);
        assert_eq!(s.closed_roads, 0);
        assert!(s.closed_road_km == 0.0 && s.closed_road_km.is_sign_positive());
        assert_eq!(s.evacuated_share, Some(0.0));
        assert_eq!(s.evacuated_persons, Some(0.0));
        let g = s.gauge.as_ref().unwrap();
        assert_eq!(
            (g.name.as_str(), g.t_s, g.wse_m, g.depth_m),
            ("a-north", 0.0, 1.0, 0.0)
        );

        let s = Situation::at(&r, &res, 100.0).unwrap();
        assert_eq!((s.flooded_buildings, s.people_affected), (1, 10.0));

        // Order at 3000 s: halfway between 300 s (0.1) and 600 s (0.4) after it.
        let s = Situation::at(&r, &res, 3450.0).unwrap();
        assert_eq!((s.flooded_buildings, s.people_affected), (2, 12.5));
        assert!((s.evacuated_share.unwrap() - 0.25).abs() < 1e-12);
        assert!((s.evacuated_persons.unwrap() - 25.0).abs() < 1e-12);

        // 4000 s: way 11 (2→3), 70 m, closed by the flood.
        let s = Situation::at(&r, &res, 4000.0).unwrap();
        assert_eq!(s.closed_roads, 1);
        assert!((s.closed_road_km - 0.070).abs() < 1e-12);
        assert_eq!(s.closed_roads_without_length, 0);
        assert_eq!(s.evacuated_share, Some(0.4));

        // 5000 s: both directions of way 10 (100 m, one piece) too.
        let s = Situation::at(&r, &res, 5000.0).unwrap();
        assert_eq!(s.closed_roads, 3);
        assert!((s.closed_road_km - 0.170).abs() < 1e-12);
    }

    #[test]
    fn gauge_reading_and_peak() {
        let d = evac_folder();
        let r = Results::load(d.path()).unwrap();
        let res = BTreeMap::new();
        let s = Situation::at_gauge(&r, &res, 119.0, Some("g1")).unwrap();
        assert_eq!(s.gauge.as_ref().unwrap().t_s, 60.0);
        assert_eq!(s.gauge_peak_so_far.as_ref().unwrap().wse_m, 2.5);
        let s = Situation::at_gauge(&r, &res, 500.0, Some("g1")).unwrap();
        let g = s.gauge.unwrap();
        assert_eq!((g.t_s, g.wse_m, g.depth_m), (120.0, 2.2, 1.2));
        let p = s.gauge_peak_so_far.unwrap();
        assert_eq!((p.t_s, p.wse_m), (60.0, 2.5));
        let s = Situation::at_gauge(&r, &res, -1.0, Some("g1")).unwrap();
        assert!(s.gauge.is_none() && s.gauge_peak_so_far.is_none());
        let s = Situation::at_gauge(&r, &res, 500.0, Some("nope")).unwrap();
        assert!(s.gauge.is_none());
        assert_eq!(
            hydrograph(&r, "g1"),
            [[0.0, 2.0], [60.0, 2.5], [120.0, 2.2]]
        );
        assert!(hydrograph(&r, "nope").is_empty());
    }

    #[test]
    fn counters_never_decrease_in_time() {
        let d = evac_folder();
        let r = Results::load(d.path()).unwrap();
        let res = residents();
        let mut prev: Option<Situation> = None;
        for k in -10..=160 {
            let s = Situation::at(&r, &res, f64::from(k) * 50.0).unwrap();
            if let Some(p) = &prev {
                assert!(s.flooded_buildings >= p.flooded_buildings);
                assert!(s.people_affected >= p.people_affected);
                assert!(s.closed_roads >= p.closed_roads);
                assert!(s.closed_road_km >= p.closed_road_km);
                assert!(s.evacuated_share >= p.evacuated_share);
                assert!(s.evacuated_persons >= p.evacuated_persons);
                let peak = |s: &Situation| s.gauge_peak_so_far.as_ref().map(|g| g.wse_m);
                assert!(peak(&s) >= peak(p));
            }
            prev = Some(s);
        }
    }

    #[test]
    fn bad_time_and_bad_residents() {
        let d = evac_folder();
        let r = Results::load(d.path()).unwrap();
        let e = Situation::at(&r, &BTreeMap::new(), f64::NAN).unwrap_err();
        assert!(e.to_string().contains("t_s"), "{e}");
        let res = BTreeMap::from([("B1".to_string(), f64::NAN), ("B3".to_string(), -4.0)]);
        let s = Situation::at(&r, &res, 1e9).unwrap();
        assert_eq!((s.flooded_buildings, s.people_affected), (2, 0.0));
    }

    #[test]
    fn empty_results_give_zero_counters() {
        let d = folder(&[]);
        let r = Results::load(d.path()).unwrap();
        let s = Situation::at(&r, &BTreeMap::new(), 10.0).unwrap();
        assert_eq!(s.flooded_buildings, 0);
        assert_eq!(s.closed_roads, 0);
        assert!(s.evacuated_share.is_none() && s.gauge.is_none());
    }

    #[test]
    fn static_closures_count_always_and_unmatched_have_no_length() {
        let gj = |features: &str| {
            format!(
                "{{\"type\":\"FeatureCollection\",{}\"features\":[{features}]}}",
                crate::results::tests::CRS
            )
        };
        let link = |n: u32, way: i64, from: i64, to: i64, closed: bool, coords: &str| {
            format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"link\":{n},\"way_id\":{way},\"from\":{from},\"to\":{to},\"volume_veh_h\":0,\"capacity_veh_h\":0,\"closed\":{closed}}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":{coords}}}}}"
            )
        };
        let features = [
            link(1, 20, 1, 2, true, "[[0,0],[0,200]]"),
            link(2, 20, 2, 1, true, "[[0,200],[0,0]]"),
            // Flooded at 5000 s: counted from then on, not always.
            link(3, 11, 2, 3, true, "[[0,0],[0,50]]"),
            link(4, 30, 5, 6, false, "[[0,0],[0,9]]"),
        ]
        .join(",");
        let d = folder(&[
            ("traffic_links.geojson", &gj(&features)),
            (
                "road_closures.csv",
                "road_link,way_id,name,from_node,to_node,closed_at_s\n7,11,,2,3,5000\n8,40,,1,9,6000\n",
            ),
        ]);
        let r = Results::load(d.path()).unwrap();
        let res = BTreeMap::new();
        let s = Situation::at(&r, &res, 0.0).unwrap();
        assert_eq!(s.closed_roads, 2);
        assert!((s.closed_road_km - 0.2).abs() < 1e-12);
        let s = Situation::at(&r, &res, 6000.0).unwrap();
        assert_eq!(s.closed_roads, 4);
        assert!((s.closed_road_km - 0.25).abs() < 1e-12);
        assert_eq!(s.closed_roads_without_length, 1);
        assert!(s.evacuated_share.is_none());
    }

    #[test]
    fn interpolation_edges() {
        use crate::results::CurvePoint;
        let p = |t: f64, share: f64| CurvePoint {
            t_s: t,
            since_order_s: t,
            departed_share_planned: 0.0,
            arrived_persons: 0.0,
            share,
        };
        assert_eq!(interpolate(&[], 5.0, |p| p.share), 0.0);
        let c = [p(10.0, 0.2), p(10.0, 0.3), p(20.0, 0.5)];
        assert_eq!(interpolate(&c, 9.0, |p| p.share), 0.0);
        assert_eq!(interpolate(&c, 10.0, |p| p.share), 0.3);
        assert_eq!(interpolate(&c, 15.0, |p| p.share), 0.4);
        assert_eq!(interpolate(&c, 99.0, |p| p.share), 0.5);
    }

    #[test]
    fn residents_of_a_demo_city() {
        let mut b = twin_core::model::Building {
            id: "R1".into(),
            footprint: vec![twin_core::geom::Polygon::new(vec![
                [0.0, 0.0],
                [10.0, 0.0],
                [10.0, 10.0],
                [0.0, 10.0],
            ])],
            storeys: Some(4),
            usage: twin_core::model::BuildingUse::Residential,
            ..Default::default()
        };
        let mut city = twin_core::City::default();
        city.buildings.push(b.clone());
        b.id = "O1".into();
        b.usage = twin_core::model::BuildingUse::Office;
        city.buildings.push(b);
        let r = residents_by_building(&city).unwrap();
        // 100 m² × 4 storeys × 0.75 / 39 m² per resident.
        assert!((r["R1"] - 400.0 * 0.75 / 39.0).abs() < 1e-9);
        assert_eq!(r["O1"], 0.0);
        assert_eq!(r.len(), 2);
    }
}
