"""Seeded learning tests on CPU: PPO solves Reach and CartPole within a budget of minutes."""

from __future__ import annotations

import pytest

from agentgym.learners.ppo import PPO, PPOConfig

# Reach: short rollouts over many envs and a short horizon (gamma 0.9) suit a dense
# distance reward; about 300k steps reach >= 90% success (eval, deterministic policy).
REACH = PPOConfig(
    env_id="agentgym/Reach-v0",
    total_steps=300_000,
    num_envs=32,
    num_steps=25,
    num_minibatches=4,
    update_epochs=10,
    learning_rate=1e-3,
    gamma=0.9,
    gae_lambda=0.9,
    init_log_std=-0.5,
    eval_episodes=50,
    checkpoint_every=0,
    seed=0,
)

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
def test_ppo_reaches_90_percent_success_on_reach(tmp_path):
    agent = PPO(REACH, tmp_path)
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
