//! PNG images of the viewer: writing screenshots atomically, reading them back, and
//! comparing two renderings under a tolerance (the screenshot tests' golden images).

use std::path::Path;

use crate::error::{Result, ViewError};

/// Write an 8-bit RGB image as PNG through a temporary file and a rename.
pub fn write_rgb_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<()> {
    if rgb.len() != w as usize * h as usize * 3 {
        return Err(ViewError::arg(
            path.display().to_string(),
            format!("{} bytes for {w} × {h} RGB pixels", rgb.len()),
        ));
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc
            .write_header()
            .map_err(|e| ViewError::format(path, 0, e.to_string()))?;
        wr.write_image_data(rgb)
            .map_err(|e| ViewError::format(path, 0, e.to_string()))?;
    }
    twin_core::fsio::write_atomic(path, &bytes)?;
    Ok(())
}

/// An RGB image read back.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub w: u32,
    pub h: u32,
    pub rgb: Vec<u8>,
}

/// Read an 8-bit RGB or RGBA PNG (alpha dropped).
pub fn read_png_rgb(path: &Path) -> Result<RgbImage> {
    let f = std::fs::File::open(path).map_err(|e| ViewError::io(path, e))?;
    let dec = png::Decoder::new(std::io::BufReader::new(f));
    let mut r = dec
        .read_info()
        .map_err(|e| ViewError::format(path, 0, format!("not a PNG: {e}")))?;
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r
        .next_frame(&mut buf)
        .map_err(|e| ViewError::format(path, 0, format!("PNG data: {e}")))?;
    if info.bit_depth != png::BitDepth::Eight {
        return Err(ViewError::format(path, 0, "only 8-bit PNGs are compared"));
    }
    let ch = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        c => {
            return Err(ViewError::format(
                path,
                0,
                format!("colour type {c:?} not RGB(A)"),
            ));
        }
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(ch)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok(RgbImage {
        w: info.width,
        h: info.height,
        rgb,
    })
}

/// How two images of the same size differ.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ImageDiff {
    /// Mean absolute difference per channel (0..255).
    pub mean_abs: f64,
    /// Share of pixels where some channel differs by more than the threshold.
    pub share_over: f64,
    /// The largest channel difference.
    pub max_abs: u8,
}

/// Compare two images; `None` when their sizes differ.
pub fn diff(a: &RgbImage, b: &RgbImage, threshold: u8) -> Option<ImageDiff> {
    if a.w != b.w || a.h != b.h || a.rgb.len() != b.rgb.len() {
        return None;
    }
    let mut sum = 0u64;
    let mut over = 0usize;
    let mut max = 0u8;
    for (p, q) in a.rgb.chunks_exact(3).zip(b.rgb.chunks_exact(3)) {
        let mut px_over = false;
        for k in 0..3 {
            let d = p[k].abs_diff(q[k]);
            sum += d as u64;
            max = max.max(d);
            px_over |= d > threshold;
        }
        over += px_over as usize;
    }
    let n = (a.w as usize * a.h as usize).max(1);
    Some(ImageDiff {
        mean_abs: sum as f64 / (3 * n) as f64,
        share_over: over as f64 / n as f64,
        max_abs: max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_and_diff() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect();
        write_rgb_png(&p, 4, 3, &rgb).unwrap();
        let a = read_png_rgb(&p).unwrap();
        assert_eq!((a.w, a.h), (4, 3));
        assert_eq!(a.rgb, rgb);
        let mut b = a.clone();
        b.rgb[0] = b.rgb[0].wrapping_add(40);
        let d = diff(&a, &b, 10).unwrap();
        assert_eq!(d.max_abs, 40);
        assert!((d.share_over - 1.0 / 12.0).abs() < 1e-12);
        assert!(
            diff(
                &a,
                &RgbImage {
                    w: 3,
                    h: 4,
                    rgb: a.rgb.clone()
                },
                0
            )
            .is_none()
        );
        assert!(write_rgb_png(&p, 5, 3, &rgb).is_err());
        // The failed write left the old file.
        assert_eq!(read_png_rgb(&p).unwrap().rgb, rgb);
        std::fs::write(&p, b"not a png").unwrap();
        assert!(read_png_rgb(&p).unwrap_err().to_string().contains("a.png"));
    }
}
