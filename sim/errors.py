"""Errors a user can act on: every problem names the file, the field path and what was wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (dotted field path) and what."""

    path: str
    message: str
    origin: str | None = None  # where the value was written, when not the file itself

    def line(self, source: str) -> str:
        source = self.origin or source
        where = f"{source}: {self.path}: " if self.path else f"{source}: "
        return where + self.message


class StabsimError(Exception):
    """Base class of every error stabsim reports to a user as one line."""

    def for_command_line(self) -> str:
        """The message as the command line prints it (options named by their flags)."""
        return str(self)


class ScenarioError(StabsimError):
    """A scenario file (or an override of one) is invalid; holds every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.line(source) for p in problems))


class OptionError(StabsimError):
    """An argument of a library call (a command-line option) is out of range or malformed.

    The library names the argument (``runs``); the command line names its flag (``--runs``)."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        self.message = message
        super().__init__(f"{argument}: {message}")

    def for_command_line(self) -> str:
        return f"{flag(self.argument)}: {self.message}"


def flag(argument: str) -> str:
    """The command-line flag of a library argument: ``chunk_size`` -> ``--chunk-size``."""
    return "--" + argument.replace("_", "-")


class FolderError(StabsimError):
    """An output folder cannot take this job (it holds another job, or other files).

    The message names its remedies as ``{out}``, ``{force}`` and ``{resume}``: arguments in
    Python (``force=True``), flags on the command line (``--force``)."""

    def __init__(self, template: str):
        self.template = template
        super().__init__(template.format(out="out", force="force=True", resume="resume=True"))

    def for_command_line(self) -> str:
        return self.template.format(out="--out", force="--force", resume="--resume")


def escape(text: object) -> str:
    """``text`` placed in a FolderError template as itself (its braces doubled)."""
    return str(text).replace("{", "{{").replace("}", "}}")


def reason(exc: BaseException) -> str:
    """The system's reason for an OSError (``No space left on device``), on one line."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return " ".join(text.split()) or type(exc).__name__


class OutputError(FolderError):
    """A file cannot be written (or read back) because of the system: a full disk, a read-only
    folder, a path through a file. The message names the file and the system's reason, then
    the remedy (``hint``, a template like FolderError's)."""

    def __init__(self, path: object, why: BaseException | str, hint: str = ""):
        text = why if isinstance(why, str) else reason(why)
        super().__init__(escape(f"{path}: cannot write: {text}") + hint)


@contextmanager
def writing(path: object, hint: str = "") -> Iterator[None]:
    """Turn an OSError raised while writing ``path`` into an OutputError naming it."""
    try:
        yield
    except OSError as exc:
        raise OutputError(path, exc, hint) from None


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the work saved so far is kept and the job can resume."""
