"""The whole PPO minibatch step as one ``torch.compile``d function (``PPOConfig.compile``).

At SB3's settings (minibatch 64, 64-64 tanh) a step is ~20 tiny tensor ops forward, ~30
backward and ~15 for the clip and Adam; eager PyTorch spends most of its ~0.5 ms in
per-op dispatch and the autograd engine, not arithmetic (bench/results/ppo_update.md).
Here the loss is a pure function of the flat parameter tensor's per-layer pieces, their
gradients come from ``torch.func.grad``, and forward, backward, per-member clip and Adam compile together
(inductor's C++ backend on CPU), so a step is a handful of fused loops.

Same algebra as update.py's eager path, but inductor fuses and reorders float
arithmetic, so results differ from it in the last bits: it is a flag, off by default.
It covers the common case only: every member active and in optimiser lockstep; otherwise
``ppo_update`` takes the eager path (a population after a target-KL stop).
"""

from __future__ import annotations

import functools
import itertools

import torch

from agentgym.learners.compile import Compiled, compile_step
from agentgym.learners.normalize import normalized
from agentgym.learners.ppo.networks import (
    actions_from_noise,
    policy_log_prob,
    split_sizes,
    stacked_forward,
)

# (norms [K], policy loss, value loss, entropy, ratio, log ratio: each [K, M]).
StepStats = tuple[torch.Tensor, ...]


def _columns(layer_shapes: tuple[tuple[int, int], ...]) -> list[slice]:
    """The columns of ``flat`` holding each layer's weight and bias, then the log-std
    (networks.py's ``split_sizes``)."""
    bounds = [0, *itertools.accumulate(split_sizes(layer_shapes))]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh as 2 sigmoid(2x) - 1, for compiled graphs: inductor's CPU tanh (SLEEF's
    1-ulp ``tanhf``) costs ~1.4 ns a float on the Intel Xeon dev machine, ATen's eager
    tanh ~0.3 and inductor's sigmoid (an ``exp``) ~0.15; at minibatch 256 the two hidden
    layers' tanh were ~20% of the update step. Near 0 the result carries an absolute
    error of ~1e-7 (a float's rounding at 0.5, doubled) where tanh's own is relative;
    the next layer's float32 sums round at that size already."""
    return 2.0 * torch.sigmoid(2.0 * x) - 1.0


SMALL_BATCH_ROWS = 8
"""At most this many rows a member (a policy step over few envs), a compiled layer is
a broadcast multiply and sum (``_small_affine``) instead of a ``baddbmm``: inductor
then fuses it into its own loops, where each ``baddbmm`` is a call into ATen (~2 us
of dispatch for a few hundred multiply-adds). With one env the policy step measured
23 -> 17.5 us (idle Intel Xeon, 2026-12-07, HalfCheetah's 17-64-64-6); at 8 rows
the two are equal, beyond them the GEMM wins."""


def _small_affine(bias: torch.Tensor, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``baddbmm(bias, x, weight)`` as a broadcast multiply and sum (``SMALL_BATCH_ROWS``)."""
    return (x.unsqueeze(-1) * weight.unsqueeze(1)).sum(2) + bias


def _forward(
    pieces: tuple[torch.Tensor, ...],
    obs: torch.Tensor,
    layer_shapes: tuple[tuple[int, int], ...],
    k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``StackedActorCritic.forward`` on the pieces of ``flat`` (``_columns``); shapes
    are static in these graphs, so the small-batch form is chosen while tracing."""
    layers = [
        (pieces[2 * j].view(2 * k, fan_in, fan_out), pieces[2 * j + 1].view(2 * k, 1, fan_out))
        for j, (fan_in, fan_out) in enumerate(layer_shapes)
    ]
    affine = _small_affine if obs.shape[1] <= SMALL_BATCH_ROWS else torch.baddbmm
    return stacked_forward(layers, obs, k, activation=tanh, affine=affine)


@functools.lru_cache(maxsize=16)
def compiled_act(
    layer_shapes: tuple[tuple[int, int], ...],
    members: int,
    discrete: bool,
    device_type: str,
    obs_clip: float | None,
) -> Compiled:
    """One step of the rollout's policy compiled whole, buffers included:
    ``act(flat, raw, mean, std, noise, raw_out, obs_out, act_out, logp_out, value_out)``
    normalises the raw observations [K, N, F] (``clip((raw - mean) / std)`` to
    ``obs_clip``, as ``ObsNormalizer``; ``obs_clip`` None: not normalised), samples
    actions with ``noise`` and writes the raw and normalised observations, the actions,
    their log-probabilities and the values into the ``*_out`` tensors (the rollout
    buffers' rows for this step). What collect.py's eager path computes with
    ``ObsNormalizer``, networks.py's ``sample_actions`` and ``log_prob_entropy`` and five
    buffer writes: here one call, whose fixed cost (~8 us bound) is paid once a step
    instead of once an op. ``noise`` is drawn outside from each member's generator
    (standard normal for a Gaussian policy, uniform for Gumbel-max), so the draws are
    the eager path's."""
    k = members
    columns = _columns(layer_shapes)

    def act(
        flat: torch.Tensor,
        raw: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        noise: torch.Tensor,
        raw_out: torch.Tensor,
        obs_out: torch.Tensor,
        act_out: torch.Tensor,
        logp_out: torch.Tensor,
        value_out: torch.Tensor,
    ) -> None:
        raw_out.copy_(raw)
        obs = raw if obs_clip is None else normalized(raw, mean, std, obs_clip)
        obs_out.copy_(obs)
        pieces = tuple(flat[:, c] for c in columns)
        out, value = _forward(pieces, obs, layer_shapes, k)
        log_std = None if discrete else pieces[-1][:k].unsqueeze(1)
        action = actions_from_noise(out, noise, log_std)
        logp, _ = policy_log_prob(out, action, log_std)
        act_out.copy_(action)
        logp_out.copy_(logp)
        value_out.copy_(value)

    return compile_step(act, device_type)


@functools.lru_cache(maxsize=16)
def compiled_step(
    layer_shapes: tuple[tuple[int, int], ...],
    members: int,
    discrete: bool,
    clip_coef: float,
    clip_vloss: bool,
    vf_coef: float,
    ent_coef: float,
    max_grad_norm: float,
    betas: tuple[float, float],
    eps: float,
    device_type: str = "cpu",
) -> Compiled:
    """The compiled step for one network layout and set of hyper-parameters (cached, so
    every learner with the same ones shares one compilation); ``device_type`` is where it
    runs (agentgym.learners.compile).

    Call it as ``step(flat, exp_avg, exp_avg_sq, steps, lr, obs, actions, logprobs,
    advantages, returns, values, weights)``, or in a loop what ``step.bind(...)`` of such
    arguments returns: it updates ``flat``, the Adam moments and ``steps`` (the
    optimiser's per-member step counts, all equal) in place (``lr``: a 0-d tensor, so
    that an annealed rate does not recompile) and returns ``StepStats``.
    """
    k = members
    b1, b2 = betas
    columns = _columns(layer_shapes)

    def loss(pieces: tuple[torch.Tensor, ...], *mb: torch.Tensor) -> tuple[torch.Tensor, StepStats]:
        obs, actions, old_logp, adv, returns, old_v, weights = mb
        out, new_v = _forward(pieces, obs, layer_shapes, k)
        log_std = None if discrete else pieces[-1][:k].unsqueeze(1)
        new_logp, entropy = policy_log_prob(out, actions, log_std)
        logratio = new_logp - old_logp
        ratio = logratio.exp()
        pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip_coef, 1 + clip_coef))
        unclipped = (new_v - returns) ** 2
        if clip_vloss:
            clipped = (old_v + (new_v - old_v).clamp(-clip_coef, clip_coef) - returns) ** 2
            vl = 0.5 * torch.max(unclipped, clipped)
        else:
            vl = 0.5 * unclipped
        per_sample = pg + vf_coef * vl - ent_coef * entropy
        aux = (pg.detach(), vl.detach(), entropy.detach(), ratio.detach(), logratio.detach())
        return (per_sample * weights).sum(), aux

    grad_fn = torch.func.grad(loss, has_aux=True)

    def step(
        flat: torch.Tensor,
        exp_avg: torch.Tensor,
        exp_avg_sq: torch.Tensor,
        steps: torch.Tensor,
        lr: torch.Tensor,
        *mb: torch.Tensor,
    ) -> StepStats:
        # The gradient of each layer's piece of ``flat``, then one cat: differentiating
        # ``flat`` itself makes inductor assemble its gradient from every piece with
        # masked loads, re-read in each pass of the clip and Adam (70 of a step's ~250 us
        # at SB3's sizes, 20 this way).
        grads, aux = grad_fn(tuple(flat[:, c] for c in columns), *mb)
        grad = torch.cat(grads, dim=1)
        steps.add_(1)  # StackedAdam's per-member step counts, in lockstep here
        t = steps[0]
        # StackedAdam.clip_grad_norm and its lockstep step, written out.
        norms = grad.pow(2).sum(1).view(-1, k).sum(0).sqrt()
        scale = (max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
        grad = grad * scale.repeat(grad.shape[0] // k).unsqueeze(1)
        exp_avg.mul_(b1).add_(grad, alpha=1 - b1)
        exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        # The bias corrections as one realised [2] tensor: written inline, inductor's
        # loop over the parameters recomputes both powers for every 16 floats (it cannot
        # hoist the load of ``steps`` past the stores into ``flat``). The Adam kernel at
        # K=8, Reach's sizes, one thread: 149 -> 99 us a step (Intel Xeon, 2026-12-06).
        # Same arithmetic in the same order: results are bit-identical.
        corrections = torch.stack([lr / (1 - b1**t), 1 - b2**t])
        denom = (exp_avg_sq / corrections[1]).sqrt() + eps
        flat.sub_(corrections[0] * exp_avg / denom)
        return (norms, *aux)

    return compile_step(step, device_type)
