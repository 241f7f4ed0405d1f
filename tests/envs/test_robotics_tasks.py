"""Robotics tasks keep Gymnasium's semantics and add measurable success criteria."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from agentgym.envs.robotics.locomotion import WINDOW_SECONDS
from agentgym.envs.robotics.vlm_poses import kneeling, lotus, splits

LOCOMOTION = ["Ant", "HalfCheetah", "Hopper", "Walker2d", "Humanoid"]


@pytest.mark.parametrize("name", LOCOMOTION)
def test_locomotion_is_gymnasium_v5_inside(name: str):
    """Same seed, same actions: agentgym/X-v0 and Gymnasium's X-v5 agree exactly, and the
    named terms are Gymnasium's reward_* components."""
    ours, theirs = gym.make(f"agentgym/{name}-v0"), gym.make(f"{name}-v5")
    try:
        o1, _ = ours.reset(seed=4)
        o2, _ = theirs.reset(seed=4)
        assert np.array_equal(o1, o2)
        ours.action_space.seed(4)
        saw_termination = False
        for _ in range(200):
            action = ours.action_space.sample()
            o1, r1, te1, tr1, i1 = ours.step(action)
            o2, r2, te2, tr2, i2 = theirs.step(action)
            assert np.array_equal(o1, o2) and r1 == r2 and (te1, tr1) == (te2, tr2)
            expected = {
                k.removeprefix("reward_"): v for k, v in i2.items() if k.startswith("reward_")
            }
            assert i1["reward_terms"] == pytest.approx(expected)
            assert i1["reward_state"]["forward_velocity"] == pytest.approx(
                i2["x_velocity"], rel=1e-6
            )
            if te1:
                saw_termination = True
                break
        if name in ("Hopper", "Walker2d", "Humanoid"):  # random actions topple these quickly
            assert saw_termination
    finally:
        ours.close()
        theirs.close()


def test_success_needs_speed_held_over_the_window():
    env = gym.make("agentgym/HalfCheetah-v0").unwrapped
    try:
        env.reset(seed=0)
        window = round(WINDOW_SECONDS / env.dt)
        fast = [env._success({}, {"x_velocity": 3.5}) for _ in range(window)]
        assert fast[:-1] == [False] * (window - 1) and fast[-1] is True
        # one slow step drags the window's mean below 3 m/s
        assert env._success({}, {"x_velocity": -200.0}) is False
        env.reset(seed=0)  # a new episode starts with an empty window
        assert env._success({}, {"x_velocity": 10.0}) is False
    finally:
        env.close()


def test_random_cheetah_does_not_succeed():
    env = gym.make("agentgym/HalfCheetah-v0")
    try:
        env.reset(seed=0)
        env.action_space.seed(0)
        assert not any(env.step(env.action_space.sample())[4]["success"] for _ in range(120))
    finally:
        env.close()


def _state(height: float, upright: float, **joints: float) -> dict:
    from agentgym.envs.robotics.humanoid import JOINTS

    q = np.zeros(17, np.float32)
    for name, value in joints.items():
        q[JOINTS.index(name)] = value
    return {
        "torso_height": np.float32(height),
        "torso_upright": np.float32(upright),
        "joint_pos": q,
    }


def test_pose_proxies():
    standing = _state(1.4, 1.0)
    kneel = _state(0.9, 0.95, right_knee=-1.6, left_knee=-1.5)
    split = _state(0.7, 0.9, right_hip_y=-1.5, left_hip_y=0.2)
    seated = _state(0.6, 0.9, right_knee=-2.2, left_knee=-2.1, right_hip_y=-1.2, left_hip_y=-1.3)
    assert [kneeling(s) for s in (standing, kneel, split, seated)] == [False, True, False, False]
    assert [splits(s) for s in (standing, kneel, split, seated)] == [False, False, True, False]
    assert [lotus(s) for s in (standing, kneel, split, seated)] == [False, False, False, True]


@pytest.mark.parametrize("pose", ["Kneel", "Splits", "Lotus"])
def test_pose_tasks_are_instruction_only_and_never_terminate(pose: str):
    env = gym.make(f"agentgym/Humanoid{pose}-v0")
    try:
        _, info = env.reset(seed=0)
        assert env.unwrapped.dense_reward is False
        env.action_space.seed(0)
        heights = []
        for _ in range(150):
            _, reward, terminated, _, info = env.step(env.action_space.sample())
            assert reward == 0.0 and info["reward_terms"] == {"zero": 0.0}
            assert not terminated
            heights.append(float(info["reward_state"]["torso_height"]))
        # it fell below Gymnasium's "healthy" 1.0 m and the episode went on
        assert min(heights) < 1.0
    finally:
        env.close()


def test_cartpole_success_after_500_balanced_steps():
    env = gym.make("agentgym/CartPole-v0")
    try:
        _, info = env.reset(seed=0)
        s = info["reward_state"]
        for t in range(1, 501):
            # a PD controller on the pole keeps it up
            action = int(s["pole_angle"] + 0.5 * s["pole_angular_velocity"] > 0)
            _, reward, terminated, truncated, info = env.step(action)
            s = info["reward_state"]
            assert reward == 1.0 and info["reward_terms"] == {"alive": 1.0}
            assert not terminated
            assert info["success"] == (t == 500)
        assert truncated
    finally:
        env.close()


def test_mountain_car_success_at_the_flag():
    env = gym.make("agentgym/MountainCar-v0")
    try:
        _, info = env.reset(seed=0)
        for _ in range(200):
            # pump energy: accelerate in the direction of motion
            action = 2 if info["reward_state"]["velocity"] >= 0 else 0
            _, reward, terminated, _, info = env.step(action)
            assert reward == -1.0
            if terminated:
                break
        assert terminated and info["success"]
        assert info["reward_state"]["position"] >= info["reward_state"]["goal_position"]
    finally:
        env.close()


def test_cli_lists_the_robotics_suite(agentgym_cli):
    out = agentgym_cli("envs", "--json", "--no-spaces", timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    ours = [r for r in rows if r.get("family") in ("robotics", "manipulation", "vlm")]
    assert len(ours) >= 20, [r["id"] for r in ours]
    assert not [r for r in ours if "error" in r]
    assert {"agentgym/CartPole-v0", "agentgym/MetaWorld-PickPlace-v0", "agentgym/Ant-v0"} <= {
        r["id"] for r in ours
    }
