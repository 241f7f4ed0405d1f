"""Running observation and reward normalisation, batched over population members.

Every statistic has a leading member dimension ``K`` so that K learners normalise with
their own statistics in one set of tensor ops. Updates use Chan et al.'s parallel
mean/variance combination, with a mask so that Gymnasium's autoreset steps (no real
transition) do not count.

Each normaliser saves and loads its own state (``state_dict``), all K members at once or
one member at a time (``member_state_dict``): a population member's checkpoint holds the
state of a one-member normaliser, so it resumes as a single learner.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

State = dict[str, torch.Tensor]


class _MemberStates:
    """Per-member state for a component whose ``state_dict`` tensors all have the member
    dimension first: member k's part is the ``state_dict`` of a one-member component."""

    def state_dict(self) -> State:
        raise NotImplementedError  # abstract: each normaliser names its own tensors

    def load_state_dict(self, state: State) -> None:
        raise NotImplementedError  # abstract: each normaliser restores its own tensors

    def member_state_dict(self, k: int) -> State:
        """Member k's state, as a one-member ``state_dict()`` (copies)."""
        return {key: value[k : k + 1].clone() for key, value in self.state_dict().items()}

    def load_member_state_dicts(self, states: Sequence[State]) -> None:
        """Restore all K members from their ``member_state_dict``s, in member order."""
        self.load_state_dict({key: torch.cat([s[key] for s in states]) for key in states[0]})


class RunningMeanStd:
    """Mean and variance of a stream of ``[K, N, *shape]`` batches, one per member."""

    def __init__(
        self, members: int, shape: tuple[int, ...], device: torch.device, epsilon: float = 1e-4
    ):
        self.mean = torch.zeros((members, *shape), dtype=torch.float64, device=device)
        self.var = torch.ones((members, *shape), dtype=torch.float64, device=device)
        # A small prior count as in SB3/Gymnasium, so the first update is well defined.
        self.count = torch.full((members,), epsilon, dtype=torch.float64, device=device)

    def update(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        """Fold in ``x`` [K, N, *shape]; ``mask`` [K, N] selects the samples that count."""
        x = x.to(torch.float64)
        extra = x.dim() - 2
        if mask is None:
            weight = torch.ones(x.shape[:2], dtype=torch.float64, device=x.device)
        else:
            weight = mask.to(torch.float64)
        w = weight.reshape(*weight.shape, *([1] * extra))
        batch_count = weight.sum(1)  # [K]
        safe = batch_count.clamp(min=1.0).reshape(-1, *([1] * extra))
        batch_mean = (w * x).sum(1) / safe
        batch_var = (w * (x - batch_mean.unsqueeze(1)) ** 2).sum(1) / safe
        delta = batch_mean - self.mean
        total = self.count + batch_count
        ratio = (batch_count / total).reshape(-1, *([1] * extra))
        m2 = (
            self.var * self.count.reshape(-1, *([1] * extra))
            + batch_var * batch_count.reshape(-1, *([1] * extra))
            + delta**2 * (self.count * batch_count / total).reshape(-1, *([1] * extra))
        )
        self.mean = self.mean + delta * ratio
        self.var = m2 / total.reshape(-1, *([1] * extra))
        self.count = total

    def state_dict(self) -> State:
        """The statistics of all K members: ``mean``, ``var`` [K, *shape], ``count`` [K]."""
        return {"mean": self.mean, "var": self.var, "count": self.count}

    def load_state_dict(self, state: State) -> None:
        """Restore the statistics from ``state_dict()`` (copied to this object's device, so
        the two never share a tensor)."""
        device = self.mean.device
        self.mean = state["mean"].to(device, copy=True)
        self.var = state["var"].to(device, copy=True)
        self.count = state["count"].to(device, copy=True)


def normalized(
    obs: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, clip: float
) -> torch.Tensor:
    """``clip((obs - mean) / std)`` to [-clip, clip]: ObsNormalizer's formula, which the
    compiled policy step (ppo/compiled.py) calls inside its graph too."""
    return ((obs - mean) / std).clamp(-clip, clip)


class ObsNormalizer(_MemberStates):
    """``clip((obs - mean) / sqrt(var + eps))`` with running statistics.

    The learner folds a rollout's observations into the statistics once per rollout
    (and the reset observations at each reset), so within a rollout the policy sees one
    fixed normalisation and each step costs three tensor ops.
    """

    def __init__(
        self,
        members: int,
        shape: tuple[int, ...],
        device: torch.device,
        enabled: bool = True,
        clip: float = 10.0,
        eps: float = 1e-8,
    ):
        self.enabled, self.clip, self.eps = enabled, clip, eps
        self.rms = RunningMeanStd(members, shape, device)
        self._refresh()

    def _refresh(self) -> None:
        self._mean = self.rms.mean.to(torch.float32).unsqueeze(1)
        self._std = torch.sqrt(self.rms.var + self.eps).to(torch.float32).unsqueeze(1)

    def update(self, obs: torch.Tensor) -> None:
        """Fold ``obs`` [K, B, *shape] into the statistics."""
        if self.enabled:
            self.rms.update(obs)
            self._refresh()

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalise ``obs`` [K, B, *shape] (float32) with the current statistics."""
        if not self.enabled:
            return obs
        return normalized(obs, self._mean, self._std, self.clip)

    def affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The current (mean, std), each [K, 1, *shape] float32: ``__call__`` is
        ``clip((obs - mean) / std)`` with them (for a compiled step that normalises
        itself; new tensors after each ``update``)."""
        return self._mean, self._std

    def member(self, k: int, obs: torch.Tensor) -> torch.Tensor:
        """Normalise one member's observations [B, *shape]."""
        if not self.enabled:
            return obs
        return normalized(obs, self._mean[k], self._std[k], self.clip)

    def state_dict(self) -> State:
        """The running statistics of all K members (``RunningMeanStd.state_dict``)."""
        return self.rms.state_dict()

    def load_state_dict(self, state: State) -> None:
        """Restore the statistics from ``state_dict()``."""
        self.rms.load_state_dict(state)
        self._refresh()


class RewardNormalizer(_MemberStates):
    """Scale rewards by the running std of the discounted return (SB3 VecNormalize style).

    Applied to a whole rollout after any relabelling: the discounted returns are
    accumulated step by step (carried across rollouts), the statistics are updated once
    with all of them, and the rollout's rewards are divided by the new std.
    """

    def __init__(
        self,
        members: int,
        num_envs: int,
        gamma: float,
        device: torch.device,
        enabled: bool = True,
        clip: float = 10.0,
        eps: float = 1e-8,
    ):
        self.enabled, self.gamma, self.clip, self.eps = enabled, gamma, clip, eps
        self.rms = RunningMeanStd(members, (), device)
        self.returns = torch.zeros((members, num_envs), dtype=torch.float64, device=device)

    def __call__(
        self, rewards: torch.Tensor, dones: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """Normalise ``rewards`` [T, K, N]; ``dones`` ends episodes, ``valid`` masks reset steps."""
        if not self.enabled:
            return rewards
        seen = torch.empty(rewards.shape, dtype=torch.float64, device=rewards.device)
        ret = self.returns
        r64 = rewards.to(torch.float64)
        keep = (~dones).to(torch.float64)
        for t in range(rewards.shape[0]):
            ret = ret * self.gamma + r64[t]
            seen[t] = ret
            ret = ret * keep[t]
        self.returns = ret
        # [T, K, N] -> [K, T*N] so each member's statistics see only its own returns.
        k = rewards.shape[1]
        self.rms.update(seen.permute(1, 0, 2).reshape(k, -1), valid.permute(1, 0, 2).reshape(k, -1))
        std = torch.sqrt(self.rms.var + self.eps).to(rewards.dtype).reshape(1, k, 1)
        return (rewards / std).clamp(-self.clip, self.clip)

    def reset_returns(self) -> None:
        """Forget the discounted returns in progress (the envs were reset)."""
        self.returns.zero_()

    def state_dict(self) -> State:
        """The return statistics and the discounted returns in progress [K, N]."""
        return {**self.rms.state_dict(), "returns": self.returns}

    def load_state_dict(self, state: State) -> None:
        """Restore from ``state_dict()`` (copies)."""
        self.rms.load_state_dict(state)
        self.returns = state["returns"].to(self.returns.device, copy=True)
