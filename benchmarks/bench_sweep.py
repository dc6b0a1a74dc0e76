"""Sweep benchmarks: throughput at 1 and 2 workers, mesa.batch_run on the same model, cost per
run as scenarios grow, and peak memory of a large sweep.

    python benchmarks/bench_sweep.py [--runs 10000] [--memory-runs 100000] [--skip ...]

Prints figures (a Markdown table for the README); asserts nothing. Targets (issue 3): at least
1,000 Gaza runs/s on 2 cores end to end; at least 5x mesa.batch_run; parallel efficiency at 2
workers of 85% or more; peak memory of a 100,000-run sweep under 400 MB and flat in N.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

import mesa
import numpy as np

from sim.experiments.runner import Execution, run_seed
from sim.experiments.sweep import SweepConfig, sweep
from sim.model.model import NegotiationModel
from sim.model.protocols import make_protocol
from sim.model.simulate import make_model
from sim.scenario.compiled import Scenario

ROOT = Path(__file__).resolve().parent.parent
GAZA = ROOT / "scenarios" / "gaza_isf_2025.yaml"


# --- end-to-end sweeps ---------------------------------------------------------------------------


def timed_sweep(scenario: Path, runs: int, workers: int, out: Path) -> tuple[float, float]:
    """Wall seconds of a whole sweep (start-up of the pool, runs, writing and the summary) and
    the CPU seconds it used in this process and its workers (unaffected by other load)."""
    c0, t0 = os.times(), time.perf_counter()
    sweep(SweepConfig(scenario=scenario, runs=runs),
          Execution(out=out, workers=workers, force=True, progress="none"))  # fmt: skip
    c1, wall = os.times(), time.perf_counter() - t0
    keys = ("user", "system", "children_user", "children_system")
    return wall, sum(getattr(c1, k) - getattr(c0, k) for k in keys)


# --- mesa.batch_run baseline -----------------------------------------------------------------------


@cache
def _scenario(path: str) -> Scenario:
    return Scenario.from_file(path)


class BatchNegotiation(NegotiationModel):
    """The same model, shaped for mesa.batch_run: vote and coalition after the last round, and
    a DataCollector reporting the outcome every step (batch_run reads the last step's)."""

    def __init__(self, scenario: str, seed: int):
        sc = _scenario(scenario)
        rng = np.random.default_rng(seed)
        stdlib_seed = int(rng.integers(np.iinfo(np.int32).max))  # as make_model does
        params = sc.draw(rng)
        super().__init__(sc, params, rng, make_protocol(sc.protocol), seed=seed,
                         stdlib_seed=stdlib_seed)  # fmt: skip
        self.result = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "outcome": lambda m: m.result.outcome if m.result else None,
                "viable": lambda m: m.result.viable if m.result else None,
                "delivered_troops": lambda m: m.result.delivered_troops if m.result else None,
            }
        )

    def step(self) -> None:
        super().step()
        if not self.running:
            self.result = self._result(self.vote())
        self.datacollector.collect(self)


def timed_batch_run(scenario: Path, runs: int, processes: int) -> float:
    seeds = [run_seed(1, i) for i in range(runs)]
    t0 = time.perf_counter()
    rows = mesa.batch_run(
        BatchNegotiation,
        {"scenario": str(scenario), "seed": seeds},
        number_processes=processes,
        iterations=1,
        data_collection_period=-1,
        display_progress=False,
    )
    seconds = time.perf_counter() - t0
    assert len(rows) == runs
    return seconds


# --- cost per run as the scenario grows ---------------------------------------------------------------


def synthetic(actors: int, clauses: int, options: int = 10, seed: int = 0) -> dict:
    """A valid scenario of ``actors`` actors and ``options ** clauses`` texts (ordered clauses)."""
    rng = np.random.default_rng(seed)
    ids = [f"A{i:03d}" for i in range(actors)]
    members = ids[: min(15, actors)]
    cl = {
        f"c{j}": {
            "label": f"Clause {j}",
            "kind": "ordered",
            "options": {f"o{k}": f"Option {k} of clause {j};" for k in range(options)},
        }
        for j in range(clauses)
    }
    contributors = ids[1::5]
    acts = {}
    for i, a in enumerate(ids):
        act = {
            "name": f"State {i}",
            "capability": round(float(rng.uniform(0.2, 1)), 3),
            "status_quo": {"dist": "uniform", "low": 0.2, "high": 0.6},
            "flexibility": 0.1,
            "ideal": {c: f"o{rng.integers(options)}" for c in cl},
            "salience": {c: round(float(rng.uniform(0.2, 1)), 3) for c in cl},
            "vote": {"noise": 0.05, "abstain_band": 0.1, "veto_cost": 0.1},
        }
        if a in contributors:
            act["troops"] = {
                "max": {"dist": "triangular", "low": 500, "mode": 1500, "high": 3000},
                "delivery": 0.7,
                "willingness": 0.3,
                "lead_candidate": a == contributors[0],
            }
        acts[a] = act
    return {
        "name": f"synthetic {actors} actors, {options}^{clauses} texts",
        "council": {
            "members": members,
            "veto": members[:5],
            "votes_needed": math.ceil(0.6 * len(members)),
            "penholder": members[0],
        },
        "clauses": cl,
        "actors": acts,
        "force": {"troops_required": 400 * len(contributors), "may_lead": contributors[:1]},
        "negotiation": {"max_rounds": 10},
    }


def cost_per_run(data: dict, budget: float = 1.5, most: int = 50) -> float:
    """Median seconds per run of a scenario (a warm-up run, then up to ``budget`` seconds)."""
    sc = Scenario.from_data(data, "synthetic")
    make_model(sc, 0).run()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < most and (time.perf_counter() - start < budget or len(times) < 3):
        t0 = time.perf_counter()
        make_model(sc, run_seed(1, len(times))).run()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# --- peak memory ---------------------------------------------------------------------------------------


def _pss_mb(pid: int) -> float:
    """Proportional set size of a process (shared pages split between sharers), in MB."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    return (
        next(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")) / 1024
    )


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def child_memory(runs: int, out: str, workers: int) -> None:
    """(In a child process) run a sweep while sampling memory every 50 ms; print the peaks:
    this process's resident set (VmHWM) and the total PSS of it and its workers."""
    import threading

    peak = {"total_pss_mb": 0.0}
    stop = threading.Event()

    def sample() -> None:
        me = os.getpid()
        while not stop.wait(0.05):
            total = _pss_mb(me) + sum(_pss_mb(c) for c in _children(me))
            peak["total_pss_mb"] = max(peak["total_pss_mb"], total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    sweep(SweepConfig(scenario=GAZA, runs=runs),
          Execution(out=Path(out), workers=workers, force=True, progress="none"))  # fmt: skip
    stop.set()
    sampler.join()
    status = Path("/proc/self/status").read_text()
    hwm = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"parent_mb": int(hwm.split()[1]) / 1024, **peak}))


def peak_memory(runs: int, workers: int, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child-memory", str(runs), str(out), str(workers)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = time.perf_counter() - t0
    return result


# --- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=GAZA)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--memory-runs", type=int, default=100_000)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["throughput", "batch_run", "scaling", "memory"]
    )
    parser.add_argument("--child-memory", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        runs, out, workers = args.child_memory
        child_memory(int(runs), out, int(workers))
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    rows: list[tuple[str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    name, n = args.scenario.stem, args.runs
    rate2 = None
    if "throughput" not in args.skip:
        s1, cpu1 = timed_sweep(args.scenario, n, 1, tmp / "w1")
        s2, cpu2 = timed_sweep(args.scenario, n, 2, tmp / "w2")
        r1, rate2 = n / s1, n / s2
        rows += [
            (
                f"{name}, {n:,} runs, 1 worker (end to end)",
                f"{r1:,.0f} runs/s ({s1:.1f} s; {cpu1 / n * 1e3:.2f} ms CPU per run)",
            ),
            (
                f"{name}, {n:,} runs, 2 workers (end to end)",
                f"{rate2:,.0f} runs/s ({s2:.1f} s; {cpu2 / n * 1e3:.2f} ms CPU per run)",
            ),
            ("parallel efficiency at 2 workers (wall clock)", f"{rate2 / (2 * r1):.0%}"),
            ("CPU per run at 1 worker / at 2 workers", f"{cpu1 / cpu2:.0%}"),
        ]
        print(*(f"{a}: {b}" for a, b in rows[-4:]), sep="\n", flush=True)
    if "batch_run" not in args.skip:
        sb = timed_batch_run(args.scenario, n, 2)
        rb = n / sb
        rows.append(
            (f"mesa.batch_run, same {n:,} runs, 2 processes", f"{rb:,.0f} runs/s ({sb:.1f} s)")
        )
        if rate2:
            rows.append(("stabsim sweep / mesa.batch_run (2 workers)", f"{rate2 / rb:.1f}x"))
        print(*(f"{a}: {b}" for a, b in rows[-2:]), sep="\n", flush=True)
    if "scaling" not in args.skip:
        print("\ncost per run (median ms, one core) by actors (rows) and texts (columns):")
        exps = (2, 3, 4, 5)
        print("| actors | " + " | ".join(f"10^{e} texts" for e in exps) + " |")
        print("|---:|" + "---:|" * len(exps))
        for actors in (10, 25, 50, 100, 200):
            cells = [f"{cost_per_run(synthetic(actors, e)) * 1e3:.2f}" for e in exps]
            print(f"| {actors} | " + " | ".join(cells) + " |", flush=True)
    if "memory" not in args.skip:
        small = max(args.memory_runs // 5, 1000)
        for runs in (small, args.memory_runs):
            m = peak_memory(runs, 2, tmp / f"mem{runs}")
            rows.append(
                (
                    f"peak RSS, {runs:,}-run {name} sweep, 2 workers",
                    f"parent {m['parent_mb']:.0f} MB; parent + workers {m['total_pss_mb']:.0f} MB PSS "
                    f"({runs / m['seconds']:,.0f} runs/s incl. start-up)",
                )
            )
            print(f"{rows[-1][0]}: {rows[-1][1]}", flush=True)
    print("\n| measure | result |\n|---|---|")
    for a, b in rows:
        print(f"| {a} | {b} |")


if __name__ == "__main__":
    main()
