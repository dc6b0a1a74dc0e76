"""Shared fixtures: the bundled scenarios and a small scenario as plain data to mutate."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BUNDLED = sorted(SCENARIOS.glob("*.yaml"))
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def minimal_data() -> dict[str, Any]:
    return yaml.safe_load((SCENARIOS / "minimal.yaml").read_text())


@pytest.fixture
def data(minimal_data: dict[str, Any]) -> dict[str, Any]:
    """A fresh, mutable copy of minimal.yaml as plain data."""
    return copy.deepcopy(minimal_data)


def unanimous_data(n_members: int = 15, n_veto: int = 5) -> dict[str, Any]:
    """A Council where every member wants the same text: ideal 'authorizes', 'regional'."""
    ids = [f"M{i:02d}" for i in range(n_members)]
    actor = {
        "name": "member",
        "capability": 0.5,
        "status_quo": 0.3,
        "ideal": {"mandate": "authorizes"},
        "salience": {"mandate": 0.5, "lead": 0.5},
        "utility": {"lead": {"regional": 1.0, "un": 0.0}},
        "vote": {"noise": 0.01, "abstain_band": 0.1, "veto_cost": 0.1},
    }
    return {
        "name": "unanimous",
        "council": {"members": ids, "veto": ids[:n_veto], "votes_needed": 9, "penholder": ids[0]},
        "clauses": {
            "mandate": {
                "label": "Mandate",
                "kind": "ordered",
                "options": {"welcomes": "W", "endorses": "E", "authorizes": "A"},
            },
            "lead": {"label": "Lead", "kind": "unordered", "options": {"regional": "R", "un": "U"}},
        },
        "actors": {i: {**copy.deepcopy(actor), "name": f"Member {i}"} for i in ids},
        "force": {"troops_required": 1000},
    }
