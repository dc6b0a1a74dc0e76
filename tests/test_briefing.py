"""The briefing pack: sentences whose numbers are summary.json's and say what runs.parquet says
(recomputed from it), a self-contained HTML page, a PDF with a cover and one page per chart, and
the report commands."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.folders import open_sweep
from sim.cli import main
from sim.reporting import briefing, findings, sections
from tests import recompute, report_sweeps
from tests.recompute import pct
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


OUTCOME_WORDS = {  # how the sentence names each outcome, first as the subject, then in a list
    "adopted": ("Adopted", "adopted"),
    "vetoed": ("Vetoed", "vetoed"),
    "failed": ("Fails for lack of votes", "failed (too few votes)"),
    "withdrawn": ("Withdrawn before a vote", "withdrawn"),
    "no_agreement": ("No agreement", "no agreement"),
}


def _expected_sentences(folder: Path) -> dict[str, str]:
    """The briefing's headline sentences at grid point 0, every figure recomputed from
    runs.parquet (shares, Wilson intervals, vote splits, troop mean and percentiles, the most
    likely coalition), independently of summary.json and of the sentence's own paths."""
    rows = recompute.runs(folder)
    labels = json.loads((folder / "summary.json").read_text())["labels"]
    names = labels["actors"]
    n = len(rows)
    out = {}
    count = Counter(r["outcome"] for r in rows)
    order = list(OUTCOME_WORDS)
    best = max(order, key=lambda o: (count[o], -order.index(o)))
    text = (f"{OUTCOME_WORDS[best][0]} in {pct(count[best] / n)} of runs "
            f"(95% CI {recompute.ci(count[best], n)})")  # fmt: skip
    for i, o in enumerate(o for o in order if o != best and count[o]):
        text += f"{'; ' if i == 0 else ', '}{OUTCOME_WORDS[o][1]} in {pct(count[o] / n)}"
        if o == "vetoed":
            vetoes = Counter(a for r in rows if r["vetoed_by"] for a in r["vetoed_by"].split("+"))
            cast = [f"{a} in {pct(vetoes[a] / n)}" for a in labels["veto"] if vetoes[a]]
            text += f" (veto cast by {', '.join(cast)})" if cast else ""
    out["outcome"] = text + "."
    adopted = [r for r in rows if r["outcome"] == "adopted"]
    if adopted:
        texts = Counter(r["text"] for r in adopted)
        top = min(texts, key=lambda t: (-texts[t], t))
        out["text"] = (f"The most likely text, adopted in {pct(texts[top] / n)} of runs "
                       f"({pct(texts[top] / len(adopted))} of adopted texts): ")  # fmt: skip
    shares = {m: recompute.vote_shares(rows, m) for m in labels["members"]}
    held = {m: v for m, v in shares.items() if v is not None}
    low = [m for m in sorted(held, key=lambda m: (held[m]["yes"], m)) if held[m]["yes"] < 1][:2]
    if low:
        out["votes"] = (
            "Least likely to vote yes, over the votes held: "
            + ", ".join(
                f"{names.get(m, m)} (yes {pct(held[m]['yes'])}, abstain {pct(held[m]['abstain'])}, "
                f"no {pct(held[m]['no'])})"
                for m in low
            )
            + "."
        )
    if labels["contributors"]:
        viable = sum(r["viable"] for r in rows)
        troops = np.array([r["delivered_troops"] for r in rows], dtype=float)
        p5, p95 = np.percentile(troops, [5, 95])
        out["force"] = (
            f"A viable force in {pct(viable / n)} of runs (95% CI {recompute.ci(viable, n)}); "
            f"delivered troops average {troops.mean():,.0f} "
            f"(nine runs in ten between {p5:,.0f} and {p95:,.0f})."
        )
        coalitions = Counter(r["coalition"] for r in rows if r["coalition"])
        if coalitions:
            top = min(coalitions, key=lambda c: (-coalitions[c], c))
            members = ", ".join(names.get(a, a) for a in top.split("+"))
            out["coalition"] = (
                f"Most likely coalition: {members}, in {pct(coalitions[top] / n)} of runs."
            )
    return out


@pytest.mark.parametrize("sweep", ["gaza", "grid1", "vetoed", "nocontrib"])
def test_headline_sentences_recomputed_from_the_runs(sweeps, sweep):
    """Each headline sentence word for word against figures recomputed from runs.parquet: a
    sentence that read the wrong figure (a member's abstain share where its no belongs, say)
    fails here even though its numbers match the summary paths it names."""
    found = [f.text for f in findings.sweep_findings(open_sweep(sweeps[sweep]))]
    expected = _expected_sentences(sweeps[sweep])
    assert {"outcome", "votes"} <= set(expected)
    for key, sentence in expected.items():
        if key == "text":
            assert any(t.startswith(sentence) for t in found), (sentence, found)
        else:
            assert sentence in found, (key, sentence, found)


def test_the_vote_sentence_tells_abstentions_from_noes(sweeps):
    """In the Gaza sweep the members least likely to vote yes mostly abstain and rarely vote
    no, so a sentence that swapped the two shares would read differently."""
    rows = recompute.runs(sweeps["gaza"])
    for m in ("RUS", "CHN"):
        shares = recompute.vote_shares(rows, m)
        assert shares["abstain"] > 0.5 > shares["no"] > 0, (m, shares)
    assert "Russian Federation (yes" in _expected_sentences(sweeps["gaza"])["votes"]


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_sweep_report_flag_writes_the_pack(tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["sweep", str(MINIMAL), "--runs", "5", "--workers", "1", "--out", str(out),
            "--quiet", "--report"]  # fmt: skip
    assert main(argv) == 0
    assert _pages(out / "briefing.pdf") == 1 + len(sections.plan(open_sweep(out))[0])
    assert (out / "briefing.html").is_file()
    assert f"briefing pack: {out}/briefing.pdf" in capsys.readouterr().out
