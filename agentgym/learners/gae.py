"""Generalised advantage estimation (Schulman et al. 2016) that bootstraps on truncation.

The learners step Gymnasium vector envs in their default ``NEXT_STEP`` autoreset mode:
the step that ends an episode returns that episode's *final* observation, and the next
call resets the sub-env (its action is ignored, its reward is 0). So ``values[t + 1]``
is always the value of the observation that step ``t`` produced, final ones included,
and a truncated step bootstraps from it while a terminated step does not. The chain of
advantages is cut at every episode end; the reset steps that follow carry no real
transition and are masked out of the losses by the learner (``valid``).
"""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    last_value: torch.Tensor,
    terminations: torch.Tensor,
    truncations: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and value targets for a rollout.

    Args:
        rewards, values: ``[T, ...]`` float, the reward of step t and V(s_t).
        last_value: ``[...]``, V of the observation the last step produced.
        terminations, truncations: ``[T, ...]`` bool, how step t ended its episode.
        gamma, gae_lambda: discount and GAE lambda.

    Returns:
        ``(advantages, returns)``, each ``[T, ...]``; ``returns = advantages + values``.
    """
    if rewards.shape != values.shape or rewards.shape[1:] != last_value.shape:
        raise ValueError(
            f"compute_gae: rewards {list(rewards.shape)} and values {list(values.shape)} must "
            f"match, and last_value {list(last_value.shape)} must be their shape without T"
        )
    num_steps = rewards.shape[0]
    next_values = torch.cat([values[1:], last_value.unsqueeze(0)], dim=0)
    not_terminal = (~terminations).to(values.dtype)
    # Bootstrap on truncation (time limit), not on termination: Pardo et al. 2018,
    # "Time Limits in Reinforcement Learning"; CleanRL and SB3 < 1.x treat both alike.
    deltas = rewards + gamma * next_values * not_terminal - values
    continues = (~(terminations | truncations)).to(values.dtype) * (gamma * gae_lambda)
    advantages = torch.empty_like(values)
    running = torch.zeros_like(last_value)
    for t in range(num_steps - 1, -1, -1):
        running = deltas[t] + continues[t] * running
        advantages[t] = running
    return advantages, advantages + values
