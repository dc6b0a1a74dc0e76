"""Findings: the sentences of the briefing pack and of ``stabsim compare``. Kept whole: every
sentence follows the same rule for its numbers, which is easiest to check in one place.

Rules:

- Every number in a sentence is read from a results file (``summary.json``,
  ``sensitivity.json``, ``compare.json``, ``discover-<target>.json``) and formatted here; each
  :class:`Finding` lists the path and format of each number it prints, in order, so a test can
  recompute the sentence's numbers from the file.
- Sweep: the most likely outcome with its interval and the others; the most likely text and
  the clauses still open; the two members least likely to vote yes; the force's viability,
  troops and most likely coalition; across a grid, the range of adoption and viability.
- Sensitivity: for adoption and for a viable force, the parameters whose importance interval
  (total Sobol' index, or Morris mu*) lies wholly above zero are ranked, at most five; when none
  does, or the output never varies over the design, the sentence says so and ranks nothing;
  Sobol' intervals wider than 0.5 get a note that more base runs are needed. One more sentence
  names the largest one-at-a-time swing, or says none moves the output.
- Compare: the flagged outcome, viability, veto and joining changes, largest first (the same
  sentences ``stabsim compare`` prints). Discover: the base rate, then each rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from sim.analysis.discover import describe_target
from sim.analysis.folders import Labels, SweepFolder
from sim.analysis.naming import parameter_words, possessive, setting_words, value_words
from sim.model.result import OUTCOMES
from sim.reporting import charts, style
from sim.reporting.tables import reason_phrase, reason_words
from sim.scenario.provenance import of_manifest

OUTPUTS = {"adopted": "adoption", "viable": "a viable force"}
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
TOP = 5


@dataclass
class Finding:
    """One sentence and the summary path and format of each number in it, in order."""

    text: str = ""
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (path a/b/0/c, kind)
    source: str = "summary.json"  # the results file the paths point into


def lookup(summary: dict[str, Any], path: str) -> Any:
    """The value at a ``/``-separated path of the summary (list indices as numbers; keys such
    as grid paths may hold dots)."""
    node: Any = summary
    for part in path.split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def resolve(summary: dict[str, Any], path: str, kind: str) -> str:
    """The summary value at ``path`` as a sentence prints it: ``pct`` a probability, ``ci`` the
    interval of a probability object, ``level`` the confidence level, ``num`` troops, ``grid`` a grid value, ``raw`` the value
    as is, ``key`` the last path part itself (an option name such as a scale value); for the
    what-if sections ``idx`` an index to two decimals, ``val`` a
    parameter value (``5,000``, ``0.45``), ``pct0`` a whole percentage and ``pts``
    signed percentage points (as ``stabsim compare`` writes them)."""
    value = lookup(summary, path)
    if kind == "key":
        return path.rsplit("/", 1)[-1]
    return fmt(value, kind)


def fmt(value: Any, kind: str) -> str:
    """A value formatted by kind (see :func:`resolve`)."""
    if kind == "pct":
        return style.pct(value)
    if kind == "ci":
        return style.ci(value)
    if kind == "num":
        return style.num(value)
    if kind == "level":
        return f"{100 * value:.0f}%"
    if kind == "grid":
        return style.value(value)
    if kind == "val":
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if kind == "idx":
        return "n/a" if value is None else f"{value:.2f}"
    if kind == "pct0":
        return f"{100 * value:.0f}%"
    if kind == "pts":
        return points(value)
    return str(value)


class Writer:
    """Builds a Finding: literal words, and numbers that are looked up and recorded."""

    def __init__(self, summary: dict[str, Any], source: str = "summary.json"):
        self.summary = summary
        self.f = Finding(source=source)

    def w(self, text: str) -> Writer:
        self.f.text += text
        return self

    def v(self, path: str, kind: str) -> Writer:
        self.f.text += resolve(self.summary, path, kind)
        self.f.numbers.append((path, kind))
        return self

    def done(self) -> Finding:
        return self.f


def _option(res: SweepFolder, cid: str, option: str) -> str:
    cl = next((c for c in res.clauses if c.id == cid), None)
    return cl.option(option) if cl else style.option_label(option)


def sweep_findings(res: SweepFolder, point: int = 0) -> list[Finding]:
    """The key findings of one grid point (and of the grid), as sentences."""
    s = res.summary
    pt = s["points"][point]
    at = f"points/{point}"
    out: list[Finding] = []
    labels = res.labels
    if pt["grid"]:
        f = Writer(s).w("At the grid point where ")
        for j, path in enumerate(pt["grid"]):
            f.w(" and " if j else "").w(f"{parameter_words(path, labels)} is ")
            f.v(f"{at}/grid/{path}", "grid")
        out.append(f.w(" (the charts of one point show it too):").done())

    # the outcome
    best = max(OUTCOMES, key=lambda o: (pt["outcomes"][o]["count"], -OUTCOMES.index(o)))
    f = Writer(s).w(f"{charts.OUTCOME_TITLES[best]} in ").v(f"{at}/outcomes/{best}/p", "pct")
    f.w(" of runs (").v("confidence", "level").w(" CI ").v(f"{at}/outcomes/{best}", "ci").w(")")
    others = [o for o in OUTCOMES if o != best and pt["outcomes"][o]["count"]]
    for i, o in enumerate(others):
        f.w("; " if i == 0 else ", ").w(f"{style.OUTCOME_LABELS[o].lower()} in ")
        f.v(f"{at}/outcomes/{o}/p", "pct")
        if o == "vetoed":
            vetoers = [a for a, v in pt["veto_cast_by"].items() if v["count"]]
            for j, a in enumerate(vetoers):
                f.w(" (veto cast by " if j == 0 else ", ").w(f"{a} in ")
                f.v(f"{at}/veto_cast_by/{a}/p", "pct")
            if vetoers:
                f.w(")")
    out.append(f.w(".").done())

    out += reason_findings(res, point)

    # the text
    if pt["texts"]:
        f = Writer(s).w("The most likely text, adopted in ").v(f"{at}/texts/0/p", "pct")
        f.w(" of runs (").v(f"{at}/texts/0/share_of_adopted", "pct").w(" of adopted texts): ")
        for i, cl in enumerate(res.clauses):
            if cl.id not in pt["texts"][0]["text"]:
                continue
            f.w("; " if i else "").w(f"{cl.label}: ")
            if cl.kind == "scale":
                f.v(f"{at}/texts/0/text/{cl.id}", "raw").w(f" {cl.unit}".rstrip())
            else:
                f.w(_option(res, cl.id, pt["texts"][0]["text"][cl.id]))
        out.append(f.w(".").done())
        still = charts.open_clauses(pt, res.clauses)
        if still:
            f = Writer(s).w("Still open among adopted texts: ")
            for i, cl in enumerate(still):
                f.w("; " if i else "").w(f"{cl.label.lower()} (")
                opts = sorted(pt["clauses"][cl.id].items(), key=lambda kv: -kv[1]["count"])
                opts = [(o, v) for o, v in opts if v["count"]][:3]
                for j, (o, _) in enumerate(opts):
                    f.w(", " if j else "")
                    if cl.kind == "scale":
                        f.v(f"{at}/clauses/{cl.id}/{o}", "key").w(f" {cl.unit}".rstrip() + " ")
                    else:
                        f.w(_option(res, cl.id, o) + " ")
                    f.v(f"{at}/clauses/{cl.id}/{o}/p", "pct")
                f.w(")")
            out.append(f.w(".").done())
        else:
            out.append(Finding("Every clause settles on one option in at least nine adopted "
                               "texts in ten."))  # fmt: skip
    else:
        out.append(Finding("No text was adopted in any run."))

    # the vote
    held = {m: v for m, v in pt["votes"].items() if v["voted"]}
    low = [
        m for m in sorted(held, key=lambda m: (held[m]["yes"]["p"], m)) if held[m]["yes"]["p"] < 1
    ][:2]
    if low:
        f = Writer(s).w("Least likely to vote yes, over the votes held: ")
        for i, m in enumerate(low):
            f.w(", " if i else "").w(f"{res.names.get(m, m)} (yes ").v(
                f"{at}/votes/{m}/yes/p", "pct"
            )
            f.w(", abstain ").v(f"{at}/votes/{m}/abstain/p", "pct")
            f.w(", no ").v(f"{at}/votes/{m}/no/p", "pct").w(")")
        out.append(f.w(".").done())
    elif held:
        out.append(Finding("Every Council member votes yes in every vote held."))

    # the force
    if pt["contributors"]:
        f = Writer(s).w("A viable force in ").v(f"{at}/viable/p", "pct").w(" of runs (")
        f.v("confidence", "level").w(" CI ")
        f.v(f"{at}/viable", "ci").w(")")
        if pt["troops_delivered"]["n"]:
            f.w("; delivered troops average ").v(f"{at}/troops_delivered/mean", "num")
            f.w(" (nine runs in ten between ").v(f"{at}/troops_delivered/p5", "num").w(" and ")
            f.v(f"{at}/troops_delivered/p95", "num").w(")")
        out.append(f.w(".").done())
        if pt["coalitions"]:
            c = pt["coalitions"][0]
            names = ", ".join(res.names.get(a, a) for a in c["members"])
            f = Writer(s).w(f"Most likely coalition: {names}, in ").v(f"{at}/coalitions/0/p", "pct")
            out.append(f.w(" of runs.").done())
        else:
            out.append(Finding("No contributor commits troops in any run."))
    else:
        out.append(Finding("The scenario names no troop contributors, so no force is modelled."))

    # the grid
    pts = s["points"]
    if s.get("grid_axes") and len(pts) > 1:
        for key, label in (("outcomes/adopted", "adoption"), ("viable", "a viable force")):
            ps = [lookup(s, f"points/{i}/{key}/p") or 0 for i in range(len(pts))]
            lo, hi = ps.index(min(ps)), ps.index(max(ps))
            if style.pct(ps[lo]) == style.pct(ps[hi]):
                f = (
                    Writer(s)
                    .w(f"Across the grid, {label} stays at ")
                    .v(f"points/{lo}/{key}/p", "pct")
                )
                out.append(f.w(" at every point.").done())
                continue
            f = Writer(s).w(f"Across the grid, {label} ranges from ")
            for i, word in ((lo, " to "), (hi, ".")):
                f.v(f"points/{i}/{key}/p", "pct").w(" (with ")
                for j, path in enumerate(pts[i]["grid"]):
                    f.w(" and " if j else "").w(f"{parameter_words(path, labels)} at ")
                    f.v(f"points/{i}/grid/{path}", "grid")
                f.w(")" + word)
            out.append(f.done())
    return out


REASONS_SHOWN = 2  # reasons named per outcome


def reason_findings(res: SweepFolder, point: int = 0) -> list[Finding]:
    """Why runs did not end in adoption: for every other outcome that happened, its most
    frequent reasons from the run records (at most two, each a share of that outcome's
    runs), or a sentence that the runs recorded none."""
    s = res.summary
    pt = s["points"][point]
    at = f"points/{point}"
    named = reason_words(res.labels)
    out = []
    for o in OUTCOMES[1:]:
        if not pt["outcomes"][o]["count"]:
            continue
        top = ((pt.get("why") or {}).get(o) or [])[:REASONS_SHOWN]
        f = Writer(s).w(f"{style.OUTCOME_LABELS[o]} runs ({o}: ").v(f"{at}/outcomes/{o}/p", "pct")
        if not top:
            out.append(f.w("): their run records give no reason.").done())
            continue
        f.w("): most often ")
        for i, r in enumerate(top):
            f.w("; then " if i else "").w(f"{reason_phrase(r, **named)}, in ")
            f.v(f"{at}/why/{o}/{i}/p", "pct").w("" if i else " of them")
        out.append(f.w(".").done())
    return out


# --- what the numbers cover, and the pack's title -------------------------------------------------


def caveat_findings(res: SweepFolder, sensitivity: dict[str, Any] | None = None,
                    labels: Labels | None = None) -> list[Finding]:  # fmt: skip
    """What the intervals cover and what they do not: the sampling error of these runs only, not
    the inputs or the model; how many of the scenario's numbers are sourced, conventions,
    assumptions or unlabelled (counted from the scenario text the manifest keeps, and the
    files it extends); and, given a sensitivity result, the lowest and highest chance of
    adoption any one input gives at either end of its range (``labels`` name the inputs)."""
    s = res.summary
    runs = "runs" if not s.get("grid_axes") else "runs at each grid point"
    f = Writer(s).w("The ").v("confidence", "level").w(" intervals are Wilson intervals for the ")
    f.w("Monte Carlo sampling error of these ").v("runs_per_point", "num")
    f.w(f" {runs} only: how far each share may lie from its value in endlessly many runs of the ")
    f.w("same scenario. They do not cover the uncertainty of the inputs (the scenario's numbers ")
    f.w("and ranges are taken as given) or the model's own error.")
    out = [f.done()]
    counted = of_manifest(res.manifest.get("scenario"))
    if counted is None or not counted.total:
        out.append(Finding("The sweep's manifest keeps no copy of the scenario file, so where its "
                           "numbers come from cannot be counted."))  # fmt: skip
    else:
        doc = counted.counts()
        f = Writer(doc, "manifest.json").w("Of the scenario's ").v("total", "num")
        f.w(" numbers, ").v("sourced", "num").w(" are sourced (article or public record), ")
        f.v("convention", "num").w(" conventions, ").v("assumption", "num").w(" assumptions (")
        f.v("unlabelled", "num").w(" unlabelled), as the comments in its file mark them.")
        out.append(f.done())
    if sensitivity is not None:
        out.append(_headline_range(sensitivity, s["scenario"], labels))
    return out


def _headline_range(result: dict[str, Any], scenario: str, labels: Labels | None) -> Finding:
    """How far the chance of adoption moves when one input at a time sits at either end of
    its range (the sensitivity result's swings)."""
    src = "sensitivity.json"
    sw = (result.get("swings") or {}).get("adopted")
    of = "" if result.get("scenario") == scenario else f" of {result.get('scenario')}"
    if not sw or not sw["params"]:
        return Finding(f"The sensitivity analysis{of} ran without one-at-a-time swings, so how far "
                       "the chance of adoption moves across the inputs' ranges is not shown.",
                       source=src)  # fmt: skip
    ends = [(r[f"at_{end}"], i, end) for i, r in enumerate(sw["params"]) for end in ("low", "high")]
    lo, hi = min(ends), max(ends)
    at = "swings/adopted"
    if lo[0] == hi[0]:
        f = Writer(result, src).w(f"In the sensitivity analysis{of}, no input set alone to either ")
        f.w("end of its range moves the chance of adoption from ").v(f"{at}/baseline", "pct")
        return f.w(".").done()
    f = Writer(result, src).w(f"In the sensitivity analysis{of}, one input at a time at either ")
    f.w("end of its plausible range (a distribution's support, half a fixed value either side, ")
    f.w("or the range the analysis was given) ")
    f.w("moves the chance of adoption between ")
    for k, (_, i, end) in enumerate((lo, hi)):
        path = sw["params"][i]["path"]
        f.w(" and " if k else "").v(f"{at}/params/{i}/at_{end}", "pct")
        f.w(f" ({parameter_words(path, labels)} at ").v(f"{at}/params/{i}/{end}", "val").w(")")
    f.w("; it is ").v(f"{at}/baseline", "pct").w(" with every input as in the file (")
    f.v("swing_runs", "num").w(" runs each).")
    return f.done()


def own_changes(res: SweepFolder) -> tuple[list[str], list[str]]:
    """What a sweep changed against its scenario file, in words: the settings (an overlay's
    differences, ``manifest.scenario.changes``, and ``--set`` values: "France's salience on
    force leadership is 0.2") and the ``--vary`` axes ("... goes from 0.2 to 0.8")."""
    labels = res.labels
    scen = res.manifest.get("scenario") or {}
    settings = {k: v for k, v in (scen.get("changes") or {}).items()
                if re.split(r"[.\[]", k)[0] not in NOT_INPUTS}  # fmt: skip
    settings.update(res.summary.get("set") or {})  # --set wins over the file, as in the runs
    fixed = [setting_words(k, v, labels) for k, v in settings.items()]
    varied = []
    for axis in res.summary.get("grid_axes") or []:
        values = axis["values"]
        if len(values) > 1:
            varied.append(f"{parameter_words(axis['path'], labels)} goes from "
                          f"{value_words(axis['path'], values[0], labels)} to "
                          f"{value_words(axis['path'], values[-1], labels)}")  # fmt: skip
        elif values:
            fixed.append(setting_words(axis["path"], values[0], labels))
    return fixed, varied


NOT_INPUTS = ("name", "description", "sources", "preamble", "observed")  # words, not numbers
TITLE_CHANGES = 3  # changes named in a title; more are counted


def _and(items: list[str]) -> str:
    """``a and b and c``, or the first :data:`TITLE_CHANGES` and how many more."""
    if len(items) > TITLE_CHANGES:
        more = len(items) - TITLE_CHANGES
        items = [*items[:TITLE_CHANGES], f"{more} other change{'s' if more > 1 else ''}"]
    return " and ".join(items)


def pack_title(res: SweepFolder, compare: dict[str, Any] | None = None) -> str:
    """The pack's title: the scenario's, then what the sweep changed against its file and what
    a comparison changes, in words ("Gaza ... — if France's salience on force leadership is
    0.2", "... — as ... goes from 0.2 to 0.8"); past three changes, the rest are counted."""
    fixed, varied = own_changes(res)
    own = fixed + varied
    parts = [f"if {_and(fixed)}"] if fixed else []
    parts += [f"as {_and(varied)}"] if varied else []
    title = res.title + (" — " + ", ".join(parts) if parts else "")
    if compare is not None:
        a, b = compare["a"], compare["b"]
        labels = labels_in(compare) or res.labels
        sa, sb = {**a["set"], **a["grid"]}, {**b["set"], **b["grid"]}
        diff = [setting_words(k, v, labels) for k, v in sb.items() if sa.get(k) != v]
        diff += [f"{parameter_words(k, labels)} is as in the scenario" for k in sa if k not in sb]
        if a["scenario"] != b["scenario"]:
            diff.insert(0, f"the scenario is {b['scenario']} instead of {a['scenario']}")
        fresh = [d for d in diff if d not in own]
        if fresh:
            title += ("; " if own else " — ") + "what changes if " + _and(fresh)
    return title


# --- comparisons ---------------------------------------------------------------------------------


def labels_in(result: dict[str, Any]) -> Labels | None:
    """The names a result file carries (``labels``), if it carries them."""
    return Labels.from_json(result["labels"]) if result.get("labels") else None


def what_changed(a: dict[str, Any], b: dict[str, Any], labels: Labels | None = None) -> str:
    """The settings B has and A lacks, as a phrase in words ("With United Arab Emirates' troop
    pledge at 2,000")."""
    sa = {**a["set"], **a["grid"]}
    sb = {**b["set"], **b["grid"]}
    diff = [f"{parameter_words(k, labels)} at {value_words(k, v, labels)}"
            for k, v in sb.items() if sa.get(k) != v]  # fmt: skip
    diff += [f"{parameter_words(k, labels)} as in the scenario" for k in sa if k not in sb]
    if a["scenario"] != b["scenario"]:
        diff.insert(0, f"scenario {b['scenario']} instead of {a['scenario']}")
    return "With " + ", ".join(diff) if diff else "In the second sweep"


def item_label(key: str, names: dict[str, str], labels: Labels | None = None) -> str:
    """A compared probability in words ("the chance Russian Federation vetoes")."""
    kind, _, name = key.partition(".")
    if key == "outcome.adopted":
        return "adoption"
    if key == "viable":
        return "the chance of a viable force"
    if kind == "outcome":
        return {"vetoed": "the chance of a veto", "failed": "the chance the vote fails",
                "withdrawn": "the chance the draft is withdrawn",
                "no_agreement": "the chance of no agreement"}[name]  # fmt: skip
    if kind == "veto":
        return f"the chance {names.get(name, name)} vetoes"
    if kind == "joins":
        return f"the chance {names.get(name, name)} joins the force"
    if kind == "clause":
        clause, _, option = name.partition(".")
        cl = next((c for c in labels.clauses if c.id == clause), None) if labels else None
        if cl is not None:
            return f"the share of adopted texts with {cl.label.lower()}: {cl.option(option)}"
        return f"the share of adopted texts with {clause} = {option}"
    member, _, vote = name.rpartition(".")
    return f"{possessive(names.get(member, member))} {vote} votes"


def points(x: float) -> str:
    """Percentage points with a sign, whole unless that would round a non-zero bound to 0."""
    v = 100 * x
    text = f"{abs(v):.0f}" if round(abs(v)) >= 1 or v == 0 else f"{abs(v):.1f}"
    return "0" if v == 0 else ("+" if v > 0 else "−") + text


def sentence(row: dict[str, Any], names: dict[str, str]) -> str:
    """ "adoption rises from 62% to 81% (+19 points, 95% CI +16 to +22)"."""
    pa_, pb = row["a"]["p"], row["b"]["p"]
    verb = "rises" if row["change"] > 0 else "falls"
    return (
        f"{item_label(row['key'], names)} {verb} from {100 * pa_:.0f}% to {100 * pb:.0f}% "
        f"({points(row['change'])} points, 95% CI {points(row['low'])} to {points(row['high'])})"
    )


def briefing_rows(result: dict[str, Any], top: int = 4) -> list[int]:
    """Indices into ``result["changes"]`` of the rows the sentences speak of: significant
    outcome, viability, veto and joining changes; adoption and viability first, then the other
    outcomes, vetoes, joining, largest first within each; at most ``top``."""

    def rank(i: int) -> int:
        r = result["changes"][i]
        first = {"outcome.adopted": 0, "viable": 1}
        return first.get(r["key"], {"outcome": 2, "veto": 3, "joins": 4}.get(r["group"], 9))

    rows = [i for i, r in enumerate(result["changes"]) if r["significant"] and rank(i) < 9]
    return sorted(rows, key=rank)[:top]  # stable: largest first within each rank


def compare_sentences(
    result: dict[str, Any], names: dict[str, str], label: str | None, top: int = 4
) -> list[str]:
    """Briefing sentences for the significant changes: outcomes and viability first, then
    vetoes, then joining, largest first within each; one sentence when nothing moves beyond
    noise."""
    head = label or what_changed(result["a"], result["b"], labels_in(result))
    rows = [result["changes"][i] for i in briefing_rows(result, top)]
    if not rows:
        return [f"{head}, no outcome, veto or contribution changes beyond noise "
                f"(every 95% interval includes zero)."]  # fmt: skip
    out = [f"{head}, {sentence(rows[0], names)}."]
    out += [f"{sentence(r, names)[0].upper()}{sentence(r, names)[1:]}." for r in rows[1:]]
    return out


# --- what-if sections ----------------------------------------------------------------------------


def sensitivity_findings(result: dict[str, Any], output: str,
                         labels: Labels | None = None) -> list[Finding]:  # fmt: skip
    """The ranking of one output (only parameters whose interval clears zero) and its largest
    swing, or an honest sentence that there is nothing to rank; parameters in words."""

    def words(path: str) -> str:
        return parameter_words(path, labels)

    src = "sensitivity.json"
    what = OUTPUTS.get(output, output)
    sobol = result["method"] == "sobol"
    key, name = ("ST", "total Sobol' index") if sobol else ("mu_star", "Morris mu*")
    block = result["indices"][output]
    swings = (result.get("swings") or {}).get(output)
    out: list[Finding] = []
    if block["constant"]:
        f = Writer(result, src).w(f"{what[0].upper()}{what[1:]} does not vary over the design")
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
        f = Writer(result, src).w(f"{head} ({name}, 95% CI): ")
        for i, p in enumerate(clear):
            f.w("; " if i else "").w(f"{words(p)} ").v(f"{at}/{p}/{key}", "idx").w(" (")
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
        f = Writer(result, src).w(f"No parameter's {name} for {what} is clearly above zero ")
        f.w(f"(the largest, {words(p)}, ").v(f"{at}/{p}/{key}", "idx").w(", 95% CI ")
        f.v(f"{at}/{p}/{key}_ci/low", "idx").w(" to ").v(f"{at}/{p}/{key}_ci/high", "idx")
        out.append(f.w("), so none is ranked; more --base-runs or --replicates would tell "
                       "whether any matters.").done())  # fmt: skip
    if swings and swings["params"]:
        lead = swings["params"][0]
        sw = f"swings/{output}"
        if max(abs(lead["change_low"]), abs(lead["change_high"])) == 0:
            f = Writer(result, src).w(f"Set alone to either end of its range, no parameter moves "
                                       f"{what} from its baseline ").v(f"{sw}/baseline", "pct")  # fmt: skip
            out.append(f.w(".").done())
        else:
            f = Writer(result, src).w(f"On its own, {words(lead['path'])} moves {what} most: ")
            f.v(f"{sw}/baseline", "pct").w(" at the baseline, ").v(f"{sw}/params/0/at_low", "pct")
            f.w(" with it at ").v(f"{sw}/params/0/low", "val").w(" and ")
            f.v(f"{sw}/params/0/at_high", "pct").w(" at ").v(f"{sw}/params/0/high", "val")
            out.append(f.w(".").done())
    return out


def compare_findings(result: dict[str, Any]) -> list[Finding]:
    """``stabsim compare``'s sentences, word for word, with each number looked up in the file."""
    src = "compare.json"
    names = result.get("names") or {}
    rows = briefing_rows(result)

    def head(f: Writer) -> Writer:
        return (
            f.v("label", "raw")
            if result.get("label")
            else f.w(what_changed(result["a"], result["b"], labels_in(result)))
        )

    if not rows:
        f = head(Writer(result, src)).w(", no outcome, veto or contribution changes beyond "
                                          "noise (every 95% interval includes zero).")  # fmt: skip
        return [f.done()]
    out = []
    for n, i in enumerate(rows):
        r = result["changes"][i]
        label = item_label(r["key"], names)
        f = Writer(result, src)
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


def _box(f: Writer, rule: dict[str, Any], at: str, what: str, labels: Labels | None,
         lead: str = "When") -> Finding:  # fmt: skip
    """ "When <conditions>: <what> in d% of runs, covering c% of such runs (n runs, s% of the
    sweep)." for the box at ``at`` (a rule of the tree or a PRIM box)."""
    f.w(f"{lead} ")
    for j, path in enumerate(sorted(rule["bounds"])):
        lo, hi = rule["bounds"][path]
        words, b = parameter_words(path, labels), f"{at}/bounds/{path}"
        f.w(" and " if j else "")
        if math.isfinite(lo) and math.isfinite(hi):
            f.v(f"{b}/0", "val").w(f" < {words} <= ").v(f"{b}/1", "val")
        elif math.isfinite(lo):
            f.w(f"{words} > ").v(f"{b}/0", "val")
        else:
            f.w(f"{words} <= ").v(f"{b}/1", "val")
    f.w(f": {what} in ").v(f"{at}/density", "pct0").w(" of runs, covering ")
    f.v(f"{at}/coverage", "pct0").w(" of such runs (").v(f"{at}/runs", "num")
    f.w(" runs, ").v(f"{at}/support", "pct0").w(" of the sweep).")
    return f.done()


def discover_findings(result: dict[str, Any], labels: Labels | None = None) -> list[Finding]:
    """The base rate, then each rule with its density and coverage (as ``stabsim discover``),
    each condition in words with its threshold read from the rule's bounds; then, when the
    result holds PRIM's boxes (``prim``), the box PRIM finds beside the tree."""
    src = f"discover-{result['target']}.json"
    what = describe_target(result["target"])
    f = Writer(result, src).w(f"{what[0].upper()}{what[1:]} in ").v("hits", "num").w(" of ")
    f.v("runs", "num").w(" runs (").v("base_rate", "pct").w(")")
    if result["hits"] == 0 or result["hits"] == result["runs"]:
        out = [f.w(": it does not vary, so there is no condition to find.").done()]
        return out
    if not result["rules"]:
        out = [f.w("; no condition on the sampled parameters makes it more likely.").done()]
    else:
        out = [f.w("; it is most likely under these conditions:").done()]
    for i, r in enumerate(result["rules"]):
        out.append(_box(Writer(result, src), r, f"rules/{i}", what, labels))
    prim = result.get("prim")
    if prim is not None:
        f = Writer(result, src).w("PRIM (EMA Workbench), the densest box covering at least ")
        f.v("prim/min_coverage", "pct0").w(" of such runs")
        if not prim["boxes"]:
            out.append(f.w(", finds no box in which it is more likely than the base rate.").done())
        for i, r in enumerate(prim["boxes"]):
            f = f if i == 0 else Writer(result, src).w("Another PRIM box")
            out.append(_box(f.w(": "), r, f"prim/boxes/{i}", what, labels, lead="when"))
    return out


# --- the track record ------------------------------------------------------------------------------


def track_record_findings(result: dict[str, Any]) -> list[Finding]:
    """How often the model has been right before, against the baselines, and where it is not
    better (numbers looked up in ``backtest.json``)."""
    src = "backtest.json"
    s = "summary/independent"
    n = result["summary"]["independent"]["cases"]
    out = []
    f = Writer(result, src).w(f"On {n} past Council decisions written from pre-vote positions, ")
    f.w("the model gave the real outcome ").v(f"{s}/model/outcome.p_real", "pct0")
    f.w(" on average (stance rule ").v(f"{s}/stance/outcome.p_real", "pct0")
    f.w(", everyone-votes-yes ").v(f"{s}/everyone_yes/outcome.p_real", "pct0")
    if result["summary"]["independent"]["model"].get("outcome.p_real_failed_drafts") is not None:
        f.w("); on the drafts that failed it gave ").v(
            f"{s}/model/outcome.p_real_failed_drafts", "pct0"
        )
    out.append(f.w(").").done())
    f = Writer(result, src).w("Member votes: Brier score ").v(f"{s}/model/votes.brier", "idx")
    f.w(" against the stance rule's ").v(f"{s}/stance/votes.brier", "idx")
    f.w(" and a uniform guess's ").v(f"{s}/uniform/votes.brier", "idx").w(" (lower is better).")
    out.append(f.done())
    f = Writer(result, src).w("Text: the model's most likely text matches ")
    f.v(f"{s}/model/text.matched_share", "pct0").w(" of the real texts' known clauses, the ")
    f.w("penholder's opening draft ").v(f"{s}/opening_draft/text.matched_share", "pct0").w(".")
    out.append(f.done())
    lost = len(result["not_beaten"])
    out.append(Finding(
        "The model does not beat a baseline on: " + "; ".join(result["not_beaten"]) + "."
        if lost else "The model beats every baseline on every score."
    ))  # fmt: skip
    return out
