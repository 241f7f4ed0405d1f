"""The shared machinery of the locomotion tasks: a Gymnasium v5 MuJoCo env held inside a
``TaskEnv`` (composition, not inheritance), its named reward terms, a state abstraction
and a success criterion "forward speed held over a window".

Each robot (ant.py, half_cheetah.py, hopper.py, walker2d.py, humanoid.py) is a small
subclass that names its Gymnasium class, its success speed and its ``reward_state``.

``LocomotionVectorEnv`` is the natively batched twin of a robot (``make_vec``'s
``vector_entry_point``): N MjData stepped by ``agentgym.vector.MujocoBatch``, and the
Gymnasium v5 observation, reward and termination of each robot written over arrays, equal
to a ``SyncVectorEnv`` of the per-env env step by step (tests/envs/test_vector_envs.py).
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle
from gymnasium.vector import AutoresetMode

from agentgym.core import TaskEnv
from agentgym.registry import load_target
from agentgym.vector import BatchReset, BatchStep, MujocoBatch, NativeVectorEnv

WINDOW_SECONDS = 2.0
"""Success needs the forward speed averaged over this many simulated seconds."""
PHYSICS = ("mujoco", "mjx")
"""What steps a vector env's sub-envs: MuJoCo on the CPU's cores (``MujocoBatch``) or MuJoCo
XLA on a JAX device (``MjxBatch``, agentgym/vector/mjx.py; ``gym.make_vec(id, num_envs=N,
physics="mjx")``), with the same observation, reward and reset code over its fields."""


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


def planar_state(qpos: np.ndarray, qvel: np.ndarray, x_velocity: Any) -> dict[str, np.ndarray]:
    """The reward_state of a planar robot (HalfCheetah, Hopper, Walker2d), whose qpos is
    root x, root z, root pitch, joints; for one env ([nq]) or a batch ([N, nq])."""
    return {
        "x_position": f32(qpos[..., 0]),
        "forward_velocity": f32(x_velocity),
        "torso_height": f32(qpos[..., 1]),
        "torso_angle": f32(qpos[..., 2]),
        "torso_velocity": f32(qvel[..., :3]),
        "joint_pos": f32(qpos[..., 3:]),
        "joint_vel": f32(qvel[..., 3:]),
    }


def gymnasium_params(gym_class: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A Gymnasium MuJoCo env's constructor arguments: its defaults, updated by ``kwargs``."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(gym_class.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    return {**defaults, **kwargs}


class SpeedWindow:
    """``ForwardLocomotionTask``'s success over a batch: the last ``length`` forward
    velocities of each sub-env, oldest first (the order of the per-env deque, so that the
    mean is summed in the same order), and how many have been pushed since its reset."""

    def __init__(self, num_envs: int, length: int, target_speed: float) -> None:
        self.values = np.zeros((num_envs, length), dtype=np.float64)
        self.count = np.zeros(num_envs, dtype=np.int64)
        self.target_speed = target_speed

    def clear(self, mask: np.ndarray) -> None:
        self.count[mask] = 0

    def push(self, velocity: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Append ``velocity`` for the sub-envs in ``mask``; success per sub-env [N]."""
        self.values[:, :-1] = self.values[:, 1:]
        self.values[:, -1] = velocity
        self.count += mask
        full = self.count >= self.values.shape[1]
        if not full.any():
            return full
        return full & (self.values.mean(axis=1) >= self.target_speed)


class LocomotionVectorEnv(NativeVectorEnv):
    """N copies of a ``ForwardLocomotionTask`` in one natively batched vector env.

    One Gymnasium env is built to read the model, spaces and initial state from it (the
    per-env envs build the same model from the same XML); each sub-env then lives in its
    own ``MjData``, stepped by ``MujocoBatch`` on ``num_threads`` threads (default: every
    core this process may run on). A robot subclass names ``task_env`` (its per-env
    class), the ``MjData`` ``fields`` it reads, and writes Gymnasium v5's observation
    (``_observe``), body position (``_position``), reward (``_reward``) and its
    reward_state (``_state``) over arrays. The reward is the env's own: apply a reward
    program with ``agentgym.wrappers.VectorRewardWrapper``, which reads these arrays as they
    are. ``physics="mjx"`` steps the same sub-envs on MuJoCo XLA (``PHYSICS``).
    """

    task_env: ClassVar[type[ForwardLocomotionTask]]
    fields: ClassVar[tuple[str, ...]] = ("qpos", "qvel")
    velocity_noise: ClassVar[str] = "uniform"
    """How Gymnasium draws the initial qvel: "uniform" in +-scale, or "normal" (scale * N(0, 1))."""
    mjx_unsupported: ClassVar[str | None] = None
    """Why ``physics="mjx"`` is refused for this robot (None: it matches the CPU physics to
    float32 tolerance; HalfCheetah in tests/envs/test_mjx_batch.py)."""

    def __init__(
        self,
        num_envs: int = 1,
        *,
        max_episode_steps: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        num_threads: int | None = None,
        physics: str = "mujoco",
        reward: Any = None,
        render_mode: str | None = None,
        **gym_kwargs: Any,
    ) -> None:
        name = type(self).__name__
        if physics not in PHYSICS:
            raise ValueError(f"{name}: physics must be one of {PHYSICS}, got {physics!r}")
        if physics == "mjx" and self.mjx_unsupported:
            raise ValueError(f"{name}: physics='mjx' is not supported: {self.mjx_unsupported}")
        if physics == "mjx" and num_threads is not None:
            raise ValueError(
                f"{name}: num_threads={num_threads} sets MuJoCo's CPU thread pool; "
                "physics='mjx' steps the batch on a JAX device (leave num_threads out)"
            )
        if reward not in (None, "env"):
            raise ValueError(
                f"{name}: reward={reward!r}: the native vector env gives the env reward; apply "
                "a reward model with agentgym.wrappers.VectorRewardWrapper(env, reward)"
            )
        if render_mode is not None:
            raise ValueError(
                f"{name}: render_mode={render_mode!r}: native vector envs do not render; use "
                "gym.make_vec(..., vectorization_mode='sync', render_mode='rgb_array')"
            )
        task = self.task_env
        kwargs = {**task.gym_kwargs, **gym_kwargs}
        gym_class = load_target(task.gym_class)
        template = gym_class(**kwargs)
        try:
            self.params = gymnasium_params(gym_class, kwargs)
            self.model = template.model
            self.init_qpos = template.init_qpos.copy()
            self.init_qvel = template.init_qvel.copy()
            self.frame_skip = int(template.frame_skip)
            self.dt = float(template.dt)
            super().__init__(
                num_envs,
                template.observation_space,
                template.action_space,
                max_episode_steps=max_episode_steps,
                autoreset_mode=autoreset_mode,
                metadata={"render_modes": [], "render_fps": int(round(1.0 / self.dt))},
            )
        finally:
            template.close()
        self.task_spec = task.task_spec
        if physics == "mjx":
            from agentgym.vector.mjx import MjxBatch

            self.batch: MujocoBatch | MjxBatch = MjxBatch(
                self.model, self.num_envs, frame_skip=self.frame_skip, fields=self.fields
            )
        else:
            self.batch = MujocoBatch(
                self.model,
                self.num_envs,
                frame_skip=self.frame_skip,
                fields=self.fields,
                num_threads=num_threads,
            )
        window = max(1, int(round(WINDOW_SECONDS / self.dt)))
        self.window = SpeedWindow(self.num_envs, window, task.target_speed)
        self._position = self._position_of(self.batch.fields).copy()
        self._start_x = self.batch.fields["qpos"][:, 0].copy()

    # -- what robots implement (Gymnasium v5's formulas, over a batch) ------------------
    def _position_of(self, f: dict[str, np.ndarray]) -> np.ndarray:
        """[N, k]: what the forward (and lateral) velocity differentiates; default the root x."""
        return f["qpos"][:, :1].copy()

    def _observe(self, f: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError  # abstract: each robot observes its own state

    def _reward(
        self, actions: np.ndarray, f: dict[str, np.ndarray], velocity: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """(reward [N], Gymnasium's reward_* terms {name: [N]}, terminated [N])."""
        raise NotImplementedError  # abstract: each robot has Gymnasium's own reward

    def _state(self, f: dict[str, np.ndarray], velocity: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError  # abstract: each robot names its own state

    # -- NativeVectorEnv --------------------------------------------------------------
    def _initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Gymnasium's ``reset_model`` noise, drawn from the sub-env's own generator."""
        scale = self.params["reset_noise_scale"]
        qpos = self.init_qpos + rng.uniform(low=-scale, high=scale, size=self.model.nq)
        if self.velocity_noise == "normal":
            qvel = self.init_qvel + scale * rng.standard_normal(self.model.nv)
        else:
            qvel = self.init_qvel + rng.uniform(low=-scale, high=scale, size=self.model.nv)
        return qpos, qvel

    def _reset_batch(self, mask: np.ndarray) -> BatchReset:
        for i in np.flatnonzero(mask):
            self.batch.reset(i, *self._initial_state(self.sub_env_rng(i)))
        f = self.batch.fields
        self._position[mask] = self._position_of(f)[mask]
        self._start_x[mask] = f["qpos"][mask, 0]
        self.window.clear(mask)
        still = np.zeros_like(self._position)
        info = {
            "reward_state": self._state(f, still),
            "success": np.zeros(self.num_envs, dtype=bool),
            "fitness": f["qpos"][:, 0] - self._start_x,  # forward progress since reset
        }
        return BatchReset(self._observe(f), info)

    def _step_batch(self, actions: np.ndarray, mask: np.ndarray) -> BatchStep:
        self.batch.step(actions, mask)
        f = self.batch.fields
        position = self._position_of(f)
        velocity = (position - self._position) / self.dt
        self._position = position
        reward, terms, terminated = self._reward(actions, f, velocity)
        info = {
            "reward_state": self._state(f, velocity),
            "success": self.window.push(velocity[:, 0], mask),
            "env_reward": reward.copy(),
            "reward_terms": {k: np.asarray(v, dtype=np.float64) for k, v in terms.items()},
            "fitness": f["qpos"][:, 0] - self._start_x,
        }
        return BatchStep(self._observe(f), reward, terminated, info)

    def close_extras(self, **kwargs: Any) -> None:
        self.batch.close()


class PlanarHealthyVectorEnv(LocomotionVectorEnv):
    """A planar robot that must stay healthy (Hopper, Walker2d): Gymnasium v5's clipped
    planar observation and its reward, forward velocity + a healthy bonus - the control
    cost, ending the episode when unhealthy. A robot names its own ``_healthy`` rule."""

    def _healthy(self, f: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError  # abstract: Hopper and Walker2d judge health differently

    def _observe(self, f: dict[str, np.ndarray]) -> np.ndarray:
        return planar_observation(f, self.params, clip=True)

    def _reward(
        self, actions: np.ndarray, f: dict[str, np.ndarray], velocity: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        p = self.params
        healthy = self._healthy(f)
        forward = p["forward_reward_weight"] * velocity[:, 0]
        healthy_reward = healthy * p["healthy_reward"]
        ctrl_cost = control_cost(p["ctrl_cost_weight"], actions)
        reward = forward + healthy_reward - ctrl_cost
        terminated = ~healthy & bool(p["terminate_when_unhealthy"])
        terms = {"forward": forward, "ctrl": -ctrl_cost, "survive": healthy_reward}
        return reward, terms, terminated

    def _state(self, f: dict[str, np.ndarray], velocity: np.ndarray) -> dict[str, np.ndarray]:
        return planar_state(f["qpos"], f["qvel"], velocity[:, 0])


def control_cost(weight: float, actions: np.ndarray) -> np.ndarray:
    """Gymnasium's ``weight * sum(a^2)`` per row, in the actions' own dtype (float32 for
    float32 actions, as in the per-env env)."""
    return weight * np.sum(np.square(actions), axis=1)


def planar_observation(f: dict[str, np.ndarray], params: dict[str, Any], clip: bool) -> np.ndarray:
    """Gymnasium's planar observation (HalfCheetah, Hopper, Walker2d): qpos without the
    root x (unless asked), then qvel (clipped to +-10 for Hopper and Walker2d)."""
    qpos, qvel = f["qpos"], f["qvel"]
    if params["exclude_current_positions_from_observation"]:
        qpos = qpos[:, 1:]
    if clip:
        qvel = np.clip(qvel, -10, 10)
    return np.concatenate((qpos, qvel), axis=1)
