//! Multi-touch gestures for a participation table.
//!
//! A [`TouchTracker`] is fed the raw touch events of a frame ([`TouchTracker::feed`]) and
//! once per frame hands out what they mean ([`TouchTracker::take`]):
//!
//! - **one finger dragging** orbits the camera ([`Gesture::orbit_px`], screen pixels, x right,
//!   y down);
//! - **two or more fingers** pan by the movement of their centroid ([`Gesture::pan_px`]) and
//!   pinch-zoom by the change of their spread ([`Gesture::zoom_factor`]);
//! - **a tap** is one finger down and up within [`TAP_MAX_DURATION_S`] that never moved
//!   [`TAP_MAX_MOVE_PX`] or more from where it touched down, with no other finger on the table
//!   at any time during it ([`Gesture::taps`]). A tap emits no orbit.
//!
//! # Zoom factor convention
//! `zoom_factor` multiplies the camera distance (as [`crate::camera::OrbitCamera::zoom`]
//! does): it is `previous spread / current spread`, so spreading the fingers gives a factor
//! below 1 (zoom in, the city grows under the fingers as on a phone map) and pinching them
//! together a factor above 1 (zoom out). The spread is the mean distance of the fingers from
//! their centroid; for two fingers the factor is the ratio of the finger distances.
//!
//! # No jumps
//! Movement is only ever computed from the change of one finger's position between two of
//! its events, with the set of fingers unchanged. When a finger is added or lifted the
//! centroid and spread are simply taken afresh from the new set, so going from two fingers to
//! one (or one to two) never moves the camera by itself.
//!
//! # Single-finger slop
//! While a single finger could still become a tap, its movement is held back; once it is
//! clearly a drag (it moved [`TAP_MAX_MOVE_PX`] or more, or stayed down longer than
//! [`TAP_MAX_DURATION_S`]) the held-back movement is released at once, so the total orbit
//! equals the total finger movement. When a second finger joins, the held-back movement is
//! dropped (the user meant to pan or pinch).

use std::collections::BTreeMap;

/// Longest touch that still counts as a tap, seconds.
pub const TAP_MAX_DURATION_S: f64 = 0.35;
/// A finger that moves this far (pixels) from where it touched down is a drag, not a tap.
pub const TAP_MAX_MOVE_PX: f32 = 12.0;
/// Fingers closer to their centroid than this (pixels) give no pinch zoom (the ratio would be
/// meaningless).
const MIN_SPREAD_PX: f32 = 2.0;

/// The phase of a touch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchPhase {
    /// A finger touched the table.
    Started,
    /// A finger moved.
    Moved,
    /// A finger was lifted.
    Ended,
    /// The system took the touch away (e.g. a palm was rejected); never a tap.
    Canceled,
}

/// One raw touch event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TouchEvent {
    /// Identifies the finger from `Started` to `Ended`/`Canceled`.
    pub id: u64,
    /// What happened.
    pub phase: TouchPhase,
    /// Position in window pixels, x right, y down.
    pub pos: [f32; 2],
    /// Time of the event, seconds on any monotonic clock.
    pub time_s: f64,
}

/// What the touches of one frame mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Gesture {
    /// One-finger drag, pixels (x right, y down), to orbit the camera.
    pub orbit_px: [f32; 2],
    /// Movement of the centroid of two or more fingers, pixels (x right, y down), to pan.
    pub pan_px: [f32; 2],
    /// Factor for the camera distance from pinching (< 1: fingers spread, zoom in; 1: none).
    pub zoom_factor: f32,
    /// Positions (pixels) where taps happened, in order, at the touch-down point.
    pub taps: Vec<[f32; 2]>,
}

impl Default for Gesture {
    fn default() -> Self {
        Gesture {
            orbit_px: [0.0; 2],
            pan_px: [0.0; 2],
            zoom_factor: 1.0,
            taps: Vec::new(),
        }
    }
}

impl Gesture {
    /// Whether this gesture asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.orbit_px == [0.0; 2]
            && self.pan_px == [0.0; 2]
            && self.zoom_factor == 1.0
            && self.taps.is_empty()
    }
}

/// A finger on the table.
#[derive(Debug, Clone, Copy)]
struct Finger {
    down_pos: [f32; 2],
    down_time_s: f64,
    pos: [f32; 2],
    /// Could still become a tap.
    tap_candidate: bool,
    /// Single-finger movement held back while it could still be a tap.
    pending: [f32; 2],
}

/// Turns touch events into [`Gesture`]s (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct TouchTracker {
    fingers: BTreeMap<u64, Finger>,
    out: Gesture,
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Centroid and spread (mean distance from the centroid) of the points.
fn centroid_spread(points: &[[f32; 2]]) -> ([f32; 2], f32) {
    let n = points.len().max(1) as f32;
    let c = points
        .iter()
        .fold([0.0f32; 2], |a, p| [a[0] + p[0], a[1] + p[1]]);
    let c = [c[0] / n, c[1] / n];
    let s = points.iter().map(|p| dist(*p, c)).sum::<f32>() / n;
    (c, s)
}

impl TouchTracker {
    /// An empty tracker.
    pub fn new() -> TouchTracker {
        TouchTracker::default()
    }

    /// Number of fingers on the table now.
    pub fn active(&self) -> usize {
        self.fingers.len()
    }

    /// Take in one event. Events with a non-finite position are ignored; a `Moved` for an
    /// unknown finger counts as a new finger (that can no longer be a tap), an `Ended` or
    /// `Canceled` for an unknown finger is ignored, and a `Started` for a finger already down
    /// restarts it.
    pub fn feed(&mut self, e: TouchEvent) {
        if !(e.pos[0].is_finite() && e.pos[1].is_finite()) {
            return;
        }
        match e.phase {
            TouchPhase::Started => self.start(e, true),
            TouchPhase::Moved => {
                if self.fingers.contains_key(&e.id) {
                    self.moved(e);
                } else {
                    self.start(e, false);
                }
            }
            TouchPhase::Ended => self.lift(e, true),
            TouchPhase::Canceled => self.lift(e, false),
        }
    }

    /// The gesture accumulated since the last call (call once per frame); resets it.
    pub fn take(&mut self) -> Gesture {
        std::mem::take(&mut self.out)
    }

    /// Forget all fingers and the accumulated gesture (e.g. when the window loses focus).
    pub fn clear(&mut self) {
        self.fingers.clear();
        self.out = Gesture::default();
    }

    fn start(&mut self, e: TouchEvent, may_tap: bool) {
        self.fingers.remove(&e.id);
        let alone = self.fingers.is_empty();
        // Another finger is involved: nobody on the table can be tapping any more, and
        // single-finger movement held back for a possible tap is dropped.
        for f in self.fingers.values_mut() {
            f.tap_candidate = false;
            f.pending = [0.0; 2];
        }
        self.fingers.insert(
            e.id,
            Finger {
                down_pos: e.pos,
                down_time_s: e.time_s,
                pos: e.pos,
                tap_candidate: may_tap && alone && e.time_s.is_finite(),
                pending: [0.0; 2],
            },
        );
    }

    fn moved(&mut self, e: TouchEvent) {
        let n = self.fingers.len();
        if n >= 2 {
            let before: Vec<[f32; 2]> = self.fingers.values().map(|f| f.pos).collect();
            if let Some(f) = self.fingers.get_mut(&e.id) {
                f.pos = e.pos;
            }
            let after: Vec<[f32; 2]> = self.fingers.values().map(|f| f.pos).collect();
            let (c0, s0) = centroid_spread(&before);
            let (c1, s1) = centroid_spread(&after);
            self.out.pan_px[0] += c1[0] - c0[0];
            self.out.pan_px[1] += c1[1] - c0[1];
            if s0 >= MIN_SPREAD_PX && s1 >= MIN_SPREAD_PX {
                self.out.zoom_factor *= s0 / s1;
            }
            return;
        }
        let Some(f) = self.fingers.get_mut(&e.id) else {
            return;
        };
        let d = [e.pos[0] - f.pos[0], e.pos[1] - f.pos[1]];
        f.pos = e.pos;
        if f.tap_candidate {
            f.pending[0] += d[0];
            f.pending[1] += d[1];
            let too_far = dist(f.pos, f.down_pos) >= TAP_MAX_MOVE_PX;
            let held_s = e.time_s - f.down_time_s;
            let too_long = held_s.is_nan() || held_s > TAP_MAX_DURATION_S;
            if too_far || too_long {
                f.tap_candidate = false;
                self.out.orbit_px[0] += f.pending[0];
                self.out.orbit_px[1] += f.pending[1];
                f.pending = [0.0; 2];
            }
        } else {
            self.out.orbit_px[0] += d[0];
            self.out.orbit_px[1] += d[1];
        }
    }

    fn lift(&mut self, e: TouchEvent, ended: bool) {
        let Some(mut f) = self.fingers.remove(&e.id) else {
            return;
        };
        if !ended {
            return;
        }
        // The final position counts like a last move (for a lone finger: orbit or tap slop).
        if self.fingers.is_empty() && e.pos != f.pos {
            self.fingers.insert(e.id, f);
            self.moved(TouchEvent {
                phase: TouchPhase::Moved,
                ..e
            });
            match self.fingers.remove(&e.id) {
                Some(g) => f = g,
                None => return,
            }
        }
        if f.tap_candidate {
            let quick = e.time_s - f.down_time_s <= TAP_MAX_DURATION_S;
            if quick && dist(f.pos, f.down_pos) < TAP_MAX_MOVE_PX {
                self.out.taps.push(f.down_pos);
            } else {
                self.out.orbit_px[0] += f.pending[0];
                self.out.orbit_px[1] += f.pending[1];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, phase: TouchPhase, x: f32, y: f32, t: f64) -> TouchEvent {
        TouchEvent {
            id,
            phase,
            pos: [x, y],
            time_s: t,
        }
    }
    use TouchPhase::*;

    #[test]
    fn quick_still_touch_is_a_tap_without_orbit() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 100.0, 200.0, 0.0));
        tr.feed(ev(1, Moved, 104.0, 203.0, 0.1));
        tr.feed(ev(1, Ended, 105.0, 203.0, 0.2));
        let g = tr.take();
        assert_eq!(g.taps, vec![[100.0, 200.0]]);
        assert_eq!(g.orbit_px, [0.0, 0.0]);
        assert!(tr.take().is_empty());
        assert_eq!(tr.active(), 0);
    }

    #[test]
    fn drag_orbits_by_the_full_movement() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 100.0, 100.0, 0.0));
        tr.feed(ev(1, Moved, 105.0, 100.0, 0.02));
        assert!(tr.take().is_empty(), "held back while it could be a tap");
        tr.feed(ev(1, Moved, 120.0, 100.0, 0.04));
        let g = tr.take();
        assert_eq!(g.orbit_px, [20.0, 0.0]);
        tr.feed(ev(1, Moved, 120.0, 130.0, 0.06));
        assert_eq!(tr.take().orbit_px, [0.0, 30.0]);
        tr.feed(ev(1, Ended, 120.0, 130.0, 0.1));
        let g = tr.take();
        assert!(g.taps.is_empty());
        assert!(g.is_empty());
    }

    #[test]
    fn slow_touch_is_not_a_tap() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 10.0, 10.0, 0.0));
        tr.feed(ev(1, Moved, 13.0, 10.0, 0.1));
        tr.feed(ev(1, Ended, 13.0, 10.0, 0.5));
        let g = tr.take();
        assert!(g.taps.is_empty());
        // The held-back slop is released: total orbit = total movement.
        assert_eq!(g.orbit_px, [3.0, 0.0]);

        // Held still, then moved slowly: the movement orbits.
        tr.feed(ev(2, Started, 10.0, 10.0, 1.0));
        tr.feed(ev(2, Moved, 12.0, 10.0, 1.5));
        assert_eq!(tr.take().orbit_px, [2.0, 0.0]);
    }

    #[test]
    fn out_and_back_is_not_a_tap() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 10.0, 10.0, 0.0));
        tr.feed(ev(1, Moved, 30.0, 10.0, 0.05));
        tr.feed(ev(1, Moved, 10.0, 10.0, 0.1));
        tr.feed(ev(1, Ended, 10.0, 10.0, 0.15));
        let g = tr.take();
        assert!(g.taps.is_empty());
        assert_eq!(g.orbit_px, [0.0, 0.0]);
    }

    #[test]
    fn tap_with_another_finger_down_is_no_tap() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 10.0, 10.0, 0.0));
        tr.feed(ev(2, Started, 200.0, 10.0, 0.05));
        tr.feed(ev(2, Ended, 200.0, 10.0, 0.1));
        tr.feed(ev(1, Ended, 10.0, 10.0, 0.15));
        assert!(tr.take().taps.is_empty());
    }

    #[test]
    fn two_finger_pan_and_pinch() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 100.0, 100.0, 0.0));
        tr.feed(ev(2, Started, 200.0, 100.0, 0.01));
        assert!(tr.take().is_empty());
        // Both move right by 10: pure pan.
        tr.feed(ev(1, Moved, 110.0, 100.0, 0.02));
        tr.feed(ev(2, Moved, 210.0, 100.0, 0.02));
        let g = tr.take();
        assert!((g.pan_px[0] - 10.0).abs() < 1e-4 && g.pan_px[1].abs() < 1e-4);
        assert!((g.zoom_factor - 1.0).abs() < 1e-4, "{}", g.zoom_factor);
        assert_eq!(g.orbit_px, [0.0, 0.0]);
        // Spread from 100 px to 200 px apart, symmetric: zoom in by 2, no pan.
        tr.feed(ev(1, Moved, 60.0, 100.0, 0.03));
        tr.feed(ev(2, Moved, 260.0, 100.0, 0.03));
        let g = tr.take();
        assert!((g.zoom_factor - 0.5).abs() < 1e-5, "{}", g.zoom_factor);
        assert!(g.pan_px[0].abs() < 1e-4 && g.pan_px[1].abs() < 1e-4);
        // Pinch back together: zoom out.
        tr.feed(ev(1, Moved, 110.0, 100.0, 0.04));
        tr.feed(ev(2, Moved, 210.0, 100.0, 0.04));
        assert!((tr.take().zoom_factor - 2.0).abs() < 1e-4);
    }

    #[test]
    fn two_to_one_finger_does_not_jump() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 100.0, 100.0, 0.0));
        tr.feed(ev(2, Started, 300.0, 300.0, 0.01));
        tr.feed(ev(2, Moved, 310.0, 300.0, 0.02));
        let _ = tr.take();
        // Lift finger 2: the centroid would jump by (-105, -100) but nothing moves.
        tr.feed(ev(2, Ended, 310.0, 300.0, 0.03));
        let g = tr.take();
        assert!(g.is_empty(), "{g:?}");
        // Finger 1 continues: orbit by its own movement only, without tap slop.
        tr.feed(ev(1, Moved, 103.0, 100.0, 0.04));
        let g = tr.take();
        assert_eq!(g.orbit_px, [3.0, 0.0]);
        assert_eq!(g.pan_px, [0.0, 0.0]);
        // A second finger rejoins: no jump either.
        tr.feed(ev(3, Started, 500.0, 100.0, 0.05));
        assert!(tr.take().is_empty());
        tr.feed(ev(3, Moved, 502.0, 100.0, 0.06));
        let g = tr.take();
        assert!((g.pan_px[0] - 1.0).abs() < 1e-4);
        assert_eq!(g.orbit_px, [0.0, 0.0]);
        tr.feed(ev(1, Ended, 103.0, 100.0, 0.3));
        tr.feed(ev(3, Ended, 502.0, 100.0, 0.3));
        let g = tr.take();
        assert!(g.taps.is_empty());
        assert!(g.is_empty());
    }

    #[test]
    fn second_finger_drops_held_back_slop() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 100.0, 100.0, 0.0));
        tr.feed(ev(1, Moved, 108.0, 100.0, 0.02));
        tr.feed(ev(2, Started, 200.0, 100.0, 0.03));
        tr.feed(ev(1, Ended, 108.0, 100.0, 0.05));
        tr.feed(ev(2, Ended, 200.0, 100.0, 0.05));
        let g = tr.take();
        assert!(g.is_empty(), "{g:?}");
    }

    #[test]
    fn cancel_is_never_a_tap_and_removes_the_finger() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 100.0, 100.0, 0.0));
        tr.feed(ev(1, Canceled, 100.0, 100.0, 0.05));
        assert!(tr.take().is_empty());
        assert_eq!(tr.active(), 0);
        // Cancel one of two fingers: the other continues without a jump.
        tr.feed(ev(1, Started, 100.0, 100.0, 1.0));
        tr.feed(ev(2, Started, 300.0, 100.0, 1.0));
        tr.feed(ev(2, Canceled, 300.0, 100.0, 1.1));
        tr.feed(ev(1, Moved, 101.0, 100.0, 1.2));
        let g = tr.take();
        assert_eq!(g.orbit_px, [1.0, 0.0]);
        assert_eq!(g.pan_px, [0.0, 0.0]);
        assert_eq!(g.zoom_factor, 1.0);
    }

    #[test]
    fn odd_events_are_harmless() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(9, Ended, 1.0, 1.0, 0.0));
        tr.feed(ev(9, Canceled, 1.0, 1.0, 0.0));
        tr.feed(ev(1, Started, f32::NAN, 1.0, 0.0));
        assert_eq!(tr.active(), 0);
        // A move without a start becomes a finger that cannot tap.
        tr.feed(ev(4, Moved, 10.0, 10.0, 0.0));
        tr.feed(ev(4, Ended, 10.0, 10.0, 0.05));
        assert!(tr.take().is_empty());
        // Non-finite time: no tap.
        tr.feed(ev(5, Started, 10.0, 10.0, f64::NAN));
        tr.feed(ev(5, Ended, 10.0, 10.0, f64::NAN));
        assert!(tr.take().taps.is_empty());
        // Coincident fingers: no zoom from a zero spread.
        tr.feed(ev(6, Started, 10.0, 10.0, 0.0));
        tr.feed(ev(7, Started, 10.0, 10.0, 0.0));
        tr.feed(ev(7, Moved, 30.0, 10.0, 0.1));
        let g = tr.take();
        assert_eq!(g.zoom_factor, 1.0);
        assert!(g.zoom_factor.is_finite() && (g.pan_px[0] - 10.0).abs() < 1e-4);
        tr.clear();
        assert_eq!(tr.active(), 0);
    }

    #[test]
    fn final_position_on_lift_counts() {
        let mut tr = TouchTracker::new();
        tr.feed(ev(1, Started, 0.0, 0.0, 0.0));
        tr.feed(ev(1, Moved, 20.0, 0.0, 0.05));
        tr.feed(ev(1, Ended, 25.0, 0.0, 0.1));
        assert_eq!(tr.take().orbit_px, [25.0, 0.0]);
        // Lifted 15 px away after a quick touch: a drag, not a tap.
        tr.feed(ev(2, Started, 0.0, 0.0, 1.0));
        tr.feed(ev(2, Ended, 15.0, 0.0, 1.1));
        let g = tr.take();
        assert!(g.taps.is_empty());
        assert_eq!(g.orbit_px, [15.0, 0.0]);
    }
}
