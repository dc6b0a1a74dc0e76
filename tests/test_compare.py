"""stabsim compare: Newcombe's intervals, a sweep against itself, a what-if with a known effect."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.compare import compare, newcombe_paired, newcombe_unpaired, read_side
from sim.cli import main
from sim.reporting.findings import compare_sentences as sentences
from tests import runs
from tests.test_sweep import noisy_scenario


def test_unpaired_interval_matches_newcombes_published_values():
    # Newcombe (1998a), Statistics in Medicine 17:873, table II, method 10
    d, lo, hi = newcombe_unpaired(48, 80, 56, 70)
    assert round(d, 4) == 0.2 and round(lo, 4) == 0.0524 and round(hi, 4) == 0.3339
    d, lo, hi = newcombe_unpaired(3, 10, 9, 10)
    assert round(lo, 4) == 0.1705 and round(hi, 4) == 0.8090


def test_paired_interval_is_zero_width_free_and_narrower_when_runs_agree():
    rng = np.random.default_rng(0)
    a = rng.random(500) < 0.4
    b = a.copy()
    b[np.flatnonzero(~a)[:40]] = True  # 40 runs switch to the outcome, none away from it
    d, lo, hi = newcombe_paired(a, b)
    assert d == pytest.approx(40 / 500) and 0 < lo < d < hi
    _, ulo, uhi = newcombe_unpaired(int(a.sum()), 500, int(b.sum()), 500)
    assert hi - lo < uhi - ulo  # pairing removes the shared noise
    d, lo, hi = newcombe_paired(a, a)
    assert d == 0 and lo < 0 < hi


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cmp")
    scen = noisy_scenario(base / "noisy.yaml")
    out = {}
    noisy_p = ["actors.P.vote.noise=0.2"]  # P's no is often a surprise: vetoes happen
    for name, sets, seed in (("a", [], 3), ("a2", [], 4),
                             ("b", ["actors.P.vote.veto_cost=1"], 3)):  # fmt: skip
        runs.sweep(scen, base / name, runs=400, seed=seed, sets=[*noisy_p, *sets])
        out[name] = base / name
    return out


def test_a_sweep_against_itself_shows_no_significant_change(sweeps):
    a = read_side(sweeps["a"], 0)
    r = compare(a, a)
    assert r["paired"]
    assert not any(x["significant"] for x in r["changes"])
    assert "beyond noise" in sentences(r, a.names, None)[0]


def test_two_seeds_of_the_same_scenario_are_compared_unpaired(sweeps):
    r = compare(read_side(sweeps["a"], 0), read_side(sweeps["a2"], 0))
    assert not r["paired"] and all(x["method"] == "unpaired" for x in r["changes"])
    assert sum(x["significant"] for x in r["changes"]) <= 3  # ~5% false alarms at most


def test_a_known_effect_shows_with_the_right_sign(sweeps, tmp_path, capsys):
    # P's veto costing it everything: P never vetoes, so vetoes fall and adoption rises
    a, b = read_side(sweeps["a"], 0), read_side(sweeps["b"], 0)
    assert a.point["veto_cast_by"]["P"]["p"] > 0.03
    r = {x["key"]: x for x in compare(a, b)["changes"]}
    veto = r["veto.P"]
    assert veto["significant"] and veto["high"] < 0 and veto["method"] == "paired"
    assert r["outcome.adopted"]["significant"] and r["outcome.adopted"]["low"] > 0
    code = main(["compare", str(sweeps["a"]), str(sweeps["b"]), "--label", "Without P's veto"])
    text = capsys.readouterr().out
    assert code == 0 and "Without P's veto, " in text and "adoption rises from" in text
    assert "95% CI +" in text


def test_json_output_and_bad_input(sweeps, tmp_path, capsys):
    assert main(["compare", str(sweeps["a"]), str(sweeps["b"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["schema"] == "stabsim-compare/1" and result["sentences"]
    assert main(["compare", str(sweeps["a"]), str(tmp_path / "none")]) == 2
    assert "no summary.json" in capsys.readouterr().err
    assert main(["compare", str(sweeps["a"]), str(sweeps["b"]), "--point-b", "3"]) == 2
    assert "grid point 3 does not exist" in capsys.readouterr().err
