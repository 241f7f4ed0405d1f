"""Agent PPO's update maths on fixed tensors: PPO's clipped losses (ppo/update.py) as means
over a minibatch of LM steps, and KL-penalised GAE per episode against hand-computed returns."""

from __future__ import annotations

import math

import pytest
import torch

from agentgym.learners.agent.episodes import Episode, Step
from agentgym.learners.agent.policy import StepEval
from agentgym.learners.agent.update import kl_penalised_targets, minibatch_losses
from agentgym.learners.ppo import policy_loss, value_loss

RATIO = torch.tensor([1.5, 0.5, 0.5, 1.5, 1.1])
ADVANTAGES = torch.tensor([1.0, 1.0, -1.0, -1.0, 2.0])


def evaluation(values: torch.Tensor) -> StepEval:
    logprob = RATIO.log().requires_grad_(True)  # old log-probs are 0, so exp(new - old) = RATIO
    entropy = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5])
    return StepEval(logprob, entropy, values, torch.zeros(5, 2))


def test_agent_minibatch_losses_are_ppos_clipped_losses():
    values, returns = torch.tensor([2.0, 0.0, 1.0, 1.0, 1.0]), torch.tensor([3.0, 0.5, 1, 1, 1])
    old_values = torch.tensor([1.0, 0.0, 1.0, 1.0, 1.0])
    new = evaluation(values)
    losses = minibatch_losses(new, torch.zeros(5), old_values, ADVANTAGES, returns, clip_coef=0.2)
    ratio = new.logprob.exp()
    assert torch.equal(losses.policy, policy_loss(ADVANTAGES, ratio, 0.2).mean())
    assert torch.equal(losses.value, value_loss(values, old_values, returns, None).mean())
    # By hand: clipped surrogate [-1.2, -0.5, 0.8, 1.5, -2.2]; value 0.5 (V - R)^2, not
    # clipped around the rollout's values (clipping would give 1.62 for the first step).
    assert losses.policy.item() == pytest.approx(-0.32)
    assert losses.value.item() == pytest.approx(0.5 * (1.0 + 0.25) / 5)
    assert losses.entropy.item() == pytest.approx(0.3)
    kl = sum((r - 1) - math.log(r) for r in RATIO.tolist()) / 5
    assert losses.approx_kl.item() == pytest.approx(kl)
    assert losses.clipfrac.item() == pytest.approx(0.8)  # all but ratio 1.1 leave [0.8, 1.2]
    losses.policy.backward()  # the policy loss reaches the policy's log-probabilities
    assert new.logprob.grad is not None and not losses.approx_kl.requires_grad


def episode(rewards: list[float], values: list[float], kl: list[float], final: float) -> Episode:
    ep = Episode(seed=0)
    for reward, value, k in zip(rewards, values, kl, strict=True):
        step = Step([1], [2])
        step.reward, step.value, step.logprob, step.ref_logprob = reward, value, k - 1.0, -1.0
        ep.steps.append(step)
    ep.final_value = final
    return ep


def test_kl_penalised_targets_match_hand_computed_returns():
    terminated = episode([0.0, 1.0], [0.0, 0.0], [0.2, 0.0], final=0.0)
    truncated = episode([0.0], [1.0], [0.0], final=2.0)  # bootstraps from final_value
    targets, kl = kl_penalised_targets([terminated, truncated], 0.5, gamma=0.5, gae_lambda=1.0)
    assert [t.step for t in targets] == terminated.steps + truncated.steps
    torch.testing.assert_close(kl, torch.tensor([0.2, 0.0, 0.0]))
    # Rewards minus 0.5 * KL: [-0.1, 1.0]; returns 1.0 and -0.1 + 0.5 * 1.0 = 0.4.
    # The truncated step: 0 + 0.5 * 2.0 = 1.0, advantage 1.0 - V = 0.0.
    assert [t.ret for t in targets] == pytest.approx([0.4, 1.0, 1.0])
    assert [t.advantage for t in targets] == pytest.approx([0.4, 1.0, 0.0])
