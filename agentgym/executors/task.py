"""What a Ray task does on its node: the same sandbox worker as locally, in a private folder.

The Ray worker process only moves files and starts ``run_in_worker``; the job's target
(and any generated code it loads) runs in that sandboxed child, never in the Ray worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from agentgym.executors.job import Job
from agentgym.executors.progress import watch_steps
from agentgym.executors.transfer import pack, unpack


class ProgressBoard:
    """Ray actor body: the last steps each running job reported (the driver polls it)."""

    def __init__(self) -> None:
        self.steps: dict[int, list[int]] = {}

    def report(self, job: int, steps: list[int]) -> None:
        self.steps[job] = steps

    def read(self) -> dict[int, list[int]]:
        return dict(self.steps)


def run_on_node(job: Job, inputs: bytes, index: int, board: Any = None) -> dict[str, Any]:
    """Unpack ``inputs`` into a fresh folder, run ``job`` in a sandbox worker there, and
    return ``{"result": WorkerResult dict, "artifacts": tar of job.outputs, "root": the
    folder it ran in}``."""
    from agentgym.sandbox.worker import run_in_worker

    root = Path(tempfile.mkdtemp(prefix="agentgym-job-"))
    try:
        # mkdtemp makes 0700; the worker may run as an unprivileged uid (as it does locally).
        os.chmod(root, 0o755)
        unpack(inputs, root, job.inputs)
        stop = None
        if board is not None and job.watch:
            stop = watch_steps(
                [root / w for w in job.watch], lambda steps: board.report.remote(index, steps)
            )
        try:
            result = run_in_worker(
                job.target,
                job.arguments(root),
                run_dir=root,
                limits=job.limits,
                deadline_s=job.deadline_s,
                readable=[Path(p) for p in job.readable if Path(p).is_file()],
            )
        finally:
            if stop is not None:
                stop()
        return {
            "result": result.to_dict(),
            "artifacts": pack(root, job.outputs),
            "root": str(root.resolve()),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
