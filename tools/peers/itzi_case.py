"""Run one Itzi test case inside an (already started) GRASS session.

Normally launched by ``run_itzi.sh``, which creates a throw-away GRASS
project/location and runs this file with ``grass --tmp-project EPSG:25832
--exec``.  It

1. sets the computational region and writes the input rasters (from cases.py)
   with grass.script.array,
2. writes an Itzi .ini configuration file,
3. runs the simulation in-process through ``itzi.itzi.SimulationRunner`` (the
   object that ``itzi run`` uses), timing set-up, every time step and the
   finalisation separately, then
4. writes a JSON summary (and for the dam break the centreline CSV).

Cases
-----
speed     N x N grid, 1 m cells, 1 m water + 0.5 m Gaussian hump, n=0.03,
          closed boundaries, ``--duration`` seconds of simulated time.
dambreak  1000 x 4 cells at 1 m, dam at x=500 m, h0=1 m, dry downstream,
          closed ends, t = 30 s, Manning n given by ``--manning``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import cases  # noqa: E402


def hms(seconds: float) -> str:
    s = int(round(seconds))
    if abs(s - seconds) > 1e-9:
        raise SystemExit("durations must be whole seconds for the Itzi .ini format")
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def write_raster(name: str, arr: np.ndarray) -> None:
    from grass.script import array as garray

    a = garray.array(dtype=np.float32)
    if a.shape != arr.shape:
        raise RuntimeError(f"region shape {a.shape} != array shape {arr.shape}")
    a[...] = arr
    a.write(mapname=name, overwrite=True)


def cli_difference(args, name, cells, write_ini, t_inputs, outdir):
    """Time `itzi run` for two durations; the difference removes start-up,
    map reading and writing (one output map per run in both)."""
    import subprocess

    import grass.script as gs
    from importlib.metadata import version as pkg_version

    runs = []
    for d in (float(v) for v in args.cli_durations.split(",")):
        rname = f"{name}_cli{int(d)}"
        ini, stats_file = write_ini(rname, d)
        t0 = time.perf_counter()
        r0 = os.times()
        subprocess.run(["itzi", "run", "-o", "-q", str(ini)], check=True)
        wall = time.perf_counter() - t0
        r1 = os.times()
        rows = stats_file.read_text().strip().splitlines()
        steps = int(rows[-1].split(",")[2])  # 'timesteps' column of the last record
        runs.append({"duration_s": d, "wall_s": wall, "steps": steps,
                     "cpu_children_s": (r1.children_user - r0.children_user)
                     + (r1.children_system - r0.children_system),
                     "stats_csv": stats_file.read_text()})
    a, b = runs[0], runs[-1]
    dsteps = b["steps"] - a["steps"]
    res = {
        "model": "itzi", "mode": "cli-difference", "itzi_version": pkg_version("itzi"),
        "grass_version": gs.parse_command("g.version", flags="g")["version"],
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "case": args.case + "-cli",
        "cells": cells, "wall_inputs_s": t_inputs, "runs": runs,
        "delta_steps": dsteps, "delta_wall_s": b["wall_s"] - a["wall_s"],
        "delta_cpu_s": b["cpu_children_s"] - a["cpu_children_s"],
        "cell_updates_per_s_delta_wall": cells * dsteps / (b["wall_s"] - a["wall_s"]),
        "cell_updates_per_s_delta_cpu": cells * dsteps / (b["cpu_children_s"] - a["cpu_children_s"]),
        "startup_estimate_s": a["wall_s"] - a["steps"] * (b["wall_s"] - a["wall_s"]) / dsteps,
        "loadavg_at_start": LOAD0, "loadavg_at_end": os.getloadavg(),
    }
    js = outdir / f"{name}_cli.json"
    js.write_text(json.dumps(res, indent=2))
    print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=1))
    print("wrote", js)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["speed", "dambreak"])
    ap.add_argument("--n", type=int, default=2048, help="speed: grid side in cells")
    ap.add_argument("--duration", type=float, default=None, help="simulated seconds")
    ap.add_argument("--manning", type=float, default=None)
    ap.add_argument("--hmin", type=float, default=None, help="Itzi [options] hmin (m)")
    ap.add_argument("--theta", type=float, default=None, help="Itzi [options] theta")
    ap.add_argument("--cfl", type=float, default=None, help="Itzi [options] cfl")
    ap.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                    help="any other Itzi [options] entry, e.g. slope_threshold=10")
    ap.add_argument("--cli-durations", default=None, metavar="T1,T2",
                    help="instead of the in-process run, time `itzi run` (the CLI) for two "
                         "simulated durations and take the difference")
    ap.add_argument("--save-field", action="store_true",
                    help="also save the final depth field as RESULTS/<name>_h.npy")
    ap.add_argument("--tag", default="", help="suffix for output file names")
    ap.add_argument("--outdir", default="/work/peers/results")
    ap.add_argument("--workdir", default=None, help="where the .ini and stats go")
    args = ap.parse_args()

    import grass.script as gs

    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir or outdir / "itzi_work")
    workdir.mkdir(parents=True, exist_ok=True)

    global LOAD0
    LOAD0 = os.getloadavg()
    t_start = time.perf_counter()
    if args.case == "speed":
        n = args.n
        duration = 60.0 if args.duration is None else args.duration
        manning = cases.SPEED_MANNING if args.manning is None else args.manning
        gs.run_command("g.region", n=n, s=0, e=n, w=0, res=1, quiet=True)
        z, h, nm = cases.speed_case(n)
        nm[:] = manning
        name = f"itzi_speed_{n}{args.tag}"
    else:
        duration = cases.DB_T if args.duration is None else args.duration
        manning = 0.0 if args.manning is None else args.manning
        gs.run_command("g.region", n=4, s=0, e=1000, w=0, res=1, quiet=True)
        z, h, xc = cases.dambreak_grid()
        nm = np.full_like(z, manning)
        name = f"itzi_dambreak{args.tag}"
    write_raster("in_dem", z)
    write_raster("in_h", h)
    write_raster("in_n", nm)
    t_inputs = time.perf_counter() - t_start

    opts = {"hmin": args.hmin, "theta": args.theta, "cfl": args.cfl}
    for kv in args.opt:
        k, v = kv.split("=", 1)
        opts[k.strip()] = float(v)
    opt_lines = "".join(f"{k} = {v}\n" for k, v in opts.items() if v is not None)

    def write_ini(name, duration):
        stats_file = workdir / f"{name}_stats.csv"
        if stats_file.exists():
            stats_file.unlink()
        ini = workdir / f"{name}.ini"
        ini.write_text(ini_text(name, duration, stats_file))
        return ini, stats_file

    def ini_text(name, duration, stats_file):
        return f"""[time]
duration = {hms(duration)}
record_step = {hms(duration)}

[input]
dem = in_dem
friction = in_n
water_depth = in_h

[output]
prefix = out_{"".join(ch if ch.isalnum() else "_" for ch in name)}
values = water_depth

[statistics]
stats_file = {stats_file}

[options]
{opt_lines}"""

    if args.cli_durations:
        return cli_difference(args, name, cells=int(h.size), write_ini=write_ini,
                              t_inputs=t_inputs, outdir=outdir)
    ini, stats_file = write_ini(name, duration)

    # --- run the model in-process, same objects as `itzi run` ---------------
    os.environ.setdefault("GRASS_OVERWRITE", "1")
    os.environ.setdefault("ITZI_VERBOSE", "2")  # messages only
    os.environ.setdefault("GRASS_VERBOSE", "0")
    import itzi
    from importlib.metadata import version as pkg_version
    import itzi.messenger as msgr
    from itzi.configreader import ConfigReader
    from itzi.itzi import SimulationRunner

    msgr.raise_on_error = True
    conf = ConfigReader(str(ini))
    sim_params = conf.get_sim_params()
    grass_params = conf.get_grass_params()

    t0 = time.perf_counter()
    runner = SimulationRunner(sim_params, grass_params, None)  # reads maps, builds, initialize()
    t_setup = time.perf_counter() - t0

    sim = runner.sim
    step_times: list[float] = []
    dts: list[float] = []
    t0 = time.perf_counter()
    c0 = time.process_time()
    while sim.sim_time < sim.end_time:
        ts = time.perf_counter()
        runner.step()
        step_times.append(time.perf_counter() - ts)
        dts.append(sim.dt.total_seconds())
    t_loop = time.perf_counter() - t0
    cpu_loop = time.process_time() - c0
    steps = sim.time_steps_counters["since_start"]

    # final state straight from the model's arrays (identical to what it
    # writes to the GRASS output map at the last record step)
    h_final = np.array(sim.raster_domain.get_array("water_depth"), dtype=np.float64)
    t0 = time.perf_counter()
    runner.finalize()
    t_final = time.perf_counter() - t0
    t_total = time.perf_counter() - t_start

    # The last step also writes the output raster (record step = end) and the
    # first one includes warm-up: exclude both for the "pure stepping" cost.
    inner = step_times[1:-1] if len(step_times) > 2 else step_times
    cells = int(h.size)
    res = {
        "model": "itzi",
        "itzi_version": pkg_version("itzi"),
        "grass_version": gs.parse_command("g.version", flags="g")["version"],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "case": args.case,
        "grid": list(h.shape),
        "cells": cells,
        "dtype": str(sim.raster_domain.dtype.__name__ if hasattr(sim.raster_domain.dtype, "__name__") else sim.raster_domain.dtype),
        "manning": manning,
        "options": {k: v for k, v in opts.items() if v is not None},
        "sim_duration_s": duration,
        "steps": steps,
        "dt_first_s": dts[0],
        "dt_mean_s": duration / steps,
        "dt_median_s": statistics.median(dts),
        "dt_min_s": min(dts),
        "dt_max_s": max(dts),
        "h_max_initial_m": float(np.max(h)),
        "h_max_final_m": float(np.max(h_final)),
        "dt_series_s": dts,
        "wall_inputs_s": t_inputs,
        "wall_setup_s": t_setup,
        "wall_loop_s": t_loop,
        "cpu_loop_s": cpu_loop,  # user+sys of all threads of this process
        "wall_first_step_s": step_times[0],
        "wall_last_step_s": step_times[-1],
        "wall_inner_steps_s": sum(inner),
        "n_inner_steps": len(inner),
        "wall_step_median_s": statistics.median(step_times),
        "wall_finalize_s": t_final,
        "wall_total_in_grass_s": t_total,
        "cell_updates_per_s_loop": cells * steps / t_loop,
        "cell_updates_per_s_inner": cells * len(inner) / sum(inner),
        "loadavg_at_start": LOAD0,
        "loadavg_at_end": os.getloadavg(),
        "ini": ini.read_text(),
    }
    if stats_file.exists():
        res["itzi_stats_csv"] = stats_file.read_text()
    if args.case == "speed":
        rc = np.unravel_index(int(np.argmax(h_final)), h_final.shape)
        res["h_max_final_rowcol"] = [int(rc[0]), int(rc[1])]
        res["h_min_final_m"] = float(np.min(h_final))
        # amplitude of the 2x2 (odd/even) "checkerboard" mode of the final depth
        hf = h_final[: h_final.shape[0] // 2 * 2, : h_final.shape[1] // 2 * 2]
        cb = (hf[0::2, 0::2] + hf[1::2, 1::2] - hf[1::2, 0::2] - hf[0::2, 1::2]) / 4.0
        res["checkerboard_amp_max_m"] = float(np.abs(cb).max())
        res["checkerboard_amp_mean_m"] = float(np.abs(cb).mean())
        # depth along the middle row (y = side/2 - 0.5), west -> east
        row = h_final.shape[0] // 2
        xc = (np.arange(h_final.shape[1]) + 0.5)
        csv = outdir / f"{name}_midrow.csv"
        np.savetxt(csv, np.column_stack([xc, h_final[row], h[row]]), delimiter=",",
                   header="x_m,h_final_m,h_initial_m", comments="", fmt="%.9g")
        res["midrow_csv"] = str(csv)
        if args.save_field:
            np.save(outdir / f"{name}_h.npy", h_final.astype(np.float32))
    if args.case == "dambreak":
        prof = h_final.mean(axis=0)  # all rows are identical in a 1D case
        res["row_spread_max_m"] = float(np.max(h_final.max(axis=0) - h_final.min(axis=0)))
        res["errors"] = cases.dambreak_errors(xc, prof, t=duration)
        csv = outdir / f"dambreak_itzi{args.tag}.csv"
        cases.write_profile_csv(csv, xc, prof, t=duration)
        res["profile_csv"] = str(csv)
    js = outdir / f"{name}.json"
    js.write_text(json.dumps(res, indent=2))
    summary = {k: res[k] for k in ("case", "grid", "OMP_NUM_THREADS", "steps", "dt_median_s",
                                   "wall_setup_s", "wall_loop_s", "cpu_loop_s", "wall_inner_steps_s",
                                   "cell_updates_per_s_inner")}
    if "errors" in res:
        summary["errors"] = res["errors"]
    print(json.dumps(summary, indent=1))
    print("wrote", js)


if __name__ == "__main__":
    main()
