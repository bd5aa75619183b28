//! Timeline view model: the simulated time shown, playback, and time labels.
//!
//! A [`Timeline`] holds the simulated times of the available result frames (`frames_s`,
//! seconds from the run's start), the time shown (`t_s`, anywhere between the first and the
//! last frame; the renderer interpolates between the two frames around it, see
//! [`Timeline::bracket`]) and the playback state.
//!
//! With a [`TimeOrigin`] (the wall-clock instant of `t_s = 0`, with the UTC offset to show
//! it in) times are labelled in local civil time, e.g. `2026-12-06 15:30 (+3:30 h)`, and
//! the `--time` option can be given as an RFC 3339 timestamp ([`Timeline::offset_for`]).
//!
//! For "play the day" over a sun or shadow timeline, [`DayClock`] builds a timeline from
//! sunrise to sunset in steps of a number of minutes.

use crate::error::{Result, ViewError};
use sim_shadow::time::UtcTime;

/// Name used in errors about building a timeline.
const WHAT: &str = "timeline";
/// Most frames [`Timeline::uniform`] builds (a week at one-second steps is far below).
pub const MAX_FRAMES: usize = 10_000_000;
/// Tolerance for "at a frame" and "inside the timeline", seconds.
const EPS_S: f64 = 1e-6;

/// The wall-clock instant of simulated time zero and the UTC offset to label times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOrigin {
    /// Seconds since 1970-01-01T00:00:00Z (POSIX) at `t_s = 0`.
    pub epoch_s: i64,
    /// Offset of the local time from UTC, seconds, east positive (`+01:00` = 3600).
    pub utc_offset_s: i32,
}

/// Offset in seconds of the offset suffix (`Z`, `±HH:MM`) of an RFC 3339 text that
/// [`UtcTime::parse_rfc3339`] has accepted.
fn rfc3339_offset_s(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.ends_with(['Z', 'z']) {
        return Some(0);
    }
    let suffix = t.get(t.len().checked_sub(6)?..)?;
    let b = suffix.as_bytes();
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h: i32 = suffix.get(1..3)?.parse().ok()?;
    let m: i32 = suffix.get(4..6)?.parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

impl TimeOrigin {
    /// Read an RFC 3339 timestamp, e.g. `2026-12-06T12:00:00+01:00` or
    /// `2026-12-06T11:00:00Z`; its offset becomes the offset labels are shown in. A
    /// fraction of a second is rounded to whole seconds.
    pub fn parse(rfc3339: &str) -> Result<TimeOrigin> {
        let t = UtcTime::parse_rfc3339(rfc3339)
            .map_err(|e| ViewError::arg("time origin", e.to_string()))?;
        let utc_offset_s = rfc3339_offset_s(rfc3339).ok_or_else(|| {
            ViewError::arg(
                "time origin",
                format!("'{rfc3339}': expected an offset 'Z' or ±HH:MM at the end"),
            )
        })?;
        Ok(TimeOrigin {
            epoch_s: t.0.round() as i64,
            utc_offset_s,
        })
    }

    /// Local civil time of simulated time `t_s`: `YYYY-MM-DD HH:MM`, with `:SS` when the
    /// (rounded) seconds are not zero.
    pub fn civil_label(&self, t_s: f64) -> String {
        let local = self.epoch_s as f64 + f64::from(self.utc_offset_s) + t_s.round();
        let (y, mo, d, h, mi, s) = UtcTime(local).to_civil();
        let s = s.round() as u32;
        if s == 0 {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
        } else {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }
    }

    /// RFC 3339 text of simulated time `t_s` in this origin's offset, whole seconds.
    pub fn rfc3339(&self, t_s: f64) -> String {
        let local = self.epoch_s as f64 + f64::from(self.utc_offset_s) + t_s.round();
        let (y, mo, d, h, mi, s) = UtcTime(local).to_civil();
        let off = self.utc_offset_s;
        let suffix = if off == 0 {
            "Z".to_string()
        } else {
            let a = off.unsigned_abs();
            format!(
                "{}{:02}:{:02}",
                if off < 0 { '-' } else { '+' },
                a / 3600,
                (a % 3600) / 60
            )
        };
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}{suffix}",
            s.round() as u32
        )
    }
}

/// A duration as `+H:MM h` (or `-H:MM h`; `+H:MM:SS h` when the rounded seconds are not
/// zero), e.g. `+3:30 h`, `-0:15 h`, `+0:00:30 h`.
pub fn format_offset_h(t_s: f64) -> String {
    if !t_s.is_finite() {
        return format!("{t_s} s");
    }
    let r = t_s.round();
    let sign = if r < 0.0 { '-' } else { '+' };
    let a = r.abs();
    let h = (a / 3600.0).floor();
    let m = ((a - h * 3600.0) / 60.0).floor();
    let s = a - h * 3600.0 - m * 60.0;
    if s == 0.0 {
        format!("{sign}{h}:{m:02} h")
    } else {
        format!("{sign}{h}:{m:02}:{s:02} h")
    }
}

/// The simulated time shown and its playback (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    frames_s: Vec<f64>,
    /// The time shown, seconds. Kept between [`start`](Self::start) and [`end`](Self::end)
    /// by every method; prefer [`set`](Self::set), which clamps. (Methods that read it
    /// clamp it first, so a value set directly outside the timeline does no harm.)
    pub t_s: f64,
    /// Whether [`advance`](Self::advance) moves the time.
    pub playing: bool,
    /// Simulated seconds per real second (negative plays backwards; 0 holds still).
    pub speed: f64,
    /// Whether playback wraps round from the end to the start (and back, for negative speed).
    pub looping: bool,
    /// Wall-clock instant of `t_s = 0`, for labels and `--time`; `None` labels relative times.
    pub origin: Option<TimeOrigin>,
}

impl Timeline {
    /// A timeline over the given frame times (seconds, strictly increasing, finite, at least
    /// one), at the first frame, paused, speed 1, not looping, without origin.
    pub fn new(frames_s: Vec<f64>) -> Result<Timeline> {
        if frames_s.is_empty() {
            return Err(ViewError::arg(
                WHAT,
                "no frames (at least one time is needed)",
            ));
        }
        for (i, &t) in frames_s.iter().enumerate() {
            if !t.is_finite() {
                return Err(ViewError::arg(
                    WHAT,
                    format!("frame {i}: time {t} is not a finite number of seconds"),
                ));
            }
            if i > 0 && t <= frames_s[i - 1] {
                return Err(ViewError::arg(
                    WHAT,
                    format!(
                        "frame {i}: time {t} s is not after frame {} at {} s (times must increase strictly)",
                        i - 1,
                        frames_s[i - 1]
                    ),
                ));
            }
        }
        let t_s = frames_s[0];
        Ok(Timeline {
            frames_s,
            t_s,
            playing: false,
            speed: 1.0,
            looping: false,
            origin: None,
        })
    }

    /// Frames every `step_s` seconds from `start_s` (inclusive) to `end_s` (inclusive; the
    /// last step is shorter when the span is not a multiple of `step_s`). A `start_s` equal
    /// to `end_s` gives a single frame.
    pub fn uniform(start_s: f64, end_s: f64, step_s: f64) -> Result<Timeline> {
        if !(start_s.is_finite() && end_s.is_finite() && start_s <= end_s) {
            return Err(ViewError::arg(
                WHAT,
                format!("span {start_s} s .. {end_s} s: need finite times with start <= end"),
            ));
        }
        if !(step_s.is_finite() && step_s > 0.0) {
            return Err(ViewError::arg(WHAT, format!("step {step_s} s must be > 0")));
        }
        let n = ((end_s - start_s) / step_s).ceil();
        if n + 1.0 > MAX_FRAMES as f64 {
            return Err(ViewError::arg(
                WHAT,
                format!(
                    "{start_s} s .. {end_s} s in steps of {step_s} s would be more than {MAX_FRAMES} frames"
                ),
            ));
        }
        let n = n as usize;
        let mut frames = Vec::with_capacity(n + 1);
        for i in 0..n {
            let t = start_s + i as f64 * step_s;
            // Drop a point that would land (within rounding) on the end.
            if end_s - t > EPS_S.max(step_s * 1e-9) {
                frames.push(t);
            }
        }
        frames.push(end_s);
        Timeline::new(frames)
    }

    /// The frame times, seconds, strictly increasing.
    pub fn frames_s(&self) -> &[f64] {
        &self.frames_s
    }

    /// Set [`origin`](Self::origin) from an RFC 3339 timestamp (see [`TimeOrigin::parse`]).
    pub fn set_origin_rfc3339(&mut self, rfc3339: &str) -> Result<()> {
        self.origin = Some(TimeOrigin::parse(rfc3339)?);
        Ok(())
    }

    /// Time of the first frame, seconds.
    pub fn start(&self) -> f64 {
        self.frames_s[0]
    }

    /// Time of the last frame, seconds.
    pub fn end(&self) -> f64 {
        self.frames_s[self.frames_s.len() - 1]
    }

    /// `t_s` clamped into the timeline (NaN gives the start).
    fn clamp(&self, t_s: f64) -> f64 {
        if t_s.is_nan() {
            self.start()
        } else {
            t_s.clamp(self.start(), self.end())
        }
    }

    /// Show time `t_s`, clamped into the timeline (NaN goes to the start).
    pub fn set(&mut self, t_s: f64) {
        self.t_s = self.clamp(t_s);
    }

    /// Start playing; at the end (or at the start when playing backwards) restart from the
    /// other end first.
    pub fn play(&mut self) {
        if self.speed > 0.0 && self.t_s >= self.end() {
            self.t_s = self.start();
        } else if self.speed < 0.0 && self.t_s <= self.start() {
            self.t_s = self.end();
        }
        self.playing = true;
    }

    /// Stop playing.
    pub fn pause(&mut self) {
        self.playing = false;
    }

    /// [`play`](Self::play) when paused, [`pause`](Self::pause) when playing.
    pub fn toggle(&mut self) {
        if self.playing {
            self.pause();
        } else {
            self.play();
        }
    }

    /// Advance playback by `real_dt_s` real seconds (`speed` simulated seconds each).
    ///
    /// Returns whether the time shown changed. Without `looping` playback stops (and
    /// `playing` becomes false) at the end, or at the start when playing backwards; with it
    /// the time wraps round. Nothing happens while paused or for a non-finite or negative
    /// step.
    pub fn advance(&mut self, real_dt_s: f64) -> bool {
        let usable = real_dt_s.is_finite() && real_dt_s >= 0.0 && self.speed.is_finite();
        if !(self.playing && usable) {
            return false;
        }
        let old = self.t_s;
        let target = self.clamp(self.t_s) + real_dt_s * self.speed;
        let (start, end) = (self.start(), self.end());
        let span = end - start;
        if (start..=end).contains(&target) {
            self.t_s = target;
        } else if self.looping && span > 0.0 {
            let w = (target - start).rem_euclid(span);
            self.t_s = self.clamp(start + w);
        } else {
            self.t_s = self.clamp(target);
            self.playing = false;
        }
        self.t_s != old
    }

    /// The frames around `t_s` for linear interpolation: `(i0, i1, w)` with the value
    /// `(1 - w) * frame[i0] + w * frame[i1]`, `w` in [0, 1]. At a frame (within 1 µs) `w` is
    /// exactly 0 and `i0` is that frame; at or beyond the ends, and for a single frame,
    /// `i0 == i1` and `w == 0`. `t_s` is clamped into the timeline first.
    pub fn bracket(&self, t_s: f64) -> (usize, usize, f64) {
        let t = self.clamp(t_s);
        let f = &self.frames_s;
        let last = f.len() - 1;
        // First frame after t; >= 1 because t >= f[0].
        let i1 = f.partition_point(|&x| x <= t);
        if i1 > last {
            return (last, last, 0.0);
        }
        let i0 = i1 - 1;
        if t - f[i0] <= EPS_S {
            return (i0, i0, 0.0);
        }
        if f[i1] - t <= EPS_S {
            return (i1, i1, 0.0);
        }
        let w = ((t - f[i0]) / (f[i1] - f[i0])).clamp(0.0, 1.0);
        (i0, i1, w)
    }

    /// Index of the frame nearest to the time shown (the earlier one on a tie).
    pub fn nearest_frame(&self) -> usize {
        let (i0, i1, w) = self.bracket(self.t_s);
        if w > 0.5 { i1 } else { i0 }
    }

    /// Step `n` frames forward (`n > 0`) or back (`n < 0`) from the time shown, stopping at
    /// the first and last frame. Between two frames one step forward goes to the next frame,
    /// one step back to the previous one. Returns whether the time shown changed.
    pub fn step(&mut self, n: i32) -> bool {
        let old = self.t_s;
        let (i0, i1, w) = self.bracket(self.t_s);
        let last = self.frames_s.len() - 1;
        let target = if n > 0 {
            let base = if w > 0.0 { i1 - 1 } else { i0 };
            base.saturating_add(n.unsigned_abs() as usize).min(last)
        } else if n < 0 {
            let base = if w > 0.0 { i0 + 1 } else { i0 };
            base.saturating_sub(n.unsigned_abs() as usize)
        } else {
            return false;
        };
        self.t_s = self.frames_s[target];
        self.t_s != old
    }

    /// Label of simulated time `t_s`: with an origin the local civil time and the offset
    /// from the origin, `2026-12-06 15:30 (+3:30 h)`; without, the offset alone, `+3:30 h`.
    pub fn label(&self, t_s: f64) -> String {
        match &self.origin {
            Some(o) => format!("{} ({})", o.civil_label(t_s), format_offset_h(t_s)),
            None => format_offset_h(t_s),
        }
    }

    /// The simulated time of an RFC 3339 timestamp given to `--time`, e.g.
    /// `2026-12-06T15:30:00+01:00`. Errors when the timeline has no origin, the text is not
    /// RFC 3339, or the instant lies outside the timeline (the message names its span).
    pub fn offset_for(&self, rfc3339: &str) -> Result<f64> {
        const OPT: &str = "--time";
        let Some(origin) = &self.origin else {
            return Err(ViewError::arg(
                OPT,
                format!(
                    "'{rfc3339}': these results have no start time, so a clock time cannot be placed"
                ),
            ));
        };
        let t = UtcTime::parse_rfc3339(rfc3339).map_err(|e| ViewError::arg(OPT, e.to_string()))?;
        let t_s = t.0 - origin.epoch_s as f64;
        if t_s < self.start() - EPS_S || t_s > self.end() + EPS_S {
            return Err(ViewError::arg(
                OPT,
                format!(
                    "'{rfc3339}' is outside the timeline {} .. {}",
                    origin.rfc3339(self.start()),
                    origin.rfc3339(self.end())
                ),
            ));
        }
        Ok(self.clamp(t_s))
    }
}

/// "Play the day": a timeline from sunrise to sunset in steps of `step_min` minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayClock {
    /// Sunrise, simulated seconds (same time axis as the timeline, e.g. seconds since local
    /// midnight when the origin is midnight).
    pub sunrise_s: f64,
    /// Sunset, simulated seconds (> `sunrise_s`).
    pub sunset_s: f64,
    /// Step between frames, minutes (> 0).
    pub step_min: f64,
    /// Real seconds one pass from sunrise to sunset takes when played (> 0).
    pub play_real_s: f64,
}

impl DayClock {
    /// The frames: sunrise, the multiples of the step (counted from time 0, so with a
    /// midnight origin they fall on whole clock times such as 08:00, 08:15, ...) strictly
    /// between sunrise and sunset, and sunset. The timeline loops, at the speed that plays
    /// the day in `play_real_s`, starting at sunrise, paused.
    pub fn timeline(&self, origin: Option<TimeOrigin>) -> Result<Timeline> {
        let (a, b) = (self.sunrise_s, self.sunset_s);
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(ViewError::arg(
                "day clock",
                format!(
                    "sunrise {a} s and sunset {b} s: need finite times with sunrise before sunset"
                ),
            ));
        }
        if !(self.step_min.is_finite() && self.step_min > 0.0) {
            return Err(ViewError::arg(
                "day clock",
                format!("step {} min must be > 0", self.step_min),
            ));
        }
        if !(self.play_real_s.is_finite() && self.play_real_s > 0.0) {
            return Err(ViewError::arg(
                "day clock",
                format!("playing time {} s must be > 0", self.play_real_s),
            ));
        }
        let step = self.step_min * 60.0;
        let first = (a / step).floor() + 1.0;
        let last = (b / step).ceil() - 1.0;
        let count = (last - first + 1.0).max(0.0);
        if count + 2.0 > MAX_FRAMES as f64 {
            return Err(ViewError::arg(
                "day clock",
                format!(
                    "a step of {} min gives more than {MAX_FRAMES} frames",
                    self.step_min
                ),
            ));
        }
        let mut frames = vec![a];
        for k in 0..count as u64 {
            let t = (first + k as f64) * step;
            if t - a > EPS_S && b - t > EPS_S {
                frames.push(t);
            }
        }
        frames.push(b);
        let mut tl = Timeline::new(frames)?;
        tl.looping = true;
        tl.speed = (b - a) / self.play_real_s;
        tl.origin = origin;
        Ok(tl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(frames: &[f64]) -> Timeline {
        Timeline::new(frames.to_vec()).unwrap()
    }

    #[test]
    fn new_validates_frames() {
        assert!(
            Timeline::new(vec![])
                .unwrap_err()
                .to_string()
                .contains("no frames")
        );
        let e = Timeline::new(vec![0.0, f64::NAN]).unwrap_err().to_string();
        assert!(e.contains("frame 1") && e.contains("finite"), "{e}");
        let e = Timeline::new(vec![0.0, 10.0, 10.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("frame 2"), "{e}");
        assert!(Timeline::new(vec![5.0, 1.0]).is_err());
        let t = tl(&[3.0]);
        assert_eq!((t.start(), t.end(), t.t_s), (3.0, 3.0, 3.0));
        assert!(!t.playing && t.speed == 1.0 && !t.looping && t.origin.is_none());
    }

    #[test]
    fn set_clamps() {
        let mut t = tl(&[0.0, 60.0, 120.0]);
        t.set(90.0);
        assert_eq!(t.t_s, 90.0);
        t.set(-5.0);
        assert_eq!(t.t_s, 0.0);
        t.set(1e9);
        assert_eq!(t.t_s, 120.0);
        t.set(f64::NAN);
        assert_eq!(t.t_s, 0.0);
        // Set directly outside: readers clamp.
        t.t_s = 500.0;
        assert_eq!(t.bracket(t.t_s), (2, 2, 0.0));
        assert_eq!(t.nearest_frame(), 2);
        t.play();
        assert_eq!(t.t_s, 0.0);
        t.t_s = f64::NAN;
        assert!(t.advance(1.0));
        assert_eq!(t.t_s, 1.0);
        t.t_s = f64::NAN;
        assert!(t.step(1));
        assert_eq!(t.t_s, 60.0);
    }

    #[test]
    fn advance_plays_stops_and_loops() {
        let mut t = tl(&[0.0, 100.0]);
        assert!(!t.advance(1.0), "paused");
        t.speed = 30.0;
        t.play();
        assert!(t.advance(1.0));
        assert_eq!(t.t_s, 30.0);
        assert!(!t.advance(f64::NAN) && !t.advance(-1.0));
        assert!(t.advance(10.0));
        assert_eq!(t.t_s, 100.0);
        assert!(!t.playing, "stops at the end");
        assert!(!t.advance(1.0));
        t.play();
        assert_eq!(t.t_s, 0.0, "play at the end restarts");
        t.looping = true;
        t.set(90.0);
        assert!(t.advance(1.0));
        assert!((t.t_s - 20.0).abs() < 1e-9 && t.playing);
        t.speed = -50.0;
        assert!(t.advance(1.0));
        assert!((t.t_s - 70.0).abs() < 1e-9);
        t.looping = false;
        assert!(t.advance(10.0));
        assert_eq!(t.t_s, 0.0);
        assert!(!t.playing);
        // A single frame never moves.
        let mut one = tl(&[5.0]);
        one.looping = true;
        one.play();
        assert!(!one.advance(1.0));
        t.toggle();
        assert!(t.playing);
        t.toggle();
        assert!(!t.playing);
    }

    #[test]
    fn bracket_interpolates_and_is_exact_at_frames() {
        let t = tl(&[0.0, 10.0, 30.0]);
        assert_eq!(t.bracket(0.0), (0, 0, 0.0));
        assert_eq!(t.bracket(10.0), (1, 1, 0.0));
        assert_eq!(t.bracket(30.0), (2, 2, 0.0));
        assert_eq!(t.bracket(5.0), (0, 1, 0.5));
        assert_eq!(t.bracket(25.0), (1, 2, 0.75));
        assert_eq!(t.bracket(-1.0), (0, 0, 0.0));
        assert_eq!(t.bracket(99.0), (2, 2, 0.0));
        assert_eq!(t.bracket(f64::NAN), (0, 0, 0.0));
        assert_eq!(t.bracket(10.0 - 1e-9), (1, 1, 0.0));
        assert_eq!(tl(&[7.0]).bracket(7.0), (0, 0, 0.0));
    }

    #[test]
    fn nearest_and_step() {
        let mut t = tl(&[0.0, 10.0, 30.0, 60.0]);
        t.set(16.0);
        assert_eq!(t.nearest_frame(), 1);
        t.set(21.0);
        assert_eq!(t.nearest_frame(), 2);
        // Between frames 1 and 2: +1 goes to 2, -1 to 1.
        assert!(t.step(1));
        assert_eq!(t.t_s, 30.0);
        t.set(21.0);
        assert!(t.step(-1));
        assert_eq!(t.t_s, 10.0);
        assert!(t.step(-1));
        assert_eq!(t.t_s, 0.0);
        assert!(!t.step(-1), "at the start");
        assert!(t.step(2));
        assert_eq!(t.t_s, 30.0);
        assert!(t.step(i32::MAX));
        assert_eq!(t.t_s, 60.0);
        assert!(!t.step(1));
        assert!(!t.step(0));
        assert!(t.step(i32::MIN));
        assert_eq!(t.t_s, 0.0);
    }

    #[test]
    fn uniform_frames() {
        let t = Timeline::uniform(0.0, 100.0, 30.0).unwrap();
        assert_eq!(t.frames_s(), &[0.0, 30.0, 60.0, 90.0, 100.0]);
        let t = Timeline::uniform(0.0, 90.0, 30.0).unwrap();
        assert_eq!(t.frames_s(), &[0.0, 30.0, 60.0, 90.0]);
        let t = Timeline::uniform(0.0, 0.3, 0.1).unwrap();
        assert_eq!(t.frames_s().len(), 4);
        assert_eq!(Timeline::uniform(5.0, 5.0, 1.0).unwrap().frames_s(), &[5.0]);
        assert!(Timeline::uniform(5.0, 4.0, 1.0).is_err());
        assert!(Timeline::uniform(0.0, 1.0, 0.0).is_err());
        assert!(Timeline::uniform(0.0, f64::INFINITY, 1.0).is_err());
        let e = Timeline::uniform(0.0, 1e12, 1.0).unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn origin_parses_offsets() {
        let o = TimeOrigin::parse("2026-12-06T12:00:00+01:00").unwrap();
        assert_eq!(o.utc_offset_s, 3600);
        let z = TimeOrigin::parse("2026-12-06T11:00:00Z").unwrap();
        assert_eq!(z.epoch_s, o.epoch_s);
        assert_eq!(z.utc_offset_s, 0);
        let w = TimeOrigin::parse(" 2026-12-06T06:30:00-04:30 ").unwrap();
        assert_eq!(w.utc_offset_s, -16200);
        assert_eq!(w.epoch_s, o.epoch_s);
        // 2026-12-06T11:00:00Z
        assert_eq!(o.epoch_s, 1_796_554_800);
        for bad in ["2026-12-06T12:00:00", "2026-13-06T12:00:00Z", "noon", ""] {
            let e = TimeOrigin::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("time origin: "), "{e}");
        }
    }

    #[test]
    fn labels() {
        let mut t = tl(&[0.0, 12_600.0]);
        assert_eq!(t.label(12_600.0), "+3:30 h");
        assert_eq!(t.label(-900.0), "-0:15 h");
        assert_eq!(t.label(30.0), "+0:00:30 h");
        assert_eq!(t.label(0.4), "+0:00 h");
        assert!(t.set_origin_rfc3339("noon").is_err());
        assert!(t.origin.is_none());
        t.set_origin_rfc3339("2026-12-06T12:00:00+01:00").unwrap();
        assert_eq!(t.label(12_600.0), "2026-12-06 15:30 (+3:30 h)");
        assert_eq!(t.label(0.0), "2026-12-06 12:00 (+0:00 h)");
        assert_eq!(
            t.label(43_200.0 + 45.0),
            "2026-12-07 00:00:45 (+12:00:45 h)"
        );
        assert_eq!(format_offset_h(f64::NAN), "NaN s");
        let o = t.origin.unwrap();
        assert_eq!(o.rfc3339(3600.0), "2026-12-06T13:00:00+01:00");
        let z = TimeOrigin {
            utc_offset_s: 0,
            ..o
        };
        assert_eq!(z.rfc3339(0.0), "2026-12-06T11:00:00Z");
        let neg = TimeOrigin {
            utc_offset_s: -16200,
            ..o
        };
        assert_eq!(neg.rfc3339(0.0), "2026-12-06T06:30:00-04:30");
    }

    #[test]
    fn offset_for_places_cli_times() {
        let mut t = tl(&[0.0, 3600.0, 7200.0]);
        let e = t
            .offset_for("2026-12-06T12:00:00+01:00")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--time") && e.contains("no start time"), "{e}");
        t.origin = Some(TimeOrigin::parse("2026-12-06T12:00:00+01:00").unwrap());
        assert_eq!(t.offset_for("2026-12-06T13:30:00+01:00").unwrap(), 5400.0);
        assert_eq!(t.offset_for("2026-12-06T12:30:00Z").unwrap(), 5400.0);
        assert_eq!(t.offset_for("2026-12-06T12:00:00+01:00").unwrap(), 0.0);
        assert_eq!(t.offset_for("2026-12-06T14:00:00+01:00").unwrap(), 7200.0);
        let e = t
            .offset_for("2026-12-06T15:00:00+01:00")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "outside the timeline 2026-12-06T12:00:00+01:00 .. 2026-12-06T14:00:00+01:00"
            ),
            "{e}"
        );
        let e = t.offset_for("tomorrow").unwrap_err().to_string();
        assert!(e.starts_with("--time: "), "{e}");
    }

    #[test]
    fn day_clock_frames() {
        let sunrise = 7.0 * 3600.0 + 47.0 * 60.0; // 07:47
        let sunset = 16.0 * 3600.0 + 5.0 * 60.0; // 16:05
        let d = DayClock {
            sunrise_s: sunrise,
            sunset_s: sunset,
            step_min: 15.0,
            play_real_s: 60.0,
        };
        let origin = TimeOrigin::parse("2026-12-06T00:00:00+01:00").unwrap();
        let t = d.timeline(Some(origin)).unwrap();
        let f = t.frames_s();
        assert_eq!(f[0], sunrise);
        assert_eq!(f[1], 8.0 * 3600.0);
        assert_eq!(f[f.len() - 2], 16.0 * 3600.0);
        assert_eq!(f[f.len() - 1], sunset);
        assert_eq!(f.len(), 2 + 33);
        assert!(t.looping && !t.playing);
        assert!((t.speed - (sunset - sunrise) / 60.0).abs() < 1e-9);
        assert_eq!(t.label(f[1]), "2026-12-06 08:00 (+8:00 h)");
        // Sunrise on a step: not duplicated.
        let d2 = DayClock {
            sunrise_s: 8.0 * 3600.0,
            sunset_s: 9.0 * 3600.0,
            step_min: 30.0,
            play_real_s: 10.0,
        };
        assert_eq!(
            d2.timeline(None).unwrap().frames_s(),
            &[28_800.0, 30_600.0, 32_400.0]
        );
        for bad in [
            DayClock {
                sunset_s: sunrise,
                ..d
            },
            DayClock { step_min: 0.0, ..d },
            DayClock {
                play_real_s: f64::NAN,
                ..d
            },
            DayClock {
                step_min: 1e-9,
                ..d
            },
        ] {
            assert!(bad.timeline(None).is_err(), "{bad:?}");
        }
    }
}
