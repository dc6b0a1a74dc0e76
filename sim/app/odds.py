"""The live odds: a Monte Carlo of the explorer's scenario on the common runner's seeds, off the
page's thread, with stale jobs cancelled.

Rules:

- Run ``i`` of a job with seed ``S`` is ``make_model(scenario, run_seed(S, i),
  record_path=False).run()``, as in ``stabsim sweep``; the scenario is compiled from the job's
  data and kept draws as a sweep's workers compile it. So the odds of a job are those of
  ``stabsim sweep WHATIF --seed S --runs N`` on the what-if file saved with the same changes,
  whichever executor runs the blocks and in whatever order they finish (counts only add).
- Probabilities are a sweep summary's: outcomes and viability over all runs, each member's
  votes over the runs in which it voted, each with its 95% Wilson interval
  (:func:`sim.analysis.summary.stat`).
- A job runs in blocks; a first estimate is delivered once ``first`` runs are counted, then the
  final odds. Submitting a job to a runner cancels the runner's previous job: blocks not started
  are dropped and finished ones ignored. Final odds are cached by job (a scenario's unchanged
  odds are computed once per seed).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

from sim.analysis.summary import stat
from sim.app.state import message
from sim.experiments.runner import run_seed
from sim.model.result import OUTCOMES, RunResult
from sim.model.simulate import make_model
from sim.model.voting import VOTE_NAMES
from sim.scenario.compiled import Scenario

RUNS = 500  # runs of the live odds
FIRST = 150  # runs counted before the first estimate is shown
BLOCK = 25  # runs per block (the most a cancelled job still runs per worker)
CACHE = 64  # final odds kept


# --- a job and its counts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What the odds are of: a scenario's data (changes applied) and the draws its changes fixed,
    the protocol (None: the scenario's), the seed and the number of runs."""

    data: Any
    source: str
    kept: dict[str, Any]
    protocol: str | None
    seed: int
    runs: int

    @property
    def scenario_key(self) -> str:
        """Names the compiled scenario (what the runs draw from)."""
        blob = json.dumps([self.data, self.kept], sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:20]

    @property
    def key(self) -> str:
        """Names the job: the same key, the same odds."""
        return f"{self.scenario_key}-{self.protocol}-{self.seed}-{self.runs}"


def job_of(scenario: Scenario, seed: int, runs: int = RUNS, protocol: str | None = None) -> Job:
    """The job of ``runs`` runs of a compiled scenario (its data and kept draws) with ``seed``."""
    return Job(scenario.data, scenario.source, dict(scenario.kept), protocol, seed, runs)


@dataclass
class Tally:
    """Counts of a set of runs: outcomes, viable forces, each member's votes."""

    runs: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    viable: int = 0
    votes: dict[str, dict[str, int]] = field(default_factory=dict)  # member -> vote -> runs

    def add(self, r: RunResult) -> None:
        self.runs += 1
        self.outcomes[r.outcome] += 1
        self.viable += bool(r.viable)
        for m, v in r.votes.items():
            if v in VOTE_NAMES:
                counts = self.votes.setdefault(m, dict.fromkeys(VOTE_NAMES, 0))
                counts[v] += 1

    def merge(self, other: Tally) -> Tally:
        """The counts of both sets of runs."""
        votes = {m: dict(c) for m, c in self.votes.items()}
        for m, c in other.votes.items():
            mine = votes.setdefault(m, dict.fromkeys(VOTE_NAMES, 0))
            for v, k in c.items():
                mine[v] += k
        return Tally(
            self.runs + other.runs,
            {o: self.outcomes[o] + other.outcomes[o] for o in OUTCOMES},
            self.viable + other.viable,
            votes,
        )


_COMPILED: OrderedDict[str, Scenario] = OrderedDict()
_COMPILE_LOCK = threading.Lock()


def compiled(job: Job) -> Scenario:
    """The job's scenario, compiled once per process (as a sweep's workers compile a point)."""
    key = job.scenario_key
    with _COMPILE_LOCK:
        sc = _COMPILED.get(key)
        if sc is None:
            sc = Scenario.from_data(job.data, job.source, None, kept=job.kept)
            _COMPILED[key] = sc
            while len(_COMPILED) > 16:
                _COMPILED.popitem(last=False)
        return sc


def warm(job: Job) -> None:
    """Compile the job's scenario in this process ahead of its runs (a pool's warm-up)."""
    compiled(job)


def tally_runs(job: Job, start: int, stop: int) -> Tally:
    """Run ``start`` to ``stop - 1`` of the job (a module-level function: process pools take it)."""
    sc = compiled(job)
    tally = Tally()
    for i in range(start, stop):
        tally.add(make_model(sc, run_seed(job.seed, i), protocol=job.protocol,
                             record_path=False).run())  # fmt: skip
    return tally


# --- odds ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Odds:
    """Probabilities of ``runs`` counted runs of a job of ``of`` (``final`` once all are in):
    ``outcomes`` and ``viable`` as summary stats, ``votes`` per member (``voted`` runs, then a
    stat per vote); ``error`` the one line of a job that could not run."""

    runs: int
    of: int
    outcomes: dict[str, dict[str, Any]]
    viable: dict[str, Any]
    votes: dict[str, dict[str, Any]]
    final: bool
    seconds: float = field(default=0.0, compare=False)  # from submit to these odds
    error: str | None = None

    def p(self, name: str) -> float | None:
        """P(an outcome), or of ``viable``."""
        s = self.viable if name == "viable" else self.outcomes[name]
        return s["p"]


def odds_of(tally: Tally, of: int, seconds: float = 0.0) -> Odds:
    """The probabilities of a tally (final when it counts all ``of`` runs)."""
    votes = {}
    for m, counts in tally.votes.items():
        held = sum(counts.values())
        votes[m] = {"voted": held, **{v: stat(k, held) for v, k in counts.items()}}
    return Odds(
        tally.runs,
        of,
        {o: stat(k, tally.runs) for o, k in tally.outcomes.items()},
        stat(tally.viable, tally.runs),
        votes,
        tally.runs >= of,
        seconds,
    )


def failed(of: int, line: str) -> Odds:
    """The odds of a job that could not run: none, with its message."""
    return Odds(0, of, {}, stat(0, 0), {}, True, error=line)


_CACHE: OrderedDict[str, Odds] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def cached(job: Job) -> Odds | None:
    """The final odds of a job already run, if kept."""
    with _CACHE_LOCK:
        odds = _CACHE.get(job.key)
        if odds is not None:
            _CACHE.move_to_end(job.key)
        return odds


def _keep(job: Job, odds: Odds) -> None:
    with _CACHE_LOCK:
        _CACHE[job.key] = odds
        while len(_CACHE) > CACHE:
            _CACHE.popitem(last=False)


def compute(job: Job, executor: Executor | None = None, workers: int = 1, block: int = BLOCK,
            first: int = FIRST, report: Callable[[Odds], None] | None = None,
            stale: Callable[[], bool] = lambda: False) -> Odds | None:  # fmt: skip
    """The job's final odds (None if it went stale first), reporting a first estimate once
    ``first`` runs are counted. ``executor``: where blocks run (None: here, one after another);
    at most ``2 * workers`` blocks are in flight."""
    hit = cached(job)
    if hit is not None:
        if report:
            report(hit)
        return hit
    t0 = time.perf_counter()
    blocks = [(s, min(s + block, job.runs)) for s in range(0, job.runs, block)]
    tally = Tally()
    shown = False

    def counted(part: Tally) -> None:
        nonlocal tally, shown
        tally = tally.merge(part)
        if report and not shown and first <= tally.runs < job.runs:
            shown = True
            report(odds_of(tally, job.runs, time.perf_counter() - t0))

    if executor is None:
        for a, b in blocks:
            if stale():
                return None
            counted(tally_runs(job, a, b))
    else:
        pending: set[Future] = set()
        todo = list(reversed(blocks))
        try:
            while todo or pending:
                while todo and len(pending) < 2 * workers:
                    pending.add(executor.submit(tally_runs, job, *todo.pop()))
                done, pending = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
                for fut in done:
                    counted(fut.result())
                if stale():
                    return None
        finally:
            for fut in pending:
                fut.cancel()
    odds = odds_of(tally, job.runs, time.perf_counter() - t0)
    _keep(job, odds)
    if report:
        report(odds)
    return odds


# --- a runner that keeps only the latest job ----------------------------------------------------------


class Ticket:
    """One submitted job: its estimates as they come (:meth:`updates`), then its final odds, and
    the odds of its base job (the unchanged scenario) when one was given."""

    def __init__(self, job: Job, base: Job | None):
        self.job, self.base = job, base
        self._cancel = threading.Event()
        self._queue: queue.Queue[tuple[str, Odds] | None] = queue.Queue()
        self.final: Odds | None = None
        self.base_odds: Odds | None = None
        self.done = threading.Event()

    def cancel(self) -> None:
        """Stop: blocks not started are dropped, estimates no longer delivered."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def updates(self, stop: threading.Event | None = None,
                poll: float = 0.05) -> Iterator[tuple[str, Odds]]:  # fmt: skip
        """``("odds", estimate)`` as each comes, the last final, then ``("base", odds)`` for the
        base job; ends when the ticket is done, or cancels it when ``stop`` is set."""
        while True:
            if stop is not None and stop.is_set():
                self.cancel()
                return
            try:
                item = self._queue.get(timeout=poll)
            except queue.Empty:
                continue
            if item is None:
                return
            yield item

    def wait(self, timeout: float | None = None) -> Odds | None:
        """The final odds (None if cancelled or not done within ``timeout``)."""
        self.done.wait(timeout)
        return self.final

    def _put(self, kind: str, odds: Odds) -> None:
        if not self.cancelled:
            self._queue.put((kind, odds))


class OddsRunner:
    """Runs one job at a time off the caller's thread: :meth:`submit` cancels the job before it.
    ``executor``: where the blocks run (a process pool of ``workers``; None: in the runner's own
    thread, one block after another)."""

    def __init__(self, executor: Executor | None = None, workers: int = 1, block: int = BLOCK,
                 first: int = FIRST):  # fmt: skip
        self.executor, self.workers, self.block, self.first = executor, workers, block, first
        self._current: Ticket | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job, base: Job | None = None) -> Ticket:
        """Start ``job`` (then ``base``, if given and not cached), cancelling the job before."""
        ticket = Ticket(job, base)
        with self._lock:
            if self._current is not None:
                self._current.cancel()
            self._current = ticket
        threading.Thread(target=self._drive, args=(ticket,), daemon=True,
                         name="stabsim-odds").start()  # fmt: skip
        return ticket

    def _drive(self, t: Ticket) -> None:
        try:
            t.final = self._run(t, t.job, lambda o: t._put("odds", o))
            if t.base is not None and t.final is not None:
                t.base_odds = self._run(t, t.base, None)
                if t.base_odds is not None:
                    t._put("base", t.base_odds)
        except Exception as exc:  # a run that fails is shown as one line, never a traceback
            t.final = failed(t.job.runs, message(exc))
            t._put("odds", t.final)
        finally:
            t.done.set()
            t._queue.put(None)

    def _run(self, t: Ticket, job: Job, report: Callable[[Odds], None] | None) -> Odds | None:
        return compute(job, self.executor, self.workers, self.block, self.first, report,
                       lambda: t.cancelled)  # fmt: skip
