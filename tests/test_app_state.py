"""The explorer's state without a browser: changes laid over the scenario as ``--set`` lays them,
refusals in the command line's words, the what-if file and its round trip, the levers, and the
negotiation the page steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.app import state as st
from sim.app.negotiation import ExplorerModel, draft_view, members_view, status_line
from sim.cli import main
from sim.errors import StabsimError
from sim.model.simulate import make_model
from tests.conftest import SCENARIOS

GAZA = SCENARIOS / "gaza_isf_2025.yaml"
RUS_SQ = "actors.RUS.status_quo"


def cli_error(argv: list[str], capsys) -> str:
    """What the command line prints for a refused input."""
    assert main(argv) == 2
    return capsys.readouterr().err.strip()


def same_scenario(a: sim.Scenario, b: sim.Scenario, seeds: range = range(3)) -> None:
    """Two compiled scenarios hold the same arrays and draw the same runs."""
    assert a.base.keys() == b.base.keys()
    for name in a.base:
        np.testing.assert_array_equal(a.base[name], b.base[name], err_msg=name)
    np.testing.assert_array_equal(a.red, b.red)
    assert a.max_rounds == b.max_rounds and a.protocol == b.protocol
    for seed in seeds:
        pa, pb = make_model(a, seed).params, make_model(b, seed).params
        for name in sim.scenario.compiled.ARRAY_FIELDS:
            np.testing.assert_array_equal(getattr(pa, name), getattr(pb, name), err_msg=name)


def test_a_fresh_explorer_is_the_file() -> None:
    ex = st.start("gaza")
    assert ex.base.name == "gaza_isf_2025" and ex.base.shipped
    assert ex.changes == {} and ex.errors == {} and ex.seed == 1
    same_scenario(ex.scenario, sim.load_scenario(GAZA))


def test_a_change_is_applied_as_set_applies_it_and_stays_paired() -> None:
    ex = st.change(st.start("gaza"), RUS_SQ, 0.85)
    assert ex.changes == {RUS_SQ: 0.85} and not ex.errors
    same_scenario(ex.scenario, sim.load_scenario(GAZA, {RUS_SQ: "0.85"}))
    # the distribution it fixed is still drawn: the other parameters draw as in the file
    base = sim.load_scenario(GAZA)
    changed, unchanged = make_model(ex.scenario, 4).params, make_model(base, 4).params
    rus = base.index["RUS"]
    assert changed.status_quo[rus] == 0.85 != unchanged.status_quo[rus]
    np.testing.assert_array_equal(np.delete(changed.status_quo, rus),
                                  np.delete(unchanged.status_quo, rus))  # fmt: skip
    np.testing.assert_array_equal(changed.max_troops, unchanged.max_troops)


def test_a_value_equal_to_the_files_drops_the_change() -> None:
    ex = st.change(st.start("gaza"), "actors.FRA.flexibility", 0.5)
    assert "actors.FRA.flexibility" in ex.changes
    ex = st.change(ex, "actors.FRA.flexibility", 0.25)  # the file's value
    assert ex.changes == {}
    ex = st.undo(st.change(ex, "negotiation.max_rounds", 3), "negotiation.max_rounds")
    assert ex.changes == {} and ex.scenario.max_rounds == 8


@pytest.mark.parametrize(
    ("path", "value", "typed"),
    [
        (RUS_SQ, 1.5, "1.5"),
        ("actors.RUS.ideal.mandate", "bogus", "bogus"),
        ("negotiation.max_rounds", 0, "0"),
        ("actors.XYZ.status_quo", 0.2, "0.2"),
    ],
)
def test_a_refused_value_changes_nothing_and_says_what_the_cli_says(
    path: str, value: object, typed: str, capsys
) -> None:
    before = st.change(st.start("gaza"), "actors.FRA.flexibility", 0.5)
    after = st.change(before, path, value)
    assert after.changes == before.changes and after.scenario is before.scenario
    expected = cli_error(["run", "gaza", "--set", f"{path}={typed}"], capsys)
    assert after.errors == {path: expected}
    assert "\n" not in expected and "Traceback" not in expected
    if "XYZ" not in path:  # a good value clears the message
        assert path not in st.change(after, path, after.original(path)).errors


def test_a_scenario_that_cannot_open_says_what_the_cli_says(tmp_path: Path, capsys) -> None:
    with pytest.raises(StabsimError) as exc:
        st.start("nosuch")
    assert st.message(exc.value) == cli_error(["run", "nosuch"], capsys)
    broken = tmp_path / "broken.yaml"
    broken.write_text("extends: gaza\nactors: {RUS: {status_quo: 7}}\n")
    with pytest.raises(StabsimError) as exc:
        st.start(str(broken))
    line = st.message(exc.value)
    assert line == cli_error(["validate", str(broken)], capsys)
    assert line.startswith("broken.yaml, line 2: actors.RUS.status_quo:")


def test_a_seed_must_be_a_whole_number_from_zero() -> None:
    ex = st.with_seed(st.start("gaza"), -1)
    assert ex.seed == 1 and ex.errors["seed"] == "--seed: expected a whole number >= 0, got -1"
    ex = st.with_seed(ex, 7)
    assert ex.seed == 7 and "seed" not in ex.errors


def whatif() -> st.Explorer:
    """Changes of every kind the levers make."""
    ex = st.start("gaza", seed=3)
    ex = st.change(ex, RUS_SQ, 0.85)  # a distribution fixed
    ex = st.change(ex, "actors.FRA.salience.leadership", 0.2)
    ex = st.set_option(ex, "actors.USA.ideal.duration", "12")  # a scale value, as a number
    ex = st.set_option(ex, "actors.USA.ideal.mandate", "authorizes")
    ex = st.set_red_line(ex, "ISR", "leadership", "european", False)  # a red line lifted
    ex = st.set_red_line(ex, "RUS", "chapter_vii", "chapter_vii", True)  # a red line drawn
    ex = st.change(ex, "actors.IDN.troops.willingness", 0.6)
    ex = st.change(ex, "negotiation.max_rounds", 5)
    ex = st.set_option(ex, "negotiation.protocol", "compromise")
    assert not ex.errors, ex.errors
    return ex


def test_the_saved_what_if_compiles_to_the_explorers_scenario(tmp_path: Path, capsys) -> None:
    ex = whatif()
    assert ex.changes["actors.USA.ideal.duration"] == 12
    assert ex.changes["actors.ISR.red_lines.leadership"] == ["un_command"]
    path = st.save(ex, tmp_path / "out" / "gaza-whatif.yaml")
    text = path.read_text()
    assert text.startswith(st.HEADER)
    assert "extends: gaza_isf_2025\n" in text
    assert "status_quo: 0.85  # changed in stabsim app (was {dist: triangular," in text
    assert "max_rounds: 5  # changed in stabsim app (was 8)" in text
    assert "chapter_vii: [chapter_vii]  # changed in stabsim app (was not set)" in text
    assert yaml.safe_load(text)["actors"]["RUS"]["status_quo"] == 0.85
    saved = sim.load_scenario(path)
    same_scenario(saved, ex.scenario)
    assert saved.kept == ex.scenario.kept and RUS_SQ in saved.kept
    assert saved.loaded is not None and saved.loaded.own == ex.changes
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"


def test_a_file_scenario_is_extended_by_its_path_from_the_saved_file(tmp_path: Path) -> None:
    mine = tmp_path / "cases" / "mine.yaml"
    mine.parent.mkdir()
    mine.write_text("extends: gaza\nactors: {CHN: {status_quo: 0.5}}\n")
    ex = st.change(st.start(str(mine)), RUS_SQ, 0.7)
    assert not ex.base.shipped
    path = st.save(ex, tmp_path / "whatifs" / "x.yaml")
    assert "extends: ../cases/mine.yaml\n" in path.read_text()
    same_scenario(sim.load_scenario(path), ex.scenario)


def test_the_file_itself_is_never_written(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: gaza\n")
    ex = st.change(st.start(str(mine)), RUS_SQ, 0.7)
    for target in (mine, GAZA):
        with pytest.raises(StabsimError, match="never writes it"):
            st.save(ex, target)
    assert mine.read_text() == "extends: gaza\n"
    with pytest.raises(StabsimError, match=r"expected a \.yaml file name"):
        st.save(ex, tmp_path / "x.txt")
    assert st.default_save_path(ex) == Path("results/mine-whatif.yaml")


def test_levers_show_the_file_and_the_changes() -> None:
    ex = st.start("gaza")
    levers = {(lv.path, lv.option): lv for lv in st.actor_levers(ex, "RUS")}
    sq = levers[(RUS_SQ, None)]
    assert sq.kind == "number" and sq.value == 0.65 and sq.drawn.startswith("triangular")
    assert (sq.low, sq.high) == (-1.0, 1.0)
    assert levers[("actors.RUS.ideal.mandate", None)].value == "endorses"
    assert levers[("actors.RUS.ideal.duration", None)].value == "12"
    assert ("actors.RUS.ideal.leadership", None) not in levers  # unordered: utilities instead
    assert not levers[("actors.RUS.red_lines.leadership", "european")].value
    assert "actors.RUS.troops.max" not in {p for p, _ in levers}  # not a contributor
    isr = {(lv.path, lv.option): lv for lv in st.actor_levers(ex, "ISR")}
    assert isr[("actors.ISR.red_lines.leadership", "european")].value
    idn = {lv.path for lv in st.actor_levers(ex, "IDN")}
    assert {"actors.IDN.troops.max", "actors.IDN.troops.willingness"} <= idn
    ex = st.change(ex, RUS_SQ, 1.5)
    sq = next(lv for lv in st.actor_levers(ex, "RUS") if lv.path == RUS_SQ)
    assert sq.error and sq.error.endswith("got 1.5") and not sq.changed
    rounds, protocol = st.scenario_levers(st.change(ex, "negotiation.max_rounds", 4))
    assert rounds.value == 4 and rounds.changed and protocol.value == "penholder"


def test_the_negotiation_the_page_steps_is_the_run_of_its_seed() -> None:
    sc = sim.load_scenario(GAZA)
    for seed in (1, 2):
        model = ExplorerModel(scenario=sc, seed=seed)
        assert model.finish().to_json() == make_model(sc, seed).run().to_json()
    model = ExplorerModel(scenario=sc, seed=1)
    opening = [p.words for p in draft_view(model)]
    assert status_line(model) == "Round 0 of at most 8: negotiating"
    model.step()
    assert status_line(model).startswith("Round 1 of at most 8")
    view = draft_view(model)
    assert [p.words for p in view] != opening
    assert all((p.before is not None) == p.changed for p in view) and any(p.changed for p in view)
    members = members_view(model)
    assert [m.code for m in members[:5]] == ["USA", "GBR", "FRA", "RUS", "CHN"]
    assert any(m.demand for m in members) and all(m.vote is None for m in members)
    result = model.finish()
    voted = {m.code: m.vote for m in members_view(model) if m.vote}
    assert voted == result.votes and status_line(model).startswith(f"Round {result.rounds}: ")
