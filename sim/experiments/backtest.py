"""The track record: the model run on past Council decisions and scored against what happened.

Rules:

- Cases. Every scenario file with an ``observed:`` block (a folder: its ``*.yaml`` files that
  have one). Without paths: the bundled scenarios and ``scenarios/history/``.
- Runs. Each case runs ``runs`` times with the runner's seeds (run ``i`` of every case uses
  ``run_seed(seed, i)``), in chunks, on the runner: resumable like a sweep.
- The decisive draft of a run: the adopted text; else the first draft put to the vote; else
  the penholder's last draft. The text forecast is the modal decisive draft.
- Vote forecasts: each member's probabilities of yes, abstain and no at the end of the run,
  on the draft really put to the vote (the record's ``observed.text``; a clause it leaves out
  takes the run's decisive draft's option), averaged over runs.
- Scores (``sim.analysis.scores``) for the model and for the baselines
  (``sim.analysis.baselines``) on the same cases: the outcome class, each member's vote, the
  clauses of the text, and a reliability table of every member-vote forecast. Summaries are
  given over the independent cases (preferences written without the outcome) and over all.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import baselines as bl
from sim.analysis.folders import read_result
from sim.analysis.scores import (
    OUTCOME_CLASSES,
    VOTE_CLASSES,
    brier,
    clause_matches,
    log_score,
    modal,
    modal_match,
    outcome_class,
    reliability,
)
from sim.errors import OptionError, OutputError, ScenarioError, writing
from sim.experiments.runner import (
    RESUME_HINT,
    Backend,
    Execution,
    Parts,
    Report,
    check_runs,
    check_seed,
    run_design,
    run_seed,
    write_json,
)
from sim.model.simulate import make_model
from sim.scenario import library, overlay
from sim.scenario.compiled import Scenario
from sim.scenario.overrides import parse_set
from sim.scenario.schema import protocol_name

SCHEMA = "stabsim-backtest/1"
FILES = ("backtest.json", "features.npz")
CHUNK = 250  # runs per task
MAX_RUNS_PER_CASE = 100_000  # every run's vote features are held in memory when scoring


class BacktestError(OptionError):
    """A path given to the backtest holds no case."""


# --- the cases ---------------------------------------------------------------------------------


def case_files(paths: list[Path]) -> list[Path]:
    """Every file with an ``observed:`` block among ``paths`` (files, or folders' ``*.yaml``);
    by default the bundled scenarios and the history library."""
    if not paths:
        paths = [library.root(), library.root() / library.HISTORY]
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = [p for p in sorted(path.glob("*.yaml")) if _has_observed(p)]
            if not found and path != library.root():
                raise BacktestError("paths", f"{path}: no scenario with an observed: block")
            out += found
        elif path.is_file():
            if not _has_observed(path):
                raise BacktestError(
                    "paths", f"{path}: no observed: block (the backtest needs what happened)"
                )
            out.append(path)
        else:
            raise BacktestError("paths", f"{path}: no such file or folder")
    return list(dict.fromkeys(out))


def _has_observed(path: Path) -> bool:
    data = overlay.load(path).data
    return isinstance(data, dict) and isinstance(data.get("observed"), dict)


@dataclass(frozen=True)
class Case:
    """One compiled case and the observed text as option indices (-1 where not recorded)."""

    data: Any
    source: str
    real_text: tuple[int, ...]


@dataclass(frozen=True)
class Job:
    cases: tuple[Case, ...]
    sets: tuple[tuple[str, str], ...]
    protocol: str | None
    seed: int
    key: str


@dataclass(frozen=True)
class Chunk:
    case: int
    index: int
    start: int
    stop: int

    @property
    def runs(self) -> int:
        return self.stop - self.start

    @property
    def parts(self) -> tuple[str, ...]:
        return (f"case{self.case:03d}-{self.index:05d}.npz",)


_COMPILED: dict[tuple[str, int], Scenario] = {}


def _scenario(job: Job, c: int) -> Scenario:
    key = (job.key, c)
    if key not in _COMPILED:
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        case = job.cases[c]
        _COMPILED[key] = Scenario.from_data(case.data, case.source, dict(job.sets))
    return _COMPILED[key]


def _indices(sc: Scenario, text: dict[str, str] | None) -> np.ndarray:
    return np.array([sc.space.clauses[i].index_of(text[c.id]) for i, c in enumerate(sc.space.clauses)]
                    ) if text else np.full(len(sc.space.clauses), -1)  # fmt: skip


def run_chunk(job: Job, chunk: Chunk) -> tuple[Chunk, dict[str, bytes]]:
    """Run one chunk of a case; return per-run arrays: outcome class, decisive draft, rounds,
    and the members' vote probabilities and vote features on the draft really voted."""
    sc = _scenario(job, chunk.case)
    real = np.array(job.cases[chunk.case].real_text)
    n, m, c, b = chunk.runs, len(sc.members), len(sc.space.clauses), len(sc.body_stance)
    out = {
        "outcome": np.zeros(n, np.int8), "rounds": np.zeros(n, np.int16),
        "text": np.zeros((n, c), np.int16), "tabled": np.zeros(n, bool),
        "p_yes": np.zeros((n, m)), "p_no": np.zeros((n, m)),
        # vote features on the draft voted (gap, red, ...) and on the run's own (dgap, ...)
        "gap": np.zeros((n, m)), "red": np.zeros((n, m), bool), "consent": np.zeros(n, bool),
        "stance": np.zeros((n, b)), "dgap": np.zeros((n, m)), "dred": np.zeros((n, m), bool),
        "dconsent": np.zeros(n, bool), "dstance": np.zeros((n, b)),
        "sovereignty": np.zeros((n, m)),
    }  # fmt: skip
    for r, i in enumerate(range(chunk.start, chunk.stop)):
        model = make_model(sc, run_seed(job.seed, i), protocol=job.protocol, record_path=False)
        result = model.run()
        decisive = result.text or (result.drafts[0].text if result.drafts else result.draft)
        dtext = _indices(sc, decisive)
        ftext = np.where(real >= 0, real, dtext)
        both = np.vstack([ftext, dtext])
        a = model.assess(both)
        v = model.vote_context(a.eff, both)
        red = a.red
        out["outcome"][r] = OUTCOME_CLASSES.index(outcome_class(result.outcome))
        out["rounds"][r] = result.rounds
        out["text"][r] = dtext
        out["tabled"][r] = bool(result.drafts)
        out["p_yes"][r], out["p_no"][r] = a.p_yes[:, 0], a.p_no[:, 0]
        out["gap"][r], out["dgap"][r] = v["gap"][:, 0], v["gap"][:, 1]
        out["red"][r], out["dred"][r] = red[sc.members, 0], red[sc.members, 1]
        out["consent"][r], out["dconsent"][r] = v["consent"]
        out["stance"][r], out["dstance"][r] = v["stance"][:, 0], v["stance"][:, 1]
        out["sovereignty"][r] = model.member_sovereignty
    buf = io.BytesIO()
    np.savez(buf, **out)
    return chunk, {chunk.parts[-1]: buf.getvalue()}


# --- scoring one case ------------------------------------------------------------------------------


def _vote_scores(p: np.ndarray, observed: np.ndarray) -> dict[str, Any]:
    if not len(observed):
        return {"n": 0, "brier": None, "log": None, "modal_match": None}
    return {
        "n": len(observed),
        "brier": float(brier(p, observed).mean()),
        "log": float(log_score(p, observed).mean()),
        "modal_match": float(modal_match(p, observed).mean()),
    }


def _outcome_scores(p: np.ndarray, real: int) -> dict[str, Any]:
    return {
        "p_real": float(p[real]),
        "brier": float(brier(p[None, :], np.array([real]))[0]),
        "log": float(log_score(p[None, :], np.array([real]))[0]),
        "modal_match": float(modal_match(p[None, :], np.array([real]))[0]),
        "p": dict(zip(OUTCOME_CLASSES, (float(x) for x in p), strict=True)),
    }


def score_case(sc: Scenario, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The model's and the baselines' scores on one case."""
    obs = sc.spec.observed
    assert obs is not None
    ids = sc.actor_ids
    members = [ids[m] for m in sc.members]
    scored = [k for k, m in enumerate(members) if obs.votes.get(m) in VOTE_CLASSES]
    observed_votes = np.array([VOTE_CLASSES.index(obs.votes[members[k]]) for k in scored], int)
    p_yes, p_no = arrays["p_yes"].mean(axis=0), arrays["p_no"].mean(axis=0)
    model_votes = np.stack([p_yes, np.clip(1 - p_yes - p_no, 0, 1), p_no], axis=1)
    real = OUTCOME_CLASSES.index(outcome_class(obs.outcome))
    outcome_p = np.bincount(arrays["outcome"], minlength=len(OUTCOME_CLASSES)) / len(
        arrays["outcome"]
    )
    real_text = {c: str(v) for c, v in obs.text.items()}
    texts = [tuple(int(x) for x in t) for t in arrays["text"]]
    top = modal(texts)
    model_text = sc.space.describe(np.array(top))
    matched, known = clause_matches(model_text, real_text)
    real_idx = _indices_partial(sc, real_text)
    hits = [(arrays["text"][:, real_idx >= 0] == real_idx[real_idx >= 0]).all(axis=1)]
    opening = sc.space.describe(bl.opening_text(sc))
    o_matched, _ = clause_matches(opening, real_text)
    base = bl.forecasts(sc)
    return {
        "model": {
            "outcome": _outcome_scores(outcome_p, real),
            "votes": _vote_scores(model_votes[scored], observed_votes),
            "text": {
                "matched": matched,
                "known": known,
                "p_real": float(hits[0].mean()),
                "modal": model_text,
            },
            "rounds_mean": float(arrays["rounds"].mean()),
        },
        "baselines": {
            **{
                name: {
                    "outcome": _outcome_scores(f.outcome, real),
                    "votes": _vote_scores(f.votes[scored], observed_votes),
                }
                for name, f in base.items()
            },
            "opening_draft": {
                "text": {
                    "matched": o_matched,
                    "known": known,
                    "p_real": float(o_matched == known and known > 0),
                    "modal": opening,
                }
            },
        },
        "members": {
            members[k]: {
                "p": dict(
                    zip(VOTE_CLASSES, (round(float(x), 4) for x in model_votes[k]), strict=True)
                ),
                "observed": obs.votes.get(members[k]),
                "stance": VOTE_CLASSES[int(base["stance"].votes[k].argmax())]
                if base["stance"].votes[k].any()
                else None,
            }
            for k in range(len(members))
        },
        "reliability_input": {
            "p": model_votes[scored].tolist(),
            "observed": observed_votes.tolist(),
        },
    }


def _indices_partial(sc: Scenario, text: dict[str, str]) -> np.ndarray:
    out = np.full(len(sc.space.clauses), -1)
    for i, c in enumerate(sc.space.clauses):
        if c.id in text:
            out[i] = c.index_of(text[c.id])
    return out


# --- over all cases ---------------------------------------------------------------------------------

METRICS = (  # (path in a case's scores, label, lower is better)
    ("outcome.p_real", "P(real outcome class)", False),
    ("outcome.brier", "outcome Brier", True),
    ("outcome.modal_match", "outcome modal match", False),
    ("votes.brier", "member-vote Brier", True),
    ("votes.log", "member-vote log score", True),
    ("votes.modal_match", "member-vote modal match", False),
    ("text.matched_share", "clauses matched", False),
    ("text.p_real", "P(real text)", False),
)


def _get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if d is None or part not in d:
            return None
        d = d[part]
    return d


def summarise(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Per forecaster (the model and each baseline), the mean of each metric over the cases
    (member-vote scores weighted by the votes scored; clauses matched pooled over clauses)."""
    names = ["model", *bl.BASELINES, "opening_draft"]
    out: dict[str, Any] = {"cases": len(cases)}
    failed = [c for c in cases if c["outcome"] != "adopted"]
    for name in names:
        rows = [c["model"] if name == "model" else c["baselines"].get(name, {}) for c in cases]
        s: dict[str, Any] = {}
        outs = [r["outcome"] for r in rows if "outcome" in r]
        if outs:
            s["outcome.p_real"] = float(np.mean([o["p_real"] for o in outs]))
            s["outcome.brier"] = float(np.mean([o["brier"] for o in outs]))
            s["outcome.modal_match"] = float(np.mean([o["modal_match"] for o in outs]))
            fr = [(c["model"] if name == "model" else c["baselines"][name])["outcome"]["p_real"]
                  for c in failed]  # fmt: skip
            s["outcome.p_real_failed_drafts"] = float(np.mean(fr)) if fr else None
        votes = [r["votes"] for r in rows if r.get("votes", {}).get("n")]
        if votes:
            n = np.array([v["n"] for v in votes])
            for k in ("brier", "log", "modal_match"):
                s[f"votes.{k}"] = float(np.average([v[k] for v in votes], weights=n))
        texts = [r["text"] for r in rows if "text" in r and r["text"]["known"]]
        if texts:
            s["text.matched_share"] = sum(t["matched"] for t in texts) / sum(
                t["known"] for t in texts
            )
            s["text.p_real"] = float(np.mean([t["p_real"] for t in texts]))
        out[name] = s
    return out


def not_beaten(summary: dict[str, Any]) -> list[str]:
    """Every metric on which a baseline does at least as well as the model, in words."""
    out = []
    model = summary.get("model", {})
    for name in (*bl.BASELINES, "opening_draft"):
        base = summary.get(name, {})
        for path, label, lower in (*METRICS, ("outcome.p_real_failed_drafts",
                                              "P(real outcome) on failed drafts", False)):  # fmt: skip
            a, b = model.get(path), base.get(path)
            if a is None or b is None:
                continue
            if (a >= b) if lower else (a <= b):
                out.append(f"{label}: model {a:.3f}, {name.replace('_', ' ')} {b:.3f}")
    return out


# --- the design ------------------------------------------------------------------------------------


@dataclass
class BacktestConfig:
    """What ``stabsim backtest`` runs: case files or folders (none: the bundled library), runs
    per case, the seed, a protocol for every case, and overrides for every case
    (``behaviour.vote_noise=0.1``)."""

    paths: list[Path] = field(default_factory=list)
    runs: int = 2000
    seed: int = 1
    protocol: str | None = None
    sets: list[str] = field(default_factory=list)
    features: bool = False  # also keep every run's vote features (features.npz) for calibration


@dataclass
class BacktestDesign:
    """The backtest as the runner executes it: every case, ``runs`` times, in chunks."""

    cfg: BacktestConfig
    case_paths: list[Path]
    job: Job
    scenarios: list[Scenario]
    identity: dict[str, Any]
    kind: str = "backtest"
    files: tuple[str, ...] = FILES
    size_key: str = "chunk_size"

    @property
    def runs(self) -> int:
        return self.cfg.runs * len(self.case_paths)

    @property
    def work(self) -> Callable[[Job, Chunk], tuple[Chunk, dict[str, bytes]]]:
        return run_chunk

    def task_size(self, workers: int) -> int:
        return max(1, min(CHUNK, -(-self.cfg.runs // 2)))

    def tasks(self, size: int) -> list[Chunk]:
        return [Chunk(c, i, start, min(start + size, self.cfg.runs))
                for c in range(len(self.case_paths))
                for i, start in enumerate(range(0, self.cfg.runs, size))]  # fmt: skip

    def manifest(self) -> dict[str, Any]:
        return {"kind": "backtest", "cases": [str(f) for f in self.case_paths], "seed": self.cfg.seed,
                "runs": self.runs, "protocol": self.cfg.protocol}  # fmt: skip

    def arrays(self, parts: Parts, tasks: list[Chunk], c: int) -> dict[str, np.ndarray]:
        files = [np.load(io.BytesIO(parts.read(t.parts[-1])), allow_pickle=False)
                 for t in tasks if t.case == c]  # fmt: skip
        return {k: np.concatenate([p[k] for p in files]) for k in files[0].files}

    def finish(
        self, out: Path, tasks: list[Chunk], manifest: dict[str, Any], parts: Parts
    ) -> dict[str, Any]:
        per_case = [self.arrays(parts, tasks, c) for c in range(len(self.case_paths))]
        if self.cfg.features:
            keep = ("outcome", "tabled", "gap", "red", "dgap", "dred", "consent", "dconsent",
                    "stance", "dstance", "sovereignty")  # fmt: skip
            flat = {f"c{c}.{k}": a[k] for c, a in enumerate(per_case) for k in keep}
            tmp = out / ".tmp-features.npz"
            with writing(out / "features.npz", RESUME_HINT):
                with tmp.open("wb") as f:
                    np.savez_compressed(f, **flat)
                tmp.replace(out / "features.npz")
        result = self.result(per_case)
        write_json(out / "backtest.json", result, RESUME_HINT)
        return result

    def verify(self, out: Path) -> None:
        """``backtest.json`` parses and holds every case."""
        try:
            result = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
            whole = len(result["cases"]) == len(self.case_paths)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(out / "backtest.json", f"it does not read back ({exc})") from None
        if not whole:
            raise OutputError(out / "backtest.json", "it does not hold every case", RESUME_HINT)

    def result(self, per_case: list[dict[str, np.ndarray]]) -> dict[str, Any]:
        cases = []
        for f, sc, arrays in zip(self.case_paths, self.scenarios, per_case, strict=True):
            obs = sc.spec.observed
            assert obs is not None
            cases.append({
                "file": str(f), "name": sc.spec.name, "document": obs.document,
                "outcome": outcome_class(obs.outcome), "independent": obs.independent,
                **score_case(sc, arrays),
            })  # fmt: skip
        independent = [c for c in cases if c["independent"]]
        pooled_p = [p for c in independent for p in c["reliability_input"]["p"]]
        pooled_o = [o for c in independent for o in c["reliability_input"]["observed"]]
        summary = {"independent": summarise(independent), "all": summarise(cases)}
        return {
            "schema": SCHEMA,
            "seed": self.cfg.seed,
            "runs_per_case": self.cfg.runs,
            "protocol": self.cfg.protocol,
            "set": dict(self.job.sets),
            "cases": cases,
            "summary": summary,
            "not_beaten": not_beaten(summary["independent"]),
            "reliability": reliability(np.array(pooled_p), np.array(pooled_o)) if pooled_p else [],
        }


def prepare(cfg: BacktestConfig) -> BacktestDesign:
    check_runs("runs", cfg.runs, MAX_RUNS_PER_CASE, "runs per case")
    check_seed(cfg.seed)
    if cfg.protocol is not None:
        protocol_name(cfg.protocol)
    files = case_files(cfg.paths)
    sets = tuple(parse_set(s) for s in cfg.sets)
    cases, scenarios = [], []
    for f in files:
        loaded = overlay.load(f)
        data, source = loaded.data, loaded.source
        try:
            sc = Scenario.from_data(data, source, dict(sets), kept=loaded.kept)
        except ScenarioError as exc:
            raise overlay.validated(loaded, exc) from None
        obs = sc.spec.observed
        assert obs is not None
        real = tuple(int(x) for x in _indices_partial(sc, {c: str(v) for c, v in obs.text.items()}))
        cases.append(Case(data, source, real))
        scenarios.append(sc)
    blob = json.dumps([[c.data for c in cases], sets, cfg.protocol], sort_keys=True, default=str)
    job = Job(
        tuple(cases), sets, cfg.protocol, cfg.seed, hashlib.sha256(blob.encode()).hexdigest()[:16]
    )
    identity = {
        "cases": {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files},
        "seed": cfg.seed, "runs": cfg.runs, "protocol": cfg.protocol, "set": dict(sets),
        "features": cfg.features,
    }  # fmt: skip
    return BacktestDesign(cfg, files, job, scenarios, identity)


def backtest(
    cfg: BacktestConfig, ex: Execution | None = None, backend: Backend | None = None
) -> Report:
    """Run (or resume) the backtest into ``ex.out`` (default ``results/backtest-<seed>``); the
    report's ``result`` is ``backtest.json``."""
    design = prepare(cfg)
    ex = ex or Execution(out=None)  # type: ignore[arg-type]
    if ex.out is None:
        ex = replace(ex, out=Path("results") / f"backtest-{cfg.seed}")
    report = run_design(design, ex, backend)
    if report.status == "complete":
        report.result = read_result(ex.out, "backtest.json", SCHEMA)
    return report
