"""Observation normalisation for SAC, one set of running statistics per member.

Off-policy, the statistics move while the buffer holds old observations, so the buffer
keeps raw observations and every batch is normalised with the statistics of the moment
it is sampled (as SB3 does with VecNormalize). The statistics fold in each vector step's
new observations (Chan et al.'s parallel mean/variance update, in float64).
"""

from __future__ import annotations

import torch


class ObsNormalizer:
    """``clip((obs - mean) / sqrt(var + eps), -clip, clip)`` with running statistics [K, D]."""

    def __init__(
        self,
        members: int,
        obs_dim: int,
        device: torch.device,
        enabled: bool,
        clip: float = 10.0,
        eps: float = 1e-8,
    ) -> None:
        self.enabled, self.clip, self.eps = enabled, clip, eps
        self.mean = torch.zeros((members, obs_dim), dtype=torch.float64, device=device)
        self.var = torch.ones((members, obs_dim), dtype=torch.float64, device=device)
        # A small prior count as in SB3/Gymnasium, so the first update is well defined.
        self.count = torch.full((members,), 1e-4, dtype=torch.float64, device=device)
        self._refresh()

    def _refresh(self) -> None:
        self._mean = self.mean.to(torch.float32).unsqueeze(1)
        self._std = torch.sqrt(self.var + self.eps).to(torch.float32).unsqueeze(1)

    def update(self, obs: torch.Tensor) -> None:
        """Fold in ``obs`` [K, N, D]."""
        if not self.enabled:
            return
        x = obs.to(torch.float64)
        n = x.shape[1]
        batch_mean = x.mean(1)
        batch_var = x.var(1, unbiased=False)
        delta = batch_mean - self.mean
        total = self.count + n
        ratio = (n / total).unsqueeze(1)
        m2 = (
            self.var * self.count.unsqueeze(1)
            + batch_var * n
            + delta**2 * (self.count * n / total).unsqueeze(1)
        )
        self.mean = self.mean + delta * ratio
        self.var = m2 / total.unsqueeze(1)
        self.count = total
        self._refresh()

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalise ``obs`` [K, B, D] with each member's statistics."""
        if not self.enabled:
            return obs
        return ((obs - self._mean) / self._std).clamp(-self.clip, self.clip)

    def member_state(self, k: int) -> dict[str, torch.Tensor]:
        return {
            "mean": self.mean[k].clone(),
            "var": self.var[k].clone(),
            "count": self.count[k].clone(),
        }

    def load_member_states(self, states: list[dict[str, torch.Tensor]]) -> None:
        device = self.mean.device
        self.mean = torch.stack([s["mean"] for s in states]).to(device)
        self.var = torch.stack([s["var"] for s in states]).to(device)
        self.count = torch.stack([s["count"] for s in states]).to(device)
        self._refresh()
