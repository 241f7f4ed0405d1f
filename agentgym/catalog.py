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


def env_spec(env_id: str) -> Any:
    """``gym.spec(env_id)``; for an id without a namespace that names one of ours
    (``Reach-v0``), the error suggests ``agentgym/Reach-v0`` first.

    Gymnasium's own did-you-mean only looks inside the id's namespace, so ``Reach-v0``
    got ``Reacher``, a different task (issue #19).
    """
    import agentgym  # noqa: F401  (registers the envs)

    try:
        return gym.spec(env_id)
    except gym.error.Error as err:
        ours = namespaced_matches(env_id)
        if not ours:
            raise
        hint = " or ".join(f"`{i}`" for i in ours)
        raise gym.error.NameNotFound(
            f"Environment `{env_id}` doesn't exist. Did you mean {hint}? agentgym's envs are "
            f"registered under the `{NAMESPACE}/` namespace (Gymnasium suggested: {err})"
        ) from err


def namespaced_matches(env_id: str) -> list[str]:
    """Our ids whose name after ``agentgym/`` is ``env_id``'s name (case-insensitively),
    the same version first; empty for an id that has a namespace or names none of ours."""
    from gymnasium.envs.registration import parse_env_id

    try:
        namespace, name, version = parse_env_id(env_id)
    except gym.error.Error:
        return []
    if namespace is not None:
        return []
    matches = []
    for our_id in env_ids():
        _, our_name, our_version = parse_env_id(our_id)
        if our_name.lower() == name.lower():
            matches.append((our_version != version, our_id))
    return [i for _, i in sorted(matches)]


def task_spec(env_id: str) -> TaskSpec:
    """The TaskSpec of an id, read from its entry point without building the env."""
    spec = env_spec(env_id)
    entry = spec.entry_point
    cls = load_target(entry) if isinstance(entry, str) else entry
    from agentgym.core import TaskEnv

    if isinstance(cls, type) and issubclass(cls, TaskEnv):
        task = cls.task_spec_for(dict(spec.kwargs))
    else:
        task = getattr(cls, "task_spec", None)
    if not isinstance(task, TaskSpec):
        raise TypeError(
            f"{env_id}: entry point {entry!r} has no TaskSpec (task_spec class attribute)"
        )
    return task


def describe(env_id: str, build: bool = True) -> dict[str, Any]:
    """A JSON-able description: family, spaces, success criterion, state variables."""
    spec = env_spec(env_id)
    task = task_spec(env_id)
    info: dict[str, Any] = {
        "id": env_id,
        "family": task.family,
        "robot": task.robot,
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

    entry = env_spec(env_id).entry_point
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
        parse_reward_spec(spec, task_spec(env_id))


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
