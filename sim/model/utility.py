"""Utility of resolution texts for actors: pure numpy, vectorised over actors and texts.

Rule: an actor's utility of a text is ``1 - sum_c w_c * loss_c``, where ``w`` is its
salience normalised to sum to 1 and ``loss_c`` in [0, 1] is, on an ordered or scale
clause, the distance between the option's position and the actor's ideal position,
and on an unordered clause one minus the actor's utility for the option. So 1 is the
actor's ideal text, 0 a text at the far end of every clause. Ties mix utilities:
actor i values ``(1 - sum_j W_ij) U_i + sum_j W_ij U_j``.
"""

from __future__ import annotations

import numpy as np


def clause_loss(
    ideal_pos: np.ndarray,  # (A, C)
    positions: np.ndarray,  # (C, K), NaN padding
    option_util: np.ndarray,  # (A, C, K)
    unordered: np.ndarray,  # (C,) bool
) -> np.ndarray:
    """Loss in [0, 1] of every option of every clause for every actor, shape (A, C, K)."""
    distance = np.abs(positions[None, :, :] - ideal_pos[:, :, None])
    loss = np.where(unordered[None, :, None], 1.0 - option_util, distance)
    loss[np.isnan(loss)] = 1.0  # padding beyond a clause's last option
    return loss


def clause_weights(salience: np.ndarray) -> np.ndarray:
    """Salience normalised per actor to sum to 1 (an actor with no salience weighs nothing)."""
    total = salience.sum(axis=1, keepdims=True)
    return np.divide(salience, total, out=np.zeros_like(salience), where=total > 0)


def utility_table(loss: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """(A, C, K) contribution of each option to each actor's utility (text utility = 1 + sum)."""
    return weighted_table(loss, clause_weights(salience))


def weighted_table(loss: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`utility_table` from clause weights (A, C) already in hand: ``-weights x loss``."""
    return -weights[:, :, None] * loss


def tie_matrix(ties: np.ndarray) -> np.ndarray:
    """Row-stochastic mixing matrix: own weight on the diagonal, tie weights elsewhere."""
    return ties + np.diag(1.0 - ties.sum(axis=1))


def mix(table: np.ndarray, mixing: np.ndarray) -> np.ndarray:
    """Tie-weighted utility table: each actor's table becomes the mix of those it weighs."""
    return (mixing @ table.reshape(len(table), -1)).reshape(table.shape)


def text_utility(table: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Utility of each text for each actor, shape (A, n), for texts of shape (n, C)."""
    clauses = np.arange(texts.shape[1])
    return 1.0 + table[:, clauses, texts].sum(axis=-1)


def crosses_red_line(red: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """(A, n) True where a text contains an option on the actor's red lines."""
    clauses = np.arange(texts.shape[1])
    return red[:, clauses, texts].any(axis=-1)


def ideal_text(table: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Each actor's best text, shape (A, C): utility is separable, so the best option per clause."""
    return np.where(allowed, table, -np.inf).argmax(axis=-1)
