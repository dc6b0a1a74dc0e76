"""The first penholder procedure, ``penholder-v1``: kept to compare with the default
``penholder`` (the track record says which does better; docs/backtest.md).

Each round:

1. every actor scores the draft against the status quo and forms a vote intention;
2. actors not yet at yes demand the single-clause amendment that gains them most,
   pressed with weight capability x salience x gain (off the Council, times the
   weight Council members put on them through ties);
3. the penholder revises within the concession space: on each clause, the draft's
   option, every demanded option and, on ordered and scale clauses, every option in
   between (partial concessions), in any combination; it picks the text maximising
   ``P(adopt) * (U + force_weight * force prospect) + (1 - P(adopt)) * status quo
   + pressure_weight * sum of demand weight x share of the demand's gain granted``,
   never crossing its red lines (U is its tie-weighted utility);
4. the penholder tables once P(adopt) reaches the tabling threshold; withdraws when the
   draft is stuck below the withdrawal threshold; at the deadline it tables if P(adopt)
   is at least the withdrawal threshold, else there is no agreement;
5. if negotiation goes on, every actor softens toward the new draft by its flexibility.
   (The brief softens before tabling; softening only matters for later rounds, and the
   vote is cast on the positions the draft was tabled on, so the order is immaterial.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.agents import choose_demands, soften
from sim.model.search import best_text
from sim.model.voting import YES

if TYPE_CHECKING:
    from sim.model.model import Assessment, NegotiationModel


REVISION_ENUMERATE_LIMIT = 64  # larger concession spaces are searched clause by clause


class PenholderV1Protocol:
    name = "penholder-v1"

    def start(self, model: NegotiationModel) -> None:
        """Nothing to prepare: the opening draft is the penholder's (tie-weighted) ideal."""

    def step(self, model: NegotiationModel) -> None:
        sc, p, space = model.scenario, model.params, model.space
        pen, draft = sc.penholder, model.draft
        if model.tables_stale:
            model.refresh_tables()
        neighbours, amend_clause, amend_option = space.single_changes(draft)
        eff, red = model.utilities(np.vstack([draft[None, :], neighbours]))

        # 1. Intentions on the current draft.
        model.intention = model.intentions_of(eff[:, 0], red[:, 0])

        # 2. Demands from actors not yet at yes (lifting a red line counts as a full gain).
        gain = eff[:, 1:] - eff[:, :1] + (red[:, :1] & ~red[:, 1:])
        active = model.intention != YES
        active[pen] = False
        choice, weight = choose_demands(
            gain, amend_clause, p.salience, p.capability, model.channel, active
        )
        demanders = np.flatnonzero(choice >= 0)
        d_clause, d_option = amend_clause[choice[demanders]], amend_option[choice[demanders]]
        model.demand = [None] * len(choice)
        for a, c, o in zip(demanders, d_clause, d_option, strict=True):
            model.demand[a] = (int(c), int(o))

        # 3. The penholder's revision, searched over the concession space.
        w = weight[demanders]
        d_base, d_gain = eff[demanders, 0], gain[demanders, choice[demanders]]
        f_weight, p_weight, sq = float(p.force_weight), float(p.pressure_weight), p.status_quo[pen]

        def value(texts: np.ndarray) -> tuple[np.ndarray, Assessment]:
            a = model.assess(texts)
            # Pressure is relieved in proportion to the share of each demand's gain granted.
            granted = np.clip((a.eff[demanders] - d_base[:, None]) / d_gain[:, None], 0.0, 1.0)
            v = (
                a.p_adopt * (a.eff[pen] + f_weight * model.prospect(texts))
                + (1.0 - a.p_adopt) * sq
                + p_weight * (w @ granted)
            )
            return np.where(a.red[pen], -np.inf, v), a

        mask = concession_space(draft, d_clause, d_option, space.option_mask, space.ordered_mask)
        candidates = space.enumerate(mask, limit=REVISION_ENUMERATE_LIMIT)
        if (
            candidates is None
        ):  # a large concession space: climb from the draft and from the package
            package = strongest_demands(draft, d_clause, d_option, w)
            found, _ = best_text(lambda t: value(t)[0], space, [draft, package], 0, mask=mask)
            candidates = np.vstack([draft[None, :], found[None, :]])
        scores, a = value(candidates)
        best = int(np.argmax(scores))
        current = int(np.flatnonzero((candidates == draft).all(axis=1))[0])
        if scores[current] >= scores[best]:
            best = current  # a tie keeps the current draft
        changed = best != current
        model.draft = candidates[best].copy()
        chance = float(a.p_adopt[best])
        model.record_round(
            model.draft, chance, model.intentions_of(a.eff[:, best], a.red[:, best]), changed,
            [(int(a), int(c), int(o), float(weight[a]))
             for a, c, o in zip(demanders, d_clause, d_option, strict=True)],
        )  # fmt: skip

        # 4-5. Table, withdraw, or soften toward the new draft and go on.
        if chance >= float(p.tabling_threshold) or (
            model.steps >= sc.max_rounds and chance >= float(p.withdraw_threshold)
        ):
            model.table(model.draft, pen, chance, a.p_yes[:, best], a.p_no[:, best])
        elif model.steps >= sc.max_rounds:
            model.status = "no_agreement"
        elif not changed and chance < float(p.withdraw_threshold):
            model.status = "withdrawn"
        else:
            model.ideal_pos, model.option_util = soften(
                model.ideal_pos, model.option_util, model.draft, space.positions,
                p.flexibility, sc.unordered,
            )  # fmt: skip
            model.tables_stale = True


def concession_space(
    draft: np.ndarray,  # (C,)
    d_clause: np.ndarray,  # (D,) clause of each demand
    d_option: np.ndarray,  # (D,) option demanded
    option_mask: np.ndarray,  # (C, K) options that exist
    ordered: np.ndarray,  # (C,) ordered or scale clause
) -> np.ndarray:
    """(C, K) options the penholder may move to: the draft's, the demanded ones, and on
    ordered and scale clauses every option between the draft's and a demanded one."""
    clauses = np.arange(len(draft))
    mask = np.zeros_like(option_mask)
    mask[clauses, draft] = True
    k = np.arange(option_mask.shape[1])
    current = draft[d_clause]
    lo, hi = np.minimum(current, d_option), np.maximum(current, d_option)
    between = (lo[:, None] <= k) & (k <= hi[:, None]) & ordered[d_clause][:, None]
    between[np.arange(len(d_clause)), d_option] = True
    np.logical_or.at(mask, d_clause, between)
    return mask & option_mask


def strongest_demands(
    draft: np.ndarray, d_clause: np.ndarray, d_option: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """The draft with the strongest demand on each clause granted."""
    package = draft.copy()
    order = np.argsort(weight, kind="stable")  # weakest first: the strongest writes last
    package[d_clause[order]] = d_option[order]
    return package
