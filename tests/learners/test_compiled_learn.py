"""A whole PPO run with ``compile=True``: the compiled policy step writes each rollout
step's rows (raw and normalised observations, actions, log-probabilities, values) where
the eager policy and the envs say they belong, and a compiled run repeats itself."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from agentgym.learners.ppo import PPO, Population
from agentgym.learners.ppo.networks import log_prob_entropy
from agentgym.learners.rollout import Rollout
from agentgym.testing.tiny import tiny_ppo_config

# Reach, 4 envs x 64 steps a rollout (its 50-step episodes end and autoreset inside).
BASE = tiny_ppo_config(num_steps=64, seed=5, compile=True, total_steps=512)


class Recorder:
    """A rollout-level reward (the env's own) that keeps every rollout it relabels."""

    name = "recorder"
    needs_frames = False

    def __init__(self) -> None:
        self.seen: list[Rollout] = []

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        self.seen.append(rollout)
        return {"reward": rollout.env_rewards}


def test_the_compiled_rollout_is_the_policy_on_the_envs_observations():
    recorder = Recorder()
    agent = PPO(BASE, relabel=recorder)
    try:
        agent.collector.collect(agent.alive, 0)  # the first rollout resets the envs
        mean, std = (x.clone() for x in agent.obs_norm.affine())  # the second one's
        batch = agent.collector.collect(agent.alive, BASE.batch_size).batch
    finally:
        agent.close()
    r = recorder.seen[-1]
    t, n = BASE.num_steps, BASE.num_envs
    # The raw rows are the envs' observations in step order: row t+1 holds what step t
    # returned, whose first two entries are cos of the joint angles it reports.
    cos_q = torch.cos(r.reward_state["joint_pos"][:-1])
    torch.testing.assert_close(r.obs[1:, :, :2], cos_q, rtol=0, atol=1e-6)
    # The normalised rows are those observations under the rollout's statistics.
    clip = agent.obs_norm.clip
    obs = ((r.obs - mean[0]) / std[0]).clamp(-clip, clip)
    torch.testing.assert_close(batch.obs[0].view(t, n, -1), obs, rtol=1e-6, atol=1e-6)
    # Log-probabilities and values are the eager network's on those rows and actions.
    with torch.no_grad():
        out, value = agent.net(obs.reshape(1, t * n, -1))
        logp, _ = log_prob_entropy(agent.net, out, r.actions.reshape(1, t * n, -1))
    torch.testing.assert_close(r.logprobs, logp.view(t, n), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(r.values, value.view(t, n), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batch.logprobs[0].view(t, n), r.logprobs, rtol=0, atol=0)
    assert r.actions.std() > 0.1  # sampled, not the mean


@pytest.mark.parametrize("env_id", ["agentgym/Reach-v0", "CartPole-v1"])
def test_a_compiled_run_repeats_itself_and_differs_from_the_eager_run(env_id):
    """Continuous and discrete actions: the same seed gives the same compiled run."""
    digests = []
    for compile_ in (True, True, False):
        agent = PPO(dataclasses.replace(BASE, env_id=env_id, compile=compile_))
        agent.learn()
        digests.append(agent.parameters_digest())
        agent.close()
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]  # its own noise draws and rounding


NAN_AFTER_A_WHILE = """
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    bad = state["joint_vel"].abs().sum(-1) > 3.0  # within a few steps of random actions
    return torch.where(bad, torch.full_like(d, float("nan")), -d), {"distance": -d}
"""


def test_a_compiled_population_trains_on_when_a_member_stops(tmp_path):
    """Member 1's reward turns NaN in the first rollout: it stops (NONFINITE) and member
    0 trains on through the compiled steps, its rows beside a stopped member's."""
    program = tmp_path / "nan_reward.py"
    program.write_text(NAN_AFTER_A_WHILE)
    pop = Population(BASE, ["env", f"trust:{program}"], seeds=[0, 1])
    try:
        results = pop.learn_all()
        assert torch.isfinite(pop.net.flat).all()
    finally:
        pop.close()
    assert results[0]["status"] == "DONE" and results[0]["step"] == BASE.total_steps
    assert results[1]["status"] == "NONFINITE" and results[1]["step"] <= BASE.batch_size
