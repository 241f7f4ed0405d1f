"""SIGTERM ends a run the way Ctrl-C does, so a killed job leaves a resumable folder.

A batch system (Slurm, ``timeout``, ``docker stop``, ``kill``) stops a job with SIGTERM,
whose default action ends the process at once: the manifest would keep saying "running"
and no report would be written. Inside ``interrupt_on_sigterm`` SIGTERM raises
``KeyboardInterrupt`` in the main thread instead, so the run code's SIGINT path (manifest
status "interrupted", the report, the last periodic checkpoint kept for ``--resume``)
handles both.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Caught:
    """Which signal interrupted the block (None: none did, or Ctrl-C's own SIGINT)."""

    signal: int | None = None

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + (self.signal or signal.SIGINT)


@contextmanager
def interrupt_on_sigterm() -> Iterator[Caught]:
    """Within the block, SIGTERM (and SIGINT, as always) raise ``KeyboardInterrupt``.

    Only the main thread can install handlers; elsewhere the block runs unchanged.
    """
    caught = Caught()
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        caught.signal = signum
        # A second signal while the run writes its report must not cut that short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield caught
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
