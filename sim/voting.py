"""The Council vote: three-valued votes with logit noise, the adoption rule, and its probability.

Vote rule for a member with utility gap ``g`` (draft minus status quo), noise scale
``s``, abstention band ``b`` and, for a veto holder, veto cost ``v``: with logistic
noise ``e`` of scale ``s`` it votes yes if ``g + e >= 0``, no if ``g + e < -(b + v)``,
and abstains in between. So a permanent member that mildly dislikes a text abstains,
and vetoes only when its dislike exceeds band plus veto cost. A text that crosses a
member's red line always gets its no. With ``s = 0`` the vote is deterministic.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

YES, ABSTAIN, NO = 0, 1, 2
VOTE_NAMES = ("yes", "abstain", "no")


def no_threshold(band: np.ndarray, veto_cost: np.ndarray, veto: np.ndarray) -> np.ndarray:
    """Gap below which a member votes no: the band, plus the veto cost for veto holders."""
    return -(band + np.where(veto, veto_cost, 0.0))


def vote_probabilities(
    gap: np.ndarray,  # (M, n)
    noise: np.ndarray,  # (M,)
    band: np.ndarray,  # (M,)
    veto_cost: np.ndarray,  # (M,)
    veto: np.ndarray,  # (M,) bool
    red: np.ndarray,  # (M, n) bool: the text crosses the member's red line
) -> tuple[np.ndarray, np.ndarray]:
    """P(yes) and P(no) per member and text; P(abstain) is the rest."""
    lower = no_threshold(band, veto_cost, veto)[:, None]
    scale = noise[:, None]
    safe = np.where(scale > 0, scale, 1.0)
    p_yes = np.where(scale > 0, expit(gap / safe), (gap >= 0).astype(float))
    p_no = np.where(scale > 0, expit((lower - gap) / safe), (gap < lower).astype(float))
    return np.where(red, 0.0, p_yes), np.where(red, 1.0, p_no)


def intentions(
    gap: np.ndarray, band: np.ndarray, veto_cost: np.ndarray, veto: np.ndarray, red: np.ndarray
) -> np.ndarray:
    """Noise-free vote intention per member (YES, ABSTAIN or NO) for each text, shape like gap."""
    lower = no_threshold(band, veto_cost, veto).reshape((-1,) + (1,) * (gap.ndim - 1))
    out = np.where(gap >= 0, YES, np.where(gap < lower, NO, ABSTAIN))
    return np.where(red, NO, out)


def adoption_probability(
    p_yes: np.ndarray, p_no: np.ndarray, veto: np.ndarray, votes_needed: int
) -> np.ndarray:
    """P(at least ``votes_needed`` yes and no veto holder votes no), per text, shape (n,).

    Votes are independent; the yes count is Poisson-binomial, computed by dynamic
    programming over members, conditioned on no veto being cast.
    """
    m, n = p_yes.shape
    no_veto = np.prod(np.where(veto[:, None], 1.0 - p_no, 1.0), axis=0)
    # Yes probability of a veto holder given that it does not vote no.
    denom = np.where(veto[:, None], 1.0 - p_no, 1.0)
    p = np.divide(p_yes, denom, out=np.zeros_like(p_yes), where=denom > 0)
    counts = np.zeros((n, m + 1))
    counts[:, 0] = 1.0
    for i in range(m):  # a DP over members: each step depends on the last
        shifted = np.zeros_like(counts)
        shifted[:, 1:] = counts[:, :-1]
        counts = counts * (1.0 - p[i])[:, None] + shifted * p[i][:, None]
    return no_veto * counts[:, votes_needed:].sum(axis=1)


def cast_votes(p_yes: np.ndarray, p_no: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Votes from uniforms ``u``: yes if u < P(yes), no if u >= 1 - P(no), else abstain."""
    return np.where(u < p_yes, YES, np.where(u >= 1.0 - p_no, NO, ABSTAIN))


def is_adopted(votes: np.ndarray, veto: np.ndarray, votes_needed: int) -> bool:
    """Adopted iff at least ``votes_needed`` yes votes and no veto holder votes no."""
    return bool((votes == YES).sum() >= votes_needed and not (votes[veto] == NO).any())


def tally(votes: np.ndarray) -> dict[str, int]:
    return {name: int((votes == k).sum()) for k, name in enumerate(VOTE_NAMES)}
