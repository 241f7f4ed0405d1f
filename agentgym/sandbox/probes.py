"""The audit's probes: each tries one way out of a worker, as a hostile reward program would.

They are trusted code written for ``agentgym sandbox audit`` (``agentgym.sandbox.audit``)
and run as the target of a real worker, under the limits of a dry run, so they meet the
same confinement a reward program meets; they skip the vetter on purpose (it would reject
every one of them before it ran). Each returns what it saw: ``escaped`` (it got through)
and ``evidence`` (the error or what it read). Probes whose outcome only the parent can
judge (a datagram that arrived, a file that appeared, a limit that killed the worker)
return what they did and let the parent decide. Plain Python, no torch: a worker starts
in well under a second.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def _why(err: OSError) -> str:
    name = errno.errorcode.get(err.errno or 0, str(err.errno))
    return f"{name}: {err.strerror or err}"


def _libc_call(name: str, *args: Any) -> tuple[int, str]:
    libc = ctypes.CDLL(None, use_errno=True)
    ret = getattr(libc, name)(*args)
    err = ctypes.get_errno()
    return ret, "ok" if ret == 0 else f"{errno.errorcode.get(err, err)}: {os.strerror(err)}"


def identity() -> dict[str, Any]:
    """Who the worker is: uid, capabilities, no_new_privs, seccomp mode and filters."""
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    keys = ("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp", "Seccomp_filters")
    return {k: fields.get(k, "").strip() for k in keys}


def read_file(path: str) -> dict[str, Any]:
    """Read a file; escaped when it gave any byte."""
    try:
        data = Path(path).read_bytes()[:4096]
    except OSError as err:
        return {"escaped": False, "evidence": f"{path}: {_why(err)}"}
    return {
        "escaped": bool(data),
        "evidence": f"{path}: read {len(data)} bytes",
        "text": data[:64].decode(errors="replace"),
    }


def list_folder(path: str, allowed: list[str]) -> dict[str, Any]:
    """List a folder; escaped when it shows anything but ``allowed`` (the way to Python)."""
    try:
        names = sorted(os.listdir(path))
    except OSError as err:
        return {"escaped": False, "evidence": f"{path}: {_why(err)}"}
    extra = [n for n in names if n not in allowed]
    shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
    return {"escaped": bool(extra), "evidence": f"{path} lists {len(names)}: {shown or '(empty)'}"}


def find_value(value: str) -> dict[str, Any]:
    """Look for a parent's secret in the environment and every readable /proc/*/environ."""
    if value in os.environ.values():
        return {"escaped": True, "evidence": "in os.environ"}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                environ = Path(f"/proc/{entry.name}/environ").read_bytes()
            except OSError:
                continue
            if value.encode() in environ:
                return {"escaped": True, "evidence": f"in /proc/{entry.name}/environ"}
    return {
        "escaped": False,
        "evidence": f"absent from os.environ ({len(os.environ)} variables) and /proc/*/environ",
    }


def connect(family: str, address: Any, payload: str) -> dict[str, Any]:
    """Connect to the parent's listener (tcp, unix path, abstract) or send it a datagram (udp)."""
    kinds = {
        "tcp": (socket.AF_INET, socket.SOCK_STREAM),
        "udp": (socket.AF_INET, socket.SOCK_DGRAM),
        "unix": (socket.AF_UNIX, socket.SOCK_STREAM),
        "abstract": (socket.AF_UNIX, socket.SOCK_STREAM),
    }
    af, kind = kinds[family]
    target = tuple(address) if family in ("tcp", "udp") else address
    if family == "abstract":
        target = "\0" + address
    try:
        with socket.socket(af, kind) as sock:
            sock.settimeout(3)
            if kind == socket.SOCK_DGRAM:
                sock.sendto(payload.encode(), target)
                return {"escaped": False, "evidence": "sendto returned; the parent checks arrival"}
            sock.connect(target)
            sock.sendall(payload.encode())
    except OSError as err:
        return {"escaped": False, "evidence": _why(err)}
    return {"escaped": True, "evidence": f"connected to {address!r} and sent the payload"}


def mount_tmpfs() -> dict[str, Any]:
    """mount(2) a tmpfs over the run folder's own subfolder."""
    target = Path("mnt")
    target.mkdir(exist_ok=True)
    ret, why = _libc_call("mount", b"none", str(target.resolve()).encode(), b"tmpfs", 0, None)
    return {"escaped": ret == 0, "evidence": f"mount: {why}"}


def unmount(path: str) -> dict[str, Any]:
    """umount2(2) a folder the sandbox mounted (MNT_DETACH), to see what it hides."""
    ret, why = _libc_call("umount2", path.encode(), 2)
    return {"escaped": ret == 0, "evidence": f"umount2({path}): {why}"}


def ptrace() -> dict[str, Any]:
    """ptrace(PTRACE_TRACEME): the cheapest call that succeeds wherever ptrace is allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    ret = libc.ptrace(0, 0, None, None)
    err = ctypes.get_errno()
    why = "ok" if ret == 0 else f"{errno.errorcode.get(err, err)}: {os.strerror(err)}"
    return {"escaped": ret == 0, "evidence": f"ptrace(PTRACE_TRACEME): {why}"}


def new_namespace() -> dict[str, Any]:
    """unshare(CLONE_NEWUSER | CLONE_NEWNS): a user namespace gives every capability back."""
    ret, why = _libc_call("unshare", 0x10000000 | 0x00020000)
    return {"escaped": ret == 0, "evidence": f"unshare(NEWUSER|NEWNS): {why}"}


def spawn() -> dict[str, Any]:
    """Start a program (a shell)."""
    try:
        done = subprocess.run(["/bin/sh", "-c", "echo spawned"], capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError) as err:
        return {"escaped": False, "evidence": f"{type(err).__name__}: {err}"}
    return {
        "escaped": b"spawned" in done.stdout,
        "evidence": f"/bin/sh ran, exit {done.returncode}",
    }


def signal_parent(pid: int) -> dict[str, Any]:
    """kill(pid, 0) on the agentgym process: could the worker signal it?"""
    try:
        os.kill(pid, 0)
    except OSError as err:
        return {"escaped": False, "evidence": f"kill({pid}, 0): {_why(err)}"}
    return {"escaped": True, "evidence": f"kill({pid}, 0) succeeded"}


def write_files(paths: list[str], payload: str) -> dict[str, Any]:
    """Write ``payload`` to each path; the parent checks which appeared on the host."""
    notes = []
    for path in paths:
        try:
            Path(path).write_text(payload)
            notes.append(f"{path}: written")
        except OSError as err:
            notes.append(f"{path}: {_why(err)}")
    return {"escaped": False, "evidence": "; ".join(notes)}


def fill_memory(limit_mb: int) -> dict[str, Any]:
    """Allocate and touch 32 MB blocks up to twice ``limit_mb``."""
    blocks = []
    try:
        while len(blocks) * 32 < 2 * limit_mb:
            blocks.append(bytearray(32 * MB))
    except MemoryError:
        return {"escaped": False, "evidence": f"MemoryError after {len(blocks) * 32} MB"}
    return {"escaped": True, "evidence": f"allocated {len(blocks) * 32} MB"}


def spin() -> dict[str, Any]:
    """Burn CPU until something stops it."""
    end = time.monotonic() + 600
    x = 0
    while time.monotonic() < end:
        x += 1
    return {"escaped": True, "evidence": f"spun 600 s ({x} loops)"}


def sleep_forever() -> dict[str, Any]:
    """Sleep without using CPU: only the wall-clock deadline stops it."""
    time.sleep(3600)
    return {"escaped": True, "evidence": "slept an hour"}


def big_file(limit_mb: int) -> dict[str, Any]:
    """Grow one file in the run folder, 1 MB at a time, up to eight times ``limit_mb``."""
    chunk = b"x" * MB
    written = 0
    try:
        with open("big.bin", "wb") as fh:
            while written < 8 * limit_mb:
                fh.write(chunk)
                fh.flush()
                written += 1
    except OSError as err:
        return {"escaped": False, "evidence": f"{_why(err)} after {written} MB in one file"}
    return {"escaped": True, "evidence": f"wrote one file of {written} MB"}


def fill_disk(folder: str, limit_mb: int) -> dict[str, Any]:
    """Write 1 MB files into ``folder`` (".": the run folder, "tmp": the temporary folder)
    up to 32 times ``limit_mb``."""
    base = Path(tempfile.gettempdir() if folder == "tmp" else folder)
    chunk = b"x" * MB
    written = 0
    try:
        while written < 32 * limit_mb:
            (base / f"fill-{written}.bin").write_bytes(chunk)
            written += 1
    except OSError as err:
        return {"escaped": False, "evidence": f"{_why(err)} after {written} MB in {base}"}
    return {"escaped": True, "evidence": f"wrote {written} MB into {base}"}


def many_threads(cap: int) -> dict[str, Any]:
    """Start sleeping threads (each a task the kernel counts as a process) up to ``cap``."""
    # Small stacks, so that RLIMIT_AS is not what stops them: the process limit must.
    threading.stack_size(256 * 1024)
    stop = threading.Event()
    started = 0
    why = f"reached the probe's cap of {cap}"
    try:
        while started < cap:
            threading.Thread(target=stop.wait, daemon=True).start()
            started += 1
    except RuntimeError as err:
        why = f"RuntimeError: {err}"
    stop.set()
    return {"escaped": started >= cap, "evidence": f"started {started} threads; {why}"}


def many_files(cap: int) -> dict[str, Any]:
    """Open /dev/null until the descriptor limit, up to ``cap``."""
    fds = []
    why = f"reached the probe's cap of {cap}"
    try:
        while len(fds) < cap:
            fds.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as err:
        why = _why(err)
    count = len(fds)
    for fd in fds:
        os.close(fd)
    return {"escaped": count >= cap, "evidence": f"opened {count} descriptors; {why}"}


def forge_result() -> None:
    """Write the result file the parent reads, print a result line, and vanish."""
    import json

    forged = json.dumps({"ok": True, "value": {"escaped": True, "evidence": "forged"}})
    Path("result.json").write_text(forged)
    print(forged, flush=True)
    os._exit(0)


def smuggle(paths: list[str], names: list[str]) -> None:
    """Raise an exception carrying everything it could read, wrapped in terminal escapes."""
    found = []
    for path in paths:
        try:
            found.append(Path(path).read_text()[:200])
        except OSError:
            pass  # what the sandbox hides is what this probe hopes to find
    found += [os.environ.get(name, "") for name in names]
    raise ValueError("\x1b]0;owned\x07\x1b[2J" + " | ".join(found) + "\u202e\x00")
