"""Scores of probabilistic forecasts against what happened: the track record's yardstick.

Rules:

- Outcome classes: ``adopted``, ``vetoed``, ``failed`` (too few yes votes) and ``not_voted``
  (withdrawn, no agreement, or never put to a vote).
- Vote classes: ``yes``, ``abstain``, ``no``. A member absent from the real vote is not scored.
- Multi-class Brier score of a forecast ``p`` (K classes) of an event in class ``o``:
  ``sum_k (p_k - [k == o])^2``; 0 is a perfect forecast, the uniform forecast over three
  classes scores ``2/3``, a confident wrong one 2.
- Log score: ``-ln p_o`` with ``p_o`` floored at :data:`FLOOR` (a certain forecast that is
  wrong would otherwise score infinity); lower is better, uniform over three is ``ln 3``.
- Modal match: credit for the most likely class being what happened (shared among ties).
- Reliability: forecasts of every class pooled, binned by predicted probability into tenths;
  each bin's mean prediction against the share of its events that happened.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OUTCOME_CLASSES = ("adopted", "vetoed", "failed", "not_voted")
VOTE_CLASSES = ("yes", "abstain", "no")
FLOOR = 0.005  # smallest probability the log score takes


def outcome_class(outcome: str) -> str:
    """A run's (or the record's) outcome as a scored class."""
    return outcome if outcome in ("adopted", "vetoed", "failed") else "not_voted"


def brier(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(n,) multi-class Brier score of forecasts ``p`` (n, K) of events in classes ``observed``
    (n,)."""
    p = np.asarray(p, dtype=float)
    hit = np.zeros_like(p)
    hit[np.arange(len(p)), np.asarray(observed)] = 1.0
    return ((p - hit) ** 2).sum(axis=1)


def log_score(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(n,) ``-ln p[observed]``, the probability floored at :data:`FLOOR`."""
    p = np.asarray(p, dtype=float)
    return -np.log(np.maximum(p[np.arange(len(p)), np.asarray(observed)], FLOOR))


def modal_match(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(n,) credit for the forecast's most likely class being what happened: 1 when it is the
    single most likely class, 1/k when it ties with k - 1 others (so a uniform forecast earns
    1/K, not a match by the order of the classes), 0 otherwise."""
    p = np.asarray(p, dtype=float)
    top = np.isclose(p, p.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
    hit = top[np.arange(len(p)), np.asarray(observed)]
    return np.where(hit, 1.0 / top.sum(axis=1), 0.0)


def reliability(p: np.ndarray, observed: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Every class's forecast pooled: per bin of predicted probability, how many forecasts, their
    mean, and how often the event happened."""
    p = np.asarray(p, dtype=float)
    hit = np.zeros_like(p)
    hit[np.arange(len(p)), np.asarray(observed)] = 1.0
    pred, happened = p.ravel(), hit.ravel()
    which = np.minimum((pred * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        at = which == b
        n = int(at.sum())
        out.append({
            "low": b / bins, "high": (b + 1) / bins, "n": n,
            "predicted": float(pred[at].mean()) if n else None,
            "observed": float(happened[at].mean()) if n else None,
        })  # fmt: skip
    return out


def clause_matches(forecast: dict[str, str], real: dict[str, str]) -> tuple[int, int]:
    """How many of the real text's known clauses the forecast text matches, and how many are
    known."""
    known = [c for c in real if c in forecast]
    return sum(str(forecast[c]) == str(real[c]) for c in known), len(known)


def modal(items: list[Any]) -> Any:
    """The most frequent item; ties go to the first seen (None for no items)."""
    counts: dict[Any, int] = {}
    for x in items:
        counts[x] = counts.get(x, 0) + 1
    return max(counts, key=lambda x: counts[x]) if counts else None
