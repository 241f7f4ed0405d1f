"""The whole SAC gradient step as one ``torch.compile``d function (``SACConfig.compile``).

Same algebra and order as ``update.sac_update`` (temperature, critics, actor through the
updated critics, Polyak targets) and the same Adam as ``torch.optim.Adam``, written over
plain tensors: the losses are pure functions of the parameter lists, their gradients come
from ``torch.func.grad``, and inductor (its C++ backend on CPU) fuses forward, backward
and the three Adam steps into a few loops. At 128-128 networks and batch 256 a step took
~2.2 ms on one core of the 2-core dev machine against ~3.4 ms eager (idle, 2026-12-05;
docs/learners.md), and ``python -m bench sac`` runs it beside the eager learner and SB3.

The Adam moments live in the ``torch.optim.Adam`` state of the learner's optimisers
(``StackedAdam.moments`` creates them as Adam does), so checkpoints, population slices and the eager path
read and write the same tensors: a run can switch between the two at a checkpoint.
Inductor reorders float arithmetic, so results differ from the eager step in the last
bits: it is a flag, off by default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch

from agentgym.learners.compile import compile_step
from agentgym.learners.sac.networks import (
    LOG_STD_MAX,
    LOG_STD_MIN,
    squashed_gaussian,
    stacked_mlp,
)

STAT_NAMES = ("alpha", "loss/alpha", "loss/value", "loss/policy", "loss/entropy", "q_value")
"""What the compiled step returns, in order, each [K] (``sac_update``'s statistics)."""


@functools.lru_cache(maxsize=16)
def compiled_sac_step(
    members: int,
    act_dim: int,
    actor_layers: int,
    critic_layers: int,
    gamma: float,
    tau: float,
    target_entropy: float,
    autotune: bool,
    critic_layer_norm: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    device_type: str = "cpu",
) -> Callable[..., tuple[torch.Tensor, ...]]:
    """The compiled step for one layout and set of hyper-parameters (cached).

    Call it as ``step(actor, critic, target, log_alpha, adam, lr, obs, actions, rewards,
    next_obs, terminations, noise, next_noise, weight)``: ``actor``, ``critic`` and
    ``target`` are lists (weights then biases) of the stacks' tensors, ``log_alpha`` [K],
    ``adam`` a tuple (per optimiser actor, critic, alpha) of (steps, exp_avgs,
    exp_avg_sqs) lists, ``lr`` a 0-d tensor. Every one of those is updated in place;
    it returns the statistics named in ``STAT_NAMES``.
    """
    k = members
    b1, b2 = betas

    def sample(actor, obs, noise):
        out = stacked_mlp(actor[:actor_layers], actor[actor_layers:], obs)
        mean, log_std = out.split(act_dim, dim=-1)
        return squashed_gaussian(mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX), noise)

    def q_values(critic, obs, actions):
        x = torch.cat([obs, actions], dim=-1)
        q = stacked_mlp(
            critic[:critic_layers], critic[critic_layers:], torch.cat([x, x], 0), critic_layer_norm
        )
        q = q.squeeze(-1)
        return q[:k], q[k:]

    def critic_loss(critic, obs, actions, y, weight):
        q1, q2 = q_values(critic, obs, actions)
        loss = 0.5 * (((q1 - y) ** 2).mean(-1) + ((q2 - y) ** 2).mean(-1))
        return (loss * weight).sum(), (loss, torch.min(q1, q2).mean(-1))

    def actor_loss(actor, critic, obs, noise, alpha, weight):
        action, logp = sample(actor, obs, noise)
        q1, q2 = q_values(critic, obs, action)
        loss = (alpha.unsqueeze(-1) * logp - torch.min(q1, q2)).mean(-1)
        return (loss * weight).sum(), (loss, -logp.mean(-1))

    critic_grad = torch.func.grad(critic_loss, has_aux=True)
    actor_grad = torch.func.grad(actor_loss, has_aux=True)

    def adam(params, grads, state, lr):
        # torch.optim.Adam's single-tensor step (no weight decay, amsgrad or maximize).
        steps, exp_avgs, exp_avg_sqs = state
        for param, grad, step, exp_avg, exp_avg_sq in zip(
            params, grads, steps, exp_avgs, exp_avg_sqs, strict=True
        ):
            step.add_(1)
            exp_avg.lerp_(grad, 1 - b1)
            exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            # Step size and bias correction as one realised tensor (ppo/compiled.py: else
            # both powers are recomputed for every 16 floats of the parameter).
            step_size, correction = torch.stack([lr / (1 - b1**step), (1 - b2**step).sqrt()])
            denom = (exp_avg_sq.sqrt() / correction).add_(eps)
            param.sub_(step_size * exp_avg / denom)

    def step(actor, critic, target, log_alpha, adam_state, lr, *batch):
        obs, actions, rewards, next_obs, terminations, noise, next_noise, weight = batch
        alpha = log_alpha.exp()
        _, logp = sample(actor, obs, noise)
        # Temperature: d/d(log alpha) of -mean(log alpha (log pi + H)), weighted.
        loss_alpha = -(log_alpha.unsqueeze(-1) * (logp + target_entropy)).mean(-1)
        if autotune:
            grad_alpha = -(logp + target_entropy).mean(-1) * weight
            adam([log_alpha], [grad_alpha], adam_state[2], lr)
        # Critics.
        next_action, next_logp = sample(actor, next_obs, next_noise)
        next_q1, next_q2 = q_values(target, next_obs, next_action)
        soft_value = torch.min(next_q1, next_q2) - alpha.unsqueeze(-1) * next_logp
        y = rewards + gamma * (1.0 - terminations) * soft_value
        grads, (loss_q, q_value) = critic_grad(critic, obs, actions, y, weight)
        adam(critic, grads, adam_state[1], lr)
        # Actor, through the updated critics.
        grads, (loss_pi, entropy) = actor_grad(actor, critic, obs, noise, alpha, weight)
        adam(actor, grads, adam_state[0], lr)
        # Targets.
        for t, c in zip(target, critic, strict=True):
            t.lerp_(c, tau)
        return alpha, loss_alpha, loss_q, loss_pi, entropy, q_value

    return compile_step(step, device_type)


def compiled_update(
    nets: Any,
    optimizers: dict[str, Any],
    log_alpha: torch.Tensor,
    batch: Any,
    *,
    gamma: float,
    tau: float,
    target_entropy: float,
    autotune: bool,
    weight: torch.Tensor,
    generators: Sequence[torch.Generator],
) -> dict[str, torch.Tensor]:
    """``update.sac_update`` through the compiled step: same arguments, same statistics,
    the same noise drawn from each member's generator in the same order."""
    from agentgym.learners.sac.update import draw_normal

    k, b, a = batch.actions.shape
    device = batch.actions.device
    noise = draw_normal((b, a), generators, device)
    next_noise = draw_normal((b, a), generators, device)
    step = compiled_sac_step(
        k,
        a,
        len(nets.actor.weights),
        len(nets.critic.weights),
        float(gamma),
        float(tau),
        float(target_entropy),
        bool(autotune),
        bool(nets.critic.layer_norm),
        device_type=device.type,
    )

    def plain(stack: Any) -> list[torch.Tensor]:
        # Detached aliases: the step writes the parameters' storage, outside autograd.
        return [p.detach() for p in (*stack.weights, *stack.biases)]

    # The temperature's Adam only steps (and only has state) when alpha is tuned.
    names = ("actor", "critic", "alpha") if autotune else ("actor", "critic")
    state = tuple(optimizers[name].moments() for name in names)
    lr = optimizers["critic"].optimizer.param_groups[0]["lr"]
    stats = step(
        plain(nets.actor),
        plain(nets.critic),
        plain(nets.critic_target),
        log_alpha.detach(),
        state,
        torch.tensor(lr, dtype=torch.float32, device=device),
        batch.obs,
        batch.actions,
        batch.rewards,
        batch.next_obs,
        batch.terminations,
        noise,
        next_noise,
        weight,
    )
    out = dict(zip(STAT_NAMES, stats, strict=True))
    if not autotune:
        del out["loss/alpha"]
    return out
