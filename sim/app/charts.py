"""The explorer's charts, in the house style (:mod:`sim.reporting.style`): the odds with their
change against the unchanged scenario, and each member's votes.

Rules: the changed scenario's probability is the bar (with its 95% Wilson whisker), the
unchanged scenario's a hollow diamond on the same row; a label gives both and the change in
points. Titles state the finding; an estimate before all runs are in says so in its subtitle.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.app.odds import Odds
from sim.model.result import OUTCOMES
from sim.model.voting import VOTE_NAMES
from sim.reporting import style
from sim.reporting.style import Frame, pct

SIZE = (7.2, 4.4)  # inches: a panel of the page, pasted at 100 dpi
ROWS = (*OUTCOMES, "viable")


def change(p: float | None, base: float | None) -> str:
    """A change in percentage points: ``+4.2 pts``, ``-0.3 pts``, ``±0 pts``."""
    if p is None or base is None:
        return ""
    d = 100 * (p - base)
    return "±0 pts" if abs(d) < 0.05 else f"{d:+.1f} pts"


def subtitle(odds: Odds, scenario: str, seed: int) -> str:
    state = "" if odds.final else f" (first estimate; {odds.of:,} on the way)"
    return f"{scenario} · {odds.runs:,} runs{state} · seed {seed}"


def odds_title(odds: Odds, base: Odds | None) -> str:
    """The chance of adoption, and how far the changes moved it."""
    p = odds.p("adopted")
    if base is None or base is odds:
        return f"Adopted in {pct(p)} of runs"
    return f"Adopted in {pct(p)} of runs ({change(p, base.p('adopted'))} against the file)"


def odds_chart(odds: Odds, base: Odds | None, scenario: str, seed: int,
               size: Sequence[float] = SIZE) -> Figure:  # fmt: skip
    """Outcome probabilities and the force's viability, against the unchanged scenario."""
    frame = Frame(odds_title(odds, base), subtitle(odds, scenario, seed),
                  "stabsim app · bars: with your changes (whiskers: 95% Wilson intervals) · "
                  "◇: the scenario as the file has it")  # fmt: skip
    fig = style.figure(frame, size)
    with style.apply_rc():
        ax = fig.add_subplot()
        style.style_axes(ax)
        ys = np.arange(len(ROWS))[::-1]
        for y, name in zip(ys, ROWS, strict=True):
            s = odds.viable if name == "viable" else odds.outcomes[name]
            colour = style.SERIES["viable"] if name == "viable" else style.OUTCOME_COLOURS[name]
            hatch = "" if name == "viable" else style.OUTCOME_HATCHES[name]
            ax.barh(y, 100 * (s["p"] or 0), height=0.62, color=colour, hatch=hatch,
                    edgecolor=style.INK, linewidth=0.6)  # fmt: skip
            lo, hi = 100 * s["low"], 100 * s["high"]
            ax.plot([lo, hi], [y, y], color=style.INK, lw=1.1, zorder=4)
            label = pct(s["p"])
            if base is not None and base is not odds:
                b = base.p(name)
                ax.plot([100 * (b or 0)], [y], marker="D", ms=6.5, mfc="white", mec=style.INK,
                        mew=1.2, zorder=5, ls="none")  # fmt: skip
                label += f"  (file {pct(b)}, {change(s['p'], b)})"
            ax.text(max(hi, 100 * (base.p(name) or 0) if base else 0) + 2, y, label,
                    va="center", fontsize=9)  # fmt: skip
        labels = [*(style.OUTCOME_LABELS[o] for o in OUTCOMES), "Viable force"]
        ax.set_yticks(ys, labels, fontsize=9.5)
        ax.tick_params(axis="y", length=0)
        ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.spines["bottom"].set_bounds(0, 100)
        ax.set_xlim(0, 165)
        ax.set_ylim(-0.6, len(ROWS) - 0.4)
        ax.set_xlabel("share of runs")
    return fig


def votes_title(odds: Odds) -> str:
    """The member least likely to vote yes."""
    held = {m: v for m, v in odds.votes.items() if v["voted"]}
    if not held:
        return "No draft was put to a vote in any run"
    m = min(held, key=lambda k: (held[k]["yes"]["p"], k))
    return f"Least likely to vote yes: {m} ({pct(held[m]['yes']['p'])} of votes)"


def votes_chart(odds: Odds, base: Odds | None, members: Sequence[str], permanent: Sequence[str],
                scenario: str, seed: int, size: Sequence[float] = SIZE) -> Figure:  # fmt: skip
    """Each member's yes / abstain / no shares over the runs with a vote; the unchanged
    scenario's yes share as a diamond."""
    frame = Frame(votes_title(odds), subtitle(odds, scenario, seed),
                  "stabsim app · shares of the runs in which the member voted · "
                  "◇: yes share as the file has it")  # fmt: skip
    fig = style.figure(frame, size)
    with style.apply_rc():
        ax = fig.add_subplot()
        ys = np.arange(len(members))[::-1]
        for y, m in zip(ys, members, strict=True):
            v = odds.votes.get(m)
            if not v or not v["voted"]:
                ax.text(1, y, "no vote held", va="center", fontsize=8, color=style.MUTED)
                continue
            left = 0.0
            for k in VOTE_NAMES:
                w = 100 * v[k]["p"]
                ax.barh(y, w, left=left, height=0.72, color=style.VOTE_COLOURS[k],
                        hatch=style.VOTE_HATCHES[k], edgecolor="white", lw=0.6)  # fmt: skip
                left += w
            b = base.votes.get(m) if base is not None and base is not odds else None
            if b and b["voted"]:
                ax.plot([100 * b["yes"]["p"]], [y], marker="D", ms=5.5, mfc="white",
                        mec=style.INK, mew=1.1, ls="none", zorder=5)  # fmt: skip
            ax.text(101.5, y, f"yes {pct(v['yes']['p'])}", va="center", fontsize=8)
        ax.set_yticks(ys, list(members), fontsize=8.5)
        for tick, m in zip(ax.get_yticklabels(), members, strict=True):
            if m in permanent:
                tick.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.spines["bottom"].set_bounds(0, 100)
        ax.set_xlim(0, 118)
        ax.set_xlabel("share of votes held (permanent members in bold)")
        handles: list = [Patch(facecolor=style.VOTE_COLOURS[k], hatch=style.VOTE_HATCHES[k],
                               edgecolor="white", label=k) for k in VOTE_NAMES]  # fmt: skip
        if base is not None and base is not odds:
            handles.append(Line2D([], [], marker="D", mfc="white", mec=style.INK, ls="none",
                                  label="yes, file"))  # fmt: skip
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4,
                  fontsize=8, handlelength=1.8, borderaxespad=0.2)  # fmt: skip
    return fig


def image(fig: Figure, fmt: str, dpi: int = style.DPI) -> bytes:
    """The figure as PNG (at ``dpi``) or SVG bytes: what the page shows and its downloads give."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white")
    return buf.getvalue()
