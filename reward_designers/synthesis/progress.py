"""How far the members training in a sandbox worker are, read from their metrics files.

The worker reports nothing until it returns (its result is one sealed record), but every
member appends rows to ``<dir>/logs/metrics.jsonl`` as it trains; the parent reads the
last ``step`` there, as data, to show progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def slowest_step(dirs: Sequence[Path]) -> int:
    """The fewest env steps any member in ``dirs`` has logged (0 before its first row)."""
    from agentgym.learners.logger import read_metrics

    steps = []
    for d in dirs:
        path = Path(d) / "logs" / "metrics.jsonl"
        try:
            rows = read_metrics(path) if path.is_file() else []
        except ValueError:  # a row being written; the next look reads it whole
            rows = []
        steps.append(max((int(r.get("step") or 0) for r in rows), default=0))
    return min(steps, default=0)


@contextmanager
def watch_steps(
    dirs: Sequence[Path], report: Callable[[int], None], every_s: float = 2.0
) -> Iterator[None]:
    """While the block runs, call ``report(slowest_step(dirs))`` every ``every_s`` seconds
    (from a thread) and once more at its end."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            report(slowest_step(dirs))

    watcher = threading.Thread(target=loop, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
    report(slowest_step(dirs))
