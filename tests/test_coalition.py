"""The troop coalition: stable sets, conditions, vetting and the force forecast."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.coalition import (
    commit_payoff,
    eligible,
    force_prospect,
    lead_allowed,
    stable_coalition,
)


def is_stable(committed, can_join, delivered, willingness, solidarity, required,
              partners_required, partners_refused) -> bool:  # fmt: skip
    """The module's rule, rewritten from its words one actor at a time (an oracle that shares
    no code with it): nobody in wants out, nobody eligible outside wants in."""
    n = len(committed)
    for i in range(n):
        others = sum(delivered[j] for j in range(n) if committed[j] and j != i)
        share = min(1.0, others / required) if required > 0 else 1.0
        pay = willingness[i] + solidarity[i] * share
        partners = all(committed[j] for j in range(n) if partners_required[i, j]) and not any(
            committed[j] for j in range(n) if partners_refused[i, j]
        )
        if bool(committed[i]) != bool(can_join[i] and pay > 0 and partners):
            return False
    return True


@st.composite
def games(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "can_join": rng.random(n) < 0.8,
        "delivered": np.floor(rng.uniform(0, 3000, n)),
        "willingness": rng.uniform(-0.6, 0.4, n),
        "solidarity": rng.uniform(0, 0.8, n),
        "required": float(rng.uniform(500, 8000)),
        "partners_required": (rng.random((n, n)) < 0.15) & ~np.eye(n, dtype=bool),
        "partners_refused": (rng.random((n, n)) < 0.15) & ~np.eye(n, dtype=bool),
    }


@settings(max_examples=300, deadline=None)
@given(games())
def test_a_reported_stable_set_is_stable(game: dict) -> None:
    result = stable_coalition(**game)
    assert not (result.committed & ~game["can_join"]).any()  # only eligible states are in
    if result.stable:
        assert is_stable(result.committed, **game)
        pay = commit_payoff(result.committed, game["delivered"], game["willingness"],
                            game["solidarity"], game["required"])  # fmt: skip
        assert (pay[result.committed] > 0).all()  # nobody in wants out


@settings(max_examples=200, deadline=None)
@given(games())
def test_without_partner_conditions_a_stable_set_is_always_reached(game: dict) -> None:
    n = len(game["can_join"])
    game["partners_required"] = np.zeros((n, n), dtype=bool)
    game["partners_refused"] = np.zeros((n, n), dtype=bool)
    result = stable_coalition(**game)
    assert result.stable  # positive spillovers: removals then additions converge
    assert is_stable(result.committed, **game)


def test_solidarity_brings_in_a_reluctant_state() -> None:
    base = {
        "can_join": np.array([True, True]),
        "delivered": np.array([4000.0, 1000.0]),
        "willingness": np.array([0.3, -0.1]),
        "solidarity": np.array([0.0, 0.2]),
        "required": 4000.0,
        "partners_required": np.zeros((2, 2), dtype=bool),
        "partners_refused": np.zeros((2, 2), dtype=bool),
    }
    # State 1 joins: -0.1 + 0.2 * min(1, 4000 / 4000) = 0.1 > 0.
    assert stable_coalition(**base).committed.tolist() == [True, True]
    base["delivered"] = np.array([1000.0, 1000.0])
    # Now the rest of the force is a quarter of the need: -0.1 + 0.2 * 0.25 < 0.
    assert stable_coalition(**base).committed.tolist() == [True, False]


def test_required_partner_missing_keeps_a_state_out() -> None:
    result = stable_coalition(
        can_join=np.array([True, False]), delivered=np.array([100.0, 100.0]),
        willingness=np.array([0.5, 0.5]), solidarity=np.zeros(2), required=100.0,
        partners_required=np.array([[False, True], [False, False]]),
        partners_refused=np.zeros((2, 2), dtype=bool),
    )  # fmt: skip
    assert result.committed.tolist() == [False, False] and result.stable


def test_eligibility_conditions_vetting_and_no_resolution() -> None:
    contributor = np.array([True, True, True, False])
    allowed = np.ones((4, 1, 3), dtype=bool)
    allowed[0, 0, 0] = False  # state 0 needs at least option 1
    needs_resolution = np.array([True, False, True, False])
    refused = np.array([False, False, True, False])  # the host keeps state 2 out
    texts = np.array([[0], [2]])
    assert eligible(contributor, allowed, needs_resolution, refused, texts).tolist() == [
        [False, True], [True, True], [False, False], [False, False],
    ]  # fmt: skip
    # Without a resolution only those that do not require one may go.
    assert eligible(contributor, allowed, needs_resolution, refused, None)[:, 0].tolist() == [
        False, True, False, False,
    ]  # fmt: skip


def test_force_prospect_needs_troops_and_a_lead() -> None:
    can_join = np.array([[True, True], [True, False]])
    can_lead = np.array([[False, False], [True, True]])
    prospect = force_prospect(can_join, can_lead, np.array([600.0, 600.0]), 1000.0)
    assert prospect.tolist() == [1.0, 0.0]  # text 1: 600 of 1000 troops but nobody may lead


# Added for the mutation run (docs/testing.md, "Mutation testing").


def no_partners(n: int) -> np.ndarray:
    return np.zeros((n, n), dtype=bool)


def test_commit_payoff_counts_only_the_others_troops_worked_by_hand() -> None:
    committed = np.array([True, True, False])
    delivered = np.array([300.0, 500.0, 2000.0])
    pay = commit_payoff(committed, delivered, np.array([-0.1, 0.0, 0.2]),
                        np.array([0.5, 0.4, 0.1]), 1000.0)  # fmt: skip
    # 0 sees 500 (0.5 of the need), 1 sees 300, 2 (outside) sees 800.
    assert pay.tolist() == pytest.approx([-0.1 + 0.5 * 0.5, 0.4 * 0.3, 0.2 + 0.1 * 0.8])
    # The share stops at the whole requirement; with no requirement it is always whole.
    big = commit_payoff(committed, delivered * 10, np.zeros(3), np.ones(3), 1000.0)
    assert big.tolist() == [1.0, 1.0, 1.0]
    assert commit_payoff(committed, delivered, np.zeros(3), np.ones(3), 0.0).tolist() == [1, 1, 1]
    # ... even for a state alone (no troops from the others), and the payoff is a float array.
    alone = commit_payoff(np.array([True]), np.array([0.0]), np.zeros(1), np.ones(1), 0.0)
    assert alone.tolist() == [1.0] and alone.dtype == np.float64
    # Any positive requirement counts: 0.5 troops of a requirement of 1 is half.
    half = commit_payoff(np.array([True, True]), np.array([0.5, 0.5]), np.zeros(2), np.ones(2), 1.0)
    assert half.tolist() == [0.5, 0.5]


def test_a_payoff_of_exactly_zero_stays_out() -> None:
    result = stable_coalition(
        can_join=np.array([True, True]), delivered=np.array([100.0, 100.0]),
        willingness=np.array([0.0, 0.1]), solidarity=np.zeros(2), required=100.0,
        partners_required=no_partners(2), partners_refused=no_partners(2),
    )  # fmt: skip
    assert result.committed.tolist() == [False, True]


def test_the_state_that_most_wants_out_leaves_first() -> None:
    # State 1 is keen (0.1) but refuses state 0; state 0 is reluctant (-0.1). Both start in.
    # State 1's partner condition fails (desire -inf), so it leaves first; then 0 leaves too,
    # then 1 joins again: three moves to {1}. Were 0 to leave first, one move would do.
    result = stable_coalition(
        can_join=np.array([True, True]), delivered=np.array([100.0, 100.0]),
        willingness=np.array([-0.1, 0.1]), solidarity=np.zeros(2), required=100.0,
        partners_required=no_partners(2), partners_refused=np.array([[False, False], [True, False]]),
    )  # fmt: skip
    assert result.committed.tolist() == [False, True] and result.stable and result.moves == 3


def test_the_state_that_most_wants_in_joins_first() -> None:
    # States 0 and 1 need state 2 and refuse each other; 2 refuses 3, which is reluctant. Worked
    # by hand: 0, 2, 1 and 3 leave in turn (partner conditions first), then 2 joins; now 0 (0.1)
    # and 1 (0.3) both want in, the keener, 1, joins first, and 0 stays out.
    refused = no_partners(4)
    refused[0, 1] = refused[1, 0] = True
    refused[2, 3] = True
    required = no_partners(4)
    required[0, 2] = required[1, 2] = True
    result = stable_coalition(
        can_join=np.array([True, True, True, True]), delivered=np.full(4, 100.0),
        willingness=np.array([0.1, 0.3, 0.2, -0.5]), solidarity=np.zeros(4), required=100.0,
        partners_required=required, partners_refused=refused,
    )  # fmt: skip
    assert result.stable
    assert result.committed.tolist() == [False, True, True, False]


def test_a_cycle_stops_at_the_move_limit_and_says_it_is_not_stable() -> None:
    # State 0 needs state 1; state 1 refuses state 0: {0, 1} -> {0} -> {} -> {1} -> {0, 1} ...
    game = {
        "can_join": np.array([True, True]), "delivered": np.array([100.0, 100.0]),
        "willingness": np.array([0.5, 0.5]), "solidarity": np.zeros(2), "required": 100.0,
        "partners_required": np.array([[False, True], [False, False]]),
        "partners_refused": np.array([[False, False], [True, False]]),
    }  # fmt: skip
    result = stable_coalition(**game)
    assert result.stable is False and result.moves == 4 * 2 + 4  # the default limit
    assert result.committed.tolist() == [True, True]  # three full turns of the cycle
    short = stable_coalition(**game, max_moves=5)
    assert not short.stable and short.moves == 5 and short.committed.tolist() == [True, False]
    assert game["can_join"].tolist() == [True, True]  # the caller's array is not moved


def test_who_may_lead_under_each_text() -> None:
    may_lead = np.array([[True, False, False], [False, True, False]])  # option 0: A, option 1: B
    texts = np.array([[0, 1], [1, 0], [1, 1]])
    assert lead_allowed(may_lead, 1, texts).tolist() == [
        [False, True, False], [True, False, True], [False, False, False],
    ]  # fmt: skip
    # The lead clause may be the first clause.
    assert lead_allowed(may_lead, 0, texts).tolist() == [
        [True, False, False], [False, True, True], [False, False, False],
    ]  # fmt: skip
    # No lead clause: the first row names who may lead under any text.
    assert lead_allowed(may_lead, -1, texts).tolist() == [[True] * 3, [False] * 3, [False] * 3]
    # No resolution: anyone listed under any option.
    assert lead_allowed(may_lead, 1, None).tolist() == [[True], [True], [False]]


def test_force_prospect_share_and_a_lead_that_sends_troops() -> None:
    can_join = np.array([[True, True, True], [True, True, False]])
    can_lead = np.array([[True, True, True], [False, False, False]])
    troops = np.array([300.0, 900.0])
    # Text 0: 1200 of 1000 (share 1), led by 0. Text 2: 300 of 1000.
    assert force_prospect(can_join, can_lead, troops, 1000.0).tolist() == [1.0, 1.0, 0.3]
    # A lead nation that would send no troops does not lead.
    assert force_prospect(can_join, can_lead, np.array([0.0, 900.0]), 1000.0).tolist() == [0, 0, 0]
    # No requirement: the share is whole (and a text nobody may join has no force, not NaN).
    assert force_prospect(can_join, can_lead, troops, 0.0).tolist() == [1.0, 1.0, 1.0]
    nobody = np.zeros((2, 1), dtype=bool)
    assert force_prospect(nobody, nobody, troops, 0.0).tolist() == [0.0]
    # Any positive requirement counts (half a soldier of one is half), and a lead sending a
    # single soldier is a lead.
    assert force_prospect(can_join, can_lead, np.array([0.5, 0.0]), 1.0).tolist() == [0.5] * 3
    assert force_prospect(can_join, can_lead, np.array([1.0, 0.0]), 4.0).tolist() == [0.25] * 3
