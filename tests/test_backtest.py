"""The track record: scores, baselines, the absent-member rule, calibration and the library."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import baselines as bl
from sim.analysis.scores import brier, clause_matches, log_score, modal_match, reliability
from sim.cli import main
from sim.errors import ScenarioError
from sim.experiments import calibration as cal
from sim.model import voting as vt
from sim.model.simulate import run
from sim.scenario.compiled import Scenario, load_scenario
from tests.conftest import SCENARIOS

HISTORY = sorted((SCENARIOS / "history").glob("*.yaml"))


# --- scores on hand-computed cases ---------------------------------------------------------------


def test_a_perfect_forecast_scores_zero_and_a_uniform_one_two_thirds() -> None:
    observed = np.array([0, 2, 1])
    perfect = np.eye(3)[observed]
    assert brier(perfect, observed).tolist() == [0.0, 0.0, 0.0]
    assert log_score(perfect, observed) == pytest.approx([0.0, 0.0, 0.0])
    uniform = np.full((3, 3), 1 / 3)
    assert brier(uniform, observed) == pytest.approx([2 / 3] * 3)
    assert log_score(uniform, observed) == pytest.approx([math.log(3)] * 3)
    # a confident wrong forecast: Brier 2, log score at the floor
    assert brier(np.array([[1.0, 0, 0]]), np.array([2]))[0] == 2.0
    assert log_score(np.array([[1.0, 0, 0]]), np.array([2]))[0] == pytest.approx(-math.log(0.005))
    # by hand: p = (0.5, 0.3, 0.2), observed abstain: 0.25 + 0.49 + 0.04
    assert brier(np.array([[0.5, 0.3, 0.2]]), np.array([1]))[0] == pytest.approx(0.78)


def test_modal_match_shares_credit_among_ties() -> None:
    assert modal_match(np.full((1, 3), 1 / 3), np.array([2]))[0] == pytest.approx(1 / 3)
    assert modal_match(np.array([[0.6, 0.3, 0.1]]), np.array([0]))[0] == 1.0
    assert modal_match(np.array([[0.6, 0.3, 0.1]]), np.array([1]))[0] == 0.0
    assert modal_match(np.array([[0.5, 0.5, 0.0]]), np.array([1]))[0] == 0.5


def test_reliability_bins_known_forecasts() -> None:
    p = np.array([[0.95, 0.05, 0.0], [0.15, 0.85, 0.0]])
    rows = reliability(p, np.array([0, 0]))
    top = rows[9]  # 0.95 (happened) and 0.85 (did not)
    assert top["n"] == 1 and top["observed"] == 1.0
    assert rows[8]["n"] == 1 and rows[8]["observed"] == 0.0 and rows[8]["predicted"] == 0.85
    assert rows[0]["n"] == 3 and rows[0]["observed"] == 0.0  # 0.05, 0.0, 0.0
    assert sum(r["n"] for r in rows) == 6


@given(st.lists(st.floats(0, 1), min_size=3, max_size=3), st.integers(0, 2))
def test_brier_is_between_zero_and_two_for_any_distribution(w: list[float], o: int) -> None:
    p = np.array(w) + 1e-9
    p = p / p.sum()
    b = brier(p[None, :], np.array([o]))[0]
    assert 0 <= b <= 2 + 1e-9


def test_clause_matches_counts_only_known_clauses() -> None:
    assert clause_matches({"a": "x", "b": "y", "c": "z"}, {"a": "x", "c": "w"}) == (1, 2)
    assert clause_matches({"duration": "12"}, {"duration": 12}) == (1, 1)


# --- the vote rule with absent members -------------------------------------------------------------


def test_nine_yes_are_still_needed_and_an_absent_permanent_member_is_not_a_veto() -> None:
    veto = np.array([True] * 5 + [False] * 10)
    votes = np.array([vt.ABSENT] + [vt.YES] * 8 + [vt.ABSTAIN] * 6)
    assert not vt.is_adopted(votes, veto, 9)  # eight yes: short, absent or not
    votes[9] = vt.YES
    assert vt.is_adopted(votes, veto, 9) and not vt.is_vetoed(votes, veto, 9)
    votes[1] = vt.NO  # a present permanent member's no is a veto
    assert not vt.is_adopted(votes, veto, 9) and not vt.is_vetoed(votes, veto, 9)  # 8 yes now
    votes[10] = vt.YES
    assert vt.is_vetoed(votes, veto, 9)
    assert vt.tally(np.where(votes == vt.NO, vt.ABSENT, votes))["absent"] == 2


def test_an_absent_permanent_member_never_vetoes_in_a_run(data: dict) -> None:
    """The minimal case with its permanent member P set to veto everything (and a penholder
    that tables whatever its chances): present, P vetoes; absent, it cannot."""
    data["actors"]["P"]["red_lines"] = {"mandate": ["welcomes", "endorses", "authorizes"]}
    data["negotiation"].update(tabling_threshold=0.0, withdraw_threshold=0.0)
    vetoed = Scenario.from_data(data)
    assert run(vetoed, seed=1).outcome == "vetoed"
    data["council"]["absent"] = ["P"]
    absent = Scenario.from_data(data)
    result = run(absent, seed=1)
    assert result.outcome == "adopted" and result.votes["P"] == "absent"
    assert result.tally == {"yes": 2, "abstain": 0, "no": 0, "absent": 1}


def test_a_no_short_of_nine_votes_is_a_failure_not_a_veto(tmp_path: Path) -> None:
    """Council practice (S/2014/916, 8-2-5): the file records it failed; vetoed is refused."""
    path = HISTORY[[p.stem for p in HISTORY].index("palestine_end_occupation_2014")]
    data = yaml.safe_load(path.read_text())
    assert data["observed"]["outcome"] == "failed"
    data["observed"]["outcome"], data["observed"]["vetoed_by"] = "vetoed", ["USA"]
    with pytest.raises(ScenarioError, match=r"observed.outcome: .*make it failed, got vetoed"):
        Scenario.from_data(data, "x.yaml")


# --- baselines --------------------------------------------------------------------------------------


def test_stance_and_opening_draft_baselines_on_the_minimal_case(data: dict) -> None:
    """By hand: the opening draft is E's ideal (authorizes, regional); P's status quo 0.9 is
    sceptical (>= 0.6): abstain; Q (0.3) and E (0.4): yes. Two yes of three, two needed, no
    veto: adopted."""
    sc = Scenario.from_data(data)
    assert sc.space.describe(bl.opening_text(sc)) == {"mandate": "authorizes", "lead": "regional"}
    assert bl.stance_votes(sc).tolist() == [vt.ABSTAIN, vt.YES, vt.YES]  # members P, E, Q
    f = bl.stance(sc)
    assert f.outcome.tolist() == [1, 0, 0, 0]  # adopted
    data["actors"]["P"]["red_lines"] = {"lead": ["regional"]}  # now P's no: a veto? 2 yes -> yes
    f = bl.stance(Scenario.from_data(data))
    assert bl.stance_votes(Scenario.from_data(data))[0] == vt.NO and f.outcome.tolist() == [
        0,
        1,
        0,
        0,
    ]
    assert bl.everyone_yes(sc).votes[:, 0].tolist() == [1, 1, 1]
    assert bl.uniform(sc).outcome.tolist() == [0.25] * 4


# --- calibration recovers what generated the votes -----------------------------------------------


def _synthetic_cases(theta: dict[str, float], n_cases: int, seed: int) -> list[cal.CaseData]:
    """Cases whose recorded votes were drawn from the vote rule with ``theta``: the world that
    happened is one of each case's runs."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        runs, m = 20, 15
        gap = rng.normal(rng.uniform(-0.4, 0.2), 0.25, size=(1, m)) + rng.normal(0, 0.02, (runs, m))
        f = {"gap": gap, "red": np.zeros((runs, m), bool), "consent": np.ones(runs, bool),
             "stance": np.zeros((runs, 0)), "sovereignty": np.zeros((runs, m)),
             "tabled": np.zeros(runs, bool)}  # fmt: skip
        f.update({f"d{key}": f[key] for key in ("gap", "red", "consent", "stance")})
        permanent = np.array([True] * 5 + [False] * 10)
        d = cal.CaseData(f"c{k}", f, permanent, np.ones(m, bool), np.zeros((0, m), bool),
                         np.zeros((0, m), bool), np.zeros(0), np.ones(m, bool), np.zeros(m, int),
                         3, 9)  # fmt: skip
        p_yes, p_no = cal.vote_probs(theta, d)
        r, u = rng.integers(runs), rng.random(m)
        votes = np.where(u < p_yes[r], 0, np.where(u >= 1 - p_no[r], 2, 1))
        cases.append(cal.CaseData(**{**d.__dict__, "votes": votes}))
    return cases


@pytest.mark.slow
@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10_000))
def test_calibration_recovers_the_parameters_that_made_the_votes(seed: int) -> None:
    truth = {"vote_noise": 0.08, "abstain_band": 0.25, "veto_cost": 0.3}
    cases = _synthetic_cases(truth, 120, seed)
    start = {"vote_noise": 0.2, "abstain_band": 0.05, "veto_cost": 0.05}
    fitted = cal.fit(cases, start)
    assert fitted["vote_noise"] == pytest.approx(0.08, abs=0.03)
    assert fitted["abstain_band"] == pytest.approx(0.25, abs=0.06)
    assert fitted["veto_cost"] == pytest.approx(0.3, abs=0.15)
    assert cal.scores(fitted, cases)["vote_log"] <= cal.scores(start, cases)["vote_log"]


# --- the library ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", HISTORY, ids=[p.stem for p in HISTORY])
def test_every_library_case_validates_runs_and_says_its_record_was_not_used(path: Path) -> None:
    text = path.read_text()
    words = " ".join(text.replace("#", " ").split())  # the sentence may wrap across comments
    assert "Its observed: block was not used to set its preferences." in words
    sc = load_scenario(path)
    assert sc.spec.observed is not None and sc.spec.observed.independent
    result = run(sc, seed=3)
    assert result.outcome in ("adopted", "vetoed", "failed", "withdrawn", "no_agreement")


def test_the_library_holds_failed_drafts_and_adopted_resolutions() -> None:
    outcomes = [load_scenario(p).spec.observed.outcome for p in HISTORY]  # type: ignore[union-attr]
    assert len(HISTORY) == 13
    assert outcomes.count("adopted") == 8 and outcomes.count("vetoed") == 4
    assert outcomes.count("failed") == 1


# --- the command -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_backtest_end_to_end_writes_scores_resumes_and_adds_a_track_record_page(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    cases = [
        str(SCENARIOS / "minimal.yaml"),
        str(SCENARIOS / "history" / "ukraine_annexation_2022.yaml"),
    ]
    minimal = yaml.safe_load((SCENARIOS / "minimal.yaml").read_text())
    minimal["observed"] = {"outcome": "adopted", "votes": {"E": "yes", "P": "abstain", "Q": "yes"},
                           "text": {"mandate": "endorses"}}  # fmt: skip
    (tmp_path / "minimal.yaml").write_text(yaml.safe_dump(minimal))
    cases[0] = str(tmp_path / "minimal.yaml")
    out = tmp_path / "bt"
    argv = ["backtest", *cases, "--runs", "30", "--out", str(out), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Track record: 2 cases (2 independent)" in printed and "stance" in printed
    result = json.loads((out / "backtest.json").read_text())
    assert result["schema"] == "stabsim-backtest/1" and len(result["cases"]) == 2
    m = result["cases"][0]["model"]
    # the minimal case has no vote noise: every run adopts "endorses, regional" 2-0-1
    assert m["outcome"]["p_real"] == 1.0 and m["text"]["matched"] == 1
    assert result["cases"][0]["members"]["P"]["p"]["abstain"] == 1.0
    assert result["cases"][0]["model"]["votes"]["brier"] == 0.0
    assert main([*argv, "--resume"]) == 0  # complete: nothing to redo
    assert main(["sweep", cases[0], "--runs", "20", "--out", str(tmp_path / "s"), "--quiet",
                 "--workers", "1"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["report", str(tmp_path / "s"), "--backtest", str(out), "--format", "html"]) == 0
    html = (tmp_path / "s" / "briefing.html").read_text()
    assert "Track record" in html and 'id="track-record-reliability"' in html


def test_a_file_without_a_record_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["backtest", str(SCENARIOS / "minimal.yaml"), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.endswith("no observed: block (the backtest needs what happened)")
    assert "\n" not in err and not (tmp_path / "x").exists()
