"""Calibrated defaults: the behavioural parameters that are the same in every case, fitted to
the history library by maximum likelihood of the recorded votes and outcomes.

Rules:

- Fitted: the vote parameters ``vote_noise``, ``abstain_band`` and ``veto_cost`` (permanent
  members); the weights of what surrounds a vote, ``region_weight``, ``sovereignty_weight``
  and ``caucus_cohesion`` (:mod:`sim.model.context`); and, by simulation over a small grid,
  the negotiation's ``firmness``, ``audience_weight`` and ``patience``. Never a case's own preferences:
  cases are taken as written. The band and the cost of a no enter the vote only through their
  sum (a member votes no below ``-(abstain_band + cost)``), so votes identify two thresholds,
  not three parameters: the fit holds ``elected_no_cost`` at its default (0), which makes the
  fitted band the elected members' whole threshold for a no, and ``veto_cost`` what a
  permanent member needs beyond it.
- Likelihood of a case: for each member whose vote is recorded, the probability the model
  gave that vote on the draft really put to the vote (averaged over runs); and the
  probability of the recorded outcome class: a run that tables a draft contributes the
  chances, under the vote rule, that its decisive draft is adopted, vetoed or fails; a run
  that tables nothing contributes to "not voted".
- Fitting alternates two steps until the parameters settle (at most ``rounds`` times):
  simulate every case with the current parameters (the backtest, keeping each run's vote
  features: utility gaps, red-line crossings, the host's consent, the bodies' stances); then
  maximise the likelihood over the vote-level parameters with those features held fixed
  (L-BFGS-B, scipy). Then each grid value of firmness, the audience weight and patience is
  simulated and the likeliest kept. Only independent cases (written without the outcome) are
  fitted.
- Leave one case out: the parameters are refitted on the other cases' features from the
  last simulation (the negotiation is not re-simulated per fold), and the held-out case is
  scored with them. Its log score per recorded vote, next to the in-sample one, says how much
  of the fit is over-fitting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.optimize import minimize

from sim.analysis.scores import FLOOR, OUTCOME_CLASSES, VOTE_CLASSES, outcome_class
from sim.errors import OptionError
from sim.experiments.backtest import BacktestConfig, backtest
from sim.experiments.backtest import prepare as prepare_backtest
from sim.experiments.folder import write_json
from sim.experiments.runner import Execution
from sim.model import context as ctx
from sim.model import voting as vt
from sim.scenario.behaviour import CALIBRATED, calibrated
from sim.scenario.compiled import Scenario

SCHEMA = "stabsim-calibration/1"
# name: (lower, upper) for the fit
FITTED = {
    "vote_noise": (0.005, 0.5),
    "abstain_band": (0.0, 0.8),
    "veto_cost": (0.0, 1.0),
    "region_weight": (0.0, 1.0),
    "sovereignty_weight": (0.0, 1.0),
    "caucus_cohesion": (0.0, 1.0),
}
GRID = {
    "firmness": (0.35, 0.5, 1.0, 2.0),
    "audience_weight": (0.0, 0.5, 1.0, 2.0),
    "patience": (0.0, 0.9, 0.97),
}


@dataclass(frozen=True)
class CaseData:
    """What the likelihood needs of one case: every run's vote features (runs x members, from
    the backtest: see :meth:`NegotiationModel.vote_context`) on the draft really voted and, with
    a ``d`` prefix, on the run's own decisive draft; whether it tabled one; the case's
    constants; and the record."""

    name: str
    f: dict[str, np.ndarray]  # gap, red, consent, stance, dgap, ..., sovereignty, tabled
    permanent: np.ndarray  # (M,)
    present: np.ndarray  # (M,)
    body_members: np.ndarray  # (B, M)
    groups: np.ndarray  # (G, M)
    group_cohesion: np.ndarray  # (G,) NaN: the scenario-wide cohesion
    scored: np.ndarray  # (M,) the member's vote is recorded (yes, abstain or no)
    votes: np.ndarray  # (M,) recorded vote class (0 where not scored)
    outcome: int  # recorded outcome class
    needed: int


def case_data(sc: Scenario, features: dict[str, np.ndarray], c: int) -> CaseData:
    obs = sc.spec.observed
    assert obs is not None
    ids = [sc.actor_ids[m] for m in sc.members]
    scored = np.array([obs.votes.get(m) in VOTE_CLASSES for m in ids])
    votes = np.array(
        [VOTE_CLASSES.index(obs.votes[m]) if s else 0 for m, s in zip(ids, scored, strict=True)]
    )
    prefix = f"c{c}."
    f = {k[len(prefix) :]: v for k, v in features.items() if k.startswith(prefix)}
    return CaseData(sc.spec.name, f, sc.veto.copy(), sc.present.copy(), sc.body_members,
                    sc.groups, sc.group_cohesion, scored, votes,
                    OUTCOME_CLASSES.index(outcome_class(obs.outcome)), sc.votes_needed)  # fmt: skip


def vote_probs(
    theta: dict[str, float], d: CaseData, own: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(runs, M) P(yes) and P(no) under the vote rule with parameters ``theta``, on the draft
    really voted (or, with ``own``, each run's own decisive draft)."""
    k = "d" if own else ""
    gap, red = d.f[f"{k}gap"], d.f[f"{k}red"]
    cohesion = np.where(np.isnan(d.group_cohesion), theta.get("caucus_cohesion", 0.0),
                        d.group_cohesion)  # fmt: skip
    # member_view works on (M, n) with texts as columns: here one text per run
    view, dcost = ctx.member_view(
        gap.T, d.f[f"{k}consent"], d.f[f"{k}stance"].T, d.body_members, d.f["sovereignty"][0],
        d.groups, cohesion, theta.get("region_weight", 0.0), theta.get("sovereignty_weight", 0.0),
    )  # fmt: skip
    m = gap.shape[1]
    lower = vt.no_threshold(np.full(m, theta["abstain_band"]), np.full(m, theta["veto_cost"]),
                            d.permanent, theta.get("elected_no_cost", 0.0))[:, None] - dcost  # fmt: skip
    p_yes, p_no = vt.vote_probabilities(view, np.full(m, theta["vote_noise"]), lower, red.T)
    return p_yes.T, p_no.T


def case_loglik(theta: dict[str, float], d: CaseData) -> tuple[float, float, int]:
    """(log likelihood of the recorded votes, of the recorded outcome, votes scored)."""
    p_yes, p_no = vote_probs(theta, d)
    probs = np.stack([p_yes, np.clip(1 - p_yes - p_no, 0, 1), p_no], axis=-1).mean(axis=0)
    m = np.flatnonzero(d.scored)
    votes_ll = float(np.log(np.maximum(probs[m, d.votes[m]], FLOOR)).sum())
    q_yes, q_no = vote_probs(theta, d, own=True)
    q_yes, q_no = (q_yes * d.present).T, (q_no * d.present).T  # (M, runs)
    adopt, reach = vt.outcome_probabilities(q_yes, q_no, d.permanent, d.needed)
    per_run = np.stack([adopt, np.clip(reach - adopt, 0, 1), 1 - reach, np.zeros_like(adopt)], 1)
    per_run = np.where(d.f["tabled"][:, None], per_run, np.eye(4)[3])
    p_outcome = per_run.mean(axis=0)[d.outcome]
    return votes_ll, float(np.log(max(p_outcome, FLOOR))), len(m)


def _theta(x: np.ndarray) -> dict[str, float]:
    return dict(zip(FITTED, (float(v) for v in x), strict=True))


def fit(cases: list[CaseData], start: dict[str, float]) -> dict[str, float]:
    """The vote-level parameters that maximise the summed log likelihood of ``cases``."""

    def loss(x: np.ndarray) -> float:
        return -_total({**start, **_theta(x)}, cases)

    x0 = np.array([min(max(start.get(k, lo), lo), hi) for k, (lo, hi) in FITTED.items()])
    res = minimize(loss, x0, method="L-BFGS-B", bounds=list(FITTED.values()),
                   options={"maxiter": 200})  # fmt: skip
    return _theta(res.x)


def scores(theta: dict[str, float], cases: list[CaseData]) -> dict[str, float]:
    """Mean log score per recorded vote and per outcome (lower is better)."""
    rows = [case_loglik(theta, d) for d in cases]
    votes = sum(n for _, _, n in rows)
    return {"vote_log": -sum(v for v, _, _ in rows) / max(votes, 1),
            "outcome_log": -sum(o for _, o, _ in rows) / max(len(rows), 1)}  # fmt: skip


def _simulate(cfg: BacktestConfig, theta: dict[str, float], folder: Path, keep: list[int],
              design: Any, workers: int | None, progress: str) -> list[CaseData]:  # fmt: skip
    """Run the backtest with ``theta`` as every case's behaviour; the independent cases' data."""
    sets = [*cfg.sets, *(f"behaviour.{n}={v!r}" for n, v in theta.items())]
    backtest(replace(cfg, sets=sets, features=True),
             Execution(out=folder, workers=workers, force=True, progress=progress))  # fmt: skip
    with np.load(folder / "features.npz") as f:
        features = dict(f)
    return [case_data(design.scenarios[c], features, c) for c in keep]


def _total(theta: dict[str, float], cases: list[CaseData]) -> float:
    return sum(a + b for a, b, _ in (case_loglik(theta, d) for d in cases))


def calibrate(cfg: BacktestConfig, out: Path, rounds: int = 3, workers: int | None = None,
              progress: str = "none") -> dict[str, Any]:  # fmt: skip
    """Fit the calibrated defaults to the independent cases; write ``calibration.json`` and
    ``calibrated.yaml`` (the defaults file's format) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    base = calibrated()
    theta = {k: base[k] for k in (*FITTED, *GRID)}
    history: list[dict[str, Any]] = []
    design = prepare_backtest(cfg)
    keep = [c for c, sc in enumerate(design.scenarios) if sc.spec.observed.independent]  # type: ignore[union-attr]
    if not keep:
        raise OptionError("paths", "no independent case (observed.independent: true) to fit")
    cases: list[CaseData] = []
    step = 0
    for k in range(rounds):
        step += 1
        cases = _simulate(cfg, theta, out / f"step-{step}", keep, design, workers, progress)
        before = scores(theta, cases)
        fitted = {**theta, **fit(cases, theta)}
        history.append({"step": step, "kind": "fit", "start": theta, "result": fitted,
                        "before": before, "after": scores(fitted, cases)})  # fmt: skip
        moved = max(abs(fitted[n] - theta[n]) for n in FITTED)
        theta = fitted
        if moved < 0.005 and k:
            break
    for name, values in GRID.items():  # the negotiation's own parameters, by simulation
        tried = {}
        for value in values:
            step += 1
            trial = {**theta, name: value}
            data = _simulate(cfg, trial, out / f"step-{step}", keep, design, workers, progress)
            tried[value] = (_total(trial, data), data)
        best = max(tried, key=lambda v: tried[v][0])
        history.append({"step": step, "kind": "grid", "parameter": name,
                        "log_likelihood": {str(v): tried[v][0] for v in values}, "chosen": best})  # fmt: skip
        theta = {**theta, name: best}
        cases = tried[best][1]
    step += 1
    theta = {**theta, **fit(cases, theta)}  # the vote-level fit once more, on the chosen grid
    cases = _simulate(cfg, theta, out / f"step-{step}", keep, design, workers, progress)
    in_sample = scores(theta, cases)
    folds = []
    for i, held in enumerate(cases):
        th = {**theta, **fit(cases[:i] + cases[i + 1 :], theta)}
        folds.append({"case": held.name, "fitted": th, **scores(th, [held])})
    loco = {
        "vote_log": float(np.mean([f["vote_log"] for f in folds])) if folds else None,
        "outcome_log": float(np.mean([f["outcome_log"] for f in folds])) if folds else None,
    }
    defaults = {**base, **{k: round(float(v), 4) for k, v in theta.items()}}
    result = {
        "schema": SCHEMA,
        "cases": [d.name for d in cases],
        "runs_per_case": cfg.runs,
        "seed": cfg.seed,
        "protocol": cfg.protocol,
        "fitted": {k: round(float(v), 4) for k, v in theta.items()},
        "defaults": defaults,
        "in_sample": in_sample,
        "leave_one_case_out": loco,
        "folds": folds,
        "history": history,
    }
    write_json(out / "calibration.json", result)
    (out / "calibrated.yaml").write_text(defaults_yaml(defaults, cfg), encoding="utf-8")
    return result


def defaults_yaml(defaults: dict[str, float], cfg: BacktestConfig) -> str:
    """The defaults file, with a header saying how it was made."""
    head = (
        "# Scenario-wide behavioural parameters: the defaults a scenario takes for any value it does\n"
        "# not set itself (an actor's own vote parameters, then the scenario's behaviour: block, win).\n"
        f"# Fitted by: stabsim backtest --calibrate --runs {cfg.runs} --seed {cfg.seed}"
        + (f" --protocol {cfg.protocol}" if cfg.protocol else "")
        + "\n# to the independent cases of the history library (docs/backtest.md).\n"
    )
    return head + yaml.safe_dump(defaults, sort_keys=False)


def install(folder: Path) -> Path:
    """Copy a calibration's ``calibrated.yaml`` over the package's defaults file."""
    text = (folder / "calibrated.yaml").read_text(encoding="utf-8")
    json.dumps(yaml.safe_load(text))  # a readable mapping, or an error before anything is replaced
    tmp = CALIBRATED.with_name(".tmp-calibrated.yaml")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(CALIBRATED)
    calibrated.cache_clear()
    return CALIBRATED
