"""Time the explorer's live odds: from a lever change to the redrawn odds charts.

    python benchmarks/bench_app.py [SCENARIO] [--changes 5] [--runs 500] [--workers 0]

Each change moves one lever (Russia's status quo on the Gaza case, by default) to a value not
seen before, so nothing comes from the cache, and does what the page does: the change laid
over the scenario, the job of its odds submitted to the same runner, the estimates waited
for, then both charts drawn as the PNGs the page shows. The odds of the unchanged scenario
are computed once first, as the page has them when a lever first moves. ``--workers 0`` runs
the odds in the runner's own thread (one core), ``--workers 2`` in a process pool as
``stabsim app`` does on a two-core machine. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from sim.app import charts
from sim.app import odds as od
from sim.app import state as st


def redraw(o: od.Odds, base: od.Odds, ex: st.Explorer) -> None:
    """Both charts as the page draws them."""
    sc = ex.scenario
    members = [sc.actor_ids[m] for m in sc.members]
    permanent = [sc.actor_ids[m] for m, v in zip(sc.members, sc.veto, strict=True) if v]
    charts.image(charts.odds_chart(o, base, sc.name, ex.seed), "png", dpi=96)
    charts.image(charts.votes_chart(o, base, members, permanent, sc.name, ex.seed), "png", dpi=96)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="gaza_isf_2025")
    parser.add_argument("--lever", default="actors.RUS.status_quo")
    parser.add_argument("--changes", type=int, default=5, help="lever changes timed")
    parser.add_argument("--runs", type=int, default=od.RUNS, help="runs of each odds")
    parser.add_argument("--workers", type=int, default=0, help="0: one core, in a thread")
    args = parser.parse_args()

    pool = None
    if args.workers > 0:
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(args.workers, mp_context=spawn)
    runner = od.OddsRunner(pool, max(args.workers, 1))
    ex = st.start(args.scenario)
    base_job = od.job_of(ex.scenario, ex.seed, args.runs)
    t0 = time.perf_counter()
    base = runner.submit(base_job).wait()
    assert base is not None and not base.error, base
    start = ex.value(args.lever)
    print(f"stabsim app odds: {ex.base.name}, {args.runs} runs a change, "
          f"workers={args.workers} ({'one core, a thread' if pool is None else 'processes'})")  # fmt: skip
    print(f"unchanged scenario first (pool start-up included): {time.perf_counter() - t0:.2f} s, "
          f"P(adopted) {base.p('adopted'):.3f}; {args.lever} = {start}")  # fmt: skip

    values = [round(float(v), 4) for v in np.linspace(0.7, 0.95, args.changes)]  # each new
    walls, cpus, firsts, draws = [], [], [], []
    for value in values:
        w0, c0 = time.perf_counter(), time.process_time()
        changed = st.change(ex, args.lever, value)
        job = od.job_of(changed.scenario, changed.seed, args.runs)
        ticket = runner.submit(job, base_job)
        first = None
        final = None
        for kind, o in ticket.updates():
            if kind == "odds" and not o.final and first is None:
                first = time.perf_counter() - w0
            if kind == "odds" and o.final:
                final = o
        assert final is not None and not final.error, final
        d0 = time.perf_counter()
        redraw(final, base, changed)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        walls.append(wall)
        cpus.append(cpu)
        draws.append(time.perf_counter() - d0)
        firsts.append(first if first is not None else wall)
        print(f"  {args.lever} = {value}: P(adopted) {final.p('adopted'):.3f}; "
              f"first estimate {firsts[-1]:.2f} s, redrawn {wall:.2f} s "
              f"(charts {draws[-1]:.2f} s), CPU here {cpu:.2f} s")  # fmt: skip
    if pool is not None:
        pool.shutdown()

    def med(xs: list[float]) -> str:
        return f"median {statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f})"

    print(f"lever change -> redrawn odds ({args.runs} runs): {med(walls)}")
    print(f"lever change -> first estimate ({od.FIRST} runs): {med(firsts)}")
    print(f"of which the two charts: {med(draws)}")
    if pool is None:
        print(
            f"CPU per change (one core): {med(cpus)}; {1000 * statistics.median(cpus) / args.runs:.2f} ms a run"
        )
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
