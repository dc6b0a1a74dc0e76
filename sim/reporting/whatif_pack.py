"""What-if results in the briefing pack: one :class:`~sim.reporting.briefing.Section` each for a
sensitivity analysis, a comparison of two sweeps and scenario discovery on the sweep itself.

Rules:

- Every number in a sentence is looked up in the result file the section reads
  (``sensitivity.json``, ``compare.json``, or ``whatif/discover-<target>.json``, which
  discovery writes into the sweep folder first), by path, as the sweep's own findings are.
- Sensitivity: for adoption and for a viable force, the parameters whose importance interval
  (total Sobol' index, or Morris mu*) lies wholly above zero are ranked, at most five; when none
  does, or the output never varies over the design, the sentence says so and ranks nothing;
  Sobol' intervals wider than 0.5 get a note that more base runs are needed.
  One more sentence names the largest one-at-a-time swing, or says none moves the output.
  Pages: the tornado and the indices chart of each output that varies.
- Compare: the sentences ``stabsim compare`` prints (same rows, same words), and the chart of
  the largest changes.
- Discover: the base rate, then each rule with its density and coverage, and a chart of the
  rules against the base rate (left out, with the reason, when no rule beats the base rate).
- A folder of the wrong kind is a one-line :class:`WhatIfError` naming the option, the folder
  and what it should hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import StabsimError
from sim.reporting.briefing import Finding, Page, Section, _Writer

OUTPUTS = {"adopted": "adoption", "viable": "a viable force"}
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
TOP = 5

READINGS = {
    "tornado": "Each parameter alone at the low (light) and high (hatched) end of its range, the "
    "others as in the scenario; the longer the bar, the more it moves the result on its own.",
    "sobol": "Bars: total Sobol' index (the share of the variance a parameter explains, alone or "
    "with others) with 95% intervals; diamonds: its share alone. An interval reaching 0: no clear effect.",
    "morris": "Bars: Morris mu*, the mean absolute change in the result when the parameter steps "
    "across its range, with 95% intervals; an interval reaching 0: no clear effect.",
    "compare": "Each point is B minus A for one probability, with its 95% interval; grey points' "
    "intervals include zero (no clear change).",
    "discover": "Each bar is a rule: the share of its runs with the target (density); the dashed "
    "line is the share over all runs; coverage is the share of all such runs inside the rule.",
}


class WhatIfError(StabsimError):
    """A what-if folder given to ``stabsim report`` is missing or of the wrong kind."""


def _read(folder: str | Path, option: str, name: str, schema: str, made_by: str) -> dict[str, Any]:
    """``folder/name`` as JSON, checked to carry ``schema``; anything else is one line."""
    folder = Path(folder)
    path = folder / name
    if not folder.is_dir():
        raise WhatIfError(f"{option} {folder}: no such folder")
    if not path.is_file():
        kind = next((k for f, k in (("sensitivity.json", "a sensitivity analysis"),
                                    ("compare.json", "a comparison"),
                                    ("summary.json", "a sweep")) if (folder / f).is_file()), None)  # fmt: skip
        seems = f" (this is {kind})" if kind else ""
        raise WhatIfError(f"{option} {folder}: no {name}{seems}; expected a `{made_by}` folder")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WhatIfError(f"{option} {path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != schema:
        got = data.get("schema") if isinstance(data, dict) else None
        raise WhatIfError(f"{option} {path}: expected schema {schema}, got {got!r}")
    return data


# --- sensitivity -----------------------------------------------------------------------------------


def sensitivity_findings(result: dict[str, Any], output: str) -> list[Finding]:
    """The ranking of one output (only parameters whose interval clears zero) and its largest
    swing, or an honest sentence that there is nothing to rank."""
    src = "sensitivity.json"
    what = OUTPUTS.get(output, output)
    sobol = result["method"] == "sobol"
    key, name = ("ST", "total Sobol' index") if sobol else ("mu_star", "Morris mu*")
    block = result["indices"][output]
    swings = (result.get("swings") or {}).get(output)
    out: list[Finding] = []
    if block["constant"]:
        f = _Writer(result, src).w(f"{what[0].upper()}{what[1:]} does not vary over the design")
        if swings:
            f.w(" (").v(f"swings/{output}/baseline", "pct").w(" at the baseline)")
        out.append(f.w(", so no parameter can be ranked for it.").done())
        return out
    at = f"indices/{output}/indices"
    clear = [p for p in result["ranking"][output]
             if (block["indices"][p][f"{key}_ci"]["low"] or 0.0) > 0][:TOP]  # fmt: skip
    if clear:
        k = len(clear)
        head = (f"The {WORDS[k]} parameters that matter most for {what}" if k == TOP
                else f"Only {WORDS[k]} parameter{'s' if k > 1 else ''} clearly matter"
                f"{'' if k > 1 else 's'} for {what}")  # fmt: skip
        f = _Writer(result, src).w(f"{head} ({name}, 95% CI): ")
        for i, p in enumerate(clear):
            f.w("; " if i else "").w(f"{p} ").v(f"{at}/{p}/{key}", "idx").w(" (")
            f.v(f"{at}/{p}/{key}_ci/low", "idx").w(" to ").v(f"{at}/{p}/{key}_ci/high", "idx")
            f.w(")")
        if k < min(TOP, len(result["params"])):
            f.w("; every other parameter's interval reaches zero")
        ci = [block["indices"][p][f"{key}_ci"] for p in clear]
        if sobol and any((c["high"] or 0) - (c["low"] or 0) > 0.5 for c in ci):
            f.w("; intervals this wide call for more --base-runs")
        out.append(f.w(".").done())
    else:
        p = result["ranking"][output][0]
        f = _Writer(result, src).w(f"No parameter's {name} for {what} is clearly above zero ")
        f.w(f"(the largest, {p}, ").v(f"{at}/{p}/{key}", "idx").w(", 95% CI ")
        f.v(f"{at}/{p}/{key}_ci/low", "idx").w(" to ").v(f"{at}/{p}/{key}_ci/high", "idx")
        out.append(f.w("), so none is ranked; more --base-runs or --replicates would tell "
                       "whether any matters.").done())  # fmt: skip
    if swings and swings["params"]:
        lead = swings["params"][0]
        sw = f"swings/{output}"
        if max(abs(lead["change_low"]), abs(lead["change_high"])) == 0:
            f = _Writer(result, src).w(f"Set alone to either end of its range, no parameter moves "
                                       f"{what} from its baseline ").v(f"{sw}/baseline", "pct")  # fmt: skip
            out.append(f.w(".").done())
        else:
            f = _Writer(result, src).w(f"On its own, {lead['path']} moves {what} most: ")
            f.v(f"{sw}/baseline", "pct").w(" at the baseline, ").v(f"{sw}/params/0/at_low", "pct")
            f.w(" with it at ").v(f"{sw}/params/0/low", "val").w(" and ")
            f.v(f"{sw}/params/0/at_high", "pct").w(" at ").v(f"{sw}/params/0/high", "val")
            out.append(f.w(".").done())
    return out


def sensitivity_section(folder: str | Path) -> Section:
    """Which parameters matter, for adoption and a viable force: sentences and charts."""
    from sim.reporting import whatif_charts as wc

    result = _read(folder, "--sensitivity", "sensitivity.json", "stabsim-sensitivity/1",
                   "stabsim sensitivity --out")  # fmt: skip
    found: list[Finding] = []
    pages: list[Page] = []
    omitted: list[str] = []
    sobol = result["method"] == "sobol"
    for output in OUTPUTS:
        if output not in result["indices"]:
            continue
        found += sensitivity_findings(result, output)
        if result["indices"][output]["constant"]:
            omitted.append(f"tornado-{output}, indices-{output}: {output} does not vary over "
                           "the design")  # fmt: skip
            continue
        if result.get("swings"):
            pages.append(Page(f"tornado-{output}", f"one-at-a-time swings of {OUTPUTS[output]}",
                              READINGS["tornado"],
                              lambda size, note, o=output: wc.tornado(result, o, size=size, note=note)))  # fmt: skip
        else:
            omitted.append(f"tornado-{output}: no swings (the analysis ran with --swing-runs 0)")
        pages.append(Page(f"indices-{output}",
                          f"{'total Sobol indices' if sobol else 'Morris mu*'} for {OUTPUTS[output]}",
                          READINGS["sobol" if sobol else "morris"],
                          lambda size, note, o=output: wc.indices(result, o, size=size, note=note)))  # fmt: skip
    heading = f"Which parameters matter ({result['method']}, {len(result['params'])} parameters, {folder})"
    return Section(heading, found, pages, omitted)


# --- compare ---------------------------------------------------------------------------------------


def compare_findings(result: dict[str, Any]) -> list[Finding]:
    """``stabsim compare``'s sentences, word for word, with each number looked up in the file."""
    from sim.analysis.compare import _label, briefing_rows, what_changed

    src = "compare.json"
    names = result.get("names") or {}
    rows = briefing_rows(result)

    def head(f: _Writer) -> _Writer:
        return (
            f.v("label", "raw")
            if result.get("label")
            else f.w(what_changed(result["a"], result["b"]))
        )

    if not rows:
        f = head(_Writer(result, src)).w(", no outcome, veto or contribution changes beyond "
                                          "noise (every 95% interval includes zero).")  # fmt: skip
        return [f.done()]
    out = []
    for n, i in enumerate(rows):
        r = result["changes"][i]
        label = _label(r["key"], names)
        f = _Writer(result, src)
        if n == 0:
            head(f).w(f", {label}")
        else:
            f.w(label[0].upper() + label[1:])
        at = f"changes/{i}"
        f.w(f" {'rises' if r['change'] > 0 else 'falls'} from ").v(f"{at}/a/p", "pct0")
        f.w(" to ").v(f"{at}/b/p", "pct0").w(" (").v(f"{at}/change", "pts").w(" points, 95% CI ")
        f.v(f"{at}/low", "pts").w(" to ").v(f"{at}/high", "pts").w(").")
        out.append(f.done())
    return out


def compare_section(folder: str | Path) -> Section:
    """What changes between two sweeps: sentences and the chart of the largest changes."""
    from sim.reporting import whatif_charts as wc

    result = _read(folder, "--compare", "compare.json", "stabsim-compare/1",
                   "stabsim compare A B --out")  # fmt: skip
    page = Page("compare", "the largest changes, B minus A", READINGS["compare"],
                lambda size, note: wc.changes(result, size=size, note=note))  # fmt: skip
    heading = f"What changes ({result['a']['dir']} vs {result['b']['dir']})"
    return Section(heading, compare_findings(result), [page])


# --- discover --------------------------------------------------------------------------------------


def discover_findings(result: dict[str, Any]) -> list[Finding]:
    """The base rate, then each rule with its density and coverage (as ``stabsim discover``)."""
    from sim.analysis.discover import describe_target

    src = f"discover-{result['target']}.json"
    what = describe_target(result["target"])
    f = _Writer(result, src).w(f"{what[0].upper()}{what[1:]} in ").v("hits", "num").w(" of ")
    f.v("runs", "num").w(" runs (").v("base_rate", "pct").w(")")
    if result["hits"] == 0 or result["hits"] == result["runs"]:
        out = [f.w(": it does not vary, so there is no condition to find.").done()]
        return out
    if not result["rules"]:
        return [f.w("; no condition on the sampled parameters makes it more likely.").done()]
    out = [f.w("; it is most likely under these conditions:").done()]
    for i, r in enumerate(result["rules"]):
        f = _Writer(result, src).w("When ")
        for j in range(len(r["conditions"])):
            f.w(" and " if j else "").v(f"rules/{i}/conditions/{j}", "raw")
        f.w(f": {what} in ").v(f"rules/{i}/density", "pct0").w(" of runs, covering ")
        f.v(f"rules/{i}/coverage", "pct0").w(" of such runs (").v(f"rules/{i}/runs", "num")
        f.w(" runs, ").v(f"rules/{i}/support", "pct0").w(" of the sweep).")
        out.append(f.done())
    return out


def discover_section(sweep: Path, target: str) -> Section:
    """Run discovery on the sweep for ``target``, write ``whatif/discover-<target>.json`` (the
    file the sentences read), and build the section."""
    from sim.analysis.discover import describe_target, discover
    from sim.experiments.sweep import _write_json
    from sim.reporting import whatif_charts as wc

    result = discover(sweep, target)
    path = sweep / "whatif" / f"discover-{target}.json"
    path.parent.mkdir(exist_ok=True)
    _write_json(path, result)
    result = json.loads(path.read_text())  # the sentences read what was written
    what = describe_target(target)
    pages, omitted = [], []
    if result["rules"]:
        pages.append(Page(f"discover-{target}", f"conditions for {what}", READINGS["discover"],
                          lambda size, note: wc.rules(result, size=size, note=note)))  # fmt: skip
    else:
        omitted.append(f"discover-{target}: no rule makes {what} more likely than the base rate")
    return Section(f"Under what conditions: {what}", discover_findings(result), pages, omitted)


def sections(sweep: Path, sensitivity: str | Path | None, compare: str | Path | None,
             discover: Sequence[str]) -> list[Section]:  # fmt: skip
    """The what-if sections asked for, in the order sensitivity, compare, discover (each target
    once). Every folder is checked before anything is drawn."""
    out = []
    if sensitivity:
        out.append(sensitivity_section(sensitivity))
    if compare:
        out.append(compare_section(compare))
    for target in dict.fromkeys(discover):
        out.append(discover_section(Path(sweep), target))
    return out
