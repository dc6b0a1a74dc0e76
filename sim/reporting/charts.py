"""Briefing charts of a finished sweep: one function per chart, each taking the loaded results
and returning a matplotlib ``Figure`` (usable from a notebook); :func:`save` writes PNG and SVG.
Kept whole (about 900 lines): the seven charts share one frame, one registry and one set of
layout helpers, and read best side by side.

Rules:

- Probabilities, intervals and troop percentiles come from ``summary.json``; only what the
  summary does not hold (troop medians, the distribution of delivered troops and of the
  requirement, the draft round by round) is read from ``runs.parquet`` / ``paths.parquet``.
- Titles state the finding and are built from those numbers; every interval is the summary's
  95% Wilson interval; troop ranges are 5th to 95th percentiles (a 90% range).
- A chart with nothing to show (no adopted text, no contributors, no paths, no grid) still
  returns a figure that says so in words, so a report never fails on an edge case.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.analysis.folders import ClauseLabels, Labels, SweepFolder
from sim.analysis.naming import parameter_words, value_words
from sim.errors import writing
from sim.model.result import OUTCOMES
from sim.reporting import style
from sim.reporting.style import Frame, ci, num, pct

# A finished sweep, as every chart reads it (the one reader of result folders).
SweepResults = SweepFolder


# --- the frame: subtitle and source line ------------------------------------------------------


def grid_value(path: str, v: float | str, labels: Labels | None = None) -> str:
    """A grid value as a reader sees it: a number to 3 significant figures, an option by its
    label."""
    return value_words(path, v, labels) if isinstance(v, str) else style.value(v)


def grid_label(grid: dict[str, float | str], labels: Labels | None = None) -> str:
    """A grid point in words: ``France's salience on force leadership = 0.2, ...``."""
    return ", ".join(f"{parameter_words(k, labels)} = {grid_value(k, v, labels)}"
                     for k, v in grid.items())  # fmt: skip


def subtitle(res: SweepResults, point: int | None = 0) -> str:
    """What was run: scenario, runs, seed, protocol, fixed settings and the grid point (each
    parameter in words)."""
    s = res.summary
    runs = f"{s['runs_per_point']:,} run" + ("s" if s["runs_per_point"] != 1 else "")
    parts = [res.title, runs, f"seed {s['seed']}", f"protocol {s['protocol']}"]
    if s.get("set"):
        parts.append("with " + ", ".join(f"{parameter_words(k, res.labels)} = "
                                         f"{value_words(k, v, res.labels)}"
                                         for k, v in s["set"].items()))  # fmt: skip
    if point is not None and res.point(point)["grid"]:
        parts.append("at " + grid_label(res.point(point)["grid"], res.labels))
    elif point is None and s.get("grid_axes"):
        parts[1] = f"{s['runs_per_point']:,} runs at each of {len(s['points'])} grid points"
    return " · ".join(parts)


def source(res: SweepResults, what: str = "") -> str:
    """The small print: the command, the scenario file and its hash, when it finished."""
    m = res.manifest
    scen = m.get("scenario") or {}
    command = m.get("command") or "stabsim sweep"
    if len(command) > 90:
        command = command[:89] + "…"
    version = (m.get("versions") or {}).get("stabsim", "")
    bits = [f"Source: stabsim {version} simulation, {command}".replace("  ", " ")]
    if scen.get("file"):
        bits.append(
            f"scenario {Path(scen['file']).name} (sha256 {str(scen.get('sha256', ''))[:12]})"
        )
    if m.get("finished"):
        bits.append(f"finished {str(m['finished'])[:10]}")
    if what:
        bits.append(what)
    return "; ".join(bits) + "."


def _frame(res: SweepResults, title: str, point: int | None, what: str, note: str | None) -> Frame:
    return Frame(title, subtitle(res, point), source(res, what), note)


EMPTY = "nothing-to-show"


def _empty(frame: Frame, message: str, size: Sequence[float]) -> Figure:
    """A chart that states in words why there is nothing to plot (its gid says so, so the pack
    can be checked never to print one)."""
    fig = style.figure(frame, size)
    fig.set_gid(EMPTY)
    with style.apply_rc():
        ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(message, 70), ha="center", va="center", fontsize=13,
            color=style.MUTED, transform=ax.transAxes)  # fmt: skip
    return fig


def _percent_axis(ax: Any, axis: str = "x", limit: float = 100.0) -> None:
    ticks = [0, 25, 50, 75, 100]
    if axis == "x":
        ax.set_xticks(ticks, [f"{t}%" for t in ticks])
        ax.spines["bottom"].set_bounds(0, 100)
        ax.set_xlim(0, limit)
    else:
        ax.set_yticks(ticks, [f"{t}%" for t in ticks])
        ax.spines["left"].set_bounds(0, 100)
        ax.set_ylim(0, limit)


def _errorbar(ax: Any, s: dict[str, Any], y: float, horizontal: bool = True) -> None:
    """The 95% interval of summary probability ``s`` as a whisker at ``y``."""
    lo, hi = 100 * s["low"], 100 * s["high"]
    if horizontal:
        ax.plot([lo, hi], [y, y], color=style.INK, lw=1.2, solid_capstyle="butt", zorder=4)
        ax.plot([lo, lo], [y - 0.12, y + 0.12], color=style.INK, lw=1.2, zorder=4)
        ax.plot([hi, hi], [y - 0.12, y + 0.12], color=style.INK, lw=1.2, zorder=4)
    else:
        ax.plot([y, y], [lo, hi], color=style.INK, lw=1.2, zorder=4)
        ax.plot([y - 0.08, y + 0.08], [lo, lo], color=style.INK, lw=1.2, zorder=4)
        ax.plot([y - 0.08, y + 0.08], [hi, hi], color=style.INK, lw=1.2, zorder=4)


# --- 1. outcomes ------------------------------------------------------------------------------

OUTCOME_TITLES = {
    "adopted": "Adopted",
    "vetoed": "Vetoed",
    "failed": "Fails for lack of votes",
    "withdrawn": "Withdrawn before a vote",
    "no_agreement": "No agreement",
}


def outcomes_title(pt: dict[str, Any]) -> str:
    """The most likely outcome and its probability: ``Adopted in 83.0% of runs``."""
    best = max(OUTCOMES, key=lambda o: (pt["outcomes"][o]["count"], -OUTCOMES.index(o)))
    return f"{OUTCOME_TITLES[best]} in {pct(pt['outcomes'][best]['p'])} of runs"


def outcomes(res: SweepResults, point: int = 0, size: Sequence[float] = style.SLIDE,
             note: str | None = None) -> Figure:  # fmt: skip
    """How each run ended: one bar per outcome with its 95% interval and direct labels."""
    pt = res.point(point)
    frame = _frame(res, outcomes_title(pt), point, "whiskers: 95% Wilson intervals", note)
    fig = style.figure(frame, size)
    with style.apply_rc():
        ax = fig.add_subplot()
        style.style_axes(ax)
        ys = np.arange(len(OUTCOMES))[::-1]
        for y, o in zip(ys, OUTCOMES, strict=True):
            s = pt["outcomes"][o]
            ax.barh(y, 100 * s["p"], height=0.62, color=style.OUTCOME_COLOURS[o],
                    hatch=style.OUTCOME_HATCHES[o], edgecolor=style.INK, linewidth=0.6)  # fmt: skip
            _errorbar(ax, s, y)
            label = f"{pct(s['p'])}  (95% CI {ci(s)}; {s['count']:,} of {s['of']:,})"
            if o == "vetoed" and s["count"]:
                by = [f"{a} {pct(v['p'])}" for a, v in pt["veto_cast_by"].items() if v["count"]]
                label += "\nveto cast by " + ", ".join(by)
            ax.text(100 * s["high"] + 1.5, y, label, va="center", fontsize=9.5)
        ax.set_yticks(ys, [style.OUTCOME_LABELS[o] for o in OUTCOMES], fontsize=11)
        ax.tick_params(axis="y", length=0)
        _percent_axis(ax, limit=160)
        ax.set_xlabel("share of runs")
        ax.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    return fig


# --- 2. the surviving texts -------------------------------------------------------------------

TOP_TEXTS = 5
LABEL_WRAP = 34  # characters per line of a clause label on an axis


def texts_title(pt: dict[str, Any]) -> str:
    """How often the most likely text is adopted, over all runs and among adopted texts."""
    t = pt["texts"][0]
    return (f"The most likely text is adopted in {pct(t['p'])} of runs "
            f"({pct(t['share_of_adopted'])} of adopted texts)")  # fmt: skip


def texts(res: SweepResults, point: int = 0, size: Sequence[float] = style.SLIDE,
          note: str | None = None) -> Figure:  # fmt: skip
    """The top adopted texts by frequency: each one's probability with its interval above,
    and the text clause by clause below; options that differ from the first text are shaded."""
    pt = res.point(point)
    if not pt["texts"]:
        frame = _frame(res, "No text was adopted in any run", point, "", note)
        return _empty(
            frame, "No draft was adopted in this sweep, so there are no texts to rank.", size
        )
    top = pt["texts"][:TOP_TEXTS]
    frame = _frame(res, texts_title(pt), point, "whiskers: 95% Wilson intervals", note)
    fig = style.figure(frame, size)
    n, clauses = len(top), res.clauses
    with style.apply_rc():
        gs = fig.add_gridspec(2, 1, height_ratios=[1, max(2.0, 0.42 * len(clauses))])
        bar = fig.add_subplot(gs[0])
        tab = fig.add_subplot(gs[1], sharex=bar)
        xs = np.arange(n)
        for x, t in zip(xs, top, strict=True):
            bar.bar(x, 100 * t["p"], width=0.55, color=style.GREEN, edgecolor=style.INK, lw=0.6)
            _errorbar(bar, t, x, horizontal=False)
            bar.text(x, 100 * t["high"] + 2, f"{pct(t['p'])}\n({ci(t)})", ha="center",
                     va="bottom", fontsize=8.5, linespacing=1.1)  # fmt: skip
        hi = max(100 * t["high"] for t in top)
        bar.set_ylim(0, min(100.0, hi) * 1.6 + 4)
        bar.set_ylabel("share of runs")
        bar.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
        bar.tick_params(axis="x", labelbottom=False, length=0)
        bar.spines["bottom"].set_visible(False)
        bar.grid(axis="y", color="#E6E6E6", lw=0.8)
        bar.set_axisbelow(True)
        first = top[0]["text"]
        width = max(10, int(90 / n))
        for row, cl in enumerate(clauses):
            y = len(clauses) - 1 - row
            for x, t in zip(xs, top, strict=True):
                o = t["text"].get(cl.id, "")
                differs = x > 0 and o != first.get(cl.id)
                if differs:
                    tab.add_patch(_cell(x, y, "#FEE391"))
                tab.text(x, y, textwrap.fill(cl.option(o), width), ha="center", va="center",
                         fontsize=8.5, fontweight="bold" if differs else "normal")  # fmt: skip
        tab.set_yticks(range(len(clauses)), [textwrap.fill(c.label, LABEL_WRAP)
                                             for c in clauses][::-1])  # fmt: skip
        tab.set_xticks(xs, [f"text #{t['rank']}" for t in top])
        tab.xaxis.tick_top()
        tab.tick_params(length=0)
        tab.set_ylim(-0.5, len(clauses) - 0.5)
        tab.set_xlim(-0.5, n - 0.5)
        for sp in tab.spines.values():
            sp.set_visible(False)
        for y in range(len(clauses) + 1):
            tab.axhline(y - 0.5, color="#E0E0E0", lw=0.8)
        if n > 1:
            tab.set_xlabel("shaded, bold: differs from text #1", fontsize=8.5, color=style.MUTED)
    return fig


def _cell(x: float, y: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.48, y - 0.45), 0.96, 0.9, facecolor=colour, edgecolor="none", zorder=0)


# --- 3. clause by clause ------------------------------------------------------------------------

SETTLED = 0.9  # an option in at least this share of adopted texts settles its clause
# (titles say "nine in ten" in words: every digit in a title is a number from summary.json)


def open_clauses(pt: dict[str, Any], clauses: Sequence[ClauseLabels]) -> list[ClauseLabels]:
    """Clauses whose most frequent option is below :data:`SETTLED` among adopted texts."""
    out = []
    for cl in clauses:
        ps = [s["p"] or 0 for s in pt["clauses"].get(cl.id, {}).values()]
        if ps and max(ps) < SETTLED:
            out.append(cl)
    return out


def clauses_title(pt: dict[str, Any], clauses: Sequence[ClauseLabels]) -> str:
    """Which clauses are still open among adopted texts."""
    still = open_clauses(pt, clauses)
    if not still:
        return "Every clause settles on one option in at least nine adopted texts in ten"
    names = [c.label for c in still]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"Still open among adopted texts: {shown}"


def clauses(res: SweepResults, point: int = 0, size: Sequence[float] = style.SLIDE,
            note: str | None = None) -> Figure:  # fmt: skip
    """For each clause, the share of adopted texts holding each option (stacked to 100%);
    ordered options run light to dark; small options are named beside the bar."""
    pt = res.point(point)
    adopted = pt["outcomes"]["adopted"]["count"]
    if not adopted:
        frame = _frame(res, "No text was adopted in any run", point, "", note)
        return _empty(
            frame, "No draft was adopted in this sweep, so no clause has an option to show.", size
        )
    frame = _frame(res, clauses_title(pt, res.clauses), point,
                   f"shares of the {adopted:,} runs with an adopted text", note)  # fmt: skip
    fig = style.figure(frame, size)
    w_in = fig.get_size_inches()[0]
    with style.apply_rc():
        ax = fig.add_subplot()
        notes: list[tuple[int, str]] = []
        ys = np.arange(len(res.clauses))[::-1]
        for y, cl in zip(ys, res.clauses, strict=True):
            stats = pt["clauses"].get(cl.id, {})
            colours = (
                style.ramp(len(cl.options))
                if cl.kind != "unordered"
                else style.qualitative(len(cl.options))
            )
            left = 0.0
            small = []
            for o, colour in zip(cl.options, colours, strict=True):
                s = stats.get(o)
                if not s or not s["count"]:
                    continue
                w = 100 * s["p"]
                ax.barh(y, w, left=left, height=0.66, color=colour, edgecolor="white", lw=1.2)
                # about 0.075 in per character at 8.5 pt; the bar area is ~75% of the width
                room = w / 100 * 0.75 * w_in / 0.075
                words = f"{cl.option(o)} {pct(s['p'])}"
                if room >= len(words) + 1:
                    ax.text(left + w / 2, y, words, ha="center", va="center", fontsize=8.5,
                            color=style.text_on(colour))  # fmt: skip
                elif room >= len(pct(s["p"])) + 1:
                    ax.text(left + w / 2, y, pct(s["p"]), ha="center", va="center", fontsize=8.5,
                            color=style.text_on(colour))  # fmt: skip
                    small.append(f"{pct(s['p'])} = {cl.option(o)}")
                else:
                    small.append(f"{pct(s['p'])} = {cl.option(o)}")
                left += w
            if small:
                notes.append((y, "; ".join(small)))
        for y, text in notes:
            ax.text(101.5, y, text, va="center", fontsize=8, color=style.MUTED)
        longest = max((len(t) for _, t in notes), default=0)
        extra = longest * 0.068 / (0.75 * w_in) * 100
        _percent_axis(ax, limit=100 + (extra + 3 if notes else 1))
        ax.set_yticks(ys, [textwrap.fill(c.label, LABEL_WRAP) for c in res.clauses], fontsize=10)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("share of adopted texts")
        for sp in ("left",):
            ax.spines[sp].set_visible(False)
    return fig


# --- 4. the vote map ------------------------------------------------------------------------------

VOTES = ("yes", "abstain", "no")


def votes_title(pt: dict[str, Any]) -> str:
    """The members least likely to vote yes."""
    held = {m: v for m, v in pt["votes"].items() if v["voted"]}
    if not held:
        return "No draft was put to a vote in any run"
    low = [m for m in sorted(held, key=lambda m: (held[m]["yes"]["p"], m))[:2]
           if held[m]["yes"]["p"] < 1]  # fmt: skip
    if not low:
        return "Every member votes yes in every vote held"
    parts = [f"{m} ({pct(held[m]['yes']['p'])} of votes)" for m in low[:1]]
    parts += [f"{m} ({pct(held[m]['yes']['p'])})" for m in low[1:]]
    return "Least likely to vote yes: " + ", ".join(parts)


def votes(res: SweepResults, point: int = 0, size: Sequence[float] = style.SLIDE,
          note: str | None = None) -> Figure:  # fmt: skip
    """Each Council member's share of yes / abstain / no over the runs with a vote; permanent
    members first, in bold, under their own heading."""
    pt = res.point(point)
    if not has_data(res, "votes", point):
        return _empty(_frame(res, votes_title(pt), point, "", note), "No draft was put to the "
                      "vote in any run (every run was withdrawn or ended without agreement), so "
                      "there are no votes to show.", size)  # fmt: skip
    frame = _frame(
        res, votes_title(pt), point, "shares of the runs in which a draft was put to the vote", note
    )
    fig = style.figure(frame, size)
    members = list(pt["votes"])
    perm = [m for m in members if m in res.permanent]
    elected = [m for m in members if m not in res.permanent]
    rows: list[tuple[str, str | None]] = []  # (label, member or None for a heading)
    if perm:
        rows.append(("Permanent members (veto)", None))
        rows += [(m, m) for m in perm]
    if elected:
        rows.append(("Elected members", None))
        rows += [(m, m) for m in elected]
    with style.apply_rc():
        ax = fig.add_subplot()
        ys = np.arange(len(rows))[::-1]
        labels = []
        for y, (label, m) in zip(ys, rows, strict=True):
            if m is None:
                labels.append(label)
                continue
            name = res.names.get(m, "")
            labels.append(f"{name} ({m})" if name and name != m else m)
            v = pt["votes"][m]
            if not v["voted"]:
                ax.text(1, y, "no vote held", va="center", fontsize=9, color=style.MUTED)
                continue
            left = 0.0
            for k in VOTES:
                w = 100 * v[k]["p"]
                if w <= 0:
                    continue
                ax.barh(y, w, left=left, height=0.7, color=style.VOTE_COLOURS[k],
                        hatch=style.VOTE_HATCHES[k], edgecolor="white", lw=0.8)  # fmt: skip
                if w >= 7:
                    ax.text(left + w / 2, y, pct(v[k]["p"]), ha="center", va="center", fontsize=8.5,
                            color=style.VOTE_TEXT[k],
                            bbox={"boxstyle": "round,pad=0.15", "fc": style.VOTE_COLOURS[k],
                                  "ec": "none"})  # fmt: skip
                left += w
            no = v["no"]
            if no["count"] and 100 * no["p"] < 7:
                word = "veto" if m in res.permanent else "no"
                ax.text(101.5, y, f"{word} {pct(no['p'])}", va="center", fontsize=8,
                        color=style.VERMILLION)  # fmt: skip
        ax.set_yticks(ys, labels, fontsize=9)
        for tick, (_, m) in zip(ax.get_yticklabels(), rows, strict=True):
            if m is None:
                tick.set(fontweight="bold", color=style.MUTED, fontsize=9.5)
            elif m in res.permanent:
                tick.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        _percent_axis(ax, limit=112)
        ax.set_xlabel("share of votes held")
        handles = [Patch(facecolor=style.VOTE_COLOURS[k], hatch=style.VOTE_HATCHES[k],
                         edgecolor="white", label=k) for k in VOTES]  # fmt: skip
        ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(100 / 112, 1.0), ncols=3,
                  fontsize=9.5, handlelength=2.2, handleheight=1.2, borderaxespad=0.2)  # fmt: skip
    return fig


# --- 5. the coalition -------------------------------------------------------------------------------


def coalition_title(pt: dict[str, Any]) -> str:
    """How often the force is viable."""
    v = pt["viable"]
    return f"A viable force in {pct(v['p'])} of runs (95% CI {ci(v)})"


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table[name].to_numpy(zero_copy_only=False)


def coalition(res: SweepResults, point: int = 0, size: Sequence[float] = style.SLIDE,
              note: str | None = None) -> Figure:  # fmt: skip
    """Who joins the force and with how many troops, and total delivered troops against the
    requirement: joining probability with its interval; delivered troops when joined (median,
    5th–95th percentile) beside the pledge; the distribution of the total over all runs."""
    pt = res.point(point)
    contributors = list(pt["contributors"])
    if not contributors:
        frame = _frame(res, "No troop contributors in this scenario", point, "", note)
        return _empty(frame, "The scenario names no troop contributors, so there is no force to "
                             "form; add troops: to an actor to model one.", size)  # fmt: skip
    frame = _frame(res, coalition_title(pt), point,
                   "joining: 95% Wilson intervals; troops: median and 5th–95th percentile", note)  # fmt: skip
    fig = style.figure(frame, size)
    runs = res.runs_at(point)
    with style.apply_rc():
        gs = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.2, 1.6])
        join = fig.add_subplot(gs[0])
        troops = fig.add_subplot(gs[1], sharey=join)
        total = fig.add_subplot(gs[2])
        ys = np.arange(len(contributors))[::-1]
        for y, c in zip(ys, contributors, strict=True):
            s = pt["contributors"][c]["joins"]
            join.barh(y, 100 * s["p"], height=0.6, color=style.BLUE, edgecolor=style.INK, lw=0.5)
            _errorbar(join, s, y)
            join.text(100 * s["high"] + 3, y, pct(s["p"]), va="center", fontsize=8.5)
            joined = _column(runs, f"joined.{c}").astype(bool)
            for kind, marker, fill in (("pledged", "o", "white"), ("delivered", "o", style.BLUE)):
                spread_ = pt["contributors"][c][f"{kind}_when_joined"]
                if not spread_["n"]:
                    continue
                med = float(np.median(_column(runs, f"{kind}.{c}")[joined]))
                off = 0.14 if kind == "pledged" else -0.14
                troops.plot(
                    [spread_["p5"], spread_["p95"]],
                    [y + off, y + off],
                    color=style.BLUE if kind == "delivered" else style.GREY,
                    lw=2,
                )
                troops.plot(
                    med, y + off, marker=marker, ms=6, mfc=fill, mec=style.INK, ls="none", zorder=5
                )
            if not pt["contributors"][c]["joins"]["count"]:
                troops.text(0.02, y, "never joins", va="center", fontsize=8, color=style.MUTED,
                            transform=troops.get_yaxis_transform())  # fmt: skip
        labels = [
            f"{res.names.get(c, c)} ({c})" if res.names.get(c, c) != c else c for c in contributors
        ]
        join.set_yticks(ys, labels, fontsize=9)
        join.tick_params(axis="y", length=0)
        _percent_axis(join, limit=125)
        join.set_xticks([0, 50, 100], ["0%", "50%", "100%"])
        join.set_xlabel("probability of joining")
        join.set_title("Joins the force", loc="left", fontsize=10)
        style.style_axes(join)
        troops.tick_params(axis="y", labelleft=False, length=0)
        most = max(
            (pt["contributors"][c]["pledged_when_joined"]["p95"] or 0 for c in contributors),
            default=0,
        )
        troops.set_xlim(0, max(most, 1.0) * 1.1)
        troops.xaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        troops.set_xlabel("troops when joined")
        troops.set_title("Troops: ○ pledged, ● delivered", loc="left", fontsize=10)
        style.style_axes(troops)
        join.set_ylim(-0.6, len(contributors) - 0.4)
        _total_panel(total, runs, pt)
    return fig


RATIO_TOP = 2.0  # the last bar holds every run that delivers twice its requirement or more


def delivered_share(runs: pa.Table) -> np.ndarray:
    """Each run's delivered troops divided by that run's own requirement (inf where the run
    requires none)."""
    delivered = _column(runs, "delivered_troops").astype(float)
    required = _column(runs, "troops_required").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(required > 0, delivered / np.where(required > 0, required, 1), np.inf)


def _total_panel(ax: Any, runs: pa.Table, pt: dict[str, Any]) -> None:
    """Each run's delivered troops as a share of its own requirement, stacked by whether the
    run's force is viable (a line at 1: the requirement met), so the viable share is the blue
    bars' share of all runs, all right of the line."""
    share = delivered_share(runs)
    viable = _column(runs, "viable").astype(bool)
    required = _column(runs, "troops_required").astype(float)
    step = RATIO_TOP / 20
    bins = np.append(np.arange(0, RATIO_TOP + step / 2, step), RATIO_TOP + step)
    clipped = np.minimum(share, RATIO_TOP + step / 2)
    n = max(len(share), 1)
    _, _, bars = ax.hist([clipped[viable], clipped[~viable]], bins=bins, stacked=True,
                         weights=[np.full(viable.sum(), 100 / n), np.full((~viable).sum(), 100 / n)],
                         color=[style.BLUE, style.LIGHT], edgecolor="white", lw=0.5,
                         label=["viable", "not viable"])  # fmt: skip
    for patch in bars[1]:
        patch.set(hatch="//", edgecolor=style.GREY)
    ax.axvline(1.0, color=style.VERMILLION, lw=2, ls="--", zorder=5)
    top = max((p.get_y() + p.get_height() for group in bars for p in group), default=0.0)
    ax.set_ylim(0, max(top, 1.0) * 2.1)  # room above the bars for the two notes
    enough = float(np.mean(share >= 1)) if len(share) else 0.0
    v = pt["viable"]
    ax.text(0.02, 0.98, f"viable in {pct(v['p'])} of runs\n(95% CI {ci(v)})", transform=ax.transAxes,
            ha="left", va="top", fontsize=10, fontweight="bold", zorder=7,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": style.MUTED})  # fmt: skip
    r5, r50, r95 = np.percentile(required, [5, 50, 95]) if len(required) else (0, 0, 0)
    req = (f"required: median {num(r50)} (90%: {num(r5)}–{num(r95)})" if r95 > r5
           else f"required: {num(r50)} troops")  # fmt: skip
    ax.text(0.02, 0.80, f"right of the line: enough troops ({pct(enough)} of runs)\n"
            f"blue: and a lead nation = viable\n{req}", transform=ax.transAxes,
            va="top", ha="left", fontsize=8.5, color=style.INK, linespacing=1.3, zorder=6,
            bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none"})  # fmt: skip
    ticks = np.arange(0, RATIO_TOP + 0.01, 0.5)
    ax.set_xticks([*ticks, RATIO_TOP + step / 2],
                  [f"{t:g}" for t in ticks] + [f"≥{RATIO_TOP:g}"])  # fmt: skip
    ax.get_xticklabels()[-2].set_visible(False)  # the overflow bar's label stands for it
    ax.set_xlim(0, RATIO_TOP + step * 1.2)
    ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0f}%")
    ax.set_xlabel("delivered ÷ required troops, per run")
    ax.set_ylabel("share of runs")
    ax.set_gid("delivered-share")
    ax.set_title("Each run: delivered ÷ required troops", loc="left", fontsize=10)


# --- 6. the negotiation path -------------------------------------------------------------------


def path_clauses(res: SweepResults) -> list[ClauseLabels]:
    """The clauses whose options have an order (ordered and scale), which a path can chart."""
    return [c for c in res.clauses if c.kind in ("ordered", "scale") and len(c.options) > 1]


def first_round(res: SweepResults, point: int = 0) -> int:
    """The first round the paths hold: 0, the opening draft (sweeps write it), or 1 in folders
    written before they did."""
    assert res.paths is not None
    rnd = _column(res.paths.filter(pc.equal(res.paths["point"], point)), "round")
    return int(rnd.min()) if len(rnd) else 0


def path_matrix(res: SweepResults, cl: ClauseLabels, point: int = 0) -> np.ndarray:
    """Option index of the draft per run (rows) and round (columns, from :func:`first_round`:
    column 0 is the opening draft); a run that ended keeps its final draft in later rounds."""
    assert res.paths is not None
    t = res.paths.filter(pc.equal(res.paths["point"], point))
    run = _column(t, "run")
    rnd = _column(t, "round")
    if not len(run):
        return np.zeros((0, 0))
    index = {o: i for i, o in enumerate(cl.options)}
    opt = np.array([index.get(o, -1) for o in t[f"text.{cl.id}"].to_pylist()], dtype=float)
    runs_u, row = np.unique(run, return_inverse=True)
    r0, width = int(rnd.min()), int(rnd.max() - rnd.min()) + 1
    m = np.full((len(runs_u), width), np.nan)
    m[row, rnd - r0] = opt
    for j in range(1, width):  # carry the last draft forward
        gap = np.isnan(m[:, j])
        m[gap, j] = m[gap, j - 1]
    return m


def path_active(res: SweepResults, point: int = 0) -> np.ndarray:
    """Runs still negotiating in each round (index 0 = :func:`first_round`; at the opening
    draft, every run)."""
    assert res.paths is not None
    rnd = _column(res.paths.filter(pc.equal(res.paths["point"], point)), "round")
    return np.bincount(rnd - rnd.min()) if len(rnd) else np.zeros(1, dtype=int)


def _label_every(names: Sequence[str], spacing: float, size: float = 8.0) -> int:
    """Label every k-th of ticks ``spacing`` inches apart so that labels of ``names`` (lines
    of ``size`` points) do not run into each other: a long scale shows every few steps."""
    lines = max((n.count("\n") + 1 for n in names), default=1)
    tall = lines * size * 1.25 / 72 + 0.03
    return max(1, int(np.ceil(tall / max(spacing, 1e-6))))


def _two_lines(text: str, widths: Sequence[int] = (13, 16, 20, 24)) -> str:
    """An option's name on at most two short lines where it can be (a three-line label runs
    into its neighbour on a small panel): wrapped at the narrowest width that does."""
    for width in widths:
        lines = textwrap.wrap(text, width)
        if len(lines) <= 2:
            break
    return "\n".join(lines)


def path(res: SweepResults, point: int = 0, size: Sequence[float] = style.SLIDE,
         note: str | None = None) -> Figure:  # fmt: skip
    """The draft round by round, for each ordered or scale clause: median position across runs,
    with the middle 50% and 90% of runs as bands."""
    cls = path_clauses(res)
    if res.paths is None or not cls:
        why = ("Negotiation paths were not recorded in this sweep: rerun it with --paths."
               if res.paths is None else "The scenario has no ordered or scale clause to chart.")  # fmt: skip
        return _empty(_frame(res, "Negotiation path not available", point, "", note), why, size)
    mats = {c.id: path_matrix(res, c, point) for c in cls}
    active = path_active(res, point)
    r0 = first_round(res, point)
    start = "the opening draft" if r0 == 0 else "the first round"
    shown = max(1, int(np.flatnonzero(active >= 0.01 * active[0]).max(initial=0)) + 1)
    mats = {k: m[:, :shown] for k, m in mats.items()}
    moved = [
        c
        for c in cls
        if mats[c.id].size and np.median(mats[c.id][:, 0]) != np.median(mats[c.id][:, -1])
    ]
    if moved:
        named = [c.label for c in moved[:3]]
        said = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        title = f"The talks move the draft away from {start} on {said}"
    else:
        title = f"The median draft holds its position from {start} to the vote"
    frame = _frame(
        res,
        title,
        point,
        "open: the opening draft, before any round; bands: middle 50% and 90% of runs; a run that "
        "ended keeps its final draft; rounds reached by under 1% of runs not shown",
        note,
    )
    fig = style.figure(frame, size)
    ncols = min(3, len(cls))
    nrows = -(-len(cls) // ncols)
    # inches of one panel's y axis: its row less the panel title, round labels and axis label
    row_in = (style.plot_height(fig) - 0.35) / (nrows + 0.08) - 0.75
    with style.apply_rc():
        gs = fig.add_gridspec(nrows + 1, ncols, height_ratios=[0.08] + [1.0] * nrows)
        key = fig.add_subplot(gs[0, :])
        key.set_axis_off()
        axes = np.array(
            [[fig.add_subplot(gs[r + 1, c]) for c in range(ncols)] for r in range(nrows)]
        )
        for ax, cl in zip(axes.flat, cls, strict=False):
            m = mats[cl.id]
            rounds = np.arange(r0, r0 + m.shape[1])
            edges = np.append(rounds - 0.5, rounds[-1] + 0.5)
            q = np.nanpercentile(m, [5, 25, 50, 75, 95], axis=0, method="nearest")

            def stepped(v: np.ndarray) -> np.ndarray:
                return np.append(v, v[-1])

            ax.fill_between(edges, stepped(q[0]), stepped(q[4]), step="post", color=style.SKY,
                            alpha=0.35, lw=0, label="90% of runs")  # fmt: skip
            ax.fill_between(edges, stepped(q[1]), stepped(q[3]), step="post", color=style.BLUE,
                            alpha=0.45, lw=0, label="50% of runs")  # fmt: skip
            ax.step(edges, stepped(q[2]), where="post", color=style.INK, lw=2.2, label="median")
            names = [_two_lines(cl.option(o)) for o in cl.options]
            k = _label_every(names, row_in / (len(cl.options) - 0.2))
            ax.set_yticks(range(len(cl.options)),
                          [t if i % k == 0 else "" for i, t in enumerate(names)], fontsize=8)  # fmt: skip
            ax.set_ylim(-0.4, len(cl.options) - 0.6)
            ax.set_xlim(edges[0], edges[-1])
            ax.set_xticks(rounds, [f"{'open' if r == 0 else r}\n{n:,}"
                                   for r, n in zip(rounds, active, strict=False)], fontsize=8)  # fmt: skip
            ax.set_title(cl.label, loc="left", fontsize=10)
            ax.grid(axis="y", color="#EEEEEE", lw=0.8)
            ax.set_axisbelow(True)
        for ax in axes.flat[len(cls) :]:
            ax.set_axis_off()
        for ax in axes[-1]:
            if ax.axison:
                ax.set_xlabel("round (runs still negotiating)", fontsize=9)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        key.legend(handles, labels, loc="center left", ncols=3, fontsize=9, borderaxespad=0)
    return fig


# --- 7. grid sweeps -------------------------------------------------------------------------------


def grid_title(res: SweepResults) -> str:
    """Adoption and viability at the two ends of the grid."""
    pts = res.summary["points"]
    a0, a1 = pts[0]["outcomes"]["adopted"]["p"], pts[-1]["outcomes"]["adopted"]["p"]
    v0, v1 = pts[0]["viable"]["p"], pts[-1]["viable"]["p"]
    if len(pts) == 1:
        return f"Adopted in {pct(a0)} of runs, viable force in {pct(v0)}, at the one grid point"

    def move(a: float | None, b: float | None) -> str:
        return f"stays at {pct(a)}" if pct(a) == pct(b) else f"{pct(a)} → {pct(b)}"

    return f"Adoption {move(a0, a1)}, viable force {move(v0, v1)}, first to last grid point"


def every(labels: Sequence[str], room: float, size: float = 10.0, gap: float = 0.15) -> int:
    """Label every k-th of evenly spaced ticks so that none collides: ``room`` inches hold the
    ticks, each label as wide as the widest at ``size`` points plus ``gap`` inches."""
    if len(labels) < 2:
        return 1
    widest = max(style.text_width(t, size) for t in labels) + gap
    return max(1, int(np.ceil(widest / (room / (len(labels) - 1)))))


def _ticks(ax: Any, axis: str, text: Sequence[str], room: float, at: Any) -> None:
    """Ticks at every place ``at``, labelled ``text`` at every k-th (:func:`every`; the first
    always), so that labels ``room`` inches apart in all do not collide."""
    k = every(text, room) if axis == "x" else max(1, int(np.ceil(0.22 / (room / len(text)))))
    shown = [t if i % k == 0 else "" for i, t in enumerate(text)]
    setter = ax.set_xticks if axis == "x" else ax.set_yticks
    setter(list(at), shown)


def grid(res: SweepResults, point: int | None = None, size: Sequence[float] = style.SLIDE,
         note: str | None = None) -> Figure:  # fmt: skip
    """Adoption and a viable force against the varied parameter, with 95% bands (one axis), or
    as two heat maps (two axes)."""
    axes_ = res.summary.get("grid_axes") or []
    if not axes_:
        frame = _frame(res, "No grid in this sweep", None, "", note)
        return _empty(frame, "This sweep ran one point. Add --vary PATH=START:STOP:STEPS to see "
                             "how adoption and the force move with a parameter.", size)  # fmt: skip
    what = ("bands and whiskers: 95% Wilson intervals" if len(axes_) == 1
            else "cells: probability (95% Wilson interval, in %, where the cells have room)")  # fmt: skip
    frame = _frame(res, grid_title(res), None, what, note)
    fig = style.figure(frame, size)
    pts = res.summary["points"]
    series = {
        "adopted": [p["outcomes"]["adopted"] for p in pts],
        "viable": [p["viable"] for p in pts],
    }
    names = {"adopted": "Adopted", "viable": "Viable force"}
    with style.apply_rc():
        if len(axes_) == 1:
            ax = fig.add_subplot()
            style.style_axes(ax)
            ax.grid(axis="y", color="#E6E6E6", lw=0.8)
            vals = [p["grid"][axes_[0]["path"]] for p in pts]
            labels = [grid_value(axes_[0]["path"], v, res.labels) for v in vals]
            categorical = any(isinstance(v, str) for v in vals)  # options: evenly spaced
            x = np.arange(len(vals), dtype=float) if categorical else np.array(vals, dtype=float)
            for key, ss in series.items():
                p = np.array([100 * (s["p"] or 0) for s in ss])
                lo = np.array([100 * s["low"] for s in ss])
                hi = np.array([100 * s["high"] for s in ss])
                c = style.SERIES[key]
                if len(x) > 1:
                    ax.fill_between(x, lo, hi, color=c, alpha=0.18, lw=0)
                else:
                    ax.errorbar(x, p, yerr=[p - lo, hi - p], color=c, capsize=4, ls="none")
                ax.plot(x, p, color=c, ls=style.SERIES_STYLES[key], marker=style.SERIES_MARKERS[key],
                        ms=6, lw=2, mfc="white" if key == "viable" else c)  # fmt: skip
                ax.annotate(f"{names[key]} {pct(ss[-1]['p'])}", (x[-1], p[-1]), xytext=(8, 0),
                            textcoords="offset points", va="center", fontsize=10, color=c,
                            fontweight="bold", annotation_clip=False)  # fmt: skip
            _percent_axis(ax, "y", limit=104)
            span = x.max() - x.min() or 1.0
            ax.set_xlim(x.min() - 0.04 * span, x.max() + 0.3 * span)
            w_in = fig.get_size_inches()[0]
            _ticks(ax, "x", labels, room=(w_in - 1.6) / 1.34, at=x)  # values: 1/1.34 of the axis
            ax.spines["bottom"].set_bounds(x.min(), x.max())
            ax.set_xlabel(parameter_words(axes_[0]["path"], res.labels))
            ax.set_ylabel("share of runs")
        elif len(axes_) > 2:
            _ranked_points(fig, res, axes_, series, names)
        else:
            xs, ys = axes_[0]["values"], axes_[1]["values"]
            panels = fig.subplots(1, 2)
            w_in, h_in = fig.get_size_inches()
            cell_w = (w_in - 2.8) / 2 / len(xs)  # inches per cell, about
            cell_h = (h_in - 2.4) / len(ys)
            spell = cell_w >= 0.5 and cell_h >= 0.3  # room to write each cell's numbers
            for ax, (key, ss) in zip(panels, series.items(), strict=True):
                z = np.array([100 * (s["p"] or 0) for s in ss]).reshape(len(xs), len(ys)).T
                im = ax.imshow(z, origin="lower", cmap="cividis", vmin=0, vmax=100, aspect="auto")
                for i in range(len(ys) if spell else 0):
                    for j in range(len(xs)):
                        s = ss[j * len(ys) + i]
                        ax.text(j, i, f"{pct(s['p'])}\n({100 * s['low']:.0f}–{100 * s['high']:.0f})",
                                ha="center", va="center", fontsize=7.5,
                                color="white" if z[i, j] < 55 else style.INK)  # fmt: skip
                _ticks(ax, "x", [grid_value(axes_[0]["path"], v, res.labels) for v in xs],
                       cell_w * (len(xs) - 1), at=range(len(xs)))  # fmt: skip
                _ticks(ax, "y", [grid_value(axes_[1]["path"], v, res.labels) for v in ys],
                       cell_h * len(ys), at=range(len(ys)))  # fmt: skip
                ax.set_xlabel(textwrap.fill(parameter_words(axes_[0]["path"], res.labels), 45))
                ax.set_ylabel(textwrap.fill(parameter_words(axes_[1]["path"], res.labels), 35))
                ax.set_title(f"P({names[key].lower()})", loc="left", fontsize=10)
                for sp in ax.spines.values():
                    sp.set_visible(False)
            cb = fig.colorbar(im, ax=list(panels), shrink=0.85, pad=0.02)
            cb.set_ticks([0, 25, 50, 75, 100], labels=["0%", "25%", "50%", "75%", "100%"])
            cb.outline.set_visible(False)
    return fig


GRID_SHOWN = 24  # grid points a chart of three or more axes labels (the extremes)


def _ranked_points(fig: Figure, res: SweepResults, axes_: list[dict], series: dict,
                   names: dict[str, str]) -> None:  # fmt: skip
    """Three or more axes: every point's chances as dots with 95% whiskers, ranked by the
    chance of adoption; beyond GRID_SHOWN points only the highest and lowest are shown."""
    n = len(series["adopted"])
    order = sorted(range(n), key=lambda i: (-(series["adopted"][i]["p"] or 0), i))
    if n > GRID_SHOWN:
        order = order[: GRID_SHOWN // 2] + order[-GRID_SHOWN // 2 :]
    pts = res.summary["points"]
    ax = fig.add_subplot()
    style.style_axes(ax)
    y = np.arange(len(order))[::-1]
    for k, (key, ss) in enumerate(series.items()):
        p = np.array([100 * (ss[i]["p"] or 0) for i in order])
        lo = np.array([100 * ss[i]["low"] for i in order])
        hi = np.array([100 * ss[i]["high"] for i in order])
        c = style.SERIES[key]
        ax.errorbar(p, y + (0.15 - 0.3 * k), xerr=[p - lo, hi - p], ls="none", color=c,
                    marker=style.SERIES_MARKERS[key], ms=5, capsize=2,
                    mfc="white" if key == "viable" else c, label=names[key])  # fmt: skip
    labels = [", ".join(grid_value(a["path"], pts[i]["grid"][a["path"]], res.labels)
                        for a in axes_) for i in order]  # fmt: skip
    ax.set_yticks(y, labels, fontsize=7)
    _percent_axis(ax, "x", limit=104)
    shown = f" (the {GRID_SHOWN // 2} highest and lowest of {n})" if n > GRID_SHOWN else ""
    ax.set_xlabel("share of runs")
    said = ", ".join(parameter_words(a["path"], res.labels) for a in axes_)
    ax.set_ylabel(textwrap.fill("grid point: " + said + shown, 60), fontsize=8)
    ax.legend(loc="lower right", frameon=False, fontsize=9)


# --- registry and saving --------------------------------------------------------------------------

Chart = Callable[..., Figure]
CHARTS: dict[str, Chart] = {
    "outcomes": outcomes,
    "texts": texts,
    "clauses": clauses,
    "votes": votes,
    "coalition": coalition,
    "path": path,
    "grid": grid,
}


def has_data(res: SweepResults, name: str, point: int = 0) -> bool:
    """Whether chart ``name`` has something to plot (else it only states why not)."""
    pt = res.point(point)
    return {
        "outcomes": True,
        "texts": bool(pt["texts"]),
        "clauses": bool(pt["outcomes"]["adopted"]["count"]),
        "votes": any(v["voted"] for v in pt["votes"].values()),
        "coalition": bool(pt["contributors"]),
        "path": res.paths is not None and bool(path_clauses(res)),
        "grid": bool(res.summary.get("grid_axes")),
    }[name]


def save(fig: Figure, stem: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``fig`` as ``stem.png`` (200 dpi) and ``stem.svg``; return the paths written."""
    out = []
    with writing(stem.parent):
        stem.parent.mkdir(parents=True, exist_ok=True)
    with style.apply_rc():
        for fmt in formats:
            path_ = stem.with_suffix(f".{fmt}")
            with writing(path_):
                fig.savefig(path_, format=fmt, dpi=style.DPI, facecolor="white",
                            metadata={"Software": "stabsim"} if fmt == "png" else None)  # fmt: skip
            out.append(path_)
    return out
