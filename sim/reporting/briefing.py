"""The briefing pack: key findings in sentences, the charts, ``briefing.pdf`` and ``briefing.html``.

Rules:

- The sentences are :mod:`sim.reporting.findings`'; the sections :mod:`sim.reporting.sections`'.
- The PDF is a cover page (findings, contents) and then one chart per page with a one-line
  reading; the HTML holds the same, with the images embedded as base64 (no external file).
- Charts with nothing to show (no paths recorded, no grid, no adopted text) are left out of
  the pack and the cover says why; ``charts/`` still gets every chart that has data.
- What-if results (sensitivity, compare, discover) are further sections: their sentences join
  the cover under their own heading and their charts follow the sweep's, one per page. A
  cover too long for one page continues on the next, and the contents count those pages.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim.analysis.folders import SweepFolder, open_sweep, read_result
from sim.errors import OptionError, writing
from sim.experiments.folder import atomic_write, claim_files
from sim.reporting import charts, style
from sim.reporting.findings import pack_title
from sim.reporting.sections import Section, caveat_section, sweep_section, whatif_sections
from sim.reporting.style import Frame

FORMATS = ("pdf", "html")


# --- the pack ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pack:
    """What ``stabsim report`` wrote."""

    charts: list[Path]
    pdf: Path | None
    html: Path | None
    omitted: list[str]  # charts left out of the pack, with the reason
    cover_pages: int = 1  # PDF pages before the first chart
    sections: tuple[str, ...] = ()  # headings, in order


_HEAD = {"fontsize": 13, "fontweight": "bold"}
_ROOM = 0.99  # of the cover's axes height
_WIDTH = style.PAGE[0] - 0.9  # inches of text on a cover line
_INDENT = "    "


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
        if sec.paragraph:
            text = " ".join(f.text for f in sec.found)
            lines += [(line, {"fontsize": 10.5}) for line in style.wrap(text, _WIDTH, 10.5)]
            continue
        indent = style.text_width(_INDENT, 10.5)
        for f in sec.found:
            for i, line in enumerate(style.wrap(f.text, _WIDTH - indent, 10.5)):
                lines.append((("•  " if i == 0 else _INDENT) + line, {"fontsize": 10.5}))
    lines += [("", {}), ("Contents", _HEAD)]
    n = first
    for sec in sections:
        for page in sec.pages:
            lines.append((f"p. {n}   {page.key}: {page.title}", {"fontsize": 9.5}))
            n += 1
    for sec in sections:
        for o in sec.omitted:
            lines.append((f"not shown   {o}", {"fontsize": 9, "color": style.MUTED}))
    return lines


def _step(kw: dict[str, Any]) -> float:
    """The height of a cover line, as a share of the cover's axes."""
    size = kw.get("fontsize", 10)
    return 0.046 if size >= 13 else 0.034 if size >= 10.5 else 0.030


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
    return [page for page in pages if any(text for text, _ in page)]  # no empty page


def cover(res: SweepFolder, sections: Sequence[Section], point: int = 0,
          title: str | None = None) -> list[Figure]:  # fmt: skip
    """The PDF's first page(s): what was run, the key findings of every section, the contents.
    Lines that do not fit continue on a second cover page (and the contents count it)."""
    n_cover = len(_paginate(_cover_lines(sections, 2)))
    pages = _paginate(_cover_lines(sections, n_cover + 1))
    figs = []
    for k, lines in enumerate(pages):
        title_k = f"Briefing: {title or res.title}" + (" (continued)" if k else "")
        frame = Frame(title_k, charts.subtitle(res, point), charts.source(res))
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


def report(folder: str | Path, formats: Sequence[str] = FORMATS, point: int = 0,
           sensitivity: str | Path | None = None, compare: str | Path | None = None,
           discover: Sequence[str] = (), backtest: str | Path | None = None) -> Pack:  # fmt: skip
    """Write ``charts/`` (PNG at 200 dpi and SVG) and the briefing pack into a sweep folder;
    with ``sensitivity`` (a ``stabsim sensitivity --out`` folder), ``compare`` (a ``stabsim
    compare --out`` folder), ``discover`` targets (run on this sweep) or ``backtest`` (a
    ``stabsim backtest`` folder: the track record), add their sections."""
    res = open_sweep(folder, need_runs=True)
    if not 0 <= point < len(res.summary["points"]):
        raise OptionError("point", f"expected 0 to {len(res.summary['points']) - 1}, got {point}")
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise OptionError("format", f"expected pdf, html or both, got {bad[0]}")
    folder = Path(folder)
    sections = [sweep_section(res, point), caveat_section(res, sensitivity)]
    sections += whatif_sections(folder, sensitivity, compare, discover, backtest, res.labels)
    compared = read_result(compare, "compare.json", "stabsim-compare/1") if compare else None
    title = pack_title(res, compared)
    keys = [page.key for sec in sections for page in sec.pages]
    # Listed in the sweep's manifest first, so --force may replace them with the sweep.
    claim_files(folder, [*(f"charts/{k}.{fmt}" for k in keys for fmt in ("png", "svg")),
                         *(f"briefing.{fmt}" for fmt in formats)])  # fmt: skip
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
        n_cover = write_pdf(res, pdf, sections, point, title)
    if "html" in formats:
        html_path = folder / "briefing.html"
        atomic_write(html_path, write_html(res, sections, pngs, point, title).encode("utf-8"))
    omitted = [o for sec in sections for o in sec.omitted]
    return Pack(written, pdf, html_path, omitted, n_cover, tuple(s.heading for s in sections))


def write_pdf(res: SweepFolder, path: Path, sections: Sequence[Section], point: int = 0,
              title: str | None = None) -> int:  # fmt: skip
    """Cover page(s), then one chart per page (A4 landscape) with its reading; returns the
    number of cover pages."""
    tmp = path.with_name(f".tmp-{path.name}")
    with writing(path), style.apply_rc(), PdfPages(tmp, metadata={
            "Title": f"Briefing: {title or res.title}", "Creator": "stabsim"}) as pdf:  # fmt: skip
        figs = cover(res, sections, point, title)
        for fig in figs:
            pdf.savefig(fig)
        for sec in sections:
            for page in sec.pages:
                pdf.savefig(page.build(style.PAGE, page.reading))
    with writing(path):
        tmp.replace(path)
    return len(figs)


CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;max-width:1040px;margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} .sub{color:#5a5a5a;margin-top:0} h2{margin-top:1.6em}
li{margin:.35em 0} figure{margin:2.5em 0} img{width:100%;height:auto;border:1px solid #ddd}
figcaption{font-style:italic;margin-top:.4em} .src,.omit{color:#5a5a5a;font-size:.85em}
.caveat{border-left:3px solid #8c8c8c;padding-left:.8em}
"""


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def write_html(res: SweepFolder, sections: Sequence[Section], pngs: dict[str, bytes],
               point: int = 0, title: str | None = None) -> str:  # fmt: skip
    """The pack as one self-contained HTML page (images inlined as base64 PNG): each section's
    heading, its sentences (a list, or one paragraph), then its charts."""
    title = title or res.title
    e = html.escape  # attributes

    def t(text: str) -> str:  # text between tags: quotes stay quotes
        return html.escape(text, quote=False)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Briefing: {t(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>Briefing: {t(title)}</h1>",
        f'<p class="sub">{e(charts.subtitle(res, point))}</p>',
    ]
    for sec in sections:
        parts.append(f'<section id="{_slug(sec.heading)}"><h2>{t(sec.heading)}</h2>')
        if sec.paragraph:
            parts.append('<p class="caveat">' + t(" ".join(f.text for f in sec.found)) + "</p>")
        else:
            parts += ["<ul>", *(f"<li>{t(f.text)}</li>" for f in sec.found), "</ul>"]
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
