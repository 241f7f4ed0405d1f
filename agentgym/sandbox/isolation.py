"""Which confinement this machine allows, and the command line that applies it.

In order of preference:

- ``bwrap``: bubblewrap with the file view of ``agentgym.sandbox.view`` (only the system's
  libraries, a few files of /etc and the Python installation, read-only; the run folder
  writable; a private /tmp of bounded size, /dev and /proc), new user/pid/net/ipc/uts
  namespaces (no network: connect fails with ENETUNREACH); the pid namespace dies with
  the worker. The worker has no capabilities (empty effective, permitted and bounding
  sets), no_new_privs (bubblewrap always sets it) and an unprivileged uid even when
  agentgym runs as root.

  As root, the uid drop happens inside the sandbox, not through a user namespace: a user
  namespace made by root maps the worker to uid 0 outside (the owner of root's files),
  and starting bubblewrap as the unprivileged uid instead needs the Python installation
  outside root's 0700 home, which it often is not (pyenv under /root). So root's
  bubblewrap keeps only CAP_SETUID, CAP_SETGID and CAP_SETPCAP, and runs ``setpriv`` to
  become uid 65534 with an empty bounding set before Python starts. An ordinary user's
  bubblewrap uses a user namespace and drops every capability.
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

from agentgym.sandbox import view

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
    if os.geteuid() == 0:
        # Root needs no user namespace to make the others, and one would map the worker
        # to root outside (see the module docstring).
        return [
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
    return ["--unshare-all", "--unshare-user"]


def _bwrap_capabilities(drop_to: int | None) -> list[str]:
    if os.geteuid() == 0 and drop_to is not None:
        # Just enough for setpriv to change uid and empty the bounding set, then none.
        return ["--cap-drop", "ALL"] + [
            arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP") for arg in ("--cap-add", cap)
        ]
    return ["--cap-drop", "ALL"]


def drop_command(uid: int) -> list[str]:
    """The command that turns the sandbox's root into ``uid`` with no capabilities left."""
    setpriv = shutil.which("setpriv") or "setpriv"
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def can_drop_in_sandbox() -> bool:
    """Whether root's workers can become an unprivileged uid inside bubblewrap (setpriv)."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def bwrap_prefix(
    run_dir: Path,
    *,
    gpu: bool = False,
    keep: list[Path] | None = None,
    drop_to: int | None = None,
    tmp_mb: int = view.TMP_MB,
) -> list[str]:
    """The bubblewrap command line that confines a worker to ``run_dir``.

    The worker sees the file system of ``agentgym.sandbox.view``: the system's libraries,
    ``keep`` (the Python installation, the package) read-only, ``run_dir`` writable and a
    private ``/tmp`` of ``tmp_mb`` MiB. With ``drop_to`` (root only), the worker becomes
    that uid with no capabilities before its command starts.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [bwrap, *view.bwrap_view(run_dir, keep or [], gpu=gpu, tmp_mb=tmp_mb)]
    cmd += ["--chdir", str(run_dir)]
    cmd += _bwrap_namespaces() + _bwrap_capabilities(drop_to)
    cmd += ["--die-with-parent"]
    if drop_to is not None and os.geteuid() == 0:
        cmd += drop_command(drop_to)
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
    keep: list[Path] | None = None,
    drop_to: int | None = None,
    tmp_mb: int = view.TMP_MB,
) -> list[str]:
    """``argv`` prefixed with the command that applies ``isolation``."""
    if isolation == "bwrap":
        return bwrap_prefix(run_dir, gpu=gpu, keep=keep, drop_to=drop_to, tmp_mb=tmp_mb) + argv
    if isolation == "netns":
        return netns_prefix() + argv
    if isolation == "rlimits":
        return argv
    raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, got {isolation!r}")
