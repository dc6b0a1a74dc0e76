"""Faults and hostile input (issue 14): one test per numbered defect, then fuzzing.

Every test drives stabsim as a user does (``main([...])`` in this process, or
``python -m sim.cli`` in a subprocess where signals and processes are the point) and checks
the rule the issue asks for: nothing lost, nothing silently wrong, every failure caused by the
input or the environment one line and exit 2. New names are imported inside the tests that
use them, so each test fails on the old code for its own reason.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.experiments import sweep as sw
from tests import runs
from tests.conftest import SCENARIOS
from tests.test_sweep import noisy_scenario

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = SCENARIOS / "minimal.yaml"
RUNS, SEED, CHUNK = 600, 3, 10
HAS_PROC = Path("/proc/self/stat").exists()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    return noisy_scenario(tmp_path_factory.mktemp("scen") / "noisy.yaml")


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory) -> Path:
    """An uninterrupted sweep: every interrupted, damaged or contested one must equal it."""
    out = tmp_path_factory.mktemp("ref") / "ref"
    runs.sweep(scenario, out, runs=RUNS, seed=SEED, chunk_size=CHUNK, workers=1)
    return out


def argv(scenario: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(scenario), "--runs", str(RUNS), "--seed", str(SEED), "--chunk-size",
            str(CHUNK), "--out", str(out), "--quiet", *extra]  # fmt: skip


def command(scenario: Path, out: Path, *extra: str, runs_: int = RUNS) -> list[str]:
    """The same sweep as a subprocess with two workers."""
    args = argv(scenario, out, "--workers", "2", *extra)
    args[args.index("--runs") + 1] = str(runs_)
    return [sys.executable, "-m", "sim.cli", *args]


def table(out: Path):
    return pq.read_table(out / "runs.parquet")


def one_line(err: str) -> str:
    err = err.strip()
    assert err and "\n" not in err and "internal error" not in err and "Traceback" not in err, err
    return err


def interrupted(scenario: Path, out: Path, monkeypatch, after: int = 5) -> None:
    """A sweep stopped by Ctrl-C after ``after`` chunks (in this process)."""
    real, calls = sw.run_chunk, []

    def stop(plan, chunk):
        calls.append(chunk)
        if len(calls) > after:
            raise KeyboardInterrupt
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", stop)
    assert main([*argv(scenario, out), "--workers", "1"]) == 130
    monkeypatch.setattr(sw, "run_chunk", real)


def children(pid: int) -> list[int]:
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(d))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def n_parts(out: Path) -> int:
    return len(list((out / "parts").glob("runs-*.arrow"))) if (out / "parts").is_dir() else 0


# --- 1. concurrent runs into one folder -----------------------------------------------------------


def test_1_a_second_resume_or_sweep_is_refused_at_once_and_the_result_is_whole(
    scenario, reference, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "s"
    interrupted(scenario, out, monkeypatch)
    capsys.readouterr()
    lock = out / ".stabsim.lock"
    log = (tmp_path / "a.log").open("w")
    a = subprocess.Popen(command(scenario, out, "--resume", "--workers", "1"), cwd=ROOT,
                         stdout=log, stderr=log)  # fmt: skip
    try:
        assert wait_for(lambda: lock.exists() and lock.read_text().strip() == str(a.pid))
        for extra in (["--resume"], []):  # a second resume, and a fresh sweep, both at once
            t0 = time.perf_counter()
            assert main([*argv(scenario, out), "--workers", "1", *extra]) == 2
            assert time.perf_counter() - t0 < 5
            err = one_line(capsys.readouterr().err)
            assert "in use by another stabsim job" in err and f"process {a.pid}" in err
        assert a.wait(timeout=300) == 0
    finally:
        a.kill()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and not (out / "parts").exists() and not lock.exists()
    assert table(out).equals(table(reference))


def test_1_a_lock_left_by_a_dead_process_does_not_block(scenario, reference, tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / ".stabsim.lock").write_text("999999999\n")  # its holder is gone: no flock held
    assert main([*argv(scenario, out), "--workers", "1"]) == 0
    assert table(out).equals(table(reference))


# --- 2. damaged parts ------------------------------------------------------------------------------


def test_2_flipped_and_truncated_parts_are_named_rerun_and_the_result_is_identical(
    scenario, reference, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "s"
    interrupted(scenario, out, monkeypatch, after=8)
    parts = sorted((out / "parts").glob("runs-*.arrow"))
    assert len(parts) == 8
    flipped = bytearray(parts[2].read_bytes())
    flipped[len(flipped) * 3 // 4] ^= 0x04  # one bit, in the column data
    parts[2].write_bytes(bytes(flipped))
    parts[5].write_bytes(parts[5].read_bytes()[:200])  # cut short
    capsys.readouterr()
    assert main([*argv(scenario, out), "--workers", "1", "--resume"]) == 0
    err = capsys.readouterr().err
    assert parts[2].name in err and parts[5].name in err and "damaged" in err
    assert table(out).equals(table(reference))
    resumed = json.loads((out / "manifest.json").read_text())["resumed"][-1]
    assert len(resumed["rerun_damaged"]) == 2


def test_2_a_part_damaged_after_it_was_written_is_rerun_before_merging(
    scenario, reference, tmp_path, monkeypatch
):
    from sim.experiments import runner

    real, rotted = runner.Parts.write, []

    def write_then_rot(self, name, data):
        real(self, name, data)
        if name == "runs-p0000-c000004.arrow" and not rotted:  # changed after it was written
            rotted.append(name)
            path = self.dir / name
            raw = bytearray(path.read_bytes())
            raw[len(raw) // 2] ^= 0x01
            path.write_bytes(bytes(raw))

    monkeypatch.setattr(runner.Parts, "write", write_then_rot)
    report = runs.sweep(scenario, tmp_path / "s", runs=RUNS, seed=SEED, chunk_size=CHUNK)
    assert report.repaired == ["parts/runs-p0000-c000004.arrow (checksum mismatch)"]
    assert table(tmp_path / "s").equals(table(reference))


# --- 3. an alias bomb --------------------------------------------------------------------------------


def alias_bomb(levels: int = 24, width: int = 10) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def test_3_an_alias_bomb_is_refused_in_under_a_second_and_200_mb(tmp_path, capsys):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    assert len(bomb.read_bytes()) < 4000
    probe = textwrap.dedent(f"""
        import resource, sys, time
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # the old code: MemoryError
        from sim.cli import main
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        code = main(["validate", {str(bomb)!r}])
        seconds = time.perf_counter() - t0
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(code, seconds, grown / 1024, file=sys.stdout)
    """)  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    code, seconds, grown_mb = done.stdout.split()
    assert int(code) == 2 and float(seconds) < 1.0 and float(grown_mb) < 200
    err = one_line(done.stderr)
    assert err.startswith("bomb.yaml: YAML error at line") and "expands" in err


# --- 4. orphans -----------------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_PROC, reason="finds the workers through /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_4_no_worker_outlives_its_parent_and_sigterm_acts_as_ctrl_c(scenario, tmp_path, sig):
    out = tmp_path / "s"
    log = tmp_path / "log"
    with log.open("w") as f:  # not a pipe: orphans holding it open must not hang the test
        proc = subprocess.Popen(command(scenario, out, runs_=20_000), cwd=ROOT, stdout=f,
                                stderr=f)  # fmt: skip
    workers: list[int] = []
    try:
        assert wait_for(lambda: n_parts(out) >= 3)
        workers = children(proc.pid)
        assert len(workers) >= 2
        os.kill(proc.pid, sig)
        code = proc.wait(timeout=60)
        assert wait_for(lambda: not any(alive(w) for w in workers), 5), "workers outlived it"
    finally:
        proc.kill()
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
    if sig == signal.SIGTERM:
        text = log.read_text()
        assert code == 143, text
        assert "terminated (SIGTERM) with" in text and "runs saved" in text
        assert "--resume" in text and "Traceback" not in text
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "running" and n_parts(out) >= 3


# --- 5. --force and the user's files ------------------------------------------------------------------


def test_5_force_leaves_a_users_files_alone_and_names_them(scenario, tmp_path, capsys):
    from sim.experiments.runner import claim_files

    out = tmp_path / "s"
    assert main([*argv(scenario, out), "--workers", "1"]) == 0
    before = (out / "runs.parquet").read_bytes()
    (out / "notes.txt").write_text("mine")
    (out / "parts").mkdir()
    (out / "parts" / "keep.txt").write_text("also mine")
    capsys.readouterr()
    assert main([*argv(scenario, out), "--workers", "1", "--seed", "9", "--force"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "notes.txt" in err and "parts/keep.txt" in err and "--force" in err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "parts" / "keep.txt").read_text() == "also mine"
    assert (out / "runs.parquet").read_bytes() == before
    # what stabsim itself added to the job (report's charts) goes with it
    (out / "charts").mkdir()
    (out / "charts" / "outcomes.png").write_bytes(b"png")
    claim_files(out, ["charts/outcomes.png"])
    (out / "notes.txt").unlink()
    (out / "parts" / "keep.txt").unlink()
    assert main([*argv(scenario, out), "--workers", "1", "--seed", "9", "--force"]) == 0
    assert not (out / "charts").exists()
    assert json.loads((out / "manifest.json").read_text())["seed"] == 9


def test_5_a_folder_from_before_manifests_listed_files(scenario, tmp_path, capsys):
    out = tmp_path / "s"
    assert main([*argv(scenario, out), "--workers", "1"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"], manifest["checksums"]  # as an older stabsim wrote it
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "charts").mkdir()
    for name in ("charts/outcomes.png", "charts/outcomes.svg", "briefing.pdf", "notes.txt"):
        (out / name).write_text("x")
    assert main([*argv(scenario, out), "--workers", "1", "--force"]) == 2
    assert "(notes.txt)" in one_line(capsys.readouterr().err)  # report's files are the job's
    (out / "notes.txt").unlink()
    assert main([*argv(scenario, out), "--workers", "1", "--force"]) == 0
    assert not (out / "charts").exists() and not (out / "briefing.pdf").exists()


def test_5_a_manifest_cannot_make_force_remove_files_outside_the_folder(scenario, tmp_path):
    out = tmp_path / "s"
    assert main([*argv(scenario, out), "--workers", "1"]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("outside")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += ["../victim.txt", str(victim)]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main([*argv(scenario, out), "--workers", "1", "--force"]) == 0
    assert victim.read_text() == "outside"


# --- 6. NaN and infinity -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("actors.P.status_quo", {"dist": "normal", "mean": ".nan", "sd": 0.1, "clip": [0, 1]},
         "expected a finite number for 'mean'"),
        ("actors.E.ideal.mandate", {"dist": "choice", "values": ["endorses", ".nan"]},
         "choice values must be finite numbers or names"),
        ("actors.Q.capability", {"dist": "choice", "values": [0.2, ".nan"]},
         "choice values must be finite"),
        ("actors.Q.capability", {"dist": "choice", "values": [0.2, 0.4], "p": [".nan", 1]},
         "choice p must be 2 finite numbers"),
        ("actors.Q.capability", {"dist": "beta", "a": ".inf", "b": 2},
         "expected a finite number for 'a'"),
        ("actors.P.vote.noise", {"dist": "uniform", "low": 0, "high": ".inf"},
         "expected a finite number for 'high'"),
        ("actors.Q.capability", ".nan", "(a finite number), got nan"),
        ("force.troops_required", "-.inf", "(a finite number), got -inf"),
        ("actors.P.status_quo", {"dist": "normal", "mean": 0.5, "sd": 0.1, "clip": [0, ".inf"]},
         "finite numbers with low < high"),
    ],
)  # fmt: skip
def test_6_nan_and_infinity_are_refused_everywhere_a_number_is_read(
    data, tmp_path, capsys, path, value, expected
):
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    text = yaml.safe_dump(data).replace("'.nan'", ".nan").replace("'.inf'", ".inf")
    target = tmp_path / "bad.yaml"
    target.write_text(text.replace("'-.inf'", "-.inf"))
    assert main(["validate", str(target)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith(f"bad.yaml: {path}: ") and expected in err, err


# --- 7. the size of the text space ---------------------------------------------------------------------


def many_clauses(data: dict, n: int, k: int) -> dict:
    data = copy.deepcopy(data)
    for c in range(n):
        options = {f"o{i}": f"Option {i};" for i in range(k)}
        data["clauses"][f"c{c}"] = {"label": f"C{c}", "kind": "ordered", "options": options}
    return data


def test_7_a_text_space_past_2_62_is_refused_and_a_large_one_still_runs(data, tmp_path, capsys):
    from sim.scenario.textspace import ClauseDef, TextSpace

    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump(many_clauses(data, 16, 16)))  # 16^16 * 6 texts
    assert main(["validate", str(big)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("big.yaml: clauses: expected at most 2^62 possible texts")
    clause = ClauseDef(
        "c", "C", "ordered", "operative", tuple("abcdefghijklmnop"), None, ("",) * 16
    )
    space = TextSpace((clause,) * 16)
    assert space.n_texts == 16**16 and space.enumerate(None, 4096) is None  # no int64 wrap
    fine = tmp_path / "fine.yaml"
    fine.write_text(yaml.safe_dump(many_clauses(data, 14, 16)))  # 16^14 * 6 < 2^62
    assert main(["run", str(fine), "--seed", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]


def test_7_enumerate_limit_has_an_upper_bound(data, tmp_path, capsys):
    data["negotiation"]["enumerate_limit"] = 10_000_000
    target = tmp_path / "e.yaml"
    target.write_text(yaml.safe_dump(data))
    assert main(["validate", str(target)]) == 2
    err = one_line(capsys.readouterr().err)
    assert "negotiation.enumerate_limit: expected less than or equal to 100000" in err


# --- 8. sets ----------------------------------------------------------------------------------------------


def test_8_a_set_is_refused_in_a_file_and_in_set(tmp_path, capsys):
    text = MINIMAL.read_text().replace("members: [P, E, Q]", "members: !!set {P, E, Q}")
    target = tmp_path / "s.yaml"
    target.write_text(text)
    assert main(["validate", str(target)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("s.yaml: YAML error at line") and "!!set" in err
    assert main(["sweep", str(MINIMAL), "--runs", "2", "--out", str(tmp_path / "o"), "--quiet",
                 "--set", "council.members=!!set {P, E, Q}"]) == 2  # fmt: skip
    assert "--set: " in one_line(capsys.readouterr().err)


# --- 9. internal errors where the input or the environment is at fault ---------------------------------

BAD_FILES = {
    "dist given a mapping": ("actors.Q.capability", {"dist": {"uniform": 1}}),
    "dist given a list": ("actors.Q.capability", {"dist": ["uniform"]}),
    "max .inf on a scale": ("clauses.size", {"label": "Size", "kind": "scale", "min": 0,
                            "max": ".inf", "step": 100, "template": "{value}"}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_9_bad_values_are_one_line(data, tmp_path, capsys, case):
    path, value = BAD_FILES[case]
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    target = tmp_path / "bad.yaml"
    target.write_text(yaml.safe_dump(data).replace("'.inf'", ".inf"))
    assert main(["validate", str(target)]) == 2
    assert one_line(capsys.readouterr().err).startswith(f"bad.yaml: {path}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 32 levels"),
        ("a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n", "nested deeper than 32 levels"),
        ("a: " + "7" * 4400 + "\n", "an integer of 4,400 characters"),
        ("? [a, b]\n: 1\n", "a complex key"),
        ("a: &a [*a]\n", "an alias refers to the node that holds it"),
        ("a: b\n\x00", "special characters are not allowed"),
        ("a: 0b_\n", "'0b_' is not an integer"),
        ("a: !!int ''\n", "'' is not an integer"),
        ("a: !!bool maybe\n", "'maybe' is not true or false"),
        ("a: 2023-02-30\n", "'2023-02-30' is not a date"),
        ("a: !!map [b]\n", "expected a mapping"),
    ],
)
def test_9_hostile_yaml_is_one_line(tmp_path, capsys, text, expected):
    target = tmp_path / "h.yaml"
    target.write_text(text)
    assert main(["validate", str(target)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("h.yaml: ") and expected in err


def test_9_run_seed_minus_one_is_one_line(capsys):
    assert main(["run", str(MINIMAL), "--seed", "-1"]) == 2
    assert one_line(capsys.readouterr().err) == "--seed: expected a whole number >= 0, got -1"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied")],
)
def test_9_a_folder_that_cannot_be_written_is_one_line(scenario, tmp_path, capsys, monkeypatch,
                                                        code, reason):  # fmt: skip
    def refuse(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(pathlib.Path, "write_bytes", refuse)
    assert main([*argv(scenario, tmp_path / "s"), "--workers", "1"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "cannot write" in err and reason in err and str(tmp_path / "s") in err


def test_9_a_full_disk_is_one_line_and_resume_completes(scenario, reference, tmp_path, capsys,
                                                       monkeypatch):  # fmt: skip
    real, written = pathlib.Path.write_bytes, []

    def fill(self, data):
        if self.name.startswith(".tmp-runs-") and len(written) >= 6:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(self.name)
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", fill)
    out = tmp_path / "s"
    assert main([*argv(scenario, out), "--workers", "1"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "No space left on device" in err and "--resume" in err
    assert not list((out / "parts").glob(".tmp-*"))
    monkeypatch.setattr(pathlib.Path, "write_bytes", real)
    assert main([*argv(scenario, out), "--workers", "1", "--resume"]) == 0
    assert table(out).equals(table(reference))


def test_9_out_naming_a_file_or_a_colon_folder(scenario, tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main([*argv(scenario, afile), "--workers", "1"]) == 2
    assert (
        one_line(capsys.readouterr().err)
        == f"{afile} is a file, not a folder; choose another --out"
    )
    assert main([*argv(scenario, afile / "sub"), "--workers", "1"]) == 2
    assert "Not a directory" in one_line(capsys.readouterr().err)
    monkeypatch.chdir(tmp_path)
    assert main([*argv(scenario, Path("run:1")), "--workers", "1"]) == 0
    assert table(tmp_path / "run:1").num_rows == RUNS
    assert main(["summary", "run:1"]) == 0


@pytest.fixture(scope="module")
def finished(scenario, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fin") / "s"
    runs.sweep(scenario, out, runs=200, seed=SEED)
    return out


def damage(folder: Path, tmp_path: Path, how: str) -> Path:
    import shutil

    copy_ = tmp_path / how
    shutil.copytree(folder, copy_)
    summary = json.loads((copy_ / "summary.json").read_text())
    if how.endswith("-old"):  # a folder from before manifests recorded checksums
        manifest = json.loads((copy_ / "manifest.json").read_text())
        del manifest["checksums"]
        (copy_ / "manifest.json").write_text(json.dumps(manifest))
    if how.startswith("summary-key"):
        del summary["points"][0]["outcomes"]["adopted"]["count"]
    elif how.startswith("summary-outcome"):  # a whole outcome gone (fuzz_faults found it)
        del summary["points"][0]["outcomes"]["adopted"]
    elif how.startswith("summary-type"):
        summary["points"][0]["votes"] = ["P", "E"]
    elif how.startswith("summary-labels"):
        summary["labels"]["clauses"] = 3
    if how.startswith("summary"):
        (copy_ / "summary.json").write_text(json.dumps(summary))
    elif how.startswith("runs-bit"):
        raw = bytearray((copy_ / "runs.parquet").read_bytes())
        raw[len(raw) // 3] ^= 0x10
        (copy_ / "runs.parquet").write_bytes(bytes(raw))
    elif how.startswith("runs-cut"):
        (copy_ / "runs.parquet").write_bytes((copy_ / "runs.parquet").read_bytes()[:500])
    return copy_


@pytest.mark.parametrize("how", ["summary-key", "summary-type", "summary-labels", "runs-bit",
                                 "runs-cut", "summary-outcome", "summary-key-old",
                                 "summary-outcome-old", "summary-type-old", "summary-labels-old",
                                 "runs-cut-old"])  # fmt: skip
def test_9_summary_and_compare_of_damaged_folders_are_one_line(finished, tmp_path, capsys, how):
    bad = damage(finished, tmp_path, how)
    commands = [["compare", str(finished), str(bad)], ["compare", str(bad), str(finished)]]
    if how.startswith("summary"):
        commands.append(["summary", str(bad)])
    else:  # discover reads only the runs
        commands.append(["discover", str(bad), "--target", "adopted"])
    for args in commands:
        assert main(args) == 2, args
        err = one_line(capsys.readouterr().err)
        assert str(bad) in err and ("damaged" in err or "cannot read" in err), err


def deu_table(rows: list[list[str]] | None = None, caps: list[str] | None = None) -> str:
    """A small DEU III-shaped table: 75 columns, a capability line, then issues."""
    header = ["prnrnmc", "isnrnmc", *(f"h{i}" for i in range(2, 13))]
    header += [f"p{a}" for a in ACTORS] + [f"s{a}" for a in ACTORS] + ["rp", "out"]
    cap = [""] * 13 + (caps or ["1.5"] * 30) + [""] * 32
    lines = [header, cap]
    for k, r in enumerate(rows or [ISSUE, ISSUE]):
        lines.append([str(k + 1), "1", *[""] * 6, "QMV", *[""] * 4, *r])
    return "".join("\t".join(line) + "\n" for line in lines)


ACTORS = ["com", "ep", *(f"s{i:02d}" for i in range(28))]
ISSUE = [str(10 * (i % 10)) for i in range(30)] + ["50"] * 30 + ["", "40"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe" + deu_table().encode(), "not UTF-8 text"),
        (deu_table([ISSUE, ISSUE[:40]]).encode(), "line 4: expected 75 columns, found 53"),
        (deu_table([ISSUE, ISSUE[:30] + ["0"] * 30 + ["", "40"]]).encode(),
         "line 4: no actor has a position, a salience above 0 and a capability above 0"),
        (deu_table(caps=["0"] * 30).encode(), "line 2: expected a capability above 0"),
        (deu_table(caps=["inf"] + ["1"] * 29).encode(), "line 2, column 14: expected a finite"),
        (deu_table([ISSUE, [*ISSUE[:-1], "1e9"]]).encode(), "line 4, column 75: expected a finite number from 0 to 100"),
        (deu_table([ISSUE, [*ISSUE[:-1], "nan"]]).encode(), "line 4, column 75"),
    ],
)  # fmt: skip
def test_9_10_deu_input_is_checked_line_by_line(tmp_path, capsys, content, expected):
    target = tmp_path / "deu.tsv"
    target.write_bytes(content)
    assert main(["deu", str(target), "--protocol", "compromise", "--runs", "1"]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith(f"{target}: ") and expected in err, err


def test_9_the_deu_check_accepts_a_well_formed_table(tmp_path, capsys):
    target = tmp_path / "deu.tsv"
    target.write_text(deu_table())
    assert main(["deu", str(target), "--protocol", "compromise", "--runs", "1"]) == 0
    assert "2 issues" in capsys.readouterr().out


# --- 10. garbage accepted silently ---------------------------------------------------------------------


def test_10_compare_of_different_scenarios_warns_and_does_not_pair(finished, tmp_path, capsys):
    from tests.whatif_fixtures import one_lever

    other = tmp_path / "other"
    runs.sweep(one_lever(tmp_path / "lever.yaml"), other, runs=200, seed=SEED)
    capsys.readouterr()
    assert main(["compare", str(finished), str(other), "--json"]) == 0
    captured = capsys.readouterr()
    warning = one_line(captured.err)
    assert warning.startswith("stabsim: warning: A and B are sweeps of different scenarios")
    result = json.loads(captured.out)
    assert result["warnings"] and result["paired"] is False
    assert main(["compare", str(finished), str(finished), "--json"]) == 0
    same = capsys.readouterr()
    assert same.err == "" and json.loads(same.out)["warnings"] == []


def test_10_exponent_numbers_are_numbers_in_files_and_in_set(tmp_path, capsys):
    text = MINIMAL.read_text().replace("troops_required: 800 ", "troops_required: 8e2 ")
    target = tmp_path / "e.yaml"
    target.write_text(text)
    assert main(["validate", str(target)]) == 0
    assert main(["sweep", str(MINIMAL), "--runs", "2", "--out", str(tmp_path / "o"), "--quiet",
                 "--workers", "1", "--set", "actors.T.troops.max=1e3"]) == 0  # fmt: skip
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["set"] == {
        "actors.T.troops.max": "1e3"
    }


# --- 11. clean-up, leftovers, sizes ---------------------------------------------------------------------


def test_11_a_kill_during_clean_up_never_leaves_parts_in_a_complete_sweep(
    scenario, reference, tmp_path, monkeypatch
):
    from sim.experiments import runner

    real = runner.Parts.clear

    def killed(self):
        raise KeyboardInterrupt  # the kill arrives as parts/ is being removed

    monkeypatch.setattr(runner.Parts, "clear", killed)
    out = tmp_path / "s"
    with pytest.raises(KeyboardInterrupt):
        runs.sweep(scenario, out, runs=RUNS, seed=SEED, chunk_size=CHUNK)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "merged" and (out / "parts").is_dir()
    monkeypatch.setattr(runner.Parts, "clear", real)
    report = runs.sweep(scenario, out, runs=RUNS, seed=SEED, chunk_size=CHUNK, resume=True)
    assert report.status == "complete" and report.ran == 0  # nothing is run again
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not (out / "parts").exists() and table(out).equals(table(reference))


def test_11_a_full_disk_writing_the_manifest_leaves_nothing_that_blocks(scenario, tmp_path,
                                                                      capsys, monkeypatch):  # fmt: skip
    real = pathlib.Path.write_bytes

    def full(self, data):
        real(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "s"
    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    assert main([*argv(scenario, out), "--workers", "1"]) == 2
    assert "manifest.json: cannot write: No space left on device" in one_line(
        capsys.readouterr().err
    )
    monkeypatch.setattr(pathlib.Path, "write_bytes", real)
    assert not (out / ".tmp-manifest.json").exists()
    out.mkdir(exist_ok=True)
    (out / ".tmp-manifest.json").write_text('{"sch')  # what an older stabsim left
    assert main([*argv(scenario, out), "--workers", "1"]) == 0
    assert main([*argv(scenario, out), "--workers", "1", "--resume"]) == 0


def test_11_an_oversized_scenario_is_refused_at_once(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text(MINIMAL.read_text() + "# padding\n" * 400_000)  # 4 MB
    t0 = time.perf_counter()
    assert main(["validate", str(big)]) == 2
    assert time.perf_counter() - t0 < 1.0
    assert "larger than the 2 MiB a scenario may be" in one_line(capsys.readouterr().err)


ABSURD = [
    ["sweep", str(MINIMAL), "--runs", "1000000000000"],
    ["sweep", str(MINIMAL), "--runs", "1000000", "--vary", "actors.P.capability=0:1:1000"],
    ["sweep", str(MINIMAL), "--runs", "100000000", "--chunk-size", "1"],
    ["sensitivity", str(MINIMAL), "--base-runs", "1000000000"],
    ["backtest", "--runs", "1000000000"],
    ["power", str(MINIMAL), "--runs", "1000000000000"],
]


def test_11_absurd_sizes_are_refused_at_once(tmp_path):
    # In a subprocess with its address space capped: a regression must fail, not take the
    # machine's memory (the old code ran out of memory after 33 s on the first case).
    cases = [[*a, "--out", str(tmp_path / "o")] if a[0] != "power" else a for a in ABSURD]
    probe = textwrap.dedent(f"""
        import contextlib, io, json, resource, time
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        from sim.cli import main
        found = []
        for args in {cases!r}:
            err, t0 = io.StringIO(), time.perf_counter()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(args)
            found.append([code, time.perf_counter() - t0, err.getvalue()])
        print(json.dumps(found))
    """)  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    for args, (code, seconds, err) in zip(ABSURD, json.loads(done.stdout), strict=True):
        assert code == 2 and seconds < 3.0, (args, code, seconds, err)
        assert "expected at" in one_line(err), args
    assert not (tmp_path / "o").exists()


def test_11_workers_have_a_maximum():
    from sim.errors import OptionError
    from sim.experiments.runner import Execution

    with pytest.raises(OptionError, match="from 1 to 1,024"):
        Execution(out=Path("x"), workers=1_000_000).check()


# --- fuzzing: whatever the file holds, exit 0 or one line per problem, never a traceback -----------------

NASTY = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from([".nan", ".inf", "1e7", "!!set {a}", "&a [*a]"]),
    st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=3),
    st.fixed_dictionaries(
        {"dist": st.one_of(st.sampled_from(["triangular", "uniform", "normal", "beta", "choice"]),
                           st.integers(), st.lists(st.integers(), max_size=2),
                           st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))},
        optional={k: st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                               st.lists(st.floats(allow_nan=True), max_size=3))
                  for k in ("low", "high", "mode", "mean", "sd", "a", "b", "clip", "values", "p")},
    ),
)  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def check_validate(target: Path, capsys) -> None:
    code = main(["validate", str(target)])
    out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert all(line.startswith(f"{target.name}: ") for line in err.splitlines()), err
    else:
        assert out.strip().endswith(": ok")


FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@FUZZ
@given(st.data())
def test_fuzz_the_schema(data, tmp_path, capsys, draw):
    mutated = copy.deepcopy(data)
    for _ in range(draw.draw(st.integers(1, 3))):
        path = draw.draw(st.sampled_from(_paths(mutated)))
        node = mutated
        for key in path[:-1]:
            node = node[key]
        if draw.draw(st.booleans()) and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = draw.draw(NASTY)
    target = tmp_path / "mutant.yaml"
    target.write_text(yaml.safe_dump(mutated).replace("'.nan'", ".nan").replace("'.inf'", ".inf"))
    check_validate(target, capsys)


TOKENS = ["{", "}", "[", "]", ", ", ": ", "- ", "\n", "  ", "&a ", "*a", "!!set ", "!!str ",
          "!!int ", "!!float ", "? ", "<<: ", "|\n  ", "'", '"', "#", ".nan", ".inf", "1e7",
          "9" * 200, "~", "%YAML 1.1\n", "---\n", "x", "actors", "dist: ", "\t", "\x00",
          "\ufeff", "\\x", "0b_", "!!int ''", "!!bool x", "!!timestamp ", "2001-13-45",
          "!!map ", "!!omap ", "!!pairs ", "!!binary ", "!!null "]  # fmt: skip


@FUZZ
@given(st.data())
def test_fuzz_raw_yaml(tmp_path, capsys, draw):
    text = MINIMAL.read_text()
    for _ in range(draw.draw(st.integers(1, 4))):
        i = draw.draw(st.integers(0, len(text)))
        piece = "".join(draw.draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=6)))
        how = draw.draw(st.sampled_from(["insert", "delete", "value"]))
        if how == "insert":
            text = text[:i] + piece + text[i:]
        elif how == "delete":
            text = text[:i] + text[i + draw.draw(st.integers(1, 80)) :]
        else:  # a value replaced: the tokens land where the schema reads something
            lines = text.split("\n")
            keyed = [k for k, line in enumerate(lines) if ": " in line] or [0]
            k = draw.draw(st.sampled_from(keyed))
            lines[k] = lines[k][: lines[k].find(": ") + 2] + piece
            text = "\n".join(lines)
    target = tmp_path / "raw.yaml"
    target.write_text(text, encoding="utf-8")
    check_validate(target, capsys)
