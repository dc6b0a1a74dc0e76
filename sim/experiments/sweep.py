"""Monte Carlo sweeps: many seeded runs, in chunks, on any ``concurrent.futures`` executor.

Rules:

- Seeds. Run ``i`` of a sweep with seed ``S`` uses ``numpy.random.default_rng(run_seed(S, i))``,
  where ``run_seed`` is 63 bits of ``SeedSequence(S, spawn_key=(i,))``. A run therefore does not
  depend on the workers, the chunk size or the executor, every grid point uses the same seeds
  (common random numbers), and ``stabsim run --seed <seed column>`` replays one run.
- Chunks. A chunk is consecutive runs of one grid point. A worker runs it, builds its columns
  and returns them as Arrow IPC bytes; the parent writes each as ``parts/runs-<chunk>.arrow``
  (temporary name, then rename), so a killed sweep loses only the chunks in flight and
  ``--resume`` runs only the chunks without a part.
- Finish. Parts are streamed, in (point, run) order, into ``runs.parquet`` while the summary
  is counted; then ``summary.json``, then ``manifest.json`` marked complete, then ``parts/``
  is removed. Each file appears under its final name only once it is whole.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import platform
import shutil
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.analysis.summary import Layout, SummaryBuilder, coalition_key, text_key
from sim.errors import Problem, ScenarioError, StabsimError
from sim.experiments.progress import Progress
from sim.model.model import NegotiationModel
from sim.model.result import RunResult
from sim.scenario.compiled import Scenario

MANIFEST_SCHEMA = "stabsim-manifest/1"
CHUNK_SECONDS = 0.1  # target work per chunk
ROW_GROUP = 16_384  # rows per row group of the merged files
OWN_FILES = ("runs.parquet", "paths.parquet", "summary.json", "manifest.json")
DASK_HINT = "pip install stabsim[dask]"


class SweepError(StabsimError):
    """A sweep cannot start or continue as asked (bad option, folder holds another sweep)."""


class SweepInterrupted(Exception):
    """Ctrl-C: the chunks written so far are kept; ``--resume`` completes the sweep."""

    def __init__(self, done: int, total: int, out: Path):
        self.done, self.total, self.out = done, total, out
        super().__init__(f"interrupted with {done:,} of {total:,} runs saved in {out}")


# --- seeds ------------------------------------------------------------------------------------


def run_seed(seed: int, run: int) -> int:
    """The integer seed of run ``run``: 63 bits of ``SeedSequence(seed, spawn_key=(run,))``."""
    state = np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


# --- options: --set and --vary ------------------------------------------------------------------


@dataclass(frozen=True)
class GridAxis:
    """One ``--vary`` axis: a dotted path and the values it takes."""

    path: str
    values: tuple[float, ...]


def parse_set(text: str) -> tuple[str, str]:
    """``PATH=VALUE`` -> (path, raw value); the value is read as YAML when applied."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise SweepError(f"--set {text}: expected PATH=VALUE, e.g. actors.FRA.capability=0.2")
    return path.strip(), value.strip()


def parse_vary(text: str) -> GridAxis:
    """``PATH=START:STOP:STEPS`` -> STEPS evenly spaced values from START to STOP inclusive."""
    path, sep, spec = text.partition("=")
    parts = spec.split(":")
    bad = SweepError(
        f"--vary {text}: expected PATH=START:STOP:STEPS with numbers START and STOP "
        "and a whole STEPS from 2 to 1000, e.g. actors.FRA.salience.leadership=0.1:0.9:5"
    )
    if not sep or not path.strip() or len(parts) != 3:
        raise bad
    try:
        start, stop, steps = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise bad from None
    if not 2 <= steps <= 1000 or not (np.isfinite(start) and np.isfinite(stop)):
        raise bad
    values = tuple(float(f"{v:.12g}") for v in np.linspace(start, stop, steps))
    return GridAxis(path.strip(), values)


def check_ids(data: Any, path: str, source: str) -> None:
    """An override under ``actors.X`` or ``clauses.X`` must name an existing X (rather than
    silently create a new, incomplete entry)."""
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] in ("actors", "clauses") and isinstance(data, dict):
        known = data.get(parts[0]) or {}
        if isinstance(known, dict) and parts[1] not in known:
            kind = parts[0][:-1]
            raise ScenarioError(
                source,
                [Problem(path, f"unknown {kind} '{parts[1]}'; expected one of {', '.join(known)}")],
            )


# --- the plan: what every worker needs ------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """Runs ``start`` to ``stop - 1`` of grid point ``point``."""

    point: int
    index: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"p{self.point:04d}-c{self.index:06d}"

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Plan:
    """A sweep, fully decided: scenario data (with ``--set`` applied), grid, seed, columns."""

    data: Any
    source: str
    protocol: str | None
    seed: int
    runs: int
    axes: tuple[GridAxis, ...]
    params: tuple[tuple[str, str], ...]  # sampled parameter path, arrow type ("float64"|"string")
    paths: bool
    chunk_size: int
    key: str = field(default="")  # names the compiled scenario in worker caches

    @property
    def grid(self) -> list[dict[str, float]]:
        """The values of every grid point, first axis outermost ([{}] without a grid)."""
        return [
            dict(zip((a.path for a in self.axes), combo, strict=True))
            for combo in itertools.product(*(a.values for a in self.axes))
        ]

    def chunks(self) -> list[Chunk]:
        out = []
        for p in range(len(self.grid)):
            for i, start in enumerate(range(0, self.runs, self.chunk_size)):
                out.append(Chunk(p, i, start, min(start + self.chunk_size, self.runs)))
        return out


def make_plan(
    scenario: Scenario,
    axes: tuple[GridAxis, ...],
    protocol: str | None,
    seed: int,
    runs: int,
    paths: bool,
    chunk_size: int,
) -> tuple[Plan, list[Scenario]]:
    """Check every grid point compiles (the same one-line errors as ``stabsim validate``) and
    return the plan with the compiled scenario of each point."""
    varied = {a.path for a in axes}
    params = tuple((s.path, _arrow_type(s)) for s in scenario.slots if s.path not in varied)
    plan = Plan(
        scenario.data, scenario.source, protocol, seed, runs, axes, params, paths, chunk_size
    )
    points = []
    for values in plan.grid:
        for path in values:
            check_ids(scenario.data, path, scenario.source)
        points.append(Scenario.from_data(scenario.data, scenario.source, values))
    # The key names each point's compiled scenario in worker caches: it must cover the grid,
    # or two sweeps of one file with different --vary would share compiled points.
    grid = [[a.path, list(a.values)] for a in axes]
    blob = json.dumps([scenario.data, protocol, grid], sort_keys=True, default=str).encode()
    key = hashlib.sha256(blob).hexdigest()[:16]
    return Plan(**{**plan.__dict__, "key": key}), points


def _arrow_type(slot: Any) -> str:
    d = slot.dist
    if d.kind == "choice" and d.support is None:
        return "string"
    return "float64"


# --- one chunk (runs in the workers) ----------------------------------------------------------


def layout_of(sc: Scenario) -> Layout:
    ids = sc.actor_ids
    return Layout(
        clauses={c.id: tuple(c.options) for c in sc.space.clauses},
        members=tuple(ids[m] for m in sc.members),
        veto=tuple(ids[m] for m in sc.members[sc.veto]),
        contributors=tuple(ids[i] for i in np.flatnonzero(sc.is_contributor)),
    )


def runs_schema(layout: Layout, plan: Plan) -> pa.Schema:
    """The columns of ``runs.parquet``, in order (the README documents each)."""
    s, i32, i64, f64, b = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_()
    cols = [("run", i64), ("seed", i64), ("point", i32)]
    cols += [(f"grid.{a.path}", f64) for a in plan.axes]
    cols += [(f"param.{p}", s if t == "string" else f64) for p, t in plan.params]
    cols += [("outcome", s), ("vetoed_by", s), ("adopted_by", s), ("rounds", i32), ("text", s)]
    cols += [(f"text.{c}", s) for c in layout.clauses]
    cols += [("votes_yes", i32), ("votes_abstain", i32), ("votes_no", i32)]
    cols += [(f"vote.{m}", s) for m in layout.members]
    cols += [("coalition", s), ("lead", s)]
    for c in layout.contributors:
        cols += [(f"joined.{c}", b), (f"pledged.{c}", i64), (f"delivered.{c}", i64)]
    cols += [
        ("pledged_troops", i64),
        ("delivered_troops", i64),
        ("troops_required", i64),
        ("viable", b),
        ("coalition_stable", b),
    ]
    return pa.schema(cols)


def paths_schema(layout: Layout) -> pa.Schema:
    """The columns of ``paths.parquet``: one row per run and negotiation round."""
    s, i32, i64 = pa.string(), pa.int32(), pa.int64()
    cols = [("run", i64), ("point", i32), ("round", i32)]
    cols += [(f"text.{c}", s) for c in layout.clauses]
    cols += [
        ("p_adopt", pa.float64()),
        ("intend_yes", i32),
        ("intend_abstain", i32),
        ("intend_no", i32),
        ("demands", i32),
        ("changed", pa.bool_()),
    ]
    return pa.schema(cols)


class RunColumns:
    """The columns of ``runs.parquet`` for one chunk, filled run by run (lists of plain values;
    each column's list is looked up once, so adding a run costs one append per column)."""

    def __init__(self, layout: Layout, plan: Plan, point: int):
        self.schema = runs_schema(layout, plan)
        self.cols: dict[str, list] = {n: [] for n in self.schema.names}
        c = self.cols
        self.point = point
        self.grid = [(c[f"grid.{p}"], v) for p, v in plan.grid[point].items()]
        self.params = [(path, t == "string", c[f"param.{path}"]) for path, t in plan.params]
        self.clauses = [(cid, c[f"text.{cid}"]) for cid in layout.clauses]
        self.members = [(m, c[f"vote.{m}"]) for m in layout.members]
        self.contributors = [
            (a, c[f"joined.{a}"], c[f"pledged.{a}"], c[f"delivered.{a}"])
            for a in layout.contributors
        ]
        self.order = layout.contributors

    def add(self, run: int, seed: int, r: RunResult) -> None:
        """Append one run's row."""
        c = self.cols
        c["run"].append(run)
        c["seed"].append(seed)
        c["point"].append(self.point)
        for col, v in self.grid:
            col.append(v)
        for path, as_text, col in self.params:
            v = r.params.get(path)
            col.append(None if v is None else str(v) if as_text else float(v))
        c["outcome"].append(r.outcome)
        c["vetoed_by"].append("+".join(r.vetoed_by))
        c["adopted_by"].append(r.adopted_draft_by)
        c["rounds"].append(r.rounds)
        text = r.text
        c["text"].append(text_key(text) if text else None)
        for cid, col in self.clauses:
            col.append(text[cid] if text else None)
        tally = r.tally
        c["votes_yes"].append(tally.get("yes", 0))
        c["votes_abstain"].append(tally.get("abstain", 0))
        c["votes_no"].append(tally.get("no", 0))
        votes = r.votes
        for m, col in self.members:
            col.append(votes.get(m))
        joined = {x.actor: x for x in r.coalition}
        c["coalition"].append(coalition_key(a for a in self.order if a in joined))
        c["lead"].append(r.lead)
        for a, j, pl, de in self.contributors:
            x = joined.get(a)
            j.append(x is not None)
            pl.append(x.pledged if x else 0)
            de.append(x.delivered if x else 0)
        c["pledged_troops"].append(r.pledged_troops)
        c["delivered_troops"].append(r.delivered_troops)
        c["troops_required"].append(r.troops_required)
        c["viable"].append(r.viable)
        c["coalition_stable"].append(r.coalition_stable)

    def to_bytes(self) -> bytes:
        return _arrow_bytes(self.cols, self.schema)


def _arrow_bytes(columns: dict[str, list], schema: pa.Schema) -> bytes:
    """A chunk's columns as an Arrow IPC stream: ten times cheaper to write than parquet, and
    parts are only read back by :func:`merge`."""
    table = pa.table({n: columns[n] for n in schema.names}, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


@dataclass
class ChunkOutput:
    chunk: Chunk
    runs: bytes  # Arrow IPC stream
    paths: bytes | None  # Arrow IPC stream, with --paths
    seconds: float


_SCENARIOS: dict[tuple[str, int], Scenario] = {}


def _point_scenario(plan: Plan, point: int) -> Scenario:
    """The compiled scenario of a grid point, compiled once per worker process."""
    key = (plan.key, point)
    sc = _SCENARIOS.get(key)
    if sc is None:
        if len(_SCENARIOS) > 256:
            _SCENARIOS.clear()
        sc = Scenario.from_data(plan.data, plan.source, plan.grid[point])
        _SCENARIOS[key] = sc
    return sc


def run_chunk(plan: Plan, chunk: Chunk) -> ChunkOutput:
    """Run one chunk and return its rows as Arrow IPC bytes (and its paths with ``plan.paths``)."""
    t0 = time.perf_counter()
    sc = _point_scenario(plan, chunk.point)
    layout = layout_of(sc)
    rows = RunColumns(layout, plan, chunk.point)
    pschema = paths_schema(layout) if plan.paths else None
    pcols: dict[str, list] = {n: [] for n in pschema.names} if pschema else {}
    for i in range(chunk.start, chunk.stop):
        seed = run_seed(plan.seed, i)
        model = NegotiationModel(sc, seed=seed, protocol=plan.protocol)
        result = model.run()
        rows.add(i, seed, result)
        if pschema:
            for rec in result.path:
                pcols["run"].append(i)
                pcols["point"].append(chunk.point)
                pcols["round"].append(rec.round)
                for c in layout.clauses:
                    pcols[f"text.{c}"].append(rec.text[c])
                pcols["p_adopt"].append(rec.p_adopt)
                for k in ("yes", "abstain", "no"):
                    pcols[f"intend_{k}"].append(rec.intentions.get(k, 0))
                pcols["demands"].append(len(rec.demands))
                pcols["changed"].append(rec.changed)
    runs = rows.to_bytes()
    paths = _arrow_bytes(pcols, pschema) if pschema else None
    return ChunkOutput(chunk, runs, paths, time.perf_counter() - t0)


# --- executors ------------------------------------------------------------------------------------


class InlineExecutor(Executor):
    """Runs each task at submit, in this process (``--workers 1``)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


@dataclass
class Backend:
    """An executor, how many chunks it runs at once, and how to release it."""

    executor: Executor
    slots: int
    name: str
    close: Callable[[], None] = lambda: None


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def local_backend(workers: int) -> Backend:
    """In-process for one worker, a process pool otherwise."""
    if workers <= 1:
        return Backend(InlineExecutor(), 1, "in-process")
    # Fork where the platform has it: workers start in milliseconds with the modules already
    # imported (Mesa's batchrunner switches the global default to spawn at import, which
    # costs each worker a second or two of imports). Workers are started here, before the
    # parent starts any thread (the progress bar's), and ignore Ctrl-C: the parent handles it.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Freezing the parent's objects keeps the workers' garbage collector from writing to (and
    # so copying) every inherited page: without it each worker grows to a full private copy.
    gc.collect()
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)
        for fut in [pool.submit(os.getpid) for _ in range(workers)]:
            fut.result()
    finally:
        gc.unfreeze()
    return Backend(
        pool,
        workers,
        f"{workers} local processes",
        lambda: pool.shutdown(wait=True, cancel_futures=True),
    )


def dask_backend(scheduler: str | None = None, local_workers: int | None = None) -> Backend:
    """An existing Dask cluster (``tcp://HOST:PORT``) or a new ``LocalCluster`` of K processes."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            f"Dask is not installed; to use --scheduler or --dask-local: {DASK_HINT}"
        ) from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(
                n_workers=local_workers, threads_per_worker=1, dashboard_address=None
            )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    slots = max(1, sum(client.nthreads().values()))

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    where = scheduler or f"a local Dask cluster of {local_workers} processes"
    return Backend(client.get_executor(pure=False), slots, f"Dask ({where})", close)


def execute(
    plan: Any,
    todo: Iterable[Any],
    backend: Backend,
    on_done: Callable[[Any], None],
    task: Callable[[Any, Any], Any] | None = None,
) -> None:
    """Run ``task(plan, chunk)`` for every chunk on the backend, at most two per slot in flight,
    calling ``on_done`` with each result as it completes (``task``, by default
    :func:`run_chunk`, must be a module-level function so process pools and Dask can send it).
    Ctrl-C cancels what has not started and lets running chunks finish."""
    task = task or run_chunk
    pending: dict[Future, Any] = {}
    queue: Iterator[Any] = iter(todo)
    try:
        while True:
            while len(pending) < 2 * backend.slots:
                chunk = next(queue, None)
                if chunk is None:
                    break
                pending[backend.executor.submit(task, plan, chunk)] = chunk
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                del pending[fut]
                on_done(fut.result())
    except KeyboardInterrupt:
        for fut in list(pending):  # keep what finished before the interrupt
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                del pending[fut]
                on_done(fut.result())
        raise
    finally:
        for fut in pending:
            fut.cancel()


# --- the output folder ----------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any) -> None:
    _atomic_write(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "stabsim",
        "numpy",
        "scipy",
        "mesa",
        "pyarrow",
        "pydantic",
        "pyyaml",
        "dask",
        "distributed",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def clear_outputs(out: Path, own: tuple[str, ...] = OWN_FILES) -> None:
    """Remove this sweep's own files (never anything else in the folder)."""
    shutil.rmtree(out / "parts", ignore_errors=True)
    for name in own:
        for p in (out / name, out / f".tmp-{name}"):
            p.unlink(missing_ok=True)


def check_out(
    out: Path,
    identity: dict[str, Any],
    resume: bool,
    force: bool,
    own: tuple[str, ...] = OWN_FILES,
    what: str = "sweep",
) -> str:
    """Decide what to do with the output folder: ``"fresh"``, ``"resume"`` or ``"complete"``.

    A folder holding another sweep, or files that are not a sweep, is refused without
    ``--force``; the same sweep is continued only with ``--resume``. ``own`` and ``what`` let
    other seeded designs (``stabsim sensitivity``) share these rules."""
    manifest = out / "manifest.json"
    if not out.exists() or not any(out.iterdir()):
        return "fresh"
    if not manifest.exists():
        if force:
            clear_outputs(out, own)
            return "fresh"
        raise SweepError(
            f"{out} is not empty and holds no stabsim {what}; choose another --out "
            f"or add --force (only the {what}'s own files are replaced)"
        )
    try:
        old = json.loads(manifest.read_text())
        old_identity = old["identity"]
    except (OSError, ValueError, KeyError, TypeError):
        old, old_identity = {}, {}
    if old_identity != identity:
        if force:
            clear_outputs(out, own)
            return "fresh"
        differ = [k for k in identity if old_identity.get(k) != identity[k]] or ["manifest"]
        raise SweepError(
            f"{out} holds a different {what} (differs in {', '.join(differ)}); "
            "choose another --out or add --force to replace it"
        )
    if force:
        clear_outputs(out, own)
        return "fresh"
    status = old.get("status")
    if resume:
        return "complete" if status == "complete" else "resume"
    if status == "complete":
        raise SweepError(f"{out} already holds this {what}, complete; add --force to run it again")
    raise SweepError(
        f"{out} holds this {what}, unfinished; add --resume to complete it or --force to start over"
    )


def part_path(out: Path, chunk: Chunk, kind: str = "runs") -> Path:
    return out / "parts" / f"{kind}-{chunk.name}.arrow"


def merge(
    out: Path,
    chunks: list[Chunk],
    kind: str,
    schema: pa.Schema,
    sink: Callable[[pa.Table], None] | None = None,
) -> None:
    """Stream the parts, in (point, run) order, into ``<kind>.parquet`` (temporary name first),
    in row groups of about ROW_GROUP rows, passing each row group to ``sink``."""
    final = out / f"{kind}.parquet"
    tmp = final.with_name(f".tmp-{final.name}")
    buffered: list[pa.Table] = []
    rows = 0
    with pq.ParquetWriter(tmp, schema) as writer:

        def flush() -> None:
            nonlocal buffered, rows
            if buffered:
                table = pa.concat_tables(buffered).combine_chunks()
                if sink is not None:
                    sink(table)
                writer.write_table(table, row_group_size=max(rows, 1))
            buffered, rows = [], 0

        for chunk in chunks:
            with pa.ipc.open_stream(pa.memory_map(str(part_path(out, chunk, kind)))) as reader:
                table = reader.read_all()
            buffered.append(table)
            rows += table.num_rows
            if rows >= ROW_GROUP:
                flush()
        flush()
    os.replace(tmp, final)


# --- the sweep ----------------------------------------------------------------------------------------


@dataclass
class SweepConfig:
    """Everything ``stabsim sweep`` was asked to do."""

    scenario: Path
    runs: int = 1000
    seed: int = 1
    out: Path | None = None
    sets: list[str] = field(default_factory=list)
    vary: list[str] = field(default_factory=list)
    protocol: str | None = None
    paths: bool = False
    workers: int | None = None
    chunk_size: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None
    resume: bool = False
    force: bool = False
    progress: str = "auto"  # auto | bar | lines | none
    command: str = ""


@dataclass
class SweepReport:
    out: Path
    runs: int  # all runs, every grid point
    ran: int  # runs done by this invocation
    seconds: float
    backend: str
    chunk_size: int
    status: str  # fresh | resume | complete


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _calibrate(sc: Scenario, protocol: str | None, seed: int) -> float:
    """Seconds per run, from a few runs (the first also checks the scenario runs at all)."""
    times = []
    for i in range(4):
        t0 = time.perf_counter()
        model = NegotiationModel(sc, seed=run_seed(seed, i), protocol=protocol)
        model.run()
        times.append(time.perf_counter() - t0)
    return sum(times[1:]) / 3


def prepare(cfg: SweepConfig) -> tuple[Plan, list[Scenario], dict[str, Any]]:
    """Read and check the options and the scenario; return the plan, the compiled grid points
    and the sweep's identity (what must match for ``--resume``)."""
    from sim.model.protocols import PROTOCOLS

    if cfg.runs < 1:
        raise SweepError(f"--runs: expected a whole number >= 1, got {cfg.runs}")
    if cfg.chunk_size is not None and cfg.chunk_size < 1:
        raise SweepError(f"--chunk-size: expected a whole number >= 1, got {cfg.chunk_size}")
    if cfg.workers is not None and cfg.workers < 1:
        raise SweepError(f"--workers: expected a whole number >= 1, got {cfg.workers}")
    if cfg.dask_local is not None and cfg.dask_local < 1:
        raise SweepError(f"--dask-local: expected a whole number >= 1, got {cfg.dask_local}")
    if cfg.seed < 0:
        raise SweepError(f"--seed: expected a whole number >= 0, got {cfg.seed}")
    if cfg.protocol is not None and cfg.protocol not in PROTOCOLS:
        raise SweepError(
            f"--protocol: expected one of {', '.join(PROTOCOLS)}, got {cfg.protocol!r}"
        )
    if len(cfg.vary) > 2:
        raise SweepError(f"--vary: at most two axes, got {len(cfg.vary)}")
    sets = dict(parse_set(s) for s in cfg.sets)
    axes = tuple(parse_vary(v) for v in cfg.vary)
    paths = [a.path for a in axes]
    if len(set(paths)) != len(paths):
        raise SweepError(f"--vary: the two axes name the same path {paths[0]}")
    if math.prod(len(a.values) for a in axes) > 10_000:
        raise SweepError("--vary: at most 10,000 grid points; use fewer STEPS")
    if both := sorted(set(paths) & set(sets)):
        raise SweepError(f"--set and --vary both name {both[0]}; give it one or the other")
    from sim.scenario.loader import load_data

    data, source = load_data(cfg.scenario)
    for path in sets:
        check_ids(data, path, source)
    scenario = Scenario.from_data(data, source, sets)
    plan, points = make_plan(
        scenario, axes, cfg.protocol, cfg.seed, cfg.runs, cfg.paths, cfg.chunk_size or 0
    )
    raw = Path(cfg.scenario).read_bytes()
    identity = {
        "scenario_sha256": hashlib.sha256(raw).hexdigest(),
        "seed": cfg.seed,
        "runs": cfg.runs,
        "set": sets,
        "grid": [{"path": a.path, "values": list(a.values)} for a in axes],
        "protocol": cfg.protocol,
        "paths": cfg.paths,
    }
    return plan, points, identity


def choose_backend(
    scheduler: str | None, dask_local: int | None, workers: int, has_work: bool
) -> Backend:
    """A Dask cluster when one is named, else local processes (one, in-process, if nothing is
    left to run)."""
    if scheduler or dask_local:
        return dask_backend(scheduler, dask_local)
    return local_backend(workers if has_work else 1)


def open_folder(
    out: Path, manifest_path: Path, manifest: dict[str, Any], status: str, command: str
) -> None:
    """Make ``parts/``, drop temporary leftovers of a killed run, and write the manifest (on a
    resume, with a record of the resuming command)."""
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for tmp in (out / "parts").glob(".tmp-*"):
        tmp.unlink()
    if status != "fresh":
        manifest.setdefault("resumed", []).append({"command": command, "at": _now()})
    _write_json(manifest_path, manifest)


def sweep(cfg: SweepConfig, backend: Backend | None = None) -> SweepReport:
    """Run (or resume) a sweep into ``cfg.out``; write runs, paths, summary and manifest.

    ``backend`` overrides the executor chosen from the config (tests pass a Dask client's)."""
    plan, points, identity = prepare(cfg)
    out = Path(cfg.out) if cfg.out else Path("results") / f"{points[0].name}-{cfg.seed}"
    status = check_out(out, identity, cfg.resume, cfg.force)
    manifest_path = out / "manifest.json"
    if status == "complete":
        return SweepReport(out, cfg.runs * len(points), 0, 0.0, "-", 0, status)
    if status == "resume":
        manifest = json.loads(manifest_path.read_text())
        chunk_size = int(manifest["chunk_size"])
    else:
        manifest = {}
        chunk_size = cfg.chunk_size or 0
    workers = cfg.workers or default_workers()
    if not chunk_size:
        per_run = _calibrate(points[0], cfg.protocol, cfg.seed)
        target = int(CHUNK_SECONDS / max(per_run, 1e-6))
        balance = -(-cfg.runs // (4 * workers))  # at least ~4 chunks per worker per point
        chunk_size = max(1, min(target, balance, 5000))
    plan = Plan(**{**plan.__dict__, "chunk_size": chunk_size})
    chunks = plan.chunks()
    todo = [c for c in chunks if not part_path(out, c).exists()]
    total = cfg.runs * len(points)
    done = total - sum(c.size for c in todo)
    if backend is None:  # before touching the folder: a cluster that cannot be reached leaves none
        backend = choose_backend(cfg.scheduler, cfg.dask_local, workers, bool(todo))
    try:
        if status == "fresh":
            manifest = new_manifest(cfg, identity, points, chunk_size)
        open_folder(out, manifest_path, manifest, status, cfg.command)
        progress = Progress(total, done, cfg.progress)
        t0 = time.perf_counter()

        def save(o: ChunkOutput) -> None:
            if o.paths is not None:
                _atomic_write(part_path(out, o.chunk, "paths"), o.paths)
            _atomic_write(part_path(out, o.chunk), o.runs)  # last: its presence marks it done
            progress.update(o.chunk.size)

        try:
            execute(plan, todo, backend, save)
        except KeyboardInterrupt:
            progress.close()
            saved = total - sum(c.size for c in chunks if not part_path(out, c).exists())
            raise SweepInterrupted(saved, total, out) from None
        progress.close()
        seconds = time.perf_counter() - t0
    finally:
        backend.close()
    finish(out, plan, points[0], manifest, chunks)
    return SweepReport(out, total, total - done, seconds, backend.name, chunk_size, status)


def new_manifest(
    cfg: SweepConfig, identity: dict[str, Any], points: list[Scenario], chunk_size: int
) -> dict[str, Any]:
    """The manifest of a new sweep (``status`` running until :func:`finish`)."""
    return {
        "schema": MANIFEST_SCHEMA,
        "status": "running",
        "identity": identity,
        "scenario": {
            "name": points[0].name,
            "file": str(Path(cfg.scenario).resolve()),
            "sha256": identity["scenario_sha256"],
            "text": Path(cfg.scenario).read_text(encoding="utf-8"),
        },
        "seed": cfg.seed,
        "runs_per_point": cfg.runs,
        "points": len(points),
        "runs": cfg.runs * len(points),
        "set": identity["set"],
        "grid": identity["grid"],
        "protocol": cfg.protocol or points[0].protocol,
        "paths": cfg.paths,
        "chunk_size": chunk_size,
        "command": cfg.command,
        "versions": versions(),
        "started": _now(),
        "finished": None,
    }


def finish(
    out: Path, plan: Plan, scenario: Scenario, manifest: dict[str, Any], chunks: list[Chunk]
) -> None:
    """Merge the parts into the final files, write the summary, mark the manifest complete."""
    layout = layout_of(scenario)
    builder = SummaryBuilder(layout, plan.grid)
    merge(out, chunks, "runs", runs_schema(layout, plan), builder.add)
    if plan.paths:
        merge(out, chunks, "paths", paths_schema(layout))
    meta = {
        "scenario": manifest["scenario"]["name"],
        "seed": plan.seed,
        "runs_per_point": plan.runs,
        "protocol": manifest["protocol"],
        "set": manifest["set"],
        "grid_axes": manifest["grid"],
    }
    _write_json(out / "summary.json", builder.result(meta))
    manifest.update(status="complete", finished=_now())
    _write_json(out / "manifest.json", manifest)
    shutil.rmtree(out / "parts", ignore_errors=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_summary(out: Path) -> dict[str, Any]:
    """Read ``DIR/summary.json``; a missing or unfinished sweep is a one-line error."""
    path = Path(out) / "summary.json"
    if not path.exists():
        hint = (
            " (unfinished: complete it with stabsim sweep ... --resume)"
            if (Path(out) / "manifest.json").exists()
            else ""
        )
        raise SweepError(f"{out}: no summary.json{hint}")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot read: {exc}") from None
