"""stabsim discover: a threshold decided by construction is found within one grid step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.analysis.discover import discover
from sim.cli import main
from tests import runs
from tests.whatif_fixtures import one_lever


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    """Viable iff M01's troops reach 1,000: a grid of 500 to 1,500 in steps of 100."""
    base = tmp_path_factory.mktemp("disc")
    scen = one_lever(base / "lever.yaml")
    runs.sweep(scen, base / "g", runs=10, seed=1, vary=["actors.M01.troops.max=500:1500:11"])
    return base / "g"


def test_the_known_threshold_is_recovered_within_one_grid_step(grid):
    r = discover(grid, "viable")
    assert r["base_rate"] == pytest.approx(6 / 11)
    best = r["rules"][0]
    lo, hi = best["bounds"]["actors.M01.troops.max"]
    assert abs(lo - 1000) <= 100 and hi == float("inf")
    assert best["density"] == 1.0 and best["coverage"] == 1.0
    assert best["conditions"] == [f"actors.M01.troops.max > {lo:,.0f}"]


def test_the_command_prints_rules_as_sentences(grid, capsys):
    assert main(["discover", str(grid), "--target", "adopted_and_viable"]) == 0
    out = capsys.readouterr().out
    assert (
        "1. When Member M01's troop pledge (actors.M01.troops.max) > 950: adopted and viable in "
        "100% of runs" in out
    )
    assert main(["discover", str(grid), "--target", "joined.M01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "joined.M01"


@pytest.mark.parametrize(
    ("target", "expected"), [("nonsense", "--target: expected one of"), ("adopted", "")]
)
def test_bad_target_is_one_line_and_a_certain_outcome_has_no_rule(grid, capsys, target, expected):
    code = main(["discover", str(grid), "--target", target])
    if expected:
        err = capsys.readouterr().err
        assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    else:
        assert code == 0 and "no condition" in capsys.readouterr().out


def test_a_folder_without_runs_is_one_line(tmp_path, capsys):
    assert main(["discover", str(tmp_path), "--target", "viable"]) == 2
    assert "no runs.parquet" in capsys.readouterr().err


def test_prim_finds_the_box_that_decides_the_outcome_and_drops_the_noise():
    """y = (a > 0.6 and b < 0.3), with three columns of noise: PRIM's first box restricts a and
    b near their thresholds and nothing else."""
    import numpy as np

    from sim.analysis.discover import prim_boxes

    rng = np.random.default_rng(4)
    X = rng.uniform(size=(2000, 5))
    y = (X[:, 0] > 0.6) & (X[:, 1] < 0.3)
    found, trajectory = prim_boxes(X, y, ["a", "b", "n1", "n2", "n3"], top=1, min_coverage=0.8)
    box = found[0]
    assert set(box.bounds) == {"a", "b"}
    assert abs(box.bounds["a"][0] - 0.6) < 0.05 and box.bounds["a"][1] == float("inf")
    assert box.bounds["b"][0] == -float("inf") and abs(box.bounds["b"][1] - 0.3) < 0.05
    assert box.density > 0.9 and box.coverage >= 0.8
    inside = (X[:, 0] >= box.bounds["a"][0]) & (X[:, 1] <= box.bounds["b"][1])
    assert box.runs == inside.sum() and box.hits == (inside & y).sum()  # counted independently
    assert trajectory[0]["coverage"] == 1.0 and trajectory[-1]["density"] > trajectory[0]["density"]
    assert box.conditions() == [f"a >= {box.bounds['a'][0]:.3g}", f"b <= {box.bounds['b'][1]:.3g}"]


def test_quasi_p_is_the_binomial_tail_of_the_box_against_the_wider_box():
    """Box a >= 0.5 holds 4 runs with 3 hits; without the restriction 3 hits in 8 runs
    (rate 3/8): P(X >= 3 | n=4, p=3/8) = 4 (3/8)^3 (5/8) + (3/8)^4 = 0.151611328125."""
    import numpy as np

    from sim.analysis.discover import quasi_p

    X = np.array([[0.1], [0.2], [0.3], [0.4], [0.6], [0.7], [0.8], [0.9]])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    assert quasi_p(X, y, {0: (0.5, 1.0)})[0] == pytest.approx(0.151611328125)


def test_the_command_prints_prim_boxes_with_quasi_p(grid, capsys):
    assert main(["discover", str(grid), "--target", "viable", "--json"]) == 0
    prim = json.loads(capsys.readouterr().out)["prim"]
    lo, hi = prim["boxes"][0]["bounds"]["actors.M01.troops.max"]
    assert 900 <= lo <= 1000 and hi == float("inf") and prim["boxes"][0]["density"] == 1.0
    assert main(["discover", str(grid), "--target", "viable", "--min-coverage", "0"]) == 2
    assert "--min-coverage" in capsys.readouterr().err
