"""Time per protocol: DEU III, all issues x 10 runs, and one run of each bundled scenario.

Prints figures; not a test. Run: .venv/bin/python benchmarks/bench_protocols.py [DEU_FILE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sim.experiments import deu
from sim.experiments.runner import run_seeds
from sim.model.protocols import REGISTRY
from sim.model.protocols.expected_utility import EUConfig, ExpectedUtilityProtocol
from sim.model.simulate import run
from sim.scenario.compiled import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "deu3_public.tsv"


def timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if path.is_file():
        data = deu.load_deu(path)
        print(f"DEU III, {len(data.outcome)} issues x 10 runs (one core)")
        for name in REGISTRY:
            print(f"  {name:<18} {timed(lambda n=name: deu.predict(data, n, 10)):7.2f} s")
        lottery = ExpectedUtilityProtocol(EUConfig(conflict="lottery"))
        x, act = data.position / 100.0, data.salience > 0
        c = (data.capability / data.capability.max())[None, :].repeat(len(x), 0)
        s = data.salience / 100.0
        secs = timed(
            lambda: lottery.forecast_scale(x.copy(), c, s, act & ~(x != x), run_seeds(1, 10))
        )
        print(f"  {'expected-utility, lottery conflicts (every run played)':<18} {secs:7.2f} s")
    else:
        print(f"{path}: not found; skipping the DEU benchmark")
    for sc_path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(sc_path)
        for name in REGISTRY:
            secs = timed(lambda n=name, sc=sc: [run(sc, seed=k, protocol=n) for k in range(20)])
            print(f"  {sc_path.name} {name:<18} {secs / 20 * 1e3:7.1f} ms per run")


if __name__ == "__main__":
    main()
