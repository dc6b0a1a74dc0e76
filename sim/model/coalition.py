"""Who sends troops once the vote is known, and whether the force is viable.

Rule: a contributor is *eligible* when the outcome meets its conditions (a resolution
if it requires one; every clause of the adopted text within its accepted options) and
the host does not refuse it. An eligible contributor wants to be in when its payoff
``willingness + solidarity * min(1, delivered by the others / required)`` is positive,
every partner it requires is in and no partner it refuses is in. Starting from every
eligible contributor, the one that most wants out leaves (or, when nobody wants out,
the one that most wants in joins) until nobody in wants out and nobody eligible wants
in: a stable set. The force is viable when delivered troops reach the requirement and
an acceptable lead nation is in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def eligible(
    contributor: np.ndarray,  # (A,) bool
    allowed: np.ndarray,  # (A, C, K) bool: options each contributor accepts
    needs_resolution: np.ndarray,  # (A,) bool
    refused: np.ndarray,  # (A,) bool: kept out by the host
    texts: np.ndarray | None,  # (n, C) texts, or None for "no resolution"
) -> np.ndarray:
    """(A, n) for texts, or (A, 1) for no resolution: who may join under each outcome."""
    base = contributor & ~refused
    if texts is None:
        return (base & ~needs_resolution)[:, None]
    clauses = np.arange(texts.shape[1])
    return base[:, None] & allowed[:, clauses, texts].all(axis=-1)


def lead_allowed(may_lead: np.ndarray, lead_clause: int, texts: np.ndarray | None) -> np.ndarray:
    """(A, n) who may lead under each text (any listed actor when there is no resolution)."""
    if texts is None:
        return may_lead.any(axis=0)[:, None]
    if lead_clause < 0:
        return np.repeat(may_lead[0][:, None], len(texts), axis=1)
    return may_lead[texts[:, lead_clause]].T


def commit_payoff(
    committed: np.ndarray, delivered: np.ndarray, willingness: np.ndarray,
    solidarity: np.ndarray, required: float,
) -> np.ndarray:  # fmt: skip
    """Each contributor's payoff of being in, given who else is in."""
    others = delivered @ committed - delivered * committed
    share = np.minimum(1.0, others / required) if required > 0 else np.ones_like(others)
    return willingness + solidarity * share


def wants_in(
    committed: np.ndarray, can_join: np.ndarray, delivered: np.ndarray, willingness: np.ndarray,
    solidarity: np.ndarray, required: float, partners_required: np.ndarray,
    partners_refused: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Who wants to be in given who else is in, and how much (-inf where a partner condition
    fails)."""
    pay = commit_payoff(committed, delivered, willingness, solidarity, required)
    partners_ok = ~(partners_required & ~committed[None, :]).any(axis=1)
    partners_ok &= ~(partners_refused & committed[None, :]).any(axis=1)
    return can_join & (pay > 0) & partners_ok, np.where(partners_ok, pay, -np.inf)


@dataclass(frozen=True)
class Coalition:
    committed: np.ndarray  # (A,) bool
    stable: bool
    moves: int


def stable_coalition(
    can_join: np.ndarray,  # (A,) bool
    delivered: np.ndarray,  # (A,) troops each would deliver
    willingness: np.ndarray,
    solidarity: np.ndarray,
    required: float,
    partners_required: np.ndarray,  # (A, A) bool
    partners_refused: np.ndarray,  # (A, A) bool
    max_moves: int | None = None,
) -> Coalition:
    """Best-response moves, one contributor at a time, to a stable set (see module doc)."""
    committed = can_join.copy()
    limit = max_moves if max_moves is not None else 4 * len(can_join) + 4
    game = (can_join, delivered, willingness, solidarity, required, partners_required,
            partners_refused)  # fmt: skip
    for move in range(limit):
        wants, desire = wants_in(committed, *game)
        leave = committed & ~wants
        if leave.any():
            committed[np.flatnonzero(leave)[np.argmin(desire[leave])]] = False
            continue
        join = ~committed & wants
        if join.any():
            committed[np.flatnonzero(join)[np.argmax(desire[join])]] = True
            continue
        return Coalition(committed, True, move)
    return Coalition(committed, False, limit)


def force_prospect(
    can_join: np.ndarray,  # (A, n) eligible under each text
    can_lead: np.ndarray,  # (A, n) an acceptable lead nation under each text
    troops: np.ndarray,  # (A,) troops each would deliver if willing (0 if not willing)
    required: float,
) -> np.ndarray:
    """Quick forecast per text, in [0, 1]: the share of the requirement that willing, eligible
    contributors would deliver, times whether an acceptable lead nation is among them."""
    delivered = troops @ can_join
    share = np.minimum(1.0, delivered / required) if required > 0 else np.ones(can_join.shape[1])
    lead = (can_join & can_lead & (troops > 0)[:, None]).any(axis=0)
    return share * lead
