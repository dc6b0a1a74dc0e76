"""Voting power of a Council rule: exact Shapley-Shubik and Banzhaf indices, and the
empirical pivotality of members in simulated votes.

The rule: one vote per member; a text is adopted iff at least ``votes_needed`` members
vote yes and no veto holder votes no. As a simple game, a coalition S wins iff
``|S| >= votes_needed`` and S holds every veto. Every veto holder is alike and every
other member is alike, so the indices have closed forms (``v`` veto holders, ``n``
members, ``q`` votes needed, ``C`` the binomial coefficient):

- a veto holder swings in every coalition holding the other ``v - 1`` vetoes and
  ``t >= q - v`` of the ``n - v`` others: Banzhaf count ``sum_t C(n-v, t)``;
- another member swings when the coalition holds all ``v`` vetoes and exactly
  ``q - 1 - v`` of the other ``n - v - 1``: count ``C(n-v-1, q-1-v)``;
- Shapley-Shubik weighs each swing coalition S by ``|S|! (n - |S| - 1)! / n!``.

Exact values are ``fractions.Fraction``; the float arrays are their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import comb, factorial

import numpy as np

from sim.errors import StabsimError
from sim.model.voting import NO, YES


class PowerError(StabsimError):
    """A voting rule that has no meaning (votes needed out of range, bad veto mask)."""


@dataclass(frozen=True)
class PowerIndices:
    """Per-member power indices of a Council rule, exact and as floats."""

    shapley_shubik: tuple[Fraction, ...]
    banzhaf: tuple[Fraction, ...]  # normalised: sums to 1
    banzhaf_raw: tuple[int, ...]  # number of coalitions in which the member swings

    @property
    def ss(self) -> np.ndarray:
        return np.array([float(f) for f in self.shapley_shubik])

    @property
    def bz(self) -> np.ndarray:
        return np.array([float(f) for f in self.banzhaf])


def _check(veto: np.ndarray, votes_needed: int) -> tuple[int, int]:
    veto = np.asarray(veto)
    if veto.ndim != 1 or veto.dtype != bool or len(veto) == 0:
        raise PowerError(
            f"power: expected a non-empty 1-D boolean veto mask, got shape {veto.shape} "
            f"of {veto.dtype}"
        )
    n = len(veto)
    if not 1 <= votes_needed <= n:
        raise PowerError(
            f"power: votes_needed must be between 1 and {n} members, got {votes_needed}"
        )
    return n, int(veto.sum())


def swing_counts(n: int, v: int, q: int) -> tuple[int, int]:
    """Banzhaf swing counts (veto holder, other member) for n members, v vetoes, q votes."""
    veto_swings = sum(comb(n - v, t) for t in range(max(0, q - v), n - v + 1)) if v else 0
    k = q - 1 - v
    other_swings = comb(n - v - 1, k) if n > v and 0 <= k <= n - v - 1 else 0
    return veto_swings, other_swings


def _ss_values(n: int, v: int, q: int) -> tuple[Fraction, Fraction]:
    """Shapley-Shubik value (veto holder, other member): swing coalitions weighted by order."""
    nf = factorial(n)
    veto_ss = Fraction(0)
    if v:
        veto_ss = Fraction(
            sum(
                comb(n - v, t) * factorial(v - 1 + t) * factorial(n - v - t)
                for t in range(max(0, q - v), n - v + 1)
            ),
            nf,
        )
    k = q - 1 - v
    other_ss = Fraction(0)
    if n > v and 0 <= k <= n - v - 1:
        other_ss = Fraction(comb(n - v - 1, k) * factorial(q - 1) * factorial(n - q), nf)
    return veto_ss, other_ss


def power_indices(veto: np.ndarray, votes_needed: int) -> PowerIndices:
    """Exact Shapley-Shubik and normalised Banzhaf indices of every member of the rule."""
    n, v = _check(veto, votes_needed)
    veto = np.asarray(veto)
    bz_veto, bz_other = swing_counts(n, v, votes_needed)
    ss_veto, ss_other = _ss_values(n, v, votes_needed)
    raw = tuple(bz_veto if is_v else bz_other for is_v in veto)
    total = sum(raw)
    bz = tuple(Fraction(r, total) if total else Fraction(0) for r in raw)
    ss = tuple(ss_veto if is_v else ss_other for is_v in veto)
    return PowerIndices(ss, bz, raw)


def empirical_pivotality(votes: np.ndarray, veto: np.ndarray, votes_needed: int) -> np.ndarray:
    """Share of runs in which each member's vote decided adoption.

    ``votes`` is (runs, members) with 0 yes, 1 abstain, 2 no (as in :mod:`sim.model.voting`).
    A member is pivotal in a run when some other vote of its own would flip the result:
    on an adopted text, a veto holder (its no would block) or a yes voter when the yes
    count is exactly ``votes_needed``; on a failed text, a member not voting yes whose
    yes would reach ``votes_needed`` while no other veto holder votes no.
    """
    votes = np.asarray(votes)
    veto = np.asarray(veto, dtype=bool)
    if votes.ndim != 2 or votes.shape[1] != len(veto):
        raise PowerError(
            f"empirical_pivotality: expected votes of shape (runs, {len(veto)}), got {votes.shape}"
        )
    if len(votes) == 0:
        return np.zeros(len(veto))
    yes = votes == YES
    veto_no = veto[None, :] & (votes == NO)
    n_yes = yes.sum(axis=1, keepdims=True)
    n_veto_no = veto_no.sum(axis=1, keepdims=True)
    adopted = (n_yes >= votes_needed) & (n_veto_no == 0)
    pivotal_if_adopted = veto[None, :] | (yes & (n_yes == votes_needed))
    others_block = (n_veto_no - veto_no) > 0
    pivotal_if_failed = ~yes & (n_yes + 1 >= votes_needed) & ~others_block
    pivotal = np.where(adopted, pivotal_if_adopted, pivotal_if_failed)
    return pivotal.mean(axis=0)
