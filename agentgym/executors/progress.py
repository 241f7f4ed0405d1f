"""A job's progress: the last logged ``step`` of each metrics file it writes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

TAIL_BYTES = 8192
"""Only the end of a metrics file is read: its last complete row holds the step."""


def last_step(path: Path) -> int:
    """The largest ``step`` in the last rows of a metrics.jsonl (0 while it has none)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - TAIL_BYTES))
            lines = fh.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return 0
    for line in reversed(lines):
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a row still being written, or the cut start of the tail
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            return row["step"]
    return 0


def watch_steps(
    paths: list[Path], report: Callable[[list[int]], None], every_s: float = 2.0
) -> Callable[[], None]:
    """Call ``report([last_step(p) for p in paths])`` every ``every_s`` seconds in a thread;
    returns the function that stops it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            report([last_step(p) for p in paths])

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def end() -> None:
        stop.set()
        thread.join()

    return end
