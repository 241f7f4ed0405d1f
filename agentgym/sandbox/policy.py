"""When agentgym agrees to run untrusted code: only under the strong sandbox, unless told.

Only bubblewrap with an unprivileged uid ("bwrap") hides the user's files and the host's
sockets from a worker. Under anything weaker, code an LLM wrote (or a file someone
downloaded) is refused unless the user accepts the weaker isolation by name: the CLI's
``--allow-weak-sandbox``, or ``AGENTGYM_ALLOW_WEAK_SANDBOX=1`` for the library. The
refusal says what the weaker isolation does not stop, so the choice is an informed one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

ALLOW_WEAK_VAR = "AGENTGYM_ALLOW_WEAK_SANDBOX"
STRONG = "bwrap"

NOT_STOPPED = {
    "netns": "it shares this machine's file system, so the program can read every file "
    "your user can (API keys in dotfiles and the environment files of other runs, the "
    "LLM cache, your home folder) and write outside its run folder; only the network is cut",
    "rlimits": "it has resource limits only: the program can read and write every file "
    "your user can (API keys in dotfiles, your home folder) and reach the network",
    "root": "the worker keeps uid 0: root's files (/root, /etc/shadow) and every other "
    "user's are readable to it, and nothing bounds the processes it starts but the deadline",
}


class WeakSandboxError(RuntimeError):
    """Untrusted code refused: the sandbox available here is weaker than bubblewrap."""

    def __init__(self, isolation: str, message: str) -> None:
        super().__init__(message)
        self.isolation = isolation


def weak_allowed() -> bool:
    return os.environ.get(ALLOW_WEAK_VAR, "") == "1"


def require_strong_isolation(what: str, run_dir: Path | None = None) -> str:
    """The isolation a worker would get here; ``WeakSandboxError`` unless it is the strong
    one or the user accepted a weaker one (``AGENTGYM_ALLOW_WEAK_SANDBOX=1``)."""
    import tempfile

    from agentgym.sandbox.worker import planned_isolation

    if run_dir is None:
        with tempfile.TemporaryDirectory(prefix="agentgym-plan-") as probe:
            os.chmod(probe, 0o755)  # as a worker's own folder would be
            label = planned_isolation(Path(probe))
    else:
        label = planned_isolation(run_dir)
    if label == STRONG:
        return label
    base, _, root = label.partition("-")
    gaps = [NOT_STOPPED[base]] if base in NOT_STOPPED else []
    if root:
        gaps.append(NOT_STOPPED["root"])
    if weak_allowed():
        log.warning("running %s under the weaker %r isolation: %s", what, label, "; ".join(gaps))
        return label
    raise WeakSandboxError(
        label,
        f"refusing to run {what}: the sandbox here is {label!r}, not bubblewrap with an "
        f"unprivileged uid; under it {'; and '.join(gaps)}. Install bubblewrap "
        "(scripts/sysdeps.sh) and setpriv, or accept the weaker isolation with "
        f"--allow-weak-sandbox ({ALLOW_WEAK_VAR}=1)",
    )
