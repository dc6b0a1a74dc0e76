"""Parameters in words: every path the catalogue of a bundled scenario holds reads as words,
with the actor's name; unknown shapes keep their dotted path."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.folders import Labels, labels_of
from sim.analysis.naming import (
    condition_words,
    parameter_words,
    possessive,
    setting_words,
    value_words,
)
from sim.scenario.compiled import load_scenario
from tests.conftest import BUNDLED, SCENARIOS

FILES = [*BUNDLED, *sorted((SCENARIOS / "history").glob("*.yaml"))]


@cache
def _catalogue(i: int) -> tuple[Labels, tuple[str, ...]]:
    sc = load_scenario(FILES[i])
    return labels_of(sc), tuple(sc.catalogue)


@pytest.fixture(scope="module")
def gaza() -> Labels:
    return labels_of(load_scenario(SCENARIOS / "gaza_isf_2025.yaml"))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_catalogue_path_reads_as_words_with_the_actors_name(data):
    labels, paths = _catalogue(data.draw(st.integers(0, len(FILES) - 1)))
    path = data.draw(st.sampled_from(paths))
    words = parameter_words(path, labels)
    assert words != path and "." not in words, (path, words)
    assert "_" not in words, (path, words)
    parts = path.split(".")
    if parts[0] == "actors":
        assert labels.name(parts[1]) in words
        if parts[2] == "ties":
            assert labels.name(parts[3]) in words
        if parts[2] in ("salience", "ideal", "utility"):
            clause = next(c for c in labels.clauses if c.id == parts[3])
            assert clause.label.lower() in words.lower()


def test_the_issue_examples(gaza):
    assert parameter_words("actors.FRA.salience.leadership", gaza) == (
        "France's salience on force leadership"
    )
    assert parameter_words("actors.RUS.status_quo", gaza) == (
        "Russian Federation's value of no resolution"
    )
    assert parameter_words("actors.IDN.ideal.mandate", gaza) == "Indonesia's ideal mandate strength"
    assert parameter_words("actors.EGY.troops.max", gaza) == "Egypt's troop pledge"
    assert parameter_words("actors.USA.vote.noise", gaza) == "United States' vote noise"
    assert parameter_words("actors.USA.ties.ISR", gaza) == "United States' tie to Israel"
    assert parameter_words("actors.ISR.red_lines.leadership", gaza) == (
        "Israel's red lines on force leadership"
    )
    assert parameter_words("actors.FRA.utility.leadership.european", gaza) == (
        "France's utility of European-led (force leadership)"
    )
    assert parameter_words("behaviour.vote_noise", gaza) == "vote noise (every member)"
    assert parameter_words("force.troops_required", gaza) == "troops the force needs"
    assert parameter_words("negotiation.max_rounds", gaza).startswith("rounds of negotiation")
    assert parameter_words("negotiation.opening_draft.mandate", gaza) == (
        "the opening draft's mandate strength"
    )


def test_unknown_shapes_and_ids_stay_as_written(gaza):
    assert parameter_words("clauses.duration.max", gaza) == "clauses.duration.max"
    assert parameter_words("actors.FRA.nonsense", gaza) == "actors.FRA.nonsense"
    assert parameter_words("actors.XYZ.status_quo", gaza) == "XYZ's value of no resolution"
    assert parameter_words("actors.FRA.salience.leadership") == "FRA's salience on leadership"


def test_values_and_settings_in_words(gaza):
    assert setting_words("actors.FRA.salience.leadership", "0.2", gaza) == (
        "France's salience on force leadership is 0.2"
    )
    assert value_words("actors.USA.ideal.mandate", "authorizes", gaza) == "authorizes"
    assert value_words("actors.USA.ideal.chapter_vii", "silent", gaza) == "no Chapter VII"
    assert value_words("negotiation.opening_draft.duration", 12, gaza) == "12 months"
    assert value_words("actors.ARE.troops.max", 2000.0, gaza) == "2,000"
    assert value_words("force.refused", ["TUR", "FRA"], gaza) == "Türkiye, France"
    assert possessive("France") == "France's" and possessive("United States") == "United States'"


def test_conditions_in_words(gaza):
    bounds = {"actors.IDN.troops.max": [8000.5, float("inf")],
              "actors.FRA.salience.leadership": [0.25, 0.6]}  # fmt: skip
    assert condition_words(bounds, gaza) == [
        "0.25 < France's salience on force leadership <= 0.6",
        "Indonesia's troop pledge > 8,000",
    ]
