"""The output folder of a job: atomic writes, checksummed part files, the lock, and what
``--force`` may remove.

Rules (the runner, :mod:`sim.experiments.runner`, relies on each):

- A file appears under its final name only once whole (temporary name, then rename).
- Every part's SHA-256 is recorded in ``parts/SHA256SUMS`` (``sha256sum``'s format) as it
  is written; a part is used only when its bytes match.
- One job at a time per folder: ``flock`` on ``<out>/.stabsim.lock``, dropped by the kernel
  however its holder exits.
- A folder holds one job. ``force`` removes only that job's own files (listed in its
  manifest, the manifest, the parts, ``.tmp-`` leftovers) and refuses a folder holding
  anything else, naming it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from sim.errors import FolderError, OutputError, escape, reason, writing

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte-range lock instead
    fcntl = None  # type: ignore[assignment]

LOCK = ".stabsim.lock"
SUMS = "SHA256SUMS"
RESUME_HINT = "; the work saved so far is kept: fix this and add {resume} to complete it"
PART_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*\.(?:arrow|npy|npz)")
_SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


class DamagedPart(Exception):
    """A part file whose bytes do not match the SHA-256 recorded when it was written."""

    def __init__(self, name: str, why: str):
        self.name, self.why = name, why
        super().__init__(f"parts/{name}: {why}")


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

    def damaged(self, names: Iterable[str]) -> list[str]:
        """``parts/<name> (why)`` for each of ``names`` that is not as written."""
        found = []
        for name in names:
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


def drop_inherited_locks() -> None:
    """In a forked worker: close the parent's lock descriptors (the lock stays the parent's)."""
    for fd in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()


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
