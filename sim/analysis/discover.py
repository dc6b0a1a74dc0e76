"""Scenario discovery: the few conditions on a sweep's sampled parameters under which an
outcome is most likely, as readable rules.

Rules:

- Inputs: every numeric ``param.<path>`` column (each run's draw of a distribution) and every
  ``grid.<path>`` column (a ``--vary`` axis) of ``runs.parquet``, over all grid points; string
  draws (a choice among names) are left out and listed.
- Target: ``adopted``, ``vetoed``, ``failed``, ``withdrawn``, ``no_agreement``, ``viable``,
  ``adopted_and_viable``, or ``joined.<contributor>``.
- Method: a shallow decision tree (scikit-learn's CART, depth 3 by default, leaves of at least
  2% of runs, fixed random_state), whose leaves are boxes: a conjunction of ``path <= t`` /
  ``path > t`` conditions, merged per parameter into one range. Thresholds fall midway between
  observed values, so on a grid they sit within one step of the true switch.
- Each box reports its density (share of its runs with the target), coverage (share of all
  target runs that fall inside it) and support (share of all runs inside it). Boxes whose
  density exceeds the base rate are listed, densest first.
- Beside the tree, PRIM (Friedman and Fisher's patient rule induction, as EMA Workbench
  implements it: peel 5% at a time, then paste) finds boxes by the covering approach: each
  next box is sought among the runs outside the boxes already found. Of each box's peeling
  trajectory the densest point that still covers at least ``min_coverage`` of the target runs
  is reported, with its bounds inclusive (``a <= path <= b``) on the restricted parameters only,
  and a quasi-p value per restricted parameter (Bryant and Lempert 2010: the one-sided binomial
  chance of the box's hits if that restriction were dropped); restrictions with a quasi-p value
  above 0.05 are dropped (at least the strongest is kept), so a box names only what matters.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.stats import binom

from sim.analysis.folders import read_parquet
from sim.errors import StabsimError

SIGNIFICANT = 0.05  # PRIM: a restriction is kept when its quasi-p value is at most this
OUTCOME_TARGETS = ("adopted", "vetoed", "failed", "withdrawn", "no_agreement")
TARGETS = (*OUTCOME_TARGETS, "viable", "adopted_and_viable")


class DiscoverError(StabsimError):
    """Discovery cannot run as asked (no sweep, unknown target, nothing sampled)."""


@dataclass(frozen=True)
class Box:
    """One rule: per parameter a range (low, high], with its density, coverage and support."""

    bounds: dict[str, tuple[float, float]]  # path -> (low, high); -inf / inf where open
    runs: int
    hits: int
    density: float
    coverage: float
    support: float
    inclusive: bool = False  # PRIM's bounds are closed: [low, high]
    qp: dict[str, float] = field(default_factory=dict)  # PRIM: quasi-p value per parameter

    def conditions(self) -> list[str]:
        """``path > a``, ``path <= b`` or ``a < path <= b`` (PRIM: ``>=`` and ``<=``), in path
        order."""
        out = []
        gt = ">=" if self.inclusive else ">"
        lt = "<=" if self.inclusive else "<"
        for path, (lo, hi) in sorted(self.bounds.items()):
            if math.isfinite(lo) and math.isfinite(hi):
                out.append(f"{_n(lo)} {lt} {path} <= {_n(hi)}")
            elif math.isfinite(lo):
                out.append(f"{path} {gt} {_n(lo)}")
            else:
                out.append(f"{path} <= {_n(hi)}")
        return out


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def target_of(table: pa.Table, target: str) -> np.ndarray:
    """The target as a boolean per run."""
    if target in OUTCOME_TARGETS:
        return table["outcome"].to_numpy(zero_copy_only=False) == target
    if target == "viable":
        return table["viable"].to_numpy(zero_copy_only=False).astype(bool)
    if target == "adopted_and_viable":
        return target_of(table, "adopted") & target_of(table, "viable")
    if target.startswith("joined.") and target in table.column_names:
        return table[target].to_numpy(zero_copy_only=False).astype(bool)
    joined = [c for c in table.column_names if c.startswith("joined.")]
    raise DiscoverError(
        f"--target: expected one of {', '.join((*TARGETS, *joined))}, got {target!r}"
    )


def features(table: pa.Table) -> tuple[list[str], np.ndarray, list[str]]:
    """(paths, matrix, skipped): numeric ``param.`` and ``grid.`` columns that vary."""
    names, cols, skipped = [], [], []
    for c in table.column_names:
        if not c.startswith(("param.", "grid.")):
            continue
        path = c.split(".", 1)[1]
        if not pa.types.is_floating(table[c].type):
            skipped.append(path)
            continue
        v = table[c].to_numpy(zero_copy_only=False).astype(float)
        if np.all(np.isnan(v)) or np.nanmin(v) == np.nanmax(v):
            continue
        names.append(path)
        cols.append(np.nan_to_num(v, nan=np.nanmedian(v)))
    return names, (np.column_stack(cols) if cols else np.zeros((table.num_rows, 0))), skipped


def boxes(X: np.ndarray, y: np.ndarray, names: list[str], depth: int = 3) -> list[Box]:
    """The leaves of a shallow classification tree as boxes, densest first (ties: coverage)."""
    from sklearn.tree import DecisionTreeClassifier

    n, hits_all = len(y), int(y.sum())
    tree = DecisionTreeClassifier(
        max_depth=depth, min_samples_leaf=max(5, int(0.02 * n)), random_state=0
    ).fit(X, y)
    t = tree.tree_
    out: list[Box] = []

    def walk(node: int, bounds: dict[str, tuple[float, float]], rows: np.ndarray) -> None:
        if t.children_left[node] == -1:  # a leaf
            k = int(rows.sum())
            h = int(y[rows].sum())
            out.append(Box(dict(bounds), k, h, h / k if k else 0.0,
                           h / hits_all if hits_all else 0.0, k / n))  # fmt: skip
            return
        f, thr = names[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds.get(f, (-math.inf, math.inf))
        left = rows & (X[:, t.feature[node]] <= thr)
        walk(t.children_left[node], {**bounds, f: (lo, min(hi, thr))}, left)
        walk(t.children_right[node], {**bounds, f: (max(lo, thr), hi)}, rows & ~left)

    walk(0, {}, np.ones(n, dtype=bool))
    out.sort(key=lambda b: (-b.density, -b.coverage))
    return out


def _inside(X: np.ndarray, bounds: dict[int, tuple[float, float]]) -> np.ndarray:
    """Rows of ``X`` within the closed bounds, by column index."""
    keep = np.ones(len(X), dtype=bool)
    for j, (lo, hi) in bounds.items():
        keep &= (X[:, j] >= lo) & (X[:, j] <= hi)
    return keep


def quasi_p(
    X: np.ndarray, y: np.ndarray, bounds: dict[int, tuple[float, float]]
) -> dict[int, float]:
    """Per restricted column, P(at least the box's hits among its runs) if the runs were drawn at
    the density of the box with that restriction dropped (one-sided binomial)."""
    inside = _inside(X, bounds)
    n, k = int(inside.sum()), int(y[inside].sum())
    out = {}
    for j in bounds:
        wide = _inside(X, {i: b for i, b in bounds.items() if i != j})
        rate = float(y[wide].mean()) if wide.any() else 0.0
        out[j] = float(binom.sf(k - 1, n, rate))
    return out


def prim_boxes(X: np.ndarray, y: np.ndarray, names: list[str], top: int = 3,
               min_coverage: float = 0.5) -> tuple[list[Box], list[dict[str, float]]]:  # fmt: skip
    """Up to ``top`` PRIM boxes (covering approach) whose density beats the base rate, and the
    first box's peeling trajectory (coverage, density, support, restricted parameters)."""
    import pandas as pd

    n, hits_all, base = len(y), int(y.sum()), float(y.mean())
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    with warnings.catch_warnings():  # EMA Workbench warns about optional back-ends and pandas
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        finder = prim.Prim(frame, y.astype(int), threshold=base, peel_alpha=0.05, mass_min=0.02)
    init = finder.box_init
    out: list[Box] = []
    trajectory: list[dict[str, float]] = []
    remaining = np.ones(n, dtype=bool)
    for _ in range(top):
        box = finder.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory
        if not trajectory:
            trajectory = [{"coverage": float(r.coverage), "density": float(r.density),
                           "support": float(r.mass), "restricted": int(r.res_dim)}
                          for r in traj.itertuples()]  # fmt: skip
        ok = np.flatnonzero(traj["coverage"].to_numpy() >= min_coverage)
        i = int(ok[np.argmax(traj["density"].to_numpy()[ok])]) if len(ok) else len(traj) - 1
        lims = box.box_lims[i]
        bounds = {
            j: (float(lims.iloc[0, j]), float(lims.iloc[1, j]))
            for j in range(X.shape[1])
            if (lims.iloc[0, j], lims.iloc[1, j]) != (init.iloc[0, j], init.iloc[1, j])
        }
        # Keep only the restrictions that matter (quasi-p <= 0.05; at least the strongest).
        qp = quasi_p(X[remaining], y[remaining], bounds)
        kept = {j for j, v in qp.items() if v <= SIGNIFICANT} or (
            {min(qp, key=qp.get)} if qp else set()
        )
        bounds = {j: b for j, b in bounds.items() if j in kept}
        if not bounds:
            break  # the whole space: nothing more to say
        rows = remaining & _inside(X, bounds)
        k, h = int(rows.sum()), int(y[rows].sum())
        if k == 0 or h / k <= base:
            break
        qp = quasi_p(X[remaining], y[remaining], bounds)
        shown = {
            names[j]: (lo if lo > init.iloc[0, j] else -math.inf,
                       hi if hi < init.iloc[1, j] else math.inf)
            for j, (lo, hi) in bounds.items()
        }  # fmt: skip
        out.append(Box(shown, k, h, h / k, h / hits_all, k / n, inclusive=True,
                       qp={names[j]: v for j, v in qp.items()}))  # fmt: skip
        remaining &= ~rows
        if not (remaining & y).any():
            break
    return out, trajectory


def _rule(b: Box) -> dict[str, Any]:
    rule = {
        "conditions": b.conditions(),
        "bounds": {k: [v[0], v[1]] for k, v in b.bounds.items()},
        "runs": b.runs,
        "hits": b.hits,
        "density": b.density,
        "coverage": b.coverage,
        "support": b.support,
    }
    if b.qp:
        rule["qp"] = b.qp
    return rule


def discover(out: Path, target: str, depth: int = 3, top: int = 3,
             min_coverage: float = 0.5) -> dict[str, Any]:  # fmt: skip
    """Read a sweep's runs and return the best boxes for ``target`` with the base rate."""
    if depth < 1 or depth > 6:
        raise DiscoverError(f"--depth: expected 1 to 6 (a rule must stay readable), got {depth}")
    path = Path(out) / "runs.parquet"
    if not path.exists():
        raise DiscoverError(f"{out}: no runs.parquet (not a finished sweep)")
    manifest = Path(out) / "manifest.json"
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    except (OSError, ValueError):
        recorded = {}
    table = read_parquet(path, recorded if isinstance(recorded, dict) else {})
    y = target_of(table, target)
    names, X, skipped = features(table)
    if not names:
        raise DiscoverError(
            f"{out}: no sampled parameter varies across runs; run a sweep of a scenario with "
            "distributions, or with --vary"
        )
    if not 0 < min_coverage <= 1:
        raise DiscoverError(f"--min-coverage: expected a share in (0, 1], got {min_coverage}")
    n, hits = len(y), int(y.sum())
    base = hits / n if n else 0.0
    found = [b for b in boxes(X, y, names, depth) if b.density > base] if 0 < hits < n else []
    prim_found, trajectory = (
        prim_boxes(X, y, names, top, min_coverage) if 0 < hits < n else ([], [])
    )
    return {
        "dir": str(out),
        "target": target,
        "runs": n,
        "hits": hits,
        "base_rate": base,
        "features": names,
        "skipped": skipped,
        "depth": depth,
        "method": "CART decision tree (scikit-learn), leaves as boxes",
        "rules": [_rule(b) for b in found[:top]],
        "prim": {
            "method": "PRIM (EMA Workbench), peel and paste alpha 0.05, covering approach",
            "min_coverage": min_coverage,
            "boxes": [_rule(b) for b in prim_found],
            "trajectory": trajectory,
        },
    }


def describe_target(target: str) -> str:
    return {"adopted_and_viable": "adopted and viable", "no_agreement": "no agreement",
            "viable": "a viable force"}.get(target, target.replace("joined.", "joined by "))  # fmt: skip


def sentence(rule: dict[str, Any], target: str) -> str:
    """ "When A > a and B <= b: adopted and viable in 91% of runs, covering 64% of such runs"."""
    return (
        f"When {' and '.join(rule['conditions'])}: {describe_target(target)} in "
        f"{100 * rule['density']:.0f}% of runs, covering {100 * rule['coverage']:.0f}% of such "
        f"runs ({rule['runs']:,} runs, {100 * rule['support']:.0f}% of the sweep)"
    )
