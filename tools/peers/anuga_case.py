"""Run one ANUGA test case (finite-volume, unstructured triangles).

    OMP_NUM_THREADS=1 nice -n 15 python anuga_case.py speed --m 512 --t1 5 --t2 10
    nice -n 15 python anuga_case.py dambreak

Cases (same physical set-up as cases.py / itzi_case.py)
-----------------------------------------------------
speed     side L = 2 * m metres, anuga.rectangular_cross_domain(m, m): every
          2 m x 2 m square is split by its diagonals into 4 triangles of 1 m^2,
          so 4 m^2 triangles = the cell count of an (2m) x (2m) grid at 1 m.
          Flat bed, h = 1 m + 0.5 m Gaussian hump (sigma = L/6), Manning
          n = 0.03, reflective (closed) boundaries.  Evolves to --t2 with a
          yield at --t1; the time stepping cost is taken from the interval
          t1..t2 (wall clock and step count between the two yields), which
          excludes mesh building, set-up and the first-step warm-up.
dambreak  1000 m x 4 m, rectangular_cross_domain(1000, 4) (1 m squares,
          16 000 triangles), dam at x = 500 m, h0 = 1 m, dry downstream,
          friction 0, reflective ends, t = 30 s.  Centreline profile = mean
          depth of the triangle centroids in each 1 m bin in x.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import cases  # noqa: E402


def reflective_all(domain):
    import anuga

    br = anuga.Reflective_boundary(domain)
    domain.set_boundary({"left": br, "right": br, "top": br, "bottom": br})


def common(domain, args):
    domain.set_store(False)  # no .sww output: measure the solver, not I/O
    if args.flow_algorithm:
        domain.set_flow_algorithm(args.flow_algorithm)
    if args.compute_mode:
        domain.set_compute_mode(args.compute_mode)


def info(domain):
    return {
        "flow_algorithm": domain.get_flow_algorithm(),
        "timestepping_method": domain.get_timestepping_method(),
        "CFL": domain.CFL,
        "compute_mode": domain.get_compute_mode() if hasattr(domain, "get_compute_mode") else None,
        "g": domain.g,
        "minimum_allowed_height": domain.minimum_allowed_height,
        "triangles": int(domain.number_of_elements),
    }


def run_speed(args):
    import anuga

    m = args.m
    side = 2.0 * m
    t0 = time.perf_counter()
    domain = anuga.rectangular_cross_domain(m, m, len1=side, len2=side)
    t_mesh = time.perf_counter() - t0
    common(domain, args)
    domain.set_quantity("elevation", 0.0)
    domain.set_quantity("friction", cases.SPEED_MANNING)
    domain.set_quantity("stage", lambda x, y: cases.speed_case_xy(x, y, side), location="centroids")
    reflective_all(domain)
    t_setup = time.perf_counter() - t0

    marks = []  # (model time, wall, steps since previous yield, cpu)
    tw = time.perf_counter()
    cw = time.process_time()
    for t in domain.evolve(yieldstep=args.t1, finaltime=args.t2):
        marks.append((float(t), time.perf_counter() - tw, int(domain.number_of_steps),
                      time.process_time() - cw))
    t_total = time.perf_counter() - t0
    # marks: [(0, ~0, 0), (t1, w1, s1), (t2, w2, s2)] (s counts reset per yield)
    # yields at 0, t1, 2 t1, ..., t2; step counters restart at every yield
    (ta, wa, sa, ca), (tb, wb, _, cb) = marks[1], marks[-1]
    sb = sum(mk[2] for mk in marks[2:])
    tri = int(domain.number_of_elements)
    d_wall = wb - wa
    res = {
        "model": "anuga",
        "anuga_version": anuga.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "case": "speed",
        "m": m,
        "side_m": side,
        **info(domain),
        "t1_s": ta,
        "t2_s": tb,
        "steps_0_t1": sa,
        "steps_t1_t2": sb,
        "dt_mean_0_t1_s": ta / sa,
        "dt_mean_t1_t2_s": (tb - ta) / sb,
        "wall_mesh_s": t_mesh,
        "wall_setup_s": t_setup,
        "wall_0_t1_s": wa,
        "wall_t1_t2_s": d_wall,
        "cpu_t1_t2_s": cb - ca,  # user+sys of all threads of this process
        "wall_total_s": t_total,
        "triangle_updates_per_s_t1_t2": tri * sb / d_wall,
        "triangle_updates_per_s_0_t2": tri * (sa + sb) / wb,
        "max_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "loadavg_at_start": LOAD0,
        "loadavg_at_end": os.getloadavg(),
    }
    return res


def run_dambreak(args):
    import anuga

    domain = anuga.rectangular_cross_domain(1000, 4, len1=cases.DB_LENGTH, len2=cases.DB_WIDTH)
    common(domain, args)
    domain.set_quantity("elevation", 0.0)
    domain.set_quantity("friction", 0.0)
    domain.set_quantity(
        "stage", lambda x, y: np.where(np.asarray(x) < cases.DB_X0, cases.DB_H0, 0.0),
        location="centroids")
    reflective_all(domain)
    steps = 0
    t0 = time.perf_counter()
    for t in domain.evolve(yieldstep=cases.DB_T, finaltime=cases.DB_T):
        steps += int(domain.number_of_steps)
    wall = time.perf_counter() - t0
    cx = domain.centroid_coordinates[:, 0]
    h = domain.quantities["stage"].centroid_values - domain.quantities["elevation"].centroid_values
    bins = np.clip(np.floor(cx).astype(int), 0, 999)
    prof = np.bincount(bins, weights=h, minlength=1000) / np.bincount(bins, minlength=1000)
    xc = np.arange(1000) + 0.5
    tag = args.tag or f"_{domain.get_flow_algorithm()}"
    csv = Path(args.outdir) / f"dambreak_anuga{tag}.csv"
    cases.write_profile_csv(csv, xc, prof, t=cases.DB_T, g=domain.g)
    res = {
        "model": "anuga",
        "anuga_version": anuga.__version__,
        "case": "dambreak",
        **info(domain),
        "steps": steps,
        "dt_mean_s": cases.DB_T / steps,
        "wall_evolve_s": wall,
        # ANUGA's own g (9.8) is used for its analytic reference
        "errors": cases.dambreak_errors(xc, prof, t=cases.DB_T, g=domain.g),
        "profile_csv": str(csv),
    }
    return res


LOAD0 = os.getloadavg()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["speed", "dambreak"])
    ap.add_argument("--m", type=int, default=512, help="speed: squares per side (4 m^2 triangles)")
    ap.add_argument("--t1", type=float, default=5.0)
    ap.add_argument("--t2", type=float, default=10.0)
    ap.add_argument("--flow-algorithm", default=None, help="e.g. DE0 (default), DE1, DE2")
    ap.add_argument("--compute-mode", default=None, choices=["legacy", "unified"])
    ap.add_argument("--tag", default="")
    ap.add_argument("--outdir", default="/work/peers/results")
    args = ap.parse_args()
    Path(args.outdir).mkdir(parents=True, exist_ok=True)
    os.chdir(args.outdir)  # anything ANUGA writes lands here
    res = run_speed(args) if args.case == "speed" else run_dambreak(args)
    name = (f"anuga_speed_m{args.m}" if args.case == "speed" else "anuga_dambreak") + (
        args.tag or (f"_{res['flow_algorithm']}" if args.case == "dambreak" else ""))
    out = Path(args.outdir) / f"{name}.json"
    out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
