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
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import StabsimError
from sim.experiments.progress import Progress
from sim.experiments.sweep import (
    SweepInterrupted,
    _atomic_write,
    _now,
    _write_json,
    check_ids,
    check_out,
    choose_backend,
    default_workers,
    execute,
    open_folder,
    parse_set,
    run_seed,
    versions,
)
from sim.model.model import NegotiationModel
from sim.scenario.compiled import Params, Scenario
from sim.scenario.distributions import Dist

SCHEMA = "stabsim-sensitivity/1"
MANIFEST_SCHEMA = "stabsim-manifest/1"
OWN_FILES = ("points.parquet", "sensitivity.json", "manifest.json")
METHODS = ("sobol", "morris")
MORRIS_LEVELS = 4
RESAMPLES = 200  # bootstrap resamples for the intervals
CONFIDENCE = 0.95
BASE_OUTPUTS = ("adopted", "vetoed", "viable", "delivered_troops")

# The valid range of every numeric field (sim/schema.py; tests check the two agree).
ACTOR_RANGES: dict[str, tuple[float, float]] = {
    "capability": (0.0, 1.0),
    "status_quo": (-1.0, 1.0),
    "flexibility": (0.0, 1.0),
    "vote.noise": (0.0, math.inf),
    "vote.abstain_band": (0.0, 1.0),
    "vote.veto_cost": (0.0, 1.0),
    "troops.max": (0.0, 1e6),
    "troops.delivery": (0.0, 1.0),
    "troops.willingness": (-1.0, 1.0),
    "troops.solidarity": (0.0, 1.0),
}
GLOBAL_RANGES: dict[str, tuple[float, float]] = {
    "force.troops_required": (0.0, 1e7),
    "negotiation.tabling_threshold": (0.0, 1.0),
    "negotiation.withdraw_threshold": (0.0, 1.0),
    "negotiation.force_weight": (0.0, 1.0),
    "negotiation.pressure_weight": (0.0, 10.0),
}


class SensitivityError(StabsimError):
    """A sensitivity analysis cannot run as asked (unknown parameter, bad range or option)."""


# --- the scenario's parameters -----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Where one numeric parameter lands in the run's arrays, and its scenario value."""

    array: str
    index: tuple[int, ...]
    value: Any  # a number or a Dist
    valid: tuple[float, float]


class _Recording(Scenario):
    """A compiled scenario that also records every parameter's path and place in the arrays."""

    def _param(self, path, array, index, value, convert=float):  # type: ignore[override]
        if not hasattr(self, "entries"):
            self.entries: dict[str, tuple[str, tuple[int, ...], Any, Any]] = {}
        self.entries[path] = (array, index, value, convert)
        super()._param(path, array, index, value, convert)


def field_range(path: str, scenario: Scenario | None = None) -> tuple[float, float] | None:
    """The valid range of the numeric field at ``path`` (None: not a numeric field)."""
    if path in GLOBAL_RANGES:
        return GLOBAL_RANGES[path]
    parts = path.split(".")
    if len(parts) < 3 or parts[0] != "actors":
        return None
    rest = ".".join(parts[2:])
    if rest in ACTOR_RANGES:
        return ACTOR_RANGES[rest]
    kind = parts[2]
    if (kind in ("salience", "ties") and len(parts) == 4) or (
        kind == "utility" and len(parts) == 5
    ):
        return (0.0, 1.0)
    if kind == "ideal" and len(parts) == 4 and scenario is not None:
        for cl in scenario.space.clauses:
            if cl.id == parts[3] and cl.kind == "scale":
                return (float(cl.values[0]), float(cl.values[-1]))  # type: ignore[index]
    return None


def catalogue(sc: _Recording) -> dict[str, Entry]:
    """Every numeric parameter of the scenario, in compile order."""
    out = {}
    for path, (array, index, value, _conv) in sc.entries.items():
        valid = field_range(path, sc)
        if valid is None:
            continue
        if isinstance(value, Dist) and value.support is None:
            continue
        out[path] = Entry(array, index, value, valid)
    return out


def default_range(entry: Entry) -> tuple[float, float, str]:
    """(low, high, how): the distribution's support, or +-50% of the fixed value, clipped."""
    v = entry.value
    if isinstance(v, Dist):
        lo, hi = v.support  # type: ignore[misc]
        return float(lo), float(hi), f"support of {v.describe()}"
    x = float(v)
    lo = max(entry.valid[0], x - 0.5 * abs(x))
    hi = min(entry.valid[1], x + 0.5 * abs(x))
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
        raise SensitivityError(f"--params {text}: expected PATH or PATH=LOW:HIGH")
    if not sep:
        return path, None
    parts = spec.split(":")
    try:
        lo, hi = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise SensitivityError(
            f"--params {text}: expected PATH=LOW:HIGH with numbers LOW < HIGH, "
            "e.g. actors.RUS.vote.veto_cost=0.1:0.6"
        )
    return path, (lo, hi)


def _matches(pattern: str, path: str) -> bool:
    """Segment-wise glob: ``*`` matches within one dotted segment."""
    a, b = pattern.split("."), path.split(".")
    return len(a) == len(b) and all(fnmatch.fnmatchcase(y, x) for x, y in zip(a, b, strict=True))


def resolve(args: list[str], cat: dict[str, Entry]) -> tuple[list[Parameter], list[str]]:
    """Expand ``--params`` into parameters with ranges; return them and the skipped paths."""
    if not args:
        raise SensitivityError("--params: name at least one parameter, e.g. actors.*.salience.*")
    chosen: dict[str, Parameter] = {}
    skipped: list[str] = []
    for arg in args:
        pattern, given = parse_params_arg(arg)
        wild = any(ch in pattern for ch in "*?[")
        paths = [p for p in cat if _matches(pattern, p)]
        if not paths:
            near = [p for p in cat if p.split(".")[:2] == pattern.split(".")[:2]][:6]
            hint = f"; e.g. {', '.join(near)}" if near else ""
            raise SensitivityError(
                f"--params {pattern}: no numeric parameter of the scenario matches{hint}"
            )
        for path in paths:
            e = cat[path]
            if given is not None:
                lo, hi = given
                if lo < e.valid[0] or hi > e.valid[1]:
                    raise SensitivityError(
                        f"--params {arg}: {path} must stay within "
                        f"[{e.valid[0]:g}, {e.valid[1]:g}], got {lo:g}:{hi:g}"
                    )
                how = "given"
            else:
                lo, hi, how = default_range(e)
            if not hi > lo:
                if wild:
                    skipped.append(path)
                    continue
                raise SensitivityError(
                    f"--params {path}: fixed at {float(e.value):g}, so +-50% is no range; "
                    f"give one as {path}=LOW:HIGH"
                )
            chosen.setdefault(path, Parameter(path, lo, hi, how))
    if not chosen:
        raise SensitivityError(
            f"--params: every matching parameter is fixed at 0 ({', '.join(skipped[:4])}...); "
            "give ranges as PATH=LOW:HIGH"
        )
    return list(chosen.values()), [s for s in skipped if s not in chosen]


# --- the design -----------------------------------------------------------------------------------


def problem(params: list[Parameter]) -> dict[str, Any]:
    """The SALib problem definition."""
    return {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }


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


_COMPILED: dict[str, tuple[_Recording, list[tuple[str, tuple[int, ...], Any]]]] = {}


def _compiled(job: Job) -> tuple[_Recording, list[tuple[str, tuple[int, ...], Any]]]:
    """The job's scenario and each analysed path's (array, index, convert), once per worker."""
    hit = _COMPILED.get(job.key)
    if hit is None:
        sc = _Recording.from_data(job.data, job.source)
        places = [(*sc.entries[p][0:2], sc.entries[p][3]) for p in job.paths]
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        hit = _COMPILED[job.key] = (sc, places)  # type: ignore[assignment]
    return hit  # type: ignore[return-value]


def run_point(
    sc: Scenario,
    places: list[tuple[str, tuple[int, ...], Any]],
    values: tuple[float, ...],
    job: Job,
    replicates: int,
    options: list[str],
) -> list[float]:
    """The outputs of one design point: replicate means over runs 0..R-1 (common seeds)."""
    adopted = vetoed = viable = troops = 0.0
    chosen = dict.fromkeys(options, 0.0)
    for r in range(replicates):
        seed = run_seed(job.seed, r)
        rng = np.random.default_rng(seed)
        params: Params = sc.draw(rng)  # every distribution drawn, in order, as in a sweep
        for (array, index, convert), v in zip(places, values, strict=True):
            if not math.isnan(v):
                getattr(params, array)[index] = convert(v)
        model = NegotiationModel(sc, seed=seed, rng=rng, params=params, protocol=job.protocol)
        res = model.run()
        adopted += res.outcome == "adopted"
        vetoed += res.outcome == "vetoed"
        viable += bool(res.viable)
        troops += res.delivered_troops
        if job.clause is not None and res.text:
            chosen[res.text[job.clause]] += 1
    out = [adopted, vetoed, viable, troops] + [chosen[o] for o in options]
    return [x / replicates for x in out]


def run_block(job: Job, block: Block) -> tuple[Block, bytes]:
    """Run one block of design points; return it with its outputs as ``.npy`` bytes."""
    sc, places = _compiled(job)
    options = (
        list(next(c for c in sc.space.clauses if c.id == job.clause).options) if job.clause else []
    )
    out = np.array(
        [run_point(sc, places, row, job, block.replicates, options) for row in block.rows]
    )
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    return block, buf.getvalue()


# --- analysis ---------------------------------------------------------------------------------------


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def analyse(
    params: list[Parameter], method: str, X: np.ndarray, Y: np.ndarray, names: list[str], seed: int
) -> dict[str, Any]:
    """Indices per output: Sobol' S1 and ST, or Morris mu*, with 95% bootstrap intervals."""
    prob = problem(params)
    result: dict[str, Any] = {}
    for k, name in enumerate(names):
        y = Y[:, k]
        constant = bool(np.ptp(y) == 0)
        rows: dict[str, Any] = {}
        if constant:
            zero = {"low": 0.0, "high": 0.0}
            for p in params:
                if method == "sobol":
                    rows[p.path] = {"S1": 0.0, "S1_ci": zero, "ST": 0.0, "ST_ci": zero}
                else:
                    rows[p.path] = {"mu_star": 0.0, "mu_star_ci": zero, "mu": 0.0, "sigma": 0.0}
            result[name] = {"constant": True, "indices": rows}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "sobol":
                from SALib.analyze import sobol

                s = sobol.analyze(prob, y, calc_second_order=False, num_resamples=RESAMPLES,
                                  conf_level=CONFIDENCE, seed=seed)  # fmt: skip
                for j, p in enumerate(params):
                    s1, s1c, st, stc = (float(s[n][j]) for n in ("S1", "S1_conf", "ST", "ST_conf"))
                    rows[p.path] = {
                        "S1": _finite(s1),
                        "S1_ci": {"low": _finite(s1 - s1c), "high": _finite(s1 + s1c)},
                        "ST": _finite(st),
                        "ST_ci": {"low": _finite(st - stc), "high": _finite(st + stc)},
                    }
            else:
                from SALib.analyze import morris

                s = morris.analyze(prob, X, y, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                                   num_levels=MORRIS_LEVELS, seed=seed)  # fmt: skip
                for j, p in enumerate(params):
                    m, c = float(s["mu_star"][j]), float(s["mu_star_conf"][j])
                    rows[p.path] = {
                        "mu_star": _finite(m),
                        "mu_star_ci": {"low": _finite(m - c), "high": _finite(m + c)},
                        "mu": _finite(s["mu"][j]),
                        "sigma": _finite(s["sigma"][j]),
                    }
        result[name] = {"constant": False, "indices": rows}
    return result


def ranking(indices: dict[str, Any], method: str) -> list[str]:
    """Parameters by importance for one output: total index (Sobol') or mu* (Morris), largest
    first, ties by path."""
    key = "ST" if method == "sobol" else "mu_star"
    return sorted(indices, key=lambda p: (-(indices[p][key] or 0.0), p))


def swings(params: list[Parameter], Y: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Baseline outputs and, per parameter, the change at its low and high end; each output's
    parameters sorted by the larger absolute change."""
    base = Y[0]
    per = {}
    for k, name in enumerate(names):
        rows = []
        for j, p in enumerate(params):
            lo, hi = Y[1 + 2 * j, k] - base[k], Y[2 + 2 * j, k] - base[k]
            rows.append({"path": p.path, "low": p.low, "high": p.high,
                         "at_low": float(Y[1 + 2 * j, k]), "at_high": float(Y[2 + 2 * j, k]),
                         "change_low": float(lo), "change_high": float(hi)})  # fmt: skip
        rows.sort(key=lambda r: (-max(abs(r["change_low"]), abs(r["change_high"])), r["path"]))
        per[name] = {"baseline": float(base[k]), "params": rows}
    return per


# --- the command --------------------------------------------------------------------------------------


@dataclass
class SensitivityConfig:
    """Everything ``stabsim sensitivity`` was asked to do."""

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
    out: Path | None = None
    workers: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None
    resume: bool = False
    force: bool = False
    progress: str = "auto"
    command: str = ""


@dataclass
class SensitivityReport:
    out: Path
    runs: int
    ran: int
    seconds: float
    backend: str
    status: str
    result: dict[str, Any] | None


@dataclass(frozen=True)
class Prepared:
    job: Job
    params: list[Parameter]
    skipped: list[str]
    X: np.ndarray
    S: np.ndarray
    names: list[str]
    identity: dict[str, Any]
    scenario: Scenario


def prepare(cfg: SensitivityConfig) -> Prepared:
    """Check the options and the scenario, resolve the parameters and build both designs."""
    from sim.model.protocols import PROTOCOLS
    from sim.scenario.loader import load_data

    if cfg.method not in METHODS:
        raise SensitivityError(f"--method: expected sobol or morris, got {cfg.method!r}")
    for name, v, least in (("--base-runs", cfg.base_runs, 2), ("--replicates", cfg.replicates, 1),
                           ("--swing-runs", cfg.swing_runs, 0), ("--seed", cfg.seed, 0)):  # fmt: skip
        if v < least:
            raise SensitivityError(f"{name}: expected a whole number >= {least}, got {v}")
    for name, v in (("--workers", cfg.workers), ("--dask-local", cfg.dask_local)):
        if v is not None and v < 1:
            raise SensitivityError(f"{name}: expected a whole number >= 1, got {v}")
    if cfg.protocol is not None and cfg.protocol not in PROTOCOLS:
        raise SensitivityError(
            f"--protocol: expected one of {', '.join(PROTOCOLS)}, got {cfg.protocol!r}"
        )
    data, source = load_data(cfg.scenario)
    sets = dict(parse_set(s) for s in cfg.sets)
    for path in sets:
        check_ids(data, path, source)
    base = Scenario.from_data(data, source, sets)  # validates --set
    data = base.data
    sc = _Recording.from_data(data, source)
    cat = catalogue(sc)
    params, skipped = resolve(cfg.params, cat)
    if clash := sorted({p.path for p in params} & set(sets)):
        raise SensitivityError(f"--set and --params both name {clash[0]}; give it one or the other")
    for p in params:  # both ends must pass the loader, as a --set would
        for v in (p.low, p.high):
            Scenario.from_data(data, source, {p.path: v})
    by = {p.path: p for p in params}
    tab, wd = by.get("negotiation.tabling_threshold"), by.get("negotiation.withdraw_threshold")
    if tab and wd and wd.high > tab.low:
        raise SensitivityError(
            "--params: negotiation.withdraw_threshold must stay at most tabling_threshold; "
            f"give ranges with withdraw's high ({wd.high:g}) <= tabling's low ({tab.low:g})"
        )
    for corner in ("low", "high"):  # and both corners, for joint rules (an actor's ties sum <= 1)
        try:
            Scenario.from_data(data, source, {p.path: getattr(p, corner) for p in params})
        except StabsimError as exc:
            raise SensitivityError(
                f"--params: with every parameter at its {corner} end the scenario is invalid: "
                f"{str(exc).splitlines()[0]}; narrow the ranges"
            ) from None
    if cfg.clause is not None and cfg.clause not in {c.id for c in sc.space.clauses}:
        raise SensitivityError(
            f"--clause: expected one of {', '.join(c.id for c in sc.space.clauses)}, "
            f"got {cfg.clause!r}"
        )
    X = sample(params, cfg.method, cfg.base_runs, cfg.seed)
    S = swing_design(params) if cfg.swing_runs else np.zeros((0, len(params)))
    blob = json.dumps([data, cfg.protocol, [p.path for p in params]], sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    job = Job(data, source, cfg.protocol, cfg.seed, tuple(p.path for p in params), cfg.clause, key)
    identity = {
        "scenario_sha256": hashlib.sha256(Path(cfg.scenario).read_bytes()).hexdigest(),
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
    return Prepared(job, params, skipped, X, S, names, identity, sc)


def blocks(prep: Prepared, replicates: int, swing_runs: int, block_size: int) -> list[Block]:
    """The design cut into blocks of about ``block_size`` points (swings first: cheap, and the
    tornado is the first thing an analyst looks at)."""
    out = []
    for design, rows, reps in (("swing", prep.S, swing_runs), ("sample", prep.X, replicates)):
        for i, start in enumerate(range(0, len(rows), block_size)):
            stop = min(start + block_size, len(rows))
            vals = tuple(tuple(float(v) for v in r) for r in rows[start:stop])
            out.append(Block(design, i, start, stop, reps, vals))
    return out


def _part(out: Path, block: Block) -> Path:
    return out / "parts" / f"{block.name}.npy"


def _block_size(n_points: int, workers: int, reps: int) -> int:
    """About 0.2 s of work per block at ~3 ms a run, and at least ~4 blocks per worker."""
    return max(1, min(max(1, 64 // max(reps, 1)), -(-n_points // (4 * workers))))


def run(cfg: SensitivityConfig) -> SensitivityReport:
    """Run (or resume) a sensitivity analysis into ``cfg.out``; write the table, the indices
    and the manifest."""
    prep = prepare(cfg)
    out = Path(cfg.out) if cfg.out else Path("results") / f"{prep.scenario.name}-sensitivity"
    what = "sensitivity analysis"
    status = check_out(out, prep.identity, cfg.resume, cfg.force, OWN_FILES, what)
    manifest_path = out / "manifest.json"
    runs = len(prep.X) * cfg.replicates + len(prep.S) * cfg.swing_runs
    if status == "complete":
        result = json.loads((out / "sensitivity.json").read_text())
        return SensitivityReport(out, runs, 0, 0.0, "-", status, result)
    workers = cfg.workers or default_workers()
    if status == "resume":
        manifest = json.loads(manifest_path.read_text())
        size = int(manifest["block_size"])
    else:
        size = _block_size(len(prep.X), workers, cfg.replicates)
    todo_all = blocks(prep, cfg.replicates, cfg.swing_runs, size)
    todo = [b for b in todo_all if not _part(out, b).exists()]
    done = runs - sum(len(b.rows) * b.replicates for b in todo)
    backend = choose_backend(cfg.scheduler, cfg.dask_local, workers, bool(todo))
    try:
        if status == "fresh":
            manifest = _manifest(cfg, prep, size, runs)
        open_folder(out, manifest_path, manifest, status, cfg.command)
        progress = Progress(runs, done, cfg.progress)
        t0 = time.perf_counter()

        def save(o: tuple[Block, bytes]) -> None:
            block, data = o
            _atomic_write(_part(out, block), data)
            progress.update(len(block.rows) * block.replicates)

        try:
            execute(prep.job, todo, backend, save, task=run_block)
        except KeyboardInterrupt:
            progress.close()
            saved = runs - sum(
                len(b.rows) * b.replicates for b in todo_all if not _part(out, b).exists()
            )
            raise SweepInterrupted(saved, runs, out) from None
        progress.close()
        seconds = time.perf_counter() - t0
    finally:
        backend.close()
    result = finish(out, prep, cfg, manifest, todo_all)
    return SensitivityReport(out, runs, runs - done, seconds, backend.name, status, result)


def _manifest(cfg: SensitivityConfig, prep: Prepared, size: int, runs: int) -> dict[str, Any]:
    return {
        "schema": MANIFEST_SCHEMA,
        "kind": "sensitivity",
        "status": "running",
        "identity": prep.identity,
        "scenario": {
            "name": prep.scenario.name,
            "file": str(Path(cfg.scenario).resolve()),
            "sha256": prep.identity["scenario_sha256"],
            "text": Path(cfg.scenario).read_text(encoding="utf-8"),
        },
        "seed": cfg.seed,
        "runs": runs,
        "block_size": size,
        "command": cfg.command,
        "versions": versions(),
        "started": _now(),
        "finished": None,
    }


def _load(out: Path, parts: list[Block], design: str, n_out: int) -> np.ndarray:
    arrays = [np.load(_part(out, b)) for b in parts if b.design == design]
    return np.concatenate(arrays) if arrays else np.zeros((0, n_out))


def finish(
    out: Path, prep: Prepared, cfg: SensitivityConfig, manifest: dict[str, Any], parts: list[Block]
) -> dict[str, Any]:
    """Gather the parts, write ``points.parquet`` and ``sensitivity.json``, mark the manifest
    complete and remove the parts (each file under its final name only once whole)."""
    n = len(prep.names)
    Y = _load(out, parts, "sample", n)
    W = _load(out, parts, "swing", n)
    cols: dict[str, Any] = {
        "design": ["swing"] * len(W) + ["sample"] * len(Y),
        "point": list(range(len(W))) + list(range(len(Y))),
    }
    for j, p in enumerate(prep.params):
        vals = np.concatenate([prep.S[:, j], prep.X[:, j]])
        cols[f"param.{p.path}"] = pa.array(vals, pa.float64(), from_pandas=True)
    for k, name in enumerate(prep.names):
        cols[name] = np.concatenate([W[:, k], Y[:, k]])
    cols["replicates"] = [cfg.swing_runs] * len(W) + [cfg.replicates] * len(Y)
    tmp = out / ".tmp-points.parquet"
    pq.write_table(pa.table(cols), tmp)
    tmp.replace(out / "points.parquet")
    indices = analyse(prep.params, cfg.method, prep.X, Y, prep.names, cfg.seed)
    result = {
        "schema": SCHEMA,
        "scenario": prep.scenario.name,
        "method": cfg.method,
        "seed": cfg.seed,
        "set": prep.identity["set"],
        "protocol": manifest.get("protocol") or cfg.protocol or prep.scenario.protocol,
        "base_runs": cfg.base_runs,
        "replicates": cfg.replicates,
        "points": len(prep.X),
        "runs": manifest["runs"],
        "confidence": CONFIDENCE,
        "interval": f"bootstrap ({RESAMPLES} resamples, SALib)",
        "params": [
            {"path": p.path, "low": p.low, "high": p.high, "range": p.how} for p in prep.params
        ],
        "skipped": prep.skipped,
        "outputs": prep.names,
        "indices": indices,
        "ranking": {name: ranking(v["indices"], cfg.method) for name, v in indices.items()},
        "swing_runs": cfg.swing_runs,
        "swings": swings(prep.params, W, prep.names) if len(W) else None,
    }
    _write_json(out / "sensitivity.json", result)
    manifest.update(status="complete", finished=_now())
    _write_json(out / "manifest.json", manifest)
    import shutil

    shutil.rmtree(out / "parts", ignore_errors=True)
    return result


def load(out: Path) -> dict[str, Any]:
    """Read ``DIR/sensitivity.json``; a missing or unfinished analysis is a one-line error."""
    path = Path(out) / "sensitivity.json"
    if not path.exists():
        raise SensitivityError(f"{out}: no sensitivity.json (unfinished, or not an analysis)")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SensitivityError(f"{path}: cannot read: {exc}") from None


# --- terminal tables ------------------------------------------------------------------------------------


def _fmt(x: float | None, kind: str) -> str:
    if x is None:
        return "-"
    return f"{x:+,.0f}" if kind == "delivered_troops" else f"{x:+.3f}"


def render(result: dict[str, Any], top: int = 10) -> str:
    """The indices and swings of each output as terminal tables, most important first."""
    from sim.analysis.summary import _table

    method = result["method"]
    lines = [
        f"{result['scenario']}: {method} over {len(result['params'])} parameter(s), "
        f"{result['points']:,} points x {result['replicates']} replicates "
        f"(+ swings at {result['swing_runs']} runs), {result['runs']:,} runs, seed {result['seed']}; "
        "95% bootstrap intervals"
    ]
    if result["skipped"]:
        s = result["skipped"]
        more = f" and {len(s) - 6} more" if len(s) > 6 else ""
        lines.append(f"skipped (fixed at 0, no +-50% range): {', '.join(s[:6])}{more}")
    for name in result["outputs"]:
        block = result["indices"][name]
        order = result["ranking"][name][:top]
        if block["constant"]:
            value = result["swings"][name]["baseline"] if result.get("swings") else None
            at = f" at {_fmt(value, name).lstrip('+')}" if value is not None else ""
            lines += ["", f"{name}: constant over the design{at}; nothing to apportion"]
            continue
        lines += ["", name]
        rows = []
        for p in order:
            r = block["indices"][p]
            if method == "sobol":
                rows.append([p, _num(r["ST"]), _ci(r["ST_ci"]), _num(r["S1"]), _ci(r["S1_ci"])])
            else:
                rows.append([p, _num(r["mu_star"]), _ci(r["mu_star_ci"]), _num(r["sigma"])])
        heads = (["parameter", "total ST", "95% CI", "first S1", "95% CI"] if method == "sobol"
                 else ["parameter", "mu*", "95% CI", "sigma"])  # fmt: skip
        lines.append(_table(heads, rows))
        sw = (result.get("swings") or {}).get(name)
        if sw:
            rows = [[r["path"], f"{r['low']:g}..{r['high']:g}", _fmt(r["change_low"], name),
                     _fmt(r["change_high"], name)] for r in sw["params"][:top]]  # fmt: skip
            lines.append(f"  swings from the baseline {_fmt(sw['baseline'], name).lstrip('+')}:")
            lines.append(_table(["parameter", "range", "at low", "at high"], rows))
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _ci(c: dict[str, float | None]) -> str:
    if c["low"] is None or c["high"] is None:
        return "-"
    return f"[{c['low']:.3f}, {c['high']:.3f}]"
