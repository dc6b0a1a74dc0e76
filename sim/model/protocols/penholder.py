"""The penholder procedure (the default; docs/model.md, "One negotiation round").

The drafting side is the penholder and any co-penholders; it values a text by their
capability-weighted (tie-weighted) utilities, status quos and audiences. Each round ``t`` of
``T`` (the deadline, ``negotiation.max_rounds``):

1. every member scores the draft, with what surrounds the vote (the host's consent, regional
   bodies, caucuses: :mod:`sim.model.context`), and forms its vote intention;
2. members (and states off the Council, through the ties members have to them) still below
   their aspiration (:mod:`sim.model.concession`; aspirations start at each side's ideal and
   reach its status quo on the day of the vote, after round ``T``) press for changes: each tables an
   amendment, its two best single-clause changes together; a caucus presses its members' best
   common change; the pressure is capability x salience x gain;
3. the drafting side revises the draft among every text one or two clauses away (a single
   change, or a trade: give on one clause, keep another), the members' amendments included,
   never crossing its red lines or a coherence rule, and never below its own aspiration; it
   takes the text that maximises
       P(adopt) (U + force_weight x force prospect) + P(veto) (SQ + audience_weight x
       audience x max(U - SQ, 0)) + P(fail) SQ + pressure_weight x pressure relieved,
   where the force prospect is 0 without the host's consent; a tie keeps the draft;
4. it tables the draft once P(adopt) reaches ``tabling_threshold``. In the last round it tables
   if that is worth more than no resolution (a draft it expects to be vetoed is tabled when
   its audience values the veto on the record more), else there is no agreement. Before the
   deadline it withdraws when even a full concession (its aspiration at its status quo)
   leaves nothing within reach with a chance of adoption of ``withdraw_threshold``, and
   tabling is worth no more than the status quo;
5. if negotiation goes on, every actor softens toward the new draft by its flexibility, and
   aspirations fall with time. Before a revision the drafting side looks one round ahead: if
   holding the draft (others softening toward it) and choosing next round is worth more,
   discounted by ``behaviour.patience`` (Rubinstein's discount factor), than revising now, it
   holds back;
6. drafts compete: if the tabled draft is not adopted, a permanent member's rival is weighed,
   by members that voted for the first, against that text rather than no resolution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import utility as ut
from sim.model import voting as vt
from sim.model.agents import amendments, caucus_choice, soften
from sim.model.concession import aspiration
from sim.model.model import Assessment
from sim.model.neighbourhood import Facts, facts

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel

EPS = 1e-9


class PenholderProtocol:
    name = "penholder"
    competing_drafts = True  # a rival is weighed against the draft a member backed

    def start(self, model: NegotiationModel) -> None:
        """The drafting side's weights, status quo and audience; an opening draft that meets
        the rules and the co-penholders' red lines."""
        sc, p = model.scenario, model.params
        w = p.capability[sc.drafters]
        self.weights = w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))
        self.sq = float(self.weights @ p.status_quo[sc.drafters])
        self.audience = float(self.weights @ p.audience[sc.drafters])
        opening = facts(sc, model.draft)
        if not opening.coherent[0] or opening.drafter_red[0]:
            model.draft = self.best_acceptable(model, model.draft)
            model.opening = model.draft.copy()
        # It opens aspiring to its ideal text (separable: the best option on each clause).
        tables = model.eff_table[sc.drafters]
        # np.tensordot(weights, tables, axes=1), as it computes it, without its wrapper
        mixed = np.dot(self.weights[None, :], tables.reshape(len(tables), -1))
        ideal = ut.ideal_text(mixed.reshape(1, *tables.shape[1:]), model.space.option_mask)
        self.start_utility = float(self.weights @ ut.text_utility(tables, ideal)[:, 0])
        model.amendments = []

    def best_acceptable(self, model: NegotiationModel, text: np.ndarray) -> np.ndarray:
        """The text the drafting side likes best one or two clauses from ``text`` that meets the
        rules and none of its red lines (``text`` itself if there is none)."""
        f = facts(model.scenario, text)
        ok = f.coherent & ~f.drafter_red
        if not ok.any():
            return text
        eff = ut.text_utility(model.eff_table[model.scenario.drafters], f.texts)
        return f.texts[int(np.argmax(np.where(ok, self.weights @ eff, -np.inf)))].copy()

    def step(self, model: NegotiationModel) -> None:
        sc, p = model.scenario, model.params
        if model.tables_stale:
            model.refresh_tables()
        # Aspirations reach the reservation on the day of the vote, after the last round.
        t, last, deadline = model.steps, sc.max_rounds, sc.max_rounds + 1
        f = facts(sc, model.draft)
        eff = model.near_view(f)
        members = model.members

        # 1. Intentions on the current draft, with what surrounds the vote.
        gap, lower = model.gaps_given(eff, f.consent, f.stance)
        lower_of = (lambda k: lower) if lower.ndim == 1 else (lambda k: lower[:, k])
        intention = np.full(len(eff), -1)  # off the Council there is no vote to intend
        intention[members] = vt.intentions_given(gap[:, 0], lower_of(0), f.member_red[:, 0])
        model.intention = intention

        # 2. Pressure: amendments from actors below their aspiration; caucuses together.
        view = eff.copy()  # members see texts with what surrounds the vote
        view[members] = gap + model.member_sq[:, None]
        weight, pick, pressing = self.pressure(model, f, view, t, deadline)

        # 3. The revision, among the texts within the drafting side's aspiration.
        utility = self.weights @ eff[sc.drafters]
        allowed = f.allowed
        floor = aspiration(t, deadline, self.start_utility, self.sq, float(p.firmness))
        within = allowed & (utility >= floor - EPS)
        within[0] = True  # the current draft always stays on the table
        rows = np.flatnonzero(within)
        v = model.near_votes(eff, f, rows, (gap, lower))
        cand = 1 + pick[pressing]  # candidate row of each actor's amendment
        pressed = view[pressing]
        base = pressed[:, 0]
        asked = np.maximum(pressed[np.arange(len(cand)), cand] - base, EPS)
        granted = vt.unit((pressed[:, rows] - base[:, None]) / asked[:, None])
        worth = self.value(model, v, f, rows, utility[rows])
        value = worth + float(p.pressure_weight) * (weight[pressing] @ granted)
        k = int(np.argmax(value))  # rows[0] is the current draft
        if value[k] <= value[0] + EPS:
            k = 0
        held = bool(k) and t < last and self.waits(model, f, allowed, worth[k], t + 1, deadline)
        if held:
            k = 0  # it holds the draft: others soften toward it, and next round pays more
        best, changed = int(rows[k]), k != 0
        model.draft = f.texts[best].copy()
        chance = float(v.p_adopt[k])
        if model.record_path:
            self.record(model, f, cand, pressing, weight, changed, chance,
                        vt.intentions_given(gap[:, best], lower_of(best), f.member_red[:, best]))  # fmt: skip
        else:  # only the demands (what the agents report)
            model.demand = [None] * len(weight)
            for i, row in zip(pressing.tolist(), cand.tolist(), strict=True):
                model.demand[i] = f.changes[row][0]

        # 4-5. Table, give up, or soften and go on.
        table = (chance >= float(p.tabling_threshold)
                 or (t >= last and (worth[k] > self.sq + EPS
                                    or chance >= float(p.withdraw_threshold))))  # fmt: skip
        if (
            not table
            and t < last
            and not changed
            and not held
            and self.hopeless(model, f, eff, utility, allowed, float(p.withdraw_threshold))
        ):
            if worth[k] > self.sq + EPS:  # the veto on the record is worth more than nothing
                table = True
            else:
                model.status = "withdrawn"
                return
        if table:
            model.table(model.draft, sc.penholder, chance, v.p_yes[:, k], v.p_no[:, k])
        elif t >= last:
            model.status = "no_agreement"
        else:
            model.ideal_pos, model.option_util = soften(
                model.ideal_pos, model.option_util, model.draft, model.space.positions,
                p.flexibility, sc.unordered,
            )  # fmt: skip
            model.tables_stale = True

    def pressure(self, model: NegotiationModel, f: Facts, view: np.ndarray, t: int,
                 deadline: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Who presses for what: each actor below its aspiration tables an amendment (its two
        best changes); a caucus presses its members' best common change. ``view`` (A, n) is
        each actor's view of the texts (members' with what surrounds the vote). Returns each
        actor's weight, its amendment (index into the singles and pairs, -1: none) and who
        presses."""
        sc, p, near = model.scenario, model.params, f.near
        n_single = f.singles
        gain = view[:, 1 : 1 + n_single] - view[:, :1]
        gain += f.lifted  # lifting a red line: a full gain
        wanted = aspiration(t, deadline, 1.0, p.status_quo, float(p.firmness))
        active = (view[:, 0] < wanted - EPS) & model.presses
        active[sc.drafters] = False
        pick = amendments(gain, near.clause, near.pair_index, active)
        # each change of the amendment weighs its gain by the actor's salience on its clause
        # (a pair: its two single changes, the first and second of the pair)
        is_pair = pick >= n_single
        pair = np.where(is_pair, pick - n_single, 0)
        one = np.where(is_pair, f.first[pair] if len(f.first) else 0, np.maximum(pick, 0))
        two = np.where(is_pair, f.second[pair] if len(f.second) else 0, -1)
        who, salience = np.arange(len(pick)), p.salience[model.actor_index]
        pressed = salience[who, near.clause[one]] * gain[who, one] + np.where(
            two >= 0, salience[who, near.clause[two]] * gain[who, two], 0.0
        )
        weight = np.where(pick >= 0, p.capability * pressed * model.channel, 0.0)
        if len(sc.groups):
            rows = np.zeros((len(sc.groups), len(pick)), dtype=bool)
            rows[:, model.members] = sc.groups
            for g, change in enumerate(caucus_choice(gain, weight, rows, active)):
                if change >= 0:  # the caucus presses its common change, each with its weight
                    mates = rows[g] & active
                    pick[mates] = change
        return weight, pick, np.flatnonzero(pick >= 0)

    def record(self, model: NegotiationModel, f: Facts, cand: np.ndarray, pressing: np.ndarray,
               weight: np.ndarray, changed: bool, chance: float,
               member_intention: np.ndarray) -> None:  # fmt: skip
        """The round in the path: the draft, its chance, the members' intentions on it, each
        pressing actor's demand (its amendment's first change) and amendment."""
        who, rows, weights = pressing.tolist(), cand.tolist(), weight[pressing].tolist()
        model.amendments = [(i, dict(f.named_changes[k])) for i, k in zip(who, rows, strict=True)]
        demands = [(i, *f.changes[k][0], w) for i, k, w in zip(who, rows, weights, strict=True)]
        model.demand = [None] * len(weight)
        for i, c, o, _ in demands:
            model.demand[i] = (c, o)
        shown = model.intention.copy()
        shown[model.members] = member_intention
        model.record_round(model.draft, chance, shown, changed, demands,
                           amendments=model.amendments)  # fmt: skip

    def value(self, model: NegotiationModel, v: Assessment, f: Facts, rows: np.ndarray,
              utility: np.ndarray) -> np.ndarray:  # fmt: skip
        """What each text ``rows`` is worth to the drafting side if tabled (pressure aside)."""
        p = model.params
        p_veto = vt.unit(v.p_reach - v.p_adopt)  # type: ignore[operator]
        audience = float(p.audience_weight) * self.audience * np.maximum(utility - self.sq, 0.0)
        return (
            v.p_adopt * (utility + float(p.force_weight) * model.prospect_near(f, rows))
            + p_veto * (self.sq + audience)
            + (1.0 - v.p_adopt - p_veto) * self.sq
        )

    def waits(self, model: NegotiationModel, f: Facts, allowed: np.ndarray, now: float, t: int,
              deadline: int) -> bool:  # fmt: skip
        """Whether holding the draft one more round is worth more: every actor softens toward
        it by its flexibility, the drafting side's aspiration falls, and the best text then
        within reach, discounted by ``patience``, beats the best text now (Rubinstein)."""
        p, sc = model.params, model.scenario
        patience = float(p.patience)
        if patience <= 0:
            return False
        pos, util = soften(model.ideal_pos, model.option_util, model.draft,
                           model.space.positions, p.flexibility, sc.unordered)  # fmt: skip
        loss = ut.clause_loss(pos, model.space.positions, util, sc.unordered)
        softened = ut.mix(ut.weighted_table(loss, model.clause_weights), model.mixing)
        eff = model.near_view(f, softened)
        utility = self.weights @ eff[sc.drafters]
        floor = aspiration(t, deadline, self.start_utility, self.sq, float(p.firmness))
        reach = allowed & (utility >= floor - EPS)
        reach[0] = True
        rows = np.flatnonzero(reach)
        later = self.value(model, model.near_votes(eff, f, rows), f, rows, utility[rows])
        return bool(patience * later.max() > now + EPS)

    def hopeless(self, model: NegotiationModel, f: Facts, eff: np.ndarray, utility: np.ndarray,
                 allowed: np.ndarray, threshold: float) -> bool:  # fmt: skip
        """No text within reach that the drafting side prefers to no resolution has the chance
        of adoption it needs, even conceding all the way to its status quo."""
        rows = np.flatnonzero(allowed & (utility >= self.sq - EPS))
        if not len(rows):
            return True
        return not bool((model.near_votes(eff, f, rows).p_adopt >= threshold).any())
