"""The one reader of stabsim's result folders: sweeps, and the JSON results of the other
commands (sensitivity, compare, backtest).

A sweep folder holds ``manifest.json``, ``summary.json``, ``runs.parquet`` and, with paths,
``paths.parquet``. ``summary.json`` carries the names readers need (``labels``: the
scenario's title, actor names, clause labels and option words, members, veto holders,
contributors), so nothing re-reads a scenario file after a sweep; a folder written before
summaries carried labels gets them once, here, from the scenario text its manifest keeps.
Every problem is one line naming the folder and what is wrong: ``summary.json`` is checked
for the shape every reader relies on when the folder is opened, and ``runs.parquet`` and
``paths.parquet`` against the SHA-256 the manifest recorded when the sweep finished.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import StabsimError
from sim.scenario.compiled import Scenario


class ResultsError(StabsimError):
    """A folder is not the finished result it should be, or cannot be read."""


# --- names ------------------------------------------------------------------------------------


def option_words(option: str) -> str:
    """An option id as words, when the scenario gives none: underscores become spaces."""
    return option.replace("_", " ")


@dataclass(frozen=True)
class ClauseLabels:
    """A clause as readers name it: id, label, kind, option ids in order and their words."""

    id: str
    label: str
    kind: str  # ordered | unordered | scale
    options: tuple[str, ...]
    unit: str = ""
    labels: tuple[str, ...] = ()  # the scenario's words for each option, if it gives them

    def option(self, o: str) -> str:
        """An option as words (its label, or a scale value with its unit)."""
        if self.kind == "scale":
            return f"{o} {self.unit}".strip()
        if self.labels and o in self.options:
            return self.labels[self.options.index(o)]
        return option_words(o)


@dataclass(frozen=True)
class Labels:
    """Everything a reader needs to name what a sweep ran."""

    title: str
    actors: dict[str, str]  # actor id -> name
    clauses: tuple[ClauseLabels, ...]
    members: tuple[str, ...]
    veto: tuple[str, ...]
    contributors: tuple[str, ...]
    votes_needed: int = 9

    def name(self, actor: str) -> str:
        return self.actors.get(actor, actor)

    def clause(self, cid: str) -> ClauseLabels:
        return next(c for c in self.clauses if c.id == cid)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "actors": self.actors,
            "clauses": {
                c.id: {
                    "label": c.label,
                    "kind": c.kind,
                    "unit": c.unit,
                    "options": dict(zip(c.options, c.labels or c.options, strict=True)),
                }
                for c in self.clauses
            },
            "members": list(self.members),
            "veto": list(self.veto),
            "contributors": list(self.contributors),
            "votes_needed": self.votes_needed,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Labels:
        clauses = tuple(
            ClauseLabels(cid, c["label"], c["kind"], tuple(c["options"]), c.get("unit", ""),
                         () if c["kind"] == "scale" else tuple(c["options"].values()))
            for cid, c in d["clauses"].items()
        )  # fmt: skip
        return cls(d["title"], dict(d["actors"]), clauses, tuple(d["members"]),
                   tuple(d["veto"]), tuple(d["contributors"]), int(d["votes_needed"]))  # fmt: skip


def labels_of(sc: Scenario) -> Labels:
    """The names of a compiled scenario."""
    ids = sc.actor_ids
    return Labels(
        title=sc.spec.name,
        actors=dict(zip(ids, sc.names, strict=True)),
        clauses=tuple(
            ClauseLabels(c.id, c.label, c.kind, c.options, c.unit, c.labels)
            for c in sc.space.clauses
        ),
        members=tuple(ids[m] for m in sc.members),
        veto=tuple(ids[m] for m in sc.members[sc.veto]),
        contributors=tuple(ids[i] for i in np.flatnonzero(sc.is_contributor)),
        votes_needed=sc.votes_needed,
    )


def scenario_labels(manifest: dict[str, Any], overrides: dict[str, Any] | None = None,
                    ) -> Labels | None:  # fmt: skip
    """The names of the scenario a result ran, from the scenario text its manifest keeps (with
    the run's ``--set`` overrides); None when there is no text or it does not compile."""
    from sim.scenario.loader import read_yaml

    scen = manifest.get("scenario") or {}
    if not isinstance(scen.get("text"), str):
        return None
    name = Path(scen.get("file") or "scenario.yaml").name
    try:
        return labels_of(Scenario.from_data(read_yaml(scen["text"], name), name, overrides or None))
    except (StabsimError, TypeError, ValueError, AttributeError, KeyError):
        return None


def read_labels(folder: str | Path, overrides: dict[str, Any] | None = None) -> Labels | None:
    """The names of the scenario behind a result folder (sensitivity, sweep), from its
    ``manifest.json``; None when the folder keeps none."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        return None
    manifest = _read_json(path)
    return scenario_labels(manifest, overrides) if isinstance(manifest, dict) else None


def _labels_from_manifest(summary: dict[str, Any], manifest: dict[str, Any]) -> Labels:
    """Labels of a folder written before summaries carried them: from the scenario text in
    its manifest, or bare ids when that cannot be compiled."""
    found = scenario_labels(manifest, summary.get("set") or None)
    if found is not None:
        return found
    pt = summary["points"][0]
    clauses = tuple(ClauseLabels(c, c, "unordered", tuple(o)) for c, o in pt["clauses"].items())
    members = tuple(pt.get("votes", {}))
    return Labels(str(summary.get("scenario", "")), {}, clauses, members,
                  tuple(pt.get("veto_cast_by", {})), tuple(pt.get("contributors", {})))  # fmt: skip


# --- sweeps -------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read: {' '.join(str(exc).split())}") from None


# The shape of summary.json every reader relies on: a type (or types), a mapping of required
# keys, Each(shape) for a mapping of any keys to that shape, Items(shape) for a list.
@dataclass(frozen=True)
class Each:
    shape: Any


@dataclass(frozen=True)
class Items:
    shape: Any


NUM, OPT = (int, float), (int, float, type(None))
OUTCOMES = ("adopted", "vetoed", "failed", "withdrawn", "no_agreement")
STAT = {"count": int, "of": int, "p": OPT, "low": NUM, "high": NUM}
SPREAD = {"n": int, "mean": OPT, "p5": OPT, "p95": OPT}
POINT = {
    "point": int, "grid": dict, "runs": int, "outcomes": dict.fromkeys(OUTCOMES, STAT), "viable": STAT,
    "veto_cast_by": Each(STAT), "clauses": Each(Each(STAT)),
    "texts": Items({"rank": int, "text": Each(str), "key": str, **STAT}),
    "coalitions": Items({"rank": int, "members": Items(str), "key": str, **STAT}),
    "votes": Each({"voted": int, "yes": STAT, "abstain": STAT, "no": STAT}),
    "contributors": Each({"joins": STAT, "pledged_when_joined": SPREAD,
                          "delivered_when_joined": SPREAD}),
    "troops_delivered": SPREAD,
}  # fmt: skip
LABELS = {
    "title": str, "actors": Each(str), "members": Items(str), "veto": Items(str),
    "contributors": Items(str), "votes_needed": int,
    "clauses": Each({"label": str, "kind": str, "options": Each(str)}),
}  # fmt: skip
SUMMARY = {"scenario": str, "seed": int, "runs_per_point": int, "points": Items(POINT)}


def misfit(value: Any, shape: Any, where: str = "") -> str | None:
    """Where ``value`` departs from ``shape`` and how (``points[0].viable.count: expected
    int, got str``), or None if it fits."""
    if isinstance(shape, Each | Items):
        kind = dict if isinstance(shape, Each) else list
        if not isinstance(value, kind):
            return f"{where or 'top'}: expected a {kind.__name__}, got {type(value).__name__}"
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in pairs:
            sub = f"{where}.{k}" if isinstance(value, dict) else f"{where}[{k}]"
            if found := misfit(v, shape.shape, sub.lstrip(".")):
                return found
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where or 'top'}: expected a mapping, got {type(value).__name__}"
        for k, sub in shape.items():
            if k not in value:
                return f"{where + '.' if where else ''}{k}: missing"
            if found := misfit(value[k], sub, f"{where}.{k}".lstrip(".")):
                return found
        return None
    if not isinstance(value, shape):
        names = shape.__name__ if isinstance(shape, type) else "/".join(t.__name__ for t in shape)
        return f"{where}: expected {names}, got {type(value).__name__}"
    return None


def _check_sum(path: Path, manifest: dict[str, Any] | None) -> bytes:
    """The bytes of a finished job's file, refused if they differ from the SHA-256 its
    manifest recorded when the job finished (a folder from before checksums is not checked)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {' '.join(str(exc).split())}") from None
    sums = (manifest or {}).get("checksums")
    want = sums.get(path.name) if isinstance(sums, dict) else None
    if want is not None and hashlib.sha256(data).hexdigest() != want:
        raise ResultsError(
            f"{path}: damaged (its SHA-256 differs from the one manifest.json recorded when "
            "the job finished); run the job again with --force"
        )
    return data


def read_parquet(path: Path, manifest: dict[str, Any] | None = None) -> pa.Table:
    """A finished job's parquet file, checked against the SHA-256 its manifest recorded (if
    it recorded one); read through a file object, so no path is taken for a URI."""
    data = _check_sum(path, manifest)
    try:
        return pq.read_table(pa.BufferReader(data))
    except (OSError, pa.ArrowException) as exc:
        raise ResultsError(f"{path}: cannot read: {' '.join(str(exc).split())}") from None


class SweepFolder:
    """A finished sweep as every reader sees it. ``runs`` and ``paths`` are read on first
    use; everything else when the folder is opened."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        self.folder = folder
        if not folder.is_dir():
            what = "not a folder" if folder.exists() else "no such folder"
            raise ResultsError(
                f"{folder}: {what}, so no summary.json (expected a sweep folder from stabsim sweep)"
            )
        if not (folder / "summary.json").is_file():
            hint = (
                " (unfinished: complete the sweep by resuming it)"
                if (folder / "manifest.json").is_file()
                else " (not a sweep folder)"
            )
            raise ResultsError(f"{folder}: no summary.json{hint}")
        path = folder / "manifest.json"
        manifest = _read_json(path) if path.is_file() else {}
        self.manifest: dict[str, Any] = manifest if isinstance(manifest, dict) else {}
        raw = _check_sum(folder / "summary.json", self.manifest)  # read once, checked, parsed
        try:
            summary = json.loads(raw)
        except ValueError as exc:
            raise ResultsError(
                f"{folder}/summary.json: cannot read: {' '.join(str(exc).split())}"
            ) from None
        if not isinstance(summary, dict) or not summary.get("points"):
            raise ResultsError(f"{folder}/summary.json: no points (not a stabsim summary)")
        wrong = misfit(summary, SUMMARY) or (
            misfit(summary["labels"], LABELS, "labels") if summary.get("labels") else None
        )
        if wrong:
            raise ResultsError(f"{folder}/summary.json: damaged or not a stabsim summary: {wrong}")
        self.summary: dict[str, Any] = summary
        given = summary.get("labels")
        self.labels = (
            Labels.from_json(given) if given else _labels_from_manifest(summary, self.manifest)
        )

    # names, as the charts and sentences use them
    @property
    def title(self) -> str:
        return self.labels.title

    @property
    def clauses(self) -> tuple[ClauseLabels, ...]:
        return self.labels.clauses

    @property
    def names(self) -> dict[str, str]:
        return self.labels.actors

    @property
    def permanent(self) -> tuple[str, ...]:
        return self.labels.veto

    def point(self, p: int = 0) -> dict[str, Any]:
        return self.summary["points"][p]

    def check_point(self, p: int) -> dict[str, Any]:
        """Grid point ``p``, or a one-line error naming the points that exist."""
        points = self.summary["points"]
        if not 0 <= p < len(points):
            raise ResultsError(
                f"{self.folder}: grid point {p} does not exist (0 to {len(points) - 1})"
            )
        return points[p]

    def _table(self, name: str) -> pa.Table:
        path = self.folder / name
        if not path.is_file():
            raise ResultsError(f"{self.folder}: no {name} (not a finished sweep)")
        table = read_parquet(path, self.manifest)
        if name == "runs.parquet":
            need = ["run", "seed", "point", "outcome", "viable", "vetoed_by"]
            need += [f"vote.{m}" for m in self.labels.members]
            missing = [c for c in need if c not in table.column_names]
            if missing:
                raise ResultsError(f"{path}: damaged or not a stabsim sweep's runs: no column "
                                   f"{missing[0]}")  # fmt: skip
        return table

    @cached_property
    def runs(self) -> pa.Table:
        return self._table("runs.parquet")

    @cached_property
    def paths(self) -> pa.Table | None:
        return self._table("paths.parquet") if (self.folder / "paths.parquet").is_file() else None

    def runs_at(self, p: int = 0) -> pa.Table:
        return self.runs.filter(pc.equal(self.runs["point"], p))

    def votes(self) -> np.ndarray:
        """(runs, members) vote codes of the decisive vote (0 yes, 1 abstain, 2 no; a run
        without a vote counts as abstentions)."""
        names = ("yes", "abstain", "no")
        votes = np.full((self.runs.num_rows, len(self.labels.members)), 1)
        for k, a in enumerate(self.labels.members):
            column = np.array(self.runs.column(f"vote.{a}").to_pylist(), dtype=object)
            for code, name in enumerate(names):
                votes[column == name, k] = code
        return votes


def open_sweep(folder: str | Path, need_runs: bool = False) -> SweepFolder:
    """Open a finished sweep folder (with ``need_runs``, check its runs can be read now)."""
    sweep = SweepFolder(folder)
    if need_runs:
        _ = sweep.runs
    return sweep


def sweep_labels(folder: str | Path) -> Labels | None:
    """The names of a sweep folder's scenario: its summary's, else its manifest's; None when
    the folder holds neither."""
    try:
        return SweepFolder(folder).labels
    except ResultsError:
        return read_labels(folder)


# --- the other commands' results ------------------------------------------------------------------

RESULT_FILES = {  # file -> (what it is, the command that writes it)
    "sensitivity.json": ("a sensitivity analysis", "stabsim sensitivity"),
    "compare.json": ("a comparison", "stabsim compare --out"),
    "backtest.json": ("a backtest", "stabsim backtest"),
    "summary.json": ("a sweep", "stabsim sweep"),
}


def read_result(folder: str | Path, name: str, schema: str) -> dict[str, Any]:
    """``folder/name`` (one of :data:`RESULT_FILES`), checked to carry ``schema``."""
    folder = Path(folder)
    path = folder / name
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    if not path.is_file():
        kind = next((k for f, (k, _) in RESULT_FILES.items() if (folder / f).is_file()), None)
        seems = f" (this is {kind})" if kind else ""
        raise ResultsError(
            f"{folder}: no {name}{seems}; expected a `{RESULT_FILES[name][1]}` folder"
        )
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("schema") != schema:
        got = data.get("schema") if isinstance(data, dict) else None
        raise ResultsError(f"{path}: expected schema {schema}, got {got!r}")
    return data
