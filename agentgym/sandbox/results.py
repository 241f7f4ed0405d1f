"""What vetting and workers return: plain dataclasses that serialise to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agentgym.sandbox.codes import Code


@dataclass
class VetResult:
    """The verdict on one reward program."""

    ok: bool
    """True when the program passed every check."""
    code: Code | None = None
    """Why it was rejected (None when ok)."""
    message: str = ""
    """Short, fit to send back to the LLM that wrote the program."""
    detail: str = ""
    """Full diagnostics for logs (tracebacks, worker output tails)."""
    terms: list[str] = field(default_factory=list)
    """The reward component names the program returns (when ok)."""
    stage: str = "static"
    """Where the verdict was reached: "static" or "dry_run"."""
    isolation: str | None = None
    """The worker's isolation ("bwrap", "netns", "rlimits"; "-root" appended when the worker
    kept uid 0, e.g. "bwrap-root"); None when no worker ran. Only "bwrap" is the strong
    sandbox: user namespace, unprivileged uid, no capabilities (docs/sandbox.md)."""
    stats: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per component (and "reward"): mean, std, min, max over the recorded states."""
    returns: list[float] = field(default_factory=list)
    """The program's return of each labelled episode (``vet_many(trajectories=...)``)."""
    term_returns: dict[str, list[float]] = field(default_factory=dict)
    """Per component, its return of each labelled episode (same order as ``returns``)."""
    spread: dict[str, Any] = field(default_factory=dict)
    """For a total constant on the recorded states: ``{"stats": ...}`` as ``stats`` over
    those states spread about their mean (agentgym.sandbox.dryrun.spread_states), or
    ``{"error": ...}`` when the program failed there; {} otherwise."""
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["code"] = None if self.code is None else str(self.code)
        return out


@dataclass
class WorkerResult:
    """How one isolated worker run ended."""

    ok: bool
    """True when the target returned normally within its limits."""
    code: Code | None = None
    message: str = ""
    """Short explanation (LLM-facing when the failure is the program's)."""
    value: Any = None
    """The target's JSON-able return value (when ok)."""
    stdout_tail: str = ""
    stderr_tail: str = ""
    wall_s: float = 0.0
    isolation: str = "rlimits"
    """"bwrap", "netns" or "rlimits" (+ "-root" when the worker kept uid 0): what actually
    confined this worker."""
    process_limit: str = "none"
    """What bounds the number of processes: "cgroup" (pids.max), "nproc" (RLIMIT_NPROC) or "none"."""
    detail: str = ""
    """Traceback or exit status, for logs."""
    returncode: int | None = None
    leftover: int = 0
    """Processes of the worker found alive after it ended (and then killed); should be 0."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["code"] = None if self.code is None else str(self.code)
        return out
