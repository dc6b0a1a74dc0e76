"""The `make mutants` helpers (tests/mutants.py): sampling and the kill-rate tally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import mutants as mt


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ./mutants/ as mutmut leaves it: one module, eight mutants, their exit codes."""
    meta = tmp_path / "mutants" / "sim" / "model" / "voting.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {f"sim.model.voting.x_tally__mutmut_{i}": c
             for i, c in enumerate([1, 1, 3, -24, 0, 5, None, 1], start=1)}  # fmt: skip
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_tally_counts_a_timeout_as_killed_and_skips_what_was_not_run(folder: Path) -> None:
    # caught 5 (four failures and a timeout) of 7 run (a survivor and a mutant no test reached
    # count against); the one not run does not count: 5 / 7 = 71.4%
    (line,) = mt.tally([])
    assert line.startswith("sim.model.voting: killed 4, timeout 1, survived 1, no tests 1, "
                           "not run 1; kill rate 71.4% [")  # fmt: skip
    assert line.endswith("of 7 run")
    assert mt.tally(["sim.model.coalition.*"]) == []


def test_a_sample_is_seeded_and_drawn_from_the_matching_names(folder: Path) -> None:
    first = mt.sample(3, ["sim.model.voting.x_tally*"], seed=1)
    assert first == mt.sample(3, ["sim.model.voting.x_tally*"], seed=1)
    assert len(set(first)) == 3 and all(n.startswith("sim.model.voting.x_tally") for n in first)
    assert {n for s in range(20) for n in mt.sample(3, [], seed=s)} == set(mt.mutants())
    assert len(mt.sample(50, [], seed=1)) == 8  # never more than there are
