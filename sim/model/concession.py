"""Concessions over time: how far each side will give as the deadline nears.

Rule (the polynomial time-dependent tactic of Faratin, Sierra and Jennings 1998, "Negotiation
decision functions for autonomous agents"; a hard deadline as in Rubinstein-style bargaining):
an actor's aspiration at round ``t`` of ``T`` is

    a(t) = r + (a0 - r) * (1 - (t / T) ** (1 / firmness)),

where ``a0`` is the utility it opens with, ``r`` its reservation (the status quo: it never
settles for less than no resolution) and ``firmness`` the scenario's ``behaviour.firmness``:
below 1 an actor holds firm until late ("Boulware"), 1 concedes evenly, above 1 concedes
early ("Conceder"). At the deadline an actor accepts anything at least as good as its
reservation; before it, a penholder drafts nothing below its aspiration and a member keeps
pressing while the draft is below its own.
"""

from __future__ import annotations

import numpy as np


def aspiration(t: int, deadline: int, start: np.ndarray | float, reservation: np.ndarray | float,
               firmness: float) -> np.ndarray:  # fmt: skip
    """Aspiration at round ``t`` (0 = the opening) of ``deadline`` rounds."""
    frac = min(max(t / max(deadline, 1), 0.0), 1.0)
    start, reservation = np.asarray(start, dtype=float), np.asarray(reservation, dtype=float)
    return reservation + (start - reservation) * (1.0 - frac ** (1.0 / firmness))
