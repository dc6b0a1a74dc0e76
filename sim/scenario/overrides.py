"""Overrides of a scenario file: ``--set PATH=VALUE`` and ``--vary PATH=START:STOP:STEPS`` (or
``--vary PATH=A,B,C``, listed values or option names).

A path is dotted (``actors.FRA.salience.leadership``); a value is read as a scenario file's
values are, by the same guarded loader (``0.2`` and ``1e7`` are numbers, ``[A, B]`` a list;
a set, an alias bomb or an over-long integer is refused). An override under ``actors.X`` or ``clauses.X``
must name an X the file has, rather than silently create a new, incomplete entry.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from sim.errors import OptionError, Problem, ScenarioError
from sim.scenario.distributions import short_repr as _short
from sim.scenario.loader import Refused, parse_yaml, yaml_problem

MAX_GRID_POINTS = 10_000


@dataclass(frozen=True)
class GridAxis:
    """One ``--vary`` axis: a dotted path and the values it takes (numbers, or names)."""

    path: str
    values: tuple[Any, ...]

    @property
    def categorical(self) -> bool:
        """Its values are names (options), not numbers."""
        return any(isinstance(v, str) for v in self.values)


def parse_set(text: str) -> tuple[str, str]:
    """``PATH=VALUE`` -> (path, raw value); the value is read as YAML when applied."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise OptionError("set", f"{text}: expected PATH=VALUE, e.g. actors.FRA.capability=0.2")
    return path.strip(), value.strip()


def parse_vary(text: str) -> GridAxis:
    """``PATH=START:STOP:STEPS`` -> STEPS evenly spaced values from START to STOP inclusive;
    ``PATH=A,B,C`` -> those values as listed (numbers, or option names: categorical)."""
    path, sep, spec = text.partition("=")
    if "," in spec:
        return _listed(text, path, sep, spec)
    parts = spec.split(":")
    bad = OptionError(
        "vary",
        f"{text}: expected PATH=START:STOP:STEPS with numbers START and STOP "
        "and a whole STEPS from 2 to 1000, e.g. actors.FRA.salience.leadership=0.1:0.9:5, "
        "or PATH=A,B,... (values or option names), e.g. actors.IDN.ideal.mandate=endorses,authorizes",
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


def _listed(text: str, path: str, sep: str, spec: str) -> GridAxis:
    """A listed axis: numbers if every value is one (kept as floats), else names as written."""
    items = [v.strip() for v in spec.split(",")]
    if not sep or not path.strip() or not all(items) or not 2 <= len(items) <= 1000:
        raise OptionError(
            "vary",
            f"{text}: expected PATH=A,B,... with 2 to 1000 values, none empty, "
            "e.g. actors.IDN.ideal.mandate=endorses,authorizes",
        )
    if len(set(items)) != len(items):
        raise OptionError("vary", f"{text}: a value is listed twice")
    numbers = []
    for v in items:
        try:
            x = float(v)
        except ValueError:
            return GridAxis(path.strip(), tuple(items))
        if not np.isfinite(x):
            raise OptionError("vary", f"{text}: expected finite numbers, got {v}")
        numbers.append(x)
    return GridAxis(path.strip(), tuple(numbers))


def check_ids(data: Any, path: str, source: str) -> None:
    """An override inside ``actors.X`` or ``clauses.X`` must name an existing X.

    Setting a whole entry (``actors.X`` itself) may add one; a field of an unknown
    entry is a typo.
    """
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] in ("actors", "clauses") and isinstance(data, dict):
        known = data.get(parts[0]) or {}
        if isinstance(known, dict) and parts[1] not in known:
            kind = parts[0][:-1]
            raise ScenarioError(
                source,
                [Problem(path, f"unknown {kind} '{parts[1]}'; expected one of {', '.join(known)}")],
            )


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path of plain data, or None."""
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def parse_value(text: str) -> Any:
    """Read an override value as a scenario file's values are read ('0.2' -> 0.2, '1e7' ->
    10000000.0, '[A, B]' -> list); text that is not YAML stays text; a refused document (a
    set, an alias bomb, an over-long integer) is an error naming the value."""
    try:
        return parse_yaml(text)
    except Refused as exc:
        raise OptionError("set", f"{_short(text)}: {yaml_problem(exc)}") from None
    except yaml.YAMLError:
        return text


def apply_override(data: dict, path: str, value: Any, source: str) -> dict:
    """Return a copy of ``data`` with the dotted ``path`` set to ``value``."""
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ScenarioError(
            source, [Problem(path, "expected a dotted path such as actors.FRA.capability")]
        )
    out = copy.deepcopy(data)
    node: Any = out
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            node = _list_item(node, part, here, source)
            continue
        if not isinstance(node, dict):
            raise ScenarioError(source, [Problem(here, f"cannot descend into {_short(node)}")])
        if part not in node or node[part] is None:
            node[part] = {}
        elif not isinstance(node[part], dict | list):
            raise ScenarioError(
                source,
                [
                    Problem(
                        here, f"is the value {_short(node[part])}, not a mapping; set {here} itself"
                    )
                ],
            )
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        idx = _index(node, last, path, source)
        node[idx] = value
    else:
        node[last] = value
    return out


def _index(node: list, part: str, path: str, source: str) -> int:
    try:
        idx = int(part)
    except ValueError:
        raise ScenarioError(
            source, [Problem(path, f"expected a list index, got {part!r}")]
        ) from None
    if not -len(node) <= idx < len(node):
        raise ScenarioError(
            source, [Problem(path, f"expected an index below {len(node)}, got {idx}")]
        )
    return idx


def _list_item(node: list, part: str, path: str, source: str) -> Any:
    return node[_index(node, part, path, source)]
