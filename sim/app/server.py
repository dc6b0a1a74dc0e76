"""Serve the explorer: Solara's server (uvicorn) with :mod:`sim.app.page` as the app.

Rules: the scenario is checked before anything starts (a bad one is the command line's one-line
error); the server binds to 127.0.0.1 unless told otherwise, and says where it serves and
whether that is local only.
"""

from __future__ import annotations

import os
import sys

from sim.errors import OptionError
from sim.scenario.library import default_scenario

LOCAL = ("127.0.0.1", "localhost", "::1")


def banner(host: str, port: int) -> str:
    """The line the server prints when it starts."""
    where = f"[{host}]" if ":" in host else host
    reach = "local only; --host to change" if host in LOCAL else "reachable from other machines"
    return f"stabsim app: serving on http://{where}:{port} ({reach})"


def serve(scenario: str | None = None, host: str = "127.0.0.1", port: int = 8765,
          workers: int | None = None) -> None:  # fmt: skip
    """Check the scenario, then serve the page until interrupted. ``workers``: processes for the
    live odds (0: a thread of the server; None: up to two cores)."""
    from sim.app import state

    if not 0 < port < 65536:
        raise OptionError("port", f"expected a port from 1 to 65535, got {port}")
    if workers is not None and workers < 0:
        raise OptionError("workers", f"expected a whole number >= 0, got {workers}")
    value = scenario or str(default_scenario())
    state.open_base(value)  # a bad scenario stops here, in one line
    os.environ["STABSIM_APP_SCENARIO"] = value
    if workers is not None:
        os.environ["STABSIM_APP_WORKERS"] = str(workers)
    os.environ["SOLARA_APP"] = "sim.app.page"
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    import uvicorn

    print(banner(host, port), flush=True)
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
    sys.stdout.flush()
