"""Worker targets of the executor tests (run inside sandbox workers)."""

from __future__ import annotations

import os
from pathlib import Path


def copy_upper(source: str, target: str) -> dict[str, object]:
    """Write ``source`` upper-cased to ``target``; where and as whom it ran, and the env
    thread pools' budget it was given (``AGENTGYM_NUM_THREADS``, None when unset)."""
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(Path(source).read_text().upper())
    return {
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "pool_threads": os.environ.get("AGENTGYM_NUM_THREADS"),
    }


def copy_upper_slowly(source: str, target: str, seconds: float) -> dict[str, object]:
    """``copy_upper`` holding the file open ``seconds`` in between; the wall-clock times
    it started and ended, to tell whether two such jobs overlapped."""
    import time

    start = time.time()
    time.sleep(seconds)
    out = copy_upper(source, target)
    return {**out, "target": target, "start": start, "end": time.time()}


def copy_upper_then_spin(source: str, target: str) -> None:
    """``copy_upper``, then spin until killed: a job with a partial output."""
    copy_upper(source, target)
    while True:
        pass
