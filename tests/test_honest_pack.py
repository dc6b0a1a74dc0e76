"""An honest briefing pack: the cover says what the intervals cover and how many of the scenario's
numbers are sourced (read from the scenario text the manifest keeps); a what-if pack is titled
by what it changed, in words; every outcome other than adoption gets its reason; the path chart
starts at the opening draft; the coalition chart shows the viable share run by run; no labels
collide on an A4 page; no page of the PDF is empty, and nothing voted means no votes page."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.text import Text

from sim.analysis.folders import open_sweep
from sim.model.result import OUTCOMES
from sim.reporting import briefing, charts, findings, sections, style
from sim.scenario.provenance import of_manifest, provenance
from tests import report_sweeps, runs
from tests.layout import collisions, outside
from tests.report_sweeps import GAZA, MINIMAL


@pytest.fixture(scope="session")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    return report_sweeps.build(tmp_path_factory)


@pytest.fixture(scope="module")
def extra(tmp_path_factory) -> dict[str, Path]:
    """A what-if sweep (--set), a fine grid (41 values) and a scenario with long labels."""
    base = tmp_path_factory.mktemp("honest")
    runs.sweep(MINIMAL, base / "set", runs=20, seed=2, sets=["actors.P.status_quo=0.5"])
    runs.sweep(MINIMAL, base / "fine", runs=2, seed=2, vary=["actors.P.status_quo=0:1:41"])
    data = yaml.safe_load(MINIMAL.read_text())
    data["clauses"]["mandate"]["label"] = "Strength of the mandate given to the multinational force"
    data["clauses"]["mandate"]["labels"] = {
        "welcomes": "welcomes the intention of Member States (non-binding)",
        "endorses": "endorses the establishment of the force by Member States",
        "authorizes": "authorizes Member States under Chapter VII to use all necessary means",
    }
    data["clauses"]["months"] = {"label": "Duration of the authorization before renewal",
                                 "kind": "scale", "min": 1, "max": 24, "step": 1,
                                 "unit": "months", "template": "Decides {value} {unit};"}  # fmt: skip
    for a, name in zip(data["actors"], ["Penholder State with a long official name",
                                         "Permanent Member of the Council with a Veto",
                                         "Elected Member from the Latin American Group",
                                         "Troop Contributing Country of the Region"], strict=True):  # fmt: skip
        data["actors"][a].update(
            name=name, vote={**data["actors"][a].get("vote", {}), "noise": 0.3}
        )
        data["actors"][a].setdefault("ideal", {})["months"] = 12
        data["actors"][a].setdefault("salience", {})["months"] = 0.3
    data["negotiation"]["max_rounds"] = 12
    (base / "long.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    runs.sweep(base / "long.yaml", base / "long", runs=30, seed=1, paths=True)
    return {"set": base / "set", "fine": base / "fine", "long": base / "long"}


@dataclass
class Printed:
    """A pack, the figures its PDF printed (in page order) and its HTML as text."""

    pack: briefing.Pack
    pages: list
    html: str
    folder: Path  # a copy of the sweep, so the shared sweeps stay without a pack

    @property
    def cover(self) -> str:
        return " ".join(_fig_text(f) for f in self.pages[: self.pack.cover_pages])


@pytest.fixture(scope="module")
def packs(sweeps, extra, tmp_path_factory) -> Callable[[str], Printed]:
    """The pack of a sweep by name, written once into a copy of its folder; charts saved as
    small PNGs only (the pack's content is what is tested here, not the picture files)."""
    built: dict[str, Printed] = {}
    folders = {**sweeps, **extra}
    base = tmp_path_factory.mktemp("packs")

    def get(name: str) -> Printed:
        if name not in built:
            figs: list = []

            class Recording(PdfPages):
                def savefig(self, figure=None, **kw):
                    figs.append(figure)
                    return super().savefig(figure, **kw)

            save = charts.save
            folder = shutil.copytree(folders[name], base / name)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(briefing, "PdfPages", Recording)
                mp.setattr(style, "DPI", 30)
                mp.setattr(charts, "save", lambda fig, stem: save(fig, stem, ("png",)))
                pack = briefing.report(folder)
            built[name] = Printed(pack, figs, pack.html.read_text(), folder)
        return built[name]

    return get


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("•", " ")).strip()


def _fig_text(fig) -> str:
    return _words(" ".join(t.get_text() for t in fig.findobj(Text)))


def _html_text(page: str) -> str:
    return _words(html.unescape(re.sub(r"<[^>]+>", " ", page)))


# --- the cover -------------------------------------------------------------------------------


def test_the_cover_says_what_the_intervals_cover_in_html_and_pdf(sweeps, packs):
    printed = packs("gaza")
    summary = json.loads((sweeps["gaza"] / "summary.json").read_text())
    manifest = json.loads((sweeps["gaza"] / "manifest.json").read_text())
    counts = provenance(GAZA.read_text()).counts()  # the scenario file, counted independently
    assert of_manifest(manifest["scenario"]).counts() == counts
    expected = [
        f"The 95% intervals are Wilson intervals for the Monte Carlo sampling error of these "
        f"{summary['runs_per_point']:,} runs only",
        "They do not cover the uncertainty of the inputs",
        "or the model's own error",
        f"Of the scenario's {counts['total']} numbers, {counts['sourced']} are sourced (article or "
        f"public record), {counts['convention']} conventions, {counts['assumption']} assumptions "
        f"({counts['unlabelled']} unlabelled)",
    ]
    page = _html_text(printed.html)
    for sentence in expected:
        assert sentence in page and sentence in printed.cover, sentence
    assert '<p class="caveat">' in printed.html


def test_the_caveat_counts_the_manifests_scenario_text_and_its_bases(sweeps, tmp_path):
    folder = tmp_path / "s"
    shutil.copytree(sweeps["single"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["scenario"]["text"] = "a: 1   # [R] S/RES/1\nb: [2, 3]   # assumption\nc: 4\n"
    manifest["scenario"]["bases"] = [{"name": "base.yaml", "text": "d: 5   # convention\n"}]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    text = " ".join(f.text for f in findings.caveat_findings(open_sweep(folder)))
    assert ("Of the scenario's 5 numbers, 1 are sourced (article or public record), 1 conventions, "
            "2 assumptions (1 unlabelled)") in text  # fmt: skip
    del manifest["scenario"]["text"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    text = " ".join(f.text for f in findings.caveat_findings(open_sweep(folder)))
    assert "keeps no copy of the scenario file" in text and "Of the scenario's" not in text


def _sensitivity(scenario: str, rows: list[tuple[str, float, float, float, float]]) -> dict:
    """A sensitivity result's swings for adoption: (path, low, high, at_low, at_high) per input."""
    params = [{"path": path, "low": lo, "high": hi, "at_low": a, "at_high": b,
               "change_low": a - 0.8, "change_high": b - 0.8}
              for path, lo, hi, a, b in rows]  # fmt: skip
    return {"scenario": scenario, "swing_runs": 50,
            "swings": {"adopted": {"baseline": 0.8, "params": params}}}  # fmt: skip


def test_the_caveat_says_how_far_the_headline_moves_across_the_inputs(sweeps):
    res = open_sweep(sweeps["gaza"])
    name = res.summary["scenario"]
    doc = _sensitivity(name, [("actors.FRA.salience.leadership", 0.1, 0.9, 0.75, 0.85),
                              ("actors.IDN.troops.max", 1000, 4000, 0.4, 0.95)])  # fmt: skip
    last = findings.caveat_findings(res, doc, res.labels)[-1]
    assert last.source == "sensitivity.json"
    assert last.text.startswith("In the sensitivity analysis, one input at a time at either end "
                                "of its plausible range")  # fmt: skip
    assert last.text.endswith(
        "moves the chance of adoption between 40.0% (Indonesia's troop pledge at 1,000) and "
        "95.0% (Indonesia's troop pledge at 4,000); it is 80.0% with every input as in the file "
        "(50 runs each)."
    )
    at = 0
    for path, kind in last.numbers:  # every number read from the result, in order
        value = findings.resolve(doc, path, kind)
        at = last.text.index(value, at) + len(value)
    # another scenario's analysis is named; one where nothing moves says so; none, nothing
    flat = _sensitivity("other", [("actors.FRA.salience.leadership", 0.1, 0.9, 0.8, 0.8)])
    text = findings.caveat_findings(res, flat, res.labels)[-1].text
    assert text == ("In the sensitivity analysis of other, no input set alone to either end of "
                    "its range moves the chance of adoption from 80.0%.")  # fmt: skip
    flat["swings"] = None
    assert "ran without one-at-a-time swings" in findings.caveat_findings(res, flat)[-1].text
    assert len(findings.caveat_findings(res)) == 2  # no sensitivity result: no such sentence


def test_a_what_if_pack_is_titled_by_what_it_changed(sweeps, extra, packs):
    printed = packs("set")
    title = "Briefing: Minimal teaching case — if Permanent member's value of no resolution is 0.5"
    assert f"<h1>{title}</h1>" in printed.html
    assert _words(printed.pages[0].texts[0].get_text()) == title  # the PDF cover's title
    assert "with Permanent member's value of no resolution = 0.5" in charts.subtitle(
        open_sweep(extra["set"])
    )
    grid = findings.pack_title(open_sweep(sweeps["grid1"]))
    assert (
        grid
        == "Minimal teaching case — as Permanent member's value of no resolution goes from 0.3 to 1"
    )
    assert findings.pack_title(open_sweep(sweeps["gaza"])) == open_sweep(sweeps["gaza"]).title
    # an overlay's differences (the manifest's scenario changes) title the pack too
    res = open_sweep(extra["set"])
    res.manifest["scenario"]["changes"] = {"actors.Q.status_quo": 0.6, "name": "A what-if",
                                           "description": "Q cares less"}  # fmt: skip
    assert findings.pack_title(res) == (
        "Minimal teaching case — if Elected member's value of no resolution is 0.6 and "
        "Permanent member's value of no resolution is 0.5"
    )  # the file's words (name, description) are not changes of an input
    res.manifest["scenario"]["changes"] = {"actors.P.status_quo": 0.9, "actors.Q.status_quo": 0.6,
                                           "actors.P.flexibility": 0.1,
                                           "actors.Q.flexibility": 0.2}  # fmt: skip
    title = findings.pack_title(res)
    assert "no resolution is 0.9" not in title  # --set wins over the file, as in the runs
    assert title.endswith("and 1 other change") and title.count(" and ") == 3


@pytest.mark.parametrize("sweep", ["gaza", "vetoed", "withdrawn"])
def test_every_outcome_but_adoption_gets_its_reason(sweeps, sweep, packs):
    printed = packs(sweep)
    pt = json.loads((sweeps[sweep] / "summary.json").read_text())["points"][0]
    page, cover = _html_text(printed.html), printed.cover
    happened = [o for o in OUTCOMES[1:] if pt["outcomes"][o]["count"]]
    assert happened or sweep == "gaza"
    for o in happened:
        head = (
            f"{style.OUTCOME_LABELS[o]} runs ({o}: {style.pct(pt['outcomes'][o]['p'])}): most often"
        )
        assert head in page and head in cover, o
        assert pt["why"][o], o  # the run records gave a reason
    # a sweep written before runs recorded reasons says so rather than staying silent
    res = open_sweep(sweeps["vetoed"])
    res.summary["points"][0]["why"] = {}
    text = " ".join(f.text for f in findings.reason_findings(res))
    assert text == "Vetoed runs (vetoed: 100%): their run records give no reason."


# --- the charts ------------------------------------------------------------------------------


def test_the_path_chart_starts_at_the_opening_draft(sweeps):
    res = open_sweep(sweeps["gaza"])
    assert charts.first_round(res) == 0
    fig = charts.path(res)
    ax = next(a for a in fig.axes if a.get_title(loc="left") == "Mandate strength")
    assert ax.get_xticks()[0] == 0 and ax.get_xticklabels()[0].get_text().startswith("open")
    assert ax.get_xlim()[0] == -0.5
    cl = next(c for c in res.clauses if c.id == "mandate")
    m = charts.path_matrix(res, cl)
    opening = res.paths.filter(pc.equal(res.paths["round"], 0))
    index = {o: i for i, o in enumerate(cl.options)}
    assert list(m[:, 0]) == [index[o] for o in opening["text.mandate"].to_pylist()]
    assert "from the opening draft" in fig.texts[0].get_text()
    assert charts.path_active(res)[0] == res.summary["points"][0]["runs"]


@pytest.mark.parametrize("sweep", ["gaza", "grid1", "vetoed"])
def test_the_coalition_chart_shows_the_viable_share(sweeps, sweep):
    res = open_sweep(sweeps[sweep])
    viable = res.point()["viable"]
    fig = charts.coalition(res)
    ax = next(a for a in fig.axes if a.get_gid() == "delivered-share")
    blue, grey = ax.containers[0], ax.containers[1]
    assert sum(p.get_height() for p in blue) == pytest.approx(100 * viable["p"])
    assert sum(p.get_height() for p in (*blue, *grey)) == pytest.approx(100)
    assert all(p.get_x() >= 1 - 1e-9 for p in blue if p.get_height())  # viable: troops suffice
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [1.0]
    assert f"viable in {style.pct(viable['p'])} of runs" in _fig_text(fig)
    share = charts.delivered_share(res.runs_at(0))
    assert np.all(share[res.runs_at(0)["viable"].to_numpy()] >= 1)


@pytest.mark.parametrize("sweep", ["gaza", "grid1", "grid2", "vetoed", "withdrawn", "nocontrib"])
def test_no_labels_collide_on_an_a4_page_or_a_slide(sweeps, extra, sweep):
    """Drawn with matplotlib's renderer, no two tick or axis labels overlap and no text runs
    past the page's edges (the long-label, fine-grid and what-if sweeps with the Gaza case)."""
    for folder in [sweeps[sweep], *(extra.values() if sweep == "gaza" else [])]:
        res = open_sweep(folder)
        for name, fn in charts.CHARTS.items():
            if not charts.has_data(res, name):
                continue
            for size in (style.PAGE, style.SLIDE):
                fig = fn(res, size=size, note="A one-line reading of the chart.")
                where = (folder.name, name, size)
                assert not collisions(fig), (*where, collisions(fig)[:3])
                assert not outside(fig), (*where, outside(fig)[:3])


def test_nothing_voted_means_no_votes_page(sweeps, packs):
    res = open_sweep(sweeps["withdrawn"])
    pt = res.point()
    assert pt["outcomes"]["withdrawn"]["p"] == 1 and not any(
        v["voted"] for v in pt["votes"].values()
    )
    shown, omitted = sections.plan(res)
    assert "votes" not in shown
    assert "votes: no draft was put to the vote in any run" in omitted
    printed = packs("withdrawn")
    assert len(printed.pages) == printed.pack.cover_pages + len(shown)
    assert 'id="votes"' not in printed.html
    assert not (printed.folder / "charts" / "votes.png").exists()
    assert (printed.folder / "charts" / "outcomes.png").exists()
    assert charts.votes(res).get_gid() == charts.EMPTY  # asked for directly, it says why


@pytest.mark.parametrize("sweep", ["gaza", "vetoed", "withdrawn", "nocontrib", "grid2", "set"])
def test_no_page_of_the_pdf_is_empty(sweep, packs):
    printed = packs(sweep)
    assert len(printed.pages) >= printed.pack.cover_pages + 1
    for k, fig in enumerate(printed.pages):
        assert fig.get_gid() != charts.EMPTY, k
        assert any(ax.has_data() or ax.texts or ax.images for ax in fig.axes), k
    for fig in printed.pages[: printed.pack.cover_pages]:
        body = [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]
        assert len(body) >= 2  # a heading and something under it
