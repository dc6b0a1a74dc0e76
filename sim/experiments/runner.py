"""One runner for every seeded design (sweeps, sensitivity analyses, the backtest); the
output folder it writes into is :mod:`sim.experiments.folder`.

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
- Checksums. The SHA-256 of every part is recorded as it is written (``parts/SHA256SUMS``,
  in ``sha256sum``'s format) and checked whenever a part is used: a resume re-runs the tasks
  of a damaged part (or one without a recorded sum) and names them, and merging reads only
  verified parts (a part found damaged there is re-run in this process, then merging starts
  again).
- Lock. One job at a time per folder: the runner holds ``flock`` on ``<out>/.stabsim.lock``
  from before it looks at the folder until it returns; another job there stops at once. The
  kernel drops the lock when its holder exits, however it exits, so a dead job never blocks.
- Workers die with the parent: each asks the kernel for SIGKILL when the parent goes (Linux
  ``PR_SET_PDEATHSIG``) and watches its parent's pid as well. Workers ignore SIGINT and
  SIGTERM; the parent turns either into :class:`Interrupted`, keeping what finished.
- Folder. A folder holds one job, named by its manifest's ``identity``, whose ``files`` list
  the files the job (and the commands that add to it, such as ``stabsim report``) wrote. A
  folder holding another job is refused without ``force``; the same job continues only with
  ``resume``. ``force`` removes only the job's own files (those listed, the manifest, the
  parts, and ``.tmp-`` leftovers) and refuses a folder holding anything else, naming it.
- Finish. The design merges its verified parts into its final files (each under its final
  name only once whole); the runner reads them back (:meth:`Design.verify`) and records their
  SHA-256 (``checksums``, which readers check); the manifest says ``merged``; ``parts/`` is removed; then the manifest says ``complete``. A job cut short
  between those steps completes on resume without running again.
- Limits. At most :data:`MAX_RUNS` runs and :data:`MAX_TASKS` tasks per job and
  :data:`MAX_WORKERS` local processes, checked before anything is allocated.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sim.errors import FolderError, OptionError, OutputError, Terminated, escape, reason, writing
from sim.experiments.folder import (
    RESUME_HINT,
    DamagedPart,
    FolderLock,
    Parts,
    check_out,
    drop_inherited_locks,
    now,
    versions,
    write_json,
)
from sim.experiments.progress import Progress

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte-range lock instead
    fcntl = None  # type: ignore[assignment]

MANIFEST_SCHEMA = "stabsim-manifest/1"
DASK_HINT = "pip install stabsim[dask]"
MAX_RUNS = 100_000_000  # runs of one job, every grid point counted
MAX_TASKS = 1_000_000  # tasks of one job
MAX_WORKERS = 1024  # local worker processes
# A part file's name as the designs write them (runs-p0000-c000001.arrow, sample-000003.npy).


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the tasks written so far are kept; resuming completes the job."""

    def __init__(self, done: int, total: int, out: Path, how: str = "interrupted"):
        self.done, self.total, self.out, self.how = done, total, out, how
        super().__init__(f"{how} with {done:,} of {total:,} runs saved in {out}")


def check_runs(argument: str, runs: int, most: int = MAX_RUNS, what: str = "runs") -> None:
    """``runs`` must be a whole number from 1 to ``most`` (a documented maximum)."""
    if runs < 1:
        raise OptionError(argument, f"expected a whole number >= 1, got {runs}")
    if runs > most:
        raise OptionError(argument, f"expected at most {most:,} {what}, got {runs:,}")


def check_seed(seed: int) -> None:
    """A seed is a whole number >= 0 (numpy's SeedSequence takes no negative seed)."""
    if seed < 0:
        raise OptionError("seed", f"expected a whole number >= 0, got {seed}")


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

    def finish(self, out: Path, tasks: list[Task], manifest: dict[str, Any], parts: Parts) -> Any:
        """Merge the parts (read through ``parts.read``, which verifies them) into the files."""
        ...

    def verify(self, out: Path) -> None:
        """Read the final files back; raise OutputError if one is not whole."""
        ...


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
            if value is not None and not 1 <= value <= MAX_WORKERS:
                raise OptionError(
                    name, f"expected a whole number from 1 to {MAX_WORKERS:,}, got {value}"
                )


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
    repaired: list[str] = field(default_factory=list)  # damaged parts found and re-run


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


def inline_backend() -> Backend:
    return Backend(InlineExecutor(), 1, "in-process")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux), and watch the
    parent's pid from a thread as well (every platform; also covers a parent gone already)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="stabsim-parent-watch", daemon=True).start()


def _worker_init(parent: int) -> None:
    """A worker: dies with its parent, leaves Ctrl-C and SIGTERM to it, and lets go of the
    parent's folder locks (inherited through fork)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    drop_inherited_locks()
    _die_with_parent(parent)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_backend(workers: int) -> Backend:
    """In-process for one worker, a process pool otherwise."""
    if workers <= 1:
        return inline_backend()
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
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
        )
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
    except (OSError, TimeoutError, ValueError) as exc:
        raise OptionError(
            "scheduler", f"cannot reach the Dask scheduler {scheduler}: {reason(exc)}"
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


# --- running a design -----------------------------------------------------------------------------


def new_manifest(design: Design, ex: Execution, size: int) -> dict[str, Any]:
    return {
        "schema": MANIFEST_SCHEMA,
        "status": "running",
        "identity": design.identity,
        **design.manifest(),
        design.size_key: size,
        "files": list(design.files),
        "command": ex.command,
        "versions": versions(),
        "started": now(),
        "finished": None,
    }


def _task_size(manifest: dict[str, Any], design: Design, out: Path) -> int:
    size = manifest.get(design.size_key)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise FolderError(
            f"{escape(out / 'manifest.json')}: damaged ({design.size_key} is {size!r}); "
            "add {force} to start over"
        )
    return size


def run_design(design: Design, ex: Execution, backend: Backend | None = None) -> Report:
    """Run (or resume) ``design`` into ``ex.out``: the design's files and ``manifest.json``,
    holding the folder's lock throughout.

    ``backend`` overrides the executor the options name (tests pass a Dask client's)."""
    ex.check()
    out = Path(ex.out)
    with FolderLock(out), sigterm_interrupts():
        return _run_locked(design, ex, backend, out)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While a job runs, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt), so it ends
    the job as Ctrl-C does: finished tasks kept, the rest cancelled. Only the main thread can
    take signals; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run_locked(design: Design, ex: Execution, backend: Backend | None, out: Path) -> Report:
    status, manifest = check_out(
        out, design.identity, ex.resume, ex.force, design.files, design.kind
    )
    manifest_path = out / "manifest.json"
    parts = Parts(out)
    if status == "complete":
        parts.clear()  # what a clean-up cut short left
        return Report(out, design.runs, 0, 0.0, "-", 0, status)
    workers = ex.workers or default_workers()
    size = _task_size(manifest, design, out) if status == "resume" else design.task_size(workers)
    tasks = design.tasks(size)
    if status == "resume" and manifest.get("status") == "merged" and _reads_back(design, out):
        _complete(manifest_path, manifest, parts)  # killed after merging: nothing to run
        return Report(out, design.runs, 0, 0.0, "-", size, "complete")
    if status == "fresh":
        manifest = new_manifest(design, ex, size)
    repaired: list[str] = []
    todo = []
    for t in tasks:
        if status == "fresh" or not parts.exists(t.parts[-1]):
            todo.append(t)
        elif bad := parts.damaged(t.parts):
            repaired += bad
            todo.append(t)
    parts.remove(name for t in todo for name in t.parts if parts.exists(name))
    done = design.runs - sum(t.runs for t in todo)
    if backend is None:
        backend = choose_backend(ex.scheduler, ex.dask_local, workers, bool(todo))
    try:
        if status != "fresh":
            entry: dict[str, Any] = {"command": ex.command, "at": now()}
            if repaired:
                entry["rerun_damaged"] = repaired
            manifest.setdefault("resumed", []).append(entry)
            manifest["status"] = "running"
        own = manifest.get("files")
        manifest["files"] = list(dict.fromkeys([*(own if isinstance(own, list) else []),
                                                *design.files]))  # fmt: skip
        write_json(manifest_path, manifest, "; choose another {out}")
        parts.open()
        progress = Progress(design.runs, done, ex.progress, label=design.kind.split()[0])
        t0 = time.perf_counter()

        def save(result: tuple[Any, dict[str, bytes]]) -> None:
            task, files = result
            for name in task.parts:  # the last part marks the task done, so it is written last
                if name in files:
                    parts.write(name, files[name])
            progress.update(task.runs)

        try:
            execute(design.job, todo, backend, save, design.work)
        except KeyboardInterrupt as exc:
            saved = design.runs - sum(t.runs for t in tasks if not parts.exists(t.parts[-1]))
            how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
            raise Interrupted(saved, design.runs, out, how) from None
        except BrokenProcessPool:
            raise FolderError(
                f"{escape(out)}: a worker process stopped unexpectedly (killed, or out of "
                f"memory){RESUME_HINT}"
            ) from None
        finally:
            progress.close()
        seconds = time.perf_counter() - t0
    finally:
        backend.close()
    try:
        result = _finish(design, out, tasks, manifest, parts, save, repaired)
    finally:
        parts.close()
    manifest["checksums"] = file_sums(out, design.files)  # readers check the files against these
    manifest["status"] = "merged"
    write_json(manifest_path, manifest, RESUME_HINT)
    _complete(manifest_path, manifest, parts)
    return Report(out, design.runs, design.runs - done, seconds, backend.name, size, status,
                  result, repaired)  # fmt: skip


def _finish(design: Design, out: Path, tasks: list[Task], manifest: dict[str, Any],
            parts: Parts, save: Callable[[Any], None], repaired: list[str]) -> Any:  # fmt: skip
    """The design's finish over verified parts; a part found damaged on the way is re-run
    here (in this process) and the merge starts again. Then the final files are read back."""
    for _ in range(3):
        try:
            result = design.finish(out, tasks, manifest, parts)
        except DamagedPart as exc:
            task = next(t for t in tasks if exc.name in t.parts)
            repaired.append(f"parts/{exc.name} ({exc.why})")
            parts.remove(task.parts)
            execute(design.job, [task], inline_backend(), save, design.work)
            continue
        design.verify(out)
        return result
    raise FolderError(
        f"{escape(out / 'parts')}: part files keep reading back damaged after being written "
        "again; the disk may be failing: check it, then add {resume}"
    )


def file_sums(out: Path, names: Iterable[str]) -> dict[str, str]:
    """The SHA-256 of each of a job's final files that exists (read in blocks)."""
    sums = {}
    for name in names:
        path = out / name
        if path.is_file():
            digest = hashlib.sha256()
            with writing(path, RESUME_HINT), path.open("rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    digest.update(block)
            sums[name] = digest.hexdigest()
    return sums


def _reads_back(design: Design, out: Path) -> bool:
    try:
        design.verify(out)
    except (OutputError, OSError):
        return False
    return True


def _complete(path: Path, manifest: dict[str, Any], parts: Parts) -> None:
    """The last steps: remove the parts, then mark the manifest complete."""
    parts.clear()
    manifest.update(status="complete", finished=now())
    write_json(path, manifest)
