"""Progress on output that is not a terminal: plain lines, a few a minute.

A job whose output goes to a file (nohup, Slurm, CI) gets no use from a live bar, and
rich draws none there, so it printed nothing until the end. ``ProgressLines`` prints one
plain line at most every ``AGENTGYM_PROGRESS_EVERY`` seconds (default 30; 0 prints
every update), plus the first and the last, each flushed so ``tail -f`` shows it.
"""

from __future__ import annotations

import os
import time
from typing import Any

EVERY_VAR = "AGENTGYM_PROGRESS_EVERY"
DEFAULT_EVERY_S = 30.0


def progress_every() -> float:
    """Seconds between plain progress lines, from ``AGENTGYM_PROGRESS_EVERY``."""
    raw = os.environ.get(EVERY_VAR)
    if raw is None or not raw.strip():
        return DEFAULT_EVERY_S
    try:
        every = float(raw)
    except ValueError:
        every = -1.0
    if not every >= 0:
        raise ValueError(f"{EVERY_VAR}={raw!r}: expected seconds between progress lines, >= 0")
    return every


class ProgressLines:
    """Throttled plain lines on ``console`` (a rich Console writing to a file or pipe)."""

    def __init__(self, console: Any, every_s: float | None = None) -> None:
        self.console = console
        self.every_s = progress_every() if every_s is None else every_s
        self._last: float | None = None

    def line(self, text: str, *, last: bool = False) -> bool:
        """Print ``text`` when it is the first line, the ``last``, or ``every_s`` passed;
        whether it was printed."""
        now = time.monotonic()
        if not last and self._last is not None and now - self._last < self.every_s:
            return False
        self._last = now
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)
        self.console.file.flush()
        return True


class BarOrLines:
    """A rich bar (``columns`` after the description, bar and count) on a terminal, plain
    ``ProgressLines`` when output goes to a file; a context manager either way."""

    def __init__(self, console: Any, *columns: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.lines = None if console.is_terminal else ProgressLines(console)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            *(TextColumn(c) for c in columns),
            TimeElapsedColumn(),
            console=console,
        )

    def __enter__(self) -> Any:
        if self.lines is None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.lines is None:
            self.progress.stop()


class StepProgress(BarOrLines):
    """Env steps out of a total: a rich bar on a terminal, ``ProgressLines`` elsewhere.

    ``update`` may be called from another thread (rich's Progress is thread-safe).
    """

    def __init__(self, console: Any, description: str, total: int) -> None:
        super().__init__(console, "{task.fields[speed]} steps/s")
        self.description, self.total = description, total
        self.task = self.progress.add_task(description, total=total, speed="-")
        self._start = time.monotonic()
        self._shown: int | None = None

    def update(self, step: int) -> None:
        step = min(int(step), self.total)
        speed = f"{step / max(time.monotonic() - self._start, 1e-9):,.0f}"
        if self.lines is None:
            self.progress.update(self.task, completed=step, speed=speed)
            return
        if step == self._shown:  # the watcher's ticks repeat a step until the next row
            return
        if self.lines.line(
            f"{self.description}: step {step:,}/{self.total:,} "
            f"({step / max(self.total, 1):.0%}), {speed} steps/s",
            last=step >= self.total,
        ):
            self._shown = step
