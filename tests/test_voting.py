"""The vote rule, vote probabilities and the exact chance of adoption."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.voting import (
    ABSTAIN,
    NO,
    YES,
    adoption_probability,
    cast_votes,
    intentions,
    is_adopted,
    no_threshold,
    vote_probabilities,
    yes_count_distribution,
)

VETO = np.array([True] * 5 + [False] * 10)


def council_votes(yes: int, veto_no: int = 0) -> np.ndarray:
    """15 votes: ``veto_no`` permanent members vote no, then ``yes`` yes votes among the rest."""
    votes = np.full(15, ABSTAIN)
    votes[:veto_no] = NO
    votes[veto_no : veto_no + yes] = YES
    return votes


@pytest.mark.parametrize(("yes", "adopted"), [(8, False), (9, True), (10, True)])
def test_nine_of_fifteen_without_veto(yes: int, adopted: bool) -> None:
    assert is_adopted(council_votes(yes), VETO, 9) is adopted


@pytest.mark.parametrize("yes", [8, 9, 10])
def test_any_permanent_no_is_a_veto(yes: int) -> None:
    assert not is_adopted(council_votes(yes, veto_no=1), VETO, 9)


def test_elected_no_is_not_a_veto() -> None:
    votes = council_votes(9)
    votes[14] = NO
    assert is_adopted(votes, VETO, 9)


def test_permanent_abstention_is_not_a_veto() -> None:
    votes = np.full(15, YES)
    votes[:2] = ABSTAIN
    assert is_adopted(votes, VETO, 9)


def test_deterministic_votes_follow_the_thresholds() -> None:
    gap = np.array([[0.0, -0.05, -0.25, -0.45]]).repeat(2, axis=0)
    veto = np.array([False, True])
    lower = no_threshold(np.array([0.1, 0.1]), np.array([0.3, 0.3]), veto)
    p_yes, p_no = vote_probabilities(gap, np.zeros(2), lower, np.zeros_like(gap, dtype=bool))
    # Elected: yes at 0, abstain in (-0.1, 0), no below -0.1. Permanent: the veto cost widens it.
    assert p_yes.tolist() == [[1, 0, 0, 0], [1, 0, 0, 0]]
    assert p_no.tolist() == [[0, 0, 1, 1], [0, 0, 0, 1]]
    assert intentions(gap, np.array([0.1, 0.1]), np.array([0.3, 0.3]), veto, gap < -9).tolist() == [
        [YES, ABSTAIN, NO, NO],
        [YES, ABSTAIN, ABSTAIN, NO],
    ]


def test_red_line_means_no_whatever_the_gap() -> None:
    gap = np.array([[0.9]])
    p_yes, p_no = vote_probabilities(gap, np.array([0.05]), np.array([-0.1]), np.array([[True]]))
    assert (p_yes[0, 0], p_no[0, 0]) == (0.0, 1.0)


@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(0.01, 0.5))
def test_yes_rises_and_no_falls_with_the_gap(g1: float, g2: float, noise: float) -> None:
    lo, hi = sorted((g1, g2))
    p_yes, p_no = vote_probabilities(
        np.array([[lo, hi]]), np.array([noise]), np.array([-0.2]), np.zeros((1, 2), dtype=bool)
    )
    assert p_yes[0, 0] <= p_yes[0, 1] and p_no[0, 0] >= p_no[0, 1]
    assert (p_yes + p_no <= 1 + 1e-12).all()


def brute_force_adoption(p_yes: np.ndarray, p_no: np.ndarray, veto: np.ndarray, q: int) -> float:
    total = 0.0
    for votes in itertools.product((YES, ABSTAIN, NO), repeat=len(p_yes)):
        v = np.array(votes)
        prob = np.prod(np.where(v == YES, p_yes, np.where(v == NO, p_no, 1 - p_yes - p_no)))
        total += prob * is_adopted(v, veto, q)
    return total


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.data())
def test_adoption_probability_matches_enumeration(m: int, data: st.DataObject) -> None:
    p_yes = data.draw(arrays(float, m, elements=st.floats(0, 1)))
    p_no = data.draw(arrays(float, m, elements=st.floats(0, 1))) * (1 - p_yes)
    veto = data.draw(arrays(bool, m))
    q = data.draw(st.integers(1, m))
    exact = adoption_probability(p_yes[:, None], p_no[:, None], veto, q)[0]
    assert exact == pytest.approx(brute_force_adoption(p_yes, p_no, veto, q), abs=1e-9)


def test_yes_count_distribution_is_a_distribution() -> None:
    p = np.random.default_rng(0).random((15, 4))
    d = yes_count_distribution(p)
    assert d.shape == (4, 16)
    assert np.allclose(d.sum(axis=1), 1.0)
    assert np.allclose(d @ np.arange(16), p.sum(axis=0))  # the mean is the sum of the p


def test_cast_votes_uses_the_uniform_thresholds() -> None:
    p_yes, p_no = np.array([0.5, 0.5, 0.5]), np.array([0.2, 0.2, 0.2])
    assert cast_votes(p_yes, p_no, np.array([0.1, 0.6, 0.9])).tolist() == [YES, ABSTAIN, NO]
