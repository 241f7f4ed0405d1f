"""A user's own MuJoCo env that agentgym has never seen: a block on a rail, one motor,
a target at x = 0.5. Its MJCF is written when the env is built; it is a plain Gymnasium
``MujocoEnv`` (no TaskSpec, no reward_state, reward always 0), registered by the tests."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.mujoco import MujocoEnv
from gymnasium.utils import EzPickle

ENV_ID = "UserSlider-v0"
BASE = f"{__name__}:{ENV_ID}"
"""What a user passes as the base: the module that registers the env, then the id."""
ENTRY_POINT = "tests.describe.point_mass:SliderEnv"

MJCF = """
<mujoco model="slider">
  <option timestep="0.02"/>
  <worldbody>
    <geom name="rail" type="box" size="1 0.02 0.02" pos="0 0 -0.05" contype="0" conaffinity="0"/>
    <site name="target" pos="0.5 0 0" size="0.03"/>
    <body name="block" pos="0 0 0">
      <joint name="slide_x" type="slide" axis="1 0 0" range="-1 1" limited="true" damping="1"/>
      <geom name="block_geom" type="box" size="0.04 0.04 0.04" mass="0.5"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="push" joint="slide_x" gear="1" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>
"""


class SliderEnv(MujocoEnv, EzPickle):
    metadata = {"render_modes": ["human", "rgb_array", "depth_array"], "render_fps": 25}

    def __init__(self, **kwargs: Any) -> None:
        EzPickle.__init__(self, **kwargs)
        fd, path = tempfile.mkstemp(suffix=".xml")
        with os.fdopen(fd, "w") as f:
            f.write(MJCF)
        obs_space = spaces.Box(-np.inf, np.inf, (2,), np.float64)
        MujocoEnv.__init__(self, path, 2, observation_space=obs_space, **kwargs)
        os.unlink(path)

    def _get_obs(self) -> np.ndarray:
        return np.concatenate([self.data.qpos, self.data.qvel]).astype(np.float64)

    def step(self, action: Any):
        self.do_simulation(action, self.frame_skip)
        return self._get_obs(), 0.0, False, False, {}

    def reset_model(self) -> np.ndarray:
        qpos = self.init_qpos + self.np_random.uniform(-0.1, 0.1, size=self.model.nq)
        self.set_state(qpos, self.init_qvel)
        return self._get_obs()


# A plugin module registers its env when imported: ``gym.make("tests.describe.point_mass:
# UserSlider-v0")`` (Gymnasium's module:id) works in any process, the agentgym CLI's too.
if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=ENTRY_POINT, max_episode_steps=100)
