"""The scenarios that ship with stabsim: the bundled cases and the history library of past
Council decisions, found in a source tree or an installed package, and looked up by name.

Rules:

- The bundled files are the repository's ``scenarios/`` folder; an installed package carries
  them as ``sim.bundled`` (and ``sim.bundled.history``), so a normal install finds them.
- A name is a file's stem or a unique prefix of one (``gaza`` for ``gaza_isf_2025``), among the
  bundled cases first, then the history library (``history/iraq_mnf_2003`` names one there
  whatever the bundled cases hold). An existing path always means that file; a missing one
  that looks like a file (``.yaml``, or a folder in it) is left for the loader to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.errors import StabsimError

HISTORY = "history"


class UnknownScenario(StabsimError):
    """A scenario argument that is neither a file nor a shipped scenario's name."""


def root() -> Path:
    """The folder holding the bundled scenarios (with ``history/`` inside): the installed
    package's ``sim/bundled``, else the source tree's ``scenarios/``."""
    here = Path(__file__).resolve().parents[1]  # the sim package
    installed = here / "bundled"
    return installed if installed.is_dir() else here.parent / "scenarios"


def default_scenario() -> Path:
    """The case that started the project: Gaza, 2025."""
    return root() / "gaza_isf_2025.yaml"


@dataclass(frozen=True)
class Entry:
    """One shipped scenario: its name (what ``stabsim run NAME`` takes), kind, file and title."""

    name: str
    kind: str  # "bundled" or "history"
    path: Path
    title: str
    observed: str | None  # what happened, where the file records it


def _entry(path: Path, kind: str) -> Entry:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    observed = data.get("observed") if isinstance(data, dict) else None
    outcome = observed.get("outcome") if isinstance(observed, dict) else None
    name = path.stem if kind == "bundled" else f"{HISTORY}/{path.stem}"
    return Entry(name, kind, path, str(data.get("name", path.stem)), outcome)


def entries() -> list[Entry]:
    """Every shipped scenario: the bundled cases, then the history library, each by name."""
    base = root()
    return [_entry(p, "bundled") for p in sorted(base.glob("*.yaml"))] + [
        _entry(p, "history") for p in sorted((base / HISTORY).glob("*.yaml"))
    ]


def find(value: str) -> Path:
    """The file ``value`` means: an existing path, or a shipped scenario's name or a unique
    prefix of it. Anything else is a one-line error listing the names."""
    path = Path(value)
    if path.is_file():
        return path
    if path.exists():
        raise UnknownScenario(f"{value}: expected a scenario file, found a folder")
    base = root()
    stem = value[:-5] if value.endswith(".yaml") else value
    pools = [(HISTORY + "/", sorted((base / HISTORY).glob("*.yaml")))]
    if not stem.startswith(HISTORY + "/"):
        pools.insert(0, ("", sorted(base.glob("*.yaml"))))
    for prefix, files in pools:
        want = stem.removeprefix(prefix)
        exact = [p for p in files if p.stem == want]
        if exact:
            return exact[0]
        partial = [p for p in files if p.stem.startswith(want)]
        if len(partial) == 1:
            return partial[0]
        if len(partial) > 1:
            names = ", ".join(prefix + p.stem for p in partial)
            raise UnknownScenario(f"{value}: names more than one scenario: {names}")
    if value.endswith((".yaml", ".yml")) or "/" in stem.removeprefix(HISTORY + "/"):
        return path  # meant as a file: the loader says it cannot be read
    raise UnknownScenario(
        f"{value}: no such file, and no shipped scenario of that name (stabsim scenarios lists "
        f"them: {', '.join(e.name for e in entries() if e.kind == 'bundled')}, history/...)",
    )
