"""Charts of the what-if analysis in the house style (:mod:`sim.reporting.style`): the tornado of
one-at-a-time swings, Sobol' total indices (or Morris mu*) with intervals, and the largest
changes between two sweeps with their intervals.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot; titles state the
finding, computed from the numbers; parameters are named in words
(:func:`sim.analysis.naming.parameter_words`, from the scenario's ``labels``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sim.analysis.discover import describe_target
from sim.analysis.folders import Labels
from sim.analysis.naming import condition_words, number_words, parameter_words
from sim.errors import writing
from sim.experiments.folder import claim_files
from sim.reporting import style
from sim.reporting.findings import item_label, labels_in, what_changed

LABELS = {
    "adopted": "P(adopted)",
    "vetoed": "P(vetoed)",
    "viable": "P(viable force)",
    "delivered_troops": "expected delivered troops",
}


WRAP = 38  # characters per line of a parameter's words on an axis


def _words(path: str, labels: Labels | None, width: int | None = WRAP) -> str:
    words = parameter_words(path, labels)
    return textwrap.fill(words, width) if width else words


def _sentence(text: str) -> str:
    """Words that open a title: first letter upper case."""
    return text[:1].upper() + text[1:]


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    if name.startswith("option."):
        _, clause, option = name.split(".", 2)
        return f"P({clause} = {style.option_label(option)})"
    return name


def _subtitle(result: dict[str, Any]) -> str:
    return (
        f"{result['scenario']}: {result['method']} over {len(result['params'])} parameters, "
        f"{result['points']:,} points x {result['replicates']} runs, seed {result['seed']}"
    )


def _source(result: dict[str, Any]) -> str:
    return (
        "stabsim sensitivity; intervals: 95% bootstrap (SALib); swings: "
        f"{result['swing_runs']} runs per end with common seeds"
    )


def _is_count(output: str) -> bool:
    return output == "delivered_troops"


def tornado(result: dict[str, Any], output: str = "adopted", top: int = 10,
            size: Sequence[float] | None = None, note: str | None = None,
            labels: Labels | None = None) -> Figure:  # fmt: skip
    """Horizontal bars: each parameter's change in ``output`` at its low and high end against
    the baseline, largest swing on top."""
    sw = result["swings"][output]
    rows = sw["params"][:top][::-1]
    scale = 1.0 if _is_count(output) else 100.0
    unit = "troops" if _is_count(output) else "points"
    lead = sw["params"][0] if sw["params"] else None
    if lead and max(abs(lead["change_low"]), abs(lead["change_high"])) > 0:
        big = max(lead["change_low"], lead["change_high"], key=abs) * scale
        title = (f"{_sentence(_words(lead['path'], labels, None))} moves {_label(output)} "
                 f"most: up to {big:+,.0f} {unit}")  # fmt: skip
    else:
        title = f"No single parameter moves {_label(output)} on its own"
    base = sw["baseline"] * scale
    frame = style.Frame(
        title,
        _subtitle(result) + f"; baseline {base:,.1f}" + ("" if scale == 1 else "%"),
        _source(result),
        note,
    )
    fig = style.figure(frame, size or style.SLIDE)
    with style.apply_rc():
        ax = fig.add_subplot()
        y = range(len(rows))
        lows = [r["change_low"] * scale for r in rows]
        highs = [r["change_high"] * scale for r in rows]
        ax.barh(y, lows, color=style.SKY, label="parameter at its low end")
        ax.barh(y, highs, color=style.BLUE, hatch="//", label="parameter at its high end")
        ax.set_yticks(list(y), [f"{_words(r['path'], labels)}\n{number_words(r['low'])} to "
                                f"{number_words(r['high'])}" for r in rows], fontsize=8)  # fmt: skip
        ax.axvline(0, color=style.MUTED, linewidth=0.8)
        ax.set_xlabel(f"change in {_label(output)} from the baseline ({unit})")
        style.style_axes(ax)
        ax.legend(loc="lower right", fontsize=8)
    return fig


def indices(result: dict[str, Any], output: str = "adopted", top: int = 10,
            size: Sequence[float] | None = None, note: str | None = None,
            labels: Labels | None = None) -> Figure:  # fmt: skip
    """Sobol' total (and first-order) indices with 95% intervals, or Morris mu*, sorted."""
    block = result["indices"][output]["indices"]
    order = result["ranking"][output][:top][::-1]
    sobol = result["method"] == "sobol"
    key = "ST" if sobol else "mu_star"
    vals = [block[p][key] or 0.0 for p in order]
    lows = [block[p][f"{key}_ci"]["low"] for p in order]
    highs = [block[p][f"{key}_ci"]["high"] for p in order]
    err = [[max(0.0, v - (lo if lo is not None else v)) for v, lo in zip(vals, lows, strict=True)],
           [max(0.0, (hi if hi is not None else v) - v) for v, hi in zip(vals, highs, strict=True)]]  # fmt: skip
    name = "total Sobol' index" if sobol else "Morris mu*"
    if result["indices"][output]["constant"]:
        title = f"{_label(output)} does not vary over the design"
    else:
        lead = _sentence(_words(order[-1], labels, None))
        title = f"{lead} explains most of the variation in {_label(output)}" if sobol else (
            f"{lead} has the largest elementary effect on {_label(output)}")  # fmt: skip
    fig = style.figure(style.Frame(title, _subtitle(result), _source(result), note),
                       size or style.SLIDE)  # fmt: skip
    with style.apply_rc():
        ax = fig.add_subplot()
        y = list(range(len(order)))
        ax.barh(y, vals, xerr=err, color=style.BLUE, ecolor=style.INK, capsize=3, label=name)
        if sobol:
            s1 = [block[p]["S1"] or 0.0 for p in order]
            ax.scatter(s1, y, marker="D", color=style.ORANGE, zorder=3, label="first-order S1")
        ax.set_yticks(y, [_words(p, labels) for p in order], fontsize=8)
        ax.axvline(0, color=style.MUTED, linewidth=0.8)
        ax.set_xlabel(f"{name} for {_label(output)} (bars: 95% interval)")
        style.style_axes(ax)
        ax.legend(loc="lower right", fontsize=8)
    return fig


def changes(result: dict[str, Any], top: int = 12, label: str | None = None,
            size: Sequence[float] | None = None, note: str | None = None) -> Figure:  # fmt: skip
    """The largest changes between two sweeps as points with 95% intervals; flagged ones dark."""
    rows = [r for r in result["changes"] if r["change"] is not None][:top][::-1]
    labels = labels_in(result)
    names = result.get("names") or (labels.actors if labels else {})
    head = label or result.get("label") or what_changed(result["a"], result["b"], labels)
    sig = [r for r in rows if r["significant"]]
    if sig:
        r = max(sig, key=lambda r: abs(r["change"]))
        title = (f"{head}: {item_label(r['key'], names, labels)} moves "
                 f"{100 * r['change']:+.0f} points")  # fmt: skip
    else:
        title = f"{head}: nothing changes beyond noise"
    a, b = result["a"], result["b"]
    frame = style.Frame(
        title,
        f"A: {a['dir']} ({a['runs']:,} runs, seed {a['seed']})  vs  "
        f"B: {b['dir']} ({b['runs']:,} runs, seed {b['seed']})",
        f"stabsim compare; 95% intervals: {result['interval']}",
        note,
    )
    fig = style.figure(frame, size or style.SLIDE)
    with style.apply_rc():
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        for i, r in enumerate(rows):
            c = style.VERMILLION if r["change"] < 0 else style.BLUE
            colour = c if r["significant"] else style.GREY
            ax.errorbar(100 * r["change"], i, xerr=[[100 * (r["change"] - r["low"])],
                        [100 * (r["high"] - r["change"])]], fmt="o", color=colour, capsize=3)  # fmt: skip
        ax.set_yticks(y, [textwrap.fill(_sentence(item_label(r["key"], names, labels)), 45)
                          for r in rows], fontsize=8)  # fmt: skip
        ax.axvline(0, color=style.MUTED, linewidth=0.8)
        ax.set_xlabel("change B - A (percentage points); grey: interval includes 0")
        style.style_axes(ax)
    return fig


def rules(result: dict[str, Any], size: Sequence[float] | None = None,
          note: str | None = None, labels: Labels | None = None) -> Figure:  # fmt: skip
    """Scenario discovery's rules (``sim.analysis.discover``) as bars of density against the base rate,
    densest on top, each labelled with its conditions and its coverage."""
    target = describe_target(result["target"])
    rows = result["rules"][::-1]
    base = 100 * result["base_rate"]
    if rows:
        best = result["rules"][0]
        n = len(best["conditions"])
        title = (f"{target[0].upper()}{target[1:]} in {100 * best['density']:.0f}% of runs when "
                 f"{n} condition{'s' if n > 1 else ''} hold, against {base:.0f}% overall")  # fmt: skip
    else:
        title = f"No condition makes {target} more likely than its {base:.0f}% base rate"
    frame = style.Frame(
        title,
        f"{result['dir']}: {result['runs']:,} runs, {len(result['features'])} sampled "
        f"parameter(s); rules: leaves of a depth-{result['depth']} decision tree",
        f"stabsim discover --target {result['target']}; {result['method']}",
        note,
    )
    fig = style.figure(frame, size or style.SLIDE)
    with style.apply_rc():
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        dens = [100 * r["density"] for r in rows]
        ax.barh(y, dens, color=style.GREEN, height=0.6)
        for i, r in enumerate(rows):
            ax.text(dens[i] + 1, i, f"{dens[i]:.0f}%, covering {100 * r['coverage']:.0f}% of "
                    f"such runs ({r['runs']:,} runs)", va="center", fontsize=8.5)  # fmt: skip
        ax.axvline(base, color=style.VERMILLION, linestyle="--", linewidth=1.2)
        ax.text(base, len(rows) - 0.45, f" base rate {base:.0f}%", color=style.VERMILLION,
                fontsize=8.5, va="bottom")  # fmt: skip
        ax.set_yticks(y, ["\nand ".join(textwrap.fill(c, 50) for c in
                                        condition_words(r["bounds"], labels)) for r in rows],
                      fontsize=8)  # fmt: skip
        ax.set_xlim(0, 135)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_ylim(-0.6, len(rows) - 0.1 if rows else 0.5)
        ax.set_xlabel(f"share of the rule's runs with {target} (density, %)")
        style.style_axes(ax)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    """Write a PNG under a temporary name, then rename (never a half-written chart)."""
    tmp = path.with_name(f".tmp-{path.name}")
    with writing(path):
        fig.savefig(tmp, dpi=style.DPI, format="png")
        tmp.replace(path)
    return path


def save_sensitivity_charts(result: dict[str, Any], out: Path,
                            labels: Labels | None = None) -> list[Path]:  # fmt: skip
    """``tornado-<output>.png`` and ``indices-<output>.png`` for adoption and viability (listed
    in the analysis' manifest first, so --force may replace them with it)."""
    names = [f"{kind}-{output}.png" for output in ("adopted", "viable")
             for kind in ("tornado", "indices") if kind == "indices" or result.get("swings")]  # fmt: skip
    claim_files(Path(out), names)
    paths = []
    for output in ("adopted", "viable"):
        if result.get("swings"):
            fig = tornado(result, output, labels=labels)
            paths.append(_save(fig, Path(out) / f"tornado-{output}.png"))
        fig = indices(result, output, labels=labels)
        paths.append(_save(fig, Path(out) / f"indices-{output}.png"))
    return paths


def save_compare_chart(result: dict[str, Any], out: Path, label: str | None = None) -> Path:
    """``compare.png``: the largest changes with their intervals."""
    return _save(changes(result, label=label), Path(out) / "compare.png")
