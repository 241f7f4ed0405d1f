"""MetaWorld tasks: MetaWorld's own expert policies solve them through agentgym (so the
success flag and the high-reward branches of the ported rewards are exercised), the
configurations are MT1's, seeding fixes the episode, and episodes end at 500 steps."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

from agentgym.catalog import env_ids
from agentgym.registry import load_target
from agentgym.reward_designers.library import program_path

MODULE = "agentgym.envs.robotics.metaworld_tasks:"
IDS = [i for i in env_ids() if str(gym.spec(i).entry_point).startswith(MODULE)]


def test_at_least_ten_metaworld_tasks():
    assert len(IDS) >= 10, IDS


@pytest.mark.parametrize("env_id", IDS)
def test_expert_succeeds_and_program_matches(env_id: str):
    cls = load_target(gym.spec(env_id).entry_point)
    policy = cls.expert()
    own = gym.make(env_id)
    prog = gym.make(env_id, reward=str(program_path(cls.task_spec.name)))
    try:
        obs, _ = own.reset(seed=5)
        prog.reset(seed=5)
        first_success, after = None, 0
        for t in range(500):
            action = np.clip(policy.get_action(obs), -1.0, 1.0).astype(np.float32)
            obs, r_own, _, truncated, info = own.step(action)
            _, r_prog, _, _, _ = prog.step(action)
            assert r_prog == pytest.approx(r_own, abs=1e-5, rel=1e-5), f"step {t}"
            if info["success"] and first_success is None:
                first_success = t
            if first_success is not None:
                after += 1
            if after > 15 or truncated:
                break
        assert first_success is not None, f"{env_id}: MetaWorld's expert never succeeded"
        # success-level rewards are reached (MetaWorld's rewards top out at 10)
        assert r_own > 1.0
    finally:
        own.close()
        prog.close()


def test_configurations_are_mt1s():
    from agentgym.envs.robotics.manipulation import TASK_SET_SEED, mt1_tasks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MT1's untouched space has goal bounds 0..0
        made = gym.make("Meta-World/MT1", env_name="push-v3", seed=TASK_SET_SEED)
    try:
        theirs = made.get_wrapper_attr("tasks")
    finally:
        made.close()
    ours = mt1_tasks("push-v3")
    assert len(ours) == len(theirs) == 50
    assert [t.data for t in ours] == [t.data for t in theirs]


def test_seed_fixes_the_configuration():
    env = gym.make("agentgym/MetaWorld-Push-v0")
    try:
        goals = {}
        for seed in (1, 2, 3, 1):
            _, info = env.reset(seed=seed)
            goal = tuple(info["reward_state"]["goal_pos"].tolist())
            assert goals.setdefault(seed, goal) == goal
        assert len(set(goals.values())) > 1, "different seeds should draw different configurations"
        _, a = env.reset()
        _, b = env.reset()
        assert a["reward_state"]["obj_init_pos"].shape == (3,)
    finally:
        env.close()


def test_truncated_at_500_steps():
    env = gym.make("agentgym/MetaWorld-Reach-v0")
    try:
        env.reset(seed=0)
        zero = np.zeros(4, dtype=np.float32)
        for t in range(1, 501):
            _, _, terminated, truncated, _ = env.step(zero)
            assert not terminated
            assert truncated == (t == 500), t
    finally:
        env.close()


def test_state_names_describe_the_scene():
    env = gym.make("agentgym/MetaWorld-PickPlace-v0")
    try:
        _, info = env.reset(seed=0)
        state = info["reward_state"]
        # hand and tcp agree to within the finger length; the pads straddle the tcp in y
        assert np.linalg.norm(state["hand_pos"] - state["tcp_pos"]) < 0.1
        assert state["left_pad_pos"][1] != state["right_pad_pos"][1]
        assert 0.0 <= float(state["gripper_opening"]) <= 1.0
        # at reset the puck is where the episode says it started
        assert np.allclose(state["obj_pos"], state["obj_init_pos"], atol=0.01)
        assert "success" not in state and "reward" not in state
    finally:
        env.close()


def test_success_counts_any_step_of_the_episode():
    """MetaWorld's protocol: an episode succeeds if the flag is 1 at any step, so the flag
    stays True after the gripper leaves the goal, and a reset clears it."""
    env_id = "agentgym/MetaWorld-Reach-v0"
    env = gym.make(env_id)
    policy = load_target(gym.spec(env_id).entry_point).expert()
    try:
        obs, info = env.reset(seed=3)
        assert info["success"] is False
        for _ in range(200):
            obs, _, _, _, info = env.step(np.clip(policy.get_action(obs), -1, 1).astype("f4"))
            if info["success"]:
                break
        assert info["success"], "MetaWorld's reach expert should reach the goal"
        away = np.array([0.0, -1.0, 1.0, 0.0], dtype=np.float32)
        for _ in range(30):
            _, _, _, _, info = env.step(away)
        state = info["reward_state"]
        assert np.linalg.norm(state["tcp_pos"] - state["goal_pos"]) > 0.1  # the flag itself is 0
        assert info["success"] is True
        _, info = env.reset(seed=4)
        assert info["success"] is False
    finally:
        env.close()
