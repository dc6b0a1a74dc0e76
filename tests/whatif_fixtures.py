"""Scenarios with a known answer for the what-if tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import unanimous_data


def one_lever(path: Path) -> Path:
    """Everyone wants the same text, so it is always adopted; one contributor, M01, whose offer
    alone decides viability (viable iff its troops reach 1,000). Nothing else matters."""
    d = unanimous_data()
    d["actors"]["M01"]["troops"] = {"max": 1000, "willingness": 0.5, "lead_candidate": True}
    d["force"]["troops_required"] = 1000
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path
