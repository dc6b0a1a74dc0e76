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
from functools import cached_property

import numpy as np

from sim.model import context as ctx
from sim.scenario.compiled import Scenario
from sim.scenario.textspace import ClauseDef, Neighbourhood

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
    member_red: np.ndarray  # (M, n) red[members]
    allowed: np.ndarray  # (n,) coherent and clear of the drafting side's red lines
    lifted: np.ndarray  # (A, S) a single change lifts a red line the draft crosses
    # Where a (A, C, K) utility table, flattened to (A, C K), holds the draft's options (C,),
    # each single change's option (S,) and the draft's option on that change's clause (S,).
    at_draft: np.ndarray
    at_change: np.ndarray
    at_changed: np.ndarray
    clauses: tuple[ClauseDef, ...]

    @property
    def singles(self) -> int:
        return len(self.near.singles)

    @cached_property
    def changes(self) -> list[tuple[tuple[int, int], ...]]:
        """Each text's changes from the draft, ((clause, option), ...) in clause order."""
        texts = self.texts.tolist()
        draft = texts[0]
        return [
            tuple((c, o) for c, (o, d) in enumerate(zip(text, draft, strict=True)) if o != d)
            for text in texts
        ]

    @cached_property
    def named_changes(self) -> list[dict[str, str]]:
        """Each text's changes from the draft as {clause id: option id} (an amendment)."""
        cl = self.clauses
        return [{cl[c].id: cl[c].options[o] for c, o in ch} for ch in self.changes]


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
    coherent = ctx.coherent(sc.rule_when, sc.rule_require, texts)
    drafter_red = red[sc.drafters].any(axis=0)
    s, K = len(near.singles), sc.red.shape[2]
    out = Facts(
        near, texts, first[order], second[order],
        coherent=coherent,
        consent=ctx.consents(host_red, texts),
        stance=ctx.stances(sc.body_stance, sc.body_rejects, texts),
        red=red,
        drafter_red=drafter_red,
        can_join=ctx.picks(sc.contrib_allowed, texts).all(axis=-1),
        can_lead=can_lead,
        member_red=red[sc.members],
        allowed=coherent & ~drafter_red,
        lifted=red[:, :1] & ~red[:, 1 : 1 + s],
        at_draft=np.arange(len(draft)) * K + draft,
        at_change=near.clause * K + near.option,
        at_changed=near.clause * K + draft[near.clause],
        clauses=sc.space.clauses,
    )  # fmt: skip
    for arr in (out.member_red, out.allowed, out.lifted):
        arr.flags.writeable = False  # shared between runs
    if len(cache) < CACHE:
        cache[key] = out
    return out


def near_utility(table: np.ndarray, f: Facts) -> np.ndarray:
    """(A, n) every actor's utility of the neighbourhood's texts, from the draft's utility and
    each change's difference (utility is a sum over clauses)."""
    flat = table.reshape(len(table), -1)
    base = 1.0 + flat.take(f.at_draft, axis=1).sum(axis=1)  # (A,)
    delta = flat.take(f.at_change, axis=1) - flat.take(f.at_changed, axis=1)
    return np.concatenate(
        [
            base[:, None],
            base[:, None] + delta,
            base[:, None] + delta[:, f.first] + delta[:, f.second],
        ],
        axis=1,
    )
