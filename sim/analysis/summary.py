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

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.stats import binomtest

from sim.model.result import OUTCOMES
from sim.model.voting import VOTE_NAMES

TOP = 10
WHY_TOP = 5  # reasons kept per outcome
SCHEMA = "stabsim-summary/1"


@lru_cache(maxsize=8192)
def wilson(count: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``count`` successes in ``n`` trials (scipy's); (0, 1) when
    n == 0."""
    if n <= 0:
        return 0.0, 1.0
    ci = binomtest(int(count), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


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
        self.why: Counter = Counter()  # (point, outcome, kind, actor, clause, option) -> n

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
        if "why" in table.column_names:  # runs written before reasons were recorded lack it
            keys = ["point", "outcome", "why", "why_actor", "why_clause", "why_option"]
            g = table.group_by(keys).aggregate([([], "count_all")])
            for row in zip(*(g[k].to_pylist() for k in [*keys, "count_all"]), strict=True):
                self.why[row[:-1]] += row[-1]
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
            "why": self._reasons(p, outcome),
        }

    def _reasons(self, p: int, outcome: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
        """Per outcome, its most frequent reasons, each a share of the runs with that outcome."""
        out: dict[str, list[dict[str, Any]]] = {}
        for o in OUTCOMES:
            rows = sorted(((k, key[2:]) for key, k in self.why.items()
                           if key[0] == p and key[1] == o and key[2]),
                          key=lambda x: (-x[0], [str(v) for v in x[1]]))[:WHY_TOP]  # fmt: skip
            out[o] = [{"kind": kind, "actor": actor, "clause": clause, "option": option,
                       **stat(k, outcome[o])} for k, (kind, actor, clause, option) in rows]  # fmt: skip
        return out

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
