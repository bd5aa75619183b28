//! Legends and captions drawn into exported images (screenshots for reports), with the
//! embedded bitmap font of `twin_core::render`: what the window shows in its panels, the
//! PNG carries on its own.

use twin_core::render::{FONT_HEIGHT, draw_text_rgb, text_width_px};

use crate::layers::{Legend, Scale};

/// An RGB image being annotated.
pub struct Annotator<'a> {
    pub rgb: &'a mut Vec<u8>,
    pub w: usize,
    pub h: usize,
}

impl Annotator<'_> {
    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, c: [u8; 3], alpha: f32) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                let i = (yy * self.w + xx) * 3;
                for (px, ck) in self.rgb[i..i + 3].iter_mut().zip(c) {
                    *px = (*px as f32 * (1.0 - alpha) + ck as f32 * alpha).round() as u8;
                }
            }
        }
    }

    fn text(&mut self, x: usize, y: usize, u: usize, bold: bool, c: [u8; 3], t: &str) {
        draw_text_rgb(self.rgb, self.w, self.h, x, y, u, bold, c, t);
    }
}

/// The font scale for an image: 1 below 700 px width, 2 up to 1800, 3 above.
pub fn font_scale(w: usize) -> usize {
    match w {
        0..700 => 1,
        700..1800 => 2,
        _ => 3,
    }
}

/// Draw a caption (top left: title and time) and the legend of `scale` (bottom left)
/// onto an RGB image. Returns false (and draws nothing) when the image is too small to
/// carry them legibly (under 160 × 120 px).
pub fn annotate(
    rgb: &mut Vec<u8>,
    w: usize,
    h: usize,
    caption: &[String],
    scale: Option<&Scale>,
) -> bool {
    if w < 160 || h < 120 || rgb.len() != w * h * 3 {
        return false;
    }
    let u = font_scale(w);
    let line = (FONT_HEIGHT + 4) * u;
    let pad = 6 * u;
    let mut a = Annotator { rgb, w, h };
    // Caption.
    let lines: Vec<&String> = caption.iter().filter(|l| !l.is_empty()).collect();
    if !lines.is_empty() {
        let tw = lines
            .iter()
            .enumerate()
            .map(|(i, l)| text_width_px(l, u, i == 0))
            .max()
            .unwrap_or(0);
        a.fill(
            0,
            0,
            (tw + 2 * pad).min(w),
            lines.len() * line + pad,
            [255, 255, 255],
            0.85,
        );
        for (i, l) in lines.iter().enumerate() {
            a.text(pad, pad / 2 + i * line + 2 * u, u, i == 0, [20, 20, 30], l);
        }
    }
    // Legend.
    let Some(s) = scale else {
        return true;
    };
    let heading = s.heading();
    match s.legend() {
        Legend::Bar { stops, ticks } => {
            let bar_w = (w / 3).clamp(120, 420 * u);
            let bar_h = 10 * u;
            let panel_w = bar_w.max(text_width_px(&heading, u, true)) + 2 * pad + 8 * u;
            let panel_h = line + bar_h + line + pad * 2;
            let (x0, y0) = (0, h.saturating_sub(panel_h));
            a.fill(x0, y0, panel_w.min(w), panel_h, [255, 255, 255], 0.88);
            a.text(x0 + pad, y0 + pad, u, true, [20, 20, 30], &heading);
            let by = y0 + pad + line;
            let bx = x0 + pad + 4 * u;
            for px in 0..bar_w {
                let f = px as f32 / (bar_w - 1).max(1) as f32;
                let k = ((f * (stops.len() - 1) as f32).round() as usize).min(stops.len() - 1);
                a.fill(bx + px, by, 1, bar_h, stops[k], 1.0);
            }
            for (f, label) in &ticks {
                let tx = bx + (f.clamp(0.0, 1.0) * (bar_w - 1) as f32).round() as usize;
                a.fill(tx, by + bar_h, u, 3 * u, [20, 20, 30], 1.0);
                let lw = text_width_px(label, u, false);
                let lx = tx
                    .saturating_sub(lw / 2)
                    .min(bx + bar_w - lw.min(bx + bar_w));
                a.text(lx, by + bar_h + 4 * u, u, false, [20, 20, 30], label);
            }
        }
        Legend::Classes(classes) => {
            let sw = 10 * u;
            let tw = classes
                .iter()
                .map(|c| text_width_px(&c.1, u, false))
                .chain(std::iter::once(text_width_px(&heading, u, true)))
                .max()
                .unwrap_or(0);
            let panel_w = tw + sw + 3 * pad;
            let panel_h = line * (classes.len() + 1) + pad * 2;
            let (x0, y0) = (0, h.saturating_sub(panel_h));
            a.fill(x0, y0, panel_w.min(w), panel_h, [255, 255, 255], 0.88);
            a.text(x0 + pad, y0 + pad, u, true, [20, 20, 30], &heading);
            for (i, (c, label)) in classes.iter().enumerate() {
                let y = y0 + pad + line * (i + 1);
                a.fill(x0 + pad, y, sw, sw, *c, 1.0);
                a.text(x0 + pad + sw + pad, y + u, u, false, [20, 20, 30], label);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::LayerKind;

    #[test]
    fn legend_draws_bar_colours_and_text() {
        let (w, h) = (640, 400);
        let mut rgb = vec![0u8; w * h * 3];
        let s = Scale::for_layer(LayerKind::MaxDepth, "Max flood depth", 0.0, 3.0);
        assert!(annotate(
            &mut rgb,
            w,
            h,
            &["demo".into(), "12:00".into()],
            Some(&s)
        ));
        // The caption box is near white, with dark text in it.
        let px = |x: usize, y: usize| &rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
        assert!(px(1, 1)[0] > 200);
        let dark = (0..40)
            .flat_map(|y| (0..100).map(move |x| (x, y)))
            .filter(|&(x, y)| px(x, y)[0] < 60)
            .count();
        assert!(dark > 20, "{dark}");
        // The bar's first and last colours are the ramp's ends.
        let ramp = twin_core::render::ColorRamp::depth();
        let found = |c: [u8; 3]| (0..h).any(|y| (0..w).any(|x| px(x, y) == c));
        assert!(found(ramp.at(0.0)) && found(ramp.at(1.0)));
        // Too small: nothing drawn.
        let mut small = vec![7u8; 100 * 100 * 3];
        assert!(!annotate(&mut small, 100, 100, &["x".into()], Some(&s)));
        assert!(small.iter().all(|&v| v == 7));
    }

    #[test]
    fn class_legend_has_swatches() {
        let (w, h) = (800, 600);
        let mut rgb = vec![0u8; w * h * 3];
        let s = Scale::for_layer(LayerKind::Hazard, "Flood hazard", 0.0, 3.0);
        assert!(annotate(&mut rgb, w, h, &[], Some(&s)));
        let px = |x: usize, y: usize| {
            [
                rgb[(y * w + x) * 3],
                rgb[(y * w + x) * 3 + 1],
                rgb[(y * w + x) * 3 + 2],
            ]
        };
        let found = |c: [u8; 3]| (h - 200..h).any(|y| (0..200).any(|x| px(x, y) == c));
        assert!(found([128, 18, 72]) && found([178, 222, 116]));
    }
}
