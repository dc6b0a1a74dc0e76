"""One negotiation from a seed: draw the run's parameters, build the model with its
protocol, run it. Every command and the browser explorer build models here, so a seed
means the same run everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.model.model import NegotiationModel
from sim.model.protocols import make_protocol
from sim.model.result import RunResult
from sim.scenario.compiled import Scenario


def make_model(
    scenario: Scenario,
    seed: int | None = None,
    *,
    protocol: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    record_path: bool = True,
) -> NegotiationModel:
    """The model of run ``seed``: parameters drawn from ``default_rng(seed)`` (then ``fixed``,
    by catalogue path, set in place), and the same generator for the votes. Without
    ``record_path`` the rounds are played the same but not written down (sweeps that keep
    no paths)."""
    rng = np.random.default_rng(seed)
    stdlib_seed = int(rng.integers(np.iinfo(np.int32).max))  # Mesa's, drawn first (see model)
    params = scenario.draw(rng, fixed)
    return NegotiationModel(scenario, params, rng, make_protocol(protocol or scenario.protocol),
                            seed=seed, stdlib_seed=stdlib_seed, record_path=record_path)  # fmt: skip


def run(
    scenario: Scenario,
    seed: int | None = None,
    protocol: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    record_path: bool = True,
) -> RunResult:
    """Run one seeded negotiation of a scenario to its end."""
    return make_model(scenario, seed, protocol=protocol, fixed=fixed, record_path=record_path).run()
