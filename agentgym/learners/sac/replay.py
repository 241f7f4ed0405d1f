"""The replay buffer of K members: torch tensors on the learner's device, one slice each.

Member k's transitions live in row k of every tensor (``obs [K, C + 1, D]``, ...) with its
own write position and fill level, so members never read each other's data. Slot ``C`` is
a sink: rows a vector step must not store (Gymnasium's autoreset steps, stopped members)
are written there in the same batched write and never sampled, so a vector step is one
indexed write whatever the mix of stored and skipped rows. Positions and fill levels are
host integers (what to store is decided on the host, where the env's flags are), so
neither adding nor sampling waits on the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch


class ReplayBatch(NamedTuple):
    """Sampled transitions, every tensor [K, B, ...] on the device."""

    obs: torch.Tensor
    actions: torch.Tensor
    """Actions in the policy's [-1, 1] space (before scaling to the env's bounds)."""
    rewards: torch.Tensor
    next_obs: torch.Tensor
    """The observation after the action: the final one when the episode ended there."""
    terminations: torch.Tensor
    """1.0 where the episode terminated (no bootstrap); truncation stores 0.0."""


class ReplayBuffer:
    """A ring buffer of ``capacity`` transitions per member."""

    def __init__(
        self, members: int, capacity: int, obs_dim: int, act_dim: int, device: torch.device
    ) -> None:
        self.members, self.capacity, self.device = members, capacity, device
        slots = capacity + 1  # + the sink slot
        self.obs = torch.zeros((members, slots, obs_dim), device=device)
        self.next_obs = torch.zeros((members, slots, obs_dim), device=device)
        self.actions = torch.zeros((members, slots, act_dim), device=device)
        self.rewards = torch.zeros((members, slots), device=device)
        self.terminations = torch.zeros((members, slots), device=device)
        self.pos = np.zeros(members, dtype=np.int64)
        self.size = np.zeros(members, dtype=np.int64)
        self._member = torch.arange(members, device=device).unsqueeze(1)

    def add(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_obs: torch.Tensor,
        terminations: torch.Tensor,
        keep: np.ndarray,
    ) -> None:
        """Store the rows of one vector step (each [K, N, ...]) where ``keep`` [K, N] holds."""
        keep = np.asarray(keep, dtype=bool)
        offsets = np.cumsum(keep, axis=1) - 1
        slots = np.where(keep, (self.pos[:, None] + offsets) % self.capacity, self.capacity)
        index = torch.from_numpy(slots).to(self.device)
        member = self._member.expand_as(index)
        self.obs[member, index] = obs
        self.actions[member, index] = actions
        self.rewards[member, index] = rewards
        self.next_obs[member, index] = next_obs
        self.terminations[member, index] = terminations.to(self.terminations.dtype)
        count = keep.sum(axis=1)
        self.pos = (self.pos + count) % self.capacity
        self.size = np.minimum(self.size + count, self.capacity)

    def sample(self, batch_size: int, generators: Sequence[torch.Generator]) -> ReplayBatch:
        """``batch_size`` transitions per member, uniformly with replacement from its own
        filled slots, drawn with its own generator."""
        index = torch.stack(
            [
                torch.randint(int(max(n, 1)), (batch_size,), generator=g, device=self.device)
                for n, g in zip(self.size, generators, strict=True)
            ]
        )
        member = self._member.expand_as(index)
        return ReplayBatch(
            self.obs[member, index],
            self.actions[member, index],
            self.rewards[member, index],
            self.next_obs[member, index],
            self.terminations[member, index],
        )

    def member_state(self, k: int) -> dict[str, Any]:
        """Member k's filled slots and position (copies, so a checkpoint holds only them)."""
        n = int(self.size[k])
        return {
            "obs": self.obs[k, :n].clone(),
            "actions": self.actions[k, :n].clone(),
            "rewards": self.rewards[k, :n].clone(),
            "next_obs": self.next_obs[k, :n].clone(),
            "terminations": self.terminations[k, :n].clone(),
            "pos": int(self.pos[k]),
            "size": n,
        }

    def load_member_states(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every member from ``member_state`` outputs (one per member, in order)."""
        for k, state in enumerate(states):
            n = int(state["size"])
            if n > self.capacity:
                raise ValueError(
                    f"replay buffer: the checkpoint holds {n} transitions, capacity is {self.capacity}"
                )
            for name in ("obs", "actions", "rewards", "next_obs", "terminations"):
                getattr(self, name)[k, :n] = state[name].to(self.device)
            self.pos[k], self.size[k] = int(state["pos"]), n
