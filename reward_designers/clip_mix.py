"""Weighted sums that hold a rollout-level reward (CLIP) as one part, relabelled per rollout.

``gym.make(..., reward="0.5*clip:... + 1.0*env")`` works per step through
``WeightedSum``. The learner's rollout path needs ``relabel(rollout)`` instead: the CLIP
part scores the rollout's frames in large batches, and every per-step part (``env``,
``sparse``, a reward program) is evaluated once on the whole rollout flattened to a batch
of T*N transitions (the reward_state, actions, env reward and success flag the learner
recorded), which is exactly what it would have returned step by step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from agentgym.rewards.base import RewardInput, RewardModel


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


class RolloutWeightedSum:
    """sum_i w_i * part_i over a rollout, with components named "<part>/<component>"
    as ``WeightedSum`` names them."""

    def __init__(self, parts: Sequence[tuple[float, RewardModel]], labels: Sequence[str] | None = None) -> None:
        if not parts:
            raise ValueError("RolloutWeightedSum needs at least one (weight, model) part")
        self.parts = [(float(w), m) for w, m in parts]
        names = [m.name for _, m in self.parts]
        self.labels = list(labels) if labels is not None else [
            f"{x}{i}" if names.count(x) > 1 else x for i, x in enumerate(names)
        ]
        self.name = " + ".join(f"{w:g}*{x}" for (w, _), x in zip(self.parts, self.labels, strict=True))
        self.needs_frames = any(getattr(m, "needs_frames", False) for _, m in self.parts)
        self.needs_infos = any(getattr(m, "needs_infos", False) for _, m in self.parts)

    @classmethod
    def from_weighted_sum(cls, model: Any) -> RolloutWeightedSum:
        """From an ``agentgym.rewards.WeightedSum`` (what a spec with '+' parses to)."""
        return cls(model.parts, getattr(model, "_labels", None))

    def relabel(self, rollout: Any) -> dict[str, torch.Tensor]:
        t, n = rollout.env_rewards.shape[:2]
        device = rollout.env_rewards.device
        total = torch.zeros(t, n, dtype=torch.float32, device=device)
        terms: dict[str, torch.Tensor] = {}
        batch: RewardInput | None = None
        for (weight, model), label in zip(self.parts, self.labels, strict=True):
            if callable(getattr(model, "relabel", None)):
                out = {k: v.to(device, torch.float32) for k, v in model.relabel(rollout).items()}
                reward = out.pop("reward")
                parts = out or {label: reward}
            else:
                if batch is None:
                    batch = rollout_input(rollout)
                step_out = model(batch)
                reward = step_out.reward.reshape(t, n).to(device)
                parts = {k: v.reshape(t, n).to(device) for k, v in step_out.terms.items()}
            total = total + weight * reward
            for key, value in parts.items():
                terms[f"{label}/{key}"] = weight * value
        return {"reward": total, **terms}

    def __repr__(self) -> str:
        return f"RolloutWeightedSum({self.parts!r})"
