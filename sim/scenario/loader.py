"""Read, check and override scenario files, turning every mistake into a one-line problem.

``load_spec(path)`` returns a validated :class:`~sim.scenario.schema.ScenarioSpec` or raises
:class:`~sim.errors.ScenarioError` listing every problem as ``file: field.path: message``.

YAML is read safely (no tags that build objects) and defensively, every limit checked before
the document is built, each refusal one line naming the file, line and column:

- files over :data:`MAX_FILE_BYTES`;
- nesting deeper than :data:`MAX_DEPTH`, and documents that would expand (through anchors and
  aliases, ``<<`` merges included) to more than :data:`MAX_NODES` values or deeper than
  :data:`MAX_DEPTH` — counted on the composed graph, before anything is expanded;
- duplicate keys, complex keys (a list or mapping as a key), sets (``!!set``: unordered, so a
  list read from one would change order between runs), recursive aliases;
- integers longer than :data:`MAX_INT_CHARS` characters.

A number in exponent form without a dot or sign (``1e7``, YAML 1.1 reads a string) is a number.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioError, reason
from sim.scenario.checks import CrossChecks
from sim.scenario.distributions import short_repr
from sim.scenario.schema import ScenarioSpec

MAX_FILE_BYTES = 2 * 1024 * 1024  # a scenario file (the largest bundled one is ~25 KB)
MAX_DEPTH = 32  # nesting levels (a scenario needs about 7)
MAX_NODES = 100_000  # values once aliases are expanded (the largest bundled scenario: ~3,000)
MAX_INT_CHARS = 100  # characters of one integer
MAX_PROBLEMS = 50  # problems listed for one file (then a count of the rest)
FLOAT_EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class Refused(yaml.MarkedYAMLError):
    """A YAML document stabsim will not build: too big, too deep, or of a refused kind."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(None, None, problem, mark)


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys (YAML itself keeps the last silently),
    complex keys, sets, oversized integers, deep nesting and alias expansion beyond the limits."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Refused(
                    f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        check_expansion(node)
        return self.construct_document(node)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_expansion(root: yaml.Node) -> None:
    """Refuse a document that would expand, aliases followed, to more than MAX_NODES values or
    deeper than MAX_DEPTH levels, or that holds an alias to itself. Each node is visited once
    (sizes of shared nodes are remembered), so a small alias bomb costs a small count."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in size:
            continue
        kids = _children(node)
        if not ready:
            busy.add(key)
            stack.append((node, True))
            for kid in kids:
                if id(kid) in busy:
                    raise Refused("an alias refers to the node that holds it", kid.start_mark)
                if id(kid) not in size:
                    stack.append((kid, False))
            continue
        busy.discard(key)
        size[key] = 1 + sum(size[id(k)] for k in kids)
        depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
        if size[key] > MAX_NODES:
            raise Refused(
                f"this value expands (anchors and aliases followed) to more than "
                f"{MAX_NODES:,} values",
                node.start_mark,
            )
        if depth[key] > MAX_DEPTH:
            raise Refused(
                f"this value nests (anchors and aliases followed) deeper than {MAX_DEPTH} levels",
                node.start_mark,
            )


def _refuse_set(loader: _UniqueKeyLoader, node: yaml.Node) -> Any:
    raise Refused(
        "a set (!!set) has no order, so runs would differ; give a list [a, b] instead",
        node.start_mark,
    )


def _scalar(kind: str, build: Any) -> Any:
    """A constructor of one scalar type that refuses, with the line, a value its PyYAML
    constructor cannot read: ``0b_`` (resolved as an integer), ``!!int ''``, ``!!bool x``,
    ``!!timestamp x`` make it raise ValueError, IndexError, KeyError or AttributeError."""

    def construct(loader: _UniqueKeyLoader, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise Refused(f"expected {kind}, got a list or mapping", node.start_mark)
        if kind == "an integer" and len(node.value) > MAX_INT_CHARS:
            raise Refused(
                f"an integer of {len(node.value):,} characters; at most {MAX_INT_CHARS}",
                node.start_mark,
            )
        try:
            return build(loader, node)
        except (ValueError, IndexError, KeyError, AttributeError, OverflowError):
            raise Refused(f"{short_repr(node.value)} is not {kind}", node.start_mark) from None

    return construct


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    if not isinstance(node, yaml.MappingNode):  # !!map [a]
        raise Refused("expected a mapping, got a list or a value", node.start_mark)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            raise Refused(
                "a complex key (a list or mapping used as a key); keys must be plain names",
                key_node.start_mark,
            )
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:  # a tagged scalar built as a list (? !!pairs): a complex key too
            raise Refused(
                "a complex key (a list or mapping used as a key); keys must be plain names",
                key_node.start_mark,
            ) from None
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
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:set", _refuse_set)
for _tag, _kind, _build in (
    ("int", "an integer", yaml.SafeLoader.construct_yaml_int),
    ("float", "a number", yaml.SafeLoader.construct_yaml_float),
    ("bool", "true or false", yaml.SafeLoader.construct_yaml_bool),
    ("timestamp", "a date", yaml.SafeLoader.construct_yaml_timestamp),
):
    _UniqueKeyLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _scalar(_kind, _build))
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", FLOAT_EXPONENT, list("-+0123456789.")
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with the scenario loader; raises yaml.YAMLError (Refused for what the
    loader will not build)."""
    if len(text) > MAX_FILE_BYTES:
        raise Refused(f"{len(text):,} characters; at most {MAX_FILE_BYTES:,}", None)
    return yaml.load(text, Loader=_UniqueKeyLoader)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error as one line: where (line and column) and what."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or str(exc)
    elif isinstance(exc, yaml.reader.ReaderError):
        where, problem = f" at character {exc.position}", exc.reason
        if isinstance(exc.character, int):
            problem += f" (#x{exc.character:04x})"
    else:
        where, problem = "", str(exc)
    return f"YAML error{where}: {' '.join(str(problem).split())}"


def read_yaml(text: str, source: str) -> Any:
    """Parse YAML text; syntax errors, duplicate keys and refused documents become a
    ScenarioError of one line naming the line and column."""
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [Problem("", yaml_problem(exc))]) from None
    except RecursionError:  # a guard: MAX_DEPTH keeps the composer far from the limit
        raise ScenarioError(
            source, [Problem("", f"nested deeper than {MAX_DEPTH} levels")]
        ) from None


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
    """``repr(value)`` cut to ``limit`` characters, without building a long repr first."""
    return short_repr(value, limit)


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
        errors = exc.errors()
        problems = [_problem_from_pydantic(e) for e in errors[:MAX_PROBLEMS]]
        raise ScenarioError(source, _capped(problems, len(errors))) from None
    problems = CrossChecks(spec).run()
    if problems:
        raise ScenarioError(source, _capped(problems[:MAX_PROBLEMS], len(problems)))
    return spec


def _capped(problems: list[Problem], total: int) -> list[Problem]:
    """The first MAX_PROBLEMS problems, then one line counting the rest."""
    if total <= len(problems):
        return problems
    return [*problems, Problem("", f"and {total - len(problems):,} more problems")]


def load_data(path: str | Path) -> tuple[Any, str]:
    """Read a scenario file into plain data; unreadable or oversized files (more than
    MAX_FILE_BYTES, refused before they are parsed) become a ScenarioError."""
    path = Path(path)
    source = path.name
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # never more, whatever the file is (/dev/zero)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError(str(path), [Problem("", f"the file is larger than the "
                                f"{MAX_FILE_BYTES // 1024 ** 2} MiB a scenario may be")])  # fmt: skip
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), [Problem("", f"cannot read file: {reason(exc)}")]) from None
    return read_yaml(text, source), source
