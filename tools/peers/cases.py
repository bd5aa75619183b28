"""Shared, model-independent definitions of the peer test cases.

Pure numpy, no model imports, so the same definitions can be used by every
peer driver (Itzi, ANUGA) and re-implemented 1:1 in the Rust solver's tests.

Conventions
-----------
* Grids are row-major, ``arr[row, col]``, row 0 = NORTH edge (GRASS / raster
  convention), x grows with col, y grows towards the north.
* Cell (row, col) has its centre at x = (col + 0.5) * dx,
  y = (ny - row - 0.5) * dy.  The domain's south-west corner is (0, 0).
* Depths in metres, bed elevation in metres, Manning n in s m^-1/3.
"""

from __future__ import annotations

import math

import numpy as np

G = 9.80665  # same value as Itzi's default (ANUGA uses 9.8 by default)

# --------------------------------------------------------------------------
# Case A: speed, fully wet grid
# --------------------------------------------------------------------------
SPEED_H0 = 1.0  # m, uniform depth everywhere
SPEED_HUMP = 0.5  # m, Gaussian hump amplitude on top of SPEED_H0
SPEED_SIGMA_FRAC = 1.0 / 6.0  # Gaussian sigma as a fraction of the domain side
SPEED_MANNING = 0.03


def speed_case(n: int, dx: float = 1.0):
    """Return (z, h, n_manning) arrays of shape (n, n) for the speed case.

    Flat bed z = 0, h = 1 m + 0.5 m * exp(-r^2 / (2 sigma^2)) centred in the
    domain, sigma = side / 6 (so the free-surface gradient is non-zero, if
    tiny, everywhere: the hump is still 6e-5 m in the corners), closed
    boundaries, Manning n = 0.03 everywhere.
    """
    side = n * dx
    c = (np.arange(n) + 0.5) * dx
    x = c[None, :]
    y = c[::-1][:, None]  # row 0 = north
    sigma = SPEED_SIGMA_FRAC * side
    r2 = (x - 0.5 * side) ** 2 + (y - 0.5 * side) ** 2
    h = SPEED_H0 + SPEED_HUMP * np.exp(-r2 / (2.0 * sigma**2))
    z = np.zeros((n, n))
    nm = np.full((n, n), SPEED_MANNING)
    return z, h, nm


def speed_case_xy(x, y, side: float):
    """Initial depth of the speed case at arbitrary points (for meshes)."""
    sigma = SPEED_SIGMA_FRAC * side
    r2 = (np.asarray(x) - 0.5 * side) ** 2 + (np.asarray(y) - 0.5 * side) ** 2
    return SPEED_H0 + SPEED_HUMP * np.exp(-r2 / (2.0 * sigma**2))


# --------------------------------------------------------------------------
# Case B: 1D dam break on a dry bed (Ritter 1892)
# --------------------------------------------------------------------------
DB_LENGTH = 1000.0  # m
DB_WIDTH = 4.0  # m (4 cells of 1 m)
DB_X0 = 500.0  # m, dam position
DB_H0 = 1.0  # m, upstream depth
DB_T = 30.0  # s, output time


def dambreak_grid(nx: int = 1000, ny: int = 4, dx: float = 1.0):
    """Return (z, h, x_centres) for the dam-break channel on a grid.

    Flat frictionless bed, h = 1 m for cell centres x < 500 m, dry beyond.
    """
    xc = (np.arange(nx) + 0.5) * dx
    h1 = np.where(xc < DB_X0, DB_H0, 0.0)
    h = np.repeat(h1[None, :], ny, axis=0)
    z = np.zeros((ny, nx))
    return z, h, xc


def ritter_depth(x, t: float = DB_T, x0: float = DB_X0, h0: float = DB_H0, g: float = G):
    """Analytic Ritter solution h(x, t) for an ideal dam break on a dry bed."""
    x = np.asarray(x, dtype=float)
    if t <= 0:
        return np.where(x < x0, h0, 0.0)
    c0 = math.sqrt(g * h0)
    xi = (x - x0) / t
    h = np.where(
        xi <= -c0,
        h0,
        np.where(xi < 2.0 * c0, (2.0 * c0 - xi) ** 2 / (9.0 * g), 0.0),
    )
    return h


def ritter_front(t: float = DB_T, x0: float = DB_X0, h0: float = DB_H0, g: float = G):
    """Exact wet/dry front position x0 + 2 sqrt(g h0) t."""
    return x0 + 2.0 * math.sqrt(g * h0) * t


def ritter_front_at_threshold(thr: float, t: float = DB_T, x0: float = DB_X0,
                              h0: float = DB_H0, g: float = G):
    """Position where the analytic depth falls to ``thr`` (h -> 0 at the true
    front, so a thresholded numerical front is compared with this too)."""
    c0 = math.sqrt(g * h0)
    return x0 + t * (2.0 * c0 - 3.0 * math.sqrt(g * thr))


def numerical_front(x, h, thr: float):
    """Largest x (cell centre) where h > thr, or nan if none."""
    x = np.asarray(x)
    wet = np.asarray(h) > thr
    if not wet.any():
        return float("nan")
    return float(x[np.nonzero(wet)[0].max()])


def dambreak_errors(x, h, t: float = DB_T, g: float = G, thresholds=(1e-3, 1e-2)):
    """Error metrics of a centreline profile h(x) against Ritter.

    L1 = mean |h - h_exact| over all samples of the reach (m),
    Linf = max |h - h_exact| (m), plus front positions at each threshold.
    """
    x = np.asarray(x, dtype=float)
    h = np.asarray(h, dtype=float)
    he = ritter_depth(x, t=t, g=g)
    err = np.abs(h - he)
    out = {
        "n_samples": int(x.size),
        "L1_m": float(err.mean()),
        "Linf_m": float(err.max()),
        "x_at_Linf_m": float(x[int(err.argmax())]),
        "L1_rel": float(err.sum() / np.abs(he).sum()),
        "front_exact_m": ritter_front(t=t, g=g),
        # per unit width; samples are assumed to be 1 cell-width apart
        "volume_model_m2": float(h.sum() * (x[1] - x[0])),
        "volume_exact_m2": DB_H0 * DB_X0,
    }
    for thr in thresholds:
        key = f"{thr:g}"
        xf = numerical_front(x, h, thr)
        xa = ritter_front_at_threshold(thr, t=t, g=g)
        out[f"front_model_h>{key}_m"] = xf
        out[f"front_exact_h={key}_m"] = xa
        out[f"front_err_h>{key}_m"] = xf - xa
    return out


def write_profile_csv(path, x, h, t: float = DB_T, g: float = G, extra_cols=None):
    """CSV with x, h_model, h_ritter (and optional extra columns)."""
    he = ritter_depth(x, t=t, g=g)
    cols = {"x_m": np.asarray(x), "h_model_m": np.asarray(h), "h_ritter_m": he}
    if extra_cols:
        cols.update(extra_cols)
    names = list(cols)
    data = np.column_stack([cols[k] for k in names])
    np.savetxt(path, data, delimiter=",", header=",".join(names), comments="", fmt="%.9g")
