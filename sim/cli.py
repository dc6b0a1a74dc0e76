"""The ``stabsim`` command: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.errors import StabsimError

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "gaza_isf_2025.yaml"
EXIT_INPUT = 2


def _scenario_path(value: str | None) -> Path:
    return Path(value) if value else DEFAULT_SCENARIO


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    failed = False
    for path in args.files:
        try:
            load_scenario(path)
            print(f"{path}: ok")
        except StabsimError as exc:
            print(str(exc), file=sys.stderr)
            failed = True
    return EXIT_INPUT if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim.model import run
    from sim.render import draft_resolution, summary
    from sim.scenario import load_scenario

    scenario = load_scenario(_scenario_path(args.scenario))
    result = run(scenario, seed=args.seed, protocol=args.protocol)
    if args.json:
        print(result.to_json())
        return 0
    print(summary(result, scenario))
    if args.show_text:
        print()
        print(draft_resolution(result, scenario))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stabsim",
        description="Simulate a UN Security Council negotiation over a stabilization force.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check scenario files; prints ok or one line per error")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run one seeded negotiation and print what happened")
    p.add_argument("scenario", nargs="?", help="scenario file (default: the bundled Gaza case)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--protocol", help="negotiation protocol (default: the scenario's)")
    p.add_argument("--show-text", action="store_true", help="print the text as a draft resolution")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except StabsimError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("stabsim: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line unless debugging
        if os.environ.get("STABSIM_DEBUG"):
            raise
        print(f"stabsim: internal error: {type(exc).__name__}: {exc} "
              "(set STABSIM_DEBUG=1 for details)", file=sys.stderr)  # fmt: skip
        return 3


if __name__ == "__main__":
    sys.exit(main())
