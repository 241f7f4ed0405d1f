"""Natively batched vector envs: N sub-envs in one object, stepped as arrays.

- ``NativeVectorEnv`` (``env.py``): the base, a ``gymnasium.vector.VectorEnv`` with
  ``SyncVectorEnv``'s seeding, time limit, autoreset and info layout; a subclass computes
  whole batches.
- ``stack_infos`` (``info.py``): infos with ``_key`` masks, as ``SyncVectorEnv`` stacks them;
  ``info_rows`` cuts such an info to some of its sub-envs.
- ``MujocoBatch`` (``mujoco.py``): N ``MjData`` stepped by ``mujoco.mj_step`` on a thread
  pool, the physics of the MuJoCo envs.
- ``MjxBatch`` (``mjx.py``): the same interface on MuJoCo XLA, one batched ``mjx.Data`` on
  a JAX device (``physics="mjx"``; the ``mjx`` extra).
- ``ThreadedVectorEnv`` (``threaded.py``): Gymnasium's ``SyncVectorEnv`` with the per-env
  steps on a thread pool (``threads.py``'s ``SharedJob`` shares a step among threads).

This package knows no particular env: the envs (``agentgym.envs``) subclass
``NativeVectorEnv`` and register it as their ``vector_entry_point``.
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "BatchReset",
    "BatchStep",
    "MjxBatch",
    "MujocoBatch",
    "NativeVectorEnv",
    "ThreadedVectorEnv",
    "info_rows",
    "stack_infos",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BatchReset": "env",
        "BatchStep": "env",
        "NativeVectorEnv": "env",
        "MujocoBatch": "mujoco",
        "MjxBatch": "mjx",
        "ThreadedVectorEnv": "threaded",
        "stack_infos": "info",
        "info_rows": "info",
    },
)
