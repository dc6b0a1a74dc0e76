"""The Council vote: three-valued votes with logit noise, the adoption rule, and its probability.

Vote rule for a member with utility gap ``g`` (draft minus status quo), noise scale
``s``, abstention band ``b`` and, for a veto holder, veto cost ``v``: with logistic
noise ``e`` of scale ``s`` it votes yes if ``g + e >= 0``, no if ``g + e < -(b + v)``,
and abstains in between. So a permanent member that mildly dislikes a text abstains,
and vetoes only when its dislike exceeds band plus veto cost. A text that crosses a
member's red line always gets its no. With ``s = 0`` the vote is deterministic.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import expit, ndtr

YES, ABSTAIN, NO, ABSENT = 0, 1, 2, 3
VOTE_NAMES = ("yes", "abstain", "no")  # the choices a member present casts
ABSENT_NAME = "absent"  # a member that does not take part (Charter practice: not a veto)


def no_threshold(
    band: np.ndarray, veto_cost: np.ndarray, veto: np.ndarray, elected_cost: float = 0.0
) -> np.ndarray:
    """Gap below which a member votes no: the band, plus the veto cost for veto holders or the
    cost of a no for the others."""
    return -(band + np.where(veto, veto_cost, elected_cost))


def vote_probabilities(
    gap: np.ndarray,  # (M, n)
    noise: np.ndarray,  # (M,)
    lower: np.ndarray,  # (M,) or (M, n) no threshold, from no_threshold()
    red: np.ndarray,  # (M, n) bool: the text crosses the member's red line
) -> tuple[np.ndarray, np.ndarray]:
    """P(yes) and P(no) per member and text; P(abstain) is the rest."""
    scale, below = noise[:, None], (lower if lower.ndim == 2 else lower[:, None]) - gap
    if (noise > 0).all():
        p_yes, p_no = expit(gap / scale), expit(below / scale)
    else:  # noise 0 is a hard threshold
        safe = np.where(scale > 0, scale, 1.0)
        p_yes = np.where(scale > 0, expit(gap / safe), gap >= 0)
        p_no = np.where(scale > 0, expit(below / safe), below > 0)
    return np.where(red, 0.0, p_yes), np.where(red, 1.0, p_no)


def intentions(
    gap: np.ndarray, band: np.ndarray, veto_cost: np.ndarray, veto: np.ndarray, red: np.ndarray
) -> np.ndarray:
    """Noise-free vote intention per member (YES, ABSTAIN or NO) for each text, shape like gap."""
    lower = no_threshold(band, veto_cost, veto).reshape((-1,) + (1,) * (gap.ndim - 1))
    out = np.where(gap >= 0, YES, np.where(gap < lower, NO, ABSTAIN))
    return np.where(red, NO, out)


def intentions_given(gap: np.ndarray, lower: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Noise-free intention from a gap and a no threshold already in hand (any shape alike)."""
    out = np.where(gap >= 0, YES, np.where(gap < lower, NO, ABSTAIN))
    return np.where(red, NO, out)


def yes_count_distribution(p: np.ndarray) -> np.ndarray:
    """Distribution of the number of yes votes, shape (n, M + 1), for independent members
    voting yes with probabilities ``p`` of shape (M, n) (Poisson-binomial).

    Computed exactly through the characteristic function: with ``z_l = exp(2 pi i l / (M+1))``,
    ``E[z_l^K] = prod_i (1 - p_i + p_i z_l)``, and a discrete Fourier transform returns P(K = k).
    """
    m = p.shape[0]
    z = np.exp(2j * np.pi * np.arange(m + 1) / (m + 1))
    phi = np.prod(1.0 + p[:, :, None] * (z - 1.0), axis=0)
    pmf = np.fft.fft(phi, axis=1).real / (m + 1)
    return np.clip(pmf, 0.0, 1.0)


@lru_cache(maxsize=64)
def _tail_weights(m: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Roots of unity ``z_l`` and the weights ``c_l`` with P(K >= q) = Re(sum_l phi_l c_l)."""
    grid = np.arange(m + 1)
    z = np.exp(2j * np.pi * grid / (m + 1))
    c = np.exp(-2j * np.pi * np.outer(grid, grid[q:]) / (m + 1)).sum(axis=1) / (m + 1)
    return z, c


def adoption_probability(
    p_yes: np.ndarray, p_no: np.ndarray, veto: np.ndarray, votes_needed: int
) -> np.ndarray:
    """P(at least ``votes_needed`` yes and no veto holder votes no), per text, shape (n,).

    Votes are independent. Given that no veto holder votes no, a veto holder votes yes
    with probability P(yes) / (1 - P(no)); the yes count is then Poisson-binomial, and
    its tail is read off the characteristic function (see yes_count_distribution).
    """
    keep = 1.0 - p_no[veto]
    no_veto = np.multiply.reduce(keep, axis=0)
    p = p_yes.copy()
    p[veto] = np.divide(p_yes[veto], keep, out=np.zeros_like(keep), where=keep > 0)
    zm1, c = _shifted_weights(p.shape[0], votes_needed, False)
    phi = _by_text(factor_product(p, zm1))
    return no_veto * unit((phi @ c).real)


@lru_cache(maxsize=64)
def _half_weights(m: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """The tail weights of :func:`_tail_weights` folded onto the first half of the roots: for
    real probabilities the other half are complex conjugates, so they only double the sum."""
    z, c = _tail_weights(m, q)
    half = (m + 1) // 2 + 1
    fold = np.where((np.arange(half) > 0) & (2 * np.arange(half) != m + 1), 2.0, 1.0)
    return z[:half], c[:half] * fold


@lru_cache(maxsize=128)
def _shifted_weights(m: int, q: int, half: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(z_l - 1, c_l)`` of :func:`_half_weights` (``half``) or :func:`_tail_weights`."""
    z, c = (_half_weights if half else _tail_weights)(m, q)
    return z - 1.0, c


def factor_product(p: np.ndarray, zm1: np.ndarray) -> np.ndarray:
    """(L, n) ``prod_i (1 + p_i (z_l - 1))`` over the members (rows of ``p``, (m, n)), for the
    shifted roots ``zm1`` (L,): the characteristic function of the yes count at each root.
    Laid out root by text so each product runs over whole rows of texts (the same products,
    in the same order, as over a (m, n, L) array)."""
    return np.multiply.reduce(factor_terms(p, zm1), axis=0)


def factor_terms(p: np.ndarray, zm1: np.ndarray) -> np.ndarray:
    """(m, L, n) the factors ``1 + p_i (z_l - 1)`` of :func:`factor_product`."""
    terms = zm1[None, :, None] * p.astype(np.complex128)[:, None, :]
    terms += 1.0
    return terms


def _by_text(phi: np.ndarray) -> np.ndarray:
    """(n, L) a (L, n) product, text by root, as the weights ``c`` expect it."""
    return np.ascontiguousarray(phi.T)


def unit(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [0, 1], bit for bit as ``np.clip(x, 0.0, 1.0)`` without its Python
    wrapper (the bound goes first: ``np.maximum`` keeps its second argument's zero, so -0.0
    stays -0.0 as under ``np.clip``)."""
    return np.minimum(np.maximum(0.0, x), 1.0)


def outcome_probabilities(
    p_yes: np.ndarray, p_no: np.ndarray, veto: np.ndarray, votes_needed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(P(adopted), P(at least ``votes_needed`` yes)) per text, each (n,): as
    :func:`adoption_probability`, with the second tail from the same product over the members
    without a veto. P(vetoed) is their difference and P(failed) one minus the second."""
    zm1, c = _shifted_weights(p_yes.shape[0], votes_needed, True)
    yes_veto = p_yes[veto]
    keep = 1.0 - p_no[veto]
    cond = np.divide(yes_veto, keep, out=np.zeros_like(keep), where=keep > 0)
    # The three products' factors in one array: members without a veto, then the veto holders
    # given no veto, then the veto holders as they are.
    terms = factor_terms(np.concatenate([p_yes[~veto], cond, yes_veto]), zm1)
    m, v = len(p_yes) - len(cond), len(cond)
    others = np.multiply.reduce(terms[:m], axis=0)
    adopt = _by_text(others * np.multiply.reduce(terms[m : m + v], axis=0))
    reach = _by_text(others * np.multiply.reduce(terms[m + v :], axis=0))
    p_adopt = np.multiply.reduce(keep, axis=0) * unit((adopt @ c).real)
    return p_adopt, unit((reach @ c).real)


def approximate_outcomes(
    p_yes: np.ndarray, p_no: np.ndarray, veto: np.ndarray, votes_needed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A fast approximation of :func:`outcome_probabilities` for screening many texts: the yes
    count taken as normal (mean and variance of the Bernoulli sum, half-vote continuity
    correction)."""
    keep = 1.0 - p_no[veto]
    cond = p_yes.copy()
    cond[veto] = np.divide(p_yes[veto], keep, out=np.zeros_like(keep), where=keep > 0)

    def tail(p: np.ndarray) -> np.ndarray:
        mean, var = p.sum(axis=0), (p * (1.0 - p)).sum(axis=0)
        return ndtr((mean - votes_needed + 0.5) / np.sqrt(np.maximum(var, 1e-12)))

    return np.prod(keep, axis=0) * tail(cond), tail(p_yes)


def cast_votes(
    p_yes: np.ndarray, p_no: np.ndarray, u: np.ndarray, present: np.ndarray | None = None
) -> np.ndarray:
    """Votes from uniforms ``u``: yes if u < P(yes), no if u >= 1 - P(no), else abstain;
    a member not ``present`` is absent."""
    votes = np.where(u < p_yes, YES, np.where(u >= 1.0 - p_no, NO, ABSTAIN))
    return votes if present is None else np.where(present, votes, ABSENT)


def is_adopted(votes: np.ndarray, veto: np.ndarray, votes_needed: int) -> bool:
    """Adopted iff at least ``votes_needed`` yes votes and no veto holder votes no (an absent
    permanent member casts no vote, so it does not block)."""
    return bool((votes == YES).sum() >= votes_needed and not (votes[veto] == NO).any())


def is_vetoed(votes: np.ndarray, veto: np.ndarray, votes_needed: int) -> bool:
    """Vetoed iff the draft has the yes votes it needs and a veto holder votes no. A draft
    short of them fails whatever the permanent members vote (Council practice: a permanent
    member's no on a draft without nine votes is not counted as a veto)."""
    return bool((votes == YES).sum() >= votes_needed and (votes[veto] == NO).any())


def vote_name(k: int) -> str:
    return ABSENT_NAME if k == ABSENT else VOTE_NAMES[k]


def tally(votes: np.ndarray) -> dict[str, int]:
    """Yes, abstain and no counts (and absent, when a member was)."""
    cast = votes.tolist()
    out = {name: cast.count(k) for k, name in enumerate(VOTE_NAMES)}
    if ABSENT in cast:
        out[ABSENT_NAME] = cast.count(ABSENT)
    return out
