"""What-if sections in the briefing pack: pages added per section, sentences whose numbers are
the result files', honest sentences when there is nothing to rank, and wrong folders."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from sim.analysis.folders import open_sweep
from sim.cli import main
from sim.reporting import briefing, findings, sections
from tests import report_sweeps, runs
from tests.test_briefing import _pages, _Refs
from tests.test_sensitivity import DUMMIES, LEVER
from tests.test_sweep import noisy_scenario
from tests.whatif_fixtures import one_lever


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A copy of the small Gaza sweep, a small Sobol' analysis (adoption constant, viability
    decided by one lever) and a comparison with a known effect (P's veto made costly)."""
    base = tmp_path_factory.mktemp("whatif-pack")
    gaza = base / "gaza"
    shutil.copytree(report_sweeps.build(tmp_path_factory)["gaza"], gaza)
    sens = base / "sens"
    runs.sensitivity(
        one_lever(base / "lever.yaml"),
        sens,
        params=[LEVER, *DUMMIES],
        base_runs=16,
        replicates=1,
        swing_runs=3,
    )
    scen = noisy_scenario(base / "noisy.yaml")
    for name, sets in (("a", []), ("b", ["actors.P.vote.veto_cost=1"])):
        runs.sweep(scen, base / name, runs=200, seed=3, sets=sets)
    assert main(["compare", str(base / "a"), str(base / "b"), "--label",
                 "With P's veto made costly", "--out", str(base / "cmp")]) == 0  # fmt: skip
    return {"gaza": gaza, "sens": sens, "cmp": base / "cmp"}


def _in_order(f: findings.Finding, doc: dict) -> None:
    """Each number the finding names, freshly resolved from the file, appears in its text, in
    order."""
    at = 0
    for path, kind in f.numbers:
        value = findings.resolve(doc, path, kind)
        found = f.text.find(value, at)
        assert found >= 0, (value, f.text)
        at = found + len(value)


@pytest.mark.slow
def test_each_section_adds_its_pages_to_pdf_and_html(folders):
    gaza = folders["gaza"]
    plain = briefing.report(gaza)
    n_base = _pages(plain.pdf) - plain.cover_pages
    pack = briefing.report(gaza, sensitivity=folders["sens"], compare=folders["cmp"],
                           discover=["viable"])  # fmt: skip
    disc = json.loads((gaza / "whatif" / "discover-viable.json").read_text())
    # viability: tornado + indices; adoption is constant (left out); compare: 1; discover: 1 if rules
    added = 2 + 1 + (1 if disc["rules"] else 0)
    assert _pages(pack.pdf) == pack.cover_pages + n_base + added
    assert len(pack.sections) == 5  # with the caveat: what the numbers cover
    assert any("tornado-adopted" in o and "does not vary" in o for o in pack.omitted)
    page = pack.html.read_text()
    refs = _Refs()
    refs.feed(page)
    assert refs.images == n_base + added
    assert all(r.startswith("data:image/png;base64,") for r in refs.refs)
    assert "http:" not in page and "https:" not in page
    for key in ("tornado-viable", "indices-viable", "compare"):
        assert f'<figure id="{key}">' in page
        assert (gaza / "charts" / f"{key}.png").is_file()
    assert page.count("<section") == 5
    # the caveat says how far adoption moves across the analysed inputs' ranges
    caveat = page.split('<p class="caveat">')[1].split("</p>")[0]
    assert "In the sensitivity analysis of " in caveat and "chance of adoption" in caveat


def test_sensitivity_sentences_read_their_numbers_from_the_file(folders):
    doc = json.loads((folders["sens"] / "sensitivity.json").read_text())
    section = sections.sensitivity_section(folders["sens"])
    text = " ".join(f.text for f in section.found)
    for f in section.found:
        assert f.source == "sensitivity.json"
        _in_order(f, doc)
    assert "Adoption does not vary over the design" in text and "ranked" in text
    lever = doc["indices"]["viable"]["indices"]["actors.M01.troops.max"]
    # parameters in words, named from the analysed scenario's manifest
    assert f"Member M01's troop pledge {lever['ST']:.2f} (" in text
    assert "actors." not in text
    words = {"actors.M05.capability": "Member M05's weight in the talks",
             "actors.M06.flexibility": "Member M06's flexibility"}  # fmt: skip
    for dummy, said in words.items():
        ci = doc["indices"]["viable"]["indices"][dummy]["ST_ci"]
        assert ci["low"] <= 0  # a dummy's interval reaches zero, so it is not ranked
        assert f"{said} " not in text.split("viable force (")[1].split(".")[0]
    assert [p.key for p in section.pages] == ["tornado-viable", "indices-viable"]


def test_noise_is_not_ranked(folders):
    doc = copy.deepcopy(json.loads((folders["sens"] / "sensitivity.json").read_text()))
    for row in doc["indices"]["viable"]["indices"].values():
        row["ST_ci"]["low"] = -0.01  # every interval reaches zero
    text = " ".join(f.text for f in findings.sensitivity_findings(doc, "viable"))
    assert "No parameter's total Sobol' index for a viable force is clearly above zero" in text
    assert "matter most" not in text


def test_compare_sentences_are_the_commands_own(folders):
    doc = json.loads((folders["cmp"] / "compare.json").read_text())
    found = findings.compare_findings(doc)
    assert [f.text for f in found] == doc["sentences"]
    assert found[0].text.startswith("With P's veto made costly, ")
    for f in found:
        _in_order(f, doc)


def test_discover_sentences_read_the_written_rules(folders):
    section = sections.discover_section(folders["gaza"], "viable")
    doc = json.loads((folders["gaza"] / "whatif" / "discover-viable.json").read_text())
    boxes = doc["prim"]["boxes"]
    assert len(section.found) == 1 + len(doc["rules"]) + max(1, len(boxes))
    for f in section.found:
        _in_order(f, doc)
    tree, prim = section.found[1 : 1 + len(doc["rules"])], section.found[1 + len(doc["rules"]) :]
    for f, rule in zip([*tree, *prim], [*doc["rules"], *boxes], strict=False):
        assert (
            f"in {100 * rule['density']:.0f}% of runs, covering {100 * rule['coverage']:.0f}%"
            in f.text
        )
    # PRIM's box beside the tree, its conditions in words like the tree's
    assert prim[0].text.startswith("PRIM (EMA Workbench), the densest box covering at least 50%")
    assert all("actors." not in f.text for f in prim)
    if not boxes:
        assert "finds no box" in prim[0].text


@pytest.mark.parametrize(("option", "which", "expected"), [
    ("--sensitivity", "gaza", "no sensitivity.json (this is a sweep)"),
    ("--compare", "sens", "no compare.json (this is a sensitivity analysis)"),
    ("--compare", "missing", "no such folder"),
    ("--discover", "nonsense", "--target: expected one of"),
])  # fmt: skip
def test_wrong_folder_or_target_is_one_line_and_exit_2(folders, capsys, option, which, expected):
    value = (
        str(folders.get(which, folders["gaza"].parent / which)) if option != "--discover" else which
    )
    assert main(["report", str(folders["gaza"]), "--format", "html", option, value]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err


@pytest.mark.slow
def test_cli_report_prints_the_sections(folders, capsys):
    argv = ["report", str(folders["gaza"]), "--format", "html", "--compare", str(folders["cmp"])]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sections: Key findings; What the numbers cover; What changes" in out
    assert open_sweep(folders["gaza"])  # the sweep folder is still a sweep
