"""The penholder procedure (DESIGN.md, "One negotiation round").

Each round:

1. every actor scores the draft against the status quo and forms a vote intention;
2. actors not yet at yes demand the single-clause amendment that gains them most,
   pressed with weight capability x salience x gain (off the Council, times the
   weight Council members put on them through ties);
3. the penholder picks, among the draft, each demanded amendment and the package of
   the strongest demand per clause, the text maximising
   ``P(adopt) * (U + force_weight * force prospect) + (1 - P(adopt)) * status quo
   + pressure_weight * (weight of the demands it meets)``, never crossing its red lines;
4. every actor softens toward the new draft by its flexibility;
5. the penholder tables once P(adopt) reaches the tabling threshold; withdraws when the
   draft is stuck and nothing reaches the withdrawal threshold; at the deadline it
   tables if P(adopt) is at least the withdrawal threshold, else there is no agreement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents import choose_demands, soften
from sim.voting import YES

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class PenholderProtocol:
    name = "penholder"

    def start(self, model: NegotiationModel) -> None:
        """Nothing to prepare: the opening draft is the penholder's (tie-weighted) ideal."""

    def step(self, model: NegotiationModel) -> None:
        sc, p, space = model.scenario, model.params, model.space
        pen = sc.penholder
        model.refresh_tables()
        neighbours, amend_clause, amend_option = space.single_changes(model.draft)
        texts = np.vstack([model.draft[None, :], neighbours])
        ev = model.evaluate(texts)

        # 1. Intentions on the current draft.
        model.intention = model.intentions_of(ev, 0)

        # 2. Demands from actors not yet at yes.
        gain = ev.eff[:, 1:] - ev.eff[:, :1]
        own_red_now = ev.red[:, :1]
        gain = gain + np.where(own_red_now & ~ev.red[:, 1:], 1.0, 0.0)  # lifting a red line
        active = model.intention != YES
        active[pen] = False
        choice, weight = choose_demands(
            gain, amend_clause, p.salience, p.capability, model.channel, active
        )
        demanders = np.flatnonzero(choice >= 0)
        model.demand = [None] * len(choice)
        for a in demanders:
            model.demand[a] = (int(amend_clause[choice[a]]), int(amend_option[choice[a]]))

        # 3. The penholder's revision: draft, each demanded amendment, and the package.
        demanded = np.unique(choice[demanders])
        package = model.draft.copy()
        if len(demanders):
            order = demanders[np.argsort(-weight[demanders], kind="stable")]
            seen: set[int] = set()
            for a in order:  # strongest demand per clause
                c = int(amend_clause[choice[a]])
                if c not in seen:
                    seen.add(c)
                    package[c] = amend_option[choice[a]]
        candidates = np.vstack([model.draft[None, :], neighbours[demanded], package[None, :]])
        cev = model.evaluate(candidates)
        meets = (
            candidates[:, amend_clause[choice[demanders]]] == amend_option[choice[demanders]]
        )  # (n_candidates, n_demanders)
        pressure = meets.astype(float) @ weight[demanders] if len(demanders) else 0.0
        value = (
            cev.p_adopt * (cev.eff[pen] + float(p.force_weight) * cev.prospect)
            + (1.0 - cev.p_adopt) * p.status_quo[pen]
            + float(p.pressure_weight) * pressure
        )
        value = np.where(cev.red[pen], -np.inf, value)
        best = int(np.argmax(value))  # ties keep the current draft (index 0)
        changed = bool(best != 0 and not np.array_equal(candidates[best], model.draft))
        model.draft = candidates[best].copy()
        chance = float(cev.p_adopt[best])
        model.record_round(
            cev, best, changed,
            [(int(a), int(amend_clause[choice[a]]), int(amend_option[choice[a]]), float(weight[a]))
             for a in demanders],
        )  # fmt: skip

        # 4. Softening toward the new draft.
        model.ideal_pos, model.option_util = soften(
            model.ideal_pos, model.option_util, model.draft, space.positions,
            p.flexibility, sc.unordered,
        )  # fmt: skip

        # 5. Table, withdraw, or go on.
        if chance >= float(p.tabling_threshold):
            model.table(model.draft, pen, chance)
        elif model.steps >= sc.max_rounds:
            if chance >= float(p.withdraw_threshold):
                model.table(model.draft, pen, chance)
            else:
                model.status = "no_agreement"
        elif not changed and float(cev.p_adopt.max()) < float(p.withdraw_threshold):
            model.status = "withdrawn"
