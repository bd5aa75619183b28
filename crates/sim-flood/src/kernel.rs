//! The per-face and per-cell arithmetic of the local inertial scheme, kept free of state so
//! that it can be tested on its own and inlined into the band loops.

/// Constants of one time step.
#[derive(Debug, Clone, Copy)]
pub struct StepConst {
    pub dt: f64,
    pub g: f64,
    /// g · dt
    pub gdt: f64,
    pub theta: f64,
    /// (1 − θ) / 2
    pub half_1mt: f64,
    pub froude: f64,
    pub dry: f64,
    pub inv_dx: f64,
    pub inv_dy: f64,
    pub cd_weir: f64,
}

/// `x^(−1/3)` for `x` in about [1e-30, 1e30], relative error below 1e-12: an initial guess
/// from the float's bit pattern refined by four Newton steps `y ← y (4 − x y³) / 3`. Only
/// multiplications and additions, so it vectorises and gives the same bits on every CPU.
#[inline(always)]
pub fn inv_cbrt(x: f64) -> f64 {
    let xf = x as f32;
    let mut y = f32::from_bits(0x54a2_fa8c_u32.wrapping_sub(xf.to_bits() / 3)) as f64;
    const THIRD: f64 = 1.0 / 3.0;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y
}

/// New unit discharge (m²/s) of one face and its flow depth (0 when the face is dry).
///
/// `eta_a`, `eta_b`: water surface on the negative and positive side; `zf`: the face's bed
/// (the higher of the two cells and any barrier crest); `qc`: the face's discharge at the
/// previous step; `ql`, `qr`: its two neighbours in the flow direction (q-centred scheme of
/// de Almeida et al. 2012); `nf`: Manning n at the face; `blocked`: no flow (both cells are
/// prescribed). Semi-implicit friction (Bates et al. 2010), then the Froude limit.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn face_flux(
    k: &StepConst,
    eta_a: f64,
    eta_b: f64,
    zf: f64,
    qc: f64,
    ql: f64,
    qr: f64,
    nf: f64,
    inv_d: f64,
    blocked: bool,
) -> (f64, f64) {
    let hf = eta_a.max(eta_b) - zf;
    let wet = hf > k.dry && !blocked;
    let hfc = if wet { hf } else { k.dry };
    let slope = (eta_b - eta_a) * inv_d;
    let q0 = k.theta * qc + k.half_1mt * (ql + qr);
    let r = inv_cbrt(hfc);
    let r2 = r * r;
    let r7 = r2 * r2 * r2 * r;
    let fric = k.gdt * nf * nf * qc.abs() * r7;
    let q = (q0 - k.gdt * hfc * slope) / (1.0 + fric);
    let qmax = k.froude * hfc * (k.g * hfc).sqrt();
    let q = q.min(qmax).max(-qmax);
    if wet { (q, hf) } else { (0.0, 0.0) }
}

/// `x^(−1/3)` in single precision (relative error below 3e-7 for x in [1e-30, 1e30]).
#[inline(always)]
pub fn inv_cbrt_f32(x: f32) -> f32 {
    let mut y = f32::from_bits(0x54a2_fa8c_u32.wrapping_sub(x.to_bits() / 3));
    const THIRD: f32 = 1.0 / 3.0;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y = y * (4.0 - x * y * y * y) * THIRD;
    y
}

/// Single-precision constants of one step for the face loops.
#[derive(Debug, Clone, Copy)]
pub struct FaceConst {
    pub g: f32,
    pub gdt: f32,
    pub theta: f32,
    pub half_1mt: f32,
    pub froude: f32,
    pub dry: f32,
}

impl FaceConst {
    pub fn new(k: &StepConst) -> FaceConst {
        FaceConst {
            g: k.g as f32,
            gdt: k.gdt as f32,
            theta: k.theta as f32,
            half_1mt: k.half_1mt as f32,
            froude: k.froude as f32,
            dry: k.dry as f32,
        }
    }
}

/// New discharges of a run of `m` faces, written branch-free so that it vectorises.
///
/// Face `i` lies between cells `a[i]` and `b[i]` (`za`/`ha`/`na`/`ca` and `zb`/`hb`/`nb`/`cb`
/// are those cells' bed, depth, Manning n and class; flow stops when both classes are
/// non-zero), has bed `zf[i]` and old discharge `qc[i]`; `ql[i]` and `qr[i]` are its
/// neighbours along the flow direction (q-centred scheme). Water
/// levels and their difference are formed in double precision (lake at rest stays exactly
/// at rest); the momentum update runs in single precision like the stored discharges.
/// Friction is implicit in the new discharge: with `IMPLICIT` the quadratic
/// `|q| (1 + a |q|) = |q*|`, `a = g dt n² / h^(7/3)`, is solved exactly (stable and
/// monotone however strong the friction); without it `|q|` is lagged as in Bates et al.
/// (2010), which oscillates with period two where friction dominates.
/// Returns the largest wave speed `|u| + sqrt(g h_f)` over the wet faces (m/s).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn face_run<const IMPLICIT: bool>(
    k: &FaceConst,
    inv_d: f64,
    za: &[f32],
    zb: &[f32],
    ha: &[f64],
    hb: &[f64],
    na: &[f32],
    nb: &[f32],
    ca: &[u8],
    cb: &[u8],
    zf: &[f32],
    ql: &[f32],
    qc: &[f32],
    qr: &[f32],
    out: &mut [f32],
) -> f32 {
    let m = out.len();
    let (za, zb, ha, hb) = (&za[..m], &zb[..m], &ha[..m], &hb[..m]);
    let (na, nb, ca, cb, zf) = (&na[..m], &nb[..m], &ca[..m], &cb[..m], &zf[..m]);
    let (ql, qc, qr) = (&ql[..m], &qc[..m], &qr[..m]);
    // Largest wave speed as the bits of a non-negative float (an integer maximum
    // vectorises; a float maximum reduction does not without fast-math).
    let mut smax = 0u32;
    for i in 0..m {
        let ea = za[i] as f64 + ha[i];
        let eb = zb[i] as f64 + hb[i];
        let hf = (ea.max(eb) - zf[i] as f64) as f32;
        let slope = ((eb - ea) * inv_d) as f32;
        let wet = (hf > k.dry) & ((ca[i] == 0) | (cb[i] == 0));
        let hfc = if wet { hf } else { k.dry };
        let qo = qc[i];
        let q0 = k.theta * qo + k.half_1mt * (ql[i] + qr[i]);
        let nf = 0.5 * (na[i] + nb[i]);
        let r = inv_cbrt_f32(hfc);
        let r2 = r * r;
        let r7 = r2 * r2 * r2 * r;
        let qs = q0 - k.gdt * hfc * slope;
        let qn = if IMPLICIT {
            let a = k.gdt * nf * nf * r7;
            let m = qs.abs();
            (2.0 * m / (1.0 + (1.0 + 4.0 * a * m).sqrt())).copysign(qs)
        } else {
            qs / (1.0 + k.gdt * nf * nf * qo.abs() * r7)
        };
        let c = (k.g * hfc).sqrt();
        let qmax = k.froude * hfc * c;
        let qn = qn.min(qmax).max(-qmax);
        out[i] = if wet { qn } else { 0.0 };
        let speed = qn.abs() / hfc + c;
        smax = smax.max(if wet { speed.to_bits() } else { 0 });
    }
    f32::from_bits(smax)
}

/// Discharge over a barrier crest by the broad-crested weir law with Villemonte's
/// submergence reduction, `q = Cd · (2/3) · sqrt(2g/3) · H^1.5 · (1 − (Hd/H)^1.5)^0.385`,
/// limited so that one step never moves more than half the level difference. Positive
/// from side a to side b. `len` is the distance between the two cell centres.
#[inline]
pub fn weir_flux(k: &StepConst, eta_a: f64, eta_b: f64, crest: f64, len: f64) -> f64 {
    let (up, dn) = if eta_a >= eta_b {
        (eta_a, eta_b)
    } else {
        (eta_b, eta_a)
    };
    let head = up - crest;
    if head <= k.dry {
        return 0.0;
    }
    let c0 = (2.0 / 3.0) * (2.0 * k.g / 3.0).sqrt();
    let mut q = k.cd_weir * c0 * head * head.sqrt();
    let hd = dn - crest;
    if hd > 0.0 {
        q *= (1.0 - (hd / head).powf(1.5)).max(0.0).powf(0.385);
    }
    let cap = (up - dn) * len / (2.0 * k.dt);
    let q = q.min(cap);
    if eta_a >= eta_b { q } else { -q }
}

/// UK flood hazard rating `HR = d (v + 0.5) + DF` (Defra/Environment Agency FD2320/FD2321)
/// with the debris factor for urban areas: 0 up to 0.25 m depth, 1 above.
#[inline]
pub fn hazard_rating(depth: f64, speed: f64) -> f64 {
    let df = if depth > 0.25 { 1.0 } else { 0.0 };
    depth * (speed + 0.5) + df
}

/// Hazard class of a rating: 0 none, 1 low (< 0.75), 2 moderate (0.75–1.25),
/// 3 significant (1.25–2.0), 4 extreme (> 2.0).
pub fn hazard_class(hr: f64) -> u8 {
    if hr.is_nan() || hr <= 0.0 {
        0
    } else if hr < 0.75 {
        1
    } else if hr < 1.25 {
        2
    } else if hr <= 2.0 {
        3
    } else {
        4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(dt: f64) -> StepConst {
        StepConst {
            dt,
            g: 9.81,
            gdt: 9.81 * dt,
            theta: 1.0,
            half_1mt: 0.0,
            froude: 1.0,
            dry: 1e-3,
            inv_dx: 1.0,
            inv_dy: 1.0,
            cd_weir: 1.0,
        }
    }

    #[test]
    fn inv_cbrt_is_accurate() {
        let mut worst: f64 = 0.0;
        let mut x = 1e-12;
        while x < 1e12 {
            let e = (inv_cbrt(x) * x.cbrt() - 1.0).abs();
            worst = worst.max(e);
            x *= 1.0137;
        }
        assert!(worst < 1e-12, "{worst}");
    }

    #[test]
    fn face_flux_limits() {
        let k = k(0.1);
        // Lake at rest: no flow.
        let (q, hf) = face_flux(&k, 2.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.03, 1.0, false);
        assert_eq!((q, hf), (0.0, 1.0));
        // Dry face.
        assert_eq!(
            face_flux(&k, 1.0005, 0.5, 1.0, 0.0, 0.0, 0.0, 0.03, 1.0, false),
            (0.0, 0.0)
        );
        // Frictionless acceleration from rest: q = −g h dt S.
        let (q, _) = face_flux(&k, 1.1, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, false);
        assert!((q - 9.81 * 1.1 * 0.1 * 0.1).abs() < 1e-12, "{q}");
        // Froude limit caps a steep fall.
        let (q, hf) = face_flux(&k, 10.0, 0.0, 9.9, 0.0, 0.0, 0.0, 0.0, 1.0, false);
        assert!((q - hf * (9.81 * hf).sqrt()).abs() < 1e-12);
        // Friction slows: steady uniform flow satisfies Manning.
        let (h, n, s) = (0.5f64, 0.03f64, 1e-3f64);
        let q_manning = h.powf(5.0 / 3.0) * s.sqrt() / n;
        let (q, _) = face_flux(&k, h + s, h, s, q_manning, 0.0, 0.0, n, 1.0, false);
        assert!((q / q_manning - 1.0).abs() < 1e-12, "{q} {q_manning}");
    }

    #[test]
    fn weir_law() {
        let k = k(0.01);
        let q = weir_flux(&k, 1.5, 0.0, 1.0, 10.0);
        let expect = (2.0 / 3.0) * (2.0 * 9.81f64 / 3.0).sqrt() * 0.5f64.powf(1.5);
        assert!((q - expect).abs() < 1e-12);
        assert!((weir_flux(&k, 0.0, 1.5, 1.0, 10.0) + expect).abs() < 1e-12);
        assert_eq!(weir_flux(&k, 0.9, 0.0, 1.0, 10.0), 0.0);
        // Drowned: less than free flow, zero at equal levels.
        assert!(weir_flux(&k, 1.5, 1.4, 1.0, 10.0) < expect);
        assert_eq!(weir_flux(&k, 1.5, 1.5, 1.0, 10.0), 0.0);
    }

    #[test]
    fn hazard() {
        assert_eq!(hazard_class(hazard_rating(0.1, 0.0)), 1);
        assert_eq!(hazard_class(hazard_rating(0.3, 0.0)), 2);
        assert_eq!(hazard_class(hazard_rating(0.5, 1.0)), 3);
        assert_eq!(hazard_class(hazard_rating(1.0, 1.0)), 4);
        assert_eq!(hazard_class(0.0), 0);
    }
}
