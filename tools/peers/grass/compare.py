#!/usr/bin/env python3
"""Compare GRASS r.sun insol_time maps with urban-twin's sun_hours_<day>.tif (same grid).

    /usr/bin/python3 compare.py --twin out/sun_hours_2026-03-21.tif --summary out/summary.json \
        --dsm dsm_crop.tif --mask building_mask_crop.tif --json compare.json tif/rsun*.tif

Needs numpy and osgeo.gdal (Debian: python3-numpy python3-gdal). Prints a Markdown report.
Statistics over the cells valid in both maps; d = r.sun - urban-twin, in hours.
"open ground": the non-building cell farthest (chessboard distance) from any building cell and
from the window's edge among the cells urban-twin has in sun all day (low sun casts shadows
across the whole window, so "far from buildings" alone is not enough).
"offset-corrected": d minus the open-ground difference (removes the day-length difference
that comes from the solar geometry alone: refraction, declination, sampling).
"""
import argparse
import json
import os

import numpy as np
from osgeo import gdal


def read(path):
    ds = gdal.Open(path)
    b = ds.GetRasterBand(1)
    a = b.ReadAsArray().astype(np.float64)
    nd = b.GetNoDataValue()
    if nd is not None and np.isfinite(nd):
        a[a == nd] = np.nan
    return a, ds.GetGeoTransform()


def chessboard_distance(mask, limit=600):
    """Cells (chessboard metric) from each cell to the nearest True cell of mask."""
    dist = np.full(mask.shape, np.inf)
    cur = mask.copy()
    dist[cur] = 0
    for k in range(1, limit + 1):
        nxt = cur.copy()
        nxt[1:, :] |= cur[:-1, :]
        nxt[:-1, :] |= cur[1:, :]
        tmp = nxt.copy()  # rows dilated; now the columns: together the 3x3 box
        nxt[:, 1:] |= tmp[:, :-1]
        nxt[:, :-1] |= tmp[:, 1:]
        new = nxt & ~cur
        if not new.any():
            break
        dist[new] = k
        cur = nxt
    return dist


def stats(d, sel):
    x = d[sel]
    ax = np.abs(x)
    return {
        "cells": int(x.size),
        "bias_h": float(x.mean()),
        "mad_h": float(ax.mean()),
        "rmse_h": float(np.sqrt((x * x).mean())),
        "p50_absdiff_h": float(np.percentile(ax, 50)),
        "p95_absdiff_h": float(np.percentile(ax, 95)),
        "max_absdiff_h": float(ax.max()),
        "within_0.1h": float((ax <= 0.1).mean()),
        "within_0.5h": float((ax <= 0.5).mean()),
        "within_1h": float((ax <= 1.0).mean()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--twin", required=True)
    ap.add_argument("--summary")
    ap.add_argument("--dsm")
    ap.add_argument("--mask", help="building mask (1 = building) on the same grid")
    ap.add_argument("--json")
    ap.add_argument("grass", nargs="+")
    a = ap.parse_args()

    tw, gt = read(a.twin)
    mask = None
    if a.mask:
        mask = read(a.mask)[0] > 0.5
    possible = None
    if a.summary:
        s = json.load(open(a.summary))
        possible = s["shadow"]["days"][0]["possible_h"]
    valid_t = np.isfinite(tw)
    # open-ground cell: farthest from any building, among non-building cells valid in twin
    if mask is not None:
        dist = chessboard_distance(mask)
        r, c = np.indices(mask.shape)
        edge = np.minimum(np.minimum(r, mask.shape[0] - 1 - r), np.minimum(c, mask.shape[1] - 1 - c))
        full = valid_t & (tw >= np.nanmax(tw) - 1e-6)  # in sun the whole day (urban-twin)
        cand = np.where(full & ~mask, np.minimum(dist, edge), -1)
    else:
        cand = np.where(valid_t, tw, -1)
    oi = np.unravel_index(np.argmax(cand), cand.shape)
    ox = gt[0] + (oi[1] + 0.5) * gt[1]
    oy = gt[3] + (oi[0] + 0.5) * gt[5]

    out = {
        "twin": {
            "file": a.twin,
            "valid_cells": int(valid_t.sum()),
            "mean_h": float(np.nanmean(tw)),
            "possible_h": possible,
            "open_ground_cell": {"row": int(oi[0]), "col": int(oi[1]), "x": ox, "y": oy,
                                 "dist_to_building_or_edge_m": float(cand[oi]) if mask is not None else None,
                                 "value_h": float(tw[oi])},
            "share_at_max": float((tw[valid_t] >= np.nanmax(tw) - 1e-6).mean()),
        },
        "grass": {},
    }
    print(f"# r.sun insol_time vs urban-twin sun hours\n")
    print(f"urban-twin: `{os.path.basename(a.twin)}`, {valid_t.sum()} valid cells, mean "
          f"{np.nanmean(tw):.4f} h, possible (open ground) {possible} h, value at the open-ground "
          f"cell (row {oi[0]}, col {oi[1]}, x {ox:.1f}, y {oy:.1f}, "
          f"{out['twin']['open_ground_cell']['dist_to_building_or_edge_m']} m from a building or the edge): {tw[oi]:.4f} h\n")
    nodist = chessboard_distance(~valid_t, limit=5)  # cells from the nearest nodata cell
    # "knife-edge" roofs: north-facing roof cells pitched near the sun's noon elevation on the
    # equinox at 53.5 N (36.7-36.9 deg), where 0.1 deg of solar geometry moves hours
    knife = None
    if a.dsm and mask is not None:
        z = read(a.dsm)[0]
        gy, gx = np.gradient(z)  # gy: per row = southwards; > 0 rises to the south = faces north
        with np.errstate(invalid="ignore"):
            slope = np.degrees(np.arctan(np.hypot(gx, gy)))
            knife = mask & (gy > 0.3) & (slope > 34) & (slope < 39.5)
    rows = []
    for g in a.grass:
        gr, ggt = read(g)
        assert gr.shape == tw.shape and np.allclose(ggt, gt), f"{g}: grid differs"
        name = os.path.splitext(os.path.basename(g))[0]
        valid = valid_t & np.isfinite(gr)
        d = gr - tw
        od = float(d[oi])
        res = {
            "file": g,
            "valid_cells": int(valid.sum()),
            "cells_valid_only_in_one": int((valid_t ^ np.isfinite(gr)).sum()),
            "mean_h": float(gr[valid].mean()),
            "twin_mean_h_same_cells": float(tw[valid].mean()),
            "max_h": float(gr[valid].max()),
            "open_ground_h": float(gr[oi]),
            "open_ground_diff_h": od,
            "all": stats(d, valid),
            "offset_corrected": stats(d - od, valid),
        }
        res["away_from_nodata"] = stats(d, valid & (nodist > 3))
        if knife is not None:
            res["knife_edge_roofs"] = stats(d, valid & knife)
            res["without_knife_edge_roofs"] = stats(d, valid & ~knife)
            big = valid & (np.abs(d) > 2)
            res["share_of_absdiff_gt_2h_on_knife_edge_roofs"] = float((big & knife).sum() / max(1, big.sum()))
        if mask is not None:
            res["ground"] = stats(d, valid & ~mask)
            res["roofs"] = stats(d, valid & mask)
        # cells sunlit all day in one model but not in the other
        res["full_sun_twin_only"] = int((valid & (tw >= np.nanmax(tw) - 1e-6) & (gr < gr[valid].max() - 1e-6)).sum())
        out["grass"][name] = res
        rows.append((name, res))

    def line(name, st):
        return (f"| {name} | {st['cells']} | {st['bias_h']:+.4f} | {st['mad_h']:.4f} | {st['rmse_h']:.4f} | "
                f"{st['p95_absdiff_h']:.3f} | {100 * st['within_0.1h']:.2f} % | {100 * st['within_0.5h']:.2f} % | "
                f"{100 * st['within_1h']:.2f} % |")

    print("| r.sun map | valid cells | mean r.sun (h) | mean twin (h) | open ground r.sun (h) | open ground twin (h) |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['valid_cells']} | {r['mean_h']:.4f} | {r['twin_mean_h_same_cells']:.4f} | "
              f"{r['open_ground_h']:.4f} | {tw[oi]:.4f} |")
    hdr = ("| {} | cells | bias (h) | mean abs diff (h) | RMSE (h) | p95 abs (h) | within 0.1 h | "
           "within 0.5 h | within 1 h |\n|---|---|---|---|---|---|---|---|---|")
    for key, title in [("all", "all cells, d = r.sun - twin"),
                       ("offset_corrected", "all cells, d minus the open-ground difference"),
                       ("away_from_nodata", "cells more than 3 cells from a nodata cell "
                        "(drops the rows next to the DSM's null strip)"),
                       ("ground", "ground (no building)"), ("roofs", "roofs (building mask)"),
                       ("knife_edge_roofs", "north-facing roof cells pitched 34-39.5 deg (the noon sun "
                        "is at 36.7-36.9 deg: a tenth of a degree moves hours)"),
                       ("without_knife_edge_roofs", "all cells but those roofs")]:
        if key not in rows[0][1]:
            continue
        print(f"\n**{title}**\n")
        print(hdr.format("r.sun map"))
        for name, r in rows:
            print(line(name, r[key]))
    # thread-count identity: maps whose names differ only in the _p<N> suffix
    print("\n**Same run with different nprocs** (max |difference|, h)\n")
    arrs = {os.path.splitext(os.path.basename(g))[0]: read(g)[0] for g in a.grass}
    pair = {}
    groups = {}
    for nm in sorted(arrs):
        groups.setdefault(nm.rsplit("_p", 1)[0], []).append(nm)
    for base, nms in groups.items():
        for q in nms[1:]:
            p = nms[0]
            v = np.isfinite(arrs[p]) & np.isfinite(arrs[q])
            m = float(np.abs(arrs[p][v] - arrs[q][v]).max())
            pair[f"{p} vs {q}"] = m
            print(f"- {p} vs {q}: {m:.6f}")
    out["nprocs_pairs_max_abs_h"] = pair
    if a.json:
        json.dump(out, open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()
