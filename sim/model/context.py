"""What surrounds a vote besides the text: the host's consent, the region's organisations and
the caucuses on the Council. Pure numpy, vectorised over texts and members.

Rules (weights are scenario-wide ``behaviour`` parameters, calibrated by the backtest):

- Host consent: the host consents to a text unless it crosses one of the host's red lines. A
  member defending sovereignty (``sovereignty`` s in 0..1) counts a text without consent as
  ``sovereignty_weight x s`` worse ("members that defend sovereignty follow the host").
- Regional bodies: a body's stance on a text is +1 (it requested the force or text),
  +0.5 (endorses), 0 (neutral) or -1 (opposes), and -1 on any text holding an option it
  rejects. Its members on the Council value the text ``region_weight x stance`` more; and for
  every member the cost of a no rises by ``region_weight x`` the bodies' summed stance
  (clipped to [-1, 1]): a request from the region makes a veto costly and abstention the
  way to dissent; a rejection makes a no cheap.
- Caucuses: a group's members move their view of a text (their utility gap) a share
  ``cohesion`` of the way to the group's mean gap, and so vote alike.
- Coherence: a text holding an option a rule's ``when`` names must hold an option its
  ``require`` allows (for example "all necessary measures" needs at least "authorizes").
"""

from __future__ import annotations

import numpy as np


def picks(table: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """(..., n, C) ``table[..., c, text_c]`` for a (..., C, K) table and (n, C) texts."""
    return table[..., np.arange(texts.shape[1]), texts]


def coherent(when: np.ndarray, require: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """(n,) True where a text meets every rule ((R, C, K) ``when`` and ``require`` masks)."""
    if not len(when):
        return np.ones(len(texts), dtype=bool)
    triggered = picks(when, texts).all(axis=-1)  # (R, n)
    met = picks(require, texts).all(axis=-1)
    return ~(triggered & ~met).any(axis=0)


def consents(host_red: np.ndarray | None, texts: np.ndarray) -> np.ndarray:
    """(n,) the host's consent: no option on its red lines ((C, K) mask; None: no host)."""
    if host_red is None:
        return np.ones(len(texts), dtype=bool)
    return ~picks(host_red, texts).any(axis=-1)


def stances(base: np.ndarray, rejects: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """(B, n) each body's stance on each text: its stance, or -1 where it rejects an option."""
    if not len(base):
        return np.zeros((0, len(texts)))
    rejected = picks(rejects, texts).any(axis=-1)
    return np.where(rejected, -1.0, base[:, None])


def shifts(
    stance: np.ndarray,  # (B, n)
    body_members: np.ndarray,  # (B, M)
    consent: np.ndarray,  # (n,)
    sovereignty: np.ndarray,  # (M,)
    region_weight: float,
    sovereignty_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """((M, n) change in each member's utility gap, (n,) rise in every member's cost of a no)."""
    gap = -sovereignty_weight * sovereignty[:, None] * (~consent)[None, :]
    gap = gap + region_weight * (body_members.T.astype(float) @ stance)
    cost = region_weight * np.clip(stance.sum(axis=0), -1.0, 1.0)
    return gap, cost


def cohere(gap: np.ndarray, groups: np.ndarray, cohesion: np.ndarray) -> np.ndarray:
    """(M, n) gaps moved toward their caucuses' mean: member m in groups G_m moves a share
    ``mean cohesion`` of the way to the mean of its groups' mean gaps."""
    if not len(groups):
        return gap
    size = groups.sum(axis=1, keepdims=True)
    means = (groups @ gap) / np.maximum(size, 1)  # (G, n)
    w = groups * cohesion[:, None]  # (G, M)
    pull = w.sum(axis=0)  # (M,)
    target = np.divide(w.T @ means, pull[:, None], out=gap.copy(), where=pull[:, None] > 0)
    share = np.divide(pull, groups.sum(axis=0), out=np.zeros_like(pull), where=groups.any(axis=0))
    return gap + share[:, None] * (target - gap)


def member_view(
    base_gap: np.ndarray,  # (M, n) utility over the status quo (or the draft a member backed)
    consent: np.ndarray,  # (n,)
    stance: np.ndarray,  # (B, n)
    body_members: np.ndarray,  # (B, M)
    sovereignty: np.ndarray,  # (M,)
    groups: np.ndarray,  # (G, M)
    cohesion: np.ndarray,  # (G,)
    region_weight: float,
    sovereignty_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """((M, n) members' gaps with the host, the bodies and the caucuses; (n,) the rise in
    every member's cost of a no): the rules above, applied in that order."""
    dgap, dcost = shifts(stance, body_members, consent, sovereignty, region_weight,
                         sovereignty_weight)  # fmt: skip
    return cohere(base_gap + dgap, groups, cohesion), dcost
