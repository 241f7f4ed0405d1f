"""Gymnasium's ``RecordVideo`` works on agentgym's MuJoCo envs with the ``[all]`` install.

It needs moviepy, which ``agentgym[all]`` used to leave out: RecordVideo then refused to
start (``DependencyNotInstalled``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordVideo


def test_record_video_writes_an_mp4_of_a_mujoco_env(tmp_path):
    env = gym.make(
        "agentgym/Reach-v0",
        render_mode="rgb_array",
        width=64,
        height=64,
        max_episode_steps=8,
    )
    folder = tmp_path / "videos"
    env = RecordVideo(env, str(folder), episode_trigger=lambda episode: True, name_prefix="reach")
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(np.zeros(env.action_space.shape, np.float32))
        done = terminated or truncated
    env.close()
    [video] = list(folder.glob("reach-episode-0.mp4"))
    data = video.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 1000  # an MP4 container with frames in it
