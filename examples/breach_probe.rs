use urban_twin::build_city;
fn main() {
    let path = std::path::PathBuf::from(
        std::env::var("SC").unwrap_or("scenarios/surge-810-breach.toml".into()),
    );
    let sc = twin_core::scenario::load(&path).unwrap();
    let city = build_city(&sc.city).unwrap();
    let f = sc.flood.clone().unwrap();
    let mut notes = vec![];
    let setup = urban_twin::flood::setup_for(&city, &f, &sc, &mut notes).unwrap();
    let mut sim = sim_flood::Simulation::new(&setup).unwrap();
    let t0: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(18000.0);
    sim.advance_to(t0).unwrap();
    let mut last_print = 0.0;
    let mut worst = 0.0;
    for _ in 0..200000 {
        let dt = sim.step_once().unwrap();
        // max eta in window
        let (mut em, mut at) = (f64::MIN, (0, 0));
        for j in 600..660 {
            for i in 370..440 {
                let h = sim.depth_at(i, j);
                if h > 0.0 {
                    let e = sim.bed_at(i, j) + h;
                    if e > em && sim.bed_at(i, j) < 100.0 {
                        em = e;
                        at = (i, j);
                    }
                }
            }
        }
        if em > worst + 0.2 || sim.time() - last_print > 120.0 {
            let (i, j) = at;
            println!(
                "t {:.2} dt {:.3} max eta {:.2} at ({i},{j}) z {:.2} h {:.2} qx {:.2}/{:.2} qy {:.2}/{:.2} lim {:?}",
                sim.time(),
                dt,
                em,
                sim.bed_at(i, j),
                sim.depth_at(i, j),
                sim.qx_at(i, j),
                sim.qx_at(i + 1, j),
                sim.qy_at(i, j),
                sim.qy_at(i, j + 1),
                sim.step_limits()
            );
            last_print = sim.time();
            worst = worst.max(em);
        }
        if sim.time() > t0 + 3000.0 || em > 12.0 {
            break;
        }
    }
}
