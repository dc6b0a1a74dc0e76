"""Solara's browser files for a machine that cannot reach Solara's CDN: fetched once with npm (the
npm registry) into Solara's asset cache, which Solara's server reads before it asks the CDN.

Rules:

- The packages are those the installed Solara names by exact version (``/NAME@X.Y.Z/``) in its
  page template, components and widgets, plus its Font Awesome, so a Solara upgrade fetches its
  own versions.
- A package already in the cache is left as it is; a package is unpacked under a temporary
  name and renamed, so an interrupted fetch leaves nothing half written.
- ``python -m sim.app.assets`` prints one line per package; ``make`` runs it with the install.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = re.compile(r"/((?:@[\w-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.+-]*)/")
WHERE = ("server/templates/*.j2", "components/*.py", "components/*.vue", "widgets/vue/*.vue")


def wanted() -> list[str]:
    """``NAME@VERSION`` of every package the installed Solara loads from its CDN."""
    import solara
    import solara.server.settings as settings

    root = Path(solara.__file__).parent
    found = {
        spec
        for pattern in WHERE
        for f in root.glob(pattern)
        for spec in PACKAGE.findall(f.read_text(encoding="utf-8"))
    }
    found.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(found)


def cache_dir() -> Path:
    """Where Solara's server looks for CDN files first."""
    import solara.server.settings as settings

    return Path(settings.assets.proxy_cache_dir)


def fetch(spec: str, cache: Path) -> str:
    """Unpack ``NAME@VERSION`` from the npm registry into the cache (``npm pack``); what was done."""
    target = cache / spec
    if target.is_dir():
        return f"{spec}: already there"
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"{spec}: npm is needed to fetch it (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([npm, "pack", spec, "--pack-destination", tmp, "--silent"],
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"{spec}: npm pack failed: {out.stderr.strip().splitlines()[-1:]}")
        tarball = next(Path(tmp).glob("*.tgz"))
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        root = next(unpacked.iterdir())  # npm packs everything under one folder, "package/"
        staging = cache / f".tmp-{spec.replace('/', '+')}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(root), staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
    return f"{spec}: fetched"


def main() -> int:
    cache = cache_dir()
    failed = False
    for spec in wanted():
        try:
            print(f"solara assets: {fetch(spec, cache)}")
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"solara assets: {exc}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
