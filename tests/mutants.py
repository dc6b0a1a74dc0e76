"""Mutation-testing helpers for `make mutants` (docs/testing.md, "Mutation testing").

    python tests/mutants.py sample N PATTERN...   # a seeded random sample of N mutant names
    python tests/mutants.py tally [PATTERN...]    # per module: killed, survived, kill rate

Both read the mutants mutmut generated under ``./mutants/`` (its ``.meta`` files: each
mutant's name and the exit code of its last test run). A sample is how the larger modules
are measured on a 2-core machine: a few hundred mutants drawn at random (seed 2026, or
``MUTANT_SEED``) give the kill rate within a few points, with a Wilson interval, in minutes
instead of hours. A timeout counts as killed (the tests noticed: they did not pass).
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

from scipy.stats import binomtest

ROOT = Path("mutants")
KILLED, SURVIVED, TIMEOUT, NO_TESTS, NOT_RUN = (
    "killed",
    "survived",
    "timeout",
    "no tests",
    "not run",
)


def status(code: int | None) -> str:
    """mutmut's reading of a test run's exit code (mutmut 3.8: 0 passed, 5 no tests collected,
    -24 or 24 out of time; anything else failed, so the mutant was killed)."""
    if code is None:
        return NOT_RUN
    if code == 0:
        return SURVIVED
    if code in (5, 33):
        return NO_TESTS
    if code in (-24, 24, 36, 152):
        return TIMEOUT
    return KILLED


def mutants(root: Path = ROOT) -> dict[str, int | None]:
    """Every generated mutant's name and last exit code."""
    found: dict[str, int | None] = {}
    for meta in sorted(root.glob("sim/**/*.meta")):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def matching(names: list[str], patterns: list[str]) -> list[str]:
    return sorted(
        n for n in names if not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns)
    )


def sample(n: int, patterns: list[str], seed: int) -> list[str]:
    """``n`` names drawn without replacement from those matching ``patterns``."""
    pool = matching(list(mutants()), patterns)
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))))


def tally(patterns: list[str]) -> list[str]:
    """One line per module: counts by status and the kill rate of the mutants run, with its
    95% Wilson interval (the interval matters for a sample)."""
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name, code in mutants().items():
        if matching([name], patterns):
            by_module[name.split(".x")[0]][status(code)] += 1
    lines = []
    for module, c in sorted(by_module.items()):
        run = c[KILLED] + c[TIMEOUT] + c[SURVIVED] + c[NO_TESTS]
        if not run:
            continue
        caught = c[KILLED] + c[TIMEOUT]
        ci = binomtest(caught, run).proportion_ci(method="wilson")
        counts = ", ".join(f"{k} {c[k]}" for k in (KILLED, TIMEOUT, SURVIVED, NO_TESTS, NOT_RUN))
        lines.append(f"{module}: {counts}; kill rate {caught / run:.1%} "
                     f"[{ci.low:.1%}, {ci.high:.1%}] of {run} run")  # fmt: skip
    return lines


def main(argv: list[str]) -> int:
    if argv[:1] == ["sample"] and len(argv) >= 2 and argv[1].isdigit():
        print("\n".join(sample(int(argv[1]), argv[2:], int(os.environ.get("MUTANT_SEED", 2026)))))
        return 0
    if argv[:1] == ["tally"]:
        print("\n".join(tally(argv[1:])) or "no mutants run yet under ./mutants/")
        return 0
    print("usage:\n" + "\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
