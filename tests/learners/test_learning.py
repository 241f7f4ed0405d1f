"""Seeded learning tests on CPU: PPO solves Reach and CartPole within a budget of minutes."""

from __future__ import annotations

import pytest

from agentgym.learners.ppo import PPO, PPOConfig

# CartPole: rl-baselines3-zoo's tuned PPO hyper-parameters.
CARTPOLE = PPOConfig(
    env_id="CartPole-v1",
    total_steps=100_000,
    num_envs=8,
    num_steps=32,
    num_minibatches=1,
    update_epochs=20,
    learning_rate=1e-3,
    gamma=0.98,
    gae_lambda=0.8,
    norm_obs=False,
    norm_reward=False,
    eval_episodes=10,
    checkpoint_every=0,
    seed=0,
)


@pytest.mark.slow
def test_ppo_reaches_90_percent_success_on_reach(reach_ppo_config, tmp_path):
    agent = PPO(reach_ppo_config, tmp_path)
    result = agent.learn()
    agent.close()
    assert result["status"] == "DONE"
    assert result["eval/success_rate"] >= 0.9, result


@pytest.mark.slow
def test_ppo_reaches_475_return_on_cartpole():
    agent = PPO(CARTPOLE)
    result = agent.learn()
    agent.close()
    assert result["eval/mean_return"] >= 475, result
