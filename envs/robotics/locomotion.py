"""The shared machinery of the locomotion tasks: a Gymnasium v5 MuJoCo env held inside a
``TaskEnv`` (composition, not inheritance), its named reward terms, a state abstraction
and a success criterion "forward speed held over a window".

Each robot (ant.py, half_cheetah.py, hopper.py, walker2d.py, humanoid.py) is a small
subclass that names its Gymnasium class, its success speed and its ``reward_state``.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from agentgym.core import TaskEnv

WINDOW_SECONDS = 2.0
"""Success needs the forward speed averaged over this many simulated seconds."""


def gymnasium_terms(info: dict[str, Any]) -> dict[str, float]:
    """Gymnasium's named reward components (``reward_forward``, ...) without the prefix."""
    return {k.removeprefix("reward_"): float(v) for k, v in info.items() if k.startswith("reward_")}


class GymnasiumMujocoTask(TaskEnv, EzPickle):
    """A TaskEnv that holds a Gymnasium MuJoCo env and reports its reward by component.

    Subclasses set ``gym_class`` ("module:Class" of the Gymnasium env), ``gym_kwargs``,
    and implement ``_state`` (the TaskSpec's variables from the inner env) and
    ``_success``. The observation, action space, dynamics, termination and reward are the
    inner env's, unchanged.
    """

    gym_class: ClassVar[str]
    gym_kwargs: ClassVar[dict[str, Any]] = {}
    dense_reward: ClassVar[bool] = True
    """False for instruction-only tasks (no human reward program exists for them)."""

    def __init__(
        self,
        reward: Any = None,
        render_mode: str | None = None,
        width: int = 224,
        height: int = 224,
        camera: str | int | None = None,
        **gym_kwargs: Any,
    ) -> None:
        EzPickle.__init__(
            self,
            reward=reward,
            render_mode=render_mode,
            width=width,
            height=height,
            camera=camera,
            **gym_kwargs,
        )
        super().__init__(reward=reward, render_mode=render_mode)
        from agentgym.registry import load_target

        kwargs = {**self.gym_kwargs, **gym_kwargs}
        # The inner env never renders itself: frames come from FrameRenderer (fast path).
        self.inner = load_target(self.gym_class)(**kwargs)
        self.observation_space = self.inner.observation_space
        self.action_space = self.inner.action_space
        self.metadata = {
            "render_modes": ["rgb_array"],
            "render_fps": int(round(1.0 / self.inner.dt)),
        }
        self.width, self.height, self.camera = width, height, camera
        self._renderer = None

    @property
    def dt(self) -> float:
        """Simulated seconds per env step."""
        return float(self.inner.dt)

    @property
    def data(self):
        return self.inner.data

    @property
    def model(self):
        return self.inner.model

    # -- what robots implement ------------------------------------------------------
    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError  # abstract: each robot names its own state

    def _success(self, state: dict[str, np.ndarray], info: dict[str, Any]) -> bool:
        raise NotImplementedError  # abstract: each task defines success

    def _on_reset(self) -> None:
        """Clear per-episode bookkeeping (the success window)."""

    # -- TaskEnv --------------------------------------------------------------------
    def _reset(self, *, seed, options):
        obs, info = self.inner.reset(seed=seed, options=options)
        self._on_reset()
        state = self._state({**info, "x_velocity": 0.0, "y_velocity": 0.0})
        return obs, {"reward_state": state, "success": False}

    def _step(self, action):
        obs, reward, terminated, truncated, info = self.inner.step(action)
        state = self._state(info)
        out = {
            "reward_state": state,
            "success": bool(self._success(state, info)),
            "env_reward_terms": self._terms(float(reward), info),
        }
        return obs, float(reward), bool(terminated), bool(truncated), out

    def _terms(self, reward: float, info: dict[str, Any]) -> dict[str, float]:
        return gymnasium_terms(info)

    # -- rendering ------------------------------------------------------------------
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from agentgym.envs.robotics.rendering import FrameRenderer, free_camera

            camera = self.camera
            if camera is None:
                camera = free_camera(
                    self.model, self.inner.mujoco_renderer.default_cam_config or {}
                )
            self._renderer = FrameRenderer(self.model, self.width, self.height, camera=camera)
        return self._renderer.render(self.data)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.inner.close()


FORWARD_FITNESS = (
    "forward progress: the root's x displacement in metres from reset to the episode's end"
)
"""``TaskSpec.fitness`` of every forward locomotion task."""


class ForwardLocomotionTask(GymnasiumMujocoTask):
    """A locomotion task whose success is a forward speed held over a window.

    ``info["success"]`` is True at a step when the robot's forward velocity, averaged over
    the last ``WINDOW_SECONDS`` of simulated time, is at least ``target_speed`` m/s.
    ``info["fitness"]`` is the forward progress so far: the root body's x displacement
    (``qpos[0]``) since reset, in metres.
    """

    target_speed: ClassVar[float]

    def _on_reset(self) -> None:
        self._window: deque[float] = deque(maxlen=max(1, int(round(WINDOW_SECONDS / self.dt))))
        self._start_x = float(self.data.qpos[0])

    def _fitness(self, info: dict[str, Any]) -> float:
        return float(self.data.qpos[0]) - self._start_x

    def _success(self, state: dict[str, np.ndarray], info: dict[str, Any]) -> bool:
        self._window.append(float(info["x_velocity"]))
        full = len(self._window) == self._window.maxlen
        return full and float(np.mean(self._window)) >= self.target_speed


def f32(value: Any) -> np.ndarray:
    """A copy of ``value`` as float32 (reward_state values are float32 by convention)."""
    return np.array(value, dtype=np.float32)
