"""The sections of the briefing pack: a heading, sentences for the cover, chart pages, and
the charts left out with the reason. The sweep's own section, then the what-if sections: a
sensitivity analysis, a comparison of two sweeps, and scenario discovery on the sweep itself
(which writes ``whatif/discover-<target>.json`` into the sweep folder, the file its sentences
read). Charts with nothing to show (no paths recorded, no grid, no adopted text) are left
out, and the cover says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from sim.analysis.discover import describe_target, discover
from sim.analysis.folders import Labels, SweepFolder, read_labels, read_result
from sim.experiments.folder import write_json
from sim.reporting import charts
from sim.reporting import record_charts as rc
from sim.reporting import whatif_charts as wc
from sim.reporting.findings import (
    OUTPUTS,
    Finding,
    caveat_findings,
    compare_findings,
    discover_findings,
    labels_in,
    sensitivity_findings,
    sweep_findings,
    track_record_findings,
)

SWEEP_READINGS = {
    "grid": "Each line (or cell) is the share of runs at one grid value; shaded bands are "
    "confidence intervals. Flat lines mean the parameter does not move the result.",
    "outcomes": "Each bar is the share of runs that ended this way; whiskers are confidence "
    "intervals. "
    "A veto is a permanent member's no on the decisive draft.",
    "texts": "The most frequent adopted texts, left to right. Shaded cells show where a text "
    "differs from the most likely one.",
    "clauses": "Each bar splits the adopted texts by the option they hold for one clause; "
    "darker means further along an ordered clause.",
    "votes": "Each member's yes, abstain and no over the runs with a vote; permanent members "
    "(bold) can veto with a no.",
    "coalition": "Left: chance each contributor joins, and its troops when it does. Right: each "
    "run's delivered troops over its own requirement; right of the line the troops suffice, and "
    "blue runs (also a lead nation) are viable.",
    "path": "The draft's position from the opening draft (open) round by round: the line is the "
    "median run, the bands hold the middle half and nine runs in ten.",
}
ORDER = ("grid", "outcomes", "texts", "clauses", "votes", "coalition", "path")


WHATIF_READINGS = {
    "tornado": "Each parameter alone at the low (light) and high (hatched) end of its range, the "
    "others as in the scenario; the longer the bar, the more it moves the result on its own.",
    "sobol": "Bars: total Sobol' index (the share of the variance a parameter explains, alone or "
    "with others) with 95% intervals; diamonds: its share alone. An interval reaching 0: no clear effect.",
    "morris": "Bars: Morris mu*, the mean absolute change in the result when the parameter steps "
    "across its range, with 95% intervals; an interval reaching 0: no clear effect.",
    "compare": "Each point is B minus A for one probability, with its 95% interval; grey points' "
    "intervals include zero (no clear change).",
    "reliability": "Each circle pools the forecasts of one tenth of the probability scale (every "
    "member, every vote class); on the dashed line a forecast of 30% happens 30% of the time.",
    "record": "Each row is a past decision: the probability the model and two baselines gave "
    "what really happened; a filled mark means the forecaster's most likely outcome was right.",
    "discover": "Each bar is a rule: the share of its runs with the target (density); the dashed "
    "line is the share over all runs; coverage is the share of all such runs inside the rule.",
}


@dataclass(frozen=True)
class Page:
    """One chart page: its file stem under ``charts/``, its title for the contents, its one-line
    reading, and how to draw it at a size with a note."""

    key: str
    title: str
    reading: str
    build: Callable[[Sequence[float], str | None], Figure]


@dataclass
class Section:
    """A part of the pack: a heading, its sentences on the cover, its chart pages, and the charts
    left out with the reason."""

    heading: str
    found: list[Finding]
    pages: list[Page] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    paragraph: bool = False  # the sentences read as one paragraph, not as a list


def plan(res: SweepFolder, point: int = 0) -> tuple[list[str], list[str]]:
    """The charts that go in the pack (in order) and a reason for each one left out."""
    shown, omitted = [], []
    reasons = {
        "grid": "no grid (one point; add --vary to sweep a parameter)",
        "texts": "no text was adopted in any run",
        "clauses": "no text was adopted in any run",
        "coalition": "the scenario names no troop contributors",
        "votes": "no draft was put to the vote in any run",
        "path": "negotiation paths were not recorded (rerun the sweep with --paths)"
        if res.paths is None
        else "no ordered or scale clause",
    }
    for name in ORDER:
        if charts.has_data(res, name, point):
            shown.append(name)
        else:
            omitted.append(f"{name}: {reasons.get(name, 'nothing to show')}")
    return shown, omitted


def _chart(res: SweepFolder, name: str, point: int, size: Sequence[float], note: str | None):
    fn = charts.CHARTS[name]
    if name == "grid":
        return fn(res, size=size, note=note)
    return fn(res, point=point, size=size, note=note)


def sweep_section(res: SweepFolder, point: int = 0) -> Section:
    """The sweep's own findings and charts."""
    shown, omitted = plan(res, point)
    pages = [
        Page(name, _chart_title(res, name, point), SWEEP_READINGS[name],
             lambda size, note, name=name: _chart(res, name, point, size, note))
        for name in shown
    ]  # fmt: skip
    return Section("Key findings", sweep_findings(res, point), pages, omitted)


def _chart_title(res: SweepFolder, name: str, point: int) -> str:
    pt = res.point(point)
    titles = {
        "outcomes": lambda: charts.outcomes_title(pt),
        "texts": lambda: charts.texts_title(pt),
        "clauses": lambda: charts.clauses_title(pt, res.clauses),
        "votes": lambda: charts.votes_title(pt),
        "coalition": lambda: charts.coalition_title(pt),
        "path": lambda: "the draft round by round",
        "grid": lambda: charts.grid_title(res),
    }
    return titles[name]()


def caveat_section(res: SweepFolder, sensitivity: str | Path | None = None) -> Section:
    """What the intervals cover and what they do not, how many of the scenario's numbers are
    sourced, and (with a sensitivity folder) how far adoption moves across the inputs' ranges."""
    result = labels = None
    if sensitivity:
        result = read_result(sensitivity, "sensitivity.json", "stabsim-sensitivity/1")
        labels = read_labels(sensitivity, result.get("set"))
    return Section("What the numbers cover", caveat_findings(res, result, labels or res.labels),
                   paragraph=True)  # fmt: skip


# --- what-if sections ------------------------------------------------------------------------


def sensitivity_section(folder: str | Path, labels: Labels | None = None) -> Section:
    """Which parameters matter, for adoption and a viable force: sentences and charts, each
    parameter named from the analysed scenario's labels (its manifest), else ``labels``."""
    result = read_result(folder, "sensitivity.json", "stabsim-sensitivity/1")
    labels = read_labels(folder, result.get("set")) or labels
    found: list[Finding] = []
    pages: list[Page] = []
    omitted: list[str] = []
    sobol = result["method"] == "sobol"
    for output in OUTPUTS:
        if output not in result["indices"]:
            continue
        found += sensitivity_findings(result, output, labels)
        if result["indices"][output]["constant"]:
            omitted.append(f"tornado-{output}, indices-{output}: {output} does not vary over "
                           "the design")  # fmt: skip
            continue
        if result.get("swings"):
            pages.append(Page(f"tornado-{output}", f"one-at-a-time swings of {OUTPUTS[output]}",
                              WHATIF_READINGS["tornado"],
                              lambda size, note, o=output: wc.tornado(result, o, size=size, note=note,
                                                                      labels=labels)))  # fmt: skip
        else:
            omitted.append(f"tornado-{output}: no swings (the analysis ran with --swing-runs 0)")
        pages.append(Page(f"indices-{output}",
                          f"{'total Sobol indices' if sobol else 'Morris mu*'} for {OUTPUTS[output]}",
                          WHATIF_READINGS["sobol" if sobol else "morris"],
                          lambda size, note, o=output: wc.indices(result, o, size=size, note=note,
                                                                  labels=labels)))  # fmt: skip
    heading = f"Which parameters matter ({result['method']}, {len(result['params'])} parameters, {folder})"
    return Section(heading, found, pages, omitted)


def compare_section(folder: str | Path, labels: Labels | None = None) -> Section:
    """What changes between two sweeps: sentences and the chart of the largest changes (a
    file written before comparisons carried labels is named with ``labels``)."""
    result = read_result(folder, "compare.json", "stabsim-compare/1")
    if labels_in(result) is None and labels is not None:
        result = {**result, "labels": labels.to_json()}
    page = Page("compare", "the largest changes, B minus A", WHATIF_READINGS["compare"],
                lambda size, note: wc.changes(result, size=size, note=note))  # fmt: skip
    heading = f"What changes ({result['a']['dir']} vs {result['b']['dir']})"
    return Section(heading, compare_findings(result), [page])


def discover_section(sweep: Path, target: str, labels: Labels | None = None) -> Section:
    """Run discovery on the sweep for ``target``, write ``whatif/discover-<target>.json`` (the
    file the sentences read), and build the section."""
    result = discover(sweep, target)
    path = sweep / "whatif" / f"discover-{target}.json"
    path.parent.mkdir(exist_ok=True)
    write_json(path, result)
    result = json.loads(path.read_text())  # the sentences read what was written
    what = describe_target(target)
    pages, omitted = [], []
    if result["rules"]:
        pages.append(Page(f"discover-{target}", f"conditions for {what}", WHATIF_READINGS["discover"],
                          lambda size, note: wc.rules(result, size=size, note=note,
                                                      labels=labels)))  # fmt: skip
    else:
        omitted.append(f"discover-{target}: no rule makes {what} more likely than the base rate")
    return Section(f"Under what conditions: {what}", discover_findings(result, labels), pages,
                   omitted)  # fmt: skip


def track_record_section(folder: str | Path) -> Section:
    """How often the model has been right before: sentences, the reliability diagram and the
    per-case chart of a ``stabsim backtest`` folder."""
    result = read_result(folder, "backtest.json", "stabsim-backtest/1")
    pages = [
        Page("track-record-cases", "the real outcome's probability, case by case",
             WHATIF_READINGS["record"], lambda size, note: rc.cases(result, size=size, note=note)),
        Page("track-record-reliability", "reliability of member-vote forecasts",
             WHATIF_READINGS["reliability"],
             lambda size, note: rc.reliability(result, size=size, note=note)),
    ]  # fmt: skip
    return Section("Track record: how often the model has been right before",
                   track_record_findings(result), pages)  # fmt: skip


def whatif_sections(sweep: Path, sensitivity: str | Path | None, compare: str | Path | None,
                    discover: Sequence[str], backtest: str | Path | None = None,
                    labels: Labels | None = None) -> list[Section]:  # fmt: skip
    """The sections asked for, in the order sensitivity, compare, discover (each target once),
    track record; ``labels`` (the sweep's) name parameters where a result carries no names."""
    out = []
    if sensitivity:
        out.append(sensitivity_section(sensitivity, labels))
    if compare:
        out.append(compare_section(compare, labels))
    for target in dict.fromkeys(discover):
        out.append(discover_section(Path(sweep), target, labels))
    if backtest:
        out.append(track_record_section(backtest))
    return out
