"""What the explorer holds, without a browser: the chosen scenario, the changes made to it, the
seed, and the what-if file those changes make.

Rules:

- The scenario is a shipped one (by name, ``stabsim scenarios`` lists them) or a file; it is read
  once and never written. Changes are ``{dotted path: value}``, applied exactly as
  ``stabsim run SCENARIO --set PATH=VALUE`` applies them (a distribution a change fixes is still
  drawn, so every other parameter draws as in the unchanged scenario: the two stay paired).
- A change is checked before it is kept: a value the loader refuses changes nothing, and its
  message, the lines the command line prints, is kept for the control that made it. A value
  equal to the file's removes the change.
- The saved what-if says ``extends: <the scenario's name, or its path from the saved file>`` and
  holds only the changes, each commented with the file's value; ``stabsim validate``, ``run`` and
  ``sweep`` take it and compile the same scenario as the explorer's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from sim.errors import OptionError, Problem, ScenarioError, StabsimError
from sim.experiments import runner
from sim.scenario import library, overlay
from sim.scenario.compiled import Scenario
from sim.scenario.distributions import parse_dist
from sim.scenario.overrides import lookup
from sim.scenario.schema import PROTOCOLS, Actor, Troops, range_of
from sim.scenario.textspace import SCALE, UNORDERED

HEADER = "# what-if saved from stabsim app"
CHANGED = "changed in stabsim app"


# --- the scenario ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """The chosen scenario: how it is named (a shipped name, or the path as given), its file and
    its data (with any chain it extends laid over)."""

    name: str
    path: Path
    loaded: overlay.Loaded

    @property
    def shipped(self) -> bool:
        """A bundled or history scenario, named in ``extends:`` by its name."""
        return any(e.path.resolve() == self.path.resolve() for e in library.entries())


def open_base(value: str) -> Base:
    """The scenario ``value`` names (a shipped name or a file), read and laid over its chain;
    a missing or invalid file is a :class:`StabsimError` with the command line's message."""
    path = library.find(value)
    loaded = overlay.load(path)
    entry = next((e for e in library.entries() if e.path.resolve() == path.resolve()), None)
    return Base(entry.name if entry else value, path, loaded)


def compile_changes(base: Base, changes: dict[str, Any]) -> Scenario:
    """The scenario with the changes applied as ``--set`` applies them; a refusal is raised as the
    command line would report it (each problem at the file and line its value came from)."""
    loaded = base.loaded
    try:
        scenario = Scenario.from_data(loaded.data, loaded.source, dict(changes), kept=loaded.kept)
    except ScenarioError as exc:
        raise overlay.validated(loaded, exc) from None
    scenario.loaded = loaded
    return scenario


def message(exc: BaseException) -> str:
    """An error as the command line prints it: a stabsim error's own lines, anything else one
    line naming its kind."""
    if isinstance(exc, StabsimError):
        return exc.for_command_line()
    return f"stabsim: internal error: {type(exc).__name__}: {exc}"


# --- the explorer's state -------------------------------------------------------------------------


@dataclass(frozen=True)
class Explorer:
    """The scenario, the changes kept (by dotted path, in the order made), the messages of the
    changes refused (by the path of their control), the seed and the compiled scenario."""

    base: Base
    scenario: Scenario
    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seed: int = 1

    def original(self, path: str) -> Any:
        """The file's value at ``path`` (None where the file has none)."""
        return lookup(self.base.loaded.data, path)

    def value(self, path: str) -> Any:
        """The value at ``path`` now: the change, or the file's."""
        return self.changes[path] if path in self.changes else self.original(path)


def start(value: str, seed: int = 1) -> Explorer:
    """The explorer on scenario ``value`` with no changes."""
    base = open_base(value)
    return Explorer(base, compile_changes(base, {}), seed=check_seed(seed))


def check_seed(seed: Any) -> int:
    """A seed is a whole number >= 0: the runner's rule and message (``stabsim sweep --seed``),
    after the page's own check that it is a whole number at all."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise OptionError("seed", f"expected a whole number >= 0, got {seed}")
    runner.check_seed(seed)
    return seed


def with_seed(ex: Explorer, seed: Any) -> Explorer:
    """The explorer with another seed; a refused seed is kept as the message of control
    ``seed``."""
    try:
        return replace(ex, seed=check_seed(seed), errors=_without(ex.errors, "seed"))
    except StabsimError as exc:
        return replace(ex, errors={**ex.errors, "seed": message(exc)})


def change(ex: Explorer, path: str, value: Any) -> Explorer:
    """Set ``path`` to ``value`` if the scenario still validates (a value equal to the file's
    drops the change); otherwise keep everything and record the message for ``path``."""
    changes = dict(ex.changes)
    changes.pop(path, None)
    if not _same(value, ex.original(path)):
        changes[path] = value
    try:
        scenario = compile_changes(ex.base, changes)
    except Exception as exc:  # every refusal becomes the control's message, never a traceback
        return replace(ex, errors={**ex.errors, path: message(exc)})
    return replace(ex, scenario=scenario, changes=changes, errors=_without(ex.errors, path))


def undo(ex: Explorer, path: str) -> Explorer:
    """Drop the change at ``path`` (and its message)."""
    return (
        change(ex, path, ex.original(path))
        if path in ex.changes
        else replace(ex, errors=_without(ex.errors, path))
    )


def reset(ex: Explorer) -> Explorer:
    """The scenario as the file has it."""
    return replace(ex, scenario=compile_changes(ex.base, {}), changes={}, errors={})


def _without(d: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in d.items() if k != key}


def _same(a: Any, b: Any) -> bool:
    """Equal as a file would hold them (1 and 1.0 alike; no list and an empty one alike)."""
    if a in ([], None) and b in ([], None):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


# --- the what-if file ---------------------------------------------------------------------------


def nested(changes: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b.c": 1}`` -> ``{"a": {"b": {"c": 1}}}`` (the file's shape of the changes)."""
    out: dict[str, Any] = {}
    for path, value in changes.items():
        node = out
        *head, last = path.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def default_save_path(ex: Explorer) -> Path:
    """Where the what-if goes unless told: ``results/<scenario>-whatif.yaml``."""
    return Path("results") / f"{ex.base.path.stem}-whatif.yaml"


def extends_value(ex: Explorer, target: Path) -> str:
    """What the saved file's ``extends:`` says: a shipped scenario's name, else the scenario's
    path relative to the saved file's folder."""
    if ex.base.shipped:
        return ex.base.name
    return os.path.relpath(ex.base.path.resolve(), target.resolve().parent)


def overlay_text(ex: Explorer, target: Path | None = None) -> str:
    """The what-if file of the changes: a header, ``extends:`` and the changes in the file's
    shape, each value commented with the file's (``changed in stabsim app (was X)``)."""
    target = target or default_save_path(ex)
    lines = [
        HEADER,
        f"# {len(ex.changes)} change{'s' * (len(ex.changes) != 1)} to {ex.base.name}; "
        f"try it: stabsim sweep {target} --seed {ex.seed}",
        f"extends: {_scalar(extends_value(ex, target))}",
    ]

    def emit(node: dict[str, Any], prefix: str, indent: int) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            pad = "  " * indent
            if isinstance(value, dict) and path not in ex.changes:
                lines.append(f"{pad}{_scalar(key)}:")
                emit(value, path, indent + 1)
            else:
                was = _scalar(ex.original(path)) if ex.original(path) is not None else "not set"
                lines.append(f"{pad}{_scalar(key)}: {_scalar(value)}  # {CHANGED} (was {was})")

    emit(nested(ex.changes), "", 0)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    """A value as YAML writes it on one line (flow style for lists and mappings)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    text = text.strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def save(ex: Explorer, target: str | Path | None = None) -> Path:
    """Write the what-if file (folders made as needed); never over the scenario or a file it
    extends, and only what validates (its problems as the command line says them)."""
    path = Path(target) if target else default_save_path(ex)
    if path.is_dir() or str(target or "").endswith(("/", os.sep)):
        raise StabsimError(f"{path}: expected a file name, got a folder")
    chain = {layer.path.resolve() for layer in ex.base.loaded.chain}
    if path.resolve() in chain:
        raise StabsimError(f"{path}: is the scenario itself; the explorer never writes it")
    if path.suffix not in (".yaml", ".yml"):
        raise StabsimError(f"{path}: expected a .yaml file name")
    text = overlay_text(ex, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    try:
        Scenario.from_file(tmp)  # the same check as stabsim validate, before it takes the name
    except StabsimError:
        tmp.unlink()
        raise
    os.replace(tmp, path)
    return path


# --- the levers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lever:
    """One control: the dotted path it changes, its label, its kind (``number``, ``whole``,
    ``option``, ``flag``), its value now, its range or options, and what the file says."""

    path: str
    label: str
    kind: str
    value: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    drawn: str | None = None  # the file's distribution, while the value is not fixed
    changed: bool = False
    option: str | None = None  # a flag's option (red lines: one flag per option)
    error: str | None = None


def shown(value: Any) -> Any:
    """A control's value for a file's value: a distribution's middle (its mode, or the middle
    of its support), anything else as it is."""
    if isinstance(value, dict) and "dist" in value:
        d = parse_dist(value)
        if d.kind == "triangular":
            return float(d.args[1])
        if d.kind == "choice":
            return d.args[0][0]
        lo, hi = d.support if d.support else (0.0, 0.0)
        return float((lo + hi) / 2)
    return value


def _number(ex: Explorer, path: str, label: str, bounds: tuple[float, float], step: float,
            default: float) -> Lever:  # fmt: skip
    raw = ex.value(path)
    value = shown(raw)
    drawn = parse_dist(raw).describe() if isinstance(raw, dict) and "dist" in raw else None
    return Lever(path, label, "number", float(default if value is None else value),
                 bounds[0], bounds[1], step, drawn=drawn, changed=path in ex.changes,
                 error=ex.errors.get(path))  # fmt: skip


def actor_levers(ex: Explorer, actor: str) -> list[Lever]:
    """The controls of one actor: status quo, flexibility; per clause its salience, its ideal
    option (ordered and scale clauses) and its red lines (one flag per option); willingness and
    troops for a contributor."""
    sc = ex.scenario
    p = f"actors.{actor}"
    out = [
        _number(ex, f"{p}.status_quo", "Status quo (utility of no resolution)",
                range_of(Actor, "status_quo"), 0.05, 0.0),
        _number(ex, f"{p}.flexibility", "Flexibility", range_of(Actor, "flexibility"), 0.05, 0.0),
    ]  # fmt: skip
    for c in sc.space.clauses:
        out.append(
            _number(ex, f"{p}.salience.{c.id}", f"{c.label}: salience", (0.0, 1.0), 0.05, 0.0)
        )
        if c.kind != UNORDERED:
            path = f"{p}.ideal.{c.id}"
            raw = ex.value(path)
            value = shown(raw)
            drawn = parse_dist(raw).describe() if isinstance(raw, dict) and "dist" in raw else None
            out.append(Lever(path, f"{c.label}: ideal", "option",
                             None if value is None else _option_name(c.kind, value), options=c.options,
                             drawn=drawn, changed=path in ex.changes, error=ex.errors.get(path)))  # fmt: skip
        path = f"{p}.red_lines.{c.id}"
        red = {_option_name(c.kind, o) for o in (ex.value(path) or [])}
        for o in c.options:
            out.append(Lever(path, f"{c.label}: red line at {c.words(c.options.index(o))}", "flag",
                             o in red, option=o, changed=path in ex.changes,
                             error=ex.errors.get(path)))  # fmt: skip
    if ex.value(f"{p}.troops") is not None:
        out.append(_number(ex, f"{p}.troops.willingness", "Troops: willingness",
                           range_of(Troops, "willingness"), 0.05, 0.5))  # fmt: skip
        out.append(_number(ex, f"{p}.troops.max", "Troops: pledged at most",
                           (0.0, 50_000.0), 100.0, 0.0))  # fmt: skip
    return out


def scenario_levers(ex: Explorer) -> list[Lever]:
    """The scenario's controls: the deadline (negotiation rounds at most) and the protocol."""
    rounds, protocol = "negotiation.max_rounds", "negotiation.protocol"
    return [
        Lever(rounds, "Deadline (rounds at most)", "whole", int(ex.scenario.max_rounds), 1, 50, 1,
              changed=rounds in ex.changes, error=ex.errors.get(rounds)),
        Lever(protocol, "Protocol", "option", ex.scenario.protocol, options=PROTOCOLS,
              changed=protocol in ex.changes, error=ex.errors.get(protocol)),
    ]  # fmt: skip


def _option_name(kind: str, value: Any) -> str:
    """An option as a control names it: a scale value as the scale writes it (``24``)."""
    if kind == SCALE and not isinstance(value, str):
        return f"{float(value):g}"
    return str(value)


def option_value(ex: Explorer, clause: str, option: str) -> Any:
    """What a file holds for an option a control names: a scale value as a number."""
    if _clause(ex, clause).kind != SCALE:
        return option
    x = float(option)
    return int(x) if x.is_integer() else x


def set_option(ex: Explorer, path: str, option: str) -> Explorer:
    """Change an ideal (``actors.X.ideal.CLAUSE``) or the protocol to the named option."""
    parts = path.split(".")
    if len(parts) == 4 and parts[0] == "actors" and parts[2] == "ideal":
        return change(ex, path, option_value(ex, parts[3], option))
    return change(ex, path, option)


def set_red_line(ex: Explorer, actor: str, clause: str, option: str, on: bool) -> Explorer:
    """Draw (``on``) or lift the red line of ``actor`` at ``option`` of ``clause``."""
    path = f"actors.{actor}.red_lines.{clause}"
    c = _clause(ex, clause)
    names = {_option_name(c.kind, o) for o in (ex.value(path) or [])}
    names = names | {option} if on else names - {option}
    return change(ex, path, [option_value(ex, clause, o) for o in c.options if o in names])


def _clause(ex: Explorer, clause: str) -> Any:
    return next(c for c in ex.scenario.space.clauses if c.id == clause)


def problem_line(ex: Explorer, path: str, text: str) -> str:
    """A refusal for a control whose input is not even a value (``abc`` for a number), worded as
    the loader words a bad value at ``path``."""
    return ScenarioError(ex.base.loaded.source, [Problem(path, text)]).for_command_line()
