"""Time single runs of a scenario: the median of N runs and the split by phase.

    python benchmarks/bench_run.py [SCENARIO] [--runs 1000]

Prints figures; asserts nothing (the target, 2 ms median for the Gaza case on one core,
is quoted in the README with the machine it was measured on).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from sim.model.simulate import make_model
from sim.scenario.compiled import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/gaza_isf_2025.yaml"))
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    phases: dict[str, list[float]] = {"set-up": [], "rounds": [], "vote": [], "coalition": []}
    totals, rounds = [], []
    clock = time.perf_counter
    for seed in range(args.runs + 50):
        t0 = clock()
        model = make_model(scenario, seed)
        t1 = clock()
        while model.running:
            model.step()
        t2 = clock()
        drafts = model.vote()
        t3 = clock()
        model._result(drafts)  # forms the coalition and assembles the record
        t4 = clock()
        if seed < 50:  # warm-up
            continue
        for name, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            phases[name].append(dt)
        totals.append(t4 - t0)
        rounds.append(model.steps)
    ms = 1e3
    print(
        f"scenario {Path(args.scenario).name}: {args.runs} runs, mean {np.mean(rounds):.2f} rounds"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"median per run: {statistics.median(totals) * ms:.3f} ms "
          f"(mean {statistics.fmean(totals) * ms:.3f} ms, p95 {np.percentile(totals, 95) * ms:.3f} ms)")  # fmt: skip
    for name, values in phases.items():
        print(f"  {name:<10} median {statistics.median(values) * ms:.3f} ms")


if __name__ == "__main__":
    main()
