"""The vote rule, vote probabilities and the exact chance of adoption."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.voting import (
    ABSENT,
    ABSTAIN,
    NO,
    YES,
    adoption_probability,
    approximate_outcomes,
    cast_votes,
    intentions,
    intentions_given,
    is_adopted,
    is_vetoed,
    no_threshold,
    outcome_probabilities,
    tally,
    vote_name,
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


# Added for the mutation run (docs/testing.md, "Mutation testing"): each pins a rule a planted
# bug broke without any other test failing.


def test_a_gap_exactly_on_a_threshold_follows_the_rule_words() -> None:
    # Yes if g >= 0; no only if g < -(band + veto cost): a gap on the no threshold abstains.
    gap = np.array([[0.0, -0.25, -0.2500001]])
    band, cost, veto = np.array([0.25]), np.array([0.0]), np.array([True])
    red = np.zeros((1, 3), dtype=bool)
    expected = [[YES, ABSTAIN, NO]]
    assert intentions(gap, band, cost, veto, red).tolist() == expected
    assert intentions_given(gap, np.array([[-0.25]]), red).tolist() == expected
    # A red line turns even the ideal text into a no, and the intentions stay vote codes.
    red[0, 0] = True
    for out in (intentions(gap, band, cost, veto, red), intentions_given(gap, -0.25, red)):
        assert out.tolist() == [[NO, ABSTAIN, NO]] and out.dtype.kind == "i"


def test_certain_votes_give_a_point_mass_within_zero_and_one() -> None:
    # k members certain to vote yes, the rest certain not to: P(K = k) = 1 and every other
    # count has probability 0. The Fourier sum alone gives 1 + 2e-16 or -1e-15 on some of them.
    for m in (12, 13, 14, 15):
        for k in range(m + 1):
            p = np.zeros((m, 1))
            p[:k] = 1.0
            d = yes_count_distribution(p)[0]
            assert ((d >= 0.0) & (d <= 1.0)).all()
            assert d[k] == pytest.approx(1.0) and np.delete(d, k) == pytest.approx(0.0, abs=1e-12)


def test_certain_votes_give_a_chance_of_adoption_of_exactly_zero_or_one() -> None:
    # The Fourier tail alone gives 1 + 2e-16 on some of these; a probability stays in [0, 1].
    none = np.zeros(15, dtype=bool)
    for m in (5, 9, 15):
        for k in range(m + 1):
            p = np.zeros((m, 1))
            p[:k] = 1.0
            for q in range(1, m + 1):
                chance = adoption_probability(p, np.zeros((m, 1)), none[:m], q)[0]
                adopted, reach = outcome_probabilities(p, np.zeros((m, 1)), none[:m], q)
                assert 0.0 <= chance <= 1.0 and 0.0 <= adopted[0] <= 1.0 and reach[0] <= 1.0
                assert chance == pytest.approx(float(k >= q), abs=1e-12)


def test_a_permanent_no_is_a_veto_only_on_a_draft_with_nine_yes() -> None:
    assert is_vetoed(council_votes(9, veto_no=1), VETO, 9)
    assert not is_vetoed(council_votes(8, veto_no=1), VETO, 9)  # short of nine: it just fails
    assert not is_vetoed(council_votes(9), VETO, 9)
    elected_no = council_votes(10)
    elected_no[14] = NO
    assert not is_vetoed(elected_no, VETO, 9)


def test_mixed_noise_keeps_hard_thresholds_for_the_noiseless_member() -> None:
    # Member 0 has no noise (hard thresholds), member 1 logistic noise of scale 0.1. A gap
    # exactly on the no threshold (-0.2) abstains: no is only below it.
    gaps = (0.0, -0.1, -0.2, -0.3)
    gap = np.array([gaps, gaps])
    lower = np.array([-0.2, -0.2])
    p_yes, p_no = vote_probabilities(gap, np.array([0.0, 0.1]), lower, np.zeros((2, 4), bool))
    assert p_yes[0].tolist() == [1.0, 0.0, 0.0, 0.0] and p_no[0].tolist() == [0, 0, 0, 1.0]
    assert p_yes[1] == pytest.approx([1 / (1 + math.exp(-g / 0.1)) for g in gaps])
    assert p_no[1] == pytest.approx([1 / (1 + math.exp((0.2 + g) / 0.1)) for g in gaps])
    # A no threshold per member and text, (M, n), is used as it stands.
    p_yes, p_no = vote_probabilities(gap, np.zeros(2), np.array([[-0.2] * 4, [-0.05] * 4]),
                                     np.zeros((2, 4), bool))  # fmt: skip
    assert p_no.tolist() == [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0]]


def brute_force_outcomes(p_yes, p_no, veto, q) -> tuple[float, float]:
    """(P(adopted), P(at least q yes)) by enumerating every vote profile."""
    adopted = reach = 0.0
    for votes in itertools.product((YES, ABSTAIN, NO), repeat=len(p_yes)):
        v = np.array(votes)
        prob = np.prod(np.where(v == YES, p_yes, np.where(v == NO, p_no, 1 - p_yes - p_no)))
        adopted += prob * is_adopted(v, veto, q)
        reach += prob * ((v == YES).sum() >= q)
    return adopted, reach


def test_outcome_probabilities_match_enumeration() -> None:
    rng = np.random.default_rng(7)
    for m in (2, 3, 4, 5, 6):
        p_yes = rng.random((m, 3)) * 0.8
        p_no = rng.random((m, 3)) * (1 - p_yes)
        p_yes[0, 2], p_no[0, 2] = 0.0, 1.0  # in text 2 a veto holder is sure to vote no
        veto = np.arange(m) < 2
        for q in range(1, m + 1):
            adopt, reach = outcome_probabilities(p_yes, p_no, veto, q)
            for j in range(3):
                expected = brute_force_outcomes(p_yes[:, j], p_no[:, j], veto, q)
                assert (adopt[j], reach[j]) == pytest.approx(expected, abs=1e-12)
            # The single-tail version agrees text by text (three texts at once).
            assert adoption_probability(p_yes, p_no, veto, q) == pytest.approx(adopt, abs=1e-12)
            assert adopt[2] == 0.0


def test_approximate_outcomes_are_the_normal_tail_with_a_half_vote_correction() -> None:
    # 15 members, 9 needed. Text 0: 5 permanent with P(yes) 0.4, P(no) 0.2 (so P(yes | no
    # veto) = 0.5), 10 elected with P(yes) 0.5 and P(no) 0.1. Text 1: everyone 0.9 yes, 0 no,
    # but permanent member 0 is sure to vote no.
    p_yes = np.array([[0.4, 0.9]] * 5 + [[0.5, 0.9]] * 10)
    p_no = np.array([[0.2, 0.0]] * 5 + [[0.1, 0.0]] * 10)
    p_yes[0, 1], p_no[0, 1] = 0.0, 1.0
    adopt, reach = approximate_outcomes(p_yes, p_no, VETO, 9)
    normal = NormalDist()
    # Text 0, given no veto every member votes yes with 0.5: mean 7.5, variance 3.75.
    assert adopt[0] == pytest.approx(0.8**5 * normal.cdf((7.5 - 9 + 0.5) / math.sqrt(3.75)))
    # As they are: mean 2 + 5 = 7, variance 5 * 0.24 + 10 * 0.25 = 3.7.
    assert reach[0] == pytest.approx(normal.cdf((7 - 9 + 0.5) / math.sqrt(3.7)))
    # Text 1: vetoed for sure; 14 members at 0.9: mean 12.6, variance 14 * 0.09 = 1.26.
    assert adopt[1] == 0.0
    assert reach[1] == pytest.approx(normal.cdf((12.6 - 9 + 0.5) / math.sqrt(1.26)))
    # With no variance at all the tail is a step at the half vote.
    sure = np.ones((15, 1))
    adopt, reach = approximate_outcomes(sure, np.zeros((15, 1)), VETO, 9)
    assert (adopt[0], reach[0]) == (1.0, 1.0)
    adopt, reach = approximate_outcomes(sure * 0, np.zeros((15, 1)), VETO, 1)
    assert (adopt[0], reach[0]) == (0.0, 0.0)


def test_absent_members_and_the_tally() -> None:
    p_yes, p_no = np.array([0.5, 0.5, 0.5, 0.5]), np.array([0.2, 0.2, 0.2, 0.2])
    u = np.array([0.1, 0.6, 0.9, 0.1])
    votes = cast_votes(p_yes, p_no, u, present=np.array([True, True, True, False]))
    assert votes.tolist() == [YES, ABSTAIN, NO, ABSENT]
    assert tally(votes) == {"yes": 1, "abstain": 1, "no": 1, "absent": 1}
    assert tally(votes[:3]) == {"yes": 1, "abstain": 1, "no": 1}
    assert [vote_name(k) for k in (YES, ABSTAIN, NO, ABSENT)] == ["yes", "abstain", "no", "absent"]
    # On the boundaries: u = P(yes) is not a yes; u = 1 - P(no) is a no.
    assert cast_votes(p_yes[:2], p_no[:2], np.array([0.5, 0.8])).tolist() == [ABSTAIN, NO]
