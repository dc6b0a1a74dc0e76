"""Terminal tables: what the commands print. Each function takes a result as JSON (a sweep
summary, a comparison, a discovery, a sensitivity analysis) and returns the text. Kept whole:
the tables share one layout and one way of fitting the terminal's width."""

from __future__ import annotations

import shutil
import textwrap
from typing import Any

from sim.analysis.discover import describe_target
from sim.analysis.folders import Labels
from sim.analysis.naming import (
    clause_words,
    condition_words,
    number_words,
    parameter_words,
    value_words,
)

# --- sweep summaries ----------------------------------------------------------------------------


def pct(s: dict[str, Any]) -> str:
    if s["p"] is None:
        return "     -"
    return f"{100 * s['p']:5.1f}%"


def ci(s: dict[str, Any]) -> str:
    if s["p"] is None:
        return ""
    return f"[{100 * s['low']:4.1f}, {100 * s['high']:5.1f}]"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def width() -> int:
    """The terminal's width: ``COLUMNS`` if set, else the terminal's; unlimited when printing
    to a file or pipe without ``COLUMNS``."""
    return shutil.get_terminal_size(fallback=(10**6, 24)).columns


def table(headers: list[str], rows: list[list[str]], left: int = 1, last_left: bool = False,
          limit: int | None = None) -> str:  # fmt: skip
    """A plain table: the first ``left`` columns (and the last, with ``last_left``)
    left-aligned, the rest right-aligned. When it is wider than ``limit`` (default: the
    terminal's width), the widest left-aligned column is wrapped onto continuation lines
    (never narrower than 12 characters)."""
    limit = width() if limit is None else limit
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lefts = {*range(left), *([len(headers) - 1] if last_left else [])}
    over = 2 + sum(widths) + 2 * (len(widths) - 1) - limit
    if over > 0 and lefts:
        k = max(sorted(lefts), key=lambda i: widths[i])
        widths[k] = max(12, widths[k] - over, len(headers[k]))
        wrapped = []
        for r in rows:
            parts = textwrap.wrap(r[k], widths[k], break_on_hyphens=False) or [""]
            wrapped.append([*r[:k], parts[0], *r[k + 1 :]])
            wrapped += [["" if i != k else part for i in range(len(r))] for part in parts[1:]]
        rows = wrapped
    fmt = "  ".join(f"{{:<{w}}}" if i in lefts else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join("  " + line.rstrip() for line in lines)


def fit(text: str, limit: int | None = None) -> str:
    """Lines longer than the terminal wrapped, continuation lines indented under their start."""
    limit = width() if limit is None else limit
    out = []
    for line in text.split("\n"):
        if len(line) <= limit:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()))
        out.append(textwrap.fill(line.strip(), limit, initial_indent=indent,
                                 subsequent_indent=indent + "  ", break_on_hyphens=False))  # fmt: skip
    return "\n".join(out)


def grid_label(grid: dict[str, Any], labels: Labels | None = None) -> str:
    """A grid point in words: ``France's salience on force leadership = 0.2``; an option by
    its label."""
    return ", ".join(
        f"{parameter_words(k, labels)} = "
        + (value_words(k, v, labels) if isinstance(v, str) else format(v, "g"))
        for k, v in grid.items()
    )


def _labels(summary: dict[str, Any]) -> Labels | None:
    return Labels.from_json(summary["labels"]) if summary.get("labels") else None


def reason_words(labels: Labels | None) -> dict[str, Any]:
    """The keyword arguments of :func:`reason_phrase` that name actors, clauses and options."""
    if labels is None:
        return {}
    clauses = {c.id: c for c in labels.clauses}
    return {
        "names": labels.actors,
        "words": lambda cid, o: clauses[cid].option(o) if cid in clauses else o,
        "clause_name": lambda cid: clause_words(clauses[cid].label) if cid in clauses else cid,
    }


def summary_point(pt: dict[str, Any], labels: Labels | None = None) -> str:
    """One grid point's summary as terminal tables (reasons and grid values in words)."""
    out = []
    head = f"Point {pt['point']}" + (f" ({grid_label(pt['grid'], labels)})" if pt["grid"] else "")
    out.append(f"{head}: {pt['runs']:,} runs; 95% Wilson intervals in brackets")
    rows = [[o, pct(s), ci(s), f"{s['count']:,}"] for o, s in pt["outcomes"].items()]
    rows.append(["viable force", pct(pt["viable"]), ci(pt["viable"]), f"{pt['viable']['count']:,}"])
    rows += [
        [f"veto cast by {a}", pct(s), ci(s), f"{s['count']:,}"]
        for a, s in pt["veto_cast_by"].items()
    ]
    out += ["", "Outcome", table(["", "p", "95% CI", "runs"], rows)]
    named = reason_words(labels)
    rows = [[o if i == 0 else "", reason_phrase(r, **named), pct(r), ci(r)]
            for o, reasons in (pt.get("why") or {}).items() for i, r in enumerate(reasons)]  # fmt: skip
    if rows:
        out += ["", "Why (share of the runs with that outcome)",
                table(["outcome", "reason", "p", "95% CI"], rows, left=2)]  # fmt: skip
    adopted = pt["outcomes"]["adopted"]["count"]
    rows = []
    for cid, options in pt["clauses"].items():
        for i, (o, s) in enumerate(options.items()):
            rows.append([cid if i == 0 else "", o, pct(s), ci(s)])
    out += [
        "",
        f"Clauses of the adopted text ({adopted:,} adopted runs)",
        table(["clause", "option", "p", "95% CI"], rows, left=2),
    ]
    if pt["texts"]:
        rows = [
            [str(t["rank"]), " / ".join(t["text"].values()), pct(t), ci(t)] for t in pt["texts"]
        ]
        out += [
            "",
            "Adopted texts (share of all runs); options in clause order: "
            + " / ".join(pt["clauses"]),
            table(["#", "text", "p", "95% CI"], rows, left=2),
        ]
    if pt["coalitions"]:
        rows = [[str(c["rank"]), c["key"], pct(c), ci(c)] for c in pt["coalitions"]]
        out += [
            "",
            "Troop coalitions (share of all runs)",
            table(["#", "contributors", "p", "95% CI"], rows, left=2),
        ]
    rows = [
        [m, pct(v["yes"]), pct(v["abstain"]), pct(v["no"]), f"{v['voted']:,}"]
        for m, v in pt["votes"].items()
    ]
    out += [
        "",
        "Votes (share of runs with a vote)",
        table(["member", "yes", "abstain", "no", "votes held"], rows),
    ]
    rows = []
    for c, v in pt["contributors"].items():
        d = v["delivered_when_joined"]
        rows.append(
            [c, pct(v["joins"]), ci(v["joins"]), num(d["mean"]), num(d["p5"]), num(d["p95"])]
        )
    if rows:
        out += [
            "",
            "Contributors (troops delivered when joined)",
            table(["actor", "joins", "95% CI", "mean", "p5", "p95"], rows),
        ]
    t = pt["troops_delivered"]
    out += [
        "",
        f"Troops delivered, all runs: mean {num(t['mean'])}, p5 {num(t['p5'])}, "
        f"p95 {num(t['p95'])}; mean rounds {pt['rounds_mean'] or 0:.2f}",
    ]
    return "\n".join(out)


REASONS = {
    "as_opened": "adopted as opened",
    "concession": "a concession on {clause} ({option}) won {actor}",
    "rival": "{actor}'s rival draft",
    "red_line": "{actor}'s red line on {clause} ({option})",
    "dislike": "{actor} prefers no resolution ({clause}: {option})",
    "on_record": "tabled to put {actor}'s veto on record ({clause}: {option})",
    "short_of_votes": "too few yes votes; {actor}'s vote decided",
    "deadline": "deadline passed; {actor} least likely to vote yes",
    "no_prospect": "no text had a chance; {actor} least likely to vote yes",
}


def reason_phrase(r: dict[str, Any], names: dict[str, str] | None = None,
                  words: Any = None, clause_name: Any = None) -> str:  # fmt: skip
    """A counted reason in a few words (``names``: actor names; ``words(clause, option)``:
    option words; ``clause_name(clause)``: a clause's label; ids where not given)."""
    actor = (names or {}).get(r.get("actor") or "", r.get("actor") or "")
    option = words(r["clause"], r["option"]) if words and r.get("clause") else r.get("option")
    clause = clause_name(r["clause"]) if clause_name and r.get("clause") else r.get("clause")
    return REASONS.get(r["kind"], r["kind"]).format(actor=actor, clause=clause,
                                                    option=option)  # fmt: skip


def summary_table(summary: dict[str, Any], point: int | None = None) -> str:
    """The summary as terminal tables: the one point, or an overview row per grid point."""
    labels = _labels(summary)
    head = (
        f"{summary['scenario']}: seed {summary['seed']}, {summary['runs_per_point']:,} runs"
        f" per point, {len(summary['points'])} point(s), protocol {summary['protocol']}"
    )
    for path, value in (summary.get("set") or {}).items():
        head += f"\nset: {parameter_words(path, labels)} = {value} (--set {path}={value})"
    points = summary["points"]
    if point is not None:
        return head + "\n\n" + summary_point(points[point], labels)
    if len(points) == 1:
        return head + "\n\n" + summary_point(points[0], labels)
    for axis in summary.get("grid_axes") or []:
        head += f"\ngrid: {parameter_words(axis['path'], labels)} ({axis['path']})"
    rows = [
        [
            str(p["point"]),
            ", ".join(v if isinstance(v, str) else format(v, "g") for v in p["grid"].values()),
            pct(p["outcomes"]["adopted"]),
            ci(p["outcomes"]["adopted"]),
            pct(p["outcomes"]["vetoed"]),
            pct(p["viable"]),
            ci(p["viable"]),
        ]
        for p in points
    ]
    return (
        head
        + "\n\n"
        + table(["point", "grid", "adopted", "95% CI", "vetoed", "viable", "95% CI"], rows, left=2)
        + "\n\nDetails of one point: stabsim summary DIR --point K"
    )


# --- comparisons ---------------------------------------------------------------------------------


def compare_table(
    result: dict[str, Any], lines: list[str], top: int = 20, everything: bool = False
) -> str:
    """The largest changes as a table (flagged ones marked *), then the sentences."""
    a, b = result["a"], result["b"]
    rows = [r for r in result["changes"] if r["change"] is not None]
    shown = rows if everything else [r for r in rows if r["significant"]][:top]
    head = [
        f"A: {a['dir']} ({a['scenario']}, seed {a['seed']}, {a['runs']:,} runs, point {a['point']})",
        f"B: {b['dir']} ({b['scenario']}, seed {b['seed']}, {b['runs']:,} runs, point {b['point']})",
        f"change = B - A; 95% intervals: {result['interval']}"
        + ("" if result["paired"] else " (runs not paired: different seeds or runs)"),
        "",
    ]
    cells = [
        [r["key"], f"{100 * r['a']['p']:.1f}%", f"{100 * r['b']['p']:.1f}%",
         f"{100 * r['change']:+.1f}", f"[{100 * r['low']:+.1f}, {100 * r['high']:+.1f}]",
         "*" if r["significant"] else "", r["method"]]
        for r in shown
    ]  # fmt: skip
    n_sig = sum(r["significant"] for r in rows)
    title = (
        f"All {len(rows)} items" if everything
        else f"{n_sig} of {len(rows)} items change significantly (* = 95% interval excludes 0)"
    )  # fmt: skip
    body = [title]
    if cells:
        body.append(table(["item", "A", "B", "change (pts)", "95% CI", "", "interval"], cells))
    return "\n".join(head + body + ["", *lines])


# --- scenario discovery ----------------------------------------------------------------------------


def rule_sentence(rule: dict[str, Any], target: str, labels: Labels | None = None,
                  paths: bool = False) -> str:  # fmt: skip
    """ "When <conditions in words>: adopted and viable in 91% of runs, covering 64% of such
    runs (...)"; with ``paths``, each parameter's dotted path follows its words."""
    conds = condition_words(rule["bounds"], labels)
    if paths:
        for i, path in enumerate(sorted(rule["bounds"])):
            words = parameter_words(path, labels)
            conds[i] = conds[i].replace(words, f"{words} ({path})", 1)
    return (
        f"When {' and '.join(conds)}: {describe_target(target)} in "
        f"{100 * rule['density']:.0f}% of runs, covering {100 * rule['coverage']:.0f}% of such "
        f"runs ({rule['runs']:,} runs, {100 * rule['support']:.0f}% of the sweep)"
    )


def discover_text(result: dict[str, Any], labels: Labels | None = None) -> str:
    """The base rate and each rule as a sentence, parameters in words with their paths."""
    t = result["target"]
    lines = [
        f"{result['dir']}: {describe_target(t)} in {result['hits']:,} of {result['runs']:,} runs "
        f"({100 * result['base_rate']:.1f}%); {len(result['features'])} sampled parameter(s); "
        f"{result['method']}, depth {result['depth']}"
    ]
    if result["skipped"]:
        lines.append(f"left out (not numeric): {', '.join(result['skipped'])}")
    if not result["rules"]:
        lines.append(
            "no condition on the sampled parameters makes it more likely than the base rate"
        )
    for i, r in enumerate(result["rules"], 1):
        lines.append(f"{i}. {rule_sentence(r, t, labels, paths=True)}.")
    prim = result.get("prim")
    if prim is not None:
        lines.append(f"{prim['method']}, the densest point covering at least "
                     f"{100 * prim['min_coverage']:.0f}% of such runs:")  # fmt: skip
        if not prim["boxes"]:
            lines.append("no box is denser than the base rate")
        for i, r in enumerate(prim["boxes"], 1):
            qp = ", ".join(f"{parameter_words(k, labels)} {v:.2g}"
                           for k, v in sorted(r.get("qp", {}).items()))  # fmt: skip
            lines.append(f"{i}. {rule_sentence(r, t, labels, paths=True)}; quasi-p: {qp}.")
    return "\n".join(lines)


# --- sensitivity -------------------------------------------------------------------------------------


def _fmt(x: float | None, kind: str) -> str:
    if x is None:
        return "-"
    return f"{x:+,.0f}" if kind == "delivered_troops" else f"{x:+.3f}"


def sensitivity_table(result: dict[str, Any], top: int = 10, labels: Labels | None = None) -> str:
    """The indices and swings of each output as terminal tables, most important first; each
    parameter in words, with the path to type in the last column."""
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
            words = parameter_words(p, labels)
            if method == "sobol":
                rows.append([words, _index(r["ST"]), _interval(r["ST_ci"]), _index(r["S1"]),
                             _interval(r["S1_ci"]), p])  # fmt: skip
            else:
                rows.append([words, _index(r["mu_star"]), _interval(r["mu_star_ci"]),
                             _index(r["sigma"]), p])  # fmt: skip
        heads = (["parameter", "total ST", "95% CI", "first S1", "95% CI", "path"]
                 if method == "sobol" else ["parameter", "mu*", "95% CI", "sigma", "path"])  # fmt: skip
        lines.append(table(heads, rows, last_left=True))
        sw = (result.get("swings") or {}).get(name)
        if sw:
            rows = [[parameter_words(r["path"], labels),
                     f"{number_words(r['low'])}..{number_words(r['high'])}",
                     _fmt(r["change_low"], name), _fmt(r["change_high"], name), r["path"]]
                    for r in sw["params"][:top]]  # fmt: skip
            lines.append(f"  swings from the baseline {_fmt(sw['baseline'], name).lstrip('+')}:")
            lines.append(table(["parameter", "range", "at low", "at high", "path"], rows,
                               last_left=True))  # fmt: skip
    return "\n".join(lines)


def _index(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _interval(c: dict[str, float | None]) -> str:
    if c["low"] is None or c["high"] is None:
        return "-"
    return f"[{c['low']:.3f}, {c['high']:.3f}]"


# --- voting power and DEU III --------------------------------------------------------------------------


def power_table(title: str, members: tuple[str, ...], veto: Any, votes_needed: int, idx: Any,
                pivot: Any, source: str) -> str:  # fmt: skip
    """Exact Shapley-Shubik and Banzhaf indices and empirical pivotality, a row per member."""
    vetoes = [m for m, v in zip(members, veto, strict=True) if v]
    lines = [
        f"{title}: {len(members)} members, {votes_needed} votes needed, "
        f"veto: {', '.join(vetoes) or 'none'}",
        f"{'member':<8}{'Shapley-Shubik':>24}{'Banzhaf (normalised)':>26}{'pivotal':>10}",
    ]
    for k, a in enumerate(members):
        ss, bz = idx.shapley_shubik[k], idx.banzhaf[k]
        lines.append(f"{a:<8}{f'{ss} = {float(ss):.4f}':>24}{f'{bz} = {float(bz):.4f}':>26}"
                     f"{pivot[k]:>10.3f}")  # fmt: skip
    lines.append(f"pivotal: share of {source} in which the member's vote decided adoption")
    return "\n".join(lines)


def deu_table(rows: list[tuple[str, Any]]) -> str:
    """Mean and median absolute error and the share within 10 points, a row per model."""
    lines = [f"{'model':<20}{'mean error':>12}{'median error':>14}{'within 10':>11}"]
    lines += [f"{name:<20}{e.mean:>12.1f}{e.median:>14.1f}{e.within10:>11.0%}" for name, e in rows]
    return "\n".join(lines)


# --- the track record ------------------------------------------------------------------------------

FORECASTERS = ("model", "everyone_yes", "uniform", "stance", "opening_draft")
SUMMARY_ROWS = (  # (key, label, format)
    ("outcome.p_real", "P(real outcome class)", "{:.2f}"),
    ("outcome.p_real_failed_drafts", "  ... on failed drafts", "{:.2f}"),
    ("outcome.brier", "outcome Brier (lower better)", "{:.3f}"),
    ("outcome.modal_match", "outcome: modal class right", "{:.2f}"),
    ("votes.brier", "member-vote Brier (lower better)", "{:.3f}"),
    ("votes.log", "member-vote log score (lower better)", "{:.3f}"),
    ("votes.modal_match", "member votes: modal class right", "{:.2f}"),
    ("text.matched_share", "clauses of the real text matched", "{:.2f}"),
    ("text.p_real", "P(real text)", "{:.2f}"),
)


def case_label(case: dict[str, Any]) -> str:
    """A case as the tables name it: its file stem and, in brackets, the document."""
    stem = case["file"].rsplit("/", 1)[-1].removesuffix(".yaml")
    return f"{stem}, {case['document']}" if case.get("document") else stem


def backtest_table(result: dict[str, Any]) -> str:
    """Per case and over the cases: the model against the baselines, and where it loses."""
    cases = result["cases"]
    n_ind = sum(c["independent"] for c in cases)
    protocol = result["protocol"] or "as each file names it"
    lines = [
        f"Track record: {len(cases)} cases ({n_ind} independent), {result['runs_per_case']:,} "
        f"runs each, seed {result['seed']}, protocol {protocol}",
        "",
    ]
    rows = []
    for c in cases:
        m, b = c["model"], c["baselines"]
        rows.append([
            case_label(c) + ("" if c["independent"] else " *"), c["outcome"],
            f"{m['outcome']['p_real']:.2f}", f"{b['stance']['outcome']['p_real']:.0f}",
            "-" if m["votes"]["brier"] is None else f"{m['votes']['brier']:.3f}",
            "-" if b["stance"]["votes"]["brier"] is None else f"{b['stance']['votes']['brier']:.3f}",
            f"{m['text']['matched']}/{m['text']['known']}",
            f"{b['opening_draft']['text']['matched']}/{m['text']['known']}",
            f"{m['rounds_mean']:.1f}",
        ])  # fmt: skip
    lines.append(table(["case", "real", "P(real)", "stance", "vote Brier", "stance",
                        "clauses", "opening", "rounds"], rows))  # fmt: skip
    lines.append("  * not independent: written knowing the outcome (left out of the summary)")
    for scope, title in (("independent", "Independent cases"), ("all", "All cases")):
        s = result["summary"][scope]
        if not s.get("cases"):
            continue
        rows = []
        for key, label, fmt in SUMMARY_ROWS:
            cells = [fmt.format(s[f][key]) if s.get(f, {}).get(key) is not None else "-"
                     for f in FORECASTERS]  # fmt: skip
            rows.append([label, *cells])
        lines += ["", f"{title} ({s['cases']})",
                  table(["", "model", "all yes", "uniform", "stance", "opening"], rows)]  # fmt: skip
    lines += ["", "Where the model does not beat a baseline (independent cases):"]
    lines += [f"  - {x}" for x in result["not_beaten"]] or ["  - nowhere"]
    rel = [r for r in result["reliability"] if r["n"]]
    if rel:
        rows = [[f"{r['low']:.1f}-{r['high']:.1f}", f"{r['n']:,}", f"{r['predicted']:.2f}",
                 f"{r['observed']:.2f}"] for r in rel]  # fmt: skip
        lines += ["", "Reliability of member-vote forecasts (independent cases, every class)",
                  table(["predicted", "forecasts", "mean", "happened"], rows)]  # fmt: skip
    return "\n".join(lines)


def calibration_table(result: dict[str, Any]) -> str:
    """The fitted defaults and the in-sample and leave-one-case-out scores."""
    rows = [[k, f"{v:g}"] for k, v in result["fitted"].items()]
    ins, loco = result["in_sample"], result["leave_one_case_out"]
    return "\n".join([
        f"Calibrated on {len(result['cases'])} independent cases, {result['runs_per_case']:,} "
        f"runs each, seed {result['seed']}",
        table(["parameter", "fitted"], rows),
        "",
        table(["log score (lower better)", "in sample", "leave one case out"], [
            ["per recorded vote", f"{ins['vote_log']:.3f}", f"{loco['vote_log']:.3f}"],
            ["per outcome", f"{ins['outcome_log']:.3f}", f"{loco['outcome_log']:.3f}"],
        ]),
    ])  # fmt: skip


# --- shipped scenarios ---------------------------------------------------------------------------


def scenarios_table(entries: list[Any], root: Any) -> str:
    """The shipped scenarios: name (what ``stabsim run`` takes), title, what happened."""
    rows = [[e.name, e.title, e.observed or "-"] for e in entries]
    return (
        f"Scenarios shipped with stabsim ({root}); run one by name: stabsim run gaza\n\n"
        + table(["name", "title", "observed"], rows, left=3)
    )
