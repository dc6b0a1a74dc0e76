"""The space of possible resolution texts: one option per clause.

A text is an integer vector (one option index per clause). Every clause's options
sit at a position in [0, 1]: evenly spaced for ordered clauses, proportional to the
value for scale clauses, and meaningless (0) for unordered ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import overload

import numpy as np

from sim.scenario.schema import Clause, fmt_num

ORDERED, UNORDERED, SCALE = "ordered", "unordered", "scale"
CLAUSE_KINDS = (ORDERED, UNORDERED, SCALE)
ENUMERATION_CACHE = 4096  # masks remembered per text space


@dataclass(frozen=True)
class ClauseDef:
    """A clause as the model sees it: option names, positions and paragraph templates."""

    id: str
    label: str
    kind: str
    section: str
    options: tuple[str, ...]  # option ids; for a scale, the values formatted
    values: tuple[float, ...] | None  # scale values, else None
    templates: tuple[str, ...]
    unit: str = ""
    labels: tuple[str, ...] = ()  # options in words, for readers

    def words(self, k: int) -> str:
        """Option k as a reader should see it: its label, a scale value with its unit, or the
        option id with spaces."""
        if self.kind == SCALE:
            return f"{self.options[k]} {self.unit}".strip()
        return self.labels[k] if self.labels else self.options[k].replace("_", " ")

    @property
    def size(self) -> int:
        return len(self.options)

    @property
    def positions(self) -> np.ndarray:
        if self.kind == SCALE:
            v = np.asarray(self.values, dtype=float)
            return (v - v[0]) / (v[-1] - v[0]) if v[-1] > v[0] else np.zeros_like(v)
        if self.kind == ORDERED and self.size > 1:
            return np.linspace(0.0, 1.0, self.size)
        return np.zeros(self.size)

    def index_of(self, option: str | float) -> int:
        """Option index of an option id (or, for a scale, of a value on the scale)."""
        if self.kind == SCALE:
            if isinstance(option, str):
                try:
                    option = float(option)
                except ValueError:
                    raise KeyError(option) from None
            matches = np.flatnonzero(np.isclose(self.values, float(option)))
            if not len(matches):
                raise KeyError(option)
            return int(matches[0])
        if not isinstance(option, str) or option not in self.options:
            raise KeyError(option)
        return self.options.index(option)

    def paragraph(self, k: int) -> str:
        template = self.templates[0] if self.kind == SCALE else self.templates[k]
        if self.kind == SCALE:
            return template.replace("{value}", self.options[k]).replace("{unit}", self.unit)
        return template


def scale_values(lo: float, hi: float, step: float) -> tuple[float, ...]:
    n = round((hi - lo) / step)
    return tuple(float(lo + step * k) for k in range(n + 1))


def clause_def(cid: str, c: Clause) -> ClauseDef:
    """Build a ClauseDef from a validated clause (kind-specific fields already checked)."""
    if c.kind == SCALE:
        values = scale_values(c.min, c.max, c.step)  # type: ignore[arg-type]
        return ClauseDef(
            cid,
            c.label,
            c.kind,
            c.section,
            tuple(fmt_num(v) for v in values),
            values,
            (c.template or "",),
            c.unit,
        )
    opts = c.options or {}
    labels = tuple(c.labels.get(o, o.replace("_", " ")) for o in opts)
    return ClauseDef(
        cid, c.label, c.kind, c.section, tuple(opts), None, tuple(opts.values()), labels=labels
    )


@dataclass(frozen=True)
class Neighbourhood:
    """Texts near a draft: ``singles`` (S, C) change one clause (``clause``, ``option``);
    ``pairs`` (P, C) change two; ``pair_index[s, t]`` is the pair of singles s and t (-1 when
    they touch the same clause)."""

    singles: np.ndarray
    clause: np.ndarray
    option: np.ndarray
    pairs: np.ndarray
    pair_index: np.ndarray


@dataclass(frozen=True)
class TextSpace:
    """All texts: the product of the clauses' options."""

    clauses: tuple[ClauseDef, ...]

    @property
    def sizes(self) -> np.ndarray:
        return np.array([c.size for c in self.clauses])

    @property
    def n_texts(self) -> int:
        """The number of texts, exact (a Python int: an int64 product wraps past 2^63)."""
        return math.prod(c.size for c in self.clauses)

    @cached_property
    def max_options(self) -> int:
        return int(self.sizes.max())

    @cached_property
    def option_mask(self) -> np.ndarray:
        """(C, K) True where option k exists for clause c."""
        return np.arange(self.max_options)[None, :] < self.sizes[:, None]

    @cached_property
    def positions(self) -> np.ndarray:
        """(C, K) option positions in [0, 1]; padding is NaN."""
        pos = np.full((len(self.clauses), self.max_options), np.nan)
        for c, cl in enumerate(self.clauses):
            pos[c, : cl.size] = cl.positions
        return pos

    @cached_property
    def ordered_mask(self) -> np.ndarray:
        """(C,) True for clauses whose options lie on a line (ordered and scale)."""
        return np.array([c.kind != UNORDERED for c in self.clauses])

    @overload
    def enumerate(self, mask: np.ndarray | None = None) -> np.ndarray: ...
    @overload
    def enumerate(self, mask: np.ndarray | None, limit: int) -> np.ndarray | None: ...

    def enumerate(self, mask: np.ndarray | None = None, limit: int | None = None):
        """Every text (or every text using only options where ``mask`` (C, K) is True),
        shape (n, C), in lexicographic order; None if there are more than ``limit``."""
        allowed = self.option_mask if mask is None else mask & self.option_mask
        key = allowed.tobytes()
        cached = self._enumerations.get(key)
        if cached is not None:
            return cached if limit is None or len(cached) <= limit else None
        counts = allowed.sum(axis=1)
        if limit is not None and math.prod(int(k) for k in counts) > limit:
            return None
        # Row c lists clause c's allowed options first, in order.
        options = np.argsort(~allowed, axis=1, kind="stable")
        digits = np.stack(np.unravel_index(np.arange(np.prod(counts)), counts), axis=1)
        texts = options[np.arange(len(counts)), digits]
        texts.flags.writeable = False  # shared between callers
        if len(self._enumerations) < ENUMERATION_CACHE and len(texts) <= 100_000:
            self._enumerations[key] = texts
        return texts

    @cached_property
    def _enumerations(self) -> dict[bytes, np.ndarray]:
        """Enumerations already made, by option mask (concession spaces recur across runs)."""
        return {}

    def count(self, mask: np.ndarray) -> int:
        """Number of texts that use only options where ``mask`` (C, K) is True (exact)."""
        return math.prod(int(k) for k in (mask & self.option_mask).sum(axis=1))

    @cached_property
    def _neighbour_index(self) -> tuple[np.ndarray, np.ndarray]:
        clause = np.concatenate([np.full(s, c) for c, s in enumerate(self.sizes)])
        option = np.concatenate([np.arange(s) for s in self.sizes])
        return clause, option

    def single_changes(
        self, text: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every text that differs from ``text`` in exactly one clause (and, given a mask
        (C, K), only to an option the mask allows).

        Returns (texts (n, C), clause changed (n,), option set (n,)).
        """
        clause, option = self._neighbour_index
        keep = option != text[clause]
        if mask is not None:
            keep &= mask[clause, option]
        clause, option = clause[keep], option[keep]
        texts = np.repeat(text[None, :], len(clause), axis=0)
        texts[np.arange(len(clause)), clause] = option
        return texts, clause, option

    def neighbourhood(self, text: np.ndarray, max_pairs: int = 4000) -> Neighbourhood:
        """The texts one or two clauses away from ``text``: every single change, and every pair
        of single changes on different clauses (a trade: give on one clause, take on another),
        unless there are more than ``max_pairs`` of them (then no pairs). Remembered per text
        (drafts recur across runs, openings above all)."""
        key = text.tobytes()
        hit = self._neighbourhoods.get(key)
        if hit is not None:
            return hit
        near = self._neighbourhood(text, max_pairs)
        for arr in (near.singles, near.clause, near.option, near.pairs, near.pair_index):
            arr.flags.writeable = False  # shared between callers
        if len(self._neighbourhoods) < ENUMERATION_CACHE:
            self._neighbourhoods[key] = near
        return near

    @cached_property
    def _neighbourhoods(self) -> dict[bytes, Neighbourhood]:
        return {}

    def _neighbourhood(self, text: np.ndarray, max_pairs: int) -> Neighbourhood:
        singles, clause, option = self.single_changes(text)
        s = len(singles)
        i, j = np.triu_indices(s, k=1)
        keep = clause[i] != clause[j]
        i, j = i[keep], j[keep]
        pair_index = np.full((s, s), -1)
        if len(i) > max_pairs:
            return Neighbourhood(singles, clause, option, singles[:0], pair_index)
        pairs = singles[i].copy()
        pairs[np.arange(len(i)), clause[j]] = option[j]
        pair_index[i, j] = pair_index[j, i] = np.arange(len(i))
        return Neighbourhood(singles, clause, option, pairs, pair_index)

    def describe(self, text: np.ndarray) -> dict[str, str]:
        """{clause id: option id} of a text."""
        return {
            c: names[k]
            for (c, names), k in zip(self._names, np.asarray(text).tolist(), strict=True)
        }

    @cached_property
    def _names(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((c.id, c.options) for c in self.clauses)

    def parse(self, choices: dict[str, str | float]) -> dict[int, int]:
        """Map {clause id: option} to {clause index: option index}; KeyError names the bad one."""
        ids = [c.id for c in self.clauses]
        out = {}
        for cid, opt in choices.items():
            c = ids.index(cid)
            out[c] = self.clauses[c].index_of(opt)
        return out
