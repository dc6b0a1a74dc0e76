"""Sensitivity indices of a finished design: Sobol' (first order S1 and total ST) or Morris
(mu*, mu, sigma), each with a 95% bootstrap interval (SALib), and one-at-a-time swings.

An output that is constant over the design has every index 0 (nothing to explain) and is
flagged; a parameter's importance for ranking is its total index (Sobol') or mu* (Morris).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

MORRIS_LEVELS = 4
RESAMPLES = 200  # bootstrap resamples for the intervals
CONFIDENCE = 0.95


class Ranged(Protocol):
    """A parameter with a path and a range (sim.experiments.sensitivity.Parameter)."""

    path: str
    low: float
    high: float


def problem(params: Sequence[Ranged]) -> dict[str, Any]:
    """The SALib problem definition."""
    return {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def analyse(
    params: Sequence[Ranged], method: str, X: np.ndarray, Y: np.ndarray, names: list[str], seed: int
) -> dict[str, Any]:
    """Indices per output: Sobol' S1 and ST, or Morris mu*, with 95% bootstrap intervals."""
    prob = problem(params)
    result: dict[str, Any] = {}
    for k, name in enumerate(names):
        y = Y[:, k]
        constant = bool(np.ptp(y) == 0)
        rows: dict[str, Any] = {}
        if constant:
            zero = {"low": 0.0, "high": 0.0}
            for p in params:
                if method == "sobol":
                    rows[p.path] = {"S1": 0.0, "S1_ci": zero, "ST": 0.0, "ST_ci": zero}
                else:
                    rows[p.path] = {"mu_star": 0.0, "mu_star_ci": zero, "mu": 0.0, "sigma": 0.0}
            result[name] = {"constant": True, "indices": rows}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "sobol":
                from SALib.analyze import sobol

                s = sobol.analyze(prob, y, calc_second_order=False, num_resamples=RESAMPLES,
                                  conf_level=CONFIDENCE, seed=seed)  # fmt: skip
                for j, p in enumerate(params):
                    s1, s1c, st, stc = (float(s[n][j]) for n in ("S1", "S1_conf", "ST", "ST_conf"))
                    rows[p.path] = {
                        "S1": _finite(s1),
                        "S1_ci": {"low": _finite(s1 - s1c), "high": _finite(s1 + s1c)},
                        "ST": _finite(st),
                        "ST_ci": {"low": _finite(st - stc), "high": _finite(st + stc)},
                    }
            else:
                from SALib.analyze import morris

                s = morris.analyze(prob, X, y, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                                   num_levels=MORRIS_LEVELS, seed=seed)  # fmt: skip
                for j, p in enumerate(params):
                    m, c = float(s["mu_star"][j]), float(s["mu_star_conf"][j])
                    rows[p.path] = {
                        "mu_star": _finite(m),
                        "mu_star_ci": {"low": _finite(m - c), "high": _finite(m + c)},
                        "mu": _finite(s["mu"][j]),
                        "sigma": _finite(s["sigma"][j]),
                    }
        result[name] = {"constant": False, "indices": rows}
    return result


def ranking(indices: dict[str, Any], method: str) -> list[str]:
    """Parameters by importance for one output: total index (Sobol') or mu* (Morris), largest
    first, ties by path."""
    key = "ST" if method == "sobol" else "mu_star"
    return sorted(indices, key=lambda p: (-(indices[p][key] or 0.0), p))


def swings(params: Sequence[Ranged], Y: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Baseline outputs and, per parameter, the change at its low and high end; each output's
    parameters sorted by the larger absolute change."""
    base = Y[0]
    per = {}
    for k, name in enumerate(names):
        rows = []
        for j, p in enumerate(params):
            lo, hi = Y[1 + 2 * j, k] - base[k], Y[2 + 2 * j, k] - base[k]
            rows.append({"path": p.path, "low": p.low, "high": p.high,
                         "at_low": float(Y[1 + 2 * j, k]), "at_high": float(Y[2 + 2 * j, k]),
                         "change_low": float(lo), "change_high": float(hi)})  # fmt: skip
        rows.sort(key=lambda r: (-max(abs(r["change_low"]), abs(r["change_high"])), r["path"]))
        per[name] = {"baseline": float(base[k]), "params": rows}
    return per
