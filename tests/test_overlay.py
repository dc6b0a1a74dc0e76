"""What-if files (``extends:``): resolution by path and name, chains, cycles, what replaces and
what merges, problems at the file and line they came from, and sweeps that record them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import sim
from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario import overlay
from tests.conftest import SCENARIOS

GAZA = SCENARIOS / "gaza_isf_2025.yaml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_overlay_changes_one_number_and_keeps_the_rest(tmp_path: Path) -> None:
    f = write(
        tmp_path / "fra.yaml",
        "extends: gaza\nactors:\n  FRA:\n    salience:\n      leadership: 0.1\n",
    )
    base, what_if = sim.load_scenario(GAZA), sim.load_scenario(f)
    fra, lead = base.index["FRA"], [c.id for c in base.space.clauses].index("leadership")
    assert what_if.base["salience"][fra, lead] == 0.1
    assert base.base["salience"][fra, lead] != 0.1
    changed = what_if.base["salience"] != base.base["salience"]
    assert changed.sum() == 1  # only that number moved
    raw = yaml.safe_load(GAZA.read_text())
    assert what_if.data["actors"]["FRA"]["ideal"] == raw["actors"]["FRA"]["ideal"]
    assert what_if.data["name"] == raw["name"]  # inherited
    # the base's distribution it fixed is still drawn, so every other draw stays paired
    drawn, base_drawn = sim.run(what_if, seed=3).params, sim.run(base, seed=3).params
    assert "actors.FRA.salience.leadership" in base_drawn
    base_drawn.pop("actors.FRA.salience.leadership")
    assert drawn == base_drawn


def test_lists_and_distributions_replace_whole_and_mappings_merge() -> None:
    base = {"a": {"x": 1, "y": [1, 2, 3], "d": {"dist": "uniform", "low": 0, "high": 1}}, "b": 2}
    top = {"a": {"y": [9], "d": {"dist": "normal", "mean": 0, "sd": 1}}}
    assert overlay.lay_over(base, top) == {
        "a": {"x": 1, "y": [9], "d": {"dist": "normal", "mean": 0, "sd": 1}},
        "b": 2,
    }
    assert overlay.changes({"extends": "g", **top}) == {
        "a.y": [9],
        "a.d": {"dist": "normal", "mean": 0, "sd": 1},
    }


def test_relative_paths_and_chains_resolve_from_each_file(tmp_path: Path) -> None:
    write(
        tmp_path / "bases" / "one.yaml", f"extends: {GAZA}\nactors: {{RUS: {{status_quo: 0.9}}}}\n"
    )
    write(tmp_path / "bases" / "two.yaml", "extends: one.yaml\nactors: {CHN: {status_quo: 0.8}}\n")
    top = write(
        tmp_path / "top.yaml", "extends: bases/two.yaml\nactors: {RUS: {status_quo: 0.1}}\n"
    )
    loaded = overlay.load(top)
    assert [layer.path.name for layer in loaded.chain] == [
        "gaza_isf_2025.yaml", "one.yaml", "two.yaml", "top.yaml",
    ]  # fmt: skip
    actors = loaded.data["actors"]
    assert actors["RUS"]["status_quo"] == 0.1 and actors["CHN"]["status_quo"] == 0.8
    assert loaded.own == {"actors.RUS.status_quo": 0.1}
    record = loaded.record()
    assert [b["name"] for b in record["bases"]] == ["gaza_isf_2025", "one", "two"]
    assert record["bases"][0]["text"] == GAZA.read_text()


def test_cycles_are_refused_in_one_line(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: c.yaml\n")
    write(tmp_path / "c.yaml", "extends: a.yaml\n")
    with pytest.raises(ScenarioError) as info:
        overlay.load(tmp_path / "a.yaml")
    assert str(info.value) == "c.yaml: extends: a cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml"
    write(tmp_path / "self.yaml", "extends: self.yaml\n")
    with pytest.raises(ScenarioError, match=r"a cycle: self\.yaml -> self\.yaml"):
        overlay.load(tmp_path / "self.yaml")


def test_a_missing_base_names_the_file_and_the_field(tmp_path: Path) -> None:
    f = write(tmp_path / "w.yaml", "extends: nowhere\n")
    with pytest.raises(ScenarioError) as info:
        overlay.load(f)
    assert str(info.value).startswith("w.yaml: extends: nowhere: no such file")


def test_problems_name_the_file_and_line_the_bad_value_came_from(tmp_path: Path, capsys) -> None:
    write(tmp_path / "mid.yaml", "extends: gaza\nactors:\n  CHN:\n    capability: 3\n")
    top = write(
        tmp_path / "top.yaml",
        "# a what-if\nextends: mid.yaml\nactors:\n  RUS:\n    status_quo: 7\n",
    )
    assert main(["validate", str(top)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "top.yaml, line 5: actors.RUS.status_quo: expected a number in [-1, 1], got 7" in err
    assert "mid.yaml, line 4: actors.CHN.capability: expected a number in [0, 1], got 3" in err
    # a value from the untouched base is said at its own line of the base
    gaza_lines = GAZA.read_text().splitlines()
    loaded = overlay.load(top)
    file, line = loaded.origins[("actors", "USA", "capability")]
    assert file == "gaza_isf_2025.yaml" and "capability" in gaza_lines[line - 1]


def test_a_sweep_of_an_overlay_records_its_base_and_changes(tmp_path: Path) -> None:
    from tests import runs

    f = write(
        tmp_path / "fra.yaml", "extends: gaza\nactors: {FRA: {salience: {leadership: 0.1}}}\n"
    )
    runs.sweep(f, tmp_path / "out", runs=6, seed=1)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    scenario = manifest["scenario"]
    assert scenario["changes"] == {"actors.FRA.salience.leadership": 0.1}
    assert scenario["bases"][0]["name"] == "gaza_isf_2025"
    assert scenario["text"] == f.read_text()
    # a base that changes makes the folder a different job (resume refuses it)
    assert scenario["sha256"] == overlay.load(f).sha256() != overlay.load(GAZA).sha256()


@pytest.mark.parametrize("how", ["file", "set"])
def test_a_sweep_draws_each_run_as_stabsim_run_does(tmp_path: Path, how: str) -> None:
    """A distribution a what-if (or ``--set``) fixes is still drawn in the sweep's workers, so
    run ``i`` of the sweep is ``stabsim run --seed <its seed>`` and stays paired with the base."""
    import pyarrow.parquet as pq

    from tests import runs

    if how == "file":
        f = write(tmp_path / "rus.yaml", "extends: gaza\nactors: {RUS: {status_quo: 0.85}}\n")
        sets: list[str] = []
        scenario = sim.load_scenario(f)
    else:
        f, sets = GAZA, ["actors.RUS.status_quo=0.85"]
        scenario = sim.load_scenario(GAZA, {"actors.RUS.status_quo": "0.85"})
    runs.sweep(f, tmp_path / "out", runs=4, seed=2, sets=sets)
    table = pq.read_table(tmp_path / "out" / "runs.parquet").to_pylist()
    base = sim.load_scenario(GAZA)
    for row in table:
        alone = sim.run(scenario, seed=row["seed"], record_path=False)
        assert row["param.actors.CHN.status_quo"] == alone.params["actors.CHN.status_quo"]
        assert row["outcome"] == alone.outcome and row["delivered_troops"] == alone.delivered_troops
        paired = sim.run(base, seed=row["seed"], record_path=False).params
        assert alone.params["actors.CHN.status_quo"] == paired["actors.CHN.status_quo"]
