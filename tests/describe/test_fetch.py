"""Gymnasium-Robotics' Fetch through agentgym.describe: the ids pass the contract checks and
each library program equals the env's own dense reward to 1e-5, on random actions and on a
scripted reacher that succeeds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip(
    "gymnasium_robotics", reason="the robotics extra is not installed (make installs it)"
)

from agentgym.catalog import task_spec  # noqa: E402
from agentgym.env_checker import check  # noqa: E402
from agentgym.reward_designers.library import program_path  # noqa: E402

IDS = [
    "agentgym/FetchReach-v0",
    "agentgym/FetchPush-v0",
    "agentgym/FetchSlide-v0",
    "agentgym/FetchPickAndPlace-v0",
]


def reacher(info: dict) -> np.ndarray:
    """Moves the gripper straight at the goal (FetchReach's expert, scripted)."""
    state = info["reward_state"]
    move = np.clip(20.0 * (state["goal_pos"] - state["grip_pos"]), -1.0, 1.0)
    return np.append(move, 0.0).astype(np.float32)


@pytest.mark.parametrize("env_id", IDS)
def test_fetch_passes_the_contract_checks(env_id):
    report = check(env_id)
    assert report.ok, [(r.name, r.detail) for r in report.results if not r.ok]
    assert task_spec(env_id).robot == "Fetch"


@pytest.mark.parametrize(("env_id", "scripted"), [(i, False) for i in IDS] + [(IDS[0], True)])
def test_library_program_equals_the_env_reward(env_id, scripted):
    path = program_path(task_spec(env_id).name)
    own, prog = gym.make(env_id), gym.make(env_id, reward=str(path))
    own.action_space.seed(5)
    _, info = own.reset(seed=5)
    prog.reset(seed=5)
    successes = 0
    for _ in range(50):
        action = reacher(info) if scripted else own.action_space.sample()
        _, r_own, _, trunc, info = own.step(action)
        _, r_prog, _, _, info_prog = prog.step(action)
        assert r_prog == pytest.approx(r_own, abs=1e-5)
        assert info_prog["env_reward"] == pytest.approx(r_own, abs=1e-12)
        successes += info["success"]
        if trunc:
            break
    if scripted:
        assert successes > 0  # the comparison covered states near the goal too
    own.close()
    prog.close()
