"""The Haiti MSS 2023 scenario: it validates and its Monte Carlo runs resemble S/RES/2699."""

from collections import Counter
from pathlib import Path

import pytest

import sim
from sim.scenario.loader import load_data, validate_data

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "haiti_mss_2023.yaml"
SEEDS = range(200)


@pytest.fixture(scope="module")
def runs() -> list[sim.RunResult]:
    scenario = sim.load_scenario(SCENARIO)
    return [sim.run(scenario, seed=i) for i in SEEDS]


def test_file_validates() -> None:
    data, source = load_data(SCENARIO)
    spec = validate_data(data, source)
    assert spec.council.penholder == "USA"
    assert {"HTI", "KEN"} <= set(spec.actors)


def test_adoption_is_the_most_common_outcome(runs: list[sim.RunResult]) -> None:
    outcomes = Counter(r.outcome for r in runs)
    assert outcomes.most_common(1)[0][0] == "adopted", outcomes


def test_kenya_leads_most_adopted_runs(runs: list[sim.RunResult]) -> None:
    adopted = [r for r in runs if r.outcome == "adopted"]
    viable = [r for r in runs if r.viable]
    assert adopted
    assert sum(r.lead == "KEN" for r in adopted) > len(adopted) / 2
    if viable:  # the record (and the model) gives few or no viable runs
        assert sum(r.lead == "KEN" for r in viable) > len(viable) / 2


def test_delivered_never_exceeds_pledged(runs: list[sim.RunResult]) -> None:
    for r in runs:
        assert r.delivered_troops <= r.pledged_troops, r.seed
        for c in r.coalition:
            assert 0 <= c.delivered <= c.pledged, (r.seed, c.actor)
