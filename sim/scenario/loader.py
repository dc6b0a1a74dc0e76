"""Read, check and override scenario files, turning every mistake into a one-line problem.

``load_spec(path)`` returns a validated :class:`~sim.scenario.schema.ScenarioSpec` or raises
:class:`~sim.errors.ScenarioError` listing every problem as ``file: field.path: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioError
from sim.scenario.checks import CrossChecks
from sim.scenario.schema import ScenarioSpec


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys (YAML itself keeps the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1}); ids must be unique",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(text: str, source: str) -> Any:
    """Parse YAML text; syntax errors and duplicate keys become a ScenarioError with the line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = exc.problem or str(exc)
        raise ScenarioError(source, [Problem("", f"YAML error at {where}: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [Problem("", f"YAML error: {exc}")]) from None


# --- pydantic errors -> problems --------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Union down to the first branch that is a model, dict or list."""
    while get_origin(annotation) not in (None, dict, list):
        branches = [a for a in get_args(annotation) if a is not type(None)]
        annotation = next(
            (a for a in branches if get_origin(a) in (dict, list) or _is_model(a)), branches[0]
        )
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The field names accepted at ``loc`` (for 'unknown field' messages)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if _is_model(current):
            if part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    return list(current.model_fields) if _is_model(current) else None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem_from_pydantic(err: dict) -> Problem:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # Union branches add their type name to the location; drop those.
    loc = tuple(p for p in loc if p not in {"str", "float", "list[str]", "dict[str,list[str]]"})
    path = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(ScenarioSpec, loc[:-1])
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return Problem(path, f"unknown field{hint}")
    if kind == "missing":
        return Problem(path, "required field is missing")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return Problem(path, msg[len("Value error, ") :])
    msg = msg.replace("Input should be", "expected").replace("input should be", "expected")
    return Problem(path, f"{msg}, got {_short(err.get('input'))}")


def validate_data(data: Any, source: str) -> ScenarioSpec:
    """Validate parsed YAML; raise ScenarioError with every problem found."""
    if not isinstance(data, dict):
        kind = "an empty file" if data is None else type(data).__name__
        raise ScenarioError(
            source, [Problem("", f"expected a mapping of scenario fields, got {kind}")]
        )
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        problems = [_problem_from_pydantic(e) for e in exc.errors()]
        raise ScenarioError(source, problems) from None
    problems = CrossChecks(spec).run()
    if problems:
        raise ScenarioError(source, problems)
    return spec


def load_data(path: str | Path) -> tuple[Any, str]:
    """Read a scenario file into plain data; unreadable files become a ScenarioError."""
    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(str(path), [Problem("", f"cannot read file: {reason}")]) from None
    return read_yaml(text, source), source
