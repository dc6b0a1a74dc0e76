"""Terminal tables: what the commands print. Each function takes a result as JSON (a sweep
summary, a comparison, a discovery, a sensitivity analysis) and returns the text."""

from __future__ import annotations

from typing import Any

from sim.analysis.discover import describe_target, sentence

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


def table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """A plain table: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    fmt = "  ".join(f"{{:<{w}}}" if i < left else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join("  " + line.rstrip() for line in lines)


def grid_label(grid: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in grid.items())


def summary_point(pt: dict[str, Any]) -> str:
    """One grid point's summary as terminal tables."""
    out = []
    head = f"Point {pt['point']}" + (f" ({grid_label(pt['grid'])})" if pt["grid"] else "")
    out.append(f"{head}: {pt['runs']:,} runs; 95% Wilson intervals in brackets")
    rows = [[o, pct(s), ci(s), f"{s['count']:,}"] for o, s in pt["outcomes"].items()]
    rows.append(["viable force", pct(pt["viable"]), ci(pt["viable"]), f"{pt['viable']['count']:,}"])
    rows += [
        [f"veto cast by {a}", pct(s), ci(s), f"{s['count']:,}"]
        for a, s in pt["veto_cast_by"].items()
    ]
    out += ["", "Outcome", table(["", "p", "95% CI", "runs"], rows)]
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


def summary_table(summary: dict[str, Any], point: int | None = None) -> str:
    """The summary as terminal tables: the one point, or an overview row per grid point."""
    head = (
        f"{summary['scenario']}: seed {summary['seed']}, {summary['runs_per_point']:,} runs"
        f" per point, {len(summary['points'])} point(s), protocol {summary['protocol']}"
    )
    points = summary["points"]
    if point is not None:
        return head + "\n\n" + summary_point(points[point])
    if len(points) == 1:
        return head + "\n\n" + summary_point(points[0])
    rows = [
        [
            str(p["point"]),
            grid_label(p["grid"]),
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


def discover_text(result: dict[str, Any]) -> str:
    """The base rate and each rule as a sentence."""
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
        lines.append(f"{i}. {sentence(r, t)}.")
    return "\n".join(lines)


# --- sensitivity -------------------------------------------------------------------------------------


def _fmt(x: float | None, kind: str) -> str:
    if x is None:
        return "-"
    return f"{x:+,.0f}" if kind == "delivered_troops" else f"{x:+.3f}"


def sensitivity_table(result: dict[str, Any], top: int = 10) -> str:
    """The indices and swings of each output as terminal tables, most important first."""
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
                rows.append(
                    [
                        p,
                        _index(r["ST"]),
                        _interval(r["ST_ci"]),
                        _index(r["S1"]),
                        _interval(r["S1_ci"]),
                    ]
                )
            else:
                rows.append(
                    [p, _index(r["mu_star"]), _interval(r["mu_star_ci"]), _index(r["sigma"])]
                )
        heads = (["parameter", "total ST", "95% CI", "first S1", "95% CI"] if method == "sobol"
                 else ["parameter", "mu*", "95% CI", "sigma"])  # fmt: skip
        lines.append(table(heads, rows))
        sw = (result.get("swings") or {}).get(name)
        if sw:
            rows = [[r["path"], f"{r['low']:g}..{r['high']:g}", _fmt(r["change_low"], name),
                     _fmt(r["change_high"], name)] for r in sw["params"][:top]]  # fmt: skip
            lines.append(f"  swings from the baseline {_fmt(sw['baseline'], name).lstrip('+')}:")
            lines.append(table(["parameter", "range", "at low", "at high"], rows))
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
