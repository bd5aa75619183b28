//! Plain 2D/3D geometry shared by importers, exporters and rasterisation: polygons with holes,
//! bounding boxes, signed areas, point-in-polygon and triangulation of (possibly non-planar)
//! 3D polygons.

use serde::{Deserialize, Serialize};

/// A 2D point in the city's projected CRS (metres).
pub type P2 = [f64; 2];
/// A 3D point in the city's projected CRS (metres; z in the vertical datum).
pub type P3 = [f64; 3];

/// A polygon with an exterior ring and optional holes. Rings are stored open
/// (the first point is not repeated at the end).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Polygon {
    pub exterior: Vec<P2>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interiors: Vec<Vec<P2>>,
}

impl Polygon {
    /// A polygon without holes; a closing point equal to the first one is dropped.
    pub fn new(exterior: Vec<P2>) -> Self {
        Polygon {
            exterior: open_ring(exterior),
            interiors: Vec::new(),
        }
    }

    /// Area in square metres (exterior minus holes), always >= 0.
    pub fn area(&self) -> f64 {
        let holes: f64 = self.interiors.iter().map(|r| ring_area(r).abs()).sum();
        (ring_area(&self.exterior).abs() - holes).max(0.0)
    }

    /// Bounding box of the exterior ring.
    pub fn bbox(&self) -> BBox2 {
        BBox2::from_points(self.exterior.iter().copied())
    }

    /// Even-odd point-in-polygon test (holes excluded).
    pub fn contains(&self, p: P2) -> bool {
        if !point_in_ring(p, &self.exterior) {
            return false;
        }
        !self.interiors.iter().any(|h| point_in_ring(p, h))
    }

    /// Centroid of the exterior ring (area-weighted; falls back to the vertex mean for
    /// degenerate rings).
    pub fn centroid(&self) -> P2 {
        ring_centroid(&self.exterior)
    }

    /// True when every coordinate is finite.
    pub fn is_finite(&self) -> bool {
        self.exterior
            .iter()
            .chain(self.interiors.iter().flatten())
            .all(|p| p[0].is_finite() && p[1].is_finite())
    }
}

/// Drop a closing vertex equal to the first one.
pub fn open_ring<T: PartialEq>(mut ring: Vec<T>) -> Vec<T> {
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    ring
}

/// Signed area of an open ring (counter-clockwise positive).
pub fn ring_area(ring: &[P2]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    // Shift to the first vertex for numerical accuracy with large UTM coordinates.
    let [ox, oy] = ring[0];
    let mut s = 0.0;
    for i in 0..n {
        let a = ring[i];
        let b = ring[(i + 1) % n];
        s += (a[0] - ox) * (b[1] - oy) - (b[0] - ox) * (a[1] - oy);
    }
    0.5 * s
}

/// Area-weighted centroid of an open ring.
pub fn ring_centroid(ring: &[P2]) -> P2 {
    if ring.is_empty() {
        return [f64::NAN, f64::NAN];
    }
    let [ox, oy] = ring[0];
    let n = ring.len();
    let (mut a2, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x0, y0) = (ring[i][0] - ox, ring[i][1] - oy);
        let (x1, y1) = (ring[(i + 1) % n][0] - ox, ring[(i + 1) % n][1] - oy);
        let c = x0 * y1 - x1 * y0;
        a2 += c;
        cx += (x0 + x1) * c;
        cy += (y0 + y1) * c;
    }
    if a2.abs() < 1e-12 {
        let m = ring
            .iter()
            .fold([0.0, 0.0], |m, p| [m[0] + p[0], m[1] + p[1]]);
        return [m[0] / n as f64, m[1] / n as f64];
    }
    [ox + cx / (3.0 * a2), oy + cy / (3.0 * a2)]
}

/// Even-odd test of a point against an open ring.
pub fn point_in_ring(p: P2, ring: &[P2]) -> bool {
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (ring[i][0], ring[i][1]);
        let (xj, yj) = (ring[j][0], ring[j][1]);
        if (yi > p[1]) != (yj > p[1]) && p[0] < (xj - xi) * (p[1] - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Axis-aligned 2D bounding box. An empty box has `min > max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox2 {
    pub min: P2,
    pub max: P2,
}

impl Default for BBox2 {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl BBox2 {
    pub const EMPTY: BBox2 = BBox2 {
        min: [f64::INFINITY, f64::INFINITY],
        max: [f64::NEG_INFINITY, f64::NEG_INFINITY],
    };

    pub fn from_points(points: impl IntoIterator<Item = P2>) -> Self {
        let mut b = Self::EMPTY;
        for p in points {
            b.add(p);
        }
        b
    }
    pub fn add(&mut self, p: P2) {
        self.min[0] = self.min[0].min(p[0]);
        self.min[1] = self.min[1].min(p[1]);
        self.max[0] = self.max[0].max(p[0]);
        self.max[1] = self.max[1].max(p[1]);
    }
    pub fn union(&self, o: &BBox2) -> BBox2 {
        BBox2 {
            min: [self.min[0].min(o.min[0]), self.min[1].min(o.min[1])],
            max: [self.max[0].max(o.max[0]), self.max[1].max(o.max[1])],
        }
    }
    pub fn is_empty(&self) -> bool {
        !(self.min[0] <= self.max[0] && self.min[1] <= self.max[1])
    }
    pub fn width(&self) -> f64 {
        self.max[0] - self.min[0]
    }
    pub fn height(&self) -> f64 {
        self.max[1] - self.min[1]
    }
    pub fn intersects(&self, o: &BBox2) -> bool {
        !(self.is_empty() || o.is_empty())
            && self.min[0] <= o.max[0]
            && o.min[0] <= self.max[0]
            && self.min[1] <= o.max[1]
            && o.min[1] <= self.max[1]
    }
}

/// Triangulate a planar polygon given by its outer ring and holes (open rings, any winding).
/// Returns indices into the concatenation `outer ++ holes[0] ++ holes[1] ...`.
/// Degenerate input yields an empty list, never a panic.
pub fn triangulate_2d(outer: &[P2], holes: &[Vec<P2>]) -> Vec<[u32; 3]> {
    let finite = |r: &[P2]| r.iter().all(|p| p[0].is_finite() && p[1].is_finite());
    if outer.len() < 3 || !finite(outer) || !holes.iter().all(|h| finite(h)) {
        return Vec::new();
    }
    if outer.len() == 3 && holes.is_empty() {
        return vec![[0, 1, 2]];
    }
    // Shift to a local origin: earcut works in f64 but relative precision matters at UTM scale.
    let [ox, oy] = outer[0];
    let mut flat =
        Vec::with_capacity(2 * (outer.len() + holes.iter().map(Vec::len).sum::<usize>()));
    let mut hole_idx = Vec::with_capacity(holes.len());
    for p in outer {
        flat.extend_from_slice(&[p[0] - ox, p[1] - oy]);
    }
    for h in holes {
        if h.len() < 3 {
            continue;
        }
        hole_idx.push(flat.len() / 2);
        for p in h {
            flat.extend_from_slice(&[p[0] - ox, p[1] - oy]);
        }
    }
    match earcutr::earcut(&flat, &hole_idx, 2) {
        Ok(idx) => idx
            .chunks_exact(3)
            .map(|t| [t[0] as u32, t[1] as u32, t[2] as u32])
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Newell normal of a 3D ring (not normalised); its length is twice the polygon's area.
pub fn newell_normal(ring: &[P3]) -> P3 {
    let n = ring.len();
    let mut nrm = [0.0; 3];
    if n < 3 {
        return nrm;
    }
    let o = ring[0];
    for i in 0..n {
        let a = [ring[i][0] - o[0], ring[i][1] - o[1], ring[i][2] - o[2]];
        let j = (i + 1) % n;
        let b = [ring[j][0] - o[0], ring[j][1] - o[1], ring[j][2] - o[2]];
        nrm[0] += (a[1] - b[1]) * (a[2] + b[2]);
        nrm[1] += (a[2] - b[2]) * (a[0] + b[0]);
        nrm[2] += (a[0] - b[0]) * (a[1] + b[1]);
    }
    nrm
}

/// Triangulate a 3D polygon (outer ring + holes, open rings) by projecting it onto the
/// plane of its dominant normal axis. Indices refer to `outer ++ holes...` as in
/// [`triangulate_2d`]. Triangles keep the orientation of the outer ring.
pub fn triangulate_3d(outer: &[P3], holes: &[Vec<P3>]) -> Vec<[u32; 3]> {
    let n = newell_normal(outer);
    let (ax, ay) = {
        let a = [n[0].abs(), n[1].abs(), n[2].abs()];
        if a[2] >= a[0] && a[2] >= a[1] {
            (0, 1)
        } else if a[0] >= a[1] {
            (1, 2)
        } else {
            (2, 0)
        }
    };
    let proj = |r: &[P3]| -> Vec<P2> { r.iter().map(|p| [p[ax], p[ay]]).collect() };
    let o2 = proj(outer);
    let h2: Vec<Vec<P2>> = holes.iter().map(|h| proj(h)).collect();
    let mut tris = triangulate_2d(&o2, &h2);
    // Restore the outer ring's orientation (earcut may flip it).
    let all: Vec<P3> = outer
        .iter()
        .chain(holes.iter().flatten())
        .copied()
        .collect();
    for t in &mut tris {
        let (a, b, c) = (all[t[0] as usize], all[t[1] as usize], all[t[2] as usize]);
        let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let tn = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        if tn[0] * n[0] + tn[1] * n[1] + tn[2] * n[2] < 0.0 {
            t.swap(1, 2);
        }
    }
    tris
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_area_centroid_contains() {
        let p = Polygon::new(vec![[0., 0.], [2., 0.], [2., 2.], [0., 2.], [0., 0.]]);
        assert_eq!(p.exterior.len(), 4);
        assert!((p.area() - 4.0).abs() < 1e-12);
        assert_eq!(p.centroid(), [1.0, 1.0]);
        assert!(p.contains([1.0, 1.0]));
        assert!(!p.contains([3.0, 1.0]));
    }

    #[test]
    fn polygon_with_hole() {
        let mut p = Polygon::new(vec![[0., 0.], [4., 0.], [4., 4.], [0., 4.]]);
        p.interiors
            .push(vec![[1., 1.], [3., 1.], [3., 3.], [1., 3.]]);
        assert!((p.area() - 12.0).abs() < 1e-12);
        assert!(!p.contains([2.0, 2.0]));
        let t = triangulate_2d(&p.exterior, &p.interiors);
        let all: Vec<P2> = p
            .exterior
            .iter()
            .chain(p.interiors.iter().flatten())
            .copied()
            .collect();
        let a: f64 = t
            .iter()
            .map(|t| ring_area(&[all[t[0] as usize], all[t[1] as usize], all[t[2] as usize]]).abs())
            .sum();
        assert!((a - 12.0).abs() < 1e-9);
    }

    #[test]
    fn triangulate_vertical_wall_keeps_orientation() {
        let wall = vec![
            [500000.0, 5900000.0, 0.0],
            [500010.0, 5900000.0, 0.0],
            [500010.0, 5900000.0, 5.0],
            [500000.0, 5900000.0, 5.0],
        ];
        let t = triangulate_3d(&wall, &[]);
        assert_eq!(t.len(), 2);
        let n = newell_normal(&wall);
        for tri in t {
            let r: Vec<P3> = tri.iter().map(|&i| wall[i as usize]).collect();
            let tn = newell_normal(&r);
            assert!(tn[0] * n[0] + tn[1] * n[1] + tn[2] * n[2] > 0.0);
        }
    }

    #[test]
    fn degenerate_input_is_empty_not_panic() {
        assert!(triangulate_2d(&[[0., 0.], [1., 1.]], &[]).is_empty());
        assert!(triangulate_3d(&[], &[]).is_empty());
        assert!(triangulate_2d(&[[f64::NAN, 0.], [1., 0.], [1., 1.], [0., 1.]], &[]).is_empty());
        let sq = [[0., 0.], [4., 0.], [4., 4.], [0., 4.]];
        assert!(triangulate_2d(&sq, &[vec![[1., 1.], [f64::INFINITY, 1.], [2., 2.]]]).is_empty());
    }
}
