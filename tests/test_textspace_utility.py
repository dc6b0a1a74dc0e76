"""Text space enumeration and the utility rule, on exact values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import utility as ut
from sim.scenario.compiled import load_scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def gaza():
    return load_scenario(SCENARIOS / "gaza_isf_2025.yaml")


def test_enumeration_is_the_full_product_in_order(gaza) -> None:
    texts = gaza.space.enumerate()
    assert len(texts) == gaza.space.n_texts == 3 * 2 * 3 * 5 * 3 * 6 * 3
    assert len(np.unique(texts, axis=0)) == len(texts)
    assert (texts[0] == 0).all() and (texts[-1] == gaza.space.sizes - 1).all()


def test_masked_enumeration_and_single_changes(gaza) -> None:
    space = gaza.space
    mask = space.option_mask.copy()
    mask[3, [0, 4]] = False
    texts = space.enumerate(mask)
    assert len(texts) == space.count(mask) == space.n_texts // 5 * 3
    assert not np.isin(texts[:, 3], [0, 4]).any()
    draft = np.zeros(len(space.clauses), dtype=np.intp)
    changes, clause, option = space.single_changes(draft)
    assert len(changes) == int((space.sizes - 1).sum())
    assert ((changes != draft).sum(axis=1) == 1).all()
    assert (changes[np.arange(len(clause)), clause] == option).all()


def test_utility_is_one_minus_weighted_loss() -> None:
    # One actor, an ordered clause of 3 options (positions 0, .5, 1) and an unordered one.
    positions = np.array([[0.0, 0.5, 1.0], [0.0, 0.0, np.nan]])
    ideal = np.array([[1.0, 0.0]])
    option_util = np.array([[[0, 0, 0], [0.2, 1.0, 0]]])
    loss = ut.clause_loss(ideal, positions, option_util, np.array([False, True]))
    table = ut.utility_table(loss, np.array([[0.6, 0.2]]))  # weights 0.75 / 0.25
    texts = np.array([[2, 1], [0, 0], [1, 1]])
    assert ut.text_utility(table, texts)[0] == pytest.approx(
        [1.0, 1 - 0.75 - 0.25 * 0.8, 1 - 0.375]
    )


def test_ties_mix_utilities() -> None:
    ties = np.array([[0.0, 0.25], [0.0, 0.0]])
    mixing = ut.tie_matrix(ties)
    assert mixing.tolist() == [[0.75, 0.25], [0.0, 1.0]]
    table = np.array([[[0.0, -1.0]], [[-1.0, 0.0]]])  # two actors, one clause, two options
    mixed = ut.mix(table, mixing)
    assert ut.text_utility(mixed, np.array([[0], [1]])).tolist() == [[0.75, 0.25], [0.0, 1.0]]


def test_draws_respect_distribution_supports(gaza) -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = gaza.draw(rng)
        assert ((p.salience >= 0) & (p.salience <= 1)).all()
        assert 5000 <= p.troops_required <= 20000
        assert (p.delivery <= 1).all() and (p.max_troops >= 0).all()
    assert "force.troops_required" in {s.path for s in gaza.slots}


def test_options_in_words_use_the_scenario_labels(gaza) -> None:
    by_id = {c.id: c for c in gaza.space.clauses}
    lead = by_id["leadership"]
    assert lead.words(lead.options.index("us_coordinated")) == "US-coordinated"
    assert by_id["duration"].words(3) == "24 months"
    from sim.scenario.compiled import Scenario

    data = load_scenario(SCENARIOS / "minimal.yaml").data
    plain = Scenario.from_data(data).space.clauses[0]
    assert plain.words(0) == "welcomes"  # no labels: the option id, underscores as spaces


@settings(max_examples=20, deadline=None)
@given(which=st.integers(0, 17), seed=st.integers(0, 10_000))
def test_fixing_a_distribution_leaves_every_other_draw_unchanged(which: int, seed: int) -> None:
    """Common random numbers: --set or --vary on one distribution-valued parameter must not
    shift the draws of the others."""
    base = load_scenario(SCENARIOS / "gaza_isf_2025.yaml")
    slot = base.slots[which]
    path, value = slot.path, slot.dist.support[0]  # a value the field accepts
    fixed = load_scenario(SCENARIOS / "gaza_isf_2025.yaml", {path: value})
    before = base.draw(np.random.default_rng(seed)).sampled
    after = fixed.draw(np.random.default_rng(seed)).sampled
    before.pop(path)
    assert after == before


# Added for the mutation run (docs/testing.md, "Mutation testing").


def test_clause_loss_padding_and_unordered_clauses() -> None:
    # Two actors; an ordered clause with positions 0, 0.4 and padding, an unordered one.
    positions = np.array([[0.0, 0.4, np.nan], [0.0, 0.0, 0.0]])
    ideal = np.array([[0.4, 0.0], [1.0, 0.0]])
    option_util = np.array([[[9, 9, 9], [1.0, 0.5, 0.0]], [[9, 9, 9], [0.0, 0.25, 1.0]]])
    loss = ut.clause_loss(ideal, positions, option_util, np.array([False, True]))
    expected = [[[0.4, 0.0, 1.0], [0.0, 0.5, 1.0]], [[1.0, 0.6, 1.0], [1.0, 0.75, 0.0]]]
    np.testing.assert_allclose(loss, expected)


def test_clause_weights_sum_to_one_and_no_salience_weighs_nothing() -> None:
    weights = ut.clause_weights(np.array([[1.0, 3.0], [2.0, 0.0], [0.0, 0.0]]))
    assert weights.tolist() == [[0.25, 0.75], [1.0, 0.0], [0.0, 0.0]]  # each actor's own
    table = ut.weighted_table(np.array([[[0.5, 1.0], [0.2, 0.0]]]), np.array([[0.25, 0.75]]))
    np.testing.assert_allclose(table, [[[-0.125, -0.25], [-0.15, 0.0]]])


def test_red_lines_and_the_best_allowed_text() -> None:
    # One actor, two clauses of three options; option 2 of clause 0 is its best and a red line.
    table = np.array([[[-0.3, -0.1, 0.0], [-0.2, 0.0, -0.4]]])
    red = np.zeros((1, 2, 3), dtype=bool)
    red[0, 0, 2] = True
    texts = np.array([[2, 1], [1, 1], [0, 2]])
    assert ut.crosses_red_line(red, texts).tolist() == [[True, False, False]]
    assert ut.ideal_text(table, np.ones_like(red)).tolist() == [[2, 1]]
    assert ut.ideal_text(table, ~red).tolist() == [[1, 1]]
    # A tie weight of 0.3 leaves 0.7 on the actor's own utility, whatever its size.
    np.testing.assert_allclose(
        ut.tie_matrix(np.array([[0.0, 0.3], [0.1, 0.0]])), [[0.7, 0.3], [0.1, 0.9]]
    )
