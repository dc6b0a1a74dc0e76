"""The Haiti MSS 2023 scenario: it validates and its Monte Carlo runs resemble S/RES/2699."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.model.simulate import make_model
from sim.scenario.loader import load_data, validate_data

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "haiti_mss_2023.yaml"
SEEDS = range(200)


def _runs(overrides: dict | None, seeds: range) -> list[tuple[sim.Params, sim.RunResult]]:
    """Each seed's drawn parameters and its run."""
    scenario = sim.load_scenario(SCENARIO, overrides)
    models = [make_model(scenario, seed=i) for i in seeds]
    return [(m.params, m.run()) for m in models]


@pytest.fixture(scope="module")
def runs_with_params() -> list[tuple[sim.Params, sim.RunResult]]:
    return _runs(None, SEEDS)


@pytest.fixture(scope="module")
def runs(runs_with_params: list[tuple[sim.Params, sim.RunResult]]) -> list[sim.RunResult]:
    return [r for _, r in runs_with_params]


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
    assert adopted
    assert sum(r.lead == "KEN" for r in adopted) > len(adopted) / 2


def test_kenya_leads_most_viable_forces() -> None:
    """As filed, no run is viable (the record: about 1,000 of the 2,500 planned had arrived a
    year on), so the requirement is lowered to Kenya's own pledge to have viable runs to check."""
    results = [r for _, r in _runs({"force.troops_required": 1000}, range(100))]
    viable = [r for r in results if r.viable]
    assert len(viable) >= 50, Counter(r.outcome for r in results)
    assert sum(r.lead == "KEN" for r in viable) > len(viable) / 2
    assert all(r.delivered_troops >= 1000 and r.lead is not None for r in viable)


def test_troops_delivered_are_the_drawn_share_of_the_pledge(
    runs_with_params: list[tuple[sim.Params, sim.RunResult]],
) -> None:
    """Each contributor pledges its drawn maximum and delivers the drawn share of it, rounded
    down (``floor(max x delivery)``), computed here from the run's parameters; the totals are
    the sums over the coalition."""
    scenario = sim.load_scenario(SCENARIO)
    short = 0
    for params, r in runs_with_params:
        for c in r.coalition:
            i = scenario.index[c.actor]
            assert c.pledged == int(np.floor(params.max_troops[i])), (r.seed, c.actor)
            expected = int(np.floor(params.max_troops[i] * params.delivery[i]))
            assert c.delivered == expected, (r.seed, c.actor)
            short += c.delivered < c.pledged
        assert r.pledged_troops == sum(c.pledged for c in r.coalition)
        assert r.delivered_troops == sum(c.delivered for c in r.coalition)
    assert short > 0  # deliveries fall short of pledges here, so the rule is really exercised
