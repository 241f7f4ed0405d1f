"""The vector wrapper scores a vector step in one call and agrees with per-env scoring."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agentgym.wrappers import RewardWrapper, VectorRewardWrapper

SHAPED = """
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    effort = torch.sum(action ** 2, dim=-1)
    return torch.exp(-d / 0.05) - 0.1 * effort, {"near": torch.exp(-d / 0.05), "effort": -0.1 * effort}
"""


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_wrapper_equals_per_env_evaluation(tmp_path, mode):
    program = tmp_path / "shaped.py"
    program.write_text(SHAPED)
    n, steps = 2, 120  # 120 > 50 steps: crosses autoresets; 2 envs: async spawns 2n processes
    # spawn, as the learners start async envs: a forked child of a process that has
    # imported JAX (the MJX tests share the worker) or holds an EGL context may deadlock.
    vector_kwargs = {"context": "spawn"} if mode == "async" else {}
    per_env = gym.make_vec(
        "agentgym/Reach-v0",
        num_envs=n,
        vectorization_mode=mode,
        vector_kwargs=vector_kwargs,
        reward=str(program),
    )
    batched = VectorRewardWrapper(
        gym.make_vec(
            "agentgym/Reach-v0", num_envs=n, vectorization_mode=mode, vector_kwargs=vector_kwargs
        ),
        str(program),
    )
    try:
        per_env.reset(seed=11)
        batched.reset(seed=11)
        rng = np.random.default_rng(0)
        for _ in range(steps):
            actions = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
            _, r_env, _, _, info_env = per_env.step(actions)
            _, r_vec, _, _, info_vec = batched.step(actions)
            np.testing.assert_allclose(r_vec, r_env, atol=1e-6)
            if "reward_terms" not in info_env:  # every sub-env is resetting this step
                assert not r_vec.any()
                continue
            for key in ("near", "effort"):
                mask = info_env["reward_terms"][f"_{key}"]
                np.testing.assert_allclose(
                    info_vec["reward_terms"][key][mask],
                    info_env["reward_terms"][key][mask],
                    atol=1e-6,
                )
    finally:
        per_env.close()
        batched.close()


def test_human_program_equals_env_reward_through_vector_wrapper(reach_program):
    envs = gym.make_vec("agentgym/Reach-v0", num_envs=3, vectorization_mode="sync")
    wrapped = VectorRewardWrapper(envs, reach_program)
    wrapped.reset(seed=0)
    for _ in range(60):
        _, reward, _, _, info = wrapped.step(wrapped.action_space.sample())
        np.testing.assert_allclose(reward, info["env_reward"], atol=1e-6)
    wrapped.close()


def test_single_env_wrapper_keeps_env_reward_in_info():
    env = RewardWrapper(gym.make("agentgym/Reach-v0"), "sparse")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == float(info["success"])
    assert info["env_reward"] < 0  # Reach's dense reward is a negative distance
    assert set(info["reward_terms"]) == {"success"}


TEXT_PROGRAM = """
import torch

def compute_reward(state, action):
    valid = state["last_action_valid"].float()
    return 0.1 * valid + 0.01 * action.float(), {"valid": 0.1 * valid, "action": 0.01 * action.float()}
"""


def test_vector_wrapper_on_text_envs_equals_per_env(tmp_path):
    program = tmp_path / "valid.py"
    program.write_text(TEXT_PROGRAM)
    n = 3
    per_env = gym.make_vec(
        "agentgym/Household-v0", num_envs=n, vectorization_mode="sync", reward=str(program)
    )
    batched = VectorRewardWrapper(
        gym.make_vec("agentgym/Household-v0", num_envs=n, vectorization_mode="sync"), str(program)
    )
    _, info = per_env.reset(seed=5)
    batched.reset(seed=5)
    rng = np.random.default_rng(1)
    saw_valid = saw_invalid = False
    for _ in range(30):
        options = [
            info["admissible_actions"][i] if info["_admissible_actions"][i] else ["look"]
            for i in range(n)
        ]
        actions = np.array(
            [rng.choice(o) if rng.random() < 0.7 else "fly to the moon" for o in options]
        )
        _, r_env, _, _, info = per_env.step(actions)
        _, r_vec, _, _, _ = batched.step(actions)
        np.testing.assert_allclose(r_vec, r_env, atol=1e-6)
        saw_valid |= bool((r_env > 0.1).any())
        saw_invalid |= bool(((r_env == 0) & info.get("_action_valid", np.ones(n, bool))).any())
    assert saw_valid and saw_invalid
    per_env.close()
    batched.close()
