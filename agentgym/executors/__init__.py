"""agentgym.executors: where sandboxed jobs run, on this machine or on a Ray cluster.

``make_executor("local" | "ray", address)`` gives an executor; ``Job`` is one sandbox
worker call with the files it reads (``inputs``) and writes (``outputs``) under its root.
The Ray executor needs ``pip install 'agentgym[ray]'`` and is imported only when chosen.
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Job": "job",
        "Resources": "job",
        "Executor": "executor",
        "EXECUTORS": "executor",
        "make_executor": "executor",
        "LocalExecutor": "local",
        "RayExecutor": "cluster",
    },
)
