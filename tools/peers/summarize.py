"""Collect the JSON results of itzi_case.py / anuga_case.py into tables.

    python summarize.py [/work/peers/results]

Writes RESULTS/summary.md and RESULTS/dambreak_ritter.csv (the analytic
profile at cell centres, g = 9.80665), prints the tables to stdout, and
re-computes the dam-break errors from each dambreak_*.csv so they can be
checked independently of the drivers.
Needs only numpy.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import cases  # noqa: E402


def fmt(v, p=3):
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.{p}e}"
        return f"{v:.{p}g}" if abs(v) < 1 else f"{v:.{p + 1}g}"
    return str(v)


def main():
    res_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/peers/results")
    rows_speed, rows_db, rows_cli = [], [], []
    for js in sorted(res_dir.glob("*.json")):
        r = json.loads(js.read_text())
        if r.get("case") == "speed-cli":
            rows_cli.append([js.stem, r["cells"], r["OMP_NUM_THREADS"],
                             " / ".join(f"{x['duration_s']:g} s: {x['steps']} steps, "
                                        f"{x['wall_s']:.2f} s wall, {x['cpu_children_s']:.2f} s cpu"
                                        for x in r["runs"]),
                             r["delta_steps"], r["delta_wall_s"], r["delta_cpu_s"],
                             r["cell_updates_per_s_delta_wall"], r["cell_updates_per_s_delta_cpu"],
                             r["startup_estimate_s"]])
        elif r.get("case") == "speed":
            if r["model"] == "itzi":
                rows_speed.append([
                    js.stem, "Itzi " + r["itzi_version"], "x".join(map(str, r["grid"])) + " cells",
                    r["cells"], r["OMP_NUM_THREADS"], r["sim_duration_s"], r["steps"],
                    r["n_inner_steps"], r["dt_median_s"], r["wall_setup_s"] + r["wall_inputs_s"],
                    r["wall_loop_s"], r["wall_inner_steps_s"], r.get("cpu_loop_s"),
                    r["cell_updates_per_s_inner"],
                    r["cells"] * r["steps"] / r["cpu_loop_s"] if r.get("cpu_loop_s") else None,
                    r.get("loadavg_at_start", [None])[0], r["loadavg_at_end"][0],
                    r.get("options"), r.get("h_max_final_m"),
                ])
            else:
                rows_speed.append([
                    js.stem, f"ANUGA {r['anuga_version']} {r['flow_algorithm']}",
                    f"cross mesh m={r['m']}, {r['side_m']:.0f} m side",
                    r["triangles"], r["OMP_NUM_THREADS"], r["t2_s"], r["steps_0_t1"] + r["steps_t1_t2"],
                    r["steps_t1_t2"], r["dt_mean_t1_t2_s"], r["wall_setup_s"],
                    r["wall_0_t1_s"] + r["wall_t1_t2_s"], r["wall_t1_t2_s"], r.get("cpu_t1_t2_s"),
                    r["triangle_updates_per_s_t1_t2"],
                    r["triangles"] * r["steps_t1_t2"] / r["cpu_t1_t2_s"] if r.get("cpu_t1_t2_s") else None,
                    r.get("loadavg_at_start", [None])[0], r["loadavg_at_end"][0], None, None,
                ])
        elif r.get("case") == "dambreak":
            csvp = Path(r["profile_csv"])
            if not csvp.exists():
                csvp = res_dir / csvp.name
            d = np.genfromtxt(csvp, delimiter=",", names=True)
            g = r.get("g", cases.G)
            e = cases.dambreak_errors(d["x_m"], d["h_model_m"], g=g)
            label = (f"Itzi {r['itzi_version']} n={r['manning']} {r['options']}" if r["model"] == "itzi"
                     else f"ANUGA {r['anuga_version']} {r['flow_algorithm']} ({r['timestepping_method']})")
            rows_db.append([
                csvp.name, label, r["steps"], r.get("dt_mean_s"), e["L1_m"], e["L1_rel"], e["Linf_m"],
                e["x_at_Linf_m"], e["front_model_h>0.001_m"], e["front_exact_h=0.001_m"],
                e["front_err_h>0.001_m"], e["front_model_h>0.01_m"], e["front_err_h>0.01_m"],
                e["front_exact_m"], e["volume_model_m2"],
            ])

    xc = (np.arange(1000) + 0.5)
    cases.write_profile_csv(res_dir / "dambreak_ritter.csv", xc, cases.ritter_depth(xc))

    hs = ["result", "model", "grid / mesh", "cells or triangles", "OMP threads", "sim s", "steps",
          "timed steps", "dt s", "setup+input wall s", "stepping wall s", "timed wall s",
          "stepping cpu s", "updates/s (timed wall)", "updates/s (stepping cpu)", "load start",
          "load end", "options", "h max at end m"]
    hd = ["profile", "model", "steps", "dt mean s", "L1 m", "L1 rel", "Linf m", "x at Linf",
          "front h>1mm", "exact h=1mm", "front err 1mm", "front h>1cm", "front err 1cm",
          "exact front", "volume m2 (500)"]
    out = ["## Speed (fully wet, closed, n=0.03)", "", "| " + " | ".join(hs) + " |",
           "|" + "---|" * len(hs)]
    out += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows_speed]
    hc = ["result", "cells", "OMP threads", "runs", "delta steps", "delta wall s", "delta cpu s",
          "updates/s (delta wall)", "updates/s (delta cpu)", "start-up estimate s"]
    out += ["", "## Itzi CLI (`itzi run`), two durations, difference", "",
            "| " + " | ".join(hc) + " |", "|" + "---|" * len(hc)]
    out += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows_cli]
    out += ["", "## Dam break (Ritter), t = 30 s", "", "| " + " | ".join(hd) + " |",
            "|" + "---|" * len(hd)]
    out += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows_db]
    text = "\n".join(out) + "\n"
    (res_dir / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
