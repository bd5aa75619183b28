//! Georeferenced rasters: a grid over a flat row-major `Vec` (row 0 is the northern edge, as in
//! GeoTIFF and GDAL), with index helpers, crop and resample. File formats live in the
//! submodules [`geotiff`] and [`asc`].

pub mod asc;
pub mod geotiff;

use crate::error::{Error, Result};
use crate::geom::BBox2;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Read a raster file as `f32`, choosing the format by extension (case-insensitive):
/// `.tif`/`.tiff` (GeoTIFF, band 1) or `.asc` (ESRI ASCII grid).
pub fn read_raster(path: &Path) -> Result<Raster<f32>> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("tif" | "tiff") => geotiff::read_geotiff_f32(path),
        Some("asc") => asc::read_asc(path),
        _ => Err(Error::format(
            path,
            "file name",
            "unknown raster format (expected .tif, .tiff or .asc)",
        )),
    }
}

/// Where a raster sits: the top-left corner of the top-left cell and the cell size.
/// Cells are square or rectangular; `cell_y` is positive and rows go south.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GridSpec {
    /// Easting of the western edge of column 0.
    pub origin_x: f64,
    /// Northing of the northern edge of row 0.
    pub origin_y: f64,
    /// Cell width in CRS units (metres).
    pub cell_x: f64,
    /// Cell height in CRS units (metres), positive.
    pub cell_y: f64,
    pub width: usize,
    pub height: usize,
    /// Horizontal CRS as an EPSG code, if known.
    pub epsg: Option<u32>,
}

impl GridSpec {
    /// A grid with square cells covering `bbox` (rounded outwards to whole cells).
    pub fn covering(bbox: &BBox2, cell: f64, epsg: Option<u32>) -> Result<Self> {
        if !(cell > 0.0 && cell.is_finite()) {
            return Err(Error::Invalid(format!(
                "cell size must be positive, got {cell}"
            )));
        }
        if bbox.is_empty() || !bbox.min[0].is_finite() || !bbox.max[1].is_finite() {
            return Err(Error::Invalid(
                "cannot build a grid over an empty extent".into(),
            ));
        }
        let width = ((bbox.width() / cell).ceil() as usize).max(1);
        let height = ((bbox.height() / cell).ceil() as usize).max(1);
        if width.saturating_mul(height) > 2_000_000_000 {
            return Err(Error::Invalid(format!(
                "grid of {width} x {height} cells at {cell} m is too large"
            )));
        }
        Ok(GridSpec {
            origin_x: bbox.min[0],
            origin_y: bbox.min[1] + height as f64 * cell,
            cell_x: cell,
            cell_y: cell,
            width,
            height,
            epsg,
        })
    }

    pub fn len(&self) -> usize {
        self.width * self.height
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Flat index of (column, row).
    #[inline]
    pub fn idx(&self, col: usize, row: usize) -> usize {
        row * self.width + col
    }
    /// (column, row) of a flat index.
    #[inline]
    pub fn col_row(&self, i: usize) -> (usize, usize) {
        (i % self.width, i / self.width)
    }
    /// Centre of a cell in CRS coordinates.
    #[inline]
    pub fn cell_center(&self, col: usize, row: usize) -> [f64; 2] {
        [
            self.origin_x + (col as f64 + 0.5) * self.cell_x,
            self.origin_y - (row as f64 + 0.5) * self.cell_y,
        ]
    }
    /// Fractional (column, row) of a world point; cell centres are at `.5`.
    #[inline]
    pub fn world_to_grid(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.origin_x) / self.cell_x,
            (self.origin_y - y) / self.cell_y,
        )
    }
    /// The cell containing a world point, if inside the grid.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let (c, r) = self.world_to_grid(x, y);
        if c >= 0.0 && r >= 0.0 && (c as usize) < self.width && (r as usize) < self.height {
            Some((c as usize, r as usize))
        } else {
            None
        }
    }
    /// Extent of the grid.
    pub fn bbox(&self) -> BBox2 {
        BBox2 {
            min: [
                self.origin_x,
                self.origin_y - self.height as f64 * self.cell_y,
            ],
            max: [
                self.origin_x + self.width as f64 * self.cell_x,
                self.origin_y,
            ],
        }
    }
    /// GDAL geotransform `[x0, dx, 0, y0, 0, -dy]`.
    pub fn geotransform(&self) -> [f64; 6] {
        [
            self.origin_x,
            self.cell_x,
            0.0,
            self.origin_y,
            0.0,
            -self.cell_y,
        ]
    }
    /// Validate that the numbers describe a usable grid.
    pub fn validate(&self) -> Result<()> {
        let ok = self.origin_x.is_finite()
            && self.origin_y.is_finite()
            && self.cell_x.is_finite()
            && self.cell_y.is_finite()
            && self.cell_x > 0.0
            && self.cell_y > 0.0;
        if !ok {
            return Err(Error::Invalid(format!(
                "invalid raster georeference: {self:?}"
            )));
        }
        Ok(())
    }
}

/// A single-band georeferenced raster over a flat row-major `Vec`.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster<T> {
    pub spec: GridSpec,
    /// The value that marks missing cells, if any.
    pub nodata: Option<T>,
    pub data: Vec<T>,
}

impl<T: Copy + PartialEq> Raster<T> {
    /// A raster filled with `value`.
    pub fn filled(spec: GridSpec, value: T, nodata: Option<T>) -> Self {
        Raster {
            data: vec![value; spec.len()],
            spec,
            nodata,
        }
    }

    /// Wrap existing data; fails when the length does not match the grid.
    pub fn from_vec(spec: GridSpec, data: Vec<T>, nodata: Option<T>) -> Result<Self> {
        if data.len() != spec.len() {
            return Err(Error::Invalid(format!(
                "raster data has {} values, grid {}x{} needs {}",
                data.len(),
                spec.width,
                spec.height,
                spec.len()
            )));
        }
        Ok(Raster { spec, nodata, data })
    }

    pub fn width(&self) -> usize {
        self.spec.width
    }
    pub fn height(&self) -> usize {
        self.spec.height
    }
    #[inline]
    pub fn get(&self, col: usize, row: usize) -> T {
        self.data[self.spec.idx(col, row)]
    }
    #[inline]
    pub fn set(&mut self, col: usize, row: usize, v: T) {
        let i = self.spec.idx(col, row);
        self.data[i] = v;
    }
    /// One row as a slice.
    pub fn row(&self, row: usize) -> &[T] {
        &self.data[row * self.spec.width..(row + 1) * self.spec.width]
    }
    /// Whether a value is the nodata marker.
    #[inline]
    pub fn is_nodata(&self, v: T) -> bool {
        self.nodata == Some(v)
    }

    /// Cut out the cells from (`col0`, `row0`) of size `width` x `height`.
    pub fn crop(&self, col0: usize, row0: usize, width: usize, height: usize) -> Result<Self> {
        if width == 0
            || height == 0
            || col0 + width > self.spec.width
            || row0 + height > self.spec.height
        {
            return Err(Error::Invalid(format!(
                "crop window {col0},{row0} {width}x{height} is outside the {}x{} raster",
                self.spec.width, self.spec.height
            )));
        }
        let mut data = Vec::with_capacity(width * height);
        for r in row0..row0 + height {
            let s = self.spec.idx(col0, r);
            data.extend_from_slice(&self.data[s..s + width]);
        }
        let spec = GridSpec {
            origin_x: self.spec.origin_x + col0 as f64 * self.spec.cell_x,
            origin_y: self.spec.origin_y - row0 as f64 * self.spec.cell_y,
            width,
            height,
            ..self.spec
        };
        Ok(Raster {
            spec,
            nodata: self.nodata,
            data,
        })
    }

    /// Crop to the cells whose centres fall in `bbox`.
    pub fn crop_bbox(&self, bbox: &BBox2) -> Result<Self> {
        let (c0, r0) = self.spec.world_to_grid(bbox.min[0], bbox.max[1]);
        let (c1, r1) = self.spec.world_to_grid(bbox.max[0], bbox.min[1]);
        let c0 = c0.round().clamp(0.0, self.spec.width as f64) as usize;
        let r0 = r0.round().clamp(0.0, self.spec.height as f64) as usize;
        let c1 = c1.round().clamp(0.0, self.spec.width as f64) as usize;
        let r1 = r1.round().clamp(0.0, self.spec.height as f64) as usize;
        self.crop(c0, r0, c1.saturating_sub(c0), r1.saturating_sub(r0))
    }

    /// Apply `f` to every cell, keeping nodata cells as nodata.
    pub fn map<U: Copy + PartialEq>(&self, nodata: Option<U>, f: impl Fn(T) -> U) -> Raster<U> {
        let data = self
            .data
            .iter()
            .map(|&v| match (self.is_nodata(v), nodata) {
                (true, Some(nd)) => nd,
                _ => f(v),
            })
            .collect();
        Raster {
            spec: self.spec,
            nodata,
            data,
        }
    }
}

/// How [`Raster::resample`] computes a target cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resampling {
    /// Value of the source cell under the target cell centre.
    Nearest,
    /// Bilinear interpolation between the four nearest source cell centres.
    Bilinear,
    /// Mean of the source cells whose centres fall in the target cell (for coarsening).
    Average,
}

impl Raster<f32> {
    /// True when the cell value is missing (nodata or NaN).
    #[inline]
    pub fn is_missing(&self, v: f32) -> bool {
        v.is_nan() || self.nodata == Some(v)
    }

    /// Sample at a world point with bilinear interpolation (None outside or near nodata).
    pub fn sample_bilinear(&self, x: f64, y: f64) -> Option<f32> {
        let (c, r) = self.spec.world_to_grid(x, y);
        let (c, r) = (c - 0.5, r - 0.5);
        let w = self.spec.width as f64;
        let h = self.spec.height as f64;
        if !(c > -0.5 && r > -0.5 && c < w - 0.5 && r < h - 0.5) {
            return None;
        }
        let c = c.clamp(0.0, w - 1.0);
        let r = r.clamp(0.0, h - 1.0);
        let (c0, r0) = (c.floor() as usize, r.floor() as usize);
        let (c1, r1) = (
            (c0 + 1).min(self.spec.width - 1),
            (r0 + 1).min(self.spec.height - 1),
        );
        let (fx, fy) = (c - c0 as f64, r - r0 as f64);
        let v = [
            self.get(c0, r0),
            self.get(c1, r0),
            self.get(c0, r1),
            self.get(c1, r1),
        ];
        if v.iter().any(|&x| self.is_missing(x)) {
            let nearest = self.get(
                if fx < 0.5 { c0 } else { c1 },
                if fy < 0.5 { r0 } else { r1 },
            );
            return (!self.is_missing(nearest)).then_some(nearest);
        }
        let top = v[0] as f64 * (1.0 - fx) + v[1] as f64 * fx;
        let bot = v[2] as f64 * (1.0 - fx) + v[3] as f64 * fx;
        Some((top * (1.0 - fy) + bot * fy) as f32)
    }

    /// Resample onto another grid (same CRS). Cells with no source value get nodata
    /// (or NaN when the raster has none).
    pub fn resample(&self, target: GridSpec, method: Resampling) -> Result<Raster<f32>> {
        target.validate()?;
        let nd = self.nodata.unwrap_or(f32::NAN);
        let mut out = Raster::filled(target, nd, Some(nd));
        match method {
            Resampling::Nearest | Resampling::Bilinear => {
                for row in 0..target.height {
                    for col in 0..target.width {
                        let [x, y] = target.cell_center(col, row);
                        let v = if method == Resampling::Nearest {
                            self.spec
                                .cell_at(x, y)
                                .map(|(c, r)| self.get(c, r))
                                .filter(|&v| !self.is_missing(v))
                        } else {
                            self.sample_bilinear(x, y)
                        };
                        if let Some(v) = v {
                            out.set(col, row, v);
                        }
                    }
                }
            }
            Resampling::Average => {
                let mut sum = vec![0.0f64; target.len()];
                let mut cnt = vec![0u32; target.len()];
                for row in 0..self.spec.height {
                    for col in 0..self.spec.width {
                        let v = self.get(col, row);
                        if self.is_missing(v) {
                            continue;
                        }
                        let [x, y] = self.spec.cell_center(col, row);
                        if let Some((c, r)) = target.cell_at(x, y) {
                            let i = target.idx(c, r);
                            sum[i] += v as f64;
                            cnt[i] += 1;
                        }
                    }
                }
                for i in 0..target.len() {
                    if cnt[i] > 0 {
                        out.data[i] = (sum[i] / cnt[i] as f64) as f32;
                    } else {
                        // Target finer than source: fall back to the covering cell.
                        let (c, r) = target.col_row(i);
                        let [x, y] = target.cell_center(c, r);
                        if let Some((sc, sr)) = self.spec.cell_at(x, y) {
                            let v = self.get(sc, sr);
                            if !self.is_missing(v) {
                                out.data[i] = v;
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// (min, max) over valid cells, or None when all are missing.
    pub fn min_max(&self) -> Option<(f32, f32)> {
        let mut it = self.data.iter().copied().filter(|&v| !self.is_missing(v));
        let first = it.next()?;
        Some(it.fold((first, first), |(a, b), v| (a.min(v), b.max(v))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(w: usize, h: usize) -> GridSpec {
        GridSpec {
            origin_x: 100.0,
            origin_y: 200.0,
            cell_x: 2.0,
            cell_y: 2.0,
            width: w,
            height: h,
            epsg: Some(25832),
        }
    }

    #[test]
    fn index_helpers_round_trip() {
        let s = spec(5, 3);
        for i in 0..s.len() {
            let (c, r) = s.col_row(i);
            assert_eq!(s.idx(c, r), i);
            let [x, y] = s.cell_center(c, r);
            assert_eq!(s.cell_at(x, y), Some((c, r)));
        }
        assert_eq!(s.cell_at(99.0, 199.0), None);
        assert_eq!(s.geotransform(), [100.0, 2.0, 0.0, 200.0, 0.0, -2.0]);
    }

    #[test]
    fn crop_keeps_georeference() {
        let s = spec(4, 4);
        let r = Raster::from_vec(s, (0..16).map(|v| v as f32).collect(), None).unwrap();
        let c = r.crop(1, 2, 2, 2).unwrap();
        assert_eq!(c.data, vec![9.0, 10.0, 13.0, 14.0]);
        assert_eq!(c.spec.origin_x, 102.0);
        assert_eq!(c.spec.origin_y, 196.0);
        assert!(r.crop(3, 3, 2, 2).is_err());
        let b = r.crop_bbox(&c.spec.bbox()).unwrap();
        assert_eq!(b, c);
    }

    #[test]
    fn resample_average_and_bilinear() {
        let s = spec(4, 4);
        let r = Raster::from_vec(s, (0..16).map(|v| v as f32).collect(), None).unwrap();
        let coarse = GridSpec {
            cell_x: 4.0,
            cell_y: 4.0,
            width: 2,
            height: 2,
            ..s
        };
        let a = r.resample(coarse, Resampling::Average).unwrap();
        assert_eq!(a.data, vec![2.5, 4.5, 10.5, 12.5]);
        // Bilinear on a linear field is exact.
        let fine = GridSpec {
            cell_x: 1.0,
            cell_y: 1.0,
            width: 8,
            height: 8,
            ..s
        };
        let b = r.resample(fine, Resampling::Bilinear).unwrap();
        let [x, y] = fine.cell_center(3, 3);
        let (c, rr) = s.world_to_grid(x, y);
        let expect = (rr - 0.5) * 4.0 + (c - 0.5);
        assert!((b.get(3, 3) as f64 - expect).abs() < 1e-5);
    }

    #[test]
    fn from_vec_checks_length_and_covering_checks_cell() {
        assert!(Raster::from_vec(spec(2, 2), vec![0f32; 3], None).is_err());
        let bb = BBox2 {
            min: [0.0, 0.0],
            max: [10.5, 4.0],
        };
        assert!(GridSpec::covering(&bb, 0.0, None).is_err());
        let g = GridSpec::covering(&bb, 1.0, None).unwrap();
        assert_eq!((g.width, g.height), (11, 4));
    }
}
