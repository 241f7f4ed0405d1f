"""The maths of agent PPO's update: KL-penalised GAE per episode, and PPO's clipped losses.

The losses and their statistics are PPO's own (``ppo/update.py``), taken as means over a
minibatch of steps, and logged under the names PPO logs them, so a run's report reads an
agent run and an MLP run alike. The value loss is not clipped (``clip_coef=None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from agentgym.learners.agent.episodes import Episode, Step
from agentgym.learners.agent.policy import StepEval
from agentgym.learners.gae import compute_gae
from agentgym.learners.ppo.update import clipped, kl_estimate, policy_loss, value_loss


class StepTarget(NamedTuple):
    """One step with its GAE advantage and its return."""

    step: Step
    advantage: float
    ret: float


def kl_penalised_targets(
    episodes: Sequence[Episode], kl_coef: float, gamma: float, gae_lambda: float
) -> tuple[list[StepTarget], torch.Tensor]:
    """Every step's advantage and return (GAE over its episode, bootstrapped from
    ``final_value`` on truncation) for rewards minus ``kl_coef * (log pi - log pi_ref)``;
    and that KL per step, in the same order."""
    targets: list[StepTarget] = []
    kls = []
    for ep in episodes:
        kl = torch.tensor([s.logprob - s.ref_logprob for s in ep.steps])
        kls.append(kl)
        rewards = torch.tensor([s.reward for s in ep.steps]) - kl_coef * kl
        values = torch.tensor([s.value for s in ep.steps])
        # One episode is one GAE chain: its last step bootstraps from final_value, which
        # is 0 after a termination, so no step needs marking as done.
        zeros = torch.zeros(len(ep.steps), dtype=torch.bool)
        adv, ret = compute_gae(
            rewards, values, torch.tensor(ep.final_value), zeros, zeros, gamma, gae_lambda
        )
        targets.extend(
            map(StepTarget._make, zip(ep.steps, adv.tolist(), ret.tolist(), strict=True))
        )
    return targets, torch.cat(kls)


class MinibatchLosses(NamedTuple):
    """A minibatch's clipped PPO losses and statistics, each a mean over its steps."""

    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    clipfrac: torch.Tensor

    def metrics(self) -> dict[str, float]:
        """The values under the names PPO logs them (and the report reads)."""
        return {
            "loss/policy": self.policy.item(),
            "loss/value": self.value.item(),
            "loss/entropy": self.entropy.item(),
            "approx_kl": self.approx_kl.item(),
            "clipfrac": self.clipfrac.item(),
        }


def minibatch_losses(
    new: StepEval,
    old_logprobs: torch.Tensor,
    old_values: torch.Tensor,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    clip_coef: float,
) -> MinibatchLosses:
    """PPO's losses of the current policy's evaluation ``new`` of a minibatch of steps
    against the rollout's log-probabilities and values, each [B]."""
    logratio = new.logprob - old_logprobs
    ratio = logratio.exp()
    with torch.no_grad():
        approx_kl = kl_estimate(ratio, logratio).mean()
        clipfrac = clipped(ratio, clip_coef).mean()
    return MinibatchLosses(
        policy=policy_loss(advantages, ratio, clip_coef).mean(),
        value=value_loss(new.value, old_values, returns, None).mean(),
        entropy=new.entropy.mean(),
        approx_kl=approx_kl,
        clipfrac=clipfrac,
    )
