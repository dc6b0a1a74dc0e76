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
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import yaml

from sim.analysis.summary import wilson
from sim.errors import StabsimError
from sim.experiments.sweep import load_summary

SCHEMA = "stabsim-compare/1"


class CompareError(StabsimError):
    """Two folders cannot be compared as asked."""


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


def _names(out: Path) -> dict[str, str]:
    try:
        manifest = json.loads((out / "manifest.json").read_text())
        data = yaml.safe_load(manifest["scenario"]["text"])
        return {a: str(v.get("name", a)) for a, v in data["actors"].items()}
    except Exception:  # names only make sentences friendlier; ids do as well
        return {}


def read_side(out: Path, point: int) -> Side:
    """Read a sweep's summary and, for pairing, the columns of its runs at ``point``."""
    summary = load_summary(out)
    points = summary["points"]
    if not 0 <= point < len(points):
        raise CompareError(f"{out}: grid point {point} does not exist (0 to {len(points) - 1})")
    runs = None
    path = out / "runs.parquet"
    if path.exists():
        t = pq.read_table(path)
        cols = [c for c in t.column_names if c in ("run", "seed", "point", "outcome", "viable",
                "vetoed_by") or c.startswith("joined.")]  # fmt: skip
        t = t.select(cols)
        at = t["point"].to_numpy() == point
        runs = {c: t[c].to_numpy(zero_copy_only=False)[at] for c in cols}
        order = np.argsort(runs["run"], kind="stable")
        runs = {c: v[order] for c, v in runs.items()}
    return Side(out, summary, points[point], runs, _names(out))


def paired(a: Side, b: Side) -> bool:
    """Both sides hold the same runs with the same seeds (run i is the same world in each)."""
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
        "changes": rows,
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


# --- sentences ----------------------------------------------------------------------------------------


def what_changed(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The settings B has and A lacks, as a phrase ("With actors.ARE.troops.max=2000")."""
    sa = {**a["set"], **a["grid"]}
    sb = {**b["set"], **b["grid"]}
    diff = [f"{k}={v}" for k, v in sb.items() if sa.get(k) != v]
    diff += [f"{k} as in the scenario" for k in sa if k not in sb]
    if a["scenario"] != b["scenario"]:
        diff.insert(0, f"scenario {b['scenario']} instead of {a['scenario']}")
    return "With " + ", ".join(diff) if diff else "In the second sweep"


def _label(key: str, names: dict[str, str]) -> str:
    kind, _, name = key.partition(".")
    if key == "outcome.adopted":
        return "adoption"
    if key == "viable":
        return "the chance of a viable force"
    if kind == "outcome":
        return {"vetoed": "the chance of a veto", "failed": "the chance the vote fails",
                "withdrawn": "the chance the draft is withdrawn",
                "no_agreement": "the chance of no agreement"}[name]  # fmt: skip
    if kind == "veto":
        return f"the chance {names.get(name, name)} vetoes"
    if kind == "joins":
        return f"the chance {names.get(name, name)} joins the force"
    if kind == "clause":
        clause, _, option = name.partition(".")
        return f"the share of adopted texts with {clause} = {option}"
    member, _, vote = name.rpartition(".")
    return f"{names.get(member, member)}'s {vote} votes"


def _pts(x: float) -> str:
    """Percentage points with a sign, whole unless that would round a non-zero bound to 0."""
    v = 100 * x
    text = f"{abs(v):.0f}" if round(abs(v)) >= 1 or v == 0 else f"{abs(v):.1f}"
    return "0" if v == 0 else ("+" if v > 0 else "−") + text


def sentence(row: dict[str, Any], names: dict[str, str]) -> str:
    """ "adoption rises from 62% to 81% (+19 points, 95% CI +16 to +22)"."""
    pa_, pb = row["a"]["p"], row["b"]["p"]
    verb = "rises" if row["change"] > 0 else "falls"
    return (
        f"{_label(row['key'], names)} {verb} from {100 * pa_:.0f}% to {100 * pb:.0f}% "
        f"({_pts(row['change'])} points, 95% CI {_pts(row['low'])} to {_pts(row['high'])})"
    )


def briefing_rows(result: dict[str, Any], top: int = 4) -> list[int]:
    """Indices into ``result["changes"]`` of the rows the sentences speak of: significant
    outcome, viability, veto and joining changes; adoption and viability first, then the other
    outcomes, vetoes, joining, largest first within each; at most ``top``."""

    def rank(i: int) -> int:
        r = result["changes"][i]
        first = {"outcome.adopted": 0, "viable": 1}
        return first.get(r["key"], {"outcome": 2, "veto": 3, "joins": 4}.get(r["group"], 9))

    rows = [i for i, r in enumerate(result["changes"]) if r["significant"] and rank(i) < 9]
    return sorted(rows, key=rank)[:top]  # stable: largest first within each rank


def sentences(
    result: dict[str, Any], names: dict[str, str], label: str | None, top: int = 4
) -> list[str]:
    """Briefing sentences for the significant changes: outcomes and viability first, then
    vetoes, then joining, largest first within each; one sentence when nothing moves beyond
    noise."""
    head = label or what_changed(result["a"], result["b"])
    rows = [result["changes"][i] for i in briefing_rows(result, top)]
    if not rows:
        return [f"{head}, no outcome, veto or contribution changes beyond noise "
                f"(every 95% interval includes zero)."]  # fmt: skip
    out = [f"{head}, {sentence(rows[0], names)}."]
    out += [f"{sentence(r, names)[0].upper()}{sentence(r, names)[1:]}." for r in rows[1:]]
    return out


# --- terminal ---------------------------------------------------------------------------------------------


def render(
    result: dict[str, Any], lines: list[str], top: int = 20, everything: bool = False
) -> str:
    """The largest changes as a table (flagged ones marked *), then the sentences."""
    from sim.analysis.summary import _table

    a, b = result["a"], result["b"]
    rows = [r for r in result["changes"] if r["change"] is not None]
    shown = rows if everything else [r for r in rows if r["significant"]][:top]
    head = [
        f"A: {a['dir']} ({a['scenario']}, seed {a['seed']}, {a['runs']:,} runs, point {a['point']})",
        f"B: {b['dir']} ({b['scenario']}, seed {b['seed']}, {b['runs']:,} runs, point {b['point']})",
        f"change = B - A; 95% intervals: {result['interval']}"
        + ("" if result["paired"] else " (runs not paired: different seeds or runs)"),
        "",
    ]
    table = [
        [r["key"], f"{100 * r['a']['p']:.1f}%", f"{100 * r['b']['p']:.1f}%",
         f"{100 * r['change']:+.1f}", f"[{100 * r['low']:+.1f}, {100 * r['high']:+.1f}]",
         "*" if r["significant"] else "", r["method"]]
        for r in shown
    ]  # fmt: skip
    n_sig = sum(r["significant"] for r in rows)
    title = (
        f"All {len(rows)} items" if everything
        else f"{n_sig} of {len(rows)} items change significantly (* = 95% interval excludes 0)"
    )  # fmt: skip
    body = [title]
    if table:
        body.append(_table(["item", "A", "B", "change (pts)", "95% CI", "", "interval"], table))
    return "\n".join(head + body + ["", *lines])
