"""The first code a sandbox worker runs: ``python -m agentgym.sandbox._child REQUEST.json``.

It reads the run's channel key from stdin (then points stdin at /dev/null, see
``agentgym.sandbox.channel``), applies the resource limits, drops root to an
unprivileged uid (so RLIMIT_NPROC bites), loads the seccomp filter
(``agentgym.sandbox.seccomp``), caps what Python writes to stdout/stderr,
imports the ``module:function`` target, calls it with the request's kwargs and writes
``result.json``, sealed with the key, beside the request. Everything that can go wrong is turned into a code here; what cannot be caught
(a signal, a kill at the deadline) the parent reads from the exit status.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

MB = 1024 * 1024


class OutputLimitExceeded(BaseException):
    """Raised by a write past the output cap; a BaseException so ``except Exception`` lets it pass."""


class BoundedStream:
    """A text stream that forwards at most ``limit`` characters, then refuses."""

    def __init__(self, inner: TextIO, limit: int) -> None:
        self._inner = inner
        self._left = limit
        self.limit = limit

    def write(self, text: str) -> int:
        if len(text) > self._left:
            self._inner.write(text[: max(self._left, 0)])
            self._left = -1
            self._inner.flush()
            raise OutputLimitExceeded(f"more than {self.limit} characters written to the output")
        self._left -= len(text)
        return self._inner.write(text)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _count_processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(f"/proc/{entry.name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass  # the process ended while the count ran: it no longer counts
    return count


def apply_limits(limits: dict[str, Any]) -> None:
    """RLIMIT_AS, CPU, FSIZE, NOFILE, CORE now; NPROC relative to the uid we will run as."""

    def cap(res: int, soft: int, hard: int | None = None) -> None:
        _, old_hard = resource.getrlimit(res)
        hard = soft if hard is None else hard
        if old_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, old_hard), min(hard, old_hard)
        resource.setrlimit(res, (soft, hard))

    cap(resource.RLIMIT_AS, int(limits["memory_mb"]) * MB)
    # SIGXCPU at the soft limit, SIGKILL a little later if it is ignored.
    cap(resource.RLIMIT_CPU, int(limits["cpu_s"]), int(limits["cpu_s"]) + 5)
    cap(resource.RLIMIT_FSIZE, int(limits["file_size_mb"]) * MB)
    cap(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    cap(resource.RLIMIT_CORE, 0)
    uid = limits.get("run_as_uid")
    target_uid = os.getuid() if uid is None else int(uid)
    # NPROC counts every task (threads too) of the real uid, machine-wide.
    cap(resource.RLIMIT_NPROC, _count_processes_of(target_uid) + int(limits["max_processes"]))


def drop_privileges(uid: int | None) -> None:
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise RuntimeError("could not drop root privileges")


def _failure(code: str, message: str, detail: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "message": message, "detail": detail}


def _classify(err: BaseException, limits: dict[str, Any]) -> dict[str, Any]:
    detail = "".join(traceback.format_exception(err))[-8000:]
    from_rejection = getattr(err, "code", None)
    if from_rejection is not None and hasattr(err, "message") and isinstance(from_rejection, str):
        return _failure(str(from_rejection), err.message, getattr(err, "detail", "") or detail)
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, MemoryError) or (
        isinstance(err, RuntimeError)
        and ("can't allocate memory" in str(err) or "out of memory" in str(err).lower())
    ):
        return _failure(
            "MEMORY", f"ran out of memory (limit {limits['memory_mb']} MB): {text[:200]}", detail
        )
    # Python ignores SIGXFSZ, so RLIMIT_FSIZE arrives as OSError(EFBIG).
    if isinstance(err, OutputLimitExceeded) or (
        isinstance(err, OSError) and err.errno == errno.EFBIG
    ):
        return _failure(
            "OUTPUT_LIMIT",
            f"wrote more than {limits['output_chars']} characters to "
            f"stdout/stderr or a file over {limits['file_size_mb']} MB; remove the prints",
            detail,
        )
    return _failure("RUNTIME_ERROR", f"raised {text[:300]}", detail)


def _write_result(path: Path, result: dict[str, Any]) -> None:
    from agentgym.sandbox import channel

    try:
        data = channel.seal(result)
    except (TypeError, ValueError) as err:
        data = channel.seal(
            _failure(
                "WORKER_ERROR",
                f"the target returned a value that is not JSON: {err}",
                repr(result.get("value"))[:2000],
            )
        )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(data)
    os.replace(tmp, path)


def _read_line(fd: int, limit: int = 256) -> bytes:
    """One line from ``fd``, byte by byte: a buffered read could swallow the requests
    that follow the key on a streaming worker's stdin."""
    line = b""
    while len(line) < limit:
        byte = os.read(fd, 1)
        if not byte or byte == b"\n":
            break
        line += byte
    return line


def _take_key(keep_stdin: bool) -> int | None:
    """Read the channel key from stdin and close that door before any target code loads.

    A streaming worker keeps the rest of stdin (the parent's requests) on a private
    descriptor, returned; fd 0 itself points at /dev/null either way.
    """
    from agentgym.sandbox import channel

    line = _read_line(0).strip()
    kept = os.dup(0) if keep_stdin else None
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - stays open for the process's life
    channel.install(bytes.fromhex(line.decode()))
    return kept


def main(argv: list[str]) -> int:
    request_path = Path(argv[1]).resolve()
    request = json.loads(request_path.read_text())
    request_fd = _take_key(bool(request.get("stream")))
    if request_fd is not None:
        request["kwargs"]["request_fd"] = request_fd
    limits = request["limits"]
    result_path = request_path.parent / "result.json"
    apply_limits(limits)
    drop_privileges(limits.get("run_as_uid"))
    if limits.get("seccomp", True):
        from agentgym.sandbox import seccomp

        # Before the target loads, and before any thread exists: the filter is per thread
        # and inherited only by what starts after it.
        try:
            seccomp.install(spawn=bool(limits.get("spawn", True)))
        except OSError as err:
            message = f"the seccomp filter could not be loaded (Limits.seccomp): {err}"
            _write_result(result_path, _failure("WORKER_ERROR", message, repr(err)))
            return 1
    sys.stdout = BoundedStream(sys.stdout, int(limits["output_chars"]))  # type: ignore[assignment]
    sys.stderr = BoundedStream(sys.stderr, int(limits["output_chars"]))  # type: ignore[assignment]
    try:
        from agentgym.registry import load_target, register_runtime

        if request.get("env_registrations"):
            register_runtime(request["env_registrations"])
        target = load_target(request["target"])
        value = target(**request["kwargs"])  # type: ignore[operator]
        result = {"ok": True, "value": value}
    except BaseException as err:  # noqa: B036 - untrusted code may raise SystemExit and worse
        result = _classify(err, limits)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: B036 - a closed or capped stream must not lose the result
        pass
    _write_result(result_path, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
