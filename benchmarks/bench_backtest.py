"""Time the whole backtest: every case of the library at 2,000 runs, on two local processes
(target: under a minute on 2 cores). Prints the wall time, runs per second and the summary
of the independent cases.

    python benchmarks/bench_backtest.py [--runs 2000] [--workers 2] [--protocol P]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim.experiments.backtest import BacktestConfig, backtest
from sim.experiments.runner import Execution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--protocol")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = backtest(BacktestConfig(runs=args.runs, protocol=args.protocol),
                          Execution(out=Path(tmp) / "b", workers=args.workers, progress="none"))  # fmt: skip
        wall = time.perf_counter() - t0
    cases = len(report.result["cases"])
    print(f"{cases} cases x {args.runs:,} runs = {report.runs:,} runs on {args.workers} "
          f"processes: {wall:.1f} s wall ({report.runs / wall:,.0f} runs/s, target < 60 s)")  # fmt: skip
    m = report.result["summary"]["independent"]["model"]
    print("independent cases: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))


if __name__ == "__main__":
    main()
