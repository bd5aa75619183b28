//! The work of one band of rows in the two passes of a step, written so that the inner
//! loops vectorise, and compiled three times (baseline x86-64, AVX2, AVX-512) with the
//! widest one the CPU has picked at run time. No fused multiply-add is formed (Rust does
//! not contract floating-point expressions), so every variant gives the same bits.

use crate::grid::{Grid, TILE_COLS, TILE_ROWS};
use crate::kernel::{FaceConst, StepConst, face_run};

/// Instruction set the band loops are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Plain x86-64 / any target: SSE2 at most.
    Base,
    /// x86-64 with AVX2.
    Avx2,
    /// x86-64 with AVX-512 (F, BW, DQ, VL).
    Avx512,
}

impl Isa {
    /// The widest variant this CPU can run.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512dq")
                && std::is_x86_feature_detected!("avx512vl")
            {
                return Isa::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Base
    }

    /// Whether this CPU can run the variant.
    pub fn supported(self) -> bool {
        match self {
            Isa::Base => true,
            Isa::Avx2 => matches!(Isa::detect(), Isa::Avx2 | Isa::Avx512),
            Isa::Avx512 => Isa::detect() == Isa::Avx512,
        }
    }
}

/// A run of consecutive tiles of one state in a band.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub c0: u32,
    pub c1: u32,
    pub frozen: bool,
}

/// Per-band results of one step.
#[derive(Debug, Clone, Copy, Default)]
pub struct BandStats {
    /// Largest free-cell depth after the step (m).
    pub hmax: f32,
    /// Largest wave speed |u| + sqrt(g h) over the wet faces (m/s).
    pub smax: f32,
    /// Volumes in m of depth over one cell.
    pub bnd_in: f64,
    pub bnd_out: f64,
    pub infiltration: f64,
    pub sewer: f64,
    /// A cell whose depth became non-finite.
    pub bad: Option<usize>,
}

/// Read-only inputs of pass 1.
pub struct Pass1<'a> {
    pub g: Grid,
    pub fk: FaceConst,
    pub inv_dx: f64,
    pub inv_dy: f64,
    pub z: &'a [f32],
    pub h: &'a [f64],
    pub n: &'a [f32],
    pub cls: &'a [u8],
    pub zfx: &'a [f32],
    pub zfy: &'a [f32],
    pub qx_old: &'a [f32],
    pub qy_old: &'a [f32],
}

/// Pass 1 of band `b`: new discharges on the interior faces of its computed spans.
/// `qxb` holds the x-faces of the band's rows, `qyb` the y-faces south of its rows.
/// Returns the largest wave speed over the wet faces.
#[inline(always)]
fn pass1_impl<const IMPLICIT: bool>(
    p: &Pass1<'_>,
    spans: &[Span],
    b: usize,
    qxb: &mut [f32],
    qyb: &mut [f32],
) -> f32 {
    let g = p.g;
    let nx = g.nx;
    let mut hfm = 0f32;
    let r0 = b * TILE_ROWS;
    let r1 = (r0 + TILE_ROWS).min(g.ny);
    for j in r0..r1 {
        let row = j * nx;
        let frow = j * (nx + 1);
        let lx = (j - r0) * (nx + 1);
        let ly = (j - r0) * nx;
        for s in spans.iter().filter(|s| !s.frozen) {
            let (c0, c1) = (s.c0 as usize, s.c1 as usize);
            // x-faces west of cells c0..c1 (the interior ones).
            let a = c0.max(1);
            if a < c1 {
                let (l, r) = (row + a - 1..row + c1 - 1, row + a..row + c1);
                let f = frow + a..frow + c1;
                let hf = face_run::<IMPLICIT>(
                    &p.fk,
                    p.inv_dx,
                    &p.z[l.clone()],
                    &p.z[r.clone()],
                    &p.h[l.clone()],
                    &p.h[r.clone()],
                    &p.n[l.clone()],
                    &p.n[r.clone()],
                    &p.cls[l],
                    &p.cls[r],
                    &p.zfx[f.clone()],
                    &p.qx_old[f.start - 1..f.end - 1],
                    &p.qx_old[f.clone()],
                    &p.qx_old[f.start + 1..f.end + 1],
                    &mut qxb[lx + a..lx + c1],
                );
                hfm = hfm.max(hf);
            }
            // y-faces south of cells c0..c1 (the interior ones).
            if j + 1 < g.ny {
                let (u, d) = (row + c0..row + c1, row + nx + c0..row + nx + c1);
                let f = (j + 1) * nx + c0..(j + 1) * nx + c1;
                let hf = face_run::<IMPLICIT>(
                    &p.fk,
                    p.inv_dy,
                    &p.z[u.clone()],
                    &p.z[d.clone()],
                    &p.h[u.clone()],
                    &p.h[d.clone()],
                    &p.n[u.clone()],
                    &p.n[d.clone()],
                    &p.cls[u],
                    &p.cls[d],
                    &p.zfy[f.clone()],
                    &p.qy_old[f.start - nx..f.end - nx],
                    &p.qy_old[f.clone()],
                    &p.qy_old[f.start + nx..f.end + nx],
                    &mut qyb[ly + c0..ly + c1],
                );
                hfm = hfm.max(hf);
            }
        }
    }
    hfm
}

/// Read-only inputs of pass 2.
pub struct Pass2<'a> {
    pub g: Grid,
    pub k: StepConst,
    /// End time of the step, for arrival times (s).
    pub t1: f32,
    pub thr: f64,
    pub smin: f64,
    pub qx: &'a [f32],
    pub qy: &'a [f32],
    pub z: &'a [f32],
    pub cls: &'a [u8],
    /// Rain zone per cell (0 for no rain and for every cell that is not free).
    pub rain_zone: &'a [u16],
    /// Rain depth of this step per zone (m); index 0 is no rain.
    pub rain_depth: &'a [f64],
    pub loss_zone: &'a [u16],
    /// Per loss zone: fixed capacity of this step (m), Green-Ampt `Ks·dt` (m), `ψ·Δθ` (m),
    /// sewer capacity of this step (m).
    pub loss_fixed: &'a [f64],
    pub loss_ks: &'a [f64],
    pub loss_psi: &'a [f64],
    pub loss_sewer: &'a [f64],
    pub level_now: &'a [f64],
    /// Per tile: whether it holds cells with a prescribed level.
    pub tile_has_level: &'a [bool],
    /// Per tile: the level index + 1 when the tile and its neighbours hold nothing but cells
    /// of that one level (its depths are set only when the solver syncs them), else 0.
    pub tile_lazy: &'a [u8],
    /// Per tile: the lowest bed of its prescribed-level cells.
    pub tile_bnd_zmin: &'a [f32],
    /// (cell, source) of the inflows, sorted; `band_inflow[b]..band_inflow[b + 1]` are in band b.
    pub inflow_cells: &'a [(u32, u32)],
    pub band_inflow: &'a [u32],
    pub inflow_depth: &'a [f64],
}

/// The mutable per-band slices of pass 2.
pub struct Pass2Band<'a> {
    pub h: &'a mut [f64],
    pub max_h: &'a mut [f32],
    pub max_speed: &'a mut [f32],
    pub max_hr: &'a mut [f32],
    pub arrival: &'a mut [f32],
    pub duration: &'a mut [f64],
    /// Cumulative Green-Ampt infiltration (m), only with loss zones.
    pub ga_f: &'a mut [f32],
    pub wet: &'a mut [u8],
    pub neg: &'a mut Vec<u32>,
}

/// Sums of one run of cells.
#[derive(Default)]
struct CellSums {
    hmax_bits: u32,
    neg: u32,
    bad: u32,
    wet: u32,
    infiltration: f64,
    sewer: f64,
}

/// The update of a run of `m` cells starting at flat index `c` (all in one row and one
/// tile): rain, losses and the flux divergence; maxima, arrival and duration of free cells.
/// Cells with a prescribed level are recomputed afterwards by the caller; blocked cells
/// have no flux, rain or loss and stay at zero.
#[inline(always)]
fn cells_run<const RAIN: bool, const LOSS: bool>(
    p: &Pass2<'_>,
    c: usize,
    m: usize,
    l: usize,
    o: &mut Pass2Band<'_>,
    loss_buf: &mut [f64; 2 * TILE_COLS],
) -> CellSums {
    let g = p.g;
    let nx = g.nx;
    let (j, i0) = (c / nx, c % nx);
    let fx = j * (nx + 1) + i0;
    let qw = &p.qx[fx..fx + m];
    let qe = &p.qx[fx + 1..fx + 1 + m];
    let qn = &p.qy[c..c + m];
    let qs = &p.qy[c + nx..c + nx + m];
    let cls = &p.cls[c..c + m];
    let h = &mut o.h[l..l + m];
    let mh = &mut o.max_h[l..l + m];
    let ms = &mut o.max_speed[l..l + m];
    let mhr = &mut o.max_hr[l..l + m];
    let arr = &mut o.arrival[l..l + m];
    let dur = &mut o.duration[l..l + m];
    let rz = if RAIN {
        &p.rain_zone[c..c + m]
    } else {
        &[][..]
    };
    let (lz, gaf) = if LOSS {
        (&p.loss_zone[c..c + m], &mut o.ga_f[l..l + m])
    } else {
        (&[][..], &mut [][..])
    };
    let (inf_buf, sew_buf) = loss_buf.split_at_mut(TILE_COLS);
    let k = &p.k;
    let (dt, t1, thr, smin) = (k.dt, p.t1, p.thr, p.smin);
    let mut s = CellSums::default();
    for i in 0..m {
        let free = cls[i] == 0;
        // In double precision: each face's flux leaves one cell exactly as it enters the
        // other (a difference formed in single precision would not telescope).
        let div =
            (qw[i] as f64 - qe[i] as f64) * k.inv_dx + (qn[i] as f64 - qs[i] as f64) * k.inv_dy;
        let mut hv = h[i];
        if RAIN {
            hv += p.rain_depth[rz[i] as usize];
        }
        if LOSS {
            let z = lz[i] as usize;
            let f = (gaf[i] as f64).max(1e-6);
            let cap = p.loss_fixed[z] + p.loss_ks[z] * p.loss_psi[z] / f;
            let inf = cap.min(hv).max(0.0);
            hv -= inf;
            gaf[i] += inf as f32;
            let sew = p.loss_sewer[z].min(hv).max(0.0);
            hv -= sew;
            inf_buf[i] = inf;
            sew_buf[i] = sew;
        }
        hv += dt * div;
        h[i] = hv;
        let hf = hv as f32;
        mh[i] = if free && hf > mh[i] { hf } else { mh[i] };
        let deep = free & (hv >= smin);
        let hd = if deep { hv } else { 1.0 };
        let u = 0.5 * (qw[i] as f64 + qe[i] as f64) / hd;
        let v = 0.5 * (qn[i] as f64 + qs[i] as f64) / hd;
        let sp = (u * u + v * v).sqrt();
        let df = if hv > 0.25 { 1.0 } else { 0.0 };
        let hr = (hv * (sp + 0.5) + df) as f32;
        let sp = sp as f32;
        ms[i] = if deep && sp > ms[i] { sp } else { ms[i] };
        mhr[i] = if deep && hr > mhr[i] { hr } else { mhr[i] };
        let flooded = free & (hv > thr);
        arr[i] = if flooded && arr[i].is_nan() {
            t1
        } else {
            arr[i]
        };
        dur[i] += if flooded { dt } else { 0.0 };
        let pos = free & (hf > 0.0);
        s.hmax_bits = s.hmax_bits.max(if pos { hf.to_bits() } else { 0 });
        s.neg += u32::from(free & (hv < 0.0));
        s.bad += u32::from(!hv.is_finite());
        s.wet += u32::from(hv > 0.0);
    }
    if LOSS {
        // Fixed-order sums, four lanes.
        let mut a = [0f64; 4];
        let mut b = [0f64; 4];
        for i in 0..m {
            a[i % 4] += inf_buf[i];
            b[i % 4] += sew_buf[i];
        }
        s.infiltration = (a[0] + a[1]) + (a[2] + a[3]);
        s.sewer = (b[0] + b[1]) + (b[2] + b[3]);
    }
    s
}

/// Pass 2 of band `b` over its spans.
#[inline(always)]
fn pass2_impl<const RAIN: bool, const LOSS: bool>(
    p: &Pass2<'_>,
    spans: &[Span],
    b: usize,
    o: &mut Pass2Band<'_>,
) -> BandStats {
    let g = p.g;
    let nx = g.nx;
    let r0 = b * TILE_ROWS;
    let r1 = (r0 + TILE_ROWS).min(g.ny);
    let base = r0 * nx;
    o.neg.clear();
    o.wet.iter_mut().for_each(|w| *w = 0);
    let mut st = BandStats::default();
    let mut hmax_bits = 0u32;
    let inflows = &p.inflow_cells[p.band_inflow[b] as usize..p.band_inflow[b + 1] as usize];
    for &(c, src) in inflows {
        o.h[c as usize - base] += p.inflow_depth[src as usize];
    }
    let mut loss_buf = [0f64; 2 * TILE_COLS];
    let dt = p.k.dt;
    for j in r0..r1 {
        let row = j * nx;
        for sp in spans {
            let (c0, c1) = (sp.c0 as usize, sp.c1 as usize);
            if sp.frozen {
                let ty = j / TILE_ROWS;
                let mut i = c0;
                while i < c1 {
                    let tx = i / TILE_COLS;
                    let e = ((tx + 1) * TILE_COLS).min(c1);
                    let t = ty * g.ntx + tx;
                    let tl = p.tile_lazy[t];
                    if tl != 0 {
                        // No face of a lazy tile carries flow and its depths are a function
                        // of the level alone (set when the solver syncs them); it is wet
                        // where the level is above its lowest cell.
                        let lv = p.level_now[tl as usize - 1];
                        o.wet[tx] |= u8::from(lv > p.tile_bnd_zmin[t] as f64);
                        i = e;
                        continue;
                    }
                    for i in i..e {
                        let c = row + i;
                        let l = c - base;
                        let lv = p.level_now[p.cls[c] as usize - 1];
                        let hv = (lv - p.z[c] as f64).max(0.0);
                        o.h[l] = hv;
                        let hf = hv as f32;
                        o.max_h[l] = o.max_h[l].max(hf);
                        o.wet[tx] |= u8::from(hv > 0.0);
                    }
                    i = e;
                }
                continue;
            }
            let mut i = c0;
            while i < c1 {
                let tx = i / TILE_COLS;
                let e = ((tx + 1) * TILE_COLS).min(c1);
                let (c, m, l) = (row + i, e - i, row + i - base);
                let s = cells_run::<RAIN, LOSS>(p, c, m, l, o, &mut loss_buf);
                hmax_bits = hmax_bits.max(s.hmax_bits);
                st.infiltration += s.infiltration;
                st.sewer += s.sewer;
                let mut wet = s.wet > 0;
                if s.bad > 0 && st.bad.is_none() {
                    st.bad = (c..c + m).find(|&q| !o.h[q - base].is_finite());
                }
                if s.neg > 0 {
                    for q in c..c + m {
                        if p.cls[q] == 0 && o.h[q - base] < 0.0 {
                            o.neg.push(q as u32);
                        }
                    }
                }
                if p.tile_has_level[(j / TILE_ROWS) * g.ntx + tx] {
                    // Prescribed levels: what the fluxes moved is the exchange with the
                    // rest of the domain.
                    let fx0 = j * (nx + 1) + i;
                    for (k, q) in (c..c + m).enumerate() {
                        let cl = p.cls[q] as usize;
                        if cl == 0 || cl > 253 {
                            continue;
                        }
                        // The west face of cell (i + k, j).
                        let fx = fx0 + k;
                        let div = (p.qx[fx] as f64 - p.qx[fx + 1] as f64) * p.k.inv_dx
                            + (p.qy[q] as f64 - p.qy[q + nx] as f64) * p.k.inv_dy;
                        let d = -dt * div;
                        if d > 0.0 {
                            st.bnd_in += d;
                        } else {
                            st.bnd_out -= d;
                        }
                        let hv = (p.level_now[cl - 1] - p.z[q] as f64).max(0.0);
                        let lq = q - base;
                        o.h[lq] = hv;
                        o.max_h[lq] = o.max_h[lq].max(hv as f32);
                        wet |= hv > 0.0;
                    }
                }
                if wet {
                    o.wet[tx] = 1;
                }
                i = e;
            }
        }
    }
    st.hmax = f32::from_bits(hmax_bits);
    st
}

macro_rules! isa_variants {
    ($base:ident, $avx2:ident, $avx512:ident, [$($gen:tt)*], ($($arg:ident : $ty:ty),*) -> $ret:ty, $body:expr) => {
        #[inline(always)]
        fn $base<$($gen)*>($($arg: $ty),*) -> $ret { $body }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2<$($gen)*>($($arg: $ty),*) -> $ret { $body }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        unsafe fn $avx512<$($gen)*>($($arg: $ty),*) -> $ret { $body }
    };
}

isa_variants!(
    pass1_base,
    pass1_avx2,
    pass1_avx512,
    [const IMPLICIT: bool],
    (p: &Pass1<'_>, spans: &[Span], b: usize, qxb: &mut [f32], qyb: &mut [f32]) -> f32,
    pass1_impl::<IMPLICIT>(p, spans, b, qxb, qyb)
);

isa_variants!(
    pass2_base,
    pass2_avx2,
    pass2_avx512,
    [const RAIN: bool, const LOSS: bool],
    (p: &Pass2<'_>, spans: &[Span], b: usize, o: &mut Pass2Band<'_>) -> BandStats,
    pass2_impl::<RAIN, LOSS>(p, spans, b, o)
);

/// Pass 1 of one band with the given instruction set; `implicit` selects the friction form.
pub fn pass1_band(
    isa: Isa,
    implicit: bool,
    p: &Pass1<'_>,
    spans: &[Span],
    b: usize,
    qxb: &mut [f32],
    qyb: &mut [f32],
) -> f32 {
    macro_rules! go {
        ($i:literal) => {
            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Isa::Avx512` is only chosen when the CPU reports these features.
                Isa::Avx512 => unsafe { pass1_avx512::<$i>(p, spans, b, qxb, qyb) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Isa::Avx2` is only chosen when the CPU reports AVX2.
                Isa::Avx2 => unsafe { pass1_avx2::<$i>(p, spans, b, qxb, qyb) },
                _ => pass1_base::<$i>(p, spans, b, qxb, qyb),
            }
        };
    }
    if implicit { go!(true) } else { go!(false) }
}

/// Pass 2 of one band with the given instruction set; `rain` and `loss` select the
/// variant with rain zones and with loss zones.
pub fn pass2_band(
    isa: Isa,
    rain: bool,
    loss: bool,
    p: &Pass2<'_>,
    spans: &[Span],
    b: usize,
    o: &mut Pass2Band<'_>,
) -> BandStats {
    macro_rules! go {
        ($r:literal, $l:literal) => {
            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Isa::Avx512` is only chosen when the CPU reports these features.
                Isa::Avx512 => unsafe { pass2_avx512::<$r, $l>(p, spans, b, o) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Isa::Avx2` is only chosen when the CPU reports AVX2.
                Isa::Avx2 => unsafe { pass2_avx2::<$r, $l>(p, spans, b, o) },
                _ => pass2_base::<$r, $l>(p, spans, b, o),
            }
        };
    }
    match (rain, loss) {
        (false, false) => go!(false, false),
        (true, false) => go!(true, false),
        (false, true) => go!(false, true),
        (true, true) => go!(true, true),
    }
}
