"""MetaWorld v3 manipulation tasks with the agentgym contract.

A ``MetaWorldTask`` holds one MetaWorld v3 env (the Sawyer arm) and the 50 goal/object
configurations that ``gym.make("Meta-World/MT1", env_name=..., seed=...)`` samples for
that task. Each reset draws one configuration from the TaskEnv's seeded generator, so
``reset(seed=s)`` fixes the whole episode, and a pickled copy (rebuilt by EzPickle)
replays it exactly. The observation, actions, dynamics, dense reward (MetaWorld's "v2"
reward function, the benchmark default) and success flag are MetaWorld's; agentgym adds
a named state abstraction for reward designers.

Building the MT1 benchmark costs ~0.8 s per task name (it samples 50 configurations);
the configurations are plain data, so they are made once per process and cached.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle

from agentgym.core import TaskEnv
from agentgym.spec import StateVar, TaskSpec

TASK_SET_SEED = 0
"""Seed of the MT1 benchmark whose 50 configurations an env id draws from."""

MAX_STEPS = 500
"""MetaWorld truncates every episode at 500 steps (``max_path_length``)."""


@functools.cache
def mt1_tasks(env_name: str, seed: int = TASK_SET_SEED) -> tuple[Any, ...]:
    """The MT1 task configurations of ``env_name``, exactly as gym.make gives them."""
    import gymnasium as gym
    import metaworld  # noqa: F401  (registers Meta-World/MT1)

    with warnings.catch_warnings():
        # MT1's own observation space (goal bounds 0..0 before a task is set) makes
        # Gymnasium warn; agentgym uses the space of the task-set env instead.
        warnings.simplefilter("ignore")
        env = gym.make("Meta-World/MT1", env_name=env_name, seed=seed)
    try:
        return tuple(env.get_wrapper_attr("tasks"))
    finally:
        env.close()


def f32(value: Any) -> np.ndarray:
    return np.array(value, dtype=np.float32)


def metaworld_state_vars(obj: str, extra: tuple[StateVar, ...] = ()) -> tuple[StateVar, ...]:
    """The state abstraction shared by the MetaWorld tasks; ``obj`` names the object."""
    return (
        StateVar(
            "hand_pos", (3,), "float32", "m", "x, y, z position of the gripper (end effector)"
        ),
        StateVar(
            "gripper_opening",
            (),
            "float32",
            "-",
            "distance between the two fingers, normalised: 0 closed, 1 fully open",
        ),
        StateVar(
            "tcp_pos",
            (3,),
            "float32",
            "m",
            "tool centre point: midpoint between the two fingertips",
            # what a coder model calls the point that grasps (MetaWorld's own rewards
            # use the tool centre point there)
            aliases=("gripper_pos", "end_effector_pos", "ee_pos", "tcp_center"),
        ),
        StateVar("left_pad_pos", (3,), "float32", "m", "position of the left finger pad"),
        StateVar("right_pad_pos", (3,), "float32", "m", "position of the right finger pad"),
        StateVar("obj_pos", (3,), "float32", "m", f"position of {obj}"),
        StateVar(
            "obj_quat",
            (4,),
            "float32",
            "-",
            f"orientation quaternion of {obj} (zeros if it has none)",
        ),
        StateVar("goal_pos", (3,), "float32", "m", "the goal position of this episode"),
        StateVar(
            "obj_init_pos", (3,), "float32", "m", f"position of {obj} at the start of the episode"
        ),
        StateVar(
            "tcp_init_pos", (3,), "float32", "m", "tool centre point at the start of the episode"
        ),
        StateVar(
            "hand_init_pos",
            (3,),
            "float32",
            "m",
            "commanded gripper position at the start of the episode",
        ),
        *extra,
    )


MANUAL = """agentgym/MetaWorld-{name}-v0: MetaWorld v3's `{env_name}` with the agentgym contract.

## Description
{description} A Sawyer arm is driven by end-effector position deltas; each reset draws
one of the 50 object/goal configurations of MetaWorld's MT1 benchmark for `{env_name}`
(benchmark seed 0) from the env's seeded generator.

## Action space
`Box(-1, 1, (4,), float32)`: end-effector displacement in x, y, z (scaled by 1/100 m) and
the gripper effort (-1 open, +1 close).

## Observation space
MetaWorld's `Box(39,)`, float64: hand position (3), gripper opening (1), object
positions and quaternions (14), the same 18 values at the previous step, and the goal
position (3).

## Reward state (`info["reward_state"]`)
| name | shape | units | meaning |
|---|---|---|---|
| `hand_pos` | (3,) | m | gripper position |
| `gripper_opening` | () | - | finger distance, 0 closed .. 1 open |
| `tcp_pos` | (3,) | m | midpoint between the fingertips |
| `left_pad_pos`, `right_pad_pos` | (3,) | m | finger pad positions |
| `obj_pos` | (3,) | m | {obj} |
| `obj_quat` | (4,) | - | its orientation |
| `goal_pos` | (3,) | m | goal of this episode |
| `obj_init_pos`, `tcp_init_pos`, `hand_init_pos` | (3,) | m | the same at the episode start |
{extra_rows}
## Rewards (the human reward, also `reward_designers/library/metaworld_{lower}.py`)
MetaWorld's dense "v2" reward, between 0 and 10. {reward}

## Success
MetaWorld's success flag: {success} Counted as MetaWorld's own evaluation counts it (an
episode succeeds if the flag is 1 at any step): `info["success"]` turns True at the first
step where the flag is 1 and stays True until the reset, so evaluation, which reads the
last step, and the `sparse` reward (1 on every step from the first success on) both follow
that protocol.

## Fitness
`info["fitness"]`: MetaWorld's own `in_place_reward` at the current step, in [0, 1]
(its measure of the object, drawer, door, button, window or lever being where the task
wants it; 0 at reset). The episode's fitness is its value at the last step.

## Episode end
Truncated after 500 steps (MetaWorld's `max_path_length`); never terminated.

## Version history
- v0: first release (MetaWorld 3.1.1, `{env_name}`). Since 2026-12-05 success is counted
  at any step of the episode (MetaWorld's evaluation protocol); before, at the last step.
"""


def manual(
    cls_name: str,
    env_name: str,
    obj: str,
    description: str,
    reward: str,
    success: str,
    extra_rows: str = "",
) -> str:
    """The Markdown manual of one MetaWorld task (the docstring of its class)."""
    return MANUAL.format(
        name=cls_name,
        env_name=env_name,
        obj=obj,
        description=description,
        reward=reward,
        success=success,
        extra_rows=extra_rows,
        lower=cls_name.lower(),
    )


class MetaWorldTask(TaskEnv, EzPickle):
    """One MetaWorld v3 task inside a TaskEnv (see the module docstring)."""

    env_name: ClassVar[str]
    """MetaWorld's name of the task, e.g. "push-v3"."""
    dense_reward: ClassVar[bool] = True
    expert_policy: ClassVar[str | None] = None
    """Name of MetaWorld's scripted policy class, when it does not follow the task name."""
    expert_steps = 150
    """MetaWorld's experts succeed within ~110 steps; after that some push the door or
    lever on past where the success flag holds, and a 500-step recording is mostly that."""
    metadata = {"render_modes": ["rgb_array"], "render_fps": 80}

    @classmethod
    def expert(cls) -> Any:
        """MetaWorld's scripted expert for this task: ``expert().get_action(obs) -> action``.

        Useful for demonstrations and for checking a reward: it solves the task from
        MetaWorld's observation (the env's ``obs``)."""
        import metaworld.policies as policies

        camel = "".join(p.capitalize() for p in cls.env_name.removesuffix("-v3").split("-"))
        return getattr(policies, cls.expert_policy or f"Sawyer{camel}V3Policy")()

    def __init__(
        self,
        reward: Any = None,
        render_mode: str | None = None,
        width: int = 224,
        height: int = 224,
        camera: str = "corner",
        task_set_seed: int = TASK_SET_SEED,
    ) -> None:
        EzPickle.__init__(
            self,
            reward=reward,
            render_mode=render_mode,
            width=width,
            height=height,
            camera=camera,
            task_set_seed=task_set_seed,
        )
        super().__init__(reward=reward, render_mode=render_mode)
        from metaworld.env_dict import ALL_V3_ENVIRONMENTS

        self.tasks = mt1_tasks(self.env_name, task_set_seed)
        # The class gym.make("Meta-World/MT1") instantiates, with its default arguments;
        # it never renders itself (frames come from FrameRenderer, shadows off).
        self.inner = ALL_V3_ENVIRONMENTS[self.env_name](reward_function_version="v2")
        self.inner.set_task(self.tasks[0])  # fixes observability, hence the observation space
        self.observation_space = self.inner.sawyer_observation_space
        self.action_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.width, self.height, self.camera = width, height, camera
        self._renderer = None
        self._obj_init: np.ndarray = np.zeros(3)
        self._in_place = 0.0
        self._succeeded = False

    # -- what tasks may override ----------------------------------------------------
    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        """The object's position at the start of the episode (``obs`` is the reset's).

        Tasks override this where MetaWorld's reward keeps its own reference point."""
        return obs[4:7]

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _terms(self, reward: float, info: dict[str, Any]) -> dict[str, float]:
        """Named components of MetaWorld's reward; one term where they do not sum to it."""
        return {"dense": reward}

    # -- TaskEnv --------------------------------------------------------------------
    def _state(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        u = self.inner
        return {
            "hand_pos": f32(obs[0:3]),
            "gripper_opening": f32(obs[3]),
            "tcp_pos": f32(u.tcp_center),
            "left_pad_pos": f32(u.get_body_com("leftpad")),
            "right_pad_pos": f32(u.get_body_com("rightpad")),
            "obj_pos": f32(obs[4:7]),
            "obj_quat": f32(obs[7:11]),
            "goal_pos": f32(u._target_pos),
            "obj_init_pos": f32(self._obj_init),
            "tcp_init_pos": f32(u.init_tcp),
            "hand_init_pos": f32(u.hand_init_pos),
            **self._extra_state(),
        }

    def _reset(self, *, seed, options):
        task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        self.inner.set_task(task)
        obs, _ = self.inner.reset()
        self._obj_init = np.array(self._obj_init_pos(obs), dtype=np.float64)
        self._in_place = 0.0
        self._succeeded = False
        return obs, {"reward_state": self._state(obs), "success": False}

    def _step(self, action):
        obs, reward, terminated, truncated, info = self.inner.step(
            np.asarray(action, dtype=np.float32)
        )
        self._in_place = float(np.clip(info["in_place_reward"], 0.0, 1.0))
        # MetaWorld's protocol: an episode has succeeded once the flag was 1 (module manual).
        self._succeeded = self._succeeded or bool(info["success"])
        out = {
            "reward_state": self._state(obs),
            "success": self._succeeded,
            "env_reward_terms": self._terms(float(reward), info),
        }
        return obs, float(reward), bool(terminated), bool(truncated), out

    def _fitness(self, info: dict[str, Any]) -> float:
        return self._in_place

    # -- rendering ------------------------------------------------------------------
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from agentgym.envs.robotics.rendering import FrameRenderer

            # MetaWorld's "corner" cameras look at the table upside down (FACTS.md).
            flip = self.camera.startswith("corner")
            self._renderer = FrameRenderer(
                self.inner.model, self.width, self.height, camera=self.camera, flip=flip
            )
        return self._renderer.render(self.inner.data)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.inner.close()


def task_spec(
    name: str,
    instruction: str,
    success: str,
    obj: str,
    tags: tuple[str, ...],
    extra: tuple[StateVar, ...] = (),
) -> TaskSpec:
    """The TaskSpec of a MetaWorld task."""
    return TaskSpec(
        name=f"MetaWorld-{name}",
        instruction=instruction,
        # MetaWorld's protocol (the env's manual); part of the spec, so recordings cached
        # under the old last-step labels are not reused.
        success=f"{success} Counted once at any step of the episode.",
        action_meaning=(
            "4 floats in [-1, 1]: gripper displacement in x, y, z (times 1 cm) and gripper "
            "effort (-1 open, +1 close)."
        ),
        family="manipulation",
        robot="Sawyer",
        fitness=(
            "MetaWorld's in_place_reward at the episode's end, in [0, 1]: how near the object "
            "(or drawer, door, button, window, lever) is to where the task wants it"
        ),
        termination="never",
        tags=("metaworld", "sawyer", "manipulation", *tags),
        state=metaworld_state_vars(obj, extra),
    )
