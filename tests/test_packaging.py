"""The package as users install it: a wheel carries the bundled scenarios and every subpackage,
finds them by name outside the source tree, and builds without deprecation banners."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from sim.scenario import library

ROOT = Path(__file__).resolve().parent.parent


def test_every_sim_package_is_listed_for_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_names_resolve_to_shipped_files() -> None:
    assert library.find("gaza") == library.root() / "gaza_isf_2025.yaml"
    assert library.find("gaza_isf_2025.yaml").name == "gaza_isf_2025.yaml"
    assert library.find("history/gaza").name == "gaza_humanitarian_ceasefire_2023.yaml"
    assert library.find("iraq").parent.name == "history"  # not bundled: the history library
    with pytest.raises(library.UnknownScenario, match="more than one scenario: history/syria"):
        library.find("syria")
    with pytest.raises(library.UnknownScenario, match="nope: no such file"):
        library.find("nope")
    names = [e.name for e in library.entries()]
    assert names[:3] == ["gaza_isf_2025", "haiti_mss_2023", "minimal"]
    assert len([n for n in names if n.startswith("history/")]) == len(
        list((ROOT / "scenarios" / "history").glob("*.yaml"))
    )


def test_an_existing_path_wins_over_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gaza").write_text("name: mine\n")
    assert library.find("gaza") == Path("gaza")


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_finds_the_scenarios_by_name(tmp_path: Path) -> None:
    """Build the wheel (isolated, as pip does for users), install it without dependencies into
    a fresh virtual environment that borrows this one's libraries, and run it from a folder
    with no source tree in sight."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    assert "deprecat" not in (build.stdout + build.stderr).lower()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    # this environment's libraries, appended as a plain path (its .pth files, such as the
    # editable install of this source tree, are not read from there)
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((tmp_path / "dist").glob("stabsim-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS")}
    work = tmp_path / "elsewhere"
    work.mkdir()

    def py(code: str) -> str:
        done = subprocess.run([venv / "bin" / "python", "-c", code], cwd=work, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    where = py("import sim, sim.scenario.library as l; print(sim.__file__); print(l.root())")
    module, root = where.split()
    assert Path(module).is_relative_to(site) and Path(root) == site / "sim" / "bundled"
    out = py("from sim.cli import main; raise SystemExit(main(['run', 'gaza', '--seed', '2']))")
    assert "Gaza International Stabilization Force" in out
    listing = py("from sim.cli import main; raise SystemExit(main(['scenarios']))")
    assert "history/iraq_mnf_2003" in listing and str(site) in listing
