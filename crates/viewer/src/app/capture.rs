//! Offscreen rendering: wait until every pipeline is compiled and every dirty view model
//! is uploaded, then capture the image target into a PNG (with caption and legend) or time
//! a run of frames, and exit.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};

use super::{Handles, Opts, PipelinesWaiting, St};
use crate::view::Options;

/// Frames at least rendered before a capture, and consecutive frames with no pipeline
/// waiting.
const MIN_FRAMES: u32 = 10;
const READY_FRAMES: u32 = 5;
/// Give up after this long (software rendering compiles pipelines slowly, but not this
/// slowly).
const TIMEOUT_S: f64 = 900.0;

enum Job {
    Window,
    Screenshot(PathBuf),
    Frames(u32),
}

/// The capture state machine.
#[derive(Resource)]
pub(crate) struct Capture {
    job: Job,
    frame: u32,
    ready: u32,
    requested: bool,
    result: Arc<Mutex<Option<Result<(), String>>>>,
    started: Instant,
    times: Vec<f64>,
    last: Option<Instant>,
    /// A window screenshot was asked for (the export button): path.
    pub export: Option<PathBuf>,
}

impl Capture {
    pub fn new(opts: &Options) -> Capture {
        let job = match (&opts.screenshot, opts.frames) {
            (_, Some(n)) => Job::Frames(n.max(1)),
            (Some(p), None) => Job::Screenshot(p.clone()),
            (None, None) => Job::Window,
        };
        Capture {
            job,
            frame: 0,
            ready: 0,
            requested: false,
            result: Arc::new(Mutex::new(None)),
            started: Instant::now(),
            times: Vec::new(),
            last: None,
            export: None,
        }
    }
}

/// Frame-time statistics of a `--frames` run, printed as JSON.
#[derive(Debug, serde::Serialize)]
pub struct FrameStats {
    pub frames: usize,
    pub mean_ms: f64,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub fps: f64,
    /// Opening the dataset and building the view models.
    pub load_s: f64,
    /// From the app's start to the first timed frame (pipelines compiling, uploads).
    pub warmup_s: f64,
    pub width: u32,
    pub height: u32,
    pub buildings: usize,
    pub triangles: usize,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn drive(
    mut commands: Commands,
    mut cap: ResMut<Capture>,
    state: Res<St>,
    handles: Res<Handles>,
    waiting: Res<PipelinesWaiting>,
    opts: Res<Opts>,
    mut exit: EventWriter<AppExit>,
) {
    cap.frame += 1;
    let now = Instant::now();
    // A window export (the panel's button).
    if let Some(path) = cap.export.take() {
        let caption = caption(&state);
        let scale = state.legend_scale();
        let done = cap.result.clone();
        commands.spawn(Screenshot::primary_window()).observe(
            move |t: Trigger<ScreenshotCaptured>| {
                let r = save(&t.event().0, &path, true, &caption, scale.as_ref());
                *done.lock().expect("lock") = Some(r);
            },
        );
    }
    if matches!(cap.job, Job::Window) {
        return;
    }
    let elapsed = cap.started.elapsed().as_secs_f64();
    if elapsed > TIMEOUT_S {
        eprintln!(
            "error: offscreen render not ready after {TIMEOUT_S} s (pipelines still compiling)"
        );
        exit.write(AppExit::error());
        return;
    }
    let idle = waiting.0.load(Ordering::Relaxed) == 0
        && !state.water_dirty
        && !state.overlay_dirty
        && !state.colors_dirty;
    if idle {
        cap.ready += 1;
    } else {
        cap.ready = 0;
    }
    let ready = cap.frame >= MIN_FRAMES && cap.ready >= READY_FRAMES;
    if let Some(r) = cap.result.lock().expect("lock").take() {
        // Offscreen jobs end here, without tearing the renderer down: with a software
        // renderer the frame still in flight can outlast wgpu's wait on drop. Everything
        // the job wrote is complete (written atomically) by now.
        use std::io::Write;
        let _ = std::io::stdout().flush();
        match r {
            Ok(()) => {
                if let Some(p) = &opts.0.screenshot
                    && opts.0.frames.is_none()
                {
                    println!("{}", p.display());
                    let _ = std::io::stdout().flush();
                }
                std::process::exit(0);
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    let job_path = match &cap.job {
        Job::Screenshot(p) => Some(p.clone()),
        _ => None,
    };
    match cap.job {
        Job::Screenshot(_) => {
            if ready && !cap.requested {
                cap.requested = true;
                let path = job_path.expect("a screenshot job");
                let caption = caption(&state);
                let scale = state.legend_scale();
                let legend = opts.0.legend;
                let done = cap.result.clone();
                let Some(target) = handles.target.clone() else {
                    return;
                };
                commands.spawn(Screenshot::image(target)).observe(
                    move |t: Trigger<ScreenshotCaptured>| {
                        let r = save(&t.event().0, &path, legend, &caption, scale.as_ref());
                        *done.lock().expect("lock") = Some(r);
                    },
                );
            }
        }
        Job::Frames(n) => {
            if !ready && cap.times.is_empty() {
                return;
            }
            if let Some(last) = cap.last {
                let dt = now.duration_since(last).as_secs_f64();
                cap.times.push(dt);
            }
            cap.last = Some(now);
            if cap.times.len() >= n as usize {
                let stats = stats(&cap.times, elapsed, &opts.0, &state);
                println!(
                    "{}",
                    serde_json::to_string_pretty(&stats).unwrap_or_default()
                );
                *cap.result.lock().expect("lock") = Some(Ok(()));
            }
        }
        Job::Window => {}
    }
}

fn stats(times: &[f64], elapsed: f64, opts: &Options, state: &St) -> FrameStats {
    let mut s: Vec<f64> = times.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len().max(1);
    let mean = s.iter().sum::<f64>() / n as f64;
    let q = |p: f64| s[((p * (n - 1) as f64).round() as usize).min(n - 1)];
    FrameStats {
        frames: s.len(),
        mean_ms: mean * 1e3,
        median_ms: q(0.5) * 1e3,
        p95_ms: q(0.95) * 1e3,
        max_ms: s.last().copied().unwrap_or(0.0) * 1e3,
        fps: if mean > 0.0 { 1.0 / mean } else { 0.0 },
        load_s: state.load_s,
        warmup_s: elapsed - times.iter().sum::<f64>(),
        width: opts.size.0,
        height: opts.size.1,
        buildings: state.city().buildings.len(),
        triangles: state.terrain.triangle_count()
            + state.buildings.roofs.triangle_count()
            + state.buildings.walls.triangle_count()
            + state.roads.triangle_count()
            + state.barriers.triangle_count()
            + state.water.triangle_count(),
    }
}

/// The caption of an exported image: title, then what is shown and when.
fn caption(state: &St) -> Vec<String> {
    let mut c = vec![state.data.title.clone()];
    let mut second = Vec::new();
    if let Some(s) = &state.sun {
        second.push(format!("Sun {}", s.label()));
    }
    if let Some(f) = &state.flood {
        second.push(format!("Flood {}", f.timeline.label(f.timeline.t_s)));
    }
    if !second.is_empty() {
        c.push(second.join("   "));
    }
    c
}

/// Write a captured image as an RGB PNG (atomically), with caption and legend.
fn save(
    img: &Image,
    path: &Path,
    legend: bool,
    caption: &[String],
    scale: Option<&crate::layers::Scale>,
) -> Result<(), String> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let Some(data) = img.data.as_ref() else {
        return Err("the captured image has no data".into());
    };
    let bgra = matches!(
        img.texture_descriptor.format,
        TextureFormat::Bgra8Unorm | TextureFormat::Bgra8UnormSrgb
    );
    if data.len() < w * h * 4 {
        return Err(format!(
            "captured {} bytes for {w} × {h} pixels",
            data.len()
        ));
    }
    let mut rgb = Vec::with_capacity(w * h * 3);
    for px in data.chunks_exact(4).take(w * h) {
        if bgra {
            rgb.extend_from_slice(&[px[2], px[1], px[0]]);
        } else {
            rgb.extend_from_slice(&[px[0], px[1], px[2]]);
        }
    }
    if legend {
        crate::legend::annotate(&mut rgb, w, h, caption, scale);
    }
    crate::image::write_rgb_png(path, w as u32, h as u32, &rgb).map_err(|e| e.to_string())
}
