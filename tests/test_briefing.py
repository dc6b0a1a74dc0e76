"""The briefing pack: sentences whose numbers are summary.json's, a self-contained HTML page, a
PDF with a cover and one page per chart, and the report commands."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.analysis.folders import open_sweep
from sim.cli import main
from sim.reporting import briefing, findings, sections
from tests import report_sweeps
from tests.report_sweeps import MINIMAL

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
ALL = ["gaza", "grid1", "grid2", "vetoed", "single", "nocontrib", "onepoint"]


@pytest.fixture(scope="session")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    return report_sweeps.build(tmp_path_factory)


def _pages(pdf: Path) -> int:
    """Page objects in a PDF (matplotlib writes them uncompressed: ``/Type /Page``)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.parametrize("sweep", ALL)
def test_every_number_in_a_sentence_is_read_from_summary_json(sweeps, sweep):
    res = open_sweep(sweeps[sweep])
    summary = json.loads((sweeps[sweep] / "summary.json").read_text())  # fresh from disk
    found = findings.sweep_findings(res)
    assert found
    for f in found:
        expected = [findings.resolve(summary, path, kind) for path, kind in f.numbers]
        printed = NUMBER.findall(f.text)
        assert printed == [n for e in expected for n in NUMBER.findall(e)], f.text


def test_headline_sentences_recomputed_by_hand(sweeps):
    summary = json.loads((sweeps["gaza"] / "summary.json").read_text())
    pt = summary["points"][0]
    text = " ".join(f.text for f in findings.sweep_findings(open_sweep(sweeps["gaza"])))
    a = pt["outcomes"]["adopted"]
    m = re.search(r"Adopted in ([\d.]+)% of runs \(95% CI ([\d.]+)–([\d.]+)%\)", text)
    assert m, text
    assert float(m[1]) == round(100 * a["count"] / a["of"], 1)
    assert (float(m[2]), float(m[3])) == (round(100 * a["low"], 1), round(100 * a["high"], 1))
    v = pt["viable"]
    m = re.search(r"A viable force in ([\d.]+)% of runs", text)
    assert m and float(m[1]) == round(100 * v["count"] / v["of"], 1)
    m = re.search(r"delivered troops average ([\d,]+)", text)
    assert m and int(m[1].replace(",", "")) == round(pt["troops_delivered"]["mean"])
    t = pt["texts"][0]
    m = re.search(r"most likely text, adopted in ([\d.]+)% of runs \(([\d.]+)% of adopted", text)
    assert m and float(m[1]) == round(100 * t["p"], 1)
    assert float(m[2]) == round(100 * t["count"] / a["count"], 1)


def test_grid_sentence_names_the_extremes(sweeps):
    summary = json.loads((sweeps["grid1"] / "summary.json").read_text())
    text = " ".join(f.text for f in findings.sweep_findings(open_sweep(sweeps["grid1"])))
    # the parameter in words, never its dotted path
    assert "Across the grid, adoption" in text and "actors.P.status_quo" not in text
    value = summary["points"][0]["grid"]["actors.P.status_quo"]
    assert text.startswith(
        f"At the grid point where Permanent member's value of no resolution is {value:.3g}"
    )
    assert "(with Permanent member's value of no resolution at " in text


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.images = 0

    def handle_starttag(self, tag, attrs):
        self.images += tag == "img"
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "data")]


@pytest.mark.parametrize("sweep", ["gaza", "vetoed", "grid2"])
def test_pack_html_is_self_contained_and_pdf_has_a_page_per_chart(sweeps, sweep):
    res = open_sweep(sweeps[sweep])
    pack = briefing.report(sweeps[sweep])
    shown, omitted = sections.plan(res)
    assert _pages(pack.pdf) == pack.cover_pages + len(shown)
    assert pack.cover_pages == 1 or sweep != "gaza"  # the demo's cover fits on one page
    page = pack.html.read_text()
    parser = _Refs()
    parser.feed(page)
    parser.close()
    assert parser.images == len(shown)
    assert parser.refs and all(r.startswith("data:image/png;base64,") for r in parser.refs)
    assert "http:" not in page and "https:" not in page
    for f in findings.sweep_findings(res):
        assert f.text.replace("&", "&amp;").split(" (")[0] in page
    for name in shown:
        assert (sweeps[sweep] / "charts" / f"{name}.png").is_file()
        assert (sweeps[sweep] / "charts" / f"{name}.svg").is_file()
    if sweep == "gaza":
        assert shown == ["outcomes", "texts", "clauses", "votes", "coalition", "path"]
    if sweep == "vetoed":
        assert "texts" not in shown and any("no text was adopted" in o for o in omitted)


def test_cli_report_formats_and_errors(sweeps, tmp_path, capsys):
    assert main(["report", str(sweeps["nocontrib"]), "--format", "html"]) == 0
    assert (sweeps["nocontrib"] / "briefing.html").is_file()
    assert not (sweeps["nocontrib"] / "briefing.pdf").exists()
    assert "briefing pack:" in capsys.readouterr().out
    (tmp_path / "notes.txt").write_text("not a sweep")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{tmp_path}: no summary.json") and "\n" not in err
    assert main(["report", str(sweeps["grid1"]), "--point", "9"]) == 2
    assert "--point" in capsys.readouterr().err


def test_sweep_report_flag_writes_the_pack(tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["sweep", str(MINIMAL), "--runs", "5", "--workers", "1", "--out", str(out),
            "--quiet", "--report"]  # fmt: skip
    assert main(argv) == 0
    assert _pages(out / "briefing.pdf") == 1 + len(sections.plan(open_sweep(out))[0])
    assert (out / "briefing.html").is_file()
    assert f"briefing pack: {out}/briefing.pdf" in capsys.readouterr().out
