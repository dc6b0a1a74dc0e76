"""Where a scenario's numbers come from, read from the comments of its file.

Rule: every number the file writes is counted once, where it is written: a plain YAML scalar
that YAML's resolver reads as an int or a float (so ``0.5``, ``-0.3``, ``1000``, not ``true``,
a date, a quoted ``"0.5"`` or a mapping key), including the numbers inside an anchor (once, not
once per alias), and excluding the ``observed:`` block (what happened, read only by the
backtest; not an input). Each number is classified by the comment on its line or, when its line
has none, by the comment of the nearest enclosing line above it (the first line with less
indentation that has a comment, walking outwards):

- ``assumption``: the comment says ``assumption``, ``assumed`` or ``tuned``;
- ``convention``: else, it says ``convention`` (a value ``docs/writing-a-case.md`` fixes) or
  ``usual stance`` (the convention's words for a value set by standing doctrine);
- ``sourced``: else, it cites a source: ``[A]`` (the article), ``[R]`` (a public record),
  ``reported``, or a UN document symbol (``S/RES/…``, ``S/PV…``, ``S/2012/77``, ``SC/…``,
  ``A/RES/…``);
- ``unlabelled``: no comment, or one that says none of these.

The order is deliberate: a comment such as ``[R] offered to lead; size assumption`` sources the
stance but calls the number itself an assumption, and ``convention: central (SC/10534)``
sources the category while the number is the convention's; a number counts as sourced only
when nothing in its comment says it is a judgement or a convention.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.resolver import Resolver

from sim.scenario.overlay import changes

KINDS = ("sourced", "convention", "assumption", "unlabelled")
SKIPPED = ("observed",)  # top-level blocks that are not inputs

ASSUMPTION = re.compile(r"\bassum(?:ption|ptions|ed)\b|\btuned\b", re.IGNORECASE)
CONVENTION = re.compile(r"\bconventions?\b|\busual stance\b", re.IGNORECASE)
SOURCE = re.compile(
    r"\[A\]|\[R\]|\breported\b|\bS/RES/|\bS/PV|\bS/\d{4}/\d|\bSC/\d|\bA/RES/", re.IGNORECASE
)
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_SKIP_TOKENS = (yaml.StreamStartToken, yaml.StreamEndToken, yaml.BlockEndToken)


def classify(comment: str | None) -> str:
    """The class of a number whose comment is ``comment`` (see the module's rule)."""
    if not comment:
        return "unlabelled"
    if ASSUMPTION.search(comment):
        return "assumption"
    if CONVENTION.search(comment):
        return "convention"
    if SOURCE.search(comment):
        return "sourced"
    return "unlabelled"


@dataclass(frozen=True)
class Number:
    """One number of the file: its line (1-based), as written, its class and the comment used."""

    line: int
    text: str
    kind: str
    comment: str = ""
    file: str = ""
    path: str = ""  # where it sits in the data (``actors.FRA.salience.leadership``, ``a.b[0]``)


@dataclass(frozen=True)
class Provenance:
    """How many of a scenario's numbers are sourced, conventions, assumptions or unlabelled."""

    sourced: int = 0
    convention: int = 0
    assumption: int = 0
    unlabelled: int = 0
    numbers: tuple[Number, ...] = field(default=(), repr=False)

    @property
    def total(self) -> int:
        return self.sourced + self.convention + self.assumption + self.unlabelled

    def counts(self) -> dict[str, int]:
        """``{"total", "sourced", "convention", "assumption", "unlabelled"}``."""
        return {"total": self.total, **{k: getattr(self, k) for k in KINDS}}

    def __add__(self, other: Provenance) -> Provenance:
        return of_numbers((*self.numbers, *other.numbers))


def of_numbers(numbers: Iterable[Number]) -> Provenance:
    """The counts of a list of classified numbers."""
    numbers = tuple(numbers)
    tally = {k: sum(n.kind == k for n in numbers) for k in KINDS}
    return Provenance(**tally, numbers=numbers)


def _comments(text: str, scalars: list[tuple[int, int]]) -> dict[int, str]:
    """Line (0-based) -> the comment on it: text after a ``#`` that starts the line or follows
    a space or tab and lies outside every scalar."""
    out: dict[int, str] = {}
    spans = sorted(scalars)
    k = 0
    for m in re.finditer("#", text):
        i = m.start()
        if i and text[i - 1] not in " \t\n":
            continue
        while k < len(spans) and spans[k][1] <= i:
            k += 1
        if k < len(spans) and spans[k][0] <= i < spans[k][1]:
            continue  # inside a quoted or block scalar
        line = text.count("\n", 0, i)
        if line not in out:
            end = text.find("\n", i)
            out[line] = text[i + 1 : end if end >= 0 else len(text)].strip()
    return out


def _paths(text: str) -> dict[int, str]:
    """The start of every scalar of the text -> its dotted path, in document order (a value
    reached again through an alias keeps the path where it is written)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    out: dict[int, str] = {}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            out.setdefault(node.start_mark.index, path)
        elif isinstance(node, yaml.SequenceNode):
            stack += [(v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node.value)))]
        elif isinstance(node, yaml.MappingNode):
            stack += [(v, f"{path}.{k.value}" if path else str(k.value))
                      for k, v in reversed(node.value)]  # fmt: skip
    return out


def provenance(text: str, name: str = "") -> Provenance:
    """Every number of a scenario file's text, classified by its comment (the module's rule).
    Text that is not YAML counts no numbers."""
    try:
        tokens = list(yaml.scan(text))
    except yaml.YAMLError:
        return Provenance()
    lines = text.split("\n")
    scalars = [(t.start_mark.index, t.end_mark.index) for t in tokens
               if isinstance(t, yaml.ScalarToken)]  # fmt: skip
    comments = _comments(text, scalars)
    indent: dict[int, int] = {}  # content line -> its indentation
    for t in tokens:
        if not isinstance(t, _SKIP_TOKENS):
            ln = t.start_mark.line
            indent.setdefault(ln, len(lines[ln]) - len(lines[ln].lstrip(" ")))
    order = sorted(indent)
    top: dict[int, str] = {}  # content line -> its top-level key
    key = ""
    for ln in order:
        if indent[ln] == 0:
            key = lines[ln].split(":", 1)[0].strip()
        top[ln] = key

    def comment_of(ln: int) -> str:
        if ln in comments:
            return comments[ln]
        level = indent.get(ln, 0)
        for up in reversed(order[: bisect.bisect_left(order, ln)]):
            if indent[up] < level:
                if up in comments:
                    return comments[up]
                level = indent[up]
                if level == 0:
                    break
        return ""

    resolver = Resolver()
    paths = _paths(text)
    numbers = []
    for i, t in enumerate(tokens):
        if not (isinstance(t, yaml.ScalarToken) and t.plain):
            continue
        if i and isinstance(tokens[i - 1], yaml.KeyToken):
            continue  # a mapping key names something; it is not a number of the scenario
        if resolver.resolve(yaml.ScalarNode, t.value, (True, False)) not in _NUMBER_TAGS:
            continue
        ln = t.start_mark.line
        if top.get(ln) in SKIPPED:
            continue
        comment = comment_of(ln)
        numbers.append(Number(ln + 1, t.value, classify(comment), comment, name,
                              paths.get(t.start_mark.index, "")))  # fmt: skip
    return of_numbers(numbers)


def _written(text: str) -> set[str]:
    """The dotted paths a file writes down to what an overlay replaces whole."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return set()
    return set(changes(data)) if isinstance(data, dict) else set()


def _under(path: str, written: set[str]) -> bool:
    """``path`` is one of ``written`` or lies inside one (``a.b.c`` inside ``a.b``)."""
    return any(path == w or path.startswith((f"{w}.", f"{w}[")) for w in written)


def of_manifest(scenario: Mapping[str, Any] | None) -> Provenance | None:
    """The numbers of the scenario a result was run on, from its manifest's ``scenario`` block:
    the file's verbatim ``text`` and, when the file extends others, each base's (``bases``: a
    list of ``{name, text}``, the deepest first). A base's number that a file above it
    replaces is not an input of the runs and is not counted. None when the manifest keeps no
    text."""
    if not scenario or not isinstance(scenario.get("text"), str):
        return None
    layers = [(str(b.get("name", "")), b["text"]) for b in scenario.get("bases") or []
              if isinstance(b, Mapping) and isinstance(b.get("text"), str)]  # fmt: skip
    layers.append((str(scenario.get("file") or scenario.get("name") or ""), scenario["text"]))
    numbers: list[Number] = []
    above: set[str] = set()  # what the files above the one being counted write
    for name, text in reversed(layers):
        numbers += [n for n in provenance(text, name).numbers if not _under(n.path, above)]
        above |= _written(text)
    return of_numbers(numbers)
