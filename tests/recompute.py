"""Figures recomputed straight from a sweep's runs.parquet, without the package's summary or
formatting code: what the chart titles and briefing sentences must say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

Z95 = 1.959963984540054


def pct(p: float) -> str:
    """A share as titles and sentences print it: one decimal; 0% and 100% only when exact,
    else <0.1% and >99.9% at the ends."""
    if p <= 0 or p >= 1:
        return "0%" if p <= 0 else "100%"
    return "<0.1%" if p < 0.0005 else ">99.9%" if p >= 0.9995 else f"{100 * p:.1f}%"


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of k successes in n trials."""
    p = k / n
    centre = p + Z95 * Z95 / (2 * n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n))
    denom = 1 + Z95 * Z95 / n
    return max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom)


def ci(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{100 * lo:.1f}–{100 * hi:.1f}%"


def runs(folder: Path, point: int | None = 0) -> list[dict[str, Any]]:
    """The rows of runs.parquet (of one grid point, or all with ``point=None``)."""
    rows = pq.read_table(folder / "runs.parquet").to_pylist()
    return rows if point is None else [r for r in rows if r["point"] == point]


def vote_shares(rows: list[dict[str, Any]], member: str) -> dict[str, float] | None:
    """A member's yes, abstain and no shares over the runs in which it cast one of them."""
    held = [r[f"vote.{member}"] for r in rows if r[f"vote.{member}"] in ("yes", "abstain", "no")]
    if not held:
        return None
    return {v: held.count(v) / len(held) for v in ("yes", "abstain", "no")}
