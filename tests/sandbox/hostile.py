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


def forge_result() -> None:
    """Write the result file the parent reads, as the worker would, then vanish."""
    import json

    Path("result.json").write_text(json.dumps({"ok": True, "value": "forged"}))
    print(json.dumps({"ok": True, "value": "forged"}), flush=True)
    os._exit(0)


def forge_progress(index: int) -> str:
    """Append verdict lines the dry-run parent would read: plain, and in the sealed shape."""
    import json

    verdict = {"index": index, "ok": True, "code": None, "message": "ok", "terms": []}
    with open("progress.jsonl", "a") as fh:
        fh.write(json.dumps(verdict) + "\n")
        fh.write(json.dumps({"record": json.dumps(verdict), "tag": "0" * 64}) + "\n")
    return "forged"


def raise_with_escapes() -> None:
    """An exception whose message would drive the user's terminal."""
    raise ValueError("\x1b[2J\x1b]0;owned\x07\x1b[31mred\x1b[0m \u202etxt.exe\x00 end" + "x" * 5000)


def probe_privileges() -> dict[str, object]:
    """What the worker can see and do: its uid, capabilities, files, sockets and env."""
    import glob

    status = Path("/proc/self/status").read_text()
    caps = {
        line.split(":")[0]: line.split(":")[1].strip()
        for line in status.splitlines()
        if line.startswith(("CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Uid"))
    }

    def readable(path: str) -> bool:
        try:
            with open(path, "rb") as fh:
                fh.read(1)
            return True
        except OSError:
            return False

    def listing(path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    return {
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "caps": caps,
        "shadow": readable("/etc/shadow"),
        "root": listing("/root"),
        "home": listing("/home"),
        "run": listing("/run"),
        "var_run": listing("/var/run"),
        "tmp": listing("/tmp"),
        "sockets": [p for p in glob.glob("/run/**", recursive=True) if _is_socket(p)],
        "env": dict(os.environ),
    }


def _is_socket(path: str) -> bool:
    import stat

    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


def raise_env(name: str) -> None:
    """Smuggle a parent variable out through the one text that always comes back."""
    raise ValueError(f"{name}={os.environ.get(name, 'absent')}")
