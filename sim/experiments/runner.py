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
import json
import multiprocessing
import os
import platform
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np

from sim.errors import FolderError, OptionError, OutputError, Terminated, escape, reason, writing
from sim.experiments.progress import Progress

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte-range lock instead
    fcntl = None  # type: ignore[assignment]

MANIFEST_SCHEMA = "stabsim-manifest/1"
DASK_HINT = "pip install stabsim[dask]"
LOCK = ".stabsim.lock"
SUMS = "SHA256SUMS"
MAX_RUNS = 100_000_000  # runs of one job, every grid point counted
MAX_TASKS = 1_000_000  # tasks of one job
MAX_WORKERS = 1024  # local worker processes
RESUME_HINT = "; the work saved so far is kept: fix this and add {resume} to complete it"
# A part file's name as the designs write them (runs-p0000-c000001.arrow, sample-000003.npy).
PART_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*\.(?:arrow|npy|npz)")
_SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the tasks written so far are kept; resuming completes the job."""

    def __init__(self, done: int, total: int, out: Path, how: str = "interrupted"):
        self.done, self.total, self.out, self.how = done, total, out, how
        super().__init__(f"{how} with {done:,} of {total:,} runs saved in {out}")


class DamagedPart(Exception):
    """A part file whose bytes do not match the SHA-256 recorded when it was written."""

    def __init__(self, name: str, why: str):
        self.name, self.why = name, why
        super().__init__(f"parts/{name}: {why}")


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
    for fd in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()
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


# --- writing files --------------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes, hint: str = "") -> None:
    """Write ``path`` under a temporary name, then rename: it appears only when whole. A
    failure (a full disk) removes the temporary file and names ``path`` (OutputError)."""
    tmp = path.with_name(f".tmp-{path.name}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(path, exc, hint) from None


def write_json(path: Path, obj: Any, hint: str = "") -> None:
    atomic_write(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode(), hint)


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


# --- part files and their checksums -----------------------------------------------------------------


def part_path(out: Path, name: str) -> Path:
    return out / "parts" / name


def _read_sums(path: Path) -> dict[str, str]:
    """The recorded SHA-256 of each part (the last line naming it wins; a line cut short or
    damaged names nothing, so its part counts as unrecorded and is re-run)."""
    sums: dict[str, str] = {}
    try:
        text = path.read_bytes().decode("ascii", errors="replace")
    except OSError:
        return sums
    for line in text.splitlines():
        m = _SUM_LINE.fullmatch(line)
        if m:
            sums[m.group(2)] = m.group(1)
    return sums


class Parts:
    """A job's part files under ``<out>/parts``, each with the SHA-256 recorded as it was
    written, in ``parts/SHA256SUMS`` (``sha256sum -c SHA256SUMS`` checks them by hand)."""

    def __init__(self, out: Path):
        self.dir = out / "parts"
        self.sums = _read_sums(self.dir / SUMS)
        self._journal: Any = None

    def exists(self, name: str) -> bool:
        return (self.dir / name).exists()

    def open(self) -> None:
        """Get ready to write: the folder, no leftovers of a killed run, the journal open."""
        with writing(self.dir, RESUME_HINT):
            self.dir.mkdir(exist_ok=True)
            for tmp in self.dir.glob(".tmp-*"):
                tmp.unlink()
            journal = self.dir / SUMS
            cut = journal.exists() and not journal.read_bytes().endswith(b"\n")
            self._journal = journal.open("a", encoding="ascii")
            if cut and journal.stat().st_size:  # a line cut short by a kill: end it
                self._journal.write("\n")

    def close(self) -> None:
        if self._journal is not None:
            with contextlib.suppress(OSError):
                self._journal.close()
            self._journal = None

    def write(self, name: str, data: bytes) -> None:
        """Write one part: temporary file, its checksum line, then the rename."""
        digest = hashlib.sha256(data).hexdigest()
        path, tmp = self.dir / name, self.dir / f".tmp-{name}"
        try:
            tmp.write_bytes(data)
            self._journal.write(f"{digest}  {name}\n")
            self._journal.flush()
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise OutputError(path, exc, RESUME_HINT) from None
        self.sums[name] = digest

    def _bytes(self, name: str) -> tuple[bytes | None, str | None]:
        want = self.sums.get(name)
        try:
            data = (self.dir / name).read_bytes()
        except FileNotFoundError:
            return None, "missing"
        except OSError as exc:
            return None, f"unreadable ({reason(exc)})"
        if want is None:
            return None, "no checksum recorded"
        if hashlib.sha256(data).hexdigest() != want:
            return None, "checksum mismatch"
        return data, None

    def damaged(self, task: Task) -> list[str]:
        """``parts/<name> (why)`` for each part of ``task`` that is not as written."""
        found = []
        for name in task.parts:
            _, why = self._bytes(name)
            if why is not None:
                found.append(f"parts/{name} ({why})")
        return found

    def read(self, name: str) -> bytes:
        """A part's bytes, verified against its recorded checksum (else DamagedPart)."""
        data, why = self._bytes(name)
        if data is None:
            raise DamagedPart(name, why or "damaged")
        return data

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            with writing(self.dir / name):
                (self.dir / name).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every part, the journal and leftovers; ``parts/`` goes if nothing else is in it."""
        if not self.dir.is_dir():
            return
        with writing(self.dir):
            for p in self.dir.iterdir():
                if p.is_file() and _own_part(p.name, self.sums):
                    p.unlink()
            with contextlib.suppress(OSError):
                self.dir.rmdir()
        self.sums = {}


def _own_part(name: str, sums: dict[str, str]) -> bool:
    """A file under ``parts/`` the runner wrote: a part (recorded, or named as parts are), the
    journal, or a temporary file."""
    return (
        name == SUMS or name.startswith(".tmp-") or name in sums or bool(PART_NAME.fullmatch(name))
    )


# --- the lock -------------------------------------------------------------------------------------

_HELD_LOCKS: set[int] = set()  # descriptors of the locks this process holds (workers close them)


def _lock_fd(fd: int) -> bool:
    """Take the lock on an open lock file without waiting; False if another process has it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    import msvcrt  # pragma: no cover - Windows

    try:  # pragma: no cover
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # pragma: no cover
        return False
    return True  # pragma: no cover


class FolderLock:
    """The lock on an output folder, held while a job looks at or writes the folder."""

    def __init__(self, out: Path):
        self.out = out
        self.path = out / LOCK
        self.fd: int | None = None
        self.created = False  # the folder was made for this job (removed again if left empty)

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        out, where = self.out, escape(self.out)
        if out.exists() and not out.is_dir():
            raise FolderError(f"{where} is a file, not a folder; choose another {{out}}")
        if not out.exists():
            try:
                out.mkdir(parents=True)
                self.created = True
            except FileExistsError:
                pass
            except OSError as exc:
                raise OutputError(out, exc, "; choose another {out}") from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                self._drop_folder()
                raise OutputError(out, exc, "; choose another {out}") from None
            try:
                locked = _lock_fd(fd)
            except OSError as exc:  # a file system without locks
                os.close(fd)
                self._drop_folder()
                raise OutputError(self.path, f"cannot lock: {reason(exc)}",
                                  "; choose another {out}") from None  # fmt: skip
            if not locked:
                holder = _holder(fd)
                os.close(fd)
                raise FolderError(
                    f"{where} is in use by another stabsim job{holder}; wait for it to end, "
                    "or choose another {out}"
                )
            try:  # the holder may have removed the file as we opened it: lock the current one
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        _HELD_LOCKS.add(fd)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still holding it: a waiting opener then retries
        _HELD_LOCKS.discard(self.fd)
        os.close(self.fd)
        self.fd = None
        self._drop_folder()

    def _drop_folder(self) -> None:
        if self.created:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only if the job left it empty


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip())
        return f" (process {pid})"
    return ""


# --- the output folder ------------------------------------------------------------------------


def _entries(out: Path) -> list[str]:
    """Every file under ``out`` ('/'-separated, relative), the lock left out; symbolic links
    count as files and are not followed."""
    found = []
    for root, dirs, files in os.walk(out):
        rel = PurePosixPath(Path(root).relative_to(out).as_posix())
        links = [d for d in dirs if (Path(root) / d).is_symlink()]
        found += [(rel / name).as_posix() for name in (*files, *links)]
    return sorted(p for p in found if p != LOCK)


def _inside(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


# What stabsim's commands wrote into a job's folder before manifests listed files: a folder
# from an older version, whose manifest has no "files", counts these as the job's own.
LEGACY_DERIVED = ("charts/*.png", "charts/*.svg", "briefing.pdf", "briefing.html",
                  "tornado-*.png", "indices-*.png")  # fmt: skip


def own_files(manifest: dict[str, Any] | None, default: Iterable[str]) -> set[str]:
    """The files a job's manifest lists as its own (``default`` if it lists none), with the
    manifest itself; paths leaving the folder are never the job's."""
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not (isinstance(listed, list) and all(isinstance(n, str) for n in listed)):
        listed = list(default)
    return {n for n in (*listed, "manifest.json") if _inside(n)}


def _is_own(entry: str, own: set[str], sums: dict[str, str], legacy: bool = False) -> bool:
    p = PurePosixPath(entry)
    if entry in own or p.name.startswith(".tmp-"):
        return True
    if legacy and any(p.match(pattern) and len(p.parts) == len(PurePosixPath(pattern).parts)
                      for pattern in LEGACY_DERIVED):  # fmt: skip
        return True
    return len(p.parts) == 2 and p.parts[0] == "parts" and _own_part(p.name, sums)


def _listing(names: list[str]) -> str:
    more = f", and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def remove_files(out: Path, entries: Iterable[str]) -> None:
    """Remove ``entries`` (relative paths), then the folders they leave empty (not ``out``)."""
    dirs: set[Path] = set()
    for e in entries:
        p = out / e
        with writing(p, "; check the folder's permissions"):
            p.unlink(missing_ok=True)
        dirs.update(q for q in p.parents if q != out and out in q.parents)
    for d in sorted(dirs, key=lambda q: len(q.parts), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()


def clear_outputs(out: Path, manifest: dict[str, Any] | None, default: Iterable[str],
                  what: str) -> None:  # fmt: skip
    """``force``: remove a job's own files, and nothing else; a folder holding anything else
    is refused, naming what it holds (nothing is removed then)."""
    entries = _entries(out)
    own = own_files(manifest, default)
    sums = _read_sums(out / "parts" / SUMS)
    legacy = isinstance(manifest, dict) and "identity" in manifest and "files" not in manifest
    foreign = [e for e in entries if not _is_own(e, own, sums, legacy)]
    if foreign:
        raise FolderError(
            f"{escape(out)} holds files that are not the {what}'s ({escape(_listing(foreign))}); "
            "{force} replaces only a job's own files: move them, or choose another {out}"
        )
    remove_files(out, entries)


def claim_files(folder: Path, names: Iterable[str]) -> None:
    """Add files another command writes from a job's results (``stabsim report``'s charts and
    briefing) to the job's manifest, so ``force`` may replace them with the job. A folder
    without a manifest (not a job's) is left as it is."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        return
    with FolderLock(Path(folder)):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files", []), list):
            return
        files = [n for n in manifest.get("files", []) if isinstance(n, str)]
        added = [n for n in names if _inside(n) and n not in files]
        if added:
            manifest["files"] = files + added
            write_json(path, manifest)


def _leftover(entry: str) -> bool:
    """What a job killed before writing its manifest can leave: temporary files."""
    return PurePosixPath(entry).name.startswith(".tmp-")


def check_out(
    out: Path, identity: dict[str, Any], resume: bool, force: bool, own: Iterable[str],
    what: str,
) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """Decide what to do with the output folder: ``"fresh"``, ``"resume"`` or ``"complete"``,
    with the manifest found there (``{}`` if none). Call it holding the folder's lock."""
    where = escape(out)
    manifest_path = out / "manifest.json"
    if out.exists() and not out.is_dir():
        raise FolderError(f"{where} is a file, not a folder; choose another {{out}}")
    entries = _entries(out) if out.is_dir() else []
    if not manifest_path.is_file():
        foreign = [e for e in entries if not _leftover(e)]
        if foreign:
            raise FolderError(
                f"{where} is not empty and holds no stabsim {what} "
                f"({escape(_listing(foreign))}); choose another {{out}} "
                "({force} replaces only a job's own files)"
            )
        remove_files(out, entries)
        return "fresh", {}
    try:
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if not isinstance(old, dict):
        old = {}
    old_identity = old.get("identity")
    if force:
        clear_outputs(out, old, own, what)
        return "fresh", {}
    if old_identity != identity:
        old_identity = old_identity if isinstance(old_identity, dict) else {}
        differ = [k for k in identity if old_identity.get(k) != identity[k]] or ["manifest"]
        raise FolderError(
            f"{where} holds a different {what} (differs in {', '.join(differ)}); "
            "choose another {out} or add {force} to replace it"
        )
    status = old.get("status")
    if resume:
        return ("complete" if status == "complete" else "resume"), old
    if status == "complete":
        raise FolderError(
            f"{where} already holds this {what}, complete; add {{force}} to run it again"
        )
    raise FolderError(
        f"{where} holds this {what}, unfinished; add {{resume}} to complete it "
        "or {force} to start over"
    )


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
        elif bad := parts.damaged(t):
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
