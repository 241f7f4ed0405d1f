"""The agentgym envs as Gymnasium's registry knows them."""

from __future__ import annotations

from collections.abc import Sequence
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


def env_class(env_id: str) -> Any:
    """The class (or creator) behind a registered env id; Gymnasium's did-you-mean on typos."""
    from gymnasium.envs.registration import load_env_creator

    import agentgym  # noqa: F401  (registers agentgym/ ids)

    entry = gym.spec(env_id).entry_point
    return load_env_creator(entry) if isinstance(entry, str) else entry


def check_rewards(env_id: str, rewards: Sequence[str]) -> None:
    """Parse every reward spec against the env's TaskSpec (RewardSpecError on a bad one)."""
    from agentgym.core import TaskEnv
    from agentgym.rewards import parse_reward_spec

    creator = env_class(env_id)
    is_task = isinstance(creator, type) and issubclass(creator, TaskEnv)
    for spec in rewards:
        if spec == "env":
            continue
        if not is_task:
            raise ValueError(
                f"--reward {spec!r}: {env_id!r} is not an agentgym env (it has no TaskSpec), so "
                "it takes only reward 'env'"
            )
        parse_reward_spec(spec, creator.task_spec)


def renders(env_id: str) -> bool:
    """Whether the env can give rgb_array frames (for evaluation videos)."""
    metadata = getattr(env_class(env_id), "metadata", {}) or {}
    return "rgb_array" in metadata.get("render_modes", [])


def expert_policy(env_id: str) -> Any | None:
    """A fresh scripted expert of ``env_id`` (``get_action(obs) -> action``, the protocol of
    ``agentgym.core.ExpertPolicy``), or None when the env has none."""
    from agentgym.core import TaskEnv

    creator = env_class(env_id)
    if isinstance(creator, type) and issubclass(creator, TaskEnv):
        return creator.expert()
    return None
