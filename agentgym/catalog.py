"""The agentgym envs as Gymnasium's registry knows them."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agentgym.registry import load_target
from agentgym.spec import TaskSpec

NAMESPACE = "agentgym"


def env_ids() -> list[str]:
    """Every registered agentgym id, sorted."""
    import agentgym  # noqa: F401  (registers the envs)

    return sorted(i for i, s in gym.registry.items() if s.namespace == NAMESPACE)


def task_spec(env_id: str) -> TaskSpec:
    """The TaskSpec of an id, read from its entry point without building the env."""
    spec = gym.spec(env_id)
    entry = spec.entry_point
    cls = load_target(entry) if isinstance(entry, str) else entry
    task = getattr(cls, "task_spec", None)
    if not isinstance(task, TaskSpec):
        raise TypeError(
            f"{env_id}: entry point {entry!r} has no TaskSpec (task_spec class attribute)"
        )
    return task


def describe(env_id: str, build: bool = True) -> dict[str, Any]:
    """A JSON-able description: family, spaces, success criterion, state variables."""
    spec = gym.spec(env_id)
    task = task_spec(env_id)
    info: dict[str, Any] = {
        "id": env_id,
        "family": task.family,
        "instruction": task.instruction,
        "success": task.success,
        "max_episode_steps": spec.max_episode_steps,
        "state": [v.name for v in task.state],
    }
    if build:
        env = gym.make(env_id)
        try:
            info["observation_space"] = str(env.observation_space)
            info["action_space"] = str(env.action_space)
        finally:
            env.close()
    return info
