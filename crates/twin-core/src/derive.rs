//! Derived layers on a raster grid, computed from a [`City`]: which building covers each cell,
//! terrain and surface height models, Manning roughness, and a quick-look PNG preview.
//!
//! All rasterisation tests cell *centres*: a cell belongs to a polygon when its centre lies
//! inside it (even-odd rule, holes excluded, the same convention as
//! [`Polygon::contains`]). Work is split into bands of rows processed in parallel with rayon;
//! each band is written by exactly one thread in a fixed order, so results do not depend on
//! the number of threads.

use crate::error::{Error, Result};
use crate::geom::{BBox2, P2, P3, Polygon};
use crate::model::{BarrierKind, Building, City, PointKind, SurfaceKind};
use crate::raster::{GridSpec, Raster, Resampling};
use rayon::prelude::*;
use std::path::Path;

/// Rows per parallel work unit.
const BAND: usize = 32;

/// One thing to paint: its polygons, their bounding box and the value written.
struct Shape<'a, T> {
    polys: &'a [Polygon],
    bbox: BBox2,
    value: T,
}

/// Inclusive range of rows whose centres lie within `[min_y, max_y]`, if any.
fn row_range(spec: &GridSpec, min_y: f64, max_y: f64) -> Option<(usize, usize)> {
    if spec.height == 0 || !(min_y.is_finite() && max_y.is_finite()) {
        return None;
    }
    let lo = ((spec.origin_y - max_y) / spec.cell_y - 0.5)
        .ceil()
        .max(0.0);
    let hi = ((spec.origin_y - min_y) / spec.cell_y - 0.5).floor();
    if hi.is_nan() || lo.is_nan() || hi < lo || hi < 0.0 {
        return None;
    }
    let hi = hi.min((spec.height - 1) as f64);
    (lo <= hi).then_some((lo as usize, hi as usize))
}

/// Half-open range of columns whose centres lie in `[xa, xb)`.
fn col_range(spec: &GridSpec, xa: f64, xb: f64) -> (usize, usize) {
    let w = spec.width as f64;
    let a = ((xa - spec.origin_x) / spec.cell_x - 0.5)
        .ceil()
        .clamp(0.0, w);
    let b = ((xb - spec.origin_x) / spec.cell_x - 0.5)
        .ceil()
        .clamp(0.0, w);
    (a as usize, b as usize)
}

/// Y of the centre of a row.
#[inline]
fn row_y(spec: &GridSpec, row: usize) -> f64 {
    spec.origin_y - (row as f64 + 0.5) * spec.cell_y
}

/// Push the x of every crossing of the horizontal line `y` with the edges of `ring`
/// (same arithmetic as [`crate::geom::point_in_ring`]).
fn ring_crossings(ring: &[P2], y: f64, out: &mut Vec<f64>) {
    let n = ring.len();
    if n < 3 {
        return;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (ring[i][0], ring[i][1]);
        let (xj, yj) = (ring[j][0], ring[j][1]);
        if (yi > y) != (yj > y) {
            out.push((xj - xi) * (y - yi) / (yj - yi) + xi);
        }
        j = i;
    }
}

/// Paint shapes in order (later ones overwrite earlier ones) onto a grid filled with `fill`.
fn paint<T: Copy + Send + Sync>(spec: &GridSpec, fill: T, shapes: &[Shape<'_, T>]) -> Vec<T> {
    let mut data = vec![fill; spec.len()];
    if data.is_empty() {
        return data;
    }
    let ranges: Vec<Option<(usize, usize)>> = shapes
        .iter()
        .map(|s| row_range(spec, s.bbox.min[1], s.bbox.max[1]))
        .collect();
    data.par_chunks_mut(spec.width * BAND)
        .enumerate()
        .for_each(|(band, chunk)| {
            let r0 = band * BAND;
            let r1 = r0 + chunk.len() / spec.width - 1;
            let mut xs = Vec::new();
            for (shape, range) in shapes.iter().zip(&ranges) {
                let Some((a, b)) = *range else { continue };
                for row in a.max(r0)..=b.min(r1) {
                    let y = row_y(spec, row);
                    let line = &mut chunk[(row - r0) * spec.width..(row - r0 + 1) * spec.width];
                    for poly in shape.polys {
                        xs.clear();
                        ring_crossings(&poly.exterior, y, &mut xs);
                        for h in &poly.interiors {
                            ring_crossings(h, y, &mut xs);
                        }
                        xs.sort_by(f64::total_cmp);
                        for pair in xs.chunks_exact(2) {
                            let (c0, c1) = col_range(spec, pair[0], pair[1]);
                            if c0 < c1 {
                                line[c0..c1].fill(shape.value);
                            }
                        }
                    }
                }
            }
        });
    data
}

/// Bounding box of polygons, or None when a coordinate is not finite.
fn finite_bbox(polys: &[Polygon]) -> Option<BBox2> {
    if !polys.iter().all(Polygon::is_finite) {
        return None;
    }
    let b = polys.iter().fold(BBox2::EMPTY, |b, p| b.union(&p.bbox()));
    (!b.is_empty()).then_some(b)
}

/// Paint polygons onto `spec` with the cell-centre rule: a cell takes an item's value when its
/// centre lies inside one of the item's polygons (holes excluded); later items overwrite
/// earlier ones; other cells keep `fill`. Items with non-finite coordinates are skipped.
pub fn rasterize_polygons<T: Copy + PartialEq + Send + Sync>(
    spec: GridSpec,
    fill: T,
    nodata: Option<T>,
    items: &[(&[Polygon], T)],
) -> Raster<T> {
    let shapes: Vec<Shape<'_, T>> = items
        .iter()
        .filter_map(|&(polys, value)| finite_bbox(polys).map(|bbox| Shape { polys, bbox, value }))
        .collect();
    let data = paint(&spec, fill, &shapes);
    Raster { spec, nodata, data }
}

/// Elevation of a building's top used to rank overlapping buildings: `roof_z`, else
/// `ground_z + height`, else the height above ground, else 0.
fn top_z(b: &Building) -> f64 {
    b.roof_z
        .or_else(|| b.ground_z.zip(b.height_m()).map(|(g, h)| g + h))
        .or_else(|| b.height_m())
        .filter(|z| z.is_finite())
        .unwrap_or(0.0)
}

/// Per cell the index + 1 of the building whose footprint contains the cell centre
/// (0 = no building). Where footprints overlap, the building with the highest top
/// (`roof_z`, else `ground_z` + height, else height) wins; among equal tops the lower index
/// wins. Buildings with non-finite coordinates are skipped.
pub fn building_id_raster(city: &City, spec: GridSpec) -> Raster<u32> {
    let mut order: Vec<usize> = (0..city.buildings.len()).collect();
    // Paint the lowest first so the highest ends up on top; ties: lower index last (wins).
    order.sort_by(|&a, &b| {
        top_z(&city.buildings[a])
            .total_cmp(&top_z(&city.buildings[b]))
            .then(b.cmp(&a))
    });
    let shapes: Vec<Shape<'_, u32>> = order
        .into_iter()
        .filter_map(|i| {
            let b = &city.buildings[i];
            finite_bbox(&b.footprint).map(|bbox| Shape {
                polys: &b.footprint,
                bbox,
                value: i as u32 + 1,
            })
        })
        .collect();
    let data = paint(&spec, 0u32, &shapes);
    Raster {
        spec,
        nodata: None,
        data,
    }
}

/// 1 where a building footprint covers the cell centre, 0 elsewhere.
pub fn building_mask(city: &City, spec: GridSpec) -> Raster<u8> {
    let ids = building_id_raster(city, spec);
    ids.map(None, |v| u8::from(v > 0))
}

/// Rasterise triangles onto one band of rows (`chunk` starts at row `r0`): each accepted
/// cell whose centre lies in a triangle gets the maximum of its value and the triangle's
/// z interpolated at the centre (NaN cells take the triangle value).
fn raster_triangles_max(
    spec: &GridSpec,
    chunk: &mut [f32],
    r0: usize,
    tris: impl Iterator<Item = [P3; 3]>,
    accept: impl Fn(usize) -> bool,
) {
    let r1 = r0 + chunk.len() / spec.width - 1;
    for [a, b, c] in tris {
        let (miny, maxy) = (a[1].min(b[1]).min(c[1]), a[1].max(b[1]).max(c[1]));
        let Some((ra, rb)) = row_range(spec, miny, maxy) else {
            continue;
        };
        let (minx, maxx) = (a[0].min(b[0]).min(c[0]), a[0].max(b[0]).max(c[0]));
        if !(minx.is_finite() && maxx.is_finite()) {
            continue;
        }
        // Barycentric set-up relative to `a` for precision at UTM scale.
        let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
        let (vx, vy) = (c[0] - a[0], c[1] - a[1]);
        let det = ux * vy - vx * uy;
        if det.abs() < 1e-9 || !det.is_finite() {
            continue;
        }
        let eps = 1e-9;
        let (c0, c1) = col_range(spec, minx, maxx);
        // col_range is half-open at the right edge; include a centre exactly on maxx.
        let c1 = (c1 + 1).min(spec.width);
        for row in ra.max(r0)..=rb.min(r1) {
            let py = row_y(spec, row) - a[1];
            for col in c0..c1 {
                let px = spec.origin_x + (col as f64 + 0.5) * spec.cell_x - a[0];
                let s = (px * vy - vx * py) / det;
                let t = (ux * py - px * uy) / det;
                if s < -eps || t < -eps || s + t > 1.0 + eps {
                    continue;
                }
                let gi = spec.idx(col, row);
                if !accept(gi) {
                    continue;
                }
                let z = (a[2] + s * (b[2] - a[2]) + t * (c[2] - a[2])) as f32;
                let cell = &mut chunk[(row - r0) * spec.width + col];
                if cell.is_nan() || z > *cell {
                    *cell = z;
                }
            }
        }
    }
}

/// Triangles of a mesh as coordinates, skipping out-of-range indices.
fn mesh_triangles<'a>(
    positions: &'a [P3],
    tris: impl Iterator<Item = &'a [u32; 3]> + 'a,
) -> impl Iterator<Item = [P3; 3]> + 'a {
    tris.filter_map(move |t| {
        Some([
            *positions.get(t[0] as usize)?,
            *positions.get(t[1] as usize)?,
            *positions.get(t[2] as usize)?,
        ])
    })
}

/// Terrain heights on `spec`: the DEM sampled bilinearly (or copied when the grids are
/// equal), or, without a DEM, the TIN rasterised with barycentric interpolation at each cell
/// centre. Cells without terrain are NaN (the raster's nodata). Errors when the city has
/// no terrain.
pub fn terrain_on_grid(city: &City, spec: GridSpec) -> Result<Raster<f32>> {
    spec.validate()?;
    if let Some(dem) = &city.terrain.dem {
        if dem.spec == spec {
            let mut out = dem.clone();
            if let Some(nd) = dem.nodata.filter(|v| !v.is_nan()) {
                out.data
                    .iter_mut()
                    .filter(|v| **v == nd)
                    .for_each(|v| *v = f32::NAN);
            }
            out.nodata = Some(f32::NAN);
            return Ok(out);
        }
        let mut out = dem.resample(spec, Resampling::Bilinear)?;
        if let Some(nd) = out.nodata.filter(|v| !v.is_nan()) {
            out.data
                .iter_mut()
                .filter(|v| **v == nd)
                .for_each(|v| *v = f32::NAN);
        }
        out.nodata = Some(f32::NAN);
        return Ok(out);
    }
    let Some(tin) = &city.terrain.tin else {
        return Err(Error::Invalid(format!(
            "city '{}' has no terrain (neither DEM nor TIN)",
            city.name
        )));
    };
    let mut data = vec![f32::NAN; spec.len()];
    if !data.is_empty() {
        data.par_chunks_mut(spec.width * BAND)
            .enumerate()
            .for_each(|(band, chunk)| {
                let tris = mesh_triangles(&tin.positions, tin.triangles.iter());
                raster_triangles_max(&spec, chunk, band * BAND, tris, |_| true);
            });
    }
    Raster::from_vec(spec, data, Some(f32::NAN))
}

/// Digital surface model on `spec`: terrain, and on building cells the roof height.
/// LoD2 buildings (with `Roof` triangles) take the highest roof triangle above the cell
/// centre, so sloped roofs show; other building cells (and LoD2 cells no roof triangle
/// covers) take `roof_z`, else `ground_z` + height, else the terrain + height, else the
/// terrain.
pub fn height_model(city: &City, spec: GridSpec) -> Result<Raster<f32>> {
    let terrain = terrain_on_grid(city, spec)?;
    let ids = building_id_raster(city, spec);
    let mut roof = vec![f32::NAN; spec.len()];
    if !roof.is_empty() {
        let lod2: Vec<usize> = (0..city.buildings.len())
            .filter(|&i| {
                let b = &city.buildings[i];
                b.lod >= 2 && b.surfaces.kinds.contains(&SurfaceKind::Roof)
            })
            .collect();
        roof.par_chunks_mut(spec.width * BAND)
            .enumerate()
            .for_each(|(band, chunk)| {
                for &i in &lod2 {
                    let m = &city.buildings[i].surfaces;
                    let roofs = m
                        .triangles
                        .iter()
                        .zip(&m.kinds)
                        .filter(|(_, k)| **k == SurfaceKind::Roof)
                        .map(|(t, _)| t);
                    let id = i as u32 + 1;
                    raster_triangles_max(
                        &spec,
                        chunk,
                        band * BAND,
                        mesh_triangles(&m.positions, roofs),
                        |gi| ids.data[gi] == id,
                    );
                }
            });
    }
    let mut dsm = terrain;
    dsm.data
        .par_iter_mut()
        .zip(&ids.data)
        .zip(&roof)
        .for_each(|((z, &id), &r)| {
            if id == 0 {
                return;
            }
            if !r.is_nan() {
                *z = r;
                return;
            }
            let b = &city.buildings[id as usize - 1];
            let top = b
                .roof_z
                .or_else(|| b.ground_z.zip(b.height_m()).map(|(g, h)| g + h))
                .or_else(|| b.height_m().map(|h| *z as f64 + h))
                .filter(|v| v.is_finite());
            if let Some(t) = top {
                *z = t as f32;
            }
        });
    Ok(dsm)
}

/// Manning roughness n on `spec` from the city's land-cover zones. Zones are painted in list
/// order, so where zones overlap the *later* zone wins; cells outside every zone get
/// `default_n`. A zone whose `manning_n` is not a finite positive number uses its class
/// default ([`crate::model::LandCover::default_manning_n`]).
pub fn roughness(city: &City, spec: GridSpec, default_n: f64) -> Raster<f32> {
    let shapes: Vec<Shape<'_, f32>> = city
        .landcover
        .iter()
        .filter_map(|z| {
            let n = if z.manning_n.is_finite() && z.manning_n > 0.0 {
                z.manning_n
            } else {
                z.kind.default_manning_n()
            };
            finite_bbox(std::slice::from_ref(&z.polygon)).map(|bbox| Shape {
                polys: std::slice::from_ref(&z.polygon),
                bbox,
                value: n as f32,
            })
        })
        .collect();
    let data = paint(&spec, default_n as f32, &shapes);
    Raster {
        spec,
        nodata: None,
        data,
    }
}

/// Write a quick-look PNG of a city: a hill-shaded terrain colour map (water blue below
/// 0 m, land green to brown with height), building footprints grey, roads white, dikes
/// brown (sections lower than the highest dike crest red), quays dark grey, gauges black and
/// shelters red. The longer side has `max_px` pixels. Written atomically (temporary file in
/// the target directory, then rename).
pub fn preview_png(city: &City, path: &Path, max_px: u32) -> Result<()> {
    if !(2..=16384).contains(&max_px) {
        return Err(Error::Invalid(format!(
            "preview size must be 2..=16384 px, got {max_px}"
        )));
    }
    let bbox = match &city.terrain.dem {
        Some(d) => d.spec.bbox(),
        None => city.bbox(),
    };
    if bbox.is_empty() {
        return Err(Error::Invalid(format!(
            "city '{}' is empty, nothing to preview",
            city.name
        )));
    }
    let cell = bbox.width().max(bbox.height()) / max_px as f64;
    let spec = GridSpec::covering(&bbox, cell, Some(city.epsg))?;
    let (w, h) = (spec.width, spec.height);
    let terrain = terrain_on_grid(city, spec).ok();
    let mask = building_mask(city, spec);
    let z_at = |c: usize, r: usize| -> f32 {
        terrain
            .as_ref()
            .map(|t| t.get(c.min(w - 1), r.min(h - 1)))
            .filter(|v| v.is_finite())
            .unwrap_or(2.0)
    };
    let mut rgb = vec![0u8; w * h * 3];
    rgb.par_chunks_mut(w * 3).enumerate().for_each(|(r, line)| {
        for c in 0..w {
            let z = z_at(c, r);
            let dzdx = (z_at(c + 1, r) - z_at(c.saturating_sub(1), r)) as f64 / (2.0 * cell);
            let dzdy = (z_at(c, r.saturating_sub(1)) - z_at(c, r + 1)) as f64 / (2.0 * cell);
            // Light from the north-west, 45 degrees up; relief exaggerated 3x.
            let (nx, ny, nz) = (-3.0 * dzdx, -3.0 * dzdy, 1.0);
            let l = [-0.5, 0.5, std::f64::consts::FRAC_1_SQRT_2];
            let shade = ((nx * l[0] + ny * l[1] + nz * l[2])
                / (nx * nx + ny * ny + nz * nz).sqrt())
            .clamp(0.0, 1.0);
            let base: [f64; 3] = if mask.get(c, r) > 0 {
                [150.0, 150.0, 155.0]
            } else if z < 0.0 {
                let t = (-z as f64 / 8.0).clamp(0.0, 1.0);
                lerp3([120.0, 175.0, 225.0], [25.0, 70.0, 150.0], t)
            } else {
                let t = (z as f64 / 12.0).clamp(0.0, 1.0);
                if t < 0.5 {
                    lerp3([95.0, 155.0, 75.0], [190.0, 185.0, 110.0], t * 2.0)
                } else {
                    lerp3([190.0, 185.0, 110.0], [150.0, 105.0, 65.0], t * 2.0 - 1.0)
                }
            };
            let f = 0.55 + 0.45 * shade / std::f64::consts::FRAC_1_SQRT_2;
            for k in 0..3 {
                line[c * 3 + k] = (base[k] * f).clamp(0.0, 255.0) as u8;
            }
        }
    });
    let mut img = Canvas {
        spec,
        rgb: &mut rgb,
    };
    for l in &city.roads.links {
        let width_m = match l.class {
            crate::model::HighwayClass::Motorway | crate::model::HighwayClass::Trunk => 20.0,
            crate::model::HighwayClass::Primary => 16.0,
            crate::model::HighwayClass::Secondary | crate::model::HighwayClass::Tertiary => 12.0,
            _ => 8.0,
        };
        img.polyline(&l.geometry, width_m, [255, 255, 255]);
    }
    let top_crest = city
        .barriers
        .iter()
        .filter(|b| b.kind == BarrierKind::Dike)
        .map(|b| b.crest_z)
        .fold(f64::NEG_INFINITY, f64::max);
    for b in &city.barriers {
        let colour = match b.kind {
            BarrierKind::Dike if b.crest_z < top_crest => [220, 30, 30],
            BarrierKind::Dike => [110, 70, 30],
            BarrierKind::Wall | BarrierKind::Quay => [60, 60, 60],
        };
        img.polyline(&b.line, 3.0 * cell, colour);
    }
    for p in &city.points {
        let colour = match p.kind {
            PointKind::Shelter => [230, 20, 20],
            _ => [0, 0, 0],
        };
        img.polyline(&[[p.x, p.y], [p.x, p.y]], 9.0 * cell, colour);
    }
    write_png_atomic(path, w as u32, h as u32, &rgb)
}

fn lerp3(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// An RGB image over a grid, for drawing vector overlays.
struct Canvas<'a> {
    spec: GridSpec,
    rgb: &'a mut [u8],
}

impl Canvas<'_> {
    /// Draw a polyline `width_m` wide (at least one pixel) by stamping squares along it.
    fn polyline(&mut self, line: &[P2], width_m: f64, colour: [u8; 3]) {
        let s = self.spec;
        let half = (0.5 * width_m / s.cell_x).max(0.5);
        let r = half.floor() as i64;
        for seg in line.windows(2) {
            let (c0, r0) = s.world_to_grid(seg[0][0], seg[0][1]);
            let (c1, r1) = s.world_to_grid(seg[1][0], seg[1][1]);
            let len = ((c1 - c0).powi(2) + (r1 - r0).powi(2)).sqrt();
            if !len.is_finite() {
                continue;
            }
            let steps = (len * 2.0).ceil().max(1.0) as usize;
            for k in 0..=steps {
                let t = k as f64 / steps as f64;
                let (c, rr) = ((c0 + (c1 - c0) * t) as i64, (r0 + (r1 - r0) * t) as i64);
                for dr in -r..=r {
                    for dc in -r..=r {
                        let (x, y) = (c + dc, rr + dr);
                        if x >= 0 && y >= 0 && (x as usize) < s.width && (y as usize) < s.height {
                            let i = 3 * s.idx(x as usize, y as usize);
                            self.rgb[i..i + 3].copy_from_slice(&colour);
                        }
                    }
                }
            }
        }
    }
}

/// Encode an 8-bit RGB PNG and write it atomically.
fn write_png_atomic(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<()> {
    let mut bytes = Vec::new();
    let encode = |bytes: &mut Vec<u8>| -> std::result::Result<(), png::EncodingError> {
        let mut enc = png::Encoder::new(bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header()?;
        wr.write_image_data(rgb)?;
        wr.finish()
    };
    encode(&mut bytes).map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    crate::fsio::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LandCover, LandCoverZone, TriMesh};

    fn grid(w: usize, h: usize) -> GridSpec {
        GridSpec {
            origin_x: 565000.0,
            origin_y: 5927020.0,
            cell_x: 1.0,
            cell_y: 1.0,
            width: w,
            height: h,
            epsg: Some(25832),
        }
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<P2> {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    fn building(id: &str, poly: Polygon, ground: f64, h: f64) -> Building {
        let mut b = Building {
            id: id.into(),
            footprint: vec![poly],
            ground_z: Some(ground),
            measured_height_m: Some(h),
            ..Default::default()
        };
        b.extrude_lod1();
        b
    }

    #[test]
    fn rasterize_polygons_later_items_win() {
        let spec = grid(10, 10);
        let a = [Polygon::new(rect(565000.0, 5927015.0, 565006.0, 5927020.0))];
        let b = [Polygon::new(rect(565004.0, 5927015.0, 565010.0, 5927020.0))];
        let r = rasterize_polygons(spec, 0u8, None, &[(&a[..], 1), (&b[..], 2)]);
        assert_eq!(r.row(0), &[1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
        assert!(r.row(9).iter().all(|&v| v == 0));
        let nan = [Polygon::new(vec![[f64::NAN, 0.0], [1.0, 0.0], [1.0, 1.0]])];
        let r = rasterize_polygons(spec, 0u8, None, &[(&nan[..], 1)]);
        assert!(r.data.iter().all(|&v| v == 0));
    }

    fn flat_city(w: usize, h: usize, z: f32) -> City {
        let mut c = City::new("t", 25832);
        c.terrain.dem = Some(Raster::filled(grid(w, h), z, None));
        c
    }

    #[test]
    fn square_building_covers_expected_cells() {
        let s = grid(20, 20);
        let mut c = flat_city(20, 20, 3.0);
        // Columns 3..8 (x 565003..565008), rows 5..9 (y 5927015 down to 5927011).
        c.buildings.push(building(
            "a",
            Polygon::new(rect(565003.0, 5927011.0, 565008.0, 5927015.0)),
            3.0,
            10.0,
        ));
        let ids = building_id_raster(&c, s);
        let mut count = 0;
        for r in 0..20 {
            for col in 0..20 {
                let inside = (3..8).contains(&col) && (5..9).contains(&r);
                assert_eq!(ids.get(col, r), u32::from(inside), "cell {col},{r}");
                count += usize::from(inside);
            }
        }
        assert_eq!(count, 20);
        let m = building_mask(&c, s);
        assert_eq!(m.data.iter().map(|&v| v as usize).sum::<usize>(), 20);
    }

    #[test]
    fn hole_is_left_open_and_tallest_wins() {
        let s = grid(20, 20);
        let mut c = flat_city(20, 20, 0.0);
        let mut p = Polygon::new(rect(565002.0, 5927002.0, 565012.0, 5927012.0));
        p.interiors
            .push(rect(565005.0, 5927005.0, 565009.0, 5927009.0));
        c.buildings.push(building("ring", p.clone(), 0.0, 10.0));
        // A lower building overlapping the east side, and a taller one on the west side.
        c.buildings.push(building(
            "low",
            Polygon::new(rect(565010.0, 5927002.0, 565015.0, 5927012.0)),
            0.0,
            5.0,
        ));
        c.buildings.push(building(
            "tall",
            Polygon::new(rect(565000.0, 5927002.0, 565004.0, 5927012.0)),
            0.0,
            30.0,
        ));
        let ids = building_id_raster(&c, s);
        for r in 0..20 {
            for col in 0..20 {
                let [x, y] = s.cell_center(col, r);
                let expect = if c.buildings[2].footprint[0].contains([x, y]) {
                    3
                } else if p.contains([x, y]) {
                    1
                } else if c.buildings[1].footprint[0].contains([x, y]) {
                    2
                } else {
                    0
                };
                assert_eq!(ids.get(col, r), expect, "cell {col},{r}");
            }
        }
        // Hole: 4x4 cells stay empty.
        let (c0, r0) = s.cell_at(565005.5, 5927008.5).unwrap();
        for r in r0..r0 + 4 {
            for col in c0..c0 + 4 {
                assert_eq!(ids.get(col, r), 0);
            }
        }
    }

    #[test]
    fn dsm_on_flat_dem() {
        let s = grid(20, 20);
        let mut c = flat_city(20, 20, 2.5);
        c.buildings.push(building(
            "a",
            Polygon::new(rect(565003.0, 5927011.0, 565008.0, 5927015.0)),
            2.5,
            10.0,
        ));
        // A building without surfaces: height from ground_z + measured height.
        c.buildings.push(Building {
            id: "b".into(),
            footprint: vec![Polygon::new(rect(565012.0, 5927003.0, 565016.0, 5927006.0))],
            ground_z: Some(2.5),
            measured_height_m: Some(4.0),
            ..Default::default()
        });
        let dsm = height_model(&c, s).unwrap();
        let ids = building_id_raster(&c, s);
        for i in 0..s.len() {
            let expect = match ids.data[i] {
                0 => 2.5,
                1 => 12.5,
                _ => 6.5,
            };
            assert!(
                (dsm.data[i] - expect).abs() < 1e-5,
                "cell {i}: {}",
                dsm.data[i]
            );
        }
        let t = terrain_on_grid(&c, s).unwrap();
        assert!(t.data.iter().all(|&v| v == 2.5));
        // Coarser grid: bilinear sampling of a flat DEM stays flat.
        let coarse = GridSpec {
            cell_x: 2.0,
            cell_y: 2.0,
            width: 10,
            height: 10,
            ..s
        };
        let t2 = terrain_on_grid(&c, coarse).unwrap();
        assert!(t2.data.iter().all(|&v| (v - 2.5).abs() < 1e-6));
    }

    #[test]
    fn dsm_follows_sloped_lod2_roof() {
        let s = grid(20, 20);
        let mut c = flat_city(20, 20, 0.0);
        // A mono-pitch roof rising from z=10 at x=565000 to z=20 at x=565020.
        let mut mesh = TriMesh::default();
        let roof = vec![
            [565000.0, 5927000.0, 10.0],
            [565020.0, 5927000.0, 20.0],
            [565020.0, 5927020.0, 20.0],
            [565000.0, 5927020.0, 10.0],
        ];
        mesh.add_polygon(&roof, &[], SurfaceKind::Roof);
        c.buildings.push(Building {
            id: "shed".into(),
            footprint: vec![Polygon::new(rect(565000.0, 5927000.0, 565020.0, 5927020.0))],
            ground_z: Some(0.0),
            roof_z: Some(20.0),
            lod: 2,
            surfaces: mesh,
            ..Default::default()
        });
        let dsm = height_model(&c, s).unwrap();
        for r in 0..20 {
            for col in 0..20 {
                let expect = 10.0 + (col as f32 + 0.5) * 0.5;
                assert!((dsm.get(col, r) - expect).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn tin_is_rasterised_and_missing_terrain_is_an_error() {
        let s = grid(10, 10);
        let mut c = City::new("tin", 25832);
        assert!(terrain_on_grid(&c, s).is_err());
        // Plane z = x - 565000 over two triangles covering the grid.
        let mut tin = TriMesh::default();
        let ring = vec![
            [565000.0, 5927010.0, 0.0],
            [565010.0, 5927010.0, 10.0],
            [565010.0, 5927020.0, 10.0],
            [565000.0, 5927020.0, 0.0],
        ];
        tin.add_polygon(&ring, &[], SurfaceKind::Other);
        tin.triangles.push([0, 1, 99]); // bad index: skipped, no panic
        c.terrain.tin = Some(tin);
        let t = terrain_on_grid(&c, s).unwrap();
        for r in 0..10 {
            for col in 0..10 {
                assert!((t.get(col, r) - (col as f32 + 0.5)).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn roughness_later_zone_wins() {
        let s = grid(10, 10);
        let mut c = City::new("r", 25832);
        let zone = |id: &str, kind: LandCover, r: Vec<P2>| LandCoverZone {
            id: id.into(),
            kind,
            polygon: Polygon::new(r),
            manning_n: kind.default_manning_n(),
        };
        c.landcover.push(zone(
            "park",
            LandCover::Park,
            rect(565000.0, 5927010.0, 565006.0, 5927020.0),
        ));
        c.landcover.push(zone(
            "road",
            LandCover::Road,
            rect(565004.0, 5927010.0, 565010.0, 5927020.0),
        ));
        let mut bad = zone(
            "nan",
            LandCover::Forest,
            rect(565000.0, 5927010.0, 565001.0, 5927011.0),
        );
        bad.manning_n = f64::NAN;
        c.landcover.push(bad);
        let n = roughness(&c, s, 0.05);
        for r in 0..10 {
            for col in 0..10 {
                let expect = if r == 9 && col == 0 {
                    0.100
                } else if col >= 4 {
                    0.015
                } else {
                    0.035
                };
                assert!((n.get(col, r) as f64 - expect).abs() < 1e-6, "{col},{r}");
            }
        }
        let empty = roughness(&City::new("e", 25832), s, 0.05);
        assert!(empty.data.iter().all(|&v| v == 0.05));
    }

    #[test]
    fn same_result_with_one_and_two_threads() {
        let s = grid(200, 150);
        let mut c = flat_city(200, 150, 1.0);
        for k in 0..60 {
            let x = 565000.0 + (k * 37 % 190) as f64 + 0.3;
            let y = 5926870.0 + (k * 53 % 140) as f64 + 0.7;
            let mut p = Polygon::new(rect(x, y, x + 12.5, y + 9.25));
            if k % 3 == 0 {
                p.interiors.push(rect(x + 3.0, y + 3.0, x + 8.0, y + 6.0));
            }
            c.buildings
                .push(building(&format!("b{k}"), p, 1.0, 5.0 + (k % 7) as f64));
        }
        let run = |n: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap();
            pool.install(|| (building_id_raster(&c, s), height_model(&c, s).unwrap()))
        };
        let (a, da) = run(1);
        let (b, db) = run(2);
        assert_eq!(a, b);
        assert_eq!(
            da.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            db.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!(a.data.iter().any(|&v| v > 0));
    }

    #[test]
    fn non_finite_footprints_are_skipped() {
        let s = grid(10, 10);
        let mut c = flat_city(10, 10, 0.0);
        c.buildings.push(Building {
            id: "nan".into(),
            footprint: vec![Polygon::new(vec![[f64::NAN, 0.0], [1.0, 0.0], [1.0, 1.0]])],
            ..Default::default()
        });
        assert!(building_id_raster(&c, s).data.iter().all(|&v| v == 0));
        let empty = GridSpec {
            width: 0,
            height: 0,
            ..s
        };
        assert!(building_id_raster(&c, empty).data.is_empty());
    }

    #[test]
    fn preview_png_is_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = flat_city(40, 30, 3.0);
        c.buildings.push(building(
            "a",
            Polygon::new(rect(565003.0, 5927001.0, 565008.0, 5927015.0)),
            3.0,
            10.0,
        ));
        let p = dir.path().join("p.png");
        preview_png(&c, &p, 80).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(preview_png(&c, &p, 0).is_err());
        assert!(preview_png(&c, &dir.path().join("missing/x.png"), 80).is_err());
    }
}
