"""Scenario files: every kind of mistake gets its own one-line message; good files load."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario.compiled import Scenario, load_scenario
from sim.scenario.overrides import apply_override
from tests.conftest import BUNDLED


def problems(data: Any, source: str = "test.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_data(data, source)
    return str(info.value).splitlines()


def one_problem(data: Any) -> str:
    lines = problems(data)
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_scenario_validates(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.space.n_texts >= 4


def test_salience_out_of_range_names_file_path_and_values(data: dict) -> None:
    data["actors"]["E"]["salience"]["mandate"] = 1.7
    assert one_problem(data) == (
        "test.yaml: actors.E.salience.mandate: expected a number in [0, 1], got 1.7"
    )


def test_unknown_actor_in_ties(data: dict) -> None:
    data["actors"]["E"]["ties"] = {"XYZ": 0.2}
    assert one_problem(data).startswith("test.yaml: actors.E.ties.XYZ: unknown actor 'XYZ'")


def test_unknown_actor_in_troop_conditions(data: dict) -> None:
    data["actors"]["T"]["troops"]["partners_required"] = ["NOPE"]
    line = one_problem(data)
    assert line.startswith("test.yaml: actors.T.troops.partners_required[0]: unknown actor 'NOPE'")


def test_unknown_option_in_red_lines(data: dict) -> None:
    data["actors"]["P"]["red_lines"] = {"mandate": ["chapter_ix"]}
    assert one_problem(data) == (
        "test.yaml: actors.P.red_lines.mandate[0]: unknown option 'chapter_ix'; "
        "expected one of: welcomes, endorses, authorizes"
    )


def test_unknown_clause_in_red_lines(data: dict) -> None:
    data["actors"]["P"]["red_lines"] = {"duration": [12]}
    assert one_problem(data).startswith(
        "test.yaml: actors.P.red_lines.duration: unknown clause 'duration'"
    )


def test_unknown_actor_in_vetting(data: dict) -> None:
    data["force"]["host"] = "ISR"
    data["force"]["refused"] = ["TUR"]
    lines = problems(data)
    assert any(line.startswith("test.yaml: force.host: unknown actor 'ISR'") for line in lines)
    assert any(
        line.startswith("test.yaml: force.refused[0]: unknown actor 'TUR'") for line in lines
    )


def test_unknown_option_in_ideal(data: dict) -> None:
    data["actors"]["Q"]["ideal"]["mandate"] = "demands"
    assert "actors.Q.ideal.mandate: unknown option 'demands'" in one_problem(data)


def test_unknown_field_lists_the_accepted_ones(data: dict) -> None:
    data["actors"]["Q"]["salinece"] = {}
    line = one_problem(data)
    assert line.startswith("test.yaml: actors.Q.salinece: unknown field; expected one of: name,")
    assert "salience" in line


def test_duplicate_actor_ids_give_the_line() -> None:
    text = "name: x\nactors:\n  A: {name: a}\n  A: {name: b}\n"
    with pytest.raises(ScenarioError) as info:
        from sim.scenario.loader import read_yaml

        read_yaml(text, "dup.yaml")
    assert str(info.value) == (
        "dup.yaml: YAML error at line 4, column 3: duplicate key 'A' (first at line 3); "
        "ids must be unique"
    )


def test_duplicate_council_members(data: dict) -> None:
    data["council"]["members"] = ["P", "E", "Q", "Q"]
    assert one_problem(data) == "test.yaml: council.members: duplicate id 'Q'"


def test_penholder_off_the_council(data: dict) -> None:
    data["council"]["penholder"] = "T"
    assert one_problem(data) == (
        "test.yaml: council.penholder: the penholder must sit on the Council, got 'T'"
    )


def test_votes_needed_larger_than_the_council(data: dict) -> None:
    data["council"]["votes_needed"] = 4
    assert one_problem(data) == (
        "test.yaml: council.votes_needed: expected at most the 3 Council members, got 4"
    )


@pytest.mark.parametrize(
    ("dist", "message"),
    [
        ({"dist": "triangular", "low": 0.6, "mode": 0.2, "high": 0.9},
         "triangular needs low <= mode <= high with low < high, got low=0.6, mode=0.2, high=0.9"),
        ({"dist": "uniform", "low": 0.5, "high": 0.5},
         "uniform needs low < high, got low=0.5, high=0.5"),
        ({"dist": "normal", "mean": 0.5, "sd": -1, "clip": [0, 1]}, "normal needs sd > 0, got sd=-1.0"),
        ({"dist": "beta", "a": 0, "b": 2}, "beta needs a > 0 and b > 0, got a=0.0, b=2.0"),
        ({"dist": "triangular", "low": 0.5, "mode": 0.9, "high": 1.3},
         "expected a distribution within a number in [0, 1], got triangular(low=0.5, mode=0.9, high=1.3)"),
        ({"dist": "normal", "mean": 0.5, "sd": 0.1},
         "expected draws in [0, 1]: give the normal a clip, got normal(mean=0.5, sd=0.1, clip=None)"),
        ({"dist": "choice", "values": [0.1, 0.2], "p": [0.5, 0.6]},
         "choice p must be non-negative and sum to 1, got [0.5, 0.6]"),
        ({"dist": "poisson", "lam": 3}, "expected dist to be one of triangular, uniform, normal, beta, choice, got 'poisson'"),
    ],
)  # fmt: skip
def test_impossible_distributions(data: dict, dist: dict, message: str) -> None:
    data["actors"]["E"]["capability"] = dist
    assert one_problem(data) == f"test.yaml: actors.E.capability: {message}"


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\ncouncil: [a, b\nactors: {}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert str(info.value).startswith("broken.yaml: YAML error at line 3")


def test_scale_ideal_must_lie_on_the_scale(data: dict) -> None:
    data["clauses"]["months"] = {
        "label": "Duration", "kind": "scale", "min": 6, "max": 24, "step": 6,
        "template": "For {value} months;",
    }  # fmt: skip
    data["actors"]["E"]["ideal"]["months"] = 48
    data["actors"]["E"]["salience"]["months"] = 0.2
    assert one_problem(data) == (
        "test.yaml: actors.E.ideal.months: expected a value on the scale 6..24 in steps of 6, "
        "got 48"
    )
    data["actors"]["E"]["ideal"]["months"] = 20  # inside the range, between two steps
    assert one_problem(data) == (
        "test.yaml: actors.E.ideal.months: expected a value on the scale 6..24 in steps of 6, "
        "got 20"
    )
    data["actors"]["E"]["ideal"]["months"] = 18
    Scenario.from_data(data, "test.yaml")  # on a step: fine
    # an uncertain ideal may fall between steps, but not off the scale
    data["actors"]["E"]["ideal"]["months"] = {"dist": "uniform", "low": 7, "high": 20}
    Scenario.from_data(data, "test.yaml")
    data["actors"]["E"]["ideal"]["months"] = {"dist": "uniform", "low": 7, "high": 30}
    assert "actors.E.ideal.months" in one_problem(data)


def test_ties_must_sum_to_at_most_one(data: dict) -> None:
    data["actors"]["E"]["ties"] = {"P": 0.7, "Q": {"dist": "uniform", "low": 0.1, "high": 0.5}}
    assert (
        one_problem(data)
        == "test.yaml: actors.E.ties: expected tie weights summing to at most 1, got 1.2"
    )


def test_missing_required_field(data: dict) -> None:
    del data["actors"]["Q"]["capability"]
    assert one_problem(data) == "test.yaml: actors.Q.capability: required field is missing"


def test_every_problem_of_a_kind_is_reported_at_once(data: dict) -> None:
    data["actors"]["E"]["salience"]["mandate"] = 2
    data["actors"]["Q"]["capability"] = "high"
    assert len(problems(data)) == 2
    clean = copy.deepcopy(data)
    clean["actors"]["E"]["salience"]["mandate"] = 0.5
    clean["actors"]["Q"]["capability"] = 0.5
    clean["council"]["penholder"] = "T"
    clean["actors"]["E"]["ties"] = {"XYZ": 0.1}
    assert len(problems(clean)) == 2  # cross-references are checked once the shape is right


def test_override_sets_a_dotted_path(data: dict) -> None:
    changed = apply_override(data, "actors.P.salience.lead", 0.1, "x.yaml")
    assert changed["actors"]["P"]["salience"]["lead"] == 0.1
    assert data["actors"]["P"]["salience"]["lead"] == 0.5  # the original is untouched


# --- no traceback, whatever the file holds ------------------------------------------------

LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
    st.text(max_size=5), st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries({"dist": st.sampled_from(["triangular", "uniform", "beta", "x"])}),
)  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_scenarios_give_error_lines_never_tracebacks(
    data: dict, tmp_path: Path, capsys: pytest.CaptureFixture, draw: st.DataObject
) -> None:
    mutated = copy.deepcopy(data)
    for _ in range(draw.draw(st.integers(1, 3))):
        paths = _paths(mutated)
        path = draw.draw(st.sampled_from(paths))
        node = mutated
        for key in path[:-1]:
            node = node[key]
        action = draw.draw(st.sampled_from(["replace", "delete"]))
        if action == "delete" and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = draw.draw(LEAVES)
    target = tmp_path / "mutant.yaml"
    target.write_text(yaml.safe_dump(mutated))
    code = main(["validate", str(target)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code in (0, 2)
    if code == 2:
        assert err and all(line.startswith("mutant.yaml: ") for line in err.splitlines())
    else:
        assert out.strip().endswith(": ok")


def test_option_labels_must_name_options(data: dict) -> None:
    data["clauses"]["lead"]["labels"] = {"regional": "Regional", "eu": "European"}
    assert one_problem(data) == (
        "test.yaml: clauses.lead.labels.eu: unknown option 'eu'; expected one of: regional, un"
    )
