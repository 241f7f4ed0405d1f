"""Reward models that need no code of their own: the env's reward, sparse success, sums."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        self.name = " + ".join(
            f"{w:g}*{label}" for (w, _), label in zip(self.parts, self._labels, strict=True)
        )

    def __call__(self, batch: RewardInput) -> RewardOutput:
        total = torch.zeros(batch.num_envs, dtype=torch.float32, device=batch.env_reward.device)
        terms: dict[str, torch.Tensor] = {}
        for (weight, model), label in zip(self.parts, self._labels, strict=True):
            out = model(batch)
            total = total + weight * out.reward
            for key, value in out.terms.items():
                terms[f"{label}/{key}"] = weight * value
        return RewardOutput(total, terms)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.parts!r})"


class RolloutWeightedSum(WeightedSum):
    """A WeightedSum with a rollout-level part (CLIP on frames, SPA on episodes).

    The learner calls ``relabel(rollout)``: rollout-level parts relabel the whole
    rollout, and every per-step part (``env``, ``sparse``, a program) is evaluated once on
    the rollout flattened to T*N transitions. Per step (``gym.make``) it still works as a
    WeightedSum. ``parse_reward_spec`` returns this class when any part has ``relabel``.
    """

    def __init__(self, parts: Sequence[tuple[float, RewardModel]]) -> None:
        super().__init__(parts)
        self.needs_infos = any(getattr(m, "needs_infos", False) for _, m in self.parts)

    def relabel(self, rollout: Any) -> dict[str, torch.Tensor]:
        from agentgym.rewards.rollout import rollout_input

        t, n = rollout.env_rewards.shape[:2]
        device = rollout.env_rewards.device
        total = torch.zeros(t, n, dtype=torch.float32, device=device)
        terms: dict[str, torch.Tensor] = {}
        batch: RewardInput | None = None
        for (weight, model), label in zip(self.parts, self._labels, strict=True):
            if callable(getattr(model, "relabel", None)):
                out = {k: v.to(device, torch.float32) for k, v in model.relabel(rollout).items()}
                reward = out.pop("reward")
                parts = out or {label: reward}
            else:
                batch = batch if batch is not None else rollout_input(rollout)
                step_out = model(batch)
                reward = step_out.reward.reshape(t, n).to(device)
                parts = {k: v.reshape(t, n).to(device) for k, v in step_out.terms.items()}
            total = total + weight * reward
            for key, value in parts.items():
                terms[f"{label}/{key}"] = weight * value
        return {"reward": total, **terms}
