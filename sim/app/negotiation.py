"""One negotiation, round by round, as the explorer shows it: the Mesa model the page steps and
pure views of what it holds.

Rules:

- :class:`ExplorerModel` is the run ``make_model(scenario, seed)`` builds (the same draws, the
  same rounds), with one addition Mesa's controls need: the step after which negotiation ends
  also holds the vote and forms the coalition, so stepping to the end gives exactly
  ``make_model(scenario, seed).run()`` (kept as :attr:`ExplorerModel.result`).
- The views read the model and its agents; they change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.model import NegotiationModel
from sim.model.protocols import make_protocol
from sim.model.result import RunResult
from sim.scenario.compiled import Scenario


class ExplorerModel(NegotiationModel):
    """The negotiation of run ``seed`` (``make_model``'s draws), built from keyword parameters as
    Mesa's SolaraViz rebuilds a model on Reset; at the end of negotiation a step also votes."""

    def __init__(self, scenario: Scenario, seed: int = 1, protocol: str | None = None):
        rng = np.random.default_rng(seed)
        stdlib_seed = int(rng.integers(np.iinfo(np.int32).max))  # as make_model draws it
        params = scenario.draw(rng)
        super().__init__(scenario, params, rng, make_protocol(protocol or scenario.protocol),
                         seed=seed, stdlib_seed=stdlib_seed, record_path=True)  # fmt: skip
        self.result: RunResult | None = None
        self.previous = self.draft.copy()  # the draft before the last round

    def step(self) -> None:
        """One round; the round that ends negotiation also holds the vote and the coalition."""
        if self.result is not None:
            return
        self.previous = self.draft.copy()
        super().step()
        if not self.running:
            self.result = self._result(self.vote())

    def finish(self) -> RunResult:
        """Play the rounds left and the vote; the run's result."""
        while self.result is None:
            self.step()
        return self.result


# --- views --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """One clause of the draft: its label, the option in words, its paragraph (empty: none), and
    whether the last round changed it (``before``: the option it replaced)."""

    clause: str
    label: str
    words: str
    text: str
    section: str
    changed: bool
    before: str | None


def draft_view(model: ExplorerModel) -> list[Paragraph]:
    """The current draft, clause by clause, marking what the last round changed."""
    out = []
    for c, clause in enumerate(model.space.clauses):
        k, was = int(model.draft[c]), int(model.previous[c])
        out.append(
            Paragraph(
                clause.id,
                clause.label,
                clause.words(k),
                clause.paragraph(k).strip(),
                clause.section,
                k != was,
                clause.words(was) if k != was else None,
            )
        )
    return out


@dataclass(frozen=True)
class Member:
    """One state as the table shows it: seat, vote intention, demand and amendment of the last
    round, the vote cast (after the vote) and its troops (contributors)."""

    code: str
    name: str
    seat: str
    intention: str | None
    demand: str | None
    amendment: str | None
    vote: str | None
    vetoed: bool


def members_view(model: ExplorerModel) -> list[Member]:
    """Every state, Council members first in the file's order, read from the Mesa agents."""
    vetoed = set(model.result.vetoed_by) if model.result else set()
    clauses = {c.id: c for c in model.space.clauses}

    def words(cid: str, option: str) -> str:
        c = clauses[cid]
        return f"{c.label.lower()}: {c.words(c.options.index(option))}"

    rows = []
    for a in model.actors:
        d = a.demand
        am = a.amendment
        rows.append(
            Member(
                a.code, a.name, a.seat, a.intention,
                words(*d) if d else None,
                "; ".join(words(c, o) for c, o in am.items()) if am else None,
                (model.result.votes.get(a.code) if model.result else None),
                a.code in vetoed,
            )
        )  # fmt: skip
    return sorted(rows, key=lambda m: (m.seat == "none", m.seat == "elected"))


def status_line(model: ExplorerModel) -> str:
    """Where the run stands: the round, the negotiation's state, then the outcome and tally."""
    r = model.result
    if r is None:
        return f"Round {model.steps} of at most {model.scenario.max_rounds}: {model.status}"
    tally = ", ".join(f"{v} {k}" for k, v in r.tally.items()) if r.tally else "no vote held"
    veto = f"; vetoed by {', '.join(r.vetoed_by)}" if r.vetoed_by else ""
    return f"Round {r.rounds}: {r.outcome.replace('_', ' ')} ({tally}{veto})"
