"""Baselines the model must beat, computed from a case file alone (no negotiation is run).

- everyone yes: every member votes yes for sure, so the draft is adopted;
- uniform: each vote class 1/3, each outcome class 1/4;
- stance: a member votes no where the opening draft crosses one of its red lines, abstains
  where its status quo is at or above :data:`SCEPTICAL` (the convention's "sceptical":
  docs/writing-a-case.md), yes otherwise; the outcome follows from those votes under the
  Council's rule; a distribution-valued status quo counts at the middle of its range;
- opening draft: the penholder's opening draft is the text forecast (no negotiation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analysis.scores import OUTCOME_CLASSES
from sim.model import utility as ut
from sim.model import voting as vt
from sim.model.model import opening_draft, utility_tables
from sim.scenario.compiled import Params, Scenario

SCEPTICAL = 0.6  # status quo at or above which the stance rule abstains
BASELINES = ("everyone_yes", "uniform", "stance")


@dataclass(frozen=True)
class Forecast:
    """A forecast of one case: members' vote probabilities (M, 3: yes, abstain, no) and the
    outcome class probabilities (4)."""

    votes: np.ndarray
    outcome: np.ndarray


def base_params(scenario: Scenario) -> Params:
    """The scenario's parameters with every distribution at the middle of its range."""
    return Params(**{name: arr.copy() for name, arr in scenario.base.items()}, sampled={})


def opening_text(scenario: Scenario) -> np.ndarray:
    """The penholder's opening draft at the scenario's base parameters."""
    _, eff = utility_tables(scenario, base_params(scenario))
    return opening_draft(scenario, eff)


def _one_hot(k: int, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[k] = 1.0
    return out


def everyone_yes(scenario: Scenario) -> Forecast:
    m = len(scenario.members)
    return Forecast(np.tile(_one_hot(vt.YES, 3), (m, 1)), _one_hot(0, len(OUTCOME_CLASSES)))


def uniform(scenario: Scenario) -> Forecast:
    m, k = len(scenario.members), len(OUTCOME_CLASSES)
    return Forecast(np.full((m, 3), 1 / 3), np.full(k, 1 / k))


def stance_votes(scenario: Scenario) -> np.ndarray:
    """(M,) the stance rule's vote of each member on the opening draft."""
    text = opening_text(scenario)[None, :]
    red = ut.crosses_red_line(scenario.red[scenario.members], text)[:, 0]
    sq = scenario.base["status_quo"][scenario.members]
    return np.where(red, vt.NO, np.where(sq >= SCEPTICAL, vt.ABSTAIN, vt.YES))


def stance(scenario: Scenario) -> Forecast:
    votes = stance_votes(scenario)
    votes = np.where(scenario.present, votes, vt.ABSENT)
    needed, veto = scenario.votes_needed, scenario.veto
    outcome = (
        "adopted" if vt.is_adopted(votes, veto, needed)
        else "vetoed" if vt.is_vetoed(votes, veto, needed) else "failed"
    )  # fmt: skip
    probs = np.zeros((len(votes), 3))
    at = votes < 3
    probs[np.flatnonzero(at), votes[at]] = 1.0
    return Forecast(probs, _one_hot(OUTCOME_CLASSES.index(outcome), len(OUTCOME_CLASSES)))


def forecasts(scenario: Scenario) -> dict[str, Forecast]:
    return {"everyone_yes": everyone_yes(scenario), "uniform": uniform(scenario),
            "stance": stance(scenario)}  # fmt: skip
