"""The live odds: the same runs as ``stabsim sweep`` of the saved what-if, whatever runs the blocks;
a first estimate, then the final odds; a new job cancels the stale one; the charts."""

from __future__ import annotations

import json
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from sim.app import charts
from sim.app import odds as od
from sim.app import state as st
from tests import runs

RUS_SQ = "actors.RUS.status_quo"


@pytest.fixture(autouse=True)
def no_cache():
    """Every test computes its own odds."""
    od._CACHE.clear()
    yield
    od._CACHE.clear()


def explorer() -> st.Explorer:
    ex = st.change(st.start("gaza", seed=3), RUS_SQ, 0.9)
    return st.change(ex, "actors.CHN.vote.veto_cost", 0.0)  # vetoes happen: the odds move


def test_the_odds_are_a_sweep_of_the_saved_what_if(tmp_path: Path) -> None:
    ex = explorer()
    path = st.save(ex, tmp_path / "whatif.yaml")
    runs.sweep(path, tmp_path / "sweep", runs=60, seed=ex.seed)
    summary = json.loads((tmp_path / "sweep" / "summary.json").read_text())["points"][0]
    odds = od.compute(od.job_of(ex.scenario, ex.seed, 60), block=7)
    assert odds is not None and odds.final and odds.runs == 60
    assert odds.outcomes == summary["outcomes"]
    assert odds.viable == summary["viable"]
    assert odds.votes == summary["votes"]
    assert odds.outcomes["vetoed"]["count"] > 0  # a case where the changes matter
    base = od.compute(od.job_of(st.reset(ex).scenario, ex.seed, 60))
    assert base is not None and base.outcomes != odds.outcomes


def test_any_executor_and_block_size_give_the_same_odds() -> None:
    job = od.job_of(explorer().scenario, 3, 40)
    inline = od.compute(job, block=40)
    od._CACHE.clear()
    with ThreadPoolExecutor(3) as pool:
        threaded = od.compute(job, pool, workers=3, block=3)
    assert threaded == inline


@pytest.mark.slow
def test_a_process_pool_gives_the_same_odds() -> None:
    job = od.job_of(explorer().scenario, 3, 40)
    inline = od.compute(job)
    od._CACHE.clear()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert od.compute(job, pool, workers=2, block=10) == inline


def test_a_first_estimate_comes_before_the_final_odds() -> None:
    ex = explorer()
    job, base = od.job_of(ex.scenario, 3, 30), od.job_of(st.reset(ex).scenario, 3, 30)
    ticket = od.OddsRunner(block=5, first=10).submit(job, base)
    seen = list(ticket.updates())
    kinds = [k for k, _ in seen]
    assert kinds == ["odds", "odds", "base"]
    first, final = seen[0][1], seen[1][1]
    assert not first.final and 10 <= first.runs < 30 and first.of == 30
    assert final.final and final.runs == 30 and ticket.final == final
    assert seen[2][1] == ticket.base_odds == od.compute(base)
    assert od.cached(job) == final  # kept: the same job again is immediate


def test_a_new_job_cancels_the_stale_one() -> None:
    ex = explorer()
    started = threading.Event()
    calls: list[tuple[str, int]] = []
    real = od.tally_runs

    def counting(job: od.Job, start: int, stop: int) -> od.Tally:
        calls.append((job.key, start))
        started.set()
        return real(job, start, stop)

    stale = od.job_of(ex.scenario, 3, 400)
    fresh = od.job_of(st.reset(ex).scenario, 3, 20)
    runner = od.OddsRunner(block=5, first=400)
    od.tally_runs, saved = counting, od.tally_runs
    try:
        old = runner.submit(stale)
        assert started.wait(60)
        new = runner.submit(fresh)
        assert new.wait(120) is not None
        assert old.wait(120) is None and old.cancelled
    finally:
        od.tally_runs = saved
    assert od.cached(stale) is None  # never finished
    assert sum(k == stale.key for k, _ in calls) < 400 // 5  # stopped early
    assert new.final == od.compute(fresh)


def test_a_job_that_cannot_run_says_why_in_the_command_lines_words() -> None:
    job = od.Job({"name": "broken"}, "broken.yaml", {}, None, 1, 10)
    ticket = od.OddsRunner().submit(job)
    odds = ticket.wait(60)
    assert odds is not None and odds.final and odds.runs == 0
    lines = (odds.error or "").splitlines()  # one line per problem, as the command line says them
    assert lines and all(line.startswith("broken.yaml: ") for line in lines)
    assert "broken.yaml: council: required field is missing" in lines


def test_the_charts_draw_the_change_against_the_file() -> None:
    ex = explorer()
    o = od.compute(od.job_of(ex.scenario, 3, 30))
    b = od.compute(od.job_of(st.reset(ex).scenario, 3, 30))
    assert o is not None and b is not None
    fig = charts.odds_chart(o, b, "gaza_isf_2025", 3)
    title = fig.texts[0].get_text()
    assert title.startswith("Adopted in ") and "against the file" in title
    assert charts.change(0.5, 0.25) == "+25.0 pts" and charts.change(0.2, 0.2) == "±0 pts"
    sc = ex.scenario
    members = [sc.actor_ids[m] for m in sc.members]
    fig = charts.votes_chart(o, b, members, members[:5], "gaza_isf_2025", 3)
    assert fig.texts[0].get_text().startswith("Least likely to vote yes: ")
    assert charts.image(fig, "png", dpi=50).startswith(b"\x89PNG")
    assert b"<svg" in charts.image(fig, "svg")[:400]
