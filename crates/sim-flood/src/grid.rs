//! The computational grid: cells in row-major order (row 0 is the northern edge, as in the
//! rasters), x-faces between horizontally adjacent cells and y-faces between vertically
//! adjacent cells, and the tiles the solver uses to skip dry areas.
//!
//! Face layout (both row-aligned so that bands of rows own contiguous slices):
//! - x-face `j * (nx + 1) + i` is the **west** face of cell `(i, j)`; `i = nx` is the east
//!   edge of row `j`. Positive flux points east (+column).
//! - y-face `f * nx + i` lies between cell rows `f − 1` and `f`, i.e. it is the **south**
//!   face of cell `(i, f − 1)`; `f = 0` is the north edge and `f = ny` the south edge.
//!   Positive flux points south (+row).

use twin_core::geom::{P2, Polygon};
use twin_core::raster::GridSpec;

use crate::setup::Region;

/// Rows per band (the unit of parallel work) and per tile.
pub const TILE_ROWS: usize = 8;
/// Columns per tile.
pub const TILE_COLS: usize = 64;

/// Sizes and index helpers of the computational grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub spec: GridSpec,
    pub nx: usize,
    pub ny: usize,
    pub dx: f64,
    pub dy: f64,
    /// Tiles across and down (`nty` is also the number of bands).
    pub ntx: usize,
    pub nty: usize,
}

impl Grid {
    pub fn new(spec: GridSpec) -> Grid {
        Grid {
            spec,
            nx: spec.width,
            ny: spec.height,
            dx: spec.cell_x,
            dy: spec.cell_y,
            ntx: spec.width.div_ceil(TILE_COLS),
            nty: spec.height.div_ceil(TILE_ROWS),
        }
    }
    #[inline]
    pub fn cells(&self) -> usize {
        self.nx * self.ny
    }
    #[inline]
    pub fn cell(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }
    /// Number of x-faces.
    #[inline]
    pub fn xfaces(&self) -> usize {
        (self.nx + 1) * self.ny
    }
    /// Number of y-faces.
    #[inline]
    pub fn yfaces(&self) -> usize {
        self.nx * (self.ny + 1)
    }
    /// West face of cell (i, j); `i = nx` gives the east edge.
    #[inline]
    pub fn xface(&self, i: usize, j: usize) -> usize {
        j * (self.nx + 1) + i
    }
    /// Face between rows `f − 1` and `f` in column `i`.
    #[inline]
    pub fn yface(&self, i: usize, f: usize) -> usize {
        f * self.nx + i
    }
    #[inline]
    pub fn tile_of(&self, i: usize, j: usize) -> usize {
        (j / TILE_ROWS) * self.ntx + i / TILE_COLS
    }
    /// Cell area (m²).
    #[inline]
    pub fn area(&self) -> f64 {
        self.dx * self.dy
    }
    /// Fractional (column, row) of a world point; cell centres are at `.5`.
    #[inline]
    pub fn to_grid(self, p: P2) -> (f64, f64) {
        self.spec.world_to_grid(p[0], p[1])
    }
    /// The cell containing a world point.
    pub fn cell_at(&self, p: P2) -> Option<(usize, usize)> {
        self.spec.cell_at(p[0], p[1])
    }
    pub fn center(&self, i: usize, j: usize) -> P2 {
        self.spec.cell_center(i, j)
    }
}

/// Cells (flat indices, sorted, unique) a region covers.
pub fn region_cells(g: &Grid, region: &Region) -> Vec<usize> {
    let mut out = match region {
        Region::All => (0..g.cells()).collect(),
        Region::Point(p) => g
            .cell_at(*p)
            .map(|(i, j)| g.cell(i, j))
            .into_iter()
            .collect(),
        Region::Circle { center, radius_m } => {
            let r = radius_m.max(0.0);
            let mut v = Vec::new();
            let (c, rr) = g.to_grid(*center);
            let (rc, rrow) = (r / g.dx, r / g.dy);
            let i0 = (c - rc - 1.0).floor().max(0.0) as usize;
            let i1 = ((c + rc + 1.0).ceil().max(0.0) as usize).min(g.nx);
            let j0 = (rr - rrow - 1.0).floor().max(0.0) as usize;
            let j1 = ((rr + rrow + 1.0).ceil().max(0.0) as usize).min(g.ny);
            for j in j0..j1 {
                for i in i0..i1 {
                    let q = g.center(i, j);
                    let d2 = (q[0] - center[0]).powi(2) + (q[1] - center[1]).powi(2);
                    if d2 <= r * r {
                        v.push(g.cell(i, j));
                    }
                }
            }
            if let Some((i, j)) = g.cell_at(*center) {
                v.push(g.cell(i, j));
            }
            v
        }
        Region::Polygons(polys) => {
            let items: Vec<(&[Polygon], u8)> = polys
                .iter()
                .map(|p| (std::slice::from_ref(p), 1u8))
                .collect();
            let r = twin_core::derive::rasterize_polygons(g.spec, 0u8, None, &items);
            let mut v: Vec<usize> = r
                .data
                .iter()
                .enumerate()
                .filter(|&(_, &m)| m == 1)
                .map(|(k, _)| k)
                .collect();
            // A polygon that covers no cell centre (smaller than a cell) still counts: it
            // takes the cell of its centroid.
            let small = |p: &&Polygon| p.is_finite() && p.area() > 0.0 && p.area() < 4.0 * g.area();
            for p in polys.iter().filter(small) {
                let b = p.bbox();
                let (c0, r0) = g.to_grid([b.min[0], b.max[1]]);
                let (c1, r1) = g.to_grid([b.max[0], b.min[1]]);
                let clamp = |x: f64, n: usize| x.floor().clamp(0.0, n as f64 - 1.0) as usize;
                let (i0, i1) = (clamp(c0, g.nx), clamp(c1, g.nx));
                let (j0, j1) = (clamp(r0, g.ny), clamp(r1, g.ny));
                let any = (j0..=j1).any(|j| (i0..=i1).any(|i| p.contains(g.center(i, j))));
                if !any && let Some((i, j)) = g.cell_at(p.centroid()) {
                    v.push(g.cell(i, j));
                }
            }
            v
        }
        Region::Polyline(line) => polyline_cells(g, line),
        Region::Union(parts) => parts.iter().flat_map(|r| region_cells(g, r)).collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Cells a polyline passes through (every cell a segment enters, found by walking the
/// segment cell by cell).
fn polyline_cells(g: &Grid, line: &[P2]) -> Vec<usize> {
    let mut v = Vec::new();
    if line.len() == 1 {
        if let Some((i, j)) = g.cell_at(line[0]) {
            v.push(g.cell(i, j));
        }
        return v;
    }
    for w in line.windows(2) {
        let (c0, r0) = g.to_grid(w[0]);
        let (c1, r1) = g.to_grid(w[1]);
        if ![c0, r0, c1, r1].iter().all(|x| x.is_finite()) {
            continue;
        }
        // Amanatides & Woo traversal in grid coordinates.
        let (mut i, mut j) = (c0.floor() as i64, r0.floor() as i64);
        let (ie, je) = (c1.floor() as i64, r1.floor() as i64);
        let (dc, dr) = (c1 - c0, r1 - r0);
        let step_i: i64 = if dc > 0.0 { 1 } else { -1 };
        let step_j: i64 = if dr > 0.0 { 1 } else { -1 };
        let t_dc = if dc != 0.0 {
            1.0 / dc.abs()
        } else {
            f64::INFINITY
        };
        let t_dr = if dr != 0.0 {
            1.0 / dr.abs()
        } else {
            f64::INFINITY
        };
        let frac = |x: f64, s: i64| if s > 0 { x.ceil() - x } else { x - x.floor() };
        let mut t_max_c = if dc != 0.0 {
            let f = frac(c0, step_i);
            (if f == 0.0 { 1.0 } else { f }) * t_dc
        } else {
            f64::INFINITY
        };
        let mut t_max_r = if dr != 0.0 {
            let f = frac(r0, step_j);
            (if f == 0.0 { 1.0 } else { f }) * t_dr
        } else {
            f64::INFINITY
        };
        let max_steps = (ie - i).unsigned_abs() + (je - j).unsigned_abs() + 2;
        for _ in 0..=max_steps {
            if i >= 0 && j >= 0 && (i as usize) < g.nx && (j as usize) < g.ny {
                v.push(g.cell(i as usize, j as usize));
            }
            if i == ie && j == je {
                break;
            }
            if t_max_c < t_max_r {
                t_max_c += t_dc;
                i += step_i;
            } else {
                t_max_r += t_dr;
                j += step_j;
            }
        }
    }
    v
}

/// A face a barrier line crosses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceCrossing {
    /// True for an x-face (flow east-west across it), false for a y-face.
    pub x: bool,
    /// Index into the x-face or y-face array.
    pub face: usize,
    /// Arc length along the polyline at the crossing (m).
    pub s_m: f64,
}

/// Interior faces whose centre-to-centre link crosses the polyline: every 4-connected path
/// of cells from one side of the line to the other passes through one of them, so the
/// barrier is watertight. A crossing exactly at a link's end is assigned to one face only.
pub fn barrier_faces(g: &Grid, line: &[P2]) -> Vec<FaceCrossing> {
    let mut out = Vec::new();
    let mut s0 = 0.0;
    for w in line.windows(2) {
        let (c0, r0) = g.to_grid(w[0]);
        let (c1, r1) = g.to_grid(w[1]);
        let len = ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt();
        if ![c0, r0, c1, r1, len].iter().all(|x| x.is_finite()) {
            continue;
        }
        // Horizontal links at r = j + 0.5 between centres (i − 1, j) and (i, j): x-faces.
        if r1 != r0 {
            let (lo, hi) = (r0.min(r1), r0.max(r1));
            let ja = (lo - 0.5).ceil().max(0.0) as i64;
            let jb = (hi - 0.5).floor().min(g.ny as f64 - 1.0) as i64;
            for j in ja..=jb {
                let r = j as f64 + 0.5;
                let t = (r - r0) / (r1 - r0);
                let c = c0 + t * (c1 - c0);
                let i = (c + 0.5).floor();
                if i >= 1.0 && i < g.nx as f64 {
                    out.push(FaceCrossing {
                        x: true,
                        face: g.xface(i as usize, j as usize),
                        s_m: s0 + t * len,
                    });
                }
            }
        }
        // Vertical links at c = i + 0.5 between centres (i, j) and (i, j + 1): y-faces.
        if c1 != c0 {
            let (lo, hi) = (c0.min(c1), c0.max(c1));
            let ia = (lo - 0.5).ceil().max(0.0) as i64;
            let ib = (hi - 0.5).floor().min(g.nx as f64 - 1.0) as i64;
            for i in ia..=ib {
                let c = i as f64 + 0.5;
                let t = (c - c0) / (c1 - c0);
                let r = r0 + t * (r1 - r0);
                let j = (r - 0.5).floor();
                if j >= 0.0 && j + 1.0 < g.ny as f64 {
                    out.push(FaceCrossing {
                        x: false,
                        face: g.yface(i as usize, j as usize + 1),
                        s_m: s0 + t * len,
                    });
                }
            }
        }
        s0 += len;
    }
    out.sort_by(|a, b| {
        (a.x, a.face)
            .cmp(&(b.x, b.face))
            .then(a.s_m.total_cmp(&b.s_m))
    });
    out.dedup_by(|a, b| a.x == b.x && a.face == b.face);
    out
}

/// Arc length of the point of `line` closest to `p`, and the distance to it.
pub fn project_on_line(line: &[P2], p: P2) -> Option<(f64, f64)> {
    let mut best: Option<(f64, f64)> = None;
    let mut s0 = 0.0;
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = ux * ux + uy * uy;
        let len = len2.sqrt();
        let t = if len2 > 0.0 {
            (((p[0] - a[0]) * ux + (p[1] - a[1]) * uy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let q = [a[0] + t * ux, a[1] + t * uy];
        let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
        if d.is_finite() && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((s0 + t * len, d));
        }
        s0 += len;
    }
    best
}

/// A north-up grid of `nx` × `ny` cells of 1 m with its south-west corner at the origin
/// (for the crate's unit tests).
#[cfg(test)]
pub(crate) fn unit_spec(nx: usize, ny: usize) -> GridSpec {
    GridSpec {
        origin_x: 0.0,
        origin_y: ny as f64,
        cell_x: 1.0,
        cell_y: 1.0,
        width: nx,
        height: ny,
        epsg: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(nx: usize, ny: usize) -> Grid {
        Grid::new(unit_spec(nx, ny))
    }

    #[test]
    fn index_layout() {
        let g = grid(5, 3);
        assert_eq!(g.xfaces(), 18);
        assert_eq!(g.yfaces(), 20);
        assert_eq!(g.xface(5, 2), 17);
        assert_eq!(g.yface(4, 3), 19);
        assert_eq!(g.cell(4, 2), 14);
    }

    #[test]
    fn regions() {
        let g = grid(10, 10);
        assert_eq!(region_cells(&g, &Region::All).len(), 100);
        assert_eq!(
            region_cells(&g, &Region::Point([2.5, 7.5])),
            vec![g.cell(2, 2)]
        );
        assert!(region_cells(&g, &Region::Point([20.0, 7.5])).is_empty());
        let c = region_cells(
            &g,
            &Region::Circle {
                center: [5.0, 5.0],
                radius_m: 1.0,
            },
        );
        assert_eq!(c.len(), 4);
        let tiny = region_cells(
            &g,
            &Region::Polygons(vec![Polygon::new(vec![[3.1, 3.1], [3.3, 3.1], [3.3, 3.3]])]),
        );
        assert_eq!(tiny.len(), 1);
        let sq = region_cells(
            &g,
            &Region::Polygons(vec![Polygon::new(vec![
                [0.0, 0.0],
                [4.0, 0.0],
                [4.0, 2.0],
                [0.0, 2.0],
            ])]),
        );
        assert_eq!(sq.len(), 8);
        // A diagonal line enters every cell on its way, 4-connected.
        let d = region_cells(&g, &Region::Polyline(vec![[0.5, 9.5], [9.5, 0.5]]));
        assert!(d.len() >= 10, "{d:?}");
        let cells: Vec<(usize, usize)> = d.iter().map(|&k| (k % 10, k / 10)).collect();
        for k in 0..10 {
            assert!(cells.contains(&(k, k)));
        }
    }

    #[test]
    fn barrier_is_watertight() {
        // Any closed 4-connected flood fill from one side must be stopped by the faces.
        let g = grid(40, 30);
        let line = vec![[0.0, 3.3], [17.2, 20.7], [25.0, 21.0], [39.99, 29.9]];
        let faces = barrier_faces(&g, &line);
        assert!(!faces.is_empty());
        let blocked_x: std::collections::HashSet<usize> =
            faces.iter().filter(|f| f.x).map(|f| f.face).collect();
        let blocked_y: std::collections::HashSet<usize> =
            faces.iter().filter(|f| !f.x).map(|f| f.face).collect();
        let mut seen = vec![false; g.cells()];
        let mut stack = vec![(0usize, 0usize)];
        seen[0] = true;
        while let Some((i, j)) = stack.pop() {
            let mut go = |ni: usize, nj: usize, ok: bool| {
                if ok && !seen[g.cell(ni, nj)] {
                    seen[g.cell(ni, nj)] = true;
                    stack.push((ni, nj));
                }
            };
            if i + 1 < g.nx {
                go(i + 1, j, !blocked_x.contains(&g.xface(i + 1, j)));
            }
            if i > 0 {
                go(i - 1, j, !blocked_x.contains(&g.xface(i, j)));
            }
            if j + 1 < g.ny {
                go(i, j + 1, !blocked_y.contains(&g.yface(i, j + 1)));
            }
            if j > 0 {
                go(i, j - 1, !blocked_y.contains(&g.yface(i, j)));
            }
        }
        // The flood from the north-west corner (above the line) never reaches below it.
        let mut reached_below = 0;
        let mut reached_above = 0;
        for j in 0..g.ny {
            for i in 0..g.nx {
                let p = g.center(i, j);
                // Side of the line by the polyline's y at that x.
                let yl = if p[0] < 17.2 {
                    3.3 + (20.7 - 3.3) * p[0] / 17.2
                } else if p[0] < 25.0 {
                    20.7 + 0.3 * (p[0] - 17.2) / 7.8
                } else {
                    21.0 + (29.9 - 21.0) * (p[0] - 25.0) / 14.99
                };
                if seen[g.cell(i, j)] {
                    if p[1] < yl {
                        reached_below += 1;
                    } else {
                        reached_above += 1;
                    }
                }
            }
        }
        assert_eq!(reached_below, 0);
        assert!(reached_above > 100);
        // Crossings carry their arc length.
        assert!(faces.iter().all(|f| f.s_m >= 0.0 && f.s_m <= 60.0));
    }

    #[test]
    fn projection() {
        let line = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]];
        let (s, d) = project_on_line(&line, [10.5, 5.0]).unwrap();
        assert!((s - 15.0).abs() < 1e-12 && (d - 0.5).abs() < 1e-12);
    }
}
