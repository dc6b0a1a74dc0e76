"""Bueno de Mesquita's expected-utility model, as specified by Scholz, Calbert and Smith
(2011, "Unravelling Bueno De Mesquita's group decision model", J. Theoretical Politics).

One issue is a line; positions ``x_i`` lie in [0, 1] (the clause's scale, so the
position range ``x_max - x_min`` is 1). Actor ``i`` has capability ``c_i`` and salience
``s_i`` in [0, 1]. Every function is vectorised over a batch of issues ``B`` and over
actor pairs: positions are (B, A), pair arrays (B, A, A) with the challenger first.

- votes (eq. 1): ``v^k_ij = c_k s_k (|x_k - x_j| - |x_k - x_i|)``;
- probability that i prevails over j (eq. 2): ``P_ij = sum_k max(v^k_ij, 0) / sum_k |v^k_ij|``
  (``prob="share"``, the paper) or ``max(sum_k v^k_ij, 0) / sum_k |v^k_ij|`` (``"net"``);
- utilities with risk exponent ``r``: ``U^s = 2 - 4 (0.5 - 0.5 |x_i - x_j|)^r``,
  ``U^f = 2 - 4 (0.5 + 0.5 |x_i - x_j|)^r``,
  ``U^b = 2 - 4 (0.5 - 0.25 (|x_i - mu| + |x_i - x_j|))^r``,
  ``U^w = 2 - 4 (0.5 + 0.25 (|x_i - mu| + |x_i - x_j|))^r``, ``U^sq = 2 - 4 (0.5)^r``;
- expected utility of i challenging j:
  ``E^i U_ij = s_j [P_ij U^s + (1 - P_ij) U^f] + (1 - s_j) U^s - Q U^sq - (1 - Q) [T U^b + (1 - T) U^w]``;
- risk: security ``S_i = sum_{j != i} E^j U_ji`` (with r = 1),
  ``R_i = (2 S_i - max S - min S) / (max S - min S)``, ``r_i = (1 - R_i / 3) / (1 + R_i / 3)``;
- offers: i challenges j when ``E^i U_ij > 0``. Target j compares the challenger's
  ``U_i = E U_ij`` with its own ``U_j = E U_ji``: conflict (``U_j > 0``) — j moves to
  ``x_i`` if ``U_j < U_i`` (or, with ``conflict="lottery"``, with probability ``P_ij``);
  compromise (``U_j < 0``, ``|U_j| < U_i``) — ``x_j += (x_i - x_j) |U_j / U_i|``;
  capitulation (``U_j < 0``, ``|U_j| >= U_i``) — j moves to ``x_i``. Of the offers that
  move it, j takes the one that moves it least. All moves of a round are simultaneous.
- rounds repeat until no position moves more than ``tol`` or ``rounds`` is reached; the
  forecast is the weighted mean ``mu = sum c s x / sum c s`` (``forecast="mean"``) or
  the weighted median (``"median"``, the median voter of the paper).

``perspective="own"``: each side uses its own risk exponent; ``"perceived"``: the target
judges both expected utilities with its own exponent (and so decides whether the
challenge comes). See the README ("Protocols") for the choices the paper leaves open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.protocols.compromise import compromise_text, nearest_option, record_draft

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel


@dataclass(frozen=True)
class EUConfig:
    """The choices the paper leaves open (defaults: the ones that did best on DEU III)."""

    prob: str = "share"  # share | net
    perspective: str = "perceived"  # own | perceived
    forecast: str = "mean"  # mean | median
    conflict: str = "deterministic"  # deterministic | lottery
    q: float = 0.5  # Q: probability the status quo persists if i does not challenge
    t: float = 1.0  # T: probability a change of the status quo favours i
    choose: str = "least"  # least (moves the target least) | best (largest challenger EU)
    rounds: int = 5
    tol: float = 1e-4


def success_probability(x: np.ndarray, w: np.ndarray, rule: str = "share") -> np.ndarray:
    """(B, A, A) P_ij: the weighted share of votes for i's position over j's (0 if x_i == x_j)."""
    d = np.abs(x[:, :, None] - x[:, None, :])  # (B, k, m) = |x_k - x_m|
    v = w[:, :, None, None] * (d[:, :, None, :] - d[:, :, :, None])  # (B, k, i, j)
    total = np.abs(v).sum(axis=1)
    top = np.maximum(v, 0.0).sum(axis=1) if rule == "share" else np.maximum(v.sum(axis=1), 0.0)
    return np.divide(top, total, out=np.zeros_like(total), where=total > 0)


def challenge_eu(
    dist: np.ndarray,  # (B, A, A) |x_i - x_j|
    dist_mu: np.ndarray,  # broadcastable to dist: |x_challenger - mu|
    s_target: np.ndarray,  # broadcastable to dist
    p: np.ndarray,  # broadcastable to dist: P of the challenger prevailing
    r: np.ndarray,  # broadcastable to dist: risk exponent of the judging actor
    q: float,
    t: float,
) -> np.ndarray:
    """Expected utility of a challenge, the paper's E^i U_ij, elementwise."""

    def u(base: np.ndarray) -> np.ndarray:
        return 2.0 - 4.0 * np.power(np.clip(base, 0.0, None), r)

    us, uf = u(0.5 - 0.5 * dist), u(0.5 + 0.5 * dist)
    eu = (
        s_target * (p * us + (1.0 - p) * uf)
        + (1.0 - s_target) * us
        - q * u(np.full_like(dist, 0.5))
    )
    if q < 1.0:
        ub, uw = u(0.5 - 0.25 * (dist_mu + dist)), u(0.5 + 0.25 * (dist_mu + dist))
        eu = eu - (1.0 - q) * (t * ub + (1.0 - t) * uw)
    return eu


def weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(B,) sum w x / sum w (NaN where no weight)."""
    total = w.sum(axis=1)
    return np.divide((w * x).sum(axis=1), total, out=np.full(total.shape, np.nan), where=total > 0)


def weighted_median(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(B,) the weighted median position: the first position (in order) holding half the weight."""
    order = np.argsort(x, axis=1, kind="stable")
    xs, ws = np.take_along_axis(x, order, 1), np.take_along_axis(w, order, 1)
    cum = np.cumsum(ws, axis=1)
    k = (cum < 0.5 * cum[:, -1:]).sum(axis=1)
    return xs[np.arange(len(x)), np.minimum(k, x.shape[1] - 1)]


def risk_exponents(x: np.ndarray, s: np.ndarray, p: np.ndarray, active: np.ndarray,
                   mu: np.ndarray, cfg: EUConfig) -> np.ndarray:  # fmt: skip
    """(B, A) r_i from each actor's security against challenges, computed with r = 1
    (``mu`` (B, 1, 1) is the weighted mean position)."""
    dist = np.abs(x[:, :, None] - x[:, None, :])
    eu = challenge_eu(dist, np.abs(x[:, :, None] - mu), s[:, None, :], p, np.ones(()), cfg.q, cfg.t)
    pair = active[:, :, None] & active[:, None, :] & ~np.eye(x.shape[1], dtype=bool)
    security = np.where(pair, eu, 0.0).sum(axis=1)  # S_i = sum_j E^j U_ji
    # the range of security among the active (an issue nobody takes part in has none)
    hi = np.where(active, security, -np.inf).max(axis=1, keepdims=True)
    lo = np.where(active, security, np.inf).min(axis=1, keepdims=True)
    hi, lo = np.where(active.any(axis=1, keepdims=True), (hi, lo), 0.0)
    span = hi - lo
    big_r = np.divide(2 * security - hi - lo, span, out=np.zeros_like(security),
                      where=active & (span > 0))  # fmt: skip
    return np.where(active, (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0), 1.0)


def eu_round(
    x: np.ndarray,  # (B, A) current positions
    c: np.ndarray,  # (B, A)
    s: np.ndarray,  # (B, A)
    active: np.ndarray,  # (B, A) bool: actors taking part
    cfg: EUConfig,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One round of challenges and responses; returns the new positions (B, A)."""
    w = np.where(active, c * s, 0.0)
    p = success_probability(x, w, cfg.prob)
    mu = weighted_mean(x, w)[:, None, None]
    r = risk_exponents(x, s, p, active, mu, cfg)
    dist = np.abs(x[:, :, None] - x[:, None, :])
    dmu = np.abs(x - mu[:, :, 0])
    # [i, j]: i challenges j, judged by the challenger i (own) or by the target j (perceived).
    r_judge_ij = r[:, :, None] if cfg.perspective == "own" else r[:, None, :]
    eu_ij = challenge_eu(dist, dmu[:, :, None], s[:, None, :], p, r_judge_ij, cfg.q, cfg.t)
    # [i, j]: j's expected utility of challenging i, judged by j itself.
    p_ji = np.swapaxes(p, 1, 2)
    eu_ji = challenge_eu(dist, dmu[:, None, :], s[:, :, None], p_ji, r[:, None, :], cfg.q, cfg.t)
    n = x.shape[1]
    pair = active[:, :, None] & active[:, None, :] & ~np.eye(n, dtype=bool) & (dist > 1e-12)
    offer = pair & (eu_ij > 0)
    xi = np.broadcast_to(x[:, :, None], dist.shape)  # challenger's position, at [i, j]
    xj = np.broadcast_to(x[:, None, :], dist.shape)
    ratio = np.divide(np.abs(eu_ji), eu_ij, out=np.ones_like(eu_ij), where=eu_ij > 0)
    if cfg.conflict == "lottery" and rng is not None:
        j_loses = rng.random(dist.shape) < p
    else:
        j_loses = eu_ji < eu_ij
    conflict = eu_ji > 0
    moves = np.where(conflict, j_loses, True)
    target = np.where(conflict | (ratio >= 1.0), xi, xj + (xi - xj) * ratio)
    step = np.where(offer & moves, np.abs(target - xj), np.inf)
    if cfg.choose == "best":  # the offer from the challenger with the largest E U_ij
        best = np.where(offer & moves, eu_ij, -np.inf).argmax(axis=1)
    else:
        best = step.argmin(axis=1)  # (B, A): for each target j, the offer that moves it least
    chosen = np.take_along_axis(target, best[:, None, :], 1)[:, 0, :]
    moved = np.isfinite(np.take_along_axis(step, best[:, None, :], 1)[:, 0, :])
    return np.where(moved, chosen, x)


def eu_forecast(
    x: np.ndarray, c: np.ndarray, s: np.ndarray, active: np.ndarray, cfg: EUConfig,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """Play rounds until positions settle; returns (forecast (B,), positions (B, A), rounds)."""
    played = 0
    while played < cfg.rounds:  # each round depends on the last
        played += 1
        new = eu_round(x, c, s, active, cfg, rng)
        settled = np.abs(new - x).max() <= cfg.tol
        x = new
        if settled:
            break
    return summarise(x, np.where(active, c * s, 0.0), cfg), x, played


def summarise(x: np.ndarray, w: np.ndarray, cfg: EUConfig) -> np.ndarray:
    """The forecast of a set of positions: weighted mean or weighted median."""
    return weighted_median(x, w) if cfg.forecast == "median" else weighted_mean(x, w)


class ExpectedUtilityProtocol:
    """Each model step is one round of the expected-utility model on every ordered or scale
    clause; unordered clauses take the compromise option (the model is one-dimensional).
    The draft is the forecast rounded to the nearest option; the penholder tables it when
    positions settle or at the deadline (``negotiation.max_rounds``)."""

    name = "expected-utility"

    def __init__(self, config: EUConfig | None = None):
        self.config = config or EUConfig()

    def start(self, model: NegotiationModel) -> None:
        p, sc = model.params, model.scenario
        self.lines = np.flatnonzero(~sc.unordered)
        self.x = model.ideal_pos[:, self.lines].T.copy()  # (L, A) stated positions
        self.s = np.clip(p.salience[:, self.lines].T, 0.0, 1.0)
        self.c = np.broadcast_to(p.capability, self.x.shape)
        self.active = self.s > 0
        space = model.space
        model.draft = compromise_text(
            model.ideal_pos, model.option_util, p.salience, p.capability, space.positions,
            sc.unordered, space.option_mask, model.draft,
        )  # fmt: skip

    def step(self, model: NegotiationModel) -> None:
        sc, cfg = model.scenario, self.config
        new = eu_round(self.x, self.c, self.s, self.active, cfg, model.rng)
        settled = np.abs(new - self.x).max(initial=0.0) <= cfg.tol
        self.x = new
        forecast = summarise(self.x, np.where(self.active, self.c * self.s, 0.0), cfg)
        ok = ~np.isnan(forecast)
        pos = model.space.positions[self.lines]
        model.draft[self.lines[ok]] = nearest_option(forecast[ok], pos[ok])
        record_draft(model, not settled, settled or model.steps >= min(sc.max_rounds, cfg.rounds))

    def forecast_scale(self, x: np.ndarray, c: np.ndarray, s: np.ndarray, active: np.ndarray,
                       seeds: list[int]) -> np.ndarray:  # fmt: skip
        """(B, runs) the forecast of B one-clause issues after ``rounds`` rounds (what the
        protocol tables when ``max_rounds >= rounds``), one column per run seed. A
        deterministic configuration plays each issue once and repeats it; the lottery plays
        every run with its own generator."""
        cfg = self.config
        if cfg.conflict != "lottery":
            f, _, _ = eu_forecast(x, c, s, active, cfg)
            return np.repeat(f[:, None], len(seeds), axis=1)
        runs = [eu_forecast(x, c, s, active, cfg, np.random.default_rng(seed))[0] for seed in seeds]
        return np.stack(runs, axis=1)
