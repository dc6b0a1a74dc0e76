"""Scenario-wide behavioural parameters and their calibrated defaults.

Rule: a value an actor gives itself wins; else the scenario's ``behaviour:`` block; else the
calibrated default in ``calibrated.yaml`` (fitted to the history library by
``stabsim backtest --calibrate``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CALIBRATED = Path(__file__).with_name("calibrated.yaml")
NAMES = (
    "vote_noise", "abstain_band", "veto_cost", "elected_no_cost", "region_weight",
    "sovereignty_weight", "audience_weight", "caucus_cohesion", "firmness", "patience",
)  # fmt: skip


@cache
def calibrated() -> dict[str, float]:
    """The calibrated defaults shipped with the package."""
    data = yaml.safe_load(CALIBRATED.read_text(encoding="utf-8"))
    return {name: float(data[name]) for name in NAMES}


def behaviour_of(block: Any) -> dict[str, Any]:
    """Every behavioural parameter: the scenario's own value (a number or a distribution)
    where it gives one, else the calibrated default."""
    base = calibrated()
    return {name: base[name] if getattr(block, name) is None else getattr(block, name)
            for name in NAMES}  # fmt: skip
