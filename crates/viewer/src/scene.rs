//! Scene geometry built from the city model, as plain vertex arrays (no bevy).
//!
//! Everything is in a local frame: x east, y north, z up, metres, relative to
//! [`Frame::origin`] so that f32 keeps centimetre precision over tens of kilometres. The
//! bevy layer converts to its y-up frame and uploads the arrays as they are.
//!
//! Buildings are batched: all roofs in one mesh and all walls in another (thousands of
//! buildings are then two draw calls), flat shaded (three vertices per triangle, face
//! normals), with the building index of every vertex so results can recolour buildings
//! without rebuilding the geometry.

use twin_core::City;
use twin_core::model::{BarrierKind, HighwayClass, LandCover, SurfaceKind};
use twin_core::raster::Raster;

/// The local frame of a scene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// World coordinates (city CRS, vertical datum) of the local origin.
    pub origin: [f64; 3],
}

impl Frame {
    /// A frame centred on the city's bounding box at height 0.
    pub fn for_city(city: &City) -> Frame {
        let b = city_bbox(city);
        if b.is_empty() {
            return Frame { origin: [0.0; 3] };
        }
        Frame {
            origin: [
                (b.min[0] + b.max[0]) / 2.0,
                (b.min[1] + b.max[1]) / 2.0,
                0.0,
            ],
        }
    }
    /// World → local.
    pub fn local(&self, p: [f64; 3]) -> [f32; 3] {
        [
            (p[0] - self.origin[0]) as f32,
            (p[1] - self.origin[1]) as f32,
            (p[2] - self.origin[2]) as f32,
        ]
    }
    /// Local → world.
    pub fn world(&self, p: [f32; 3]) -> [f64; 3] {
        [
            p[0] as f64 + self.origin[0],
            p[1] as f64 + self.origin[1],
            p[2] as f64 + self.origin[2],
        ]
    }
}

/// Bounding box of everything in the city (terrain, buildings, roads, barriers).
pub fn city_bbox(city: &City) -> twin_core::geom::BBox2 {
    let mut b = twin_core::geom::BBox2::EMPTY;
    if let Some(dem) = &city.terrain.dem {
        b = b.union(&dem.spec.bbox());
    }
    if let Some(t) = &city.terrain.tin {
        for p in &t.positions {
            b = b.union(&twin_core::geom::BBox2 {
                min: [p[0], p[1]],
                max: [p[0], p[1]],
            });
        }
    }
    for bl in &city.buildings {
        b = b.union(&bl.bbox());
    }
    for n in &city.roads.nodes {
        b = b.union(&twin_core::geom::BBox2 {
            min: [n.x, n.y],
            max: [n.x, n.y],
        });
    }
    b
}

/// A triangle mesh as flat arrays, ready for upload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshData {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    /// Linear RGBA per vertex.
    pub colors: Vec<[f32; 4]>,
    /// Texture coordinates (terrain only: the overlay image spans the DEM).
    pub uvs: Vec<[f32; 2]>,
    pub indices: Vec<u32>,
}

impl MeshData {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    pub fn clear(&mut self) {
        self.positions.clear();
        self.normals.clear();
        self.colors.clear();
        self.uvs.clear();
        self.indices.clear();
    }
    /// Append a flat-shaded triangle (its own three vertices, the face normal).
    fn push_flat(&mut self, p: [[f32; 3]; 3], color: [f32; 4]) -> bool {
        let n = face_normal(p);
        if n == [0.0; 3] {
            return false;
        }
        let base = self.positions.len() as u32;
        for v in p {
            self.positions.push(v);
            self.normals.push(n);
            self.colors.push(color);
        }
        self.indices.extend_from_slice(&[base, base + 1, base + 2]);
        true
    }
    /// Axis-aligned bounds of the positions (`None` when empty).
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let mut it = self.positions.iter();
        let first = *it.next()?;
        let (mut lo, mut hi) = (first, first);
        for p in it {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        Some((lo, hi))
    }
}

fn face_normal(p: [[f32; 3]; 3]) -> [f32; 3] {
    let a = [p[1][0] - p[0][0], p[1][1] - p[0][1], p[1][2] - p[0][2]];
    let b = [p[2][0] - p[0][0], p[2][1] - p[0][1], p[2][2] - p[0][2]];
    let n = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if l.is_nan() || l <= 1e-12 || !l.is_finite() {
        return [0.0; 3];
    }
    [n[0] / l, n[1] / l, n[2] / l]
}

/// sRGB bytes → linear RGBA floats (what vertex colours are in).
pub fn srgb_to_linear(c: [u8; 3], alpha: f32) -> [f32; 4] {
    let f = |v: u8| {
        let s = v as f32 / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    [f(c[0]), f(c[1]), f(c[2]), alpha]
}

/// Roof colour (sRGB) by roof type and wall colour of buildings.
pub const ROOF_SRGB: [u8; 3] = [176, 96, 78];
pub const FLAT_ROOF_SRGB: [u8; 3] = [150, 150, 156];
pub const WALL_SRGB: [u8; 3] = [232, 224, 208];

/// The buildings as two batched meshes.
#[derive(Debug, Clone, Default)]
pub struct BuildingMeshes {
    pub roofs: MeshData,
    pub walls: MeshData,
    /// Building index (into `city.buildings`) of every roof vertex.
    pub roof_building: Vec<u32>,
    /// Building index of every wall vertex.
    pub wall_building: Vec<u32>,
    /// The roof colour of every building before any result colouring (linear RGBA).
    pub base_roof_color: Vec<[f32; 4]>,
    /// Buildings with no surfaces and no height (not drawn).
    pub skipped: usize,
}

impl BuildingMeshes {
    /// Build from every building's LoD2/LoD1 surfaces; buildings with only a footprint and
    /// a height are extruded (LoD1). Ground surfaces are not drawn.
    pub fn build(city: &City, frame: &Frame) -> BuildingMeshes {
        let mut out = BuildingMeshes::default();
        let wall = srgb_to_linear(WALL_SRGB, 1.0);
        for (bi, b) in city.buildings.iter().enumerate() {
            let extruded;
            let mesh = if b.surfaces.is_empty() {
                let mut c = b.clone();
                c.extrude_lod1();
                extruded = c.surfaces;
                &extruded
            } else {
                &b.surfaces
            };
            let roof_srgb = match b.roof_type {
                twin_core::model::RoofType::Flat => FLAT_ROOF_SRGB,
                _ => ROOF_SRGB,
            };
            let roof = srgb_to_linear(roof_srgb, 1.0);
            out.base_roof_color.push(roof);
            if mesh.is_empty() {
                out.skipped += 1;
                continue;
            }
            for (t, kind) in mesh.triangles.iter().zip(&mesh.kinds) {
                let Some(p) = tri_positions(&mesh.positions, t, frame) else {
                    continue;
                };
                let (target, owner, color) = match kind {
                    SurfaceKind::Roof => (&mut out.roofs, &mut out.roof_building, roof),
                    SurfaceKind::Wall | SurfaceKind::Other => {
                        // Horizontal "other" surfaces facing up are drawn as roofs.
                        let n = face_normal(p);
                        if matches!(kind, SurfaceKind::Other) && n[2].abs() > 0.7 {
                            (&mut out.roofs, &mut out.roof_building, roof)
                        } else {
                            (&mut out.walls, &mut out.wall_building, wall)
                        }
                    }
                    SurfaceKind::Ground => continue,
                };
                if target.push_flat(p, color) {
                    owner.extend_from_slice(&[bi as u32; 3]);
                }
            }
        }
        out
    }

    /// Recolour the roofs: `color(building index)` gives a linear RGBA, or `None` for the
    /// building's own roof colour. Walls take a lighter tint of the same colour.
    pub fn recolor(&mut self, color: impl Fn(usize) -> Option<[f32; 4]>) {
        let wall = srgb_to_linear(WALL_SRGB, 1.0);
        for (c, &b) in self.roofs.colors.iter_mut().zip(&self.roof_building) {
            *c = color(b as usize).unwrap_or(self.base_roof_color[b as usize]);
        }
        for (c, &b) in self.walls.colors.iter_mut().zip(&self.wall_building) {
            *c = match color(b as usize) {
                Some(k) => [
                    0.5 * (k[0] + wall[0]),
                    0.5 * (k[1] + wall[1]),
                    0.5 * (k[2] + wall[2]),
                    1.0,
                ],
                None => wall,
            };
        }
    }
}

fn tri_positions(pos: &[[f64; 3]], t: &[u32; 3], frame: &Frame) -> Option<[[f32; 3]; 3]> {
    let mut p = [[0.0f32; 3]; 3];
    for k in 0..3 {
        let w = pos.get(t[k] as usize)?;
        if !w.iter().all(|v| v.is_finite()) {
            return None;
        }
        p[k] = frame.local(*w);
    }
    Some(p)
}

/// A terrain grid mesh over the DEM, decimated so neither side has more than `max_side`
/// vertices; missing cells (nodata, NaN) leave holes. UVs map the DEM's extent to [0, 1]²
/// (u east, v south) for the overlay texture.
pub fn terrain_mesh(dem: &Raster<f32>, frame: &Frame, max_side: usize) -> MeshData {
    let (w, h) = (dem.width(), dem.height());
    let mut m = MeshData::default();
    if w < 2 || h < 2 {
        return m;
    }
    let max_side = max_side.max(2);
    let stride = w.max(h).div_ceil(max_side).max(1);
    let cols: Vec<usize> = sample_positions(w, stride);
    let rows: Vec<usize> = sample_positions(h, stride);
    let s = &dem.spec;
    let z = |c: usize, r: usize| -> Option<f32> {
        let v = dem.get(c, r);
        (!dem.is_missing(v)).then_some(v)
    };
    let nc = cols.len();
    let mut valid = vec![false; cols.len() * rows.len()];
    let bw = s.cell_x * w as f64;
    let bh = s.cell_y * h as f64;
    for (ri, &r) in rows.iter().enumerate() {
        for (ci, &c) in cols.iter().enumerate() {
            let [x, y] = s.cell_center(c, r);
            let zv = z(c, r);
            valid[ri * nc + ci] = zv.is_some();
            let zv = zv.unwrap_or(0.0) as f64;
            m.positions.push(frame.local([x, y, zv]));
            m.uvs.push([
                ((x - s.origin_x) / bw) as f32,
                ((s.origin_y - y) / bh) as f32,
            ]);
            // Normal from central differences on the sampled grid.
            let c0 = cols[ci.saturating_sub(1)];
            let c1 = cols[(ci + 1).min(nc - 1)];
            let r0 = rows[ri.saturating_sub(1)];
            let r1 = rows[(ri + 1).min(rows.len() - 1)];
            let zz = |c, r| z(c, r).map_or(zv as f32, |v| v);
            let dzdx = (zz(c1, r) - zz(c0, r)) as f64 / ((c1 - c0).max(1) as f64 * s.cell_x);
            // Rows run south: y decreases with r.
            let dzdy = (zz(c, r0) - zz(c, r1)) as f64 / ((r1 - r0).max(1) as f64 * s.cell_y);
            let n = [-dzdx, -dzdy, 1.0];
            let l = (n[0] * n[0] + n[1] * n[1] + 1.0).sqrt();
            m.normals
                .push([(n[0] / l) as f32, (n[1] / l) as f32, (n[2] / l) as f32]);
            m.colors.push([1.0; 4]);
        }
    }
    for ri in 0..rows.len() - 1 {
        for ci in 0..nc - 1 {
            let a = ri * nc + ci;
            let (b, c, d) = (a + 1, a + nc, a + nc + 1);
            if valid[a] && valid[b] && valid[c] && valid[d] {
                // Counter-clockwise seen from above (x east, y north: rows go south).
                m.indices.extend_from_slice(&[
                    a as u32, c as u32, b as u32, b as u32, c as u32, d as u32,
                ]);
            }
        }
    }
    m
}

/// A triangulated terrain (TIN) as a flat-shaded mesh in a grass-grey colour; triangles
/// are turned to face up.
pub fn tin_mesh(tin: &twin_core::model::TriMesh, frame: &Frame) -> MeshData {
    let mut m = MeshData::default();
    let c = srgb_to_linear([196, 200, 182], 1.0);
    for t in &tin.triangles {
        let Some(p) = tri_positions(&tin.positions, t, frame) else {
            continue;
        };
        let p = if face_normal(p)[2] < 0.0 {
            [p[0], p[2], p[1]]
        } else {
            p
        };
        m.push_flat(p, c);
    }
    m
}

/// 0, stride, 2 stride, ..., always ending on the last index.
fn sample_positions(n: usize, stride: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).step_by(stride).collect();
    if *v.last().unwrap_or(&0) != n - 1 {
        v.push(n - 1);
    }
    v
}

/// Terrain height at a world point: the DEM (bilinear) or `fallback`.
pub fn ground_at(city: &City, x: f64, y: f64, fallback: f64) -> f64 {
    city.terrain
        .dem
        .as_ref()
        .and_then(|d| d.sample_bilinear(x, y))
        .map_or(fallback, f64::from)
}

/// Width of a road link's ribbon (m) by class and lanes.
pub fn road_width_m(class: HighwayClass, lanes: u8) -> f32 {
    let lane = match class {
        HighwayClass::Motorway | HighwayClass::Trunk => 3.5,
        HighwayClass::Primary | HighwayClass::Secondary => 3.25,
        HighwayClass::Path | HighwayClass::Track => 1.5,
        _ => 3.0,
    };
    lane * lanes.max(1) as f32
}

/// Road ribbons: every directed link is drawn on its own (right-hand) side of the centre
/// line, so both directions of a street show their own colour. `color(link index)` gives
/// the linear RGBA. Ribbons float `lift_m` above the terrain; bridges run straight between
/// the heights of their ends. Returns the mesh and the link index of every vertex.
pub fn road_mesh(
    city: &City,
    frame: &Frame,
    lift_m: f64,
    color: impl Fn(usize) -> [f32; 4],
) -> (MeshData, Vec<u32>) {
    let mut m = MeshData::default();
    let mut owner = Vec::new();
    for (li, l) in city.roads.links.iter().enumerate() {
        let g = &l.geometry;
        if g.len() < 2 {
            continue;
        }
        let w = road_width_m(l.class, l.lanes) as f64;
        let c = color(li);
        let len_total: f64 = g
            .windows(2)
            .map(|s| (s[1][0] - s[0][0]).hypot(s[1][1] - s[0][1]))
            .sum();
        let z_start = ground_at(city, g[0][0], g[0][1], 0.0);
        let z_end = ground_at(city, g[g.len() - 1][0], g[g.len() - 1][1], 0.0);
        let mut along = 0.0;
        for s in g.windows(2) {
            let (dx, dy) = (s[1][0] - s[0][0], s[1][1] - s[0][1]);
            let len = dx.hypot(dy);
            if len.is_nan() || len <= 1e-6 {
                continue;
            }
            // Right-hand normal of the direction of travel, from the centre line to the
            // outer edge of this direction's half.
            let (nx, ny) = (dy / len, -dx / len);
            let z = |p: [f64; 2], a: f64| {
                if l.bridge || l.tunnel {
                    let f = if len_total > 0.0 { a / len_total } else { 0.0 };
                    z_start + (z_end - z_start) * f
                } else {
                    ground_at(city, p[0], p[1], 0.0)
                }
            };
            let z0 = z(s[0], along) + lift_m;
            let z1 = z(s[1], along + len) + lift_m;
            along += len;
            let inner = 0.05 * w;
            let outer = 0.5 * w;
            let q = |p: [f64; 2], off: f64, zz: f64| {
                frame.local([p[0] + nx * off, p[1] + ny * off, zz])
            };
            let a = q(s[0], inner, z0);
            let b = q(s[0], outer, z0);
            let cc = q(s[1], inner, z1);
            let d = q(s[1], outer, z1);
            for tri in [[a, b, cc], [b, d, cc]] {
                // Force an upward normal whatever the winding.
                let tri = if face_normal(tri)[2] < 0.0 {
                    [tri[0], tri[2], tri[1]]
                } else {
                    tri
                };
                if m.push_flat(tri, c) {
                    owner.extend_from_slice(&[li as u32; 3]);
                }
            }
        }
    }
    (m, owner)
}

/// Barriers (dikes, walls, quays) as walls from the ground to their crest, 1.5 m thick.
pub fn barrier_mesh(city: &City, frame: &Frame) -> MeshData {
    let mut m = MeshData::default();
    for b in &city.barriers {
        let srgb = match b.kind {
            BarrierKind::Dike => [110, 150, 80],
            BarrierKind::Wall => [160, 160, 170],
            _ => [140, 130, 120],
        };
        let c = srgb_to_linear(srgb, 1.0);
        let half = 0.75;
        for s in b.line.windows(2) {
            let (dx, dy) = (s[1][0] - s[0][0], s[1][1] - s[0][1]);
            let len = dx.hypot(dy);
            if len.is_nan() || len <= 1e-6 || !b.crest_z.is_finite() {
                continue;
            }
            let (nx, ny) = (dy / len * half, -dx / len * half);
            let g0 = ground_at(city, s[0][0], s[0][1], b.crest_z - 1.0).min(b.crest_z);
            let g1 = ground_at(city, s[1][0], s[1][1], b.crest_z - 1.0).min(b.crest_z);
            let p = |pt: [f64; 2], side: f64, z: f64| {
                frame.local([pt[0] + nx * side, pt[1] + ny * side, z])
            };
            let top = b.crest_z;
            for side in [-1.0, 1.0] {
                let a = p(s[0], side, g0 - 0.5);
                let bb = p(s[1], side, g1 - 0.5);
                let c0 = p(s[0], side, top);
                let c1 = p(s[1], side, top);
                m.push_flat([a, bb, c1], c);
                m.push_flat([a, c1, c0], c);
            }
            let l0 = p(s[0], -1.0, top);
            let r0 = p(s[0], 1.0, top);
            let l1 = p(s[1], -1.0, top);
            let r1 = p(s[1], 1.0, top);
            m.push_flat([l0, r0, r1], c);
            m.push_flat([l0, r1, l1], c);
        }
    }
    m
}

/// Colour of a land-cover kind on the base map (sRGB).
pub fn landcover_srgb(kind: LandCover) -> [u8; 3] {
    match kind {
        LandCover::Water => [120, 170, 210],
        LandCover::Park => [150, 196, 120],
        LandCover::Forest => [96, 150, 92],
        LandCover::Grass => [170, 206, 130],
        LandCover::Residential => [222, 214, 200],
        LandCover::Commercial => [226, 206, 200],
        LandCover::Industrial => [210, 200, 210],
        LandCover::Road => [200, 200, 200],
        LandCover::Paved => [206, 204, 198],
        LandCover::Farmland => [224, 222, 160],
    }
}

/// The water surface at one time: a mesh through the cell centres of a depth raster where
/// the depth is at least `min_depth_m`, at `bed + depth + lift_m`, coloured by depth with
/// `color(depth)`. `bed` holds the bed elevation per depth cell (same grid). Buffers are
/// reused: call it every frame the time changes without allocating.
#[allow(clippy::too_many_arguments)]
pub fn water_mesh_into(
    out: &mut MeshData,
    depth: &Raster<f32>,
    bed: &[f32],
    frame: &Frame,
    min_depth_m: f32,
    lift_m: f32,
    color: impl Fn(f32) -> [f32; 4],
    vertex_of_cell: &mut Vec<u32>,
) {
    out.clear();
    let (w, h) = (depth.width(), depth.height());
    vertex_of_cell.clear();
    vertex_of_cell.resize(w * h, u32::MAX);
    if bed.len() != w * h {
        return;
    }
    let s = &depth.spec;
    for r in 0..h {
        for c in 0..w {
            let i = r * w + c;
            let d = depth.get(c, r);
            if depth.is_missing(d) || d < min_depth_m || !bed[i].is_finite() {
                continue;
            }
            let [x, y] = s.cell_center(c, r);
            vertex_of_cell[i] = out.positions.len() as u32;
            out.positions
                .push(frame.local([x, y, (bed[i] + d + lift_m) as f64]));
            out.normals.push([0.0, 0.0, 1.0]);
            out.colors.push(color(d));
        }
    }
    for r in 0..h.saturating_sub(1) {
        for c in 0..w.saturating_sub(1) {
            let a = vertex_of_cell[r * w + c];
            let b = vertex_of_cell[r * w + c + 1];
            let cc = vertex_of_cell[(r + 1) * w + c];
            let d = vertex_of_cell[(r + 1) * w + c + 1];
            let wet = [a, b, cc, d].map(|v| v != u32::MAX);
            match wet {
                [true, true, true, true] => out.indices.extend_from_slice(&[a, cc, b, b, cc, d]),
                [true, true, true, false] => out.indices.extend_from_slice(&[a, cc, b]),
                [true, true, false, true] => out.indices.extend_from_slice(&[a, d, b]),
                [true, false, true, true] => out.indices.extend_from_slice(&[a, cc, d]),
                [false, true, true, true] => out.indices.extend_from_slice(&[b, cc, d]),
                _ => {}
            }
        }
    }
}

/// Bed elevation per cell of a depth grid, from the city's DEM (bilinear at cell centres;
/// NaN where the DEM has no value).
pub fn bed_for_grid(city: &City, spec: &twin_core::raster::GridSpec) -> Vec<f32> {
    let mut bed = vec![f32::NAN; spec.width * spec.height];
    if let Some(dem) = &city.terrain.dem {
        for r in 0..spec.height {
            for c in 0..spec.width {
                let [x, y] = spec.cell_center(c, r);
                if let Some(z) = dem.sample_bilinear(x, y) {
                    bed[r * spec.width + c] = z;
                }
            }
        }
    }
    bed
}

#[cfg(test)]
mod tests {
    use super::*;
    use twin_core::raster::GridSpec;

    fn spec(w: usize, h: usize, cell: f64) -> GridSpec {
        GridSpec {
            origin_x: 1000.0,
            origin_y: 2000.0,
            cell_x: cell,
            cell_y: cell,
            width: w,
            height: h,
            epsg: Some(25832),
        }
    }

    #[test]
    fn terrain_mesh_decimates_and_keeps_edges() {
        let dem = Raster::from_vec(spec(10, 7, 1.0), vec![2.0f32; 70], None).unwrap();
        let f = Frame {
            origin: [1000.0, 2000.0, 0.0],
        };
        let m = terrain_mesh(&dem, &f, 4);
        // stride 3: columns 0,3,6,9 and rows 0,3,6.
        assert_eq!(m.positions.len(), 12);
        assert_eq!(m.triangle_count(), 3 * 2 * 2);
        let (lo, hi) = m.bounds().unwrap();
        assert_eq!(lo, [0.5, -6.5, 2.0]);
        assert_eq!(hi, [9.5, -0.5, 2.0]);
        assert!(m.normals.iter().all(|n| *n == [0.0, 0.0, 1.0]));
        // Triangles face up.
        for t in m.indices.chunks(3) {
            let p = [0, 1, 2].map(|k| m.positions[t[k] as usize]);
            assert!(face_normal(p)[2] > 0.99);
        }
        assert_eq!(m.uvs[0], [0.05, 0.5 / 7.0]);
    }

    #[test]
    fn terrain_mesh_slope_normal_and_holes() {
        // z rises 1 m per metre eastwards; one NaN cell.
        let mut data: Vec<f32> = (0..25).map(|i| (i % 5) as f32).collect();
        data[12] = f32::NAN;
        let dem = Raster::from_vec(spec(5, 5, 1.0), data, None).unwrap();
        let m = terrain_mesh(&dem, &Frame { origin: [0.0; 3] }, 100);
        let n = m.normals[0];
        let s = std::f32::consts::FRAC_1_SQRT_2;
        assert!((n[0] + s).abs() < 1e-6 && n[1].abs() < 1e-6 && (n[2] - s).abs() < 1e-6);
        // 16 quads less the four around the hole.
        assert_eq!(m.triangle_count(), 2 * 12);
    }

    #[test]
    fn demo_buildings_batch_into_roofs_and_walls() {
        let city = twin_core::demo::generate(&twin_core::demo::DemoParams {
            seed: 7,
            size_m: 600.0,
            cell_m: 2.0,
        })
        .unwrap();
        let f = Frame::for_city(&city);
        let mut b = BuildingMeshes::build(&city, &f);
        assert!(!city.buildings.is_empty());
        assert_eq!(b.skipped, 0);
        assert_eq!(b.roof_building.len(), b.roofs.positions.len());
        assert_eq!(b.wall_building.len(), b.walls.positions.len());
        assert!(b.roofs.triangle_count() > city.buildings.len());
        assert!(b.walls.triangle_count() > 4 * city.buildings.len());
        // Every building is in the batch.
        let mut seen = vec![false; city.buildings.len()];
        for &i in &b.roof_building {
            seen[i as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        // Roof heights agree with the model.
        let top = city
            .buildings
            .iter()
            .filter_map(|x| x.roof_z)
            .fold(f64::MIN, f64::max);
        let (_, hi) = b.roofs.bounds().unwrap();
        assert!((hi[2] as f64 - top).abs() < 1e-3);
        // Recolouring touches only the chosen building.
        b.recolor(|i| (i == 0).then_some([1.0, 0.0, 0.0, 1.0]));
        for (c, &o) in b.roofs.colors.iter().zip(&b.roof_building) {
            assert_eq!(*c == [1.0, 0.0, 0.0, 1.0], o == 0);
        }
    }

    #[test]
    fn water_mesh_follows_wet_cells() {
        let s = spec(4, 3, 2.0);
        let mut d = vec![0.0f32; 12];
        for i in [0, 1, 4, 5, 6] {
            d[i] = 0.5;
        }
        let depth = Raster::from_vec(s, d, None).unwrap();
        let bed = vec![1.0f32; 12];
        let mut m = MeshData::default();
        let mut scratch = Vec::new();
        let f = Frame {
            origin: [1000.0, 2000.0, 0.0],
        };
        water_mesh_into(
            &mut m,
            &depth,
            &bed,
            &f,
            0.1,
            0.0,
            |_| [0.0, 0.0, 1.0, 0.8],
            &mut scratch,
        );
        assert_eq!(m.positions.len(), 5);
        // Block (0,0) full: 2 triangles; block (1,0): cells 1,2?,5,6 → 1,5,6 wet: 1 triangle.
        assert_eq!(m.triangle_count(), 3);
        assert!(m.positions.iter().all(|p| p[2] == 1.5));
        let cap = m.positions.capacity();
        water_mesh_into(
            &mut m,
            &depth,
            &bed,
            &f,
            0.1,
            0.0,
            |_| [0.0; 4],
            &mut scratch,
        );
        assert_eq!(m.positions.capacity(), cap);
        assert_eq!(m.triangle_count(), 3);
    }

    #[test]
    fn road_ribbons_sit_right_of_travel() {
        let mut city = City::new("t", 25832);
        city.roads.nodes = vec![
            twin_core::model::RoadNode {
                id: 0,
                x: 0.0,
                y: 0.0,
            },
            twin_core::model::RoadNode {
                id: 1,
                x: 100.0,
                y: 0.0,
            },
        ];
        city.roads.links.push(twin_core::model::RoadLink {
            from: 0,
            to: 1,
            way_id: 1,
            class: HighwayClass::Residential,
            lanes: 1,
            speed_kmh: 30.0,
            capacity_veh_h: 600.0,
            length_m: 100.0,
            name: None,
            bridge: false,
            tunnel: false,
            geometry: vec![[0.0, 0.0], [100.0, 0.0]],
        });
        let (m, owner) = road_mesh(&city, &Frame { origin: [0.0; 3] }, 0.2, |_| [1.0; 4]);
        assert_eq!(m.triangle_count(), 2);
        assert_eq!(owner, vec![0; 6]);
        // Travelling east, the right-hand side is south (y < 0).
        assert!(m.positions.iter().all(|p| p[1] < 0.0 && p[2] == 0.2));
        assert!(m.normals.iter().all(|n| n[2] > 0.99));
    }

    #[test]
    fn srgb_conversion_endpoints() {
        assert_eq!(srgb_to_linear([0, 0, 0], 1.0), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(srgb_to_linear([255, 255, 255], 0.5), [1.0, 1.0, 1.0, 0.5]);
        let m = srgb_to_linear([188, 188, 188], 1.0)[0];
        assert!((m - 0.5).abs() < 0.01);
    }
}
