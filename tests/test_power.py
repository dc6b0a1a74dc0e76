"""Voting power: the known Council values, exactness, brute force and empirical pivotality."""

from fractions import Fraction
from itertools import permutations

import numpy as np
import pytest

from sim.model.power import PowerError, empirical_pivotality, power_indices
from sim.model.voting import ABSTAIN, NO, YES
from tests import runs


def council(n: int, vetoes: int) -> np.ndarray:
    return np.arange(n) < vetoes


def test_un_security_council_today():
    idx = power_indices(council(15, 5), 9)
    assert idx.shapley_shubik[0] == Fraction(421, 2145)
    assert idx.shapley_shubik[14] == Fraction(4, 2145)
    assert idx.banzhaf[0] == Fraction(848, 5080)
    assert idx.banzhaf[14] == Fraction(84, 5080)
    assert sum(idx.shapley_shubik) == 1 and sum(idx.banzhaf) == 1


def test_security_council_of_1954():
    idx = power_indices(council(11, 5), 7)
    assert idx.shapley_shubik[0] == Fraction(76, 385)
    assert idx.shapley_shubik[10] == Fraction(1, 462)


def brute_force(veto: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapley-Shubik by every ordering, raw Banzhaf by every coalition (small n only)."""
    n = len(veto)

    def wins(members: set[int]) -> bool:
        return len(members) >= q and all(v in members for v in np.flatnonzero(veto))

    ss = np.zeros(n)
    orders = list(permutations(range(n)))
    for order in orders:
        seen: set[int] = set()
        for i in order:
            if not wins(seen) and wins(seen | {i}):
                ss[i] += 1
                break
            seen.add(i)
    masks = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    bz = np.zeros(n, dtype=int)
    for row in masks:
        s = set(np.flatnonzero(row))
        for i in set(range(n)) - s:
            bz[i] += wins(s | {i}) and not wins(s)
    return ss / len(orders), bz


@pytest.mark.parametrize(("n", "v", "q"), [(5, 1, 3), (6, 2, 4), (6, 0, 4), (5, 3, 3), (4, 4, 2)])
def test_closed_form_matches_brute_force(n, v, q):
    veto = council(n, v)
    idx = power_indices(veto, q)
    ss, bz = brute_force(veto, q)
    np.testing.assert_allclose(idx.ss, ss)
    assert list(idx.banzhaf_raw) == list(bz)


def test_bad_rule_is_a_clear_error():
    with pytest.raises(PowerError, match="between 1 and 3"):
        power_indices(council(3, 1), 4)


def test_empirical_pivotality_by_hand():
    veto = np.array([True, False, False])  # P holds the veto, 2 votes needed
    votes = np.array(
        [
            [YES, YES, NO],  # adopted, 2 yes: P (veto) and E (2 = needed) pivotal; Q not
            [YES, YES, YES],  # adopted, 3 yes: only P pivotal
            [NO, YES, YES],  # vetoed: nobody else can flip it; P's yes would adopt
            [ABSTAIN, NO, YES],  # failed 1 yes: P's or E's yes would adopt
        ]
    )
    piv = empirical_pivotality(votes, veto, 2)
    np.testing.assert_allclose(piv, [4 / 4, 2 / 4, 0 / 4])


def test_pivotality_from_a_sweep_equals_pivotality_from_the_same_runs(tmp_path):
    from pathlib import Path

    from sim.analysis.folders import open_sweep
    from sim.experiments.power import simulated_votes
    from sim.scenario.compiled import load_scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "minimal.yaml"
    out = tmp_path / "s"
    runs.sweep(path, out, runs=40, seed=3)
    sweep = open_sweep(out)
    votes = sweep.votes()
    assert votes.shape == (40, 3)
    # the same --seed means the same runs in both commands
    assert (votes == simulated_votes(load_scenario(path), 40, 3)).all()
    assert sweep.labels.votes_needed == 2
