"""Isolated execution: run ``module:function(**kwargs)`` in a confined worker process.

The worker is a fresh Python started with a scrubbed environment (no API keys or
tokens), in its run folder, under resource limits, confined by bubblewrap or a network
namespace where the machine allows (``agentgym.sandbox.isolation``), killed with its
whole process group at a wall-clock deadline, and checked afterwards for anything left
running. Output goes to files in the run folder, so a flood can neither hang nor bloat
the parent; only their tails come back.

Reward vetting dry-runs programs this way; reward synthesis trains candidates this way.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from agentgym.sandbox import channel, view
from agentgym.sandbox import isolation as iso
from agentgym.sandbox.codes import Code
from agentgym.sandbox.procs import (
    MARKER_VAR,
    kill_worker_processes,
    make_pids_cgroup,
    remove_pids_cgroup,
)
from agentgym.sandbox.results import WorkerResult
from agentgym.sandbox.sanitize import SECRET_NAME, clean
from agentgym.vector.threads import NUM_THREADS_VAR

log = logging.getLogger(__name__)

UNPRIVILEGED_UID = 65534  # "nobody" on Debian and most Linux distributions
TAIL_BYTES = 4000

KEEP_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "MUJOCO_GL",
    "PYOPENGL_PLATFORM",
    NUM_THREADS_VAR,  # AGENTGYM_NUM_THREADS
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
    "LD_LIBRARY_PATH",
    "TZ",
)
"""The only variables a worker inherits; everything else (keys, tokens, proxies) is dropped."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker. Defaults fit a reward dry run; training needs more."""

    memory_mb: int = 4096
    """RLIMIT_AS: address space in MiB (torch alone maps ~1 GiB)."""
    cpu_s: int = 60
    """RLIMIT_CPU: CPU seconds summed over all threads (SIGXCPU past it)."""
    max_processes: int = 64
    """RLIMIT_NPROC above what the worker's uid already runs (threads count)."""
    file_size_mb: int = 64
    """RLIMIT_FSIZE: the largest file the worker may write."""
    open_files: int = 256
    """RLIMIT_NOFILE."""
    output_chars: int = 200_000
    """What Python code may print to stdout/stderr before OUTPUT_LIMIT."""
    threads: int | None = None
    """Intra-op threads for torch/OpenMP/MKL; None leaves the library default."""
    pool_threads: int | None = None
    """Threads of each env thread pool in the worker (MuJoCo batches, threaded vector envs:
    ``AGENTGYM_NUM_THREADS``, ``agentgym.vector.threads.thread_budget``); None leaves the
    parent's setting, or every core the worker may run on."""
    gpu: bool = False
    """Give the worker the real /dev (CUDA devices) under bubblewrap."""
    tmp_mb: int = 256
    """Under bubblewrap, the size of the worker's private /tmp (a tmpfs: ENOSPC past it)."""
    disk_mb: int = 1024
    """What the worker may add to its run folder; past it the worker is killed (OUTPUT_LIMIT)."""
    isolation: str | None = None
    """Force "bwrap", "netns" or "rlimits"; None takes the strongest available."""
    drop_root: bool = True
    """When the parent is root, run the worker as uid 65534 so RLIMIT_NPROC applies."""
    seccomp: bool = True
    """Load the syscall filter of ``agentgym.sandbox.seccomp`` (mount, ptrace, unshare, ... EPERM)."""
    spawn: bool = True
    """Whether the worker may start processes and programs (fork, exec); threads always."""

    @classmethod
    def for_training(cls, replay_mb: int = 0, members: int = 1, **overrides: Any) -> Limits:
        """Limits for training a candidate: more memory, CPU, files and threads. A learner
        with a replay buffer of ``replay_mb`` a member (``learners.checkpoint.replay_mb``)
        gets room for ``members`` of them in memory, for one in a file (a member's
        checkpoint) and for two checkpoints a member in its folder (the new one is written
        beside the old): the quota is for what a reward program writes, not for what the
        learner keeps to resume."""
        base = dict(
            memory_mb=16384 + members * replay_mb,
            cpu_s=3600,
            max_processes=256,
            file_size_mb=1024 + replay_mb,
            open_files=1024,
            output_chars=5_000_000,
            disk_mb=cls.disk_mb + 2 * members * replay_mb,
        )
        base.update(overrides)
        return cls(**base)


def _agentgym_root() -> str:
    import agentgym

    return str(Path(agentgym.__file__).resolve().parent.parent)


def env_paths() -> list[str]:
    """The parent's PYTHONPATH entries (tests and plugins a target may live in)."""
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def scrubbed_env(run_dir: Path, limits: Limits, worker_id: str, isolation: str) -> dict[str, str]:
    """The worker's environment: KEEP_ENV, HOME and caches inside the run folder, the marker."""
    env = {k: v for k, v in os.environ.items() if k in KEEP_ENV and not SECRET_NAME.search(k)}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    home = run_dir / "home"
    env["HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env["MPLCONFIGDIR"] = str(home / ".config" / "matplotlib")
    env["TMPDIR"] = "/tmp" if isolation == "bwrap" else str(run_dir / "tmp")
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([_agentgym_root(), *env_paths()]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # glibc reserves 64 MiB of address space per thread arena: bound it so RLIMIT_AS
    # measures memory rather than core count.
    env["MALLOC_ARENA_MAX"] = "2"
    if limits.threads is not None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(limits.threads)
    if limits.pool_threads is not None:
        env[NUM_THREADS_VAR] = str(limits.pool_threads)
    env[MARKER_VAR] = worker_id
    return env


MESSAGE_CHARS = 500
DETAIL_CHARS = 8000


def tail_text(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            data = fh.read()
    except OSError:
        return ""
    return clean(data.decode("utf-8", errors="replace"), TAIL_BYTES)


def _reachable_by_others(path: Path, isolation: str) -> bool:
    """Whether an unprivileged uid can reach ``path``: under bwrap, the parents of a bound
    path are folders the sandbox makes 0755, so only the path itself counts."""
    for parent in [path] if isolation == "bwrap" else [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


MB = 1024 * 1024
QUOTA_POLL_S = 0.1


def folder_bytes(path: Path) -> int:
    """Disk space under ``path`` (allocated blocks: a sparse file counts what it holds)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + dirs:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass  # removed while we walked
    return total


class WorkerCancelled(Exception):
    """A worker killed because its caller set ``run_in_worker``'s ``cancel`` event."""


def _wait_within(
    proc: subprocess.Popen,
    run_dir: Path,
    deadline: float,
    baseline: int,
    quota: int,
    cancel: threading.Event | None = None,
) -> str | None:
    """Wait for the worker; "deadline", "disk" or "cancel" (``cancel`` set) when it must be
    killed, None when it ended.

    The run folder's quota is polled, not enforced by the file system: the parent reads
    the folder while the worker runs (training metrics, results), which a private tmpfs
    would hide. It can overshoot by what the worker writes in one poll (RLIMIT_FSIZE
    bounds each file). A poll waits at least 20 times as long as the last walk took, so a
    folder of many files costs the parent under 5% of a core.
    """
    interval = QUOTA_POLL_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "deadline"
        if cancel is not None and cancel.is_set():
            return "cancel"
        try:
            proc.wait(timeout=min(interval, left))
            return None
        except subprocess.TimeoutExpired:
            pass  # still running: poll the quota, then wait again until the deadline
        walk = time.monotonic()
        if folder_bytes(run_dir) - baseline > quota:
            return "disk"
        interval = max(QUOTA_POLL_S, 20 * (time.monotonic() - walk))


def _chown_tree(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)


def _signal_of(returncode: int, isolation: str) -> int | None:
    if returncode < 0:
        return -returncode
    # bubblewrap reports a child killed by a signal as 128 + the signal number.
    if isolation == "bwrap" and returncode > 128:
        return returncode - 128
    return None


def diagnose_exit(returncode: int, isolation: str, limits: Limits, stderr: str) -> tuple[Code, str]:
    sig = _signal_of(returncode, isolation)
    lowered = stderr.lower()
    if "memoryerror" in lowered or "bad_alloc" in lowered or "cannot allocate memory" in lowered:
        return Code.MEMORY, f"ran out of memory (limit {limits.memory_mb} MB)"
    if sig == signal.SIGXCPU:
        return Code.TIMEOUT, f"used more than {limits.cpu_s} CPU seconds"
    if sig == signal.SIGXFSZ:
        return Code.OUTPUT_LIMIT, f"wrote a file or output larger than {limits.file_size_mb} MB"
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return Code.CRASHED, f"the worker was killed by {name}"
    return Code.WORKER_ERROR, f"the worker exited with status {returncode} without a result"


def _run_as(run_dir: Path, limits: Limits, isolation: str) -> int | None:
    """The uid a root parent's worker runs as: UNPRIVILEGED_UID when it can reach what it
    needs (and, under bubblewrap, setpriv can drop to it), else None (it keeps uid 0)."""
    if not (limits.drop_root and os.geteuid() == 0):
        return None
    needed = [run_dir, Path(sys.base_prefix), Path(sys.prefix), Path(_agentgym_root())]
    if not all(_reachable_by_others(p, isolation) for p in needed):
        return None
    if isolation == "bwrap" and not iso.can_drop_in_sandbox():
        # Without setpriv, bubblewrap's --cap-drop ALL leaves _child no right to setuid:
        # the worker keeps uid 0 (without capabilities) and the result says "bwrap-root".
        log.warning("setpriv is not installed: bubblewrap workers keep uid 0 (no capabilities)")
        return None
    return UNPRIVILEGED_UID


def planned_isolation(run_dir: Path, limits: Limits | None = None) -> str:
    """What would confine a worker in ``run_dir``: "bwrap", "netns" or "rlimits", with
    "-root" appended when it would keep uid 0 (the label ``WorkerResult.isolation`` gets)."""
    limits = limits or Limits()
    isolation = limits.isolation or iso.available()
    keeps_root = os.geteuid() == 0 and _run_as(Path(run_dir).resolve(), limits, isolation) is None
    return f"{isolation}-root" if keeps_root else isolation


@dataclass
class Launched:
    """A worker process that has been started, and what the parent needs to end it."""

    proc: subprocess.Popen[bytes]
    worker_id: str
    isolation: str
    run_as: int | None
    cgroup: Path | None
    start: float
    baseline: int
    """Bytes in the run folder when the worker started (``Limits.disk_mb`` counts the rest)."""

    @property
    def label(self) -> str:
        keeps_root = os.geteuid() == 0 and self.run_as is None
        return f"{self.isolation}-root" if keeps_root else self.isolation

    @property
    def process_limit(self) -> str:
        if self.cgroup is not None:
            return "cgroup"
        return "nproc" if self.run_as is not None or os.geteuid() else "none"

    def reap(self) -> int:
        """Kill the worker's group and anything it left; return how many were left."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group is already gone, or not ours: the leftovers are still counted below
        self.proc.wait()
        leftover = kill_worker_processes(self.worker_id, self.proc.pid)
        if self.cgroup is not None:
            leftover += remove_pids_cgroup(self.cgroup)
        if leftover:
            log.warning("worker %s left %d process(es) running; killed", self.worker_id, leftover)
        return leftover


def launch(
    target: str,
    kwargs: dict[str, Any],
    *,
    run_dir: Path,
    limits: Limits,
    key: bytes,
    stream_fd: int | None = None,
    readable: Sequence[Path] = (),
    pass_fds: Sequence[int] = (),
) -> Launched:
    """Start ``target`` in a confined worker; the key is written to its stdin. Under
    bubblewrap it sees only the files of ``agentgym.sandbox.view`` and ``readable``
    (read-only) besides ``run_dir``.

    With ``stream_fd`` (the write end of a pipe, kept open in the worker under the same
    number) stdin stays open after the key for the parent's requests: the worker gets
    them on a private descriptor as ``request_fd`` and answers on ``response_fd``
    (``agentgym.sandbox.program_worker``). Otherwise stdin is closed after the key.
    """
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    isolation = limits.isolation or iso.available()
    worker_id = uuid.uuid4().hex
    for sub in ("home", "tmp"):
        (run_dir / sub).mkdir(exist_ok=True)

    cgroup = make_pids_cgroup(worker_id, limits.max_processes)
    run_as = _run_as(run_dir, limits, isolation)
    if os.geteuid() == 0 and limits.drop_root and run_as is None and cgroup is None:
        log.warning(
            "the worker keeps root (uid %d cannot reach the Python installation or %s) and "
            "no pids cgroup can be made: the number of processes is bounded by the deadline only",
            UNPRIVILEGED_UID,
            run_dir,
        )
    # As root under bubblewrap, setpriv makes the worker run_as with an empty bounding set
    # before Python starts; elsewhere _child drops to run_as itself (setuid).
    drop_to = run_as if isolation == "bwrap" and iso.can_drop_in_sandbox() else None
    from agentgym.registry import runtime_registrations

    request = {
        "target": target,
        "kwargs": kwargs,
        "env_registrations": runtime_registrations(),
        "limits": {**asdict(limits), "run_as_uid": run_as},
        "stream": stream_fd is not None,
    }
    if stream_fd is not None:
        request["kwargs"] = {**kwargs, "response_fd": stream_fd}
    request_path = run_dir / "request.json"
    request_path.write_text(json.dumps(request))
    (run_dir / "result.json").unlink(missing_ok=True)
    if run_as is not None:
        _chown_tree(run_dir, run_as)

    argv = [sys.executable, "-m", "agentgym.sandbox._child", str(request_path)]
    keep = view.python_paths(Path(_agentgym_root()), [*map(Path, env_paths()), *readable])
    cmd = iso.wrap(
        argv, run_dir, isolation, gpu=limits.gpu, keep=keep, drop_to=drop_to, tmp_mb=limits.tmp_mb
    )
    if cgroup is not None:
        # The shell joins the cgroup and then becomes the worker: nothing it starts can
        # run outside the group, with no preexec_fn (unsafe in a threaded parent).
        cmd = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup / "cgroup.procs"), *cmd]
    env = scrubbed_env(run_dir, limits, worker_id, isolation)
    start = time.monotonic()
    baseline = folder_bytes(run_dir)  # what the quota (Limits.disk_mb) does not count
    with (run_dir / "stdout.log").open("wb") as out, (run_dir / "stderr.log").open("wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=run_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            start_new_session=True,
            close_fds=True,
            pass_fds=(*pass_fds, *(() if stream_fd is None else (stream_fd,))),
        )
    try:
        # The key goes over stdin, read by the worker before the target loads.
        assert proc.stdin is not None
        proc.stdin.write(key.hex().encode() + b"\n")
        proc.stdin.flush()
        if stream_fd is None:
            proc.stdin.close()
    except BrokenPipeError:
        pass  # the worker died at start; its exit status says why
    return Launched(proc, worker_id, isolation, run_as, cgroup, start, baseline)


def run_in_worker(
    target: str,
    kwargs: dict[str, Any],
    *,
    run_dir: Path,
    limits: Limits | None = None,
    deadline_s: float = 60.0,
    channel_key: bytes | None = None,
    readable: Sequence[Path] = (),
    pass_fds: Sequence[int] = (),
    cancel: threading.Event | None = None,
) -> WorkerResult:
    """Call ``target`` ("module:function") with ``kwargs`` in a confined worker process.

    ``kwargs`` and the return value travel as JSON. The worker's cwd is ``run_dir`` (the
    only folder it may write under bubblewrap); it can import agentgym and torch and use
    ``limits.threads`` threads. Never raises for anything the target does: the result
    says how it ended, with a ``Code`` when it did not return normally. The result comes
    back sealed with ``channel_key`` (a fresh one when None; pass your own to open other
    records the target seals, e.g. the dry run's progress lines); every text in it is
    passed through ``sanitize.clean`` before it is returned. Under bubblewrap the worker
    sees only the files of ``agentgym.sandbox.view`` and ``readable`` (read-only): a
    target that reads a file outside its run folder must name it there. ``pass_fds``
    stay open in the worker under the same numbers. Setting ``cancel`` (from another
    thread: the caller of several concurrent workers, interrupted) kills the worker within
    a poll (``QUOTA_POLL_S``) and raises ``WorkerCancelled``.
    """
    key = channel_key or channel.new_key()
    limits = limits or Limits()
    run_dir = Path(run_dir).resolve()
    worker = launch(
        target,
        kwargs,
        run_dir=run_dir,
        limits=limits,
        key=key,
        readable=readable,
        pass_fds=pass_fds,
    )
    proc = worker.proc
    try:
        stop = _wait_within(
            proc, run_dir, worker.start + deadline_s, worker.baseline, limits.disk_mb * MB, cancel
        )
        if stop == "cancel":
            raise WorkerCancelled(f"{target}: cancelled by its caller")
    except BaseException:
        # The parent was interrupted (Ctrl-C, SIGTERM): the worker runs in its own
        # session, so nothing else would stop it writing into the run folder.
        worker.reap()
        raise
    timed_out = stop == "deadline"
    wall = time.monotonic() - worker.start
    leftover = worker.reap()
    isolation = worker.isolation
    result_path = run_dir / "result.json"
    result = WorkerResult(
        ok=False,
        # Said in the result, never silently: a worker that keeps uid 0 is weaker.
        isolation=worker.label,
        process_limit=worker.process_limit,
        wall_s=wall,
        returncode=proc.returncode,
        stdout_tail=tail_text(run_dir / "stdout.log"),
        stderr_tail=tail_text(run_dir / "stderr.log"),
        leftover=leftover,
    )
    if stop == "disk":
        return replace(
            result,
            code=Code.OUTPUT_LIMIT,
            message=f"wrote more than {limits.disk_mb} MB into its folder; write less",
            detail=f"killed when its run folder grew past Limits.disk_mb={limits.disk_mb}",
        )
    if timed_out:
        return replace(
            result,
            code=Code.TIMEOUT,
            message=f"did not finish within {deadline_s:g} s (wall clock); "
            "avoid unbounded loops and keep the computation small",
            detail=f"killed at the {deadline_s:g} s deadline",
        )
    if result_path.is_file():
        try:
            data = channel.open_sealed(
                result_path.read_bytes()[: channel.MAX_RECORD_BYTES + 1], key
            )
        except (OSError, ValueError) as exc:
            return replace(
                result,
                code=Code.WORKER_ERROR,
                message="the worker's result is unreadable or not sealed with this run's key",
                detail=clean(f"{type(exc).__name__}: {exc}", DETAIL_CHARS),
            )
        if data.get("ok") is True:
            return replace(result, ok=True, value=data.get("value"), message="ok")
        code = data.get("code", "WORKER_ERROR")
        return replace(
            result,
            code=Code(code) if code in Code.__members__ else Code.WORKER_ERROR,
            message=clean(data.get("message", ""), MESSAGE_CHARS),
            detail=clean(data.get("detail", ""), DETAIL_CHARS),
        )
    code, message = diagnose_exit(proc.returncode, isolation, limits, result.stderr_tail)
    return replace(
        result,
        code=code,
        message=message,
        detail=f"exit status {proc.returncode}; stderr tail:\n{result.stderr_tail}",
    )
