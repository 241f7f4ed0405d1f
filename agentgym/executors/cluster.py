"""The Ray executor: each job a Ray task with declared resources, on any node of a cluster.

The driver (this process) ships each job's inputs through Ray's object store, the task
runs the job in a sandbox worker on its node (``task.run_on_node``) and returns the
worker's result and a tar of the job's outputs, which the driver checks and unpacks into
the job's root: the run folder ends as the local executor leaves it.

Ray's own retries are off (``max_retries=0``): this executor retries a lost task (its
node died, its worker was killed) or one past its deadline (cancelled, ``force=True``)
up to ``retries`` times, then records it with code EXECUTOR_LOST or DEADLINE, and the
other jobs go on. A job's deadline counts from its submission: its worker's own deadline
plus ``grace_s`` for queueing and transfers.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from agentgym.executors.executor import OnProgress, OnResult
from agentgym.executors.job import Job, Resources
from agentgym.executors.transfer import (
    MAX_ARTIFACT_BYTES,
    pack,
    relocate,
    result_from_dict,
    unpack,
)
from agentgym.sandbox.codes import Code
from agentgym.sandbox.results import WorkerResult

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 2.0


@dataclass
class _Attempt:
    index: int
    attempt: int
    submitted: float


class RayExecutor:
    """Jobs as Ray tasks on the cluster at ``address`` (None: a local Ray instance), each
    asking for ``resources``."""

    name = "ray"
    batches_members = False

    def member_groups(self, members: list[int]) -> list[list[int]]:
        """One member per task: members spread over the nodes and finish one by one."""
        return [[m] for m in members]

    def __init__(
        self,
        address: str | None = None,
        *,
        retries: int = 2,
        grace_s: float = 300.0,
        task_deadline_s: float | None = None,
        max_artifact_bytes: int = MAX_ARTIFACT_BYTES,
        poll_s: float = 0.5,
        resources: Resources | None = None,
    ) -> None:
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"RayExecutor.retries: expected an int >= 0, got {retries!r}")
        if task_deadline_s is not None and task_deadline_s <= 0:
            raise ValueError(f"RayExecutor.task_deadline_s: expected > 0, got {task_deadline_s}")
        self.address = address
        self.retries = retries
        self.grace_s = grace_s
        self.task_deadline_s = task_deadline_s
        self.max_artifact_bytes = max_artifact_bytes
        self.poll_s = poll_s
        self.resources = resources or Resources()

    def connect(self) -> Any:
        """The ``ray`` module, connected to the cluster (once per process)."""
        try:
            import ray
        except ImportError as err:
            raise ValueError(
                "--executor ray: ray is not installed (pip install 'agentgym[ray]')"
            ) from err
        if not ray.is_initialized():
            # The driver's terminal is the rich display: the workers' logs stay in Ray's.
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        return ray

    def deadline(self, job: Job) -> float:
        return self.task_deadline_s or job.deadline_s + self.grace_s

    def run(
        self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None
    ) -> list[WorkerResult]:
        from agentgym.executors.task import ProgressBoard, run_on_node

        ray = self.connect()
        from ray import exceptions as rx

        remote = ray.remote(run_on_node)
        board = None
        if on_progress is not None and any(j.watch for j in jobs):
            board = ray.remote(num_cpus=0)(ProgressBoard).remote()
        inputs = [ray.put(pack(j.root.resolve(), j.inputs)) for j in jobs]
        results: dict[int, WorkerResult] = {}
        running: dict[Any, _Attempt] = {}

        def submit(n: int, attempt: int) -> None:
            r = self.resources
            # The task's env thread pools take its CPUs, not every core of the node it shares.
            job = jobs[n].with_pool_threads(max(1, int(r.cpus)))
            if r.gpus > 0:
                # Ray sets the task's CUDA_VISIBLE_DEVICES, which the worker inherits.
                job = dataclasses.replace(job, limits=dataclasses.replace(job.limits, gpu=True))
            ref = remote.options(
                num_cpus=r.cpus,
                num_gpus=r.gpus,
                memory=int(r.memory_mb) * 2**20,
                max_retries=0,
                name=f"agentgym:{jobs[n].root.name}:{n}",
            ).remote(job, inputs[n], n, board)
            running[ref] = _Attempt(n, attempt, time.monotonic())

        def finish(n: int, result: WorkerResult) -> None:
            results[n] = result
            on_result(n, result)

        def retry_or(n: int, attempt: int, code: Code, message: str) -> None:
            if attempt < self.retries:
                log.warning(
                    "job %d: %s; retrying (%d of %d)", n, message, attempt + 1, self.retries
                )
                submit(n, attempt + 1)
            else:
                tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                finish(n, WorkerResult(ok=False, code=code, message=f"{message} ({tries})"))

        for n in range(len(jobs)):
            submit(n, 0)
        shown = time.monotonic()
        try:
            while running:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=self.poll_s)
                for ref in ready:
                    a = running.pop(ref)
                    try:
                        out = ray.get(ref)
                    except rx.RayTaskError as err:
                        # agentgym's own code failed on the node (not the worker: its
                        # failures come back as results): the same again would fail too.
                        finish(
                            a.index,
                            WorkerResult(
                                ok=False,
                                code=Code.WORKER_ERROR,
                                message=f"the Ray task failed: {str(err).splitlines()[-1][:300]}",
                            ),
                        )
                        continue
                    except rx.RayError as err:
                        what = f"the Ray task was lost ({type(err).__name__})"
                        retry_or(a.index, a.attempt, Code.EXECUTOR_LOST, what)
                        continue
                    finish(a.index, self._receive(jobs[a.index], out))
                now = time.monotonic()
                for ref, a in list(running.items()):
                    limit = self.deadline(jobs[a.index])
                    if now - a.submitted > limit:
                        running.pop(ref)
                        ray.cancel(ref, force=True)
                        what = f"the Ray task did not finish within {limit:g} s"
                        retry_or(a.index, a.attempt, Code.DEADLINE, what)
                if board is not None and now - shown >= PROGRESS_EVERY_S:
                    shown = now
                    for n, steps in ray.get(board.read.remote()).items():
                        if n not in results:
                            on_progress(n, steps)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)
            if board is not None:
                ray.kill(board)
        return [results[n] for n in range(len(jobs))]

    def _receive(self, job: Job, out: Any) -> WorkerResult:
        """The result of a finished task, its artifacts unpacked into the job's root."""
        import shutil

        try:
            if not isinstance(out, dict):
                raise ValueError(f"expected a dict, got {type(out).__name__}")
            root = job.root.resolve()
            node_root = out.get("root")
            if not isinstance(node_root, str):
                raise ValueError(f"the node's folder: expected a str, got {node_root!r}")
            result = result_from_dict(relocate(out.get("result"), node_root, str(root)))
            for rel in job.outputs:
                shutil.rmtree(root / rel, ignore_errors=True)
            unpack(out.get("artifacts"), root, job.outputs, self.max_artifact_bytes)
        except ValueError as err:
            return WorkerResult(
                ok=False,
                code=Code.WORKER_ERROR,
                message=f"the Ray task's result was refused: {err}",
            )
        return result
