"""Small real sweeps for the chart and briefing tests: the Gaza case with paths, grids of one
and two axes, and the edge cases (every run vetoed, a single run, no contributors, a grid of
one point, every run withdrawn so that nothing is voted). Session-scoped: each sweep runs once,
in this process (``workers=1``)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import runs

ROOT = Path(__file__).resolve().parent.parent
GAZA = ROOT / "scenarios" / "gaza_isf_2025.yaml"
MINIMAL = ROOT / "scenarios" / "minimal.yaml"


def _sweep(base: Path, name: str, data: Any | None = None, **kw: Any) -> Path:
    scenario = kw.pop("scenario", None)
    if scenario is None:
        scenario = base / f"{name}.yaml"
        scenario.write_text(yaml.safe_dump(data, sort_keys=False))
    out = base / name
    runs.sweep(scenario, out, command=f"stabsim sweep ({name})", **kw)
    return out


def _minimal() -> dict[str, Any]:
    return yaml.safe_load(MINIMAL.read_text())


_BUILT: dict[str, Path] = {}


def build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every sweep the report tests use, by name; built once per test session."""
    if not _BUILT:
        _BUILT.update(_build(tmp_path_factory.mktemp("report-sweeps")))
    return _BUILT


def _build(base: Path) -> dict[str, Path]:
    out = {"gaza": _sweep(base, "gaza", scenario=GAZA, runs=300, seed=3, paths=True)}
    noisy = _minimal()
    for a in noisy["actors"].values():
        a["vote"] = {**a.get("vote", {}), "noise": 0.1}
    out["grid1"] = _sweep(base, "grid1", noisy, runs=60, vary=["actors.P.status_quo=0.3:1.0:3"])
    out["grid2"] = _sweep(base, "grid2", noisy, runs=30,
                          vary=["actors.P.status_quo=0.3:1.0:2", "actors.Q.status_quo=0.2:0.8:2"])  # fmt: skip
    vetoed = _minimal()
    vetoed["actors"]["P"].update(
        status_quo=1.0,
        vote={"noise": 0, "abstain_band": 0, "veto_cost": 0},
        red_lines={"lead": ["regional", "un"]},
    )
    vetoed["negotiation"].update(withdraw_threshold=0.0, tabling_threshold=0.0)
    out["vetoed"] = _sweep(base, "vetoed", vetoed, runs=20, paths=True)
    out["single"] = _sweep(base, "single", _minimal(), runs=1, paths=True)
    nocontrib = _minimal()
    del nocontrib["actors"]["T"]["troops"]
    nocontrib["force"] = {"troops_required": 800}
    out["nocontrib"] = _sweep(base, "nocontrib", nocontrib, runs=20)
    out["onepoint"] = _one_point(out["grid1"], base / "onepoint")
    withdrawn = _minimal()  # the penholder prefers nothing to any text P's red lines leave
    withdrawn["actors"]["P"].update(status_quo=1.0, red_lines={"lead": ["regional", "un"]})
    withdrawn["actors"]["E"].update(status_quo=1.0)
    withdrawn["negotiation"].update(withdraw_threshold=0.5, tabling_threshold=0.9)
    out["withdrawn"] = _sweep(base, "withdrawn", withdrawn, runs=20, paths=True)
    return out


def _one_point(grid: Path, out: Path) -> Path:
    """A grid sweep cut down to its first point (the CLI needs two steps per axis; a sweep
    driven from the library, or an edited summary, may hold one)."""
    shutil.copytree(grid, out)
    summary = json.loads((out / "summary.json").read_text())
    summary["points"] = summary["points"][:1]
    for axis in summary["grid_axes"]:
        axis["values"] = axis["values"][:1]
    (out / "summary.json").write_text(json.dumps(summary))
    manifest = json.loads((out / "manifest.json").read_text())  # the edit is deliberate: reseal
    if isinstance(manifest.get("checksums"), dict):
        digest = hashlib.sha256((out / "summary.json").read_bytes()).hexdigest()
        manifest["checksums"]["summary.json"] = digest
        (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def vetoed_everywhere(summary: dict[str, Any]) -> bool:
    return summary["points"][0]["outcomes"]["vetoed"]["p"] == 1
