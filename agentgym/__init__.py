"""agentgym: reward design for reinforcement learning with LLMs and VLMs.

Importing agentgym registers every agentgym env with Gymnasium (registration is a
table of "module:Class" strings; no env module is imported until ``gym.make``).
"""

from __future__ import annotations

from agentgym.spec import StateVar, TaskSpec

__version__ = "0.1.0"
__all__ = ["StateVar", "TaskSpec", "__version__"]


def _register_envs() -> None:
    from agentgym import envs  # noqa: F401  (its import performs the register() calls)


_register_envs()
