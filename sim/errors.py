"""Errors a user can act on: every problem names the file, the field path and what was wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (dotted field path) and what."""

    path: str
    message: str

    def line(self, source: str) -> str:
        where = f"{source}: {self.path}: " if self.path else f"{source}: "
        return where + self.message


class StabsimError(Exception):
    """Base class of every error stabsim reports to a user as one line."""


class ScenarioError(StabsimError):
    """A scenario file (or an override of one) is invalid; holds every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.line(source) for p in problems))
