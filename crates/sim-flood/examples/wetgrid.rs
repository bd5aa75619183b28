//! Quick timing: a fully wet grid with a water hump, closed edges.
use sim_flood::{FloodSetup, Simulation};
use twin_core::raster::{GridSpec, Raster};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2048);
    let steps: u64 = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(50);
    let spec = GridSpec {
        origin_x: 0.0,
        origin_y: n as f64,
        cell_x: 1.0,
        cell_y: 1.0,
        width: n,
        height: n,
        epsg: None,
    };
    let dem = Raster::from_vec(
        spec,
        (0..n * n).map(|k| ((k % n) as f32) * 1e-4).collect(),
        None,
    )
    .unwrap();
    let mut s = FloodSetup::new(dem);
    let c = n as f64 / 2.0;
    s.initial_depth = Some(
        (0..n * n)
            .map(|k| {
                let (i, j) = ((k % n) as f64, (k / n) as f64);
                let r2 = ((i - c).powi(2) + (j - c).powi(2)) / (0.1 * n as f64).powi(2);
                1.0 + 0.5 * (-r2).exp()
            })
            .collect(),
    );
    s.params.duration_s = 1e9;
    s.default_manning_n = 0.03;
    let mut sim = Simulation::new(&s).unwrap();
    // warm-up
    sim.advance_to(1.0).unwrap();
    let s0 = sim.steps();
    let t0 = std::time::Instant::now();
    while sim.steps() - s0 < steps {
        let t = sim.time();
        sim.advance_to(t + 0.2).unwrap();
    }
    let el = t0.elapsed().as_secs_f64();
    let st = sim.steps() - s0;
    println!(
        "{n}x{n}: {st} steps in {el:.3} s, {:.1} M cell updates/s, t = {:.2} s, threads {}",
        (n * n) as f64 * st as f64 / el / 1e6,
        sim.time(),
        rayon::current_num_threads()
    );
    let r = sim.results();
    println!("mass rel error {:.3e}", r.mass.relative_error);
}
