"""A one-line progress bar on a terminal, for builds that take longer than a second.

Drawn on stderr with ``\\r`` and erased when the build ends, so the one-line
summary stays the only thing left. Silent when stderr is not a terminal or when
``CI`` is set, so logs stay plain.
"""
from __future__ import annotations

import os
import sys
import time
from typing import TextIO

DELAY = 1.0          # seconds before the bar first appears
INTERVAL = 0.1       # at most this often after that
WIDTH = 24


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = not os.environ.get("CI") and bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.started = time.monotonic()
        self.drawn = 0.0
        self.shown = False
        self.stage = ""
        self.total = 0
        self.done = 0

    def begin(self, stage: str, total: int) -> None:
        """Start a stage of ``total`` steps (reading, rendering, writing)."""
        self.stage, self.total, self.done = stage, total, 0
        self._draw(force=True)

    def more(self, steps: int) -> None:
        """The current stage has ``steps`` more to do than it began with."""
        self.total += steps
        self._draw()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        self._draw()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < DELAY or (not force and now - self.drawn < INTERVAL):
            return
        self.drawn = now
        share = self.done / self.total if self.total else 0.0
        filled = int(share * WIDTH)
        bar = "█" * filled + "░" * (WIDTH - filled)
        self.stream.write(f"\r\x1b[2K{self.stage:<10} {bar} {self.done}/{self.total} "
                          f"{now - self.started:5.1f}s")
        self.stream.flush()
        self.shown = True
