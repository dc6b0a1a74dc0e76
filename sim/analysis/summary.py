"""What a sweep means: probabilities with Wilson intervals, ranked texts and coalitions, votes,
troops; computed in one streaming pass over ``runs.parquet`` and printed as terminal tables.

Rules (the README's "Sweeps" section documents the resulting ``summary.json``):

- Every probability is a count over a stated denominator (``of``) with a 95% Wilson score
  interval: outcomes, viability, texts, coalitions and joining are over all runs of a grid
  point; clause options are over the runs whose text was adopted; votes are over the runs in
  which a vote was held.
- Troop distributions are the mean and the 5th and 95th percentiles (numpy's default linear
  interpolation) over the runs in which the contributor joined.
- Ranked lists keep the 10 most frequent entries, ties broken by the text or coalition key.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from sim.model.result import OUTCOMES
from sim.model.voting import VOTE_NAMES

Z95 = 1.959963984540054  # two-sided 95% normal quantile
TOP = 10
SCHEMA = "stabsim-summary/1"


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``count`` successes in ``n`` trials; (0, 1) when n == 0."""
    if n <= 0:
        return 0.0, 1.0
    p = count / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def stat(count: int, of: int) -> dict[str, Any]:
    """A probability as JSON: ``count`` of ``of``, the share ``p`` and its Wilson interval."""
    low, high = wilson(count, of)
    return {
        "count": int(count),
        "of": int(of),
        "p": count / of if of else None,
        "low": low,
        "high": high,
    }


def spread(values: np.ndarray) -> dict[str, Any]:
    """Mean and 5th/95th percentiles of ``values`` (nulls when empty), with their number."""
    if len(values) == 0:
        return {"n": 0, "mean": None, "p5": None, "p95": None}
    p5, p95 = np.percentile(values, [5, 95])
    return {"n": len(values), "mean": float(np.mean(values)), "p5": float(p5), "p95": float(p95)}


# --- the runs table's column names (shared with sim.experiments.sweep) ------------------------------------


def text_key(text: dict[str, str]) -> str:
    """One string naming a text: ``clause=option`` in clause order, joined by ``"; "``."""
    return "; ".join(f"{c}={o}" for c, o in text.items())


def coalition_key(members: Iterable[str]) -> str:
    """One string naming a coalition: actor ids in scenario order joined by ``+`` ("" = none)."""
    return "+".join(members)


@dataclass(frozen=True)
class Layout:
    """The names a sweep's columns are built from: clauses, Council members, contributors."""

    clauses: dict[str, tuple[str, ...]]  # clause id -> option ids, in order
    members: tuple[str, ...]
    veto: tuple[str, ...]
    contributors: tuple[str, ...]


# --- streaming accumulation -------------------------------------------------------------------


class SummaryBuilder:
    """Accumulates counts and troop figures from batches of the runs table, then builds the
    summary. Memory grows only with the per-contributor troop figures (8 bytes per joined run)."""

    def __init__(self, layout: Layout, grid: list[dict[str, float]]):
        self.layout = layout
        self.grid = grid
        self.text_cols = [f"text.{c}" for c in layout.clauses]
        self.single = [
            "outcome",
            "viable",
            "coalition",
            "vetoed_by",
            *self.text_cols,
            *(f"vote.{m}" for m in layout.members),
            *(f"joined.{c}" for c in layout.contributors),
        ]
        self.counts: dict[str, Counter] = defaultdict(Counter)  # column -> (point, value) -> n
        self.texts: Counter = Counter()  # (point, *options) -> n
        self.troops: dict[tuple[int, str], list[np.ndarray]] = defaultdict(list)
        self.rounds: Counter = Counter()  # point -> total rounds

    def add(self, table: pa.Table) -> None:
        """Count one batch of rows (any subset of the runs, in any order)."""
        for col in self.single:
            g = table.group_by(["point", col]).aggregate([([], "count_all")])
            for p, v, n in zip(
                *(g[k].to_pylist() for k in ("point", col, "count_all")), strict=True
            ):
                self.counts[col][(p, v)] += n
        g = table.group_by(["point", *self.text_cols]).aggregate([([], "count_all")])
        for row in zip(
            *(g[k].to_pylist() for k in ("point", *self.text_cols, "count_all")), strict=True
        ):
            if row[1] is not None:  # adopted texts only
                self.texts[row[:-1]] += row[-1]
        point = table["point"].to_numpy()
        total = table["delivered_troops"].to_numpy()
        rounds = table["rounds"].to_numpy()
        for p in np.unique(point):
            at = point == p
            self.troops[(int(p), "")].append(total[at])
            self.rounds[int(p)] += int(rounds[at].sum())
            for c in self.layout.contributors:
                joined = table[f"joined.{c}"].to_numpy(zero_copy_only=False) & at
                for kind in ("pledged", "delivered"):
                    values = table[f"{kind}.{c}"].to_numpy()[joined]
                    self.troops[(int(p), f"{kind}.{c}")].append(values)

    def _troops(self, p: int, name: str) -> np.ndarray:
        parts = self.troops.get((p, name), [])
        return np.concatenate(parts) if parts else np.zeros(0)

    def point(self, p: int) -> dict[str, Any]:
        """The summary of grid point ``p``."""
        lay, counts = self.layout, self.counts
        n = sum(v for (q, _), v in counts["outcome"].items() if q == p)
        outcome = {o: counts["outcome"][(p, o)] for o in OUTCOMES}
        adopted = outcome["adopted"]
        vetoes: Counter = Counter()
        for (q, v), k in counts["vetoed_by"].items():
            if q == p and v:
                for actor in v.split("+"):
                    vetoes[actor] += k
        texts = sorted(
            ((k, key[1:]) for key, k in self.texts.items() if key[0] == p),
            key=lambda x: (-x[0], text_key(dict(zip(lay.clauses, x[1], strict=True)))),
        )[:TOP]
        coalitions = sorted(
            ((k, v) for (q, v), k in counts["coalition"].items() if q == p and v),
            key=lambda x: (-x[0], x[1]),
        )[:TOP]
        votes = {}
        for m in lay.members:
            tally = {name: counts[f"vote.{m}"][(p, name)] for name in VOTE_NAMES}
            held = sum(tally.values())
            votes[m] = {"voted": held, **{name: stat(k, held) for name, k in tally.items()}}
        return {
            "point": p,
            "grid": self.grid[p],
            "runs": n,
            "outcomes": {o: stat(k, n) for o, k in outcome.items()},
            "viable": stat(counts["viable"][(p, True)], n),
            "veto_cast_by": {v: stat(vetoes[v], n) for v in lay.veto},
            "clauses": {
                cid: {o: stat(counts[f"text.{cid}"][(p, o)], adopted) for o in options}
                for cid, options in lay.clauses.items()
            },
            "texts": [
                {
                    "rank": r + 1,
                    "text": (t := dict(zip(lay.clauses, opts, strict=True))),
                    "key": text_key(t),
                    **stat(k, n),
                    "share_of_adopted": k / adopted if adopted else None,
                }
                for r, (k, opts) in enumerate(texts)
            ],
            "coalitions": [
                {"rank": r + 1, "members": key.split("+"), "key": key, **stat(k, n)}
                for r, (k, key) in enumerate(coalitions)
            ],
            "votes": votes,
            "contributors": {
                c: {
                    "joins": stat(counts[f"joined.{c}"][(p, True)], n),
                    "pledged_when_joined": spread(self._troops(p, f"pledged.{c}")),
                    "delivered_when_joined": spread(self._troops(p, f"delivered.{c}")),
                }
                for c in lay.contributors
            },
            "troops_delivered": spread(self._troops(p, "")),
            "rounds_mean": self.rounds[p] / n if n else None,
        }

    def result(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The whole summary: ``meta`` (scenario, seed, runs, grid...) then one entry per point."""
        return {
            "schema": SCHEMA,
            **meta,
            "confidence": 0.95,
            "interval": "wilson",
            "percentiles": "numpy linear interpolation",
            "top": TOP,
            "points": [self.point(p) for p in range(len(self.grid))],
        }


# --- terminal tables ------------------------------------------------------------------------


def _pct(s: dict[str, Any]) -> str:
    if s["p"] is None:
        return "     -"
    return f"{100 * s['p']:5.1f}%"


def _ci(s: dict[str, Any]) -> str:
    if s["p"] is None:
        return ""
    return f"[{100 * s['low']:4.1f}, {100 * s['high']:5.1f}]"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """A plain table: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    fmt = "  ".join(f"{{:<{w}}}" if i < left else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join("  " + line.rstrip() for line in lines)


def _grid_label(grid: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in grid.items())


def render_point(pt: dict[str, Any]) -> str:
    """One grid point's summary as terminal tables."""
    out = []
    head = f"Point {pt['point']}" + (f" ({_grid_label(pt['grid'])})" if pt["grid"] else "")
    out.append(f"{head}: {pt['runs']:,} runs; 95% Wilson intervals in brackets")
    rows = [[o, _pct(s), _ci(s), f"{s['count']:,}"] for o, s in pt["outcomes"].items()]
    rows.append(
        ["viable force", _pct(pt["viable"]), _ci(pt["viable"]), f"{pt['viable']['count']:,}"]
    )
    rows += [
        [f"veto cast by {a}", _pct(s), _ci(s), f"{s['count']:,}"]
        for a, s in pt["veto_cast_by"].items()
    ]
    out += ["", "Outcome", _table(["", "p", "95% CI", "runs"], rows)]
    adopted = pt["outcomes"]["adopted"]["count"]
    rows = []
    for cid, options in pt["clauses"].items():
        for i, (o, s) in enumerate(options.items()):
            rows.append([cid if i == 0 else "", o, _pct(s), _ci(s)])
    out += [
        "",
        f"Clauses of the adopted text ({adopted:,} adopted runs)",
        _table(["clause", "option", "p", "95% CI"], rows, left=2),
    ]
    if pt["texts"]:
        rows = [
            [str(t["rank"]), " / ".join(t["text"].values()), _pct(t), _ci(t)] for t in pt["texts"]
        ]
        out += [
            "",
            "Adopted texts (share of all runs); options in clause order: "
            + " / ".join(pt["clauses"]),
            _table(["#", "text", "p", "95% CI"], rows, left=2),
        ]
    if pt["coalitions"]:
        rows = [[str(c["rank"]), c["key"], _pct(c), _ci(c)] for c in pt["coalitions"]]
        out += [
            "",
            "Troop coalitions (share of all runs)",
            _table(["#", "contributors", "p", "95% CI"], rows, left=2),
        ]
    rows = [
        [m, _pct(v["yes"]), _pct(v["abstain"]), _pct(v["no"]), f"{v['voted']:,}"]
        for m, v in pt["votes"].items()
    ]
    out += [
        "",
        "Votes (share of runs with a vote)",
        _table(["member", "yes", "abstain", "no", "votes held"], rows),
    ]
    rows = []
    for c, v in pt["contributors"].items():
        d = v["delivered_when_joined"]
        rows.append(
            [c, _pct(v["joins"]), _ci(v["joins"]), _num(d["mean"]), _num(d["p5"]), _num(d["p95"])]
        )
    if rows:
        out += [
            "",
            "Contributors (troops delivered when joined)",
            _table(["actor", "joins", "95% CI", "mean", "p5", "p95"], rows),
        ]
    t = pt["troops_delivered"]
    out += [
        "",
        f"Troops delivered, all runs: mean {_num(t['mean'])}, p5 {_num(t['p5'])}, "
        f"p95 {_num(t['p95'])}; mean rounds {pt['rounds_mean'] or 0:.2f}",
    ]
    return "\n".join(out)


def render(summary: dict[str, Any], point: int | None = None) -> str:
    """The summary as terminal tables: the one point, or an overview row per grid point."""
    head = (
        f"{summary['scenario']}: seed {summary['seed']}, {summary['runs_per_point']:,} runs"
        f" per point, {len(summary['points'])} point(s), protocol {summary['protocol']}"
    )
    points = summary["points"]
    if point is not None:
        return head + "\n\n" + render_point(points[point])
    if len(points) == 1:
        return head + "\n\n" + render_point(points[0])
    rows = [
        [
            str(p["point"]),
            _grid_label(p["grid"]),
            _pct(p["outcomes"]["adopted"]),
            _ci(p["outcomes"]["adopted"]),
            _pct(p["outcomes"]["vetoed"]),
            _pct(p["viable"]),
            _ci(p["viable"]),
        ]
        for p in points
    ]
    return (
        head
        + "\n\n"
        + _table(["point", "grid", "adopted", "95% CI", "vetoed", "viable", "95% CI"], rows, left=2)
        + "\n\nDetails of one point: stabsim summary DIR --point K"
    )
