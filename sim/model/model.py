"""The negotiation as a Mesa model: one ``step()`` is one negotiation round.

The model holds the rules of the game: who sits on the Council, how texts are
scored and voted on, when a draft is tabled, and how the troop coalition forms
after the vote. The protocol (``negotiation.protocol``) decides what a round does;
the default is the penholder procedure (docs/model.md). Kept whole: the rules of the game
read best in one place; the maths lives in the pure modules beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import mesa
import numpy as np

from sim.model import coalition as co
from sim.model import context as ctx
from sim.model import reasons as rs
from sim.model import utility as ut
from sim.model import voting as vt
from sim.model.agents import StateActor
from sim.model.neighbourhood import Facts, near_utility
from sim.model.result import Contribution, DraftVote, RoundRecord, RunResult
from sim.model.search import best_text
from sim.scenario.compiled import Params, Scenario


@dataclass
class Assessment:
    """How every actor and the Council see a set of texts."""

    eff: np.ndarray  # (A, n) tie-weighted utility
    red: np.ndarray  # (A, n) crosses the actor's red line
    p_yes: np.ndarray  # (M, n)
    p_no: np.ndarray  # (M, n)
    p_adopt: np.ndarray  # (n,)
    p_reach: np.ndarray | None = None  # (n,) P(enough yes votes), when asked for


@dataclass
class Tabled:
    """A draft put to the Council, with the members' vote probabilities when tabled."""

    by: int
    text: np.ndarray
    p_adopt: float
    p_yes: np.ndarray
    p_no: np.ndarray


def opening_draft(scenario: Scenario, eff_table: np.ndarray) -> np.ndarray:
    """The penholder's opening draft: the file's ``negotiation.opening_draft`` where it gives
    an option, the penholder's (tie-weighted) ideal option elsewhere."""
    opening = ut.ideal_text(eff_table[scenario.penholder], scenario.space.option_mask)
    for c, k in scenario.opening_draft.items():
        opening[c] = k
    return opening


def utility_tables(scenario: Scenario, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(own, tie-weighted) utility tables (A, C, K) of a run's parameters."""
    loss = ut.clause_loss(params.ideal_pos, scenario.space.positions, params.option_util,
                          scenario.unordered)  # fmt: skip
    own = ut.utility_table(loss, params.salience)
    return own, ut.mix(own, ut.tie_matrix(params.ties))


class NegotiationProtocol(Protocol):
    """What one round of negotiation does (see :mod:`sim.model.protocols`)."""

    name: str

    def start(self, model: NegotiationModel) -> None: ...

    def step(self, model: NegotiationModel) -> None: ...


class NegotiationModel(mesa.Model):
    """One negotiation. Build it as Mesa models are built, from its parameters: the scenario,
    one run's drawn parameters (:meth:`Scenario.draw`), the generator that drew them (votes
    use it next) and a protocol object; then call :meth:`run`, or :meth:`step` round by
    round. :func:`sim.model.simulate.make_model` does all of it from a seed."""

    def __init__(
        self,
        scenario: Scenario,
        params: Params,
        rng: np.random.Generator,
        protocol: NegotiationProtocol,
        *,
        seed: int | None = None,
        stdlib_seed: int | None = None,
        record_path: bool = True,
    ):
        # Mesa seeds its stdlib generator (unused by the rules) from the run's generator;
        # make_model draws that seed before the parameters, so a run's stream is: that seed,
        # the parameters, then the votes. The rules draw only from ``rng``.
        if stdlib_seed is None:
            stdlib_seed = int(rng.integers(np.iinfo(np.int32).max))
        super().__init__(seed=stdlib_seed)
        self.rng = rng
        self.seed = seed
        self.scenario = scenario
        self.space = scenario.space
        self.params = params
        p = self.params
        A = len(scenario.actor_ids)
        self.members = scenario.members
        self.veto = scenario.veto
        self.mixing = ut.tie_matrix(p.ties)
        self.clause_weights = ut.clause_weights(p.salience)  # salience never softens
        # Off the Council an actor presses through the ties Council members have to it.
        self.channel = np.where(
            scenario.on_council, 1.0, np.minimum(1.0, p.ties[self.members].sum(axis=0))
        )
        self.ideal_pos = p.ideal_pos  # softening replaces these arrays, never writes into them
        self.option_util = p.option_util
        self.delivered_if_in = np.floor(p.max_troops * p.delivery)
        self.required = float(p.troops_required)
        # Per-run constants of the Council vote and the force forecast.
        m = self.members
        self.member_lower = vt.no_threshold(
            p.band[m], p.veto_cost[m], self.veto, float(p.elected_no_cost)
        )
        self.member_noise = p.noise[m]
        self.member_sq = p.status_quo[m]
        # What surrounds the vote (sim.model.context): only computed when the scenario has it.
        self.host_red = scenario.red[scenario.host] if scenario.host >= 0 else None
        self.member_sovereignty = p.sovereignty[m]
        self.cohesion = np.where(np.isnan(scenario.group_cohesion), float(p.caucus_cohesion),
                                 scenario.group_cohesion)  # fmt: skip
        self.has_context = bool(
            len(scenario.body_stance)
            or (len(scenario.groups) and self.cohesion.any())
            or (self.host_red is not None and self.member_sovereignty.any()
                and float(p.sovereignty_weight) > 0)
        )  # fmt: skip
        willing = (p.willingness + p.solidarity)[scenario.contrib] > 0
        self.contrib_troops = np.where(willing, self.delivered_if_in[scenario.contrib], 0.0)
        self.protocol = protocol
        self._actors: list[StateActor] | None = None
        self.actor_index = np.arange(A)
        self.presses = self.channel > 0  # who can press for changes at all

        # State the protocol and the agents read and write.
        self.intention = np.full(A, -1)
        self.demand: list[tuple[int, int] | None] = [None] * A
        self.amendments: list[tuple[int, dict[str, str]]] = []  # (actor, text) this round
        self.reference: np.ndarray | None = None  # what members weigh a draft against (M,)
        self.final_votes = np.full(A, -1)
        self.committed = np.zeros(A, dtype=bool)
        self.status = "negotiating"
        self.tabled: list[Tabled] = []
        self.path: list[RoundRecord] = []
        self.record_path = record_path  # False: rounds are played but not written down
        self.refresh_tables()
        self.tables_stale = False  # set when positions soften
        opening = opening_draft(scenario, self.eff_table)
        self.draft = opening
        self.opening = opening.copy()
        self.protocol.start(self)

    # --- the states as Mesa agents -------------------------------------------------------

    @property
    def actors(self) -> list[StateActor]:
        """The states as Mesa agents, in scenario order. They are created on first access
        (here or through ``agents``): the rules run on the model's arrays, so a sweep that
        never looks at the objects does not pay for them (about a sixth of a Gaza run)."""
        if self._actors is None:
            self._actors = [StateActor(self, i) for i in range(len(self.scenario.actor_ids))]
            # Mesa 3.3 keys a class-level id counter by model, which would keep every model
            # alive; this model creates no agents after this point, so let it go.
            getattr(mesa.Agent, "_ids", {}).pop(self, None)
        return self._actors

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of all agents (the states, created if need be)."""
        _ = self.actors
        return super().agents

    # --- scoring (pure functions, vectorised over texts and actors) ----------------------

    def refresh_tables(self) -> None:
        """Recompute utility tables from the actors' current (softened) positions."""
        loss = ut.clause_loss(
            self.ideal_pos, self.space.positions, self.option_util, self.scenario.unordered
        )
        self.own_table = ut.weighted_table(loss, self.clause_weights)
        self.eff_table = ut.mix(self.own_table, self.mixing)

    def utilities(self, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tie-weighted utility (A, n) of each text for every actor, and red-line crossings."""
        sc = self.scenario
        red = np.zeros((len(sc.actor_ids), len(texts)), dtype=bool)
        if len(sc.red_rows):  # only actors with red lines can cross one
            red[sc.red_rows] = ut.crosses_red_line(sc.red_lines, texts)
        return ut.text_utility(self.eff_table, texts), red

    def vote_context(self, eff: np.ndarray, texts: np.ndarray) -> dict[str, np.ndarray]:
        """What members' votes on texts depend on besides the vote parameters: their gaps
        (M, n) over the status quo (or the draft they backed), the host's consent (n,) and the
        regional bodies' stances (B, n)."""
        reference = self.member_sq if self.reference is None else self.reference
        sc = self.scenario
        return {
            "gap": eff[self.members] - reference[:, None],
            "consent": ctx.consents(self.host_red, texts),
            "stance": ctx.stances(sc.body_stance, sc.body_rejects, texts),
        }

    def member_gaps(self, eff: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Members' utility gaps (M, n) on texts, and their no thresholds ((M,) or (M, n)),
        with the host's consent, the regional bodies and the caucuses."""
        if not self.has_context:
            return self.gaps_given(eff, None, None)
        sc = self.scenario
        return self.gaps_given(eff, ctx.consents(self.host_red, texts),
                               ctx.stances(sc.body_stance, sc.body_rejects, texts))  # fmt: skip

    def gaps_given(self, eff: np.ndarray, consent: np.ndarray | None,
                   stance: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """:meth:`member_gaps` with the texts' consent and stances already in hand."""
        reference = self.member_sq if self.reference is None else self.reference
        gap = eff[self.members] - reference[:, None]
        if not self.has_context:
            return gap, self.member_lower
        sc, p = self.scenario, self.params
        gap, dcost = ctx.member_view(gap, consent, stance, sc.body_members,
                                     self.member_sovereignty, sc.groups, self.cohesion,
                                     float(p.region_weight), float(p.sovereignty_weight))  # fmt: skip
        return gap, self.member_lower[:, None] - dcost[None, :]

    def near_view(self, f: Facts, table: np.ndarray | None = None) -> np.ndarray:
        """(A, n) every actor's tie-weighted utility of a draft's neighbourhood, from the
        draft's and each change's difference (``table``: the utility table to use, by default
        the actors' present one); vote probabilities come with :meth:`near_votes`, only for
        the texts that need them."""
        return near_utility(self.eff_table if table is None else table, f)

    def near_votes(self, eff: np.ndarray, f: Facts, rows: np.ndarray,
                   gaps: tuple[np.ndarray, np.ndarray] | None = None) -> Assessment:  # fmt: skip
        """The texts ``rows`` of a neighbourhood (``eff``: its :meth:`near_view`) with members'
        vote probabilities and the chances of adoption and of enough yes votes. ``gaps``:
        :meth:`gaps_given` of all the neighbourhood's texts, when in hand (used without
        context, where each text's gap is its own)."""
        eff, red = eff[:, rows], f.red[:, rows]
        if gaps is not None and not self.has_context:
            gap, lower = gaps[0][:, rows], gaps[1]
        else:
            gap, lower = self.gaps_given(eff, f.consent[rows], f.stance[:, rows])
        p_yes, p_no = vt.vote_probabilities(gap, self.member_noise, lower, f.member_red[:, rows])
        if self.scenario.absent_members:
            p_yes, p_no = (
                p_yes * self.scenario.present[:, None],
                p_no * self.scenario.present[:, None],
            )
        p_adopt, p_reach = vt.outcome_probabilities(
            p_yes, p_no, self.veto, self.scenario.votes_needed
        )
        return Assessment(eff, red, p_yes, p_no, p_adopt, p_reach)

    def prospect_near(self, f: Facts, rows: np.ndarray) -> np.ndarray:
        """:meth:`prospect` of texts ``rows`` of a draft's neighbourhood, none without the host's
        consent."""
        troops, required = self.contrib_troops, self.required
        joint = co.force_prospect(f.can_join[:, rows], f.can_lead[:, rows], troops, required)
        return joint * f.consent[rows]

    def assess(self, texts: np.ndarray) -> Assessment:
        """Utilities, members' P(yes) and P(no), and the chance of adoption of each text."""
        eff, red = self.utilities(texts)
        gap, lower = self.member_gaps(eff, texts)
        p_yes, p_no = vt.vote_probabilities(gap, self.member_noise, lower, red[self.members])
        if self.scenario.absent_members:  # an absent member casts no vote: neither yes nor no
            p_yes, p_no = (
                p_yes * self.scenario.present[:, None],
                p_no * self.scenario.present[:, None],
            )
        p_adopt = vt.adoption_probability(p_yes, p_no, self.veto, self.scenario.votes_needed)
        return Assessment(eff, red, p_yes, p_no, p_adopt)

    def prospect(self, texts: np.ndarray) -> np.ndarray:
        """Forecast viability of the force under each text (see coalition.force_prospect)."""
        clauses = np.arange(texts.shape[1])
        sc = self.scenario
        can_join = sc.contrib_allowed[:, clauses, texts].all(axis=-1)  # (Cn, n)
        if sc.lead_clause >= 0:
            can_lead = sc.contrib_can_lead[texts[:, sc.lead_clause]].T
        else:
            can_lead = np.repeat(sc.contrib_can_lead[0][:, None], len(texts), axis=1)
        return co.force_prospect(can_join, can_lead, self.contrib_troops, self.required)

    def intentions_of(self, eff: np.ndarray, red: np.ndarray) -> np.ndarray:
        """Noise-free vote intention of every actor (members and others alike) on one text,
        given its tie-weighted utility (A,) and red-line crossings (A,)."""
        p = self.params
        return vt.intentions(
            eff - p.status_quo, p.band, p.veto_cost, self.scenario.veto_holder, red
        )

    # --- the round ------------------------------------------------------------------------

    def step(self) -> None:
        """One negotiation round, as the protocol defines it."""
        self.protocol.step(self)
        if self.status != "negotiating":
            self.running = False

    def record_round(
        self, text: np.ndarray, p_adopt: float, intention: np.ndarray, changed: bool,
        demands: list[tuple[int, int, int, float]],
        amendments: list[tuple[int, dict[str, str]]] = (),  # type: ignore[assignment]
    ) -> None:  # fmt: skip
        """Append the round just played: the revised draft, its chance of adoption, the
        members' intentions on it, and the demands (actor, clause, option, weight) behind it."""
        if not self.record_path:
            return
        members = intention[self.members].tolist()
        clauses, ids = self.space.clauses, self.scenario.actor_ids
        self.path.append(
            RoundRecord(
                round=self.steps,
                text=self.space.describe(text),
                p_adopt=round(p_adopt, 6),
                intentions={n: members.count(k) for k, n in enumerate(vt.VOTE_NAMES)},
                demands=[
                    {
                        "actor": ids[a],
                        "clause": clauses[c].id,
                        "option": clauses[c].options[o],
                        "weight": round(w, 6),
                    }
                    for a, c, o, w in demands
                ],
                changed=changed,
                amendments=[{"actor": ids[a], "changes": t} for a, t in amendments],
            )
        )

    def table(
        self, text: np.ndarray, by: int, p_adopt: float, p_yes: np.ndarray, p_no: np.ndarray
    ) -> None:
        """Put a draft on the table: negotiation ends and the Council will vote on it."""
        self.tabled.append(Tabled(by, text.copy(), p_adopt, p_yes, p_no))
        self.status = "tabled"

    # --- after negotiation: rival drafts, votes, coalition --------------------------------

    def rival_draft(self, j: int, main: np.ndarray) -> Tabled | None:
        """The rival text a permanent member ``j`` tables against the draft ``main``, if any:
        the text that maximises its chance-weighted gain over the status quo, never crossing
        its red lines or a coherence rule; tabled when that gain is positive and the chance of
        adoption at least the withdrawal threshold."""
        p, sq = self.params, self.params.status_quo[j]

        sc = self.scenario

        def objective(texts: np.ndarray) -> np.ndarray:
            a = self.assess(texts)
            bad = a.red[j] | ~ctx.coherent(sc.rule_when, sc.rule_require, texts)
            return np.where(bad, -np.inf, a.p_adopt * (a.eff[j] - sq))

        starts = [main, ut.ideal_text(self.eff_table[j], self.space.option_mask)]
        text, score = best_text(objective, self.space, starts, self.scenario.enumerate_limit)
        if score <= 0:
            return None
        a = self.assess(text[None, :])
        if a.p_adopt[0] < float(p.withdraw_threshold):
            return None
        return Tabled(int(j), text, float(a.p_adopt[0]), a.p_yes[:, 0], a.p_no[:, 0])

    def cast(self, d: Tabled) -> DraftVote:
        """Put one draft to the vote."""
        sc, ids = self.scenario, self.scenario.actor_ids
        votes = vt.cast_votes(d.p_yes, d.p_no, self.rng.random(len(self.members)), sc.present)
        self.final_votes[self.members] = votes
        cast, members = votes.tolist(), sc.member_ids
        enough = cast.count(vt.YES) >= sc.votes_needed
        vetoes = [m for m, v, veto in zip(members, cast, self.veto.tolist(), strict=True)
                  if veto and v == vt.NO]  # fmt: skip
        return DraftVote(
            by=ids[d.by],
            text=self.space.describe(d.text),
            adopted=enough and not vetoes,  # vt.is_adopted
            vetoed_by=vetoes if enough else [],  # vt.is_vetoed
            tally=vt.tally(votes),
            votes={m: vt.vote_name(v) for m, v in zip(members, cast, strict=True)},
            p_adopt=round(d.p_adopt, 6),
        )

    def vote(self) -> list[DraftVote]:
        """Vote on the tabled draft; if it is not adopted, each permanent member that prefers
        no resolution to it may table a rival draft, voted in turn until one is adopted (under
        a protocol whose drafts compete, members that backed the first weigh a rival against
        it)."""
        if not self.tabled:
            return []
        main = self.tabled[0]
        results = [self.cast(main)]
        if results[0].adopted or not self.scenario.rival_drafts:
            return results
        eff, _ = self.utilities(main.text[None, :])
        if getattr(self.protocol, "competing_drafts", False):
            # Drafts compete: a member that voted for the first weighs a rival against it, not
            # against no resolution (backing the rival would give up the text it supported).
            backed = results[0].votes
            yes = np.array([backed.get(self.scenario.actor_ids[m]) == "yes" for m in self.members])
            self.reference = np.where(yes, np.maximum(self.member_sq, eff[self.members, 0]),
                                      self.member_sq)  # fmt: skip
        for j in self.members[self.veto]:
            if j == main.by or eff[j, 0] >= self.params.status_quo[j]:
                continue
            rival = self.rival_draft(int(j), main.text)
            if rival is not None:
                self.tabled.append(rival)
                results.append(self.cast(rival))
                if results[-1].adopted:
                    break
        self.reference = None
        return results

    def host_consents(self, text: np.ndarray | None) -> bool:
        """The host lets the force in unless the adopted text crosses one of its red lines."""
        if self.host_red is None or text is None:
            return True
        return not self.host_red[np.arange(len(text)), text].any()

    def kept_out(self, consent: bool) -> np.ndarray:
        """(A,) contributors the host keeps out: those it refuses, or all without its consent."""
        sc = self.scenario
        return sc.refused | (sc.is_contributor & (not consent))

    def form_coalition(self, text: np.ndarray | None, consent: bool = True) -> co.Coalition:
        """The stable troop coalition under the adopted text (None: no resolution)."""
        sc, p = self.scenario, self.params
        texts = None if text is None else text[None, :]
        can_join = co.eligible(
            sc.is_contributor, sc.allowed, sc.needs_resolution, self.kept_out(consent), texts
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
        drafts = self.vote()
        return self._result(drafts)

    def _result(self, drafts: list[DraftVote]) -> RunResult:
        sc, p = self.scenario, self.params
        ids = sc.actor_ids
        adopted = next((d for d in drafts if d.adopted), None)
        adopted_text = None
        if adopted is not None:
            outcome = "adopted"
            adopted_text = self.tabled[drafts.index(adopted)].text
        elif drafts:
            outcome = "vetoed" if drafts[0].vetoed_by else "failed"
        else:
            outcome = (
                self.status if self.status in ("withdrawn", "no_agreement") else "no_agreement"
            )
        decisive = adopted or (drafts[0] if drafts else None)
        consent = self.host_consents(adopted_text)
        coal = self.form_coalition(adopted_text, consent)
        committed = np.flatnonzero(coal.committed)
        texts = None if adopted_text is None else adopted_text[None, :]
        lead_ok = co.lead_allowed(sc.may_lead, sc.lead_clause, texts)[:, 0] & sc.lead_candidate
        leaders = [i for i in committed if lead_ok[i]]
        lead = max(leaders, key=lambda i: (self.delivered_if_in[i], -i)) if leaders else None
        pledged = np.floor(p.max_troops).astype(int)
        delivered = self.delivered_if_in.astype(int)
        willing = p.willingness + p.solidarity > 0
        willing_but_refused = sc.is_contributor & self.kept_out(consent) & willing
        total = int(delivered[committed].sum())
        why = self.why(drafts, outcome, adopted, adopted_text)
        return RunResult(
            scenario=sc.name,
            seed=self.seed,
            protocol=self.protocol.name,
            outcome=outcome,
            rounds=self.steps,
            text=None if adopted_text is None else self.space.describe(adopted_text),
            opening=self.space.describe(self.opening),
            draft=self.space.describe(self.draft),
            adopted_draft_by=adopted.by if adopted else None,
            vetoed_by=drafts[0].vetoed_by if outcome == "vetoed" else [],
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
            host_consent=consent,
            lead=ids[lead] if lead is not None else None,
            pledged_troops=int(pledged[committed].sum()),
            delivered_troops=total,
            troops_required=int(self.required),
            viable=bool(total >= self.required and lead is not None),
            coalition_stable=coal.stable,
            path=self.path,
            params=dict(p.sampled),
            why=why,
        )

    def why(self, drafts: list[DraftVote], outcome: str, adopted: DraftVote | None,
            adopted_text: np.ndarray | None) -> dict[str, Any]:  # fmt: skip
        """Why the run ended as it did (:mod:`sim.model.reasons`)."""
        sc, ids, clauses = self.scenario, self.scenario.actor_ids, self.space.clauses
        members, name = sc.member_ids, sc.name_of

        def words(text: np.ndarray, c: int) -> tuple[str, str, str]:
            """The clause id, the option (id, then as words) and the clause's label."""
            k = int(text[c])
            return (
                clauses[c].id,
                f"{clauses[c].options[k]}|{clauses[c].words(k)}",
                clauses[c].label.lower(),
            )

        if adopted is not None and adopted_text is not None:
            tally = "-".join(str(adopted.tally.get(k, 0)) for k in ("yes", "no", "abstain"))
            changed = np.flatnonzero(adopted_text != self.opening)
            if not len(changed) or adopted.by != ids[sc.penholder]:
                return rs.adopted(
                    tally, adopted.by, ids[sc.penholder], None, None, None, None, name
                )
            back = np.repeat(adopted_text[None, :], len(changed), axis=0)
            back[np.arange(len(changed)), changed] = self.opening[changed]
            a = self.assess(np.vstack([adopted_text[None, :], back]))
            lost = a.p_adopt[0] - a.p_adopt[1:]  # what undoing each change would cost
            k = int(np.argmax(lost))
            if lost[k] <= 1e-6:
                return rs.adopted(
                    tally, adopted.by, ids[sc.penholder], None, None, None, None, name
                )
            moved = np.abs(a.p_yes[:, 0] - a.p_yes[:, 1 + k]) + np.abs(
                a.p_no[:, 0] - a.p_no[:, 1 + k]
            )
            cid, option, label = words(adopted_text, int(changed[k]))
            return rs.adopted(tally, adopted.by, ids[sc.penholder], cid, option,
                              members[int(np.argmax(moved))], label, name)  # fmt: skip
        if drafts:
            first, text = drafts[0], self.tabled[0]
            if outcome == "vetoed":
                j = ids.index(first.vetoed_by[0])
                crossed = np.flatnonzero(sc.red[j, np.arange(len(clauses)), text.text])
                if len(crossed):
                    c, red = int(crossed[0]), True
                else:
                    loss = -self.own_table[j, np.arange(len(clauses)), text.text]
                    c, red = int(np.argmax(loss)), False
                cid, option, label = words(text.text, c)
                record = text.p_adopt < float(self.params.withdraw_threshold)
                return rs.vetoed(ids[j], cid, option, label, red, record, name)
            not_yes = [
                k for k, m in enumerate(members) if first.votes.get(m) not in ("yes", "absent")
            ]
            k = max(not_yes, key=lambda k: text.p_yes[k]) if not_yes else 0
            return rs.failed(first.tally.get("yes", 0), sc.votes_needed, members[k],
                             first.votes.get(members[k], "abstain"), float(text.p_yes[k]), name)  # fmt: skip
        a = self.assess(self.draft[None, :])
        for k, m in enumerate(self.members):
            crossed = np.flatnonzero(sc.red[m, np.arange(len(clauses)), self.draft])
            if len(crossed):
                cid, option, label = words(self.draft, int(crossed[0]))
                return rs.not_voted(self.status, members[k], cid, option, label, name)
        k = int(np.argmin(a.p_yes[:, 0]))
        return rs.not_voted(self.status, members[k], None, None, None, name)
