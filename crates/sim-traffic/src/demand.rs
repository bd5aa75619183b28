//! Demand for cities without OD data: residents and jobs per building from its use and floor
//! area, zones on a square grid, and a doubly constrained gravity model between the zones.
//!
//! The rates are documented assumptions (docs/traffic.md), all overridable:
//! - floor area = footprint area × storeys (the source's storeys, else height / 3 m, at least
//!   one storey);
//! - residents = residential floor area × 0.75 (net living area per gross floor area) / 39 m²
//!   living area per resident (Hamburg, Statistikamt Nord 2023: 39.0 m²);
//! - jobs per 100 m² of floor area: office 3.3, commercial 2.0, industrial 1.0, school 1.0,
//!   hospital 2.0, public 1.5 (employment densities of German planning guidelines, e.g.
//!   Bosserhoff's Ver_Bau);
//! - morning peak-hour car trips from home: 0.09 per resident (MiD 2017: 3.1 trips per person
//!   and day, about 30 % as car driver in Hamburg, about 10 % of them in the peak hour).

use crate::error::TrafficError;
use twin_core::City;
use twin_core::geom::P2;
use twin_core::model::{Building, BuildingUse};

/// Rates that turn buildings into residents, jobs and trips.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRates {
    /// Storey height used when a building has a height but no storey count (m).
    pub storey_height_m: f64,
    /// Net living area per gross floor area of residential buildings.
    pub living_area_share: f64,
    /// Living area per resident (m²).
    pub living_area_per_resident_m2: f64,
    /// Jobs per 100 m² of gross floor area, per use.
    pub jobs_per_100m2: [(BuildingUse, f64); 6],
    /// Peak-hour car trips produced per resident.
    pub peak_trips_per_resident: f64,
}

impl Default for ActivityRates {
    fn default() -> Self {
        ActivityRates {
            storey_height_m: 3.0,
            living_area_share: 0.75,
            living_area_per_resident_m2: 39.0,
            jobs_per_100m2: [
                (BuildingUse::Office, 3.3),
                (BuildingUse::Commercial, 2.0),
                (BuildingUse::Industrial, 1.0),
                (BuildingUse::School, 1.0),
                (BuildingUse::Hospital, 2.0),
                (BuildingUse::Public, 1.5),
            ],
            peak_trips_per_resident: 0.09,
        }
    }
}

/// Residents and jobs of one building.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activity {
    /// Index into `city.buildings`.
    pub building: u32,
    pub at: P2,
    pub floor_area_m2: f64,
    pub residents: f64,
    pub jobs: f64,
}

/// Gross floor area of a building: footprint area × storeys.
pub fn floor_area_m2(b: &Building, storey_height_m: f64) -> f64 {
    let footprint: f64 = b.footprint.iter().map(|p| p.area()).sum();
    let storeys = match (b.storeys, b.height_m()) {
        (Some(s), _) if s > 0 => f64::from(s),
        (_, Some(h)) if h.is_finite() && h > 0.0 => (h / storey_height_m).round().max(1.0),
        _ => 1.0,
    };
    footprint * storeys
}

/// Residents and jobs of every building (in building order).
pub fn building_activity(
    city: &City,
    rates: &ActivityRates,
) -> Result<Vec<Activity>, TrafficError> {
    let pos = |name: &'static str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(TrafficError::Param {
                name,
                value: v.to_string(),
                expected: "a positive number",
            })
        }
    };
    pos("storey_height_m", rates.storey_height_m)?;
    pos(
        "living_area_per_resident_m2",
        rates.living_area_per_resident_m2,
    )?;
    if !(rates.living_area_share.is_finite() && (0.0..=1.0).contains(&rates.living_area_share)) {
        return Err(TrafficError::Param {
            name: "living_area_share",
            value: rates.living_area_share.to_string(),
            expected: "a share between 0 and 1",
        });
    }
    Ok(city
        .buildings
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let fa = floor_area_m2(b, rates.storey_height_m);
            let residents = if b.usage == BuildingUse::Residential {
                fa * rates.living_area_share / rates.living_area_per_resident_m2
            } else {
                0.0
            };
            let jobs = rates
                .jobs_per_100m2
                .iter()
                .find(|(u, _)| *u == b.usage)
                .map_or(0.0, |(_, r)| fa * r / 100.0);
            let at = footprint_centroid(b);
            Activity {
                building: i as u32,
                at,
                floor_area_m2: fa,
                residents,
                jobs,
            }
        })
        .collect())
}

/// Area-weighted centroid of a building's footprint (its bbox centre when it has none).
pub fn footprint_centroid(b: &Building) -> P2 {
    let mut a = 0.0;
    let mut c = [0.0, 0.0];
    for p in &b.footprint {
        let w = p.area();
        let q = p.centroid();
        a += w;
        c[0] += w * q[0];
        c[1] += w * q[1];
    }
    if a > 0.0 {
        [c[0] / a, c[1] / a]
    } else {
        let bb = b.bbox();
        [(bb.min[0] + bb.max[0]) / 2.0, (bb.min[1] + bb.max[1]) / 2.0]
    }
}

/// Zones on a square grid: the cells holding activity, with their activity-weighted centres.
#[derive(Debug, Clone, PartialEq)]
pub struct Zones {
    pub centroid: Vec<P2>,
    pub residents: Vec<f64>,
    pub jobs: Vec<f64>,
    /// Zone of each activity (same order as the input).
    pub zone_of: Vec<u32>,
    pub size_m: f64,
}

/// Group activities into square zones of `size_m` (row-major order of the cells, south to
/// north, west to east). Activities with neither residents nor jobs join no zone
/// (`u32::MAX`).
pub fn grid_zones(acts: &[Activity], size_m: f64) -> Result<Zones, TrafficError> {
    if !(size_m.is_finite() && size_m > 0.0) {
        return Err(TrafficError::Param {
            name: "zone_size_m",
            value: size_m.to_string(),
            expected: "a positive size in metres",
        });
    }
    let mut keys: Vec<(i64, i64)> = acts
        .iter()
        .filter(|a| a.residents + a.jobs > 0.0)
        .map(|a| cell(a.at, size_m))
        .collect();
    keys.sort_unstable_by_key(|&(i, j)| (j, i));
    keys.dedup();
    let nz = keys.len();
    let mut z = Zones {
        centroid: vec![[0.0, 0.0]; nz],
        residents: vec![0.0; nz],
        jobs: vec![0.0; nz],
        zone_of: vec![u32::MAX; acts.len()],
        size_m,
    };
    let mut w = vec![0.0; nz];
    for (k, a) in acts.iter().enumerate() {
        if a.residents + a.jobs <= 0.0 {
            continue;
        }
        let (i, j) = cell(a.at, size_m);
        let zi = keys
            .binary_search_by_key(&(j, i), |&(i, j)| (j, i))
            .expect("zone key");
        z.zone_of[k] = zi as u32;
        let wt = a.residents + a.jobs;
        w[zi] += wt;
        z.centroid[zi][0] += wt * a.at[0];
        z.centroid[zi][1] += wt * a.at[1];
        z.residents[zi] += a.residents;
        z.jobs[zi] += a.jobs;
    }
    for (c, w) in z.centroid.iter_mut().zip(&w) {
        c[0] /= w;
        c[1] /= w;
    }
    Ok(z)
}

fn cell(p: P2, s: f64) -> (i64, i64) {
    ((p[0] / s).floor() as i64, (p[1] / s).floor() as i64)
}

/// Result of the gravity model.
#[derive(Debug, Clone, PartialEq)]
pub struct GravityResult {
    /// Trips `n × n`, row = origin zone.
    pub trips: Vec<f64>,
    /// Furness iterations used and the largest relative row/column error left.
    pub iterations: usize,
    pub max_error: f64,
    /// Trips within a zone (they do not use the network).
    pub intrazonal: f64,
}

/// Doubly constrained gravity model T_ij = a_i P_i b_j A_j exp(−β c_ij), balanced by Furness
/// iterations until every row and column total is within `tol` (relative) of its target.
/// Attractions are scaled to the production total. Pairs with infinite cost get no trips.
pub fn gravity(
    productions: &[f64],
    attractions: &[f64],
    cost: &[f64],
    beta: f64,
    tol: f64,
    max_iterations: usize,
) -> Result<GravityResult, TrafficError> {
    let n = productions.len();
    if attractions.len() != n || cost.len() != n * n {
        return Err(TrafficError::Invalid(format!(
            "gravity model: {} productions, {} attractions and {} costs do not match",
            n,
            attractions.len(),
            cost.len()
        )));
    }
    if !(beta.is_finite() && beta >= 0.0) {
        return Err(TrafficError::Param {
            name: "beta_per_min",
            value: beta.to_string(),
            expected: "a finite deterrence parameter >= 0",
        });
    }
    if productions
        .iter()
        .chain(attractions)
        .any(|v| !(v.is_finite() && *v >= 0.0))
    {
        return Err(TrafficError::Invalid(
            "gravity model: productions and attractions must be finite and not negative".into(),
        ));
    }
    let pt: f64 = productions.iter().sum();
    let at: f64 = attractions.iter().sum();
    let mut trips = vec![0.0; n * n];
    if pt <= 0.0 || at <= 0.0 {
        return Ok(GravityResult {
            trips,
            iterations: 0,
            max_error: 0.0,
            intrazonal: 0.0,
        });
    }
    let target_a: Vec<f64> = attractions.iter().map(|a| a * pt / at).collect();
    let f: Vec<f64> = cost
        .iter()
        .map(|&c| {
            if c.is_finite() {
                (-beta * c).exp()
            } else {
                0.0
            }
        })
        .collect();
    let mut a = vec![1.0; n];
    let mut b = vec![1.0; n];
    let mut iterations = 0;
    let mut max_error = f64::INFINITY;
    while iterations < max_iterations {
        iterations += 1;
        for i in 0..n {
            let s: f64 = (0..n).map(|j| b[j] * target_a[j] * f[i * n + j]).sum();
            a[i] = if s > 0.0 { 1.0 / s } else { 0.0 };
        }
        for j in 0..n {
            let s: f64 = (0..n).map(|i| a[i] * productions[i] * f[i * n + j]).sum();
            b[j] = if s > 0.0 { 1.0 / s } else { 0.0 };
        }
        // After the column step columns are exact; check rows.
        max_error = 0.0f64;
        for i in 0..n {
            if productions[i] <= 0.0 {
                continue;
            }
            let s: f64 = (0..n)
                .map(|j| a[i] * productions[i] * b[j] * target_a[j] * f[i * n + j])
                .sum();
            if s > 0.0 {
                max_error = max_error.max((s - productions[i]).abs() / productions[i]);
            }
        }
        if max_error <= tol {
            break;
        }
    }
    let mut intrazonal = 0.0;
    for i in 0..n {
        for j in 0..n {
            trips[i * n + j] = a[i] * productions[i] * b[j] * target_a[j] * f[i * n + j];
        }
        intrazonal += trips[i * n + i];
    }
    Ok(GravityResult {
        trips,
        iterations,
        max_error,
        intrazonal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn gravity_balances_rows_and_columns() {
        let p = [100.0, 50.0, 0.0];
        let a = [10.0, 30.0, 60.0];
        let c = [1.0, 5.0, 9.0, 5.0, 1.0, 4.0, 9.0, 4.0, 1.0];
        let g = gravity(&p, &a, &c, 0.2, 1e-12, 1000).unwrap();
        for i in 0..3 {
            let row: f64 = (0..3).map(|j| g.trips[i * 3 + j]).sum();
            assert!((row - p[i]).abs() < 1e-9, "row {i}: {row}");
        }
        for j in 0..3 {
            let col: f64 = (0..3).map(|i| g.trips[i * 3 + j]).sum();
            assert!((col - a[j] * 150.0 / 100.0).abs() < 1e-9, "col {j}: {col}");
        }
        // With beta = 0 and one origin the trips are proportional to the attractions.
        let g0 = gravity(
            &[10.0, 0.0],
            &[1.0, 3.0],
            &[0.0, 7.0, 7.0, 0.0],
            0.0,
            1e-12,
            100,
        )
        .unwrap();
        assert!((g0.trips[1] - 7.5).abs() < 1e-12);
        assert!(gravity(&p, &a, &c[..8], 0.1, 1e-9, 10).is_err());
        assert!(gravity(&p, &a, &c, f64::NAN, 1e-9, 10).is_err());
    }

    #[test]
    fn zones_group_activity() {
        let act = |x: f64, y: f64, r: f64, j: f64| Activity {
            building: 0,
            at: [x, y],
            floor_area_m2: 0.0,
            residents: r,
            jobs: j,
        };
        let acts = [
            act(10.0, 10.0, 10.0, 0.0),
            act(30.0, 10.0, 30.0, 0.0),
            act(260.0, 10.0, 0.0, 5.0),
            act(500.0, 500.0, 0.0, 0.0),
        ];
        let z = grid_zones(&acts, 250.0).unwrap();
        assert_eq!(z.centroid.len(), 2);
        assert_eq!(z.zone_of, vec![0, 0, 1, u32::MAX]);
        assert!((z.centroid[0][0] - 25.0).abs() < 1e-12);
        assert_eq!(z.residents, vec![40.0, 0.0]);
        assert!(grid_zones(&acts, 0.0).is_err());
    }
}
