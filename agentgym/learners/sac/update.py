"""One SAC gradient step (Haarnoja et al. 2018, Algorithm 1 with automatic entropy tuning).

All K members update together: each loss is computed per member ([K]) and their sum,
weighted by which members are still training, is what is differentiated, so each member's
gradient is exactly its own. The order follows stable-baselines3's ``SAC.train``:

1. sample a ~ pi(.|s) for the batch's observations (kept for steps 2 and 5);
2. temperature: J(alpha) = -log(alpha) (log pi(a|s) + H_target), using the alpha of
   before this step everywhere below;
3. critics: y = r + gamma (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s')),
   a' ~ pi(.|s'), and J(Q) = 1/2 sum_i mean (Q_i(s, a) - y)^2;
4. actor: J(pi) = mean(alpha log pi(a|s) - min_i Q_i(s, a)) with the updated critics;
5. targets: Q'_i <- (1 - tau) Q'_i + tau Q_i.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from agentgym.learners.sac.networks import ActorCritics
from agentgym.learners.sac.optim import StackedAdam
from agentgym.learners.sac.replay import ReplayBatch


def critic_target(
    rewards: torch.Tensor,
    terminations: torch.Tensor,
    next_q1: torch.Tensor,
    next_q2: torch.Tensor,
    next_logp: torch.Tensor,
    alpha: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """``y = r + gamma (1 - term) (min(Q1', Q2') - alpha log pi(a'|s'))``, each [K, B];
    ``alpha`` [K]. A truncated transition has term = 0, so it bootstraps."""
    soft_value = torch.min(next_q1, next_q2) - alpha.unsqueeze(-1) * next_logp
    return rewards + gamma * (1.0 - terminations) * soft_value


def critic_loss(q1: torch.Tensor, q2: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1/2 (mean (Q1 - y)^2 + mean (Q2 - y)^2)`` per member (SB3's critic loss), [K]."""
    return 0.5 * (((q1 - target) ** 2).mean(-1) + ((q2 - target) ** 2).mean(-1))


def actor_loss(
    logp: torch.Tensor, q1: torch.Tensor, q2: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """``mean(alpha log pi(a|s) - min(Q1, Q2)(s, a))`` per member, [K]."""
    return (alpha.unsqueeze(-1) * logp - torch.min(q1, q2)).mean(-1)


def alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """``-mean(log alpha (log pi(a|s) + H_target))`` per member, [K].

    The gradient goes to log alpha only; log alpha rather than alpha as in SB3 and
    softlearning (https://github.com/rail-berkeley/softlearning/issues/37).
    """
    return -(log_alpha.unsqueeze(-1) * (logp + target_entropy).detach()).mean(-1)


def draw_normal(
    shape: tuple[int, ...], generators: Sequence[torch.Generator], device: torch.device
) -> torch.Tensor:
    """Standard normal noise [K, *shape], member k's from its own generator."""
    return torch.stack([torch.randn(shape, generator=g, device=device) for g in generators])


def sac_update(
    nets: ActorCritics,
    optimizers: dict[str, StackedAdam],
    log_alpha: torch.Tensor,
    batch: ReplayBatch,
    *,
    gamma: float,
    tau: float,
    target_entropy: float,
    autotune: bool,
    weight: torch.Tensor,
    generators: Sequence[torch.Generator],
) -> dict[str, torch.Tensor]:
    """One gradient step of every member on its ``batch`` rows; returns per-member
    statistics [K] (detached, still on the device). ``weight`` [K] is 1 for members that
    train and 0 for stopped ones (which then get no gradient)."""
    k, b, a = batch.actions.shape
    device = batch.actions.device
    # 1. The policy's actions for s (the noise of s' comes second from each generator).
    pi = nets.sample(batch.obs, draw_normal((b, a), generators, device))

    # 2. Temperature.
    alpha = log_alpha.detach().exp()
    stats: dict[str, Any] = {"alpha": alpha}
    if autotune:
        loss_alpha = alpha_loss(log_alpha, pi.logp, target_entropy)
        optimizers["alpha"].zero_grad()
        (loss_alpha * weight).sum().backward()
        optimizers["alpha"].step()
        stats["loss/alpha"] = loss_alpha.detach()

    # 3. Critics.
    with torch.no_grad():
        nxt = nets.sample(batch.next_obs, draw_normal((b, a), generators, device))
        next_q1, next_q2 = nets.q_values(batch.next_obs, nxt.action, target=True)
        y = critic_target(
            batch.rewards, batch.terminations, next_q1, next_q2, nxt.logp, alpha, gamma
        )
    q1, q2 = nets.q_values(batch.obs, batch.actions)
    loss_q = critic_loss(q1, q2, y)
    optimizers["critic"].zero_grad()
    (loss_q * weight).sum().backward()
    optimizers["critic"].step()

    # 4. Actor, through the updated critics (their parameters get no gradient here).
    q1_pi, q2_pi = nets.q_values(batch.obs, pi.action, detach=True)
    loss_pi = actor_loss(pi.logp, q1_pi, q2_pi, alpha)
    optimizers["actor"].zero_grad()
    (loss_pi * weight).sum().backward()
    optimizers["actor"].step()

    # 5. Targets.
    nets.update_targets(tau)
    stats.update(
        {
            "loss/value": loss_q.detach(),
            "loss/policy": loss_pi.detach(),
            "loss/entropy": -pi.logp.detach().mean(-1),
            "q_value": torch.min(q1, q2).detach().mean(-1),
        }
    )
    return stats
