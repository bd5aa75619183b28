//! The panels (egui): planner side panel, participation-table bar and comment dialog,
//! crisis-staff counters; legends, building reports and the gauge hydrograph in every mode.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::St;
use super::capture::Capture;
use crate::comments::{CATEGORIES, Comment};
use crate::layers::{Legend, Scale};
use crate::view::{BuildingColors, Mode, Variant};

/// Whether egui uses the pointer this frame (the camera then ignores it).
#[derive(Resource, Default)]
pub(crate) struct EguiWantsInput(pub bool);

/// The comment being written at the table.
#[derive(Resource, Default)]
pub(crate) struct Draft {
    category: Option<usize>,
    title: String,
    text: String,
    confirm_reset: bool,
    styled: bool,
}

fn c32(c: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(c[0], c[1], c[2])
}

pub(crate) fn panels(
    mut contexts: EguiContexts,
    mut state: ResMut<St>,
    mut cap: ResMut<Capture>,
    mut wants: Local<bool>,
    mut draft: Local<Draft>,
    mut exit: EventWriter<AppExit>,
    mut commands: Commands,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let st = &mut state.0;
    match st.mode {
        Mode::Planner => planner_panel(ctx, st, &mut cap),
        Mode::Table => table_ui(ctx, st, &mut draft),
        Mode::Situation => situation_ui(ctx, st),
    }
    if let Some(scale) = st.legend_scale() {
        legend_area(ctx, &scale, "legend");
    }
    building_window(ctx, st);
    if let Some(m) = st.message.clone() {
        egui::TopBottomPanel::bottom("status").show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(m).strong());
                if ui.button("OK").clicked() {
                    st.message = None;
                }
            });
        });
    }
    if ctx.input(|i| i.key_pressed(egui::Key::Escape)) && st.mode == Mode::Planner {
        exit.write(AppExit::Success);
    }
    *wants = ctx.wants_pointer_input() || ctx.is_pointer_over_area();
    // A click or tap on the map (not on a panel): pick a building or place a comment.
    if !*wants
        && let Some(pos) = ctx.input(|i| {
            i.pointer
                .primary_clicked()
                .then(|| i.pointer.interact_pos())
                .flatten()
        })
    {
        let r = ctx.screen_rect();
        st.pick_at(
            pos.x as f64,
            pos.y as f64,
            r.width() as f64,
            r.height() as f64,
        );
    }
    commands.insert_resource(EguiWantsInput(*wants));
    Ok(())
}

fn legend_area(ctx: &egui::Context, scale: &Scale, id: &str) {
    egui::Area::new(egui::Id::new(id))
        .anchor(egui::Align2::LEFT_BOTTOM, [12.0, -12.0])
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| legend_ui(ui, scale));
        });
}

/// A legend: heading with unit, then a colour bar with ticks or the classes.
pub(crate) fn legend_ui(ui: &mut egui::Ui, scale: &Scale) {
    ui.strong(scale.heading());
    match scale.legend() {
        Legend::Bar { stops, ticks } => {
            let w = 240.0;
            let (rect, _) = ui.allocate_exact_size(egui::vec2(w, 14.0), egui::Sense::hover());
            let p = ui.painter().clone();
            let n = stops.len();
            for (k, c) in stops.iter().enumerate() {
                let x0 = rect.left() + w * k as f32 / n as f32;
                let x1 = rect.left() + w * (k + 1) as f32 / n as f32;
                p.rect_filled(
                    egui::Rect::from_min_max(
                        egui::pos2(x0, rect.top()),
                        egui::pos2(x1 + 0.5, rect.bottom()),
                    ),
                    0.0,
                    c32(*c),
                );
            }
            let (trect, _) = ui.allocate_exact_size(egui::vec2(w, 16.0), egui::Sense::hover());
            for (f, label) in ticks {
                let x = rect.left() + w * f;
                p.line_segment(
                    [
                        egui::pos2(x, rect.bottom()),
                        egui::pos2(x, rect.bottom() + 4.0),
                    ],
                    egui::Stroke::new(1.0, ui.visuals().text_color()),
                );
                ui.painter().text(
                    egui::pos2(x, trect.top() + 2.0),
                    egui::Align2::CENTER_TOP,
                    label,
                    egui::FontId::proportional(12.0),
                    ui.visuals().text_color(),
                );
            }
        }
        Legend::Classes(classes) => {
            for (c, label) in classes {
                ui.horizontal(|ui| {
                    let (r, _) =
                        ui.allocate_exact_size(egui::vec2(16.0, 16.0), egui::Sense::hover());
                    ui.painter().rect_filled(r, 2.0, c32(c));
                    ui.label(label);
                });
            }
        }
    }
}

fn planner_panel(ctx: &egui::Context, st: &mut crate::view::ViewState, cap: &mut Capture) {
    egui::SidePanel::left("planner")
        .default_width(320.0)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading(&st.data.title);
                if !st.data.description.is_empty() {
                    ui.label(&st.data.description);
                }
                ui.separator();
                variant_ui(ui, st);
                layer_ui(ui, st);
                ui.separator();
                sun_ui(ui, st, false);
                flood_ui(ui, st, false);
                traffic_ui(ui, st);
                ui.separator();
                ui.horizontal(|ui| {
                    ui.label("Buildings:");
                    let mut c = st.colors;
                    ui.radio_value(&mut c, BuildingColors::Plain, "plain");
                    if st.flood.is_some() {
                        ui.radio_value(&mut c, BuildingColors::Flood, "flooded");
                    }
                    if st
                        .data
                        .results
                        .as_ref()
                        .and_then(|r| r.shadow.as_ref())
                        .is_some_and(|s| !s.daylight.is_empty())
                    {
                        ui.radio_value(&mut c, BuildingColors::Daylight, "DIN 5034-1");
                    }
                    if c != st.colors {
                        st.colors = c;
                        st.colors_dirty = true;
                    }
                });
                ui.separator();
                ui.horizontal(|ui| {
                    if ui.button("Export view as PNG").clicked() {
                        let dir = st
                            .data
                            .results_dir
                            .clone()
                            .unwrap_or_else(|| std::path::PathBuf::from("."));
                        let stamp = crate::comments::now_rfc3339().replace([':', '-'], "");
                        let p = dir.join(format!("view-{stamp}.png"));
                        st.message = Some(format!("saved {}", p.display()));
                        cap.export = Some(p);
                    }
                    if ui.button("Reset camera").clicked() {
                        st.reset_camera();
                    }
                });
                ui.small(
                    "Drag: orbit · right drag: pan · wheel: zoom · click: building · Space: play",
                );
                ui.small(format!("Camera: --camera {}", camera_spec(st)));
            });
        });
}

/// The camera as a `--camera` argument (focus in the city CRS).
fn camera_spec(st: &crate::view::ViewState) -> String {
    let mut c = st.cam;
    let f = st
        .frame
        .world([c.focus[0] as f32, c.focus[1] as f32, c.focus[2] as f32]);
    c.focus = f;
    c.to_spec()
}

fn variant_ui(ui: &mut egui::Ui, st: &mut crate::view::ViewState) {
    if !st.has_base {
        return;
    }
    ui.horizontal(|ui| {
        let mut v = st.variant;
        ui.selectable_value(&mut v, Variant::Base, "Baseline");
        ui.selectable_value(&mut v, Variant::Variant, "Variant");
        ui.selectable_value(&mut v, Variant::Difference, "Difference");
        if v != st.variant
            && let Err(e) = st.set_variant(v)
        {
            st.message = Some(e.to_string());
        }
    });
}

fn layer_ui(ui: &mut egui::Ui, st: &mut crate::view::ViewState) {
    if st.layers.is_empty() {
        return;
    }
    let current = st
        .layer
        .map_or("Map".to_string(), |k| st.layers[k].title.clone());
    let mut sel = st.layer;
    egui::ComboBox::from_label("Layer")
        .selected_text(current)
        .width(220.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut sel, None, "Map");
            for (k, l) in st.layers.iter().enumerate() {
                ui.selectable_value(&mut sel, Some(k), &l.title);
            }
        });
    if sel != st.layer
        && let Err(e) = st.set_layer(sel)
    {
        st.message = Some(e.to_string());
    }
}

fn sun_ui(ui: &mut egui::Ui, st: &mut crate::view::ViewState, simple: bool) {
    if st.sun.is_none() {
        return;
    }
    ui.horizontal(|ui| {
        ui.strong(if simple { "Sun" } else { "Sun and shadow" });
        if !simple {
            ui.checkbox(&mut st.real_sun, "light from this sun");
        }
    });
    let Some(sun) = st.sun.as_mut() else {
        return;
    };
    let mut doy = day_of_year(sun.year, sun.month, sun.day);
    let days = if sim_shadow::time::is_leap_year(sun.year) {
        366
    } else {
        365
    };
    let r = ui.add(
        egui::Slider::new(&mut doy, 1..=days)
            .text(format!("{:04}-{:02}-{:02}", sun.year, sun.month, sun.day)),
    );
    if r.changed() {
        let (m, d) = month_day(sun.year, doy);
        let y = sun.year;
        let _ = sun.set_date(y, m, d);
    }
    let mut minutes = sun.minute_of_day;
    if ui
        .add(
            egui::Slider::new(&mut minutes, 0.0..=1439.0)
                .text("time")
                .custom_formatter(|v, _| crate::sunclock::hm(v)),
        )
        .changed()
    {
        sun.minute_of_day = minutes;
    }
    ui.horizontal(|ui| {
        let label = if sun.playing {
            "⏸ Pause"
        } else {
            "▶ Play the day"
        };
        if ui.button(label).clicked() {
            sun.playing = !sun.playing;
        }
        if !simple {
            ui.add(egui::Slider::new(&mut sun.minutes_per_s, 5.0..=240.0).text("min/s"));
        }
    });
    if let Ok(p) = sun.position() {
        let day = sun.daylight();
        let span = day.map_or("polar night".into(), |(a, b)| {
            format!(
                "sunrise {} · sunset {}",
                crate::sunclock::hm(a),
                crate::sunclock::hm(b)
            )
        });
        ui.small(format!(
            "elevation {:.1}° · azimuth {:.1}° · {span}",
            p.elevation_deg, p.azimuth_deg
        ));
    }
}

fn day_of_year(y: i32, m: u32, d: u32) -> u32 {
    (1..m)
        .map(|k| sim_shadow::time::days_in_month(y, k))
        .sum::<u32>()
        + d
}

fn month_day(y: i32, doy: u32) -> (u32, u32) {
    let mut left = doy;
    for m in 1..=12 {
        let n = sim_shadow::time::days_in_month(y, m);
        if left <= n {
            return (m, left.max(1));
        }
        left -= n;
    }
    (12, 31)
}

fn flood_ui(ui: &mut egui::Ui, st: &mut crate::view::ViewState, simple: bool) {
    let Some(f) = st.flood.as_mut() else {
        return;
    };
    ui.strong(if simple { "Water" } else { "Flood" });
    let tl = &mut f.timeline;
    let mut t = tl.t_s;
    let label = tl.label(t);
    let changed = ui
        .add(
            egui::Slider::new(&mut t, tl.start()..=tl.end())
                .show_value(false)
                .text(label),
        )
        .changed();
    ui.horizontal(|ui| {
        if ui
            .button(if tl.playing { "⏸ Pause" } else { "▶ Play" })
            .clicked()
        {
            tl.toggle();
        }
        if !simple {
            if ui.button("⏮").clicked() {
                tl.step(-1);
                st.water_dirty = true;
                st.colors_dirty = true;
            }
            if ui.button("⏭").clicked() {
                tl.step(1);
                st.water_dirty = true;
                st.colors_dirty = true;
            }
            let mut hours_per_s = tl.speed / 3600.0;
            if ui
                .add(
                    egui::Slider::new(&mut hours_per_s, 0.05..=4.0)
                        .logarithmic(true)
                        .text("h/s"),
                )
                .changed()
            {
                tl.speed = hours_per_s * 3600.0;
            }
        }
    });
    if changed {
        st.set_flood_t(t);
    }
    let mut show = st.show_water;
    if ui.checkbox(&mut show, "show water").changed() {
        st.show_water = show;
        st.water_dirty = true;
    }
    hydrograph(ui, st);
}

/// A small time-series plot (flood clock on x) with the current time marked in red.
fn time_plot(
    ui: &mut egui::Ui,
    title: &str,
    t_s: &[f64],
    v: &[f64],
    t_now: f64,
    colour: egui::Color32,
) {
    if t_s.len() < 2 || v.len() != t_s.len() {
        return;
    }
    let (w, h) = (ui.available_width().min(300.0), 110.0);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(w, h), egui::Sense::hover());
    let p = ui.painter_at(rect);
    p.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let (t0, t1) = (t_s[0], t_s[t_s.len() - 1]);
    let (lo, hi) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((f64::MAX, f64::MIN), |a, &x| (a.0.min(x), a.1.max(x)));
    if hi <= lo || t1 <= t0 {
        return;
    }
    let m = 14.0;
    let x = |t: f64| rect.left() + m + ((t - t0) / (t1 - t0)) as f32 * (w - 2.0 * m);
    let y = |q: f64| rect.bottom() - m - ((q - lo) / (hi - lo)) as f32 * (h - 2.0 * m);
    let pts: Vec<egui::Pos2> = t_s
        .iter()
        .zip(v)
        .filter(|(_, q)| q.is_finite())
        .map(|(&t, &q)| egui::pos2(x(t), y(q)))
        .collect();
    p.add(egui::Shape::line(pts, egui::Stroke::new(1.5, colour)));
    let tx = x(t_now.clamp(t0, t1));
    p.line_segment(
        [egui::pos2(tx, rect.top()), egui::pos2(tx, rect.bottom())],
        egui::Stroke::new(1.0, egui::Color32::from_rgb(200, 40, 40)),
    );
    let font = egui::FontId::proportional(11.0);
    let col = ui.visuals().text_color();
    p.text(
        rect.left_top() + egui::vec2(4.0, 2.0),
        egui::Align2::LEFT_TOP,
        format!("{title}  max {hi:.2}"),
        font.clone(),
        col,
    );
    p.text(
        rect.left_bottom() + egui::vec2(4.0, -2.0),
        egui::Align2::LEFT_BOTTOM,
        format!("{lo:.2}"),
        font,
        col,
    );
}

/// The gauge hydrograph with the current time.
fn hydrograph(ui: &mut egui::Ui, st: &crate::view::ViewState) {
    let Some(r) = st.data.results.as_ref() else {
        return;
    };
    let Some(g) = r.flood.as_ref().and_then(|f| f.gauges.first()) else {
        return;
    };
    let t_now = st.flood_t().unwrap_or(0.0);
    time_plot(
        ui,
        &format!("{} water level (m)", g.name),
        &g.t_s,
        &g.wse_m,
        t_now,
        egui::Color32::from_rgb(30, 94, 178),
    );
    if let Some(k) = g.t_s.iter().rposition(|&t| t <= t_now) {
        ui.small(format!(
            "{}: {:.2} m at {}",
            g.name,
            g.wse_m[k],
            crate::sunclock::hm(g.t_s[k] / 60.0)
        ));
    }
}

fn traffic_ui(ui: &mut egui::Ui, st: &mut crate::view::ViewState) {
    if !st.has_traffic() && !st.has_road_closures() {
        return;
    }
    ui.strong("Traffic");
    if st.has_traffic() {
        let mut show = st.show_traffic;
        let label = if st.variant == Variant::Difference {
            "roads by volume change"
        } else {
            "roads by volume / capacity"
        };
        if ui.checkbox(&mut show, label).changed() {
            st.show_traffic = show;
            st.colors_dirty = true;
        }
        if show {
            legend_ui(ui, &Scale::volume_capacity());
        }
    }
    if st.has_road_closures() {
        ui.horizontal(|ui| {
            let (r, _) = ui.allocate_exact_size(egui::vec2(16.0, 8.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(r, 0.0, egui::Color32::from_rgb(120, 0, 60));
            ui.label("closed (flooded) by the time shown");
        });
    }
    if let Some(s) = st.situation()
        && let Some(share) = s.evacuated_share
    {
        ui.add(
            egui::ProgressBar::new(share as f32).text(format!("evacuated {:.0} %", share * 100.0)),
        );
    }
    if let Some(e) = st
        .data
        .results
        .as_ref()
        .and_then(|r| r.traffic.as_ref())
        .and_then(|t| t.evacuation.as_ref())
    {
        let t: Vec<f64> = e.curve.iter().map(|c| c.t_s).collect();
        let v: Vec<f64> = e.curve.iter().map(|c| c.share * 100.0).collect();
        let now = st.flood_t().unwrap_or(0.0);
        time_plot(
            ui,
            "evacuated (%)",
            &t,
            &v,
            now,
            egui::Color32::from_rgb(40, 150, 70),
        );
    }
}

fn building_window(ctx: &egui::Context, st: &mut crate::view::ViewState) {
    let Some((_, report)) = st.picked.clone() else {
        return;
    };
    let mut open = true;
    egui::Window::new("Building")
        .open(&mut open)
        .anchor(egui::Align2::RIGHT_TOP, [-12.0, 12.0])
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("report").striped(true).show(ui, |ui| {
                for row in &report.rows {
                    ui.label(&row.label);
                    ui.label(&row.value);
                    ui.end_row();
                }
            });
        });
    if !open {
        st.picked = None;
        st.colors_dirty = true;
    }
}

/// Large text and touch targets for the table (applied once).
fn big_style(ctx: &egui::Context) {
    ctx.style_mut(|s| {
        for f in s.text_styles.values_mut() {
            f.size *= 1.5;
        }
        s.spacing.button_padding = egui::vec2(14.0, 10.0);
        s.spacing.interact_size = egui::vec2(48.0, 44.0);
        s.spacing.slider_width = 420.0;
        s.spacing.item_spacing = egui::vec2(12.0, 10.0);
    });
}

fn table_ui(ctx: &egui::Context, st: &mut crate::view::ViewState, draft: &mut Draft) {
    if !draft.styled {
        big_style(ctx);
        draft.styled = true;
    }
    egui::TopBottomPanel::bottom("table").show(ctx, |ui| {
        ui.add_space(6.0);
        ui.horizontal_wrapped(|ui| {
            let big = |t: &str| {
                egui::Button::new(egui::RichText::new(t).size(22.0))
                    .min_size(egui::vec2(120.0, 56.0))
            };
            if st.has_base {
                for (v, t) in [(Variant::Base, "Today"), (Variant::Variant, "Plan")] {
                    let sel = st.variant == v;
                    if ui.add(big(t).selected(sel)).clicked()
                        && !sel
                        && let Err(e) = st.set_variant(v)
                    {
                        st.message = Some(e.to_string());
                    }
                }
                ui.separator();
            }
            if let Some(s) = st.sun.as_mut()
                && ui
                    .add(big(if s.playing {
                        "⏸ Sun"
                    } else {
                        "☀ Sun over the day"
                    }))
                    .clicked()
            {
                s.playing = !s.playing;
            }
            if let Some(f) = st.flood.as_mut()
                && ui
                    .add(big(if f.timeline.playing {
                        "⏸ Water"
                    } else {
                        "🌊 Water rises"
                    }))
                    .clicked()
            {
                f.timeline.toggle();
            }
            if st.comments.is_some() {
                let label = if st.placing_comment {
                    "✖ Cancel"
                } else {
                    "💬 Leave a comment"
                };
                if ui.add(big(label)).clicked() {
                    st.placing_comment = !st.placing_comment;
                    st.comment_at = None;
                }
            }
            if ui.add(big("⟲ Start view")).clicked() {
                st.reset_camera();
            }
        });
        ui.add_space(6.0);
        sun_ui(ui, st, true);
        if st.flood.is_some() {
            let f = st.flood.as_ref().expect("some");
            let (lo, hi, mut t) = (f.timeline.start(), f.timeline.end(), f.timeline.t_s);
            if ui
                .add(
                    egui::Slider::new(&mut t, lo..=hi)
                        .show_value(false)
                        .text("time"),
                )
                .changed()
            {
                st.set_flood_t(t);
            }
        }
    });
    if st.placing_comment && st.comment_at.is_none() {
        egui::Area::new(egui::Id::new("hint"))
            .anchor(egui::Align2::CENTER_TOP, [0.0, 20.0])
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.label(egui::RichText::new("Tap the place your comment is about").size(22.0));
                });
            });
    }
    if let Some(at) = st.comment_at {
        comment_dialog(ctx, st, draft, at);
    }
    // Moderator: reset (archives the comments, never deletes them).
    egui::Area::new(egui::Id::new("moderator"))
        .anchor(egui::Align2::RIGHT_TOP, [-8.0, 8.0])
        .show(ctx, |ui| {
            if !draft.confirm_reset {
                if st.comments.is_some() && ui.small_button("moderator").clicked() {
                    draft.confirm_reset = true;
                }
            } else {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    let n = st.comments.as_ref().map_or(0, |c| c.comments().len());
                    ui.label(format!(
                        "Start a new session? The {n} comments are archived."
                    ));
                    ui.horizontal(|ui| {
                        if ui.button("Yes, archive and reset").clicked() {
                            if let Some(c) = st.comments.as_mut() {
                                match c.reset() {
                                    Ok(Some(p)) => {
                                        st.message = Some(format!("archived to {}", p.display()))
                                    }
                                    Ok(None) => {}
                                    Err(e) => st.message = Some(e.to_string()),
                                }
                            }
                            st.reset_camera();
                            st.picked = None;
                            st.pins_dirty = true;
                            draft.confirm_reset = false;
                        }
                        if ui.button("Cancel").clicked() {
                            draft.confirm_reset = false;
                        }
                    });
                });
            }
        });
}

fn comment_dialog(
    ctx: &egui::Context,
    st: &mut crate::view::ViewState,
    draft: &mut Draft,
    at: [f64; 3],
) {
    egui::Window::new("Your comment")
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label("What is it about?");
            ui.horizontal_wrapped(|ui| {
                for (k, (_, label)) in CATEGORIES.iter().enumerate() {
                    let sel = draft.category == Some(k);
                    let b = egui::Button::new(egui::RichText::new(*label).size(20.0))
                        .min_size(egui::vec2(110.0, 48.0))
                        .selected(sel);
                    if ui.add(b).clicked() {
                        draft.category = Some(k);
                    }
                }
            });
            ui.label("Title");
            ui.add(
                egui::TextEdit::singleline(&mut draft.title)
                    .char_limit(80)
                    .desired_width(420.0),
            );
            ui.label("Your comment (optional)");
            ui.add(
                egui::TextEdit::multiline(&mut draft.text)
                    .char_limit(1000)
                    .desired_width(420.0)
                    .desired_rows(3),
            );
            ui.horizontal(|ui| {
                let ready = draft.category.is_some();
                if ui
                    .add_enabled(
                        ready,
                        egui::Button::new(egui::RichText::new("Send").size(22.0))
                            .min_size(egui::vec2(120.0, 52.0)),
                    )
                    .clicked()
                {
                    let k = draft.category.expect("ready");
                    let title = if draft.title.trim().is_empty() {
                        CATEGORIES[k].1.to_string()
                    } else {
                        draft.title.trim().to_string()
                    };
                    let epsg = st.data.city.epsg;
                    let result = twin_core::crs::Crs::from_epsg(epsg)
                        .map_err(crate::error::ViewError::from)
                        .and_then(|crs| {
                            Comment::at(
                                at[0],
                                at[1],
                                &crs,
                                &title,
                                draft.text.trim(),
                                CATEGORIES[k].0,
                            )
                        });
                    match result.and_then(|c| st.comments.as_mut().map_or(Ok(()), |s| s.add(c))) {
                        Ok(()) => {
                            st.message = Some("Thank you! Your comment is saved.".into());
                            *draft = Draft {
                                styled: true,
                                ..Draft::default()
                            };
                            st.comment_at = None;
                            st.placing_comment = false;
                            st.pins_dirty = true;
                        }
                        Err(e) => st.message = Some(e.to_string()),
                    }
                }
                if ui
                    .add(
                        egui::Button::new(egui::RichText::new("Cancel").size(22.0))
                            .min_size(egui::vec2(120.0, 52.0)),
                    )
                    .clicked()
                {
                    *draft = Draft {
                        styled: true,
                        ..Draft::default()
                    };
                    st.comment_at = None;
                    st.placing_comment = false;
                }
            });
        });
}

fn situation_ui(ctx: &egui::Context, st: &mut crate::view::ViewState) {
    egui::TopBottomPanel::top("situation").show(ctx, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.heading(&st.data.title);
            ui.separator();
            if let Some(s) = st.situation() {
                let big = |ui: &mut egui::Ui, v: String, label: &str| {
                    ui.vertical(|ui| {
                        ui.label(egui::RichText::new(v).size(28.0).strong());
                        ui.label(label);
                    });
                    ui.separator();
                };
                big(ui, format!("{}", s.flooded_buildings), "flooded buildings");
                big(ui, format!("{:.0}", s.people_affected), "people affected");
                big(ui, format!("{}", s.closed_roads), "closed road links");
                if let Some(e) = s.evacuated_share {
                    big(ui, format!("{:.0} %", e * 100.0), "evacuated");
                }
                if let Some(g) = &s.gauge {
                    big(
                        ui,
                        format!("{:.2} m", g.wse_m),
                        &format!("{} water level", g.name),
                    );
                }
            }
        });
        if let Some(f) = st.flood.as_mut() {
            let tl = &mut f.timeline;
            let mut t = tl.t_s;
            let label = tl.label(t);
            let mut changed = false;
            ui.horizontal(|ui| {
                if ui.button(if tl.playing { "⏸" } else { "▶" }).clicked() {
                    tl.toggle();
                }
                ui.spacing_mut().slider_width = (ui.available_width() - 260.0).max(200.0);
                changed = ui
                    .add(
                        egui::Slider::new(&mut t, tl.start()..=tl.end())
                            .show_value(false)
                            .text(label),
                    )
                    .changed();
            });
            if changed {
                st.set_flood_t(t);
            }
        }
    });
    egui::SidePanel::right("gauge")
        .default_width(320.0)
        .show(ctx, |ui| {
            hydrograph(ui, st);
            traffic_ui(ui, st);
            layer_ui(ui, st);
        });
}
