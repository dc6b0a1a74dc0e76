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
