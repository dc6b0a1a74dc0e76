"""Two sweeps side by side: the change in every probability, with a 95% interval for the change.

Rules:

- Items: each outcome, a viable force, each permanent member's veto, each contributor joining
  (all over every run); each option of each clause (over adopted runs); each member's yes /
  abstain / no (over runs with a vote). The change is B minus A, in probability.
- Paired interval, when both sweeps hold the same runs with the same seeds (same ``--seed`` and
  ``--runs``: run i of each is the same world, common random numbers) and the item is over all
  runs: Newcombe's (1998b) method 10, the hybrid score interval for paired proportions, built
  from the two Wilson intervals and the correlation between the paired outcomes. Run-to-run
  noise shared by both sweeps cancels, so it is narrower than the unpaired one.
- Unpaired interval otherwise (different seeds or runs, or items over different denominators
  such as adopted runs): Newcombe's (1998a) method 10, the hybrid score interval
  ``d - sqrt((pB - lB)^2 + (uA - pA)^2)`` to ``d + sqrt((uB - pB)^2 + (pA - lA)^2)``.
- A change is flagged significant when its interval excludes zero. Sentences are written for
  the flagged outcome, viability and joining items, largest change first.
- Different scenarios (another title, or another Council) are compared unpaired, never as the
  same worlds, and the result carries a warning saying so (``warnings``; the command prints it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.folders import Labels, open_sweep
from sim.analysis.summary import wilson

SCHEMA = "stabsim-compare/1"


# --- intervals -----------------------------------------------------------------------------------


def newcombe_unpaired(ca: int, na: int, cb: int, nb: int) -> tuple[float, float, float]:
    """pB - pA and its 95% hybrid score interval (Newcombe 1998a, method 10) from Wilson's."""
    pa_, pb = (ca / na if na else 0.0), (cb / nb if nb else 0.0)
    la, ua = wilson(ca, na)
    lb, ub = wilson(cb, nb)
    d = pb - pa_
    return d, d - math.hypot(pb - lb, ua - pa_), d + math.hypot(ub - pb, pa_ - la)


def newcombe_paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """pB - pA and its 95% interval for paired binary outcomes ``a[i]``, ``b[i]`` of the same run
    (Newcombe 1998b, method 10: Wilson intervals of each margin and the phi correlation)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    n = len(a)
    if n == 0:
        return 0.0, -1.0, 1.0
    n11, n10 = int(np.sum(a & b)), int(np.sum(a & ~b))
    n01, n00 = int(np.sum(~a & b)), int(np.sum(~a & ~b))
    p1, p2 = (n11 + n01) / n, (n11 + n10) / n  # p1 = pB, p2 = pA
    l1, u1 = wilson(n11 + n01, n)
    l2, u2 = wilson(n11 + n10, n)
    margins = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    phi = (n11 * n00 - n10 * n01) / math.sqrt(margins) if margins else 0.0
    d = p1 - p2
    lo_sq = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    hi_sq = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    return d, d - math.sqrt(max(lo_sq, 0.0)), d + math.sqrt(max(hi_sq, 0.0))


# --- reading the two sweeps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One sweep's grid point: its summary, its runs (when readable) and its names."""

    out: Path
    summary: dict[str, Any]
    point: dict[str, Any]
    runs: dict[str, np.ndarray] | None  # column -> values at this point, ordered by run
    names: dict[str, str]  # actor id -> name
    labels: Labels | None = None  # every name of the sweep's scenario
    title: str = ""  # the scenario's name
    members: tuple[str, ...] = ()  # the Council


def read_side(out: Path, point: int) -> Side:
    """Read a sweep's summary and, for pairing, the columns of its runs at ``point``."""
    sweep = open_sweep(out)
    pt = sweep.check_point(point)
    runs = None
    if (Path(out) / "runs.parquet").exists():
        t = sweep.runs
        cols = [c for c in t.column_names if c in ("run", "seed", "point", "outcome", "viable",
                "vetoed_by") or c.startswith("joined.")]  # fmt: skip
        t = t.select(cols)
        at = t["point"].to_numpy() == point
        runs = {c: t[c].to_numpy(zero_copy_only=False)[at] for c in cols}
        order = np.argsort(runs["run"], kind="stable")
        runs = {c: v[order] for c, v in runs.items()}
    return Side(Path(out), sweep.summary, pt, runs, sweep.names, labels=sweep.labels,
                title=sweep.title, members=sweep.labels.members)  # fmt: skip


def same_scenario(a: Side, b: Side) -> bool:
    """Both sides ran the same scenario: the same title and the same Council."""
    return a.title == b.title and a.members == b.members


def warnings(a: Side, b: Side) -> list[str]:
    """What a reader must know before trusting the comparison."""
    if same_scenario(a, b):
        return []
    return [
        f"A and B are sweeps of different scenarios ({a.title!r}, Council of "
        f"{len(a.members)}; {b.title!r}, Council of {len(b.members)}): their changes mix the "
        "scenarios' differences with any what-if, and runs are not paired"
    ]


def paired(a: Side, b: Side) -> bool:
    """Both sides hold the same runs with the same seeds (run i is the same world in each)."""
    if not same_scenario(a, b):
        return False
    if a.runs is None or b.runs is None or len(a.runs["seed"]) != len(b.runs["seed"]):
        return False
    return bool(np.array_equal(a.runs["seed"], b.runs["seed"]))


def _indicator(side: Side, key: str) -> np.ndarray:
    r = side.runs or {}
    kind, _, name = key.partition(".")
    if kind == "outcome":
        return r["outcome"] == name
    if kind == "viable":
        return r["viable"].astype(bool)
    if kind == "veto":
        return np.array([name in (v or "").split("+") for v in r["vetoed_by"]])
    if kind == "joins":
        return r[f"joined.{name}"].astype(bool)
    raise KeyError(key)


def items(pt: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every comparable probability of a summary point: key -> (group, stat)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for o, s in pt["outcomes"].items():
        out[f"outcome.{o}"] = ("outcome", s)
    out["viable"] = ("outcome", pt["viable"])
    for m, s in pt["veto_cast_by"].items():
        out[f"veto.{m}"] = ("veto", s)
    for c, v in pt["contributors"].items():
        out[f"joins.{c}"] = ("joins", v["joins"])
    for cid, options in pt["clauses"].items():
        for o, s in options.items():
            out[f"clause.{cid}.{o}"] = ("clause", s)
    for m, v in pt["votes"].items():
        for k in ("yes", "abstain", "no"):
            out[f"vote.{m}.{k}"] = ("vote", v[k])
    return out


def compare(a: Side, b: Side, pairing: bool = True) -> dict[str, Any]:
    """Every item's change from A to B with its 95% interval, largest absolute change first."""
    use_pairs = pairing and paired(a, b)
    ia, ib = items(a.point), items(b.point)
    rows = []
    for key, (group, sa) in ia.items():
        if key not in ib:
            continue
        sb = ib[key][1]
        if use_pairs and group in ("outcome", "veto", "joins"):
            d, lo, hi = newcombe_paired(_indicator(a, key), _indicator(b, key))
            method = "paired"
        else:
            d, lo, hi = newcombe_unpaired(sa["count"], sa["of"], sb["count"], sb["of"])
            method = "unpaired"
        defined = sa["of"] > 0 and sb["of"] > 0
        rows.append({
            "key": key, "group": group, "a": sa, "b": sb,
            "change": d if defined else None, "low": lo if defined else None,
            "high": hi if defined else None, "method": method,
            "significant": bool(defined and (lo > 0 or hi < 0)),
        })  # fmt: skip
    rows.sort(key=lambda r: (-abs(r["change"] or 0.0), r["key"]))
    return {
        "schema": SCHEMA,
        "a": _describe(a),
        "b": _describe(b),
        "paired": use_pairs,
        "interval": (
            "Newcombe hybrid score, paired (method 10, 1998b) for items over all runs; "
            "unpaired (method 10, 1998a) for the rest"
            if use_pairs
            else "Newcombe hybrid score, unpaired (method 10, 1998a)"
        ),
        "confidence": 0.95,
        "warnings": warnings(a, b),
        "changes": rows,
        "labels": (a.labels or b.labels).to_json() if (a.labels or b.labels) else None,
    }


def _describe(s: Side) -> dict[str, Any]:
    return {
        "dir": str(s.out),
        "scenario": s.summary["scenario"],
        "seed": s.summary["seed"],
        "runs": s.point["runs"],
        "point": s.point["point"],
        "grid": s.point["grid"],
        "set": s.summary.get("set", {}),
    }
