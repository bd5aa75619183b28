//! Diagnostics of the demo storm surge: time step and deepest water per 10 minutes.
use urban_twin::build_city;
fn main() {
    let path = std::path::Path::new(
        std::env::args()
            .nth(1)
            .as_deref()
            .unwrap_or("scenarios/surge-810-breach.toml"),
    )
    .to_path_buf();
    let sc = twin_core::scenario::load(&path).unwrap();
    let city = build_city(&sc.city).unwrap();
    let f = sc.flood.clone().unwrap();
    let mut notes = vec![];
    let setup = urban_twin::flood::setup_for(&city, &f, &sc, &mut notes).unwrap();
    let mut sim = sim_flood::Simulation::new(&setup).unwrap();
    let kinds = sim.cell_kinds();
    let end: f64 = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(43200.0);
    let mut t = 0.0;
    while t < end {
        t += 1200.0;
        let s0 = sim.steps();
        let w = std::time::Instant::now();
        let mut dtmin = f64::INFINITY;
        while sim.time() < t {
            let dt = sim.step_once().unwrap();
            if dt > 0.0 {
                dtmin = dtmin.min(dt);
            }
        }
        let d = sim.depth();
        let (mut hm, mut at) = (0.0f32, 0);
        for k in 0..d.data.len() {
            if kinds.data[k] == 0 && d.data[k] > hm {
                hm = d.data[k];
                at = k;
            }
        }
        let (i, j) = (at % 1000, at / 1000);
        let r = sim.results();
        let lim = sim.step_limits();
        println!(
            "limits cell {:.2} face {:.2} level {:.2}",
            lim[0], lim[1], lim[2]
        );
        println!(
            "t {:6} steps {:6} dtmin {:.3} hmax_free {:.2} at ({i},{j}) z {:.2} wall {:.1}s fixups {} clamped {:.2e}",
            t,
            sim.steps() - s0,
            dtmin,
            hm,
            sim.bed_at(i, j),
            w.elapsed().as_secs_f64(),
            r.stats.fixups,
            r.mass.clamped_m3
        );
    }
}
