"""Every chart builds from a small real sweep and from the edge cases, saves a non-blank PNG of
the expected size and an SVG, and titles only numbers that summary.json holds."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from sim.analysis.folders import open_sweep
from sim.errors import StabsimError
from sim.reporting import charts, style
from tests import report_sweeps
from tests.report_sweeps import vetoed_everywhere

EDGES = ["vetoed", "single", "nocontrib", "onepoint", "grid1", "grid2", "withdrawn"]


@pytest.fixture(scope="session")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    return report_sweeps.build(tmp_path_factory)


def _png(fig: Figure, dpi: int) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    return imread(buf)


def _not_blank(img: np.ndarray) -> None:
    grey = img[..., :3].mean(axis=2)
    assert grey.std() > 0.05, "image is (nearly) blank"
    assert (grey < 0.5).mean() > 0.002, "almost no dark pixels: nothing drawn"


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_chart_saves_png_and_svg_of_the_slide_size(sweeps, tmp_path, name):
    res = open_sweep(sweeps["gaza"])
    fig = charts.CHARTS[name](res)
    assert isinstance(fig, Figure)
    png, svg = charts.save(fig, tmp_path / name)
    img = imread(png)
    w, h = style.SLIDE
    assert img.shape[:2] == (round(h * style.DPI), round(w * style.DPI))
    _not_blank(img)
    head = svg.read_text()[:200]
    assert svg.stat().st_size > 1000 and "<svg" in svg.read_text()[:2000] and "<?xml" in head


@pytest.mark.parametrize("edge", EDGES)
def test_every_chart_builds_on_the_edge_cases(sweeps, edge):
    res = open_sweep(sweeps[edge])
    for name, fn in charts.CHARTS.items():
        fig = fn(res, size=style.PAGE)
        img = _png(fig, dpi=30)
        assert img.shape[:2] == (int(style.PAGE[1] * 30), int(style.PAGE[0] * 30)), name
        _not_blank(img)


def test_edge_cases_are_what_they_claim(sweeps):
    vetoed = json.loads((sweeps["vetoed"] / "summary.json").read_text())
    assert vetoed_everywhere(vetoed) and not vetoed["points"][0]["texts"]
    assert json.loads((sweeps["single"] / "summary.json").read_text())["points"][0]["runs"] == 1
    nocontrib = open_sweep(sweeps["nocontrib"])
    assert nocontrib.point()["contributors"] == {}
    assert len(open_sweep(sweeps["onepoint"]).summary["points"]) == 1


def test_empty_charts_say_why(sweeps):
    def texts(fig):
        return " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))

    vetoed = open_sweep(sweeps["vetoed"])
    assert "No text was adopted" in texts(charts.texts(vetoed))
    assert "no troop contributors" in texts(charts.coalition(open_sweep(sweeps["nocontrib"])))
    assert "--paths" in texts(charts.path(open_sweep(sweeps["nocontrib"])))
    assert "--vary" in texts(charts.grid(open_sweep(sweeps["gaza"])))


def _summary_numbers(summary: dict) -> set[str]:
    """Every probability, interval bound and grid value of the summary as charts print them."""
    out: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if {"p", "low", "high"} <= node.keys():
                out.add(style.pct(node["p"]))
                out.update(style.ci(node).rstrip("%").split("–"))
            if node.get("share_of_adopted") is not None:
                out.add(style.pct(node["share_of_adopted"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(summary)
    out.add(f"{100 * summary['confidence']:.0f}")  # "95% CI"
    for p in summary["points"]:
        out.update(f"{v:.3g}" for v in p["grid"].values())
    return {re.sub(r"[<>%]", "", x) for x in out}


@pytest.mark.parametrize("sweep", ["gaza", "grid1", "grid2", "vetoed"])
def test_titles_print_only_numbers_from_the_summary(sweeps, sweep):
    res = open_sweep(sweeps[sweep])
    known = _summary_numbers(json.loads((sweeps[sweep] / "summary.json").read_text()))
    for name, fn in charts.CHARTS.items():
        title = fn(res).texts[0].get_text()
        for token in re.findall(r"\d+(?:,\d{3})*(?:\.\d+)?", title):
            assert token in known, f"{name}: {token!r} in {title!r} is not a summary number"


def test_not_a_sweep_is_one_line_naming_the_folder(tmp_path):
    with pytest.raises(StabsimError, match=rf"^{re.escape(str(tmp_path))}: no summary.json") as e:
        open_sweep(tmp_path)
    assert "\n" not in str(e.value)
    with pytest.raises(StabsimError, match="no such folder"):
        open_sweep(tmp_path / "missing")
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(StabsimError, match="unfinished"):
        open_sweep(tmp_path)


def test_numbers_are_written_without_false_certainty():
    assert style.pct(0) == "0%" and style.pct(1) == "100%"
    assert style.pct(0.9996) == ">99.9%" and style.pct(0.0004) == "<0.1%"
    assert style.pct(0.8333) == "83.3%" and style.pct(None) == "n/a"
    assert style.ci({"low": 0.81, "high": 0.852}) == "81.0–85.2%"
