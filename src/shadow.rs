//! The `[shadow]` section: the height model of the city (and of the city without the
//! scenario's edits, for comparisons), sun positions for the site, sun-hour and shadow
//! rasters, facade and window sun hours with DIN 5034-1 and EN 17037, solar potential on
//! roofs; results as GeoTIFF, CSV, GeoJSON and PNG maps.

use crate::flood::nice_max;
use crate::{Progress, RunError};
use serde::Serialize;
use sim_shadow as ss;
use sim_shadow::sample::FacadePoints;
use sim_shadow::standards::{self, Din5034, En17037, EnLevel, WindowAssessment};
use sim_shadow::sun::{Site, SunSeries};
use sim_shadow::sweep::{HeightModel, SunStep};
use sim_shadow::time::{TimeZone, UtcTime};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;
use twin_core::City;
use twin_core::raster::geotiff::{GeoTiffOptions, write_geotiff};
use twin_core::raster::{GridSpec, Raster};
use twin_core::render::{Classes, ColorRamp, Map, Palette};
use twin_core::scenario::{Date, Scenario, ShadowSpec, WindowSource, WindowsSpec};

/// What `summary.json` says about the shadow study.
#[derive(Debug, Clone, Serialize)]
pub struct ShadowSummary {
    pub grid: Grid,
    pub site: SiteInfo,
    pub timezone: String,
    /// The scenario's edits were compared against the city without them.
    pub compared: bool,
    pub days: Vec<PeriodSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<PeriodSummary>,
    pub times: Vec<TimeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facades: Option<FacadeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<WindowSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solar: Option<SolarSummary>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub cell_m: f64,
    pub epsg: Option<u32>,
    pub bbox: [f64; 4],
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    pub latitude_deg: f64,
    pub longitude_deg: f64,
    pub elevation_m: f64,
    /// Grid azimuth of true north (meridian convergence), degrees clockwise.
    pub true_north_grid_deg: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodSummary {
    pub label: String,
    pub start: String,
    pub end: String,
    pub sun_positions: usize,
    /// Sun hours of open horizontal ground (the sun above the threshold).
    pub possible_h: f64,
    /// Mean over the cells with a height.
    pub mean_sun_h: f64,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeSummary {
    pub mean_change_h: f64,
    /// Area losing more than 6 minutes / 1 hour of sun, and gaining more than 6 minutes.
    pub area_losing_m2: f64,
    pub area_losing_1h_m2: f64,
    pub area_gaining_m2: f64,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeSummary {
    pub time: String,
    pub sun_azimuth_deg: f64,
    pub sun_elevation_deg: f64,
    pub shaded_share: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newly_shaded_m2: Option<f64>,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacadeSummary {
    pub points: usize,
    pub buildings: usize,
    pub rays: u64,
    pub rays_per_s: f64,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WindowSummary {
    pub windows: usize,
    pub buildings: usize,
    pub din_equinox: String,
    pub din_january: String,
    pub en17037_day: String,
    pub din_pass: usize,
    pub din_fail: usize,
    pub en_levels: BTreeMap<String, usize>,
    /// Generated windows left out because their wall touches a neighbouring building.
    pub party_wall_windows_dropped: usize,
    /// With a comparison: windows that passed DIN 5034-1 without the edits and fail with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub din_newly_failing: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en_level_lowered: Option<usize>,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SolarSummary {
    pub year: i32,
    pub sun_positions: usize,
    pub roofs: usize,
    pub buildings: usize,
    pub roof_area_m2: f64,
    pub roof_kwh_per_year: f64,
    pub mean_roof_kwh_per_m2: f64,
    /// Mean of the ground cells (not buildings, slope below 5°): streets, yards, open land.
    pub ground_kwh_per_m2: f64,
}

fn shadow_err(sc: &Scenario) -> impl Fn(ss::ShadowError) -> RunError + '_ {
    move |source| RunError::Shadow {
        context: format!("{}: [shadow]", sc.path.display()),
        source,
    }
}

fn field_err<'a>(sc: &'a Scenario, field: &str) -> impl Fn(ss::ShadowError) -> RunError + 'a {
    let field = field.to_string();
    move |source| RunError::Shadow {
        context: format!("{}: field `{field}`", sc.path.display()),
        source,
    }
}

/// A city prepared for the study: its height model and, on demand, its triangles.
struct Variant<'a> {
    city: &'a City,
    hm: HeightModel,
    dsm: Raster<f32>,
    bvh: Option<ss::bvh::Bvh>,
}

impl Variant<'_> {
    fn bvh(&mut self) -> &ss::bvh::Bvh {
        let city = self.city;
        self.bvh
            .get_or_insert_with(|| ss::bvh::Bvh::from_city(city))
    }
}

/// Run the study; `base` is the city without the scenario's edits (for comparisons).
pub fn run(
    city: &City,
    base: Option<&City>,
    spec: &ShadowSpec,
    sc: &Scenario,
    dir: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(ShadowSummary, Vec<String>), RunError> {
    let e = shadow_err(sc);
    let tz = TimeZone::parse(&spec.timezone).map_err(field_err(sc, "shadow.timezone"))?;
    let mut notes = Vec::new();
    let mut files = Vec::new();
    let gt = GeoTiffOptions::default();

    // The grid and the height models.
    progress(Progress::Stage("shadow: height model"));
    if city.epsg == 0 {
        return Err(RunError::Scenario {
            scenario: sc.path.clone(),
            message: "[shadow] needs a city in a projected CRS (EPSG code) to place the sun".into(),
        });
    }
    let extent = match spec.bbox {
        Some(b) => b,
        None => city.bbox(),
    };
    let grid = GridSpec::covering(&extent, spec.cell_m, Some(city.epsg))?;
    if grid.len() > 200_000_000 {
        return Err(RunError::Scenario {
            scenario: sc.path.clone(),
            message: format!(
                "[shadow]: the grid would have {} x {} cells; use a larger `cell_m` or a `bbox`",
                grid.width, grid.height
            ),
        });
    }
    let mut variant = prepare(city, grid, &mut notes)?;
    let mut baseline = match base {
        Some(b) if spec.compare => Some(prepare(b, grid, &mut Vec::new())?),
        _ => None,
    };
    let mut site = Site::for_grid(&grid).map_err(&e)?;
    let terrain_mean = twin_core::derive::terrain_on_grid(city, grid)
        .ok()
        .map(|t| {
            let v: Vec<f64> = t
                .data
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| f64::from(v))
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        })
        .unwrap_or(0.0);
    site.elevation_m = spec.site.elevation_m.unwrap_or(terrain_mean.max(-400.0));
    if let Some(p) = spec.site.pressure_hpa {
        site.pressure_hpa = p;
    }
    if let Some(t) = spec.site.temperature_c {
        site.temperature_c = t;
    }
    site.delta_t_s = spec.site.delta_t_s;
    site.validate().map_err(&e)?;

    let cell_area = grid.cell_x * grid.cell_y;
    let mut summary = ShadowSummary {
        grid: Grid {
            width: grid.width,
            height: grid.height,
            cell_m: spec.cell_m,
            epsg: grid.epsg,
            bbox: {
                let b = grid.bbox();
                [b.min[0], b.min[1], b.max[0], b.max[1]]
            },
        },
        site: SiteInfo {
            latitude_deg: site.latitude_deg,
            longitude_deg: site.longitude_deg,
            elevation_m: site.elevation_m,
            true_north_grid_deg: site.true_north_grid_deg,
        },
        timezone: tz.name(),
        compared: baseline.is_some(),
        days: Vec::new(),
        range: None,
        times: Vec::new(),
        facades: None,
        windows: None,
        solar: None,
        notes: Vec::new(),
    };
    let mask = twin_core::derive::building_mask(city, grid);
    let day_series = |d: Date| -> Result<SunSeries, RunError> {
        let (a, b) = ss::time::local_day_bounds(&tz, d.year, d.month, d.day).map_err(&e)?;
        ss::sun::sun_series(&site, a, b, spec.step_s, spec.min_elevation_deg).map_err(&e)
    };

    // Sun hours per day and over the range.
    let mut periods: Vec<(String, String, UtcTime, UtcTime)> = Vec::new();
    for d in &spec.days {
        let (a, b) = ss::time::local_day_bounds(&tz, d.year, d.month, d.day).map_err(&e)?;
        periods.push((d.to_string(), format!("sun on {d}"), a, b));
    }
    if let Some((s0, s1)) = spec.range {
        let (a, _) = ss::time::local_day_bounds(&tz, s0.year, s0.month, s0.day).map_err(&e)?;
        let (_, b) = ss::time::local_day_bounds(&tz, s1.year, s1.month, s1.day).map_err(&e)?;
        periods.push((format!("{s0}_{s1}"), format!("sun {s0} to {s1}"), a, b));
    }
    let n_days = spec.days.len();
    for (k, (label, title, a, b)) in periods.iter().enumerate() {
        let stage = format!("shadow: sun hours {label}");
        progress(Progress::Stage(&stage));
        let series =
            ss::sun::sun_series(&site, *a, *b, spec.step_s, spec.min_elevation_deg).map_err(&e)?;
        let hours = ss::sweep::sun_hours(&variant.hm, &series.steps);
        let name = format!("sun_hours_{label}.tif");
        write_geotiff(&hours, &dir.join(&name), &gt)?;
        files.push(name.clone());
        let possible_h = series.possible_s as f64 / 3600.0;
        let mean = mean_of(&hours.data);
        let sub = format!(
            "{} - sun above {}°, {} min steps, open ground {:.1} h",
            sc.name,
            spec.min_elevation_deg,
            spec.step_s / 60.0,
            possible_h
        );
        if spec.png {
            Map::new(&variant.dsm)
                .buildings(&mask)
                .overlay(
                    &hours,
                    Palette::Ramp {
                        ramp: ColorRamp::sun(),
                        min: 0.0,
                        max: nice_max(possible_h) as f32,
                    },
                )
                .title(format!("Sun hours, {}", title.trim_start_matches("sun ")))
                .unit("h")
                .subtitle(sub.clone())
                .write_png(&dir.join(format!("sun_hours_{label}.png")))?;
            files.push(format!("sun_hours_{label}.png"));
        }
        let mut change = None;
        if let Some(bv) = &baseline {
            let base_h = ss::sweep::sun_hours(&bv.hm, &series.steps);
            let bname = format!("sun_hours_base_{label}.tif");
            write_geotiff(&base_h, &dir.join(&bname), &gt)?;
            files.push(bname);
            let delta = Raster {
                spec: grid,
                data: hours
                    .data
                    .iter()
                    .zip(&base_h.data)
                    .map(|(v, b)| v - b)
                    .collect(),
                nodata: Some(f32::NAN),
            };
            let dname = format!("sun_hours_delta_{label}.tif");
            write_geotiff(&delta, &dir.join(&dname), &gt)?;
            files.push(dname.clone());
            let area = |f: &dyn Fn(f32) -> bool| {
                delta
                    .data
                    .iter()
                    .filter(|v| v.is_finite() && f(**v))
                    .count() as f64
                    * cell_area
            };
            change = Some(ChangeSummary {
                mean_change_h: mean_of(&delta.data),
                area_losing_m2: area(&|v| v < -0.1),
                area_losing_1h_m2: area(&|v| v <= -1.0),
                area_gaining_m2: area(&|v| v > 0.1),
                file: dname,
            });
            if spec.png {
                // Scale to the 99th percentile of the changed cells, so that a few cells
                // beside the new walls do not wash out the rest.
                let mut changed: Vec<f32> = delta
                    .data
                    .iter()
                    .filter(|v| v.is_finite() && v.abs() > 0.05)
                    .map(|v| v.abs())
                    .collect();
                changed.sort_by(f32::total_cmp);
                let p99 = changed
                    .get((changed.len() as f64 * 0.99) as usize)
                    .copied()
                    .unwrap_or(0.5);
                let m = nice_max(f64::from(p99.max(0.5))) as f32;
                Map::new(&variant.dsm)
                    .buildings(&mask)
                    .overlay(
                        &delta,
                        Palette::Ramp {
                            ramp: diverging(),
                            min: -m,
                            max: m,
                        },
                    )
                    .title(format!(
                        "Sun hours change, {}",
                        title.trim_start_matches("sun ")
                    ))
                    .unit("h")
                    .subtitle(format!("{} minus the city without its edits", sc.name))
                    .write_png(&dir.join(format!("sun_hours_delta_{label}.png")))?;
                files.push(format!("sun_hours_delta_{label}.png"));
            }
        }
        let p = PeriodSummary {
            label: label.clone(),
            start: a.to_rfc3339(&tz),
            end: b.to_rfc3339(&tz),
            sun_positions: series.steps.len(),
            possible_h,
            mean_sun_h: mean,
            file: name,
            change,
        };
        if k < n_days {
            summary.days.push(p);
        } else {
            summary.range = Some(p);
        }
    }

    // Shadows at given times.
    for (i, t) in spec.times.iter().enumerate() {
        let field = format!("shadow.times[{i}]");
        let ut = ss::time::parse_time(t, &tz).map_err(field_err(sc, &field))?;
        let pos = site.position(ut).map_err(&e)?;
        let lit = ss::sweep::sunlit_mask(&variant.hm, pos.dir);
        let local = ut.to_rfc3339(&tz);
        let stamp: String = local
            .get(..16)
            .unwrap_or(&local)
            .chars()
            .filter(|c| *c != ':')
            .collect();
        let shade = |lit: &[u8], hm: &HeightModel| -> Raster<u8> {
            Raster {
                spec: grid,
                data: lit
                    .iter()
                    .zip(hm.valid())
                    .map(|(&l, &v)| if v == 0 { 255 } else { 1 - l })
                    .collect(),
                nodata: Some(255),
            }
        };
        let r = shade(&lit, &variant.hm);
        let name = format!("shadow_{stamp}.tif");
        write_geotiff(&r, &dir.join(&name), &gt)?;
        files.push(name.clone());
        let valid_n = r.data.iter().filter(|v| **v != 255).count().max(1);
        let shaded_share = r.data.iter().filter(|v| **v == 1).count() as f64 / valid_n as f64;
        let mut newly = None;
        let mut classes_data: Vec<f32> = r.data.iter().map(|&v| f32::from(v)).collect();
        if let Some(bv) = &baseline {
            let bl = ss::sweep::sunlit_mask(&bv.hm, pos.dir);
            let br = shade(&bl, &bv.hm);
            let bname = format!("shadow_base_{stamp}.tif");
            write_geotiff(&br, &dir.join(&bname), &gt)?;
            files.push(bname);
            let mut n = 0usize;
            for (k, c) in classes_data.iter_mut().enumerate() {
                if r.data[k] == 1 && br.data[k] == 0 {
                    *c = 2.0;
                    n += 1;
                }
            }
            newly = Some(n as f64 * cell_area);
        }
        if spec.png {
            for c in classes_data.iter_mut() {
                if *c == 255.0 {
                    *c = f32::NAN;
                }
            }
            let ov = Raster {
                spec: grid,
                data: classes_data,
                nodata: Some(f32::NAN),
            };
            let mut classes = vec![
                ("sunlit".to_string(), [250, 226, 120]),
                ("shadow".to_string(), [70, 80, 120]),
            ];
            let mut breaks = vec![0.5];
            if newly.is_some() {
                classes.push(("new shadow".to_string(), [214, 40, 40]));
                breaks.push(1.5);
            }
            Map::new(&variant.dsm)
                .buildings(&mask)
                .overlay(&ov, Palette::Classes(Classes::new(breaks, classes)?))
                .title(format!("Shadow at {}", local.replacen('T', " ", 1)))
                .subtitle(format!(
                    "{} - sun azimuth {:.1}°, elevation {:.1}°",
                    sc.name, pos.azimuth_deg, pos.elevation_deg
                ))
                .write_png(&dir.join(format!("shadow_{stamp}.png")))?;
            files.push(format!("shadow_{stamp}.png"));
        }
        summary.times.push(TimeSummary {
            time: local,
            sun_azimuth_deg: pos.azimuth_deg,
            sun_elevation_deg: pos.elevation_deg,
            shaded_share,
            newly_shaded_m2: newly,
            file: name,
        });
    }

    // Facade points.
    if let Some(fs) = &spec.facades {
        progress(Progress::Stage("shadow: facade sun hours"));
        let sel = select_buildings(city, &fs.buildings, sc, &grid)?;
        let pts = ss::sample::sample_walls(city, fs.spacing_m, sel.as_deref()).map_err(&e)?;
        let (pts, dropped) = drop_party_walls(city, pts);
        if dropped > 0 {
            notes.push(format!(
                "facades: {dropped} points on walls shared with a neighbouring building left out"
            ));
        }
        let opts = ss::facade::FacadeOptions::default();
        let mut cols: Vec<(String, Vec<f32>)> = Vec::new();
        let t0 = Instant::now();
        let mut rays = 0u64;
        let base_idx = base_index(city, baseline.as_ref().map(|b| b.city));
        for d in &spec.days {
            let series = day_series(*d)?;
            rays += ss::facade::facade_ray_count(&pts, &series.steps, &opts);
            let s = ss::facade::facade_sun_seconds(variant.bvh(), &pts, &series.steps, &opts)
                .map_err(&e)?;
            cols.push((format!("sun_h_{d}"), hours_of(&s)));
            if let Some(bv) = baseline.as_mut() {
                let s = points_on_base(&pts, &base_idx, bv, &series.steps, &opts).map_err(&e)?;
                cols.push((format!("base_sun_h_{d}"), s));
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        let mut csv = String::from("building,wall,x,y,z,nx,ny,nz,area_m2");
        for (n, _) in &cols {
            write!(csv, ",{n}").ok();
        }
        csv.push('\n');
        for k in 0..pts.len() {
            write!(
                csv,
                "{},{},{:.3},{:.3},{:.3},{:.4},{:.4},{:.4},{:.3}",
                city.buildings[pts.building[k] as usize].id,
                pts.wall[k],
                pts.x[k],
                pts.y[k],
                pts.z[k],
                pts.nx[k],
                pts.ny[k],
                pts.nz[k],
                pts.area_m2[k]
            )
            .ok();
            for (_, v) in &cols {
                if v[k].is_finite() {
                    write!(csv, ",{:.3}", v[k]).ok();
                } else {
                    csv.push(',');
                }
            }
            csv.push('\n');
        }
        twin_core::fsio::write_atomic(&dir.join("facade_points.csv"), csv.as_bytes())?;
        files.push("facade_points.csv".into());
        let nb = pts
            .building
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        summary.facades = Some(FacadeSummary {
            points: pts.len(),
            buildings: nb,
            rays,
            rays_per_s: rays as f64 / secs.max(1e-9),
            file: "facade_points.csv".into(),
        });
    }

    // Windows and daylight standards.
    if let Some(ws) = &spec.windows {
        progress(Progress::Stage("shadow: windows and daylight standards"));
        let (ws_summary, written) = windows(
            city,
            &mut variant,
            baseline.as_mut(),
            ws,
            grid,
            &site,
            &tz,
            spec,
            sc,
            dir,
        )?;
        summary.windows = Some(ws_summary);
        files.extend(written);
    }

    // Solar potential.
    if let Some(so) = &spec.solar {
        progress(Progress::Stage("shadow: solar potential"));
        let t0 = Instant::now();
        let mut sky = ss::solar::ClearSky::new(3.0);
        sky.linke_turbidity = so.linke_turbidity;
        sky.site_elevation_m = site.elevation_m.max(0.0);
        sky.ground_albedo = so.albedo;
        sky.validate().map_err(field_err(sc, "shadow.solar"))?;
        let mut samples = Vec::new();
        let mut day = Date {
            year: so.year,
            month: 1,
            day: 1,
        };
        let mut doy = 1u32;
        while day.year == so.year {
            let (a, b) =
                ss::time::local_day_bounds(&tz, day.year, day.month, day.day).map_err(&e)?;
            let series = ss::sun::sun_series(&site, a, b, so.step_s, 0.0).map_err(&e)?;
            for (st, p) in series.steps.iter().zip(&series.positions) {
                samples.push(ss::solar::SunSample {
                    dir: st.dir,
                    azimuth_deg: p.grid_azimuth_deg,
                    elevation_deg: p.elevation_deg,
                    day_of_year: doy,
                    hours: f64::from(st.weight_s) / 3600.0 * f64::from(so.day_step),
                });
            }
            for _ in 0..so.day_step {
                day = day.succ();
                doy += 1;
            }
        }
        let h = ss::horizon::horizons(&variant.dsm, so.sectors, f64::INFINITY).map_err(&e)?;
        let surf = ss::solar::surfaces(city, &variant.dsm).map_err(&e)?;
        let svf = ss::horizon::sky_view_factor(&h, Some(&surf.slope_deg), Some(&surf.aspect_deg))
            .map_err(&e)?;
        let irr = ss::solar::irradiation(&sky, &surf, &h, &svf, &samples).map_err(&e)?;
        write_geotiff(&irr, &dir.join("solar_kwh.tif"), &gt)?;
        write_geotiff(&svf, &dir.join("sky_view_factor.tif"), &gt)?;
        files.push("solar_kwh.tif".into());
        files.push("sky_view_factor.tif".into());
        // Roofs and buildings on the grid (others have no cells).
        let (roofs, buildings) = ss::solar::roof_totals(&surf, &irr);
        let roofs: Vec<_> = roofs.into_iter().filter(|r| r.area_m2 > 0.0).collect();
        let buildings: Vec<_> = buildings
            .into_iter()
            .filter(|b| b.roof_area_m2 > 0.0)
            .collect();
        let mut csv = String::from(
            "building,roof,slope_deg,aspect_deg,area_m2,kwh_per_year,kwh_per_m2_year\n",
        );
        for r in &roofs {
            writeln!(
                csv,
                "{},{},{:.1},{:.1},{:.2},{:.1},{:.1}",
                city.buildings[r.building as usize].id,
                r.roof,
                r.slope_deg,
                r.aspect_deg,
                r.area_m2,
                r.kwh,
                r.kwh_per_m2
            )
            .ok();
        }
        twin_core::fsio::write_atomic(&dir.join("solar_roofs.csv"), csv.as_bytes())?;
        let mut csv = String::from("building,roof_area_m2,kwh_per_year,kwh_per_m2_year\n");
        for b in &buildings {
            writeln!(
                csv,
                "{},{:.2},{:.1},{:.1}",
                city.buildings[b.building as usize].id, b.roof_area_m2, b.kwh, b.kwh_per_m2
            )
            .ok();
        }
        twin_core::fsio::write_atomic(&dir.join("solar_buildings.csv"), csv.as_bytes())?;
        files.push("solar_roofs.csv".into());
        files.push("solar_buildings.csv".into());
        let area: f64 = buildings.iter().map(|b| b.roof_area_m2).sum();
        let kwh: f64 = buildings.iter().map(|b| b.kwh).sum();
        let ground = ground_mean(&irr, &mask, &surf);
        if spec.png {
            let max = irr
                .data
                .iter()
                .filter(|v| v.is_finite())
                .fold(0.0f32, |a, &v| a.max(v));
            Map::new(&variant.dsm)
                .buildings(&mask)
                .overlay(
                    &irr,
                    Palette::Ramp {
                        ramp: ColorRamp::sun(),
                        min: 0.0,
                        max: nice_max(f64::from(max)) as f32,
                    },
                )
                .title(format!("Solar irradiation {}", so.year))
                .unit("kWh/m2")
                .subtitle(format!(
                    "{} - clear sky, Linke turbidity {:.1} to {:.1}",
                    sc.name,
                    so.linke_turbidity.iter().copied().fold(f64::MAX, f64::min),
                    so.linke_turbidity.iter().copied().fold(0.0, f64::max)
                ))
                .write_png(&dir.join("solar_kwh.png"))?;
            files.push("solar_kwh.png".into());
        }
        summary.solar = Some(SolarSummary {
            year: so.year,
            sun_positions: samples.len(),
            roofs: roofs.len(),
            buildings: buildings.len(),
            roof_area_m2: area,
            roof_kwh_per_year: kwh,
            mean_roof_kwh_per_m2: if area > 0.0 { kwh / area } else { 0.0 },
            ground_kwh_per_m2: ground,
        });
        notes.push(format!(
            "solar potential: {} sun positions, {:.1} s",
            samples.len(),
            t0.elapsed().as_secs_f64()
        ));
    }
    summary.notes = notes;
    Ok((summary, files))
}

/// Height model of a city on the grid; a city without terrain stands on flat ground at its
/// lowest building foot (noted).
fn prepare<'a>(
    city: &'a City,
    grid: GridSpec,
    notes: &mut Vec<String>,
) -> Result<Variant<'a>, RunError> {
    let dsm = if city.terrain.dem.is_none() && city.terrain.tin.is_none() {
        let g = city
            .buildings
            .iter()
            .filter_map(|b| b.ground_z)
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let g = if g.is_finite() { g } else { 0.0 };
        notes.push(format!(
            "the city has no terrain: flat ground at {g:.2} m (its lowest building foot)"
        ));
        let mut c = City::new(city.name.clone(), city.epsg);
        c.buildings = city.buildings.clone();
        c.terrain.dem = Some(Raster::filled(grid, g as f32, None));
        twin_core::derive::height_model(&c, grid)?
    } else {
        twin_core::derive::height_model(city, grid)?
    };
    let hm = HeightModel::new(&dsm).map_err(|source| RunError::Shadow {
        context: format!("city '{}'", city.name),
        source,
    })?;
    Ok(Variant {
        city,
        hm,
        dsm,
        bvh: None,
    })
}

fn mean_of(v: &[f32]) -> f64 {
    let (s, n) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((0.0f64, 0usize), |(s, n), &x| (s + f64::from(x), n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

fn hours_of(s: &[u32]) -> Vec<f32> {
    s.iter().map(|&v| (f64::from(v) / 3600.0) as f32).collect()
}

/// Mean irradiation of open ground (cells that are neither buildings nor steep).
fn ground_mean(irr: &Raster<f32>, mask: &Raster<u8>, surf: &ss::solar::Surfaces) -> f64 {
    let v: Vec<f32> = irr
        .data
        .iter()
        .zip(&mask.data)
        .zip(&surf.slope_deg.data)
        .filter(|((v, m), s)| v.is_finite() && **m == 0 && **s < 5.0)
        .map(|((v, _), _)| *v)
        .collect();
    mean_of(&v)
}

/// Red (less sun) – white – blue (more sun).
fn diverging() -> ColorRamp {
    ColorRamp::new(vec![
        (0.0, [165, 0, 38]),
        (0.25, [244, 109, 67]),
        (0.5, [247, 247, 247]),
        (0.75, [116, 173, 209]),
        (1.0, [49, 54, 149]),
    ])
    .expect("static ramp")
}

/// Building indices from ids; without ids, the buildings whose centroid lies in the grid.
fn select_buildings(
    city: &City,
    ids: &[String],
    sc: &Scenario,
    grid: &GridSpec,
) -> Result<Option<Vec<usize>>, RunError> {
    if ids.is_empty() {
        let b = grid.bbox();
        return Ok(Some(
            (0..city.buildings.len())
                .filter(|&i| {
                    city.buildings[i].centroid().is_some_and(|c| {
                        c[0] >= b.min[0] && c[0] <= b.max[0] && c[1] >= b.min[1] && c[1] <= b.max[1]
                    })
                })
                .collect(),
        ));
    }
    let mut out = Vec::new();
    for id in ids {
        match city.building_index(id) {
            Some(i) => out.push(i),
            None => {
                return Err(RunError::Scenario {
                    scenario: sc.path.clone(),
                    message: format!("[shadow]: building `{id}` is not in the city"),
                });
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

/// For each building of the variant city, its index in the base city (same id), if any.
fn base_index(city: &City, base: Option<&City>) -> Vec<Option<u32>> {
    let Some(base) = base else {
        return vec![None; city.buildings.len()];
    };
    let ids: BTreeMap<&str, u32> = base
        .buildings
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.as_str(), i as u32))
        .collect();
    city.buildings
        .iter()
        .map(|b| ids.get(b.id.as_str()).copied())
        .collect()
}

/// Sun hours of the points in the base city (NaN for points on buildings it lacks).
fn points_on_base(
    pts: &FacadePoints,
    base_idx: &[Option<u32>],
    bv: &mut Variant<'_>,
    steps: &[SunStep],
    opts: &ss::facade::FacadeOptions,
) -> ss::Result<Vec<f32>> {
    let keep: Vec<usize> = (0..pts.len())
        .filter(|&k| base_idx[pts.building[k] as usize].is_some())
        .collect();
    let mut sub = FacadePoints::default();
    for &k in &keep {
        sub.push(
            pts.position(k),
            pts.normal(k),
            pts.building[k],
            pts.wall[k],
            pts.area_m2[k],
        );
    }
    let s = ss::facade::facade_sun_seconds(bv.bvh(), &sub, steps, opts)?;
    let mut out = vec![f32::NAN; pts.len()];
    for (j, &k) in keep.iter().enumerate() {
        out[k] = (f64::from(s[j]) / 3600.0) as f32;
    }
    Ok(out)
}

/// Leave out points on party walls: a probe 0.3 m out from the wall that lies inside another
/// building's footprint below that building's roof. Returns the kept points and the count
/// left out.
fn drop_party_walls(city: &City, pts: FacadePoints) -> (FacadePoints, usize) {
    const BUCKET_M: f64 = 50.0;
    const PROBE_M: f64 = 0.3;
    // Buckets of building indices by footprint bounding box.
    let mut buckets: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    let key = |x: f64, y: f64| ((x / BUCKET_M).floor() as i64, (y / BUCKET_M).floor() as i64);
    for (i, b) in city.buildings.iter().enumerate() {
        let bb = b.bbox();
        if bb.is_empty() {
            continue;
        }
        let (k0, k1) = (key(bb.min[0], bb.min[1]), key(bb.max[0], bb.max[1]));
        if (k1.0 - k0.0 + 1) * (k1.1 - k0.1 + 1) > 10_000 {
            continue;
        }
        for kx in k0.0..=k1.0 {
            for ky in k0.1..=k1.1 {
                buckets.entry((kx, ky)).or_default().push(i);
            }
        }
    }
    let mut out = FacadePoints::default();
    let mut dropped = 0;
    for k in 0..pts.len() {
        let (nx, ny) = (f64::from(pts.nx[k]), f64::from(pts.ny[k]));
        let hl = (nx * nx + ny * ny).sqrt();
        let mut party = false;
        if hl > 0.5 {
            let (px, py) = (pts.x[k] + PROBE_M * nx / hl, pts.y[k] + PROBE_M * ny / hl);
            if let Some(list) = buckets.get(&key(px, py)) {
                party = list.iter().any(|&i| {
                    let b = &city.buildings[i];
                    i != pts.building[k] as usize
                        && b.roof_z.is_none_or(|r| pts.z[k] < r)
                        && b.footprint.iter().any(|f| f.contains([px, py]))
                });
            }
        }
        if party {
            dropped += 1;
        } else {
            out.push(
                pts.position(k),
                pts.normal(k),
                pts.building[k],
                pts.wall[k],
                pts.area_m2[k],
            );
        }
    }
    (out, dropped)
}

/// Windows from a CSV file `id,building,x,y,z,azimuth_deg` (facing horizontally).
fn read_windows(
    file: &Path,
    city: &City,
    sc: &Scenario,
) -> Result<(Vec<String>, FacadePoints), RunError> {
    let text = std::fs::read_to_string(file).map_err(|source| RunError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let bad = |line: usize, m: String| RunError::Scenario {
        scenario: sc.path.clone(),
        message: format!("{} line {line}: {m}", file.display()),
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(ci), Some(cb), Some(cx), Some(cy), Some(cz), Some(ca)) = (
        col("id"),
        col("building"),
        col("x"),
        col("y"),
        col("z"),
        col("azimuth_deg"),
    ) else {
        return Err(bad(
            1,
            "the header must name the columns id, building, x, y, z, azimuth_deg".into(),
        ));
    };
    let mut ids = Vec::new();
    let mut p = FacadePoints::default();
    for (i, l) in lines {
        if l.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        let get = |c: usize| f.get(c).copied().unwrap_or("");
        let num = |c: usize, what: &str| -> Result<f64, RunError> {
            get(c)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(i + 1, format!("`{}` is not a number ({what})", get(c))))
        };
        let b = city
            .building_index(get(cb))
            .ok_or_else(|| bad(i + 1, format!("building `{}` is not in the city", get(cb))))?;
        let az = num(ca, "azimuth_deg")?.to_radians();
        ids.push(get(ci).to_string());
        p.x.push(num(cx, "x")?);
        p.y.push(num(cy, "y")?);
        p.z.push(num(cz, "z")?);
        p.nx.push(az.sin() as f32);
        p.ny.push(az.cos() as f32);
        p.nz.push(0.0);
        p.building.push(b as u32);
        p.wall.push(0);
        p.area_m2.push(0.0);
    }
    if ids.is_empty() {
        return Err(bad(2, "no windows".into()));
    }
    Ok((ids, p))
}

#[allow(clippy::too_many_arguments)]
fn windows(
    city: &City,
    variant: &mut Variant<'_>,
    mut baseline: Option<&mut Variant<'_>>,
    ws: &WindowsSpec,
    grid: GridSpec,
    site: &Site,
    tz: &TimeZone,
    spec: &ShadowSpec,
    sc: &Scenario,
    dir: &Path,
) -> Result<(WindowSummary, Vec<String>), RunError> {
    let e = shadow_err(sc);
    let mut party_walls = 0usize;
    let (ids, pts) = match &ws.source {
        WindowSource::File(f) => read_windows(f, city, sc)?,
        WindowSource::Generate {
            storey_m,
            spacing_m,
        } => {
            let sel = select_buildings(city, &ws.buildings, sc, &grid)?;
            let p = ss::sample::generate_windows(city, *storey_m, *spacing_m, sel.as_deref())
                .map_err(&e)?;
            let (p, dropped) = drop_party_walls(city, p);
            party_walls = dropped;
            let mut count: BTreeMap<u32, usize> = BTreeMap::new();
            let ids = p
                .building
                .iter()
                .map(|&b| {
                    let c = count.entry(b).or_default();
                    *c += 1;
                    format!("{}-w{}", city.buildings[b as usize].id, c)
                })
                .collect();
            (ids, p)
        }
    };
    let opts = ss::facade::FacadeOptions {
        min_wall_angle_deg: ws.min_wall_angle_deg,
        ..Default::default()
    };
    let din = Din5034 {
        min_elevation_deg: ws.din_min_elevation_deg,
        ..Default::default()
    };
    let en = En17037 {
        min_elevation_deg: ws.en17037_min_elevation_deg,
        ..Default::default()
    };
    en.validate().map_err(&e)?;
    let series = |d: Date, min_el: f64| -> Result<Vec<SunStep>, RunError> {
        let (a, b) = ss::time::local_day_bounds(tz, d.year, d.month, d.day).map_err(&e)?;
        Ok(ss::sun::sun_series(site, a, b, spec.step_s, min_el)
            .map_err(&e)?
            .steps)
    };
    let days = [
        (ws.din_equinox, din.min_elevation_deg),
        (ws.din_january, din.min_elevation_deg),
        (ws.en17037_day, en.min_elevation_deg),
    ];
    let mut secs: Vec<Vec<u32>> = Vec::new();
    let mut base_secs: Vec<Vec<f32>> = Vec::new();
    let base_idx = base_index(city, baseline.as_ref().map(|b| b.city));
    for (d, el) in days {
        let steps = series(d, el)?;
        secs.push(ss::facade::facade_sun_seconds(variant.bvh(), &pts, &steps, &opts).map_err(&e)?);
        if let Some(bv) = baseline.as_deref_mut() {
            base_secs.push(points_on_base(&pts, &base_idx, bv, &steps, &opts).map_err(&e)?);
        }
    }
    let results: Vec<WindowAssessment> = (0..pts.len())
        .map(|k| standards::assess(&din, &en, secs[0][k], secs[1][k], secs[2][k]))
        .collect();
    let base_results: Option<Vec<Option<WindowAssessment>>> = (!base_secs.is_empty()).then(|| {
        (0..pts.len())
            .map(|k| {
                let h = |i: usize| base_secs[i][k];
                if h(0).is_nan() {
                    return None;
                }
                let s = |i: usize| (f64::from(h(i)) * 3600.0).round() as u32;
                Some(standards::assess(&din, &en, s(0), s(1), s(2)))
            })
            .collect()
    });

    // windows.csv and windows.geojson
    let mut csv = String::from(
        "id,building,x,y,z,azimuth_deg,din_equinox_h,din_january_h,din_pass,en17037_h,en17037_level",
    );
    if base_results.is_some() {
        csv.push_str(",base_din_pass,base_en17037_level,change");
    }
    csv.push('\n');
    let crs = twin_core::crs::Crs::from_epsg(city.epsg).ok();
    let mut features = Vec::new();
    let mut changed = String::from(
        "id,building,x,y,z,base_din_equinox_h,din_equinox_h,base_din_january_h,din_january_h,base_din_pass,din_pass,base_en17037_level,en17037_level\n",
    );
    let (mut newly_failing, mut lowered) = (0usize, 0usize);
    for k in 0..pts.len() {
        let r = &results[k];
        let b = &city.buildings[pts.building[k] as usize].id;
        let az = f64::from(pts.nx[k])
            .atan2(f64::from(pts.ny[k]))
            .to_degrees()
            .rem_euclid(360.0);
        write!(
            csv,
            "{},{},{:.3},{:.3},{:.3},{:.1},{:.3},{:.3},{},{:.3},{}",
            ids[k],
            b,
            pts.x[k],
            pts.y[k],
            pts.z[k],
            az,
            r.din_equinox_h,
            r.din_january_h,
            r.din_pass,
            r.en_h,
            r.en_level.as_str()
        )
        .ok();
        let mut props = serde_json::json!({
            "id": ids[k], "building": b, "z": (pts.z[k] * 1000.0).round() / 1000.0,
            "azimuth_deg": (az * 10.0).round() / 10.0,
            "din_equinox_h": round3(r.din_equinox_h), "din_january_h": round3(r.din_january_h),
            "din_pass": r.din_pass, "en17037_h": round3(r.en_h), "en17037_level": r.en_level.as_str(),
        });
        if let Some(br) = &base_results {
            let change = match &br[k] {
                None => "new".to_string(),
                Some(o) => {
                    let mut c = Vec::new();
                    if o.din_pass && !r.din_pass {
                        c.push("din_fails");
                        newly_failing += 1;
                    } else if !o.din_pass && r.din_pass {
                        c.push("din_passes");
                    }
                    if r.en_level < o.en_level {
                        c.push("en_lower");
                        lowered += 1;
                    } else if r.en_level > o.en_level {
                        c.push("en_higher");
                    }
                    if !c.is_empty() {
                        writeln!(
                            changed,
                            "{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{}",
                            ids[k],
                            b,
                            pts.x[k],
                            pts.y[k],
                            pts.z[k],
                            o.din_equinox_h,
                            r.din_equinox_h,
                            o.din_january_h,
                            r.din_january_h,
                            o.din_pass,
                            r.din_pass,
                            o.en_level.as_str(),
                            r.en_level.as_str()
                        )
                        .ok();
                    }
                    c.join("+")
                }
            };
            match &br[k] {
                Some(o) => {
                    write!(csv, ",{},{},{change}", o.din_pass, o.en_level.as_str()).ok();
                    props["base_din_pass"] = o.din_pass.into();
                    props["base_en17037_level"] = o.en_level.as_str().into();
                }
                None => {
                    write!(csv, ",,,{change}").ok();
                }
            }
            props["change"] = change.into();
        }
        csv.push('\n');
        let coords = match &crs {
            Some(c) => c
                .to_wgs84(pts.x[k], pts.y[k])
                .map(|[lon, lat]| vec![round7(lon), round7(lat)])
                .unwrap_or_default(),
            None => vec![pts.x[k], pts.y[k]],
        };
        features.push(serde_json::json!({
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": coords },
            "properties": props,
        }));
    }
    let mut written = Vec::new();
    twin_core::fsio::write_atomic(&dir.join("windows.csv"), csv.as_bytes())?;
    written.push("windows.csv".to_string());
    let gj = serde_json::json!({ "type": "FeatureCollection", "features": features });
    twin_core::fsio::write_atomic(
        &dir.join("windows.geojson"),
        &serde_json::to_vec(&gj).expect("json"),
    )?;
    written.push("windows.geojson".to_string());
    if base_results.is_some() {
        twin_core::fsio::write_atomic(&dir.join("windows_changed.csv"), changed.as_bytes())?;
        written.push("windows_changed.csv".to_string());
    }
    let per_b = standards::by_building(&pts.building, &results);
    let mut bcsv = String::from(
        "building,windows,din_pass,din_fail,din_status,en17037_none,en17037_minimum,en17037_medium,en17037_high,en17037_lowest\n",
    );
    for b in &per_b {
        writeln!(
            bcsv,
            "{},{},{},{},{},{},{},{},{},{}",
            city.buildings[b.building as usize].id,
            b.windows,
            b.din_pass,
            b.windows - b.din_pass,
            b.din_status(),
            b.en_levels[0],
            b.en_levels[1],
            b.en_levels[2],
            b.en_levels[3],
            b.en_lowest().as_str()
        )
        .ok();
    }
    twin_core::fsio::write_atomic(&dir.join("daylight_buildings.csv"), bcsv.as_bytes())?;
    written.push("daylight_buildings.csv".to_string());
    let din_pass = results.iter().filter(|r| r.din_pass).count();
    let mut en_levels = BTreeMap::new();
    for l in EnLevel::ALL {
        en_levels.insert(
            l.as_str().to_string(),
            results.iter().filter(|r| r.en_level == l).count(),
        );
    }
    Ok((
        WindowSummary {
            windows: pts.len(),
            buildings: per_b.len(),
            din_equinox: ws.din_equinox.to_string(),
            din_january: ws.din_january.to_string(),
            en17037_day: ws.en17037_day.to_string(),
            din_pass,
            din_fail: pts.len() - din_pass,
            en_levels,
            party_wall_windows_dropped: party_walls,
            din_newly_failing: base_results.as_ref().map(|_| newly_failing),
            en_level_lowered: base_results.as_ref().map(|_| lowered),
            files: written.clone(),
        },
        written,
    ))
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

#[cfg(test)]
mod tests {
    use super::*;
    use twin_core::geom::Polygon;
    use twin_core::model::Building;

    fn block(id: &str, x0: f64, w: f64, h: f64) -> Building {
        let mut b = Building {
            id: id.into(),
            footprint: vec![Polygon::new(vec![
                [x0, 0.0],
                [x0 + w, 0.0],
                [x0 + w, 10.0],
                [x0, 10.0],
            ])],
            ground_z: Some(0.0),
            measured_height_m: Some(h),
            ..Default::default()
        };
        b.extrude_lod1();
        b
    }

    #[test]
    fn windows_on_party_walls_are_left_out() {
        // Two row houses sharing the wall x = 10; the right one is lower (6 m vs 12 m), so
        // the left house's windows above 6 m on that wall are real windows.
        let mut city = City::new("row", 25832);
        city.buildings.push(block("A", 0.0, 10.0, 12.0));
        city.buildings.push(block("B", 10.0, 10.0, 6.0));
        let all = ss::sample::generate_windows(&city, 3.0, 5.0, None).unwrap();
        let (kept, dropped) = drop_party_walls(&city, all.clone());
        assert_eq!(kept.len() + dropped, all.len());
        // A: 4 storeys on the shared wall x = 10, 2 columns: the 2 lower storeys are below
        // B's roof. B: 2 storeys on x = 10, 2 columns, all against A.
        assert_eq!(dropped, 2 * 2 + 2 * 2);
        for k in 0..kept.len() {
            if (kept.x[k] - 10.0).abs() < 1e-6 {
                assert_eq!(kept.building[k], 0);
                assert!(kept.z[k] > 6.0);
            }
        }
    }
}
