"""Validation on real negotiations: the DEU III data set (EU legislation, 0-100 scales).

Each issue becomes a one-clause scale scenario (0..100 in steps of 1) and is run with
a protocol; the prediction is the text the protocol tabled (or its last draft if it
tabled none), the median over runs. Simplifications, stated in the README:

- actors: the Commission, the Parliament and the member states that took a position
  with a salience above 0; capability = the file's GDP line divided by its maximum,
  salience / 100, ideal = position;
- the Council: the member states taking part and the Commission (agenda setter and
  penholder; if it took no position, the state with the largest capability x salience).
  QMV: ``ceil(0.55 * states)`` yes votes, the Commission holds a veto (the Council
  can amend a proposal against it only by unanimity). Unanimity: every member holds
  a veto and one yes suffices (abstention does not block). The Parliament sits off
  the Council with no ties, so only the compromise and expected-utility models hear it;
- status quo utility ``1 - |rp - x_i| / 100`` where the reference point is coded, else 0.

The file is checked as it is read, each problem one line naming the file, line and column:
UTF-8 text of at most 16 MiB; every non-blank row with all 75 columns; positions, saliences,
reference points and outcomes finite numbers from 0 to 100 (an empty cell: not coded);
capabilities finite and >= 0, one above 0; the rule QMV or Unan; and every issue with an
outcome has an actor with a position, a salience and a capability above 0.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import StabsimError, reason, writing
from sim.experiments.runner import check_runs, check_seed, run_seed, run_seeds
from sim.model.protocols import REGISTRY
from sim.model.protocols.compromise import nearest_option
from sim.model.simulate import make_model
from sim.scenario.compiled import Scenario
from sim.scenario.schema import protocol_name

POS, SAL, RP, OUT, RULE = slice(13, 43), slice(43, 73), 73, 74, 8
# The vote parameters the protocols were first validated with on DEU III, fixed so that the
# harness's figures stay comparable over time (the calibrated Council defaults are fitted to
# Security Council votes, not the EU Council's).
FIRST_VOTE = {"noise": 0.05, "abstain_band": 0.1, "veto_cost": 0.0}
COMMISSION = "com"
MAX_BYTES = 16 * 1024 * 1024  # the DEU III table is about 60 KB
MAX_RUNS = 100_000  # runs per issue (predictions are held as issues x runs)


class DeuError(StabsimError):
    """The DEU file is missing or not the expected table."""


@dataclass(frozen=True)
class DeuData:
    """The issues with a coded outcome: arrays over issues I and actors A (NaN = no position)."""

    source: str
    actors: tuple[str, ...]  # codes without the p/s prefix: com, ep, at, ...
    proposal: np.ndarray  # (I,) prnrnmc
    issue: np.ndarray  # (I,) isnrnmc
    rule: tuple[str, ...]  # (I,) QMV | Unan
    position: np.ndarray  # (I, A) 0..100, NaN where no position
    salience: np.ndarray  # (I, A) 0..100, 0 where none
    capability: np.ndarray  # (A,) GDP-based, as in the file
    reference: np.ndarray  # (I,) reference point, NaN where not coded
    outcome: np.ndarray  # (I,)


def _num(cell: str, where: str, low: float = 0.0, high: float = 100.0) -> float:
    """A cell as a number in [low, high]; NaN for an empty cell (not coded)."""
    if not cell.strip():
        return math.nan
    try:
        x = float(cell)
    except ValueError:
        raise DeuError(f"{where}: expected a number, found {cell[:20]!r}") from None
    if not (math.isfinite(x) and low <= x <= high):
        span = f"from {low:g} to {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise DeuError(f"{where}: expected a finite number {span}, found {cell[:20]!r}")
    return x


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """The table's rows with their line numbers; blank rows left out."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DeuError(f"{path}: larger than {MAX_BYTES // 1024**2} MiB; expected the DEU III "
                           "table (about 60 KB)")  # fmt: skip
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter="\t")
            return [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except UnicodeDecodeError as exc:
        raise DeuError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); expected the "
                       "DEU III table deu3_public.tsv") from None  # fmt: skip
    except (OSError, csv.Error) as exc:
        raise DeuError(f"{path}: cannot read: {reason(exc)}") from None


def load_deu(path: str | Path) -> DeuData:
    """Read the DEU III table; a clear error names the file, the line and what was wrong."""
    path = Path(path)
    if not path.is_file():
        raise DeuError(f"{path}: file not found; expected the DEU III table deu3_public.tsv "
                       "(tab-separated, doi 10.34810/data53)")  # fmt: skip
    rows = _rows(path)
    first = rows[0][1] if rows else []
    if len(rows) < 3 or len(first) < 75 or first[RP] != "rp" or first[OUT] != "out":
        found = f"{len(first)} columns" if rows else "an empty file"
        raise DeuError(f"{path}: expected a header with 75 columns ending in rp, out "
                       f"(column 74 'rp', 75 'out'), found {found}")  # fmt: skip
    for line, r in rows[1:]:
        if len(r) < OUT + 1:
            raise DeuError(f"{path}: line {line}: expected 75 columns, found {len(r)}")
    header, (cap_line, cap_row) = first, rows[1]
    at = f"{path}: line {cap_line}, column"
    capability = np.array([_num(v, f"{at} {POS.start + j + 1}", 0.0, math.inf)
                           for j, v in enumerate(cap_row[POS])])  # fmt: skip
    if np.isnan(capability).any():
        raise DeuError(f"{path}: line {cap_line}: expected a capability for every actor in "
                       "columns 14-43")  # fmt: skip
    if not capability.max() > 0:
        raise DeuError(f"{path}: line {cap_line}: expected a capability above 0 for some actor "
                       "in columns 14-43, found all 0")  # fmt: skip
    body = [(line, r) for line, r in rows[2:] if r[OUT].strip()]
    num = np.array([[_num(v, f"{path}: line {line}, column {POS.start + j + 1}")
                     for j, v in enumerate(r[POS.start : OUT + 1])]
                    for line, r in body]).reshape(len(body), OUT + 1 - POS.start)  # fmt: skip
    ids = []
    for line, r in body:
        try:
            ids.append([int(r[0]), int(r[1])])
        except ValueError:
            raise DeuError(f"{path}: line {line}, columns 1-2: expected whole-number ids "
                           f"(prnrnmc, isnrnmc), found {r[0][:20]!r}, {r[1][:20]!r}") from None  # fmt: skip
        rule = r[RULE].strip().lower()
        if rule != "qmv" and not rule.startswith("unan"):
            raise DeuError(f"{path}: line {line}, column {RULE + 1}: expected the voting rule "
                           f"QMV or Unan, found {r[RULE][:20]!r}")  # fmt: skip
    n = POS.stop - POS.start
    position, salience = num[:, :n], np.nan_to_num(num[:, n : 2 * n])
    weight = np.where(np.isnan(position), 0.0, salience * capability[None, :])
    empty = np.flatnonzero(~(weight.sum(axis=1) > 0))
    if len(empty):
        raise DeuError(f"{path}: line {body[empty[0]][0]}: no actor has a position, a salience above 0 "
                       "and a capability above 0 on this issue, so there is nothing to predict")  # fmt: skip
    return DeuData(
        source=str(path),
        actors=tuple(h[1:] for h in header[POS]),
        proposal=np.array(ids, dtype=np.int64).reshape(-1, 2)[:, 0],
        issue=np.array(ids, dtype=np.int64).reshape(-1, 2)[:, 1],
        rule=tuple(r[RULE] for _, r in body),
        position=position,
        salience=salience,
        capability=capability,
        reference=num[:, 2 * n],
        outcome=num[:, 2 * n + 1],
    )


def compromise_baseline(data: DeuData) -> np.ndarray:
    """(I,) the compromise model on the raw scale: sum c s x / sum c s over positioned actors."""
    w = np.where(np.isnan(data.position), 0.0, data.capability[None, :] * data.salience)
    return (w * np.nan_to_num(data.position)).sum(axis=1) / w.sum(axis=1)


def participants(data: DeuData, k: int) -> np.ndarray:
    """Indices of the actors taking part in issue k: a position and a salience above 0."""
    return np.flatnonzero(~np.isnan(data.position[k]) & (data.salience[k] > 0))


def issue_data(data: DeuData, k: int, protocol: str) -> dict[str, Any]:
    """Issue k as a one-clause scale scenario (a plain dict, validated by the loader)."""
    who = participants(data, k)
    codes = [data.actors[i] for i in who]
    cmax = float(data.capability.max())
    rp = data.reference[k]
    actors = {}
    for i, code in zip(who, codes, strict=True):
        x = float(data.position[k, i])
        actors[code] = {
            "name": code.upper(),
            "capability": float(data.capability[i]) / cmax,
            "status_quo": 0.0 if math.isnan(rp) else 1.0 - abs(rp - x) / 100.0,
            "flexibility": 0.2,
            "ideal": {"issue": x},
            "salience": {"issue": float(data.salience[k, i]) / 100.0},
            "vote": FIRST_VOTE,
        }
    states = [c for c in codes if c not in (COMMISSION, "ep")]
    weight = {c: data.capability[i] * data.salience[k, i] for i, c in zip(who, codes, strict=True)}
    pen = COMMISSION if COMMISSION in codes else max(states or codes, key=lambda c: weight[c])
    members = states + ([pen] if pen not in states else [])
    unanimity = data.rule[k].strip().lower().startswith("unan")
    council = {
        "members": members,
        "veto": members if unanimity else [pen],
        "votes_needed": 1
        if unanimity
        else max(1, min(len(members), math.ceil(0.55 * len(states)))),
        "penholder": pen,
    }
    return {
        "name": f"DEU III proposal {data.proposal[k]} issue {data.issue[k]}",
        "council": council,
        "clauses": {
            "issue": {
                "label": "Issue",
                "kind": "scale",
                "min": 0,
                "max": 100,
                "step": 1,
                "template": "{value}",
            }
        },
        "actors": actors,
        "force": {"troops_required": 0},
        "negotiation": {"protocol": protocol, "max_rounds": 10, "rival_drafts": False},
    }


def issue_scenario(data: DeuData, k: int, protocol: str) -> Scenario:
    return Scenario.from_data(issue_data(data, k, protocol), f"{data.source}#issue{k + 1}")


def predict(data: DeuData, protocol: str, runs: int = 10, seed: int = 1) -> np.ndarray:
    """(I, runs) the position (0..100) each run of the protocol tabled for each issue; run ``r`` uses the runner's seed ``run_seed(seed, r)``.

    A protocol class with a ``forecast_scale`` method (its tabled text on a one-clause
    scale, computed for a batch of issues) is run in one batch; any other protocol runs
    as full models, one per issue and run.
    """
    check_runs("runs", runs, MAX_RUNS, "runs per issue")
    check_seed(seed)
    cls = REGISTRY[protocol_name(protocol)]
    if hasattr(cls, "forecast_scale"):
        x = np.nan_to_num(data.position) / 100.0
        c = np.broadcast_to(data.capability / data.capability.max(), x.shape)
        active = ~np.isnan(data.position) & (data.salience > 0)
        seeds = run_seeds(seed, runs)
        pos = cls().forecast_scale(x, c, data.salience / 100.0, active, seeds)
        grid = np.broadcast_to(np.linspace(0.0, 1.0, 101), (pos.size, 101))
        return nearest_option(pos.ravel(), grid).reshape(pos.shape).astype(float)
    return predict_models(data, protocol, runs, seed)


def predict_median(data: DeuData, protocol: str, runs: int = 10, seed: int = 1) -> np.ndarray:
    """(I,) the median over runs of the protocol's prediction."""
    return np.median(predict(data, protocol, runs, seed), axis=1)


def predict_models(data: DeuData, protocol: str, runs: int = 10, seed: int = 1,
                   issues: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """(I, runs) as :func:`predict`, always by running full models (rows outside
    ``issues`` stay NaN)."""
    check_runs("runs", runs, MAX_RUNS, "runs per issue")
    out = np.full((len(data.outcome), runs), np.nan)
    issues = np.arange(len(data.outcome)) if issues is None else issues
    for k in issues:  # one scenario per issue; runs are separate models
        sc = issue_scenario(data, k, protocol)
        values = np.asarray(sc.space.clauses[0].values)
        for r in range(runs):
            m = make_model(sc, run_seed(seed, r), protocol=protocol, record_path=False)
            m.run()
            text = m.tabled[0].text if m.tabled else m.draft
            out[k, r] = values[text[0]]
    return out


@dataclass(frozen=True)
class Errors:
    mean: float
    median: float
    within10: float  # share of issues within 10 points


def errors(prediction: np.ndarray, outcome: np.ndarray) -> Errors:
    """Mean and median absolute error on the 0-100 scale, and the share within 10 points."""
    e = np.abs(prediction - outcome)
    return Errors(float(e.mean()), float(np.median(e)), float((e <= 10).mean()))


def csv_name(path: str | Path, protocol: str) -> Path:
    """``out.csv`` -> ``out-<protocol>.csv``: one file per protocol when several run."""
    p = Path(path)
    return p.with_name(f"{p.stem}-{protocol}{p.suffix or '.csv'}")


def write_csv(path: str | Path, data: DeuData, prediction: np.ndarray,
              baseline: np.ndarray) -> None:  # fmt: skip
    """One row per issue: ids, rule, outcome, prediction, its error, baseline and its error."""
    with writing(path), Path(path).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["proposal", "issue", "rule", "outcome", "prediction", "error",
                    "compromise", "compromise_error"])  # fmt: skip
        for k in range(len(data.outcome)):
            w.writerow([int(data.proposal[k]), int(data.issue[k]), data.rule[k],
                        data.outcome[k], round(float(prediction[k]), 3),
                        round(abs(float(prediction[k] - data.outcome[k])), 3),
                        round(float(baseline[k]), 3),
                        round(abs(float(baseline[k] - data.outcome[k])), 3)])  # fmt: skip
