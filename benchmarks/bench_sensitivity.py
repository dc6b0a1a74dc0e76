"""What a Sobol' analysis of 10 Gaza parameters costs: runs, and minutes on 2 local cores,
measured on a smaller design of the same shape; then the full design's minutes on 2 cores and
on Dask clusters of K single-threaded workers, extrapolated from the measured cost per run.

Prints a Markdown table for the README ("What-if analysis"); asserts nothing.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.experiments.runner import Execution
from sim.experiments.sensitivity import SensitivityConfig, run

ROOT = Path(__file__).resolve().parent.parent
GAZA = ROOT / "scenarios" / "gaza_isf_2025.yaml"
PARAMS = [
    "actors.RUS.vote.veto_cost", "actors.CHN.vote.veto_cost", "actors.USA.status_quo",
    "actors.FRA.salience.leadership", "actors.GBR.salience.mandate", "actors.ISR.status_quo",
    "actors.IDN.troops.max", "actors.IDN.troops.delivery", "actors.ARE.troops.max",
    "force.troops_required",
]  # fmt: skip
D, REPLICATES, SWING = len(PARAMS), 8, 200
MEASURED_N, FULL_N = 64, 512


def runs_of(n: int) -> int:
    """Sobol' without second order: N (D + 2) points x R runs, plus (2D + 1) swing points."""
    return n * (D + 2) * REPLICATES + (2 * D + 1) * SWING


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = SensitivityConfig(scenario=GAZA, params=PARAMS, base_runs=MEASURED_N,
                                replicates=REPLICATES, swing_runs=SWING)  # fmt: skip
        t0 = time.perf_counter()
        report = run(cfg, Execution(out=Path(tmp) / "s", workers=2, progress="none"))
        wall = time.perf_counter() - t0
    per_run_2 = report.seconds / report.runs  # wall seconds per run on 2 processes
    per_run_1 = 2 * per_run_2  # CPU seconds per run (both cores busy)
    full = runs_of(FULL_N)
    print(f"measured: N={MEASURED_N}, {report.runs:,} runs in {report.seconds:.1f} s on 2 "
          f"processes ({report.runs / report.seconds:,.0f} runs/s; {wall:.1f} s with setup "
          f"and analysis); {1000 * per_run_1:.2f} ms of CPU per run")  # fmt: skip
    print()
    print("| design | runs | 2 local cores | Dask, 16 workers | Dask, 64 workers |")
    print("|---|---|---|---|---|")
    for n, how in ((MEASURED_N, "measured"), (FULL_N, "extrapolated")):
        r = runs_of(n)
        cells = [f"{r * per_run_2 / 60:.1f} min" + (" (measured)" if how == "measured" else "")]
        cells += [f"{r * per_run_1 / k / 60:.2f} min" for k in (16, 64)]
        print(
            f"| N={n}, D={D}, R={REPLICATES}, swings {SWING} | {r:,} | " + " | ".join(cells) + " |"
        )
    print(f"\nfull design: {full:,} runs")


if __name__ == "__main__":
    main()
