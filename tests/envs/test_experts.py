"""The scripted experts of Reach, CartPole and MountainCar solve their task from the
observation on every seed tried (MetaWorld's are checked in test_metaworld_tasks.py)."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agentgym.catalog import expert_policy


@pytest.mark.parametrize(
    ("env_id", "steps"),
    [("agentgym/Reach-v0", 50), ("agentgym/CartPole-v0", 500), ("agentgym/MountainCar-v0", 200)],
)
def test_the_expert_succeeds_on_every_seed(env_id: str, steps: int):
    env = gym.make(env_id)
    try:
        for seed in range(10):
            expert = expert_policy(env_id)
            obs, _ = env.reset(seed=seed)
            for _ in range(steps):
                obs, _, terminated, truncated, info = env.step(expert.get_action(obs))
                if terminated or truncated:
                    break
            # success judged where the env judges it: at the episode's last step
            assert info["success"], f"{env_id}: the expert failed on seed {seed}"
            assert env.action_space.contains(expert.get_action(obs))
    finally:
        env.close()


def test_envs_without_a_scripted_expert_say_none():
    assert expert_policy("agentgym/HalfCheetah-v0") is None
