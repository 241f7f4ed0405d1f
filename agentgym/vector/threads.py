"""``SharedJob``: a batch of sub-envs stepped by the calling thread and a pool of helpers.

Used by ``MujocoBatch`` (mujoco.py) and ``ThreadedVectorEnv`` (threaded.py): both step
sub-envs whose heavy part (``mujoco.mj_step``) releases the GIL, so helpers step other
sub-envs meanwhile.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

NUM_THREADS_VAR = "AGENTGYM_NUM_THREADS"
"""Caps the threads of each env thread pool in the process (``thread_budget``)."""


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask where the OS has one
    (a container's cpuset, ``taskset``, a scheduler's pinning), which ``os.cpu_count()``
    ignores: in a 4-core cpuset on a 64-core host that would be 64 threads a pool."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_budget() -> int:
    """Threads an env thread pool of this process uses by default (``MujocoBatch``,
    ``ThreadedVectorEnv``): its usable cores, or fewer where ``AGENTGYM_NUM_THREADS`` says
    so. The executors set it for workers that share a machine (the local executor's
    concurrent workers get cores // workers each, a Ray task its CPUs), so that W workers
    run about one pool thread a core instead of W a core; set it yourself when several
    agentgym processes share one machine."""
    cores = usable_cores()
    raw = os.environ.get(NUM_THREADS_VAR, "").strip()
    if not raw:
        return cores
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{NUM_THREADS_VAR}={raw!r}: expected an integer >= 1 (threads an env thread "
            "pool may use), or unset for every usable core"
        )
    return min(value, cores)


class SharedJob:
    """One batch step shared by the calling thread and its helpers, who all take the next
    sub-env from ``envs`` when free: the calling thread closes the job when the sub-envs
    run out, then waits only for the helpers that had joined (a helper that starts later
    does nothing), so no step waits on a thread the OS has not yet run (a busy machine).

    A helper calls ``join()`` (False: the job is over, do nothing), works through
    ``envs``, stores an exception in ``error`` and calls ``leave()``; the calling thread
    works through ``envs`` too, then ``close()`` waits and re-raises a helper's error."""

    def __init__(self, envs: Iterator[int]) -> None:
        self.envs = envs
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._active = 0
        self._closed = False

    def join(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._active += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            if self._closed and self._active == 0:
                self._idle.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            busy = self._active > 0
        if busy:
            self._idle.wait()
        if self.error is not None:
            raise self.error
