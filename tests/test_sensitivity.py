"""stabsim sensitivity: parameter expansion and ranges, Sobol' and Morris on a scenario where
one parameter decides, swings, resume, and one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.experiments import sensitivity as se
from sim.scenario.compiled import Scenario
from tests import runs
from tests.whatif_fixtures import one_lever

ROOT = Path(__file__).resolve().parent.parent
GAZA = ROOT / "scenarios" / "gaza_isf_2025.yaml"
LEVER = "actors.M01.troops.max=500:1500"
DUMMIES = ["actors.M05.capability", "actors.M06.flexibility=0.1:0.5"]


@pytest.fixture(scope="module")
def lever(tmp_path_factory) -> Path:
    return one_lever(tmp_path_factory.mktemp("scen") / "lever.yaml")


def analyse(lever: Path, out: Path, method: str, **kw) -> dict:
    return runs.sensitivity(lever, out, params=[LEVER, *DUMMIES], method=method,
                            base_runs=kw.pop("base_runs", 32), replicates=1, swing_runs=3,
                            **kw).result  # fmt: skip


@pytest.fixture(scope="module")
def sobol(lever, tmp_path_factory) -> dict:
    return analyse(lever, tmp_path_factory.mktemp("s") / "sobol", "sobol")


@pytest.fixture(scope="module")
def morris(lever, tmp_path_factory) -> dict:
    return analyse(lever, tmp_path_factory.mktemp("m") / "morris", "morris", base_runs=16)


def test_the_one_parameter_that_matters_gets_the_largest_total_index(sobol):
    for output in ("viable", "delivered_troops"):
        block = sobol["indices"][output]["indices"]
        assert sobol["ranking"][output][0] == "actors.M01.troops.max"
        assert block["actors.M01.troops.max"]["ST"] > 0.5
        for dummy in ("actors.M05.capability", "actors.M06.flexibility"):
            ci = block[dummy]["ST_ci"]
            assert ci["low"] <= 0 <= ci["high"], (output, dummy, ci)
    assert sobol["indices"]["adopted"]["constant"]  # always adopted: nothing to apportion


def test_morris_and_sobol_agree_on_the_ranking(sobol, morris):
    for output in ("viable", "delivered_troops"):
        assert morris["ranking"][output][0] == sobol["ranking"][output][0]
        mu = morris["indices"][output]["indices"]
        assert mu["actors.M05.capability"]["mu_star"] == 0
        assert mu["actors.M01.troops.max"]["mu_star"] > 0


def test_swings_move_only_the_lever_and_with_the_right_sign(sobol):
    sw = sobol["swings"]["viable"]
    assert sw["baseline"] == 1.0  # 1,000 troops meet the requirement of 1,000
    top = sw["params"][0]
    assert top["path"] == "actors.M01.troops.max"
    assert top["change_low"] == -1.0 and top["change_high"] == 0.0
    assert all(r["change_low"] == r["change_high"] == 0 for r in sw["params"][1:])
    troops = sobol["swings"]["delivered_troops"]["params"][0]
    assert troops["change_low"] == -500 and troops["change_high"] == 500


def test_the_table_holds_every_point_and_the_design(sobol, tmp_path_factory):
    out = Path(tmp_path_factory.getbasetemp()) / "s0" / "sobol"
    t = pq.read_table(out / "points.parquet").to_pandas()
    n = 32 * (3 + 2)
    assert (t["design"] == "sample").sum() == n == sobol["points"]
    assert (t["design"] == "swing").sum() == 1 + 2 * 3
    s = t[t["design"] == "sample"]
    assert s["param.actors.M01.troops.max"].between(500, 1500).all()
    assert ((s["param.actors.M01.troops.max"] >= 1000) == (s["viable"] == 1)).all()
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete" and not (out / "parts").exists()


def test_wildcards_expand_over_existing_parameters_with_default_ranges():
    cat = se.numeric_parameters(Scenario.from_data(*_gaza()))
    params, skipped = se.resolve(["actors.*.salience.leadership"], cat)
    assert {p.path for p in params} | set(skipped) == {
        p for p in cat if p.startswith("actors.") and p.endswith(".salience.leadership")
    }
    usa = next(p for p in params if p.path == "actors.USA.salience.leadership")
    assert (usa.low, usa.high) == (0.3, pytest.approx(0.9))  # 0.6 +-50%
    sq = next(p for p in se.resolve(["actors.USA.status_quo"], cat)[0])
    assert (sq.low, sq.high) == (0.1, 0.4)  # the triangular's support
    clipped = se.resolve(["actors.USA.capability"], cat)[0][0]
    assert (clipped.low, clipped.high) == (0.5, 1.0)  # 1.0 +-50%, clipped to [0, 1]


def test_catalogue_ranges_agree_with_the_schema():
    """Each numeric parameter's range in the scenario's catalogue: its ends pass the loader as
    a --set; a step beyond fails."""
    data, source = _gaza()
    cat = se.numeric_parameters(Scenario.from_data(data, source))
    seen = set()
    for path, entry in cat.items():
        kind = ".".join(path.split(".")[2:]) if path.startswith("actors.") else path
        kind = kind.split(".")[0] if kind.split(".")[0] in ("salience", "ties", "utility") else kind
        if kind in seen or ".ideal." in path:
            continue
        seen.add(kind)
        lo, hi = entry.valid
        # joint rules (an actor's ties sum to at most 1, withdraw <= tabling) are checked by
        # prepare(); see test_bad_input_is_one_line_and_exit_2
        if kind != "negotiation.tabling_threshold":
            Scenario.from_data(data, source, {path: lo})
        with pytest.raises(ScenarioError):
            Scenario.from_data(data, source, {path: lo - 1})
        if math.isfinite(hi) and kind not in ("ties", "negotiation.withdraw_threshold"):
            Scenario.from_data(data, source, {path: hi})
            with pytest.raises(ScenarioError):
                Scenario.from_data(data, source, {path: hi + 1})
    assert len(seen) >= 15


def test_resume_completes_an_interrupted_analysis(lever, tmp_path, monkeypatch, sobol):
    real, calls = se.run_block, []

    def interrupted(job, block):
        calls.append(block)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(job, block)

    monkeypatch.setattr(se, "run_block", interrupted)
    out = tmp_path / "r"
    argv = ["sensitivity", str(lever), "--params", LEVER, "--params", DUMMIES[0], "--params", DUMMIES[1],
            "--base-runs", "32", "--replicates", "1", "--swing-runs", "3", "--workers", "1",
            "--out", str(out), "--quiet", "--no-charts"]  # fmt: skip
    assert main(argv) == 130
    assert not (out / "sensitivity.json").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    monkeypatch.setattr(se, "run_block", real)
    assert main([*argv, "--resume"]) == 0
    again = json.loads((out / "sensitivity.json").read_text())
    assert again["indices"] == sobol["indices"] and again["swings"] == sobol["swings"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--params", "actors.XYZ.capability"], "no numeric parameter of the scenario matches"),
        (["--params", "actors.USA.capability=0.5:1.5"], "must stay within [0, 1]"),
        (["--params", "actors.USA.capability=0.9:0.1"], "LOW < HIGH"),
        (["--params", "actors.DZA.vote.veto_cost"], "give one as"),
        (["--params", "actors.USA.ties.*=0:0.6"], "tie weights summing to at most 1"),
        (["--params", "negotiation.*_threshold=0.1:0.9"], "at most tabling_threshold"),
        (["--params", "actors.USA.capability", "--method", "fast"], "--method"),
        (["--params", "actors.USA.capability", "--clause", "nope"], "--clause"),
        (["--params", "actors.USA.capability", "--replicates", "0"], "--replicates"),
        ([], "--params"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, expected):
    code = main(["sensitivity", str(GAZA), "--out", str(tmp_path / "x"), "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def _gaza():
    from sim.scenario.loader import load_data

    return load_data(GAZA)


def test_replicates_are_the_runs_of_a_sweep_with_the_same_seed(tmp_path):
    """One seed convention: the swing baseline (nothing fixed) over R replicates is exactly the
    first R runs of a sweep with the same seed (common random numbers across commands)."""
    out = tmp_path / "sens"
    result = runs.sensitivity(GAZA, out, params=["force.troops_required"], method="morris",
                              base_runs=2, replicates=1, swing_runs=40, seed=9).result  # fmt: skip
    runs.sweep(GAZA, tmp_path / "sweep", runs=40, seed=9, chunk_size=40)
    t = pq.read_table(tmp_path / "sweep" / "runs.parquet").to_pydict()
    base = result["swings"]["delivered_troops"]["baseline"]
    assert base == pytest.approx(sum(t["delivered_troops"]) / 40)
    adopted = result["swings"]["adopted"]["baseline"]
    assert adopted == pytest.approx(sum(o == "adopted" for o in t["outcome"]) / 40)
