"""The local executor: each job in a sandbox worker on this machine, one after the other."""

from __future__ import annotations

from pathlib import Path

from agentgym.executors.executor import OnProgress, OnResult
from agentgym.executors.job import Job
from agentgym.executors.progress import watch_steps
from agentgym.sandbox.results import WorkerResult


class LocalExecutor:
    """Today's way: the job's root is the worker's folder, so nothing has to travel. A
    job's ``served`` programs each run in a serving worker of their own, started here
    before the job and stopped after it."""

    name = "local"
    batches_members = True

    def run(
        self, jobs: list[Job], on_result: OnResult, on_progress: OnProgress | None = None
    ) -> list[WorkerResult]:
        import shutil

        from agentgym.sandbox.served import ProgramServers
        from agentgym.sandbox.worker import run_in_worker

        results = []
        for n, job in enumerate(jobs):
            root = job.root.resolve()
            for out in job.outputs:
                shutil.rmtree(root / out, ignore_errors=True)  # a killed run's leftovers
            stop = None
            if on_progress is not None and job.watch:
                stop = watch_steps(
                    [root / w for w in job.watch], lambda steps, n=n: on_progress(n, steps)
                )
            servers = ProgramServers([root / p for p in job.served]) if job.served else None
            try:
                arguments = job.arguments(root)
                readable = [Path(p) for p in job.readable]
                if servers is not None:
                    arguments["served"] = servers.handoff
                    readable += servers.readable
                result = run_in_worker(
                    job.target,
                    arguments,
                    run_dir=root,
                    limits=job.limits,
                    deadline_s=job.deadline_s,
                    readable=readable,
                    pass_fds=servers.fds if servers is not None else (),
                )
            finally:
                if stop is not None:
                    stop()
                if servers is not None:
                    servers.close()
            on_result(n, result)
            results.append(result)
        return results
