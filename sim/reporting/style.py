"""The one house style of stabsim's charts: colours, hatches, sizes, fonts and the frame
(title, subtitle, source line) every chart shares.

Rules:

- Colours come from the Okabe-Ito palette (safe for the common colour-vision deficiencies);
  each outcome and each vote has one fixed colour *and* one fixed hatch, so a chart printed
  in greyscale still tells them apart; charts also label bars directly where they can.
- A title states the finding (built from the numbers by the caller); the subtitle says what
  was run (scenario, runs, seed, grid point); a small source line says where it came from.
- Figures are made with ``matplotlib.figure.Figure``, never pyplot: no GUI backend, no global
  state, so charts build headless, in CI and in worker processes, and display in notebooks.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import matplotlib as mpl
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine

# --- sizes (inches) ---------------------------------------------------------------------------

SLIDE = (10.0, 5.625)  # 16:9, pastes into a slide at full width
PAGE = (11.69, 8.27)  # A4 landscape, one chart per page of the briefing PDF
DPI = 200  # saved PNGs

# --- palette (Okabe & Ito 2008) ---------------------------------------------------------------

ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#8C8C8C"
LIGHT = "#D9D9D9"
INK = "#222222"  # text
MUTED = "#5A5A5A"  # subtitles, source lines, annotations

OUTCOME_COLOURS = {
    "adopted": GREEN,
    "vetoed": VERMILLION,
    "failed": ORANGE,
    "withdrawn": SKY,
    "no_agreement": PURPLE,
}
OUTCOME_HATCHES = {
    "adopted": "",
    "vetoed": "xx",
    "failed": "//",
    "withdrawn": "..",
    "no_agreement": "\\\\",
}
OUTCOME_LABELS = {
    "adopted": "Adopted",
    "vetoed": "Vetoed",
    "failed": "Failed (too few votes)",
    "withdrawn": "Withdrawn",
    "no_agreement": "No agreement",
}
VOTE_COLOURS = {"yes": BLUE, "abstain": LIGHT, "no": VERMILLION}
VOTE_HATCHES = {"yes": "", "abstain": "//", "no": "xx"}
VOTE_TEXT = {"yes": "white", "abstain": INK, "no": "white"}  # label colour on each fill

# Ordered options: a light-to-dark ramp (Paul Tol's "YlOrBr" sequential), so order reads as
# lightness in colour and in greyscale. Unordered options: qualitative, kept apart by labels.
ORDERED_RAMP = ("#FFF7BC", "#FEE391", "#FEC44F", "#FB9A29", "#EC7014", "#CC4C02", "#8C2D04")
QUALITATIVE = (SKY, ORANGE, GREEN, PURPLE, YELLOW, BLUE, VERMILLION, GREY)

SERIES = {"adopted": GREEN, "viable": BLUE}  # grid charts: one line per probability
SERIES_MARKERS = {"adopted": "o", "viable": "s"}
SERIES_STYLES = {"adopted": "-", "viable": "--"}

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "text.color": INK,
    "hatch.linewidth": 0.6,
    "hatch.color": "#FFFFFF",
    "legend.frameon": False,
    "svg.fonttype": "none",  # SVG text stays text (searchable, editable)
    "pdf.fonttype": 42,  # embed TrueType, not Type 3
}

TITLE_IN = 0.95  # inches above the plotting area for title and subtitle
SOURCE_IN = 0.42  # inches below it for the source line
NOTE_IN = 0.40  # extra inches for a one-line reading (briefing pages)


def ramp(n: int) -> list[str]:
    """``n`` colours light to dark from the ordered ramp (evenly spread over it)."""
    if n <= 1:
        return [ORDERED_RAMP[3]]
    step = (len(ORDERED_RAMP) - 1) / (n - 1)
    return [ORDERED_RAMP[round(i * step)] for i in range(n)]


def qualitative(n: int) -> list[str]:
    """``n`` qualitative colours (cycling when more options than colours)."""
    return [QUALITATIVE[i % len(QUALITATIVE)] for i in range(n)]


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (by relative luminance)."""
    r, g, b = mpl.colors.to_rgb(colour)
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return INK if lum > 0.45 else "white"


@dataclass(frozen=True)
class Frame:
    """What every chart says around its plot: the finding, what was run, where it came from."""

    title: str
    subtitle: str
    source: str
    note: str | None = None  # a one-line reading under the chart (briefing pages)


@cache
def _renderer(dpi: int) -> RendererAgg:
    return RendererAgg(10, 10, dpi)


MEASURE_DPI = (100, 200)  # a figure's own and a saved PNG's: hinting makes widths differ by dpi


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in inches of one line of ``text`` in the house font at ``size`` points (the
    widest it is drawn at the dpi of a figure on screen and of a saved PNG)."""
    prop = FontProperties(family=RC["font.family"], weight="bold" if bold else "normal", size=size)
    return max(_renderer(dpi).get_text_width_height_descent(text, prop, ismath=False)[0] / dpi
               for dpi in MEASURE_DPI)  # fmt: skip


def fit(text: str, width: float, sizes: Sequence[float], bold: bool = False,
        ) -> tuple[float, list[str]]:  # fmt: skip
    """The largest of ``sizes`` at which ``text`` fits on one line of ``width`` inches; else
    the smallest, with the text wrapped at spaces into as few lines as fit, of about equal
    length (a `` · `` separator stays at the end of its line, never starts one)."""
    for size in sizes:
        if text_width(text, size, bold) <= width:
            return size, [text]
    size = sizes[-1]
    glued = text.replace(" · ", NBSP + "· ")  # textwrap does not break at a no-break space
    greedy = wrap(glued, width, size, bold)  # the fewest lines
    n = len(greedy)
    for chars in range(-(-len(glued) // n), len(glued) + 1):  # balanced: the shortest that fit
        lines = textwrap.wrap(glued, chars, break_long_words=False)
        if len(lines) <= n and all(text_width(line, size, bold) <= width for line in lines):
            break
    else:
        lines = greedy
    return size, [line.replace(NBSP, " ") for line in lines]


NBSP = "\u00a0"


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` wrapped at spaces into lines no wider than ``width`` inches at ``size`` points
    (greedy, as a reader expects a paragraph to be set)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def figure(frame: Frame, size: Sequence[float] = SLIDE) -> Figure:
    """A new figure in the house style with the frame drawn and the plotting area reserved.

    Axes added afterwards are laid out (constrained layout) inside the area left between
    the title block and the source line, so labels never run into either. A title or subtitle
    too long for one line is set smaller, then wrapped, and the plotting area moves down."""
    with mpl.rc_context(RC):
        fig = Figure(figsize=tuple(size), dpi=100)
    fig.set_facecolor("white")
    w, h = fig.get_size_inches()
    room = w - 2 * 0.3
    t_size, t_lines = fit(frame.title, room, (15, 14, 13), bold=True)
    s_size, s_lines = fit(frame.subtitle, room, (10, 9))
    t_extra = (len(t_lines) - 1) * t_size * 1.2 / 72
    extra = t_extra + (len(s_lines) - 1) * s_size * 1.2 / 72
    top = 1 - (TITLE_IN + extra) / h
    bottom = (SOURCE_IN + (NOTE_IN if frame.note else 0)) / h
    fig.set_layout_engine(
        ConstrainedLayoutEngine(rect=(0.0, bottom, 1.0, top - bottom), w_pad=0.06, h_pad=0.06)
    )
    left = 0.3 / w
    fig.text(left, 1 - 0.16 / h, "\n".join(t_lines), ha="left", va="top", fontsize=t_size,
             fontweight="bold", color=INK, linespacing=1.1)  # fmt: skip
    fig.text(left, 1 - (0.55 + t_extra) / h, "\n".join(s_lines), ha="left", va="top",
             fontsize=s_size, color=MUTED, linespacing=1.1)  # fmt: skip
    if frame.note:
        fig.text(left, (SOURCE_IN + 0.12) / h, frame.note, ha="left", va="bottom", fontsize=10.5,
                 color=INK, style="italic", wrap=True)  # fmt: skip
    fig.text(left, 0.1 / h, "\n".join(wrap(frame.source, 0.97 * room, 7)), ha="left", va="bottom",
             fontsize=7, color=MUTED, linespacing=1.25)  # fmt: skip
    return fig


def plot_height(fig: Figure) -> float:
    """Inches of height :func:`figure` left for the axes, between the title block and the source
    line (and the reading)."""
    return float(fig.get_layout_engine().get()["rect"][3]) * fig.get_size_inches()[1]


def style_axes(ax: object) -> None:
    """House defaults for one axes (light grid behind the data)."""
    ax.set_axisbelow(True)  # type: ignore[attr-defined]
    ax.grid(axis="x", color="#E6E6E6", linewidth=0.8)  # type: ignore[attr-defined]


def apply_rc() -> mpl.rc_context:
    """A context in which axes and artists pick up the house rcParams."""
    return mpl.rc_context(RC)


# --- how numbers are written (titles, labels and briefing sentences share these) -------------


def pct(p: float | None) -> str:
    """A probability as a percentage: exact ``0%``/``100%`` only when it is exactly 0 or 1,
    else one decimal, with ``<0.1%``/``>99.9%`` rather than rounding to a certainty."""
    if p is None:
        return "n/a"
    if p <= 0:
        return "0%"
    if p >= 1:
        return "100%"
    v = 100 * p
    if v < 0.05:
        return "<0.1%"
    if v >= 99.95:
        return ">99.9%"
    return f"{v:.1f}%"


def ci(s: dict) -> str:
    """The 95% interval of a summary probability ``{p, low, high}``: ``"81.0–85.0%"``."""
    return f"{100 * s['low']:.1f}–{100 * s['high']:.1f}%"


def num(x: float | None) -> str:
    """A count of troops or runs: whole, with thousands separators (``n/a`` when missing)."""
    return "n/a" if x is None else f"{x:,.0f}"


def option_label(option: str) -> str:
    """An option id as words: ``all_necessary_measures`` -> ``all necessary measures``."""
    return option.replace("_", " ")


def value(v: float | str) -> str:
    """A grid or parameter value as a reader sees it: a number to 3 significant figures, an
    option name with spaces."""
    return v.replace("_", " ") if isinstance(v, str) else f"{v:.3g}"
