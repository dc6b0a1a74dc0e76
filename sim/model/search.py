"""Finding the best text under an objective: enumerate small text spaces, climb large ones.

Objectives take texts of shape (n, C) and return scores of shape (n,). Large spaces are
searched clause by clause: from each start, move to the best text that changes one
clause, until no single change improves the score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from sim.scenario.textspace import TextSpace

Objective = Callable[[np.ndarray], np.ndarray]


def best_text(
    objective: Objective,
    space: TextSpace,
    starts: Iterable[np.ndarray],
    enumerate_limit: int,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """The highest-scoring text (using only options ``mask`` (C, K) allows) and its score.

    Enumerates when the space has at most ``enumerate_limit`` texts; otherwise climbs from
    each start (starts must respect the mask). Ties go to the earliest text enumerated or,
    when climbing, to the first start.
    """
    size = space.n_texts if mask is None else space.count(mask)
    if size <= enumerate_limit:
        texts = space.enumerate(mask)  # remembered by the text space, so enumerated once
        scores = objective(texts)
        k = int(np.argmax(scores))
        return texts[k].copy(), float(scores[k])
    best, best_score = None, -np.inf
    for start in starts:
        text, score = hill_climb(objective, space, np.asarray(start), mask)
        if score > best_score:
            best, best_score = text, score
    assert best is not None, "best_text needs at least one start for a large space"
    return best, best_score


def hill_climb(
    objective: Objective,
    space: TextSpace,
    start: np.ndarray,
    mask: np.ndarray | None = None,
    max_steps: int = 1000,
) -> tuple[np.ndarray, float]:
    """Steepest ascent over single-clause changes (within ``mask``) from ``start``."""
    text = start.copy()
    score = float(objective(text[None, :])[0])
    for _ in range(max_steps):
        neighbours, _, _ = space.single_changes(text, mask)
        if not len(neighbours):
            break
        scores = objective(neighbours)
        k = int(np.argmax(scores))
        if scores[k] <= score + 1e-12:
            break
        text, score = neighbours[k], float(scores[k])
    return text, score
