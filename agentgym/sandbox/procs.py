"""Finding and killing whatever a worker left running, by scanning /proc.

A worker's processes are recognised by a marker in their environment (inherited by
every descendant, even one that called setsid) or by the worker's process group.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

MARKER_VAR = "AGENTGYM_WORKER_ID"


def _pgid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[2]) if len(fields) > 2 else None


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def has_exited(pid: int) -> bool:
    """Whether ``pid`` is gone or a zombie (it has exited; only its parent's wait is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    fields = stat.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] in ("Z", "X")


def worker_processes(worker_id: str, pgid: int | None = None) -> list[int]:
    """Live pids (zombies excluded) carrying ``worker_id`` or in process group ``pgid``."""
    marker = f"{MARKER_VAR}={worker_id}".encode()
    me = os.getpid()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me:
            continue
        if (pgid is not None and _pgid(pid) == pgid) or _has_marker(pid, marker):
            if not has_exited(pid):
                found.append(pid)
    return found


def kill_worker_processes(worker_id: str, pgid: int | None, *, rounds: int = 50) -> int:
    """SIGKILL every process of the worker until none is left; return how many were found."""
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group is already gone, or its processes changed user: nothing to kill
    seen: set[int] = set()
    for _ in range(rounds):
        pids = worker_processes(worker_id, pgid)
        if not pids:
            return len(seen)
        seen.update(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # the process exited meanwhile, or is not ours to kill
        time.sleep(0.02)
    left = worker_processes(worker_id, pgid)
    if left:
        log.error("worker %s: processes %s survived SIGKILL", worker_id, left)
    return len(seen)


PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")


def make_pids_cgroup(worker_id: str, max_pids: int) -> Path | None:
    """A cgroup-v1 pids group capping the worker's tasks, or None where it cannot be made.

    RLIMIT_NPROC counts per uid and never applies to root; a pids cgroup caps exactly
    the worker's processes and threads, whoever runs them.
    """
    if not PIDS_CGROUP_ROOT.is_dir():
        return None
    path = PIDS_CGROUP_ROOT / f"agentgym-{worker_id}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_pids))
    except OSError:
        try:
            path.rmdir()
        except OSError:
            pass  # never made, or the kernel refused it: no cgroup either way
        return None
    return path


def cgroup_pids(path: Path) -> list[int]:
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def remove_pids_cgroup(path: Path, *, rounds: int = 50) -> int:
    """Kill whatever is left in the cgroup, remove it; return how many were left."""
    seen: set[int] = set()
    for _ in range(rounds):
        pids = [p for p in cgroup_pids(path) if not has_exited(p)]
        if not pids:
            break
        seen.update(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # the process exited meanwhile, or is not ours to kill
        time.sleep(0.02)
    for _ in range(rounds):
        try:
            path.rmdir()
            break
        except OSError:
            time.sleep(0.02)  # zombies not yet reaped by their parent keep it busy
    return len(seen)
