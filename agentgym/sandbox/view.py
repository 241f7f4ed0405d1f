"""What a bubblewrap worker sees of the file system: an allowlist, not the host's root.

The worker's root is an empty tmpfs into which bubblewrap binds, read-only, only what
Python and the packages need: the system's programs and libraries (``/usr`` and its
links), a few files of ``/etc`` (the dynamic linker's cache, the time zone, the user
names), the Python installation (``sys.base_prefix`` and the virtual environment), the
source folders of an editable install, the parent's ``PYTHONPATH`` entries and any file
a caller names. The run folder is bound writable; ``/tmp`` is a private tmpfs of bounded
size; ``/dev`` and ``/proc`` are the sandbox's own. Nothing else exists: no ``/root``,
``/home`` or dotfiles, no ``/etc/shadow``, no other runs, no LLM cache, no sockets under
``/run``, ``/var/run`` or ``/tmp``, no other worktree, no ``/etc/pip.conf`` with an
index token. The parents of a bound path are created empty (0755), so a path that needs
``/root/.pyenv/...`` shows ``/root`` holding ``.pyenv`` and nothing more.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
"""Programs and shared libraries; on merged-/usr systems all but /usr are links into it."""

ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "alternatives",
    "passwd",
    "group",
    "nsswitch.conf",
    "mime.types",
    "os-release",
    "fonts",
    "glvnd",
)
"""What of /etc the worker reads: the linker's cache, time, user names (getpwuid), EGL's
vendor files. Not shadow, sudoers, ssh, pip.conf, gitconfig, npmrc or anything with a key."""

TMP_MB = 256
"""The size of the worker's private /tmp (a tmpfs: its pages are memory)."""


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def source_folders(root: Path) -> list[Path]:
    """The Python packages and modules at the top of ``root`` (an editable install's source
    tree): folders with an ``__init__.py`` and ``*.py`` files, never ``.git``, ``.venv``,
    run folders, docs or dotfiles."""
    found: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            found.append(entry)
        elif entry.is_file() and entry.suffix == ".py":
            found.append(entry)
    return found


def python_paths(package_root: Path, extra: list[Path]) -> list[Path]:
    """What the worker's Python needs: the installation, the virtual environment, the
    package's source folders when it is not installed inside them, and ``extra``."""
    prefixes = [Path(p).resolve() for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)]
    paths = list(prefixes)
    exe = Path(sys.executable).resolve()
    if not any(_under(exe, p) for p in prefixes):
        paths.append(exe)
    root = package_root.resolve()
    if any(_under(root, p) for p in prefixes):
        paths.append(root)
    else:
        paths += source_folders(root)
    paths += [Path(p).resolve() for p in extra]
    return paths


def _outermost(paths: list[Path]) -> list[Path]:
    """``paths`` without those inside another, existing ones only, shortest first."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: (len(p.parts), str(p))):
        if path.exists() and not any(_under(path, k) for k in kept):
            kept.append(path)
    return kept


def bwrap_view(
    run_dir: Path, read_only: list[Path], *, gpu: bool = False, tmp_mb: int = TMP_MB
) -> list[str]:
    """bubblewrap arguments that build the worker's file system (see the module docstring).

    ``read_only`` are bound read-only at their own paths; ``run_dir`` writable. With
    ``gpu``, the host's /dev and /sys come in too (the CUDA driver reads both).
    """
    args: list[str] = []
    binds: list[tuple[str, Path]] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            binds.append(("--ro-bind", path))
    binds += [("--ro-bind", Path("/etc", n)) for n in ETC_FILES if os.path.lexists(f"/etc/{n}")]
    # torch's cpuinfo counts processors in /sys/devices/system/cpu; the CUDA driver reads
    # more of /sys. The rest of /sys describes the host.
    binds.append(("--ro-bind", Path("/sys" if gpu else "/sys/devices/system/cpu")))
    binds += [("--ro-bind", p) for p in _outermost(read_only) if not _under(p, run_dir)]
    binds.append(("--bind", run_dir))
    args += ["--dev-bind", "/dev", "/dev"] if gpu else ["--dev", "/dev"]
    args += ["--proc", "/proc"]
    # Sticky and writable by all, like a real /tmp: the worker's uid is not the sandbox's root.
    args += ["--perms", "1777", "--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/"), Path("/tmp"), Path("/dev"), Path("/proc")}
    bound: list[Path] = []
    for flag, path in binds:
        if not path.exists():
            continue
        for parent in reversed(path.parents):
            if parent in made or any(_under(parent, b) for b in bound):
                continue  # the sandbox's own, or a real folder inside a bound one
            # bubblewrap would make missing parents 0700; the worker's uid must pass them.
            args += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
        args += [flag, str(path), str(path)]
        bound.append(path)
    return args
