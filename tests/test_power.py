"""Voting power: the known Council values, exactness, brute force and empirical pivotality."""

import re
from fractions import Fraction
from itertools import permutations
from math import comb

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


# --- stabsim power, end to end ---------------------------------------------------------------

ROW = re.compile(r"^(\w+)\s+(\d+(?:/\d+)?) = ([\d.]+)\s+(\d+(?:/\d+)?) = ([\d.]+)\s+([\d.]+)$")


def _power_rows(out: str) -> dict[str, tuple[Fraction, Fraction, float]]:
    """Each member's row of ``stabsim power``: (Shapley-Shubik, Banzhaf, pivotal share)."""
    rows = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            assert float(Fraction(m[2])) == pytest.approx(float(m[3]), abs=5e-5), line
            rows[m[1]] = (Fraction(m[2]), Fraction(m[4]), float(m[6]))
    return rows


def _pivotal_by_brute_force(votes: list[dict[str, str]], veto: set[str], needed: int) -> dict:
    """Share of runs in which some other vote of the member's own flips adoption."""

    def adopted(v: dict[str, str]) -> bool:
        yes = sum(x == "yes" for x in v.values())
        return yes >= needed and not any(v[m] == "no" for m in veto)

    members = list(votes[0])
    count = dict.fromkeys(members, 0)
    for v in votes:
        for m in members:
            flips = any(adopted({**v, m: alt}) != adopted(v) for alt in ("yes", "abstain", "no"))
            count[m] += flips
    return {m: count[m] / len(votes) for m in members}


def test_power_command_on_the_council_of_today(capsys):
    """Gaza's Council (15 members, 5 vetoes, 9 votes): an elected member is pivotal in an
    ordering when it comes ninth with the five vetoes and three of the other nine elected
    members before it, P = C(9,3) / C(14,8) / 15 = 4/2145 (about 0.00186); the five permanent
    members share the rest equally, (1 - 10 x 4/2145) / 5 = 421/2145 (about 0.1963)."""
    from sim.cli import main

    elected = Fraction(comb(9, 3), comb(14, 8) * 15)
    permanent = (1 - 10 * elected) / 5
    assert (elected, permanent) == (Fraction(4, 2145), Fraction(421, 2145))
    assert main(["power", "--runs", "3", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Gaza International Stabilization Force (UNSC, 2025): 15 members, 9 votes needed, "
        "veto: USA, GBR, FRA, RUS, CHN\n"
    )
    rows = _power_rows(out)
    assert len(rows) == 15
    for m, (ss, bz, _) in rows.items():
        permanent_member = m in ("USA", "GBR", "FRA", "RUS", "CHN")
        assert ss == (permanent if permanent_member else elected), m
        assert bz == (Fraction(106, 635) if permanent_member else Fraction(21, 1270)), m
    assert "share of 3 seeded runs (seed 1, as a sweep's first runs)" in out


def test_power_command_pivotality_is_recomputed_from_the_runs(tmp_path, capsys):
    """The pivotal column, recomputed by flipping each member's vote in each seeded run (runs
    played here with the sweep's seeds), the same from the scenario and from a sweep; and the
    three-member rule's indices by hand: of the six orderings P is pivotal in four
    (SS 2/3, E and Q 1/6 each); P swings in three coalitions, E and Q in one (Banzhaf 3/5, 1/5)."""
    from sim.cli import main
    from sim.experiments.runner import run_seed
    from sim.model.simulate import run
    from sim.scenario.compiled import load_scenario
    from tests.test_sweep import noisy_scenario

    path = noisy_scenario(tmp_path / "noisy.yaml")
    assert main(["power", str(path), "--runs", "60", "--seed", "5"]) == 0
    rows = _power_rows(capsys.readouterr().out)
    assert {m: r[:2] for m, r in rows.items()} == {
        "P": (Fraction(2, 3), Fraction(3, 5)),
        "E": (Fraction(1, 6), Fraction(1, 5)),
        "Q": (Fraction(1, 6), Fraction(1, 5)),
    }
    scenario = load_scenario(path)
    votes = []
    for r in range(60):
        v = run(scenario, seed=run_seed(5, r)).votes
        votes.append({m: v.get(m, "abstain") for m in ("P", "E", "Q")})  # no vote: abstain
    expected = _pivotal_by_brute_force(votes, {"P"}, 2)
    assert {m: r[2] for m, r in rows.items()} == {m: round(p, 3) for m, p in expected.items()}
    assert 0 < expected["E"] < 1 and 0 < expected["Q"] < 1  # the runs differ
    runs.sweep(path, tmp_path / "s", runs=60, seed=5)
    assert main(["power", "--sweep", str(tmp_path / "s")]) == 0
    from_sweep = _power_rows(capsys.readouterr().out)
    assert {m: r[2] for m, r in from_sweep.items()} == {m: r[2] for m, r in rows.items()}
