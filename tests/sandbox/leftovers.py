"""What a sandboxed run can leave behind, looked up independently of the sandbox's own
sweep: live processes that mention its folder, and the text of the files it wrote."""

from __future__ import annotations

import os
from pathlib import Path


def processes_mentioning(token: str) -> list[int]:
    """Live pids whose command line or cwd contains ``token`` (independent of the sandbox's own scan)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
                continue
            cmdline = (
                Path(f"/proc/{entry.name}/cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
            try:
                cwd = os.readlink(f"/proc/{entry.name}/cwd")
            except OSError:
                cwd = ""
        except OSError:
            continue
        if token in cmdline or token in cwd:
            found.append(int(entry.name))
    return found


def files_text(folder: Path) -> str:
    """Everything the worker left in its folder, as text (for secret searches)."""
    chunks = []
    for path in folder.rglob("*"):
        if path.is_file():
            try:
                chunks.append(path.read_bytes()[:5_000_000].decode(errors="replace"))
            except OSError:
                pass
    return "\n".join(chunks)
