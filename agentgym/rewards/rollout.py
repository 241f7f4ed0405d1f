"""A learner's rollout seen as one batch of transitions, for per-step reward models.

A rollout holds [T, N, ...] tensors (``agentgym.learners.rollout.Rollout``); flattened to
T*N transitions it is exactly what a per-step reward model would have seen step by step.
"""

from __future__ import annotations

from typing import Any

import torch

from agentgym.rewards.base import RewardInput


def rollout_input(rollout: Any) -> RewardInput:
    """A rollout's [T, N, ...] tensors as one RewardInput batch of T*N transitions."""
    t, n = rollout.env_rewards.shape[:2]

    def flat(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(t * n, *x.shape[2:])

    state: dict[str, Any] = {}
    for name, value in (rollout.reward_state or {}).items():
        if isinstance(value, torch.Tensor):
            state[name] = flat(value)
        else:  # text variables: [T][N] lists
            state[name] = [v for row in value for v in row]
    frames = getattr(rollout, "frames", None)
    return RewardInput(
        state=state,
        action=flat(rollout.actions),
        env_reward=flat(rollout.env_rewards).to(torch.float32),
        env_terms={},
        success=flat(rollout.success).to(torch.bool),
        frames=None if frames is None else flat(frames),
    )
