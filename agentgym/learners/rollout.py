"""The rollout a learner collected, and the hook for rewards computed over whole rollouts.

Reward models that need a whole batch or whole episodes (CLIP scoring rendered frames in
large batches, SPA spreading an episode's outcome over its steps) implement
``RolloutRewardModel``; the learner calls ``relabel`` after each rollout, before reward
normalisation and GAE, and trains on the ``"reward"`` it returns.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch


class Rollout(NamedTuple):
    """One member's rollout; every tensor is ``[T, N, ...]`` on the learner's device."""

    obs: torch.Tensor
    """Observations as the env returned them (before normalisation), [T, N, *obs_shape]."""
    actions: torch.Tensor
    """Actions taken (unclipped samples of the policy), [T, N, *act_shape]."""
    logprobs: torch.Tensor
    """Log-probability of each action under the rollout policy, [T, N]."""
    values: torch.Tensor
    """Value estimates V(obs), [T, N] (in normalised-reward units when norm_reward)."""
    rewards: torch.Tensor
    """Per-step rewards from the env or the reward wrapper, [T, N] float32."""
    terminations: torch.Tensor
    """Step t ended its episode in a terminal state, [T, N] bool."""
    truncations: torch.Tensor
    """Step t ended its episode by a time limit, [T, N] bool."""
    env_rewards: torch.Tensor
    """The env's own reward, [T, N] float32."""
    success: torch.Tensor
    """The task's success flag after step t, [T, N] bool (False for envs without one)."""
    frames: torch.Tensor | None = None
    """Rendered frames after step t, [T, N, H, W, 3] uint8, when the relabeler needs_frames."""
    reward_state: dict[str, torch.Tensor] | None = None
    """The TaskSpec's state variables after step t, each [T, N, ...], for agentgym envs."""
    infos: list[dict[str, Any]] | None = None
    """The raw vector-env info dict of every step, only when the relabeler needs_infos."""
    valid: torch.Tensor | None = None
    """False on Gymnasium's autoreset steps (the step after an episode end carries no
    transition: its action is ignored and its reward is 0), [T, N] bool."""
    env_actions: torch.Tensor | None = None
    """The actions as the envs received them (clipped to the action space's bounds),
    [T, N, *act_shape], when the relabeler needs_env_actions."""


@runtime_checkable
class RolloutRewardModel(Protocol):
    """A reward computed over a whole rollout (CLIP on frames, SPA on trajectories)."""

    name: str
    needs_frames: bool

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        """Return {"reward": [T, N] float, <term>: [T, N]...}; the learner uses "reward"
        before GAE and logs the terms (mean per valid step)."""
        ...


def stack_reward_states(
    steps: list[dict[str, Any]], device: torch.device
) -> dict[str, torch.Tensor] | None:
    """Per-step stacked reward_state dicts -> {name: [T, N, ...]} tensors (numbers only)."""
    if not steps or not steps[0]:
        return None
    out = {}
    for name, first in steps[0].items():
        if (
            name.startswith("_")
            or not isinstance(first, np.ndarray)
            or first.dtype.kind not in "biuf"
        ):
            continue
        out[name] = torch.as_tensor(np.stack([s[name] for s in steps]), device=device)
    return out


class ProgramOverRollout:
    """A per-step reward program scored over a whole rollout in one call: the reward of
    every step of ``[T, N]`` from one batch of ``T * N`` states (the program is batched per
    env step, so the values are the same as step by step). The PPO population scores a
    program served from a worker of its own this way (``scores_rollouts``): one round
    trip per rollout instead of one per step."""

    needs_frames = False
    needs_infos = False
    needs_env_actions = True

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = getattr(model, "name", "program")

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        from agentgym.rewards import RewardInput

        if rollout.reward_state is None or rollout.env_actions is None:
            raise ValueError(f"{self.name}: a rollout without reward_state or env actions")
        T, N = rollout.rewards.shape
        state = {k: v.reshape(T * N, *v.shape[2:]) for k, v in rollout.reward_state.items()}
        actions = rollout.env_actions.reshape(T * N, *rollout.env_actions.shape[2:])
        flat = RewardInput(
            state,
            actions,
            rollout.env_rewards.reshape(T * N),
            {},
            rollout.success.reshape(T * N),
        )
        out = self.model(flat)
        return {
            "reward": out.reward.reshape(T, N),
            **{k: v.reshape(T, N) for k, v in out.terms.items()},
        }
