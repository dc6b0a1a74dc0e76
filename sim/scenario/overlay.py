"""What-if files: a scenario that says ``extends: BASE`` holds only what changes.

Rules:

- ``BASE`` is a path relative to the file that names it, or a shipped scenario's name
  (``gaza``, ``gaza_isf_2025.yaml``; see :mod:`sim.scenario.library`). A base may itself
  extend another (a chain, at most :data:`MAX_CHAIN` files); a file met twice is a cycle and
  is refused.
- The file's mappings are laid over the base's key by key, all the way down; anything else
  (a number, a name, a list, a distribution ``{dist: ...}``) replaces the base's value whole.
  So ``actors: {FRA: {salience: {leadership: 0.2}}}`` changes one number and keeps the rest,
  and ``red_lines: {mandate: []}`` lifts a red line.
- A distribution of the base that the file fixes is still drawn (and ignored), as with
  ``--set``, so every other parameter draws the same in run ``i`` of the base and of the
  what-if: their comparison is paired.
- Every value remembers the file and line it came from, so a problem names the line to edit
  (``whatif.yaml, line 4: actors.FRA.salience.leadership: ...``), and
  :func:`changes` lists the file's own differences by dotted path.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import Problem, ScenarioError
from sim.scenario import library
from sim.scenario.loader import load_data

MAX_CHAIN = 8  # files in one chain of extends
Key = tuple[str | int, ...]


@dataclass(frozen=True)
class Layer:
    """One file of a chain: where it is, its text and the line of every value it writes."""

    path: Path
    text: str
    lines: dict[Key, int]


@dataclass
class Loaded:
    """A scenario's data with its chain of files (the file itself last) and, per dotted key,
    the file and line each value came from."""

    data: Any
    source: str
    chain: list[Layer] = field(default_factory=list)
    origins: dict[Key, tuple[str, int]] = field(default_factory=dict)
    own: dict[str, Any] = field(default_factory=dict)  # the file's own values, by dotted path
    kept: dict[str, Any] = field(default_factory=dict)  # base distributions now fixed, by path

    @property
    def extends(self) -> bool:
        return len(self.chain) > 1

    def sha256(self) -> str:
        """One hash of the bytes of every file in the chain (of a lone file: its own hash); a base
        that changes changes it."""
        digest = hashlib.sha256()
        for layer in self.chain:
            digest.update(layer.path.read_bytes())
        return digest.hexdigest()

    def record(self) -> dict[str, Any]:
        """What a result's manifest keeps of a chain: the bases (name, file, text) below the
        file and the file's own changes by dotted path; empty for a file that extends none."""
        if not self.extends:
            return {}
        return {
            "bases": [
                {"name": layer.path.stem, "file": str(layer.path), "text": layer.text}
                for layer in self.chain[:-1]
            ],
            "changes": self.own,
        }

    def where(self, problem: Problem) -> Problem:
        """The problem, said at the file and line its value came from (chains only)."""
        if not self.extends or not problem.path:
            return problem
        key = split_path(problem.path)
        while key and key not in self.origins:
            key = key[:-1]
        if not key:
            return problem
        name, line = self.origins[key]
        return Problem(problem.path, problem.message, origin=f"{name}, line {line}")


def split_path(path: str) -> Key:
    """``actors.E.red_lines.mandate[0]`` -> ``('actors', 'E', 'red_lines', 'mandate', 0)``."""
    out: list[str | int] = []
    for part in path.split("."):
        m = re.fullmatch(r"(.*?)((?:\[\d+\])*)", part)
        assert m is not None
        if m.group(1):
            out.append(m.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return tuple(out)


def value_lines(text: str) -> dict[Key, int]:
    """The 1-based line of every value in a YAML text, by key path (merge keys ``<<`` are not
    followed: their values keep the line of the mapping that merges them)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}  # the loader has already refused it, with its own line
    out: dict[Key, int] = {}
    stack: list[tuple[Key, yaml.Node]] = [((), root)] if root is not None else []
    while stack:
        key, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    out[(*key, k.value)] = k.start_mark.line + 1
                    stack.append(((*key, k.value), v))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out[(*key, i)] = v.start_mark.line + 1
                stack.append(((*key, i), v))
    return out


def is_leaf(value: Any) -> bool:
    """A value an overlay replaces whole: anything but a mapping, and a distribution."""
    return not isinstance(value, dict) or "dist" in value


def lay_over(base: Any, top: Any) -> Any:
    """``top`` laid over ``base``: mappings merged key by key, anything else replaced."""
    if is_leaf(base) or is_leaf(top):
        return top
    out = dict(base)
    for k, v in top.items():
        out[k] = lay_over(base[k], v) if k in base else v
    return out


def changes(data: Any, prefix: str = "") -> dict[str, Any]:
    """A file's own values by dotted path, down to what replaces whole (``extends`` left out)."""
    if is_leaf(data):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for k, v in data.items():
        if not prefix and k == "extends":
            continue
        out.update(changes(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def _base_path(value: Any, here: Path, name: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(name, [Problem("extends", f"expected a file or scenario name, got {value!r}")])  # fmt: skip
    candidate = here.parent / value
    if candidate.is_file():
        return candidate
    try:
        return library.find(value)
    except library.UnknownScenario as exc:
        raise ScenarioError(name, [Problem("extends", str(exc))]) from None


def validated(loaded: Loaded, error: ScenarioError) -> ScenarioError:
    """A validation error of a chain's merged data, each problem at its file and line."""
    if not loaded.extends:
        return error
    return ScenarioError(error.source, [loaded.where(p) for p in error.problems])


def load(path: str | Path) -> Loaded:
    """Read a scenario file and, if it extends another, the chain below it, laid over in order;
    unreadable files, missing bases and cycles are one-line errors naming the file."""
    path = Path(path)
    files: list[tuple[Path, Any, str]] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        real = current.resolve()
        if real in seen:
            loop = " -> ".join(p.name for p in [*seen, real])
            raise ScenarioError(files[-1][2], [Problem("extends", f"a cycle: {loop}")])
        if len(seen) == MAX_CHAIN:
            raise ScenarioError(path.name, [Problem("extends", f"a chain of more than {MAX_CHAIN} files")])  # fmt: skip
        seen.append(real)
        data, source = load_data(current)
        files.append((current, data, source))
        nxt = data.get("extends") if isinstance(data, dict) else None
        current = None if nxt is None else _base_path(nxt, current, source)
    if len(files) == 1:
        data, source = files[0][1], files[0][2]
        text = path.read_text(encoding="utf-8")
        return Loaded(data, source, [Layer(path, text, {})])
    merged: Any = {}
    chain: list[Layer] = []
    kept: dict[str, Any] = {}
    for file, data, source in reversed(files):
        if not isinstance(data, dict):
            kind = "an empty file" if data is None else type(data).__name__
            raise ScenarioError(source, [Problem("", f"expected a mapping of scenario fields, got {kind}")])  # fmt: skip
        text = file.read_text(encoding="utf-8")
        mine = {k: v for k, v in data.items() if k != "extends"}
        before = distributions(merged)
        merged = lay_over(merged, mine)
        after = distributions(merged)
        kept.update({p: d for p, d in before.items() if p not in after and p not in kept})
        chain.append(Layer(file, text, value_lines(text)))
    names = [source for _, _, source in reversed(files)]
    origins = _origins(merged, chain, names)
    return Loaded(merged, files[0][2], chain, origins, changes(files[0][1]), kept)


def distributions(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every distribution ``{dist: ...}`` in the data, by dotted path."""
    if isinstance(data, dict) and "dist" in data:
        return {prefix: data}
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(distributions(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {}


def _origins(data: Any, chain: list[Layer], names: list[str]) -> dict[Key, tuple[str, int]]:
    """For every key of the merged data, the topmost file that writes it and the line."""
    out: dict[Key, tuple[str, int]] = {}
    stack: list[tuple[Key, Any]] = [((), data)]
    while stack:
        key, value = stack.pop()
        if key:
            for layer, name in zip(reversed(chain), reversed(names), strict=True):
                if key in layer.lines:
                    out[key] = (name, layer.lines[key])
                    break
        if isinstance(value, dict):
            stack += [((*key, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [((*key, i), v) for i, v in enumerate(value)]
    return out
