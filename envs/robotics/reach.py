"""agentgym/Reach-v0: a planar two-link arm reaching a target. The demo and test workhorse.

## Description
A two-link arm (links of 0.12 m) on a table moves its fingertip to a red target. The arm
is driven kinematically by joint-velocity commands, so an episode costs a few
microseconds of arithmetic and PPO learns the task on a 2-core CPU in about a minute.
MuJoCo holds the model and renders it.

## Action space
`Box(-1, 1, (2,), float32)`: shoulder and elbow angular velocity, scaled by 2 rad/s.

## Observation space
`Box(10,)`, bounded: cos and sin of both joint angles (4), joint velocities
(2), target position (2), fingertip minus target (2).

## Rewards (the human reward, also `reward_designers/library/reach.py`)
- `distance`: minus the fingertip-target distance in metres;
- `control`: minus 0.01 times the squared action norm.

## Success
The fingertip is within 0.02 m of the target (`info["success"]`, judged at the last step
of an episode).

## Fitness
`info["fitness"]` = 1 - d / d0, with d the fingertip-target distance now and d0 at reset:
1 on the target, 0 where the arm started, negative when it ends farther away.

## Episode end
Truncated after 50 steps (`max_episode_steps`); never terminated.

## Expert
`ReachEnv.expert()`: analytic inverse kinematics, full speed towards the nearer joint
solution (reaches the target within ~25 steps).

## Vector env
`gym.make_vec("agentgym/Reach-v0", num_envs=N)` returns `ReachVectorEnv`: the N envs in one
object (numpy arithmetic over [N, 2] arrays), equal to a `SyncVectorEnv` of this env step by step
(`vectorization_mode="sync"` still gives that).

## Version history
- v0: first release.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle
from gymnasium.vector import AutoresetMode

from agentgym.core import TaskEnv
from agentgym.spec import StateVar, TaskSpec
from agentgym.vector import BatchReset, BatchStep, NativeVectorEnv

LINK = 0.12
MAX_SPEED = 2.0  # rad/s at |action| = 1
DT = 0.05
SUCCESS_RADIUS = 0.02
CTRL_COST = 0.01
TARGET_RADII = (0.05, 0.22)


def fingertip(q: np.ndarray) -> np.ndarray:
    """Forward kinematics of the two-link arm."""
    a, b = q[0], q[0] + q[1]
    return np.array([LINK * (np.cos(a) + np.cos(b)), LINK * (np.sin(a) + np.sin(b))])


class ReachExpert:
    """Scripted expert of Reach: analytic inverse kinematics of the two-link arm, then
    joint motion towards the nearer of the two joint solutions (elbow up or down), as
    fast as the arm allows. Joint space rather than the Jacobian, because a Jacobian
    step stalls with the arm folded (its singularity)."""

    def get_action(self, obs: np.ndarray) -> np.ndarray:
        q = np.arctan2(obs[2:4], obs[0:2])
        target = obs[6:8]
        r2 = float(np.clip(target @ target, 0.0, (2 * LINK) ** 2))
        elbow = np.arccos(np.clip((r2 - 2 * LINK**2) / (2 * LINK**2), -1.0, 1.0))
        best = None
        for q1 in (elbow, -elbow):
            q0 = np.arctan2(target[1], target[0]) - np.arctan2(
                LINK * np.sin(q1), LINK + LINK * np.cos(q1)
            )
            dq = (np.array([q0, q1]) - q + np.pi) % (2 * np.pi) - np.pi
            if best is None or np.abs(dq).max() < np.abs(best).max():
                best = dq
        return np.clip(best / (MAX_SPEED * DT), -1.0, 1.0).astype(np.float32)


class ReachEnv(TaskEnv, EzPickle):
    task_spec = TaskSpec(
        name="Reach",
        instruction="Move the fingertip of the two-link arm to the red target on the table.",
        success="The fingertip is within 0.02 m of the target at the end of the episode.",
        fitness=(
            "1 - d/d0 at the episode's end, d the fingertip-target distance and d0 the one "
            "at reset (1 on the target, 0 where it started)"
        ),
        termination="never",
        action_meaning="2 floats in [-1, 1]: shoulder and elbow angular velocity, times 2 rad/s.",
        family="robotics",
        robot="two-link arm",
        tags=("reach", "arm", "planar", "goal", "position"),
        state=(
            StateVar("fingertip_pos", (2,), "float32", "m", "x, y position of the fingertip"),
            StateVar("target_pos", (2,), "float32", "m", "x, y position of the target"),
            StateVar("joint_pos", (2,), "float32", "rad", "shoulder and elbow angles"),
            StateVar(
                "joint_vel", (2,), "float32", "rad/s", "shoulder and elbow angular velocities"
            ),
        ),
    )
    metadata = {"render_modes": ["rgb_array"], "render_fps": int(1 / DT)}

    @classmethod
    def expert(cls) -> ReachExpert:
        """Inverse kinematics towards the target (``ReachExpert``)."""
        return ReachExpert()

    def __init__(
        self,
        reward: Any = None,
        render_mode: str | None = None,
        width: int = 224,
        height: int = 224,
    ) -> None:
        EzPickle.__init__(self, reward=reward, render_mode=render_mode, width=width, height=height)
        super().__init__(reward=reward, render_mode=render_mode)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        reach = 2 * LINK
        high = np.array(
            [1, 1, 1, 1, MAX_SPEED, MAX_SPEED, reach, reach, 2 * reach, 2 * reach], dtype=np.float32
        )
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.width, self.height = width, height
        self.q = np.zeros(2)
        self.qdot = np.zeros(2)
        self.target = np.zeros(2)
        self._start_distance = 0.0
        self._mj = None  # (model, data, renderer), built on the first render

    def _sample_target(self) -> np.ndarray:
        radius = self.np_random.uniform(*TARGET_RADII)
        angle = self.np_random.uniform(-np.pi, np.pi)
        return np.array([radius * np.cos(angle), radius * np.sin(angle)])

    def _observe(self) -> tuple[np.ndarray, dict[str, Any]]:
        tip = fingertip(self.q)
        obs = np.concatenate(
            [np.cos(self.q), np.sin(self.q), self.qdot, self.target, tip - self.target]
        ).astype(np.float32)
        state = {
            "fingertip_pos": tip.astype(np.float32),
            "target_pos": self.target.astype(np.float32),
            "joint_pos": self.q.astype(np.float32),
            "joint_vel": self.qdot.astype(np.float32),
        }
        dist = float(np.linalg.norm(tip - self.target))
        return obs, {"reward_state": state, "success": dist < SUCCESS_RADIUS, "distance": dist}

    def _reset(self, *, seed, options):
        self.q = self.np_random.uniform(-np.pi, np.pi, 2)
        self.qdot = np.zeros(2)
        self.target = self._sample_target()
        obs, info = self._observe()
        self._start_distance = info["distance"]
        return obs, info

    def _step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self.qdot = a * MAX_SPEED
        self.q = (self.q + self.qdot * DT + np.pi) % (2 * np.pi) - np.pi
        obs, info = self._observe()
        terms = {"distance": -info["distance"], "control": -CTRL_COST * float(np.sum(a * a))}
        info["env_reward_terms"] = terms
        return obs, sum(terms.values()), False, False, info

    def _fitness(self, info: dict[str, Any]) -> float:
        return 1.0 - info["distance"] / max(self._start_distance, 1e-9)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        import mujoco

        from agentgym.assets import asset_path
        from agentgym.envs.robotics.rendering import FrameRenderer

        if self._mj is None:
            model = mujoco.MjModel.from_xml_path(str(asset_path("mjcf", "reach.xml")))
            data = mujoco.MjData(model)
            self._mj = (model, data, FrameRenderer(model, self.width, self.height, camera="top"))
        model, data, renderer = self._mj
        data.qpos[:] = self.q
        data.mocap_pos[0, :2] = self.target
        mujoco.mj_forward(model, data)  # also places cameras and lights (mj_camlight)
        return renderer.render(data)

    def close(self) -> None:
        if self._mj is not None:
            self._mj[2].close()
            self._mj = None


class ReachVectorEnv(NativeVectorEnv):
    """agentgym/Reach-v0, natively batched: ``gym.make_vec("agentgym/Reach-v0",
    num_envs=N)``. The arm's kinematics over [N, 2] arrays; equal to a ``SyncVectorEnv`` of
    ``ReachEnv`` step by step. Does not render."""

    task_spec = ReachEnv.task_spec

    def __init__(
        self,
        num_envs: int = 1,
        *,
        max_episode_steps: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        reward: Any = None,
        render_mode: str | None = None,
    ) -> None:
        if reward not in (None, "env"):
            raise ValueError(
                f"ReachVectorEnv: reward={reward!r}: the native vector env gives the env reward; "
                "apply a reward model with agentgym.wrappers.VectorRewardWrapper(env, reward)"
            )
        if render_mode is not None:
            raise ValueError(
                f"ReachVectorEnv: render_mode={render_mode!r}: native vector envs do not render; "
                "use gym.make_vec(..., vectorization_mode='sync', render_mode='rgb_array')"
            )
        single = ReachEnv()
        super().__init__(
            num_envs,
            single.observation_space,
            single.action_space,
            max_episode_steps=max_episode_steps,
            autoreset_mode=autoreset_mode,
            metadata={"render_modes": [], "render_fps": ReachEnv.metadata["render_fps"]},
        )
        self.q = np.zeros((self.num_envs, 2))
        self.qdot = np.zeros((self.num_envs, 2))
        self.target = np.zeros((self.num_envs, 2))
        self.start_distance = np.zeros(self.num_envs)

    def _observe(self) -> tuple[np.ndarray, dict[str, Any]]:
        q, target = self.q, self.target
        a, b = q[:, 0], q[:, 0] + q[:, 1]
        tip = np.stack([LINK * (np.cos(a) + np.cos(b)), LINK * (np.sin(a) + np.sin(b))], axis=1)
        offset = tip - target
        obs = np.concatenate([np.cos(q), np.sin(q), self.qdot, target, offset], axis=1).astype(
            np.float32
        )
        dist = np.sqrt(offset[:, 0] * offset[:, 0] + offset[:, 1] * offset[:, 1])
        state = {
            "fingertip_pos": tip.astype(np.float32),
            "target_pos": target.astype(np.float32),
            "joint_pos": q.astype(np.float32),
            "joint_vel": self.qdot.astype(np.float32),
        }
        return obs, {"reward_state": state, "success": dist < SUCCESS_RADIUS, "distance": dist}

    def _reset_batch(self, mask: np.ndarray) -> BatchReset:
        for i in np.flatnonzero(mask):
            # ReachEnv._reset's draws, in its order, from sub-env i's generator
            rng = self.sub_env_rng(i)
            self.q[i] = rng.uniform(-np.pi, np.pi, 2)
            radius = rng.uniform(*TARGET_RADII)
            angle = rng.uniform(-np.pi, np.pi)
            self.target[i] = (radius * np.cos(angle), radius * np.sin(angle))
        self.qdot[mask] = 0.0
        obs, info = self._observe()
        self.start_distance[mask] = info["distance"][mask]
        info["fitness"] = self._fitness(info["distance"])
        return BatchReset(obs, info)

    def _fitness(self, distance: np.ndarray) -> np.ndarray:
        """ReachEnv's fitness, 1 - d/d0, per sub-env."""
        return 1.0 - distance / np.maximum(self.start_distance, 1e-9)

    def _step_batch(self, actions: np.ndarray, mask: np.ndarray) -> BatchStep:
        a = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
        rows = mask[:, None]
        self.qdot = np.where(rows, a * MAX_SPEED, self.qdot)
        self.q = np.where(rows, (self.q + self.qdot * DT + np.pi) % (2 * np.pi) - np.pi, self.q)
        obs, info = self._observe()
        terms = {"distance": -info["distance"], "control": -CTRL_COST * np.sum(a * a, axis=1)}
        reward = terms["distance"] + terms["control"]
        info["env_reward"] = reward.copy()
        info["reward_terms"] = terms
        info["fitness"] = self._fitness(info["distance"])
        return BatchStep(obs, reward, np.zeros(self.num_envs, dtype=bool), info)
