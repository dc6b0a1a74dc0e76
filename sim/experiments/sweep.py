"""Monte Carlo sweeps: many seeded runs of a scenario, at every point of an optional grid.

Rules (seeds, tasks, folders and resume are the runner's, :mod:`sim.experiments.runner`):

- Chunks. A chunk is consecutive runs of one grid point. A worker runs it, builds its columns
  and returns them as Arrow IPC bytes (ten times cheaper to write than parquet; parts are only
  read back by :func:`merge`): ``parts/paths-<chunk>.arrow`` with ``paths``, then
  ``parts/runs-<chunk>.arrow``, whose presence marks the chunk done.
- Grid. ``--vary`` axes multiply into grid points, the first axis outermost; every point runs
  the same seeds (common random numbers) and a parameter fixed by the grid is still drawn and
  ignored, so the other parameters get the same draws at every point.
- Finish. Parts are streamed, in (point, run) order, into ``runs.parquet`` (and
  ``paths.parquet``) while the summary is counted; then ``summary.json``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.analysis.folders import labels_of
from sim.analysis.summary import Layout, SummaryBuilder, coalition_key, text_key
from sim.errors import OptionError, OutputError, ScenarioError, writing
from sim.experiments.folder import RESUME_HINT, Parts, write_json
from sim.experiments.runner import (
    MAX_RUNS,
    MAX_TASKS,
    Backend,
    Execution,
    Report,
    check_runs,
    check_seed,
    run_design,
    run_seed,
)
from sim.model.result import RunResult
from sim.model.simulate import make_model
from sim.scenario import overlay
from sim.scenario.compiled import Scenario
from sim.scenario.overrides import (
    MAX_GRID_POINTS,
    GridAxis,
    check_ids,
    parse_set,
    parse_vary,
)
from sim.scenario.schema import protocol_name

CHUNK_SECONDS = 0.1  # target work per chunk
ROW_GROUP = 16_384  # rows per row group of the merged files
FILES = ("runs.parquet", "paths.parquet", "summary.json")


# --- the plan: what every worker needs ------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """Runs ``start`` to ``stop - 1`` of grid point ``point``."""

    point: int
    index: int
    start: int
    stop: int
    paths: bool = False

    @property
    def name(self) -> str:
        return f"p{self.point:04d}-c{self.index:06d}"

    @property
    def runs(self) -> int:
        return self.stop - self.start

    @property
    def parts(self) -> tuple[str, ...]:
        runs = f"runs-{self.name}.arrow"
        return (f"paths-{self.name}.arrow", runs) if self.paths else (runs,)


@dataclass(frozen=True)
class Plan:
    """A sweep, fully decided: scenario data (with ``--set`` applied), grid, seed, columns."""

    data: Any
    source: str
    protocol: str | None
    seed: int
    runs: int
    axes: tuple[GridAxis, ...]
    params: tuple[tuple[str, str], ...]  # sampled parameter path, arrow type ("float64"|"string")
    paths: bool
    key: str = ""  # names the compiled scenario of each point in worker caches
    kept: dict[str, Any] = field(default_factory=dict)  # draws a what-if or --set fixed, by path

    @property
    def grid(self) -> list[dict[str, Any]]:
        """The values of every grid point, first axis outermost ([{}] without a grid)."""
        return [
            dict(zip((a.path for a in self.axes), combo, strict=True))
            for combo in itertools.product(*(a.values for a in self.axes))
        ]

    def chunks(self, size: int) -> list[Chunk]:
        return [
            Chunk(p, i, start, min(start + size, self.runs), self.paths)
            for p in range(len(self.grid))
            for i, start in enumerate(range(0, self.runs, size))
        ]


def make_plan(
    scenario: Scenario, axes: tuple[GridAxis, ...], protocol: str | None, seed: int, runs: int,
    paths: bool,
) -> tuple[Plan, list[Scenario]]:  # fmt: skip
    """Check every grid point compiles (the same one-line errors as ``stabsim validate``) and
    return the plan with the compiled scenario of each point."""
    varied = {a.path for a in axes}
    params = tuple((s.path, _arrow_type(s)) for s in scenario.slots if s.path not in varied)
    # The key must cover the grid: two sweeps of one file with different axes must not share
    # compiled points in a worker's cache.
    grid = [[a.path, list(a.values)] for a in axes]
    kept = scenario.kept
    blob = json.dumps([scenario.data, protocol, grid, kept], sort_keys=True, default=str).encode()
    key = hashlib.sha256(blob).hexdigest()[:16]
    plan = Plan(
        scenario.data, scenario.source, protocol, seed, runs, axes, params, paths, key, kept
    )
    points = []
    for values in plan.grid:
        for path in values:
            check_ids(scenario.data, path, scenario.source)
        points.append(Scenario.from_data(scenario.data, scenario.source, values, kept=kept))
    return plan, points


def _arrow_type(slot: Any) -> str:
    d = slot.dist
    return "string" if d.kind == "choice" and d.support is None else "float64"


# --- one chunk (runs in the workers) ----------------------------------------------------------


def layout_of(sc: Scenario) -> Layout:
    labels = labels_of(sc)
    return Layout(
        clauses={c.id: tuple(c.options) for c in sc.space.clauses},
        members=labels.members,
        veto=labels.veto,
        contributors=labels.contributors,
    )


def runs_schema(layout: Layout, plan: Plan) -> pa.Schema:
    """The columns of ``runs.parquet``, in order (docs/sweeps.md documents each)."""
    s, i32, i64, f64, b = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_()
    cols = [("run", i64), ("seed", i64), ("point", i32)]
    cols += [(f"grid.{a.path}", s if a.categorical else f64) for a in plan.axes]
    cols += [(f"param.{p}", s if t == "string" else f64) for p, t in plan.params]
    cols += [("outcome", s), ("vetoed_by", s), ("adopted_by", s), ("rounds", i32), ("text", s)]
    cols += [("why", s), ("why_actor", s), ("why_clause", s), ("why_option", s)]
    cols += [(f"text.{c}", s) for c in layout.clauses]
    cols += [("votes_yes", i32), ("votes_abstain", i32), ("votes_no", i32)]
    cols += [(f"vote.{m}", s) for m in layout.members]
    cols += [("coalition", s), ("lead", s)]
    for c in layout.contributors:
        cols += [(f"joined.{c}", b), (f"pledged.{c}", i64), (f"delivered.{c}", i64)]
    cols += [("pledged_troops", i64), ("delivered_troops", i64), ("troops_required", i64),
             ("viable", b), ("coalition_stable", b)]  # fmt: skip
    return pa.schema(cols)


def paths_schema(layout: Layout) -> pa.Schema:
    """The columns of ``paths.parquet``: one row per run and negotiation round, from round 0 (the
    opening draft; its chance of adoption and intentions are null)."""
    s, i32, i64 = pa.string(), pa.int32(), pa.int64()
    cols = [("run", i64), ("point", i32), ("round", i32)]
    cols += [(f"text.{c}", s) for c in layout.clauses]
    cols += [("p_adopt", pa.float64()), ("intend_yes", i32), ("intend_abstain", i32),
             ("intend_no", i32), ("demands", i32), ("changed", pa.bool_())]  # fmt: skip
    return pa.schema(cols)


class RunColumns:
    """The columns of ``runs.parquet`` for one chunk, filled run by run (lists of plain values;
    each column's list is looked up once, so adding a run costs one append per column)."""

    def __init__(self, layout: Layout, plan: Plan, point: int):
        self.schema = runs_schema(layout, plan)
        self.cols: dict[str, list] = {n: [] for n in self.schema.names}
        c = self.cols
        self.point = point
        self.grid = [(c[f"grid.{p}"], v) for p, v in plan.grid[point].items()]
        self.params = [(path, t == "string", c[f"param.{path}"]) for path, t in plan.params]
        self.clauses = [(cid, c[f"text.{cid}"]) for cid in layout.clauses]
        self.members = [(m, c[f"vote.{m}"]) for m in layout.members]
        self.contributors = [
            (a, c[f"joined.{a}"], c[f"pledged.{a}"], c[f"delivered.{a}"])
            for a in layout.contributors
        ]
        self.order = layout.contributors

    def add(self, run: int, seed: int, r: RunResult) -> None:
        """Append one run's row."""
        c = self.cols
        c["run"].append(run)
        c["seed"].append(seed)
        c["point"].append(self.point)
        for col, v in self.grid:
            col.append(v)
        for path, as_text, col in self.params:
            v = r.params.get(path)
            col.append(None if v is None else str(v) if as_text else float(v))
        c["outcome"].append(r.outcome)
        c["vetoed_by"].append("+".join(r.vetoed_by))
        c["adopted_by"].append(r.adopted_draft_by)
        c["rounds"].append(r.rounds)
        why = r.why
        c["why"].append(why.get("kind"))
        c["why_actor"].append(why.get("actor"))
        c["why_clause"].append(why.get("clause"))
        c["why_option"].append(why.get("option"))
        text = r.text
        c["text"].append(text_key(text) if text else None)
        for cid, col in self.clauses:
            col.append(text[cid] if text else None)
        tally = r.tally
        c["votes_yes"].append(tally.get("yes", 0))
        c["votes_abstain"].append(tally.get("abstain", 0))
        c["votes_no"].append(tally.get("no", 0))
        votes = r.votes
        for m, col in self.members:
            col.append(votes.get(m))
        joined = {x.actor: x for x in r.coalition}
        c["coalition"].append(coalition_key(a for a in self.order if a in joined))
        c["lead"].append(r.lead)
        for a, j, pl, de in self.contributors:
            x = joined.get(a)
            j.append(x is not None)
            pl.append(x.pledged if x else 0)
            de.append(x.delivered if x else 0)
        c["pledged_troops"].append(r.pledged_troops)
        c["delivered_troops"].append(r.delivered_troops)
        c["troops_required"].append(r.troops_required)
        c["viable"].append(r.viable)
        c["coalition_stable"].append(r.coalition_stable)

    def to_bytes(self) -> bytes:
        return arrow_bytes(self.cols, self.schema)


def arrow_bytes(columns: dict[str, list], schema: pa.Schema) -> bytes:
    """Columns as an Arrow IPC stream."""
    table = pa.table({n: columns[n] for n in schema.names}, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


_SCENARIOS: dict[tuple[str, int], Scenario] = {}


def _point_scenario(plan: Plan, point: int) -> Scenario:
    """The compiled scenario of a grid point, compiled once per worker process."""
    key = (plan.key, point)
    sc = _SCENARIOS.get(key)
    if sc is None:
        if len(_SCENARIOS) > 256:
            _SCENARIOS.clear()
        sc = Scenario.from_data(plan.data, plan.source, plan.grid[point], kept=plan.kept)
        _SCENARIOS[key] = sc
    return sc


def run_chunk(plan: Plan, chunk: Chunk) -> tuple[Chunk, dict[str, bytes]]:
    """Run one chunk; return its part files (the runs and, with ``plan.paths``, the paths)."""
    sc = _point_scenario(plan, chunk.point)
    layout = layout_of(sc)
    rows = RunColumns(layout, plan, chunk.point)
    pschema = paths_schema(layout) if plan.paths else None
    pcols: dict[str, list] = {n: [] for n in pschema.names} if pschema else {}
    for i in range(chunk.start, chunk.stop):
        seed = run_seed(plan.seed, i)
        result = make_model(sc, seed, protocol=plan.protocol, record_path=plan.paths).run()
        rows.add(i, seed, result)
        if pschema:
            _opening_row(pcols, layout, i, chunk.point, result.opening)
            for rec in result.path:
                pcols["run"].append(i)
                pcols["point"].append(chunk.point)
                pcols["round"].append(rec.round)
                for c in layout.clauses:
                    pcols[f"text.{c}"].append(rec.text[c])
                pcols["p_adopt"].append(rec.p_adopt)
                for k in ("yes", "abstain", "no"):
                    pcols[f"intend_{k}"].append(rec.intentions.get(k, 0))
                pcols["demands"].append(len(rec.demands))
                pcols["changed"].append(rec.changed)
    parts = {chunk.parts[-1]: rows.to_bytes()}
    if pschema:
        parts[chunk.parts[0]] = arrow_bytes(pcols, pschema)
    return chunk, parts


def _opening_row(cols: dict[str, list], layout: Layout, run: int, point: int,
                 opening: dict[str, str]) -> None:  # fmt: skip
    """Round 0 of a run's path: the opening draft, before any negotiation (no chance of
    adoption or intentions were computed for it; nothing was demanded, nothing changed)."""
    cols["run"].append(run)
    cols["point"].append(point)
    cols["round"].append(0)
    for c in layout.clauses:
        cols[f"text.{c}"].append(opening[c])
    for k in ("p_adopt", "intend_yes", "intend_abstain", "intend_no"):
        cols[k].append(None)
    cols["demands"].append(0)
    cols["changed"].append(False)


# --- finishing ----------------------------------------------------------------------------------------


def merge(
    out: Path, chunks: list[Chunk], kind: str, schema: pa.Schema, parts: Parts,
    sink: Callable[[pa.Table], None] | None = None,
) -> None:  # fmt: skip
    """Stream the parts, in (point, run) order and each verified against its checksum, into
    ``<kind>.parquet`` (temporary name first), in row groups of about ROW_GROUP rows, passing
    each row group to ``sink``."""
    final = out / f"{kind}.parquet"
    tmp = final.with_name(f".tmp-{final.name}")
    buffered: list[pa.Table] = []
    rows = 0
    try:
        # A file object, not a path: pyarrow would read a path like "run:1/x" as a URI.
        with writing(final, RESUME_HINT), tmp.open("wb") as f, pq.ParquetWriter(f, schema) as w:

            def flush() -> None:
                nonlocal buffered, rows
                if buffered:
                    table = pa.concat_tables(buffered).combine_chunks()
                    if sink is not None:
                        sink(table)
                    w.write_table(table, row_group_size=max(rows, 1))
                buffered, rows = [], 0

            for chunk in chunks:
                data = parts.read(f"{kind}-{chunk.name}.arrow")
                with pa.ipc.open_stream(pa.BufferReader(data)) as reader:
                    table = reader.read_all()
                buffered.append(table)
                rows += table.num_rows
                if rows >= ROW_GROUP:
                    flush()
            flush()
        with writing(final, RESUME_HINT):
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def check_parquet(path: Path, rows: int | None = None) -> None:
    """``path`` reads back whole (every page decoded) with ``rows`` rows, else OutputError."""
    try:
        with path.open("rb") as f:
            found = sum(b.num_rows for b in pq.ParquetFile(f).iter_batches(batch_size=ROW_GROUP))
    except (OSError, pa.ArrowException) as exc:
        raise OutputError(path, f"it does not read back ({exc})", RESUME_HINT) from None
    if rows is not None and found != rows:
        raise OutputError(path, f"it reads back {found:,} rows, not {rows:,}", RESUME_HINT)


# --- the sweep ----------------------------------------------------------------------------------------


@dataclass
class SweepConfig:
    """What ``stabsim sweep`` runs: a scenario, how many runs per grid point, the seed, the
    overrides (``sets``: ``PATH=VALUE``; ``vary``: ``PATH=START:STOP:STEPS``), the protocol,
    whether to keep the draft round by round, and the runs per chunk (None: about 0.1 s)."""

    scenario: Path
    runs: int = 1000
    seed: int = 1
    sets: list[str] = field(default_factory=list)
    vary: list[str] = field(default_factory=list)
    protocol: str | None = None
    paths: bool = False
    chunk_size: int | None = None


@dataclass
class SweepDesign:
    """A sweep as the runner executes it."""

    plan: Plan
    points: list[Scenario]
    identity: dict[str, Any]
    scenario_file: Path
    chunk_size: int | None
    kind: str = "sweep"
    files: tuple[str, ...] = FILES
    size_key: str = "chunk_size"

    @property
    def runs(self) -> int:
        return self.plan.runs * len(self.points)

    @property
    def job(self) -> Plan:
        return self.plan

    @property
    def work(self) -> Callable[[Plan, Chunk], tuple[Chunk, dict[str, bytes]]]:
        return run_chunk

    def task_size(self, workers: int) -> int:
        """``chunk_size`` if given, else about CHUNK_SECONDS of work and at least four chunks
        per worker per point (timed on a few runs, which also check the scenario runs)."""
        least = -(-self.runs // MAX_TASKS)  # never more than MAX_TASKS chunks
        if self.chunk_size:
            return self.chunk_size
        times = []
        for i in range(4):
            t0 = time.perf_counter()
            make_model(
                self.points[0], run_seed(self.plan.seed, i), protocol=self.plan.protocol
            ).run()
            times.append(time.perf_counter() - t0)
        target = int(CHUNK_SECONDS / max(sum(times[1:]) / 3, 1e-6))
        balance = -(-self.plan.runs // (4 * workers))
        return max(1, least, min(target, balance, 5000))

    def tasks(self, size: int) -> list[Chunk]:
        return self.plan.chunks(size)

    def manifest(self) -> dict[str, Any]:
        plan, first = self.plan, self.points[0]
        return {
            "scenario": {
                "name": first.name,
                "file": str(self.scenario_file.resolve()),
                "sha256": self.identity["scenario_sha256"],
                "text": self.scenario_file.read_text(encoding="utf-8"),
                **(first.loaded.record() if first.loaded else {}),  # a what-if's bases, changes
            },
            "seed": plan.seed,
            "runs_per_point": plan.runs,
            "points": len(self.points),
            "runs": self.runs,
            "set": self.identity["set"],
            "grid": self.identity["grid"],
            "protocol": plan.protocol or first.protocol,
            "paths": plan.paths,
        }

    def finish(
        self, out: Path, chunks: list[Chunk], manifest: dict[str, Any], parts: Parts
    ) -> dict[str, Any]:
        """Merge the parts into the final files and write the summary."""
        first = self.points[0]
        layout = layout_of(first)
        builder = SummaryBuilder(layout, self.plan.grid)
        merge(out, chunks, "runs", runs_schema(layout, self.plan), parts, builder.add)
        if self.plan.paths:
            merge(out, chunks, "paths", paths_schema(layout), parts)
        meta = {
            "scenario": manifest["scenario"]["name"],
            "seed": self.plan.seed,
            "runs_per_point": self.plan.runs,
            "protocol": manifest["protocol"],
            "set": manifest["set"],
            "grid_axes": manifest["grid"],
            "labels": labels_of(first).to_json(),
        }
        summary = builder.result(meta)
        write_json(out / "summary.json", summary, RESUME_HINT)
        return summary

    def verify(self, out: Path) -> None:
        """``runs.parquet`` holds every run, ``paths.parquet`` reads, ``summary.json`` parses."""
        check_parquet(out / "runs.parquet", self.runs)
        if self.plan.paths:
            check_parquet(out / "paths.parquet")
        try:
            json.loads((out / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputError(out / "summary.json", f"it does not read back ({exc})") from None


def prepare(cfg: SweepConfig) -> SweepDesign:
    """Read and check the options and the scenario: the sweep, ready to run."""
    check_runs("runs", cfg.runs)
    if cfg.chunk_size is not None and cfg.chunk_size < 1:
        raise OptionError("chunk_size", f"expected a whole number >= 1, got {cfg.chunk_size}")
    check_seed(cfg.seed)
    if cfg.protocol is not None:
        protocol_name(cfg.protocol)
    sets = dict(parse_set(s) for s in cfg.sets)
    axes = tuple(parse_vary(v) for v in cfg.vary)
    paths = [a.path for a in axes]
    if twice := sorted({p for p in paths if paths.count(p) > 1}):
        raise OptionError("vary", f"two axes name the same path {twice[0]}")
    if (points := math.prod(len(a.values) for a in axes)) > MAX_GRID_POINTS:
        raise OptionError(
            "vary",
            f"at most {MAX_GRID_POINTS:,} grid points; these {len(axes)} axes make {points:,} "
            "(use fewer values or axes)",
        )
    if cfg.runs * points > MAX_RUNS:
        raise OptionError(
            "runs", f"expected at most {MAX_RUNS:,} runs in all ({cfg.runs:,} runs at each of "
            f"{points:,} grid points)"
        )  # fmt: skip
    if cfg.chunk_size and -(-cfg.runs // cfg.chunk_size) * points > MAX_TASKS:
        least = -(-cfg.runs * points // MAX_TASKS)
        raise OptionError("chunk_size", f"expected at least {least:,} (at most {MAX_TASKS:,} "
                          f"chunks), got {cfg.chunk_size:,}")  # fmt: skip
    if both := sorted(set(paths) & set(sets)):
        raise OptionError("set", f"--set and --vary both name {both[0]}; give it one or the other")
    loaded = overlay.load(cfg.scenario)
    data, source = loaded.data, loaded.source
    for path in sets:
        check_ids(data, path, source)
    try:
        scenario = Scenario.from_data(data, source, sets, kept=loaded.kept)
    except ScenarioError as exc:
        raise overlay.validated(loaded, exc) from None
    scenario.loaded = loaded
    plan, points = make_plan(scenario, axes, cfg.protocol, cfg.seed, cfg.runs, cfg.paths)
    for point in points:
        point.loaded = loaded
    identity = {
        "scenario_sha256": loaded.sha256(),
        "seed": cfg.seed,
        "runs": cfg.runs,
        "set": sets,
        "grid": [{"path": a.path, "values": list(a.values)} for a in axes],
        "protocol": cfg.protocol,
        "paths": cfg.paths,
    }
    return SweepDesign(plan, points, identity, Path(cfg.scenario), cfg.chunk_size)


def default_out(design: SweepDesign) -> Path:
    return Path("results") / f"{design.points[0].name}-{design.plan.seed}"


def sweep(cfg: SweepConfig, ex: Execution | None = None, backend: Backend | None = None) -> Report:
    """Run (or resume) a sweep; write runs, paths, summary and manifest into ``ex.out``
    (default ``results/<scenario>-<seed>``). ``backend`` overrides the executor."""
    design = prepare(cfg)
    ex = ex or Execution(out=None)  # type: ignore[arg-type]
    if ex.out is None:
        ex = replace(ex, out=default_out(design))
    return run_design(design, ex, backend)
