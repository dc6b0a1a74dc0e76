"""One runner for every seeded design (sweeps, sensitivity analyses, the backtest).

Rules:

- Seeds. Run ``i`` of a job with seed ``S`` uses ``numpy.random.default_rng(run_seed(S, i))``,
  where ``run_seed`` is 63 bits of ``SeedSequence(S, spawn_key=(i,))``. Every command means
  the same by ``--seed``: a run does not depend on the workers, the task size or the
  executor; every grid or design point uses the same seeds (common random numbers); and
  ``stabsim run --seed <seed column>`` replays one run.
- Tasks. A design cuts its work into tasks (consecutive runs of one grid point, a block of
  design points, a case). A worker runs a task and returns its part files as bytes; the
  parent writes each under ``parts/`` (temporary name, then rename), the task's last part
  marking it done. A killed job loses only the tasks in flight, and a resumed one runs only
  the tasks whose last part is missing.
- Folder. A folder holds one job, named by its manifest's ``identity``. A folder holding
  another job, or files that are not a job's, is refused without ``force``; the same job
  continues only with ``resume``.
- Finish. The design merges its parts into its final files (each under its final name only
  once whole); then the manifest is marked complete and ``parts/`` is removed.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import platform
import shutil
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sim.errors import FolderError, OptionError
from sim.experiments.progress import Progress

MANIFEST_SCHEMA = "stabsim-manifest/1"
DASK_HINT = "pip install stabsim[dask]"


class Interrupted(Exception):
    """Ctrl-C: the tasks written so far are kept; resuming completes the job."""

    def __init__(self, done: int, total: int, out: Path):
        self.done, self.total, self.out = done, total, out
        super().__init__(f"interrupted with {done:,} of {total:,} runs saved in {out}")


# --- seeds --------------------------------------------------------------------------------------


def run_seed(seed: int, run: int) -> int:
    """The integer seed of run ``run``: 63 bits of ``SeedSequence(seed, spawn_key=(run,))``."""
    state = np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def run_seeds(seed: int, runs: int) -> list[int]:
    """The seeds of runs 0 .. runs - 1."""
    return [run_seed(seed, i) for i in range(runs)]


# --- what a design is ----------------------------------------------------------------------------


class Task(Protocol):
    """A unit of work: ``parts`` are the file names it writes, the last marking it done."""

    @property
    def runs(self) -> int: ...

    @property
    def parts(self) -> tuple[str, ...]: ...


class Design(Protocol):
    """A seeded design the runner can execute, resume and finish."""

    kind: str  # "sweep", "sensitivity analysis": named in messages
    files: tuple[str, ...]  # the final files it writes (besides manifest.json)
    size_key: str  # the manifest key holding the task size ("chunk_size")
    identity: dict[str, Any]  # what must match for a folder to be resumed
    runs: int  # runs in all
    job: Any  # what every worker needs; must pickle
    work: Callable[[Any, Any], dict[str, bytes]]  # a module-level function (job, task)

    def task_size(self, workers: int) -> int: ...

    def tasks(self, size: int) -> list[Task]: ...

    def manifest(self) -> dict[str, Any]: ...

    def finish(self, out: Path, tasks: list[Task], manifest: dict[str, Any]) -> Any: ...


@dataclass
class Execution:
    """Where and how a job runs: the options every seeded command shares."""

    out: Path
    workers: int | None = None  # local processes (None: every core; 1: in this process)
    scheduler: str | None = None  # tcp://HOST:PORT of a Dask scheduler
    dask_local: int | None = None  # a new local Dask cluster of this many processes
    resume: bool = False
    force: bool = False
    progress: str = "auto"  # auto | bar | lines | none
    command: str = ""  # the command line, kept in the manifest

    def check(self) -> None:
        for name in ("workers", "dask_local"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise OptionError(name, f"expected a whole number >= 1, got {value}")


@dataclass
class Report:
    out: Path
    runs: int  # all runs of the job
    ran: int  # runs done by this invocation
    seconds: float
    backend: str
    task_size: int
    status: str  # fresh | resume | complete
    result: Any = None  # what the design's finish returned (None if it was complete)


# --- executors ----------------------------------------------------------------------------------


class InlineExecutor(Executor):
    """Runs each task at submit, in this process (one worker)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


@dataclass
class Backend:
    """An executor, how many tasks it runs at once, and how to release it."""

    executor: Executor
    slots: int
    name: str
    close: Callable[[], None] = lambda: None


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
        raise OptionError(
            "scheduler", f"Dask is not installed; to run on Dask: {DASK_HINT}"
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
        raise OptionError(
            "scheduler", f"cannot reach the Dask scheduler {scheduler}: {exc}"
        ) from None
    slots = max(1, sum(client.nthreads().values()))

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    where = scheduler or f"a local Dask cluster of {local_workers} processes"
    return Backend(client.get_executor(pure=False), slots, f"Dask ({where})", close)


def choose_backend(
    scheduler: str | None, dask_local: int | None, workers: int, has_work: bool
) -> Backend:
    """A Dask cluster when one is named, else local processes (one, in-process, if nothing is
    left to run)."""
    if scheduler or dask_local:
        return dask_backend(scheduler, dask_local)
    return local_backend(workers if has_work else 1)


def execute(
    job: Any,
    todo: Iterable[Any],
    backend: Backend,
    on_done: Callable[[Any], None],
    work: Callable[[Any, Any], Any],
) -> None:
    """Run ``work(job, task)`` for every task on the backend, at most two per slot in flight,
    calling ``on_done`` with each result as it completes (``work`` must be a module-level
    function so process pools and Dask can send it). Ctrl-C cancels what has not started and
    keeps what finished."""
    pending: dict[Future, Any] = {}
    queue: Iterator[Any] = iter(todo)
    try:
        while True:
            while len(pending) < 2 * backend.slots:
                task = next(queue, None)
                if task is None:
                    break
                pending[backend.executor.submit(work, job, task)] = task
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


# --- the output folder ------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` under a temporary name, then rename: it appears only when whole."""
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("stabsim", "numpy", "scipy", "mesa", "pyarrow", "pydantic", "pyyaml", "dask",
                "distributed"):  # fmt: skip
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def clear_outputs(out: Path, own: Iterable[str]) -> None:
    """Remove a job's own files (never anything else in the folder)."""
    shutil.rmtree(out / "parts", ignore_errors=True)
    for name in (*own, "manifest.json"):
        for p in (out / name, out / f".tmp-{name}"):
            p.unlink(missing_ok=True)


def check_out(
    out: Path, identity: dict[str, Any], resume: bool, force: bool, own: Iterable[str],
    what: str,
) -> str:  # fmt: skip
    """Decide what to do with the output folder: ``"fresh"``, ``"resume"`` or ``"complete"``."""
    manifest = out / "manifest.json"
    if not out.exists() or not any(out.iterdir()):
        return "fresh"
    where = str(out).replace("{", "{{").replace("}", "}}")  # the messages are templates
    if not manifest.exists():
        if force:
            clear_outputs(out, own)
            return "fresh"
        raise FolderError(
            f"{where} is not empty and holds no stabsim {what}; choose another {{out}} "
            f"or add {{force}} (only the {what}'s own files are replaced)"
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
        raise FolderError(
            f"{where} holds a different {what} (differs in {', '.join(differ)}); "
            "choose another {out} or add {force} to replace it"
        )
    if force:
        clear_outputs(out, own)
        return "fresh"
    status = old.get("status")
    if resume:
        return "complete" if status == "complete" else "resume"
    if status == "complete":
        raise FolderError(
            f"{where} already holds this {what}, complete; add {{force}} to run it again"
        )
    raise FolderError(
        f"{where} holds this {what}, unfinished; add {{resume}} to complete it "
        "or {force} to start over"
    )


def part_path(out: Path, name: str) -> Path:
    return out / "parts" / name


def is_done(out: Path, task: Any) -> bool:
    return part_path(out, task.parts[-1]).exists()


# --- running a design -----------------------------------------------------------------------------


def new_manifest(design: Design, ex: Execution, size: int) -> dict[str, Any]:
    return {
        "schema": MANIFEST_SCHEMA,
        "status": "running",
        "identity": design.identity,
        **design.manifest(),
        design.size_key: size,
        "command": ex.command,
        "versions": versions(),
        "started": now(),
        "finished": None,
    }


def run_design(design: Design, ex: Execution, backend: Backend | None = None) -> Report:
    """Run (or resume) ``design`` into ``ex.out``: the design's files and ``manifest.json``.

    ``backend`` overrides the executor the options name (tests pass a Dask client's)."""
    ex.check()
    out = Path(ex.out)
    status = check_out(out, design.identity, ex.resume, ex.force, design.files, design.kind)
    manifest_path = out / "manifest.json"
    if status == "complete":
        return Report(out, design.runs, 0, 0.0, "-", 0, status)
    workers = ex.workers or default_workers()
    if status == "resume":
        manifest = json.loads(manifest_path.read_text())
        size = int(manifest[design.size_key])
    else:
        size = design.task_size(workers)
        manifest = new_manifest(design, ex, size)
    tasks = design.tasks(size)
    todo = [t for t in tasks if not is_done(out, t)]
    done = design.runs - sum(t.runs for t in todo)
    if backend is None:  # before touching the folder: a cluster that cannot be reached leaves none
        backend = choose_backend(ex.scheduler, ex.dask_local, workers, bool(todo))
    try:
        (out / "parts").mkdir(parents=True, exist_ok=True)
        for tmp in (out / "parts").glob(".tmp-*"):  # leftovers of a killed run
            tmp.unlink()
        if status != "fresh":
            manifest.setdefault("resumed", []).append({"command": ex.command, "at": now()})
        write_json(manifest_path, manifest)
        progress = Progress(design.runs, done, ex.progress, label=design.kind.split()[0])
        t0 = time.perf_counter()

        def save(result: tuple[Any, dict[str, bytes]]) -> None:
            task, parts = result
            for name in task.parts:  # the last part marks the task done, so it is written last
                if name in parts:
                    atomic_write(part_path(out, name), parts[name])
            progress.update(task.runs)

        try:
            execute(design.job, todo, backend, save, design.work)
        except KeyboardInterrupt:
            progress.close()
            saved = design.runs - sum(t.runs for t in tasks if not is_done(out, t))
            raise Interrupted(saved, design.runs, out) from None
        progress.close()
        seconds = time.perf_counter() - t0
    finally:
        backend.close()
    result = design.finish(out, tasks, manifest)
    manifest.update(status="complete", finished=now())
    write_json(manifest_path, manifest)
    shutil.rmtree(out / "parts", ignore_errors=True)
    return Report(out, design.runs, design.runs - done, seconds, backend.name, size, status, result)
