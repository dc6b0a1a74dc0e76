"""stabsim sweep: seeding, executors, resume, overwrite protection, overrides and grids."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from sim.cli import main
from sim.errors import FolderError, OptionError, OutputError
from sim.experiments import runner
from sim.experiments import sweep as sw
from sim.experiments.runner import Interrupted, Report
from sim.model.simulate import make_model
from sim.scenario.compiled import Scenario
from tests import runs

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.yaml"


def noisy_scenario(path: Path) -> Path:
    """The minimal case with vote noise and distributions, so runs differ."""
    d = yaml.safe_load(MINIMAL.read_text())
    for a in d["actors"].values():
        cost = a.get("vote", {}).get("veto_cost", 0)
        a["vote"] = {"noise": 0.08, "abstain_band": 0.1, "veto_cost": cost}
    d["actors"]["P"]["status_quo"] = {"dist": "triangular", "low": 0.5, "mode": 0.7, "high": 0.95}
    d["actors"]["Q"]["capability"] = {"dist": "uniform", "low": 0.2, "high": 0.8}
    d["actors"]["T"]["troops"]["max"] = {
        "dist": "triangular",
        "low": 600,
        "mode": 1000,
        "high": 1400,
    }
    d["actors"]["E"]["ideal"]["mandate"] = {"dist": "choice", "values": ["endorses", "authorizes"]}
    d["force"]["troops_required"] = {"dist": "uniform", "low": 500, "high": 900}
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    return noisy_scenario(tmp_path_factory.mktemp("scen") / "noisy.yaml")


def do_sweep(scenario: Path, out: Path, **kw) -> Report:
    kw.setdefault("workers", None)
    return runs.sweep(scenario, out, **kw)


def table(out: Path, name: str = "runs.parquet"):
    return pq.read_table(out / name)


@pytest.fixture(scope="module")
def reference(scenario_file, tmp_path_factory) -> Path:
    """An uninterrupted, in-process sweep of 300 runs: the table every other way must equal."""
    out = tmp_path_factory.mktemp("ref") / "ref"
    do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=300)
    return out


# --- seeds ------------------------------------------------------------------------------------


def test_run_seeds_are_fixed_distinct_and_replay_with_stabsim_run(scenario_file, reference):
    seeds = [sw.run_seed(7, i) for i in range(300)]
    assert len(set(seeds)) == 300 and all(0 <= s < 2**63 for s in seeds)
    assert sw.run_seed(7, 5) == sw.run_seed(7, 5) != sw.run_seed(8, 5)
    t = table(reference).to_pylist()
    assert [r["seed"] for r in t] == seeds and [r["run"] for r in t] == list(range(300))
    sc = Scenario.from_file(scenario_file)
    for row in t[:20]:  # `stabsim run --seed <seed>` replays the run
        r = make_model(sc, row["seed"]).run()
        assert (r.outcome, r.delivered_troops, r.votes.get("P")) == (
            row["outcome"],
            row["delivered_troops"],
            row["vote.P"],
        )
    assert len({r["outcome"] for r in t}) > 1  # the scenario really varies


def test_run_seeds_are_63_bits_of_the_seed_sequence_of_each_run() -> None:
    # The documented rule, computed a second way: the first 64-bit word of
    # SeedSequence(seed, spawn_key=(run,)), halved (as a Python int) to fit a signed 63 bits.
    def by_hand(seed: int, run: int) -> int:
        word = np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint64)[0]
        return int(word) // 2

    assert runner.run_seeds(7, 4) == [by_hand(7, i) for i in range(4)]
    assert runner.run_seeds(0, 3) == [by_hand(0, i) for i in range(3)]
    assert runner.run_seeds(7, 0) == []
    runner.check_seed(0)  # 0 is a seed
    with pytest.raises(OptionError) as err:
        runner.check_seed(-1)
    assert err.value.for_command_line() == "--seed: expected a whole number >= 0, got -1"


class _Sized:
    size_key = "chunk_size"


@pytest.mark.parametrize("size", [0, -3, "4", 2.0, True, None])
def test_resume_refuses_a_damaged_task_size_in_the_manifest(tmp_path, size) -> None:
    with pytest.raises(
        FolderError,
        match=r"manifest\.json: damaged \(chunk_size is .*\); add force=True to start over$",
    ):
        runner._task_size({"chunk_size": size}, _Sized(), tmp_path)


def test_resume_with_a_damaged_chunk_size_names_the_manifest(scenario_file, reference, tmp_path):
    out = tmp_path / "damaged"
    shutil.copytree(reference, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"], manifest["chunk_size"] = "running", 0
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FolderError, match=r"/damaged/manifest\.json: damaged \(chunk_size is 0\)"):
        do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=300, resume=True)


def test_resume_keeps_the_task_size_of_the_manifest() -> None:
    assert runner._task_size({"chunk_size": 1}, _Sized(), Path("x")) == 1
    assert runner._task_size({"chunk_size": 50}, _Sized(), Path("x")) == 50


# --- executors ----------------------------------------------------------------------------------


def test_two_workers_and_other_chunks_give_the_identical_table(scenario_file, reference, tmp_path):
    do_sweep(scenario_file, tmp_path / "two", runs=300, seed=7, workers=2, chunk_size=23)
    assert table(tmp_path / "two").equals(table(reference))
    do_sweep(scenario_file, tmp_path / "one", runs=300, seed=7, workers=1, chunk_size=41)
    assert table(tmp_path / "one").equals(table(reference))
    s1 = json.loads((reference / "summary.json").read_text())
    s2 = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert s1 == s2


def _sweep_argv(scenario_file, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(scenario_file), "--runs", "300", "--seed", "7", "--chunk-size", "30",
            "--out", str(out), *extra]  # fmt: skip


@pytest.mark.slow
def test_dask_local_gives_the_table_of_one_worker(scenario_file, reference, tmp_path, capsys):
    """``--dask-local 2`` for real: the command starts a local Dask cluster of two worker
    processes, runs the chunks there and closes it; the table is one worker's, run for run."""
    pytest.importorskip("dask.distributed")
    out = tmp_path / "d"
    assert main(_sweep_argv(scenario_file, out, "--dask-local", "2")) == 0
    assert "Dask (a local Dask cluster of 2 processes)" in capsys.readouterr().err
    assert table(out).equals(table(reference))
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_scheduler_runs_on_an_existing_dask_cluster(scenario_file, reference, tmp_path, capsys):
    """``--scheduler ADDRESS``: the command connects to a cluster it did not start (here one
    started by the test, its workers threads of this process), runs there, and leaves it up."""
    distributed = pytest.importorskip("dask.distributed")
    out = tmp_path / "s"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp://", dashboard_address=None) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        assert main(_sweep_argv(scenario_file, out, "--scheduler", address)) == 0
        with distributed.Client(address) as client:  # still up after the sweep
            assert sum(client.nthreads().values()) == 2
    assert f"Dask ({address})" in capsys.readouterr().err
    assert table(out).equals(table(reference))


@pytest.mark.slow  # the connection times out after 10 s
def test_an_unreachable_scheduler_is_one_line_and_leaves_no_folder(scenario_file, tmp_path, capsys):
    out = tmp_path / "u"
    argv = _sweep_argv(scenario_file, out, "--scheduler", "tcp://127.0.0.1:9", "--quiet")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in err and "\n" not in err
    assert not out.exists()


def test_missing_dask_says_how_to_install(scenario_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails
    code = main(
        [
            "sweep",
            str(scenario_file),
            "--runs",
            "5",
            "--out",
            str(tmp_path / "x"),
            "--dask-local",
            "1",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "pip install stabsim[dask]" in err and "\n" not in err


# --- interruption and resume -----------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_identical_table(scenario_file, tmp_path):
    out = tmp_path / "killed"
    args = [
        sys.executable,
        "-m",
        "sim.cli",
        "sweep",
        str(scenario_file),
        "--runs",
        "800",
        "--seed",
        "3",
        "--workers",
        "2",
        "--chunk-size",
        "8",
        "--out",
        str(out),
        "--quiet",
    ]
    proc = subprocess.Popen(args, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            parts = list((out / "parts").glob("runs-*.arrow")) if out.exists() else []
            if len(parts) >= 5:
                break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at once
    finally:
        proc.wait(timeout=30)
    done = len(list((out / "parts").glob("runs-*.arrow")))
    assert 5 <= done < 100, "the sweep was not interrupted mid-way"
    assert not (out / "runs.parquet").exists() and not (out / "summary.json").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert (
        main(
            [
                "sweep",
                str(scenario_file),
                "--runs",
                "800",
                "--seed",
                "3",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 2
    )  # refused without --resume
    assert (
        main(
            [
                "sweep",
                str(scenario_file),
                "--runs",
                "800",
                "--seed",
                "3",
                "--out",
                str(out),
                "--workers",
                "1",
                "--resume",
                "--quiet",
            ]
        )
        == 0
    )
    do_sweep(scenario_file, tmp_path / "whole", runs=800, seed=3, workers=2)
    assert table(out).equals(table(tmp_path / "whole"))
    assert not (out / "parts").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["resumed"]


def test_ctrl_c_says_how_to_resume_and_resume_completes(
    scenario_file, reference, tmp_path, monkeypatch, capsys
):
    real, calls = sw.run_chunk, []

    def interrupted(plan, chunk):
        calls.append(chunk)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", interrupted)
    out = str(tmp_path / "c")
    argv = [
        "sweep",
        str(scenario_file),
        "--runs",
        "300",
        "--seed",
        "7",
        "--workers",
        "1",
        "--chunk-size",
        "50",
        "--out",
        out,
        "--quiet",
    ]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "150 of 300 runs saved" in err and "--resume" in err
    monkeypatch.setattr(sw, "run_chunk", real)
    assert main([*argv, "--resume"]) == 0
    assert table(Path(out)).equals(table(reference))


def test_the_restart_hint_of_a_forced_sweep_resumes_instead_of_starting_over(
    scenario_file, reference, tmp_path, monkeypatch, capsys
):
    """A sweep started with --force and interrupted prints a command that keeps the saved runs:
    --force dropped, --resume added; the manifest records the resume and only the rest runs."""
    real, calls = sw.run_chunk, []

    def interrupted(plan, chunk):
        calls.append(chunk)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", interrupted)
    out = tmp_path / "f"
    argv = ["sweep", str(scenario_file), "--runs", "300", "--seed", "7", "--workers", "1",
            "--chunk-size", "50", "--out", str(out), "--quiet", "--force"]  # fmt: skip
    assert main(argv) == 130
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    again = shlex.split(hint)
    assert again[0] == "stabsim" and "--force" not in again and again.count("--resume") == 1
    ran: list = []
    monkeypatch.setattr(sw, "run_chunk", lambda plan, chunk: ran.append(chunk) or real(plan, chunk))
    assert main(again[1:]) == 0
    assert len(ran) == 3  # the three chunks not saved, not all six
    assert table(out).equals(table(reference))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1
    assert "--resume" in manifest["resumed"][0]["command"]


def test_resume_of_a_complete_sweep_runs_nothing_and_clears_leftover_parts(
    scenario_file, reference, tmp_path, monkeypatch
):
    ran = []
    monkeypatch.setattr(sw, "run_chunk", lambda plan, chunk: ran.append(chunk.index))
    out = tmp_path / "done"
    shutil.copytree(reference, out)
    (out / "parts").mkdir(exist_ok=True)
    (out / "parts" / "runs-p0000-c000000.arrow").write_bytes(b"left by a cut clean-up")
    report = do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=300, resume=True)
    assert ran == []
    assert (report.out, report.runs, report.ran, report.seconds) == (out, 300, 0, 0.0)
    assert (report.backend, report.task_size, report.status) == ("-", 0, "complete")
    assert not (out / "parts").exists()
    assert table(out).equals(table(reference))


def test_resume_into_a_folder_of_another_sweep_names_what_differs(
    scenario_file, reference, tmp_path
):
    out = tmp_path / "other"
    shutil.copytree(reference, out)
    with pytest.raises(FolderError, match=r"holds a different sweep \(differs in seed\)"):
        do_sweep(scenario_file, out, runs=300, seed=8, workers=1, chunk_size=300, resume=True)


def test_force_over_a_complete_sweep_runs_every_chunk_again_rather_than_resume(
    scenario_file, reference, tmp_path, monkeypatch
):
    real, ran = sw.run_chunk, []

    def spy(plan, chunk):
        ran.append(chunk.index)
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", spy)
    out = tmp_path / "again"
    shutil.copytree(reference, out)
    # A manifest from before manifests listed their files: --force still knows the sweep's own.
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    report = do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=100, force=True)
    assert ran == [0, 1, 2] and report.status == "fresh" and report.ran == 300
    assert table(out).equals(table(reference))


def test_resume_keeps_the_chunks_of_the_interrupted_run_whatever_chunk_size_it_is_given(
    scenario_file, reference, tmp_path, monkeypatch
):
    real, ran = sw.run_chunk, []

    def spy(plan, chunk):
        ran.append(chunk.index)
        if len(ran) == 4 and chunk.index == 3:
            raise KeyboardInterrupt
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", spy)
    out = tmp_path / "k"
    with pytest.raises(Interrupted):
        do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=50)
    ran.clear()
    # The manifest's 50-run chunks, not the 100 asked now: the three saved ones are kept.
    report = do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=100, resume=True)
    assert ran == [3, 4, 5] and report.task_size == 50 and report.ran == 150
    assert report.repaired == []  # no saved part was damaged
    assert table(out).equals(table(reference))


def test_resume_after_the_merge_was_written_runs_nothing(
    scenario_file, reference, tmp_path, monkeypatch
):
    ran = []
    monkeypatch.setattr(sw, "run_chunk", lambda plan, chunk: ran.append(chunk.index))
    out = tmp_path / "merged"
    shutil.copytree(reference, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "merged"  # killed between writing the table and marking it complete
    (out / "manifest.json").write_text(json.dumps(manifest))
    report = do_sweep(scenario_file, out, runs=300, seed=7, workers=1, chunk_size=300, resume=True)
    assert ran == [] and report.ran == 0
    assert (report.out, report.runs, report.seconds) == (out, 300, 0.0)
    assert (report.backend, report.task_size, report.status) == ("-", 300, "complete")
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert table(out).equals(table(reference))


def test_resume_runs_only_the_chunks_whose_parts_are_missing(
    scenario_file, reference, tmp_path, monkeypatch
):
    """Interrupted after three of six chunks, with one saved chunk's part lost since: resuming
    runs exactly the lost chunk and the three never run, and the table is the same."""
    real, ran, interrupt = sw.run_chunk, [], [True]

    def spy(plan, chunk):
        ran.append(chunk.index)
        if interrupt[0] and len(ran) == 4:
            raise KeyboardInterrupt
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", spy)
    out = tmp_path / "r"
    kw = {"runs": 300, "seed": 7, "chunk_size": 50, "workers": 1}
    with pytest.raises(Interrupted):
        do_sweep(scenario_file, out, **kw)
    parts = sorted(p.name for p in (out / "parts").glob("runs-*.arrow"))
    assert parts == [f"runs-p0000-c{i:06d}.arrow" for i in range(3)]
    (out / "parts" / parts[1]).unlink()  # chunk 1's part is lost
    ran.clear()
    interrupt[0] = False
    do_sweep(scenario_file, out, resume=True, **kw)
    assert ran == [1, 3, 4, 5]
    assert table(out).equals(table(reference))


def stopped_sweep(scenario_file: Path, out: Path, monkeypatch, saved: int, record: bool = True,
                  **kw) -> list[int]:  # fmt: skip
    """A one-worker sweep that Ctrl-C stops as chunk ``saved`` starts (chunks 0 to saved - 1
    are saved). From then on the chunk runner records each chunk it runs in the list returned;
    without ``record`` the real runner is put back (worker processes cannot run a test's
    closure)."""
    real, ran = sw.run_chunk, []

    def stop(plan, chunk):
        if chunk.index == saved:
            raise KeyboardInterrupt
        return real(plan, chunk)

    def recorder(plan, chunk):
        ran.append(chunk.index)
        return real(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", stop)
    with pytest.raises(Interrupted):
        do_sweep(scenario_file, out, **{**kw, "workers": 1})
    monkeypatch.setattr(sw, "run_chunk", recorder if record else real)
    return ran


def test_resume_reruns_a_damaged_part_and_says_so_in_the_manifest(
    scenario_file, reference, tmp_path, monkeypatch
):
    """Interrupted after three of six chunks; one saved part then damaged (a flipped byte).
    Resuming reruns that chunk and the three never run; while it runs the manifest says
    "running" and records the resume (its command, when, and the damaged part); the report
    names the part; the folder ends complete with the record kept and the same table."""
    out = tmp_path / "d"
    kw = {"runs": 300, "seed": 7, "chunk_size": 50, "workers": 1}
    ran = stopped_sweep(scenario_file, out, monkeypatch, saved=3, **kw)
    part = out / "parts" / "runs-p0000-c000001.arrow"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    seen, record = [], sw.run_chunk

    def look(plan, chunk):  # the manifest on disk as the first chunk of the resume starts
        if not seen:
            seen.append(json.loads((out / "manifest.json").read_text()))
        return record(plan, chunk)

    monkeypatch.setattr(sw, "run_chunk", look)
    report = do_sweep(scenario_file, out, resume=True, **kw)
    assert ran == [1, 3, 4, 5] and report.ran == 200 and report.status == "resume"
    assert [r.split(" ")[0] for r in report.repaired] == ["parts/runs-p0000-c000001.arrow"]
    (during,) = seen
    assert during["status"] == "running" and during["finished"] is None
    assert {"runs.parquet", "summary.json"} <= set(during["files"])
    (entry,) = during["resumed"]
    assert entry["rerun_damaged"] == report.repaired and isinstance(entry["at"], str)
    assert entry["at"] >= during["started"]
    final = json.loads((out / "manifest.json").read_text())
    assert final["status"] == "complete" and final["resumed"] == [entry]
    assert set(final["checksums"]) == {"runs.parquet", "summary.json"}  # what readers verify
    # the report carries the summary the resume wrote (what `stabsim sweep` prints from)
    assert report.result == json.loads((out / "summary.json").read_text())
    assert table(out).equals(table(reference))


def test_resume_without_damage_records_no_damaged_parts(scenario_file, tmp_path, monkeypatch):
    """The control: a resume with every saved part intact records the resume without the
    ``rerun_damaged`` key, and its report names no part."""
    out = tmp_path / "n"
    kw = {"runs": 100, "seed": 7, "chunk_size": 50, "workers": 1}
    ran = stopped_sweep(scenario_file, out, monkeypatch, saved=1, **kw)
    report = do_sweep(scenario_file, out, resume=True, **kw)
    (entry,) = json.loads((out / "manifest.json").read_text())["resumed"]
    assert ran == [1] and report.repaired == [] and set(entry) == {"command", "at"}


@pytest.mark.parametrize("workers", [1, 2])
def test_without_a_chunk_size_each_worker_gets_four_chunks_recorded_for_resume(
    scenario_file, reference, tmp_path, monkeypatch, workers
):
    """No --chunk-size: chunks of about CHUNK_SECONDS of work, but at least four per worker:
    with the time target out of the way the size is ceil(runs / (4 x workers)), 75 runs a
    chunk for one worker and 38 for two; the manifest keeps it and the table is the
    reference's. With the real target, the size is never above that."""
    out = tmp_path / f"auto{workers}"
    balance = -(-300 // (4 * workers))
    report = do_sweep(scenario_file, out, runs=300, seed=7, workers=workers, chunk_size=None)
    assert 1 <= report.task_size <= balance
    monkeypatch.setattr(sw, "CHUNK_SECONDS", 1e9)
    report = do_sweep(scenario_file, out, runs=300, seed=7, workers=workers, chunk_size=None,
                      force=True)  # fmt: skip
    assert report.task_size == balance
    assert json.loads((out / "manifest.json").read_text())["chunk_size"] == balance
    assert table(out).equals(table(reference))


def test_a_resume_with_chunks_left_runs_them_on_the_workers_asked_for(
    scenario_file, reference, tmp_path, monkeypatch
):
    """Interrupted after one of six chunks, a resume with two workers runs the five left on two
    local processes (not in this process), and the table is the reference's."""
    out = tmp_path / "w"
    kw = {"runs": 300, "seed": 7, "chunk_size": 50}
    stopped_sweep(scenario_file, out, monkeypatch, saved=1, record=False, **kw)
    report = do_sweep(scenario_file, out, workers=2, resume=True, **kw)
    assert (report.backend, report.ran) == ("2 local processes", 250)
    assert table(out).equals(table(reference))


class _TornFile:
    """A file whose first write puts half the bytes on disk, then fails (a full disk)."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        data = bytes(data)
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(28, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def __getattr__(self, name):
        return getattr(self.f, name)


def test_a_part_torn_mid_write_never_appears_under_its_final_name(
    scenario_file, reference, tmp_path, monkeypatch
):
    """The disk fills while the third chunk's part is written: the sweep fails, but no part
    file holds half a chunk under its final name (which would mark the chunk done), so the
    folder resumes to the same table."""
    import builtins
    import io

    out = tmp_path / "t"
    real_open, writes = io.open, []

    def tearing_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        path = Path(str(file))
        if "w" in mode and path.parent == out / "parts" and "runs-" in path.name:
            writes.append(path.name)
            if len(writes) == 3:
                return _TornFile(f)
        return f

    monkeypatch.setattr(io, "open", tearing_open)
    monkeypatch.setattr(builtins, "open", tearing_open)
    kw = {"runs": 300, "seed": 7, "chunk_size": 50, "workers": 1}
    with pytest.raises(OutputError, match="No space left"):  # one line, the work kept
        do_sweep(scenario_file, out, **kw)
    monkeypatch.undo()
    assert len(writes) == 3
    finals = sorted((out / "parts").glob("runs-*.arrow"))
    assert [p.name for p in finals] == [f"runs-p0000-c{i:06d}.arrow" for i in range(2)]
    for p in finals:  # each part under its final name is whole
        with pa.ipc.open_stream(pa.memory_map(str(p))) as reader:
            assert reader.read_all().num_rows == 50
    do_sweep(scenario_file, out, resume=True, **kw)
    assert table(out).equals(table(reference))
    assert not (out / "parts").exists()


# --- the output folder --------------------------------------------------------------------------------


def test_a_folder_holding_another_sweep_is_not_overwritten(scenario_file, tmp_path, capsys):
    out = tmp_path / "s"
    base = [
        "sweep",
        str(scenario_file),
        "--runs",
        "20",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main([*base, "--seed", "1"]) == 0
    before = (out / "runs.parquet").read_bytes()
    capsys.readouterr()
    assert main([*base, "--seed", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds a different sweep (differs in seed)" in err and "--force" in err
    assert "\n" not in err and (out / "runs.parquet").read_bytes() == before
    assert main([*base, "--seed", "1"]) == 2  # the same sweep again: refused, not redone
    assert main([*base, "--seed", "1", "--resume"]) == 0  # complete: nothing to do
    assert main([*base, "--seed", "2", "--force"]) == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main([*base[:-3], "--out", str(other), "--quiet"]) == 2
    capsys.readouterr()
    # --force replaces only a job's own files: a folder holding a user's file is refused
    assert main([*base[:-3], "--out", str(other), "--quiet", "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert "notes.txt" in err and "\n" not in err
    assert (other / "notes.txt").read_text() == "mine" and not (other / "manifest.json").exists()


def test_manifest_records_the_sweep(scenario_file, reference):
    m = json.loads((reference / "manifest.json").read_text())
    assert m["status"] == "complete" and m["seed"] == 7 and m["runs"] == 300
    assert m["scenario"]["text"] == scenario_file.read_text()
    assert len(m["scenario"]["sha256"]) == 64 and m["started"] and m["finished"]
    assert {"stabsim", "numpy", "mesa", "pyarrow", "python"} <= set(m["versions"])


# --- --set and --vary ----------------------------------------------------------------------------------


def _differences(a: Scenario, b: Scenario) -> list[tuple[str, tuple]]:
    return [
        (name, tuple(ix)) for name in a.base for ix in np.argwhere(a.base[name] != b.base[name])
    ]


def test_set_changes_exactly_what_it_names(scenario_file, reference, tmp_path):
    base = Scenario.from_file(scenario_file)
    cfg = sw.SweepConfig(scenario=scenario_file, sets=["actors.Q.status_quo=0.45"])
    design = sw.prepare(cfg)
    points, identity = design.points, design.identity
    i = base.index["Q"]
    assert _differences(base, points[0]) == [("status_quo", (i,))]
    assert points[0].base["status_quo"][i] == 0.45 and identity["set"] == {
        "actors.Q.status_quo": "0.45"
    }
    # fixing a distribution removes exactly that parameter's draw
    pts = sw.prepare(
        sw.SweepConfig(scenario=scenario_file, sets=["force.troops_required=700"])
    ).points
    assert {s.path for s in base.slots} - {s.path for s in pts[0].slots} == {
        "force.troops_required"
    }
    assert pts[0].base["troops_required"] == 700
    # a sweep with the override: the drawn parameters are unchanged run by run
    do_sweep(
        scenario_file,
        tmp_path / "s",
        runs=300,
        seed=7,
        workers=1,
        sets=["actors.Q.status_quo=0.45"],
    )
    t, ref = table(tmp_path / "s"), table(reference)
    params = [c for c in ref.column_names if c.startswith("param.")]
    assert params and t.select(params).equals(ref.select(params))


def test_vary_sweeps_a_grid_with_common_random_numbers(scenario_file, tmp_path):
    out = tmp_path / "g"
    do_sweep(
        scenario_file,
        out,
        runs=40,
        seed=7,
        workers=2,
        chunk_size=15,
        vary=["actors.Q.status_quo=0.1:0.5:3", "negotiation.force_weight=0:0.6:2"],
    )
    t = table(out)
    assert t.num_rows == 40 * 6
    grid = sorted(
        set(
            zip(
                t["grid.actors.Q.status_quo"].to_pylist(),
                t["grid.negotiation.force_weight"].to_pylist(),
                strict=True,
            )
        )
    )
    assert grid == [(a, b) for a in (0.1, 0.3, 0.5) for b in (0.0, 0.6)]
    points = t["point"].to_numpy()
    assert sorted(set(points)) == list(range(6))
    params = [c for c in t.column_names if c.startswith("param.")]
    first = t.filter(points == 0)
    for p in range(1, 6):  # same seeds and draws at every grid point
        at = t.filter(points == p)
        assert at.select(["run", "seed", *params]).equals(first.select(["run", "seed", *params]))
    base = Scenario.from_file(scenario_file)
    pts = sw.prepare(
        sw.SweepConfig(scenario=scenario_file, vary=["actors.Q.status_quo=0.1:0.5:3"])
    ).points
    i = base.index["Q"]
    for pt, v in zip(pts, (0.1, 0.3, 0.5), strict=True):
        expected = [] if v == base.base["status_quo"][i] else [("status_quo", (i,))]
        assert _differences(base, pt) == expected and pt.base["status_quo"][i] == v
    summary = json.loads((out / "summary.json").read_text())
    assert [p["grid"] for p in summary["points"]][:2] == [
        {"actors.Q.status_quo": 0.1, "negotiation.force_weight": 0.0},
        {"actors.Q.status_quo": 0.1, "negotiation.force_weight": 0.6},
    ]


def test_categorical_and_many_axes_make_every_combination(scenario_file, tmp_path):
    """Options listed by name, numbers listed, and a range: 2 x 2 x 3 points, each run with the
    same seeds; the option axis is a string column and reaches the scenario."""
    out = tmp_path / "cat"
    do_sweep(
        scenario_file, out, runs=8, seed=3, workers=1,
        vary=["actors.P.ideal.mandate=welcomes,authorizes", "actors.Q.status_quo=0.1,0.5",
              "negotiation.max_rounds=2:6:3"],
    )  # fmt: skip
    t = table(out)
    assert t.num_rows == 8 * 12
    assert str(t.schema.field("grid.actors.P.ideal.mandate").type) == "string"
    combos = list(dict.fromkeys(zip(
        t["grid.actors.P.ideal.mandate"].to_pylist(), t["grid.actors.Q.status_quo"].to_pylist(),
        t["grid.negotiation.max_rounds"].to_pylist(), strict=True)))  # fmt: skip
    assert combos == [
        (m, q, r) for m in ("welcomes", "authorizes") for q in (0.1, 0.5) for r in (2.0, 4.0, 6.0)
    ]
    pts = sw.prepare(
        sw.SweepConfig(scenario=scenario_file, vary=["actors.P.ideal.mandate=welcomes,authorizes"])
    ).points
    mandate = [c.id for c in pts[0].space.clauses].index("mandate")
    p = pts[0].index["P"]
    assert [pt.base["ideal_pos"][p, mandate] for pt in pts] == [0.0, 1.0]  # welcomes, authorizes
    seeds = [t.filter(t["point"].to_numpy() == k)["seed"].to_pylist() for k in range(12)]
    assert all(s == seeds[0] for s in seeds)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"][6]["grid"] == {
        "actors.P.ideal.mandate": "authorizes", "actors.Q.status_quo": 0.1,
        "negotiation.max_rounds": 2.0,
    }  # fmt: skip
    assert main(["summary", str(out)]) == 0  # the tables print option names
    assert main(["report", str(out), "--format", "html"]) == 0  # and the grid chart draws


@pytest.mark.parametrize(
    "extra, expected",
    [
        (
            ["--set", "actors.E.capability=2"],
            "actors.E.capability: expected a number in [0, 1], got 2",
        ),
        (["--set", "actors.ZZZ.capability=0.5"], "unknown actor 'ZZZ'"),
        (["--set", "actors.E.capabilty=0.3"], "actors.E.capabilty"),
        (["--set", "no-equals-sign"], "expected PATH=VALUE"),
        (["--vary", "actors.E.capability=0:1"], "expected PATH=START:STOP:STEPS"),
        (["--vary", "actors.E.capability=a:b:3"], "expected PATH=START:STOP:STEPS"),
        (["--vary", "actors.E.capability=0:1:1"], "expected PATH=START:STOP:STEPS"),
        (
            ["--vary", "actors.E.capability=0:2:3"],
            "actors.E.capability: expected a number in [0, 1]",
        ),
        (["--vary", "actors.E.capability=0:1:2", "--set", "actors.E.capability=1"], "both name"),
        (
            ["--vary", "actors.E.capability=0:1:100", "--vary", "actors.P.capability=0:1:101"],
            "at most 10,000 grid points; these 2 axes make 10,100",
        ),
        (["--vary", "actors.E.capability=0.1,0.1"], "a value is listed twice"),
        (["--vary", "actors.E.capability=0.1,"], "expected PATH=A,B,..."),
        (["--vary", "actors.E.ideal.mandate=endorses,nonsense"], "unknown option 'nonsense'"),
        (
            ["--vary", "actors.E.capability=0:1:2", "--vary", "actors.E.capability=0,1"],
            "two axes name the same path",
        ),
        (["--protocol", "nope"], "--protocol: expected one of"),
        (["--runs", "0"], "--runs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(scenario_file, tmp_path, capsys, extra, expected):
    runs = [] if "--runs" in extra else ["--runs", "5"]
    code = main(
        ["sweep", str(scenario_file), *runs, "--out", str(tmp_path / "o"), "--quiet", *extra]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert expected in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "o" / "manifest.json").exists()


# --- paths and the summary command ------------------------------------------------------------------------


def test_paths_file_holds_every_round(scenario_file, tmp_path):
    out = tmp_path / "p"
    do_sweep(scenario_file, out, runs=60, seed=2, workers=1, paths=True, chunk_size=25)
    runs, paths = table(out), table(out, "paths.parquet")
    # every round, and round 0: the opening draft before any negotiation
    assert paths.num_rows == runs.num_rows + sum(runs["rounds"].to_pylist())
    rows = paths.select(["run", "round", "text.mandate", "text.lead", "p_adopt"]).to_pylist()
    assert [r["round"] for r in rows[:2]] == [0, 1] and rows[0]["run"] == 0
    assert sum(r["round"] == 0 for r in rows) == runs.num_rows
    assert rows[0]["p_adopt"] is None  # nothing was computed before the first round
    seed = runs["seed"].to_pylist()[0]
    opening = make_model(Scenario.from_file(scenario_file), seed).run().opening
    assert {"mandate": rows[0]["text.mandate"], "lead": rows[0]["text.lead"]} == opening
    assert set(paths["text.mandate"].to_pylist()) <= {"welcomes", "endorses", "authorizes"}


def test_summary_command_prints_tables(reference, tmp_path, capsys):
    assert main(["summary", str(reference)]) == 0
    out = capsys.readouterr().out
    for heading in ("Outcome", "Clauses of the adopted text", "Votes", "Contributors"):
        assert heading in out
    assert main(["summary", str(tmp_path / "nothing")]) == 2
    assert "no summary.json" in capsys.readouterr().err


def test_progress_prints_plain_lines_when_not_a_terminal():
    import io

    from sim.experiments.progress import Progress

    stream = io.StringIO()
    p = Progress(100, done=20, mode="auto", stream=stream, every=0.0)
    p.update(30)
    p.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep: 50/100 runs (50%)") and "runs/s" in lines[0]
    assert lines[-1].startswith("sweep: 50/100 runs") and len(lines) == 2
    quiet = io.StringIO()
    q = Progress(10, mode="none", stream=quiet)
    q.update(10)
    q.close()
    assert quiet.getvalue() == ""


class _Clock:
    """A fake ``time`` module for progress: ``monotonic()`` returns what the test set."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def test_progress_prints_a_line_every_ten_seconds_and_one_at_the_end(monkeypatch):
    import io

    from sim.experiments import progress as pg

    clock = _Clock()
    monkeypatch.setattr(pg, "time", clock)
    stream = io.StringIO()
    p = pg.Progress(1000, mode="lines", stream=stream)  # every 10 s by default
    steps = [(5.0, 100), (10.0, 100), (15.0, 100), (20.5, 100), (29.0, 50), (32.0, 50)]
    for t, n in steps:
        clock.now = t
        p.update(n)
    clock.now = 33.0
    p.close()
    assert stream.getvalue().splitlines() == [
        # 200 runs in 10 s: 20 runs/s, 800 left: 40 s
        "sweep: 200/1,000 runs (20%), 20 runs/s, 40 s left",
        # 10.5 s after the last line; 400 runs in 20.5 s = 19.5/s, 600 left: 30.75 s
        "sweep: 400/1,000 runs (40%), 20 runs/s, 31 s left",
        # 32 - 20.5 = 11.5 s: 500 runs in 32 s = 15.6/s, 500 left: 32 s
        "sweep: 500/1,000 runs (50%), 16 runs/s, 32 s left",
        # and the closing line: 500 in 33 s
        "sweep: 500/1,000 runs (50%), 15 runs/s, 33 s left",
    ]


def test_progress_of_a_resumed_job_counts_only_this_runs_pace(monkeypatch):
    import io

    from sim.experiments import progress as pg

    clock = _Clock()
    monkeypatch.setattr(pg, "time", clock)
    stream = io.StringIO()
    p = pg.Progress(100, done=60, mode="lines", stream=stream, label="sensitivity")
    clock.now = 0.5
    p.update(0)
    clock.now = 10.0
    p.update(20)  # 20 runs this time in 10 s: 2/s, 20 left
    clock.now = 11.0
    p.update(20)
    p.close()
    assert stream.getvalue().splitlines() == [
        "sensitivity: 80/100 runs (80%), 2 runs/s, 10 s left",
        "sensitivity: 100/100 runs (100%), 4 runs/s, 0 s left",
    ]


def test_progress_draws_a_bar_on_a_terminal_and_lines_elsewhere():
    import io

    from sim.experiments.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert Progress(10, stream=Terminal()).mode == "bar"
    assert Progress(10, stream=io.StringIO()).mode == "lines"
