"""Actor-critic MLPs for K population members held in one flat parameter tensor.

Row ``k`` of ``flat`` ([2K, P], a buffer; ``grad`` holds its gradient) holds member k's actor, row ``K + k`` its critic. Both
have the same layer shapes (the critic's output layer is padded to the actor's width and
reads column 0), so one ``torch.baddbmm`` per layer runs every actor and every critic of
every member. A single learner is the case K = 1. Holding all parameters in one tensor
makes the optimiser step, the per-member gradient-norm clip and checkpointing a handful
of tensor ops instead of a Python loop over modules; this is where most of PPO's time
goes at SB3's minibatch sizes (see ../shared/FACTS.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)
# The per-layer parameters are strided views of the [2K, P] buffer by design (see
# StackedActorCritic); autograd warns about that layout and still accumulates in place.
# ppo_update silences it around its backward passes.
LAYOUT_WARNING = "grad and param do not obey the gradient layout contract"


class StackedActorCritic(nn.Module):
    """K actor-critic MLPs (tanh hidden layers, orthogonal init as in CleanRL/SB3)."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        discrete: bool,
        hidden_sizes: Sequence[int],
        seeds: Sequence[int],
        device: torch.device | str = "cpu",
        init_log_std: float = 0.0,
    ) -> None:
        super().__init__()
        self.members = len(seeds)
        self.obs_dim, self.act_dim, self.discrete = obs_dim, act_dim, discrete
        sizes = [obs_dim, *hidden_sizes, act_dim]
        self.layer_shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
        # Per row: W_l (in*out), b_l (out) for each layer, then act_dim log-std slots
        # (used by actor rows of continuous policies, zero and unused elsewhere).
        self.split_sizes = split_sizes(self.layer_shapes)
        flat = torch.zeros(2 * self.members, sum(self.split_sizes))
        for k, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(int(seed))
            for row, out_gain in ((k, 0.01), (self.members + k, 1.0)):
                flat[row] = self._init_row(gen, out_gain, critic=row >= self.members)
        if not discrete:
            flat[: self.members, -act_dim:] = init_log_std
        # The data and gradients live in two flat tensors; the per-layer parameters are
        # leaf views into them, and autograd accumulates into their preassigned ``.grad``
        # views (in place), so ``grad`` is filled without a copy and the forward pass
        # creates no view ops. Never move this module with ``.to()``: build it on its device.
        self.register_buffer("flat", flat.to(device))
        self.register_buffer("grad", torch.zeros_like(self.flat))
        rows = 2 * self.members
        self._layers = []
        offset = 0
        for fan_in, fan_out in self.layer_shapes:
            weight = self._leaf(
                slice(None), slice(offset, offset + fan_in * fan_out), (rows, fan_in, fan_out)
            )
            offset += fan_in * fan_out
            bias = self._leaf(slice(None), slice(offset, offset + fan_out), (rows, 1, fan_out))
            offset += fan_out
            self._layers.append((weight, bias))
        self._log_std = self._leaf(slice(0, self.members), slice(offset, offset + act_dim))
        # Which member each row belongs to, for per-member clipping and optimiser masks.
        self.register_buffer(
            "row_member", torch.arange(2 * self.members, device=device) % self.members
        )

    def _leaf(self, rows: slice, cols: slice, shape: tuple[int, ...] | None = None) -> torch.Tensor:
        data, grad = self.flat[rows, cols], self.grad[rows, cols]
        if shape is not None:
            data, grad = data.view(shape), grad.view(shape)
        leaf = data.requires_grad_(True)
        leaf.grad = grad
        return leaf

    def _rows(self, k: int) -> torch.Tensor:
        """Member k's rows of ``flat``, in row order (its actor, then its critic)."""
        return torch.nonzero(self.row_member == k).squeeze(1)

    def member_parameters(self, k: int) -> torch.Tensor:
        """Member k's parameters [2, P] (actor row, critic row; a copy): the parameters
        of a one-member network, which is how a population member's checkpoint stores them."""
        return self.flat.detach()[self._rows(k)].clone()

    @torch.no_grad()
    def load_member_parameters(self, params: Sequence[torch.Tensor]) -> None:
        """Copy each member's ``member_parameters`` in, in member order (in place: the
        per-layer views keep pointing into ``flat``)."""
        stacked = torch.empty_like(self.flat)
        for k, rows in enumerate(params):
            stacked[self._rows(k)] = rows.to(stacked.device)
        self.flat.copy_(stacked)

    def zero_grad_(self) -> None:
        """Zero the gradients in place (keeping the views autograd accumulates into)."""
        self.grad.zero_()

    def _init_row(self, gen: torch.Generator, out_gain: float, critic: bool) -> torch.Tensor:
        pieces = []
        last = len(self.layer_shapes) - 1
        for i, (fan_in, fan_out) in enumerate(self.layer_shapes):
            width = 1 if (critic and i == last) else fan_out
            weight = torch.empty(width, fan_in)  # nn.Linear layout, then transposed for x @ W
            nn.init.orthogonal_(weight, gain=out_gain if i == last else math.sqrt(2), generator=gen)
            full = torch.zeros(fan_in, fan_out)
            full[:, :width] = weight.T
            pieces += [full.reshape(-1), torch.zeros(fan_out)]
        pieces.append(torch.zeros(self.act_dim))
        return torch.cat(pieces)

    def layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(W [2K, in, out], b [2K, 1, out]) for each layer: views of ``flat``."""
        return self._layers

    def log_std(self) -> torch.Tensor:
        """[K, act_dim] log standard deviations of the Gaussian policies."""
        return self._log_std

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``obs`` [K, B, obs_dim] -> (actor output [K, B, act_dim], value [K, B])."""
        return stacked_forward(self._layers, obs, self.members)


def split_sizes(layer_shapes: Sequence[tuple[int, int]]) -> list[int]:
    """Columns per row of ``flat``: W_l (in*out) and b_l (out) for each layer, then the
    output width's log-std slots."""
    return [n for i, o in layer_shapes for n in (i * o, o)] + [layer_shapes[-1][1]]


def stacked_forward(
    layers: Sequence[tuple[torch.Tensor, torch.Tensor]],
    obs: torch.Tensor,
    members: int,
    activation: Callable[[torch.Tensor], torch.Tensor] = torch.tanh,
    affine: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = torch.baddbmm,
) -> tuple[torch.Tensor, torch.Tensor]:
    """K actors and K critics on ``obs`` [K, B, F]: one ``affine(bias, x, weight)``
    (``baddbmm``) per layer over the (W [2K, in, out], b [2K, 1, out]) ``layers``,
    ``activation`` between them; (actor output [K, B, A], value [K, B])."""
    x = torch.cat([obs, obs], dim=0)
    last = len(layers) - 1
    for j, (weight, bias) in enumerate(layers):
        x = affine(bias, x, weight)
        if j < last:
            x = activation(x)
    return x[:members], x[members:, :, 0]


def _draw(
    fn, shape: tuple[int, int], generators: Sequence[torch.Generator], device: torch.device
) -> torch.Tensor:
    if len(generators) == 1:
        return fn(shape, generator=generators[0], device=device).unsqueeze(0)
    return torch.stack([fn(shape, generator=g, device=device) for g in generators])


def policy_noise(
    net: StackedActorCritic,
    shape: tuple[int, int],
    generators: Sequence[torch.Generator],
    device: torch.device,
) -> torch.Tensor:
    """The draws ``sample_actions`` turns into actions [K, B, A], member k's from its own
    generator: uniform for a discrete policy (Gumbel-max), standard normal for a Gaussian."""
    return _draw(torch.rand if net.discrete else torch.randn, shape, generators, device)


def sample_actions(
    net: StackedActorCritic, out: torch.Tensor, generators: Sequence[torch.Generator]
) -> torch.Tensor:
    """Draw one action per row of ``out`` [K, B, A], member k from its own generator."""
    k, b, a = out.shape
    noise = policy_noise(net, (b, a), generators, out.device)
    return actions_from_noise(out, noise, _log_std_of(net))


def log_prob_entropy(
    net: StackedActorCritic, out: torch.Tensor, actions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of ``actions`` and the policy entropy, each [K, B]."""
    return policy_log_prob(out, actions, _log_std_of(net))


def _log_std_of(net: StackedActorCritic) -> torch.Tensor | None:
    return None if net.discrete else net.log_std().unsqueeze(1)  # [K, 1, A]


def actions_from_noise(
    out: torch.Tensor, noise: torch.Tensor, log_std: torch.Tensor | None
) -> torch.Tensor:
    """The actions ``policy_noise`` draws make: Gumbel-max over the logits ``out`` where
    ``log_std`` is None (discrete), else the Gaussian's mean ``out`` plus scaled noise
    (``log_std`` [K, 1, A])."""
    if log_std is None:
        # Gumbel-max: argmax(logits + G) is a draw from softmax(logits).
        return torch.argmax(out - torch.log(-torch.log(noise.clamp_min(1e-20))), dim=-1)
    return out + noise * log_std.exp()


def policy_log_prob(
    out: torch.Tensor, actions: torch.Tensor, log_std: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of ``actions`` and the policy entropy, each [K, B], of the
    categorical over ``out`` (``log_std`` None) or the Gaussian (``log_std`` [K, 1, A]).

    Written out instead of torch.distributions: its argument validation and object
    construction cost more than the arithmetic at these sizes.
    """
    if log_std is None:
        logp = torch.log_softmax(out, dim=-1)
        chosen = torch.gather(logp, -1, actions.long().unsqueeze(-1)).squeeze(-1)
        return chosen, -(logp.exp() * logp).sum(-1)
    z = (actions - out) * torch.exp(-log_std)
    logp = (-0.5 * z * z - log_std - 0.5 * LOG_2PI).sum(-1)
    entropy = (0.5 + 0.5 * LOG_2PI + log_std).sum(-1).expand_as(logp)
    return logp, entropy


def deterministic_actions(net: StackedActorCritic, out: torch.Tensor) -> torch.Tensor:
    """The mode of each policy: argmax for discrete, the mean for continuous actions."""
    return torch.argmax(out, dim=-1) if net.discrete else out
