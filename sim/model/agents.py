"""The states in a negotiation, and the rules each of them decides by.

A :class:`StateActor` is a Mesa agent: it knows its seat, name and parameters and
exposes its current state (vote intention, demand, vote, troops). The decision rules
are written once, as numpy functions over all actors at once, so a round costs the
same whether it has 5 actors or 200; each function states the rule one actor follows.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.voting import VOTE_NAMES, vote_name


class StateActor(mesa.Agent):
    """A state: Council member (permanent or elected) or an actor off the Council. Its
    ``model`` is the :class:`~sim.model.model.NegotiationModel` that holds the arrays every
    property reads (this module does not import it: the model imports its agents)."""

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index
        self.code = model.scenario.actor_ids[index]
        self.name = model.scenario.names[index]
        self.seat = model.scenario.seat[index]

    @property
    def on_council(self) -> bool:
        return self.seat != "none"

    @property
    def capability(self) -> float:
        return float(self.model.params.capability[self.index])

    @property
    def intention(self) -> str | None:
        """Current vote intention on the draft (None off the Council or before round 1)."""
        k = self.model.intention[self.index]
        return VOTE_NAMES[k] if k >= 0 and self.on_council else None

    @property
    def demand(self) -> tuple[str, str] | None:
        """The amendment (clause, option) this actor pressed for in the last round."""
        d = self.model.demand[self.index]
        if d is None:
            return None
        clause = self.model.space.clauses[d[0]]
        return clause.id, clause.options[d[1]]

    @property
    def amendment(self) -> dict[str, str] | None:
        """The changes this actor tabled as its amendment in the last round ({clause: option})."""
        return dict(self.model.amendments).get(self.index)

    @property
    def vote(self) -> str | None:
        k = self.model.final_votes[self.index]
        return vote_name(k) if k >= 0 else None

    @property
    def committed(self) -> bool:
        return bool(self.model.committed[self.index])

    def __repr__(self) -> str:
        return f"StateActor({self.code}, {self.seat})"


def choose_demands(
    gain: np.ndarray,  # (A, n) utility gain of each single-clause amendment
    amend_clause: np.ndarray,  # (n,) clause each amendment changes
    salience: np.ndarray,  # (A, C)
    capability: np.ndarray,  # (A,)
    channel: np.ndarray,  # (A,) 1 on the Council; influence through ties off it
    active: np.ndarray,  # (A,) bool: actors not yet at yes
) -> tuple[np.ndarray, np.ndarray]:
    """Each active actor demands the amendment that gains it most (if any gains), pressed with
    weight ``capability * salience of that clause * gain * channel``.

    Returns (amendment index or -1, weight) per actor.
    """
    best = gain.argmax(axis=1)
    best_gain = gain[np.arange(len(best)), best]
    weight = capability * salience[np.arange(len(best)), amend_clause[best]] * best_gain * channel
    demanding = active & (best_gain > 1e-9) & (weight > 0)
    return np.where(demanding, best, -1), np.where(demanding, weight, 0.0)


def soften(
    ideal_pos: np.ndarray,  # (A, C)
    option_util: np.ndarray,  # (A, C, K)
    draft: np.ndarray,  # (C,)
    positions: np.ndarray,  # (C, K)
    flexibility: np.ndarray,  # (A,)
    unordered: np.ndarray,  # (C,)
) -> tuple[np.ndarray, np.ndarray]:
    """Every actor moves a share ``flexibility`` of the way toward the draft: its ideal
    position toward the draft's option on ordered and scale clauses, and its utility for
    the draft's option toward 1 on unordered clauses."""
    clauses = np.arange(len(draft))
    target = positions[clauses, draft]
    f = flexibility[:, None]
    new_pos = np.where(unordered, ideal_pos, ideal_pos + f * (target - ideal_pos))
    new_util = option_util.copy()
    current = option_util[:, clauses, draft]
    new_util[:, clauses, draft] = np.where(unordered, current + f * (1.0 - current), current)
    return new_pos, new_util


def amendments(
    gain: np.ndarray,  # (A, S) utility gain of each single-clause change of the draft
    change_clause: np.ndarray,  # (S,) clause each change touches
    pair_index: np.ndarray,  # (S, S) index of the text combining two changes (-1: same clause)
    active: np.ndarray,  # (A,) bool: actors pressing for changes
) -> np.ndarray:
    """Each active actor tables an amendment: its two best changes on different clauses
    together (a pair text index, offset by S) when the second also gains it something, else
    its best single change; -1 when nothing gains it. Returns the candidate index into
    [singles, pairs], or -1."""
    first = gain.argmax(axis=1)  # ties: the earlier change
    rows = np.arange(len(gain))
    # the best change on another clause than the first (ties: the earlier change)
    other = change_clause[None, :] != change_clause[first][:, None]
    second = np.where(other, gain, -np.inf).argmax(axis=1)
    g2 = np.where(other.any(axis=1), gain[rows, second], 0.0)
    pair = np.where(g2 > 1e-9, pair_index[first, second], -1)
    pick = np.where(pair >= 0, len(change_clause) + pair, first)
    return np.where(active & (gain[rows, first] > 1e-9), pick, -1)


def caucus_choice(
    gain: np.ndarray,  # (A, S)
    weight: np.ndarray,  # (A,) how hard each actor presses
    groups: np.ndarray,  # (G, A) bool: caucus membership over actors
    active: np.ndarray,  # (A,) bool
) -> np.ndarray:
    """(G,) the change each caucus presses together: the one with the largest summed
    weighted gain of its pressing members (-1 when none gains them)."""
    if not len(groups):
        return np.zeros(0, dtype=int)
    w = (groups & active[None, :]) * weight[None, :]  # (G, A)
    total = w @ np.maximum(gain, 0.0)  # (G, S)
    best = total.argmax(axis=1)
    return np.where(total[np.arange(len(groups)), best] > 1e-12, best, -1)
