"""Running sweeps and sensitivity analyses from tests: the design's options and the execution
options (where, how many workers) in one call, as the command line takes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiments import sensitivity as se
from sim.experiments import sweep as sw
from sim.experiments.runner import Execution, Report

EXECUTION = ("workers", "scheduler", "dask_local", "resume", "force", "progress", "command")


def _split(kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    ex = {k: kw.pop(k) for k in EXECUTION if k in kw}
    ex.setdefault("workers", 1)
    ex.setdefault("progress", "none")
    return kw, ex


def sweep(scenario: Path, out: Path, backend: Any = None, **kw: Any) -> Report:
    """``stabsim sweep`` in this process (one worker unless told otherwise)."""
    cfg, ex = _split(dict(kw))
    return sw.sweep(sw.SweepConfig(scenario=scenario, **cfg), Execution(out=out, **ex), backend)


def sensitivity(scenario: Path, out: Path, **kw: Any) -> Report:
    """``stabsim sensitivity`` in this process (one worker unless told otherwise)."""
    cfg, ex = _split(dict(kw))
    return se.run(se.SensitivityConfig(scenario=scenario, **cfg), Execution(out=out, **ex))
