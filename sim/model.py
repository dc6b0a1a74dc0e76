"""The negotiation as a Mesa model: one ``step()`` is one negotiation round.

The model holds the rules of the game: who sits on the Council, how texts are
scored and voted on, when a draft is tabled, and how the troop coalition forms
after the vote. The protocol (``negotiation.protocol``) decides what a round does;
the default is the penholder procedure of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim import coalition as co
from sim import utility as ut
from sim import voting as vt
from sim.agents import StateActor
from sim.protocols import make_protocol
from sim.result import Contribution, DraftVote, RoundRecord, RunResult
from sim.scenario import Params, Scenario
from sim.search import best_text


@dataclass
class Evaluation:
    """Everything the actors and the penholder need to know about a set of texts."""

    texts: np.ndarray  # (n, C)
    own: np.ndarray  # (A, n) own utility
    eff: np.ndarray  # (A, n) tie-weighted utility
    red: np.ndarray  # (A, n) crosses the actor's red line
    p_yes: np.ndarray  # (M, n)
    p_no: np.ndarray  # (M, n)
    p_adopt: np.ndarray  # (n,)
    prospect: np.ndarray  # (n,) forecast viability of the force in [0, 1]


@dataclass
class Tabled:
    by: int
    text: np.ndarray
    p_adopt: float


class NegotiationModel(mesa.Model):
    """One negotiation: build with a scenario and a seed, call :meth:`run`."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        params: Params | None = None,
        protocol: str | None = None,
    ):
        generator = rng if rng is not None else np.random.default_rng(seed)
        super().__init__(rng=generator)
        self.seed = seed
        self.scenario = scenario
        self.space = scenario.space
        self.params = params if params is not None else scenario.draw(self.rng)
        p = self.params
        A = len(scenario.actor_ids)
        self.members = scenario.members
        self.veto = scenario.veto
        self.mixing = ut.tie_matrix(p.ties)
        on_council = np.zeros(A, dtype=bool)
        on_council[self.members] = True
        self.on_council = on_council
        # Off the Council an actor presses through the ties Council members have to it.
        self.channel = np.where(on_council, 1.0, np.minimum(1.0, p.ties[self.members].sum(axis=0)))
        self.ideal_pos = p.ideal_pos.copy()
        self.option_util = p.option_util.copy()
        self.delivered_if_in = np.floor(p.max_troops * p.delivery)
        self.required = float(p.troops_required)
        self.protocol = make_protocol(protocol or scenario.protocol)
        self.actors = [StateActor(self, i) for i in range(A)]

        # State the protocol and the agents read and write.
        self.intention = np.full(A, -1)
        self.demand: list[tuple[int, int] | None] = [None] * A
        self.final_votes = np.full(A, -1)
        self.committed = np.zeros(A, dtype=bool)
        self.status = "negotiating"
        self.tabled: list[Tabled] = []
        self.path: list[RoundRecord] = []
        self.refresh_tables()
        opening = ut.ideal_text(self.eff_table[scenario.penholder], self.space.option_mask)
        for c, k in scenario.opening_draft.items():
            opening[c] = k
        self.draft = opening
        self.protocol.start(self)

    # --- scoring (pure functions, vectorised over texts and actors) ----------------------

    def refresh_tables(self) -> None:
        """Recompute utility tables from the actors' current (softened) positions."""
        loss = ut.clause_loss(
            self.ideal_pos, self.space.positions, self.option_util, self.scenario.unordered
        )
        self.own_table = ut.utility_table(loss, self.params.salience)
        self.eff_table = ut.mix(self.own_table, self.mixing)

    def evaluate(self, texts: np.ndarray) -> Evaluation:
        """Score texts for every actor in one pass: utilities, votes, adoption, force."""
        p, sc = self.params, self.scenario
        own = ut.text_utility(self.own_table, texts)
        eff = ut.text_utility(self.eff_table, texts)
        red = ut.crosses_red_line(sc.red, texts)
        m = self.members
        gap = eff[m] - p.status_quo[m, None]
        p_yes, p_no = vt.vote_probabilities(
            gap, p.noise[m], p.band[m], p.veto_cost[m], self.veto, red[m]
        )
        p_adopt = vt.adoption_probability(p_yes, p_no, self.veto, sc.votes_needed)
        prospect = co.force_prospect(
            co.eligible(sc.is_contributor, sc.allowed, sc.needs_resolution, sc.refused, texts),
            co.lead_allowed(sc.may_lead, sc.lead_clause, texts),
            sc.lead_candidate,
            self.delivered_if_in,
            p.willingness,
            p.solidarity,
            self.required,
        )
        return Evaluation(texts, own, eff, red, p_yes, p_no, p_adopt, prospect)

    def intentions_of(self, ev: Evaluation, k: int = 0) -> np.ndarray:
        """Noise-free vote intention of every actor (members and others alike) on text k."""
        p = self.params
        gap = ev.eff[:, k] - p.status_quo
        veto_all = np.zeros(len(gap), dtype=bool)
        veto_all[self.members[self.veto]] = True
        return vt.intentions(gap, p.band, p.veto_cost, veto_all, ev.red[:, k])

    # --- the round ------------------------------------------------------------------------

    def step(self) -> None:
        """One negotiation round, as the protocol defines it."""
        self.protocol.step(self)
        if self.status != "negotiating":
            self.running = False

    def record_round(
        self, ev: Evaluation, k: int, changed: bool, demands: list[tuple[int, int, int, float]]
    ) -> None:
        """Append the round just played: the revised draft (text k of ``ev``), its chance of
        adoption, the members' intentions on it, and the demands that shaped it."""
        members = self.intentions_of(ev, k)[self.members]
        self.path.append(
            RoundRecord(
                round=self.steps,
                text=self.space.describe(self.draft),
                p_adopt=round(float(ev.p_adopt[k]), 6),
                intentions={n: int((members == k).sum()) for k, n in enumerate(vt.VOTE_NAMES)},
                demands=[
                    {
                        "actor": self.scenario.actor_ids[a],
                        "clause": self.space.clauses[c].id,
                        "option": self.space.clauses[c].options[o],
                        "weight": round(w, 6),
                    }
                    for a, c, o, w in demands
                ],
                changed=changed,
            )
        )

    def table(self, text: np.ndarray, by: int, p_adopt: float) -> None:
        self.tabled.append(Tabled(by, text.copy(), p_adopt))
        self.status = "tabled"

    # --- after negotiation: rival drafts, votes, coalition --------------------------------

    def rival_drafts(self) -> None:
        """A permanent member that prefers no resolution to the tabled draft may table its own:
        the text that maximises its chance-weighted gain over the status quo."""
        if not self.scenario.rival_drafts or not self.tabled:
            return
        sc, p = self.scenario, self.params
        main = self.evaluate(self.tabled[0].text[None, :])
        all_texts = self._all_texts()
        for j in self.members[self.veto]:
            if j == self.tabled[0].by or main.eff[j, 0] >= p.status_quo[j]:
                continue

            def objective(texts: np.ndarray, j: int = j) -> np.ndarray:
                ev = self.evaluate(texts)
                value = ev.p_adopt * (ev.eff[j] - p.status_quo[j])
                return np.where(ev.red[j], -np.inf, value)

            starts = [ut.ideal_text(self.eff_table[j], self.space.option_mask), self.tabled[0].text]
            text, score = best_text(objective, self.space, starts, sc.enumerate_limit, all_texts)
            if score > 0:
                chance = float(self.evaluate(text[None, :]).p_adopt[0])
                if chance >= float(p.withdraw_threshold):
                    self.tabled.append(Tabled(int(j), text, chance))

    def _all_texts(self) -> np.ndarray | None:
        if self.space.n_texts > self.scenario.enumerate_limit:
            return None
        cache = self.scenario.__dict__.setdefault("_all_texts", None)
        if cache is None:
            cache = self.space.enumerate()
            self.scenario._all_texts = cache  # type: ignore[attr-defined]
        return cache

    def vote(self) -> list[DraftVote]:
        """Put tabled drafts to the vote in order; the first adopted ends the voting."""
        sc = self.scenario
        ids = sc.actor_ids
        results: list[DraftVote] = []
        adopted = False
        for d in self.tabled:
            dv = DraftVote(by=ids[d.by], text=self.space.describe(d.text), voted=not adopted,
                           p_adopt=round(d.p_adopt, 6))  # fmt: skip
            if not adopted:
                ev = self.evaluate(d.text[None, :])
                votes = vt.cast_votes(
                    ev.p_yes[:, 0], ev.p_no[:, 0], self.rng.random(len(self.members))
                )
                dv.adopted = adopted = vt.is_adopted(votes, self.veto, sc.votes_needed)
                dv.vetoed_by = [ids[m] for m in self.members[self.veto & (votes == vt.NO)]]
                dv.tally = vt.tally(votes)
                dv.votes = {
                    ids[m]: vt.VOTE_NAMES[v] for m, v in zip(self.members, votes, strict=True)
                }
                self.final_votes[self.members] = votes
            results.append(dv)
        return results

    def form_coalition(self, text: np.ndarray | None) -> co.Coalition:
        sc, p = self.scenario, self.params
        texts = None if text is None else text[None, :]
        can_join = co.eligible(
            sc.is_contributor, sc.allowed, sc.needs_resolution, sc.refused, texts
        )[:, 0]
        result = co.stable_coalition(
            can_join, self.delivered_if_in, p.willingness, p.solidarity, self.required,
            sc.partners_required, sc.partners_refused,
        )  # fmt: skip
        self.committed = result.committed
        return result

    def run(self) -> RunResult:
        """Negotiate until the draft is tabled, withdrawn or the deadline passes; then vote and
        form the coalition."""
        while self.running:
            self.step()
        self.rival_drafts()
        drafts = self.vote()
        return self._result(drafts)

    def _result(self, drafts: list[DraftVote]) -> RunResult:
        sc, p = self.scenario, self.params
        ids = sc.actor_ids
        voted = [d for d in drafts if d.voted]
        adopted = next((d for d in drafts if d.adopted), None)
        adopted_text = None
        if adopted is not None:
            outcome = "adopted"
            adopted_text = self.tabled[drafts.index(adopted)].text
        elif voted:
            outcome = "vetoed" if voted[0].vetoed_by else "failed"
        else:
            outcome = (
                self.status if self.status in ("withdrawn", "no_agreement") else "no_agreement"
            )
        decisive = adopted or (voted[0] if voted else None)
        coal = self.form_coalition(adopted_text)
        committed = np.flatnonzero(coal.committed)
        texts = None if adopted_text is None else adopted_text[None, :]
        lead_ok = co.lead_allowed(sc.may_lead, sc.lead_clause, texts)[:, 0] & sc.lead_candidate
        leaders = [i for i in committed if lead_ok[i]]
        lead = max(leaders, key=lambda i: (self.delivered_if_in[i], -i)) if leaders else None
        pledged = np.floor(p.max_troops).astype(int)
        delivered = self.delivered_if_in.astype(int)
        willing_but_refused = sc.is_contributor & sc.refused & (p.willingness + p.solidarity > 0)
        total = int(delivered[committed].sum())
        return RunResult(
            scenario=sc.name,
            seed=self.seed,
            protocol=self.protocol.name,
            outcome=outcome,
            rounds=self.steps,
            text=None if adopted_text is None else self.space.describe(adopted_text),
            draft=self.space.describe(self.draft),
            adopted_draft_by=adopted.by if adopted else None,
            vetoed_by=voted[0].vetoed_by if voted and outcome == "vetoed" else [],
            tally=decisive.tally if decisive else {},
            votes=decisive.votes if decisive else {},
            voting_coalition=[a for a, v in decisive.votes.items() if v == "yes"]
            if decisive
            else [],
            drafts=drafts,
            coalition=[
                Contribution(ids[i], int(pledged[i]), int(delivered[i]), bool(i == lead))
                for i in committed
            ],
            kept_out=[ids[i] for i in np.flatnonzero(willing_but_refused)],
            lead=ids[lead] if lead is not None else None,
            pledged_troops=int(pledged[committed].sum()),
            delivered_troops=total,
            troops_required=int(self.required),
            viable=bool(total >= self.required and lead is not None),
            coalition_stable=coal.stable,
            path=self.path,
            params=dict(p.sampled),
        )


def run(scenario: Scenario, seed: int | None = None, protocol: str | None = None) -> RunResult:
    """Run one seeded negotiation of a scenario."""
    return NegotiationModel(scenario, seed=seed, protocol=protocol).run()
