"""Which learner an env's spaces fit: text, web and tool envs act in words.

PPO, SAC and stable-baselines3's PPO act with vectors; given a language env they used to
fail deep inside vector-env construction with a raw ``TypeError`` (a Text space has no
shape) after the run folder was made (issue #19). ``refuse_language_env`` raises a clear
error in ``check_request``, before any folder exists, naming the learner that fits.
"""

from __future__ import annotations

import gymnasium as gym
from gymnasium import spaces

AGENT_LEARNER = "agent-ppo"


def _has_text(space: gym.Space) -> bool:
    if isinstance(space, spaces.Text):
        return True
    if isinstance(space, spaces.Dict):
        return any(_has_text(s) for s in space.spaces.values())
    if isinstance(space, spaces.Tuple):
        return any(_has_text(s) for s in space.spaces)
    return False


def refuse_language_env(
    obs_space: gym.Space, act_space: gym.Space, env_id: str, learner: str
) -> None:
    """ValueError naming ``--learner agent-ppo`` when the env acts or observes in text."""
    if _has_text(act_space) or _has_text(obs_space):
        what = "acts with text commands" if _has_text(act_space) else "observes text"
        raise ValueError(
            f"--env {env_id!r} {what} ({type(act_space).__name__} actions), and "
            f"--learner {learner} acts with vectors. Use --learner {AGENT_LEARNER} "
            "(a language-model policy: --policy hf:PATH; see docs/spa.md)"
        )


def probe_spaces(env_id: str) -> tuple[gym.Space, gym.Space]:
    """(observation_space, action_space) of one ``gym.make(env_id)``, closed again."""
    import agentgym  # noqa: F401  (registers the envs)

    env = gym.make(env_id)
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()
