//! Orbit camera view model: a camera circling a focus point over the city.
//!
//! Everything is in the city frame: x east, y north, z up, metres. The bevy layer converts
//! to its own frame (y up) when it places the camera.
//!
//! The camera is described by
//! - `focus`: the point it looks at and orbits around,
//! - `yaw_deg`: the compass bearing of the viewing direction (0 = looking north, 90 = looking
//!   east, clockwise from north as seen from above),
//! - `pitch_deg`: how far the view points below the horizon (5° = almost level, 90° = straight
//!   down; kept in [`MIN_PITCH_DEG`]..=[`MAX_PITCH_DEG`] so the view never flips over),
//! - `distance_m`: the distance from the eye to the focus.
//!
//! So the eye is at `focus - distance_m * forward()`.

use crate::error::{Result, ViewError};

/// Smallest pitch below the horizon, degrees (the view stays slightly tilted down).
pub const MIN_PITCH_DEG: f64 = 5.0;
/// Largest pitch below the horizon, degrees (just short of straight down, so yaw stays defined).
pub const MAX_PITCH_DEG: f64 = 89.5;
/// Largest image side accepted by [`parse_size`], pixels.
pub const MAX_IMAGE_SIDE_PX: u32 = 8192;
/// Pitch of [`OrbitCamera::overview`], degrees below the horizon.
pub const OVERVIEW_PITCH_DEG: f64 = 45.0;
/// Degrees of orbit for a drag across the full viewport height in
/// [`OrbitCamera::orbit_screen`].
pub const ORBIT_DEG_PER_VIEWPORT: f64 = 180.0;

/// Bounds for the camera distance used by [`OrbitCamera::zoom`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Closest allowed distance from eye to focus, metres (> 0).
    pub min_distance_m: f64,
    /// Farthest allowed distance from eye to focus, metres (>= `min_distance_m`).
    pub max_distance_m: f64,
}

impl Default for Limits {
    /// 2 m to 200 km: from street level to a whole region.
    fn default() -> Self {
        Limits {
            min_distance_m: 2.0,
            max_distance_m: 200_000.0,
        }
    }
}

impl Limits {
    /// Limits suited to a city with the given bounding box: from 2 m up to five times the
    /// box diagonal (at least 100 m), so the whole city can always be brought into view.
    pub fn for_bbox(min: [f64; 3], max: [f64; 3]) -> Limits {
        let diag = (0..3)
            .map(|i| {
                let d = max[i] - min[i];
                if d.is_finite() { d * d } else { 0.0 }
            })
            .sum::<f64>()
            .sqrt();
        Limits {
            min_distance_m: 2.0,
            max_distance_m: (5.0 * diag).max(100.0),
        }
    }

    /// `d` clamped into these limits (a NaN limit or `d` gives the lower limit).
    fn clamp(&self, d: f64) -> f64 {
        let lo = if self.min_distance_m.is_finite() && self.min_distance_m > 0.0 {
            self.min_distance_m
        } else {
            f64::MIN_POSITIVE
        };
        let hi = if self.max_distance_m.is_nan() {
            lo
        } else {
            self.max_distance_m.max(lo)
        };
        if d.is_nan() { lo } else { d.clamp(lo, hi) }
    }
}

/// A camera orbiting `focus` (see the module docs for the conventions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    /// The point looked at, city frame, metres.
    pub focus: [f64; 3],
    /// Compass bearing of the viewing direction, degrees clockwise from north, in [0, 360).
    pub yaw_deg: f64,
    /// Angle of the viewing direction below the horizon, degrees,
    /// in [`MIN_PITCH_DEG`]..=[`MAX_PITCH_DEG`].
    pub pitch_deg: f64,
    /// Distance from the eye to the focus, metres (> 0).
    pub distance_m: f64,
}

impl Default for OrbitCamera {
    /// Looking north at 45° from 500 m onto the origin.
    fn default() -> Self {
        OrbitCamera {
            focus: [0.0; 3],
            yaw_deg: 0.0,
            pitch_deg: OVERVIEW_PITCH_DEG,
            distance_m: 500.0,
        }
    }
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn normalize(a: [f64; 3]) -> [f64; 3] {
    let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    if n > 0.0 && n.is_finite() {
        scale(a, 1.0 / n)
    } else {
        a
    }
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `deg` wrapped into [0, 360).
fn wrap_deg(deg: f64) -> f64 {
    let w = deg.rem_euclid(360.0);
    // rem_euclid of a tiny negative number can round to exactly 360.
    if w >= 360.0 { 0.0 } else { w }
}

/// Half-angle tangent of a vertical field of view; a sane 60° when the input is unusable.
fn half_tan(fov_y_rad: f64) -> f64 {
    let fov = if fov_y_rad.is_finite() && fov_y_rad > 0.0 && fov_y_rad < std::f64::consts::PI {
        fov_y_rad
    } else {
        std::f64::consts::FRAC_PI_3
    };
    (fov / 2.0).tan()
}

impl OrbitCamera {
    /// Unit vector of the viewing direction (from the eye towards the focus).
    pub fn forward(&self) -> [f64; 3] {
        let (sy, cy) = self.yaw_deg.to_radians().sin_cos();
        let (sp, cp) = self.pitch_deg.to_radians().sin_cos();
        [cp * sy, cp * cy, -sp]
    }

    /// Unit vector pointing to the right of the view, horizontal (in the ground plane).
    pub fn right(&self) -> [f64; 3] {
        let (sy, cy) = self.yaw_deg.to_radians().sin_cos();
        [cy, -sy, 0.0]
    }

    /// Unit vector of the viewing direction projected onto the ground plane.
    pub fn ground_forward(&self) -> [f64; 3] {
        let (sy, cy) = self.yaw_deg.to_radians().sin_cos();
        [sy, cy, 0.0]
    }

    /// Unit up vector of the image (perpendicular to [`forward`](Self::forward), derived from
    /// z up; it has a positive z component).
    pub fn up(&self) -> [f64; 3] {
        cross(self.right(), self.forward())
    }

    /// Position of the eye: `focus - distance_m * forward()`.
    pub fn eye(&self) -> [f64; 3] {
        add(self.focus, scale(self.forward(), -self.distance_m))
    }

    /// Turn the camera around the focus: yaw by `d_yaw_deg` (clockwise seen from above,
    /// wrapped into [0, 360)) and pitch by `d_pitch_deg` (positive = look down more),
    /// clamped to [`MIN_PITCH_DEG`]..=[`MAX_PITCH_DEG`]. Non-finite deltas are ignored.
    pub fn orbit(&mut self, d_yaw_deg: f64, d_pitch_deg: f64) {
        if d_yaw_deg.is_finite() {
            self.yaw_deg = wrap_deg(self.yaw_deg + d_yaw_deg);
        }
        if d_pitch_deg.is_finite() {
            self.pitch_deg = (self.pitch_deg + d_pitch_deg).clamp(MIN_PITCH_DEG, MAX_PITCH_DEG);
        }
    }

    /// Orbit from a screen drag (`dx_px` right, `dy_px` down): a drag over the full viewport
    /// height turns the camera by [`ORBIT_DEG_PER_VIEWPORT`] degrees. As in common orbit
    /// controls, dragging right moves the camera to the left round the focus (the ground in
    /// front of the viewer follows the finger) and dragging down tilts the view further down
    /// (towards a map view). Ignored for an unusable viewport height.
    pub fn orbit_screen(&mut self, dx_px: f64, dy_px: f64, viewport_h_px: f64) {
        if !(viewport_h_px.is_finite() && viewport_h_px > 0.0) {
            return;
        }
        let k = ORBIT_DEG_PER_VIEWPORT / viewport_h_px;
        self.orbit(dx_px * k, dy_px * k);
    }

    /// Metres on a plane through the focus, perpendicular to the view, covered by one pixel.
    pub fn metres_per_px(&self, viewport_h_px: f64, fov_y_rad: f64) -> f64 {
        if !(viewport_h_px.is_finite() && viewport_h_px > 0.0) {
            return 0.0;
        }
        2.0 * self.distance_m * half_tan(fov_y_rad) / viewport_h_px
    }

    /// Pan by a screen drag so that the ground under the finger stays under it.
    ///
    /// `dx_px` right and `dy_px` down (screen convention). A horizontal drag of `dx_px` moves
    /// the focus by `dx_px` times [`metres_per_px`](Self::metres_per_px) to the left; a
    /// vertical drag moves it along the ground by the same amount divided by
    /// `sin(pitch)` (a pixel on the screen covers more ground when the view is oblique), away
    /// from the viewer when dragging down. Exact at the focus for small drags. Non-finite
    /// input is ignored.
    pub fn pan_screen(&mut self, dx_px: f64, dy_px: f64, viewport_h_px: f64, fov_y_rad: f64) {
        if !(dx_px.is_finite() && dy_px.is_finite()) {
            return;
        }
        let m = self.metres_per_px(viewport_h_px, fov_y_rad);
        let sp = self.pitch_deg.to_radians().sin().max(1e-6);
        self.pan_world(-dx_px * m, dy_px * m / sp);
    }

    /// Move the focus in the ground plane relative to the view: `dx_m` to the right, `dy_m`
    /// forward (along the viewing direction projected onto the ground). Non-finite input is
    /// ignored.
    pub fn pan_world(&mut self, dx_m: f64, dy_m: f64) {
        if !(dx_m.is_finite() && dy_m.is_finite()) {
            return;
        }
        let d = add(
            scale(self.right(), dx_m),
            scale(self.ground_forward(), dy_m),
        );
        self.focus[0] += d[0];
        self.focus[1] += d[1];
    }

    /// Multiply the distance by `factor` (< 1 moves closer), clamped to `limits`.
    /// A non-finite or non-positive factor is ignored.
    pub fn zoom(&mut self, factor: f64, limits: &Limits) {
        if factor.is_finite() && factor > 0.0 {
            self.distance_m = limits.clamp(self.distance_m * factor);
        }
    }

    /// Keep the focus over the city: clamp it into the box `min`..`max` (all three axes).
    /// An axis with an unusable range (non-finite or min > max) is left alone.
    pub fn clamp_focus(&mut self, min: [f64; 3], max: [f64; 3]) {
        for i in 0..3 {
            if min[i].is_finite() && max[i].is_finite() && min[i] <= max[i] {
                self.focus[i] = self.focus[i].clamp(min[i], max[i]);
            }
        }
    }

    /// A camera that shows the whole box `min`..`max`, looking north at
    /// [`OVERVIEW_PITCH_DEG`]: the focus is the box centre and the distance makes the box's
    /// bounding sphere fit the narrower of the vertical and horizontal fields of view
    /// (`aspect` = width / height). An empty or non-finite box gives a camera on the origin
    /// (or the finite corner) at 100 m.
    pub fn overview(min: [f64; 3], max: [f64; 3], fov_y_rad: f64, aspect: f64) -> OrbitCamera {
        let mut focus = [0.0; 3];
        let mut r2 = 0.0;
        for i in 0..3 {
            let (a, b) = (min[i], max[i]);
            if a.is_finite() && b.is_finite() && a <= b {
                focus[i] = 0.5 * (a + b);
                r2 += 0.25 * (b - a) * (b - a);
            } else if a.is_finite() {
                focus[i] = a;
            } else if b.is_finite() {
                focus[i] = b;
            }
        }
        let radius = r2.sqrt();
        let ty = half_tan(fov_y_rad);
        let aspect = if aspect.is_finite() && aspect > 0.0 {
            aspect
        } else {
            1.0
        };
        let t = ty.min(ty * aspect);
        // Sphere fits when sin(half angle) * distance >= radius.
        let sin_half = t / (1.0 + t * t).sqrt();
        let distance = (radius / sin_half).max(100.0);
        OrbitCamera {
            focus,
            yaw_deg: 0.0,
            pitch_deg: OVERVIEW_PITCH_DEG,
            distance_m: distance,
        }
    }

    /// Read a `--camera` value `x,y,z,yaw_deg,pitch_deg,distance_m` (focus in the city CRS,
    /// metres; angles as in [`OrbitCamera`]). Spaces around the numbers are allowed. The yaw
    /// is wrapped into [0, 360); a pitch outside 5..=89.5 or a distance <= 0 is an error.
    pub fn parse(spec: &str) -> Result<OrbitCamera> {
        const WHAT: &str = "--camera";
        const FORM: &str =
            "expected x,y,z,yaw_deg,pitch_deg,distance_m, e.g. 389500,5819000,40,30,45,800";
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        if parts.len() != 6 {
            return Err(ViewError::arg(
                WHAT,
                format!("'{spec}': {} values given; {FORM}", parts.len()),
            ));
        }
        const NAMES: [&str; 6] = ["x", "y", "z", "yaw_deg", "pitch_deg", "distance_m"];
        let mut v = [0.0; 6];
        for (i, p) in parts.iter().enumerate() {
            v[i] = p
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    ViewError::arg(
                        WHAT,
                        format!(
                            "'{spec}': {} '{p}' is not a finite number; {FORM}",
                            NAMES[i]
                        ),
                    )
                })?;
        }
        if !(MIN_PITCH_DEG..=MAX_PITCH_DEG).contains(&v[4]) {
            return Err(ViewError::arg(
                WHAT,
                format!(
                    "'{spec}': pitch_deg {} outside {MIN_PITCH_DEG}..={MAX_PITCH_DEG} (degrees below the horizon)",
                    v[4]
                ),
            ));
        }
        if v[5] <= 0.0 {
            return Err(ViewError::arg(
                WHAT,
                format!("'{spec}': distance_m {} must be > 0", v[5]),
            ));
        }
        Ok(OrbitCamera {
            focus: [v[0], v[1], v[2]],
            yaw_deg: wrap_deg(v[3]),
            pitch_deg: v[4],
            distance_m: v[5],
        })
    }

    /// The `--camera` text of this camera; [`parse`](Self::parse) reads it back exactly
    /// (for a yaw in [0, 360) and a valid pitch and distance).
    pub fn to_spec(&self) -> String {
        format!(
            "{},{},{},{},{},{}",
            self.focus[0],
            self.focus[1],
            self.focus[2],
            self.yaw_deg,
            self.pitch_deg,
            self.distance_m
        )
    }

    /// The picking ray through the image point (`px`, `py`) of a `width` x `height` pixel
    /// perspective image with vertical field of view `fov_y_rad`.
    ///
    /// Pixel coordinates are continuous with (0, 0) at the top-left corner, x right, y down
    /// (the centre of pixel (i, j) is (i + 0.5, j + 0.5)); the image centre maps to
    /// [`forward`](Self::forward). Returns (origin = [`eye`](Self::eye), unit direction).
    /// An unusable image size gives the central ray.
    pub fn ray_through(
        &self,
        px: f64,
        py: f64,
        width: f64,
        height: f64,
        fov_y_rad: f64,
    ) -> ([f64; 3], [f64; 3]) {
        let fwd = self.forward();
        let usable = width.is_finite()
            && height.is_finite()
            && width > 0.0
            && height > 0.0
            && px.is_finite()
            && py.is_finite();
        if !usable {
            return (self.eye(), fwd);
        }
        let t = half_tan(fov_y_rad);
        let half_h = 0.5 * height;
        let sx = (px - 0.5 * width) / half_h * t;
        let sy = (half_h - py) / half_h * t;
        let dir = normalize(add(fwd, add(scale(self.right(), sx), scale(self.up(), sy))));
        (self.eye(), dir)
    }
}

/// Read an image size `WIDTHxHEIGHT` such as `1280x720` (`X` also accepted), each side
/// 1..=[`MAX_IMAGE_SIDE_PX`] pixels.
pub fn parse_size(spec: &str) -> Result<(u32, u32)> {
    const WHAT: &str = "--size";
    let t = spec.trim();
    let Some((w, h)) = t.split_once(['x', 'X']) else {
        return Err(ViewError::arg(
            WHAT,
            format!("'{spec}': expected WIDTHxHEIGHT in pixels, e.g. 1280x720"),
        ));
    };
    let side = |s: &str, name: &str| -> Result<u32> {
        let v: u32 = s.trim().parse().map_err(|_| {
            ViewError::arg(
                WHAT,
                format!(
                    "'{spec}': {name} '{}' is not a whole number of pixels",
                    s.trim()
                ),
            )
        })?;
        if v == 0 || v > MAX_IMAGE_SIDE_PX {
            return Err(ViewError::arg(
                WHAT,
                format!("'{spec}': {name} {v} outside 1..={MAX_IMAGE_SIDE_PX} pixels"),
            ));
        }
        Ok(v)
    };
    Ok((side(w, "width")?, side(h, "height")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-9;

    fn close(a: [f64; 3], b: [f64; 3], eps: f64) -> bool {
        (0..3).all(|i| (a[i] - b[i]).abs() <= eps)
    }

    fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }

    fn cam(yaw: f64, pitch: f64) -> OrbitCamera {
        OrbitCamera {
            focus: [100.0, 200.0, 10.0],
            yaw_deg: yaw,
            pitch_deg: pitch,
            distance_m: 50.0,
        }
    }

    #[test]
    fn looking_north_puts_the_eye_south_and_up() {
        let c = cam(0.0, 45.0);
        let s = 50.0 * std::f64::consts::FRAC_1_SQRT_2;
        assert!(close(c.eye(), [100.0, 200.0 - s, 10.0 + s], 1e-9));
        assert!(close(c.right(), [1.0, 0.0, 0.0], EPS));
        let up = c.up();
        assert!(up[2] > 0.0 && up[1] > 0.0);
        assert!(dot(up, c.forward()).abs() < EPS);
    }

    #[test]
    fn yaw_is_a_compass_bearing() {
        let c = cam(90.0, 30.0);
        let f = c.forward();
        assert!(f[0] > 0.0 && f[1].abs() < EPS && f[2] < 0.0, "{f:?}");
        assert!(close(c.right(), [0.0, -1.0, 0.0], EPS));
        let c = cam(180.0, 30.0);
        assert!(c.forward()[1] < 0.0);
        assert!(close(c.right(), [-1.0, 0.0, 0.0], EPS));
    }

    #[test]
    fn eye_distance_and_direction_agree() {
        let c = cam(37.0, 61.0);
        let e = c.eye();
        let d = [c.focus[0] - e[0], c.focus[1] - e[1], c.focus[2] - e[2]];
        assert!((dot(d, d).sqrt() - 50.0).abs() < 1e-9);
        assert!(close(normalize(d), c.forward(), 1e-12));
    }

    #[test]
    fn orbit_wraps_yaw_and_clamps_pitch() {
        let mut c = cam(350.0, 45.0);
        c.orbit(20.0, 100.0);
        assert!((c.yaw_deg - 10.0).abs() < 1e-9);
        assert_eq!(c.pitch_deg, MAX_PITCH_DEG);
        c.orbit(-30.0, -200.0);
        assert!((c.yaw_deg - 340.0).abs() < 1e-9);
        assert_eq!(c.pitch_deg, MIN_PITCH_DEG);
        c.orbit(f64::NAN, f64::INFINITY);
        assert!((c.yaw_deg - 340.0).abs() < 1e-9);
        assert_eq!(c.pitch_deg, MIN_PITCH_DEG);
        c.orbit(-1e-20, 0.0);
        assert!((0.0..360.0).contains(&c.yaw_deg));
    }

    #[test]
    fn orbit_screen_scales_with_viewport() {
        let mut c = cam(0.0, 45.0);
        c.orbit_screen(100.0, 50.0, 1000.0);
        assert!((c.yaw_deg - 18.0).abs() < 1e-9);
        assert!((c.pitch_deg - 54.0).abs() < 1e-9);
        // Dragging right moves the eye to the left (west when looking north).
        assert!(c.eye()[0] < c.focus[0]);
        c.orbit_screen(1.0, 1.0, 0.0);
        assert!((c.yaw_deg - 18.0).abs() < 1e-9);
    }

    #[test]
    fn pan_screen_keeps_ground_under_finger() {
        // Top-down-ish view: a point on the ground under a pixel stays under the dragged pixel.
        let fov = 50f64.to_radians();
        let (w, h) = (800.0, 600.0);
        for &(yaw, pitch) in &[(0.0, 89.5), (30.0, 60.0), (200.0, 35.0)] {
            let mut c = cam(yaw, pitch);
            c.focus[2] = 0.0;
            let hit = |c: &OrbitCamera, px: f64, py: f64| {
                let (o, d) = c.ray_through(px, py, w, h, fov);
                let t = -o[2] / d[2];
                [o[0] + t * d[0], o[1] + t * d[1]]
            };
            let before = hit(&c, 400.0, 300.0);
            c.pan_screen(2.0, -1.5, h, fov);
            let after = hit(&c, 402.0, 298.5);
            let err = ((before[0] - after[0]).powi(2) + (before[1] - after[1]).powi(2)).sqrt();
            // Small drag: first-order exact; the residual is second order in the drag.
            let step = c.metres_per_px(h, fov) * 2.5 / c.pitch_deg.to_radians().sin();
            assert!(
                err < 0.02 * step,
                "yaw {yaw} pitch {pitch}: err {err} step {step}"
            );
        }
    }

    #[test]
    fn pan_world_is_relative_to_view() {
        let mut c = cam(90.0, 45.0);
        c.pan_world(10.0, 5.0);
        // Looking east: right is south, forward is east.
        assert!(close(c.focus, [105.0, 190.0, 10.0], 1e-9));
        c.pan_world(f64::NAN, 1.0);
        assert!(close(c.focus, [105.0, 190.0, 10.0], 1e-9));
    }

    #[test]
    fn zoom_clamps_and_ignores_bad_factors() {
        let mut c = cam(0.0, 45.0);
        let lim = Limits {
            min_distance_m: 10.0,
            max_distance_m: 1000.0,
        };
        c.zoom(0.5, &lim);
        assert_eq!(c.distance_m, 25.0);
        c.zoom(0.01, &lim);
        assert_eq!(c.distance_m, 10.0);
        c.zoom(1e9, &lim);
        assert_eq!(c.distance_m, 1000.0);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            c.zoom(bad, &lim);
            assert_eq!(c.distance_m, 1000.0);
        }
        let l = Limits::for_bbox([0.0; 3], [300.0, 400.0, 0.0]);
        assert_eq!(l.max_distance_m, 2500.0);
        assert!(Limits::default().min_distance_m > 0.0);
    }

    #[test]
    fn clamp_focus_keeps_focus_over_city() {
        let mut c = cam(0.0, 45.0);
        c.focus = [-50.0, 5000.0, 3.0];
        c.clamp_focus([0.0, 0.0, 0.0], [1000.0, 1000.0, 50.0]);
        assert_eq!(c.focus, [0.0, 1000.0, 3.0]);
        c.clamp_focus([f64::NAN, 10.0, 0.0], [1.0, 5.0, 1.0]);
        assert_eq!(c.focus, [0.0, 1000.0, 1.0]);
    }

    #[test]
    fn overview_fits_the_city() {
        let min = [1000.0, 2000.0, 0.0];
        let max = [3000.0, 3000.0, 100.0];
        let fov = 45f64.to_radians();
        for aspect in [0.5, 1.0, 16.0 / 9.0] {
            let c = OrbitCamera::overview(min, max, fov, aspect);
            assert_eq!(c.yaw_deg, 0.0);
            assert_eq!(c.pitch_deg, OVERVIEW_PITCH_DEG);
            assert!(close(c.focus, [2000.0, 2500.0, 50.0], 1e-9));
            // Every box corner projects inside the image.
            let (f, r, u) = (c.forward(), c.right(), c.up());
            let e = c.eye();
            let ty = (fov / 2.0).tan();
            for k in 0..8 {
                let p = [
                    if k & 1 == 0 { min[0] } else { max[0] },
                    if k & 2 == 0 { min[1] } else { max[1] },
                    if k & 4 == 0 { min[2] } else { max[2] },
                ];
                let d = [p[0] - e[0], p[1] - e[1], p[2] - e[2]];
                let z = dot(d, f);
                assert!(z > 0.0);
                assert!(dot(d, u).abs() / z <= ty + 1e-9);
                assert!(dot(d, r).abs() / z <= ty * aspect + 1e-9);
            }
        }
        let c = OrbitCamera::overview([f64::NAN; 3], [1.0, f64::INFINITY, 2.0], fov, f64::NAN);
        assert!(c.focus.iter().all(|v| v.is_finite()));
        assert!(c.distance_m.is_finite() && c.distance_m > 0.0);
    }

    #[test]
    fn parse_and_to_spec_round_trip() {
        let c = OrbitCamera::parse(" 389500.25, 5819000 ,40,30,45,800").unwrap();
        assert_eq!(c.focus, [389500.25, 5819000.0, 40.0]);
        assert_eq!((c.yaw_deg, c.pitch_deg, c.distance_m), (30.0, 45.0, 800.0));
        let c2 = OrbitCamera {
            focus: [0.1 + 0.2, -1e-7, 123456.789],
            yaw_deg: 359.999,
            pitch_deg: 89.5,
            distance_m: 1.0 / 3.0,
        };
        assert_eq!(OrbitCamera::parse(&c2.to_spec()).unwrap(), c2);
        assert_eq!(OrbitCamera::parse("0,0,0,-90,45,1").unwrap().yaw_deg, 270.0);
    }

    #[test]
    fn parse_rejects_bad_specs_with_clear_errors() {
        for (spec, needle) in [
            ("1,2,3", "3 values"),
            ("1,2,3,4,5,6,7", "7 values"),
            ("1,2,z,0,45,10", "z 'z'"),
            ("1,2,3,0,45,nan", "distance_m 'nan'"),
            ("1,2,3,inf,45,10", "yaw_deg"),
            ("1,2,3,0,90,10", "pitch_deg 90"),
            ("1,2,3,0,4,10", "pitch_deg 4"),
            ("1,2,3,0,45,0", "distance_m 0"),
            ("", "1 values"),
        ] {
            let e = OrbitCamera::parse(spec).unwrap_err().to_string();
            assert!(e.starts_with("--camera: "), "{e}");
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn parse_size_accepts_and_rejects() {
        assert_eq!(parse_size("1280x720").unwrap(), (1280, 720));
        assert_eq!(parse_size(" 8192X1 ").unwrap(), (8192, 1));
        for bad in [
            "0x720", "1280x0", "8193x10", "1280", "ax720", "12.5x3", "-1x2", "x",
        ] {
            let e = parse_size(bad).unwrap_err().to_string();
            assert!(e.contains(bad.trim()), "{e}");
        }
    }

    #[test]
    fn ray_through_centre_and_corners() {
        let c = cam(123.0, 40.0);
        let fov = 60f64.to_radians();
        let (o, d) = c.ray_through(320.0, 240.0, 640.0, 480.0, fov);
        assert!(close(o, c.eye(), 1e-12));
        assert!(close(d, c.forward(), 1e-12));
        // Top edge centre is fov/2 above the forward direction.
        let (_, d) = c.ray_through(320.0, 0.0, 640.0, 480.0, fov);
        assert!((dot(d, c.forward()).acos() - fov / 2.0).abs() < 1e-12);
        assert!(dot(d, c.up()) > 0.0);
        // Pixel to the right points to the right.
        let (_, d) = c.ray_through(600.0, 240.0, 640.0, 480.0, fov);
        assert!(dot(d, c.right()) > 0.0);
        assert!((dot(d, d) - 1.0).abs() < 1e-12);
        // Unusable input: central ray.
        let (_, d) = c.ray_through(f64::NAN, 0.0, 640.0, 0.0, fov);
        assert!(close(d, c.forward(), 1e-12));
    }

    #[test]
    fn ray_through_the_focus_pixel_hits_the_focus() {
        let c = cam(10.0, 70.0);
        let (o, d) = c.ray_through(50.0, 50.0, 100.0, 100.0, 1.0);
        let hit = add(o, scale(d, c.distance_m));
        assert!(close(hit, c.focus, 1e-9));
    }
}
