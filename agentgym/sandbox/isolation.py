"""Which confinement this machine allows, and the command line that applies it.

In order of preference:

- ``bwrap``: bubblewrap with a read-only root, a private /tmp, /dev and /proc, new
  pid/net/ipc/uts namespaces (no network: connect fails with ENETUNREACH) and only the
  run folder writable; the pid namespace dies with the worker.
- ``netns``: ``unshare --net`` (as root, or ``-r`` with user namespaces): no network,
  but the file system is the parent's (rlimits and the uid drop still apply).
- ``rlimits``: resource limits only.

The choice is probed once per process and always reported in the worker's result.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ISOLATIONS = ("bwrap", "netns", "rlimits")


def _probe(cmd: list[str]) -> bool:
    try:
        done = subprocess.run(
            cmd + ["true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _bwrap_namespaces() -> list[str]:
    # As root, a user namespace would map only uid 0, so the worker could not drop to an
    # unprivileged uid (which is what makes RLIMIT_NPROC bite). Root needs no user
    # namespace to create the others; an ordinary user does.
    if os.geteuid() == 0:
        return [
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
    return ["--unshare-all"]


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def bwrap_prefix(
    run_dir: Path,
    *,
    gpu: bool = False,
    hide: list[Path] | None = None,
    keep: list[Path] | None = None,
) -> list[str]:
    """The bubblewrap command line that confines a worker to ``run_dir``.

    ``hide`` folders (the parent's home: API keys in dotfiles) are replaced by empty
    ones; ``keep`` paths under them (the Python installation) are bound back read-only.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [bwrap, "--ro-bind", "/", "/"]
    # --dev gives a minimal /dev without GPUs; a training worker on CUDA needs the real one.
    cmd += ["--dev-bind", "/dev", "/dev"] if gpu else ["--dev", "/dev"]
    cmd += ["--proc", "/proc"]
    roots = [Path("/tmp")] + [h for h in hide or [] if h != Path("/")]
    for root in roots:
        cmd += ["--tmpfs", str(root)]
    binds = [("--ro-bind", p) for p in keep or [] if any(_under(p, r) for r in roots)]
    binds.append(("--bind", run_dir))
    for flag, path in binds:
        root = next((r for r in roots if _under(path, r)), None)
        if root is not None:
            # bubblewrap creates the parents of a bind inside a tmpfs as 0700; the worker
            # may run as another uid, so create them 0755 first.
            for parent in reversed(path.parents):
                if root in parent.parents:
                    cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += [flag, str(path), str(path)]
    cmd += ["--chdir", str(run_dir)]
    cmd += _bwrap_namespaces() + ["--die-with-parent"]
    return cmd


def netns_prefix() -> list[str]:
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "--net"] if os.geteuid() == 0 else [unshare, "-rn"]


@functools.lru_cache(maxsize=1)
def available() -> str:
    """The strongest isolation this machine allows: "bwrap", "netns" or "rlimits"."""
    forced = os.environ.get("AGENTGYM_SANDBOX_ISOLATION")
    if forced:
        if forced not in ISOLATIONS:
            raise ValueError(
                f"AGENTGYM_SANDBOX_ISOLATION must be one of {', '.join(ISOLATIONS)}, got {forced!r}"
            )
        return forced
    if shutil.which("bwrap"):
        with tempfile.TemporaryDirectory(prefix="agentgym-probe-") as probe_dir:
            if _probe(bwrap_prefix(Path(probe_dir))):
                return "bwrap"
    if shutil.which("unshare") and _probe(netns_prefix()):
        log.warning(
            "bubblewrap is not installed: workers get no network but share the file "
            "system (install the 'bubblewrap' package for full isolation)"
        )
        return "netns"
    log.warning(
        "neither bubblewrap nor network namespaces are available: workers are "
        "confined by resource limits only (install the 'bubblewrap' package)"
    )
    return "rlimits"


def wrap(
    argv: list[str],
    run_dir: Path,
    isolation: str,
    *,
    gpu: bool = False,
    hide: list[Path] | None = None,
    keep: list[Path] | None = None,
) -> list[str]:
    """``argv`` prefixed with the command that applies ``isolation``."""
    if isolation == "bwrap":
        return bwrap_prefix(run_dir, gpu=gpu, hide=hide, keep=keep) + argv
    if isolation == "netns":
        return netns_prefix() + argv
    if isolation == "rlimits":
        return argv
    raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, got {isolation!r}")
