"""The troop coalition: stable sets, conditions, vetting and the force forecast."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.coalition import commit_payoff, eligible, force_prospect, stable_coalition


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
