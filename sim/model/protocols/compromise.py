"""The compromise model: the text is the capability x salience weighted mean of positions.

Rule, per clause ``c`` with weights ``w_i = capability_i * salience_ic``:

- ordered and scale clauses: ``x_c = sum_i w_i x_ic / sum_i w_i`` on the clause's
  [0, 1] position scale, then the option nearest ``x_c`` (a tie goes to the lower option);
- unordered clauses: the option ``k`` with the largest ``sum_i w_i u_ick`` (weighted
  utility; a tie goes to the first option);
- a clause nobody weighs keeps the opening draft's option.

The text is tabled at once (one round) by the penholder and put to the Council vote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel


def weighted_mean_position(
    ideal_pos: np.ndarray,  # (A, C)
    salience: np.ndarray,  # (A, C)
    capability: np.ndarray,  # (A,)
) -> np.ndarray:
    """(C,) the capability x salience weighted mean of positions per clause (NaN if no weight)."""
    w = capability[:, None] * salience
    total = w.sum(axis=0)
    return np.divide(
        (w * ideal_pos).sum(axis=0), total, out=np.full(total.shape, np.nan), where=total > 0
    )


def nearest_option(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(C,) index of the option whose position is nearest ``x`` (NaN padding never wins)."""
    distance = np.abs(positions - x[:, None])
    return np.nanargmin(np.where(np.isnan(distance), np.inf, distance), axis=1)


def compromise_text(
    ideal_pos: np.ndarray,  # (A, C)
    option_util: np.ndarray,  # (A, C, K)
    salience: np.ndarray,  # (A, C)
    capability: np.ndarray,  # (A,)
    positions: np.ndarray,  # (C, K), NaN padding
    unordered: np.ndarray,  # (C,) bool
    option_mask: np.ndarray,  # (C, K) bool
    fallback: np.ndarray,  # (C,) option kept where no actor weighs the clause
) -> np.ndarray:
    """The compromise text: weighted mean (rounded to an option) or weighted utility argmax."""
    mean = weighted_mean_position(ideal_pos, salience, capability)
    ordered_pick = nearest_option(np.nan_to_num(mean), positions)
    w = capability[:, None] * salience
    score = np.einsum("ac,ack->ck", w, option_util)
    unordered_pick = np.where(option_mask, score, -np.inf).argmax(axis=1)
    pick = np.where(unordered, unordered_pick, ordered_pick)
    return np.where(w.sum(axis=0) > 0, pick, fallback).astype(np.intp)


def record_draft(model: NegotiationModel, changed: bool, table: bool) -> None:
    """Score the current draft, record the round and, if ``table``, have the penholder table it."""
    a = model.assess(model.draft[None, :])
    model.intention = model.intentions_of(a.eff[:, 0], a.red[:, 0])
    chance = float(a.p_adopt[0])
    model.record_round(model.draft, chance, model.intention, changed, [])
    if table:
        model.table(model.draft, model.scenario.penholder, chance, a.p_yes[:, 0], a.p_no[:, 0])


class CompromiseProtocol:
    name = "compromise"

    def start(self, model: NegotiationModel) -> None:
        """Nothing to prepare."""

    def step(self, model: NegotiationModel) -> None:
        sc, p, space = model.scenario, model.params, model.space
        model.draft = compromise_text(
            model.ideal_pos, model.option_util, p.salience, p.capability, space.positions,
            sc.unordered, space.option_mask, model.draft,
        )  # fmt: skip
        record_draft(model, changed=True, table=True)

    @staticmethod
    def forecast_scale(x: np.ndarray, c: np.ndarray, s: np.ndarray, active: np.ndarray,
                       seeds: list[int]) -> np.ndarray:  # fmt: skip
        """(B, runs) the compromise position of B one-clause issues (the same every run)."""
        w = np.where(active, c * s, 0.0)
        mean = (w * x).sum(axis=1) / w.sum(axis=1)
        return np.repeat(mean[:, None], len(seeds), axis=1)
