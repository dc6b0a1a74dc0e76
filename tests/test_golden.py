"""Golden results: `stabsim run --json` on a few seeds of every bundled scenario, and a small
sweep's summary.json, pinned byte for byte.

These files were first written before the package was reorganised into layers, so that moving
code could not change a result unnoticed. A golden file may change only in a commit that says
why (a model change the backtest shows is better, a new output key). The first protocol,
``penholder-v1``, is pinned too: its results are those of the model before the negotiation
was rebuilt. To rewrite them
after such a change: ``STABSIM_WRITE_GOLDEN=1 pytest tests/test_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import SCENARIOS

GOLDEN = Path(__file__).parent / "golden"
RUNS = [
    (name, seed) for name in ("gaza_isf_2025", "haiti_mss_2023", "minimal") for seed in (1, 2, 7)
]
PROTOCOLS = [None, "penholder-v1"]  # the default, and the first protocol kept for comparison
WRITE = bool(os.environ.get("STABSIM_WRITE_GOLDEN"))


def _check(path: Path, text: str) -> None:
    if WRITE:
        path.write_text(text)
    assert path.exists(), f"{path.name} missing: run with STABSIM_WRITE_GOLDEN=1 once"
    assert text == path.read_text(), f"{path.name} differs from its golden copy"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(("name", "seed"), RUNS)
def test_run_json_is_unchanged(
    name: str, seed: int, protocol: str | None, capsys: pytest.CaptureFixture
) -> None:
    args = ["run", str(SCENARIOS / f"{name}.yaml"), "--seed", str(seed), "--json"]
    suffix = ""
    if protocol:
        args += ["--protocol", protocol]
        suffix = f"-{protocol}"
    assert main(args) == 0
    _check(GOLDEN / f"run-{name}-{seed}{suffix}.json", capsys.readouterr().out)


def test_sweep_summary_is_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(SCENARIOS / "gaza_isf_2025.yaml"), "--runs", "300", "--seed", "5",
            "--workers", "1", "--chunk-size", "50", "--out", str(out), "--quiet",
            "--vary", "actors.FRA.salience.leadership=0.2:0.8:2"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    _check(GOLDEN / "sweep-gaza-summary.json", json.dumps(summary, indent=1, sort_keys=True) + "\n")


def test_sensitivity_result_is_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "sens"
    args = ["sensitivity", str(SCENARIOS / "gaza_isf_2025.yaml"), "--method", "morris",
            "--base-runs", "4", "--replicates", "3", "--swing-runs", "5", "--seed", "3",
            "--params", "force.troops_required", "--params", "actors.IDN.troops.max=2000:20000",
            "--workers", "1", "--out", str(out), "--quiet", "--no-charts"]  # fmt: skip
    assert main(args) == 0
    result = json.loads((out / "sensitivity.json").read_text())
    _check(GOLDEN / "sensitivity-gaza.json", json.dumps(result, indent=1, sort_keys=True) + "\n")
