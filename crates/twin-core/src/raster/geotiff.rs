//! GeoTIFF reader and writer with its own TIFF codec.
//!
//! Reading: classic TIFF and BigTIFF, little and big endian, strips and tiles (partial edge
//! tiles), compression none / LZW / Deflate / PackBits, predictors 1 (none), 2 (horizontal
//! differencing) and 3 (floating point, as GDAL/libtiff: byte planes of the samples in file
//! byte order), chunky or planar data (band 1 is read). Georeferencing comes from ModelPixelScale + ModelTiepoint or a non-rotated
//! ModelTransformation, the CRS from the GeoKeyDirectory, nodata from `GDAL_NODATA`. A file
//! without georeferencing reads with origin (0, 0), cell size 1 and no EPSG code, as in GDAL.
//!
//! Writing: little-endian classic TIFF, one band, PixelIsArea, with `GDAL_NODATA`.
//! With a compression, the predictor option selects horizontal differencing (2) for integer
//! samples and the floating point predictor (3) for `f32`/`f64`.
//!
//! Every malformed input gives an [`Error::Format`] naming the tag or byte offset.

use super::{GridSpec, Raster};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::io::{Read, Write};
use std::path::Path;

/// A cell type that can be stored in a GeoTIFF.
pub trait Sample: Copy + PartialEq + Default + std::fmt::Debug + Send + Sync + 'static {
    /// `BitsPerSample`.
    const BITS: u16;
    /// TIFF `SampleFormat`: 1 unsigned integer, 2 signed integer, 3 IEEE float.
    const SAMPLE_FORMAT: u16;
    /// Rust name of the type, e.g. `"f32"`.
    const KIND: &'static str;
    /// Append the little-endian bytes of the value.
    fn put_le(self, out: &mut Vec<u8>);
    /// Value from exactly `BITS / 8` little-endian bytes (default value for a wrong length).
    fn from_le(bytes: &[u8]) -> Self;
    /// Text for the `GDAL_NODATA` tag (and `.asc` files); parses back to the same value.
    fn format_nodata(self) -> String;
    /// Parse a `GDAL_NODATA` text; `None` when the number is not representable in this type.
    fn parse_nodata(text: &str) -> Option<Self>;
    /// Conversion to `f32` (rounding for wide integers and `f64`).
    fn to_f32(self) -> f32;
    /// Wrap a raster of this type.
    fn into_any(r: Raster<Self>) -> AnyRaster;
}

macro_rules! int_sample {
    ($t:ty, $fmt:expr, $variant:ident) => {
        impl Sample for $t {
            const BITS: u16 = <$t>::BITS as u16;
            const SAMPLE_FORMAT: u16 = $fmt;
            const KIND: &'static str = stringify!($t);
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn from_le(bytes: &[u8]) -> Self {
                bytes
                    .try_into()
                    .map(<$t>::from_le_bytes)
                    .unwrap_or_default()
            }
            fn format_nodata(self) -> String {
                self.to_string()
            }
            fn parse_nodata(text: &str) -> Option<Self> {
                let t = text.trim();
                t.parse::<$t>().ok().or_else(|| {
                    let v: f64 = t.parse().ok()?;
                    (v.fract() == 0.0 && v >= <$t>::MIN as f64 && v <= <$t>::MAX as f64)
                        .then_some(v as $t)
                })
            }
            fn to_f32(self) -> f32 {
                self as f32
            }
            fn into_any(r: Raster<Self>) -> AnyRaster {
                AnyRaster::$variant(r)
            }
        }
    };
}

macro_rules! float_sample {
    ($t:ty, $variant:ident) => {
        impl Sample for $t {
            const BITS: u16 = (std::mem::size_of::<$t>() * 8) as u16;
            const SAMPLE_FORMAT: u16 = 3;
            const KIND: &'static str = stringify!($t);
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn from_le(bytes: &[u8]) -> Self {
                bytes
                    .try_into()
                    .map(<$t>::from_le_bytes)
                    .unwrap_or_default()
            }
            fn format_nodata(self) -> String {
                if self.is_nan() {
                    "nan".into()
                } else if self.is_infinite() {
                    if self > 0.0 {
                        "inf".into()
                    } else {
                        "-inf".into()
                    }
                } else {
                    // Display is the shortest text that parses back to the same value.
                    self.to_string()
                }
            }
            fn parse_nodata(text: &str) -> Option<Self> {
                text.trim().parse::<$t>().ok()
            }
            fn to_f32(self) -> f32 {
                self as f32
            }
            fn into_any(r: Raster<Self>) -> AnyRaster {
                AnyRaster::$variant(r)
            }
        }
    };
}

int_sample!(u8, 1, U8);
int_sample!(i8, 2, I8);
int_sample!(u16, 1, U16);
int_sample!(i16, 2, I16);
int_sample!(u32, 1, U32);
int_sample!(i32, 2, I32);
float_sample!(f32, F32);
float_sample!(f64, F64);

/// A raster of whichever sample type a GeoTIFF holds.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyRaster {
    U8(Raster<u8>),
    I8(Raster<i8>),
    U16(Raster<u16>),
    I16(Raster<i16>),
    U32(Raster<u32>),
    I32(Raster<i32>),
    F32(Raster<f32>),
    F64(Raster<f64>),
}

macro_rules! each_raster {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            AnyRaster::U8($r) => $e,
            AnyRaster::I8($r) => $e,
            AnyRaster::U16($r) => $e,
            AnyRaster::I16($r) => $e,
            AnyRaster::U32($r) => $e,
            AnyRaster::I32($r) => $e,
            AnyRaster::F32($r) => $e,
            AnyRaster::F64($r) => $e,
        }
    };
}

impl AnyRaster {
    /// Convert to `f32` cells; the nodata value is converted too (wide integers and `f64`
    /// round to the nearest `f32`).
    pub fn to_f32(&self) -> Raster<f32> {
        each_raster!(self, r => Raster {
            spec: r.spec,
            nodata: r.nodata.map(Sample::to_f32),
            data: r.data.iter().map(|&v| v.to_f32()).collect(),
        })
    }

    /// The grid of the raster.
    pub fn spec(&self) -> &GridSpec {
        each_raster!(self, r => &r.spec)
    }

    /// The sample type as a Rust type name (`"u8"`, `"i16"`, `"f32"`, ...).
    pub fn kind_name(&self) -> &'static str {
        fn kind<T: Sample>(_: &Raster<T>) -> &'static str {
            T::KIND
        }
        each_raster!(self, r => kind(r))
    }
}

/// Compression of the image data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// TIFF LZW (MSB first, with the early code-size switch).
    Lzw,
    /// zlib Deflate (TIFF compression 8).
    Deflate,
}

impl Compression {
    fn code(self) -> u16 {
        match self {
            Compression::None => 1,
            Compression::Lzw => 5,
            Compression::Deflate => 8,
        }
    }
}

/// How the image is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Horizontal strips of `rows_per_strip` rows (the last one may be shorter).
    Strips { rows_per_strip: u32 },
    /// Square tiles of `size` x `size` cells; `size` must be a positive multiple of 16.
    Tiles { size: u32 },
}

/// Options of [`write_geotiff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeoTiffOptions {
    pub compression: Compression,
    pub layout: Layout,
    /// Use a predictor when compressing: horizontal differencing (2) for integers, the
    /// floating point predictor (3) for floats. Ignored without compression.
    pub predictor: bool,
}

impl Default for GeoTiffOptions {
    /// Deflate, 256 x 256 tiles, with predictor.
    fn default() -> Self {
        GeoTiffOptions {
            compression: Compression::Deflate,
            layout: Layout::Tiles { size: 256 },
            predictor: true,
        }
    }
}

// TIFF tags used here.
const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const BITS_PER_SAMPLE: u16 = 258;
const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const STRIP_OFFSETS: u16 = 273;
const SAMPLES_PER_PIXEL: u16 = 277;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;
const PLANAR_CONFIGURATION: u16 = 284;
const PREDICTOR: u16 = 317;
const TILE_WIDTH: u16 = 322;
const TILE_LENGTH: u16 = 323;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const SAMPLE_FORMAT: u16 = 339;
const MODEL_PIXEL_SCALE: u16 = 33550;
const MODEL_TIEPOINT: u16 = 33922;
const MODEL_TRANSFORMATION: u16 = 34264;
const GEO_KEY_DIRECTORY: u16 = 34735;
const GDAL_NODATA: u16 = 42113;

// GeoKeys.
const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GEOGRAPHIC_TYPE: u16 = 2048;
const PROJECTED_CS_TYPE: u16 = 3072;

/// Largest decoded image accepted (bytes).
const MAX_IMAGE_BYTES: u64 = 4 << 30;

fn tag_name(tag: u16) -> String {
    let name = match tag {
        IMAGE_WIDTH => "ImageWidth",
        IMAGE_LENGTH => "ImageLength",
        BITS_PER_SAMPLE => "BitsPerSample",
        COMPRESSION => "Compression",
        PHOTOMETRIC => "PhotometricInterpretation",
        STRIP_OFFSETS => "StripOffsets",
        SAMPLES_PER_PIXEL => "SamplesPerPixel",
        ROWS_PER_STRIP => "RowsPerStrip",
        STRIP_BYTE_COUNTS => "StripByteCounts",
        PLANAR_CONFIGURATION => "PlanarConfiguration",
        PREDICTOR => "Predictor",
        TILE_WIDTH => "TileWidth",
        TILE_LENGTH => "TileLength",
        TILE_OFFSETS => "TileOffsets",
        TILE_BYTE_COUNTS => "TileByteCounts",
        SAMPLE_FORMAT => "SampleFormat",
        MODEL_PIXEL_SCALE => "ModelPixelScale",
        MODEL_TIEPOINT => "ModelTiepoint",
        MODEL_TRANSFORMATION => "ModelTransformation",
        GEO_KEY_DIRECTORY => "GeoKeyDirectory",
        GDAL_NODATA => "GDAL_NODATA",
        _ => "tag",
    };
    format!("tag {name} ({tag})")
}

fn type_name(typ: u16) -> &'static str {
    match typ {
        1 => "BYTE",
        2 => "ASCII",
        3 => "SHORT",
        4 => "LONG",
        5 => "RATIONAL",
        6 => "SBYTE",
        7 => "UNDEFINED",
        8 => "SSHORT",
        9 => "SLONG",
        10 => "SRATIONAL",
        11 => "FLOAT",
        12 => "DOUBLE",
        13 => "IFD",
        16 => "LONG8",
        17 => "SLONG8",
        18 => "IFD8",
        _ => "unknown type",
    }
}

fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Write a raster as a GeoTIFF, atomically (temporary file in the target directory, then
/// rename).
pub fn write_geotiff<T: Sample>(r: &Raster<T>, path: &Path, opts: &GeoTiffOptions) -> Result<()> {
    let bytes = encode_geotiff(r, opts)?;
    crate::fsio::write_atomic(path, &bytes)
}

/// One IFD entry to write: tag, type, count, little-endian value bytes.
struct OutEntry {
    tag: u16,
    typ: u16,
    count: u32,
    bytes: Vec<u8>,
}

fn shorts(tag: u16, v: &[u16]) -> OutEntry {
    OutEntry {
        tag,
        typ: 3,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn longs(tag: u16, v: &[u32]) -> OutEntry {
    OutEntry {
        tag,
        typ: 4,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn doubles(tag: u16, v: &[f64]) -> OutEntry {
    OutEntry {
        tag,
        typ: 12,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn ascii(tag: u16, s: &str) -> OutEntry {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    OutEntry {
        tag,
        typ: 2,
        count: bytes.len() as u32,
        bytes,
    }
}

/// Whether an EPSG code names a geographic (longitude/latitude) CRS.
fn is_geographic_epsg(code: u32) -> bool {
    crate::crs::Crs::from_epsg(code)
        .map(|c| c.is_geographic())
        // The EPSG block 4001..4999 holds the geographic 2D CRSs.
        .unwrap_or((4001..=4999).contains(&code))
}

/// Encode a raster as a little-endian classic GeoTIFF in memory.
pub fn encode_geotiff<T: Sample>(r: &Raster<T>, opts: &GeoTiffOptions) -> Result<Vec<u8>> {
    let spec = &r.spec;
    spec.validate()?;
    if r.data.len() != spec.len() || spec.is_empty() {
        return Err(Error::Invalid(format!(
            "cannot write a {}x{} raster with {} values as GeoTIFF",
            spec.width,
            spec.height,
            r.data.len()
        )));
    }
    let too_big = || Error::Invalid("raster too large for a classic TIFF (4 GiB)".to_string());
    let width = u32::try_from(spec.width).map_err(|_| too_big())?;
    let height = u32::try_from(spec.height).map_err(|_| too_big())?;
    let (cw, ch) = match opts.layout {
        Layout::Strips { rows_per_strip } if rows_per_strip > 0 => {
            (width, rows_per_strip.min(height))
        }
        Layout::Tiles { size } if size > 0 && size % 16 == 0 => (size, size),
        l => return Err(Error::Invalid(format!("invalid GeoTIFF layout {l:?}"))),
    };
    let tiled = matches!(opts.layout, Layout::Tiles { .. });
    let across = width.div_ceil(cw);
    let down = height.div_ceil(ch);
    let n = (T::BITS / 8) as usize;
    let predictor = match (opts.compression, opts.predictor) {
        (Compression::None, _) | (_, false) => 1u16,
        _ if T::SAMPLE_FORMAT == 3 => 3,
        _ => 2,
    };
    let pad = r.nodata.unwrap_or_default();
    let chunks: Vec<Result<Vec<u8>>> = (0..across * down)
        .into_par_iter()
        .map(|i| {
            let (x0, y0) = ((i % across) * cw, (i / across) * ch);
            // Strips are not padded; tiles always are full.
            let rows = if tiled { ch } else { ch.min(height - y0) };
            let mut buf = Vec::with_capacity(cw as usize * rows as usize * n);
            for y in y0..y0 + rows {
                for x in x0..x0 + cw {
                    let v = if x < width && y < height {
                        r.data[spec.idx(x as usize, y as usize)]
                    } else {
                        pad
                    };
                    v.put_le(&mut buf);
                }
            }
            let row_bytes = cw as usize * n;
            match predictor {
                2 => horizontal_diff(&mut buf, row_bytes, n, 1),
                3 => {
                    let mut tmp = Vec::new();
                    for row in buf.chunks_exact_mut(row_bytes) {
                        fp_encode_row(row, &mut tmp, 1, n);
                    }
                }
                _ => {}
            }
            compress(buf, opts.compression)
        })
        .collect();

    let mut out = b"II*\0\0\0\0\0".to_vec();
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut counts = Vec::with_capacity(chunks.len());
    for c in chunks {
        let c = c?;
        offsets.push(u32::try_from(out.len()).map_err(|_| too_big())?);
        counts.push(u32::try_from(c.len()).map_err(|_| too_big())?);
        out.extend_from_slice(&c);
    }

    let mut entries = vec![
        longs(IMAGE_WIDTH, &[width]),
        longs(IMAGE_LENGTH, &[height]),
        shorts(BITS_PER_SAMPLE, &[T::BITS]),
        shorts(COMPRESSION, &[opts.compression.code()]),
        shorts(PHOTOMETRIC, &[1]),
        shorts(SAMPLES_PER_PIXEL, &[1]),
        shorts(PLANAR_CONFIGURATION, &[1]),
        shorts(SAMPLE_FORMAT, &[T::SAMPLE_FORMAT]),
        doubles(MODEL_PIXEL_SCALE, &[spec.cell_x, spec.cell_y, 0.0]),
        doubles(
            MODEL_TIEPOINT,
            &[0.0, 0.0, 0.0, spec.origin_x, spec.origin_y, 0.0],
        ),
    ];
    if tiled {
        entries.push(longs(TILE_WIDTH, &[cw]));
        entries.push(longs(TILE_LENGTH, &[ch]));
        entries.push(longs(TILE_OFFSETS, &offsets));
        entries.push(longs(TILE_BYTE_COUNTS, &counts));
    } else {
        entries.push(longs(ROWS_PER_STRIP, &[ch]));
        entries.push(longs(STRIP_OFFSETS, &offsets));
        entries.push(longs(STRIP_BYTE_COUNTS, &counts));
    }
    if predictor != 1 {
        entries.push(shorts(PREDICTOR, &[predictor]));
    }
    // Without a CRS no GeoKeyDirectory is written (GDAL rejects one without a model type);
    // PixelIsArea is the default raster type then.
    if let Some(code) = spec.epsg {
        let code = u16::try_from(code)
            .map_err(|_| Error::Invalid(format!("EPSG code {code} does not fit a GeoKey")))?;
        let (model, key) = if is_geographic_epsg(code.into()) {
            (2, GEOGRAPHIC_TYPE)
        } else {
            (1, PROJECTED_CS_TYPE)
        };
        let dir = [
            [1, 1, 0, 3],
            [GT_MODEL_TYPE, 0, 1, model],
            [GT_RASTER_TYPE, 0, 1, 1],
            [key, 0, 1, code],
        ];
        entries.push(shorts(GEO_KEY_DIRECTORY, dir.as_flattened()));
    }
    if let Some(nd) = r.nodata {
        entries.push(ascii(GDAL_NODATA, &nd.format_nodata()));
    }
    entries.sort_by_key(|e| e.tag);

    // The IFD on a word boundary, then the values that do not fit in an entry.
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let ifd = out.len();
    let mut extra = ifd + 2 + 12 * entries.len() + 4;
    let mut ifd_bytes = (entries.len() as u16).to_le_bytes().to_vec();
    let mut extra_bytes = Vec::new();
    for e in &entries {
        ifd_bytes.extend_from_slice(&e.tag.to_le_bytes());
        ifd_bytes.extend_from_slice(&e.typ.to_le_bytes());
        ifd_bytes.extend_from_slice(&e.count.to_le_bytes());
        if e.bytes.len() <= 4 {
            let mut v = e.bytes.clone();
            v.resize(4, 0);
            ifd_bytes.extend_from_slice(&v);
        } else {
            let off = u32::try_from(extra).map_err(|_| too_big())?;
            ifd_bytes.extend_from_slice(&off.to_le_bytes());
            extra_bytes.extend_from_slice(&e.bytes);
            if extra_bytes.len() % 2 == 1 {
                extra_bytes.push(0);
            }
            extra = ifd + 2 + 12 * entries.len() + 4 + extra_bytes.len();
        }
    }
    ifd_bytes.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&ifd_bytes);
    out.extend_from_slice(&extra_bytes);
    u32::try_from(out.len()).map_err(|_| too_big())?;
    let ifd = (ifd as u32).to_le_bytes();
    out[4..8].copy_from_slice(&ifd);
    Ok(out)
}

fn compress(buf: Vec<u8>, c: Compression) -> Result<Vec<u8>> {
    match c {
        Compression::None => Ok(buf),
        Compression::Lzw => weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(&buf)
            .map_err(|e| Error::Invalid(format!("LZW compression failed: {e}"))),
        Compression::Deflate => {
            let mut enc =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&buf)
                .and_then(|_| enc.finish())
                .map_err(|e| Error::Invalid(format!("Deflate compression failed: {e}")))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Predictors, on rows of little-endian samples.
// ---------------------------------------------------------------------------------------

fn word(b: &[u8], i: usize, n: usize) -> u64 {
    let mut a = [0u8; 8];
    a[..n].copy_from_slice(&b[i * n..i * n + n]);
    u64::from_le_bytes(a)
}

fn set_word(b: &mut [u8], i: usize, n: usize, v: u64) {
    b[i * n..i * n + n].copy_from_slice(&v.to_le_bytes()[..n]);
}

/// Predictor 2 encoding: replace each sample by its difference to the sample `stride`
/// samples before it in the same row (wrapping in the sample width).
fn horizontal_diff(buf: &mut [u8], row_bytes: usize, n: usize, stride: usize) {
    for row in buf.chunks_exact_mut(row_bytes) {
        for i in (stride..row_bytes / n).rev() {
            let v = word(row, i, n).wrapping_sub(word(row, i - stride, n));
            set_word(row, i, n, v);
        }
    }
}

/// Predictor 2 decoding (the inverse of [`horizontal_diff`]).
fn horizontal_acc(buf: &mut [u8], row_bytes: usize, n: usize, stride: usize) {
    for row in buf.chunks_exact_mut(row_bytes) {
        for i in stride..row_bytes / n {
            let v = word(row, i, n).wrapping_add(word(row, i - stride, n));
            set_word(row, i, n, v);
        }
    }
}

/// Predictor 3 encoding of one row: split the samples into byte planes (most significant
/// first), then difference the bytes.
fn fp_encode_row(row: &mut [u8], tmp: &mut Vec<u8>, spp: usize, n: usize) {
    let wc = row.len() / n;
    tmp.clear();
    tmp.extend_from_slice(row);
    for s in 0..wc {
        for k in 0..n {
            row[(n - 1 - k) * wc + s] = tmp[s * n + k];
        }
    }
    for i in (spp..row.len()).rev() {
        row[i] = row[i].wrapping_sub(row[i - spp]);
    }
}

/// Predictor 3 decoding of one row into little-endian samples.
fn fp_decode_row(row: &mut [u8], tmp: &mut Vec<u8>, spp: usize, n: usize) {
    for i in spp..row.len() {
        row[i] = row[i].wrapping_add(row[i - spp]);
    }
    let wc = row.len() / n;
    tmp.clear();
    tmp.extend_from_slice(row);
    for s in 0..wc {
        for k in 0..n {
            row[s * n + k] = tmp[(n - 1 - k) * wc + s];
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

/// Read a GeoTIFF file (band 1) in its own sample type.
pub fn read_geotiff(path: &Path) -> Result<AnyRaster> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_geotiff(&bytes, path)
}

/// Read a GeoTIFF file (band 1) converted to `f32`.
pub fn read_geotiff_f32(path: &Path) -> Result<Raster<f32>> {
    Ok(read_geotiff(path)?.to_f32())
}

/// One IFD entry as found in the file; `value_off` is where its values start.
struct Entry {
    tag: u16,
    typ: u16,
    count: u64,
    value_off: u64,
}

struct Tiff<'a> {
    b: &'a [u8],
    big_endian: bool,
    path: &'a Path,
    entries: Vec<Entry>,
}

impl<'a> Tiff<'a> {
    fn err(&self, location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::format(self.path, location, message)
    }

    fn bytes_at(&self, off: u64, len: u64, what: &str) -> Result<&'a [u8]> {
        off.checked_add(len)
            .and_then(|end| {
                self.b
                    .get(usize::try_from(off).ok()?..usize::try_from(end).ok()?)
            })
            .ok_or_else(|| {
                self.err(
                    format!("byte {off}"),
                    format!(
                        "{what} ({len} bytes) runs past the end of the file ({} bytes)",
                        self.b.len()
                    ),
                )
            })
    }

    fn uint_at(&self, off: u64, size: u64, what: &str) -> Result<u64> {
        let s = self.bytes_at(off, size, what)?;
        let mut a = [0u8; 8];
        if self.big_endian {
            a[8 - s.len()..].copy_from_slice(s);
            Ok(u64::from_be_bytes(a))
        } else {
            a[..s.len()].copy_from_slice(s);
            Ok(u64::from_le_bytes(a))
        }
    }

    fn find(&self, tag: u16) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// The raw value bytes of an entry (file byte order).
    fn values(&self, e: &Entry) -> Result<&'a [u8]> {
        let size = type_size(e.typ).ok_or_else(|| {
            self.err(tag_name(e.tag), format!("has unknown field type {}", e.typ))
        })?;
        let len = e
            .count
            .checked_mul(size)
            .ok_or_else(|| self.err(tag_name(e.tag), format!("count {} is absurd", e.count)))?;
        self.bytes_at(e.value_off, len, &format!("value of {}", tag_name(e.tag)))
    }

    fn words(&self, e: &Entry, size: usize) -> Result<Vec<u64>> {
        let v = self.values(e)?;
        Ok(v.chunks_exact(size)
            .map(|c| {
                let mut a = [0u8; 8];
                if self.big_endian {
                    a[8 - size..].copy_from_slice(c);
                    u64::from_be_bytes(a)
                } else {
                    a[..size].copy_from_slice(c);
                    u64::from_le_bytes(a)
                }
            })
            .collect())
    }

    /// Unsigned integer values of a tag (BYTE, SHORT, LONG, LONG8, IFD, IFD8).
    fn uints(&self, tag: u16) -> Result<Option<Vec<u64>>> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        let size = match e.typ {
            1 => 1,
            3 => 2,
            4 | 13 => 4,
            16 | 18 => 8,
            t => {
                return Err(self.err(
                    tag_name(tag),
                    format!("has type {}, expected SHORT or LONG", type_name(t)),
                ));
            }
        };
        if e.count == 0 {
            return Err(self.err(tag_name(tag), "has no values"));
        }
        self.words(e, size).map(Some)
    }

    /// A single unsigned integer value (count must be 1).
    fn uint(&self, tag: u16) -> Result<Option<u64>> {
        match self.uints(tag)? {
            None => Ok(None),
            Some(v) if v.len() == 1 => Ok(v.first().copied()),
            Some(v) => Err(self.err(tag_name(tag), format!("has {} values, expected 1", v.len()))),
        }
    }

    fn required(&self, tag: u16) -> Result<u64> {
        self.uint(tag)?
            .ok_or_else(|| self.err(tag_name(tag), "required tag is missing"))
    }

    /// DOUBLE (or FLOAT) values of a tag.
    fn doubles(&self, tag: u16) -> Result<Option<Vec<f64>>> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        let v = match e.typ {
            12 => self.words(e, 8)?.into_iter().map(f64::from_bits).collect(),
            11 => self
                .words(e, 4)?
                .into_iter()
                .map(|w| f32::from_bits(w as u32) as f64)
                .collect(),
            t => {
                return Err(self.err(
                    tag_name(tag),
                    format!("has type {}, expected DOUBLE", type_name(t)),
                ));
            }
        };
        Ok(Some(v))
    }

    /// ASCII value of a tag without the terminating NULs.
    fn ascii(&self, tag: u16) -> Result<Option<String>> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        if e.typ != 2 {
            return Err(self.err(
                tag_name(tag),
                format!("has type {}, expected ASCII", type_name(e.typ)),
            ));
        }
        let v = self.values(e)?;
        Ok(Some(
            String::from_utf8_lossy(v)
                .trim_end_matches('\0')
                .trim()
                .to_string(),
        ))
    }
}

/// Parse the header and the first IFD.
fn parse_tiff<'a>(b: &'a [u8], path: &'a Path) -> Result<Tiff<'a>> {
    if b.is_empty() {
        return Err(Error::format(path, "byte 0", "empty file"));
    }
    let big_endian = match b.get(..2) {
        Some(b"II") => false,
        Some(b"MM") => true,
        _ => {
            return Err(Error::format(
                path,
                "byte 0",
                "not a TIFF file (byte order mark is not II or MM)",
            ));
        }
    };
    let mut t = Tiff {
        b,
        big_endian,
        path,
        entries: Vec::new(),
    };
    let version = t.uint_at(2, 2, "TIFF header")?;
    let (bigtiff, first) = match version {
        42 => (false, t.uint_at(4, 4, "TIFF header")?),
        43 => {
            let offsize = t.uint_at(4, 2, "BigTIFF header")?;
            if offsize != 8 {
                return Err(t.err(
                    "byte 4",
                    format!("BigTIFF offset size {offsize}, expected 8"),
                ));
            }
            (true, t.uint_at(8, 8, "BigTIFF header")?)
        }
        v => {
            return Err(t.err(
                "byte 2",
                format!("not a TIFF file (version {v}, expected 42 or 43)"),
            ));
        }
    };
    if first == 0 {
        return Err(t.err("byte 4", "the file holds no image (first IFD offset is 0)"));
    }
    let (count_size, entry_size, inline) = if bigtiff { (8, 20, 8) } else { (2, 12, 4) };
    let n = t.uint_at(first, count_size, "IFD entry count")?;
    let table = n.checked_mul(entry_size).ok_or_else(|| {
        t.err(
            format!("byte {first}"),
            format!("absurd IFD entry count {n}"),
        )
    })?;
    t.bytes_at(first + count_size, table, &format!("IFD with {n} entries"))?;
    for i in 0..n {
        let at = first + count_size + i * entry_size;
        let tag = t.uint_at(at, 2, "IFD entry")? as u16;
        let typ = t.uint_at(at + 2, 2, "IFD entry")? as u16;
        let count = t.uint_at(at + 4, inline, "IFD entry")?;
        let field = at + 4 + inline;
        let fits = type_size(typ)
            .and_then(|s| s.checked_mul(count))
            .is_some_and(|len| len <= inline);
        let value_off = if fits {
            field
        } else {
            t.uint_at(field, inline, "IFD entry")?
        };
        t.entries.push(Entry {
            tag,
            typ,
            count,
            value_off,
        });
    }
    Ok(t)
}

/// How the pixel data is stored.
struct ChunkLayout {
    width: u64,
    height: u64,
    /// Chunk width and height (strips: image width and rows per strip).
    cw: u64,
    ch: u64,
    tiled: bool,
    /// Samples per pixel inside one chunk (1 for planar data).
    spp: usize,
    /// Bytes per sample.
    n: usize,
    compression: u64,
    predictor: u64,
    offsets: Vec<u64>,
    counts: Vec<u64>,
}

/// Decode a GeoTIFF held in memory; `path_for_errors` names it in errors.
pub fn decode_geotiff(bytes: &[u8], path_for_errors: &Path) -> Result<AnyRaster> {
    let t = parse_tiff(bytes, path_for_errors)?;
    let width = t.required(IMAGE_WIDTH)?;
    let height = t.required(IMAGE_LENGTH)?;
    if width == 0 || height == 0 {
        return Err(t.err(
            tag_name(if width == 0 {
                IMAGE_WIDTH
            } else {
                IMAGE_LENGTH
            }),
            format!("empty image ({width} x {height})"),
        ));
    }
    let spp = t.uint(SAMPLES_PER_PIXEL)?.unwrap_or(1);
    if spp == 0 {
        return Err(t.err(tag_name(SAMPLES_PER_PIXEL), "is 0"));
    }
    let first = |tag: u16, default: u64| -> Result<u64> {
        Ok(t.uints(tag)?
            .and_then(|v| v.first().copied())
            .unwrap_or(default))
    };
    let bits = first(BITS_PER_SAMPLE, 1)?;
    let format = match first(SAMPLE_FORMAT, 1)? {
        4 => 1, // "undefined" data reads as unsigned, as in GDAL
        f => f,
    };
    let n = (bits / 8) as usize;
    let image_bytes = width
        .checked_mul(height)
        .and_then(|c| c.checked_mul(spp))
        .and_then(|c| c.checked_mul(n.max(1) as u64));
    if image_bytes.is_none_or(|b| b > MAX_IMAGE_BYTES) {
        return Err(t.err(
            tag_name(IMAGE_WIDTH),
            format!(
                "image of {width} x {height} cells x {spp} samples x {bits} bits exceeds the \
                 4 GiB limit"
            ),
        ));
    }
    let planar = t.uint(PLANAR_CONFIGURATION)?.unwrap_or(1);
    if planar != 1 && planar != 2 {
        return Err(t.err(
            tag_name(PLANAR_CONFIGURATION),
            format!("unknown value {planar}"),
        ));
    }
    let compression = t.uint(COMPRESSION)?.unwrap_or(1);
    match compression {
        1 | 5 | 8 | 32946 | 32773 => {}
        c => {
            let name = match c {
                2..=4 => " (CCITT)",
                6 | 7 => " (JPEG)",
                34887 => " (LERC)",
                34925 => " (LZMA)",
                50000 => " (ZSTD)",
                50001 => " (WEBP)",
                _ => "",
            };
            return Err(t.err(
                tag_name(COMPRESSION),
                format!("compression {c}{name} is not supported (none, LZW, Deflate, PackBits)"),
            ));
        }
    }
    let predictor = t.uint(PREDICTOR)?.unwrap_or(1);
    if !(1..=3).contains(&predictor) || (predictor == 3 && format != 3) {
        return Err(t.err(
            tag_name(PREDICTOR),
            format!("predictor {predictor} is not valid for SampleFormat {format}"),
        ));
    }
    let tiled = t.find(TILE_WIDTH).is_some() || t.find(TILE_OFFSETS).is_some();
    let (cw, ch, off_tag, cnt_tag) = if tiled {
        (
            t.required(TILE_WIDTH)?,
            t.required(TILE_LENGTH)?,
            TILE_OFFSETS,
            TILE_BYTE_COUNTS,
        )
    } else {
        let rps = t.uint(ROWS_PER_STRIP)?.unwrap_or(height).min(height);
        (width, rps, STRIP_OFFSETS, STRIP_BYTE_COUNTS)
    };
    let chunk_spp = if planar == 1 { spp } else { 1 };
    let chunk_bytes = cw
        .checked_mul(ch)
        .and_then(|c| c.checked_mul(chunk_spp * n.max(1) as u64));
    if cw == 0 || ch == 0 || chunk_bytes.is_none_or(|b| b > MAX_IMAGE_BYTES) {
        let tag = if tiled { TILE_WIDTH } else { ROWS_PER_STRIP };
        return Err(t.err(tag_name(tag), format!("invalid chunk size {cw} x {ch}")));
    }
    let per_plane = width.div_ceil(cw) * height.div_ceil(ch);
    let needed = per_plane * if planar == 2 { spp } else { 1 };
    let offsets = t
        .uints(off_tag)?
        .ok_or_else(|| t.err(tag_name(off_tag), "required tag is missing"))?;
    let counts = t
        .uints(cnt_tag)?
        .ok_or_else(|| t.err(tag_name(cnt_tag), "required tag is missing"))?;
    for (tag, v) in [(off_tag, &offsets), (cnt_tag, &counts)] {
        if (v.len() as u64) < needed {
            return Err(t.err(
                tag_name(tag),
                format!("has {} values, the image needs {needed}", v.len()),
            ));
        }
    }
    let georef = georeference(&t)?;
    let lay = ChunkLayout {
        width,
        height,
        cw,
        ch,
        tiled,
        spp: chunk_spp as usize,
        n,
        compression,
        predictor,
        offsets,
        counts,
    };
    let nodata = t.ascii(GDAL_NODATA)?;
    if let Some(s) = nodata.as_ref().filter(|s| s.parse::<f64>().is_err()) {
        return Err(t.err(tag_name(GDAL_NODATA), format!("not a number: {s:?}")));
    }
    let nd = nodata.as_deref();
    match (format, bits) {
        (1, 8) => read_pixels::<u8>(&t, &lay, georef, nd),
        (2, 8) => read_pixels::<i8>(&t, &lay, georef, nd),
        (1, 16) => read_pixels::<u16>(&t, &lay, georef, nd),
        (2, 16) => read_pixels::<i16>(&t, &lay, georef, nd),
        (1, 32) => read_pixels::<u32>(&t, &lay, georef, nd),
        (2, 32) => read_pixels::<i32>(&t, &lay, georef, nd),
        (3, 32) => read_pixels::<f32>(&t, &lay, georef, nd),
        (3, 64) => read_pixels::<f64>(&t, &lay, georef, nd),
        _ => Err(t.err(
            tag_name(BITS_PER_SAMPLE),
            format!("unsupported sample type: SampleFormat {format} with {bits} bits per sample"),
        )),
    }
}

/// Origin, cell size and EPSG code of the image: (origin_x, origin_y, cell_x, cell_y, epsg).
type Georef = (f64, f64, f64, f64, Option<u32>);

fn georeference(t: &Tiff) -> Result<Georef> {
    let scale = t.doubles(MODEL_PIXEL_SCALE)?;
    let tie = t.doubles(MODEL_TIEPOINT)?;
    let matrix = t.doubles(MODEL_TRANSFORMATION)?;
    let (mut ox, mut oy, sx, sy, georeferenced) = if let Some(m) = matrix {
        let [a, b, _, d, e, f, _, h, ..] = m[..] else {
            return Err(t.err(
                tag_name(MODEL_TRANSFORMATION),
                format!("has {} values, expected 16", m.len()),
            ));
        };
        if m.len() != 16 {
            return Err(t.err(
                tag_name(MODEL_TRANSFORMATION),
                format!("has {} values, expected 16", m.len()),
            ));
        }
        if b != 0.0 || e != 0.0 {
            return Err(t.err(
                tag_name(MODEL_TRANSFORMATION),
                "rotated or sheared rasters are not supported",
            ));
        }
        (d, h, a, -f, true)
    } else if let Some(s) = scale {
        let [sx, sy, _] = s[..] else {
            return Err(t.err(
                tag_name(MODEL_PIXEL_SCALE),
                format!("has {} values, expected 3", s.len()),
            ));
        };
        let tie = tie.ok_or_else(|| {
            t.err(
                tag_name(MODEL_TIEPOINT),
                "missing while ModelPixelScale is present",
            )
        })?;
        let [i, j, _, x, y, _, ..] = tie[..] else {
            return Err(t.err(
                tag_name(MODEL_TIEPOINT),
                format!("has {} values, expected 6", tie.len()),
            ));
        };
        (x - i * sx, y + j * sy, sx, sy, true)
    } else if tie.is_some() {
        return Err(t.err(
            tag_name(MODEL_TIEPOINT),
            "tie points without ModelPixelScale (GCP georeferencing) are not supported",
        ));
    } else {
        (0.0, 0.0, 1.0, 1.0, false)
    };
    let good = |v: f64| v.is_finite() && v > 0.0;
    if !(ox.is_finite() && oy.is_finite() && good(sx) && good(sy)) {
        let tag = if t.find(MODEL_TRANSFORMATION).is_some() {
            MODEL_TRANSFORMATION
        } else {
            MODEL_PIXEL_SCALE
        };
        return Err(t.err(
            tag_name(tag),
            format!(
                "unsupported georeference: origin ({ox}, {oy}), cell size {sx} x {sy} \
                 (cell sizes must be positive and rows must go south)"
            ),
        ));
    }
    let mut epsg = None;
    if let Some(dir) = t.uints(GEO_KEY_DIRECTORY)? {
        let declared = dir.get(3).copied().unwrap_or(0) as usize;
        if dir.len() < 4 || dir.len() < 4 + 4 * declared {
            return Err(t.err(
                tag_name(GEO_KEY_DIRECTORY),
                format!("declares {declared} keys but holds {} values", dir.len()),
            ));
        }
        let key = |id: u64| {
            dir[4..4 + 4 * declared]
                .chunks_exact(4)
                .find(|k| k[0] == id && k[1] == 0)
                .map(|k| k[3])
        };
        let (model, pcs, gcs) = (
            key(GT_MODEL_TYPE.into()),
            key(PROJECTED_CS_TYPE.into()),
            key(GEOGRAPHIC_TYPE.into()),
        );
        let code = match model {
            Some(1) => pcs,
            Some(2) => gcs,
            _ => pcs.or(gcs),
        };
        epsg = code.filter(|&c| c != 0 && c != 32767).map(|c| c as u32);
        if georeferenced && key(GT_RASTER_TYPE.into()) == Some(2) {
            // PixelIsPoint: the tie point is the centre of the cell.
            ox -= sx / 2.0;
            oy += sy / 2.0;
        }
    }
    Ok((ox, oy, sx, sy, epsg))
}

fn read_pixels<T: Sample>(
    t: &Tiff,
    lay: &ChunkLayout,
    (ox, oy, sx, sy, epsg): Georef,
    nodata: Option<&str>,
) -> Result<AnyRaster> {
    let nodata = nodata.and_then(T::parse_nodata);
    let (w, h) = (lay.width as usize, lay.height as usize);
    let across = lay.width.div_ceil(lay.cw);
    let down = lay.height.div_ceil(lay.ch);
    let decoded: Vec<Result<Vec<u8>>> = (0..across * down)
        .into_par_iter()
        .map(|i| decode_chunk(t, lay, i, (i / across) * lay.ch))
        .collect();
    let mut data = vec![nodata.unwrap_or_default(); w * h];
    let (cw, n, spp) = (lay.cw as usize, lay.n, lay.spp);
    for (i, buf) in decoded.into_iter().enumerate() {
        let buf = buf?;
        if buf.is_empty() {
            continue; // sparse chunk
        }
        let x0 = (i as u64 % across * lay.cw) as usize;
        let y0 = (i as u64 / across * lay.ch) as usize;
        let cols = cw.min(w - x0);
        let rows = (lay.ch as usize).min(h - y0);
        for r in 0..rows {
            let src = buf.get(r * cw * spp * n..).unwrap_or(&[]);
            let dst = &mut data[(y0 + r) * w + x0..(y0 + r) * w + x0 + cols];
            for (d, s) in dst.iter_mut().zip(src.chunks_exact(spp * n)) {
                *d = T::from_le(&s[..n]);
            }
        }
    }
    let spec = GridSpec {
        origin_x: ox,
        origin_y: oy,
        cell_x: sx,
        cell_y: sy,
        width: w,
        height: h,
        epsg,
    };
    Ok(T::into_any(Raster { spec, nodata, data }))
}

/// Decompress one chunk and undo the predictor: little-endian samples, or an empty vector
/// for a sparse chunk (offset and byte count 0).
fn decode_chunk(t: &Tiff, lay: &ChunkLayout, i: u64, y0: u64) -> Result<Vec<u8>> {
    let kind = if lay.tiled { "tile" } else { "strip" };
    let (off, cnt) = (
        lay.offsets.get(i as usize).copied().unwrap_or(0),
        lay.counts.get(i as usize).copied().unwrap_or(0),
    );
    if cnt == 0 {
        return Ok(Vec::new());
    }
    let rows = if lay.tiled {
        lay.ch
    } else {
        lay.ch.min(lay.height - y0)
    };
    let row_bytes = lay.cw as usize * lay.spp * lay.n;
    let expected = row_bytes * rows as usize;
    let raw = t.bytes_at(off, cnt, &format!("{kind} {i}")).map_err(|_| {
        t.err(
            format!("byte {off}"),
            format!(
                "{kind} {i} ({cnt} bytes at offset {off}, from {} and {}) runs past the end of \
                 the file ({} bytes)",
                tag_name(if lay.tiled {
                    TILE_OFFSETS
                } else {
                    STRIP_OFFSETS
                }),
                tag_name(if lay.tiled {
                    TILE_BYTE_COUNTS
                } else {
                    STRIP_BYTE_COUNTS
                }),
                t.b.len()
            ),
        )
    })?;
    let fail = |msg: String| t.err(format!("byte {off}"), format!("{kind} {i}: {msg}"));
    let mut buf = match lay.compression {
        1 => raw.get(..expected).unwrap_or(raw).to_vec(),
        5 => lzw_decode(raw, expected).map_err(fail)?,
        8 | 32946 => {
            let mut out = Vec::with_capacity(expected);
            flate2::read::ZlibDecoder::new(raw)
                .take(expected as u64)
                .read_to_end(&mut out)
                .map_err(|e| fail(format!("corrupt Deflate data: {e}")))?;
            out
        }
        _ => packbits_decode(raw, expected).map_err(fail)?,
    };
    if buf.len() < expected {
        return Err(fail(format!(
            "holds {} bytes after decompression, expected {expected} (truncated or corrupt)",
            buf.len()
        )));
    }
    let n = lay.n;
    // libtiff (as GDAL uses it) applies the floating point predictor to samples in file
    // byte order, horizontal differencing to samples in host order.
    if lay.predictor == 3 {
        let mut tmp = Vec::new();
        for row in buf.chunks_exact_mut(row_bytes) {
            fp_decode_row(row, &mut tmp, lay.spp, n);
        }
    }
    if t.big_endian && n > 1 {
        for s in buf.chunks_exact_mut(n) {
            s.reverse();
        }
    }
    if lay.predictor == 2 {
        horizontal_acc(&mut buf, row_bytes, n, lay.spp);
    }
    Ok(buf)
}

/// TIFF LZW (MSB first with the early size switch; old-style LSB streams too), at most
/// `expected` bytes.
fn lzw_decode(raw: &[u8], expected: usize) -> std::result::Result<Vec<u8>, String> {
    use weezl::{BitOrder, LzwStatus, decode::Decoder};
    let mut dec = match raw {
        // Old-style (pre-6.0 libtiff) LZW is LSB first without the early switch.
        [0, b, ..] if b & 1 == 1 => Decoder::new(BitOrder::Lsb, 8),
        _ => Decoder::with_tiff_size_switch(BitOrder::Msb, 8),
    };
    let mut out = vec![0u8; expected];
    let (mut inp, mut filled) = (raw, 0);
    while filled < expected {
        let r = dec.decode_bytes(inp, out.get_mut(filled..).unwrap_or_default());
        filled += r.consumed_out;
        inp = inp.get(r.consumed_in..).unwrap_or_default();
        match r.status {
            Ok(LzwStatus::Done) | Ok(LzwStatus::NoProgress) => break,
            Ok(LzwStatus::Ok) if r.consumed_in == 0 && r.consumed_out == 0 => break,
            Ok(LzwStatus::Ok) => {}
            Err(e) => return Err(format!("corrupt LZW data: {e}")),
        }
    }
    out.truncate(filled);
    Ok(out)
}

/// PackBits run-length decoding, at most `expected` bytes.
fn packbits_decode(raw: &[u8], expected: usize) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(expected);
    let mut i = 0;
    while out.len() < expected {
        let Some(&h) = raw.get(i) else { break };
        i += 1;
        let h = h as i8;
        if h >= 0 {
            let len = h as usize + 1;
            let lit = raw
                .get(i..i + len)
                .ok_or_else(|| format!("PackBits literal run at byte {} is cut off", i - 1))?;
            out.extend_from_slice(lit);
            i += len;
        } else if h != -128 {
            let &v = raw
                .get(i)
                .ok_or_else(|| format!("PackBits repeat run at byte {} is cut off", i - 1))?;
            i += 1;
            out.extend(std::iter::repeat_n(v, (1 - h as isize) as usize));
        }
    }
    out.truncate(expected);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn spec(w: usize, h: usize) -> GridSpec {
        GridSpec {
            origin_x: 565_000.5,
            origin_y: 5_930_000.25,
            cell_x: 0.5,
            cell_y: 2.0,
            width: w,
            height: h,
            epsg: Some(25832),
        }
    }

    fn all_options() -> Vec<GeoTiffOptions> {
        let mut v = Vec::new();
        for compression in [Compression::None, Compression::Lzw, Compression::Deflate] {
            for layout in [
                Layout::Strips { rows_per_strip: 1 },
                Layout::Strips { rows_per_strip: 3 },
                Layout::Tiles { size: 16 },
                Layout::Tiles { size: 32 },
            ] {
                for predictor in [false, true] {
                    v.push(GeoTiffOptions {
                        compression,
                        layout,
                        predictor,
                    });
                }
            }
        }
        v
    }

    fn round_trip<T: Sample>(rng: &mut ChaCha8Rng, make: impl Fn(&mut ChaCha8Rng) -> T) {
        for (w, h) in [(1, 1), (17, 5), (40, 33), (3, 50)] {
            let data: Vec<T> = (0..w * h).map(|_| make(rng)).collect();
            let nodata = Some(data[0]);
            // Also without a CRS and with a geographic one.
            let epsg = [None, Some(4326), Some(25832), Some(25833)][w % 4];
            let r = Raster::from_vec(GridSpec { epsg, ..spec(w, h) }, data, nodata).unwrap();
            for o in all_options() {
                let bytes = encode_geotiff(&r, &o).unwrap();
                let back = decode_geotiff(&bytes, Path::new("mem.tif")).unwrap();
                assert_eq!(back, T::into_any(r.clone()), "{} {w}x{h} {o:?}", T::KIND);
            }
        }
    }

    #[test]
    fn round_trip_every_type_and_option() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        round_trip::<u8>(&mut rng, |r| r.random());
        round_trip::<i8>(&mut rng, |r| r.random());
        round_trip::<u16>(&mut rng, |r| r.random());
        round_trip::<i16>(&mut rng, |r| r.random_range(-300..300));
        round_trip::<u32>(&mut rng, |r| r.random());
        round_trip::<i32>(&mut rng, |r| r.random());
        round_trip::<f32>(&mut rng, |r| r.random_range(-5.0f32..60.0));
        round_trip::<f64>(&mut rng, |r| r.random::<f64>() * 1e6 - 3.0);
    }

    #[test]
    fn to_f32_keeps_nodata_and_kind() {
        let r = Raster::from_vec(spec(2, 1), vec![-9999i16, 12], Some(-9999)).unwrap();
        let any = AnyRaster::I16(r);
        assert_eq!(any.kind_name(), "i16");
        let f = any.to_f32();
        assert_eq!(f.data, vec![-9999.0, 12.0]);
        assert_eq!(f.nodata, Some(-9999.0));
        assert_eq!(any.spec(), &spec(2, 1));
    }

    #[test]
    fn nodata_text_round_trips() {
        for v in [f32::MIN, -9999.0, 0.1, 1e-30, f32::MAX] {
            assert_eq!(f32::parse_nodata(&v.format_nodata()), Some(v));
        }
        assert!(
            f32::parse_nodata(&f32::NAN.format_nodata())
                .unwrap()
                .is_nan()
        );
        assert_eq!(u8::parse_nodata("-9999"), None);
        assert_eq!(i16::parse_nodata("-9999.0"), Some(-9999));
        assert_eq!(u16::parse_nodata(" 65535 "), Some(65535));
    }

    #[test]
    fn predictors_invert() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for n in [1usize, 2, 4, 8] {
            for spp in [1usize, 3] {
                let row_bytes = 7 * spp * n;
                let orig: Vec<u8> = (0..row_bytes * 3).map(|_| rng.random()).collect();
                let mut b = orig.clone();
                horizontal_diff(&mut b, row_bytes, n, spp);
                assert_ne!(b, orig);
                horizontal_acc(&mut b, row_bytes, n, spp);
                assert_eq!(b, orig);
                let mut tmp = Vec::new();
                for row in b.chunks_exact_mut(row_bytes) {
                    fp_encode_row(row, &mut tmp, spp, n);
                }
                for row in b.chunks_exact_mut(row_bytes) {
                    fp_decode_row(row, &mut tmp, spp, n);
                }
                assert_eq!(b, orig);
            }
        }
        // Predictor 3 puts the most significant bytes first: 1.0f32 = 3f 80 00 00.
        let mut row = 1.0f32.to_le_bytes().to_vec();
        fp_encode_row(&mut row, &mut Vec::new(), 1, 4);
        assert_eq!(row, [0x3f, 0x80 - 0x3f, 0x00u8.wrapping_sub(0x80), 0]);
    }

    #[test]
    fn packbits_example_from_spec() {
        let raw = [
            0xFE, 0xAA, 0x02, 0x80, 0x00, 0x2A, 0xFD, 0xAA, 0x03, 0x80, 0x00, 0x2A, 0x22, 0xF7,
            0xAA,
        ];
        let out = packbits_decode(&raw, 24).unwrap();
        assert_eq!(
            out,
            [
                0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0xAA, 0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0x22,
                0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA
            ]
        );
        assert!(packbits_decode(&[0x05, 1, 2], 6).is_err());
    }

    /// Patch the type/count/value of an IFD entry of a file written by `encode_geotiff`.
    fn patch(bytes: &mut [u8], tag: u16, f: impl Fn(&mut [u8])) {
        let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        let n = u16::from_le_bytes([bytes[ifd], bytes[ifd + 1]]) as usize;
        for i in 0..n {
            let e = ifd + 2 + 12 * i;
            if u16::from_le_bytes([bytes[e], bytes[e + 1]]) == tag {
                f(&mut bytes[e..e + 12]);
                return;
            }
        }
        panic!("tag {tag} not found");
    }

    fn small() -> Vec<u8> {
        let r = Raster::from_vec(
            spec(5, 3),
            (0..15).map(|v| v as f32 * 1.5).collect(),
            Some(-1.0),
        )
        .unwrap();
        encode_geotiff(&r, &GeoTiffOptions::default()).unwrap()
    }

    fn err_text(bytes: &[u8]) -> String {
        decode_geotiff(bytes, Path::new("bad.tif"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_input_errors() {
        assert!(err_text(&[]).contains("empty file"));
        assert!(err_text(b"GIF89a\0\0\0\0").contains("not a TIFF"));
        assert!(err_text(b"II\x2b\0\x04\0\0\0").contains("BigTIFF offset size"));
        assert!(err_text(b"II*\0\0\0\0\0").contains("no image"));

        let good = small();
        // Every prefix must fail cleanly (the IFD sits at the end).
        for len in 0..good.len() {
            assert!(
                decode_geotiff(&good[..len], Path::new("t.tif")).is_err(),
                "{len}"
            );
        }
        // ImageWidth as ASCII.
        let mut b = good.clone();
        patch(&mut b, IMAGE_WIDTH, |e| {
            e[2..4].copy_from_slice(&2u16.to_le_bytes())
        });
        let m = err_text(&b);
        assert!(m.contains("ImageWidth (256)") && m.contains("ASCII"), "{m}");
        // ModelPixelScale with 2 values.
        let mut b = good.clone();
        patch(&mut b, MODEL_PIXEL_SCALE, |e| {
            e[4..8].copy_from_slice(&2u32.to_le_bytes())
        });
        let m = err_text(&b);
        assert!(
            m.contains("ModelPixelScale") && m.contains("2 values"),
            "{m}"
        );
        // Huge dimensions.
        let mut b = good.clone();
        patch(&mut b, IMAGE_WIDTH, |e| {
            e[8..12].copy_from_slice(&1_000_000u32.to_le_bytes())
        });
        patch(&mut b, IMAGE_LENGTH, |e| {
            e[8..12].copy_from_slice(&1_000_000u32.to_le_bytes())
        });
        assert!(err_text(&b).contains("exceeds the 4 GiB limit"));
        // A tile offset past the end of the file.
        let mut b = good.clone();
        patch(&mut b, TILE_OFFSETS, |e| {
            e[8..12].copy_from_slice(&u32::MAX.to_le_bytes())
        });
        let m = err_text(&b);
        assert!(
            m.contains("tile 0") && m.contains("runs past the end"),
            "{m}"
        );
        // Garbage compressed data.
        let mut b = good.clone();
        b[8..20].fill(0x55);
        assert!(err_text(&b).contains("Deflate"));
        // Unsupported compression.
        let mut b = good;
        patch(&mut b, COMPRESSION, |e| {
            e[8..10].copy_from_slice(&7u16.to_le_bytes())
        });
        assert!(err_text(&b).contains("JPEG"));
    }

    #[test]
    fn random_corruption_never_panics() {
        let good = small();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..2000 {
            let mut b = good.clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            let _ = decode_geotiff(&b, Path::new("fuzz.tif"));
        }
    }

    #[test]
    fn no_georeference_and_pixel_is_point() {
        let mut b = small();
        // Drop the CRS and georeference by renaming the tags to private ones.
        for tag in [MODEL_PIXEL_SCALE, MODEL_TIEPOINT, GEO_KEY_DIRECTORY] {
            patch(&mut b, tag, |e| {
                e[0..2].copy_from_slice(&(65000 + tag % 100).to_le_bytes())
            });
        }
        let r = decode_geotiff(&b, Path::new("plain.tif")).unwrap();
        let s = r.spec();
        assert_eq!(
            (s.origin_x, s.origin_y, s.cell_x, s.cell_y, s.epsg),
            (0.0, 0.0, 1.0, 1.0, None)
        );

        // PixelIsPoint shifts the origin by half a cell.
        let b = small();
        let ifd = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
        let mut b2 = b.clone();
        let key = [GT_RASTER_TYPE, 0, 1, 1]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>();
        let at = b2[ifd..].windows(8).position(|w| w == key).unwrap() + ifd;
        b2[at + 6..at + 8].copy_from_slice(&2u16.to_le_bytes());
        let s = *decode_geotiff(&b2, Path::new("p.tif")).unwrap().spec();
        assert_eq!(s.origin_x, spec(5, 3).origin_x - 0.25);
        assert_eq!(s.origin_y, spec(5, 3).origin_y + 1.0);
        assert_eq!(s.epsg, Some(25832));
    }

    #[test]
    fn write_is_atomic_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tif");
        let r = Raster::from_vec(spec(3, 2), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], None).unwrap();
        write_geotiff(&r, &p, &GeoTiffOptions::default()).unwrap();
        assert_eq!(read_geotiff_f32(&p).unwrap(), r);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A failing write leaves nothing behind.
        let bad = dir.path().join("missing").join("y.tif");
        assert!(write_geotiff(&r, &bad, &GeoTiffOptions::default()).is_err());
        let opts = GeoTiffOptions {
            layout: Layout::Tiles { size: 20 },
            ..Default::default()
        };
        assert!(encode_geotiff(&r, &opts).is_err());
    }
}
