use urban_twin::build_city;
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let sc = twin_core::scenario::load(&path).unwrap();
    let city = build_city(&sc.city).unwrap();
    let f = sc.flood.clone().unwrap();
    let mut notes = vec![];
    let setup = urban_twin::flood::setup_for(&city, &f, &sc, &mut notes).unwrap();
    let sim = sim_flood::Simulation::new(&setup).unwrap();
    let k = sim.cell_kinds();
    let v = k.map(Some(f32::NAN), |x| {
        if x == 1 {
            1.0
        } else if x == 2 {
            0.5
        } else {
            f32::NAN
        }
    });
    let mut c = [0usize; 4];
    for &x in &k.data {
        c[x as usize] += 1;
    }
    println!("kinds {:?}", c);
    twin_core::render::Map::new(&setup.dem)
        .overlay(
            &v,
            twin_core::render::Palette::Ramp {
                ramp: twin_core::render::ColorRamp::depth(),
                min: 0.0,
                max: 1.0,
            },
        )
        .title("kinds")
        .write_png(std::path::Path::new("/tmp/kinds.png"))
        .unwrap();
}
