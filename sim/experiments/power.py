"""Empirical pivotality from seeded runs: who decided adoption, run by run.

Run ``r`` uses the runner's seed convention (``run_seed(seed, r)``), so ``stabsim power
--seed S --runs N`` plays the same runs as the first N of ``stabsim sweep --seed S``.
"""

from __future__ import annotations

import numpy as np

from sim.errors import OptionError
from sim.experiments.runner import run_seed
from sim.model.simulate import run
from sim.model.voting import ABSTAIN, VOTE_NAMES
from sim.scenario.compiled import Scenario

MAX_RUNS = 1_000_000  # the votes of every run are held in memory (runs x members)


def simulated_votes(scenario: Scenario, runs: int, seed: int = 1) -> np.ndarray:
    """(runs, members) the decisive vote of each of ``runs`` seeded runs (a run with no vote
    counts every member as abstaining)."""
    if runs < 0:
        raise OptionError("runs", f"expected 0 or more, got {runs}")
    if runs > MAX_RUNS:
        raise OptionError("runs", f"expected at most {MAX_RUNS:,}, got {runs:,}")
    if seed < 0:
        raise OptionError("seed", f"expected a whole number >= 0, got {seed}")
    ids = [scenario.actor_ids[m] for m in scenario.members]
    out = np.full((runs, len(ids)), ABSTAIN)
    for r in range(runs):  # each run is a separate seeded negotiation
        votes = run(scenario, seed=run_seed(seed, r), record_path=False).votes
        out[r] = [VOTE_NAMES.index(votes[a]) if a in votes else ABSTAIN for a in ids]
    return out
