"""Fuzz and fault script: hostile scenario files and faults at random moments, counted.

    python benchmarks/fuzz_faults.py [--cases 2000] [--faults 6] [--seed 1] [--timeout 10]

Part 1 (inputs): ``--cases`` scenario files made by mutating the bundled scenarios, half as
data (a value replaced by NaN, infinity, a huge integer, a wrong type, a broken distribution,
a deleted field...) and half as raw text (tokens inserted or deleted, YAML tags, anchors and
aliases, alias bombs, deep nesting, sets, complex keys, binary bytes). Each goes through
``stabsim validate`` in this process under a timer; the valid ones also through ``stabsim run``.
Part 2 (options): command lines with hostile options. Part 3 (faults, ``--faults`` trials of
each kind, in subprocesses): kill -9 and SIGTERM at random moments then resume; flipped bits,
50 flipped bytes and truncation in part files then resume; two resumes at once; damaged
``summary.json``/``runs.parquet`` read by ``summary``, ``compare`` and ``discover``; a full disk
(a 1 MB tmpfs, when this process may mount one) then resume.

Prints counts: cases tried, ok, clean errors (exit 2, one line per problem naming the file),
internal errors (exit 3 or a traceback), hangs (over ``--timeout`` seconds), peak memory; for
faults: trials, results identical to an uninterrupted sweep, orphaned workers. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.cli import main  # noqa: E402

SCENARIOS = [ROOT / "scenarios" / f for f in ("minimal.yaml", "gaza_isf_2025.yaml",
             "haiti_mss_2023.yaml")] + sorted((ROOT / "scenarios" / "history").glob("*.yaml"))[:3]  # fmt: skip
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


class Hang(BaseException):
    """A case over the time limit (a BaseException: main() turns any Exception into exit 3)."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


# --- part 1: hostile inputs ------------------------------------------------------------------------

LEAVES: list[Any] = [
    None, True, 0, -1, 1, 2, 0.5, -0.5, 1e9, -1e9, 1e308, float("nan"), float("inf"),
    float("-inf"), 10**30, "", "x", "nan", "1e7", [], [1], ["a", "b"], {}, {"a": 1},
    {"dist": "uniform"}, {"dist": "uniform", "low": 0, "high": float("inf")},
    {"dist": "normal", "mean": float("nan"), "sd": 0.1, "clip": [0, 1]},
    {"dist": "beta", "a": float("inf"), "b": 1}, {"dist": "beta", "a": 1e-300, "b": 1e-300},
    {"dist": "choice", "values": [0.1, float("nan")]},
    {"dist": "choice", "values": [0.1, 0.2], "p": [float("nan"), 1]},
    {"dist": {"a": 1}}, {"dist": [1, 2]}, {"dist": "triangular", "low": 0, "mode": 0, "high": 0},
    {"dist": "normal", "mean": 0.5, "sd": 1e308, "clip": [0, 1]},
    {"dist": "choice", "values": [{"a": 1}, [2]]}, {"dist": "choice", "values": [None]},
]  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def mutate_data(data: dict, rng: random.Random) -> dict:
    """One to four random edits of parsed scenario data."""
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 4)):
        path = rng.choice(_paths(data))
        node = data
        for key in path[:-1]:
            node = node[key]
        roll = rng.random()
        if roll < 0.15 and isinstance(node, dict):
            del node[path[-1]]
        elif roll < 0.25 and isinstance(node, dict):
            node[rng.choice(["x", "dist", "min", "max", "enumerate_limit"])] = rng.choice(LEAVES)
        elif roll < 0.3:
            node[path[-1]] = {"dist": "choice", "values": [node[path[-1]], rng.choice(LEAVES)]}
        else:
            node[path[-1]] = copy.deepcopy(rng.choice(LEAVES))
    return data


def alias_bomb(levels: int = 20, width: int = 10) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


SNIPPETS = [
    "!!set {a, b}", "!!python/object:os.system ['ls']", "&a [*a]", "*undefined", "? [a, b]\n: 1",
    "{a: 1, a: 2}", "<<: *nothing", "\t", "\x00", "\ufeff", "'unclosed", '"\\xZZ"', "[" * 200,
    "{" * 40, "- " * 60, "9" * 5000, "0x" + "f" * 3000, "1:2:3:4:5:6:7:8:9", ".nan", "-.inf",
    "1e7", "~", "!!binary aGVsbG8=", "!!float 'x'", "!!int '1.5'", "&x 1", "%YAML 1.1\n---",
    "--- a\n--- b", "...", "|\n  text", ">-\n  folded", "!!omap [a: 1]", "!!timestamp 2001-12-14",
    "0b_", "0x_", "!!int ''", "!!float ''", "!!bool x", "!!timestamp x", "2001-13-45", "!!map [a]",
    "!!pairs [1]", "!!binary '%%'",
]  # fmt: skip


def mutate_text(text: str, rng: random.Random) -> str:
    """One to three raw edits: snippets inserted, spans deleted or duplicated, bombs."""
    roll = rng.random()
    if roll < 0.03:
        return alias_bomb(rng.randint(6, 25), rng.randint(2, 12))
    if roll < 0.05:
        return "a: " + "[" * rng.randint(30, 6000) + "]" * rng.randint(0, 6000) + "\n"
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.5:
            text = text[:i] + rng.choice(SNIPPETS) + text[i:]
        elif op < 0.75:
            text = text[:i] + text[i + rng.randint(1, 200) :]
        else:
            j = min(len(text), i + rng.randint(1, 400))
            text = text[:j] + text[i:j] + text[j:]
    return text


def classify(code: int, err: str, name: str) -> str:
    if "internal error" in err or "Traceback" in err or code not in (0, 2):
        return "internal"
    if code == 2:
        lines = err.strip().splitlines()
        if not lines or not all(line.startswith(f"{name}: ") for line in lines):
            return "unclean"  # exit 2, but not one line per problem naming the file
        return "clean"
    return "ok"


def call(argv: list[str], timeout: float) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Hang:
        code = -1
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return code, out.getvalue(), err.getvalue()


def fuzz_inputs(cases: int, rng: random.Random, timeout: float, work: Path) -> dict[str, Any]:
    bases = [p.read_text(encoding="utf-8") for p in SCENARIOS]
    counts: Counter = Counter()
    runs: Counter = Counter()
    samples: list[str] = []
    slowest = 0.0
    for k in range(cases):
        text = rng.choice(bases)
        if k % 2:
            data = mutate_data(yaml.safe_load(text), rng)
            body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        else:
            body = mutate_text(text, rng)
        target = work / f"case{k % 10}.yaml"
        target.write_bytes(body.encode("utf-8", errors="surrogateescape"))
        t0 = time.perf_counter()
        code, _, err = call(["validate", str(target)], timeout)
        slowest = max(slowest, time.perf_counter() - t0)
        kind = "hang" if code == -1 else classify(code, err, target.name)
        counts[kind] += 1
        if kind in ("internal", "unclean", "hang") and len(samples) < 8:
            samples.append(f"validate {kind}: {err.strip()[:160]!r}")
        if kind == "ok":
            code, _, err = call(["run", str(target), "--seed", str(k), "--json"], timeout)
            rk = "hang" if code == -1 else classify(code, err, target.name)
            runs[rk] += 1
            if rk in ("internal", "unclean", "hang") and len(samples) < 8:
                samples.append(f"run {rk}: {err.strip()[:160]!r}")
    return {"validate": counts, "run": runs, "samples": samples, "slowest": slowest}


# --- part 2: hostile options ---------------------------------------------------------------------


def fuzz_options(work: Path, timeout: float, minimal: Path) -> Counter:
    afile = work / "a-file"
    afile.write_text("x")
    out = str(work / "opt-out")
    argvs = [
        ["run", "--seed", "-1"], ["run", str(minimal), "--protocol", "nope"],
        ["sweep", str(minimal), "--runs", "1000000000000", "--out", out],
        ["sweep", str(minimal), "--runs", "0", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--chunk-size", "0", "--out", out],
        ["sweep", str(minimal), "--runs", "100000000", "--chunk-size", "1", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--seed", "-3", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--workers", "0", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--workers", "100000", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--out", str(afile)],
        ["sweep", str(minimal), "--runs", "5", "--out", str(afile / "sub")],
        ["sweep", str(minimal), "--runs", "5", "--set", "council.members=!!set {P, E, Q}", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--set", "actors.P.capability=.nan", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--vary", "actors.P.capability=nan:1:3", "--out", out],
        ["sweep", str(minimal), "--runs", "5", "--set", "name={" + alias_bomb(20, 10).replace("\n", ", ") + "}", "--out", out],
        ["sensitivity", str(minimal), "--base-runs", "1000000000", "--out", out],
        ["sensitivity", str(minimal), "--seed", "-1", "--out", out],
        ["backtest", "--runs", "1000000000", "--out", out], ["power", str(minimal), "--runs", "10000000000"],
        ["summary", str(afile)], ["summary", str(work / "missing")], ["compare", str(afile), str(afile)],
        ["discover", str(afile), "--target", "adopted"], ["deu", str(afile)], ["deu", str(minimal)],
    ]  # fmt: skip
    counts: Counter = Counter()
    for argv in argvs:
        code, _, err = call(argv, timeout)
        bad = code in (-1, 3) or "internal error" in err or "Traceback" in err
        counts["internal" if bad else "clean" if code == 2 else f"exit {code}"] += 1
        if bad or code not in (0, 2):
            print(f"  option case {argv[:4]}: exit {code}: {err.strip()[:160]}")
        elif code == 0:
            print(f"  accepted: {' '.join(argv)[:100]}")
        shutil.rmtree(out, ignore_errors=True)
    return counts


# --- part 3: faults ----------------------------------------------------------------------------------


def noisy(path: Path) -> Path:
    """The minimal case with vote noise and distributions, so runs differ."""
    d = yaml.safe_load((ROOT / "scenarios" / "minimal.yaml").read_text())
    for a in d["actors"].values():
        cost = a.get("vote", {}).get("veto_cost", 0)
        a["vote"] = {"noise": 0.08, "abstain_band": 0.1, "veto_cost": cost}
    d["actors"]["Q"]["capability"] = {"dist": "uniform", "low": 0.2, "high": 0.8}
    d["force"]["troops_required"] = {"dist": "uniform", "low": 500, "high": 900}
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


RUNS = 4000


def sweep_cmd(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim.cli", "sweep", str(scenario), "--runs", str(RUNS),
            "--seed", "5", "--chunk-size", "20", "--workers", "2", "--out", str(out), "--quiet",
            *extra]  # fmt: skip


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


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    with log.open("w") as f:
        return subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=f, stderr=f)


def wait_parts(out: Path, n: int, proc: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if (
            len(list((out / "parts").glob("runs-*.arrow"))) >= n
            if (out / "parts").is_dir()
            else False
        ):
            return
        time.sleep(0.01)


def resume(scenario: Path, out: Path, log: Path, *extra: str) -> int:
    return subprocess.run(sweep_cmd(scenario, out, "--resume", *extra), cwd=ROOT, env=ENV,
                          stdout=log.open("w"), stderr=subprocess.STDOUT, timeout=600).returncode  # fmt: skip


def same(out: Path, ref: Path) -> bool:
    try:
        return pq.read_table(out / "runs.parquet").equals(pq.read_table(ref / "runs.parquet"))
    except Exception:
        return False


def kill_trial(scenario: Path, ref: Path, work: Path, sig: int, rng: random.Random,
               stats: Counter) -> None:  # fmt: skip
    out = work / f"kill-{sig}"
    shutil.rmtree(out, ignore_errors=True)
    proc = start(sweep_cmd(scenario, out), work / "kill.log")
    wait_parts(out, rng.randint(1, 60), proc)
    kids = children(proc.pid)
    time.sleep(rng.uniform(0, 0.3))
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)
    code = proc.wait(timeout=120)
    time.sleep(1.5)
    left = [k for k in kids if alive(k)]
    stats["orphans"] += len(left)
    for k in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(k, signal.SIGKILL)
    log = (work / "kill.log").read_text()
    if sig == signal.SIGTERM and code != 0:
        stats["sigterm_clean"] += code == 143 and "--resume" in log and "Traceback" not in log
    r = resume(scenario, out, work / "resume.log")
    stats["trials"] += 1
    stats["identical"] += r == 0 and same(out, ref)


def damage_trial(scenario: Path, ref: Path, work: Path, how: str, rng: random.Random,
                 stats: Counter) -> None:  # fmt: skip
    out = work / f"damage-{how}"
    shutil.rmtree(out, ignore_errors=True)
    proc = start(sweep_cmd(scenario, out), work / "damage.log")
    wait_parts(out, 40, proc)
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(0.5)
    parts = sorted((out / "parts").glob("runs-*.arrow"))
    for p in rng.sample(parts, min(3, len(parts))):
        data = bytearray(p.read_bytes())
        if how == "bit":
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif how == "bytes":
            for _ in range(50):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            data = data[: rng.randrange(len(data))]
        p.write_bytes(bytes(data))
    code = resume(scenario, out, work / "resume.log")
    log = (work / "resume.log").read_text()
    stats["trials"] += 1
    stats["identical"] += code == 0 and same(out, ref)
    stats["named"] += "damaged part" in log
    stats["internal"] += "internal error" in log or code not in (0, 2)


def concurrent_trial(scenario: Path, ref: Path, work: Path, stats: Counter) -> None:
    out = work / "concurrent"
    shutil.rmtree(out, ignore_errors=True)
    first = start(sweep_cmd(scenario, out), work / "c1.log")
    wait_parts(out, 5, first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    time.sleep(0.5)
    a = start(sweep_cmd(scenario, out, "--resume"), work / "ca.log")
    time.sleep(0.5)
    b = start(sweep_cmd(scenario, out, "--resume"), work / "cb.log")
    codes = sorted([a.wait(timeout=600), b.wait(timeout=600)])
    stats["trials"] += 1
    stats["one_refused"] += codes == [0, 2]
    stats["identical"] += same(out, ref) and json.loads((out / "manifest.json").read_text())[
        "status"] == "complete"  # fmt: skip


def damaged_folder_trial(ref: Path, work: Path, rng: random.Random, stats: Counter) -> None:
    out = work / "damaged-folder"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(ref, out)
    target = out / rng.choice(["summary.json", "summary.json", "runs.parquet"])
    data = bytearray(target.read_bytes())
    roll = rng.random()
    if target.suffix == ".json" and roll < 0.5:
        summary = json.loads(data)
        paths = _paths(summary)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            node = summary
            with contextlib.suppress(KeyError, IndexError, TypeError):
                for key in path[:-1]:
                    node = node[key]
                if isinstance(node, dict) and rng.random() < 0.5:
                    del node[path[-1]]
                else:
                    node[path[-1]] = copy.deepcopy(rng.choice(LEAVES))
        data = bytearray(json.dumps(summary).encode())
    elif roll < 0.75:
        for _ in range(rng.randint(1, 50)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    else:
        data = data[: rng.randrange(len(data))]
    target.write_bytes(bytes(data))
    for argv in (["summary", str(out)], ["compare", str(ref), str(out)],
                 ["discover", str(out), "--target", "adopted"]):  # fmt: skip
        code, _, err = call(argv, 60)
        stats["commands"] += 1
        stats["internal"] += code in (-1, 3) or "internal error" in err or "Traceback" in err


def full_disk_trial(scenario: Path, ref: Path, work: Path, stats: Counter) -> None:
    mnt = work / "tmpfs"
    mnt.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                      capture_output=True).returncode:  # fmt: skip
        stats["skipped (cannot mount a tmpfs)"] += 1
        return
    try:
        out = mnt / "s"
        r = subprocess.run(sweep_cmd(scenario, out, "--paths"), cwd=ROOT, env=ENV,
                           capture_output=True, text=True, timeout=600)  # fmt: skip
        stats["trials"] += 1
        stats["clean_error"] += r.returncode == 2 and "No space left" in r.stderr
        subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
        code = resume(scenario, out, work / "resume.log", "--paths")
        stats["identical_after_resume"] += code == 0 and same(out, ref)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def faults(trials: int, rng: random.Random, work: Path) -> dict[str, Counter]:
    scenario = noisy(work / "noisy.yaml")
    ref = work / "ref"
    for folder, extra in ((ref, ()), (work / "ref-paths", ("--paths",))):
        subprocess.run(sweep_cmd(scenario, folder, *extra), cwd=ROOT, env=ENV, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    out: dict[str, Counter] = {}
    for name, fn in (
        ("kill -9 then resume", lambda s: kill_trial(scenario, ref, work, signal.SIGKILL, rng, s)),
        ("SIGTERM then resume", lambda s: kill_trial(scenario, ref, work, signal.SIGTERM, rng, s)),
        ("1 flipped bit in 3 parts", lambda s: damage_trial(scenario, ref, work, "bit", rng, s)),
        (
            "50 random bytes in 3 parts",
            lambda s: damage_trial(scenario, ref, work, "bytes", rng, s),
        ),
        ("3 truncated parts", lambda s: damage_trial(scenario, ref, work, "cut", rng, s)),
        ("two resumes at once", lambda s: concurrent_trial(scenario, ref, work, s)),
        ("damaged result folder", lambda s: damaged_folder_trial(ref, work, rng, s)),
    ):
        stats: Counter = Counter()
        for _ in range(trials):
            fn(stats)
        out[name] = stats
        print(f"  {name}: {dict(stats)}", flush=True)
    stats = Counter()
    full_disk_trial(scenario, work / "ref-paths", work, stats)
    out["full disk then resume"] = stats
    print(f"  full disk then resume: {dict(stats)}", flush=True)
    return out


def main_() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--faults", type=int, default=6, help="trials of each fault")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a case hangs")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        found = fuzz_inputs(args.cases, rng, args.timeout, work)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        v, r = found["validate"], found["run"]
        print(f"inputs: {args.cases} cases in {time.perf_counter() - t0:.0f} s; validate: "
              f"{v['ok']} ok, {v['clean']} clean errors, {v['internal']} internal errors, "
              f"{v['unclean']} unclean errors, {v['hang']} hangs; slowest case "
              f"{found['slowest']:.2f} s; peak memory {peak:.0f} MB")  # fmt: skip
        print(f"runs of the valid cases: {sum(r.values())} tried, {r['ok']} ok, "
              f"{r['clean']} clean errors, {r['internal']} internal errors, {r['hang']} hangs")  # fmt: skip
        for s in found["samples"]:
            print(f"  {s}")
        opts = fuzz_options(work, args.timeout, ROOT / "scenarios" / "minimal.yaml")
        print(f"options: {sum(opts.values())} hostile command lines: {dict(opts)}")
        if args.faults:
            print(f"faults ({args.faults} trials each, sweeps of {RUNS:,} runs on 2 workers):")
            faults(args.faults, rng, work)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: this process {peak:.0f} MB, largest child {kids:.0f} MB")


if __name__ == "__main__":
    main_()
