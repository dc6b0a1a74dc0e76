"""Calibrated defaults: the behavioural parameters that are the same in every case, fitted to
the history library by maximum likelihood of the recorded votes and outcomes.

Rules:

- Fitted: the vote parameters ``vote_noise``, ``abstain_band`` and ``veto_cost`` (permanent
  members). Never a case's own preferences: cases are taken as written. The band and the
  cost of a no enter the vote only through their sum (a member votes no below
  ``-(abstain_band + cost)``), so votes identify two thresholds, not three parameters: the
  fit holds ``elected_no_cost`` at its default (0), which makes the fitted band the elected
  members' whole threshold for a no, and ``veto_cost`` what a permanent member needs beyond it.
- Likelihood of a case: for each member whose vote is recorded, the probability the model
  gave that vote on the draft really put to the vote (averaged over runs); and the
  probability of the recorded outcome class: a run that tables a draft contributes the
  chances, under the vote rule, that its decisive draft is adopted, vetoed or fails; a run
  that tables nothing contributes to "not voted".
- Fitting alternates two steps until the parameters settle (at most ``rounds`` times):
  simulate every case with the current parameters (the backtest, keeping each run's vote
  features: utility gaps and red-line crossings); then maximise the likelihood over the
  parameters with those features held fixed (L-BFGS-B, scipy). Only independent cases
  (written without the outcome) are fitted.
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
from scipy.special import expit

from sim.analysis.scores import FLOOR, OUTCOME_CLASSES, VOTE_CLASSES, outcome_class
from sim.experiments.backtest import BacktestConfig, backtest
from sim.experiments.backtest import prepare as prepare_backtest
from sim.experiments.runner import Execution, write_json
from sim.model import voting as vt
from sim.scenario.behaviour import CALIBRATED, calibrated
from sim.scenario.compiled import Scenario

SCHEMA = "stabsim-calibration/1"
# name: (lower, upper) for the fit
FITTED = {
    "vote_noise": (0.005, 0.5),
    "abstain_band": (0.0, 0.8),
    "veto_cost": (0.0, 1.0),
}


@dataclass(frozen=True)
class CaseData:
    """What the likelihood needs of one case: every run's vote features on the voted draft
    (``gap``, ``red``: runs x members) and on its own decisive draft (``dgap``, ``dred``),
    whether it tabled one, and the record."""

    name: str
    gap: np.ndarray
    red: np.ndarray
    dgap: np.ndarray
    dred: np.ndarray
    tabled: np.ndarray
    permanent: np.ndarray  # (M,)
    present: np.ndarray  # (M,)
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
    f = {k: features[f"c{c}.{k}"] for k in ("gap", "red", "dgap", "dred", "tabled")}
    return CaseData(sc.spec.name, f["gap"], f["red"], f["dgap"], f["dred"], f["tabled"],
                    sc.veto.copy(), sc.present.copy(), scored, votes,
                    OUTCOME_CLASSES.index(outcome_class(obs.outcome)), sc.votes_needed)  # fmt: skip


def vote_probs(theta: dict[str, float], gap: np.ndarray, red: np.ndarray,
               permanent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """P(yes), P(no) of every run and member under the vote rule with parameters ``theta``."""
    lower = vt.no_threshold(np.full(gap.shape[-1], theta["abstain_band"]),
                            np.full(gap.shape[-1], theta["veto_cost"]), permanent,
                            theta.get("elected_no_cost", 0.0))  # fmt: skip
    s = theta["vote_noise"]
    p_yes, p_no = expit(gap / s), expit((lower - gap) / s)
    return np.where(red, 0.0, p_yes), np.where(red, 1.0, p_no)


def case_loglik(theta: dict[str, float], d: CaseData) -> tuple[float, float, int]:
    """(log likelihood of the recorded votes, of the recorded outcome, votes scored)."""
    p_yes, p_no = vote_probs(theta, d.gap, d.red, d.permanent)
    probs = np.stack([p_yes, np.clip(1 - p_yes - p_no, 0, 1), p_no], axis=-1).mean(axis=0)
    m = np.flatnonzero(d.scored)
    votes_ll = float(np.log(np.maximum(probs[m, d.votes[m]], FLOOR)).sum())
    q_yes, q_no = vote_probs(theta, d.dgap, d.dred, d.permanent)
    q_yes, q_no = (q_yes * d.present).T, (q_no * d.present).T  # (M, runs)
    adopt = vt.adoption_probability(q_yes, q_no, d.permanent, d.needed)
    reach = vt.yes_count_distribution(q_yes)[:, d.needed :].sum(axis=1)
    per_run = np.stack([adopt, np.clip(reach - adopt, 0, 1), 1 - reach, np.zeros_like(adopt)], 1)
    per_run = np.where(d.tabled[:, None], per_run, np.eye(4)[3])
    p_outcome = per_run.mean(axis=0)[d.outcome]
    return votes_ll, float(np.log(max(p_outcome, FLOOR))), len(m)


def _theta(x: np.ndarray) -> dict[str, float]:
    return dict(zip(FITTED, (float(v) for v in x), strict=True))


def fit(cases: list[CaseData], start: dict[str, float]) -> dict[str, float]:
    """The parameters that maximise the summed log likelihood of ``cases``."""

    def loss(x: np.ndarray) -> float:
        th = _theta(x)
        return -sum(a + b for a, b, _ in (case_loglik(th, d) for d in cases))

    x0 = np.array([min(max(start[k], lo), hi) for k, (lo, hi) in FITTED.items()])
    res = minimize(loss, x0, method="L-BFGS-B", bounds=list(FITTED.values()),
                   options={"maxiter": 200})  # fmt: skip
    return _theta(res.x)


def scores(theta: dict[str, float], cases: list[CaseData]) -> dict[str, float]:
    """Mean log score per recorded vote and per outcome (lower is better)."""
    rows = [case_loglik(theta, d) for d in cases]
    votes = sum(n for _, _, n in rows)
    return {"vote_log": -sum(v for v, _, _ in rows) / max(votes, 1),
            "outcome_log": -sum(o for _, o, _ in rows) / max(len(rows), 1)}  # fmt: skip


def calibrate(cfg: BacktestConfig, out: Path, rounds: int = 3, workers: int | None = None,
              progress: str = "none") -> dict[str, Any]:  # fmt: skip
    """Fit the calibrated defaults to the independent cases; write ``calibration.json`` and
    ``calibrated.yaml`` (the defaults file's format) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    base = calibrated()
    theta = {k: base[k] for k in FITTED}
    history = []
    design = prepare_backtest(cfg)
    keep = [c for c, sc in enumerate(design.scenarios) if sc.spec.observed.independent]  # type: ignore[union-attr]
    cases: list[CaseData] = []
    for k in range(rounds):
        sets = [*cfg.sets, *(f"behaviour.{n}={v!r}" for n, v in theta.items())]
        run_cfg = replace(cfg, sets=sets, features=True)
        folder = out / f"round-{k + 1}"
        backtest(run_cfg, Execution(out=folder, workers=workers, force=True, progress=progress))
        with np.load(folder / "features.npz") as f:
            features = dict(f)
        cases = [case_data(design.scenarios[c], features, c) for c in keep]
        before = scores(theta, cases)
        new = fit(cases, theta)
        history.append({"round": k + 1, "start": theta, "fitted": new,
                        "before": before, "after": scores(new, cases)})  # fmt: skip
        moved = max(abs(new[n] - theta[n]) for n in FITTED)
        theta = new
        if moved < 0.005:
            break
    in_sample = scores(theta, cases)
    folds = []
    for i, held in enumerate(cases):
        th = fit(cases[:i] + cases[i + 1 :], theta)
        folds.append({"case": held.name, "fitted": th, **scores(th, [held])})
    loco = {
        "vote_log": float(np.mean([f["vote_log"] for f in folds])) if folds else None,
        "outcome_log": float(np.mean([f["outcome_log"] for f in folds])) if folds else None,
    }
    defaults = {**base, **{k: round(v, 4) for k, v in theta.items()}}
    result = {
        "schema": SCHEMA,
        "cases": [d.name for d in cases],
        "runs_per_case": cfg.runs,
        "seed": cfg.seed,
        "fitted": {k: round(v, 4) for k, v in theta.items()},
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
