"""Charts of the track record (``stabsim backtest``), in the house style: the reliability of
member-vote forecasts, and the probability each forecaster gave the real outcome, case by
case. Titles state the finding, computed from ``backtest.json``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.reporting import style
from sim.reporting.tables import case_label

MARKERS = {"model": ("o", style.BLUE, "-"), "stance": ("s", style.ORANGE, "--"),
           "everyone_yes": ("^", style.GREY, ":")}  # fmt: skip
NAMES = {"model": "model", "stance": "stance rule", "everyone_yes": "everyone votes yes"}


def _subtitle(result: dict[str, Any]) -> str:
    n = sum(c["independent"] for c in result["cases"])
    return (f"{n} independent past Council decisions, {result['runs_per_case']:,} runs each, "
            f"seed {result['seed']}, protocol {result['protocol'] or 'as each file names it'}")  # fmt: skip


def _source(result: dict[str, Any]) -> str:
    return ("stabsim backtest; cases written from pre-vote positions (docs/writing-a-case.md); "
            "baselines and scores: docs/backtest.md")  # fmt: skip


def reliability(result: dict[str, Any], size: Sequence[float] | None = None,
                note: str | None = None) -> Figure:  # fmt: skip
    """Predicted probability of each vote class against how often it happened, per bin; the
    marker's area is the number of forecasts; the diagonal is perfect calibration."""
    rows = [r for r in result["reliability"] if r["n"]]
    gaps = [abs(r["predicted"] - r["observed"]) * r["n"] for r in rows]
    total = sum(r["n"] for r in rows) or 1
    err = sum(gaps) / total
    title = f"Vote forecasts are off by {100 * err:.0f} points on average from the votes cast"
    fig = style.figure(style.Frame(title, _subtitle(result), _source(result), note),
                       size or style.SLIDE)  # fmt: skip
    with style.apply_rc():
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color=style.GREY, linestyle="--", linewidth=1,
                label="perfectly calibrated")  # fmt: skip
        x = [r["predicted"] for r in rows]
        y = [r["observed"] for r in rows]
        n = np.array([r["n"] for r in rows], dtype=float)
        ax.scatter(x, y, s=20 + 400 * np.sqrt(n / n.max()), color=style.BLUE, edgecolor=style.INK,
                   marker="o", label="model (area: forecasts in the bin)", zorder=3)  # fmt: skip
        for xi, yi, ni in zip(x, y, n, strict=True):
            ax.annotate(f"{int(ni)}", (xi, yi), textcoords="offset points", xytext=(8, -3),
                        fontsize=8, color=style.MUTED)  # fmt: skip
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("predicted probability of a vote (yes, abstain or no)")
        ax.set_ylabel("share of those votes cast")
        ax.grid(color="#E6E6E6", linewidth=0.8)
        ax.legend(loc="upper left", fontsize=8)
    return fig


def cases(result: dict[str, Any], size: Sequence[float] | None = None,
          note: str | None = None) -> Figure:  # fmt: skip
    """Per independent case, the probability the model and two baselines gave the real outcome
    class (filled marks: the forecaster's most likely class was right)."""
    rows = [c for c in result["cases"] if c["independent"]][::-1]
    s = result["summary"]["independent"]
    model, stance = s["model"]["outcome.p_real"], s["stance"]["outcome.p_real"]
    verb = "above" if model > stance else "below"
    title = (f"The model gives the real outcome {100 * model:.0f}% on average, {verb} the "
             f"stance rule's {100 * stance:.0f}%")  # fmt: skip
    fig = style.figure(style.Frame(title, _subtitle(result), _source(result), note),
                       size or style.SLIDE)  # fmt: skip
    with style.apply_rc():
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        for k, (name, (marker, colour, _)) in enumerate(MARKERS.items()):
            pick = [c["model"] if name == "model" else c["baselines"][name] for c in rows]
            p = [100 * f["outcome"]["p_real"] for f in pick]
            hit = [f["outcome"]["modal_match"] > 0 for f in pick]
            ax.scatter(p, y + (k - 1) * 0.22, marker=marker, s=40, label=NAMES[name],
                       facecolors=[colour if h else "white" for h in hit], edgecolors=colour,
                       linewidths=1.4, zorder=3)  # fmt: skip
        ax.set_yticks(y, [f"{case_label(c)}: {c['outcome']}" for c in rows], fontsize=7.5)
        ax.set_xlim(-3, 103)
        ax.set_xlabel("probability given to the real outcome class (%)")
        style.style_axes(ax)
        handles = [Line2D([], [], marker=m, color=c, linestyle="", markersize=7, label=NAMES[k])
                   for k, (m, c, _) in MARKERS.items()]  # fmt: skip
        handles.append(Line2D([], [], marker="o", color=style.INK, markerfacecolor="white",
                              linestyle="", markersize=7, label="hollow: most likely class wrong"))  # fmt: skip
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4,
                  fontsize=8)  # fmt: skip
    return fig
