"""Hostile worker targets that skip the static check on purpose: they show what the
worker alone contains (the second line of defence). Plain Python, no torch, so each
worker starts in well under a second."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def read_environment() -> dict[str, str]:
    return dict(os.environ)


def read_file(path: str) -> str:
    return Path(path).read_text()


def write_file(path: str) -> str:
    Path(path).write_text("pwned\n")
    return "written"


def shell_write(path: str) -> int:
    return os.system(f"echo pwned > {path}")


def connect(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(b"leaked " * 100)
    return "sent"


def spawn_daemon(token: str) -> int:
    """A detached grandchild in its own session, meant to outlive the worker."""
    proc = subprocess.Popen(
        ["sleep", token],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc.pid


def fork_bomb(seconds: float = 3.0) -> int:
    end = time.monotonic() + seconds
    forks = 0
    while time.monotonic() < end:
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            forks += 1
        except OSError:
            time.sleep(0.01)
    return forks


def kill_parent(pid: int) -> str:
    import ctypes

    libc = ctypes.CDLL(None)
    return f"kill returned {libc.kill(pid, 9)}"


def spin() -> None:
    while True:
        pass


def hog_memory() -> int:
    blocks = []
    while True:
        blocks.append(bytearray(256 * 1024 * 1024))


def flood_fd(total_mb: int) -> int:
    chunk = b"x" * (1 << 20)
    for _ in range(total_mb):
        os.write(1, chunk)
    return total_mb


def train_like(run_dir_file: str, threads: int) -> dict:
    """What a training worker needs: agentgym, torch with several threads, writes."""
    import torch

    import agentgym  # noqa: F401

    torch.set_num_threads(threads)
    x = torch.randn(256, 256)
    y = (x @ x).sum().item()
    Path(run_dir_file).write_text(str(y))
    return {"threads": torch.get_num_threads(), "cwd": os.getcwd(), "finite": y == y}
