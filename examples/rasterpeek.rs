//! Print the largest values of a raster (on cells of kind 0 when a cell_kind.tif is given).
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let r = twin_core::raster::read_raster(std::path::Path::new(&a[1])).unwrap();
    let k = a
        .get(2)
        .map(|p| twin_core::raster::read_raster(std::path::Path::new(p)).unwrap());
    let mut v: Vec<(f32, usize)> = r
        .data
        .iter()
        .enumerate()
        .filter(|(i, x)| x.is_finite() && k.as_ref().is_none_or(|k| k.data[*i] == 0.0))
        .map(|(i, &x)| (x, i))
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    for &(x, i) in v.iter().take(12) {
        let (c, rr) = (i % r.spec.width, i / r.spec.width);
        let p = r.spec.cell_center(c, rr);
        println!("{x:.3} at ({c},{rr}) = ({:.1}, {:.1})", p[0], p[1]);
    }
}
