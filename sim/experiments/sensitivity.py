"""Global sensitivity: which parameters decide the outcome (Sobol' or Morris, via SALib), and
one-at-a-time swings for the tornado chart.

Rules:

- Parameters. Every numeric parameter of the scenario has a dotted path (``actors.FRA.capability``,
  ``actors.*.salience.*`` with ``*`` matching one path segment). Its default range is the support
  of its distribution, or +-50% of its fixed value clipped to the field's valid range; a named
  parameter whose default range is empty (fixed at 0) needs ``PATH=LOW:HIGH``, and one matched
  only by a wildcard is skipped and reported.
- Design points. Each sample point fixes the named parameters and runs ``R`` replicates with the
  seeds of runs 0..R-1 of a sweep with the same seed (common random numbers: replicate ``r`` sees
  the same draws of every other distribution and the same vote noise at every point); the
  point's outputs are the replicate means. A parameter fixed by the design keeps its place in the
  draw order, so fixing it never shifts the other draws.
- Outputs: P(adopted), P(vetoed), P(viable), expected delivered troops, and with ``--clause C``
  P(the adopted text has option o of C), over all runs (so it is defined at every point).
- Indices. Sobol': Saltelli/Sobol' sampling without second order, ``N (D + 2)`` points, first
  order S1 and total ST with 95% bootstrap intervals (SALib). Morris: ``N`` trajectories of
  ``D + 1`` points on 4 levels, mu* with its 95% bootstrap interval, mu and sigma. An output that
  is constant over the design has every index 0 (nothing to explain) and is flagged.
- Swings (tornado): the baseline (every parameter as in the scenario) and each parameter at the
  low and at the high end of its range, all with the same ``--swing-runs`` seeds; the swing of an
  output is its value at an end minus the baseline.
- Files, chunks, executors, resume: as a sweep's (:mod:`sim.experiments.sweep`), with ``points.parquet``,
  ``sensitivity.json`` and ``manifest.json``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.analysis.folders import read_result
from sim.analysis.indices import (
    CONFIDENCE,
    MORRIS_LEVELS,
    RESAMPLES,
    analyse,
    problem,
    ranking,
    swings,
)
from sim.errors import OptionError, OutputError, ScenarioError, StabsimError, writing
from sim.experiments.runner import (
    MAX_RUNS,
    RESUME_HINT,
    Backend,
    Execution,
    Parts,
    Report,
    check_seed,
    run_design,
    run_seed,
    write_json,
)
from sim.model.simulate import make_model
from sim.scenario import overlay
from sim.scenario.compiled import Entry, Scenario
from sim.scenario.distributions import Dist
from sim.scenario.overrides import check_ids, parse_set
from sim.scenario.schema import protocol_name

SCHEMA = "stabsim-sensitivity/1"
FILES = ("points.parquet", "sensitivity.json")
METHODS = ("sobol", "morris")
BASE_OUTPUTS = ("adopted", "vetoed", "viable", "delivered_troops")
MAX_POINTS = 1_000_000  # design points (Sobol' N (D + 2), Morris N (D + 1))
MAX_VALUES = 10_000_000  # design points x parameters


# --- the scenario's parameters -----------------------------------------------------------------


def numeric_parameters(sc: Scenario) -> dict[str, Entry]:
    """Every numeric parameter of the scenario (from its catalogue), in draw order."""
    return {path: e for path, e in sc.catalogue.items() if e.numeric}


def default_range(entry: Entry) -> tuple[float, float, str]:
    """(low, high, how): the distribution's support, or +-50% of the fixed value, clipped."""
    v = entry.value
    if isinstance(v, Dist):
        lo, hi = v.support  # type: ignore[misc]
        return float(lo), float(hi), f"support of {v.describe()}"
    x = float(v)
    valid = entry.valid or (-math.inf, math.inf)
    lo = max(valid[0], x - 0.5 * abs(x))
    hi = min(valid[1], x + 0.5 * abs(x))
    return lo, hi, f"fixed {x:g} +-50%"


@dataclass(frozen=True)
class Parameter:
    """One analysed parameter and its range."""

    path: str
    low: float
    high: float
    how: str  # where the range came from


def parse_params_arg(text: str) -> tuple[str, tuple[float, float] | None]:
    """``PATH`` or ``PATH=LOW:HIGH`` -> (path pattern, range or None)."""
    path, sep, spec = text.partition("=")
    path = path.strip()
    if not path:
        raise OptionError("params", f"{text}: expected PATH or PATH=LOW:HIGH")
    if not sep:
        return path, None
    parts = spec.split(":")
    try:
        lo, hi = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise OptionError(
            "params",
            f"{text}: expected PATH=LOW:HIGH with numbers LOW < HIGH, "
            "e.g. actors.RUS.vote.veto_cost=0.1:0.6",
        )
    return path, (lo, hi)


def _matches(pattern: str, path: str) -> bool:
    """Segment-wise glob: ``*`` matches within one dotted segment."""
    a, b = pattern.split("."), path.split(".")
    return len(a) == len(b) and all(fnmatch.fnmatchcase(y, x) for x, y in zip(a, b, strict=True))


def resolve(args: list[str], cat: dict[str, Entry]) -> tuple[list[Parameter], list[str]]:
    """Expand ``--params`` into parameters with ranges; return them and the skipped paths."""
    if not args:
        raise OptionError("params", "name at least one parameter, e.g. actors.*.salience.*")
    chosen: dict[str, Parameter] = {}
    skipped: list[str] = []
    for arg in args:
        pattern, given = parse_params_arg(arg)
        wild = any(ch in pattern for ch in "*?[")
        paths = [p for p in cat if _matches(pattern, p)]
        if not paths:
            near = [p for p in cat if p.split(".")[:2] == pattern.split(".")[:2]][:6]
            hint = f"; e.g. {', '.join(near)}" if near else ""
            raise OptionError(
                "params", f"{pattern}: no numeric parameter of the scenario matches{hint}"
            )
        for path in paths:
            e = cat[path]
            if given is not None:
                lo, hi = given
                valid = e.valid or (-math.inf, math.inf)
                if lo < valid[0] or hi > valid[1]:
                    raise OptionError(
                        "params",
                        f"{arg}: {path} must stay within [{valid[0]:g}, {valid[1]:g}], "
                        f"got {lo:g}:{hi:g}",
                    )
                how = "given"
            else:
                lo, hi, how = default_range(e)
            if not hi > lo:
                if wild:
                    skipped.append(path)
                    continue
                raise OptionError(
                    "params",
                    f"{path}: fixed at {float(e.value):g}, so +-50% is no range; "
                    f"give one as {path}=LOW:HIGH",
                )
            chosen.setdefault(path, Parameter(path, lo, hi, how))
    if not chosen:
        raise OptionError(
            "params",
            f"every matching parameter is fixed at 0 ({', '.join(skipped[:4])}...); "
            "give ranges as PATH=LOW:HIGH",
        )
    return list(chosen.values()), [s for s in skipped if s not in chosen]


# --- the design -----------------------------------------------------------------------------------


def sample(params: list[Parameter], method: str, base_runs: int, seed: int) -> np.ndarray:
    """The design's points (rows) over the parameters (columns)."""
    prob = problem(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advice to use powers of two; the README says so
        if method == "sobol":
            from SALib.sample import sobol as sobol_sample

            return sobol_sample.sample(prob, base_runs, calc_second_order=False, seed=seed)
        from SALib.sample import morris as morris_sample

        return morris_sample.sample(prob, base_runs, num_levels=MORRIS_LEVELS, seed=seed)


def swing_design(params: list[Parameter]) -> np.ndarray:
    """Row 0 the baseline (nothing fixed, NaN), then each parameter at its low and its high end."""
    d = len(params)
    rows = np.full((1 + 2 * d, d), np.nan)
    for j, p in enumerate(params):
        rows[1 + 2 * j, j] = p.low
        rows[2 + 2 * j, j] = p.high
    return rows


def output_names(sc: Scenario, clause: str | None) -> list[str]:
    names = list(BASE_OUTPUTS)
    if clause is not None:
        cl = next(c for c in sc.space.clauses if c.id == clause)
        names += [f"option.{clause}.{o}" for o in cl.options]
    return names


# --- running points (in the workers) ----------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What every worker needs: the scenario data (``--set`` applied) and the analysed paths."""

    data: Any
    source: str
    protocol: str | None
    seed: int
    paths: tuple[str, ...]
    clause: str | None
    key: str


@dataclass(frozen=True)
class Block:
    """Rows ``start`` to ``stop - 1`` of one design, each run ``replicates`` times."""

    design: str  # "sample" | "swing"
    index: int
    start: int
    stop: int
    replicates: int
    rows: tuple[tuple[float, ...], ...]

    @property
    def name(self) -> str:
        return f"{self.design}-{self.index:06d}"

    @property
    def runs(self) -> int:
        return len(self.rows) * self.replicates

    @property
    def parts(self) -> tuple[str, ...]:
        return (f"{self.name}.npy",)


_COMPILED: dict[str, Scenario] = {}


def _compiled(job: Job) -> Scenario:
    """The job's scenario, compiled once per worker."""
    sc = _COMPILED.get(job.key)
    if sc is None:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        sc = _COMPILED[job.key] = Scenario.from_data(job.data, job.source)
    return sc


def run_point(
    sc: Scenario, values: tuple[float, ...], job: Job, replicates: int, options: list[str]
) -> list[float]:
    """The outputs of one design point: replicate means over runs 0..R-1 (common seeds); a
    NaN value leaves its parameter as the scenario has it."""
    fixed = {p: v for p, v in zip(job.paths, values, strict=True) if not math.isnan(v)}
    adopted = vetoed = viable = troops = 0.0
    chosen = dict.fromkeys(options, 0.0)
    for r in range(replicates):
        res = make_model(
            sc, run_seed(job.seed, r), protocol=job.protocol, fixed=fixed, record_path=False
        ).run()
        adopted += res.outcome == "adopted"
        vetoed += res.outcome == "vetoed"
        viable += bool(res.viable)
        troops += res.delivered_troops
        if job.clause is not None and res.text:
            chosen[res.text[job.clause]] += 1
    out = [adopted, vetoed, viable, troops] + [chosen[o] for o in options]
    return [x / replicates for x in out]


def run_block(job: Job, block: Block) -> tuple[Block, dict[str, bytes]]:
    """Run one block of design points; return its outputs as ``.npy`` bytes."""
    sc = _compiled(job)
    options = (
        list(next(c for c in sc.space.clauses if c.id == job.clause).options) if job.clause else []
    )
    out = np.array([run_point(sc, row, job, block.replicates, options) for row in block.rows])
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    return block, {block.parts[-1]: buf.getvalue()}


# --- analysis ---------------------------------------------------------------------------------------


# --- the command --------------------------------------------------------------------------------------


@dataclass
class SensitivityConfig:
    """What ``stabsim sensitivity`` runs: which parameters (``PATH`` or ``PATH=LOW:HIGH``,
    ``*`` matching one path segment), the method and its sizes, and the scenario's options."""

    scenario: Path
    params: list[str] = field(default_factory=list)
    method: str = "sobol"
    base_runs: int = 256
    replicates: int = 8
    swing_runs: int = 200
    clause: str | None = None
    seed: int = 1
    sets: list[str] = field(default_factory=list)
    protocol: str | None = None


@dataclass
class SensitivityDesign:
    """A sensitivity analysis as the runner executes it: the swings (cheap, and the tornado is
    the first thing an analyst looks at), then the sample."""

    cfg: SensitivityConfig
    job: Job
    params: list[Parameter]
    skipped: list[str]
    X: np.ndarray  # the sample design (points x parameters)
    S: np.ndarray  # the swing design
    names: list[str]  # outputs
    identity: dict[str, Any]
    scenario: Scenario
    kind: str = "sensitivity analysis"
    files: tuple[str, ...] = FILES
    size_key: str = "block_size"

    @property
    def runs(self) -> int:
        return len(self.X) * self.cfg.replicates + len(self.S) * self.cfg.swing_runs

    @property
    def work(self) -> Callable[[Job, Block], tuple[Block, dict[str, bytes]]]:
        return run_block

    def task_size(self, workers: int) -> int:
        """About 0.2 s of work per block at ~3 ms a run, and at least ~4 blocks per worker."""
        reps = self.cfg.replicates
        return max(1, min(max(1, 64 // max(reps, 1)), -(-len(self.X) // (4 * workers))))

    def tasks(self, size: int) -> list[Block]:
        out = []
        for design, rows, reps in (("swing", self.S, self.cfg.swing_runs),
                                   ("sample", self.X, self.cfg.replicates)):  # fmt: skip
            for i, start in enumerate(range(0, len(rows), size)):
                stop = min(start + size, len(rows))
                vals = tuple(tuple(float(v) for v in r) for r in rows[start:stop])
                out.append(Block(design, i, start, stop, reps, vals))
        return out

    def manifest(self) -> dict[str, Any]:
        path = Path(self.cfg.scenario)
        return {
            "kind": "sensitivity",
            "scenario": {
                "name": self.scenario.name,
                "file": str(path.resolve()),
                "sha256": self.identity["scenario_sha256"],
                "text": path.read_text(encoding="utf-8"),
                **(self.scenario.loaded.record() if self.scenario.loaded else {}),
            },
            "seed": self.cfg.seed,
            "runs": self.runs,
        }

    def _outputs(self, parts: Parts, blocks: list[Block], design: str) -> np.ndarray:
        arrays = [
            np.load(io.BytesIO(parts.read(b.parts[-1])), allow_pickle=False)
            for b in blocks
            if b.design == design
        ]
        return np.concatenate(arrays) if arrays else np.zeros((0, len(self.names)))

    def finish(
        self, out: Path, blocks: list[Block], manifest: dict[str, Any], parts: Parts
    ) -> dict[str, Any]:
        """Gather the parts; write ``points.parquet`` and ``sensitivity.json``."""
        cfg = self.cfg
        Y, W = self._outputs(parts, blocks, "sample"), self._outputs(parts, blocks, "swing")
        cols: dict[str, Any] = {
            "design": ["swing"] * len(W) + ["sample"] * len(Y),
            "point": list(range(len(W))) + list(range(len(Y))),
        }
        for j, p in enumerate(self.params):
            vals = np.concatenate([self.S[:, j], self.X[:, j]])
            cols[f"param.{p.path}"] = pa.array(vals, pa.float64(), from_pandas=True)
        for k, name in enumerate(self.names):
            cols[name] = np.concatenate([W[:, k], Y[:, k]])
        cols["replicates"] = [cfg.swing_runs] * len(W) + [cfg.replicates] * len(Y)
        tmp = out / ".tmp-points.parquet"
        with writing(out / "points.parquet", RESUME_HINT):
            with tmp.open("wb") as f:  # a file object: pyarrow reads "a:b/x" paths as URIs
                pq.write_table(pa.table(cols), f)
            tmp.replace(out / "points.parquet")
        indices = analyse(self.params, cfg.method, self.X, Y, self.names, cfg.seed)
        result = {
            "schema": SCHEMA,
            "scenario": self.scenario.name,
            "method": cfg.method,
            "seed": cfg.seed,
            "set": self.identity["set"],
            "protocol": manifest.get("protocol") or cfg.protocol or self.scenario.protocol,
            "base_runs": cfg.base_runs,
            "replicates": cfg.replicates,
            "points": len(self.X),
            "runs": manifest["runs"],
            "confidence": CONFIDENCE,
            "interval": f"bootstrap ({RESAMPLES} resamples, SALib)",
            "params": [
                {"path": p.path, "low": p.low, "high": p.high, "range": p.how} for p in self.params
            ],
            "skipped": self.skipped,
            "outputs": self.names,
            "indices": indices,
            "ranking": {name: ranking(v["indices"], cfg.method) for name, v in indices.items()},
            "swing_runs": cfg.swing_runs,
            "swings": swings(self.params, W, self.names) if len(W) else None,
        }
        write_json(out / "sensitivity.json", result, RESUME_HINT)
        return result

    def verify(self, out: Path) -> None:
        """``points.parquet`` holds every design point; ``sensitivity.json`` parses."""
        from sim.experiments.sweep import check_parquet

        check_parquet(out / "points.parquet", len(self.X) + len(self.S))
        try:
            json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputError(out / "sensitivity.json", f"it does not read back ({exc})") from None


def check_size(cfg: SensitivityConfig, d: int) -> None:
    """At most MAX_POINTS design points, MAX_VALUES design values (points x parameters) and
    MAX_RUNS runs, checked before sampling."""
    points = cfg.base_runs * (d + 2 if cfg.method == "sobol" else d + 1)
    runs = points * cfg.replicates + (2 * d + 1) * cfg.swing_runs
    if points > MAX_POINTS:
        raise OptionError("base_runs", f"expected at most {MAX_POINTS:,} design points, got "
                          f"{points:,} ({cfg.base_runs:,} for {d} parameters)")  # fmt: skip
    if points * d > MAX_VALUES:
        raise OptionError("base_runs", f"expected at most {MAX_VALUES:,} design values (points "
                          f"x parameters), got {points * d:,}")  # fmt: skip
    if runs > MAX_RUNS:
        raise OptionError("replicates", f"expected at most {MAX_RUNS:,} runs in all, got "
                          f"{runs:,}; use fewer --base-runs, --replicates or --swing-runs")  # fmt: skip


def prepare(cfg: SensitivityConfig) -> SensitivityDesign:
    """Check the options and the scenario, resolve the parameters and build both designs."""
    if cfg.method not in METHODS:
        raise OptionError("method", f"expected sobol or morris, got {cfg.method!r}")
    for name, least in (("base_runs", 2), ("replicates", 1), ("swing_runs", 0)):
        value = getattr(cfg, name)
        if value < least:
            raise OptionError(name, f"expected a whole number >= {least}, got {value}")
        if value > MAX_RUNS:
            raise OptionError(name, f"expected at most {MAX_RUNS:,}, got {value:,}")
    check_seed(cfg.seed)
    if cfg.protocol is not None:
        protocol_name(cfg.protocol)
    loaded = overlay.load(cfg.scenario)
    data, source = loaded.data, loaded.source
    sets = dict(parse_set(s) for s in cfg.sets)
    for path in sets:
        check_ids(data, path, source)
    try:
        sc = Scenario.from_data(data, source, sets, kept=loaded.kept)  # validates --set
    except ScenarioError as exc:
        raise overlay.validated(loaded, exc) from None
    sc.loaded = loaded
    data = sc.data
    params, skipped = resolve(cfg.params, numeric_parameters(sc))
    if clash := sorted({p.path for p in params} & set(sets)):
        raise OptionError(
            "params", f"--set and --params both name {clash[0]}; give it one or the other"
        )
    for p in params:  # both ends must pass the loader, as a --set would
        for v in (p.low, p.high):
            Scenario.from_data(data, source, {p.path: v})
    by = {p.path: p for p in params}
    tab, wd = by.get("negotiation.tabling_threshold"), by.get("negotiation.withdraw_threshold")
    if tab and wd and wd.high > tab.low:
        raise OptionError(
            "params",
            "negotiation.withdraw_threshold must stay at most tabling_threshold; "
            f"give ranges with withdraw's high ({wd.high:g}) <= tabling's low ({tab.low:g})",
        )
    for corner in ("low", "high"):  # and both corners, for joint rules (an actor's ties sum <= 1)
        try:
            Scenario.from_data(data, source, {p.path: getattr(p, corner) for p in params})
        except StabsimError as exc:
            raise OptionError(
                "params",
                f"with every parameter at its {corner} end the scenario is invalid: "
                f"{str(exc).splitlines()[0]}; narrow the ranges",
            ) from None
    if cfg.clause is not None and cfg.clause not in {c.id for c in sc.space.clauses}:
        raise OptionError(
            "clause",
            f"expected one of {', '.join(c.id for c in sc.space.clauses)}, got {cfg.clause!r}",
        )
    check_size(cfg, len(params))
    X = sample(params, cfg.method, cfg.base_runs, cfg.seed)
    S = swing_design(params) if cfg.swing_runs else np.zeros((0, len(params)))
    blob = json.dumps([data, cfg.protocol, [p.path for p in params]], sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    job = Job(data, source, cfg.protocol, cfg.seed, tuple(p.path for p in params), cfg.clause, key)
    identity = {
        "scenario_sha256": loaded.sha256(),
        "seed": cfg.seed,
        "set": sets,
        "params": [[p.path, p.low, p.high] for p in params],
        "method": cfg.method,
        "base_runs": cfg.base_runs,
        "replicates": cfg.replicates,
        "swing_runs": cfg.swing_runs,
        "clause": cfg.clause,
        "protocol": cfg.protocol,
    }
    names = output_names(sc, cfg.clause)
    return SensitivityDesign(cfg, job, params, skipped, X, S, names, identity, sc)


def run(
    cfg: SensitivityConfig, ex: Execution | None = None, backend: Backend | None = None
) -> Report:
    """Run (or resume) a sensitivity analysis into ``ex.out`` (default
    ``results/<scenario>-sensitivity``); the report's ``result`` is ``sensitivity.json``."""
    design = prepare(cfg)
    ex = ex or Execution(out=None)  # type: ignore[arg-type]
    if ex.out is None:
        ex = replace(ex, out=Path("results") / f"{design.scenario.name}-sensitivity")
    report = run_design(design, ex, backend)
    if report.status == "complete":
        report.result = read_result(ex.out, "sensitivity.json", SCHEMA)
    return report
