"""The executor protocol and the choice between them (``--executor``, ``--ray-address``).

An executor runs a list of ``Job`` s and reports each one's ``WorkerResult`` as it ends,
with its artifacts in place under the job's root. ``local`` (the default) runs them in
sandbox workers on this machine, one per core at a time; ``ray`` runs
each as a Ray task that starts the same sandbox worker on some node of a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from agentgym.executors.job import Job, Resources
from agentgym.sandbox.results import WorkerResult

EXECUTORS = ("local", "ray")
ADDRESS_VAR = "AGENTGYM_RAY_ADDRESS"

OnResult = Callable[[int, WorkerResult], None]
"""Called with a job's index and its result, as soon as its artifacts are in place."""
OnProgress = Callable[[int, list[int]], None]
"""Called with a job's index and the last ``step`` of each of its ``watch`` files."""


class Executor(Protocol):
    name: str
    batches_members: bool
    """True: one job may train a whole population (a worker per iteration, today's way);
    False: one job per member, so members spread over nodes and finish one by one."""

    def member_groups(self, members: list[int]) -> list[list[int]]:
        """How a population's ``members`` split into jobs: one group per job."""
        ...

    def run(
        self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None
    ) -> list[WorkerResult]:
        """Run every job; the results in the order of ``jobs``."""
        ...


def make_executor(
    name: str = "local",
    address: str | None = None,
    resources: Resources | None = None,
    workers: int | None = None,
) -> Executor:
    """``local`` (``workers`` sandbox workers at once, default one per core) or ``ray``
    (at ``address``, else $AGENTGYM_RAY_ADDRESS, else a local Ray instance started for
    this process; each task asking for ``resources``)."""
    if name == "local":
        if address is not None:
            raise ValueError("--ray-address: only with --executor ray")
        if resources is not None:
            raise ValueError("--ray-cpus/--ray-gpus/--ray-memory-mb: only with --executor ray")
        from agentgym.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if workers is not None:
        raise ValueError("--workers: only with --executor local (Ray places one task per member)")
    if name == "ray":
        import importlib.util

        from agentgym.executors.cluster import RayExecutor

        # Said before a run folder exists, not when the first candidate is ready to train.
        if importlib.util.find_spec("ray") is None:
            raise ValueError("--executor ray: ray is not installed (pip install 'agentgym[ray]')")
        return RayExecutor(
            address=address or os.environ.get(ADDRESS_VAR) or None, resources=resources
        )
    raise ValueError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {name!r}")
