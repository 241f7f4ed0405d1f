"""A PPOConfig small enough to train on CPU in seconds: for smoke tests of a reward
program, a rollout hook or a change to a learner, not for learning a task."""

from __future__ import annotations

from typing import Any

from agentgym.learners.ppo import PPOConfig

TINY: dict[str, Any] = {
    "total_steps": 512,
    "num_envs": 4,
    "num_steps": 64,
    "num_minibatches": 2,
    "update_epochs": 2,
    "eval_episodes": 0,
    "checkpoint_every": 0,
}


def tiny_ppo_config(**changes: Any) -> PPOConfig:
    """PPO on agentgym/Reach-v0 (or ``env_id``): 4 envs x 64 steps a rollout, 2 epochs of
    2 minibatches, 512 steps, no evaluation and no checkpoints. ``changes`` set any other
    PPOConfig field or override these."""
    return PPOConfig(**{**TINY, **changes})
