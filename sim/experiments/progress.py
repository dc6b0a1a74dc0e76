"""Progress of a job: a bar on a terminal, plain periodic lines otherwise, or nothing."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts runs done. ``mode`` is ``"bar"`` (tqdm), ``"lines"`` (one line every
    ``every`` seconds and at the end) or ``"none"``; ``"auto"`` picks bar on a terminal."""

    def __init__(
        self,
        total: int,
        done: int = 0,
        mode: str = "auto",
        stream: TextIO | None = None,
        every: float = 10.0,
        label: str = "sweep",
    ):
        self.label = label
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "lines"
        self.mode, self.total, self.done, self.every = mode, total, done, every
        self.start_done = done
        self.t0 = self.last = time.monotonic()
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=done,
                unit="run",
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.mode == "lines" and time.monotonic() - self.last >= self.every:
            self._line()

    def _line(self) -> None:
        self.last = now = time.monotonic()
        rate = (self.done - self.start_done) / max(now - self.t0, 1e-9)
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = f"{left:,.0f} s left" if left != float("inf") else "time left unknown"
        pct = 100 * self.done / self.total if self.total else 100.0
        print(
            f"{self.label}: {self.done:,}/{self.total:,} runs ({pct:.0f}%), {rate:,.0f} runs/s, {eta}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.mode == "lines":
            self._line()
