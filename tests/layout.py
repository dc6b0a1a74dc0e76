"""Where a chart's labels land once drawn: tick labels and axis labels that collide, and text
that runs off the page."""

from __future__ import annotations

import itertools
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

SLACK = 0.5  # pixels of overlap tolerated (anti-aliased edges)


def _labels(fig: Figure) -> list[tuple[str, str, Any]]:
    """(kind, text, window extent) of every drawn tick label and axis label."""
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    out = []
    for ax in fig.axes:
        if not ax.axison:
            continue
        for kind, ticks, lim, k in (("xtick", ax.get_xticklabels(), ax.get_xlim(), 0),
                                    ("ytick", ax.get_yticklabels(), ax.get_ylim(), 1)):  # fmt: skip
            lo, hi = sorted(lim)
            for t in ticks:  # labels of ticks outside the view are not drawn
                at = t.get_position()[k]
                if t.get_visible() and t.get_text().strip() and lo - 1e-9 <= at <= hi + 1e-9:
                    out.append((kind, t.get_text(), t.get_window_extent(renderer)))
        for kind, t in (("xlabel", ax.xaxis.label), ("ylabel", ax.yaxis.label)):
            if t.get_visible() and t.get_text().strip():
                out.append((kind, t.get_text(), t.get_window_extent(renderer)))
    return out


def collisions(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of labels (tick labels and axis labels, over every axes) whose boxes overlap."""
    bad = []
    for (_, t1, b1), (_, t2, b2) in itertools.combinations(_labels(fig), 2):
        dx = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        dy = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        if dx > SLACK and dy > SLACK:
            bad.append((t1, t2))
    return bad


def outside(fig: Figure) -> list[str]:
    """Every visible text of the figure (titles, notes, source line, labels) that reaches past
    the figure's edges."""
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    page = fig.bbox
    bad = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or t.figure is None:
            continue
        b = t.get_window_extent(renderer)
        if (b.x0 < page.x0 - SLACK or b.x1 > page.x1 + SLACK
                or b.y0 < page.y0 - SLACK or b.y1 > page.y1 + SLACK):  # fmt: skip
            bad.append(t.get_text())
    return bad
