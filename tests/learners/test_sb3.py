"""The SB3 adapter: an agentgym reward on an SB3 VecEnv equals the reward inside each env,
and train_sb3_ppo uses PPOConfig's hyper-parameters."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO as SB3PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from agentgym.learners.ppo import PPOConfig
from agentgym.learners.sb3 import AgentgymRewardVecEnv, make_sb3_vec_env, sb3_ppo_kwargs


@pytest.mark.parametrize("mix", ["{reach}", "0.5*{reach} + 2*sparse + 0.1*env"])
def test_adapter_rewards_equal_per_env_evaluation(reach_program, mix):
    spec = mix.format(reach=reach_program)
    n, seed = 3, 5
    venv = DummyVecEnv([lambda: gym.make("agentgym/Reach-v0") for _ in range(n)])
    venv.seed(seed)
    wrapped = AgentgymRewardVecEnv(venv, spec)
    singles = [gym.make("agentgym/Reach-v0", reward=spec) for _ in range(n)]
    obs = wrapped.reset()
    for i, env in enumerate(singles):
        np.testing.assert_allclose(env.reset(seed=seed + i)[0], obs[i])
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(120):  # crosses the 50-step episode ends, where SB3 resets inside step
        actions = rng.uniform(-1.2, 1.2, (n, 2)).astype(np.float32)
        obs, rewards, dones, infos = wrapped.step(actions)
        assert wrapped.last_output.reward.shape == (n,)  # one batched call for all envs
        for i, env in enumerate(singles):
            final_obs, reward, terminated, truncated, info = env.step(actions[i])
            assert rewards[i] == pytest.approx(reward, abs=1e-6)
            assert infos[i]["env_reward"] == pytest.approx(info["env_reward"], abs=1e-6)
            assert infos[i]["reward_terms"].keys() == info["reward_terms"].keys()
            for key, value in info["reward_terms"].items():
                assert infos[i]["reward_terms"][key] == pytest.approx(value, abs=1e-6)
            assert sum(infos[i]["reward_terms"].values()) == pytest.approx(rewards[i], abs=1e-5)
            assert bool(dones[i]) == (terminated or truncated)
            if dones[i]:
                ends += 1
                env.reset()  # DummyVecEnv resets without a seed: the env's RNG continues
                np.testing.assert_allclose(
                    infos[i]["terminal_observation"], final_obs, rtol=0, atol=0
                )
    assert ends == 2 * n


def test_adapter_refuses_what_it_cannot_score():
    with pytest.raises(ValueError, match="reward 'env' needs no wrapper"):
        AgentgymRewardVecEnv(DummyVecEnv([lambda: gym.make("agentgym/Reach-v0")]), "env")
    with pytest.raises(ValueError, match="no task_spec; only agentgym envs"):
        AgentgymRewardVecEnv(DummyVecEnv([lambda: gym.make("CartPole-v1")]), "sparse")
    with pytest.raises(ValueError, match="reward: 'CartPole-v1' is not an agentgym env"):
        make_sb3_vec_env(PPOConfig(env_id="CartPole-v1", reward="sparse", num_envs=1))
    with pytest.raises(ValueError, match="PPOConfig.vectorization: 'native'.*SB3's own VecEnv"):
        make_sb3_vec_env(PPOConfig(vectorization="native", num_envs=1))


def test_sb3_ppo_gets_ppoconfig_hyper_parameters(reach_program):
    config = PPOConfig(
        reward=reach_program,
        num_envs=4,
        num_steps=32,
        num_minibatches=8,
        update_epochs=3,
        hidden_sizes=(32, 16),
        clip_coef=0.3,
        ent_coef=0.01,
        learning_rate=1e-3,
        gamma=0.98,
        gae_lambda=0.9,
        target_kl=0.05,
        seed=3,
    )
    venv = make_sb3_vec_env(config)
    assert isinstance(venv, VecNormalize) and isinstance(venv.venv, AgentgymRewardVecEnv)
    model = SB3PPO("MlpPolicy", venv, **sb3_ppo_kwargs(config, "cpu"))
    assert (model.n_steps, model.batch_size, model.n_epochs) == (32, 16, 3)
    assert (model.gamma, model.gae_lambda, model.ent_coef, model.target_kl) == (
        0.98,
        0.9,
        0.01,
        0.05,
    )
    assert model.clip_range(1.0) == 0.3 and model.clip_range_vf(1.0) == 0.3
    assert model.lr_schedule(1.0) == pytest.approx(1e-3) and model.lr_schedule(
        0.25
    ) == pytest.approx(2.5e-4)
    linears = [m for m in model.policy.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [32, 16]
    assert all(isinstance(m, torch.nn.Tanh) for m in model.policy.mlp_extractor.value_net[1::2])
