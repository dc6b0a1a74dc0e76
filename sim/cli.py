"""The ``stabsim`` command: parse arguments, call the library, print. Kept whole: one parser
and one thin function per command, so every option is found in one file."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from sim.errors import StabsimError, Terminated

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


def _scenario_path(value: str | None) -> Path:
    """A scenario argument: a file, or a shipped scenario's name (default: the Gaza case)."""
    from sim.scenario.library import default_scenario, find

    return find(value) if value else default_scenario()


def _command(args: argparse.Namespace) -> tuple[str, list[str]]:
    argv = sys.argv[1:] if args.argv is None else args.argv
    return shlex.join(["stabsim", *argv]), list(argv)


def _interrupted(exc: Exception, command: str, argv: Sequence[str]) -> int:
    """Say how to finish an interrupted job: the same command with --resume and without
    --force (which would throw the saved runs away); exit 130 after Ctrl-C, 143 after SIGTERM."""
    kept = [a for a in argv if a != "--force"]
    again = shlex.join(["stabsim", *kept, *([] if "--resume" in kept else ["--resume"])])
    print(f"stabsim: {exc}; to complete it run:\n  {again}", file=sys.stderr)
    return EXIT_TERMINATED if getattr(exc, "how", "").startswith("terminated") else EXIT_INTERRUPTED


def _execution(args: argparse.Namespace, command: str):  # -> Execution
    from sim.experiments.runner import Execution

    return Execution(
        out=Path(args.out) if args.out else None,  # type: ignore[arg-type]
        workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
        resume=args.resume, force=args.force, progress="none" if args.quiet else "auto",
        command=command,
    )  # fmt: skip


def _rate(report, quiet: bool) -> None:
    if report.repaired:  # always said: results were re-run because files were damaged
        more = f", and {len(report.repaired) - 5} more" if len(report.repaired) > 5 else ""
        print(f"stabsim: re-ran the tasks of {len(report.repaired)} damaged part file(s): "
              f"{', '.join(report.repaired[:5])}{more}", file=sys.stderr)  # fmt: skip
    if not quiet and report.status != "complete":
        rate = report.ran / report.seconds if report.seconds > 0 else 0.0
        print(f"{report.ran:,} runs in {report.seconds:.1f} s ({rate:,.0f} runs/s, "
              f"{report.backend}, tasks of {report.task_size})", file=sys.stderr)  # fmt: skip


def _version() -> str:
    """The installed distribution's version (the package's own when run from a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stabsim")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _sets(values: Sequence[str]) -> dict[str, str]:
    """``--set PATH=VALUE`` options as overrides (each value read as YAML when applied)."""
    from sim.scenario.overrides import parse_set

    return dict(parse_set(v) for v in values)


def _show(text: str) -> None:
    """Print a command's tables and sentences, wrapped to the terminal's width (``COLUMNS``)."""
    from sim.reporting.tables import fit

    print(fit(text))


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario.compiled import load_scenario

    failed = False
    for path in args.files:
        try:
            load_scenario(path)
            print(f"{path}: ok")
        except StabsimError as exc:
            print(exc.for_command_line(), file=sys.stderr)
            failed = True
    return EXIT_INPUT if failed else 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    from sim.reporting.tables import scenarios_table
    from sim.scenario.library import entries, root

    found = entries()
    if args.json:
        print(json.dumps([{"name": e.name, "kind": e.kind, "file": str(e.path), "title": e.title,
                           "observed": e.observed} for e in found], indent=2))  # fmt: skip
        return 0
    _show(scenarios_table(found, root()))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim.experiments.runner import check_seed
    from sim.model.simulate import run
    from sim.reporting.run_text import draft_resolution, summary
    from sim.scenario.compiled import load_scenario

    check_seed(args.seed)
    if args.protocol is not None:
        from sim.scenario.schema import protocol_name

        protocol_name(args.protocol)
    scenario = load_scenario(_scenario_path(args.scenario), _sets(args.set))
    result = run(scenario, seed=args.seed, protocol=args.protocol)
    if args.json:
        if not args.show_text:
            print(result.to_json())
            return 0
        record = json.loads(result.to_json())  # the resolution as printed, beside the record
        record["resolution"] = draft_resolution(result, scenario)
        print(json.dumps(record, indent=2))
        return 0
    _show(summary(result, scenario))
    if args.show_text:
        print()
        print(draft_resolution(result, scenario))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiments.runner import Interrupted
    from sim.experiments.sweep import SweepConfig, sweep

    command, argv = _command(args)
    cfg = SweepConfig(
        scenario=_scenario_path(args.scenario), runs=args.runs, seed=args.seed, sets=args.set,
        vary=args.vary, protocol=args.protocol, paths=args.paths, chunk_size=args.chunk_size,
    )  # fmt: skip
    try:
        report = sweep(cfg, _execution(args, command))
    except Interrupted as exc:
        return _interrupted(exc, command, argv)
    _rate(report, args.quiet)
    if report.status == "complete":
        print(f"{report.out}: this sweep is already complete; see: stabsim summary {report.out}")
        return 0
    print(f"wrote {report.out}/runs.parquet ({report.runs:,} rows), summary.json, manifest.json"
          f"; see: stabsim summary {report.out}")  # fmt: skip
    if args.report:
        return _report(report.out, "both", 0)
    return 0


def _report(folder: Path, fmt: str, point: int, sensitivity: str | None = None,
            compare: str | None = None, discover: Sequence[str] = (),
            backtest: str | None = None) -> int:  # fmt: skip
    from sim.reporting.briefing import report

    formats = ("pdf", "html") if fmt == "both" else (fmt,)
    pack = report(folder, formats, point, sensitivity, compare, discover, backtest)
    print(f"wrote {len(pack.charts)} chart files in {folder}/charts/")
    if len(pack.sections) > 1:
        print("sections: " + "; ".join(pack.sections))
    for path in (pack.pdf, pack.html):
        if path is not None:
            print(f"briefing pack: {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    return _report(Path(args.dir), args.format, args.point, args.sensitivity, args.compare,
                   args.discover, args.backtest)  # fmt: skip


def cmd_summary(args: argparse.Namespace) -> int:
    from sim.analysis.folders import open_sweep
    from sim.reporting.tables import summary_table

    sweep = open_sweep(Path(args.dir))
    if args.point is not None:
        sweep.check_point(args.point)
    if args.json:  # summary.json as read, or one grid point of it
        data = sweep.summary if args.point is None else sweep.summary["points"][args.point]
        print(json.dumps(data, indent=2))
        return 0
    _show(summary_table(sweep.summary, args.point))
    return 0


def cmd_power(args: argparse.Namespace) -> int:
    from sim.model.power import empirical_pivotality, power_indices
    from sim.reporting.tables import power_table

    if args.sweep:
        from sim.analysis.folders import open_sweep

        sweep = open_sweep(Path(args.sweep), need_runs=True)
        labels, votes = sweep.labels, sweep.votes()
        title, needed = labels.title, labels.votes_needed
        members, veto_ids = labels.members, set(labels.veto)
        source = f"{len(votes):,} runs of the sweep in {args.sweep}"
    else:
        from sim.experiments.power import simulated_votes
        from sim.scenario.compiled import load_scenario

        scenario = load_scenario(_scenario_path(args.scenario))
        votes = simulated_votes(scenario, args.runs, args.seed)
        title, needed = scenario.spec.name, scenario.votes_needed
        members = tuple(scenario.actor_ids[m] for m in scenario.members)
        veto_ids = {scenario.actor_ids[m] for m in scenario.members[scenario.veto]}
        source = f"{args.runs} seeded runs (seed {args.seed}, as a sweep's first runs)"
    import numpy as np

    veto = np.array([m in veto_ids for m in members])
    idx = power_indices(veto, needed)
    pivot = empirical_pivotality(votes, veto, needed)
    _show(power_table(title, members, veto, needed, idx, pivot, source))
    return 0


def cmd_deu(args: argparse.Namespace) -> int:
    from sim.experiments import deu
    from sim.reporting.tables import deu_table

    data = deu.load_deu(args.file)
    protocols = args.protocol or ["penholder", "penholder-v1", "compromise", "expected-utility"]
    baseline = deu.compromise_baseline(data)
    rows = []
    for name in protocols:
        prediction = deu.predict_median(data, name, args.runs, args.seed)
        rows.append((name, deu.errors(prediction, data.outcome)))
        if args.csv:
            path = args.csv if len(protocols) == 1 else deu.csv_name(args.csv, name)
            deu.write_csv(path, data, prediction, baseline)
    rows.append(("compromise baseline", deu.errors(baseline, data.outcome)))
    print(f"{data.source}: {len(data.outcome)} issues, {args.runs} runs per issue")
    _show(deu_table(rows))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.experiments.runner import Interrupted
    from sim.experiments.sensitivity import SensitivityConfig, run
    from sim.reporting.tables import sensitivity_table

    command, argv = _command(args)
    cfg = SensitivityConfig(
        scenario=_scenario_path(args.scenario), params=args.params, method=args.method,
        base_runs=args.base_runs, replicates=args.replicates, swing_runs=args.swing_runs,
        clause=args.clause, seed=args.seed, sets=args.set, protocol=args.protocol,
    )  # fmt: skip
    try:
        report = run(cfg, _execution(args, command))
    except Interrupted as exc:
        return _interrupted(exc, command, argv)
    _rate(report, args.quiet)
    labels = None
    if report.result is not None:
        from sim.analysis.folders import read_labels

        labels = read_labels(report.out, report.result.get("set"))
        _show(sensitivity_table(report.result, top=args.top, labels=labels))
    charts = ""
    if not args.no_charts and report.result is not None:
        from sim.reporting.whatif_charts import save_sensitivity_charts

        saved = save_sensitivity_charts(report.result, report.out, labels)
        charts = ", " + ", ".join(p.name for p in saved)
    print(f"\nwrote {report.out}/points.parquet, sensitivity.json, manifest.json{charts}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.analysis.compare import compare, read_side
    from sim.experiments.folder import write_json
    from sim.reporting.findings import compare_sentences
    from sim.reporting.tables import compare_table

    a = read_side(Path(args.dir_a), args.point_a)
    b = read_side(Path(args.dir_b), args.point_b)
    result = compare(a, b, pairing=not args.unpaired)
    for warning in result["warnings"]:
        print(f"stabsim: warning: {warning}", file=sys.stderr)
    names = {**a.names, **b.names}
    lines = compare_sentences(result, names, args.label)
    result["label"] = args.label  # the briefing pack writes the same sentences from the file
    result["names"] = names
    result["sentences"] = lines
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _show(compare_table(result, lines, top=args.top, everything=args.all))
    if args.out:
        from sim.reporting.whatif_charts import save_compare_chart

        out = Path(args.out)
        from sim.errors import writing

        with writing(out, "; choose another --out"):
            out.mkdir(parents=True, exist_ok=True)
        write_json(out / "compare.json", result, "; choose another --out")
        chart = save_compare_chart(result, out, label=args.label).name
        if not args.json:
            print(f"\nwrote {out}/compare.json, {chart}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from sim.analysis.discover import discover
    from sim.analysis.folders import sweep_labels
    from sim.reporting.tables import discover_text

    result = discover(Path(args.dir), args.target, depth=args.depth, top=args.rules,
                      min_coverage=args.min_coverage)  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _show(discover_text(result, sweep_labels(Path(args.dir))))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from sim.experiments.backtest import BacktestConfig, backtest
    from sim.experiments.runner import Interrupted
    from sim.reporting.tables import backtest_table, calibration_table

    command, argv = _command(args)
    cfg = BacktestConfig(paths=[Path(p) for p in args.paths], runs=args.runs, seed=args.seed,
                         protocol=args.protocol, sets=args.set)  # fmt: skip
    ex = _execution(args, command)
    if args.calibrate:
        from sim.experiments.calibration import calibrate, install

        out = Path(args.out) if args.out else Path("results") / f"calibration-{args.seed}"
        result = calibrate(cfg, out, rounds=args.rounds, workers=args.workers,
                           progress="none" if args.quiet else "auto")  # fmt: skip
        _show(calibration_table(result))
        print(f"\nwrote {out}/calibration.json and {out}/calibrated.yaml")
        if args.install:
            print(f"installed as the defaults every scenario takes: {install(out)}")
        return 0
    try:
        report = backtest(cfg, ex)
    except Interrupted as exc:
        return _interrupted(exc, command, argv)
    _rate(report, args.quiet)
    _show(backtest_table(report.result))
    print(f"\nwrote {report.out}/backtest.json; add it to a briefing: "
          f"stabsim report SWEEP --backtest {report.out}")  # fmt: skip
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from sim.app.server import serve

    serve(args.scenario, args.host, args.port, args.workers)  # Ctrl-C: uvicorn stops and returns
    return 0


def _add_execution_options(p: argparse.ArgumentParser, what: str) -> None:
    """Where the runs go (local processes or Dask) and how an interrupted job is handled."""
    p.add_argument(
        "--workers", type=int, help="local worker processes (default: all cores; 1 = in-process)"
    )
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    p.add_argument(
        "--dask-local", type=int, metavar="K", help="run on a new local Dask cluster of K processes"
    )
    p.add_argument("--resume", action="store_true", help=f"complete an interrupted {what} in --out")
    p.add_argument("--force", action="store_true", help=f"replace a different {what} in --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stabsim",
        description="Simulate a UN Security Council negotiation over a stabilization force.",
    )
    parser.add_argument("--version", action="version", version=f"stabsim {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check scenario files; prints ok or one line per error")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("scenarios", help="list the bundled scenarios and the history library")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("run", help="run one seeded negotiation and print what happened")
    p.add_argument("scenario", nargs="?",
                   help="scenario file or name, e.g. gaza (default: the bundled Gaza case)")  # fmt: skip
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--protocol", help="negotiation protocol (default: the scenario's)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="fix a scenario parameter, as for sweep")  # fmt: skip
    p.add_argument("--show-text", action="store_true",
                   help="print the text as a draft resolution (with --json: as key resolution)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "sweep", help="run many seeded negotiations; write runs.parquet and summary.json"
    )
    p.add_argument(
        "scenario", nargs="?", help="scenario file or name (default: the bundled Gaza case)"
    )
    p.add_argument("--runs", type=int, default=1000, help="runs per grid point (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="sweep seed (default 1)")
    p.add_argument("--out", metavar="DIR", help="output folder (default results/<scenario>-<seed>)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="fix a scenario parameter, e.g. actors.FRA.salience.leadership=0.2")  # fmt: skip
    p.add_argument("--vary", action="append", default=[], metavar="PATH=START:STOP:STEPS|A,B,..",
                   help="sweep a parameter over a grid (numbers START:STOP:STEPS, or listed values "
                   "or options A,B,..; repeat for more axes, at most 10,000 points in all); the "
                   "same seeds at every point")  # fmt: skip
    p.add_argument("--protocol", help="negotiation protocol (default: the scenario's)")
    p.add_argument(
        "--paths", action="store_true", help="also write paths.parquet (the draft round by round)"
    )
    p.add_argument("--chunk-size", type=int, help="runs per chunk (default: about 0.1 s of work)")
    _add_execution_options(p, "sweep")
    p.add_argument("--report", action="store_true",
                   help="write the charts and the briefing pack (PDF and HTML) at the end")  # fmt: skip
    p.set_defaults(func=cmd_sweep, argv=None)

    p = sub.add_parser("summary", help="print a sweep's summary.json as tables")
    p.add_argument("dir", metavar="DIR", help="a sweep's output folder")
    p.add_argument("--point", type=int, help="details of one grid point")
    p.add_argument("--json", action="store_true",
                   help="print summary.json (with --point: that point) instead of tables")  # fmt: skip
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("report", help="write a sweep's charts and briefing pack (PDF, HTML)")
    p.add_argument("dir", metavar="DIR", help="a sweep's output folder")
    p.add_argument("--format", choices=("pdf", "html", "both"), default="both",
                   help="briefing pack format (default both)")  # fmt: skip
    p.add_argument("--point", type=int, default=0,
                   help="grid point of the per-point charts (default 0)")  # fmt: skip
    p.add_argument("--sensitivity", metavar="SDIR",
                   help="add a stabsim sensitivity --out folder: ranking, tornado, indices")  # fmt: skip
    p.add_argument("--compare", metavar="CDIR",
                   help="add a stabsim compare --out folder: sentences, largest changes")  # fmt: skip
    p.add_argument("--discover", action="append", default=[], metavar="TARGET",
                   help="add the conditions under which TARGET is most likely in this sweep "
                   "(viable, adopted, adopted_and_viable, ...; repeatable)")  # fmt: skip
    p.add_argument("--backtest", metavar="BDIR",
                   help="add a stabsim backtest --out folder: the track record page")  # fmt: skip
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("power", help="voting power of the Council rule and empirical pivotality")
    p.add_argument(
        "scenario", nargs="?", help="scenario file or name (default: the bundled Gaza case)"
    )
    p.add_argument("--runs", type=int, default=100, help="seeded runs for pivotality (default 100)")
    p.add_argument("--seed", type=int, default=1, help="seed, as a sweep's (default 1)")
    p.add_argument("--sweep", metavar="DIR", help="pivotality from a finished sweep's runs instead")
    p.set_defaults(func=cmd_power)

    p = sub.add_parser("deu", help="validate protocols on the DEU III data (EU legislation)")
    p.add_argument("file", metavar="FILE", help="deu3_public.tsv (doi 10.34810/data53)")
    p.add_argument("--protocol", action="append", help="protocol (repeatable; default: all four)")
    p.add_argument("--runs", type=int, default=10, help="runs per issue (default 10)")
    p.add_argument("--seed", type=int, default=1, help="seed, as a sweep's (default 1)")
    p.add_argument("--csv", help="write the per-issue table here (one file per protocol)")
    p.set_defaults(func=cmd_deu)

    p = sub.add_parser(
        "sensitivity", help="which parameters decide the outcome: Sobol' or Morris, and swings"
    )
    p.add_argument(
        "scenario", nargs="?", help="scenario file or name (default: the bundled Gaza case)"
    )
    p.add_argument("--params", action="append", default=[], metavar="PATH[=LOW:HIGH]",
                   help="a parameter or pattern (actors.*.salience.*), repeatable; default range: "
                   "its distribution's support or +-50%% of its value")  # fmt: skip
    p.add_argument("--method", default="sobol", help="sobol (default) or morris")
    p.add_argument("--base-runs", type=int, default=256,
                   help="Sobol' base samples N (N(D+2) points; a power of two) or Morris "
                   "trajectories (N(D+1) points); default 256")  # fmt: skip
    p.add_argument("--replicates", type=int, default=8,
                   help="runs per point, same seeds at every point (default 8)")  # fmt: skip
    p.add_argument("--swing-runs", type=int, default=200,
                   help="runs per end of each one-at-a-time swing (default 200; 0: none)")  # fmt: skip
    p.add_argument("--clause", help="also analyse P(each option of this clause)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="fix a scenario parameter first, as in stabsim sweep")  # fmt: skip
    p.add_argument("--protocol", help="negotiation protocol (default: the scenario's)")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default results/<scenario>-sensitivity)"
    )
    _add_execution_options(p, "analysis")
    p.add_argument("--top", type=int, default=10, help="parameters shown per output (default 10)")
    p.add_argument("--no-charts", action="store_true", help="do not write the PNG charts")
    p.set_defaults(func=cmd_sensitivity, argv=None)

    p = sub.add_parser("compare", help="what changes between two sweeps, with 95%% intervals")
    p.add_argument("dir_a", metavar="DIR_A", help="the baseline sweep")
    p.add_argument("dir_b", metavar="DIR_B", help="the what-if sweep")
    p.add_argument("--point-a", type=int, default=0, help="grid point of DIR_A (default 0)")
    p.add_argument("--point-b", type=int, default=0, help="grid point of DIR_B (default 0)")
    p.add_argument(
        "--label", help='what B changes, for the sentences ("With the UAE sending 2,000 troops")'
    )
    p.add_argument("--unpaired", action="store_true", help="unpaired intervals even if runs pair")
    p.add_argument("--all", action="store_true", help="list every item, not only significant ones")
    p.add_argument("--top", type=int, default=20, help="significant items listed (default 20)")
    p.add_argument("--out", metavar="DIR", help="write compare.json and compare.png here")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "backtest", help="score the model on past Council decisions against baselines"
    )
    p.add_argument("paths", nargs="*", metavar="FILE_OR_FOLDER",
                   help="cases with an observed: block (default: the bundled library)")  # fmt: skip
    p.add_argument("--runs", type=int, default=2000, help="runs per case (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="seed, as a sweep's (default 1)")
    p.add_argument("--protocol", help="negotiation protocol for every case (default: each file's)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="set a parameter in every case, e.g. behaviour.vote_noise=0.1")  # fmt: skip
    p.add_argument("--out", metavar="DIR", help="output folder (default results/backtest-<seed>)")
    p.add_argument("--calibrate", action="store_true",
                   help="fit the scenario-wide behavioural defaults to the independent cases")  # fmt: skip
    p.add_argument("--rounds", type=int, default=3,
                   help="with --calibrate: simulate-and-fit rounds at most (default 3)")  # fmt: skip
    p.add_argument("--install", action="store_true",
                   help="with --calibrate: make the fitted values the package's defaults")  # fmt: skip
    _add_execution_options(p, "backtest")
    p.set_defaults(func=cmd_backtest, argv=None)

    p = sub.add_parser(
        "app", help="explore a scenario in the browser: change a preference, watch the odds move"
    )
    p.add_argument(
        "scenario", nargs="?", help="scenario file or name (default: the bundled Gaza case)"
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")  # fmt: skip
    p.add_argument("--workers", type=int,
                   help="processes for the live odds (default: up to 2; 0 = in the server)")  # fmt: skip
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("discover", help="conditions under which an outcome is most likely")
    p.add_argument("dir", metavar="DIR", help="a sweep's output folder")
    p.add_argument("--target", required=True,
                   help="adopted, vetoed, failed, withdrawn, no_agreement, viable, "
                   "adopted_and_viable or joined.<contributor>")  # fmt: skip
    p.add_argument("--depth", type=int, default=3, help="conditions per rule at most (default 3)")
    p.add_argument("--rules", type=int, default=3, help="rules (and PRIM boxes) listed (default 3)")
    p.add_argument("--min-coverage", type=float, default=0.5,
                   help="PRIM: the share of target runs a box must still cover (default 0.5)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the rules as JSON")
    p.set_defaults(func=cmd_discover)
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is not None and hasattr(args, "argv"):
        args.argv = list(argv)
    # SIGTERM behaves as Ctrl-C does: work saved, a message, the command that resumes.
    handler = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if handler else None
    try:
        return int(args.func(args))
    except StabsimError as exc:
        print(exc.for_command_line(), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"stabsim: {how}", file=sys.stderr)
        return EXIT_TERMINATED if how == "terminated" else EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into a reader that stopped (stabsim summary | head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: one line unless debugging
        if os.environ.get("STABSIM_DEBUG"):
            raise
        text = " ".join(str(exc).split())  # one line, whatever the exception says
        print(f"stabsim: internal error: {type(exc).__name__}: {text} "
              "(set STABSIM_DEBUG=1 for details)", file=sys.stderr)  # fmt: skip
        return 3
    finally:
        if handler and previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
