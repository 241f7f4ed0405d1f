"""A unit of work for an executor: one sandboxed worker call and the files it reads and writes.

A ``Job`` names everything as paths relative to its ``root`` (a folder of the driver's
run), so the same job runs in that folder (the local executor) or in a private copy of
it on another machine (the Ray executor), whose declared ``outputs`` then come back into
``root``. Either way the worker sees the same layout and the run folder ends the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from agentgym.sandbox.worker import Limits


@dataclass(frozen=True)
class Resources:
    """What each job asks of a cluster node (the Ray executor's task options)."""

    cpus: float = 1.0
    """Ray ``num_cpus``: the worker trains with ``Limits.threads`` threads."""
    gpus: float = 0.0
    """Ray ``num_gpus``: a fraction packs several jobs onto one GPU (0.25: four per GPU)."""
    memory_mb: int = 2048
    """Ray ``memory``: what the scheduler reserves; the worker's RLIMIT_AS is separate."""

    def __post_init__(self) -> None:
        for name in ("cpus", "gpus", "memory_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Resources.{name}: expected a number >= 0, got {value!r}")
        if self.cpus == 0 and self.gpus == 0:
            raise ValueError("Resources.cpus: a job needs some CPU or GPU, got 0 of both")


def relative(path: str) -> str:
    """``path`` checked to stay inside a job's root: relative, no ``..``."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"Job paths: expected a relative path inside the root, got {path!r}")
    return str(pure)


@dataclass(frozen=True)
class Job:
    """``target(**kwargs, **{name: root/path for name, path in path_kwargs})`` in a worker
    whose run folder is ``root``."""

    target: str
    """"module:function" run in the sandbox worker (``agentgym.sandbox.run_in_worker``)."""
    root: Path
    """The driver's folder for this job; the worker's cwd and the root of every path below."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """JSON arguments that are not paths."""
    path_kwargs: dict[str, str | list[str]] = field(default_factory=dict)
    """Arguments that are paths (or lists of them) relative to ``root``: made absolute under
    whichever copy of ``root`` the worker runs in."""
    inputs: tuple[str, ...] = ()
    """Files under ``root`` the worker reads (shipped to a remote node)."""
    outputs: tuple[str, ...] = ()
    """Folders under ``root`` the worker writes (brought back from a remote node; a
    leftover of a killed run is removed first)."""
    watch: tuple[str, ...] = ()
    """metrics.jsonl files under ``root`` whose last ``step`` is the job's progress."""
    readable: tuple[str, ...] = ()
    """Absolute paths of files outside ``root`` the worker reads where they are (a library
    program, a reference's reward): bound read-only into the local worker's view; a remote
    node must have them at the same path (agentgym's own files do)."""
    served: tuple[str, ...] = ()
    """Untrusted reward programs under ``root`` (among ``inputs``) that the local executor
    serves to the worker from workers of their own (``agentgym.sandbox.served``), passed
    to the target as ``served`` (one handle each, in order); an executor that runs every
    member in a worker of its own may run them in the worker instead."""
    limits: Limits = field(default_factory=Limits)
    deadline_s: float = 3600.0
    """The worker's own wall-clock deadline (TIMEOUT past it)."""

    def __post_init__(self) -> None:
        for name in ("inputs", "outputs", "watch", "served"):
            for path in getattr(self, name):
                relative(path)
        for value in self.path_kwargs.values():
            for path in [value] if isinstance(value, str) else value:
                relative(path)

    def arguments(self, root: Path) -> dict[str, Any]:
        """The target's kwargs with every path made absolute under ``root``."""
        root = Path(root).resolve()
        paths = {
            name: str(root / value) if isinstance(value, str) else [str(root / p) for p in value]
            for name, value in self.path_kwargs.items()
        }
        return {**self.kwargs, **paths}

    def with_pool_threads(self, threads: int) -> Job:
        """This job with ``Limits.pool_threads`` set to ``threads``, unless it sets its own:
        how an executor tells a worker how many threads its env pools may take."""
        if self.limits.pool_threads is not None:
            return self
        return dataclasses.replace(
            self, limits=dataclasses.replace(self.limits, pool_threads=threads)
        )
