"""The texts a penholder weighs around its draft, and what about them never changes.

The texts one or two clauses from a draft (:meth:`TextSpace.neighbourhood`) are the same in
every run that reaches that draft (openings above all), and so is everything that depends on
the texts alone: which meet the coherence rules, which the host consents to, the regional
bodies' stances, which contributors could join and lead under each, who among the actors
with red lines sees one crossed. :func:`facts` computes these once per scenario and draft and
shares them. Utilities are separable over clauses, so a run scores the texts from its draft's
utility plus each change's difference (:func:`near_utility`) instead of summing every clause.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from sim.model import context as ctx
from sim.scenario.compiled import Scenario
from sim.scenario.textspace import Neighbourhood

CACHE = 2048  # drafts remembered per scenario


@dataclass(frozen=True)
class Facts:
    """A draft's neighbourhood: ``texts`` (the draft first, then singles, then pairs), the pair
    index of every pair (``first``, ``second`` into the singles), and what depends on the
    texts alone."""

    near: Neighbourhood
    texts: np.ndarray  # (n, C)
    first: np.ndarray  # (P,) single of each pair
    second: np.ndarray  # (P,)
    coherent: np.ndarray  # (n,)
    consent: np.ndarray  # (n,)
    stance: np.ndarray  # (B, n)
    red: np.ndarray  # (A, n) crosses the actor's red lines
    drafter_red: np.ndarray  # (n,) crosses a red line of the penholder or a co-penholder
    can_join: np.ndarray  # (contributors, n)
    can_lead: np.ndarray  # (contributors, n)

    @property
    def singles(self) -> int:
        return len(self.near.singles)


_FACTS: weakref.WeakKeyDictionary[Scenario, dict[bytes, Facts]] = weakref.WeakKeyDictionary()


def facts(scenario: Scenario, draft: np.ndarray) -> Facts:
    """The neighbourhood of ``draft`` in ``scenario`` and its text-only facts (remembered)."""
    cache = _FACTS.setdefault(scenario, {})
    key = draft.tobytes()
    hit = cache.get(key)
    if hit is not None:
        return hit
    sc = scenario
    near = sc.space.neighbourhood(draft)
    texts = np.vstack([draft[None, :], near.singles, near.pairs])
    first, second = np.nonzero(np.triu(near.pair_index >= 0, k=1))
    order = np.argsort(near.pair_index[first, second], kind="stable")
    red = ctx.picks(sc.red, texts).any(axis=-1)
    if sc.lead_clause >= 0:
        can_lead = sc.contrib_can_lead[texts[:, sc.lead_clause]].T
    else:
        can_lead = np.repeat(sc.contrib_can_lead[0][:, None], len(texts), axis=1)
    host_red = sc.red[sc.host] if sc.host >= 0 else None
    out = Facts(
        near, texts, first[order], second[order],
        coherent=ctx.coherent(sc.rule_when, sc.rule_require, texts),
        consent=ctx.consents(host_red, texts),
        stance=ctx.stances(sc.body_stance, sc.body_rejects, texts),
        red=red,
        drafter_red=red[sc.drafters].any(axis=0),
        can_join=ctx.picks(sc.contrib_allowed, texts).all(axis=-1),
        can_lead=can_lead,
    )  # fmt: skip
    if len(cache) < CACHE:
        cache[key] = out
    return out


def near_utility(table: np.ndarray, f: Facts) -> np.ndarray:
    """(A, n) every actor's utility of the neighbourhood's texts, from the draft's utility and
    each change's difference (utility is a sum over clauses)."""
    draft = f.texts[0]
    clauses = np.arange(len(draft))
    base = 1.0 + table[:, clauses, draft].sum(axis=1)  # (A,)
    near = f.near
    delta = table[:, near.clause, near.option] - table[:, near.clause, draft[near.clause]]
    return np.concatenate(
        [
            base[:, None],
            base[:, None] + delta,
            base[:, None] + delta[:, f.first] + delta[:, f.second],
        ],
        axis=1,
    )
