"""The briefing pack: key findings in sentences, the charts, ``briefing.pdf`` and ``briefing.html``.

Rules:

- Every number in a sentence is read from ``summary.json`` and formatted by ``sim.reporting.style``;
  each :class:`Finding` lists the summary path of each number it prints, in order, so a test
  can recompute the sentence's numbers from the file.
- The PDF is a cover page (findings, contents) and then one chart per page with a one-line
  reading; the HTML holds the same, with the images embedded as base64 (no external file).
- Charts with nothing to show (no paths recorded, no grid, no adopted text) are left out of
  the pack and the cover says why; ``charts/`` still gets every chart that has data.
- What-if results (:mod:`sim.reporting.whatif_pack`: sensitivity, compare, discover) are further
  :class:`Section` s: their sentences join the cover under their own heading (numbers looked up
  in ``sensitivity.json``, ``compare.json`` or ``discover-<target>.json`` the same way) and
  their charts follow the sweep's, one per page. A cover too long for one page continues on
  the next, and the contents count those pages.
"""

from __future__ import annotations

import base64
import html
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim.model.result import OUTCOMES
from sim.reporting import charts, style
from sim.reporting.charts import ReportError, SweepResults, load_results
from sim.reporting.style import Frame

FORMATS = ("pdf", "html")

READINGS = {
    "grid": "Each line (or cell) is the share of runs at one grid value; shaded bands are "
    "confidence intervals. Flat lines mean the parameter does not move the result.",
    "outcomes": "Each bar is the share of runs that ended this way; whiskers are confidence "
    "intervals. "
    "A veto is a permanent member's no on the decisive draft.",
    "texts": "The most frequent adopted texts, left to right. Shaded cells show where a text "
    "differs from the most likely one.",
    "clauses": "Each bar splits the adopted texts by the option they hold for one clause; "
    "darker means further along an ordered clause.",
    "votes": "Each member's yes, abstain and no over the runs with a vote; permanent members "
    "(bold) can veto with a no.",
    "coalition": "Left: chance each contributor joins, and its troops when it does. Right: total "
    "delivered troops against the requirement.",
    "path": "The draft's position round by round: the line is the median run, the bands hold "
    "the middle half and nine runs in ten.",
}
ORDER = ("grid", "outcomes", "texts", "clauses", "votes", "coalition", "path")


# --- findings ------------------------------------------------------------------------------------


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
        return f"{value:.3g}"
    if kind == "val":
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if kind == "idx":
        return "n/a" if value is None else f"{value:.2f}"
    if kind == "pct0":
        return f"{100 * value:.0f}%"
    if kind == "pts":
        from sim.analysis.compare import _pts

        return _pts(value)
    return str(value)


class _Writer:
    """Builds a Finding: literal words, and numbers that are looked up and recorded."""

    def __init__(self, summary: dict[str, Any], source: str = "summary.json"):
        self.summary = summary
        self.f = Finding(source=source)

    def w(self, text: str) -> _Writer:
        self.f.text += text
        return self

    def v(self, path: str, kind: str) -> _Writer:
        self.f.text += resolve(self.summary, path, kind)
        self.f.numbers.append((path, kind))
        return self

    def done(self) -> Finding:
        return self.f


def _option(res: SweepResults, cid: str, option: str) -> str:
    cl = next((c for c in res.clauses if c.id == cid), None)
    return cl.option(option) if cl else style.option_label(option)


def findings(res: SweepResults, point: int = 0) -> list[Finding]:
    """The key findings of one grid point (and of the grid), as sentences."""
    s = res.summary
    pt = s["points"][point]
    at = f"points/{point}"
    out: list[Finding] = []
    if pt["grid"]:
        f = _Writer(s).w("At the grid point ")
        for j, path in enumerate(pt["grid"]):
            f.w(", " if j else "").w(f"{path} = ").v(f"{at}/grid/{path}", "grid")
        out.append(f.w(" (the charts of one point show it too):").done())

    # the outcome
    best = max(OUTCOMES, key=lambda o: (pt["outcomes"][o]["count"], -OUTCOMES.index(o)))
    f = _Writer(s).w(f"{charts.OUTCOME_TITLES[best]} in ").v(f"{at}/outcomes/{best}/p", "pct")
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

    # the text
    if pt["texts"]:
        f = _Writer(s).w("The most likely text, adopted in ").v(f"{at}/texts/0/p", "pct")
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
            f = _Writer(s).w("Still open among adopted texts: ")
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
        f = _Writer(s).w("Least likely to vote yes, over the votes held: ")
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
        f = _Writer(s).w("A viable force in ").v(f"{at}/viable/p", "pct").w(" of runs (")
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
            f = (
                _Writer(s)
                .w(f"Most likely coalition: {names}, in ")
                .v(f"{at}/coalitions/0/p", "pct")
            )
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
                    _Writer(s)
                    .w(f"Across the grid, {label} stays at ")
                    .v(f"points/{lo}/{key}/p", "pct")
                )
                out.append(f.w(" at every point.").done())
                continue
            f = _Writer(s).w(f"Across the grid, {label} ranges from ")
            for i, word in ((lo, " to "), (hi, ".")):
                f.v(f"points/{i}/{key}/p", "pct").w(" (at ")
                for j, path in enumerate(pts[i]["grid"]):
                    f.w(", " if j else "").w(f"{path} = ").v(f"points/{i}/grid/{path}", "grid")
                f.w(")" + word)
            out.append(f.done())
    return out


# --- the pack ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One chart page: its file stem under ``charts/``, its title for the contents, its one-line
    reading, and how to draw it at a size with a note."""

    key: str
    title: str
    reading: str
    build: Callable[[Sequence[float], str | None], Figure]


@dataclass
class Section:
    """A part of the pack: a heading, its sentences on the cover, its chart pages, and the charts
    left out with the reason."""

    heading: str
    found: list[Finding]
    pages: list[Page] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pack:
    """What ``stabsim report`` wrote."""

    charts: list[Path]
    pdf: Path | None
    html: Path | None
    omitted: list[str]  # charts left out of the pack, with the reason
    cover_pages: int = 1  # PDF pages before the first chart
    sections: tuple[str, ...] = ()  # headings, in order


def plan(res: SweepResults, point: int = 0) -> tuple[list[str], list[str]]:
    """The charts that go in the pack (in order) and a reason for each one left out."""
    shown, omitted = [], []
    reasons = {
        "grid": "no grid (one point; add --vary to sweep a parameter)",
        "texts": "no text was adopted in any run",
        "clauses": "no text was adopted in any run",
        "coalition": "the scenario names no troop contributors",
        "path": "negotiation paths were not recorded (rerun the sweep with --paths)"
        if res.paths is None
        else "no ordered or scale clause",
    }
    for name in ORDER:
        if charts.has_data(res, name, point):
            shown.append(name)
        else:
            omitted.append(f"{name}: {reasons.get(name, 'nothing to show')}")
    return shown, omitted


def _chart(res: SweepResults, name: str, point: int, size: Sequence[float], note: str | None):
    fn = charts.CHARTS[name]
    if name == "grid":
        return fn(res, size=size, note=note)
    return fn(res, point=point, size=size, note=note)


def sweep_section(res: SweepResults, point: int = 0) -> Section:
    """The sweep's own findings and charts."""
    shown, omitted = plan(res, point)
    pages = [
        Page(name, _chart_title(res, name, point), READINGS[name],
             lambda size, note, name=name: _chart(res, name, point, size, note))
        for name in shown
    ]  # fmt: skip
    return Section("Key findings", findings(res, point), pages, omitted)


_HEAD = {"fontsize": 13, "fontweight": "bold"}
_ROOM = 0.99  # of the cover's axes height


def _cover_lines(sections: Sequence[Section], first: int) -> list[tuple[str, dict[str, Any]]]:
    """The cover's lines: each section's heading and sentences, then the contents (chart pages
    numbered from ``first``) and what was left out."""
    lines: list[tuple[str, dict[str, Any]]] = []
    for sec in sections:
        if not sec.found:
            continue
        if lines:
            lines.append(("", {}))
        lines.append((sec.heading, _HEAD))
        for f in sec.found:
            for i, line in enumerate(textwrap.wrap(f.text, 130)):
                lines.append((("•  " if i == 0 else "    ") + line, {"fontsize": 10.5}))
    lines += [("", {}), ("Contents", _HEAD)]
    n = first
    for sec in sections:
        for page in sec.pages:
            lines.append((f"p. {n}   {page.key}: {page.title}", {"fontsize": 10}))
            n += 1
    for sec in sections:
        for o in sec.omitted:
            lines.append((f"not shown   {o}", {"fontsize": 9, "color": style.MUTED}))
    return lines


def _step(kw: dict[str, Any]) -> float:
    return 0.048 if kw.get("fontsize", 10) >= 13 else 0.036


def _paginate(lines: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
    pages: list[list[tuple[str, dict[str, Any]]]] = [[]]
    used = 0.0
    for line in lines:
        if used + _step(line[1]) > _ROOM and pages[-1]:
            carry = []  # a heading or a line ending in ":" goes with what it introduces
            while pages[-1] and (pages[-1][-1][1] is _HEAD or pages[-1][-1][0].endswith(":")):
                carry.insert(0, pages[-1].pop())
            pages.append(carry)
            used = sum(_step(kw) for _, kw in carry)
        if not pages[-1] and not line[0]:
            continue  # no blank line at the top of a page
        pages[-1].append(line)
        used += _step(line[1])
    return pages


def cover(res: SweepResults, sections: Sequence[Section], point: int = 0) -> list[Figure]:
    """The PDF's first page(s): what was run, the key findings of every section, the contents.
    Lines that do not fit continue on a second cover page (and the contents count it)."""
    n_cover = len(_paginate(_cover_lines(sections, 2)))
    pages = _paginate(_cover_lines(sections, n_cover + 1))
    figs = []
    for k, lines in enumerate(pages):
        title = f"Briefing: {res.title}" + (" (continued)" if k else "")
        frame = Frame(title, charts.subtitle(res, point), charts.source(res))
        fig = style.figure(frame, style.PAGE)
        with style.apply_rc():
            ax = fig.add_subplot()
        ax.set_axis_off()
        y = 1.0
        for text, kw in lines:
            ax.text(0.015, y, text, va="top", ha="left", transform=ax.transAxes, **kw)
            y -= _step(kw)
        figs.append(fig)
    return figs


def _chart_title(res: SweepResults, name: str, point: int) -> str:
    pt = res.point(point)
    titles = {
        "outcomes": lambda: charts.outcomes_title(pt),
        "texts": lambda: charts.texts_title(pt),
        "clauses": lambda: charts.clauses_title(pt, res.clauses),
        "votes": lambda: charts.votes_title(pt),
        "coalition": lambda: charts.coalition_title(pt),
        "path": lambda: "the draft round by round",
        "grid": lambda: charts.grid_title(res),
    }
    return titles[name]()


def report(folder: str | Path, formats: Sequence[str] = FORMATS, point: int = 0,
           sensitivity: str | Path | None = None, compare: str | Path | None = None,
           discover: Sequence[str] = ()) -> Pack:  # fmt: skip
    """Write ``charts/`` (PNG at 200 dpi and SVG) and the briefing pack into a sweep folder;
    with ``sensitivity`` (a ``stabsim sensitivity --out`` folder), ``compare`` (a ``stabsim
    compare --out`` folder) or ``discover`` targets (run on this sweep), add their sections."""
    res = load_results(folder)
    if not 0 <= point < len(res.summary["points"]):
        raise ReportError(f"--point: expected 0 to {len(res.summary['points']) - 1}, got {point}")
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ReportError(f"--format: expected pdf, html or both, got {bad[0]}")
    folder = Path(folder)
    sections = [sweep_section(res, point)]
    if sensitivity or compare or discover:
        from sim.reporting import whatif_pack

        sections += whatif_pack.sections(folder, sensitivity, compare, discover)
    written: list[Path] = []
    pngs: dict[str, bytes] = {}
    for sec in sections:
        for page in sec.pages:
            written += charts.save(page.build(style.SLIDE, None), folder / "charts" / page.key)
            pngs[page.key] = (folder / "charts" / f"{page.key}.png").read_bytes()
    pdf = html_path = None
    n_cover = 0
    if "pdf" in formats:
        pdf = folder / "briefing.pdf"
        n_cover = write_pdf(res, pdf, sections, point)
    if "html" in formats:
        html_path = folder / "briefing.html"
        html_path.write_text(write_html(res, sections, pngs, point), encoding="utf-8")
    omitted = [o for sec in sections for o in sec.omitted]
    return Pack(written, pdf, html_path, omitted, n_cover, tuple(s.heading for s in sections))


def write_pdf(res: SweepResults, path: Path, sections: Sequence[Section], point: int = 0) -> int:
    """Cover page(s), then one chart per page (A4 landscape) with its reading; returns the
    number of cover pages."""
    tmp = path.with_name(f".tmp-{path.name}")
    with style.apply_rc(), PdfPages(tmp, metadata={"Title": f"Briefing: {res.title}",
                                                   "Creator": "stabsim"}) as pdf:  # fmt: skip
        figs = cover(res, sections, point)
        for fig in figs:
            pdf.savefig(fig)
        for sec in sections:
            for page in sec.pages:
                pdf.savefig(page.build(style.PAGE, page.reading))
    tmp.replace(path)
    return len(figs)


CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;max-width:1040px;margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} .sub{color:#5a5a5a;margin-top:0} h2{margin-top:1.6em}
li{margin:.35em 0} figure{margin:2.5em 0} img{width:100%;height:auto;border:1px solid #ddd}
figcaption{font-style:italic;margin-top:.4em} .src,.omit{color:#5a5a5a;font-size:.85em}
"""


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def write_html(res: SweepResults, sections: Sequence[Section], pngs: dict[str, bytes],
               point: int = 0) -> str:  # fmt: skip
    """The pack as one self-contained HTML page (images inlined as base64 PNG): each section's
    heading, its sentences, then its charts."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Briefing: {e(res.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>Briefing: {e(res.title)}</h1>",
        f'<p class="sub">{e(charts.subtitle(res, point))}</p>',
    ]
    for sec in sections:
        parts.append(f'<section id="{_slug(sec.heading)}"><h2>{e(sec.heading)}</h2><ul>')
        parts += [f"<li>{e(f.text)}</li>" for f in sec.found]
        parts.append("</ul>")
        for page in sec.pages:
            data = base64.b64encode(pngs[page.key]).decode("ascii")
            parts.append(
                f'<figure id="{page.key}"><img alt="{e(page.key)}: {e(page.title)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{e(page.reading)}</figcaption>'
                "</figure>"
            )
        if sec.omitted:
            parts.append('<p class="omit">Not shown: ' + e("; ".join(sec.omitted)) + ".</p>")
        parts.append("</section>")
    parts.append(f'<p class="src">{e(charts.source(res))}</p></body></html>')
    return "\n".join(parts)
