"""summary.json: Wilson intervals, and every figure recomputed independently from runs.parquet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analysis.summary import spread, stat, wilson
from sim.reporting.tables import summary_table as render
from tests import runs

MINIMAL = Path(__file__).resolve().parent.parent / "scenarios" / "minimal.yaml"


@pytest.mark.parametrize(
    "k, n, low, high",
    [  # Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_published_values(k, n, low, high):
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=5e-5) and hi == pytest.approx(high, abs=5e-5)


def test_wilson_edges_and_symmetry():
    assert wilson(0, 0) == (0.0, 1.0)
    lo, hi = wilson(20, 20)
    assert hi == 1.0 and lo == pytest.approx(1 - wilson(0, 20)[1])
    assert stat(3, 0)["p"] is None and stat(5, 10) == pytest.approx(
        {"count": 5, "of": 10, "p": 0.5, "low": wilson(5, 10)[0], "high": wilson(5, 10)[1]}
    )
    assert spread(np.zeros(0))["mean"] is None
    assert spread(np.arange(101.0)) == {"n": 101, "mean": 50.0, "p5": 5.0, "p95": 95.0}


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    d = yaml.safe_load(MINIMAL.read_text())
    for a in d["actors"].values():
        a["vote"] = {
            "noise": 0.1,
            "abstain_band": 0.1,
            "veto_cost": a.get("vote", {}).get("veto_cost", 0),
        }
    d["actors"]["P"]["status_quo"] = {"dist": "triangular", "low": 0.5, "mode": 0.75, "high": 1}
    d["actors"]["T"]["troops"]["max"] = {"dist": "uniform", "low": 500, "high": 1500}
    d["actors"]["E"]["ideal"]["mandate"] = {"dist": "choice", "values": ["endorses", "authorizes"]}
    d["force"]["troops_required"] = {"dist": "uniform", "low": 500, "high": 900}
    base = tmp_path_factory.mktemp("summary")
    scen = base / "s.yaml"
    scen.write_text(yaml.safe_dump(d, sort_keys=False))
    out = base / "out"
    runs.sweep(scen, out, runs=400, seed=11, vary=["actors.Q.status_quo=0.2:0.6:2"])
    return out


def _check(s: dict, count: int, of: int) -> None:
    assert (s["count"], s["of"]) == (count, of)
    assert (s["low"], s["high"]) == pytest.approx(wilson(count, of))


def test_summary_figures_match_runs_parquet(swept):
    df = pd.read_parquet(swept / "runs.parquet")
    summary = json.loads((swept / "summary.json").read_text())
    assert summary["schema"] == "stabsim-summary/1" and len(summary["points"]) == 2
    for pt in summary["points"]:
        d = df[df["point"] == pt["point"]]
        n = len(d)
        assert pt["runs"] == n == 400
        assert pt["grid"] == {"actors.Q.status_quo": d["grid.actors.Q.status_quo"].iloc[0]}
        for outcome, s in pt["outcomes"].items():
            _check(s, int((d["outcome"] == outcome).sum()), n)
        _check(pt["viable"], int(d["viable"].sum()), n)
        _check(pt["veto_cast_by"]["P"], int((d["vetoed_by"] == "P").sum()), n)
        adopted = d[d["outcome"] == "adopted"]
        assert (
            adopted["text"].notna().all() and d.loc[d["outcome"] != "adopted", "text"].isna().all()
        )
        for cid, options in pt["clauses"].items():
            for opt, s in options.items():
                _check(s, int((adopted[f"text.{cid}"] == opt).sum()), len(adopted))
        freq = adopted["text"].value_counts()
        ranked = sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(t["key"], t["count"]) for t in pt["texts"]] == ranked
        for t in pt["texts"]:
            _check(t, t["count"], n)
            assert t["key"] == "; ".join(f"{c}={o}" for c, o in t["text"].items())
        coal = d.loc[d["coalition"] != "", "coalition"].value_counts()
        ranked = sorted(coal.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(c["key"], c["count"]) for c in pt["coalitions"]] == ranked
        for m, v in pt["votes"].items():
            held = d[f"vote.{m}"].notna().sum()
            assert v["voted"] == held
            for name in ("yes", "abstain", "no"):
                _check(v[name], int((d[f"vote.{m}"] == name).sum()), held)
        for c, v in pt["contributors"].items():
            joined = d[d[f"joined.{c}"]]
            _check(v["joins"], len(joined), n)
            for kind in ("pledged", "delivered"):
                got = v[f"{kind}_when_joined"]
                values = joined[f"{kind}.{c}"].to_numpy()
                assert got["n"] == len(values) and got["mean"] == pytest.approx(values.mean())
                assert [got["p5"], got["p95"]] == pytest.approx(np.percentile(values, [5, 95]))
        assert pt["troops_delivered"]["mean"] == pytest.approx(d["delivered_troops"].mean())
        assert pt["rounds_mean"] == pytest.approx(d["rounds"].mean())
        total = d[[f"delivered.{c}" for c in pt["contributors"]]].sum(axis=1)
        assert (total == d["delivered_troops"]).all()
    # the grid point changes Q's votes, so the two points really differ
    q = [p["votes"]["Q"]["yes"]["p"] for p in summary["points"]]
    assert q[0] != q[1]


def test_render_shows_overview_and_points(swept):
    summary = json.loads((swept / "summary.json").read_text())
    overview = render(summary)
    # parameters in words, with the dotted path a user types
    assert "grid: Elected member's value of no resolution (actors.Q.status_quo)" in overview
    assert "--point K" in overview and "actors.Q.status_quo=" not in overview
    detail = render(summary, 1)
    assert "Point 1 (Elected member's value of no resolution = 0.6)" in detail
    assert "Troop coalitions" in detail
