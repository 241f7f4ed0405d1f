"""Headless rendering on CPU (MUJOCO_GL=egl, SDL_VIDEODRIVER=dummy): one frame from each
robotics family, with plausible content."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

# one id per family: planar arm, locomotion, VLM-RM pose, manipulation, classic control
MUJOCO_IDS = [
    "agentgym/Reach-v0",
    "agentgym/Ant-v0",
    "agentgym/HumanoidKneel-v0",
    "agentgym/MetaWorld-Push-v0",
]
CLASSIC_IDS = ["agentgym/CartPole-v0", "agentgym/MountainCar-v0"]


def _frames(env_id: str, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    try:
        env.reset(seed=0)
        env.action_space.seed(0)
        first = env.render()
        for _ in range(25):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        return first, env.render()
    finally:
        env.close()


def _plausible(frame: np.ndarray, height: int, width: int, min_colours: int = 20) -> None:
    assert frame.shape == (height, width, 3) and frame.dtype == np.uint8
    assert frame.std() > 10, "frame is (nearly) constant"
    colours = len(np.unique(frame.reshape(-1, 3)[::7], axis=0))
    assert colours > min_colours, f"only {colours} colours: not a rendered scene"


@pytest.mark.parametrize("env_id", MUJOCO_IDS)
def test_mujoco_frame(env_id: str):
    first, later = _frames(env_id, width=96, height=80)
    _plausible(first, 80, 96)
    _plausible(later, 80, 96)
    assert not np.array_equal(first, later), "the scene did not change after 25 steps"


@pytest.mark.parametrize("env_id", CLASSIC_IDS)
def test_classic_control_frame(env_id: str):
    first, later = _frames(env_id, width=300, height=200)
    _plausible(first, 200, 300, min_colours=4)  # flat 2D drawings: few colours
    assert not np.array_equal(first, later)


def test_metaworld_corner_frames_are_upright():
    """MetaWorld's "corner" camera renders upside down; agentgym turns it the right way up:
    the table (brown wood) fills the lower part of the picture, not the upper."""
    frame, _ = _frames("agentgym/MetaWorld-Push-v0", width=128, height=128)
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    wood = (r > g + 15) & (g > b + 5)
    top, bottom = wood[:64].mean(), wood[64:].mean()
    assert bottom > top + 0.05, (top, bottom)


def test_no_frames_without_render_mode():
    env = gym.make("agentgym/Ant-v0")
    try:
        env.reset(seed=0)
        assert env.render() is None
    finally:
        env.close()
