"""Reward models that need no code of their own: the env's reward, sparse success, sums."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from agentgym.rewards.base import RewardInput, RewardModel, RewardOutput


class EnvReward:
    """The env's own (human-designed) reward with its named components."""

    name = "env"
    needs_frames = False

    def __call__(self, batch: RewardInput) -> RewardOutput:
        terms = dict(batch.env_terms) or {"env": batch.env_reward}
        return RewardOutput(batch.env_reward.to(torch.float32), terms)

    def __repr__(self) -> str:
        return "EnvReward()"


class SparseSuccessReward:
    """1 on a step where the task's success flag holds, else 0."""

    name = "sparse"
    needs_frames = False

    def __call__(self, batch: RewardInput) -> RewardOutput:
        r = batch.success.to(torch.float32)
        return RewardOutput(r, {"success": r})

    def __repr__(self) -> str:
        return "SparseSuccessReward()"


class WeightedSum:
    """sum_i w_i * model_i, with components named "<model>/<component>"."""

    needs_frames: bool

    def __init__(self, parts: Sequence[tuple[float, RewardModel]]) -> None:
        if not parts:
            raise ValueError("WeightedSum needs at least one (weight, model) part")
        self.parts = [(float(w), m) for w, m in parts]
        self.needs_frames = any(getattr(m, "needs_frames", False) for _, m in self.parts)
        labels = [m.name for _, m in self.parts]
        self._labels = [
            f"{label}{i}" if labels.count(label) > 1 else label for i, label in enumerate(labels)
        ]
        self.name = " + ".join(f"{w:g}*{label}" for (w, _), label in zip(self.parts, self._labels))

    def __call__(self, batch: RewardInput) -> RewardOutput:
        total = torch.zeros(batch.num_envs, dtype=torch.float32, device=batch.env_reward.device)
        terms: dict[str, torch.Tensor] = {}
        for (weight, model), label in zip(self.parts, self._labels):
            out = model(batch)
            total = total + weight * out.reward
            for key, value in out.terms.items():
                terms[f"{label}/{key}"] = weight * value
        return RewardOutput(total, terms)

    def __repr__(self) -> str:
        return f"WeightedSum({self.parts!r})"
