"""SPA's progress estimator: a network from per-step features to per-step contributions.

``ProgressEstimator`` maps an episode's features ``[L, D]`` to contributions ``c_t``,
trained (by ``SPAReward.fit`` in ``reward.py``) so that ``sum_t c_t`` matches the
episode's final reward. Its body is a per-step MLP (the paper's head on a policy's
hidden state) or a GRU over the episode. ``Episode`` is one trajectory as it trains on,
and ``pad_episodes`` batches episodes of different lengths.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from agentgym.reward_designers.progress.config import BODIES


class Episode(NamedTuple):
    """One finished trajectory as the estimator trains on it."""

    features: torch.Tensor
    """Per-step features [L, D] (a policy's hidden state at each action's end, or obs)."""
    grounding: torch.Tensor
    """g_t, [L] float (1 for a valid action)."""
    final_reward: float
    """R: the task's success or the episode's return."""
    task: int = -1
    """Which task the episode attempted (rollouts of one task form a leave-one-out group)."""


class ProgressEstimator(nn.Module):
    """Features ``[B, L, D]`` -> per-step contributions ``c [B, L]`` (zero where masked)."""

    def __init__(self, feature_dim: int, hidden: int = 64, body: str = "mlp") -> None:
        super().__init__()
        if body not in BODIES:
            raise ValueError(f"ProgressEstimator: body={body!r} is not one of {BODIES}")
        self.body = body
        # LayerNorm first: a language model's hidden states have no fixed scale.
        self.norm = nn.LayerNorm(feature_dim)
        if body == "gru":
            self.gru = nn.GRU(feature_dim, hidden, batch_first=True)
            self.head = nn.Sequential(nn.Tanh(), nn.Linear(hidden, 1))
        else:
            self.mlp = nn.Sequential(
                nn.Linear(feature_dim, hidden),
                nn.Tanh(),
                nn.Linear(hidden, hidden),
                nn.Tanh(),
                nn.Linear(hidden, 1),
            )

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.norm(features)
        if self.body == "gru":
            x, _ = self.gru(x)  # right-padded, so the padding never feeds a real step
            c = self.head(x).squeeze(-1)
        else:
            c = self.mlp(x).squeeze(-1)
        return c * mask.to(c.dtype)


def pad_episodes(episodes: list[Episode], device: torch.device) -> tuple[torch.Tensor, ...]:
    """Episodes -> (features [B, L, D], mask [B, L], grounding [B, L], R [B])."""
    L = max(len(e.features) for e in episodes)
    D = episodes[0].features.shape[-1]
    feats = torch.zeros(len(episodes), L, D, device=device)
    mask = torch.zeros(len(episodes), L, dtype=torch.bool, device=device)
    ground = torch.zeros(len(episodes), L, device=device)
    for i, e in enumerate(episodes):
        n = len(e.features)
        feats[i, :n] = e.features.to(device, torch.float32)
        mask[i, :n] = True
        ground[i, :n] = e.grounding.to(device, torch.float32)
    finals = torch.tensor([e.final_reward for e in episodes], dtype=torch.float32, device=device)
    return feats, mask, ground, finals
