"""The local executor: each job in a sandbox worker on this machine, ``workers`` at a time
(default one per CPU core).

With one worker (``workers=1``) jobs run one after the other, each in its own root, as
agentgym always has. With more, up to ``workers`` jobs run at once, each in a private
copy of its root (``root/.workers/job_NN``: its ``inputs`` copied in, its ``outputs``
moved back when it ends, as the Ray executor does on another machine), because a
worker's folder is its own: it writes ``result.json`` and its logs there and its disk
quota is counted there. A population splits into ``member_groups``, one job each, so
the members' Python and the other group's update share the cores (two processes of 4
members against one of 8, Reach: 2.03 s against 2.67, docs/learners.md).
"""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agentgym.executors.executor import OnProgress, OnResult
from agentgym.executors.job import Job
from agentgym.executors.progress import watch_steps
from agentgym.executors.transfer import relocate, result_from_dict
from agentgym.sandbox.results import WorkerResult
from agentgym.vector.threads import thread_budget, usable_cores

PRIVATE = ".workers"
"""The folder under a job's root that holds the private copies of concurrent jobs."""


def default_workers() -> int:
    """One worker per CPU core this process may run on."""
    return usable_cores()


class LocalExecutor:
    """Jobs in sandbox workers on this machine, at most ``workers`` at once (module
    docstring). A job's ``served`` programs each run in a serving worker of their own,
    started here before the job and stopped after it."""

    name = "local"
    batches_members = True

    def __init__(self, workers: int | None = None) -> None:
        if workers is None:
            workers = default_workers()
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"LocalExecutor.workers: expected an int >= 1, got {workers!r}")
        self.workers = workers
        """Jobs at once; default one per CPU core (``default_workers``)."""

    def member_groups(self, members: list[int]) -> list[list[int]]:
        """``members`` in at most ``workers`` contiguous groups of near-equal size (the
        first ones one larger), one job each: a population per worker."""
        count = max(1, min(self.workers, len(members)))
        size, extra = divmod(len(members), count)
        groups, start = [], 0
        for g in range(count):
            end = start + size + (1 if g < extra else 0)
            groups.append(members[start:end])
            start = end
        return groups

    def run(
        self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None
    ) -> list[WorkerResult]:
        lock = threading.Lock()  # the callbacks run one at a time, whichever thread calls

        def report(n: int, result: WorkerResult) -> None:
            with lock:
                on_result(n, result)

        def progress(n: int, steps: list[int]) -> None:
            assert on_progress is not None
            with lock:
                on_progress(n, steps)

        watch = progress if on_progress is not None else None
        if self.workers == 1 or len(jobs) == 1:
            results = []
            for n, job in enumerate(jobs):
                root = job.root.resolve()
                _clear_outputs(job, root)
                result = self._run_job(n, job, root, watch, None)
                report(n, result)
                results.append(result)
            return results
        cancel = threading.Event()
        budget = pool_threads_each(min(self.workers, len(jobs)))

        def private(n: int) -> WorkerResult:
            job = jobs[n].with_pool_threads(budget)
            root = job.root.resolve()
            folder = root / PRIVATE / f"job_{n:02d}"
            shutil.rmtree(folder, ignore_errors=True)  # a killed run's leftovers
            folder.mkdir(parents=True)
            _clear_outputs(job, root)
            try:
                for rel in job.inputs:
                    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(root / rel, folder / rel)
                result = self._run_job(n, job, folder, watch, cancel, served_root=root)
                # Said as the job's root, as a job run in place (or a Ray task) says it.
                result = result_from_dict(relocate(result.to_dict(), str(folder), str(root)))
            finally:
                # What the worker wrote comes back whether it finished, failed or was
                # cancelled (Ctrl-C), as a job run in place leaves its folder.
                for rel in job.outputs:
                    if (folder / rel).exists():
                        (root / rel).parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(folder / rel, root / rel)
                shutil.rmtree(folder, ignore_errors=True)
                try:
                    (root / PRIVATE).rmdir()  # the last job out removes the parent
                except OSError:
                    pass
            report(n, result)
            return result

        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(jobs)))
        futures = [pool.submit(private, n) for n in range(len(jobs))]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # Interrupted (Ctrl-C) or a callback raised: the running workers are killed
            # (each within a poll), the queued jobs never start.
            cancel.set()
            for future in futures:
                future.cancel()
            raise
        finally:
            pool.shutdown(wait=True)

    def _run_job(
        self,
        n: int,
        job: Job,
        root: Path,
        on_progress: OnProgress | None,
        cancel: threading.Event | None,
        served_root: Path | None = None,
    ) -> WorkerResult:
        """Job ``n`` in a worker whose folder is ``root`` (the job's own, or its private
        copy); its served programs are read from ``served_root`` (default ``root``)."""
        from agentgym.sandbox.served import ProgramServers
        from agentgym.sandbox.worker import run_in_worker

        stop = None
        if on_progress is not None and job.watch:
            stop = watch_steps(
                [root / w for w in job.watch], lambda steps, n=n: on_progress(n, steps)
            )
        programs = served_root or root
        servers = ProgramServers([programs / p for p in job.served]) if job.served else None
        try:
            arguments = job.arguments(root)
            readable = [Path(p) for p in job.readable]
            if servers is not None:
                arguments["served"] = servers.handoff
                readable += servers.readable
            return run_in_worker(
                job.target,
                arguments,
                run_dir=root,
                limits=job.limits,
                deadline_s=job.deadline_s,
                readable=readable,
                pass_fds=servers.fds if servers is not None else (),
                cancel=cancel,
            )
        finally:
            if stop is not None:
                stop()
            if servers is not None:
                servers.close()


def pool_threads_each(concurrent: int) -> int:
    """Env pool threads for each of ``concurrent`` workers sharing this machine: its cores
    split between them (at least one each), within this process's own ``thread_budget``.
    On 2 cores, two workers of 4 HalfCheetah PPO members with 16 pool threads each (the
    threads a core of 16 workers on 16 cores that each take every core) took 6.1-6.3 s,
    against 5.2-5.7 s with 1 or 2 (docs/ray.md)."""
    return max(1, min(thread_budget(), usable_cores() // max(1, concurrent)))


def _clear_outputs(job: Job, root: Path) -> None:
    """Remove the job's outputs under ``root``: a killed run's leftovers."""
    for rel in job.outputs:
        shutil.rmtree(root / rel, ignore_errors=True)
