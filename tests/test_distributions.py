"""Distributions a scenario may give: draws stay in their support, the bounded normal is
truncated (no probability piled on its bounds), and the stream is the same for every seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.scenario.distributions import Sampler, parse_dist


def draws(spec: dict, n: int, seed: int = 0) -> np.ndarray:
    sampler = Sampler([parse_dist(spec)])
    rng = np.random.default_rng(seed)
    return np.array([sampler.draw(rng)[0] for _ in range(n)])


@settings(max_examples=40, deadline=None)
@given(
    mean=st.floats(-2, 2),
    sd=st.floats(0.05, 3),
    lo=st.floats(-1.5, 0.5),
    width=st.floats(0.05, 2),
)
def test_a_bounded_normal_stays_inside_without_mass_at_the_bounds(mean, sd, lo, width) -> None:
    hi = lo + width
    x = draws({"dist": "normal", "mean": mean, "sd": sd, "clip": [lo, hi]}, 400)
    assert ((x >= lo) & (x <= hi)).all()
    # clipping would put P(X < lo) + P(X > hi) of the draws exactly on the bounds
    assert np.mean((x == lo) | (x == hi)) < 0.01


def test_a_bounded_normal_is_the_truncated_normal() -> None:
    """Mean 0.9, sd 0.3 on [0, 1]: clipping would put 37% of draws at exactly 1; the truncated
    normal puts none there and matches scipy's truncnorm (Kolmogorov-Smirnov)."""
    x = draws({"dist": "normal", "mean": 0.9, "sd": 0.3, "clip": [0, 1]}, 4000, seed=3)
    assert (x == 1.0).sum() == 0 and (x == 0.0).sum() == 0
    a, b = (0 - 0.9) / 0.3, (1 - 0.9) / 0.3
    assert stats.kstest(x, stats.truncnorm(a, b, loc=0.9, scale=0.3).cdf).pvalue > 0.01
    assert x.mean() == pytest.approx(stats.truncnorm(a, b, loc=0.9, scale=0.3).mean(), abs=0.01)


def test_an_unbounded_normal_keeps_its_draws_and_the_stream() -> None:
    """Truncation must not change what files without bounds draw (their runs stay the same)."""
    got = draws({"dist": "normal", "mean": 1.0, "sd": 2.0}, 5, seed=9)
    want = np.random.default_rng(9).normal(1.0, 2.0, size=5)  # one normal per draw, in order
    assert np.array_equal(got, want)


@pytest.mark.parametrize(
    "spec, low, high",
    [
        ({"dist": "uniform", "low": 0.2, "high": 0.4}, 0.2, 0.4),
        ({"dist": "triangular", "low": 0, "mode": 0.1, "high": 1}, 0, 1),
        ({"dist": "beta", "a": 2, "b": 5, "low": 10, "high": 20}, 10, 20),
        ({"dist": "choice", "values": [6, 12, 24], "p": [0.2, 0.3, 0.5]}, 6, 24),
    ],
)
def test_draws_stay_in_the_support(spec: dict, low: float, high: float) -> None:
    x = draws(spec, 500)
    assert x.min() >= low and x.max() <= high
    assert parse_dist(spec).support == (low, high)


def test_choice_frequencies_follow_p() -> None:
    x = draws({"dist": "choice", "values": ["a", "b"], "p": [0.2, 0.8]}, 4000, seed=1)
    share = np.mean(x == "b")
    assert 0.77 < share < 0.83
