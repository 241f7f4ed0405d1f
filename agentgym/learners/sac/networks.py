"""SAC's networks for K members at once: a squashed-Gaussian actor and twin Q critics.

Every network of every member has its own row in a stack of same-shaped MLPs
(``StackedMLP``): layer ``l`` is one weight ``[R, in, out]`` and one ``torch.baddbmm`` runs
all R rows. The actor stack has one row per member; the critic stack has 2K rows, member
k's first Q at row k and its second at row K + k, so both of every member's critics are
one batched forward. A single learner is K = 1. Rows never mix: each row's output depends
only on its own parameters and inputs, so member k computes exactly what a lone learner
with its seed would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

LOG_2PI = math.log(2 * math.pi)
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # SB3's clamp of the actor's log-std


def stacked_mlp(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    x: torch.Tensor,
    layer_norm: bool = False,
) -> torch.Tensor:
    """R MLPs at once: ``x`` [R, B, in] through ``[R, in, out]`` weights and ``[R, 1, out]``
    biases, ReLU between layers; ``layer_norm`` normalises each hidden layer's features
    (zero mean, unit variance, no learned scale or shift) before its ReLU."""
    last = len(weights) - 1
    for j, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        x = torch.baddbmm(bias, x, weight)
        if j < last:
            if layer_norm:
                x = F.layer_norm(x, x.shape[-1:])
            x = F.relu(x)
    return x


class StackedMLP(nn.Module):
    """R MLPs of one shape (ReLU hidden layers, optionally layer-normalised), stored as
    ``[R, in, out]`` weights."""

    def __init__(
        self,
        sizes: Sequence[int],
        rows: int,
        device: torch.device | str = "cpu",
        layer_norm: bool = False,
    ):
        super().__init__()
        self.sizes = list(sizes)
        self.rows = rows
        self.layer_norm = layer_norm
        shapes = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        self.weights = nn.ParameterList(
            nn.Parameter(torch.zeros(rows, i, o, device=device)) for i, o in shapes
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.zeros(rows, 1, o, device=device)) for _, o in shapes
        )

    @torch.no_grad()
    def init_row(self, row: int, generator: torch.Generator) -> None:
        """nn.Linear's default init (U(-1/sqrt(in), 1/sqrt(in)) for weights and biases, as
        in SB3's and CleanRL's SAC), drawn from ``generator`` on the CPU."""
        for weight, bias in zip(self.weights, self.biases, strict=True):
            bound = 1.0 / math.sqrt(weight.shape[1])
            w = torch.empty(weight.shape[1:]).uniform_(-bound, bound, generator=generator)
            b = torch.empty(bias.shape[1:]).uniform_(-bound, bound, generator=generator)
            weight[row].copy_(w)
            bias[row].copy_(b)

    def forward(self, x: torch.Tensor, detach_params: bool = False) -> torch.Tensor:
        """``x`` [R, B, in] -> [R, B, out]. ``detach_params`` lets gradients reach ``x``
        but not the parameters (the actor's loss through the critics)."""
        weights, biases = list(self.weights), list(self.biases)
        if detach_params:
            weights = [w.detach() for w in weights]
            biases = [b.detach() for b in biases]
        return stacked_mlp(weights, biases, x, self.layer_norm)

    def member_rows(self, rows: Sequence[int]) -> list[torch.Tensor]:
        """Copies of the given rows of every parameter (a member's slice, for checkpoints)."""
        index = torch.tensor(list(rows), device=self.weights[0].device)
        return [p.detach()[index].clone() for p in self.parameters()]

    @torch.no_grad()
    def load_rows(self, rows: Sequence[int], tensors: Sequence[torch.Tensor]) -> None:
        """Write ``tensors`` (from ``member_rows``) into the given rows."""
        index = torch.tensor(list(rows), device=self.weights[0].device)
        for p, t in zip(self.parameters(), tensors, strict=True):
            p[index] = t.to(p.device)


class PolicySample(NamedTuple):
    """A squashed-Gaussian draw: the action in [-1, 1] and its log-probability."""

    action: torch.Tensor
    """tanh(u), u ~ N(mean, std), [K, B, A]."""
    logp: torch.Tensor
    """log pi(action | obs) with the tanh correction, [K, B]."""


def squashed_gaussian(
    mean: torch.Tensor, log_std: torch.Tensor, noise: torch.Tensor
) -> PolicySample:
    """Reparameterised tanh-Gaussian sample ``tanh(mean + std * noise)`` and its log-prob.

    The change of variables a = tanh(u) gives log pi(a) = log N(u) - sum log(1 - tanh(u)^2)
    (Haarnoja et al. 2018, appendix C), with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)),
    which is exact and finite for any u (no epsilon inside the log, unlike SB3's 1e-6).
    """
    u = mean + log_std.exp() * noise
    gaussian = (-0.5 * noise * noise - log_std - 0.5 * LOG_2PI).sum(-1)
    correction = (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)
    return PolicySample(torch.tanh(u), gaussian - correction)


class ActorCritics(nn.Module):
    """K squashed-Gaussian actors, K twin critics and their target copies."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int],
        seeds: Sequence[int],
        device: torch.device | str = "cpu",
        critic_layer_norm: bool = False,
    ) -> None:
        super().__init__()
        self.members, self.obs_dim, self.act_dim = len(seeds), obs_dim, act_dim
        k = self.members
        # The actor's last layer gives the mean and the log-std (SB3's two heads, side by side).
        self.actor = StackedMLP([obs_dim, *hidden_sizes, 2 * act_dim], k, device)
        critic_sizes = [obs_dim + act_dim, *hidden_sizes, 1]
        self.critic = StackedMLP(critic_sizes, 2 * k, device, critic_layer_norm)
        self.critic_target = StackedMLP(critic_sizes, 2 * k, device, critic_layer_norm)
        for member, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(int(seed))
            self.actor.init_row(member, gen)
            self.critic.init_row(member, gen)
            self.critic.init_row(k + member, gen)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)

    def critic_rows(self, member: int) -> list[int]:
        """Rows of member ``member``'s two critics in the critic stacks."""
        return [member, self.members + member]

    def policy(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``obs`` [K, B, obs_dim] -> (mean, clamped log-std), each [K, B, A]."""
        out = self.actor(obs)
        mean, log_std = out.split(self.act_dim, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, obs: torch.Tensor, noise: torch.Tensor) -> PolicySample:
        """A reparameterised action and its log-prob for ``obs``; ``noise`` ~ N(0, 1) [K, B, A]."""
        mean, log_std = self.policy(obs)
        return squashed_gaussian(mean, log_std, noise)

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        """tanh of the Gaussian's mean (evaluation), [K, B, A]."""
        return torch.tanh(self.policy(obs)[0])

    def q_values(
        self, obs: torch.Tensor, actions: torch.Tensor, target: bool = False, detach: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both critics' Q(obs, action), each [K, B]; ``target`` uses the target critics,
        ``detach`` keeps gradients off the critics' parameters."""
        x = torch.cat([obs, actions], dim=-1)
        net = self.critic_target if target else self.critic
        q = net(torch.cat([x, x], dim=0), detach_params=detach).squeeze(-1)
        return q[: self.members], q[self.members :]

    @torch.no_grad()
    def update_targets(self, tau: float) -> None:
        """Polyak averaging, target <- target + tau (online - target), every member at once."""
        for target, online in zip(
            self.critic_target.parameters(), self.critic.parameters(), strict=True
        ):
            target.lerp_(online, tau)
