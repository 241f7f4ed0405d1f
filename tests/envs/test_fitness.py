"""Task fitness (``TaskSpec.fitness``, ``info["fitness"]``): privileged like the success
flag, and higher for a planted good episode than for a planted bad one."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agentgym.catalog import env_ids, task_spec
from agentgym.envs.robotics.reach import LINK
from agentgym.spec import StateVar

IDS = env_ids()


def _param(env_id: str):
    marks = [pytest.mark.browser] if "browser" in task_spec(env_id).tags else []
    return pytest.param(env_id, marks=marks, id=env_id)


def test_fitness_may_not_be_a_state_variable():
    with pytest.raises(ValueError, match="privileged"):
        StateVar("fitness", (), "float32", "-", "the answer")


@pytest.mark.parametrize("env_id", [_param(i) for i in IDS])
def test_fitness_is_privileged_and_reported(env_id: str):
    spec = task_spec(env_id)
    assert "fitness" not in spec.state_names and spec.fitness.strip()
    env = gym.make(env_id)
    try:
        _, info = env.reset(seed=0)
        assert "fitness" not in info["reward_state"]
        assert np.isfinite(info["fitness"])
        _, _, _, _, info = env.step(env.action_space.sample())
        assert "fitness" not in info["reward_state"]
        assert isinstance(info["fitness"], float) and np.isfinite(info["fitness"])
    finally:
        env.close()


def _reach_episode(toward: bool) -> float:
    env = gym.make("agentgym/Reach-v0")
    obs, info = env.reset(seed=3)
    done = False
    while not done:
        # obs[-2:] is fingertip - target; move the fingertip along the Jacobian's transpose.
        q = env.unwrapped.q
        a, b = q[0], q[0] + q[1]
        jac = LINK * np.array(
            [[-np.sin(a) - np.sin(b), -np.sin(b)], [np.cos(a) + np.cos(b), np.cos(b)]]
        )
        step = -jac.T @ obs[-2:] if toward else jac.T @ obs[-2:]
        action = np.clip(step / max(np.abs(step).max(), 1e-9), -1, 1)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    env.close()
    return info["fitness"]


def test_reach_fitness_of_a_good_episode_beats_a_bad_one():
    good, bad = _reach_episode(toward=True), _reach_episode(toward=False)
    assert good > 0.8 and bad < 0.0 and good > bad


def _cheetah_episode(gait: bool, steps: int = 200) -> tuple[float, float]:
    env = gym.make("agentgym/HalfCheetah-v0")
    env.reset(seed=0)
    info = {}
    for t in range(steps):
        # A planted open-loop gait (sinusoid on the thighs) against doing nothing.
        phase = 2 * np.pi * t / 20
        action = (
            np.array([np.sin(phase), np.sin(phase + 1), 0, -np.sin(phase), -np.sin(phase + 1), 0])
            if gait
            else np.zeros(6)
        )
        _, _, _, _, info = env.step(action.astype(np.float32))
    x = float(env.unwrapped.data.qpos[0])
    env.close()
    return info["fitness"], x


def test_locomotion_fitness_is_forward_progress():
    moved, x_moved = _cheetah_episode(gait=True)
    still, _ = _cheetah_episode(gait=False)
    assert abs(still) < 0.5
    assert abs(moved) > 0.5 and moved != pytest.approx(still)
    # fitness is the x displacement since reset, whichever way the gait went
    env = gym.make("agentgym/HalfCheetah-v0")
    env.reset(seed=0)
    x0 = float(env.unwrapped.data.qpos[0])
    env.close()
    assert moved == pytest.approx(x_moved - x0)


def test_cartpole_and_mountaincar_fitness():
    env = gym.make("agentgym/CartPole-v0")
    env.reset(seed=0)
    done, info = False, {}
    while not done:
        _, _, terminated, truncated, info = env.step(1)  # always right: falls early
        done = terminated or truncated
    assert 0 < info["fitness"] < 0.1
    env.close()
    env = gym.make("agentgym/MountainCar-v0")
    _, start = env.reset(seed=0)
    for _ in range(30):
        _, _, _, _, right = env.step(2)
    assert right["fitness"] > start["fitness"]
    env.close()
