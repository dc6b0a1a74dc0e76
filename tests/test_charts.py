"""Every chart builds from a small real sweep and from the edge cases, saves a non-blank PNG of
the expected size and an SVG; its title states the finding recomputed from runs.parquet; and
outcome and vote bars keep a hatch per category, so they read in greyscale."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import imread

from sim.analysis.folders import open_sweep
from sim.errors import StabsimError
from sim.reporting import charts, style
from tests import report_sweeps
from tests.recompute import pct, runs, vote_shares, wilson
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


# --- titles, recomputed from runs.parquet ---------------------------------------------------------

TITLE_WORDS = {
    "adopted": "Adopted",
    "vetoed": "Vetoed",
    "failed": "Fails for lack of votes",
    "withdrawn": "Withdrawn before a vote",
    "no_agreement": "No agreement",
}
ORDER = list(TITLE_WORDS)  # ties go to the earlier outcome


def _expected_titles(folder: Path) -> dict[str, str]:
    """Each chart's title at grid point 0 (the grid chart's over the points), from the runs."""
    every = runs(folder, point=None)
    labels = json.loads((folder / "summary.json").read_text())["labels"]
    at = [r for r in every if r["point"] == 0]
    n = len(at)
    out: dict[str, str] = {}
    counts = Counter(r["outcome"] for r in at)
    best = max(ORDER, key=lambda o: (counts[o], -ORDER.index(o)))
    out["outcomes"] = f"{TITLE_WORDS[best]} in {pct(counts[best] / n)} of runs"
    adopted = [r for r in at if r["outcome"] == "adopted"]
    if adopted:
        texts = Counter(r["text"] for r in adopted)
        top = min(texts, key=lambda t: (-texts[t], t))
        out["texts"] = (f"The most likely text is adopted in {pct(texts[top] / n)} of runs "
                        f"({pct(texts[top] / len(adopted))} of adopted texts)")  # fmt: skip
        still = []
        for cid, clause in labels["clauses"].items():  # in the scenario's order
            top_share = max(Counter(r[f"text.{cid}"] for r in adopted).values()) / len(adopted)
            if top_share < 0.9:
                still.append(clause["label"])
        out["clauses"] = (
            "Still open among adopted texts: " + ", ".join(still[:3])
            + (f" and {len(still) - 3} more" if len(still) > 3 else "")
            if still else
            "Every clause settles on one option in at least nine adopted texts in ten"
        )  # fmt: skip
    else:
        out["texts"] = out["clauses"] = "No text was adopted in any run"
    shares = {m: vote_shares(at, m) for m in labels["members"]}
    yes = {m: s["yes"] for m, s in shares.items() if s is not None}
    low = [m for m in sorted(yes, key=lambda m: (yes[m], m)) if yes[m] < 1][:2]
    if not yes:
        out["votes"] = "No draft was put to a vote in any run"
    elif not low:
        out["votes"] = "Every member votes yes in every vote held"
    else:
        out["votes"] = "Least likely to vote yes: " + ", ".join(
            [f"{low[0]} ({pct(yes[low[0]])} of votes)"] + [f"{m} ({pct(yes[m])})" for m in low[1:]]
        )
    if labels["contributors"]:
        k = sum(r["viable"] for r in at)
        lo, hi = wilson(k, n)
        out["coalition"] = (
            f"A viable force in {pct(k / n)} of runs (95% CI {100 * lo:.1f}–{100 * hi:.1f}%)"
        )
    points = sorted({r["point"] for r in every})
    if len(points) > 1:
        ends = []
        for what, value in (("Adoption", lambda r: r["outcome"] == "adopted"),
                            ("viable force", lambda r: r["viable"])):  # fmt: skip
            a, b = (pct(np.mean([value(r) for r in every if r["point"] == p]))
                    for p in (points[0], points[-1]))  # fmt: skip
            ends.append(f"{what} stays at {a}" if a == b else f"{what} {a} → {b}")
        out["grid"] = ", ".join(ends) + ", first to last grid point"
    return out


@pytest.mark.parametrize("sweep", ["gaza", "grid1", "grid2", "vetoed", "nocontrib"])
def test_titles_state_the_finding_recomputed_from_the_runs(sweeps, sweep):
    """Each title's finding and numbers, recomputed from runs.parquet (not from summary.json,
    which the charts read): the most likely outcome, the top text, the open clauses, the two
    members least likely to vote yes, viability with its Wilson interval, the grid's ends."""
    res = open_sweep(sweeps[sweep])
    expected = _expected_titles(sweeps[sweep])
    assert set(expected) >= {"outcomes", "texts", "clauses", "votes"}
    for name, title in expected.items():
        drawn = charts.CHARTS[name](res).texts[0].get_text()
        assert " ".join(drawn.split()) == title, name  # a long title is wrapped onto two lines


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


# --- greyscale: a hatch per outcome and per vote ---------------------------------------------------


def _hatches_by_colour(ax, colours: dict[str, str]) -> dict[str, set[str]]:
    """The hatches of the bars of each category, the category known by its fill colour."""
    by_rgb = {to_rgb(c): k for k, c in colours.items()}
    found: dict[str, set[str]] = {}
    for patch in ax.patches:
        k = by_rgb.get(to_rgb(patch.get_facecolor()))
        if k is not None:
            found.setdefault(k, set()).add(patch.get_hatch() or "")
    return found


def _distinct(hatches: dict[str, set[str]]) -> None:
    """One hatch per category, different categories different hatches, at most one left solid."""
    assert all(len(h) == 1 for h in hatches.values()), hatches
    flat = [next(iter(h)) for h in hatches.values()]
    assert len(set(flat)) == len(flat), hatches
    assert flat.count("") <= 1, hatches


def test_outcome_bars_carry_a_distinct_hatch_per_outcome(sweeps):
    ax = charts.outcomes(open_sweep(sweeps["gaza"])).axes[0]
    hatches = _hatches_by_colour(ax, style.OUTCOME_COLOURS)
    assert set(hatches) == {"adopted", "vetoed", "failed", "withdrawn", "no_agreement"}
    _distinct(hatches)


def test_vote_bars_and_their_key_carry_a_distinct_hatch_per_vote(sweeps):
    ax = charts.votes(open_sweep(sweeps["gaza"])).axes[0]
    hatches = _hatches_by_colour(ax, style.VOTE_COLOURS)
    assert set(hatches) == {"yes", "abstain", "no"}  # RUS and CHN vote all three ways
    _distinct(hatches)
    key = {h.get_label(): h.get_hatch() or "" for h in ax.get_legend().get_patches()}
    assert key == {k: next(iter(v)) for k, v in hatches.items()}  # the key matches the bars
