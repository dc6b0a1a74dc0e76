"""Validation on DEU III: loading, the baseline figure, batch = full models, the CLI."""

from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.experiments import deu

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "deu3_public.tsv"


@pytest.fixture(scope="module")
def data():
    if not DATA.is_file():
        pytest.skip(f"DEU III data not found at {DATA} (download it: doi 10.34810/data53)")
    return deu.load_deu(DATA)


def test_loads_180_issues(data):
    assert len(data.outcome) == 180 and len(data.actors) == 30
    assert data.actors[:2] == ("com", "ep") and set(data.rule) == {"QMV", "Unan"}


def test_compromise_baseline_is_the_published_figure(data):
    e = deu.errors(deu.compromise_baseline(data), data.outcome)
    assert round(e.mean, 1) == 20.5 and round(e.median, 1) == 17.0


@pytest.mark.parametrize("protocol", ["compromise", "expected-utility"])
def test_batch_forecast_equals_full_model_runs(data, protocol):
    issues = np.arange(0, 180, 30)
    batch = deu.predict(data, protocol, runs=2)[issues]
    models = deu.predict_models(data, protocol, runs=2, issues=issues)[issues]
    np.testing.assert_array_equal(batch, models)


def test_issue_scenario_council_rule(data):
    k = data.rule.index("Unan")
    sc = deu.issue_scenario(data, k, "penholder")
    assert sc.veto.all() and sc.votes_needed == 1
    k = data.rule.index("QMV")
    sc = deu.issue_scenario(data, k, "penholder")
    assert sc.actor_ids[sc.penholder] == "com" and sc.veto.sum() == 1


def test_cli_prints_the_table_and_writes_csv(data, tmp_path, capsys):
    out = tmp_path / "issues.csv"
    assert main(["deu", str(DATA), "--protocol", "compromise", "--runs", "2",
                 "--csv", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "compromise baseline" in text and "20.5" in text
    lines = out.read_text().splitlines()
    assert len(lines) == 181 and lines[0].startswith("proposal,issue,rule,outcome")


def test_missing_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["deu", str(tmp_path / "nope.tsv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope.tsv: file not found" in err and "\n" not in err


def test_wrong_table_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n3\t4\n")
    assert main(["deu", str(bad)]) == 2
    assert "expected a header with 75 columns" in capsys.readouterr().err
