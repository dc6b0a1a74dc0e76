"""Scenario parameters that are either a fixed value or a distribution drawn once per run.

Supported (YAML ``{dist: ...}``):

- ``triangular``: ``low``, ``mode``, ``high``
- ``uniform``: ``low``, ``high``
- ``normal``: ``mean``, ``sd``, optional ``clip: [low, high]``: the normal truncated to
  ``[low, high]`` (draws are never piled on the bounds)
- ``beta``: ``a``, ``b``, optional ``low``/``high`` (default 0 and 1) to rescale
- ``choice``: ``values`` and optional ``p`` (probabilities, default equal)

Every number given (parameters, clip ends, numeric choice values, probabilities) must be
finite: NaN and infinity are refused.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr
from scipy.stats import truncnorm

DIST_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required fields, optional fields)
    "triangular": ({"low", "mode", "high"}, set()),
    "uniform": ({"low", "high"}, set()),
    "normal": ({"mean", "sd"}, {"clip"}),
    "beta": ({"a", "b"}, {"low", "high"}),
    "choice": ({"values"}, {"p"}),
}


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 3, 60, 60, 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, at a cost bounded whatever ``value`` holds
    (a value shared through YAML aliases may be vast once written out)."""
    if isinstance(value, int) and value.bit_length() > 128:  # repr() refuses the very longest
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Dist:
    """A validated distribution; ``support`` is the closed interval its draws fall in."""

    kind: str
    args: tuple[Any, ...]
    support: tuple[float, float] | None  # None for choice over non-numbers

    def describe(self) -> str:
        names = {
            "triangular": ("low", "mode", "high"),
            "uniform": ("low", "high"),
            "normal": ("mean", "sd", "clip"),
            "beta": ("a", "b", "low", "high"),
            "choice": ("values", "p"),
        }[self.kind]
        parts = ", ".join(
            f"{n}={v if isinstance(v, float) else short_repr(v, 40)}"
            for n, v in zip(names, self.args, strict=False)
        )
        return f"{self.kind}({parts})"


def finite(value: Any) -> bool:
    """A number (not a boolean) that is neither NaN nor infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _num(spec: dict, key: str) -> float:
    value = spec[key]
    if not finite(value):
        raise ValueError(f"expected a finite number for '{key}', got {short_repr(value)}")
    return float(value)


def parse_dist(spec: dict) -> Dist:
    """Validate a ``{dist: ...}`` mapping; raise ValueError with a user-facing message."""
    kind = spec.get("dist")
    if not isinstance(kind, str) or kind not in DIST_FIELDS:
        raise ValueError(
            f"expected dist to be one of {', '.join(DIST_FIELDS)}, got {short_repr(kind)}"
        )
    required, optional = DIST_FIELDS[kind]
    keys = set(spec) - {"dist"}
    if missing := sorted(required - keys):
        raise ValueError(f"{kind} distribution needs {', '.join(missing)}")
    if unknown := sorted(keys - required - optional):
        raise ValueError(
            f"{kind} distribution takes {', '.join(sorted(required | optional))}, "
            f"got unknown {', '.join(unknown)}"
        )
    if kind == "triangular":
        low, mode, high = _num(spec, "low"), _num(spec, "mode"), _num(spec, "high")
        if not low <= mode <= high or low == high:
            raise ValueError(
                f"triangular needs low <= mode <= high with low < high, "
                f"got low={low}, mode={mode}, high={high}"
            )
        return Dist(kind, (low, mode, high), (low, high))
    if kind == "uniform":
        low, high = _num(spec, "low"), _num(spec, "high")
        if not low < high:
            raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
        return Dist(kind, (low, high), (low, high))
    if kind == "normal":
        mean, sd = _num(spec, "mean"), _num(spec, "sd")
        if not sd > 0:
            raise ValueError(f"normal needs sd > 0, got sd={sd}")
        clip = spec.get("clip")
        if clip is None:
            return Dist(kind, (mean, sd, None), (-np.inf, np.inf))
        if (
            not isinstance(clip, list)
            or len(clip) != 2
            or not all(finite(c) for c in clip)
            or not clip[0] < clip[1]
        ):
            raise ValueError(
                f"normal clip must be [low, high], finite numbers with low < high, "
                f"got {short_repr(clip)}"
            )
        lo, hi = float(clip[0]), float(clip[1])
        return Dist(kind, (mean, sd, (lo, hi)), (lo, hi))
    if kind == "beta":
        a, b = _num(spec, "a"), _num(spec, "b")
        low = _num(spec, "low") if "low" in spec else 0.0
        high = _num(spec, "high") if "high" in spec else 1.0
        if not (a > 0 and b > 0):
            raise ValueError(f"beta needs a > 0 and b > 0, got a={a}, b={b}")
        if not low < high:
            raise ValueError(f"beta needs low < high, got low={low}, high={high}")
        return Dist(kind, (a, b, low, high), (low, high))
    # choice
    values = spec["values"]
    if not isinstance(values, list) or not values:
        raise ValueError(f"choice needs a non-empty list of values, got {short_repr(values)}")
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
        raise ValueError(f"choice values must be finite numbers or names, got {short_repr(values)}")
    if not all(isinstance(v, str | int | float) for v in values):
        raise ValueError(f"choice values must be numbers or names, got {short_repr(values)}")
    p = spec.get("p")
    if p is None:
        probs = tuple([1.0 / len(values)] * len(values))
    else:
        if not isinstance(p, list) or len(p) != len(values) or not all(finite(x) for x in p):
            raise ValueError(f"choice p must be {len(values)} finite numbers, got {short_repr(p)}")
        if any(x < 0 for x in p) or abs(sum(p) - 1.0) > 1e-6:
            raise ValueError(f"choice p must be non-negative and sum to 1, got {short_repr(p)}")
        probs = tuple(float(x) for x in p)
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    support = (float(min(values)), float(max(values))) if numeric else None
    return Dist(kind, (tuple(values), probs), support)


def truncated(x: np.ndarray, mean: np.ndarray, sd: np.ndarray, lo: np.ndarray,
              hi: np.ndarray) -> np.ndarray:  # fmt: skip
    """Normal draws ``x`` carried to the normal truncated to ``[lo, hi]`` at the same quantile
    (the truncated inverse CDF of the draw's own CDF value), so each parameter still takes one
    normal draw from the stream; an unbounded parameter keeps its draw."""
    bounded = np.isfinite(lo) | np.isfinite(hi)
    if not bounded.any():
        return x
    a, b = (lo - mean) / sd, (hi - mean) / sd
    u = ndtr((x - mean) / sd)
    inside = truncnorm.ppf(u, a, b, loc=mean, scale=sd)
    return np.where(bounded, np.clip(inside, lo, hi), x)


class Sampler:
    """Draws one value from each of a fixed list of distributions, one vectorised call per
    distribution kind, in a fixed order: a generator in a given state always gives the same
    values."""

    def __init__(self, dists: Sequence[Dist]):
        self.n = len(dists)
        by_kind: dict[str, list[int]] = {}
        for i, d in enumerate(dists):
            by_kind.setdefault(d.kind, []).append(i)
        self.groups: list[tuple[str, np.ndarray, tuple]] = []
        for kind in sorted(by_kind):
            idx = by_kind[kind]
            args = [dists[i].args for i in idx]
            if kind == "normal":
                cols: tuple = (
                    np.array([a[0] for a in args]),
                    np.array([a[1] for a in args]),
                    np.array([a[2][0] if a[2] else -np.inf for a in args]),
                    np.array([a[2][1] if a[2] else np.inf for a in args]),
                )
            elif kind == "choice":
                cols = (
                    [a[0] for a in args],
                    [np.cumsum(a[1]) for a in args],
                )
            else:
                cols = tuple(np.array(col, dtype=float) for col in zip(*args, strict=True))
            self.groups.append((kind, np.array(idx), cols))

    def draw(self, rng: np.random.Generator) -> list[Any]:
        out: list[Any] = [None] * self.n
        for kind, idx, cols in self.groups:
            if kind == "triangular":
                vals = rng.triangular(*cols).tolist()
            elif kind == "uniform":
                vals = rng.uniform(*cols).tolist()
            elif kind == "normal":
                mean, sd, lo, hi = cols
                vals = truncated(rng.normal(mean, sd), mean, sd, lo, hi).tolist()
            elif kind == "beta":
                a, b, lo, hi = cols
                vals = (lo + (hi - lo) * rng.beta(a, b)).tolist()
            else:  # choice: inverse CDF on one uniform per parameter
                values, cdfs = cols
                u = rng.random(len(idx))
                vals = [
                    v[min(int(np.searchsorted(c, ui, side="right")), len(v) - 1)]
                    for v, c, ui in zip(values, cdfs, u, strict=True)
                ]
            for i, v in zip(idx.tolist(), vals, strict=True):
                out[i] = v
        return out
