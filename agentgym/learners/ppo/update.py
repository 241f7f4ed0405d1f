"""The PPO update (Schulman et al. 2017): clipped policy and value losses, entropy bonus.

All K members of a population update together: each minibatch is one batched forward and
one backward over the stacked networks, and the loss is the sum of the members' losses,
so each member's gradient is exactly its own. Per-minibatch Python work is kept to a few
tensor ops: the samples live in one [K*B, F] table, so a minibatch is one index op, and
all minibatch indices of the update are drawn up front.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from agentgym.learners.ppo.compiled import StepStats, compiled_step
from agentgym.learners.ppo.config import PPOConfig
from agentgym.learners.ppo.networks import LAYOUT_WARNING, StackedActorCritic, log_prob_entropy
from agentgym.learners.ppo.optim import StackedAdam


class Batch(NamedTuple):
    """A flattened rollout, every tensor [K, B, ...] with B = num_steps * num_envs."""

    obs: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    values: torch.Tensor
    valid: torch.Tensor


class Minibatch(NamedTuple):
    """Every member's samples of one minibatch, each tensor [K, M, ...] (M =
    ``minibatch_size``); an epoch's minibatches are stacked as [NM, K, M, ...]."""

    obs: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    """Log-probabilities under the rollout policy."""
    advantages: torch.Tensor
    """Normalised per member and minibatch when ``norm_adv``."""
    returns: torch.Tensor
    values: torch.Tensor
    """Values under the rollout's critic (the centre of the value clip)."""
    weights: torch.Tensor
    """Each sample's weight in its member's mean loss: 1 / (valid samples) for a valid
    sample of a training member, else 0."""


def policy_loss(advantages: torch.Tensor, ratio: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """Per-sample clipped surrogate loss, ``max(-A r, -A clip(r, 1 - c, 1 + c))``."""
    return torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - clip_coef, 1 + clip_coef))


def value_loss(
    new: torch.Tensor, old: torch.Tensor, returns: torch.Tensor, clip_coef: float | None
) -> torch.Tensor:
    """Per-sample value loss, ``0.5 (V - R)^2``, clipped around the rollout's values if asked."""
    unclipped = (new - returns) ** 2
    if clip_coef is None:
        return 0.5 * unclipped
    clipped = (old + (new - old).clamp(-clip_coef, clip_coef) - returns) ** 2
    return 0.5 * torch.max(unclipped, clipped)


def kl_estimate(ratio: torch.Tensor, logratio: torch.Tensor) -> torch.Tensor:
    """Per-sample estimate of KL(old || new) from the ratio ``r`` and ``log r``, ``(r - 1) -
    log r`` (Schulman's low-variance estimator, http://joschu.net/blog/kl-approx.html)."""
    return (ratio - 1) - logratio


def clipped(ratio: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """1.0 where the ratio is outside the clip range ``[1 - c, 1 + c]``, else 0.0."""
    return ((ratio - 1).abs() > clip_coef).float()


def minibatch_rows(
    config: PPOConfig, samples: int, generators: Sequence[torch.Generator], device: torch.device
) -> torch.Tensor:
    """Rows of the [K*B, F] sample table (B = ``samples`` per member) in every minibatch
    of an update, [E, NM, K, M]: each member permutes its own samples every epoch, drawing
    from its own generator."""
    k, b = len(generators), samples
    perms = torch.stack(
        [
            torch.stack([torch.randperm(b, generator=g, device=device) for g in generators])
            for _ in range(config.update_epochs)
        ]
    )  # [E, K, B]
    perms = perms + (torch.arange(k, device=device) * b).view(1, k, 1)
    return perms.view(
        config.update_epochs, k, config.num_minibatches, config.minibatch_size
    ).transpose(1, 2)


def require_cpp_compiler(setting: str = "PPOConfig.compile") -> None:
    """Inductor's CPU backend builds C++: without a compiler it fails deep inside the first
    step, so say it up front, naming the setting that asked for it."""
    from agentgym.vector.batch_native import compilers_sought, cpp_compiler

    if cpp_compiler() is None:
        raise RuntimeError(
            f"{setting}: torch.compile on the CPU needs a C++ compiler "
            f"({compilers_sought()} not found on PATH); "
            "install one (e.g. apt install g++) or train with --no-compile"
        )


def compiled_step_for(
    net: StackedActorCritic, optimizer: StackedAdam, config: PPOConfig
) -> Callable[..., StepStats]:
    """The compiled minibatch step (compiled.py) for this network, optimiser and config."""
    if net.flat.device.type == "cpu":
        require_cpp_compiler()
    return compiled_step(
        tuple(net.layer_shapes),
        net.members,
        net.discrete,
        config.clip_coef,
        config.clip_vloss,
        config.vf_coef,
        config.ent_coef,
        config.max_grad_norm,
        (optimizer.beta1, optimizer.beta2),
        optimizer.eps,
        net.flat.device.type,
    )


def ppo_update(
    net: StackedActorCritic,
    optimizer: StackedAdam,
    batch: Batch,
    config: PPOConfig,
    lr: float,
    active: torch.Tensor,
    generators: Sequence[torch.Generator],
) -> dict[str, torch.Tensor]:
    """Run ``update_epochs`` epochs of minibatch updates; returns per-member stats [K].

    ``active`` [K] marks members that train; a member whose approximate KL passes
    ``target_kl`` stops for the rest of this update (CleanRL's rule, per member).
    """
    k, b = batch.logprobs.shape
    device = batch.logprobs.device
    mb = config.minibatch_size
    act_shape = batch.actions.shape[2:]
    act_width = int(torch.tensor(act_shape).prod()) if act_shape else 1
    obs_width = batch.obs[0, 0].numel()
    # One table [K*B, F]: obs | action | logprob | advantage | return | value | valid.
    table = torch.cat(
        [
            batch.obs.reshape(k, b, obs_width).float(),
            batch.actions.reshape(k, b, act_width).float(),
            torch.stack(
                [
                    batch.logprobs,
                    batch.advantages,
                    batch.returns,
                    batch.values,
                    batch.valid.float(),
                ],
                dim=-1,
            ),
        ],
        dim=-1,
    ).reshape(k * b, -1)
    indices = minibatch_rows(config, b, generators, device)  # [E, NM, K, M]

    active = active.clone()
    all_active = bool(active.all())
    clip_v = config.clip_coef if config.clip_vloss else None
    nm = config.num_minibatches
    step = compiled_step_for(net, optimizer, config) if config.compile else None
    lr_t = torch.tensor(lr, dtype=net.flat.dtype, device=device) if config.compile else None
    bound = None
    stats: dict[str, torch.Tensor] = {}
    with warnings.catch_warnings():
        # The parameters are strided views of one buffer (networks.py); autograd warns
        # about that layout, and still accumulates in place.
        warnings.filterwarnings("ignore", message=LAYOUT_WARNING)
        for epoch in range(config.update_epochs):
            # Gather and prepare every minibatch of the epoch at once ([NM, K, M, ...]); the
            # loop below then only selects, so its per-minibatch Python work is the model.
            rows = table[indices[epoch].reshape(-1)].view(nm, k, mb, -1)
            obs_e = rows[..., :obs_width].reshape(nm, k, mb, *batch.obs.shape[2:])
            act_e = rows[..., obs_width : obs_width + act_width]
            act_e = (
                act_e.squeeze(-1).long() if net.discrete else act_e.reshape(nm, k, mb, *act_shape)
            )
            old_logp_e, adv_e, ret_e, old_v_e, valid_e = rows[..., obs_width + act_width :].unbind(
                -1
            )
            count_e = valid_e.sum(-1, keepdim=True).clamp(min=1.0)
            if config.norm_adv:
                mean = (adv_e * valid_e).sum(-1, keepdim=True) / count_e
                var = ((adv_e - mean) ** 2 * valid_e).sum(-1, keepdim=True) / (count_e - 1).clamp(
                    min=1.0
                )
                adv_e = (adv_e - mean) / (var.sqrt() + 1e-8)
            # Each member's loss is its mean over valid samples; their sum has each member's
            # own gradient. Stopped members weigh 0.
            weight_e = valid_e * (active.view(1, k, 1) / count_e)
            epoch_batch = Minibatch(obs_e, act_e, old_logp_e, adv_e, ret_e, old_v_e, weight_e)
            for parts in zip(*(x.unbind(0) for x in epoch_batch), strict=True):
                if step is not None and all_active and optimizer.lockstep:
                    args = (net.flat, optimizer.exp_avg, optimizer.exp_avg_sq, optimizer.steps)
                    if bound is None:  # compiled for this update's layout, once
                        bound = step.bind(*args, lr_t, *parts)
                    norms, pg, vl, entropy, ratio, logratio = bound(*args, lr_t, *parts)
                    continue
                minibatch = Minibatch(*parts)
                out, new_v = net(minibatch.obs)
                new_logp, entropy = log_prob_entropy(net, out, minibatch.actions)
                logratio = new_logp - minibatch.logprobs
                ratio = logratio.exp()
                pg = policy_loss(minibatch.advantages, ratio, config.clip_coef)
                vl = value_loss(new_v, minibatch.values, minibatch.returns, clip_v)
                per_sample = pg + config.vf_coef * vl - config.ent_coef * entropy
                net.zero_grad_()
                (per_sample * minibatch.weights).sum().backward()
                norms = optimizer.clip_grad_norm(config.max_grad_norm)
                optimizer.step(lr, active, all_active)
            # Statistics of the epoch's last minibatch (CleanRL's choice), which also drive
            # the target-KL early stop; computing them per minibatch would cost more than
            # the update itself at small minibatch sizes.
            with torch.no_grad():
                w = valid_e[-1] / count_e[-1]
                approx_kl = (kl_estimate(ratio, logratio) * w).sum(1)
                stats = {
                    "loss/policy": (pg * w).sum(1),
                    "loss/value": (vl * w).sum(1),
                    "loss/entropy": (entropy * w).sum(1),
                    "approx_kl": approx_kl,
                    "clipfrac": (clipped(ratio, config.clip_coef) * w).sum(1),
                    "grad_norm": norms,
                    "epochs": torch.full((k,), float(epoch + 1), device=device) * active,
                }
            if config.target_kl is not None:
                active &= ~(approx_kl > config.target_kl)
                all_active = bool(active.all())
                if not bool(active.any()):
                    break
    return stats
