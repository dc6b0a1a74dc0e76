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
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim.analysis.folders import read_parquet
from sim.errors import StabsimError

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

    def conditions(self) -> list[str]:
        """``path > a``, ``path <= b`` or ``a < path <= b``, in path order."""
        out = []
        for path, (lo, hi) in sorted(self.bounds.items()):
            if math.isfinite(lo) and math.isfinite(hi):
                out.append(f"{_n(lo)} < {path} <= {_n(hi)}")
            elif math.isfinite(lo):
                out.append(f"{path} > {_n(lo)}")
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


def discover(out: Path, target: str, depth: int = 3, top: int = 3) -> dict[str, Any]:
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
    n, hits = len(y), int(y.sum())
    base = hits / n if n else 0.0
    found = [b for b in boxes(X, y, names, depth) if b.density > base] if 0 < hits < n else []
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
        "rules": [
            {
                "conditions": b.conditions(),
                "bounds": {k: [v[0], v[1]] for k, v in b.bounds.items()},
                "runs": b.runs,
                "hits": b.hits,
                "density": b.density,
                "coverage": b.coverage,
                "support": b.support,
            }
            for b in found[:top]
        ],
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
