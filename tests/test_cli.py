"""The stabsim command: what a user types and sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from tests.conftest import BUNDLED, SCENARIOS


def test_validate_prints_ok_per_file(capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", *map(str, BUNDLED)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{p}: ok" for p in BUNDLED]


def test_validate_bad_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text = (SCENARIOS / "minimal.yaml").read_text().replace("capability: 0.5", "capability: 1.5")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["validate", str(bad), str(SCENARIOS / "minimal.yaml")]) == 2
    captured = capsys.readouterr()
    assert (
        captured.err.strip()
        == "bad.yaml: actors.Q.capability: expected a number in [0, 1], got 1.5"
    )
    assert captured.out.strip().endswith("minimal.yaml: ok")


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "nowhere.yaml"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "nowhere.yaml: cannot read file: No such file or directory"
    )


def test_run_defaults_to_gaza_and_prints_a_summary(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "gaza_isf_2025.yaml · seed 4" in out
    for heading in ("Outcome:", "Votes", "Negotiation path", "Troop coalition"):
        assert heading in out


def test_run_json_round_trips(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", str(SCENARIOS / "minimal.yaml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "adopted" and data["text"] == {
        "mandate": "endorses",
        "lead": "regional",
    }


def test_show_text_prints_a_draft_resolution(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", str(SCENARIOS / "minimal.yaml"), "--show-text"]) == 0
    out = capsys.readouterr().out
    assert "The Security Council," in out
    assert "1. Endorses the establishment of a stabilization force;" in out
    assert "3. Decides to remain actively seized of the matter." in out


def test_gaza_text_puts_chapter_vii_in_the_preamble(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    """The penholder wants Chapter VII and will not draft without it (a red line on 'silent'),
    so the printed text (adopted or the last draft) invokes it: in the preamble, before the
    operative paragraphs, never among them."""
    data = yaml.safe_load((SCENARIOS / "gaza_isf_2025.yaml").read_text())
    data["actors"]["USA"]["ideal"]["chapter_vii"] = "chapter_vii"
    data["actors"]["USA"]["red_lines"]["chapter_vii"] = ["silent"]
    forced = tmp_path / "g.yaml"
    forced.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert main(["run", str(forced), "--show-text", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    body = out[out.index("The Security Council,") :]
    assert body.count("Acting under Chapter VII") == 1
    assert body.index("Acting under Chapter VII") < body.index("\n1. ")


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_an_internal_error_is_one_line_and_exit_3(monkeypatch, capsys) -> None:
    """A bug (not a user's mistake) surfaces as one line naming it, exit status 3."""
    import sim.model.simulate

    monkeypatch.delenv("STABSIM_DEBUG", raising=False)
    monkeypatch.setattr(sim.model.simulate, "run", _boom)
    assert main(["run", str(SCENARIOS / "minimal.yaml")]) == 3
    captured = capsys.readouterr()
    assert captured.err == (
        "stabsim: internal error: RuntimeError: boom (set STABSIM_DEBUG=1 for details)\n"
    )
    assert captured.out == ""


@pytest.mark.slow  # a fresh Python process
def test_stabsim_debug_shows_the_traceback() -> None:
    """With STABSIM_DEBUG=1 the error propagates, traceback and all (in a fresh process, where
    Python prints it and exits 1)."""
    import subprocess
    import sys

    code = (
        "import sys, sim.model.simulate as s\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "s.run = boom\n"
        "from sim.cli import main\n"
        f"sys.exit(main(['run', {str(SCENARIOS / 'minimal.yaml')!r}]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SCENARIOS.parent), "STABSIM_DEBUG": "1"}
    debug = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert "in cmd_run" in debug.stderr and debug.stderr.endswith("RuntimeError: boom\n")


def test_stabsim_debug_lets_the_error_through(monkeypatch) -> None:
    import sim.model.simulate

    monkeypatch.setenv("STABSIM_DEBUG", "1")
    monkeypatch.setattr(sim.model.simulate, "run", _boom)
    with pytest.raises(RuntimeError, match="boom"):
        main(["run", str(SCENARIOS / "minimal.yaml")])


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"stabsim {version('stabsim')}"


def test_run_json_with_show_text_carries_the_resolution(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--seed", "3", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(["run", "--seed", "3", "--json", "--show-text"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert main(["run", "--seed", "3", "--show-text"]) == 0
    printed = capsys.readouterr().out
    resolution = both.pop("resolution")
    assert both == plain  # the record is unchanged; the text is beside it
    assert resolution.startswith("United Nations") and resolution.strip() in printed


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests import runs

    out = tmp_path_factory.mktemp("cli") / "s"
    runs.sweep(SCENARIOS / "gaza_isf_2025.yaml", out, runs=40, seed=2)
    return out


def test_summary_json_prints_summary_json(small_sweep: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["summary", str(small_sweep), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(
        (small_sweep / "summary.json").read_text()
    )
    assert main(["summary", str(small_sweep), "--json", "--point", "0"]) == 0
    point = json.loads(capsys.readouterr().out)
    assert point["runs"] == 40 and point["point"] == 0


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_summary_tables_fit_columns(
    small_sweep: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["summary", str(small_sweep)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= columns
    monkeypatch.delenv("COLUMNS")
    assert main(["summary", str(small_sweep)]) == 0  # to a pipe, without COLUMNS: unwrapped
    widest = max(len(line) for line in capsys.readouterr().out.splitlines())
    assert widest > 120  # the adopted texts' row is long; nothing cut it


def test_a_wrapped_table_keeps_every_word() -> None:
    from sim.reporting.tables import table

    rows = [["1", "endorses / silent / all_necessary_measures / us_coordinated", "36.7%"]]
    out = table(["#", "text", "p"], rows, left=2, limit=40)
    assert max(len(line) for line in out.splitlines()) <= 40
    assert " ".join(out.split()).count("all_necessary_measures") == 1
    words = [w for w in rows[0][1].split()]
    assert [w for w in out.split() if w in words] == words  # in order, none lost


def test_run_set_changes_the_run_like_a_sweep_set(capsys: pytest.CaptureFixture) -> None:
    """--set on run fixes the parameter (recorded draws lose it) and is checked like sweep's."""
    assert main(["run", "gaza", "--seed", "3", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert (
        main(["run", "gaza", "--seed", "3", "--json", "--set", "actors.RUS.status_quo=0.97"]) == 0
    )
    fixed = json.loads(capsys.readouterr().out)
    assert "actors.RUS.status_quo" in base["params"]
    assert "actors.RUS.status_quo" not in fixed["params"]
    base["params"].pop("actors.RUS.status_quo")
    assert fixed["params"] == base["params"]  # every other draw is the same
    assert main(["run", "gaza", "--set", "actors.ZZ.status_quo=0.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gaza_isf_2025.yaml: actors.ZZ.status_quo: unknown actor 'ZZ'")
    assert "\n" not in err
    assert main(["run", "gaza", "--set", "actors.RUS.status_quo=9"]) == 2
    assert "actors.RUS.status_quo: expected a number in [-1, 1], got 9" in capsys.readouterr().err
